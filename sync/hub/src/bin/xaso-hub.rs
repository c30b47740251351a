//! `xaso-hub`: the commune hub.
//!
//! ```text
//! xaso-hub --dir DIR serve [--listen 0.0.0.0:8443] [--name hub.xa.example]...
//! xaso-hub --dir DIR enrol-code --role officer|kiosk|helper|provincial --commune 79001 [--commune …] [--minutes 30]
//! xaso-hub --dir DIR revoke DEVICE_ID
//! xaso-hub --dir DIR devices
//! xaso-hub --dir DIR ca            # print the CA certificate devices must trust
//! xaso-hub --dir DIR roster add --commune 79001 --role officer|helper --id-number N --name NAME
//! xaso-hub --dir DIR roster remove --commune 79001 --id-number N
//! xaso-hub --dir DIR roster list --commune 79001
//! ```

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use xaso_hub::{Hub, HubConfig};
use xaso_services::roster::StaffRole;
use xaso_sync_core::Role;

#[derive(Parser)]
#[command(
    name = "xaso-hub",
    about = "Máy chủ xã của Xã Số / The Xã Số commune hub (HTTPS, mutual TLS, enrolment, sync)"
)]
struct Cli {
    /// The hub's directory (key, databases).
    #[arg(long)]
    dir: PathBuf,
    /// DNS names and IP addresses for the server certificate (first start
    /// only; default: localhost and 127.0.0.1).
    #[arg(long = "name", global = true)]
    names: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTPS until interrupted.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
        /// Connect to the provincial / national platform described in this TOML file
        /// (base_url, username, password_file, ca_file, communes, mapping, rate…).
        #[arg(long)]
        central: Option<PathBuf>,
    },
    /// A commune's report for a period: indicators (JSON, CSV), charts (SVG, PNG), the
    /// printable PDF, and the anonymised open data with its Table Schema.
    Report {
        #[arg(long)]
        commune: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: jiff::civil::Date,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: jiff::civil::Date,
        /// Where to write the files.
        #[arg(long)]
        out: PathBuf,
        /// vi or en.
        #[arg(long, default_value = "vi")]
        lang: String,
    },
    /// The outbox to the provincial / national platform.
    Outbox {
        /// The platform connection's TOML file (as for `serve --central`).
        #[arg(long)]
        central: PathBuf,
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Print a one-time enrolment code for a new device.
    EnrolCode {
        /// The device's role: kiosk, helper, officer or provincial.
        #[arg(long)]
        role: Role,
        /// A commune code the device may access (repeat for several).
        #[arg(long = "commune", required = true)]
        communes: Vec<String>,
        /// Minutes the code stays valid.
        #[arg(long, default_value_t = 30)]
        minutes: u64,
    },
    /// Revoke a device: its certificate is refused from now on.
    Revoke {
        /// The device id (see `devices`).
        device_id: String,
    },
    /// List the enrolled devices.
    Devices,
    /// Print the CA certificate devices must trust.
    Ca,
    /// Who may sign in on the commune's officer and helper tablets.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Counts, the latest failure and every dead letter with the platform's reason.
    Status,
    /// Send dead letters again (after the data or the mapping was corrected), built
    /// again from the dossier as it is now.
    Retry {
        /// The dead letter's key; every dead letter when absent.
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Put a person on the roster (or change their name or role).
    Add {
        #[arg(long)]
        commune: String,
        /// officer or helper.
        #[arg(long)]
        role: StaffRoleArg,
        /// The 12-digit personal ID number on their chip card (kept only as a hash).
        #[arg(long)]
        id_number: String,
        /// The name shown on screen and on the documents they sign.
        #[arg(long)]
        name: String,
    },
    /// Take a person off the roster (their past actions keep their name).
    Remove {
        #[arg(long)]
        commune: String,
        #[arg(long)]
        id_number: String,
    },
    /// List the roster (names, roles, numbers; never ID numbers).
    List {
        #[arg(long)]
        commune: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StaffRoleArg {
    Officer,
    Helper,
}

impl From<StaffRoleArg> for StaffRole {
    fn from(r: StaffRoleArg) -> StaffRole {
        match r {
            StaffRoleArg::Officer => StaffRole::Officer,
            StaffRoleArg::Helper => StaffRole::Helper,
        }
    }
}

// Under a burst of devices the hub allocates from many threads at once;
// mimalloc handles that better than glibc's allocator (measured with
// `cargo xtask bench hub`, see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .json()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = HubConfig::new(&cli.dir);
    if !cli.names.is_empty() {
        config.server_names = cli.names;
    }
    let hub =
        Hub::open(config).with_context(|| format!("opening the hub in {}", cli.dir.display()))?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Serve { listen, central } => {
            xaso_hub::disable_transparent_huge_pages();
            let listener = xaso_hub::bind(listen)?;
            let bound = listener.local_addr().context("local address")?;
            let _central = match central {
                Some(path) => {
                    let central = connect(&hub, &path)?;
                    tracing::info!("connected to the platform; outbox running");
                    Some(AbortOnDrop(tokio::spawn(central.run())))
                }
                None => None,
            };
            tracing::info!(listen = %bound, "hub listening (HTTPS, TLS 1.3, mutual TLS)");
            hub.serve(listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::EnrolCode {
            role,
            communes,
            minutes,
        } => {
            let communes: Vec<&str> = communes.iter().map(String::as_str).collect();
            let code = hub.create_enrolment_code(
                role,
                &communes,
                Duration::from_secs(minutes.saturating_mul(60)),
            )?;
            writeln!(out, "{code}")?;
        }
        Command::Revoke { device_id } => {
            if !hub.revoke(&device_id)? {
                bail!("no active device {device_id}");
            }
        }
        Command::Devices => {
            for device in hub.devices()? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    device.device_id,
                    device.role,
                    device.communes.join(","),
                    if device.revoked { "revoked" } else { "active" }
                )?;
            }
        }
        Command::Ca => writeln!(out, "{}", hub.ca_pem())?,
        Command::Report {
            commune,
            from,
            to,
            out: dir,
            lang,
        } => {
            let lang = match lang.as_str() {
                "vi" => xaso_i18n::Lang::Vi,
                "en" => xaso_i18n::Lang::En,
                other => bail!("--lang must be vi or en, not {other}"),
            };
            let names = xaso_hub::report::write_report(&hub, &commune, from, to, lang, &dir)?;
            for name in names {
                writeln!(out, "{}", dir.join(name).display())?;
            }
        }
        Command::Outbox { central, command } => {
            let central = connect(&hub, &central)?;
            match command {
                OutboxCommand::Status => {
                    let status = central.status(jiff::Timestamp::now())?;
                    let c = &status.counts;
                    writeln!(
                        out,
                        "pending\t{}\ndossiers waiting\t{}\ndelivered\t{}\ndead letters\t{}",
                        c.pending, c.dossiers_waiting, c.delivered, c.dead
                    )?;
                    if let Some(f) = &status.last_failure {
                        writeln!(out, "last failure\t{f}")?;
                    }
                    for d in &status.dead {
                        writeln!(
                            out,
                            "dead\t{}\t{}\t{}\t{}",
                            d.key, d.service, d.error_code, d.message
                        )?;
                    }
                }
                OutboxCommand::Retry { key } => {
                    let n = central.retry(key.as_deref())?;
                    writeln!(out, "{n} back in line")?;
                }
            }
        }
        Command::Roster { command } => match command {
            RosterCommand::Add {
                commune,
                role,
                id_number,
                name,
            } => {
                if xaso_services::id_number::parse_id_number(&id_number).is_err() {
                    bail!("--id-number must be the 12-digit personal ID number on the card");
                }
                let person = hub.roster_put(&commune, &id_number, &name, role.into())?;
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    person.actor_id(&commune),
                    person.role.as_str(),
                    person.display_name
                )?;
            }
            RosterCommand::Remove { commune, id_number } => {
                if !hub.roster_remove(&commune, &id_number)? {
                    bail!("nobody active with that ID number on the roster of {commune}");
                }
            }
            RosterCommand::List { commune } => {
                let roster = hub.roster(&commune)?;
                let mut people: Vec<_> = roster.people.values().collect();
                people.sort_by_key(|p| p.number);
                for p in people {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        p.actor_id(&commune),
                        p.role.as_str(),
                        p.display_name,
                        if p.active { "active" } else { "removed" }
                    )?;
                }
            }
        },
    }
    Ok(())
}

/// The hub's connection to the platform of the TOML file at `path`.
fn connect(
    hub: &Hub,
    path: &std::path::Path,
) -> anyhow::Result<xaso_hub::central::Central<xaso_hub::central::NationalPortal>> {
    let config = xaso_hub::central::CentralConfig::load(path)?;
    let portal = xaso_hub::central::NationalPortal::new(config.portal.clone())?;
    Ok(xaso_hub::central::Central::new(hub, portal, config)?)
}

/// Stops the outbox's task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
