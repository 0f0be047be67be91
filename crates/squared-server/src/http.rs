//! The HTTP face of the server: the implementation of the generated trait.
//!
//! Each method authenticates, unpacks the extractors and calls [`crate::service`], inside one
//! wrapper (`observed`) that counts the request by operation, status and latency
//! ([`crate::metrics`]). Errors become [`ApiError`] here and only here; server failures are
//! logged with their cause and answered without it.

use std::sync::Arc;

use dropshot::{
    Header, HttpResponse, HttpResponseCreated, HttpResponseDeleted, HttpResponseOk, Path, Query, RequestContext,
    TypedBody,
};
use squared_api::*;
use squared_types::{
    AlertChannelListResponse, AlertChannelResponse, AlertDeliveryListResponse, AlertRuleListResponse,
    AlertRuleResponse, CatalogResponse, CheckConnectionRequest, CheckConnectionResponse, ConnectorDefinition,
    ConnectorListResponse, ConnectorResponse, CreateAlertChannelRequest, CreateAlertRuleRequest, CreateCatalogRequest,
    CreateConnectorRequest, CreateModelRequest, CreateSyncRequest, EnableSyncRequest, ModelListResponse, ModelResponse,
    QuerySourceRequest, QuerySourceResponse, ReportResponse, RoleListResponse, StartSyncRunRequest,
    SyncConfigurationsResponse, SyncListResponse, SyncRecordListResponse, SyncResponse, SyncRunListResponse,
    SyncRunResponse, TestSyncResponse, UpdateConnectorRequest, UpdateModelRequest, UpdateSyncRequest,
};

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::service::{
    DeliveryListRequest, ListRequest, ModelListRequest, RecordExportRequest, RecordListRequest, ReportRequest,
    RunListRequest, Service,
};

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

/// Every handler's one wrapper: answers what `answer` gives and counts the request by
/// operation, status and latency.
async fn observed<R: HttpResponse>(
    rqctx: &RequestContext<Context>,
    answer: impl std::future::Future<Output = Result<R, ApiError>>,
) -> Result<R, ApiError> {
    let started = std::time::Instant::now();
    let answered = answer.await;
    let status = match &answered {
        Ok(answer) => answer.status_code().as_u16(),
        Err(error) => error.status().as_u16(),
    };
    rqctx.context().operator.metrics.request(&rqctx.endpoint.operation_id, status, started.elapsed());
    answered
}

/// The authenticated caller in the workspace the request names.
fn caller(rqctx: &RequestContext<Context>, workspace_id: i64) -> Result<Caller, ApiError> {
    let authorization = rqctx.request.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    rqctx.context().authenticate(authorization, workspace_id).map_err(|e| api_error(rqctx, e))
}

/// PUT and PATCH: the same partial update.
async fn update(
    rqctx: &RequestContext<Context>,
    workspace_id: i64,
    id: String,
    body: UpdateConnectorRequest,
) -> Answer<ConnectorResponse> {
    let caller = caller(rqctx, workspace_id)?;
    let UpdateConnectorRequest { connector } = body;
    let updated = rqctx.context().update_connector(&caller, &id, connector).await;
    Ok(HttpResponseOk(updated.map_err(|e| api_error(rqctx, e))?))
}

/// PUT and PATCH of a model: the same partial update.
async fn update_model(
    rqctx: &RequestContext<Context>,
    workspace_id: i64,
    id: String,
    body: UpdateModelRequest,
) -> Answer<ModelResponse> {
    let caller = caller(rqctx, workspace_id)?;
    let UpdateModelRequest { model } = body;
    let updated = rqctx.context().update_model(&caller, &id, model).await;
    Ok(HttpResponseOk(updated.map_err(|e| api_error(rqctx, e))?))
}

/// PUT and PATCH of a sync: the same partial update.
async fn update_sync(
    rqctx: &RequestContext<Context>,
    workspace_id: i64,
    id: String,
    body: UpdateSyncRequest,
) -> Answer<SyncResponse> {
    let caller = caller(rqctx, workspace_id)?;
    let UpdateSyncRequest { sync } = body;
    let updated = rqctx.context().update_sync(&caller, &id, sync).await;
    Ok(HttpResponseOk(updated.map_err(|e| api_error(rqctx, e))?))
}

impl SquaredApi for ServerImpl {
    type Context = Context;

    async fn create_catalog(
        rqctx: RequestContext<Context>,
        headers: Header<CreateCatalogHeaders>,
        body: TypedBody<CreateCatalogRequest>,
    ) -> Result<HttpResponseCreated<CatalogResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateCatalogHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let created = rqctx.context().create_catalog(&caller, body.into_inner()).await;
            Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn update_catalog(
        rqctx: RequestContext<Context>,
        path: Path<UpdateCatalogPath>,
        headers: Header<UpdateCatalogHeaders>,
        body: TypedBody<CreateCatalogRequest>,
    ) -> Answer<CatalogResponse> {
        observed(&rqctx, async {
            let UpdateCatalogHeaders { workspace_id } = headers.into_inner();
            let UpdateCatalogPath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let updated = rqctx.context().update_catalog(&caller, &id, body.into_inner()).await;
            Ok(HttpResponseOk(updated.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_alert_channels(
        rqctx: RequestContext<Context>,
        query: Query<ListAlertChannelsQuery>,
        headers: Header<ListAlertChannelsHeaders>,
    ) -> Answer<AlertChannelListResponse> {
        observed(&rqctx, async {
            let ListAlertChannelsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListAlertChannelsQuery { page, per_page } = query.into_inner();
            let list = rqctx.context().list_alert_channels(&caller, page, per_page).await;
            Ok(HttpResponseOk(list.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn create_alert_channel(
        rqctx: RequestContext<Context>,
        headers: Header<CreateAlertChannelHeaders>,
        body: TypedBody<CreateAlertChannelRequest>,
    ) -> Result<HttpResponseCreated<AlertChannelResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateAlertChannelHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let created = rqctx.context().create_alert_channel(&caller, body.into_inner()).await;
            Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn show_alert_channel(
        rqctx: RequestContext<Context>,
        path: Path<ShowAlertChannelPath>,
        headers: Header<ShowAlertChannelHeaders>,
    ) -> Answer<AlertChannelResponse> {
        observed(&rqctx, async {
            let ShowAlertChannelHeaders { workspace_id } = headers.into_inner();
            let ShowAlertChannelPath { channel_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let shown = rqctx.context().show_alert_channel(&caller, &channel_id).await;
            Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn delete_alert_channel(
        rqctx: RequestContext<Context>,
        path: Path<DeleteAlertChannelPath>,
        headers: Header<DeleteAlertChannelHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        observed(&rqctx, async {
            let DeleteAlertChannelHeaders { workspace_id } = headers.into_inner();
            let DeleteAlertChannelPath { channel_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            rqctx.context().delete_alert_channel(&caller, &channel_id).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseDeleted())
        })
        .await
    }

    async fn list_alert_rules(
        rqctx: RequestContext<Context>,
        query: Query<ListAlertRulesQuery>,
        headers: Header<ListAlertRulesHeaders>,
    ) -> Answer<AlertRuleListResponse> {
        observed(&rqctx, async {
            let ListAlertRulesHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListAlertRulesQuery { page, per_page } = query.into_inner();
            let list = rqctx.context().list_alert_rules(&caller, page, per_page).await;
            Ok(HttpResponseOk(list.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn create_alert_rule(
        rqctx: RequestContext<Context>,
        headers: Header<CreateAlertRuleHeaders>,
        body: TypedBody<CreateAlertRuleRequest>,
    ) -> Result<HttpResponseCreated<AlertRuleResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateAlertRuleHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let created = rqctx.context().create_alert_rule(&caller, body.into_inner()).await;
            Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn show_alert_rule(
        rqctx: RequestContext<Context>,
        path: Path<ShowAlertRulePath>,
        headers: Header<ShowAlertRuleHeaders>,
    ) -> Answer<AlertRuleResponse> {
        observed(&rqctx, async {
            let ShowAlertRuleHeaders { workspace_id } = headers.into_inner();
            let ShowAlertRulePath { rule_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let shown = rqctx.context().show_alert_rule(&caller, &rule_id).await;
            Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn delete_alert_rule(
        rqctx: RequestContext<Context>,
        path: Path<DeleteAlertRulePath>,
        headers: Header<DeleteAlertRuleHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        observed(&rqctx, async {
            let DeleteAlertRuleHeaders { workspace_id } = headers.into_inner();
            let DeleteAlertRulePath { rule_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            rqctx.context().delete_alert_rule(&caller, &rule_id).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseDeleted())
        })
        .await
    }

    async fn list_alert_deliveries(
        rqctx: RequestContext<Context>,
        query: Query<ListAlertDeliveriesQuery>,
        headers: Header<ListAlertDeliveriesHeaders>,
    ) -> Answer<AlertDeliveryListResponse> {
        observed(&rqctx, async {
            let ListAlertDeliveriesHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListAlertDeliveriesQuery { rule_id, status, page, per_page } = query.into_inner();
            let request = DeliveryListRequest { rule_id, status, page, per_page };
            let list = rqctx.context().list_alert_deliveries(&caller, request).await;
            Ok(HttpResponseOk(list.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_syncs(
        rqctx: RequestContext<Context>,
        query: Query<ListSyncsQuery>,
        headers: Header<ListSyncsHeaders>,
    ) -> Answer<SyncListResponse> {
        observed(&rqctx, async {
            let ListSyncsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListSyncsQuery { page, per_page } = query.into_inner();
            let list = rqctx.context().list_syncs(&caller, page, per_page).await;
            Ok(HttpResponseOk(list.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn create_sync(
        rqctx: RequestContext<Context>,
        headers: Header<CreateSyncHeaders>,
        body: TypedBody<CreateSyncRequest>,
    ) -> Result<HttpResponseCreated<SyncResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateSyncHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let created = rqctx.context().create_sync(&caller, body.into_inner()).await;
            Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn show_sync(
        rqctx: RequestContext<Context>,
        path: Path<ShowSyncPath>,
        headers: Header<ShowSyncHeaders>,
    ) -> Answer<SyncResponse> {
        observed(&rqctx, async {
            let ShowSyncHeaders { workspace_id } = headers.into_inner();
            let ShowSyncPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let shown = rqctx.context().show_sync(&caller, &sync_id).await;
            Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn sync_configurations(
        rqctx: RequestContext<Context>,
        headers: Header<SyncConfigurationsHeaders>,
    ) -> Answer<SyncConfigurationsResponse> {
        observed(&rqctx, async {
            let SyncConfigurationsHeaders { workspace_id } = headers.into_inner();
            caller(&rqctx, workspace_id)?;
            Ok(HttpResponseOk(crate::service::sync_configurations()))
        })
        .await
    }

    async fn update_sync(
        rqctx: RequestContext<Context>,
        path: Path<UpdateSyncPath>,
        headers: Header<UpdateSyncHeaders>,
        body: TypedBody<UpdateSyncRequest>,
    ) -> Answer<SyncResponse> {
        observed(&rqctx, async {
            let UpdateSyncHeaders { workspace_id } = headers.into_inner();
            let UpdateSyncPath { sync_id } = path.into_inner();
            update_sync(&rqctx, workspace_id, sync_id, body.into_inner()).await
        })
        .await
    }

    async fn patch_sync(
        rqctx: RequestContext<Context>,
        path: Path<PatchSyncPath>,
        headers: Header<PatchSyncHeaders>,
        body: TypedBody<UpdateSyncRequest>,
    ) -> Answer<SyncResponse> {
        observed(&rqctx, async {
            let PatchSyncHeaders { workspace_id } = headers.into_inner();
            let PatchSyncPath { sync_id } = path.into_inner();
            update_sync(&rqctx, workspace_id, sync_id, body.into_inner()).await
        })
        .await
    }

    async fn delete_sync(
        rqctx: RequestContext<Context>,
        path: Path<DeleteSyncPath>,
        headers: Header<DeleteSyncHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        observed(&rqctx, async {
            let DeleteSyncHeaders { workspace_id } = headers.into_inner();
            let DeleteSyncPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            rqctx.context().delete_sync(&caller, &sync_id).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseDeleted())
        })
        .await
    }

    async fn enable_sync(
        rqctx: RequestContext<Context>,
        path: Path<EnableSyncPath>,
        headers: Header<EnableSyncHeaders>,
        body: TypedBody<EnableSyncRequest>,
    ) -> Answer<SyncResponse> {
        observed(&rqctx, async {
            let EnableSyncHeaders { workspace_id } = headers.into_inner();
            let EnableSyncPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let changed = rqctx.context().enable_sync(&caller, &sync_id, body.into_inner()).await;
            Ok(HttpResponseOk(changed.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn start_sync_run(
        rqctx: RequestContext<Context>,
        headers: Header<StartSyncRunHeaders>,
        body: TypedBody<StartSyncRunRequest>,
    ) -> Result<HttpResponseCreated<SyncRunResponse>, ApiError> {
        observed(&rqctx, async {
            let StartSyncRunHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let run = rqctx.context().start_sync_run(&caller, body.into_inner()).await;
            Ok(HttpResponseCreated(run.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn cancel_sync_run(
        rqctx: RequestContext<Context>,
        path: Path<CancelSyncRunPath>,
        headers: Header<CancelSyncRunHeaders>,
    ) -> Answer<SyncRunResponse> {
        observed(&rqctx, async {
            let CancelSyncRunHeaders { workspace_id } = headers.into_inner();
            let CancelSyncRunPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let run = rqctx.context().cancel_sync_run(&caller, &sync_id).await;
            Ok(HttpResponseOk(run.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn test_sync(
        rqctx: RequestContext<Context>,
        path: Path<TestSyncPath>,
        headers: Header<TestSyncHeaders>,
    ) -> Answer<TestSyncResponse> {
        observed(&rqctx, async {
            let TestSyncHeaders { workspace_id } = headers.into_inner();
            let TestSyncPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let run = rqctx.context().test_sync(&caller, &sync_id).await;
            Ok(HttpResponseOk(run.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_sync_runs(
        rqctx: RequestContext<Context>,
        path: Path<ListSyncRunsPath>,
        query: Query<ListSyncRunsQuery>,
        headers: Header<ListSyncRunsHeaders>,
    ) -> Answer<SyncRunListResponse> {
        observed(&rqctx, async {
            let ListSyncRunsHeaders { workspace_id } = headers.into_inner();
            let ListSyncRunsPath { sync_id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListSyncRunsQuery { status, page, per_page } = query.into_inner();
            let request = RunListRequest { status, page, per_page };
            let runs = rqctx.context().list_sync_runs(&caller, &sync_id, request).await;
            Ok(HttpResponseOk(runs.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn show_sync_run(
        rqctx: RequestContext<Context>,
        path: Path<ShowSyncRunPath>,
        headers: Header<ShowSyncRunHeaders>,
    ) -> Answer<SyncRunResponse> {
        observed(&rqctx, async {
            let ShowSyncRunHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ShowSyncRunPath { sync_id, sync_run_id } = path.into_inner();
            let run = rqctx.context().show_sync_run(&caller, &sync_id, &sync_run_id).await;
            Ok(HttpResponseOk(run.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_sync_records(
        rqctx: RequestContext<Context>,
        path: Path<ListSyncRecordsPath>,
        query: Query<ListSyncRecordsQuery>,
        headers: Header<ListSyncRecordsHeaders>,
    ) -> Answer<SyncRecordListResponse> {
        observed(&rqctx, async {
            let ListSyncRecordsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListSyncRecordsPath { sync_id, sync_run_id } = path.into_inner();
            let ListSyncRecordsQuery { status, action, primary_key, page, per_page } = query.into_inner();
            let request = RecordListRequest { status, action, primary_key, page, per_page };
            let records = rqctx.context().list_sync_records(&caller, &sync_id, &sync_run_id, request).await;
            Ok(HttpResponseOk(records.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn export_sync_records(
        rqctx: RequestContext<Context>,
        path: Path<ExportSyncRecordsPath>,
        query: Query<ExportSyncRecordsQuery>,
        headers: Header<ExportSyncRecordsHeaders>,
    ) -> Result<ExportSyncRecordsResponse, ApiError> {
        observed(&rqctx, async {
            let ExportSyncRecordsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ExportSyncRecordsPath { sync_id, sync_run_id } = path.into_inner();
            let ExportSyncRecordsQuery { status, action, primary_key } = query.into_inner();
            let request = RecordExportRequest { status, action, primary_key };
            let export = rqctx
                .context()
                .export_sync_records(&caller, &sync_id, &sync_run_id, request, rqctx.log.clone())
                .await
                .map_err(|e| api_error(&rqctx, e))?;
            let disposition = format!("attachment; filename=\"{}\"", export.file_name);
            Ok(ExportSyncRecordsResponse::Status200(
                export.body,
                ExportSyncRecordsHeaders200 { content_disposition: disposition },
            ))
        })
        .await
    }

    async fn get_report(
        rqctx: RequestContext<Context>,
        query: ArrayQuery<GetReportQuery>,
        headers: Header<GetReportHeaders>,
    ) -> Answer<ReportResponse> {
        observed(&rqctx, async {
            let GetReportHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            // `type` has one value, `workspace_activity`: the spec checks it, nothing here reads it.
            let GetReportQuery { type_: _, metric, connector_ids, time_period } = query.into_inner();
            let request = ReportRequest {
                metric,
                connector_ids: connector_ids.map(|ids| ids.into_iter().map(|id| id.0).collect()),
                time_period,
            };
            let report = rqctx.context().get_report(&caller, request).await;
            Ok(HttpResponseOk(report.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_roles(rqctx: RequestContext<Context>, headers: Header<ListRolesHeaders>) -> Answer<RoleListResponse> {
        observed(&rqctx, async {
            let ListRolesHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let roles = rqctx.context().list_roles(&caller);
            Ok(HttpResponseOk(roles.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_models(
        rqctx: RequestContext<Context>,
        query: Query<ListModelsQuery>,
        headers: Header<ListModelsHeaders>,
    ) -> Answer<ModelListResponse> {
        observed(&rqctx, async {
            let ListModelsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListModelsQuery { query_type, page, per_page } = query.into_inner();
            let request = ModelListRequest { query_type, page, per_page };
            let list = rqctx.context().list_models(&caller, request).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseOk(list))
        })
        .await
    }

    async fn create_model(
        rqctx: RequestContext<Context>,
        headers: Header<CreateModelHeaders>,
        body: TypedBody<CreateModelRequest>,
    ) -> Result<HttpResponseCreated<ModelResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateModelHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let CreateModelRequest { model } = body.into_inner();
            let created = rqctx.context().create_model(&caller, model).await;
            Ok(HttpResponseCreated(created.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn show_model(
        rqctx: RequestContext<Context>,
        path: Path<ShowModelPath>,
        headers: Header<ShowModelHeaders>,
    ) -> Answer<ModelResponse> {
        observed(&rqctx, async {
            let ShowModelHeaders { workspace_id } = headers.into_inner();
            let ShowModelPath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let shown = rqctx.context().show_model(&caller, &id).await;
            Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn update_model(
        rqctx: RequestContext<Context>,
        path: Path<UpdateModelPath>,
        headers: Header<UpdateModelHeaders>,
        body: TypedBody<UpdateModelRequest>,
    ) -> Answer<ModelResponse> {
        observed(&rqctx, async {
            let UpdateModelHeaders { workspace_id } = headers.into_inner();
            let UpdateModelPath { id } = path.into_inner();
            update_model(&rqctx, workspace_id, id, body.into_inner()).await
        })
        .await
    }

    async fn patch_model(
        rqctx: RequestContext<Context>,
        path: Path<PatchModelPath>,
        headers: Header<PatchModelHeaders>,
        body: TypedBody<UpdateModelRequest>,
    ) -> Answer<ModelResponse> {
        observed(&rqctx, async {
            let PatchModelHeaders { workspace_id } = headers.into_inner();
            let PatchModelPath { id } = path.into_inner();
            update_model(&rqctx, workspace_id, id, body.into_inner()).await
        })
        .await
    }

    async fn delete_model(
        rqctx: RequestContext<Context>,
        path: Path<DeleteModelPath>,
        headers: Header<DeleteModelHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        observed(&rqctx, async {
            let DeleteModelHeaders { workspace_id } = headers.into_inner();
            let DeleteModelPath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            rqctx.context().delete_model(&caller, &id).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseDeleted())
        })
        .await
    }

    async fn list_connectors(
        rqctx: RequestContext<Context>,
        query: Query<ListConnectorsQuery>,
        headers: Header<ListConnectorsHeaders>,
    ) -> Answer<ConnectorListResponse> {
        observed(&rqctx, async {
            let ListConnectorsHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let ListConnectorsQuery { type_, category, sub_category, page, per_page } = query.into_inner();
            let request = ListRequest { connector_type: type_, category, sub_category, page, per_page };
            let list = rqctx.context().list_connectors(&caller, request).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseOk(list))
        })
        .await
    }

    async fn create_connector(
        rqctx: RequestContext<Context>,
        headers: Header<CreateConnectorHeaders>,
        body: TypedBody<CreateConnectorRequest>,
    ) -> Result<HttpResponseCreated<ConnectorResponse>, ApiError> {
        observed(&rqctx, async {
            let CreateConnectorHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let CreateConnectorRequest { connector: input } = body.into_inner();
            let created = rqctx.context().create_connector(&caller, input).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseCreated(created))
        })
        .await
    }

    async fn show_connector(
        rqctx: RequestContext<Context>,
        path: Path<ShowConnectorPath>,
        headers: Header<ShowConnectorHeaders>,
    ) -> Answer<ConnectorResponse> {
        observed(&rqctx, async {
            let ShowConnectorHeaders { workspace_id } = headers.into_inner();
            let ShowConnectorPath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let shown = rqctx.context().show_connector(&caller, &id).await;
            Ok(HttpResponseOk(shown.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn update_connector(
        rqctx: RequestContext<Context>,
        path: Path<UpdateConnectorPath>,
        headers: Header<UpdateConnectorHeaders>,
        body: TypedBody<UpdateConnectorRequest>,
    ) -> Answer<ConnectorResponse> {
        observed(&rqctx, async {
            let UpdateConnectorHeaders { workspace_id } = headers.into_inner();
            let UpdateConnectorPath { id } = path.into_inner();
            update(&rqctx, workspace_id, id, body.into_inner()).await
        })
        .await
    }

    async fn patch_connector(
        rqctx: RequestContext<Context>,
        path: Path<PatchConnectorPath>,
        headers: Header<PatchConnectorHeaders>,
        body: TypedBody<UpdateConnectorRequest>,
    ) -> Answer<ConnectorResponse> {
        observed(&rqctx, async {
            let PatchConnectorHeaders { workspace_id } = headers.into_inner();
            let PatchConnectorPath { id } = path.into_inner();
            update(&rqctx, workspace_id, id, body.into_inner()).await
        })
        .await
    }

    async fn delete_connector(
        rqctx: RequestContext<Context>,
        path: Path<DeleteConnectorPath>,
        headers: Header<DeleteConnectorHeaders>,
    ) -> Result<HttpResponseDeleted, ApiError> {
        observed(&rqctx, async {
            let DeleteConnectorHeaders { workspace_id } = headers.into_inner();
            let DeleteConnectorPath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            rqctx.context().delete_connector(&caller, &id).await.map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseDeleted())
        })
        .await
    }

    async fn discover_connector(
        rqctx: RequestContext<Context>,
        path: Path<DiscoverConnectorPath>,
        query: Query<DiscoverConnectorQuery>,
        headers: Header<DiscoverConnectorHeaders>,
    ) -> Answer<CatalogResponse> {
        observed(&rqctx, async {
            let DiscoverConnectorHeaders { workspace_id } = headers.into_inner();
            let DiscoverConnectorPath { id } = path.into_inner();
            let DiscoverConnectorQuery { refresh } = query.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let discovered = rqctx.context().discover(&caller, &id, refresh).await;
            Ok(HttpResponseOk(discovered.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn query_source(
        rqctx: RequestContext<Context>,
        path: Path<QuerySourcePath>,
        headers: Header<QuerySourceHeaders>,
        body: TypedBody<QuerySourceRequest>,
    ) -> Answer<QuerySourceResponse> {
        observed(&rqctx, async {
            let QuerySourceHeaders { workspace_id } = headers.into_inner();
            let QuerySourcePath { id } = path.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let rows = rqctx.context().query_source(&caller, &id, body.into_inner()).await;
            Ok(HttpResponseOk(rows.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn check_connection(
        rqctx: RequestContext<Context>,
        headers: Header<CheckConnectionHeaders>,
        body: TypedBody<CheckConnectionRequest>,
    ) -> Answer<CheckConnectionResponse> {
        observed(&rqctx, async {
            let CheckConnectionHeaders { workspace_id } = headers.into_inner();
            let caller = caller(&rqctx, workspace_id)?;
            let outcome = rqctx.context().check_connection(&caller, body.into_inner()).await;
            Ok(HttpResponseOk(outcome.map_err(|e| api_error(&rqctx, e))?))
        })
        .await
    }

    async fn list_connector_definitions(
        rqctx: RequestContext<Context>,
        query: Query<ListConnectorDefinitionsQuery>,
        headers: Header<ListConnectorDefinitionsHeaders>,
    ) -> Answer<Vec<ConnectorDefinition>> {
        observed(&rqctx, async {
            let ListConnectorDefinitionsHeaders { workspace_id } = headers.into_inner();
            caller(&rqctx, workspace_id)?;
            let ListConnectorDefinitionsQuery { type_, category } = query.into_inner();
            Ok(HttpResponseOk(rqctx.context().list_connector_definitions(type_, category)))
        })
        .await
    }

    async fn show_connector_definition(
        rqctx: RequestContext<Context>,
        path: Path<ShowConnectorDefinitionPath>,
        query: Query<ShowConnectorDefinitionQuery>,
        headers: Header<ShowConnectorDefinitionHeaders>,
    ) -> Answer<ConnectorDefinition> {
        observed(&rqctx, async {
            let ShowConnectorDefinitionHeaders { workspace_id } = headers.into_inner();
            let ShowConnectorDefinitionPath { connector_name } = path.into_inner();
            let ShowConnectorDefinitionQuery { type_ } = query.into_inner();
            caller(&rqctx, workspace_id)?;
            let definition =
                rqctx.context().show_connector_definition(type_, &connector_name).map_err(|e| api_error(&rqctx, e))?;
            Ok(HttpResponseOk(definition))
        })
        .await
    }
}

/// The API description: the generated trait's endpoints (its dispatchers answer 404 and 405
/// for the paths dropshot cannot hold apart; see `squared_api`'s `dispatch`).
pub fn api_description() -> Result<dropshot::ApiDescription<Context>, String> {
    squared_api_mod::api_description::<ServerImpl>().map_err(|e| e.to_string())
}
