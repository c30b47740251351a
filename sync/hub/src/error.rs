//! What can go wrong in the hub: one enum, a variant per cause, typed
//! sources. Internal failures (a stopped writer, a poisoned lock, a failed
//! task, a failed commit) have variants of their own, so nothing inside the
//! hub is ever mistaken for a device's broken link.

use std::sync::Arc;

/// Everything the hub can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The sync core refused the device's input (a bad frame, a change from
    /// the wrong origin, a partition outside the device's scope…).
    #[error(transparent)]
    Core(#[from] xaso_sync_core::Error),
    /// The SQLite backend failed or refused.
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    /// The registry database failed.
    #[error("registry: {0}")]
    Registry(#[from] rusqlite::Error),
    /// A certificate, key or TLS setting of the hub is unusable.
    #[error(transparent)]
    Tls(#[from] xaso_sync_tls::TlsError),
    /// The certificate authority could not make or sign a certificate.
    #[error("certificate authority: {0}")]
    Authority(#[from] rcgen::Error),
    /// An enrolment was refused.
    #[error("enrolment refused: {0}")]
    Enrolment(#[from] EnrolmentRefused),
    /// The writer thread has stopped: the hub is shutting down or broke.
    #[error("the hub's writer has stopped")]
    WriterStopped,
    /// A lock was poisoned by a panic elsewhere in the hub.
    #[error("the {0} lock was poisoned")]
    LockPoisoned(&'static str),
    /// A task the hub ran on its worker pool failed.
    #[error("a hub task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The group commit of a batch of exchanges failed; none of them is durable.
    #[error("the group commit failed: {0}")]
    CommitFailed(#[source] Arc<HubError>),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// The operation needs the SQLite backend (inspection tools and tests).
    #[error("this operation needs the SQLite backend")]
    NotSqlite,
    /// File or socket I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}

/// Why an enrolment code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentRefused {
    /// No such code.
    #[error("unknown enrolment code")]
    UnknownCode,
    /// The code was used before.
    #[error("this enrolment code was already used")]
    AlreadyUsed,
    /// The code is past its validity.
    #[error("this enrolment code has expired")]
    Expired,
    /// A code must name at least one commune.
    #[error("a device needs at least one commune")]
    NoCommune,
    /// Every device number of the commune is taken.
    #[error("all device numbers of commune {0} are taken")]
    NoDeviceNumber(String),
    /// The certificate request does not parse or its signature is wrong.
    #[error("bad certificate request: {0}")]
    BadRequest(#[source] rcgen::Error),
}

impl HubError {
    /// The core's cause, wherever it was raised (directly or by the store).
    pub fn core(&self) -> Option<&xaso_sync_core::Error> {
        match self {
            HubError::Core(e) => Some(e),
            HubError::Store(e) => e.core(),
            HubError::CommitFailed(e) => e.core(),
            _ => None,
        }
    }

    /// Did the device send something the protocol refuses (a `400`), as
    /// opposed to a failure of the hub (a `500`)?
    pub fn is_bad_request(&self) -> bool {
        use xaso_sync_core::Error as E;
        matches!(
            self.core(),
            Some(
                E::Decode(_)
                    | E::UnsupportedVersion(_)
                    | E::BadChange
                    | E::InvalidRecordId
                    | E::InvalidPartition(_)
                    | E::InvalidBlobHash(_)
                    | E::BadChunk
                    | E::TooManyHashes { .. }
            )
        )
    }
}
