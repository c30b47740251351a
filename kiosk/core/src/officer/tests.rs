#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::Timestamp;
use xaso_services::catalog::{ProcedureCode, Submitter};
use xaso_services::{
    Action, Actor, Applicant, AttachmentRef, Channel, Consent, Dossier, DossierState, Role,
    TrackingMinter, tracking::CommuneCode,
};

use super::*;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).unwrap()
}

fn officer(device: &str) -> Actor {
    Actor::on_device(Role::Officer, "officer:79001:1", device)
}

/// A dossier submitted at a kiosk, received and in processing.
fn in_processing() -> Dossier {
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
    d.attachments.push(AttachmentRef {
        paper: "birth_certificate".into(),
        sha256: "ab".repeat(32),
        media_type: "image/jpeg".into(),
        bytes: 1000,
    });
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
    d.apply(Action::Receive, officer("o1"), None, at(3))
        .unwrap();
    d.apply(Action::StartProcessing, officer("o1"), None, at(4))
        .unwrap();
    d
}

/// What Automerge makes of two devices appending to the audit of the same version: both
/// entries kept, one after the other; the `state` field takes one of the two values.
fn merged(a: &Dossier, b: &Dossier) -> Dossier {
    let mut ja = serde_json::to_value(a).unwrap();
    let jb = serde_json::to_value(b).unwrap();
    let common = a
        .audit()
        .iter()
        .zip(b.audit())
        .take_while(|(x, y)| x == y)
        .count();
    let extra: Vec<serde_json::Value> = jb["audit"].as_array().unwrap()[common..].to_vec();
    ja["audit"].as_array_mut().unwrap().extend(extra);
    serde_json::from_value(ja).unwrap()
}

fn saved(desk: &mut Desk, effects: Vec<DeskEffect>, now: Timestamp) {
    let dossier = effects
        .into_iter()
        .find_map(|e| match e {
            DeskEffect::SaveDossier(d) => Some(d),
            _ => None,
        })
        .expect("a dossier to save");
    let conflicts = desk.field_conflicts().to_vec();
    desk.handle(DeskInput::Saved { dossier, conflicts }, now)
        .unwrap();
}

#[test]
fn an_action_records_officer_device_time_and_the_version_it_was_based_on() {
    let d = in_processing();
    let version = d.version();
    let mut desk = Desk::open(officer("tablet-7"), d, Vec::new());
    assert!(desk.actions().contains(&Action::Approve));
    desk.handle(DeskInput::Choose(Action::Approve), at(10))
        .unwrap();
    let effects = desk.handle(DeskInput::Confirm, at(11)).unwrap();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, DeskEffect::IssueResult(_))),
        "approval asks for the result document"
    );
    assert_eq!(desk.state(), &DeskState::Saving);
    // Until the app reports it stored, the shown dossier is unchanged.
    assert_eq!(desk.dossier().state(), DossierState::InProcessing);
    saved(&mut desk, effects, at(12));
    let last = desk.dossier().audit().last().unwrap();
    assert_eq!(last.action, Action::Approve);
    assert_eq!(last.actor.id, "officer:79001:1");
    assert_eq!(last.actor.device.as_deref(), Some("tablet-7"));
    assert_eq!(last.at, at(11));
    assert_eq!(last.based_on, Some(version));
    assert_eq!(desk.dossier().state(), DossierState::Approved);
}

#[test]
fn a_supplement_request_needs_a_reason_and_a_refused_step_changes_nothing() {
    let mut desk = Desk::open(officer("o1"), in_processing(), Vec::new());
    let before = desk.dossier().clone();
    // Not possible in this state: refused, nothing changes.
    assert!(matches!(
        desk.handle(DeskInput::Choose(Action::ReturnResult), at(5)),
        Err(DeskRefusal::Lifecycle(_))
    ));
    assert_eq!(desk.state(), &DeskState::Viewing);
    desk.handle(DeskInput::Choose(Action::RequestSupplement), at(5))
        .unwrap();
    assert_eq!(
        desk.handle(DeskInput::Confirm, at(6)),
        Err(DeskRefusal::Lifecycle(
            xaso_services::LifecycleError::ReasonRequired(Action::RequestSupplement)
        ))
    );
    assert_eq!(desk.dossier(), &before);
    desk.handle(
        DeskInput::Reason("Thiếu bản sao giấy chứng sinh".into()),
        at(7),
    )
    .unwrap();
    let effects = desk.handle(DeskInput::Confirm, at(8)).unwrap();
    // Nothing else while saving.
    assert_eq!(
        desk.handle(DeskInput::Choose(Action::Approve), at(8)),
        Err(DeskRefusal::Busy)
    );
    saved(&mut desk, effects, at(9));
    assert_eq!(
        desk.dossier().missing(),
        Some("Thiếu bản sao giấy chứng sinh")
    );
}

#[test]
fn two_different_decisions_taken_offline_are_shown_as_a_conflict_until_an_officer_keeps_one() {
    let base = in_processing();
    // Tablet A approves; tablet B, offline, requests a supplement of the same version.
    let mut a = base.clone();
    a.apply(Action::Approve, officer("tablet-a"), None, at(20))
        .unwrap();
    let mut b = base.clone();
    b.apply(
        Action::RequestSupplement,
        Actor::on_device(Role::Officer, "officer:79001:2", "tablet-b"),
        Some("Ảnh giấy tờ bị mờ"),
        at(21),
    )
    .unwrap();
    let both = merged(&a, &b);
    let conflict = both.decision_conflict().expect("never merged silently");
    assert_eq!(conflict.from, DossierState::InProcessing);
    let outcomes: Vec<_> = conflict.branches.iter().map(|x| x.outcome).collect();
    assert_eq!(
        outcomes,
        vec![DossierState::Approved, DossierState::SupplementRequested]
    );
    assert_eq!(conflict.branches[1].actor.id, "officer:79001:2");
    assert_eq!(conflict.branches[1].at, at(21));

    let mut desk = Desk::open(officer("tablet-a"), both.clone(), Vec::new());
    // Every action waits for the choice.
    assert!(desk.actions().is_empty());
    assert_eq!(
        desk.handle(DeskInput::Choose(Action::MarkResultReady), at(30)),
        Err(DeskRefusal::Lifecycle(
            xaso_services::LifecycleError::DecisionConflict
        ))
    );
    assert_eq!(
        desk.handle(DeskInput::KeepDecision(5), at(30)),
        Err(DeskRefusal::Lifecycle(
            xaso_services::LifecycleError::NoSuchChoice
        ))
    );
    let effects = desk.handle(DeskInput::KeepDecision(1), at(31)).unwrap();
    assert!(effects.contains(&DeskEffect::ResolveState(DossierState::SupplementRequested)));
    saved(&mut desk, effects, at(32));
    assert!(desk.decision_conflict().is_none());
    assert_eq!(desk.dossier().state(), DossierState::SupplementRequested);
    assert_eq!(desk.dossier().missing(), Some("Ảnh giấy tờ bị mờ"));
    // Both decisions stay in the audit as history, with the choice after them.
    assert_eq!(desk.dossier().audit().len(), both.audit().len() + 1);
    let last = desk.dossier().audit().last().unwrap();
    assert_eq!(last.resolves, Some(base.version()));
}

#[test]
fn the_same_decision_on_two_tablets_is_not_a_conflict() {
    let base = in_processing();
    let mut a = base.clone();
    a.apply(Action::Approve, officer("tablet-a"), None, at(20))
        .unwrap();
    let mut b = base.clone();
    b.apply(Action::Approve, officer("tablet-b"), None, at(21))
        .unwrap();
    let both = merged(&a, &b);
    assert_eq!(both.decision_conflict(), None);
    assert!(both.can(Action::MarkResultReady, Role::Officer));
}

#[test]
fn a_longer_branch_against_a_stale_one_is_still_a_conflict() {
    let base = in_processing();
    let mut a = base.clone();
    a.apply(Action::Approve, officer("tablet-a"), None, at(20))
        .unwrap();
    a.apply(Action::MarkResultReady, officer("tablet-a"), None, at(22))
        .unwrap();
    let mut b = base.clone();
    b.apply(
        Action::Reject,
        officer("tablet-b"),
        Some("Không đủ điều kiện"),
        at(21),
    )
    .unwrap();
    for both in [merged(&a, &b), merged(&b, &a)] {
        let conflict = both.decision_conflict().expect("conflict");
        let mut outcomes: Vec<_> = conflict.branches.iter().map(|x| x.outcome).collect();
        outcomes.sort();
        assert_eq!(
            outcomes,
            vec![DossierState::Rejected, DossierState::ResultReady]
        );
    }
}

#[test]
fn a_conflicted_field_is_settled_with_the_value_the_officer_picks() {
    let conflicts = vec![FieldConflict {
        field: "child_full_name".into(),
        choices: vec![
            ConflictChoice {
                value: "Nguyễn Thị Bình".into(),
                author: "tablet-a".into(),
                at: at(40),
            },
            ConflictChoice {
                value: "Nguyễn Thị Bính".into(),
                author: "tablet-b".into(),
                at: at(41),
            },
        ],
    }];
    let mut desk = Desk::open(officer("o1"), in_processing(), conflicts);
    assert_eq!(
        desk.handle(
            DeskInput::PickValue {
                field: "nope".into(),
                choice: 0
            },
            at(42)
        ),
        Err(DeskRefusal::NoSuchField("nope".into()))
    );
    let effects = desk
        .handle(
            DeskInput::PickValue {
                field: "child_full_name".into(),
                choice: 1,
            },
            at(43),
        )
        .unwrap();
    assert_eq!(
        effects,
        vec![DeskEffect::ResolveField {
            field: "child_full_name".into(),
            value: "Nguyễn Thị Bính".into()
        }]
    );
}

#[test]
fn pages_zoom_and_rotate_within_bounds() {
    let mut desk = Desk::open(officer("o1"), in_processing(), Vec::new());
    for _ in 0..10 {
        desk.handle(DeskInput::ZoomIn(0), at(1)).unwrap();
    }
    assert_eq!(desk.page(0).unwrap().zoom, 600);
    for _ in 0..10 {
        desk.handle(DeskInput::ZoomOut(0), at(1)).unwrap();
    }
    assert_eq!(desk.page(0).unwrap().zoom, 100);
    for _ in 0..5 {
        desk.handle(DeskInput::Rotate(0), at(1)).unwrap();
    }
    assert_eq!(desk.page(0).unwrap().quarter_turns, 1);
    assert_eq!(
        desk.handle(DeskInput::Rotate(3), at(1)),
        Err(DeskRefusal::NoSuchPage(3))
    );
}
