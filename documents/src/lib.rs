//! The result document of a dossier: the PDF a commune issues when an officer approves it,
//! digitally signed by the officer.
//!
//! Three steps, each a pure function over bytes (no files, no clock: the signing time comes
//! in as an argument):
//!
//! 1. [`compose`] fills a [`ResultContent`] from the procedure's `[result]` template in the
//!    catalog and the dossier's values: the title, the body lines (label and value), the
//!    applicant, the tracking code, the date in Viet Nam, the officer.
//! 2. [`render`] lays it out on A4 with krilla: the commune's header with the national motto,
//!    the title, the body, the tracking code as a QR code, the officer's signature block;
//!    the text in the bundled Noto Sans, subset and embedded, so Vietnamese keeps its
//!    diacritics and can be searched and copied.
//! 3. [`sign`] appends a PAdES signature as an incremental update: a signature field, a
//!    `/Sig` dictionary (`/Adobe.PPKLite`, `/ETSI.CAdES.detached`) whose `/ByteRange` covers
//!    every byte but the `/Contents` hex string, and in `/Contents` a detached CMS SignedData
//!    (RustCrypto `cms`) with the signed attributes content-type, message-digest,
//!    signing-time and signingCertificateV2, signed with the officer's P-256 key; the
//!    officer's and the CA's certificates are included. The officer's certificate comes from
//!    the commune hub's CA (`POST /v1/signing-certificate`).
//!
//! [`verify`] checks a signed document against the CA certificate a kiosk trusts: the byte
//! range covers the whole file, the digest, the signature, the signing-certificate binding
//! and the chain; each failure is its own [`VerifyError`]. Poppler's `pdfsig` accepts the
//! same documents (the tests run it against an NSS database trusting the CA).
//!
//! Supported keys: ECDSA P-256 with SHA-256 for the officer and the CA (what the hub issues).
//!
//! Beside them, on the same PDF writer: [`report`] lays out the indicators report, and
//! [`training`] the digital-skills training's certificate of completion (its credential as a
//! QR code) and a helper's class report.

mod pdf;
mod render;
pub mod report;
mod sign;
pub mod training;
mod verify;

use jiff::Timestamp;
use xaso_i18n::{Lang, Translations};
use xaso_services::catalog::ResultKind;
use xaso_services::{Dossier, Procedure};

pub use render::render;
pub use sign::{CONTENTS_CAPACITY, Signer, sign};
pub use verify::{Verified, VerifyError, verify};

/// One line of the document's body: a label and the value from the dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: String,
    pub value: String,
}

/// Everything a result document says, already in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultContent {
    /// The language of the text (recorded in the PDF).
    pub lang: Lang,
    /// What the document is (extract, certificate, decision, confirmation).
    pub kind: ResultKind,
    /// The commune's name, e.g. `Xã Tân Thới Nhì`.
    pub commune: String,
    /// E.g. `TRÍCH LỤC KHAI SINH`.
    pub title: String,
    pub lines: Vec<Line>,
    /// The applicant's full name.
    pub applicant_name: String,
    pub tracking_code: String,
    /// The date of issue in Viet Nam.
    pub issued_on: jiff::civil::Date,
    pub officer_name: String,
    /// The officer's title, e.g. `CÔNG CHỨC TƯ PHÁP - HỘ TỊCH`.
    pub officer_title: String,
}

/// Who issues the document: the commune and the officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub commune: String,
    pub officer_name: String,
    pub officer_title: String,
}

/// Everything that can go wrong while composing, rendering or signing a document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the bundled font cannot be read")]
    Font,
    #[error("the page cannot be laid out")]
    Layout,
    #[error("cannot encode the QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("cannot write the PDF: {0}")]
    Write(#[from] krilla::error::KrillaError),
    #[error("the dossier's procedure `{dossier}` is not `{procedure}`")]
    WrongProcedure { dossier: String, procedure: String },
    #[error("the dossier has no tracking code")]
    NoTrackingCode,
    #[error("cannot read or update the PDF: {0}")]
    Pdf(#[source] lopdf::Error),
    #[error("the PDF has no page")]
    NoPage,
    #[error("the PDF already has a form (it is signed already, or not ours)")]
    AlreadyHasForm,
    #[error("the signature placeholder was not found where it was written")]
    Placeholder,
    #[error("the CMS signature ({0} bytes) does not fit its placeholder")]
    SignatureTooLarge(usize),
    #[error("the signing key is not a P-256 PKCS#8 key")]
    Key,
    #[error("a certificate cannot be read: {0}")]
    Certificate(#[source] der::Error),
    #[error("the certificate is not for the signing key")]
    KeyMismatch,
    #[error("the certificate was not issued by the given CA")]
    NotIssuedByCa,
    #[error("the signing time cannot be encoded")]
    Time,
    #[error("cannot encode the CMS signature: {0}")]
    Cms(#[source] der::Error),
    /// (`cms::builder::Error` is not a `std::error::Error`, so it is kept as a value.)
    #[error("cannot build the CMS signature: {0:?}")]
    CmsBuild(cms::builder::Error),
    #[error("cannot write the signed PDF: {0}")]
    Update(#[source] std::io::Error),
    /// A chart of the indicators report could not be drawn.
    #[error("cannot draw a chart of the report: {0}")]
    Chart(#[from] xaso_reports::ReportError),
    /// krilla refused a chart's PNG (it gives the reason as text).
    #[error("cannot embed a chart: {0}")]
    Image(String),
}

/// The content of `dossier`'s result document from its procedure's `[result]` template: the
/// body lines take the labels of the template and the values of the dossier (choices by
/// their label, dates day first, yes/no in words; a field left empty is left out), issued by
/// `issuer` at `issued_at` (the date in Viet Nam).
pub fn compose(
    procedure: &Procedure,
    dossier: &Dossier,
    issuer: &Issuer,
    lang: Lang,
    translations: &Translations,
    issued_at: Timestamp,
) -> Result<ResultContent, DocumentError> {
    if dossier.procedure != procedure.code {
        return Err(DocumentError::WrongProcedure {
            dossier: dossier.procedure.to_string(),
            procedure: procedure.code.to_string(),
        });
    }
    let tracking_code = dossier.code().ok_or(DocumentError::NoTrackingCode)?;
    let result = &procedure.result;
    let lines = procedure
        .result_lines(&dossier.values, lang, translations)
        .into_iter()
        .map(|(label, value)| Line { label, value })
        .collect();
    Ok(ResultContent {
        lang,
        kind: result.kind,
        commune: issuer.commune.clone(),
        title: result.title.get(lang).to_owned(),
        lines,
        applicant_name: dossier.applicant.full_name.clone(),
        tracking_code,
        issued_on: xaso_services::calendar::vietnam_date(issued_at),
        officer_name: issuer.officer_name.clone(),
        officer_title: issuer.officer_title.clone(),
    })
}
