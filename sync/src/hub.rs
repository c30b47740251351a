//! The commune hub: HTTPS only (TLS 1.3), mutual TLS with certificates from
//! the hub's own CA, one-time enrolment codes, commune-scoped access,
//! revocation, structured logs and Prometheus `/metrics`.
//!
//! A hub lives in one directory:
//! - `hub.key`: the secret (0600) that encrypts both databases;
//! - `hub.db`: a [`Store`] holding every partition the hub serves;
//! - `registry.db`: the CA, the server certificate, enrolment codes, devices.
//!
//! Endpoints:
//! - `POST /v1/enrol` (no client certificate yet): JSON `{code, csr_pem}` →
//!   the device certificate, bound to the role and communes of the code.
//! - `POST /v1/sync` (client certificate required): one protocol exchange
//!   (see [`crate::protocol`]). `403` if any partition is outside the device's
//!   scope (nothing is written), `401` if the certificate is unknown or revoked.
//! - `POST /v1/blobs/status` (client certificate): JSON
//!   [`StatusRequest`] → what the hub holds of
//!   each blob ([`StatusReply`]).
//! - `PUT /v1/blobs/{sha256}/{partition}` (client certificate): upload bytes
//!   of a blob from `Upload-Offset` (declared size `Upload-Length`). The body
//!   is committed as it arrives, every [`FLUSH_BYTES`](crate::blob::FLUSH_BYTES)
//!   and when it ends or breaks, so a cut upload resumes from what arrived;
//!   the blob becomes visible only when its SHA-256 verifies (`422` and
//!   discarded otherwise; `409` with the held offset if the upload starts
//!   beyond it). JSON [`UploadReply`].
//! - `GET /v1/blobs/{sha256}/{partition}` (client certificate): the bytes of
//!   a verified blob from `Range: bytes=N-` (`404` if the hub lacks it).
//!
//!   Blob endpoints use the same device check as `/v1/sync`: `401` without a
//!   valid certificate, `403` (and nothing written or read) for a partition
//!   outside [`Device::may_access`] — a kiosk uploads only to its own
//!   submissions partition. Blobs live in `hub.db`, encrypted like records.
//! - `GET /metrics`: counters in Prometheus text format (no personal data).
//!
//! Access rules: officers and provincial devices read and write every
//! partition of their communes; kiosks and helper tablets only their own
//! submissions partition `<commune>/kiosk/<device_id>` ([`Partition::submissions`]).
//!
//! Slow links: there is no fixed per-request deadline. A connection is closed
//! only when no byte has moved in either direction for the liveness period.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rusqlite::{Connection, OptionalExtension, params};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::blob::{self, BlobHash, Held, StatusReply, StatusRequest, UploadReply};
use crate::protocol::{self, KIND_REPLY, KIND_REQUEST, SyncRequest};
use crate::store::{Prepared, WithPrepared, migrate, now_ms, open_encrypted};
use crate::tls::{DeviceCertVerifier, KnownCerts, Validity, provider};
use crate::{Error, Partition, Store};

/// What a device is for; decides what it may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A commune kiosk used by residents: sees only what it submitted.
    Kiosk,
    /// A community digital-technology helper's tablet: only its own submissions.
    Helper,
    /// A commune officer's tablet: all partitions of its communes.
    Officer,
    /// A provincial device: all partitions of the communes it is given.
    Provincial,
}

impl Role {
    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Helper => "helper",
            Role::Officer => "officer",
            Role::Provincial => "provincial",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "kiosk" => Ok(Role::Kiosk),
            "helper" => Ok(Role::Helper),
            "officer" => Ok(Role::Officer),
            "provincial" => Ok(Role::Provincial),
            other => Err(Error::Enrolment(format!("unknown role {other:?}"))),
        }
    }
}

/// An enrolled device as the hub knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Id issued at enrolment (also the certificate's common name).
    pub device_id: String,
    /// Role.
    pub role: Role,
    /// Commune codes it may access.
    pub communes: Vec<String>,
    /// Revoked devices are refused.
    pub revoked: bool,
}

impl Device {
    /// May this device read and write `partition`?
    pub fn may_access(&self, partition: &Partition) -> bool {
        let commune = partition.commune();
        if !self.communes.iter().any(|c| c == commune) {
            return false;
        }
        match self.role {
            Role::Officer | Role::Provincial => true,
            Role::Kiosk | Role::Helper => {
                Partition::submissions(commune, &self.device_id).is_ok_and(|own| own == *partition)
            }
        }
    }

    /// Where discovery looks for this device (partition-name prefixes): an
    /// officer's communes; a kiosk's or helper's own submissions partitions
    /// only, so a commune with a thousand kiosks costs each kiosk one lookup,
    /// not a thousand.
    pub fn discovery_scopes(&self) -> Vec<String> {
        match self.role {
            Role::Officer | Role::Provincial => self.communes.clone(),
            Role::Kiosk | Role::Helper => self
                .communes
                .iter()
                .filter_map(|c| Partition::submissions(c, &self.device_id).ok())
                .map(String::from)
                .collect(),
        }
    }
}

/// Enrolment request body.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code shown on the hub.
    pub code: String,
    /// PKCS#10 request for the device's own key (the key never leaves the device).
    pub csr_pem: String,
}

/// Enrolment answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// Device id.
    pub device_id: String,
    /// Role bound to the certificate.
    pub role: Role,
    /// Communes bound to the certificate.
    pub communes: Vec<String>,
    /// The device certificate.
    pub cert_pem: String,
    /// The hub CA certificate.
    pub ca_pem: String,
    /// The hub's own (server) certificate: the device may trust exactly this
    /// certificate without checking its chain again on every connection.
    #[serde(default)]
    pub hub_cert_pem: Option<String>,
    /// The device's number within its communes (0–1023), part of every
    /// tracking code it mints; never given to another device of those communes.
    pub device_number: u16,
}

/// Device numbers a commune can give out (the tracking code's two base-32
/// characters: 0–1023).
pub const DEVICE_NUMBERS: u16 = 1024;

const REGISTRY_MIGRATIONS: &[&str] = &[
    "CREATE TABLE authority (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        ca_cert_pem TEXT NOT NULL, ca_key_pem TEXT NOT NULL,
        server_cert_pem TEXT NOT NULL, server_key_pem TEXT NOT NULL, server_names TEXT NOT NULL);
     CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY, role TEXT NOT NULL, communes TEXT NOT NULL,
        expires_ms INTEGER NOT NULL, used_by TEXT);
     CREATE TABLE devices (
        device_id TEXT PRIMARY KEY, role TEXT NOT NULL, communes TEXT NOT NULL,
        cert_sha256 TEXT NOT NULL UNIQUE, enrolled_ms INTEGER NOT NULL, revoked_ms INTEGER);",
    // Device numbers for tracking codes (devices enrolled before this have none).
    "ALTER TABLE devices ADD COLUMN device_number INTEGER;",
];

/// Hub settings.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Directory holding `hub.key`, `hub.db`, `registry.db`.
    pub dir: PathBuf,
    /// DNS names and IP addresses the server certificate is valid for.
    pub server_names: Vec<String>,
    /// Largest page of changes per reply.
    pub page_bytes: u32,
    /// Close a connection after this long without any byte moving.
    pub liveness: Duration,
    /// Page cache of the record store, in MiB.
    pub cache_mib: u32,
    /// Longest the writer waits for exchanges still being prepared to join
    /// a group commit. It waits only while some are (a busy hub): one commit
    /// then covers more exchanges — fewer fsyncs, and the pages every
    /// exchange touches (the indexes' inner pages, the cursors) encrypted and
    /// written once per group instead of once per small group. An idle hub
    /// commits a lone exchange at once.
    pub gather: Duration,
}

impl HubConfig {
    /// Defaults: `localhost` and `127.0.0.1`, 2 MiB pages, 120 s liveness,
    /// 64 MiB page cache, 5 ms gathering.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HubConfig {
            dir: dir.into(),
            server_names: vec!["localhost".into(), "127.0.0.1".into()],
            page_bytes: protocol::DEFAULT_PAGE_BYTES,
            liveness: Duration::from_secs(120),
            cache_mib: 64,
            gather: Duration::from_millis(5),
        }
    }
}

/// Prometheus counters.
#[derive(Debug, Default)]
pub struct Metrics {
    sync_requests: AtomicU64,
    sync_forbidden: AtomicU64,
    sync_unauthenticated: AtomicU64,
    sync_errors: AtomicU64,
    enrolments: AtomicU64,
    enrolments_refused: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    changes_in: AtomicU64,
    changes_out: AtomicU64,
    connections: AtomicU64,
    connections_resumed: AtomicU64,
    connections_stalled: AtomicU64,
    sync_micros: AtomicU64,
    blob_bytes_in: AtomicU64,
    blob_bytes_out: AtomicU64,
    blobs_completed: AtomicU64,
    blob_forbidden: AtomicU64,
    blob_refused: AtomicU64,
    /// Counted by the writer thread.
    commits: Arc<AtomicU64>,
}

impl Metrics {
    fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: &AtomicU64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        };
        counter(
            "xaso_hub_sync_requests_total",
            "Sync exchanges answered.",
            &self.sync_requests,
        );
        counter(
            "xaso_hub_commits_total",
            "Group commits of sync exchanges (one transaction and one fsync each).",
            &self.commits,
        );
        counter(
            "xaso_hub_sync_forbidden_total",
            "Sync requests refused for partition scope.",
            &self.sync_forbidden,
        );
        counter(
            "xaso_hub_sync_unauthenticated_total",
            "Sync requests without a valid, unrevoked certificate.",
            &self.sync_unauthenticated,
        );
        counter(
            "xaso_hub_sync_errors_total",
            "Sync requests that failed.",
            &self.sync_errors,
        );
        counter(
            "xaso_hub_enrolments_total",
            "Devices enrolled.",
            &self.enrolments,
        );
        counter(
            "xaso_hub_enrolments_refused_total",
            "Enrolments refused.",
            &self.enrolments_refused,
        );
        counter(
            "xaso_hub_sync_bytes_in_total",
            "Sync request bytes received.",
            &self.bytes_in,
        );
        counter(
            "xaso_hub_sync_bytes_out_total",
            "Sync reply bytes sent.",
            &self.bytes_out,
        );
        counter(
            "xaso_hub_changes_in_total",
            "Changes received from devices.",
            &self.changes_in,
        );
        counter(
            "xaso_hub_changes_out_total",
            "Changes sent to devices.",
            &self.changes_out,
        );
        counter(
            "xaso_hub_connections_total",
            "TLS connections accepted.",
            &self.connections,
        );
        counter(
            "xaso_hub_connections_resumed_total",
            "TLS connections that resumed an earlier session (no certificate exchange).",
            &self.connections_resumed,
        );
        counter(
            "xaso_hub_connections_stalled_total",
            "Connections closed for lack of progress.",
            &self.connections_stalled,
        );
        counter(
            "xaso_hub_sync_seconds_micros_total",
            "Time spent answering sync requests, microseconds.",
            &self.sync_micros,
        );
        counter(
            "xaso_hub_blob_bytes_in_total",
            "Attachment bytes received (uploads).",
            &self.blob_bytes_in,
        );
        counter(
            "xaso_hub_blob_bytes_out_total",
            "Attachment bytes sent (downloads).",
            &self.blob_bytes_out,
        );
        counter(
            "xaso_hub_blobs_completed_total",
            "Attachments received whole and verified.",
            &self.blobs_completed,
        );
        counter(
            "xaso_hub_blob_forbidden_total",
            "Attachment requests refused for partition scope.",
            &self.blob_forbidden,
        );
        counter(
            "xaso_hub_blob_refused_total",
            "Attachment uploads refused (hash mismatch, bad range, too large).",
            &self.blob_refused,
        );
        out
    }
}

/// One sync exchange waiting for the writer.
struct Job {
    device: Device,
    /// Discovery scopes of `device`, computed outside the writer.
    scopes: Vec<String>,
    /// Documents of new records, built before queueing.
    prepared: Prepared,
    request: SyncRequest,
    reply: tokio::sync::oneshot::Sender<Result<protocol::SyncReply, Error>>,
}

/// Requests up to this size are decoded on the connection's own task.
const INLINE_BYTES: usize = 16 * 1024;
/// Replies with up to this many changes are encoded on the connection's own task.
const INLINE_CHANGES: u64 = 16;

/// Most exchanges committed together (one fsync).
const GROUP_MAX: usize = 128;

/// Exchanges between arrival and the writer's queue, counted so the writer
/// knows more are coming (see [`HubConfig::gather`]).
#[derive(Default)]
struct Preparing(std::sync::atomic::AtomicUsize);

/// One exchange counted in [`Preparing`] while it lives.
struct PreparingGuard<'a>(&'a Preparing);

impl Preparing {
    fn enter(&self) -> PreparingGuard<'_> {
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

struct Inner {
    store: Arc<Mutex<Store>>,
    /// A second connection to `hub.db` for attachments, so uploads and
    /// downloads do not queue behind the record writer's group commits.
    blobs: Arc<Mutex<Store>>,
    /// Always `Some` until the hub is dropped (then taken to stop the writer).
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    /// Exchanges on their way to `jobs`.
    preparing: Arc<Preparing>,
    /// The writer thread, joined when the last clone of the hub is dropped:
    /// it must not still be inside SQLCipher (and libcrypto) while the
    /// process exits and libcrypto's exit handlers run.
    writer: Option<std::thread::JoinHandle<()>>,
    registry: Mutex<Connection>,
    ca_pem: String,
    ca_key_pem: String,
    server_pem: String,
    /// Device certificates known to chain to the CA (see [`crate::tls`]).
    known_certs: Arc<KnownCerts>,
    tls: Arc<rustls::ServerConfig>,
    config: HubConfig,
    metrics: Metrics,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer's loop once it has answered what
        // was queued; wait for it so no store work outlives the hub.
        drop(self.jobs.take());
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the hub writer thread panicked");
        }
    }
}

/// A hub. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("dir", &self.inner.config.dir)
            .finish()
    }
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Hub {
    /// Open the hub in `config.dir`, creating the key, databases, CA and
    /// server certificate on first use.
    pub fn open(config: HubConfig) -> Result<Hub, Error> {
        std::fs::create_dir_all(&config.dir).map_err(|e| Error::Io {
            context: format!("create {}", config.dir.display()),
            source: e,
        })?;
        let key = config.dir.join("hub.key");
        crate::ensure_key_file(&key)?;
        let store = Store::open(&config.dir.join("hub.db"), &key)?;
        store.set_cache_mib(config.cache_mib)?;
        let mut registry = open_encrypted(&config.dir.join("registry.db"), &key)?;
        migrate(&mut registry, REGISTRY_MIGRATIONS)?;
        let existing: Option<(String, String, String, String)> = registry
            .query_row(
                "SELECT ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem FROM authority WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (ca_pem, ca_key_pem, server_pem, server_key_pem) = match existing {
            Some(found) => found,
            None => {
                let created = create_authority(&config.server_names)?;
                registry.execute(
                    "INSERT INTO authority (id, ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem, server_names)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5)",
                    params![created.0, created.1, created.2, created.3, config.server_names.join(",")],
                )?;
                tracing::info!("hub certificate authority created");
                created
            }
        };
        let known_certs = Arc::new(KnownCerts::default());
        let tls = Arc::new(server_tls(
            &ca_pem,
            &server_pem,
            &server_key_pem,
            known_certs.clone(),
        )?);
        let blobs = Arc::new(Mutex::new(Store::open(&config.dir.join("hub.db"), &key)?));
        let store = Arc::new(Mutex::new(store));
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let writer_store = store.clone();
        let preparing = Arc::new(Preparing::default());
        let metrics = Metrics::default();
        let context = WriterContext {
            preparing: preparing.clone(),
            commits: metrics.commits.clone(),
            gather: config.gather,
            page_bytes: config.page_bytes,
        };
        let writer = std::thread::Builder::new()
            .name("xaso-hub-writer".into())
            .spawn(move || writer(&writer_store, &queue, &context))
            .map_err(|e| Error::Io {
                context: "start the hub writer".into(),
                source: e,
            })?;
        Ok(Hub {
            inner: Arc::new(Inner {
                store,
                blobs,
                jobs: Some(jobs),
                preparing,
                writer: Some(writer),
                registry: Mutex::new(registry),
                ca_pem,
                ca_key_pem,
                server_pem,
                known_certs,
                tls,
                config,
                metrics,
            }),
        })
    }

    /// The CA certificate devices must trust (give it to devices with the code).
    pub fn ca_pem(&self) -> &str {
        &self.inner.ca_pem
    }

    /// Create a one-time enrolment code for a device of `role` in `communes`,
    /// valid for `valid_for`. Show it on the hub's screen; only its hash is kept.
    pub fn create_enrolment_code(
        &self,
        role: Role,
        communes: &[&str],
        valid_for: Duration,
    ) -> Result<String, Error> {
        for commune in communes {
            Partition::new(*commune)?;
        }
        if communes.is_empty() {
            return Err(Error::Enrolment(
                "a device needs at least one commune".into(),
            ));
        }
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut raw = [0u8; 10];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
            .map_err(|_| Error::Random)?;
        let chars: String = raw
            .iter()
            .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
            .collect();
        let code = format!("{}-{}", &chars[..5], &chars[5..]);
        let expires = now_ms() + valid_for.as_millis() as i64;
        let registry = self.registry()?;
        registry.execute(
            "INSERT INTO enrolment_codes (code_hash, role, communes, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![code_hash(&code), role.as_str(), communes.join(","), expires],
        )?;
        Ok(code)
    }

    /// Revoke a device: its certificate is refused from now on.
    pub fn revoke(&self, device_id: &str) -> Result<bool, Error> {
        let registry = self.registry()?;
        let n = registry.execute(
            "UPDATE devices SET revoked_ms = ?2 WHERE device_id = ?1 AND revoked_ms IS NULL",
            params![device_id, now_ms()],
        )?;
        if n > 0 {
            let cert: Option<String> = registry
                .query_row(
                    "SELECT cert_sha256 FROM devices WHERE device_id = ?1",
                    [device_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(cert) = cert {
                self.inner.known_certs.forget_hex(&cert);
            }
            tracing::info!(device = device_id, "device revoked");
        }
        Ok(n > 0)
    }

    /// Enrolled devices.
    pub fn devices(&self) -> Result<Vec<Device>, Error> {
        let registry = self.registry()?;
        let mut stmt = registry.prepare(
            "SELECT device_id, role, communes, revoked_ms FROM devices ORDER BY device_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (device_id, role, communes, revoked) = row?;
            out.push(Device {
                device_id,
                role: role.parse()?,
                communes: communes.split(',').map(str::to_owned).collect(),
                revoked: revoked.is_some(),
            });
        }
        Ok(out)
    }

    /// Run a closure with the hub's store (e.g. to inspect it in tests).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> Result<R, Error> {
        let mut store = self
            .inner
            .store
            .lock()
            .map_err(|_| Error::Network("store lock poisoned".into()))?;
        Ok(f(&mut store))
    }

    /// Current metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        self.inner.metrics.render()
    }

    fn registry(&self) -> Result<std::sync::MutexGuard<'_, Connection>, Error> {
        self.inner
            .registry
            .lock()
            .map_err(|_| Error::Network("registry lock poisoned".into()))
    }

    fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>, Error> {
        let registry = self.registry()?;
        let row: Option<(String, String, String, Option<i64>)> = registry
            .prepare_cached(
                "SELECT device_id, role, communes, revoked_ms FROM devices WHERE cert_sha256 = ?1",
            )?
            .query_row([cert_sha256], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        match row {
            None => Ok(None),
            Some((device_id, role, communes, revoked)) => Ok(Some(Device {
                device_id,
                role: role.parse()?,
                communes: communes.split(',').map(str::to_owned).collect(),
                revoked: revoked.is_some(),
            })),
        }
    }

    /// Check a code and issue a certificate for the CSR.
    pub fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, Error> {
        let hash = code_hash(&request.code);
        let mut registry = self.registry()?;
        let tx = registry.transaction()?;
        let row: Option<(String, String, i64, Option<String>)> = tx
            .query_row(
                "SELECT role, communes, expires_ms, used_by FROM enrolment_codes WHERE code_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((role, communes, expires, used_by)) = row else {
            return Err(Error::Enrolment("unknown enrolment code".into()));
        };
        if used_by.is_some() {
            return Err(Error::Enrolment(
                "this enrolment code was already used".into(),
            ));
        }
        if expires < now_ms() {
            return Err(Error::Enrolment("this enrolment code has expired".into()));
        }
        let role: Role = role.parse()?;
        let device_number = free_device_number(&tx, &communes)?;
        let mut id_bytes = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut id_bytes)
            .map_err(|_| Error::Random)?;
        let device_id = format!("dev-{}", hex::encode(id_bytes));
        let csr = CertificateSigningRequestParams::from_pem(&request.csr_pem)
            .map_err(|e| Error::Enrolment(format!("bad certificate request: {e}")))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device_id.as_str());
        dn.push(DnType::OrganizationalUnitName, role.as_str());
        dn.push(DnType::OrganizationName, format!("communes:{communes}"));
        params.distinguished_name = dn;
        params.not_before = time_now();
        params.not_after = time_now() + std::time::Duration::from_secs(5 * 365 * 24 * 3600);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let ca_key = KeyPair::from_pem(&self.inner.ca_key_pem).map_err(tls_err)?;
        let issuer = Issuer::from_ca_cert_pem(&self.inner.ca_pem, ca_key).map_err(tls_err)?;
        let cert = params
            .signed_by(&csr.public_key, &issuer)
            .map_err(tls_err)?;
        let cert_pem = cert.pem();
        let validity = Validity::of(cert.der())?;
        tx.execute(
            "INSERT INTO devices (device_id, role, communes, cert_sha256, enrolled_ms, device_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device_id, role.as_str(), communes, sha256_hex(cert.der()), now_ms(), device_number],
        )?;
        tx.execute(
            "UPDATE enrolment_codes SET used_by = ?2 WHERE code_hash = ?1",
            params![hash, device_id],
        )?;
        tx.commit()?;
        self.inner.known_certs.insert(cert.der(), validity);
        tracing::info!(device = %device_id, role = role.as_str(), device_number, "device enrolled");
        Ok(EnrolResponse {
            device_id,
            role,
            communes: communes.split(',').map(str::to_owned).collect(),
            cert_pem,
            ca_pem: self.inner.ca_pem.clone(),
            hub_cert_pem: Some(self.inner.server_pem.clone()),
            device_number,
        })
    }

    /// Answer one sync exchange for `device`: decode, check scope, queue the
    /// exchange for the writer (group commit), encode the reply. The reply is
    /// only produced after what the device pushed is durable.
    pub async fn sync(&self, device: Device, body: bytes::Bytes) -> Result<Vec<u8>, Error> {
        let preparing = self.inner.preparing.enter();
        let checked = device.clone();
        let body_len = body.len();
        // Decoding, checking and building the documents of new records run
        // here, in parallel across exchanges; the single writer then only
        // has the store's own work to do.
        let decode = move || -> Result<(SyncRequest, Prepared), Error> {
            let request: SyncRequest = protocol::decode_frame(KIND_REQUEST, &body)?;
            protocol::check_access(&request, |p| checked.may_access(p))?;
            let mut prepared = Prepared::default();
            for offer in &request.offers {
                prepared.add(&offer.partition, &offer.entries);
            }
            Ok((request, prepared))
        };
        // A small exchange (the usual case: a few records) is cheaper to do
        // right here than to hand to another thread and back; a big one must
        // not hold up the other connections this worker serves.
        let (request, prepared) = if body_len <= INLINE_BYTES {
            decode()?
        } else {
            tokio::task::spawn_blocking(decode)
                .await
                .map_err(|e| Error::Network(e.to_string()))??
        };
        let pushed: u64 = request.offers.iter().map(|o| o.entries.len() as u64).sum();
        let partitions = request.offers.len();
        let device_id = device.device_id.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .jobs
            .as_ref()
            .ok_or_else(|| Error::Network("hub writer stopped".into()))?
            .send(Job {
                prepared,
                scopes: device.discovery_scopes(),
                device,
                request,
                reply: tx,
            })
            .map_err(|_| Error::Network("hub writer stopped".into()))?;
        drop(preparing);
        let reply = rx
            .await
            .map_err(|_| Error::Network("hub writer stopped".into()))??;
        let sent: u64 = reply
            .answers
            .iter()
            .map(|a| match &a.body {
                protocol::AnswerBody::Changes { entries, .. } => entries.len() as u64,
                protocol::AnswerBody::UpToDate => 0,
            })
            .sum();
        let m = &self.inner.metrics;
        m.changes_in.fetch_add(pushed, Ordering::Relaxed);
        m.changes_out.fetch_add(sent, Ordering::Relaxed);
        tracing::info!(device = %device_id, partitions, pushed, sent, "sync answered");
        if sent <= INLINE_CHANGES {
            protocol::encode_frame(KIND_REPLY, &reply)
        } else {
            tokio::task::spawn_blocking(move || protocol::encode_frame(KIND_REPLY, &reply))
                .await
                .map_err(|e| Error::Network(e.to_string()))?
        }
    }

    /// Serve HTTPS on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), Error> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.inner.tls.clone());
        let app = Router::new()
            .route("/v1/enrol", post(enrol_handler))
            .route("/v1/sync", post(sync_handler))
            .route("/v1/blobs/status", post(blob_status_handler))
            .route(
                "/v1/blobs/{hash}/{*partition}",
                get(blob_get_handler).put(blob_put_handler),
            )
            .route("/v1/health", get(|| async { "ok" }))
            .route("/metrics", get(metrics_handler))
            .layer(DefaultBodyLimit::max(protocol::MAX_PAYLOAD))
            .with_state(self.clone());
        let liveness = self.inner.config.liveness;
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
                },
                () = &mut shutdown => return Ok(()),
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let app = app.clone();
            let hub = self.clone();
            tokio::spawn(async move {
                hub.inner
                    .metrics
                    .connections
                    .fetch_add(1, Ordering::Relaxed);
                let activity = Arc::new(Activity::new());
                let stream = ProgressStream {
                    inner: tcp,
                    activity: activity.clone(),
                };
                let serve = async {
                    let tls = match acceptor.accept(stream).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            tracing::info!(%peer, error = %e, "TLS handshake refused");
                            return;
                        }
                    };
                    if tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                        hub.inner
                            .metrics
                            .connections_resumed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    let cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| sha256_hex(c.as_ref()));
                    let svc = app.layer(Extension(PeerCert(cert)));
                    let svc = hyper_util::service::TowerToHyperService::new(svc);
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                        .await
                    {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                };
                tokio::select! {
                    () = serve => {}
                    () = activity.stalled(liveness) => {
                        hub.inner.metrics.connections_stalled.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(%peer, "connection closed: no progress");
                    }
                }
            });
        }
    }

    /// Bind `addr` (use port 0 in tests) and serve in a background task.
    /// Returns the bound address and a handle that stops the server when dropped or triggered.
    pub async fn spawn(self, addr: SocketAddr) -> Result<(SocketAddr, HubHandle), Error> {
        let listener = bind(addr)?;
        let local = listener.local_addr().map_err(|e| Error::Io {
            context: "local address".into(),
            source: e,
        })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = self
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok((
            local,
            HubHandle {
                stop: Some(tx),
                task,
            },
        ))
    }
}

/// Connections the kernel may queue before the hub accepts them. The
/// default of Rust's standard library and `mio` (128) is far too small for a
/// hub: when a commune's devices reconnect together after an outage, SYNs
/// beyond it are dropped and each costs the device a one-second SYN
/// retransmission. The kernel caps this at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Bind a listening socket for the hub (address reuse, [`LISTEN_BACKLOG`]).
pub fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let io = |e| Error::Io {
        context: format!("bind {addr}"),
        source: e,
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(io)?;
    socket.set_reuseaddr(true).map_err(io)?;
    socket.bind(addr).map_err(io)?;
    socket.listen(LISTEN_BACKLOG).map_err(io)
}

/// Stops a spawned hub.
#[derive(Debug)]
pub struct HubHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl HubHandle {
    /// Stop accepting connections and wait for the accept loop to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for HubHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Clone)]
struct PeerCert(Option<String>);

struct HttpError(StatusCode, String);

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

async fn enrol_handler(
    State(hub): State<Hub>,
    Json(request): Json<EnrolRequest>,
) -> Result<Json<EnrolResponse>, HttpError> {
    let hub2 = hub.clone();
    let result = tokio::task::spawn_blocking(move || hub2.enrol(&request))
        .await
        .map_err(|e| HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match result {
        Ok(response) => {
            hub.inner.metrics.enrolments.fetch_add(1, Ordering::Relaxed);
            Ok(Json(response))
        }
        Err(e) => {
            hub.inner
                .metrics
                .enrolments_refused
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(error = %e, "enrolment refused");
            Err(HttpError(StatusCode::FORBIDDEN, e.to_string()))
        }
    }
}

/// The enrolled, unrevoked device presenting `cert`, or `401`.
fn authenticate(hub: &Hub, cert: Option<String>) -> Result<Device, HttpError> {
    let metrics = &hub.inner.metrics;
    let Some(cert) = cert else {
        metrics.sync_unauthenticated.fetch_add(1, Ordering::Relaxed);
        return Err(HttpError(
            StatusCode::UNAUTHORIZED,
            "a device certificate is required".into(),
        ));
    };
    match hub.device_by_cert(&cert) {
        Ok(Some(device)) if !device.revoked => Ok(device),
        Ok(Some(device)) => {
            metrics.sync_unauthenticated.fetch_add(1, Ordering::Relaxed);
            tracing::info!(device = %device.device_id, "revoked device refused");
            Err(HttpError(
                StatusCode::UNAUTHORIZED,
                "this device has been revoked".into(),
            ))
        }
        Ok(None) => {
            metrics.sync_unauthenticated.fetch_add(1, Ordering::Relaxed);
            Err(HttpError(
                StatusCode::UNAUTHORIZED,
                "unknown device certificate".into(),
            ))
        }
        Err(e) => Err(HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

async fn sync_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    body: bytes::Bytes,
) -> Result<Response, HttpError> {
    let started = Instant::now();
    let metrics = &hub.inner.metrics;
    let device = authenticate(&hub, cert)?;
    metrics
        .bytes_in
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    let result = hub.sync(device, body).await;
    metrics
        .sync_micros
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    match result {
        Ok(reply) => {
            metrics.sync_requests.fetch_add(1, Ordering::Relaxed);
            metrics
                .bytes_out
                .fetch_add(reply.len() as u64, Ordering::Relaxed);
            Ok(([(header::CONTENT_TYPE, "application/x-xaso-sync")], reply).into_response())
        }
        Err(Error::Forbidden(partition)) => {
            metrics.sync_forbidden.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(partition = %partition, "sync refused: partition outside the device's scope");
            Err(HttpError(
                StatusCode::FORBIDDEN,
                format!("partition {partition} is outside this device's scope"),
            ))
        }
        Err(
            e @ (Error::Decode(_)
            | Error::UnsupportedVersion(_)
            | Error::BadChange
            | Error::InvalidRecordId),
        ) => {
            metrics.sync_errors.fetch_add(1, Ordering::Relaxed);
            Err(HttpError(StatusCode::BAD_REQUEST, e.to_string()))
        }
        Err(e) => {
            metrics.sync_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "sync failed");
            Err(HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
        }
    }
}

/// Run `f` on the hub's attachment connection, off the async threads.
async fn with_blobs<R: Send + 'static>(
    hub: &Hub,
    f: impl FnOnce(&mut Store) -> Result<R, Error> + Send + 'static,
) -> Result<R, Error> {
    let blobs = hub.inner.blobs.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = blobs
            .lock()
            .map_err(|_| Error::Network("blob store lock poisoned".into()))?;
        f(&mut store)
    })
    .await
    .map_err(|e| Error::Network(e.to_string()))?
}

/// The device, if it may access `partition`; `403` (counted) otherwise.
fn scoped(hub: &Hub, cert: Option<String>, partition: &Partition) -> Result<Device, HttpError> {
    let device = authenticate(hub, cert)?;
    if device.may_access(partition) {
        return Ok(device);
    }
    hub.inner
        .metrics
        .blob_forbidden
        .fetch_add(1, Ordering::Relaxed);
    tracing::warn!(device = %device.device_id, partition = %partition, "blob request refused: partition outside the device's scope");
    Err(HttpError(
        StatusCode::FORBIDDEN,
        format!("partition {partition} is outside this device's scope"),
    ))
}

fn blob_target(hash: &str, partition: &str) -> Result<(BlobHash, Partition), HttpError> {
    let bad = |e: Error| HttpError(StatusCode::BAD_REQUEST, e.to_string());
    Ok((
        hash.parse().map_err(bad)?,
        Partition::new(partition).map_err(bad)?,
    ))
}

fn blob_error(hub: &Hub, e: Error) -> HttpError {
    let status = match &e {
        Error::BlobHashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BlobTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::BadChunk | Error::InvalidBlobHash(_) | Error::InvalidPartition(_) => {
            StatusCode::BAD_REQUEST
        }
        _ => {
            tracing::error!(error = %e, "blob request failed");
            return HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
        }
    };
    hub.inner
        .metrics
        .blob_refused
        .fetch_add(1, Ordering::Relaxed);
    HttpError(status, e.to_string())
}

fn header_u64(headers: &axum::http::HeaderMap, name: &str) -> Result<u64, HttpError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            HttpError(
                StatusCode::BAD_REQUEST,
                format!("header {name} is required"),
            )
        })
}

async fn blob_status_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    Json(request): Json<StatusRequest>,
) -> Result<Json<StatusReply>, HttpError> {
    scoped(&hub, cert, &request.partition)?;
    let h = hub.clone();
    with_blobs(&hub, move |store| blob::answer_status(store, &request))
        .await
        .map(Json)
        .map_err(|e| blob_error(&h, e))
}

async fn blob_get_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    axum::extract::Path((hash, partition)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Response, HttpError> {
    let (hash, partition) = blob_target(&hash, &partition)?;
    let device = scoped(&hub, cert, &partition)?;
    let offset = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .map(|v| v.parse::<u64>())
        .transpose()
        .map_err(|_| HttpError(StatusCode::BAD_REQUEST, "Range must be bytes=N-".into()))?
        .unwrap_or(0);
    let found = with_blobs(&hub, move |store| {
        let held = store.blob_held(&partition, &hash)?;
        let Held::Complete { size } = held else {
            return Ok(None);
        };
        Ok(store
            .blob_range(&partition, &hash, offset, size)?
            .map(|bytes| (size, bytes)))
    })
    .await
    .map_err(|e| blob_error(&hub, e))?;
    let Some((size, bytes)) = found else {
        return Err(HttpError(StatusCode::NOT_FOUND, "blob not held".into()));
    };
    hub.inner
        .metrics
        .blob_bytes_out
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    tracing::info!(device = %device.device_id, offset, bytes = bytes.len(), "blob sent");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::HeaderName::from_static("upload-length"),
                size.to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn blob_put_handler(
    State(hub): State<Hub>,
    Extension(PeerCert(cert)): Extension<PeerCert>,
    axum::extract::Path((hash, partition)): axum::extract::Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (hash, partition, device, size, offset) =
        match check_put(&hub, cert, &hash, &partition, &headers) {
            Ok(checked) => checked,
            Err(e) => {
                // Nothing of the body is kept, let alone written; it is read
                // and dropped only so the refusal reaches the device intact
                // (an unread body makes the connection close with a reset).
                discard(body.into_data_stream(), blob::MAX_BLOB_BYTES).await;
                return refused(e);
            }
        };
    // The body is read in its own task: if the connection breaks, the
    // handler is dropped but the task still commits what arrived.
    let receiving = tokio::spawn(receive_upload(
        hub.clone(),
        partition.clone(),
        hash,
        size,
        offset,
        body,
    ));
    let outcome = match receiving.await {
        Ok(outcome) => outcome,
        Err(e) => {
            return refused(HttpError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()));
        }
    };
    match outcome {
        Ok(held) => {
            if held.is_complete() {
                tracing::info!(device = %device.device_id, partition = %partition, size, "blob received");
            }
            Json(UploadReply { held }).into_response()
        }
        Err(Error::BlobGap { held }) => (
            StatusCode::CONFLICT,
            Json(UploadReply {
                held: Held::Partial { held, size },
            }),
        )
            .into_response(),
        Err(e) => refused(blob_error(&hub, e)),
    }
}

/// A refused upload's response; the connection is not reused after it.
fn refused(error: HttpError) -> Response {
    let mut response = error.into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Read and drop up to `limit` bytes of a body.
async fn discard(
    mut stream: impl futures_util::Stream<Item = Result<bytes::Bytes, axum::Error>> + Unpin,
    limit: u64,
) {
    use futures_util::StreamExt;
    let mut read = 0u64;
    while read <= limit {
        match stream.next().await {
            Some(Ok(bytes)) => read += bytes.len() as u64,
            _ => return,
        }
    }
}

/// Scope and headers of an upload, checked before any byte of it is read.
fn check_put(
    hub: &Hub,
    cert: Option<String>,
    hash: &str,
    partition: &str,
    headers: &axum::http::HeaderMap,
) -> Result<(BlobHash, Partition, Device, u64, u64), HttpError> {
    let (hash, partition) = blob_target(hash, partition)?;
    let device = scoped(hub, cert, &partition)?;
    let offset = header_u64(headers, "upload-offset")?;
    let size = header_u64(headers, "upload-length")?;
    if size > blob::MAX_BLOB_BYTES {
        return Err(blob_error(
            hub,
            Error::BlobTooLarge {
                size,
                max: blob::MAX_BLOB_BYTES,
            },
        ));
    }
    Ok((hash, partition, device, size, offset))
}

/// Commit an upload's body as it arrives (see [`blob::Incoming`]); on a
/// broken stream, commit what arrived, then report the break. After a
/// refusal (a chunk past the declared size, a gap) the rest of the body is
/// read and dropped.
async fn receive_upload(
    hub: Hub,
    partition: Partition,
    hash: BlobHash,
    size: u64,
    offset: u64,
    body: axum::body::Body,
) -> Result<Held, Error> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut incoming = blob::Incoming::new(offset);
    let mut held = None;
    let mut failed = None;
    loop {
        match stream.next().await {
            Some(Ok(bytes)) => {
                if incoming.next_offset() + bytes.len() as u64 > size {
                    failed = Some(Error::BadChunk);
                    break;
                }
                hub.inner
                    .metrics
                    .blob_bytes_in
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if let Some((at, piece)) = incoming.push(&bytes) {
                    match commit_piece(&hub, &partition, hash, size, at, piece).await {
                        Ok(now) => held = Some(now),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
            }
            Some(Err(e)) => {
                failed = Some(Error::Network(format!("upload broken: {e}")));
                break;
            }
            None => break,
        }
    }
    let broken_stream = matches!(failed, Some(Error::Network(_)));
    if failed.is_none() || broken_stream {
        // What arrived is good (TLS authenticated it): keep it.
        if let Some((at, piece)) = incoming.finish() {
            held = Some(commit_piece(&hub, &partition, hash, size, at, piece).await?);
        }
    }
    if let Some(e) = failed {
        if !broken_stream {
            discard(stream, blob::MAX_BLOB_BYTES).await;
        }
        return Err(e);
    }
    match held {
        Some(held) => Ok(held),
        // An empty body: commit nothing, say where the blob stands (an empty
        // blob completes here).
        None => commit_piece(&hub, &partition, hash, size, offset, Vec::new()).await,
    }
}

async fn commit_piece(
    hub: &Hub,
    partition: &Partition,
    hash: BlobHash,
    size: u64,
    offset: u64,
    piece: Vec<u8>,
) -> Result<Held, Error> {
    let partition = partition.clone();
    let held = with_blobs(hub, move |store| {
        let before = store.blob_held(&partition, &hash)?;
        let after = store.append_blob_chunk(&partition, &hash, size, offset, &piece)?;
        Ok((before, after))
    })
    .await?;
    if held.1.is_complete() && !held.0.is_complete() {
        hub.inner
            .metrics
            .blobs_completed
            .fetch_add(1, Ordering::Relaxed);
    }
    Ok(held.1)
}

async fn metrics_handler(State(hub): State<Hub>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        hub.metrics_text(),
    )
}

fn code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(normalized.as_bytes())
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Create the CA and the server certificate: (ca_pem, ca_key_pem, server_pem, server_key_pem).
fn create_authority(server_names: &[String]) -> Result<(String, String, String, String), Error> {
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca_params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Xã Số commune hub CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = time_now();
    ca_params.not_after = time_now() + std::time::Duration::from_secs(20 * 365 * 24 * 3600);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;
    let issuer = Issuer::new(ca_params, &ca_key);
    let server_key = KeyPair::generate().map_err(tls_err)?;
    let mut server_params = CertificateParams::new(server_names.to_vec()).map_err(tls_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Xã Số commune hub");
    server_params.distinguished_name = dn;
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = time_now();
    server_params.not_after = time_now() + std::time::Duration::from_secs(5 * 365 * 24 * 3600);
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(tls_err)?;
    Ok((
        ca_cert.pem(),
        ca_key.serialize_pem(),
        server_cert.pem(),
        server_key.serialize_pem(),
    ))
}

/// TLS sessions the hub remembers for resumption (about 1 KiB each).
const RESUMABLE_SESSIONS: usize = 16_384;

fn server_tls(
    ca_pem: &str,
    server_pem: &str,
    server_key_pem: &str,
    known_certs: Arc<KnownCerts>,
) -> Result<rustls::ServerConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(tls_err)?)
        .map_err(tls_err)?;
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated()
            .build()
            .map_err(tls_err)?;
    let verifier = Arc::new(DeviceCertVerifier {
        inner: verifier,
        known: known_certs,
    });
    // Only the hub's own certificate: every device already holds the CA
    // (given with the enrolment code), so sending it again would only cost
    // bytes on a 2G link in every full handshake.
    let chain = vec![CertificateDer::from_pem_slice(server_pem.as_bytes()).map_err(tls_err)?];
    let key = PrivateKeyDer::from_pem_slice(server_key_pem.as_bytes()).map_err(tls_err)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Session resumption: a device that reconnects (the link came back, the
    // kiosk restarted its client) resumes without exchanging and verifying
    // certificates again — fewer bytes on 2G, less CPU on both sides. The
    // session (with the client's certificate) stays in the hub's memory and
    // the device gets only its id (tens of bytes, where a self-contained
    // ticket would carry the certificate over the slow link); every request
    // is still checked against the registry, so revocation applies to resumed
    // sessions too. A hub restart means one full handshake per device.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(RESUMABLE_SESSIONS);
    config.send_tls13_tickets = 1;
    Ok(config)
}

/// Last time any byte moved on a connection.
pub(crate) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }
    pub(crate) fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    /// Resolves once nothing has moved for `liveness`.
    pub(crate) async fn stalled(&self, liveness: Duration) {
        loop {
            let idle = self
                .start
                .elapsed()
                .saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)));
            if idle >= liveness {
                return;
            }
            tokio::time::sleep(liveness - idle + Duration::from_millis(10)).await;
        }
    }
}

/// A TCP stream that records progress on every read and write.
struct ProgressStream {
    inner: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl ProgressStream {
    /// A write that moved bytes counts as progress.
    fn progressed(
        &self,
        result: std::task::Poll<std::io::Result<usize>>,
    ) -> std::task::Poll<std::io::Result<usize>> {
        if let std::task::Poll::Ready(Ok(n)) = &result
            && *n > 0
        {
            self.activity.touch();
        }
        result
    }
}

impl tokio::io::AsyncRead for ProgressStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl tokio::io::AsyncWrite for ProgressStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let result = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progressed(result)
    }
    // TLS hands over its queued records as one vectored write; the default
    // would write only the first of them per call (one system call each).
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let result = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progressed(result)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The lowest device number no device sharing a commune with `communes` has
/// ever had (revoked devices keep theirs: codes they minted stay unique).
fn free_device_number(tx: &Connection, communes: &str) -> Result<u16, Error> {
    let wanted: Vec<&str> = communes.split(',').collect();
    let mut used = vec![false; usize::from(DEVICE_NUMBERS)];
    let mut stmt =
        tx.prepare("SELECT communes, device_number FROM devices WHERE device_number IS NOT NULL")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (theirs, number) = row?;
        if theirs.split(',').any(|c| wanted.contains(&c))
            && let Some(slot) = usize::try_from(number).ok().and_then(|n| used.get_mut(n))
        {
            *slot = true;
        }
    }
    used.iter()
        .position(|u| !u)
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| {
            Error::Enrolment(format!(
                "all {DEVICE_NUMBERS} device numbers of commune {communes} are taken"
            ))
        })
}

/// The writer thread: takes every queued exchange (up to [`GROUP_MAX`]),
/// answers them inside one transaction, commits once, then replies. Replies
/// are sent only after the commit, so nothing is acknowledged before it is durable.
/// What the writer thread shares with the hub.
struct WriterContext {
    preparing: Arc<Preparing>,
    commits: Arc<AtomicU64>,
    gather: Duration,
    page_bytes: u32,
}

fn writer(store: &Mutex<Store>, queue: &std::sync::mpsc::Receiver<Job>, context: &WriterContext) {
    let page_bytes = context.page_bytes;
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        let until = Instant::now() + context.gather;
        while jobs.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) if context.preparing.any() => {
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
        let Ok(mut guard) = store.lock() else {
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(Error::Network("store lock poisoned".into())));
            }
            return;
        };
        let started = std::time::Instant::now();
        let outcome = guard.group(|store| {
            jobs.iter_mut()
                .map(|job| {
                    let mut log = WithPrepared {
                        store: &mut *store,
                        prepared: &mut job.prepared,
                    };
                    protocol::answer_scoped(
                        &mut log,
                        &job.request,
                        |p| job.device.may_access(p),
                        Some(&job.scopes),
                        page_bytes,
                    )
                })
                .collect::<Vec<_>>()
        });
        drop(guard);
        context.commits.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            exchanges = jobs.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "group committed"
        );
        match outcome {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                for job in jobs {
                    let _ = job
                        .reply
                        .send(Err(Error::Network(format!("commit failed: {e}"))));
                }
            }
        }
    }
}

/// Turn off transparent huge pages for this process (Linux; elsewhere
/// nothing to do). A burst of first contacts grows the heap quickly (the
/// hub benchmark's process, hub and 1,000 devices, by ~100 MB in under a
/// second); with huge pages each first touch of fresh memory zeroes a whole
/// 2 MiB page. On the 2-core benchmark machine that was a tenth of the
/// round's CPU, and the first-contact p99 fell by about 10 % without it
/// (docs/benchmarks.md) — the reason databases commonly run without THP.
/// Failure is logged, never fatal.
pub fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::warn!(error = %e, "could not turn off transparent huge pages");
    }
}

/// Paths of a hub directory.
pub fn hub_paths(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        dir.join("hub.key"),
        dir.join("hub.db"),
        dir.join("registry.db"),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::protocol::ClientSession;

    #[cfg(target_os = "linux")]
    #[test]
    fn transparent_huge_pages_are_off_once_asked() {
        disable_transparent_huge_pages();
        assert!(rustix::thread::transparent_huge_pages_are_disabled().unwrap());
    }

    fn officer() -> Device {
        Device {
            device_id: "dev-officer".into(),
            role: Role::Officer,
            communes: vec!["79001".into()],
            revoked: false,
        }
    }

    /// A request pushing one new record of commune 79001.
    fn push(record: &str) -> bytes::Bytes {
        let mut store = Store::open_in_memory().unwrap();
        let partition = Partition::new("79001").unwrap();
        store
            .put(&partition, record, &serde_json::json!({"record": record}))
            .unwrap();
        let request = ClientSession::new("hub", [])
            .poll_request(&store)
            .unwrap()
            .unwrap();
        protocol::encode_frame(KIND_REQUEST, &request)
            .unwrap()
            .into()
    }

    fn commits(hub: &Hub) -> u64 {
        hub.inner.metrics.commits.load(Ordering::Relaxed)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_waits_for_exchanges_being_prepared_and_never_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = HubConfig::new(dir.path().join("hub"));
        // Long enough that a wrong wait would stand out (the test would hang
        // for it); the writer must never use it all here.
        config.gather = Duration::from_secs(600);
        let hub = Hub::open(config).unwrap();

        // Idle: a lone exchange is committed at once, alone.
        hub.sync(officer(), push("alone")).await.unwrap();
        assert_eq!(commits(&hub), 1);

        // Busy: while another exchange is still being prepared, the writer
        // holds the first one back; when the other arrives, both are
        // committed together (and answered only then).
        let busy = hub.inner.preparing.enter();
        let first = tokio::spawn({
            let hub = hub.clone();
            async move { hub.sync(officer(), push("first")).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !first.is_finished(),
            "answered before its group was complete"
        );
        assert_eq!(commits(&hub), 1);
        // The other exchange reaches the queue (as `Hub::sync` would queue
        // it once prepared), then nothing is being prepared any more.
        let (reply, second) = tokio::sync::oneshot::channel();
        let device = officer();
        hub.inner
            .jobs
            .as_ref()
            .unwrap()
            .send(Job {
                prepared: Prepared::default(),
                scopes: device.discovery_scopes(),
                request: protocol::decode_frame(KIND_REQUEST, &push("second")).unwrap(),
                device,
                reply,
            })
            .unwrap();
        drop(busy);
        first.await.unwrap().unwrap();
        second.await.unwrap().unwrap();
        assert_eq!(commits(&hub), 2);
        let stored = hub
            .with_store(|s| s.list(&Partition::new("79001").unwrap()).unwrap())
            .unwrap();
        assert_eq!(stored, vec!["alone", "first", "second"]);
    }
}
