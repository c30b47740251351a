//! The sans-IO protocol, driven in memory (no sockets): exchanges, paging,
//! replays, drops, and a property test over 4 stores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

use proptest::prelude::*;
use serde_json::{Value, json};
use xaso_sync_core::Partition;
use xaso_sync_core::frame::{decode_frame, encode_frame};
use xaso_sync_core::protocol::{
    ClientSession, KIND_REPLY, KIND_REQUEST, SyncReply, SyncRequest, answer, check_access,
};
use xaso_sync_store::Store;

fn p(name: &str) -> Partition {
    Partition::new(name).unwrap()
}

/// What happens to one exchange on the way.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// The request never reaches the hub.
    DropRequest,
    /// The hub processes the request but the reply is lost.
    DropReply,
    /// The request is delivered twice (replay); the client sees the second reply.
    DuplicateRequest,
    /// The client sees the reply, and later the same reply again.
    DuplicateReply,
}

/// Run one session; returns bytes (request, reply) and round trips. Faults apply to the first exchange.
fn sync(client: &mut Store, hub: &mut Store, fault: Fault, page: u32) -> (usize, usize, u32) {
    let mut session = ClientSession::new("hub", []).with_page_bytes(page);
    let (mut up, mut down, mut rounds) = (0, 0, 0);
    let mut first = true;
    while let Some(request) = session.poll_request(client).unwrap() {
        rounds += 1;
        let bytes = encode_frame(KIND_REQUEST, &request).unwrap();
        up += bytes.len();
        let fault = if first { fault } else { Fault::None };
        first = false;
        if fault == Fault::DropRequest {
            return (up, down, rounds);
        }
        let received: SyncRequest = decode_frame(KIND_REQUEST, &bytes).unwrap();
        let mut reply = answer(hub, &received, |_| true, 1 << 20).unwrap();
        if fault == Fault::DuplicateRequest {
            reply = answer(hub, &received, |_| true, 1 << 20).unwrap();
        }
        if fault == Fault::DropReply {
            return (up, down, rounds);
        }
        let reply_bytes = encode_frame(KIND_REPLY, &reply).unwrap();
        down += reply_bytes.len();
        let decoded: SyncReply = decode_frame(KIND_REPLY, &reply_bytes).unwrap();
        session.handle_reply(client, decoded.clone()).unwrap();
        if fault == Fault::DuplicateReply {
            // A stale copy arrives later, to a new session.
            let mut late = ClientSession::new("hub", []);
            late.poll_request(client).unwrap();
            late.handle_reply(client, decoded).unwrap();
        }
    }
    (up, down, rounds)
}

fn edit(store: &mut Store, partition: &Partition, record: &str, field: &str, value: Value) {
    let mut current = store
        .get_json(partition, record)
        .unwrap()
        .unwrap_or_else(|| json!({}));
    current[field] = value;
    store.put(partition, record, &current).unwrap();
}

fn assert_converged(stores: &[&Store]) {
    let first = stores[0];
    let partitions = first.partitions().unwrap();
    for other in &stores[1..] {
        assert_eq!(other.partitions().unwrap(), partitions);
        for partition in &partitions {
            assert!(
                other
                    .vector(partition)
                    .unwrap()
                    .same_as(&first.vector(partition).unwrap())
            );
            let ids = first.list(partition).unwrap();
            assert_eq!(other.list(partition).unwrap(), ids);
            for id in &ids {
                assert_eq!(
                    other.get_json(partition, id).unwrap(),
                    first.get_json(partition, id).unwrap(),
                    "{id}"
                );
                assert_eq!(
                    other.conflicts(partition, id).unwrap(),
                    first.conflicts(partition, id).unwrap()
                );
            }
        }
    }
}

#[test]
fn offline_edits_on_three_devices_converge_through_the_hub() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut devices: Vec<Store> = (0..3).map(|_| Store::open_in_memory().unwrap()).collect();
    let commune = p("79001");
    for (i, device) in devices.iter_mut().enumerate() {
        for r in 0..20 {
            edit(
                device,
                &commune,
                &format!("d{r}"),
                &format!("f{i}"),
                json!(r * 10 + i),
            );
        }
        edit(
            device,
            &commune,
            "shared",
            "status",
            json!(format!("by-{i}")),
        );
    }
    for _ in 0..2 {
        for device in devices.iter_mut() {
            sync(device, &mut hub, Fault::None, 64 * 1024);
        }
    }
    assert_converged(&[&hub, &devices[0], &devices[1], &devices[2]]);
    let doc = hub.get_json(&commune, "d3").unwrap().unwrap();
    assert_eq!(doc, json!({"f0": 30, "f1": 31, "f2": 32}));
    let conflicts = hub.conflicts(&commune, "shared").unwrap();
    assert_eq!(conflicts[0].values.len(), 3);
}

#[test]
fn nothing_changed_is_one_small_round_trip_whatever_the_number_of_documents() {
    // The no-change exchange carries one vector per partition (its size depends
    // on the number of devices, not documents). 2,000 documents keep the debug
    // test fast; `cargo xtask bench sync` measures 10,000 over the emulated link.
    let mut hub = Store::open_in_memory().unwrap();
    let mut device = Store::open_in_memory().unwrap();
    let commune = p("79001");
    device
        .put_batch(
            &commune,
            (0..2_000).map(|r| (format!("HS-{r:06}"), json!({"status": "submitted", "n": r}))),
        )
        .unwrap();
    let (up, down, rounds) = sync(&mut device, &mut hub, Fault::None, 256 * 1024);
    assert!(
        rounds >= 1 && up > 10_000,
        "first sync pushes everything: {up} B in {rounds} rounds"
    );
    assert_converged(&[&hub, &device]);
    let (up, down2, rounds) = sync(&mut device, &mut hub, Fault::None, 256 * 1024);
    assert_eq!(rounds, 1);
    assert!(
        up + down2 < 200,
        "no-change exchange is {up} + {down2} bytes"
    );
    let _ = down;
}

#[test]
fn incremental_sync_sends_only_changed_documents() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut device = Store::open_in_memory().unwrap();
    let mut officer = Store::open_in_memory().unwrap();
    let commune = p("79001");
    for r in 0..1000 {
        device
            .put(
                &commune,
                &format!("HS-{r:06}"),
                &json!({"status": "submitted", "n": r}),
            )
            .unwrap();
    }
    sync(&mut device, &mut hub, Fault::None, 256 * 1024);
    sync(&mut officer, &mut hub, Fault::None, 256 * 1024);
    for r in 0..10 {
        edit(
            &mut officer,
            &commune,
            &format!("HS-{r:06}"),
            "status",
            json!("accepted"),
        );
    }
    sync(&mut officer, &mut hub, Fault::None, 256 * 1024);
    let (up, down, rounds) = sync(&mut device, &mut hub, Fault::None, 256 * 1024);
    assert_eq!(rounds, 1);
    assert!(down < 2000, "10 changes cost {down} bytes");
    assert!(up < 200, "{up}");
    assert_converged(&[&hub, &device, &officer]);
}

#[test]
fn paging_sends_big_backlogs_in_several_rounds() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut device = Store::open_in_memory().unwrap();
    let mut other = Store::open_in_memory().unwrap();
    for r in 0..300 {
        device
            .put(
                &p("79001"),
                &format!("d{r}"),
                &json!({"text": "x".repeat(100), "r": r}),
            )
            .unwrap();
        device
            .put(&p("79001/thue"), &format!("t{r}"), &json!({"r": r}))
            .unwrap();
    }
    let (_, _, rounds) = sync(&mut device, &mut hub, Fault::None, 4096);
    assert!(rounds > 5, "{rounds}");
    let (_, _, rounds) = sync(&mut other, &mut hub, Fault::None, 4096);
    assert!(rounds > 5, "{rounds}");
    assert_converged(&[&hub, &device, &other]);
}

#[test]
fn replayed_and_dropped_messages_change_nothing_harmful() {
    let mut hub = Store::open_in_memory().unwrap();
    let mut device = Store::open_in_memory().unwrap();
    let commune = p("79001");
    for r in 0..10 {
        device
            .put(&commune, &format!("d{r}"), &json!({"r": r}))
            .unwrap();
    }
    let mut session = ClientSession::new("hub", []);
    let request = session.poll_request(&device).unwrap().unwrap();
    let reply1 = answer(&mut hub, &request, |_| true, 1 << 20).unwrap();
    let count = hub.change_count(&commune).unwrap();
    let vector = hub.vector(&commune).unwrap();
    // Replaying the same request: same answer, nothing new written.
    let reply2 = answer(&mut hub, &request, |_| true, 1 << 20).unwrap();
    assert_eq!(reply1, reply2);
    assert_eq!(hub.change_count(&commune).unwrap(), count);
    assert!(hub.vector(&commune).unwrap().same_as(&vector));
    session.handle_reply(&mut device, reply1.clone()).unwrap();
    // A reply nobody asked for is refused by the session.
    assert!(session.handle_reply(&mut device, reply1).is_err());
    for fault in [
        Fault::DropRequest,
        Fault::DropReply,
        Fault::DuplicateRequest,
        Fault::DuplicateReply,
    ] {
        edit(
            &mut device,
            &commune,
            "d1",
            "note",
            json!(format!("{fault:?}")),
        );
        sync(&mut device, &mut hub, fault, 1 << 20);
        sync(&mut device, &mut hub, Fault::None, 1 << 20);
        assert_converged(&[&hub, &device]);
    }
    assert_eq!(hub.change_count(&commune).unwrap(), 14);
}

#[test]
fn access_check_refuses_the_whole_request() {
    let mut device = Store::open_in_memory().unwrap();
    device.put(&p("79001"), "a", &json!({"x": 1})).unwrap();
    device.put(&p("79002"), "b", &json!({"x": 2})).unwrap();
    let mut session = ClientSession::new("hub", []);
    let request = session.poll_request(&device).unwrap().unwrap();
    assert!(check_access(&request, |p| p.commune() == "79001").is_err());
    assert!(check_access(&request, |p| p.commune().starts_with("790")).is_ok());
}

#[test]
fn frames_are_versioned_and_checked() {
    let reply = SyncReply { answers: vec![] };
    let mut bytes = encode_frame(KIND_REPLY, &reply).unwrap();
    assert!(decode_frame::<SyncRequest>(KIND_REQUEST, &bytes).is_err());
    assert_eq!(
        decode_frame::<SyncReply>(KIND_REPLY, &bytes).unwrap(),
        reply
    );
    bytes[2] = 9;
    assert!(matches!(
        decode_frame::<SyncReply>(KIND_REPLY, &bytes),
        Err(xaso_sync_core::Error::UnsupportedVersion(9))
    ));
    assert!(decode_frame::<SyncReply>(KIND_REPLY, b"garbage").is_err());
    assert!(decode_frame::<SyncReply>(KIND_REPLY, b"").is_err());
}

#[derive(Debug, Clone)]
enum Step {
    Edit {
        store: usize,
        record: u8,
        field: u8,
        value: i64,
    },
    Sync {
        device: usize,
        fault: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..4, 0u8..6, 0u8..3, any::<i64>()).prop_map(|(store, record, field, value)| Step::Edit { store, record, field, value }),
        2 => (1usize..4, 0u8..5).prop_map(|(device, fault)| Step::Sync { device, fault }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Store 0 is the hub, 1..4 are devices. Edits anywhere, syncs with drops
    /// and duplicate deliveries, in any order: after a final round of clean
    /// syncs every store holds identical documents.
    #[test]
    fn random_interleavings_converge(steps in proptest::collection::vec(step(), 1..40)) {
        let mut stores: Vec<Store> = (0..4).map(|_| Store::open_in_memory().unwrap()).collect();
        let partitions = [p("79001"), p("79001/kiosk/k1")];
        for step in steps {
            match step {
                Step::Edit { store, record, field, value } => {
                    let partition = &partitions[(record % 2) as usize];
                    edit(&mut stores[store], partition, &format!("r{record}"), &format!("f{field}"), json!(value));
                }
                Step::Sync { device, fault } => {
                    let fault = [Fault::None, Fault::DropRequest, Fault::DropReply, Fault::DuplicateRequest, Fault::DuplicateReply][fault as usize];
                    let (hub, rest) = stores.split_at_mut(1);
                    sync(&mut rest[device - 1], &mut hub[0], fault, 512);
                }
            }
        }
        for _ in 0..2 {
            for device in 1..4 {
                let (hub, rest) = stores.split_at_mut(1);
                sync(&mut rest[device - 1], &mut hub[0], Fault::None, 512);
            }
        }
        let refs: Vec<&Store> = stores.iter().collect();
        assert_converged(&refs);
    }
}
