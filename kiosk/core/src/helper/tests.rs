#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use xaso_services::{CardField, Catalog, Channel};

use super::*;
use crate::Submission;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).unwrap()
}

fn card(id: &str, name: &str) -> CardIdentity {
    CardIdentity {
        fields: BTreeMap::from([
            (CardField::IdNumber, id.to_owned()),
            (CardField::FullName, name.to_owned()),
        ]),
    }
}

fn helper() -> AssistedSession {
    AssistedSession::new(
        "79001",
        Actor::on_device(Role::Helper, "helper:79001:7", "tablet-h1"),
    )
}

fn submission(id: &str) -> Submission {
    Submission {
        procedure: "marital-status-certificate".into(),
        values: BTreeMap::from([
            ("requester_full_name".to_owned(), "Trần Thị Mai".to_owned()),
            ("requester_id_number".to_owned(), id.to_owned()),
        ]),
        from_card: BTreeSet::new(),
        card_verified: true,
        requester_id_number: Some(id.to_owned()),
        papers: Vec::new(),
        consent: true,
        fetch_earlier_results: false,
        lang: xaso_i18n::Lang::Vi,
    }
}

#[test]
fn the_resident_consents_with_their_own_card_and_every_step_names_both() {
    let mut h = helper();
    // Nothing before a session.
    assert_eq!(
        h.may_open("079303001234"),
        Err(AssistRefusal::NotThisResident)
    );
    h.start().unwrap();
    assert_eq!(h.start(), Err(AssistRefusal::AlreadyOpen));
    // An unverified card is refused: nothing changes.
    assert_eq!(
        h.card_read(&card("079303001234", "Trần Thị Mai"), false),
        Err(AssistRefusal::CardNotVerified)
    );
    assert_eq!(h.state(), &AssistState::WaitingForCard);
    h.card_read(&card("079303001234", "Trần Thị Mai"), true)
        .unwrap();
    assert_eq!(h.state(), &AssistState::AskingConsent);
    // Not yet open: the resident has not agreed.
    assert!(h.may_open("079303001234").is_err());
    let effects = h.consent(true, "s-1".into(), at(10)).unwrap();
    let AssistEffect::SaveRecord(record) = &effects[0] else {
        panic!("the consent is stored first: {effects:?}");
    };
    assert_eq!(record.helper.id, "helper:79001:7");
    assert_eq!(record.helper.role, Role::Helper);
    assert_eq!(record.helper.device.as_deref(), Some("tablet-h1"));
    assert_eq!(
        record.resident,
        xaso_services::roster::person_key("79001", "079303001234")
    );
    assert!(!record.resident.contains("079303001234"));
    assert_eq!(record.consented_at, at(10));
    assert_eq!(record.consent_version, ASSIST_CONSENT_VERSION);
    assert_eq!(effects[1], AssistEffect::OpenJourney);
    h.may_open("079303001234").unwrap();
    assert_eq!(
        h.may_open("001085012345"),
        Err(AssistRefusal::NotThisResident)
    );

    // A dossier handed in: the resident is the applicant, the helper the actor.
    let s = h.hand_in(&submission("079303001234")).unwrap();
    assert_eq!(s.channel, Channel::Helper);
    let catalog = Catalog::bundled().unwrap();
    let d = s
        .into_dossier(&catalog, "d-1".into(), &h.actor(), "consent.v1", at(20))
        .unwrap();
    assert_eq!(d.applicant.id_number, "079303001234");
    assert_eq!(
        d.consent.unwrap().assisted_by.as_deref(),
        Some("helper:79001:7")
    );
    // A submission for somebody else is refused.
    assert_eq!(
        h.hand_in(&submission("001085012345")),
        Err(AssistRefusal::NotThisResident)
    );
    let effects = h.submitted("79001-261123-01-0001").unwrap();
    let AssistEffect::SaveRecord(record) = &effects[0] else {
        panic!()
    };
    assert_eq!(record.dossiers, vec!["79001-261123-01-0001".to_owned()]);
}

#[test]
fn after_the_session_the_helper_cannot_open_the_residents_data_again() {
    let mut h = helper();
    h.start().unwrap();
    h.card_read(&card("079303001234", "Trần Thị Mai"), true)
        .unwrap();
    h.consent(true, "s-1".into(), at(10)).unwrap();
    h.may_open("079303001234").unwrap();
    let effects = h.end(at(30));
    let AssistEffect::SaveRecord(record) = &effects[0] else {
        panic!()
    };
    assert_eq!(record.ended_at, Some(at(30)));
    assert!(effects.contains(&AssistEffect::WipeResident));
    assert_eq!(h.state(), &AssistState::Idle);
    assert!(h.card().is_none() && h.record().is_none());
    assert_eq!(
        h.may_open("079303001234"),
        Err(AssistRefusal::NotThisResident)
    );
    assert_eq!(
        h.hand_in(&submission("079303001234")),
        Err(AssistRefusal::NotThisResident)
    );
    // A new session with someone else's card does not open the first resident's data.
    h.start().unwrap();
    h.card_read(&card("001085012345", "Lê Văn Hùng"), true)
        .unwrap();
    h.consent(true, "s-2".into(), at(40)).unwrap();
    assert_eq!(
        h.may_open("079303001234"),
        Err(AssistRefusal::NotThisResident)
    );
}

#[test]
fn declining_or_taking_the_card_away_ends_the_session_and_wipes_it() {
    let mut h = helper();
    h.start().unwrap();
    h.card_read(&card("079303001234", "Trần Thị Mai"), true)
        .unwrap();
    let effects = h.consent(false, "s-1".into(), at(10)).unwrap();
    assert_eq!(effects, vec![AssistEffect::WipeResident]);
    assert_eq!(h.state(), &AssistState::Idle);

    h.start().unwrap();
    h.card_read(&card("079303001234", "Trần Thị Mai"), true)
        .unwrap();
    h.consent(true, "s-2".into(), at(20)).unwrap();
    let effects = h.card_removed(at(25));
    assert!(effects.contains(&AssistEffect::WipeResident));
    assert!(h.may_open("079303001234").is_err());
}
