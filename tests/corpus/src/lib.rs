//! A compile test of the generators over real API descriptions.
//!
//! `build.rs` generates, for every spec in `tests/specs/`, a module with the spec's shared
//! types, its dropshot server trait and its progenitor client, laid out as the workspace's
//! own crates are but in one crate. This crate compiling proves the generated code is valid
//! Rust; `tests/round_trip.rs` proves each trait emits its spec back.

include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

/// One spec of the corpus.
pub struct Spec {
    /// The file name in `tests/specs/`.
    pub file: &'static str,
    pub operations: usize,
    /// The OpenAPI document its generated trait emits.
    pub openapi_document: fn() -> serde_json::Value,
}
