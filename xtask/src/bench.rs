//! `cargo xtask bench`: how much the server serves on this machine, against a floor.
//!
//! It builds the release server and the floor (`src/bin/bench-floor.rs`, dropshot answering
//! the same 201 body without work), starts each on loopback, and drives them from this
//! process (a separate load generator: one keep-alive HTTP/1.1 connection per worker) at 1,
//! 16 and 64 connections: create, show, and list (the first page of 10 out of 10,000
//! connectors). It prints requests per second, p50 and p99 latency and the ratio to the
//! floor, the server's memory after 100,000 creates, and appends a dated table to
//! `BENCHMARKS.md`. Targets are reported, never asserted: timing belongs here, not in tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

const CONCURRENCY: [usize; 3] = [1, 16, 64];
const MEASURE: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_secs(1);
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

/// What one request is.
#[derive(Clone)]
struct Call {
    method: http::Method,
    path: String,
    token: Arc<str>,
    workspace: i64,
    /// Bodies are made per request (create needs a fresh name).
    body: Option<Arc<dyn Fn(u64) -> String + Send + Sync>>,
    expect: u16,
}

impl Call {
    fn request(&self, n: u64) -> http::Request<Full<Bytes>> {
        let body = self.body.as_ref().map(|make| make(n)).unwrap_or_default();
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header(http::header::HOST, "127.0.0.1")
            .header(http::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header("Workspace-Id", self.workspace);
        if self.body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        builder.body(Full::new(Bytes::from(body))).expect("a valid request")
    }
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

/// One measurement.
struct Stats {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Drives `call` over `connections` connections for the warm-up and then the measurement.
async fn load(address: &str, call: &Call, connections: usize, sequence: &Arc<AtomicU64>) -> Result<Stats> {
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let end = measure_from + MEASURE;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let mut sender = connect(address).await?;
        let call = call.clone();
        let sequence = sequence.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let n = sequence.fetch_add(1, Ordering::Relaxed);
                let (status, body) = send(&mut sender, call.request(n)).await?;
                if status != call.expect {
                    bail!("{} {} answered {status}: {}", call.method, call.path, String::from_utf8_lossy(&body));
                }
                if now >= measure_from {
                    latencies.push(now.elapsed().as_micros() as u32);
                }
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Ok(Stats {
        requests: latencies.len() as u64,
        per_second: latencies.len() as f64 / MEASURE.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    })
}

/// Sends `count` requests over 16 connections, as fast as they go.
async fn fill(address: &str, call: &Call, count: u64, sequence: &Arc<AtomicU64>) -> Result<()> {
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let mut sender = connect(address).await?;
        let (call, sequence, done) = (call.clone(), sequence.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::Relaxed) < count {
                let (status, body) = send(&mut sender, call.request(sequence.fetch_add(1, Ordering::Relaxed))).await?;
                if status != call.expect {
                    bail!("{} {} answered {status}: {}", call.method, call.path, String::from_utf8_lossy(&body));
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

fn create_body(prefix: &'static str) -> Arc<dyn Fn(u64) -> String + Send + Sync> {
    Arc::new(move |n| {
        format!(
            r#"{{"connector":{{"name":"{prefix}-{n}","connector_type":"destination","connector_name":"Http","configuration":{{"destination_url":"https://hooks.example.com/{n}","headers":{{"X-Api-Key":"secret-{n}"}}}}}}}}"#
        )
    })
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

pub fn run(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "squared-server", "-p", "xtask"])
        .args(["--bin", "squared-server", "--bin", "bench-floor"])
        .status()?;
    if !status.success() {
        bail!("the release build failed");
    }
    let release = root.join("target/release");
    let instance = ServerInstance::new(root)?;
    let data = instance.data_dir().to_owned();
    let server_command = |args: &[&str]| instance.command(args);
    let token = |workspace: i64| -> Result<Arc<str>> {
        let output = server_command(&["token", "--workspace", &workspace.to_string()]).output()?;
        Ok(String::from_utf8(output.stdout)?.trim().into())
    };
    let server = Process::start(server_command(&["serve", "--bind", "127.0.0.1:0"]))?;
    let (create_token, list_token) = (token(CREATE_WORKSPACE)?, token(LIST_WORKSPACE)?);

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(async {
        let sequence = Arc::new(AtomicU64::new(0));
        let create = Call {
            method: http::Method::POST,
            path: "/api/v1/connectors".into(),
            token: create_token.clone(),
            workspace: CREATE_WORKSPACE,
            body: Some(create_body("bench")),
            expect: 201,
        };
        // The 10,000 connectors the list pages through, in a workspace of their own.
        let seed = Call {
            token: list_token.clone(),
            workspace: LIST_WORKSPACE,
            body: Some(create_body("row")),
            ..create.clone()
        };
        println!("seeding {LIST_ROWS} connectors…");
        fill(&server.base, &seed, LIST_ROWS, &sequence).await?;
        let mut sender = connect(&server.base).await?;
        let (_, sample) = send(&mut sender, create.request(u64::MAX)).await?;
        let sample_body: serde_json::Value = serde_json::from_slice(&sample)?;
        let id = sample_body["data"]["id"].as_str().context("a created connector")?.to_owned();
        let show = Call {
            method: http::Method::GET,
            path: format!("/api/v1/connectors/{id}"),
            body: None,
            expect: 200,
            ..create.clone()
        };
        let list = Call {
            method: http::Method::GET,
            path: "/api/v1/connectors?page=1&per_page=10".into(),
            token: list_token.clone(),
            workspace: LIST_WORKSPACE,
            body: None,
            expect: 200,
        };

        let body_file = data.join("floor-body.json");
        std::fs::write(&body_file, &sample)?;
        let mut floor_command = Command::new(release.join("bench-floor"));
        floor_command.arg(&body_file);
        let floor = Process::start(floor_command)?;

        let mut rows = Vec::new();
        for connections in CONCURRENCY {
            let floor_stats = load(&floor.base, &create, connections, &sequence).await?;
            for (name, call) in [("create", &create), ("show", &show), ("list", &list)] {
                let stats = load(&server.base, call, connections, &sequence).await?;
                rows.push((name, connections, stats, floor_stats.per_second));
            }
            rows.push(("floor", connections, floor_stats, 0.0));
        }
        drop(floor);
        let (_, peak_during_load) = server.memory()?;

        // Memory after 100,000 creates in all.
        let created = sequence.load(Ordering::Relaxed);
        if created < CREATES_FOR_MEMORY {
            println!("creating up to {CREATES_FOR_MEMORY} connectors…");
            let more = Call { body: Some(create_body("memory")), ..create.clone() };
            fill(&server.base, &more, CREATES_FOR_MEMORY - created, &sequence).await?;
        }
        let (resident, peak) = server.memory()?;
        Ok::<_, anyhow::Error>((rows, peak_during_load, resident, peak))
    });
    drop(server);
    drop(instance);
    let (rows, peak_during_load, resident, peak) = result?;
    report(root, &rows, peak_during_load, resident, peak)
}

fn report(
    root: &Path,
    rows: &[(&str, usize, Stats, f64)],
    peak_during_load: u64,
    resident: u64,
    peak: u64,
) -> Result<()> {
    let mut table = String::from(
        "| operation | connections | requests | req/s | p50 ms | p99 ms | ratio to floor | target |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let mut misses = Vec::new();
    for (name, connections, stats, floor) in rows {
        let ratio = if *floor > 0.0 { stats.per_second / floor } else { 1.0 };
        let goal = match *name {
            "create" => Some(0.35),
            "show" | "list" => Some(0.6),
            _ => None,
        };
        let mut target = String::new();
        if let Some(goal) = goal {
            let met = ratio >= goal;
            target = format!("≥ {goal} {}", if met { "met" } else { "MISSED" });
            if !met {
                misses.push(format!("{name} at {connections}: {ratio:.2} of the floor (target {goal})"));
            }
        }
        if *connections == 64 && *name != "floor" {
            let met = stats.p99_ms < 10.0;
            target.push_str(&format!("; p99 < 10 ms {}", if met { "met" } else { "MISSED" }));
            if !met {
                misses.push(format!("{name} p99 at 64: {:.2} ms (target 10 ms)", stats.p99_ms));
            }
        }
        table.push_str(&format!(
            "| {name} | {connections} | {} | {:.0} | {:.2} | {:.2} | {} | {target} |\n",
            stats.requests,
            stats.per_second,
            stats.p50_ms,
            stats.p99_ms,
            if *name == "floor" { "1.00".into() } else { format!("{ratio:.2}") }
        ));
    }
    let memory_met = resident < 64 * 1024;
    if !memory_met {
        misses.push(format!("resident memory after {CREATES_FOR_MEMORY} creates: {} MiB (target 64)", resident / 1024));
    }
    let memory = format!(
        "Server memory: peak {:.1} MiB during the load runs; after {CREATES_FOR_MEMORY} creates {:.1} MiB resident \
         (peak {:.1} MiB); target < 64 MiB resident: {}.\n",
        peak_during_load as f64 / 1024.0,
        resident as f64 / 1024.0,
        peak as f64 / 1024.0,
        if memory_met { "met" } else { "MISSED" }
    );
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let heading = format!(
        "## {} — {cores} cores, SQLite in a temp dir, load generator on loopback ({} s per run after {} s warm-up)\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        MEASURE.as_secs(),
        WARM_UP.as_secs()
    );
    let section = format!("{heading}{table}\n{memory}\n");
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
