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
use quote::quote;
use serde_json::{Map, Value, json};

use super::Layout;
use super::model::{
    Api, MediaKind, ObjectText, Operation, ParamLocation, Response, Status, TypeRef, first_free, follow_component_ref,
    is_ecma_pattern, pointer_token, rust_field_name,
};

pub fn generate(api: &Api, layout: &Layout) -> Result<TokenStream> {
    let (tokens, rewrites) =
        with_progenitor(api, layout, "client", |generator, openapi| generator.generate_tokens(openapi))?;
    let tokens = restore_wire_names(tokens, &rewrites.wire_names);
    let mut tokens = deep_object_params(tokens, &rewrites.deep_objects);
    if !rewrites.deep_objects.is_empty() {
        tokens.extend(deep_object_param());
    }
    if let Some(paging) = &layout.client_paging {
        tokens.extend(page_lists(api, &layout.types, paging)?);
    }
    Ok(tokens)
}

/// progenitor's clap command line over the client at `client_crate` (a Rust path): a
/// subcommand per operation, its parameters and body fields as flags, `--json-body` for a
/// whole body. The crate that holds it supplies `CliConfig` (how answers are printed).
pub fn generate_cli(api: &Api, layout: &Layout, client_crate: &str) -> Result<TokenStream> {
    let (tokens, _) =
        with_progenitor(api, layout, "command line", |generator, openapi| generator.cli(openapi, client_crate))?;
    Ok(array_flags_repeated(raw_answers_printed(tokens)))
}

/// progenitor's typed `httpmock` helpers (`MockServerExt`, a `When` and `Then` per
/// operation) for the client at `client_crate`.
pub fn generate_mock(api: &Api, layout: &Layout, client_crate: &str) -> Result<TokenStream> {
    let (tokens, _) =
        with_progenitor(api, layout, "mock helpers", |generator, openapi| generator.httpmock(openapi, client_crate))?;
    let arrays: Vec<&str> = api
        .operations
        .iter()
        .flat_map(|operation| operation.params_in(ParamLocation::Query))
        .filter(|param| matches!(param.ty, TypeRef::Array(_)))
        .map(|param| param.name.as_str())
        .collect();
    Ok(array_queries_matched(tokens, &arrays))
}

/// The mock helpers with each array query parameter matched an item at a time (`ids=1&ids=2`,
/// as the client sends it), where progenitor calls `to_string()` on the array.
fn array_queries_matched(tokens: TokenStream, arrays: &[&str]) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    if arrays.is_empty() {
        return tokens;
    }
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let stream = group.stream();
                // `( self . 0 . query_param ( "name" , value . to_string ( ) , ) )`
                let text: String = stream.to_string().split_whitespace().collect();
                let array = arrays.iter().find(|name| {
                    text.trim_end_matches(",)") == format!("self.0.query_param({name:?},value.to_string()")
                });
                let stream = match array {
                    Some(name) => quote! {
                        value.iter().fold(self.0, |when, item| {
                            let text = match ::serde_json::to_value(item) {
                                ::std::result::Result::Ok(::serde_json::Value::String(text)) => text,
                                ::std::result::Result::Ok(other) => other.to_string(),
                                ::std::result::Result::Err(e) => ::std::panic!("{} is not JSON: {e}", #name),
                            };
                            when.query_param(#name, text)
                        })
                    },
                    None => array_queries_matched(stream, arrays),
                };
                let mut rewritten = Group::new(group.delimiter(), stream);
                rewritten.set_span(group.span());
                TokenTree::Group(rewritten)
            }
            other => other,
        })
        .collect()
}

/// Runs one of progenitor's generators over the rewritten document (see the module doc), with
/// the settings every output shares.
fn with_progenitor(
    api: &Api,
    layout: &Layout,
    what: &str,
    output: impl Fn(&mut Generator, &openapiv3::OpenAPI) -> progenitor_impl::Result<TokenStream>,
) -> Result<(TokenStream, Rewrites)> {
    let (document, rewrites) = progenitor_document(api, &api.document)?;
    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(document.clone()).context("the rewritten document is not valid OpenAPI")?;

    let mut settings = GenerationSettings::new();
    settings.with_interface(InterfaceStyle::Builder).with_tag(TagStyle::Merged);
    if let Some(inner) = &layout.client_inner {
        let inner: TokenStream = inner.parse().map_err(|_| anyhow::anyhow!("{inner:?} is not a Rust path"))?;
        settings.with_inner_type(inner).with_hooks(HooksMode::Expected);
    }
    for def in &api.types {
        settings.with_replacement(&def.name, format!("{}::{}", layout.types, def.name), std::iter::empty());
    }
    // progenitor asserts (panics) where a document goes beyond what it takes; the rewrite
    // above is meant to prevent that, and a panic left is reported as an error, not a crash.
    let run = |openapi: &openapiv3::OpenAPI| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| output(&mut Generator::new(&settings), openapi)))
    };
    let mut generated = run(&openapi);
    // A `default` its schema does not take: the client is generated without defaults.
    if let Ok(Err(e)) = &generated
        && e.to_string().contains("does not conform to the given schema")
    {
        let mut document = document;
        drop_defaults(&mut document);
        let openapi: openapiv3::OpenAPI =
            serde_json::from_value(document).context("the rewritten document is not valid OpenAPI")?;
        generated = run(&openapi);
    }
    match generated {
        Ok(Ok(tokens)) => Ok((tokens, rewrites)),
        Ok(Err(e)) => anyhow::bail!("progenitor could not generate the {what}: {e}"),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            anyhow::bail!("progenitor could not generate the {what} (it panicked: {message})")
        }
    }
}

/// The `paging` trait (`PageList`) implemented by the builder of each operation that lists
/// one page at a time: an integer query parameter `page` and a JSON success body holding the
/// page's items in `data` and the links to the others in `links` (whose `next` is null on the
/// last page). Operations without a named error type, or with other shapes, are left out.
fn page_lists(api: &Api, types_module: &str, paging: &str) -> Result<TokenStream> {
    use super::types::{TypePath, rust_type};
    let paging: TokenStream = paging.parse().map_err(|_| anyhow::anyhow!("{paging:?} is not a Rust path"))?;
    let types = |name: &str| api.types.iter().find(|def| def.name == name);
    let fields = |name: &str| match types(name).map(|def| &def.kind) {
        Some(super::model::TypeKind::Struct { fields, .. }) => Some(fields),
        _ => None,
    };
    let field = |ty: &str, name: &str| fields(ty).and_then(|fields| fields.iter().find(|f| f.name == name));
    let mut out = TokenStream::new();
    for operation in &api.operations {
        let paged = operation.params_in(ParamLocation::Query).any(|p| {
            p.name == "page"
                && matches!(
                    p.ty,
                    TypeRef::I8
                        | TypeRef::I16
                        | TypeRef::I32
                        | TypeRef::I64
                        | TypeRef::U8
                        | TypeRef::U16
                        | TypeRef::U32
                        | TypeRef::U64
                )
        });
        let body = match operation.responses.as_slice() {
            [Response { content: Some(content), .. }] if content.kind == MediaKind::Json => &content.ty,
            _ => continue,
        };
        let (TypeRef::Named(body), Some(error)) = (body, operation.error_type()) else { continue };
        let Some(data @ super::model::Field { ty: TypeRef::Array(item), required: true, .. }) = field(body, "data")
        else {
            continue;
        };
        let Some(links @ super::model::Field { ty: TypeRef::Named(links_type), required: true, .. }) =
            field(body, "links")
        else {
            continue;
        };
        let Some(next) = field(links_type, "next") else { continue };
        // `next` must be able to be absent: an `Option` in Rust.
        let optional = next.nullable || !next.required;
        if !paged || !optional {
            continue;
        }
        let builder = quote::format_ident!("{}", operation.pascal_name);
        let (data, links, next) = (
            quote::format_ident!("{}", data.rust_name),
            quote::format_ident!("{}", links.rust_name),
            quote::format_ident!("{}", next.rust_name),
        );
        let item = rust_type(item, TypePath::Module(types_module));
        let error = TypePath::Module(types_module).of(&error);
        out.extend(quote! {
            impl #paging for builder::#builder<'_> {
                type Item = #item;
                type Error = #error;
                fn at_page(self, page: ::std::num::NonZeroU64) -> Self {
                    self.page(page)
                }
                async fn fetch(self) -> ::std::result::Result<(::std::vec::Vec<#item>, bool), Error<#error>> {
                    let page = self.send().await?.into_inner();
                    Ok((page.#data, page.#links.#next.is_some()))
                }
            }
        });
    }
    Ok(out)
}

/// (name progenitor was given, wire name) of each parameter renamed for progenitor.
type WireNames = Vec<(String, String)>;

/// What the generated client's tokens are changed in after progenitor.
struct Rewrites {
    wire_names: WireNames,
    /// The names of the `deepObject` query parameters: sent by `DeepObjectParam`.
    deep_objects: Vec<String>,
}

/// The client with each `deepObject` query parameter sent as one (`filter[name]=x`), where
/// progenitor sends an object's properties as keys of their own, and the serializer that does
/// it.
fn deep_object_params(tokens: TokenStream, deep_objects: &[String]) -> TokenStream {
    use proc_macro2::TokenTree;
    if deep_objects.is_empty() {
        return tokens;
    }
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut index = 0;
    while index < trees.len() {
        // `progenitor_client :: QueryParam :: new ( "name" , … )`: 8 trees, the call's group last.
        let is_call = |at: usize| -> bool {
            let ident = |i: usize, name: &str| matches!(trees.get(at + i), Some(TokenTree::Ident(id)) if id == name);
            let first_literal = match trees.get(at + 7) {
                Some(TokenTree::Group(group)) => group.stream().into_iter().next().map(|t| t.to_string()),
                _ => None,
            };
            ident(0, "progenitor_client")
                && ident(3, "QueryParam")
                && ident(6, "new")
                && first_literal.is_some_and(|literal| deep_objects.iter().any(|name| literal == format!("{name:?}")))
        };
        match &trees[index] {
            TokenTree::Group(group) => {
                let mut rewritten =
                    proc_macro2::Group::new(group.delimiter(), deep_object_params(group.stream(), deep_objects));
                rewritten.set_span(group.span());
                out.push(TokenTree::Group(rewritten));
                index += 1;
            }
            _ if is_call(index) => {
                out.extend(quote!(super::DeepObjectParam::new));
                out.push(trees[index + 7].clone());
                index += 8;
            }
            tree => {
                out.push(tree.clone());
                index += 1;
            }
        }
    }
    out.into_iter().collect()
}

/// The serializer of a `deepObject` query parameter, beside the client's builders.
fn deep_object_param() -> TokenStream {
    quote! {
        /// A `deepObject` query parameter: each property of the value as `name[property]=value`.
        #[doc(hidden)]
        pub struct DeepObjectParam<'a, T> {
            name: &'a str,
            value: &'a T,
        }

        impl<'a, T> DeepObjectParam<'a, T> {
            pub fn new(name: &'a str, value: &'a T) -> Self {
                Self { name, value }
            }
        }

        impl<T: ::serde::Serialize> ::serde::Serialize for DeepObjectParam<'_, T> {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                let text = |value: ::serde_json::Value| match value {
                    ::serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                let value = ::serde_json::to_value(self.value).map_err(<S::Error as ::serde::ser::Error>::custom)?;
                let pairs: ::std::vec::Vec<(::std::string::String, ::std::string::String)> = match value {
                    ::serde_json::Value::Null => ::std::vec::Vec::new(),
                    ::serde_json::Value::Object(members) => members
                        .into_iter()
                        .filter(|(_, member)| !member.is_null())
                        .map(|(key, member)| (::std::format!("{}[{}]", self.name, key), text(member)))
                        .collect(),
                    other => ::std::vec![(self.name.to_owned(), text(other))],
                };
                ::serde::Serialize::serialize(&pairs, serializer)
            }
        }
    }
}

/// The generated client with each renamed parameter's wire name back in its string literals
/// (progenitor names a parameter's Rust argument and its wire key from one string, so two
/// parameters whose names differ only in case or punctuation, `maxResults` and
/// `max_results`, would be one argument twice; they are given distinct names, and their wire
/// keys restored here).
fn restore_wire_names(tokens: TokenStream, wire_names: &WireNames) -> TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    if wire_names.is_empty() {
        return tokens;
    }
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut restored = Group::new(group.delimiter(), restore_wire_names(group.stream(), wire_names));
                restored.set_span(group.span());
                TokenTree::Group(restored)
            }
            TokenTree::Literal(literal) => {
                let text = literal.to_string();
                match wire_names.iter().find(|(given, _)| text == format!("{given:?}")) {
                    Some((_, wire)) => TokenTree::Literal(Literal::string(wire)),
                    None => TokenTree::Literal(literal),
                }
            }
            other => other,
        })
        .collect()
}

/// The document progenitor sees: the spec with operation schemas hoisted and the
/// client-side adjustments described in the module docs.
fn progenitor_document(api: &Api, spec: &Value) -> Result<(Value, Rewrites)> {
    let mut wire_names = WireNames::new();
    let mut deep_objects = Vec::new();
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
        // A path parameter keeps its name (the path template names it); another one whose
        // argument name is taken gets a free one.
        let mut argument_names: std::collections::BTreeSet<String> =
            op.params_in(ParamLocation::Path).map(|p| rust_field_name(&p.name)).collect();
        for param in &op.params {
            let raw = find_parameter(spec, source, &op.location, &components, param.location.as_str(), &param.name)
                .with_context(|| format!("{}: parameter {} vanished", op.location, param.name))?;
            let mut raw = raw.clone();
            // As the model reads it: a path parameter is required even where the spec forgot to
            // say so; a client-supplied header is optional.
            raw["required"] = Value::Bool(param.required && !param.client_supplied);
            if let Some(schema) = raw.get_mut("schema") {
                hoist(schema, &param.ty, &mut hoisted);
            }
            // What progenitor does not read: a `deepObject` is sent as one (below,
            // `deep_object_params`); an object or array in a text of its own, or JSON text, is
            // the caller's text.
            if let Some(object) = raw.as_object_mut() {
                match (param.object, param.separator) {
                    (Some(ObjectText::Deep), _) => {
                        object.insert("style".into(), json!("form"));
                        object.insert("explode".into(), json!(true));
                        deep_objects.push(param.name.clone());
                    }
                    (Some(ObjectText::QueryKeys), _) => {
                        object.remove("style");
                    }
                    (Some(ObjectText::Joined | ObjectText::Exploded | ObjectText::Json), _) | (None, ' ' | '|') => {
                        object.remove("content");
                        object.remove("style");
                        object.remove("explode");
                        object.insert("schema".into(), json!({"type": "string"}));
                    }
                    (None, _) => {
                        // A scalar's style says nothing progenitor needs (a `deepObject` scalar
                        // is one key, as `form` writes it).
                        if param.location == ParamLocation::Query {
                            object.remove("style");
                        }
                    }
                }
            }
            let natural = rust_field_name(&param.name);
            if param.location != ParamLocation::Path && !argument_names.insert(natural.clone()) {
                let given = first_free(&format!("{natural}_{}", param.location.as_str()), "_", |name| {
                    argument_names.contains(name)
                });
                argument_names.insert(given.clone());
                raw["name"] = Value::String(given.clone());
                wire_names.push((given, param.name.clone()));
            }
            params.push(raw);
        }
        operation["parameters"] = Value::Array(params);

        if let Some(body) = &op.body {
            let raw = resolve(&operation["requestBody"], &components).clone();
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

        let raw_responses = resolve_all_responses(source, &components);
        let responses = progenitor_responses(op, &raw_responses, &type_names, &mut hoisted, &mut unions);
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
    name_deep_references(api, spec, &mut document);
    drop_patterns_progenitor_refuses(&mut document);
    deep_objects.sort();
    deep_objects.dedup();
    Ok((document, Rewrites { wire_names, deep_objects }))
}

/// Points every `$ref` to a schema deeper than a component (`#/components/schemas/Tag/allOf/0`,
/// `#/paths/…/schema`), which typify resolves only in `components/schemas`, at the component
/// the model named for it (`TagAllOf0`), adding that component.
fn name_deep_references(api: &Api, spec: &Value, document: &mut Value) {
    fn walk(value: &mut Value, names: &std::collections::HashMap<&str, &str>, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(members) => {
                if let Some(Value::String(reference)) = members.get_mut("$ref") {
                    let is_component =
                        reference.strip_prefix("#/components/schemas/").is_some_and(|rest| !rest.contains('/'));
                    if !is_component && let Some(name) = names.get(reference.as_str()) {
                        found.push((reference.clone(), (*name).to_owned()));
                        *reference = format!("#/components/schemas/{}", pointer_token(name));
                    }
                }
                members.values_mut().for_each(|member| walk(member, names, found));
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, names, found)),
            _ => {}
        }
    }
    let names: std::collections::HashMap<&str, &str> =
        api.types.iter().map(|t| (t.location.as_str(), t.name.as_str())).collect();
    let mut found = Vec::new();
    walk(document, &names, &mut found);
    let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    for (reference, name) in found {
        if !schemas.contains_key(&name)
            && let Some(target) = spec.pointer(reference.trim_start_matches('#'))
        {
            // The type is replaced by the model's anyway; a schema typify would not read (one
            // under a keyword no converter knew, `definitions`) stands in as any value.
            let readable = serde_json::from_value::<openapiv3::Schema>(target.clone()).is_ok();
            schemas.insert(name, if readable { target.clone() } else { json!({}) });
        }
    }
}

/// Leaves out every `pattern` progenitor cannot compile (outside ECMA-262, such as `(?i)`):
/// the client then does not check it, the server still does (the model warned).
fn drop_patterns_progenitor_refuses(value: &mut Value) {
    match value {
        Value::Object(members) => {
            if members.get("pattern").and_then(Value::as_str).is_some_and(|p| !is_ecma_pattern(p)) {
                members.remove("pattern");
            }
            // typify asserts that a `format` stands beside a string or a number (`type: object,
            // format: file` and `format: string` alone are written in real specs); the server's
            // types never read a format of another type either.
            let typed = members.get("type").and_then(Value::as_str);
            if members.get("format").is_some_and(Value::is_string)
                && !matches!(typed, Some("string" | "integer" | "number"))
            {
                members.remove("format");
            }
            members.values_mut().for_each(drop_patterns_progenitor_refuses);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_patterns_progenitor_refuses),
        _ => {}
    }
}

/// Leaves out every `default` (typify refuses a document with a default its schema does not
/// take; the server's types apply the defaults, and the client sends what the caller sets).
fn drop_defaults(value: &mut Value) {
    fn walk(value: &mut Value, names_properties: bool) {
        match value {
            Value::Object(members) => {
                // In a map of names (`properties`, `responses`, a discriminator's `mapping`, …),
                // `default` is a name, not the keyword.
                if !names_properties {
                    members.remove("default");
                }
                for (key, member) in members.iter_mut() {
                    let names = matches!(
                        key.as_str(),
                        "properties"
                            | "responses"
                            | "mapping"
                            | "examples"
                            | "headers"
                            | "links"
                            | "content"
                            | "callbacks"
                            | "schemas"
                            | "parameters"
                            | "requestBodies"
                            | "securitySchemes"
                            | "paths"
                    );
                    walk(member, names);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, false)),
            _ => {}
        }
    }
    walk(value, false);
}

/// An operation's responses, references followed, by status key.
fn resolve_all_responses(operation: &Value, components: &Value) -> Map<String, Value> {
    operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| (status.clone(), resolve(response, components).clone()))
        .collect()
}

/// The responses progenitor sees for `op`. progenitor reads 2xx (and `default`) as successes
/// and 4xx, 5xx (and `default`) as errors, each group with one body type, and ignores the
/// rest. So: 3xx responses are left out (the client reports them as unexpected, status
/// and all); an error `default` becomes `4XX` and `5XX`; a group whose JSON bodies differ
/// gets their `oneOf`; successes that mix bodies and none, or JSON and other media, are all
/// raw; error responses without a JSON body beside ones with it are left out.
fn progenitor_responses(
    op: &Operation,
    raw: &Map<String, Value>,
    type_names: &[&str],
    hoisted: &mut Map<String, Value>,
    unions: &mut Map<String, Value>,
) -> Map<String, Value> {
    let mut successes: Vec<&Response> = op
        .responses
        .iter()
        .filter(|r| matches!(r.status, Status::Code(100..=299) | Status::Range(1 | 2) | Status::Default))
        .collect();
    // progenitor reads a 101 as a protocol upgrade, a kind of its own that no other success
    // may stand beside: beside others, it is left out (the client reports it as unexpected).
    if successes.len() > 1 {
        successes.retain(|r| !matches!(r.status, Status::Code(101)));
    }
    let errors: Vec<&Response> = op.errors.iter().collect();
    let mut out = Map::new();
    for (group, kind) in [(successes, "Response"), (errors, "Error")] {
        let is_json = |r: &&Response| r.content.as_ref().is_some_and(|c| c.kind == MediaKind::Json);
        let typed: Vec<&Response> = group.iter().copied().filter(is_json).collect();
        let mut distinct: Vec<&TypeRef> = Vec::new();
        for response in &typed {
            let ty = &response.content.as_ref().expect("typed").ty;
            if !distinct.contains(&ty) {
                distinct.push(ty);
            }
        }
        let all_typed = typed.len() == group.len();
        let union = (distinct.len() > 1).then(|| union_name(&op.pascal_name, kind, type_names));
        let any_body = group.iter().any(|r| r.content.is_some());
        for response in group {
            // The model supplies a response the spec lacks (a 204 for an operation that declares
            // only errors): it has no source to read.
            let source = raw.get(&response.status.key()).unwrap_or(&Value::Null);
            let mut entry = json!({ "description": source.get("description").cloned().unwrap_or(json!("")) });
            if !response.headers.is_empty() {
                entry["headers"] = source.get("headers").cloned().unwrap_or(json!({}));
            }
            // A response's own schema (each alternative of a union is read from its response).
            let json_schema = |response: &Response, hoisted: &mut Map<String, Value>| {
                let content = response.content.as_ref().expect("typed");
                let mut schema = raw.get(&response.status.key()).unwrap_or(&Value::Null)["content"]
                    [&content.media_type]
                    .get("schema")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                hoist(&mut schema, &content.ty, hoisted);
                schema
            };
            let raw_body = json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
            match (kind, is_json(&response)) {
                // Errors: the typed ones if any, else the rest as they are (raw or none).
                ("Error", false) if !typed.is_empty() => continue,
                ("Error", false) if any_body => entry["content"] = raw_body,
                ("Error", false) => {}
                // Successes: typed when all are JSON, none when none has a body, else raw.
                (_, true) if kind == "Error" || all_typed => {
                    let schema = match &union {
                        None => json_schema(response, hoisted),
                        Some(name) => {
                            if !unions.contains_key(name) {
                                let mut alternatives: Vec<Value> = Vec::new();
                                for other in &typed {
                                    let schema = json_schema(other, hoisted);
                                    if !alternatives.contains(&schema) {
                                        alternatives.push(schema);
                                    }
                                }
                                unions.insert(name.clone(), json!({ "oneOf": alternatives }));
                            }
                            json!({ "$ref": format!("#/components/schemas/{}", pointer_token(name)) })
                        }
                    };
                    entry["content"] = json!({"application/json": {"schema": schema}});
                }
                _ if any_body => entry["content"] = raw_body,
                _ => {}
            }
            let key = match (kind, response.status) {
                ("Error", Status::Default) => {
                    for range in ["4XX", "5XX"] {
                        if !raw.contains_key(range) {
                            out.insert(range.to_owned(), entry.clone());
                        }
                    }
                    continue;
                }
                _ => response.status.key(),
            };
            out.insert(key, entry);
        }
    }
    out
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
        .map(|p| resolve(p, components))
        .find(|p| p["in"] == place && p["name"] == name)
}

/// Follows a `$ref` into `#/components/<section>/`.
/// Follows a `$ref` into the document's `components` (see `model::follow_component_ref`).
fn resolve<'v>(value: &'v Value, components: &'v Value) -> &'v Value {
    follow_component_ref(components, value).unwrap_or(&Value::Null)
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

/// The command line with each `todo!()` progenitor leaves for an answer that is not JSON
/// (a CSV export, a file) replaced by a call of the holding crate's `crate::print_raw`, which
/// copies the answer's bytes to standard output (on success) or reports its status (on
/// failure).
fn raw_answers_printed(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let is_todo = |group: &Group| {
        let inner: Vec<String> = group.stream().into_iter().map(|t| t.to_string()).collect();
        inner == ["todo", "!", "()"]
    };
    trees
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) if group.delimiter() == proc_macro2::Delimiter::Brace && is_todo(&group) => {
                let mut printed = Group::new(group.delimiter(), quote!(crate::print_raw(r).await));
                printed.set_span(group.span());
                TokenTree::Group(printed)
            }
            TokenTree::Group(group) => {
                let mut rewritten = Group::new(group.delimiter(), raw_answers_printed(group.stream()));
                rewritten.set_span(group.span());
                TokenTree::Group(rewritten)
            }
            other => other,
        })
        .collect()
}

/// The item type of `::std::vec::Vec<Item>`.
fn vec_item(tokens: TokenStream) -> Option<syn::Type> {
    let syn::Type::Path(path) = syn::parse2::<syn::Type>(tokens).ok()? else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match (last.ident == "Vec", arguments.args.first()) {
        (true, Some(syn::GenericArgument::Type(item))) if arguments.args.len() == 1 => Some(item.clone()),
        _ => None,
    }
}

/// The command line with each array parameter a repeated flag (`--ids 1 --ids 2`), where
/// progenitor parses one flag as the whole array, which clap cannot do: its parser names the
/// item type and appends, and the value is read with `get_many`.
fn array_flags_repeated(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut index = 0;
    while index < trees.len() {
        let ident = |at: usize, name: &str| matches!(trees.get(at), Some(TokenTree::Ident(id)) if id == name);
        // `.value_parser(::clap::value_parser!(::std::vec::Vec<Item>))`
        if ident(index, "value_parser")
            && let Some(TokenTree::Group(group)) = trees.get(index + 1)
            && group.delimiter() == Delimiter::Parenthesis
            && let Ok(call) = syn::parse2::<syn::ExprMacro>(group.stream())
            && let Some(item) = vec_item(call.mac.tokens.clone())
        {
            out.extend(quote!(value_parser(::clap::value_parser!(#item)).action(::clap::ArgAction::Append)));
            index += 2;
            continue;
        }
        // `.get_one::<::std::vec::Vec<Item>>("name")`
        if ident(index, "get_one") {
            let mut depth = 0usize;
            let mut end = None;
            for (at, tree) in trees.iter().enumerate().skip(index + 3) {
                match tree {
                    TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                    TokenTree::Punct(p) if p.as_char() == '>' && depth == 0 => {
                        end = Some(at);
                        break;
                    }
                    TokenTree::Punct(p) if p.as_char() == '>' => depth -= 1,
                    _ => {}
                }
            }
            let opens = matches!(trees.get(index + 3), Some(TokenTree::Punct(p)) if p.as_char() == '<');
            if opens
                && let Some(end) = end
                && let Some(TokenTree::Group(arguments)) = trees.get(end + 1)
                && let Some(item) = vec_item(trees[index + 4..end].iter().cloned().collect())
            {
                out.extend(quote!(get_many::<#item>));
                out.push(TokenTree::Group(arguments.clone()));
                out.extend(quote!(.map(|values| values.cloned().collect::<::std::vec::Vec<_>>())));
                index = end + 2;
                continue;
            }
        }
        match &trees[index] {
            TokenTree::Group(group) => {
                let mut rewritten = Group::new(group.delimiter(), array_flags_repeated(group.stream()));
                rewritten.set_span(group.span());
                out.push(TokenTree::Group(rewritten));
            }
            tree => out.push(tree.clone()),
        }
        index += 1;
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    /// Several JSON success bodies become one `oneOf` of each response's own schema.
    #[test]
    fn several_success_bodies_become_one_union_of_their_own_schemas() {
        let spec = r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /things:
    get:
      operationId: list_things
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
        "203": {description: cached, content: {application/json: {schema: {type: string}}}}
components:
  schemas:
    Thing: {type: object, properties: {name: {type: string}}}
"##;
        let api = model::load(spec).unwrap();
        let document = progenitor_document(&api, &api.document).unwrap().0;
        assert_eq!(
            document["components"]["schemas"]["ListThingsResponseBody"],
            json!({"oneOf": [{"$ref": "#/components/schemas/Thing"}, {"type": "string"}]})
        );
        let responses = &document["paths"]["/things"]["get"]["responses"];
        for status in ["200", "203"] {
            let reference = &responses[status]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(reference, "#/components/schemas/ListThingsResponseBody");
        }
    }

    /// An operation that declares only errors answers the 204 the model gives it, which the
    /// spec has no entry for.
    #[test]
    fn an_operation_declaring_only_errors_gets_a_client() {
        let spec = r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /status:
    get:
      operationId: show_status
      responses:
        "404": {description: no, content: {application/json: {schema: {type: object, properties: {m: {type: string}}}}}}
"##;
        let api = model::load(spec).unwrap();
        let document = progenitor_document(&api, &api.document).unwrap().0;
        assert_eq!(document["paths"]["/status"]["get"]["responses"]["204"]["description"], "");
        generate(&api, &Layout::workspace()).expect("the client generates");
    }
}
