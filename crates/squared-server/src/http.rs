//! The HTTP face of the server: the implementation of the generated trait.
//!
//! Each method authenticates, unpacks the extractors and calls [`crate::service`]. Errors
//! become [`ApiError`] here and only here; server failures are logged with their cause and
//! answered without it.

use std::sync::Arc;

use dropshot::{Header, HttpResponseCreated, HttpResponseOk, Path, Query, RequestContext, TypedBody};
use squared_api::{
    ApiError, CreateConnectorHeaders, ListConnectorDefinitionsHeaders, ListConnectorDefinitionsQuery,
    ShowConnectorDefinitionHeaders, ShowConnectorDefinitionPath, ShowConnectorDefinitionQuery, SquaredApi,
};
use squared_types::{ConnectorDefinition, ConnectorResponse, CreateConnectorRequest};

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::service::Service;

pub enum ServerImpl {}

type Context = Arc<Service>;

/// Converts a domain error, logging the cause of a server failure.
fn api_error(rqctx: &RequestContext<Context>, error: ServiceError) -> ApiError {
    if let ServiceError::Internal(cause) = &error {
        slog::error!(rqctx.log, "request failed"; "cause" => cause);
    }
    error.into()
}

fn caller(rqctx: &RequestContext<Context>, workspace_id: i64) -> Result<Caller, ApiError> {
    let authorization = rqctx.request.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    rqctx.context().authenticate(authorization, workspace_id).map_err(|e| api_error(rqctx, e))
}

impl SquaredApi for ServerImpl {
    type Context = Context;

    async fn create_connector(
        rqctx: RequestContext<Context>,
        headers: Header<CreateConnectorHeaders>,
        body: TypedBody<CreateConnectorRequest>,
    ) -> Result<HttpResponseCreated<ConnectorResponse>, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let input = body.into_inner().connector;
        let created = rqctx.context().create_connector(&caller, input).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseCreated(created))
    }

    async fn list_connector_definitions(
        rqctx: RequestContext<Context>,
        query: Query<ListConnectorDefinitionsQuery>,
        headers: Header<ListConnectorDefinitionsHeaders>,
    ) -> Result<HttpResponseOk<Vec<ConnectorDefinition>>, ApiError> {
        caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        Ok(HttpResponseOk(rqctx.context().list_connector_definitions(query.type_, query.category)))
    }

    async fn show_connector_definition(
        rqctx: RequestContext<Context>,
        path: Path<ShowConnectorDefinitionPath>,
        query: Query<ShowConnectorDefinitionQuery>,
        headers: Header<ShowConnectorDefinitionHeaders>,
    ) -> Result<HttpResponseOk<ConnectorDefinition>, ApiError> {
        caller(&rqctx, headers.into_inner().workspace_id)?;
        let definition = rqctx
            .context()
            .show_connector_definition(query.into_inner().type_, &path.into_inner().connector_name)
            .map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseOk(definition))
    }
}
