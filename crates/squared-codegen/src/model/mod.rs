//! Reads an OpenAPI 3.0 document (or a 3.1 one, through [`openapi31`]) into the one model
//! every generator, and the round-trip normaliser, works from.
//!
//! The generators never look at the document themselves: they see named types, operations,
//! parameters, bodies and responses whose schemas are already resolved into [`TypeRef`]s.
//! Everything the model cannot represent faithfully is refused here with the JSON Pointer of
//! the offending spot, so no generator ever has to guess; what the spec gets wrong but can
//! still be read is taken, with a warning in [`Api::warnings`]. `$ref` resolution, path-item
//! parameter merging and the naming of inline types live here and nowhere else.
//!
//! The concerns, a module each: `build` (reading the document, components, `$ref`s),
//! `schemas` (a schema into a type), `all_of` (merging `allOf`, distributing properties into
//! `oneOf`), `operations` (parameters, bodies, responses), `naming` (Rust names, JSON
//! Pointers) and `openapi31` (3.1 into 3.0).
//!
//! Naming rules (documented in the README, relied on by the client generator):
//! - a component schema keeps its key, converted to PascalCase (a key whose PascalCase an
//!   earlier key has gets a number, with a warning);
//! - an inline object, enum or constrained schema gets its parent's name plus the PascalCase
//!   property name (`ConnectorAttributesSource`), with `Item` for array items and `Value` for
//!   map values, and a number when a component has that name;
//! - an inline schema of an operation gets the operation's PascalCase name plus `Body`
//!   (request body), `Response`/`Error` (with the status after the first) or the parameter's
//!   PascalCase name;
//! - a `$ref` deeper than a component (`#/components/schemas/Tag/allOf/0`) gets a type named
//!   after its pointer (`TagAllOf0`);
//! - an operation without an operationId gets `<method>_<path segments>` in snake_case
//!   (`get_api_v1_connectors_id`), and a warning; an operationId in any other style keeps its
//!   wire name, and its words give the Rust names.

mod all_of;
mod build;
mod keywords;
mod loose;
mod naming;
pub mod openapi31;
mod operations;
mod schemas;
#[cfg(test)]
mod tests;

pub use all_of::{
    annotated_reference, distribute as distribute_alternatives, merge as merge_all_of, reference_annotations,
    single_reference,
};
pub use build::{load, parse_document};
pub use keywords::{enum_kind, is_annotation};
pub use naming::{
    derived_operation_id, first_free, follow_component_ref, is_semver, path_variables, pointer_token, rust_field_name,
};
pub use schemas::{default_applies, is_ecma_pattern, is_named_kind, keyword_applies, pattern_engine};

/// The path a request to the spec path `path` has: without its `#fragment` (a fragment is never
/// sent; see [`Operation::conditions`]).
pub fn request_path(path: &str) -> &str {
    path.split_once('#').map_or(path, |(path, _)| path)
}

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
    /// The OpenAPI 3.0 document the model was read from (a 3.1 spec, converted).
    pub document: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The Rust type name (PascalCase).
    pub name: String,
    /// The name the schema has in the document, when it differs from `name`.
    pub schema_name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A `default` of a `oneOf`/`anyOf`: stated in its schema (its holder is an `Option`).
    pub default: Option<serde_json::Value>,
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
        /// `minProperties` and `maxProperties`.
        property_count: (Option<u64>, Option<u64>),
    },
    /// A string enum.
    Enum { variants: Vec<EnumVariant> },
    /// A newtype around a schema that is not an object, enum or `oneOf` (an array, a map, a
    /// scalar, or another named type).
    Alias { ty: TypeRef, constraints: Constraints, nullable: bool },
    /// `oneOf` alternatives that differ in JSON type (object, array, string, …), so that the
    /// type of a value alone tells which one it is: an untagged Rust enum, whose JSON Schema
    /// is the `oneOf`.
    OneOf {
        variants: Vec<OneOfVariant>,
        /// How a value picks its alternative.
        choice: Choice,
        /// `anyOf` rather than `oneOf`.
        any_of: bool,
        discriminator: Option<Discriminator>,
    },
    /// `not`: any JSON value that the excluded schema does not take.
    Not { excluded: TypeRef },
}

/// How a value of a `oneOf` or `anyOf` picks its alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The alternatives differ in JSON type: the value's type names one.
    JsonType,
    /// The discriminator property's value names one.
    Discriminator,
    /// `oneOf` of alternatives of one JSON type: exactly one may take the value.
    ExactlyOne,
    /// `anyOf` of alternatives of one JSON type: the first that takes the value.
    FirstMatch,
}

/// A `discriminator`: the property that names the alternative, and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Discriminator {
    pub property: String,
    /// The spec's `mapping`, as written (value, `$ref` or schema name).
    pub mapping: Vec<(String, String)>,
    /// (value, index of the alternative it names), mapped values first.
    pub values: Vec<(String, usize)>,
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
    pub title: Option<String>,
    pub description: Option<String>,
    /// The description of the items of an array field whose items have no type of their own
    /// (a `Vec<String>` cannot carry one).
    pub items_description: Option<String>,
    /// Likewise, the title of those items.
    pub items_title: Option<String>,
    pub constraints: Constraints,
    /// The value an absent optional field takes.
    pub default: Option<DefaultValue>,
    /// `readOnly`: in responses only (never read from a request, never required there).
    pub read_only: bool,
    /// `writeOnly`: in requests only (never written into a response).
    pub write_only: bool,
    /// The field's type contains the struct itself (directly or through other types, not
    /// through an array or map): the field is boxed, so that the struct has a size.
    pub boxed: bool,
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
    /// A generated newtype around a scalar, holding `value`.
    Newtype {
        type_name: String,
        value: Box<DefaultValue>,
    },
}

/// Validation keywords that the generated types carry into their JSON Schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// `exclusiveMinimum: true`: `minimum` itself is not allowed.
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub multiple_of: Option<f64>,
    /// `minLength` of a string or `minItems` of an array.
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<Pattern>,
    pub unique_items: bool,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    /// The `enum` of an integer or number: the only values allowed.
    pub allowed: Vec<f64>,
    /// The one value a boolean's `enum` allows.
    pub allowed_bool: Option<bool>,
}

/// A `pattern`, and the engine the generated code checks it with.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub text: String,
    pub engine: PatternEngine,
}

/// Which regular-expression engine checks a pattern. JSON Schema's patterns are ECMA-262;
/// Rust's `regex` takes most of them (and is faster), `regress` (an ECMA-262 engine) the rest:
/// look-around, backreferences, and class ranges `regex` reads differently (`[\w- ]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternEngine {
    Regex,
    Regress,
}

impl Constraints {
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// Whether schemars' attributes cannot state them all (the generated code then builds
    /// the field's schema in a function).
    pub fn needs_schema_fn(&self) -> bool {
        self.exclusive_minimum
            || self.exclusive_maximum
            || self.multiple_of.is_some()
            || self.pattern.is_some()
            || self.unique_items
            || self.min_properties.is_some()
            || self.max_properties.is_some()
            || !self.allowed.is_empty()
            || self.allowed_bool.is_some()
    }
}

/// A resolved schema, as far as a field, parameter or body needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Named(String),
    String,
    DateTime,
    Date,
    /// A string in a format the generated code checks when it reads one.
    Format(StringFormat),
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
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

/// String formats that are more than a hint: a value is checked against its format when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StringFormat {
    Uuid,
    Uri,
    Email,
    Ipv4,
    Ipv6,
    /// Base64 text.
    Byte,
    /// Any octets (a file in a form, for instance): not checked.
    Binary,
}

impl StringFormat {
    pub const ALL: [StringFormat; 7] = [
        StringFormat::Uuid,
        StringFormat::Uri,
        StringFormat::Email,
        StringFormat::Ipv4,
        StringFormat::Ipv6,
        StringFormat::Byte,
        StringFormat::Binary,
    ];

    /// The `format` keyword's value.
    pub fn keyword(self) -> &'static str {
        match self {
            StringFormat::Uuid => "uuid",
            StringFormat::Uri => "uri",
            StringFormat::Email => "email",
            StringFormat::Ipv4 => "ipv4",
            StringFormat::Ipv6 => "ipv6",
            StringFormat::Byte => "byte",
            StringFormat::Binary => "binary",
        }
    }

    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.keyword() == keyword)
    }
}

impl TypeRef {
    /// Whether the type is a Rust integer.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            TypeRef::I8
                | TypeRef::I16
                | TypeRef::I32
                | TypeRef::I64
                | TypeRef::U8
                | TypeRef::U16
                | TypeRef::U32
                | TypeRef::U64
        )
    }

    /// Whether the type is a Rust number (integer or float).
    pub fn is_number(&self) -> bool {
        self.is_integer() || matches!(self, TypeRef::F32 | TypeRef::F64)
    }
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
    /// The title of the parameter's schema.
    pub title: Option<String>,
    pub constraints: Constraints,
    pub default: Option<DefaultValue>,
    /// `x-client-supplied: true`: the hand-written client layer fills the parameter in
    /// from its credentials, so the generated client takes it as optional.
    pub client_supplied: bool,
    /// For an array in the query: one key per item (`explode: true`, the default) or one
    /// value joined by `separator`.
    pub explode: bool,
    /// What joins the items of an array in one query value: `,` (`form`), ` `
    /// (`spaceDelimited`) or `|` (`pipeDelimited`).
    pub separator: char,
    /// How the parameter's text holds an object or a JSON value, when it does.
    pub object: Option<ObjectText>,
}

impl Param {
    /// The parameter as a field of the struct that holds its location's parameters (a
    /// path, query or header struct, or a response's headers): never null, in both directions.
    pub fn as_field(&self) -> Field {
        Field {
            name: self.name.clone(),
            rust_name: self.rust_name.clone(),
            ty: self.ty.clone(),
            required: self.required,
            nullable: false,
            title: self.title.clone(),
            description: self.description.clone(),
            items_description: None,
            items_title: None,
            constraints: self.constraints.clone(),
            default: self.default.clone(),
            read_only: false,
            write_only: false,
            boxed: false,
        }
    }
}

/// How a parameter's text holds an object (or, with `content`, any JSON value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectText {
    /// `filter[name]=x&filter[age]=3` (`style: deepObject`).
    Deep,
    /// The object's properties as keys of the query (`style: form`, `explode: true`).
    QueryKeys,
    /// `name,x,age,3` (`form` or `simple`, `explode: false`).
    Joined,
    /// `name=x,age=3` (`simple`, `explode: true`).
    Exploded,
    /// JSON text (a parameter described by `content` with a JSON media type).
    Json,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub operation_id: String,
    /// The trait method's name: the operationId in snake_case.
    pub rust_name: String,
    /// The operationId in PascalCase: the prefix of the types the operation introduces.
    pub pascal_name: String,
    pub method: String,
    /// The spec's path key, as written (with its `#fragment`, if any).
    pub path: String,
    /// What a request must carry besides its path to be this operation's: the conditions
    /// of the path's `#fragment` (AWS specs tell apart operations at one path by their query or
    /// a header: `/{Bucket}#tagging`, `/#Action=AssumeRole`, `/#X-Amz-Target=…`).
    pub conditions: Vec<Condition>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<RequestBody>,
    /// The responses that are not errors (1xx to 3xx, and `default` when there is no other),
    /// lowest status first.
    pub responses: Vec<Response>,
    /// The error responses (4xx, 5xx, and `default` beside other responses).
    pub errors: Vec<Response>,
    /// The security requirements of the operation (its own, or the document's): each entry
    /// is one way to be authorised, naming the schemes it needs together.
    pub security: Vec<Vec<String>>,
    pub location: String,
}

/// A condition a request meets to be an operation's: a query parameter or header present
/// (`#tagging`), or holding a value (`#Action=AssumeRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Where the name is looked for: a header when the operation declares a header of that
    /// name, else the query.
    pub location: ParamLocation,
    pub name: String,
    pub value: Option<String>,
}

impl Operation {
    /// The path a request has: the spec's path without its `#fragment`.
    pub fn request_path(&self) -> &str {
        request_path(&self.path)
    }

    pub fn params_in(&self, location: ParamLocation) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == location)
    }

    /// The type of the request body.
    pub fn body_type(&self) -> Option<&TypeRef> {
        self.body.as_ref().map(|b| &b.content.ty)
    }

    /// The named type every error body of the operation has, when they all have one.
    pub fn error_type(&self) -> Option<String> {
        let mut bodies = self.errors.iter().filter_map(|e| e.content.as_ref());
        let first = bodies.next()?;
        match &first.ty {
            TypeRef::Named(name) if bodies.all(|b| b.ty == first.ty) => Some(name.clone()),
            _ => None,
        }
    }

    /// The types of the error bodies that differ (see [`distinct_bodies`]), in status order.
    pub fn error_body_types(&self) -> Vec<&TypeRef> {
        distinct_bodies(&self.errors).into_iter().filter_map(|r| r.content.as_ref().map(|c| &c.ty)).collect()
    }
}

/// How a body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `application/json` and `application/*+json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `text/*`: the body is the text.
    Text,
    /// Anything else (`application/octet-stream`, images, …): the body is the bytes.
    Binary,
}

/// A body: its media type and its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The media type as the spec names it.
    pub media_type: String,
    pub kind: MediaKind,
    /// For JSON and form bodies the schema's type; for text `String`; for bytes `Any`.
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct RequestBody {
    pub content: Content,
    pub required: bool,
    pub description: Option<String>,
}

/// The responses of `responses` whose bodies differ (by type and media kind), in order: the
/// bodies one description has to cover (the trait's and the round trip's alike).
pub fn distinct_bodies(responses: &[Response]) -> Vec<&Response> {
    let mut seen: Vec<(&TypeRef, MediaKind)> = Vec::new();
    let mut distinct = Vec::new();
    for response in responses {
        let Some(content) = &response.content else { continue };
        if !seen.contains(&(&content.ty, content.kind)) {
            seen.push((&content.ty, content.kind));
            distinct.push(response);
        }
    }
    distinct
}

/// A response's status, as the spec keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Code(u16),
    /// `4XX` is `Range(4)`.
    Range(u16),
    Default,
}

impl Status {
    /// The status as the spec writes it.
    pub fn key(self) -> String {
        match self {
            Status::Code(code) => code.to_string(),
            Status::Range(class) => format!("{class}XX"),
            Status::Default => "default".into(),
        }
    }

    /// The status a response of this kind is sent with when the spec names no exact one.
    pub fn representative(self, fallback: u16) -> u16 {
        match self {
            Status::Code(code) => code,
            Status::Range(class) => class * 100,
            Status::Default => fallback,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: Status,
    pub description: String,
    pub content: Option<Content>,
    /// Response headers (as parameters located in the header).
    pub headers: Vec<Param>,
    pub location: String,
}
