//! A spec generated as one module of a crate: its types, trait and client side by side,
//! in the layout a team's own spec gets (generated error types, the support items of
//! `squared-support`). The corpus (`tests/corpus/build.rs`) compiles real specs this way, and
//! `cargo xtask bench codegen` times them so. Writes only into the folder it is given.

use std::path::Path;

use anyhow::{Context, Result};

use super::{Layout, model, pretty};

/// A spec's module, written.
pub struct Module {
    /// The module's name: the spec file's stem in snake_case.
    pub name: String,
    /// The module's Rust source (it includes the three generated files).
    pub source: String,
    pub operations: usize,
}

/// A Rust module name for a spec file: its stem in snake_case.
pub fn module_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let mut name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "spec_");
    }
    name
}

/// Generates the spec at `path` into `out` (`<module>_types.rs`, `…_api.rs`, `…_client.rs`)
/// and returns the module that includes them, whose `openapi_document()` calls
/// `crate::emitted` with the trait's description.
pub fn write_module(path: &Path, out: &Path) -> Result<Module> {
    let file = path.file_name().and_then(|f| f.to_str()).context("a spec file name is UTF-8")?;
    let name = module_name(file);
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let api = generate_parts(&text, &name, |part, formatted| {
        std::fs::write(out.join(format!("{name}_{part}.rs")), formatted).map_err(Into::into)
    })
    .with_context(|| path.display().to_string())?;
    let source = format!(
        r#"
/// Generated from `{file}`.
#[allow(unused, clippy::all, non_camel_case_types, non_snake_case)]
pub mod {name} {{
    pub mod types {{ include!(concat!(env!("OUT_DIR"), "/{name}_types.rs")); }}
    pub mod api {{ include!(concat!(env!("OUT_DIR"), "/{name}_api.rs")); }}
    pub mod client {{ include!(concat!(env!("OUT_DIR"), "/{name}_client.rs")); }}

    /// The OpenAPI document the generated trait emits.
    pub fn openapi_document() -> ::serde_json::Value {{
        ::squared_support::merged_document(api::stub_api_descriptions(), api::API_TITLE, api::API_SEMVER, api::API_DESCRIPTION, api::DOCUMENTED_PATHS)
    }}
}}
"#
    );
    Ok(Module { name, source, operations: api.operations.len() })
}

/// The layout of a spec generated as the module `name` of a crate.
pub fn layout(name: &str) -> Layout {
    Layout::standalone(&format!("crate::{name}::types"))
}

/// A spec's model, and its three files (`types`, `api`, `client`), formatted, handed to `emit`
/// one at a time: each is generated and formatted after the one before is emitted, since a
/// large spec's token streams are what its generation's memory goes to.
pub fn generate_parts(
    text: &str,
    name: &str,
    emit: impl FnMut(&'static str, String) -> Result<()>,
) -> Result<model::Api> {
    generate_parts_in(text, &layout(name), emit)
}

/// [`generate_parts`] into any layout.
pub fn generate_parts_in(
    text: &str,
    layout: &Layout,
    mut emit: impl FnMut(&'static str, String) -> Result<()>,
) -> Result<model::Api> {
    let api = model::load(text)?;
    let format = |part: &str, tokens: proc_macro2::TokenStream| {
        pretty(tokens).with_context(|| format!("the generated {part} do not parse"))
    };
    emit("types", format("types", super::types::generate(&api))?)?;
    emit("api", format("api", super::server_trait::generate(&api, layout)?)?)?;
    emit("client", format("client", super::client::generate(&api, layout)?)?)?;
    Ok(api)
}
