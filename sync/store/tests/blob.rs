//! Attachments without sockets: the blob store, the index, and the sans-IO
//! transfer rules (resume offsets, replays, verification).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use proptest::prelude::*;
use xaso_sync_core::blob::{
    self, BlobHash, BlobIndex, ChunkDecision, Held, StatusReply, StatusRequest, Transfer,
};
use xaso_sync_core::{BlobInfo, Error as CoreError, Partition};
use xaso_sync_store::{Error, Store, create_key_file};
use xaso_sync_testkit::sample::page;

fn p(name: &str) -> Partition {
    Partition::new(name).unwrap()
}

/// Copy every record change `from` has that `to` lacks (the record sync, without it).
fn copy_records(from: &Store, to: &mut Store) {
    for partition in from.partitions().unwrap() {
        let (entries, _) = from
            .entries_after(&partition, &to.vector(&partition).unwrap(), usize::MAX)
            .unwrap();
        to.apply_entries(&partition, &entries, None).unwrap();
    }
}

#[test]
fn a_blob_is_stored_once_per_partition_indexed_and_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let db = dir.path().join("s.db");
    create_key_file(&key).unwrap();
    let kiosk = p("79001/kiosk/dev-1");
    let mut bytes = page(1, 50_000);
    bytes[100..130].copy_from_slice(b"GIAY-CHUNG-SINH-PLAINTEXT-XYZ!");
    let mut store = Store::open(&db, &key).unwrap();
    let hash = store.put_blob(&kiosk, &bytes).unwrap();
    assert_eq!(hash, BlobHash::of(&bytes));
    assert_eq!(hash.to_hex().parse::<BlobHash>().unwrap(), hash);
    let changes = store.change_count(&kiosk).unwrap();
    // Same bytes again: same hash, nothing new stored or logged.
    assert_eq!(store.put_blob(&kiosk, &bytes).unwrap(), hash);
    assert_eq!(store.change_count(&kiosk).unwrap(), changes);
    assert_eq!(
        store.blobs(&kiosk).unwrap(),
        vec![BlobInfo { hash, size: 50_000 }]
    );
    // The index record says the blob exists.
    let index: BlobIndex = store
        .get(&kiosk, &blob::index_record_id(&hash))
        .unwrap()
        .unwrap();
    assert_eq!(index.sha256, hash.to_hex());
    assert_eq!(index.size, 50_000);
    assert!(store.missing_blobs(&kiosk).unwrap().is_empty());
    // Per partition: another partition holds its own copy.
    let other = p("79001");
    assert_eq!(store.blob(&other, &hash).unwrap(), None);
    store.put_blob(&other, &bytes).unwrap();
    assert_eq!(store.blob(&other, &hash).unwrap().unwrap(), bytes);
    drop(store);
    // Durable and encrypted: back after reopening, absent from the raw file.
    let store = Store::open(&db, &key).unwrap();
    assert_eq!(store.blob(&kiosk, &hash).unwrap().unwrap(), bytes);
    assert_eq!(
        store.blob_held(&kiosk, &hash).unwrap(),
        Held::Complete { size: 50_000 }
    );
    drop(store);
    for file in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(raw) = std::fs::read(&file) {
            assert!(
                !raw.windows(30)
                    .any(|w| w == b"GIAY-CHUNG-SINH-PLAINTEXT-XYZ!"),
                "{} holds the blob in clear",
                file.display()
            );
        }
    }
}

#[test]
fn a_blob_over_the_limit_is_a_typed_error_and_nothing_is_stored() {
    let mut store = Store::open_in_memory().unwrap();
    let big = vec![7u8; blob::MAX_BLOB_BYTES as usize + 1];
    let err = store.put_blob(&p("79001"), &big).unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::BlobTooLarge { size, max }) if size == max + 1),
        "{err}"
    );
    assert!(store.blobs(&p("79001")).unwrap().is_empty());
    assert!(
        store.partitions().unwrap().is_empty(),
        "no index record either"
    );
    // A transfer declaring too large a size is refused the same way.
    let err = store
        .append_blob_chunk(
            &p("79001"),
            &BlobHash::of(b"x"),
            blob::MAX_BLOB_BYTES + 1,
            0,
            b"x",
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::BlobTooLarge { .. })),
        "{err}"
    );
}

#[test]
fn the_index_travels_with_the_records_and_names_what_a_peer_lacks() {
    let kiosk_partition = p("79001/kiosk/dev-1");
    let mut kiosk = Store::open_in_memory().unwrap();
    let mut hub = Store::open_in_memory().unwrap();
    let mut officer = Store::open_in_memory().unwrap();
    let pages: Vec<Vec<u8>> = (0..3).map(|i| page(i, 20_000 + i as usize)).collect();
    let hashes: Vec<BlobHash> = pages
        .iter()
        .map(|b| kiosk.put_blob(&kiosk_partition, b).unwrap())
        .collect();
    kiosk
        .put(
            &kiosk_partition,
            "dossier-1",
            &serde_json::json!({ "attachments": hashes.iter().map(BlobHash::to_hex).collect::<Vec<_>>() }),
        )
        .unwrap();
    copy_records(&kiosk, &mut hub);
    copy_records(&hub, &mut officer);
    let mut wanted: Vec<BlobInfo> = officer.missing_blobs(&kiosk_partition).unwrap();
    wanted.sort_by_key(|b| b.hash);
    let mut expected: Vec<BlobInfo> = hashes
        .iter()
        .zip(&pages)
        .map(|(hash, bytes)| BlobInfo {
            hash: *hash,
            size: bytes.len() as u64,
        })
        .collect();
    expected.sort_by_key(|b| b.hash);
    assert_eq!(wanted, expected);

    // Push: the hub holds nothing yet, so everything goes from offset 0.
    let local = kiosk.blobs_unconfirmed("hub", &kiosk_partition).unwrap();
    let status = blob::answer_status(
        &hub,
        &StatusRequest {
            partition: kiosk_partition.clone(),
            hashes: local.iter().map(|b| b.hash).collect(),
        },
    )
    .unwrap();
    let plan = blob::plan_push(&local, &status);
    assert_eq!(plan.uploads.len(), 3);
    assert!(plan.uploads.iter().all(|t| t.offset == 0));
    for transfer in &plan.uploads {
        let held = blob::copy_blob(&kiosk, &mut hub, &kiosk_partition, transfer, None).unwrap();
        assert!(held.is_complete());
    }
    // Asked again, the hub confirms all three; once confirmed they are not asked about.
    let status = blob::answer_status(
        &hub,
        &StatusRequest {
            partition: kiosk_partition.clone(),
            hashes: local.iter().map(|b| b.hash).collect(),
        },
    )
    .unwrap();
    let plan = blob::plan_push(&local, &status);
    assert!(plan.uploads.is_empty());
    kiosk
        .confirm_blobs("hub", &kiosk_partition, &plan.confirmed)
        .unwrap();
    assert!(
        kiosk
            .blobs_unconfirmed("hub", &kiosk_partition)
            .unwrap()
            .is_empty()
    );

    // Pull: the officer fetches what the index names.
    let wanted: Vec<(BlobInfo, Held)> = officer
        .missing_blobs(&kiosk_partition)
        .unwrap()
        .into_iter()
        .map(|info| (info, Held::Nothing))
        .collect();
    let status = blob::answer_status(
        &hub,
        &StatusRequest {
            partition: kiosk_partition.clone(),
            hashes: wanted.iter().map(|(b, _)| b.hash).collect(),
        },
    )
    .unwrap();
    let plan = blob::plan_pull(&wanted, &status);
    assert!(plan.unavailable.is_empty());
    for transfer in &plan.downloads {
        blob::copy_blob(&hub, &mut officer, &kiosk_partition, transfer, None).unwrap();
    }
    assert!(officer.missing_blobs(&kiosk_partition).unwrap().is_empty());
    for (hash, bytes) in hashes.iter().zip(&pages) {
        assert_eq!(
            officer.blob(&kiosk_partition, hash).unwrap().as_ref(),
            Some(bytes)
        );
    }
}

#[test]
fn a_blob_the_hub_lacks_is_unavailable_not_an_error() {
    let wanted = [(
        BlobInfo {
            hash: BlobHash::of(b"later"),
            size: 5,
        },
        Held::Nothing,
    )];
    let reply = StatusReply {
        held: vec![(BlobHash::of(b"later"), Held::Partial { held: 2, size: 5 })],
    };
    let plan = blob::plan_pull(&wanted, &reply);
    assert!(plan.downloads.is_empty());
    assert_eq!(plan.unavailable, vec![BlobHash::of(b"later")]);
}

#[test]
fn cut_transfers_resume_from_the_durable_offset_and_verify() {
    let partition = p("79001/kiosk/dev-1");
    let mut sender = Store::open_in_memory().unwrap();
    let bytes = page(9, 300_000);
    let hash = sender.put_blob(&partition, &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    create_key_file(&key).unwrap();
    let db = dir.path().join("r.db");
    let size = bytes.len() as u64;
    let mut sent = 0u64;
    let mut restart_cost = 0u64;
    // Each attempt is cut after 70 KB; the receiver is closed and reopened
    // between attempts (only what is on disk counts).
    let mut attempts = 0;
    loop {
        let mut receiver = Store::open(&db, &key).unwrap();
        let offset = receiver.blob_held(&partition, &hash).unwrap().offset();
        let transfer = Transfer { hash, size, offset };
        let held =
            blob::copy_blob(&sender, &mut receiver, &partition, &transfer, Some(70_000)).unwrap();
        attempts += 1;
        sent += held.offset() - offset;
        restart_cost += held.offset();
        if held.is_complete() {
            assert_eq!(receiver.blob(&partition, &hash).unwrap().unwrap(), bytes);
            break;
        }
        assert_eq!(
            held,
            Held::Partial {
                held: offset + 70_000,
                size
            }
        );
        // Not visible before the last byte and the hash check.
        assert_eq!(receiver.blob(&partition, &hash).unwrap(), None);
        assert!(attempts < 10);
    }
    assert_eq!(attempts, 5);
    assert_eq!(sent, size, "every byte moved exactly once");
    assert!(
        restart_cost > 2 * size,
        "restarting from zero would move {restart_cost}"
    );
}

#[test]
fn replayed_overlapping_and_early_chunks_are_harmless() {
    let partition = p("79001");
    let bytes = page(3, 10_000);
    let hash = BlobHash::of(&bytes);
    let size = bytes.len() as u64;
    let mut store = Store::open_in_memory().unwrap();
    let held = store
        .append_blob_chunk(&partition, &hash, size, 0, &bytes[..4000])
        .unwrap();
    assert_eq!(held, Held::Partial { held: 4000, size });
    // Replay of the same chunk: nothing changes.
    let held = store
        .append_blob_chunk(&partition, &hash, size, 0, &bytes[..4000])
        .unwrap();
    assert_eq!(held, Held::Partial { held: 4000, size });
    // A chunk beyond the held offset is refused with where to resume.
    let err = store
        .append_blob_chunk(&partition, &hash, size, 5000, &bytes[5000..6000])
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::BlobGap { held: 4000 })),
        "{err}"
    );
    // An overlapping chunk adds only its new tail.
    let held = store
        .append_blob_chunk(&partition, &hash, size, 2000, &bytes[2000..7000])
        .unwrap();
    assert_eq!(held, Held::Partial { held: 7000, size });
    // A chunk past the declared size is refused.
    let err = store
        .append_blob_chunk(&partition, &hash, size, 7000, &page(4, 3001))
        .unwrap_err();
    assert!(matches!(err, Error::Core(CoreError::BadChunk)), "{err}");
    let held = store
        .append_blob_chunk(&partition, &hash, size, 7000, &bytes[7000..])
        .unwrap();
    assert_eq!(held, Held::Complete { size });
    // Replays after completion are harmless too.
    let held = store
        .append_blob_chunk(&partition, &hash, size, 0, &bytes)
        .unwrap();
    assert_eq!(held, Held::Complete { size });
    assert_eq!(store.blob(&partition, &hash).unwrap().unwrap(), bytes);
    assert_eq!(store.blobs(&partition).unwrap().len(), 1);
    // The rule itself.
    assert_eq!(
        blob::accept_chunk(Held::Partial { held: 10, size: 20 }, 30, 0, 5).unwrap(),
        ChunkDecision::Restart
    );
    assert_eq!(
        blob::accept_chunk(Held::Partial { held: 10, size: 20 }, 20, 8, 5).unwrap(),
        ChunkDecision::Append { skip: 2 }
    );
}

#[test]
fn a_corrupted_chunk_is_refused_at_the_hash_check_and_never_visible() {
    let partition = p("79001");
    let bytes = page(5, 40_000);
    let hash = BlobHash::of(&bytes);
    let size = bytes.len() as u64;
    let mut store = Store::open_in_memory().unwrap();
    let mut corrupted = bytes[20_000..].to_vec();
    corrupted[1234] ^= 0x40;
    store
        .append_blob_chunk(&partition, &hash, size, 0, &bytes[..20_000])
        .unwrap();
    let err = store
        .append_blob_chunk(&partition, &hash, size, 20_000, &corrupted)
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::BlobHashMismatch)),
        "{err}"
    );
    assert_eq!(store.blob(&partition, &hash).unwrap(), None);
    assert_eq!(store.blob_held(&partition, &hash).unwrap(), Held::Nothing);
    assert!(store.blobs(&partition).unwrap().is_empty());
    // The honest bytes then go through.
    let held = store
        .append_blob_chunk(&partition, &hash, size, 0, &bytes)
        .unwrap();
    assert!(held.is_complete());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Any sequence of cut, replayed and overlapping transfers ends with the
    /// exact bytes, and the receiver never holds less than before.
    #[test]
    fn any_cuts_and_replays_end_with_the_exact_blob(
        len in 0usize..60_000,
        steps in proptest::collection::vec((0u64..70_000, 0u64..30_000), 1..12),
    ) {
        let partition = p("79001");
        let bytes = page(len as u64, len);
        let mut sender = Store::open_in_memory().unwrap();
        let hash = sender.put_blob(&partition, &bytes).unwrap();
        let size = bytes.len() as u64;
        let mut receiver = Store::open_in_memory().unwrap();
        for (budget, back) in steps {
            let before = receiver.blob_held(&partition, &hash).unwrap().offset();
            // Sometimes resend from before the durable offset (a replay).
            let offset = before.saturating_sub(back);
            let transfer = Transfer { hash, size, offset };
            let held = blob::copy_blob(&sender, &mut receiver, &partition, &transfer, Some(budget)).unwrap();
            prop_assert!(held.offset() >= before);
        }
        let transfer = Transfer { hash, size, offset: receiver.blob_held(&partition, &hash).unwrap().offset() };
        let held = blob::copy_blob(&sender, &mut receiver, &partition, &transfer, None).unwrap();
        prop_assert!(held.is_complete());
        prop_assert_eq!(receiver.blob(&partition, &hash).unwrap().unwrap(), bytes);
    }
}
