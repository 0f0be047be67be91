//! Generates the types, the server trait and the client of every spec in `tests/specs/` (the
//! corpus) and `tests/corpus/fixtures/` into `OUT_DIR`, one module per spec
//! (`squared_codegen::standalone`), and an index of them (`SPECS`, `FIXTURES`).
//!
//! A spec the generators refuse fails the build, with the spec's file and the refusal's
//! JSON Pointer; adding a spec is adding its file (cargo reruns this when a folder changes).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use squared_codegen::standalone::write_module;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // `cargo xtask bench codegen` builds the crate with one spec at a time.
    println!("cargo:rerun-if-env-changed=CORPUS_ONLY");
    let only = std::env::var("CORPUS_ONLY").ok();
    let mut index = String::new();
    for (folder, list, what) in [
        ("../specs", "SPECS", "Every spec of the corpus (`tests/specs/`), in file order."),
        ("fixtures", "FIXTURES", "The fixture specs (`tests/corpus/fixtures/`): every construct, in a team's layout."),
    ] {
        let folder = root.join(folder);
        println!("cargo:rerun-if-changed={}", folder.display());
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&folder)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
        files.retain(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")));
        files.sort();
        if let Some(only) = &only {
            files.retain(|path| path.file_name().is_some_and(|f| f.to_str() == Some(only.as_str())));
        }
        let mut entries = String::new();
        for path in &files {
            println!("cargo:rerun-if-changed={}", path.display());
            let module = write_module(path, &out)?;
            index.push_str(&module.source);
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            writeln!(
                entries,
                "    Spec {{ file: {file:?}, operations: {}, openapi_document: {}::openapi_document }},",
                module.operations, module.name
            )?;
        }
        write!(index, "\n#[doc = {what:?}]\npub const {list}: &[Spec] = &[\n{entries}];\n")?;
    }
    std::fs::write(out.join("corpus.rs"), index)?;
    Ok(())
}
