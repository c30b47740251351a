//! The resident's journey through the real kiosk window, driven the way a screen reader
//! would: every step finds an element by its accessible label (Vietnamese, the default
//! language) and invokes its default action. Slint's testing backend renders nothing to a
//! screen; the window, its bindings and the shell are the real ones.

// Test helpers outside #[test] functions unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::resident::{
    fill_birth_form, open_birth_form_with_card, papers_review_submit, papers_review_submit_with,
    runtime, type_keys,
};
use common::{
    elements, field_source, install_testing_backend, shown, tap, test_config, value_of, wedge_scan,
};

use std::path::Path;
use std::time::Duration;

use slint::{ComponentHandle, Model};
use xaso_kiosk::app::App;
use xaso_kiosk::card_reader::CardReader;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::demo::{ScriptedReader, write_sample_papers};
use xaso_kiosk::shell::ReceiptOutput;
use xaso_kiosk::ui::{
    AppWindow, CardProblem, CardState, ErrorKind, Language, QrProblem, QrState, ReceiptNotice,
    Screen, ValueSource,
};
use xaso_kiosk_core::{CardEvent, IdlePolicy};
use xaso_services::dossier::{Dossier, DossierState};
use xaso_services::tracking::TrackingCode;

const COMMUNE: &str = "79001";

fn description_of(ui: &AppWindow, label: &str) -> String {
    let found = elements(ui, label);
    assert!(!found.is_empty(), "no element labelled {label:?}");
    found[0]
        .accessible_description()
        .unwrap_or_default()
        .to_string()
}

struct Kiosk {
    app: App,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

fn kiosk(device_id: &str, idle: IdlePolicy) -> Kiosk {
    kiosk_with(device_id, idle, Box::new(SoftCardReader::new().unwrap()))
}

fn kiosk_with(device_id: &str, idle: IdlePolicy, card: Box<dyn CardReader>) -> Kiosk {
    kiosk_in(tempfile::tempdir().unwrap(), device_id, idle, card)
}

/// A kiosk enrolled at a hub: its hub id, and the number the hub gave it for tracking codes.
fn kiosk_enrolled(identity: &xaso_sync_client::Identity, idle: IdlePolicy) -> Kiosk {
    kiosk_numbered(
        tempfile::tempdir().unwrap(),
        &identity.device_id,
        identity.device_number.unwrap(),
        idle,
        Box::new(SoftCardReader::new().unwrap()),
    )
}

/// A kiosk whose store lives in `dir` (a second kiosk on the same `dir` is the same machine
/// after a restart).
fn kiosk_in(
    dir: tempfile::TempDir,
    device_id: &str,
    idle: IdlePolicy,
    card: Box<dyn CardReader>,
) -> Kiosk {
    kiosk_numbered(dir, device_id, 3, idle, card)
}

fn kiosk_numbered(
    dir: tempfile::TempDir,
    device_id: &str,
    device: u16,
    idle: IdlePolicy,
    card: Box<dyn CardReader>,
) -> Kiosk {
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let mut config = test_config(dir.path(), device_id, COMMUNE, device);
    config.receipt.printer = Some(dir.path().join("printer.bin"));
    config.idle = idle;
    let app = shown(config, &clock, card);
    Kiosk {
        app,
        clock,
        _dir: dir,
    }
}

#[test]
fn full_journey_offline_then_synced_to_a_hub() {
    use xaso_hub::{Hub, HubConfig};
    use xaso_sync_client::{self as client, CancellationToken, Progress, SyncClient};
    use xaso_sync_core::Role;

    // A real commune hub on loopback (HTTPS, mutual TLS); the kiosk enrols with it.
    let rt = runtime();
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(hub_dir.path().join("hub"))).unwrap();
    let (addr, _handle) = rt
        .block_on(hub.clone().spawn("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let url = format!("https://127.0.0.1:{}", addr.port());
    // Two kiosks of the commune enrolled before this one: the hub gives it number 2, and
    // every tracking code it mints carries that number.
    let enrol = |role| {
        let code = hub
            .create_enrolment_code(role, &[COMMUNE], Duration::from_secs(600))
            .unwrap();
        rt.block_on(client::enrol(&url, hub.ca_pem(), &code))
            .unwrap()
    };
    enrol(Role::Kiosk);
    enrol(Role::Kiosk);
    let identity = enrol(Role::Kiosk);
    assert_eq!(identity.device_number, Some(2));

    let k = kiosk_enrolled(&identity, IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    // Pre-filled from the card, and shown as such.
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên người yêu cầu"),
        "Nguyễn Thị Mai Anh"
    );
    assert_eq!(
        value_of(ui, "Số định danh cá nhân người yêu cầu"),
        "079303001234"
    );
    assert_eq!(field_source(ui, "requester_full_name"), ValueSource::Card);
    assert_eq!(field_source(ui, "requester_address"), ValueSource::Card);
    assert_eq!(field_source(ui, "child_full_name"), ValueSource::None);
    fill_birth_form(ui);
    assert_eq!(field_source(ui, "child_full_name"), ValueSource::Typed);

    // Offline: no sync has happened; the receipt comes from the local store.
    let code = papers_review_submit(ui);
    let code = TrackingCode::parse(&code).expect("the receipt shows a valid tracking code");
    assert_eq!(code.commune().as_str(), COMMUNE);
    assert_eq!(code.device(), 2, "the number the hub gave at enrolment");
    assert!(!ui.get_expected_date().is_empty());
    // The receipt: printed (ESC/POS to the configured device) and saved as PNG.
    tap(ui, "In biên nhận");
    assert_eq!(ui.get_receipt_notice(), ReceiptNotice::Printed);
    let printed = std::fs::read(k._dir.path().join("printer.bin")).unwrap();
    assert!(
        String::from_utf8_lossy(&printed).contains(&code.to_string()),
        "the printed receipt carries the code"
    );
    tap(ui, "Lưu biên nhận (ảnh)");
    assert_eq!(ui.get_receipt_notice(), ReceiptNotice::Saved);
    let png = k._dir.path().join(format!("bien-nhan-{code}.png"));
    assert!(image::open(&png).unwrap().width() > 0);
    // … and as a PDF next to it: real text, embedded font, a QR code that scans.
    tap(ui, "Lưu biên nhận (PDF)");
    assert_eq!(ui.get_receipt_notice(), ReceiptNotice::SavedPdf);
    let pdf = std::fs::read(k._dir.path().join(format!("bien-nhan-{code}.pdf"))).unwrap();
    check_receipt_pdf(&pdf, &code.to_string());

    // Rating.
    tap(ui, "Đánh giá dịch vụ");
    assert_eq!(ui.get_screen(), Screen::Rating);
    tap(ui, "Gửi đánh giá");
    assert!(ui.get_rating_missing());
    tap(ui, "Rất hài lòng");
    tap(ui, "Gửi đánh giá");
    assert_eq!(ui.get_screen(), Screen::Thanks);

    // The dossier is in the local store, complete.
    let stored: Dossier = k
        .app
        .with_store(|s| s.dossier_by_code(&code))
        .unwrap()
        .expect("dossier stored");
    assert_eq!(stored.state(), DossierState::Submitted);
    assert_eq!(stored.procedure.as_str(), "birth-registration");
    assert_eq!(stored.values["child_full_name"], "Nguyễn Minh Khang");
    assert_eq!(stored.values["child_date_of_birth"], "2026-11-20");
    assert_eq!(stored.values["requester_full_name"], "Nguyễn Thị Mai Anh");
    assert_eq!(stored.values["mother_full_name"], "Nguyễn Thị Mai Anh");
    assert_eq!(stored.applicant.id_number, "079303001234");
    assert!(stored.applicant.card_verified);
    assert!(stored.consent.is_some(), "consent recorded in the dossier");
    assert!(
        !stored.consent.as_ref().unwrap().fetch_earlier_results,
        "earlier results are fetched only when the resident ticks it"
    );
    assert_eq!(stored.attachments.len(), 2);
    assert!(
        stored
            .attachments
            .iter()
            .all(|a| a.paper == "birth_certificate")
    );
    for a in &stored.attachments {
        let bytes = k
            .app
            .with_store(|s| s.attachment(&a.sha256))
            .unwrap()
            .unwrap();
        assert_eq!(bytes.len() as u64, a.bytes);
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "pages stored as JPEG");
    }
    let ratings = k.app.with_store(|s| s.ratings()).unwrap();
    assert_eq!(ratings.len(), 1);
    assert_eq!(ratings[0].procedure.as_str(), "birth-registration");

    // A link appears: the kiosk syncs and the hub has the dossier and the rating.
    let sync_client = SyncClient::new(&url, &identity).unwrap();
    let report = k
        .app
        .with_store_mut(|s| {
            rt.block_on(sync_client.sync_once(
                s.records_mut(),
                &Progress::default(),
                &CancellationToken::new(),
            ))
        })
        .unwrap();
    assert!(report.changes_sent > 0);
    // Then the two page images, which the hub holds byte for byte afterwards.
    let pages = k
        .app
        .with_store_mut(|s| {
            rt.block_on(sync_client.push_blobs(
                s.records_mut(),
                &Progress::default(),
                &CancellationToken::new(),
            ))
        })
        .unwrap();
    assert_eq!(pages.uploaded, 2);
    let partition = k.app.with_store(|s| s.partition().clone());
    for a in &stored.attachments {
        let hash: xaso_sync_core::BlobHash = a.sha256.parse().unwrap();
        let on_hub = hub
            .with_store(|s| s.blob(&partition, &hash).unwrap())
            .unwrap()
            .expect("the page reached the hub");
        let here = k
            .app
            .with_store(|s| s.attachment(&a.sha256))
            .unwrap()
            .unwrap();
        assert_eq!(on_hub, here);
    }
    let (on_hub, ratings_on_hub) = hub
        .with_store(|s| {
            let ids = s.list(&partition).unwrap();
            let ratings = ids.iter().filter(|id| id.starts_with("rating-")).count();
            (
                s.get::<Dossier>(&partition, &format!("dossier-{code}"))
                    .unwrap(),
                ratings,
            )
        })
        .unwrap();
    assert_eq!(on_hub.as_ref(), Some(&stored));
    assert_eq!(ratings_on_hub, 1);

    // The life event goes on: the next procedure opens with what was entered for the first.
    tap(ui, "Làm tiếp: Đăng ký thường trú");
    assert_eq!(ui.get_screen(), Screen::Form);
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên người đăng ký"),
        "Nguyễn Minh Khang"
    );
    assert_eq!(
        field_source(ui, "requester_full_name"),
        ValueSource::Earlier
    );

    // Back home: nothing of the resident is left on screen.
    tap(ui, "Trang chủ");
    assert_eq!(ui.get_screen(), Screen::Home);
    assert_eq!(ui.get_card_name(), "");
    assert_eq!(ui.get_fields().row_count(), 0);
    assert_eq!(ui.get_tracking_code(), "");
}

#[test]
fn the_resident_may_let_the_commune_fetch_earlier_results_on_the_consent_step() {
    let k = kiosk("kiosk-fetch", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    fill_birth_form(ui);
    let code = TrackingCode::parse(&papers_review_submit_with(ui, true)).unwrap();
    let stored: Dossier = k
        .app
        .with_store(|s| s.dossier_by_code(&code))
        .unwrap()
        .expect("dossier stored");
    let consent = stored.consent.unwrap();
    assert!(
        consent.fetch_earlier_results,
        "ticked: the hub may fetch them"
    );
    // The next journey starts unticked.
    tap(ui, "Trang chủ");
    assert_eq!(ui.get_screen(), Screen::Home);
    open_birth_form_with_card(ui);
    assert!(!ui.get_fetch_earlier());
}

#[test]
fn validation_errors_from_the_catalog_are_shown_inline() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    tap(ui, "Tiếp theo: giấy tờ");
    assert_eq!(
        ui.get_screen(),
        Screen::Form,
        "an incomplete form does not go on"
    );
    assert!(ui.get_form_has_errors());
    assert_eq!(
        description_of(ui, "Họ, chữ đệm, tên của trẻ"),
        "Vui lòng nhập thông tin này."
    );
    // Pre-filled, valid fields carry no message.
    assert_eq!(description_of(ui, "Họ, chữ đệm, tên người yêu cầu"), "");
    // A malformed ID number gets the catalog's rule message.
    tap(ui, "Số định danh cá nhân người mẹ");
    type_keys(ui, "12345");
    tap(ui, "Xong");
    tap(ui, "Tiếp theo: giấy tờ");
    let msg = description_of(ui, "Số định danh cá nhân người mẹ");
    assert!(
        !msg.is_empty() && !msg.contains("field."),
        "translated: {msg}"
    );
    // A child born in the future is refused.
    tap(ui, "Ngày, tháng, năm sinh của trẻ");
    type_keys(ui, "01/01/2030");
    tap(ui, "Xong");
    tap(ui, "Tiếp theo: giấy tờ");
    let msg = description_of(ui, "Ngày, tháng, năm sinh của trẻ");
    assert!(
        !msg.is_empty() && !msg.contains("field."),
        "translated: {msg}"
    );
    // Fixing everything clears the messages and moves on.
    tap(ui, "Số định danh cá nhân người mẹ");
    tap(ui, "Xóa hết");
    tap(ui, "Ngày, tháng, năm sinh của trẻ");
    tap(ui, "Xóa hết");
    fill_birth_form(ui);
    tap(ui, "Tiếp theo: giấy tờ");
    assert_eq!(ui.get_screen(), Screen::Papers);
    // Papers: the required one is checked too.
    tap(ui, "Tiếp theo: xem lại");
    assert_eq!(ui.get_screen(), Screen::Papers);
    let papers = ui.get_papers();
    let first = papers.row_data(0).unwrap();
    assert_eq!(first.id, "birth_certificate");
    assert!(first.missing);
}

#[test]
fn idle_resident_is_wiped_after_a_visible_countdown() {
    let idle = IdlePolicy {
        timeout: Duration::from_secs(90),
        warning: Duration::from_secs(20),
    };
    let k = kiosk("kiosk-3", idle);
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    tap(ui, "Họ, chữ đệm, tên của trẻ");
    type_keys(ui, "Khang");
    k.clock.advance(Duration::from_secs(60));
    k.app.tick();
    assert_eq!(ui.get_idle_countdown(), -1, "no warning yet");
    k.clock.advance(Duration::from_secs(15));
    k.app.tick();
    assert_eq!(ui.get_idle_countdown(), 15, "countdown visible");
    tap(ui, "Tôi vẫn ở đây");
    assert_eq!(ui.get_idle_countdown(), -1);
    assert_eq!(ui.get_screen(), Screen::Form);
    assert_eq!(value_of(ui, "Họ, chữ đệm, tên của trẻ"), "Khang");
    // Now the resident walks away.
    k.clock.advance(Duration::from_secs(75));
    k.app.tick();
    assert_eq!(ui.get_idle_countdown(), 15);
    k.clock.advance(Duration::from_secs(16));
    k.app.tick();
    assert_eq!(ui.get_screen(), Screen::Home);
    assert_eq!(ui.get_idle_countdown(), -1);
    assert_eq!(ui.get_card_name(), "");
    assert_eq!(ui.get_fields().row_count(), 0);
    assert!(k.app.journey(|j| j.card().is_none()), "wiped from memory");
    assert!(k.app.journey(|j| j.form().is_none()));
    // Home with nobody there: no countdown ever.
    k.clock.advance(Duration::from_secs(600));
    k.app.tick();
    assert_eq!(ui.get_idle_countdown(), -1);
}

#[test]
fn card_removal_mid_form_wipes_and_the_draft_resumes_only_for_that_card() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    tap(ui, "Họ, chữ đệm, tên của trẻ");
    type_keys(ui, "Nguyeenx Minh Khang");
    // The card leaves the reader (as the reader reports it).
    k.app.card_event(CardEvent::Removed);
    assert_eq!(ui.get_screen(), Screen::Home);
    assert_eq!(ui.get_fields().row_count(), 0);
    assert!(k.app.journey(|j| j.card().is_none()));
    assert!(elements(ui, "Nguyễn Minh Khang").is_empty());

    // Another resident's card: no draft offered.
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Thẻ mẫu: Trần Văn Hùng");
    assert_eq!(ui.get_card_state(), CardState::Verified);
    assert!(!ui.get_has_draft());
    assert!(elements(ui, "Tiếp tục tờ khai đang làm dở").is_empty());
    tap(ui, "Nhấc thẻ ra");
    assert_eq!(ui.get_screen(), Screen::Home);

    // The same card again: the draft is offered and resumes where it stopped.
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert!(ui.get_has_draft());
    tap(ui, "Tiếp tục tờ khai đang làm dở");
    assert_eq!(ui.get_screen(), Screen::Form);
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên của trẻ"),
        "Nguyễn Minh Khang"
    );
    assert_eq!(field_source(ui, "requester_full_name"), ValueSource::Card);
}

#[test]
fn status_lookup_by_code_and_by_card_with_errors_that_say_what_to_do() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    fill_birth_form(ui);
    let code = papers_review_submit(ui);
    tap(ui, "Trang chủ");
    assert_eq!(ui.get_screen(), Screen::Home);

    tap(ui, "Tra cứu hồ sơ");
    assert_eq!(ui.get_screen(), Screen::Status);
    type_keys(ui, &code.to_lowercase());
    tap(ui, "Tra cứu");
    assert!(ui.get_status_found());
    assert!(ui.get_status_procedure().contains("Đăng ký khai sinh"));
    assert!(ui.get_status_procedure().contains(&code));
    assert!(!ui.get_status_state().is_empty());
    assert!(
        !ui.get_status_state().starts_with("state."),
        "translated state"
    );
    assert_eq!(ui.get_status_history().row_count(), 1);
    assert!(!ui.get_status_ready().is_empty());

    // A mistyped code: the check digits catch it and the screen says what to do.
    tap(ui, "Trang chủ");
    tap(ui, "Tra cứu hồ sơ");
    let mut wrong: Vec<char> = code.chars().collect();
    let last = wrong.len() - 1;
    wrong[last] = if wrong[last] == '0' { '1' } else { '0' };
    type_keys(ui, &wrong.iter().collect::<String>().to_lowercase());
    tap(ui, "Tra cứu");
    assert_eq!(ui.get_screen(), Screen::Error);
    assert_eq!(ui.get_error_kind(), ErrorKind::InvalidTrackingCode);
    tap(ui, "Thử lại");
    assert_eq!(ui.get_screen(), Screen::Status);

    // By card: the card holder's latest dossier.
    k.app.place_card("nguyen-thi-mai-anh");
    assert!(ui.get_status_found());
    assert!(ui.get_status_procedure().contains(&code));
}

#[test]
fn the_journey_works_in_english_too() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    tap(ui, "Nghe đọc");
    let spoken = k.app.last_spoken().unwrap_or_default();
    assert!(spoken.contains("Chạm thẻ căn cước"), "read aloud: {spoken}");
    tap(ui, "English");
    assert_eq!(ui.get_lang(), Language::En);
    tap(ui, "Read aloud");
    let spoken = k.app.last_spoken().unwrap_or_default();
    assert!(spoken.contains("Tap your ID card"), "read aloud: {spoken}");
    tap(ui, "Find a service");
    assert_eq!(ui.get_screen(), Screen::Services);
    tap(ui, "Birth of a child");
    tap(ui, "Birth registration");
    assert_eq!(ui.get_screen(), Screen::Form);
    tap(ui, "Next: papers");
    assert_eq!(
        description_of(ui, "Child's full name"),
        "Please fill this in."
    );
    tap(ui, "Home");
    assert_eq!(ui.get_screen(), Screen::Home);
    assert_eq!(
        ui.get_lang(),
        Language::Vi,
        "the next resident starts in Vietnamese"
    );
    let _ = Path::new("");
}

#[test]
fn card_states_say_what_happens_and_what_to_do() {
    // A stand-in reader that reports states without a card protocol: this test is about
    // the identify screen's states only.
    let k = kiosk_with(
        "kiosk-3",
        IdlePolicy::default(),
        Box::new(ScriptedReader {
            fail_with: Some(xaso_kiosk_core::CardProblem::Unreadable),
            ..ScriptedReader::default()
        }),
    );
    let ui = &k.app.ui;
    tap(ui, "Chạm thẻ căn cước");
    assert_eq!(ui.get_card_state(), CardState::Waiting);
    k.app.card_event(CardEvent::Present);
    assert_eq!(ui.get_card_state(), CardState::Reading);
    // Lifted too early.
    k.app.card_event(CardEvent::Removed);
    assert_eq!(ui.get_card_state(), CardState::Error);
    assert_eq!(ui.get_card_problem(), CardProblem::RemovedTooEarly);
    tap(ui, "Thử lại");
    assert_eq!(ui.get_card_state(), CardState::Waiting);
    tap(ui, "Thẻ mẫu: Nguyễn Thị Hoa");
    assert_eq!(ui.get_card_state(), CardState::Error);
    assert_eq!(ui.get_card_problem(), CardProblem::Unreadable);
    // The resident can always go on without the card.
    tap(ui, "Tiếp tục không dùng thẻ");
    assert_eq!(ui.get_screen(), Screen::Services);

    // A card whose signature does not verify: nothing is pre-filled.
    let k = kiosk_with(
        "kiosk-3",
        IdlePolicy::default(),
        Box::new(ScriptedReader {
            verified: Some(false),
            ..ScriptedReader::default()
        }),
    );
    let ui = &k.app.ui;
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Thẻ mẫu: Nguyễn Thị Hoa");
    assert_eq!(ui.get_card_state(), CardState::NotVerified);
    tap(ui, "Tiếp tục");
    tap(ui, "Sinh con");
    tap(ui, "Đăng ký khai sinh");
    assert_eq!(value_of(ui, "Họ, chữ đệm, tên người yêu cầu"), "");
    assert_eq!(field_source(ui, "requester_full_name"), ValueSource::None);
}

#[test]
fn a_software_card_that_fails_passive_authentication_is_not_verified() {
    use xaso_idcard::pa::TrustStore;
    use xaso_idcard::reader::AccessKey;
    use xaso_idcard::softcard::{CardFiles, Identity, SoftCard};
    use xaso_idcard::testpki::TestPki;
    use xaso_idcard::transport::InProcess;
    let identity = Identity::builtin_named("nguyen-thi-mai-anh").unwrap();
    let pki = TestPki::default_test().unwrap();
    let key = AccessKey::Mrz(identity.mrz_key().unwrap());
    // Signed by the test PKI but checked against an empty trust store.
    let mut t = InProcess {
        card: SoftCard::new(CardFiles::build(&identity, &pki).unwrap()),
    };
    let events = xaso_kiosk::chipcard::read_events(&mut t, &key, &TrustStore::new());
    assert!(matches!(
        events.last(),
        Some(CardEvent::Read {
            verified: false,
            ..
        })
    ));
    // With the right trust store: verified, and the fields for pre-filling are there.
    let mut t = InProcess {
        card: SoftCard::new(CardFiles::build(&identity, &pki).unwrap()),
    };
    let events = xaso_kiosk::chipcard::read_events(&mut t, &key, &pki.trust_store());
    let Some(CardEvent::Read {
        identity: read,
        verified: true,
    }) = events.last()
    else {
        panic!("not verified: {events:?}");
    };
    assert_eq!(read.full_name(), Some("Nguyễn Thị Mai Anh"));
    assert_eq!(read.id_number(), Some("079303001234"));
}

#[test]
fn after_a_power_cut_the_draft_resumes_only_for_the_same_card() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    tap(ui, "Họ, chữ đệm, tên của trẻ");
    type_keys(ui, "Nguyeenx Minh Khang");
    // Power cut: the process dies with the form open; nothing is shut down cleanly.
    let Kiosk { app, _dir: dir, .. } = k;
    std::mem::forget(app);

    // The kiosk starts again on the same store.
    let k = kiosk_in(
        dir,
        "kiosk-3",
        IdlePolicy::default(),
        Box::new(SoftCardReader::new().unwrap()),
    );
    let ui = &k.app.ui;
    assert_eq!(ui.get_screen(), Screen::Home);
    assert_eq!(
        ui.get_fields().row_count(),
        0,
        "nothing shown before a card"
    );
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Thẻ mẫu: Lê Thị Thu");
    assert!(!ui.get_has_draft(), "another card never sees the draft");
    tap(ui, "Nhấc thẻ ra");
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert!(ui.get_has_draft());
    tap(ui, "Tiếp tục tờ khai đang làm dở");
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên của trẻ"),
        "Nguyễn Minh Khang"
    );
}

/// The PDF receipt read back as a reader would: its text, its fonts, and its first page
/// rendered to pixels with the QR code scanned from them.
fn check_receipt_pdf(pdf: &[u8], code: &str) {
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(pdf).unwrap();
    for needle in [
        code,
        "Biên nhận hồ sơ",
        "Đăng ký khai sinh",
        "Ngày hẹn trả kết quả",
        "Miễn phí",
        "Thẻ căn cước của bạn",
        "Bản chính: Giấy chứng sinh",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} is not text in the PDF:\n{text}"
        );
    }

    // Every font is embedded, as a subset of the bundled Noto Sans.
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut descriptors = 0;
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        match dict.get(b"Type").and_then(|t| t.as_name()) {
            Ok(b"FontDescriptor") => {
                descriptors += 1;
                assert!(
                    dict.has(b"FontFile2") || dict.has(b"FontFile3"),
                    "a font is not embedded: {dict:?}"
                );
            }
            Ok(b"Font") => {
                if let Ok(name) = dict.get(b"BaseFont").and_then(|n| n.as_name()) {
                    fonts.push(String::from_utf8_lossy(name).into_owned());
                }
            }
            _ => {}
        }
    }
    assert!(
        descriptors >= 2,
        "regular and bold: {descriptors} descriptors"
    );
    assert!(
        fonts
            .iter()
            .all(|f| f.contains("NotoSans") && f.as_bytes().get(6) == Some(&b'+')),
        "subset Noto Sans only: {fonts:?}"
    );

    // The page as a viewer draws it: the QR code decodes to the tracking code.
    let file = hayro::hayro_syntax::Pdf::new(pdf.to_vec()).unwrap();
    let page = &file.pages()[0];
    let pixmap = hayro::render(
        page,
        &hayro::RenderCache::new(),
        &hayro::hayro_interpret::InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        &hayro::PixmapSettings {
            x_scale: 2.0,
            y_scale: 2.0,
            bg_color: hayro::vello_cpu::color::palette::css::WHITE,
        },
    );
    let (w, h) = (usize::from(pixmap.width()), usize::from(pixmap.height()));
    let rgba = pixmap.data_as_u8_slice();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let o = (y * w + x) * 4;
        ((u16::from(rgba[o]) + u16::from(rgba[o + 1]) + u16::from(rgba[o + 2])) / 3) as u8
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, code);
}

#[test]
fn identify_by_scanning_the_cards_qr_code_then_tapping_it_without_a_configured_key() {
    use xaso_idcard::softcard::Identity;
    let mai_anh = Identity::builtin_named("nguyen-thi-mai-anh").unwrap();
    // A reader that, like a real one started without --mrz/--identity, has no key.
    let k = kiosk_with(
        "kiosk-qr",
        IdlePolicy::default(),
        Box::new(SoftCardReader::keyless().unwrap()),
    );
    let ui = &k.app.ui;
    tap(ui, "Chạm thẻ căn cước");
    assert_eq!(ui.get_card_state(), CardState::Waiting);

    // Tapping first: the chip cannot be opened, and the screen says to scan the QR code.
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_card_state(), CardState::Error);
    assert_eq!(ui.get_card_problem(), CardProblem::NeedsKey);

    // A QR code that is not an ID card's: a clear error, nothing kept.
    tap(ui, "Quét mã QR trên thẻ");
    assert_eq!(ui.get_qr_state(), QrState::Scanning);
    assert_eq!(elements(ui, "Mã QR trên thẻ").len(), 1);
    wedge_scan(ui, "https://dichvucong.gov.vn/p/home/dvc-trang-chu.html");
    assert_eq!(ui.get_qr_state(), QrState::Error);
    assert_eq!(ui.get_qr_problem(), QrProblem::NotAnIdCard);
    // No picture yet in the QR directory.
    tap(ui, "Đọc mã QR từ ảnh");
    assert_eq!(ui.get_qr_problem(), QrProblem::NotFound);

    // The card's own QR code through the scanner: the keys are derived, then the tap reads
    // the chip with them — verified, and the form is pre-filled.
    wedge_scan(ui, &mai_anh.qr_text());
    assert_eq!(ui.get_qr_state(), QrState::Ready);
    assert_eq!(ui.get_card_state(), CardState::Waiting);
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_card_state(), CardState::Verified);
    assert_eq!(ui.get_card_name(), "Nguyễn Thị Mai Anh");
    tap(ui, "Tiếp tục");
    tap(ui, "Sinh con");
    tap(ui, "Đăng ký khai sinh");
    assert_eq!(ui.get_screen(), Screen::Form);
    assert_eq!(
        value_of(ui, "Số định danh cá nhân người yêu cầu"),
        "079303001234"
    );
    assert_eq!(field_source(ui, "requester_full_name"), ValueSource::Card);

    // Going home ends the session and forgets the keys: the next tap needs a scan again.
    tap(ui, "Trang chủ");
    tap(ui, "Chạm thẻ căn cước");
    assert_eq!(ui.get_qr_state(), QrState::Off);
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_card_problem(), CardProblem::NeedsKey);

    // The same through a picture of the QR code (the path a camera frame takes).
    let qr_dir = k._dir.path().join("qr");
    std::fs::create_dir_all(&qr_dir).unwrap();
    std::fs::write(qr_dir.join("blank.png"), {
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::new_luma8(300, 300)
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        png.into_inner()
    })
    .unwrap();
    tap(ui, "Quét mã QR trên thẻ");
    tap(ui, "Đọc mã QR từ ảnh");
    assert_eq!(ui.get_qr_problem(), QrProblem::NotFound);
    std::thread::sleep(Duration::from_millis(20));
    xaso_kiosk::demo::write_sample_card_qr(&qr_dir, "nguyen-thi-mai-anh").unwrap();
    tap(ui, "Đọc mã QR từ ảnh");
    assert_eq!(ui.get_qr_state(), QrState::Ready);
    tap(ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_card_state(), CardState::Verified);

    // Another resident's card does not open with her QR code's keys.
    tap(ui, "Nhấc thẻ ra");
    tap(ui, "Chạm thẻ căn cước");
    tap(ui, "Quét mã QR trên thẻ");
    wedge_scan(ui, &mai_anh.qr_text());
    let other = Identity::builtin()
        .unwrap()
        .into_iter()
        .find(|(_, id)| id.id_number != mai_anh.id_number)
        .unwrap()
        .1;
    tap(ui, &format!("Thẻ mẫu: {}", other.full_name));
    assert_eq!(ui.get_card_state(), CardState::Error);
    assert_eq!(ui.get_card_problem(), CardProblem::Unreadable);
}

/// A document camera that hands out synthetic YUYV frames through the same conversion as
/// the V4L2 camera (no camera device exists on the test machine).
struct SyntheticCamera {
    frames: usize,
}

impl xaso_kiosk::image_source::ImageSource for SyntheticCamera {
    fn capture(&mut self) -> Result<Vec<u8>, xaso_kiosk::image_source::PaperError> {
        use xaso_kiosk::camera::{FrameFormat, frame_to_image};
        self.frames += 1;
        // 640×480 light grey page, a darker band across the middle.
        let (w, h) = (640usize, 480usize);
        let mut frame = Vec::with_capacity(w * h * 2);
        for y in 0..h {
            let luma = if (200..280).contains(&y) { 60 } else { 200 };
            for _ in 0..w / 2 {
                frame.extend_from_slice(&[luma, 128, luma, 128]);
            }
        }
        frame_to_image(FrameFormat::Yuyv, 640, 480, &frame)
    }

    fn import(&mut self) -> Result<Vec<u8>, xaso_kiosk::image_source::PaperError> {
        Err(xaso_kiosk::image_source::PaperError::NoCamera)
    }

    fn has_camera(&self) -> bool {
        true
    }
}

#[test]
fn with_a_document_camera_the_papers_screen_photographs_pages() {
    use xaso_kiosk::clock::Clock;
    use xaso_kiosk::qr_pictures::NoQrPictures;
    use xaso_kiosk::shell::ShellParts;
    use xaso_kiosk::store::KioskStore;
    use xaso_kiosk_core::{Moment, ResidentJourney};
    install_testing_backend();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let commune = xaso_services::CommuneCode::new(COMMUNE).unwrap();
    let app = App::new(
        AppWindow::new().unwrap(),
        ShellParts {
            journey: ResidentJourney::new(
                xaso_services::Catalog::bundled().unwrap(),
                Moment {
                    now: clock.now(),
                    today: clock.today(),
                },
            ),
            store: KioskStore::in_memory(commune, 3, "kiosk-camera").unwrap(),
            device: 3,
            translations: xaso_i18n::Translations::bundled().unwrap(),
            clock: Box::new(clock.clone()),
            card: Box::new(SoftCardReader::new().unwrap()),
            images: Box::new(SyntheticCamera { frames: 0 }),
            qr_pictures: Box::new(NoQrPictures),
            printer: None,
            receipts_dir: None,
            speech: false,
            counter: Box::new(xaso_kiosk::counter::NoCounter),
            helper: None,
            lessons: xaso_kiosk::lessons::LessonDesk::new(Default::default(), COMMUNE, "kiosk-3"),
        },
    );
    app.ui
        .window()
        .set_size(slint::PhysicalSize::new(1080, 6000));
    app.ui.show().unwrap();
    let ui = &app.ui;
    assert!(ui.get_has_camera());
    open_birth_form_with_card(ui);
    fill_birth_form(ui);
    tap(ui, "Tiếp theo: giấy tờ");
    assert_eq!(ui.get_screen(), Screen::Papers);
    tap(ui, "Chụp Giấy chứng sinh");
    assert_eq!(elements(ui, "Ảnh 1 của Giấy chứng sinh").len(), 1);
    tap(ui, "Chụp lại ảnh 1 của Giấy chứng sinh");
    assert_eq!(elements(ui, "Ảnh 1 của Giấy chứng sinh").len(), 1);
    assert!(elements(ui, "Ảnh 2 của Giấy chứng sinh").is_empty());
    tap(ui, "Tiếp theo: xem lại");
    assert_eq!(ui.get_screen(), Screen::Review);
    tap(
        ui,
        "Tôi đồng ý cho cơ quan giải quyết thủ tục sử dụng thông tin trên",
    );
    tap(ui, "Gửi hồ sơ");
    assert_eq!(ui.get_screen(), Screen::Receipt);
    let code = TrackingCode::parse(&value_of(ui, "Mã hồ sơ")).unwrap();
    let stored = app
        .with_store(|s| s.dossier_by_code(&code))
        .unwrap()
        .unwrap();
    assert_eq!(stored.attachments.len(), 1);
    let page = app
        .with_store(|s| s.attachment(&stored.attachments[0].sha256))
        .unwrap()
        .unwrap();
    let img = image::load_from_memory(&page).unwrap().to_luma8();
    assert_eq!(img.dimensions(), (640, 480));
    // The band is dark and the page light, as the camera saw them.
    assert!(img.get_pixel(320, 240).0[0] < 80);
    assert!(img.get_pixel(320, 50).0[0] > 180);
}

/// An image source whose import, the first time, is interrupted by a tap on "next" — as
/// when the resident taps on while the file is still being read. The tap arrives while the
/// app is busy with the import. (Slint itself ignores a callback raised from inside the same
/// callback, so the tap is another button's.)
struct TapAgainWhileImporting {
    ui: std::rc::Rc<std::cell::RefCell<Option<slint::Weak<AppWindow>>>>,
    files: xaso_kiosk::image_files::DirectoryImages,
    tapped_again: bool,
}

impl xaso_kiosk::image_source::ImageSource for TapAgainWhileImporting {
    fn capture(&mut self) -> Result<Vec<u8>, xaso_kiosk::image_source::PaperError> {
        Err(xaso_kiosk::image_source::PaperError::NoCamera)
    }

    fn import(&mut self) -> Result<Vec<u8>, xaso_kiosk::image_source::PaperError> {
        if !self.tapped_again {
            self.tapped_again = true;
            if let Some(ui) = self.ui.borrow().as_ref().and_then(slint::Weak::upgrade) {
                ui.invoke_papers_next();
            }
        }
        self.files.import()
    }
}

#[test]
fn an_input_arriving_while_the_app_is_busy_is_applied_not_lost() {
    use xaso_kiosk::clock::Clock;
    use xaso_kiosk::qr_pictures::NoQrPictures;
    use xaso_kiosk::shell::ShellParts;
    use xaso_kiosk::store::KioskStore;
    use xaso_kiosk_core::{Moment, ResidentJourney};
    install_testing_backend();
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let handle = std::rc::Rc::new(std::cell::RefCell::new(None));
    let ui = AppWindow::new().unwrap();
    *handle.borrow_mut() = Some(ui.as_weak());
    let app = App::new(
        ui,
        ShellParts {
            journey: ResidentJourney::new(
                xaso_services::Catalog::bundled().unwrap(),
                Moment {
                    now: clock.now(),
                    today: clock.today(),
                },
            ),
            store: KioskStore::in_memory(
                xaso_services::CommuneCode::new(COMMUNE).unwrap(),
                3,
                "kiosk-busy",
            )
            .unwrap(),
            device: 3,
            translations: xaso_i18n::Translations::bundled().unwrap(),
            clock: Box::new(clock.clone()),
            card: Box::new(SoftCardReader::new().unwrap()),
            images: Box::new(TapAgainWhileImporting {
                ui: handle.clone(),
                files: xaso_kiosk::image_files::DirectoryImages::new(&dir.path().join("papers")),
                tapped_again: false,
            }),
            qr_pictures: Box::new(NoQrPictures),
            printer: None,
            receipts_dir: None,
            speech: false,
            counter: Box::new(xaso_kiosk::counter::NoCounter),
            helper: None,
            lessons: xaso_kiosk::lessons::LessonDesk::new(Default::default(), COMMUNE, "kiosk-3"),
        },
    );
    app.ui
        .window()
        .set_size(slint::PhysicalSize::new(1080, 6000));
    app.ui.show().unwrap();
    let ui = &app.ui;
    open_birth_form_with_card(ui);
    fill_birth_form(ui);
    tap(ui, "Tiếp theo: giấy tờ");
    assert_eq!(ui.get_screen(), Screen::Papers);
    // "Choose an image file"; "next" is tapped while the file is being read.
    tap(ui, "Chọn tệp ảnh cho Giấy chứng sinh");
    assert_eq!(
        app.journey(|j| j.papers()[0].images.len()),
        1,
        "the page was added"
    );
    assert_eq!(
        ui.get_screen(),
        Screen::Review,
        "the tap that arrived while the app was busy was applied after the import"
    );
}

#[test]
fn typing_a_key_rewrites_one_field_row_and_keeps_the_model() {
    let k = kiosk("kiosk-3", IdlePolicy::default());
    let ui = &k.app.ui;
    open_birth_form_with_card(ui);
    tap(ui, "Họ, chữ đệm, tên của trẻ");
    let model = ui.get_fields();
    let before: Vec<_> = (0..model.row_count())
        .map(|i| model.row_data(i).unwrap())
        .collect();
    let written = k.app.field_rows_written();
    tap(ui, "k");
    assert_eq!(value_of(ui, "Họ, chữ đệm, tên của trẻ"), "k");
    assert!(
        ui.get_fields() == model,
        "the window keeps the same fields model"
    );
    assert_eq!(
        k.app.field_rows_written() - written,
        1,
        "one key, one row written"
    );
    let after = ui.get_fields();
    assert_eq!(after.row_count(), before.len());
    let mut changed = Vec::new();
    for (i, old) in before.iter().enumerate() {
        // A row's data includes its choices model: equal means not rebuilt.
        if after.row_data(i).as_ref() != Some(old) {
            changed.push(old.id.to_string());
        }
    }
    assert_eq!(changed, ["child_full_name"]);
}

#[test]
fn the_status_screen_shows_the_day_in_viet_nam() {
    // 23:30 UTC on 22 November is 06:30 on 23 November in Viet Nam.
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new("2026-11-22T23:30:00Z".parse().unwrap());
    let mut config = test_config(dir.path(), "kiosk-dawn", COMMUNE, 3);
    config.qr_images = None;
    config.receipt = ReceiptOutput::default();
    let app = shown(config, &clock, Box::new(SoftCardReader::new().unwrap()));
    let ui = &app.ui;
    open_birth_form_with_card(ui);
    fill_birth_form(ui);
    let code = papers_review_submit(ui);
    assert_eq!(
        TrackingCode::parse(&code).unwrap().day(),
        jiff::civil::date(2026, 11, 23),
        "minted on the day in Viet Nam"
    );
    tap(ui, "Trang chủ");
    tap(ui, "Tra cứu hồ sơ");
    type_keys(ui, &code.to_lowercase());
    tap(ui, "Tra cứu");
    assert!(ui.get_status_found());
    let history = ui.get_status_history();
    assert_eq!(history.row_count(), 1);
    assert_eq!(history.row_data(0).unwrap().title, "23/11/2026");
    // Birth registration is done the same working day: Monday 23/11.
    assert_eq!(ui.get_status_ready(), "23/11/2026");
}
