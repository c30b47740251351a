//! # Xã Số sync engine
//!
//! Officers and kiosks work for days without a link, then get minutes of 2G
//! or satellite. This crate keeps what they enter safe and gets it to the
//! commune hub exactly once, merged with what others changed meanwhile.
//!
//! ## Pieces
//!
//! - [`Store`]: the encrypted offline store (SQLCipher, SQLite WAL, 8 KiB
//!   pages). One Automerge document per record (dossier, rating, training
//!   progress…), each in a [`Partition`] (a commune code, optionally refined:
//!   `79001/kiosk/<device>`). Records are any `serde` type; the one generic
//!   mapping in [`mapping`] turns them into Automerge maps, so concurrent edits
//!   of different fields merge and concurrent edits of one field become a
//!   [`Conflict`] that an officer resolves with [`Store::resolve`]. Every write
//!   is committed (`synchronous = FULL`) before the call returns.
//! - The change index: every change is logged under `(partition, origin, seq)`;
//!   a store's position is a [`protocol::Vector`] (origin → seq).
//! - [`protocol`]: the sans-IO sync state machine and wire format.
//! - [`blob`]: attachments (photographed papers). [`Store::put_blob`] keeps
//!   the bytes content-addressed (SHA-256) per partition and writes an index
//!   record `blob-<sha256>` that syncs like any record, so every holder of
//!   the partition learns which blobs exist; records refer to blobs by hash.
//!   The bytes then move separately and resumably (sans-IO rules in
//!   [`blob`]; [`client::SyncClient::push_blobs`] / `pull_blobs`): a cut
//!   transfer resumes from what the receiver holds durably, and a blob
//!   becomes visible only once its hash verifies.
//! - [`hub`]: the `xaso-hub` server (axum over rustls, TLS 1.3 only, mutual
//!   TLS with certificates from the hub's own CA, enrolment with one-time
//!   codes, commune scoping, revocation, `/metrics`).
//! - [`client`]: enrolment and the sync loop (reqwest over rustls, one reused
//!   connection, progress-based liveness, backoff with jitter, cancellation).
//! - [`link`]: a userspace TCP relay that emulates slow, lossy links and cuts
//!   connections at chosen byte offsets, for tests and benchmarks.
//!
//! ## Typical use on a device
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use xaso_sync::{Partition, Store, client};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Rating { stars: u8, comment: String }
//!
//! let dir = Path::new("/var/lib/xaso");
//! xaso_sync::ensure_key_file(&dir.join("device.key"))?;
//! let mut store = Store::open(&dir.join("store.db"), &dir.join("device.key"))?;
//! let partition = Partition::new("79001")?;
//! store.put(&partition, "rating-1", &Rating { stars: 5, comment: "nhanh".into() })?; // durable now
//! let back: Option<Rating> = store.get(&partition, "rating-1")?;
//!
//! // Once: enrol with the code shown on the hub and the hub's CA certificate.
//! let identity = client::enrol("https://hub.example:8443", &std::fs::read_to_string(dir.join("hub-ca.pem"))?, "ABCD-EFGH").await?;
//! identity.save(&dir.join("identity"))?;
//! // Then, whenever there is a link:
//! let client = client::SyncClient::new("https://hub.example:8443", &identity)?;
//! let (progress, cancel) = (client::Progress::default(), client::Cancel::default());
//! let report = client.sync_once(&mut store, &progress, &cancel).await?;
//!
//! // Attachments: keep the bytes (durable now), put the hash in the record,
//! // and after the record sync move the bytes both ways.
//! let page = std::fs::read("/tmp/page-1.jpg")?;
//! let hash = store.put_blob(&partition, &page)?; // also writes the index record `blob-<hash>`
//! store.put(&partition, "dossier-1", &serde_json::json!({ "pages": [hash.to_hex()] }))?;
//! client.sync_once(&mut store, &progress, &cancel).await?;
//! let moved = client.sync_blobs(&mut store, &progress, &cancel).await?; // push, then pull
//! let bytes = store.blob(&partition, &hash)?;
//! # let _ = (back, report, moved, bytes); Ok(()) }
//! ```
//!
//! ## Invariants
//!
//! - Nothing is confirmed to a person before it is durable.
//! - The protocol core never does I/O; the hub and client are thin shells.
//! - A store's vector always describes a whole prefix of each origin's changes,
//!   so "what do you lack" is answered exactly, and replays are harmless.
//! - No personal data in logs: logs name partitions, counts and device ids only.

pub mod blob;
pub mod client;
pub mod hub;
pub mod link;
pub mod mapping;
pub mod protocol;
#[doc(hidden)]
pub mod sample;
pub mod store;
mod tls;

use std::path::PathBuf;

pub use blob::{BlobHash, BlobInfo, Held};
pub use mapping::{Conflict, ConflictValue, PathSegment};
pub use protocol::{Origin, Vector};
pub use store::{ApplyOutcome, Saved, Store, create_key_file, ensure_key_file, read_key_file};

/// A partition of the data: a commune code, optionally refined with
/// `/`-separated segments (`79001`, `79001/kiosk/dev-12`). Access control and
/// sync work per partition.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Partition(String);

impl Partition {
    /// Validate a partition name: 1–128 characters, segments of ASCII letters,
    /// digits, `-`, `_` or `.`, separated by `/`.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= 128
            && name.split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if valid {
            Ok(Partition(name))
        } else {
            Err(Error::InvalidPartition(name))
        }
    }

    /// The partition where a kiosk (or helper tablet) keeps what it submitted.
    pub fn submissions(commune: &str, device_id: &str) -> Result<Self, Error> {
        Partition::new(format!("{commune}/kiosk/{device_id}"))
    }

    /// The commune code (first segment).
    pub fn commune(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// Is this partition `prefix` itself or a refinement of it (`prefix/…`)?
    pub fn is_under(&self, prefix: &str) -> bool {
        self.0
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Partition {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        Partition::new(value)
    }
}

impl From<Partition> for String {
    fn from(value: Partition) -> String {
        value.0
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read with this key (or is not a Xã Số store).
    #[error(
        "the store {path} cannot be opened with this key (wrong key, or not a Xã Số store); nothing was changed"
    )]
    WrongKey {
        /// Store file.
        path: PathBuf,
    },
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// Key file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The key file is readable by others.
    #[error("key file {path} has mode {mode:o}; it must be readable by its owner only (0600)")]
    KeyFilePermissions {
        /// Key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold 32 bytes of hex.
    #[error("key file {path} does not hold a 32-byte hex key")]
    KeyFileInvalid {
        /// Key file.
        path: PathBuf,
    },
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// The store was written by a newer version of Xã Số.
    #[error("store schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version known here.
        supported: u32,
    },
    /// SQLite / SQLCipher error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Automerge error.
    #[error("document: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A record could not be turned into a document.
    #[error("record cannot be serialized: {0}")]
    Serialize(serde_json::Error),
    /// A document does not match the requested type.
    #[error("record does not match the requested type: {0}")]
    Deserialize(serde_json::Error),
    /// Records must serialize to a map (a struct).
    #[error("a record must serialize to a map of fields")]
    NotAnObject,
    /// No such record.
    #[error("record not found")]
    RecordNotFound,
    /// No such field in the record.
    #[error("field not found in the record")]
    PathNotFound,
    /// Record ids are 1–200 printable characters.
    #[error("invalid record id")]
    InvalidRecordId,
    /// Bad partition name.
    #[error("invalid partition name {0:?}")]
    InvalidPartition(String),
    /// A received change is malformed or claims another origin.
    #[error("a received change is malformed or does not belong to its origin")]
    BadChange,
    /// A message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(String),
    /// A message could not be decoded.
    #[error("cannot decode message: {0}")]
    Decode(String),
    /// The peer speaks another protocol version.
    #[error("unsupported sync protocol version {0}")]
    UnsupportedVersion(u8),
    /// A reply arrived that no request asked for.
    #[error("unexpected reply")]
    UnexpectedReply,
    /// The peers stopped making progress.
    #[error("sync makes no progress")]
    NoProgress,
    /// The device may not access this partition.
    #[error("access to partition {0} is forbidden for this device")]
    Forbidden(String),
    /// TLS / certificate problem.
    #[error("TLS: {0}")]
    Tls(String),
    /// Network or HTTP problem.
    #[error("network: {0}")]
    Network(String),
    /// The hub refused a request.
    #[error("hub refused the request: HTTP {status}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Hub's message.
        message: String,
    },
    /// No bytes moved for too long.
    #[error("the link stalled: no data moved for {0} s")]
    Stalled(u64),
    /// The caller cancelled.
    #[error("cancelled")]
    Cancelled,
    /// Enrolment failed.
    #[error("enrolment: {0}")]
    Enrolment(String),
    /// Not a SHA-256 in hex.
    #[error("invalid blob hash {0:?}")]
    InvalidBlobHash(String),
    /// A blob is larger than [`blob::MAX_BLOB_BYTES`].
    #[error("a blob of {size} bytes is larger than the limit of {max} bytes")]
    BlobTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A chunk runs past the blob's declared size.
    #[error("a blob chunk runs past the blob's declared size")]
    BadChunk,
    /// A chunk starts beyond what the receiver holds: resume at `held`.
    #[error("a blob chunk starts beyond the {held} bytes held")]
    BlobGap {
        /// Bytes the receiver holds.
        held: u64,
    },
    /// The received bytes do not have the announced SHA-256; they were
    /// discarded and the blob was not made visible.
    #[error("the received blob does not match its hash; it was discarded")]
    BlobHashMismatch,
    /// File I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}
