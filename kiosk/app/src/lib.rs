//! The resident's kiosk: a Slint touch app over the pure journey of `xaso-kiosk-core`.
//!
//! * [`app::App`] owns the window, the [`shell::Shell`] and the presenter. Every callback of
//!   the window queues an [`input::Input`]; the queue is drained one input at a time, so an
//!   input arriving while the app is busy is applied right after, never dropped.
//! * [`shell::Shell`] applies each input — asking a device first when it needs one — to the
//!   [`xaso_kiosk_core::ResidentJourney`] and performs the effects it returns: the dossier is
//!   made by `xaso_services::Submission::into_dossier` and stored by [`store::KioskStore`]
//!   before the receipt shows; lookups, drafts, ratings, speech.
//! * [`present`] pushes the state into the window's models, in place and row by row.
//! * Devices sit behind ports, one file each: [`card_reader::CardReader`] (software card,
//!   PC/SC in [`chipcard`]), [`image_source::ImageSource`] (files in [`image_files`], the V4L2
//!   [`camera`]), [`qr_pictures::QrPictures`], [`printer::ReceiptPrinter`], [`clock::Clock`].
//! * [`link`] syncs the store with the commune hub in a background thread; [`receipt`]
//!   renders the receipt (QR, ESC/POS, PDF); [`tour`] renders every screen without a
//!   display; [`demo`] holds the synthetic residents and papers; [`setup`] builds it all.
//!
//! Invariants: the receipt appears only after the dossier is durably stored; leaving the
//! journey (home, card removal, idle timeout) replaces the whole session with an empty one
//! and shows Vietnamese; a draft is resumed only for the verified card it was made with; the
//! UI never talks to the network (only [`link`], through `xaso-sync`); no personal data in
//! logs.

pub mod app;
pub mod camera;
pub mod card_reader;
pub mod chipcard;
pub mod clock;
pub mod counter;
pub mod demo;
pub mod helper;
pub mod image_files;
pub mod image_source;
pub mod input;
pub mod lessons;
pub mod link;
pub mod officer;
pub mod papers;
pub mod present;
pub mod printer;
pub mod qr_pictures;
pub mod qrscan;
pub mod receipt;
pub mod setup;
pub mod shell;
pub mod status;
pub mod store;
pub mod tour;

/// The compiled `.slint` screens.
pub mod ui {
    #![allow(clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    slint::include_modules!();
}
