//! `cargo xtask bench kiosk`: cold start to the first rendered frame, and the resident set
//! size after the full journey.
//!
//! The parent starts this same binary as a child (`--child`), timing from the spawn to the
//! child's "first frame rendered" line: process start, catalog and translations, window
//! creation, store opening and one 1080×1920 frame of the software renderer. The child then
//! runs the scripted journey (card, form, two papers, submit to an on-disk store, rating,
//! status lookup) and reports its resident set size. Runs are repeated and the median kept.
//! The last stdout line is the JSON the xtask convention expects.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::SystemClock;
use xaso_kiosk::demo::write_sample_papers;
use xaso_kiosk::setup::{KioskConfig, build};
use xaso_kiosk::shell::ReceiptOutput;
use xaso_kiosk::tour::{Camera, Headless, scripted_journey};
use xaso_kiosk::ui::AppWindow;
use xaso_kiosk_core::IdlePolicy;

const RUNS: usize = 5;

fn rss_mb(field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .context("no RSS in /proc/self/status")?;
    Ok(kb / 1024.0)
}

fn child() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("xaso-bench-kiosk-{}", std::process::id()));
    write_sample_papers(&dir.join("papers"))?;
    let headless = Headless::install()?;
    let ui = AppWindow::new()?;
    let app = build(
        ui,
        KioskConfig {
            store: Some(dir.join("store")),
            device_id: "kiosk-bench".into(),
            commune: "09904".into(),
            device: 1,
            papers_dir: dir.join("papers"),
            qr_images: None,
            camera: None,
            receipt: ReceiptOutput::default(),
            idle: IdlePolicy::default(),
            speech: false,
            hub: None,
            helper: None,
            lessons: Default::default(),
        },
        Box::new(SystemClock),
        Box::new(SoftCardReader::new()?),
    )?;
    let frame = headless.render(1080, 1920);
    let mut out = std::io::stdout().lock();
    writeln!(out, "first-frame {}", frame.width())?;
    drop(frame);
    writeln!(out, "rss-first {:.1}", rss_mb("VmRSS:")?)?;
    out.flush()?;
    let mut camera = Camera {
        headless: &headless,
        dir: None,
        count: 0,
        written: Vec::new(),
    };
    let code = scripted_journey(&app, &mut camera, None)?;
    headless.render(1080, 1920);
    if code.is_empty() {
        bail!("the journey did not reach the receipt");
    }
    writeln!(out, "rss {:.1} {:.1}", rss_mb("VmRSS:")?, rss_mb("VmHWM:")?)?;
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--child") {
        return child();
    }
    let exe = std::env::current_exe()?;
    let (mut frames, mut rss, mut peak) = (Vec::new(), Vec::new(), Vec::new());
    let mut first_rss = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let mut c = Command::new(&exe)
            .arg("--child")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = c.stdout.take().context("no child stdout")?;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(v) = line.strip_prefix("rss-first ") {
                first_rss.push(v.parse::<f64>().context("rss-first")?);
            } else if line.starts_with("first-frame") {
                frames.push(start.elapsed().as_secs_f64() * 1000.0);
            } else if let Some(rest) = line.strip_prefix("rss ") {
                let mut it = rest
                    .split_whitespace()
                    .filter_map(|v| v.parse::<f64>().ok());
                rss.push(it.next().context("rss")?);
                peak.push(it.next().context("peak")?);
            }
        }
        if !c.wait()?.success() {
            bail!("the benchmark child failed");
        }
    }
    if frames.len() != RUNS || rss.len() != RUNS {
        bail!("the child did not report every figure");
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{{\"first_frame_ms\": {:.1}, \"rss_mb\": {:.1}, \"peak_rss_mb\": {:.1}, \"first_frame_rss_mb\": {:.1}, \"runs\": {RUNS}}}",
        median(frames),
        median(rss),
        median(peak),
        median(first_rss)
    )?;
    Ok(())
}
