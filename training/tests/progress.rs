#![allow(clippy::unwrap_used)]
//! Progress: mastery, continuing, and merging two kiosks' copies without losing an answer.

mod common;

use std::collections::BTreeSet;

use jiff::Timestamp;
use proptest::prelude::*;
use xaso_training::progress::{AnswerRecord, ModuleStatus, Progress, learner_id};
use xaso_training::quiz::{self, Given};
use xaso_training::{Library, Module};

fn library() -> Library {
    Library::from_files(&common::files()).unwrap()
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_796_000_000 + s).unwrap()
}

fn answer(module: &Module, q: &str, correct: bool, s: i64, device: &str) -> AnswerRecord {
    AnswerRecord {
        module: module.id.clone(),
        question: q.into(),
        correct,
        given: String::new(),
        at: at(s),
        device: device.into(),
    }
}

#[test]
fn answers_are_checked_by_kind() {
    let lib = library();
    let m = lib.module("wifi").unwrap();
    let pick =
        |ids: &[&str]| Given::Choices(ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
    assert_eq!(
        quiz::check(m.question("q1").unwrap(), &pick(&["a"])),
        Ok(true)
    );
    assert_eq!(
        quiz::check(m.question("q1").unwrap(), &pick(&["b"])),
        Ok(false)
    );
    assert!(quiz::check(m.question("q1").unwrap(), &pick(&["a", "b"])).is_err());
    assert_eq!(
        quiz::check(m.question("q2").unwrap(), &pick(&["a", "c"])),
        Ok(true)
    );
    assert_eq!(
        quiz::check(m.question("q2").unwrap(), &pick(&["a"])),
        Ok(false)
    );
    assert!(quiz::check(m.question("q2").unwrap(), &pick(&["z"])).is_err());
    assert_eq!(
        quiz::check(m.question("q3").unwrap(), &Given::Tap { x: 0.2, y: 0.7 }),
        Ok(true)
    );
    assert_eq!(
        quiz::check(m.question("q3").unwrap(), &Given::Tap { x: 0.8, y: 0.2 }),
        Ok(false)
    );
    assert!(quiz::check(m.question("q3").unwrap(), &pick(&["a"])).is_err());
}

#[test]
fn mastery_is_m_of_the_last_n_and_is_kept() {
    let lib = library();
    let m = lib.module("wifi").unwrap();
    let mut p = Progress::new("l1");
    assert_eq!(p.status(m), ModuleStatus::NotStarted);
    p.read_page("wifi", "01", at(0));
    assert_eq!(p.status(m), ModuleStatus::InProgress);
    assert_eq!(p.next_page(m), Some(1));
    p.answer(m, "k1-1", answer(m, "q1", false, 1, "k1"));
    p.answer(m, "k1-2", answer(m, "q2", true, 2, "k1"));
    assert!(!p.is_mastered("wifi"));
    p.answer(m, "k1-3", answer(m, "q3", true, 3, "k1"));
    assert!(p.is_mastered("wifi"), "2 of the last 3");
    assert_eq!(p.status(m), ModuleStatus::Completed);
    // Wrong answers afterwards do not take mastery away.
    p.answer(m, "k1-4", answer(m, "q1", false, 4, "k1"));
    p.answer(m, "k1-5", answer(m, "q2", false, 5, "k1"));
    assert_eq!(p.window(m), (1, 3));
    assert!(p.is_mastered("wifi"));
    // A module with a practice is completed only once the practice is done too.
    let k = lib.module("kiosk").unwrap();
    p.answer(k, "k1-6", answer(k, "q1", true, 6, "k1"));
    p.answer(k, "k1-7", answer(k, "q2", true, 7, "k1"));
    assert_eq!(p.status(k), ModuleStatus::InProgress);
    assert!(!p.track_completed(&lib, "basics"));
    p.practised("kiosk", at(8));
    assert_eq!(p.status(k), ModuleStatus::Completed);
    assert!(p.track_completed(&lib, "basics"));
}

#[test]
fn learner_ids_are_stable_and_do_not_hold_the_number() {
    let a = learner_id("079190012345");
    assert_eq!(a, learner_id(" 079190012345 "));
    assert_ne!(a, learner_id("079190012346"));
    assert_eq!(a.len(), 32);
    assert!(!a.contains("079190012345"));
}

proptest! {
    /// Two kiosks answer independently, in any interleaving; merging in either order keeps
    /// every answer of both, and mastery reached on either side stays.
    #[test]
    fn merging_never_loses_an_answer(
        a in prop::collection::vec(any::<bool>(), 0..12),
        b in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        let lib = library();
        let m = lib.module("wifi").unwrap();
        let mut left = Progress::new("l1");
        let mut right = Progress::new("l1");
        for (i, c) in a.iter().enumerate() {
            left.answer(m, &format!("a-{i}"), answer(m, "q1", *c, 2 * i as i64, "a"));
        }
        for (i, c) in b.iter().enumerate() {
            right.answer(m, &format!("b-{i}"), answer(m, "q1", *c, 2 * i as i64 + 1, "b"));
        }
        let mut ab = left.clone();
        ab.merge(&right);
        let mut ba = right.clone();
        ba.merge(&left);
        prop_assert_eq!(&ab, &ba);
        prop_assert_eq!(ab.answers.len(), a.len() + b.len());
        prop_assert_eq!(ab.is_mastered("wifi"), left.is_mastered("wifi") || right.is_mastered("wifi"));
        // Merging again changes nothing.
        let mut again = ab.clone();
        again.merge(&right);
        prop_assert_eq!(again, ab);
    }
}
