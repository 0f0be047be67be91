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

impl From<HttpError> for ApiError {
    fn from(error: HttpError) -> Self {
        let detail = if error.status_code.is_server_error() {
            "The server failed to handle the request.".to_owned()
        } else {
            error.external_message
        };
        ApiError::new(error.status_code, detail)
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
