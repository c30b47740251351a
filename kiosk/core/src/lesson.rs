//! The digital-skills lesson journey: choose a module, read its pages, practise the real
//! kiosk flow in a sandbox, answer its quiz until the pass rule is met, and, once a track is
//! finished, receive a certificate.
//!
//! Like the other journeys it is driven by the app: inputs in (with the time), effects out.
//! Progress is saved at every answer — [`LessonEffect::SaveProgress`] is returned by the
//! same call that records the answer, before its explanation is shown — so a power cut
//! loses at most the answer being given. A learner identified by a verified card keeps
//! their progress in the commune's learning records (any kiosk of the commune continues
//! it); without a card the lesson can be taken, but nothing is kept after the session and
//! no certificate is issued.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use xaso_training::content::{Practice, QuestionKind};
use xaso_training::progress::{AnswerRecord, Progress, learner_id};
use xaso_training::quiz::{self, AnswerError, Given};
use xaso_training::{Library, Module};

/// Who is learning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    /// Pseudonymous id ([`learner_id`]); `None` for an anonymous learner.
    pub id: Option<String>,
    /// Name as on the card (for the certificate); `None` when anonymous.
    pub name: Option<String>,
}

/// What the lesson part of the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum LessonView {
    /// Tracks and their modules, with the learner's status.
    Catalog,
    /// Page `index` of a module.
    Page { module: String, index: usize },
    /// The practice runs in the sandbox (the app shows the resident's screens).
    Practice { module: String },
    /// A question; `feedback` is set once it was answered (then "next").
    Quiz {
        module: String,
        question: usize,
        picked: BTreeSet<String>,
        feedback: Option<Feedback>,
    },
    /// The module's quiz was passed (or the learner stopped): what happened.
    Done { module: String },
    /// A certificate was issued for a track.
    Certificate {
        track: String,
        id: String,
        code: String,
    },
}

/// The answer's outcome, shown with the question's explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feedback {
    pub correct: bool,
    /// Correct answers among the last `n`, and `n` (the pass rule's window).
    pub window: (u32, u32),
    /// This answer met the pass rule for the first time.
    pub mastered_now: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LessonInput {
    /// Who is at the kiosk (from the session's verified card), or nobody known.
    Identify(Learner),
    /// The stored progress of the identified learner (answer to [`LessonEffect::LoadProgress`]).
    Loaded(Progress),
    OpenModule(String),
    NextPage,
    PreviousPage,
    StartPractice,
    /// The sandbox reached the practice's end.
    PracticeFinished,
    /// The learner left the practice before its end.
    PracticeAbandoned,
    StartQuiz,
    /// Picks (or, in a multiple-choice question, toggles) a choice.
    Pick(String),
    /// "Check" the picked choices.
    Check,
    /// A tap on a tap question's picture, as fractions of its size.
    Tap {
        x_permille: u32,
        y_permille: u32,
    },
    NextQuestion,
    /// "Get my certificate" for a finished track.
    RequestCertificate(String),
    /// The app signed the certificate (answer to [`LessonEffect::IssueCertificate`]).
    CertificateIssued {
        track: String,
        id: String,
        code: String,
    },
    /// Back to the list of modules.
    ToCatalog,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LessonEffect {
    /// Read the learner's stored progress and answer with [`LessonInput::Loaded`].
    LoadProgress(String),
    /// Write this progress durably (merged with what is stored) before anything else.
    SaveProgress(Progress),
    /// Run this module's practice in the sandbox; answer with `PracticeFinished` or
    /// `PracticeAbandoned`.
    StartPractice { module: String, practice: Practice },
    /// Sign a certificate for `track` for `name`; answer with `CertificateIssued`.
    IssueCertificate { track: String, name: String },
}

/// Why an input was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LessonRefusal {
    #[error("not possible on this screen")]
    NotHere,
    #[error("no module `{0}`")]
    UnknownModule(String),
    #[error("this module has no practice")]
    NoPractice,
    #[error("a certificate needs a learner identified by their chip card")]
    Anonymous,
    #[error("the track `{0}` is not finished")]
    TrackNotFinished(String),
    #[error(transparent)]
    Answer(#[from] AnswerError),
}

pub struct LessonJourney {
    library: Arc<Library>,
    device: String,
    learner: Learner,
    progress: Progress,
    view: LessonView,
    /// Answers given on this device in this journey (part of each answer's id).
    given: u64,
}

impl LessonJourney {
    pub fn new(library: Arc<Library>, device: &str) -> LessonJourney {
        LessonJourney {
            library,
            device: device.to_owned(),
            learner: Learner {
                id: None,
                name: None,
            },
            progress: Progress::new("anonymous"),
            view: LessonView::Catalog,
            given: 0,
        }
    }

    pub fn library(&self) -> &Library {
        &self.library
    }
    pub fn view(&self) -> &LessonView {
        &self.view
    }
    pub fn progress(&self) -> &Progress {
        &self.progress
    }
    pub fn learner(&self) -> &Learner {
        &self.learner
    }

    /// Replaces the library (a newer pack was installed); the view returns to the list.
    pub fn set_library(&mut self, library: Arc<Library>) {
        self.library = library;
        self.view = LessonView::Catalog;
    }

    /// Forgets the learner (the session ended).
    pub fn reset(&mut self) {
        self.learner = Learner {
            id: None,
            name: None,
        };
        self.progress = Progress::new("anonymous");
        self.view = LessonView::Catalog;
    }

    fn module(&self, id: &str) -> Result<&Module, LessonRefusal> {
        self.library
            .module(id)
            .ok_or_else(|| LessonRefusal::UnknownModule(id.to_owned()))
    }

    fn save(&self) -> Vec<LessonEffect> {
        if self.learner.id.is_some() {
            vec![LessonEffect::SaveProgress(self.progress.clone())]
        } else {
            Vec::new()
        }
    }

    /// The next question to ask in a module: the one after the last answered (in the quiz's
    /// order), so a learner continuing on another kiosk does not start over.
    fn next_question(&self, module: &Module) -> usize {
        let last = self
            .progress
            .answers_of(&module.id)
            .last()
            .map(|a| a.question.clone());
        last.and_then(|q| module.questions.iter().position(|x| x.id == q))
            .map_or(0, |i| (i + 1) % module.questions.len().max(1))
    }

    pub fn handle(
        &mut self,
        input: LessonInput,
        now: Timestamp,
    ) -> Result<Vec<LessonEffect>, LessonRefusal> {
        match input {
            LessonInput::Identify(learner) => {
                if learner == self.learner {
                    return Ok(Vec::new());
                }
                self.progress = Progress::new(learner.id.as_deref().unwrap_or("anonymous"));
                self.view = LessonView::Catalog;
                let effects = learner
                    .id
                    .clone()
                    .map(LessonEffect::LoadProgress)
                    .into_iter()
                    .collect();
                self.learner = learner;
                Ok(effects)
            }
            LessonInput::Loaded(stored) => {
                if Some(&stored.learner) != self.learner.id.as_ref() {
                    return Err(LessonRefusal::NotHere);
                }
                self.progress.merge(&stored);
                Ok(Vec::new())
            }
            LessonInput::OpenModule(id) => {
                let module = self.module(&id)?;
                let index = self.progress.next_page(module).unwrap_or(0);
                let page = module.pages[index].name.clone();
                self.progress.read_page(&id, &page, now);
                self.view = LessonView::Page { module: id, index };
                Ok(self.save())
            }
            LessonInput::NextPage | LessonInput::PreviousPage => {
                let LessonView::Page { module, index } = &self.view else {
                    return Err(LessonRefusal::NotHere);
                };
                let m = self.module(module)?;
                let next = if input == LessonInput::NextPage {
                    index + 1
                } else {
                    index.checked_sub(1).ok_or(LessonRefusal::NotHere)?
                };
                if next >= m.pages.len() {
                    return Err(LessonRefusal::NotHere);
                }
                let (id, page) = (m.id.clone(), m.pages[next].name.clone());
                self.progress.read_page(&id, &page, now);
                self.view = LessonView::Page {
                    module: id,
                    index: next,
                };
                Ok(self.save())
            }
            LessonInput::StartPractice => {
                let module_id = self.current_module().ok_or(LessonRefusal::NotHere)?;
                let m = self.module(&module_id)?;
                let practice = m.practice.clone().ok_or(LessonRefusal::NoPractice)?;
                self.view = LessonView::Practice {
                    module: module_id.clone(),
                };
                Ok(vec![LessonEffect::StartPractice {
                    module: module_id,
                    practice,
                }])
            }
            LessonInput::PracticeFinished | LessonInput::PracticeAbandoned => {
                let LessonView::Practice { module } = &self.view else {
                    return Err(LessonRefusal::NotHere);
                };
                let module = module.clone();
                let last = self.module(&module)?.pages.len() - 1;
                if input == LessonInput::PracticeFinished {
                    self.progress.practised(&module, now);
                }
                self.view = LessonView::Page {
                    module,
                    index: last,
                };
                Ok(if input == LessonInput::PracticeFinished {
                    self.save()
                } else {
                    Vec::new()
                })
            }
            LessonInput::StartQuiz => {
                let module_id = self.current_module().ok_or(LessonRefusal::NotHere)?;
                let m = self.module(&module_id)?;
                let question = self.next_question(m);
                self.view = LessonView::Quiz {
                    module: module_id,
                    question,
                    picked: BTreeSet::new(),
                    feedback: None,
                };
                Ok(Vec::new())
            }
            LessonInput::Pick(choice) => {
                let library = self.library.clone();
                let LessonView::Quiz {
                    module,
                    question,
                    picked,
                    feedback: None,
                } = &mut self.view
                else {
                    return Err(LessonRefusal::NotHere);
                };
                let q = library
                    .module(module)
                    .and_then(|m| m.questions.get(*question))
                    .ok_or(LessonRefusal::NotHere)?;
                if !q.choices.iter().any(|c| c.id == choice) {
                    return Err(AnswerError::UnknownChoice(choice).into());
                }
                match q.kind {
                    QuestionKind::Single => {
                        picked.clear();
                        picked.insert(choice);
                    }
                    QuestionKind::Multiple => {
                        if !picked.remove(&choice) {
                            picked.insert(choice);
                        }
                    }
                    QuestionKind::Tap => return Err(LessonRefusal::NotHere),
                }
                Ok(Vec::new())
            }
            LessonInput::Check => {
                let LessonView::Quiz {
                    picked,
                    feedback: None,
                    ..
                } = &self.view
                else {
                    return Err(LessonRefusal::NotHere);
                };
                let given = Given::Choices(picked.clone());
                self.answer(given, now)
            }
            LessonInput::Tap {
                x_permille,
                y_permille,
            } => {
                let given = Given::Tap {
                    x: f64::from(x_permille) / 1000.0,
                    y: f64::from(y_permille) / 1000.0,
                };
                self.answer(given, now)
            }
            LessonInput::NextQuestion => {
                let LessonView::Quiz {
                    module,
                    question,
                    feedback: Some(_),
                    ..
                } = &self.view
                else {
                    return Err(LessonRefusal::NotHere);
                };
                let module = module.clone();
                let m = self.module(&module)?;
                if self.progress.is_mastered(&module) {
                    self.view = LessonView::Done { module };
                } else {
                    let next = (question + 1) % m.questions.len().max(1);
                    self.view = LessonView::Quiz {
                        module,
                        question: next,
                        picked: BTreeSet::new(),
                        feedback: None,
                    };
                }
                Ok(Vec::new())
            }
            LessonInput::RequestCertificate(track) => {
                let name = self.learner.name.clone().ok_or(LessonRefusal::Anonymous)?;
                if self.learner.id.is_none() {
                    return Err(LessonRefusal::Anonymous);
                }
                if !self.progress.track_completed(&self.library, &track) {
                    return Err(LessonRefusal::TrackNotFinished(track));
                }
                Ok(vec![LessonEffect::IssueCertificate { track, name }])
            }
            LessonInput::CertificateIssued { track, id, code } => {
                self.progress.certificates.entry(track.clone()).or_insert(
                    xaso_training::progress::IssuedCertificate {
                        id: id.clone(),
                        at: now,
                    },
                );
                self.view = LessonView::Certificate { track, id, code };
                Ok(self.save())
            }
            LessonInput::ToCatalog => {
                if matches!(self.view, LessonView::Practice { .. }) {
                    return Err(LessonRefusal::NotHere);
                }
                self.view = LessonView::Catalog;
                Ok(Vec::new())
            }
        }
    }

    /// The module shown, on a page or its result.
    fn current_module(&self) -> Option<String> {
        match &self.view {
            LessonView::Page { module, .. } | LessonView::Done { module } => Some(module.clone()),
            _ => None,
        }
    }

    fn answer(&mut self, given: Given, now: Timestamp) -> Result<Vec<LessonEffect>, LessonRefusal> {
        let LessonView::Quiz {
            module,
            question,
            feedback: None,
            ..
        } = &self.view
        else {
            return Err(LessonRefusal::NotHere);
        };
        let (module_id, index) = (module.clone(), *question);
        let library = self.library.clone();
        let m = library
            .module(&module_id)
            .ok_or_else(|| LessonRefusal::UnknownModule(module_id.clone()))?;
        let q = m.questions.get(index).ok_or(LessonRefusal::NotHere)?;
        let correct = quiz::check(q, &given)?;
        let was_mastered = self.progress.is_mastered(&module_id);
        self.given += 1;
        let answer_id = format!("{}-{}-{}", self.device, now.as_nanosecond(), self.given);
        self.progress.answer(
            m,
            &answer_id,
            AnswerRecord {
                module: module_id.clone(),
                question: q.id.clone(),
                correct,
                given: given.to_record(),
                at: now,
                device: self.device.clone(),
            },
        );
        let feedback = Feedback {
            correct,
            window: self.progress.window(m),
            mastered_now: !was_mastered && self.progress.is_mastered(&module_id),
        };
        if let LessonView::Quiz {
            feedback: slot,
            picked,
            ..
        } = &mut self.view
        {
            *slot = Some(feedback);
            if let Given::Choices(ids) = given {
                *picked = ids;
            }
        }
        Ok(self.save())
    }

    /// The learner id for a card's ID number.
    pub fn learner_for(id_number: &str, name: &str) -> Learner {
        Learner {
            id: Some(learner_id(id_number)),
            name: Some(name.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests;
