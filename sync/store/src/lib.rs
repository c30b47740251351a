//! # Xã Số store
//!
//! The encrypted offline store: SQLCipher (SQLite WAL, 8 KiB pages) holding one
//! Automerge document per record and a per-partition, per-origin change log.
//! One per device, and one inside a hub that uses SQLite. It implements the
//! sync core's storage traits ([`ChangeLog`], [`BlobStore`]), so the protocol
//! and blob rules of `xaso-sync-core` run against it unchanged.
//!
//! It is also the one place that opens an encrypted database ([`db`]): the
//! hub's registry and the kiosk's drafts use [`db::open_encrypted`] with a key
//! from the device secret ([`DatabaseKey`]).
//!
//! Tables (schema version [`SCHEMA_VERSION`]):
//! - `meta`: this store's origin (Automerge actor id).
//! - `records`: the saved Automerge document of each `(partition, record_id)`,
//!   with `change_seq`, the value of the store's change counter when it was
//!   last written (local edits and applied remote changes alike): the change
//!   feed that indexes follow ([`Store::records_changed_since`]).
//! - `changes`: every Automerge change the store holds, keyed by
//!   `(partition, origin, seq)`; `local_seq` is the order it was inserted here,
//!   which is always a causal order.
//! - `cursors`: this store's own version vector per partition: for each origin
//!   the highest `seq` it holds (it always holds the whole prefix `1..=seq`).
//! - `peer_cursors`: the last vector a peer (the hub) confirmed it holds.
//! - `blobs`: verified attachments by `(partition, sha256)`; `blob_parts`:
//!   incomplete transfers (contiguous chunks from offset 0); `blob_peers`:
//!   blobs a peer confirmed it holds (see [`xaso_sync_core::blob`]).
//!
//! Every write runs in one SQLite transaction with `synchronous = FULL`: when
//! a method returns `Ok`, the data survives a power cut.

mod blobs;
pub mod db;
mod error;
mod key;
mod log;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use automerge::{ActorId, AutoCommit, transaction::CommitOptions};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Serialize, de::DeserializeOwned};
use xaso_sync_core::changes::{Prepared, by_record, parse_change, validate_record_id};
use xaso_sync_core::mapping::{self, Conflict, PathSegment};
use xaso_sync_core::{ApplyOutcome, Entry, Origin, Partition, Vector};

pub use error::Error;
pub use key::{DatabaseKey, KEY_LEN, create_key_file, ensure_key_file, read_key_file};
pub use log::WithPrepared;

/// The schema version this code writes. Older stores are migrated on open.
pub const SCHEMA_VERSION: u32 = 4;

/// Schema migrations; `MIGRATIONS[i]` moves a store from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
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
    // v4: the change feed. Every write of a record takes the next value of
    // the store's counter (`meta.change_seq`); existing records are numbered
    // in the order they were last written.
    "ALTER TABLE records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
     UPDATE records SET change_seq = numbered.n
        FROM (SELECT partition AS p, record_id AS r,
                     row_number() OVER (ORDER BY updated_ms, partition, record_id) AS n
              FROM records) AS numbered
        WHERE records.partition = numbered.p AND records.record_id = numbered.r;
     CREATE INDEX records_by_change ON records (change_seq);
     INSERT INTO meta (key, value)
        VALUES ('change_seq', (SELECT COALESCE(MAX(change_seq), 0) FROM records));",
];

/// Prepared statements kept per connection. The store has some thirty
/// distinct statements and a sync with attachments uses about twenty;
/// with rusqlite's default of 16 they could evict each other and be
/// compiled again on each sync.
const STATEMENT_CACHE: usize = 64;

/// Milliseconds since the Unix epoch (when a record was last written; never
/// part of what syncs).
fn now_ms() -> i64 {
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

/// A record written since some point of the change feed
/// ([`Store::records_changed_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedRecord {
    /// Its partition.
    pub partition: Partition,
    /// Its id within the partition.
    pub record_id: String,
    /// The feed position of its latest write: strictly increasing over the
    /// store's writes, never reused. Pass the last one seen as `after`.
    pub seq: u64,
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
        let key = DatabaseKey::from_key_file(key_path)?;
        let mut conn = db::open_encrypted(db_path, &key, db::PageSize::Large)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        db::migrate(&mut conn, MIGRATIONS)?;
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
        db::migrate(&mut conn, MIGRATIONS)?;
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
        let json = serde_json::to_value(value).map_err(xaso_sync_core::Error::Serialize)?;
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
            .map_err(|e| xaso_sync_core::Error::Deserialize(e).into())
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
        Ok(Some(mapping::hydrate(&doc)?))
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
        Ok(names
            .into_iter()
            .map(Partition::new)
            .collect::<Result<_, _>>()?)
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
        Ok(names
            .into_iter()
            .map(Partition::new)
            .collect::<Result<_, _>>()?)
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
        Ok(mapping::conflicts(&mut doc)?)
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

    /// Records written (created or changed, locally or by applying a peer's
    /// changes) after feed position `after`, oldest write first, at most
    /// `limit`. A record written several times appears once, at its latest
    /// position, so an index that remembers the last `seq` it processed and
    /// asks again from there sees every record's newest state. Start with 0.
    pub fn records_changed_since(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ChangedRecord>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT partition, record_id, change_seq FROM records
             WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after as i64, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (partition, record_id, seq) = row?;
            out.push(ChangedRecord {
                partition: Partition::new(partition)?,
                record_id,
                seq: seq as u64,
            });
        }
        Ok(out)
    }

    /// The feed position of the latest write (0 for an empty store).
    pub fn last_change_seq(&self) -> Result<u64, Error> {
        let seq: i64 = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'change_seq'")?
            .query_row([], |r| r.get(0))?;
        Ok(seq as u64)
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
        f: impl FnOnce(&mut AutoCommit) -> Result<(), xaso_sync_core::Error>,
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
            let json = serde_json::to_value(&value).map_err(xaso_sync_core::Error::Serialize)?;
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
            let entry_size = entry.page_cost();
            if !out.is_empty() && size + entry_size > budget {
                return Ok((out, true));
            }
            size += entry_size;
            out.push(entry);
        }
        Ok((out, false))
    }
}

pub(crate) fn edit_in(
    tx: &Connection,
    actor: &ActorId,
    partition: &Partition,
    record_id: &str,
    f: impl FnOnce(&mut AutoCommit) -> Result<(), xaso_sync_core::Error>,
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
    let change_seq: i64 = tx
        .prepare_cached(
            "UPDATE meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value",
        )?
        .query_row([], |r| r.get(0))?;
    tx.prepare_cached(
        "INSERT INTO records (partition, record_id, doc, updated_ms, change_seq) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (partition, record_id) DO UPDATE SET doc = excluded.doc,
            updated_ms = excluded.updated_ms, change_seq = excluded.change_seq",
    )?
    .execute(params![partition, record_id, bytes, time, change_seq])?;
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

    fn open(db_path: &Path, key_path: &Path) -> Result<Connection, Error> {
        let key = DatabaseKey::from_key_file(key_path)?;
        db::open_encrypted(db_path, &key, db::PageSize::Large)
    }

    /// Create an encrypted store migrated only up to `version`.
    pub fn create_at_version(db_path: &Path, key_path: &Path, version: usize) -> Result<(), Error> {
        let mut conn = open(db_path, key_path)?;
        db::migrate(&mut conn, &MIGRATIONS[..version.min(MIGRATIONS.len())])?;
        load_or_create_actor(&conn)?;
        Ok(())
    }

    /// Insert a record row as a store of schema 3 holds it (no feed
    /// position), written at `updated_ms`, with an empty document.
    pub fn insert_v3_record(
        db_path: &Path,
        key_path: &Path,
        partition: &str,
        record_id: &str,
        updated_ms: i64,
    ) -> Result<(), Error> {
        let conn = open(db_path, key_path)?;
        conn.execute(
            "INSERT INTO records (partition, record_id, doc, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            params![partition, record_id, AutoCommit::new().save(), updated_ms],
        )?;
        Ok(())
    }

    /// The schema version in the file.
    pub fn schema_version(db_path: &Path, key_path: &Path) -> Result<u32, Error> {
        let conn = open(db_path, key_path)?;
        Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Overwrite the schema version (to simulate a store from newer code).
    pub fn set_schema_version(db_path: &Path, key_path: &Path, version: u32) -> Result<(), Error> {
        let conn = open(db_path, key_path)?;
        conn.pragma_update(None, "user_version", version)?;
        Ok(())
    }
}
