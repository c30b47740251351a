//! The anonymised open-data export: counts of dossiers, never a person.
//!
//! [`open_data`] publishes one row per (procedure, channel, state group) that has at least
//! one dossier submitted in the period, with the commune and the period:
//!
//! ```text
//! commune,period_start,period_end,procedure_code,channel,state_group,count,suppressed
//! 79001,2026-11-01,2026-11-30,birth-registration,kiosk,approved,7,false
//! 79001,2026-11-01,2026-11-30,birth-registration,online,approved,,true
//! ```
//!
//! and a Frictionless *Table Schema* (JSON) describing the columns, with
//! `missingValues: [""]` for the suppressed counts.
//!
//! **What never leaves.** The rows are built only from values that cannot carry personal
//! data: the commune code (validated, five digits), the period's dates, procedure codes
//! *from the catalog* (a dossier naming a procedure the catalog does not know is counted
//! under `other`, so a garbled code cannot carry text out), and the closed sets of channels
//! and state groups. Names, ID numbers, addresses, phone numbers, form values, attachments,
//! tracking codes, timestamps and every free text (reasons of actions, ratings' reasons)
//! are never read. A test feeds dossiers full of such data and checks that none of it, no
//! run of 9 to 12 digits and no token of a name appears in the CSV or the schema.
//!
//! **Suppression.** A count from 1 to 4 is *primary*-suppressed: the cell is empty and
//! `suppressed` is `true`. Combinations with no dossier have no row (a zero discloses no
//! one). The file publishes **no totals**, and because the commune's figures by procedure,
//! by channel or by state group may be known from elsewhere (its own report, a provincial
//! dashboard), suppression is completed *secondarily*: in every procedure, every channel and
//! every state group that has exactly one suppressed cell, the smallest published cell of
//! that group is suppressed too, repeated until no group has exactly one — so no suppressed
//! count can be recovered by subtracting the published cells from a group total. (A group
//! whose only cell is suppressed has nothing to subtract from.)

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use xaso_i18n::{Lang, Translations};
use xaso_services::calendar::vietnam_date;
use xaso_services::catalog::Catalog;
use xaso_services::dossier::{Dossier, DossierState};
use xaso_services::tracking::CommuneCode;

use crate::indicators::{of_commune, submitted_on};
use crate::labels::channel_code;
use crate::{Labels, Period, ReportError};

/// Counts below this are suppressed.
pub const THRESHOLD: u64 = 5;

/// The procedure code under which dossiers of procedures the catalog does not know are
/// counted.
pub const OTHER_PROCEDURE: &str = "other";

/// Where a dossier stands at the end of the period, in four groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateGroup {
    /// Submitted, received, in processing, waiting for or given a supplement.
    InProgress,
    /// Approved (also once its result is ready or returned).
    Approved,
    /// Rejected (also once the refusal is returned).
    Rejected,
    Withdrawn,
}

impl StateGroup {
    /// All groups, in the order of the file.
    pub const ALL: [StateGroup; 4] = [
        StateGroup::InProgress,
        StateGroup::Approved,
        StateGroup::Rejected,
        StateGroup::Withdrawn,
    ];

    /// The value in the `state_group` column.
    pub fn code(self) -> &'static str {
        match self {
            StateGroup::InProgress => "in_progress",
            StateGroup::Approved => "approved",
            StateGroup::Rejected => "rejected",
            StateGroup::Withdrawn => "withdrawn",
        }
    }

    /// The group of a dossier as of the end of `to` (its audit entries up to that day).
    fn of(dossier: &Dossier, to: jiff::civil::Date) -> StateGroup {
        let mut group = StateGroup::InProgress;
        for entry in dossier.audit().iter().filter(|e| vietnam_date(e.at) <= to) {
            match entry.to {
                DossierState::Approved => group = StateGroup::Approved,
                DossierState::Rejected => group = StateGroup::Rejected,
                DossierState::Withdrawn => group = StateGroup::Withdrawn,
                _ => {}
            }
        }
        group
    }
}

/// The export: the CSV and its Table Schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenData {
    pub csv: String,
    /// A Frictionless Table Schema (JSON) describing the CSV's columns.
    pub schema_json: String,
}

/// One cell of the table before writing.
#[derive(Debug, Clone, Copy)]
struct Cell {
    count: u64,
    suppressed: bool,
}

type Key = (String, &'static str, StateGroup);

#[derive(Serialize)]
struct Row<'a> {
    commune: &'a str,
    period_start: String,
    period_end: String,
    procedure_code: &'a str,
    channel: &'a str,
    state_group: &'a str,
    count: Option<u64>,
    suppressed: bool,
}

/// The anonymised, aggregated counts of dossiers of `commune` submitted in `period` (see
/// the module documentation), with the schema's descriptions in `lang`.
pub fn open_data(
    commune: &CommuneCode,
    period: Period,
    dossiers: &[Dossier],
    catalog: &Catalog,
    translations: &Translations,
    lang: Lang,
) -> Result<OpenData, ReportError> {
    let mut cells: BTreeMap<Key, Cell> = BTreeMap::new();
    for dossier in dossiers.iter().filter(|d| of_commune(d, commune)) {
        if !submitted_on(dossier).is_some_and(|d| period.contains(d)) {
            continue;
        }
        let procedure = catalog
            .procedure(dossier.procedure.as_str())
            .map_or(OTHER_PROCEDURE, |p| p.code.as_str())
            .to_owned();
        let key = (
            procedure,
            channel_code(dossier.channel),
            StateGroup::of(dossier, period.to),
        );
        cells
            .entry(key)
            .or_insert(Cell {
                count: 0,
                suppressed: false,
            })
            .count += 1;
    }
    suppress(&mut cells);

    let mut w = csv::Writer::from_writer(Vec::new());
    for ((procedure, channel, group), cell) in &cells {
        w.serialize(Row {
            commune: commune.as_str(),
            period_start: period.from.to_string(),
            period_end: period.to.to_string(),
            procedure_code: procedure,
            channel,
            state_group: group.code(),
            count: (!cell.suppressed).then_some(cell.count),
            suppressed: cell.suppressed,
        })?;
    }
    // A file without rows still has its header.
    if cells.is_empty() {
        w.write_record([
            "commune",
            "period_start",
            "period_end",
            "procedure_code",
            "channel",
            "state_group",
            "count",
            "suppressed",
        ])?;
    }
    let csv = crate::export::into_string(w)?;
    Ok(OpenData {
        csv,
        schema_json: schema(catalog, translations, lang)?,
    })
}

/// Primary suppression of counts below [`THRESHOLD`], then secondary suppression until no
/// procedure, channel or state group has exactly one suppressed cell.
fn suppress(cells: &mut BTreeMap<Key, Cell>) {
    for cell in cells.values_mut() {
        cell.suppressed = cell.count < THRESHOLD;
    }
    // Each round suppresses at least one more cell or stops: at most `cells.len()` rounds.
    for _ in 0..=cells.len() {
        let mut changed = false;
        for dimension in 0..3 {
            let mut groups: BTreeMap<String, Vec<Key>> = BTreeMap::new();
            for key in cells.keys() {
                let group = match dimension {
                    0 => key.0.clone(),
                    1 => key.1.to_owned(),
                    _ => key.2.code().to_owned(),
                };
                groups.entry(group).or_default().push(key.clone());
            }
            for keys in groups.values() {
                let suppressed = keys
                    .iter()
                    .filter(|k| cells.get(*k).is_some_and(|c| c.suppressed))
                    .count();
                if suppressed != 1 {
                    continue;
                }
                let smallest = keys
                    .iter()
                    .filter_map(|k| cells.get(k).filter(|c| !c.suppressed).map(|c| (c.count, k)))
                    .min_by_key(|(count, _)| *count)
                    .map(|(_, k)| k.clone());
                if let Some(cell) = smallest.and_then(|k| cells.get_mut(&k)) {
                    cell.suppressed = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// The Frictionless Table Schema of the CSV.
fn schema(
    catalog: &Catalog,
    translations: &Translations,
    lang: Lang,
) -> Result<String, ReportError> {
    let d = |field: &str| translations.get(lang, &format!("report.open_data.{field}"), &[]);
    let mut procedures: Vec<&str> = catalog.procedures().map(|p| p.code.as_str()).collect();
    procedures.sort_unstable();
    procedures.push(OTHER_PROCEDURE);
    let channels: Vec<&str> = Labels::CHANNELS.iter().map(|c| channel_code(*c)).collect();
    let groups: Vec<&str> = StateGroup::ALL.iter().map(|g| g.code()).collect();
    let schema = json!({
        "fields": [
            {"name": "commune", "type": "string", "description": d("commune"),
             "constraints": {"required": true, "pattern": "[0-9]{5}"}},
            {"name": "period_start", "type": "date", "description": d("period_start"),
             "constraints": {"required": true}},
            {"name": "period_end", "type": "date", "description": d("period_end"),
             "constraints": {"required": true}},
            {"name": "procedure_code", "type": "string", "description": d("procedure_code"),
             "constraints": {"required": true, "enum": procedures}},
            {"name": "channel", "type": "string", "description": d("channel"),
             "constraints": {"required": true, "enum": channels}},
            {"name": "state_group", "type": "string", "description": d("state_group"),
             "constraints": {"required": true, "enum": groups}},
            {"name": "count", "type": "integer", "description": d("count"),
             "constraints": {"minimum": THRESHOLD}},
            {"name": "suppressed", "type": "boolean", "description": d("suppressed"),
             "constraints": {"required": true}},
        ],
        "missingValues": [""],
        "primaryKey": ["commune", "period_start", "period_end", "procedure_code", "channel", "state_group"],
    });
    Ok(serde_json::to_string_pretty(&schema)?)
}
