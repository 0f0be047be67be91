//! Reads an OpenAPI 3.0 document into the small model every generator works from.
//!
//! The generators never look at the document themselves: they see named types, operations
//! and parameters whose schemas are already resolved into [`TypeRef`]s. Everything the model
//! cannot represent faithfully is rejected here with the JSON Pointer of the offending spot,
//! so no generator ever has to guess (and never writes wrong code).
//!
//! Naming rules (documented in the README, relied on by the client generator):
//! - a component schema keeps its key, converted to PascalCase when it is not already;
//! - an inline object or enum gets its parent's name plus the PascalCase property name
//!   (`ConnectorAttributesSource`), with `Item` for array items and `Value` for map values;
//! - an inline schema of an operation gets the PascalCase operationId plus `Body` (request
//!   body), `Response` (success body) or the parameter's PascalCase name;
//! - an operation without an operationId gets `<method>_<path segments>` in snake_case
//!   (`get_api_v1_connectors_id`), and a warning.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail, ensure};
use heck::{ToPascalCase, ToSnakeCase};
use serde_json::{Map, Value};

/// The whole API, as the generators see it.
#[derive(Debug, Clone)]
pub struct Api {
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    /// Named types in a stable order: components first (spec order), then the types
    /// created for inline schemas, each right after the type that introduced it.
    pub types: Vec<TypeDef>,
    pub operations: Vec<Operation>,
    /// Non-fatal findings, such as derived operationIds.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The Rust type name (PascalCase).
    pub name: String,
    /// The name the schema has in the document, when it differs from `name`.
    pub schema_name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: TypeKind,
    /// JSON Pointer of the schema in the document.
    pub location: String,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct {
        fields: Vec<Field>,
        /// `additionalProperties: false`.
        deny_unknown_fields: bool,
        /// `additionalProperties: true` or a schema, next to declared properties.
        extra_properties: Option<TypeRef>,
    },
    /// A string enum.
    Enum { variants: Vec<EnumVariant> },
    /// `oneOf` alternatives that differ in JSON type (object, array, string, …), so that the
    /// type of a value alone tells which one it is: an untagged Rust enum, whose JSON Schema
    /// is the `oneOf`.
    OneOf { variants: Vec<OneOfVariant> },
}

#[derive(Debug, Clone)]
pub struct OneOfVariant {
    /// The Rust variant name: the alternative's `title`, its `$ref` name, or its JSON type.
    pub rust_name: String,
    /// The alternative's own `title`, kept in its schema.
    pub title: Option<String>,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub rust_name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The property name on the wire.
    pub name: String,
    /// A valid Rust identifier in snake_case.
    pub rust_name: String,
    pub ty: TypeRef,
    pub required: bool,
    pub nullable: bool,
    pub description: Option<String>,
    pub constraints: Constraints,
    /// The value an absent optional field takes.
    pub default: Option<DefaultValue>,
}

/// A `default` the generated code can spell.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    Integer(i64),
    Number(f64),
    Bool(bool),
    String(String),
    /// A variant of a generated enum.
    Variant {
        type_name: String,
        variant: String,
    },
}

/// Validation keywords that the generated types carry into their JSON Schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// A resolved schema, as far as a field, parameter or body needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Named(String),
    String,
    DateTime,
    Date,
    I32,
    I64,
    F32,
    F64,
    Bool,
    Array(Box<TypeRef>),
    /// An object whose values all have one type.
    Map(Box<TypeRef>),
    /// An object with arbitrary members (`type: object` with no properties).
    JsonObject,
    /// Any JSON value.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

impl ParamLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub rust_name: String,
    pub location: ParamLocation,
    pub ty: TypeRef,
    pub required: bool,
    pub description: Option<String>,
    pub constraints: Constraints,
    pub default: Option<DefaultValue>,
    /// `x-client-supplied: true`: the hand-written client layer fills the parameter in
    /// from its credentials, so the generated client takes it as optional.
    pub client_supplied: bool,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub operation_id: String,
    /// The trait method's name: the operationId in snake_case.
    pub rust_name: String,
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<TypeRef>,
    pub success_status: u16,
    pub success_body: Option<TypeRef>,
    /// The named type of every error response (4xx, 5xx) of the operation.
    pub error_type: Option<String>,
    pub location: String,
}

impl Operation {
    pub fn params_in(&self, location: ParamLocation) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == location)
    }
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// JSON Pointer escaping of one reference token (RFC 6901).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn join(base: &str, token: &str) -> String {
    format!("{base}/{}", pointer_token(token))
}

/// Parses the document and builds the model.
pub fn load(spec_text: &str) -> Result<Api> {
    let document: Value = serde_yaml::from_str(spec_text).context("spec is not valid YAML")?;
    // Make sure the document is an OpenAPI document at all before reading it loosely.
    serde_json::from_value::<openapiv3::OpenAPI>(document.clone())
        .context("spec is not a valid OpenAPI 3.0 document")?;
    Builder::new(&document)?.build()
}

struct Builder<'a> {
    document: &'a Value,
    schemas: &'a Map<String, Value>,
    types: Vec<TypeDef>,
    /// Rust type name → location of the schema that claimed it.
    claimed: BTreeMap<String, String>,
    warnings: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(document: &'a Value) -> Result<Self> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let openapi = document["openapi"].as_str().unwrap_or_default();
        ensure!(openapi.starts_with("3.0."), "#/openapi: only OpenAPI 3.0.x is supported, found {openapi:?}");
        let version = document["info"]["version"].as_str().unwrap_or_default();
        ensure!(
            is_semver(version),
            "#/info/version: {version:?} must be a semantic version (MAJOR.MINOR.PATCH): dropshot emits it as one"
        );
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new));
        Ok(Builder { document, schemas, types: Vec::new(), claimed: BTreeMap::new(), warnings: Vec::new() })
    }

    fn build(mut self) -> Result<Api> {
        // Claim every component name first, so that inline names can never take one.
        for (key, schema) in self.schemas {
            let location = join("#/components/schemas", key);
            let name = rust_type_name(key, &location)?;
            self.claim(&name, &location)?;
            ensure!(
                is_named_kind(schema),
                "{location}: a component schema must be an object with properties or a string \
                 enum; use the schema inline where it is referenced instead"
            );
        }
        for (key, schema) in self.schemas {
            let location = join("#/components/schemas", key);
            let name = rust_type_name(key, &location)?;
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
                let op = self.operation(path, method, operation, &shared_params, &location)?;
                if let Some(previous) = operation_ids.insert(op.rust_name.clone(), location.clone()) {
                    bail!(
                        "{location}: operationId {:?} gives the method name {}, which {previous} also has",
                        op.operation_id,
                        op.rust_name
                    );
                }
                operations.push(op);
            }
        }

        Ok(Api {
            title: self.document["info"]["title"].as_str().unwrap_or_default().to_owned(),
            version: self.document["info"]["version"].as_str().unwrap_or_default().to_owned(),
            description: self.document["info"]["description"].as_str().map(str::to_owned),
            types: self.types,
            operations,
            warnings: self.warnings,
        })
    }

    fn claim(&mut self, name: &str, location: &str) -> Result<()> {
        if let Some(previous) = self.claimed.insert(name.to_owned(), location.to_owned()) {
            bail!("{location}: the type name {name} is already taken by {previous}; rename one of them");
        }
        Ok(())
    }

    fn resolve_ref<'v>(&self, reference: &str, location: &str) -> Result<(&'v str, &'v Value)>
    where
        'a: 'v,
    {
        let key = reference.strip_prefix("#/components/schemas/").with_context(|| {
            format!("{location}: only references to #/components/schemas/ are supported, found {reference:?}")
        })?;
        let (key, schema) = self
            .schemas
            .get_key_value(key)
            .with_context(|| format!("{location}: unresolved reference {reference:?}"))?;
        Ok((key.as_str(), schema))
    }

    /// Defines a named type for `schema`, which must be an object or a string enum.
    fn define(&mut self, name: &str, schema_name: &str, schema: &Value, location: &str) -> Result<()> {
        check_keywords(schema, location)?;
        let title = schema.get("title").and_then(Value::as_str).map(str::to_owned);
        let description = schema.get("description").and_then(Value::as_str).map(str::to_owned);
        let index = self.types.len();
        // Reserve the slot so that nested types follow their parent.
        self.types.push(TypeDef {
            name: name.to_owned(),
            schema_name: schema_name.to_owned(),
            title,
            description,
            kind: TypeKind::Enum { variants: Vec::new() },
            location: location.to_owned(),
        });
        let kind = if let Some(values) = schema.get("enum") {
            TypeKind::Enum { variants: enum_variants(values, location)? }
        } else if let Some(alternatives) = schema.get("oneOf") {
            self.one_of(name, schema, alternatives, location)?
        } else {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
            for name_required in &required {
                ensure!(
                    properties.contains_key(*name_required),
                    "{location}/required: {name_required:?} is required but not among the properties"
                );
            }
            let mut fields = Vec::new();
            let mut rust_names = BTreeMap::new();
            for (property, property_schema) in &properties {
                let property_location = join(&join(location, "properties"), property);
                let rust_name = rust_field_name(property);
                if let Some(other) = rust_names.insert(rust_name.clone(), property.clone()) {
                    bail!("{property_location}: its Rust name {rust_name} collides with property {other:?}");
                }
                let inline_name = format!("{name}{}", property.to_pascal_case());
                let ty = self.type_ref(property_schema, &inline_name, &property_location)?;
                let default = self.default_value(
                    property_schema,
                    &ty,
                    required.contains(&property.as_str()),
                    &property_location,
                )?;
                // A named type carries its own description; one beside a $ref is ignored by
                // OpenAPI 3.0 anyway.
                let is_named = matches!(ty, TypeRef::Named(_));
                fields.push(Field {
                    name: property.clone(),
                    rust_name,
                    ty,
                    required: required.contains(&property.as_str()),
                    nullable: property_schema.get("nullable").and_then(Value::as_bool).unwrap_or(false),
                    description: if is_named {
                        None
                    } else {
                        property_schema.get("description").and_then(Value::as_str).map(str::to_owned)
                    },
                    constraints: constraints(property_schema, &property_location)?,
                    default,
                });
            }
            let (deny_unknown_fields, extra_properties) = match schema.get("additionalProperties") {
                None => (false, None),
                Some(Value::Bool(false)) => (true, None),
                Some(Value::Bool(true)) => (false, Some(TypeRef::Any)),
                Some(Value::Object(value_schema)) if value_schema.is_empty() => (false, Some(TypeRef::Any)),
                Some(_) => bail!(
                    "{location}/additionalProperties: an object with properties may only allow other \
                     properties as `true`; a typed map of extra properties is not supported"
                ),
            };
            TypeKind::Struct { fields, deny_unknown_fields, extra_properties }
        };
        self.types[index].kind = kind;
        Ok(())
    }

    /// The variants of a `oneOf`. Each must have a JSON type of its own: an untagged enum
    /// then reads exactly the alternative the spec means, and refuses what none allows.
    fn one_of(&mut self, name: &str, schema: &Value, alternatives: &Value, location: &str) -> Result<TypeKind> {
        let at = join(location, "oneOf");
        for keyword in schema.as_object().into_iter().flatten().map(|(k, _)| k.as_str()) {
            ensure!(
                keyword == "oneOf" || (is_annotation(keyword) && keyword != "nullable" && keyword != "default"),
                "{location}: `{keyword}` beside `oneOf` is not supported by the generators; move it into the \
                 alternatives"
            );
        }
        let alternatives = alternatives
            .as_array()
            .filter(|a| a.len() >= 2)
            .with_context(|| format!("{at}: `oneOf` needs at least two alternatives"))?;
        let mut variants: Vec<OneOfVariant> = Vec::new();
        let mut kinds: Vec<(&'static str, usize)> = Vec::new();
        for (index, alternative) in alternatives.iter().enumerate() {
            let here = format!("{at}/{index}");
            let kind = self.json_kind(alternative, &here)?;
            if let Some((_, other)) = kinds.iter().find(|(k, _)| *k == kind || numeric_pair(k, kind)) {
                bail!(
                    "{here}: alternatives {other} and {index} are both JSON {kind} values, so a value cannot tell \
                     which one it is; the generators take `oneOf` whose alternatives differ in JSON type (a \
                     `discriminator` is not supported yet)"
                );
            }
            kinds.push((kind, index));
            let rust_name = match (alternative.get("title").and_then(Value::as_str), alternative.get("$ref")) {
                (Some(title), _) => title.to_pascal_case(),
                (None, Some(Value::String(reference))) => {
                    rust_type_name(reference.rsplit('/').next().unwrap_or_default(), &here)?
                }
                _ => kind.to_pascal_case(),
            };
            if alternative.get("$ref").is_none() {
                ensure!(
                    constraints(alternative, &here)?.is_empty(),
                    "{here}: bounds on an inline alternative are not supported; give it a component schema"
                );
            }
            let ty = self.type_ref(alternative, &format!("{name}{rust_name}"), &here)?;
            ensure!(
                !variants.iter().any(|v| v.rust_name == rust_name),
                "{here}: two alternatives are both named {rust_name}; give them distinct `title`s"
            );
            let title = alternative.get("title").and_then(Value::as_str).map(str::to_owned);
            variants.push(OneOfVariant { rust_name, title, ty });
        }
        Ok(TypeKind::OneOf { variants })
    }

    /// The JSON type of the values `schema` allows, for telling `oneOf` alternatives apart.
    fn json_kind(&self, schema: &Value, location: &str) -> Result<&'static str> {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve_ref(reference, location)?.1,
            None => schema,
        };
        Ok(match schema.get("type").and_then(Value::as_str) {
            Some("object") => "object",
            Some("array") => "array",
            Some("string") => "string",
            Some("integer") => "integer",
            Some("number") => "number",
            Some("boolean") => "boolean",
            Some(other) => bail!("{location}: schema type {other:?} is not supported"),
            None if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() => "object",
            None if schema.get("items").is_some() => "array",
            None if schema.get("enum").is_some() => "string",
            None => bail!(
                "{location}: a `oneOf` alternative needs a `type`, so that values can be told apart by their JSON type"
            ),
        })
    }

    /// Resolves a schema used in a field, parameter or body; an inline object or enum
    /// becomes a new named type called `inline_name`.
    fn type_ref(&mut self, schema: &Value, inline_name: &str, location: &str) -> Result<TypeRef> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let (key, _) = self.resolve_ref(reference, location)?;
            return rust_type_name(key, location).map(TypeRef::Named);
        }
        check_keywords(schema, location)?;
        if is_named_kind(schema) {
            self.claim(inline_name, location)?;
            self.define(inline_name, inline_name, schema, location)?;
            return Ok(TypeRef::Named(inline_name.to_owned()));
        }
        let type_name = schema.get("type").and_then(Value::as_str);
        let format = schema.get("format").and_then(Value::as_str);
        if type_name.is_none() && schema.as_object().is_some_and(|o| o.keys().all(|k| is_annotation(k))) {
            return Ok(TypeRef::Any);
        }
        Ok(match type_name {
            Some("string") => match format {
                Some("date-time") => TypeRef::DateTime,
                Some("date") => TypeRef::Date,
                Some("binary") => bail!("{location}: binary strings are not supported"),
                _ => TypeRef::String,
            },
            Some("integer") => match format {
                Some("int32") => TypeRef::I32,
                None | Some("int64") => TypeRef::I64,
                Some(other) => bail!("{location}: integer format {other:?} is not supported"),
            },
            Some("number") => match format {
                Some("float") => TypeRef::F32,
                None | Some("double") => TypeRef::F64,
                Some(other) => bail!("{location}: number format {other:?} is not supported"),
            },
            Some("boolean") => TypeRef::Bool,
            Some("array") => {
                let items =
                    schema.get("items").with_context(|| format!("{location}: an array schema needs `items`"))?;
                let item = self.type_ref(items, &format!("{inline_name}Item"), &join(location, "items"))?;
                TypeRef::Array(Box::new(item))
            }
            Some("object") | None => match schema.get("additionalProperties") {
                None | Some(Value::Bool(true)) => TypeRef::JsonObject,
                Some(Value::Object(value_schema)) if value_schema.is_empty() => TypeRef::JsonObject,
                Some(Value::Bool(false)) => {
                    bail!("{location}: an object without properties that allows none is not supported")
                }
                Some(value_schema) => {
                    let value = self.type_ref(
                        value_schema,
                        &format!("{inline_name}Value"),
                        &join(location, "additionalProperties"),
                    )?;
                    TypeRef::Map(Box::new(value))
                }
            },
            Some(other) => bail!("{location}: schema type {other:?} is not supported"),
        })
    }

    fn operation(
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

    /// The `default` of a schema, checked against its type. A default is allowed only where
    /// it has an effect: on an optional, non-nullable scalar or enum.
    fn default_value(
        &self,
        schema: &Value,
        ty: &TypeRef,
        required: bool,
        location: &str,
    ) -> Result<Option<DefaultValue>> {
        let resolved;
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                resolved = self.resolve_ref(reference, location)?.1;
                resolved
            }
            None => schema,
        };
        let Some(value) = schema.get("default") else { return Ok(None) };
        ensure!(!required, "{location}/default: a required value never takes its default; drop one of them");
        ensure!(
            schema.get("nullable").and_then(Value::as_bool) != Some(true),
            "{location}/default: defaults on nullable values are not supported"
        );
        let mismatch = || anyhow::anyhow!("{location}/default: {value} does not fit the schema's type");
        Ok(Some(match ty {
            TypeRef::I32 | TypeRef::I64 => DefaultValue::Integer(value.as_i64().ok_or_else(mismatch)?),
            TypeRef::F32 | TypeRef::F64 => DefaultValue::Number(value.as_f64().ok_or_else(mismatch)?),
            TypeRef::Bool => DefaultValue::Bool(value.as_bool().ok_or_else(mismatch)?),
            TypeRef::String => DefaultValue::String(value.as_str().ok_or_else(mismatch)?.to_owned()),
            TypeRef::Named(type_name) => {
                let text = value.as_str().ok_or_else(mismatch)?;
                let variants = match schema.get("enum") {
                    Some(values) => enum_variants(values, location)?,
                    None => Vec::new(),
                };
                let variant = variants.into_iter().find(|v| v.value == text).ok_or_else(mismatch)?;
                DefaultValue::Variant { type_name: type_name.clone(), variant: variant.rust_name.clone() }
            }
            _ => bail!("{location}/default: defaults are supported on scalars and enums only"),
        }))
    }

    fn is_enum(&self, type_name: &str) -> bool {
        self.types.iter().any(|t| t.name == type_name && matches!(t.kind, TypeKind::Enum { .. }))
    }

    fn resolve_parameter(&self, raw: &Value, location: &str) -> Result<(Value, String)> {
        let value = self.resolve_component(raw, "parameters", location)?;
        let place = match raw.get("$ref").and_then(Value::as_str) {
            Some(reference) => format!("#{}", reference.trim_start_matches('#')),
            None => location.to_owned(),
        };
        Ok((value.clone(), place))
    }

    /// Follows a `$ref` into `#/components/<section>/`.
    fn resolve_component<'v>(&self, value: &'v Value, section: &str, location: &str) -> Result<&'v Value>
    where
        'a: 'v,
    {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok(value);
        };
        let prefix = format!("#/components/{section}/");
        let key = reference
            .strip_prefix(&prefix)
            .with_context(|| format!("{location}: expected a reference into {prefix}, found {reference:?}"))?;
        self.document
            .pointer(&format!("/components/{section}/{}", pointer_token(key)))
            .with_context(|| format!("{location}: unresolved reference {reference:?}"))
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

/// Keywords that describe a value without constraining its shape.
fn is_annotation(keyword: &str) -> bool {
    matches!(keyword, "description" | "title" | "example" | "deprecated" | "nullable" | "default")
        || keyword.starts_with("x-")
}

/// Keywords the generators do not carry into code. Silently dropping them would make the
/// generated types accept what the spec forbids, so they are refused.
fn check_keywords(schema: &Value, location: &str) -> Result<()> {
    let Some(object) = schema.as_object() else {
        bail!("{location}: a schema must be an object");
    };
    for keyword in [
        "allOf",
        "anyOf",
        "not",
        "discriminator",
        "pattern",
        "multipleOf",
        "uniqueItems",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minProperties",
        "maxProperties",
        "readOnly",
        "writeOnly",
    ] {
        ensure!(!object.contains_key(keyword), "{location}: `{keyword}` is not supported by the generators");
    }
    if let Some(values) = object.get("enum") {
        ensure!(
            object.get("type").and_then(Value::as_str) == Some("string"),
            "{location}: only string enums are supported"
        );
        ensure!(values.as_array().is_some_and(|v| !v.is_empty()), "{location}/enum: must be a non-empty array");
    }
    Ok(())
}

fn constraints(schema: &Value, location: &str) -> Result<Constraints> {
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    let count = |key: &str| -> Result<Option<u64>> {
        schema
            .get(key)
            .map(|v| v.as_u64().with_context(|| format!("{location}/{key}: must be a non-negative integer")))
            .transpose()
    };
    let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
    let (min_length, max_length) =
        if is_array { (count("minItems")?, count("maxItems")?) } else { (count("minLength")?, count("maxLength")?) };
    Ok(Constraints { minimum: number("minimum"), maximum: number("maximum"), min_length, max_length })
}

/// Objects with properties, string enums and `oneOf`s become named Rust types.
pub fn is_named_kind(schema: &Value) -> bool {
    schema.get("enum").is_some() || schema.get("properties").is_some() || schema.get("oneOf").is_some()
}

/// Integers are numbers too: a `oneOf` of both cannot tell them apart.
fn numeric_pair(a: &str, b: &str) -> bool {
    matches!((a, b), ("integer", "number") | ("number", "integer"))
}

fn enum_variants(values: &Value, location: &str) -> Result<Vec<EnumVariant>> {
    let mut variants: Vec<EnumVariant> = Vec::new();
    for (index, value) in values.as_array().into_iter().flatten().enumerate() {
        ensure!(
            !value.is_null(),
            "{location}/enum/{index}: `null` in a string enum admits no string; quote it (\"null\") if the \
             word is meant, or use `nullable: true`"
        );
        let value = value.as_str().with_context(|| format!("{location}/enum/{index}: enum values must be strings"))?;
        let mut rust_name = value.to_pascal_case();
        if rust_name.is_empty() || rust_name.starts_with(|c: char| c.is_ascii_digit()) {
            rust_name = format!("V{rust_name}");
        }
        if let Some(other) = variants.iter().find(|v| v.rust_name == rust_name) {
            bail!("{location}/enum/{index}: {value:?} and {:?} both become the variant {rust_name}", other.value);
        }
        variants.push(EnumVariant { rust_name, value: value.to_owned() });
    }
    Ok(variants)
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

fn rust_type_name(key: &str, location: &str) -> Result<String> {
    let name = key.to_pascal_case();
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

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small spec around one schema and one operation, for error-path tests.
    fn spec_with(schema: &str, operation: &str) -> String {
        format!(
            r##"
openapi: 3.0.3
info: {{title: T, version: 1.0.0}}
paths:
  /things/{{id}}:
    get:
{operation}
components:
  schemas:
    Thing:
{schema}
    Problem: {{type: object, properties: {{message: {{type: string}}}}}}
"##
        )
    }

    const GOOD_OPERATION: &str = r##"      operationId: show_thing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}"##;

    const GOOD_SCHEMA: &str = "      {type: object, properties: {name: {type: string}}}";

    fn error_of(spec: &str) -> String {
        format!("{:#}", load(spec).expect_err("the spec must be refused"))
    }

    #[test]
    fn a_good_spec_loads() {
        let api = load(&spec_with(GOOD_SCHEMA, GOOD_OPERATION)).unwrap();
        assert_eq!(api.operations[0].operation_id, "show_thing");
        assert_eq!(api.operations[0].error_type.as_deref(), Some("Problem"));
        assert!(api.warnings.is_empty());
    }

    #[test]
    fn unsupported_keywords_are_refused_with_their_location() {
        let error = error_of(&spec_with("      {allOf: [{type: object}]}", GOOD_OPERATION));
        assert!(error.contains("#/components/schemas/Thing"), "{error}");
        let error = error_of(&spec_with(
            "      {type: object, properties: {code: {type: string, pattern: '^[a-z]+$'}}}",
            GOOD_OPERATION,
        ));
        assert!(error.starts_with("#/components/schemas/Thing/properties/code: `pattern`"), "{error}");
        let error = error_of(&spec_with(
            "      {type: object, properties: {a: {type: string}}, additionalProperties: {type: integer}}",
            GOOD_OPERATION,
        ));
        assert!(error.starts_with("#/components/schemas/Thing/additionalProperties"), "{error}");
    }

    #[test]
    fn one_of_takes_alternatives_of_distinct_json_types_only() {
        let good = spec_with(
            "      {oneOf: [{title: Pairs, type: object, additionalProperties: {type: string}}, {type: array, items: {type: string}}]}",
            GOOD_OPERATION,
        );
        let api = load(&good).unwrap();
        let thing = api.types.iter().find(|t| matches!(t.kind, TypeKind::OneOf { .. })).unwrap();
        let TypeKind::OneOf { variants } = &thing.kind else { unreachable!() };
        assert_eq!(variants.iter().map(|v| v.rust_name.as_str()).collect::<Vec<_>>(), ["Pairs", "Array"]);
        let same = error_of(&spec_with(
            "      {oneOf: [{type: object}, {type: object, properties: {a: {type: string}}}]}",
            GOOD_OPERATION,
        ));
        assert!(same.contains("/oneOf/1: alternatives 0 and 1 are both JSON object values"), "{same}");
        let numbers = error_of(&spec_with("      {oneOf: [{type: integer}, {type: number}]}", GOOD_OPERATION));
        assert!(numbers.contains("both JSON number values"), "{numbers}");
        let beside =
            error_of(&spec_with("      {type: object, oneOf: [{type: string}, {type: integer}]}", GOOD_OPERATION));
        assert!(beside.contains("`type` beside `oneOf`"), "{beside}");
    }

    #[test]
    fn unresolved_references_are_refused() {
        let operation = GOOD_OPERATION.replace("#/components/schemas/Thing", "#/components/schemas/Missing");
        let error = error_of(&spec_with(GOOD_SCHEMA, &operation));
        assert!(error.contains("/responses/200/content/application~1json/schema: unresolved reference"), "{error}");
    }

    #[test]
    fn a_missing_operation_id_is_derived_with_a_warning() {
        let operation = GOOD_OPERATION.replace("operationId: show_thing", "summary: Show");
        let api = load(&spec_with(GOOD_SCHEMA, &operation)).unwrap();
        assert_eq!(api.operations[0].operation_id, "get_things_id");
        assert_eq!(api.warnings, ["#/paths/~1things~1{id}/get: no operationId; using \"get_things_id\""]);
    }

    #[test]
    fn operation_shapes_the_generators_cannot_serve_are_refused() {
        let no_path_param = GOOD_OPERATION
            .replace("parameters: [{name: id, in: path, required: true, schema: {type: string}}]", "parameters: []");
        assert!(
            error_of(&spec_with(GOOD_SCHEMA, &no_path_param)).contains("the path variable {id} has no path parameter")
        );

        let two_error_bodies = GOOD_OPERATION.replace(
            r##""404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}"##,
            r##""404": {description: no, content: {application/json: {schema: {$ref: "#/components/schemas/Problem"}}}}
        "400": {description: bad, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}"##,
        );
        assert!(error_of(&spec_with(GOOD_SCHEMA, &two_error_bodies)).contains("must have one body type"));

        let dashed = GOOD_OPERATION.replace("show_thing", "show-thing");
        assert!(error_of(&spec_with(GOOD_SCHEMA, &dashed)).contains("must be made of ASCII letters"));

        let no_success = GOOD_OPERATION.replace("\"200\"", "\"409\"").replace("schemas/Thing", "schemas/Problem");
        assert!(error_of(&spec_with(GOOD_SCHEMA, &no_success)).contains("needs a 2xx response"));
    }

    #[test]
    fn inline_names_cannot_take_a_component_name() {
        let schema = "      {type: object, properties: {name: {type: object, properties: {x: {type: string}}}}}\n    ThingName: {type: object, properties: {y: {type: string}}}";
        let error = error_of(&spec_with(schema, GOOD_OPERATION));
        assert!(
            error.contains("the type name ThingName is already taken by #/components/schemas/ThingName"),
            "{error}"
        );
    }

    /// The published AI Squared document: every schema construct it uses is understood. Its
    /// error responses have inline bodies, which the server trait cannot name, and that is
    /// refused with the location rather than generated wrongly.
    #[test]
    fn the_published_document_is_understood() {
        let path = crate::codegen::workspace_root().join("../shared/reference/published-openapi.yml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("did not run: {} is not on this machine", path.display());
            return;
        };
        // The document has two defects the generators refuse, each with its location:
        // request bodies left optional (a dropshot body cannot be), and a string enum whose
        // one value is an unquoted `null`. Mend both, as its authors would, and go on.
        let error = format!("{:#}", load(&text).unwrap_err());
        assert!(error.contains("/requestBody: optional request bodies are not supported"), "{error}");
        let mut document: Value = serde_yaml::from_str(&text).unwrap();
        for item in document["paths"].as_object_mut().unwrap().values_mut() {
            for operation in item.as_object_mut().unwrap().values_mut() {
                if let Some(body) = operation.get_mut("requestBody") {
                    body["required"] = Value::Bool(true);
                }
            }
        }
        let text = serde_yaml::to_string(&document).unwrap();
        let error = format!("{:#}", load(&text).unwrap_err());
        assert!(error.contains("`null` in a string enum admits no string"), "{error}");
        let text = text.replace("- null\n", "- 'null'\n");
        let api = load(&text).unwrap();
        assert!(api.operations.len() >= 25, "{}", api.operations.len());
        assert!(api.warnings.iter().any(|w| w.contains("no operationId")));
        crate::codegen::types::generate(&api);
        let spec: Value = serde_yaml::from_str(&text).unwrap();
        // Its error bodies are inline and differ between operations; a server trait needs one.
        let error = format!("{:#}", crate::codegen::server_trait::generate(&api, &spec).unwrap_err());
        assert!(error.starts_with("#/paths/") && error.contains("the server trait has one error type"), "{error}");
        // A client has no such limit.
        let client = crate::codegen::client::generate(&api, &spec).unwrap();
        syn::parse2::<syn::File>(client).unwrap();
    }
}
