//! `xaso-hub report`: a commune's report from the dossiers and ratings the hub holds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use jiff::civil::date;
use xaso_hub::{Hub, HubConfig};
use xaso_services::tracking::CommuneCode;
use xaso_services::{ProcedureCode, Rating, Satisfaction};
use xaso_sync_core::Partition;
use xaso_sync_testkit::sample::processed_dossier;

#[test]
fn a_report_is_written_from_what_the_hub_holds_and_the_open_data_names_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::open(HubConfig::new(dir.path().join("hub"))).unwrap();
    let t0 = "2026-11-10T02:00:00Z".parse().unwrap();
    let kiosk = Partition::new("79001/kiosk/k1").unwrap();
    let other = Partition::new("79002/kiosk/k9").unwrap();
    let ours: Vec<_> = (0..30)
        .map(|i| processed_dossier(i, "79001", 3, t0, (i % 5) as usize).unwrap())
        .collect();
    let names: Vec<String> = ours
        .iter()
        .map(|(_, d)| d.applicant.full_name.clone())
        .collect();
    let ids: Vec<String> = ours
        .iter()
        .map(|(_, d)| d.applicant.id_number.clone())
        .collect();
    let theirs = vec![processed_dossier(0, "79002", 3, t0, 2).unwrap()];
    let ratings: Vec<(String, Rating)> = (0..20)
        .map(|i| {
            let r = Rating {
                id: format!("r{i}"),
                commune: CommuneCode::new("79001").unwrap(),
                procedure: ProcedureCode("birth-registration".into()),
                level: if i == 0 {
                    Satisfaction::NotSatisfied
                } else {
                    Satisfaction::VerySatisfied
                },
                reason: None,
                at: t0,
            };
            (format!("rating-r{i}"), r)
        })
        .collect();
    hub.with_store(|s| {
        s.put_batch(&kiosk, ours).unwrap();
        s.put_batch(&kiosk, ratings).unwrap();
        s.put_batch(&other, theirs).unwrap();
    })
    .unwrap();
    // The digital-skills training, as kiosks synced it: three learners; one passed a
    // module; two hold certificates (one in November, one in October), one of them of the
    // officials' track; two active officers and a helper on the roster.
    use xaso_services::roster::StaffRole;
    use xaso_training::progress::{IssuedCertificate, Progress};
    let learning = Partition::learning("79001").unwrap();
    let mut learners = Vec::new();
    for (i, certificate) in [
        None,
        Some(("officer", "2026-11-20T03:00:00Z")),
        Some(("everyday", "2026-10-20T03:00:00Z")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut p = Progress::new(&format!("l{i}"));
        p.read_page("scams", "01", t0);
        if i == 1 {
            p.mastered.insert("officer-tablet".into(), t0);
        }
        if let Some((track, at)) = certificate {
            p.certificates.insert(
                track.into(),
                IssuedCertificate {
                    id: format!("c{i}"),
                    at: at.parse().unwrap(),
                },
            );
        }
        learners.push((format!("learner-l{i}"), p));
    }
    hub.with_store(|s| s.put_batch(&learning, learners).unwrap())
        .unwrap();
    hub.roster_put("79001", "038175004321", "Lê Thị Thu", StaffRole::Officer)
        .unwrap();
    hub.roster_put("79001", "001082012345", "Trần Văn Hùng", StaffRole::Officer)
        .unwrap();
    hub.roster_put(
        "79001",
        "079303001234",
        "Nguyễn Thị Mai Anh",
        StaffRole::Helper,
    )
    .unwrap();

    let (dossiers, ratings) = hub.commune_records("79001").unwrap();
    assert_eq!(
        (dossiers.len(), ratings.len()),
        (30, 20),
        "the other commune is left out"
    );

    let out = dir.path().join("report");
    let written = xaso_hub::report::write_report(
        &hub,
        "79001",
        date(2026, 11, 1),
        date(2026, 11, 30),
        xaso_i18n::Lang::Vi,
        &out,
    )
    .unwrap();
    for f in [
        "indicators.json",
        "procedures.csv",
        "headline.csv",
        "report.pdf",
        "open-data.csv",
        "open-data.schema.json",
    ] {
        assert!(written.iter().any(|w| w == f), "{f} missing: {written:?}");
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 0);
    }
    let indicators: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("indicators.json")).unwrap()).unwrap();
    assert_eq!(indicators["commune"], "79001");
    assert_eq!(indicators["submitted"]["kiosk"], 30);
    assert_eq!(indicators["submitted"]["total"], 30);
    assert_eq!(indicators["satisfaction"]["total"], 20);
    assert_eq!(indicators["satisfaction"]["rate_percent"], 95.0);
    assert_eq!(indicators["satisfaction"]["meets_95"], true);
    assert_eq!(indicators["satisfaction"]["meets_99"], false);
    assert_eq!(
        indicators["training_completions"], 1,
        "certificates issued in the period"
    );
    assert_eq!(indicators["training"]["learners"], 3);
    assert_eq!(indicators["training"]["completed_a_module"], 1);
    assert_eq!(indicators["training"]["officials"], 2);
    assert_eq!(indicators["training"]["officials_certified"], 1);
    let headline = std::fs::read_to_string(out.join("headline.csv")).unwrap();
    assert!(
        headline.contains("training_officials_percent,"),
        "{headline}"
    );
    assert!(
        headline
            .lines()
            .any(|l| l.starts_with("training_officials_percent") && l.ends_with(",50.00")),
        "{headline}"
    );
    let open = std::fs::read_to_string(out.join("open-data.csv")).unwrap();
    for n in names.iter().chain(&ids) {
        assert!(!open.contains(n.as_str()), "{n} leaked");
    }
    assert!(
        std::fs::read(out.join("report.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
}
