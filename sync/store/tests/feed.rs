//! The change feed: every write of a record (local or applied from a peer)
//! moves it to the end of the feed, and the feed survives a restart and a
//! migration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use serde_json::json;
use xaso_sync_core::Partition;
use xaso_sync_core::frame::{decode_frame, encode_frame};
use xaso_sync_core::protocol::{ClientSession, KIND_REPLY, KIND_REQUEST, SyncReply, answer};
use xaso_sync_store::{ChangedRecord, Saved, Store, create_key_file};

fn p(name: &str) -> Partition {
    Partition::new(name).unwrap()
}

fn ids(feed: &[ChangedRecord]) -> Vec<(&str, &str)> {
    feed.iter()
        .map(|c| (c.partition.as_str(), c.record_id.as_str()))
        .collect()
}

/// One sync session of `client` against `hub`, through encoded frames.
fn sync(client: &mut Store, hub: &mut Store) {
    let mut session = ClientSession::new("hub", []);
    while let Some(request) = session.poll_request(client).unwrap() {
        let request =
            decode_frame(KIND_REQUEST, &encode_frame(KIND_REQUEST, &request).unwrap()).unwrap();
        let reply = answer(hub, &request, |_| true, 1 << 20).unwrap();
        let reply: SyncReply =
            decode_frame(KIND_REPLY, &encode_frame(KIND_REPLY, &reply).unwrap()).unwrap();
        session.handle_reply(client, reply).unwrap();
    }
}

#[test]
fn local_writes_move_a_record_to_the_end_of_the_feed() {
    let mut store = Store::open_in_memory().unwrap();
    let k = p("79001/kiosk/k1");
    assert!(store.records_changed_since(0, 100).unwrap().is_empty());
    assert_eq!(store.last_change_seq().unwrap(), 0);
    store.put(&k, "dossier-a", &json!({"n": 1})).unwrap();
    store.put(&k, "dossier-b", &json!({"n": 2})).unwrap();
    store.put(&k, "rating-1", &json!({"stars": 5})).unwrap();
    let feed = store.records_changed_since(0, 100).unwrap();
    assert_eq!(
        ids(&feed),
        [
            ("79001/kiosk/k1", "dossier-a"),
            ("79001/kiosk/k1", "dossier-b"),
            ("79001/kiosk/k1", "rating-1")
        ]
    );
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
    let cursor = feed[2].seq;
    assert_eq!(store.last_change_seq().unwrap(), cursor);

    // Nothing new: nothing in the feed. An unchanged put writes nothing.
    assert_eq!(
        store.put(&k, "dossier-a", &json!({"n": 1})).unwrap(),
        Saved::Unchanged
    );
    assert!(store.records_changed_since(cursor, 100).unwrap().is_empty());

    // A change to "a" moves it after the others; it is listed once.
    store.put(&k, "dossier-a", &json!({"n": 3})).unwrap();
    let feed = store.records_changed_since(0, 100).unwrap();
    assert_eq!(
        ids(&feed),
        [
            ("79001/kiosk/k1", "dossier-b"),
            ("79001/kiosk/k1", "rating-1"),
            ("79001/kiosk/k1", "dossier-a")
        ]
    );
    assert_eq!(
        ids(&store.records_changed_since(cursor, 100).unwrap()),
        [("79001/kiosk/k1", "dossier-a")]
    );
    // The limit pages through the feed.
    let first = store.records_changed_since(0, 2).unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.records_changed_since(first[1].seq, 2).unwrap();
    assert_eq!(ids(&rest), [("79001/kiosk/k1", "dossier-a")]);

    // Resolving a field and storing a blob (its index record) are writes too.
    let before = store.last_change_seq().unwrap();
    store
        .resolve(&k, "dossier-b", &["n".into()], &json!(7))
        .unwrap();
    let hash = store.put_blob(&k, b"page").unwrap();
    let feed = store.records_changed_since(before, 100).unwrap();
    assert_eq!(feed.len(), 2);
    assert_eq!(feed[0].record_id, "dossier-b");
    assert!(feed[1].record_id.starts_with("blob-"));
    assert_eq!(
        feed[1].record_id,
        xaso_sync_core::blob::index_record_id(&hash)
    );
}

#[test]
fn changes_applied_from_a_peer_enter_the_feed() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut kiosk = Store::open_in_memory().unwrap();
    let mut tablet = Store::open_in_memory().unwrap();
    let k = p("79001/kiosk/k1");
    kiosk
        .put(&k, "dossier-a", &json!({"state": "submitted"}))
        .unwrap();
    kiosk
        .put(&k, "dossier-b", &json!({"state": "submitted"}))
        .unwrap();
    sync(&mut kiosk, &mut hub);
    sync(&mut tablet, &mut hub);
    let feed = tablet.records_changed_since(0, 100).unwrap();
    assert_eq!(
        ids(&feed),
        [
            ("79001/kiosk/k1", "dossier-a"),
            ("79001/kiosk/k1", "dossier-b")
        ]
    );
    let cursor = feed[1].seq;

    // The kiosk changes "a"; the tablet's feed shows it after the sync, with
    // the new content.
    kiosk
        .put(&k, "dossier-a", &json!({"state": "withdrawn"}))
        .unwrap();
    sync(&mut kiosk, &mut hub);
    sync(&mut tablet, &mut hub);
    let feed = tablet.records_changed_since(cursor, 100).unwrap();
    assert_eq!(ids(&feed), [("79001/kiosk/k1", "dossier-a")]);
    assert_eq!(
        tablet.get_json(&k, "dossier-a").unwrap().unwrap()["state"],
        "withdrawn"
    );
    // A sync that brings nothing adds nothing.
    let last = tablet.last_change_seq().unwrap();
    sync(&mut tablet, &mut hub);
    assert_eq!(tablet.last_change_seq().unwrap(), last);
}

#[test]
fn the_feed_survives_a_restart_and_positions_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let db = dir.path().join("s.db");
    create_key_file(&key).unwrap();
    let k = p("79001/kiosk/k1");
    let cursor = {
        let mut store = Store::open(&db, &key).unwrap();
        store.put(&k, "dossier-a", &json!({"n": 1})).unwrap();
        store.put(&k, "dossier-b", &json!({"n": 1})).unwrap();
        store.records_changed_since(0, 10).unwrap()[1].seq
    };
    let mut store = Store::open(&db, &key).unwrap();
    assert_eq!(store.last_change_seq().unwrap(), cursor);
    // Rewriting the newest record gives it a new position, above the old one.
    store.put(&k, "dossier-b", &json!({"n": 2})).unwrap();
    let feed = store.records_changed_since(cursor, 10).unwrap();
    assert_eq!(ids(&feed), [("79001/kiosk/k1", "dossier-b")]);
    assert!(feed[0].seq > cursor);
}

#[test]
fn a_migrated_store_numbers_its_existing_records() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let db = dir.path().join("s.db");
    create_key_file(&key).unwrap();
    // A store of schema 3 (before the feed) that holds records: written by
    // this code, then the column is made to look as a v3 → v4 migration
    // finds it.
    xaso_sync_store::testing::create_at_version(&db, &key, 3).unwrap();
    xaso_sync_store::testing::insert_v3_record(&db, &key, "79001/kiosk/k1", "dossier-b", 2)
        .unwrap();
    xaso_sync_store::testing::insert_v3_record(&db, &key, "79001/kiosk/k1", "dossier-a", 1)
        .unwrap();
    let mut store = Store::open(&db, &key).unwrap();
    let feed = store.records_changed_since(0, 10).unwrap();
    // Numbered in the order they were last written.
    assert_eq!(
        ids(&feed),
        [
            ("79001/kiosk/k1", "dossier-a"),
            ("79001/kiosk/k1", "dossier-b")
        ]
    );
    assert_eq!(feed.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2]);
    // New writes continue after them.
    store
        .put(&p("79001/kiosk/k1"), "dossier-c", &json!({"n": 1}))
        .unwrap();
    assert_eq!(store.records_changed_since(2, 10).unwrap()[0].seq, 3);
}
