//! The hub's outbox and inbound side against `xaso-central-sim` over real HTTPS: a flaky
//! platform gets every dossier and every step exactly once and in order, a day-long outage
//! drains by itself, a refused packet waits in dead letter until corrected, online dossiers
//! reach the officers' queue once, and earlier results are fetched only with consent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

mod common;

use std::time::Duration;

use common::{device, start_hub};
use jiff::{SignedDuration, Timestamp};
use xaso_central::wire::{EarlierResult, OnlineDossier};
use xaso_central_sim::{SimConfig, Simulator};
use xaso_hub::Hub;
use xaso_hub::central::{Central, CentralConfig, NationalPortal, PortalConfig};
use xaso_services::Dossier;
use xaso_services::calendar::Holidays;
use xaso_sync_client::{CancellationToken, Error, Progress};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;
use xaso_sync_testkit::sample::processed_dossier;

const COMMUNE: &str = "79001";

fn t0() -> Timestamp {
    "2026-12-03T02:00:00Z".parse().unwrap()
}

/// A connection to `sim` with quick retries (the tests run in real time unless they step
/// the clock themselves).
fn connect(hub: &Hub, sim: &Simulator, policy: xaso_central::Policy) -> Central<NationalPortal> {
    connect_at(hub, sim, policy, 0.0)
}

/// [`connect`] with the province's rate limit (packets per second; 0: none).
fn connect_at(
    hub: &Hub,
    sim: &Simulator,
    policy: xaso_central::Policy,
    rate_per_second: f64,
) -> Central<NationalPortal> {
    let config = CentralConfig {
        portal: PortalConfig {
            base_url: sim.base_url(),
            username: "xaso".into(),
            password: "xaso-sim".into(),
            ca_pem: Some(sim.ca_pem()),
            timeout: Duration::from_secs(2),
        },
        communes: vec![COMMUNE.into()],
        mapping: None,
        rate_per_second,
        parallel: 8,
        pull_every: Duration::from_secs(3600),
        policy,
    };
    let portal = NationalPortal::new(config.portal.clone()).unwrap();
    Central::new(hub, portal, config).unwrap()
}

fn quick() -> xaso_central::Policy {
    xaso_central::Policy {
        first_retry: Duration::from_millis(5),
        max_retry: Duration::from_millis(200),
        breaker_after: 50,
        cool_down: Duration::from_millis(50),
    }
}

/// Write `n` dossiers handed in at a kiosk of the commune, each taken `steps` steps.
fn hand_in(hub: &Hub, from: u32, n: u32, steps: usize) -> Vec<Dossier> {
    let partition = Partition::new(format!("{COMMUNE}/kiosk/dev-1")).unwrap();
    let made: Vec<(String, Dossier)> = (from..from + n)
        .map(|i| processed_dossier(i, COMMUNE, 3, t0(), steps).unwrap())
        .collect();
    hub.with_store(|s| s.put_batch(&partition, made.clone()).unwrap())
        .unwrap();
    made.into_iter().map(|(_, d)| d).collect()
}

/// Rounds with the real clock until nothing is pending but what waits behind a dead letter
/// (or the deadline).
async fn drain(central: &Central<NationalPortal>, deadline: Duration) {
    let end = std::time::Instant::now() + deadline;
    loop {
        central.step(Timestamp::now()).await.unwrap();
        let status = central.status(Timestamp::now()).unwrap();
        if status.counts.pending == status.counts.blocked {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "outbox not drained: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn code(d: &Dossier) -> String {
    d.tracking_code.as_ref().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_platform_gets_each_dossier_and_step_exactly_once_in_order() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig {
        fail_rate: 0.2,
        drop_ack_rate: 0.1,
        latency_min: Duration::ZERO,
        latency_max: Duration::from_millis(4),
        session_ttl: Some(700),
        seed: 7,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let central = connect(&hub.hub, &sim, quick());
    let dossiers = hand_in(&hub.hub, 0, 1000, 4);
    // and an expired session midway, whatever the lifetime says
    for _ in 0..3 {
        central.step(Timestamp::now()).await.unwrap();
    }
    sim.expire_sessions();
    drain(&central, Duration::from_secs(600)).await;

    let snap = sim.snapshot();
    assert_eq!(snap.dossiers.len(), 1000);
    let steps: usize = snap.progress.values().map(Vec::len).sum();
    assert_eq!(steps, 4000);
    assert_eq!(snap.refused, 0, "nothing refused");
    for d in &dossiers {
        let c = code(d);
        let got: Vec<(String, u64)> = snap.progress[&c]
            .iter()
            .map(|p| {
                (
                    p["ThoiDiemXuLy"].as_str().unwrap().to_owned(),
                    p["TrangThai"].as_u64().unwrap(),
                )
            })
            .collect();
        let states: Vec<u64> = got.iter().map(|g| g.1).collect();
        assert_eq!(states, [2, 4, 9, 9], "{c}");
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "in order: {got:?}");
    }
    // the misbehaviour really happened, and what was resent was the same bytes (kept once)
    assert!(snap.injected_failures > 100, "{snap:?}");
    assert!(snap.dropped_acks > 50 && snap.duplicates >= snap.dropped_acks / 2);
    assert!(snap.sessions_issued >= 3, "signed in again");
    let status = central.status(Timestamp::now()).unwrap();
    assert_eq!(status.counts.delivered, 5000);
    assert_eq!(status.counts.dead, 0);
    assert!(common::metric(&hub.hub, "xaso_hub_outbox_delivered_total") == 5000);

    // a restart of the hub's connection takes nothing in twice
    drop(central);
    let again = connect(&hub.hub, &sim, quick());
    let round = again.step(Timestamp::now()).await.unwrap();
    assert_eq!((round.taken_in, round.delivered), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_down_costs_few_tries_and_the_outbox_drains_by_itself() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig {
        down: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    // the default policy: a breaker after 5 failures, cool-downs doubling to 10 minutes
    let central = connect(&hub.hub, &sim, xaso_central::Policy::default());
    hand_in(&hub.hub, 0, 20, 4);
    let mut now = Timestamp::now();
    let step = SignedDuration::from_secs(30);
    let day_end = now.checked_add(SignedDuration::from_hours(24)).unwrap();
    let mut seen_pause = false;
    while now < day_end {
        central.step(now).await.unwrap();
        let status = central.status(now).unwrap();
        // what officers see meanwhile: the queue and the reason
        assert_eq!(status.counts.pending, 100);
        assert!(status.last_failure.as_deref().unwrap().contains("503"));
        seen_pause |= status.paused_until.is_some();
        now = now.checked_add(step).unwrap();
    }
    assert!(seen_pause);
    let tries = sim.snapshot().injected_failures;
    assert!(tries < 400, "{tries} tries in a day");
    // back: within one cool-down (≤ 10 min) everything goes, with no one touching it
    let mut config = sim.config();
    config.down = false;
    sim.set_config(config);
    let back = now;
    while central.status(now).unwrap().counts.pending > 0 {
        central.step(now).await.unwrap();
        now = now.checked_add(step).unwrap();
        assert!(now.duration_since(back) <= SignedDuration::from_mins(11));
    }
    let snap = sim.snapshot();
    assert_eq!(snap.dossiers.len(), 20);
    assert_eq!(snap.progress.values().map(Vec::len).sum::<usize>(), 80);
    let status = central.status(now).unwrap();
    assert_eq!(status.last_failure, None);
    assert_eq!(status.paused_until, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_packet_waits_in_dead_letter_until_the_data_is_corrected() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let central = connect(&hub.hub, &sim, quick());
    let (_, officer) = device(&hub, Role::Officer, &[COMMUNE]).await;
    let (_, kiosk) = device(&hub, Role::Kiosk, &[COMMUNE]).await;

    // a dossier whose ID number was typed wrong (11 digits), and a good one
    let partition = Partition::new(format!("{COMMUNE}/kiosk/dev-1")).unwrap();
    let (record, mut bad) = processed_dossier(1, COMMUNE, 3, t0(), 4).unwrap();
    bad.applicant.id_number = "07919000012".into();
    hub.hub
        .with_store(|s| s.put(&partition, &record, &bad).unwrap())
        .unwrap();
    hand_in(&hub.hub, 2, 1, 4);
    drain(&central, Duration::from_secs(60)).await;

    let snap = sim.snapshot();
    assert_eq!(snap.dossiers.len(), 1, "only the good one");
    assert!(!snap.progress.contains_key(&code(&bad)), "its steps wait");
    // the officer sees why, on their tablet (kiosks do not)
    let status = officer.central_status().await.unwrap();
    assert!(status.connected);
    assert_eq!(status.counts.dead, 1);
    assert_eq!(status.counts.pending, 4, "its four steps wait behind it");
    assert_eq!(status.counts.blocked, 4);
    let dead = &status.dead[0];
    assert_eq!(dead.code, code(&bad));
    assert_eq!(dead.error_code, "01");
    assert!(dead.message.contains("SoDinhDanh"), "{}", dead.message);
    assert!(matches!(
        kiosk.central_status().await,
        Err(Error::Refused { status: 403, .. })
    ));
    // retried as it is: refused again, still in dead letter
    assert_eq!(officer.central_retry(Some(&dead.key)).await.unwrap(), 1);
    drain(&central, Duration::from_secs(60)).await;
    assert_eq!(officer.central_status().await.unwrap().counts.dead, 1);

    // corrected (as an officer's sync would), retried: delivered, then its steps, in order
    bad.applicant.id_number = "079190000121".into();
    hub.hub
        .with_store(|s| s.put(&partition, &record, &bad).unwrap())
        .unwrap();
    assert_eq!(officer.central_retry(None).await.unwrap(), 1);
    drain(&central, Duration::from_secs(60)).await;
    let snap = sim.snapshot();
    assert_eq!(snap.dossiers.len(), 2);
    assert_eq!(snap.dossiers[&code(&bad)]["SoDinhDanh"], "079190000121");
    assert_eq!(snap.progress[&code(&bad)].len(), 4);
    let status = officer.central_status().await.unwrap();
    assert_eq!((status.counts.dead, status.counts.pending), (0, 0));
}

fn online(i: u32) -> OnlineDossier {
    OnlineDossier {
        ma_ho_so: format!("000.00.79.H29-261203-{i:04}"),
        ma_tthc: "1.004873".into(),
        ma_don_vi: COMMUNE.into(),
        ngay_tiep_nhan: format!("202612030{}{:02}00", 8 + i / 60 % 2, i % 60),
        chu_ho_so: format!("Người nộp trực tuyến {i}"),
        so_dinh_danh: format!("0791900{i:05}"),
        thong_tin: [("purpose".to_string(), "Kết hôn".to_string())]
            .into_iter()
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_dossiers_reach_the_officers_queue_once_and_earlier_results_need_consent() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let central = connect(&hub.hub, &sim, quick());
    sim.add_online((0..50).map(online).collect());

    let first = central.step(Timestamp::now()).await.unwrap();
    assert_eq!(first.pulled, 50);
    central.pull_now().unwrap();
    let second = central.step(Timestamp::now()).await.unwrap();
    assert_eq!(second.pulled, 0, "the second pull writes nothing again");
    assert_eq!(sim.snapshot().online_list_calls, 2);

    // the officer's tablet syncs and indexes its queue
    let (_, officer) = device(&hub, Role::Officer, &[COMMUNE]).await;
    let mut store = Store::open_in_memory().unwrap();
    officer
        .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap();
    let catalog = xaso_services::Catalog::bundled().unwrap();
    let mut queue = xaso_queue::QueueIndex::open_in_memory().unwrap();
    queue
        .catch_up(&store, &catalog, Holidays::bundled())
        .unwrap();
    assert_eq!(queue.len().unwrap(), 50);
    let found = queue.search("nguoi nop truc tuyen 7", 10).unwrap();
    assert!(!found.is_empty());
    // shown and found by the platform's code (it has no tracking code of ours)
    let by_code = queue.search(&online(7).ma_ho_so, 10).unwrap();
    assert_eq!(by_code.len(), 1);
    assert_eq!(by_code[0].tracking_code, online(7).ma_ho_so);

    // an online dossier's steps go back to the platform under the platform's code
    let record = xaso_central::inbound::online_record_id(&online(3).ma_ho_so);
    let partition = Partition::new(format!("{COMMUNE}/online")).unwrap();
    let mut d: Dossier = hub
        .hub
        .with_store(|s| s.get(&partition, &record).unwrap().unwrap())
        .unwrap();
    d.apply(
        xaso_services::Action::Receive,
        xaso_services::Actor::new(xaso_services::Role::Officer, "officer:79001:1"),
        None,
        Timestamp::now(),
    )
    .unwrap();
    hub.hub
        .with_store(|s| s.put(&partition, &record, &d).unwrap())
        .unwrap();

    // earlier results: one dossier with consent, one without, the same person
    let pdf = b"%PDF-1.7\n% trich luc khai sinh\n".to_vec();
    use base64::Engine;
    sim.add_results(
        "079190012345",
        vec![EarlierResult {
            ma_ho_so: "OLD-1".into(),
            ma_tthc: "1.001193".into(),
            ten_giay_to: "Trích lục khai sinh".into(),
            ngay_cap: "20200101080000".into(),
            noi_dung: base64::engine::general_purpose::STANDARD.encode(&pdf),
        }],
    );
    let kiosk = Partition::new(format!("{COMMUNE}/kiosk/dev-1")).unwrap();
    let (with_record, mut with) = processed_dossier(100, COMMUNE, 3, t0(), 0).unwrap();
    with.applicant.id_number = "079190012345".into();
    with.consent.as_mut().unwrap().fetch_earlier_results = true;
    let (without_record, mut without) = processed_dossier(101, COMMUNE, 3, t0(), 0).unwrap();
    without.applicant.id_number = "079190012345".into();
    hub.hub
        .with_store(|s| {
            s.put(&kiosk, &with_record, &with).unwrap();
            s.put(&kiosk, &without_record, &without).unwrap();
        })
        .unwrap();
    drain(&central, Duration::from_secs(60)).await;

    let snap = sim.snapshot();
    assert_eq!(
        snap.earlier_result_calls,
        [("079190012345".to_string(), "1.001193".to_string())],
        "asked once, for the dossier with consent only"
    );
    assert_eq!(snap.progress[&online(3).ma_ho_so].len(), 1);
    assert!(
        !snap.dossiers.contains_key(&online(3).ma_ho_so),
        "not sent back as new"
    );
    let (with, without): (Dossier, Dossier) = hub
        .hub
        .with_store(|s| {
            (
                s.get(&kiosk, &with_record).unwrap().unwrap(),
                s.get(&kiosk, &without_record).unwrap().unwrap(),
            )
        })
        .unwrap();
    let attached: Vec<_> = with
        .attachments
        .iter()
        .filter(|a| a.paper == xaso_central::inbound::EARLIER_RESULT_PAPER)
        .collect();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].bytes, pdf.len() as u64);
    assert!(without.attachments.is_empty());
    let hash: xaso_sync_core::BlobHash = attached[0].sha256.parse().unwrap();
    let stored = hub
        .hub
        .with_store(|s| s.blob(&kiosk, &hash).unwrap())
        .unwrap();
    assert_eq!(stored.as_deref(), Some(pdf.as_slice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_rate_limit_spaces_the_packets() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let central = connect_at(&hub.hub, &sim, quick(), 20.0);
    // 6 dossiers × 5 packets = 30 packets at 20 per second: at least 1.45 s apart end to end
    hand_in(&hub.hub, 0, 6, 4);
    let started = std::time::Instant::now();
    drain(&central, Duration::from_secs(60)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(1450),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        central.status(Timestamp::now()).unwrap().counts.delivered,
        30
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_dossier_the_mapping_cannot_take_is_shown_and_taken_once_corrected() {
    let hub = start_hub().await;
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let central = connect(&hub.hub, &sim, quick());
    let (_, officer) = device(&hub, Role::Officer, &[COMMUNE]).await;
    let unknown = OnlineDossier {
        ma_tthc: "9.999999".into(),
        ..online(1)
    };
    sim.add_online(vec![online(0), unknown.clone()]);
    assert_eq!(central.step(Timestamp::now()).await.unwrap().pulled, 1);

    // the officer sees it with the refused packets, with the reason
    let status = officer.central_status().await.unwrap();
    assert_eq!(status.counts.dead, 1);
    let refused = &status.dead[0];
    assert_eq!(refused.code, unknown.ma_ho_so);
    assert_eq!(refused.service, "LayDanhSachHoSoTrucTuyen");
    assert!(refused.message.contains("9.999999"), "{}", refused.message);

    // the province corrects its mapping; the officer retries; the next round takes it
    let corrected = xaso_services::catalog::NATIONAL_PORTAL_MAPPING.replace(
        "marital-status-certificate = \"1.004873\"",
        "marital-status-certificate = \"9.999999\"",
    );
    central.set_mapping(&corrected).unwrap();
    assert_eq!(officer.central_retry(Some(&refused.key)).await.unwrap(), 1);
    assert_eq!(central.step(Timestamp::now()).await.unwrap().pulled, 1);
    let status = officer.central_status().await.unwrap();
    assert_eq!((status.counts.dead, status.dead.len()), (0, 0));
    let partition = Partition::new(format!("{COMMUNE}/online")).unwrap();
    let taken: Option<Dossier> = hub
        .hub
        .with_store(|s| {
            s.get(
                &partition,
                &xaso_central::inbound::online_record_id(&unknown.ma_ho_so),
            )
            .unwrap()
        })
        .unwrap();
    assert_eq!(taken.unwrap().procedure.0, "marital-status-certificate");
    // and the one taken before is not written again
    central.pull_now().unwrap();
    assert_eq!(central.step(Timestamp::now()).await.unwrap().pulled, 0);
}
