//! The chip card through `xaso-idcard`: the full ICAO 9303 read (BAC, secure messaging,
//! DG1/DG13, passive authentication against the trust store) turned into [`CardEvent`]s.
//!
//! [`SoftCardReader`] puts one of idcard's synthetic identities on an in-process software
//! card (demo mode, tests). The access key comes from the card's QR code (scanned at the
//! identify screen, see [`crate::qrscan`]; its candidates are tried in turn) or from the
//! configuration (`--mrz`, `--identity`); with a PC/SC reader the same read runs over
//! `xaso_idcard::transport` instead.

use xaso_idcard::MrzKey;
use xaso_idcard::error::{CardError, TransportError};
use xaso_idcard::pa::TrustStore;
use xaso_idcard::reader::{AccessKey, CardRead, ReadOptions, read_card_trying, read_card_with};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::{Canceller, CardWatcher, InProcess, PcscTransport, Transport};
use xaso_services::CardField;

use xaso_kiosk_core::{CardEvent, CardIdentity, CardProblem};

use crate::card_reader::{CardReader, CardSource, DemoResident};

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
    vec![CardEvent::Present, read_outcome(t, key, trust)]
}

/// Reads a card over any transport: [`CardEvent::Read`] or [`CardEvent::Failed`].
pub fn read_outcome<T: Transport>(t: &mut T, key: &AccessKey, trust: &TrustStore) -> CardEvent {
    // The kiosk does not need the portrait: skip DG2 (faster, less personal data in memory).
    let opts = ReadOptions {
        read_face: false,
        ..ReadOptions::default()
    };
    match read_card_with(t, key, trust, &opts) {
        Ok(read) => CardEvent::Read {
            identity: identity_of(&read),
            verified: read.passive_auth.verified,
        },
        Err(e) => {
            // The error names what failed (no personal data).
            tracing::warn!("card read failed: {e}");
            CardEvent::Failed(problem_of(&e))
        }
    }
}

/// Reads a card trying each key in turn (the candidates from the card's QR code).
pub fn read_trying<T: Transport>(t: &mut T, keys: &[MrzKey], trust: &TrustStore) -> CardEvent {
    let opts = ReadOptions {
        read_face: false,
        ..ReadOptions::default()
    };
    match read_card_trying(t, keys, trust, &opts) {
        Ok((read, _)) => CardEvent::Read {
            identity: identity_of(&read),
            verified: read.passive_auth.verified,
        },
        Err(e) => {
            tracing::warn!("card read with the QR code's keys failed: {e}");
            CardEvent::Failed(problem_of(&e))
        }
    }
}

/// What the resident can do about a failed read.
pub fn problem_of(e: &CardError) -> CardProblem {
    match e {
        CardError::CardRemoved
        | CardError::Transport(TransportError::CardRemoved | TransportError::NoCard) => {
            CardProblem::RemovedTooEarly
        }
        CardError::Transport(
            TransportError::NoReader | TransportError::Cancelled | TransportError::Reader(_),
        ) => CardProblem::ReaderUnavailable,
        CardError::NotAnIdCard => CardProblem::NotAnIdCard,
        _ => CardProblem::Unreadable,
    }
}

/// idcard's synthetic residents on an in-process software card, signed by the test PKI and
/// verified against its CSCA.
pub struct SoftCardReader {
    residents: Vec<(String, Identity)>,
    pki: TestPki,
    trust: TrustStore,
    on_reader: bool,
    /// Whether the kiosk may use each synthetic card's own MRZ key (the demo picker). A
    /// keyless reader, like a real one without `--mrz`, needs the card's QR code first.
    knows_keys: bool,
    qr_keys: Vec<MrzKey>,
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
            knows_keys: true,
            qr_keys: Vec::new(),
        })
    }

    /// The software cards without their keys: a card is read only with the keys from its
    /// QR code (as a real reader with no `--mrz`/`--identity`).
    pub fn keyless() -> Result<SoftCardReader, SoftCardError> {
        Ok(SoftCardReader {
            knows_keys: false,
            ..SoftCardReader::new()?
        })
    }
}

impl CardReader for SoftCardReader {
    fn residents(&self) -> Vec<DemoResident> {
        self.residents
            .iter()
            .map(|(key, id)| DemoResident {
                id: key.clone(),
                name: id.full_name.clone(),
                residence: id.place_of_residence.clone(),
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
        self.on_reader = true;
        let keys = if !self.qr_keys.is_empty() {
            self.qr_keys.clone()
        } else if self.knows_keys {
            match identity.mrz_key() {
                Ok(k) => vec![k],
                Err(e) => {
                    tracing::error!("software card key: {e}");
                    return vec![CardEvent::Failed(CardProblem::Unreadable)];
                }
            }
        } else {
            return vec![CardEvent::Present, CardEvent::Failed(CardProblem::NeedsKey)];
        };
        let mut transport = InProcess {
            card: SoftCard::new(files),
        };
        vec![
            CardEvent::Present,
            read_trying(&mut transport, &keys, &self.trust),
        ]
    }

    fn set_qr_keys(&mut self, keys: Vec<MrzKey>) {
        self.qr_keys = keys;
    }

    fn remove(&mut self) -> Vec<CardEvent> {
        if std::mem::take(&mut self.on_reader) {
            vec![CardEvent::Removed]
        } else {
            Vec::new()
        }
    }
}

/// Where the access key for a PC/SC card comes from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("--mrz takes DOCNO,DOB,EXPIRY (e.g. 303001234,2003-05-17,2028-05-17)")]
    MrzFormat,
    #[error("MRZ data: {0}")]
    Mrz(#[from] CardError),
    #[error("identity file: {0}")]
    Identity(#[from] xaso_idcard::softcard::IdentityError),
}

/// The access key from `DOCNO,DOB,EXPIRY` (document number or the 12-digit ID number; dates
/// as YYYY-MM-DD, YYMMDD or DD/MM/YYYY).
pub fn mrz_key_from_arg(s: &str) -> Result<AccessKey, KeyError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [doc, dob, expiry] = parts.as_slice() else {
        return Err(KeyError::MrzFormat);
    };
    let key = if doc.len() == 12 && doc.chars().all(|c| c.is_ascii_digit()) {
        MrzKey::from_id_number(doc, dob, expiry)?
    } else {
        MrzKey::new(doc, dob, expiry)?
    };
    Ok(AccessKey::Mrz(key))
}

/// The access key of a synthetic identity: a TOML identity file (as given to
/// `xaso-card emulate --identity FILE`) or the name of one of idcard's built-in identities.
pub fn identity_key(file_or_name: &str) -> Result<AccessKey, KeyError> {
    let path = std::path::Path::new(file_or_name);
    let identity = if path.exists() {
        Identity::load(path)?
    } else {
        Identity::builtin_named(file_or_name)?
    };
    Ok(AccessKey::Mrz(identity.mrz_key()?))
}

/// True if pcscd answers and lists a reader (`reader`, or any).
pub fn pcsc_reader_available(reader: Option<&str>) -> bool {
    match xaso_idcard::transport::list_readers() {
        Ok(names) => names.iter().any(|n| reader.is_none_or(|r| r == n)),
        Err(e) => {
            tracing::info!("PC/SC not available: {e}");
            false
        }
    }
}

/// A PC/SC reader through pcscd. A thread waits for a card (cancellable), reads it with the
/// access key, waits for its removal and reports all of it as [`CardEvent`]s, which the
/// shell collects with [`CardReader::poll`].
pub struct PcscCardReader {
    reader: Option<String>,
    qr_keys: std::sync::Arc<std::sync::Mutex<Vec<MrzKey>>>,
    events: std::sync::mpsc::Receiver<CardEvent>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    canceller: Canceller,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PcscCardReader {
    /// Starts watching `reader` (or every reader). Fails only if pcscd cannot be reached.
    /// `key` is the configured access key (`--mrz`, `--identity`); without one, a card is
    /// read only after its QR code was scanned ([`CardReader::set_qr_keys`]).
    pub fn start(
        reader: Option<String>,
        key: Option<AccessKey>,
        trust: TrustStore,
    ) -> Result<PcscCardReader, TransportError> {
        let qr_keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let watcher = CardWatcher::new()?;
        let canceller = watcher.canceller();
        let (tx, events) = std::sync::mpsc::channel();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            let reader = reader.clone();
            let keys = Keys {
                configured: key,
                qr: qr_keys.clone(),
            };
            std::thread::Builder::new()
                .name("xaso-card-reader".into())
                .spawn(move || watch(&watcher, reader.as_deref(), &keys, &trust, &tx, &stop))
                .map_err(|e| {
                    TransportError::Reader(format!("cannot start the reader thread: {e}"))
                })?
        };
        tracing::info!(
            "card source: PC/SC reader {}",
            reader.as_deref().unwrap_or("(any)")
        );
        Ok(PcscCardReader {
            reader,
            qr_keys,
            events,
            stop,
            canceller,
            thread: Some(thread),
        })
    }
}

/// The keys the reader thread reads cards with: the QR code's candidates when a QR code
/// was scanned this session, else the configured key.
struct Keys {
    configured: Option<AccessKey>,
    qr: std::sync::Arc<std::sync::Mutex<Vec<MrzKey>>>,
}

impl Keys {
    fn read<T: Transport>(&self, t: &mut T, trust: &TrustStore) -> CardEvent {
        let qr = match self.qr.lock() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        match (&self.configured, qr.is_empty()) {
            (_, false) => read_trying(t, &qr, trust),
            (Some(key), true) => read_outcome(t, key, trust),
            (None, true) => CardEvent::Failed(CardProblem::NeedsKey),
        }
    }
}

/// Longest single wait of the reader thread.
const WAIT: std::time::Duration = std::time::Duration::from_secs(1);

fn watch(
    watcher: &CardWatcher,
    reader: Option<&str>,
    keys: &Keys,
    trust: &TrustStore,
    tx: &std::sync::mpsc::Sender<CardEvent>,
    stop: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    let stopped = || stop.load(Ordering::Relaxed);
    let mut reader_down = false;
    // The reader is missing or pcscd stopped: say so once, then look again every second.
    let unavailable = |down: &mut bool, e: &TransportError| {
        if !*down {
            tracing::warn!("card reader unavailable: {e}");
            let _ = tx.send(CardEvent::Failed(CardProblem::ReaderUnavailable));
            *down = true;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    // Waits are bounded so that a cancel arriving between two waits is not lost: the stop
    // flag is looked at again at least every WAIT.
    while !stopped() {
        let name = match watcher.wait_for_card(reader, Some(WAIT)) {
            Ok(name) => name,
            Err(_) if stopped() => return,
            Err(TransportError::Timeout) => continue,
            Err(e) => {
                unavailable(&mut reader_down, &e);
                continue;
            }
        };
        reader_down = false;
        tracing::info!("card present in the PC/SC reader");
        if tx.send(CardEvent::Present).is_err() {
            return;
        }
        let outcome = match PcscTransport::connect(&name) {
            Ok(mut t) => keys.read(&mut t, trust),
            Err(e) => {
                tracing::warn!("cannot connect to the card: {e}");
                CardEvent::Failed(problem_of(&CardError::from(e)))
            }
        };
        match &outcome {
            CardEvent::Read { verified, .. } => {
                tracing::info!("card read over PC/SC; passive authentication verified: {verified}");
            }
            CardEvent::Failed(p) => tracing::info!(problem = ?p, "card not read"),
            _ => {}
        }
        if tx.send(outcome).is_err() {
            return;
        }
        loop {
            match watcher.wait_for_removal(&name, Some(WAIT)) {
                Ok(()) => break,
                Err(_) if stopped() => return,
                Err(TransportError::Timeout) => continue,
                Err(e) => {
                    tracing::warn!("waiting for the card's removal: {e}");
                    break;
                }
            }
        }
        tracing::info!("card removed from the PC/SC reader");
        if tx.send(CardEvent::Removed).is_err() {
            return;
        }
    }
}

impl CardReader for PcscCardReader {
    fn residents(&self) -> Vec<DemoResident> {
        Vec::new()
    }

    /// A real card is placed by hand, not by the kiosk.
    fn place(&mut self, _resident: &str) -> Vec<CardEvent> {
        Vec::new()
    }

    fn remove(&mut self) -> Vec<CardEvent> {
        Vec::new()
    }

    fn poll(&mut self) -> Vec<CardEvent> {
        self.events.try_iter().collect()
    }

    fn set_qr_keys(&mut self, keys: Vec<MrzKey>) {
        match self.qr_keys.lock() {
            Ok(mut k) => *k = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    fn source(&self) -> CardSource {
        CardSource::Pcsc {
            reader: self.reader.clone(),
        }
    }
}

impl Drop for PcscCardReader {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.canceller.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
