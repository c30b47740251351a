//! The officer's screenshot tour renders every officer screen of a sample commune at both
//! tablet sizes, with the software renderer and no display; the pictures are real renders
//! (not blank, different from one another). The sync screen shows the portal's refusals
//! with their reasons, the dossier with an earlier result names it and says it is a PDF, and
//! the dashboard shows the month's charts with their figures as text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use i_slint_backend_testing::ElementHandle;
use slint::Model;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::SystemClock;
use xaso_kiosk::officer::shell::{OfficerInput as I, OfficerParts, OfficerView};
use xaso_kiosk::officer::tour::{TABLET_SIZES, sample_link, sample_trust_list, screenshots, seed};
use xaso_kiosk::qr_pictures::NoQrPictures;
use xaso_kiosk::tour::Headless;
use xaso_kiosk::ui::OfficerWindow;
use xaso_kiosk_core::signin::PinPolicy;

/// The accessible value of the one element labelled `label` (the window drawn first, tall
/// enough that every scrolled row exists).
fn value_of(headless: &Headless, ui: &OfficerWindow, label: &str) -> String {
    headless.render(1280, 3000);
    let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(ui, label).collect();
    assert_eq!(found.len(), 1, "one element labelled {label:?}");
    found[0].accessible_value().unwrap_or_default().to_string()
}

fn exists(headless: &Headless, ui: &OfficerWindow, label: &str) -> bool {
    headless.render(1280, 3000);
    ElementHandle::find_by_accessible_label(ui, label)
        .next()
        .is_some()
}

#[test]
fn every_officer_screen_renders_at_both_tablet_sizes() {
    let headless = Headless::install().unwrap();
    let store = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now();
    seed(store.path(), "79001", now).unwrap();
    let translations = xaso_i18n::Translations::bundled().unwrap();
    let catalog = xaso_services::Catalog::bundled_with(&translations).unwrap();
    let app = xaso_kiosk::officer::build(
        OfficerWindow::new().unwrap(),
        OfficerParts {
            store_dir: store.path().to_owned(),
            commune: "79001".into(),
            device_id: "tablet-1".into(),
            translations,
            catalog,
            clock: Box::new(SystemClock),
            card: Box::new(SoftCardReader::new().unwrap()),
            link: sample_link("79001", now).unwrap(),
            policy: PinPolicy {
                argon2_memory_kib: 64,
                argon2_passes: 1,
                ..PinPolicy::default()
            },
            commune_name: "Xã Tân Thới Nhì".into(),
            officer_title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".into(),
            signing: None,
            trust_list: Some(
                sample_trust_list(xaso_services::calendar::vietnam_date(now)).unwrap(),
            ),
            library: xaso_training::Library::from_files(&xaso_training::bundled_files()).unwrap(),
            qr_pictures: Box::new(NoQrPictures),
        },
    )
    .unwrap();
    // `$XASO_SCREENSHOTS/officer/<size>/` when that is set (the pictures in docs/screenshots).
    let out = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("XASO_SCREENSHOTS").map_or_else(
        || out.path().to_owned(),
        |d| std::path::PathBuf::from(d).join("officer"),
    );
    let written = screenshots(&app, &headless, &dir).unwrap();
    assert_eq!(written.len(), 11 * TABLET_SIZES.len(), "{written:?}");
    // The tour ends signed in, on the certificates page with a valid certificate checked,
    // with the conflict and the sample queue.
    assert_eq!(app.with_shell(|s| s.view()), OfficerView::Certificates);
    assert_eq!(
        value_of(&headless, &app.ui, "Kết quả kiểm tra"),
        "HỢP LỆ: do tỉnh cấp, nội dung không bị sửa"
    );
    assert_eq!(
        value_of(&headless, &app.ui, "Họ và tên"),
        "Nguyễn Thị Mai Anh"
    );
    assert_eq!(
        value_of(&headless, &app.ui, "Chương trình học"),
        "Dịch vụ công trực tuyến"
    );
    assert_eq!(
        value_of(&headless, &app.ui, "Nơi cấp"),
        "Xã Tân Thới Nhì (mã 79001)"
    );
    assert_eq!(app.ui.get_conflicts(), 1);
    assert!(app.ui.get_open_count() >= 6);
    let mut seen = BTreeSet::new();
    for path in &written {
        let img = image::open(path).unwrap().to_rgb8();
        let size = TABLET_SIZES
            .iter()
            .find(|(name, ..)| path.to_string_lossy().contains(name))
            .unwrap();
        assert_eq!((img.width(), img.height()), (size.1, size.2));
        let colours: BTreeSet<[u8; 3]> = img.pixels().step_by(97).map(|p| p.0).collect();
        assert!(colours.len() > 20, "{} looks blank", path.display());
        seen.insert(img.into_raw());
    }
    assert_eq!(seen.len(), written.len(), "every picture differs");

    // The conflict, through the window: both decisions shown with who and when; every
    // action waits; keeping one settles it and the queue's conflict count drops.
    app.push(I::Open(OfficerView::Queue));
    let id = app.with_shell(|s| {
        let r = s.queue().rows.iter().find(|r| r.conflict).unwrap();
        format!("{}|{}", r.partition, r.record_id)
    });
    app.push(I::OpenDossier(id));
    let decisions = app.ui.get_decisions();
    assert_eq!(decisions.row_count(), 2);
    let outcomes: Vec<String> = (0..2)
        .map(|i| decisions.row_data(i).unwrap().outcome.to_string())
        .collect();
    assert!(outcomes.contains(&"Đã duyệt".to_owned()), "{outcomes:?}");
    assert!(
        outcomes.contains(&"Không giải quyết".to_owned()),
        "{outcomes:?}"
    );
    let rejected = outcomes
        .iter()
        .position(|o| o == "Không giải quyết")
        .unwrap();
    assert!(
        decisions
            .row_data(rejected)
            .unwrap()
            .who
            .contains("tablet-3")
    );
    assert_eq!(
        app.ui.get_actions().row_count(),
        0,
        "nothing else until one is kept"
    );
    app.ui
        .invoke_keep_decision(i32::try_from(rejected).unwrap());
    assert_eq!(app.ui.get_decisions().row_count(), 0);
    assert_eq!(app.ui.get_dossier_state(), "Không giải quyết");
    assert!(app.ui.get_actions().row_count() > 0, "the dossier goes on");
    app.push(I::Open(OfficerView::Queue));
    assert_eq!(app.ui.get_conflicts(), 0);

    // The sync screen: the portal's section, each refused packet with the portal's reason
    // and a button of its own, and "send all again".
    app.push(I::Open(OfficerView::Sync));
    assert_eq!(
        value_of(&headless, &app.ui, "Gửi hồ sơ lên Cổng dịch vụ công"),
        "3 hồ sơ chờ gửi lên cổng"
    );
    let dead = app.ui.get_dead_letters();
    assert_eq!(dead.row_count(), 2);

    let first = dead.row_data(0).unwrap();
    assert_eq!(
        value_of(&headless, &app.ui, &first.code),
        "Mã lỗi 01: SoDinhDanh: 07919000012: not a 12-digit ID number"
    );
    assert!(exists(
        &headless,
        &app.ui,
        &format!("Gửi lại {}", first.code)
    ));
    assert!(exists(&headless, &app.ui, "Gửi lại tất cả"));
    assert_eq!(
        value_of(&headless, &app.ui, "Lỗi gần nhất khi gửi lên cổng"),
        "HTTP 503 Service Unavailable"
    );

    // The dossier with a result issued earlier: named as such, a PDF with its size.
    app.push(I::Open(OfficerView::Queue));
    let id = app.with_shell(|s| {
        let r = s
            .queue()
            .rows
            .iter()
            .find(|r| r.full_name == "Trần Văn Hùng")
            .unwrap();
        format!("{}|{}", r.partition, r.record_id)
    });
    app.push(I::OpenDossier(id));
    let pdf = value_of(&headless, &app.ui, "Kết quả đã cấp trước đây (từ Cổng DVC)");
    assert!(pdf.starts_with("Tài liệu PDF, 1 kB."), "{pdf}");
    assert!(app.ui.get_pages().iter().any(|p| p.document));

    // The dashboard: the month's three charts, drawn, with their figures as text.
    app.push(I::Open(OfficerView::Dashboard));
    let charts = app.ui.get_charts();
    assert_eq!(charts.row_count(), 3);
    for c in charts.iter() {
        assert_eq!(c.image.size().width, 1200, "{}", c.title);
        assert!(!c.summary.is_empty());
    }
    let submitted = value_of(
        &headless,
        &app.ui,
        "Hồ sơ tiếp nhận trong tháng theo thủ tục và kênh nộp",
    );
    assert!(
        submitted.contains("hồ sơ tiếp nhận trong tháng"),
        "{submitted}"
    );
    assert_eq!(
        value_of(&headless, &app.ui, "Mức độ hài lòng trong tháng"),
        "71% hài lòng trở lên trên 7 đánh giá (chỉ tiêu 95% và 99%)."
    );
    assert!(value_of(&headless, &app.ui, "Giải quyết đúng hạn trong tháng").contains("quá hạn"));
    // Drawn once for the store as it is: opening the dashboard again draws nothing new.
    let drawn = || app.with_shell(|s| s.charts().unwrap().charts[0].png.as_ptr() as usize);
    let before = drawn();
    app.push(I::Open(OfficerView::Queue));
    app.push(I::Open(OfficerView::Dashboard));
    assert_eq!(drawn(), before);
}
