//! The device side: enrolment and the sync loop over HTTPS (reqwest + rustls,
//! TLS 1.3, mutual TLS).
//!
//! - [`enrol`] turns a one-time code into an [`Identity`]: the device makes
//!   its own key pair, sends a certificate request, and gets a certificate
//!   bound to its role and communes. Keep the identity with
//!   [`Identity::save`] (mode 0600).
//! - [`SyncClient::sync_once`] runs one [`ClientSession`] to completion over
//!   one reused connection. Every reply is applied durably before the next
//!   request, so a cut at any point loses nothing: just call it again.
//! - [`SyncClient::run`] repeats that forever with exponential backoff and
//!   jitter after failures, until cancelled.
//!
//! Liveness is based on progress, never on a fixed per-request deadline: a
//! request fails only if no byte arrives for the liveness period (plus the
//! time the bytes we queued need at a floor rate), so a reply waiting behind
//! megabytes on a 64 kbit/s link is fine.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use crate::blob::{self, BlobHash, Held, StatusReply, StatusRequest, Transfer, UploadReply};
use crate::hub::{EnrolRequest, EnrolResponse, Role};
use crate::protocol::{
    AnswerBody, ClientSession, KIND_REPLY, KIND_REQUEST, SyncReply, decode_frame, encode_frame,
};
use crate::tls::{HubCertVerifier, Validity, provider};
use crate::{Error, Partition, Store};

/// Peer label under which the hub's vectors are kept in the store.
pub const HUB_PEER: &str = "hub";

/// A device's credentials, as issued at enrolment.
#[derive(Clone, Serialize, Deserialize)]
pub struct Identity {
    /// Device id.
    pub device_id: String,
    /// Role.
    pub role: Role,
    /// Communes.
    pub communes: Vec<String>,
    /// Device certificate.
    pub cert_pem: String,
    /// Device private key (never leaves the device).
    pub key_pem: String,
    /// Hub CA certificate.
    pub ca_pem: String,
    /// Number within the commune for tracking codes, given at enrolment
    /// (`None` in identities saved before hubs gave numbers: enrol again).
    #[serde(default)]
    pub device_number: Option<u16>,
    /// The hub's own certificate as given at enrolment: presented again, it
    /// is trusted without checking its chain (`None`: always check the chain).
    #[serde(default)]
    pub hub_cert_pem: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("device_id", &self.device_id)
            .field("role", &self.role)
            .field("device_number", &self.device_number)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Write to `path` (JSON, mode 0600, fsynced).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let json = serde_json::to_vec_pretty(self).map_err(Error::Serialize)?;
        let tmp = path.with_extension("tmp");
        let io = |e| Error::Io {
            context: format!("write {}", path.display()),
            source: e,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    /// Read from `path`.
    pub fn load(path: &Path) -> Result<Identity, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            context: format!("read {}", path.display()),
            source: e,
        })?;
        serde_json::from_slice(&bytes).map_err(Error::Deserialize)
    }

    /// The partition where this device keeps its own submissions (kiosks, helpers).
    pub fn submissions_partition(&self) -> Result<Partition, Error> {
        let commune = self
            .communes
            .first()
            .ok_or_else(|| Error::Enrolment("identity has no commune".into()))?;
        Partition::submissions(commune, &self.device_id)
    }
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

fn roots(ca_pem: &str) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(tls_err)?)
        .map_err(tls_err)?;
    Ok(roots)
}

/// How a device checks the hub's certificate: WebPKI against the hub's CA,
/// except for the exact certificate it was given at enrolment (see [`crate::tls`]).
fn hub_verifier(identity: &Identity) -> Result<Arc<HubCertVerifier>, Error> {
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots(&identity.ca_pem)?),
        provider(),
    )
    .build()
    .map_err(tls_err)?;
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
async fn accepted(response: reqwest::Response) -> Result<reqwest::Response, Error> {
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

fn net_err(e: reqwest::Error) -> Error {
    Error::Network(format!("{e:#}"))
}

/// Enrol this device with the hub at `hub_url`, trusting only `ca_pem`.
pub async fn enrol(hub_url: &str, ca_pem: &str, code: &str) -> Result<Identity, Error> {
    let key = rcgen::KeyPair::generate().map_err(tls_err)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "xaso-device");
    let csr = params
        .serialize_request(&key)
        .map_err(tls_err)?
        .pem()
        .map_err(tls_err)?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_root_certificates(roots(ca_pem)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .http1_only()
        .connect_timeout(Duration::from_secs(60))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(net_err)?;
    let response = http
        .post(format!("{}/v1/enrol", hub_url.trim_end_matches('/')))
        .json(&EnrolRequest {
            code: code.to_owned(),
            csr_pem: csr,
        })
        .send()
        .await
        .map_err(net_err)?;
    let response = accepted(response).await?;
    let answer: EnrolResponse = response.json().await.map_err(net_err)?;
    Ok(Identity {
        device_id: answer.device_id,
        role: answer.role,
        communes: answer.communes,
        cert_pem: answer.cert_pem,
        key_pem: key.serialize_pem(),
        ca_pem: answer.ca_pem,
        device_number: Some(answer.device_number),
        hub_cert_pem: answer.hub_cert_pem,
    })
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
        .map_err(net_err)
}

/// Progress of the current sync, shared with the UI. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<ProgressInner>);

#[derive(Debug, Default)]
struct ProgressInner {
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    changes_sent: AtomicU64,
    changes_received: AtomicU64,
    changes_remaining: AtomicU64,
    blob_bytes_done: AtomicU64,
    blob_bytes_total: AtomicU64,
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
    /// blob transfer ([`SyncClient::push_blobs`], [`SyncClient::pull_blobs`]).
    pub blob_bytes_done: u64,
    /// Attachment bytes that transfer has to move in all (known once it has
    /// asked the hub what it holds).
    pub blob_bytes_total: u64,
}

impl Progress {
    fn now_ms(&self) -> u64 {
        self.0.epoch.get_or_init(Instant::now).elapsed().as_millis() as u64
    }
    fn reset(&self) {
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
    fn total_bytes(&self) -> u64 {
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

/// Cancels a sync or the sync loop. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<(AtomicBool, tokio::sync::Notify)>);

impl Cancel {
    /// Ask everything using this token to stop.
    pub fn cancel(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }
    /// Was cancellation requested?
    pub fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }
    async fn cancelled(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
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

/// Settings of the sync loop.
#[derive(Debug, Clone)]
pub struct LoopPolicy {
    /// Pause between successful syncs.
    pub interval: Duration,
    /// First retry delay after a failure.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for LoopPolicy {
    fn default() -> Self {
        LoopPolicy {
            interval: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(600),
        }
    }
}

/// Delay before retry number `attempt` (0-based): exponential, capped, with ±50% jitter.
pub fn backoff_delay(policy: &LoopPolicy, attempt: u32) -> Duration {
    let exp = policy
        .backoff_base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)));
    let capped = exp.min(policy.backoff_max);
    capped.mul_f64(rand::random_range(0.5..1.5))
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
    /// their submissions partition; officers discover their communes' partitions.
    pub fn new(hub_url: &str, identity: &Identity) -> Result<SyncClient, Error> {
        let chain =
            vec![CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).map_err(tls_err)?];
        let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(tls_err)?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .dangerous()
            .with_custom_certificate_verifier(hub_verifier(identity)?)
            .with_client_auth_cert(chain, key)
            .map_err(tls_err)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        // TLS records of at most 4 KiB (instead of 16 KiB): the hub can only
        // use what arrives in whole records, so on a link that breaks, a
        // resumed upload loses at most this much, not up to 16 KiB per cut.
        tls.max_fragment_size = Some(TLS_FRAGMENT);
        let liveness = Duration::from_secs(60);
        let http = http_client(&tls, liveness)?;
        let wanted = match identity.role {
            Role::Kiosk | Role::Helper => vec![identity.submissions_partition()?],
            Role::Officer | Role::Provincial => Vec::new(),
        };
        Ok(SyncClient {
            http,
            tls,
            url: format!("{}/v1/sync", hub_url.trim_end_matches('/')),
            base: hub_url.trim_end_matches('/').to_owned(),
            wanted,
            liveness,
            floor_rate: 1024,
            page_bytes: crate::protocol::DEFAULT_PAGE_BYTES,
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
        cancel: &Cancel,
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
            let hub_vectors: Vec<(Partition, crate::Vector)> = reply
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
        cancel: &Cancel,
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
                .map_err(net_err)?;
            let mut response = accepted(response).await?;
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(net_err)? {
                progress
                    .0
                    .bytes_received
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                body.extend_from_slice(&chunk);
                if body.len() > crate::protocol::MAX_PAYLOAD + 64 {
                    return Err(Error::Decode("reply too large".into()));
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
        cancel: &Cancel,
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
        cancel: &Cancel,
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
                    tracing::warn!(error = %e, attempt, "sync failed; will retry");
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

/// What one blob transfer ([`SyncClient::push_blobs`] / [`SyncClient::pull_blobs`]) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobReport {
    /// Blobs that reached the hub whole and verified in this run.
    pub uploaded: u64,
    /// Blobs received whole and verified in this run.
    pub downloaded: u64,
    /// Blob bytes sent (request bodies), including any lost in a cut.
    pub bytes_sent: u64,
    /// Blob bytes received.
    pub bytes_received: u64,
    /// Transfers that resumed from a durable offset above zero.
    pub resumed: u64,
    /// Bytes not sent again thanks to resuming (the sum of those offsets).
    pub bytes_skipped: u64,
    /// Blobs named by the index that the hub does not hold yet.
    pub unavailable: u64,
}

impl BlobReport {
    fn add(&mut self, other: &BlobReport) {
        self.uploaded += other.uploaded;
        self.downloaded += other.downloaded;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.resumed += other.resumed;
        self.bytes_skipped += other.bytes_skipped;
        self.unavailable += other.unavailable;
    }
}

/// Attachments: push and pull blobs (see [`crate::blob`]).
impl SyncClient {
    fn blob_url(&self, partition: &Partition, hash: &BlobHash) -> String {
        format!("{}/v1/blobs/{hash}/{partition}", self.base)
    }

    /// Push, then pull: after [`sync_once`](Self::sync_once), this moves the
    /// attachments both ways. Each is resumable: call it again after an error.
    pub async fn sync_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BlobReport, Error> {
        let mut report = self.push_blobs(store, progress, cancel).await?;
        report.add(&self.pull_blobs(store, progress, cancel).await?);
        Ok(report)
    }

    /// Upload every blob of this store's partitions that the hub does not
    /// hold yet, each from the hub's durable offset. Blobs the hub confirmed
    /// are remembered and not asked about again. Progress counts bytes
    /// ([`ProgressSnapshot::blob_bytes_done`] of `blob_bytes_total`).
    pub async fn push_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BlobReport, Error> {
        reset_blob_progress(progress);
        let mut report = BlobReport::default();
        for partition in store.partitions()? {
            let local = store.blobs_unconfirmed(HUB_PEER, &partition)?;
            for batch in local.chunks(blob::MAX_STATUS_HASHES) {
                let status = self
                    .blob_status(
                        &StatusRequest {
                            partition: partition.clone(),
                            hashes: batch.iter().map(|b| b.hash).collect(),
                        },
                        progress,
                        cancel,
                    )
                    .await?;
                let plan = blob::plan_push(batch, &status);
                store.confirm_blobs(HUB_PEER, &partition, &plan.confirmed)?;
                let total: u64 = plan.uploads.iter().map(Transfer::remaining).sum();
                progress
                    .0
                    .blob_bytes_total
                    .fetch_add(total, Ordering::Relaxed);
                for transfer in plan.uploads {
                    if cancel.is_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    self.push_one(store, &partition, transfer, progress, cancel, &mut report)
                        .await?;
                }
            }
        }
        tracing::info!(
            uploaded = report.uploaded,
            bytes = report.bytes_sent,
            resumed = report.resumed,
            "blobs pushed"
        );
        Ok(report)
    }

    async fn push_one(
        &self,
        store: &mut Store,
        partition: &Partition,
        mut transfer: Transfer,
        progress: &Progress,
        cancel: &Cancel,
        report: &mut BlobReport,
    ) -> Result<(), Error> {
        let Some(bytes) = store.blob(partition, &transfer.hash)? else {
            return Ok(());
        };
        // A 409 says where the hub really stands (another upload moved it):
        // go on from there, a few times at most.
        for _ in 0..3 {
            if transfer.offset > 0 {
                report.resumed += 1;
                report.bytes_skipped += transfer.offset;
            }
            let body = bytes
                .get(transfer.offset as usize..)
                .unwrap_or_default()
                .to_vec();
            let sent_before = progress.0.bytes_sent.load(Ordering::Relaxed);
            let outcome = self
                .upload_blob(
                    partition,
                    &transfer.hash,
                    transfer.size,
                    transfer.offset,
                    body,
                    progress,
                    cancel,
                )
                .await;
            report.bytes_sent += progress.0.bytes_sent.load(Ordering::Relaxed) - sent_before;
            match outcome {
                Ok(held) if held.is_complete() => {
                    report.uploaded += 1;
                    store.confirm_blobs(HUB_PEER, partition, &[transfer.hash])?;
                    return Ok(());
                }
                Ok(held) => transfer.offset = held.offset(),
                Err(Error::BlobGap { held }) => transfer.offset = held,
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoProgress)
    }

    /// Download every blob that the index of this store's partitions names
    /// and the store lacks, when the hub holds it; each resumes from what
    /// the store already holds durably and becomes visible only once its
    /// SHA-256 verifies.
    pub async fn pull_blobs(
        &self,
        store: &mut Store,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<BlobReport, Error> {
        reset_blob_progress(progress);
        let mut report = BlobReport::default();
        for partition in store.partitions()? {
            let missing = store.missing_blobs(&partition)?;
            for batch in missing.chunks(blob::MAX_STATUS_HASHES) {
                let wanted = batch
                    .iter()
                    .map(|info| Ok((*info, store.blob_held(&partition, &info.hash)?)))
                    .collect::<Result<Vec<_>, Error>>()?;
                let status = self
                    .blob_status(
                        &StatusRequest {
                            partition: partition.clone(),
                            hashes: batch.iter().map(|b| b.hash).collect(),
                        },
                        progress,
                        cancel,
                    )
                    .await?;
                let plan = blob::plan_pull(&wanted, &status);
                report.unavailable += plan.unavailable.len() as u64;
                let total: u64 = plan.downloads.iter().map(Transfer::remaining).sum();
                progress
                    .0
                    .blob_bytes_total
                    .fetch_add(total, Ordering::Relaxed);
                for transfer in plan.downloads {
                    if cancel.is_cancelled() {
                        return Err(Error::Cancelled);
                    }
                    if transfer.offset > 0 {
                        report.resumed += 1;
                        report.bytes_skipped += transfer.offset;
                    }
                    let received_before = progress.0.bytes_received.load(Ordering::Relaxed);
                    let outcome = self
                        .download_blob(store, &partition, transfer, progress, cancel)
                        .await;
                    report.bytes_received +=
                        progress.0.bytes_received.load(Ordering::Relaxed) - received_before;
                    let held = outcome?;
                    if !held.is_complete() {
                        return Err(Error::Network(format!(
                            "the hub sent {} of {} bytes of a blob",
                            held.offset(),
                            transfer.size
                        )));
                    }
                    report.downloaded += 1;
                    store.confirm_blobs(HUB_PEER, &partition, &[transfer.hash])?;
                }
            }
        }
        tracing::info!(
            downloaded = report.downloaded,
            bytes = report.bytes_received,
            resumed = report.resumed,
            unavailable = report.unavailable,
            "blobs pulled"
        );
        Ok(report)
    }

    /// Ask the hub what it holds of some blobs of one partition.
    pub async fn blob_status(
        &self,
        request: &StatusRequest,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<StatusReply, Error> {
        let body = serde_json::to_vec(request).map_err(Error::Serialize)?;
        let len = body.len() as u64;
        let transfer = async {
            progress.0.bytes_sent.fetch_add(len, Ordering::Relaxed);
            let response = self
                .http
                .post(format!("{}/v1/blobs/status", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(net_err)?;
            let bytes = accepted(response).await?.bytes().await.map_err(net_err)?;
            progress
                .0
                .bytes_received
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            serde_json::from_slice(&bytes).map_err(Error::Deserialize)
        };
        self.guarded(len, progress, cancel, transfer).await
    }

    /// Send `bytes` as the part of blob `hash` (declared `size` bytes) that
    /// starts at `offset`, in one streamed request. Returns what the hub
    /// holds afterwards; [`Error::BlobGap`] if it holds less than
    /// `offset`. [`push_blobs`](Self::push_blobs) uses it; tools and tests
    /// may send any bytes with it.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_blob(
        &self,
        partition: &Partition,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        bytes: Vec<u8>,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<Held, Error> {
        let len = bytes.len() as u64;
        let chunks: Vec<bytes::Bytes> = bytes::Bytes::from(bytes)
            .chunks(UPLOAD_CHUNK)
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        let counter = progress.clone();
        let stream = futures_util::stream::iter(chunks.into_iter().map(move |chunk| {
            let n = chunk.len() as u64;
            counter.0.bytes_sent.fetch_add(n, Ordering::Relaxed);
            counter.0.blob_bytes_done.fetch_add(n, Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk)
        }));
        let transfer = async {
            let response = self
                .http
                .put(self.blob_url(partition, hash))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, len)
                .header("upload-offset", offset)
                .header("upload-length", size)
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
                .map_err(net_err)?;
            if response.status() == reqwest::StatusCode::CONFLICT {
                let reply: UploadReply = response.json().await.map_err(net_err)?;
                return Err(Error::BlobGap {
                    held: reply.held.offset(),
                });
            }
            let reply: UploadReply = accepted(response).await?.json().await.map_err(net_err)?;
            Ok(reply.held)
        };
        self.guarded(len.min(64 * 1024), progress, cancel, transfer)
            .await
    }

    /// Fetch the rest of one blob from `transfer.offset` into `store`,
    /// committing what arrives every [`blob::FLUSH_BYTES`] (and what arrived
    /// before a break), so a cut resumes from there. Returns what the store
    /// holds afterwards (complete only if the hash verified).
    pub async fn download_blob(
        &self,
        store: &mut Store,
        partition: &Partition,
        transfer: Transfer,
        progress: &Progress,
        cancel: &Cancel,
    ) -> Result<Held, Error> {
        let url = self.blob_url(partition, &transfer.hash);
        let transfer_future = async {
            let response = self
                .http
                .get(url)
                .header(
                    reqwest::header::RANGE,
                    format!("bytes={}-", transfer.offset),
                )
                .send()
                .await
                .map_err(net_err)?;
            let mut response = accepted(response).await?;
            let mut incoming = blob::Incoming::new(transfer.offset);
            let mut held = store.blob_held(partition, &transfer.hash)?;
            let broken = loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let n = chunk.len() as u64;
                        progress.0.bytes_received.fetch_add(n, Ordering::Relaxed);
                        progress.0.blob_bytes_done.fetch_add(n, Ordering::Relaxed);
                        if incoming.next_offset() + n > transfer.size {
                            break Some(Error::BadChunk);
                        }
                        if let Some((at, piece)) = incoming.push(&chunk) {
                            held = store.append_blob_chunk(
                                partition,
                                &transfer.hash,
                                transfer.size,
                                at,
                                &piece,
                            )?;
                        }
                    }
                    Ok(None) => break None,
                    Err(e) => break Some(net_err(e)),
                }
            };
            // What arrived before a break is good (TLS authenticated it): keep it.
            if let Some((at, piece)) = incoming.finish() {
                held = store.append_blob_chunk(
                    partition,
                    &transfer.hash,
                    transfer.size,
                    at,
                    &piece,
                )?;
            } else if transfer.size == 0 {
                held = store.append_blob_chunk(partition, &transfer.hash, 0, 0, &[])?;
            }
            match broken {
                Some(e) => Err(e),
                None => Ok(held),
            }
        };
        self.guarded(0, progress, cancel, transfer_future).await
    }
}

/// Largest TLS record this device sends (see [`SyncClient::new`]).
const TLS_FRAGMENT: usize = 4096;

/// Upload bodies are handed to the connection in pieces of this size, so
/// progress and cancellation are fine-grained on slow links.
const UPLOAD_CHUNK: usize = 4 * 1024;

fn reset_blob_progress(progress: &Progress) {
    progress.0.blob_bytes_done.store(0, Ordering::Relaxed);
    progress.0.blob_bytes_total.store(0, Ordering::Relaxed);
}
