//! A stored dossier as the status screen shows it: states and dates, the dates in Viet Nam.

use xaso_kiosk_core::{StatusEntry, StatusView};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::{Catalog, Dossier};

/// What the status screen shows about `d` (not yet translated).
pub fn status_of(d: &Dossier, catalog: &Catalog) -> StatusView {
    let days = catalog
        .procedure(d.procedure.as_str())
        .map_or(0, |p| p.processing_days);
    let submitted = d.audit().first().map_or(d.created_at, |e| e.at);
    StatusView {
        tracking_code: d
            .tracking_code
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        procedure: d.procedure.0.clone(),
        state: d.state(),
        history: d
            .audit()
            .iter()
            .map(|e| StatusEntry {
                on: vietnam_date(e.at),
                state: e.to,
            })
            .collect(),
        missing: d.missing().map(str::to_owned).into_iter().collect(),
        ready_on: Holidays::bundled().due_date(vietnam_date(submitted), days),
    }
}
