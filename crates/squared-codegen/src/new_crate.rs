//! A spec generated into a crate of its own: its `Cargo.toml` with every dependency the
//! generated code names, a `src/lib.rs`, and the types, server trait and client as
//! `src/types.rs`, `src/api.rs` and `src/client.rs`.
//!
//! Every file of the crate is generated and stamped: the crate is regenerated, never edited.
//! A team implements the trait (`api::SquaredApi`) in a crate of its own that depends on this
//! one, and calls the API through `client::Client`. [`files`] only computes the files; the
//! caller writes them or compares them (`cargo xtask generate --check`), on one path.

use anyhow::Result;

use crate::{Layout, model, render, stamp, standalone};

/// What to generate, and how the generated files name their origin.
pub struct Options<'a> {
    /// The crate's package name.
    pub name: &'a str,
    /// The spec as the stamps name it (a path, or a file name).
    pub spec: &'a str,
    /// The program that generates a crate (`cargo xtask generate`), as the stamps name it.
    pub program: &'a str,
    /// The `squared-support` dependency as `Cargo.toml` writes it after `squared-support = `:
    /// `{ path = "…" }` or a version or git table.
    pub support: &'a str,
}

/// A file of the crate: its path inside the crate, and its text.
pub struct CrateFile {
    pub path: &'static str,
    pub contents: String,
}

/// The dependencies of generated code other than `squared-support`, as `Cargo.toml` writes
/// them. They are the versions the workspace builds with (its `Cargo.toml`), which the test
/// that builds a generated crate (`xtask/tests/generate.rs`) holds to.
const DEPENDENCIES: &str = r#"bytes = "1"
chrono = { version = "0.4", default-features = false, features = ["serde", "clock", "std"] }
dropshot = "0.18"
futures-core = "0.3"
http = "1"
progenitor-client = "0.15"
regex = "1"
regress = "0.12"
reqwest = { version = "0.13", default-features = false, features = ["json", "query", "stream", "rustls", "http2"] }
schemars = { version = "0.8", features = ["chrono"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
uuid = { version = "1", features = ["serde"] }
"#;

/// The model of `spec_text`, and every file of the crate generated from it, `Cargo.toml` first.
pub fn files(spec_text: &str, options: &Options) -> Result<(model::Api, Vec<CrateFile>)> {
    let stamp = stamp(options.program, options.spec, spec_text);
    // The crate's folder by no path at all, so that a check agrees wherever it is checked out.
    let command = format!("{} {} --out <this crate's folder> --name {}", options.program, options.spec, options.name);
    let regenerate = format!("Change {}, then run `{command}`.", options.spec);
    let mut parts = Vec::new();
    let api = standalone::generate_parts_in(spec_text, &Layout::standalone("crate::types"), |part, code| {
        parts.push((part, code));
        Ok(())
    })?;
    let mut files = vec![
        CrateFile { path: "Cargo.toml", contents: manifest(&api, options, &stamp, &regenerate) },
        CrateFile { path: "src/lib.rs", contents: library(&api, options, &stamp, &regenerate) },
    ];
    for (part, code) in parts {
        let (path, what) = match part {
            "types" => ("src/types.rs", "the request and response types shared by client and server"),
            "api" => ("src/api.rs", "the dropshot API trait and its parameter types"),
            _ => ("src/client.rs", "the progenitor client"),
        };
        // The parts are formatted already: only the header is added.
        let header = render(proc_macro2::TokenStream::new(), &stamp, what, &regenerate)?;
        let header = header.trim_end_matches('\n');
        files.push(CrateFile { path, contents: format!("{header}\n\n{code}") });
    }
    Ok((api, files))
}

fn manifest(api: &model::Api, options: &Options, stamp: &str, regenerate: &str) -> String {
    let version = if model::is_semver(&api.version) { api.version.as_str() } else { "0.0.0" };
    let stamp = stamp.replacen("//", "#", 1);
    let (name, support) = (options.name, options.support);
    format!(
        r#"{stamp}
#
# The server trait, types and client of "{title}". {regenerate}

[package]
name = "{name}"
version = "{version}"
edition = "2024"
publish = false

[lib]
doctest = false

# A crate of its own, not a member of the workspace it is generated into.
[workspace]

[dependencies]
squared-support = {support}
{DEPENDENCIES}"#,
        title = api.title.replace(['\n', '\r'], " "),
    )
}

fn library(api: &model::Api, options: &Options, stamp: &str, regenerate: &str) -> String {
    let title = api.title.replace(['\n', '\r'], " ");
    format!(
        r#"{stamp}
//
// This file holds the crate's root. {regenerate}

//! The server trait, types and client of {title}, generated from `{spec}`.
//!
//! A server implements the trait in `api` (its `api_description` turns an implementation into
//! dropshot endpoints); a program calls the API through `client::Client`.

#![allow(unused, clippy::all, non_camel_case_types, non_snake_case)]

#[rustfmt::skip]
pub mod types;
#[rustfmt::skip]
pub mod api;
#[rustfmt::skip]
pub mod client;

/// The OpenAPI document the generated trait emits: what a server built on it really serves.
pub fn openapi_document() -> ::serde_json::Value {{
    ::squared_support::merged_document(
        api::stub_api_descriptions(),
        api::API_TITLE,
        api::API_SEMVER,
        api::API_DESCRIPTION,
        api::DOCUMENTED_PATHS,
    )
}}
"#,
        spec = options.spec,
    )
}
