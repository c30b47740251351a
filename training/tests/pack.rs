#![allow(clippy::unwrap_used)]
//! Content packs: what a kiosk installs and what it refuses, with the reason.

mod common;

use ed25519_dalek::SigningKey;
use jiff::civil::date;
use xaso_training::pack::{self, PackError, TrustedKey};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn trusted() -> Vec<TrustedKey> {
    vec![TrustedKey {
        key_id: "p79-2026".into(),
        key: key(1).verifying_key(),
    }]
}

fn build(version: u64, signer: &SigningKey) -> Vec<u8> {
    pack::build(
        &common::files(),
        "79",
        version,
        date(2026, 12, 1),
        "p79-2026",
        signer,
    )
    .unwrap()
}

#[test]
fn a_pack_signed_by_the_province_is_installed() {
    let bytes = build(3, &key(1));
    let pack = pack::open(&bytes, &trusted(), None).unwrap();
    assert_eq!(pack.header.version, 3);
    assert_eq!(pack.header.province, "79");
    assert_eq!(pack.library.modules().count(), 2);
    assert_eq!(pack.library.image("wifi", "pic.png"), Some(common::PNG));
    // A newer one over an older one.
    assert!(pack::open(&build(4, &key(1)), &trusted(), Some(3)).is_ok());
    // The header can be read without trusting it.
    assert_eq!(pack::peek(&bytes).unwrap().version, 3);
}

#[test]
fn every_changed_byte_is_refused() {
    let bytes = build(3, &key(1));
    // Every byte of the header, payload and signature, flipped one at a time (a sample of
    // positions across the whole file for speed, plus the first and last hundred).
    let positions: Vec<usize> = (0..100)
        .chain((100..bytes.len() - 100).step_by(97))
        .chain(bytes.len() - 100..bytes.len())
        .collect();
    for i in positions {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let err = pack::open(&tampered, &trusted(), None).unwrap_err();
        assert!(
            matches!(
                err,
                PackError::Signature
                    | PackError::NotAPack
                    | PackError::Header(_)
                    | PackError::Truncated
                    | PackError::UnknownKey(_)
                    | PackError::Format(_)
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn foreign_key_older_version_and_truncation_are_refused_with_their_reason() {
    let foreign = build(5, &key(2));
    assert_eq!(
        pack::open(&foreign, &trusted(), None).unwrap_err(),
        PackError::Signature
    );
    let other_id = pack::build(
        &common::files(),
        "79",
        5,
        date(2026, 12, 1),
        "p01-2026",
        &key(1),
    )
    .unwrap();
    assert_eq!(
        pack::open(&other_id, &trusted(), None).unwrap_err(),
        PackError::UnknownKey("p01-2026".into())
    );
    assert_eq!(
        pack::open(&build(2, &key(1)), &trusted(), Some(3)).unwrap_err(),
        PackError::NotNewer {
            candidate: 2,
            installed: 3
        }
    );
    assert_eq!(
        pack::open(&build(3, &key(1)), &trusted(), Some(3)).unwrap_err(),
        PackError::NotNewer {
            candidate: 3,
            installed: 3
        }
    );
    let bytes = build(3, &key(1));
    for cut in [0, 5, 12, 40, bytes.len() / 2, bytes.len() - 1] {
        let err = pack::open(&bytes[..cut], &trusted(), None).unwrap_err();
        assert!(
            matches!(
                err,
                PackError::Truncated | PackError::NotAPack | PackError::Header(_)
            ),
            "cut at {cut}: {err:?}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        pack::open(&longer, &trusted(), None).unwrap_err(),
        PackError::Truncated
    );
    assert_eq!(
        pack::open(b"PK\x03\x04zip", &trusted(), None).unwrap_err(),
        PackError::NotAPack
    );
}

#[test]
fn invalid_content_is_never_signed() {
    let mut files = common::files();
    files.remove("wifi/pages/02.en.md");
    let err = pack::build(&files, "79", 1, date(2026, 12, 1), "p79-2026", &key(1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the pack's lessons are not valid: wifi/pages/02.en.md: missing"
    );
}

#[test]
fn trusted_keys_come_from_hex() {
    let hex_key = hex::encode(key(1).verifying_key().to_bytes());
    assert_eq!(
        TrustedKey::from_hex("p79-2026", &hex_key).unwrap(),
        trusted()[0]
    );
    assert!(matches!(
        TrustedKey::from_hex("k", "abcd"),
        Err(PackError::BadTrustedKey(_))
    ));
}
