//! The figures of one commune over one period.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::catalog::Catalog;
use xaso_services::dossier::{Action, AuditEntry, Channel, Dossier, DossierState};
use xaso_services::rating::{Rating, Satisfaction, satisfaction_rate};
use xaso_services::tracking::CommuneCode;

use crate::ReportError;

/// The programme's first satisfaction target, in percent.
pub const TARGET_LOW: f64 = 95.0;
/// The programme's second satisfaction target, in percent.
pub const TARGET_HIGH: f64 = 99.0;

/// A range of dates in Viet Nam, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The days `from..=to`; refused when `to` is before `from`.
    pub fn new(from: Date, to: Date) -> Result<Period, ReportError> {
        if to < from {
            return Err(ReportError::EmptyPeriod { from, to });
        }
        Ok(Period { from, to })
    }

    /// Whether `date` is inside the period.
    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Dossiers counted by the channel they came in through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCounts {
    pub kiosk: u64,
    pub helper: u64,
    pub officer: u64,
    pub online: u64,
    pub total: u64,
}

impl ChannelCounts {
    fn add(&mut self, channel: Channel) {
        *self.slot(channel) += 1;
        self.total += 1;
    }

    fn slot(&mut self, channel: Channel) -> &mut u64 {
        match channel {
            Channel::Kiosk => &mut self.kiosk,
            Channel::Helper => &mut self.helper,
            Channel::Officer => &mut self.officer,
            Channel::Online => &mut self.online,
        }
    }

    /// The count of one channel.
    pub fn get(&self, channel: Channel) -> u64 {
        match channel {
            Channel::Kiosk => self.kiosk,
            Channel::Helper => self.helper,
            Channel::Officer => self.officer,
            Channel::Online => self.online,
        }
    }
}

/// One procedure's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureRow {
    /// The procedure code (`birth-registration`).
    pub code: String,
    /// Its name in Vietnamese from the catalog (the code when the catalog does not know it).
    pub name: String,
    /// The catalog's processing time in working days (`None`: unknown procedure).
    pub processing_days: Option<u32>,
    /// Dossiers submitted in the period, by channel.
    pub submitted: ChannelCounts,
    /// Dossiers decided in the period (see [`OnTime`]).
    pub finished: u64,
    pub on_time: u64,
    pub late: u64,
    /// Open at the end of the period and past their due date.
    pub overdue_open: u64,
}

/// The share of dossiers received fully online (channel `online`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnlineShare {
    pub online: u64,
    pub total: u64,
    /// `online / total` in percent; `None` without dossiers.
    pub rate_percent: Option<f64>,
}

/// Processing on time against the catalog's processing time.
///
/// A dossier is *finished* by its first audit entry that reaches `approved`, `rejected`,
/// `result_ready` or `returned` ([`finishing_entry`]: in practice the officer's decision).
/// It counts in the period when that entry's date in Viet Nam is in the period, and is *on
/// time* when that date is on or before its due date: the processing start
/// ([`processing_start`]: received, else submitted) plus the procedure's processing days in
/// working days, weekends and public holidays skipped
/// ([`Holidays::due_date`](xaso_services::calendar::Holidays::due_date)), the rule the
/// officer's queue uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnTime {
    pub finished: u64,
    pub on_time: u64,
    pub late: u64,
    /// Finished dossiers of procedures the catalog does not know (no due date): in
    /// `finished`, in neither `on_time` nor `late`.
    pub without_due_date: u64,
    /// `on_time / (on_time + late)` in percent; `None` when nothing was finished.
    pub rate_percent: Option<f64>,
    /// Dossiers submitted by the last day of the period, neither finished nor withdrawn by
    /// then, whose due date is before that day (the queue's "overdue" on that day).
    pub overdue_open: u64,
}

/// Satisfaction ratings given in the period (4 levels) against the 95 % and 99 % targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionFigures {
    pub very_satisfied: u64,
    pub satisfied: u64,
    pub acceptable: u64,
    pub not_satisfied: u64,
    pub total: u64,
    /// Very satisfied and satisfied, in percent of all ratings; `None` without ratings.
    pub rate_percent: Option<f64>,
    /// The rate is at least [`TARGET_LOW`] (95 %); `false` without ratings.
    pub meets_95: bool,
    /// The rate is at least [`TARGET_HIGH`] (99 %); `false` without ratings.
    pub meets_99: bool,
}

impl SatisfactionFigures {
    /// The count of one level.
    pub fn get(&self, level: Satisfaction) -> u64 {
        match level {
            Satisfaction::VerySatisfied => self.very_satisfied,
            Satisfaction::Satisfied => self.satisfied,
            Satisfaction::Acceptable => self.acceptable,
            Satisfaction::NotSatisfied => self.not_satisfied,
        }
    }
}

/// The indicators of one commune over one period. Serialised to JSON with these field
/// names (stable: other tools read them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicators {
    /// The commune code (`79001`).
    pub commune: String,
    pub period: Period,
    /// Dossiers submitted in the period (date of the `submit` audit entry in Viet Nam), by
    /// channel.
    pub submitted: ChannelCounts,
    pub fully_online: OnlineShare,
    pub on_time: OnTime,
    pub satisfaction: SatisfactionFigures,
    /// Completions of the digital-skills training: certificates issued in the period
    /// (`None` when the caller has no learning records to count).
    pub training_completions: Option<u64>,
    /// The commune's digital-skills training in more detail ([`Indicators::with_training`]).
    #[serde(default)]
    pub training: Option<TrainingFigures>,
    /// One row per procedure with a dossier submitted, finished or overdue in the period,
    /// by procedure code.
    pub procedures: Vec<ProcedureRow>,
}

/// The date the processing clock starts ([`Dossier::processing_start`]).
pub fn processing_start(dossier: &Dossier) -> Date {
    dossier.processing_start()
}

/// The audit entry that finished the dossier: the first one reaching `approved`,
/// `rejected`, `result_ready` or `returned`.
pub fn finishing_entry(dossier: &Dossier) -> Option<&AuditEntry> {
    dossier.audit().iter().find(|e| {
        matches!(
            e.to,
            DossierState::Approved
                | DossierState::Rejected
                | DossierState::ResultReady
                | DossierState::Returned
        )
    })
}

/// The date of the `submit` audit entry in Viet Nam (`None` for a draft).
pub(crate) fn submitted_on(dossier: &Dossier) -> Option<Date> {
    dossier
        .audit()
        .iter()
        .find(|e| e.action == Action::Submit)
        .map(|e| vietnam_date(e.at))
}

/// Whether the dossier belongs to `commune` (its tracking code names the commune; a dossier
/// that came in online says where it was sent).
pub(crate) fn of_commune(dossier: &Dossier, commune: &CommuneCode) -> bool {
    dossier.commune() == Some(commune)
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

impl Indicators {
    /// The indicators of `commune` over `period`. Dossiers of other communes (by their
    /// tracking code) and ratings of other communes are left out, so the caller may pass
    /// everything it holds.
    pub fn compute(
        commune: &CommuneCode,
        period: Period,
        dossiers: &[Dossier],
        ratings: &[Rating],
        catalog: &Catalog,
        holidays: &Holidays,
    ) -> Indicators {
        let mut rows: BTreeMap<&str, ProcedureRow> = BTreeMap::new();
        let mut submitted = ChannelCounts::default();
        let mut on_time = OnTime {
            finished: 0,
            on_time: 0,
            late: 0,
            without_due_date: 0,
            rate_percent: None,
            overdue_open: 0,
        };
        for dossier in dossiers.iter().filter(|d| of_commune(d, commune)) {
            let Some(submitted_on) = submitted_on(dossier) else {
                continue;
            };
            let code = dossier.procedure.as_str();
            let procedure = catalog.procedure(code);
            let due =
                procedure.map(|p| holidays.due_date(processing_start(dossier), p.processing_days));
            let row = || ProcedureRow {
                code: code.to_owned(),
                name: procedure.map_or_else(
                    || code.to_owned(),
                    |p| p.name.get(xaso_i18n::Lang::Vi).to_owned(),
                ),
                processing_days: procedure.map(|p| p.processing_days),
                submitted: ChannelCounts::default(),
                finished: 0,
                on_time: 0,
                late: 0,
                overdue_open: 0,
            };
            if period.contains(submitted_on) {
                submitted.add(dossier.channel);
                rows.entry(code)
                    .or_insert_with(row)
                    .submitted
                    .add(dossier.channel);
            }
            let finished_on = finishing_entry(dossier).map(|e| vietnam_date(e.at));
            if let Some(finished_on) = finished_on.filter(|d| period.contains(*d)) {
                on_time.finished += 1;
                let r = rows.entry(code).or_insert_with(row);
                r.finished += 1;
                match due {
                    Some(due) if finished_on <= due => {
                        on_time.on_time += 1;
                        r.on_time += 1;
                    }
                    Some(_) => {
                        on_time.late += 1;
                        r.late += 1;
                    }
                    None => on_time.without_due_date += 1,
                }
            }
            let withdrawn_by_end = dossier
                .audit()
                .iter()
                .any(|e| e.to == DossierState::Withdrawn && vietnam_date(e.at) <= period.to);
            let open_at_end = submitted_on <= period.to
                && !withdrawn_by_end
                && finished_on.is_none_or(|d| d > period.to);
            if open_at_end && due.is_some_and(|due| due < period.to) {
                on_time.overdue_open += 1;
                rows.entry(code).or_insert_with(row).overdue_open += 1;
            }
        }
        on_time.rate_percent = percent(on_time.on_time, on_time.on_time + on_time.late);

        let in_period: Vec<&Rating> = ratings
            .iter()
            .filter(|r| &r.commune == commune && period.contains(vietnam_date(r.at)))
            .collect();
        let count =
            |level: Satisfaction| in_period.iter().filter(|r| r.level == level).count() as u64;
        let rate = satisfaction_rate(in_period.iter().copied());
        let satisfaction = SatisfactionFigures {
            very_satisfied: count(Satisfaction::VerySatisfied),
            satisfied: count(Satisfaction::Satisfied),
            acceptable: count(Satisfaction::Acceptable),
            not_satisfied: count(Satisfaction::NotSatisfied),
            total: in_period.len() as u64,
            rate_percent: rate,
            meets_95: rate.is_some_and(|r| r >= TARGET_LOW),
            meets_99: rate.is_some_and(|r| r >= TARGET_HIGH),
        };

        Indicators {
            commune: commune.as_str().to_owned(),
            period,
            submitted,
            fully_online: OnlineShare {
                online: submitted.online,
                total: submitted.total,
                rate_percent: percent(submitted.online, submitted.total),
            },
            on_time,
            satisfaction,
            training_completions: None,
            training: None,
            procedures: rows.into_values().collect(),
        }
    }

    /// Adds the training figures the caller counted from the commune's learning records.
    pub fn with_training(mut self, training: TrainingFigures) -> Indicators {
        self.training_completions = Some(training.certificates);
        self.training = Some(training);
        self
    }
}

/// The commune's digital-skills training, counted from the learning records (progress and
/// certificates) and the commune's roster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingFigures {
    /// Certificates issued in the period.
    pub certificates: u64,
    /// Learners identified by their card who have started a lesson (ever).
    pub learners: u64,
    /// Of them, those who completed at least one module.
    pub completed_a_module: u64,
    /// Active officials on the commune's roster.
    pub officials: u64,
    /// Certificates of the officials' track (ever).
    pub officials_certified: u64,
}

impl TrainingFigures {
    /// Officials certified per official on the roster, in percent (`None` without officials).
    pub fn officials_percent(&self) -> Option<f64> {
        percent(self.officials_certified.min(self.officials), self.officials)
    }
}
