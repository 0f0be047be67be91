//! The request and response types of the AI Squared API.
//!
//! Every type here is generated from `spec/openapi.yaml` by `cargo xtask codegen` into
//! `generated.rs`; both the server trait (`squared-api`) and the client (`squared-client`)
//! use these same types, so the two cannot disagree about a shape. This crate stays light
//! (serde, schemars, chrono) so that client users do not compile a server stack.

#[allow(clippy::all)]
#[rustfmt::skip]
mod generated;

pub use generated::*;
