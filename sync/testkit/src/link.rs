//! A userspace link emulator (the kernel here has no netem): a TCP relay on
//! loopback that imposes a rate, a one-way delay, random stalls (what a lost
//! segment costs a TCP stream: a retransmission timeout) and cuts connections
//! at chosen byte offsets.
//!
//! Each direction is modelled as a serial link: a segment of `n` bytes
//! occupies the link for `n / rate` seconds and arrives `delay` later; with
//! probability `loss` it arrives `stall` later instead (head-of-line
//! blocking, as TCP delivers in order). Reads are limited to one MSS and the
//! queue to a bandwidth-delay product plus a small buffer, so back-pressure
//! reaches the sender.
//!
//! ```no_run
//! # async fn demo(hub: std::net::SocketAddr) -> std::io::Result<()> {
//! use std::time::Duration;
//! use xaso_sync_testkit::link::{Link, LinkConfig};
//! let link = Link::start(hub, LinkConfig::slow(64_000, Duration::from_millis(300), 0.02)).await?;
//! // connect devices to link.addr() instead of hub
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// Cut connection number `connection` (0-based, in accept order) after
/// `at_byte` bytes have passed in `direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Connection index.
    pub connection: u64,
    /// Direction whose byte count triggers the cut.
    pub direction: Direction,
    /// Bytes delivered before the cut.
    pub at_byte: u64,
}

/// Link characteristics.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Bytes per second in each direction (0 = unlimited).
    pub rate_bytes_per_s: u64,
    /// One-way propagation delay (half the RTT).
    pub one_way_delay: Duration,
    /// Probability that a segment is "lost" (stalls the stream).
    pub loss: f64,
    /// Extra delay of a lost segment (a retransmission timeout).
    pub stall: Duration,
    /// Connection cuts.
    pub cuts: Vec<Cut>,
    /// Segment size.
    pub mss: usize,
}

impl LinkConfig {
    /// No shaping at all (a plain relay, still counting bytes and cutting).
    pub fn unlimited() -> Self {
        LinkConfig {
            rate_bytes_per_s: 0,
            one_way_delay: Duration::ZERO,
            loss: 0.0,
            stall: Duration::ZERO,
            cuts: Vec::new(),
            mss: 1448,
        }
    }

    /// A slow link: `bits_per_s`, round-trip time `rtt`, loss probability
    /// `loss`; a lost segment stalls for RTT + 200 ms (a typical RTO).
    pub fn slow(bits_per_s: u64, rtt: Duration, loss: f64) -> Self {
        LinkConfig {
            rate_bytes_per_s: bits_per_s / 8,
            one_way_delay: rtt / 2,
            loss,
            stall: rtt + Duration::from_millis(200),
            cuts: Vec::new(),
            mss: 1448,
        }
    }

    /// Add a cut.
    pub fn with_cut(mut self, cut: Cut) -> Self {
        self.cuts.push(cut);
        self
    }
}

/// Counters of a running link.
#[derive(Debug, Default)]
pub struct LinkStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Bytes delivered client → server.
    pub bytes_up: AtomicU64,
    /// Bytes delivered server → client.
    pub bytes_down: AtomicU64,
    /// Connections cut.
    pub cuts: AtomicU64,
    /// Segments stalled by emulated loss.
    pub stalls: AtomicU64,
}

impl LinkStats {
    /// Total bytes both ways.
    pub fn total_bytes(&self) -> u64 {
        self.bytes_up.load(Ordering::Relaxed) + self.bytes_down.load(Ordering::Relaxed)
    }
}

/// A running relay. Dropping it stops accepting new connections.
#[derive(Debug)]
pub struct Link {
    addr: SocketAddr,
    stats: Arc<LinkStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Link {
    /// Listen on 127.0.0.1 (any port) and relay to `target`.
    pub async fn start(target: SocketAddr, config: LinkConfig) -> std::io::Result<Link> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(LinkStats::default());
        let config = Arc::new(config);
        let shared = stats.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let index = shared.connections.fetch_add(1, Ordering::SeqCst);
                let config = config.clone();
                let stats = shared.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    relay(client, server, index, &config, &stats).await;
                });
            }
        });
        Ok(Link { addr, stats, task })
    }

    /// Address devices should connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }
}

enum Segment {
    Data(Vec<u8>, Instant),
    /// Deliver nothing more; cut the connection.
    Cut(Vec<u8>, Instant),
    Eof(Instant),
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    index: u64,
    config: &LinkConfig,
    stats: &LinkStats,
) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let cut_up = config
        .cuts
        .iter()
        .find(|c| c.connection == index && c.direction == Direction::Up)
        .map(|c| c.at_byte);
    let cut_down = config
        .cuts
        .iter()
        .find(|c| c.connection == index && c.direction == Direction::Down)
        .map(|c| c.at_byte);
    let up = pump(
        client_read,
        server_write,
        config,
        cut_up,
        &stats.bytes_up,
        stats,
    );
    let down = pump(
        server_read,
        client_write,
        config,
        cut_down,
        &stats.bytes_down,
        stats,
    );
    tokio::pin!(up);
    tokio::pin!(down);
    // A cut in either direction drops the whole connection (both halves).
    tokio::select! {
        cut = &mut up => if cut { stats.cuts.fetch_add(1, Ordering::Relaxed); } else { down.await; },
        cut = &mut down => if cut { stats.cuts.fetch_add(1, Ordering::Relaxed); } else { up.await; },
    }
}

/// Relay one direction; returns true if it ended with a cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    config: &LinkConfig,
    cut_at: Option<u64>,
    counter: &AtomicU64,
    stats: &LinkStats,
) -> bool {
    // Queue: a bandwidth-delay product plus 16 segments of buffer.
    let bdp = (config.rate_bytes_per_s as f64 * config.one_way_delay.as_secs_f64() * 2.0) as usize;
    let capacity = (bdp / config.mss.max(1) + 16).max(16);
    let (tx, mut rx) = mpsc::channel::<Segment>(capacity);
    let reader = async move {
        let mut buf = vec![0u8; config.mss.max(1)];
        let mut link_free = Instant::now();
        let mut last_delivery = Instant::now();
        let mut passed = 0u64;
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Segment::Eof(last_delivery)).await;
                    return;
                }
                Ok(n) => n,
            };
            let now = Instant::now();
            let serialization = if config.rate_bytes_per_s == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(n as f64 / config.rate_bytes_per_s as f64)
            };
            link_free = link_free.max(now) + serialization;
            let mut deliver = link_free + config.one_way_delay;
            if config.loss > 0.0 && rand::random::<f64>() < config.loss {
                deliver += config.stall;
                stats.stalls.fetch_add(1, Ordering::Relaxed);
            }
            deliver = deliver.max(last_delivery);
            last_delivery = deliver;
            if let Some(limit) = cut_at
                && passed + n as u64 >= limit
            {
                let keep = (limit - passed) as usize;
                let _ = tx.send(Segment::Cut(buf[..keep].to_vec(), deliver)).await;
                return;
            }
            passed += n as u64;
            if tx
                .send(Segment::Data(buf[..n].to_vec(), deliver))
                .await
                .is_err()
            {
                return;
            }
        }
    };
    let writer = async move {
        while let Some(segment) = rx.recv().await {
            match segment {
                Segment::Data(bytes, at) => {
                    tokio::time::sleep_until(at).await;
                    if to.write_all(&bytes).await.is_err() {
                        return false;
                    }
                    counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                Segment::Cut(bytes, at) => {
                    tokio::time::sleep_until(at).await;
                    let _ = to.write_all(&bytes).await;
                    counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    return true;
                }
                Segment::Eof(at) => {
                    tokio::time::sleep_until(at).await;
                    let _ = to.shutdown().await;
                    return false;
                }
            }
        }
        false
    };
    let (_, cut) = tokio::join!(reader, writer);
    cut
}
