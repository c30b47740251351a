//! Checking an answer against its question.

use std::collections::BTreeSet;

use crate::content::{Question, QuestionKind};

/// What the learner gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// The choices picked (one for a single-choice question).
    Choices(BTreeSet<String>),
    /// Where the picture was tapped, as fractions of its width and height.
    Tap { x: f64, y: f64 },
}

impl Given {
    /// As stored in the progress record.
    pub fn to_record(&self) -> String {
        match self {
            Given::Choices(ids) => ids.iter().cloned().collect::<Vec<_>>().join(","),
            Given::Tap { x, y } => format!("{x:.3},{y:.3}"),
        }
    }
}

/// An answer that cannot be checked (the screen offers nothing else, so these are
/// programming errors of the caller, refused without recording anything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("this question is answered by {expected}")]
    WrongKind { expected: &'static str },
    #[error("pick a choice first")]
    NothingPicked,
    #[error("a single-choice question takes one choice")]
    MoreThanOne,
    #[error("no choice `{0}` in this question")]
    UnknownChoice(String),
    #[error("the tap is outside the picture")]
    OutsidePicture,
}

/// Is `given` the right answer to `question`?
pub fn check(question: &Question, given: &Given) -> Result<bool, AnswerError> {
    match (question.kind, given) {
        (QuestionKind::Single | QuestionKind::Multiple, Given::Choices(ids)) => {
            if ids.is_empty() {
                return Err(AnswerError::NothingPicked);
            }
            if question.kind == QuestionKind::Single && ids.len() > 1 {
                return Err(AnswerError::MoreThanOne);
            }
            if let Some(unknown) = ids
                .iter()
                .find(|id| !question.choices.iter().any(|c| &c.id == *id))
            {
                return Err(AnswerError::UnknownChoice(unknown.clone()));
            }
            let right: BTreeSet<&str> = question
                .choices
                .iter()
                .filter(|c| c.correct)
                .map(|c| c.id.as_str())
                .collect();
            Ok(ids.iter().map(String::as_str).collect::<BTreeSet<_>>() == right)
        }
        (QuestionKind::Tap, Given::Tap { x, y }) => {
            if !(0.0..=1.0).contains(x) || !(0.0..=1.0).contains(y) {
                return Err(AnswerError::OutsidePicture);
            }
            Ok(question.region.is_some_and(|r| r.contains(*x, *y)))
        }
        (QuestionKind::Tap, _) => Err(AnswerError::WrongKind {
            expected: "a tap on the picture",
        }),
        _ => Err(AnswerError::WrongKind {
            expected: "choices",
        }),
    }
}
