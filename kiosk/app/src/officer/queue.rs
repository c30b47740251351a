//! What the queue, its search and the dashboard show, read from the tablet's queue index
//! (`xaso-queue`: kept in step with the record store through its change feed, FTS5 search
//! over folded names, ID numbers and tracking codes) and the month's ratings.

use std::collections::BTreeMap;

use jiff::civil::Date;
use xaso_queue::{QueueCounts, QueueFilter, QueueIndex, QueueRow};
use xaso_services::calendar::vietnam_date;
use xaso_services::rating::{Rating, Satisfaction};
use xaso_sync_store::Store;

/// Rows shown at most.
pub const PAGE: usize = 200;

/// What the dashboard charts this month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthFigures {
    pub by_level: BTreeMap<&'static str, usize>,
    pub ratings: usize,
    /// Percent of ratings satisfied or better.
    pub satisfied_share: Option<f64>,
}

/// The queue as shown now.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    pub rows: Vec<QueueRow>,
    pub counts: QueueCounts,
    pub month: MonthFigures,
}

pub fn level_key(l: Satisfaction) -> &'static str {
    match l {
        Satisfaction::VerySatisfied => "very_satisfied",
        Satisfaction::Satisfied => "satisfied",
        Satisfaction::Acceptable => "acceptable",
        Satisfaction::NotSatisfied => "not_satisfied",
    }
}

impl QueueView {
    /// The first page of the queue (or the search results for `search`), the counts, and
    /// this month's ratings.
    pub fn read(
        index: &QueueIndex,
        store: &Store,
        commune: &str,
        search: &str,
        today: Date,
    ) -> Result<QueueView, xaso_queue::Error> {
        let rows = if search.trim().is_empty() {
            index.page(&QueueFilter::default(), today, 0, PAGE)?
        } else {
            index.search(search, PAGE)?
        };
        Ok(QueueView {
            rows,
            counts: index.counts(today)?,
            month: month_ratings(store, commune, today),
        })
    }
}

/// The ratings given this month (the month of `today`, in Viet Nam) in the commune.
fn month_ratings(store: &Store, commune: &str, today: Date) -> MonthFigures {
    let same_month = |d: Date| d.year() == today.year() && d.month() == today.month();
    let mut ratings: Vec<Rating> = Vec::new();
    for partition in store.partitions_under(commune).unwrap_or_default() {
        for record in store.list(&partition).unwrap_or_default() {
            if record.starts_with("rating-")
                && let Ok(Some(r)) = store.get::<Rating>(&partition, &record)
                && same_month(vietnam_date(r.at))
            {
                ratings.push(r);
            }
        }
    }
    let mut m = MonthFigures {
        ratings: ratings.len(),
        satisfied_share: xaso_services::rating::satisfaction_rate(&ratings),
        ..MonthFigures::default()
    };
    for r in &ratings {
        *m.by_level.entry(level_key(r.level)).or_default() += 1;
    }
    m
}
