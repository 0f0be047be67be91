//! The spec and the generated server trait must describe the same API.
//!
//! `cargo xtask codegen --check` (and its `#[test]` in xtask) proves the generated code is
//! what the spec produces now; this test proves that code serves what the spec says, and
//! keeps the emitted document under a snapshot so every change is reviewed
//! (`cargo insta review`).

use std::path::Path;

use serde_json::Value;
use squared_codegen::round_trip;

fn load(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_generated_trait_serves_the_spec() {
    let emitted = squared_api::openapi_document();
    if let Some(diff) = round_trip::difference(&load("../spec/openapi.yaml"), &emitted) {
        panic!(
            "the document the generated dropshot trait emits differs from spec/openapi.yaml.\n\
             If you edited the spec, run `cargo xtask codegen`; otherwise the generator has a bug.\n\n{diff}"
        );
    }
}

#[test]
fn emitted_document() {
    insta::assert_snapshot!("emitted_openapi", round_trip::canonical_yaml(&squared_api::openapi_document()));
}

/// The same round trip over every construct the generators support.
#[test]
fn every_construct_round_trips() {
    let emitted = constructs_fixture::openapi_document();
    if let Some(diff) = round_trip::difference(&load("constructs/constructs.yaml"), &emitted) {
        panic!("the constructs fixture does not round-trip; run `cargo xtask codegen` or fix the generator:\n\n{diff}");
    }
}
