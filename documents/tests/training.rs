//! The training's two PDFs: the certificate of completion says who finished what, when and
//! where (read back with poppler's `pdftotext`), and its QR code, read from the page as a
//! viewer draws it, is the credential, which verifies offline; the class report of 60
//! learners names every learner, marks every module, numbers its pages and adds up the
//! completions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use jiff::civil::{Date, date};
use xaso_documents::training::{CertificateContent, certificate_pdf, class_report_pdf};
use xaso_documents_testkit::pdftotext;
use xaso_i18n::{Lang, Translations};
use xaso_training::ModuleStatus;
use xaso_training::certificate::{self, Certificate, IssuerKey, TrustList};
use xaso_training::class::{ClassReport, ReportRow};

const NAME: &str = "NGUYỄN THỊ THU HƯỜNG";
const COMMUNE: &str = "Xã Tân Thới Nhì";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn trust() -> TrustList {
    TrustList {
        issued: date(2026, 12, 1),
        keys: vec![IssuerKey {
            kid: "p79-2026".into(),
            province: "79".into(),
            public_key: hex::encode(key().verifying_key().to_bytes()),
            valid_from: date(2026, 1, 1),
            valid_until: None,
        }],
    }
}

/// Seconds since 1970 at noon in Viet Nam on `d`.
fn noon(d: Date) -> i64 {
    d.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(7)))
        .unwrap()
        .timestamp()
        .as_second()
}

fn issued() -> (Certificate, String) {
    let finished = date(2026, 12, 3);
    let cert = Certificate {
        id: "kiosk-7-000012".into(),
        name: NAME.into(),
        track: "everyday".into(),
        date: finished,
        commune: "26734".into(),
        province: "79".into(),
        issued_at: noon(finished),
    };
    let credential = certificate::issue(&cert, "p79-2026", &key()).unwrap();
    (cert, credential)
}

fn content(lang: Lang, cert: &Certificate, credential: &str) -> CertificateContent {
    CertificateContent {
        lang,
        commune: COMMUNE.into(),
        name: cert.name.clone(),
        track_title: match lang {
            Lang::Vi => "Kỹ năng số hằng ngày",
            Lang::En => "Everyday digital skills",
        }
        .into(),
        date: cert.date,
        certificate_id: cert.id.clone(),
        credential: credential.into(),
    }
}

/// The PDF's text as `pdftotext -layout` gives it, one string per page.
fn pages_text(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("training.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = pdftotext(&path).unwrap();
    // pages end with a form feed
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Words joined by single spaces (`-layout` keeps columns apart with runs of spaces).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_certificate_says_who_finished_what_when_and_where_in_both_languages() {
    let t = Translations::bundled().unwrap();
    let (cert, credential) = issued();
    for (lang, expected) in [
        (
            Lang::Vi,
            [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "ỦY BAN NHÂN DÂN",
                "XÃ TÂN THỚI NHÌ",
                "GIẤY CHỨNG NHẬN HOÀN THÀNH",
                "Chứng nhận ông/bà NGUYỄN THỊ THU HƯỜNG đã hoàn thành chương trình học Kỹ năng số hằng ngày",
                "Ngày hoàn thành: 03/12/2026",
                "Nơi cấp: Xã Tân Thới Nhì",
                "Số chứng nhận: kiosk-7-000012",
                "kể cả khi không có mạng",
            ],
        ),
        (
            Lang::En,
            [
                "SOCIALIST REPUBLIC OF VIET NAM",
                "PEOPLE'S COMMITTEE",
                "XÃ TÂN THỚI NHÌ",
                "CERTIFICATE OF COMPLETION",
                "This is to certify that NGUYỄN THỊ THU HƯỜNG has completed the track Everyday digital skills",
                "Date finished: 03/12/2026",
                "Issued in: Xã Tân Thới Nhì",
                "Certificate no.: kiosk-7-000012",
                "even without a connection",
            ],
        ),
    ] {
        let pdf = certificate_pdf(&content(lang, &cert, &credential), &t).unwrap();
        let pages = pages_text(&pdf);
        assert_eq!(pages.len(), 1, "one page");
        let text = flat(&pages[0]);
        for e in expected {
            assert!(text.contains(e), "{lang:?}: `{e}` not in:\n{}", pages[0]);
        }
    }
}

#[test]
fn the_certificates_qr_is_the_credential_and_verifies_offline() {
    let t = Translations::bundled().unwrap();
    let (cert, credential) = issued();
    let pdf = certificate_pdf(&content(Lang::Vi, &cert, &credential), &t).unwrap();

    // The page as a viewer draws it, at 2 pixels per point (144 dpi, a phone photo of a
    // printout does better).
    let scale = 2.0;
    let file = hayro::hayro_syntax::Pdf::new(pdf).unwrap();
    let page = &file.pages()[0];
    let pixmap = hayro::render(
        page,
        &hayro::RenderCache::new(),
        &hayro::hayro_interpret::InterpreterSettings::default(),
        &hayro::RenderSettings::default(),
        &hayro::PixmapSettings {
            x_scale: scale,
            y_scale: scale,
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
    let (meta, decoded) = grids[0].decode().unwrap();
    assert_eq!(decoded, credential, "the QR carries the credential exactly");

    // Modules big enough to scan from paper: at least 0.5 mm each.
    let modules = 17 + 4 * meta.version.0;
    let [a, b, ..] = grids[0].bounds;
    let side_px = f64::from(b.x - a.x).hypot(f64::from(b.y - a.y));
    let module_mm = side_px / f64::from(scale) / modules as f64 * 25.4 / 72.0;
    assert!(module_mm >= 0.5, "{module_mm:.2} mm per module");

    // What the officer's tablet does with it, offline.
    let verified = certificate::verify(&decoded, &trust(), date(2026, 12, 5)).unwrap();
    assert_eq!(verified.certificate, cert);
    assert_eq!(verified.kid, "p79-2026");
}

const MODULES: [&str; 10] = [
    "Làm quen với điện thoại thông minh",
    "Nhận biết và phòng tránh lừa đảo trực tuyến",
    "Bảo vệ thông tin cá nhân",
    "Thanh toán trực tuyến an toàn",
    "Tài khoản định danh điện tử VNeID",
    "Cổng Dịch vụ công quốc gia",
    "Nộp hồ sơ tại ki-ốt của xã",
    "Chữ ký số",
    "Bảo hiểm xã hội trên điện thoại",
    "Xử lý hồ sơ trên máy tính bảng",
];
const SURNAMES: [&str; 12] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
];
const GIVEN: [&str; 5] = ["Ánh", "Bình", "Cường", "Dũng", "Hương"];

/// 60 learners; learner `i` completed the first `i % 11` modules and is in the next one.
fn class_of_60() -> ClassReport {
    let rows = (0..60)
        .map(|i| {
            let done = i % 11;
            ReportRow {
                name: format!(
                    "{} {} {}",
                    SURNAMES[i / 5],
                    if i % 2 == 0 { "Thị" } else { "Văn" },
                    GIVEN[i % 5]
                ),
                modules: (0..MODULES.len())
                    .map(|m| match m.cmp(&done) {
                        std::cmp::Ordering::Less => ModuleStatus::Completed,
                        std::cmp::Ordering::Equal => ModuleStatus::InProgress,
                        std::cmp::Ordering::Greater => ModuleStatus::NotStarted,
                    })
                    .collect(),
                certificates: if done == 10 {
                    vec!["everyday".into(), "public-services".into()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    ClassReport {
        class: "Lớp kỹ năng số ấp Đông, tháng 12".into(),
        helper: "Lê Văn Tâm".into(),
        modules: MODULES
            .iter()
            .enumerate()
            .map(|(i, title)| (format!("m{i}"), (*title).to_owned()))
            .collect(),
        rows,
    }
}

#[test]
fn the_class_report_of_60_learners_names_them_all_over_numbered_pages_with_the_totals() {
    let t = Translations::bundled().unwrap();
    let report = class_of_60();
    let pdf = class_report_pdf(&report, Lang::Vi, COMMUNE, date(2026, 12, 20), &t).unwrap();

    // Landscape A4: ten module columns do not fit portrait.
    let file = hayro::hayro_syntax::Pdf::new(pdf.clone()).unwrap();
    let (w, h) = file.pages()[0].render_dimensions();
    assert!(w > h, "landscape, {w} × {h}");

    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 3, "{pages:#?}");
    assert_eq!(file.pages().len(), 3);
    // The first page holds the title, the legend and 14 learners, the second 25 (full), the
    // third the last 21 and the totals.
    let per_page: Vec<usize> = pages
        .iter()
        .map(|page| {
            let text = flat(page);
            report
                .rows
                .iter()
                .filter(|r| text.contains(&r.name))
                .count()
        })
        .collect();
    assert_eq!(per_page, [14, 25, 21]);
    let header = "STT Họ và tên 1 2 3 4 5 6 7 8 9 10 Chứng nhận";
    for (n, page) in pages.iter().enumerate() {
        let text = flat(page);
        assert!(text.contains(header), "page {}: no table header", n + 1);
        assert!(
            text.contains(&format!("Trang {}/3", n + 1)),
            "page {}: no page number",
            n + 1
        );
    }

    let first = flat(&pages[0]);
    for expected in [
        "BÁO CÁO KẾT QUẢ HỌC KỸ NĂNG SỐ CỦA LỚP",
        "Xã Tân Thới Nhì, ngày 20 tháng 12 năm 2026",
        "Lớp: Lớp kỹ năng số ấp Đông, tháng 12",
        "Người hướng dẫn: Lê Văn Tâm",
        "Số học viên: 60",
        "Xong: đã hoàn thành · Đang học: đang học · –: chưa bắt đầu",
    ] {
        assert!(
            first.contains(expected),
            "`{expected}` not in:\n{}",
            pages[0]
        );
    }
    // The legend names every module by its column number.
    for (i, title) in MODULES.iter().enumerate() {
        let entry = format!("{}. {title}", i + 1);
        assert!(first.contains(&entry), "`{entry}` not in:\n{}", pages[0]);
    }

    // Every learner once, in the report's order, with their number and a mark per module.
    let all = flat(&pages.join(" "));
    let mut from = 0;
    for (i, row) in report.rows.iter().enumerate() {
        assert_eq!(all.matches(&row.name).count(), 1, "{}", row.name);
        let done = i % 11;
        let mut marks = vec!["Xong"; done];
        if done < MODULES.len() {
            marks.push("Đang học");
            marks.extend(vec!["–"; MODULES.len() - done - 1]);
        }
        let certificates = if done == 10 {
            " everyday, public-services"
        } else {
            ""
        };
        let line = format!("{} {} {}{certificates}", i + 1, row.name, marks.join(" "));
        let at = all[from..]
            .find(&line)
            .unwrap_or_else(|| panic!("`{line}` not in order in:\n{all}"));
        from += at + line.len();
    }

    // The totals: learners who completed each module, certificates issued.
    let totals = report.completed_per_module();
    assert_eq!(totals, [54, 48, 42, 36, 30, 25, 20, 15, 10, 5]);
    let last = flat(&pages[2]);
    let line = format!(
        "Số người hoàn thành {} 10",
        totals
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(last.contains(&line), "`{line}` not in:\n{}", pages[2]);
}

#[test]
fn the_class_report_in_english_and_a_small_class_on_one_page() {
    let t = Translations::bundled().unwrap();
    let mut report = class_of_60();
    report.rows.truncate(3);
    let pdf = class_report_pdf(&report, Lang::En, COMMUNE, date(2026, 12, 20), &t).unwrap();
    let pages = pages_text(&pdf);
    assert_eq!(pages.len(), 1);
    let text = flat(&pages[0]);
    for expected in [
        "DIGITAL SKILLS CLASS REPORT",
        "Xã Tân Thới Nhì, 20/12/2026",
        "Helper: Lê Văn Tâm",
        "Learners: 3",
        "Done: completed · Started: in progress · –: not started",
        "No. Name 1 2 3 4 5 6 7 8 9 10 Certificates",
        "2 Nguyễn Văn Bình Done Started – – – – – – – –",
        "Completed 2 1 0 0 0 0 0 0 0 0 0",
        "Page 1 of 1",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` not in:\n{}",
            pages[0]
        );
    }
}
