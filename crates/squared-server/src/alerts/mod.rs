//! Alerts: a rule's condition holds, an alert is raised (a delivery, a durable job in the
//! store), and whichever process claims it sends it to the rule's channel.
//!
//! This module holds the rules of alerting that need no I/O: each channel kind's
//! configuration schema (with its secrets marked, so they are sealed and masked as a
//! connector's are), which run ends raise which alerts, what an alert says, and when a failed
//! attempt is tried again. [`send`] is the only code that reaches a channel, always through
//! the egress policy; [`worker`] is the background task that raises the alerts of time
//! (overdue schedules, long runs) and sends what is due.
//!
//! Where alerts are raised: a run's end raises its alerts in the transaction that records the
//! end ([`crate::store::Store::finish_run`]), so an end is never recorded without them; the
//! worker raises the others. Either way an alert is raised once per rule and event, by its
//! dedupe key, whichever process and however many times.

pub mod send;
pub mod worker;

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use squared_types::{AlertChannelKind, AlertCondition, SyncRunStatus, SyncRunType};

use crate::store::{NewDelivery, StoredRule, StoredRun};
use crate::sync::RunCounts;

/// How many attempts a delivery gets before it is `failed`.
pub const MAX_ATTEMPTS: i64 = 6;

/// How long after its `attempts`-th failed attempt a delivery is tried again: 1 s, doubling,
/// at most 5 minutes (1, 2, 4, 8, 16 s for the default six attempts).
pub fn retry_after(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(1u64 << exponent).min(Duration::from_secs(300))
}

/// A channel kind's configuration schema, compiled once.
pub struct ChannelSchema {
    pub schema: Value,
    pub validator: jsonschema::Validator,
}

fn channel_schema_value(kind: AlertChannelKind) -> Value {
    let secret = |description: &str| json!({"type": "string", "minLength": 1, "description": description, "multiwoven_secret": true});
    match kind {
        AlertChannelKind::Webhook => json!({
            "type": "object",
            "required": ["url", "secret"],
            "additionalProperties": false,
            "properties": {
                "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048,
                        "description": "Where each alert is POSTed as JSON.", "squared_audience": true},
                "secret": {"type": "string", "minLength": 16, "maxLength": 256, "multiwoven_secret": true,
                           "description": "The key of each delivery's HMAC-SHA256 signature."}
            }
        }),
        AlertChannelKind::Slack => json!({
            "type": "object",
            "required": ["webhook_url"],
            "additionalProperties": false,
            "properties": {
                "webhook_url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 2048,
                                "multiwoven_secret": true, "description": "The Slack incoming webhook's URL."}
            }
        }),
        AlertChannelKind::Email => json!({
            "type": "object",
            "required": ["host", "from", "to"],
            "additionalProperties": false,
            "properties": {
                "host": {"type": "string", "minLength": 1, "maxLength": 253, "squared_audience": true,
                         "description": "The SMTP server."},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 587, "squared_audience": true},
                "security": {"type": "string", "enum": ["starttls", "tls", "none"], "default": "starttls"},
                "username": {"type": "string", "minLength": 1, "maxLength": 255},
                "password": secret("The SMTP password."),
                "from": {"type": "string", "format": "email", "maxLength": 254},
                "to": {"type": "array", "minItems": 1, "maxItems": 50,
                       "items": {"type": "string", "format": "email", "maxLength": 254}}
            }
        }),
    }
}

static SCHEMAS: LazyLock<[ChannelSchema; 3]> = LazyLock::new(|| {
    [AlertChannelKind::Webhook, AlertChannelKind::Slack, AlertChannelKind::Email].map(|kind| {
        let schema = channel_schema_value(kind);
        let validator = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the channel schemas are valid JSON Schemas");
        ChannelSchema { schema, validator }
    })
});

/// The configuration schema of a channel kind.
pub fn channel_schema(kind: AlertChannelKind) -> &'static ChannelSchema {
    let index = match kind {
        AlertChannelKind::Webhook => 0,
        AlertChannelKind::Slack => 1,
        AlertChannelKind::Email => 2,
    };
    &SCHEMAS[index]
}

/// How a general run ended, as the rules read it.
pub struct RunEnd<'a> {
    pub run: &'a StoredRun,
    pub sync_name: Option<&'a str>,
    pub status: SyncRunStatus,
    pub counts: &'a RunCounts,
    pub error: Option<&'a str>,
    /// How the sync's general run before this one ended, if one did.
    pub previous: Option<SyncRunStatus>,
}

/// Whether `rule` raises an alert for this end.
pub fn raised_by(rule: &StoredRule, end: &RunEnd<'_>) -> bool {
    match rule.condition {
        AlertCondition::RunFailed => end.status == SyncRunStatus::Failed,
        AlertCondition::RunRecovered => {
            end.status == SyncRunStatus::Success && end.previous == Some(SyncRunStatus::Failed)
        }
        AlertCondition::FailedRowsPercent => {
            let tried = end.counts.successful_rows + end.counts.failed_rows;
            let threshold = rule.threshold_percent.unwrap_or(100.0);
            tried > 0 && (end.counts.failed_rows as f64) * 100.0 >= threshold * tried as f64
        }
        AlertCondition::ScheduleOverdue | AlertCondition::RunLongerThan => false,
    }
}

/// The alerts a general run's end raises under `rules`.
pub fn run_end_alerts(rules: &[StoredRule], end: &RunEnd<'_>) -> Vec<NewDelivery> {
    if end.run.run_type != SyncRunType::General {
        return Vec::new();
    }
    rules
        .iter()
        .filter(|rule| raised_by(rule, end))
        .map(|rule| {
            let run = end.run;
            let counts = end.counts;
            let message = match rule.condition {
                AlertCondition::RunRecovered => format!(
                    "Sync {} recovered: run {} succeeded after a failed run ({} rows written).",
                    sync_label(run.sync_id, end.sync_name),
                    run.id,
                    counts.successful_rows
                ),
                AlertCondition::FailedRowsPercent => format!(
                    "Sync {}: run {} failed {} of {} rows (the rule's threshold is {}%).",
                    sync_label(run.sync_id, end.sync_name),
                    run.id,
                    counts.failed_rows,
                    counts.successful_rows + counts.failed_rows,
                    rule.threshold_percent.unwrap_or_default()
                ),
                _ => format!(
                    "Sync {}: run {} {}{}",
                    sync_label(run.sync_id, end.sync_name),
                    run.id,
                    end.status.as_str(),
                    end.error.map(|e| format!(": {e}")).unwrap_or_else(|| ".".into())
                ),
            };
            let run_facts = json!({
                "id": run.id,
                "status": end.status.as_str(),
                "run_type": run.run_type.as_str(),
                "total_query_rows": counts.total_query_rows,
                "skipped_rows": counts.skipped_rows,
                "total_rows": counts.total_rows,
                "successful_rows": counts.successful_rows,
                "failed_rows": counts.failed_rows,
                "error": end.error,
                "started_at": run.started_at.map(rfc3339),
            });
            NewDelivery {
                workspace_id: run.workspace_id,
                rule_id: rule.id,
                channel_id: rule.channel_id,
                sync_id: run.sync_id,
                sync_run_id: Some(run.id),
                condition: rule.condition,
                dedupe_key: format!("rule:{}:run:{}:{}", rule.id, run.id, rule.condition.as_str()),
                payload: payload(rule, run.sync_id, end.sync_name, Some(run_facts), message),
            }
        })
        .collect()
}

/// The alert of a schedule that did not start: once per rule, sync and missed start.
pub fn overdue_alert(rule: &StoredRule, sync_id: i64, sync_name: Option<&str>, due: DateTime<Utc>) -> NewDelivery {
    let message = format!(
        "Sync {}: its scheduled run was due at {} and has not started.",
        sync_label(sync_id, sync_name),
        rfc3339(due)
    );
    let mut payload = payload(rule, sync_id, sync_name, None, message);
    payload["sync"]["next_run_at"] = Value::String(rfc3339(due));
    NewDelivery {
        workspace_id: rule.workspace_id,
        rule_id: rule.id,
        channel_id: rule.channel_id,
        sync_id,
        sync_run_id: None,
        condition: rule.condition,
        dedupe_key: format!("rule:{}:sync:{sync_id}:due:{}", rule.id, rfc3339(due)),
        payload,
    }
}

/// The alert of a run that has gone on too long: once per rule and run.
pub fn long_run_alert(
    rule: &StoredRule,
    sync_id: i64,
    sync_name: Option<&str>,
    run_id: i64,
    started_at: DateTime<Utc>,
) -> NewDelivery {
    let message = format!(
        "Sync {}: run {run_id} has run for longer than {} s (it started at {}).",
        sync_label(sync_id, sync_name),
        rule.duration_seconds.unwrap_or_default(),
        rfc3339(started_at)
    );
    let run = json!({"id": run_id, "status": "in_progress", "started_at": rfc3339(started_at)});
    NewDelivery {
        workspace_id: rule.workspace_id,
        rule_id: rule.id,
        channel_id: rule.channel_id,
        sync_id,
        sync_run_id: Some(run_id),
        condition: rule.condition,
        dedupe_key: format!("rule:{}:run:{run_id}:{}", rule.id, rule.condition.as_str()),
        payload: payload(rule, sync_id, sync_name, Some(run), message),
    }
}

/// What every alert says: the event, workspace, rule, sync, run (when there is one), a
/// message for people and the path of the run (or the sync) in the API.
fn payload(rule: &StoredRule, sync_id: i64, sync_name: Option<&str>, run: Option<Value>, message: String) -> Value {
    let link = match run.as_ref().and_then(|r| r["id"].as_i64()) {
        Some(run_id) => format!("/api/v1/syncs/{sync_id}/sync_runs/{run_id}"),
        None => format!("/api/v1/syncs/{sync_id}"),
    };
    json!({
        "event": rule.condition.as_str(),
        "workspace_id": rule.workspace_id,
        "rule": {"id": rule.id, "name": rule.name},
        "sync": {"id": sync_id, "name": sync_name},
        "run": run,
        "message": message,
        "link": link,
        "raised_at": rfc3339(Utc::now()),
    })
}

fn sync_label(sync_id: i64, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{sync_id} ({name})"),
        None => sync_id.to_string(),
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general_run() -> StoredRun {
        StoredRun {
            id: 3,
            workspace_id: 7,
            sync_id: 5,
            status: SyncRunStatus::InProgress,
            run_type: SyncRunType::General,
            executed_by: None,
            started_at: None,
            finished_at: None,
            total_query_rows: 0,
            skipped_rows: 0,
            total_rows: 0,
            successful_rows: 0,
            failed_rows: 0,
            inserted_rows: 0,
            updated_rows: 0,
            deleted_rows: 0,
            error: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn rule(condition: AlertCondition, threshold_percent: Option<f64>) -> StoredRule {
        StoredRule {
            id: 1,
            workspace_id: 7,
            name: "r".into(),
            channel_id: 2,
            sync_id: None,
            condition,
            threshold_percent,
            duration_seconds: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn failed_rows_raise_an_alert_at_their_threshold_and_not_below() {
        let run = general_run();
        let end = |failed: i64, written: i64| {
            let counts = RunCounts { successful_rows: written, failed_rows: failed, ..Default::default() };
            raised_by(
                &rule(AlertCondition::FailedRowsPercent, Some(20.0)),
                &RunEnd {
                    run: &run,
                    sync_name: None,
                    status: SyncRunStatus::Failed,
                    counts: &counts,
                    error: None,
                    previous: None,
                },
            )
        };
        assert!(end(30, 70));
        assert!(end(20, 80), "at the threshold");
        assert!(!end(10, 90));
        assert!(!end(0, 0), "a run that tried nothing");
    }

    #[test]
    fn recovery_is_the_first_success_after_a_failure() {
        let run = general_run();
        let counts = RunCounts::default();
        let raised = |status, previous| {
            raised_by(
                &rule(AlertCondition::RunRecovered, None),
                &RunEnd { run: &run, sync_name: None, status, counts: &counts, error: None, previous },
            )
        };
        assert!(raised(SyncRunStatus::Success, Some(SyncRunStatus::Failed)));
        assert!(!raised(SyncRunStatus::Success, Some(SyncRunStatus::Success)));
        assert!(!raised(SyncRunStatus::Success, None));
        assert!(!raised(SyncRunStatus::Failed, Some(SyncRunStatus::Failed)));
    }

    #[test]
    fn retries_double_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=MAX_ATTEMPTS).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32]);
        assert_eq!(retry_after(40), Duration::from_secs(300));
    }
}
