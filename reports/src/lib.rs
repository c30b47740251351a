//! Indicators, reports and open data of one commune over one period.
//!
//! Everything here is a pure function of its arguments: the dossiers and ratings the caller
//! holds (from the hub's store, the officer tablet's store…), the catalog, the public
//! holidays, the commune and the period. Nothing reads a file or a clock; every output is a
//! `String` or bytes that the caller writes where it wants.
//!
//! * [`Indicators::compute`] — the figures: dossiers submitted by procedure × channel, the
//!   share received fully online, the on-time rate against the catalog's processing time in
//!   working days ([`Holidays::due_date`](xaso_services::calendar::Holidays::due_date)),
//!   open dossiers overdue at the end of the period, and satisfaction (4 levels) against
//!   the programme's 95 % and 99 % targets. Serialises to JSON with stable field names
//!   ([`Indicators::to_json`]); two CSV tables ([`Indicators::procedures_csv`],
//!   [`Indicators::headline_csv`]).
//! * [`charts`] — three charts drawn with `plotters` in the bundled Noto Sans (Vietnamese
//!   diacritics render): dossiers by procedure and channel, satisfaction against the target
//!   lines, on-time rate; each as SVG text and as PNG bytes.
//! * [`open_data`](open_data::open_data) — an anonymised, aggregated CSV with a Frictionless
//!   Table Schema: counts only, small counts suppressed, no identifier and no free text.
//!
//! Text a person reads (headings, channel names, column titles of the human-facing tables)
//! comes from the `.po` catalogs (`i18n/po/messages`, keys `report.*`) through
//! [`Labels`]; procedure names come from the catalog.
//!
//! The PDF report is laid out by `xaso-documents` (`xaso_documents::report`), which
//! already owns the A4 layout, the fonts and krilla.

pub mod charts;
mod export;
mod indicators;
mod labels;
pub mod open_data;

pub use indicators::{
    ChannelCounts, Indicators, OnTime, OnlineShare, Period, ProcedureRow, SatisfactionFigures,
    TARGET_HIGH, TARGET_LOW, TrainingFigures, finishing_entry, processing_start,
};
pub use labels::Labels;

/// Everything that can go wrong while making a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The period ends before it starts.
    #[error("the period ends ({to}) before it starts ({from})")]
    EmptyPeriod {
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    },
    /// The CSV writer failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The JSON writer failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The bundled font could not be read (a broken build).
    #[error("the bundled font cannot be read")]
    Font,
    /// A chart could not be drawn (sizes too small, the backend refused).
    #[error("cannot draw the chart: {0}")]
    Chart(String),
    /// The PNG encoder failed.
    #[error("cannot encode the PNG: {0}")]
    Png(#[from] png::EncodingError),
    /// The chart size is zero or too large (at most 8192 × 8192 pixels).
    #[error("chart size {width}×{height} is out of range")]
    Size { width: u32, height: u32 },
}
