//! PIN records on the tablet: one per person, in an encrypted SQLite file of its own (key
//! derived from the device secret), never synced. Only the argon2id hash is kept
//! ([`PinRecord`]), keyed by the roster's person key, never by the ID number.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use xaso_kiosk_core::signin::PinRecord;
use xaso_sync_store::{DatabaseKey, db};

const KEY_PURPOSE: &str = "xaso officer pins v1";

const MIGRATIONS: &[&str] =
    &["CREATE TABLE pins (person TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;"];

#[derive(Debug, thiserror::Error)]
pub enum PinStoreError {
    #[error("PIN store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PIN store: {0}")]
    Store(#[from] xaso_sync_store::Error),
    #[error("a PIN record is damaged: {0}")]
    Damaged(#[from] serde_json::Error),
}

pub struct PinStore {
    conn: Connection,
}

impl PinStore {
    /// Opens (or creates) `path`, encrypted with a key derived from the device secret in
    /// `key_path`.
    pub fn open(path: &Path, key_path: &Path) -> Result<PinStore, PinStoreError> {
        let key = DatabaseKey::from_key_file(key_path)?.derive(KEY_PURPOSE);
        let mut conn = db::open_encrypted(path, &key, db::PageSize::Default)?;
        db::migrate(&mut conn, MIGRATIONS)?;
        Ok(PinStore { conn })
    }

    /// The record of `person` (a roster person key). A record that cannot be read is
    /// reported as damaged: the person chooses a new PIN with their card.
    pub fn get(&self, person: &str) -> Result<Option<PinRecord>, PinStoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT record FROM pins WHERE person = ?1", [person], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Keeps `record` for `person`, durably.
    pub fn put(&self, person: &str, record: &PinRecord) -> Result<(), PinStoreError> {
        self.conn.execute(
            "INSERT INTO pins (person, record) VALUES (?1, ?2)
             ON CONFLICT(person) DO UPDATE SET record = excluded.record",
            params![person, serde_json::to_string(record)?],
        )?;
        Ok(())
    }
}
