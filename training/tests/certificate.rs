#![allow(clippy::unwrap_used)]
//! Certificates: issued, verified offline, rotated keys, old trust lists, changed bytes.

use ed25519_dalek::SigningKey;
use jiff::civil::{Date, date};
use xaso_training::certificate::{
    self, Certificate, CertificateError, IssuerKey, TrustList, Warning,
};

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn issuer(kid: &str, n: u8, from: Date, until: Option<Date>) -> IssuerKey {
    IssuerKey {
        kid: kid.into(),
        province: "79".into(),
        public_key: hex::encode(key(n).verifying_key().to_bytes()),
        valid_from: from,
        valid_until: until,
    }
}

fn trust(issued: Date) -> TrustList {
    TrustList {
        issued,
        keys: vec![
            // The old key stopped signing on 31 Dec 2026; the new one started on 1 Dec.
            issuer("p79-2026", 1, date(2026, 1, 1), Some(date(2026, 12, 31))),
            issuer("p79-2027", 2, date(2026, 12, 1), None),
        ],
    }
}

/// Seconds since 1970 at noon in Viet Nam on `d`.
fn noon(d: Date) -> i64 {
    d.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .unwrap()
        .timestamp()
        .as_second()
}

fn certificate(on: Date) -> Certificate {
    Certificate {
        id: "kiosk-7-000012".into(),
        name: "NGUYỄN THỊ LAN".into(),
        track: "everyday".into(),
        date: on,
        commune: "26734".into(),
        province: "79".into(),
        issued_at: noon(on),
    }
}

#[test]
fn a_certificate_verifies_offline_and_round_trips() {
    let cert = certificate(date(2026, 12, 3));
    let code = certificate::issue(&cert, "p79-2026", &key(1)).unwrap();
    assert!(code.starts_with("XSC1:"));
    // Short enough for a QR a tablet camera reads comfortably (alphanumeric mode).
    assert!(code.len() < 400, "{} characters", code.len());
    assert!(
        code.chars()
            .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c))
    );
    let verified =
        certificate::verify(&code, &trust(date(2026, 12, 1)), date(2026, 12, 3)).unwrap();
    assert_eq!(verified.certificate, cert);
    assert_eq!(verified.kid, "p79-2026");
    assert!(verified.warnings.is_empty());
}

#[test]
fn keys_rotate_with_overlap() {
    // During the overlap both keys sign; after it the old key's certificates stay valid.
    let t = trust(date(2027, 1, 10));
    for (kid, n) in [("p79-2026", 1), ("p79-2027", 2)] {
        let code = certificate::issue(&certificate(date(2026, 12, 15)), kid, &key(n)).unwrap();
        assert!(
            certificate::verify(&code, &t, date(2027, 1, 20)).is_ok(),
            "{kid}"
        );
    }
    // The old key may not sign after its last day.
    let late = certificate::issue(&certificate(date(2027, 1, 5)), "p79-2026", &key(1)).unwrap();
    assert_eq!(
        certificate::verify(&late, &t, date(2027, 1, 20)).unwrap_err(),
        CertificateError::KeyNotValid {
            kid: "p79-2026".into(),
            date: date(2027, 1, 5)
        }
    );
    // A new key the verifier's list does not know yet: refused, saying the list is old.
    let newer = certificate::issue(&certificate(date(2027, 6, 1)), "p79-2028", &key(3)).unwrap();
    assert_eq!(
        certificate::verify(&newer, &trust(date(2027, 1, 10)), date(2027, 6, 2)).unwrap_err(),
        CertificateError::UnknownKey {
            kid: "p79-2028".into(),
            stale: true
        }
    );
}

#[test]
fn an_old_trust_list_warns_instead_of_refusing() {
    let code = certificate::issue(&certificate(date(2026, 12, 3)), "p79-2027", &key(2)).unwrap();
    let verified = certificate::verify(&code, &trust(date(2026, 12, 1)), date(2027, 3, 1)).unwrap();
    assert_eq!(verified.warnings, [Warning::TrustListOld { days: 90 }]);
}

#[test]
fn any_changed_character_fails() {
    let code = certificate::issue(&certificate(date(2026, 12, 3)), "p79-2026", &key(1)).unwrap();
    let t = trust(date(2026, 12, 1));
    let alphabet: Vec<char> = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
        .chars()
        .collect();
    for i in "XSC1:".len()..code.len() {
        let mut chars: Vec<char> = code.chars().collect();
        let pos = alphabet.iter().position(|c| *c == chars[i]).unwrap();
        chars[i] = alphabet[(pos + 1) % alphabet.len()];
        let changed: String = chars.into_iter().collect();
        assert!(
            certificate::verify(&changed, &t, date(2026, 12, 3)).is_err(),
            "character {i}"
        );
    }
    // And every byte of the signed COSE structure, decoded and re-encoded.
    let cose =
        miniz_oxide::inflate::decompress_to_vec_zlib(&base45::decode(&code[5..]).unwrap()).unwrap();
    for i in 0..cose.len() {
        let mut changed = cose.clone();
        changed[i] ^= 0x01;
        let recoded = format!(
            "XSC1:{}",
            base45::encode(miniz_oxide::deflate::compress_to_vec_zlib(&changed, 9))
        );
        assert!(
            certificate::verify(&recoded, &t, date(2026, 12, 3)).is_err(),
            "COSE byte {i}"
        );
    }
    // A key that signed for another province is refused even with a good signature.
    let mut foreign = trust(date(2026, 12, 1));
    foreign.keys[0].province = "01".into();
    assert!(matches!(
        certificate::verify(&code, &foreign, date(2026, 12, 3)),
        Err(CertificateError::KeyNotValid { .. })
    ));
    assert_eq!(
        certificate::verify("HC1:ABC", &t, date(2026, 12, 3)).unwrap_err(),
        CertificateError::NotACertificate
    );
    assert_eq!(
        certificate::verify("XSC1:%%%%", &t, date(2026, 12, 3)).unwrap_err(),
        CertificateError::Damaged
    );
}

#[test]
fn trust_lists_are_toml() {
    let t = TrustList::from_toml(
        r#"issued = "2026-12-01"
[[keys]]
kid = "p79-2026"
province = "79"
public_key = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
valid_from = "2026-01-01"
valid_until = "2026-12-31"
"#,
    )
    .unwrap();
    assert_eq!(t.keys[0].valid_until, Some(date(2026, 12, 31)));
    assert!(matches!(
        TrustList::from_toml("issued = 3"),
        Err(CertificateError::TrustList(_))
    ));
}
