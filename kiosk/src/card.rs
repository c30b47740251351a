//! What the kiosk needs from the chip ID card reader, as events.
//!
//! The reader itself (PC/SC, ICAO 9303, passive authentication) lives in `xaso-idcard`; a thin
//! shell turns what it reports into [`CardEvent`]s for the [`crate::Kiosk`] state machine, so
//! the screens can be driven and tested without a reader.

use std::collections::BTreeMap;

use xaso_services::CardField;

/// Personal data read from a card, by catalog card field. Held only in the session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CardIdentity {
    pub fields: BTreeMap<CardField, String>,
}

impl CardIdentity {
    pub fn get(&self, field: CardField) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }

    /// The 12-digit personal ID number, if the card gave one.
    pub fn id_number(&self) -> Option<&str> {
        self.get(CardField::IdNumber)
    }

    pub fn full_name(&self) -> Option<&str> {
        self.get(CardField::FullName)
    }
}

/// Why reading a card failed, in terms of what the resident can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardProblem {
    /// The card was taken away before reading finished: place it again and hold it still.
    RemovedTooEarly,
    /// The card did not answer like a Vietnamese chip ID card.
    NotAnIdCard,
    /// The card could not be unlocked or read (BAC/PACE, damaged chip).
    Unreadable,
    /// No reader is connected or it stopped answering: ask the officer.
    ReaderUnavailable,
    /// The kiosk has no access key for the chip: scan the QR code on the card first.
    NeedsKey,
}

impl CardProblem {
    /// Stable name used by the UI to pick the translated message.
    pub fn as_str(self) -> &'static str {
        match self {
            CardProblem::RemovedTooEarly => "removed-too-early",
            CardProblem::NotAnIdCard => "not-an-id-card",
            CardProblem::Unreadable => "unreadable",
            CardProblem::ReaderUnavailable => "reader-unavailable",
            CardProblem::NeedsKey => "needs-key",
        }
    }
}

/// What the reader reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// A card was placed on the reader; reading starts.
    Present,
    /// Reading finished. `verified` is the outcome of passive authentication (the data is
    /// signed by the issuing authority).
    Read {
        identity: CardIdentity,
        verified: bool,
    },
    Failed(CardProblem),
    /// The card left the reader.
    Removed,
}

/// Where the kiosk's card events come from (shown on the identify screen and logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardSource {
    /// idcard's software card in this process (demo mode, tests).
    Software,
    /// A PC/SC reader through pcscd: the named one, or any.
    Pcsc { reader: Option<String> },
}

impl CardSource {
    /// Stable name used by the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            CardSource::Software => "software",
            CardSource::Pcsc { .. } => "pcsc",
        }
    }

    /// The reader's name, if one was chosen.
    pub fn reader(&self) -> &str {
        match self {
            CardSource::Software => "",
            CardSource::Pcsc { reader } => reader.as_deref().unwrap_or(""),
        }
    }
}
