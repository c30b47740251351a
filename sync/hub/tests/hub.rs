//! The real hub (HTTPS, TLS 1.3, mutual TLS) on loopback with several client stores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use std::time::Duration;

mod common;

use common::{device, metric, start_hub};
use serde_json::json;
use xaso_sync_client::{self as client, CancellationToken, Error, Identity, Progress, SyncClient};
use xaso_sync_core::frame::encode_frame;
use xaso_sync_core::protocol::{ClientSession, KIND_REQUEST};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;

fn p(name: &str) -> Partition {
    Partition::new(name).unwrap()
}

async fn sync(client: &SyncClient, store: &mut Store) -> Result<client::SyncReport, Error> {
    client
        .sync_once(store, &Progress::default(), &CancellationToken::new())
        .await
}

fn assert_same_docs(a: &Store, b: &Store, partition: &Partition) {
    let ids = a.list(partition).unwrap();
    assert_eq!(b.list(partition).unwrap(), ids);
    for id in &ids {
        assert_eq!(
            a.get_json(partition, id).unwrap(),
            b.get_json(partition, id).unwrap()
        );
    }
    assert!(
        a.vector(partition)
            .unwrap()
            .same_as(&b.vector(partition).unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_on_three_devices_and_hub_converge_over_https() {
    let hub = start_hub().await;
    let commune = p("79001");
    let dir = tempfile::tempdir().unwrap();
    let mut devices = Vec::new();
    for i in 0..3 {
        let (_, client) = device(&hub, Role::Officer, &["79001"]).await;
        let key = dir.path().join(format!("d{i}.key"));
        xaso_sync_store::create_key_file(&key).unwrap();
        let store = Store::open(&dir.path().join(format!("d{i}.db")), &key).unwrap();
        devices.push((client, store));
    }
    // Offline: each device edits shared and own records.
    for (i, (_, store)) in devices.iter_mut().enumerate() {
        for r in 0..5 {
            let mut doc = store
                .get_json(&commune, &format!("HS-{r}"))
                .unwrap()
                .unwrap_or(json!({}));
            doc[format!("note_{i}")] = json!(format!("device {i}"));
            store.put(&commune, &format!("HS-{r}"), &doc).unwrap();
        }
        store
            .put(&commune, "shared", &json!({"status": format!("s{i}")}))
            .unwrap();
        store
            .put(&commune, &format!("own-{i}"), &json!({"n": i}))
            .unwrap();
    }
    // Hub-side edit too (e.g. an officer's change already on the hub).
    hub.hub
        .with_store(|s| s.put(&commune, "from-hub", &json!({"x": 1})).unwrap())
        .unwrap();
    for _ in 0..2 {
        for (client, store) in devices.iter_mut() {
            sync(client, store).await.unwrap();
        }
    }
    hub.hub
        .with_store(|hub_store| {
            for (_, store) in &devices {
                assert_same_docs(hub_store, store, &commune);
            }
            assert_eq!(hub_store.list(&commune).unwrap().len(), 5 + 1 + 3 + 1);
            assert_eq!(
                hub_store.conflicts(&commune, "shared").unwrap()[0]
                    .values
                    .len(),
                3
            );
            let doc = hub_store.get_json(&commune, "HS-2").unwrap().unwrap();
            assert_eq!(
                doc,
                json!({"note_0": "device 0", "note_1": "device 1", "note_2": "device 2"})
            );
        })
        .unwrap();
    // Nothing changed now: one round.
    let (client0, store0) = &mut devices[0];
    let report = sync(client0, store0).await.unwrap();
    assert_eq!(report.rounds, 1);
    assert_eq!(report.changes_received + report.changes_sent, 0);
    let metrics = hub.hub.metrics_text();
    assert!(metrics.contains("xaso_hub_sync_requests_total"));
    assert!(metrics.contains("xaso_hub_enrolments_total 3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_commune_a_cannot_read_or_write_commune_b() {
    let hub = start_hub().await;
    let (_, officer_a) = device(&hub, Role::Officer, &["79001"]).await;
    let (_, officer_b) = device(&hub, Role::Officer, &["79002"]).await;
    let mut store_b = Store::open_in_memory().unwrap();
    store_b
        .put(&p("79002"), "secret", &json!({"name": "B's dossier"}))
        .unwrap();
    sync(&officer_b, &mut store_b).await.unwrap();
    // A syncs: it must not receive anything of 79002.
    let mut store_a = Store::open_in_memory().unwrap();
    store_a.put(&p("79001"), "mine", &json!({"x": 1})).unwrap();
    sync(&officer_a, &mut store_a).await.unwrap();
    assert_eq!(store_a.partitions().unwrap(), vec![p("79001")]);
    // A tries to write into 79002 (and read it): 403, nothing written.
    store_a
        .put(&p("79002"), "forged", &json!({"x": 2}))
        .unwrap();
    let before = hub
        .hub
        .with_store(|s| s.change_count(&p("79002")).unwrap())
        .unwrap();
    let err = sync(&officer_a, &mut store_a).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 403, .. }), "{err}");
    let (after, forged) = hub
        .hub
        .with_store(|s| {
            (
                s.change_count(&p("79002")).unwrap(),
                s.get_json(&p("79002"), "forged").unwrap(),
            )
        })
        .unwrap();
    assert_eq!(after, before);
    assert!(forged.is_none());
    assert!(store_a.get_json(&p("79002"), "secret").unwrap().is_none());
    // Asking for the partition explicitly (read attempt) is refused too.
    let mut fresh = Store::open_in_memory().unwrap();
    let err = sync(&officer_a.clone().with_partitions([p("79002")]), &mut fresh)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 403, .. }), "{err}");
    assert!(
        hub.hub
            .metrics_text()
            .contains("xaso_hub_sync_forbidden_total 2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_sees_only_what_it_submitted() {
    let hub = start_hub().await;
    let (kiosk1, client1) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (kiosk2, client2) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let own1 = kiosk1.submissions_partition().unwrap();
    let own2 = kiosk2.submissions_partition().unwrap();
    let mut s1 = Store::open_in_memory().unwrap();
    let mut s2 = Store::open_in_memory().unwrap();
    s1.put(&own1, "HS-1", &json!({"status": "submitted"}))
        .unwrap();
    s2.put(&own2, "HS-2", &json!({"status": "submitted"}))
        .unwrap();
    sync(&client1, &mut s1).await.unwrap();
    sync(&client2, &mut s2).await.unwrap();
    // The officer sees both and accepts HS-1; kiosk 1 gets the status back, kiosk 2 sees nothing of kiosk 1.
    let mut so = Store::open_in_memory().unwrap();
    sync(&officer, &mut so).await.unwrap();
    assert_eq!(so.partitions().unwrap().len(), 2);
    so.put(&own1, "HS-1", &json!({"status": "accepted"}))
        .unwrap();
    sync(&officer, &mut so).await.unwrap();
    sync(&client1, &mut s1).await.unwrap();
    sync(&client2, &mut s2).await.unwrap();
    assert_eq!(
        s1.get_json(&own1, "HS-1").unwrap().unwrap()["status"],
        "accepted"
    );
    assert_eq!(s2.partitions().unwrap(), vec![own2.clone()]);
    // A kiosk writing into the commune partition is refused.
    s2.put(&p("79001"), "x", &json!({"x": 1})).unwrap();
    assert!(matches!(
        sync(&client2, &mut s2).await.unwrap_err(),
        Error::Refused { status: 403, .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_roster_reaches_every_device_of_the_commune_and_only_officers_change_it() {
    use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole};
    let hub = start_hub().await;
    let hoa = hub
        .hub
        .roster_put("79001", "079085001234", "Lê Thị Hoa", StaffRole::Officer)
        .unwrap();
    assert_eq!(hoa.actor_id("79001"), "officer:79001:1");
    hub.hub
        .roster_put("79001", "079090004321", "Trần Văn Bình", StaffRole::Helper)
        .unwrap();
    let public = Partition::public("79001").unwrap();
    let (kiosk, kiosk_client) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, officer_client) = device(&hub, Role::Officer, &["79001"]).await;
    let (_, other_commune) = device(&hub, Role::Helper, &["79002"]).await;
    for client in [&kiosk_client, &officer_client] {
        let mut store = Store::open_in_memory().unwrap();
        sync(client, &mut store).await.unwrap();
        let roster: Roster = store.get(&public, ROSTER_RECORD).unwrap().unwrap();
        assert_eq!(
            roster
                .find("79001", "079090004321", StaffRole::Helper)
                .map(|p| p.display_name.as_str()),
            Some("Trần Văn Bình")
        );
    }
    // Another commune's device never sees it.
    let mut elsewhere = Store::open_in_memory().unwrap();
    sync(&other_commune, &mut elsewhere).await.unwrap();
    assert!(elsewhere.partitions().unwrap().is_empty());
    // A kiosk reads the public partition but may not change it: refused, nothing written.
    let mut ks = Store::open_in_memory().unwrap();
    sync(&kiosk_client, &mut ks).await.unwrap();
    let mut forged: Roster = ks.get(&public, ROSTER_RECORD).unwrap().unwrap();
    forged.put("79001", "001099000001", "Kẻ mạo danh", StaffRole::Officer);
    ks.put(&public, ROSTER_RECORD, &forged).unwrap();
    assert!(matches!(
        sync(&kiosk_client, &mut ks).await.unwrap_err(),
        Error::Refused { status: 403, .. }
    ));
    assert!(
        hub.hub
            .roster("79001")
            .unwrap()
            .find("79001", "001099000001", StaffRole::Officer)
            .is_none()
    );
    // Its own submissions still go through (a fresh store: nothing pending for public).
    let mut clean = Store::open_in_memory().unwrap();
    clean
        .put(
            &kiosk.submissions_partition().unwrap(),
            "HS-1",
            &json!({"x": 1}),
        )
        .unwrap();
    sync(&kiosk_client, &mut clean).await.unwrap();
    // Removal syncs too.
    assert!(hub.hub.roster_remove("79001", "079085001234").unwrap());
    assert!(!hub.hub.roster_remove("79001", "079085001234").unwrap());
    let mut so = Store::open_in_memory().unwrap();
    sync(&officer_client, &mut so).await.unwrap();
    let roster: Roster = so.get(&public, ROSTER_RECORD).unwrap().unwrap();
    assert!(
        roster
            .find("79001", "079085001234", StaffRole::Officer)
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unenrolled_and_revoked_certificates_are_refused() {
    let hub = start_hub().await;
    // A certificate from another CA: refused in the TLS handshake.
    let other = start_hub().await;
    let (foreign, _) = device(&other, Role::Officer, &["79001"]).await;
    let forged = Identity {
        ca_pem: hub.hub.ca_pem().to_owned(),
        ..foreign
    };
    let client = SyncClient::new(&hub.url, &forged).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    store.put(&p("79001"), "x", &json!({"x": 1})).unwrap();
    let err = sync(&client, &mut store).await.unwrap_err();
    assert!(
        matches!(err, Error::Network(_)),
        "TLS must refuse it: {err}"
    );
    assert_eq!(
        hub.hub
            .with_store(|s| s.change_count(&p("79001")).unwrap())
            .unwrap(),
        0
    );
    // Revoked: refused by the hub (401), nothing written.
    let (identity, client) = device(&hub, Role::Officer, &["79001"]).await;
    sync(&client, &mut store).await.unwrap();
    assert_eq!(
        hub.hub
            .with_store(|s| s.change_count(&p("79001")).unwrap())
            .unwrap(),
        1
    );
    assert!(hub.hub.revoke(&identity.device_id).unwrap());
    store.put(&p("79001"), "y", &json!({"y": 1})).unwrap();
    let err = sync(&SyncClient::new(&hub.url, &identity).unwrap(), &mut store)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 401, .. }), "{err}");
    assert_eq!(
        hub.hub
            .with_store(|s| s.change_count(&p("79001")).unwrap())
            .unwrap(),
        1
    );
    assert!(
        hub.hub
            .devices()
            .unwrap()
            .iter()
            .any(|d| d.device_id == identity.device_id && d.revoked)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_codes_are_one_time_and_expire() {
    let hub = start_hub().await;
    let code = hub
        .hub
        .create_enrolment_code(Role::Helper, &["79001"], Duration::from_secs(600))
        .unwrap();
    let identity = client::enrol(&hub.url, hub.hub.ca_pem(), &code.to_lowercase())
        .await
        .unwrap();
    assert_eq!(identity.role, Role::Helper);
    assert_eq!(identity.communes, vec!["79001"]);
    let again = client::enrol(&hub.url, hub.hub.ca_pem(), &code)
        .await
        .unwrap_err();
    assert!(
        matches!(again, Error::Refused { status: 403, .. }),
        "{again}"
    );
    let expired = hub
        .hub
        .create_enrolment_code(Role::Kiosk, &["79001"], Duration::ZERO)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        client::enrol(&hub.url, hub.hub.ca_pem(), &expired)
            .await
            .is_err()
    );
    assert!(
        client::enrol(&hub.url, hub.hub.ca_pem(), "AAAAA-BBBBB")
            .await
            .is_err()
    );
    // Identity round-trips through a private file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.json");
    identity.save(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(Identity::load(&path).unwrap().device_id, identity.device_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_changes_nothing() {
    let hub = start_hub().await;
    let (_, client) = device(&hub, Role::Officer, &["79001"]).await;
    let mut store = Store::open_in_memory().unwrap();
    for r in 0..5 {
        store
            .put(&p("79001"), &format!("d{r}"), &json!({"r": r}))
            .unwrap();
    }
    let mut session = ClientSession::new("hub", []);
    let request = session.poll_request(&store).unwrap().unwrap();
    let frame = encode_frame(KIND_REQUEST, &request).unwrap();
    let first = client
        .exchange(
            frame.clone(),
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let snapshot = hub
        .hub
        .with_store(|s| {
            (
                s.change_count(&p("79001")).unwrap(),
                s.vector(&p("79001")).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(snapshot.0, 5);
    // Later, after others wrote, the captured request is replayed.
    let second = client
        .exchange(
            frame.clone(),
            &Progress::default(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(first, second);
    let after = hub
        .hub
        .with_store(|s| {
            (
                s.change_count(&p("79001")).unwrap(),
                s.vector(&p("79001")).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(after, snapshot);
    // The device still converges normally.
    sync(&client, &mut store).await.unwrap();
    hub.hub
        .with_store(|s| assert_same_docs(s, &store, &p("79001")))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_loop_retries_with_backoff_and_stops_on_cancel() {
    let hub = start_hub().await;
    let (_, client) = device(&hub, Role::Officer, &["79001"]).await;
    let mut store = Store::open_in_memory().unwrap();
    store.put(&p("79001"), "d", &json!({"x": 1})).unwrap();
    let cancel = CancellationToken::new();
    let progress = Progress::default();
    let policy = client::LoopPolicy {
        interval: Duration::from_millis(50),
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
    };
    let mut outcomes = Vec::new();
    let stopper = cancel.clone();
    client
        .run(&mut store, &policy, &progress, &cancel, |r| {
            outcomes.push(r.is_ok());
            if outcomes.len() == 3 {
                stopper.cancel();
            }
        })
        .await;
    assert_eq!(outcomes, vec![true, true, true]);
    for attempt in 0..30 {
        let d = client::backoff_delay(&policy, attempt);
        assert!(d <= Duration::from_millis(150), "{d:?}");
    }
    // A hub that is not there: the loop keeps failing (backing off) until cancelled.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    drop(listener);
    let (identity, _) = device(&hub, Role::Officer, &["79001"]).await;
    let dead_client = SyncClient::new(&dead, &identity).unwrap();
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    let mut failures = 0;
    dead_client
        .run(&mut store, &policy, &progress, &cancel, |r| {
            assert!(r.is_err());
            failures += 1;
            if failures == 3 {
                stopper.cancel();
            }
        })
        .await;
    assert_eq!(failures, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_device_resumes_tls_and_revocation_still_applies() {
    let hub = start_hub().await;
    let (identity, mut client) = device(&hub, Role::Officer, &["79001"]).await;
    let mut store = Store::open_in_memory().unwrap();
    store.put(&p("79001"), "a", &json!({"n": 1})).unwrap();
    sync(&client, &mut store).await.unwrap();
    assert_eq!(metric(&hub.hub, "xaso_hub_connections_resumed_total"), 0);

    // The link drops; the device reconnects and resumes its TLS session
    // (no certificates exchanged) yet is still recognised and served.
    client.reconnect().unwrap();
    store.put(&p("79001"), "b", &json!({"n": 2})).unwrap();
    sync(&client, &mut store).await.unwrap();
    assert_eq!(metric(&hub.hub, "xaso_hub_connections_total"), 3); // enrolment, first, resumed
    assert_eq!(metric(&hub.hub, "xaso_hub_connections_resumed_total"), 1);
    assert_eq!(
        hub.hub
            .with_store(|s| s.list(&p("79001")).unwrap())
            .unwrap(),
        vec!["a", "b"]
    );

    // Revoked while holding a valid ticket: the resumed session still
    // carries the device's certificate and is refused, nothing written.
    assert!(hub.hub.revoke(&identity.device_id).unwrap());
    client.reconnect().unwrap();
    store.put(&p("79001"), "c", &json!({"n": 3})).unwrap();
    let err = sync(&client, &mut store).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 401, .. }), "{err}");
    assert_eq!(metric(&hub.hub, "xaso_hub_connections_resumed_total"), 2);
    assert_eq!(
        hub.hub
            .with_store(|s| s.change_count(&p("79001")).unwrap())
            .unwrap(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_gives_each_device_of_a_commune_its_own_number_for_good() {
    let hub = start_hub().await;
    let mut numbers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (identity, _) = device(&hub, Role::Kiosk, &["79001"]).await;
        numbers.push(identity.device_number.unwrap());
        ids.push(identity.device_id);
    }
    assert_eq!(numbers, vec![0, 1, 2]);
    // Another commune counts on its own.
    let (other, _) = device(&hub, Role::Kiosk, &["79002"]).await;
    assert_eq!(other.device_number, Some(0));
    // A revoked device's number is never given again (codes it minted stay unique).
    assert!(hub.hub.revoke(&ids[1]).unwrap());
    let (next, _) = device(&hub, Role::Helper, &["79001"]).await;
    assert_eq!(next.device_number, Some(3));
    // A device of two communes gets a number free in both.
    let (both, _) = device(&hub, Role::Officer, &["79002", "79001"]).await;
    assert_eq!(both.device_number, Some(4));
    // Identities saved before numbers existed still load (number unknown).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.json");
    next.save(&path).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("device_number");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(Identity::load(&path).unwrap().device_number, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_checked_in_full_again_after_a_hub_restart() {
    use xaso_hub::{Hub, HubConfig};
    let dir = tempfile::tempdir().unwrap();
    let config = || HubConfig::new(dir.path().join("hub"));
    let serve = |hub: Hub| async move {
        let (addr, handle) = hub.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
        (format!("https://127.0.0.1:{}", addr.port()), handle)
    };
    let hub = Hub::open(config()).unwrap();
    let (url, handle) = serve(hub.clone()).await;
    let enrol = |hub: &Hub| {
        let code = hub
            .create_enrolment_code(Role::Officer, &["79001"], Duration::from_secs(600))
            .unwrap();
        let (url, ca) = (url.clone(), hub.ca_pem().to_owned());
        async move { client::enrol(&url, &ca, &code).await.unwrap() }
    };
    let kept = enrol(&hub).await;
    let revoked = enrol(&hub).await;
    // Each device keeps the hub's own certificate from its enrolment.
    assert!(
        kept.hub_cert_pem
            .as_deref()
            .is_some_and(|pem| pem.contains("BEGIN CERTIFICATE"))
    );
    let mut store = Store::open_in_memory().unwrap();
    store.put(&p("79001"), "a", &json!({"n": 1})).unwrap();
    sync(&SyncClient::new(&url, &kept).unwrap(), &mut store)
        .await
        .unwrap();
    assert!(hub.revoke(&revoked.device_id).unwrap());
    handle.stop().await;
    drop(hub);

    // The restarted hub remembers no certificate: each is checked against
    // its CA again (and the registry still knows who is revoked).
    let hub = Hub::open(config()).unwrap();
    let (url, _handle) = serve(hub.clone()).await;
    store.put(&p("79001"), "b", &json!({"n": 2})).unwrap();
    sync(&SyncClient::new(&url, &kept).unwrap(), &mut store)
        .await
        .unwrap();
    let err = sync(&SyncClient::new(&url, &revoked).unwrap(), &mut store)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 401, .. }), "{err}");
    assert_eq!(
        hub.with_store(|s| s.list(&p("79001")).unwrap()).unwrap(),
        vec!["a", "b"]
    );
    // A device without the hub's certificate (enrolled by an older hub)
    // checks the chain and is served as well.
    let older = Identity {
        hub_cert_pem: None,
        ..kept
    };
    store.put(&p("79001"), "c", &json!({"n": 3})).unwrap();
    sync(&SyncClient::new(&url, &older).unwrap(), &mut store)
        .await
        .unwrap();
    assert_eq!(
        hub.with_store(|s| s.change_count(&p("79001")).unwrap())
            .unwrap(),
        3
    );
}
