//! The simulator through a real HTTPS client (reqwest + rustls) trusting its CA.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use xaso_central::wire::{EarlierResult, OnlineDossier};
use xaso_central::{Mapping, Packet, Service};
use xaso_central_sim::{SimConfig, Simulator, Snapshot};
use xaso_services::Catalog;
use xaso_services::calendar::Holidays;

fn client(sim: &Simulator, timeout: Duration) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(sim.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .build()
        .unwrap()
}

struct Portal {
    sim: Simulator,
    http: reqwest::Client,
}

impl Portal {
    async fn start(config: SimConfig) -> Portal {
        let sim = Simulator::start(config).await.unwrap();
        let http = client(&sim, Duration::from_secs(10));
        Portal { sim, http }
    }

    async fn auth_with(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/auth", self.sim.base_url()))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn auth(&self) -> String {
        let (status, body) = self.auth_with("xaso", "xaso-sim").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["error_code"], "00");
        body["session"].as_str().unwrap().to_owned()
    }

    async fn post(
        &self,
        session: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let r = self
            .http
            .post(format!("{}/api", self.sim.base_url()))
            .bearer_auth(session)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn send(&self, session: &str, packet: &Packet) -> (StatusCode, Value) {
        self.post(session, packet.body()).await.unwrap()
    }

    async fn call(&self, session: &str, service: &str, data: Value) -> (StatusCode, Value) {
        let body = json!({"service": service, "isUpdating": false, "data": [data]});
        self.post(session, serde_json::to_vec(&body).unwrap())
            .await
            .unwrap()
    }

    async fn admin_state(&self) -> Snapshot {
        self.http
            .get(format!("{}/sim/state", self.sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The packets of sample dossier `n` (submitted, then four steps): the dossier first.
fn packets(n: u32) -> Vec<Packet> {
    let catalog = Catalog::bundled().unwrap();
    let mapping = Mapping::bundled(&catalog).unwrap();
    let t0: jiff::Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
    let (_, dossier) = xaso_sync_testkit::sample::processed_dossier(n, "79001", 3, t0, 4).unwrap();
    let packets =
        xaso_central::packets(&dossier, "79001", &mapping, &catalog, Holidays::bundled()).unwrap();
    assert_eq!(packets[0].service, Service::Dossier);
    assert!(packets.len() >= 3);
    packets
}

fn code(v: &Value) -> &str {
    v["error_code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_dossier_and_its_progress_are_held_and_an_identical_packet_is_kept_once() {
    let p = Portal::start(SimConfig::default()).await;
    assert!(p.sim.base_url().starts_with("https://127.0.0.1:"));
    let session = p.auth().await;
    let packets = packets(1);
    let dossier = &packets[0];
    let (status, body) = p.send(&session, dossier).await;
    assert_eq!((status, code(&body)), (StatusCode::OK, "00"), "{body}");
    for packet in &packets[1..] {
        let (_, body) = p.send(&session, packet).await;
        assert_eq!(code(&body), "00", "{body}");
    }
    // The same packets again: acknowledged, counted, not stored twice.
    let (_, body) = p.send(&session, dossier).await;
    assert_eq!(code(&body), "00");
    let (_, body) = p.send(&session, &packets[1]).await;
    assert_eq!(code(&body), "00");
    // The same dossier packet with its keys in another order is the same packet.
    let reordered: serde_json::Map<String, Value> = dossier
        .data
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = format!(
        r#"{{"data":[{}],"isUpdating":false,"service":"DongBoHoSoMC"}}"#,
        serde_json::to_string(&reordered).unwrap()
    );
    let (_, reply) = p.post(&session, body.into_bytes()).await.unwrap();
    assert_eq!(code(&reply), "00");

    let snap = p.sim.snapshot();
    assert_eq!(snap.dossiers.len(), 1);
    assert_eq!(snap.dossiers[&dossier.code], dossier.data);
    assert_eq!(snap.progress[&dossier.code].len(), packets.len() - 1);
    assert_eq!(snap.progress[&dossier.code][0], packets[1].data);
    assert_eq!(snap.duplicates, 3);
    assert_eq!(snap.refused, 0);
    assert_eq!(snap.sessions_issued, 1);
    // The admin route shows the same.
    assert_eq!(p.admin_state().await, snap);
    p.sim.stop().await;
}

#[tokio::test]
async fn refusals_bad_data_unknown_dossier_existing_dossier_unknown_service() {
    let p = Portal::start(SimConfig::default()).await;
    let session = p.auth().await;
    let packets = packets(2);

    // Progress before its dossier.
    let (status, body) = p.send(&session, &packets[1]).await;
    assert_eq!((status, code(&body)), (StatusCode::OK, "03"));
    assert_eq!(body["message"], "Hồ sơ chưa được đồng bộ");

    // A bad packet: the ID number is not 12 digits, a field is missing.
    let mut bad = packets[0].clone();
    bad.data["SoDinhDanh"] = json!("12345");
    bad.data.as_object_mut().unwrap().remove("NgayHenTra");
    let (_, body) = p.send(&session, &bad).await;
    assert_eq!(code(&body), "01");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("SoDinhDanh"), "{message}");
    assert!(message.contains("NgayHenTra"), "{message}");

    // The dossier, then different content under its code: refused unless updating.
    let (_, body) = p.send(&session, &packets[0]).await;
    assert_eq!(code(&body), "00");
    let mut changed = packets[0].clone();
    changed.data["ChuHoSo"] = json!("Người Khác");
    let (_, body) = p.send(&session, &changed).await;
    assert_eq!(code(&body), "02");
    assert_eq!(body["message"], "Hồ sơ đã tồn tại");
    changed.is_updating = true;
    let (_, body) = p.send(&session, &changed).await;
    assert_eq!(code(&body), "00");

    // Now the progress is accepted.
    let (_, body) = p.send(&session, &packets[1]).await;
    assert_eq!(code(&body), "00");

    let (_, body) = p.call(&session, "XoaHoSo", json!({})).await;
    assert_eq!(code(&body), "04");

    let snap = p.sim.snapshot();
    assert_eq!(snap.dossiers[&packets[0].code], changed.data);
    assert_eq!(snap.dossier_updates, 1);
    assert_eq!(snap.progress[&packets[0].code].len(), 1);
    assert_eq!(snap.refused, 4);
}

#[tokio::test]
async fn sessions_wrong_unknown_used_up_and_expired() {
    let p = Portal::start(SimConfig {
        session_ttl: Some(2),
        ..SimConfig::default()
    })
    .await;
    let (status, body) = p.auth_with("xaso", "wrong").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "403");

    let packet = &packets(3)[0];
    let (status, body) = p.send("not-a-session", packet).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "401"));
    assert!(p.sim.snapshot().dossiers.is_empty());

    // Two calls, then the session is gone.
    let session = p.auth().await;
    let (_, body) = p.send(&session, packet).await;
    assert_eq!(code(&body), "00");
    let (_, body) = p.send(&session, packet).await;
    assert_eq!(code(&body), "00");
    let (status, body) = p.send(&session, packet).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "401"));

    // A new one works until every session is expired.
    let session = p.auth().await;
    let (status, _) = p.send(&session, packet).await;
    assert_eq!(status, StatusCode::OK);
    p.sim.expire_sessions();
    let (status, _) = p.send(&session, packet).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(p.sim.snapshot().sessions_issued, 2);
}

#[tokio::test]
async fn injected_failures_store_nothing_and_down_refuses_auth_too() {
    let p = Portal::start(SimConfig::default()).await;
    let session = p.auth().await;
    let packets = packets(4);
    p.sim.set_config(SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    });
    for packet in &packets {
        let (status, _) = p.send(&session, packet).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let snap = p.sim.snapshot();
    assert!(snap.dossiers.is_empty() && snap.progress.is_empty());
    assert_eq!(snap.injected_failures, packets.len() as u64);
    // fail_rate is about /api only.
    p.auth().await;

    p.sim.set_config(SimConfig {
        down: true,
        ..SimConfig::default()
    });
    let (status, _) = p.auth_with("xaso", "xaso-sim").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = p.send(&session, &packets[0]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(p.sim.snapshot().dossiers.is_empty());

    p.sim.set_config(SimConfig::default());
    let (_, body) = p.send(&session, &packets[0]).await;
    assert_eq!(code(&body), "00");
}

#[tokio::test]
async fn a_dropped_acknowledgement_stores_the_work_but_loses_the_answer() {
    let p = Portal::start(SimConfig {
        drop_ack_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let session = p.auth().await;
    let packet = &packets(5)[0];
    // The simulator answers 502 (a client must take it, like a lost connection, as no
    // answer at all).
    let (status, body) = p.post(&session, packet.body()).await.unwrap();
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_ne!(code(&body), "00");
    let snap = p.sim.snapshot();
    assert_eq!(snap.dossiers[&packet.code], packet.data);
    assert_eq!(snap.dropped_acks, 1);
    // The retry is a duplicate.
    p.sim.set_config(SimConfig::default());
    let (_, body) = p.send(&session, packet).await;
    assert_eq!(code(&body), "00");
    assert_eq!(p.sim.snapshot().duplicates, 1);
}

#[tokio::test]
async fn a_stalled_request_is_done_after_the_client_gave_up() {
    let p = Portal::start(SimConfig {
        stall_rate: 1.0,
        stall: Duration::from_millis(600),
        ..SimConfig::default()
    })
    .await;
    let session = p.auth().await;
    let impatient = client(&p.sim, Duration::from_millis(150));
    let packet = &packets(6)[0];
    let sent = impatient
        .post(format!("{}/api", p.sim.base_url()))
        .bearer_auth(&session)
        .body(packet.body())
        .send()
        .await;
    assert!(sent.is_err(), "the answer came before the client's timeout");
    assert!(p.sim.snapshot().dossiers.is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let snap = p.sim.snapshot();
    assert_eq!(snap.stalls, 1);
    assert_eq!(snap.dossiers[&packet.code], packet.data);
}

fn online(code: &str, commune: &str, at: &str) -> OnlineDossier {
    OnlineDossier {
        ma_ho_so: code.into(),
        ma_tthc: "1.001193".into(),
        ma_don_vi: commune.into(),
        ngay_tiep_nhan: at.into(),
        chu_ho_so: "Nguyễn Văn An".into(),
        so_dinh_danh: "079012345678".into(),
        thong_tin: Default::default(),
    }
}

#[tokio::test]
async fn online_dossiers_by_commune_and_time_and_their_progress_is_known() {
    let p = Portal::start(SimConfig::default()).await;
    p.sim.add_online(vec![
        online("G01.1", "79001", "20260301080000"),
        online("G01.2", "79001", "20260302090000"),
        online("G02.1", "79002", "20260302090000"),
    ]);
    // And one through the admin route.
    let r = p
        .http
        .post(format!("{}/sim/online", p.sim.base_url()))
        .json(&online("G01.3", "79001", "20260303100000"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let session = p.auth().await;
    let (_, body) = p
        .call(
            &session,
            "LayDanhSachHoSoTrucTuyen",
            json!({"MaDonVi": "79001", "TuThoiDiem": "20260302090000"}),
        )
        .await;
    assert_eq!(code(&body), "00");
    let listed: Vec<OnlineDossier> = serde_json::from_value(body["data"].clone()).unwrap();
    let codes: Vec<&str> = listed.iter().map(|d| d.ma_ho_so.as_str()).collect();
    assert_eq!(codes, ["G01.2", "G01.3"]);
    assert_eq!(listed[0], online("G01.2", "79001", "20260302090000"));

    let (_, body) = p
        .call(
            &session,
            "LayDanhSachHoSoTrucTuyen",
            json!({"MaDonVi": "79001", "TuThoiDiem": "yesterday"}),
        )
        .await;
    assert_eq!(code(&body), "01");
    assert_eq!(p.sim.snapshot().online_list_calls, 2);

    // Progress of an online dossier needs no dossier packet.
    let mut step = packets(7)[1].clone();
    step.data["MaHoSo"] = json!("G01.1");
    let (_, body) = p.send(&session, &step).await;
    assert_eq!(code(&body), "00", "{body}");
    assert_eq!(p.sim.snapshot().progress["G01.1"].len(), 1);
}

#[tokio::test]
async fn earlier_results_are_returned_and_every_call_recorded() {
    let p = Portal::start(SimConfig::default()).await;
    let result = |code: &str, tthc: &str| EarlierResult {
        ma_ho_so: code.into(),
        ma_tthc: tthc.into(),
        ten_giay_to: "Trích lục khai sinh".into(),
        ngay_cap: "20250101080000".into(),
        noi_dung: "JVBERi0xLjcK".into(),
    };
    p.sim
        .add_results("079012345678", vec![result("K1", "1.001193")]);
    let r = p
        .http
        .post(format!("{}/sim/results", p.sim.base_url()))
        .json(&json!({"SoDinhDanh": "079012345678", "results": [result("K2", "1.004873")]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(p.sim.snapshot().earlier_result_calls.is_empty());

    let session = p.auth().await;
    let ask = |id: &str, tthc: &str| json!({"SoDinhDanh": id, "MaTTHC": tthc});
    let (_, body) = p
        .call(
            &session,
            "LayKetQuaCongDan",
            ask("079012345678", "1.001193"),
        )
        .await;
    assert_eq!(code(&body), "00");
    let got: Vec<EarlierResult> = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(got, [result("K1", "1.001193")]);
    let (_, body) = p
        .call(&session, "LayKetQuaCongDan", ask("079012345678", ""))
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (_, body) = p
        .call(
            &session,
            "LayKetQuaCongDan",
            ask("001099000001", "1.001193"),
        )
        .await;
    assert_eq!(body["data"], json!([]));

    assert_eq!(
        p.sim.snapshot().earlier_result_calls,
        [
            ("079012345678".to_owned(), "1.001193".to_owned()),
            ("079012345678".to_owned(), String::new()),
            ("001099000001".to_owned(), "1.001193".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_admin_routes_change_the_config_and_expire_sessions() {
    let p = Portal::start(SimConfig::default()).await;
    let session = p.auth().await;
    let r = p
        .http
        .post(format!("{}/sim/config", p.sim.base_url()))
        .json(&json!({"fail_rate": 1.0, "latency_max_ms": 20}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let config = p.sim.config();
    assert_eq!(config.fail_rate, 1.0);
    assert_eq!(config.latency_max, Duration::from_millis(20));
    assert_eq!(config.username, "xaso");
    let (status, _) = p.send(&session, &packets(8)[0]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    p.sim.set_config(SimConfig::default());
    let r = p
        .http
        .post(format!("{}/sim/expire", p.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, _) = p.send(&session, &packets(8)[0]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stopped_simulator_answers_nothing() {
    let p = Portal::start(SimConfig::default()).await;
    let url = format!("{}/sim/state", p.sim.base_url());
    assert!(p.http.get(&url).send().await.is_ok());
    let sim = p.sim.clone();
    sim.stop().await;
    assert!(p.http.get(&url).send().await.is_err());
}

#[tokio::test]
async fn the_random_choices_repeat_with_the_seed() {
    let p = Portal::start(SimConfig::default()).await;
    let session = p.auth().await;
    let config = SimConfig {
        fail_rate: 0.5,
        latency_max: Duration::from_millis(3),
        seed: 7,
        ..SimConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        p.sim.set_config(config.clone());
        let mut statuses = Vec::new();
        for _ in 0..24 {
            let (status, _) = p.call(&session, "XoaHoSo", json!({})).await;
            statuses.push(status.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&503) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
}
