//! Store: encryption, durability, typed records, change index, conflicts, migrations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use std::os::unix::fs::PermissionsExt;

use serde::{Deserialize, Serialize};
use xaso_sync_core::{Error as CoreError, Partition, PathSegment};
use xaso_sync_store::{Error, Saved, Store, create_key_file};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Dossier {
    tracking_code: String,
    procedure: String,
    applicant: Applicant,
    status: String,
    attachments: Vec<String>,
    fee: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Applicant {
    name: String,
    id_number: String,
    phone: Option<String>,
}

fn dossier(n: u32) -> Dossier {
    Dossier {
        tracking_code: format!("HS-{n:06}"),
        procedure: "khai-sinh".into(),
        applicant: Applicant {
            name: "Nguyễn Văn A".into(),
            id_number: "001099012345".into(),
            phone: None,
        },
        status: "submitted".into(),
        attachments: vec!["giay-chung-sinh.jpg".into()],
        fee: 0,
    }
}

fn p() -> Partition {
    Partition::new("79001").unwrap()
}

#[test]
fn put_get_list_and_reopen_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.key");
    let db = dir.path().join("store.db");
    create_key_file(&key).unwrap();
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    {
        let mut store = Store::open(&db, &key).unwrap();
        assert!(matches!(
            store.put(&p(), "d1", &dossier(1)).unwrap(),
            Saved::Changed { seq: 1 }
        ));
        assert!(matches!(
            store.put(&p(), "d2", &dossier(2)).unwrap(),
            Saved::Changed { seq: 2 }
        ));
        // Writing the same content again is a no-op.
        assert_eq!(
            store.put(&p(), "d1", &dossier(1)).unwrap(),
            Saved::Unchanged
        );
        let mut changed = dossier(1);
        changed.status = "accepted".into();
        changed.applicant.phone = Some("0912345678".into());
        changed.attachments.push("cccd.jpg".into());
        assert!(matches!(
            store.put(&p(), "d1", &changed).unwrap(),
            Saved::Changed { seq: 3 }
        ));
    }
    // Reopen: everything is there (it was durable before put returned).
    let store = Store::open(&db, &key).unwrap();
    let d1: Dossier = store.get(&p(), "d1").unwrap().unwrap();
    assert_eq!(d1.status, "accepted");
    assert_eq!(d1.applicant.phone.as_deref(), Some("0912345678"));
    assert_eq!(d1.attachments, vec!["giay-chung-sinh.jpg", "cccd.jpg"]);
    assert_eq!(store.list(&p()).unwrap(), vec!["d1", "d2"]);
    assert_eq!(store.change_count(&p()).unwrap(), 3);
    assert_eq!(store.vector(&p()).unwrap().get(&store.origin()), 3);
    assert_eq!(store.get::<Dossier>(&p(), "missing").unwrap(), None);
    // The file is encrypted: no plaintext name in it.
    let raw = std::fs::read(&db).unwrap();
    assert!(!raw.windows(7).any(|w| w == b"HS-0000"));
    assert!(!raw.starts_with(b"SQLite format 3"));
}

#[test]
fn wrong_key_is_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.key");
    let other = dir.path().join("other.key");
    let db = dir.path().join("store.db");
    create_key_file(&key).unwrap();
    create_key_file(&other).unwrap();
    {
        let mut store = Store::open(&db, &key).unwrap();
        store.put(&p(), "d1", &dossier(1)).unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let err = Store::open(&db, &other).unwrap_err();
    assert!(matches!(err, Error::WrongKey { .. }), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let store = Store::open(&db, &key).unwrap();
    assert!(store.get::<Dossier>(&p(), "d1").unwrap().is_some());
}

#[test]
fn key_file_must_be_private_and_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.key");
    create_key_file(&key).unwrap();
    assert!(create_key_file(&key).is_err(), "never overwrite a key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Store::open(&dir.path().join("s.db"), &key).unwrap_err();
    assert!(matches!(err, Error::KeyFilePermissions { .. }), "{err}");
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "not hex").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        Store::open(&dir.path().join("s.db"), &bad).unwrap_err(),
        Error::KeyFileInvalid { .. }
    ));
    let missing = Store::open(&dir.path().join("s.db"), &dir.path().join("nope.key")).unwrap_err();
    assert!(matches!(missing, Error::KeyFile { .. }));
}

#[test]
fn concurrent_edits_of_one_field_become_a_conflict_and_resolution_syncs() {
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    a.put(&p(), "d1", &dossier(1)).unwrap();
    copy_all(&a, &mut b);
    let mut on_a = dossier(1);
    on_a.status = "accepted".into();
    let mut on_b = dossier(1);
    on_b.status = "rejected".into();
    on_b.fee = 50_000; // a different field: merges without conflict
    a.put(&p(), "d1", &on_a).unwrap();
    b.put(&p(), "d1", &on_b).unwrap();
    copy_all(&a, &mut b);
    copy_all(&b, &mut a);
    let conflicts = a.conflicts(&p(), "d1").unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].path, vec![PathSegment::Field("status".into())]);
    let mut values: Vec<String> = conflicts[0]
        .values
        .iter()
        .map(|v| v.value.as_str().unwrap().to_owned())
        .collect();
    values.sort();
    assert_eq!(values, vec!["accepted", "rejected"]);
    let mut authors: Vec<String> = conflicts[0]
        .values
        .iter()
        .map(|v| v.author.clone())
        .collect();
    authors.sort();
    let mut expected = vec![a.origin().to_hex(), b.origin().to_hex()];
    expected.sort();
    assert_eq!(authors, expected);
    assert!(
        conflicts[0]
            .values
            .iter()
            .all(|v| v.time_ms > 1_600_000_000_000)
    );
    assert_eq!(
        a.conflicts(&p(), "d1").unwrap(),
        b.conflicts(&p(), "d1").unwrap()
    );
    let merged: Dossier = a.get(&p(), "d1").unwrap().unwrap();
    assert_eq!(merged.fee, 50_000);
    // Re-saving the typed record with the winning value must not resolve the conflict silently.
    a.put(&p(), "d1", &merged).unwrap();
    assert_eq!(a.conflicts(&p(), "d1").unwrap().len(), 1);
    // An officer resolves on a; the resolution is a change that syncs to b.
    a.resolve(
        &p(),
        "d1",
        &["status".into()],
        &serde_json::json!("accepted"),
    )
    .unwrap();
    assert!(a.conflicts(&p(), "d1").unwrap().is_empty());
    copy_all(&a, &mut b);
    assert!(b.conflicts(&p(), "d1").unwrap().is_empty());
    assert_eq!(
        b.get::<Dossier>(&p(), "d1").unwrap().unwrap().status,
        "accepted"
    );
    assert_eq!(
        a.get_json(&p(), "d1").unwrap(),
        b.get_json(&p(), "d1").unwrap()
    );
}

/// Copy every change `from` has that `to` lacks (what the protocol does, without it).
fn copy_all(from: &Store, to: &mut Store) {
    for partition in from.partitions().unwrap() {
        let (entries, more) = from
            .entries_after(&partition, &to.vector(&partition).unwrap(), usize::MAX)
            .unwrap();
        assert!(!more);
        to.apply_entries(&partition, &entries, None).unwrap();
    }
}

#[test]
fn change_index_yields_exactly_what_a_peer_lacks_and_refuses_gaps() {
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    for i in 0..10 {
        a.put(&p(), &format!("d{i}"), &dossier(i)).unwrap();
    }
    let (first, _) = a
        .entries_after(&p(), &b.vector(&p()).unwrap(), usize::MAX)
        .unwrap();
    assert_eq!(first.len(), 10);
    b.apply_entries(&p(), &first[..4], None).unwrap();
    let (rest, more) = a
        .entries_after(&p(), &b.vector(&p()).unwrap(), usize::MAX)
        .unwrap();
    assert!(!more);
    assert_eq!(
        rest.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (5..=10).collect::<Vec<_>>()
    );
    // Paging: small budget gives one entry at a time and says there is more.
    let (page, more) = a.entries_after(&p(), &b.vector(&p()).unwrap(), 1).unwrap();
    assert_eq!(page.len(), 1);
    assert!(more);
    // A gap (skipping seq 5) is refused; duplicates are skipped.
    let outcome = b.apply_entries(&p(), &rest[1..], None).unwrap();
    assert_eq!((outcome.applied, outcome.refused), (0, 5));
    let outcome = b.apply_entries(&p(), &first, None).unwrap();
    assert_eq!((outcome.applied, outcome.duplicates), (6, 4));
    let outcome = b.apply_entries(&p(), &rest, None).unwrap();
    assert_eq!((outcome.applied, outcome.duplicates), (0, 6));
    assert!(b.vector(&p()).unwrap().same_as(&a.vector(&p()).unwrap()));
    for i in 0..10 {
        assert_eq!(
            a.get_json(&p(), &format!("d{i}")).unwrap(),
            b.get_json(&p(), &format!("d{i}")).unwrap()
        );
    }
    // A change claiming another origin is refused.
    let mut forged = rest[0].clone();
    forged.origin = b.origin();
    forged.seq = 1;
    let mut c = Store::open_in_memory().unwrap();
    assert!(matches!(
        c.apply_entries(&p(), &[forged], None).unwrap_err(),
        Error::Core(CoreError::BadChange)
    ));
}

#[test]
fn migrations_upgrade_old_stores_and_refuse_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let db = dir.path().join("s.db");
    create_key_file(&key).unwrap();
    xaso_sync_store::testing::create_at_version(&db, &key, 1).unwrap();
    let mut store = Store::open(&db, &key).unwrap();
    assert_eq!(
        xaso_sync_store::testing::schema_version(&db, &key).unwrap(),
        xaso_sync_store::SCHEMA_VERSION
    );
    store.put(&p(), "d1", &dossier(1)).unwrap();
    store
        .set_peer_vector("hub", &p(), &store.vector(&p()).unwrap())
        .unwrap();
    drop(store);
    xaso_sync_store::testing::set_schema_version(&db, &key, 99).unwrap();
    assert!(matches!(
        Store::open(&db, &key).unwrap_err(),
        Error::SchemaTooNew { found: 99, .. }
    ));
}

#[test]
fn invalid_input_is_refused() {
    assert!(Partition::new("").is_err());
    // The partition grammar: no "." or ".." segments, no empty segments.
    assert!(Partition::new("79001/../x").is_err());
    assert!(Partition::new("79001//x").is_err());
    assert!(Partition::new("79 001").is_err());
    assert_eq!(
        Partition::submissions("79001", "dev-1").unwrap().commune(),
        "79001"
    );
    let mut s = Store::open_in_memory().unwrap();
    assert!(matches!(
        s.put(&p(), "x", &5u32).unwrap_err(),
        Error::Core(CoreError::NotAnObject)
    ));
    assert!(matches!(
        s.put(&p(), "", &dossier(1)).unwrap_err(),
        Error::Core(CoreError::InvalidRecordId)
    ));
}

#[test]
fn a_group_commits_once_and_a_failing_write_undoes_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let db = dir.path().join("s.db");
    create_key_file(&key).unwrap();
    {
        let mut store = Store::open(&db, &key).unwrap();
        let results = store
            .group(|s| {
                vec![
                    s.put(&p(), "a", &dossier(1)).is_ok(),
                    s.put(&p(), "", &dossier(2)).is_ok(), // invalid id: refused
                    s.put(&p(), "c", &dossier(3)).is_ok(),
                ]
            })
            .unwrap();
        assert_eq!(results, vec![true, false, true]);
        assert_eq!(
            store
                .put_batch(&p(), (0..5).map(|i| (format!("b{i}"), dossier(i))))
                .unwrap(),
            5
        );
    }
    let store = Store::open(&db, &key).unwrap();
    assert_eq!(
        store.list(&p()).unwrap(),
        vec!["a", "b0", "b1", "b2", "b3", "b4", "c"]
    );
    assert_eq!(store.vector(&p()).unwrap().get(&store.origin()), 7);
}

#[test]
fn partitions_under_a_prefix_are_found_by_range_scan() {
    let mut s = Store::open_in_memory().unwrap();
    // Near misses that sort right after a prefix: a longer segment ("k10") and
    // one continuing with a character below '/' ("k1-x"). (Before the
    // partition grammar, the near misses were "790010", "79001-x" and "7900",
    // which are no longer partition names.)
    for name in [
        "79001",
        "79001/kiosk/k1",
        "79001/kiosk/k10",
        "79001/kiosk/k1-x",
        "79001/thue",
        "79002",
        "79000",
    ] {
        s.put(&Partition::new(name).unwrap(), "r", &dossier(1))
            .unwrap();
    }
    let under = |prefix: &str| -> Vec<String> {
        s.partitions_under(prefix)
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .collect()
    };
    assert_eq!(
        under("79001"),
        vec![
            "79001",
            "79001/kiosk/k1",
            "79001/kiosk/k1-x",
            "79001/kiosk/k10",
            "79001/thue"
        ]
    );
    assert_eq!(under("79001/kiosk/k1"), vec!["79001/kiosk/k1"]);
    assert_eq!(
        under("79001/kiosk"),
        vec!["79001/kiosk/k1", "79001/kiosk/k1-x", "79001/kiosk/k10"]
    );
    assert!(under("79001/kiosk/k").is_empty());
    // The store's range scan and the protocol's default agree.
    for prefix in ["79001", "7900", "79001/kiosk/k1", "79001/thue", "79002"] {
        let by_filter: Vec<String> = s
            .partitions()
            .unwrap()
            .into_iter()
            .filter(|p| p.is_under(prefix))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(under(prefix), by_filter, "{prefix}");
    }
}

#[test]
fn prepared_documents_give_exactly_what_the_ordinary_path_gives() {
    use xaso_sync_core::Vector;
    use xaso_sync_core::changes::Prepared;
    let part = p();
    let mut source = Store::open_in_memory().unwrap();
    for n in 0..6 {
        source.put(&part, &format!("r{n}"), &dossier(n)).unwrap();
    }
    for n in 0..3 {
        let mut d = dossier(n);
        d.status = "accepted".into();
        source.put(&part, &format!("r{n}"), &d).unwrap();
    }
    let (entries, _) = source
        .entries_after(&part, &Vector::default(), usize::MAX)
        .unwrap();
    assert_eq!(entries.len(), 9);

    let doc_of = |s: &Store, id: &str| s.get_json(&part, id).unwrap();

    // 1. Fresh store: every record is new, every prepared document is used.
    let mut plain = Store::open_in_memory().unwrap();
    let plain_outcome = plain.apply_entries(&part, &entries, None).unwrap();
    let mut fast = Store::open_in_memory().unwrap();
    let mut prepared = Prepared::default();
    prepared.add(&part, &entries);
    assert_eq!(prepared.len(), 6);
    let fast_outcome = fast
        .apply_entries_prepared(&part, &entries, None, Some(&mut prepared))
        .unwrap();
    assert!(
        prepared.is_empty(),
        "all six were new: all prepared docs used"
    );
    assert_eq!(plain_outcome, fast_outcome);
    for n in 0..6 {
        let id = format!("r{n}");
        assert_eq!(doc_of(&plain, &id), doc_of(&fast, &id));
        assert_eq!(doc_of(&fast, &id), doc_of(&source, &id));
    }

    // 2. A store that already holds the first changes: records it has take
    //    the ordinary path, the prepared ones are not used for them, and the
    //    result is still the source's.
    let mut partial = Store::open_in_memory().unwrap();
    partial.apply_entries(&part, &entries[..4], None).unwrap();
    let mut prepared = Prepared::default();
    prepared.add(&part, &entries);
    let outcome = partial
        .apply_entries_prepared(&part, &entries, None, Some(&mut prepared))
        .unwrap();
    assert_eq!(outcome.duplicates, 4);
    assert_eq!(outcome.applied, 5);
    for n in 0..6 {
        let id = format!("r{n}");
        assert_eq!(doc_of(&partial, &id), doc_of(&source, &id), "{id}");
    }
    // r4 and r5 were new there; r0–r3 existed (r0–r2 also got a second change).
    assert_eq!(prepared.len(), 4);

    // 3. A corrupt change: the same refusal with or without preparation,
    //    and nothing written.
    let mut bad = entries.clone();
    let last = bad[5].change.len() - 1;
    bad[5].change[last] ^= 0xff;
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    let mut prepared = Prepared::default();
    prepared.add(&part, &bad);
    assert!(matches!(
        a.apply_entries(&part, &bad, None),
        Err(Error::Core(CoreError::BadChange))
    ));
    assert!(matches!(
        b.apply_entries_prepared(&part, &bad, None, Some(&mut prepared)),
        Err(Error::Core(CoreError::BadChange))
    ));
    assert!(b.list(&part).unwrap().is_empty());
    assert_eq!(b.change_count(&part).unwrap(), 0);
}
