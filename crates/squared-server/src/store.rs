//! The database: connectors, stored in embedded SQLite.
//!
//! Opening a store applies the migrations in `migrations/sqlite/` first, so a new file and
//! an old one both end up on the current schema. The store knows rows, not rules: what may
//! be stored is decided in [`crate::service`]; the one rule it enforces itself is the unique
//! name per workspace and type, because only the database can enforce it without a race.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction that has returned
//! (and so a create that has answered 201) survives a crash of the process or the machine.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use squared_types::ConnectorType;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a connector with this name and type already exists in the workspace")]
    Duplicate,
    #[error("unsupported database URL {0:?}: use sqlite://PATH")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
}

/// A connector as given to the store.
#[derive(Clone, Debug)]
pub struct NewConnector {
    pub workspace_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub connector_type: ConnectorType,
    pub connector_name: String,
    pub configuration: Value,
}

/// A connector as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredConnector {
    pub id: i64,
    pub workspace_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub connector_type: ConnectorType,
    pub connector_name: String,
    pub configuration: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores a new connector; a name already used by the workspace for the type fails
    /// with [`StoreError::Duplicate`] and stores nothing.
    pub async fn insert_connector(&self, new: &NewConnector) -> Result<StoredConnector, StoreError> {
        let now = Utc::now();
        let stamp = timestamp(now);
        let configuration = serde_json::to_string(&new.configuration).expect("a JSON value serializes");
        let row = sqlx::query(
            "INSERT INTO connectors \
             (workspace_id, name, description, connector_type, connector_name, configuration, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.workspace_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(new.connector_type.as_str())
        .bind(&new.connector_name)
        .bind(&configuration)
        .bind(&stamp)
        .bind(&stamp)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Database(e),
        })?;
        let now = parse_timestamp(&stamp)?;
        Ok(StoredConnector {
            id: row.try_get("id")?,
            workspace_id: new.workspace_id,
            name: new.name.clone(),
            description: new.description.clone(),
            connector_type: new.connector_type,
            connector_name: new.connector_name.clone(),
            configuration: new.configuration.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    /// The connector `id` of a workspace, if it exists there.
    pub async fn get_connector(&self, workspace_id: i64, id: i64) -> Result<Option<StoredConnector>, StoreError> {
        let row = sqlx::query(
            "SELECT id, workspace_id, name, description, connector_type, connector_name, configuration, \
             created_at, updated_at FROM connectors WHERE workspace_id = ? AND id = ?",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let connector_type: String = row.try_get("connector_type")?;
            let configuration: String = row.try_get("configuration")?;
            Ok(StoredConnector {
                id: row.try_get("id")?,
                workspace_id: row.try_get("workspace_id")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                connector_type: ConnectorType::ALL
                    .into_iter()
                    .find(|t| t.as_str() == connector_type)
                    .ok_or_else(|| StoreError::Corrupt(format!("connector_type {connector_type:?}")))?,
                connector_name: row.try_get("connector_name")?,
                configuration: serde_json::from_str(&configuration)
                    .map_err(|e| StoreError::Corrupt(format!("configuration: {e}")))?,
                created_at: parse_timestamp(&row.try_get::<String, _>("created_at")?)?,
                updated_at: parse_timestamp(&row.try_get::<String, _>("updated_at")?)?,
            })
        })
        .transpose()
    }
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so text order is time order.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres(workspace_id: i64, name: &str) -> NewConnector {
        NewConnector {
            workspace_id,
            name: name.into(),
            description: None,
            connector_type: ConnectorType::Source,
            connector_name: "Postgresql".into(),
            configuration: serde_json::json!({"host": "db"}),
        }
    }

    #[tokio::test]
    async fn duplicates_are_refused_by_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("db").display())).await.unwrap();
        let first = store.insert_connector(&postgres(1, "a")).await.unwrap();
        assert!(matches!(store.insert_connector(&postgres(1, "a")).await, Err(StoreError::Duplicate)));
        // The same name is free in another workspace.
        store.insert_connector(&postgres(2, "a")).await.unwrap();
        assert_eq!(store.get_connector(1, first.id).await.unwrap(), Some(first.clone()));
        assert_eq!(store.get_connector(2, first.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn only_sqlite_urls_are_taken() {
        assert!(matches!(Store::open("mysql://localhost/x").await, Err(StoreError::UnsupportedUrl(_))));
    }
}
