//! The indicators, exports and charts of a known fixture, figure by figure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use xaso_i18n::{Lang, Translations};
use xaso_reports::charts::{self, Chart};
use xaso_reports::{Indicators, Labels, Period};
use xaso_services::calendar::Holidays;
use xaso_services::catalog::Catalog;

fn indicators() -> Indicators {
    let (from, to) = november();
    Indicators::compute(
        &commune(),
        Period::new(from, to).unwrap(),
        &dossiers(),
        &ratings(),
        &Catalog::bundled().unwrap(),
        Holidays::bundled(),
    )
}

fn labels(lang: Lang) -> Labels {
    let (from, to) = november();
    Labels::new(&Translations::bundled().unwrap(), lang, COMMUNE, from, to)
}

#[test]
fn figures_of_the_fixture() {
    let i = indicators();
    assert_eq!(i.commune, "79001");
    let s = i.submitted;
    assert_eq!(
        (s.kiosk, s.helper, s.officer, s.online, s.total),
        (5, 1, 1, 3, 10)
    );
    assert_eq!(i.fully_online.online, 3);
    assert_eq!(i.fully_online.total, 10);
    assert_eq!(i.fully_online.rate_percent, Some(30.0));

    let o = i.on_time;
    assert_eq!(o.finished, 8);
    assert_eq!(o.on_time, 4);
    assert_eq!(o.late, 3);
    assert_eq!(o.without_due_date, 1);
    assert_eq!(o.rate_percent, Some(400.0 / 7.0));
    assert_eq!(o.overdue_open, 1);

    let r = i.satisfaction;
    assert_eq!(
        (
            r.very_satisfied,
            r.satisfied,
            r.acceptable,
            r.not_satisfied,
            r.total
        ),
        (10, 9, 1, 0, 20)
    );
    assert_eq!(r.rate_percent, Some(95.0));
    assert!(r.meets_95);
    assert!(!r.meets_99);
    assert_eq!(i.training_completions, None);

    let codes: Vec<&str> = i.procedures.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "birth-registration",
            "mystery-procedure",
            "permanent-residence-registration"
        ]
    );
    let birth = &i.procedures[0];
    assert_eq!(birth.name, "Đăng ký khai sinh");
    assert_eq!(birth.processing_days, Some(0));
    let b = birth.submitted;
    assert_eq!(
        (b.kiosk, b.helper, b.officer, b.online, b.total),
        (2, 1, 1, 2, 6)
    );
    assert_eq!(
        (
            birth.finished,
            birth.on_time,
            birth.late,
            birth.overdue_open
        ),
        (4, 3, 1, 1)
    );
    let mystery = &i.procedures[1];
    assert_eq!(mystery.name, "mystery-procedure");
    assert_eq!(mystery.processing_days, None);
    assert_eq!(
        (
            mystery.submitted.total,
            mystery.finished,
            mystery.on_time,
            mystery.late
        ),
        (1, 1, 0, 0)
    );
    let residence = &i.procedures[2];
    assert_eq!(residence.name, "Đăng ký thường trú");
    let p = residence.submitted;
    assert_eq!((p.kiosk, p.online, p.total), (2, 1, 3));
    assert_eq!(
        (
            residence.finished,
            residence.on_time,
            residence.late,
            residence.overdue_open
        ),
        (3, 1, 2, 0)
    );
}

#[test]
fn an_inverted_period_is_refused() {
    let (from, to) = november();
    assert!(Period::new(to, from).is_err());
}

#[test]
fn json_has_stable_names_and_round_trips() {
    let i = indicators();
    let json = i.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["commune"], "79001");
    assert_eq!(v["period"]["from"], "2026-11-01");
    assert_eq!(v["period"]["to"], "2026-11-30");
    assert_eq!(v["submitted"]["total"], 10);
    assert_eq!(v["fully_online"]["rate_percent"], 30.0);
    assert_eq!(v["on_time"]["overdue_open"], 1);
    assert_eq!(v["satisfaction"]["meets_95"], true);
    assert_eq!(v["satisfaction"]["meets_99"], false);
    assert!(v["training_completions"].is_null());
    assert_eq!(v["procedures"][0]["name"], "Đăng ký khai sinh");
    let back: Indicators = serde_json::from_str(&json).unwrap();
    assert_eq!(back, i);
}

#[test]
fn csv_exports() {
    let i = indicators();
    let procedures = i.procedures_csv().unwrap();
    let lines: Vec<&str> = procedures.lines().collect();
    assert_eq!(
        lines,
        [
            "procedure_code,procedure_name,processing_days,kiosk,helper,officer,online,total,finished,on_time,late,overdue_open",
            "birth-registration,Đăng ký khai sinh,0,2,1,1,2,6,4,3,1,1",
            "mystery-procedure,mystery-procedure,,1,0,0,0,1,1,0,0,0",
            "permanent-residence-registration,Đăng ký thường trú,7,2,0,0,1,3,3,1,2,0",
        ]
    );
    let headline = i.headline_csv(&labels(Lang::Vi)).unwrap();
    for line in [
        "indicator,label,value",
        "submitted,Số hồ sơ tiếp nhận,10",
        "fully_online_percent,Tỷ lệ hồ sơ trực tuyến toàn trình,30.00",
        "on_time_percent,Tỷ lệ giải quyết đúng hạn,57.14",
        "overdue_open,Hồ sơ đang giải quyết đã quá hạn,1",
        "satisfaction_percent,Tỷ lệ hài lòng,95.00",
        "meets_95,Mục tiêu 95%,true",
        "meets_99,Mục tiêu 99%,false",
        "training_completions,Lượt hoàn thành bồi dưỡng kỹ năng số,",
    ] {
        assert!(headline.lines().any(|l| l == line), "{line} in\n{headline}");
    }
}

#[test]
fn charts_render_vietnamese_in_svg_and_png() {
    let i = indicators();
    let l = labels(Lang::Vi);
    for chart in Chart::ALL {
        let svg = charts::svg(chart, &i, &l, 900, 500).unwrap();
        assert!(svg.starts_with("<svg"), "{chart:?}");
        assert!(svg.contains("Noto Sans"), "{chart:?}");
        let png = charts::png(chart, &i, &l, 900, 500).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (900, 500));
        let pixels = &buf[..info.buffer_size()];
        let not_white = pixels.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(not_white > 2_000, "{chart:?}: {not_white} drawn pixels");
    }
    let by_procedure = charts::svg(Chart::ByProcedure, &i, &l, 900, 500).unwrap();
    for text in [
        "Đăng ký khai sinh",
        "Đăng ký thường trú",
        "Trực tuyến",
        "Tổ công nghệ số",
        "Hồ sơ theo thủ tục và kênh nộp",
    ] {
        assert!(by_procedure.contains(text), "{text}");
    }
    let satisfaction = charts::svg(Chart::Satisfaction, &i, &l, 900, 400).unwrap();
    for text in ["Mục tiêu 95%", "Mục tiêu 99%", "Rất hài lòng", "95.0%"] {
        assert!(satisfaction.contains(text), "{text}");
    }
    let on_time = charts::svg(Chart::OnTime, &i, &l, 900, 400).unwrap();
    assert!(on_time.contains("Tỷ lệ giải quyết đúng hạn: 57.1%"));
    assert!(charts::png(Chart::OnTime, &i, &l, 10, 400).is_err());
}

#[test]
fn vietnamese_glyphs_are_drawn_in_the_png() {
    // The same chart with and without diacritics in one label differs in pixels only if
    // the font has the marks: proof that ab_glyph draws the bundled Noto Sans.
    let i = indicators();
    let mut plain = labels(Lang::Vi);
    plain.chart_on_time = "Ty le".into();
    let mut marked = plain.clone();
    marked.chart_on_time = "Tỷ lệ".into();
    let a = charts::png(Chart::OnTime, &i, &plain, 600, 300).unwrap();
    let b = charts::png(Chart::OnTime, &i, &marked, 600, 300).unwrap();
    assert_ne!(a, b);
}

#[test]
fn charts_of_an_empty_period_still_draw() {
    let (from, to) = november();
    let i = Indicators::compute(
        &commune(),
        Period::new(from, to).unwrap(),
        &[],
        &[],
        &Catalog::bundled().unwrap(),
        Holidays::bundled(),
    );
    assert_eq!(i.on_time.rate_percent, None);
    assert_eq!(i.satisfaction.rate_percent, None);
    assert!(!i.satisfaction.meets_95);
    let l = labels(Lang::Vi);
    for chart in Chart::ALL {
        charts::png(chart, &i, &l, 400, 300).unwrap();
        let svg = charts::svg(chart, &i, &l, 400, 300).unwrap();
        if chart != Chart::ByProcedure {
            assert!(svg.contains("Chưa có dữ liệu"), "{chart:?}");
        }
    }
}

/// Counts are whole: with one dossier the axis has one "0" and one "1", never "0 0 0 1 1".
#[test]
fn the_count_axis_labels_whole_numbers_once() {
    let (from, to) = november();
    let one: Vec<_> = dossiers().into_iter().take(1).collect();
    let i = Indicators::compute(
        &commune(),
        Period::new(from, to).unwrap(),
        &one,
        &[],
        &xaso_services::Catalog::bundled().unwrap(),
        xaso_services::calendar::Holidays::bundled(),
    );
    let svg = charts::svg(Chart::ByProcedure, &i, &labels(Lang::Vi), 900, 500).unwrap();
    for n in ["0", "1"] {
        let label = format!("\n{n}\n</text>");
        assert_eq!(svg.matches(&label).count(), 1, "{n} in {svg}");
    }
}

/// A dossier that came in online has the platform's code, not a tracking code of ours: it
/// counts for the commune it was sent to, and only there.
#[test]
fn a_dossier_that_came_in_online_counts_for_its_commune() {
    let (from, to) = november();
    let catalog = xaso_services::Catalog::bundled().unwrap();
    let online = |commune: &str| {
        let mut d = dossiers().into_iter().next().unwrap();
        d.tracking_code = None;
        d.external_code = Some("000.00.79.H29-261110-0001".into());
        d.online_commune = Some(xaso_services::tracking::CommuneCode::new(commune).unwrap());
        d.channel = xaso_services::Channel::Online;
        d
    };
    let count = |d: xaso_services::Dossier| {
        let i = Indicators::compute(
            &commune(),
            Period::new(from, to).unwrap(),
            &[d],
            &[],
            &catalog,
            xaso_services::calendar::Holidays::bundled(),
        );
        (i.submitted.online, i.submitted.total)
    };
    assert_eq!(count(online("79001")), (1, 1));
    assert_eq!(count(online("79002")), (0, 0));
}
