//! What each operation does, apart from HTTP: authentication, the rules of the API, and
//! the shapes of its answers. Handlers in [`crate::http`] only unpack requests and call in.

use serde_json::Value;
use squared_types::{
    Connector, ConnectorAttributes, ConnectorDefinition, ConnectorDefinitionCategoryFilter, ConnectorInput,
    ConnectorResponse, ConnectorType,
};

use crate::auth::{Caller, Role, TokenVerifier};
use crate::catalog::{Catalog, Entry};
use crate::error::{Problem, ServiceError};
use crate::store::{NewConnector, Store, StoreError, StoredConnector};

/// The JSON:API resource type of a connector.
pub const CONNECTOR_RESOURCE: &str = "connectors";

pub struct Service {
    store: Store,
    catalog: Catalog,
    verifier: TokenVerifier,
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate => {
                ServiceError::invalid("/connector/name", "A connector with the same name already exists.")
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl Service {
    pub fn new(store: Store, catalog: Catalog, verifier: TokenVerifier) -> Self {
        Service { store, catalog, verifier }
    }

    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The caller, acting in `workspace_id`, from the `Authorization` header.
    pub fn authenticate(&self, authorization: Option<&str>, workspace_id: i64) -> Result<Caller, ServiceError> {
        self.verifier.authenticate(authorization, workspace_id)
    }

    fn require_member(caller: &Caller) -> Result<(), ServiceError> {
        match caller.role {
            Role::Member => Ok(()),
            Role::Viewer => Err(ServiceError::Forbidden(format!(
                "a viewer of workspace {} may read but not change it",
                caller.workspace_id
            ))),
        }
    }

    pub async fn create_connector(
        &self,
        caller: &Caller,
        input: ConnectorInput,
    ) -> Result<ConnectorResponse, ServiceError> {
        Self::require_member(caller)?;
        let mut problems = Vec::new();
        if input.name.trim().is_empty() {
            problems.push(Problem::new("/connector/name", "`name` must not be empty"));
        }
        let entry = self.catalog.find(input.connector_type, &input.connector_name);
        match entry {
            None => problems.push(Problem::new(
                "/connector/connector_name",
                format!(
                    "`{}` is not a {} connector; see GET /api/v1/connector_definitions?type={}",
                    input.connector_name, input.connector_type, input.connector_type
                ),
            )),
            Some(_) if input.configuration.is_empty() => {
                problems.push(Problem::new("/connector/configuration", "`configuration` must not be empty"))
            }
            Some(entry) => {
                let configuration = Value::Object(input.configuration.clone());
                problems.extend(entry.validate(&configuration, "/connector/configuration"));
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
                name: input.name,
                description: input.description,
                connector_type: input.connector_type,
                connector_name: entry.definition.name.clone(),
                configuration: Value::Object(input.configuration),
            })
            .await?;
        Ok(ConnectorResponse { data: connector_resource(&stored, entry) })
    }

    pub fn list_connector_definitions(
        &self,
        connector_type: ConnectorType,
        category: Option<ConnectorDefinitionCategoryFilter>,
    ) -> Vec<ConnectorDefinition> {
        self.catalog.list(connector_type, category).map(|e| e.definition.clone()).collect()
    }

    pub fn show_connector_definition(
        &self,
        connector_type: ConnectorType,
        name: &str,
    ) -> Result<ConnectorDefinition, ServiceError> {
        self.catalog.find(connector_type, name).map(|e| e.definition.clone()).ok_or_else(|| {
            ServiceError::NotFound(format!("there is no {connector_type} connector definition named `{name}`"))
        })
    }
}

/// A stored connector as the API shows it, secrets masked.
fn connector_resource(stored: &StoredConnector, entry: &Entry) -> Connector {
    let configuration = match entry.mask(&stored.configuration) {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    Connector {
        id: stored.id.to_string(),
        type_: CONNECTOR_RESOURCE.to_owned(),
        attributes: ConnectorAttributes {
            name: stored.name.clone(),
            description: stored.description.clone(),
            connector_type: stored.connector_type.as_str().to_owned(),
            workspace_id: stored.workspace_id,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            configuration,
            connector_name: entry.definition.name.clone(),
            icon: entry.definition.icon.clone(),
        },
    }
}
