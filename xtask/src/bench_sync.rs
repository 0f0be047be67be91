//! `cargo xtask bench sync`: how fast the sync engine moves rows, against a floor.
//!
//! On the test PostgreSQL (`SQUARED_TEST_POSTGRES_URL`, or the local default), it makes a
//! source table of `--rows` rows of 10 columns and two empty copies of it. The floor is psql
//! alone: `\copy (SELECT …) TO STDOUT` piped into `\copy … FROM STDIN`, the fastest way to
//! move those rows without a sync engine. Then the release server (on its embedded SQLite)
//! runs, through its API:
//! 1. a full refresh into the other copy (every row written);
//! 2. a full refresh after 1% of the rows changed (every row read, 1% written);
//! 3. an incremental run after another 1% changed (only those read and written), once a
//!    first incremental run has set the cursor.
//!
//! It prints rows per second, each run's time as a ratio of the first's, the server's peak
//! memory, and appends them to `BENCHMARKS.md`. Targets are reported, never asserted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench::{Process, ServerInstance, api_request, append_to_benchmarks, connect, send};

const SCHEMA: &str = "squared_bench_sync";
const COLUMNS: [&str; 10] =
    ["id", "name", "email", "amount", "quantity", "active", "created_at", "updated_at", "category", "score"];

/// Runs `sql` with psql against `url`, stopping at the first error.
pub(crate) fn psql(url: &str, sql: &str) -> Result<()> {
    let status = Command::new("psql").args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]).status()?;
    if !status.success() {
        bail!("psql failed on: {sql}");
    }
    Ok(())
}

/// A small JSON client of the server's API.
struct Api {
    address: String,
    token: String,
}

impl Api {
    async fn call(&self, method: http::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut sender = connect(&self.address).await?;
        let request = api_request(method.clone(), path, &self.token, 1, body.map(|b| b.to_string()));
        let (status, bytes) = send(&mut sender, request).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {}", String::from_utf8_lossy(&bytes));
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Starts a run of `sync`, waits for its end, and returns the run and how long it took.
    async fn run(&self, sync: &str, server: &Process, peak_kib: &mut u64) -> Result<(Value, Duration)> {
        let started = Instant::now();
        let run = self
            .call(
                http::Method::POST,
                "/api/v1/schedule_syncs",
                Some(json!({"schedule_sync": {"sync_id": sync.parse::<i64>()?}})),
            )
            .await?;
        let id = run["data"]["id"].as_str().context("a run id")?.to_owned();
        loop {
            let shown = self.call(http::Method::GET, &format!("/api/v1/syncs/{sync}/sync_runs/{id}"), None).await?;
            *peak_kib = (*peak_kib).max(server.memory()?.1);
            match shown["data"]["attributes"]["status"].as_str() {
                Some("success") => return Ok((shown["data"]["attributes"].clone(), started.elapsed())),
                Some("failed" | "canceled") => bail!("the run did not succeed: {shown}"),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

fn connector(kind: &str, name: &str, configuration: &Value) -> Value {
    json!({"connector": {"name": name, "connector_type": kind, "connector_name": "Postgresql",
                         "configuration": configuration}})
}

pub fn run(root: &Path, rows: u64) -> Result<()> {
    let url = std::env::var("SQUARED_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "squared-server", "--bin", "squared-server"])
        .status()?;
    if !status.success() {
        bail!("the release build failed");
    }

    println!("making {rows} rows of 10 columns in {SCHEMA}.source");
    psql(
        &url,
        &format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};
             CREATE TABLE {SCHEMA}.source (id bigint PRIMARY KEY, name text, email text, amount numeric(12,2),
                 quantity integer, active boolean, created_at timestamptz, updated_at timestamptz, category text,
                 score double precision);
             INSERT INTO {SCHEMA}.source SELECT n, 'name ' || n, 'user' || n || '@example.com', (n % 100000) / 100.0,
                 n % 97, n % 2 = 0, '2026-01-01'::timestamptz + n * interval '1 second',
                 '2026-01-01'::timestamptz + n * interval '1 second', 'category ' || (n % 20), n * 0.5
                 FROM generate_series(1, {rows}) AS n;
             CREATE INDEX ON {SCHEMA}.source (updated_at, id);
             CREATE TABLE {SCHEMA}.destination (LIKE {SCHEMA}.source INCLUDING ALL);
             CREATE TABLE {SCHEMA}.floor (LIKE {SCHEMA}.source INCLUDING ALL);
             ANALYZE {SCHEMA}.source;"
        ),
    )?;

    // The floor: psql copying out of one table and into the other.
    let started = Instant::now();
    let status = Command::new("bash")
        .args(["-o", "pipefail", "-c"])
        .arg(format!(
            "psql '{url}' -q -c '\\copy (SELECT * FROM {SCHEMA}.source) TO STDOUT' | \
             psql '{url}' -q -c '\\copy {SCHEMA}.floor FROM STDIN'"
        ))
        .status()?;
    if !status.success() {
        bail!("the psql floor failed");
    }
    let floor = started.elapsed();
    let floor_rate = rows as f64 / floor.as_secs_f64();
    println!("floor: {rows} rows in {:.1} s ({floor_rate:.0} rows/s)", floor.as_secs_f64());

    let instance = ServerInstance::new(root)?;
    let command = |args: &[&str]| instance.command(args);
    let mut serve = command(&["serve", "--bind", "127.0.0.1:0", "--allow-network", "127.0.0.1/32"]);
    serve.env("SQUARED_MAX_QUERY_BYTES", "1048576");
    let server = Process::start(serve)?;
    let token = String::from_utf8(command(&["token", "--workspace", "1"]).output()?.stdout)?.trim().to_owned();
    let api = Api { address: server.base.clone(), token };

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let (figures, peak_kib) = runtime.block_on(async {
        let parsed = url::Url::parse(&url)?;
        let configuration = json!({
            "data_type": "structured", "host": parsed.host_str().unwrap_or("127.0.0.1"),
            "port": parsed.port().unwrap_or(5432).to_string(), "database": parsed.path().trim_start_matches('/'),
            "schema": SCHEMA, "credentials": {"auth_type": "username/password", "username": parsed.username(),
            "password": parsed.password().unwrap_or("unused-with-trust-auth")}
        });
        let id = |value: Value| value["data"]["id"].as_str().map(str::to_owned).context("an id");
        let source = id(api.call(http::Method::POST, "/api/v1/connectors", Some(connector("source", "bench source", &configuration))).await?)?;
        let destination = id(api
            .call(http::Method::POST, "/api/v1/connectors", Some(connector("destination", "bench destination", &configuration)))
            .await?)?;
        let model = id(api
            .call(
                http::Method::POST,
                "/api/v1/models",
                Some(json!({"model": {"name": "bench", "connector_id": source.parse::<i64>()?, "query_type": "raw_sql",
                    "query": format!("SELECT {} FROM {SCHEMA}.source", COLUMNS.join(", ")), "primary_key": "id"}})),
            )
            .await?)?;
        let mapping: serde_json::Map<String, Value> = COLUMNS.iter().map(|c| ((*c).to_owned(), json!(c))).collect();
        let sync = id(api
            .call(
                http::Method::POST,
                "/api/v1/syncs",
                Some(json!({"sync": {"source_id": source.parse::<i64>()?, "model_id": model.parse::<i64>()?,
                    "destination_id": destination.parse::<i64>()?, "schedule_type": "manual",
                    "sync_mode": "full_refresh", "stream_name": "destination", "configuration": mapping}})),
            )
            .await?)?;
        let change = |percent_of: u64, offset: u64| {
            // 1% of the rows, spread over the table, with a later updated_at.
            let step = 100;
            psql(
                &url,
                &format!(
                    "UPDATE {SCHEMA}.source SET quantity = quantity + 1, updated_at = now() + interval '{offset} seconds' \
                     WHERE id % {step} = {}",
                    offset % step
                ),
            )
            .map(|()| percent_of / step)
        };
        let mut peak = 0u64;
        let mut figures = Vec::new();
        let (full, full_time) = api.run(&sync, &server, &mut peak).await?;
        figures.push(("full refresh, every row new", full, full_time));
        let changed = change(rows, 1)?;
        let (again, again_time) = api.run(&sync, &server, &mut peak).await?;
        figures.push(("full refresh, 1% changed", again, again_time));
        api.call(
            http::Method::PUT,
            &format!("/api/v1/syncs/{sync}"),
            Some(json!({"sync": {"sync_mode": "incremental", "cursor_field": "updated_at"}})),
        )
        .await?;
        let (_, _) = api.run(&sync, &server, &mut peak).await?; // sets the cursor
        change(rows, 2)?;
        let (incremental, incremental_time) = api.run(&sync, &server, &mut peak).await?;
        figures.push(("incremental, 1% changed", incremental, incremental_time));
        println!("{changed} rows changed before each of the last two runs");
        anyhow::Ok((figures, peak))
    })?;
    drop(server);
    drop(instance);
    psql(&url, &format!("DROP SCHEMA {SCHEMA} CASCADE"))?;

    let first = figures[0].2.as_secs_f64();
    let mut table = String::from(
        "| run | rows read | rows written | seconds | rows read/s | ratio to the floor's rate | time / first run's |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    let mut misses = Vec::new();
    for (n, (name, attributes, time)) in figures.iter().enumerate() {
        let read = attributes["total_query_rows"].as_i64().unwrap_or(0);
        let written = attributes["successful_rows"].as_i64().unwrap_or(0);
        let seconds = time.as_secs_f64();
        let rate = read as f64 / seconds;
        let ratio = rate / floor_rate;
        let share = seconds / first;
        table.push_str(&format!(
            "| {name} | {read} | {written} | {seconds:.1} | {rate:.0} | {ratio:.2} | {share:.3} |\n"
        ));
        match n {
            0 if ratio < 0.5 => misses.push(format!("full refresh at {ratio:.2} of the floor (target 0.5)")),
            1 if share > 0.2 => misses.push(format!("1% changed took {share:.3} of the first run (target 0.2)")),
            2 if share > 0.05 => misses.push(format!("incremental took {share:.3} of the first run (target 0.05)")),
            _ => {}
        }
    }
    let peak_mib = peak_kib as f64 / 1024.0;
    if peak_mib >= 256.0 {
        misses.push(format!("peak memory {peak_mib:.0} MiB (target under 256)"));
    }
    let section = format!(
        "## Sync engine, {} ({rows} rows, PostgreSQL to PostgreSQL, server on SQLite)\n\n\
         Floor (psql `\\copy` out piped into `\\copy` in): {:.1} s, {floor_rate:.0} rows/s.\n\n{table}\n\
         Server peak resident memory: {peak_mib:.0} MiB.\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        floor.as_secs_f64(),
    );
    println!("\n{section}");
    match misses.is_empty() {
        true => println!("every target met"),
        false => println!("targets missed:\n  {}", misses.join("\n  ")),
    }
    append_to_benchmarks(root, &section)
}
