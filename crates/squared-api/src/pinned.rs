//! Operations dropshot serves through a pinned path segment.
//!
//! dropshot's router cannot hold a literal path segment beside a variable one
//! (`…/check_connection` beside `…/{connector_name}`), so the generated trait routes the
//! literal operation through the variable and pins its value (the generator's
//! `PinnedSegment`). A request whose path is the *other* operation's then reaches the pinned
//! operation's method, and must be answered 405 with that path's `Allow` header, whatever
//! its body holds. These two types make that possible:
//!
//! - [`PinnedBody`] reads the body like `TypedBody` (same OpenAPI description) but hands a
//!   failure to the method instead of answering it, since a 405 comes first;
//! - [`Pinned`] is the method's success type: the operation's own response, or the 405.

use dropshot::{
    ApiEndpointBodyContentType, ApiEndpointResponse, Body, ExclusiveExtractor, ExtractorMetadata, HttpError,
    HttpResponse, RequestContext, ServerContext, TypedBody,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A request body whose failure to parse is the method's to answer.
pub struct PinnedBody<T>(Result<T, HttpError>);

impl<T> PinnedBody<T> {
    /// The body, or the error a plain `TypedBody` would have answered.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0.map_err(ApiError::from)
    }
}

#[async_trait::async_trait]
impl<T> ExclusiveExtractor for PinnedBody<T>
where
    T: JsonSchema + DeserializeOwned + Send + Sync + 'static,
{
    async fn from_request<Context: ServerContext>(
        rqctx: &RequestContext<Context>,
        request: hyper::Request<Body>,
    ) -> Result<Self, HttpError> {
        Ok(PinnedBody(TypedBody::<T>::from_request(rqctx, request).await.map(TypedBody::into_inner)))
    }

    fn metadata(content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        <TypedBody<T> as ExclusiveExtractor>::metadata(content_type)
    }
}

/// The response of a pinned operation: its own, or 405 for another operation's path.
pub enum Pinned<R> {
    Served(R),
    /// The path is another operation's; `allow` lists that path's methods.
    MethodNotAllowed {
        allow: &'static str,
    },
}

impl<R: HttpResponse> HttpResponse for Pinned<R> {
    fn to_result(self) -> Result<http::Response<Body>, HttpError> {
        match self {
            Pinned::Served(response) => response.to_result(),
            Pinned::MethodNotAllowed { allow } => {
                let error = ApiError::new(
                    dropshot::ErrorStatusCode::METHOD_NOT_ALLOWED,
                    format!("this method is not served on this path; it allows {allow}"),
                );
                let body = serde_json::to_string(&error).map_err(|e| HttpError::for_internal_error(e.to_string()))?;
                Ok(http::Response::builder()
                    .status(http::StatusCode::METHOD_NOT_ALLOWED)
                    .header(http::header::ALLOW, allow)
                    .header(http::header::CONTENT_TYPE, dropshot::CONTENT_TYPE_JSON)
                    .body(body.into())?)
            }
        }
    }

    fn response_metadata() -> ApiEndpointResponse {
        R::response_metadata()
    }

    fn status_code(&self) -> http::StatusCode {
        match self {
            Pinned::Served(response) => response.status_code(),
            Pinned::MethodNotAllowed { .. } => http::StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// The response of an endpoint that also serves an operation routed through it: dropshot
/// registers one endpoint per method and path, so when another operation's literal segment
/// (`/syncs/configurations`) can only be a value of this endpoint's variable
/// (`/syncs/{sync_id}`) for the same method, this endpoint answers both. Its OpenAPI
/// description is its own operation's; the routed operation is described by the spec.
pub enum Routed<Own, Other> {
    /// This endpoint's own operation.
    Own(Own),
    /// The operation routed through it.
    Other(Other),
}

impl<Own: HttpResponse, Other: HttpResponse> HttpResponse for Routed<Own, Other> {
    fn to_result(self) -> Result<http::Response<Body>, HttpError> {
        match self {
            Routed::Own(response) => response.to_result(),
            Routed::Other(response) => response.to_result(),
        }
    }

    fn response_metadata() -> ApiEndpointResponse {
        Own::response_metadata()
    }

    fn status_code(&self) -> http::StatusCode {
        match self {
            Routed::Own(response) => response.status_code(),
            Routed::Other(response) => response.status_code(),
        }
    }
}
