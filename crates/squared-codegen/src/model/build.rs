//! Reads the document and walks it: components first, then every operation of every path.
//! Also the one place where `$ref`s into `components` are followed.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value};

use super::naming::{first_free, follow_component_ref, is_semver, join, rust_type_name};
use super::{Api, Operation, TypeDef, TypeKind, TypeRef, loose, openapi31, schemas};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// The document as JSON values: a JSON file is read as JSON (where a number too large for an
/// integer is a float), anything else as YAML.
pub fn parse_document(spec_text: &str) -> Result<Value> {
    if spec_text.trim_start().starts_with('{') {
        serde_json::from_str(spec_text).context("spec is not valid JSON")
    } else {
        serde_yaml::from_str(spec_text).context("spec is not valid YAML")
    }
}

/// Parses the document and builds the model.
/// An OpenAPI 3.1 document is first rewritten into its 3.0 equivalent (see [`openapi31`]).
pub fn load(spec_text: &str) -> Result<Api> {
    let mut document = parse_document(spec_text)?;
    loose::decode_references(&mut document);
    loose::inline_path_references(&mut document);
    let mut warnings = Vec::new();
    let mut document =
        if openapi31::is_openapi31(&document) { openapi31::to_openapi30(document, &mut warnings)? } else { document };
    loose::drop_unreadable(&mut document, "#", &mut warnings);
    loose::query_in_path_keys(&mut document, &mut warnings);
    loose::share_with_alternatives(&mut document, "#", &mut warnings);
    loose::tighten_enums(&mut document, "#", &mut warnings);
    // Make sure the document is an OpenAPI document at all before reading it loosely.
    serde_json::from_value::<openapiv3::OpenAPI>(document.clone())
        .context("spec is not a valid OpenAPI 3.0 document")?;
    let mut builder = Builder::new(&document)?;
    let version = document["info"]["version"].as_str().unwrap_or_default();
    if !is_semver(version) {
        warnings.push(format!(
            "#/info/version: {version:?} is not a semantic version (MAJOR.MINOR.PATCH), which dropshot emits; the \
             emitted document says 0.0.0"
        ));
    }
    let mut skipped = Vec::new();
    schemas::patterns_the_client_skips(&document, "#", &mut skipped);
    warnings.extend(skipped.into_iter().map(|location| {
        format!(
            "{location}: a pattern outside ECMA-262 (JSON Schema's dialect); the server checks it, the generated \
             client does not (progenitor cannot compile it)"
        )
    }));
    builder.warnings = warnings;
    let api = builder.build()?;
    Ok(Api { document: document.clone(), ..api })
}

pub(super) struct Builder<'a> {
    pub(super) document: &'a Value,
    pub(super) schemas: &'a Map<String, Value>,
    pub(super) types: Vec<TypeDef>,
    /// Rust type name → location of the schema that claimed it.
    pub(super) claimed: BTreeMap<String, String>,
    /// Component schema key → its Rust type name.
    pub(super) component_names: BTreeMap<String, String>,
    /// A `$ref` to a schema deeper than a component → the type defined for it.
    pub(super) deep_names: BTreeMap<String, String>,
    /// An inline `allOf` (its JSON text) → the type defined for it (see `type_ref`).
    pub(super) merged_names: std::collections::HashMap<String, String>,
    pub(super) warnings: Vec<String>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(document: &'a Value) -> Result<Self> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let openapi = document["openapi"].as_str().unwrap_or_default();
        ensure!(openapi.starts_with("3.0."), "#/openapi: only OpenAPI 3.0.x is supported, found {openapi:?}");
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        Ok(Builder {
            document,
            schemas,
            types: Vec::new(),
            claimed: BTreeMap::new(),
            component_names: BTreeMap::new(),
            deep_names: BTreeMap::new(),
            merged_names: Default::default(),
            warnings: Vec::new(),
        })
    }

    pub(super) fn build(mut self) -> Result<Api> {
        // Claim every component name first, so that inline names can never take one. Keys
        // that differ only in case or punctuation (`nullTime`, `NullTime`) would share a
        // Rust name: the later ones get a number, with a warning.
        for key in self.schemas.keys() {
            let location = join("#/components/schemas", key);
            let mut name = rust_type_name(key, &location)?;
            if self.claimed.contains_key(&name) {
                let base = name.clone();
                let mut n = 2;
                while self.claimed.contains_key(&format!("{base}{n}")) {
                    n += 1;
                }
                name = format!("{base}{n}");
                self.warnings
                    .push(format!("{location}: its Rust name {base} is taken by another schema; it is {name}"));
            }
            self.claim(&name, &location)?;
            self.component_names.insert(key.clone(), name);
        }
        for (key, schema) in self.schemas {
            let location = join("#/components/schemas", key);
            let name = self.component_names[key].clone();
            self.define(&name, key, schema, &location)?;
        }

        let mut operations = Vec::new();
        let mut operation_ids = BTreeMap::new();
        let paths = self.document["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in &paths {
            let item_location = join("#/paths", path);
            ensure!(item.get("$ref").is_none(), "{item_location}: path item references are not supported");
            let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            for method in METHODS {
                let Some(operation) = item.get(method) else { continue };
                let location = join(&item_location, method);
                let mut op = self.operation(path, method, operation, &shared_params, &location)?;
                // Two operationIds with one Rust name (`get_users_`, `get_users`), or one
                // operationId twice: the later operation's names take a number.
                if let Some(previous) = operation_ids.get(&op.rust_name) {
                    let rust_name = first_free(&op.rust_name, "_", |name| operation_ids.contains_key(name));
                    let number = rust_name.rsplit('_').next().unwrap_or_default().to_owned();
                    self.warnings.push(format!(
                        "{location}: operationId {:?} gives the method name {}, which {previous} also has; it is {rust_name}",
                        op.operation_id, op.rust_name
                    ));
                    op.pascal_name = format!("{}{number}", op.pascal_name);
                    op.rust_name = rust_name;
                }
                if operations.iter().any(|other: &Operation| other.operation_id == op.operation_id) {
                    op.operation_id = op.rust_name.clone();
                }
                operation_ids.insert(op.rust_name.clone(), location.clone());
                operations.push(op);
            }
        }

        box_recursive_fields(&mut self.types);
        Ok(Api {
            title: self.document["info"]["title"].as_str().unwrap_or_default().to_owned(),
            version: self.document["info"]["version"].as_str().unwrap_or_default().to_owned(),
            description: self.document["info"]["description"].as_str().map(str::to_owned),
            types: self.types,
            operations,
            warnings: self.warnings,
            document: Value::Null,
        })
    }

    /// The Rust name of the schema a `$ref` names: a component's, or for a schema deeper in
    /// the document a type of its own, named after its pointer (`TagAllOf0`) and defined once.
    pub(super) fn named_ref(&mut self, reference: &str, location: &str) -> Result<String> {
        let (key, schema) = self.resolve_ref(reference, location)?;
        if let Some(key) = key {
            return Ok(self.component_names[key].clone());
        }
        if let Some(name) = self.deep_names.get(reference) {
            return Ok(name.clone());
        }
        let words = reference.trim_start_matches("#/components/schemas/").trim_start_matches("#/");
        let base = heck::ToPascalCase::to_pascal_case(words.replace(['/', '~'], " ").as_str());
        let at = format!("#{}", reference.trim_start_matches('#'));
        let name = self.claim_free(&base, &at);
        self.deep_names.insert(reference.to_owned(), name.clone());
        self.define(&name, &name, schema, &at)?;
        Ok(name)
    }

    pub(super) fn claim(&mut self, name: &str, location: &str) -> Result<()> {
        if let Some(previous) = self.claimed.insert(name.to_owned(), location.to_owned()) {
            bail!("{location}: the type name {name} is already taken by {previous}; rename one of them");
        }
        Ok(())
    }

    /// The schema a `$ref` names: a component schema (with its key), or any schema in the
    /// document by its JSON Pointer (`#/components/schemas/Tag/allOf/0`, with no key).
    pub(super) fn resolve_ref<'v>(&self, reference: &str, location: &str) -> Result<(Option<&'v str>, &'v Value)>
    where
        'a: 'v,
    {
        let pointer = reference.strip_prefix('#').with_context(|| {
            format!("{location}: only references within the document (`#/…`) are supported, found {reference:?}")
        })?;
        if let Some(key) = reference.strip_prefix("#/components/schemas/")
            && let Some((key, schema)) = self.schemas.get_key_value(key)
        {
            return Ok((Some(key.as_str()), schema));
        }
        let schema = self
            .document
            .pointer(pointer)
            .with_context(|| format!("{location}: unresolved reference {reference:?}"))?;
        Ok((None, schema))
    }

    pub(super) fn resolve_parameter(&mut self, raw: &Value, location: &str) -> Result<(Value, String)> {
        let value = self.resolve_component(raw, "parameters", location)?;
        let place = match raw.get("$ref").and_then(Value::as_str) {
            Some(reference) => format!("#{}", reference.trim_start_matches('#')),
            None => location.to_owned(),
        };
        Ok((value.clone(), place))
    }

    /// Follows a `$ref` into `#/components/<section>/`.
    pub(super) fn resolve_component<'v>(&mut self, value: &'v Value, section: &str, location: &str) -> Result<&'v Value>
    where
        'a: 'v,
    {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok(value);
        };
        if !reference.starts_with(&format!("#/components/{section}/")) {
            self.warnings.push(format!(
                "{location}: the reference {reference:?} leads outside #/components/{section}/; followed all the same"
            ));
        }
        let components = self.document.get("components").unwrap_or(&Value::Null);
        follow_component_ref(components, value)
            .with_context(|| format!("{location}: unresolved reference {reference:?}"))
    }
}

/// Marks the struct fields through which a type contains itself (see
/// [`Field::boxed`](super::Field::boxed)).
fn box_recursive_fields(types: &mut [TypeDef]) {
    use std::collections::BTreeSet;
    // The named types a type holds by value.
    let direct = |def: &TypeDef| -> Vec<String> {
        let named = |ty: &TypeRef| match ty {
            TypeRef::Named(name) => Some(name.clone()),
            _ => None,
        };
        match &def.kind {
            TypeKind::Struct { fields, .. } => fields.iter().filter_map(|f| named(&f.ty)).collect(),
            TypeKind::OneOf { variants, .. } => variants.iter().filter_map(|v| named(&v.ty)).collect(),
            TypeKind::Alias { ty, .. } => named(ty).into_iter().collect(),
            TypeKind::Enum { .. } | TypeKind::Not { .. } => Vec::new(),
        }
    };
    let edges: BTreeMap<String, Vec<String>> = types.iter().map(|t| (t.name.clone(), direct(t))).collect();
    let reaches = |from: &str, target: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(name) = stack.pop() {
            if name == target {
                return true;
            }
            if seen.insert(name.clone()) {
                stack.extend(edges.get(&name).into_iter().flatten().cloned());
            }
        }
        false
    };
    for def in types.iter_mut() {
        let owner = def.name.clone();
        if let TypeKind::Struct { fields, .. } = &mut def.kind {
            for field in fields {
                if let TypeRef::Named(name) = &field.ty {
                    field.boxed = reaches(name, &owner);
                }
            }
        }
    }
}
