//! # Xã Số commune hub
//!
//! HTTPS only (TLS 1.3), mutual TLS with certificates from the hub's own CA,
//! one-time enrolment codes, commune-scoped access, revocation, structured
//! logs and OpenMetrics `/metrics`. The protocol itself is the pure core of
//! `xaso-sync-core`; this crate is the shell that serves it.
//!
//! A hub with the SQLite backend lives in one directory:
//! - `hub.key`: the secret (0600) that encrypts both databases;
//! - `hub.db`: an SQLCipher store holding every partition the hub serves;
//! - `registry.db`: the CA, the server certificate, enrolment codes, devices.
//!
//! Endpoints ([`routes`]):
//! - `POST /v1/enrol` (no client certificate yet): JSON `{code, csr_pem}` →
//!   the device certificate, bound to the role and communes of the code.
//! - `POST /v1/sync` (client certificate required): one protocol exchange.
//!   `403` if any partition is outside the device's scope (nothing is
//!   written), `401` if the certificate is unknown or revoked.
//! - `POST /v1/blobs/status`, `PUT` and `GET /v1/blobs/{sha256}/{partition}`
//!   (client certificate): attachments, resumable both ways; the same device
//!   check as `/v1/sync`.
//! - `GET /metrics`: counters in OpenMetrics text (no personal data).
//!
//! ## Modules, one concern each
//!
//! - [`access`](xaso_sync_core::access) (in the core): who may see which partition;
//! - [`registry`]: the CA, codes and devices behind the [`Registry`] trait;
//! - [`authority`]: certificates (rcgen) and enrolment codes;
//! - [`tls`]: the server's TLS configuration;
//! - [`routes`]: the HTTP handlers (axum);
//! - [`writer`]: the single writer thread and its group commit;
//! - [`backend`]: where records and attachments are kept, behind
//!   [`RecordBackend`] and [`BlobBackend`] (SQLite today);
//! - [`liveness`]: progress-based connection liveness;
//! - [`metrics`]: the counters (`prometheus-client`);
//! - [`server`]: the accept loop;
//! - [`signing`]: officers' document-signing certificates.
//!
//! ## Invariants
//!
//! - A reply is sent only after what the device pushed is committed.
//! - Every request is checked against the registry, resumed TLS sessions
//!   too, so a revoked device is refused at once.
//! - No personal data in logs: devices, partitions and counts only.
//! - Slow links: there is no fixed per-request deadline. A connection is
//!   closed only when no byte has moved in either direction for the liveness
//!   period.

pub mod authority;
pub mod backend;
pub mod central;
pub mod counter;
mod error;
pub mod liveness;
pub mod metrics;
pub mod registry;
pub mod report;
pub mod routes;
pub mod server;
pub mod signing;
pub mod tls;
pub mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xaso_services::roster::{ROSTER_RECORD, Roster, RosterPerson, StaffRole};
use xaso_sync_core::enrol::{EnrolRequest, EnrolResponse};
use xaso_sync_core::frame::{decode_frame, encode_frame};
use xaso_sync_core::protocol::{self, AnswerBody, KIND_REPLY, KIND_REQUEST, SyncRequest};
use xaso_sync_core::{Device, Partition, Role, changes::Prepared};
use xaso_sync_store::{DatabaseKey, Store};
use xaso_sync_tls::KnownCerts;

pub use backend::{BlobBackend, Exchange, RecordBackend, SqliteBlobs, SqliteRecords};
pub use error::{EnrolmentRefused, HubError};
pub use metrics::Metrics;
pub use registry::{Registry, SqliteRegistry};
pub use server::{HubHandle, LISTEN_BACKLOG, bind, disable_transparent_huge_pages};

/// Hub settings.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Directory holding `hub.key`, `hub.db`, `registry.db` (SQLite backend).
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

/// Where a hub keeps its data: the three backends.
pub struct Backends {
    /// Records (the writer owns them).
    pub records: Box<dyn RecordBackend>,
    /// Attachments.
    pub blobs: Box<dyn BlobBackend>,
    /// Authority, codes and devices.
    pub registry: Box<dyn Registry>,
}

impl Backends {
    /// The SQLite backends in `config.dir` (created on first use).
    pub fn sqlite(config: &HubConfig) -> Result<Backends, HubError> {
        std::fs::create_dir_all(&config.dir).map_err(|e| HubError::Io {
            context: format!("create {}", config.dir.display()),
            source: e,
        })?;
        let key_path = config.dir.join("hub.key");
        xaso_sync_store::ensure_key_file(&key_path)?;
        let store = Store::open(&config.dir.join("hub.db"), &key_path)?;
        store.set_cache_mib(config.cache_mib)?;
        let blobs = Store::open(&config.dir.join("hub.db"), &key_path)?;
        let key = DatabaseKey::from_key_file(&key_path)?;
        let registry = SqliteRegistry::open(&config.dir.join("registry.db"), &key)?;
        Ok(Backends {
            records: Box::new(SqliteRecords(store)),
            blobs: Box::new(SqliteBlobs(blobs)),
            registry: Box::new(registry),
        })
    }
}

pub(crate) struct Inner {
    records: Arc<Mutex<Box<dyn RecordBackend>>>,
    /// Attachments on their own connection, so uploads and downloads do not
    /// queue behind the record writer's group commits.
    blobs: Arc<Mutex<Box<dyn BlobBackend>>>,
    /// Always `Some` until the hub is dropped (then taken to stop the writer).
    jobs: Option<std::sync::mpsc::Sender<writer::Job>>,
    /// Exchanges on their way to `jobs`.
    preparing: Arc<writer::Preparing>,
    /// The writer thread, joined when the last clone of the hub is dropped:
    /// it must not still be inside SQLCipher (and libcrypto) while the
    /// process exits and libcrypto's exit handlers run.
    writer: Option<std::thread::JoinHandle<()>>,
    registry: Box<dyn Registry>,
    authority: registry::Authority,
    /// Device certificates known to chain to the CA (see `xaso-sync-tls`).
    known_certs: Arc<KnownCerts>,
    tls: Arc<rustls::ServerConfig>,
    config: HubConfig,
    metrics: Metrics,
    /// The connection to the provincial / national platform, when the hub has one.
    central: std::sync::OnceLock<Arc<central::Shared>>,
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

/// A hub. Cheap to clone; all clones share one set of backends.
#[derive(Clone)]
pub struct Hub {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("dir", &self.inner.config.dir)
            .finish()
    }
}

/// Requests up to this size are decoded on the connection's own task.
const INLINE_BYTES: usize = 16 * 1024;
/// Replies with up to this many changes are encoded on the connection's own task.
const INLINE_CHANGES: u64 = 16;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Hub {
    /// Open the hub with the SQLite backends in `config.dir`, creating the
    /// key, databases, CA and server certificate on first use.
    pub fn open(config: HubConfig) -> Result<Hub, HubError> {
        let backends = Backends::sqlite(&config)?;
        Hub::with_backends(config, backends)
    }

    /// A hub over the given backends (the CA and server certificate are made
    /// on first use and kept in the registry).
    pub fn with_backends(config: HubConfig, backends: Backends) -> Result<Hub, HubError> {
        let Backends {
            records,
            blobs,
            registry,
        } = backends;
        let authority = match registry.authority()? {
            Some(found) => found,
            None => {
                let created = registry.init_authority(authority::create(&config.server_names)?)?;
                tracing::info!("hub certificate authority created");
                created
            }
        };
        let known_certs = Arc::new(KnownCerts::default());
        let tls = Arc::new(tls::server_config(&authority, known_certs.clone())?);
        let records = Arc::new(Mutex::new(records));
        let (jobs, queue) = std::sync::mpsc::channel::<writer::Job>();
        let preparing = Arc::new(writer::Preparing::default());
        let metrics = Metrics::default();
        let writer_config = writer::WriterConfig {
            preparing: preparing.clone(),
            commits: metrics.commits.clone(),
            gather: config.gather,
            page_bytes: config.page_bytes,
        };
        let writer_records = records.clone();
        let writer = std::thread::Builder::new()
            .name("xaso-hub-writer".into())
            .spawn(move || writer::run(&writer_records, &queue, &writer_config))
            .map_err(|e| HubError::Io {
                context: "start the hub writer".into(),
                source: e,
            })?;
        Ok(Hub {
            inner: Arc::new(Inner {
                records,
                blobs: Arc::new(Mutex::new(blobs)),
                jobs: Some(jobs),
                preparing,
                writer: Some(writer),
                registry,
                authority,
                known_certs,
                tls,
                config,
                metrics,
                central: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Make a platform connection's outbox visible to officers (`/v1/central/*`). The first
    /// connection attached stays.
    pub(crate) fn attach_central(&self, shared: Arc<central::Shared>) {
        let _ = self.inner.central.set(shared);
    }

    /// The platform connection's shared part, when the hub has one.
    pub(crate) fn central(&self) -> Option<&Arc<central::Shared>> {
        self.inner.central.get()
    }

    /// The CA certificate devices must trust (give it to devices with the code).
    pub fn ca_pem(&self) -> &str {
        &self.inner.authority.ca_cert_pem
    }

    /// Create a one-time enrolment code for a device of `role` in `communes`,
    /// valid for `valid_for`. Show it on the hub's screen; only its hash is kept.
    pub fn create_enrolment_code(
        &self,
        role: Role,
        communes: &[&str],
        valid_for: Duration,
    ) -> Result<String, HubError> {
        for commune in communes {
            Partition::new(*commune)?;
        }
        if communes.is_empty() {
            return Err(EnrolmentRefused::NoCommune.into());
        }
        let code = authority::new_code()?;
        let grant = registry::Grant {
            role,
            communes: communes.iter().map(|c| (*c).to_owned()).collect(),
        };
        let expires =
            now_ms().saturating_add(i64::try_from(valid_for.as_millis()).unwrap_or(i64::MAX));
        self.inner
            .registry
            .add_code(&authority::code_hash(&code), &grant, expires)?;
        Ok(code)
    }

    /// Revoke a device: its certificate is refused from now on.
    pub fn revoke(&self, device_id: &str) -> Result<bool, HubError> {
        match self.inner.registry.revoke(device_id, now_ms())? {
            Some(cert) => {
                self.inner.known_certs.forget_hex(&cert);
                tracing::info!(device = device_id, "device revoked");
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Enrolled devices.
    pub fn devices(&self) -> Result<Vec<Device>, HubError> {
        self.inner.registry.devices()
    }

    /// The enrolled device holding the certificate with this SHA-256 (hex).
    pub fn device_by_cert(&self, cert_sha256: &str) -> Result<Option<Device>, HubError> {
        self.inner.registry.device_by_cert(cert_sha256)
    }

    /// Run a closure with the hub's record store — SQLite backend only (tools
    /// and tests inspect it this way; other backends give [`HubError::NotSqlite`]).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> Result<R, HubError> {
        let mut records = self
            .inner
            .records
            .lock()
            .map_err(|_| HubError::LockPoisoned("record store"))?;
        let sqlite = records
            .as_any_mut()
            .downcast_mut::<SqliteRecords>()
            .ok_or(HubError::NotSqlite)?;
        Ok(f(&mut sqlite.0))
    }

    /// The roster of `commune` (empty if none was written yet).
    pub fn roster(&self, commune: &str) -> Result<Roster, HubError> {
        let partition = Partition::public(commune)?;
        let records = self.records()?;
        match records.get_json(&partition, ROSTER_RECORD)? {
            None => Ok(Roster::default()),
            Some(json) => serde_json::from_value(json)
                .map_err(|e| HubError::Core(xaso_sync_core::Error::Deserialize(e))),
        }
    }

    /// Put a person on `commune`'s roster (or change their name or role): they may then sign
    /// in with their own chip card on the commune's tablets of that role. The roster syncs
    /// to every device of the commune. Returns their entry.
    pub fn roster_put(
        &self,
        commune: &str,
        id_number: &str,
        display_name: &str,
        role: StaffRole,
    ) -> Result<RosterPerson, HubError> {
        self.edit_roster(commune, |roster| {
            (
                true,
                roster.put(commune, id_number, display_name, role).clone(),
            )
        })
    }

    /// Take a person off `commune`'s roster; returns whether they were on it.
    pub fn roster_remove(&self, commune: &str, id_number: &str) -> Result<bool, HubError> {
        self.edit_roster(commune, |roster| {
            let removed = roster.remove(commune, id_number);
            (removed, removed)
        })
    }

    /// Change `commune`'s roster with `edit`, which says whether it changed anything; a
    /// change is written (durably) and syncs.
    fn edit_roster<R>(
        &self,
        commune: &str,
        edit: impl FnOnce(&mut Roster) -> (bool, R),
    ) -> Result<R, HubError> {
        let partition = Partition::public(commune)?;
        let mut records = self.records()?;
        let mut roster: Roster = match records.get_json(&partition, ROSTER_RECORD)? {
            None => Roster::default(),
            Some(json) => serde_json::from_value(json)
                .map_err(|e| HubError::Core(xaso_sync_core::Error::Deserialize(e)))?,
        };
        let (changed, result) = edit(&mut roster);
        if changed {
            let json = serde_json::to_value(&roster)
                .map_err(|e| HubError::Core(xaso_sync_core::Error::Serialize(e)))?;
            records.put_json(&partition, ROSTER_RECORD, &json)?;
            tracing::info!(commune, people = roster.people.len(), "roster changed");
        }
        Ok(result)
    }

    pub(crate) fn records(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, Box<dyn RecordBackend>>, HubError> {
        self.inner
            .records
            .lock()
            .map_err(|_| HubError::LockPoisoned("record store"))
    }

    /// Current metrics in OpenMetrics text format.
    pub fn metrics_text(&self) -> String {
        self.inner.metrics.render()
    }

    /// Check a code and issue a certificate for the CSR.
    pub fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, HubError> {
        let authority = &self.inner.authority;
        let mut validity = None;
        let enrolled = self.inner.registry.redeem(
            &authority::code_hash(&request.code),
            now_ms(),
            &mut |grant, _number| {
                let (issued, valid) = authority::issue(
                    authority,
                    &request.csr_pem,
                    authority::new_device_id()?,
                    grant,
                )?;
                validity = Some(valid);
                Ok(issued)
            },
        )?;
        if let (Some(validity), Ok(der)) = (
            validity,
            rustls::pki_types::pem::PemObject::from_pem_slice(enrolled.issued.cert_pem.as_bytes())
                .map(|der: rustls::pki_types::CertificateDer<'_>| der.to_vec()),
        ) {
            self.inner.known_certs.insert(&der, validity);
        }
        tracing::info!(
            device = %enrolled.issued.device_id,
            role = enrolled.grant.role.as_str(),
            device_number = enrolled.device_number,
            "device enrolled"
        );
        Ok(EnrolResponse {
            device_id: enrolled.issued.device_id,
            role: enrolled.grant.role,
            communes: enrolled.grant.communes,
            cert_pem: enrolled.issued.cert_pem,
            ca_pem: authority.ca_cert_pem.clone(),
            hub_cert_pem: Some(authority.server_cert_pem.clone()),
            device_number: enrolled.device_number,
        })
    }

    /// Answer one sync exchange for `device`: decode, check scope, queue the
    /// exchange for the writer (group commit), encode the reply. The reply is
    /// only produced after what the device pushed is durable.
    pub async fn sync(&self, device: Device, body: bytes::Bytes) -> Result<Vec<u8>, HubError> {
        let preparing = self.inner.preparing.enter();
        let checked = device.clone();
        let body_len = body.len();
        // Decoding, checking and building the documents of new records run
        // here, in parallel across exchanges; the single writer then only
        // has the store's own work to do.
        let decode = move || -> Result<(SyncRequest, Prepared), HubError> {
            let request: SyncRequest = decode_frame(KIND_REQUEST, &body)?;
            protocol::check_read_write(
                &request,
                |p| checked.may_read(p),
                |p| checked.may_write(p),
            )?;
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
            tokio::task::spawn_blocking(decode).await??
        };
        let pushed: u64 = request.offers.iter().map(|o| o.entries.len() as u64).sum();
        let partitions = request.offers.len();
        let device_id = device.device_id.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .jobs
            .as_ref()
            .ok_or(HubError::WriterStopped)?
            .send(writer::Job {
                exchange: Exchange {
                    prepared,
                    scopes: device.discovery_scopes(),
                    device,
                    request,
                },
                reply: tx,
            })
            .map_err(|_| HubError::WriterStopped)?;
        drop(preparing);
        let reply = rx.await.map_err(|_| HubError::WriterStopped)??;
        let sent: u64 = reply
            .answers
            .iter()
            .map(|a| match &a.body {
                AnswerBody::Changes { entries, .. } => entries.len() as u64,
                AnswerBody::UpToDate => 0,
            })
            .sum();
        let m = &self.inner.metrics;
        m.changes_in.inc_by(pushed);
        m.changes_out.inc_by(sent);
        tracing::info!(device = %device_id, partitions, pushed, sent, "sync answered");
        if sent <= INLINE_CHANGES {
            Ok(encode_frame(KIND_REPLY, &reply)?)
        } else {
            Ok(tokio::task::spawn_blocking(move || encode_frame(KIND_REPLY, &reply)).await??)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use xaso_sync_core::protocol::ClientSession;

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
        encode_frame(KIND_REQUEST, &request).unwrap().into()
    }

    fn commits(hub: &Hub) -> u64 {
        hub.inner.metrics.commits.get()
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
            .send(writer::Job {
                exchange: Exchange {
                    prepared: Prepared::default(),
                    scopes: device.discovery_scopes(),
                    request: decode_frame(KIND_REQUEST, &push("second")).unwrap(),
                    device,
                },
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
