//! Operations: parameters (path-item ones merged in), request bodies and responses.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use heck::ToPascalCase;
use serde_json::Value;

use super::build::Builder;
use super::naming::{derived_operation_id, first_free, join, path_variables, rust_field_name};
use super::schemas::constraints;
use super::{
    Condition, Content, MediaKind, ObjectText, Operation, Param, ParamLocation, RequestBody, Response, Status, TypeRef,
};

impl<'a> Builder<'a> {
    pub(super) fn operation(
        &mut self,
        path: &str,
        method: &str,
        operation: &Value,
        shared_params: &[Value],
        location: &str,
    ) -> Result<Operation> {
        // The wire name stays as the spec writes it; the Rust names come from its words.
        let operation_id = match operation.get("operationId").and_then(Value::as_str) {
            Some(id) if rust_field_name(id).chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => id.to_owned(),
            Some(id) => {
                let derived = derived_operation_id(method, path);
                self.warnings.push(format!(
                    "{location}/operationId: {id:?} has no ASCII words to name a Rust method; the Rust names use \
                     {derived:?}"
                ));
                id.to_owned()
            }
            None => {
                let derived = derived_operation_id(method, path);
                self.warnings.push(format!("{location}: no operationId; using {derived:?}"));
                derived
            }
        };
        let words = if rust_field_name(&operation_id).is_ascii() {
            operation_id.clone()
        } else {
            derived_operation_id(method, path)
        };
        let mut op_pascal = words.to_pascal_case();
        // An operationId that starts with a digit (`4oD-browse`) prefixes its types' names.
        if !op_pascal.starts_with(|c: char| c.is_ascii_alphabetic()) {
            op_pascal.insert_str(0, "Op");
        }
        let rust_name = rust_field_name(&words);

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
            let mut parsed = self.parameter(
                &param,
                name,
                param_in,
                &format!("{op_pascal}{}", name.to_pascal_case()),
                &param_location,
            )?;
            // OpenAPI requires `required: true` on a path parameter; a path cannot lack it.
            if param_in == ParamLocation::Path && !parsed.required {
                self.warnings.push(format!("{param_location}: a path parameter not marked required; it is required"));
                parsed.required = true;
            }
            ensure!(
                param_in != ParamLocation::Path || path.contains(&format!("{{{name}}}")),
                "{param_location}: path parameter {name:?} does not appear in {path:?}"
            );
            let natural = parsed.rust_name.clone();
            parsed.rust_name =
                first_free(&natural, "_", |taken| seen_rust_names.contains_key(&(param_in, taken.to_owned())));
            if let Some(other) =
                seen_rust_names.get(&(param_in, natural.clone())).filter(|_| parsed.rust_name != natural)
            {
                self.warnings.push(format!(
                    "{param_location}: its Rust name {natural} is parameter {other:?}'s; it is {} (the wire name \
                     stays {name:?})",
                    parsed.rust_name
                ));
            }
            seen_rust_names.insert((param_in, parsed.rust_name.clone()), name.to_owned());
            params.push(parsed);
        }
        let conditions = match path.split_once('#') {
            None => Vec::new(),
            Some((_, fragment)) => fragment
                .split('&')
                .filter(|c| !c.is_empty())
                .map(|condition| {
                    let (name, value) = match condition.split_once('=') {
                        Some((name, value)) => (name, Some(value.to_owned())),
                        None => (condition, None),
                    };
                    let is_header = params
                        .iter()
                        .any(|p: &Param| p.location == ParamLocation::Header && p.name.eq_ignore_ascii_case(name));
                    let location = if is_header { ParamLocation::Header } else { ParamLocation::Query };
                    Condition { location, name: name.to_owned(), value }
                })
                .collect(),
        };
        let variables = path_variables(super::request_path(path));
        for (index, name) in variables.iter().enumerate() {
            ensure!(
                params.iter().any(|p| p.location == ParamLocation::Path && p.name == *name),
                "{location}: the path variable {{{name}}} has no path parameter"
            );
            ensure!(
                !variables[..index].contains(name),
                "{location}: the path names the variable {{{name}}} twice; dropshot's router takes a variable once \
                 per path (and a request could give the two places different values); give the second its own name \
                 and declare it as a path parameter"
            );
        }

        let body = match operation.get("requestBody") {
            None => None,
            Some(raw) => {
                let body_location = format!("{location}/requestBody");
                let request_body = self.resolve_component(raw, "requestBodies", &body_location)?;
                match self.content(request_body, &format!("{op_pascal}Body"), &body_location)? {
                    None => {
                        self.warnings.push(format!(
                            "{body_location}: a request body without `content` describes no body; the operation \
                             takes none"
                        ));
                        None
                    }
                    Some(content) => self.request_body(request_body, content, &body_location),
                }
            }
        };
        if operation.get("callbacks").is_some_and(|c| c.as_object().is_some_and(|c| !c.is_empty())) {
            self.warnings.push(format!(
                "{location}/callbacks: left out: callbacks are requests the API sends, which neither the server \
                 trait nor the client makes"
            ));
        }

        let raw_responses = operation
            .get("responses")
            .and_then(Value::as_object)
            .with_context(|| format!("{location}: an operation needs responses"))?;
        let mut statuses = Vec::new();
        for (key, raw) in raw_responses {
            let response_location = join(&format!("{location}/responses"), key);
            statuses.push((parse_status(key, &response_location)?, raw, response_location));
        }
        statuses.sort_by_key(|(status, _, _)| *status);
        let has_non_error = statuses.iter().any(|(status, _, _)| !is_error(*status));
        let (mut responses, mut errors) = (Vec::new(), Vec::new());
        for (status, raw, response_location) in statuses {
            let raw = self.resolve_component(raw, "responses", &response_location)?;
            let error = match status {
                Status::Default => has_non_error,
                other => is_error(other),
            };
            let (kind, list) = if error { ("Error", &mut errors) } else { ("Response", &mut responses) };
            let with_body = list.iter().filter(|r: &&Response| r.content.is_some()).count();
            let inline_name = match with_body {
                0 => format!("{op_pascal}{kind}"),
                _ => format!("{op_pascal}{kind}{}", status.key().to_pascal_case()),
            };
            let content = self.content(raw, &inline_name, &response_location)?;
            let mut headers = Vec::new();
            for (name, header) in raw.get("headers").and_then(Value::as_object).into_iter().flatten() {
                let header_location = join(&format!("{response_location}/headers"), name);
                let header = self.resolve_component(header, "headers", &header_location)?;
                headers.push(self.parameter(
                    header,
                    name,
                    ParamLocation::Header,
                    &format!("{op_pascal}{}", name.to_pascal_case()),
                    &header_location,
                )?);
            }
            list.push(Response {
                status,
                description: raw.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
                content,
                headers,
                location: response_location,
            });
        }
        if responses.is_empty() {
            // dropshot needs a success response: a 204 without a body stands in.
            self.warnings.push(format!(
                "{location}/responses: every response is an error; the generated method answers 204 (no body) when \
                 it succeeds"
            ));
            responses.push(Response {
                status: Status::Code(204),
                description: String::new(),
                content: None,
                headers: Vec::new(),
                location: format!("{location}/responses"),
            });
        }
        let security = operation.get("security").or_else(|| self.document.get("security"));
        let security = security
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|requirement| requirement.as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default())
            .collect();

        Ok(Operation {
            operation_id,
            rust_name,
            pascal_name: op_pascal,
            method: method.to_uppercase(),
            path: path.to_owned(),
            conditions,
            summary: operation.get("summary").and_then(Value::as_str).map(str::to_owned),
            description: operation.get("description").and_then(Value::as_str).map(str::to_owned),
            tags: operation
                .get("tags")
                .and_then(Value::as_array)
                .map(|tags| tags.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            params,
            body,
            responses,
            errors,
            security,
            location: location.to_owned(),
        })
    }

    /// A request body of `content`: dropshot reads a form into a struct's fields; another form
    /// body (a `oneOf` of objects, say) is taken as its text.
    fn request_body(&mut self, raw: &Value, mut content: Content, location: &str) -> Option<RequestBody> {
        if content.kind == MediaKind::Form && !matches!(&content.ty, TypeRef::Named(name) if self.is_struct(name)) {
            self.warnings.push(format!(
                "{location}: a form body that is not one object is read as text (the generated code does not parse \
                 it)"
            ));
            content.kind = MediaKind::Text;
            content.ty = TypeRef::String;
        }
        Some(RequestBody {
            content,
            required: raw.get("required").and_then(Value::as_bool).unwrap_or(false),
            description: raw.get("description").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// A parameter or response header (`param` holds its `schema`, `required`, `style`, …).
    pub(super) fn parameter(
        &mut self,
        param: &Value,
        name: &str,
        param_in: ParamLocation,
        inline_name: &str,
        param_location: &str,
    ) -> Result<Param> {
        // A parameter described by `content`: its one media type's schema, the text being that
        // media type (JSON; any other is read as JSON too, with a warning).
        let content = param.get("content").and_then(Value::as_object).and_then(|c| c.iter().next());
        let default_style = if param_in == ParamLocation::Query { "form" } else { "simple" };
        let style = param.get("style").and_then(Value::as_str).unwrap_or(default_style);
        let explode = param.get("explode").and_then(Value::as_bool).unwrap_or(style == "form");
        let (schema, schema_location) = match content {
            Some((media_type, media)) => {
                if !media_type.contains("json") {
                    self.warnings.push(format!(
                        "{param_location}/content: {media_type:?} is read as JSON text, the one parameter \
                         content the generated code reads"
                    ));
                }
                let at = format!("{param_location}/content/{}", super::pointer_token(media_type));
                let schema =
                    media.get("schema").with_context(|| format!("{at}: a parameter's content needs a schema"))?;
                (schema, format!("{at}/schema"))
            }
            None => (
                param.get("schema").with_context(|| format!("{param_location}: a parameter needs a schema"))?,
                format!("{param_location}/schema"),
            ),
        };
        let ty = self.type_ref(schema, inline_name, &schema_location)?;
        let is_scalar = match &ty {
            TypeRef::Named(type_name) => {
                self.is_enum(type_name) || self.is_scalar_newtype(type_name) || self.is_scalar_choice(type_name)
            }
            TypeRef::Array(_) | TypeRef::Map(_) | TypeRef::JsonObject | TypeRef::Any => false,
            _ => true,
        };
        let is_object = match &ty {
            TypeRef::Named(type_name) => self.is_struct_or_map(type_name),
            TypeRef::Map(_) | TypeRef::JsonObject => true,
            _ => false,
        };
        let is_array = matches!(ty, TypeRef::Array(_));
        let refuse_style = |why: &str| {
            anyhow::anyhow!(
                "{param_location}/style: {style:?} {why}; the generated code reads `form` and `deepObject` in the \
                 query and `simple` in a path or header"
            )
        };
        let (separator, object) = match (content.is_some(), param_in, style, is_object, is_array) {
            (true, ..) => (',', Some(ObjectText::Json)),
            (false, _, _, false, false) if is_scalar => (',', None),
            (false, ParamLocation::Query, "form", false, true) => (',', None),
            (false, ParamLocation::Query, "spaceDelimited", false, true) => (' ', None),
            (false, ParamLocation::Query, "pipeDelimited", false, true) => ('|', None),
            (false, ParamLocation::Query, "deepObject", true, _) => (',', Some(ObjectText::Deep)),
            (false, ParamLocation::Query, "form", true, _) => {
                (',', Some(if explode { ObjectText::QueryKeys } else { ObjectText::Joined }))
            }
            (false, ParamLocation::Path | ParamLocation::Header, "simple", true, _) => {
                (',', Some(if explode { ObjectText::Exploded } else { ObjectText::Joined }))
            }
            (false, ParamLocation::Query, "form" | "deepObject", false, _) => {
                // Any JSON value, or an array of objects: its text is taken as JSON.
                self.warnings.push(format!(
                    "{schema_location}: a query parameter that is neither a scalar, an array of scalars nor an \
                     object is read as JSON text"
                ));
                (',', Some(ObjectText::Json))
            }
            (false, ParamLocation::Path | ParamLocation::Header, "simple", false, _) => {
                self.warnings.push(format!(
                    "{schema_location}: a {} parameter that is not a scalar or an object is read as JSON text",
                    param_in.as_str()
                ));
                (',', Some(ObjectText::Json))
            }
            (false, ..) if style == default_style || style == "deepObject" => {
                return Err(refuse_style("does not apply to this parameter"));
            }
            (false, ..) => return Err(refuse_style("is not read by the generated code")),
        };
        if matches!(object, Some(ObjectText::Joined | ObjectText::Exploded | ObjectText::Json)) || separator != ',' {
            self.warnings.push(format!(
                "{param_location}: the server reads this parameter's text into its type; the generated client takes \
                 the text (progenitor writes objects and arrays only as keys of the query)"
            ));
        }
        let required = param.get("required").and_then(Value::as_bool).unwrap_or(false);
        let default = self.default_value(schema, &ty, required, &schema_location)?;
        // A named type carries its own constraints.
        let param_constraints = if matches!(ty, TypeRef::Named(_)) {
            super::Constraints::default()
        } else {
            constraints(schema, &schema_location, &mut self.warnings)?
        };
        // A named type carries its own title.
        let title = if matches!(ty, TypeRef::Named(_)) {
            None
        } else {
            schema.get("title").and_then(Value::as_str).map(str::to_owned)
        };
        Ok(Param {
            name: name.to_owned(),
            rust_name: rust_field_name(name),
            location: param_in,
            ty,
            required,
            description: param.get("description").and_then(Value::as_str).map(str::to_owned),
            title,
            constraints: param_constraints,
            default,
            client_supplied: param.get("x-client-supplied").and_then(Value::as_bool).unwrap_or(false),
            explode,
            separator,
            object,
        })
    }

    /// The body a request body or response carries, if any. JSON is preferred where several
    /// media types are offered (a warning names the others, which the generated code does not
    /// serve); a JSON body without a schema (described by examples only) is any JSON value.
    fn content(&mut self, holder: &Value, inline_name: &str, location: &str) -> Result<Option<Content>> {
        let Some(content) = holder.get("content").and_then(Value::as_object).filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let ranked = content.iter().map(|(media_type, media)| (media_kind(media_type), media_type, media)).min_by_key(
            |(kind, _, _)| match kind {
                MediaKind::Json => 0,
                MediaKind::Form => 1,
                MediaKind::Text => 2,
                MediaKind::Binary => 3,
            },
        );
        let (kind, media_type, media) = ranked.expect("content is not empty");
        if content.len() > 1 {
            let others: Vec<&String> = content.keys().filter(|m| *m != media_type).collect();
            self.warnings.push(format!(
                "{location}/content: offered as {media_type:?} and {others:?}; the generated code serves {media_type:?}"
            ));
        }
        let schema_location = format!("{}/schema", join(&format!("{location}/content"), media_type));
        let ty = match (kind, media.get("schema")) {
            // A bounded inline body (an array with `maxItems`, say) is a newtype that checks it.
            (MediaKind::Json | MediaKind::Form, Some(schema)) => {
                match self.held_type_ref(schema, inline_name, &schema_location)? {
                    // A formatted string (`byte`, `uuid`…) is a `String` in Rust: a body of one
                    // is a newtype, whose schema states the format.
                    TypeRef::Format(_) => {
                        let name = self.claim_free(inline_name, &schema_location);
                        self.define(&name, &name, schema, &schema_location)?;
                        TypeRef::Named(name)
                    }
                    ty => ty,
                }
            }
            (MediaKind::Json, None) => TypeRef::Any,
            (MediaKind::Form, None) => bail!("{schema_location}: a form body needs a schema"),
            (MediaKind::Text, _) => TypeRef::String,
            (MediaKind::Binary, _) => TypeRef::Any,
        };
        Ok(Some(Content { media_type: media_type.clone(), kind, ty }))
    }
}

/// How a media type travels.
pub(super) fn media_kind(media_type: &str) -> MediaKind {
    let essence = media_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => MediaKind::Json,
        "application/x-www-form-urlencoded" => MediaKind::Form,
        other if other.starts_with("application/") && other.ends_with("+json") => MediaKind::Json,
        other if other.starts_with("text/") => MediaKind::Text,
        _ => MediaKind::Binary,
    }
}

/// 4xx and 5xx statuses are errors.
fn is_error(status: Status) -> bool {
    matches!(status, Status::Code(400..=599) | Status::Range(4 | 5))
}

fn parse_status(key: &str, location: &str) -> Result<Status> {
    if key == "default" {
        return Ok(Status::Default);
    }
    if let Some(class) = key.strip_suffix("XX").or_else(|| key.strip_suffix("xx")) {
        let class: u16 = class.parse().with_context(|| format!("{location}: bad status range {key:?}"))?;
        ensure!((1..=5).contains(&class), "{location}: bad status range {key:?}");
        return Ok(Status::Range(class));
    }
    let code: u16 = key.parse().with_context(|| format!("{location}: bad status code {key:?}"))?;
    ensure!((100..=599).contains(&code), "{location}: bad status code {key:?}");
    Ok(Status::Code(code))
}
