//! The shared language of Xã Số: procedures, life events and dossiers.
//!
//! This crate is pure. It never reads files, opens sockets or looks at the clock: the
//! catalog is embedded at build time (or handed in by the caller), and every function that
//! depends on "now" takes the time as an argument. That keeps it testable and lets the kiosk,
//! the officer's tablet and the hub share exactly the same rules.

pub mod catalog;
pub mod life_event;

pub use catalog::{
    CardField, Catalog, CatalogError, Fee, FieldDef, FieldKind, Localized, PaperDef, Prefill,
    Procedure, ProcedureCode, Submitter,
};
pub use life_event::{Flow, LifeEvent, Step};
