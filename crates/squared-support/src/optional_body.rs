//! A request body the spec marks optional (`required: false`).
//!
//! dropshot's `TypedBody` always demands a body. [`OptionalBody`] reads a request with no
//! body (no `Content-Length`, or zero, and no chunked transfer) as `None`, and any other as
//! `TypedBody` would, refusing what the schema does not allow; its OpenAPI description is
//! `TypedBody`'s with `required: false`.

use dropshot::{
    ApiEndpointBodyContentType, Body, ExclusiveExtractor, ExtractorMetadata, HttpError, RequestContext, ServerContext,
    TypedBody,
};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// The request body, when the request has one.
#[derive(Debug)]
pub struct OptionalBody<T>(Option<T>);

impl<T> OptionalBody<T> {
    /// The body, or `None` when the request came without one.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// Whether a request announces no body at all.
fn has_no_body(request: &hyper::Request<Body>) -> bool {
    let headers = request.headers();
    let chunked = headers.get(http::header::TRANSFER_ENCODING).is_some();
    let length = headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    !chunked && matches!(length, None | Some("0"))
}

#[async_trait::async_trait]
impl<T> ExclusiveExtractor for OptionalBody<T>
where
    T: JsonSchema + DeserializeOwned + Send + Sync + 'static,
{
    async fn from_request<Context: ServerContext>(
        rqctx: &RequestContext<Context>,
        request: hyper::Request<Body>,
    ) -> Result<Self, HttpError> {
        if has_no_body(&request) {
            return Ok(OptionalBody(None));
        }
        let body = TypedBody::<T>::from_request(rqctx, request).await?;
        Ok(OptionalBody(Some(body.into_inner())))
    }

    fn metadata(content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        let mut metadata = <TypedBody<T> as ExclusiveExtractor>::metadata(content_type);
        for parameter in &mut metadata.parameters {
            parameter.required = false;
        }
        metadata
    }
}
