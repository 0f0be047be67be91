//! Alert channels, rules and deliveries as stored.
//!
//! A delivery is a durable job: raised once per rule and event (its `dedupe_key` is unique, so
//! raising it again, by any process, does nothing), claimed by one process at a time under a
//! lease and a generation (as runs are), and finished only by the claim that holds that
//! generation. A process killed while sending leaves its claim to lapse; the delivery is then
//! claimed again and sent.

use chrono::{DateTime, Utc};
use serde_json::Value;
use squared_types::{AlertChannelKind, AlertCondition, AlertDeliveryStatus};

use super::database::{Row, Transaction, query};
use super::{Store, StoreError, decode, json_text, parse_timestamp, timestamp};

/// A channel as stored: its configuration with its secrets sealed.
#[derive(Clone, Debug)]
pub struct StoredChannel {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub kind: AlertChannelKind,
    pub configuration: Value,
    pub created_at: DateTime<Utc>,
}

/// A rule as stored.
#[derive(Clone, Debug)]
pub struct StoredRule {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub channel_id: i64,
    pub sync_id: Option<i64>,
    pub condition: AlertCondition,
    pub threshold_percent: Option<f64>,
    pub duration_seconds: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// An alert to raise: which rule, about what, and what is sent.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub workspace_id: i64,
    pub rule_id: i64,
    pub channel_id: i64,
    pub sync_id: i64,
    pub sync_run_id: Option<i64>,
    pub condition: AlertCondition,
    /// The same event raised again (by this process or another) is this key again.
    pub dedupe_key: String,
    pub payload: Value,
}

/// A delivery as stored.
#[derive(Clone, Debug)]
pub struct StoredDelivery {
    pub id: i64,
    pub workspace_id: i64,
    pub rule_id: i64,
    pub channel_id: i64,
    pub sync_id: i64,
    pub sync_run_id: Option<i64>,
    pub condition: AlertCondition,
    pub payload: Value,
    pub status: AlertDeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery claimed for one attempt: written back only under its generation.
#[derive(Clone, Debug)]
pub struct DeliveryClaim {
    pub delivery: StoredDelivery,
    pub generation: i64,
}

/// How an attempt ended.
#[derive(Clone, Debug)]
pub enum Attempt {
    Delivered,
    /// Failed; tried again at `retry_at`, or never again when `None`.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// An enabled sync whose scheduled start is overdue, and a rule watching it for that.
#[derive(Clone, Debug)]
pub struct LateSchedule {
    pub rule: StoredRule,
    pub sync_id: i64,
    pub sync_name: Option<String>,
    pub next_run_at: DateTime<Utc>,
}

/// An active run that started before a moment, and a rule watching its sync for that.
#[derive(Clone, Debug)]
pub struct LongRun {
    pub rule: StoredRule,
    pub sync_id: i64,
    pub sync_name: Option<String>,
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
}

const CHANNEL_COLUMNS: &str = "id, workspace_id, name, kind, configuration, created_at";
const RULE_COLUMNS: &str =
    "id, workspace_id, name, channel_id, sync_id, condition, threshold_percent, duration_seconds, created_at";
const DELIVERY_COLUMNS: &str = "id, workspace_id, rule_id, channel_id, sync_id, sync_run_id, condition, payload, \
                                status, attempts, last_error, created_at, next_attempt_at, delivered_at";

fn optional_time(row: &Row, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    row.try_get::<Option<String>>(column)?.as_deref().map(parse_timestamp).transpose()
}

fn json(row: &Row, column: &str) -> Result<Value, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn channel_from_row(row: &Row) -> Result<StoredChannel, StoreError> {
    Ok(StoredChannel {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        kind: decode(row, "kind")?,
        configuration: json(row, "configuration")?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
    })
}

fn rule_from_row(row: &Row) -> Result<StoredRule, StoreError> {
    Ok(StoredRule {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        channel_id: row.try_get("channel_id")?,
        sync_id: row.try_get("sync_id")?,
        condition: decode(row, "condition")?,
        threshold_percent: row.try_get("threshold_percent")?,
        duration_seconds: row.try_get("duration_seconds")?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
    })
}

fn delivery_from_row(row: &Row) -> Result<StoredDelivery, StoreError> {
    Ok(StoredDelivery {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        rule_id: row.try_get("rule_id")?,
        channel_id: row.try_get("channel_id")?,
        sync_id: row.try_get("sync_id")?,
        sync_run_id: row.try_get("sync_run_id")?,
        condition: decode(row, "condition")?,
        payload: json(row, "payload")?,
        status: decode(row, "status")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        next_attempt_at: optional_time(row, "next_attempt_at")?,
        delivered_at: optional_time(row, "delivered_at")?,
    })
}

/// Inserts `deliveries` (pending, due now), each at most once by its dedupe key; answers how
/// many were new.
pub(super) async fn insert_deliveries(
    transaction: &mut Transaction<'_>,
    deliveries: &[NewDelivery],
) -> Result<u64, StoreError> {
    let now = timestamp(Utc::now());
    let mut raised = 0;
    for delivery in deliveries {
        raised += query(
            "INSERT INTO alert_deliveries (workspace_id, rule_id, channel_id, sync_id, sync_run_id, condition, \
             dedupe_key, payload, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(delivery.workspace_id)
        .bind(delivery.rule_id)
        .bind(delivery.channel_id)
        .bind(delivery.sync_id)
        .bind(delivery.sync_run_id)
        .bind(delivery.condition.as_str())
        .bind(&delivery.dedupe_key)
        .bind(json_text(&delivery.payload))
        .bind(&now)
        .execute(&mut *transaction)
        .await?;
    }
    Ok(raised)
}

impl Store {
    pub async fn create_channel(
        &self,
        workspace_id: i64,
        name: &str,
        kind: AlertChannelKind,
        configuration: &Value,
    ) -> Result<StoredChannel, StoreError> {
        let row = query(format!(
            "INSERT INTO alert_channels (workspace_id, name, kind, configuration, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {CHANNEL_COLUMNS}"
        ))
        .bind(workspace_id)
        .bind(name)
        .bind(kind.as_str())
        .bind(json_text(configuration))
        .bind(timestamp(Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        channel_from_row(&row)
    }

    pub async fn get_channel(&self, workspace_id: i64, id: i64) -> Result<Option<StoredChannel>, StoreError> {
        let row = query(format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE workspace_id = $1 AND id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(channel_from_row).transpose()
    }

    pub async fn list_channels(
        &self,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredChannel>, i64), StoreError> {
        let (rows, total) = self
            .page("alert_channels", CHANNEL_COLUMNS, "workspace_id = $1", "id DESC", workspace_id, &[], limit, offset)
            .await?;
        Ok((rows.iter().map(channel_from_row).collect::<Result<_, _>>()?, total))
    }

    /// Deletes a channel that no rule uses: `Ok(None)` when it is not there, `Err` with the
    /// rules (id, name) that use it.
    pub async fn delete_channel(&self, workspace_id: i64, id: i64) -> Result<Option<Vec<(i64, String)>>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let users = query("SELECT id, name FROM alert_rules WHERE channel_id = $1 AND workspace_id = $2 ORDER BY id")
            .bind(id)
            .bind(workspace_id)
            .fetch_all(&mut transaction)
            .await?;
        if !users.is_empty() {
            return users
                .iter()
                .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
                .collect::<Result<Vec<_>, StoreError>>()
                .map(Some);
        }
        let deleted = query("DELETE FROM alert_channels WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut transaction)
            .await?;
        transaction.commit().await?;
        Ok(if deleted == 0 { None } else { Some(Vec::new()) })
    }

    pub async fn create_rule(&self, rule: &StoredRule) -> Result<StoredRule, StoreError> {
        let row = query(format!(
            "INSERT INTO alert_rules (workspace_id, name, channel_id, sync_id, condition, threshold_percent, \
             duration_seconds, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {RULE_COLUMNS}"
        ))
        .bind(rule.workspace_id)
        .bind(&rule.name)
        .bind(rule.channel_id)
        .bind(rule.sync_id)
        .bind(rule.condition.as_str())
        .bind(rule.threshold_percent)
        .bind(rule.duration_seconds)
        .bind(timestamp(Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        rule_from_row(&row)
    }

    pub async fn get_rule(&self, workspace_id: i64, id: i64) -> Result<Option<StoredRule>, StoreError> {
        let row = query(format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE workspace_id = $1 AND id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rule_from_row).transpose()
    }

    pub async fn list_rules(
        &self,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredRule>, i64), StoreError> {
        let (rows, total) = self
            .page("alert_rules", RULE_COLUMNS, "workspace_id = $1", "id DESC", workspace_id, &[], limit, offset)
            .await?;
        Ok((rows.iter().map(rule_from_row).collect::<Result<_, _>>()?, total))
    }

    /// Deletes a rule with its deliveries; false when it is not there.
    pub async fn delete_rule(&self, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
        let deleted = query("DELETE FROM alert_rules WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted > 0)
    }

    /// The rules of a workspace that watch `sync_id` (it alone, or every sync).
    pub async fn rules_watching(&self, workspace_id: i64, sync_id: i64) -> Result<Vec<StoredRule>, StoreError> {
        let rows = query(format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE workspace_id = $1 AND (sync_id IS NULL OR sync_id = $2) \
             ORDER BY id"
        ))
        .bind(workspace_id)
        .bind(sync_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn list_deliveries(
        &self,
        workspace_id: i64,
        rule_id: Option<i64>,
        status: Option<AlertDeliveryStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredDelivery>, i64), StoreError> {
        let mut condition = "workspace_id = $1".to_owned();
        let rule_text = rule_id.map(|id| id.to_string());
        let mut texts = Vec::new();
        if let Some(rule) = rule_text.as_deref() {
            texts.push(rule);
            condition.push_str(&format!(" AND rule_id = CAST(${} AS BIGINT)", texts.len() + 1));
        }
        if let Some(status) = status {
            texts.push(status.as_str());
            condition.push_str(&format!(" AND status = ${}", texts.len() + 1));
        }
        let (rows, total) = self
            .page("alert_deliveries", DELIVERY_COLUMNS, &condition, "id DESC", workspace_id, &texts, limit, offset)
            .await?;
        Ok((rows.iter().map(delivery_from_row).collect::<Result<_, _>>()?, total))
    }

    /// Raises `deliveries` (each at most once by its dedupe key); answers how many were new.
    pub async fn raise_alerts(&self, deliveries: &[NewDelivery]) -> Result<u64, StoreError> {
        if deliveries.is_empty() {
            return Ok(0);
        }
        let mut transaction = self.pool.begin().await?;
        let raised = insert_deliveries(&mut transaction, deliveries).await?;
        transaction.commit().await?;
        Ok(raised)
    }

    /// Claims the pending delivery due first (its attempt counted), under a lease of `lease`.
    pub async fn claim_delivery(&self, lease: chrono::Duration) -> Result<Option<DeliveryClaim>, StoreError> {
        let lock = match self.engine {
            super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            super::Engine::Sqlite => "",
        };
        let now = Utc::now();
        let due =
            "status = 'pending' AND next_attempt_at <= $1 AND (lease_expires_at IS NULL OR lease_expires_at < $1)";
        let sql = format!(
            "UPDATE alert_deliveries SET attempts = attempts + 1, lease_expires_at = $2, \
             claim_generation = claim_generation + 1 WHERE {due} AND id = (SELECT id FROM alert_deliveries \
             WHERE {due} ORDER BY next_attempt_at, id LIMIT 1{lock}) RETURNING {DELIVERY_COLUMNS}, claim_generation"
        );
        let row = query(sql).bind(timestamp(now)).bind(timestamp(now + lease)).fetch_optional(&self.pool).await?;
        row.as_ref()
            .map(|row| {
                Ok(DeliveryClaim { delivery: delivery_from_row(row)?, generation: row.try_get("claim_generation")? })
            })
            .transpose()
    }

    /// Records an attempt's end, if the claim still holds; false when it was lost.
    pub async fn finish_attempt(&self, claim: &DeliveryClaim, attempt: &Attempt) -> Result<bool, StoreError> {
        let now = Utc::now();
        let (status, error, retry_at, delivered_at) = match attempt {
            Attempt::Delivered => (AlertDeliveryStatus::Delivered, None, None, Some(timestamp(now))),
            Attempt::Failed { error, retry_at: Some(at) } => {
                (AlertDeliveryStatus::Pending, Some(error.clone()), Some(timestamp(*at)), None)
            }
            Attempt::Failed { error, retry_at: None } => (AlertDeliveryStatus::Failed, Some(error.clone()), None, None),
        };
        let updated = query(
            "UPDATE alert_deliveries SET status = $1, last_error = $2, next_attempt_at = $3, delivered_at = $4, \
             lease_expires_at = NULL WHERE id = $5 AND claim_generation = $6",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(retry_at)
        .bind(delivered_at)
        .bind(claim.delivery.id)
        .bind(claim.generation)
        .execute(&self.pool)
        .await?;
        Ok(updated > 0)
    }

    /// When the next pending delivery falls due, if any is pending.
    pub async fn next_delivery_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<String> = query(
            "SELECT MIN(COALESCE(CASE WHEN lease_expires_at > next_attempt_at THEN lease_expires_at END, \
             next_attempt_at)) FROM alert_deliveries WHERE status = 'pending'",
        )
        .fetch_optional_scalar(&self.pool)
        .await?
        .flatten();
        next.as_deref().map(parse_timestamp).transpose()
    }

    /// Each `schedule_overdue` rule with each enabled sync it watches whose next run was due
    /// the rule's duration or longer before `now`, and has not started (a started run moves
    /// the sync's `next_run_at` on).
    pub async fn late_schedules(&self, now: DateTime<Utc>) -> Result<Vec<LateSchedule>, StoreError> {
        let rule_columns: String = RULE_COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let rows = query(format!(
            "SELECT {rule_columns}, s.id AS watched_sync, s.name AS sync_name, s.next_run_at FROM alert_rules r \
             JOIN syncs s ON s.workspace_id = r.workspace_id AND (r.sync_id IS NULL OR r.sync_id = s.id) \
             WHERE r.condition = 'schedule_overdue' AND s.status <> 'disabled' AND s.next_run_at IS NOT NULL \
             AND s.next_run_at <= $1 ORDER BY r.id, s.id"
        ))
        .bind(timestamp(now))
        .fetch_all(&self.pool)
        .await?;
        let mut late = Vec::new();
        for row in &rows {
            let rule = rule_from_row(row)?;
            let next_run_at = parse_timestamp(&row.try_get::<String>("next_run_at")?)?;
            let allowed = chrono::Duration::seconds(rule.duration_seconds.unwrap_or(0));
            if next_run_at + allowed <= now {
                late.push(LateSchedule {
                    sync_id: row.try_get("watched_sync")?,
                    sync_name: row.try_get("sync_name")?,
                    next_run_at,
                    rule,
                });
            }
        }
        Ok(late)
    }

    /// Each `run_longer_than` rule with each active run of a sync it watches that started
    /// longer ago than the rule's duration.
    pub async fn long_runs(&self, now: DateTime<Utc>) -> Result<Vec<LongRun>, StoreError> {
        let rule_columns: String = RULE_COLUMNS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ");
        let rows = query(format!(
            "SELECT {rule_columns}, s.id AS watched_sync, s.name AS sync_name, u.id AS run_id, u.started_at \
             FROM alert_rules r JOIN syncs s ON s.workspace_id = r.workspace_id \
             AND (r.sync_id IS NULL OR r.sync_id = s.id) JOIN sync_runs u ON u.sync_id = s.id \
             WHERE r.condition = 'run_longer_than' AND u.started_at IS NOT NULL AND u.{} ORDER BY r.id, u.id",
            super::status_in(&super::ACTIVE_RUN_STATES)
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut long = Vec::new();
        for row in &rows {
            let rule = rule_from_row(row)?;
            let started_at = parse_timestamp(&row.try_get::<String>("started_at")?)?;
            if started_at + chrono::Duration::seconds(rule.duration_seconds.unwrap_or(0)) <= now {
                long.push(LongRun {
                    sync_id: row.try_get("watched_sync")?,
                    sync_name: row.try_get("sync_name")?,
                    run_id: row.try_get("run_id")?,
                    started_at,
                    rule,
                });
            }
        }
        Ok(long)
    }

    /// A channel by id, whatever its workspace: for the process sending its deliveries.
    pub async fn channel(&self, id: i64) -> Result<Option<StoredChannel>, StoreError> {
        let row = query(format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(channel_from_row).transpose()
    }
}
