//! # A simulator of the national public-service portal (dev)
//!
//! `xaso-central-sim` plays the provincial one-stop system / national public-service portal
//! that a commune hub reports its dossiers to, so the hub's outbox can be tested — and the
//! demo run — without the real platform. It speaks the portal's integration style
//! ([`xaso_central::wire`]) over HTTPS with a throwaway CA of its own ([`Simulator::ca_pem`]):
//!
//! - `POST /auth` with `{"username","password"}` → `{"error_code":"00","session":…}`;
//!   wrong credentials → **HTTP 403** with `{"error_code":"403","message":…}`.
//! - `POST /api` with `Authorization: Bearer <session>` and
//!   `{"service","isUpdating","data":[…]}`. An unknown or expired session → HTTP 401 with
//!   `error_code` `"401"`. Refusals are HTTP 200 with their `error_code` and `message`:
//!   - `DongBoHoSoMC` / `CapNhatTienDoHoSoMC`: each item is checked with
//!     [`xaso_central::schema::check`] (`"01"` with [`xaso_central::schema::describe`] as
//!     the message). An identical packet again (same service, `isUpdating` and item, keys
//!     in any order) is acknowledged `"00"` and counted as a duplicate, not stored again.
//!     Progress of a dossier the portal does not know → `"03"` ("Hồ sơ chưa được đồng
//!     bộ"). A new dossier (`isUpdating` false) under a code held with other content →
//!     `"02"` ("Hồ sơ đã tồn tại"); with `isUpdating` true it replaces the held one.
//!     Items are taken in order; the first refused one ends the request.
//!   - `LayDanhSachHoSoTrucTuyen` (`[{"MaDonVi","TuThoiDiem"}]`): the online dossiers of
//!     that commune received at or after that time, oldest first.
//!   - `LayKetQuaCongDan` (`[{"SoDinhDanh","MaTTHC"}]`): the earlier results held for that
//!     ID number (and procedure, unless `MaTTHC` is empty); every call is recorded.
//!   - anything else → `"04"`.
//!
//! ## Misconfiguring it
//! [`SimConfig`] (at start, with [`Simulator::set_config`], or `POST /sim/config` with a
//! whole or partial configuration, durations in milliseconds) makes it misbehave:
//! `fail_rate` answers that share of `/api` requests HTTP 503 before doing anything;
//! `drop_ack_rate` does the work, stores it, then answers HTTP 502 (the acknowledgement is
//! lost); `stall_rate` holds that share for `stall` before processing them normally (the
//! work is done even if the client gave up: a timeout becomes a lost answer); every
//! request waits a random `latency_min..=latency_max`; `down` answers everything, `/auth`
//! included, HTTP 503; `session_ttl` expires a session after that many `/api` calls, and
//! [`Simulator::expire_sessions`] (`POST /sim/expire`) expires them all now. The random
//! choices come from a generator seeded with `seed`, restarted by each new configuration.
//! The admin routes ignore all of this.
//!
//! ## Admin (loopback, no authentication)
//! `GET /sim/state` ([`Snapshot`]), `POST /sim/config`, `POST /sim/online` (an
//! [`OnlineDossier`] or an array of them), `POST /sim/results`
//! (`{"SoDinhDanh", "results": [EarlierResult…]}`), `POST /sim/expire`.
//!
//! Logs carry counts and codes only: no names, no ID numbers.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;
use xaso_central::Mapping;
use xaso_central::wire::{EarlierResult, OnlineDossier};

mod config;
mod portal;
mod server;
mod tls;

pub use config::SimConfig;
pub use portal::{BAD_DATA, EXISTS, Snapshot, UNKNOWN_DOSSIER, UNKNOWN_SERVICE};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the bundled catalog: {0}")]
    Catalog(#[from] xaso_services::CatalogError),
    #[error("the portal mapping: {0}")]
    Mapping(#[from] xaso_central::MappingError),
    #[error("the simulator's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("the simulator's TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) struct Inner {
    pub(crate) config: SimConfig,
    pub(crate) rng: StdRng,
    /// Session → `/api` calls made with it.
    pub(crate) sessions: HashMap<String, u32>,
    pub(crate) portal: portal::Portal,
}

/// The state every request and every [`Simulator`] clone shares.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_config(&self, config: SimConfig) {
        let mut inner = self.lock();
        inner.rng = StdRng::seed_from_u64(config.seed);
        inner.config = config;
    }

    pub(crate) fn expire_sessions(&self) {
        self.lock().sessions.clear();
    }
}

/// Stops the server when the last [`Simulator`] clone is dropped.
struct Handle {
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A running simulator. Clones share its state; it stops with [`Simulator::stop`] or when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    base_url: String,
    ca_pem: Arc<str>,
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Serve HTTPS on `127.0.0.1` (a free port) in a background task, with the bundled
    /// catalog's mapping.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        Simulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Serve HTTPS on `addr` in a background task, with the bundled catalog's mapping.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> anyhow::Result<Simulator> {
        let catalog = xaso_services::Catalog::bundled().map_err(SimError::from)?;
        let mapping = Mapping::bundled(&catalog).map_err(SimError::from)?;
        Simulator::start_with(addr, config, mapping).await
    }

    /// Serve HTTPS on `addr` in a background task, checking packets against `mapping`.
    pub async fn start_with(
        addr: SocketAddr,
        config: SimConfig,
        mapping: Mapping,
    ) -> anyhow::Result<Simulator> {
        let tls = tls::make(addr.ip())?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Io {
                context: format!("bind {addr}"),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SimError::Io {
            context: "local address".into(),
            source,
        })?;
        let host = if local.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            local.ip().to_string()
        };
        let base_url = if local.is_ipv6() {
            format!("https://[{host}]:{}", local.port())
        } else {
            format!("https://{host}:{}", local.port())
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                rng: StdRng::seed_from_u64(config.seed),
                config,
                sessions: HashMap::new(),
                portal: portal::Portal::new(mapping),
            }),
        });
        let (stop, stopped) = watch::channel(false);
        let app = server::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, tls.config, app, stopped));
        tracing::info!(port = local.port(), "portal simulator listening");
        Ok(Simulator {
            shared,
            base_url,
            ca_pem: tls.ca_pem.into(),
            handle: Arc::new(Handle {
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The CA (PEM) a client must trust.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.to_string()
    }

    /// What it holds and has counted.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.lock().portal.snap.clone()
    }

    /// Replace the configuration (and restart the random choices from its seed).
    pub fn set_config(&self, config: SimConfig) {
        self.shared.set_config(config);
    }

    pub fn config(&self) -> SimConfig {
        self.shared.lock().config.clone()
    }

    /// Online dossiers to serve (a code already held is replaced).
    pub fn add_online(&self, dossiers: Vec<OnlineDossier>) {
        self.shared.lock().portal.add_online(dossiers);
    }

    /// Earlier results to serve for the ID number `so_dinh_danh`.
    pub fn add_results(&self, so_dinh_danh: &str, results: Vec<EarlierResult>) {
        self.shared.lock().portal.add_results(so_dinh_danh, results);
    }

    /// Expire every session now.
    pub fn expire_sessions(&self) {
        self.shared.expire_sessions();
    }

    /// Stop serving (open connections too) and wait for the accept loop to end. Work
    /// already under way finishes.
    pub async fn stop(self) {
        let _ = self.handle.stop.send(true);
        let task = self
            .handle
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
