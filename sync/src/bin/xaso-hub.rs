//! `xaso-hub`: the commune hub.
//!
//! ```text
//! xaso-hub --dir DIR serve [--listen 0.0.0.0:8443] [--name hub.xa.example]...
//! xaso-hub --dir DIR enrol-code --role officer|kiosk|helper|provincial --commune 79001 [--commune …] [--minutes 30]
//! xaso-hub --dir DIR revoke DEVICE_ID
//! xaso-hub --dir DIR devices
//! xaso-hub --dir DIR ca            # print the CA certificate devices must trust
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use xaso_sync::hub::{Hub, HubConfig, Role};

struct Args {
    dir: PathBuf,
    command: String,
    rest: Vec<String>,
}

fn parse() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut command = None;
    let mut rest = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--dir" && command.is_none() {
            dir = Some(PathBuf::from(
                args.next().context("--dir needs a directory")?,
            ));
        } else if command.is_none() {
            command = Some(arg);
        } else {
            rest.push(arg);
        }
    }
    Ok(Args {
        dir: dir.context("usage: xaso-hub --dir DIR <serve|enrol-code|revoke|devices|ca> …")?,
        command: command.context("missing command")?,
        rest,
    })
}

fn values<'a>(rest: &'a [String], flag: &str) -> Vec<&'a str> {
    rest.windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1].as_str())
        .collect()
}

// Under a burst of devices the hub allocates from many threads at once;
// mimalloc handles that better than glibc's allocator (measured with
// `cargo xtask bench hub`, see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .json()
        .with_writer(std::io::stderr)
        .init();
    let args = parse()?;
    let names: Vec<String> = values(&args.rest, "--name")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut config = HubConfig::new(&args.dir);
    if !names.is_empty() {
        config.server_names = names;
    }
    let hub =
        Hub::open(config).with_context(|| format!("opening the hub in {}", args.dir.display()))?;
    match args.command.as_str() {
        "serve" => {
            xaso_sync::hub::disable_transparent_huge_pages();
            let listen: SocketAddr = values(&args.rest, "--listen")
                .first()
                .copied()
                .unwrap_or("0.0.0.0:8443")
                .parse()
                .context("--listen")?;
            let listener = xaso_sync::hub::bind(listen)?;
            let bound = listener.local_addr().context("local address")?;
            tracing::info!(listen = %bound, "hub listening (HTTPS, TLS 1.3, mutual TLS)");
            hub.serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        "enrol-code" => {
            let role: Role = values(&args.rest, "--role")
                .first()
                .context("--role")?
                .parse()?;
            let communes = values(&args.rest, "--commune");
            let minutes: u64 = values(&args.rest, "--minutes")
                .first()
                .map_or(Ok(30), |m| m.parse())
                .context("--minutes")?;
            let code =
                hub.create_enrolment_code(role, &communes, Duration::from_secs(minutes * 60))?;
            println!("{code}");
        }
        "revoke" => {
            let device = args.rest.first().context("revoke needs a device id")?;
            if !hub.revoke(device)? {
                bail!("no active device {device}");
            }
        }
        "devices" => {
            for device in hub.devices()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    device.device_id,
                    device.role.as_str(),
                    device.communes.join(","),
                    if device.revoked { "revoked" } else { "active" }
                );
            }
        }
        "ca" => println!("{}", hub.ca_pem()),
        other => bail!("unknown command {other}"),
    }
    Ok(())
}
