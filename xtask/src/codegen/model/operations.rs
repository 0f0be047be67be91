//! Operations: parameters (path-item ones merged in), request bodies and responses.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use heck::ToPascalCase;
use serde_json::Value;

use super::build::Builder;
use super::naming::{derived_operation_id, join, rust_field_name};
use super::schemas::constraints;
use super::{Operation, Param, ParamLocation, TypeRef};

impl<'a> Builder<'a> {
    pub(super) fn operation(
        &mut self,
        path: &str,
        method: &str,
        operation: &Value,
        shared_params: &[Value],
        location: &str,
    ) -> Result<Operation> {
        let operation_id = match operation.get("operationId").and_then(Value::as_str) {
            Some(id) => {
                ensure!(
                    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{location}/operationId: {id:?} must be made of ASCII letters, digits and underscores"
                );
                id.to_owned()
            }
            None => {
                let derived = derived_operation_id(method, path);
                self.warnings.push(format!("{location}: no operationId; using {derived:?}"));
                derived
            }
        };
        let op_pascal = operation_id.to_pascal_case();
        let rust_name = rust_field_name(&operation_id);

        // Parameters: the operation's own override shared ones with the same name and place.
        let own_params = operation.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut resolved: Vec<(Value, String)> = Vec::new();
        for (index, raw) in shared_params.iter().enumerate() {
            let raw_location = format!("{}/parameters/{index}", location.rsplit_once('/').unwrap().0);
            resolved.push(self.resolve_parameter(raw, &raw_location)?);
        }
        for (index, raw) in own_params.iter().enumerate() {
            let param = self.resolve_parameter(raw, &format!("{location}/parameters/{index}"))?;
            resolved.retain(|(p, _)| !(p["name"] == param.0["name"] && p["in"] == param.0["in"]));
            resolved.push(param);
        }
        let mut params = Vec::new();
        let mut seen_rust_names = BTreeMap::new();
        for (param, param_location) in resolved {
            let name = param["name"].as_str().with_context(|| format!("{param_location}: a parameter needs a name"))?;
            let param_in = match param["in"].as_str() {
                Some("path") => ParamLocation::Path,
                Some("query") => ParamLocation::Query,
                Some("header") => ParamLocation::Header,
                other => bail!("{param_location}: parameters in {other:?} are not supported"),
            };
            ensure!(
                param.get("content").is_none(),
                "{param_location}: parameters described by `content` are not supported; use `schema`"
            );
            if let Some(style) = param.get("style").and_then(Value::as_str) {
                let default = if param_in == ParamLocation::Query { "form" } else { "simple" };
                ensure!(style == default, "{param_location}: parameter style {style:?} is not supported");
            }
            let schema =
                param.get("schema").with_context(|| format!("{param_location}: a parameter needs a schema"))?;
            let schema_location = format!("{param_location}/schema");
            let ty = self.type_ref(schema, &format!("{op_pascal}{}", name.to_pascal_case()), &schema_location)?;
            let scalar = match &ty {
                TypeRef::Named(type_name) => self.is_enum(type_name),
                TypeRef::Array(_) => param_in == ParamLocation::Query,
                TypeRef::Map(_) | TypeRef::JsonObject | TypeRef::Any => false,
                _ => true,
            };
            ensure!(scalar, "{schema_location}: a {} parameter must be a scalar or an enum", param_in.as_str());
            let required = param.get("required").and_then(Value::as_bool).unwrap_or(false);
            let default = self.default_value(schema, &ty, required, &schema_location)?;
            ensure!(param_in != ParamLocation::Path || required, "{param_location}: path parameters must be required");
            ensure!(
                param_in != ParamLocation::Path || path.contains(&format!("{{{name}}}")),
                "{param_location}: path parameter {name:?} does not appear in {path:?}"
            );
            let rust_name = rust_field_name(name);
            if let Some(other) = seen_rust_names.insert((param_in, rust_name.clone()), name.to_owned()) {
                bail!("{param_location}: its Rust name {rust_name} collides with parameter {other:?}");
            }
            params.push(Param {
                name: name.to_owned(),
                rust_name,
                location: param_in,
                ty,
                required,
                description: param.get("description").and_then(Value::as_str).map(str::to_owned),
                constraints: constraints(schema, &schema_location)?,
                default,
                client_supplied: param.get("x-client-supplied").and_then(Value::as_bool).unwrap_or(false),
            });
        }
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_start_matches('{').trim_end_matches('}');
            ensure!(
                params.iter().any(|p| p.location == ParamLocation::Path && p.name == name),
                "{location}: the path variable {{{name}}} has no path parameter"
            );
        }

        let body = match operation.get("requestBody") {
            None => None,
            Some(request_body) => {
                let body_location = format!("{location}/requestBody");
                let request_body = self.resolve_component(request_body, "requestBodies", &body_location)?;
                ensure!(
                    request_body.get("required").and_then(Value::as_bool).unwrap_or(false),
                    "{body_location}: optional request bodies are not supported; add `required: true`"
                );
                let schema = json_schema_of(request_body, &body_location)?;
                let ty = self.type_ref(
                    schema,
                    &format!("{op_pascal}Body"),
                    &format!("{body_location}/content/application~1json/schema"),
                )?;
                ensure!(matches!(ty, TypeRef::Named(_)), "{body_location}: a request body must be an object schema");
                Some(ty)
            }
        };

        let responses = operation
            .get("responses")
            .and_then(Value::as_object)
            .with_context(|| format!("{location}: an operation needs responses"))?;
        let mut success: Option<(u16, Option<TypeRef>)> = None;
        let mut error_type: Option<(String, String)> = None;
        for (status, response) in responses {
            let response_location = join(&format!("{location}/responses"), status);
            let response = self.resolve_component(response, "responses", &response_location)?;
            let code = status_class(status, &response_location)?;
            if code.is_success() {
                let code = match code {
                    StatusClass::Exact(code) => code,
                    _ => bail!("{response_location}: a success response needs an exact status code"),
                };
                ensure!(success.is_none(), "{response_location}: only one success response per operation is supported");
                ensure!(
                    matches!(code, 200..=204),
                    "{response_location}: success status {code} is not supported (200, 201, 202 and 204 are)"
                );
                let body = if code == 204 {
                    ensure!(
                        response.get("content").is_none(),
                        "{response_location}: a 204 response cannot have a body"
                    );
                    None
                } else {
                    let schema = json_schema_of(response, &response_location).with_context(|| {
                        format!("{response_location}: a {code} response needs an application/json body")
                    })?;
                    Some(self.type_ref(
                        schema,
                        &format!("{op_pascal}Response"),
                        &format!("{response_location}/content/application~1json/schema"),
                    )?)
                };
                success = Some((code, body));
            } else {
                // An error response without a body documents a status only.
                if response.get("content").is_none() {
                    continue;
                }
                let schema = json_schema_of(response, &response_location)?;
                let schema_location = format!("{response_location}/content/application~1json/schema");
                let name = match self.type_ref(schema, &format!("{op_pascal}Error"), &schema_location)? {
                    TypeRef::Named(name) if !self.is_enum(&name) => name,
                    _ => bail!("{schema_location}: an error body must be an object schema"),
                };
                match &error_type {
                    Some((existing, first)) if *existing != name => bail!(
                        "{response_location}: every error response of an operation must have one body \
                         type; {first} uses {existing}, this one uses {name}"
                    ),
                    Some(_) => {}
                    None => error_type = Some((name, response_location.clone())),
                }
            }
        }
        let (success_status, success_body) =
            success.with_context(|| format!("{location}/responses: an operation needs a 2xx response"))?;

        Ok(Operation {
            operation_id,
            rust_name,
            method: method.to_uppercase(),
            path: path.to_owned(),
            summary: operation.get("summary").and_then(Value::as_str).map(str::to_owned),
            description: operation.get("description").and_then(Value::as_str).map(str::to_owned),
            tags: operation
                .get("tags")
                .and_then(Value::as_array)
                .map(|tags| tags.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            params,
            body,
            success_status,
            success_body,
            error_type: error_type.map(|(name, _)| name),
            location: location.to_owned(),
        })
    }
}

enum StatusClass {
    Exact(u16),
    Range(u16),
}

impl StatusClass {
    fn is_success(&self) -> bool {
        matches!(self, StatusClass::Exact(200..=299) | StatusClass::Range(2))
    }
}

fn status_class(status: &str, location: &str) -> Result<StatusClass> {
    if status == "default" {
        bail!("{location}: `default` responses are not supported; declare the status codes");
    }
    if let Some(range) = status.strip_suffix("XX") {
        let range: u16 = range.parse().with_context(|| format!("{location}: bad status range {status:?}"))?;
        return Ok(StatusClass::Range(range));
    }
    status.parse().map(StatusClass::Exact).with_context(|| format!("{location}: bad status code {status:?}"))
}

fn json_schema_of<'v>(holder: &'v Value, location: &str) -> Result<&'v Value> {
    let content =
        holder.get("content").and_then(Value::as_object).with_context(|| format!("{location}: no content"))?;
    ensure!(
        content.len() == 1 && content.contains_key("application/json"),
        "{location}/content: only application/json is supported, found {:?}",
        content.keys().collect::<Vec<_>>()
    );
    content["application/json"]
        .get("schema")
        .with_context(|| format!("{location}/content/application~1json: no schema"))
}
