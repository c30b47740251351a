//! `xaso-central-sim`: the national portal simulator on its own (for the demo and manual
//! tests). Writes `DIR/ca.pem`, prints the base URL as one line on stdout, runs until
//! Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use xaso_central::Mapping;
use xaso_central::wire::OnlineDossier;
use xaso_central_sim::{SimConfig, Simulator};

/// A simulator of the national public-service portal (HTTPS, /auth and /api), misbehaving
/// on request.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Where to write `ca.pem` (the CA a client must trust).
    #[arg(long)]
    dir: PathBuf,
    /// Share of /api requests answered 503 before anything is done.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Share of /api requests done and stored, then answered 502.
    #[arg(long, default_value_t = 0.0)]
    drop_ack_rate: f64,
    /// Share of /api requests held for --stall-ms before being processed.
    #[arg(long, default_value_t = 0.0)]
    stall_rate: f64,
    /// How long a stalled request is held, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    stall_ms: u64,
    /// Random delay on every request, `A..B` milliseconds (or `A`).
    #[arg(long, value_parser = latency)]
    latency_ms: Option<(u64, u64)>,
    /// A session expires after this many /api calls.
    #[arg(long)]
    session_ttl: Option<u32>,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "xaso")]
    username: String,
    #[arg(long, default_value = "xaso-sim")]
    password: String,
    /// Online dossiers to serve: a JSON file holding one OnlineDossier or an array.
    #[arg(long)]
    online: Option<PathBuf>,
    /// A province's own mapping file (TOML) instead of the bundled one.
    #[arg(long)]
    mapping: Option<PathBuf>,
}

fn latency(text: &str) -> Result<(u64, u64), String> {
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|e| format!("`{s}`: {e}"));
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if a > b {
                return Err(format!("{a} is more than {b}"));
            }
            Ok((a, b))
        }
        None => parse(text).map(|a| (a, a)),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let (latency_min, latency_max) = args.latency_ms.unwrap_or((0, 0));
    let config = SimConfig {
        username: args.username,
        password: args.password,
        fail_rate: args.fail_rate,
        drop_ack_rate: args.drop_ack_rate,
        stall_rate: args.stall_rate,
        stall: Duration::from_millis(args.stall_ms),
        latency_min: Duration::from_millis(latency_min),
        latency_max: Duration::from_millis(latency_max),
        down: false,
        session_ttl: args.session_ttl,
        seed: args.seed,
    };
    let catalog = xaso_services::Catalog::bundled().context("the bundled catalog")?;
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
            Mapping::parse(&text, &catalog).with_context(|| format!("{}", path.display()))?
        }
        None => Mapping::bundled(&catalog).context("the bundled mapping")?,
    };
    let online: Vec<OnlineDossier> = match &args.online {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("read {}", path.display()))?;
            let value: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
            if value.is_array() {
                serde_json::from_value(value)
            } else {
                serde_json::from_value(value).map(|one| vec![one])
            }
            .with_context(|| format!("{}: online dossiers", path.display()))?
        }
        None => Vec::new(),
    };
    let sim = Simulator::start_with(args.listen, config, mapping).await?;
    sim.add_online(online);
    std::fs::create_dir_all(&args.dir).with_context(|| format!("create {}", args.dir.display()))?;
    let ca = args.dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_pem()).with_context(|| format!("write {}", ca.display()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sim.base_url())?;
        out.flush()?;
    }
    tokio::signal::ctrl_c().await.context("wait for Ctrl-C")?;
    tracing::info!("stopping");
    sim.stop().await;
    Ok(())
}
