//! The printable indicators report: its Vietnamese headings, figures, procedure names and
//! the three charts are in the PDF (checked with poppler's `pdftotext`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;
use jiff::civil::date;
use xaso_documents::report::{render_report, report_files};
use xaso_documents_testkit::pdftotext;
use xaso_i18n::{Lang, Translations};
use xaso_reports::{Indicators, Labels, Period};
use xaso_services::calendar::Holidays;
use xaso_services::rating::{Rating, Satisfaction};
use xaso_services::{
    Action, Actor, Applicant, Catalog, Channel, CommuneCode, Consent, Dossier, ProcedureCode, Role,
    Submitter, TrackingCode,
};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn dossier(n: u16, procedure: &str, channel: Channel, at: &str, decided: Option<&str>) -> Dossier {
    let mut d = Dossier::new(
        format!("d{n}"),
        ProcedureCode(procedure.into()),
        Applicant {
            id_number: "079123456789".into(),
            full_name: "Trần Thị Mai".into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        channel,
        ts(at),
    );
    d.consent = Some(Consent {
        given_at: ts(at),
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    d.tracking_code = Some(
        TrackingCode::new(CommuneCode::new("79001").unwrap(), date(2026, 11, 2), 1, n).unwrap(),
    );
    let officer = Actor::new(Role::Officer, "officer:79001:1");
    d.apply(
        Action::Submit,
        Actor::new(Role::Resident, "k"),
        None,
        ts(at),
    )
    .unwrap();
    d.apply(Action::Receive, officer.clone(), None, ts(at))
        .unwrap();
    if let Some(when) = decided {
        d.apply(Action::StartProcessing, officer.clone(), None, ts(when))
            .unwrap();
        d.apply(Action::Approve, officer, None, ts(when)).unwrap();
    }
    d
}

#[test]
fn the_report_pdf_has_the_vietnamese_headings_and_figures() {
    let b = "birth-registration";
    let dossiers = vec![
        dossier(
            1,
            b,
            Channel::Kiosk,
            "2026-11-02T02:00:00Z",
            Some("2026-11-02T05:00:00Z"),
        ),
        dossier(
            2,
            b,
            Channel::Online,
            "2026-11-02T02:00:00Z",
            Some("2026-11-02T06:00:00Z"),
        ),
        dossier(
            3,
            b,
            Channel::Online,
            "2026-11-03T02:00:00Z",
            Some("2026-11-04T02:00:00Z"),
        ),
        dossier(
            4,
            "marriage-registration",
            Channel::Helper,
            "2026-11-05T02:00:00Z",
            None,
        ),
    ];
    let ratings: Vec<Rating> = (0..4)
        .map(|n| Rating {
            id: format!("r{n}"),
            commune: CommuneCode::new("79001").unwrap(),
            procedure: ProcedureCode(b.into()),
            level: if n == 3 {
                Satisfaction::Acceptable
            } else {
                Satisfaction::VerySatisfied
            },
            reason: None,
            at: ts("2026-11-10T02:00:00Z"),
        })
        .collect();
    let (from, to) = (date(2026, 11, 1), date(2026, 11, 30));
    let indicators = Indicators::compute(
        &CommuneCode::new("79001").unwrap(),
        Period::new(from, to).unwrap(),
        &dossiers,
        &ratings,
        &Catalog::bundled().unwrap(),
        Holidays::bundled(),
    );
    let labels = Labels::new(
        &Translations::bundled().unwrap(),
        Lang::Vi,
        "79001",
        from,
        to,
    );
    let pdf = render_report(&indicators, &labels).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = pdftotext(&path).unwrap();
    // pdftotext -layout keeps a line's words apart with runs of spaces
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "BÁO CÁO CHỈ SỐ PHỤC VỤ NGƯỜI DÂN",
        "Mã xã: 79001",
        "Từ ngày 01/11/2026 đến ngày 30/11/2026",
        "Chỉ số chính",
        "Số hồ sơ tiếp nhận 4",
        "Tỷ lệ hồ sơ trực tuyến toàn trình 50.0%",
        "Tỷ lệ giải quyết đúng hạn 66.7%",
        "Tỷ lệ hài lòng 75.0%",
        "Mục tiêu 95% Chưa đạt",
        "Lượt hoàn thành bồi dưỡng kỹ năng số Chưa có dữ liệu",
        "Hồ sơ theo thủ tục và kênh nộp",
        "Đăng ký khai sinh 1 0 0 2 3 2 1",
        "Đăng ký kết hôn 0 1 0 0 1 0 0",
        "Biểu đồ",
    ] {
        assert!(flat.contains(expected), "{expected} not in:\n{text}");
    }
    // the three charts are embedded as images
    let images = pdf
        .windows(b"/Subtype /Image".len())
        .filter(|w| w == b"/Subtype /Image")
        .count()
        + pdf
            .windows(b"/Subtype/Image".len())
            .filter(|w| w == b"/Subtype/Image")
            .count();
    assert_eq!(images, 3, "three charts");

    let open = xaso_reports::open_data::open_data(
        &CommuneCode::new("79001").unwrap(),
        Period::new(from, to).unwrap(),
        &dossiers,
        &Catalog::bundled().unwrap(),
        &Translations::bundled().unwrap(),
        Lang::Vi,
    )
    .unwrap();
    let files = report_files(&indicators, &labels, &open).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "indicators.json",
            "procedures.csv",
            "headline.csv",
            "by-procedure.svg",
            "by-procedure.png",
            "satisfaction.svg",
            "satisfaction.png",
            "on-time.svg",
            "on-time.png",
            "report.pdf",
            "open-data.csv",
            "open-data.schema.json",
        ]
    );
    assert!(files.iter().all(|(_, bytes)| !bytes.is_empty()));
}
