//! `cargo xtask codegen`: regenerates every generated file of the workspace from its spec,
//! with the generators of `squared-codegen`.
//!
//! [`generated_files`] returns the files a target owns; [`run`] writes them, or with `check`
//! compares them and fails with a diff and the command to run. Writing and checking share one
//! path, so `--check` can never disagree with what a write would produce.
//! This module may write only the files listed in [`TARGETS`].

mod surface;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use squared_codegen::{Layout, client, generate, model, render};

/// The spec, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/openapi.yaml";

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

/// A spec and the files generated from it (paths relative to the workspace root).
pub struct Target {
    pub spec: &'static str,
    pub types: &'static str,
    pub server_trait: &'static str,
    pub client: &'static str,
    /// progenitor's command line over the client (crate `squared_client`), when generated.
    pub cli: Option<&'static str>,
    /// progenitor's typed httpmock helpers, a module of the client's crate, when generated.
    pub mock: Option<&'static str>,
    /// Whether the generators' warnings about the spec are printed. The construct fixture
    /// warns on purpose (it uses what the generators warn about, such as an operation without
    /// an operationId), so its warnings would only bury those of the spec at hand.
    pub print_warnings: bool,
}

/// Every spec the workspace generates from: the API itself, and a fixture that uses every
/// construct the generators support (compiled and round-tripped by `tests/constructs`).
pub const TARGETS: &[Target] = &[
    Target {
        spec: SPEC_PATH,
        types: "crates/squared-types/src/generated.rs",
        server_trait: "crates/squared-api/src/generated.rs",
        client: "crates/squared-client/src/generated.rs",
        cli: Some("crates/squared-cli/src/generated.rs"),
        mock: Some("crates/squared-client/src/generated_mock.rs"),
        print_warnings: true,
    },
    Target {
        spec: "tests/constructs/constructs.yaml",
        types: "tests/constructs/src/generated_types.rs",
        server_trait: "tests/constructs/src/generated_api.rs",
        client: "tests/constructs/src/generated_client.rs",
        cli: None,
        mock: None,
        print_warnings: false,
    },
];

/// A generated file: where it goes and what it holds.
pub struct GeneratedFile {
    pub path: &'static str,
    pub contents: String,
}

/// Every file generated for `target`, built from the spec text alone.
pub fn generated_files(target: &Target, spec_text: &str) -> Result<Vec<GeneratedFile>> {
    let api = model::load(spec_text)?;
    // The paging trait is `squared-client`'s; the fixture's client has none.
    let layout = match target.cli {
        Some(_) => Layout::workspace(),
        None => Layout { client_paging: None, ..Layout::workspace() },
    };
    let code = generate(&api, &layout)?;
    let stamp = squared_codegen::stamp("cargo xtask codegen", target.spec, spec_text);
    let regenerate = format!("Change {}, then run `cargo xtask codegen`.", target.spec);
    let file = |path, tokens, what| -> Result<GeneratedFile> {
        Ok(GeneratedFile { path, contents: render(tokens, &stamp, what, &regenerate)? })
    };
    let mut files = vec![
        file(target.types, code.types, "the request and response types shared by client and server")?,
        file(target.server_trait, code.server_trait, "the dropshot API trait and its parameter types")?,
        file(target.client, code.client, "the progenitor client")?,
    ];
    if let Some(path) = target.cli {
        let tokens = client::generate_cli(&api, &layout, "squared_client")?;
        files.push(file(path, tokens, "progenitor's command line, a subcommand per operation")?);
    }
    if let Some(path) = target.mock {
        let tokens = client::generate_mock(&api, &layout, "crate")?;
        files.push(file(path, tokens, "progenitor's typed httpmock helpers, a `When` and `Then` per operation")?);
    }
    Ok(files)
}

/// What a freshness check found.
pub struct Staleness {
    pub path: &'static str,
    pub diff: String,
}

/// Every generated file of every target, with the warnings met on the way.
fn all_generated_files(root: &Path) -> Result<Vec<GeneratedFile>> {
    let mut files = Vec::new();
    for target in TARGETS {
        let spec_text =
            std::fs::read_to_string(root.join(target.spec)).with_context(|| format!("reading {}", target.spec))?;
        let api = model::load(&spec_text).with_context(|| format!("in {}", target.spec))?;
        for warning in api.warnings.iter().filter(|_| target.print_warnings) {
            eprintln!("warning: {}: {warning}", target.spec);
        }
        files.extend(generated_files(target, &spec_text).with_context(|| format!("in {}", target.spec))?);
    }
    Ok(files)
}

/// Writes the generated files, or (with `check`) writes nothing and reports the stale ones.
pub fn run(root: &Path, check: bool) -> Result<()> {
    let files = all_generated_files(root)?;
    if check {
        let stale = stale_files(root, &files)?;
        if stale.is_empty() {
            return Ok(());
        }
        for s in &stale {
            eprintln!("{}", s.diff);
        }
        let paths: Vec<_> = stale.iter().map(|s| s.path).collect();
        bail!(
            "generated files are stale: {}\nthey must match their specs; run `cargo xtask codegen` and commit the result",
            paths.join(", ")
        );
    }
    for file in &files {
        let path = root.join(file.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(file.contents.as_str()) {
            std::fs::create_dir_all(path.parent().unwrap())?;
            std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", file.path))?;
            eprintln!("updated {}", file.path);
        }
    }
    Ok(())
}

/// The generated files whose committed text differs from what the spec produces.
pub fn stale_files(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Staleness>> {
    let mut stale = Vec::new();
    for file in files {
        let current = std::fs::read_to_string(root.join(file.path)).unwrap_or_default();
        if current != file.contents {
            let diff = similar::TextDiff::from_lines(&current, &file.contents)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{} (committed)", file.path), &format!("{} (from {SPEC_PATH})", file.path))
                .to_string();
            stale.push(Staleness { path: file.path, diff });
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` alone catches a tree whose generated files do not match the spec.
    #[test]
    fn generated_files_are_fresh() {
        let root = workspace_root();
        if let Err(error) = run(&root, true) {
            panic!("{error:#}");
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let first = all_generated_files(&workspace_root()).unwrap();
        let second = all_generated_files(&workspace_root()).unwrap();
        assert_eq!(first.len(), 8, "three files a spec, and the API's command line and mock helpers");
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.contents, b.contents, "{} differs between two runs", a.path);
        }
    }

    #[test]
    fn a_spec_edit_makes_the_tree_stale() {
        let spec_text = std::fs::read_to_string(workspace_root().join(SPEC_PATH)).unwrap();
        let edited = spec_text.replace("A connector as the API shows it.", "A connector, as shown.");
        assert_ne!(edited, spec_text);
        let files = generated_files(&TARGETS[0], &edited).unwrap();
        let stale = stale_files(&workspace_root(), &files).unwrap();
        let paths: Vec<_> = stale.iter().map(|s| s.path).collect();
        // Every file carries the spec's hash, and the types carry the description.
        let (cli, mock) = (TARGETS[0].cli.unwrap(), TARGETS[0].mock.unwrap());
        assert_eq!(paths, [TARGETS[0].types, TARGETS[0].server_trait, TARGETS[0].client, cli, mock]);
        assert!(stale[0].diff.contains("+#[schemars(description = \"A connector, as shown.\")]"), "{}", stale[0].diff);
    }

    #[test]
    fn a_hand_edit_is_caught_with_a_diff() {
        let spec_text = std::fs::read_to_string(workspace_root().join(SPEC_PATH)).unwrap();
        let files = generated_files(&TARGETS[0], &spec_text).unwrap();
        let dir = tempfile_dir();
        for file in &files {
            let path = dir.join(file.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &file.contents).unwrap();
        }
        assert!(stale_files(&dir, &files).unwrap().is_empty());
        let edited = dir.join(files[0].path);
        let text = std::fs::read_to_string(&edited).unwrap();
        std::fs::write(&edited, text.replacen("pub struct", "pub(crate) struct", 1)).unwrap();
        let stale = stale_files(&dir, &files).unwrap();
        assert_eq!(stale.len(), 1);
        assert!(stale[0].diff.contains("-pub(crate) struct"), "{}", stale[0].diff);
        assert!(stale[0].diff.contains("+pub struct"), "{}", stale[0].diff);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
