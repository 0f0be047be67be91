//! A failed call in one readable line.
//!
//! progenitor's `Error` prints its whole answer, headers and all. [`Failure`] keeps what a
//! person or a log needs (the status, the first error's detail and where it points, how many
//! more there are, the request id) and the rest for a program: the full error body and, for a
//! transport failure, its cause as `source()`.

use std::fmt;

use progenitor_client::Error;

use crate::types::{ErrorObject, ErrorResponse};

/// A call that did not succeed: an error answer, an answer the spec does not describe, or a
/// request that never got one.
#[derive(Debug)]
pub struct Failure {
    status: Option<reqwest::StatusCode>,
    message: String,
    request_id: Option<String>,
    body: Option<ErrorResponse>,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    /// A client that could not be set up (a missing URL, an unreadable setting).
    pub(crate) fn setup(message: String) -> Self {
        Failure { status: None, message, request_id: None, body: None, cause: None }
    }

    /// The answer's status, when there was an answer.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        self.status
    }

    /// The server's error body, when it sent one in the API's error shape.
    pub fn body(&self) -> Option<&ErrorResponse> {
        self.body.as_ref()
    }

    /// The id the server gave the request (`x-request-id`), to find it in the server's log.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// What one error entry says, with where it points.
fn describe(error: &ErrorObject) -> String {
    let place = error.source.as_ref().and_then(|source| {
        let (what, name) = match (&source.pointer, &source.parameter, &source.header) {
            (Some(pointer), _, _) => ("at", pointer),
            (_, Some(parameter), _) => ("parameter", parameter),
            (_, _, Some(header)) => ("header", header),
            _ => return None,
        };
        Some(format!(" ({what} {name})"))
    });
    format!("{}{}", error.detail, place.unwrap_or_default())
}

fn request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned)
}

impl From<Error<ErrorResponse>> for Failure {
    fn from(error: Error<ErrorResponse>) -> Self {
        let status = error.status();
        match error {
            Error::ErrorResponse(answer) => {
                let request_id = request_id(answer.headers());
                let body = answer.into_inner();
                let message = match body.errors.as_slice() {
                    [] => "the server sent an error without entries".to_owned(),
                    [only] => describe(only),
                    [first, rest @ ..] => format!("{} (and {} more)", describe(first), rest.len()),
                };
                Failure { status, message, request_id, body: Some(body), cause: None }
            }
            Error::UnexpectedResponse(answer) => Failure {
                status,
                message: "an answer the API does not describe".to_owned(),
                request_id: request_id(answer.headers()),
                body: None,
                cause: None,
            },
            Error::InvalidResponsePayload(_, cause) => Failure {
                status,
                message: "the answer does not have the shape the API describes".to_owned(),
                request_id: None,
                body: None,
                cause: Some(Box::new(cause)),
            },
            Error::CommunicationError(cause) | Error::ResponseBodyError(cause) | Error::InvalidUpgrade(cause) => {
                Failure {
                    status,
                    message: format!("the request failed: {}", root_cause(&cause)),
                    request_id: None,
                    body: None,
                    cause: Some(Box::new(cause)),
                }
            }
            Error::InvalidRequest(message) | Error::Custom(message) => Failure {
                status,
                message: format!("the request was not sent: {message}"),
                request_id: None,
                body: None,
                cause: None,
            },
        }
    }
}

/// The deepest cause of an error (reqwest's own message names only the URL; the reason, such
/// as a refused connection, is its last source). The whole chain stays `source()`.
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "{status}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}
