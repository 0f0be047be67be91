//! Generates the types, the server trait and the client of every spec in `tests/specs/` (the
//! corpus) and `tests/corpus/fixtures/` into `OUT_DIR`, one module per spec, and an index
//! of them (`SPECS`, `FIXTURES`).
//!
//! A spec the generators refuse fails the build, with the spec's file and the refusal's
//! JSON Pointer; adding a spec is adding its file (cargo reruns this when a folder changes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xtask::codegen::{Layout, generate, model, pretty};

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut index = String::new();
    for (folder, list, what) in [
        ("../specs", "SPECS", "Every spec of the corpus (`tests/specs/`), in file order."),
        ("fixtures", "FIXTURES", "The fixture specs (`tests/corpus/fixtures/`): every construct, in a team's layout."),
    ] {
        let entries = generate_folder(&root.join(folder), &out, &mut index)?;
        write!(index, "\n#[doc = {what:?}]\npub const {list}: &[Spec] = &[\n{entries}];\n")?;
    }
    std::fs::write(out.join("corpus.rs"), index)?;
    Ok(())
}

/// Generates every spec in `folder` into `out`, its module into `index`; returns the specs'
/// `Spec` entries.
fn generate_folder(folder: &Path, out: &Path, index: &mut String) -> Result<String> {
    println!("cargo:rerun-if-changed={}", folder.display());
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(folder)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.retain(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")));
    files.sort();
    let mut entries = String::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let file = path.file_name().and_then(|f| f.to_str()).context("a spec file name is UTF-8")?;
        let module = module_name(file);
        let text = std::fs::read_to_string(path)?;
        let api = model::load(&text).with_context(|| path.display().to_string())?;
        let layout = Layout {
            types: format!("crate::{module}::types"),
            support: "::squared_api".into(),
            client_inner: None,
            error: None,
        };
        let code = generate(&api, &layout).with_context(|| path.display().to_string())?;
        for (part, tokens) in [("types", code.types), ("api", code.server_trait), ("client", code.client)] {
            let target = out.join(format!("{module}_{part}.rs"));
            let text = tokens.to_string();
            let formatted = pretty(tokens).with_context(|| {
                let _ = std::fs::write(&target, &text);
                format!("{}: the generated {part} ({}) do not parse", path.display(), target.display())
            })?;
            std::fs::write(target, formatted)?;
        }
        write!(
            index,
            r#"
/// Generated from `{file}`.
#[allow(unused, clippy::all, non_camel_case_types, non_snake_case)]
pub mod {module} {{
    pub mod types {{ include!(concat!(env!("OUT_DIR"), "/{module}_types.rs")); }}
    pub mod api {{ include!(concat!(env!("OUT_DIR"), "/{module}_api.rs")); }}
    pub mod client {{ include!(concat!(env!("OUT_DIR"), "/{module}_client.rs")); }}

    /// The OpenAPI document the generated trait emits.
    pub fn openapi_document() -> ::serde_json::Value {{
        crate::emitted(api::squared_api_mod::stub_api_description(), api::API_TITLE, api::API_SEMVER, api::API_DESCRIPTION)
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
    Ok(entries)
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
