//! Checking a learner's digital-skills certificate on the officer's tablet, offline: the text
//! of its QR code — typed by a keyboard-wedge scanner, or read from a picture — against the
//! province's trust list from the tablet's configuration ([`xaso_training::certificate`]).
//!
//! [`check`] is pure: the day comes in as an argument (the shell reads its clock), the track's
//! title from the lesson library it is given. What it returns says, for the page, what the
//! certificate holds and which key signed it, or why it is refused — in terms the page turns
//! into words a person understands (changed or damaged, an unknown key and whether the list
//! is old, a key not allowed to sign on that day, not a certificate at all).

use jiff::civil::Date;
use xaso_i18n::Lang;
use xaso_kiosk_core::QrProblem;
use xaso_training::Library;
use xaso_training::certificate::{self, CertificateError, TRUST_LIST_WARN_DAYS, TrustList};

/// A certificate whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCertificate {
    pub id: String,
    pub name: String,
    /// The track's id, as signed.
    pub track: String,
    /// The track's title from the lesson library; the id when the library does not know it.
    pub track_title: String,
    pub date: Date,
    pub commune: String,
    pub province: String,
    /// The key that signed it.
    pub kid: String,
    /// The trust list's age in days, when it is old enough to warn (update it).
    pub list_old: Option<i64>,
}

/// Why a certificate is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The text is not a Xã Số certificate code.
    NotACertificate,
    /// The code does not decode: damaged, or a character changed.
    Damaged,
    /// It decodes, but the signature does not match: changed, or not the province's.
    Changed,
    /// Signed with a key the trust list does not hold; `list_old`: the list's age in days
    /// when it is old (then an update may know the key).
    UnknownKey { kid: String, list_old: Option<i64> },
    /// The key was not allowed to sign on that day (or for that province).
    KeyNotAllowed { kid: String, date: Date },
    /// The trust list holds a key that is not a valid ed25519 key.
    BrokenTrustList,
}

/// The outcome of checking one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateCheck {
    Valid(ValidCertificate),
    Refused(Refusal),
}

/// Why no code came from "read the newest picture".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureProblem {
    /// There is no picture to read.
    NoPicture,
    /// The newest picture shows no QR code that can be read.
    NoCode,
    /// The newest picture cannot be opened.
    Unreadable,
}

/// The text of the QR code in the newest picture, from what the pictures port gave.
pub fn code_in_picture(latest: Result<Vec<u8>, QrProblem>) -> Result<String, PictureProblem> {
    let bytes = latest.map_err(|p| match p {
        QrProblem::NotFound => PictureProblem::NoPicture,
        QrProblem::NotAnIdCard | QrProblem::Unreadable => PictureProblem::Unreadable,
    })?;
    crate::qrscan::text_in_image(&bytes).map_err(|p| match p {
        QrProblem::NotFound => PictureProblem::NoCode,
        QrProblem::NotAnIdCard | QrProblem::Unreadable => PictureProblem::Unreadable,
    })
}

/// The trust list's age on `today`, in days (negative for a list dated in the future).
pub fn list_age(trust: &TrustList, today: Date) -> i64 {
    i64::from((today - trust.issued).get_days())
}

/// Checks the scanned `text` against `trust` on `today`. Wedge scanners may add control
/// characters or, with Caps Lock on, type the (upper-case only) base45 code in lower case:
/// both are undone before the check; any other change fails it.
pub fn check(
    text: &str,
    trust: &TrustList,
    library: &Library,
    lang: Lang,
    today: Date,
) -> CertificateCheck {
    let code = text
        .trim_matches(|c: char| c.is_control() || c == ' ')
        .to_ascii_uppercase();
    let age = list_age(trust, today);
    let old = (age > TRUST_LIST_WARN_DAYS).then_some(age);
    match certificate::verify(&code, trust, today) {
        Ok(v) => {
            let c = v.certificate;
            let track_title = library
                .track(&c.track)
                .map_or_else(|| c.track.clone(), |t| t.title.get(lang).to_owned());
            CertificateCheck::Valid(ValidCertificate {
                id: c.id,
                name: c.name,
                track: c.track,
                track_title,
                date: c.date,
                commune: c.commune,
                province: c.province,
                kid: v.kid,
                list_old: old,
            })
        }
        Err(e) => CertificateCheck::Refused(match e {
            CertificateError::NotACertificate => Refusal::NotACertificate,
            CertificateError::Damaged | CertificateError::Encode(_) => Refusal::Damaged,
            CertificateError::Signature => Refusal::Changed,
            CertificateError::UnknownKey { kid, .. } => Refusal::UnknownKey { kid, list_old: old },
            CertificateError::KeyNotValid { kid, date } => Refusal::KeyNotAllowed { kid, date },
            CertificateError::TrustList(_) => Refusal::BrokenTrustList,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ed25519_dalek::SigningKey;
    use jiff::civil::date;
    use xaso_training::certificate::{Certificate, IssuerKey};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[12; 32])
    }

    fn trust(issued: Date) -> TrustList {
        TrustList {
            issued,
            keys: vec![IssuerKey {
                kid: "p79-cert-2026".into(),
                province: "79".into(),
                public_key: hex::encode(key().verifying_key().to_bytes()),
                valid_from: date(2026, 1, 1),
                valid_until: None,
            }],
        }
    }

    fn certificate(track: &str) -> Certificate {
        Certificate {
            id: "kiosk-1-1".into(),
            name: "Lê Thị Thu".into(),
            track: track.into(),
            date: date(2026, 11, 20),
            commune: "79001".into(),
            province: "79".into(),
            // 2026-11-20 10:00 in Viet Nam.
            issued_at: 1_795_143_600,
        }
    }

    fn library() -> Library {
        Library::from_files(&xaso_training::bundled_files()).unwrap()
    }

    fn code(track: &str) -> String {
        certificate::issue(&certificate(track), "p79-cert-2026", &key()).unwrap()
    }

    #[test]
    fn a_valid_code_names_its_track_and_key_and_warns_only_with_an_old_list() {
        let today = date(2026, 11, 25);
        let CertificateCheck::Valid(v) = check(
            &code("public-services"),
            &trust(date(2026, 11, 1)),
            &library(),
            Lang::Vi,
            today,
        ) else {
            panic!("refused")
        };
        assert_eq!(v.name, "Lê Thị Thu");
        assert_eq!(v.track_title, "Dịch vụ công trực tuyến");
        assert_eq!(v.kid, "p79-cert-2026");
        assert_eq!(v.list_old, None);
        let CertificateCheck::Valid(v) = check(
            &code("public-services"),
            &trust(date(2026, 9, 1)),
            &library(),
            Lang::En,
            today,
        ) else {
            panic!("refused")
        };
        assert_eq!(v.track_title, "Online public services");
        assert_eq!(v.list_old, Some(85));
    }

    #[test]
    fn a_track_the_library_does_not_know_is_shown_by_its_id() {
        let check = check(
            &code("province-pilot"),
            &trust(date(2026, 11, 1)),
            &Library::empty(),
            Lang::Vi,
            date(2026, 11, 25),
        );
        let CertificateCheck::Valid(v) = check else {
            panic!("refused")
        };
        assert_eq!(v.track_title, "province-pilot");
    }

    #[test]
    fn what_a_wedge_scanner_adds_or_shouts_is_undone_but_a_changed_character_refused() {
        let list = trust(date(2026, 11, 1));
        let today = date(2026, 11, 25);
        let good = code("everyday");
        let scanned = format!("{}\r\n", good.to_ascii_lowercase());
        assert!(matches!(
            check(&scanned, &list, &library(), Lang::Vi, today),
            CertificateCheck::Valid(_)
        ));
        // Every position, changed to another base45 character: never valid.
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        for (i, ch) in good.char_indices().skip(certificate::PREFIX.len()) {
            let other = alphabet.chars().find(|&a| a != ch).unwrap();
            let mut changed = good.clone();
            changed.replace_range(i..i + 1, &other.to_string());
            let result = check(&changed, &list, &library(), Lang::Vi, today);
            assert!(
                matches!(
                    result,
                    CertificateCheck::Refused(
                        Refusal::Damaged | Refusal::Changed | Refusal::UnknownKey { .. }
                    )
                ),
                "position {i}: {result:?}"
            );
        }
    }

    #[test]
    fn the_code_comes_from_the_newest_picture_or_the_picture_says_why_not() {
        let good = code("everyday");
        let png = crate::qrscan::qr_png(&good, 4).unwrap();
        assert_eq!(code_in_picture(Ok(png)), Ok(good));
        assert_eq!(
            code_in_picture(Err(QrProblem::NotFound)),
            Err(PictureProblem::NoPicture)
        );
        let mut blank = Vec::new();
        image::GrayImage::from_pixel(200, 200, image::Luma([255]))
            .write_to(
                &mut std::io::Cursor::new(&mut blank),
                image::ImageFormat::Png,
            )
            .unwrap();
        assert_eq!(code_in_picture(Ok(blank)), Err(PictureProblem::NoCode));
        assert_eq!(
            code_in_picture(Ok(b"not a picture".to_vec())),
            Err(PictureProblem::Unreadable)
        );
    }

    #[test]
    fn refusals_say_why() {
        let today = date(2026, 11, 25);
        let lib = library();
        let r = |text: &str, list: &TrustList| match check(text, list, &lib, Lang::Vi, today) {
            CertificateCheck::Refused(r) => r,
            CertificateCheck::Valid(v) => panic!("valid: {v:?}"),
        };
        let current = trust(date(2026, 11, 1));
        assert_eq!(
            r("https://dichvucong.gov.vn/", &current),
            Refusal::NotACertificate
        );
        let other = SigningKey::from_bytes(&[13; 32]);
        let foreign =
            certificate::issue(&certificate("everyday"), "p01-cert-2026", &other).unwrap();
        assert_eq!(
            r(&foreign, &current),
            Refusal::UnknownKey {
                kid: "p01-cert-2026".into(),
                list_old: None
            }
        );
        assert_eq!(
            r(&foreign, &trust(date(2026, 10, 1))),
            Refusal::UnknownKey {
                kid: "p01-cert-2026".into(),
                list_old: Some(55)
            }
        );
        // Signed with the list's kid but another key: the signature does not match.
        let impostor =
            certificate::issue(&certificate("everyday"), "p79-cert-2026", &other).unwrap();
        assert_eq!(r(&impostor, &current), Refusal::Changed);
        // Signed before the key's first day (2025-12-30 10:00 in Viet Nam).
        let mut early = certificate("everyday");
        early.issued_at = 1_767_063_600;
        let early = certificate::issue(&early, "p79-cert-2026", &key()).unwrap();
        assert!(matches!(
            r(&early, &current),
            Refusal::KeyNotAllowed { kid, date: d } if kid == "p79-cert-2026" && d == date(2025, 12, 30)
        ));
        let mut broken = current.clone();
        broken.keys[0].public_key = "00".into();
        assert_eq!(r(&code("everyday"), &broken), Refusal::BrokenTrustList);
    }
}
