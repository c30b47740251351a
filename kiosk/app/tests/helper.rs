//! A helper's tablet through its real window: the helper signs in with their own card and a
//! PIN, starts a session, the resident taps their own card and agrees on screen, the helper
//! hands a birth registration in for them; the consent and every step name both. After the
//! session the helper cannot look the resident's dossier up again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::resident::{fill_birth_form, type_keys};
use common::{elements, shown, tap, test_config, value_of};

use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::demo::write_sample_papers;
use xaso_kiosk::ui::{HelperStage, Screen};
use xaso_kiosk_core::helper::AssistRecord;
use xaso_kiosk_core::signin::PinPolicy;
use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole, person_key};
use xaso_services::{Channel, Dossier, Role, TrackingCode};
use xaso_sync_core::Partition;

/// The helper's screens at the tablet sizes, real renders: checked not blank, and written to
/// `$XASO_SCREENSHOTS/helper/<size>/` when that is set (the pictures in docs/screenshots).
fn snap(ui: &xaso_kiosk::ui::AppWindow, n: usize, name: &str) {
    use slint::ComponentHandle;
    for (size, w, h) in [
        ("1280x800", 1280u32, 800u32),
        ("1920x1200", 1920, 1200),
        ("800x1280", 800, 1280),
    ] {
        ui.window().set_size(slint::PhysicalSize::new(w, h));
        let shot = ui.window().take_snapshot().unwrap();
        let img = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
            .unwrap();
        let colours: std::collections::BTreeSet<[u8; 4]> =
            img.pixels().step_by(97).map(|p| p.0).collect();
        assert!(colours.len() > 10, "{name} at {size} looks blank");
        if let Some(dir) = std::env::var_os("XASO_SCREENSHOTS") {
            let dir = std::path::Path::new(&dir).join("helper").join(size);
            std::fs::create_dir_all(&dir).unwrap();
            image::DynamicImage::ImageRgba8(img)
                .to_rgb8()
                .save(dir.join(format!("{n:02}-{name}.png")))
                .unwrap();
        }
    }
    ui.window().set_size(slint::PhysicalSize::new(1080, 6000));
}

const COMMUNE: &str = "79001";
const HELPER_ID: &str = "001082012345";
const HELPER_NAME: &str = "Trần Văn Hùng";
const RESIDENT_ID: &str = "079303001234";

/// The tablet's record store in `dir/store`, holding the commune's roster as the hub writes
/// it (it reaches the tablet by sync); open, for more records.
fn tablet_store(dir: &std::path::Path) -> xaso_sync_store::Store {
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    xaso_sync_store::ensure_key_file(&store.join("device.key")).unwrap();
    let mut records =
        xaso_sync_store::Store::open(&store.join("records.db"), &store.join("device.key")).unwrap();
    let mut roster = Roster::default();
    roster.put(COMMUNE, HELPER_ID, HELPER_NAME, StaffRole::Helper);
    records
        .put(&Partition::public(COMMUNE).unwrap(), ROSTER_RECORD, &roster)
        .unwrap();
    records
}

/// A helper tablet over `dir` (cheap PIN hashing for tests).
fn tablet_config(dir: &std::path::Path) -> xaso_kiosk::setup::KioskConfig {
    let mut config = test_config(dir, "helper-tablet-1", COMMUNE, 5);
    config.helper = Some(PinPolicy {
        argon2_memory_kib: 64,
        argon2_passes: 1,
        ..PinPolicy::default()
    });
    config
}

/// The helper taps their card and chooses, then confirms, their PIN.
fn sign_in(ui: &xaso_kiosk::ui::AppWindow) {
    tap(ui, HELPER_NAME);
    for _ in 0..2 {
        for d in "314159".chars() {
            tap(ui, &d.to_string());
        }
        tap(ui, "Đồng ý");
    }
    assert_eq!(ui.get_helper_stage(), HelperStage::Idle);
}

#[test]
fn a_helper_hands_a_dossier_in_for_a_consenting_resident_and_cannot_open_it_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    write_sample_papers(&dir.path().join("papers")).unwrap();
    drop(tablet_store(dir.path()));
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let app = shown(
        tablet_config(dir.path()),
        &clock,
        Box::new(SoftCardReader::new().unwrap()),
    );
    let ui = &app.ui;

    // Nothing of the journey before the helper signs in; a resident's card does not sign in.
    assert_eq!(ui.get_helper_stage(), HelperStage::SignIn);
    snap(ui, 1, "sign-in");
    tap(ui, "Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_helper_stage(), HelperStage::SignIn);
    tap(ui, "Rút thẻ");
    sign_in(ui);
    assert_eq!(ui.get_helper_name(), HELPER_NAME);
    snap(ui, 2, "idle");

    // A session: the resident taps their own card and agrees on screen.
    tap(ui, "Bắt đầu phiên hỗ trợ");
    assert_eq!(ui.get_helper_stage(), HelperStage::WaitingCard);
    snap(ui, 3, "resident-card");
    tap(ui, "Nguyễn Thị Mai Anh");
    assert_eq!(ui.get_helper_stage(), HelperStage::Consent);
    assert_eq!(ui.get_helper_resident(), "Nguyễn Thị Mai Anh");
    snap(ui, 4, "consent");
    tap(ui, "Tôi đồng ý");
    assert_eq!(ui.get_helper_stage(), HelperStage::Active);
    assert!(
        !elements(ui, "Kết thúc phiên").is_empty(),
        "the banner names both and ends it"
    );

    // The resident's journey, opened with the card: what a resident could do, nothing more.
    assert_eq!(ui.get_screen(), Screen::Identify);
    snap(ui, 5, "session");
    tap(ui, "Tiếp tục");
    tap(ui, "Sinh con");
    tap(ui, "Đăng ký khai sinh");
    assert_eq!(
        value_of(ui, "Họ, chữ đệm, tên người yêu cầu"),
        "Nguyễn Thị Mai Anh",
        "pre-filled from the resident's card"
    );
    fill_birth_form(ui);
    tap(ui, "Tiếp theo: giấy tờ");
    tap(ui, "Chọn tệp ảnh cho Giấy chứng sinh");
    tap(ui, "Tiếp theo: xem lại");
    tap(
        ui,
        "Tôi đồng ý cho cơ quan giải quyết thủ tục sử dụng thông tin trên",
    );
    tap(ui, "Gửi hồ sơ");
    assert_eq!(ui.get_screen(), Screen::Receipt);
    let code = value_of(ui, "Mã hồ sơ");
    snap(ui, 6, "receipt");

    // Both identities: the helper acted, for the resident, with the resident's consent.
    let dossier: Dossier = app
        .with_store(|s| s.dossier_by_code(&TrackingCode::parse(&code).unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(dossier.applicant.id_number, RESIDENT_ID);
    assert_eq!(dossier.channel, Channel::Helper);
    let helper_actor = format!("helper:{COMMUNE}:1");
    assert_eq!(
        dossier.consent.as_ref().unwrap().assisted_by.as_deref(),
        Some(helper_actor.as_str())
    );
    let submit = dossier.audit().last().unwrap();
    assert_eq!(submit.actor.role, Role::Helper);
    assert_eq!(submit.actor.id, helper_actor);
    assert_eq!(submit.actor.device.as_deref(), Some("helper-tablet-1"));
    let records: Vec<AssistRecord> = app.with_store(|s| {
        let p = s.partition().clone();
        s.records()
            .list(&p)
            .unwrap()
            .into_iter()
            .filter(|id| id.starts_with("assist-"))
            .map(|id| s.records().get::<AssistRecord>(&p, &id).unwrap().unwrap())
            .collect()
    });
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].helper.id, helper_actor);
    assert_eq!(records[0].resident, person_key(COMMUNE, RESIDENT_ID));
    assert_eq!(records[0].dossiers, vec![code.clone()]);
    assert!(records[0].ended_at.is_none());

    // The session ends: the journey is wiped and the record closed.
    tap(ui, "Kết thúc phiên");
    assert_eq!(ui.get_helper_stage(), HelperStage::Idle);
    assert_eq!(ui.get_screen(), Screen::Home);
    let ended = app.with_store(|s| {
        let p = s.partition().clone();
        s.records()
            .get::<AssistRecord>(&p, &format!("assist-{}", records[0].id))
            .unwrap()
            .unwrap()
    });
    assert!(ended.ended_at.is_some());

    // Afterwards the helper cannot open the resident's dossier: not by its code...
    ui.invoke_open(Screen::Status);
    assert_eq!(ui.get_screen(), Screen::Status);
    type_keys(ui, &code.to_lowercase());
    tap(ui, "Tra cứu");
    assert!(!ui.get_status_found(), "not shown outside a session");
    assert_eq!(ui.get_screen(), Screen::Error);
    // ...nor by the resident's card outside a session (the card goes to no journey).
    tap(ui, "Thử lại");
    app.place_card("nguyen-thi-mai-anh");
    assert!(!ui.get_status_found());
}

/// A helper's class: the helper opens a class on the tablet, learners enrol by tapping their
/// own cards, the table shows each one's completion per module from the commune's learning
/// records, and the report is exported as CSV and PDF.
#[test]
fn a_helper_enrols_learners_by_card_and_exports_the_class_report() {
    use xaso_kiosk::lessons::records;
    use xaso_kiosk::ui::{Classroom, HelperStage};
    use xaso_training::progress::{Progress, learner_id};
    let dir = tempfile::tempdir().unwrap();
    let learned: jiff::Timestamp = "2026-11-20T03:00:00Z".parse().unwrap();
    {
        let mut records = tablet_store(dir.path());
        // Progress as kiosks of the commune synced it: Mai Anh passed the scams module and
        // started the smartphone one.
        let mut p = Progress::new(&learner_id(RESIDENT_ID));
        p.read_page("smartphone-basics", "01", learned);
        p.read_page("scams", "01", learned);
        p.mastered.insert("scams".into(), learned);
        records::save_progress(&mut records, COMMUNE, &p).unwrap();
    }
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let mut config = tablet_config(dir.path());
    // The lessons of the province's pack.
    let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    let pack = dir.path().join("lessons.pack");
    std::fs::write(
        &pack,
        xaso_training::pack::build(
            &xaso_training::bundled_files(),
            "79",
            1,
            jiff::civil::date(2026, 11, 1),
            "p79",
            &key,
        )
        .unwrap(),
    )
    .unwrap();
    config.lessons = xaso_kiosk::lessons::LessonsConfig {
        trusted: vec![xaso_training::pack::TrustedKey {
            key_id: "p79".into(),
            key: key.verifying_key(),
        }],
        install: Some(pack),
        commune_name: "Xã Tân Thới Nhì".into(),
        ..Default::default()
    };
    let app = shown(config, &clock, Box::new(SoftCardReader::new().unwrap()));
    let ui = &app.ui;
    sign_in(ui);
    tap(ui, "Lớp học kỹ năng số");
    assert_eq!(ui.get_helper_stage(), HelperStage::Classroom);
    tap(ui, "Tạo lớp mới");
    let g = slint::ComponentHandle::global::<Classroom>(ui);
    assert_eq!(g.get_name().as_str(), "Lớp ngày 23/11/2026 (số 1)");

    // Learners tap their own cards.
    app.place_card("nguyen-thi-mai-anh");
    assert_eq!(g.get_notice().as_str(), "Đã ghi danh: Nguyễn Thị Mai Anh");
    app.push(xaso_kiosk::input::Input::RemoveCard);
    app.place_card("le-thi-thu");
    app.push(xaso_kiosk::input::Input::RemoveCard);
    app.place_card("nguyen-thi-mai-anh");
    assert_eq!(
        g.get_notice().as_str(),
        "Nguyễn Thị Mai Anh đã có trong lớp"
    );
    use slint::Model;
    let rows: Vec<_> = g.get_rows().iter().collect();
    assert_eq!(rows.len(), 2);
    let mai_anh = rows
        .iter()
        .find(|r| r.name == "Nguyễn Thị Mai Anh")
        .unwrap();
    let modules: Vec<_> = g.get_modules().iter().collect();
    let col = |id: &str| modules.iter().position(|m| m.id == id).unwrap();
    let marks: Vec<_> = mai_anh.marks.iter().collect();
    assert_eq!(marks[col("scams")], "Xong");
    assert_eq!(marks[col("smartphone-basics")], "Đang học");
    assert_eq!(marks[col("vneid-account")], "–");
    let totals: Vec<_> = g.get_totals().iter().collect();
    assert_eq!(totals[col("scams")], "1");
    snap(ui, 7, "classroom");

    // The report, as CSV and PDF.
    tap(ui, "Xuất báo cáo lớp (CSV và PDF)");
    let csv_path = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .expect("a CSV report");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.contains("Nguyễn Thị Mai Anh") && csv.contains("Lê Thị Thu"),
        "{csv}"
    );
    assert!(csv.lines().next().unwrap().contains("scams"));
    let pdf = csv_path.with_extension("pdf");
    let text = xaso_documents_testkit::pdftotext(&pdf).unwrap();
    assert!(
        text.contains("Nguyễn Thị Mai Anh") && text.contains(HELPER_NAME),
        "{text}"
    );
    assert!(g.get_notice().contains("Đã lưu báo cáo"));

    // The class is a record of the commune's learning partition (it syncs).
    let classes = app
        .with_store(|s| records::classes(s.records(), COMMUNE))
        .unwrap();
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0].learners.len(), 2);
    assert!(classes[0].learners.values().all(|e| !e.name.is_empty()));
    assert!(
        !classes[0].learners.contains_key(RESIDENT_ID),
        "keyed by the pseudonymous id"
    );
    // Signing out closes the classes.
    tap(ui, "Đóng lớp");
    tap(ui, "Quay lại");
    assert_eq!(ui.get_helper_stage(), HelperStage::Idle);
}
