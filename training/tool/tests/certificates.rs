//! The trust list and the province office's check through the real binary: a certificate
//! issued with the province's key (`xaso_training::certificate::issue`, as a kiosk issues
//! it) is valid against the trust list `trust-list` wrote; one changed character, a key
//! outside its days or a key the list does not hold make it not valid, with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{keygen, run, signing_key};
use xaso_training::certificate::{self, Certificate, TrustList};

/// 2026-11-20 10:00 in Viet Nam.
const ISSUED_AT: i64 = 1_795_143_600;

fn sample() -> Certificate {
    Certificate {
        id: "kiosk-7-12".into(),
        name: "Lê Thị Thu".into(),
        track: "everyday".into(),
        date: jiff::civil::date(2026, 11, 20),
        commune: "79001".into(),
        province: "79".into(),
        issued_at: ISSUED_AT,
    }
}

/// A certificate signed with the key file `key` under `kid`.
fn issued(dir: &Path, key: &str, kid: &str) -> String {
    certificate::issue(&sample(), kid, &signing_key(&dir.join(key))).unwrap()
}

fn verify(dir: &Path, code: &str) -> common::Run {
    run(
        dir,
        &[
            "verify-certificate",
            "--trust-list",
            "trust.toml",
            "--today",
            "2026-12-05",
            code,
        ],
    )
}

/// The province's trust list: the current key and last year's, which stopped signing on
/// 2026-01-31.
fn trust_list(dir: &Path) -> (String, String) {
    let current = keygen(dir, "p79-cert-2026.key", "p79-cert-2026");
    let old = keygen(dir, "p79-cert-2025.key", "p79-cert-2025");
    let written = run(
        dir,
        &[
            "trust-list",
            "--out",
            "trust.toml",
            "--issued",
            "2026-12-01",
            &format!("p79-cert-2026:79:{current}:2026-01-01"),
            &format!("p79-cert-2025:79:{old}:2025-01-01:2026-01-31"),
        ],
    );
    assert_eq!(written.status, 0, "{}", written.stderr);
    (current, old)
}

#[test]
fn the_trust_list_is_what_tablets_read() {
    let dir = tempfile::tempdir().unwrap();
    let (current, old) = trust_list(dir.path());
    let text = std::fs::read_to_string(dir.path().join("trust.toml")).unwrap();
    let list = TrustList::from_toml(&text).unwrap();
    assert_eq!(list.issued, jiff::civil::date(2026, 12, 1));
    assert_eq!(list.keys.len(), 2);
    assert_eq!(list.keys[0].kid, "p79-cert-2026");
    assert_eq!(list.keys[0].public_key, current);
    assert_eq!(list.keys[0].valid_until, None);
    assert_eq!(list.keys[1].public_key, old);
    assert_eq!(
        list.keys[1].valid_until,
        Some(jiff::civil::date(2026, 1, 31))
    );

    // A key that is not a key is refused, and nothing is written.
    let refused = run(
        dir.path(),
        &[
            "trust-list",
            "--out",
            "bad.toml",
            "--issued",
            "2026-12-01",
            "p79-cert:79:00ff:2026-01-01",
        ],
    );
    assert_eq!(refused.status, 2);
    assert!(
        refused.stderr.contains("64 hex digits"),
        "{}",
        refused.stderr
    );
    assert!(!dir.path().join("bad.toml").exists());
}

#[test]
fn a_certificate_is_valid_and_one_changed_character_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trust_list(d);
    let code = issued(d, "p79-cert-2026.key", "p79-cert-2026");

    let valid = verify(d, &code);
    assert_eq!(valid.status, 0, "{}{}", valid.stdout, valid.stderr);
    assert_eq!(valid.field("verdict"), Some("valid"));
    assert_eq!(valid.field("name"), Some("Lê Thị Thu"));
    assert_eq!(valid.field("number"), Some("kiosk-7-12"));
    assert_eq!(valid.field("track"), Some("everyday"));
    assert_eq!(valid.field("date"), Some("2026-11-20"));
    assert_eq!(valid.field("key"), Some("p79-cert-2026"));
    assert_eq!(valid.field("warning"), None);

    // Every position in the middle third, one character changed at a time.
    let start = certificate::PREFIX.len();
    let positions = (start + code.len() / 3..start + 2 * code.len() / 3).step_by(7);
    let mut checked = 0;
    for i in positions {
        let mut chars: Vec<char> = code.chars().collect();
        chars[i] = if chars[i] == '0' { '1' } else { '0' };
        let changed: String = chars.into_iter().collect();
        let refused = verify(d, &changed);
        assert_eq!(refused.status, 1, "position {i}: {}", refused.stdout);
        let verdict = refused.field("verdict").unwrap();
        assert!(
            verdict == "not valid: the code is damaged (it cannot be decoded)"
                || verdict.starts_with("not valid: the signature does not match"),
            "position {i}: {verdict}"
        );
        assert_eq!(refused.field("name"), None);
        checked += 1;
    }
    assert!(checked >= 5);

    // Read from standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_xaso-lessons"))
        .current_dir(d)
        .args([
            "verify-certificate",
            "--trust-list",
            "trust.toml",
            "--today",
            "2026-12-05",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("verdict\tvalid\n")
    );
}

#[test]
fn keys_outside_their_days_or_the_list_and_old_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trust_list(d);

    // Last year's key stopped signing before 2026-11-20.
    let late = verify(d, &issued(d, "p79-cert-2025.key", "p79-cert-2025"));
    assert_eq!(late.status, 1);
    assert_eq!(
        late.field("verdict"),
        Some("not valid: key `p79-cert-2025` was not allowed to sign on 2026-11-20")
    );

    // A key the list does not hold.
    keygen(d, "stranger.key", "p79-stranger");
    let unknown = verify(d, &issued(d, "stranger.key", "p79-stranger"));
    assert_eq!(unknown.status, 1);
    assert!(
        unknown.field("verdict").unwrap().contains("p79-stranger"),
        "{}",
        unknown.stdout
    );

    // The current key's certificate, checked long after the list was published: valid, with
    // a warning.
    let code = issued(d, "p79-cert-2026.key", "p79-cert-2026");
    let later = run(
        d,
        &[
            "verify-certificate",
            "--trust-list",
            "trust.toml",
            "--today",
            "2027-03-01",
            &code,
        ],
    );
    assert_eq!(later.status, 0, "{}", later.stdout);
    assert_eq!(later.field("verdict"), Some("valid"));
    assert!(later.field("warning").unwrap().contains("90 days old"));
}
