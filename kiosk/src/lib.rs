//! The resident's kiosk: a Slint touch app over a plain Rust state machine.
//!
//! * [`core::Kiosk`] is the whole journey as a state machine — home, identify with the chip
//!   card, find a service (search or life event), the form generated from the catalog, papers,
//!   review and consent, receipt, rating, status lookup, the idle wipe. It does no I/O and
//!   takes the time as an argument; it returns [`core::Effect`]s (store this dossier, look up
//!   that code, save the draft) for the shell to perform.
//! * [`shell`] wires the `.slint` window (`ui/`) to the state machine, performs the effects
//!   against the [`store::KioskStore`] and pushes state back into the window's models.
//! * [`tour`] renders every screen to PNG with Slint's software renderer, without a display;
//!   the headless demo uses the same platform.
//!
//! Invariants: the receipt appears only after the dossier is durably stored; leaving the
//! journey (home, card removal, idle timeout) replaces the whole session with an empty one;
//! a draft is resumed only for the verified card it was made with; no personal data in logs.

pub mod camera;
pub mod card;
pub mod chipcard;
pub mod core;
pub mod demo;
pub mod form;
pub mod link;
pub mod papers;
pub mod qrscan;
pub mod receipt;
pub mod setup;
pub mod shell;
pub mod store;
pub mod telex;
pub mod tour;

/// The compiled `.slint` screens.
pub mod ui {
    #![allow(clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    slint::include_modules!();
}
