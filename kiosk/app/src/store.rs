//! The kiosk's durable store.
//!
//! * Dossiers, ratings and the tracking-code counter are records of the encrypted
//!   `xaso_sync_store::Store` (one Automerge document each) in this kiosk's submissions partition
//!   (`<commune>/kiosk/<device id>`), so the sync client sends them to the commune hub
//!   whenever a link exists, and status changes made at the commune come back the same way.
//! * Drafts (the form being filled, kept for power-loss resume) and the photographed pages
//!   stay in a local SQLite file next to it (`local.sqlite`): drafts never leave the kiosk,
//!   pages are content-addressed by SHA-256 and referenced from the dossier. The file is
//!   encrypted with SQLCipher under a key derived from the device secret (`device.key`, the
//!   same 0600 key file the record store uses; the local key is
//!   SHA-256(`"xaso-kiosk local store v1"` ‖ secret), so the two files never share a key).
//!   A wrong key is [`StoreError::WrongKey`] and leaves the file untouched; a plain SQLite
//!   file left by an older kiosk is encrypted in place on first open (`sqlcipher_export`
//!   into a new file that then replaces it; see [`open_local`]).
//!
//! A dossier is confirmed to the resident only after [`KioskStore::submit`] returns: the
//! counter is saved before the dossier (a power cut can waste a code, never reuse one), and
//! every write is durable (`synchronous = FULL`) when the call returns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use xaso_services::dossier::{Action, Actor, AttachmentRef, Dossier, Role};
use xaso_services::rating::Rating;
use xaso_services::tracking::{CommuneCode, TrackingCode, TrackingMinter};
use xaso_sync_core::Partition;
use xaso_sync_store::{DatabaseKey, Store, db};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("record store: {0}")]
    Records(#[source] xaso_sync_store::Error),
    #[error("record store: {0}")]
    Core(#[from] xaso_sync_core::Error),
    #[error("local store record is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot mint a tracking code: {0}")]
    Tracking(#[from] xaso_services::tracking::TrackingError),
    #[error("the dossier cannot be submitted: {0}")]
    Lifecycle(#[from] xaso_services::dossier::LifecycleError),
    #[error("cannot create the store directory: {0}")]
    Io(#[from] std::io::Error),
    /// The local file cannot be decrypted with this device's key (the key file was replaced,
    /// or the file belongs to another kiosk). Nothing was written to it.
    #[error(
        "the local store {path} cannot be opened with this device's key (wrong key, or not a Xã Số file); nothing was changed"
    )]
    WrongKey { path: PathBuf },
    /// The device key file is missing, readable by others or malformed.
    #[error("device key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    /// An unencrypted local store from an older version could not be encrypted; the old file
    /// is left as it was.
    #[error("cannot encrypt the older unencrypted local store {path}: {source}")]
    Migration {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl From<xaso_sync_store::Error> for StoreError {
    /// The store crate's causes a kiosk acts on keep their own variants: a wrong key, a
    /// bad key file, an encryption that could not be done; the rest is the record store's.
    fn from(e: xaso_sync_store::Error) -> Self {
        use xaso_sync_store::Error as E;
        match e {
            E::WrongKey { path } => StoreError::WrongKey { path },
            E::Migration { path, source } => StoreError::Migration { path, source },
            E::KeyFile { ref path, .. }
            | E::KeyFilePermissions { ref path, .. }
            | E::KeyFileInvalid { ref path } => StoreError::KeyFile {
                path: path.clone(),
                reason: e.to_string(),
            },
            other => StoreError::Records(other),
        }
    }
}

/// An attachment's bytes, stored content-addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub reference: AttachmentRef,
    pub bytes: Vec<u8>,
}

impl Attachment {
    pub fn jpeg(paper: &str, bytes: Vec<u8>) -> Attachment {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Attachment {
            reference: AttachmentRef {
                paper: paper.to_owned(),
                sha256,
                media_type: "image/jpeg".into(),
                bytes: bytes.len() as u64,
            },
            bytes,
        }
    }
}

pub struct KioskStore {
    local: Connection,
    records: Store,
    partition: Partition,
    commune: CommuneCode,
    device: u16,
}

/// A saved draft: the procedure code and the values entered so far.
pub type Draft = (String, BTreeMap<String, String>);

const LOCAL_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS attachments (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS drafts (id_number TEXT PRIMARY KEY, procedure TEXT NOT NULL, json TEXT NOT NULL);
";

const MINTER: &str = "tracking-minter";

fn dossier_record(code: &TrackingCode) -> String {
    format!("dossier-{code}")
}

impl KioskStore {
    /// Opens (or creates) the store in `dir`: `records.db` (encrypted with `device.key`,
    /// created on first use) and `local.sqlite`. `device` is this kiosk's number within the
    /// commune (for tracking codes); `device_id` is its id at the hub (for the partition).
    pub fn open(
        dir: &Path,
        commune: CommuneCode,
        device: u16,
        device_id: &str,
    ) -> Result<KioskStore, StoreError> {
        std::fs::create_dir_all(dir)?;
        let key = dir.join("device.key");
        xaso_sync_store::ensure_key_file(&key)?;
        let records = Store::open(&dir.join("records.db"), &key)?;
        let local = open_local(&dir.join("local.sqlite"), &key)?;
        Self::init(local, records, commune, device, device_id)
    }

    /// A store that lives only in memory (tests of UI states).
    pub fn in_memory(
        commune: CommuneCode,
        device: u16,
        device_id: &str,
    ) -> Result<KioskStore, StoreError> {
        Self::init(
            Connection::open_in_memory()?,
            Store::open_in_memory()?,
            commune,
            device,
            device_id,
        )
    }

    fn init(
        local: Connection,
        records: Store,
        commune: CommuneCode,
        device: u16,
        device_id: &str,
    ) -> Result<KioskStore, StoreError> {
        local.pragma_update(None, "journal_mode", "WAL")?;
        local.pragma_update(None, "synchronous", "FULL")?;
        local.execute_batch(LOCAL_SCHEMA)?;
        let partition = Partition::submissions(commune.as_str(), device_id)?;
        Ok(KioskStore {
            local,
            records,
            partition,
            commune,
            device,
        })
    }

    pub fn commune(&self) -> &CommuneCode {
        &self.commune
    }

    /// The partition the kiosk's records live in.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// The synced record store, for the sync client.
    pub fn records_mut(&mut self) -> &mut Store {
        &mut self.records
    }

    pub fn records(&self) -> &Store {
        &self.records
    }

    /// Mints the tracking code, records the submission in the dossier's lifecycle, stores
    /// the pages and then the dossier. Returns the stored dossier.
    pub fn submit(
        &mut self,
        mut dossier: Dossier,
        attachments: Vec<Attachment>,
        actor: Actor,
        today: jiff::civil::Date,
        now: jiff::Timestamp,
    ) -> Result<Dossier, StoreError> {
        // A kiosk given a new number (enrolled again) starts a new counter: codes stay
        // unique because the hub never gives a number twice in a commune.
        let mut minter = match self
            .records
            .get::<TrackingMinter>(&self.partition, MINTER)?
        {
            Some(m) if m.device == self.device => m,
            _ => TrackingMinter::new(self.commune.clone(), self.device)?,
        };
        let code = minter.mint(today)?;
        dossier.tracking_code = Some(code.clone());
        dossier.attachments = attachments.iter().map(|a| a.reference.clone()).collect();
        dossier.apply(Action::Submit, actor, None, now)?;
        // The counter first: a crash after this wastes one code, never hands it out twice.
        self.records.put(&self.partition, MINTER, &minter)?;
        // The pages are content-addressed blobs of the record store: they sync to the
        // commune hub with the dossier, and officers' devices fetch them from there.
        for a in &attachments {
            self.records.put_blob(&self.partition, &a.bytes)?;
        }
        self.records
            .put(&self.partition, &dossier_record(&code), &dossier)?;
        Ok(dossier)
    }

    /// Adds supplement pages to a dossier this kiosk holds and takes the supplement step:
    /// the pages first, then the dossier (a refused step stores nothing). `None` when the
    /// kiosk does not hold the dossier.
    pub fn supplement(
        &mut self,
        code: &TrackingCode,
        attachments: Vec<Attachment>,
        actor: Actor,
        now: jiff::Timestamp,
    ) -> Result<Option<Dossier>, StoreError> {
        let Some(mut dossier) = self.dossier_by_code(code)? else {
            return Ok(None);
        };
        dossier.supplement(
            attachments.iter().map(|a| a.reference.clone()).collect(),
            actor,
            now,
        )?;
        for a in &attachments {
            self.records.put_blob(&self.partition, &a.bytes)?;
        }
        self.records
            .put(&self.partition, &dossier_record(code), &dossier)?;
        Ok(Some(dossier))
    }

    pub fn dossier_by_code(&self, code: &TrackingCode) -> Result<Option<Dossier>, StoreError> {
        Ok(self.records.get(&self.partition, &dossier_record(code))?)
    }

    /// Every dossier of this kiosk.
    pub fn dossiers(&self) -> Result<Vec<Dossier>, StoreError> {
        let mut out = Vec::new();
        for id in self.records.list(&self.partition)? {
            if id.starts_with("dossier-")
                && let Some(d) = self.records.get::<Dossier>(&self.partition, &id)?
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// The dossiers of a card holder, newest first.
    pub fn dossiers_of(&self, id_number: &str) -> Result<Vec<Dossier>, StoreError> {
        let mut mine: Vec<Dossier> = self
            .dossiers()?
            .into_iter()
            .filter(|d| d.applicant.id_number == id_number)
            .collect();
        mine.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        Ok(mine)
    }

    /// A page's bytes: from the record store, or (dossiers submitted by an older
    /// version) from the local file.
    pub fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Ok(hash) = sha256.parse::<xaso_sync_core::BlobHash>()
            && let Some(bytes) = self.records.blob(&self.partition, &hash)?
        {
            return Ok(Some(bytes));
        }
        Ok(self
            .local
            .query_row(
                "SELECT bytes FROM attachments WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn save_rating(&mut self, rating: &Rating) -> Result<(), StoreError> {
        self.records
            .put(&self.partition, &format!("rating-{}", rating.id), rating)?;
        Ok(())
    }

    pub fn ratings(&self) -> Result<Vec<Rating>, StoreError> {
        let mut out = Vec::new();
        for id in self.records.list(&self.partition)? {
            if id.starts_with("rating-")
                && let Some(r) = self.records.get::<Rating>(&self.partition, &id)?
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Saves the form being filled for a card, so a power cut loses nothing.
    pub fn save_draft(
        &self,
        id_number: &str,
        procedure: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.local.execute(
            "INSERT OR REPLACE INTO drafts (id_number, procedure, json) VALUES (?1, ?2, ?3)",
            params![id_number, procedure, serde_json::to_string(values)?],
        )?;
        Ok(())
    }

    /// The draft made with this card, if any; never another card's.
    pub fn draft_for(&self, id_number: &str) -> Result<Option<Draft>, StoreError> {
        let row: Option<(String, String)> = self
            .local
            .query_row(
                "SELECT procedure, json FROM drafts WHERE id_number = ?1",
                params![id_number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((p, json)) => Ok(Some((p, serde_json::from_str(&json)?))),
            None => Ok(None),
        }
    }

    pub fn delete_draft(&self, id_number: &str) -> Result<(), StoreError> {
        self.local.execute(
            "DELETE FROM drafts WHERE id_number = ?1",
            params![id_number],
        )?;
        Ok(())
    }
}

/// What the local file's key is derived for (see [`DatabaseKey::derive`]): the same
/// derivation since the first encrypted kiosk, so existing files open unchanged.
const LOCAL_KEY_PURPOSE: &str = "xaso-kiosk local store v1";

/// Opens (or creates) the encrypted local file `path` with the key derived from the device
/// secret in `key_path`, through the one place that opens encrypted databases
/// (`xaso_sync_store::db`). A plain SQLite file from a kiosk version before encryption is
/// encrypted in place first ([`db::encrypt_in_place`]); if that fails the old file stays as
/// it was and the error says so.
pub fn open_local(path: &Path, key_path: &Path) -> Result<Connection, StoreError> {
    let key = DatabaseKey::from_key_file(key_path)?.derive(LOCAL_KEY_PURPOSE);
    if db::is_plain_sqlite(path)? {
        db::encrypt_in_place(path, &key)?;
        tracing::info!(
            "the local store was unencrypted (older kiosk version); it is now encrypted"
        );
    }
    Ok(db::open_encrypted(path, &key, db::PageSize::Default)?)
}

/// The actor recorded for dossiers submitted at this kiosk.
pub fn kiosk_actor(commune: &CommuneCode, device: u16) -> Actor {
    Actor {
        role: Role::Resident,
        id: format!("kiosk:{commune}:{device}"),
        device: None,
    }
}
