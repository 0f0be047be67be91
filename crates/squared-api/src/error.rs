//! [`ApiError`]: the one error type of every endpoint, in the spec's one error shape.
//!
//! dropshot's own failures (a malformed body, a wrong content type, a missing header, a body
//! over the size limit) reach us as [`dropshot::HttpError`] and are converted here, so a
//! client sees the same shape whatever went wrong.

use std::borrow::Cow;
use std::fmt;

use dropshot::{ErrorStatusCode, HttpError, HttpResponseError};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde::{Serialize, Serializer};
use squared_types::{ErrorObject, ErrorSource};

use crate::ErrorBody;

/// An error response: its status and the body the spec declares for errors.
#[derive(Clone, Debug)]
pub struct ApiError {
    status: ErrorStatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// One problem, described in words.
    pub fn new(status: ErrorStatusCode, detail: impl Into<String>) -> Self {
        Self::with_errors(status, vec![Self::object(status, detail.into(), None)])
    }

    /// One problem at a place in the request body (a JSON Pointer).
    pub fn at_pointer(status: ErrorStatusCode, pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let source = ErrorSource { pointer: Some(pointer.into()), parameter: None, header: None };
        Self::with_errors(status, vec![Self::object(status, detail.into(), Some(source))])
    }

    /// Several problems of one status, each with its own pointer.
    pub fn at_pointers(status: ErrorStatusCode, problems: impl IntoIterator<Item = (String, String)>) -> Self {
        let errors = problems
            .into_iter()
            .map(|(pointer, detail)| {
                let source = ErrorSource { pointer: Some(pointer), parameter: None, header: None };
                Self::object(status, detail, Some(source))
            })
            .collect::<Vec<_>>();
        assert!(!errors.is_empty(), "an error response needs at least one error");
        Self::with_errors(status, errors)
    }

    fn with_errors(status: ErrorStatusCode, errors: Vec<ErrorObject>) -> Self {
        ApiError { status, body: ErrorBody { errors } }
    }

    fn object(status: ErrorStatusCode, detail: String, source: Option<ErrorSource>) -> ErrorObject {
        ErrorObject { status: i64::from(status.as_u16()), title: title_of(status).into_owned(), detail, source }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorStatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorStatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorStatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorStatusCode::NOT_FOUND, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(ErrorStatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// A server-side failure. The detail is generic on purpose: the cause belongs in the
    /// server's log, not in a response.
    pub fn internal() -> Self {
        Self::new(ErrorStatusCode::INTERNAL_SERVER_ERROR, "The server failed to handle the request.")
    }

    pub fn status(&self) -> ErrorStatusCode {
        self.status
    }

    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

fn title_of(status: ErrorStatusCode) -> Cow<'static, str> {
    match status.as_status().canonical_reason() {
        Some(reason) => Cow::Borrowed(reason),
        None => Cow::Owned(format!("Error {}", status.as_u16())),
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let details: Vec<&str> = self.body.errors.iter().map(|e| e.detail.as_str()).collect();
        write!(f, "{} {}: {}", self.status.as_u16(), title_of(self.status), details.join("; "))
    }
}

impl std::error::Error for ApiError {}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

/// The schema of an `ApiError` is the spec's error schema, under the spec's name.
impl JsonSchema for ApiError {
    fn schema_name() -> String {
        ErrorBody::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        ErrorBody::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        ErrorBody::json_schema(generator)
    }
}

/// What dropshot says when it refuses a request before an operation runs, as the API says it:
/// its status (dropshot answers 400 for a body too large or of the wrong media type, where
/// HTTP has 413 and 415) and, where dropshot names it, the header or parameter at fault.
/// dropshot's messages are matched as they read in dropshot 0.18;
/// `dropshot_refusals_take_their_status_and_source` fails if they change.
fn refusal(message: &str) -> (ErrorStatusCode, String, Option<ErrorSource>) {
    const TOO_LARGE: &str = "request body exceeded maximum size of ";
    const MEDIA_TYPE: &str = "unsupported content-type";
    const HEADERS: &str = "error processing headers: ";
    const QUERY: &str = "unable to parse query string: ";
    const BODY: &str = "unable to parse JSON body: ";
    let missing =
        |rest: &str| rest.strip_prefix("missing field `").and_then(|name| name.strip_suffix('`')).map(str::to_owned);
    if let Some(limit) = message.strip_prefix(TOO_LARGE) {
        let detail = format!("the request body is larger than the server reads ({limit})");
        return (ErrorStatusCode::PAYLOAD_TOO_LARGE, detail, None);
    }
    if message.starts_with(MEDIA_TYPE) {
        let detail = format!("{message}; the body must be `application/json`");
        return (ErrorStatusCode::UNSUPPORTED_MEDIA_TYPE, detail, None);
    }
    if let Some(name) = message.strip_prefix(HEADERS).and_then(missing) {
        let source = ErrorSource { pointer: None, parameter: None, header: Some(name.clone()) };
        return (ErrorStatusCode::BAD_REQUEST, format!("the `{name}` header is required"), Some(source));
    }
    if let Some(name) = message.strip_prefix(QUERY).and_then(missing) {
        let source = ErrorSource { pointer: None, parameter: Some(name.clone()), header: None };
        return (ErrorStatusCode::BAD_REQUEST, format!("the `{name}` parameter is required"), Some(source));
    }
    if let Some(rest) = message.strip_prefix(BODY)
        && let Some((pointer, detail)) = body_problem(rest)
    {
        let source = ErrorSource { pointer: Some(pointer), parameter: None, header: None };
        return (ErrorStatusCode::BAD_REQUEST, detail, Some(source));
    }
    (ErrorStatusCode::BAD_REQUEST, without_values(message), None)
}

/// A JSON body's first problem as dropshot reports it (`connector.name: invalid type: integer
/// `5`, expected a string at line 1 column 22`, the path in serde_path_to_error's form), as a
/// JSON Pointer and words that quote no value (a value may be a secret).
fn body_problem(rest: &str) -> Option<(String, String)> {
    let (path, detail) = rest.split_once(": ")?;
    let detail = match detail.rfind(" at line ") {
        Some(at) => &detail[..at],
        None => detail,
    };
    let mut pointer = String::new();
    if path != "." {
        for segment in path.split('.') {
            let (name, indexes) = match segment.find('[') {
                Some(at) => (&segment[..at], &segment[at..]),
                None => (segment, ""),
            };
            if !name.is_empty() {
                pointer.push('/');
                pointer.push_str(&pointer_token(name));
            }
            for index in indexes.split(['[', ']']).filter(|index| !index.is_empty()) {
                pointer.push('/');
                pointer.push_str(index);
            }
        }
    }
    // A missing member is reported at its parent: point at the member itself.
    if let Some(name) = detail.strip_prefix("missing field `").and_then(|name| name.strip_suffix('`')) {
        pointer.push('/');
        pointer.push_str(&pointer_token(name));
        return Some((pointer, format!("`{name}` is required")));
    }
    Some((pointer, without_values(detail)))
}

/// A JSON Pointer reference token, escaped (RFC 6901).
fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// serde's words in the spec's (JSON's) terms and without the value they quote (a value may be
/// a secret): `invalid type: string "hunter2", expected i64` becomes `must be an integer, not
/// a string`; `unknown variant `x`, expected `a` or `b`` becomes `must be `a` or `b``.
fn without_values(detail: &str) -> String {
    if let Some(rest) = detail.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let found = found.split(' ').next().unwrap_or(found);
        return format!("must be {}, not {}", json_words(expected), json_words(found));
    }
    if let Some(rest) = detail.strip_prefix("invalid value: ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return format!("must be {}", json_words(expected));
    }
    if let Some(rest) = detail.strip_prefix("unknown variant `")
        && let Some((_, expected)) = rest.split_once("`, expected ")
    {
        return format!("must be {expected}");
    }
    detail.to_owned()
}

/// What serde calls a type or a value, in JSON's words (`i64` is an integer, a `struct` or a
/// map an object, a sequence an array).
fn json_words(serde: &str) -> &str {
    let serde = serde.trim();
    match serde {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "isize" | "usize"
        | "integer" => "an integer",
        "f32" | "f64" | "floating" | "a number" => "a number",
        "string" | "a string" | "char" | "a character" => "a string",
        "boolean" | "a boolean" => "a boolean",
        "map" | "a map" => "an object",
        "sequence" | "a sequence" | "a tuple" => "an array",
        "null" | "unit" | "unit value" | "Option value" => "null",
        other if other.starts_with("struct ") || other.starts_with("a map") => "an object",
        other if other.starts_with("enum ") || other.starts_with("variant ") => "one of its values",
        other if other.starts_with("a sequence") || other.starts_with("tuple") => "an array",
        other => other,
    }
}

impl From<HttpError> for ApiError {
    fn from(error: HttpError) -> Self {
        if error.status_code.is_server_error() {
            return ApiError::new(error.status_code, "The server failed to handle the request.");
        }
        if error.status_code != ErrorStatusCode::BAD_REQUEST {
            return ApiError::new(error.status_code, error.external_message);
        }
        let (status, detail, source) = refusal(&error.external_message);
        Self::with_errors(status, vec![Self::object(status, detail, source)])
    }
}

impl HttpResponseError for ApiError {
    fn status_code(&self) -> ErrorStatusCode {
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropshot_errors_take_the_one_shape() {
        let error = ApiError::from(HttpError::for_bad_request(None, "unable to parse JSON body".into()));
        let body = serde_json::to_value(&error).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"errors": [{"status": 400, "title": "Bad Request", "detail": "unable to parse JSON body"}]})
        );
    }

    #[test]
    fn dropshot_refusals_take_their_status_and_source() {
        let refused = |message: &str| {
            let error = ApiError::from(HttpError::for_bad_request(None, message.into()));
            (error.status().as_u16(), serde_json::to_value(&error.body().errors[0]).unwrap())
        };
        let (status, body) = refused("request body exceeded maximum size of 1048576 bytes");
        assert_eq!(status, 413);
        assert_eq!(body["detail"], "the request body is larger than the server reads (1048576 bytes)");
        let (status, body) = refused("unsupported content-type: text/plain");
        assert_eq!((status, body["title"].as_str()), (415, Some("Unsupported Media Type")));
        let (status, body) = refused("error processing headers: missing field `Workspace-Id`");
        assert_eq!(status, 400);
        assert_eq!(body["source"], serde_json::json!({"header": "Workspace-Id"}));
        let (_, body) = refused(
            "unable to parse JSON body: connector.name: invalid type: string \"hunter2\", expected i64 at line 1 column 22",
        );
        assert_eq!(body["source"], serde_json::json!({"pointer": "/connector/name"}));
        assert_eq!(body["detail"], "must be an integer, not a string");
        let (_, body) = refused(
            "unable to parse JSON body: rows[2].a~b/c: unknown variant `secret`, expected `y` or `z` at line 1 column 9",
        );
        assert_eq!(body["source"], serde_json::json!({"pointer": "/rows/2/a~0b~1c"}));
        assert_eq!(body["detail"], "must be `y` or `z`");
        let (_, body) = refused("unable to parse JSON body: connector: missing field `name` at line 1 column 9");
        assert_eq!(body["source"], serde_json::json!({"pointer": "/connector/name"}));
        assert_eq!(body["detail"], "`name` is required");
        let (_, body) =
            refused("unable to parse JSON body: .: invalid type: integer `5`, expected struct X at line 1 column 1");
        assert_eq!(body["source"], serde_json::json!({"pointer": ""}));
        let (_, body) = refused("unable to parse query string: missing field `type`");
        assert_eq!(body["source"], serde_json::json!({"parameter": "type"}));
        assert_eq!(body["detail"], "the `type` parameter is required");
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let error = ApiError::from(HttpError::for_internal_error("database password is hunter2".into()));
        let text = serde_json::to_string(&error).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(error.status().as_u16(), 500);
    }

    #[test]
    fn pointers_are_kept_per_problem() {
        let error = ApiError::at_pointers(
            ErrorStatusCode::UNPROCESSABLE_ENTITY,
            [("/a".to_owned(), "a is wrong".to_owned()), ("/b".to_owned(), "b is wrong".to_owned())],
        );
        let pointers: Vec<_> = error.body().errors.iter().map(|e| e.source.as_ref().unwrap().pointer.clone()).collect();
        assert_eq!(pointers, [Some("/a".to_owned()), Some("/b".to_owned())]);
        assert_eq!(error.to_string(), "422 Unprocessable Entity: a is wrong; b is wrong");
    }
}
