//! Finding a service: the search box, the life events, the results; a life event's steps.

use std::rc::Rc;

use slint::VecModel;

use super::rows::sync_rows;
use super::{View, item_model};
use crate::ui::{AppWindow, Item};

pub struct ServicesPresenter {
    life_events: Rc<VecModel<Item>>,
    results: Rc<VecModel<Item>>,
    event_steps: Rc<VecModel<Item>>,
}

impl ServicesPresenter {
    pub fn new(ui: &AppWindow) -> ServicesPresenter {
        ServicesPresenter {
            life_events: item_model(|m| ui.set_life_events(m)),
            results: item_model(|m| ui.set_results(m)),
            event_steps: item_model(|m| ui.set_event_steps(m)),
        }
    }

    pub fn present(&mut self, ui: &AppWindow, v: &View<'_>) {
        let k = v.journey;
        let l = v.l();
        ui.set_search_text(k.search_text().into());
        sync_rows(
            &self.life_events,
            k.catalog()
                .life_events()
                .map(|e| Item {
                    id: e.id.as_str().into(),
                    title: e.name.get(l).into(),
                    subtitle: e.description.get(l).into(),
                })
                .collect(),
        );
        sync_rows(
            &self.results,
            k.search_results()
                .into_iter()
                .map(|p| Item {
                    id: p.code.as_str().into(),
                    title: p.name.get(l).into(),
                    subtitle: p.description.get(l).into(),
                })
                .collect(),
        );
        if let Some(e) = k.life_event() {
            ui.set_event_title(e.name.get(l).into());
            ui.set_event_description(e.description.get(l).into());
            sync_rows(
                &self.event_steps,
                e.steps
                    .iter()
                    .map(|s| Item {
                        id: s.procedure.as_str().into(),
                        title: k
                            .catalog()
                            .procedure(s.procedure.as_str())
                            .map_or("", |p| p.name.get(l))
                            .into(),
                        subtitle: s.note.as_ref().map_or("", |n| n.get(l)).into(),
                    })
                    .collect(),
            );
        }
    }
}
