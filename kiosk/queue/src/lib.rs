//! # Xã Số officer queue
//!
//! An officer's tablet holds every dossier of its commune (tens of
//! thousands, synced from the hub into the record store). Reading them back
//! from the store for each screen would mean loading and decoding every
//! Automerge document; this crate keeps a **queue index** beside the store
//! instead, in its own encrypted SQLite file, and answers the queue screen,
//! its counters and the search box from it in milliseconds. The index is
//! derived data: it can always be deleted and rebuilt from the store.
//!
//! ## Model
//!
//! - One **row** per dossier record (`dossier-*` in any partition of the
//!   store): tracking code, procedure, state, channel, whether two decisions
//!   conflict ([`xaso_services::Dossier::decision_conflict`]), the date the
//!   processing clock started ([`processing_start`]: the `received` audit
//!   entry, before it the submission), the **due date** (the catalog's
//!   working days from that date, weekends and public holidays skipped:
//!   [`Holidays::due_date`]), the applicant's name and ID number (the
//!   tablet's files are encrypted), the time of the last update.
//! - Two FTS5 tables for the search box: applicant names **folded**
//!   ([`xaso_i18n::fold`]: no accents, lower case, `đ` → `d`) matched word by
//!   word as prefixes ("nguyen van" finds "Nguyễn Văn An"); ID numbers and
//!   tracking codes as trigrams, so any three or more consecutive characters
//!   find them ("2345" finds 079012345678).
//! - A **cursor**: the last position of the store's change feed
//!   ([`Store::records_changed_since`]) taken in, and the store's origin (an
//!   index built from another store starts again from the beginning).
//!
//! ## Loop
//!
//! After every sync (and every local write), call [`QueueIndex::catch_up`]:
//! it reads the feed from the cursor in batches, re-reads each changed
//! dossier and updates its row; each batch commits with its cursor, so a
//! crash between batches loses nothing and a restart resumes where it
//! stopped. Records of other kinds (ratings, the tracking-code minter,
//! attachment indexes) only move the cursor. Then [`QueueIndex::page`],
//! [`QueueIndex::counts`] and [`QueueIndex::search`] answer the screens.
//! "Today" is always an argument: nothing here reads a clock.
//!
//! ## Order
//!
//! Dossiers with conflicting decisions first (an officer must keep one),
//! then by due date — so overdue, then due today, then the rest —, then the
//! oldest first; dossiers of procedures the catalog does not know (no due
//! date) last. Final states (returned, withdrawn) and drafts are not in the
//! default queue; filtering on a state shows them.

mod error;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use xaso_services::calendar::Holidays;
use xaso_services::catalog::Catalog;
use xaso_services::dossier::{Channel, Dossier, DossierState};
use xaso_sync_core::Partition;
use xaso_sync_store::{DatabaseKey, Store, db};

pub use error::Error;

/// The purpose string with which the index's key is derived from the device
/// secret ([`DatabaseKey::derive`]).
pub const KEY_PURPOSE: &str = "xaso-queue-index";

/// Record ids of dossiers in the store start with this.
pub const DOSSIER_PREFIX: &str = "dossier-";

/// How many feed entries one catch-up batch takes (one transaction each).
pub const BATCH: usize = 2_000;

/// Sort key of a dossier without a due date (a procedure the catalog does
/// not know): after every real date.
const NO_DUE: &str = "9999-12-31";

/// Schema migrations of the index file (append only).
const MIGRATIONS: &[&str] = &[
    // v1: rows, the indexes serving the queue orders, the search tables.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
     CREATE TABLE rows (
        id INTEGER PRIMARY KEY,
        partition TEXT NOT NULL,
        record_id TEXT NOT NULL,
        commune TEXT NOT NULL,
        tracking_code TEXT NOT NULL,
        procedure TEXT NOT NULL,
        state TEXT NOT NULL,
        open INTEGER NOT NULL,
        channel TEXT NOT NULL,
        conflict INTEGER NOT NULL,
        received TEXT NOT NULL,
        due TEXT NOT NULL,
        full_name TEXT NOT NULL,
        id_number TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        UNIQUE (partition, record_id));
     CREATE INDEX rows_queue ON rows (open, conflict DESC, due, received, id);
     CREATE INDEX rows_by_state ON rows (state, conflict DESC, due, received, id);
     CREATE INDEX rows_by_procedure ON rows (procedure, open, conflict DESC, due, received, id);
     CREATE INDEX rows_by_received ON rows (received, channel);
     CREATE VIRTUAL TABLE names USING fts5 (
        name, content = '', contentless_delete = 1, prefix = '2 3');
     CREATE VIRTUAL TABLE codes USING fts5 (
        id_number, tracking_code, content = '', contentless_delete = 1, tokenize = 'trigram');",
];

/// What [`QueueIndex::catch_up`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Dossier rows written (new or updated).
    pub indexed: u64,
    /// Rows removed (the record is gone or no longer reads as a dossier).
    pub removed: u64,
    /// Changed records that are not dossiers (ratings, blob indexes…), passed over.
    pub skipped: u64,
    /// The feed position now taken in.
    pub cursor: u64,
}

/// Which dossiers a queue page shows. The default is the open queue: every
/// dossier neither in a final state nor a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only this state (final states included when asked for).
    pub state: Option<DossierState>,
    /// Only this procedure (catalog code).
    pub procedure: Option<String>,
    /// Only dossiers that came in through this channel.
    pub channel: Option<Channel>,
    /// Only dossiers of this urgency on the day passed to
    /// [`QueueIndex::page`]. [`Urgency::Overdue`] and [`Urgency::DueToday`]
    /// include conflicting dossiers with that due date.
    pub urgency: Option<Urgency>,
    /// Only this commune (for a tablet serving several).
    pub commune: Option<String>,
}

/// How urgent a dossier is on a given day (the badge the queue shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Two decisions conflict: an officer must keep one.
    Conflict,
    /// Past its due date.
    Overdue,
    /// Due today.
    DueToday,
    /// Due later, or no due date known.
    Later,
    /// In a final state: nothing is due.
    Closed,
}

/// One dossier as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// Partition of the record (`<commune>/kiosk/<device>` for a kiosk's).
    pub partition: Partition,
    /// Record id (`dossier-<tracking code>`).
    pub record_id: String,
    /// Tracking code as shown (`27280-261123-A70K3-42`); empty if none was minted.
    pub tracking_code: String,
    /// Procedure code.
    pub procedure: String,
    /// Current state.
    pub state: DossierState,
    /// How it came in.
    pub channel: Channel,
    /// Two decisions conflict.
    pub conflict: bool,
    /// The date the processing clock started ([`processing_start`]).
    pub received: Date,
    /// The due date (none when the catalog does not know the procedure).
    pub due: Option<Date>,
    /// Applicant's name as entered.
    pub full_name: String,
    /// Applicant's ID number.
    pub id_number: String,
    /// Last update of the dossier.
    pub updated_at: Timestamp,
}

impl QueueRow {
    /// How urgent the dossier is on `today`.
    pub fn urgency(&self, today: Date) -> Urgency {
        if self.state.is_final() {
            Urgency::Closed
        } else if self.conflict {
            Urgency::Conflict
        } else {
            match self.due {
                Some(due) if due < today => Urgency::Overdue,
                Some(due) if due == today => Urgency::DueToday,
                _ => Urgency::Later,
            }
        }
    }
}

/// The figures above the queue on a given day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Dossiers in the open queue.
    pub open: u64,
    /// Open dossiers past their due date.
    pub overdue: u64,
    /// Open dossiers due today.
    pub due_today: u64,
    /// Open dossiers with conflicting decisions.
    pub conflicts: u64,
    /// Every dossier by state (final states included).
    pub by_state: BTreeMap<DossierState, u64>,
    /// Open dossiers by procedure code.
    pub by_procedure: BTreeMap<String, u64>,
    /// Dossiers whose clock started this month (from the first of `today`'s
    /// month to `today`), by channel.
    pub by_channel_this_month: Vec<(Channel, u64)>,
}

/// The queue index: one encrypted SQLite file per tablet (or in memory).
pub struct QueueIndex {
    conn: Connection,
}

impl std::fmt::Debug for QueueIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueIndex").finish_non_exhaustive()
    }
}

const ROW_COLUMNS: &str = "partition, record_id, tracking_code, procedure, state, channel, \
    conflict, received, due, full_name, id_number, updated_ms";

impl QueueIndex {
    /// Open (or create) the index at `path`, encrypted with the key derived
    /// from the device secret `device_key` for [`KEY_PURPOSE`].
    pub fn open(path: &Path, device_key: &DatabaseKey) -> Result<QueueIndex, Error> {
        let key = device_key.derive(KEY_PURPOSE);
        let conn = db::open_encrypted(path, &key, db::PageSize::Default).map_err(Error::opening)?;
        QueueIndex::init(conn)
    }

    /// Open the index at `path` with the device secret in `key_path` (the
    /// record store's key file).
    pub fn open_for_device(path: &Path, key_path: &Path) -> Result<QueueIndex, Error> {
        let key = DatabaseKey::from_key_file(key_path).map_err(Error::opening)?;
        QueueIndex::open(path, &key)
    }

    /// An index in memory (not encrypted, not durable): for tests.
    pub fn open_in_memory() -> Result<QueueIndex, Error> {
        QueueIndex::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<QueueIndex, Error> {
        db::migrate(&mut conn, MIGRATIONS).map_err(Error::opening)?;
        // The working set of 100,000 dossiers (rows, their indexes, the
        // search tables) is some tens of MiB: keep the hot part decrypted.
        conn.pragma_update(None, "cache_size", -32 * 1024)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(QueueIndex { conn })
    }

    /// The feed position of the record store taken in so far.
    pub fn cursor(&self) -> Result<u64, Error> {
        let value: Option<i64> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'cursor'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(value.map_or(0, |v| v as u64))
    }

    /// Number of dossier rows.
    pub fn len(&self) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Whether the index holds no dossier.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// Forget everything (after the catalog's processing times or the
    /// holidays changed): the next [`catch_up`](Self::catch_up) rebuilds the
    /// index from the whole store.
    pub fn reset(&mut self) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM rows; DELETE FROM names; DELETE FROM codes; DELETE FROM meta;",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Take in everything the store wrote since the cursor, in batches of
    /// [`BATCH`] feed entries, each committed with its cursor.
    pub fn catch_up(
        &mut self,
        store: &Store,
        catalog: &Catalog,
        holidays: &Holidays,
    ) -> Result<CatchUp, Error> {
        let mut total = CatchUp {
            cursor: self.cursor()?,
            ..CatchUp::default()
        };
        loop {
            let batch = self.catch_up_batch(store, catalog, holidays, BATCH)?;
            let moved = batch.cursor != total.cursor;
            total.indexed += batch.indexed;
            total.removed += batch.removed;
            total.skipped += batch.skipped;
            total.cursor = batch.cursor;
            if !moved {
                break;
            }
        }
        tracing::debug!(
            indexed = total.indexed,
            removed = total.removed,
            cursor = total.cursor,
            "queue index caught up"
        );
        Ok(total)
    }

    /// Take in at most `limit` feed entries after the cursor, in one
    /// transaction (for a caller that yields between batches).
    pub fn catch_up_batch(
        &mut self,
        store: &Store,
        catalog: &Catalog,
        holidays: &Holidays,
        limit: usize,
    ) -> Result<CatchUp, Error> {
        self.start_again_if_another_store(store)?;
        let cursor = self.cursor()?;
        let changed = store
            .records_changed_since(cursor, limit)
            .map_err(Error::Store)?;
        let mut out = CatchUp {
            cursor,
            ..CatchUp::default()
        };
        if changed.is_empty() {
            return Ok(out);
        }
        let tx = self.conn.transaction()?;
        for record in &changed {
            out.cursor = out.cursor.max(record.seq);
            if !record.record_id.starts_with(DOSSIER_PREFIX) {
                out.skipped += 1;
                continue;
            }
            let dossier = match store.get::<Dossier>(&record.partition, &record.record_id) {
                Ok(found) => found,
                Err(e) if matches!(e.core(), Some(xaso_sync_core::Error::Deserialize(_))) => {
                    // Written by a newer version, or damaged: not in the queue.
                    tracing::warn!("a dossier record does not read as a dossier; not in the queue");
                    None
                }
                Err(e) => return Err(Error::Store(e)),
            };
            match dossier {
                Some(dossier) => {
                    let row = IndexedRow::of(&dossier, catalog, holidays);
                    upsert(&tx, &record.partition, &record.record_id, &row)?;
                    out.indexed += 1;
                }
                None => {
                    if remove(&tx, &record.partition, &record.record_id)? {
                        out.removed += 1;
                    }
                }
            }
        }
        write_meta(&tx, "cursor", &(out.cursor as i64))?;
        tx.commit()?;
        Ok(out)
    }

    /// An index built from another store (a reinstalled tablet, a restored
    /// backup) or ahead of this one starts again from the beginning.
    fn start_again_if_another_store(&mut self, store: &Store) -> Result<(), Error> {
        let origin = store.origin().0;
        let known: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'origin'")?
            .query_row([], |r| r.get(0))
            .optional()?;
        let last = store.last_change_seq().map_err(Error::Store)?;
        if known.as_deref() == Some(origin.as_slice()) && self.cursor()? <= last {
            return Ok(());
        }
        if known.is_some() {
            tracing::info!("the queue index was built from another store; rebuilding it");
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch("DELETE FROM rows; DELETE FROM names; DELETE FROM codes;")?;
        write_meta(&tx, "origin", &origin)?;
        write_meta(&tx, "cursor", &0i64)?;
        tx.commit()?;
        Ok(())
    }

    /// Rows `offset..offset + limit` of the queue that `filter` selects on
    /// `today`, in queue order: conflicts, then by due date (so overdue, then
    /// due today), then oldest; no due date last.
    pub fn page(
        &self,
        filter: &QueueFilter,
        today: Date,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<QueueRow>, Error> {
        let mut sql = format!("SELECT {ROW_COLUMNS} FROM rows WHERE ");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        match filter.state {
            Some(state) => {
                sql.push_str("state = ?");
                args.push(state_name(state).to_owned().into());
            }
            None => sql.push_str("open = 1"),
        }
        if let Some(procedure) = &filter.procedure {
            sql.push_str(" AND procedure = ?");
            args.push(procedure.clone().into());
        }
        if let Some(channel) = filter.channel {
            sql.push_str(" AND channel = ?");
            args.push(channel_name(channel).to_owned().into());
        }
        if let Some(commune) = &filter.commune {
            sql.push_str(" AND commune = ?");
            args.push(commune.clone().into());
        }
        match filter.urgency {
            None => {}
            Some(Urgency::Conflict) => sql.push_str(" AND conflict = 1"),
            Some(Urgency::Closed) => sql.push_str(" AND open = 0"),
            Some(urgency) => {
                sql.push_str(match urgency {
                    Urgency::Overdue => " AND due < ?",
                    Urgency::DueToday => " AND due = ?",
                    _ => " AND due > ?",
                });
                args.push(today.to_string().into());
            }
        }
        sql.push_str(" ORDER BY conflict DESC, due, received, id LIMIT ? OFFSET ?");
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        args.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), RawRow::read)?;
        rows.map(|r| r.map_err(Error::from).and_then(RawRow::into_row))
            .collect()
    }

    /// The counters above the queue on `today`.
    pub fn counts(&self, today: Date) -> Result<QueueCounts, Error> {
        let today_text = today.to_string();
        let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<u64, Error> {
            let n: i64 = self
                .conn
                .prepare_cached(sql)?
                .query_row(args, |r| r.get(0))?;
            Ok(n as u64)
        };
        // Each count split by the conflict flag is a range of the queue index.
        let by_due = |op: &str| -> Result<u64, Error> {
            let mut n = 0;
            for conflict in [0, 1] {
                n += count(
                    &format!(
                        "SELECT count(*) FROM rows WHERE open = 1 AND conflict = {conflict} AND due {op} ?1"
                    ),
                    &[&today_text],
                )?;
            }
            Ok(n)
        };
        let mut counts = QueueCounts {
            open: count("SELECT count(*) FROM rows WHERE open = 1", &[])?,
            overdue: by_due("<")?,
            due_today: by_due("=")?,
            conflicts: count(
                "SELECT count(*) FROM rows WHERE open = 1 AND conflict = 1",
                &[],
            )?,
            ..QueueCounts::default()
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT state, count(*) FROM rows GROUP BY state")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (state, n) = row?;
            counts.by_state.insert(parse_state(&state)?, n as u64);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT procedure, count(*) FROM rows WHERE open = 1 GROUP BY procedure",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (procedure, n) = row?;
            counts.by_procedure.insert(procedure, n as u64);
        }
        let first = today.first_of_month().to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT channel, count(*) FROM rows WHERE received >= ?1 AND received <= ?2
             GROUP BY channel ORDER BY channel",
        )?;
        for row in stmt.query_map(params![first, today_text], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })? {
            let (channel, n) = row?;
            counts
                .by_channel_this_month
                .push((parse_channel(&channel)?, n as u64));
        }
        Ok(counts)
    }

    /// Dossiers whose applicant's name has words starting with the words of
    /// `text` (accents and case ignored), or whose ID number or tracking code
    /// contains `text` (three characters or more with a digit; spaces and
    /// dashes ignored). At most `limit`: first the names where the words
    /// follow one another ("nguyen van" → "Nguyễn Văn An") and the ID numbers
    /// and codes, then names holding the words elsewhere ("Nguyễn Thị Vân");
    /// each group in queue order, closed dossiers last. Each group takes the
    /// most recently indexed matches, so the time does not grow with the
    /// number of matches.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<QueueRow>, Error> {
        let folded = xaso_i18n::fold(text);
        let words: Vec<&str> = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // The words hold only letters and digits: quoted, they stay literal.
        let prefixes: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
        let compact: String = words.concat();
        let code = (compact.chars().count() >= 3 && compact.chars().any(|c| c.is_ascii_digit()))
            .then(|| format!("\"{compact}\""));

        let mut ranked: Vec<(u8, i64)> = Vec::new();
        let mut take = |rank: u8, sql: &str, query: &str| -> Result<(), Error> {
            let left = limit.saturating_sub(ranked.len());
            if left == 0 {
                return Ok(());
            }
            let mut stmt = self.conn.prepare_cached(sql)?;
            let ids = stmt.query_map(
                params![query, i64::try_from(left).unwrap_or(i64::MAX)],
                |r| r.get::<_, i64>(0),
            )?;
            for id in ids {
                let id = id?;
                if !ranked.iter().any(|(_, seen)| *seen == id) {
                    ranked.push((rank, id));
                }
            }
            Ok(())
        };
        const NAMES: &str =
            "SELECT rowid FROM names WHERE names MATCH ?1 ORDER BY rowid DESC LIMIT ?2";
        const CODES: &str =
            "SELECT rowid FROM codes WHERE codes MATCH ?1 ORDER BY rowid DESC LIMIT ?2";
        if let Some(code) = &code {
            take(0, CODES, code)?;
        }
        take(0, NAMES, &prefixes.join(" + "))?;
        if words.len() > 1 {
            take(1, NAMES, &prefixes.join(" AND "))?;
        }

        let mut found = Vec::with_capacity(ranked.len());
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM rows WHERE id = ?1"))?;
        for (rank, id) in ranked {
            if let Some(raw) = stmt.query_row([id], RawRow::read).optional()? {
                found.push((rank, raw.into_row()?));
            }
        }
        found.sort_by_key(|(rank, r)| {
            (
                *rank,
                r.state.is_final(),
                !r.conflict,
                r.due.is_none(),
                r.due,
                r.received,
            )
        });
        Ok(found.into_iter().map(|(_, row)| row).collect())
    }
}

/// The date the processing clock starts ([`Dossier::processing_start`]).
pub fn processing_start(dossier: &Dossier) -> Date {
    dossier.processing_start()
}

/// What the index keeps of a dossier.
struct IndexedRow<'a> {
    tracking_code: String,
    procedure: &'a str,
    state: DossierState,
    channel: Channel,
    conflict: bool,
    received: Date,
    due: Option<Date>,
    full_name: &'a str,
    id_number: &'a str,
    updated_ms: i64,
}

impl<'a> IndexedRow<'a> {
    fn of(dossier: &'a Dossier, catalog: &Catalog, holidays: &Holidays) -> IndexedRow<'a> {
        let received = processing_start(dossier);
        let due = catalog
            .procedure(dossier.procedure.as_str())
            .map(|p| holidays.due_date(received, p.processing_days));
        IndexedRow {
            tracking_code: dossier.code().unwrap_or_default(),
            procedure: dossier.procedure.as_str(),
            state: dossier.state(),
            channel: dossier.channel,
            conflict: dossier.decision_conflict().is_some(),
            received,
            due,
            full_name: &dossier.applicant.full_name,
            id_number: &dossier.applicant.id_number,
            updated_ms: dossier.updated_at.as_millisecond(),
        }
    }
}

/// Add or replace a dossier's row and its search entries.
fn upsert(
    tx: &Transaction<'_>,
    partition: &Partition,
    record_id: &str,
    row: &IndexedRow<'_>,
) -> Result<(), Error> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT id FROM rows WHERE partition = ?1 AND record_id = ?2")?
        .query_row(params![partition.as_str(), record_id], |r| r.get(0))
        .optional()?;
    let open = !row.state.is_final() && row.state != DossierState::Draft;
    let due = row.due.map_or_else(|| NO_DUE.to_owned(), |d| d.to_string());
    let values = params![
        partition.as_str(),
        record_id,
        partition.commune(),
        row.tracking_code,
        row.procedure,
        state_name(row.state),
        open,
        channel_name(row.channel),
        row.conflict,
        row.received.to_string(),
        due,
        row.full_name,
        row.id_number,
        row.updated_ms,
    ];
    let id = match existing {
        Some(id) => {
            tx.prepare_cached(
                "UPDATE rows SET commune = ?3, tracking_code = ?4, procedure = ?5, state = ?6,
                    open = ?7, channel = ?8, conflict = ?9, received = ?10, due = ?11,
                    full_name = ?12, id_number = ?13, updated_ms = ?14
                 WHERE partition = ?1 AND record_id = ?2",
            )?
            .execute(values)?;
            tx.prepare_cached("DELETE FROM names WHERE rowid = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM codes WHERE rowid = ?1")?
                .execute([id])?;
            id
        }
        None => tx
            .prepare_cached(
                "INSERT INTO rows (partition, record_id, commune, tracking_code, procedure, state,
                    open, channel, conflict, received, due, full_name, id_number, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 RETURNING id",
            )?
            .query_row(values, |r| r.get(0))?,
    };
    tx.prepare_cached("INSERT INTO names (rowid, name) VALUES (?1, ?2)")?
        .execute(params![id, xaso_i18n::fold(row.full_name)])?;
    tx.prepare_cached("INSERT INTO codes (rowid, id_number, tracking_code) VALUES (?1, ?2, ?3)")?
        .execute(params![
            id,
            row.id_number,
            // letters and digits only, as a search compacts what is typed ("79001-2612…",
            // or a platform code with dots)
            row.tracking_code
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        ])?;
    Ok(())
}

/// Take a record's row out of the index; whether there was one.
fn remove(tx: &Transaction<'_>, partition: &Partition, record_id: &str) -> Result<bool, Error> {
    let existing: Option<i64> = tx
        .prepare_cached("DELETE FROM rows WHERE partition = ?1 AND record_id = ?2 RETURNING id")?
        .query_row(params![partition.as_str(), record_id], |r| r.get(0))
        .optional()?;
    let Some(id) = existing else {
        return Ok(false);
    };
    tx.prepare_cached("DELETE FROM names WHERE rowid = ?1")?
        .execute([id])?;
    tx.prepare_cached("DELETE FROM codes WHERE rowid = ?1")?
        .execute([id])?;
    Ok(true)
}

fn write_meta(tx: &Transaction<'_>, key: &str, value: &dyn rusqlite::ToSql) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// A row as read, before its text columns are parsed.
struct RawRow {
    partition: String,
    record_id: String,
    tracking_code: String,
    procedure: String,
    state: String,
    channel: String,
    conflict: bool,
    received: String,
    due: String,
    full_name: String,
    id_number: String,
    updated_ms: i64,
}

impl RawRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            partition: r.get(0)?,
            record_id: r.get(1)?,
            tracking_code: r.get(2)?,
            procedure: r.get(3)?,
            state: r.get(4)?,
            channel: r.get(5)?,
            conflict: r.get(6)?,
            received: r.get(7)?,
            due: r.get(8)?,
            full_name: r.get(9)?,
            id_number: r.get(10)?,
            updated_ms: r.get(11)?,
        })
    }

    fn into_row(self) -> Result<QueueRow, Error> {
        let date = |text: &str, what| text.parse::<Date>().map_err(|_| Error::Unreadable { what });
        Ok(QueueRow {
            partition: Partition::new(self.partition)
                .map_err(|_| Error::Unreadable { what: "partition" })?,
            record_id: self.record_id,
            tracking_code: self.tracking_code,
            procedure: self.procedure,
            state: parse_state(&self.state)?,
            channel: parse_channel(&self.channel)?,
            conflict: self.conflict,
            received: date(&self.received, "received date")?,
            due: if self.due == NO_DUE {
                None
            } else {
                Some(date(&self.due, "due date")?)
            },
            full_name: self.full_name,
            id_number: self.id_number,
            updated_at: Timestamp::from_millisecond(self.updated_ms).map_err(|_| {
                Error::Unreadable {
                    what: "update time",
                }
            })?,
        })
    }
}

/// The state's name in the index (its translation key without `state.`).
fn state_name(state: DossierState) -> &'static str {
    let key = state.key();
    key.strip_prefix("state.").unwrap_or(key)
}

fn parse_state(name: &str) -> Result<DossierState, Error> {
    DossierState::ALL
        .into_iter()
        .find(|s| state_name(*s) == name)
        .ok_or(Error::Unreadable { what: "state" })
}

const CHANNELS: [(Channel, &str); 4] = [
    (Channel::Kiosk, "kiosk"),
    (Channel::Helper, "helper"),
    (Channel::Officer, "officer"),
    (Channel::Online, "online"),
];

fn channel_name(channel: Channel) -> &'static str {
    CHANNELS
        .iter()
        .find(|(c, _)| *c == channel)
        .map_or("kiosk", |(_, name)| name)
}

fn parse_channel(name: &str) -> Result<Channel, Error> {
    CHANNELS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(c, _)| *c)
        .ok_or(Error::Unreadable { what: "channel" })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn states_and_channels_round_trip_through_their_names() {
        for state in DossierState::ALL {
            assert_eq!(parse_state(state_name(state)).unwrap(), state);
        }
        for (channel, _) in CHANNELS {
            assert_eq!(parse_channel(channel_name(channel)).unwrap(), channel);
        }
        assert!(parse_state("nonsense").is_err());
        assert!(parse_channel("fax").is_err());
    }
}
