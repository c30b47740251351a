//! The officer's tablet: the same binary as the kiosk, another window. A device enrolled
//! with the role `officer` opens [`crate::ui::OfficerWindow`].
//!
//! * [`shell::OfficerShell`] applies each input to the pure pieces of `xaso-kiosk-core` —
//!   [`xaso_kiosk_core::signin::SignIn`] (the officer's own verified card, the roster, a PIN
//!   kept as an argon2id hash in [`pins`]) and [`xaso_kiosk_core::officer::Desk`] (one
//!   dossier, its actions, its conflicts) — and performs what they ask on the tablet's record
//!   store; the result document is composed, rendered and signed with the officer's own
//!   key ([`signing`], certified by the commune hub's CA) by `xaso-documents`.
//! * [`queue`] reads the commune's dossiers for the queue, search and dashboard;
//!   [`charts`] draws the month's indicators (`xaso-reports`) for the dashboard.
//! * [`link`] syncs with the hub in a background thread and reports its state, with the
//!   hub's outbox to the public-service portal ([`portal`] shows it).
//! * [`certificates`] checks a learner's digital-skills certificate offline — its QR code
//!   scanned or read from a picture — against the province's trust list from the tablet's
//!   configuration; [`certificates_page`] shows the verdict.
//! * [`present`] pushes the state into the window; [`app`] queues the window's inputs.
//!
//! Invariants: nothing of a dossier is on screen unless an officer on the roster is signed in
//! (a locked or signed-out tablet shows the sign-in screen only); an action is written only
//! over the version the desk showed; no personal data in logs.

pub mod app;
pub mod attachment;
pub mod certificates;
pub mod certificates_page;
pub mod charts;
pub mod link;
pub mod pins;
pub mod portal;
pub mod present;
pub mod queue;
pub mod shell;
pub mod signing;
pub mod tour;

/// Builds the officer's tablet in `ui` from its parts.
pub fn build(
    ui: crate::ui::OfficerWindow,
    parts: shell::OfficerParts,
) -> Result<app::OfficerApp, shell::OfficerError> {
    Ok(app::OfficerApp::new(ui, shell::OfficerShell::new(parts)?))
}
