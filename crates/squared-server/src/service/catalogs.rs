//! Defined catalogs: the one stream of a connector whose streams cannot be discovered (the
//! Http destination, for one), described by the user. It is kept where a discovered catalog
//! is, and replaces it; `discover?refresh=true` replaces it in turn.

use squared_types::{CatalogInput, CatalogResponse, CreateCatalogRequest, Stream};

use super::Service;
use super::permissions::{Action, Resource};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::runtime::DEFAULT_HTTP_STREAM;

impl Service {
    pub async fn create_catalog(
        &self,
        caller: &Caller,
        request: CreateCatalogRequest,
    ) -> Result<CatalogResponse, ServiceError> {
        let CreateCatalogRequest { connector_id: requested_connector, catalog } = request;
        Self::require(caller, Resource::Connector, Action::Update)?;
        let not_there = || {
            ServiceError::invalid(
                "/connector_id",
                format!("there is no connector {} in workspace {}", requested_connector, caller.workspace_id),
            )
        };
        let connector =
            self.store.get_connector(caller.workspace_id, requested_connector).await?.ok_or_else(not_there)?;
        let catalog = self.connectors.keep_catalog(&connector, vec![defined_stream(&catalog)]).await?;
        Self::catalog_response(catalog)
    }

    pub async fn update_catalog(
        &self,
        caller: &Caller,
        id: &str,
        request: CreateCatalogRequest,
    ) -> Result<CatalogResponse, ServiceError> {
        let CreateCatalogRequest { connector_id: requested_connector, catalog } = request;
        Self::require(caller, Resource::Connector, Action::Update)?;
        let not_found =
            || ServiceError::NotFound(format!("there is no catalog {id} in workspace {}", caller.workspace_id));
        let connector_id: i64 = id.parse().map_err(|_| not_found())?;
        self.store.get_catalog(caller.workspace_id, connector_id).await?.ok_or_else(not_found)?;
        if requested_connector != connector_id {
            return Err(ServiceError::invalid(
                "/connector_id",
                format!("catalog {id} belongs to connector {connector_id}; a catalog cannot move"),
            ));
        }
        let connector = self.store.get_connector(caller.workspace_id, connector_id).await?.ok_or_else(not_found)?;
        let catalog = self.connectors.keep_catalog(&connector, vec![defined_stream(&catalog)]).await?;
        Self::catalog_response(catalog)
    }
}

fn defined_stream(catalog: &CatalogInput) -> Stream {
    let CatalogInput { stream_name, json_schema } = catalog;
    Stream {
        name: stream_name.clone().unwrap_or_else(|| DEFAULT_HTTP_STREAM.to_owned()),
        action: "create".into(),
        json_schema: json_schema.clone(),
        url: None,
        request_method: None,
        primary_key: None,
    }
}
