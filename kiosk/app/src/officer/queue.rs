//! What the queue, its search and the dashboard's queue bars show, read from the tablet's
//! queue index (`xaso-queue`: kept in step with the record store through its change feed,
//! FTS5 search over folded names, ID numbers and tracking codes). The month's charts are
//! [`super::charts`].

use jiff::civil::Date;
use xaso_queue::{QueueCounts, QueueFilter, QueueIndex, QueueRow};

/// Rows shown at most.
pub const PAGE: usize = 200;

/// The queue as shown now.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    pub rows: Vec<QueueRow>,
    pub counts: QueueCounts,
}

impl QueueView {
    /// The first page of the queue (or the search results for `search`) and the counts.
    pub fn read(
        index: &QueueIndex,
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
        })
    }
}
