//! Every spec in `tests/specs/` round-trips: the document its generated dropshot trait emits
//! equals the spec after the documented normalisation (`squared_codegen::round_trip`). That the
//! generated types, trait and client compile is the `corpus` crate building at all.
//!
//! It lives here, beside what it checks, so that the workspace's contract tests never wait for
//! the corpus to build.

use std::path::Path;

use serde_json::Value;
use squared_codegen::round_trip;

#[test]
fn every_corpus_spec_round_trips() {
    // The largest specs nest deep (dropshot's schema generation and the normaliser recurse):
    // more stack than a test thread's default.
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(round_trip_every_spec)
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

fn round_trip_every_spec() {
    // This crate is tests/corpus; the specs are in tests/specs.
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/corpus is in tests/");
    let mut failures = Vec::new();
    let all = corpus::SPECS.iter().map(|s| ("specs", s)).chain(corpus::FIXTURES.iter().map(|s| ("corpus/fixtures", s)));
    for (folder, spec) in all {
        let text = std::fs::read_to_string(tests.join(folder).join(spec.file)).unwrap();
        let document: Value = squared_codegen::model::parse_document(&text).unwrap();
        let emitted = match std::panic::catch_unwind(spec.openapi_document) {
            Ok(emitted) => emitted,
            Err(_) => {
                failures.push(format!(
                    "tests/specs/{}: the generated trait does not describe an API (see above)",
                    spec.file
                ));
                continue;
            }
        };
        if let Some(diff) = round_trip::difference(&document, &emitted) {
            failures.push(format!("tests/{folder}/{}:\n{diff}", spec.file));
        }
    }
    assert!(corpus::SPECS.len() >= 8, "the corpus lost specs: {}", corpus::SPECS.len());
    assert!(
        failures.is_empty(),
        "{} of {} specs do not round-trip:\n\n{}",
        failures.len(),
        corpus::SPECS.len(),
        failures.join("\n\n")
    );
}

/// Every file in `tests/specs/` is in the corpus: none is skipped by the build.
#[test]
fn the_corpus_is_every_spec_file() {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut files: Vec<String> = std::fs::read_dir(specs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json"))
        .collect();
    files.sort();
    let built: Vec<&str> = corpus::SPECS.iter().map(|s| s.file).collect();
    assert_eq!(files, built);
}
