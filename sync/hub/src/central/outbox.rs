//! The outbox's database (`outbox.db` beside `hub.db`, SQLCipher with the hub's key).
//!
//! The hub's change feed is the outbox's source: the feed cursor advances, in the same
//! transaction as the packets it produced are inserted, only after every packet of every
//! dossier it covered is stored. A crash in between replays the feed, and a packet already
//! stored (same key) is not stored twice. Packets are kept as the bytes to send; a packet is
//! sent again byte for byte until the platform acknowledges it.
//!
//! A dossier's packets go in `id` order; a dossier whose oldest undelivered packet is in
//! dead letter sends nothing more until an officer retries it.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use xaso_central::Packet;
use xaso_sync_store::DatabaseKey;
use xaso_sync_store::db::{PageSize, open_encrypted};

use crate::HubError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    commune TEXT NOT NULL,
    partition TEXT NOT NULL,
    record_id TEXT NOT NULL,
    service TEXT NOT NULL,
    body BLOB NOT NULL,
    -- 'pending', 'delivered' or 'dead'
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    message TEXT,
    enqueued_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE INDEX IF NOT EXISTS packets_open ON packets (code, id) WHERE state <> 'delivered';
-- dossiers whose person agreed that earlier results be fetched: 'done' once attached
-- online dossiers the mapping could not take (an unknown procedure code…): shown to officers
-- with the refused packets; a retry moves the pull cursor back to them
CREATE TABLE IF NOT EXISTS inbound_refused (
    commune TEXT NOT NULL,
    code TEXT NOT NULL,
    received TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (commune, code)
);
CREATE TABLE IF NOT EXISTS fetches (
    record TEXT NOT NULL,
    partition TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    at INTEGER,
    PRIMARY KEY (partition, record)
);
";

/// A packet to send now: the oldest undelivered packet of its dossier.
#[derive(Debug, Clone)]
pub struct Head {
    pub id: i64,
    pub key: String,
    pub code: String,
    pub service: String,
    pub body: Vec<u8>,
}

pub use xaso_sync_core::central::{DeadLetter, OutboxCounts as Counts};

/// What became of a packet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged.
    Delivered,
    /// Refused: dead letter with the platform's code and message.
    Dead { code: String, message: String },
    /// No usable answer; it stays in line (the reason is kept for the officers).
    Failed { reason: String },
}

/// Where the packet came from: its dossier record.
#[derive(Debug, Clone)]
pub struct Origin<'a> {
    pub commune: &'a str,
    pub partition: &'a str,
    pub record_id: &'a str,
}

/// The outbox database.
pub struct OutboxDb {
    conn: Connection,
}

impl std::fmt::Debug for OutboxDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxDb").finish_non_exhaustive()
    }
}

impl OutboxDb {
    /// Open (or create) the outbox at `path`, encrypted with `key`.
    pub fn open(path: &Path, key: &DatabaseKey) -> Result<OutboxDb, HubError> {
        let conn = open_encrypted(path, key, PageSize::Default)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(OutboxDb { conn })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, HubError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), HubError> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// The hub's change-feed position the outbox has taken in.
    pub fn feed_cursor(&self) -> Result<u64, HubError> {
        Ok(self.meta("feed")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Store the packets of the feed up to `cursor` and move the cursor, in one transaction.
    /// A packet whose key is stored already is left as it is. Returns how many are new.
    pub fn take_in(
        &mut self,
        batch: &[(Origin<'_>, Vec<Packet>)],
        fetches: &[(String, String)],
        cursor: u64,
        now_ms: i64,
    ) -> Result<u64, HubError> {
        let tx = self.conn.transaction()?;
        let mut added = 0u64;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO packets (key, code, commune, partition, record_id, service, body,
                                      enqueued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (key) DO NOTHING",
            )?;
            for (origin, packets) in batch {
                for p in packets {
                    added += insert.execute(params![
                        p.key,
                        p.code,
                        origin.commune,
                        origin.partition,
                        origin.record_id,
                        p.service.name(),
                        p.body(),
                        now_ms
                    ])? as u64;
                }
            }
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO fetches (partition, record) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?;
            for (partition, record) in fetches {
                insert.execute(params![partition, record])?;
            }
        }
        Self::set_meta(&tx, "feed", &cursor.to_string())?;
        tx.commit()?;
        Ok(added)
    }

    /// Up to `limit` packets that may go now, oldest first: each dossier's oldest
    /// undelivered packet, when it is not in dead letter.
    pub fn heads(&self, limit: usize) -> Result<Vec<Head>, HubError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.key, p.code, p.service, p.body FROM packets p
             WHERE p.state = 'pending'
               AND p.id = (SELECT min(q.id) FROM packets q
                           WHERE q.code = p.code AND q.state <> 'delivered')
             ORDER BY p.id LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(Head {
                id: r.get(0)?,
                key: r.get(1)?,
                code: r.get(2)?,
                service: r.get(3)?,
                body: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record what became of sent packets, all in one transaction.
    pub fn record(&mut self, verdicts: &[(i64, Verdict)], now_ms: i64) -> Result<(), HubError> {
        let tx = self.conn.transaction()?;
        {
            let mut delivered = tx.prepare_cached(
                "UPDATE packets SET state = 'delivered', attempts = attempts + 1, done_at = ?2,
                        error_code = NULL, message = NULL
                 WHERE id = ?1",
            )?;
            let mut dead = tx.prepare_cached(
                "UPDATE packets SET state = 'dead', attempts = attempts + 1, error_code = ?2,
                        message = ?3, done_at = ?4
                 WHERE id = ?1",
            )?;
            let mut failed = tx.prepare_cached(
                "UPDATE packets SET attempts = attempts + 1, message = ?2 WHERE id = ?1",
            )?;
            for (id, verdict) in verdicts {
                match verdict {
                    Verdict::Delivered => delivered.execute(params![id, now_ms])?,
                    Verdict::Dead { code, message } => {
                        dead.execute(params![id, code, message, now_ms])?
                    }
                    Verdict::Failed { reason } => failed.execute(params![id, reason])?,
                };
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Dead letters (of `communes`, or all when `None`), oldest first.
    pub fn dead_letters(&self, communes: Option<&[String]>) -> Result<Vec<DeadLetter>, HubError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, code, commune, service, coalesce(error_code, ''), coalesce(message, ''),
                    coalesce(done_at, 0)
             FROM packets WHERE state = 'dead' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeadLetter {
                key: r.get(0)?,
                code: r.get(1)?,
                commune: r.get(2)?,
                service: r.get(3)?,
                error_code: r.get(4)?,
                message: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        of_communes(rows, communes)
    }

    /// The dossier record a dead letter came from, to build it again.
    pub fn origin_of(&self, key: &str) -> Result<Option<(String, String, String)>, HubError> {
        Ok(self
            .conn
            .query_row(
                "SELECT commune, partition, record_id FROM packets WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Put a dead letter back in line, with `body` (built again from the corrected data or
    /// mapping) when given. Returns whether it was in dead letter.
    pub fn retry(&mut self, key: &str, body: Option<&[u8]>) -> Result<bool, HubError> {
        let n = match body {
            Some(body) => self.conn.execute(
                "UPDATE packets SET state = 'pending', body = ?2, error_code = NULL,
                        message = NULL, done_at = NULL
                 WHERE key = ?1 AND state = 'dead'",
                params![key, body],
            )?,
            None => self.conn.execute(
                "UPDATE packets SET state = 'pending', error_code = NULL, message = NULL,
                        done_at = NULL
                 WHERE key = ?1 AND state = 'dead'",
                [key],
            )?,
        };
        Ok(n > 0)
    }

    /// Counts (of `communes`, or all when `None`).
    pub fn counts(&self, communes: Option<&[String]>) -> Result<Counts, HubError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT commune, state, count(*), count(DISTINCT code) FROM packets
             GROUP BY commune, state",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut counts = Counts::default();
        for row in rows {
            let (commune, state, n, dossiers) = row?;
            if communes.is_some_and(|c| !c.contains(&commune)) {
                continue;
            }
            let n = n as u64;
            match state.as_str() {
                "pending" => {
                    counts.pending += n;
                    counts.dossiers_waiting += dossiers as u64;
                }
                "delivered" => counts.delivered += n,
                _ => counts.dead += n,
            }
        }
        counts.dead += self.count_by_commune(
            "SELECT commune, count(*) FROM inbound_refused GROUP BY commune",
            communes,
        )?;
        counts.blocked += self.count_by_commune(
            "SELECT p.commune, count(*) FROM packets p
             WHERE p.state = 'pending'
               AND EXISTS (SELECT 1 FROM packets q WHERE q.code = p.code AND q.state = 'dead')
             GROUP BY p.commune",
            communes,
        )?;
        Ok(counts)
    }

    /// The sum of `sql`'s `(commune, count)` rows over `communes` (all when `None`).
    fn count_by_commune(&self, sql: &str, communes: Option<&[String]>) -> Result<u64, HubError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut total = 0;
        for row in rows {
            let (commune, n) = row?;
            if communes.is_none_or(|c| c.contains(&commune)) {
                total += n as u64;
            }
        }
        Ok(total)
    }

    /// An online dossier of `commune` the mapping could not take, with the reason.
    pub fn inbound_refused(
        &mut self,
        commune: &str,
        code: &str,
        received: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), HubError> {
        self.conn.execute(
            "INSERT INTO inbound_refused (commune, code, received, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (commune, code) DO UPDATE SET reason = excluded.reason",
            params![commune, code, received, reason, now_ms],
        )?;
        Ok(())
    }

    /// An online dossier was taken after all: no longer refused.
    pub fn inbound_taken(&mut self, commune: &str, code: &str) -> Result<(), HubError> {
        self.conn.execute(
            "DELETE FROM inbound_refused WHERE commune = ?1 AND code = ?2",
            params![commune, code],
        )?;
        Ok(())
    }

    /// Online dossiers refused (of `communes`, or all), as dead letters keyed
    /// `inbound:<commune>:<code>` with the service `LayDanhSachHoSoTrucTuyen`.
    pub fn inbound_refusals(
        &self,
        communes: Option<&[String]>,
    ) -> Result<Vec<DeadLetter>, HubError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT commune, code, reason, at FROM inbound_refused ORDER BY at, code",
        )?;
        let rows = stmt.query_map([], |r| {
            let commune: String = r.get(0)?;
            let code: String = r.get(1)?;
            Ok(DeadLetter {
                key: format!("inbound:{commune}:{code}"),
                code,
                commune,
                service: xaso_central::wire::LIST_ONLINE.into(),
                error_code: "mapping".into(),
                message: r.get(2)?,
                at: r.get(3)?,
            })
        })?;
        of_communes(rows, communes)
    }

    /// Take a refused online dossier (`inbound:<commune>:<code>`) out of the refusals and
    /// move its commune's pull cursor back to it, so the next pull brings it again; whether
    /// it was refused.
    pub fn retry_inbound(&mut self, key: &str) -> Result<bool, HubError> {
        let Some((commune, code)) = key
            .strip_prefix("inbound:")
            .and_then(|rest| rest.split_once(':'))
        else {
            return Ok(false);
        };
        let tx = self.conn.transaction()?;
        let received: Option<String> = tx
            .query_row(
                "DELETE FROM inbound_refused WHERE commune = ?1 AND code = ?2 RETURNING received",
                params![commune, code],
                |r| r.get(0),
            )
            .optional()?;
        let Some(received) = received else {
            return Ok(false);
        };
        let key = format!("pull:{commune}");
        let cursor: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                r.get(0)
            })
            .optional()?;
        if cursor.is_none_or(|c| received < c) {
            Self::set_meta(&tx, &key, &received)?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// The bytes of every packet's body (what the platform receives, headers aside).
    pub fn body_bytes(&self) -> Result<u64, HubError> {
        let n: i64 = self.conn.query_row(
            "SELECT coalesce(sum(length(body)), 0) FROM packets",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Dossiers (partition, record) whose earlier results are still to fetch.
    pub fn fetches_due(&self) -> Result<Vec<(String, String)>, HubError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT partition, record FROM fetches WHERE done = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The earlier results of a dossier are attached.
    pub fn fetch_done(
        &mut self,
        partition: &str,
        record: &str,
        now_ms: i64,
    ) -> Result<(), HubError> {
        self.conn.execute(
            "UPDATE fetches SET done = 1, at = ?3 WHERE partition = ?1 AND record = ?2",
            params![partition, record, now_ms],
        )?;
        Ok(())
    }

    /// The platform time (`yyyyMMddHHmmss`) online dossiers of `commune` were pulled from.
    pub fn pull_cursor(&self, commune: &str) -> Result<Option<String>, HubError> {
        self.meta(&format!("pull:{commune}"))
    }

    /// Move the pull cursor of `commune`.
    pub fn set_pull_cursor(&mut self, commune: &str, since: &str) -> Result<(), HubError> {
        Self::set_meta(&self.conn, &format!("pull:{commune}"), since)
    }
}

/// The dead letters among `rows` that belong to `communes` (all when `None`).
fn of_communes(
    rows: impl Iterator<Item = rusqlite::Result<DeadLetter>>,
    communes: Option<&[String]>,
) -> Result<Vec<DeadLetter>, HubError> {
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if communes.is_none_or(|c| c.contains(&row.commune)) {
            out.push(row);
        }
    }
    Ok(out)
}
