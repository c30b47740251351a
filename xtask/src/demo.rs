//! `cargo xtask demo`: a local commune hub on loopback, the kiosk enrolled
//! with it, the software card in a real pcscd + vpcd reader when there is a
//! display; headless journey without one. The hub reports to the national
//! portal simulator (`xaso-central-sim`, two dossiers submitted online waiting
//! there); the kiosk installs a lesson pack the demo signed as a province would
//! (`xaso-lessons`, see [`lessons`]); after the journey the demo shows the hub's
//! outbox and writes the commune's report for the month.

mod lessons;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::packages::ensure_packages;
use crate::{cargo, output_of, root, run};

fn workspace_has_package(name: &str) -> bool {
    cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            text.contains(&format!("\"name\":\"{name}\""))
        })
        .unwrap_or(false)
}

fn has_display() -> bool {
    let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if env_set("DISPLAY") || env_set("WAYLAND_DISPLAY") {
        return true;
    }
    std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("card"))
        })
        .unwrap_or(false)
}

/// Child processes the demo starts (hub, pcscd, software card); stopped when dropped.
struct Children(Vec<(String, std::process::Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (name, child) in self.0.iter_mut().rev() {
            if child.try_wait().ok().flatten().is_none() {
                eprintln!("xtask: stopping {name}");
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn release_bin(name: &str) -> PathBuf {
    root().join("target/release").join(name)
}

fn wait_for_port(addr: std::net::SocketAddr, child: &mut std::process::Child) -> Result<()> {
    for _ in 0..100 {
        if std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(100))
            .is_ok()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the hub stopped before listening ({status})");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!("the hub did not start listening on {addr} within 10 s")
}

/// The demo: a local commune hub on loopback (HTTPS, mutual TLS), the kiosk enrolled with it
/// and using an embedded SQLite store under `target/demo/`, and the resident's journey —
/// in a window when there is a display, otherwise headless with a screenshot tour.
pub fn demo(extra: &[String]) -> Result<()> {
    ensure_packages()?;
    if !workspace_has_package("xaso-kiosk") {
        eprintln!(
            "xtask: the kiosk app is not in the workspace; showing the procedure catalog and a \
             sample dossier in the terminal instead (the real domain logic, no UI)."
        );
        return run(
            cargo().args([
                "run",
                "--quiet",
                "--package",
                "xaso-services",
                "--example",
                "catalog",
            ]),
            "catalog walk",
        );
    }
    run(
        cargo().args([
            "build",
            "--release",
            "--package",
            "xaso-kiosk",
            "--bin",
            "xaso-kiosk",
            "--package",
            "xaso-hub",
            "--bin",
            "xaso-hub",
            "--package",
            "xaso-idcard",
            "--bin",
            "xaso-card",
            "--package",
            "xaso-central-sim",
            "--bin",
            "xaso-central-sim",
            "--package",
            "xaso-lessons",
            "--bin",
            "xaso-lessons",
        ]),
        "building the kiosk, the hub, the card tool, the platform simulator and the lessons \
         tool (release)",
    )?;
    let demo_dir = root().join("target/demo");
    let hub_dir = demo_dir.join("hub");
    std::fs::create_dir_all(&hub_dir).with_context(|| format!("creating {}", hub_dir.display()))?;
    let hub_bin = release_bin("xaso-hub");
    let hub = |args: &[&str]| {
        let mut cmd = Command::new(&hub_bin);
        cmd.arg("--dir")
            .arg(&hub_dir)
            .args(args)
            .env("RUST_LOG", "warn");
        cmd
    };
    // The demo commune (the kiosk's default) and a fresh one-time enrolment code; a kiosk that
    // enrolled in an earlier run keeps its identity and ignores the code.
    let commune = "09904";
    let code = output_of(
        &mut hub(&[
            "enrol-code",
            "--role",
            "kiosk",
            "--commune",
            commune,
            "--minutes",
            "30",
        ]),
        "creating an enrolment code",
    )?;
    let ca_path = demo_dir.join("hub-ca.pem");
    let ca = output_of(&mut hub(&["ca"]), "reading the hub CA")?;
    std::fs::write(&ca_path, ca).with_context(|| format!("writing {}", ca_path.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free loopback port")?
        .port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let mut children = Children(Vec::new());
    let central_toml = start_central_sim(&demo_dir, commune, &mut children)?;
    let mut hub_child = hub(&[
        "serve",
        "--listen",
        &addr.to_string(),
        "--central",
        &central_toml.to_string_lossy(),
    ])
    .spawn()
    .context("starting xaso-hub")?;
    let ready = wait_for_port(addr, &mut hub_child);
    children.0.push(("the local hub".into(), hub_child));
    ready?;
    eprintln!(
        "xtask: local commune hub on https://{addr} (data in {})",
        hub_dir.display()
    );

    let lessons = lessons::prepare(&demo_dir)?;
    let kiosk_store = demo_dir.join("kiosk");
    let mut kiosk = Command::new(release_bin("xaso-kiosk"));
    kiosk
        .current_dir(root())
        .arg("--demo")
        .arg("--store")
        .arg(&kiosk_store)
        .arg("--lessons")
        .arg(&lessons.config)
        .arg("--install-pack")
        .arg(&lessons.pack)
        .args(["--hub", &format!("https://{addr}")])
        .arg("--hub-ca")
        .arg(&ca_path)
        .args(["--enrol", code.trim()]);
    if !has_display() {
        eprintln!(
            "xtask: no display here (no DISPLAY, no WAYLAND_DISPLAY, no /dev/dri/card*).\n\
             xtask: running the resident's journey headless instead; screenshots go to target/demo/screenshots/"
        );
        kiosk
            .arg("--headless")
            .arg("--screenshots")
            .arg(demo_dir.join("screenshots"));
    }
    if has_display() {
        match start_card_reader(&mut children) {
            Ok(reader) => {
                eprintln!(
                    "xtask: the software ID card ({DEMO_RESIDENT}) sits in the PC/SC reader \
                     \"{reader}\" (pcscd + vpcd); the kiosk reads it through PC/SC"
                );
                kiosk.args([
                    "--card",
                    "pcsc",
                    "--reader",
                    reader,
                    "--identity",
                    DEMO_RESIDENT,
                ]);
            }
            Err(e) => eprintln!(
                "xtask: no PC/SC reader for the demo ({e:#}); the kiosk reads the software \
                 card in-process instead"
            ),
        }
    } else {
        eprintln!("xtask: headless, the scripted journey reads the software card in-process");
    }
    kiosk.args(extra);
    run(&mut kiosk, "xaso-kiosk --demo")?;
    lessons::show_installed(&kiosk_store, &lessons)?;
    show_central(
        &mut |args: &[&str]| hub(args),
        &central_toml,
        commune,
        &demo_dir,
    )?;
    // The officer's tablet on a sample commune: every screen, at both tablet sizes.
    // The demo starts no enrolled officer tablet (only the screenshot tour, whose sample
    // certificate is signed with the tour's own key): the trust list is shown for an officer
    // tablet started by hand with `xaso-kiosk --trust-list FILE`.
    eprintln!(
        "xtask: the certificate trust list for officers' tablets: {}",
        lessons.trust_list.display()
    );
    let officer_dir = demo_dir.join("officer-screenshots");
    run(
        Command::new(release_bin("xaso-kiosk"))
            .current_dir(root())
            .arg("--officer-screenshots")
            .arg(&officer_dir),
        "xaso-kiosk --officer-screenshots",
    )
}

/// Start `xaso-central-sim` (the national portal, played on loopback) with two dossiers
/// submitted online for `commune`, and write the hub's connection file for it.
fn start_central_sim(demo_dir: &Path, commune: &str, children: &mut Children) -> Result<PathBuf> {
    let dir = demo_dir.join("central");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let online = dir.join("online.json");
    let dossiers: Vec<serde_json::Value> = (1..=2)
        .map(|i| {
            serde_json::json!({
                "MaHoSo": format!("000.00.{commune}.H01-261201-000{i}"),
                "MaTTHC": "1.004873",
                "MaDonVi": commune,
                "NgayTiepNhan": format!("2026120{i}090000"),
                "ChuHoSo": if i == 1 { "Lê Văn Hùng" } else { "Đặng Thị Thu" },
                "SoDinhDanh": format!("00119000000{i}"),
                "ThongTin": { "purpose": "Kết hôn" }
            })
        })
        .collect();
    std::fs::write(&online, serde_json::to_vec_pretty(&dossiers)?)
        .with_context(|| format!("writing {}", online.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free loopback port")?
        .port();
    let mut child = Command::new(release_bin("xaso-central-sim"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--dir")
        .arg(&dir)
        .arg("--online")
        .arg(&online)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting xaso-central-sim")?;
    let url = child.stdout.take().map(|out| {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
        line.trim().to_owned()
    });
    children.0.push(("the platform simulator".into(), child));
    let url = url
        .filter(|u| u.starts_with("https://"))
        .context("xaso-central-sim did not say where it listens (see its messages above)")?;
    let toml = dir.join("central.toml");
    std::fs::write(
        &toml,
        format!(
            "base_url = \"{url}\"\nusername = \"xaso\"\npassword = \"xaso-sim\"\n\
             ca_file = \"ca.pem\"\ncommunes = [\"{commune}\"]\npull_every_secs = 5\n"
        ),
    )
    .with_context(|| format!("writing {}", toml.display()))?;
    eprintln!(
        "xtask: the national portal simulator on {url} (xaso-central-sim); the hub reports to it"
    );
    Ok(toml)
}

/// After the journey: wait for the hub's outbox to empty, show it, and write the commune's
/// report for the month so far.
fn show_central(
    hub: &mut dyn FnMut(&[&str]) -> Command,
    central_toml: &Path,
    commune: &str,
    demo_dir: &Path,
) -> Result<()> {
    let toml = central_toml.to_string_lossy().to_string();
    let mut status = String::new();
    for _ in 0..30 {
        status = output_of(
            &mut hub(&["outbox", "--central", &toml, "status"]),
            "outbox status",
        )?;
        if status.lines().any(|l| l == "pending\t0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    eprintln!("xtask: the hub's outbox to the national portal:");
    for line in status.lines() {
        eprintln!("xtask:   {line}");
    }
    let today = jiff::ZonedDateTime::now().date();
    let first = today.first_of_month();
    let out = demo_dir.join("report");
    let written = output_of(
        &mut hub(&[
            "report",
            "--commune",
            commune,
            "--from",
            &first.to_string(),
            "--to",
            &today.to_string(),
            "--out",
            &out.to_string_lossy(),
        ]),
        "the commune's report",
    )?;
    eprintln!(
        "xtask: the commune's report for this month ({} files) in {}",
        written.lines().count(),
        out.display()
    );
    Ok(())
}

/// The synthetic resident whose software card the demo puts in the reader.
const DEMO_RESIDENT: &str = "nguyen-thi-mai-anh";

fn pcscd_running() -> bool {
    Command::new("pgrep")
        .args(["-x", "pcscd"])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts pcscd (unless one runs) and the software card on vpcd's first reader.
fn start_card_reader(children: &mut Children) -> Result<&'static str> {
    let pcscd = Path::new("/usr/sbin/pcscd");
    if !pcscd.exists() || !Path::new("/etc/reader.conf.d/vpcd").exists() {
        bail!("pcscd or vsmartcard-vpcd is not installed");
    }
    if !pcscd_running() {
        let child = Command::new(pcscd)
            .arg("-f")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting pcscd")?;
        children.0.push(("pcscd".into(), child));
        // the software card retries its connection to vpcd, so waiting for pcscd's socket is
        // enough
        let socket = Path::new("/run/pcscd/pcscd.comm");
        for _ in 0..50 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if !socket.exists() {
            bail!("pcscd did not create {}", socket.display());
        }
    }
    let card = Command::new(release_bin("xaso-card"))
        .args(["emulate", "--identity", DEMO_RESIDENT])
        .env("RUST_LOG", "warn")
        .spawn()
        .context("starting the software card")?;
    children.0.push(("the software card".into(), card));
    Ok("Virtual PCD 00 00")
}
