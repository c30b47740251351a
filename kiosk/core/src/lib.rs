//! The kiosk's journeys as pure state machines: no UI, no I/O, no clock, no threads.
//!
//! # Model
//!
//! A journey holds everything about the person at the kiosk in a *session* that is
//! replaced wholesale by an empty one when they leave (home, card removed, idle timeout).
//! The app feeds it inputs — taps, keys, card events, and the results of what it asked the
//! app to do — each with the [`Moment`] it happened (a monotonic instant for the idle timer,
//! the day in Viet Nam for date rules). The journey answers with [`Effect`]s: store this
//! dossier, look up that tracking code, save the draft, read this aloud, the session was
//! wiped. The app performs them and reports back with another input:
//!
//! ```text
//! app                                      ResidentJourney
//!  │ handle(Input::Submit, moment)  ──────────▶ │
//!  │ ◀────────── [Effect::StoreDossier(sub)]    │
//!  │ (writes the dossier durably)               │
//!  │ handle(Input::Stored(receipt), moment) ──▶ │  screen = Receipt
//!  │ ◀────────── [Effect::DeleteDraft{..}]      │
//! ```
//!
//! An input that is not possible now (a paper the procedure does not need, "submit" away
//! from the review screen) is refused with a [`Refusal`] and changes nothing.
//!
//! # Journeys
//!
//! * [`resident`] — the resident's own journey: identify, find a service, the form
//!   pre-filled from the card, papers, consent, submit, receipt, rating, status.
//!
//! * [`lesson`] — the digital-skills lessons: pages, practice in a sandbox, quizzes with a
//!   pass rule, progress saved at every answer, certificates.
//!
//! The officer's and the helper's journeys sit beside them
//! and share the pieces below: [`screen`] (screens and error kinds), [`card`] (card events
//! and the card part of a session), [`qr`], [`idle`], [`form`] (the catalog's form as typed
//! on the kiosk, with [`telex`] composition), [`papers`] and [`status`].
//!
//! # Invariants
//!
//! * A refused input changes nothing.
//! * Leaving the journey replaces the whole session; the language returns to Vietnamese.
//! * Card data pre-fills a form, and a draft is offered, only when the card verified; a
//!   different card wipes the session before anything of it is shown.
//! * The receipt appears only after the app reports the dossier stored.

pub mod card;
pub mod form;
pub mod helper;
pub mod idle;
pub mod lesson;
pub mod officer;
pub mod papers;
pub mod qr;
pub mod resident;
pub mod screen;
pub mod signin;
pub mod status;
pub mod telex;

pub use card::{CardEvent, CardIdentity, CardProblem, CardSession, CardState};
pub use form::{FieldError, FormState, InputStyle, ValueSource};
pub use idle::{IdlePolicy, IdleTimer};
pub use papers::{PaperImage, PaperSlot};
pub use qr::{QrProblem, QrState};
pub use resident::{
    CONSENT_TEXT_VERSION, Effect, Input, Moment, RatingRecord, Refusal, ResidentJourney, Speech,
    Submission,
};
pub use screen::{ErrorKind, Screen};
pub use status::{Receipt, ResultFile, StatusEntry, StatusView};
