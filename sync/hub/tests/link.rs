//! Through the link emulator: cuts at many byte offsets, and a slow link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use std::time::Duration;

mod common;

use common::{metric, page};
use xaso_hub::{Hub, HubConfig, HubHandle};
use xaso_sync_client::{self as client, CancellationToken, Progress, SyncClient};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;
use xaso_sync_testkit::link::{Cut, Direction, Link, LinkConfig};

fn p(name: &str) -> Partition {
    Partition::new(name).unwrap()
}

async fn start_hub(dir: &std::path::Path) -> (Hub, std::net::SocketAddr, HubHandle) {
    let hub = Hub::open(HubConfig::new(dir.join("hub"))).unwrap();
    let (addr, handle) = hub
        .clone()
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (hub, addr, handle)
}

async fn identity(hub: &Hub, addr: std::net::SocketAddr) -> client::Identity {
    let code = hub
        .create_enrolment_code(Role::Officer, &["79001"], Duration::from_secs(600))
        .unwrap();
    client::enrol(
        &format!("https://127.0.0.1:{}", addr.port()),
        hub.ca_pem(),
        &code,
    )
    .await
    .unwrap()
}

/// Puts `count` synthetic dossiers into the hub's commune 79001.
fn fill_hub(hub: &Hub, count: u64) {
    hub.with_store(|s| {
        for r in 0..count {
            s.put(
                &p("79001"),
                &format!("HS-{r}"),
                &xaso_sync_testkit::sample::dossier(r),
            )
            .unwrap();
        }
    })
    .unwrap();
}

fn device_store(prefix: &str, records: u64) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    for r in 0..records {
        store
            .put(
                &p("79001"),
                &format!("{prefix}-{r}"),
                &xaso_sync_testkit::sample::dossier(r),
            )
            .unwrap();
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_at_any_of_24_byte_offsets_then_reconnect_converges_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, addr, _handle) = start_hub(dir.path()).await;
    let id = identity(&hub, addr).await;
    // The hub already holds records from elsewhere, so both directions carry data.
    hub.with_store(|s| {
        for r in 0..30 {
            s.put(
                &p("79001"),
                &format!("hub-{r}"),
                &xaso_sync_testkit::sample::dossier(1000 + r),
            )
            .unwrap();
        }
    })
    .unwrap();
    // Measure a clean run to choose offsets across its whole length.
    let clean = Link::start(addr, LinkConfig::unlimited()).await.unwrap();
    let client = SyncClient::new(&format!("https://127.0.0.1:{}", clean.addr().port()), &id)
        .unwrap()
        .with_page_bytes(8 * 1024);
    let mut probe = device_store("probe", 10);
    let report = client
        .sync_once(&mut probe, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert!(report.rounds > 1, "pages force several rounds: {report:?}");
    let up = clean
        .stats()
        .bytes_up
        .load(std::sync::atomic::Ordering::Relaxed);
    let down = clean
        .stats()
        .bytes_down
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut hub_changes = hub
        .with_store(|s| s.change_count(&p("79001")).unwrap())
        .unwrap();
    let mut cases = Vec::new();
    for i in 0..12u64 {
        // Includes offsets inside the TLS handshake, mid-request, mid-reply and near the end.
        cases.push(Cut {
            connection: 0,
            direction: Direction::Up,
            at_byte: [1, 200, 600][i.min(2) as usize].max(up * i / 12),
        });
        cases.push(Cut {
            connection: 0,
            direction: Direction::Down,
            at_byte: [1, 200, 1500][i.min(2) as usize].max(down * i / 12 + 7),
        });
    }
    assert!(cases.len() >= 20);
    let mut cut_count = 0;
    for (case, cut) in cases.into_iter().enumerate() {
        let link = Link::start(addr, LinkConfig::unlimited().with_cut(cut))
            .await
            .unwrap();
        let url = format!("https://127.0.0.1:{}", link.addr().port());
        let prefix = format!("case{case}");
        let mut store = device_store(&prefix, 10);
        let origin = store.origin();
        let first = SyncClient::new(&url, &id)
            .unwrap()
            .with_page_bytes(8 * 1024);
        let outcome = first
            .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
            .await;
        cut_count += link.stats().cuts.load(std::sync::atomic::Ordering::Relaxed);
        // Reconnect (a new connection is not cut) and finish.
        let again = SyncClient::new(&url, &id)
            .unwrap()
            .with_page_bytes(8 * 1024);
        again
            .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("{cut:?}: {e}; first: {outcome:?}"));
        hub.with_store(|s| {
            let partition = p("79001");
            // No loss: every record identical on both sides.
            let ids = store.list(&partition).unwrap();
            for id in ids
                .iter()
                .filter(|id| id.starts_with(&format!("{prefix}-")) || id.starts_with("hub-"))
            {
                assert_eq!(
                    s.get_json(&partition, id).unwrap(),
                    store.get_json(&partition, id).unwrap(),
                    "{cut:?}"
                );
            }
            assert!(
                s.vector(&partition)
                    .unwrap()
                    .same_as(&store.vector(&partition).unwrap()),
                "{cut:?}"
            );
            assert_eq!(s.list(&partition).unwrap(), ids, "{cut:?}");
            // No duplicates: exactly this device's 10 changes were added.
            assert_eq!(s.vector(&partition).unwrap().get(&origin), 10);
            hub_changes += 10;
            assert_eq!(s.change_count(&partition).unwrap(), hub_changes, "{cut:?}");
        })
        .unwrap();
    }
    assert!(cut_count >= 20, "cuts really happened: {cut_count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_over_64_kbit_300_ms_completes_on_one_connection() {
    // Scaled down from the 1,000-dossier acceptance run (which is in `cargo xtask bench sync`).
    let dir = tempfile::tempdir().unwrap();
    let (hub, addr, handle) = start_hub(dir.path()).await;
    let id = identity(&hub, addr).await;
    fill_hub(&hub, 60);
    let link = Link::start(
        addr,
        LinkConfig::slow(64_000, Duration::from_millis(300), 0.0),
    )
    .await
    .unwrap();
    let client = SyncClient::new(&format!("https://127.0.0.1:{}", link.addr().port()), &id)
        .unwrap()
        .with_page_bytes(16 * 1024)
        .with_liveness(Duration::from_secs(10));
    let mut store = Store::open_in_memory().unwrap();
    let progress = Progress::default();
    let report = client
        .sync_once(&mut store, &progress, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.changes_received, 60);
    assert!(report.rounds >= 2, "{report:?}");
    assert_eq!(
        link.stats()
            .connections
            .load(std::sync::atomic::Ordering::Relaxed),
        1,
        "zero reconnects"
    );
    let snapshot = progress.snapshot();
    assert_eq!(snapshot.changes_received, 60);
    assert_eq!(snapshot.changes_remaining, 0);
    assert!(snapshot.bytes_received >= report.bytes_received);
    hub.with_store(|s| {
        assert_eq!(
            s.list(&p("79001")).unwrap(),
            store.list(&p("79001")).unwrap()
        )
    })
    .unwrap();
    // Stop the hub before the runtime and the process wind down, so no hub task is still
    // inside the store when the process exits.
    drop(client);
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_slow_sync_keeps_what_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, addr, _handle) = start_hub(dir.path()).await;
    let id = identity(&hub, addr).await;
    fill_hub(&hub, 40);
    let link = Link::start(
        addr,
        LinkConfig::slow(64_000, Duration::from_millis(100), 0.0),
    )
    .await
    .unwrap();
    let url = format!("https://127.0.0.1:{}", link.addr().port());
    let client = SyncClient::new(&url, &id)
        .unwrap()
        .with_page_bytes(4 * 1024);
    let mut store = Store::open_in_memory().unwrap();
    let cancel = CancellationToken::new();
    let progress = Progress::default();
    let watcher = {
        let cancel = cancel.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            while progress.snapshot().changes_received < 5 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
        })
    };
    let err = client
        .sync_once(&mut store, &progress, &cancel)
        .await
        .unwrap_err();
    watcher.await.unwrap();
    assert!(matches!(err, xaso_sync_client::Error::Cancelled), "{err}");
    let kept = store.list(&p("79001")).unwrap().len();
    assert!((5..40).contains(&kept), "{kept}");
    // Resume: the rest arrives, nothing twice.
    let report = SyncClient::new(&url, &id)
        .unwrap()
        .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.changes_received as usize, 40 - kept);
    assert_eq!(store.list(&p("79001")).unwrap().len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_is_based_on_progress_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HubConfig::new(dir.path().join("hub"));
    config.liveness = Duration::from_millis(300);
    let hub = Hub::open(config).unwrap();
    let (addr, _handle) = hub
        .clone()
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // Hub side: a connection on which nothing moves is closed.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut idle, &mut buf),
    )
    .await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "idle connection closed by the hub: {read:?}"
    );
    assert!(
        hub.metrics_text()
            .contains("xaso_hub_connections_stalled_total 1")
    );
    // Client side (against a hub with the default liveness): a link where every
    // segment stalls for 30 s makes no progress: Stalled, not a hang.
    let (hub, addr, _handle2) = start_hub(&dir.path().join("second")).await;
    let code = hub
        .create_enrolment_code(Role::Officer, &["79001"], Duration::from_secs(600))
        .unwrap();
    let id = client::enrol(
        &format!("https://127.0.0.1:{}", addr.port()),
        hub.ca_pem(),
        &code,
    )
    .await
    .unwrap();
    let mut stuck = LinkConfig::unlimited();
    stuck.loss = 1.0;
    stuck.stall = Duration::from_secs(30);
    let link = Link::start(addr, stuck).await.unwrap();
    let client = SyncClient::new(&format!("https://127.0.0.1:{}", link.addr().port()), &id)
        .unwrap()
        .with_liveness(Duration::from_secs(1));
    let mut store = Store::open_in_memory().unwrap();
    let started = std::time::Instant::now();
    let err = client
        .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, xaso_sync_client::Error::Stalled(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_three_times_over_64_kbit_300_ms_resumes_from_the_hubs_durable_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, addr, handle) = start_hub(dir.path()).await;
    let direct = format!("https://127.0.0.1:{}", addr.port());
    let code = hub
        .create_enrolment_code(Role::Kiosk, &["79001"], Duration::from_secs(600))
        .unwrap();
    let id = client::enrol(&direct, hub.ca_pem(), &code).await.unwrap();
    let partition = id.submissions_partition().unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let bytes = page(42, 40_000);
    let hash = store.put_blob(&partition, &bytes).unwrap();
    // The record sync (with the blob's index record) first, on a good link.
    SyncClient::new(&direct, &id)
        .unwrap()
        .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap();
    // Then the bytes over 64 kbit/s, 300 ms RTT; each of the first three
    // connections is cut part-way (the TLS handshake and the status request
    // come first on each).
    let mut config = LinkConfig::slow(64_000, Duration::from_millis(300), 0.0);
    for (connection, at_byte) in [(0, 12_000), (1, 14_000), (2, 16_000)] {
        config = config.with_cut(Cut {
            connection,
            direction: Direction::Up,
            at_byte,
        });
    }
    let link = Link::start(addr, config).await.unwrap();
    let url = format!("https://127.0.0.1:{}", link.addr().port());
    let held = |hub: &Hub| {
        hub.with_store(|s| s.blob_held(&partition, &hash).unwrap())
            .unwrap()
    };
    let mut offsets = Vec::new();
    let mut last = None;
    for _ in 0..8 {
        // Once the hub has seen the break, every byte that reached it is
        // durably held (nothing arrives twice in this test, so the counter of
        // bytes received equals the durable offset).
        let settled = async {
            loop {
                let offset = held(&hub).offset();
                if offset == metric(&hub, "xaso_hub_blob_bytes_in_total") {
                    return offset;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let offset = tokio::time::timeout(Duration::from_secs(10), settled)
            .await
            .expect("what reached the hub before the cut is durable");
        offsets.push(offset);
        let client = SyncClient::new(&url, &id)
            .unwrap()
            .with_liveness(Duration::from_secs(10));
        let progress = Progress::default();
        match client
            .push_blobs(&mut store, &progress, &CancellationToken::new())
            .await
        {
            Ok(report) => {
                let snapshot = progress.snapshot();
                assert_eq!(snapshot.blob_bytes_total, snapshot.blob_bytes_done);
                last = Some(report);
                break;
            }
            Err(e) => assert!(
                matches!(e, xaso_sync_client::Error::Network(_)),
                "a cut is a network error: {e}"
            ),
        }
    }
    let report = last.expect("the upload finished within 8 connections");
    // Figures for the report (visible with --no-capture).
    println!(
        "upload resumed: durable offsets {offsets:?}, hub received {} bytes of a 40000-byte blob",
        metric(&hub, "xaso_hub_blob_bytes_in_total")
    );
    // Three connections are set to be cut; usually all three are, sometimes a
    // connection is spent before its cut offset (then fewer attempts).
    let cuts = link.stats().cuts.load(std::sync::atomic::Ordering::Relaxed);
    assert!(cuts >= 2, "{cuts} cuts");
    assert_eq!(offsets.len() as u64, cuts + 1, "{offsets:?}");
    // Every reconnect resumed from what the hub held durably, which grew each time.
    assert_eq!(offsets[0], 0);
    assert!(
        offsets.windows(2).all(|w| w[1] > w[0]),
        "durable offsets grow: {offsets:?}"
    );
    let resumed_from = *offsets.last().unwrap();
    assert_eq!(report.uploaded, 1);
    assert_eq!(report.resumed, 1);
    assert_eq!(report.bytes_skipped, resumed_from);
    assert_eq!(report.bytes_sent, 40_000 - resumed_from);
    // Bytes that reached the hub: the blob, plus at most what a race re-sent;
    // restarting from zero would have re-sent every durable offset.
    let arrived = metric(&hub, "xaso_hub_blob_bytes_in_total");
    let resent = arrived - 40_000;
    let restart_resends: u64 = offsets.iter().sum();
    assert!(
        resent < restart_resends,
        "re-sent {resent} bytes; a restart would re-send {restart_resends} ({offsets:?})"
    );
    // Verified and visible on the hub, byte-identical.
    hub.with_store(|s| assert_eq!(s.blob(&partition, &hash).unwrap().unwrap(), bytes))
        .unwrap();
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_at_several_offsets_resumes_from_the_devices_durable_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, addr, handle) = start_hub(dir.path()).await;
    let id = identity(&hub, addr).await;
    let partition = Partition::submissions("79001", "dev-kiosk").unwrap();
    let bytes = page(7, 200_000);
    let hash = hub
        .with_store(|s| s.put_blob(&partition, &bytes).unwrap())
        .unwrap();
    let direct = format!("https://127.0.0.1:{}", addr.port());
    let mut store = Store::open_in_memory().unwrap();
    SyncClient::new(&direct, &id)
        .unwrap()
        .sync_once(&mut store, &Progress::default(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(store.missing_blobs(&partition).unwrap().len(), 1);
    let mut config = LinkConfig::unlimited();
    for (connection, at_byte) in [(0, 60_000), (1, 50_000), (2, 40_000)] {
        config = config.with_cut(Cut {
            connection,
            direction: Direction::Down,
            at_byte,
        });
    }
    let link = Link::start(addr, config).await.unwrap();
    let url = format!("https://127.0.0.1:{}", link.addr().port());
    let mut offsets = Vec::new();
    let mut received = 0;
    let mut last = None;
    for _ in 0..8 {
        offsets.push(store.blob_held(&partition, &hash).unwrap().offset());
        let progress = Progress::default();
        let outcome = SyncClient::new(&url, &id)
            .unwrap()
            .pull_blobs(&mut store, &progress, &CancellationToken::new())
            .await;
        received += progress.snapshot().blob_bytes_done;
        // Not visible before it is whole and verified.
        assert_eq!(
            store.blob(&partition, &hash).unwrap().is_some(),
            outcome.is_ok()
        );
        if let Ok(report) = outcome {
            last = Some(report);
            break;
        }
    }
    let report = last.expect("the download finished within 8 connections");
    // Three connections are cut; usually each cut hits the download itself. Under load
    // the status request can finish on a connection of its own (the pool had not taken
    // the first one back yet), which uses up a cut: at least one cut must still have hit
    // the download.
    assert!((2..=4).contains(&offsets.len()), "{offsets:?}");
    assert!(offsets.windows(2).all(|w| w[1] > w[0]), "{offsets:?}");
    assert_eq!((report.downloaded, report.resumed), (1, 1));
    // Everything that arrived before a cut was kept: no byte came twice.
    assert_eq!(received, 200_000, "{offsets:?}");
    assert_eq!(store.blob(&partition, &hash).unwrap().unwrap(), bytes);
    handle.stop().await;
}
