//! The sync engine: executes sync runs, moving a model's rows into a destination.
//!
//! Runs are jobs in the server's database, never only in memory: a runner inside
//! `squared-server serve` claims the oldest pending run ([`Store::claim_pending_run`]: `FOR
//! UPDATE SKIP LOCKED` on PostgreSQL, so that instances share the work and each run executes
//! once), and executes it:
//! - **read**: the model's query through a server-side cursor, in batches, read-only;
//! - **compare**: each row is mapped, and a fingerprint of the mapped record per (sync,
//!   primary key) decides insert, update or skip, so an unchanged row is never written again;
//! - **write**: an upsert by the destination's primary key, one statement per batch, and one
//!   per record when the destination refuses the batch, so a refused record fails alone;
//! - **keep**: every written or failed row as a sync record, with the fingerprints of what was
//!   written, in one transaction per batch; the run's counts after every batch.
//!
//! A run canceled meanwhile stops after its current batch, keeping what it wrote. A claimed run
//! is held under a lease its runner renews after every batch; when an instance dies, its runs'
//! leases expire and any runner takes them over, starting again from the model's first row: the
//! fingerprints of the batches committed before make it skip what was already written (a batch
//! cut off before its commit is written again, as an idempotent upsert or under the same
//! idempotency key).
//!
//! Interval and cron syncs ([`schedule`]) get a pending run when their `next_run_at` is due;
//! after a run a sync is `healthy` or `failed`.
//!
//! This is the first slice of the engine: PostgreSQL and MariaDB sources into PostgreSQL and
//! Http destinations, full refresh, manual and scheduled runs. Incremental reads, the MariaDB
//! destination and the `worker` command come next.
//!
//! Every connection goes through the runtimes, and so through the egress policy.

pub mod mapping;
pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use squared_types::SyncMapping;

use crate::service::Service;
use crate::store::{NewRecord, RunCounts, StoredRun, timestamp};

/// How many rows a run reads, compares and writes at a time.
pub const BATCH_ROWS: usize = 1000;
/// How long the runner waits before looking for pending runs again when there was none.
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);
/// How long a claimed run is its runner's without a word: the runner renews the lease after
/// every batch; a run whose lease expired is taken over by any runner.
pub fn lease() -> chrono::Duration {
    chrono::Duration::minutes(2)
}

/// Starts the runner: it claims and executes pending runs, one at a time, until aborted.
pub fn spawn(service: Arc<Service>, log: slog::Logger) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = schedule_due_runs(&service).await {
                slog::error!(log, "scheduling sync runs failed"; "cause" => error);
            }
            match service.store().claim_run(lease()).await {
                Ok(Some(run)) => execute(&service, run, &log).await,
                Ok(None) => tokio::time::sleep(POLL_INTERVAL).await,
                Err(error) => {
                    slog::error!(log, "claiming a sync run failed"; "cause" => error.to_string());
                    tokio::time::sleep(POLL_INTERVAL * 10).await;
                }
            }
        }
    })
}

/// Creates a pending run of every scheduled sync that is due, and moves its next run on.
/// Moving it is a conditional update, so that of several instances one creates the run; a
/// sync whose previous run is still active gets none this time (its schedule moves on).
async fn schedule_due_runs(service: &Service) -> Result<(), String> {
    let store = service.store();
    let now = chrono::Utc::now();
    for sync in store.due_syncs(now).await.map_err(|e| e.to_string())? {
        let Some(due) = sync.next_run_at else { continue };
        let next = schedule::next_run(
            &sync.schedule_type,
            sync.sync_interval,
            sync.sync_interval_unit.as_deref(),
            sync.cron_expression.as_deref(),
            now,
        );
        if store.advance_schedule(sync.id, due, next).await.map_err(|e| e.to_string())? {
            match store.insert_run(sync.workspace_id, sync.id).await {
                Ok(_) | Err(crate::store::StoreError::Duplicate) => {}
                Err(error) => return Err(error.to_string()),
            }
        }
    }
    Ok(())
}

/// Executes one claimed run to its end, and records how it ended.
async fn execute(service: &Service, run: StoredRun, log: &slog::Logger) {
    let mut counts = RunCounts::default();
    let outcome = move_rows(service, &run, &mut counts).await;
    let (status, error) = match &outcome {
        Ok(()) => ("success", None),
        Err(error) => ("failed", Some(error.as_str())),
    };
    slog::info!(log, "sync run ended"; "run" => run.id, "sync" => run.sync_id, "status" => status,
        "written" => counts.successful_rows, "failed" => counts.failed_rows, "skipped" => counts.skipped_rows);
    let sync_status = if outcome.is_ok() { "healthy" } else { "failed" };
    if let Err(e) = service.store().update_run(&run, status, counts, error, Some(sync_status), lease()).await {
        slog::error!(log, "recording the end of a sync run failed"; "run" => run.id, "cause" => e.to_string());
    }
}

/// A failure of a run, in words for its `error`.
fn failed(what: &str) -> impl Fn(String) -> String + '_ {
    move |cause| format!("{what}: {cause}")
}

async fn move_rows(service: &Service, run: &StoredRun, counts: &mut RunCounts) -> Result<(), String> {
    let store = service.store();
    let workspace = run.workspace_id;
    let gone = |what: &str| format!("the sync's {what} no longer exists");
    let sync = store.get_sync(workspace, run.sync_id).await.map_err(|e| e.to_string())?.ok_or_else(|| gone("row"))?;
    let model =
        store.get_model(workspace, sync.model_id).await.map_err(|e| e.to_string())?.ok_or_else(|| gone("model"))?;
    let connector = |id| async move {
        store.get_connector(workspace, id).await.map_err(|e| e.to_string())?.ok_or_else(|| gone("connector"))
    };
    let (source, destination) = (connector(sync.source_id).await?, connector(sync.destination_id).await?);
    let mapping: SyncMapping =
        serde_json::from_value(sync.configuration.clone()).map_err(|e| format!("the sync's mapping: {e}"))?;
    let key_column = model.primary_key.clone().ok_or("the model has no primary key")?;
    let query = model.query.clone().ok_or("the model has no query")?;
    let source_configuration = service.open_connector(&source).map_err(|e| e.to_string())?;
    let destination_configuration = service.open_connector(&destination).map_err(|e| e.to_string())?;
    let primary_key = service.stream_primary_key(&destination, &sync.stream_name).await.map_err(|e| e.to_string())?;

    let runtimes = service.runtimes();
    let mut reader = runtimes
        .open_reader(source.connector_type, &source.connector_name, &source_configuration, &query, BATCH_ROWS)
        .await
        .map_err(|e| failed("reading the source")(e.to_string()))?;
    let mut writer = match runtimes
        .open_writer(
            destination.connector_type,
            &destination.connector_name,
            &destination_configuration,
            &sync.stream_name,
            primary_key,
        )
        .await
    {
        Ok(writer) => writer,
        Err(e) => {
            reader.close().await;
            return Err(failed("writing to the destination")(e.to_string()));
        }
    };
    let started = timestamp(run.started_at.unwrap_or_else(chrono::Utc::now));
    let result = async {
        for batch_index in 0.. {
            let rows = reader.next_batch().await.map_err(|e| failed("reading the source")(e.to_string()))?;
            if rows.is_empty() {
                return Ok(());
            }
            counts.total_query_rows += rows.len() as i64;
            let batch = compare(service, sync.id, &mapping, &key_column, &rows, &started).await?;
            counts.skipped_rows += batch.skipped;
            let records: Vec<Map<String, Value>> = batch.changed.iter().map(|c| c.record.clone()).collect();
            // The same key on every retry of a batch, and in a run resumed later.
            let outcomes = writer.write(&records, &format!("squared-run-{}-batch-{batch_index}", run.id)).await;
            let mut kept = Vec::with_capacity(records.len());
            let mut written = Vec::new();
            for (change, outcome) in batch.changed.into_iter().zip(outcomes) {
                counts.total_rows += 1;
                let (status, error) = match outcome {
                    Ok(()) => {
                        counts.successful_rows += 1;
                        written.push((change.key.clone(), change.fingerprint));
                        ("success", None)
                    }
                    Err(error) => {
                        counts.failed_rows += 1;
                        ("failed", Some(error))
                    }
                };
                kept.push(NewRecord {
                    primary_key: change.key,
                    record: Value::Object(change.record),
                    status,
                    action: change.action,
                    error,
                });
            }
            store.keep_batch(sync.id, run.id, &kept, &written).await.map_err(|e| e.to_string())?;
            store.update_run(run, "in_progress", *counts, None, None, lease()).await.map_err(|e| e.to_string())?;
            if store.run_status(run.id).await.map_err(|e| e.to_string())?.as_deref() == Some("canceled") {
                return Ok(());
            }
        }
        Ok(())
    }
    .await;
    reader.close().await;
    writer.close().await;
    result
}

/// A row to write: its key, mapped record, fingerprint, and whether it is new.
struct Change {
    key: String,
    record: Map<String, Value>,
    fingerprint: String,
    action: &'static str,
}

/// The rows of a batch that are new or changed since the sync last wrote them.
struct Compared {
    changed: Vec<Change>,
    skipped: i64,
}

async fn compare(
    service: &Service,
    sync_id: i64,
    mapping: &SyncMapping,
    key_column: &str,
    rows: &[Map<String, Value>],
    started: &str,
) -> Result<Compared, String> {
    let mut mapped = Vec::with_capacity(rows.len());
    for row in rows {
        let key = match row.get(key_column) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => {
                return Err(format!("a row has no value in the primary key column `{key_column}`"));
            }
            Some(other) => other.to_string(),
        };
        let record = mapping::apply(mapping, row, started);
        let fingerprint = hex::encode(Sha256::digest(serde_json::to_vec(&record).expect("JSON serializes")));
        mapped.push((key, record, fingerprint));
    }
    let keys: Vec<String> = mapped.iter().map(|(key, _, _)| key.clone()).collect();
    let kept = service.store().fingerprints(sync_id, &keys).await.map_err(|e| e.to_string())?;
    let mut compared = Compared { changed: Vec::new(), skipped: 0 };
    for (key, record, fingerprint) in mapped {
        let action = match kept.get(&key) {
            Some(previous) if *previous == fingerprint => {
                compared.skipped += 1;
                continue;
            }
            Some(_) => "destination_update",
            None => "destination_insert",
        };
        compared.changed.push(Change { key, record, fingerprint, action });
    }
    Ok(compared)
}
