//! The officer's tablet through its real window, with a real commune hub: a resident hands a
//! dossier in at kiosk K; the officer's tablet O syncs, signs in with the officer's own card
//! and a PIN, receives the dossier and asks for a supplement; the resident sees the request
//! at another kiosk K2 and adds a page there; O resumes and approves. Driven through
//! accessible labels, as a screen reader would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::officer::{officer, pin};
use common::resident::{
    fill_birth_form, open_birth_form_with_card, papers_review_submit, runtime, type_keys,
};
use common::{elements, shown, tap, test_config};

use std::time::{Duration, Instant};

use slint::Model;
use xaso_hub::{Hub, HubConfig};
use xaso_kiosk::app::App;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::demo::write_sample_papers;
use xaso_kiosk::officer::app::OfficerApp;
use xaso_kiosk::ui::{OfficerScreen, Screen, SignInStep};
use xaso_services::DossierState;
use xaso_services::roster::StaffRole;
use xaso_sync_client::{self as client, CancellationToken, Identity, Progress, SyncClient};
use xaso_sync_core::Role;

const COMMUNE: &str = "79001";
const OFFICER_ID: &str = "038175004321";
const OFFICER_NAME: &str = "Lê Thị Thu";

struct Kiosk {
    app: App,
    _clock: ManualClock,
    dir: tempfile::TempDir,
}

/// A kiosk enrolled at the hub; `counter`: it may ask the hub for dossiers of other kiosks.
fn kiosk(identity: &Identity, url: &str) -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new(jiff::Timestamp::now());
    let mut config = test_config(
        dir.path(),
        &identity.device_id,
        COMMUNE,
        identity.device_number.unwrap(),
    );
    config.hub = Some((url.to_owned(), identity.clone()));
    let app = shown(config, &clock, Box::new(SoftCardReader::new().unwrap()));
    Kiosk {
        app,
        _clock: clock,
        dir,
    }
}

/// One sync of a kiosk's store: records, then pages both ways.
fn sync_kiosk(k: &Kiosk, rt: &tokio::runtime::Runtime, url: &str, identity: &Identity) {
    let client = SyncClient::new(url, identity).unwrap();
    k.app.with_store_mut(|s| {
        let (p, c) = (Progress::default(), CancellationToken::new());
        rt.block_on(client.sync_once(s.records_mut(), &p, &c))
            .unwrap();
        rt.block_on(client.sync_blobs(s.records_mut(), &p, &c))
            .unwrap();
    });
}

/// Waits (ticking the app) until the tablet has finished `n` syncs in all.
fn synced(o: &OfficerApp, n: u64) {
    let started = Instant::now();
    loop {
        o.tick();
        let link = o.with_shell(|s| s.link().clone());
        if link.syncs >= n {
            assert!(
                link.last_error.is_none(),
                "sync failed: {:?}",
                link.last_error
            );
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no sync: {link:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sync_now(o: &OfficerApp, before: u64) {
    tap(&o.ui, "Đồng bộ");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Sync);
    tap(&o.ui, "Đồng bộ ngay");
    synced(o, before + 1);
}

/// Opens the dossier with `code` from the queue's search.
fn open_by_search(o: &OfficerApp, words: &str, code: &str) {
    tap(&o.ui, "Hàng đợi");
    tap(&o.ui, "Tìm theo tên, số căn cước hoặc mã hồ sơ");
    tap(&o.ui, "Xóa hết");
    type_keys(&o.ui, words);
    tap(&o.ui, "Xong");
    assert!(!elements(&o.ui, code).is_empty(), "{words:?} finds {code}");
    tap(&o.ui, code);
    assert_eq!(o.ui.get_screen(), OfficerScreen::Dossier);
}

fn act(o: &OfficerApp, action: &str) {
    tap(&o.ui, action);
    assert!(o.ui.get_confirming(), "{action} asks to confirm");
    tap(&o.ui, "Xác nhận");
    assert!(!o.ui.get_confirming());
    assert_eq!(o.ui.get_notice(), "", "{action} refused");
}

#[test]
fn a_dossier_goes_from_kiosk_k_to_the_officer_and_back_through_a_supplement_at_kiosk_k2() {
    let rt = runtime();
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(hub_dir.path().join("hub"))).unwrap();
    let (addr, _handle) = rt
        .block_on(hub.clone().spawn("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let url = format!("https://127.0.0.1:{}", addr.port());
    let enrol = |role| {
        let code = hub
            .create_enrolment_code(role, &[COMMUNE], Duration::from_secs(600))
            .unwrap();
        rt.block_on(client::enrol(&url, hub.ca_pem(), &code))
            .unwrap()
    };
    let (k_id, k2_id, o_id) = (enrol(Role::Kiosk), enrol(Role::Kiosk), enrol(Role::Officer));
    hub.roster_put(COMMUNE, OFFICER_ID, OFFICER_NAME, StaffRole::Officer)
        .unwrap();

    // K: the resident hands in a birth registration; K syncs.
    let k = kiosk(&k_id, &url);
    open_birth_form_with_card(&k.app.ui);
    fill_birth_form(&k.app.ui);
    let code = papers_review_submit(&k.app.ui);
    sync_kiosk(&k, &rt, &url, &k_id);

    // O: the tablet syncs on start; the officer signs in with their own card, choosing a
    // PIN at the first sign-in.
    let o_dir = tempfile::tempdir().unwrap();
    let o = officer(o_dir.path(), &url, &o_id, COMMUNE, true);
    synced(&o, 1);
    assert_eq!(o.ui.get_screen(), OfficerScreen::SignIn);
    assert_eq!(o.ui.get_step(), SignInStep::WaitingCard);
    // A resident's card is not on the roster.
    tap(&o.ui, "Nguyễn Thị Mai Anh");
    assert_eq!(o.ui.get_step(), SignInStep::NotOnRoster);
    tap(&o.ui, "Rút thẻ");
    tap(&o.ui, OFFICER_NAME);
    assert_eq!(o.ui.get_step(), SignInStep::ChoosePin);
    pin(&o, "271828");
    assert_eq!(o.ui.get_step(), SignInStep::ConfirmPin);
    pin(&o, "271828");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Queue);
    assert_eq!(o.ui.get_person(), OFFICER_NAME);
    assert_eq!(o.ui.get_open_count(), 1);
    assert!(
        !elements(&o.ui, &code).is_empty(),
        "the dossier is in the queue"
    );

    // Found by the resident's name typed without accents, and processed.
    open_by_search(&o, "nguyen thi mai", &code);
    assert!(o.ui.get_dossier_state().starts_with("Đã nộp"));
    assert!(o.ui.get_card_verified());
    assert_eq!(
        o.ui.get_pages().row_count(),
        2,
        "both pages arrived with the dossier"
    );
    tap(&o.ui, "Phóng to 1");
    assert_eq!(o.ui.get_pages().row_data(0).unwrap().zoom, 150);
    tap(&o.ui, "Xoay 1");
    assert_eq!(o.ui.get_pages().row_data(0).unwrap().turns, 1);
    act(&o, "Tiếp nhận");
    act(&o, "Bắt đầu xử lý");
    // A supplement request needs a reason.
    tap(&o.ui, "Yêu cầu bổ sung");
    tap(&o.ui, "Xác nhận");
    assert!(!o.ui.get_notice().is_empty(), "refused without a reason");
    tap(&o.ui, "Lý do (người dân sẽ thấy)");
    type_keys(&o.ui, "Caanf theem trang 2");
    tap(&o.ui, "Xong");
    assert_eq!(o.ui.get_reason(), "Cần thêm trang 2");
    tap(&o.ui, "Xác nhận");
    assert!(
        o.ui.get_dossier_state().contains("Cần bổ sung"),
        "{}",
        o.ui.get_dossier_state()
    );
    // The change waits to sync, and says so on every screen.
    assert!(o.ui.get_waiting() > 0);
    assert!(!elements(&o.ui, &format!("Có {} mục chờ đồng bộ", o.ui.get_waiting())).is_empty());
    sync_now(&o, 1);
    assert_eq!(o.ui.get_waiting(), 0);

    // K2: another kiosk. The resident taps their card, types the code of the receipt, sees
    // what is missing and adds a page.
    let k2 = kiosk(&k2_id, &url);
    let ui2 = &k2.app.ui;
    tap(ui2, "Tra cứu hồ sơ");
    k2.app.place_card("nguyen-thi-mai-anh");
    if ui2.get_screen() == Screen::Error {
        tap(ui2, "Thử lại");
    }
    assert_eq!(ui2.get_screen(), Screen::Status);
    type_keys(ui2, &code.to_lowercase());
    tap(ui2, "Tra cứu");
    assert!(ui2.get_status_found(), "found at the hub");
    assert_eq!(
        ui2.get_status_missing().row_data(0).unwrap(),
        "Cần thêm trang 2"
    );
    tap(ui2, "Bổ sung giấy tờ");
    assert_eq!(ui2.get_screen(), Screen::Papers);
    tap(ui2, "Chọn tệp ảnh cho Giấy chứng sinh");
    tap(ui2, "Gửi bổ sung");
    assert_eq!(ui2.get_screen(), Screen::Status);
    assert!(
        ui2.get_status_state().contains("Đã bổ sung"),
        "{}",
        ui2.get_status_state()
    );
    assert!(!ui2.get_status_can_supplement());

    // O: the supplement arrives with its page; the officer resumes and approves.
    sync_now(&o, 2);
    open_by_search(&o, &code, &code);
    assert!(o.ui.get_dossier_state().contains("Đã bổ sung"));
    assert_eq!(
        o.ui.get_pages().row_count(),
        3,
        "the page added at K2 is there"
    );
    act(&o, "Tiếp tục xử lý");
    // Approving issues the result: composed from the catalog's template, signed with the
    // officer's key that the hub's CA certified for this tablet.
    act(&o, "Phê duyệt và cấp kết quả");
    assert!(
        o.ui.get_dossier_state().contains("Có kết quả"),
        "{}",
        o.ui.get_dossier_state()
    );
    assert!(
        o.ui.get_result().contains(OFFICER_NAME),
        "{}",
        o.ui.get_result()
    );
    sync_now(&o, 3);
    assert_eq!(o.ui.get_waiting(), 0, "the result went to the hub");

    // K: with its next sync the result arrives; the resident's status lookup shows it and
    // saves the signed PDF.
    sync_kiosk(&k, &rt, &url, &k_id);
    let ui = &k.app.ui;
    tap(ui, "Trang chủ");
    tap(ui, "Tra cứu hồ sơ");
    k.app.place_card("nguyen-thi-mai-anh");
    assert!(ui.get_status_found());
    assert!(
        ui.get_status_state().contains("Có kết quả"),
        "{}",
        ui.get_status_state()
    );
    assert!(
        ui.get_status_result().contains(OFFICER_NAME),
        "{}",
        ui.get_status_result()
    );
    tap(ui, "Lưu kết quả (PDF có chữ ký số)");
    let saved = k.app.last_result_pdf().expect("the result was saved");
    assert!(saved.starts_with(k.dir.path()));
    let stored = k
        .app
        .with_store(|s| s.dossier_by_code(&xaso_services::TrackingCode::parse(&code).unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(stored.state(), DossierState::ResultReady);
    assert_eq!(stored.attachments.len(), 3);

    // pdfsig: valid and trusted against the hub's CA; Rust's verify agrees.
    let report = xaso_documents_testkit::pdfsig_report(&saved, hub.ca_pem()).unwrap();
    assert!(report.valid && report.trusted, "{}", report.raw);
    let text = xaso_documents_testkit::pdftotext(&saved).unwrap();
    assert!(text.contains("TRÍCH LỤC KHAI SINH"), "{text}");
    assert!(text.contains("Nguyễn Minh Khang"), "{text}");
    let ca_der = pem_der(hub.ca_pem());
    let pdf = std::fs::read(&saved).unwrap();
    let verified = xaso_documents::verify(&pdf, &ca_der).unwrap();
    assert_eq!(verified.signer_name, OFFICER_NAME);
    // One byte changed: invalid for both.
    let mut tampered = pdf.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let bad = k.dir.path().join("tampered.pdf");
    std::fs::write(&bad, &tampered).unwrap();
    let report = xaso_documents_testkit::pdfsig_report(&bad, hub.ca_pem()).unwrap();
    assert!(!report.valid, "{}", report.raw);
    assert!(xaso_documents::verify(&tampered, &ca_der).is_err());
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}
