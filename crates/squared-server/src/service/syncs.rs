//! Syncs, and their runs and records as the API lists them.
//!
//! The rules of a sync live in [`Service::settle_sync`], shared by create and update:
//! source, model and destination are all in the caller's workspace (the open-source server
//! does not check this); the model reads the source and its query was checked; the schedule
//! has what its type needs, and loses what it does not; an incremental sync's cursor is a
//! column of the model; `stream_name` is a stream of the destination's catalog; every mapped
//! source column is in the model and every destination field in the stream; deleting the rows
//! that left the model needs a database destination whose one-column primary key the model's
//! primary key is mapped to.
//!
//! What a run does is the sync engine's; here a manual run is created `pending`, canceled,
//! and listed.

use std::collections::BTreeMap;

use serde_json::Value;
use squared_types::{
    CatalogMappingTypes, ConnectorSummary, CreateSyncRequest, EnableSyncRequest, MappingOption, ModelSummary,
    StartSyncRunRequest, Sync, SyncAttributes, SyncConfigurations, SyncConfigurationsData, SyncConfigurationsResponse,
    SyncInput, SyncIntervalUnit, SyncListResponse, SyncMapping, SyncMappingType, SyncMode, SyncRecord,
    SyncRecordAction, SyncRecordAttributes, SyncRecordListResponse, SyncRecordStatus, SyncResponse, SyncRun,
    SyncRunAttributes, SyncRunListResponse, SyncRunResponse, SyncRunStatus, SyncRunType, SyncScheduleType, SyncStatus,
    SyncUpdate, TemplateOptions, TestSyncResponse,
};

use super::permissions::{Action, Resource};
use super::{Service, page_links};
use crate::auth::Caller;
use crate::error::{Problem, ServiceError, pointer_token};
use crate::runtime::{CursorPosition, Runtime};
use crate::store::{NewSync, RecordFilter, RunScope, StoreError, StoredConnector, StoredRecord, StoredRun, StoredSync};
use crate::sync::mapping;
use crate::sync::schedule::{next_run, parse_cron};
use crate::sync::values::{JsonType, writable};

/// The JSON:API resource types.
pub const SYNC_RESOURCE: &str = "syncs";
pub const RUN_RESOURCE: &str = "sync_runs";
pub const RECORD_RESOURCE: &str = "sync_records";

/// The filter and page of a run list request.
pub struct RunListRequest {
    pub status: Option<SyncRunStatus>,
    pub page: i64,
    pub per_page: i64,
}

/// The filter and page of a record list request.
pub struct RecordListRequest {
    pub status: Option<SyncRecordStatus>,
    pub action: Option<SyncRecordAction>,
    /// One row's records across the sync's runs up to this one, instead of this run's.
    pub primary_key: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

/// A sync as a create or an update would leave it, before the rules are checked.
struct SyncDraft {
    name: Option<String>,
    source_id: i64,
    model_id: i64,
    destination_id: i64,
    schedule_type: SyncScheduleType,
    sync_interval: Option<i64>,
    sync_interval_unit: Option<SyncIntervalUnit>,
    cron_expression: Option<String>,
    sync_mode: SyncMode,
    cursor_field: Option<String>,
    stream_name: String,
    configuration: SyncMapping,
    delete_removed_rows: bool,
}

impl From<SyncInput> for SyncDraft {
    fn from(input: SyncInput) -> Self {
        let SyncInput {
            name,
            source_id,
            model_id,
            destination_id,
            schedule_type,
            sync_interval,
            sync_interval_unit,
            cron_expression,
            sync_mode,
            cursor_field,
            stream_name,
            configuration,
            delete_removed_rows,
        } = input;
        SyncDraft {
            name,
            source_id,
            model_id,
            destination_id,
            schedule_type,
            sync_interval,
            sync_interval_unit,
            cron_expression,
            sync_mode,
            cursor_field,
            stream_name,
            configuration,
            delete_removed_rows: delete_removed_rows.unwrap_or(false),
        }
    }
}

/// What a sync's mapping may hold (`GET /api/v1/syncs/configurations`): the value types of a
/// static entry, and the variables and filters of a template entry.
pub fn sync_configurations() -> SyncConfigurationsResponse {
    let options = |entries: &[(&str, &str, &str)]| -> BTreeMap<String, MappingOption> {
        entries
            .iter()
            .map(|(name, kind, description)| {
                (
                    (*name).to_owned(),
                    MappingOption { type_: (*kind).to_owned(), description: (*description).to_owned() },
                )
            })
            .collect()
    };
    SyncConfigurationsResponse {
        data: SyncConfigurationsData {
            configurations: SyncConfigurations {
                catalog_mapping_types: CatalogMappingTypes {
                    standard: String::new(),
                    static_: options(&[
                        ("string", "string", "A text value, written as given."),
                        ("number", "float", "A number, written as given."),
                        ("boolean", "boolean", "true or false."),
                        ("null", "null", "No value."),
                    ]),
                    template: TemplateOptions {
                        variable: options(&[(
                            "current_timestamp",
                            "datetime",
                            "When the run began, RFC 3339 in UTC; the row's columns are variables too.",
                        )]),
                        filter: options(&[
                            ("upcase", "string", "The text in upper case."),
                            ("downcase", "string", "The text in lower case."),
                            ("strip", "string", "The text without leading and trailing white space."),
                        ]),
                    },
                },
            },
        },
    }
}

impl Service {
    fn sync_not_found(caller: &Caller, id: &str) -> ServiceError {
        ServiceError::NotFound(format!("there is no sync {id} in workspace {}", caller.workspace_id))
    }

    async fn stored_sync(&self, caller: &Caller, id: &str) -> Result<StoredSync, ServiceError> {
        let numeric: i64 = id.parse().map_err(|_| Self::sync_not_found(caller, id))?;
        self.store.get_sync(caller.workspace_id, numeric).await?.ok_or_else(|| Self::sync_not_found(caller, id))
    }

    /// The sync `draft` describes, checked against every rule (see the module doc).
    async fn settle_sync(
        &self,
        caller: &Caller,
        draft: SyncDraft,
        status: SyncStatus,
    ) -> Result<NewSync, ServiceError> {
        let workspace = caller.workspace_id;
        let mut problems = Vec::new();
        let source = self.store.get_connector(workspace, draft.source_id).await?;
        match &source {
            None => problems.push(Problem::new(
                "/sync/source_id",
                format!("there is no connector {} in workspace {workspace}", draft.source_id),
            )),
            Some(c) if c.connector_type != squared_types::ConnectorType::Source => problems
                .push(Problem::new("/sync/source_id", format!("connector {} is a destination, not a source", c.id))),
            Some(_) => {}
        }
        let destination = self.store.get_connector(workspace, draft.destination_id).await?;
        match &destination {
            None => problems.push(Problem::new(
                "/sync/destination_id",
                format!("there is no connector {} in workspace {workspace}", draft.destination_id),
            )),
            Some(c) if c.connector_type != squared_types::ConnectorType::Destination => problems.push(Problem::new(
                "/sync/destination_id",
                format!("connector {} is a source, not a destination", c.id),
            )),
            Some(_) => {}
        }
        let model = self.store.get_model(workspace, draft.model_id).await?;
        let columns: Option<Vec<String>> = match &model {
            None => {
                problems.push(Problem::new(
                    "/sync/model_id",
                    format!("there is no model {} in workspace {workspace}", draft.model_id),
                ));
                None
            }
            Some(model) if model.connector_id != draft.source_id => {
                problems.push(Problem::new(
                    "/sync/model_id",
                    format!(
                        "model {} reads connector {}, not the sync's source {}",
                        model.id, model.connector_id, draft.source_id
                    ),
                ));
                None
            }
            Some(model) => match &model.columns {
                Some(columns) => Some(
                    columns
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
                        .collect(),
                ),
                None => {
                    problems.push(Problem::new(
                        "/sync/model_id",
                        format!(
                            "model {} is a {} model whose query this server has not checked, so it cannot sync it \
                             yet: syncs read raw_sql and table_selector models of PostgreSQL and MariaDB sources",
                            model.id, model.query_type
                        ),
                    ));
                    None
                }
            },
        };

        // The schedule: what its type needs, and nothing it does not.
        let (mut interval, mut unit, mut cron) = (draft.sync_interval, draft.sync_interval_unit, draft.cron_expression);
        match draft.schedule_type {
            SyncScheduleType::Manual => (interval, unit, cron) = (None, None, None),
            SyncScheduleType::Interval => {
                cron = None;
                if interval.is_none() {
                    problems.push(Problem::new("/sync/sync_interval", "an interval schedule needs `sync_interval`"));
                }
                if unit.is_none() {
                    problems.push(Problem::new(
                        "/sync/sync_interval_unit",
                        "an interval schedule needs `sync_interval_unit`",
                    ));
                }
            }
            SyncScheduleType::CronExpression => {
                (interval, unit) = (None, None);
                match cron.as_deref().map(str::trim) {
                    None | Some("") => {
                        problems.push(Problem::new("/sync/cron_expression", "a cron schedule needs `cron_expression`"))
                    }
                    Some(text) => {
                        if let Err(why) = parse_cron(text) {
                            problems.push(Problem::new("/sync/cron_expression", why));
                        }
                        cron = Some(text.to_owned());
                    }
                }
            }
        }
        let cursor_field = match draft.sync_mode {
            SyncMode::FullRefresh => None,
            SyncMode::Incremental => {
                match (&draft.cursor_field, &columns) {
                    (None, _) => {
                        problems.push(Problem::new("/sync/cursor_field", "an incremental sync needs `cursor_field`"))
                    }
                    (Some(cursor), Some(columns)) if !columns.contains(cursor) => problems.push(Problem::new(
                        "/sync/cursor_field",
                        format!("`{cursor}` is not a column of the model; it has {}", columns.join(", ")),
                    )),
                    _ => {}
                }
                draft.cursor_field
            }
        };
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let (destination, columns) = (destination.expect("checked"), columns.expect("checked"));

        // The stream, from the destination's catalog (kept, or discovered now).
        let catalog = self.connectors.catalog_of(&destination, false).await.map_err(|error| match error {
            ServiceError::Unavailable(_) | ServiceError::Internal(_) => error,
            other => ServiceError::invalid(
                "/sync/stream_name",
                format!(
                    "the streams of destination {} cannot be known ({other}); define its catalog with POST \
                     /api/v1/catalogs",
                    destination.id
                ),
            ),
        })?;
        let streams = catalog.catalog.get("streams").and_then(Value::as_array).cloned().unwrap_or_default();
        let Some(stream) = streams.iter().find(|s| s.get("name").and_then(Value::as_str) == Some(&draft.stream_name))
        else {
            let names: Vec<&str> = streams.iter().filter_map(|s| s.get("name").and_then(Value::as_str)).collect();
            return Err(ServiceError::invalid(
                "/sync/stream_name",
                format!(
                    "destination {} has no stream `{}`; it has {}",
                    destination.id,
                    draft.stream_name,
                    names.join(", ")
                ),
            ));
        };
        // A stream without properties takes records of any shape.
        let fields: Option<Vec<&str>> = stream
            .pointer("/json_schema/properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect());
        let mapping_problems = check_mapping(&draft.configuration, &columns, fields.as_deref(), &draft.stream_name);
        if mapping_problems.is_empty() {
            // Every column and field is there: can each field take what is mapped to it?
            let column_types: Vec<(String, Option<JsonType>)> = model
                .as_ref()
                .and_then(|m| m.columns.as_ref())
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let name = c.get("name").and_then(Value::as_str)?;
                    Some((name.to_owned(), c.get("type").and_then(Value::as_str).and_then(JsonType::of_name)))
                })
                .collect();
            let field_types: Vec<(String, Option<JsonType>)> = stream
                .pointer("/json_schema/properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(name, schema)| (name.clone(), JsonType::of_schema(schema)))
                .collect();
            let booleans_are_numbers = matches!(
                Runtime::of(destination.connector_type, &destination.connector_name),
                Some(Runtime::MariaDbDestination)
            );
            let types = MappedTypes { columns: &column_types, fields: &field_types, booleans_are_numbers };
            problems.extend(check_value_types(&draft.configuration, &types, &draft.stream_name));
        }
        problems.extend(mapping_problems);
        if draft.delete_removed_rows {
            let model_key = model.as_ref().and_then(|m| m.primary_key.clone()).unwrap_or_default();
            let stream_key: Vec<&str> = stream
                .get("primary_key")
                .and_then(Value::as_array)
                .map(|key| key.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let database = matches!(
                Runtime::of(destination.connector_type, &destination.connector_name),
                Some(Runtime::PostgresDestination | Runtime::MariaDbDestination)
            );
            let why = if !database {
                Some(format!("destination {} cannot delete rows; only database destinations can", destination.id))
            } else if stream_key.len() != 1
                || mapping::destination_of(&draft.configuration, &model_key) != Some(stream_key[0])
            {
                Some(format!(
                    "deleting removed rows needs the mapping to send the model's primary key `{model_key}` to the \
                     one-column primary key of stream `{}` ({})",
                    draft.stream_name,
                    if stream_key.is_empty() { "it has none".to_owned() } else { stream_key.join(", ") }
                ))
            } else {
                None
            };
            if let Some(why) = why {
                problems.push(Problem::new("/sync/delete_removed_rows", why));
            }
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        Ok(NewSync {
            workspace_id: workspace,
            name: draft.name,
            source_id: draft.source_id,
            model_id: draft.model_id,
            destination_id: draft.destination_id,
            schedule_type: draft.schedule_type,
            sync_interval: interval,
            sync_interval_unit: unit,
            cron_expression: cron,
            sync_mode: draft.sync_mode,
            cursor_field,
            stream_name: draft.stream_name,
            configuration: serde_json::to_value(&draft.configuration).expect("a mapping serializes"),
            status,
            next_run_at: None,
            delete_removed_rows: draft.delete_removed_rows,
        })
    }

    pub async fn create_sync(&self, caller: &Caller, request: CreateSyncRequest) -> Result<SyncResponse, ServiceError> {
        let CreateSyncRequest { sync } = request;
        Self::require(caller, Resource::Sync, Action::Create)?;
        let mut new = self.settle_sync(caller, sync.into(), SyncStatus::Pending).await?;
        new.next_run_at = next_run_of(&new);
        let stored = self.store.insert_sync(&new).await.map_err(|e| vanished(e, "/sync"))?;
        Ok(SyncResponse { data: self.sync_resource(&stored).await? })
    }

    pub async fn list_syncs(
        &self,
        caller: &Caller,
        page: i64,
        per_page: i64,
    ) -> Result<SyncListResponse, ServiceError> {
        let offset = (page - 1).saturating_mul(per_page);
        let (syncs, total) = self.store.list_syncs(caller.workspace_id, per_page, offset).await?;
        let mut data = Vec::with_capacity(syncs.len());
        for sync in &syncs {
            data.push(self.sync_resource(sync).await?);
        }
        Ok(SyncListResponse { data, links: page_links("/api/v1/syncs", &[], page, per_page, total) })
    }

    pub async fn show_sync(&self, caller: &Caller, id: &str) -> Result<SyncResponse, ServiceError> {
        let stored = self.stored_sync(caller, id).await?;
        Ok(SyncResponse { data: self.sync_resource(&stored).await? })
    }

    pub async fn update_sync(
        &self,
        caller: &Caller,
        id: &str,
        update: SyncUpdate,
    ) -> Result<SyncResponse, ServiceError> {
        let SyncUpdate {
            name,
            source_id,
            model_id,
            destination_id,
            schedule_type,
            sync_interval,
            sync_interval_unit,
            cron_expression,
            sync_mode,
            cursor_field,
            stream_name,
            configuration,
            delete_removed_rows,
        } = update;
        Self::require(caller, Resource::Sync, Action::Update)?;
        let stored = self.stored_sync(caller, id).await?;
        let configuration: SyncMapping = match configuration {
            Some(mapping) => mapping,
            None => serde_json::from_value(stored.configuration.clone())
                .map_err(|e| ServiceError::Internal(format!("sync {} mapping: {e}", stored.id)))?,
        };
        let draft = SyncDraft {
            name: name.or_else(|| stored.name.clone()),
            source_id: source_id.unwrap_or(stored.source_id),
            model_id: model_id.unwrap_or(stored.model_id),
            destination_id: destination_id.unwrap_or(stored.destination_id),
            schedule_type: schedule_type.unwrap_or(stored.schedule_type),
            sync_interval: sync_interval.or(stored.sync_interval),
            sync_interval_unit: sync_interval_unit.or(stored.sync_interval_unit),
            cron_expression: cron_expression.or_else(|| stored.cron_expression.clone()),
            sync_mode: sync_mode.unwrap_or(stored.sync_mode),
            cursor_field: cursor_field.or_else(|| stored.cursor_field.clone()),
            stream_name: stream_name.unwrap_or_else(|| stored.stream_name.clone()),
            configuration,
            delete_removed_rows: delete_removed_rows.unwrap_or(stored.delete_removed_rows),
        };
        let mut changed = self.settle_sync(caller, draft, stored.status).await?;
        let same_schedule =
            (&changed.schedule_type, changed.sync_interval, &changed.sync_interval_unit, &changed.cron_expression)
                == (&stored.schedule_type, stored.sync_interval, &stored.sync_interval_unit, &stored.cron_expression);
        changed.next_run_at = if same_schedule { stored.next_run_at } else { next_run_of(&changed) };
        // What an incremental read's position means changes with these: read from the start.
        let reset_cursor = (changed.source_id, changed.model_id, &changed.sync_mode, &changed.cursor_field)
            != (stored.source_id, stored.model_id, &stored.sync_mode, &stored.cursor_field);
        let updated = self
            .store
            .update_sync(caller.workspace_id, stored.id, &changed, reset_cursor)
            .await
            .map_err(|e| vanished(e, "/sync"))?
            .ok_or_else(|| Self::sync_not_found(caller, id))?;
        Ok(SyncResponse { data: self.sync_resource(&updated).await? })
    }

    pub async fn enable_sync(
        &self,
        caller: &Caller,
        id: &str,
        request: EnableSyncRequest,
    ) -> Result<SyncResponse, ServiceError> {
        let EnableSyncRequest { enable } = request;
        Self::require(caller, Resource::Sync, Action::Update)?;
        let stored = self.stored_sync(caller, id).await?;
        let status = match (enable, stored.status) {
            (false, _) => SyncStatus::Disabled,
            (true, SyncStatus::Disabled) => SyncStatus::Pending,
            (true, other) => other,
        };
        let updated = self
            .store
            .set_sync_status(caller.workspace_id, stored.id, status)
            .await?
            .ok_or_else(|| Self::sync_not_found(caller, id))?;
        Ok(SyncResponse { data: self.sync_resource(&updated).await? })
    }

    pub async fn delete_sync(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        Self::require(caller, Resource::Sync, Action::Delete)?;
        let stored = self.stored_sync(caller, id).await?;
        match self.store.delete_sync(caller.workspace_id, stored.id).await? {
            true => Ok(()),
            false => Err(Self::sync_not_found(caller, id)),
        }
    }

    pub async fn start_sync_run(
        &self,
        caller: &Caller,
        request: StartSyncRunRequest,
    ) -> Result<SyncRunResponse, ServiceError> {
        let StartSyncRunRequest { schedule_sync } = request;
        Self::require(caller, Resource::SyncRun, Action::Create)?;
        let sync_id = schedule_sync.sync_id;
        let refuse = |detail: String| ServiceError::invalid("/schedule_sync/sync_id", detail);
        let sync = self
            .store
            .get_sync(caller.workspace_id, sync_id)
            .await?
            .ok_or_else(|| refuse(format!("there is no sync {sync_id} in workspace {}", caller.workspace_id)))?;
        // A dry run writes nothing, so any sync may have one, whatever its schedule or status.
        if schedule_sync.dry_run {
            let run = self.insert_run(&sync, SyncRunType::DryRun, refuse).await?;
            return Ok(SyncRunResponse { data: run_resource(&run)? });
        }
        if sync.schedule_type != SyncScheduleType::Manual {
            return Err(refuse(format!(
                "sync {sync_id} runs on its {} schedule; only a manual sync is started by hand",
                sync.schedule_type
            )));
        }
        if sync.status == SyncStatus::Disabled {
            return Err(refuse(format!("sync {sync_id} is disabled; enable it first")));
        }
        let run = self.insert_run(&sync, SyncRunType::General, refuse).await?;
        Ok(SyncRunResponse { data: run_resource(&run)? })
    }

    /// Starts a test run of a sync: one row of the model, mapped and written, and nothing kept
    /// as the sync's.
    pub async fn test_sync(&self, caller: &Caller, sync_id: &str) -> Result<TestSyncResponse, ServiceError> {
        Self::require(caller, Resource::SyncRun, Action::Create)?;
        let sync = self.stored_sync(caller, sync_id).await?;
        let run = self.insert_run(&sync, SyncRunType::Test, ServiceError::Unprocessable).await?;
        Ok(TestSyncResponse { message: "Sync test triggered successfully".to_owned(), data: run_resource(&run)? })
    }

    /// Creates a pending run of `sync` and wakes a runner; refused (by `refuse`) while another
    /// run of the sync is active.
    async fn insert_run(
        &self,
        sync: &StoredSync,
        run_type: SyncRunType,
        refuse: impl Fn(String) -> ServiceError,
    ) -> Result<StoredRun, ServiceError> {
        let already = || refuse(format!("sync {} already has an active run; cancel it or wait for it", sync.id));
        if self.store.has_active_run(sync.id).await? {
            return Err(already());
        }
        // The unique index settles a race with another request, on any instance.
        let run = self.store.insert_run(sync.workspace_id, sync.id, run_type).await.map_err(|e| match e {
            StoreError::Duplicate => already(),
            other => other.into(),
        })?;
        // This process's runner takes it at once; other instances' runners find it soon.
        self.runs_waiting.notify_one();
        Ok(run)
    }

    pub async fn cancel_sync_run(&self, caller: &Caller, sync_id: &str) -> Result<SyncRunResponse, ServiceError> {
        Self::require(caller, Resource::SyncRun, Action::Update)?;
        let sync = self.stored_sync(caller, sync_id).await?;
        let reason = format!("canceled by {}", caller.subject);
        let run = self
            .store
            .cancel_active_run(sync.id, &reason)
            .await?
            .ok_or_else(|| ServiceError::Unprocessable(format!("sync {sync_id} has no active run to cancel")))?;
        Ok(SyncRunResponse { data: run_resource(&run)? })
    }

    pub async fn list_sync_runs(
        &self,
        caller: &Caller,
        sync_id: &str,
        request: RunListRequest,
    ) -> Result<SyncRunListResponse, ServiceError> {
        let sync = self.stored_sync(caller, sync_id).await?;
        let offset = (request.page - 1).saturating_mul(request.per_page);
        let (runs, total) = self.store.list_runs(sync.id, request.status, request.per_page, offset).await?;
        let filters: Vec<(&str, &str)> = request.status.map(|s| ("status", s.as_str())).into_iter().collect();
        let path = format!("/api/v1/syncs/{}/sync_runs", sync.id);
        Ok(SyncRunListResponse {
            data: runs.iter().map(run_resource).collect::<Result<_, _>>()?,
            links: page_links(&path, &filters, request.page, request.per_page, total),
        })
    }

    pub async fn show_sync_run(
        &self,
        caller: &Caller,
        sync_id: &str,
        run_id: &str,
    ) -> Result<SyncRunResponse, ServiceError> {
        let run = self.stored_run(caller, sync_id, run_id).await?;
        Ok(SyncRunResponse { data: run_resource(&run)? })
    }

    pub(super) async fn stored_run(
        &self,
        caller: &Caller,
        sync_id: &str,
        run_id: &str,
    ) -> Result<StoredRun, ServiceError> {
        let sync = self.stored_sync(caller, sync_id).await?;
        let not_found = || ServiceError::NotFound(format!("sync {sync_id} has no run {run_id}"));
        let numeric: i64 = run_id.parse().map_err(|_| not_found())?;
        self.store.get_run(sync.id, numeric).await?.ok_or_else(not_found)
    }

    pub async fn list_sync_records(
        &self,
        caller: &Caller,
        sync_id: &str,
        run_id: &str,
        request: RecordListRequest,
    ) -> Result<SyncRecordListResponse, ServiceError> {
        let run = self.stored_run(caller, sync_id, run_id).await?;
        let offset = (request.page - 1).saturating_mul(request.per_page);
        let filter = record_filter(&run, request.primary_key.clone(), request.status, request.action);
        let (records, total) = self.store.list_records(run.sync_id, &filter, request.per_page, offset).await?;
        let filters: Vec<(&str, &str)> = [
            request.primary_key.as_deref().map(|key| ("primary_key", key)),
            request.status.map(|s| ("status", s.as_str())),
            request.action.map(|a| ("action", a.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect();
        let path = format!("/api/v1/syncs/{}/sync_runs/{}/sync_records", run.sync_id, run.id);
        Ok(SyncRecordListResponse {
            data: records.iter().map(record_resource).collect::<Result<_, _>>()?,
            links: page_links(&path, &filters, request.page, request.per_page, total),
        })
    }

    /// Refuses to delete what syncs (or, for a connector, models) use, naming them.
    pub(super) async fn refuse_if_used(
        &self,
        connector_id: Option<i64>,
        model_id: Option<i64>,
    ) -> Result<(), ServiceError> {
        let mut users = Vec::new();
        if let Some(connector_id) = connector_id {
            let models = self.store.models_of_connector(connector_id).await?;
            if !models.is_empty() {
                let named: Vec<String> = models.iter().map(|(id, name)| format!("{id} ({name})")).collect();
                users.push(format!("models {}", named.join(", ")));
            }
        }
        let syncs = self.store.syncs_using(connector_id, model_id).await?;
        if !syncs.is_empty() {
            let named: Vec<String> = syncs
                .iter()
                .map(|(id, name)| match name {
                    Some(name) => format!("{id} ({name})"),
                    None => id.to_string(),
                })
                .collect();
            users.push(format!("syncs {}", named.join(", ")));
        }
        if users.is_empty() {
            return Ok(());
        }
        let what = match (connector_id, model_id) {
            (Some(id), _) => format!("connector {id}"),
            (None, Some(id)) => format!("model {id}"),
            (None, None) => "it".to_owned(),
        };
        Err(ServiceError::Unprocessable(format!(
            "{what} is used by {}: delete them, or change what they use, first",
            users.join(" and ")
        )))
    }

    async fn sync_resource(&self, stored: &StoredSync) -> Result<Sync, ServiceError> {
        let connector = |id: i64| async move {
            self.store
                .get_connector(stored.workspace_id, id)
                .await?
                .ok_or_else(|| ServiceError::Internal(format!("sync {} names a missing connector {id}", stored.id)))
        };
        let (source, destination) = (connector(stored.source_id).await?, connector(stored.destination_id).await?);
        let model = self
            .store
            .get_model(stored.workspace_id, stored.model_id)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("sync {} names a missing model", stored.id)))?;
        let last_run = self.store.last_ended_run(stored.id).await?;
        Ok(Sync {
            id: stored.id.to_string(),
            type_: SYNC_RESOURCE.to_owned(),
            attributes: SyncAttributes {
                name: stored.name.clone(),
                source_id: stored.source_id,
                model_id: stored.model_id,
                destination_id: stored.destination_id,
                workspace_id: stored.workspace_id,
                schedule_type: stored.schedule_type,
                sync_interval: stored.sync_interval,
                sync_interval_unit: stored.sync_interval_unit.map(|unit| unit.as_str().to_owned()),
                cron_expression: stored.cron_expression.clone(),
                sync_mode: stored.sync_mode,
                cursor_field: stored.cursor_field.clone(),
                current_cursor: stored
                    .cursor_position
                    .as_ref()
                    .and_then(|position| serde_json::from_value::<CursorPosition>(position.clone()).ok())
                    .map(|position| position.cursor),
                delete_removed_rows: stored.delete_removed_rows,
                stream_name: stored.stream_name.clone(),
                configuration: serde_json::from_value(stored.configuration.clone())
                    .map_err(|e| ServiceError::Internal(format!("sync {} mapping: {e}", stored.id)))?,
                status: stored.status,
                next_run_at: stored.next_run_at,
                last_run_status: last_run.as_ref().map(|run| run.status.as_str().to_owned()),
                last_run_failed_rows: last_run.as_ref().map(|run| run.failed_rows),
                source: self.connector_summary(&source),
                destination: self.connector_summary(&destination),
                model: ModelSummary {
                    id: model.id.to_string(),
                    name: model.name.clone(),
                    query_type: model.query_type,
                },
                created_at: stored.created_at,
                updated_at: stored.updated_at,
            },
        })
    }

    fn connector_summary(&self, connector: &StoredConnector) -> ConnectorSummary {
        ConnectorSummary {
            id: connector.id.to_string(),
            name: connector.name.clone(),
            connector_type: connector.connector_type,
            connector_name: connector.connector_name.clone(),
            icon: self
                .connectors
                .catalog
                .find(connector.connector_type, &connector.connector_name)
                .map(|e| e.definition.icon.clone())
                .unwrap_or_default(),
        }
    }
}

/// The first run of a sync's schedule from now.
fn next_run_of(sync: &NewSync) -> Option<chrono::DateTime<chrono::Utc>> {
    next_run(
        sync.schedule_type,
        sync.sync_interval,
        sync.sync_interval_unit,
        sync.cron_expression.as_deref(),
        chrono::Utc::now(),
    )
}

/// A connector or model deleted between the checks and the write.
fn vanished(error: StoreError, base: &str) -> ServiceError {
    match error {
        StoreError::Missing => ServiceError::invalid(base, "a connector or model it names was deleted meanwhile"),
        other => other.into(),
    }
}

/// Every way `mapping` names a column the model does not have or a field the stream does
/// not have (`fields` is `None` for a stream that takes any field).
fn check_mapping(mapping: &SyncMapping, columns: &[String], fields: Option<&[&str]>, stream: &str) -> Vec<Problem> {
    let base = "/sync/configuration";
    let mut problems = Vec::new();
    let column = |name: &str, pointer: String, problems: &mut Vec<Problem>| {
        if !columns.iter().any(|c| c == name) {
            problems.push(Problem::new(
                pointer,
                format!("`{name}` is not a column of the model; it has {}", columns.join(", ")),
            ));
        }
    };
    let field = |name: &str, pointer: String, problems: &mut Vec<Problem>| {
        if let Some(fields) = fields
            && !fields.contains(&name)
        {
            problems.push(Problem::new(
                pointer,
                format!("`{name}` is not a field of stream `{stream}`; it has {}", fields.join(", ")),
            ));
        }
    };
    match mapping {
        SyncMapping::FieldMap(pairs) => {
            if pairs.is_empty() {
                problems.push(Problem::new(base, "the mapping must map at least one field"));
            }
            for (from, to) in pairs {
                let pointer = format!("{base}/{}", pointer_token(from));
                column(from, pointer.clone(), &mut problems);
                field(to, pointer, &mut problems);
            }
        }
        SyncMapping::Entries(entries) => {
            if entries.is_empty() {
                problems.push(Problem::new(base, "the mapping must map at least one field"));
            }
            for (index, entry) in entries.iter().enumerate() {
                let at = |key: &str| format!("{base}/{index}/{key}");
                match entry.mapping_type {
                    SyncMappingType::Standard => match &entry.from {
                        Some(from) => column(from, at("from"), &mut problems),
                        None => {
                            problems.push(Problem::new(at("from"), "a standard entry needs `from`, a model column"))
                        }
                    },
                    SyncMappingType::Static => {
                        if entry.value.is_none() {
                            problems.push(Problem::new(at("value"), "a static entry needs `value`"));
                        }
                    }
                    SyncMappingType::Template => {
                        if entry.template.as_deref().is_none_or(|t| t.trim().is_empty()) {
                            problems.push(Problem::new(at("template"), "a template entry needs `template`"));
                        }
                    }
                }
                field(&entry.to, at("to"), &mut problems);
            }
        }
    }
    problems
}

/// The types a mapping joins: the model's columns', the stream's fields', and whether the
/// destination reads a boolean as a number.
struct MappedTypes<'a> {
    columns: &'a [(String, Option<JsonType>)],
    fields: &'a [(String, Option<JsonType>)],
    booleans_are_numbers: bool,
}

/// Every mapped value that its destination field cannot take at all (an object into a number,
/// say), at its pointer, naming the column (or value), the field and their types: such a sync
/// would fail every row, so it is refused now. Types that are not known are not checked.
fn check_value_types(mapping: &SyncMapping, types: &MappedTypes<'_>, stream: &str) -> Vec<Problem> {
    let type_of =
        |list: &[(String, Option<JsonType>)], name: &str| list.iter().find(|(n, _)| n == name).and_then(|(_, t)| *t);
    let refusal = |what: String, from: JsonType, to: &str| -> Option<String> {
        let into = type_of(types.fields, to)?;
        (!writable(from, into, types.booleans_are_numbers)).then(|| {
            format!(
                "{what} holds {} values, which field `{to}` of stream `{stream}` ({}) cannot take: map it to a field \
                 of a type that takes it (text or JSON take any), or convert it in the model's query (a CAST)",
                from.name(),
                into.name()
            )
        })
    };
    let base = "/sync/configuration";
    let mut problems = Vec::new();
    match mapping {
        SyncMapping::FieldMap(pairs) => {
            for (from, to) in pairs {
                if let Some(column) = type_of(types.columns, from)
                    && let Some(why) = refusal(format!("column `{from}`"), column, to)
                {
                    problems.push(Problem::new(format!("{base}/{}", pointer_token(from)), why));
                }
            }
        }
        SyncMapping::Entries(entries) => {
            for (index, entry) in entries.iter().enumerate() {
                let (key, what, from) = match entry.mapping_type {
                    SyncMappingType::Standard => {
                        let name = entry.from.as_deref().unwrap_or_default();
                        ("from", format!("column `{name}`"), type_of(types.columns, name))
                    }
                    SyncMappingType::Static => {
                        ("value", "the static value".to_owned(), entry.value.as_ref().and_then(JsonType::of_value))
                    }
                    SyncMappingType::Template => continue,
                };
                if let Some(from) = from
                    && let Some(why) = refusal(what, from, &entry.to)
                {
                    problems.push(Problem::new(format!("{base}/{index}/{key}"), why));
                }
            }
        }
    }
    problems
}

fn run_resource(run: &StoredRun) -> Result<SyncRun, ServiceError> {
    let duration = match (run.started_at, run.finished_at) {
        (Some(start), Some(end)) => Some((end - start).num_milliseconds() as f64 / 1000.0),
        _ => None,
    };
    Ok(SyncRun {
        id: run.id.to_string(),
        type_: RUN_RESOURCE.to_owned(),
        attributes: SyncRunAttributes {
            sync_id: run.sync_id,
            workspace_id: run.workspace_id,
            status: run.status,
            run_type: run.run_type,
            executed_by: run.executed_by.clone(),
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration,
            total_query_rows: run.total_query_rows,
            skipped_rows: run.skipped_rows,
            total_rows: run.total_rows,
            successful_rows: run.successful_rows,
            failed_rows: run.failed_rows,
            inserted_rows: run.inserted_rows,
            updated_rows: run.updated_rows,
            deleted_rows: run.deleted_rows,
            error: run.error.clone(),
            created_at: run.created_at,
            updated_at: run.updated_at,
        },
    })
}

/// The records of `run` that a list or an export shows: the run's, or with `primary_key` one
/// row's across the sync's runs up to this one; of one status and one action when given.
pub(super) fn record_filter(
    run: &StoredRun,
    primary_key: Option<String>,
    status: Option<SyncRecordStatus>,
    action: Option<SyncRecordAction>,
) -> RecordFilter {
    let run = match primary_key {
        None => RunScope::Only(run.id),
        Some(_) => RunScope::UpTo(run.id),
    };
    RecordFilter { run, primary_key, status, action }
}

fn record_resource(record: &StoredRecord) -> Result<SyncRecord, ServiceError> {
    Ok(SyncRecord {
        id: record.id.to_string(),
        type_: RECORD_RESOURCE.to_owned(),
        attributes: SyncRecordAttributes {
            sync_id: record.sync_id,
            sync_run_id: record.sync_run_id,
            primary_key: record.primary_key.clone(),
            record: record.record.as_object().cloned().unwrap_or_default(),
            status: record.status,
            action: record.action,
            error: record.error.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        },
    })
}
