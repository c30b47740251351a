//! The kiosk's link to the commune hub: enrolment once, then the sync loop in a background
//! thread. The UI never talks to the network; the loop opens its own handle on the same
//! encrypted record store (SQLite WAL lets both work at once) and syncs whenever it can.

use std::path::{Path, PathBuf};
use std::time::Duration;

use xaso_sync_client::{
    self as client, BlobReport, CancellationToken, Identity, LoopPolicy, Progress, SyncClient,
    SyncReport,
};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Sync(#[from] xaso_sync_client::Error),
    #[error(transparent)]
    Store(#[from] xaso_sync_store::Error),
    #[error("cannot start the sync runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Where the identity is kept inside the store directory.
pub fn identity_path(store_dir: &Path) -> PathBuf {
    store_dir.join("hub-identity.json")
}

fn runtime() -> Result<tokio::runtime::Runtime, LinkError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Enrols this kiosk with the hub (one-time code shown on the hub, the hub's CA
/// certificate) and saves the identity in the store directory.
pub fn enrol(
    store_dir: &Path,
    hub_url: &str,
    ca_pem: &str,
    code: &str,
) -> Result<Identity, LinkError> {
    let identity = runtime()?.block_on(client::enrol(hub_url, ca_pem, code))?;
    std::fs::create_dir_all(store_dir)?;
    identity.save(&identity_path(store_dir))?;
    Ok(identity)
}

/// One sync with the hub on the given record store: the records, then the pages (blobs)
/// the hub does not hold yet.
pub fn sync_once(
    store: &mut xaso_sync_store::Store,
    hub_url: &str,
    identity: &Identity,
) -> Result<(SyncReport, BlobReport), LinkError> {
    let client = SyncClient::new(hub_url, identity)?;
    let (progress, cancel) = (Progress::default(), CancellationToken::new());
    let runtime = runtime()?;
    let records = runtime.block_on(client.sync_once(store, &progress, &cancel))?;
    let pages = runtime.block_on(client.push_blobs(store, &progress, &cancel))?;
    Ok((records, pages))
}

/// Runs the sync loop in a background thread until the returned [`CancellationToken`] is cancelled.
pub fn spawn_sync_loop(
    store_dir: &Path,
    hub_url: String,
    identity: Identity,
) -> Result<CancellationToken, LinkError> {
    let cancel = CancellationToken::new();
    let loop_cancel = cancel.clone();
    let db = store_dir.join("records.db");
    let key = store_dir.join("device.key");
    std::thread::Builder::new()
        .name("xaso-kiosk-sync".into())
        .spawn(move || {
            let result = (|| -> Result<(), LinkError> {
                let mut store = xaso_sync_store::Store::open(&db, &key)?;
                let client = SyncClient::new(&hub_url, &identity)?;
                let policy = LoopPolicy {
                    interval: Duration::from_secs(30),
                    ..LoopPolicy::default()
                };
                runtime()?.block_on(client.run(
                    &mut store,
                    &policy,
                    &Progress::default(),
                    &loop_cancel,
                    |r| match r {
                        Ok(report) => tracing::info!(
                            sent = report.changes_sent,
                            received = report.changes_received,
                            "synced with the commune hub"
                        ),
                        Err(e) => tracing::warn!("sync with the commune hub failed: {e}"),
                    },
                ));
                Ok(())
            })();
            if let Err(e) = result {
                tracing::error!("the sync loop stopped: {e}");
            }
        })?;
    Ok(cancel)
}
