//! The Debian packages the workspace needs (`xtask/packages.txt`): checked,
//! and installed when running as root; otherwise the exact command is printed.

use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::run;

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
pub fn ensure_packages() -> Result<()> {
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
