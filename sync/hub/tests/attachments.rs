//! Attachments through the real hub (HTTPS, TLS 1.3, mutual TLS): upload by a
//! kiosk, download by an officer, scope, verification, replays.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use xaso_sync_core::blob::{BlobHash, Held, StatusRequest};
mod common;

use common::{device, metric, page, start_hub};
use xaso_hub::Hub;
use xaso_sync_client::{self as client, CancellationToken, Error, Progress};
use xaso_sync_core::{Partition, Role};
use xaso_sync_store::Store;

fn none() -> (Progress, CancellationToken) {
    (Progress::default(), CancellationToken::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_uploads_three_pages_and_an_officer_downloads_them_byte_identical() {
    let hub = start_hub().await;
    let (kiosk_id, kiosk) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let partition = kiosk_id.submissions_partition().unwrap();
    let mut kiosk_store = Store::open_in_memory().unwrap();
    let pages: Vec<Vec<u8>> = (0..3)
        .map(|i| page(i, 100_000 + 50_000 * i as usize))
        .collect();
    let hashes: Vec<BlobHash> = pages
        .iter()
        .map(|b| kiosk_store.put_blob(&partition, b).unwrap())
        .collect();
    kiosk_store
        .put(
            &partition,
            "dossier-1",
            &serde_json::json!({ "pages": hashes.iter().map(BlobHash::to_hex).collect::<Vec<_>>() }),
        )
        .unwrap();
    let (progress, cancel) = none();
    kiosk
        .sync_once(&mut kiosk_store, &progress, &cancel)
        .await
        .unwrap();
    let report = kiosk
        .push_blobs(&mut kiosk_store, &progress, &cancel)
        .await
        .unwrap();
    let total: u64 = pages.iter().map(|p| p.len() as u64).sum();
    assert_eq!(report.uploaded, 3);
    assert_eq!(report.bytes_sent, total);
    assert_eq!(report.resumed, 0);
    let snapshot = progress.snapshot();
    assert_eq!(snapshot.blob_bytes_total, total);
    assert_eq!(snapshot.blob_bytes_done, total);
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_bytes_in_total"), total);
    assert_eq!(metric(&hub.hub, "xaso_hub_blobs_completed_total"), 3);
    // Pushed again: the hub's confirmation is remembered, nothing is asked or sent.
    let again = kiosk
        .push_blobs(&mut kiosk_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!(again, client::BlobReport::default());
    // On the hub, encrypted in hub.db, readable through its store.
    hub.hub
        .with_store(|s| {
            for (hash, bytes) in hashes.iter().zip(&pages) {
                assert_eq!(s.blob(&partition, hash).unwrap().as_ref(), Some(bytes));
            }
        })
        .unwrap();

    // The officer learns of the pages through the record sync, then fetches them.
    let mut officer_store = Store::open_in_memory().unwrap();
    officer
        .sync_once(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!(officer_store.missing_blobs(&partition).unwrap().len(), 3);
    let report = officer
        .pull_blobs(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!(report.downloaded, 3);
    assert_eq!(report.bytes_received, total);
    assert_eq!(progress.snapshot().blob_bytes_done, total);
    for (hash, bytes) in hashes.iter().zip(&pages) {
        assert_eq!(
            officer_store.blob(&partition, hash).unwrap().as_ref(),
            Some(bytes),
            "byte-identical"
        );
    }
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_bytes_out_total"), total);
    // Nothing left to fetch, and nothing to push back (downloads count as confirmed).
    let report = officer
        .sync_blobs(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!(report, client::BlobReport::default());
    drop((kiosk, officer));
    hub.handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_outside_the_partition_gets_403_and_nothing_is_written() {
    let hub = start_hub().await;
    let (kiosk_id, _kiosk) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, other_kiosk) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, stranger) = device(&hub, Role::Officer, &["79002"]).await;
    let partition = kiosk_id.submissions_partition().unwrap();
    let bytes = page(7, 30_000);
    let hash = BlobHash::of(&bytes);
    let (progress, cancel) = none();
    let commune = Partition::new("79001").unwrap();
    for (who, target) in [
        (&stranger, &partition),
        (&other_kiosk, &partition),
        // A kiosk uploads only to its own submissions partition, not the commune's.
        (&other_kiosk, &commune),
    ] {
        let err = who
            .upload_blob(target, &hash, 30_000, 0, bytes.clone(), &progress, &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { status: 403, .. }), "{err}");
        let err = who
            .blob_status(
                &StatusRequest {
                    partition: target.clone(),
                    hashes: vec![hash],
                },
                &progress,
                &cancel,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Refused { status: 403, .. }), "{err}");
        let held = hub
            .hub
            .with_store(|s| s.blob_held(target, &hash).unwrap())
            .unwrap();
        assert_eq!(held, Held::Nothing, "nothing written");
    }
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_bytes_in_total"), 0);
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_forbidden_total"), 6);
    // Nor can a stranger read a blob that is there.
    hub.hub
        .with_store(|s| s.put_blob(&partition, &bytes).unwrap())
        .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let err = stranger
        .download_blob(
            &mut store,
            &partition,
            xaso_sync_core::blob::Transfer {
                hash,
                size: 30_000,
                offset: 0,
            },
            &progress,
            &cancel,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 403, .. }), "{err}");
    assert_eq!(store.blob_held(&partition, &hash).unwrap(), Held::Nothing);
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_bytes_out_total"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_upload_is_refused_unseen_and_a_replayed_one_is_harmless() {
    let hub = start_hub().await;
    let (kiosk_id, kiosk) = device(&hub, Role::Kiosk, &["79001"]).await;
    let partition = kiosk_id.submissions_partition().unwrap();
    let bytes = page(11, 80_000);
    let hash = BlobHash::of(&bytes);
    let (progress, cancel) = none();
    let mut corrupted = bytes.clone();
    corrupted[60_000] ^= 1;
    let err = kiosk
        .upload_blob(&partition, &hash, 80_000, 0, corrupted, &progress, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 422, .. }), "{err}");
    let seen = |hub: &Hub| {
        hub.with_store(|s| {
            (
                s.blob_held(&partition, &hash).unwrap(),
                s.blobs(&partition).unwrap().len(),
            )
        })
        .unwrap()
    };
    assert_eq!(
        seen(&hub.hub),
        (Held::Nothing, 0),
        "not made visible, partial discarded"
    );
    assert_eq!(metric(&hub.hub, "xaso_hub_blob_refused_total"), 1);
    // A body longer than declared is refused too.
    let err = kiosk
        .upload_blob(&partition, &hash, 10, 0, bytes.clone(), &progress, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused { status: 400, .. }), "{err}");
    // Starting beyond what the hub holds: 409 with where to resume.
    let err = kiosk
        .upload_blob(
            &partition,
            &hash,
            80_000,
            40_000,
            bytes[40_000..].to_vec(),
            &progress,
            &cancel,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(xaso_sync_core::Error::BlobGap { held: 0 })),
        "{err}"
    );
    // The honest bytes, in two requests, then the whole again (a replay).
    let held = kiosk
        .upload_blob(
            &partition,
            &hash,
            80_000,
            0,
            bytes[..50_000].to_vec(),
            &progress,
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(
        held,
        Held::Partial {
            held: 50_000,
            size: 80_000
        }
    );
    let held = kiosk
        .upload_blob(
            &partition,
            &hash,
            80_000,
            50_000,
            bytes[50_000..].to_vec(),
            &progress,
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(held, Held::Complete { size: 80_000 });
    let held = kiosk
        .upload_blob(
            &partition,
            &hash,
            80_000,
            0,
            bytes.clone(),
            &progress,
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(held, Held::Complete { size: 80_000 });
    assert_eq!(
        seen(&hub.hub),
        (Held::Complete { size: 80_000 }, 1),
        "stored once"
    );
    assert_eq!(metric(&hub.hub, "xaso_hub_blobs_completed_total"), 1);
    hub.hub
        .with_store(|s| assert_eq!(s.blob(&partition, &hash).unwrap().unwrap(), bytes))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_is_told_which_pages_the_hub_does_not_have_yet() {
    let hub = start_hub().await;
    let (kiosk_id, kiosk) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let partition = kiosk_id.submissions_partition().unwrap();
    let mut kiosk_store = Store::open_in_memory().unwrap();
    let hash = kiosk_store.put_blob(&partition, &page(3, 20_000)).unwrap();
    let (progress, cancel) = none();
    // Records synced, bytes not yet pushed.
    kiosk
        .sync_once(&mut kiosk_store, &progress, &cancel)
        .await
        .unwrap();
    let mut officer_store = Store::open_in_memory().unwrap();
    officer
        .sync_once(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    let report = officer
        .pull_blobs(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!((report.downloaded, report.unavailable), (0, 1));
    kiosk
        .push_blobs(&mut kiosk_store, &progress, &cancel)
        .await
        .unwrap();
    let report = officer
        .pull_blobs(&mut officer_store, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!((report.downloaded, report.unavailable), (1, 0));
    assert!(officer_store.has_blob(&partition, &hash).unwrap());
}
