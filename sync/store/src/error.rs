//! What can go wrong in the store.

use std::path::PathBuf;

/// Everything the store can refuse or fail at.
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
    /// The database was written by a newer version of Xã Số.
    #[error("store schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version known here.
        supported: u32,
    },
    /// An unencrypted database could not be encrypted in place; the old file
    /// is left as it was.
    #[error("cannot encrypt the unencrypted database {path}: {source}")]
    Migration {
        /// The database.
        path: PathBuf,
        /// Cause.
        source: rusqlite::Error,
    },
    /// No such record.
    #[error("record not found")]
    RecordNotFound,
    /// SQLite / SQLCipher error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Refused or failed by the sync core (bad input, a bad change, a blob
    /// that does not verify…).
    #[error(transparent)]
    Core(#[from] xaso_sync_core::Error),
    /// File I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Core(e.into())
    }
}

impl Error {
    /// The core's cause, if the core refused or failed.
    pub fn core(&self) -> Option<&xaso_sync_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            _ => None,
        }
    }
}
