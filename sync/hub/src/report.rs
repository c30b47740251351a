//! A commune's report from what the hub holds: its dossiers and ratings, in every partition
//! of the commune, turned into indicators, charts, the printable PDF and the anonymised open
//! data by `xaso-reports` and `xaso-documents` (`xaso-hub report`).

use std::path::Path;

use jiff::civil::Date;
use xaso_i18n::{Lang, Translations};
use xaso_reports::{Indicators, Labels, Period, TrainingFigures};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::tracking::CommuneCode;
use xaso_services::{Catalog, Dossier, Rating};

use xaso_sync_core::Partition;

use crate::{Hub, HubError};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportFailure {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("commune `{0}` is not a 5-digit commune code")]
    Commune(String),
    #[error(transparent)]
    Report(#[from] xaso_reports::ReportError),
    #[error(transparent)]
    Document(#[from] xaso_documents::DocumentError),
    #[error("texts: {0}")]
    Texts(#[from] xaso_i18n::TranslationError),
    #[error("catalog: {0}")]
    Catalog(#[from] xaso_services::CatalogError),
    #[error("write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Hub {
    /// Every dossier and rating the hub holds for `commune` (records `dossier-…` and
    /// `rating-…` of all its partitions). Records that do not read as such are skipped.
    pub fn commune_records(&self, commune: &str) -> Result<(Vec<Dossier>, Vec<Rating>), HubError> {
        self.with_store(|store| {
            let mut dossiers = Vec::new();
            let mut ratings = Vec::new();
            for partition in store.partitions_under(commune)? {
                for id in store.list(&partition)? {
                    if id.starts_with("dossier-") {
                        if let Ok(Some(d)) = store.get::<Dossier>(&partition, &id) {
                            dossiers.push(d);
                        }
                    } else if id.starts_with("rating-")
                        && let Ok(Some(r)) = store.get::<Rating>(&partition, &id)
                    {
                        ratings.push(r);
                    }
                }
            }
            Ok::<_, xaso_sync_store::Error>((dossiers, ratings))
        })?
        .map_err(HubError::from)
    }

    /// The commune's digital-skills training from its learning partition (progress records)
    /// and its roster: certificates issued in `period`, learners, learners who passed a
    /// module's quiz, and officials certified in the officials' track among the active
    /// officers on the roster.
    pub fn training_figures(
        &self,
        commune: &str,
        period: Period,
    ) -> Result<TrainingFigures, HubError> {
        use xaso_services::roster::{ROSTER_RECORD, Roster, StaffRole};
        use xaso_training::progress::Progress;
        self.with_store(|store| {
            let mut figures = TrainingFigures::default();
            let learning = Partition::learning(commune)?;
            for id in store.list(&learning)? {
                let Ok(Some(p)) = store.get::<Progress>(&learning, &id) else {
                    continue;
                };
                if !id.starts_with("learner-") {
                    continue;
                }
                figures.learners += 1;
                if !p.mastered.is_empty() {
                    figures.completed_a_module += 1;
                }
                figures.certificates += p
                    .certificates
                    .values()
                    .filter(|c| period.contains(vietnam_date(c.at)))
                    .count() as u64;
                if p.certificates.contains_key(OFFICIALS_TRACK) {
                    figures.officials_certified += 1;
                }
            }
            let roster = store
                .get::<Roster>(&Partition::public(commune)?, ROSTER_RECORD)?
                .unwrap_or_default();
            figures.officials = roster
                .people
                .values()
                .filter(|p| p.active && p.role == StaffRole::Officer)
                .count() as u64;
            Ok::<_, xaso_sync_store::Error>(figures)
        })?
        .map_err(HubError::from)
    }
}

/// The track whose certificate counts an official as trained.
pub const OFFICIALS_TRACK: &str = "officer";

/// Write `commune`'s report for `from..=to` in `lang` into `out` (created if missing):
/// indicators.json, procedures.csv, headline.csv, the charts (SVG and PNG), report.pdf,
/// open-data.csv and open-data.schema.json. Returns the file names written.
pub fn write_report(
    hub: &Hub,
    commune: &str,
    from: Date,
    to: Date,
    lang: Lang,
    out: &Path,
) -> Result<Vec<String>, ReportFailure> {
    let code = CommuneCode::new(commune).map_err(|_| ReportFailure::Commune(commune.into()))?;
    let period = Period::new(from, to)?;
    let (dossiers, ratings) = hub.commune_records(commune)?;
    let catalog = Catalog::bundled()?;
    let translations = Translations::bundled()?;
    let indicators = Indicators::compute(
        &code,
        period,
        &dossiers,
        &ratings,
        &catalog,
        Holidays::bundled(),
    )
    .with_training(hub.training_figures(commune, period)?);
    let labels = Labels::new(&translations, lang, commune, from, to);
    let open = xaso_reports::open_data::open_data(
        &code,
        period,
        &dossiers,
        &catalog,
        &translations,
        lang,
    )?;
    let files = xaso_documents::report::report_files(&indicators, &labels, &open)?;
    std::fs::create_dir_all(out).map_err(|source| ReportFailure::Write {
        path: out.display().to_string(),
        source,
    })?;
    let mut names = Vec::new();
    for (name, bytes) in files {
        let path = out.join(&name);
        std::fs::write(&path, bytes).map_err(|source| ReportFailure::Write {
            path: path.display().to_string(),
            source,
        })?;
        names.push(name);
    }
    tracing::info!(commune, files = names.len(), "report written");
    Ok(names)
}
