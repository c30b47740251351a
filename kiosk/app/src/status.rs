//! A stored dossier as the status screen shows it: states and dates, the dates in Viet Nam.

use xaso_kiosk_core::{ResultFile, StatusEntry, StatusView};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::{Catalog, Dossier};

/// What the status screen shows about `d` (not yet translated); `holder`: the ID number of
/// the card read and verified now, if any.
pub fn status_of(d: &Dossier, catalog: &Catalog, holder: Option<&str>) -> StatusView {
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
        yours: holder.is_some_and(|h| h == d.applicant.id_number),
        result: d.result.as_ref().map(|r| ResultFile {
            sha256: r.file.sha256.clone(),
            bytes: r.file.bytes,
            signer_name: r.signer_name.clone(),
            issued_on: vietnam_date(r.issued_at),
        }),
    }
}
