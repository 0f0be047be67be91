//! What each operation does, apart from HTTP: authentication, the rules of the API, secrets,
//! and the shapes of its answers. Handlers in [`crate::http`] only unpack requests and call in.
//! Connectors and their definitions are here; defined catalogs in [`catalogs`], models in
//! [`models`], syncs and their runs in [`syncs`].
//!
//! Configurations are in clear only inside this module, [`crate::connectors`] and the
//! runtimes: they are sealed ([`crate::secrets::Vault::seal`]) before they reach the store and
//! masked ([`Entry::mask`]) before they reach a response.

mod alerts;
mod catalogs;
mod export;
mod models;
pub mod permissions;
mod reports;
mod syncs;

use permissions::{Action, Resource};

pub use alerts::DeliveryListRequest;
pub use export::{RecordExport, RecordExportRequest};
pub use models::ModelListRequest;
pub use reports::ReportRequest;
pub use syncs::{RecordListRequest, RunListRequest, sync_configurations};

use serde_json::{Map, Value};
use std::sync::Arc;

use squared_types::{
    Catalog, CatalogAttributes, CatalogResponse, CheckConnectionRequest, CheckConnectionResponse, ConnectionStatus,
    ConnectionStatusValue, Connector, ConnectorAttributes, ConnectorCategory, ConnectorDefinition,
    ConnectorDefinitionCategoryFilter, ConnectorInput, ConnectorListResponse, ConnectorResponse, ConnectorSubCategory,
    ConnectorType, ConnectorUpdate, PaginationLinks, QuerySourceRequest, QuerySourceResponse, StreamCatalog,
};

use crate::auth::{Caller, TokenVerifier};
use crate::catalog::Entry;
use crate::connectors::Connectors;
use crate::error::{Problem, ServiceError};
use crate::metrics::Metrics;
use crate::runtime::RuntimeError;
use crate::secrets::{self, keep_masked};
use crate::store::{ConnectorFilter, NewConnector, Store, StoreError, StoredCatalog, StoredConnector};

/// The JSON:API resource type of a connector.
pub const CONNECTOR_RESOURCE: &str = "connectors";
/// The JSON:API resource type of a catalog.
pub const CATALOG_RESOURCE: &str = "catalogs";

pub struct Service {
    store: Arc<Store>,
    connectors: Arc<Connectors>,
    verifier: TokenVerifier,
    /// Wakes the runners of this process when a run is created.
    runs_waiting: Arc<tokio::sync::Notify>,
    /// What the operator's endpoints and the request metrics read.
    pub operator: OperatorState,
}

/// What the operator's endpoints ([`crate::operator`]) and the request metrics read besides
/// the store.
pub struct OperatorState {
    pub metrics: Arc<Metrics>,
    /// Whether this process runs syncs (`None`: it does not), and whether its runner still
    /// works.
    pub runner: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// A connector's stored definition and configuration (in clear), which an update starts from.
struct Previous<'a> {
    entry: &'a Entry,
    clear: Value,
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate => {
                ServiceError::invalid("/connector/name", "A connector with the same name already exists.")
            }
            // Races the service's own checks lost to another request.
            StoreError::Missing => ServiceError::invalid("/model/connector_id", "the connector was deleted meanwhile"),
            StoreError::InUse => {
                ServiceError::Unprocessable("it is still in use; list what uses it and try again".into())
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<RuntimeError> for ServiceError {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::Busy(message) => ServiceError::Unavailable(message),
            other => ServiceError::Unprocessable(other.to_string()),
        }
    }
}

/// The filters and page of a list request.
pub struct ListRequest {
    pub connector_type: Option<ConnectorType>,
    pub category: Option<ConnectorCategory>,
    pub sub_category: Option<ConnectorSubCategory>,
    pub page: i64,
    pub per_page: i64,
}

impl Service {
    pub fn new(
        store: Arc<Store>,
        connectors: Arc<Connectors>,
        verifier: TokenVerifier,
        runs_waiting: Arc<tokio::sync::Notify>,
        operator: OperatorState,
    ) -> Self {
        Service { store, connectors, verifier, runs_waiting, operator }
    }

    /// The readiness of the server's database (`Err` names the problem).
    pub async fn check_store(&self) -> Result<(), String> {
        self.store.check_ready().await
    }

    /// How many runs wait for a runner, in every workspace; for the metrics.
    pub async fn pending_runs(&self) -> Result<i64, ServiceError> {
        Ok(self.store.pending_runs().await?)
    }

    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The caller, acting in `workspace_id`, from the `Authorization` header.
    pub fn authenticate(&self, authorization: Option<&str>, workspace_id: i64) -> Result<Caller, ServiceError> {
        self.verifier.authenticate(authorization, workspace_id)
    }

    /// Refuses (403) what the caller's role may not do ([`permissions::allows`]).
    fn require(caller: &Caller, resource: Resource, action: Action) -> Result<(), ServiceError> {
        match permissions::allows(caller.role, resource, action) {
            true => Ok(()),
            false => Err(ServiceError::Forbidden(format!(
                "a {} of workspace {} may not {} a {}",
                permissions::describe(caller.role).0.to_lowercase(),
                caller.workspace_id,
                action.as_str(),
                resource.as_str().replace('_', " ")
            ))),
        }
    }

    /// The definition a connector names, or a 422 at `pointer`.
    fn definition(&self, connector_type: ConnectorType, name: &str, pointer: &str) -> Result<&Entry, ServiceError> {
        self.connectors.catalog.find(connector_type, name).ok_or_else(|| {
            ServiceError::invalid(
                pointer,
                format!(
                    "`{name}` is not a {connector_type} connector; see GET /api/v1/connector_definitions?type={connector_type}"
                ),
            )
        })
    }

    /// The configuration a create, update or check uses, in clear: the one place for the
    /// rules on secrets sent back as [`secrets::MASK`]. Problems point below `base`.
    /// - With nothing stored (create, check), a mask has nothing to keep.
    /// - Under a new definition (name or type), nothing stored carries over: the whole
    ///   configuration must be sent, secrets included.
    /// - Under the same definition, a mask keeps the stored secret only while every field
    ///   that decides where it goes ([`secrets::audience`]) is unchanged; an update without a
    ///   configuration keeps the stored one.
    ///
    /// Then the configuration must be valid for the definition.
    fn settle_configuration(
        entry: &Entry,
        incoming: Option<Map<String, Value>>,
        previous: Option<Previous<'_>>,
        base: &str,
    ) -> Result<Value, Vec<Problem>> {
        let at = |pointers: Vec<String>, detail: &str| -> Vec<Problem> {
            pointers.into_iter().map(|p| Problem::new(format!("{base}{p}"), detail)).collect()
        };
        let same_definition = |previous: &Previous<'_>| {
            previous.entry.connector_type == entry.connector_type
                && previous.entry.definition.name == entry.definition.name
        };
        let clear = match (incoming, previous) {
            (None, Some(previous)) if same_definition(&previous) => previous.clear,
            (None, _) => {
                return Err(vec![Problem::new(
                    base,
                    "a connector that changes its definition needs a complete new configuration: nothing stored \
                     carries over to another definition",
                )]);
            }
            (Some(incoming), previous) => {
                let incoming = Value::Object(incoming);
                let masked = secrets::masked_pointers(entry.schema(), &incoming);
                match previous {
                    _ if masked.is_empty() => incoming,
                    None => return Err(at(masked, "the mask keeps a stored secret, and none is stored here")),
                    Some(previous) if !same_definition(&previous) => {
                        return Err(at(
                            masked,
                            "the connector's definition changes, so this secret must be sent again: a stored secret \
                             never moves to another definition",
                        ));
                    }
                    Some(previous) => {
                        let before = secrets::audience(entry.schema(), &previous.clear);
                        let after = secrets::audience(entry.schema(), &incoming);
                        let moved: Vec<&str> =
                            before.iter().zip(&after).filter(|(a, b)| a != b).map(|(a, _)| a.0.as_str()).collect();
                        if !moved.is_empty() {
                            return Err(at(
                                masked,
                                &format!(
                                    "{} changed, so this secret must be sent again: a stored secret never goes to a \
                                     new destination",
                                    moved.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        keep_masked(entry.schema(), &incoming, &previous.clear).map_err(|pointers| {
                            at(pointers, "the mask keeps a stored secret, and none is stored here")
                        })?
                    }
                }
            }
        };
        if clear.as_object().is_none_or(Map::is_empty) {
            return Err(vec![Problem::new(base, "the configuration must not be empty")]);
        }
        let problems = entry.validate(&clear, base);
        if problems.is_empty() { Ok(clear) } else { Err(problems) }
    }

    pub async fn create_connector(
        &self,
        caller: &Caller,
        input: ConnectorInput,
    ) -> Result<ConnectorResponse, ServiceError> {
        let ConnectorInput { name, description, connector_type, connector_name, configuration } = input;
        Self::require(caller, Resource::Connector, Action::Create)?;
        let mut problems = Vec::new();
        if name.trim().is_empty() {
            problems.push(Problem::new("/connector/name", "`name` must not be empty"));
        }
        let entry = match self.definition(connector_type, &connector_name, "/connector/connector_name") {
            Ok(entry) => Some(entry),
            Err(ServiceError::Invalid(more)) => {
                problems.extend(more);
                None
            }
            Err(other) => return Err(other),
        };
        let mut clear = Value::Null;
        if let Some(entry) = entry {
            match Self::settle_configuration(entry, Some(configuration), None, "/connector/configuration") {
                Ok(settled) => clear = settled,
                Err(more) => problems.extend(more),
            }
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let entry = entry.expect("checked above");
        let stored = self
            .store
            .insert_connector(&NewConnector {
                workspace_id: caller.workspace_id,
                name,
                description,
                connector_type,
                connector_name: entry.definition.name.clone(),
                configuration: self.connectors.vault.seal(entry.schema(), &clear, caller.workspace_id),
            })
            .await?;
        Ok(ConnectorResponse { data: self.connector_resource(stored) })
    }

    pub async fn list_connectors(
        &self,
        caller: &Caller,
        request: ListRequest,
    ) -> Result<ConnectorListResponse, ServiceError> {
        // `page` and `per_page` are within the spec's bounds: the generated types refuse others.
        let definitions = (request.category.is_some() || request.sub_category.is_some()).then(|| {
            self.connectors
                .catalog
                .definitions_in(request.connector_type, request.category, request.sub_category)
                .map(|(connector_type, name)| (connector_type, name.to_owned()))
                .collect::<Vec<_>>()
        });
        let filter = ConnectorFilter { connector_type: request.connector_type, definitions };
        let offset = (request.page - 1).saturating_mul(request.per_page);
        let (connectors, total) =
            self.store.list_connectors(caller.workspace_id, &filter, request.per_page, offset).await?;
        let mut filters = Vec::new();
        if let Some(connector_type) = request.connector_type {
            filters.push(("type", connector_type.as_str()));
        }
        if let Some(category) = request.category {
            filters.push(("category", category.as_str()));
        }
        if let Some(sub_category) = request.sub_category {
            filters.push(("sub_category", sub_category.as_str()));
        }
        Ok(ConnectorListResponse {
            data: connectors.into_iter().map(|c| self.connector_resource(c)).collect(),
            links: page_links("/api/v1/connectors", &filters, request.page, request.per_page, total),
        })
    }

    async fn stored_connector(&self, caller: &Caller, id: &str) -> Result<StoredConnector, ServiceError> {
        let not_found =
            || ServiceError::NotFound(format!("there is no connector {id} in workspace {}", caller.workspace_id));
        let id: i64 = id.parse().map_err(|_| not_found())?;
        self.store.get_connector(caller.workspace_id, id).await?.ok_or_else(not_found)
    }

    pub async fn show_connector(&self, caller: &Caller, id: &str) -> Result<ConnectorResponse, ServiceError> {
        let stored = self.stored_connector(caller, id).await?;
        Ok(ConnectorResponse { data: self.connector_resource(stored) })
    }

    pub async fn update_connector(
        &self,
        caller: &Caller,
        id: &str,
        update: ConnectorUpdate,
    ) -> Result<ConnectorResponse, ServiceError> {
        let ConnectorUpdate { name, description, connector_type, connector_name, configuration } = update;
        Self::require(caller, Resource::Connector, Action::Update)?;
        let stored = self.stored_connector(caller, id).await?;
        let old_entry = self.connectors.entry_of(&stored)?;
        let old_clear = self.connectors.open_with(old_entry, &stored)?;

        let connector_type = connector_type.unwrap_or(stored.connector_type);
        let connector_name = connector_name.unwrap_or_else(|| stored.connector_name.clone());
        let name = name.unwrap_or_else(|| stored.name.clone());
        let mut problems = Vec::new();
        if name.trim().is_empty() {
            problems.push(Problem::new("/connector/name", "`name` must not be empty"));
        }
        let entry = self.definition(connector_type, &connector_name, "/connector/connector_name")?;
        let previous = Previous { entry: old_entry, clear: old_clear };
        let clear = Self::settle_configuration(entry, configuration, Some(previous), "/connector/configuration")
            .unwrap_or_else(|more| {
                problems.extend(more);
                Value::Null
            });
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let changed = NewConnector {
            workspace_id: caller.workspace_id,
            name,
            description: description.or(stored.description),
            connector_type,
            connector_name: entry.definition.name.clone(),
            configuration: self.connectors.vault.seal(entry.schema(), &clear, caller.workspace_id),
        };
        let updated =
            self.store.update_connector(caller.workspace_id, stored.id, &changed).await?.ok_or_else(|| {
                ServiceError::NotFound(format!("there is no connector {id} in workspace {}", caller.workspace_id))
            })?;
        Ok(ConnectorResponse { data: self.connector_resource(updated) })
    }

    pub async fn delete_connector(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        Self::require(caller, Resource::Connector, Action::Delete)?;
        let stored = self.stored_connector(caller, id).await?;
        self.refuse_if_used(Some(stored.id), None).await?;
        if self.store.delete_connector(caller.workspace_id, stored.id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("there is no connector {id} in workspace {}", caller.workspace_id)))
        }
    }

    pub async fn discover(&self, caller: &Caller, id: &str, refresh: bool) -> Result<CatalogResponse, ServiceError> {
        let stored = self.stored_connector(caller, id).await?;
        let catalog = self.connectors.catalog_of(&stored, refresh).await?;
        Self::catalog_response(catalog)
    }

    /// A kept catalog as the API shows it.
    pub(super) fn catalog_response(catalog: StoredCatalog) -> Result<CatalogResponse, ServiceError> {
        let streams: StreamCatalog = serde_json::from_value(catalog.catalog)
            .map_err(|e| ServiceError::Internal(format!("kept catalog of connector {}: {e}", catalog.connector_id)))?;
        Ok(CatalogResponse {
            data: Catalog {
                id: catalog.connector_id.to_string(),
                type_: CATALOG_RESOURCE.into(),
                attributes: CatalogAttributes {
                    connector_id: catalog.connector_id,
                    workspace_id: catalog.workspace_id,
                    catalog: streams,
                    catalog_hash: catalog.catalog_hash,
                },
            },
        })
    }

    pub async fn query_source(
        &self,
        caller: &Caller,
        id: &str,
        request: QuerySourceRequest,
    ) -> Result<QuerySourceResponse, ServiceError> {
        let QuerySourceRequest { query, limit } = request;
        // The query is the caller's own SQL, run with the owner's stored credentials: only
        // those who may change the connector may use it so.
        Self::require(caller, Resource::Model, Action::Create)?;
        let stored = self.stored_connector(caller, id).await?;
        if stored.connector_type != ConnectorType::Source {
            return Err(ServiceError::Unprocessable(format!(
                "connector {id} is a destination; only a source can be queried"
            )));
        }
        let entry = self.connectors.entry_of(&stored)?;
        let clear = self.connectors.open_with(entry, &stored)?;
        let rows = self
            .connectors
            .runtimes
            .query(stored.connector_type, &stored.connector_name, &clear, &query, limit)
            .await?;
        Ok(QuerySourceResponse { data: rows })
    }

    pub async fn check_connection(
        &self,
        caller: &Caller,
        request: CheckConnectionRequest,
    ) -> Result<CheckConnectionResponse, ServiceError> {
        let CheckConnectionRequest { type_, name, connection_spec } = request;
        Self::require(caller, Resource::Connector, Action::Create)?;
        let entry = self.definition(type_, &name, "/name")?;
        let clear = Self::settle_configuration(entry, Some(connection_spec), None, "/connection_spec")
            .map_err(ServiceError::Invalid)?;
        let (status, message) = match self.connectors.runtimes.check(type_, &entry.definition.name, &clear).await? {
            Ok(message) => (ConnectionStatusValue::Succeeded, message),
            Err(message) => (ConnectionStatusValue::Failed, message),
        };
        Ok(CheckConnectionResponse {
            type_: "connection_status".into(),
            connection_status: ConnectionStatus { status, message },
        })
    }

    pub fn list_connector_definitions(
        &self,
        connector_type: ConnectorType,
        category: Option<ConnectorDefinitionCategoryFilter>,
    ) -> Vec<ConnectorDefinition> {
        self.connectors.catalog.list(connector_type, category).map(|e| e.definition.clone()).collect()
    }

    pub fn show_connector_definition(
        &self,
        connector_type: ConnectorType,
        name: &str,
    ) -> Result<ConnectorDefinition, ServiceError> {
        self.connectors.catalog.find(connector_type, name).map(|e| e.definition.clone()).ok_or_else(|| {
            ServiceError::NotFound(format!("there is no {connector_type} connector definition named `{name}`"))
        })
    }

    /// A stored connector as the API shows it, secrets masked. A connector whose definition
    /// left the catalog shows no configuration at all: which fields are secret is unknown.
    fn connector_resource(&self, stored: StoredConnector) -> Connector {
        let entry = self.connectors.catalog.find(stored.connector_type, &stored.connector_name);
        let configuration = match (entry, stored.configuration) {
            (Some(entry), mut configuration) => {
                entry.mask(&mut configuration);
                match configuration {
                    Value::Object(map) => map,
                    _ => Map::new(),
                }
            }
            (None, _) => Map::new(),
        };
        Connector {
            id: stored.id.to_string(),
            type_: CONNECTOR_RESOURCE.to_owned(),
            attributes: ConnectorAttributes {
                name: stored.name,
                description: stored.description,
                connector_type: stored.connector_type.as_str().to_owned(),
                workspace_id: stored.workspace_id,
                created_at: stored.created_at,
                updated_at: stored.updated_at,
                configuration,
                icon: entry.map(|e| e.definition.icon.clone()).unwrap_or_default(),
                connector_name: stored.connector_name,
            },
        }
    }
}

/// The links of one page of a list at `path`, narrowed by `filters` (name, value), of
/// `per_page` items a page and `total` in all.
fn page_links(path: &str, filters: &[(&str, &str)], page: i64, per_page: i64, total: i64) -> PaginationLinks {
    let last = ((total + per_page - 1) / per_page).max(1);
    let link = |page: i64| {
        let mut query: Vec<String> = filters.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
        query.push(format!("page={page}"));
        query.push(format!("per_page={per_page}"));
        format!("{path}?{}", query.join("&"))
    };
    PaginationLinks {
        self_: link(page),
        first: link(1),
        prev: (page > 1).then(|| link((page - 1).min(last))),
        next: (page < last).then(|| link(page + 1)),
        last: link(last),
    }
}

/// Percent-encodes a query value (the catalog's categories hold spaces).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
