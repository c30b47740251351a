//! A helper's class: learners enrolled by card tap, their completion per module, the class
//! report (CSV here; the PDF is `xaso-documents`'), and the commune's totals for the
//! indicators.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use xaso_i18n::Lang;

use crate::content::Library;
use crate::progress::{ModuleStatus, Progress};

/// The record id of a class.
pub fn record_id(class: &str) -> String {
    format!("class-{class}")
}

/// A class record (in the commune's learning partition). Learners are keyed by their
/// pseudonymous id; the name is kept so the helper's report can say who.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    pub id: String,
    pub name: String,
    /// The helper who created it (name as on the roster).
    pub helper: String,
    pub created: Timestamp,
    #[serde(default)]
    pub learners: BTreeMap<String, Enrolment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub name: String,
    pub at: Timestamp,
}

impl Class {
    pub fn new(id: &str, name: &str, helper: &str, created: Timestamp) -> Class {
        Class {
            id: id.to_owned(),
            name: name.to_owned(),
            helper: helper.to_owned(),
            created,
            learners: BTreeMap::new(),
        }
    }

    /// Enrols a learner; enrolling again changes nothing. Returns whether they are new.
    pub fn enrol(&mut self, learner: &str, name: &str, at: Timestamp) -> bool {
        if self.learners.contains_key(learner) {
            return false;
        }
        self.learners.insert(
            learner.to_owned(),
            Enrolment {
                name: name.to_owned(),
                at,
            },
        );
        true
    }
}

/// One learner's line of a class report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub name: String,
    /// Status per module, in track order.
    pub modules: Vec<ModuleStatus>,
    /// Tracks certified.
    pub certificates: Vec<String>,
}

/// Completion of a class, learner by learner and module by module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassReport {
    pub class: String,
    pub helper: String,
    /// Module ids and titles, in track order.
    pub modules: Vec<(String, String)>,
    pub rows: Vec<ReportRow>,
}

impl ClassReport {
    /// Builds the report of `class` from the learners' progress records (a learner without a
    /// record has not started).
    pub fn new(
        class: &Class,
        library: &Library,
        progress: &BTreeMap<String, Progress>,
        lang: Lang,
    ) -> ClassReport {
        let modules: Vec<_> = library.modules().collect();
        let mut rows: Vec<ReportRow> = class
            .learners
            .iter()
            .map(|(learner, enrolment)| {
                let empty = Progress::new(learner);
                let p = progress.get(learner).unwrap_or(&empty);
                ReportRow {
                    name: enrolment.name.clone(),
                    modules: modules.iter().map(|m| p.status(m)).collect(),
                    certificates: p.certificates.keys().cloned().collect(),
                }
            })
            .collect();
        rows.sort_by_key(|r| xaso_i18n::fold(&r.name));
        ClassReport {
            class: class.name.clone(),
            helper: class.helper.clone(),
            modules: modules
                .iter()
                .map(|m| (m.id.clone(), m.title.get(lang).to_owned()))
                .collect(),
            rows,
        }
    }

    /// Learners who completed each module, in module order.
    pub fn completed_per_module(&self) -> Vec<usize> {
        (0..self.modules.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter(|r| r.modules.get(i) == Some(&ModuleStatus::Completed))
                    .count()
            })
            .collect()
    }

    /// The report as CSV: one row per learner, one column per module (`done`, `started`,
    /// empty), then the certified tracks.
    pub fn to_csv(
        &self,
        status_text: impl Fn(ModuleStatus) -> String,
    ) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["name".to_owned()];
        header.extend(self.modules.iter().map(|(id, _)| id.clone()));
        header.push("certificates".into());
        w.write_record(&header)?;
        for row in &self.rows {
            let mut record = vec![row.name.clone()];
            record.extend(row.modules.iter().map(|s| status_text(*s)));
            record.push(row.certificates.join(" "));
            w.write_record(&record)?;
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// A commune's training totals, for the indicators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Learners identified by card who started anything.
    pub learners: usize,
    /// Learners who completed at least one module.
    pub completed_a_module: usize,
    /// Learners certified per track.
    pub certified: BTreeMap<String, usize>,
}

impl Totals {
    pub fn from_progress<'a>(
        library: &Library,
        records: impl IntoIterator<Item = &'a Progress>,
    ) -> Totals {
        let mut totals = Totals::default();
        for p in records {
            let statuses: Vec<_> = library.modules().map(|m| p.status(m)).collect();
            if statuses.iter().all(|s| *s == ModuleStatus::NotStarted) && p.certificates.is_empty()
            {
                continue;
            }
            totals.learners += 1;
            if statuses.contains(&ModuleStatus::Completed) {
                totals.completed_a_module += 1;
            }
            for track in p.certificates.keys() {
                *totals.certified.entry(track.clone()).or_default() += 1;
            }
        }
        totals
    }
}
