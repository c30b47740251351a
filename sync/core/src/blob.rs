//! Attachments: content-addressed blobs (photographed papers) and their
//! resumable transfer, as sans-IO rules.
//!
//! # Model
//!
//! A blob is a byte string named by its SHA-256 ([`BlobHash`]) and held per
//! [`Partition`]: the same bytes in one partition are stored once. A device
//! creates one with [`Store::put_blob`](crate::Store::put_blob), which in one
//! durable transaction stores the bytes *and* writes the blob's index record
//! `blob-<sha256>` ([`index_record_id`], content [`BlobIndex`]) in the same
//! partition. That index is ordinary record data: it travels with the record
//! sync, so the hub and every officer holding the partition learn which blobs
//! exist there (and their sizes) without any extra protocol. Records refer to
//! blobs by hash (a dossier's `AttachmentRef::sha256`); nothing else links them.
//!
//! After the record sync, the bytes move separately:
//! - **push**: the device asks the hub about the blobs it holds that the hub
//!   has not yet confirmed ([`StatusRequest`] → [`StatusReply`]), then
//!   uploads each missing one from the hub's durable offset ([`plan_push`]).
//! - **pull**: the device lists the blobs its partitions' index names but it
//!   lacks (the store's `missing_blobs`), asks the hub
//!   which it holds, and downloads each from its own durable offset
//!   ([`plan_pull`]).
//!
//! # Resuming and verifying
//!
//! A receiver keeps an incomplete blob as a run of chunks from offset 0 (a
//! "partial"); the number of bytes it holds is its durable offset. Bytes are
//! committed as they arrive, in pieces of [`FLUSH_BYTES`] ([`Incoming`]), and
//! whatever arrived before a cut is committed too, so a cut costs at most the
//! bytes in flight, never the bytes already received. Every chunk is judged by
//! [`accept_chunk`]: a replayed or overlapping chunk only adds its new tail,
//! a chunk beyond the held offset is refused ([`ChunkDecision::Gap`]), a chunk
//! past the declared size is an error. When the last byte arrives, the whole
//! blob is hashed; only if the hash matches does it become visible (one
//! transaction moves it from the partial to the blob table). A mismatch
//! discards the partial and is reported as [`Error::BlobHashMismatch`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Partition};

/// Largest blob accepted (a page photo is 100–400 KB; a scanned multi-page
/// PDF a few MB).
pub const MAX_BLOB_BYTES: u64 = 16 * 1024 * 1024;

/// Receivers commit incoming bytes in pieces of this size (and whatever is
/// left when the stream ends or breaks).
pub const FLUSH_BYTES: usize = 16 * 1024;

/// Largest number of hashes in one [`StatusRequest`].
pub const MAX_STATUS_HASHES: usize = 4096;

/// Prefix of the record ids of the blob index.
pub const INDEX_PREFIX: &str = "blob-";

/// The SHA-256 of a blob's bytes. Shown and serialized as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobHash(pub [u8; 32]);

impl BlobHash {
    /// Hash `bytes`.
    pub fn of(bytes: &[u8]) -> BlobHash {
        BlobHash(Sha256::digest(bytes).into())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobHash({})", self.to_hex())
    }
}

impl FromStr for BlobHash {
    type Err = Error;
    /// 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bytes =
            hex::decode(s).map_err(|_| Error::InvalidBlobHash(s.chars().take(80).collect()))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::InvalidBlobHash(s.chars().take(80).collect()))?;
        Ok(BlobHash(array))
    }
}

impl Serialize for BlobHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for BlobHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The index record of a blob (record id [`index_record_id`]), synced like
/// any record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobIndex {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Record id of a blob's index record: `blob-<sha256 hex>`.
pub fn index_record_id(hash: &BlobHash) -> String {
    format!("{INDEX_PREFIX}{hash}")
}

/// A blob named and sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobInfo {
    /// Its hash.
    pub hash: BlobHash,
    /// Its size in bytes.
    pub size: u64,
}

/// How much of a blob a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Held {
    /// Nothing.
    Nothing,
    /// A verified, visible blob of `size` bytes.
    Complete {
        /// Size.
        size: u64,
    },
    /// An incomplete transfer: the first `held` of `size` bytes, durably.
    Partial {
        /// Bytes held (the offset to resume from).
        held: u64,
        /// Declared size.
        size: u64,
    },
}

impl Held {
    /// Bytes durably held (the whole size when complete).
    pub fn offset(&self) -> u64 {
        match *self {
            Held::Nothing => 0,
            Held::Complete { size } => size,
            Held::Partial { held, .. } => held,
        }
    }
    /// Is the blob complete and visible?
    pub fn is_complete(&self) -> bool {
        matches!(self, Held::Complete { .. })
    }
}

/// Device → hub: what do you hold of these blobs of `partition`?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// Partition (the device must be allowed to access it).
    pub partition: Partition,
    /// Blobs asked about (at most [`MAX_STATUS_HASHES`]).
    pub hashes: Vec<BlobHash>,
}

/// Hub → device: one [`Held`] per asked hash, same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReply {
    /// What the hub holds of each blob.
    pub held: Vec<(BlobHash, Held)>,
}

/// Hub → device after an upload request: where the blob stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReply {
    /// What the hub holds of the blob after this request.
    pub held: Held,
}

/// Bytes to send or fetch for one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// The blob.
    pub hash: BlobHash,
    /// Its size.
    pub size: u64,
    /// First byte to transfer (what the receiver already holds durably).
    pub offset: u64,
}

impl Transfer {
    /// Bytes left to move.
    pub fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.offset)
    }
}

/// What a push should do after the hub's [`StatusReply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushPlan {
    /// Blobs to upload, each from the hub's offset.
    pub uploads: Vec<Transfer>,
    /// Blobs the hub already holds complete: mark them confirmed locally.
    pub confirmed: Vec<BlobHash>,
}

/// Decide what to upload: every blob of `local` (blobs this device holds
/// that the hub has not confirmed) that the hub does not hold complete,
/// starting where the hub's partial ends. A partial whose declared size
/// differs from ours is restarted from zero (the hub replaces it).
pub fn plan_push(local: &[BlobInfo], hub: &StatusReply) -> PushPlan {
    let mut plan = PushPlan::default();
    for info in local {
        let held = hub
            .held
            .iter()
            .find(|(h, _)| *h == info.hash)
            .map(|(_, held)| *held)
            .unwrap_or(Held::Nothing);
        match held {
            Held::Complete { .. } => plan.confirmed.push(info.hash),
            Held::Partial { held, size } if size == info.size && held < size => {
                plan.uploads.push(Transfer {
                    hash: info.hash,
                    size: info.size,
                    offset: held,
                })
            }
            _ => plan.uploads.push(Transfer {
                hash: info.hash,
                size: info.size,
                offset: 0,
            }),
        }
    }
    plan
}

/// What a pull should do after the hub's [`StatusReply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullPlan {
    /// Blobs to download, each from this device's durable offset.
    pub downloads: Vec<Transfer>,
    /// Blobs the index names but the hub does not hold complete yet (their
    /// device has not uploaded them): try again at a later sync.
    pub unavailable: Vec<BlobHash>,
}

/// Decide what to download: each wanted blob (`(info, what this device
/// holds)`) that the hub holds complete with the size the index says. A local
/// partial of another size is restarted from zero.
pub fn plan_pull(wanted: &[(BlobInfo, Held)], hub: &StatusReply) -> PullPlan {
    let mut plan = PullPlan::default();
    for (info, mine) in wanted {
        if mine.is_complete() {
            continue;
        }
        let theirs = hub
            .held
            .iter()
            .find(|(h, _)| *h == info.hash)
            .map(|(_, held)| *held);
        match theirs {
            Some(Held::Complete { size }) if size == info.size => {
                let offset = match *mine {
                    Held::Partial { held, size } if size == info.size && held < size => held,
                    _ => 0,
                };
                plan.downloads.push(Transfer {
                    hash: info.hash,
                    size: info.size,
                    offset,
                });
            }
            _ => plan.unavailable.push(info.hash),
        }
    }
    plan
}

/// What to do with a received chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkDecision {
    /// Append the chunk's bytes from index `skip` on (the first `skip` bytes
    /// are already held: an overlapping replay).
    Append {
        /// Bytes of the chunk already held.
        skip: usize,
    },
    /// Everything in the chunk is already held (a replay): nothing to do.
    Duplicate,
    /// The chunk starts beyond what is held; the sender must resume at `held`.
    Gap {
        /// Bytes held.
        held: u64,
    },
    /// The partial was declared with another size; start it again from this
    /// chunk (which starts at 0).
    Restart,
}

/// Judge a chunk of `len` bytes at `offset` of a blob declared `size` bytes
/// long, against what the receiver holds.
pub fn accept_chunk(
    held: Held,
    size: u64,
    offset: u64,
    len: usize,
) -> Result<ChunkDecision, Error> {
    if size > MAX_BLOB_BYTES {
        return Err(Error::BlobTooLarge {
            size,
            max: MAX_BLOB_BYTES,
        });
    }
    let end = offset
        .checked_add(len as u64)
        .filter(|end| *end <= size)
        .ok_or(Error::BadChunk)?;
    let have = match held {
        Held::Complete { .. } => return Ok(ChunkDecision::Duplicate),
        Held::Nothing => 0,
        Held::Partial {
            held,
            size: declared,
        } if declared == size => held,
        Held::Partial { .. } if offset == 0 => return Ok(ChunkDecision::Restart),
        Held::Partial { held, .. } => return Ok(ChunkDecision::Gap { held }),
    };
    if offset > have {
        return Ok(ChunkDecision::Gap { held: have });
    }
    if end <= have && len > 0 {
        return Ok(ChunkDecision::Duplicate);
    }
    if len == 0 {
        return Ok(if size == 0 && have == 0 {
            ChunkDecision::Append { skip: 0 }
        } else {
            ChunkDecision::Duplicate
        });
    }
    Ok(ChunkDecision::Append {
        skip: (have - offset) as usize,
    })
}

/// Incoming bytes of one blob, buffered until [`FLUSH_BYTES`] are ready to
/// be committed. Feed what arrives to [`push`](Self::push); commit every
/// piece it returns at its offset; at the end of the stream (or when it
/// breaks) commit [`finish`](Self::finish) too.
#[derive(Debug)]
pub struct Incoming {
    next_offset: u64,
    buffer: Vec<u8>,
}

impl Incoming {
    /// Bytes will arrive from `offset` on.
    pub fn new(offset: u64) -> Self {
        Incoming {
            next_offset: offset,
            buffer: Vec::new(),
        }
    }

    /// Take `bytes`; returns a piece `(offset, bytes)` to commit when at
    /// least [`FLUSH_BYTES`] are buffered.
    pub fn push(&mut self, bytes: &[u8]) -> Option<(u64, Vec<u8>)> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= FLUSH_BYTES {
            self.take()
        } else {
            None
        }
    }

    /// What is left to commit, if anything.
    pub fn finish(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.buffer.is_empty() {
            None
        } else {
            self.take()
        }
    }

    /// Offset of the next byte expected.
    pub fn next_offset(&self) -> u64 {
        self.next_offset + self.buffer.len() as u64
    }

    fn take(&mut self) -> Option<(u64, Vec<u8>)> {
        let piece = std::mem::take(&mut self.buffer);
        let offset = self.next_offset;
        self.next_offset += piece.len() as u64;
        Some((offset, piece))
    }
}

/// The storage a blob transfer needs on either side. The SQLCipher store
/// (`xaso-sync-store`) implements it; a hub backend may too.
pub trait BlobStore {
    /// The backend's error.
    type Error: From<Error>;
    /// What is held of a blob.
    fn held(&self, partition: &Partition, hash: &BlobHash) -> Result<Held, Self::Error>;
    /// Commit a chunk (see [`accept_chunk`]); verifies and publishes the blob
    /// when its last byte arrives. Returns what is held afterwards.
    fn append_chunk(
        &mut self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: &[u8],
    ) -> Result<Held, Self::Error>;
    /// `len` bytes of a complete blob from `offset` (fewer at the end).
    fn blob_range(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// The hub's answer to a [`StatusRequest`] (access must already be checked).
pub fn answer_status<S: BlobStore + ?Sized>(
    store: &S,
    request: &StatusRequest,
) -> Result<StatusReply, S::Error> {
    if request.hashes.len() > MAX_STATUS_HASHES {
        return Err(Error::TooManyHashes {
            count: request.hashes.len(),
            max: MAX_STATUS_HASHES,
        }
        .into());
    }
    let held = request
        .hashes
        .iter()
        .map(|hash| Ok((*hash, store.held(&request.partition, hash)?)))
        .collect::<Result<Vec<_>, S::Error>>()?;
    Ok(StatusReply { held })
}

/// Move the bytes of `transfer` from `from` to `to` in memory, in pieces as
/// the I/O shells do, stopping after `budget` bytes (a cut) if given.
/// Returns what `to` holds afterwards. The sans-IO model of one transfer,
/// used by tests and simulations.
pub fn copy_blob<F, T>(
    from: &F,
    to: &mut T,
    partition: &Partition,
    transfer: &Transfer,
    budget: Option<u64>,
) -> Result<Held, T::Error>
where
    F: BlobStore,
    T: BlobStore,
    T::Error: From<F::Error>,
{
    let end = match budget {
        Some(b) => transfer.size.min(transfer.offset.saturating_add(b)),
        None => transfer.size,
    };
    let Some(bytes) = from.blob_range(
        partition,
        &transfer.hash,
        transfer.offset,
        end - transfer.offset.min(end),
    )?
    else {
        return to.held(partition, &transfer.hash);
    };
    let mut incoming = Incoming::new(transfer.offset);
    let mut held = to.held(partition, &transfer.hash)?;
    for piece in bytes.chunks(4096) {
        if let Some((offset, data)) = incoming.push(piece) {
            held = to.append_chunk(partition, &transfer.hash, transfer.size, offset, &data)?;
        }
    }
    if let Some((offset, data)) = incoming.finish() {
        held = to.append_chunk(partition, &transfer.hash, transfer.size, offset, &data)?;
    }
    if transfer.size == 0 {
        held = to.append_chunk(partition, &transfer.hash, 0, 0, &[])?;
    }
    Ok(held)
}
