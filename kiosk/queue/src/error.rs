//! What can go wrong with the queue index.

use std::path::PathBuf;

/// Everything the queue index can refuse or fail at. The index holds only
/// data derived from the record store: after [`Error::WrongKey`],
/// [`Error::SchemaTooNew`] or [`Error::Unreadable`] the caller may delete the
/// file and build it again from the store ([`crate::QueueIndex::catch_up`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index file cannot be read with the key derived for it.
    #[error("the queue index {path} cannot be opened with its key; it can be deleted and rebuilt")]
    WrongKey {
        /// Index file.
        path: PathBuf,
    },
    /// The index was written by a newer version of Xã Số.
    #[error("queue index schema version {found} is newer than this program supports ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version known here.
        supported: u32,
    },
    /// A row of the index holds a value this version cannot read.
    #[error("the queue index holds an unreadable {what}; it can be deleted and rebuilt")]
    Unreadable {
        /// Which value (column), never its content.
        what: &'static str,
    },
    /// Reading the record store failed.
    #[error("record store: {0}")]
    Store(xaso_sync_store::Error),
    /// SQLite / SQLCipher error in the index file.
    #[error("queue index database: {0}")]
    Database(#[from] rusqlite::Error),
}

impl Error {
    /// An error of the store crate while opening the index file itself.
    pub(crate) fn opening(e: xaso_sync_store::Error) -> Self {
        match e {
            xaso_sync_store::Error::WrongKey { path } => Error::WrongKey { path },
            xaso_sync_store::Error::SchemaTooNew { found, supported } => {
                Error::SchemaTooNew { found, supported }
            }
            xaso_sync_store::Error::Sqlite(e) => Error::Database(e),
            other => Error::Store(other),
        }
    }
}
