//! A compile test of the generators.
//!
//! `cargo xtask codegen` generates the three files of this crate from `constructs.yaml`, a
//! spec that uses every construct the generators support. This crate compiling proves the
//! generated types, server trait and client are valid Rust; `tests/tests/drift.rs` proves the
//! trait emits `constructs.yaml` back; `xtask`'s snapshots show what each construct became.
//!
//! The generated files expect to live in three crates (`squared_types`, a trait crate with
//! an `ApiError`, a client crate with `Credentials`); here they share one, so this file
//! supplies those names with the least code that satisfies them.

extern crate self as squared_types;

#[allow(unused, clippy::all)]
#[rustfmt::skip]
mod generated_types;
#[allow(unused, clippy::all)]
#[rustfmt::skip]
mod generated_api;
#[allow(unused, clippy::all)]
#[rustfmt::skip]
mod generated_client;

pub use generated_api::*;
pub use generated_client::Client;
pub use generated_types::*;

use dropshot::{ErrorStatusCode, HttpError, HttpResponseError};

/// The error type the generated trait names: the spec's error body, with a status.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ApiError(ErrorBody);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl From<HttpError> for ApiError {
    fn from(error: HttpError) -> Self {
        ApiError(ErrorBody { message: error.external_message })
    }
}

impl HttpResponseError for ApiError {
    fn status_code(&self) -> ErrorStatusCode {
        ErrorStatusCode::BAD_REQUEST
    }
}

/// The inner type the generated client names.
#[derive(Clone, Debug, Default)]
pub struct Credentials;

impl progenitor_client::ClientHooks<Credentials> for Client {}

/// The OpenAPI document the generated traits emit, with the spec's `info`.
pub fn openapi_document() -> serde_json::Value {
    squared_api::merged_document(stub_api_descriptions(), API_TITLE, API_SEMVER, API_DESCRIPTION, DOCUMENTED_PATHS)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ThingShape;

    /// A `oneOf` reads the alternative whose JSON type the value has, and nothing else.
    #[test]
    fn a_one_of_reads_the_alternative_its_json_type_names() {
        let labels: ThingShape = serde_json::from_value(json!({"a": "b"})).unwrap();
        assert!(matches!(&labels, ThingShape::Labels(map) if map["a"] == "b"));
        assert_eq!(serde_json::to_value(&labels).unwrap(), json!({"a": "b"}));
        let touches: ThingShape = serde_json::from_value(json!([{"at": null}, {}])).unwrap();
        assert!(matches!(&touches, ThingShape::Array(list) if list.len() == 2));
        for refused in [json!("text"), json!(3), json!({"a": 1}), json!([1])] {
            assert!(serde_json::from_value::<ThingShape>(refused.clone()).is_err(), "{refused}");
        }
    }
}
