//! OpenAPI 3.1 in, OpenAPI 3.0 out: the generators read 3.0, and most 3.1 documents say
//! nothing 3.0 cannot. This module rewrites a 3.1 document into its 3.0 equivalent where no
//! meaning is lost, takes what 3.0 has no word for as the nearest weaker check with a warning,
//! and refuses, by JSON Pointer, only what changes how the whole document reads. It touches nothing
//! but the document it is given; the model then reads the result as any 3.0 document.
//!
//! What changes, and how (the README's construct table lists the same):
//! - `type: [T, "null"]`, and a `{type: "null"}` alternative of `oneOf`/`anyOf`, become
//!   `nullable: true`; `const: v` becomes `enum: [v]`; a schema's `examples: [a, …]` becomes
//!   `example: a`; a numeric `exclusiveMinimum: n` becomes `minimum: n` with
//!   `exclusiveMinimum: true` (the same for the maximum); `contentEncoding: base64` becomes
//!   `format: byte` and a `contentMediaType` without it `format: binary`; `true` and `false`
//!   as schemas become `{}` and `{not: {}}`; a `$ref` with constraining siblings becomes
//!   `allOf: [{$ref}]` beside them.
//! - `$defs` move into `components/schemas` (under their own name, or prefixed with the
//!   schema that held them when the name is taken) and every `$ref` to them follows.
//! - `components/pathItems` referenced from `paths` are inlined; `webhooks` are requests the
//!   API sends, not serves: they are left out with a warning, as callbacks are.
//! - `info.summary`, `info.license.identifier`, `$schema`, `$id` and `$comment` carry no
//!   meaning for code and are dropped (the first two with a warning).
//! - Several non-null types in one `type` become `anyOf` of one alternative per type, each
//!   with its type's keywords; `const` beside `enum` is the `enum` of the const; a numeric
//!   `exclusiveMinimum` beside a `minimum` keeps the stricter; `contentEncoding: binary` is
//!   `format: binary`.
//! - Taken weaker, with a warning (left out, so values are checked less than the spec says):
//!   `type: "null"` alone (any value or null), `prefixItems`, `if`/`then`/`else`,
//!   `dependentSchemas`, `dependentRequired`, `patternProperties`, `propertyNames`,
//!   `unevaluatedProperties`, `unevaluatedItems`, `contains`, `$anchor`, `$dynamicRef`,
//!   `$dynamicAnchor`, and another `contentEncoding` than base64 or binary.
//! - Refused: a `jsonSchemaDialect` other than OpenAPI's, and a `mutualTLS` security scheme.

use std::collections::BTreeMap;

use anyhow::{Result, bail, ensure};
use serde_json::{Map, Value, json};

use super::naming::join;

/// The dialect a 3.1 document uses unless it says otherwise.
const OPENAPI_DIALECT: &str = "https://spec.openapis.org/oas/3.1/dialect/base";

/// JSON Schema 2020-12 keywords with no OpenAPI 3.0 equivalent, and what 3.0 could say instead.
const WEAKENED: &[(&str, &str)] = &[
    ("prefixItems", "an object with named properties, or `items` with one schema"),
    ("if", "`oneOf` with one alternative per case"),
    ("then", "`oneOf` with one alternative per case"),
    ("else", "`oneOf` with one alternative per case"),
    ("dependentSchemas", "`oneOf` with one alternative per case"),
    ("dependentRequired", "`oneOf` with one alternative per case"),
    ("patternProperties", "`additionalProperties` with the value schema"),
    ("propertyNames", "`additionalProperties`, leaving the names unchecked"),
    ("unevaluatedProperties", "`additionalProperties: false` on a flat object"),
    ("unevaluatedItems", "`items`"),
    ("contains", "`items`"),
    ("minContains", "`items`"),
    ("maxContains", "`items`"),
    ("$anchor", "a `$ref` to `#/components/schemas/…`"),
    ("$dynamicRef", "a `$ref` to `#/components/schemas/…`"),
    ("$dynamicAnchor", "a `$ref` to `#/components/schemas/…`"),
];

/// Whether the document is OpenAPI 3.1.
pub fn is_openapi31(document: &Value) -> bool {
    document.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with("3.1."))
}

/// The 3.0 equivalent of a 3.1 document, with warnings for what was left out.
pub fn to_openapi30(mut document: Value, warnings: &mut Vec<String>) -> Result<Value> {
    let Some(root) = document.as_object_mut() else { bail!("#: an OpenAPI document must be an object") };
    root.insert("openapi".into(), json!("3.0.3"));
    if let Some(dialect) = root.remove("jsonSchemaDialect") {
        ensure!(
            dialect.as_str() == Some(OPENAPI_DIALECT),
            "#/jsonSchemaDialect: {dialect} has no OpenAPI 3.0 equivalent; drop it to use OpenAPI's own dialect"
        );
    }
    if let Some(info) = root.get_mut("info").and_then(Value::as_object_mut) {
        if info.remove("summary").is_some() {
            warnings.push("#/info/summary: OpenAPI 3.0 has no API summary; left out".into());
        }
        if let Some(license) = info.get_mut("license").and_then(Value::as_object_mut)
            && license.remove("identifier").is_some()
        {
            warnings.push("#/info/license/identifier: OpenAPI 3.0 has no SPDX identifier; left out".into());
        }
    }
    if let Some(webhooks) = root.remove("webhooks").and_then(|w| w.as_object().map(|w| w.len())) {
        warnings.push(format!(
            "#/webhooks: {webhooks} webhook(s) left out: they are requests the API sends, which neither the server \
             trait nor the client makes"
        ));
    }
    root.entry("paths").or_insert_with(|| json!({}));
    inline_path_items(root)?;
    if let Some(schemes) = root.get("components").and_then(|c| c.get("securitySchemes")).and_then(Value::as_object) {
        for (name, scheme) in schemes {
            ensure!(
                scheme.get("type").and_then(Value::as_str) != Some("mutualTLS"),
                "{}: a `mutualTLS` security scheme has no OpenAPI 3.0 equivalent; describe it in the API's \
                 description instead",
                join("#/components/securitySchemes", name)
            );
        }
    }
    let moved = hoist_defs(&mut document)?;
    if !moved.is_empty() {
        retarget_refs(&mut document, &moved);
    }
    convert_schemas_in(&mut document, "#", warnings)?;
    Ok(document)
}

/// Replaces `$ref`s to `#/components/pathItems/…` in `paths` with the path items themselves.
fn inline_path_items(root: &mut Map<String, Value>) -> Result<()> {
    let items = root.get_mut("components").and_then(Value::as_object_mut).and_then(|c| c.remove("pathItems"));
    let items = items.unwrap_or_else(|| json!({}));
    let Some(paths) = root.get_mut("paths").and_then(Value::as_object_mut) else { return Ok(()) };
    for (path, item) in paths.iter_mut() {
        let Some(reference) = item.get("$ref").and_then(Value::as_str) else { continue };
        let location = join("#/paths", path);
        let Some(key) = reference.strip_prefix("#/components/pathItems/") else {
            bail!("{location}: a path item may refer only into #/components/pathItems/, found {reference:?}");
        };
        let Some(target) = items.get(key) else { bail!("{location}: unresolved reference {reference:?}") };
        *item = target.clone();
    }
    Ok(())
}

/// Moves every `$defs` entry into `components/schemas`; returns old pointer → new `$ref`.
fn hoist_defs(document: &mut Value) -> Result<BTreeMap<String, String>> {
    let mut found: Vec<(String, String, Value)> = Vec::new(); // (old pointer, owner name, schema)
    fn collect(value: &mut Value, pointer: &str, owner: &str, found: &mut Vec<(String, String, Value)>) {
        match value {
            Value::Object(object) => {
                if let Some(Value::Object(defs)) = object.remove("$defs") {
                    for (name, schema) in defs {
                        let at = join(&join(pointer, "$defs"), &name);
                        found.push((at, format!("{owner}{name}"), schema));
                    }
                }
                for (key, child) in object.iter_mut() {
                    if key == "example" || key == "examples" || key.starts_with("x-") {
                        continue;
                    }
                    collect(child, &join(pointer, key), owner, found);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter_mut().enumerate() {
                    collect(child, &format!("{pointer}/{index}"), owner, found);
                }
            }
            _ => {}
        }
    }
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            collect(schema, &join("#/components/schemas", name), name, &mut found);
        }
    }
    // Everywhere else a `$defs` may stand (inline schemas, the document root).
    collect(document, "#", "", &mut found);
    let mut moved = BTreeMap::new();
    let mut index = 0;
    // Hoisted schemas may hold `$defs` of their own.
    while index < found.len() {
        let (pointer, owner_name, mut schema) = found[index].clone();
        let bare = pointer.rsplit('/').next().unwrap_or_default().replace("~1", "/").replace("~0", "~");
        let schemas = document
            .as_object_mut()
            .expect("checked above")
            .entry("components")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("#/components: must be an object"))?
            .entry("schemas")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| anyhow::anyhow!("#/components/schemas: must be an object"))?;
        let name = [bare.clone(), owner_name.clone()].into_iter().find(|n| !schemas.contains_key(n));
        let Some(name) = name else {
            bail!(
                "{pointer}: `$defs` entry {bare:?} cannot move into #/components/schemas: {owner_name:?} and {bare:?} are both taken; rename it"
            )
        };
        let at = join("#/components/schemas", &name);
        collect(&mut schema, &at, &name, &mut found);
        schemas.insert(name, schema);
        moved.insert(pointer, at);
        index += 1;
    }
    Ok(moved)
}

/// Points every `$ref` to a moved `$defs` entry at its new place.
fn retarget_refs(value: &mut Value, moved: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("$ref") {
                let target = moved.get(reference.as_str()).or_else(|| {
                    // `#/$defs/X` inside a schema means that schema's own `$defs` to many tools.
                    let name = reference.strip_prefix("#/$defs/")?;
                    moved.iter().find(|(old, _)| old.ends_with(&format!("/$defs/{name}"))).map(|(_, new)| new)
                });
                if let Some(target) = target {
                    *reference = target.clone();
                }
            }
            for child in object.values_mut() {
                retarget_refs(child, moved);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|child| retarget_refs(child, moved)),
        _ => {}
    }
}

/// Converts every schema found under `value`: the values of `components/schemas` and of
/// every `schema` key outside examples and extensions.
fn convert_schemas_in(value: &mut Value, pointer: &str, warnings: &mut Vec<String>) -> Result<()> {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "example" || key == "examples" || key.starts_with("x-") {
                    continue;
                }
                let at = join(pointer, key);
                if key == "schema" {
                    convert_schema(child, &at, warnings)?;
                } else if pointer == "#/components" && key == "schemas" {
                    if let Some(schemas) = child.as_object_mut() {
                        for (name, schema) in schemas.iter_mut() {
                            convert_schema(schema, &join(&at, name), warnings)?;
                        }
                    }
                } else {
                    convert_schemas_in(child, &at, warnings)?;
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                convert_schemas_in(child, &format!("{pointer}/{index}"), warnings)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether `keyword` constrains values of JSON type `ty` (and so goes with that type's
/// alternative when a schema of several types is split).
fn belongs_to(keyword: &str, ty: &str) -> bool {
    let of: &[&str] = match keyword {
        "properties" | "required" | "additionalProperties" | "minProperties" | "maxProperties" | "discriminator" => {
            &["object"]
        }
        "items" | "minItems" | "maxItems" | "uniqueItems" => &["array"],
        "minLength" | "maxLength" | "pattern" => &["string"],
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => &["integer", "number"],
        "format" => &["string", "integer", "number"],
        "enum" => &["string", "integer", "number", "boolean"],
        _ => return false,
    };
    of.contains(&ty)
}

/// The JSON type of a value, as `type` names it.
fn json_type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keywords that only describe a schema; beside a `$ref` they change nothing.
fn is_annotation(keyword: &str) -> bool {
    matches!(keyword, "description" | "title" | "summary" | "deprecated" | "example" | "examples" | "$comment")
        || keyword.starts_with("x-")
}

/// Rewrites one 3.1 schema (and those nested in it) into 3.0.
fn convert_schema(schema: &mut Value, pointer: &str, warnings: &mut Vec<String>) -> Result<()> {
    match schema {
        Value::Bool(true) => *schema = json!({}),
        Value::Bool(false) => *schema = json!({"not": {}}),
        _ => {}
    }
    let Some(object) = schema.as_object_mut() else {
        bail!("{pointer}: a schema must be an object or a boolean");
    };
    // What 3.0 has no word for is left out: the value is checked less than the spec says
    // (the nearest weaker check), with a warning that says what the spec could write.
    for (keyword, instead) in WEAKENED {
        if object.remove(*keyword).is_some() {
            warnings.push(format!(
                "{pointer}/{keyword}: JSON Schema 2020-12 with no OpenAPI 3.0 equivalent; left out, so values are \
                 not checked against it (in 3.0 terms: {instead})"
            ));
        }
    }
    for dropped in ["$schema", "$id", "$comment"] {
        object.remove(dropped);
    }
    if object.contains_key("$ref") && object.keys().any(|k| k != "$ref" && !is_annotation(k)) {
        let reference = object.remove("$ref").expect("checked");
        let mut all_of = vec![json!({ "$ref": reference })];
        if let Some(Value::Array(more)) = object.remove("allOf") {
            all_of.extend(more);
        }
        object.insert("allOf".into(), Value::Array(all_of));
    }
    if let Some(types) = object.get("type").cloned() {
        let (types, nullable) = match types {
            Value::String(t) if t == "null" => (Vec::new(), true),
            Value::String(t) => (vec![t], false),
            Value::Array(list) => {
                let names: Vec<String> = list.iter().filter_map(Value::as_str).map(str::to_owned).collect();
                let nullable = names.iter().any(|t| t == "null");
                (names.into_iter().filter(|t| t != "null").collect(), nullable)
            }
            other => bail!("{pointer}/type: {other} is not a type name"),
        };
        match types.as_slice() {
            [] => {
                // Only `null`: 3.0 says "nullable" of a value of no stated type.
                warnings.push(format!(
                    "{pointer}/type: a schema that admits only `null` has no OpenAPI 3.0 equivalent; read as any \
                     value or null"
                ));
                object.remove("type");
            }
            [one] => {
                object.insert("type".into(), json!(one));
            }
            several => {
                // Several types: one alternative per type, each with the keywords of its type.
                object.remove("type");
                let alternatives: Vec<Value> = several
                    .iter()
                    .map(|ty| {
                        let mut alternative = Map::new();
                        alternative.insert("type".into(), json!(ty));
                        for (keyword, value) in object.iter() {
                            if belongs_to(keyword, ty) {
                                alternative.insert(keyword.clone(), value.clone());
                            }
                        }
                        if let Some(Value::Array(values)) = alternative.get_mut("enum") {
                            values
                                .retain(|v| json_type_of(v) == *ty || (ty == "number" && json_type_of(v) == "integer"));
                        }
                        Value::Object(alternative)
                    })
                    .collect();
                object.retain(|keyword, _| !several.iter().any(|ty| belongs_to(keyword, ty)));
                object.insert("anyOf".into(), Value::Array(alternatives));
            }
        }
        if nullable {
            object.insert("nullable".into(), json!(true));
            if let Some(Value::Array(values)) = object.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
        }
    }
    if let Some(value) = object.remove("const") {
        // Beside an `enum`, `const` is the stricter of the two (if the enum has it at all).
        object.insert("enum".into(), json!([value]));
    }
    if let Some(examples) = object.remove("examples")
        && let Some(first) = examples.as_array().and_then(|e| e.first())
    {
        object.entry("example").or_insert_with(|| first.clone());
    }
    for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(bound) = object.get(exclusive).filter(|b| b.is_number()).cloned() {
            // Beside an inclusive bound, the stricter of the two is the bound.
            let stricter = match object.get(inclusive).and_then(Value::as_f64) {
                None => true,
                Some(other) => {
                    let bound = bound.as_f64().unwrap_or(other);
                    if inclusive == "minimum" { bound >= other } else { bound <= other }
                }
            };
            if stricter {
                object.insert(inclusive.into(), bound);
                object.insert(exclusive.into(), json!(true));
            } else {
                object.remove(exclusive);
            }
        }
    }
    let encoding = object.remove("contentEncoding");
    let media_type = object.remove("contentMediaType");
    match (encoding.as_ref().and_then(Value::as_str), media_type) {
        (Some("base64"), _) => {
            object.insert("format".into(), json!("byte"));
        }
        (Some("binary"), _) => {
            object.insert("format".into(), json!("binary"));
        }
        (Some(other), _) => warnings.push(format!(
            "{pointer}/contentEncoding: {other:?} has no OpenAPI 3.0 equivalent; the value is a plain string"
        )),
        (None, Some(_)) => {
            object.insert("format".into(), json!("binary"));
        }
        (None, None) => {}
    }
    for keyword in ["oneOf", "anyOf"] {
        let Some(Value::Array(alternatives)) = object.get_mut(keyword) else { continue };
        let before = alternatives.len();
        alternatives.retain(|a| a.get("type").and_then(Value::as_str) != Some("null"));
        if alternatives.len() == before {
            continue;
        }
        let single = (alternatives.len() == 1).then(|| alternatives[0].clone());
        object.insert("nullable".into(), json!(true));
        if let Some(only) = single {
            object.remove(keyword);
            match only {
                Value::Object(only) if !only.contains_key("$ref") && only.keys().all(|k| !object.contains_key(k)) => {
                    object.extend(only)
                }
                only => {
                    let mut all_of = vec![only];
                    if let Some(Value::Array(more)) = object.remove("allOf") {
                        all_of.extend(more);
                    }
                    object.insert("allOf".into(), Value::Array(all_of));
                }
            }
        }
    }
    // Nested schemas.
    for keyword in ["items", "not"] {
        if let Some(child) = object.get_mut(keyword) {
            ensure!(!child.is_array(), "{pointer}/{keyword}: an array of schemas is not a schema");
            convert_schema(child, &format!("{pointer}/{keyword}"), warnings)?;
        }
    }
    if let Some(child) = object.get_mut("additionalProperties").filter(|c| c.is_object()) {
        convert_schema(child, &format!("{pointer}/additionalProperties"), warnings)?;
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(children)) = object.get_mut(keyword) {
            for (index, child) in children.iter_mut().enumerate() {
                convert_schema(child, &format!("{pointer}/{keyword}/{index}"), warnings)?;
            }
        }
    }
    if let Some(Value::Object(properties)) = object.get_mut("properties") {
        for (name, child) in properties.iter_mut() {
            convert_schema(child, &join(&format!("{pointer}/properties"), name), warnings)?;
        }
    }
    Ok(())
}

/// The pointer of a `$defs` entry, for messages and tests.
#[cfg(test)]
fn defs_pointer(owner: &str, name: &str) -> String {
    join(&join(&join("#/components/schemas", owner), "$defs"), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(document: Value) -> Result<(Value, Vec<String>)> {
        let mut warnings = Vec::new();
        to_openapi30(document, &mut warnings).map(|d| (d, warnings))
    }

    fn schema_of(document: &Value, name: &str) -> Value {
        document["components"]["schemas"][name].clone()
    }

    fn with_schemas(schemas: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1.0.0"}, "components": {"schemas": schemas}})
    }

    #[test]
    fn what_3_0_can_say_is_said_in_3_0() {
        let (document, _) = convert(with_schemas(json!({
            "A": {"type": ["string", "null"], "enum": ["x", "y"]},
            "B": {"const": 3},
            "C": {"type": "number", "exclusiveMinimum": 0, "examples": [1.5, 2]},
            "D": {"type": "string", "contentEncoding": "base64"},
            "E": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
            "F": {"$ref": "#/components/schemas/B", "maxLength": 3, "description": "d"},
            "G": {"type": "object", "properties": {"p": true, "q": false}},
        })))
        .unwrap();
        assert_eq!(document["openapi"], "3.0.3");
        assert_eq!(schema_of(&document, "A"), json!({"type": "string", "nullable": true, "enum": ["x", "y", null]}));
        assert_eq!(schema_of(&document, "B"), json!({"enum": [3]}));
        assert_eq!(
            schema_of(&document, "C"),
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "example": 1.5})
        );
        assert_eq!(schema_of(&document, "D"), json!({"type": "string", "format": "byte"}));
        assert_eq!(schema_of(&document, "E"), json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/B"}]}));
        assert_eq!(
            schema_of(&document, "F"),
            json!({"maxLength": 3, "description": "d", "allOf": [{"$ref": "#/components/schemas/B"}]})
        );
        assert_eq!(schema_of(&document, "G")["properties"], json!({"p": {}, "q": {"not": {}}}));
    }

    #[test]
    fn defs_move_into_components_and_references_follow() {
        let (document, _) = convert(with_schemas(json!({
            "Tree": {
                "type": "object",
                "properties": {"leaf": {"$ref": "#/components/schemas/Tree/$defs/Leaf"}, "other": {"$ref": "#/$defs/Leaf"}},
                "$defs": {"Leaf": {"type": "string"}}
            },
            "Leaf": {"type": "integer"},
        })))
        .unwrap();
        assert_eq!(schema_of(&document, "TreeLeaf"), json!({"type": "string"}));
        assert_eq!(schema_of(&document, "Leaf"), json!({"type": "integer"}));
        let tree = schema_of(&document, "Tree");
        assert!(tree.get("$defs").is_none());
        assert_eq!(tree["properties"]["leaf"]["$ref"], "#/components/schemas/TreeLeaf");
        assert_eq!(tree["properties"]["other"]["$ref"], "#/components/schemas/TreeLeaf");
        assert_eq!(defs_pointer("Tree", "Leaf"), "#/components/schemas/Tree/$defs/Leaf");
    }

    #[test]
    fn what_3_0_has_no_word_for_is_taken_weaker_or_split() {
        let (document, warnings) = convert(with_schemas(json!({"A": {
            "type": "object",
            "properties": {"t": {"prefixItems": [], "type": "array"}, "u": {"type": "null"}},
            "unevaluatedProperties": false
        }})))
        .unwrap();
        let a = &document["components"]["schemas"]["A"];
        assert_eq!(a["properties"]["t"], json!({"type": "array"}));
        assert_eq!(a["properties"]["u"], json!({"nullable": true}));
        assert!(a.get("unevaluatedProperties").is_none());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with("#/components/schemas/A/unevaluatedProperties: "), "{warnings:?}");
        // Several types: an alternative per type, each with its own keywords.
        let (document, _) = convert(with_schemas(json!({"A": {
            "type": ["string", "integer", "null"], "maxLength": 3, "minimum": 1, "enum": ["a", 2, null], "description": "d"
        }})))
        .unwrap();
        assert_eq!(
            document["components"]["schemas"]["A"],
            json!({"description": "d", "nullable": true, "anyOf": [
                {"type": "string", "maxLength": 3, "enum": ["a"]},
                {"type": "integer", "minimum": 1, "enum": [2]}
            ]})
        );
        // A stricter numeric exclusive bound beside an inclusive one wins; `binary` is a format.
        let (document, _) = convert(with_schemas(json!({"A": {
            "type": "integer", "minimum": 1, "exclusiveMinimum": 5, "maximum": 3, "exclusiveMaximum": 9
        }, "F": {"type": "string", "contentEncoding": "binary"}})))
        .unwrap();
        assert_eq!(
            document["components"]["schemas"]["A"],
            json!({"type": "integer", "minimum": 5, "exclusiveMinimum": true, "maximum": 3})
        );
        assert_eq!(document["components"]["schemas"]["F"], json!({"type": "string", "format": "binary"}));
    }

    #[test]
    fn webhooks_and_metadata_are_left_out_with_warnings() {
        let (document, warnings) = convert(json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1.0.0", "summary": "s", "license": {"name": "MIT", "identifier": "MIT"}},
            "webhooks": {"newPet": {"post": {"responses": {"200": {"description": "ok"}}}}},
        }))
        .unwrap();
        assert_eq!(document["paths"], json!({}));
        assert!(document.get("webhooks").is_none());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[2].starts_with("#/webhooks: 1 webhook(s) left out"), "{warnings:?}");
    }

    #[test]
    fn schemas_in_operations_are_converted_but_examples_are_not() {
        let (document, _) = convert(json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1.0.0"},
            "paths": {"/a": {"get": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": ["integer", "null"]}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"const": "x"},
                    "example": {"schema": {"const": "kept"}}
                }}}}
            }}}
        }))
        .unwrap();
        let operation = &document["paths"]["/a"]["get"];
        assert_eq!(operation["parameters"][0]["schema"], json!({"type": "integer", "nullable": true}));
        let media = &operation["responses"]["200"]["content"]["application/json"];
        assert_eq!(media["schema"], json!({"enum": ["x"]}));
        assert_eq!(media["example"]["schema"], json!({"const": "kept"}));
    }
}
