//! How long the activity report takes over 100,000 runs of the period (and 100,000 older
//! ones the index must skip), on SQLite: `cargo run --release -p squared-server --example
//! bench_report`. Prints the median of 3 runs of each period with their spread; the figures go
//! into BENCHMARKS.md by hand.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use sqlx::Connection;
use squared_server::store::{SliceWidth, Store};

const RUNS: i64 = 100_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    let store = Store::open(&url).await?;
    // Runs straight into the table: 100,000 over the last week, 100,000 over the 60 days
    // before it, one workspace, 20 syncs, one run in ten failed.
    let mut db = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc")).await?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut db).await?;
    for (from_minutes, span_minutes) in [(0, 7 * 24 * 60), (7 * 24 * 60, 60 * 24 * 60)] {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO sync_runs (workspace_id, sync_id, status, run_type, created_at, updated_at, total_rows, \
             successful_rows, failed_rows) SELECT 1, i % 20 + 1, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END, \
             'general', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (?2 + i * ?3 / ?1) || ' minutes') AS at, \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 100, 99, 1 FROM n",
        )
        .bind(RUNS)
        .bind(from_minutes)
        .bind(span_minutes)
        .execute(&mut db)
        .await?;
    }
    db.close().await?;
    println!("activity report, SQLite, {RUNS} runs in the last week and {RUNS} older (median of 3, min–max):");
    for (name, width, back) in
        [("one_day", SliceWidth::Hour, TimeDelta::hours(23)), ("one_week", SliceWidth::Day, TimeDelta::days(6))]
    {
        let mut times = Vec::new();
        let mut runs = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let slices = store.activity(1, Utc::now() - back - TimeDelta::hours(1), width, None).await?;
            times.push(started.elapsed());
            runs = slices.iter().map(|s| s.runs).sum::<i64>();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("  {name}: {:.1} ms ({:.1}–{:.1}), {runs} runs summed", ms(times[1]), ms(times[0]), ms(times[2]));
    }
    store.close().await;
    Ok(())
}
