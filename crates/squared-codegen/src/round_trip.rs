//! Makes a spec and the document dropshot emits for its generated trait comparable, and
//! shows how they differ.
//!
//! The normalisation removes only what dropshot cannot express or spells differently; every
//! other difference in operations, parameters, request bodies, schemas or status codes stays
//! and fails the round-trip test. The spec side is first read through the model of the
//! generators (`crate::model`), so both sides are compared in its terms.
//! Applied to both documents:
//!
//! 1. `servers` (top level, per path and per operation), `security` (top level and per
//!    operation: the trait has it as constants), a path item's `summary` and `description`,
//!    `externalDocs` (top level and per operation), a path's trailing `/` (dropshot's router
//!    serves `/users/` as `/users`), the spec's own `openapi` version, `info` other than title, version
//!    and description (a version that is not semantic reads as 0.0.0, as dropshot emits
//!    it), tags without a description (dropshot lists every tag it serves, by name), and
//!    `components` other than `schemas` are dropped: dropshot has no way to declare them.
//! 2. References into `components.parameters`, `components.requestBodies`,
//!    `components.responses` and `components.headers` are inlined, and parameters shared by a
//!    path item are copied into its operations: dropshot always inlines them.
//! 3. Error responses: dropshot declares one `4XX` and one `5XX` response whose body is the
//!    error type's. Every error response of an operation (4xx, 5xx, and `default` beside
//!    other responses) is folded into one entry, `errors`, holding the body schema (their
//!    `oneOf` when they differ). An operation whose spec declares no error body returns
//!    dropshot's `HttpError`, whose emitted `Error` schema is dropped (rule 13).
//! 4. Response `description`s and `links` are dropped (dropshot writes fixed descriptions
//!    and cannot declare links), and so is a body schema's `title` (dropshot titles inline
//!    body schemas with the Rust type's name), and an inline array, scalar or map body's
//!    description and its items' description and title (a `Vec`, `String`, number or map
//!    carries none). Parameter schemas lose their `default`, `description` and `title`
//!    (dropshot strips annotations from them; the generated code still applies the default),
//!    parameters their `style` and `explode` (the generated code honours them) and
//!    `allowEmptyValue` (an empty value is read as the empty string), and headers their
//!    `style` and a `required: false`; an empty `headers` is none.
//! 5. Specification extensions (`x-…`), `example`s, `examples` and a schema's `externalDocs`
//!    are dropped: schemars derives do not carry them (`x-discriminator` is read back first, rule 16).
//! 6. An `integer` without a `format` the generators know gets `format: int64` and a `number`
//!    `format: double`; an unsigned format gets `minimum: 0`; whole-number bounds are
//!    integers, and so are whole enum values of a `number` (dropshot writes them as floats); a
//!    bound at or beyond the end of an integer format's range is none; a string format the
//!    generators do not know is dropped (the value is a plain string, and the generator
//!    warned), as is any format of an object, array or boolean. Known formats stay: a `uuid` that came out a plain
//!    string is a difference.
//! 7. `required` lists are sorted and parameters ordered by location and name: the order
//!    carries no meaning and schemars sorts. A parameter's `required: false` is dropped, and a
//!    path parameter is `required: true`.
//!    readOnly and writeOnly properties leave `required` (one type serves both directions),
//!    a required member the properties do not describe is described as any value, and a
//!    required value's `default` is dropped (it never applies; the generator warned), as is
//!    any `default` the generated code does not apply (`crate::model::default_applies`
//!    decides for both: on a readOnly or nullable property, of the wrong type, a formatted
//!    string's, or one of an object, array or `oneOf`).
//!    `default`, `readOnly` and `writeOnly` say something of properties only and go
//!    elsewhere (OpenAPI 3.0 gives the last two meaning on properties only; a named schema's
//!    reach its properties through rule 14), and so does `nullable` of a named object or
//!    `oneOf`/`anyOf`.
//! 8. `additionalProperties: true` (or `{}`) is dropped (it is what absence means), so is
//!    `required` beside a type that is not an object (it says nothing there), `properties` make
//!    an object `type: object`, a `$ref`'s siblings are dropped (OpenAPI 3.0 ignores them),
//!    `{allOf: [schema], nullable: true}` is that schema, nullable, `null` leaves enums, and a
//!    `discriminator` beside no `oneOf`/`anyOf` (a parent's, merged away) is dropped; an
//!    enum value listed twice is listed once, an enum left empty is `not: {}`; an array without `items` has `items: {}`.
//!    Also equal: `readOnly`/`writeOnly`/`nullable`/`exclusiveMinimum`/`exclusiveMaximum`/
//!    `uniqueItems: false` and their absence, an empty title and none; `items` without
//!    `type` and `type: array` (likewise `additionalProperties` and `object`); an enum without
//!    `type` and the type of its values; empty `properties` and none; `allOf` of one inline
//!    schema beside `readOnly`, `writeOnly`, `default`, `nullable`, `title` or `description`
//!    and that schema with them; `allOf` of one `$ref` beside documentation and the `$ref`; a
//!    validation keyword of another type than the declared one (`maximum` beside `type:
//!    string`) and none (it checks nothing); lengths and patterns beside an `enum` and none;
//!    `type` beside `oneOf`/`anyOf` and none. `deprecated` and empty descriptions are dropped,
//!    and so is `nullable` on an object alternative of a `oneOf` (the generator warned).
//! 9. An operation without an operationId gets the one the generator derives for it, and its
//!    summary and description become one `doc` of their text without whitespace (dropshot
//!    makes both of one doc comment, and reflows it).
//! 10. On the emitted side, schemas the spec does not name are inlined where they are used:
//!     the generators give every inline object and enum a Rust type, and schemars names every
//!     type (see the naming rules in `crates/squared-codegen/src/model/mod.rs`). On the spec side,
//!     so are references into a schema (`…/Disk/properties/filesystem`), and `definitions`
//!     inside a schema go.
//! 11. The emitted side is the document of the served trait and of its documentation traits
//!     together (`squared_support::merged_document`): an operation dropshot's router cannot hold
//!     at its own path is served through a dispatching endpoint (unpublished) and described
//!     at its own path by a documentation trait, so it is compared like any other.
//!
//! The spec side is also projected (rules 12 to 15) and the emitted side read back (rules 13
//! and 16); each is documented where it is done below. A query parameter that is an array
//! is described as a string on both sides: dropshot describes only scalar query parameters.

use crate::model::{Api, Content, MediaKind, Response, default_applies};
use serde_json::{Map, Value, json};

/// Rule 12 (the spec side): paths with operations only, and each operation's request body and
/// responses as the model reads them and dropshot can describe them. The body keeps the media type the generated code
/// serves (text and bytes are read as `application/octet-stream` bytes); the responses that
/// are not errors become the first one's status, headers and the body schema of all of them
/// (their `oneOf` when they differ, text as a string, bytes as a binary string, under
/// `application/json`, where dropshot puts every response body); the error responses become
/// one `errors` entry with their body schema likewise.
fn project_operations(spec: &Value, api: &Api) -> Value {
    let mut doc = spec.clone();
    // A path without operations (only shared parameters, say) is nothing dropshot serves.
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
        paths.retain(|_, item| item.as_object().is_some_and(|item| item.keys().any(|k| METHODS.contains(&k.as_str()))));
    }
    let components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
    for op in &api.operations {
        let pointer = op.location.trim_start_matches('#');
        let Some(raw) = spec.pointer(pointer) else { continue };
        let operation = doc.pointer_mut(pointer).expect("the operation is in the document");
        operation["operationId"] = json!(op.operation_id);
        if let Some(object) = operation.as_object_mut() {
            object.remove("callbacks");
            object.remove("requestBody");
        }
        if let Some(body) = &op.body {
            let raw_body = resolve(&raw["requestBody"], &components);
            let (media_type, schema) = match body.content.kind {
                MediaKind::Json => ("application/json", media_schema(raw_body, &body.content)),
                MediaKind::Form => ("application/x-www-form-urlencoded", media_schema(raw_body, &body.content)),
                MediaKind::Text | MediaKind::Binary => {
                    ("application/octet-stream", json!({"type": "string", "format": "binary"}))
                }
            };
            // dropshot declares every body required; an optional one is read as optional
            // (`OptionalBody`) all the same.
            operation["requestBody"] = json!({"content": {media_type: {"schema": schema}}, "required": true});
        }
        // dropshot describes only scalar parameters: one the generated code reads from its text
        // (an object, JSON `content`, a delimited array) is described as a string, on both
        // sides; the schemas only it names are then unreachable on both sides too.
        let item_pointer = pointer.rsplit_once('/').map(|(item, _)| item).unwrap_or_default().to_owned();
        for param in op.params.iter().filter(|p| p.object.is_some() || p.separator != ',') {
            let matches = |candidate: &Value| {
                let candidate = resolve(candidate, &components);
                candidate["name"] == json!(param.name) && candidate["in"] == json!(param.location.as_str())
            };
            for holder in [pointer.to_owned(), item_pointer.clone()] {
                let Some(list) = doc.pointer_mut(&format!("{holder}/parameters")).and_then(Value::as_array_mut) else {
                    continue;
                };
                for entry in list.iter_mut().filter(|entry| matches(entry)) {
                    let mut text = resolve(entry, &components).clone();
                    if let Some(object) = text.as_object_mut() {
                        object.remove("content");
                        object.insert("schema".into(), json!({"type": "string"}));
                    }
                    *entry = text;
                }
            }
        }
        let operation = doc.pointer_mut(pointer).expect("the operation is in the document");
        let raw_responses = &raw["responses"];
        let mut responses = Map::new();
        if let Some(first) = op.responses.first() {
            let raw_first = resolve(&raw_responses[first.status.key()], &components);
            let mut entry = json!({});
            if let Some(schema) = union_of_bodies(&op.responses, raw_responses, &components) {
                entry["content"] = json!({"application/json": {"schema": schema}});
            }
            if let Some(headers) = raw_first.get("headers").and_then(Value::as_object) {
                // (Their `style` goes in `normalize_operation`, on both sides.)
                let headers: Map<String, Value> =
                    headers.iter().map(|(name, header)| (name.clone(), resolve(header, &components).clone())).collect();
                entry["headers"] = Value::Object(headers);
            }
            responses.insert(first.status.representative(200).to_string(), entry);
        }
        if let Some(mut schema) = union_of_bodies(&op.errors, raw_responses, &components) {
            if let Some(schema) = schema.as_object_mut() {
                schema.remove("title");
            }
            responses.insert("errors".into(), json!([schema]));
        }
        operation["responses"] = Value::Object(responses);
    }
    doc
}

/// Rule 14 (the spec side): every `allOf` merged as the generators merge it, and the keywords
/// of an object beside `oneOf`/`anyOf` moved into each alternative (see
/// `crates/squared-codegen/src/model/all_of.rs`), since the generated types are flat. A property naming
/// a type is compared as the reference with how it is used (`as_reference`).
fn merge_all_of(spec: &Value) -> Value {
    let schemas = spec.pointer("/components/schemas").cloned().unwrap_or_else(|| json!({}));
    fn walk(value: &Value, schemas: &Value, doc: &Value) -> Value {
        match value {
            Value::Object(_) => {
                // Properties beside `oneOf`/`anyOf` go into each alternative, as the generators do.
                let distributed = crate::model::distribute_alternatives(value);
                let value = distributed.as_ref().unwrap_or(value);
                let Value::Object(map) = value else { unreachable!("distributing keeps an object") };
                let merged = if map.contains_key("allOf") && crate::model::single_reference(value).is_none() {
                    // Any schema of the document, by its pointer (`#/components/schemas/Order/allOf/0`).
                    let resolve =
                        |reference: &str| reference.strip_prefix('#').and_then(|pointer| doc.pointer(pointer));
                    crate::model::merge_all_of(value, "#", &resolve, &mut Vec::new())
                        .expect("the model merged it already")
                } else {
                    value.clone()
                };
                match merged {
                    Value::Object(map) => Value::Object(
                        map.iter()
                            .map(|(k, v)| {
                                // `properties` names schemas: a property may be called `allOf`.
                                let walked = match (k.as_str(), v) {
                                    ("properties", Value::Object(named)) => Value::Object(
                                        named
                                            .iter()
                                            .map(|(name, schema)| {
                                                let schema = match as_reference(schema, schemas) {
                                                    Some(reference) => reference,
                                                    None => walk(schema, schemas, doc),
                                                };
                                                (name.clone(), schema)
                                            })
                                            .collect(),
                                    ),
                                    _ => walk(v, schemas, doc),
                                };
                                (k.clone(), walked)
                            })
                            .collect(),
                    ),
                    other => other,
                }
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, schemas, doc)).collect()),
            other => other.clone(),
        }
    }
    walk(spec, &schemas, spec)
}

/// Rule 14, for a property that refers to a type: the reference, wrapped in an `allOf` with what
/// the property says beside the type (its own `readOnly`, `writeOnly`, `nullable` and `default`,
/// or the type's: `crate::model::reference_annotations`), as schemars writes a field
/// of a named type with those; its other keywords go (the named type describes itself). A
/// `default` the generated code does not apply (`crate::model::default_applies`) goes too.
fn as_reference(property: &Value, schemas: &Value) -> Option<Value> {
    let resolve = |reference: &str| reference.strip_prefix("#/components/schemas/").and_then(|name| schemas.get(name));
    let (reference, mut annotations) = crate::model::reference_annotations(property, &resolve)?;
    if let Some(target) = resolve(reference)
        && default_applies(&annotations, target).is_err()
    {
        annotations.remove("default");
    }
    if annotations.is_empty() {
        return Some(json!({"$ref": reference}));
    }
    annotations.insert("allOf".into(), json!([{"$ref": reference}]));
    Some(Value::Object(annotations))
}

/// Rule 15 (the spec side): only the component schemas the operations reach; dropshot
/// describes the types its endpoints use and no others.
fn only_reachable_schemas(spec: &Value) -> Value {
    let mut doc = spec.clone();
    let reached = schemas_reached(spec, &spec["paths"]);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.retain(|name, _| reached.contains(name));
    }
    doc
}

/// The schema a body is described with: the spec's, at the media type the model chose.
fn media_schema(holder: &Value, content: &Content) -> Value {
    match content.kind {
        MediaKind::Text => json!({"type": "string"}),
        MediaKind::Binary => json!({"type": "string", "format": "binary"}),
        MediaKind::Json | MediaKind::Form => {
            holder["content"][&content.media_type].get("schema").cloned().unwrap_or_else(|| json!({}))
        }
    }
}

/// The body schema of `responses`: the one distinct body's, or the `oneOf` of them.
fn union_of_bodies(responses: &[Response], raw: &Value, components: &Value) -> Option<Value> {
    let mut schemas: Vec<Value> = crate::model::distinct_bodies(responses)
        .into_iter()
        .filter_map(|response| {
            let content = response.content.as_ref()?;
            Some(media_schema(resolve(&raw[response.status.key()], components), content))
        })
        .collect();
    match schemas.len() {
        0 => None,
        1 => schemas.pop(),
        _ => Some(json!({ "oneOf": schemas })),
    }
}

/// Rule 13 (the emitted side): an operation whose spec declares no error body returns
/// dropshot's own `HttpError`, whose `Error` schema dropshot declares; it is dropped there.
fn drop_framework_errors(spec: &Value, emitted: &mut Value) {
    let Some(paths) = emitted.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, operation) in item.iter_mut() {
            let spec_has_errors = spec["paths"][path][method]["responses"].get("errors").is_some();
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            let framework = responses
                .get("errors")
                .is_some_and(|errors| errors.as_array().is_some_and(|e| e.len() == 1 && is_dropshot_error(&e[0])));
            if framework && !spec_has_errors {
                responses.remove("errors");
            }
        }
    }
}

/// dropshot's `Error` body (`HttpErrorResponseBody`), as it describes it.
fn is_dropshot_error(schema: &Value) -> bool {
    let properties = schema.get("properties").and_then(Value::as_object);
    properties
        .is_some_and(|p| p.contains_key("request_id") && p.contains_key("message") && p.contains_key("error_code"))
}

/// The normalised form of a document (see the module docs).
pub fn normalize(document: &Value) -> Value {
    let mut doc = document.clone();
    let components = doc.get("components").cloned().unwrap_or_else(|| json!({}));
    if let Some(object) = doc.as_object_mut() {
        object.remove("servers");
        object.remove("security");
        object.remove("openapi");
        object.remove("externalDocs");
        // Only declared tags with something to say: dropshot lists every tag it serves.
        if let Some(Value::Array(tags)) = object.get_mut("tags") {
            tags.retain(|tag| tag.get("description").is_some());
            // dropshot lists them by name.
            tags.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            if tags.is_empty() {
                object.remove("tags");
            }
        }
    }
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut) {
        info.retain(|key, _| matches!(key.as_str(), "title" | "version" | "description"));
        // dropshot emits a semantic version; a spec's other kind of version becomes 0.0.0.
        if info.get("version").and_then(Value::as_str).is_some_and(|v| !crate::model::is_semver(v)) {
            info.insert("version".into(), json!("0.0.0"));
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        // dropshot serves `/users/` as `/users` (its router ignores empty segments).
        let trimmed: Map<String, Value> = std::mem::take(paths)
            .into_iter()
            .map(|(path, item)| match path.strip_suffix('/') {
                Some(bare) if !bare.is_empty() => (bare.to_owned(), item),
                _ => (path, item),
            })
            .collect();
        *paths = trimmed;
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            let shared = item.remove("parameters");
            // A path item's `summary`, `description` and `servers` have no place in dropshot's
            // description of an endpoint.
            item.retain(|key, _| OPERATION_KEYS.contains(&key.as_str()));
            for (method, operation) in item.iter_mut() {
                if operation.get("operationId").is_none() {
                    operation["operationId"] = json!(crate::model::derived_operation_id(method, path));
                }
                if let Some(Value::Array(shared)) = &shared {
                    let own = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
                    let mut merged: Vec<Value> = shared
                        .iter()
                        .map(|p| resolve(p, &components).clone())
                        .filter(|p| {
                            !own.iter()
                                .map(|o| resolve(o, &components))
                                .any(|o| o["name"] == p["name"] && o["in"] == p["in"])
                        })
                        .collect();
                    merged.extend(own);
                    operation["parameters"] = Value::Array(merged);
                }
                normalize_operation(operation, &components);
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for section in
            ["securitySchemes", "parameters", "requestBodies", "responses", "links", "examples", "headers", "callbacks"]
        {
            components.remove(section);
        }
        if components.get("schemas").and_then(Value::as_object).is_some_and(|s| s.is_empty()) {
            components.remove("schemas");
        }
    }
    if doc.get("components").and_then(Value::as_object).is_some_and(|c| c.is_empty()) {
        doc.as_object_mut().expect("an object").remove("components");
    }
    // `nullable` of a named object or `oneOf`/`anyOf` says how the properties of that type are
    // used (see `reference_annotations`, rule 14); schemars cannot state it of such a type.
    for schema in
        doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut).into_iter().flat_map(|s| s.values_mut())
    {
        if let Some(schema) = schema.as_object_mut()
            && ["properties", "oneOf", "anyOf"].iter().any(|k| schema.contains_key(*k))
        {
            schema.remove("nullable");
        }
    }
    let mut doc = strip_annotations(discriminators_back(doc));
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        normalize_schemas(schemas);
    }
    if let Some(paths) = doc.get_mut("paths") {
        normalize_schemas(paths);
    }
    sort_required(&mut doc);
    doc
}

/// The smallest and largest values of an integer format, as floats.
fn integer_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN as f64, i8::MAX as f64),
        "int16" => (i16::MIN as f64, i16::MAX as f64),
        "int32" => (i32::MIN as f64, i32::MAX as f64),
        "int64" => (i64::MIN as f64, i64::MAX as f64),
        "uint8" => (0.0, u8::MAX as f64),
        "uint16" => (0.0, u16::MAX as f64),
        "uint32" => (0.0, u32::MAX as f64),
        "uint64" => (0.0, u64::MAX as f64),
        _ => return None,
    })
}

/// The keys of a path item that hold operations.
const OPERATION_KEYS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Follows a `$ref` into `components`, as the generators do.
fn resolve<'a>(value: &'a Value, components: &'a Value) -> &'a Value {
    crate::model::follow_component_ref(components, value).unwrap_or(value)
}

fn normalize_operation(operation: &mut Value, components: &Value) {
    if let Some(object) = operation.as_object_mut() {
        // dropshot cannot declare security (the trait has it as constants, see `SECURITY`),
        // nor servers.
        object.remove("security");
        object.remove("servers");
        // nor documentation links.
        object.remove("externalDocs");
        if object.get("parameters").and_then(Value::as_array).is_some_and(|p| p.is_empty()) {
            object.remove("parameters");
        }
    }
    // dropshot makes a summary and a description of one doc comment (its first line is the
    // summary), reflowing it (it may join two lines without a space): compare their text
    // without whitespace.
    if let Some(object) = operation.as_object_mut() {
        let words: Vec<String> = ["summary", "description"]
            .into_iter()
            .filter_map(|key| object.remove(key))
            .filter_map(|text| text.as_str().map(str::to_owned))
            .flat_map(|text| text.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        if !words.is_empty() {
            object.insert("doc".into(), json!(words.concat()));
        }
    }
    if let Some(params) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params.iter_mut() {
            *param = resolve(param, components).clone();
            if param.get("required") == Some(&Value::Bool(false)) {
                param.as_object_mut().unwrap().remove("required");
            }
            // A path parameter is required whether the spec says so or not (the generator warned).
            if param.get("in") == Some(&json!("path")) {
                param["required"] = json!(true);
            }
            if let Some(object) = param.as_object_mut() {
                object.remove("style");
                object.remove("explode");
                // An empty value is read as the empty string whether allowed or not.
                object.remove("allowEmptyValue");
            }
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) {
                schema.remove("default");
                schema.remove("description");
                schema.remove("title");
                // A parameter's value is text, never null.
                schema.remove("nullable");
                if let Some(Value::Array(values)) = schema.get_mut("enum") {
                    values.retain(|v| !v.is_null());
                }
            }
        }
        params.sort_by_key(|p| {
            (p["in"].as_str().unwrap_or_default().to_owned(), p["name"].as_str().unwrap_or_default().to_owned())
        });
    }
    if let Some(body) = operation.get_mut("requestBody") {
        *body = resolve(body, components).clone();
        drop_body_titles(body);
    }
    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
        let mut folded = Map::new();
        let mut errors = Vec::new();
        for (status, response) in responses.iter() {
            let mut response = resolve(response, components).clone();
            if let Some(object) = response.as_object_mut() {
                object.remove("description");
                object.remove("links");
                // dropshot's description of a response without a schema.
                if object.get("content").and_then(|c| c.get("*/*")).is_some() {
                    object.remove("content");
                }
            }
            drop_body_titles(&mut response);
            if response.get("headers").and_then(Value::as_object).is_some_and(Map::is_empty) {
                response.as_object_mut().expect("an object").remove("headers");
            }
            // dropshot writes every header's (only) style.
            for header in
                response.get_mut("headers").and_then(Value::as_object_mut).into_iter().flat_map(|h| h.values_mut())
            {
                if let Some(header) = header.as_object_mut() {
                    header.remove("style");
                    if header.get("required") == Some(&Value::Bool(false)) {
                        header.remove("required");
                    }
                }
            }
            if status.starts_with('4') || status.starts_with('5') {
                let mut body = response.pointer("/content/application~1json/schema").cloned().unwrap_or(Value::Null);
                if let Some(body) = body.as_object_mut() {
                    body.remove("title");
                }
                if !errors.contains(&body) {
                    errors.push(body);
                }
            } else {
                folded.insert(status.clone(), response);
            }
        }
        if !errors.is_empty() {
            folded.insert("errors".into(), Value::Array(errors));
        }
        *responses = folded;
    }
}

/// Rule 16: dropshot keeps only the `x-` extensions of a schema, so the generated types
/// carry a `discriminator` as `x-discriminator`; it is read back here.
fn discriminators_back(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, v)| {
                    let key = if key == "x-discriminator" { "discriminator".to_owned() } else { key };
                    (key, discriminators_back(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(discriminators_back).collect()),
        other => other,
    }
}

/// Rule 8: dropshot titles an inline body schema with its Rust type's name; a body schema's
/// own title is documentation, so neither side keeps one.
fn drop_body_titles(holder: &mut Value) {
    if let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) {
        for media in content.values_mut() {
            if let Some(schema) = media.get_mut("schema").and_then(Value::as_object_mut) {
                schema.remove("title");
                // An inline array or scalar body is a `Vec`, `String` or number, which carries no
                // description (a named body type carries its own).
                let unnamed = ["array", "string", "integer", "number", "boolean"];
                // So does an object of no declared properties (a JSON object, or a map).
                let map = schema.get("type") == Some(&json!("object"))
                    && schema.get("properties").and_then(Value::as_object).is_none_or(Map::is_empty);
                if map || schema.get("type").and_then(Value::as_str).is_some_and(|ty| unnamed.contains(&ty)) {
                    schema.remove("description");
                    if let Some(items) = schema.get_mut("items").and_then(Value::as_object_mut) {
                        items.remove("description");
                        items.remove("title");
                    }
                }
            }
        }
    }
}

/// Drops `x-…` extensions, `example`, `examples` and `externalDocs` (schemars carries none of
/// them) everywhere, except under `properties` (where a key is a property name, not a keyword).
fn strip_annotations(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(key, _)| {
                    !key.starts_with("x-") && !matches!(key.as_str(), "example" | "examples" | "externalDocs")
                })
                .map(|(key, v)| {
                    let v = if key == "properties" {
                        match v {
                            Value::Object(props) => {
                                Value::Object(props.into_iter().map(|(k, p)| (k, strip_annotations(p))).collect())
                            }
                            other => other,
                        }
                    } else {
                        strip_annotations(v)
                    };
                    (key, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_annotations).collect()),
        other => other,
    }
}

/// Rules 6 and 8, applied to every schema-like object below `value`.
fn normalize_schemas(value: &mut Value) {
    normalize_schema(value, false)
}

/// Rules 6 and 8 for `value`, a property's schema when `is_property`, and what lies below it.
fn normalize_schema(value: &mut Value, is_property: bool) {
    const SCHEMA_KEYWORDS: [&str; 8] = ["type", "enum", "allOf", "oneOf", "anyOf", "not", "properties", "items"];
    match value {
        Value::Object(map) => {
            // Beside a `$ref`, OpenAPI 3.0 ignores every other keyword.
            if map.contains_key("$ref") {
                map.retain(|key, _| key == "$ref");
                return;
            }
            // The generated code applies a `default` to an absent field only (a property;
            // whether it does is judged below, with the object); elsewhere it is
            // documentation that schemars does not carry.
            // So are `readOnly` and `writeOnly` (OpenAPI 3.0 gives them a meaning on properties
            // only; a named schema's pass to the properties of its type, rule 14).
            if !is_property && SCHEMA_KEYWORDS.iter().any(|k| map.contains_key(*k)) {
                map.remove("default");
                map.remove("readOnly");
                map.remove("writeOnly");
            }
            // Likewise a schema of annotations alone (any value) that is not a property's (a
            // `properties` map, whose keys are names, has other keys than annotations).
            if !is_property && map.keys().all(|k| crate::model::is_annotation(k)) {
                map.remove("default");
            }
            // `items` make an array and `additionalProperties` an object, as `properties` do.
            if !map.contains_key("type") {
                if map.contains_key("items") {
                    map.insert("type".into(), json!("array"));
                } else if map.contains_key("additionalProperties") {
                    map.insert("type".into(), json!("object"));
                }
            }
            // An enum's values say its type when `type` does not (as the generators read it),
            // and pin its values so that lengths and patterns add nothing.
            if map.contains_key("enum") {
                if !map.contains_key("type")
                    && let Some(kind) = map.get("enum").and_then(crate::model::enum_kind)
                {
                    map.insert("type".into(), json!(kind));
                }
                for keyword in ["minLength", "maxLength", "pattern"] {
                    map.remove(keyword);
                }
            }
            // The alternatives of a `oneOf`/`anyOf` say what type the value is; an object
            // alternative's own `nullable` is not kept (the generator warned).
            for keyword in ["oneOf", "anyOf"] {
                if let Some(Value::Array(alternatives)) = map.get_mut(keyword) {
                    for alternative in alternatives.iter_mut().filter_map(Value::as_object_mut) {
                        if alternative.contains_key("properties") {
                            alternative.remove("nullable");
                        }
                    }
                    map.remove("type");
                }
            }
            // Flags that are false say what absence says; `deprecated` and an empty description
            // are documentation the generated types do not carry.
            for flag in ["readOnly", "writeOnly", "nullable", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems"] {
                if map.get(flag) == Some(&Value::Bool(false)) {
                    map.remove(flag);
                }
            }
            map.remove("deprecated");
            for text in ["description", "title"] {
                if map.get(text).and_then(Value::as_str).is_some_and(|d| d.trim().is_empty()) {
                    map.remove(text);
                }
            }
            // A validation keyword of another type than the declared one checks nothing.
            if let Some(ty) = map.get("type").and_then(Value::as_str).map(str::to_owned) {
                map.retain(|keyword, _| crate::model::keyword_applies(keyword, &ty));
            }
            // An array without `items` holds any value (the generator warned).
            if map.get("type") == Some(&json!("array")) && !map.contains_key("items") {
                map.insert("items".into(), json!({}));
            }
            // `properties` make an object (dropshot says so).
            if map.get("properties").is_some_and(Value::is_object) && !map.contains_key("type") {
                map.insert("type".into(), json!("object"));
            }
            // No properties listed is what absence says.
            if map.get("properties").and_then(Value::as_object).is_some_and(|p| p.is_empty()) {
                map.remove("properties");
            }
            // A discriminator beside no `oneOf`/`anyOf` is a parent's, about its children (which
            // `allOf` merged); the flat types have no use for it.
            if !map.contains_key("oneOf") && !map.contains_key("anyOf") {
                map.remove("discriminator");
            }
            // `null` in an enum is what `nullable` says (and unreachable without it), and a
            // value listed twice is listed once.
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
                let mut seen = Vec::new();
                values.retain(|v| {
                    if seen.contains(v) {
                        false
                    } else {
                        seen.push(v.clone());
                        true
                    }
                });
                // No value left: the schema admits nothing, which the generator writes `not: {}`.
                if values.is_empty() {
                    map.remove("enum");
                    map.remove("type");
                    map.insert("not".into(), json!({}));
                }
            }
            // A bound at or beyond the end of an integer format's range says nothing (the
            // generator keeps it within the range: `9223372036854776000` on an int64).
            if map.get("type") == Some(&json!("integer"))
                && let Some((low, high)) = integer_range(map.get("format").and_then(Value::as_str).unwrap_or("int64"))
            {
                if map.get("maximum").and_then(Value::as_f64).is_some_and(|m| m >= high) {
                    map.remove("maximum");
                }
                if map.get("minimum").and_then(Value::as_f64).is_some_and(|m| m <= low) && low < 0.0 {
                    map.remove("minimum");
                }
            }
            // dropshot writes a number's enum values as floats (`-1.0`): whole ones are integers
            // on both sides, as bounds are.
            if map.get("type") == Some(&json!("number"))
                && let Some(Value::Array(values)) = map.get_mut("enum")
            {
                for value in values.iter_mut() {
                    if let Some(number) = value.as_f64()
                        && number.fract() == 0.0
                        && number.abs() < 9.0e15
                    {
                        *value = json!(number as i64);
                    }
                }
            }
            // Whole numbers as integers (`100` and `100.0` are one bound).
            for key in ["minimum", "maximum", "multipleOf", "default"] {
                if let Some(number) = map.get(key).and_then(Value::as_f64)
                    && number.fract() == 0.0
                    && number.abs() < 9.0e15
                {
                    map.insert(key.into(), json!(number as i64));
                }
            }
            // `{allOf: [schema], nullable: true}` is the schema, nullable (how schemars writes
            // a nullable, readOnly, writeOnly or defaulted field of a named type, and so of an
            // inline one once rule 10 inlined it); so with `readOnly`, `writeOnly`, `default`,
            // `title` and `description` that the schema does not contradict.
            let beside = ["allOf", "nullable", "description", "readOnly", "writeOnly", "default", "title"];
            if let Some(Value::Array(parts)) = map.get("allOf")
                && let [Value::Object(only)] = parts.as_slice()
                && !only.contains_key("$ref")
                && map.keys().all(|k| beside.contains(&k.as_str()))
                && only.iter().all(|(k, v)| map.get(k).is_none_or(|mine| mine == v))
            {
                let only = only.clone();
                map.remove("allOf");
                map.extend(only);
            }
            // `{allOf: [{$ref}]}` with only documentation beside it is the reference.
            if let Some(Value::Array(parts)) = map.get("allOf")
                && let [Value::Object(only)] = parts.as_slice()
                && only.len() == 1
                && only.contains_key("$ref")
                && map.keys().all(|k| k == "allOf" || k == "description" || k == "title")
            {
                let only = only.clone();
                map.clear();
                map.extend(only);
                return;
            }
            // A readOnly (writeOnly) property is never required of a request (response): one
            // type serves both, so the generated code requires neither.
            let directional: Vec<String> = map
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter(|(_, s)| {
                            s.get("readOnly") == Some(&json!(true)) || s.get("writeOnly") == Some(&json!(true))
                        })
                        .map(|(name, _)| name.clone())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Array(required)) = map.get_mut("required") {
                required.retain(|name| !directional.iter().any(|d| name == d));
                if required.is_empty() {
                    map.remove("required");
                }
            }
            // `true` (or `{}`) is what an absent `additionalProperties` means.
            if map.get("additionalProperties").is_some_and(|v| *v == Value::Bool(true) || *v == json!({})) {
                map.remove("additionalProperties");
            }
            // `required` says nothing of a value that is not an object.
            if map.get("type").and_then(Value::as_str).is_some_and(|t| t != "object") {
                map.remove("required");
            }
            // A required member the properties do not describe is any value (the generator
            // describes it so), and a required value never takes its default (the generator
            // warned and ignores it).
            let required_names: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for name in &required_names {
                    let property = properties.entry(name.clone()).or_insert_with(|| json!({}));
                    if let Some(property) = property.as_object_mut() {
                        property.remove("default");
                    }
                }
                // A default the generated code does not apply (a property of its own type here;
                // one naming a type was judged with it, rule 14).
                for property in properties.values_mut() {
                    if let Value::Object(own) = property
                        && !own.contains_key("$ref")
                        && !own.contains_key("allOf")
                        && default_applies(own, &Value::Object(own.clone())).is_err()
                    {
                        own.remove("default");
                    }
                }
            }
            // A format of an object, array or boolean names nothing the generators know (they
            // warn); the value is read as its type.
            if matches!(map.get("type").and_then(Value::as_str), Some("object" | "array" | "boolean")) {
                map.remove("format");
            }
            let format = map.get("format").and_then(Value::as_str).map(str::to_owned);
            match map.get("type").and_then(Value::as_str) {
                Some("integer") => {
                    let known = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"];
                    let format = format.filter(|f| known.contains(&f.as_str())).unwrap_or_else(|| "int64".into());
                    // The Rust type of an unsigned format says it cannot be negative.
                    if format.starts_with('u') && !map.contains_key("minimum") {
                        map.insert("minimum".into(), json!(0));
                    }
                    map.insert("format".into(), json!(format));
                }
                Some("number") => {
                    let format = format.filter(|f| f == "float" || f == "double").unwrap_or_else(|| "double".into());
                    map.insert("format".into(), json!(format));
                }
                Some("string") => {
                    let known = |f: &str| {
                        matches!(f, "date-time" | "date") || crate::model::StringFormat::from_keyword(f).is_some()
                    };
                    if format.is_some_and(|f| !known(&f)) {
                        map.remove("format");
                    }
                }
                Some("array")
                    if map.get("title").and_then(Value::as_str).is_some_and(|t| t.starts_with("Array_of_")) =>
                {
                    map.remove("title");
                }
                _ => {}
            }
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    // Property names are keys, not keywords: each value is a property's schema.
                    ("properties", Value::Object(properties)) => {
                        properties.values_mut().for_each(|property| normalize_schema(property, true))
                    }
                    // Names and values, not schemas.
                    ("required" | "enum", _) => {}
                    (_, child) => normalize_schemas(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_schemas),
        _ => {}
    }
}

fn sort_required(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "required"
                    && let Value::Array(names) = child
                {
                    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    continue;
                }
                sort_required(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_required),
        _ => {}
    }
}

/// YAML with every object's keys sorted: the form the diff is shown in.
pub fn canonical_yaml(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_yaml::to_string(&sorted(value)).expect("JSON serializes as YAML")
}

/// Rule 10: the emitted document with every schema the spec does not name inlined.
fn inline_unnamed(emitted: &Value, spec_names: &[String]) -> Value {
    let definitions = emitted.pointer("/components/schemas").cloned().unwrap_or_else(|| json!({}));
    fn walk(value: &Value, definitions: &Value, spec_names: &[String]) -> Value {
        match value {
            Value::Object(map) => {
                if let Some(name) =
                    map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
                    && !spec_names.iter().any(|n| n == name)
                    && let Some(definition) = definitions.get(name)
                {
                    return walk(definition, definitions, spec_names);
                }
                Value::Object(map.iter().map(|(k, v)| (k.clone(), walk(v, definitions, spec_names))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, definitions, spec_names)).collect()),
            other => other.clone(),
        }
    }
    let mut inlined = walk(emitted, &definitions, spec_names);
    if let Some(schemas) = inlined.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.retain(|name, _| spec_names.iter().any(|n| n == name));
    }
    inlined
}

/// The component schemas `value` refers to, directly or through other components.
fn schemas_reached(doc: &Value, value: &Value) -> std::collections::BTreeSet<String> {
    fn walk(doc: &Value, value: &Value, found: &mut std::collections::BTreeSet<String>) {
        match value {
            Value::Object(members) => {
                if let Some(reference) = members.get("$ref").and_then(Value::as_str) {
                    let target = reference.trim_start_matches('#');
                    if let Some(name) = target.strip_prefix("/components/schemas/")
                        && !found.insert(name.to_owned())
                    {
                        return;
                    }
                    if let Some(resolved) = doc.pointer(target) {
                        walk(doc, resolved, found);
                    }
                }
                members.values().for_each(|member| walk(doc, member, found));
            }
            Value::Array(items) => items.iter().for_each(|item| walk(doc, item, found)),
            _ => {}
        }
    }
    let mut found = std::collections::BTreeSet::new();
    walk(doc, value, &mut found);
    found
}

/// Rule 10, on the spec side: a reference into a schema (`#/components/schemas/Disk/properties/
/// filesystem`, `…/Address/definitions/addressType`) is what it points at, inline (the generators
/// give it a type of their own, which rule 10 inlines on the emitted side), and `definitions`
/// inside a schema, a JSON Schema container OpenAPI 3.0 does not have, go.
fn inline_deep_references(mut spec: Value) -> Value {
    /// `names`: the keys of this object are names (of properties, of component schemas), not
    /// keywords, so a property called `definitions` stays.
    fn walk(value: &mut Value, doc: &Value, depth: usize, names: bool) {
        match value {
            Value::Object(map) => {
                if !names
                    && let Some(reference) = map.get("$ref").and_then(Value::as_str)
                    && let Some(rest) = reference.strip_prefix("#/components/schemas/")
                    && rest.contains('/')
                    && depth < 16
                    && let Some(target) = doc.pointer(&reference[1..])
                {
                    *value = target.clone();
                    walk(value, doc, depth + 1, false);
                    return;
                }
                let schema_like = ["type", "properties", "allOf", "oneOf", "anyOf", "items", "enum"];
                if !names && schema_like.iter().any(|k| map.contains_key(*k)) {
                    map.remove("definitions");
                }
                for (key, child) in map.iter_mut() {
                    let child_names = !names && matches!(key.as_str(), "properties" | "schemas");
                    walk(child, doc, depth, child_names);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, doc, depth, false)),
            _ => {}
        }
    }
    let doc = spec.clone();
    walk(&mut spec, &doc, 0, false);
    spec
}

/// Rule 4: parameters inline, and a query parameter that is an array described as a string, as
/// dropshot describes it (so that a schema only its items name is not looked for among the
/// emitted components).
fn query_arrays_as_strings(mut spec: Value) -> Value {
    let components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return spec };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for (key, holder) in item.iter_mut() {
            let params = if key == "parameters" { Some(holder) } else { holder.get_mut("parameters") };
            for param in params.and_then(Value::as_array_mut).into_iter().flatten() {
                *param = resolve(param, &components).clone();
                // dropshot describes only scalar query parameters: an array one is read as such
                // (repeated or comma-separated) and described as a string (so what its items
                // name is not looked for among the emitted components either).
                if param["in"] == "query" && param.pointer("/schema/type") == Some(&json!("array")) {
                    let description = param["schema"].get("description").cloned();
                    param["schema"] = json!({"type": "string"});
                    if let Some(description) = description {
                        param["schema"]["description"] = description;
                    }
                }
            }
        }
    }
    spec
}

/// `None` when the two normalised documents agree; otherwise a unified diff of their
/// canonical YAML, spec on the left.
pub fn difference(spec: &Value, emitted: &Value) -> Option<String> {
    let text = serde_json::to_string(spec).expect("JSON serializes");
    let api = crate::model::load(&text).expect("a spec in the round trip loads");
    let spec = &only_reachable_schemas(&query_arrays_as_strings(merge_all_of(&inline_deep_references(
        project_operations(&api.document, &api),
    ))));
    let spec_names: Vec<String> = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let left = normalize(spec);
    let mut right = normalize(&inline_unnamed(emitted, &spec_names));
    drop_framework_errors(&left, &mut right);
    let (left, right) = (canonical_yaml(&left), canonical_yaml(&right));
    if left == right {
        return None;
    }
    Some(
        similar::TextDiff::from_lines(&left, &right)
            .unified_diff()
            .context_radius(4)
            .header("spec/openapi.yaml (normalised)", "emitted by the generated dropshot trait (normalised)")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Value {
        serde_yaml::from_str(
            r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
servers: [{url: "http://x"}]
security: [{bearerAuth: []}]
paths:
  /things:
    post:
      operationId: make_thing
      parameters:
        - $ref: "#/components/parameters/Ws"
        - {name: b, in: query, schema: {type: string, format: uri}}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "400": {$ref: "#/components/responses/Bad"}
        "422": {$ref: "#/components/responses/Bad"}
components:
  securitySchemes: {bearerAuth: {type: http, scheme: bearer}}
  parameters:
    Ws: {name: Ws, in: header, required: true, schema: {type: integer}, x-client-supplied: true}
  responses:
    Bad: {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
  schemas:
    Thing: {type: object, required: [z, a], properties: {z: {type: integer}, a: {type: string, example: hi}}}
    Err: {type: object, properties: {m: {type: string}}}
"##,
        )
        .unwrap()
    }

    fn emitted() -> Value {
        serde_yaml::from_str(
            r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /things:
    post:
      operationId: make_thing
      parameters:
        - {in: header, name: Ws, required: true, schema: {type: integer, format: int64}}
        - {in: query, name: b, schema: {type: string, format: uri}}
      responses:
        "201": {description: successful creation, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        4XX: {$ref: "#/components/responses/Err"}
        5XX: {$ref: "#/components/responses/Err"}
components:
  schemas:
    Thing: {type: object, required: [a, z], properties: {a: {type: string}, z: {type: integer, format: int64}}}
    Err: {type: object, properties: {m: {type: string}}}
  responses:
    Err: {description: Err, content: {application/json: {schema: {$ref: "#/components/schemas/Err"}}}}
"##,
        )
        .unwrap()
    }

    #[test]
    fn what_dropshot_cannot_express_is_normalised_away() {
        assert_eq!(difference(&spec(), &emitted()), None);
    }

    /// What the sample met that dropshot writes otherwise, or cannot write: equal.
    #[test]
    fn what_the_sample_met_dropshot_writing_otherwise_is_equal() {
        let mut spec = spec();
        let mut emitted = emitted();
        // A trailing `/`, a path item's summary, an operation's externalDocs, an empty
        // `headers`, a reflowed description.
        let item = spec["paths"].as_object_mut().unwrap().remove("/things").unwrap();
        spec["paths"]["/things/"] = item;
        spec["paths"]["/things/"]["summary"] = json!("Things");
        let operation = &mut spec["paths"]["/things/"]["post"];
        operation["externalDocs"] = json!({"url": "https://example.com"});
        operation["description"] = json!("Makes --- a\n\nthing");
        operation["responses"]["201"]["headers"] = json!({});
        emitted["paths"]["/things"]["post"]["description"] = json!("Makes ---a thing");
        // A number enum dropshot writes as floats, a bound beyond int64, an object's format.
        let thing = &mut spec["components"]["schemas"]["Thing"]["properties"];
        thing["n"] = json!({"type": "number", "enum": [-1, 0, 1], "externalDocs": {"url": "https://example.com"}});
        thing["z"]["maximum"] = json!(9223372036854776000.0);
        thing["o"] = json!({"type": "object", "format": "uri-map"});
        let thing = &mut emitted["components"]["schemas"]["Thing"]["properties"];
        thing["n"] = json!({"type": "number", "format": "double", "enum": [-1.0, 0.0, 1.0]});
        thing["z"]["maximum"] = json!(9223372036854775807i64);
        thing["o"] = json!({"type": "object"});
        assert_eq!(difference(&spec, &emitted), None);
    }

    /// A reference into a schema is what it points at (the generators give it a type of its
    /// own, which the emitted side inlines); `definitions` inside a schema go.
    #[test]
    fn references_into_a_schema_are_inlined() {
        let mut spec = spec();
        let thing = &mut spec["components"]["schemas"]["Thing"];
        thing["definitions"] = json!({"Kind": {"type": "string", "enum": ["a", "b"]}});
        thing["properties"]["k"] = json!({"$ref": "#/components/schemas/Thing/definitions/Kind"});
        thing["properties"]["y"] = json!({"$ref": "#/components/schemas/Thing/properties/a"});
        // A property called `definitions` is a property (Okta's schemas have one).
        thing["properties"]["definitions"] = json!({"type": "string"});
        let mut emitted = emitted();
        emitted["components"]["schemas"]["Thing"]["properties"]["definitions"] = json!({"type": "string"});
        let thing = &mut emitted["components"]["schemas"]["Thing"];
        thing["properties"]["k"] = json!({"$ref": "#/components/schemas/ThingK"});
        thing["properties"]["y"] = json!({"type": "string"});
        emitted["components"]["schemas"]["ThingK"] = json!({"type": "string", "enum": ["a", "b"]});
        assert_eq!(difference(&spec, &emitted), None);
    }

    /// A title the emitted document lost is a difference (no rule hides it).
    #[test]
    fn a_lost_title_is_a_difference() {
        let mut spec = spec();
        spec["components"]["schemas"]["Thing"]["properties"]["a"]["title"] = json!("A");
        let diff = difference(&spec, &emitted()).expect("a lost title differs");
        assert!(diff.contains("-          title: A"), "{diff}");
    }

    #[test]
    fn a_lost_format_is_a_difference() {
        let mut changed = emitted();
        changed
            .pointer_mut("/paths/~1things/post/parameters/1/schema")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("format");
        let diff = difference(&spec(), &changed).expect("a difference");
        assert!(diff.contains("-          format: uri"), "{diff}");
    }

    #[test]
    fn a_changed_field_type_is_a_difference() {
        let mut changed = emitted();
        changed["components"]["schemas"]["Thing"]["properties"]["a"]["type"] = json!("boolean");
        let diff = difference(&spec(), &changed).expect("a difference");
        assert!(diff.contains("-          type: string") && diff.contains("+          type: boolean"), "{diff}");
    }

    #[test]
    fn a_changed_status_code_is_a_difference() {
        let mut changed = emitted();
        let responses = changed.pointer_mut("/paths/~1things/post/responses").unwrap().as_object_mut().unwrap();
        let created = responses.remove("201").unwrap();
        responses.insert("200".into(), created);
        assert!(difference(&spec(), &changed).unwrap().contains("+        '200':"));
    }

    #[test]
    fn a_missing_parameter_or_required_field_is_a_difference() {
        let mut no_param = emitted();
        no_param.pointer_mut("/paths/~1things/post/parameters").unwrap().as_array_mut().unwrap().pop();
        assert!(difference(&spec(), &no_param).is_some());

        let mut optional = emitted();
        optional["components"]["schemas"]["Thing"]["required"] = json!(["a"]);
        assert!(difference(&spec(), &optional).is_some());
    }

    /// A property naming a read-only type is read-only (rule 14): emitted without it, the
    /// field would be required of requests, which is a difference; `maximum` beside a string
    /// and `readOnly: false` say nothing, which is none.
    #[test]
    fn how_a_property_is_used_is_compared_through_its_type() {
        let mut spec = spec();
        spec["components"]["schemas"]["Links"] =
            json!({"type": "object", "readOnly": true, "properties": {"href": {"type": "string"}}});
        spec["components"]["schemas"]["Thing"]["properties"]["links"] = json!({"$ref": "#/components/schemas/Links"});
        spec["components"]["schemas"]["Thing"]["properties"]["a"]["maximum"] = json!(3);
        spec["components"]["schemas"]["Thing"]["properties"]["a"]["readOnly"] = json!(false);
        let mut emitted = emitted();
        emitted["components"]["schemas"]["Links"] =
            json!({"type": "object", "properties": {"href": {"type": "string"}}});
        emitted["components"]["schemas"]["Thing"]["properties"]["links"] =
            json!({"allOf": [{"$ref": "#/components/schemas/Links"}], "readOnly": true});
        assert_eq!(difference(&spec, &emitted), None);
        emitted["components"]["schemas"]["Thing"]["properties"]["links"] =
            json!({"$ref": "#/components/schemas/Links"});
        let diff = difference(&spec, &emitted).expect("a difference");
        assert!(diff.contains("-          readOnly: true"), "{diff}");
    }

    #[test]
    fn a_different_error_body_is_a_difference() {
        let mut changed = emitted();
        changed["components"]["responses"]["Err"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/Thing"});
        assert!(difference(&spec(), &changed).is_some());
    }
}
