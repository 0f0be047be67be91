//! Generates the dropshot API trait (`squared-api`): no existing tool does this.
//!
//! One trait method per operation, with the path, query and header parameters gathered
//! into one struct per location (dropshot's `Path`, `Query` and `Header` extractors, and
//! `ArrayQuery` for array query parameters), the request body as `TypedBody`,
//! `OptionalBody` or `UntypedBody`, and what the method answers and fails with as
//! `trait_responses` decides (the [`Layout`]'s hand-written error type, or one generated per
//! operation). A `security` module names each operation's requirements. The trait is the
//! whole contract: a server that implements it serves the spec.
//!
//! Operations dropshot's router cannot hold at their own paths (see `routing`) are plain
//! methods of the trait, called by a provided, unpublished endpoint that routes their
//! requests; documentation-only traits declare them at their own paths, and
//! `stub_api_descriptions` lists every description the OpenAPI document is made of.

use anyhow::{Result, bail};
use heck::{ToPascalCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Layout;
use super::model::{
    Api, MediaKind, ObjectText, Operation, Param, ParamLocation, TypeKind, TypeRef, first_free, rust_field_name,
};
use super::routing::{self, Dispatcher, Routing, Served};
use super::trait_responses;
use super::types::{TypePath, field_tokens, rust_type};

/// The name of the generated trait.
pub const TRAIT_NAME: &str = "SquaredApi";

/// The name of the `layer`th documentation-only trait (see `routing`).
pub fn documentation_trait_name(layer: usize) -> String {
    format!("{TRAIT_NAME}Routed{}", layer + 1)
}

fn param_struct(
    api: &Api,
    layout: &Layout,
    op: &Operation,
    location: ParamLocation,
    items: &mut Vec<TokenStream>,
) -> Option<syn::Ident> {
    let params: Vec<&Param> = op.params_in(location).collect();
    if params.is_empty() {
        return None;
    }
    let suffix = match location {
        ParamLocation::Path => "Path",
        ParamLocation::Query => "Query",
        ParamLocation::Header => "Headers",
    };
    let name = format_ident!("{}{suffix}", op.pascal_name);
    let doc = format!(" The {} parameters of `{}`.", location.as_str(), op.operation_id);
    let fields = params.iter().map(|p| {
        if let Some(text) = p.object {
            let (field, helper) = object_param_field(layout, p, text, &name.to_string());
            return (field, vec![helper]);
        }
        if let (ParamLocation::Query, TypeRef::Array(_)) = (location, &p.ty) {
            return (array_query_field(layout, p), Vec::new());
        }
        let field = p.as_field();
        field_tokens(&field, &name.to_string(), TypePath::Module(&layout.types))
    });
    let repeated: Vec<&str> = params
        .iter()
        .filter(|p| {
            location == ParamLocation::Query && matches!(p.ty, TypeRef::Array(_)) && p.explode && p.object.is_none()
        })
        .map(|p| p.name.as_str())
        .collect();
    let support = path_tokens(&layout.support);
    let objects: Vec<TokenStream> = if location == ParamLocation::Query {
        params.iter().filter_map(|p| object_keys(api, &support, p, &params)).collect()
    } else {
        Vec::new()
    };
    let has_arrays = location == ParamLocation::Query
        && params.iter().any(|p| matches!(p.ty, TypeRef::Array(_)) && p.object.is_none());
    let repeated_keys = (has_arrays || !objects.is_empty()).then(|| {
        quote! {
            impl #support::RepeatedKeys for #name {
                const REPEATED: &'static [&'static str] = &[#(#repeated),*];
                const OBJECTS: &'static [(&'static str, #support::ObjectKeys)] = &[#(#objects),*];
            }
        }
    });
    let (fields, helper_fns): (Vec<_>, Vec<_>) = fields.unzip();
    let helper_fns = helper_fns.into_iter().flatten();
    items.push(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, ::serde::Deserialize, ::schemars::JsonSchema)]
        pub struct #name {
            #(#fields)*
        }

        #repeated_keys

        #(#helper_fns)*
    });
    Some(name)
}

/// A query parameter that is an array: read by `ArrayQuery` from a repeated key (or one
/// comma-separated value when `explode: false`), and described as a string, the nearest
/// dropshot takes (it describes only scalar query parameters).
fn array_query_field(layout: &Layout, p: &Param) -> TokenStream {
    let ident = format_ident!("{}", p.rust_name);
    let wire = &p.name;
    let inner = rust_type(&p.ty, TypePath::Module(&layout.types));
    let read = match (p.explode, p.separator) {
        (true, _) => "repeated",
        (false, ' ') => "space_separated",
        (false, '|') => "pipe_separated",
        (false, _) => "comma_separated",
    };
    let read = format!("{}::{read}", layout.support);
    let docs = p.description.as_ref().map(|d| {
        let line = format!(" {d}");
        quote!(#[doc = #line] #[schemars(description = #d)])
    });
    if p.required {
        quote! {
            #docs
            #[serde(rename = #wire, deserialize_with = #read)]
            #[schemars(with = "::std::string::String")]
            pub #ident: #inner,
        }
    } else {
        quote! {
            #docs
            #[serde(rename = #wire, default, deserialize_with = #read)]
            #[schemars(with = "::std::string::String")]
            pub #ident: ::std::option::Option<#inner>,
        }
    }
}

/// Which keys of the query hold an object parameter's properties (`ArrayQuery` gathers them),
/// when they are keys of their own.
fn object_keys(api: &Api, support: &TokenStream, p: &Param, params: &[&Param]) -> Option<TokenStream> {
    let wire = &p.name;
    match p.object? {
        ObjectText::Deep => Some(quote!((#wire, #support::ObjectKeys::Deep))),
        ObjectText::QueryKeys => {
            let properties = match &p.ty {
                TypeRef::Named(type_name) => {
                    api.types.iter().find(|t| &t.name == type_name).and_then(|t| match &t.kind {
                        TypeKind::Struct { fields, extra_properties: None, .. } => {
                            Some(fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>())
                        }
                        _ => None,
                    })
                }
                _ => None,
            };
            Some(match properties {
                Some(properties) => quote!((#wire, #support::ObjectKeys::Properties(&[#(#properties),*]))),
                None => {
                    let others = params.iter().filter(|o| o.name != p.name).map(|o| o.name.as_str());
                    quote!((#wire, #support::ObjectKeys::Rest(&[#(#others),*])))
                }
            })
        }
        _ => None,
    }
}

/// A parameter that holds an object (or, described by `content`, a JSON value): read from its
/// text by `object_from_text`, and described as a string, the nearest dropshot takes.
fn object_param_field(layout: &Layout, p: &Param, text: ObjectText, struct_name: &str) -> (TokenStream, TokenStream) {
    let support = path_tokens(&layout.support);
    let ident = format_ident!("{}", p.rust_name);
    let wire = &p.name;
    let inner = rust_type(&p.ty, TypePath::Module(&layout.types));
    let form = format_ident!(
        "{}",
        match text {
            ObjectText::Deep | ObjectText::QueryKeys => "Nested",
            ObjectText::Joined => "Joined",
            ObjectText::Exploded => "Exploded",
            ObjectText::Json => "Json",
        }
    );
    let helper = format_ident!("read_{}_{}", struct_name.to_snake_case(), p.rust_name);
    let helper_path = helper.to_string();
    let docs = p.description.as_ref().map(|d| {
        let line = format!(" {d}");
        quote!(#[doc = #line] #[schemars(description = #d)])
    });
    let (ty, wrap, default) = if p.required {
        (quote!(#inner), quote!(value), None)
    } else {
        (quote!(::std::option::Option<#inner>), quote!(::std::option::Option::Some(value)), Some(quote!(default,)))
    };
    let field = quote! {
        #docs
        #[serde(rename = #wire, #default deserialize_with = #helper_path)]
        #[schemars(with = "::std::string::String")]
        pub #ident: #ty,
    };
    let helper = quote! {
        fn #helper<'de, D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<#ty, D::Error> {
            let text = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
            let value = #support::object_from_text::<#inner>(&text, #support::ObjectText::#form)
                .map_err(<D::Error as ::serde::de::Error>::custom)?;
            ::std::result::Result::Ok(#wrap)
        }
    };
    (field, helper)
}

/// What an operation's method takes: its extractors, in the order the method lists them.
struct Inputs {
    /// (argument, extractor type, whether dropshot's `ExclusiveExtractor` reads it).
    args: Vec<(syn::Ident, TokenStream, bool)>,
    /// The `content_type` of the endpoint attribute, for a form body.
    content_type: Option<TokenStream>,
    form: bool,
}

fn inputs(api: &Api, layout: &Layout, op: &Operation, structs: &mut Vec<TokenStream>) -> Inputs {
    let support = path_tokens(&layout.support);
    let mut args = Vec::new();
    for (location, arg, extractor) in [
        (ParamLocation::Path, "path", quote!(::dropshot::Path)),
        (ParamLocation::Query, "query", quote!(::dropshot::Query)),
        (ParamLocation::Header, "headers", quote!(::dropshot::Header)),
    ] {
        // Arrays and objects whose keys repeat or spread are gathered first.
        let gathered = location == ParamLocation::Query
            && op.params_in(location).any(|p| match p.object {
                None => matches!(p.ty, TypeRef::Array(_)),
                Some(text) => matches!(text, ObjectText::Deep | ObjectText::QueryKeys),
            });
        let extractor = if gathered { quote!(#support::ArrayQuery) } else { extractor };
        if let Some(struct_name) = param_struct(api, layout, op, location, structs) {
            args.push((format_ident!("{arg}"), quote!(#extractor<#struct_name>), false));
        }
    }
    let mut form = false;
    if let Some(body) = &op.body {
        let ty = rust_type(&body.content.ty, TypePath::Module(&layout.types));
        let extractor = match (body.content.kind, body.required) {
            (MediaKind::Text | MediaKind::Binary, _) => quote!(::dropshot::UntypedBody),
            (_, true) => quote!(::dropshot::TypedBody<#ty>),
            (_, false) => quote!(#support::OptionalBody<#ty>),
        };
        form = body.content.kind == MediaKind::Form;
        args.push((format_ident!("body"), extractor, true));
    }
    let content_type = form.then(|| quote!(, content_type = "application/x-www-form-urlencoded"));
    Inputs { args, content_type, form }
}

fn op_docs(op: &Operation) -> TokenStream {
    match (&op.summary, &op.description) {
        (Some(summary), Some(description)) => doc_lines(&format!("{summary}\n\n{description}")),
        (Some(text), None) | (None, Some(text)) => doc_lines(text),
        (None, None) => quote!(),
    }
}

/// The endpoint of an operation at `op.path`: in the served trait, or in a documentation one.
fn endpoint_tokens(op: &Operation, inputs: &Inputs, (response, error): &(TokenStream, TokenStream)) -> TokenStream {
    let name = format_ident!("{}", op.rust_name);
    let operation_id = (op.rust_name != op.operation_id).then(|| {
        let id = &op.operation_id;
        quote!(, operation_id = #id)
    });
    let method = format_ident!("{}", op.method);
    let path = routing::documented_path(&op.path);
    let tags = &op.tags;
    let docs = op_docs(op);
    let content_type = &inputs.content_type;
    let args = inputs.args.iter().map(|(arg, ty, _)| quote!(#arg: #ty));
    quote! {
        #docs
        #[endpoint { method = #method, path = #path, tags = [#(#tags),*] #operation_id #content_type }]
        async fn #name(
            rqctx: ::dropshot::RequestContext<Self::Context>,
            #(#args),*
        ) -> ::std::result::Result<#response, #error>;
    }
}

/// A dispatched operation's method in the served trait: what its endpoint would be, as a plain
/// method its dispatcher calls.
fn dispatched_method_tokens(
    op: &Operation,
    dispatcher: &str,
    inputs: &Inputs,
    (response, error): &(TokenStream, TokenStream),
) -> TokenStream {
    let name = format_ident!("{}", op.rust_name);
    let docs = op_docs(op);
    let doc = format!(
        " `{} {}`, served through `{dispatcher}`: dropshot's router cannot hold this path beside the others at its \
         place, so that endpoint routes the request here, with the parameters and body extracted as this \
         operation's own endpoint would.",
        op.method, op.path
    );
    let args = inputs.args.iter().map(|(arg, ty, _)| quote!(#arg: #ty));
    quote! {
        #docs
        ///
        #[doc = #doc]
        fn #name(
            rqctx: ::dropshot::RequestContext<Self::Context>,
            #(#args),*
        ) -> impl ::std::future::Future<Output = ::std::result::Result<#response, #error>> + Send + 'static;
    }
}

/// The endpoint that serves `dispatcher`'s operations, with the body that routes them.
fn dispatcher_tokens(
    api: &Api,
    layout: &Layout,
    name: &syn::Ident,
    dispatcher: &Dispatcher,
    inputs: &[Inputs],
    answers: &[(TokenStream, TokenStream)],
    path_struct: &syn::Ident,
) -> TokenStream {
    let support = path_tokens(&layout.support);
    let fallback_error = match &layout.error {
        Some(error) => path_tokens(error),
        None => quote!(::dropshot::HttpError),
    };
    let method = format_ident!("{}", dispatcher.method);
    let served_path = &dispatcher.served_path;
    let mut takes_body = false;
    let branches = dispatcher.candidates.iter().map(|candidate| {
        let checks = candidate.literals.iter().map(|(variable, literal)| {
            let field = format_ident!("{}", rust_field_name(variable));
            quote!(variables.#field == #literal)
        });
        let conditions = candidate.conditions.iter().map(|condition| {
            let name = &condition.name;
            let value = match &condition.value {
                Some(value) => quote!(::std::option::Option::Some(#value)),
                None => quote!(::std::option::Option::None),
            };
            match condition.location {
                ParamLocation::Header => quote!(#support::header_holds(&rqctx, #name, #value)),
                _ => quote!(#support::query_holds(&rqctx, #name, #value)),
            }
        });
        let checks: Vec<TokenStream> = checks.chain(conditions).collect();
        let condition = if checks.is_empty() { quote!(true) } else { quote!(#(#checks)&&*) };
        // Mixed segments (`{name}:cancel`) match, and give their variables, last.
        let templates = candidate.templates.iter().map(|(held, template)| {
            let field = format_ident!("{}", rust_field_name(held));
            quote!((#template, variables.#field.as_str()))
        });
        let templates: Vec<TokenStream> = templates.collect();
        let own = candidate.operations.iter().find(|&&index| api.operations[index].method == dispatcher.method);
        let answer = match own {
            Some(&index) => {
                let op = &api.operations[index];
                let inputs = &inputs[index];
                let (_, error) = &answers[index];
                let operation_id = &op.operation_id;
                let method_name = format_ident!("{}", op.rust_name);
                let renames = candidate.renames.iter().map(|(own, held)| quote!((#own, #held)));
                let content_type =
                    if inputs.form { quote!(UrlEncoded) } else { quote!(Json) };
                let mixed = !candidate.templates.is_empty();
                let extractions = inputs.args.iter().map(|(arg, ty, exclusive)| {
                    if mixed && arg == "path" {
                        // A path with mixed segments: its variables' texts, parsed as dropshot
                        // would, handed over in the `Path` the operation takes.
                        let own_path = format_ident!("{}Path", op.pascal_name);
                        let renamed = candidate.renames.iter().map(|(own, held)| {
                            let field = format_ident!("{}", rust_field_name(held));
                            quote!((#own.to_owned(), variables.#field.clone()))
                        });
                        quote! {
                            let mut texts: ::std::vec::Vec<(::std::string::String, ::std::string::String)> = ::std::vec![#(#renamed),*];
                            texts.extend(captured);
                            let own: #own_path = #support::path_from_segments(&texts).map_err(<#error>::from)?;
                            let #arg = <::dropshot::Path<#support::AnyPath> as ::dropshot::SharedExtractor>::from_request(&rqctx)
                                .await
                                .map_err(<#error>::from)?
                                .map(|_| own);
                        }
                    } else if *exclusive {
                        takes_body = true;
                        quote! {
                            let #arg = <#ty as ::dropshot::ExclusiveExtractor>::from_request(&rqctx, request.into_inner())
                                .await
                                .map_err(<#error>::from)?;
                        }
                    } else {
                        quote! {
                            let #arg = <#ty as ::dropshot::SharedExtractor>::from_request(&rqctx).await.map_err(<#error>::from)?;
                        }
                    }
                });
                let args = inputs.args.iter().map(|(arg, _, _)| arg);
                quote! {
                    #support::Dispatched::from_outcome(async move {
                        let rqctx = #support::reroute(
                            rqctx,
                            #operation_id,
                            &[#(#renames),*],
                            ::dropshot::ApiEndpointBodyContentType::#content_type,
                        );
                        #(#extractions)*
                        Self::#method_name(rqctx, #(#args),*).await
                    }.await)
                }
            }
            None => {
                let mut allow: Vec<&str> =
                    candidate.operations.iter().map(|&index| api.operations[index].method.as_str()).collect();
                allow.sort();
                let allow = allow.join(", ");
                quote!(#support::Dispatched::method_not_allowed::<#fallback_error>(#allow))
            }
        };
        let captured = if own.is_some() && !candidate.templates.is_empty() { quote!(captured) } else { quote!(_) };
        quote! {
            if #condition {
                if let ::std::option::Option::Some(#captured) = #support::match_segments(&[#(#templates),*]) {
                    return ::std::result::Result::Ok(#answer);
                }
            }
        }
    });
    let branches: Vec<TokenStream> = branches.collect();
    let request = if takes_body { format_ident!("request") } else { format_ident!("_request") };
    let paths: Vec<&str> = dispatcher.candidates.iter().map(|c| c.path.as_str()).collect();
    let doc = format!(
        " Serves {} {} for {}: dropshot's router holds these paths only as this one. Provided: it calls the \
         operation the request's path names, and answers 404 for a path no operation has and 405 for a method \
         the path does not serve.",
        dispatcher.method,
        served_path,
        paths.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
    );
    let calls_operation = dispatcher
        .candidates
        .iter()
        .any(|c| c.operations.iter().any(|&index| api.operations[index].method == dispatcher.method));
    let has_conditions = dispatcher.candidates.iter().any(|c| !c.conditions.is_empty());
    let rqctx = if calls_operation || has_conditions { format_ident!("rqctx") } else { format_ident!("_rqctx") };
    let uses_variables = dispatcher.candidates.iter().any(|c| !c.literals.is_empty() || !c.templates.is_empty());
    let variables = if uses_variables { format_ident!("variables") } else { format_ident!("_variables") };
    quote! {
        #[doc = #doc]
        #[endpoint { method = #method, path = #served_path, unpublished = true }]
        async fn #name(
            #rqctx: ::dropshot::RequestContext<Self::Context>,
            path: ::dropshot::Path<#path_struct>,
            #request: #support::RawRequest,
        ) -> ::std::result::Result<#support::Dispatched, ::dropshot::HttpError> {
            let #variables = path.into_inner();
            #(#branches)*
            ::std::result::Result::Ok(#support::Dispatched::not_found::<#fallback_error>())
        }
    }
}

/// A path's segments as words (`/syncs/{sync_id}` → `syncs sync_id`), for the names of what
/// serves it.
fn path_words(path: &str) -> String {
    let words: Vec<&str> =
        path.split('/').filter(|s| !s.is_empty()).map(|s| routing::variable(s).unwrap_or(s)).collect();
    words.join(" ")
}

/// The name of each dispatcher's endpoint: its method and served path, numbered when two
/// spell one name or an operation has it.
fn dispatcher_names(api: &Api, routing: &Routing) -> Vec<syn::Ident> {
    let mut taken: Vec<String> = api.operations.iter().map(|op| op.rust_name.clone()).collect();
    routing
        .dispatchers
        .iter()
        .map(|dispatcher| {
            let words = path_words(&dispatcher.served_path);
            let base = rust_field_name(&format!("dispatch {} {words}", dispatcher.method.to_lowercase()));
            let name = first_free(&base, "_", |name| taken.iter().any(|t| t == name));
            taken.push(name.clone());
            format_ident!("{name}")
        })
        .collect()
}

/// With a hand-written error type, every error body of the spec must be one type: the
/// `ErrorBody` alias names it for the hand-written code.
fn single_error_body(api: &Api, layout: &Layout) -> Result<TokenStream> {
    let mut bodies = api
        .operations
        .iter()
        .flat_map(|op| op.errors.iter().filter_map(move |e| e.content.as_ref().map(|c| (c, e, op))));
    let Some((first, _, _)) = bodies.next() else {
        bail!("#/paths: no operation declares an error body; declare the error schema on 4xx responses");
    };
    if let Some((other, response, _)) = bodies.find(|(c, _, _)| c.ty != first.ty || c.kind != MediaKind::Json) {
        bail!(
            "{}: the server trait has one hand-written error type, but this error body ({:?}, {}) differs from the \
             others ({:?}); use one error schema everywhere, or let the generator make an error type per operation",
            response.location,
            other.ty,
            other.media_type,
            first.ty
        );
    }
    let ty = rust_type(&first.ty, TypePath::Module(&layout.types));
    Ok(quote! {
        /// The body of every error response the spec declares.
        pub type ErrorBody = #ty;
    })
}

/// A path written in a [`Layout`], as tokens.
fn path_tokens(path: &str) -> TokenStream {
    path.parse().expect("a layout holds Rust paths")
}

fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| format!(" {line}"));
    quote!(#(#[doc = #lines])*)
}

/// The whole `squared-api` generated module.
pub fn generate(api: &Api, layout: &Layout) -> Result<TokenStream> {
    let spec = &api.document;
    let error_body = match &layout.error {
        Some(_) => Some(single_error_body(api, layout)?),
        None => None,
    };
    let mut structs = Vec::new();
    let framework = trait_responses::framework_error_name(api).filter(|_| layout.error.is_none());
    let answers = api
        .operations
        .iter()
        .map(|op| {
            Ok((
                trait_responses::success_type(layout, op, &mut structs)?,
                trait_responses::error_type(layout, op, framework.is_some(), &mut structs)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(schema_name) = &framework {
        structs.push(trait_responses::framework_error(schema_name));
    }
    let inputs: Vec<Inputs> = api.operations.iter().map(|op| inputs(api, layout, op, &mut structs)).collect();
    let routing = routing::routing(api);
    let dispatcher_names = dispatcher_names(api, &routing);
    let mut methods = Vec::new();
    let mut layers: Vec<Vec<TokenStream>> = vec![Vec::new(); routing.layers];
    for (index, op) in api.operations.iter().enumerate() {
        match routing.served[index] {
            Served::Own => methods.push(endpoint_tokens(op, &inputs[index], &answers[index])),
            Served::Dispatched { dispatcher, layer } => {
                let through = dispatcher_names[dispatcher].to_string();
                methods.push(dispatched_method_tokens(op, &through, &inputs[index], &answers[index]));
                layers[layer].push(endpoint_tokens(op, &inputs[index], &answers[index]));
            }
        }
    }
    // dropshot wants every path variable read by an endpoint: one struct of them all per
    // served path, shared by its methods' dispatchers.
    let mut path_structs: Vec<(&str, syn::Ident)> = Vec::new();
    for dispatcher in &routing.dispatchers {
        let served_path = dispatcher.served_path.as_str();
        if path_structs.iter().any(|(path, _)| *path == served_path) {
            continue;
        }
        let base = format!("Dispatch{}Path", path_words(served_path).to_pascal_case());
        let name = first_free(&base, "", |name| {
            api.types.iter().any(|t| t.name == name) || path_structs.iter().any(|(_, s)| s == name)
        });
        let ident = format_ident!("{name}");
        let fields = served_path.split('/').filter_map(routing::variable).map(|variable| {
            let field = format_ident!("{}", rust_field_name(variable));
            quote!(#[serde(rename = #variable)] pub #field: ::std::string::String,)
        });
        let doc = format!(" The path variables of `{served_path}`, as its dispatching endpoints read them.");
        structs.push(quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, ::serde::Deserialize, ::schemars::JsonSchema)]
            pub struct #ident {
                #(#fields)*
            }
        });
        path_structs.push((served_path, ident));
    }
    for (dispatcher, name) in routing.dispatchers.iter().zip(&dispatcher_names) {
        let path_struct = &path_structs.iter().find(|(path, _)| *path == dispatcher.served_path).expect("made above").1;
        methods.push(dispatcher_tokens(api, layout, name, dispatcher, &inputs, &answers, path_struct));
    }

    let tag_entries: Vec<TokenStream> = spec["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let name = tag["name"].as_str()?;
            let description = tag["description"].as_str().map(|d| quote!(description = #d));
            Some(quote!(#name = { #description }))
        })
        .collect();
    let security_constants = api.operations.iter().map(|op| {
        let constant = format_ident!("{}", heck::ToShoutySnakeCase::to_shouty_snake_case(op.rust_name.as_str()));
        let requirements = op.security.iter().map(|schemes| quote!(&[#(#schemes),*]));
        let doc = format!(
            " `{}`: {}.",
            op.operation_id,
            match op.security.len() {
                0 => "no security requirement".to_owned(),
                _ => "any one of these sets of schemes, all of a set together".to_owned(),
            }
        );
        quote!(#[doc = #doc] pub const #constant: &[&[&str]] = &[#(#requirements),*];)
    });
    let security = quote! {
        /// The security requirements of each operation, as the spec states them (dropshot
        /// cannot declare them): each inner list names schemes that authorise a request
        /// together, and one list suffices. Empty when the operation needs none.
        pub mod security {
            #(#security_constants)*
        }
    };
    // Tags the spec uses without declaring them are allowed (dropshot refuses them otherwise).
    let declared: Vec<&str> =
        spec["tags"].as_array().into_iter().flatten().filter_map(|tag| tag["name"].as_str()).collect();
    let allow_other_tags = api.operations.iter().flat_map(|op| &op.tags).any(|tag| !declared.contains(&tag.as_str()));
    let tag_config = quote! {
        tag_config = {
            allow_other_tags = #allow_other_tags,
            tags = { #(#tag_entries),* }
        }
    };
    let trait_name = format_ident!("{TRAIT_NAME}");
    let trait_doc = format!(" The server side of {} {}: one method per operation of the spec.", api.title, api.version);
    let mut descriptions = vec![format_ident!("{}_mod", TRAIT_NAME.to_snake_case())];
    let documentation_traits = layers.iter().enumerate().map(|(layer, endpoints)| {
        let name = format_ident!("{}", documentation_trait_name(layer));
        descriptions.push(format_ident!("{}_mod", name.to_string().to_snake_case()));
        let doc = format!(
            " Describes, at their own paths, operations `{TRAIT_NAME}` serves through its dispatching endpoints \
             (layer {} of {}: the paths one dropshot router can hold together). Never implemented: its \
             `stub_api_description` completes the OpenAPI document.",
            layer + 1,
            routing.layers
        );
        quote! {
            #[doc = #doc]
            #[::dropshot::api_description { #tag_config }]
            pub trait #name {
                type Context;

                #(#endpoints)*
            }
        }
    });
    let documentation_traits: Vec<TokenStream> = documentation_traits.collect();

    let documented_paths =
        routing::documented_paths(api).into_iter().map(|(declared, spec)| quote!((#declared, #spec)));
    let title = &api.title;
    let version = &api.version;
    let semver = if crate::model::is_semver(version) { version.as_str() } else { "0.0.0" };
    let description = match &api.description {
        Some(d) => quote!(::std::option::Option::Some(#d)),
        None => quote!(::std::option::Option::None),
    };
    Ok(quote! {
        /// `info.title` of the spec.
        pub const API_TITLE: &str = #title;
        /// `info.version` of the spec.
        pub const API_VERSION: &str = #version;
        /// `info.version` as the semantic version dropshot emits (`0.0.0` when it is not one).
        pub const API_SEMVER: &str = #semver;
        /// `info.description` of the spec.
        pub const API_DESCRIPTION: ::std::option::Option<&str> = #description;
        /// (path a documentation trait declares, spec path) for the operations dropshot cannot
        /// declare at their spec paths (a `#fragment` after a variable).
        pub const DOCUMENTED_PATHS: &[(&str, &str)] = &[#(#documented_paths),*];

        #error_body

        #security

        #(#structs)*

        #[doc = #trait_doc]
        #[::dropshot::api_description { #tag_config }]
        pub trait #trait_name {
            /// The server's shared state.
            type Context;

            #(#methods)*
        }

        #(#documentation_traits)*

        /// The descriptions whose OpenAPI documents together describe the spec: the served
        /// trait's, and its documentation traits'.
        pub fn stub_api_descriptions() -> ::std::vec::Vec<
            ::std::result::Result<::dropshot::ApiDescription<::dropshot::StubContext>, ::dropshot::ApiDescriptionBuildErrors>,
        > {
            ::std::vec![#(#descriptions::stub_api_description()),*]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;

    /// A spec with `GET /things/{key}` and `GET /things/summary`, the variable of type `key_type`
    /// and the summary taking `summary_extra` (YAML lines of its operation).
    fn routed_spec(key_type: &str, summary_extra: &str) -> String {
        format!(
            r##"
openapi: 3.0.3
info: {{title: T, version: 1.0.0}}
paths:
  /things/{{key}}:
    get:
      operationId: show_thing
      parameters:
        - {{name: key, in: path, required: true, schema: {{type: {key_type}}}}}
      responses:
        "200": {{description: ok, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Thing"}}}}}}}}
        "4XX": {{description: no, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Problem"}}}}}}}}
  /things/summary:
    get:
      operationId: thing_summary
{summary_extra}
      responses:
        "200": {{description: ok, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Problem"}}}}}}}}
        "4XX": {{description: no, content: {{application/json: {{schema: {{$ref: "#/components/schemas/Problem"}}}}}}}}
components:
  schemas:
    Thing: {{type: object, properties: {{name: {{type: string}}}}}}
    Problem: {{type: object, properties: {{message: {{type: string}}}}}}
"##
        )
    }

    fn generated(spec: &str) -> Result<String> {
        let api = model::load(spec)?;
        Ok(generate(&api, &Layout::workspace())?.to_string())
    }

    #[test]
    fn a_literal_beside_a_variable_is_served_by_a_dispatcher_and_described_by_a_documentation_trait() {
        let query = "      parameters:\n        - {name: full, in: query, schema: {type: boolean}}";
        let code = generated(&routed_spec("integer", query)).unwrap();
        assert!(code.contains("fn dispatch_get_things_key"), "{code}");
        assert!(code.contains("unpublished = true"), "{code}");
        // The literal is tried first, then the variable; both are plain methods.
        let literal = code.find("\"summary\"").expect("the literal is checked");
        let summary_call = code.find("Self :: thing_summary").expect("the literal's operation is called");
        let show_call = code.find("Self :: show_thing").expect("the variable's operation is called");
        assert!(literal < summary_call && summary_call < show_call, "{code}");
        assert!(code.contains("pub trait SquaredApiRouted1"), "{code}");
        assert!(code.contains("pub trait SquaredApiRouted2"), "two paths one router cannot hold: {code}");
        assert!(code.contains("path = \"/things/summary\""), "{code}");
        assert!(code.contains("squared_api_routed2_mod :: stub_api_description ()"), "{code}");
    }

    /// dropshot describes its own error as `Error`; a spec that names a schema `Error` keeps it,
    /// and an operation whose errors have no body describes dropshot's under another name.
    #[test]
    fn a_spec_schema_named_error_keeps_its_name() {
        let text = r##"
openapi: 3.0.3
info: {title: T, version: 1.0.0}
paths:
  /a:
    get:
      operationId: a
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        "404": {description: gone}
components:
  schemas:
    Error: {type: object, properties: {code: {type: string}}}
    HttpError: {type: object, properties: {other: {type: string}}}
"##;
        let api = model::load(text).unwrap();
        let code = generate(&api, &crate::Layout::standalone("crate::types")).unwrap().to_string();
        assert!(code.contains("pub struct FrameworkError"), "{code}");
        assert!(code.contains("\"HttpError2\" . to_owned ()"), "{code}");
        assert!(code.contains("crate :: types :: Error > , FrameworkError > ;"), "{code}");
        // Without a schema named `Error`, dropshot's own error is fine.
        let api = model::load(&text.replace("Error:", "Failure:").replace("schemas/Error", "schemas/Failure")).unwrap();
        let code = generate(&api, &crate::Layout::standalone("crate::types")).unwrap().to_string();
        assert!(!code.contains("FrameworkError"), "{code}");
    }
}
