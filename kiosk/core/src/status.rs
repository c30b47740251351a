//! What the status screen shows about a dossier, and the receipt after a submission.

use xaso_services::DossierState;

/// One step of a dossier's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The day in Viet Nam.
    pub on: jiff::civil::Date,
    pub state: DossierState,
}

/// The answer to a status lookup: what the store knows, not yet translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub tracking_code: String,
    /// The procedure's code.
    pub procedure: String,
    pub state: DossierState,
    pub history: Vec<StatusEntry>,
    /// What the commune asked for, when it waits for a supplement.
    pub missing: Vec<String>,
    pub ready_on: jiff::civil::Date,
    /// The applicant is the holder of the card read and verified now: only then may the
    /// dossier be supplemented here.
    pub yours: bool,
    /// The signed result, once issued.
    pub result: Option<ResultFile>,
}

/// The signed result document as the status screen offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFile {
    /// SHA-256 of the PDF (the attachment's key).
    pub sha256: String,
    pub bytes: u64,
    pub signer_name: String,
    /// The day it was issued, in Viet Nam.
    pub issued_on: jiff::civil::Date,
}

/// What the resident receives once the dossier is durably stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub tracking_code: String,
    /// The procedure's code.
    pub procedure: String,
    /// The day results are due (in Viet Nam).
    pub expected_date: jiff::civil::Date,
    pub submitted_at: jiff::Timestamp,
}
