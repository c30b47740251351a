//! The resident's counter: a dossier handed in at kiosk K is looked up and supplemented
//! at kiosk K2 through the real hub (HTTPS, mutual TLS), and K and the officer receive
//! the supplement with their next sync.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may unwrap (house rules)

mod common;

use common::{device, start_hub};
use jiff::Timestamp;
use xaso_services::catalog::{ProcedureCode, Submitter};
use xaso_services::tracking::CommuneCode;
use xaso_services::{
    Action, Actor, Applicant, Channel, Consent, Dossier, DossierState, Role as Who, TrackingMinter,
};
use xaso_sync_client::{Error, SyncClient};
use xaso_sync_core::counter::{DossierLookup, SupplementPage, SupplementRequest};
use xaso_sync_core::{BlobHash, Role};
use xaso_sync_store::Store;

const RESIDENT: &str = "079303001234";

/// Records, then attachments both ways.
async fn sync(client: &SyncClient, store: &mut Store) {
    let progress = xaso_sync_client::Progress::default();
    let cancel = xaso_sync_client::CancellationToken::new();
    client.sync_once(store, &progress, &cancel).await.unwrap();
    client.sync_blobs(store, &progress, &cancel).await.unwrap();
}

fn dossier(device_number: u16) -> Dossier {
    let now = Timestamp::now();
    let mut d = Dossier::new(
        "d1".into(),
        ProcedureCode("birth-registration".into()),
        Applicant {
            id_number: RESIDENT.into(),
            full_name: "Trần Thị Mai".into(),
            submitter: Submitter::Oneself,
            card_verified: true,
        },
        Channel::Kiosk,
        now,
    );
    d.consent = Some(Consent {
        given_at: now,
        text_version: "consent.v1".into(),
        reuse_for_later: false,
        assisted_by: None,
        fetch_earlier_results: false,
    });
    let mut minter =
        TrackingMinter::new(CommuneCode::new("79001").unwrap(), device_number).unwrap();
    d.tracking_code = Some(minter.mint(jiff::civil::date(2026, 12, 3)).unwrap());
    d.apply(
        Action::Submit,
        Actor::new(Who::Resident, "kiosk"),
        None,
        now,
    )
    .unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplement_asked_of_a_dossier_from_kiosk_k_is_handed_in_at_kiosk_k2() {
    let hub = start_hub().await;
    let (k_id, k) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, k2) = device(&hub, Role::Kiosk, &["79001"]).await;
    let (_, officer) = device(&hub, Role::Officer, &["79001"]).await;
    let (_, elsewhere) = device(&hub, Role::Kiosk, &["79002"]).await;

    // K: the resident hands the dossier in.
    let partition = k_id.submissions_partition().unwrap();
    let d = dossier(k_id.device_number.unwrap());
    let code = d.tracking_code.clone().unwrap().to_string();
    let record = format!("dossier-{code}");
    let mut ks = Store::open_in_memory().unwrap();
    ks.put(&partition, &record, &d).unwrap();
    sync(&k, &mut ks).await;

    let lookup = |id: &str| DossierLookup {
        tracking_code: code.clone(),
        id_number: id.into(),
    };
    // K2 finds it for the card's holder only; another person's card, an unknown code
    // and another commune's kiosk learn nothing.
    let found = k2.counter_lookup(&lookup(RESIDENT)).await.unwrap().unwrap();
    assert_eq!(found.partition, partition.to_string());
    let seen: Dossier = serde_json::from_value(found.dossier).unwrap();
    assert_eq!(seen.state(), DossierState::Submitted);
    assert!(
        k2.counter_lookup(&lookup("001085012345"))
            .await
            .unwrap()
            .is_none()
    );
    let unknown = DossierLookup {
        tracking_code: "79001-261203-ZZ-0001".into(),
        id_number: RESIDENT.into(),
    };
    assert!(k2.counter_lookup(&unknown).await.unwrap().is_none());
    assert!(matches!(
        elsewhere.counter_lookup(&lookup(RESIDENT)).await,
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        officer.counter_lookup(&lookup(RESIDENT)).await,
        Err(Error::Refused { status: 403, .. })
    ));

    let page = SupplementPage {
        paper: "birth_certificate".into(),
        media_type: "image/jpeg".into(),
        bytes: b"page two, photographed at K2".to_vec(),
    };
    let request = |id: &str| SupplementRequest {
        tracking_code: code.clone(),
        id_number: id.into(),
        pages: vec![page.clone()],
    };
    // Not asked for yet: refused, nothing stored.
    assert!(matches!(
        k2.counter_supplement(&request(RESIDENT)).await,
        Err(Error::Refused { status: 409, .. })
    ));

    // The officer receives it and asks for a supplement.
    let mut os = Store::open_in_memory().unwrap();
    sync(&officer, &mut os).await;
    let mut od: Dossier = os.get(&partition, &record).unwrap().unwrap();
    let hoa = Actor::on_device(Who::Officer, "officer:79001:1", "tablet-o");
    let now = Timestamp::now();
    od.apply(Action::Receive, hoa.clone(), None, now).unwrap();
    od.apply(Action::StartProcessing, hoa.clone(), None, now)
        .unwrap();
    od.apply(
        Action::RequestSupplement,
        hoa,
        Some("Cần thêm trang 2 của giấy chứng sinh"),
        now,
    )
    .unwrap();
    os.put(&partition, &record, &od).unwrap();
    sync(&officer, &mut os).await;

    // K2 sees the request, and another person's card still cannot supplement.
    let found = k2.counter_lookup(&lookup(RESIDENT)).await.unwrap().unwrap();
    let seen: Dossier = serde_json::from_value(found.dossier).unwrap();
    assert_eq!(seen.missing(), Some("Cần thêm trang 2 của giấy chứng sinh"));
    assert!(
        k2.counter_supplement(&request("001085012345"))
            .await
            .unwrap()
            .is_none()
    );
    let done = k2
        .counter_supplement(&request(RESIDENT))
        .await
        .unwrap()
        .unwrap();
    let after: Dossier = serde_json::from_value(done.dossier).unwrap();
    assert_eq!(after.state(), DossierState::Supplemented);
    let last = after.audit().last().unwrap();
    assert_eq!(last.action, Action::Supplement);
    assert_eq!(last.actor.role, Who::Resident);
    assert!(last.actor.device.is_some(), "K2 is named in the audit");

    // K and the officer get the step and the page with their next sync.
    for (client, store) in [(&k, &mut ks), (&officer, &mut os)] {
        sync(client, store).await;
        let d: Dossier = store.get(&partition, &record).unwrap().unwrap();
        assert_eq!(d.state(), DossierState::Supplemented);
        let hash = BlobHash::of(&page.bytes);
        assert_eq!(
            d.attachments.last().unwrap().sha256,
            hash.to_hex(),
            "the page is referenced"
        );
        assert_eq!(
            store.blob(&partition, &hash).unwrap().as_deref(),
            Some(page.bytes.as_slice()),
            "and its bytes arrived"
        );
    }
}
