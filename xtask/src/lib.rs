//! The workspace's own tooling, run as `cargo xtask <command>`.
//!
//! A library as well as a binary so that tests (here and in `tests/`) reuse the generators
//! instead of shelling out to them.

pub mod bench;
pub mod bench_codegen;
pub mod bench_sync;
pub mod codegen;
pub mod generate;
pub mod sample;
pub mod spec_check;
pub mod spec_diff;
pub mod sweep;
