//! `cargo xtask bench codegen`: how long the generators take, and how long their code
//! takes to compile, for our spec and every spec of the corpus.
//!
//! Generation is timed in process (reading the spec, building the model, generating and
//! formatting the three files), the median of [`RUNS`] runs. Compilation is timed by
//! building the crates that hold the generated code: for our spec `squared-types`,
//! `squared-api` and `squared-client` after touching their generated files; for a corpus
//! spec the `corpus` crate holding that spec alone (`CORPUS_ONLY`), its dependencies
//! built beforehand. Targets (our spec under 2 s, the largest corpus spec under 15 s to
//! generate) are reported, never asserted. The figures are appended to `BENCHMARKS.md`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use squared_codegen::standalone;

use crate::codegen::{SPEC_PATH, TARGETS, generated_files};

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn timed<T>(run: impl Fn() -> Result<T>) -> Result<Duration> {
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        run()?;
        samples.push(start.elapsed());
    }
    Ok(median(samples))
}

fn cargo_build(root: &Path, packages: &[&str], only: Option<&str>) -> Result<Duration> {
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(root).args(["build", "--quiet", "--locked"]);
    for package in packages {
        command.args(["-p", package]);
    }
    match only {
        Some(file) => command.env("CORPUS_ONLY", file),
        None => command.env_remove("CORPUS_ONLY"),
    };
    let start = Instant::now();
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build {packages:?} failed");
    }
    Ok(start.elapsed())
}

struct Row {
    spec: String,
    operations: usize,
    generate: Duration,
    compile: Duration,
}

pub fn run(root: &Path) -> Result<()> {
    let mut rows = Vec::new();

    // Our spec, in the workspace's layout.
    let text = std::fs::read_to_string(root.join(SPEC_PATH))?;
    let operations = squared_codegen::model::load(&text)?.operations.len();
    let generate = timed(|| generated_files(&TARGETS[0], &text))?;
    cargo_build(root, &["squared-api", "squared-client"], None)?;
    for file in [TARGETS[0].types, TARGETS[0].server_trait, TARGETS[0].client] {
        let path = root.join(file);
        std::fs::write(&path, std::fs::read(&path)?)?;
    }
    let compile = cargo_build(root, &["squared-api", "squared-client"], None)?;
    rows.push(Row { spec: SPEC_PATH.into(), operations, generate, compile });

    // The corpus, one spec at a time.
    let scratch = tempfile::tempdir()?;
    let mut specs: Vec<_> = std::fs::read_dir(root.join("tests/specs"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")))
        .collect();
    specs.sort();
    cargo_build(root, &["corpus"], Some("none"))?;
    for path in &specs {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_owned();
        let operations = standalone::write_module(path, scratch.path())?.operations;
        let generate = timed(|| standalone::write_module(path, scratch.path()))?;
        let compile = cargo_build(root, &["corpus"], Some(&file))?;
        eprintln!("{file}: {operations} operations, generated in {generate:.2?}, compiled in {compile:.2?}");
        rows.push(Row { spec: format!("tests/specs/{file}"), operations, generate, compile });
    }
    cargo_build(root, &["corpus"], None)?;

    let mut table =
        String::from("| spec | operations | generate (median of 5) | compile |\n| --- | ---: | ---: | ---: |\n");
    for row in &rows {
        table.push_str(&format!(
            "| `{}` | {} | {:.0} ms | {:.1} s |\n",
            row.spec,
            row.operations,
            row.generate.as_secs_f64() * 1000.0,
            row.compile.as_secs_f64()
        ));
    }
    println!("{table}");
    let ours = &rows[0];
    let largest = rows[1..].iter().max_by_key(|r| r.operations).expect("the corpus has specs");
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    let targets = format!(
        "our spec generates in {:.0} ms (target under 2 s: {}); the largest corpus spec ({}, {} operations) in {:.0} ms \
         (target under 15 s: {})\n",
        ours.generate.as_secs_f64() * 1000.0,
        verdict(ours.generate < Duration::from_secs(2)),
        largest.spec,
        largest.operations,
        largest.generate.as_secs_f64() * 1000.0,
        verdict(largest.generate < Duration::from_secs(15)),
    );
    println!("{targets}");
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let section = format!(
        "\n## Code generation, {date}\n\n`cargo xtask bench codegen`: generating the three files of each spec (in \
         process, after build), and compiling them (`cargo build` of the crates that hold them, dependencies built).\n\n\
         {table}\n{targets}"
    );
    crate::bench::append_to_benchmarks(root, &section)
}
