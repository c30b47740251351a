//! The shared language of Xã Số: procedures, life events and dossiers.
//!
//! This crate is pure. It never reads files, opens sockets or looks at the clock: the
//! catalog and its reference data are embedded at build time (or handed in by the caller),
//! and every function that depends on "now" takes the time as an argument. That keeps it
//! testable and lets the kiosk, the officer's tablet and the hub share exactly the same rules.
//!
//! * [`catalog`] — procedures as data (`services/catalog/*.toml`), checked as a whole.
//! * [`life_event`] — bundles of procedures for a moment in life, with data flowing between them.
//! * [`dossier`] — one application and its lifecycle state machine with an audit trail.
//! * [`tracking`] — offline-mintable, collision-free tracking codes with check digits.
//! * [`validation`] — field-addressed, translatable errors for everything a person enters.
//! * [`id_number`] — the 12-digit personal ID number.
//! * [`submission`] — what a person hands in, turned into a draft dossier.
//! * [`calendar`] — the date in Viet Nam, working days and due dates.
//! * [`rating`] — satisfaction ratings.

pub mod calendar;
pub mod catalog;
pub mod dossier;
pub mod id_number;
pub mod life_event;
pub mod rating;
pub mod roster;
pub mod submission;
pub mod tracking;
pub mod validation;

pub use catalog::{
    CardField, Catalog, CatalogError, Choice, Fee, FieldDef, FieldKind, Localized, PaperDef,
    Prefill, Procedure, ProcedureCode, ResultKind, ResultLine, ResultTemplate, Submitter,
};
pub use dossier::{
    Action, Actor, Applicant, AttachmentRef, AuditEntry, Branch, Channel, Consent,
    DecisionConflict, Dossier, DossierState, LifecycleError, ResultDocument, Role,
};
pub use id_number::{IdNumberError, IdNumberFacts, Sex, check_id_number, parse_id_number};
pub use life_event::{Flow, LifeEvent, Step};
pub use rating::{Rating, Satisfaction};
pub use submission::{Submission, SubmissionError};
pub use tracking::{CommuneCode, TrackingCode, TrackingError, TrackingMinter};
pub use validation::{FieldError, validate_form, validate_papers, validate_value};
