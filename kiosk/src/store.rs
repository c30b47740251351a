//! The kiosk's durable local store: a SQLite file holding submitted dossiers, their
//! attachments, ratings, the tracking-code counter and per-card drafts.
//!
//! A dossier is confirmed to the resident only after [`KioskStore::submit`] returns: the
//! tracking code is minted, the dossier and the counter are written in one transaction, and
//! SQLite runs with `synchronous = FULL`, so a power cut never loses a confirmed dossier nor
//! hands out the same code twice. Records not yet sent to the commune hub are listed by
//! [`KioskStore::unsynced_dossiers`] for the sync client.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use xaso_services::dossier::{Action, Actor, AttachmentRef, Dossier, Role};
use xaso_services::rating::Rating;
use xaso_services::tracking::{CommuneCode, TrackingCode, TrackingMinter};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local store record is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot mint a tracking code: {0}")]
    Tracking(#[from] xaso_services::tracking::TrackingError),
    #[error("the dossier cannot be submitted: {0}")]
    Lifecycle(#[from] xaso_services::dossier::LifecycleError),
}

/// An attachment's bytes, stored content-addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub reference: AttachmentRef,
    pub bytes: Vec<u8>,
}

impl Attachment {
    pub fn jpeg(paper: &str, bytes: Vec<u8>) -> Attachment {
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
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
    conn: Connection,
    commune: CommuneCode,
    device: u16,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dossiers (
    id TEXT PRIMARY KEY,
    tracking_code TEXT UNIQUE NOT NULL,
    requester_id TEXT,
    json TEXT NOT NULL,
    synced INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dossiers_requester ON dossiers(requester_id);
CREATE TABLE IF NOT EXISTS attachments (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (id TEXT PRIMARY KEY, json TEXT NOT NULL, synced INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS drafts (id_number TEXT PRIMARY KEY, procedure TEXT NOT NULL, json TEXT NOT NULL);
";

impl KioskStore {
    /// Opens (or creates) the store file. `device` is this kiosk's number within the commune,
    /// given at enrolment.
    pub fn open(path: &Path, commune: CommuneCode, device: u16) -> Result<KioskStore, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn, commune, device)
    }

    /// A store that lives only in memory (tests of UI states).
    pub fn in_memory(commune: CommuneCode, device: u16) -> Result<KioskStore, StoreError> {
        Self::init(Connection::open_in_memory()?, commune, device)
    }

    fn init(conn: Connection, commune: CommuneCode, device: u16) -> Result<KioskStore, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(KioskStore {
            conn,
            commune,
            device,
        })
    }

    pub fn commune(&self) -> &CommuneCode {
        &self.commune
    }

    /// Mints the tracking code, records the submission in the dossier's lifecycle and stores
    /// dossier, attachments and counter in one transaction. Returns the stored dossier.
    pub fn submit(
        &mut self,
        mut dossier: Dossier,
        attachments: Vec<Attachment>,
        actor: Actor,
        today: jiff::civil::Date,
        now: jiff::Timestamp,
    ) -> Result<Dossier, StoreError> {
        let tx = self.conn.transaction()?;
        let minter: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'minter'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let mut minter = match minter {
            Some(json) => serde_json::from_str::<TrackingMinter>(&json)?,
            None => TrackingMinter::new(self.commune.clone(), self.device)?,
        };
        let code = minter.mint(today)?;
        dossier.tracking_code = Some(code.clone());
        dossier.attachments = attachments.iter().map(|a| a.reference.clone()).collect();
        dossier.apply(Action::Submit, actor, None, now)?;
        for a in &attachments {
            tx.execute(
                "INSERT OR IGNORE INTO attachments (sha256, media_type, bytes) VALUES (?1, ?2, ?3)",
                params![a.reference.sha256, a.reference.media_type, a.bytes],
            )?;
        }
        tx.execute(
            "INSERT INTO dossiers (id, tracking_code, requester_id, json) VALUES (?1, ?2, ?3, ?4)",
            params![
                dossier.id,
                code.to_string(),
                dossier.applicant.id_number,
                serde_json::to_string(&dossier)?
            ],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('minter', ?1)",
            params![serde_json::to_string(&minter)?],
        )?;
        tx.commit()?;
        Ok(dossier)
    }

    pub fn dossier_by_code(&self, code: &TrackingCode) -> Result<Option<Dossier>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM dossiers WHERE tracking_code = ?1",
                params![code.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// The dossiers of a card holder, newest first.
    pub fn dossiers_of(&self, id_number: &str) -> Result<Vec<Dossier>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM dossiers WHERE requester_id = ?1 ORDER BY rowid DESC")?;
        let rows = stmt.query_map(params![id_number], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    /// Replaces a dossier's record (a state change that came back from the hub).
    pub fn update_dossier(&self, dossier: &Dossier) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE dossiers SET json = ?2 WHERE id = ?1",
            params![dossier.id, serde_json::to_string(dossier)?],
        )?;
        Ok(())
    }

    pub fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM attachments WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn save_rating(&self, rating: &Rating) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO ratings (id, json) VALUES (?1, ?2)",
            params![rating.id, serde_json::to_string(rating)?],
        )?;
        Ok(())
    }

    pub fn ratings(&self) -> Result<Vec<Rating>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM ratings ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    /// Dossiers not yet acknowledged by the commune hub.
    pub fn unsynced_dossiers(&self) -> Result<Vec<Dossier>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM dossiers WHERE synced = 0 ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    pub fn unsynced_ratings(&self) -> Result<Vec<Rating>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json FROM ratings WHERE synced = 0 ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(serde_json::from_str(&json?)?);
        }
        Ok(out)
    }

    pub fn mark_dossier_synced(&self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE dossiers SET synced = 1 WHERE id = ?1", params![id])?;
        Ok(())
    }

    pub fn mark_rating_synced(&self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE ratings SET synced = 1 WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Saves the form being filled for a card, so a power cut loses nothing.
    pub fn save_draft(
        &self,
        id_number: &str,
        procedure: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO drafts (id_number, procedure, json) VALUES (?1, ?2, ?3)",
            params![id_number, procedure, serde_json::to_string(values)?],
        )?;
        Ok(())
    }

    /// The draft made with this card, if any; never another card's.
    pub fn draft_for(
        &self,
        id_number: &str,
    ) -> Result<Option<(String, BTreeMap<String, String>)>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
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
        self.conn.execute(
            "DELETE FROM drafts WHERE id_number = ?1",
            params![id_number],
        )?;
        Ok(())
    }
}

/// The day results are due: `days` working days after `today`, skipping weekends and the
/// public holidays of the bundled calendar.
pub fn expected_date(today: jiff::civil::Date, days: u32) -> jiff::civil::Date {
    xaso_services::calendar::Holidays::bundled().due_date(today, days)
}

/// The actor recorded for dossiers submitted at this kiosk.
pub fn kiosk_actor(commune: &CommuneCode, device: u16) -> Actor {
    Actor {
        role: Role::Resident,
        id: format!("kiosk:{commune}:{device}"),
    }
}
