//! A run's records exported as CSV, streamed.
//!
//! The export walks the records the filter selects one bounded batch at a time, by id
//! ([`Store::records_after`]), and hands each batch's CSV lines to the response body through a
//! small channel: memory stays at a few batches whatever the run's size, and a client that
//! reads slowly (or goes away) holds the walk back (or ends it). A failure part way through
//! ends the body with an error, so the client sees a cut transfer, never a short file that
//! looks whole; it is logged at `warn` with its cause.

use std::sync::Arc;

use bytes::Bytes;
use chrono::SecondsFormat;
use dropshot::Body;
use futures::StreamExt;
use http_body::Frame;
use squared_types::{SyncRecordAction, SyncRecordStatus};

use super::Service;
use super::syncs::record_filter;
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::store::{RecordFilter, Store, StoredRecord};

/// How many records one batch of an export reads.
const BATCH: i64 = 500;
/// How many batches may wait for the client.
const WAITING_BATCHES: usize = 2;
/// The CSV header line's columns, in the order [`csv_batch`] writes them.
const COLUMNS: [&str; 9] =
    ["id", "sync_run_id", "primary_key", "action", "status", "error", "created_at", "updated_at", "record"];

/// The filter of a record export: a record list's, without the page.
pub struct RecordExportRequest {
    pub status: Option<SyncRecordStatus>,
    pub action: Option<SyncRecordAction>,
    /// One row's records across the sync's runs up to this one, instead of this run's.
    pub primary_key: Option<String>,
}

/// An export under way: its file name and the body that streams it.
pub struct RecordExport {
    pub file_name: String,
    pub body: Body,
}

impl Service {
    /// Starts the export of a run's records. The run is looked up (and the caller's right to
    /// see it checked) before anything streams, so those errors are answered as errors.
    pub async fn export_sync_records(
        &self,
        caller: &Caller,
        sync_id: &str,
        run_id: &str,
        request: RecordExportRequest,
        log: slog::Logger,
    ) -> Result<RecordExport, ServiceError> {
        let run = self.stored_run(caller, sync_id, run_id).await?;
        let filter = record_filter(&run, request.primary_key, request.status, request.action);
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(WAITING_BATCHES);
        let store = Arc::clone(&self.store);
        let (sync_id, run_id) = (run.sync_id, run.id);
        tokio::spawn(async move {
            if let Err(cause) = stream_records(&store, sync_id, &filter, &sender).await {
                slog::warn!(log, "record export failed part way"; "sync_id" => sync_id, "sync_run_id" => run_id, "cause" => &cause);
                // The body ends with the error: the client's transfer is cut, not completed.
                let _ = sender.send(Err(std::io::Error::other(cause))).await;
            }
        });
        let frames = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).map(|batch| batch.map(Frame::data));
        Ok(RecordExport {
            file_name: format!("sync-{sync_id}-run-{run_id}-records.csv"),
            body: Body::wrap(http_body_util::StreamBody::new(frames)),
        })
    }
}

/// Sends the header line, then each batch's lines, until the records run out or the client
/// has gone. An error is the store's or the CSV writer's, as text.
async fn stream_records(
    store: &Store,
    sync_id: i64,
    filter: &RecordFilter,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), String> {
    let mut after = 0;
    let mut lines = csv_batch(&[], true)?;
    loop {
        let records = store.records_after(sync_id, filter, after, BATCH).await.map_err(|e| e.to_string())?;
        let last = records.len() < BATCH as usize;
        lines.extend(csv_batch(&records, false)?);
        if sender.send(Ok(Bytes::from(lines))).await.is_err() {
            return Ok(()); // The client went away.
        }
        match records.last() {
            Some(record) if !last => after = record.id,
            _ => return Ok(()),
        }
        lines = Vec::new();
    }
}

/// The CSV lines of `records`, after the header line when `header`.
fn csv_batch(records: &[StoredRecord], header: bool) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| format!("writing CSV: {e}");
    if header {
        writer.write_record(COLUMNS).map_err(failed)?;
    }
    for record in records {
        writer
            .write_record([
                record.id.to_string(),
                record.sync_run_id.to_string(),
                record.primary_key.clone(),
                record.action.to_string(),
                record.status.to_string(),
                record.error.clone().unwrap_or_default(),
                record.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                record.updated_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                record.record.to_string(),
            ])
            .map_err(failed)?;
    }
    writer.into_inner().map_err(|e| format!("writing CSV: {e}"))
}
