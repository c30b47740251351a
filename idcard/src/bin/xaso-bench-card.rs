//! `cargo xtask bench card`: full card reads through the real PC/SC stack (pcscd +
//! vsmartcard-vpcd + the software card): APDU count against the minimum for the negotiated
//! response size, bytes on the wire and read time. The last stdout line is the JSON figures.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use xaso_idcard::pcscd::{Pcscd, VPCD_READER};
use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
use xaso_idcard::testpki::TestPki;
use xaso_idcard::transport::{CardWatcher, PcscTransport};
use xaso_idcard::{AccessKey, ReadOptions, read_card_with, vpcd};

const RUNS: usize = 20;

struct Figures {
    apdus: usize,
    min_apdus: usize,
    bytes: usize,
    read_ms: f64,
    file_bytes: usize,
}

fn measure(extended: bool) -> Result<Figures> {
    let pki = TestPki::default_test()?;
    let id = Identity::builtin_named("nguyen-thi-mai-anh")?;
    let mut card = SoftCard::new(CardFiles::build(&id, &pki)?);
    card.extended_length = extended;
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let th = std::thread::spawn(move || vpcd::serve(&mut card, &vpcd::VpcdOptions::default(), &s2));
    CardWatcher::new()?.wait_for_card(Some(VPCD_READER), Some(Duration::from_secs(15)))?;
    let mut t = PcscTransport::connect(VPCD_READER)?;
    let key = AccessKey::Mrz(id.mrz_key()?);
    let trust = pki.trust_store();
    let opts = ReadOptions {
        extended_length: extended,
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut last = None;
    for i in 0..RUNS + 2 {
        let start = Instant::now();
        let r = read_card_with(&mut t, &key, &trust, &opts).context("reading the card")?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if !r.passive_auth.verified {
            bail!(
                "passive authentication failed: {}",
                r.passive_auth.summary()
            );
        }
        if i >= 2 {
            times.push(ms);
        }
        last = Some(r);
    }
    drop(t);
    stop.store(true, Ordering::Relaxed);
    let _ = th.join();
    let r = last.context("no read")?;
    times.sort_by(f64::total_cmp);
    Ok(Figures {
        apdus: r.stats.apdus,
        min_apdus: r.stats.min_apdus(),
        bytes: r.stats.bytes_sent + r.stats.bytes_received,
        read_ms: times[times.len() / 2],
        file_bytes: r.stats.file_sizes.values().sum(),
    })
}

fn main() -> Result<()> {
    let _pcscd = Pcscd::ensure().context("starting pcscd")?;
    let ext = measure(true)?;
    std::thread::sleep(Duration::from_millis(500));
    let short = measure(false)?;
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "full read (EF.COM, DG1, DG2, DG13, EF.SOD + passive auth), median of {RUNS}, through pcscd + vpcd"
    )?;
    writeln!(
        o,
        "extended length: {} APDUs (minimum {}), {} bytes, {:.1} ms",
        ext.apdus, ext.min_apdus, ext.bytes, ext.read_ms
    )?;
    writeln!(
        o,
        "short APDUs:     {} APDUs (minimum {}), {} bytes, {:.1} ms",
        short.apdus, short.min_apdus, short.bytes, short.read_ms
    )?;
    let json = serde_json::json!({
        "apdus": ext.apdus,
        "min_apdus": ext.min_apdus,
        "bytes": ext.bytes,
        "read_ms": (ext.read_ms * 10.0).round() / 10.0,
        "file_bytes": ext.file_bytes,
        "apdus_short": short.apdus,
        "min_apdus_short": short.min_apdus,
        "bytes_short": short.bytes,
        "read_ms_short": (short.read_ms * 10.0).round() / 10.0,
    });
    writeln!(o, "{json}")?;
    Ok(())
}
