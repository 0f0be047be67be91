//! The sync engine: executes sync runs, moving a model's rows into a destination.
//!
//! It depends on the sync core ([`crate::sync`]: the rules), [`crate::connectors`] (stored
//! connectors opened), the store and the runtimes; never on the API service.
//!
//! Runs are jobs in the server's database, never only in memory: a runner inside
//! `squared-server serve` or `squared-server worker` claims the oldest pending run
//! ([`Store::claim_run`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so that instances share the
//! work) under a [`Claim`]: a lease and a generation. Every write of the run (its counts,
//! records, fingerprints, position and end) is conditional on that generation, and a heartbeat
//! renews the lease every third of its length, also while a slow destination holds a batch; a
//! runner that finds its claim lost (its lease lapsed, another runner took the run over) stops
//! at once, dropping the batch in flight, and writes nothing more. So each run executes once.
//!
//! A run:
//! - **read**: the model's query through a server-side cursor, in batches, read-only, the next
//!   batch read while the current one is handled;
//! - **compare**: a fingerprint per (sync, primary key), of the row as the source gave it and
//!   of where and how it is written, decides insert, update or skip, so an unchanged row is
//!   never written again (nor parsed or mapped);
//! - **write**: an upsert by the destination's primary key, one statement per batch, and one
//!   per record when the destination refuses the batch, so a refused record fails alone. Each
//!   batch carries an idempotency key derived from its rows ([`batch_idempotency_key`]);
//! - **keep**: every written or failed row as a sync record, with the fingerprints of what was
//!   written, in one fenced transaction per batch with the run's counts.
//!
//! A row the destination refused keeps no fingerprint, so the next full refresh writes it
//! again; an incremental sync's position stops before the first refused row
//! ([`held_position`]), so the next incremental run reads it (and tries it) again. Each
//! attempt is a record of its run. How a run ended is [`judge`]d by the sync core.
//!
//! Before writing a batch the runner asks whether the run was canceled, so that after
//! `cancel_sync_run` answers at most the batch in hand is written.
//!
//! When an instance dies, its runs' leases expire and any runner takes them over: an
//! incremental run resumes from its last committed position with its committed counts; a full
//! refresh reads again from the first row and the fingerprints of the committed batches make
//! it skip what was written (a batch cut off before its commit is written again, as an
//! idempotent upsert or under the same idempotency key).
//!
//! Interval and cron syncs get a pending run when their `next_run_at` is due. A run created
//! anywhere wakes a runner at once: in this process through memory, on other instances of a
//! PostgreSQL deployment through the database's notification ([`Store::announce_runs_to`]);
//! otherwise runners look every [`EngineSettings::poll`].
//!
//! A full refresh remembers the keys it read and, at its end, records the kept keys it did not
//! read as rows that left the model (and deletes them at the destination when the sync says
//! so). Only the records of a sync's latest runs are kept ([`EngineSettings::record_runs_kept`]).
//!
//! A run's kind ([`RunKind`], the spec's `run_type`) changes what it keeps: a general run
//! keeps what it wrote as the sync's (fingerprints, position, the sync's status); a test run
//! writes the model's first row, changed or not, and keeps none of it as the sync's; a dry
//! run reads and compares, counts what it would write and delete, and writes nothing.
//!
//! When its process stops, a runner hands its run back at once: the batch in flight is
//! dropped and the lease released ([`Store::release_claim`]), so any runner resumes the run
//! from its last committed batch without waiting for the lease to lapse. The run's start,
//! take-over, progress (at most every [`PROGRESS_LOG_INTERVAL`]), end and hand-back are logged,
//! and its end counted in [`Metrics`].
//!
//! Every connection goes through the runtimes, and so through the egress policy.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use squared_types::{SyncMapping, SyncMode, SyncRecordAction, SyncRecordStatus, SyncRunType};
use tokio::sync::{Notify, watch};

use crate::alerts;
use crate::config::EngineSettings;
use crate::connectors::Connectors;
use crate::metrics::Metrics;
use crate::runtime::{Batch, CursorOrder, CursorPosition, DestinationWriter, IdempotencyKeys, ReadPlan, SourceRow};
use crate::store::{
    Claim, ClaimState, KeptBatch, NewDelivery, NewRecord, RecordFilter, RunScope, Store, StoreError, StoredRun,
    StoredSync, timestamp,
};
use crate::sync::schedule::next_run;
use crate::sync::values::{self, Record};
use crate::sync::{
    RunCounts, Stop, Verdict, batch_idempotency_key, held_position, judge, mapping, record_idempotency_key,
};

/// How many rows a run reads, compares and writes at a time.
pub const BATCH_ROWS: usize = 5000;
/// How often, at least, a run reports its counts while it only skips rows; a batch that wrote
/// reports at once.
const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// How often, at most, a run logs its progress.
const PROGRESS_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// What the runner works with.
struct Runner {
    store: Arc<Store>,
    connectors: Arc<Connectors>,
    settings: EngineSettings,
    /// This process, as recorded on the runs it claims.
    name: String,
    metrics: Arc<Metrics>,
    alerts_raised: Arc<Notify>,
    /// Turns true when the process stops: the runner hands its run back and ends.
    stopping: watch::Receiver<bool>,
    log: slog::Logger,
}

/// Raises the flag it holds while alive, and lowers it when dropped: the runner's task holds
/// one, so that a runner that ended (or panicked) shows as stopped.
struct AliveFlag(Arc<std::sync::atomic::AtomicBool>);

impl AliveFlag {
    fn raise(flag: Arc<std::sync::atomic::AtomicBool>) -> AliveFlag {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        AliveFlag(flag)
    }
}

impl Drop for AliveFlag {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A started runner.
pub struct RunnerHandle {
    task: tokio::task::JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl RunnerHandle {
    /// Stops the runner: a run it executes is handed back at once (its lease released, so any
    /// runner resumes it from its last committed batch), and it claims nothing more.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(30), &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// What a runner is given.
pub struct RunnerParts {
    pub store: Arc<Store>,
    pub connectors: Arc<Connectors>,
    pub settings: EngineSettings,
    pub metrics: Arc<Metrics>,
    /// Notified when this process creates a run.
    pub wake: Arc<Notify>,
    /// Notified when a run's end raised an alert (wakes this process's alert worker).
    pub alerts_raised: Arc<Notify>,
    /// Raised while the runner works (for the readiness check).
    pub alive: Arc<std::sync::atomic::AtomicBool>,
    pub log: slog::Logger,
}

/// Starts the runner: it claims and executes pending runs, one at a time, until stopped.
pub fn spawn(parts: RunnerParts) -> RunnerHandle {
    let RunnerParts { store, connectors, settings, metrics, wake, alerts_raised, alive, log } = parts;
    let (stop, stopping) = watch::channel(false);
    let runner = Runner { store, connectors, settings, name: process_name(), metrics, alerts_raised, stopping, log };
    slog::info!(runner.log, "sync runner started"; "process" => &runner.name, "lease" => ?settings.lease.to_std().ok());
    let alive = AliveFlag::raise(alive);
    let task = tokio::spawn(async move {
        let _alive = alive;
        // Runs created by other instances wake this runner too (PostgreSQL); without, it looks.
        if let Err(error) = runner.store.announce_runs_to(wake.clone()).await {
            slog::warn!(runner.log, "listening for new sync runs failed; looking for them instead";
                "cause" => error.to_string(), "every" => ?settings.poll);
        }
        let mut stopping = runner.stopping.clone();
        while !*stopping.borrow() {
            if let Err(error) = runner.schedule_due_runs(&wake).await {
                slog::error!(runner.log, "scheduling sync runs failed"; "cause" => error.to_string());
            }
            match runner.store.claim_run(settings.lease, &runner.name).await {
                Ok(Some(claim)) => runner.execute(claim).await,
                Ok(None) => {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(settings.poll) => {}
                        _ = stopping.wait_for(|stop| *stop) => {}
                    }
                }
                Err(error) => {
                    slog::error!(runner.log, "claiming a sync run failed"; "cause" => error.to_string());
                    tokio::time::sleep(settings.poll * 10).await;
                }
            }
        }
        slog::info!(runner.log, "sync runner stopped"; "process" => &runner.name);
    });
    RunnerHandle { task, stop }
}

/// `host:pid`, naming this process on the runs it executes.
fn process_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

/// Why a run stopped before its end.
#[derive(Debug)]
enum Halt {
    /// The run could not go on; the message is its error.
    Broken(String),
    /// The run was canceled; the batch in hand was kept.
    Canceled,
    /// Another runner holds the run now: nothing more is written.
    Lost,
    /// This process stops: the run is handed back, to be resumed by any runner.
    Stopping,
}

impl From<StoreError> for Halt {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LostClaim(_) => Halt::Lost,
            other => Halt::Broken(format!("the server's database: {other}")),
        }
    }
}

/// A failure of a run, in words for its `error`.
fn broken(what: &'static str) -> impl Fn(String) -> Halt {
    move |cause| Halt::Broken(format!("{what}: {cause}"))
}

impl Runner {
    /// Creates a pending run of every scheduled sync that is due, and moves its next run on.
    /// Moving it is a conditional update, so that of several instances one creates the run; a
    /// sync whose previous run is still active gets none this time (its schedule moves on).
    async fn schedule_due_runs(&self, wake: &Notify) -> Result<(), StoreError> {
        let now = chrono::Utc::now();
        for sync in self.store.due_syncs(now).await? {
            let Some(due) = sync.next_run_at else { continue };
            let next = next_run(
                sync.schedule_type,
                sync.sync_interval,
                sync.sync_interval_unit,
                sync.cron_expression.as_deref(),
                now,
            );
            if self.store.advance_schedule(sync.id, due, next).await? {
                match self.store.insert_run(sync.workspace_id, sync.id, SyncRunType::General).await {
                    Ok(_) => wake.notify_one(),
                    Err(StoreError::Duplicate) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(())
    }

    /// Executes one claimed run to its end, and records how it ended.
    async fn execute(&self, claim: Claim) {
        let run = &claim.run;
        let (state, watched) = watch::channel(ClaimState::Held);
        let heartbeat = tokio::spawn(heartbeat(self.store.clone(), claim.clone(), self.settings.lease, state));
        let sync = match self.store.get_sync(run.workspace_id, run.sync_id).await {
            Ok(Some(sync)) => Ok(sync),
            Ok(None) => Err(Halt::Broken("the sync's row no longer exists".into())),
            Err(error) => Err(Halt::from(error)),
        };
        // An incremental run taken over resumes from its committed position with its committed
        // counts; a full refresh reads again from its first row, and counts again.
        let mut counts = match &sync {
            Ok(sync) if sync.sync_mode == SyncMode::Incremental => run.counts(),
            _ => RunCounts::default(),
        };
        match claim.generation {
            1 => slog::info!(self.log, "sync run started"; "run" => run.id, "sync" => run.sync_id,
                "run_type" => run.run_type.as_str(), "process" => &self.name),
            _ => slog::warn!(self.log, "sync run taken over"; "run" => run.id, "sync" => run.sync_id,
                "run_type" => run.run_type.as_str(), "process" => &self.name,
                "from_process" => claim.previous_runner.as_deref().unwrap_or("unknown"),
                "generation" => claim.generation, "resumed_after_rows" => counts.total_query_rows),
        }
        let sync_name = sync.as_ref().ok().and_then(|sync| sync.name.clone());
        let mut stopping = self.stopping.clone();
        let halt = match sync {
            Ok(sync) => tokio::select! {
                result = self.move_rows(&claim, &sync, &mut counts, watched) => result.err(),
                // The rows in flight are dropped: the next runner writes them again, idempotently.
                _ = stopping.wait_for(|stop| *stop) => Some(Halt::Stopping),
            },
            Err(halt) => Some(halt),
        };
        heartbeat.abort();
        let stop = match &halt {
            None => Stop::Finished,
            Some(Halt::Canceled) => Stop::Canceled,
            Some(Halt::Broken(cause)) => Stop::Broken(cause),
            Some(Halt::Lost) => {
                slog::warn!(self.log, "another runner took this sync run over; this one stopped without writing more";
                    "run" => run.id, "sync" => run.sync_id, "generation" => claim.generation);
                return;
            }
            Some(Halt::Stopping) => {
                let released = self.store.release_claim(&claim).await;
                slog::warn!(self.log, "sync run handed back: this process stops"; "run" => run.id, "sync" => run.sync_id,
                    "released" => released.is_ok(), "committed_rows" => counts.total_query_rows);
                return;
            }
        };
        let first_error = match counts.failed_rows {
            0 => None,
            _ => self.first_row_error(&claim).await,
        };
        let verdict = judge(&counts, stop, first_error.as_deref());
        let took = run.started_at.map(|at| (chrono::Utc::now() - at).to_std().unwrap_or_default());
        let ended = slog::o!("run" => run.id, "sync" => run.sync_id, "status" => verdict.status.as_str(),
            "read" => counts.total_query_rows, "written" => counts.successful_rows, "failed" => counts.failed_rows,
            "skipped" => counts.skipped_rows);
        let alerts = self.alerts_for_end(run, sync_name.as_deref(), &counts, &verdict).await;
        match self.store.finish_run(&claim, counts, &verdict, &alerts).await {
            // Counted and logged once its end is recorded: by the one runner whose write landed.
            Ok(raised) => {
                if raised > 0 {
                    self.alerts_raised.notify_one();
                }
                self.metrics.run_ended(verdict.status, &counts, took);
                match &verdict.error {
                    Some(error) => slog::warn!(self.log.new(ended), "sync run ended"; "error" => error.as_str()),
                    None => slog::info!(self.log.new(ended), "sync run ended"),
                }
            }
            Err(StoreError::LostClaim(_)) => {
                slog::warn!(self.log, "another runner took this sync run over before it ended"; "run" => run.id);
                return;
            }
            Err(e) => {
                slog::error!(self.log.new(ended), "recording the end of a sync run failed"; "cause" => e.to_string())
            }
        }
        if let Err(e) = self.store.prune_records(run.sync_id, i64::from(self.settings.record_runs_kept)).await {
            slog::error!(self.log, "deleting the records of old sync runs failed"; "sync" => run.sync_id, "cause" => e.to_string());
        }
    }

    /// The alerts a general run's end raises under its workspace's rules. A failure to read
    /// the rules is logged and raises none: the run's end is recorded regardless.
    async fn alerts_for_end(
        &self,
        run: &StoredRun,
        sync_name: Option<&str>,
        counts: &RunCounts,
        verdict: &Verdict,
    ) -> Vec<NewDelivery> {
        if run.run_type != SyncRunType::General {
            return Vec::new();
        }
        let (rules, previous) = match tokio::try_join!(
            self.store.rules_watching(run.workspace_id, run.sync_id),
            self.store.last_ended_run(run.sync_id)
        ) {
            Ok(found) => found,
            Err(e) => {
                slog::error!(self.log, "reading the alert rules of a run's sync failed; the run raises no alert";
                    "run" => run.id, "cause" => e.to_string());
                return Vec::new();
            }
        };
        let end = alerts::RunEnd {
            run,
            sync_name,
            status: verdict.status,
            counts,
            error: verdict.error.as_deref(),
            previous: previous.map(|p| p.status),
        };
        alerts::run_end_alerts(&rules, &end)
    }

    /// The error of the run's first failed record.
    async fn first_row_error(&self, claim: &Claim) -> Option<String> {
        let filter = RecordFilter {
            run: RunScope::Only(claim.run.id),
            primary_key: None,
            status: Some(SyncRecordStatus::Failed),
            action: None,
        };
        let (records, _) = self.store.list_records(claim.run.sync_id, &filter, 1, 0).await.ok()?;
        records.into_iter().next().and_then(|record| record.error)
    }

    async fn move_rows(
        &self,
        claim: &Claim,
        sync: &StoredSync,
        counts: &mut RunCounts,
        mut watched: watch::Receiver<ClaimState>,
    ) -> Result<(), Halt> {
        let (store, run) = (&*self.store, &claim.run);
        let workspace = run.workspace_id;
        let gone = |what: &str| Halt::Broken(format!("the sync's {what} no longer exists"));
        let model = store.get_model(workspace, sync.model_id).await?.ok_or_else(|| gone("model"))?;
        let source = store.get_connector(workspace, sync.source_id).await?.ok_or_else(|| gone("source"))?;
        let destination =
            store.get_connector(workspace, sync.destination_id).await?.ok_or_else(|| gone("destination"))?;
        let mapping: SyncMapping = serde_json::from_value(sync.configuration.clone())
            .map_err(|e| Halt::Broken(format!("the sync's mapping: {e}")))?;
        let kind = RunKind::of(run.run_type);
        // A test run takes the model's first row, wherever an incremental sync's cursor stands.
        let incremental = sync.sync_mode == SyncMode::Incremental && kind != RunKind::Test;
        let plan = ReadPlan {
            query: model.query.clone().ok_or_else(|| Halt::Broken("the model has no query".into()))?,
            key_field: model.primary_key.clone().ok_or_else(|| Halt::Broken("the model has no primary key".into()))?,
            order: match incremental {
                false => None,
                true => Some(CursorOrder {
                    cursor_field: sync
                        .cursor_field
                        .clone()
                        .ok_or_else(|| Halt::Broken("the incremental sync has no cursor field".into()))?,
                    after: sync
                        .cursor_position
                        .clone()
                        .map(serde_json::from_value)
                        .transpose()
                        .map_err(|e| Halt::Broken(format!("the sync's cursor position: {e}")))?,
                }),
            },
        };
        // What a row's fingerprint covers besides the row: where and how it is written. Another
        // destination, stream or mapping writes every row again.
        let target = Sha256::digest(
            serde_json::to_vec(&(sync.destination_id, &sync.stream_name, &sync.configuration))
                .expect("JSON serializes"),
        );
        let connectors = &*self.connectors;
        let opened = |e: crate::error::ServiceError| Halt::Broken(e.to_string());
        let source_configuration = connectors.open(&source).map_err(opened)?;
        let destination_configuration = connectors.open(&destination).map_err(opened)?;
        let primary_key =
            connectors.stream(&destination, &sync.stream_name).await.map_err(opened)?.primary_key.unwrap_or_default();

        let runtimes = &connectors.runtimes;
        let mut reader = runtimes
            .open_reader(source.connector_type, &source.connector_name, &source_configuration, &plan, kind.batch_rows())
            .await
            .map_err(|e| broken("reading the source")(e.to_string()))?;
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
                return Err(broken("writing to the destination")(e.to_string()));
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
        // Once a row was refused, an incremental run's position moves no further this run.
        let mut position_held = false;
        let mut reported = std::time::Instant::now();
        let (progress_started, mut logged) = (std::time::Instant::now(), std::time::Instant::now());
        let lease = self.settings.lease;
        let result = async {
            // Keeping a batch (in the server's database) overlaps with comparing and writing the
            // next one (in the source and the destination); keeps stay in order, one at a time.
            let mut keeping: Option<Keeping<'_>> = None;
            loop {
                // A test run ends after its one row.
                let tested = kind == RunKind::Test && counts.total_query_rows > 0;
                let work = async {
                    let batch = batches.recv().await.unwrap_or_else(|| Ok(Batch::default()));
                    let mut batch = batch.map_err(|e| broken("reading the source")(e.to_string()))?;
                    if batch.rows.is_empty() || tested {
                        return Ok(None);
                    }
                    if kind == RunKind::Test {
                        batch.rows.truncate(1);
                    }
                    let compared = compare(store, sync.id, (&mapping, &target), batch.rows, &started, kind).await?;
                    if compared.changed.is_empty() {
                        return Ok(Some((compared, Vec::new())));
                    }
                    // A dry run writes nothing: every row it would write counts as if written.
                    if kind == RunKind::DryRun {
                        let outcomes = compared.changed.iter().map(|_| Ok(())).collect();
                        return Ok(Some((compared, outcomes)));
                    }
                    // Canceled or taken over meanwhile: this batch is not written.
                    match store.renew_claim(claim, lease).await? {
                        ClaimState::Held => {}
                        ClaimState::Canceled => return Err(Halt::Canceled),
                        ClaimState::Lost => return Err(Halt::Lost),
                    }
                    let keys = idempotency_keys(run.id, &compared.changed);
                    // A claim lost while the destination holds the batch stops the write at once.
                    let outcomes = tokio::select! {
                        outcomes = writer.write(&compared.records, &keys) => outcomes,
                        _ = watched.wait_for(|state| *state == ClaimState::Lost) => return Err(Halt::Lost),
                    };
                    Ok::<_, Halt>(Some((compared, outcomes)))
                };
                let previous = async {
                    match keeping.take() {
                        Some(keep) => keep.await,
                        None => Ok(ClaimState::Held),
                    }
                };
                let (previous, work) = tokio::join!(previous, work);
                // Canceled while the previous batch was kept: this one, in hand, is the last.
                let canceled = previous? == ClaimState::Canceled;
                let Some((compared, outcomes)) = work? else {
                    // The end of the rows.
                    if canceled {
                        return Err(Halt::Canceled);
                    }
                    break;
                };
                counts.total_query_rows += compared.rows as i64;
                counts.skipped_rows += compared.skipped;
                if let Some(seen) = &mut seen {
                    seen.extend(compared.keys.iter().map(|key| key_hash(key)));
                }
                let mut kept = Vec::with_capacity(outcomes.len());
                let mut written = Vec::new();
                let mut failed = Vec::new();
                for ((change, record), outcome) in compared.changed.into_iter().zip(compared.records).zip(outcomes) {
                    counts.total_rows += 1;
                    let (status, error) = match outcome {
                        Ok(()) => {
                            match change.action {
                                SyncRecordAction::DestinationUpdate => counts.updated_rows += 1,
                                _ => counts.inserted_rows += 1,
                            }
                            if kind == RunKind::DryRun {
                                continue;
                            }
                            counts.successful_rows += 1;
                            // A test run's row is written but not kept as the sync's: the next
                            // general run compares as if the test had not been.
                            if kind == RunKind::General {
                                written.push((change.key.clone(), change.fingerprint));
                            }
                            (SyncRecordStatus::Success, None)
                        }
                        Err(error) => {
                            counts.failed_rows += 1;
                            failed.push(change.index);
                            (SyncRecordStatus::Failed, Some(error))
                        }
                    };
                    kept.push(NewRecord {
                        primary_key: change.key,
                        record: record.to_json(),
                        status,
                        action: change.action,
                        error,
                    });
                }
                let position = match incremental && !position_held && kind == RunKind::General {
                    false => None,
                    true => held_position(&compared.positions, &failed),
                };
                position_held |= !failed.is_empty();
                let position = position.map(|p| serde_json::to_value(p).expect("a position serializes"));
                // Counts and a look at whether the run was canceled: after every batch that
                // wrote, and at least every second while batches are only skipped.
                if logged.elapsed() >= PROGRESS_LOG_INTERVAL {
                    let seconds = progress_started.elapsed().as_secs_f64().max(0.001);
                    slog::info!(self.log, "sync run progress"; "run" => run.id, "sync" => run.sync_id,
                        "read" => counts.total_query_rows, "written" => counts.successful_rows,
                        "failed" => counts.failed_rows, "skipped" => counts.skipped_rows,
                        "rows_per_second" => (counts.total_query_rows as f64 / seconds).round());
                    logged = std::time::Instant::now();
                }
                let report =
                    canceled || !kept.is_empty() || position.is_some() || reported.elapsed() >= REPORT_INTERVAL;
                if !report {
                    continue;
                }
                reported = std::time::Instant::now();
                let snapshot = *counts;
                let keep: Keeping<'_> = Box::pin(async move {
                    let batch =
                        KeptBatch { records: &kept, written: &written, forgotten: &[], position: position.as_ref() };
                    Ok(store.keep_batch(claim, &batch, snapshot).await?)
                });
                if canceled {
                    keep.await?;
                    return Err(Halt::Canceled);
                }
                keeping = Some(keep);
            }

            if let (Some(mut seen), true) = (seen, kind != RunKind::Test) {
                seen.sort_unstable();
                let delete = (sync.delete_removed_rows && kind == RunKind::General).then_some(&mut writer);
                forget_removed(store, (sync, claim), &seen, delete, counts, kind).await?;
            }
            Ok(())
        }
        .await;
        drop(batches);
        let _ = read_ahead.await;
        writer.close().await;
        result
    }
}

/// Renews the claim every third of the lease while the run executes (a batch in flight
/// included), and publishes how the run stands; stops when the claim is lost.
async fn heartbeat(store: Arc<Store>, claim: Claim, lease: chrono::Duration, state: watch::Sender<ClaimState>) {
    let every = (lease / 3).to_std().unwrap_or(Duration::from_secs(1)).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        // A failed renewal (the database unreachable for a moment) is tried again at the next
        // beat; the lease covers two more.
        if let Ok(now) = store.renew_claim(&claim, lease).await {
            state.send_replace(now);
            if now == ClaimState::Lost {
                return;
            }
        }
    }
}

/// The idempotency keys of the rows a batch writes.
fn idempotency_keys(run_id: i64, changed: &[Change]) -> IdempotencyKeys {
    let rows: Vec<(&str, i64)> = changed.iter().map(|c| (c.key.as_str(), c.fingerprint)).collect();
    IdempotencyKeys {
        batch: batch_idempotency_key(run_id, &rows),
        records: rows.iter().map(|(key, fingerprint)| record_idempotency_key(run_id, key, *fingerprint)).collect(),
    }
}

/// A key's 64-bit hash, for the set of keys a full refresh read.
fn key_hash(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("eight bytes"))
}

/// After a whole full refresh: every key the sync kept that the run did not read left the
/// model. Each is recorded (`destination_delete`), deleted at the destination when the sync
/// says so, and forgotten, a batch at a time. A dry run only counts them.
async fn forget_removed(
    store: &Store,
    (sync, claim): (&StoredSync, &Claim),
    seen: &[u64],
    mut delete: Option<&mut DestinationWriter>,
    counts: &mut RunCounts,
    kind: RunKind,
) -> Result<(), Halt> {
    let mut after: Option<String> = None;
    loop {
        let kept = store.kept_keys(sync.id, after.as_deref(), BATCH_ROWS as i64).await?;
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
            None | Some(Ok(())) => (SyncRecordStatus::Success, None),
            Some(Err(error)) => (SyncRecordStatus::Failed, Some(error.clone())),
        };
        let records: Vec<NewRecord> = removed
            .iter()
            .map(|key| NewRecord {
                primary_key: key.clone(),
                record: "{}".to_owned(),
                status,
                action: SyncRecordAction::DestinationDelete,
                error: error.clone(),
            })
            .collect();
        counts.total_rows += removed.len() as i64;
        if kind == RunKind::DryRun {
            counts.deleted_rows += removed.len() as i64;
            if store.keep_batch(claim, &KeptBatch::default(), *counts).await? == ClaimState::Canceled {
                return Err(Halt::Canceled);
            }
            continue;
        }
        if status == SyncRecordStatus::Success {
            counts.deleted_rows += removed.len() as i64;
        }
        match status {
            SyncRecordStatus::Success => counts.successful_rows += removed.len() as i64,
            SyncRecordStatus::Failed => counts.failed_rows += removed.len() as i64,
        }
        // A key whose delete failed stays kept, so that the next full refresh tries again.
        let forgotten: &[String] = if error.is_none() { &removed } else { &[] };
        let batch = KeptBatch { records: &records, written: &[], forgotten, position: None };
        if store.keep_batch(claim, &batch, *counts).await? == ClaimState::Canceled {
            return Err(Halt::Canceled);
        }
    }
}

/// Keeping one batch, under way: answers how the run stands after it.
type Keeping<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<ClaimState, Halt>> + Send + 'a>>;

/// A row to write: its index in its batch, key, fingerprint, and whether it is new.
struct Change {
    index: usize,
    key: String,
    fingerprint: i64,
    action: SyncRecordAction,
}

/// A batch, compared with what the sync last wrote.
struct Compared {
    /// How many rows the batch has.
    rows: usize,
    /// Every key of the batch (for a full refresh's set of keys read).
    keys: Vec<String>,
    /// Where an ordered read stands after each row of the batch.
    positions: Vec<Option<CursorPosition>>,
    /// The rows that are new or changed since the sync wrote them.
    changed: Vec<Change>,
    /// The mapped records of `changed`, in its order.
    records: Vec<Record>,
    skipped: i64,
}

/// What a run is for, as the engine acts on it (the spec's [`SyncRunType`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunKind {
    /// Delivers the model's rows, and keeps what it wrote as the sync's.
    General,
    /// Writes the model's first row, unchanged or not, and keeps nothing as the sync's.
    Test,
    /// Reads and compares, counts what it would write and delete, and writes nothing.
    DryRun,
}

impl RunKind {
    fn of(run_type: SyncRunType) -> RunKind {
        match run_type {
            SyncRunType::General => RunKind::General,
            SyncRunType::Test => RunKind::Test,
            SyncRunType::DryRun => RunKind::DryRun,
        }
    }

    /// How many rows a read fetches at a time.
    fn batch_rows(self) -> usize {
        match self {
            RunKind::Test => 1,
            RunKind::General | RunKind::DryRun => BATCH_ROWS,
        }
    }
}

/// Splits a batch into the rows to write (new, or changed since the sync wrote them) and
/// those to skip. A row's fingerprint is the first 64 bits of a SHA-256 of its text as the
/// source gave it and of where and how it is written (`target`), so that a skipped row is
/// never parsed nor mapped. A test run skips nothing.
async fn compare(
    store: &Store,
    sync_id: i64,
    (mapping, target): (&SyncMapping, &[u8]),
    rows: Vec<SourceRow>,
    started: &str,
    kind: RunKind,
) -> Result<Compared, Halt> {
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
    let kept = store.fingerprints(sync_id, &keys).await?;
    let mut compared = Compared {
        rows: rows.len(),
        positions: rows.iter().map(SourceRow::position).collect(),
        keys,
        changed: Vec::new(),
        records: Vec::new(),
        skipped: 0,
    };
    for (index, (row, fingerprint)) in rows.into_iter().zip(fingerprints).enumerate() {
        let action = match kept.get(&row.key) {
            Some(previous) if *previous == fingerprint && kind != RunKind::Test => {
                compared.skipped += 1;
                continue;
            }
            Some(_) => SyncRecordAction::DestinationUpdate,
            None => SyncRecordAction::DestinationInsert,
        };
        let Ok(columns) = values::parse_row(&row.text) else {
            return Err(Halt::Broken("reading the source: a row is not a JSON object".into()));
        };
        compared.records.push(mapping::apply(mapping, &columns, started));
        compared.changed.push(Change { index, key: row.key, fingerprint, action });
    }
    Ok(compared)
}
