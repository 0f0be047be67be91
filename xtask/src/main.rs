//! `cargo xtask`: the workspace's commands. See `cargo xtask --help`.

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Workspace tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the types, server trait and client from spec/openapi.yaml.
    Codegen {
        /// Write nothing; fail with a diff if any generated file is stale.
        #[arg(long)]
        check: bool,
    },
    /// Generate any spec into a crate of its own (Cargo.toml, types, server trait, client).
    Generate {
        /// The OpenAPI 3.0 or 3.1 document.
        spec: std::path::PathBuf,
        /// The crate's folder (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The crate's name (default: the spec file's stem).
        #[arg(long)]
        name: Option<String>,
        /// The squared-support dependency as Cargo.toml writes it, e.g. '{ git = "…" }'
        /// (default: a path to this workspace's crates/squared-support).
        #[arg(long)]
        support: Option<String>,
        /// Write nothing; fail with a diff if any file of the crate is stale or missing.
        #[arg(long)]
        check: bool,
    },
    /// Check a spec for what the generators cannot take and what API style forbids.
    SpecCheck {
        /// The spec to check.
        #[arg(default_value = xtask::codegen::SPEC_PATH)]
        spec: std::path::PathBuf,
    },
    /// Measure the release server against a floor; append the figures to BENCHMARKS.md.
    /// Without a target: the API against a dropshot floor.
    Bench {
        #[command(subcommand)]
        target: Option<BenchTarget>,
        /// Also measure the server on a scratch database of this PostgreSQL server
        /// (postgres://…; it needs the right to create databases).
        #[arg(long)]
        database: Option<String>,
        /// The server's --log-level (at `info`, its default, a line per request).
        #[arg(long, default_value = "info")]
        log_level: String,
    },
    /// Generate every spec under a folder, each in a process of its own; write a report.
    Sweep {
        /// The folder of specs (`tests/sweep/fetch.sh` unpacks the APIs.guru directory into
        /// target/sweep/package/api).
        #[arg(long, default_value = "target/sweep/package/api")]
        specs: std::path::PathBuf,
        /// Where to write the report.
        #[arg(long, default_value = "target/sweep/REPORT.md")]
        report: std::path::PathBuf,
        /// How many specs to generate at a time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Only the specs whose path contains this.
        #[arg(long)]
        only: Option<String>,
        /// Fail on a crash or a refusal (unless listed in `--known`), and on a listed spec that
        /// now generates.
        #[arg(long)]
        gate: bool,
        /// The specs known to fail, each with why.
        #[arg(long, default_value = "tests/sweep/known-failures.txt")]
        known: std::path::PathBuf,
    },
    /// Generate a rotating sample of the sweep's specs into crates, compile them, and compare
    /// what each trait emits with its spec; write a report.
    Sample {
        /// The folder of specs (as for `sweep`).
        #[arg(long, default_value = "target/sweep/package/api")]
        specs: std::path::PathBuf,
        /// Where the crates, their build and REPORT.md go.
        #[arg(long, default_value = "target/sample")]
        out: std::path::PathBuf,
        /// The round of the rotation (default: the week of the checked-out commit's date).
        #[arg(long)]
        round: Option<u64>,
        /// Every STRIDE-th spec is in a round's sample; STRIDE rounds compile every spec.
        #[arg(long, default_value_t = 25)]
        stride: usize,
        /// Specs larger than this many KiB are left out (counted in the report).
        #[arg(long, default_value_t = 1024)]
        max_kib: u64,
        /// Fail unless at least this percentage of the sample compiles and round-trips.
        #[arg(long)]
        gate: Option<f64>,
        /// The specs known to fail the sweep (not sampled).
        #[arg(long, default_value = "tests/sweep/known-failures.txt")]
        known: std::path::PathBuf,
        /// Only the sampled specs whose path contains this.
        #[arg(long)]
        only: Option<String>,
    },
    /// Generate one spec in memory (the sweep's child process).
    #[command(hide = true)]
    SweepOne { spec: std::path::PathBuf },
    /// List the API changes since a git ref; fail on a breaking one without a new major version.
    SpecDiff {
        /// The commit, branch or tag to compare with.
        #[arg(long)]
        base: String,
    },
}

#[derive(Subcommand)]
enum BenchTarget {
    /// The generators: generation and compile time of our spec and of every corpus spec.
    Codegen,
    /// The sync engine, PostgreSQL to PostgreSQL, against psql's \copy out and in.
    Sync {
        /// How many rows the source table has.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Codegen { check } => xtask::codegen::run(&xtask::codegen::workspace_root(), check),
        Command::Generate { spec, out, name, support, check } => {
            let request = xtask::generate::Request {
                spec: &spec,
                out: &out,
                name: name.as_deref(),
                support: support.as_deref(),
                check,
            };
            for path in xtask::generate::run(&xtask::codegen::workspace_root(), &request)? {
                eprintln!("{} {}", if check { "stale" } else { "wrote" }, path.display());
            }
            Ok(())
        }
        Command::Bench { target: None, database, log_level } => {
            xtask::bench::run(&xtask::codegen::workspace_root(), database.as_deref(), &log_level)
        }
        Command::Bench { target: Some(BenchTarget::Codegen), .. } => {
            xtask::bench_codegen::run(&xtask::codegen::workspace_root())
        }
        Command::Bench { target: Some(BenchTarget::Sync { rows }), .. } => {
            xtask::bench_sync::run(&xtask::codegen::workspace_root(), rows)
        }
        Command::Sweep { specs, report, jobs, only, gate, known } => {
            let known = xtask::sweep::known_failures(&known)?;
            xtask::sweep::run(&specs, &report, jobs, only.as_deref(), gate, &known)
        }
        Command::Sample { specs, out, round, stride, max_kib, gate, known, only } => {
            let known = xtask::sweep::known_failures(&known)?;
            std::fs::create_dir_all(&out)?;
            let request = xtask::sample::Request {
                specs: &specs,
                out: &out.canonicalize()?,
                round,
                stride,
                max_bytes: max_kib * 1024,
                known: &known,
                gate: gate.map(|percent| percent / 100.0),
                only: only.as_deref(),
            };
            xtask::sample::run(&xtask::codegen::workspace_root(), &request).map(drop)
        }
        Command::SweepOne { spec } => xtask::sweep::run_one(&spec),
        Command::SpecCheck { spec } => xtask::spec_check::run(&spec),
        Command::SpecDiff { base } => xtask::spec_diff::run(&xtask::codegen::workspace_root(), &base),
    }
}

/// mimalloc: generating a large spec makes and drops many millions of small token
/// allocations, where glibc's allocator spends a third of the time (and fragments).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
