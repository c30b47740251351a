//! Result documents end to end: composed from the catalog, rendered, signed with an officer
//! certificate from a CA, then checked by poppler (`pdftotext`, `pdfsig` against an NSS
//! database trusting the CA) and by `xaso_documents::verify`, before and after a byte of the
//! signed range changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use xaso_documents::{
    Issuer as DocumentIssuer, Signer, VerifyError, compose, render, sign, verify,
};
use xaso_documents_testkit::{pdfsig_report, pdftotext};
use xaso_i18n::{Lang, Translations};
use xaso_services::{
    Applicant, Catalog, Channel, CommuneCode, Dossier, ProcedureCode, Submitter, TrackingCode,
};

struct Pki {
    ca_pem: String,
    ca_der: Vec<u8>,
    officer_key_pem: String,
    officer_pem: String,
}

/// A CA like the hub's, and an officer's signing certificate as the hub issues it.
fn pki(officer: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Xã Số hub CA 79001");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let officer_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, officer);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    let issuer = Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&officer_key, &issuer).unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().to_vec(),
        officer_key_pem: officer_key.serialize_pem(),
        officer_pem: cert.pem(),
    }
}

fn birth_dossier() -> Dossier {
    let now: Timestamp = "2026-01-05T02:30:00Z".parse().unwrap();
    let mut d = Dossier::new(
        "d-1".into(),
        ProcedureCode("birth-registration".into()),
        Applicant {
            id_number: "079190012345".into(),
            full_name: "Trần Thị Hoa".into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        now,
    );
    d.tracking_code = Some(
        TrackingCode::new(
            CommuneCode::new("79001").unwrap(),
            jiff::civil::date(2026, 1, 5),
            3,
            17,
        )
        .unwrap(),
    );
    for (k, v) in [
        ("child_full_name", "Nguyễn Thị Ánh Dương"),
        ("child_date_of_birth", "2026-01-01"),
        ("child_sex", "female"),
        ("child_ethnicity", "Kinh"),
        (
            "child_place_of_birth",
            "Bệnh viện Hùng Vương, Thành phố Hồ Chí Minh",
        ),
        ("mother_full_name", "Trần Thị Hoa"),
        ("father_full_name", "Nguyễn Văn Bình"),
    ] {
        d.values.insert(k.into(), v.into());
    }
    d
}

/// The birth extract of [`birth_dossier`], rendered, unsigned.
fn rendered(at: Timestamp) -> Vec<u8> {
    let translations = Translations::bundled().unwrap();
    let catalog = Catalog::bundled_with(&translations).unwrap();
    let procedure = catalog.procedure("birth-registration").unwrap();
    let issuer = DocumentIssuer {
        commune: "Xã Tân Thới Nhì".into(),
        officer_name: "Lê Văn Đức".into(),
        officer_title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".into(),
    };
    let content = compose(
        procedure,
        &birth_dossier(),
        &issuer,
        Lang::Vi,
        &translations,
        at,
    )
    .unwrap();
    assert_eq!(content.title, "TRÍCH LỤC KHAI SINH");
    assert_eq!(content.issued_on, jiff::civil::date(2026, 1, 5));
    render(&content, &translations).unwrap()
}

#[test]
fn the_text_is_real_vietnamese_with_its_diacritics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extract.pdf");
    std::fs::write(&path, rendered("2026-01-05T02:30:00Z".parse().unwrap())).unwrap();
    let text = pdftotext(&path).unwrap();
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "XÃ TÂN THỚI NHÌ",
        "TRÍCH LỤC KHAI SINH",
        "Nguyễn Thị Ánh Dương",
        "Trần Thị Hoa",
        "01/01/2026",
        "Nữ",
        "Xã Tân Thới Nhì, ngày 05 tháng 01 năm 2026",
        "Lê Văn Đức",
        "79001",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn pdfsig_and_verify_accept_the_signed_document_and_refuse_a_changed_byte() {
    let pki = pki("Lê Văn Đức");
    let signer = Signer::from_pem(&pki.officer_key_pem, &pki.officer_pem, &pki.ca_pem).unwrap();
    assert_eq!(signer.name().as_deref(), Some("Lê Văn Đức"));
    let at: Timestamp = "2026-01-05T02:30:00Z".parse().unwrap();
    let pdf = rendered(at);
    let signed = sign(&pdf, &signer, at).unwrap();
    // An incremental update: the rendered bytes are untouched.
    assert_eq!(&signed[..pdf.len()], pdf.as_slice());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed).unwrap();
    let report = pdfsig_report(&path, &pki.ca_pem).unwrap();
    eprintln!("pdfsig, signed:\n{}", report.raw);
    assert!(report.valid, "{}", report.raw);
    assert!(report.trusted, "{}", report.raw);
    assert!(report.raw.contains("Lê Văn Đức"), "{}", report.raw);
    assert!(
        report.raw.contains("Total document signed"),
        "{}",
        report.raw
    );

    let verified = verify(&signed, &pki.ca_der).unwrap();
    assert_eq!(verified.signer_name, "Lê Văn Đức");
    assert_eq!(verified.signing_time, at);

    // One byte inside the signed range (in the page content), changed.
    let stream = signed.windows(7).position(|w| w == b"stream\n").unwrap();
    let mut tampered = signed.clone();
    tampered[stream + 20] ^= 0x01;
    let path = dir.path().join("tampered.pdf");
    std::fs::write(&path, &tampered).unwrap();
    let report = pdfsig_report(&path, &pki.ca_pem).unwrap();
    eprintln!("pdfsig, tampered:\n{}", report.raw);
    assert!(!report.valid, "{}", report.raw);
    assert!(
        report
            .raw
            .contains("Signature Validation: Digest Mismatch."),
        "{}",
        report.raw
    );
    assert_eq!(
        verify(&tampered, &pki.ca_der),
        Err(VerifyError::DigestMismatch)
    );
}

#[test]
fn a_document_from_another_ca_is_valid_but_not_trusted() {
    let ours = pki("Lê Văn Đức");
    let theirs = pki("Lê Văn Đức");
    let signer =
        Signer::from_pem(&theirs.officer_key_pem, &theirs.officer_pem, &theirs.ca_pem).unwrap();
    let at: Timestamp = "2026-01-05T02:30:00Z".parse().unwrap();
    let signed = sign(&rendered(at), &signer, at).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed).unwrap();
    let report = pdfsig_report(&path, &ours.ca_pem).unwrap();
    assert!(report.valid, "{}", report.raw);
    assert!(!report.trusted, "{}", report.raw);
    assert_eq!(
        verify(&signed, &ours.ca_der),
        Err(VerifyError::UntrustedSigner)
    );
    assert!(verify(&signed, &theirs.ca_der).is_ok());
}

#[test]
fn unsigned_or_resigned_documents_are_refused() {
    let pki = pki("Lê Văn Đức");
    let at: Timestamp = "2026-01-05T02:30:00Z".parse().unwrap();
    let pdf = rendered(at);
    assert_eq!(verify(&pdf, &pki.ca_der), Err(VerifyError::NotSigned));
    let signer = Signer::from_pem(&pki.officer_key_pem, &pki.officer_pem, &pki.ca_pem).unwrap();
    let signed = sign(&pdf, &signer, at).unwrap();
    assert!(matches!(
        sign(&signed, &signer, at),
        Err(xaso_documents::DocumentError::AlreadyHasForm)
    ));
    // Bytes appended after the signature are not covered by it.
    let mut appended = signed.clone();
    appended.extend_from_slice(b"\n% appended\n");
    assert_eq!(
        verify(&appended, &pki.ca_der),
        Err(VerifyError::NotWholeDocument)
    );
    // A certificate for another key is refused up front.
    let other = self::pki("Lê Văn Đức");
    assert!(matches!(
        Signer::from_pem(&other.officer_key_pem, &pki.officer_pem, &pki.ca_pem),
        Err(xaso_documents::DocumentError::KeyMismatch)
    ));
}
