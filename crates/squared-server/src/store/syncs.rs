//! Syncs, their runs and the runs' records in the database.
//!
//! Statuses, modes, schedule types and record actions are the spec's enums: decoded here once
//! ([`super::decode`]) and written back with `as_str`, so no status travels as a string.
//!
//! A run is executed under a [`Claim`]: claiming raises the run's generation, and every write
//! of the runner (its counts, records, fingerprints, position, its end) is conditional on that
//! generation. A runner whose lease lapsed and whose run was claimed again writes nothing more:
//! its write answers [`StoreError::LostClaim`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use squared_types::{
    SyncIntervalUnit, SyncMode, SyncRecordAction, SyncRecordStatus, SyncRunStatus, SyncRunType, SyncScheduleType,
    SyncStatus,
};

use super::database::{DatabaseError, Query, Row, query};
use super::{
    ACTIVE_RUN_STATES, Store, StoreError, decode, decode_optional, json_text, parse_timestamp, status_in, timestamp,
};
use crate::sync::{RunCounts, Verdict};

/// A run's count columns, in the order [`BindCounts::bind_counts`] binds them.
const COUNT_COLUMNS: [&str; 8] = [
    "total_query_rows",
    "skipped_rows",
    "total_rows",
    "successful_rows",
    "failed_rows",
    "inserted_rows",
    "updated_rows",
    "deleted_rows",
];

/// `total_query_rows = $first, skipped_rows = $first+1, …`: the assignments of a run's counts,
/// bound from parameter `$first` on.
fn set_counts(first: usize) -> String {
    let set: Vec<String> =
        COUNT_COLUMNS.iter().enumerate().map(|(i, column)| format!("{column} = ${}", first + i)).collect();
    set.join(", ")
}

/// Binds a run's counts, in the order of [`COUNT_COLUMNS`].
trait BindCounts {
    fn bind_counts(self, counts: &RunCounts) -> Self;
}

impl BindCounts for Query {
    fn bind_counts(self, counts: &RunCounts) -> Query {
        self.bind(counts.total_query_rows)
            .bind(counts.skipped_rows)
            .bind(counts.total_rows)
            .bind(counts.successful_rows)
            .bind(counts.failed_rows)
            .bind(counts.inserted_rows)
            .bind(counts.updated_rows)
            .bind(counts.deleted_rows)
    }
}

/// A sync as given to the store (checked by the service first).
#[derive(Clone, Debug)]
pub struct NewSync {
    pub workspace_id: i64,
    pub name: Option<String>,
    pub source_id: i64,
    pub model_id: i64,
    pub destination_id: i64,
    pub schedule_type: SyncScheduleType,
    pub sync_interval: Option<i64>,
    pub sync_interval_unit: Option<SyncIntervalUnit>,
    pub cron_expression: Option<String>,
    pub sync_mode: SyncMode,
    pub cursor_field: Option<String>,
    pub stream_name: String,
    pub configuration: Value,
    pub status: SyncStatus,
    /// When the schedule runs the sync next; `None` for a manual sync.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Whether a full refresh deletes at the destination the rows that left the model.
    pub delete_removed_rows: bool,
}

/// A sync as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSync {
    pub id: i64,
    pub workspace_id: i64,
    pub name: Option<String>,
    pub source_id: i64,
    pub model_id: i64,
    pub destination_id: i64,
    pub schedule_type: SyncScheduleType,
    pub sync_interval: Option<i64>,
    pub sync_interval_unit: Option<SyncIntervalUnit>,
    pub cron_expression: Option<String>,
    pub sync_mode: SyncMode,
    pub cursor_field: Option<String>,
    pub stream_name: String,
    pub configuration: Value,
    pub status: SyncStatus,
    pub next_run_at: Option<DateTime<Utc>>,
    pub delete_removed_rows: bool,
    /// Where an incremental sync's reads stand (the engine's JSON); `None` before its first row.
    pub cursor_position: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRun {
    pub id: i64,
    pub workspace_id: i64,
    pub sync_id: i64,
    pub status: SyncRunStatus,
    pub run_type: SyncRunType,
    /// The process that executes the run, or last executed it; `None` while pending.
    pub executed_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total_query_rows: i64,
    pub skipped_rows: i64,
    pub total_rows: i64,
    pub successful_rows: i64,
    pub failed_rows: i64,
    pub inserted_rows: i64,
    pub updated_rows: i64,
    pub deleted_rows: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredRun {
    pub fn counts(&self) -> RunCounts {
        RunCounts {
            total_query_rows: self.total_query_rows,
            skipped_rows: self.skipped_rows,
            total_rows: self.total_rows,
            successful_rows: self.successful_rows,
            failed_rows: self.failed_rows,
            inserted_rows: self.inserted_rows,
            updated_rows: self.updated_rows,
            deleted_rows: self.deleted_rows,
        }
    }
}

/// A run held by this runner: the run as claimed and the generation of the claim, which every
/// write of the run names.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub run: StoredRun,
    pub generation: i64,
    /// The process that held the run before this claim (a run taken over), if any.
    pub previous_runner: Option<String>,
}

/// How a claimed run stands, as its runner sees it before writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// Still this runner's, to go on with.
    Held,
    /// Still this runner's, but canceled: it writes nothing more than the batch in hand.
    Canceled,
    /// Taken over by another runner, or gone: this runner stops without writing.
    Lost,
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    pub id: i64,
    pub sync_id: i64,
    pub sync_run_id: i64,
    pub primary_key: String,
    pub record: Value,
    pub status: SyncRecordStatus,
    pub action: SyncRecordAction,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What one batch of a run leaves behind, kept in one transaction.
#[derive(Debug, Default)]
pub struct KeptBatch<'a> {
    pub records: &'a [NewRecord],
    /// (key, fingerprint) of every row written.
    pub written: &'a [(String, i64)],
    /// Keys of rows that left the model.
    pub forgotten: &'a [String],
    /// Where an incremental sync's reads stand after this batch.
    pub position: Option<&'a Value>,
}

impl KeptBatch<'_> {
    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.written.is_empty() && self.forgotten.is_empty() && self.position.is_none()
    }
}

/// A record a run writes.
#[derive(Clone, Debug)]
pub struct NewRecord {
    pub primary_key: String,
    /// The record as written, JSON object text (every value exactly as read).
    pub record: String,
    pub status: SyncRecordStatus,
    pub action: SyncRecordAction,
    pub error: Option<String>,
}

/// Which runs' records a list shows.
#[derive(Clone, Copy, Debug)]
pub enum RunScope {
    /// One run's.
    Only(i64),
    /// Those of every run of the sync up to this one (a row's history as of that run).
    UpTo(i64),
}

/// Which records of a sync a list shows: of which runs, and of one row (by its primary key),
/// one status and one action, when given.
#[derive(Clone, Debug)]
pub struct RecordFilter {
    pub run: RunScope,
    pub primary_key: Option<String>,
    pub status: Option<SyncRecordStatus>,
    pub action: Option<SyncRecordAction>,
}

macro_rules! sync_columns {
    () => {
        "id, workspace_id, name, source_id, model_id, destination_id, schedule_type, sync_interval, \
         sync_interval_unit, cron_expression, sync_mode, cursor_field, stream_name, configuration, status, \
         next_run_at, delete_removed_rows, cursor_position, created_at, updated_at"
    };
}

macro_rules! run_columns {
    () => {
        "id, workspace_id, sync_id, status, run_type, runner, started_at, finished_at, total_query_rows, skipped_rows, \
         total_rows, successful_rows, failed_rows, inserted_rows, updated_rows, deleted_rows, error, created_at, \
         updated_at"
    };
}

/// What an active run's unique index, or a vanished row, turns into.
fn refused_or_database(error: DatabaseError) -> StoreError {
    match &error {
        error if error.is_unique_violation() => StoreError::Duplicate,
        error if error.is_foreign_key_violation() => StoreError::Missing,
        _ => StoreError::Database(error),
    }
}

impl Store {
    pub async fn insert_sync(&self, new: &NewSync) -> Result<StoredSync, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "INSERT INTO syncs (workspace_id, name, source_id, model_id, destination_id, schedule_type, sync_interval, \
             sync_interval_unit, cron_expression, sync_mode, cursor_field, stream_name, configuration, status, \
             next_run_at, delete_removed_rows, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $17, $15, $15) RETURNING ",
            sync_columns!()
        ))
        .bind(new.workspace_id)
        .bind(&new.name)
        .bind(new.source_id)
        .bind(new.model_id)
        .bind(new.destination_id)
        .bind(new.schedule_type.as_str())
        .bind(new.sync_interval)
        .bind(new.sync_interval_unit.map(SyncIntervalUnit::as_str))
        .bind(&new.cron_expression)
        .bind(new.sync_mode.as_str())
        .bind(&new.cursor_field)
        .bind(&new.stream_name)
        .bind(json_text(&new.configuration))
        .bind(new.status.as_str())
        .bind(&now)
        .bind(new.next_run_at.map(timestamp))
        .bind(i64::from(new.delete_removed_rows))
        .fetch_one(&self.pool)
        .await
        .map_err(refused_or_database)?;
        sync_from_row(&row)
    }

    pub async fn get_sync(&self, workspace_id: i64, id: i64) -> Result<Option<StoredSync>, StoreError> {
        let row = query(concat!("SELECT ", sync_columns!(), " FROM syncs WHERE workspace_id = $1 AND id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sync_from_row).transpose()
    }

    /// One page of a workspace's syncs, newest `updated_at` first, and how many in all.
    pub async fn list_syncs(
        &self,
        workspace_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredSync>, i64), StoreError> {
        let (rows, total) = self
            .page(
                "syncs",
                sync_columns!(),
                "workspace_id = $1",
                "updated_at DESC, id DESC",
                workspace_id,
                &[],
                limit,
                offset,
            )
            .await?;
        Ok((rows.iter().map(sync_from_row).collect::<Result<_, _>>()?, total))
    }

    /// Changes a sync; `reset_cursor` makes its next incremental run read from the start.
    pub async fn update_sync(
        &self,
        workspace_id: i64,
        id: i64,
        changed: &NewSync,
        reset_cursor: bool,
    ) -> Result<Option<StoredSync>, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "UPDATE syncs SET name = $1, source_id = $2, model_id = $3, destination_id = $4, schedule_type = $5, \
             sync_interval = $6, sync_interval_unit = $7, cron_expression = $8, sync_mode = $9, cursor_field = $10, \
             stream_name = $11, configuration = $12, status = $13, updated_at = $14, next_run_at = $17, \
             delete_removed_rows = $18, cursor_position = CASE WHEN $19 = 1 THEN NULL ELSE cursor_position END \
             WHERE workspace_id = $15 AND id = $16 RETURNING ",
            sync_columns!()
        ))
        .bind(&changed.name)
        .bind(changed.source_id)
        .bind(changed.model_id)
        .bind(changed.destination_id)
        .bind(changed.schedule_type.as_str())
        .bind(changed.sync_interval)
        .bind(changed.sync_interval_unit.map(SyncIntervalUnit::as_str))
        .bind(&changed.cron_expression)
        .bind(changed.sync_mode.as_str())
        .bind(&changed.cursor_field)
        .bind(&changed.stream_name)
        .bind(json_text(&changed.configuration))
        .bind(changed.status.as_str())
        .bind(&now)
        .bind(workspace_id)
        .bind(id)
        .bind(changed.next_run_at.map(timestamp))
        .bind(i64::from(changed.delete_removed_rows))
        .bind(i64::from(reset_cursor))
        .fetch_optional(&self.pool)
        .await
        .map_err(refused_or_database)?;
        row.as_ref().map(sync_from_row).transpose()
    }

    /// Sets the status of sync `id` of a workspace; `None` when it is not there.
    pub async fn set_sync_status(
        &self,
        workspace_id: i64,
        id: i64,
        status: SyncStatus,
    ) -> Result<Option<StoredSync>, StoreError> {
        let row = query(concat!(
            "UPDATE syncs SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4 RETURNING ",
            sync_columns!()
        ))
        .bind(status.as_str())
        .bind(timestamp(Utc::now()))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sync_from_row).transpose()
    }

    /// Deletes sync `id` of a workspace with its runs and records; false when it is not there.
    pub async fn delete_sync(&self, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // Records name their run, which cascades; deleting them first keeps the cascade short.
        query(
            "DELETE FROM sync_records WHERE sync_id = $1 AND sync_id IN (SELECT id FROM syncs WHERE workspace_id = $2)",
        )
        .bind(id)
        .bind(workspace_id)
        .execute(&mut transaction)
        .await?;
        let done = query("DELETE FROM syncs WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut transaction)
            .await?;
        transaction.commit().await?;
        Ok(done == 1)
    }

    /// The syncs (id and name) that use connector `id` as source or destination, or model
    /// `id`, by id.
    pub async fn syncs_using(
        &self,
        connector_id: Option<i64>,
        model_id: Option<i64>,
    ) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let rows = query(
            "SELECT id, name FROM syncs WHERE source_id = $1 OR destination_id = $1 OR model_id = $2 ORDER BY id",
        )
        .bind(connector_id.unwrap_or(-1))
        .bind(model_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
    }

    /// Creates a pending run of a sync. While another run of the sync is active, the unique
    /// index refuses it: [`StoreError::Duplicate`].
    pub async fn insert_run(
        &self,
        workspace_id: i64,
        sync_id: i64,
        run_type: SyncRunType,
    ) -> Result<StoredRun, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "INSERT INTO sync_runs (workspace_id, sync_id, status, run_type, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $4, $3, $3) RETURNING ",
            run_columns!()
        ))
        .bind(workspace_id)
        .bind(sync_id)
        .bind(&now)
        .bind(run_type.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(refused_or_database)?;
        run_from_row(&row)
    }

    /// Marks the active run of a sync canceled; `None` when none is active.
    pub async fn cancel_active_run(&self, sync_id: i64, reason: &str) -> Result<Option<StoredRun>, StoreError> {
        let now = timestamp(Utc::now());
        // Built from constant text only: no value is spliced in.
        let sql = format!(
            "UPDATE sync_runs SET status = 'canceled', finished_at = $1, updated_at = $1, error = $2 \
             WHERE sync_id = $3 AND {} RETURNING {}",
            status_in(&ACTIVE_RUN_STATES),
            run_columns!()
        );
        let row = query(sql).bind(&now).bind(reason).bind(sync_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Whether a run of the sync is active.
    pub async fn has_active_run(&self, sync_id: i64) -> Result<bool, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM sync_runs WHERE sync_id = $1 AND {}", status_in(&ACTIVE_RUN_STATES));
        let count: i64 = query(sql).bind(sync_id).fetch_scalar(&self.pool).await?;
        Ok(count > 0)
    }

    /// A sync's latest general run that has ended, if any: what `last_run_status` shows (a test
    /// or dry run says nothing of whether the sync delivers).
    pub async fn last_ended_run(&self, sync_id: i64) -> Result<Option<StoredRun>, StoreError> {
        let sql = format!(
            "SELECT {} FROM sync_runs WHERE sync_id = $1 AND run_type = 'general' AND NOT {} ORDER BY id DESC LIMIT 1",
            run_columns!(),
            status_in(&ACTIVE_RUN_STATES)
        );
        let row = query(sql).bind(sync_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Enabled syncs whose next run is due at `now`, the most overdue first.
    pub async fn due_syncs(&self, now: DateTime<Utc>) -> Result<Vec<StoredSync>, StoreError> {
        let rows = query(concat!(
            "SELECT ",
            sync_columns!(),
            " FROM syncs WHERE next_run_at IS NOT NULL AND next_run_at <= $1 AND status <> 'disabled' \
             ORDER BY next_run_at LIMIT 100"
        ))
        .bind(timestamp(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sync_from_row).collect()
    }

    /// Moves a sync's next run from `from` to `to`; false when another instance moved it first.
    pub async fn advance_schedule(
        &self,
        id: i64,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let done = query("UPDATE syncs SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
            .bind(to.map(timestamp))
            .bind(id)
            .bind(timestamp(from))
            .execute(&self.pool)
            .await?;
        Ok(done == 1)
    }

    /// Claims the oldest run that is pending, or executing under an expired lease (its runner
    /// died or stalled): it becomes `started` under a lease of `lease` from now, its generation
    /// one higher than any claim before, and `runner` (the process) is recorded. On PostgreSQL,
    /// `FOR UPDATE SKIP LOCKED` lets several instances claim different runs at once; SQLite has
    /// one writer, and the repeated condition does the same.
    pub async fn claim_run(&self, lease: chrono::Duration, runner: &str) -> Result<Option<Claim>, StoreError> {
        let lock = match self.engine {
            super::Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            super::Engine::Sqlite => "",
        };
        let now = Utc::now();
        let claimable = "(status = 'pending' OR (status IN ('started', 'querying', 'in_progress') \
                         AND lease_expires_at IS NOT NULL AND lease_expires_at < $1))";
        let sql = format!(
            "UPDATE sync_runs SET status = 'started', started_at = COALESCE(started_at, $1), lease_expires_at = $2, \
             updated_at = $1, claim_generation = claim_generation + 1, previous_runner = runner, runner = $3 \
             WHERE {claimable} AND id = (SELECT id FROM sync_runs WHERE {claimable} ORDER BY id LIMIT 1{lock}) \
             RETURNING {}, claim_generation, previous_runner",
            run_columns!()
        );
        let row = query(sql)
            .bind(timestamp(now))
            .bind(timestamp(now + lease))
            .bind(runner)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|row| {
                Ok(Claim {
                    run: run_from_row(row)?,
                    generation: row.try_get("claim_generation")?,
                    previous_runner: row.try_get("previous_runner")?,
                })
            })
            .transpose()
    }

    /// Renews the lease of a claimed run for `lease` from now, if the claim still holds, and
    /// answers how the run stands. The heartbeat of a runner calls this while a batch is in
    /// flight, and every runner before it writes a batch.
    pub async fn renew_claim(&self, claim: &Claim, lease: chrono::Duration) -> Result<ClaimState, StoreError> {
        let now = Utc::now();
        let status: Option<String> = query(
            "UPDATE sync_runs SET lease_expires_at = $1 WHERE id = $2 AND claim_generation = $3 \
             AND lease_expires_at IS NOT NULL RETURNING status",
        )
        .bind(timestamp(now + lease))
        .bind(claim.run.id)
        .bind(claim.generation)
        .fetch_optional_scalar(&self.pool)
        .await?;
        Ok(match status.as_deref() {
            None => ClaimState::Lost,
            Some(status) if status == SyncRunStatus::Canceled.as_str() => ClaimState::Canceled,
            Some(_) => ClaimState::Held,
        })
    }

    /// Gives a claimed run back without ending it: its lease lapses now, so that any runner
    /// claims it at once and resumes it from its last committed batch. Nothing is written when
    /// the claim was lost.
    pub async fn release_claim(&self, claim: &Claim) -> Result<(), StoreError> {
        let now = timestamp(Utc::now());
        query(
            "UPDATE sync_runs SET lease_expires_at = $1, updated_at = $1 WHERE id = $2 AND claim_generation = $3 \
             AND lease_expires_at IS NOT NULL",
        )
        .bind(&now)
        .bind(claim.run.id)
        .bind(claim.generation)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records how a claimed run ended, with its counts, and gives its claim back (the lease
    /// cleared). A run canceled meanwhile stays `canceled`. A general run's sync takes
    /// `end.sync_status` (unless it was disabled meanwhile) in the same transaction, so that no
    /// one sees the one without the other, and so are the alerts the end raises (`alerts`, each
    /// at most once by its dedupe key): an end is never recorded without its alerts, nor an
    /// alert raised for an end that was not recorded. Answers how many alerts were new.
    /// Nothing is written when the claim was lost.
    pub async fn finish_run(
        &self,
        claim: &Claim,
        counts: RunCounts,
        end: &Verdict,
        alerts: &[super::NewDelivery],
    ) -> Result<u64, StoreError> {
        let now = timestamp(Utc::now());
        let mut transaction = self.pool.begin().await?;
        let sql = format!(
            "UPDATE sync_runs SET status = CASE WHEN status = 'canceled' THEN status ELSE $1 END, {}, \
             error = COALESCE(error, $10), finished_at = COALESCE(finished_at, $11), updated_at = $11, \
             lease_expires_at = NULL WHERE id = $12 AND claim_generation = $13 AND lease_expires_at IS NOT NULL \
             RETURNING status",
            set_counts(2)
        );
        let updated: Option<String> = query(sql)
            .bind(end.status.as_str())
            .bind_counts(&counts)
            .bind(end.error.as_deref())
            .bind(&now)
            .bind(claim.run.id)
            .bind(claim.generation)
            .fetch_optional_scalar(&mut transaction)
            .await?;
        if updated.is_none() {
            return Err(StoreError::LostClaim(claim.run.id));
        }
        if claim.run.run_type == SyncRunType::General {
            query("UPDATE syncs SET status = $1 WHERE id = $2 AND status <> 'disabled'")
                .bind(end.sync_status.as_str())
                .bind(claim.run.sync_id)
                .execute(&mut transaction)
                .await?;
        }
        let raised = super::alerts::insert_deliveries(&mut transaction, alerts).await?;
        transaction.commit().await?;
        Ok(raised)
    }

    /// The fingerprints a sync keeps for `keys`, by key.
    pub async fn fingerprints(
        &self,
        sync_id: i64,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        // Built from constant text only; the keys travel as one JSON parameter.
        let sql = format!(
            "SELECT primary_key, fingerprint FROM sync_fingerprints WHERE sync_id = $1 AND primary_key IN ({})",
            self.engine.json_texts(2)
        );
        let rows = query(sql)
            .bind(sync_id)
            .bind(serde_json::to_string(keys).expect("keys serialize"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("primary_key")?, row.try_get("fingerprint")?))).collect()
    }

    /// Keeps a batch's outcome in one transaction, if the claim still holds: the run's counts
    /// (and `in_progress`, unless canceled meanwhile), its records, the fingerprints of the rows
    /// it wrote, the keys it found gone (their fingerprints are forgotten), and, for an
    /// incremental sync, where its reads stand. Each kind is one statement over the whole batch,
    /// bound as one JSON parameter. Answers how the run stands; a lost claim writes nothing
    /// ([`StoreError::LostClaim`]).
    pub async fn keep_batch(
        &self,
        claim: &Claim,
        batch: &KeptBatch<'_>,
        counts: RunCounts,
    ) -> Result<ClaimState, StoreError> {
        let (sync_id, run_id) = (claim.run.sync_id, claim.run.id);
        let now = timestamp(Utc::now());
        let mut transaction = self.pool.begin().await?;
        // The fence first: a runner that lost its claim writes nothing of the batch.
        let sql = format!(
            "UPDATE sync_runs SET status = CASE WHEN status = 'canceled' THEN status ELSE 'in_progress' END, {}, \
             updated_at = $9 WHERE id = $10 AND claim_generation = $11 AND lease_expires_at IS NOT NULL RETURNING status",
            set_counts(1)
        );
        let status: Option<String> = query(sql)
            .bind_counts(&counts)
            .bind(&now)
            .bind(run_id)
            .bind(claim.generation)
            .fetch_optional_scalar(&mut transaction)
            .await?;
        let Some(status) = status else {
            return Err(StoreError::LostClaim(run_id));
        };
        if !batch.is_empty() {
            self.keep_batch_rows(&mut transaction, sync_id, run_id, batch, &now).await?;
        }
        transaction.commit().await?;
        Ok(if status == SyncRunStatus::Canceled.as_str() { ClaimState::Canceled } else { ClaimState::Held })
    }

    async fn keep_batch_rows(
        &self,
        transaction: &mut super::database::Transaction<'_>,
        sync_id: i64,
        run_id: i64,
        batch: &KeptBatch<'_>,
        now: &str,
    ) -> Result<(), StoreError> {
        if !batch.records.is_empty() {
            let (members, from) = self.engine.json_rows(4, &["text"; 5]);
            let sql = format!(
                "INSERT INTO sync_records (sync_id, sync_run_id, created_at, updated_at, primary_key, record, status, \
                 action, error) SELECT $1, $2, $3, $3, {members} FROM {from}"
            );
            let rows: Vec<(&str, &str, &str, &str, Option<&str>)> = batch
                .records
                .iter()
                .map(|r| {
                    (
                        r.primary_key.as_str(),
                        r.record.as_str(),
                        r.status.as_str(),
                        r.action.as_str(),
                        r.error.as_deref(),
                    )
                })
                .collect();
            query(sql)
                .bind(sync_id)
                .bind(run_id)
                .bind(now)
                .bind(serde_json::to_string(&rows).expect("records serialize"))
                .execute(&mut *transaction)
                .await?;
        }
        if !batch.written.is_empty() {
            let (members, from) = self.engine.json_rows(2, &["text", "bigint"]);
            // `WHERE true` keeps SQLite from reading ON CONFLICT as a join's ON.
            let sql = format!(
                "INSERT INTO sync_fingerprints (sync_id, primary_key, fingerprint) SELECT $1, {members} FROM {from} \
                 WHERE true ON CONFLICT (sync_id, primary_key) DO UPDATE SET fingerprint = excluded.fingerprint"
            );
            query(sql)
                .bind(sync_id)
                .bind(serde_json::to_string(batch.written).expect("fingerprints serialize"))
                .execute(&mut *transaction)
                .await?;
        }
        if !batch.forgotten.is_empty() {
            let sql = format!(
                "DELETE FROM sync_fingerprints WHERE sync_id = $1 AND primary_key IN ({})",
                self.engine.json_texts(2)
            );
            query(sql)
                .bind(sync_id)
                .bind(serde_json::to_string(batch.forgotten).expect("keys serialize"))
                .execute(&mut *transaction)
                .await?;
        }
        if let Some(position) = batch.position {
            query("UPDATE syncs SET cursor_position = $1 WHERE id = $2")
                .bind(json_text(position))
                .bind(sync_id)
                .execute(&mut *transaction)
                .await?;
        }
        Ok(())
    }

    /// Up to `limit` keys the sync keeps fingerprints of, in order, after `after`. Two
    /// statements rather than `$2 IS NULL OR primary_key > $2`, which would keep SQLite from
    /// seeking the index to `after` and make paging through a sync's keys quadratic.
    pub async fn kept_keys(&self, sync_id: i64, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let keys = match after {
            None => query("SELECT primary_key FROM sync_fingerprints WHERE sync_id = $1 ORDER BY primary_key LIMIT $2")
                .bind(sync_id)
                .bind(limit),
            Some(after) => query(
                "SELECT primary_key FROM sync_fingerprints WHERE sync_id = $1 AND primary_key > $3 \
                 ORDER BY primary_key LIMIT $2",
            )
            .bind(sync_id)
            .bind(limit)
            .bind(after),
        };
        Ok(keys.fetch_all_scalars(&self.pool).await?)
    }

    /// Deletes the records of a sync's runs but its latest `keep_runs`.
    pub async fn prune_records(&self, sync_id: i64, keep_runs: i64) -> Result<u64, StoreError> {
        let deleted = query(
            "DELETE FROM sync_records WHERE sync_run_id IN (SELECT id FROM sync_runs WHERE sync_id = $1 \
             AND id NOT IN (SELECT id FROM sync_runs WHERE sync_id = $1 ORDER BY id DESC LIMIT $2))",
        )
        .bind(sync_id)
        .bind(keep_runs)
        .execute(&self.pool)
        .await?;
        Ok(deleted)
    }

    /// One page of a sync's runs (of one status, when given), newest first, and how many.
    pub async fn list_runs(
        &self,
        sync_id: i64,
        status: Option<SyncRunStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredRun>, i64), StoreError> {
        let condition = if status.is_some() { "sync_id = $1 AND status = $2" } else { "sync_id = $1" };
        let texts: Vec<&str> = status.map(SyncRunStatus::as_str).into_iter().collect();
        let (rows, total) =
            self.page("sync_runs", run_columns!(), condition, "id DESC", sync_id, &texts, limit, offset).await?;
        Ok((rows.iter().map(run_from_row).collect::<Result<_, _>>()?, total))
    }

    pub async fn get_run(&self, sync_id: i64, id: i64) -> Result<Option<StoredRun>, StoreError> {
        let row = query(concat!("SELECT ", run_columns!(), " FROM sync_runs WHERE sync_id = $1 AND id = $2"))
            .bind(sync_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// One page of a sync's records that `filter` selects, oldest first, and how many.
    pub async fn list_records(
        &self,
        sync_id: i64,
        filter: &RecordFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredRecord>, i64), StoreError> {
        let (condition, texts) = filter.condition();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (rows, total) =
            self.page("sync_records", RECORD_COLUMNS, &condition, "id", sync_id, &texts, limit, offset).await?;
        let records = rows.iter().map(record_from_row).collect::<Result<_, StoreError>>()?;
        Ok((records, total))
    }

    /// Up to `limit` records of a sync that `filter` selects, whose ids come after `after`, by
    /// id: a walk through any number of records one bounded batch at a time (an export).
    pub async fn records_after(
        &self,
        sync_id: i64,
        filter: &RecordFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let (mut condition, mut texts) = filter.condition();
        texts.push(after.to_string());
        condition.push_str(&format!(" AND id > CAST(${} AS BIGINT)", texts.len() + 1));
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM sync_records WHERE {condition} ORDER BY id LIMIT (${} + 0)",
            texts.len() + 2
        );
        let mut batch = query(sql).bind(sync_id);
        for text in &texts {
            batch = batch.bind(text.as_str());
        }
        let rows = batch.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(record_from_row).collect()
    }
}

const RECORD_COLUMNS: &str =
    "id, sync_id, sync_run_id, primary_key, record, status, action, error, created_at, updated_at";

impl RecordFilter {
    /// The filter as a condition over `sync_records` (constant text only) and the texts it
    /// binds, numbered after `$1` (the sync).
    fn condition(&self) -> (String, Vec<String>) {
        let (run_condition, run) = match self.run {
            RunScope::Only(id) => ("sync_run_id = CAST(", id.to_string()),
            RunScope::UpTo(id) => ("sync_run_id <= CAST(", id.to_string()),
        };
        let mut condition = "sync_id = $1".to_owned();
        let wanted = [
            (run_condition, Some(run.as_str()), " AS BIGINT)"),
            ("primary_key = ", self.primary_key.as_deref(), ""),
            ("status = ", self.status.map(SyncRecordStatus::as_str), ""),
            ("action = ", self.action.map(SyncRecordAction::as_str), ""),
        ];
        let mut texts = Vec::new();
        for (column, value, close) in wanted {
            if let Some(value) = value {
                texts.push(value.to_owned());
                condition.push_str(&format!(" AND {column}${}{close}", texts.len() + 1));
            }
        }
        (condition, texts)
    }
}

fn record_from_row(row: &Row) -> Result<StoredRecord, StoreError> {
    let record: String = row.try_get("record")?;
    Ok(StoredRecord {
        id: row.try_get("id")?,
        sync_id: row.try_get("sync_id")?,
        sync_run_id: row.try_get("sync_run_id")?,
        primary_key: row.try_get("primary_key")?,
        record: serde_json::from_str(&record).map_err(|e| StoreError::Corrupt(format!("record: {e}")))?,
        status: decode(row, "status")?,
        action: decode(row, "action")?,
        error: row.try_get("error")?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
    })
}

fn optional_timestamp(row: &Row, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    row.try_get::<Option<String>>(column)?.as_deref().map(parse_timestamp).transpose()
}

fn sync_from_row(row: &Row) -> Result<StoredSync, StoreError> {
    let configuration: String = row.try_get("configuration")?;
    Ok(StoredSync {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        source_id: row.try_get("source_id")?,
        model_id: row.try_get("model_id")?,
        destination_id: row.try_get("destination_id")?,
        schedule_type: decode(row, "schedule_type")?,
        sync_interval: row.try_get("sync_interval")?,
        sync_interval_unit: decode_optional(row, "sync_interval_unit")?,
        cron_expression: row.try_get("cron_expression")?,
        sync_mode: decode(row, "sync_mode")?,
        cursor_field: row.try_get("cursor_field")?,
        stream_name: row.try_get("stream_name")?,
        configuration: serde_json::from_str(&configuration)
            .map_err(|e| StoreError::Corrupt(format!("sync configuration: {e}")))?,
        status: decode(row, "status")?,
        next_run_at: optional_timestamp(row, "next_run_at")?,
        delete_removed_rows: row.try_get::<i64>("delete_removed_rows")? != 0,
        cursor_position: row
            .try_get::<Option<String>>("cursor_position")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("sync cursor position: {e}")))?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
    })
}

fn run_from_row(row: &Row) -> Result<StoredRun, StoreError> {
    Ok(StoredRun {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        sync_id: row.try_get("sync_id")?,
        status: decode(row, "status")?,
        run_type: decode(row, "run_type")?,
        executed_by: row.try_get("runner")?,
        started_at: optional_timestamp(row, "started_at")?,
        finished_at: optional_timestamp(row, "finished_at")?,
        total_query_rows: row.try_get("total_query_rows")?,
        skipped_rows: row.try_get("skipped_rows")?,
        total_rows: row.try_get("total_rows")?,
        successful_rows: row.try_get("successful_rows")?,
        failed_rows: row.try_get("failed_rows")?,
        inserted_rows: row.try_get("inserted_rows")?,
        updated_rows: row.try_get("updated_rows")?,
        deleted_rows: row.try_get("deleted_rows")?,
        error: row.try_get("error")?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
    })
}
