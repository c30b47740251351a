//! The officer's view of the commune's dossiers, read from the tablet's record store: the
//! queue (conflicts, overdue and due today first), search by name, ID number or tracking
//! code (accent- and case-insensitive), and the month's figures for the dashboard.
//!
//! This version reads every dossier of the commune on each refresh; it serves a commune of
//! a few thousand dossiers. The indexed queue for 100,000 is `xaso-queue` (not wired in
//! here yet).

use std::collections::BTreeMap;

use jiff::civil::Date;
use xaso_services::calendar::{Holidays, vietnam_date};
use xaso_services::rating::{Rating, Satisfaction};
use xaso_services::{Action, Catalog, Channel, Dossier, DossierState};
use xaso_sync_core::Partition;
use xaso_sync_store::Store;

/// One dossier as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub partition: Partition,
    pub record: String,
    pub dossier: Dossier,
    /// When the commune's clock started (received; before that, submitted).
    pub started: Date,
    pub due: Date,
    pub conflict: bool,
}

impl QueueEntry {
    pub fn code(&self) -> String {
        self.dossier
            .tracking_code
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
    pub fn overdue(&self, today: Date) -> bool {
        self.is_open() && self.due < today
    }
    pub fn due_today(&self, today: Date) -> bool {
        self.is_open() && self.due == today
    }
    /// Waiting for the commune (not a draft, not finished, not handed back).
    pub fn is_open(&self) -> bool {
        !matches!(
            self.dossier.state(),
            DossierState::Draft
                | DossierState::Returned
                | DossierState::Withdrawn
                | DossierState::ResultReady
                | DossierState::Rejected
        )
    }
}

/// The figures of the queue's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub open: usize,
    pub overdue: usize,
    pub due_today: usize,
    pub conflicts: usize,
}

/// What the dashboard charts: this month's dossiers and ratings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthFigures {
    pub by_procedure: BTreeMap<String, usize>,
    pub by_channel: BTreeMap<&'static str, usize>,
    pub by_level: BTreeMap<&'static str, usize>,
    pub ratings: usize,
    /// Percent of ratings satisfied or better.
    pub satisfied_share: Option<f64>,
}

/// The commune's dossiers on this tablet.
#[derive(Debug, Default)]
pub struct Queue {
    entries: Vec<QueueEntry>,
    ratings: Vec<Rating>,
}

fn channel_key(c: Channel) -> &'static str {
    match c {
        Channel::Kiosk => "kiosk",
        Channel::Helper => "helper",
        Channel::Officer => "officer",
        Channel::Online => "online",
    }
}

pub fn level_key(l: Satisfaction) -> &'static str {
    match l {
        Satisfaction::VerySatisfied => "very_satisfied",
        Satisfaction::Satisfied => "satisfied",
        Satisfaction::Acceptable => "acceptable",
        Satisfaction::NotSatisfied => "not_satisfied",
    }
}

impl Queue {
    /// Reads every dossier and rating of `commune` from `store`. A record that does not
    /// read as a dossier is skipped (and logged without its content).
    pub fn load(
        store: &Store,
        commune: &str,
        catalog: &Catalog,
    ) -> Result<Queue, xaso_sync_store::Error> {
        let holidays = Holidays::bundled();
        let mut entries = Vec::new();
        let mut ratings = Vec::new();
        for partition in store.partitions_under(commune)? {
            if partition.is_public() {
                continue;
            }
            for record in store.list(&partition)? {
                if record.starts_with("rating-") {
                    if let Ok(Some(r)) = store.get::<Rating>(&partition, &record) {
                        ratings.push(r);
                    }
                    continue;
                }
                if !record.starts_with("dossier-") {
                    continue;
                }
                let dossier = match store.get::<Dossier>(&partition, &record) {
                    Ok(Some(d)) => d,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(partition = %partition, "a dossier record was skipped: {e}");
                        continue;
                    }
                };
                let started = dossier
                    .audit()
                    .iter()
                    .find(|e| e.action == Action::Receive)
                    .or_else(|| dossier.audit().first())
                    .map_or(dossier.created_at, |e| e.at);
                let started = vietnam_date(started);
                let days = catalog
                    .procedure(dossier.procedure.as_str())
                    .map_or(0, |p| p.processing_days);
                let conflict = dossier.decision_conflict().is_some();
                entries.push(QueueEntry {
                    partition: partition.clone(),
                    record,
                    due: holidays.due_date(started, days),
                    started,
                    conflict,
                    dossier,
                });
            }
        }
        Ok(Queue { entries, ratings })
    }

    /// The open dossiers in the order an officer works them: conflicts, overdue, due
    /// today, then by due date and age.
    pub fn page(&self, today: Date, limit: usize) -> Vec<&QueueEntry> {
        let mut open: Vec<&QueueEntry> = self
            .entries
            .iter()
            .filter(|e| e.is_open() || e.conflict)
            .collect();
        open.sort_by_key(|e| {
            (
                !e.conflict,
                !e.overdue(today),
                !e.due_today(today),
                e.due,
                e.dossier.created_at,
            )
        });
        open.truncate(limit);
        open
    }

    /// Dossiers (open or not) whose applicant's name, ID number or tracking code matches
    /// every word of `text`, accents and case ignored: "nguyen van" finds "Nguyễn Văn An".
    pub fn search(&self, text: &str, limit: usize) -> Vec<&QueueEntry> {
        let words: Vec<String> = xaso_i18n::fold(text)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&QueueEntry> = self
            .entries
            .iter()
            .filter(|e| {
                let name = xaso_i18n::fold(&e.dossier.applicant.full_name);
                let name_words: Vec<&str> = name.split_whitespace().collect();
                let code = xaso_i18n::fold(&e.code()).replace('-', "");
                words.iter().all(|w| {
                    name_words.iter().any(|n| n.starts_with(w.as_str()))
                        || e.dossier.applicant.id_number.contains(w.as_str())
                        || code.contains(&w.replace('-', ""))
                })
            })
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse(e.dossier.created_at));
        found.truncate(limit);
        found
    }

    pub fn counts(&self, today: Date) -> QueueCounts {
        let mut c = QueueCounts::default();
        for e in &self.entries {
            c.open += usize::from(e.is_open());
            c.overdue += usize::from(e.overdue(today));
            c.due_today += usize::from(e.due_today(today));
            c.conflicts += usize::from(e.conflict);
        }
        c
    }

    /// This month's figures (the month of `today`, in Viet Nam).
    pub fn month(&self, today: Date) -> MonthFigures {
        let same_month = |d: Date| d.year() == today.year() && d.month() == today.month();
        let mut m = MonthFigures::default();
        for e in &self.entries {
            if same_month(vietnam_date(e.dossier.created_at)) {
                *m.by_procedure
                    .entry(e.dossier.procedure.0.clone())
                    .or_default() += 1;
                *m.by_channel
                    .entry(channel_key(e.dossier.channel))
                    .or_default() += 1;
            }
        }
        let month: Vec<&Rating> = self
            .ratings
            .iter()
            .filter(|r| same_month(vietnam_date(r.at)))
            .collect();
        for r in &month {
            *m.by_level.entry(level_key(r.level)).or_default() += 1;
        }
        m.ratings = month.len();
        m.satisfied_share = xaso_services::rating::satisfaction_rate(month.iter().copied());
        m
    }

    pub fn get(&self, partition: &str, record: &str) -> Option<&QueueEntry> {
        self.entries
            .iter()
            .find(|e| e.partition.as_str() == partition && e.record == record)
    }
}
