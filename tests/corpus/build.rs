//! Generates the types, the server trait and the client of every spec in `tests/specs/`
//! into `OUT_DIR`, one module per spec, and an index of them (`SPECS`).
//!
//! A spec the generators refuse fails the build, with the spec's file and the refusal's
//! JSON Pointer; adding a spec is adding its file (cargo reruns this when the folder changes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xtask::codegen::{Layout, generate, model, pretty};

fn main() -> Result<()> {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", specs.display());
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&specs)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.retain(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")));
    files.sort();
    let mut index = String::new();
    let mut entries = String::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let file = path.file_name().and_then(|f| f.to_str()).context("a spec file name is UTF-8")?;
        let module = module_name(file);
        let text = std::fs::read_to_string(path)?;
        let api = model::load(&text).with_context(|| format!("tests/specs/{file}"))?;
        let layout = Layout {
            types: format!("crate::{module}::types"),
            support: "::squared_api".into(),
            client_inner: None,
            error: None,
        };
        let code = generate(&api, &layout).with_context(|| format!("tests/specs/{file}"))?;
        for (part, tokens) in [("types", code.types), ("api", code.server_trait), ("client", code.client)] {
            std::fs::write(out.join(format!("{module}_{part}.rs")), pretty(tokens)?)?;
        }
        write!(
            index,
            r#"
/// Generated from `tests/specs/{file}`.
#[allow(unused, clippy::all, non_camel_case_types, non_snake_case)]
pub mod {module} {{
    pub mod types {{ include!(concat!(env!("OUT_DIR"), "/{module}_types.rs")); }}
    pub mod api {{ include!(concat!(env!("OUT_DIR"), "/{module}_api.rs")); }}
    pub mod client {{ include!(concat!(env!("OUT_DIR"), "/{module}_client.rs")); }}

    /// The OpenAPI document the generated trait emits.
    pub fn openapi_document() -> ::serde_json::Value {{
        crate::emitted(api::squared_api_mod::stub_api_description(), api::API_TITLE, api::API_VERSION, api::API_DESCRIPTION)
    }}
}}
"#
        )?;
        writeln!(
            entries,
            "    Spec {{ file: {file:?}, operations: {}, openapi_document: {module}::openapi_document }},",
            api.operations.len()
        )?;
    }
    write!(index, "\n/// Every spec of the corpus, in file order.\npub const SPECS: &[Spec] = &[\n{entries}];\n")?;
    std::fs::write(out.join("corpus.rs"), index)?;
    Ok(())
}

/// A Rust module name for a spec file: its stem in snake_case.
fn module_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let mut name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "spec_");
    }
    name
}
