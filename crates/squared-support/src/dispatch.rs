//! Operations dropshot cannot route by path alone, served through one endpoint that routes
//! them itself.
//!
//! dropshot's router holds, at each place in a path, either literal segments or one variable,
//! and one endpoint per method and path. Specs routinely put a literal beside a variable
//! (`/syncs/configurations` beside `/syncs/{sync_id}`), or name one place's variable
//! differently in different paths. For those paths the generated trait registers one
//! unpublished endpoint per method at the path dropshot can hold (the variable in place of
//! the literals), whose provided body picks the operation the request's path names (a literal
//! before a variable, as OpenAPI matches paths), rewrites the path variables to that
//! operation's own names, extracts its parameters and body exactly as its own endpoint would
//! (the same dropshot extractors), and calls the operation's trait method. A path no
//! operation has is answered 404, a method the path does not serve 405 with `Allow`.
//!
//! Each such operation is also described, at its own path, by a documentation-only trait the
//! generator writes beside the served one, so the emitted OpenAPI document still describes
//! every operation as the spec does ([`merged_document`]).

use dropshot::{
    ApiDescription, ApiDescriptionBuildErrors, ApiEndpointBodyContentType, ApiEndpointResponse, Body,
    ClientErrorStatusCode, ExclusiveExtractor, ExtractorMetadata, HttpError, HttpResponse, HttpResponseError,
    RequestContext, ServerContext, StubContext,
};

/// The whole request, for an endpoint that decides later which body extractor applies.
pub struct RawRequest(hyper::Request<Body>);

impl RawRequest {
    pub fn into_inner(self) -> hyper::Request<Body> {
        self.0
    }
}

#[async_trait::async_trait]
impl ExclusiveExtractor for RawRequest {
    async fn from_request<Context: ServerContext>(
        _rqctx: &RequestContext<Context>,
        request: hyper::Request<Body>,
    ) -> Result<Self, HttpError> {
        Ok(RawRequest(request))
    }

    fn metadata(_content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        ExtractorMetadata { extension_mode: dropshot::ExtensionMode::None, parameters: Vec::new() }
    }
}

/// The request context as the chosen operation's own endpoint would see it: its operation
/// id, its body's content type, and the path variables under its own names (`renames` holds
/// (operation's name, dispatching endpoint's name) for each of its variables; the literal
/// segments are dropped). An operation with mixed segments reads its path with
/// [`path_from_segments`] instead.
pub fn reroute<C: ServerContext>(
    mut rqctx: RequestContext<C>,
    operation_id: &str,
    renames: &[(&str, &str)],
    body_content_type: ApiEndpointBodyContentType,
) -> RequestContext<C> {
    let served = std::mem::take(&mut rqctx.endpoint.variables);
    rqctx.endpoint.variables = renames
        .iter()
        .filter_map(|(own, served_name)| Some(((*own).to_owned(), served.get(*served_name)?.clone())))
        .collect();
    rqctx.endpoint.operation_id = operation_id.to_owned();
    rqctx.endpoint.body_content_type = body_content_type;
    rqctx
}

/// What a dispatching endpoint answers: the chosen operation's response or error, already
/// rendered (each operation has its own types), or 404 / 405 when no operation takes the
/// request.
pub struct Dispatched {
    status: http::StatusCode,
    response: Result<http::Response<Body>, HttpError>,
}

impl Dispatched {
    /// The outcome of an operation's method (or of extracting its inputs).
    pub fn from_outcome<R: HttpResponse, E: HttpResponseError>(outcome: Result<R, E>) -> Self {
        match outcome {
            Ok(response) => Dispatched { status: response.status_code(), response: response.to_result() },
            Err(error) => Self::from_error(error),
        }
    }

    fn from_error<E: HttpResponseError>(error: E) -> Self {
        let status = error.status_code();
        let response = error.to_response(http::Response::builder().status(status.as_status()));
        Dispatched { status: status.as_status(), response }
    }

    /// No operation has the request's path: 404, in the error type `E`'s shape.
    pub fn not_found<E: HttpResponseError>() -> Self {
        Self::from_error(E::from(HttpError::for_not_found(None, "no operation has this path".to_owned())))
    }

    /// The request's path is an operation's, but not for this method: 405 with the path's
    /// methods in `Allow`, in the error type `E`'s shape.
    pub fn method_not_allowed<E: HttpResponseError>(allow: &'static str) -> Self {
        let error = HttpError::for_client_error_with_status(
            Some(format!("this path allows {allow}")),
            ClientErrorStatusCode::METHOD_NOT_ALLOWED,
        );
        // dropshot renders an `HttpError` itself (with its headers); any other error type is
        // rendered here, and the header added to its response.
        let allow_header = http::HeaderValue::from_static(allow);
        let mut error = error;
        error.headers_mut().insert(http::header::ALLOW, allow_header.clone());
        let mut dispatched = Self::from_error(E::from(error));
        if let Ok(response) = &mut dispatched.response {
            response.headers_mut().insert(http::header::ALLOW, allow_header);
        }
        dispatched
    }
}

impl HttpResponse for Dispatched {
    fn to_result(self) -> Result<http::Response<Body>, HttpError> {
        self.response
    }

    /// Never published: the endpoint is unpublished, and each operation is described by its
    /// documentation trait.
    fn response_metadata() -> ApiEndpointResponse {
        <dropshot::HttpResponseUpdatedNoContent as HttpResponse>::response_metadata()
    }

    fn status_code(&self) -> http::StatusCode {
        self.status
    }
}

/// Matches each (template, value) pair, a mixed path segment (`{name}:cancel`,
/// `{name}-{version}.zip`) against the text the request has at its place, and gives the
/// template's variables: `None` unless every value matches. Each variable takes the shortest
/// non-empty text up to the literal after it, the last one everything up to the template's
/// end; a variable right before another takes its text up to the last `.` (a file extension
/// follows), or all of it.
pub fn match_segments(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    let mut captured = Vec::new();
    for (template, value) in pairs {
        captured.extend(match_segment(template, value)?);
    }
    Some(captured)
}

fn match_segment(template: &str, value: &str) -> Option<Vec<(String, String)>> {
    // The template's pieces: `Ok(literal)` or `Err(variable name)`.
    let mut pieces: Vec<Result<&str, &str>> = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('{') {
            let end = inner.find('}')?;
            pieces.push(Err(&inner[..end]));
            rest = &inner[end + 1..];
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            pieces.push(Ok(&rest[..end]));
            rest = &rest[end..];
        }
    }
    let mut captured = Vec::new();
    let mut text = value;
    for (index, piece) in pieces.iter().enumerate() {
        match piece {
            Ok(literal) => text = text.strip_prefix(literal)?,
            Err(name) => {
                let taken = match pieces.get(index + 1) {
                    None => text.len(),
                    Some(Ok(literal)) => {
                        let last = index + 2 == pieces.len();
                        // The last literal ends the value; another one is met first.
                        if last { text.strip_suffix(literal).map(str::len)? } else { text.get(1..)?.find(literal)? + 1 }
                    }
                    Some(Err(_)) => text.rfind('.').filter(|&dot| dot > 0).unwrap_or(text.len()),
                };
                if taken == 0 {
                    return None;
                }
                captured.push(((*name).to_owned(), text[..taken].to_owned()));
                text = &text[taken..];
            }
        }
    }
    text.is_empty().then_some(captured)
}

/// A path with no variables of interest: extracted only to be mapped into the `Path` an
/// operation with mixed segments takes ([`path_from_segments`]; dropshot's `Path` has no other
/// constructor).
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub struct AnyPath {}

/// The path parameters of an operation with mixed segments (`{name}:cancel`), read from its
/// variables' texts (the dispatcher's renamed variables and [`match_segments`]' captures) the
/// way dropshot reads a path: each text parsed into its field's type. A text that does not
/// parse is a 400, as from dropshot's own `Path`.
pub fn path_from_segments<T: serde::de::DeserializeOwned>(variables: &[(String, String)]) -> Result<T, HttpError> {
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(variables).finish();
    serde_urlencoded::from_str(&encoded)
        .map_err(|error| HttpError::for_bad_request(None, format!("unable to parse path parameters: {error}")))
}

/// Whether the request's query has `name` (holding `value`, when one is given): a condition of
/// a spec path's `#fragment` (`/{Bucket}#tagging`, `/#Action=AssumeRole`).
pub fn query_holds<C: ServerContext>(rqctx: &RequestContext<C>, name: &str, value: Option<&str>) -> bool {
    let query = rqctx.request.uri().query().unwrap_or("");
    form_urlencoded::parse(query.as_bytes()).any(|(key, held)| key == name && value.is_none_or(|v| held == v))
}

/// Whether the request has the header `name` (holding `value`, when one is given): a condition
/// of a spec path's `#fragment` (`/#X-Amz-Target=…`).
pub fn header_holds<C: ServerContext>(rqctx: &RequestContext<C>, name: &str, value: Option<&str>) -> bool {
    rqctx.request.headers().get_all(name).iter().any(|held| value.is_none_or(|v| held.as_bytes() == v.as_bytes()))
}

/// One OpenAPI document from the descriptions of a generated API: the served trait's and its
/// documentation traits' (their paths and schemas together), with the spec's `info`.
/// `documented_paths` names (declared path, spec path) for the operations a documentation
/// trait declares elsewhere than at their spec paths; the document names them by the latter.
pub fn merged_document(
    descriptions: Vec<Result<ApiDescription<StubContext>, ApiDescriptionBuildErrors>>,
    title: &str,
    version: &str,
    description: Option<&str>,
    documented_paths: &[(&str, &str)],
) -> serde_json::Value {
    let version: semver::Version = version.parse().expect("the generator checked info.version");
    let mut merged: Option<serde_json::Value> = None;
    for api in descriptions {
        let api = api.expect("a generated trait is a valid API");
        let mut openapi = api.openapi(title, version.clone());
        if let Some(text) = description {
            openapi.description(text);
        }
        let document = openapi.json().expect("the document serializes");
        match &mut merged {
            None => merged = Some(document),
            Some(merged) => merge_into(merged, document),
        }
    }
    let mut merged = merged.expect("a generated API has its served trait");
    if let Some(paths) = merged.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        for (declared, spec) in documented_paths {
            if let Some(item) = paths.remove(*declared) {
                paths.insert((*spec).to_owned(), item);
            }
        }
    }
    merged
}

/// Adds `other`'s paths (method by method), components and tags to `document`.
fn merge_into(document: &mut serde_json::Value, other: serde_json::Value) {
    use serde_json::{Map, Value, json};
    if let Some(paths) = other.get("paths").and_then(Value::as_object) {
        let target = document["paths"].as_object_mut().expect("paths");
        for (path, item) in paths {
            let entry = target.entry(path.clone()).or_insert_with(|| Value::Object(Map::new()));
            for (method, operation) in item.as_object().into_iter().flatten() {
                entry[method] = operation.clone();
            }
        }
    }
    // Every section of `components` (dropshot puts schemas in one, error responses in another).
    for (section, entries) in other.get("components").and_then(Value::as_object).into_iter().flatten() {
        let components = document.as_object_mut().expect("a document").entry("components").or_insert_with(|| json!({}));
        let target =
            components.as_object_mut().expect("components").entry(section.clone()).or_insert_with(|| json!({}));
        for (name, entry) in entries.as_object().into_iter().flatten() {
            target[name] = entry.clone();
        }
    }
    if let Some(tags) = other.get("tags").and_then(Value::as_array) {
        let target = document.as_object_mut().expect("a document").entry("tags").or_insert_with(|| json!([]));
        let target = target.as_array_mut().expect("tags");
        for tag in tags {
            if !target.iter().any(|t| t["name"] == tag["name"]) {
                target.push(tag.clone());
            }
        }
        target.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(template: &str, value: &str) -> Option<Vec<(String, String)>> {
        match_segments(&[(template, value)])
    }

    #[test]
    fn mixed_segments_give_their_variables() {
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        assert_eq!(captured("{name}:cancel", "ops/7:cancel"), Some(vec![pair("name", "ops/7")]));
        assert_eq!(captured("{name}:cancel", ":cancel"), None, "a variable is never empty");
        assert_eq!(captured("{name}:cancel", "ops/7"), None);
        assert_eq!(captured("{id}.json", "a.b.json"), Some(vec![pair("id", "a.b")]));
        assert_eq!(
            captured("{name}-{version}.zip", "my-tool-1.2.zip"),
            Some(vec![pair("name", "my"), pair("version", "tool-1.2")])
        );
        assert_eq!(captured("{id}{ext}", "photo.png"), Some(vec![pair("id", "photo"), pair("ext", ".png")]));
        assert_eq!(captured("v{major}", "v2"), Some(vec![pair("major", "2")]));
        assert_eq!(captured("v{major}", "w2"), None);
        assert_eq!(match_segments(&[]), Some(Vec::new()));
    }

    #[test]
    fn a_path_is_read_from_texts_as_dropshot_reads_one() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Own {
            name: String,
            page: u32,
        }
        let texts = [("name".to_owned(), "a/b c".to_owned()), ("page".to_owned(), "3".to_owned())];
        assert_eq!(path_from_segments::<Own>(&texts).unwrap(), Own { name: "a/b c".into(), page: 3 });
        let bad = [("name".to_owned(), "x".to_owned()), ("page".to_owned(), "three".to_owned())];
        assert_eq!(path_from_segments::<Own>(&bad).unwrap_err().status_code.as_u16(), 400);
    }
}
