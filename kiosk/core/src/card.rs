//! What the kiosk needs from the chip ID card reader, as events, and the card part of a
//! session.
//!
//! The reader itself (PC/SC, ICAO 9303, passive authentication) lives in `xaso-idcard`; the
//! app turns what it reports into [`CardEvent`]s for the journeys, so the screens can be
//! driven and tested without a reader.

use std::collections::BTreeMap;

use xaso_services::CardField;

use crate::qr::QrState;

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

/// The identify screen's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardState {
    #[default]
    Waiting,
    Reading,
    Verified,
    NotVerified,
    Failed(CardProblem),
}

/// The card part of any session (a resident at the kiosk, a helper with a resident, an
/// officer checking an applicant): who is identified, and how sure the kiosk is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardSession {
    pub identity: Option<CardIdentity>,
    /// The card's data verified (passive authentication); only then is it used to pre-fill
    /// and to offer drafts.
    pub verified: bool,
    pub state: CardState,
    /// Scanning the QR code on the card, for the chip's access key.
    pub qr: Option<QrState>,
}

impl CardSession {
    /// The ID number of the card read in this session.
    pub fn id_number(&self) -> Option<&str> {
        self.identity.as_ref().and_then(CardIdentity::id_number)
    }

    /// The ID number, only when the card verified.
    pub fn verified_id_number(&self) -> Option<&str> {
        self.id_number().filter(|_| self.verified)
    }
}
