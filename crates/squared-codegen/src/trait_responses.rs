//! What a trait method answers: its success type and its error type.
//!
//! An operation with one plain response (200, 201 or 202 with a JSON body, or 204 without
//! one, and no headers) answers dropshot's own response type. Anything else (several
//! statuses, other statuses, a response without a body where dropshot wants one, headers,
//! text or bytes) gets a generated enum with a variant per response, which implements
//! dropshot's `HttpResponse`: dropshot describes one success response per operation, so the
//! description is the first response's status and headers, with the body schema of every
//! response (`oneOf` when they differ).
//!
//! Errors: with a hand-written error type in the [`Layout`] (the workspace's `ApiError`),
//! every method returns it and every error body of the spec must be the same type. Without
//! one, each operation whose errors have bodies gets a generated enum with a variant per
//! error response and one for requests dropshot refuses before the method runs
//! (`Rejected`); an operation whose errors have no body returns dropshot's `HttpError` (or, where
//! the spec names a schema `Error` as dropshot names its own, `FrameworkError`).

use anyhow::Result;
use heck::ToPascalCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Layout;
use super::model::{Api, Field, MediaKind, Operation, Param, Response, Status, distinct_bodies};
use super::types::{TypePath, field_tokens, rust_type};

/// dropshot's own response type, where it describes the operation's one response exactly.
fn plain_response(op: &Operation, types: TypePath<'_>) -> Option<TokenStream> {
    let [response] = op.responses.as_slice() else { return None };
    if !response.headers.is_empty() {
        return None;
    }
    match (response.status, &response.content) {
        (Status::Code(204), None) if op.method == "DELETE" => Some(quote!(::dropshot::HttpResponseDeleted)),
        (Status::Code(204), None) => Some(quote!(::dropshot::HttpResponseUpdatedNoContent)),
        (Status::Code(code @ 200..=202), Some(content)) if content.kind == MediaKind::Json => {
            let wrapper = match code {
                200 => quote!(::dropshot::HttpResponseOk),
                201 => quote!(::dropshot::HttpResponseCreated),
                _ => quote!(::dropshot::HttpResponseAccepted),
            };
            let ty = rust_type(&content.ty, types);
            Some(quote!(#wrapper<#ty>))
        }
        _ => None,
    }
}

/// The body type of an error response's content, as generated code holds it: dropshot
/// serializes an error's body, so text and bytes are held whole.
fn body_tokens(response: &Response, types: TypePath<'_>) -> Option<TokenStream> {
    let content = response.content.as_ref()?;
    Some(match content.kind {
        MediaKind::Json | MediaKind::Form => rust_type(&content.ty, types),
        MediaKind::Text => quote!(::std::string::String),
        MediaKind::Binary => quote!(::std::vec::Vec<u8>),
    })
}

/// The body type of a success response's content: text and bytes are a `dropshot::Body`, so
/// a method can stream them (an export, a file) as well as answer them whole (`.into()` from a
/// `String` or a `Vec<u8>`).
fn success_body_tokens(response: &Response, types: TypePath<'_>) -> Option<TokenStream> {
    let content = response.content.as_ref()?;
    Some(match content.kind {
        MediaKind::Text | MediaKind::Binary => quote!(::dropshot::Body),
        MediaKind::Json | MediaKind::Form => rust_type(&content.ty, types),
    })
}

/// The JSON Schema a response's body is described with.
fn body_schema_tokens(response: &Response, types: TypePath<'_>) -> Option<TokenStream> {
    let content = response.content.as_ref()?;
    Some(match content.kind {
        MediaKind::Json | MediaKind::Form => {
            let ty = rust_type(&content.ty, types);
            quote!(generator.subschema_for::<#ty>())
        }
        MediaKind::Text => quote!(generator.subschema_for::<::std::string::String>()),
        MediaKind::Binary => quote! {{
            let mut schema = generator.subschema_for::<::std::string::String>().into_object();
            schema.format = ::std::option::Option::Some("binary".to_owned());
            ::schemars::schema::Schema::Object(schema)
        }},
    })
}

/// One schema for several bodies: the body's own when they agree, else their `oneOf`.
fn union_schema(schemas: Vec<TokenStream>) -> TokenStream {
    match schemas.as_slice() {
        [one] => one.clone(),
        _ => quote! {{
            let mut schema = ::schemars::schema::SchemaObject::default();
            schema.subschemas().one_of = ::std::option::Option::Some(::std::vec![#(#schemas),*]);
            ::schemars::schema::Schema::Object(schema)
        }},
    }
}

/// The body schemas of `responses` that differ, in order.
fn distinct_body_schemas(responses: &[Response], types: TypePath<'_>) -> Vec<TokenStream> {
    distinct_bodies(responses).into_iter().filter_map(|response| body_schema_tokens(response, types)).collect()
}

fn variant_name(status: Status) -> syn::Ident {
    format_ident!("Status{}", status.key().to_pascal_case())
}

/// The name of a response's header struct, if it has headers.
fn headers_struct_name(op: &Operation, response: &Response) -> Option<syn::Ident> {
    (!response.headers.is_empty())
        .then(|| format_ident!("{}Headers{}", op.pascal_name, response.status.key().to_pascal_case()))
}

/// A type whose JSON Schema is the body schema of an operation's responses (or errors), for
/// dropshot to describe them with: `schemas` as one (their `oneOf` when several), inline.
fn body_marker(op: &Operation, kind: &str, schemas: Vec<TokenStream>, items: &mut Vec<TokenStream>) -> syn::Ident {
    let name = format_ident!("{}{kind}Body", op.pascal_name);
    let schema_name = name.to_string();
    // No body: the schema dropshot reads as "no content" (and then keeps the headers).
    let schema = match schemas.is_empty() {
        true => quote!({
            let _ = generator;
            ::schemars::schema::Schema::Bool(false)
        }),
        false => union_schema(schemas),
    };
    let doc = format!(
        " The body schema of `{}`'s {} responses, for dropshot's description.",
        op.operation_id,
        kind.to_lowercase()
    );
    let described = inline_json_schema(&name, &schema_name, schema);
    items.push(quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[derive(::serde::Serialize)]
        pub struct #name;

        #described
    });
    name
}

/// A `JsonSchema` impl that describes `name` inline (never as a component) with `schema`, an
/// expression of `generator`.
fn inline_json_schema(name: &syn::Ident, schema_name: &str, schema: TokenStream) -> TokenStream {
    quote! {
        impl ::schemars::JsonSchema for #name {
            fn is_referenceable() -> bool {
                false
            }

            fn schema_name() -> ::std::string::String {
                #schema_name.to_owned()
            }

            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                #schema
            }
        }
    }
}

/// The header struct of a response, if it has headers.
fn headers_struct(
    op: &Operation,
    response: &Response,
    types: TypePath<'_>,
    items: &mut Vec<TokenStream>,
) -> Option<syn::Ident> {
    if response.headers.is_empty() {
        return None;
    }
    let name = headers_struct_name(op, response).expect("the response has headers");
    // Each header a field as a body's property is: its description as written, and every
    // constraint of its schema stated (a pattern, an enum of numbers…), as the spec states them.
    let mut helpers = Vec::new();
    let fields: Vec<TokenStream> = response
        .headers
        .iter()
        .map(|h: &Param| {
            // A response header's default is the server's to write, not one serde applies.
            let field = Field { default: None, ..h.as_field() };
            let (tokens, functions) = field_tokens(&field, &name.to_string(), types);
            helpers.extend(functions);
            tokens
        })
        .collect();
    let doc = format!(" The headers of `{}`'s {} response.", op.operation_id, response.status.key());
    items.push(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, Default, ::serde::Serialize, ::schemars::JsonSchema)]
        pub struct #name {
            #(#fields)*
        }

        #(#helpers)*
    });
    Some(name)
}

/// The success type of `op`: dropshot's own where it fits, else a generated enum (pushed
/// onto `items`).
pub fn success_type(layout: &Layout, op: &Operation, items: &mut Vec<TokenStream>) -> Result<TokenStream> {
    let types = TypePath::Module(&layout.types);
    if let Some(plain) = plain_response(op, types) {
        return Ok(plain);
    }
    let name = format_ident!("{}Response", op.pascal_name);
    let first = &op.responses[0];
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut status_arms = Vec::new();
    for response in &op.responses {
        let variant = variant_name(response.status);
        let doc = format!(" {}: {}", response.status.key(), response.description.lines().next().unwrap_or_default());
        let exact = matches!(response.status, Status::Code(_));
        let body = success_body_tokens(response, types);
        let headers = headers_struct(op, response, types, items);
        let mut fields = Vec::new();
        let mut bindings = Vec::new();
        if !exact {
            fields.push(quote!(::http::StatusCode));
            bindings.push(format_ident!("status"));
        }
        if let Some(body) = &body {
            fields.push(body.clone());
            bindings.push(format_ident!("body"));
        }
        if let Some(headers) = &headers {
            fields.push(quote!(#headers));
            bindings.push(format_ident!("headers"));
        }
        variants.push(if fields.is_empty() {
            quote!(#[doc = #doc] #variant,)
        } else {
            quote!(#[doc = #doc] #variant(#(#fields),*),)
        });
        let pattern = if bindings.is_empty() { quote!(Self::#variant) } else { quote!(Self::#variant(#(#bindings),*)) };
        let status = match response.status {
            Status::Code(code) => quote!(::http::StatusCode::from_u16(#code).expect("a status from the spec")),
            _ => quote!(*status),
        };
        // The status needs no more of the variant than its status field, when it has one.
        let status_pattern = match (exact, fields.is_empty()) {
            (true, true) => quote!(Self::#variant),
            (true, false) => quote!(Self::#variant(..)),
            (false, _) => quote!(Self::#variant(status, ..)),
        };
        status_arms.push(quote!(#status_pattern => #status,));
        // `to_result` takes the response by value, so a body (a stream) moves into the answer.
        let owned_status = match response.status {
            Status::Code(_) => status.clone(),
            _ => quote!(status),
        };
        let header_writes = headers.as_ref().map(|_| {
            quote! {
                if let ::serde_json::Value::Object(values) = ::serde_json::to_value(&headers).map_err(|e| ::dropshot::HttpError::for_internal_error(e.to_string()))? {
                    for (name, value) in values {
                        let text = match value { ::serde_json::Value::String(text) => text, other => other.to_string() };
                        builder = builder.header(name, text);
                    }
                }
            }
        });
        let body_write = match response.content.as_ref().map(|c| (c.kind, c.media_type.as_str())) {
            None => quote!(builder.body(::dropshot::Body::empty())?),
            Some((MediaKind::Json | MediaKind::Form, _)) => quote! {{
                let bytes = ::serde_json::to_vec(&body).map_err(|e| ::dropshot::HttpError::for_internal_error(e.to_string()))?;
                builder.header(::http::header::CONTENT_TYPE, ::dropshot::CONTENT_TYPE_JSON).body(bytes.into())?
            }},
            Some((_, media_type)) => quote! {
                builder.header(::http::header::CONTENT_TYPE, #media_type).body(body)?
            },
        };
        arms.push(quote! {
            #pattern => {
                #[allow(unused_mut)]
                let mut builder = ::http::Response::builder().status(#owned_status);
                #header_writes
                ::std::result::Result::Ok(#body_write)
            }
        });
    }
    let schemas = distinct_body_schemas(&op.responses, types);
    let marker = body_marker(op, "Response", schemas, items);
    let first_status = first.status.representative(200);
    let first_description = &first.description;
    // dropshot describes a response through its own types: the metadata of
    // `HttpResponseOk` of the body marker (with the first response's headers), then the
    // first response's status and description.
    let described = match headers_struct_name(op, first) {
        Some(headers) => quote!(::dropshot::HttpResponseHeaders<::dropshot::HttpResponseOk<#marker>, #headers>),
        None => quote!(::dropshot::HttpResponseOk<#marker>),
    };
    let doc = format!(" What `{}` answers: one variant per response of the spec.", op.operation_id);
    items.push(quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub enum #name {
            #(#variants)*
        }

        impl ::dropshot::HttpResponse for #name {
            fn to_result(self) -> ::std::result::Result<::http::Response<::dropshot::Body>, ::dropshot::HttpError> {
                match self {
                    #(#arms)*
                }
            }

            fn response_metadata() -> ::dropshot::ApiEndpointResponse {
                let mut metadata = <#described as ::dropshot::HttpResponse>::response_metadata();
                metadata.success = ::std::option::Option::Some(::http::StatusCode::from_u16(#first_status).expect("a status from the spec"));
                metadata.description = ::std::option::Option::Some(#first_description.to_owned());
                metadata
            }

            fn status_code(&self) -> ::http::StatusCode {
                match self {
                    #(#status_arms)*
                }
            }
        }
    });
    Ok(quote!(#name))
}

/// The schema name under which an operation whose errors have no body describes dropshot's
/// error, when it cannot be dropshot's own `Error`: the spec names a schema `Error` too, and
/// dropshot's would take its place in the emitted document. `None` when `Error` is free.
pub fn framework_error_name(api: &Api) -> Option<String> {
    let names: std::collections::BTreeSet<&str> = api.types.iter().map(|t| t.schema_name.as_str()).collect();
    if !names.contains("Error") {
        return None;
    }
    let mut name = "HttpError".to_owned();
    let mut n = 2;
    while names.contains(name.as_str()) {
        name = format!("HttpError{n}");
        n += 1;
    }
    Some(name)
}

/// `FrameworkError`: dropshot's `HttpError`, described under `schema_name` (see
/// [`framework_error_name`]).
pub fn framework_error(schema_name: &str) -> TokenStream {
    quote! {
        /// dropshot's error, for an operation whose errors have no body. The spec names a
        /// schema `Error`, the name dropshot describes its own error by, so this one is
        /// described under another.
        #[derive(Debug)]
        pub struct FrameworkError(pub ::dropshot::HttpError);

        impl ::std::convert::From<::dropshot::HttpError> for FrameworkError {
            fn from(error: ::dropshot::HttpError) -> Self {
                Self(error)
            }
        }

        impl ::std::fmt::Display for FrameworkError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::dropshot::HttpResponseError for FrameworkError {
            fn status_code(&self) -> ::dropshot::ErrorStatusCode {
                self.0.status_code
            }
        }

        impl ::serde::Serialize for FrameworkError {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                ::dropshot::HttpErrorResponseBody {
                    request_id: ::std::string::String::new(),
                    error_code: self.0.error_code.clone(),
                    message: self.0.external_message.clone(),
                }
                .serialize(serializer)
            }
        }

        impl ::schemars::JsonSchema for FrameworkError {
            fn schema_name() -> ::std::string::String {
                #schema_name.to_owned()
            }

            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                <::dropshot::HttpErrorResponseBody as ::schemars::JsonSchema>::json_schema(generator)
            }
        }
    }
}

/// The error type of `op`'s method (pushing a generated one onto `items`). `framework` is
/// whether an operation whose errors have no body returns `FrameworkError` (see
/// [`framework_error_name`]) rather than dropshot's `HttpError`.
pub fn error_type(
    layout: &Layout,
    op: &Operation,
    framework: bool,
    items: &mut Vec<TokenStream>,
) -> Result<TokenStream> {
    if let Some(hand_written) = &layout.error {
        return Ok(hand_written.parse().expect("a layout holds Rust paths"));
    }
    if op.errors.iter().all(|e| e.content.is_none()) {
        return Ok(if framework { quote!(FrameworkError) } else { quote!(::dropshot::HttpError) });
    }
    let types = TypePath::Module(&layout.types);
    let name = format_ident!("{}Error", op.pascal_name);
    let mut variants = Vec::new();
    let mut status_arms = Vec::new();
    let mut body_arms = Vec::new();
    for response in &op.errors {
        let variant = variant_name(response.status);
        let doc = format!(" {}: {}", response.status.key(), response.description.lines().next().unwrap_or_default());
        let body = body_tokens(response, types);
        let exact = match response.status {
            Status::Code(code) => Some(code),
            _ => None,
        };
        let (fields, pattern, status) = match (exact, &body) {
            (Some(code), Some(body)) => (
                quote!((#body)),
                quote!(Self::#variant(body)),
                quote!(::dropshot::ErrorStatusCode::from_u16(#code).expect("an error status from the spec")),
            ),
            (Some(code), None) => (
                quote!(),
                quote!(Self::#variant),
                quote!(::dropshot::ErrorStatusCode::from_u16(#code).expect("an error status from the spec")),
            ),
            (None, Some(body)) => {
                (quote!((::dropshot::ErrorStatusCode, #body)), quote!(Self::#variant(status, body)), quote!(*status))
            }
            (None, None) => (quote!((::dropshot::ErrorStatusCode)), quote!(Self::#variant(status)), quote!(*status)),
        };
        variants.push(quote!(#[doc = #doc] #variant #fields,));
        status_arms.push(quote!(#pattern => #status,));
        let write = match response.content {
            None => quote!(serializer.serialize_unit()),
            Some(_) => quote!(::serde::Serialize::serialize(body, serializer)),
        };
        body_arms.push(quote!(#pattern => #write,));
    }
    let schema = union_schema(distinct_body_schemas(&op.errors, types));
    let described = inline_json_schema(&name, &name.to_string(), schema);
    let doc = format!(" The errors `{}` answers: one variant per error response of the spec.", op.operation_id);
    items.push(quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub enum #name {
            #(#variants)*
            /// A request dropshot refused before the method ran (a body or parameter the
            /// spec does not allow), answered in dropshot's error shape.
            Rejected(::dropshot::HttpError),
        }

        impl ::std::convert::From<::dropshot::HttpError> for #name {
            fn from(error: ::dropshot::HttpError) -> Self {
                Self::Rejected(error)
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::Rejected(error) => ::std::fmt::Display::fmt(error, f),
                    other => write!(f, "{}", ::dropshot::HttpResponseError::status_code(other)),
                }
            }
        }

        impl ::dropshot::HttpResponseError for #name {
            fn status_code(&self) -> ::dropshot::ErrorStatusCode {
                match self {
                    #(#status_arms)*
                    Self::Rejected(error) => error.status_code,
                }
            }
        }

        /// The body of the response: the variant's, `null` for a status the spec gives no body,
        /// and dropshot's error shape for a refused request.
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #(#body_arms)*
                    Self::Rejected(error) => ::dropshot::HttpErrorResponseBody {
                        request_id: ::std::string::String::new(),
                        error_code: error.error_code.clone(),
                        message: error.external_message.clone(),
                    }
                    .serialize(serializer),
                }
            }
        }

        #described
    });
    Ok(quote!(#name))
}
