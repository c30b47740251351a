//! Digital-skills lessons through the kiosk's real window, with a real commune hub: a
//! learner taps their card on kiosk A, reads a module, practises the real flow in the
//! sandbox and passes its quiz; both kiosks sync; the learner continues on kiosk B, finishes
//! the track and receives a certificate whose QR code — read back from the rendered screen —
//! verifies offline against the province's trust list and fails after any change. The
//! practice leaves no dossier anywhere; the hub holds nothing but progress.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::resident::runtime;
use common::{elements, shown, tap, test_config};

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use slint::ComponentHandle;
use xaso_hub::{Hub, HubConfig};
use xaso_kiosk::app::App;
use xaso_kiosk::chipcard::SoftCardReader;
use xaso_kiosk::clock::ManualClock;
use xaso_kiosk::lessons::{Issuer, LessonsConfig};
use xaso_kiosk::ui::{LessonMode, Lessons, Screen};
use xaso_kiosk_core::lesson::LessonView;
use xaso_sync_client::{self as client, CancellationToken, Identity, Progress, SyncClient};
use xaso_sync_core::Role;
use xaso_training::certificate::{self, IssuerKey, TrustList};
use xaso_training::pack::TrustedKey;
use xaso_training::{Library, QuestionKind};

const COMMUNE: &str = "79001";
const LEARNER: &str = "le-thi-thu";
const LEARNER_NAME: &str = "Lê Thị Thu";

fn pack_key() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}
fn certificate_key() -> SigningKey {
    SigningKey::from_bytes(&[12; 32])
}

fn library() -> Library {
    Library::from_files(&xaso_training::bundled_files()).unwrap()
}

/// The province's pack of the bundled lessons, written to `dir`.
fn pack_file(dir: &Path) -> PathBuf {
    let bytes = xaso_training::pack::build(
        &xaso_training::bundled_files(),
        "79",
        1,
        jiff::civil::date(2026, 12, 1),
        "p79-lessons",
        &pack_key(),
    )
    .unwrap();
    let path = dir.join("lessons-1.pack");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn lessons_config(pack: &Path) -> LessonsConfig {
    LessonsConfig {
        shelf: None,
        trusted: vec![TrustedKey {
            key_id: "p79-lessons".into(),
            key: pack_key().verifying_key(),
        }],
        install: Some(pack.to_owned()),
        issuer: Some(Issuer {
            kid: "p79-cert-2026".into(),
            key: certificate_key(),
            province: "79".into(),
        }),
        commune_name: "Xã Tân Thới Nhì".into(),
    }
}

struct Kiosk {
    app: App,
    _clock: ManualClock,
    _dir: tempfile::TempDir,
}

fn kiosk(identity: &Identity, pack: &Path) -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(jiff::Timestamp::now());
    let mut config = test_config(
        dir.path(),
        &identity.device_id,
        COMMUNE,
        identity.device_number.unwrap(),
    );
    config.lessons = lessons_config(pack);
    let app = shown(config, &clock, Box::new(SoftCardReader::new().unwrap()));
    Kiosk {
        app,
        _clock: clock,
        _dir: dir,
    }
}

fn sync(k: &Kiosk, rt: &tokio::runtime::Runtime, url: &str, identity: &Identity) {
    let client = SyncClient::new(url, identity).unwrap();
    k.app.with_store_mut(|s| {
        let (p, c) = (Progress::default(), CancellationToken::new());
        rt.block_on(client.sync_once(s.records_mut(), &p, &c))
            .unwrap();
    });
}

/// The lesson screens in both orientations, real renders: checked not blank, and written to
/// `$XASO_SCREENSHOTS/lessons/<orientation>/` when that is set (the pictures in
/// docs/screenshots).
fn snap(app: &App, name: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    for (orientation, w, h) in xaso_kiosk::tour::SIZES {
        app.ui.window().set_size(slint::PhysicalSize::new(w, h));
        let shot = app.ui.window().take_snapshot().unwrap();
        let img = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
            .unwrap();
        let colours: std::collections::BTreeSet<[u8; 4]> =
            img.pixels().step_by(97).map(|p| p.0).collect();
        assert!(colours.len() > 10, "{name} ({orientation}) looks blank");
        if let Some(dir) = std::env::var_os("XASO_SCREENSHOTS") {
            let dir = Path::new(&dir).join("lessons").join(orientation);
            std::fs::create_dir_all(&dir).unwrap();
            let rgb = image::DynamicImage::ImageRgba8(img).to_rgb8();
            xaso_kiosk::tour::save_png(&rgb, &dir.join(format!("{n:02}-{name}.png"))).unwrap();
        }
    }
    app.ui
        .window()
        .set_size(slint::PhysicalSize::new(1080, 6000));
}

fn view(app: &App) -> LessonView {
    app.with_shell(|s| s.lessons().journey().view().clone())
}

/// Opens a module from the list and reads every page to the last.
fn read_module(app: &App, lib: &Library, module: &str) {
    let m = lib.module(module).unwrap();
    tap(&app.ui, m.title.vi.as_str());
    let g = app.ui.global::<Lessons>();
    assert_eq!(g.get_mode(), LessonMode::Page);
    if module == "public-service-portal" {
        snap(app, "page");
        // "Read aloud" reads the page.
        tap(&app.ui, "Nghe đọc");
        let spoken = app.last_spoken().unwrap_or_default();
        assert!(
            spoken.starts_with(g.get_page_heading().as_str()),
            "{spoken}"
        );
    }
    while g.get_page_number() < g.get_page_count() {
        // The page shows its text and pictures.
        assert!(!g.get_page_heading().is_empty());
        tap(&app.ui, "Trang sau");
    }
}

thread_local! {
    static SNAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static TAP_SNAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Answers the quiz right until the pass rule is met.
fn pass_quiz(app: &App, lib: &Library) {
    tap(&app.ui, "Làm bài kiểm tra");
    let g = app.ui.global::<Lessons>();
    for _ in 0..20 {
        let LessonView::Quiz {
            module, question, ..
        } = view(app)
        else {
            break;
        };
        let q = &lib.module(&module).unwrap().questions[question];
        assert_eq!(g.get_prompt().as_str(), q.prompt.vi);
        let first = module == "public-service-portal" && !SNAPPED.with(|s| s.replace(true));
        match q.kind {
            QuestionKind::Tap => {
                let [x, y, w, h] = q.region.unwrap().0;
                g.invoke_tap((x + w / 2.0) as f32, (y + h / 2.0) as f32);
            }
            _ => {
                for c in q.choices.iter().filter(|c| c.correct) {
                    tap(&app.ui, c.text.vi.as_str());
                }
                if first {
                    snap(app, "quiz");
                }
                tap(&app.ui, "Kiểm tra đáp án");
            }
        }
        if first || (q.kind == QuestionKind::Tap && !TAP_SNAPPED.with(|s| s.replace(true))) {
            snap(
                app,
                if q.kind == QuestionKind::Tap {
                    "quiz-tap-answered"
                } else {
                    "quiz-answered"
                },
            );
        }
        assert!(g.get_answered() && g.get_correct(), "{module} {}", q.id);
        assert_eq!(g.get_explanation().as_str(), q.explanation.vi);
        tap(&app.ui, "Câu tiếp theo");
    }
    assert!(
        matches!(view(app), LessonView::Done { .. }),
        "{:?}",
        view(app)
    );
    if !DONE_SNAPPED.with(|s| s.replace(true)) {
        snap(app, "passed");
    }
}

thread_local! {
    static DONE_SNAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs the public-service portal's practice: look up a dossier's status in the sandbox.
fn practise_status(app: &App) {
    tap(&app.ui, "Thực hành trên ki-ốt");
    let g = app.ui.global::<Lessons>();
    assert!(g.get_practising());
    assert_eq!(app.ui.get_screen(), Screen::Home);
    assert!(!g.get_practice_hint().is_empty());
    tap(&app.ui, "Tra cứu hồ sơ");
    assert_eq!(app.ui.get_screen(), Screen::Status);
    // The hint gives the sample dossier's code; a wrong code finds nothing, a real one
    // would not be looked up either.
    let code = app
        .with_shell(|s| s.lessons().practice.as_ref().and_then(|r| r.sample_code()))
        .unwrap();
    assert!(
        g.get_practice_hint().contains(code.as_str()),
        "{}",
        g.get_practice_hint()
    );
    for ch in code.chars() {
        app.push(xaso_kiosk_core::Input::Key(ch));
    }
    tap(&app.ui, "Tra cứu");
    // The sample's status is shown, in the practice, until the learner leaves it.
    assert!(app.ui.get_status_found());
    assert!(g.get_practising());
    snap(app, "practice-status");
    tap(&app.ui, "Trang chủ");
    // The practice ended and the lesson goes on, with the same learner.
    assert!(!g.get_practising());
    assert_eq!(app.ui.get_screen(), Screen::Skills);
    assert_eq!(g.get_learner().as_str(), LEARNER_NAME);
}

/// Runs the kiosk lesson's practice: a whole dossier with the synthetic card, dropped.
fn practise_submit(app: &App) {
    use xaso_kiosk_core::Input as J;
    tap(&app.ui, "Thực hành trên ki-ốt");
    let g = app.ui.global::<Lessons>();
    assert!(g.get_practising());
    snap(app, "practice-home");
    tap(&app.ui, "Chạm thẻ căn cước");
    // The sandbox's own software card was read: a synthetic person, not the learner.
    assert_eq!(app.ui.get_screen(), Screen::Identify);
    assert_eq!(
        app.with_shell(|s| s
            .journey()
            .card()
            .and_then(|c| c.full_name().map(str::to_owned)))
            .as_deref(),
        Some("Nguyễn Văn Học")
    );
    tap(&app.ui, "Tiếp tục");
    assert_eq!(app.ui.get_screen(), Screen::Services);
    app.push(J::ChooseProcedure("marital-status-certificate".into()));
    app.push(J::ChooseValue {
        field: "current_status".into(),
        value: "never_married".into(),
    });
    app.push(J::ChooseValue {
        field: "purpose".into(),
        value: "marriage".into(),
    });
    app.push(J::FormNext);
    assert_eq!(
        app.ui.get_screen(),
        Screen::Papers,
        "{:?}",
        app.with_shell(|s| s.journey().form().map(|f| format!("{:?}", f)))
    );
    tap(&app.ui, "Tiếp theo: xem lại");
    tap(
        &app.ui,
        "Tôi đồng ý cho cơ quan giải quyết thủ tục sử dụng thông tin trên",
    );
    snap(app, "practice-review");
    tap(&app.ui, "Gửi hồ sơ");
    // The receipt of the practice, until the learner leaves it.
    assert_eq!(app.ui.get_screen(), Screen::Receipt);
    assert!(g.get_practising());
    tap(&app.ui, "Trang chủ");
    assert!(!g.get_practising());
    assert_eq!(app.ui.get_screen(), Screen::Skills);
    assert_eq!(g.get_learner().as_str(), LEARNER_NAME);
}

fn place_learner_card(app: &App) {
    app.place_card(LEARNER);
    let g = app.ui.global::<Lessons>();
    assert_eq!(g.get_learner().as_str(), LEARNER_NAME);
}

fn trust_list() -> TrustList {
    TrustList {
        issued: jiff::civil::date(2026, 11, 1),
        keys: vec![IssuerKey {
            kid: "p79-cert-2026".into(),
            province: "79".into(),
            public_key: hex::encode(certificate_key().verifying_key().to_bytes()),
            valid_from: jiff::civil::date(2026, 1, 1),
            valid_until: None,
        }],
    }
}

/// The QR code on the window, decoded from its pixels.
fn qr_on_screen(app: &App) -> String {
    let shot = app.ui.window().take_snapshot().unwrap();
    let (w, h) = (shot.width() as usize, shot.height() as usize);
    let luma: Vec<u8> = shot
        .as_slice()
        .iter()
        .map(|p| {
            ((u32::from(p.r) * 299 + u32::from(p.g) * 587 + u32::from(p.b) * 114) / 1000) as u8
        })
        .collect();
    xaso_idcard::qr::decode_luma(w, h, &luma).unwrap()
}

#[test]
fn a_learner_continues_on_another_kiosk_and_gets_a_certificate_an_officer_verifies_offline() {
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
    let (a_id, b_id) = (enrol(Role::Kiosk), enrol(Role::Kiosk));
    let packs = tempfile::tempdir().unwrap();
    let pack = pack_file(packs.path());
    let lib = library();

    // Kiosk A: the learner taps their card on the lessons screen, takes the portal module
    // with its practice and quiz, and the VNeID module's quiz.
    let a = kiosk(&a_id, &pack);
    tap(&a.app.ui, "Học kỹ năng số");
    assert_eq!(a.app.ui.get_screen(), Screen::Skills);
    place_learner_card(&a.app);
    snap(&a.app, "list");
    assert!(
        !elements(
            &a.app.ui,
            lib.module("vneid-account").unwrap().title.vi.as_str()
        )
        .is_empty()
    );
    read_module(&a.app, &lib, "public-service-portal");
    practise_status(&a.app);
    pass_quiz(&a.app, &lib);
    tap(&a.app.ui, "Danh sách bài học");
    read_module(&a.app, &lib, "vneid-account");
    pass_quiz(&a.app, &lib);
    let progress_a = a
        .app
        .with_shell(|s| s.lessons().journey().progress().clone());
    assert!(
        progress_a.is_mastered("public-service-portal")
            && progress_a.practices.contains_key("public-service-portal")
    );
    tap(&a.app.ui, "Trang chủ");

    sync(&a, &rt, &url, &a_id);

    // Kiosk B: the same learner continues where they stopped.
    let b = kiosk(&b_id, &pack);
    sync(&b, &rt, &url, &b_id);
    tap(&b.app.ui, "Học kỹ năng số");
    place_learner_card(&b.app);
    let progress_b = b
        .app
        .with_shell(|s| s.lessons().journey().progress().clone());
    assert_eq!(
        progress_b.answers.len(),
        progress_a.answers.len(),
        "every answer of kiosk A arrived"
    );
    assert!(progress_b.is_mastered("vneid-account"));
    for module in ["kiosk-dossier", "digital-signature", "insurance-online"] {
        read_module(&b.app, &lib, module);
        if module == "kiosk-dossier" {
            practise_submit(&b.app);
        }
        pass_quiz(&b.app, &lib);
        if module != "insurance-online" {
            tap(&b.app.ui, "Danh sách bài học");
        }
    }
    // The track is finished: the certificate.
    tap(&b.app.ui, "Nhận giấy chứng nhận");
    let g = b.app.ui.global::<Lessons>();
    assert_eq!(g.get_mode(), LessonMode::Certificate);
    assert_eq!(g.get_certificate_name().as_str(), LEARNER_NAME);
    snap(&b.app, "certificate");
    let code = qr_on_screen(&b.app);
    assert!(code.starts_with("XSC1:"));

    // An officer's device verifies it offline, with only the trust list.
    let today = jiff::civil::date(2026, 12, 3)
        .max(xaso_services::calendar::vietnam_date(jiff::Timestamp::now()));
    let verified = certificate::verify(&code, &trust_list(), today).unwrap();
    assert_eq!(verified.certificate.name, LEARNER_NAME);
    assert_eq!(verified.certificate.track, "public-services");
    assert_eq!(verified.certificate.commune, COMMUNE);
    let mut changed: Vec<char> = code.chars().collect();
    let i = changed.len() / 2;
    changed[i] = if changed[i] == 'A' { 'B' } else { 'A' };
    assert!(
        certificate::verify(
            &changed.into_iter().collect::<String>(),
            &trust_list(),
            today
        )
        .is_err()
    );

    // The PDF of the certificate carries the same credential.
    tap(&b.app.ui, "Lưu giấy chứng nhận (PDF)");
    let saved = b
        .app
        .with_shell(|s| s.lessons().certificate_saved.clone())
        .unwrap();
    assert!(std::fs::read(&saved).unwrap().starts_with(b"%PDF"));

    // Both kiosks sync; no practice left a dossier anywhere; the hub holds the progress.
    sync(&b, &rt, &url, &b_id);
    sync(&a, &rt, &url, &a_id);
    for k in [&a, &b] {
        assert!(k.app.with_store(|s| s.dossiers()).unwrap().is_empty());
    }
    let (dossiers, ratings) = hub.commune_records(COMMUNE).unwrap();
    assert!(dossiers.is_empty() && ratings.is_empty());
    let on_a = a.app.with_store(|s| {
        xaso_kiosk::lessons::records::load_progress(
            s.records(),
            COMMUNE,
            &xaso_training::progress::learner_id("038175004321"),
        )
    });
    let on_a = on_a.unwrap().unwrap();
    assert!(
        on_a.certificates.contains_key("public-services"),
        "the certificate reached kiosk A"
    );
    assert_eq!(
        on_a.answers.len(),
        b.app
            .with_shell(|s| s.lessons().journey().progress().answers.len())
    );

    // Both kiosks, not yet synced, take answers of the same learner at the same time; after
    // syncing both hold every answer of both.
    let before = on_a.answers.len();
    tap(&a.app.ui, "Học kỹ năng số");
    place_learner_card(&a.app);
    tap(&b.app.ui, "Danh sách bài học");
    for (k, module) in [(&a, "scams"), (&b, "smartphone-basics")] {
        tap(&k.app.ui, lib.module(module).unwrap().title.vi.as_str());
        // (The quiz straight from the first page: the journey allows it.)
        k.app.ui.global::<Lessons>().invoke_start_quiz();
        let LessonView::Quiz { question, .. } = view(&k.app) else {
            panic!("no quiz")
        };
        let q = &lib.module(module).unwrap().questions[question];
        let wrong = q.choices.iter().find(|c| !c.correct).unwrap();
        tap(&k.app.ui, wrong.text.vi.as_str());
        tap(&k.app.ui, "Kiểm tra đáp án");
    }
    sync(&a, &rt, &url, &a_id);
    sync(&b, &rt, &url, &b_id);
    sync(&a, &rt, &url, &a_id);
    let learner = xaso_training::progress::learner_id("038175004321");
    for k in [&a, &b] {
        let stored = k
            .app
            .with_store(|s| {
                xaso_kiosk::lessons::records::load_progress(s.records(), COMMUNE, &learner)
            })
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.answers.len(),
            before + 2,
            "no answer lost in the merge"
        );
        assert!(stored.answers.values().any(|x| x.module == "scams"));
        assert!(
            stored
                .answers
                .values()
                .any(|x| x.module == "smartphone-basics")
        );
        assert!(stored.certificates.contains_key("public-services"));
    }
}

/// Every practice step and tap question names a screen the kiosk has and an element on it
/// (its translation key is used in that screen's file, so the element's accessible label is
/// that text).
#[test]
fn practice_steps_and_tap_questions_name_real_screens_and_elements() {
    let ui_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/screens");
    let translations = xaso_i18n::Translations::bundled().unwrap();
    let lib = library();
    let mut checked = 0;
    for m in lib.modules() {
        let steps = m.practice.iter().flat_map(|p| {
            p.steps
                .iter()
                .map(|s| (s.screen.as_str(), s.element.as_str()))
        });
        let taps = m
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Tap)
            .map(|q| (q.screen.as_deref().unwrap(), q.element.as_deref().unwrap()));
        for (screen, element) in steps.chain(taps) {
            assert!(
                xaso_kiosk::lessons::practice::screen_named(screen).is_some(),
                "{}: screen {screen}",
                m.id
            );
            let source = std::fs::read_to_string(ui_dir.join(format!("{screen}.slint"))).unwrap();
            assert!(
                source.contains(&format!("@tr(\"{element}\"")),
                "{}: {element} is not on {screen}",
                m.id
            );
            assert!(
                translations.has(xaso_i18n::Lang::Vi, element),
                "{}: no text for {element}",
                m.id
            );
            checked += 1;
        }
        if let Some(p) = &m.practice
            && let Some(code) = &p.procedure
        {
            assert!(
                xaso_services::Catalog::bundled()
                    .unwrap()
                    .procedure(code)
                    .is_some(),
                "{}: {code}",
                m.id
            );
        }
    }
    assert!(checked >= 10, "{checked}");
}

/// Every tap question's region covers its element where the kiosk really draws it: the
/// kiosk is driven to the question's screen in the picture's size (landscape 1920×1080),
/// the element found by its text, and its centre must lie in the region, which must not be
/// much larger than the element.
#[test]
fn tap_regions_cover_their_elements_on_the_real_screens() {
    use xaso_kiosk_core::Input as J;
    let translations = xaso_i18n::Translations::bundled().unwrap();
    let lib = library();
    let taps: Vec<_> = lib
        .modules()
        .flat_map(|m| {
            m.questions
                .iter()
                .filter(|q| q.kind == QuestionKind::Tap)
                .map(move |q| (m.id.clone(), q.clone()))
        })
        .collect();
    assert!(taps.len() >= 3);
    let dir = tempfile::tempdir().unwrap();
    xaso_kiosk::demo::write_sample_papers(&dir.path().join("papers")).unwrap();
    let clock = ManualClock::new("2026-11-23T02:30:00Z".parse().unwrap());
    let app = shown(
        test_config(dir.path(), "kiosk-regions", COMMUNE, 4),
        &clock,
        Box::new(SoftCardReader::new().unwrap()),
    );
    let (w, h) = (1920.0f32, 1080.0f32);
    for screen in ["home", "identify", "status", "receipt"] {
        // Drive the kiosk to the screen, as in the picture.
        match screen {
            "home" => {}
            "identify" => {
                tap(&app.ui, "Chạm thẻ căn cước");
                tap(&app.ui, "Thẻ mẫu: Nguyễn Thị Mai Anh");
            }
            "status" => {
                app.push(J::GoHome);
                app.push(J::Open(xaso_kiosk_core::Screen::Status));
            }
            _ => {
                app.push(J::GoHome);
                common::resident::open_birth_form_with_card(&app.ui);
                common::resident::fill_birth_form(&app.ui);
                common::resident::papers_review_submit(&app.ui);
            }
        }
        app.ui
            .window()
            .set_size(slint::PhysicalSize::new(w as u32, h as u32));
        let _ = app.ui.window().take_snapshot();
        for (module, q) in taps
            .iter()
            .filter(|(_, q)| q.screen.as_deref() == Some(screen))
        {
            let key = q.element.as_deref().unwrap();
            let text = translations.get(xaso_i18n::Lang::Vi, key, &[]);
            let found = elements(&app.ui, &text);
            let e = found
                .first()
                .unwrap_or_else(|| panic!("{module} {}: no element {text:?} on {screen}", q.id));
            let (p, s) = (e.absolute_position(), e.size());
            let (cx, cy) = ((p.x + s.width / 2.0) / w, (p.y + s.height / 2.0) / h);
            let region = q.region.unwrap();
            assert!(
                region.contains(f64::from(cx), f64::from(cy)),
                "{module} {}: the centre of {text:?} ({cx:.3}, {cy:.3}) is outside {:?}",
                q.id,
                region.0
            );
            let [_, _, rw, rh] = region.0;
            let element_area = f64::from(s.width / w) * f64::from(s.height / h);
            assert!(
                rw * rh <= element_area * 4.0 + 0.01,
                "{module} {}: region {:?} much larger than the element",
                q.id,
                region.0
            );
        }
        app.ui
            .window()
            .set_size(slint::PhysicalSize::new(1080, 6000));
    }
}
