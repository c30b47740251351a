//! The officer's screenshot tour renders every officer screen of a sample commune at both
//! tablet sizes, with the software renderer and no display; the pictures are real renders
//! (not blank, different from one another).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use slint::Model;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::SystemClock;
use xaso_kiosk::officer::link::OfficerLink;
use xaso_kiosk::officer::shell::{OfficerInput as I, OfficerParts, OfficerView};
use xaso_kiosk::officer::tour::{TABLET_SIZES, screenshots, seed};
use xaso_kiosk::tour::Headless;
use xaso_kiosk::ui::OfficerWindow;
use xaso_kiosk_core::signin::PinPolicy;

#[test]
fn every_officer_screen_renders_at_both_tablet_sizes() {
    let headless = Headless::install().unwrap();
    let store = tempfile::tempdir().unwrap();
    seed(store.path(), "79001", jiff::Timestamp::now()).unwrap();
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
            link: OfficerLink::none(),
            policy: PinPolicy {
                argon2_memory_kib: 64,
                argon2_passes: 1,
                ..PinPolicy::default()
            },
            commune_name: "Xã Tân Thới Nhì".into(),
            officer_title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH".into(),
            signing: None,
        },
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let written = screenshots(&app, &headless, out.path()).unwrap();
    assert_eq!(written.len(), 9 * TABLET_SIZES.len(), "{written:?}");
    // The tour ends signed in, on the dashboard, with the conflict and the sample queue.
    assert_eq!(app.with_shell(|s| s.view()), OfficerView::Dashboard);
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
}
