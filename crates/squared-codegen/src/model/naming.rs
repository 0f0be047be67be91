//! How names in the document become Rust names and JSON Pointers: one place for every naming rule.

use anyhow::{Result, ensure};
use heck::{ToPascalCase, ToSnakeCase};

/// JSON Pointer escaping of one reference token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

pub(super) fn join(base: &str, token: &str) -> String {
    format!("{base}/{}", pointer_token(token))
}

/// The derived operationId of an operation that has none.
pub fn derived_operation_id(method: &str, path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('{').trim_end_matches('}').to_snake_case())
        .collect();
    format!("{}_{}", method.to_lowercase(), segments.join("_"))
}

/// `text` in PascalCase, as a Rust identifier: `Self` is the one keyword that spelling can
/// produce, and becomes `Self_`.
pub(super) fn pascal_ident(text: &str) -> String {
    let name = text.to_pascal_case();
    if name == "Self" { "Self_".to_owned() } else { name }
}

pub(super) fn rust_type_name(key: &str, location: &str) -> Result<String> {
    let mut name = pascal_ident(key);
    // A key that starts with a digit (`400`, `2FAinfo`) names `Schema400`, `Schema2FAinfo`.
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "Schema");
    }
    ensure!(
        name.starts_with(|c: char| c.is_ascii_alphabetic()),
        "{location}: {key:?} cannot be made into a Rust type name"
    );
    Ok(name)
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// A snake_case Rust identifier for a wire name; keywords get a trailing underscore.
pub fn rust_field_name(name: &str) -> String {
    let mut snake = name.to_snake_case();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake = format!("f_{snake}");
    }
    if KEYWORDS.contains(&snake.as_str()) {
        snake.push('_');
    }
    snake
}

/// `base` if `taken` does not hold it, else the first of `base{separator}2`, `…3`, … that is
/// free: how every generated name steps aside for one already given.
pub fn first_free(base: &str, separator: &str, taken: impl Fn(&str) -> bool) -> String {
    std::iter::once(base.to_owned())
        .chain((2..).map(|n| format!("{base}{separator}{n}")))
        .find(|name| !taken(name))
        .expect("a free name")
}

pub fn is_semver(version: &str) -> bool {
    semver::Version::parse(version).is_ok()
}

/// Follows `value`'s `$ref` (and the `$ref`s it leads to) into `components` (the document's
/// `components` object): the one place the generators and the round-trip normaliser resolve
/// references to parameters, request bodies, responses and headers. `value` itself when it is
/// no reference; `None` when the reference leads nowhere.
pub fn follow_component_ref<'v>(
    components: &'v serde_json::Value,
    value: &'v serde_json::Value,
) -> Option<&'v serde_json::Value> {
    let mut current = value;
    for _ in 0..16 {
        let Some(reference) = current.get("$ref").and_then(serde_json::Value::as_str) else { return Some(current) };
        current = components.pointer(reference.strip_prefix("#/components")?)?;
    }
    None
}

/// The variables a path names, in order, wherever they stand in their segments (`{id}`,
/// `{name}:cancel`, `{name}-{version}.zip`).
pub fn path_variables(path: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else { break };
        names.push(&rest[start + 1..start + end]);
        rest = &rest[start + end + 1..];
    }
    names
}
