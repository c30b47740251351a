//! Progress of the current sync, shared with the UI: bytes, changes, rate and
//! an estimate of the time left.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Progress of the current sync, shared with the UI. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Progress(pub(crate) Arc<ProgressInner>);

#[derive(Debug, Default)]
pub(crate) struct ProgressInner {
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) changes_sent: AtomicU64,
    pub(crate) changes_received: AtomicU64,
    pub(crate) changes_remaining: AtomicU64,
    pub(crate) blob_bytes_done: AtomicU64,
    pub(crate) blob_bytes_total: AtomicU64,
    started_ms: AtomicU64,
    epoch: std::sync::OnceLock<Instant>,
}

/// A moment's view of [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgressSnapshot {
    /// Bytes sent so far in this sync.
    pub bytes_sent: u64,
    /// Bytes received so far.
    pub bytes_received: u64,
    /// Changes (document edits) sent.
    pub changes_sent: u64,
    /// Changes received and saved.
    pub changes_received: u64,
    /// Changes the hub has that this device still lacks (known after the first reply).
    pub changes_remaining: u64,
    /// Observed transfer rate, bytes per second.
    pub rate_bytes_per_s: f64,
    /// Estimated seconds left, when it can be estimated.
    pub eta_s: Option<f64>,
    /// Attachment bytes moved (uploaded or downloaded) in the current
    /// blob transfer ([`crate::SyncClient::push_blobs`], [`crate::SyncClient::pull_blobs`]).
    pub blob_bytes_done: u64,
    /// Attachment bytes that transfer has to move in all (known once it has
    /// asked the hub what it holds).
    pub blob_bytes_total: u64,
}

impl Progress {
    fn now_ms(&self) -> u64 {
        self.0.epoch.get_or_init(Instant::now).elapsed().as_millis() as u64
    }
    pub(crate) fn reset(&self) {
        let inner = &self.0;
        for counter in [
            &inner.bytes_sent,
            &inner.bytes_received,
            &inner.changes_sent,
            &inner.changes_received,
            &inner.changes_remaining,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        inner.started_ms.store(self.now_ms(), Ordering::Relaxed);
    }
    pub(crate) fn total_bytes(&self) -> u64 {
        self.0.bytes_sent.load(Ordering::Relaxed) + self.0.bytes_received.load(Ordering::Relaxed)
    }
    /// Current figures.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let inner = &self.0;
        let bytes_sent = inner.bytes_sent.load(Ordering::Relaxed);
        let bytes_received = inner.bytes_received.load(Ordering::Relaxed);
        let changes_received = inner.changes_received.load(Ordering::Relaxed);
        let changes_remaining = inner.changes_remaining.load(Ordering::Relaxed);
        let elapsed = (self
            .now_ms()
            .saturating_sub(inner.started_ms.load(Ordering::Relaxed))) as f64
            / 1000.0;
        let rate = if elapsed > 0.0 {
            (bytes_sent + bytes_received) as f64 / elapsed
        } else {
            0.0
        };
        let eta_s = if changes_received > 0 && rate > 0.0 {
            Some(
                changes_remaining as f64 * (bytes_received as f64 / changes_received as f64) / rate,
            )
        } else if changes_remaining == 0 {
            Some(0.0)
        } else {
            None
        };
        ProgressSnapshot {
            bytes_sent,
            bytes_received,
            changes_sent: inner.changes_sent.load(Ordering::Relaxed),
            changes_received,
            changes_remaining,
            rate_bytes_per_s: rate,
            eta_s,
            blob_bytes_done: inner.blob_bytes_done.load(Ordering::Relaxed),
            blob_bytes_total: inner.blob_bytes_total.load(Ordering::Relaxed),
        }
    }
}
