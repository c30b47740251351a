//! The encrypted offline store: SQLCipher (SQLite WAL, 8 KiB pages) holding one
//! Automerge document per record and a per-partition, per-origin change log.
//!
//! Tables (schema version [`SCHEMA_VERSION`]):
//! - `meta`: this store's origin (Automerge actor id).
//! - `records`: the saved Automerge document of each `(partition, record_id)`.
//! - `changes`: every Automerge change the store holds, keyed by
//!   `(partition, origin, seq)`; `local_seq` is the order it was inserted here,
//!   which is always a causal order.
//! - `cursors`: this store's own version vector per partition: for each origin
//!   the highest `seq` it holds (it always holds the whole prefix `1..=seq`).
//! - `peer_cursors`: the last vector a peer (the hub) confirmed it holds.
//! - `blobs`: verified attachments by `(partition, sha256)`; `blob_parts`:
//!   incomplete transfers (contiguous chunks from offset 0); `blob_peers`:
//!   blobs a peer confirmed it holds (see [`crate::blob`]).
//!
//! Every write runs in one SQLite transaction with `synchronous = FULL`: when
//! a method returns `Ok`, the data survives a power cut.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit, Change, transaction::CommitOptions};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Serialize, de::DeserializeOwned};

use crate::blob::{self, BlobHash, BlobIndex, BlobInfo, BlobStore, ChunkDecision, Held};
use crate::mapping::{self, Conflict, PathSegment};
use crate::protocol::{ChangeLog, Entry, Origin, Vector};
use crate::{Error, Partition};

/// The schema version this code writes. Older stores are migrated on open.
pub const SCHEMA_VERSION: u32 = 3;

/// Schema migrations; `MIGRATIONS[i]` moves a store from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: records, change log, cursors.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
     CREATE TABLE records (
        partition TEXT NOT NULL,
        record_id TEXT NOT NULL,
        doc BLOB NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (partition, record_id)) WITHOUT ROWID;
     CREATE TABLE changes (
        local_seq INTEGER PRIMARY KEY AUTOINCREMENT,
        partition TEXT NOT NULL,
        origin BLOB NOT NULL,
        seq INTEGER NOT NULL,
        record_id TEXT NOT NULL,
        change BLOB NOT NULL,
        UNIQUE (partition, origin, seq));
     CREATE TABLE cursors (
        partition TEXT NOT NULL,
        origin BLOB NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (partition, origin)) WITHOUT ROWID;",
    // v2: peer cursors and the index that serves a partition's log in causal order.
    "CREATE TABLE peer_cursors (
        peer TEXT NOT NULL,
        partition TEXT NOT NULL,
        origin BLOB NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (peer, partition, origin)) WITHOUT ROWID;
     CREATE INDEX changes_by_partition ON changes (partition, local_seq);",
    // v3: attachments. Verified blobs; incomplete transfers as contiguous
    // chunks from offset 0; blobs a peer (the hub) confirmed it holds.
    "CREATE TABLE blobs (
        partition TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        stored_ms INTEGER NOT NULL,
        UNIQUE (partition, hash));
     CREATE TABLE blob_parts (
        partition TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        offset INTEGER NOT NULL,
        len INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (partition, hash, offset));
     CREATE TABLE blob_peers (
        peer TEXT NOT NULL,
        partition TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (peer, partition, hash)) WITHOUT ROWID;",
];

const KEY_LEN: usize = 32;

/// Prepared statements kept per connection. The store has some thirty
/// distinct statements and a sync with attachments uses about twenty;
/// with rusqlite's default of 16 they could evict each other and be
/// compiled again on each sync.
const STATEMENT_CACHE: usize = 64;

/// Create a new random device secret (32 bytes, hex) at `path` with mode 0600.
/// Fails if the file already exists, so a key is never overwritten.
pub fn create_key_file(path: &Path) -> Result<(), Error> {
    let mut key = [0u8; KEY_LEN];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| Error::Random)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::KeyFile {
            path: path.to_owned(),
            source: e,
        })?;
    file.write_all(hex::encode(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::KeyFile {
            path: path.to_owned(),
            source: e,
        })?;
    Ok(())
}

/// Create the key file unless it exists.
pub fn ensure_key_file(path: &Path) -> Result<(), Error> {
    if path.exists() {
        Ok(())
    } else {
        create_key_file(path)
    }
}

/// Read a device secret (32 bytes, hex) from `path`, refusing a file that
/// anyone but its owner may read. Other local stores of the device derive
/// their keys from it.
pub fn read_key_file(path: &Path) -> Result<[u8; KEY_LEN], Error> {
    let meta = std::fs::metadata(path).map_err(|e| Error::KeyFile {
        path: path.to_owned(),
        source: e,
    })?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::KeyFile {
        path: path.to_owned(),
        source: e,
    })?;
    let bytes = hex::decode(text.trim()).map_err(|_| Error::KeyFileInvalid {
        path: path.to_owned(),
    })?;
    bytes.try_into().map_err(|_| Error::KeyFileInvalid {
        path: path.to_owned(),
    })
}

/// Open an SQLCipher connection with the key in `key_path`, verifying the key.
pub(crate) fn open_encrypted(db_path: &Path, key_path: &Path) -> Result<Connection, Error> {
    let key = read_key_file(key_path)?;
    let conn = Connection::open(db_path)?;
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA cipher_page_size = 8192;",
        hex::encode(key)
    ))?;
    // The first read decrypts page 1: a wrong key fails here, before anything is written.
    let check: Result<i64, rusqlite::Error> =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0));
    if let Err(e) = check {
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Error::WrongKey {
                path: db_path.to_owned(),
            },
            _ => Error::Sqlite(e),
        });
    }
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<(), Error> {
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
    )?;
    Ok(())
}

/// Bring the schema to [`SCHEMA_VERSION`]; refuse stores written by newer code.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<u32, Error> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let target = migrations.len() as u32;
    if current > target {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: target,
        });
    }
    for (index, sql) in migrations.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "store schema migrated");
    }
    Ok(target)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new change was committed durably; its sequence number for this origin.
    Changed {
        /// Sequence number in `(partition, this origin)`.
        seq: u64,
    },
    /// The record already had exactly this content: nothing written.
    Unchanged,
}

/// The offline store. One per device (and one inside the hub).
pub struct Store {
    conn: Connection,
    actor: ActorId,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("origin", &self.actor.to_hex_string())
            .finish()
    }
}

impl Store {
    /// Open (or create) the encrypted store at `db_path` with the device secret
    /// in `key_path` (which must exist and have mode 0600; see [`create_key_file`]).
    /// A wrong key gives [`Error::WrongKey`] and leaves the file untouched.
    pub fn open(db_path: &Path, key_path: &Path) -> Result<Self, Error> {
        let mut conn = open_encrypted(db_path, key_path)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut conn, MIGRATIONS)?;
        let actor = load_or_create_actor(&conn)?;
        Ok(Store {
            conn,
            actor,
            path: Some(db_path.to_owned()),
        })
    }

    /// Let SQLite keep up to `mib` MiB of (decrypted) pages in memory. The
    /// default (2 MiB) suits a kiosk; a hub serving a commune's devices keeps
    /// its working set in memory and decrypts far fewer pages.
    pub fn set_cache_mib(&self, mib: u32) -> Result<(), Error> {
        self.conn
            .pragma_update(None, "cache_size", -(i64::from(mib) * 1024))?;
        Ok(())
    }

    /// A store in memory (not encrypted, not durable): for tests and simulations.
    pub fn open_in_memory() -> Result<Self, Error> {
        let mut conn = Connection::open_in_memory()?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut conn, MIGRATIONS)?;
        let actor = load_or_create_actor(&conn)?;
        Ok(Store {
            conn,
            actor,
            path: None,
        })
    }

    /// This store's origin: the Automerge actor id of every local change.
    pub fn origin(&self) -> Origin {
        Origin(self.actor.to_bytes().to_vec())
    }

    /// Write `value` as the record `record_id` of `partition`. Only fields that
    /// changed produce a change; returns once the change is durable.
    pub fn put<T: Serialize>(
        &mut self,
        partition: &Partition,
        record_id: &str,
        value: &T,
    ) -> Result<Saved, Error> {
        let json = serde_json::to_value(value).map_err(Error::Serialize)?;
        self.edit(partition, record_id, |doc| {
            mapping::reconcile_root(doc, &json)
        })
    }

    /// Read the record back (winning values where fields are in conflict).
    pub fn get<T: DeserializeOwned>(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<T>, Error> {
        let Some(doc) = self.load_doc(partition, record_id)? else {
            return Ok(None);
        };
        let json = mapping::hydrate(&doc)?;
        serde_json::from_value(json)
            .map(Some)
            .map_err(Error::Deserialize)
    }

    /// Read the record as JSON.
    pub fn get_json(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<serde_json::Value>, Error> {
        let Some(doc) = self.load_doc(partition, record_id)? else {
            return Ok(None);
        };
        mapping::hydrate(&doc).map(Some)
    }

    /// Record ids of a partition, sorted.
    pub fn list(&self, partition: &Partition) -> Result<Vec<String>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record_id FROM records WHERE partition = ?1 ORDER BY record_id",
        )?;
        let ids = stmt
            .query_map([partition.as_str()], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    /// All partitions this store holds, sorted.
    pub fn partitions(&self) -> Result<Vec<Partition>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT partition FROM cursors ORDER BY partition")?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        names.into_iter().map(Partition::new).collect()
    }

    /// Partitions named `prefix` or refining it (`prefix/…`), sorted. With a
    /// commune code: the commune's partitions; with a partition name: that
    /// partition and its refinements. Uses the index (a range scan).
    pub fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Error> {
        // '/' + 1 == '0': the range covers exactly the names starting with "commune/".
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT partition FROM cursors
             WHERE partition = ?1 OR (partition >= ?1 || '/' AND partition < ?1 || '0') ORDER BY partition",
        )?;
        let names = stmt
            .query_map([prefix], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        names.into_iter().map(Partition::new).collect()
    }

    /// Fields of the record changed concurrently on several devices.
    pub fn conflicts(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Vec<Conflict>, Error> {
        let Some(mut doc) = self.load_doc(partition, record_id)? else {
            return Err(Error::RecordNotFound);
        };
        mapping::conflicts(&mut doc)
    }

    /// Resolve a conflict (or simply set one field): replaces every concurrent
    /// value at `path` with `value`. The resolution is a change like any other
    /// and syncs to every device.
    pub fn resolve(
        &mut self,
        partition: &Partition,
        record_id: &str,
        path: &[PathSegment],
        value: &serde_json::Value,
    ) -> Result<Saved, Error> {
        if self.load_doc(partition, record_id)?.is_none() {
            return Err(Error::RecordNotFound);
        }
        self.edit(partition, record_id, |doc| {
            let (obj, prop) = mapping::parent_of(doc, path)?;
            mapping::overwrite_prop(doc, &obj, prop, value)
        })
    }

    /// Run `f` inside one outer transaction so that many writes share one
    /// commit (one fsync): the hub's group commit. Each write inside still
    /// has its own savepoint, so a failing write undoes only itself. Nothing
    /// is durable until this returns `Ok`.
    pub fn group<R>(&mut self, f: impl FnOnce(&mut Store) -> R) -> Result<R, Error> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = f(self);
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        Ok(result)
    }

    /// The version vector this store holds for `partition`.
    pub fn vector(&self, partition: &Partition) -> Result<Vector, Error> {
        read_vector(
            &self.conn,
            "SELECT origin, seq FROM cursors WHERE partition = ?1",
            &[partition.as_str()],
        )
    }

    /// Number of changes in the log of `partition`.
    pub fn change_count(&self, partition: &Partition) -> Result<u64, Error> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM changes WHERE partition = ?1",
            [partition.as_str()],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// The saved Automerge document bytes of a record (for baselines and export).
    pub fn document_bytes(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc FROM records WHERE partition = ?1 AND record_id = ?2",
                params![partition.as_str(), record_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn load_doc(
        &self,
        partition: &Partition,
        record_id: &str,
    ) -> Result<Option<AutoCommit>, Error> {
        load_doc_from(&self.conn, partition.as_str(), record_id)
    }

    fn edit(
        &mut self,
        partition: &Partition,
        record_id: &str,
        f: impl FnOnce(&mut AutoCommit) -> Result<(), Error>,
    ) -> Result<Saved, Error> {
        let tx = self.conn.savepoint()?;
        let saved = edit_in(&tx, &self.actor, partition, record_id, f)?;
        tx.commit()?;
        Ok(saved)
    }

    /// Write many records in one transaction (imports, benchmarks): all or
    /// nothing, durable when it returns. Returns how many changed.
    pub fn put_batch<T: Serialize>(
        &mut self,
        partition: &Partition,
        records: impl IntoIterator<Item = (String, T)>,
    ) -> Result<u64, Error> {
        let tx = self.conn.savepoint()?;
        let mut changed = 0;
        for (record_id, value) in records {
            let json = serde_json::to_value(&value).map_err(Error::Serialize)?;
            if let Saved::Changed { .. } =
                edit_in(&tx, &self.actor, partition, &record_id, |doc| {
                    mapping::reconcile_root(doc, &json)
                })?
            {
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Apply changes received from a peer, in one durable transaction, and
    /// optionally record the peer's vector. Duplicates are skipped; an entry
    /// that would leave a gap in an origin's sequence is refused (with the
    /// rest of that origin's entries), so the vector stays exact.
    /// Returns the store's new vector for the partition.
    pub fn apply_entries(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Error> {
        self.apply_entries_prepared(partition, entries, peer, None)
    }

    /// [`Store::apply_entries`], taking the documents of new records from
    /// `prepared` (built beforehand, outside any lock, by [`Prepared::add`])
    /// when they were built from exactly the changes applied now. The outcome
    /// is the same as without `prepared`; only the work moves.
    pub fn apply_entries_prepared(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
        mut prepared: Option<&mut Prepared>,
    ) -> Result<ApplyOutcome, Error> {
        let tx = self.conn.savepoint()?;
        let p = partition.as_str();
        let mut vector = read_vector(
            &tx,
            "SELECT origin, seq FROM cursors WHERE partition = ?1",
            &[p],
        )?;
        let mut outcome = ApplyOutcome::default();
        let mut blocked: Vec<Origin> = Vec::new();
        // Which entries apply is decided by the vector alone.
        let mut applied: Vec<&Entry> = Vec::new();
        for entry in entries {
            let have = vector.get(&entry.origin);
            if entry.seq <= have {
                outcome.duplicates += 1;
                continue;
            }
            if entry.seq != have + 1 || blocked.contains(&entry.origin) {
                blocked.push(entry.origin.clone());
                outcome.refused += 1;
                continue;
            }
            validate_record_id(&entry.record_id)?;
            vector.set(entry.origin.clone(), entry.seq);
            applied.push(entry);
            outcome.applied += 1;
        }
        let time = now_ms();
        for (record_id, list) in by_record(applied.iter().copied()) {
            let list = list.as_slice();
            let existing = load_doc_from(&tx, p, record_id)?;
            let ready = match (&existing, prepared.as_deref_mut()) {
                (None, Some(prepared)) => prepared.take_if_built_from(p, record_id, list),
                _ => None,
            };
            let bytes = match ready {
                Some(bytes) => bytes,
                None => {
                    let mut doc = existing.unwrap_or_default();
                    for entry in list {
                        doc.apply_changes([parse_change(entry)?])?;
                    }
                    if !doc.get_missing_deps(&[]).is_empty() {
                        tracing::warn!(partition = p, "record waits for changes it depends on");
                    }
                    doc.save_nocompress()
                }
            };
            save_doc_bytes(&tx, p, record_id, &bytes, time)?;
        }
        // The change index keeps the order the changes came in.
        for entry in applied {
            insert_change(
                &tx,
                p,
                &entry.origin,
                entry.seq,
                &entry.record_id,
                &entry.change,
            )?;
        }
        if let Some((peer, peer_vector)) = peer {
            write_peer_vector(&tx, peer, p, peer_vector)?;
        }
        tx.commit()?;
        outcome.vector = vector;
        Ok(outcome)
    }

    /// The last vector `peer` confirmed for `partition` (empty if never synced).
    pub fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Error> {
        read_vector(
            &self.conn,
            "SELECT origin, seq FROM peer_cursors WHERE peer = ?1 AND partition = ?2",
            &[peer, partition.as_str()],
        )
    }

    /// Record the vector `peer` confirmed for `partition`.
    pub fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Error> {
        let tx = self.conn.savepoint()?;
        write_peer_vector(&tx, peer, partition.as_str(), vector)?;
        tx.commit()?;
        Ok(())
    }

    /// The changes of `partition` that a holder of `after` lacks, in causal
    /// order, up to about `budget` bytes (at least one entry). The flag says
    /// whether more remain.
    pub fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Error> {
        let p = partition.as_str();
        let mine = self.vector(partition)?;
        // Where to start scanning: the earliest local position of any missing entry.
        let mut start: Option<i64> = None;
        for (origin, &seq) in &mine.0 {
            if seq > after.get(origin) {
                let first: Option<i64> = self
                    .conn
                    .prepare_cached(
                        "SELECT MIN(local_seq) FROM changes WHERE partition = ?1 AND origin = ?2 AND seq > ?3",
                    )?
                    .query_row(params![p, origin.0, after.get(origin) as i64], |r| r.get(0))?;
                if let Some(first) = first {
                    start = Some(start.map_or(first, |s: i64| s.min(first)));
                }
            }
        }
        let Some(start) = start else {
            return Ok((Vec::new(), false));
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT origin, seq, record_id, change FROM changes WHERE partition = ?1 AND local_seq >= ?2 ORDER BY local_seq",
        )?;
        let mut rows = stmt.query(params![p, start])?;
        let mut out = Vec::new();
        let mut size = 0usize;
        while let Some(row) = rows.next()? {
            let origin = Origin(row.get(0)?);
            let seq: i64 = row.get(1)?;
            if seq as u64 <= after.get(&origin) {
                continue;
            }
            let entry = Entry {
                origin,
                seq: seq as u64,
                record_id: row.get(2)?,
                change: row.get(3)?,
            };
            let entry_size = entry.change.len() + entry.record_id.len() + 24;
            if !out.is_empty() && size + entry_size > budget {
                return Ok((out, true));
            }
            size += entry_size;
            out.push(entry);
        }
        Ok((out, false))
    }
}

/// Attachments (see [`crate::blob`]).
impl Store {
    /// Store `bytes` as a blob of `partition` and write its index record
    /// (`blob-<sha256>`, synced like any record), in one durable transaction.
    /// Idempotent: the same bytes give the same hash and are stored once per
    /// partition. Larger than [`blob::MAX_BLOB_BYTES`]: [`Error::BlobTooLarge`].
    pub fn put_blob(&mut self, partition: &Partition, bytes: &[u8]) -> Result<BlobHash, Error> {
        let size = bytes.len() as u64;
        if size > blob::MAX_BLOB_BYTES {
            return Err(Error::BlobTooLarge {
                size,
                max: blob::MAX_BLOB_BYTES,
            });
        }
        let hash = BlobHash::of(bytes);
        let index = serde_json::to_value(BlobIndex {
            sha256: hash.to_hex(),
            size,
        })
        .map_err(Error::Serialize)?;
        let tx = self.conn.savepoint()?;
        insert_blob(&tx, partition.as_str(), &hash, bytes)?;
        edit_in(
            &tx,
            &self.actor,
            partition,
            &blob::index_record_id(&hash),
            |doc| mapping::reconcile_root(doc, &index),
        )?;
        tx.commit()?;
        Ok(hash)
    }

    /// The bytes of a verified blob, if held.
    pub fn blob(&self, partition: &Partition, hash: &BlobHash) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .conn
            .prepare_cached("SELECT bytes FROM blobs WHERE partition = ?1 AND hash = ?2")?
            .query_row(params![partition.as_str(), hash.to_hex()], |r| r.get(0))
            .optional()?)
    }

    /// Is a verified blob held?
    pub fn has_blob(&self, partition: &Partition, hash: &BlobHash) -> Result<bool, Error> {
        Ok(self.blob_held(partition, hash)?.is_complete())
    }

    /// What this store holds of a blob (nothing, a partial transfer, all of it).
    pub fn blob_held(&self, partition: &Partition, hash: &BlobHash) -> Result<Held, Error> {
        let p = partition.as_str();
        let hex = hash.to_hex();
        let size: Option<i64> = self
            .conn
            .prepare_cached("SELECT size FROM blobs WHERE partition = ?1 AND hash = ?2")?
            .query_row(params![p, hex], |r| r.get(0))
            .optional()?;
        if let Some(size) = size {
            return Ok(Held::Complete { size: size as u64 });
        }
        partial_held(&self.conn, p, &hex)
    }

    /// The verified blobs of `partition`, by hash.
    pub fn blobs(&self, partition: &Partition) -> Result<Vec<BlobInfo>, Error> {
        self.blob_list(
            "SELECT hash, size FROM blobs WHERE partition = ?1 ORDER BY hash",
            &[partition.as_str()],
        )
    }

    /// Blobs the index of `partition` names (records `blob-<sha256>`, from
    /// any device) that this store does not hold verified: what a pull fetches.
    pub fn missing_blobs(&self, partition: &Partition) -> Result<Vec<BlobInfo>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.record_id FROM records r WHERE r.partition = ?1
               AND r.record_id >= 'blob-' AND r.record_id < 'blob.'
               AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.partition = r.partition
                               AND b.hash = substr(r.record_id, 6))
             ORDER BY r.record_id",
        )?;
        let ids = stmt
            .query_map([partition.as_str()], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Ok(hash) = id[blob::INDEX_PREFIX.len()..].parse::<BlobHash>() else {
                continue;
            };
            // A malformed index record (another program's data) is skipped, not fatal.
            match self.get::<BlobIndex>(partition, &id) {
                Ok(Some(index)) if index.sha256 == hash.to_hex() => out.push(BlobInfo {
                    hash,
                    size: index.size,
                }),
                _ => tracing::warn!(partition = %partition, "malformed blob index record skipped"),
            }
        }
        Ok(out)
    }

    /// Verified blobs of `partition` that `peer` has not confirmed holding.
    pub fn blobs_unconfirmed(
        &self,
        peer: &str,
        partition: &Partition,
    ) -> Result<Vec<BlobInfo>, Error> {
        self.blob_list(
            "SELECT b.hash, b.size FROM blobs b WHERE b.partition = ?1
               AND NOT EXISTS (SELECT 1 FROM blob_peers c WHERE c.peer = ?2
                               AND c.partition = b.partition AND c.hash = b.hash)
             ORDER BY b.hash",
            &[partition.as_str(), peer],
        )
    }

    /// Record that `peer` holds these blobs (so they are not asked about again).
    pub fn confirm_blobs(
        &mut self,
        peer: &str,
        partition: &Partition,
        hashes: &[BlobHash],
    ) -> Result<(), Error> {
        let tx = self.conn.savepoint()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO blob_peers (peer, partition, hash) VALUES (?1, ?2, ?3)",
            )?;
            for hash in hashes {
                stmt.execute(params![peer, partition.as_str(), hash.to_hex()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Commit a received chunk of a blob declared `size` bytes long (see
    /// [`blob::accept_chunk`]): replays and overlaps add only their new
    /// tail; a chunk beyond the held offset is [`Error::BlobGap`]. When the
    /// last byte arrives the whole blob is hashed in the same transaction:
    /// on a match it becomes visible (and the partial is dropped); on a
    /// mismatch the partial is discarded and [`Error::BlobHashMismatch`]
    /// returned. Durable when it returns.
    pub fn append_blob_chunk(
        &mut self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Held, Error> {
        let p = partition.as_str();
        let hex = hash.to_hex();
        let held = self.blob_held(partition, hash)?;
        let tx = self.conn.savepoint()?;
        let skip = match blob::accept_chunk(held, size, offset, bytes.len())? {
            ChunkDecision::Duplicate => return Ok(held),
            ChunkDecision::Gap { held } => return Err(Error::BlobGap { held }),
            ChunkDecision::Append { skip } => skip,
            ChunkDecision::Restart => {
                tx.prepare_cached("DELETE FROM blob_parts WHERE partition = ?1 AND hash = ?2")?
                    .execute(params![p, hex])?;
                0
            }
        };
        let start = offset + skip as u64;
        let data = bytes.get(skip..).unwrap_or_default();
        if !data.is_empty() {
            tx.prepare_cached(
                "INSERT INTO blob_parts (partition, hash, size, offset, len, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![p, hex, size as i64, start as i64, data.len() as i64, data])?;
        }
        let now_held = start + data.len() as u64;
        if now_held < size {
            tx.commit()?;
            return Ok(Held::Partial {
                held: now_held,
                size,
            });
        }
        // Complete: verify, publish, drop the partial — one transaction.
        let mut whole = Vec::with_capacity(size as usize);
        {
            let mut stmt = tx.prepare_cached(
                "SELECT bytes FROM blob_parts WHERE partition = ?1 AND hash = ?2 ORDER BY offset",
            )?;
            let mut rows = stmt.query(params![p, hex])?;
            while let Some(row) = rows.next()? {
                let piece: Vec<u8> = row.get(0)?;
                whole.extend_from_slice(&piece);
            }
        }
        tx.prepare_cached("DELETE FROM blob_parts WHERE partition = ?1 AND hash = ?2")?
            .execute(params![p, hex])?;
        if whole.len() as u64 != size || BlobHash::of(&whole) != *hash {
            tx.commit()?;
            tracing::warn!(
                partition = p,
                "received blob does not match its hash; discarded"
            );
            return Err(Error::BlobHashMismatch);
        }
        insert_blob(&tx, p, hash, &whole)?;
        tx.commit()?;
        Ok(Held::Complete { size })
    }

    /// `len` bytes of a verified blob from `offset` (fewer at its end).
    pub fn blob_range(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT substr(bytes, ?3, ?4) FROM blobs WHERE partition = ?1 AND hash = ?2",
            )?
            .query_row(
                params![
                    partition.as_str(),
                    hash.to_hex(),
                    offset.saturating_add(1) as i64,
                    len.min(i64::MAX as u64) as i64
                ],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .map(Option::unwrap_or_default))
    }

    fn blob_list(&self, sql: &str, args: &[&str]) -> Result<Vec<BlobInfo>, Error> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hex, size) = row?;
            out.push(BlobInfo {
                hash: hex.parse()?,
                size: size as u64,
            });
        }
        Ok(out)
    }
}

impl BlobStore for Store {
    fn held(&self, partition: &Partition, hash: &BlobHash) -> Result<Held, Error> {
        self.blob_held(partition, hash)
    }
    fn append_chunk(
        &mut self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Held, Error> {
        self.append_blob_chunk(partition, hash, size, offset, bytes)
    }
    fn blob_range(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, Error> {
        Store::blob_range(self, partition, hash, offset, len)
    }
}

fn insert_blob(
    tx: &Connection,
    partition: &str,
    hash: &BlobHash,
    bytes: &[u8],
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO blobs (partition, hash, size, bytes, stored_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![partition, hash.to_hex(), bytes.len() as i64, bytes, now_ms()])?;
    // A transfer of the same blob still under way is no longer needed.
    tx.prepare_cached("DELETE FROM blob_parts WHERE partition = ?1 AND hash = ?2")?
        .execute(params![partition, hash.to_hex()])?;
    Ok(())
}

fn partial_held(conn: &Connection, partition: &str, hex: &str) -> Result<Held, Error> {
    let row: (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT MAX(size), MAX(offset + len) FROM blob_parts WHERE partition = ?1 AND hash = ?2",
        )?
        .query_row(params![partition, hex], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(match row {
        (Some(size), Some(held)) => Held::Partial {
            held: held as u64,
            size: size as u64,
        },
        _ => Held::Nothing,
    })
}

/// Result of [`Store::apply_entries`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Changes newly applied.
    pub applied: u64,
    /// Changes already held (harmless replays).
    pub duplicates: u64,
    /// Changes refused because an earlier change of their origin is missing.
    pub refused: u64,
    /// The store's vector for the partition afterwards.
    pub vector: Vector,
}

/// Entries grouped by record, records in order of first appearance, each
/// record's entries in their original order.
fn by_record<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<(&'a str, Vec<&'a Entry>)> {
    let mut groups: Vec<(&str, Vec<&Entry>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for entry in entries {
        let id = entry.record_id.as_str();
        let slot = *index.entry(id).or_insert_with(|| {
            groups.push((id, Vec::new()));
            groups.len() - 1
        });
        if let Some((_, list)) = groups.get_mut(slot) {
            list.push(entry);
        }
    }
    groups
}

/// Parse a received change and check it was made by the origin it claims.
fn parse_change(entry: &Entry) -> Result<Change, Error> {
    let change = Change::from_bytes(entry.change.clone()).map_err(|_| Error::BadChange)?;
    if change.actor_id().to_bytes() != entry.origin.0.as_slice() {
        return Err(Error::BadChange);
    }
    Ok(change)
}

/// Documents of new records built ahead of a write, where the CPU work
/// (parsing, applying and saving Automerge changes) can run in parallel and
/// outside the store's lock — the hub does this for every exchange before it
/// queues the exchange for its single writer. Only records whose changes
/// all parse, come from their stated origin and have no missing dependency
/// are prepared; anything else takes the ordinary path in the writer.
#[derive(Debug, Default)]
pub struct Prepared {
    docs: HashMap<(String, String), PreparedDoc>,
}

#[derive(Debug)]
struct PreparedDoc {
    /// (origin, seq) of the changes the document was built from, in order.
    built_from: Vec<(Origin, u64)>,
    bytes: Vec<u8>,
}

impl Prepared {
    /// Prepare the documents `entries` would create in `partition`.
    pub fn add(&mut self, partition: &Partition, entries: &[Entry]) {
        for (record_id, list) in by_record(entries) {
            let list = list.as_slice();
            let mut doc = AutoCommit::new();
            let built = list
                .iter()
                .try_for_each(|entry| -> Result<(), Error> {
                    doc.apply_changes([parse_change(entry)?])?;
                    Ok(())
                })
                .is_ok();
            if !built || !doc.get_missing_deps(&[]).is_empty() {
                continue;
            }
            self.docs.insert(
                (partition.as_str().to_owned(), record_id.to_owned()),
                PreparedDoc {
                    built_from: list.iter().map(|e| (e.origin.clone(), e.seq)).collect(),
                    bytes: doc.save_nocompress(),
                },
            );
        }
    }

    /// Number of documents prepared and not yet used.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Nothing prepared (or everything used).
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The prepared bytes of a record, if built from exactly `applied`.
    fn take_if_built_from(
        &mut self,
        partition: &str,
        record_id: &str,
        applied: &[&Entry],
    ) -> Option<Vec<u8>> {
        let key = (partition.to_owned(), record_id.to_owned());
        let same = self.docs.get(&key).is_some_and(|doc| {
            doc.built_from.len() == applied.len()
                && doc
                    .built_from
                    .iter()
                    .zip(applied)
                    .all(|((origin, seq), e)| *origin == e.origin && *seq == e.seq)
        });
        if same {
            self.docs.remove(&key).map(|doc| doc.bytes)
        } else {
            None
        }
    }
}

/// A store seen through [`ChangeLog`] with prepared documents at hand.
pub struct WithPrepared<'a> {
    /// The store written to.
    pub store: &'a mut Store,
    /// Documents prepared for this exchange (used ones are taken out).
    pub prepared: &'a mut Prepared,
}

impl ChangeLog for WithPrepared<'_> {
    fn partitions(&self) -> Result<Vec<Partition>, Error> {
        self.store.partitions()
    }
    fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Error> {
        self.store.partitions_under(prefix)
    }
    fn vector(&self, partition: &Partition) -> Result<Vector, Error> {
        self.store.vector(partition)
    }
    fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Error> {
        self.store.entries_after(partition, after, budget)
    }
    fn apply(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Error> {
        self.store
            .apply_entries_prepared(partition, entries, peer, Some(&mut *self.prepared))
    }
    fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Error> {
        self.store.peer_vector(peer, partition)
    }
    fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Error> {
        self.store.set_peer_vector(peer, partition, vector)
    }
}

impl ChangeLog for Store {
    fn partitions(&self) -> Result<Vec<Partition>, Error> {
        Store::partitions(self)
    }
    fn partitions_under(&self, prefix: &str) -> Result<Vec<Partition>, Error> {
        Store::partitions_under(self, prefix)
    }
    fn vector(&self, partition: &Partition) -> Result<Vector, Error> {
        Store::vector(self, partition)
    }
    fn entries_after(
        &self,
        partition: &Partition,
        after: &Vector,
        budget: usize,
    ) -> Result<(Vec<Entry>, bool), Error> {
        Store::entries_after(self, partition, after, budget)
    }
    fn apply(
        &mut self,
        partition: &Partition,
        entries: &[Entry],
        peer: Option<(&str, &Vector)>,
    ) -> Result<ApplyOutcome, Error> {
        self.apply_entries(partition, entries, peer)
    }
    fn peer_vector(&self, peer: &str, partition: &Partition) -> Result<Vector, Error> {
        Store::peer_vector(self, peer, partition)
    }
    fn set_peer_vector(
        &mut self,
        peer: &str,
        partition: &Partition,
        vector: &Vector,
    ) -> Result<(), Error> {
        Store::set_peer_vector(self, peer, partition, vector)
    }
}

fn edit_in(
    tx: &Connection,
    actor: &ActorId,
    partition: &Partition,
    record_id: &str,
    f: impl FnOnce(&mut AutoCommit) -> Result<(), Error>,
) -> Result<Saved, Error> {
    validate_record_id(record_id)?;
    let mut doc = load_doc_from(tx, partition.as_str(), record_id)?.unwrap_or_default();
    doc.set_actor(actor.clone());
    f(&mut doc)?;
    let time = now_ms();
    if doc
        .commit_with(CommitOptions::default().with_time(time))
        .is_none()
    {
        return Ok(Saved::Unchanged);
    }
    let Some(change) = doc.get_last_local_change() else {
        return Ok(Saved::Unchanged);
    };
    let origin = Origin(actor.to_bytes().to_vec());
    let seq = current_seq(tx, partition.as_str(), &origin)? + 1;
    insert_change(
        tx,
        partition.as_str(),
        &origin,
        seq,
        record_id,
        change.raw_bytes(),
    )?;
    save_doc(tx, partition.as_str(), record_id, &mut doc, time)?;
    Ok(Saved::Changed { seq })
}

fn validate_record_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidRecordId);
    }
    Ok(())
}

fn load_or_create_actor(conn: &Connection) -> Result<ActorId, Error> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(bytes) = existing {
        return Ok(ActorId::from(bytes));
    }
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Error::Random)?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('origin', ?1)",
        [bytes.to_vec()],
    )?;
    Ok(ActorId::from(bytes.to_vec()))
}

fn load_doc_from(
    conn: &Connection,
    partition: &str,
    record_id: &str,
) -> Result<Option<AutoCommit>, Error> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT doc FROM records WHERE partition = ?1 AND record_id = ?2")?
        .query_row(params![partition, record_id], |r| r.get(0))
        .optional()?;
    match bytes {
        None => Ok(None),
        Some(bytes) => Ok(Some(AutoCommit::load(&bytes)?)),
    }
}

/// Records are saved without DEFLATE: a dossier is about a kilobyte, the
/// compression gained little and cost a tenth of a hub's CPU under load.
fn save_doc(
    tx: &Connection,
    partition: &str,
    record_id: &str,
    doc: &mut AutoCommit,
    time: i64,
) -> Result<(), Error> {
    save_doc_bytes(tx, partition, record_id, &doc.save_nocompress(), time)
}

fn save_doc_bytes(
    tx: &Connection,
    partition: &str,
    record_id: &str,
    bytes: &[u8],
    time: i64,
) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO records (partition, record_id, doc, updated_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (partition, record_id) DO UPDATE SET doc = excluded.doc, updated_ms = excluded.updated_ms",
    )?
    .execute(params![partition, record_id, bytes, time])?;
    Ok(())
}

fn current_seq(tx: &Connection, partition: &str, origin: &Origin) -> Result<u64, Error> {
    let seq: Option<i64> = tx
        .prepare_cached("SELECT seq FROM cursors WHERE partition = ?1 AND origin = ?2")?
        .query_row(params![partition, origin.0], |r| r.get(0))
        .optional()?;
    Ok(seq.unwrap_or(0) as u64)
}

fn insert_change(
    tx: &Connection,
    partition: &str,
    origin: &Origin,
    seq: u64,
    record_id: &str,
    change: &[u8],
) -> Result<(), Error> {
    tx.prepare_cached("INSERT INTO changes (partition, origin, seq, record_id, change) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![partition, origin.0, seq as i64, record_id, change])?;
    tx.prepare_cached(
        "INSERT INTO cursors (partition, origin, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (partition, origin) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![partition, origin.0, seq as i64])?;
    Ok(())
}

fn read_vector(conn: &Connection, sql: &str, args: &[&str]) -> Result<Vector, Error> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        Ok((Origin(r.get::<_, Vec<u8>>(0)?), r.get::<_, i64>(1)? as u64))
    })?;
    let mut map = BTreeMap::new();
    for row in rows {
        let (origin, seq) = row?;
        map.insert(origin, seq);
    }
    Ok(Vector(map))
}

fn write_peer_vector(
    tx: &Connection,
    peer: &str,
    partition: &str,
    vector: &Vector,
) -> Result<(), Error> {
    tx.prepare_cached("DELETE FROM peer_cursors WHERE peer = ?1 AND partition = ?2")?
        .execute(params![peer, partition])?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO peer_cursors (peer, partition, origin, seq) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (origin, seq) in &vector.0 {
        stmt.execute(params![peer, partition, origin.0, *seq as i64])?;
    }
    Ok(())
}

/// Helpers for migration tests: build a store at an old schema version.
#[doc(hidden)]
pub mod testing {
    use super::*;

    /// Create an encrypted store migrated only up to `version`.
    pub fn create_at_version(db_path: &Path, key_path: &Path, version: usize) -> Result<(), Error> {
        let mut conn = open_encrypted(db_path, key_path)?;
        migrate(&mut conn, &MIGRATIONS[..version.min(MIGRATIONS.len())])?;
        load_or_create_actor(&conn)?;
        Ok(())
    }

    /// The schema version in the file.
    pub fn schema_version(db_path: &Path, key_path: &Path) -> Result<u32, Error> {
        let conn = open_encrypted(db_path, key_path)?;
        Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Overwrite the schema version (to simulate a store from newer code).
    pub fn set_schema_version(db_path: &Path, key_path: &Path, version: u32) -> Result<(), Error> {
        let conn = open_encrypted(db_path, key_path)?;
        conn.pragma_update(None, "user_version", version)?;
        Ok(())
    }
}
