//! What a workspace's runs did over time, summed by the database per slice of time, for the
//! activity report. The runs' `(workspace_id, created_at)` index (migration 0015) makes it a
//! range scan of the period's runs, whatever the number of older ones.

use chrono::{DateTime, Utc};

use super::database::query;
use super::{Store, StoreError, timestamp};

/// How long one slice of a report is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceWidth {
    Hour,
    Day,
}

impl SliceWidth {
    /// How many characters of a stored timestamp (`2026-12-07T16:45:13.067581Z`) name its
    /// slice: `2026-12-07T16` or `2026-12-07`.
    fn prefix(self) -> usize {
        match self {
            SliceWidth::Hour => 13,
            SliceWidth::Day => 10,
        }
    }
}

/// The general runs created in one slice, and their rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActivitySlice {
    /// The slice, as the first characters of its timestamps (see [`SliceWidth`]).
    pub slice: String,
    pub runs: i64,
    pub succeeded_runs: i64,
    pub failed_runs: i64,
    pub rows: i64,
    pub written_rows: i64,
    pub failed_rows: i64,
}

impl Store {
    /// The general runs of a workspace created at or after `since`, summed by slice, of the
    /// syncs that read from or write to one of `connectors` when given; slices without runs
    /// are absent.
    pub async fn activity(
        &self,
        workspace_id: i64,
        since: DateTime<Utc>,
        width: SliceWidth,
        connectors: Option<&[i64]>,
    ) -> Result<Vec<ActivitySlice>, StoreError> {
        // Constant text only: the slice's length comes from the enum, the ids travel as JSON.
        let of_connectors = match connectors {
            None => String::new(),
            Some(_) => format!(
                " AND sync_id IN (SELECT id FROM syncs WHERE workspace_id = $1 AND (source_id IN ({ids}) \
                 OR destination_id IN ({ids})))",
                ids = self.engine.json_integers(3)
            ),
        };
        let slice = format!("substr(created_at, 1, {})", width.prefix());
        let sql = format!(
            "SELECT {slice} AS slice, COUNT(*) AS runs, \
             CAST(SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS BIGINT) AS succeeded_runs, \
             CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed_runs, \
             CAST(SUM(total_rows) AS BIGINT) AS rows_tried, CAST(SUM(successful_rows) AS BIGINT) AS written_rows, \
             CAST(SUM(failed_rows) AS BIGINT) AS failed_rows \
             FROM sync_runs WHERE workspace_id = $1 AND created_at >= $2 AND run_type = 'general'{of_connectors} \
             GROUP BY {slice} ORDER BY {slice}"
        );
        let mut statement = query(sql).bind(workspace_id).bind(timestamp(since));
        if let Some(ids) = connectors {
            statement = statement.bind(serde_json::to_string(ids).expect("ids serialize"));
        }
        let rows = statement.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(ActivitySlice {
                    slice: row.try_get("slice")?,
                    runs: row.try_get("runs")?,
                    succeeded_runs: row.try_get("succeeded_runs")?,
                    failed_runs: row.try_get("failed_runs")?,
                    rows: row.try_get("rows_tried")?,
                    written_rows: row.try_get("written_rows")?,
                    failed_rows: row.try_get("failed_rows")?,
                })
            })
            .collect()
    }
}
