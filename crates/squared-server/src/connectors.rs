//! Stored connectors, opened: the one place where a connector's definition is found, its
//! sealed configuration opened into clear text, and its streams known (its kept catalog, or
//! discovered through its runtime and kept). The API service and the sync engine both open
//! connectors through here, so that a secret is opened by one rule for both.
//!
//! A configuration in clear leaves this module only towards a runtime, which reaches the
//! connector's system through the egress policy; it never reaches the store or a response.

use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};
use squared_types::{Stream, StreamCatalog};

use crate::catalog::{Catalog, Entry};
use crate::error::ServiceError;
use crate::runtime::Runtimes;
use crate::secrets::Vault;
use crate::store::{Store, StoredCatalog, StoredConnector};

pub struct Connectors {
    pub(crate) catalog: Catalog,
    pub(crate) vault: Vault,
    pub(crate) runtimes: Runtimes,
    store: Arc<Store>,
}

impl Connectors {
    pub fn new(store: Arc<Store>, catalog: Catalog, vault: Vault, runtimes: Runtimes) -> Self {
        Connectors { catalog, vault, runtimes, store }
    }

    /// The definition a stored connector names.
    pub fn entry_of(&self, stored: &StoredConnector) -> Result<&Entry, ServiceError> {
        self.catalog.find(stored.connector_type, &stored.connector_name).ok_or_else(|| {
            ServiceError::Internal(format!("connector {} names a definition no longer in the catalog", stored.id))
        })
    }

    /// A stored connector's configuration in clear, under its definition `entry`.
    pub fn open_with(&self, entry: &Entry, stored: &StoredConnector) -> Result<Value, ServiceError> {
        self.vault
            .open(entry.schema(), &stored.configuration, stored.workspace_id)
            .map_err(|e| ServiceError::Internal(format!("connector {}: {e}", stored.id)))
    }

    /// A stored connector's configuration in clear.
    pub fn open(&self, stored: &StoredConnector) -> Result<Value, ServiceError> {
        self.open_with(self.entry_of(stored)?, stored)
    }

    /// The kept catalog of a connector or, when none is kept or `refresh` asks, its streams
    /// discovered now, and kept.
    pub async fn catalog_of(&self, stored: &StoredConnector, refresh: bool) -> Result<StoredCatalog, ServiceError> {
        if !refresh && let Some(kept) = self.store.get_catalog(stored.workspace_id, stored.id).await? {
            return Ok(kept);
        }
        let clear = self.open(stored)?;
        let streams = self.runtimes.discover(stored.connector_type, &stored.connector_name, &clear).await?;
        self.keep_catalog(stored, streams).await
    }

    /// Keeps `streams` as the catalog of a connector, replacing any other.
    pub async fn keep_catalog(
        &self,
        stored: &StoredConnector,
        streams: Vec<Stream>,
    ) -> Result<StoredCatalog, ServiceError> {
        let catalog = serde_json::to_value(StreamCatalog { streams }).expect("a catalog serializes");
        let hash = Sha256::digest(serde_json::to_vec(&catalog).expect("JSON serializes"));
        let catalog = StoredCatalog {
            connector_id: stored.id,
            workspace_id: stored.workspace_id,
            catalog,
            catalog_hash: hex::encode(hash),
            updated_at: chrono::Utc::now(),
        };
        self.store.put_catalog(&catalog).await?;
        Ok(catalog)
    }

    /// A stream of a destination's catalog.
    pub async fn stream(&self, destination: &StoredConnector, name: &str) -> Result<Stream, ServiceError> {
        let catalog = self.catalog_of(destination, false).await?;
        let streams: StreamCatalog = serde_json::from_value(catalog.catalog)
            .map_err(|e| ServiceError::Internal(format!("kept catalog of connector {}: {e}", destination.id)))?;
        streams.streams.into_iter().find(|s| s.name == name).ok_or_else(|| {
            ServiceError::Unprocessable(format!(
                "destination {} has no stream `{name}` any more; see its streams with GET \
                 /api/v1/connectors/{}/discover?refresh=true",
                destination.id, destination.id
            ))
        })
    }
}
