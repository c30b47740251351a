//! `cargo xtask bench lessons`: what lessons cost a kiosk and a province.
//!
//! The bundled modules are packed and signed, then opened as a kiosk opens a pack (frame,
//! key, `verify_strict`, digest, version, inflate with a limit, every content check) —
//! repeated and the median kept; the pack's size and its transfer time at 2G's ~40 kbit/s;
//! certificates issued and verified per second; and merging two kiosks' copies of a
//! learner's record holding 1,000 answers each. The last stdout line is the JSON object the
//! xtask convention expects.

use std::io::Write;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use jiff::civil::date;
use xaso_training::certificate::{self, Certificate, IssuerKey, TrustList};
use xaso_training::pack::{self, TrustedKey};
use xaso_training::progress::{AnswerRecord, Progress};

const RUNS: usize = 21;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let files = xaso_training::bundled_files();
    let key = SigningKey::from_bytes(&[7; 32]);
    let trusted = [TrustedKey {
        key_id: "bench".into(),
        key: key.verifying_key(),
    }];
    let started = Instant::now();
    let bytes = pack::build(&files, "79", 1, date(2026, 12, 3), "bench", &key)?;
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let content_bytes: usize = files.values().map(Vec::len).sum();
    let mut open_ms = Vec::new();
    let mut modules = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let p = pack::open(&bytes, &trusted, None)?;
        open_ms.push(t.elapsed().as_secs_f64() * 1e3);
        modules = p.library.modules().count();
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "pack: {} bytes ({content_bytes} bytes of files), {modules} modules",
        bytes.len()
    )?;

    let trust = TrustList {
        issued: date(2026, 12, 1),
        keys: vec![IssuerKey {
            kid: "bench".into(),
            province: "79".into(),
            public_key: hex::encode(key.verifying_key().to_bytes()),
            valid_from: date(2026, 1, 1),
            valid_until: None,
        }],
    };
    let cert = Certificate {
        id: "kiosk-7-1796000000-1".into(),
        name: "NGUYỄN THỊ THU HƯỜNG".into(),
        track: "public-services".into(),
        date: date(2026, 12, 3),
        commune: "79001".into(),
        province: "79".into(),
        issued_at: 1_796_300_000,
    };
    let n = 2_000;
    let t = Instant::now();
    let mut code = String::new();
    for _ in 0..n {
        code = certificate::issue(&cert, "bench", &key)?;
    }
    let issue_per_s = n as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..n {
        certificate::verify(&code, &trust, date(2026, 12, 3))?;
    }
    let verify_per_s = n as f64 / t.elapsed().as_secs_f64();

    let library = pack::open(&bytes, &trusted, None)?.library;
    let module = library
        .module("scams")
        .ok_or_else(|| anyhow::anyhow!("no module scams"))?;
    let copy = |device: &str| {
        let mut p = Progress::new("learner");
        for i in 0..1_000 {
            let at = jiff::Timestamp::from_second(1_796_000_000 + i * 2 + i64::from(device == "b"))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            p.answer(
                module,
                &format!("{device}-{i}"),
                AnswerRecord {
                    module: "scams".into(),
                    question: "q1".into(),
                    correct: i % 3 != 0,
                    given: "a".into(),
                    at,
                    device: device.into(),
                },
            );
        }
        p
    };
    let (a, b) = (copy("a"), copy("b"));
    let t = Instant::now();
    let mut merged = a.clone();
    merged.merge(&b);
    let merge_ms = t.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(merged.answers.len() == 2_000, "merge lost answers");
    let record_bytes = serde_json::to_vec(&merged)?.len();

    writeln!(
        out,
        "{{\"pack_bytes\":{},\"pack_build_ms\":{build_ms:.1},\"pack_open_ms\":{:.2},\"pack_at_40kbit_s\":{:.1},\"certificate_bytes\":{},\"certificates_issued_per_s\":{issue_per_s:.0},\"certificates_verified_per_s\":{verify_per_s:.0},\"merge_2x1000_answers_ms\":{merge_ms:.2},\"record_2000_answers_bytes\":{record_bytes}}}",
        bytes.len(),
        median(open_ms),
        bytes.len() as f64 * 8.0 / 40_000.0,
        code.len(),
    )?;
    Ok(())
}
