//! The hub's metrics, exposed at `/metrics` in the OpenMetrics text format
//! through `prometheus-client`. Counters and timings only: no personal data,
//! no device ids, no partition names.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The hub's counters. Cheap to clone (every metric is shared).
#[derive(Debug, Clone)]
pub struct Metrics {
    pub(crate) sync_requests: Counter,
    pub(crate) sync_forbidden: Counter,
    pub(crate) sync_unauthenticated: Counter,
    pub(crate) sync_errors: Counter,
    pub(crate) sync_duration: Histogram,
    pub(crate) commits: Counter,
    pub(crate) enrolments: Counter,
    pub(crate) enrolments_refused: Counter,
    pub(crate) bytes_in: Counter,
    pub(crate) bytes_out: Counter,
    pub(crate) changes_in: Counter,
    pub(crate) changes_out: Counter,
    pub(crate) connections: Counter,
    pub(crate) connections_resumed: Counter,
    pub(crate) connections_stalled: Counter,
    pub(crate) blob_bytes_in: Counter,
    pub(crate) blob_bytes_out: Counter,
    pub(crate) blobs_completed: Counter,
    pub(crate) blob_forbidden: Counter,
    pub(crate) blob_refused: Counter,
    pub(crate) outbox_delivered: Counter,
    pub(crate) outbox_dead: Counter,
    pub(crate) outbox_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            sync_requests: Counter::default(),
            sync_forbidden: Counter::default(),
            sync_unauthenticated: Counter::default(),
            sync_errors: Counter::default(),
            // 1 ms to ~33 s.
            sync_duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            commits: Counter::default(),
            enrolments: Counter::default(),
            enrolments_refused: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            changes_in: Counter::default(),
            changes_out: Counter::default(),
            connections: Counter::default(),
            connections_resumed: Counter::default(),
            connections_stalled: Counter::default(),
            blob_bytes_in: Counter::default(),
            blob_bytes_out: Counter::default(),
            blobs_completed: Counter::default(),
            blob_forbidden: Counter::default(),
            blob_refused: Counter::default(),
            outbox_delivered: Counter::default(),
            outbox_dead: Counter::default(),
            outbox_failures: Counter::default(),
        }
    }
}

impl Metrics {
    /// A registry holding every metric under its exported name (counters get
    /// `_total` appended by the encoder).
    pub(crate) fn registry(&self) -> Registry {
        let mut r = Registry::default();
        let counters: [(&str, &str, &Counter); 22] = [
            (
                "xaso_hub_outbox_delivered",
                "Packets the provincial / national platform acknowledged",
                &self.outbox_delivered,
            ),
            (
                "xaso_hub_outbox_dead",
                "Packets the platform refused (dead letter)",
                &self.outbox_dead,
            ),
            (
                "xaso_hub_outbox_failures",
                "Tries to send a packet that got no usable answer",
                &self.outbox_failures,
            ),
            (
                "xaso_hub_sync_requests",
                "Sync exchanges answered",
                &self.sync_requests,
            ),
            (
                "xaso_hub_commits",
                "Group commits of sync exchanges (one transaction and one fsync each)",
                &self.commits,
            ),
            (
                "xaso_hub_sync_forbidden",
                "Sync requests refused for partition scope",
                &self.sync_forbidden,
            ),
            (
                "xaso_hub_sync_unauthenticated",
                "Requests without a valid, unrevoked certificate",
                &self.sync_unauthenticated,
            ),
            (
                "xaso_hub_sync_errors",
                "Sync requests that failed",
                &self.sync_errors,
            ),
            ("xaso_hub_enrolments", "Devices enrolled", &self.enrolments),
            (
                "xaso_hub_enrolments_refused",
                "Enrolments refused",
                &self.enrolments_refused,
            ),
            (
                "xaso_hub_sync_bytes_in",
                "Sync request bytes received",
                &self.bytes_in,
            ),
            (
                "xaso_hub_sync_bytes_out",
                "Sync reply bytes sent",
                &self.bytes_out,
            ),
            (
                "xaso_hub_changes_in",
                "Changes received from devices",
                &self.changes_in,
            ),
            (
                "xaso_hub_changes_out",
                "Changes sent to devices",
                &self.changes_out,
            ),
            (
                "xaso_hub_connections",
                "TLS connections accepted",
                &self.connections,
            ),
            (
                "xaso_hub_connections_resumed",
                "TLS connections that resumed an earlier session (no certificate exchange)",
                &self.connections_resumed,
            ),
            (
                "xaso_hub_connections_stalled",
                "Connections closed for lack of progress",
                &self.connections_stalled,
            ),
            (
                "xaso_hub_blob_bytes_in",
                "Attachment bytes received (uploads)",
                &self.blob_bytes_in,
            ),
            (
                "xaso_hub_blob_bytes_out",
                "Attachment bytes sent (downloads)",
                &self.blob_bytes_out,
            ),
            (
                "xaso_hub_blobs_completed",
                "Attachments received whole and verified",
                &self.blobs_completed,
            ),
            (
                "xaso_hub_blob_forbidden",
                "Attachment requests refused for partition scope",
                &self.blob_forbidden,
            ),
            (
                "xaso_hub_blob_refused",
                "Attachment uploads refused (hash mismatch, bad range, too large)",
                &self.blob_refused,
            ),
        ];
        for (name, help, counter) in counters {
            r.register(name, help, counter.clone());
        }
        r.register(
            "xaso_hub_sync_duration_seconds",
            "Time to answer a sync request, from its arrival to its reply",
            self.sync_duration.clone(),
        );
        r
    }

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_rendered_under_their_names_with_help() {
        let m = Metrics::default();
        m.sync_requests.inc();
        m.blob_bytes_in.inc_by(4096);
        m.sync_duration.observe(0.012);
        let text = m.render();
        assert!(text.contains("# HELP xaso_hub_sync_requests Sync exchanges answered.\n"));
        assert!(text.contains("# TYPE xaso_hub_sync_requests counter\n"));
        assert!(text.contains("\nxaso_hub_sync_requests_total 1\n"));
        assert!(text.contains("\nxaso_hub_blob_bytes_in_total 4096\n"));
        assert!(text.contains("\nxaso_hub_connections_total 0\n"));
        assert!(text.contains("xaso_hub_sync_duration_seconds_count 1\n"));
        assert!(text.ends_with("# EOF\n"));
    }
}
