//! `cargo xtask generate SPEC --out DIR`: any spec generated into a crate of its own
//! (`squared_codegen::new_crate`), outside this workspace; with `--check`, nothing is written
//! and a stale or missing file fails with its diff. Writing and checking share one path.
//! This module writes only the files `new_crate::files` lists, under `DIR`.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use squared_codegen::new_crate::{self, Options};

/// What `generate` was asked for.
pub struct Request<'a> {
    pub spec: &'a Path,
    pub out: &'a Path,
    /// The crate's name; the spec file's stem, in kebab case, when not given.
    pub name: Option<&'a str>,
    /// The `squared-support` dependency as `Cargo.toml` writes it (`{ path = "…" }`, `{ git =
    /// "…" }`); a path from the crate to this workspace's `crates/squared-support` when not given.
    pub support: Option<&'a str>,
    pub check: bool,
}

/// Generates (or checks) the crate; returns the paths written or found stale.
pub fn run(root: &Path, request: &Request) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(request.spec).with_context(|| format!("reading {}", request.spec.display()))?;
    let file_name = request.spec.file_name().and_then(|f| f.to_str()).context("the spec's file name is UTF-8")?;
    let default_name = crate_name(file_name);
    let name = request.name.unwrap_or(&default_name);
    std::fs::create_dir_all(request.out).with_context(|| format!("creating {}", request.out.display()))?;
    let out = request.out.canonicalize()?;
    let support = match request.support {
        Some(support) => support.to_owned(),
        None => {
            let path = relative(&out, &root.join("crates/squared-support").canonicalize()?);
            format!("{{ path = {:?} }}", path.to_string_lossy())
        }
    };
    // The stamps name the spec by its file name, so that `--check` agrees wherever the
    // repository is checked out.
    let options = Options { name, spec: file_name, program: "cargo xtask generate", support: &support };
    let (_, files) = new_crate::files(&text, &options).with_context(|| request.spec.display().to_string())?;
    let mut touched = Vec::new();
    let mut diffs = String::new();
    for file in &files {
        let path = out.join(file.path);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        if request.check {
            let diff = similar::TextDiff::from_lines(current.as_deref().unwrap_or_default(), &file.contents)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{} (on disk)", path.display()), &format!("{} (from the spec)", path.display()))
                .to_string();
            diffs.push_str(&diff);
        } else {
            std::fs::create_dir_all(path.parent().expect("a file in the crate"))?;
            std::fs::write(&path, &file.contents).with_context(|| format!("writing {}", path.display()))?;
        }
        touched.push(path);
    }
    if request.check && !touched.is_empty() {
        eprint!("{diffs}");
        let list: Vec<_> = touched.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "the generated crate is stale: {}\nrun `cargo xtask generate {} --out {}` and commit the result",
            list.join(", "),
            request.spec.display(),
            request.out.display()
        );
    }
    Ok(touched)
}

/// A crate name for a spec file: its stem, lower case, other characters as `-`.
fn crate_name(file: &str) -> String {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let name = name.trim_matches('-');
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() { format!("api-{name}") } else { name.into() }
}

/// `to` as a path from `from` (both absolute): `../x/y` where they part, `to` itself when they
/// share no root.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let shared = from.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    if shared == 0 {
        return to.to_owned();
    }
    let mut path = PathBuf::new();
    for _ in shared..from.len() {
        path.push("..");
    }
    for part in &to_parts[shared..] {
        path.push(part);
    }
    if path.as_os_str().is_empty() { PathBuf::from(".") } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/x/y")), PathBuf::from("../../x/y"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a/x")), PathBuf::from("x"));
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b")), PathBuf::from("."));
    }

    #[test]
    fn crate_names() {
        assert_eq!(crate_name("petstore.yaml"), "petstore");
        assert_eq!(crate_name("Okta Management.json"), "okta-management");
        assert_eq!(crate_name("1password.com.yaml"), "api-1password-com");
    }
}
