//! A learner's progress: a record that merges across kiosks without losing an answer.
//!
//! One record per learner in the commune's learning partition. Everything in it is a map
//! keyed by something unique (an answer's id made by the device that took it, a module, a
//! page), so the sync layer's merge of two kiosks' copies is the union of both: an answer
//! given on kiosk A and another given on kiosk B before they synced are both kept. The
//! facts that must never go back — a module mastered, a practice finished, a certificate
//! issued — are written as entries of their own when they happen, so a merge that brings
//! older answers cannot undo them.
//!
//! Each answer is saved as it is given ([`Progress::answer`] returns the updated record for
//! the caller to write before showing the explanation), which is what H5P's users lacked.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::content::{Library, Module};

/// A learner's pseudonymous id: derived from the chip card's ID number so a learner is the
/// same on every kiosk, without the number itself being stored.
pub fn learner_id(id_number: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"xaso-training learner v1\0");
    h.update(id_number.trim().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The record id of a learner's progress.
pub fn record_id(learner: &str) -> String {
    format!("learner-{learner}")
}

/// One answer, as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub module: String,
    pub question: String,
    pub correct: bool,
    /// What was given: choice ids joined by `,`, or `x,y` of a tap (fractions).
    pub given: String,
    pub at: Timestamp,
    pub device: String,
}

/// A progress record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Progress {
    pub learner: String,
    /// Answers by a unique id made by the device that took them.
    #[serde(default)]
    pub answers: BTreeMap<String, AnswerRecord>,
    /// Pages read: `<module>/<page>` → when first read.
    #[serde(default)]
    pub pages: BTreeMap<String, Timestamp>,
    /// Practices finished: module → when.
    #[serde(default)]
    pub practices: BTreeMap<String, Timestamp>,
    /// Modules mastered: module → when the pass rule was first met.
    #[serde(default)]
    pub mastered: BTreeMap<String, Timestamp>,
    /// Certificates issued: track → (certificate id, when).
    #[serde(default)]
    pub certificates: BTreeMap<String, IssuedCertificate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    pub id: String,
    pub at: Timestamp,
}

/// Where a learner stands in a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModuleStatus {
    NotStarted,
    InProgress,
    /// Quiz mastered and practice (if any) finished.
    Completed,
}

impl Progress {
    pub fn new(learner: &str) -> Progress {
        Progress {
            learner: learner.to_owned(),
            ..Progress::default()
        }
    }

    /// Marks a page read (the first time counts).
    pub fn read_page(&mut self, module: &str, page: &str, at: Timestamp) {
        self.pages.entry(format!("{module}/{page}")).or_insert(at);
    }

    /// Records an answer under `answer_id` (unique: the device's id and a fresh number) and,
    /// when the module's pass rule is met for the first time, that it is mastered.
    pub fn answer(&mut self, module: &Module, answer_id: &str, record: AnswerRecord) {
        let at = record.at;
        self.answers.entry(answer_id.to_owned()).or_insert(record);
        if !self.mastered.contains_key(&module.id) && self.meets_rule(module) {
            self.mastered.insert(module.id.clone(), at);
        }
    }

    /// Records a finished practice.
    pub fn practised(&mut self, module: &str, at: Timestamp) {
        self.practices.entry(module.to_owned()).or_insert(at);
    }

    /// The module's answers in the order they were given (time, then id).
    pub fn answers_of<'a>(&'a self, module: &'a str) -> Vec<&'a AnswerRecord> {
        let mut answers: Vec<(&String, &AnswerRecord)> = self
            .answers
            .iter()
            .filter(|(_, a)| a.module == module)
            .collect();
        answers.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
        answers.into_iter().map(|(_, a)| a).collect()
    }

    /// Correct answers among the last `n` (the pass rule's window) and how many there are.
    pub fn window(&self, module: &Module) -> (u32, u32) {
        let answers = self.answers_of(&module.id);
        let n = module.mastery.n as usize;
        let last = &answers[answers.len().saturating_sub(n)..];
        let correct = last.iter().filter(|a| a.correct).count();
        (correct as u32, last.len() as u32)
    }

    fn meets_rule(&self, module: &Module) -> bool {
        self.window(module).0 >= module.mastery.m
    }

    pub fn is_mastered(&self, module: &str) -> bool {
        self.mastered.contains_key(module)
    }

    pub fn status(&self, module: &Module) -> ModuleStatus {
        let practice_done = module.practice.is_none() || self.practices.contains_key(&module.id);
        if self.is_mastered(&module.id) && practice_done {
            return ModuleStatus::Completed;
        }
        let prefix = format!("{}/", module.id);
        let started = self.pages.keys().any(|k| k.starts_with(&prefix))
            || self.answers.values().any(|a| a.module == module.id)
            || self.practices.contains_key(&module.id);
        if started {
            ModuleStatus::InProgress
        } else {
            ModuleStatus::NotStarted
        }
    }

    /// The first page of the module not yet read (where to continue), or `None` when all
    /// were read.
    pub fn next_page(&self, module: &Module) -> Option<usize> {
        module.pages.iter().position(|p| {
            !self
                .pages
                .contains_key(&format!("{}/{}", module.id, p.name))
        })
    }

    /// Are all the track's modules completed?
    pub fn track_completed(&self, library: &Library, track: &str) -> bool {
        library.track(track).is_some_and(|t| {
            t.modules.iter().all(|id| {
                library
                    .module(id)
                    .is_some_and(|m| self.status(m) == ModuleStatus::Completed)
            })
        })
    }

    /// Merges another copy of the same learner's record (what the sync layer's CRDT merge
    /// does to the stored document; used where two copies meet in memory).
    pub fn merge(&mut self, other: &Progress) {
        for (k, v) in &other.answers {
            self.answers.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &other.pages {
            let e = self.pages.entry(k.clone()).or_insert(*v);
            *e = (*e).min(*v);
        }
        for (k, v) in &other.practices {
            let e = self.practices.entry(k.clone()).or_insert(*v);
            *e = (*e).min(*v);
        }
        for (k, v) in &other.mastered {
            let e = self.mastered.entry(k.clone()).or_insert(*v);
            *e = (*e).min(*v);
        }
        for (k, v) in &other.certificates {
            self.certificates
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
    }
}
