//! What can go wrong in the pure core: one enum, one variant per cause a caller can act on.

use crate::Partition;

/// Everything the pure core can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad partition name (see [`Partition::new`] for the grammar).
    #[error("invalid partition name {0:?}")]
    InvalidPartition(String),
    /// Record ids are 1–200 characters without control characters.
    #[error("invalid record id")]
    InvalidRecordId,
    /// A received change is malformed or claims another origin.
    #[error("a received change is malformed or does not belong to its origin")]
    BadChange,
    /// A message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[source] EncodeError),
    /// A message could not be decoded.
    #[error("cannot decode message: {0}")]
    Decode(#[source] DecodeError),
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
    Forbidden(Partition),
    /// Not a SHA-256 in hex.
    #[error("invalid blob hash {0:?}")]
    InvalidBlobHash(String),
    /// A blob is larger than [`crate::blob::MAX_BLOB_BYTES`].
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
    /// A status request asks about more blobs than allowed.
    #[error("a status request may name at most {max} blobs, this one names {count}")]
    TooManyHashes {
        /// Hashes in the request.
        count: usize,
        /// [`crate::blob::MAX_STATUS_HASHES`].
        max: usize,
    },
    /// Records must serialize to a map (a struct).
    #[error("a record must serialize to a map of fields")]
    NotAnObject,
    /// No such field in the record.
    #[error("field not found in the record")]
    PathNotFound,
    /// Automerge refused an operation or a document (boxed: Automerge's error is large,
    /// and every result of the sync crates carries this enum).
    #[error("document: {0}")]
    Document(Box<automerge::AutomergeError>),
    /// A record could not be turned into a document.
    #[error("record cannot be serialized: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A document does not match the requested type.
    #[error("record does not match the requested type: {0}")]
    Deserialize(#[source] serde_json::Error),
    /// An unknown device role.
    #[error("unknown device role {0:?}")]
    UnknownRole(String),
}

/// Why a frame could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// postcard could not serialize the message.
    #[error("serialization: {0}")]
    Serialize(#[source] postcard::Error),
    /// zstd failed.
    #[error("compression: {0}")]
    Compress(#[source] std::io::Error),
    /// The payload does not fit a frame (more than 4 GiB).
    #[error("message too large for a frame")]
    TooLarge,
}

/// Why received bytes are not a valid frame.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Too short, or the magic `XS` is missing.
    #[error("not a Xã Số sync frame")]
    NotAFrame,
    /// A frame of another message kind.
    #[error("expected message kind {expected}, got {found}")]
    WrongKind {
        /// Kind asked for.
        expected: u8,
        /// Kind in the frame.
        found: u8,
    },
    /// The header's length does not match the bytes that follow it.
    #[error("frame says {declared} bytes, has {actual}")]
    Length {
        /// Length in the header.
        declared: usize,
        /// Bytes after the header.
        actual: usize,
    },
    /// Unknown flag bits.
    #[error("unknown frame flags {0}")]
    Flags(u8),
    /// The compressed payload declares more than [`crate::protocol::MAX_PAYLOAD`].
    #[error("compressed message of {declared} bytes is larger than the limit")]
    TooLarge {
        /// Size the zstd header declares.
        declared: u64,
    },
    /// zstd could not decompress the payload.
    #[error("decompression: {0}")]
    Decompress(#[source] std::io::Error),
    /// postcard could not read the message.
    #[error("message: {0}")]
    Message(#[source] postcard::Error),
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Document(Box::new(e))
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}
