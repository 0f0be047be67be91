//! The sync engine: executes sync runs, moving a model's rows into a destination.
//!
//! Runs are jobs in the server's database, never only in memory: a runner inside
//! `squared-server serve` or `squared-server worker` claims the oldest pending run
//! ([`crate::store::Store::claim_run`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that
//! instances share the work and each run executes once), and executes it:
//! - **read**: the model's query through a server-side cursor, in batches, read-only, the next
//!   batch read while the current one is handled;
//! - **compare**: a fingerprint per (sync, primary key), of the row as the source gave it and
//!   of where and how it is written, decides insert, update or skip, so an unchanged row is
//!   never written again (nor parsed or mapped);
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
//! An incremental sync reads in (cursor, primary key) order past the position its last batch
//! committed, given to the source as bound parameters: a tie on the cursor is settled by the
//! key, so no row is skipped or read twice. A full refresh remembers the keys it read and,
//! at its end, records the kept keys it did not read as rows that left the model (and deletes
//! them at the destination when the sync says so).
//!
//! Only the records of a sync's latest runs are kept ([`EngineSettings::record_runs_kept`]).
//!
//! Every connection goes through the runtimes, and so through the egress policy.

pub mod mapping;
pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use squared_types::SyncMapping;

use crate::runtime::{Batch, CursorOrder, DestinationWriter, ReadPlan, SourceRow};
use crate::service::Service;
use crate::store::{KeptBatch, NewRecord, RunCounts, StoredRun, StoredSync, timestamp};

/// How many rows a run reads, compares and writes at a time.
pub const BATCH_ROWS: usize = 5000;
/// How often, at least, a run reports its counts (and renews its lease) while it only skips
/// rows; a batch that wrote reports at once.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// How long the runner waits before looking for pending runs again when there was none.
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);

/// The operator's settings of the engine.
#[derive(Clone, Copy, Debug)]
pub struct EngineSettings {
    /// How many of a sync's latest runs keep their records; older runs keep only their counts.
    pub record_runs_kept: u32,
    /// How long a claimed run is its runner's without a word: the runner renews the lease
    /// after every batch; a run whose lease expired is taken over by any runner. Longer than
    /// the slowest batch, shorter than an outage anyone would wait out.
    pub lease: chrono::Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings { record_runs_kept: 10, lease: chrono::Duration::minutes(2) }
    }
}

/// Starts the runner: it claims and executes pending runs, one at a time, until aborted.
pub fn spawn(service: Arc<Service>, settings: EngineSettings, log: slog::Logger) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = schedule_due_runs(&service).await {
                slog::error!(log, "scheduling sync runs failed"; "cause" => error);
            }
            match service.store().claim_run(settings.lease).await {
                Ok(Some(run)) => execute(&service, run, settings, &log).await,
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
async fn execute(service: &Service, run: StoredRun, settings: EngineSettings, log: &slog::Logger) {
    let mut counts = RunCounts::default();
    let outcome = move_rows(service, &run, settings.lease, &mut counts).await;
    let (status, error) = match &outcome {
        Ok(()) => ("success", None),
        Err(error) => ("failed", Some(error.as_str())),
    };
    slog::info!(log, "sync run ended"; "run" => run.id, "sync" => run.sync_id, "status" => status,
        "written" => counts.successful_rows, "failed" => counts.failed_rows, "skipped" => counts.skipped_rows);
    let sync_status = if outcome.is_ok() { "healthy" } else { "failed" };
    if let Err(e) = service.store().update_run(&run, status, counts, error, Some(sync_status), settings.lease).await {
        slog::error!(log, "recording the end of a sync run failed"; "run" => run.id, "cause" => e.to_string());
    }
    if let Err(e) = service.store().prune_records(run.sync_id, i64::from(settings.record_runs_kept)).await {
        slog::error!(log, "deleting the records of old sync runs failed"; "sync" => run.sync_id, "cause" => e.to_string());
    }
}

/// A failure of a run, in words for its `error`.
fn failed(what: &str) -> impl Fn(String) -> String + '_ {
    move |cause| format!("{what}: {cause}")
}

async fn move_rows(
    service: &Service,
    run: &StoredRun,
    lease: chrono::Duration,
    counts: &mut RunCounts,
) -> Result<(), String> {
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
    let incremental = sync.sync_mode == "incremental";
    let plan = ReadPlan {
        query: model.query.clone().ok_or("the model has no query")?,
        key_field: model.primary_key.clone().ok_or("the model has no primary key")?,
        order: match incremental {
            false => None,
            true => Some(CursorOrder {
                cursor_field: sync.cursor_field.clone().ok_or("the incremental sync has no cursor field")?,
                after: sync
                    .cursor_position
                    .clone()
                    .map(serde_json::from_value)
                    .transpose()
                    .map_err(|e| format!("the sync's cursor position: {e}"))?,
            }),
        },
    };
    // What a row's fingerprint covers besides the row: where and how it is written. Another
    // destination, stream or mapping writes every row again.
    let target = Sha256::digest(
        serde_json::to_vec(&(sync.destination_id, &sync.stream_name, &sync.configuration)).expect("JSON serializes"),
    );
    let source_configuration = service.open_connector(&source).map_err(|e| e.to_string())?;
    let destination_configuration = service.open_connector(&destination).map_err(|e| e.to_string())?;
    let primary_key = service.stream_primary_key(&destination, &sync.stream_name).await.map_err(|e| e.to_string())?;

    let runtimes = service.runtimes();
    let mut reader = runtimes
        .open_reader(source.connector_type, &source.connector_name, &source_configuration, &plan, BATCH_ROWS)
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
    // The next batch is read while this one is compared, written and kept.
    let (ahead, mut batches) = tokio::sync::mpsc::channel(1);
    let read_ahead = tokio::spawn(async move {
        loop {
            let batch = reader.next_batch().await;
            let last = !matches!(&batch, Ok(batch) if !batch.rows.is_empty());
            if ahead.send(batch).await.is_err() || last {
                break;
            }
        }
        reader.close().await;
    });
    let started = timestamp(run.started_at.unwrap_or_else(chrono::Utc::now));
    // A full refresh remembers every key it read (as a 64-bit hash: 8 bytes a row), to find
    // at its end the kept keys that left the model.
    let mut seen = (!incremental).then(Vec::<u64>::new);
    let mut reported = std::time::Instant::now();
    let result = async {
        // Keeping a batch (in the server's database) overlaps with comparing and writing the
        // next one (in the source and the destination); keeps stay in order, one at a time.
        let mut keeping: Option<Keeping<'_>> = None;
        for batch_index in 0.. {
            let work = async {
                let batch = batches.recv().await.unwrap_or_else(|| Ok(Batch::default()));
                let batch = batch.map_err(|e| failed("reading the source")(e.to_string()))?;
                if batch.rows.is_empty() {
                    return Ok(None);
                }
                let read = batch.rows.len() as i64;
                let compared = compare(service, sync.id, (&mapping, &target), batch.rows, &started).await?;
                // The same key on every retry of a batch, and in a run resumed later.
                let key = format!("squared-run-{}-batch-{batch_index}", run.id);
                let outcomes = writer.write(&compared.records, &key).await;
                Ok::<_, String>(Some((read, compared, outcomes, batch.last)))
            };
            let previous = async {
                match keeping.take() {
                    Some(keep) => keep.await,
                    None => Ok(None),
                }
            };
            let (previous, work) = tokio::join!(previous, work);
            let canceled = previous?.as_deref() == Some("canceled");
            let Some((read, compared, outcomes, last)) = work? else { break };
            counts.total_query_rows += read;
            counts.skipped_rows += compared.skipped;
            if let Some(seen) = &mut seen {
                seen.extend(compared.keys.iter().map(|key| key_hash(key)));
            }
            let mut kept = Vec::with_capacity(outcomes.len());
            let mut written = Vec::new();
            for ((change, record), outcome) in compared.changed.into_iter().zip(compared.records).zip(outcomes) {
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
                    record: Value::Object(record),
                    status,
                    action: change.action,
                    error,
                });
            }
            let position = last.map(|last| serde_json::to_value(last).expect("a position serializes"));
            // Counts, lease and a look at whether the run was canceled: after every batch that
            // wrote, and at least every second while batches are only skipped.
            let report = (!kept.is_empty() || reported.elapsed() >= REPORT_INTERVAL || canceled).then_some(*counts);
            if report.is_some() {
                reported = std::time::Instant::now();
            }
            let keep: Keeping<'_> = Box::pin(async move {
                let batch =
                    KeptBatch { records: &kept, written: &written, forgotten: &[], position: position.as_ref() };
                store.keep_batch(sync.id, run.id, &batch).await.map_err(|e| e.to_string())?;
                match report {
                    Some(counts) => {
                        store.update_run(run, "in_progress", counts, None, None, lease).await.map_err(|e| e.to_string())
                    }
                    None => Ok(None),
                }
            });
            // A run canceled meanwhile keeps what it wrote, and stops.
            if canceled {
                keep.await?;
                return Ok(());
            }
            keeping = Some(keep);
        }
        if let Some(keep) = keeping.take()
            && keep.await?.as_deref() == Some("canceled")
        {
            return Ok(());
        }
        if let Some(mut seen) = seen {
            seen.sort_unstable();
            let delete = sync.delete_removed_rows.then_some(&mut writer);
            forget_removed(service, (&sync, run, lease), &seen, delete, counts).await?;
        }
        Ok(())
    }
    .await;
    drop(batches);
    let _ = read_ahead.await;
    writer.close().await;
    result
}

/// A key's 64-bit hash, for the set of keys a full refresh read.
fn key_hash(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("eight bytes"))
}

/// After a whole full refresh: every key the sync kept that the run did not read left the
/// model. Each is recorded (`destination_delete`), deleted at the destination when the sync
/// says so, and forgotten, a batch at a time.
async fn forget_removed(
    service: &Service,
    (sync, run, lease): (&StoredSync, &StoredRun, chrono::Duration),
    seen: &[u64],
    mut delete: Option<&mut DestinationWriter>,
    counts: &mut RunCounts,
) -> Result<(), String> {
    let store = service.store();
    let mut after: Option<String> = None;
    loop {
        let kept = store.kept_keys(sync.id, after.as_deref(), BATCH_ROWS as i64).await.map_err(|e| e.to_string())?;
        let Some(last) = kept.last().cloned() else { return Ok(()) };
        let removed: Vec<String> = kept.into_iter().filter(|key| seen.binary_search(&key_hash(key)).is_err()).collect();
        after = Some(last);
        if removed.is_empty() {
            continue;
        }
        let outcome = match delete.as_deref_mut() {
            Some(writer) => Some(writer.delete(&removed).await),
            None => None,
        };
        let (status, error) = match &outcome {
            None | Some(Ok(())) => ("success", None),
            Some(Err(error)) => ("failed", Some(error.clone())),
        };
        let records: Vec<NewRecord> = removed
            .iter()
            .map(|key| NewRecord {
                primary_key: key.clone(),
                record: Value::Object(Map::new()),
                status,
                action: "destination_delete",
                error: error.clone(),
            })
            .collect();
        counts.total_rows += removed.len() as i64;
        match status {
            "success" => counts.successful_rows += removed.len() as i64,
            _ => counts.failed_rows += removed.len() as i64,
        }
        // A key whose delete failed stays kept, so that the next full refresh tries again.
        let forgotten: &[String] = if error.is_none() { &removed } else { &[] };
        let batch = KeptBatch { records: &records, written: &[], forgotten, position: None };
        store.keep_batch(sync.id, run.id, &batch).await.map_err(|e| e.to_string())?;
        store.update_run(run, "in_progress", *counts, None, None, lease).await.map_err(|e| e.to_string())?;
    }
}

/// Keeping one batch, under way: answers the run's status when it reported.
type Keeping<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<String>, String>> + Send + 'a>>;

/// A row to write: its key, fingerprint, and whether it is new.
struct Change {
    key: String,
    fingerprint: i64,
    action: &'static str,
}

/// The rows of a batch that are new or changed since the sync last wrote them.
struct Compared {
    /// Every key of the batch.
    keys: Vec<String>,
    changed: Vec<Change>,
    /// The mapped records of `changed`, in its order.
    records: Vec<Map<String, Value>>,
    skipped: i64,
}

/// Splits a batch into the rows to write (new, or changed since the sync wrote them) and
/// those to skip. A row's fingerprint is the first 64 bits of a SHA-256 of its text as the
/// source gave it and of where and how it is written (`target`), so that a skipped row is
/// never parsed nor mapped.
async fn compare(
    service: &Service,
    sync_id: i64,
    (mapping, target): (&SyncMapping, &[u8]),
    rows: Vec<SourceRow>,
    started: &str,
) -> Result<Compared, String> {
    let fingerprints: Vec<i64> = rows
        .iter()
        .map(|row| {
            let mut digest = Sha256::new();
            digest.update(target);
            digest.update(row.text.as_bytes());
            // 64 bits: a changed row goes unnoticed with odds of one in 2^64.
            i64::from_le_bytes(digest.finalize()[..8].try_into().expect("eight bytes"))
        })
        .collect();
    let keys: Vec<String> = rows.iter().map(|row| row.key.clone()).collect();
    let kept = service.store().fingerprints(sync_id, &keys).await.map_err(|e| e.to_string())?;
    let mut compared = Compared { keys, changed: Vec::new(), records: Vec::new(), skipped: 0 };
    for (row, fingerprint) in rows.into_iter().zip(fingerprints) {
        let action = match kept.get(&row.key) {
            Some(previous) if *previous == fingerprint => {
                compared.skipped += 1;
                continue;
            }
            Some(_) => "destination_update",
            None => "destination_insert",
        };
        let Ok(Value::Object(columns)) = serde_json::from_str(&row.text) else {
            return Err("reading the source: a row is not a JSON object".into());
        };
        compared.records.push(mapping::apply(mapping, &columns, started));
        compared.changed.push(Change { key: row.key, fingerprint, action });
    }
    Ok(compared)
}
