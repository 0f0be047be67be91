//! The server interface of the AI Squared API.
//!
//! `generated.rs` holds the dropshot API trait [`SquaredApi`], generated from
//! `spec/openapi.yaml` by `cargo xtask codegen`: a server is a type that implements it (see
//! `squared-server`), and `squared_api_mod::stub_api_description()` turns the trait into the
//! OpenAPI document the round-trip test compares with the spec. This file adds only what
//! cannot be generated: the error type every method returns. The extractors and response
//! wrappers the generated trait names (`OptionalBody`, `ArrayQuery`, the dispatcher for paths
//! dropshot's router cannot hold) live in `squared-support`, which every generated crate shares,
//! and are re-exported here.
//!
//! Dependencies stay few (dropshot and the shared types): nothing here knows about storage,
//! authentication or the catalog.

#[allow(clippy::all)]
#[rustfmt::skip]
mod generated;
mod error;

pub use error::ApiError;
pub use generated::*;
pub use squared_support::{
    AnyPath, ArrayQuery, Dispatched, ObjectKeys, ObjectText, OptionalBody, RawRequest, RepeatedKeys, comma_separated,
    header_holds, match_segments, merged_document, object_from_text, path_from_segments, pipe_separated, query_holds,
    repeated, reroute, space_separated,
};
pub use squared_types as types;

/// The OpenAPI document dropshot emits for [`SquaredApi`] (with its documentation traits,
/// see `dispatch`), with the spec's `info`.
///
/// The round-trip test compares it with `spec/openapi.yaml`: it is what the generated trait
/// really serves.
pub fn openapi_document() -> serde_json::Value {
    merged_document(stub_api_descriptions(), API_TITLE, API_SEMVER, API_DESCRIPTION, DOCUMENTED_PATHS)
}
