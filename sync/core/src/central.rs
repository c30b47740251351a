//! What an officer's device learns of the hub's outbox to the provincial and national
//! platforms (`GET /v1/central/status`, officers only) and how it asks for a dead letter
//! to be sent again (`POST /v1/central/retry`). The outbox itself is the hub's.

use serde::{Deserialize, Serialize};

/// Counts of the outbox for the officer's communes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    /// Packets waiting to be acknowledged.
    pub pending: u64,
    pub delivered: u64,
    /// Packets the platform refused, waiting for an officer.
    pub dead: u64,
    /// Dossiers with something still to send.
    pub dossiers_waiting: u64,
    /// Of the pending packets, those waiting behind a dead letter of their dossier.
    #[serde(default)]
    pub blocked: u64,
}

/// A packet the platform refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The packet's key (what to retry).
    pub key: String,
    /// The dossier's code on the platform (our tracking code, or the platform's own).
    pub code: String,
    pub commune: String,
    /// `DongBoHoSoMC` or `CapNhatTienDoHoSoMC`.
    pub service: String,
    /// The platform's `error_code`.
    pub error_code: String,
    /// The platform's `message`.
    pub message: String,
    /// When it was refused, Unix milliseconds.
    pub at: i64,
}

/// The outbox as an officer sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CentralStatus {
    /// Whether this hub talks to a platform at all.
    pub connected: bool,
    pub counts: OutboxCounts,
    pub dead: Vec<DeadLetter>,
    /// The latest failure to reach the platform, until a packet goes through again.
    pub last_failure: Option<String>,
    /// While the platform is left alone after repeated failures: until when (Unix ms).
    pub paused_until: Option<i64>,
    /// The latest packet acknowledged (Unix ms).
    pub last_delivered: Option<i64>,
    /// The latest pull of online dossiers (Unix ms).
    pub last_pull: Option<i64>,
}

/// `POST /v1/central/retry`: one dead letter by key, or every dead letter of the officer's
/// communes when `key` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryRequest {
    #[serde(default)]
    pub key: Option<String>,
}

/// The answer to [`RetryRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryReply {
    /// How many dead letters are back in line.
    pub retried: u64,
}
