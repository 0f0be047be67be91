//! Generates the shared request and response types (`squared-types`).
//!
//! One Rust type per named type of the model, with serde and schemars 0.8 derives chosen so
//! that the JSON Schema schemars derives for a type is the schema the spec gave it (the
//! round-trip test holds us to that): descriptions and titles go through `#[schemars(...)]`
//! verbatim, optional fields are `Option<T>` that schemars sees as plain `T`, and
//! `additionalProperties: false` becomes `deny_unknown_fields`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::model::{
    Api, Choice, Constraints, DefaultValue, Field, PatternEngine, StringFormat, TypeDef, TypeKind, TypeRef,
};

/// How generated code names a model type: the types module itself uses bare names, the
/// other generated files go through the module's path (`::squared_types`, `crate::types`).
#[derive(Clone, Copy)]
pub enum TypePath<'a> {
    Local,
    Module(&'a str),
}

impl TypePath<'_> {
    /// The path of `name` (a type of the types module) as generated code spells it.
    pub fn of(self, name: &str) -> TokenStream {
        match self {
            TypePath::Local => name.parse().expect("a type name is a path"),
            TypePath::Module(module) => {
                format!("{module}::{name}").parse().expect("a module path and a type name form a path")
            }
        }
    }
}

/// The Rust type of a resolved schema.
pub fn rust_type(ty: &TypeRef, path: TypePath) -> TokenStream {
    match ty {
        TypeRef::Named(name) => path.of(name),
        TypeRef::String => quote!(::std::string::String),
        TypeRef::DateTime => quote!(::chrono::DateTime<::chrono::Utc>),
        TypeRef::Date => quote!(::chrono::NaiveDate),
        TypeRef::Format(_) => quote!(::std::string::String),
        TypeRef::I8 => quote!(i8),
        TypeRef::I16 => quote!(i16),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::U8 => quote!(u8),
        TypeRef::U16 => quote!(u16),
        TypeRef::U32 => quote!(u32),
        TypeRef::U64 => quote!(u64),
        TypeRef::F32 => quote!(f32),
        TypeRef::F64 => quote!(f64),
        TypeRef::Bool => quote!(bool),
        TypeRef::Array(item) => {
            let item = rust_type(item, path);
            quote!(::std::vec::Vec<#item>)
        }
        TypeRef::Map(value) => {
            let value = rust_type(value, path);
            quote!(::std::collections::BTreeMap<::std::string::String, #value>)
        }
        TypeRef::JsonObject => quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        TypeRef::Any => quote!(::serde_json::Value),
    }
}

/// Whether a type's JSON Schema says more than its Rust type (a string `format`).
pub fn has_format(ty: &TypeRef) -> bool {
    match ty {
        TypeRef::Format(_) => true,
        TypeRef::Array(inner) | TypeRef::Map(inner) => has_format(inner),
        _ => false,
    }
}

/// The type whose JSON Schema describes `ty`: the Rust type itself, except that a formatted
/// string is described by its marker in the generated `formats` module.
pub fn schema_type(ty: &TypeRef, path: TypePath) -> TokenStream {
    match ty {
        TypeRef::Format(format) => {
            path.of(&format!("formats::{}", heck::ToPascalCase::to_pascal_case(format.keyword())))
        }
        TypeRef::Array(item) => {
            let item = schema_type(item, path);
            quote!(::std::vec::Vec<#item>)
        }
        TypeRef::Map(value) => {
            let value = schema_type(value, path);
            quote!(::std::collections::BTreeMap<::std::string::String, #value>)
        }
        other => rust_type(other, path),
    }
}

/// Rustdoc lines for a title and description.
pub fn rustdoc(title: Option<&str>, description: Option<&str>) -> TokenStream {
    let mut out = TokenStream::new();
    for text in [title, description].into_iter().flatten() {
        for line in text.lines() {
            let line = format!(" {line}");
            out.extend(quote!(#[doc = #line]));
        }
    }
    out
}

/// The exact JSON Schema title and description; they must follow the derive.
pub fn schema_doc(title: Option<&str>, description: Option<&str>) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(title) = title {
        out.extend(quote!(#[schemars(title = #title)]));
    }
    if let Some(description) = description {
        out.extend(quote!(#[schemars(description = #description)]));
    }
    out
}

/// `#[schemars(range(..))]` and `#[schemars(length(..))]` for the validation keywords.
pub fn constraint_attrs(constraints: &Constraints) -> TokenStream {
    let mut out = TokenStream::new();
    if constraints.minimum.is_some() || constraints.maximum.is_some() {
        let parts =
            [("min", constraints.minimum), ("max", constraints.maximum)].into_iter().filter_map(|(key, value)| {
                let key = format_ident!("{key}");
                value.map(|v| quote!(#key = #v))
            });
        out.extend(quote!(#[schemars(range(#(#parts),*))]));
    }
    if constraints.min_length.is_some() || constraints.max_length.is_some() {
        let parts = [("min", constraints.min_length), ("max", constraints.max_length)].into_iter().filter_map(
            |(key, value)| {
                let key = format_ident!("{key}");
                value.map(|v| quote!(#key = #v))
            },
        );
        out.extend(quote!(#[schemars(length(#(#parts),*))]));
    }
    out
}

/// One struct field of `owner`, with the attributes that make serde and schemars agree with
/// the spec, and the functions it needs (its default, the check of its bounds).
pub fn field_tokens(field: &Field, owner: &str, path: TypePath) -> (TokenStream, Vec<TokenStream>) {
    let ident = format_ident!("{}", field.rust_name);
    let inner = rust_type(&field.ty, path);
    let inner = if field.boxed { quote!(::std::boxed::Box<#inner>) } else { inner };
    let docs = rustdoc(None, field.description.as_deref());
    let schema_docs = schema_doc(field.title.as_deref(), field.description.as_deref());
    let rename = (field.rust_name != field.name).then(|| {
        let name = &field.name;
        quote!(#[serde(rename = #name)])
    });
    let schema = schema_type(&field.ty, path);
    let schema = if field.boxed { quote!(::std::boxed::Box<#schema>) } else { schema };
    let option = |t: &TokenStream| quote!(::std::option::Option<#t>);
    // The owner's name in lower case, without separators: a type name has no `_`, so the first
    // `_` after the owner's ends it, and no two (owner, field) pairs make one name
    // (`ServiceCredential.type_name` and `ServiceCredentialType.name` would in snake case).
    let owner_part = owner.to_lowercase().replace('_', "");
    let default_function = format_ident!("default_{owner_part}_{}", field.rust_name);
    let skip_none = quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]);
    // The Rust type, its serde attributes, and the type whose JSON Schema describes the field.
    let (ty, serde_attrs, described) = match (field.required && !field.read_only && !field.write_only, field.nullable) {
        (true, false) => (inner.clone(), quote!(), schema.clone()),
        // Required but may be null: schemars would call an Option optional, so describe
        // the field through `NullableSchema`, which is nullable yet required.
        (true, true) => {
            let nullable = path.of("NullableSchema");
            (option(&inner), quote!(), quote!(#nullable<#schema>))
        }
        (false, true) => (option(&inner), skip_none.clone(), option(&schema)),
        // Optional with a default: a plain T that takes the default when absent; schemars
        // shows the default.
        // (A readOnly field is never read, so its default never applies: an Option like any.)
        (false, false) if field.default.is_some() && !field.read_only => {
            let function = default_function.to_string();
            (inner.clone(), quote!(#[serde(default = #function)]), schema.clone())
        }
        // Optional but never null: absent on the wire when None, and described as plain T.
        (false, false) => (option(&inner), skip_none.clone(), schema.clone()),
    };
    // readOnly: never read from a request; writeOnly: never written into a response.
    let direction = match (field.read_only, field.write_only) {
        // Read and dropped (not skipped: a skipped key would reach the extra properties).
        (true, _) => {
            let ignore = path.of("ignore_read_only").to_string().replace(' ', "");
            quote!(#[serde(deserialize_with = #ignore)])
        }
        (_, true) => quote!(#[serde(skip_serializing)]),
        _ => quote!(),
    };
    let mut schema_fn = None;
    let needs_schema_fn = field.constraints.needs_schema_fn()
        || field.read_only
        || field.write_only
        || field.items_description.is_some()
        || field.items_title.is_some();
    let schema_attrs = if needs_schema_fn {
        let function = format!("schema_{owner_part}_{}", field.rust_name);
        let mut keywords = schema_keywords(&field.constraints, field.read_only, field.write_only);
        // schemars leaves out the default of a field it never serializes (writeOnly).
        if field.write_only && field.default.is_some() && !field.read_only {
            keywords.extend(quote!(schema.metadata().default = ::serde_json::to_value(#default_function()).ok();));
        }
        if field.items_description.is_some() || field.items_title.is_some() {
            let set = |keyword: &str, text: &Option<String>| {
                let keyword = format_ident!("{keyword}");
                text.as_ref()
                    .map(|text| quote!(items.metadata().#keyword = ::std::option::Option::Some(#text.to_owned());))
            };
            let description = set("description", &field.items_description);
            let title = set("title", &field.items_title);
            keywords.extend(quote! {
                if let ::std::option::Option::Some(array) = &mut schema.array {
                    if let ::std::option::Option::Some(::schemars::schema::SingleOrVec::Single(items)) = &mut array.items {
                        if let ::schemars::schema::Schema::Object(items) = items.as_mut() {
                            #title
                            #description
                        }
                    }
                }
            });
        }
        let (attribute, function) = schema_function(&function, &described, keywords);
        schema_fn = Some(function);
        attribute
    } else {
        let with = (described.to_string() != ty.to_string()).then(|| {
            let with = described.to_string().replace(' ', "");
            quote!(#[schemars(with = #with)])
        });
        let constraints = constraint_attrs(&field.constraints);
        quote!(#with #constraints)
    };
    let extra = quote!(#serde_attrs #direction);
    let constraints = schema_attrs;
    let default_fn = field.default.as_ref().filter(|_| !field.read_only).map(|default| {
        let function = &default_function;
        let value = default_expr(default, &ty, path);
        let doc = format!(" The default of `{owner}::{}`.", field.rust_name);
        quote! {
            #[doc = #doc]
            fn #function() -> #ty {
                #value
            }
        }
    });
    // serde does not check the spec's bounds; a deserializer per bounded field does, so a
    // value outside them is refused where it is read (a 400 on the server).
    // An optional field that is not nullable may be absent but never `null`: serde's
    // `Option` would take `null` as absent, so such a field reads its value itself.
    let never_null = !field.required && !field.nullable && field.default.is_none() && !field.read_only;
    let checks = if field.read_only { None } else { bounds_check(field, path) };
    let (check_attr, check_fn) = if checks.is_some() || never_null {
        let function = format_ident!("read_{owner_part}_{}", field.rust_name);
        let name = function.to_string();
        let raw_checks = checks.clone();
        let checks = checks.map(|checks| quote!({ let value = &value; #checks }));
        let optional = matches!(ty.to_string().as_str(), t if t.starts_with(":: std :: option :: Option"));
        let body = if never_null {
            quote! {
                let value = <#inner as ::serde::Deserialize>::deserialize(deserializer)?;
                #checks
                ::std::result::Result::Ok(::std::option::Option::Some(value))
            }
        } else if optional {
            quote! {
                let value = <#ty as ::serde::Deserialize>::deserialize(deserializer)?;
                if let ::std::option::Option::Some(value) = &value { #raw_checks }
                ::std::result::Result::Ok(value)
            }
        } else {
            quote! {
                let value = <#ty as ::serde::Deserialize>::deserialize(deserializer)?;
                #checks
                ::std::result::Result::Ok(value)
            }
        };
        let item = quote! {
            fn #function<'de, D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<#ty, D::Error> {
                #body
            }
        };
        (quote!(#[serde(deserialize_with = #name)]), Some(item))
    } else {
        (quote!(), None)
    };
    let field = quote! {
        #docs
        #schema_docs
        #rename
        #extra
        #check_attr
        #constraints
        pub #ident: #ty,
    };
    (field, default_fn.into_iter().chain(check_fn).chain(schema_fn).collect())
}

/// The Rust expression of a default value of type `ty`.
fn default_expr(default: &DefaultValue, ty: &TokenStream, path: TypePath) -> TokenStream {
    match default {
        DefaultValue::Integer(n) => quote!(#n as #ty),
        DefaultValue::Number(n) => quote!(#n as #ty),
        DefaultValue::Bool(b) => quote!(#b),
        DefaultValue::String(text) => quote!(::std::string::String::from(#text)),
        DefaultValue::Variant { type_name, variant } => {
            let enum_type = rust_type(&TypeRef::Named(type_name.clone()), path);
            let variant = format_ident!("{variant}");
            quote!(#enum_type::#variant)
        }
        // The newtype's field has the scalar's Rust type, which the cast infers.
        DefaultValue::Newtype { type_name, value } => {
            let newtype = rust_type(&TypeRef::Named(type_name.clone()), path);
            let value = default_expr(value, &quote!(_), path);
            quote!(#newtype(#value))
        }
    }
}

/// A function named `name` that describes `described` with `keywords` added, and the
/// `#[schemars(schema_with)]` attribute that names it.
fn schema_function(name: &str, described: &TokenStream, keywords: TokenStream) -> (TokenStream, TokenStream) {
    let function = format_ident!("{name}");
    let attribute = quote!(#[schemars(schema_with = #name)]);
    let function = quote! {
        fn #function(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
            let mut schema = generator.subschema_for::<#described>().into_object();
            #keywords
            ::schemars::schema::Schema::Object(schema)
        }
    };
    (attribute, function)
}

/// Statements that put the validation keywords schemars has no attribute for (and
/// `readOnly`, `writeOnly`) on `schema`, a `SchemaObject`.
fn schema_keywords(c: &Constraints, read_only: bool, write_only: bool) -> TokenStream {
    let some = |value: TokenStream| quote!(::std::option::Option::Some(#value));
    let mut out = TokenStream::new();
    let number = [
        ("minimum", c.minimum.filter(|_| !c.exclusive_minimum)),
        ("maximum", c.maximum.filter(|_| !c.exclusive_maximum)),
        ("exclusive_minimum", c.minimum.filter(|_| c.exclusive_minimum)),
        ("exclusive_maximum", c.maximum.filter(|_| c.exclusive_maximum)),
        ("multiple_of", c.multiple_of),
    ];
    for (key, value) in number {
        if let Some(value) = value {
            let key = format_ident!("{key}");
            let value = some(quote!(#value));
            out.extend(quote!(schema.number().#key = #value;));
        }
    }
    // Lengths are of strings, or of arrays when the field is one (see `constraints`).
    if c.min_length.is_some() || c.max_length.is_some() {
        let (min, max) = (c.min_length.map(|v| v as u32), c.max_length.map(|v| v as u32));
        let (min, max) = (min.map(|v| some(quote!(#v))), max.map(|v| some(quote!(#v))));
        let min = min.map(|v| quote!(if schema.has_type(::schemars::schema::InstanceType::Array) { schema.array().min_items = #v; } else { schema.string().min_length = #v; }));
        let max = max.map(|v| quote!(if schema.has_type(::schemars::schema::InstanceType::Array) { schema.array().max_items = #v; } else { schema.string().max_length = #v; }));
        out.extend(quote!(#min #max));
    }
    if let Some(pattern) = &c.pattern {
        let pattern = &pattern.text;
        let value = some(quote!(#pattern.to_owned()));
        out.extend(quote!(schema.string().pattern = #value;));
    }
    if c.unique_items {
        out.extend(quote!(schema.array().unique_items = ::std::option::Option::Some(true);));
    }
    if let Some(only) = c.allowed_bool {
        out.extend(
            quote!(schema.enum_values = ::std::option::Option::Some(::std::vec![::serde_json::Value::Bool(#only)]);),
        );
    }
    if !c.allowed.is_empty() {
        // Whole numbers as integers, so that an integer enum reads as the spec wrote it.
        let values = c.allowed.iter().map(|v| {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                let v = *v as i64;
                quote!(::serde_json::Value::from(#v))
            } else {
                quote!(::serde_json::Value::from(#v))
            }
        });
        out.extend(quote!(schema.enum_values = ::std::option::Option::Some(::std::vec![#(#values),*]);));
    }
    for (key, value) in [("min_properties", c.min_properties), ("max_properties", c.max_properties)] {
        if let Some(value) = value {
            let key = format_ident!("{key}");
            let value = value as u32;
            out.extend(quote!(schema.object().#key = ::std::option::Option::Some(#value);));
        }
    }
    if read_only {
        out.extend(quote!(schema.metadata().read_only = true;));
    }
    if write_only {
        out.extend(quote!(schema.metadata().write_only = true;));
    }
    out
}

/// The checks of a field's bounds on `value` (a reference to the field's inner value).
fn bounds_check(field: &Field, path: TypePath) -> Option<TokenStream> {
    let c = &field.constraints;
    let format_check = format_check(&field.ty, &field.name, path);
    if c.is_empty() && format_check.is_none() {
        return None;
    }
    let name = &field.name;
    let error = quote!(<D::Error as ::serde::de::Error>::custom);
    let mut checks = format_check.unwrap_or_default();
    let measure = field.ty.is_number().then(|| quote!((*value as f64)));
    let fail = |message: String| quote!(return ::std::result::Result::Err(#error(#message)););
    if let Some(measure) = &measure {
        if let Some(min) = c.minimum {
            let (compare, message) = match c.exclusive_minimum {
                true => (quote!(<=), format!("`{name}` must be more than {min}")),
                false => (quote!(<), format!("`{name}` must be at least {min}")),
            };
            let fail = fail(message);
            checks.extend(quote!(if #measure #compare #min { #fail }));
        }
        if let Some(max) = c.maximum {
            let (compare, message) = match c.exclusive_maximum {
                true => (quote!(>=), format!("`{name}` must be less than {max}")),
                false => (quote!(>), format!("`{name}` must be at most {max}")),
            };
            let fail = fail(message);
            checks.extend(quote!(if #measure #compare #max { #fail }));
        }
        if let Some(step) = c.multiple_of {
            let fail = fail(format!("`{name}` must be a multiple of {step}"));
            // A quotient within a millionth of a whole number counts (binary fractions).
            checks.extend(quote! {
                let quotient = #measure / #step;
                if (quotient - quotient.round()).abs() > 1e-6 { #fail }
            });
        }
    }
    if let Some(pattern) = &c.pattern {
        let fail = fail(format!("`{name}` must match the pattern {}", pattern.text));
        let string_value = match &field.ty {
            TypeRef::String | TypeRef::Format(_) => Some(quote!(value.as_str())),
            _ => None,
        };
        let text = &pattern.text;
        if let Some(value) = string_value {
            checks.extend(match pattern.engine {
                PatternEngine::Regex => quote! {
                    static PATTERN: ::std::sync::LazyLock<::regex::Regex> =
                        ::std::sync::LazyLock::new(|| ::regex::Regex::new(#text).expect("the generator checked the pattern"));
                    if !PATTERN.is_match(#value) { #fail }
                },
                PatternEngine::Regress => quote! {
                    static PATTERN: ::std::sync::LazyLock<::regress::Regex> =
                        ::std::sync::LazyLock::new(|| ::regress::Regex::new(#text).expect("the generator checked the pattern"));
                    if PATTERN.find(#value).is_none() { #fail }
                },
            });
        }
    }
    if let (false, Some(measure)) = (c.allowed.is_empty(), &measure) {
        let allowed = &c.allowed;
        let fail = fail(format!("`{name}` must be one of {allowed:?}"));
        checks.extend(quote!(if ![#(#allowed),*].contains(&#measure) { #fail }));
    }
    if let (Some(only), TypeRef::Bool) = (c.allowed_bool, &field.ty) {
        let fail = fail(format!("`{name}` must be {only}"));
        checks.extend(quote!(if *value != #only { #fail }));
    }
    if c.unique_items && matches!(field.ty, TypeRef::Array(_)) {
        let fail = fail(format!("`{name}` must not hold the same item twice"));
        checks.extend(quote! {
            if value.iter().enumerate().any(|(i, item)| value[..i].contains(item)) { #fail }
        });
    }
    let members = match &field.ty {
        TypeRef::Map(_) | TypeRef::JsonObject => Some(quote!((value.len() as u64))),
        _ => None,
    };
    if let Some(members) = members {
        if let Some(min) = c.min_properties.filter(|&min| min > 0) {
            let fail = fail(format!("`{name}` must have at least {min} members"));
            checks.extend(quote!(if #members < #min { #fail }));
        }
        if let Some(max) = c.max_properties {
            let fail = fail(format!("`{name}` must have at most {max} members"));
            checks.extend(quote!(if #members > #max { #fail }));
        }
    }
    let length = match &field.ty {
        TypeRef::String | TypeRef::Format(_) => Some((quote!((value.chars().count() as u64)), "characters")),
        TypeRef::Array(_) => Some((quote!((value.len() as u64)), "items")),
        _ => None,
    };
    if let Some((length, unit)) = length {
        // A minimum of 0 holds for every value: no check.
        if let Some(min) = c.min_length.filter(|&min| min > 0) {
            let message = match min {
                1 => format!("`{name}` must not be empty"),
                _ => format!("`{name}` must have at least {min} {unit}"),
            };
            checks.extend(quote!(if #length < #min { return ::std::result::Result::Err(#error(#message)); }));
        }
        if let Some(max) = c.max_length {
            let message = format!("`{name}` must have at most {max} {unit}");
            checks.extend(quote!(if #length > #max { return ::std::result::Result::Err(#error(#message)); }));
        }
    }
    Some(checks)
}

/// The check of a formatted string (or of every one in an array or map) on `value`.
fn format_check(ty: &TypeRef, name: &str, path: TypePath) -> Option<TokenStream> {
    let error = quote!(<D::Error as ::serde::de::Error>::custom);
    match ty {
        TypeRef::Format(StringFormat::Binary) => None,
        TypeRef::Format(format) => {
            let check = path.of(&format!("formats::is_{}", format.keyword()));
            let message = format!("`{name}` must be a valid {}", format.keyword());
            Some(quote!(if !#check(value) { return ::std::result::Result::Err(#error(#message)); }))
        }
        TypeRef::Array(item) => {
            let inner = format_check(item, name, path)?;
            Some(quote!(for value in value.iter() { #inner }))
        }
        TypeRef::Map(item) => {
            let inner = format_check(item, name, path)?;
            Some(quote!(for value in value.values() { #inner }))
        }
        _ => None,
    }
}

fn type_tokens(def: &TypeDef) -> TokenStream {
    let ident = format_ident!("{}", def.name);
    // schemars reads doc comments as a description: a title alone stays out of them.
    let docs = match def.description {
        Some(_) => rustdoc(def.title.as_deref(), def.description.as_deref()),
        None => TokenStream::new(),
    };
    let schema_docs = schema_doc(def.title.as_deref(), def.description.as_deref());
    // Where the type comes from, for rustdoc readers. Only beside a description: schemars
    // would otherwise take this line as the schema's description.
    let location = def.description.as_ref().map(|_| {
        let line = format!(" Generated from `{}`.", def.location);
        quote!(#[doc = ""] #[doc = #line])
    });
    let rename = (def.schema_name != def.name).then(|| {
        let name = &def.schema_name;
        quote!(#[serde(rename = #name)])
    });
    match &def.kind {
        TypeKind::Alias { ty, constraints, nullable } => {
            let inner = rust_type(ty, TypePath::Local);
            let held = if *nullable { quote!(::std::option::Option<#inner>) } else { inner.clone() };
            let schema = schema_type(ty, TypePath::Local);
            let described = if *nullable { quote!(::std::option::Option<#schema>) } else { schema };
            let mut schema_fn = None;
            let constraint_attrs = if constraints.needs_schema_fn() {
                let function = format!("newtype_schema_{}", heck::ToSnakeCase::to_snake_case(def.name.as_str()));
                let (attribute, function) =
                    schema_function(&function, &described, schema_keywords(constraints, false, false));
                schema_fn = Some(function);
                attribute
            } else {
                let mut attrs = constraint_attrs(constraints);
                if has_format(ty) {
                    let with = described.to_string().replace(' ', "");
                    attrs.extend(quote!(#[schemars(with = #with)]));
                }
                attrs
            };
            let as_field = Field {
                name: def.schema_name.clone(),
                rust_name: String::new(),
                ty: ty.clone(),
                required: true,
                nullable: *nullable,
                title: None,
                description: None,
                constraints: constraints.clone(),
                default: None,
                read_only: false,
                write_only: false,
                boxed: false,
                items_description: None,
                items_title: None,
            };
            let checks = bounds_check(&as_field, TypePath::Local).map(|checks| {
                if *nullable {
                    quote!(if let ::std::option::Option::Some(value) = &value { #checks })
                } else {
                    quote!({ let value = &value; #checks })
                }
            });
            // A scalar newtype is written and read as text (a command-line flag, a path
            // segment): `Display` as its value, `FromStr` through the same checks as JSON.
            let scalar = matches!(
                ty,
                TypeRef::String
                    | TypeRef::I8
                    | TypeRef::I16
                    | TypeRef::I32
                    | TypeRef::I64
                    | TypeRef::U8
                    | TypeRef::U16
                    | TypeRef::U32
                    | TypeRef::U64
                    | TypeRef::F32
                    | TypeRef::F64
                    | TypeRef::Bool
            );
            let text_forms = (scalar && !*nullable).then(|| {
                quote! {
                    impl ::std::fmt::Display for #ident {
                        fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                            ::std::fmt::Display::fmt(&self.0, f)
                        }
                    }

                    impl ::std::str::FromStr for #ident {
                        type Err = ::std::string::String;

                        fn from_str(text: &str) -> ::std::result::Result<Self, ::std::string::String> {
                            let value: #held = text.parse().map_err(|e| ::std::format!("{text:?}: {e}"))?;
                            let value = ::serde::de::IntoDeserializer::<::serde::de::value::Error>::into_deserializer(value);
                            <Self as ::serde::Deserialize>::deserialize(value).map_err(|e| e.to_string())
                        }
                    }
                }
            });
            quote! {
                #docs
                #location
                #[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::schemars::JsonSchema)]
                #schema_docs
                #rename
                pub struct #ident(#constraint_attrs pub #held);

                impl<'de> ::serde::Deserialize<'de> for #ident {
                    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                        let value = <#held as ::serde::Deserialize>::deserialize(deserializer)?;
                        #checks
                        ::std::result::Result::Ok(Self(value))
                    }
                }

                impl ::std::ops::Deref for #ident {
                    type Target = #held;

                    fn deref(&self) -> &#held {
                        &self.0
                    }
                }

                impl ::std::convert::From<#held> for #ident {
                    fn from(value: #held) -> Self {
                        Self(value)
                    }
                }

                #text_forms
                #schema_fn
            }
        }
        TypeKind::Struct { fields, deny_unknown_fields, extra_properties, property_count } => {
            let (fields, helper_fns): (Vec<_>, Vec<_>) =
                fields.iter().map(|f| field_tokens(f, &def.name, TypePath::Local)).unzip();
            let helper_fns = helper_fns.into_iter().flatten();
            let deny = deny_unknown_fields.then(|| quote!(#[serde(deny_unknown_fields)]));
            let extra = extra_properties.as_ref().map(|value| {
                let map = rust_type(&TypeRef::Map(Box::new(value.clone())), TypePath::Local);
                let map = if *value == TypeRef::Any {
                    quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>)
                } else {
                    map
                };
                quote! {
                    /// Properties beyond the declared ones.
                    #[serde(flatten)]
                    pub additional_properties: #map,
                }
            });
            // A local name no generated type can have (they never hold `__`): the fields may
            // name any type of the spec, `…Object` included.
            let object = format_ident!("__{}Fields", def.name);
            let remote = def.name.clone();
            let object_fields = without_schemars_attributes(quote!(#(#fields)* #extra));
            // schemars loses a typed `additionalProperties` when it flattens the map into the
            // struct, and has no word for `minProperties` or `maxProperties`: such a struct is
            // described through a twin without the map, to whose schema they are then added.
            let typed_extra = extra_properties.as_ref().filter(|value| **value != TypeRef::Any);
            let (schema_derive, described_by) = match (typed_extra, property_count) {
                (None, (None, None)) => (quote!(::schemars::JsonSchema,), None),
                (typed_extra, (min, max)) => {
                    let twin = format_ident!("{}Described", def.name);
                    let schema_name = &def.schema_name;
                    let extra = typed_extra.map(|value| {
                        let value_schema = schema_type(value, TypePath::Local);
                        quote! {
                            schema.object().additional_properties =
                                ::std::option::Option::Some(::std::boxed::Box::new(generator.subschema_for::<#value_schema>()));
                        }
                    });
                    let count =
                        [("min_properties", min), ("max_properties", max)].into_iter().filter_map(|(key, n)| {
                            let key = format_ident!("{key}");
                            n.map(|n| {
                                let n = n as u32;
                                quote!(schema.object().#key = ::std::option::Option::Some(#n);)
                            })
                        });
                    (
                        quote!(),
                        Some(quote! {
                            #[doc(hidden)]
                            #[allow(dead_code)]
                            #[derive(::schemars::JsonSchema)]
                            #schema_docs
                            #[schemars(rename = #schema_name)]
                            #deny
                            pub struct #twin {
                                #(#fields)*
                            }

                            impl ::schemars::JsonSchema for #ident {
                                fn schema_name() -> ::std::string::String {
                                    <#twin as ::schemars::JsonSchema>::schema_name()
                                }

                                fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                                    let mut schema = <#twin as ::schemars::JsonSchema>::json_schema(generator).into_object();
                                    #extra
                                    #(#count)*
                                    schema.into()
                                }
                            }
                        }),
                    )
                }
            };
            let (main_fields, main_docs) = match described_by {
                None => (quote!(#(#fields)* #extra), quote!(#schema_docs #rename)),
                Some(_) => (without_schemars_attributes(quote!(#(#fields)* #extra)), quote!(#rename)),
            };
            quote! {
                #docs
                #location
                #[derive(Clone, Debug, PartialEq, ::serde::Serialize, #schema_derive)]
                #main_docs
                #deny
                pub struct #ident {
                    #main_fields
                }

                #described_by

                /// Reads only a JSON object: serde's derive would also take an array of the
                /// fields in order, which the spec does not allow.
                impl<'de> ::serde::Deserialize<'de> for #ident {
                    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                        #[derive(::serde::Deserialize)]
                        #[serde(remote = #remote)]
                        #deny
                        #[allow(non_camel_case_types)]
                        struct #object {
                            #object_fields
                        }
                        #object::deserialize(ObjectOnly(deserializer))
                    }
                }

                #(#helper_fns)*
            }
        }
        TypeKind::OneOf { variants, choice, any_of, discriminator } => {
            let names: Vec<_> = variants.iter().map(|v| format_ident!("{}", v.rust_name)).collect();
            let types: Vec<_> = variants.iter().map(|v| rust_type(&v.ty, TypePath::Local)).collect();
            let schema_types: Vec<_> = variants.iter().map(|v| schema_type(&v.ty, TypePath::Local)).collect();
            let alternatives = variants.iter().zip(&schema_types).map(|(variant, ty)| match &variant.title {
                Some(title) => quote! {{
                    let mut alternative = generator.subschema_for::<#ty>().into_object();
                    alternative.metadata().title = ::std::option::Option::Some(#title.to_owned());
                    ::schemars::schema::Schema::Object(alternative)
                }},
                None => quote!(generator.subschema_for::<#ty>()),
            });
            let schema_name = &def.schema_name;
            let title = def
                .title
                .as_ref()
                .map(|t| quote!(schema.metadata().title = ::std::option::Option::Some(#t.to_owned());));
            let description = def
                .description
                .as_ref()
                .map(|d| quote!(schema.metadata().description = ::std::option::Option::Some(#d.to_owned());));
            let keyword = if *any_of { quote!(any_of) } else { quote!(one_of) };
            let default = def.default.as_ref().map(|value| {
                let text = value.to_string();
                quote! {
                    schema.metadata().default = ::serde_json::from_str(#text).ok();
                }
            });
            let keyword_name = if *any_of { "anyOf" } else { "oneOf" };
            // dropshot keeps only `x-` extensions of a schema: the discriminator travels as
            // `x-discriminator` (the round-trip normaliser reads it back).
            let discriminator_extension = discriminator.as_ref().map(|d| {
                let property = &d.property;
                let mapping = d.mapping.iter().map(|(value, target)| quote!((#value.to_owned(), ::serde_json::Value::from(#target))));
                quote! {
                    let mut discriminator = ::serde_json::Map::new();
                    discriminator.insert("propertyName".to_owned(), ::serde_json::Value::from(#property));
                    let mapping: ::serde_json::Map<::std::string::String, ::serde_json::Value> = [#(#mapping),*].into_iter().collect();
                    if !mapping.is_empty() {
                        discriminator.insert("mapping".to_owned(), ::serde_json::Value::Object(mapping));
                    }
                    schema.extensions.insert("x-discriminator".to_owned(), ::serde_json::Value::Object(discriminator));
                }
            });
            let error = quote!(<D::Error as ::serde::de::Error>::custom);
            let (derives, read, how) = match (choice, discriminator) {
                (Choice::JsonType, _) => (
                    quote!(#[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize)] #[serde(untagged)]),
                    quote!(),
                    "The alternatives differ in JSON type: a value is read as the one its type names.",
                ),
                (Choice::Discriminator, Some(d)) => {
                    let property = &d.property;
                    let arms = d.values.iter().map(|(value, index)| {
                        let (name, ty) = (&names[*index], &types[*index]);
                        quote!(::std::option::Option::Some(#value) => ::serde_json::from_value::<#ty>(value).map(Self::#name).map_err(#error),)
                    });
                    let missing = format!("`{property}` must name one of the alternatives");
                    (
                        quote!(#[derive(Clone, Debug, PartialEq)]),
                        quote! {
                            impl<'de> ::serde::Deserialize<'de> for #ident {
                                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                                    let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                                    let tag = value.get(#property).and_then(::serde_json::Value::as_str).map(str::to_owned);
                                    match tag.as_deref() {
                                        #(#arms)*
                                        _ => ::std::result::Result::Err(#error(#missing)),
                                    }
                                }
                            }
                        },
                        "The discriminator property names the alternative a value is read as.",
                    )
                }
                (_, _) => {
                    let exactly_one = *choice == Choice::ExactlyOne;
                    let tries = names.iter().zip(&types).map(|(name, ty)| {
                        quote! {
                            if let ::std::result::Result::Ok(read) = ::serde_json::from_value::<#ty>(value.clone()) {
                                found.push(Self::#name(read));
                            }
                        }
                    });
                    let decide = if exactly_one {
                        quote! {
                            match found.len() {
                                1 => ::std::result::Result::Ok(found.remove(0)),
                                0 => ::std::result::Result::Err(#error("the value matches none of the alternatives")),
                                _ => ::std::result::Result::Err(#error("the value matches more than one alternative")),
                            }
                        }
                    } else {
                        quote! {
                            if found.is_empty() {
                                return ::std::result::Result::Err(#error("the value matches none of the alternatives"));
                            }
                            ::std::result::Result::Ok(found.remove(0))
                        }
                    };
                    (
                        quote!(#[derive(Clone, Debug, PartialEq)]),
                        quote! {
                            impl<'de> ::serde::Deserialize<'de> for #ident {
                                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                                    let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                                    let mut found = ::std::vec::Vec::new();
                                    #(#tries)*
                                    #decide
                                }
                            }
                        },
                        if exactly_one {
                            "A value is read as the one alternative that takes it; a value two take is refused."
                        } else {
                            "A value is read as the first alternative that takes it."
                        },
                    )
                }
            };
            let serialize = match (choice, discriminator) {
                (Choice::JsonType, _) => quote!(),
                (Choice::Discriminator, Some(d)) => {
                    let property = &d.property;
                    let arms = names.iter().enumerate().map(|(index, name)| {
                        let tag = d.values.iter().find(|(_, i)| *i == index).map(|(v, _)| v.clone()).unwrap_or_default();
                        quote! {
                            Self::#name(inner) => {
                                let mut value = ::serde_json::to_value(inner).map_err(<S::Error as ::serde::ser::Error>::custom)?;
                                if let ::serde_json::Value::Object(members) = &mut value {
                                    members.entry(#property).or_insert_with(|| ::serde_json::Value::from(#tag));
                                }
                                ::serde::Serialize::serialize(&value, serializer)
                            }
                        }
                    });
                    quote! {
                        /// The alternative's value, with the discriminator property set.
                        impl ::serde::Serialize for #ident {
                            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                                match self {
                                    #(#arms)*
                                }
                            }
                        }
                    }
                }
                _ => quote! {
                    impl ::serde::Serialize for #ident {
                        fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                            match self {
                                #(Self::#names(inner) => ::serde::Serialize::serialize(inner, serializer),)*
                            }
                        }
                    }
                },
            };
            let how = format!(" {how}");
            let schema_doc_line = format!(" The spec's `{keyword_name}` (schemars would describe an enum otherwise).");
            quote! {
                #docs
                #location
                ///
                #[doc = #how]
                #derives
                pub enum #ident {
                    #(#names(#types),)*
                }

                #read

                #serialize

                /// The value as it goes into a path or query: a string as it is, anything else
                /// as its JSON text.
                impl ::std::fmt::Display for #ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        match ::serde_json::to_value(self).map_err(|_| ::std::fmt::Error)? {
                            ::serde_json::Value::String(text) => f.write_str(&text),
                            other => ::std::fmt::Display::fmt(&other, f),
                        }
                    }
                }

                #[doc = #schema_doc_line]
                impl ::schemars::JsonSchema for #ident {
                    fn schema_name() -> ::std::string::String {
                        #schema_name.to_owned()
                    }

                    fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                        let mut schema = ::schemars::schema::SchemaObject::default();
                        #title
                        #description
                        schema.subschemas().#keyword = ::std::option::Option::Some(::std::vec![
                            #(#alternatives,)*
                        ]);
                        #default
                        #discriminator_extension
                        schema.into()
                    }
                }
            }
        }
        TypeKind::Not { excluded } => {
            let excluded_type = rust_type(excluded, TypePath::Local);
            let excluded_schema = schema_type(excluded, TypePath::Local);
            let schema_name = &def.schema_name;
            let description = def
                .description
                .as_ref()
                .map(|d| quote!(schema.metadata().description = ::std::option::Option::Some(#d.to_owned());));
            quote! {
                #docs
                #location
                ///
                /// Any JSON value but those the excluded schema takes.
                #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
                pub struct #ident(pub ::serde_json::Value);

                impl<'de> ::serde::Deserialize<'de> for #ident {
                    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                        let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                        if ::serde_json::from_value::<#excluded_type>(value.clone()).is_ok() {
                            return ::std::result::Result::Err(<D::Error as ::serde::de::Error>::custom("the value is one the schema excludes (`not`)"));
                        }
                        ::std::result::Result::Ok(Self(value))
                    }
                }

                impl ::schemars::JsonSchema for #ident {
                    fn schema_name() -> ::std::string::String {
                        #schema_name.to_owned()
                    }

                    fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                        let mut schema = ::schemars::schema::SchemaObject::default();
                        #description
                        schema.subschemas().not = ::std::option::Option::Some(::std::boxed::Box::new(generator.subschema_for::<#excluded_schema>()));
                        schema.into()
                    }
                }
            }
        }
        TypeKind::Enum { variants } => {
            let type_name = ident.to_string();
            let names: Vec<_> = variants.iter().map(|v| format_ident!("{}", v.rust_name)).collect();
            let values: Vec<_> = variants.iter().map(|v| v.value.as_str()).collect();
            let count = variants.len();
            quote! {
                #docs
                #location
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
                #schema_docs
                #rename
                pub enum #ident {
                    #(
                        #[serde(rename = #values)]
                        #names,
                    )*
                }

                impl #ident {
                    /// Every value, in the order the spec lists them.
                    pub const ALL: [Self; #count] = [#(Self::#names),*];

                    /// The value on the wire.
                    pub fn as_str(self) -> &'static str {
                        match self {
                            #(Self::#names => #values,)*
                        }
                    }
                }

                impl ::std::fmt::Display for #ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(self.as_str())
                    }
                }

                impl ::std::str::FromStr for #ident {
                    type Err = conversions::UnknownValue;

                    /// The value whose wire text is `text`, exactly as `as_str` writes it.
                    fn from_str(text: &str) -> ::std::result::Result<Self, conversions::UnknownValue> {
                        match text {
                            #(#values => ::std::result::Result::Ok(Self::#names),)*
                            _ => ::std::result::Result::Err(conversions::UnknownValue::new(#type_name, text)),
                        }
                    }
                }

                impl ::std::convert::TryFrom<&str> for #ident {
                    type Error = conversions::UnknownValue;

                    fn try_from(text: &str) -> ::std::result::Result<Self, conversions::UnknownValue> {
                        text.parse()
                    }
                }
            }
        }
    }
}

/// `tokens` without `#[schemars(...)]` attributes, for a copy of fields that derives only serde.
fn without_schemars_attributes(tokens: TokenStream) -> TokenStream {
    use proc_macro2::TokenTree;
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        if let TokenTree::Punct(punct) = &token
            && punct.as_char() == '#'
            && let Some(TokenTree::Group(group)) = iter.peek()
            && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(ident)) if ident == "schemars")
        {
            iter.next();
            continue;
        }
        out.push(token);
    }
    out.into_iter().collect()
}

/// The whole `squared-types` generated module.
pub fn generate(api: &Api) -> TokenStream {
    let types = api.types.iter().map(type_tokens);
    let formats = formats_module();
    let conversions = conversions_module();
    quote! {
        #(#types)*

        #formats
        #conversions

        /// A deserializer through which a struct is read from an object only, in one pass:
        /// serde's derive also takes an array of the fields in order, which the spec does not
        /// allow.
        #[doc(hidden)]
        pub struct ObjectOnly<D>(pub D);

        /// Hands a struct's visitor an object, and refuses the rest as "expected a map".
        #[doc(hidden)]
        pub struct ObjectVisitor<V>(V);

        impl<'de, V: ::serde::de::Visitor<'de>> ::serde::de::Visitor<'de> for ObjectVisitor<V> {
            type Value = V::Value;

            fn expecting(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str("a map")
            }

            fn visit_map<A: ::serde::de::MapAccess<'de>>(self, map: A) -> ::std::result::Result<V::Value, A::Error> {
                self.0.visit_map(map)
            }
        }

        impl<'de, D: ::serde::Deserializer<'de>> ::serde::Deserializer<'de> for ObjectOnly<D> {
            type Error = D::Error;

            fn deserialize_any<V: ::serde::de::Visitor<'de>>(self, visitor: V) -> ::std::result::Result<V::Value, D::Error> {
                self.0.deserialize_map(ObjectVisitor(visitor))
            }

            fn deserialize_struct<V: ::serde::de::Visitor<'de>>(
                self,
                _name: &'static str,
                _fields: &'static [&'static str],
                visitor: V,
            ) -> ::std::result::Result<V::Value, D::Error> {
                self.0.deserialize_map(ObjectVisitor(visitor))
            }

            ::serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
                unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }

        /// Reads and drops a readOnly property: a request does not set it.
        #[doc(hidden)]
        pub fn ignore_read_only<'de, D: ::serde::Deserializer<'de>, T>(deserializer: D) -> ::std::result::Result<::std::option::Option<T>, D::Error> {
            <::serde::de::IgnoredAny as ::serde::Deserialize>::deserialize(deserializer)?;
            ::std::result::Result::Ok(::std::option::Option::None)
        }

        /// The JSON Schema of a field that must be present but may be `null`: that of
        /// `Option<T>` (nullable), without schemars' inference that an `Option` is optional.
        #[doc(hidden)]
        pub struct NullableSchema<T>(::std::marker::PhantomData<T>);

        impl<T: ::schemars::JsonSchema> ::schemars::JsonSchema for NullableSchema<T> {
            fn is_referenceable() -> bool {
                false
            }

            fn schema_name() -> ::std::string::String {
                format!("Nullable_{}", T::schema_name())
            }

            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                <::std::option::Option<T> as ::schemars::JsonSchema>::json_schema(generator)
            }
        }
    }
}

/// The `formats` module: a JSON Schema marker per string format (`{type: string, format}`)
/// and the check each format's values pass when read.
/// The error of every string enum's `FromStr`: which type, and the text it does not know.
fn conversions_module() -> TokenStream {
    quote! {
        /// What reading a value from its wire text can fail with.
        pub mod conversions {
            /// A text that is none of a string enum's values.
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub struct UnknownValue {
                /// The enum's Rust name.
                pub type_name: &'static str,
                /// The text that was read.
                pub text: ::std::string::String,
            }

            impl UnknownValue {
                pub fn new(type_name: &'static str, text: &str) -> Self {
                    UnknownValue { type_name, text: text.to_owned() }
                }
            }

            impl ::std::fmt::Display for UnknownValue {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    write!(f, "{:?} is not a value of {}", self.text, self.type_name)
                }
            }

            impl ::std::error::Error for UnknownValue {}
        }
    }
}

fn formats_module() -> TokenStream {
    let markers = StringFormat::ALL.iter().map(|format| {
        let ident = format_ident!("{}", heck::ToPascalCase::to_pascal_case(format.keyword()));
        let keyword = format.keyword();
        let doc = format!(" The JSON Schema of a string in the `{keyword}` format.");
        quote! {
            #[doc = #doc]
            pub struct #ident;

            impl ::schemars::JsonSchema for #ident {
                fn is_referenceable() -> bool {
                    false
                }

                fn schema_name() -> ::std::string::String {
                    #keyword.to_owned()
                }

                fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                    ::schemars::schema::SchemaObject {
                        instance_type: ::std::option::Option::Some(::schemars::schema::InstanceType::String.into()),
                        format: ::std::option::Option::Some(#keyword.to_owned()),
                        ..::std::default::Default::default()
                    }
                    .into()
                }
            }
        }
    });
    quote! {
        /// String formats: what the schema says, and the check a value passes when read.
        pub mod formats {
            #(#markers)*

            /// `8-4-4-4-12` hexadecimal digits.
            pub fn is_uuid(value: &str) -> bool {
                let groups: ::std::vec::Vec<&str> = value.split('-').collect();
                groups.len() == 5
                    && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
                        group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())
                    })
            }

            /// An absolute URI: a scheme (a letter, then letters, digits, `+`, `-` or `.`),
            /// a colon, and no whitespace or control characters.
            pub fn is_uri(value: &str) -> bool {
                let ::std::option::Option::Some((scheme, _)) = value.split_once(':') else { return false };
                scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }

            /// One `@` between a non-empty local part and a domain with a dot, no whitespace.
            pub fn is_email(value: &str) -> bool {
                let ::std::option::Option::Some((local, domain)) = value.rsplit_once('@') else { return false };
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }

            pub fn is_ipv4(value: &str) -> bool {
                value.parse::<::std::net::Ipv4Addr>().is_ok()
            }

            pub fn is_ipv6(value: &str) -> bool {
                value.parse::<::std::net::Ipv6Addr>().is_ok()
            }

            /// Standard base64 with padding.
            pub fn is_byte(value: &str) -> bool {
                let body = value.trim_end_matches('=');
                value.len() % 4 == 0
                    && value.len() - body.len() <= 2
                    && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model;

    /// The functions a field needs are named after its type and itself, so that no two fields
    /// share one: `ServiceCredential.type_name` and `ServiceCredentialType.name` did in snake
    /// case (a compile error in a real spec).
    #[test]
    fn field_functions_are_named_apart() {
        let text = r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths: {}
components:
  schemas:
    ServiceCredential: {type: object, properties: {type_name: {type: string, maxLength: 3}}}
    ServiceCredentialType: {type: object, properties: {name: {type: string, maxLength: 3}}}
"##;
        let code = super::generate(&model::load(text).unwrap()).to_string();
        for function in ["fn read_servicecredential_type_name", "fn read_servicecredentialtype_name"] {
            assert_eq!(code.matches(function).count(), 1, "{function}: {code}");
        }
    }
}
