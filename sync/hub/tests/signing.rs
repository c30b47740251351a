//! Officers' document-signing certificates through the real hub (HTTPS, mutual TLS): an
//! officer's device gets one for a fresh key, signs a result document with it, and both
//! `xaso_documents::verify` and poppler's `pdfsig` accept the document against the hub's
//! CA; kiosks and helpers are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

mod common;

use common::{device, start_hub};
use x509_cert::Certificate;
use x509_cert::der::DecodePem;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};
use xaso_documents::{Line, ResultContent, Signer, render, sign, verify};
use xaso_i18n::{Lang, Translations};
use xaso_services::ResultKind;
use xaso_sync_client::{Error, signing_key_and_request};
use xaso_sync_core::Role;
use xaso_sync_core::signing::SigningCertificateRequest;

const OFFICER: &str = "Phạm Thị Thu Hằng";

fn request() -> (String, SigningCertificateRequest) {
    let (key_pem, csr_pem) = signing_key_and_request().unwrap();
    (
        key_pem,
        SigningCertificateRequest {
            csr_pem,
            officer_name: OFFICER.into(),
        },
    )
}

#[tokio::test]
async fn an_officer_gets_a_signing_certificate_that_pdfsig_trusts() {
    let hub = start_hub().await;
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let (key_pem, request) = request();
    let issued = officer.signing_certificate(&request).await.unwrap();
    assert_eq!(issued.ca_pem, hub.hub.ca_pem());

    // The certificate: the officer's name, document-signing usages, one year.
    let cert = Certificate::from_pem(&issued.certificate_pem).unwrap();
    let tbs = &cert.tbs_certificate;
    assert!(tbs.subject.to_string().contains(OFFICER), "{}", tbs.subject);
    let (_, usage) = tbs.get::<KeyUsage>().unwrap().unwrap();
    assert!(usage.0.contains(KeyUsages::DigitalSignature));
    assert!(usage.0.contains(KeyUsages::NonRepudiation));
    assert!(!usage.0.contains(KeyUsages::KeyCertSign));
    let (_, eku) = tbs.get::<ExtendedKeyUsage>().unwrap().unwrap();
    assert_eq!(
        eku.0,
        vec![const_oid_email_protection()],
        "emailProtection only"
    );
    let days = (tbs.validity.not_after.to_unix_duration()
        - tbs.validity.not_before.to_unix_duration())
    .as_secs()
        / 86_400;
    assert_eq!(days, 365);

    // A result document signed with it verifies against the hub's CA, in Rust and in pdfsig.
    let signer = Signer::from_pem(&key_pem, &issued.certificate_pem, &issued.ca_pem).unwrap();
    let now = jiff::Timestamp::now();
    let content = ResultContent {
        lang: Lang::Vi,
        kind: ResultKind::Certificate,
        commune: "Xã Tân Thới Nhì".into(),
        title: "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN".into(),
        lines: vec![Line {
            label: "Tình trạng hôn nhân:".into(),
            value: "Chưa đăng ký kết hôn với ai".into(),
        }],
        applicant_name: "Võ Minh Khôi".into(),
        tracking_code: "79001-260105-003-0017".into(),
        issued_on: xaso_services::calendar::vietnam_date(now),
        officer_name: OFFICER.into(),
        officer_title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".into(),
    };
    let pdf = render(&content, &Translations::bundled().unwrap()).unwrap();
    let signed = sign(&pdf, &signer, now).unwrap();
    let ca_der = Certificate::from_pem(hub.hub.ca_pem())
        .map(|c| x509_cert::der::Encode::to_der(&c).unwrap())
        .unwrap();
    assert_eq!(verify(&signed, &ca_der).unwrap().signer_name, OFFICER);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed).unwrap();
    let report = xaso_documents_testkit::pdfsig_report(&path, hub.hub.ca_pem()).unwrap();
    assert!(report.valid && report.trusted, "{}", report.raw);
}

fn const_oid_email_protection() -> x509_cert::der::oid::ObjectIdentifier {
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4")
}

#[tokio::test]
async fn kiosks_and_helpers_are_refused_and_bad_requests_too() {
    let hub = start_hub().await;
    for role in [Role::Kiosk, Role::Helper] {
        let (_, client) = device(&hub, role, &["79001"]).await;
        let (_, request) = request();
        let err = client.signing_certificate(&request).await.unwrap_err();
        assert!(
            matches!(err, Error::Refused { status: 403, .. }),
            "{role:?}: {err:?}"
        );
    }
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let (_, mut bad) = request();
    bad.csr_pem =
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".into();
    let err = officer.signing_certificate(&bad).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 400, .. }), "{err:?}");
    let (_, mut nameless) = request();
    nameless.officer_name = "  ".into();
    let err = officer.signing_certificate(&nameless).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 400, .. }), "{err:?}");
}
