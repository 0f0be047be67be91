//! The server interface of the AI Squared API.
//!
//! `generated.rs` holds the dropshot API trait [`SquaredApi`], generated from
//! `spec/openapi.yaml` by `cargo xtask codegen`: a server is a type that implements it (see
//! `squared-server`), and `squared_api_mod::stub_api_description()` turns the trait into the
//! OpenAPI document the round-trip test compares with the spec. This file adds only what
//! cannot be generated: the error type every method returns, and the extractors and
//! response wrappers the generated trait names (`OptionalBody`, `ArrayQuery`, `PinnedBody`, `Pinned`, `Routed`).
//!
//! Dependencies stay few (dropshot and the shared types): nothing here knows about storage,
//! authentication or the catalog.

#[allow(clippy::all)]
#[rustfmt::skip]
mod generated;
mod array_query;
mod error;
mod optional_body;
mod pinned;

pub use array_query::{ArrayQuery, RepeatedKeys, comma_separated, repeated};
pub use error::ApiError;
pub use generated::*;
pub use optional_body::OptionalBody;
pub use pinned::{Pinned, PinnedBody, Routed};
pub use squared_types as types;

/// The OpenAPI document dropshot emits for [`SquaredApi`], with the spec's `info`.
///
/// The round-trip test compares it with `spec/openapi.yaml`: it is what the generated trait
/// really serves.
pub fn openapi_document() -> serde_json::Value {
    let description = squared_api_mod::stub_api_description().expect("the generated trait is a valid API");
    let version: semver::Version = API_VERSION.parse().expect("the generator checked info.version");
    let mut openapi = description.openapi(API_TITLE, version);
    if let Some(text) = API_DESCRIPTION {
        openapi.description(text);
    }
    openapi.json().expect("the document serializes")
}
