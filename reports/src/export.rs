//! JSON and CSV exports of [`Indicators`].

use serde::Serialize;

use crate::{Indicators, Labels, ReportError};

/// One row of `procedures.csv`: column names are stable (tools read them).
#[derive(Serialize)]
struct ProcedureRecord<'a> {
    procedure_code: &'a str,
    procedure_name: &'a str,
    processing_days: Option<u32>,
    kiosk: u64,
    helper: u64,
    officer: u64,
    online: u64,
    total: u64,
    finished: u64,
    on_time: u64,
    late: u64,
    overdue_open: u64,
}

/// One row of `headline.csv`.
#[derive(Serialize)]
struct HeadlineRecord<'a> {
    indicator: &'a str,
    label: &'a str,
    value: String,
}

/// A percentage with two decimals; empty when there is nothing to divide.
pub(crate) fn percent_cell(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.2}")).unwrap_or_default()
}

impl Indicators {
    /// The indicators as pretty-printed JSON (the field names of [`Indicators`]).
    pub fn to_json(&self) -> Result<String, ReportError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// The per-procedure table as CSV: `procedure_code, procedure_name (Vietnamese),
    /// processing_days, kiosk, helper, officer, online, total, finished, on_time, late,
    /// overdue_open`, one row per procedure by code. For the commune's own use: the figures
    /// are not suppressed (see [`open_data`](crate::open_data::open_data) for publication).
    pub fn procedures_csv(&self) -> Result<String, ReportError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for row in &self.procedures {
            w.serialize(ProcedureRecord {
                procedure_code: &row.code,
                procedure_name: &row.name,
                processing_days: row.processing_days,
                kiosk: row.submitted.kiosk,
                helper: row.submitted.helper,
                officer: row.submitted.officer,
                online: row.submitted.online,
                total: row.submitted.total,
                finished: row.finished,
                on_time: row.on_time,
                late: row.late,
                overdue_open: row.overdue_open,
            })?;
        }
        into_string(w)
    }

    /// The headline figures as CSV: `indicator` (a stable name), `label` (in the labels'
    /// language), `value` (counts; percentages with two decimals; `true`/`false` for the
    /// targets; empty when there is no data).
    pub fn headline_csv(&self, labels: &Labels) -> Result<String, ReportError> {
        let s = &self.satisfaction;
        let o = &self.on_time;
        let rows: Vec<(&str, &str, String)> = vec![
            ("commune", "", self.commune.clone()),
            ("from", "", self.period.from.to_string()),
            ("to", "", self.period.to.to_string()),
            (
                "submitted",
                &labels.dossiers,
                self.submitted.total.to_string(),
            ),
            (
                "submitted_online",
                &labels.channels[3],
                self.submitted.online.to_string(),
            ),
            (
                "fully_online_percent",
                &labels.online_share,
                percent_cell(self.fully_online.rate_percent),
            ),
            ("finished", &labels.finished, o.finished.to_string()),
            ("on_time", &labels.on_time, o.on_time.to_string()),
            ("late", &labels.late, o.late.to_string()),
            (
                "on_time_percent",
                &labels.on_time_rate,
                percent_cell(o.rate_percent),
            ),
            (
                "overdue_open",
                &labels.overdue_open,
                o.overdue_open.to_string(),
            ),
            ("ratings", &labels.ratings, s.total.to_string()),
            (
                "very_satisfied",
                &labels.levels[0],
                s.very_satisfied.to_string(),
            ),
            ("satisfied", &labels.levels[1], s.satisfied.to_string()),
            ("acceptable", &labels.levels[2], s.acceptable.to_string()),
            (
                "not_satisfied",
                &labels.levels[3],
                s.not_satisfied.to_string(),
            ),
            (
                "satisfaction_percent",
                &labels.satisfaction_rate,
                percent_cell(s.rate_percent),
            ),
            ("meets_95", &labels.target_low, s.meets_95.to_string()),
            ("meets_99", &labels.target_high, s.meets_99.to_string()),
            (
                "training_completions",
                &labels.training,
                self.training_completions
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            ),
            (
                "training_learners",
                &labels.training_learners,
                self.training
                    .map(|t| t.learners.to_string())
                    .unwrap_or_default(),
            ),
            (
                "training_completed_a_module",
                &labels.training_module,
                self.training
                    .map(|t| t.completed_a_module.to_string())
                    .unwrap_or_default(),
            ),
            (
                "training_officials_percent",
                &labels.training_officials,
                percent_cell(self.training.and_then(|t| t.officials_percent())),
            ),
        ];
        let mut w = csv::Writer::from_writer(Vec::new());
        for (indicator, label, value) in rows {
            w.serialize(HeadlineRecord {
                indicator,
                label,
                value,
            })?;
        }
        into_string(w)
    }
}

pub(crate) fn into_string(w: csv::Writer<Vec<u8>>) -> Result<String, ReportError> {
    let bytes = w
        .into_inner()
        .map_err(|e| ReportError::Csv(csv::Error::from(e.into_error())))?;
    // The writer only ever received `&str` and numbers.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
