//! The chip card reader port: how the shell places, reads and loses cards.
//!
//! Implementations: [`crate::chipcard::SoftCardReader`] (idcard's software card in this
//! process), [`crate::chipcard::PcscCardReader`] (any PC/SC reader through pcscd) and
//! [`crate::demo::ScriptedReader`] (reports states without a card protocol, for tests of the
//! identify screen).

use xaso_idcard::MrzKey;
use xaso_kiosk_core::CardEvent;

/// A synthetic resident the demo can place on the reader: id, name, place of residence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoResident {
    pub id: String,
    pub name: String,
    pub residence: String,
}

/// The chip card reader as the kiosk shell uses it. In the demo and tests a resident is
/// "placed" on the reader by id; with a real reader the events come from PC/SC.
pub trait CardReader {
    /// Synthetic residents that can be placed on the reader (demo mode); empty otherwise.
    fn residents(&self) -> Vec<DemoResident>;
    /// Places the resident's card on the reader and reads it.
    fn place(&mut self, resident: &str) -> Vec<CardEvent>;
    /// Takes the card away.
    fn remove(&mut self) -> Vec<CardEvent>;
    /// The access keys derived from the QR code on the resident's card, tried in turn on
    /// the next card read (before any configured key); empty forgets them.
    fn set_qr_keys(&mut self, _keys: Vec<MrzKey>) {}
    /// Events that happened on their own since the last call (a real reader: a card was
    /// placed, read or taken away). Called from the shell's timer.
    fn poll(&mut self) -> Vec<CardEvent> {
        Vec::new()
    }
    /// Where the cards come from.
    fn source(&self) -> CardSource {
        CardSource::Software
    }
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
    /// The reader's name, if one was chosen.
    pub fn reader(&self) -> &str {
        match self {
            CardSource::Software => "",
            CardSource::Pcsc { reader } => reader.as_deref().unwrap_or(""),
        }
    }
}
