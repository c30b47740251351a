//! `cargo xtask` — build, demo, test and benchmark automation for Xã Số.
//!
//! * `cargo xtask demo`  — checks the system packages, builds, runs the kiosk in demo mode.
//! * `cargo xtask test`  — the same set-up, then the architecture check, rustfmt, clippy,
//!   every test and the doc tests.
//! * `cargo xtask bench NAME` — runs the benchmark binary `xaso-bench-NAME` in release mode,
//!   prints its figures and writes `target/bench/NAME.json`.
//! * `cargo xtask arch`  — only the architecture check (`ARCHITECTURE.md` against the graph).
//! * `cargo xtask deps`  — only the system-package check (and install, as root).

mod architecture;
mod bench;
mod demo;
mod packages;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Xã Số build, demo, test and benchmark automation"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build and run the kiosk in demo mode (a local hub, the software card).
    Demo {
        /// Passed on to xaso-kiosk.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
    /// The architecture check, rustfmt, clippy, every test and the doc tests.
    Test {
        /// Passed on to cargo nextest.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
    /// Run the benchmark `xaso-bench-NAME` (card, sync, hub, kiosk).
    Bench {
        /// The benchmark.
        name: String,
        /// Passed on to the benchmark.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        extra: Vec<String>,
    },
    /// Check the crate graph against ARCHITECTURE.md.
    Arch,
    /// Check (and as root install) the Debian packages needed.
    Deps,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Task::Demo { extra } => demo::demo(&extra),
        Task::Test { extra } => test(&extra),
        Task::Bench { name, extra } => bench::bench(&name, &extra),
        Task::Arch => architecture::check(&root(), &cargo),
        Task::Deps => packages::ensure_packages(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn root() -> PathBuf {
    // xtask/ sits directly under the workspace root
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start: {what}"))?;
    if !status.success() {
        bail!("failed ({status}): {what}");
    }
    Ok(())
}

pub(crate) fn output_of(cmd: &mut Command, what: &str) -> Result<String> {
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
    packages::ensure_packages()?;
    if !has_nextest() {
        run(
            cargo().args(["install", "--locked", "cargo-nextest"]),
            "installing cargo-nextest from crates.io",
        )?;
    }
    eprintln!("xtask: architecture check (ARCHITECTURE.md against the crate graph)");
    architecture::check(&root(), &cargo)?;
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
