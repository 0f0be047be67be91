//! The server interface of the AI Squared API.
//!
//! `generated.rs` holds the dropshot API trait [`SquaredApi`], generated from
//! `spec/openapi.yaml` by `cargo xtask codegen`: a server is a type that implements it (see
//! `squared-server`), and `squared_api_mod::stub_api_description()` turns the trait into the
//! OpenAPI document the round-trip test compares with the spec. This file adds only what
//! cannot be generated: the error type every method returns.
//!
//! Dependencies stay few (dropshot and the shared types): nothing here knows about storage,
//! authentication or the catalog.

#[allow(clippy::all)]
#[rustfmt::skip]
mod generated;
mod error;

pub use error::ApiError;
pub use generated::*;
pub use squared_types as types;
