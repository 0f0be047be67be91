//! What the server counts for its operators, exposed in Prometheus' text format at `/metrics`
//! ([`crate::operator`]): requests by operation and status with their latency, runs by outcome
//! with their rows and durations, the runs waiting, and alert delivery attempts by outcome. No label carries a workspace, a name
//! or anything a caller sent, so the page reveals no secret and no workspace's data.
//!
//! Counters count what this process did since it started (Prometheus sums processes).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use squared_types::SyncRunStatus;

use crate::sync::RunCounts;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

/// The server's metrics, registered once at start.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<OperationLabel, Histogram>,
    runs: Family<OutcomeLabel, Counter>,
    run_seconds: Histogram,
    rows_read: Counter,
    rows_written: Counter,
    rows_failed: Counter,
    runs_waiting: Gauge,
    alert_attempts: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("squared");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "API requests answered, by operation and status", requests.clone());
        let request_seconds = Family::<OperationLabel, Histogram>::new_with_constructor(|| {
            // 0.5 ms to about 16 s.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "API request latency, by operation",
            request_seconds.clone(),
        );
        let runs = Family::<OutcomeLabel, Counter>::default();
        registry.register("sync_runs", "Sync runs this process ended, by outcome", runs.clone());
        // One second to about 9 hours.
        let run_seconds = Histogram::new(exponential_buckets(1.0, 2.0, 16));
        registry.register(
            "sync_run_duration_seconds",
            "How long the runs this process ended took",
            run_seconds.clone(),
        );
        let (rows_read, rows_written, rows_failed) = (Counter::default(), Counter::default(), Counter::default());
        registry.register("sync_rows_read", "Rows read by the runs this process ended", rows_read.clone());
        registry.register("sync_rows_written", "Rows written by the runs this process ended", rows_written.clone());
        registry.register("sync_rows_failed", "Rows refused in the runs this process ended", rows_failed.clone());
        let runs_waiting = Gauge::default();
        registry.register("sync_runs_pending", "Runs waiting for a runner, in every workspace", runs_waiting.clone());
        let alert_attempts = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "alert_delivery_attempts",
            "Alert delivery attempts this process made, by outcome (delivered, retried, failed)",
            alert_attempts.clone(),
        );
        Metrics {
            alert_attempts,
            registry,
            requests,
            request_seconds,
            runs,
            run_seconds,
            rows_read,
            rows_written,
            rows_failed,
            runs_waiting,
        }
    }

    /// An API request answered.
    pub fn request(&self, operation: &str, status: u16, took: Duration) {
        self.requests.get_or_create(&RequestLabels { operation: operation.to_owned(), status }).inc();
        self.request_seconds
            .get_or_create(&OperationLabel { operation: operation.to_owned() })
            .observe(took.as_secs_f64());
    }

    /// A run this process ended, with its final counts.
    pub fn run_ended(&self, status: SyncRunStatus, counts: &RunCounts, took: Option<Duration>) {
        self.runs.get_or_create(&OutcomeLabel { outcome: status.as_str().to_owned() }).inc();
        if let Some(took) = took {
            self.run_seconds.observe(took.as_secs_f64());
        }
        self.rows_read.inc_by(counts.total_query_rows.max(0) as u64);
        self.rows_written.inc_by(counts.successful_rows.max(0) as u64);
        self.rows_failed.inc_by(counts.failed_rows.max(0) as u64);
    }

    /// An alert delivery attempt this process made: `delivered`, `retried` (failed, to be tried
    /// again) or `failed` (its last).
    pub fn alert_attempt(&self, outcome: &'static str) {
        self.alert_attempts.get_or_create(&OutcomeLabel { outcome: outcome.to_owned() }).inc();
    }

    /// The page Prometheus scrapes, with `pending` runs waiting now.
    pub fn render(&self, pending: i64) -> String {
        self.runs_waiting.set(pending);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String");
        text
    }
}
