//! The sync core: the rules of a sync that need no I/O, shared by the API service and the
//! engine. Nothing here reaches the store, a runtime or the network.
//!
//! - [`schedule`]: when a scheduled sync runs next, and what a cron expression may be;
//! - [`values`]: a row's values kept as the exact JSON text the source gave, and their forms;
//! - [`mapping`]: a sync's mapping applied to one row;
//! - [`judge`]: how a run ended, from what it counted (the one place for the rule that a run
//!   which failed rows never reads `success`);
//! - [`batch_idempotency_key`] and [`record_idempotency_key`]: what names a batch of rows at a
//!   destination, the same on every retry and after any take-over, different for other rows;
//! - [`held_position`]: how far an incremental sync's position may move after a batch, so that
//!   a row the destination refused is read (and tried) again by the next run.

pub mod mapping;
pub mod schedule;
pub mod values;

use sha2::{Digest, Sha256};
use squared_types::{SyncRunStatus, SyncStatus};

/// What a run counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Rows the model's query gave.
    pub total_query_rows: i64,
    /// Rows unchanged since the sync last wrote them.
    pub skipped_rows: i64,
    /// Rows the run tried to write (or delete).
    pub total_rows: i64,
    pub successful_rows: i64,
    pub failed_rows: i64,
    /// Of the rows written: those the sync had not written before.
    pub inserted_rows: i64,
    /// Of the rows written: those written again because they changed.
    pub updated_rows: i64,
    /// Rows recorded as gone from the model (and deleted at the destination when the sync
    /// says so).
    pub deleted_rows: i64,
}

/// How a run ended: its status and error, and the status its sync takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: SyncRunStatus,
    pub error: Option<String>,
    pub sync_status: SyncStatus,
}

/// How a run stopped, as its runner saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop<'a> {
    /// It read every row of the model.
    Finished,
    /// It was canceled, and stopped after the batch in hand.
    Canceled,
    /// It could not go on (the source, the destination or the server's store failed).
    Broken(&'a str),
}

/// The one rule for how a run ended:
/// - a run that could not go on is `failed`, with its cause;
/// - a run in which any row failed is `failed` (never `success`: those rows were not
///   delivered), with how many rows failed, how many were written, and the first error; the
///   failed rows are tried again by the sync's next run;
/// - a canceled run stays `canceled`, and its sync is `aborted`;
/// - otherwise `success`, and the sync is `healthy`: a sync is healthy only while its last run
///   delivered every row it read.
pub fn judge(counts: &RunCounts, stop: Stop<'_>, first_row_error: Option<&str>) -> Verdict {
    let rows_failed = (counts.failed_rows > 0).then(|| {
        format!(
            "{} of {} rows failed and {} were written; the failed rows are tried again by the next run. The first \
             error: {}",
            counts.failed_rows,
            counts.total_rows,
            counts.successful_rows,
            first_row_error.unwrap_or("(not recorded)")
        )
    });
    match stop {
        Stop::Broken(cause) => Verdict {
            status: SyncRunStatus::Failed,
            error: Some(match rows_failed {
                Some(rows) => format!("{cause}. Before that, {rows}"),
                None => cause.to_owned(),
            }),
            sync_status: SyncStatus::Failed,
        },
        Stop::Canceled => {
            Verdict { status: SyncRunStatus::Canceled, error: rows_failed, sync_status: SyncStatus::Aborted }
        }
        Stop::Finished => match rows_failed {
            Some(error) => {
                Verdict { status: SyncRunStatus::Failed, error: Some(error), sync_status: SyncStatus::Failed }
            }
            None => Verdict { status: SyncRunStatus::Success, error: None, sync_status: SyncStatus::Healthy },
        },
    }
}

/// The first 16 hex digits of a SHA-256 over `parts`, each length-prefixed so that no two
/// different lists of parts hash alike.
fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hex::encode(&hash.finalize()[..8])
}

/// The idempotency key of a batch of a run: the run, and the keys and fingerprints of the rows
/// the batch writes, in order. A batch written again (a retry, or a runner that took the run
/// over after a crash and read the same rows) has the same key, so a receiver that honours it
/// applies the rows once; a batch of other rows, or of the same rows changed since, has
/// another.
pub fn batch_idempotency_key(run_id: i64, rows: &[(&str, i64)]) -> String {
    let fingerprints: Vec<[u8; 8]> = rows.iter().map(|(_, fingerprint)| fingerprint.to_le_bytes()).collect();
    let parts = rows.iter().zip(&fingerprints).flat_map(|((key, _), fingerprint)| [key.as_bytes(), &fingerprint[..]]);
    format!("squared-run-{run_id}-batch-{}", digest(parts))
}

/// The idempotency key of one record sent on its own (a destination that refused its batch
/// gets the batch's records one by one): the run, the row's key and fingerprint.
pub fn record_idempotency_key(run_id: i64, key: &str, fingerprint: i64) -> String {
    format!("squared-run-{run_id}-row-{}", digest([key.as_bytes(), &fingerprint.to_le_bytes()[..]]))
}

/// Where an incremental sync's position may stand after a batch whose rows, in read order,
/// have the positions `positions` (`None` for a row whose cursor is null) and of which the rows
/// at `failed` (ascending indices) were refused: after the last row before the first refused
/// one, so that the next run reads the refused row again (and skips, by their fingerprints,
/// the rows after it that were written). `None`: the position stays where it is.
pub fn held_position<P: Clone>(positions: &[Option<P>], failed: &[usize]) -> Option<P> {
    let end = failed.first().copied().unwrap_or(positions.len());
    positions[..end].iter().rev().find_map(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(total: i64, written: i64, failed: i64) -> RunCounts {
        RunCounts {
            total_query_rows: total,
            skipped_rows: 0,
            total_rows: written + failed,
            successful_rows: written,
            failed_rows: failed,
            ..RunCounts::default()
        }
    }

    #[test]
    fn a_run_that_failed_rows_never_reads_success() {
        let all_failed = judge(&counts(20, 0, 20), Stop::Finished, Some("null value in column \"name\""));
        assert_eq!((all_failed.status, all_failed.sync_status), (SyncRunStatus::Failed, SyncStatus::Failed));
        let error = all_failed.error.unwrap();
        assert!(error.starts_with("20 of 20 rows failed and 0 were written"), "{error}");
        assert!(error.contains("null value in column \"name\""), "{error}");
        let some_failed = judge(&counts(20, 19, 1), Stop::Finished, Some("refused"));
        assert_eq!((some_failed.status, some_failed.sync_status), (SyncRunStatus::Failed, SyncStatus::Failed));
        let clean = judge(&counts(20, 20, 0), Stop::Finished, None);
        assert_eq!(clean, Verdict { status: SyncRunStatus::Success, error: None, sync_status: SyncStatus::Healthy });
        let nothing_to_do = judge(&RunCounts::default(), Stop::Finished, None);
        assert_eq!(nothing_to_do.status, SyncRunStatus::Success);
        let canceled = judge(&counts(20, 5, 0), Stop::Canceled, None);
        assert_eq!((canceled.status, canceled.sync_status), (SyncRunStatus::Canceled, SyncStatus::Aborted));
        let broken = judge(&counts(20, 5, 2), Stop::Broken("reading the source: gone"), Some("refused"));
        assert_eq!(broken.status, SyncRunStatus::Failed);
        assert!(broken.error.unwrap().starts_with("reading the source: gone. Before that, 2 of 7 rows failed"));
    }

    #[test]
    fn idempotency_keys_name_the_rows_not_the_order_of_batches() {
        let batch = [("1", 10), ("2", 20)];
        let key = batch_idempotency_key(7, &batch);
        assert_eq!(key, batch_idempotency_key(7, &batch), "the same on every retry");
        assert_ne!(key, batch_idempotency_key(8, &batch), "another run");
        assert_ne!(key, batch_idempotency_key(7, &[("1", 10), ("3", 30)]), "other rows");
        assert_ne!(key, batch_idempotency_key(7, &[("1", 10), ("2", 21)]), "the same rows, changed");
        // Length prefixes: moving a byte from one key to the next changes the key.
        assert_ne!(batch_idempotency_key(7, &[("12", 0), ("3", 0)]), batch_idempotency_key(7, &[("1", 0), ("23", 0)]));
        assert!(key.starts_with("squared-run-7-batch-"), "{key}");
        assert_ne!(record_idempotency_key(7, "1", 10), record_idempotency_key(7, "1", 11));
    }

    #[test]
    fn the_position_stops_before_the_first_refused_row() {
        let positions = [None, Some(1), Some(2), Some(3), Some(4)];
        assert_eq!(held_position(&positions, &[]), Some(4), "nothing refused: after the last row");
        assert_eq!(held_position(&positions, &[3]), Some(2));
        assert_eq!(held_position(&positions, &[2, 4]), Some(1));
        assert_eq!(held_position(&positions, &[1]), None, "only a null cursor before it: no move");
        assert_eq!(held_position(&positions, &[0]), None);
    }
}
