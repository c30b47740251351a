//! `cargo xtask bench central`: the hub's outbox against `xaso-central-sim` on loopback
//! (real HTTPS, the portal's integration style).
//!
//! N dossiers (handed in at a kiosk and taken four steps: five packets each) are written to
//! the hub's store; then the outbox takes them in from the change feed and delivers them.
//! Figures:
//! - `take_in_s`: the change feed into the outbox (packets built, stored with the cursor);
//! - `outbox_per_s`: dossiers delivered per second (each with its five packets),
//!   `packets_per_s` the same in packets — a healthy platform;
//! - `flaky_outbox_per_s`: the same against 20 % 5xx and 10 % lost acknowledgements;
//! - `bytes_per_dossier`: request bytes (JSON bodies) the platform receives per dossier.
//!
//! Environment: XASO_BENCH_DOSSIERS (5000), XASO_BENCH_PARALLEL (8).

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use jiff::Timestamp;
use xaso_central_sim::{SimConfig, Simulator};
use xaso_hub::central::{Central, CentralConfig, NationalPortal, PortalConfig};
use xaso_hub::{Hub, HubConfig};
use xaso_sync_core::Partition;
use xaso_sync_testkit::sample::processed_dossier;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COMMUNE: &str = "79001";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    take_in: Duration,
    deliver: Duration,
    packets: u64,
    body_bytes: u64,
}

async fn run(dossiers: u32, parallel: usize, sim_config: SimConfig) -> Result<Run> {
    let dir = tempfile::tempdir()?;
    let hub = Hub::open(HubConfig::new(dir.path().join("hub")))?;
    let partition = Partition::new(format!("{COMMUNE}/kiosk/bench"))?;
    let t0: Timestamp = "2026-12-03T02:00:00Z".parse()?;
    let mut made = Vec::with_capacity(dossiers as usize);
    for i in 0..dossiers {
        made.push(processed_dossier(i, COMMUNE, 3, t0, 4).map_err(|e| anyhow::anyhow!(e))?);
    }
    hub.with_store(|s| s.put_batch(&partition, made))??;
    let sim = Simulator::start(sim_config).await?;
    let config = CentralConfig {
        portal: PortalConfig {
            base_url: sim.base_url(),
            username: "xaso".into(),
            password: "xaso-sim".into(),
            ca_pem: Some(sim.ca_pem()),
            timeout: Duration::from_secs(10),
        },
        communes: vec![COMMUNE.into()],
        mapping: None,
        rate_per_second: 0.0,
        parallel,
        pull_every: Duration::from_secs(3600),
        policy: xaso_central::Policy {
            first_retry: Duration::from_millis(5),
            max_retry: Duration::from_millis(200),
            breaker_after: 1000,
            cool_down: Duration::from_millis(50),
        },
    };
    let portal = NationalPortal::new(config.portal.clone())?;
    let central = Central::new(&hub, portal, config)?;
    let started = Instant::now();
    let taken = central.take_in(Timestamp::now()).await?;
    let take_in = started.elapsed();
    let started = Instant::now();
    loop {
        central.step(Timestamp::now()).await?;
        if central.status(Timestamp::now())?.counts.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let deliver = started.elapsed();
    let status = central.status(Timestamp::now())?;
    let snap = sim.snapshot();
    ensure!(snap.dossiers.len() == dossiers as usize, "dossiers missing");
    let steps: usize = snap.progress.values().map(Vec::len).sum();
    ensure!(steps == 4 * dossiers as usize, "steps missing");
    let body_bytes = central_body_bytes(dir.path())?;
    eprintln!(
        "{dossiers} dossiers: {taken} packets taken in, {} delivered, {} duplicates at the platform, {} failures injected",
        status.counts.delivered, snap.duplicates, snap.injected_failures
    );
    Ok(Run {
        take_in,
        deliver,
        packets: status.counts.delivered,
        body_bytes,
    })
}

/// The request bodies kept in the outbox (what the platform receives), in bytes.
fn central_body_bytes(dir: &std::path::Path) -> Result<u64> {
    let key = xaso_sync_store::DatabaseKey::from_key_file(&dir.join("hub/hub.key"))?;
    let db = xaso_hub::central::OutboxDb::open(&dir.join("hub/outbox.db"), &key)?;
    Ok(db.body_bytes()?)
}

#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let dossiers: u32 = env_or("XASO_BENCH_DOSSIERS", 5000);
    let parallel: usize = env_or("XASO_BENCH_PARALLEL", 8);
    let healthy = run(dossiers, parallel, SimConfig::default()).await?;
    let flaky = run(
        dossiers,
        parallel,
        SimConfig {
            fail_rate: 0.2,
            drop_ack_rate: 0.1,
            seed: 11,
            ..SimConfig::default()
        },
    )
    .await?;
    let per_s = |r: &Run| f64::from(dossiers) / r.deliver.as_secs_f64();
    let figures = serde_json::json!({
        "dossiers": dossiers,
        "take_in_s": (healthy.take_in.as_secs_f64() * 100.0).round() / 100.0,
        "outbox_per_s": (per_s(&healthy) * 10.0).round() / 10.0,
        "packets_per_s": (healthy.packets as f64 / healthy.deliver.as_secs_f64()).round(),
        "flaky_outbox_per_s": (per_s(&flaky) * 10.0).round() / 10.0,
        "bytes_per_dossier": healthy.body_bytes / u64::from(dossiers),
    });
    println!("{figures}");
    Ok(())
}
