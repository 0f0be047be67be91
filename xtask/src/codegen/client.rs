//! Generates the progenitor client (`squared-client`).
//!
//! progenitor would make its own copy of every type; we want the client and the server to
//! share `squared-types`. So the client generator first rewrites the document it hands to
//! progenitor: every inline schema of an operation that the model made into a named type is
//! moved into `components/schemas` under that same name, and every named type is then
//! replaced by its `squared_types` path. It also fills in derived operationIds and makes
//! `x-client-supplied` header parameters optional, since the hand-written layer in
//! `squared-client` supplies them from its credentials.
//!
//! progenitor takes one body type for the successes of an operation and one for its errors.
//! The rewrite bridges the rest: several JSON bodies become one `oneOf` of them (a type of
//! the client's own, `<Operation>ResponseBody` or `…ErrorBody`); successes that mix bodies
//! and no body, or JSON and other media types, come back as the raw response; an error
//! response without a body beside typed ones is left out, so the client reports it as an
//! unexpected response, status and all. Every name comes from the model, which is the one
//! place where inline schemas are named.

use anyhow::{Context, Result};
use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::{Map, Value, json};

use super::Layout;
use super::model::{Api, MediaKind, Response, TypeRef, pointer_token};

pub fn generate(api: &Api, layout: &Layout) -> Result<TokenStream> {
    let document = progenitor_document(api, &api.document)?;
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(document).context("the rewritten document is not valid OpenAPI")?;

    let mut settings = GenerationSettings::new();
    settings.with_interface(InterfaceStyle::Builder).with_tag(TagStyle::Merged);
    if let Some(inner) = &layout.client_inner {
        let inner: TokenStream = inner.parse().map_err(|_| anyhow::anyhow!("{inner:?} is not a Rust path"))?;
        settings.with_inner_type(inner).with_hooks(HooksMode::Expected);
    }
    for def in &api.types {
        settings.with_replacement(&def.name, format!("{}::{}", layout.types, def.name), std::iter::empty());
    }
    let tokens = Generator::new(&settings)
        .generate_tokens(&openapi)
        .map_err(|e| anyhow::anyhow!("progenitor could not generate the client: {e}"))?;
    Ok(tokens)
}

/// The document progenitor sees: the spec with operation schemas hoisted and the
/// client-side adjustments described in the module docs.
fn progenitor_document(api: &Api, spec: &Value) -> Result<Value> {
    let mut document = spec.clone();
    let components = document.get("components").cloned().unwrap_or_else(|| json!({}));
    let type_names: Vec<&str> = api.types.iter().map(|t| t.name.as_str()).collect();
    let mut hoisted = Map::new();
    let mut unions = Map::new();
    // Each path item's operations get its shared parameters and lose the rest of it.
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            item.remove("parameters");
        }
    }
    for op in &api.operations {
        let pointer = op.location.trim_start_matches('#');
        let operation =
            document.pointer_mut(pointer).with_context(|| format!("{}: operation vanished", op.location))?;
        let source = spec.pointer(pointer).expect("the operation is in the spec");
        operation["operationId"] = Value::String(op.operation_id.clone());
        if let Some(object) = operation.as_object_mut() {
            object.remove("callbacks");
        }

        // Parameters: as the model merged them, references inlined, so that each can be
        // adjusted; a client-supplied header is optional here.
        let mut params = Vec::new();
        for param in &op.params {
            let raw = find_parameter(spec, source, &op.location, &components, param.location.as_str(), &param.name)
                .with_context(|| format!("{}: parameter {} vanished", op.location, param.name))?;
            let mut raw = raw.clone();
            if param.client_supplied {
                raw["required"] = Value::Bool(false);
            }
            if let Some(schema) = raw.get_mut("schema") {
                hoist(schema, &param.ty, &mut hoisted);
            }
            params.push(raw);
        }
        operation["parameters"] = Value::Array(params);

        if let Some(body) = &op.body {
            let raw = resolve(&operation["requestBody"], &components, "requestBodies").clone();
            let mut schema =
                raw["content"][&body.content.media_type].get("schema").cloned().unwrap_or_else(|| json!({}));
            let media_type = match body.content.kind {
                MediaKind::Json => "application/json",
                MediaKind::Form => "application/x-www-form-urlencoded",
                MediaKind::Text => {
                    schema = json!({"type": "string"});
                    "text/plain"
                }
                MediaKind::Binary => {
                    schema = json!({"type": "string", "format": "binary"});
                    "application/octet-stream"
                }
            };
            hoist(&mut schema, &body.content.ty, &mut hoisted);
            operation["requestBody"] = json!({
                "required": body.required,
                "content": { media_type: { "schema": schema } },
            });
        }

        // Responses: progenitor takes one body type for the successes and one for the
        // errors of an operation (see the README for how the client bridges the rest).
        let mut responses = Map::new();
        let mut place = |list: &[Response], kind: &str, responses: &mut Map<String, Value>| {
            let typed: Vec<&Response> =
                list.iter().filter(|r| r.content.as_ref().is_some_and(|c| c.kind == MediaKind::Json)).collect();
            let distinct: Vec<&TypeRef> = typed.iter().fold(Vec::new(), |mut seen, r| {
                let ty = &r.content.as_ref().expect("typed").ty;
                if !seen.contains(&ty) {
                    seen.push(ty);
                }
                seen
            });
            let all_typed = typed.len() == list.len();
            for response in list {
                let raw = resolve(&source["responses"][response.status.key()], &components, "responses");
                let mut entry = json!({ "description": raw.get("description").cloned().unwrap_or(json!("")) });
                let schema = |response: &Response, hoisted: &mut Map<String, Value>| {
                    let content = response.content.as_ref().expect("typed");
                    let mut schema =
                        raw["content"][&content.media_type].get("schema").cloned().unwrap_or_else(|| json!({}));
                    hoist(&mut schema, &content.ty, hoisted);
                    schema
                };
                match &response.content {
                    None if kind == "Error" && !typed.is_empty() => continue,
                    None => {}
                    Some(content) if content.kind != MediaKind::Json || (kind == "Response" && !all_typed) => {
                        entry["content"] =
                            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
                    }
                    Some(_) if distinct.len() == 1 => {
                        entry["content"] = json!({"application/json": {"schema": schema(response, &mut hoisted)}});
                    }
                    Some(_) => {
                        let name = union_name(&op.pascal_name, kind, &type_names);
                        if !unions.contains_key(&name) {
                            let alternatives: Vec<Value> =
                                typed.iter().map(|r| schema(r, &mut hoisted)).fold(Vec::new(), |mut seen, s| {
                                    if !seen.contains(&s) {
                                        seen.push(s);
                                    }
                                    seen
                                });
                            unions.insert(name.clone(), json!({ "oneOf": alternatives }));
                        }
                        let reference = format!("#/components/schemas/{}", pointer_token(&name));
                        entry["content"] = json!({"application/json": {"schema": {"$ref": reference}}});
                    }
                }
                if !response.headers.is_empty() {
                    entry["headers"] = raw.get("headers").cloned().unwrap_or(json!({}));
                }
                responses.insert(response.status.key(), entry);
            }
        };
        place(&op.responses, "Response", &mut responses);
        place(&op.errors, "Error", &mut responses);
        operation["responses"] = Value::Object(responses);
    }
    let schemas = document
        .as_object_mut()
        .context("#: not an object")?
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .context("#/components: not an object")?
        .entry("schemas")
        .or_insert_with(|| json!({}));
    let schemas = schemas.as_object_mut().context("#/components/schemas: not an object")?;
    schemas.extend(hoisted);
    schemas.extend(unions);
    Ok(document)
}

/// The name of the union progenitor gets for an operation's several success (or error)
/// bodies: a type of the client's own, so it must not take a name of the shared types.
fn union_name(operation: &str, kind: &str, taken: &[&str]) -> String {
    let mut name = format!("{operation}{kind}Body");
    while taken.contains(&name.as_str()) {
        name.push_str("Union");
    }
    name
}

/// A parameter of an operation or of its path item, by place and name, references followed.
fn find_parameter<'v>(
    spec: &'v Value,
    operation: &'v Value,
    location: &str,
    components: &'v Value,
    place: &str,
    name: &str,
) -> Option<&'v Value> {
    let item_pointer = location.trim_start_matches('#').rsplit_once('/').map(|(item, _)| item)?;
    let item = spec.pointer(item_pointer)?;
    [operation, item]
        .into_iter()
        .flat_map(|holder| holder.get("parameters").and_then(Value::as_array).into_iter().flatten())
        .map(|p| resolve(p, components, "parameters"))
        .find(|p| p["in"] == place && p["name"] == name)
}

/// Follows a `$ref` into `#/components/<section>/`.
fn resolve<'v>(value: &'v Value, components: &'v Value, section: &str) -> &'v Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let key =
                reference.trim_start_matches(&format!("#/components/{section}/")).replace("~1", "/").replace("~0", "~");
            &components[section][key]
        }
        None => value,
    }
}

/// Moves the inline schemas the model made into named types into `hoisted`, under the
/// model's names, leaving references: the client then names the shared types.
fn hoist(schema: &mut Value, ty: &TypeRef, hoisted: &mut Map<String, Value>) {
    if schema.get("$ref").is_some() {
        return;
    }
    match ty {
        TypeRef::Named(name) => {
            let reference = json!({ "$ref": format!("#/components/schemas/{}", pointer_token(name)) });
            let taken = std::mem::replace(schema, reference);
            hoisted.insert(name.clone(), taken);
        }
        TypeRef::Array(item) => {
            if let Some(items) = schema.get_mut("items") {
                hoist(items, item, hoisted);
            }
        }
        TypeRef::Map(value) => {
            if let Some(values) = schema.get_mut("additionalProperties").filter(|v| v.is_object()) {
                hoist(values, value, hoisted);
            }
        }
        _ => {}
    }
}
