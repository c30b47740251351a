//! The status screen: a dossier's state, history and due date, translated here (so they
//! follow the language), the dates as the day in Viet Nam.

use std::rc::Rc;

use slint::{ModelRc, SharedString, VecModel};

use super::rows::sync_rows;
use super::{View, item_model};
use crate::ui::{AppWindow, Item};

pub struct StatusPresenter {
    history: Rc<VecModel<Item>>,
    missing: Rc<VecModel<SharedString>>,
}

impl StatusPresenter {
    pub fn new(ui: &AppWindow) -> StatusPresenter {
        let missing = Rc::new(VecModel::default());
        ui.set_status_missing(ModelRc::from(missing.clone()));
        StatusPresenter {
            history: item_model(|m| ui.set_status_history(m)),
            missing,
        }
    }

    pub fn present(&mut self, ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        ui.set_status_code(k.status_code_text().into());
        let Some(s) = k.status() else {
            ui.set_status_found(false);
            ui.set_status_can_supplement(false);
            ui.set_status_result("".into());
            ui.set_status_result_saved(false);
            sync_rows(&self.history, Vec::new());
            sync_rows(&self.missing, Vec::new());
            return;
        };
        let procedure = k
            .catalog()
            .procedure(&s.procedure)
            .map_or(s.procedure.as_str(), |p| p.name.get(v.l()));
        ui.set_status_found(true);
        ui.set_status_procedure(format!("{procedure} — {}", s.tracking_code).into());
        ui.set_status_state(v.t.get(v.lang, s.state.key(), &[]).into());
        ui.set_status_ready(xaso_i18n::format_date(s.ready_on).into());
        ui.set_status_can_supplement(
            s.yours && s.state == xaso_services::DossierState::SupplementRequested,
        );
        ui.set_status_result(
            s.result
                .as_ref()
                .map(|r| {
                    v.t.get(
                        v.lang,
                        "kiosk.status.result_ready",
                        &[
                            ("0", r.signer_name.as_str()),
                            ("1", &xaso_i18n::format_date(r.issued_on)),
                        ],
                    )
                })
                .unwrap_or_default()
                .into(),
        );
        ui.set_status_result_saved(v.shell.result_saved());
        sync_rows(
            &self.history,
            s.history
                .iter()
                .map(|h| Item {
                    id: "".into(),
                    title: xaso_i18n::format_date(h.on).into(),
                    subtitle: v.t.get(v.lang, h.state.key(), &[]).into(),
                })
                .collect(),
        );
        sync_rows(
            &self.missing,
            s.missing
                .iter()
                .map(|m| SharedString::from(m.as_str()))
                .collect(),
        );
    }
}
