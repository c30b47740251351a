//! The accept loop: TCP, the TLS handshake, then HTTP/1.1 with the hub's
//! routes, each connection watched for progress ([`crate::liveness`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use tokio::net::TcpListener;
use xaso_sync_tls::cert_sha256_hex;

use crate::liveness::{Activity, ProgressStream};
use crate::routes::{self, PeerCert};
use crate::{Hub, HubError};

/// Connections the kernel may queue before the hub accepts them. The
/// default of Rust's standard library and `mio` (128) is far too small for a
/// hub: when a commune's devices reconnect together after an outage, SYNs
/// beyond it are dropped and each costs the device a one-second SYN
/// retransmission. The kernel caps this at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Bind a listening socket for the hub (address reuse, [`LISTEN_BACKLOG`]).
pub fn bind(addr: SocketAddr) -> Result<TcpListener, HubError> {
    let io = |e| HubError::Io {
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

impl Hub {
    /// Serve HTTPS on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), HubError> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.inner.tls.clone());
        let app = routes::router(self.clone());
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
                let metrics = &hub.inner.metrics;
                metrics.connections.inc();
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
                        metrics.connections_resumed.inc();
                    }
                    let cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| cert_sha256_hex(c.as_ref()));
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
                        metrics.connections_stalled.inc();
                        tracing::info!(%peer, "connection closed: no progress");
                    }
                }
            });
        }
    }

    /// Bind `addr` (use port 0 in tests) and serve in a background task.
    /// Returns the bound address and a handle that stops the server when dropped or triggered.
    pub async fn spawn(self, addr: SocketAddr) -> Result<(SocketAddr, HubHandle), HubError> {
        let listener = bind(addr)?;
        let local = listener.local_addr().map_err(|e| HubError::Io {
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

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn transparent_huge_pages_are_off_once_asked() {
        super::disable_transparent_huge_pages();
        assert!(matches!(
            rustix::thread::transparent_huge_pages_are_disabled(),
            Ok(true)
        ));
    }
}
