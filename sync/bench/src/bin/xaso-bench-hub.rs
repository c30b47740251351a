//! `cargo xtask bench hub`: many simulated devices syncing concurrently
//! against one hub on loopback (real HTTPS, mutual TLS, SQLCipher store).
//!
//! Each device is a kiosk of commune 79001 with its own certificate and a
//! few new dossiers. All devices start each round together (a barrier):
//! - round 1 ("cold"): first contact — new TCP connection, full TLS 1.3
//!   handshake with certificates both ways — and a push of the new dossiers;
//! - round 2 ("warm"): a no-change check on the kept connection;
//! - round 3 ("reconnect"): every device drops its connection, adds as many
//!   new dossiers again and reconnects (TLS resumed from the hub's ticket) —
//!   a commune's devices coming back together after an outage.
//!
//! Environment: XASO_BENCH_DEVICES (1000), XASO_BENCH_DOSSIERS (3).
//! The last stdout line is the JSON of figures; `p50_ms`/`p99_ms` are over
//! all rounds together.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use xaso_hub::{Hub, HubConfig};
use xaso_sync_client::{self as client, CancellationToken, Progress, SyncClient};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;

// The same allocator as `xaso-hub`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time this process has used so far, in seconds (hub and devices
/// together; `None` where the platform has no process CPU clock here).
fn cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
        Some(t.tv_sec as f64 + t.tv_nsec as f64 / 1e9)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

// The benchmark convention: figures go to stdout as the last line.
#[allow(clippy::print_stdout)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // As `xaso-hub serve` does.
    xaso_hub::disable_transparent_huge_pages();
    let devices: usize = env_or("XASO_BENCH_DEVICES", 1000);
    let dossiers: u64 = env_or("XASO_BENCH_DOSSIERS", 3);
    let dir = std::env::temp_dir().join(format!("xaso-bench-hub-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir, devices, dossiers).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", result?);
    Ok(())
}

struct Device {
    client: SyncClient,
    store: Store,
}

async fn run(dir: &std::path::Path, devices: usize, dossiers: u64) -> Result<serde_json::Value> {
    let hub = Hub::open(HubConfig::new(dir.join("hub")))?;
    let (addr, _handle) = hub.clone().spawn("127.0.0.1:0".parse()?).await?;
    let url = format!("https://127.0.0.1:{}", addr.port());
    eprintln!("enrolling {devices} devices…");
    let mut fleet = Vec::with_capacity(devices);
    for n in 0..devices {
        let code = hub.create_enrolment_code(Role::Kiosk, &["79001"], Duration::from_secs(3600))?;
        let identity = client::enrol(&url, hub.ca_pem(), &code).await?;
        let mut store = Store::open_in_memory()?;
        let own: Partition = identity.submissions_partition()?;
        for d in 0..dossiers {
            store.put(
                &own,
                &format!("HS-{n}-{d}"),
                &xaso_sync_testkit::sample::dossier(n as u64 * 100 + d),
            )?;
        }
        fleet.push(Device {
            client: SyncClient::new(&url, &identity)?,
            store,
        });
    }
    eprintln!("syncing {devices} devices concurrently…");
    let mut latencies = Vec::with_capacity(devices * 2);
    let mut errors = 0u64;
    let mut round_figures = Vec::new();
    for round in 0..3 {
        if round == 2 {
            for (n, device) in fleet.iter_mut().enumerate() {
                device.client.reconnect()?;
                let own = device.store.partitions()?;
                let Some(own) = own.first() else {
                    anyhow::bail!("device {n} has no partition");
                };
                for d in dossiers..2 * dossiers {
                    device.store.put(
                        own,
                        &format!("HS-{n}-{d}"),
                        &xaso_sync_testkit::sample::dossier(n as u64 * 100 + d),
                    )?;
                }
            }
        }
        eprintln!("round {}…", ["first contact", "warm", "reconnect"][round]);
        let barrier = Arc::new(tokio::sync::Barrier::new(devices));
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let mut tasks = Vec::with_capacity(devices);
        for mut device in fleet.drain(..) {
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let result = device
                    .client
                    .sync_once(
                        &mut device.store,
                        &Progress::default(),
                        &CancellationToken::new(),
                    )
                    .await;
                (device, t.elapsed().as_secs_f64() * 1000.0, result)
            }));
        }
        let mut round_latencies = Vec::with_capacity(devices);
        for task in tasks {
            let (device, ms, result) = task.await?;
            match result {
                Ok(report) => {
                    if round == 1 && report.rounds != 1 {
                        eprintln!("warm sync took {} rounds", report.rounds);
                    }
                    round_latencies.push(ms);
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("device error: {e}");
                }
            }
            fleet.push(device);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_before.zip(cpu_seconds()).map(|(a, b)| b - a);
        round_latencies.sort_by(f64::total_cmp);
        round_figures.push((
            percentile(&round_latencies, 50.0),
            percentile(&round_latencies, 99.0),
            devices as f64 / elapsed,
            cpu,
        ));
        latencies.extend(round_latencies);
    }
    let stored = hub.with_store(|s| -> Result<u64> {
        let mut n = 0;
        for p in s.partitions()? {
            n += s.list(&p)?.len() as u64;
        }
        Ok(n)
    })??;
    let resumed = hub
        .metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix("xaso_hub_connections_resumed_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    anyhow::ensure!(
        stored == devices as u64 * dossiers * 2 || errors > 0,
        "hub holds {stored} dossiers"
    );
    latencies.sort_by(f64::total_cmp);
    Ok(serde_json::json!({
        "devices": devices,
        "dossiers_per_device": dossiers,
        "p50_ms": percentile(&latencies, 50.0),
        "p99_ms": percentile(&latencies, 99.0),
        "cold_p50_ms": round_figures[0].0,
        "cold_p99_ms": round_figures[0].1,
        "cold_syncs_per_s": round_figures[0].2,
        "cold_cpu_s": round_figures[0].3,
        "warm_p50_ms": round_figures[1].0,
        "warm_p99_ms": round_figures[1].1,
        "warm_syncs_per_s": round_figures[1].2,
        "warm_cpu_s": round_figures[1].3,
        "reconnect_p50_ms": round_figures[2].0,
        "reconnect_p99_ms": round_figures[2].1,
        "reconnect_syncs_per_s": round_figures[2].2,
        "reconnect_cpu_s": round_figures[2].3,
        "tls_resumed": resumed,
        "errors": errors,
        "dossiers_stored": stored,
    }))
}
