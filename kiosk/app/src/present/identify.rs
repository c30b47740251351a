//! The identify screen: the card's state, the QR code's, the draft offer, the demo picker.

use std::rc::Rc;

use slint::VecModel;

use super::rows::sync_rows;
use super::{View, enums, item_model};
use crate::ui::{AppWindow, Item};

pub struct IdentifyPresenter {
    residents: Rc<VecModel<Item>>,
}

impl IdentifyPresenter {
    pub fn new(ui: &AppWindow) -> IdentifyPresenter {
        IdentifyPresenter {
            residents: item_model(|m| ui.set_residents(m)),
        }
    }

    pub fn present(&mut self, ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        let (state, problem) = enums::card_state(k.card_state());
        ui.set_card_state(state);
        ui.set_card_problem(problem);
        ui.set_card_name(k.card().and_then(|c| c.full_name()).unwrap_or("").into());
        let (qr, qr_problem) = enums::qr_state(k.qr_state());
        ui.set_qr_state(qr);
        ui.set_qr_problem(qr_problem);
        ui.set_has_draft(k.has_draft_offer());
        sync_rows(
            &self.residents,
            v.shell
                .card_reader()
                .residents()
                .into_iter()
                .map(|r| Item {
                    id: r.id.into(),
                    title: r.name.into(),
                    subtitle: r.residence.into(),
                })
                .collect(),
        );
    }
}
