//! The chip card through `xaso-idcard`: the full ICAO 9303 read (BAC, secure messaging,
//! DG1/DG13, passive authentication against the trust store) turned into [`CardEvent`]s.
//!
//! [`SoftCardReader`] puts one of idcard's synthetic identities on an in-process software
//! card (demo mode, tests). The access key is what the kiosk gets from the card's MRZ; with a
//! PC/SC reader the same `read_card` runs over `xaso_idcard::transport` instead.

use xaso_idcard::pa::TrustStore;
use xaso_idcard::reader::{AccessKey, CardRead, ReadOptions, read_card_with};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::{InProcess, Transport};
use xaso_services::CardField;

use crate::card::{CardEvent, CardIdentity, CardProblem};
use crate::shell::CardReader;

/// What the kiosk keeps of a card read: the catalog's card fields and the verdict of
/// passive authentication.
pub fn identity_of(read: &CardRead) -> CardIdentity {
    CardIdentity {
        fields: CardField::ALL
            .into_iter()
            .filter_map(|f| read.get(f).map(|v| (f, v)))
            .collect(),
    }
}

/// Reads a card over any transport and reports it as the kiosk's card events.
pub fn read_events<T: Transport>(t: &mut T, key: &AccessKey, trust: &TrustStore) -> Vec<CardEvent> {
    // The kiosk does not need the portrait: skip DG2 (faster, less personal data in memory).
    let opts = ReadOptions {
        read_face: false,
        ..ReadOptions::default()
    };
    match read_card_with(t, key, trust, &opts) {
        Ok(read) => vec![
            CardEvent::Present,
            CardEvent::Read {
                identity: identity_of(&read),
                verified: read.passive_auth.verified,
            },
        ],
        Err(e) => {
            tracing::warn!("card read failed: {e}");
            vec![
                CardEvent::Present,
                CardEvent::Failed(CardProblem::Unreadable),
            ]
        }
    }
}

/// idcard's synthetic residents on an in-process software card, signed by the test PKI and
/// verified against its CSCA.
pub struct SoftCardReader {
    residents: Vec<(String, Identity)>,
    pki: TestPki,
    trust: TrustStore,
    on_reader: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SoftCardError {
    #[error("synthetic identities: {0}")]
    Identity(#[from] xaso_idcard::softcard::IdentityError),
    #[error("test PKI: {0}")]
    Pki(#[from] xaso_idcard::testpki::PkiError),
}

impl SoftCardReader {
    pub fn new() -> Result<SoftCardReader, SoftCardError> {
        let pki = TestPki::default_test()?;
        let trust = pki.trust_store();
        Ok(SoftCardReader {
            residents: Identity::builtin()?,
            pki,
            trust,
            on_reader: false,
        })
    }
}

impl CardReader for SoftCardReader {
    fn residents(&self) -> Vec<(String, String, String)> {
        self.residents
            .iter()
            .map(|(key, id)| {
                (
                    key.clone(),
                    id.full_name.clone(),
                    id.place_of_residence.clone(),
                )
            })
            .collect()
    }

    fn place(&mut self, resident: &str) -> Vec<CardEvent> {
        let Some((_, identity)) = self.residents.iter().find(|(k, _)| k == resident) else {
            return Vec::new();
        };
        let files = match CardFiles::build(identity, &self.pki) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("software card: {e}");
                return vec![CardEvent::Failed(CardProblem::ReaderUnavailable)];
            }
        };
        let key = match identity.mrz_key() {
            Ok(k) => AccessKey::Mrz(k),
            Err(e) => {
                tracing::error!("software card key: {e}");
                return vec![CardEvent::Failed(CardProblem::Unreadable)];
            }
        };
        self.on_reader = true;
        let mut transport = InProcess {
            card: SoftCard::new(files),
        };
        read_events(&mut transport, &key, &self.trust)
    }

    fn remove(&mut self) -> Vec<CardEvent> {
        if std::mem::take(&mut self.on_reader) {
            vec![CardEvent::Removed]
        } else {
            Vec::new()
        }
    }
}
