//! A dossier's packets against the bundled mapping and schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;
use xaso_central::inbound::{earlier_result, online_dossier, online_record_id};
use xaso_central::wire::{EarlierResult, OnlineDossier};
use xaso_central::{Mapping, Service, packets, schema};
use xaso_services::calendar::Holidays;
use xaso_services::{Action, Actor, Catalog, Channel, DossierState, Role};
use xaso_sync_testkit::sample::processed_dossier;

fn t0() -> Timestamp {
    // Thursday 3 December 2026, 09:00 in Viet Nam
    "2026-12-03T02:00:00Z".parse().unwrap()
}

fn setup() -> (Catalog, Mapping) {
    let catalog = Catalog::bundled().unwrap();
    let mapping = Mapping::bundled(&catalog).unwrap();
    (catalog, mapping)
}

#[test]
fn a_dossier_and_each_step_become_one_packet_each_that_the_schema_accepts() {
    let (catalog, mapping) = setup();
    let (_, d) = processed_dossier(0, "79001", 3, t0(), 4).unwrap();
    let ps = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    assert_eq!(ps.len(), 5);
    assert_eq!(ps[0].service, Service::Dossier);
    assert!(!ps[0].is_updating);
    let code = d.tracking_code.clone().unwrap().to_string();
    let first = &ps[0].data;
    assert_eq!(first["MaHoSo"], code.as_str());
    assert_eq!(first["MaTTHC"], "1.001193");
    assert_eq!(first["MaDonVi"], "79001");
    assert_eq!(first["TrangThaiHoSo"], 1);
    assert_eq!(first["NgayTiepNhan"], "20261203090000");
    // birth registration: the same day
    assert_eq!(first["NgayHenTra"], "20261203170000");
    assert_eq!(first["KenhThucHien"], 1);
    assert_eq!(first["SoDinhDanh"], d.applicant.id_number.as_str());
    let states: Vec<_> = ps[1..]
        .iter()
        .map(|p| p.data["TrangThai"].clone())
        .collect();
    assert_eq!(states, [2, 4, 9, 9]);
    assert_eq!(ps[1].data["NoiDungXuLy"], "Bộ phận một cửa tiếp nhận hồ sơ");
    assert_eq!(ps[1].data["NgayBatDau"], "20261203090000");
    assert_eq!(ps[1].data["ThoiDiemXuLy"], "20261203090100");
    assert_eq!(ps[1].data["NguoiXuLy"], "officer:79001:1");
    for p in &ps {
        assert_eq!(
            schema::check(&mapping, p.service, &p.data),
            vec![],
            "{:?}",
            p.key
        );
        assert!(p.key.starts_with(&format!("{code}#")));
    }
    let keys: std::collections::BTreeSet<_> = ps.iter().map(|p| p.key.clone()).collect();
    assert_eq!(keys.len(), ps.len(), "keys are distinct");
}

#[test]
fn packets_are_the_same_bytes_every_time_they_are_built() {
    let (catalog, mapping) = setup();
    let (_, mut d) = processed_dossier(7, "79001", 3, t0(), 2).unwrap();
    let before = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    // a serde round trip (the store) and more steps later change nothing already built
    d = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
    d.apply(
        Action::Approve,
        Actor::new(Role::Officer, "officer:79001:1"),
        None,
        "2026-12-04T02:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let after = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    assert_eq!(after.len(), before.len() + 1);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a.key, b.key);
        assert_eq!(a.body(), b.body());
    }
}

#[test]
fn a_reason_is_told_and_a_supplement_resends_the_dossier() {
    let (catalog, mapping) = setup();
    let (_, mut d) = processed_dossier(1, "79001", 3, t0(), 2).unwrap();
    let officer = Actor::new(Role::Officer, "officer:79001:1");
    let at: Timestamp = "2026-12-03T03:00:00Z".parse().unwrap();
    d.apply(
        Action::RequestSupplement,
        officer,
        Some("Thiếu giấy chứng sinh"),
        at,
    )
    .unwrap();
    d.supplement(vec![], Actor::new(Role::Resident, "kiosk"), at)
        .unwrap();
    let ps = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    let n = ps.len();
    assert_eq!(
        ps[n - 3].data["NoiDungXuLy"],
        "Yêu cầu bổ sung hồ sơ: Thiếu giấy chứng sinh"
    );
    assert_eq!(ps[n - 3].data["TrangThai"], 5);
    assert_eq!(ps[n - 1].service, Service::Dossier);
    assert!(ps[n - 1].is_updating);
    assert_eq!(ps[n - 1].data["TrangThaiHoSo"], 4);
}

#[test]
fn a_broken_packet_is_refused_with_reasons() {
    let (catalog, mapping) = setup();
    let (_, d) = processed_dossier(2, "79001", 3, t0(), 0).unwrap();
    let ps = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    let mut data = ps[0].data.clone();
    data["SoDinhDanh"] = "0790".into();
    data["NgayTiepNhan"] = "3/12/2026".into();
    data["TrangThaiHoSo"] = 6.into();
    data.as_object_mut().unwrap().remove("MaTTHC");
    data["Extra"] = "x".into();
    let problems = schema::check(&mapping, Service::Dossier, &data);
    let text = schema::describe(&problems);
    for want in [
        "SoDinhDanh",
        "NgayTiepNhan",
        "TrangThaiHoSo",
        "MaTTHC: missing",
        "Extra",
    ] {
        assert!(text.contains(want), "{text}");
    }
}

#[test]
fn an_online_dossier_becomes_ours_once_and_only_its_progress_is_sent() {
    let (catalog, mapping) = setup();
    let online = OnlineDossier {
        ma_ho_so: "G22.79.001-261203-0001".into(),
        ma_tthc: "1.004873".into(),
        ma_don_vi: "79001".into(),
        ngay_tiep_nhan: "20261203080000".into(),
        chu_ho_so: "Võ Thị Hạnh".into(),
        so_dinh_danh: "079190000123".into(),
        thong_tin: [
            ("purpose".to_string(), "Kết hôn".to_string()),
            ("nope".into(), "x".into()),
        ]
        .into_iter()
        .collect(),
    };
    let mut d = online_dossier(&online, "79001", &mapping, &catalog).unwrap();
    assert_eq!(d.channel, Channel::Online);
    assert_eq!(d.state(), DossierState::Submitted);
    assert_eq!(d.external_code.as_deref(), Some("G22.79.001-261203-0001"));
    assert_eq!(d.commune().map(|c| c.as_str()), Some("79001"));
    assert!(!d.values.contains_key("nope"));
    assert_eq!(
        online_record_id(&online.ma_ho_so),
        "dossier-online-G22.79.001-261203-0001"
    );
    assert_ne!(online_record_id("a/b"), online_record_id("a:b"));
    assert!(
        packets(&d, "79001", &mapping, &catalog, Holidays::bundled())
            .unwrap()
            .is_empty()
    );
    d.apply(
        Action::Receive,
        Actor::new(Role::Officer, "officer:79001:1"),
        None,
        t0(),
    )
    .unwrap();
    let ps = packets(&d, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].service, Service::Progress);
    assert_eq!(ps[0].data["MaHoSo"], "G22.79.001-261203-0001");
    let other = OnlineDossier {
        ma_don_vi: "79002".into(),
        ..online
    };
    assert!(online_dossier(&other, "79001", &mapping, &catalog).is_err());
}

#[test]
fn an_earlier_result_becomes_an_attachment() {
    let r = EarlierResult {
        ma_ho_so: "X1".into(),
        ma_tthc: "1.001193".into(),
        ten_giay_to: "Trích lục khai sinh".into(),
        ngay_cap: "20200101080000".into(),
        noi_dung: "JVBERi0xLjcK".into(),
    };
    let (bytes, reference) = earlier_result(&r).unwrap();
    assert_eq!(bytes, b"%PDF-1.7\n");
    assert_eq!(reference.bytes, 9);
    assert_eq!(reference.paper, "earlier-result");
    let bad = EarlierResult {
        noi_dung: "not base64!".into(),
        ..r
    };
    assert!(earlier_result(&bad).is_err());
}
