//! `cargo xtask bench NAME`: run the benchmark binary `xaso-bench-NAME` in
//! release mode; its last line of output is a flat JSON object of figures,
//! written with the machine and the date to `target/bench/NAME.json`.

use std::collections::BTreeMap;
use std::process::Stdio;

use anyhow::{Context, Result, bail};

use crate::packages::ensure_packages;
use crate::{cargo, root};

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

pub fn bench(name: &str, extra: &[String]) -> Result<()> {
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
