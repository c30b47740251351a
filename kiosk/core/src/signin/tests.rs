#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use xaso_services::CardField;

use super::*;

/// Small argon2 parameters: the rules are what is tested, not the cost.
fn policy() -> PinPolicy {
    PinPolicy {
        argon2_memory_kib: 64,
        argon2_passes: 1,
        ..PinPolicy::default()
    }
}

fn card(id: &str) -> CardIdentity {
    CardIdentity {
        fields: BTreeMap::from([
            (CardField::IdNumber, id.to_owned()),
            (CardField::FullName, "Lê Thị Hoa".to_owned()),
        ]),
    }
}

fn officer() -> RosterEntry {
    RosterEntry {
        display_name: "Lê Thị Hoa".into(),
        actor_id: "officer:79001:1".into(),
    }
}

const SALT: &[u8] = b"0123456789abcdef";

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + s).unwrap()
}

fn typed(s: &mut SignIn, pin: &str) {
    for d in pin.chars() {
        s.digit(d);
    }
}

/// A first sign-in with PIN 246810; returns the saved record.
fn first_sign_in(s: &mut SignIn, now: Instant) -> PinRecord {
    assert_eq!(
        s.card_read(&card("079085001234"), true),
        [SignInEffect::LookUp {
            id_number: "079085001234".into()
        }]
    );
    assert!(s.looked_up(Some(officer()), None, at(0)).is_empty());
    assert!(matches!(
        s.state(),
        SignInState::ChoosingPin { first: None, .. }
    ));
    typed(s, "246810");
    assert!(s.submit(SALT, now, at(0)).is_empty());
    typed(s, "246810");
    let effects = s.submit(SALT, now, at(0));
    let [
        SignInEffect::SavePin { id_number, record },
        SignInEffect::SignedIn,
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!(id_number, "079085001234");
    record.clone()
}

#[test]
fn the_first_sign_in_chooses_a_pin_twice_and_keeps_only_its_hash() {
    let now = Instant::now();
    let mut s = SignIn::new(policy(), now);
    let record = first_sign_in(&mut s, now);
    assert!(s.is_open());
    assert_eq!(s.person().unwrap().display_name, "Lê Thị Hoa");
    assert!(record.phc.starts_with("$argon2id$v=19$"), "{}", record.phc);
    assert!(!record.phc.contains("246810"));
    assert_eq!(record.failures, 0);
}

#[test]
fn a_new_pin_must_be_digits_of_the_right_length_and_typed_the_same_twice() {
    let now = Instant::now();
    let mut s = SignIn::new(policy(), now);
    s.card_read(&card("079085001234"), true);
    s.looked_up(Some(officer()), None, at(0));
    typed(&mut s, "12345");
    assert!(s.submit(SALT, now, at(0)).is_empty());
    assert_eq!(s.problem(), Some(PinProblem::BadLength));
    typed(&mut s, "111222");
    s.submit(SALT, now, at(0));
    typed(&mut s, "111223");
    assert!(s.submit(SALT, now, at(0)).is_empty());
    assert_eq!(s.problem(), Some(PinProblem::Mismatch));
    assert!(matches!(
        s.state(),
        SignInState::ChoosingPin { first: None, .. }
    ));
    assert!(!s.is_open());
}

#[test]
fn wrong_pins_are_limited_and_the_lockout_doubles_and_survives_a_restart() {
    let now = Instant::now();
    let mut s = SignIn::new(policy(), now);
    let mut record = first_sign_in(&mut s, now);
    s.sign_out();
    // Next time: the record is found, the PIN is asked.
    s.card_read(&card("079085001234"), true);
    s.looked_up(Some(officer()), Some(record.clone()), at(10));
    for left in (1..=4).rev() {
        typed(&mut s, "000000");
        let effects = s.submit(SALT, now, at(10));
        let [SignInEffect::SavePin { record: r, .. }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(r.failures, 5 - left);
        assert_eq!(s.problem(), Some(PinProblem::Wrong { left }));
    }
    // The fifth wrong PIN locks for five minutes.
    typed(&mut s, "000000");
    let effects = s.submit(SALT, now, at(10));
    let [SignInEffect::SavePin { record: r, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    record = r.clone();
    assert_eq!(record.failures, 5);
    assert_eq!(record.locked_until, Some(at(10 + 300)));
    assert_eq!(s.state(), &SignInState::Locked { until: at(310) });
    // Even the right PIN does nothing while locked.
    typed(&mut s, "246810");
    assert!(s.submit(SALT, now, at(20)).is_empty());
    assert!(!s.is_open());
    // A restart (a new sign-in with the saved record) does not lift the lock.
    let mut s = SignIn::new(policy(), now);
    s.card_read(&card("079085001234"), true);
    s.looked_up(Some(officer()), Some(record.clone()), at(100));
    assert_eq!(s.state(), &SignInState::Locked { until: at(310) });
    // Once it has passed, one more wrong PIN locks for twice as long.
    s.tick(now, at(311));
    typed(&mut s, "999999");
    let effects = s.submit(SALT, now, at(311));
    let [SignInEffect::SavePin { record: r, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(r.locked_until, Some(at(311 + 600)));
    // The right PIN after that signs in and clears the count.
    s.tick(now, at(911));
    typed(&mut s, "246810");
    let effects = s.submit(SALT, now, at(911));
    let [
        SignInEffect::SavePin { record: r, .. },
        SignInEffect::SignedIn,
    ] = effects.as_slice()
    else {
        panic!("{effects:?}");
    };
    assert_eq!((r.failures, r.locked_until), (0, None));
    assert!(s.is_open());
}

#[test]
fn an_open_session_locks_when_left_alone_after_a_countdown_and_the_pin_opens_it() {
    let start = Instant::now();
    let mut s = SignIn::new(policy(), start);
    first_sign_in(&mut s, start);
    let idle = policy().idle;
    assert_eq!(s.idle_countdown(start), None);
    let warn = start + idle.timeout - Duration::from_secs(10);
    assert_eq!(s.idle_countdown(warn), Some(10));
    s.tick(warn, at(0));
    assert!(s.is_open());
    s.tick(start + idle.timeout, at(0));
    assert!(matches!(s.state(), SignInState::IdleLocked { .. }));
    assert!(!s.is_open());
    assert_eq!(s.person().unwrap().actor_id, "officer:79001:1");
    typed(&mut s, "111111");
    s.submit(SALT, start + idle.timeout, at(1));
    assert!(matches!(s.state(), SignInState::IdleLocked { .. }));
    assert_eq!(s.problem(), Some(PinProblem::Wrong { left: 4 }));
    typed(&mut s, "246810");
    let effects = s.submit(SALT, start + idle.timeout, at(2));
    assert_eq!(effects.last(), Some(&SignInEffect::SignedIn));
    assert!(s.is_open());
}

#[test]
fn only_a_verified_card_of_someone_on_the_roster_signs_in() {
    let now = Instant::now();
    let mut s = SignIn::new(policy(), now);
    assert!(s.card_read(&card("079085001234"), false).is_empty());
    assert_eq!(s.state(), &SignInState::Refused(SignInProblem::NotVerified));
    s.card_read(&card("079085001234"), true);
    s.looked_up(None, None, at(0));
    assert_eq!(s.state(), &SignInState::Refused(SignInProblem::NotOnRoster));
    let no_id = CardIdentity::default();
    s.card_read(&no_id, true);
    assert_eq!(s.state(), &SignInState::Refused(SignInProblem::NoIdNumber));
}

#[test]
fn another_card_on_a_signed_in_tablet_signs_out_and_removal_ends_everything() {
    let now = Instant::now();
    let mut s = SignIn::new(policy(), now);
    first_sign_in(&mut s, now);
    assert_eq!(
        s.card_read(&card("079085009999"), true),
        [SignInEffect::SignedOut]
    );
    assert_eq!(s.state(), &SignInState::WaitingForCard);
    assert!(s.person().is_none());
    first_sign_in(&mut s, now);
    assert_eq!(s.card_removed(), [SignInEffect::SignedOut]);
    assert!(s.person().is_none());
}
