//! `cargo xtask` — build, demo, test and benchmark automation for Xã Số.
//!
//! * `cargo xtask demo`  — checks the system packages, builds, runs the kiosk in demo mode.
//! * `cargo xtask test`  — the same set-up, then every test, doc test, rustfmt and clippy.
//! * `cargo xtask bench NAME` — runs the benchmark binary `xaso-bench-NAME` in release mode,
//!   prints its figures and writes `target/bench/NAME.json`.
//! * `cargo xtask deps`  — only the system-package check (and install, as root).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => match args.get(1) {
            Some(name) => bench(name, &args[2..]),
            None => Err(anyhow::anyhow!(
                "usage: cargo xtask bench NAME (see docs/benchmarks.md)"
            )),
        },
        Some("deps") => ensure_packages(),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|test|bench NAME|deps>\n\n  \
                 demo         build and run the kiosk in demo mode\n  \
                 test         run every test, rustfmt and clippy\n  \
                 bench NAME   run a benchmark (card, sync, hub, kiosk)\n  \
                 deps         check and install the Debian packages needed"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    // xtask/ sits directly under the workspace root
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start: {what}"))?;
    if !status.success() {
        bail!("failed ({status}): {what}");
    }
    Ok(())
}

/// The packages listed in `xtask/packages.txt`.
fn required_packages() -> Vec<String> {
    include_str!("../packages.txt")
        .lines()
        .filter_map(|l| l.split('#').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_installed(package: &str) -> Option<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    Some(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).contains("install ok installed"),
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Checks the Debian packages; installs the missing ones when running as root, otherwise
/// prints the exact command and fails.
fn ensure_packages() -> Result<()> {
    let wanted = required_packages();
    let mut missing = Vec::new();
    for p in &wanted {
        match is_installed(p) {
            Some(true) => {}
            Some(false) => missing.push(p.clone()),
            None => {
                eprintln!(
                    "xtask: dpkg-query is not available, so this is not a Debian-like system.\n\
                     xtask: make sure the equivalents of these packages are installed: {}",
                    wanted.join(" ")
                );
                return Ok(());
            }
        }
    }
    if missing.is_empty() {
        eprintln!("xtask: system packages present ({})", wanted.len());
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing system packages: {list}\n  install them with:\n    sudo apt-get install -y {list}\n  then run the command again"
        );
    }
    eprintln!("xtask: installing missing system packages: {list}");
    run(
        Command::new("apt-get").arg("update").arg("-q"),
        "apt-get update",
    )?;
    run(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {list}"),
    )
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn test(extra: &[String]) -> Result<()> {
    ensure_packages()?;
    if !has_nextest() {
        run(
            cargo().args(["install", "--locked", "cargo-nextest"]),
            "installing cargo-nextest from crates.io",
        )?;
    }
    run(
        cargo().args(["fmt", "--all", "--check"]),
        "cargo fmt --check",
    )?;
    run(
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy --workspace --all-targets -- -D warnings",
    )?;
    run(
        cargo()
            .args(["nextest", "run", "--workspace", "--no-fail-fast"])
            .args(extra),
        "cargo nextest run --workspace",
    )?;
    run(
        cargo().args(["test", "--workspace", "--doc"]),
        "cargo test --workspace --doc",
    )?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

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

fn output_of(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("could not start: {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The demo: a local commune hub on loopback (HTTPS, mutual TLS), the kiosk enrolled with it
/// and using an embedded SQLite store under `target/demo/`, and the resident's journey —
/// in a window when there is a display, otherwise headless with a screenshot tour.
fn demo(extra: &[String]) -> Result<()> {
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
            "xaso-sync",
            "--bin",
            "xaso-hub",
            "--package",
            "xaso-idcard",
            "--bin",
            "xaso-card",
        ]),
        "building the kiosk, the hub and the card tool (release)",
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
    let mut hub_child = hub(&["serve", "--listen", &addr.to_string()])
        .spawn()
        .context("starting xaso-hub")?;
    let ready = wait_for_port(addr, &mut hub_child);
    children.0.push(("the local hub".into(), hub_child));
    ready?;
    eprintln!(
        "xtask: local commune hub on https://{addr} (data in {})",
        hub_dir.display()
    );

    let mut kiosk = Command::new(release_bin("xaso-kiosk"));
    kiosk
        .current_dir(root())
        .arg("--demo")
        .arg("--store")
        .arg(demo_dir.join("kiosk"))
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
    run(&mut kiosk, "xaso-kiosk --demo")
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

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!(
        "{cpu}, {cores} cores, {mem_gib:.0} GiB, {}",
        std::env::consts::ARCH
    )
}

fn bench(name: &str, extra: &[String]) -> Result<()> {
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("benchmark names are letters, digits, - and _");
    }
    ensure_packages()?;
    let bin = format!("xaso-bench-{name}");
    eprintln!("xtask: running {bin} (release build)");
    let out = cargo()
        .args(["run", "--release", "--bin", &bin, "--"])
        .args(extra)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {bin}"))?;
    if !out.status.success() {
        bail!(
            "{bin} failed ({}); is there a binary target named {bin}?",
            out.status
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("the benchmark printed nothing")?;
    let figures: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(last).with_context(|| {
            format!("the last line of {bin}'s output is not a flat JSON object: {last}")
        })?;
    if let Some((k, _)) = figures.iter().find(|(_, v)| !v.is_number()) {
        bail!("figure `{k}` is not a number");
    }
    let mut record: BTreeMap<String, serde_json::Value> = figures.clone();
    let machine = machine();
    let date = jiff::ZonedDateTime::now()
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string();
    record.insert("machine".into(), machine.clone().into());
    record.insert("date".into(), date.clone().into());
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&record)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    let width = figures.keys().map(String::len).max().unwrap_or(6).max(6);
    let mut table = format!("\n{:width$}  value\n{:-<width$}  -----\n", "figure", "");
    for (k, v) in &figures {
        table.push_str(&format!("{k:width$}  {v}\n"));
    }
    table.push_str(&format!(
        "\nmachine: {machine}\ndate:    {date}\nwritten: {}\n",
        path.display()
    ));
    eprint!("{table}");
    Ok(())
}
