#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use jiff::Timestamp;
use xaso_training::{Library, QuestionKind};

use super::*;

fn library() -> Arc<Library> {
    Arc::new(Library::from_files(&xaso_training::bundled_files()).unwrap())
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_796_000_000 + s).unwrap()
}

fn identified() -> LessonJourney {
    let mut j = LessonJourney::new(library(), "kiosk-7");
    let effects = j
        .handle(
            LessonInput::Identify(LessonJourney::learner_for("038175004321", "Lê Thị Thu")),
            at(0),
        )
        .unwrap();
    assert!(
        matches!(&effects[..], [LessonEffect::LoadProgress(id)] if *id == learner_id("038175004321"))
    );
    j
}

/// Answers the question on screen right (or wrong), returning the effects.
fn answer(j: &mut LessonJourney, right: bool, s: i64) -> Vec<LessonEffect> {
    let LessonView::Quiz {
        module, question, ..
    } = j.view().clone()
    else {
        panic!("not on a question: {:?}", j.view());
    };
    let q = j.library().module(&module).unwrap().questions[question].clone();
    match q.kind {
        QuestionKind::Tap => {
            let [x, y, w, h] = q.region.unwrap().0;
            let (x, y) = if right {
                (x + w / 2.0, y + h / 2.0)
            } else {
                ((x + w + 0.001).min(1.0), (y + h + 0.001).min(1.0))
            };
            let (x, y) = if !right && q.region.unwrap().contains(x, y) {
                (0.0, 0.0)
            } else {
                (x, y)
            };
            j.handle(
                LessonInput::Tap {
                    x_permille: (x * 1000.0) as u32,
                    y_permille: (y * 1000.0) as u32,
                },
                at(s),
            )
            .unwrap()
        }
        _ => {
            for c in q
                .choices
                .iter()
                .filter(|c| c.correct == right)
                .take(if right { usize::MAX } else { 1 })
            {
                j.handle(LessonInput::Pick(c.id.clone()), at(s)).unwrap();
            }
            j.handle(LessonInput::Check, at(s)).unwrap()
        }
    }
}

#[test]
fn a_refused_input_changes_nothing() {
    let mut j = identified();
    let before = (j.view().clone(), j.progress().clone());
    for input in [
        LessonInput::NextPage,
        LessonInput::Pick("a".into()),
        LessonInput::Check,
        LessonInput::NextQuestion,
        LessonInput::StartQuiz,
        LessonInput::PracticeFinished,
        LessonInput::OpenModule("no-such-module".into()),
        LessonInput::RequestCertificate("everyday".into()),
    ] {
        assert!(j.handle(input.clone(), at(1)).is_err(), "{input:?}");
        assert_eq!(
            (j.view().clone(), j.progress().clone()),
            before,
            "{input:?}"
        );
    }
    // Without a card: lessons, but no certificate and nothing saved.
    let mut anonymous = LessonJourney::new(library(), "kiosk-7");
    assert_eq!(
        anonymous.handle(LessonInput::RequestCertificate("everyday".into()), at(1)),
        Err(LessonRefusal::Anonymous)
    );
    assert!(
        anonymous
            .handle(LessonInput::OpenModule("scams".into()), at(1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn every_answer_is_saved_as_it_is_given_and_the_rule_decides_the_pass() {
    let mut j = identified();
    j.handle(LessonInput::OpenModule("scams".into()), at(1))
        .unwrap();
    let pages = j.library().module("scams").unwrap().pages.len();
    for i in 1..pages {
        let e = j.handle(LessonInput::NextPage, at(1 + i as i64)).unwrap();
        assert!(matches!(&e[..], [LessonEffect::SaveProgress(_)]));
    }
    assert!(
        j.handle(LessonInput::NextPage, at(20)).is_err(),
        "no page after the last"
    );
    j.handle(LessonInput::StartQuiz, at(21)).unwrap();
    let e = answer(&mut j, false, 22);
    let [LessonEffect::SaveProgress(saved)] = &e[..] else {
        panic!("{e:?}")
    };
    assert_eq!(saved.answers.len(), 1, "the answer is in what is saved");
    assert!(matches!(
        j.view(),
        LessonView::Quiz {
            feedback: Some(Feedback { correct: false, .. }),
            ..
        }
    ));
    // An answered question takes no second answer.
    assert!(j.handle(LessonInput::Check, at(23)).is_err());
    let m = j.library().module("scams").unwrap().mastery;
    let mut s = 24;
    while !j.progress().is_mastered("scams") {
        j.handle(LessonInput::NextQuestion, at(s)).unwrap();
        answer(&mut j, true, s + 1);
        s += 2;
        assert!(s < 100);
    }
    let LessonView::Quiz {
        feedback: Some(f), ..
    } = j.view()
    else {
        panic!()
    };
    assert!(f.mastered_now && f.window.0 >= m.m);
    j.handle(LessonInput::NextQuestion, at(s)).unwrap();
    assert!(matches!(j.view(), LessonView::Done { .. }));
}

#[test]
fn a_learner_continues_where_they_stopped_with_progress_from_another_kiosk() {
    let mut a = identified();
    a.handle(LessonInput::OpenModule("scams".into()), at(1))
        .unwrap();
    a.handle(LessonInput::NextPage, at(2)).unwrap();
    a.handle(LessonInput::NextPage, at(3)).unwrap();
    let stored = a.progress().clone();
    let mut b = identified();
    b.handle(LessonInput::Loaded(stored), at(10)).unwrap();
    b.handle(LessonInput::OpenModule("scams".into()), at(11))
        .unwrap();
    assert_eq!(
        b.view(),
        &LessonView::Page {
            module: "scams".into(),
            index: 3
        },
        "the first page not read"
    );
    // Someone else's record is not taken.
    let mut other = Progress::new("someone-else");
    other.read_page("scams", "01", at(0));
    assert_eq!(
        b.handle(LessonInput::Loaded(other), at(12)),
        Err(LessonRefusal::NotHere)
    );
}

#[test]
fn a_practice_runs_outside_and_counts_when_finished() {
    let mut j = identified();
    j.handle(LessonInput::OpenModule("kiosk-dossier".into()), at(1))
        .unwrap();
    let e = j.handle(LessonInput::StartPractice, at(2)).unwrap();
    assert!(
        matches!(&e[..], [LessonEffect::StartPractice { module, .. }] if module == "kiosk-dossier")
    );
    assert!(
        j.handle(LessonInput::ToCatalog, at(3)).is_err(),
        "the practice is ended by the sandbox"
    );
    let e = j.handle(LessonInput::PracticeAbandoned, at(3)).unwrap();
    assert!(e.is_empty() && !j.progress().practices.contains_key("kiosk-dossier"));
    j.handle(LessonInput::StartPractice, at(4)).unwrap();
    let e = j.handle(LessonInput::PracticeFinished, at(5)).unwrap();
    assert!(
        matches!(&e[..], [LessonEffect::SaveProgress(p)] if p.practices.contains_key("kiosk-dossier"))
    );
    // A module without a practice refuses one.
    j.handle(LessonInput::ToCatalog, at(6)).unwrap();
    j.handle(LessonInput::OpenModule("scams".into()), at(7))
        .unwrap();
    assert_eq!(
        j.handle(LessonInput::StartPractice, at(8)),
        Err(LessonRefusal::NoPractice)
    );
}

#[test]
fn a_certificate_only_for_a_finished_track() {
    let mut j = identified();
    assert_eq!(
        j.handle(LessonInput::RequestCertificate("officer".into()), at(1)),
        Err(LessonRefusal::TrackNotFinished("officer".into()))
    );
    j.handle(LessonInput::OpenModule("officer-tablet".into()), at(2))
        .unwrap();
    let pages = j.library().module("officer-tablet").unwrap().pages.len();
    for i in 1..pages {
        j.handle(LessonInput::NextPage, at(2 + i as i64)).unwrap();
    }
    j.handle(LessonInput::StartQuiz, at(20)).unwrap();
    let mut s = 21;
    while !j.progress().is_mastered("officer-tablet") {
        answer(&mut j, true, s);
        j.handle(LessonInput::NextQuestion, at(s + 1)).unwrap();
        s += 2;
    }
    let e = j
        .handle(LessonInput::RequestCertificate("officer".into()), at(s))
        .unwrap();
    assert!(
        matches!(&e[..], [LessonEffect::IssueCertificate { track, name }] if track == "officer" && name == "Lê Thị Thu")
    );
    let e = j
        .handle(
            LessonInput::CertificateIssued {
                track: "officer".into(),
                id: "k7-1".into(),
                code: "XSC1:…".into(),
            },
            at(s + 1),
        )
        .unwrap();
    assert!(
        matches!(&e[..], [LessonEffect::SaveProgress(p)] if p.certificates.contains_key("officer"))
    );
    assert!(matches!(j.view(), LessonView::Certificate { .. }));
}
