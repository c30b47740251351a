//! The sync screen's section on the public-service portal, from what the link thread last
//! learnt of the hub's outbox ([`PortalView`]): its state, the dossiers still to send, the
//! last failure and the pause after repeated failures, the last delivery, and each refused
//! packet with the portal's reason (rows updated in place).

use slint::{SharedString, VecModel};
use xaso_sync_core::central::CentralStatus;

use super::link::{LinkStatus, PortalView};
use crate::present::rows::sync_rows;
use crate::ui::{DeadLetterRow, OfficerWindow, PortalState};

/// Translates a key with named arguments in the tablet's language.
type Tr<'a> = dyn Fn(&str, &[(&str, &str)]) -> SharedString + 'a;

/// A time of the hub (Unix milliseconds) as the day and time in Viet Nam.
fn local(ms: i64, pattern: &str) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| String::new(),
        |ts| {
            xaso_services::calendar::vietnam_time_zone()
                .to_datetime(ts)
                .strftime(pattern)
                .to_string()
        },
    )
}

/// Pushes the portal section of the sync screen into the window.
pub fn present(ui: &OfficerWindow, link: &LinkStatus, t: &Tr<'_>, rows: &VecModel<DeadLetterRow>) {
    let empty = CentralStatus::default();
    let (state, status) = match &link.portal {
        PortalView::Unknown => (PortalState::Unknown, &empty),
        PortalView::Unavailable => (PortalState::Unavailable, &empty),
        PortalView::Known(s) if !s.connected => (PortalState::NotConnected, s),
        PortalView::Known(s) => (PortalState::Connected, s),
    };
    ui.set_portal(state);
    ui.set_portal_waiting(i32::try_from(status.counts.dossiers_waiting).unwrap_or(i32::MAX));
    ui.set_portal_failure(status.last_failure.clone().unwrap_or_default().into());
    ui.set_portal_paused_until(
        status
            .paused_until
            .map(|ms| local(ms, "%H:%M"))
            .unwrap_or_default()
            .into(),
    );
    ui.set_portal_last_delivered(
        status
            .last_delivered
            .map(|ms| local(ms, "%d/%m/%Y %H:%M"))
            .unwrap_or_default()
            .into(),
    );
    ui.set_retry_failed(link.retry_failed);
    sync_rows(
        rows,
        status
            .dead
            .iter()
            .map(|d| DeadLetterRow {
                key: d.key.as_str().into(),
                code: d.code.as_str().into(),
                reason: t(
                    "kiosk.officer.portal.reason",
                    &[("code", &d.error_code), ("message", &d.message)],
                ),
                when: t(
                    "kiosk.officer.portal.refused_at",
                    &[("at", &local(d.at, "%d/%m/%Y %H:%M"))],
                ),
            })
            .collect(),
    );
}
