//! # Xã Số sync client
//!
//! The device side of sync over HTTPS (reqwest + rustls, TLS 1.3, mutual
//! TLS). It drives the sans-IO protocol of `xaso-sync-core` against the
//! device's encrypted store (`xaso-sync-store`) and moves the bytes; it has no
//! server code and no server dependencies.
//!
//! - [`enrol`] turns a one-time code into an [`Identity`]: the device makes
//!   its own key pair, sends a certificate request, and gets a certificate
//!   bound to its role and communes. Keep the identity with
//!   [`Identity::save`] (mode 0600).
//! - [`SyncClient::sync_once`] runs one [`ClientSession`] to completion over
//!   one reused connection. Every reply is applied durably before the next
//!   request, so a cut at any point loses nothing: just call it again.
//! - [`SyncClient::sync_blobs`] then moves attachments both ways, resumably.
//! - [`SyncClient::run`] repeats both forever with exponential backoff and
//!   jitter after failures ([`backoff_delay`]), until the
//!   [`CancellationToken`] is cancelled.
//!
//! Liveness is based on progress, never on a fixed per-request deadline: a
//! request fails only if no byte arrives for the liveness period (plus the
//! time the bytes we queued need at a floor rate), so a reply waiting behind
//! megabytes on a 64 kbit/s link is fine.
//!
//! Partitions go into URLs with each segment percent-escaped, whatever their
//! grammar allows.

mod backoff;
mod blobs;
mod central;
mod counter;
mod enrol;
mod error;
mod identity;
mod progress;
mod signing;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use xaso_sync_core::frame::{decode_frame, encode_frame};
use xaso_sync_core::protocol::{AnswerBody, ClientSession, KIND_REPLY, KIND_REQUEST, SyncReply};
use xaso_sync_core::{Partition, Vector};
use xaso_sync_store::Store;
use xaso_sync_tls::{HubCertVerifier, TlsError, Validity, provider, roots};

pub use backoff::{LoopPolicy, backoff_delay, backoff_delay_with};
pub use blobs::BlobReport;
pub use enrol::{enrol, key_and_request};
pub use error::Error;
pub use identity::Identity;
pub use progress::{Progress, ProgressSnapshot};
pub use signing::signing_key_and_request;
pub use tokio_util::sync::CancellationToken;

/// Peer label under which the hub's vectors are kept in the store.
pub const HUB_PEER: &str = "hub";

/// How a device checks the hub's certificate: WebPKI against the hub's CA,
/// except for the exact certificate it was given at enrolment (see `xaso-sync-tls`).
fn hub_verifier(identity: &Identity) -> Result<Arc<HubCertVerifier>, Error> {
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots(&identity.ca_pem)?),
        provider(),
    )
    .build()
    .map_err(TlsError::from)?;
    let pinned = identity.hub_cert_pem.as_deref().and_then(|pem| {
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
        let validity = Validity::of(&der).ok()?;
        Some((der.to_vec(), validity))
    });
    if identity.hub_cert_pem.is_some() && pinned.is_none() {
        tracing::warn!(
            "the hub certificate saved at enrolment is unreadable; checking its chain instead"
        );
    }
    Ok(Arc::new(HubCertVerifier { inner, pinned }))
}

/// The reply itself when the hub accepted the request, else [`Error::Refused`] with the
/// status and the hub's message.
pub(crate) async fn accepted(response: reqwest::Response) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let message = response.text().await.unwrap_or_default();
    Err(Error::Refused {
        status: status.as_u16(),
        message,
    })
}

impl SyncClient {
    /// `POST {base}{path}` with `body` as JSON; the answer's JSON, or `None` for a 404 when
    /// `not_found_is_none` (the counter's "no such dossier for this card").
    pub(crate) async fn post_json<T: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
        not_found_is_none: bool,
    ) -> Result<Option<R>, Error> {
        let body = serde_json::to_vec(body).map_err(xaso_sync_core::Error::Serialize)?;
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(Error::Network)?;
        read_json(response, not_found_is_none).await
    }

    /// `GET {base}{path}`; the answer's JSON.
    pub(crate) async fn get_json<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<R, Error> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(Error::Network)?;
        read_json(response, false).await?.ok_or(Error::Refused {
            status: 404,
            message: String::new(),
        })
    }
}

async fn read_json<R: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    not_found_is_none: bool,
) -> Result<Option<R>, Error> {
    if not_found_is_none && response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let bytes = accepted(response)
        .await?
        .bytes()
        .await
        .map_err(Error::Network)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| xaso_sync_core::Error::Deserialize(e).into())
}

/// One HTTPS connection pool (one idle connection kept) over `tls`.
fn http_client(tls: &rustls::ClientConfig, liveness: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .http1_only()
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .connect_timeout(liveness)
        .read_timeout(liveness)
        .build()
        .map_err(Error::Network)
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Request/reply exchanges.
    pub rounds: u32,
    /// Changes pushed.
    pub changes_sent: u64,
    /// Changes received and newly saved.
    pub changes_received: u64,
    /// HTTP body bytes sent.
    pub bytes_sent: u64,
    /// HTTP body bytes received.
    pub bytes_received: u64,
}

/// A device's connection to its hub.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    /// Kept to build a fresh connection pool; its session store (TLS
    /// resumption tickets) is shared by every connection this client opens.
    tls: rustls::ClientConfig,
    url: String,
    /// Hub base URL (no trailing slash).
    base: String,
    wanted: Vec<Partition>,
    liveness: Duration,
    floor_rate: u64,
    page_bytes: u32,
}

impl SyncClient {
    /// A client for `hub_url` using `identity`. Kiosks and helpers also sync
    /// their submissions partition and their commune's learning partition;
    /// officers discover their communes' partitions.
    pub fn new(hub_url: &str, identity: &Identity) -> Result<SyncClient, Error> {
        let chain = vec![
            CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).map_err(TlsError::from)?,
        ];
        let key =
            PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(TlsError::from)?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(TlsError::from)?
            .dangerous()
            .with_custom_certificate_verifier(hub_verifier(identity)?)
            .with_client_auth_cert(chain, key)
            .map_err(TlsError::from)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        // TLS records of at most 4 KiB (instead of 16 KiB): the hub can only
        // use what arrives in whole records, so on a link that breaks, a
        // resumed upload loses at most this much, not up to 16 KiB per cut.
        tls.max_fragment_size = Some(TLS_FRAGMENT);
        let liveness = Duration::from_secs(60);
        let http = http_client(&tls, liveness)?;
        let wanted = if identity.role.sees_communes() {
            Vec::new()
        } else {
            vec![
                identity.submissions_partition()?,
                identity.learning_partition()?,
            ]
        };
        Ok(SyncClient {
            http,
            tls,
            url: format!("{}/v1/sync", hub_url.trim_end_matches('/')),
            base: hub_url.trim_end_matches('/').to_owned(),
            wanted,
            liveness,
            floor_rate: 1024,
            page_bytes: xaso_sync_core::protocol::DEFAULT_PAGE_BYTES,
        })
    }

    /// Drop the kept connection: the next exchange opens a new one, resuming
    /// the TLS session when the hub's ticket is still valid. For a device
    /// whose network changed under it (modem swapped, LAN to 2G).
    pub fn reconnect(&mut self) -> Result<(), Error> {
        self.http = http_client(&self.tls, self.liveness)?;
        Ok(())
    }

    /// Fail a request when nothing moves for `liveness` (default 60 s).
    pub fn with_liveness(mut self, liveness: Duration) -> Self {
        self.liveness = liveness;
        self
    }

    /// Page size in both directions (default 2 MiB, before compression).
    pub fn with_page_bytes(mut self, bytes: u32) -> Self {
        self.page_bytes = bytes;
        self
    }

    /// Also sync these partitions (even before the store holds them).
    pub fn with_partitions(mut self, partitions: impl IntoIterator<Item = Partition>) -> Self {
        self.wanted.extend(partitions);
        self
    }

    /// Run one sync to completion. Each reply is saved durably before the
    /// next request; on error, what was saved stays saved.
    pub async fn sync_once(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<SyncReport, Error> {
        progress.reset();
        let mut session = ClientSession::new(HUB_PEER, self.wanted.iter().cloned())
            .with_page_bytes(self.page_bytes);
        let mut report = SyncReport::default();
        while let Some(request) = session.poll_request(store)? {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let pushed: u64 = request.offers.iter().map(|o| o.entries.len() as u64).sum();
            let frame = encode_frame(KIND_REQUEST, &request)?;
            report.bytes_sent += frame.len() as u64;
            let body = self.exchange(frame, progress, cancel).await?;
            report.bytes_received += body.len() as u64;
            let reply: SyncReply = decode_frame(KIND_REPLY, &body)?;
            let hub_vectors: Vec<(Partition, Vector)> = reply
                .answers
                .iter()
                .filter_map(|a| match &a.body {
                    AnswerBody::Changes { hub_have, .. } => {
                        Some((a.partition.clone(), hub_have.clone()))
                    }
                    AnswerBody::UpToDate => None,
                })
                .collect();
            let before = session.stats().entries_applied;
            session.handle_reply(store, reply)?;
            let applied = session.stats().entries_applied - before;
            report.rounds += 1;
            report.changes_sent += pushed;
            report.changes_received += applied;
            progress.0.changes_sent.fetch_add(pushed, Ordering::Relaxed);
            progress
                .0
                .changes_received
                .fetch_add(applied, Ordering::Relaxed);
            let mut remaining = 0;
            for (partition, hub_have) in hub_vectors {
                let mine = store.vector(&partition)?;
                remaining += hub_have
                    .0
                    .iter()
                    .map(|(o, &seq)| seq.saturating_sub(mine.get(o)))
                    .sum::<u64>();
            }
            progress
                .0
                .changes_remaining
                .store(remaining, Ordering::Relaxed);
        }
        tracing::info!(
            rounds = report.rounds,
            sent = report.changes_sent,
            received = report.changes_received,
            "sync finished"
        );
        Ok(report)
    }

    /// One raw HTTP exchange (a sync frame out, the reply frame back) with
    /// progress-based liveness and cancellation. [`sync_once`](Self::sync_once)
    /// uses it; tools and tests may replay frames with it.
    pub async fn exchange(
        &self,
        frame: Vec<u8>,
        progress: &Progress,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>, Error> {
        let frame_len = frame.len() as u64;
        let chunks: Vec<bytes::Bytes> = bytes::Bytes::from(frame)
            .chunks(16 * 1024)
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        let counter = progress.clone();
        let stream = futures_util::stream::iter(chunks.into_iter().map(move |chunk| {
            counter
                .0
                .bytes_sent
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk)
        }));
        let transfer = async {
            let response = self
                .http
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-xaso-sync")
                .header(reqwest::header::CONTENT_LENGTH, frame_len)
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
                .map_err(Error::Network)?;
            let mut response = accepted(response).await?;
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(Error::Network)? {
                progress
                    .0
                    .bytes_received
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                body.extend_from_slice(&chunk);
                if body.len() > xaso_sync_core::protocol::MAX_PAYLOAD + 64 {
                    return Err(Error::BadReply("larger than any frame may be"));
                }
            }
            Ok(body)
        };
        self.guarded(frame_len, progress, cancel, transfer).await
    }

    /// Run `transfer` under progress-based liveness and cancellation: it
    /// fails with [`Error::Stalled`] only when no byte moves (in either
    /// direction, as counted in `progress`) for the liveness period plus the
    /// time `queued` bytes need at the floor rate, whatever its total length.
    async fn guarded<T>(
        &self,
        queued: u64,
        progress: &Progress,
        cancel: &CancellationToken,
        transfer: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        // Liveness: the bytes we queued may take queued / floor_rate to drain
        // before the hub can answer; after that, something must keep moving.
        let allowance = self.liveness + Duration::from_secs(queued / self.floor_rate.max(1));
        let watchdog = async {
            let mut last = progress.total_bytes();
            let mut last_change = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = progress.total_bytes();
                if now != last {
                    last = now;
                    last_change = Instant::now();
                } else if last_change.elapsed() > allowance {
                    return Error::Stalled(allowance.as_secs());
                }
            }
        };
        tokio::select! {
            result = transfer => result,
            error = watchdog => Err(error),
            () = cancel.cancelled() => Err(Error::Cancelled),
        }
    }

    /// Sync forever (records, then attachments with [`sync_blobs`](Self::sync_blobs)):
    /// after a success wait `policy.interval`, after a failure
    /// back off exponentially with jitter. Returns when cancelled. `on_result`
    /// sees every outcome (for the UI's status line).
    pub async fn run(
        &self,
        store: &mut Store,
        policy: &LoopPolicy,
        progress: &Progress,
        cancel: &CancellationToken,
        mut on_result: impl FnMut(&Result<SyncReport, Error>),
    ) {
        let mut attempt = 0u32;
        while !cancel.is_cancelled() {
            // Records first (they carry the blob index), then the attachments.
            let result = match self.sync_once(store, progress, cancel).await {
                Ok(report) => self
                    .sync_blobs(store, progress, cancel)
                    .await
                    .map(|_| report),
                Err(e) => Err(e),
            };
            on_result(&result);
            let wait = match &result {
                Ok(_) => {
                    attempt = 0;
                    policy.interval
                }
                Err(Error::Cancelled) => return,
                Err(e) => {
                    if e.is_transient() {
                        tracing::info!(error = %e, attempt, "sync failed; will retry");
                    } else {
                        tracing::warn!(error = %e, attempt, "sync failed and needs attention; will retry");
                    }
                    let delay = backoff_delay(policy, attempt);
                    attempt = attempt.saturating_add(1);
                    delay
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cancel.cancelled() => return,
            }
        }
    }
}

/// Largest TLS record this device sends (see [`SyncClient::new`]).
const TLS_FRAGMENT: usize = 4096;
