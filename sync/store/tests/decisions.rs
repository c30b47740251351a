//! Officers on two tablets, offline, acting on the same dossier; then a sync through the
//! hub (the sans-IO protocol, in memory). Concurrent field edits are kept with both
//! values, authors and times until an officer picks one; two different decisions are
//! never merged silently: the merged dossier shows them as a conflict until an officer
//! keeps one, and the choice syncs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use jiff::Timestamp;
use serde_json::json;
use xaso_services::catalog::{ProcedureCode, Submitter};
use xaso_services::tracking::CommuneCode;
use xaso_services::{
    Action, Actor, Applicant, Channel, Consent, Dossier, DossierState, Role, TrackingMinter,
};
use xaso_sync_core::Partition;
use xaso_sync_core::mapping::PathSegment;
use xaso_sync_core::protocol::{ClientSession, answer};
use xaso_sync_store::Store;

const RECORD: &str = "dossier-1";

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).unwrap()
}

fn partition() -> Partition {
    Partition::submissions("79001", "k1").unwrap()
}

fn sync(client: &mut Store, hub: &mut Store) {
    let mut session = ClientSession::new("hub", []);
    while let Some(request) = session.poll_request(client).unwrap() {
        let reply = answer(hub, &request, |_| true, 1 << 20).unwrap();
        session.handle_reply(client, reply).unwrap();
    }
}

fn officer(n: u32, device: &str) -> Actor {
    Actor::on_device(Role::Officer, format!("officer:79001:{n}"), device)
}

fn submitted() -> Dossier {
    let mut d = Dossier::new(
        "d1".into(),
        ProcedureCode("birth-registration".into()),
        Applicant {
            id_number: "001085012345".into(),
            full_name: "Nguyễn Văn An".into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        at(0),
    );
    d.values
        .insert("child_full_name".into(), "Nguyễn Thị Bình".into());
    d.consent = Some(Consent {
        given_at: at(1),
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let mut minter = TrackingMinter::new(CommuneCode::new("79001").unwrap(), 1).unwrap();
    d.tracking_code = Some(minter.mint(jiff::civil::date(2026, 11, 23)).unwrap());
    d.apply(
        Action::Submit,
        Actor::on_device(Role::Resident, "kiosk:79001:1", "k1"),
        None,
        at(2),
    )
    .unwrap();
    d
}

/// A kiosk submits; the hub and two officer tablets hold the dossier in processing.
fn three_stores() -> (Store, Store, Store) {
    let mut hub = Store::open_in_memory().unwrap();
    let mut kiosk = Store::open_in_memory().unwrap();
    let mut a = Store::open_in_memory().unwrap();
    let mut b = Store::open_in_memory().unwrap();
    kiosk.put(&partition(), RECORD, &submitted()).unwrap();
    sync(&mut kiosk, &mut hub);
    sync(&mut a, &mut hub);
    let mut d: Dossier = a.get(&partition(), RECORD).unwrap().unwrap();
    d.apply(Action::Receive, officer(1, "tablet-a"), None, at(3))
        .unwrap();
    d.apply(Action::StartProcessing, officer(1, "tablet-a"), None, at(4))
        .unwrap();
    a.put(&partition(), RECORD, &d).unwrap();
    sync(&mut a, &mut hub);
    sync(&mut b, &mut hub);
    (hub, a, b)
}

/// Read, act, write: what the officer's desk asks the app to do.
fn act(store: &mut Store, action: Action, actor: Actor, reason: Option<&str>, now: Timestamp) {
    let mut d: Dossier = store.get(&partition(), RECORD).unwrap().unwrap();
    d.apply(action, actor, reason, now).unwrap();
    store.put(&partition(), RECORD, &d).unwrap();
}

#[test]
fn two_different_offline_decisions_are_a_conflict_on_every_device_until_one_is_kept() {
    let (mut hub, mut a, mut b) = three_stores();
    // Both offline: A approves, B requests a supplement — of the same version.
    act(
        &mut a,
        Action::Approve,
        officer(1, "tablet-a"),
        None,
        at(10),
    );
    act(
        &mut b,
        Action::RequestSupplement,
        officer(2, "tablet-b"),
        Some("Ảnh giấy chứng sinh bị mờ"),
        at(11),
    );
    sync(&mut a, &mut hub);
    sync(&mut b, &mut hub);
    sync(&mut a, &mut hub);

    for store in [&a, &b, &hub] {
        let d: Dossier = store.get(&partition(), RECORD).unwrap().unwrap();
        let conflict = d.decision_conflict().expect("never merged silently");
        let mut outcomes: Vec<_> = conflict.branches.iter().map(|x| x.outcome).collect();
        outcomes.sort();
        assert_eq!(
            outcomes,
            vec![DossierState::SupplementRequested, DossierState::Approved]
        );
        let devices: Vec<_> = conflict
            .branches
            .iter()
            .map(|x| x.device.as_str())
            .collect();
        assert!(devices.contains(&"tablet-a") && devices.contains(&"tablet-b"));
        // Nothing else can happen to it meanwhile.
        assert!(!d.can(Action::MarkResultReady, Role::Officer));
        // The store sees the concurrent states too.
        let state = store
            .conflicts(&partition(), RECORD)
            .unwrap()
            .into_iter()
            .find(|c| c.path == vec![PathSegment::from("state")])
            .expect("state in conflict");
        assert_eq!(state.values.len(), 2);
    }

    // Officer 1 on tablet A keeps B's supplement request.
    let mut d: Dossier = a.get(&partition(), RECORD).unwrap().unwrap();
    let keep = d
        .decision_conflict()
        .unwrap()
        .branches
        .iter()
        .position(|x| x.device == "tablet-b")
        .unwrap();
    let to = d
        .resolve_decision(keep, officer(1, "tablet-a"), at(20))
        .unwrap()
        .to;
    a.put(&partition(), RECORD, &d).unwrap();
    a.resolve(
        &partition(),
        RECORD,
        &[PathSegment::from("state")],
        &serde_json::to_value(to).unwrap(),
    )
    .unwrap();
    sync(&mut a, &mut hub);
    sync(&mut b, &mut hub);
    for store in [&a, &b, &hub] {
        let d: Dossier = store.get(&partition(), RECORD).unwrap().unwrap();
        assert_eq!(d.decision_conflict(), None);
        assert_eq!(d.state(), DossierState::SupplementRequested);
        assert_eq!(d.missing(), Some("Ảnh giấy chứng sinh bị mờ"));
        assert!(store.conflicts(&partition(), RECORD).unwrap().is_empty());
        // The approval stays in the audit as history.
        assert!(d.audit().iter().any(|e| e.action == Action::Approve));
    }
}

#[test]
fn concurrent_field_edits_keep_both_values_with_authors_until_one_is_picked() {
    let (mut hub, mut a, mut b) = three_stores();
    for (store, name) in [(&mut a, "Nguyễn Thị Bính"), (&mut b, "Nguyễn Thị Bình An")] {
        let mut d: Dossier = store.get(&partition(), RECORD).unwrap().unwrap();
        d.values.insert("child_full_name".into(), name.into());
        store.put(&partition(), RECORD, &d).unwrap();
    }
    sync(&mut a, &mut hub);
    sync(&mut b, &mut hub);
    sync(&mut a, &mut hub);
    let path = vec![
        PathSegment::from("values"),
        PathSegment::from("child_full_name"),
    ];
    let conflicts = b.conflicts(&partition(), RECORD).unwrap();
    let field = conflicts.iter().find(|c| c.path == path).expect("conflict");
    let mut values: Vec<_> = field.values.iter().map(|v| v.value.clone()).collect();
    values.sort_by_key(|v| v.to_string());
    assert_eq!(
        values,
        vec![json!("Nguyễn Thị Bình An"), json!("Nguyễn Thị Bính")]
    );
    let authors: std::collections::BTreeSet<_> =
        field.values.iter().map(|v| v.author.clone()).collect();
    assert_eq!(authors.len(), 2, "each value names its device");
    assert!(field.values.iter().all(|v| v.time_ms > 0));
    // The data merge is no decision conflict.
    let d: Dossier = b.get(&partition(), RECORD).unwrap().unwrap();
    assert_eq!(d.decision_conflict(), None);

    b.resolve(&partition(), RECORD, &path, &json!("Nguyễn Thị Bính"))
        .unwrap();
    sync(&mut b, &mut hub);
    sync(&mut a, &mut hub);
    for store in [&a, &b, &hub] {
        assert!(store.conflicts(&partition(), RECORD).unwrap().is_empty());
        let d: Dossier = store.get(&partition(), RECORD).unwrap().unwrap();
        assert_eq!(d.values["child_full_name"], "Nguyễn Thị Bính");
    }
}
