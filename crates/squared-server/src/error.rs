//! The server's domain errors, and the one place where they become HTTP errors.

use dropshot::ErrorStatusCode;
use squared_api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request breaks a rule that no one field carries (a destination cannot be
    /// queried), or a connected system refused it.
    #[error("{0}")]
    Unprocessable(String),
    /// The server cannot take the request now (too many connector calls in flight).
    #[error("{0}")]
    Unavailable(String),
    /// The request breaks a rule; each problem has a JSON Pointer into the body.
    #[error("invalid request")]
    Invalid(Vec<Problem>),
    /// A failure of the server itself. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// One rule a request breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub detail: String,
}

impl Problem {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Problem { pointer: pointer.into(), detail: detail.into() }
    }
}

/// One reference token of a JSON Pointer, escaped (RFC 6901).
pub fn pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    match token.contains(['~', '/']) {
        true => token.replace('~', "~0").replace('/', "~1").into(),
        false => token.into(),
    }
}

impl ServiceError {
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        ServiceError::Invalid(vec![Problem::new(pointer, detail)])
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        ServiceError::Internal(format!("database: {error}"))
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Unauthenticated(detail) => ApiError::unauthorized(detail),
            ServiceError::Forbidden(detail) => ApiError::forbidden(detail),
            ServiceError::NotFound(detail) => ApiError::not_found(detail),
            ServiceError::Unprocessable(detail) => ApiError::unprocessable(detail),
            ServiceError::Unavailable(detail) => ApiError::new(ErrorStatusCode::SERVICE_UNAVAILABLE, detail),
            ServiceError::Invalid(problems) => ApiError::at_pointers(
                ErrorStatusCode::UNPROCESSABLE_ENTITY,
                problems.into_iter().map(|p| (p.pointer, p.detail)),
            ),
            ServiceError::Internal(_) => ApiError::internal(),
        }
    }
}

/// An error and each of its sources, joined with `": "`: libraries put the reason (the OS's
/// "Address already in use", a refused connection) in a source their own text leaves out.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}
