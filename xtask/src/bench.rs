//! `cargo xtask bench`: how much the server serves on this machine, against a floor.
//!
//! It builds the release server and the floor (`src/bin/bench-floor.rs`: dropshot answering
//! the same three routes with the real server's bodies, fixed, and no work), seeds 10,000
//! connectors, and drives both with wrk (a load generator in C, in a process of its own,
//! scripted by `bench.lua`) at 1, 16 and 64 connections: create, show, and list (the first
//! page of 10 of the 10,000). The server's runs and the floor's are taken in turn, so that
//! a slower moment of a noisy machine falls on both; each figure is the median of
//! [`RUNS_PER_FIGURE`] runs after a warm-up, printed with its spread. With
//! `--database postgres://…` it does the same again with the server on a scratch database
//! of that PostgreSQL, and prints the engines side by side. It reports requests per second,
//! p50 and p99 latency (wrk's), the ratio to the floor, the server's memory after 100,000
//! creates, and appends a dated section to `BENCHMARKS.md`. Targets are reported, never
//! asserted: timing belongs here, not in tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

const CONCURRENCY: [usize; 3] = [1, 16, 64];
const MEASURE: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_secs(1);
const RUNS_PER_FIGURE: usize = 3;
/// wrk's threads: no more than the connections, and no more than the cores it shares with
/// the server.
const WRK_THREADS: usize = 2;
const LIST_PATH: &str = "/api/v1/connectors?page=1&per_page=10";
const LIST_ROWS: u64 = 10_000;
const CREATES_FOR_MEMORY: u64 = 100_000;
const CREATE_WORKSPACE: i64 = 1;
const LIST_WORKSPACE: i64 = 2;

/// A started process that is killed when dropped.
pub(crate) struct Process {
    child: Child,
    pub(crate) base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `command` and waits for its line `… listening on http://ADDR`.
    pub(crate) fn start(mut command: Command) -> Result<Process> {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().context("starting a server")?;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().context("the server printed nothing")??;
        let address = first.split("http://").nth(1).context("no address in the server's first line")?.to_owned();
        std::thread::spawn(move || for _ in lines {});
        Ok(Process { child, base: address })
    }

    /// Resident and peak resident memory, in KiB.
    pub(crate) fn memory(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }
}

/// The body of a create, with `{n}` where each request puts a name of its own: the seeding
/// here and wrk (through `bench.lua`) fill in the same template.
const CREATE_TEMPLATE: &str = r#"{"connector":{"name":"{n}","connector_type":"destination","connector_name":"Http","configuration":{"destination_url":"https://hooks.example.com/{n}","headers":{"X-Api-Key":"secret-{n}"}}}}"#;

/// One request of the API, for seeding and for the sample bodies (wrk sends the measured ones).
pub(crate) fn api_request(
    method: http::Method,
    path: &str,
    token: &str,
    workspace: i64,
    body: Option<String>,
) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header("Workspace-Id", workspace);
    if body.is_some() {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json");
    }
    builder.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("a valid request")
}

pub(crate) async fn connect(address: &str) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

pub(crate) async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<(u16, Bytes)> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Sends one request and returns the body of its expected answer.
async fn call(address: &str, request: http::Request<Full<Bytes>>, expect: u16) -> Result<Bytes> {
    let (status, body) = send(&mut connect(address).await?, request).await?;
    if status != expect {
        bail!("the server answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}

/// Creates `count` connectors named `PREFIX-N` in `workspace` over 16 connections, as fast as
/// they go.
async fn fill(address: &str, token: &str, workspace: i64, prefix: &str, count: u64) -> Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let mut sender = connect(address).await?;
        let (next, token, prefix) = (next.clone(), token.to_owned(), prefix.to_owned());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let body = CREATE_TEMPLATE.replace("{n}", &format!("{prefix}-{n}"));
                let request = api_request(http::Method::POST, "/api/v1/connectors", &token, workspace, Some(body));
                let (status, body) = send(&mut sender, request).await?;
                if status != 201 {
                    bail!("a create answered {status}: {}", String::from_utf8_lossy(&body));
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

/// One benchmarked operation, as wrk sends it.
struct Operation {
    name: &'static str,
    method: &'static str,
    path: String,
    token: String,
    workspace: i64,
    /// Whether each request carries a create body of its own.
    creates: bool,
    /// The lowest ratio to the floor that meets the target.
    goal: f64,
}

/// What one wrk run measured.
#[derive(Clone, Copy, Debug)]
struct Run {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Drives `operation` against `base` with wrk for `duration`; fails on any error or
/// unexpected status.
fn wrk(script: &Path, base: &str, operation: &Operation, connections: usize, duration: Duration) -> Result<Run> {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let tag = format!("{}-{}-{}", operation.name, std::process::id(), RUNS.fetch_add(1, Ordering::Relaxed));
    let mut command = Command::new("wrk");
    command
        .args(["-t", &connections.min(WRK_THREADS).to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs()), "--timeout", "10s", "-s"])
        .arg(script)
        .arg(format!("http://{base}{}", operation.path))
        .env("BENCH_METHOD", operation.method)
        .env("BENCH_TOKEN", &operation.token)
        .env("BENCH_WORKSPACE", operation.workspace.to_string())
        .env("BENCH_RUN", tag);
    if operation.creates {
        command.env("BENCH_BODY", CREATE_TEMPLATE);
    } else {
        command.env_remove("BENCH_BODY");
    }
    let output = command.output().context("running wrk (on Debian: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .with_context(|| format!("wrk printed no result: {stdout}{}", String::from_utf8_lossy(&output.stderr)))?;
    let field = |name: &str| -> Result<u64> {
        let value = line.split_whitespace().find_map(|f| f.strip_prefix(name)?.strip_prefix('='));
        Ok(value.with_context(|| format!("no {name} in {line}"))?.parse()?)
    };
    if field("errors")? > 0 {
        bail!(
            "{} {}: {} of wrk's requests failed or answered 4xx/5xx: {line}",
            operation.method,
            operation.path,
            field("errors")?
        );
    }
    let requests = field("requests")?;
    Ok(Run {
        requests,
        per_second: requests as f64 / (field("duration_us")? as f64 / 1e6),
        p50_ms: field("p50_us")? as f64 / 1000.0,
        p99_ms: field("p99_us")? as f64 / 1000.0,
    })
}

/// The runs of one operation at one concurrency, the server's and the floor's taken in turn.
struct Figure {
    operation: &'static str,
    connections: usize,
    goal: f64,
    server: Vec<Run>,
    floor: Vec<Run>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The median requests per second of `runs` and their spread: (max − min) / median.
fn rate(runs: &[Run]) -> (f64, f64) {
    let rates: Vec<f64> = runs.iter().map(|r| r.per_second).collect();
    let middle = median(rates.clone());
    let (low, high) = rates.iter().fold((f64::MAX, 0.0f64), |(l, h), &r| (l.min(r), h.max(r)));
    (middle, (high - low) / middle)
}

/// The release `squared-server` of a benchmark, with a temporary data directory and fresh
/// secrets of its own, so that every benchmark starts from an empty server.
pub(crate) struct ServerInstance {
    binary: std::path::PathBuf,
    data: tempfile::TempDir,
    jwt: String,
    key: String,
}

impl ServerInstance {
    pub(crate) fn new(root: &Path) -> Result<ServerInstance> {
        Ok(ServerInstance {
            binary: root.join("target/release/squared-server"),
            data: tempfile::tempdir()?,
            jwt: random_hex(),
            key: random_hex(),
        })
    }

    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// `squared-server ARGS --data-dir DIR`, with the instance's secrets in its environment.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .arg("--data-dir")
            .arg(self.data.path())
            .env("SQUARED_JWT_SECRET", &self.jwt)
            .env("SQUARED_ENCRYPTION_KEY", &self.key);
        command
    }
}

fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A database made for one PostgreSQL run of the benchmark, dropped afterwards.
struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    fn create(admin_url: &str) -> Result<ScratchDatabase> {
        let name = format!("squared_bench_api_{}", &random_hex()[..12]);
        let mut url = url::Url::parse(admin_url).context("the --database URL")?;
        crate::bench_sync::psql(admin_url, &format!("CREATE DATABASE {name}"))?;
        url.set_path(&name);
        Ok(ScratchDatabase { admin_url: admin_url.to_owned(), name, url: url.into() })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ =
            crate::bench_sync::psql(&self.admin_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// What one engine's server measured.
struct Measured {
    engine: &'static str,
    figures: Vec<Figure>,
    peak_during_load: u64,
    resident: u64,
    peak: u64,
}

/// `cargo xtask bench [--database URL]`: the API on SQLite and, given a PostgreSQL URL, on a
/// scratch database of that server too.
pub fn run(root: &Path, postgres: Option<&str>, log_level: &str) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "squared-server", "-p", "xtask"])
        .args(["--bin", "squared-server", "--bin", "bench-floor"])
        .status()?;
    if !status.success() {
        bail!("the release build failed");
    }
    Command::new("wrk").arg("--version").output().context("wrk is the load generator: apt-get install wrk")?;
    let scripts = tempfile::tempdir()?;
    let script = scripts.path().join("bench.lua");
    std::fs::write(&script, include_str!("bench.lua"))?;

    let mut results = vec![measure(root, &script, "SQLite", None, log_level)?];
    if let Some(url) = postgres {
        let scratch = ScratchDatabase::create(url)?;
        results.push(measure(root, &script, "PostgreSQL", Some(&scratch.url), log_level)?);
    }
    report(root, &results, log_level)
}

/// Starts a release server on `database` (its own SQLite file when `None`), seeds it, and
/// measures each operation at each concurrency against the floor.
fn measure(
    root: &Path,
    script: &Path,
    engine: &'static str,
    database: Option<&str>,
    log_level: &str,
) -> Result<Measured> {
    let instance = ServerInstance::new(root)?;
    let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--log-level", log_level];
    if let Some(url) = database {
        args.extend(["--database", url]);
    }
    let server = Process::start(instance.command(&args))?;
    let token = |workspace: i64| -> Result<String> {
        let output = instance.command(&["token", "--workspace", &workspace.to_string()]).output()?;
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    };
    let (create_token, list_token) = (token(CREATE_WORKSPACE)?, token(LIST_WORKSPACE)?);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;

    // The 10,000 connectors the list pages through, in a workspace of their own, and the
    // bodies the floor answers with.
    println!("{engine}: seeding {LIST_ROWS} connectors…");
    let bodies = instance.data_dir().join("floor");
    std::fs::create_dir_all(&bodies)?;
    let show_id = runtime.block_on(async {
        let base = &server.base;
        fill(base, &list_token, LIST_WORKSPACE, "row", LIST_ROWS).await?;
        let sample = Some(CREATE_TEMPLATE.replace("{n}", "sample"));
        let created = call(
            base,
            api_request(http::Method::POST, "/api/v1/connectors", &create_token, CREATE_WORKSPACE, sample),
            201,
        )
        .await?;
        let id = serde_json::from_slice::<serde_json::Value>(&created)?["data"]["id"]
            .as_str()
            .context("a created connector")?
            .to_owned();
        let show_path = format!("/api/v1/connectors/{id}");
        let shown =
            call(base, api_request(http::Method::GET, &show_path, &create_token, CREATE_WORKSPACE, None), 200).await?;
        let listed =
            call(base, api_request(http::Method::GET, LIST_PATH, &list_token, LIST_WORKSPACE, None), 200).await?;
        std::fs::write(bodies.join("create.json"), &created)?;
        std::fs::write(bodies.join("show.json"), &shown)?;
        std::fs::write(bodies.join("list.json"), &listed)?;
        Ok::<_, anyhow::Error>(id)
    })?;
    let mut floor_command = Command::new(root.join("target/release/bench-floor"));
    floor_command.args(["create.json", "show.json", "list.json"].map(|f| bodies.join(f)));
    let floor = Process::start(floor_command)?;

    let operations = [
        Operation {
            name: "create",
            method: "POST",
            path: "/api/v1/connectors".into(),
            token: create_token.clone(),
            workspace: CREATE_WORKSPACE,
            creates: true,
            goal: 0.5,
        },
        Operation {
            name: "show",
            method: "GET",
            path: format!("/api/v1/connectors/{show_id}"),
            token: create_token.clone(),
            workspace: CREATE_WORKSPACE,
            creates: false,
            goal: 0.8,
        },
        Operation {
            name: "list",
            method: "GET",
            path: LIST_PATH.into(),
            token: list_token,
            workspace: LIST_WORKSPACE,
            creates: false,
            goal: 0.7,
        },
    ];
    let mut created = 0;
    let mut figures = Vec::new();
    for connections in CONCURRENCY {
        for operation in &operations {
            wrk(script, &floor.base, operation, connections, WARM_UP)?;
            let warm_up = wrk(script, &server.base, operation, connections, WARM_UP)?;
            let mut figure = Figure {
                operation: operation.name,
                connections,
                goal: operation.goal,
                server: Vec::new(),
                floor: Vec::new(),
            };
            let mut server_runs = vec![warm_up];
            for _ in 0..RUNS_PER_FIGURE {
                figure.floor.push(wrk(script, &floor.base, operation, connections, MEASURE)?);
                let run = wrk(script, &server.base, operation, connections, MEASURE)?;
                server_runs.push(run);
                figure.server.push(run);
            }
            if operation.creates {
                created += server_runs.iter().map(|r| r.requests).sum::<u64>();
            }
            let ((server_rate, server_spread), (floor_rate, _)) = (rate(&figure.server), rate(&figure.floor));
            println!(
                "{engine}: {} at {connections}: {server_rate:.0}/s (spread {:.0}%), floor {floor_rate:.0}/s: {:.2}",
                operation.name,
                server_spread * 100.0,
                server_rate / floor_rate
            );
            figures.push(figure);
        }
    }
    drop(floor);
    let (_, peak_during_load) = server.memory()?;
    if created < CREATES_FOR_MEMORY {
        println!("{engine}: creating up to {CREATES_FOR_MEMORY} connectors…");
        runtime.block_on(fill(
            &server.base,
            &create_token,
            CREATE_WORKSPACE,
            "memory",
            CREATES_FOR_MEMORY - created,
        ))?;
    }
    let (resident, peak) = server.memory()?;
    Ok(Measured { engine, figures, peak_during_load, resident, peak })
}

fn report(root: &Path, results: &[Measured], log_level: &str) -> Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut section = format!(
        "## {} — API on {cores} cores: wrk on loopback against the release server and the floor, taken in turn; \
         each figure the median of {RUNS_PER_FIGURE} runs of {} s after a {} s warm-up, spread = (max − min) / median; \
         server at --log-level {log_level}\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        MEASURE.as_secs(),
        WARM_UP.as_secs(),
    );
    let mut misses = Vec::new();
    for measured in results {
        let engine = measured.engine;
        section.push_str(&format!(
            "### Server on {engine}\n\n\
             | operation | connections | req/s | spread | floor req/s | floor spread | ratio to floor | p50 ms | p99 ms | target |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
        ));
        for figure in &measured.figures {
            let ((rate_, spread), (floor_rate, floor_spread)) = (rate(&figure.server), rate(&figure.floor));
            let ratio = rate_ / floor_rate;
            let p50 = median(figure.server.iter().map(|r| r.p50_ms).collect());
            let p99 = median(figure.server.iter().map(|r| r.p99_ms).collect());
            let (name, connections, goal) = (figure.operation, figure.connections, figure.goal);
            let met = ratio >= goal;
            let mut target = format!("≥ {goal} {}", if met { "met" } else { "MISSED" });
            if !met {
                misses.push(format!("{engine}: {name} at {connections}: {ratio:.2} of the floor (target {goal})"));
            }
            if connections == 64 {
                let met = p99 < 10.0;
                target.push_str(&format!("; p99 < 10 ms {}", if met { "met" } else { "MISSED" }));
                if !met {
                    misses.push(format!("{engine}: {name} p99 at 64: {p99:.2} ms (target 10 ms)"));
                }
            }
            section.push_str(&format!(
                "| {name} | {connections} | {rate_:.0} | {:.0}% | {floor_rate:.0} | {:.0}% | {ratio:.2} | {p50:.2} | {p99:.2} | {target} |\n",
                spread * 100.0,
                floor_spread * 100.0,
            ));
        }
        let memory_met = measured.resident < 64 * 1024;
        if !memory_met {
            misses.push(format!(
                "{engine}: resident memory after {CREATES_FOR_MEMORY} creates: {} MiB (target 64)",
                measured.resident / 1024
            ));
        }
        section.push_str(&format!(
            "\nServer memory: peak {:.1} MiB during the load runs; after {CREATES_FOR_MEMORY} creates {:.1} MiB resident \
             (peak {:.1} MiB); target < 64 MiB resident: {}.\n\n",
            measured.peak_during_load as f64 / 1024.0,
            measured.resident as f64 / 1024.0,
            measured.peak as f64 / 1024.0,
            if memory_met { "met" } else { "MISSED" }
        ));
    }
    if results.len() > 1 {
        section.push_str(
            "### Engines side by side (req/s, ratio to the floor of the same run)\n\n| operation | connections |",
        );
        for measured in results {
            section.push_str(&format!(" {} |", measured.engine));
        }
        section.push_str(&format!("\n| --- | ---: |{}\n", " ---: |".repeat(results.len())));
        for (i, figure) in results[0].figures.iter().enumerate() {
            section.push_str(&format!("| {} | {} |", figure.operation, figure.connections));
            for measured in results {
                let figure = &measured.figures[i];
                let (server_rate, floor_rate) = (rate(&figure.server).0, rate(&figure.floor).0);
                section.push_str(&format!(" {server_rate:.0} ({:.2}) |", server_rate / floor_rate));
            }
            section.push('\n');
        }
        section.push('\n');
    }
    println!("\n{section}");
    if misses.is_empty() {
        println!("every target met");
    } else {
        println!("targets missed:\n  {}", misses.join("\n  "));
    }
    append_to_benchmarks(root, &section)
}

/// Appends a section to `BENCHMARKS.md`.
pub(crate) fn append_to_benchmarks(root: &Path, section: &str) -> Result<()> {
    let path = root.join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nAppended by `cargo xtask bench` (see `xtask/src/`); newest last.\n\n".into()
    });
    text.push_str(section);
    std::fs::write(&path, text)?;
    println!("appended to BENCHMARKS.md");
    Ok(())
}
