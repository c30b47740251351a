//! A helper's classroom on the helper tablet: the helper (signed in) opens a class, learners
//! enrol by tapping their own chip card, the table shows each learner's completion per
//! module from the commune's learning records (synced from every kiosk), and the report is
//! exported as CSV and PDF. The class is a record in the commune's learning partition, so
//! it syncs like progress; it holds the enrolled learners' names (for the helper's report),
//! never their ID numbers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use xaso_i18n::{Lang, Translations};
use xaso_kiosk_core::CardEvent;
use xaso_sync_store::Store;
use xaso_training::Library;
use xaso_training::class::{Class, ClassReport};
use xaso_training::progress::learner_id;

use super::records;

/// What the last card tap did (shown under the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Enrolled(String),
    AlreadyEnrolled(String),
    /// The card's data could not be verified: not enrolled.
    NotVerified,
    /// The report was written to these files.
    Exported {
        csv: PathBuf,
        pdf: PathBuf,
    },
    Failed,
}

pub struct Classroom {
    pub class: Class,
    pub notice: Option<Notice>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassroomError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("class report: {0}")]
    Csv(#[from] csv::Error),
    #[error("class report PDF: {0}")]
    Pdf(String),
    #[error("cannot write the class report in {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Classroom {
    /// A new class of `helper`, named after the day and its number that day.
    pub fn create(
        store: &mut Store,
        commune: &str,
        helper: &str,
        name: String,
        at: Timestamp,
    ) -> Result<Classroom, ClassroomError> {
        let class = Class::new(&uuid::Uuid::new_v4().to_string(), &name, helper, at);
        records::save_class(store, commune, &class)?;
        Ok(Classroom {
            class,
            notice: None,
        })
    }

    /// An existing class (as stored now: enrolments from other tablets included).
    pub fn open(
        store: &Store,
        commune: &str,
        id: &str,
    ) -> Result<Option<Classroom>, ClassroomError> {
        Ok(records::classes(store, commune)?
            .into_iter()
            .find(|c| c.id == id)
            .map(|class| Classroom {
                class,
                notice: None,
            }))
    }

    /// A card tapped while the class is open enrols its holder.
    pub fn card(&mut self, event: &CardEvent, store: &mut Store, commune: &str, at: Timestamp) {
        let CardEvent::Read { identity, verified } = event else {
            return;
        };
        let (Some(id), Some(name)) = (identity.id_number(), identity.full_name()) else {
            return;
        };
        if !verified {
            self.notice = Some(Notice::NotVerified);
            return;
        }
        // The stored class first (another tablet may have enrolled someone since).
        if let Ok(Some(stored)) = Classroom::open(store, commune, &self.class.id) {
            self.class = stored.class;
        }
        if self.class.enrol(&learner_id(id), name, at) {
            match records::save_class(store, commune, &self.class) {
                Ok(()) => {
                    tracing::info!("learner enrolled in a class");
                    self.notice = Some(Notice::Enrolled(name.to_owned()));
                }
                Err(e) => {
                    tracing::error!("class not saved: {e}");
                    self.class.learners.remove(&learner_id(id));
                    self.notice = Some(Notice::Failed);
                }
            }
        } else {
            self.notice = Some(Notice::AlreadyEnrolled(name.to_owned()));
        }
    }

    /// The report from the learners' progress records as stored now.
    pub fn report(
        &self,
        store: &Store,
        commune: &str,
        library: &Library,
        lang: Lang,
    ) -> Result<ClassReport, ClassroomError> {
        let progress: BTreeMap<_, _> = records::all_progress(store, commune)?
            .into_iter()
            .filter(|p| self.class.learners.contains_key(&p.learner))
            .map(|p| (p.learner.clone(), p))
            .collect();
        Ok(ClassReport::new(&self.class, library, &progress, lang))
    }

    /// Writes the report as CSV and PDF into `dir`.
    #[allow(clippy::too_many_arguments)]
    pub fn export(
        &mut self,
        store: &Store,
        commune: &str,
        commune_name: &str,
        library: &Library,
        t: &Translations,
        lang: Lang,
        dir: &Path,
        today: jiff::civil::Date,
    ) -> Result<(), ClassroomError> {
        let report = self.report(store, commune, library, lang)?;
        let csv = report.to_csv(|s| status_word(t, lang, s))?;
        let pdf = xaso_documents::training::class_report_pdf(&report, lang, commune_name, today, t)
            .map_err(|e| ClassroomError::Pdf(e.to_string()))?;
        let stem = format!(
            "class-{}-{today}",
            &self.class.id[..8.min(self.class.id.len())]
        );
        let (csv_path, pdf_path) = (
            dir.join(format!("{stem}.csv")),
            dir.join(format!("{stem}.pdf")),
        );
        for (path, bytes) in [(&csv_path, csv.as_bytes()), (&pdf_path, pdf.as_slice())] {
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(path, bytes))
                .map_err(|source| ClassroomError::Write {
                    path: path.clone(),
                    source,
                })?;
        }
        self.notice = Some(Notice::Exported {
            csv: csv_path,
            pdf: pdf_path,
        });
        Ok(())
    }
}

/// A module's status in words (the report's cells and the screen's).
pub fn status_word(t: &Translations, lang: Lang, s: xaso_training::ModuleStatus) -> String {
    use xaso_training::ModuleStatus as S;
    t.get(
        lang,
        match s {
            S::Completed => "kiosk.classroom.done",
            S::InProgress => "kiosk.classroom.started",
            S::NotStarted => "kiosk.classroom.not_started",
        },
        &[],
    )
}
