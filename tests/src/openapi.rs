//! Makes `spec/openapi.yaml` and the document dropshot emits for the generated trait
//! comparable, and shows how they differ.
//!
//! The normalisation removes only what dropshot cannot express or spells differently; every
//! other difference in operations, parameters, request bodies, schemas or status codes stays
//! and fails the round-trip test. Applied to both documents:
//!
//! 1. `servers`, `security` and `components.securitySchemes` are dropped: dropshot has no way
//!    to declare them.
//! 2. References into `components.parameters`, `components.requestBodies` and
//!    `components.responses` are inlined and those sections dropped, and parameters shared by
//!    a path item are copied into its operations: dropshot always inlines parameters and
//!    bodies, and names its one error response after the error type.
//! 3. Error responses: dropshot declares one `4XX` and one `5XX` response whose body is the
//!    error type. So every 4xx and 5xx response of an operation is folded into one entry,
//!    `errors`, holding its body schema (the generator already refuses operations whose
//!    errors have different bodies).
//! 4. Response `description`s and `links` (and `components.links`) are dropped: dropshot
//!    writes fixed descriptions ("successful creation") and cannot declare links.
//!    Parameter schemas lose their `default`: dropshot strips every annotation from them
//!    (the generated code still applies the default).
//! 5. Specification extensions (`x-…`) and `example`s are dropped: schemars derives do not
//!    carry them.
//! 6. On the spec side, an `integer` without `format` gets `format: int64` and a `number`
//!    without one `format: double` (the Rust types are `i64` and `f64`), and string formats other than `date-time` and `date` are dropped (the Rust
//!    type is a plain `String`).
//! 7. `required` lists are sorted and parameters ordered by location and name: the order
//!    carries no meaning and schemars sorts. A parameter's `required: false` is dropped: it
//!    is the default, and dropshot leaves it out.
//! 8. On the emitted side, the `title: Array_of_…` schemars gives array response bodies is
//!    dropped.
//! 9. An operation without an operationId gets the one the generator derives for it.
//! 10. On the emitted side, schemas the spec does not name are inlined where they are used:
//!     the generators give every inline object and enum a Rust type, and schemars names every
//!     type (see the naming rules in `xtask/src/codegen/model.rs`).
//! 11. On the emitted side, a path parameter whose schema admits exactly one value is put
//!     back into the path as that literal segment: dropshot's router cannot hold a literal
//!     beside a variable (`…/check_connection` beside `…/{connector_name}`), so the server
//!     trait routes the literal through the variable and pins its value.
//! 12. On the spec side, an operation the trait routes through another's endpoint (the same
//!     method at the variable its literal segment is pinned to, as `GET …/configurations`
//!     through `GET …/{sync_id}`) is dropped: dropshot registers one endpoint per method and
//!     path, so the emitted document describes only the owner. The routed operation's types
//!     are still generated and compiled, and its contract test calls it.

use serde_json::{Map, Value, json};

/// The normalised form of a document (see the module docs).
pub fn normalize(document: &Value) -> Value {
    let mut doc = document.clone();
    let components = doc.get("components").cloned().unwrap_or_else(|| json!({}));
    if let Some(object) = doc.as_object_mut() {
        object.remove("servers");
        object.remove("security");
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            let shared = item.remove("parameters");
            for (method, operation) in item.iter_mut() {
                if operation.get("operationId").is_none() {
                    operation["operationId"] = json!(xtask::codegen::model::derived_operation_id(method, path));
                }
                if let Some(Value::Array(shared)) = &shared {
                    let own = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
                    let mut merged: Vec<Value> = shared
                        .iter()
                        .map(|p| resolve(p, &components, "parameters").clone())
                        .filter(|p| {
                            !own.iter()
                                .map(|o| resolve(o, &components, "parameters"))
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
        for section in ["securitySchemes", "parameters", "requestBodies", "responses", "links"] {
            components.remove(section);
        }
    }
    let mut doc = strip_annotations(doc);
    if let Some(schemas) = doc.pointer_mut("/components/schemas") {
        normalize_schemas(schemas);
    }
    if let Some(paths) = doc.get_mut("paths") {
        normalize_schemas(paths);
    }
    sort_required(&mut doc);
    doc
}

fn resolve<'a>(value: &'a Value, components: &'a Value, section: &str) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let key = reference.trim_start_matches(&format!("#/components/{section}/")).to_owned();
            components.get(section).and_then(|s| s.get(&key)).unwrap_or(value)
        }
        None => value,
    }
}

fn normalize_operation(operation: &mut Value, components: &Value) {
    if let Some(params) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params.iter_mut() {
            *param = resolve(param, components, "parameters").clone();
            if param.get("required") == Some(&Value::Bool(false)) {
                param.as_object_mut().unwrap().remove("required");
            }
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) {
                schema.remove("default");
            }
        }
        params.sort_by_key(|p| {
            (p["in"].as_str().unwrap_or_default().to_owned(), p["name"].as_str().unwrap_or_default().to_owned())
        });
    }
    if let Some(body) = operation.get_mut("requestBody") {
        *body = resolve(body, components, "requestBodies").clone();
    }
    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
        let mut folded = Map::new();
        let mut errors = Vec::new();
        for (status, response) in responses.iter() {
            let mut response = resolve(response, components, "responses").clone();
            if let Some(object) = response.as_object_mut() {
                object.remove("description");
                object.remove("links");
            }
            if status.starts_with('4') || status.starts_with('5') {
                let body = response.pointer("/content/application~1json/schema").cloned().unwrap_or(Value::Null);
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

/// Drops `x-…` extensions and `example`s everywhere, except under `properties` (where a
/// key is a property name, not a keyword).
fn strip_annotations(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(key, _)| !key.starts_with("x-") && key != "example")
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
    match value {
        Value::Object(map) => {
            match map.get("type").and_then(Value::as_str) {
                Some("integer") if !map.contains_key("format") => {
                    map.insert("format".into(), json!("int64"));
                }
                Some("number") if !map.contains_key("format") => {
                    map.insert("format".into(), json!("double"));
                }
                Some("string") => {
                    let keep = matches!(map.get("format").and_then(Value::as_str), Some("date-time" | "date") | None);
                    if !keep {
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
                // Property names and the like are keys, not schemas.
                if key != "required" && key != "enum" {
                    normalize_schemas(child);
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

/// Rule 11: path parameters whose schema admits one value are that literal segment.
fn unpin_literal_segments(emitted: &Value) -> Value {
    let mut doc = emitted.clone();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return doc };
    let mut rewritten = Map::new();
    for (path, item) in std::mem::take(paths) {
        let Value::Object(item) = item else { continue };
        for (method, mut operation) in item {
            let mut served = path.clone();
            if let Some(params) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
                params.retain(|param| {
                    let one_value = param.pointer("/schema/enum").and_then(Value::as_array).filter(|v| v.len() == 1);
                    match (param["in"].as_str(), param["name"].as_str(), one_value) {
                        (Some("path"), Some(name), Some(values)) => {
                            served = served.replace(&format!("{{{name}}}"), values[0].as_str().unwrap_or_default());
                            false
                        }
                        _ => true,
                    }
                });
            }
            let entry = rewritten.entry(served).or_insert_with(|| json!({}));
            entry[method.as_str()] = operation;
        }
    }
    *paths = rewritten;
    doc
}

/// Rule 12: the spec without the operations the server trait routes through another's
/// endpoint, nor the component schemas only they use.
fn without_routed_operations(spec: &Value) -> Value {
    let mut doc = spec.clone();
    let text = serde_json::to_string(spec).expect("JSON serializes");
    let Ok(api) = xtask::codegen::model::load(&text) else { return doc };
    let served = xtask::codegen::server_trait::served_paths(&api);
    let routed = xtask::codegen::server_trait::routed_through(&api, &served);
    let mut dropped = Vec::new();
    for (op, owner) in api.operations.iter().zip(routed) {
        if owner.is_some()
            && let Some(item) = doc.pointer_mut(&format!("/paths/{}", xtask::codegen::model::pointer_token(&op.path)))
            && let Some(item) = item.as_object_mut()
            && let Some(operation) = item.remove(&op.method.to_lowercase())
        {
            dropped.push(operation);
            if item.keys().all(|k| k == "parameters") {
                doc["paths"].as_object_mut().expect("paths").remove(&op.path);
            }
        }
    }
    let only_theirs = schemas_reached(&doc, &Value::Array(dropped));
    let still_used = schemas_reached(&doc, &doc["paths"]);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.retain(|name, _| !only_theirs.contains(name) || still_used.contains(name));
    }
    doc
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

/// `None` when the two normalised documents agree; otherwise a unified diff of their
/// canonical YAML, spec on the left.
pub fn difference(spec: &Value, emitted: &Value) -> Option<String> {
    let spec_names: Vec<String> = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let left = canonical_yaml(&normalize(&without_routed_operations(spec)));
    let right = canonical_yaml(&normalize(&unpin_literal_segments(&inline_unnamed(emitted, &spec_names))));
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
        - {in: query, name: b, schema: {type: string}}
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

    #[test]
    fn a_different_error_body_is_a_difference() {
        let mut changed = emitted();
        changed["components"]["responses"]["Err"]["content"]["application/json"]["schema"] =
            json!({"$ref": "#/components/schemas/Thing"});
        assert!(difference(&spec(), &changed).is_some());
    }
}
