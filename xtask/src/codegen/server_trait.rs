//! Generates the dropshot API trait (`squared-api`): no existing tool does this.
//!
//! One trait method per operation, with the path, query and header parameters gathered
//! into one struct per location (dropshot's `Path`, `Query` and `Header` extractors, and
//! `ArrayQuery` for array query parameters), the request body as `TypedBody`,
//! `OptionalBody` or `UntypedBody`, and what the method answers and fails with as
//! `trait_responses` decides (the [`Layout`]'s hand-written error type, or one generated per
//! operation). A `security` module names each operation's requirements. The trait is the
//! whole contract: a server that implements it serves the spec.

use std::collections::BTreeMap;

use anyhow::{Result, bail, ensure};
use heck::{ToPascalCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Layout;
use super::model::{Api, Field, MediaKind, Operation, Param, ParamLocation, TypeRef, rust_field_name};
use super::trait_responses;
use super::types::{TypePath, field_tokens, rust_type};

/// The name of the generated trait.
pub const TRAIT_NAME: &str = "SquaredApi";

/// A literal path segment served through a variable. dropshot's router cannot hold a literal
/// and a variable at the same place (`/definitions/check` beside `/definitions/{name}`), so
/// the literal operation is routed through the variable, whose type admits only the literal.
/// The emitted OpenAPI document says exactly that: a path parameter with a one-value enum.
#[derive(Clone, Debug, PartialEq)]
pub struct PinnedSegment {
    pub variable: String,
    pub literal: String,
}

/// The path dropshot serves each operation at (index-aligned with `api.operations`), and the
/// literal segments pinned there.
pub fn served_paths(api: &Api) -> Vec<(String, Vec<PinnedSegment>)> {
    let split: Vec<Vec<&str>> = api.operations.iter().map(|op| op.path.split('/').collect()).collect();
    let is_variable = |segment: &str| segment.starts_with('{');
    let same = |a: &str, b: &str| a == b || (is_variable(a) && is_variable(b));
    split
        .iter()
        .map(|segments| {
            let mut served: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            let mut pinned = Vec::new();
            for (index, segment) in segments.iter().enumerate() {
                if is_variable(segment) {
                    // dropshot's router takes one variable name per place in the path: the
                    // first operation's name there serves them all.
                    let first = split.iter().find_map(|other| {
                        let shares_prefix = other.len() > index
                            && other[..index].iter().zip(&segments[..index]).all(|(a, b)| same(a, b));
                        (shares_prefix && is_variable(other[index])).then(|| other[index])
                    });
                    if let Some(first) = first {
                        served[index] = first.to_owned();
                    }
                    continue;
                }
                if segment.is_empty() {
                    continue;
                }
                let variable = split.iter().find_map(|other| {
                    let shares_prefix =
                        other.len() > index && other[..index].iter().zip(&segments[..index]).all(|(a, b)| same(a, b));
                    (shares_prefix && is_variable(other[index])).then(|| other[index])
                });
                if let Some(variable) = variable {
                    served[index] = variable.to_owned();
                    pinned.push(PinnedSegment {
                        variable: variable.trim_start_matches('{').trim_end_matches('}').to_owned(),
                        literal: segment.to_string(),
                    });
                }
            }
            (served.join("/"), pinned)
        })
        .collect()
}

/// The path variables an operation's served path names differently from the spec, as
/// (spec name, served name): dropshot's router takes one name per place in the path.
pub fn renamed_variables(spec_path: &str, served_path: &str) -> Vec<(String, String)> {
    let variable = |s: &str| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).map(str::to_owned);
    spec_path
        .split('/')
        .zip(served_path.split('/'))
        .filter_map(|(spec, served)| match (variable(spec), variable(served)) {
            (Some(a), Some(b)) if a != b => Some((a, b)),
            _ => None,
        })
        .collect()
}

/// For each operation (index-aligned with `api.operations`), the index of the operation it is
/// routed through, when dropshot cannot give it an endpoint of its own: its literal segment
/// is pinned to a variable (see [`served_paths`]) that another operation serves with the same
/// method. That operation's endpoint then answers both (`crate::Routed`), and this one is a
/// plain trait method the endpoint's implementation calls.
pub fn routed_through(api: &Api, served: &[(String, Vec<PinnedSegment>)]) -> Vec<Option<usize>> {
    api.operations
        .iter()
        .zip(served)
        .map(|(op, (path, pinned))| {
            if pinned.is_empty() {
                return None;
            }
            api.operations.iter().zip(served).position(|(other, (other_path, other_pinned))| {
                other_path == path && other_pinned.is_empty() && other.method == op.method
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn param_struct(
    layout: &Layout,
    renames: &[(String, String)],
    op: &Operation,
    location: ParamLocation,
    pinned: &[PinnedSegment],
    allow: &str,
    routed: &[PinnedSegment],
    shadowed: Option<(&PinnedSegment, &str)>,
    items: &mut Vec<TokenStream>,
) -> Option<syn::Ident> {
    let params: Vec<&Param> = op.params_in(location).collect();
    if params.is_empty() && pinned.is_empty() {
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
        // A path variable dropshot serves under another name is read under that name.
        let wire = renames
            .iter()
            .find(|(spec, _)| location == ParamLocation::Path && *spec == p.name)
            .map_or(&p.name, |(_, served)| served);
        if let (ParamLocation::Query, TypeRef::Array(_)) = (location, &p.ty) {
            return (array_query_field(layout, p), Vec::new());
        }
        let field = Field {
            name: wire.clone(),
            rust_name: p.rust_name.clone(),
            ty: p.ty.clone(),
            required: p.required,
            nullable: false,
            description: p.description.clone(),
            constraints: p.constraints.clone(),
            default: p.default.clone(),
            read_only: false,
            write_only: false,
            boxed: false,
        };
        field_tokens(&field, &name.to_string(), TypePath::Module(&layout.types))
    });
    let repeated: Vec<&str> = params
        .iter()
        .filter(|p| location == ParamLocation::Query && matches!(p.ty, TypeRef::Array(_)) && p.explode)
        .map(|p| p.name.as_str())
        .collect();
    let has_arrays = location == ParamLocation::Query && params.iter().any(|p| matches!(p.ty, TypeRef::Array(_)));
    let repeated_keys = has_arrays.then(|| {
        let support = path_tokens(&layout.support);
        quote! {
            impl #support::RepeatedKeys for #name {
                const REPEATED: &'static [&'static str] = &[#(#repeated),*];
            }
        }
    });
    let (mut fields, helper_fns): (Vec<_>, Vec<_>) = fields.unzip();
    let helper_fns = helper_fns.into_iter().flatten();
    let mut others = Vec::new();
    for segment in pinned {
        let field = format_ident!("{}", rust_field_name(&segment.variable));
        let enum_name = format_ident!("{}{}", op.pascal_name, segment.variable.to_pascal_case());
        let variant = format_ident!("{}", segment.literal.to_pascal_case());
        let (variable, literal) = (&segment.variable, &segment.literal);
        let rename = (field != variable.as_str()).then(|| quote!(#[serde(rename = #variable)]));
        let field_doc = format!(" Always `{literal}`: the literal segment, routed through `{{{variable}}}`.");
        let enum_doc = format!(" The one value `{{{variable}}}` takes in `{}`.", op.operation_id);
        fields.push(quote! {
            #[doc = #field_doc]
            #rename
            pub #field: #enum_name,
        });
        items.push(quote! {
            #[doc = #enum_doc]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, ::serde::Deserialize, ::schemars::JsonSchema)]
            pub enum #enum_name {
                #[serde(rename = #literal)]
                #variant,
                /// Any other value: the request's path is another operation's.
                #[serde(other)]
                #[schemars(skip)]
                Other,
            }
        });
        others.push(quote!(self.#field == #enum_name::Other));
    }
    let allowed_elsewhere = (!others.is_empty()).then(|| {
        quote! {
            impl #name {
                /// `Some(methods)` when the request's path is another operation's (whose
                /// methods these are): the method must then answer `Pinned::MethodNotAllowed`.
                pub fn allowed_elsewhere(&self) -> ::std::option::Option<&'static str> {
                    if #(#others)||* { ::std::option::Option::Some(#allow) } else { ::std::option::Option::None }
                }
            }
        }
    });
    let routed_checks = routed.iter().map(|segment| {
        let check = format_ident!("is_{}", segment.literal.to_snake_case());
        let field = format_ident!("{}", rust_field_name(&segment.variable));
        let literal = &segment.literal;
        let doc = format!(
            " Whether `{{{}}}` is `{literal}`: the request is then another operation's, routed here.",
            segment.variable
        );
        quote! {
            #[doc = #doc]
            pub fn #check(&self) -> bool {
                self.#field == #literal
            }
        }
    });
    let routed_impl = (!routed.is_empty()).then(|| quote!(impl #name { #(#routed_checks)* }));
    let shadowed_impl = shadowed.map(|(segment, allow)| {
        let field = format_ident!("{}", rust_field_name(&segment.variable));
        let literal = &segment.literal;
        quote! {
            impl #name {
                /// `Some(methods)` when the request's path is another operation's (whose
                /// methods these are): the method must then answer `Pinned::MethodNotAllowed`.
                pub fn allowed_elsewhere(&self) -> ::std::option::Option<&'static str> {
                    if self.#field == #literal { ::std::option::Option::Some(#allow) } else { ::std::option::Option::None }
                }
            }
        }
    });
    items.push(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, ::serde::Deserialize, ::schemars::JsonSchema)]
        pub struct #name {
            #(#fields)*
        }

        #allowed_elsewhere

        #repeated_keys

        #routed_impl

        #shadowed_impl

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
    let read = format!("{}::{}", layout.support, if p.explode { "repeated" } else { "comma_separated" });
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

/// How an operation is served.
enum Serving<'a> {
    /// An endpoint of its own, answering also the operations routed through it (their
    /// pinned segments and their responses).
    Endpoint {
        routed: Vec<(&'a PinnedSegment, TokenStream)>,
        /// A literal routed through this endpoint's path by an operation of another method:
        /// a request for the literal's path reaches this method, which must answer 405 with
        /// the literal path's methods (`Pinned::MethodNotAllowed`).
        shadowed: Option<(&'a PinnedSegment, String)>,
    },
    /// Through the endpoint of `owner`, as a plain method with its headers.
    Routed { owner: &'a Operation, headers: Option<syn::Ident> },
}

#[allow(clippy::too_many_arguments)]
fn method_tokens(
    layout: &Layout,
    op: &Operation,
    (response, error): (TokenStream, TokenStream),
    served_path: &str,
    pinned: &[PinnedSegment],
    allow: &str,
    serving: &Serving<'_>,
    structs: &mut Vec<TokenStream>,
) -> Result<TokenStream> {
    let name = format_ident!("{}", op.rust_name);
    let support = path_tokens(&layout.support);
    let operation_id = (op.rust_name != op.operation_id).then(|| {
        let id = &op.operation_id;
        quote!(, operation_id = #id)
    });
    let method = format_ident!("{}", op.method);
    let path = served_path;
    let tags = &op.tags;
    let docs = match (&op.summary, &op.description) {
        (Some(summary), Some(description)) => {
            let text = format!("{summary}\n\n{description}");
            doc_lines(&text)
        }
        (Some(text), None) | (None, Some(text)) => doc_lines(text),
        (None, None) => quote!(),
    };
    let mut args = Vec::new();
    for (location, arg, extractor) in [
        (ParamLocation::Path, "path", quote!(::dropshot::Path)),
        (ParamLocation::Query, "query", quote!(::dropshot::Query)),
        (ParamLocation::Header, "headers", quote!(::dropshot::Header)),
    ] {
        let pinned = if location == ParamLocation::Path { pinned } else { &[] };
        let routed: Vec<PinnedSegment> = match (serving, location) {
            (Serving::Endpoint { routed, .. }, ParamLocation::Path) => {
                routed.iter().map(|(s, _)| (*s).clone()).collect()
            }
            _ => Vec::new(),
        };
        if let Serving::Routed { .. } = serving {
            // A routed operation has no extractors of its own: see below.
            break;
        }
        let shadowed = match (serving, location) {
            (Serving::Endpoint { shadowed: Some((segment, allow)), .. }, ParamLocation::Path) => {
                Some((*segment, allow.as_str()))
            }
            _ => None,
        };
        let arrays =
            location == ParamLocation::Query && op.params_in(location).any(|p| matches!(p.ty, TypeRef::Array(_)));
        let extractor = if arrays { quote!(#support::ArrayQuery) } else { extractor };
        if let Some(struct_name) = param_struct(
            layout,
            &renamed_variables(&op.path, served_path),
            op,
            location,
            pinned,
            allow,
            &routed,
            shadowed,
            structs,
        ) {
            let arg = format_ident!("{arg}");
            args.push(quote!(#arg: #extractor<#struct_name>));
        }
    }
    let mut content_type = None;
    if let Some(body) = &op.body {
        let ty = rust_type(&body.content.ty, TypePath::Module(&layout.types));
        let shadowed = matches!(serving, Serving::Endpoint { shadowed: Some(_), .. });
        let pinned_here = !pinned.is_empty() || shadowed;
        let extractor = match (body.content.kind, body.required, pinned_here) {
            (MediaKind::Text | MediaKind::Binary, _, _) => quote!(::dropshot::UntypedBody),
            (_, true, false) => quote!(::dropshot::TypedBody<#ty>),
            (_, true, true) => quote!(#support::PinnedBody<#ty>),
            (_, false, false) => quote!(#support::OptionalBody<#ty>),
            (_, false, true) => bail!(
                "{}/requestBody: an optional body on an operation routed through a pinned path segment is not \
                 supported; make it required or give the operation a path of its own",
                op.location
            ),
        };
        if body.content.kind == MediaKind::Form {
            content_type = Some(quote!(, content_type = "application/x-www-form-urlencoded"));
        }
        args.push(quote!(body: #extractor));
    }
    if let Serving::Routed { owner, headers } = serving {
        let owner_name = &owner.rust_name;
        let doc = format!(
            " Served through `{owner_name}`: dropshot's router holds this path's literal segment only as a value \
             of the variable there, for the same method. The implementation of `{owner_name}` answers \
             `Routed::Other(Self::{}(…).await?)` when the path's check for it says so.",
            op.rust_name
        );
        let headers = headers.as_ref().map(|h| quote!(headers: ::dropshot::Header<#h>));
        return Ok(quote! {
            #docs
            ///
            #[doc = #doc]
            fn #name(
                rqctx: ::dropshot::RequestContext<Self::Context>,
                #headers
            ) -> impl ::std::future::Future<Output = ::std::result::Result<#response, #error>> + Send;
        });
    }
    let response = if pinned.is_empty() { response } else { quote!(#support::Pinned<#response>) };
    let response = match serving {
        Serving::Endpoint { routed, shadowed } => match routed.as_slice() {
            [] if shadowed.is_some() => quote!(#support::Pinned<#response>),
            [] => response,
            [(_, other)] => quote!(#support::Routed<#response, #other>),
            _ => bail!("{}: only one operation can be routed through one endpoint", op.location),
        },
        Serving::Routed { .. } => unreachable!("returned above"),
    };
    Ok(quote! {
        #docs
        #[endpoint { method = #method, path = #path, tags = [#(#tags),*] #operation_id #content_type }]
        async fn #name(
            rqctx: ::dropshot::RequestContext<Self::Context>,
            #(#args),*
        ) -> ::std::result::Result<#response, #error>;
    })
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
    let answers = api
        .operations
        .iter()
        .map(|op| {
            Ok((
                trait_responses::success_type(layout, op, &mut structs)?,
                trait_responses::error_type(layout, op, &mut structs)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let served = served_paths(api);
    let routed = routed_through(api, &served);
    // dropshot registers one endpoint per method and path.
    let mut endpoints: BTreeMap<(&str, &str), &Operation> = BTreeMap::new();
    for ((op, (path, _)), owner) in api.operations.iter().zip(&served).zip(&routed) {
        if owner.is_some() {
            continue;
        }
        if let Some(other) = endpoints.insert((op.method.as_str(), path.as_str()), op) {
            bail!(
                "{}: dropshot serves this operation at {} {path} (its literal segments held by the variable beside \
                 them), where {} is served already; dropshot's router holds one endpoint per method and path, so \
                 give one of them a path of its own",
                op.location,
                op.method,
                other.location
            );
        }
    }
    let methods = api
        .operations
        .iter()
        .zip(&served)
        .enumerate()
        .map(|(index, (op, (path, pinned)))| {
            // The methods of the operations that really own the path a pinned one shares.
            let allow: Vec<&str> = api
                .operations
                .iter()
                .zip(&served)
                .filter(|(_, (other_path, other_pinned))| other_path == path && other_pinned.is_empty())
                .filter(|(other, _)| other.method != op.method)
                .map(|(other, _)| other.method.as_str())
                .collect();
            let serving = match routed[index] {
                Some(owner) => {
                    let owner = &api.operations[owner];
                    let header_names =
                        |o: &Operation| o.params_in(ParamLocation::Header).map(|p| p.name.clone()).collect::<Vec<_>>();
                    ensure!(
                        op.body.is_none()
                            && op.params_in(ParamLocation::Query).next().is_none()
                            && header_names(op) == header_names(owner),
                        "{}: dropshot serves this operation through `{}` (the same method at `{path}`), so it may \
                         take no body and no query parameters, and the same headers; give it a path of its own \
                         otherwise",
                        op.location,
                        owner.operation_id
                    );
                    let variable = &pinned[0].variable;
                    ensure!(
                        owner.params_in(ParamLocation::Path).any(|p| &p.name == variable && p.ty == TypeRef::String),
                        "{}: dropshot serves this operation through `{}`, whose `{{{variable}}}` must then be a string \
                         (to hold the literal); make it one, or give this operation a path of its own",
                        op.location,
                        owner.operation_id
                    );
                    let headers =
                        (!header_names(owner).is_empty()).then(|| format_ident!("{}Headers", owner.pascal_name));
                    Serving::Routed { owner, headers }
                }
                None => Serving::Endpoint {
                    shadowed: api
                        .operations
                        .iter()
                        .zip(&served)
                        .zip(&routed)
                        .find(|((other, (other_path, _)), owner)| {
                            owner.is_some() && other_path == path && other.method != op.method && pinned.is_empty()
                        })
                        .map(|((other, (_, other_pinned)), _)| {
                            let allow: Vec<&str> = api
                                .operations
                                .iter()
                                .filter(|o| o.path == other.path)
                                .map(|o| o.method.as_str())
                                .collect();
                            (&other_pinned[0], allow.join(", "))
                        }),
                    routed: served
                        .iter()
                        .zip(&routed)
                        .enumerate()
                        .filter(|(_, (_, owner))| **owner == Some(index))
                        .map(|(other, ((_, other_pinned), _))| (&other_pinned[0], answers[other].0.clone()))
                        .collect(),
                },
            };
            method_tokens(layout, op, answers[index].clone(), path, pinned, &allow.join(", "), &serving, &mut structs)
        })
        .collect::<Result<Vec<_>>>()?;

    let tag_entries = spec["tags"].as_array().into_iter().flatten().filter_map(|tag| {
        let name = tag["name"].as_str()?;
        let description = tag["description"].as_str().map(|d| quote!(description = #d));
        Some(quote!(#name = { #description }))
    });
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
    let trait_name = format_ident!("{TRAIT_NAME}");
    let trait_doc = format!(" The server side of {} {}: one method per operation of the spec.", api.title, api.version);

    let title = &api.title;
    let version = &api.version;
    let semver = if crate::codegen::model::is_semver(version) { version.as_str() } else { "0.0.0" };
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

        #error_body

        #security

        #(#structs)*

        #[doc = #trait_doc]
        #[::dropshot::api_description {
            tag_config = {
                allow_other_tags = #allow_other_tags,
                tags = { #(#tag_entries),* }
            }
        }]
        pub trait #trait_name {
            /// The server's shared state.
            type Context;

            #(#methods)*
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::model;

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
    fn a_literal_beside_a_same_method_variable_is_routed_through_its_endpoint() {
        let code = generated(&routed_spec("string", "")).unwrap();
        assert!(code.contains("crate :: Routed <"), "{code}");
        assert!(code.contains("fn thing_summary"), "{code}");
        assert!(code.contains("fn is_summary"), "{code}");
        assert_eq!(code.matches("# [endpoint").count(), 1, "one endpoint serves both: {code}");
        let api = model::load(&routed_spec("string", "")).unwrap();
        let served = served_paths(&api);
        assert_eq!(routed_through(&api, &served), [None, Some(0)]);
    }

    #[test]
    fn what_a_routed_operation_cannot_take_is_refused_by_location() {
        let integer = format!("{:#}", generated(&routed_spec("integer", "")).unwrap_err());
        assert!(
            integer.contains("#/paths/~1things~1summary/get") && integer.contains("must then be a string"),
            "{integer}"
        );
        let query = "      parameters:\n        - {name: full, in: query, schema: {type: boolean}}";
        let error = format!("{:#}", generated(&routed_spec("string", query)).unwrap_err());
        assert!(error.contains("no query parameters"), "{error}");
    }
}
