//! The officer tablet's link to the commune hub: a background thread that syncs the record
//! store (records, then attachments) every `interval` and whenever "sync now" asks, on its
//! own handle of the store file. After each sync round it also asks the hub how its outbox
//! to the public-service platform stands ([`PortalView`]); a failure of that question never
//! fails the sync. "Send again" asks the thread to put a refused packet (or all) back in line
//! ([`LinkRequest::Retry`]) and read the outbox again. The screen reads [`LinkStatus`]: the
//! link's state, the last successful sync, the last error, the transfer under way and the
//! outbox.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xaso_sync_client::{CancellationToken, Identity, Progress, ProgressSnapshot, SyncClient};
use xaso_sync_core::central::CentralStatus;

/// The link as the sync screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting for the next sync.
    Idle,
    Syncing,
    /// The hub could not be reached (the network, not the hub, failed).
    Offline,
    /// The hub answered with an error.
    Failed,
    /// No hub is configured.
    NoHub,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkStatus {
    pub state: LinkState,
    pub last_ok: Option<jiff::Timestamp>,
    /// The last failure, for the screen (no personal data in it).
    pub last_error: Option<String>,
    /// The transfer under way.
    pub progress: Option<ProgressSnapshot>,
    /// Completed syncs since start.
    pub syncs: u64,
    /// The hub's outbox to the public-service platform.
    pub portal: PortalView,
    /// The last "send again" could not reach the hub (cleared by the next that does).
    pub retry_failed: bool,
}

/// What the tablet knows of the hub's outbox to the public-service platform.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PortalView {
    /// Not asked yet, or the hub could not be reached.
    #[default]
    Unknown,
    /// The hub does not tell this device (403/404: not an officer's, or an older hub).
    Unavailable,
    /// The hub's answer (which says whether it talks to a platform at all).
    Known(CentralStatus),
}

/// What the screen asks of the link thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRequest {
    /// Sync now.
    SyncNow,
    /// Put a refused packet (`Some(key)`), or every refused packet, back in line, then read
    /// the outbox again.
    Retry(Option<String>),
}

/// The background sync of an officer tablet.
pub struct OfficerLink {
    status: Arc<Mutex<LinkStatus>>,
    progress: Progress,
    wake: Option<mpsc::Sender<LinkRequest>>,
    cancel: CancellationToken,
}

impl Drop for OfficerLink {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl OfficerLink {
    fn with_state(state: LinkState, wake: Option<mpsc::Sender<LinkRequest>>) -> OfficerLink {
        OfficerLink::with_status(
            LinkStatus {
                state,
                last_ok: None,
                last_error: None,
                progress: None,
                syncs: 0,
                portal: PortalView::Unknown,
                retry_failed: false,
            },
            wake,
        )
    }

    fn with_status(status: LinkStatus, wake: Option<mpsc::Sender<LinkRequest>>) -> OfficerLink {
        OfficerLink {
            status: Arc::new(Mutex::new(status)),
            progress: Progress::default(),
            wake,
            cancel: CancellationToken::new(),
        }
    }

    /// A tablet without a hub: the screen says so.
    pub fn none() -> OfficerLink {
        OfficerLink::with_state(LinkState::NoHub, None)
    }

    /// A link that only shows `status` and never syncs (the screenshot tour's sample).
    pub fn showing(status: LinkStatus) -> OfficerLink {
        OfficerLink::with_status(status, None)
    }

    /// Starts syncing the store in `store_dir` (`records.db`, `device.key`) with `hub_url`.
    pub fn start(
        store_dir: PathBuf,
        hub_url: String,
        identity: Identity,
        interval: Duration,
    ) -> Result<OfficerLink, std::io::Error> {
        let (tx, rx) = mpsc::channel::<LinkRequest>();
        let link = OfficerLink::with_state(LinkState::Idle, Some(tx));
        // Opened (and migrated) here, before the thread starts: never two migrations at once.
        let key = store_dir.join("device.key");
        let store = std::fs::create_dir_all(&store_dir)
            .map_err(|e| e.to_string())
            .and_then(|()| xaso_sync_store::ensure_key_file(&key).map_err(|e| e.to_string()))
            .and_then(|()| {
                xaso_sync_store::Store::open(&store_dir.join("records.db"), &key)
                    .map_err(|e| e.to_string())
            });
        let status = link.status.clone();
        let progress = link.progress.clone();
        let cancel = link.cancel.clone();
        std::thread::Builder::new()
            .name("xaso-officer-sync".into())
            .spawn(move || {
                run(
                    store, hub_url, identity, interval, rx, status, progress, cancel,
                )
            })?;
        Ok(link)
    }

    /// "Sync now".
    pub fn sync_now(&self) {
        self.ask(LinkRequest::SyncNow);
    }

    /// "Send again": one refused packet by key, or all of them.
    pub fn retry(&self, key: Option<String>) {
        self.ask(LinkRequest::Retry(key));
    }

    fn ask(&self, request: LinkRequest) {
        if let Some(tx) = &self.wake {
            let _ = tx.send(request);
        }
    }

    pub fn status(&self) -> LinkStatus {
        let mut s = match self.status.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        };
        if s.state == LinkState::Syncing {
            s.progress = Some(self.progress.snapshot());
        }
        s
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    store: Result<xaso_sync_store::Store, String>,
    hub_url: String,
    identity: Identity,
    interval: Duration,
    wake: mpsc::Receiver<LinkRequest>,
    status: Arc<Mutex<LinkStatus>>,
    progress: Progress,
    cancel: CancellationToken,
) {
    let set = |f: &dyn Fn(&mut LinkStatus)| {
        if let Ok(mut s) = status.lock() {
            f(&mut s);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            set(&|s| {
                s.state = LinkState::Failed;
                s.last_error = Some(e.to_string());
            });
            return;
        }
    };
    let opened = SyncClient::new(&hub_url, &identity).map_err(|e| e.to_string());
    let (mut store, client) = match (store, opened) {
        (Ok(store), Ok(client)) => (store, client),
        (Err(e), _) | (_, Err(e)) => {
            set(&|s| {
                s.state = LinkState::Failed;
                s.last_error = Some(e.clone());
                s.syncs += 1;
            });
            return;
        }
    };
    loop {
        if cancel.is_cancelled() {
            return;
        }
        set(&|s| s.state = LinkState::Syncing);
        let result = runtime.block_on(async {
            client.sync_once(&mut store, &progress, &cancel).await?;
            client.sync_blobs(&mut store, &progress, &cancel).await
        });
        match result {
            Ok(_) => set(&|s| {
                s.state = LinkState::Idle;
                s.last_ok = Some(jiff::Timestamp::now());
                s.last_error = None;
                s.syncs += 1;
            }),
            Err(e) => {
                let offline = e.is_transient();
                let text = e.to_string();
                tracing::warn!("officer tablet sync failed: {text}");
                set(&|s| {
                    s.state = if offline {
                        LinkState::Offline
                    } else {
                        LinkState::Failed
                    };
                    s.last_error = Some(text.clone());
                    s.syncs += 1;
                });
            }
        }
        let portal = runtime.block_on(portal_view(&client));
        if portal != PortalView::Unknown {
            set(&|s| s.portal = portal.clone());
        }
        // Wait for the next round; "send again" is answered at once and the wait goes on.
        let due = std::time::Instant::now() + interval;
        loop {
            let left = due.saturating_duration_since(std::time::Instant::now());
            match wake.recv_timeout(left) {
                Ok(LinkRequest::SyncNow) | Err(RecvTimeoutError::Timeout) => break,
                Ok(LinkRequest::Retry(key)) => {
                    let retried = runtime.block_on(client.central_retry(key.as_deref()));
                    if let Err(e) = &retried {
                        tracing::warn!("central retry failed: {e}");
                    }
                    let portal = runtime.block_on(portal_view(&client));
                    set(&|s| {
                        s.retry_failed = retried.is_err();
                        if portal != PortalView::Unknown {
                            s.portal = portal.clone();
                        }
                    });
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if cancel.is_cancelled() {
                return;
            }
        }
    }
}

/// The hub's outbox as this device may see it. A 403/404 means the hub does not tell it;
/// any other failure leaves what was known (`Unknown`).
async fn portal_view(client: &SyncClient) -> PortalView {
    match client.central_status().await {
        Ok(status) => PortalView::Known(status),
        Err(xaso_sync_client::Error::Refused {
            status: 403 | 404, ..
        }) => PortalView::Unavailable,
        Err(e) => {
            tracing::warn!("central status not read: {e}");
            PortalView::Unknown
        }
    }
}
