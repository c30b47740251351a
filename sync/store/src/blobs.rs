//! Attachments: content-addressed blobs per partition, their index records
//! and resumable transfers (the rules are `xaso_sync_core::blob`).

use rusqlite::{Connection, OptionalExtension, params};
use xaso_sync_core::blob::{self, BlobHash, BlobIndex, BlobInfo, BlobStore, ChunkDecision, Held};
use xaso_sync_core::{Partition, mapping};

use crate::{Error, Store, edit_in, now_ms};

/// Attachments (see [`xaso_sync_core::blob`]).
impl Store {
    /// Store `bytes` as a blob of `partition` and write its index record
    /// (`blob-<sha256>`, synced like any record), in one durable transaction.
    /// Idempotent: the same bytes give the same hash and are stored once per
    /// partition. Larger than [`blob::MAX_BLOB_BYTES`]:
    /// [`xaso_sync_core::Error::BlobTooLarge`].
    pub fn put_blob(&mut self, partition: &Partition, bytes: &[u8]) -> Result<BlobHash, Error> {
        let size = bytes.len() as u64;
        if size > blob::MAX_BLOB_BYTES {
            return Err(xaso_sync_core::Error::BlobTooLarge {
                size,
                max: blob::MAX_BLOB_BYTES,
            }
            .into());
        }
        let hash = BlobHash::of(bytes);
        let index = serde_json::to_value(BlobIndex {
            sha256: hash.to_hex(),
            size,
        })
        .map_err(xaso_sync_core::Error::Serialize)?;
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
    /// tail; a chunk beyond the held offset is [`xaso_sync_core::Error::BlobGap`]. When the
    /// last byte arrives the whole blob is hashed in the same transaction:
    /// on a match it becomes visible (and the partial is dropped); on a
    /// mismatch the partial is discarded and [`xaso_sync_core::Error::BlobHashMismatch`]
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
            ChunkDecision::Gap { held } => {
                return Err(xaso_sync_core::Error::BlobGap { held }.into());
            }
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
            return Err(xaso_sync_core::Error::BlobHashMismatch.into());
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
    type Error = Error;
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
