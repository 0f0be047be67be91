//! `cargo xtask sample`: a deterministic sample of the sweep's specs generated into crates of
//! their own (`squared_codegen::new_crate`), compiled with cargo, and round-tripped
//! (`squared_codegen::round_trip`): the document each generated trait emits, compared with its
//! spec. The sweep shows every spec generates; the sample shows what is generated compiles and
//! says what the spec says.
//!
//! The sample is every `stride`-th spec in path order, starting at the round's offset, so
//! successive rounds (by default, one a week of the checked-out commit's date) compile every
//! spec in turn. Specs above a size bound are left to the sweep (their count is reported).
//! This module writes only under its `out` folder.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use squared_codegen::{model, new_crate, round_trip};

use crate::sweep::spec_files;

/// What the sample is asked for.
pub struct Request<'a> {
    /// The folder of specs (the sweep's).
    pub specs: &'a Path,
    /// Where the crates, their build and the report go.
    pub out: &'a Path,
    /// Which round of the rotation; the week of the checked-out commit when not given.
    pub round: Option<u64>,
    /// Every `stride`-th spec is in a round's sample.
    pub stride: usize,
    /// Specs larger than this many bytes are left out (compiling them is the sweep's remaining gap).
    pub max_bytes: u64,
    /// The specs known to fail the sweep (they are not generated here either).
    pub known: &'a BTreeMap<String, String>,
    /// Fail unless at least this share of the sample compiles and round-trips.
    pub gate: Option<f64>,
    /// Only the sampled specs whose path contains one of these, comma-separated (to look again
    /// at a few).
    pub only: Option<&'a str>,
}

/// What became of one spec of the sample.
#[derive(Debug)]
pub enum Outcome {
    /// The generators refused it (the sweep's known failures are not sampled).
    Refused(String),
    /// The generated crate does not compile: the first error.
    CompileError(String),
    /// It compiled, but the emitted document differs from the spec: the start of the diff.
    Differs(String),
    /// The emitter failed or its output is not a document.
    EmitFailed(String),
    Passed,
}

pub struct Row {
    pub spec: String,
    pub crate_name: String,
    pub bytes: u64,
    pub operations: usize,
    pub outcome: Outcome,
}

/// The round of a commit: the week (since the Unix epoch) of its commit date.
fn default_round(root: &Path) -> u64 {
    let output = Command::new("git").args(["log", "-1", "--format=%ct"]).current_dir(root).output();
    let seconds = output.ok().and_then(|o| String::from_utf8(o.stdout).ok()).and_then(|s| s.trim().parse::<u64>().ok());
    seconds.unwrap_or(0) / (7 * 24 * 3600)
}

/// The specs of one round: every `stride`-th of `all` (sorted), from `round % stride`, those
/// over `max_bytes` and the known failures left out. Returns the sample and how many specs
/// were left out for their size.
pub fn choose(
    all: &[(String, PathBuf, u64)],
    round: u64,
    stride: usize,
    max_bytes: u64,
    known: &BTreeMap<String, String>,
) -> (Vec<usize>, usize) {
    let offset = (round % stride as u64) as usize;
    let mut chosen = Vec::new();
    let mut too_large = 0;
    for index in (offset..all.len()).step_by(stride) {
        let (name, _, bytes) = &all[index];
        if known.contains_key(name) {
            continue;
        }
        if *bytes > max_bytes {
            too_large += 1;
            continue;
        }
        chosen.push(index);
    }
    (chosen, too_large)
}

/// A crate name for the spec at `index` of the folder (`amazonaws.com/s3.json` →
/// `s0123-amazonaws-com-s3`): the index makes it unique, the path readable.
fn crate_name(index: usize, spec: &str) -> String {
    let stem = spec.rsplit_once('.').map_or(spec, |(stem, _)| stem);
    let name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("s{index:04}-{name}")
}

pub fn run(root: &Path, request: &Request) -> Result<Vec<Row>> {
    let started = Instant::now();
    let all: Vec<(String, PathBuf, u64)> = spec_files(request.specs)?
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(request.specs).unwrap_or(&path).to_string_lossy().into_owned();
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            (name, path, bytes)
        })
        .collect();
    if all.is_empty() {
        bail!("no specs under {} (run tests/sweep/fetch.sh)", request.specs.display());
    }
    let round = request.round.unwrap_or_else(|| default_round(root));
    let (mut chosen, too_large) = choose(&all, round, request.stride, request.max_bytes, request.known);
    if let Some(only) = request.only {
        chosen.retain(|&index| only.split(',').any(|part| all[index].0.contains(part)));
    }
    eprintln!(
        "sample round {round} (of {}): {} specs, {too_large} left out as over {} KiB",
        request.stride,
        chosen.len(),
        request.max_bytes / 1024
    );

    let crates = request.out.join("crates");
    if crates.exists() {
        std::fs::remove_dir_all(&crates)?;
    }
    std::fs::create_dir_all(&crates)?;
    let support = root.join("crates/squared-support").canonicalize()?;
    let mut rows = Vec::new();
    let mut specs = BTreeMap::new();
    for index in chosen {
        let (name, path, bytes) = &all[index];
        let crate_name = crate_name(index, name);
        let mut row = Row {
            spec: name.clone(),
            crate_name: crate_name.clone(),
            bytes: *bytes,
            operations: 0,
            outcome: Outcome::Passed,
        };
        match generate(path, name, &crate_name, &crates.join(&crate_name), &support) {
            Ok((operations, document)) => {
                row.operations = operations;
                specs.insert(crate_name, document);
            }
            Err(error) => row.outcome = Outcome::Refused(format!("{error:#}")),
        }
        rows.push(row);
    }
    std::fs::write(
        request.out.join("Cargo.toml"),
        "# Written by `cargo xtask sample`: the sample's crates, one workspace (one build).\n\
         [workspace]\nresolver = \"3\"\nmembers = [\"crates/*\"]\n",
    )?;
    std::fs::copy(root.join("Cargo.lock"), request.out.join("Cargo.lock"))?;

    eprintln!("compiling {} crates", specs.len());
    let built = build(request.out, &root.join("target/generated-crate"))?;
    eprintln!("compiled in {} s; emitting and comparing", started.elapsed().as_secs());
    for row in &mut rows {
        if !matches!(row.outcome, Outcome::Passed) {
            continue;
        }
        row.outcome = match built.get(&row.crate_name) {
            Some(Ok(emitter)) => compare(emitter, &specs[&row.crate_name]),
            Some(Err(error)) => Outcome::CompileError(error.clone()),
            None => Outcome::CompileError("cargo reported neither an error nor the emitter".into()),
        };
    }
    let report = render(&rows, round, request, too_large, started.elapsed());
    std::fs::write(request.out.join("REPORT.md"), &report)?;
    let passed = rows.iter().filter(|r| matches!(r.outcome, Outcome::Passed)).count();
    let share = passed as f64 / rows.len().max(1) as f64;
    eprintln!(
        "{passed} of {} compile and round-trip ({:.1} %); report in {}",
        rows.len(),
        share * 100.0,
        request.out.join("REPORT.md").display()
    );
    if let Some(floor) = request.gate
        && share < floor
    {
        for row in rows.iter().filter(|r| !matches!(r.outcome, Outcome::Passed)) {
            eprintln!("\n{}: {}", row.spec, detail(&row.outcome, 40));
        }
        bail!("{:.1} % of the sample compiles and round-trips; the gate is {:.0} %", share * 100.0, floor * 100.0);
    }
    Ok(rows)
}

/// Generates one spec into `dir` as a member of the sample's workspace, with an emitter
/// example; returns its operation count and its document.
fn generate(path: &Path, spec: &str, crate_name: &str, dir: &Path, support: &Path) -> Result<(usize, Value)> {
    let text = std::fs::read_to_string(path)?;
    let document = model::parse_document(&text)?;
    let support = format!("{{ path = {:?} }}", support.to_string_lossy());
    let options = new_crate::Options { name: crate_name, spec, program: "cargo xtask sample", support: &support };
    let (api, files) = new_crate::files(&text, &options)?;
    let operations = api.operations.len();
    for file in files {
        let mut contents = file.contents;
        if file.path == "Cargo.toml" {
            // A member of the sample's workspace, not a workspace of its own.
            contents = contents.replace("\n[workspace]\n", "\n");
        }
        let path = dir.join(file.path);
        std::fs::create_dir_all(path.parent().expect("a file in the crate"))?;
        std::fs::write(path, contents)?;
    }
    let library = crate_name.replace('-', "_");
    std::fs::create_dir_all(dir.join("examples"))?;
    std::fs::write(
        dir.join(format!("examples/{crate_name}-emit.rs")),
        format!("fn main() {{\n    println!(\"{{}}\", {library}::openapi_document());\n}}\n"),
    )?;
    Ok((operations, document))
}

/// Builds every crate's emitter with `--keep-going`, into `target` (the one `cargo xtask
/// generate`'s test builds into: the dependencies are compiled once); per crate, the
/// emitter's path or the first compile error.
fn build(workspace: &Path, target: &Path) -> Result<BTreeMap<String, Result<PathBuf, String>>> {
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--examples", "--keep-going", "--message-format=json"])
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        // No debug information: the emitters only run once (and the test of `generate` builds
        // with the same setting, so the dependencies are shared).
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("running cargo")?;
    let mut results: BTreeMap<String, Result<PathBuf, String>> = BTreeMap::new();
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(stdout).lines() {
        let message: Value = match serde_json::from_str(&line?) {
            Ok(message) => message,
            Err(_) => continue,
        };
        // `path+file:///…/crates/s-name#0.1.0`: the member's name is its folder's.
        let Some(package) = message["package_id"].as_str().and_then(|id| id.rsplit_once("/crates/")).map(|(_, p)| p)
        else {
            continue;
        };
        let package = package.split(['#', ' ']).next().unwrap_or_default().to_owned();
        match message["reason"].as_str() {
            Some("compiler-message") if message["message"]["level"] == "error" => {
                let rendered = message["message"]["rendered"].as_str().unwrap_or_default().to_owned();
                results.entry(package).or_insert(Err(rendered));
            }
            Some("compiler-artifact") if message["target"]["kind"][0] == "example" => {
                if let Some(executable) = message["executable"].as_str() {
                    results.insert(package, Ok(PathBuf::from(executable)));
                }
            }
            _ => {}
        }
    }
    child.wait()?;
    Ok(results)
}

/// Runs an emitter and compares its document with the spec's.
fn compare(emitter: &Path, spec: &Value) -> Outcome {
    let output = match Command::new(emitter).output() {
        Ok(output) => output,
        Err(error) => return Outcome::EmitFailed(error.to_string()),
    };
    if !output.status.success() {
        return Outcome::EmitFailed(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let emitted: Value = match serde_json::from_slice(&output.stdout) {
        Ok(emitted) => emitted,
        Err(error) => return Outcome::EmitFailed(format!("the emitted document is not JSON: {error}")),
    };
    match std::panic::catch_unwind(|| round_trip::difference(spec, &emitted)) {
        Ok(None) => Outcome::Passed,
        Ok(Some(diff)) => Outcome::Differs(diff),
        Err(panic) => Outcome::EmitFailed(format!(
            "the comparison panicked: {}",
            panic.downcast_ref::<String>().map(String::as_str).or(panic.downcast_ref::<&str>().copied()).unwrap_or("?")
        )),
    }
}

fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Refused(_) => "refused",
        Outcome::CompileError(_) => "does not compile",
        Outcome::Differs(_) => "differs",
        Outcome::EmitFailed(_) => "emit failed",
        Outcome::Passed => "passed",
    }
}

/// The first `lines` lines of what went wrong.
fn detail(outcome: &Outcome, lines: usize) -> String {
    let text = match outcome {
        Outcome::Refused(text) | Outcome::CompileError(text) | Outcome::Differs(text) | Outcome::EmitFailed(text) => {
            text
        }
        Outcome::Passed => return String::new(),
    };
    text.lines().take(lines).collect::<Vec<_>>().join("\n")
}

fn render(rows: &[Row], round: u64, request: &Request, too_large: usize, elapsed: Duration) -> String {
    let count = |label_of: &str| rows.iter().filter(|r| label(&r.outcome) == label_of).count();
    let mut out = format!(
        "# Generator sample, round {round}\n\nWritten by `cargo xtask sample`: every {}th spec of the sweep's folder \
         in path order from the round's offset ({} left out as over {} KiB), generated into a crate of its own, \
         compiled, and its trait's document compared with the spec. It took {} s.\n\n| result | specs |\n| --- | ---: |\n",
        request.stride,
        too_large,
        request.max_bytes / 1024,
        elapsed.as_secs()
    );
    for name in ["passed", "differs", "does not compile", "emit failed", "refused"] {
        out.push_str(&format!("| {name} | {} |\n", count(name)));
    }
    out.push_str("\n| spec | KiB | operations | result | first line |\n| --- | ---: | ---: | --- | --- |\n");
    for row in rows {
        let first = detail(&row.outcome, 12)
            .lines()
            .find(|line| !line.trim().is_empty() && !line.starts_with("---") && !line.starts_with("+++"))
            .unwrap_or_default()
            .replace('|', "\\|");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.spec,
            row.bytes / 1024,
            row.operations,
            label(&row.outcome),
            first.chars().take(160).collect::<String>()
        ));
    }
    let failures: Vec<_> = rows.iter().filter(|r| !matches!(r.outcome, Outcome::Passed)).collect();
    if !failures.is_empty() {
        out.push_str("\n## What failed\n");
        for row in failures {
            out.push_str(&format!("\n### {}\n\n```\n{}\n```\n", row.spec, detail(&row.outcome, 60)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_cover_every_spec_once() {
        let all: Vec<_> =
            (0..53).map(|i| (format!("s{i:02}.json"), PathBuf::new(), if i == 7 { 10 } else { 1 })).collect();
        let known = BTreeMap::from([("s03.json".to_owned(), "why".to_owned())]);
        let mut seen = vec![0; all.len()];
        let mut too_large = 0;
        for round in 0..5 {
            let (chosen, large) = choose(&all, round, 5, 5, &known);
            too_large += large;
            for index in chosen {
                seen[index] += 1;
            }
        }
        assert_eq!(too_large, 1);
        for (index, times) in seen.iter().enumerate() {
            let expected = if index == 3 || index == 7 { 0 } else { 1 };
            assert_eq!(*times, expected, "spec {index}");
        }
        // The same round, the same sample.
        assert_eq!(choose(&all, 12, 5, 5, &known), choose(&all, 2, 5, 5, &known));
    }

    #[test]
    fn crate_names() {
        assert_eq!(crate_name(123, "amazonaws.com/s3.json"), "s0123-amazonaws-com-s3");
    }
}
