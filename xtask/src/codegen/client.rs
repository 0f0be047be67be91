//! Generates the progenitor client (`squared-client`).
//!
//! progenitor would make its own copy of every type; we want the client and the server to
//! share `squared-types`. So the client generator first rewrites the document it hands to
//! progenitor: every inline schema of an operation that the model made into a named type is
//! moved into `components/schemas` under that same name, and every named type is then
//! replaced by its `squared_types` path. It also fills in derived operationIds and makes
//! `x-client-supplied` header parameters optional, since the hand-written layer in
//! `squared-client` supplies them from its credentials.

use anyhow::{Context, Result};
use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::{Map, Value, json};

use super::Layout;
use super::model::{Api, is_named_kind, pointer_token};

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
    let components = document.clone().get("components").cloned().unwrap_or_else(|| json!({}));
    let mut hoisted = Map::new();
    // Path-level parameters go into each operation (an operation's own one of the same name
    // and place wins), so that the adjustments below reach them too.
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            let Some(Value::Array(shared)) = item.remove("parameters") else { continue };
            for operation in item.values_mut().filter(|o| o.is_object()) {
                let own = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
                let key = |p: &Value| {
                    let p = match p.get("$ref").and_then(Value::as_str) {
                        Some(r) => &components["parameters"][r.trim_start_matches("#/components/parameters/")],
                        None => p,
                    };
                    (p["name"].clone(), p["in"].clone())
                };
                let mut merged: Vec<Value> =
                    shared.iter().filter(|s| !own.iter().any(|o| key(o) == key(s))).cloned().collect();
                merged.extend(own);
                operation["parameters"] = Value::Array(merged);
            }
        }
    }
    for op in &api.operations {
        let pointer = op.location.trim_start_matches('#');
        let operation =
            document.pointer_mut(pointer).with_context(|| format!("{}: operation vanished", op.location))?;
        let op_pascal = heck::ToPascalCase::to_pascal_case(op.operation_id.as_str());
        operation["operationId"] = Value::String(op.operation_id.clone());

        // Parameters: inline the references so that they can be adjusted one by one.
        if let Some(params) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
            for param in params.iter_mut() {
                if let Some(reference) = param.get("$ref").and_then(Value::as_str) {
                    let key = reference.trim_start_matches("#/components/parameters/");
                    *param = components["parameters"][key].clone();
                }
                if param.get("x-client-supplied").and_then(Value::as_bool) == Some(true) {
                    param["required"] = Value::Bool(false);
                }
                let name = heck::ToPascalCase::to_pascal_case(param["name"].as_str().unwrap_or_default());
                if let Some(schema) = param.get_mut("schema") {
                    hoist(schema, &format!("{op_pascal}{name}"), &mut hoisted);
                }
            }
        }
        if let Some(body) = operation.get_mut("requestBody") {
            if let Some(reference) = body.get("$ref").and_then(Value::as_str) {
                let key = reference.trim_start_matches("#/components/requestBodies/");
                *body = components["requestBodies"][key].clone();
            }
            if let Some(schema) = body.pointer_mut("/content/application~1json/schema") {
                hoist(schema, &format!("{op_pascal}Body"), &mut hoisted);
            }
        }
        if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
            for (status, response) in responses.iter_mut() {
                if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
                    let key = reference.trim_start_matches("#/components/responses/");
                    *response = components["responses"][key].clone();
                }
                let suffix = if status.starts_with('2') { "Response" } else { "Error" };
                if let Some(schema) = response.pointer_mut("/content/application~1json/schema") {
                    hoist(schema, &format!("{op_pascal}{suffix}"), &mut hoisted);
                }
            }
        }
    }
    let schemas = document
        .pointer_mut("/components")
        .and_then(Value::as_object_mut)
        .map(|c| c.entry("schemas").or_insert_with(|| json!({})))
        .with_context(|| "#/components: missing".to_owned())?;
    let schemas = schemas.as_object_mut().context("#/components/schemas: not an object")?;
    schemas.extend(hoisted);
    Ok(document)
}

/// Moves an inline schema that the model names into `hoisted`, leaving a reference.
/// Mirrors the model's naming: arrays name their items `…Item`, maps their values `…Value`.
fn hoist(schema: &mut Value, name: &str, hoisted: &mut Map<String, Value>) {
    if schema.get("$ref").is_some() {
        return;
    }
    if is_named_kind(schema) {
        let taken =
            std::mem::replace(schema, json!({ "$ref": format!("#/components/schemas/{}", pointer_token(name)) }));
        hoisted.insert(name.to_owned(), taken);
        return;
    }
    if let Some(items) = schema.get_mut("items") {
        hoist(items, &format!("{name}Item"), hoisted);
    }
    if let Some(values) = schema.get_mut("additionalProperties").filter(|v| v.is_object()) {
        hoist(values, &format!("{name}Value"), hoisted);
    }
}
