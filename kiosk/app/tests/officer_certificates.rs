//! The officer's tablet checks a learner's digital-skills certificate offline, through its
//! real window: the officer signs in (the roster from a real commune hub, a PIN), opens
//! "Giấy chứng nhận" in the nav bar and scans the certificate's QR code — typed by a
//! keyboard-wedge scanner, or read from the newest picture in the tablet's QR pictures
//! directory. The verdict is read back through accessible labels: valid (with what the
//! certificate holds and the key that signed it), valid with a warning when the trust list is
//! old, refused after one changed character or for a key missing from the list (saying
//! whether the list is old), and a tablet without a trust list says it cannot check and why.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::officer::{officer_with, pin};
use common::resident::runtime;
use common::{elements, tap, value_of, wedge_scan};

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::SigningKey;
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use xaso_hub::{Hub, HubConfig};
use xaso_kiosk::officer::app::OfficerApp;
use xaso_kiosk::officer::shell::{OfficerInput as I, OfficerView};
use xaso_kiosk::qr_pictures::QrPictureDirectory;
use xaso_kiosk::ui::OfficerScreen;
use xaso_services::calendar::vietnam_date;
use xaso_services::roster::StaffRole;
use xaso_sync_client as client;
use xaso_sync_core::Role;
use xaso_training::certificate::{self, Certificate, IssuerKey, TrustList};

const COMMUNE: &str = "79001";
const OFFICER_ID: &str = "038175004321";
const OFFICER_NAME: &str = "Lê Thị Thu";
const LEARNER: &str = "Hờ Văn Pao";
const KID: &str = "p79-cert-2026";

const VERDICT: &str = "Kết quả kiểm tra";
const EXPLANATION: &str = "Giải thích";
const VALID: &str = "HỢP LỆ: do tỉnh cấp, nội dung không bị sửa";
const WARNING: &str = "HỢP LỆ, CÓ LƯU Ý: chữ ký đúng, nhưng danh sách khóa đã cũ";
const REFUSED: &str = "KHÔNG HỢP LỆ: không công nhận giấy chứng nhận này";

fn province_key() -> SigningKey {
    SigningKey::from_bytes(&[12; 32])
}

fn today() -> Date {
    vietnam_date(Timestamp::now())
}

fn days_ago(n: i64) -> Date {
    today().checked_sub(Span::new().days(n)).unwrap()
}

/// The province's trust list, published `age` days ago, holding the key `KID`.
fn trust_list(age: i64) -> TrustList {
    TrustList {
        issued: days_ago(age),
        keys: vec![IssuerKey {
            kid: KID.into(),
            province: "79".into(),
            public_key: hex::encode(province_key().verifying_key().to_bytes()),
            valid_from: days_ago(365),
            valid_until: None,
        }],
    }
}

/// A learner's certificate for the track `public-services`, finished yesterday, signed now.
fn credential(key: &SigningKey, kid: &str) -> String {
    let c = Certificate {
        id: "kiosk-7-3".into(),
        name: LEARNER.into(),
        track: "public-services".into(),
        date: days_ago(1),
        commune: COMMUNE.into(),
        province: "79".into(),
        issued_at: Timestamp::now().as_second(),
    };
    certificate::issue(&c, kid, key).unwrap()
}

/// `code` with one character changed (to another character of the base45 alphabet).
fn one_changed(code: &str) -> String {
    let at = code.len() / 2;
    let was = code.as_bytes()[at];
    let now = if was == b'A' { 'B' } else { 'A' };
    let mut changed = code.to_owned();
    changed.replace_range(at..=at, &now.to_string());
    assert_ne!(changed, code);
    changed
}

struct Tablet {
    o: OfficerApp,
    /// The QR pictures directory of the tablet.
    qr: PathBuf,
    _dir: tempfile::TempDir,
    _hub_dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

/// An officer tablet enrolled at a real hub (the roster comes from there), with `trust` as its
/// trust list and the bundled lessons; its officer signed in (choosing a PIN) and on the
/// certificates page, opened from the nav bar.
fn tablet(trust: Option<TrustList>) -> Tablet {
    let rt = runtime();
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(hub_dir.path().join("hub"))).unwrap();
    let (addr, _handle) = rt
        .block_on(hub.clone().spawn("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let url = format!("https://127.0.0.1:{}", addr.port());
    let code = hub
        .create_enrolment_code(Role::Officer, &[COMMUNE], Duration::from_secs(600))
        .unwrap();
    let identity = rt
        .block_on(client::enrol(&url, hub.ca_pem(), &code))
        .unwrap();
    hub.roster_put(COMMUNE, OFFICER_ID, OFFICER_NAME, StaffRole::Officer)
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let qr = dir.path().join("qr");
    std::fs::create_dir_all(&qr).unwrap();
    let pictures = qr.clone();
    let o = officer_with(
        &dir.path().join("store"),
        &url,
        &identity,
        COMMUNE,
        false,
        move |parts| {
            parts.trust_list = trust;
            parts.library =
                xaso_training::Library::from_files(&xaso_training::bundled_files()).unwrap();
            parts.qr_pictures = Box::new(QrPictureDirectory::new(&pictures));
        },
    );
    // The first sync brings the roster.
    let started = Instant::now();
    while o.with_shell(|s| s.link().syncs) < 1 {
        assert!(started.elapsed() < Duration::from_secs(60), "no sync");
        o.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
    // Signed out: no nav bar, and the page does not open.
    assert!(elements(&o.ui, "Giấy chứng nhận").is_empty());
    o.push(I::Open(OfficerView::Certificates));
    assert_eq!(o.ui.get_screen(), OfficerScreen::SignIn);

    tap(&o.ui, OFFICER_NAME);
    pin(&o, "271828");
    pin(&o, "271828");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Queue);
    tap(&o.ui, "Giấy chứng nhận");
    assert_eq!(o.ui.get_screen(), OfficerScreen::Certificates);
    Tablet {
        o,
        qr,
        _dir: dir,
        _hub_dir: hub_dir,
        _rt: rt,
    }
}

impl Tablet {
    /// Writes a picture of `code`'s QR code into the pictures directory as the newest one.
    fn photograph(&self, name: &str, code: &str, age: Duration) {
        let path = self.qr.join(name);
        std::fs::write(&path, xaso_kiosk::qrscan::qr_png(code, 4).unwrap()).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(SystemTime::now() - age)
            .unwrap();
    }

    fn verdict(&self) -> String {
        value_of(&self.o.ui, VERDICT)
    }

    fn explanation(&self) -> String {
        value_of(&self.o.ui, EXPLANATION)
    }

    /// What the certificate holds, as the page lists it.
    fn holds(&self, label: &str) -> String {
        value_of(&self.o.ui, label)
    }

    fn shows_nothing_of_a_certificate(&self) -> bool {
        elements(&self.o.ui, "Họ và tên").is_empty()
            && elements(&self.o.ui, "Số giấy chứng nhận").is_empty()
    }
}

#[test]
fn a_certificate_scanned_or_photographed_verifies_and_any_change_is_refused() {
    let t = tablet(Some(trust_list(3)));
    let ui = &t.o.ui;
    let good = credential(&province_key(), KID);
    assert!(elements(ui, VERDICT).is_empty(), "no verdict before a scan");
    assert_eq!(
        value_of(ui, "Mã quét được từ giấy chứng nhận"),
        "",
        "the scanner's field is there, empty"
    );

    // The wedge scanner types the code and Enter into the focused field.
    wedge_scan(ui, &good);
    assert_eq!(t.verdict(), VALID);
    assert!(
        elements(ui, EXPLANATION).is_empty(),
        "nothing to warn about"
    );
    assert_eq!(t.holds("Họ và tên"), LEARNER);
    assert_eq!(t.holds("Chương trình học"), "Dịch vụ công trực tuyến");
    assert_eq!(
        t.holds("Ngày hoàn thành"),
        xaso_i18n::format_date(days_ago(1))
    );
    assert_eq!(t.holds("Nơi cấp"), "Xã Tân Thới Nhì (mã 79001)");
    assert_eq!(t.holds("Số giấy chứng nhận"), "kiosk-7-3");
    assert_eq!(t.holds("Khóa đã ký"), "p79-cert-2026, khóa của tỉnh mã 79");
    assert_eq!(
        ui.get_certificate_verdict(),
        xaso_kiosk::ui::CertificateVerdict::Valid
    );

    // One changed character: refused, and nothing of the learner stays on screen.
    wedge_scan(ui, &one_changed(&good));
    assert_eq!(t.verdict(), REFUSED);
    assert!(t.explanation().contains("đã bị sửa"), "{}", t.explanation());
    assert!(t.shows_nothing_of_a_certificate());

    // "Read the newest picture": none yet, then a picture of the good code, then a newer one
    // of the changed code.
    tap(ui, "Đọc ảnh mới nhất");
    assert_eq!(t.verdict(), "CHƯA ĐỌC ĐƯỢC MÃ");
    assert!(
        t.explanation().starts_with("Chưa có ảnh nào để đọc"),
        "{}",
        t.explanation()
    );
    t.photograph("good.png", &good, Duration::from_secs(60));
    tap(ui, "Đọc ảnh mới nhất");
    assert_eq!(t.verdict(), VALID);
    assert_eq!(t.holds("Họ và tên"), LEARNER);
    t.photograph("changed.png", &one_changed(&good), Duration::ZERO);
    tap(ui, "Đọc ảnh mới nhất");
    assert_eq!(t.verdict(), REFUSED);
    assert!(t.explanation().contains("đã bị sửa"), "{}", t.explanation());
    assert!(t.shows_nothing_of_a_certificate());
    // The scanner's field kept the focus through the picture: a scan still lands there.
    wedge_scan(ui, &good);
    assert_eq!(t.verdict(), VALID);

    // Signed with a key the province's list does not hold; the list is recent.
    let stranger = credential(&SigningKey::from_bytes(&[13; 32]), "p01-cert-2026");
    wedge_scan(ui, &stranger);
    assert_eq!(t.verdict(), REFUSED);
    assert_eq!(
        t.explanation(),
        "Giấy được ký bằng khóa «p01-cert-2026», khóa này không có trong danh sách khóa của \
         tỉnh trên máy. Danh sách vẫn mới, nên không công nhận được giấy này."
    );
    assert!(t.shows_nothing_of_a_certificate());

    // Not a certificate at all.
    wedge_scan(ui, "https://dichvucong.gov.vn/");
    assert_eq!(t.verdict(), REFUSED);
    assert_eq!(
        t.explanation(),
        "Đây không phải mã giấy chứng nhận của Xã Số."
    );

    // Leaving the page and coming back starts afresh; signing out forgets the last check.
    wedge_scan(ui, &good);
    assert_eq!(t.verdict(), VALID);
    tap(ui, "Hàng đợi");
    tap(ui, "Giấy chứng nhận");
    assert!(elements(ui, VERDICT).is_empty());
    wedge_scan(ui, &good);
    assert_eq!(t.verdict(), VALID);
    tap(ui, "Đăng xuất");
    assert_eq!(ui.get_screen(), OfficerScreen::SignIn);
    assert!(t.o.with_shell(|s| s.certificate().is_none()));
}

#[test]
fn with_an_old_trust_list_a_valid_certificate_warns_and_an_unknown_key_asks_for_an_update() {
    let t = tablet(Some(trust_list(45)));
    let ui = &t.o.ui;
    assert!(
        !elements(
            ui,
            &format!(
                "Danh sách khóa của tỉnh trên máy: ngày {}",
                xaso_i18n::format_date(days_ago(45))
            )
        )
        .is_empty(),
        "the page says how old its list is"
    );

    // A picture of a good certificate: valid, with the warning as words, not only colour.
    t.photograph(
        "good.png",
        &credential(&province_key(), KID),
        Duration::ZERO,
    );
    tap(ui, "Đọc ảnh mới nhất");
    assert_eq!(t.verdict(), WARNING);
    assert_eq!(
        t.explanation(),
        "Danh sách khóa của tỉnh trên máy đã 45 ngày chưa cập nhật: hãy cập nhật danh sách sớm."
    );
    assert_eq!(t.holds("Họ và tên"), LEARNER);
    assert_eq!(t.holds("Khóa đã ký"), "p79-cert-2026, khóa của tỉnh mã 79");

    // A key the old list does not hold (a newer key of the province, perhaps): update first.
    let newer = credential(&SigningKey::from_bytes(&[14; 32]), "p79-cert-2027");
    wedge_scan(ui, &newer);
    assert_eq!(t.verdict(), REFUSED);
    assert_eq!(
        t.explanation(),
        "Giấy được ký bằng khóa «p79-cert-2027», khóa này không có trong danh sách khóa của \
         tỉnh trên máy. Danh sách đã 45 ngày chưa cập nhật: hãy cập nhật danh sách rồi kiểm \
         tra lại."
    );
    assert!(t.shows_nothing_of_a_certificate());
}

#[test]
fn without_a_trust_list_the_page_says_certificates_cannot_be_checked_and_why() {
    let t = tablet(None);
    let ui = &t.o.ui;
    let why = value_of(ui, "Không kiểm tra được giấy chứng nhận");
    assert!(
        why.starts_with("Máy này chưa được cài danh sách khóa của tỉnh"),
        "{why}"
    );
    assert!(why.contains("--trust-list"), "{why}");
    // Nothing to scan into and no picture to read.
    assert!(elements(ui, "Mã quét được từ giấy chứng nhận").is_empty());
    assert!(elements(ui, "Đọc ảnh mới nhất").is_empty());
    // A code arriving anyway checks nothing.
    t.photograph(
        "good.png",
        &credential(&province_key(), KID),
        Duration::ZERO,
    );
    t.o.push(I::CertificateText(credential(&province_key(), KID)));
    t.o.push(I::CertificatePicture);
    assert!(t.o.with_shell(|s| s.certificate().is_none()));
    assert!(elements(ui, VERDICT).is_empty());
}
