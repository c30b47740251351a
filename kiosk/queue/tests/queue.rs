//! The officer's queue over a real record store: due dates over weekends and
//! Tết, the queue order and counters, folded search, following the store's
//! change feed (local and remote changes), resuming after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use jiff::Timestamp;
use jiff::civil::{Date, date};
use xaso_queue::{CatchUp, Error, QueueFilter, QueueIndex, QueueRow, Urgency};
use xaso_services::calendar::Holidays;
use xaso_services::catalog::{Catalog, ProcedureCode, Submitter};
use xaso_services::dossier::{
    Action, Actor, Applicant, Channel, Consent, Dossier, DossierState, Role,
};
use xaso_services::tracking::{CommuneCode, TrackingCode};
use xaso_sync_core::Partition;
use xaso_sync_core::frame::{decode_frame, encode_frame};
use xaso_sync_core::protocol::{ClientSession, KIND_REPLY, KIND_REQUEST, answer};
use xaso_sync_store::{DatabaseKey, Store, create_key_file};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn kiosk() -> Partition {
    Partition::submissions("79001", "kiosk-1").unwrap()
}

fn officer() -> Actor {
    Actor::on_device(Role::Officer, "officer:79001:1", "tablet-1")
}

/// A dossier submitted at `submitted` (Viet Nam time), received by the
/// commune at `received` when given.
fn dossier(
    seq: u16,
    procedure: &str,
    name: &str,
    id_number: &str,
    submitted: &str,
    received: Option<&str>,
) -> Dossier {
    let at = ts(submitted);
    let mut d = Dossier::new(
        format!("id-{seq}"),
        ProcedureCode(procedure.to_owned()),
        Applicant {
            id_number: id_number.to_owned(),
            full_name: name.to_owned(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        at,
    );
    d.tracking_code = Some(
        TrackingCode::new(
            CommuneCode::new("79001").unwrap(),
            xaso_services::calendar::vietnam_date(at),
            1,
            seq,
        )
        .unwrap(),
    );
    d.consent = Some(Consent {
        given_at: at,
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    d.apply(
        Action::Submit,
        Actor::on_device(Role::Resident, "kiosk-1", "kiosk-1"),
        None,
        at,
    )
    .unwrap();
    if let Some(received) = received {
        d.apply(Action::Receive, officer(), None, ts(received))
            .unwrap();
    }
    d
}

fn record_id(d: &Dossier) -> String {
    format!("dossier-{}", d.tracking_code.as_ref().unwrap())
}

fn put(store: &mut Store, d: &Dossier) {
    store.put(&kiosk(), &record_id(d), d).unwrap();
}

fn catch_up(index: &mut QueueIndex, store: &Store) -> CatchUp {
    index
        .catch_up(store, &Catalog::bundled().unwrap(), Holidays::bundled())
        .unwrap()
}

fn names(rows: &[QueueRow]) -> Vec<&str> {
    rows.iter().map(|r| r.full_name.as_str()).collect()
}

/// Two decisions taken offline on two tablets from the same version.
fn conflicting(mut d: Dossier) -> Dossier {
    let now = ts("2026-03-02T09:00:00+07:00");
    d.apply(Action::StartProcessing, officer(), None, now)
        .unwrap();
    let mut other = d.clone();
    d.apply(Action::Approve, officer(), None, now).unwrap();
    other
        .apply(
            Action::Reject,
            Actor::on_device(Role::Officer, "officer:79001:2", "tablet-2"),
            Some("thiếu giấy tờ"),
            now,
        )
        .unwrap();
    // What a merge of the two documents holds: both entries in the audit.
    let mut json = serde_json::to_value(&d).unwrap();
    let theirs = serde_json::to_value(&other).unwrap();
    let last = theirs["audit"].as_array().unwrap().last().unwrap().clone();
    json["audit"].as_array_mut().unwrap().push(last);
    let merged: Dossier = serde_json::from_value(json).unwrap();
    assert!(merged.decision_conflict().is_some());
    merged
}

#[test]
fn a_dossier_received_before_tet_is_due_after_it() {
    let mut store = Store::open_in_memory().unwrap();
    // Friday 13 February 2026; Tết closes Monday 16 to Friday 20. Three
    // working days: 23, 24, 25 February.
    let before_tet = dossier(
        1,
        "temporary-residence-registration",
        "Nguyễn Văn An",
        "079090000001",
        "2026-02-12T10:00:00+07:00",
        Some("2026-02-13T08:30:00+07:00"),
    );
    // Submitted on Saturday 7 March, not yet received: the clock starts at
    // the submission, counted from the next working day (Monday 9): due
    // Thursday 12 March.
    let on_saturday = dossier(
        2,
        "temporary-residence-registration",
        "Trần Thị Bình",
        "079090000002",
        "2026-03-07T10:00:00+07:00",
        None,
    );
    // Same-day procedure received late on a Friday, 23:30 in Viet Nam (16:30
    // UTC): due that Friday.
    let same_day = dossier(
        3,
        "birth-registration",
        "Lê Hoàng Cường",
        "079090000003",
        "2026-03-06T16:00:00+07:00",
        Some("2026-03-06T16:30:00Z"),
    );
    let unknown = dossier(
        4,
        "not-in-the-catalog",
        "Phạm Thị Dung",
        "079090000004",
        "2026-03-06T10:00:00+07:00",
        None,
    );
    for d in [&before_tet, &on_saturday, &same_day, &unknown] {
        put(&mut store, d);
    }
    let mut index = QueueIndex::open_in_memory().unwrap();
    let done = catch_up(&mut index, &store);
    assert_eq!(done.indexed, 4);
    let rows = index
        .page(&QueueFilter::default(), date(2026, 3, 1), 0, 10)
        .unwrap();
    let due = |name: &str| rows.iter().find(|r| r.full_name == name).unwrap().due;
    let received = |name: &str| rows.iter().find(|r| r.full_name == name).unwrap().received;
    assert_eq!(received("Nguyễn Văn An"), date(2026, 2, 13));
    assert_eq!(due("Nguyễn Văn An"), Some(date(2026, 2, 25)));
    assert_eq!(received("Trần Thị Bình"), date(2026, 3, 7));
    assert_eq!(due("Trần Thị Bình"), Some(date(2026, 3, 12)));
    assert_eq!(received("Lê Hoàng Cường"), date(2026, 3, 6));
    assert_eq!(due("Lê Hoàng Cường"), Some(date(2026, 3, 6)));
    assert_eq!(due("Phạm Thị Dung"), None);
    // Unknown procedures (no due date) come last.
    assert_eq!(rows.last().unwrap().full_name, "Phạm Thị Dung");
}

#[test]
fn the_queue_puts_conflicts_then_overdue_then_due_today_first_and_counts_them() {
    let mut store = Store::open_in_memory().unwrap();
    let today = date(2026, 3, 12); // a Thursday
    let p3 = "temporary-residence-registration"; // 3 working days
    let all = [
        // Due Wednesday 11: overdue.
        dossier(
            1,
            p3,
            "Quá Hạn Một",
            "079000000001",
            "2026-03-06T09:00:00+07:00",
            None,
        ),
        // Due Tuesday 10: more overdue, first.
        dossier(
            2,
            p3,
            "Quá Hạn Hai",
            "079000000002",
            "2026-03-05T09:00:00+07:00",
            None,
        ),
        // Due today.
        dossier(
            3,
            p3,
            "Hôm Nay",
            "079000000003",
            "2026-03-09T09:00:00+07:00",
            None,
        ),
        // Due Monday 16.
        dossier(
            4,
            p3,
            "Sau Này",
            "079000000004",
            "2026-03-11T09:00:00+07:00",
            None,
        ),
        // Received long ago, but in conflict: before everything.
        conflicting(dossier(
            5,
            "social-allowance",
            "Xung Đột",
            "079000000005",
            "2026-03-10T09:00:00+07:00",
            Some("2026-03-10T10:00:00+07:00"),
        )),
    ];
    for d in &all {
        put(&mut store, d);
    }
    // Closed dossiers are not in the default queue.
    let mut withdrawn = dossier(
        6,
        p3,
        "Đã Rút",
        "079000000006",
        "2026-03-01T09:00:00+07:00",
        None,
    );
    withdrawn
        .apply(
            Action::Withdraw,
            officer(),
            Some("người dân rút hồ sơ"),
            ts("2026-03-02T09:00:00+07:00"),
        )
        .unwrap();
    put(&mut store, &withdrawn);
    // Records of other kinds in the same partition are passed over.
    store
        .put(
            &kiosk(),
            "rating-1",
            &serde_json::json!({"satisfaction": "good"}),
        )
        .unwrap();

    let mut index = QueueIndex::open_in_memory().unwrap();
    let done = catch_up(&mut index, &store);
    assert_eq!((done.indexed, done.skipped), (6, 1));
    let queue = index.page(&QueueFilter::default(), today, 0, 50).unwrap();
    assert_eq!(
        names(&queue),
        [
            "Xung Đột",
            "Quá Hạn Hai",
            "Quá Hạn Một",
            "Hôm Nay",
            "Sau Này"
        ]
    );
    assert_eq!(
        queue.iter().map(|r| r.urgency(today)).collect::<Vec<_>>(),
        [
            Urgency::Conflict,
            Urgency::Overdue,
            Urgency::Overdue,
            Urgency::DueToday,
            Urgency::Later
        ]
    );
    // Paging.
    let second = index.page(&QueueFilter::default(), today, 2, 2).unwrap();
    assert_eq!(names(&second), ["Quá Hạn Một", "Hôm Nay"]);
    // Filters.
    let filter = |f: QueueFilter| names(&index.page(&f, today, 0, 50).unwrap()).join(", ");
    assert_eq!(
        filter(QueueFilter {
            urgency: Some(Urgency::Overdue),
            ..QueueFilter::default()
        }),
        "Quá Hạn Hai, Quá Hạn Một"
    );
    assert_eq!(
        filter(QueueFilter {
            urgency: Some(Urgency::Conflict),
            ..QueueFilter::default()
        }),
        "Xung Đột"
    );
    assert_eq!(
        filter(QueueFilter {
            state: Some(DossierState::Withdrawn),
            ..QueueFilter::default()
        }),
        "Đã Rút"
    );
    assert_eq!(
        filter(QueueFilter {
            procedure: Some("social-allowance".into()),
            ..QueueFilter::default()
        }),
        "Xung Đột"
    );
    assert_eq!(
        filter(QueueFilter {
            channel: Some(Channel::Helper),
            ..QueueFilter::default()
        }),
        ""
    );

    let counts = index.counts(today).unwrap();
    assert_eq!(counts.open, 5);
    assert_eq!(counts.overdue, 2);
    assert_eq!(counts.due_today, 1);
    assert_eq!(counts.conflicts, 1);
    assert_eq!(counts.by_state.get(&DossierState::Submitted), Some(&4));
    assert_eq!(counts.by_state.get(&DossierState::Withdrawn), Some(&1));
    assert_eq!(counts.by_procedure.get(p3), Some(&4));
    assert_eq!(counts.by_procedure.get("social-allowance"), Some(&1));
    // Received in March up to today: all six (the withdrawn one on 1 March).
    assert_eq!(counts.by_channel_this_month, vec![(Channel::Kiosk, 6)]);
    // On the 12th of the next month, nothing was received that month.
    assert!(
        index
            .counts(date(2026, 4, 12))
            .unwrap()
            .by_channel_this_month
            .is_empty()
    );
    // On Monday 16 the "later" one is due today and the one due today is overdue.
    let counts = index.counts(date(2026, 3, 16)).unwrap();
    assert_eq!((counts.overdue, counts.due_today), (3, 1));
}

#[test]
fn search_ignores_accents_and_case_and_finds_parts_of_numbers_and_codes() {
    let mut store = Store::open_in_memory().unwrap();
    let p = "marital-status-certificate";
    let people = [
        dossier(
            1,
            p,
            "Nguyễn Văn An",
            "079012345678",
            "2026-03-02T09:00:00+07:00",
            None,
        ),
        dossier(
            2,
            p,
            "Nguyễn Thị Vân",
            "079087654321",
            "2026-03-02T09:00:00+07:00",
            None,
        ),
        dossier(
            3,
            p,
            "Đặng Văn Đức",
            "001199000111",
            "2026-03-02T09:00:00+07:00",
            None,
        ),
        dossier(
            4,
            p,
            "Trần Nguyên",
            "036300999888",
            "2026-03-02T09:00:00+07:00",
            None,
        ),
    ];
    for d in &people {
        put(&mut store, d);
    }
    let mut index = QueueIndex::open_in_memory().unwrap();
    catch_up(&mut index, &store);
    let search = |q: &str| {
        let mut found: Vec<String> = index
            .search(q, 20)
            .unwrap()
            .into_iter()
            .map(|r| r.full_name)
            .collect();
        found.sort();
        found.join(", ")
    };
    // The words in this order first, then the names that hold them elsewhere.
    assert_eq!(
        names(&index.search("nguyen van", 20).unwrap()),
        ["Nguyễn Văn An", "Nguyễn Thị Vân"]
    );
    assert_eq!(search("van an"), "Nguyễn Văn An");
    // "Nguyễn" and "Nguyên" fold alike.
    assert_eq!(
        search("NGUYỄN"),
        "Nguyễn Thị Vân, Nguyễn Văn An, Trần Nguyên"
    );
    // Word prefixes, in any order; "nguy" also finds the given name "Nguyên".
    assert_eq!(search("nguy"), "Nguyễn Thị Vân, Nguyễn Văn An, Trần Nguyên");
    assert_eq!(search("van nguyen"), "Nguyễn Thị Vân, Nguyễn Văn An");
    assert_eq!(search("dang duc"), "Đặng Văn Đức");
    assert_eq!(search("  Đặng   văn "), "Đặng Văn Đức");
    // Parts of ID numbers.
    assert_eq!(search("2345"), "Nguyễn Văn An");
    assert_eq!(search("079"), "Nguyễn Thị Vân, Nguyễn Văn An");
    assert_eq!(search("001199000111"), "Đặng Văn Đức");
    // A tracking code, as shown (with dashes), typed in lower case, or in part.
    let code = people[2].tracking_code.as_ref().unwrap().to_string();
    assert_eq!(search(&code), "Đặng Văn Đức");
    assert_eq!(search(&code.to_lowercase()), "Đặng Văn Đức");
    let compact = people[2].tracking_code.as_ref().unwrap().compact();
    assert_eq!(search(&compact[10..]), "Đặng Văn Đức");
    // Nothing matches; empty input finds nothing; the limit holds.
    assert_eq!(search("hoang"), "");
    assert_eq!(search(" - "), "");
    assert_eq!(index.search("nguyen", 1).unwrap().len(), 1);
    // Characters that mean something to FTS5 are taken literally.
    assert_eq!(search("\"nguyen OR *"), "");
}

/// One sync of `device` against `hub` through the sans-IO protocol.
fn sync(device: &mut Store, hub: &mut Store) {
    let mut session = ClientSession::new("hub", []);
    while let Some(request) = session.poll_request(device).unwrap() {
        let request =
            decode_frame(KIND_REQUEST, &encode_frame(KIND_REQUEST, &request).unwrap()).unwrap();
        let reply = answer(hub, &request, |_| true, 1 << 20).unwrap();
        let reply = decode_frame(KIND_REPLY, &encode_frame(KIND_REPLY, &reply).unwrap()).unwrap();
        session.handle_reply(device, reply).unwrap();
    }
}

#[test]
fn the_index_follows_local_state_changes_and_changes_from_other_devices() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut kiosk_store = Store::open_in_memory().unwrap();
    let mut tablet = Store::open_in_memory().unwrap();
    let p = "permanent-residence-registration";
    let mut a = dossier(
        1,
        p,
        "Võ Thị Em",
        "079000000011",
        "2026-03-02T09:00:00+07:00",
        None,
    );
    let b = dossier(
        2,
        p,
        "Huỳnh Văn Phúc",
        "079000000012",
        "2026-03-02T10:00:00+07:00",
        None,
    );
    put(&mut kiosk_store, &a);
    put(&mut kiosk_store, &b);
    sync(&mut kiosk_store, &mut hub);
    sync(&mut tablet, &mut hub);
    let mut index = QueueIndex::open_in_memory().unwrap();
    assert_eq!(catch_up(&mut index, &tablet).indexed, 2);
    let today = date(2026, 3, 3);
    let state_of = |index: &QueueIndex, name: &str| {
        index
            .search(name, 5)
            .unwrap()
            .into_iter()
            .find(|r| r.full_name == name)
            .map(|r| r.state)
    };
    assert_eq!(state_of(&index, "Võ Thị Em"), Some(DossierState::Submitted));

    // The officer receives "a" on the tablet: the row follows.
    a.apply(
        Action::Receive,
        officer(),
        None,
        ts("2026-03-03T08:00:00+07:00"),
    )
    .unwrap();
    put(&mut tablet, &a);
    let done = catch_up(&mut index, &tablet);
    assert_eq!(done.indexed, 1);
    assert_eq!(state_of(&index, "Võ Thị Em"), Some(DossierState::Received));
    // The processing clock restarted at reception: 3 March + 7 working days.
    let row = index.search("vo thi em", 1).unwrap().remove(0);
    assert_eq!(row.received, date(2026, 3, 3));
    assert_eq!(row.due, Some(date(2026, 3, 12)));
    // Nothing new: nothing to do.
    assert_eq!(catch_up(&mut index, &tablet).indexed, 0);

    // The resident withdraws "b" at the kiosk; it reaches the tablet through
    // the hub and leaves the default queue.
    let mut b2: Dossier = kiosk_store.get(&kiosk(), &record_id(&b)).unwrap().unwrap();
    b2.apply(
        Action::Withdraw,
        Actor::on_device(Role::Resident, "kiosk-1", "kiosk-1"),
        Some("không cần nữa"),
        ts("2026-03-03T09:00:00+07:00"),
    )
    .unwrap();
    put(&mut kiosk_store, &b2);
    sync(&mut kiosk_store, &mut hub);
    sync(&mut tablet, &mut hub);
    assert_eq!(catch_up(&mut index, &tablet).indexed, 1);
    assert_eq!(
        state_of(&index, "Huỳnh Văn Phúc"),
        Some(DossierState::Withdrawn)
    );
    assert_eq!(
        names(&index.page(&QueueFilter::default(), today, 0, 10).unwrap()),
        ["Võ Thị Em"]
    );
    // The name is searchable once, not once per version.
    assert_eq!(index.search("huynh", 10).unwrap().len(), 1);
    assert_eq!(index.len().unwrap(), 2);
}

#[test]
fn a_restart_resumes_from_the_cursor_and_the_file_is_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("device.key");
    create_key_file(&key_path).unwrap();
    let device_key = DatabaseKey::from_key_file(&key_path).unwrap();
    let index_path = dir.path().join("queue.db");
    let mut store = Store::open(&dir.path().join("records.db"), &key_path).unwrap();
    let catalog = Catalog::bundled().unwrap();
    let p = "signature-certification";
    let batch: Vec<(String, Dossier)> = (0..25u16)
        .map(|n| {
            let d = dossier(
                n,
                p,
                &format!("Người Số {n}"),
                &format!("0790000{n:05}"),
                "2026-03-02T09:00:00+07:00",
                None,
            );
            (record_id(&d), d)
        })
        .collect();
    store.put_batch(&kiosk(), batch).unwrap();

    // Two batches of 10, then the tablet stops.
    let cursor = {
        let mut index = QueueIndex::open(&index_path, &device_key).unwrap();
        for _ in 0..2 {
            index
                .catch_up_batch(&store, &catalog, Holidays::bundled(), 10)
                .unwrap();
        }
        assert_eq!(index.len().unwrap(), 20);
        index.cursor().unwrap()
    };
    assert!(cursor > 0);
    // After the restart it takes in only the rest.
    let mut index = QueueIndex::open(&index_path, &device_key).unwrap();
    assert_eq!(index.cursor().unwrap(), cursor);
    let done = catch_up(&mut index, &store);
    assert_eq!(done.indexed, 5);
    assert_eq!(done.cursor, store.last_change_seq().unwrap());
    assert_eq!(index.len().unwrap(), 25);
    assert_eq!(index.search("nguoi so 24", 5).unwrap().len(), 1);
    // A reset rebuilds from the whole store.
    index.reset().unwrap();
    assert!(index.is_empty().unwrap());
    assert_eq!(catch_up(&mut index, &store).indexed, 25);
    drop(index);

    // The file is encrypted with a key of its own: neither the device secret
    // itself nor another purpose's key opens it.
    assert!(!xaso_sync_store::db::is_plain_sqlite(&index_path).unwrap());
    let other = DatabaseKey::from_key_file(&key_path)
        .unwrap()
        .derive("something-else");
    assert!(matches!(
        QueueIndex::open(&index_path, &other),
        Err(Error::WrongKey { .. })
    ));
}

#[test]
fn urgency_of_a_row() {
    let row = |state, conflict, due: Option<Date>| QueueRow {
        partition: kiosk(),
        record_id: "dossier-x".into(),
        tracking_code: String::new(),
        procedure: "p".into(),
        state,
        channel: Channel::Kiosk,
        conflict,
        received: date(2026, 3, 1),
        due,
        full_name: String::new(),
        id_number: String::new(),
        updated_at: Timestamp::UNIX_EPOCH,
    };
    let today = date(2026, 3, 10);
    use DossierState::*;
    assert_eq!(row(Received, true, None).urgency(today), Urgency::Conflict);
    assert_eq!(
        row(Received, false, Some(date(2026, 3, 9))).urgency(today),
        Urgency::Overdue
    );
    assert_eq!(
        row(Received, false, Some(today)).urgency(today),
        Urgency::DueToday
    );
    assert_eq!(row(Received, false, None).urgency(today), Urgency::Later);
    assert_eq!(
        row(Returned, false, Some(date(2026, 3, 1))).urgency(today),
        Urgency::Closed
    );
}

#[test]
fn an_index_built_from_another_store_starts_again() {
    let p = "signature-certification";
    let mut first = Store::open_in_memory().unwrap();
    let mut second = Store::open_in_memory().unwrap();
    for n in 0..3u16 {
        let d = dossier(
            n,
            p,
            &format!("Cũ {n}"),
            "079000000001",
            "2026-03-02T09:00:00+07:00",
            None,
        );
        put(&mut first, &d);
    }
    let d = dossier(
        9,
        p,
        "Mới",
        "079000000002",
        "2026-03-02T09:00:00+07:00",
        None,
    );
    put(&mut second, &d);
    let mut index = QueueIndex::open_in_memory().unwrap();
    assert_eq!(catch_up(&mut index, &first).indexed, 3);
    // The same index given another store (a reinstalled tablet): only that
    // store's dossiers, none of the old ones.
    assert_eq!(catch_up(&mut index, &second).indexed, 1);
    let rows = index
        .page(&QueueFilter::default(), date(2026, 3, 3), 0, 10)
        .unwrap();
    assert_eq!(names(&rows), ["Mới"]);
    assert!(index.search("cu", 10).unwrap().is_empty());
}
