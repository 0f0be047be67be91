//! The HTTP face of the server: the implementation of the generated trait.
//!
//! Each method authenticates, unpacks the extractors and calls [`crate::service`]. Errors
//! become [`ApiError`] here and only here; server failures are logged with their cause and
//! answered without it.

use std::sync::Arc;

use dropshot::{
    Header, HttpResponseCreated, HttpResponseDeleted, HttpResponseOk, Path, Query, RequestContext, TypedBody,
};
use squared_api::*;
use squared_types::{
    CatalogResponse, CheckConnectionRequest, CheckConnectionResponse, ConnectorDefinition, ConnectorListResponse,
    ConnectorResponse, CreateCatalogRequest, CreateConnectorRequest, CreateModelRequest, CreateSyncRequest,
    EnableSyncRequest, ModelListResponse, ModelResponse, QuerySourceRequest, QuerySourceResponse, StartSyncRunRequest,
    SyncConfigurationsResponse, SyncListResponse, SyncRecordListResponse, SyncResponse, SyncRunListResponse,
    SyncRunResponse, UpdateConnectorRequest, UpdateModelRequest, UpdateSyncRequest,
};

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::service::{ListRequest, ModelListRequest, RecordListRequest, RunListRequest, Service};

pub enum ServerImpl {}

type Context = Arc<Service>;
type Answer<T> = Result<HttpResponseOk<T>, ApiError>;

/// Converts a domain error, logging the cause of a server failure.
fn api_error(rqctx: &RequestContext<Context>, error: ServiceError) -> ApiError {
    if let ServiceError::Internal(cause) = &error {
        slog::error!(rqctx.log, "request failed"; "cause" => cause);
    }
    error.into()
}

/// The authenticated caller in the workspace the request names.
fn caller(rqctx: &RequestContext<Context>, workspace_id: i64) -> Result<Caller, ApiError> {
    let authorization = rqctx.request.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    rqctx.context().authenticate(authorization, workspace_id).map_err(|e| api_error(rqctx, e))
}

/// PUT and PATCH: the same partial update.
async fn update(
    rqctx: RequestContext<Context>,
    workspace_id: i64,
    id: String,
    body: UpdateConnectorRequest,
) -> Answer<ConnectorResponse> {
    let caller = caller(&rqctx, workspace_id)?;
    let updated = rqctx.context().update_connector(&caller, &id, body.connector).await;
    Ok(HttpResponseOk(updated.map_err(|e| api_error(&rqctx, e))?))
}

/// PUT and PATCH of a model: the same partial update.
async fn update_model(
    rqctx: RequestContext<Context>,
    workspace_id: i64,
    id: String,
    body: UpdateModelRequest,
) -> Answer<ModelResponse> {
    let caller = caller(&rqctx, workspace_id)?;
    let updated = rqctx.context().update_model(&caller, &id, body.model).await;
    Ok(HttpResponseOk(updated.map_err(|e| api_error(&rqctx, e))?))
}

/// PUT and PATCH of a sync: the same partial update. `…/syncs/configurations` reaches it
/// too (see `Routed`), and is answered 405 with its own `Allow`.
async fn update_sync(
    rqctx: RequestContext<Context>,
    workspace_id: i64,
    id: String,
    allowed_elsewhere: Option<&'static str>,
    body: PinnedBody<UpdateSyncRequest>,
) -> Result<Pinned<HttpResponseOk<SyncResponse>>, ApiError> {
    if let Some(allow) = allowed_elsewhere {
        return Ok(Pinned::MethodNotAllowed { allow });
    }
    let caller = caller(&rqctx, workspace_id)?;
    let updated = rqctx.context().update_sync(&caller, &id, body.into_inner()?.sync).await;
    Ok(Pinned::Served(HttpResponseOk(updated.map_err(|e| api_error(&rqctx, e))?)))
}

impl SquaredApi for ServerImpl {
    type Context = Context;

    async fn create_catalog(
        rqctx: RequestContext<Context>,
        headers: Header<CreateCatalogHeaders>,
        body: TypedBody<CreateCatalogRequest>,
    ) -> Result<HttpResponseCreated<CatalogResponse>, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let created = rqctx.context().create_catalog(&caller, body.into_inner()).await;
        Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn update_catalog(
        rqctx: RequestContext<Context>,
        path: Path<UpdateCatalogPath>,
        headers: Header<UpdateCatalogHeaders>,
        body: TypedBody<CreateCatalogRequest>,
    ) -> Answer<CatalogResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let updated = rqctx.context().update_catalog(&caller, &path.into_inner().id, body.into_inner()).await;
        Ok(HttpResponseOk(updated.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn list_syncs(
        rqctx: RequestContext<Context>,
        query: Query<ListSyncsQuery>,
        headers: Header<ListSyncsHeaders>,
    ) -> Answer<SyncListResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        let list = rqctx.context().list_syncs(&caller, query.page, query.per_page).await;
        Ok(HttpResponseOk(list.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn create_sync(
        rqctx: RequestContext<Context>,
        headers: Header<CreateSyncHeaders>,
        body: TypedBody<CreateSyncRequest>,
    ) -> Result<HttpResponseCreated<SyncResponse>, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let created = rqctx.context().create_sync(&caller, body.into_inner()).await;
        Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn show_sync(
        rqctx: RequestContext<Context>,
        path: Path<ShowSyncPath>,
        headers: Header<ShowSyncHeaders>,
    ) -> Result<Routed<HttpResponseOk<SyncResponse>, HttpResponseOk<SyncConfigurationsResponse>>, ApiError> {
        let path = path.into_inner();
        // `GET /syncs/configurations` arrives here (see `Routed`).
        if path.is_configurations() {
            return Ok(Routed::Other(Self::sync_configurations(rqctx, headers).await?));
        }
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let shown = rqctx.context().show_sync(&caller, &path.sync_id).await;
        Ok(Routed::Own(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?)))
    }

    async fn sync_configurations(
        rqctx: RequestContext<Context>,
        headers: Header<ShowSyncHeaders>,
    ) -> Answer<SyncConfigurationsResponse> {
        caller(&rqctx, headers.into_inner().workspace_id)?;
        Ok(HttpResponseOk(crate::service::sync_configurations()))
    }

    async fn update_sync(
        rqctx: RequestContext<Context>,
        path: Path<UpdateSyncPath>,
        headers: Header<UpdateSyncHeaders>,
        body: PinnedBody<UpdateSyncRequest>,
    ) -> Result<Pinned<HttpResponseOk<SyncResponse>>, ApiError> {
        let path = path.into_inner();
        let elsewhere = path.allowed_elsewhere();
        update_sync(rqctx, headers.into_inner().workspace_id, path.sync_id, elsewhere, body).await
    }

    async fn patch_sync(
        rqctx: RequestContext<Context>,
        path: Path<PatchSyncPath>,
        headers: Header<PatchSyncHeaders>,
        body: PinnedBody<UpdateSyncRequest>,
    ) -> Result<Pinned<HttpResponseOk<SyncResponse>>, ApiError> {
        let path = path.into_inner();
        let elsewhere = path.allowed_elsewhere();
        update_sync(rqctx, headers.into_inner().workspace_id, path.sync_id, elsewhere, body).await
    }

    async fn delete_sync(
        rqctx: RequestContext<Context>,
        path: Path<DeleteSyncPath>,
        headers: Header<DeleteSyncHeaders>,
    ) -> Result<Pinned<HttpResponseDeleted>, ApiError> {
        let path = path.into_inner();
        if let Some(allow) = path.allowed_elsewhere() {
            return Ok(Pinned::MethodNotAllowed { allow });
        }
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        rqctx.context().delete_sync(&caller, &path.sync_id).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(Pinned::Served(HttpResponseDeleted()))
    }

    async fn enable_sync(
        rqctx: RequestContext<Context>,
        path: Path<EnableSyncPath>,
        headers: Header<EnableSyncHeaders>,
        body: TypedBody<EnableSyncRequest>,
    ) -> Answer<SyncResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let changed = rqctx.context().enable_sync(&caller, &path.into_inner().sync_id, body.into_inner()).await;
        Ok(HttpResponseOk(changed.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn start_sync_run(
        rqctx: RequestContext<Context>,
        headers: Header<StartSyncRunHeaders>,
        body: TypedBody<StartSyncRunRequest>,
    ) -> Result<HttpResponseCreated<SyncRunResponse>, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let run = rqctx.context().start_sync_run(&caller, body.into_inner()).await;
        Ok(HttpResponseCreated(run.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn cancel_sync_run(
        rqctx: RequestContext<Context>,
        path: Path<CancelSyncRunPath>,
        headers: Header<CancelSyncRunHeaders>,
    ) -> Answer<SyncRunResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let run = rqctx.context().cancel_sync_run(&caller, &path.into_inner().sync_id).await;
        Ok(HttpResponseOk(run.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn list_sync_runs(
        rqctx: RequestContext<Context>,
        path: Path<ListSyncRunsPath>,
        query: Query<ListSyncRunsQuery>,
        headers: Header<ListSyncRunsHeaders>,
    ) -> Answer<SyncRunListResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        let request = RunListRequest { status: query.status, page: query.page, per_page: query.per_page };
        let runs = rqctx.context().list_sync_runs(&caller, &path.into_inner().sync_id, request).await;
        Ok(HttpResponseOk(runs.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn show_sync_run(
        rqctx: RequestContext<Context>,
        path: Path<ShowSyncRunPath>,
        headers: Header<ShowSyncRunHeaders>,
    ) -> Answer<SyncRunResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let path = path.into_inner();
        let run = rqctx.context().show_sync_run(&caller, &path.sync_id, &path.sync_run_id).await;
        Ok(HttpResponseOk(run.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn list_sync_records(
        rqctx: RequestContext<Context>,
        path: Path<ListSyncRecordsPath>,
        query: Query<ListSyncRecordsQuery>,
        headers: Header<ListSyncRecordsHeaders>,
    ) -> Answer<SyncRecordListResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let (path, query) = (path.into_inner(), query.into_inner());
        let request = RecordListRequest { status: query.status, page: query.page, per_page: query.per_page };
        let records = rqctx.context().list_sync_records(&caller, &path.sync_id, &path.sync_run_id, request).await;
        Ok(HttpResponseOk(records.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn list_models(
        rqctx: RequestContext<Context>,
        query: Query<ListModelsQuery>,
        headers: Header<ListModelsHeaders>,
    ) -> Answer<ModelListResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        let request = ModelListRequest { query_type: query.query_type, page: query.page, per_page: query.per_page };
        let list = rqctx.context().list_models(&caller, request).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseOk(list))
    }

    async fn create_model(
        rqctx: RequestContext<Context>,
        headers: Header<CreateModelHeaders>,
        body: TypedBody<CreateModelRequest>,
    ) -> Result<HttpResponseCreated<ModelResponse>, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let created = rqctx.context().create_model(&caller, body.into_inner().model).await;
        Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn show_model(
        rqctx: RequestContext<Context>,
        path: Path<ShowModelPath>,
        headers: Header<ShowModelHeaders>,
    ) -> Answer<ModelResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let shown = rqctx.context().show_model(&caller, &path.into_inner().id).await;
        Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn update_model(
        rqctx: RequestContext<Context>,
        path: Path<UpdateModelPath>,
        headers: Header<UpdateModelHeaders>,
        body: TypedBody<UpdateModelRequest>,
    ) -> Answer<ModelResponse> {
        update_model(rqctx, headers.into_inner().workspace_id, path.into_inner().id, body.into_inner()).await
    }

    async fn patch_model(
        rqctx: RequestContext<Context>,
        path: Path<PatchModelPath>,
        headers: Header<PatchModelHeaders>,
        body: TypedBody<UpdateModelRequest>,
    ) -> Answer<ModelResponse> {
        update_model(rqctx, headers.into_inner().workspace_id, path.into_inner().id, body.into_inner()).await
    }

    async fn delete_model(
        rqctx: RequestContext<Context>,
        path: Path<DeleteModelPath>,
        headers: Header<DeleteModelHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        rqctx.context().delete_model(&caller, &path.into_inner().id).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseDeleted())
    }

    async fn list_connectors(
        rqctx: RequestContext<Context>,
        query: Query<ListConnectorsQuery>,
        headers: Header<ListConnectorsHeaders>,
    ) -> Answer<ConnectorListResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        let request = ListRequest {
            connector_type: query.type_,
            category: query.category,
            sub_category: query.sub_category,
            page: query.page,
            per_page: query.per_page,
        };
        let list = rqctx.context().list_connectors(&caller, request).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseOk(list))
    }

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

    async fn show_connector(
        rqctx: RequestContext<Context>,
        path: Path<ShowConnectorPath>,
        headers: Header<ShowConnectorHeaders>,
    ) -> Answer<ConnectorResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let shown = rqctx.context().show_connector(&caller, &path.into_inner().id).await;
        Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn update_connector(
        rqctx: RequestContext<Context>,
        path: Path<UpdateConnectorPath>,
        headers: Header<UpdateConnectorHeaders>,
        body: TypedBody<UpdateConnectorRequest>,
    ) -> Answer<ConnectorResponse> {
        update(rqctx, headers.into_inner().workspace_id, path.into_inner().id, body.into_inner()).await
    }

    async fn patch_connector(
        rqctx: RequestContext<Context>,
        path: Path<PatchConnectorPath>,
        headers: Header<PatchConnectorHeaders>,
        body: TypedBody<UpdateConnectorRequest>,
    ) -> Answer<ConnectorResponse> {
        update(rqctx, headers.into_inner().workspace_id, path.into_inner().id, body.into_inner()).await
    }

    async fn delete_connector(
        rqctx: RequestContext<Context>,
        path: Path<DeleteConnectorPath>,
        headers: Header<DeleteConnectorHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        rqctx.context().delete_connector(&caller, &path.into_inner().id).await.map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseDeleted())
    }

    async fn discover_connector(
        rqctx: RequestContext<Context>,
        path: Path<DiscoverConnectorPath>,
        query: Query<DiscoverConnectorQuery>,
        headers: Header<DiscoverConnectorHeaders>,
    ) -> Answer<CatalogResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let discovered = rqctx.context().discover(&caller, &path.into_inner().id, query.into_inner().refresh).await;
        Ok(HttpResponseOk(discovered.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn query_source(
        rqctx: RequestContext<Context>,
        path: Path<QuerySourcePath>,
        headers: Header<QuerySourceHeaders>,
        body: TypedBody<QuerySourceRequest>,
    ) -> Answer<QuerySourceResponse> {
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let rows = rqctx.context().query_source(&caller, &path.into_inner().id, body.into_inner()).await;
        Ok(HttpResponseOk(rows.map_err(|e| api_error(&rqctx, e))?))
    }

    async fn check_connection(
        rqctx: RequestContext<Context>,
        path: Path<CheckConnectionPath>,
        headers: Header<CheckConnectionHeaders>,
        body: PinnedBody<CheckConnectionRequest>,
    ) -> Result<Pinned<HttpResponseOk<CheckConnectionResponse>>, ApiError> {
        // dropshot routes `…/check_connection` through `…/{connector_name}`: another name is
        // the definition's path, which has GET only.
        if let Some(allow) = path.into_inner().allowed_elsewhere() {
            return Ok(Pinned::MethodNotAllowed { allow });
        }
        let caller = caller(&rqctx, headers.into_inner().workspace_id)?;
        let outcome = rqctx.context().check_connection(&caller, body.into_inner()?).await;
        Ok(Pinned::Served(HttpResponseOk(outcome.map_err(|e| api_error(&rqctx, e))?)))
    }

    async fn list_connector_definitions(
        rqctx: RequestContext<Context>,
        query: Query<ListConnectorDefinitionsQuery>,
        headers: Header<ListConnectorDefinitionsHeaders>,
    ) -> Answer<Vec<ConnectorDefinition>> {
        caller(&rqctx, headers.into_inner().workspace_id)?;
        let query = query.into_inner();
        Ok(HttpResponseOk(rqctx.context().list_connector_definitions(query.type_, query.category)))
    }

    async fn show_connector_definition(
        rqctx: RequestContext<Context>,
        path: Path<ShowConnectorDefinitionPath>,
        query: Query<ShowConnectorDefinitionQuery>,
        headers: Header<ShowConnectorDefinitionHeaders>,
    ) -> Answer<ConnectorDefinition> {
        caller(&rqctx, headers.into_inner().workspace_id)?;
        let definition = rqctx
            .context()
            .show_connector_definition(query.into_inner().type_, &path.into_inner().connector_name)
            .map_err(|e| api_error(&rqctx, e))?;
        Ok(HttpResponseOk(definition))
    }
}

/// A route node dropshot shares between a variable path and a literal one, and the methods
/// of each: requests for methods neither serves get 405 with the `Allow` of the path they named.
struct SharedNode {
    /// The node, as dropshot routes it.
    path: &'static str,
    /// The literal value of the node's last variable.
    literal: &'static str,
    /// The methods of the literal path, and of every other value.
    literal_allow: &'static str,
    variable_allow: &'static str,
    /// Methods no operation of the node has, which the guards answer.
    unserved: &'static [http::Method],
}

/// `…/connector_definitions/{connector_name}` beside `…/check_connection` (see `PinnedSegment`
/// in the generator), and `…/syncs/{sync_id}` beside `…/syncs/configurations` (see `Routed`).
const SHARED_NODES: [SharedNode; 2] = [
    SharedNode {
        path: "/api/v1/connector_definitions/{connector_name}",
        literal: "check_connection",
        literal_allow: "POST",
        variable_allow: "GET",
        unserved: &[http::Method::PUT, http::Method::PATCH, http::Method::DELETE, http::Method::OPTIONS],
    },
    SharedNode {
        path: "/api/v1/syncs/{sync_id}",
        literal: "configurations",
        literal_allow: "GET",
        variable_allow: "DELETE, GET, PATCH, PUT",
        unserved: &[http::Method::POST, http::Method::OPTIONS],
    },
];

/// The last segment of the definitions node, as its guards read it.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct DefinitionSegment {
    connector_name: String,
}

/// The last segment of the syncs node, as its guards read it.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SyncSegment {
    sync_id: String,
}

async fn definition_guard(
    rqctx: RequestContext<Context>,
    path: Path<DefinitionSegment>,
) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
    method_not_allowed(&rqctx, &SHARED_NODES[0], &path.into_inner().connector_name)
}

async fn sync_guard(
    rqctx: RequestContext<Context>,
    path: Path<SyncSegment>,
) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
    method_not_allowed(&rqctx, &SHARED_NODES[1], &path.into_inner().sync_id)
}

/// Answers a method no operation of a shared node serves, with the `Allow` header of the path
/// the request named. dropshot's own answer would list the methods of both paths.
fn method_not_allowed(
    rqctx: &RequestContext<Context>,
    node: &SharedNode,
    value: &str,
) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
    let allow = if value == node.literal { node.literal_allow } else { node.variable_allow };
    let error = ApiError::new(
        dropshot::ErrorStatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not served on this path; it allows {allow}", rqctx.request.method()),
    );
    let body = serde_json::to_string(&error).expect("an error body serializes");
    http::Response::builder()
        .status(http::StatusCode::METHOD_NOT_ALLOWED)
        .header(http::header::ALLOW, allow)
        .header(http::header::CONTENT_TYPE, dropshot::CONTENT_TYPE_JSON)
        .body(body.into())
        .map_err(|e| dropshot::HttpError::for_internal_error(e.to_string()))
}

/// Registers an unpublished guard endpoint for every unserved method of a shared node.
macro_rules! register_guards {
    ($api:expr, $node:expr, $handler:expr) => {
        for method in $node.unserved {
            let endpoint = dropshot::ApiEndpoint::new(
                format!("method_guard_{}_{}", method.as_str().to_lowercase(), $node.literal),
                $handler,
                method.clone(),
                dropshot::CONTENT_TYPE_JSON,
                $node.path,
                dropshot::ApiEndpointVersions::All,
            )
            .visible(false);
            $api.register(endpoint).map_err(|e| e.to_string())?;
        }
    };
}

/// The API description: the generated trait's endpoints, and unpublished guards that give
/// each shared node a correct `Allow` for the methods it does not serve.
pub fn api_description() -> Result<dropshot::ApiDescription<Context>, String> {
    let mut api = squared_api_mod::api_description::<ServerImpl>().map_err(|e| e.to_string())?;
    register_guards!(api, SHARED_NODES[0], definition_guard);
    register_guards!(api, SHARED_NODES[1], sync_guard);
    Ok(api)
}
