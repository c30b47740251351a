//! Typed errors. User-facing messages are Vietnamese-first through `xaso-i18n` keys in the
//! kiosk; the `Display` texts here are the English msgids.

use thiserror::Error;

/// A malformed structure read from a card or a file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("data ends early while reading {0}")]
    Truncated(&'static str),
    #[error("unexpected tag {found:#x} where {expected:#x} was expected")]
    UnexpectedTag { expected: u32, found: u32 },
    #[error("malformed BER-TLV: {0}")]
    Ber(String),
    #[error("malformed DER structure in {what}: {detail}")]
    Der { what: &'static str, detail: String },
    #[error("text in {0} is not valid")]
    BadText(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("structure nested too deeply")]
    TooDeep,
}

/// Errors of the transport between the reader logic and a card.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    #[error("the card was removed")]
    CardRemoved,
    #[error("no card in the reader")]
    NoCard,
    #[error("no card reader found")]
    NoReader,
    #[error("waiting for the card was cancelled")]
    Cancelled,
    #[error("timed out waiting for the card")]
    Timeout,
    #[error("card reader error: {0}")]
    Reader(String),
}

/// Errors of secure messaging (ICAO 9303-11 §9.8).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmError {
    #[error("secure messaging checksum is wrong")]
    BadMac,
    #[error("secure messaging data object missing: {0}")]
    MissingObject(&'static str),
    #[error("secure messaging data malformed: {0}")]
    Malformed(&'static str),
    #[error("the card ended secure messaging (status {0:04X})")]
    SessionEnded(u16),
}

/// Everything that can go wrong reading a card.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    #[error("access denied, check the card details")]
    AccessDenied,
    #[error("the card was removed during reading; put it back and try again")]
    CardRemoved,
    #[error(transparent)]
    Transport(TransportError),
    #[error("this is not a chip ID card (no ICAO application)")]
    NotAnIdCard,
    #[error("the card answered {context} with status {sw:04X}")]
    Status { sw: u16, context: &'static str },
    #[error("secure messaging failed: {0}")]
    SecureMessaging(#[from] SmError),
    #[error("card data is malformed: {0}")]
    Parse(#[from] ParseError),
    #[error("invalid MRZ data: {0}")]
    BadMrz(&'static str),
    #[error("card data file {0} is missing")]
    MissingFile(&'static str),
}

impl From<TransportError> for CardError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved | TransportError::NoCard => CardError::CardRemoved,
            other => CardError::Transport(other),
        }
    }
}
