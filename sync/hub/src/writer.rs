//! The hub's single writer thread and its group commit.
//!
//! Exchanges are decoded, scope-checked and their new documents built in
//! parallel on the connections' tasks, then queued here. The writer takes
//! every queued exchange (up to [`GROUP_MAX`]), answers them all inside one
//! transaction, commits once (one fsync), and only then replies: nothing is
//! acknowledged before it is durable. While more exchanges are still being
//! prepared it waits for them a few milliseconds ([`WriterConfig::gather`]);
//! an idle hub commits a lone exchange at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use xaso_sync_core::protocol::SyncReply;

use crate::backend::{Exchange, RecordBackend};
use crate::error::HubError;

/// Most exchanges committed together (one fsync).
pub const GROUP_MAX: usize = 128;

/// One sync exchange waiting for the writer, with where its answer goes.
pub(crate) struct Job {
    pub(crate) exchange: Exchange,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<SyncReply, HubError>>,
}

/// Exchanges between arrival and the writer's queue, counted so the writer
/// knows more are coming.
#[derive(Default)]
pub(crate) struct Preparing(AtomicUsize);

/// One exchange counted in [`Preparing`] while it lives.
pub(crate) struct PreparingGuard<'a>(&'a Preparing);

impl Preparing {
    pub(crate) fn enter(&self) -> PreparingGuard<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        PreparingGuard(self)
    }

    fn any(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

impl Drop for PreparingGuard<'_> {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the writer thread shares with the hub.
pub(crate) struct WriterConfig {
    pub(crate) preparing: Arc<Preparing>,
    pub(crate) commits: Counter,
    /// Longest wait for exchanges still being prepared to join a group.
    pub(crate) gather: Duration,
    pub(crate) page_bytes: u32,
}

/// Take the next group from `queue`: the first job, then whatever else is
/// queued, waiting up to `gather` only while some exchange is still being
/// prepared. `None` when the queue is closed.
fn next_group(queue: &Receiver<Job>, config: &WriterConfig) -> Option<Vec<Job>> {
    let first = queue.recv().ok()?;
    let mut jobs = vec![first];
    let until = Instant::now() + config.gather;
    while jobs.len() < GROUP_MAX {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) if config.preparing.any() => {
                let left = until.saturating_duration_since(Instant::now());
                match queue.recv_timeout(left.min(Duration::from_millis(1))) {
                    Ok(job) => jobs.push(job),
                    Err(RecvTimeoutError::Timeout) if Instant::now() < until => {}
                    Err(_) => break,
                }
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// The writer loop: runs until the queue is closed (the hub is dropped).
pub(crate) fn run(
    backend: &Mutex<Box<dyn RecordBackend>>,
    queue: &Receiver<Job>,
    config: &WriterConfig,
) {
    while let Some(jobs) = next_group(queue, config) {
        let (mut exchanges, replies): (Vec<Exchange>, Vec<_>) =
            jobs.into_iter().map(|j| (j.exchange, j.reply)).unzip();
        let Ok(mut guard) = backend.lock() else {
            for reply in replies {
                let _ = reply.send(Err(HubError::LockPoisoned("record store")));
            }
            return;
        };
        let started = Instant::now();
        let outcome = guard.answer_group(&mut exchanges, config.page_bytes);
        drop(guard);
        config.commits.inc();
        tracing::debug!(
            exchanges = exchanges.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "group committed"
        );
        match outcome {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let e = Arc::new(e);
                for reply in replies {
                    let _ = reply.send(Err(HubError::CommitFailed(e.clone())));
                }
            }
        }
    }
}
