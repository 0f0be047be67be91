//! The database: connectors (and their catalogs), models ([`models`]) and syncs with their
//! runs and records ([`syncs`]), in embedded SQLite or PostgreSQL.
//!
//! One implementation serves both engines through [`database`], the store's one door to
//! its database (rusqlite on the calling thread for SQLite, sqlx for PostgreSQL: that
//! module says why): the queries are written once in the SQL both engines share (numbered `$n` placeholders, `RETURNING`,
//! text timestamps), and what differs between the engines is data, not code: the DDL of each
//! engine's migrations (`migrations/sqlite/`, `migrations/postgres/`, applied on open),
//! SQLite's connection settings, and how each reads a JSON array parameter
//! ([`Engine::json_rows`], for statements over a whole batch of a sync run). So a behaviour
//! cannot drift between engines.
//!
//! The store knows rows, not rules: what may be stored is decided in [`crate::service`]. The
//! one rule it enforces itself is the unique name per workspace and connector type, because
//! only the database can enforce it without a race between instances.
//!
//! SQLite durability: WAL journal with `synchronous = NORMAL`. A transaction that has
//! returned is in the WAL file, so it survives a crash or kill of the server process (the
//! crash test proves it); only a crash of the whole machine may lose the last moments of
//! commits. `FULL` would also survive that, at the price of an fsync per commit, which on
//! these machines cuts create throughput several times over; deployments that need
//! machine-crash durability run on PostgreSQL. The SQLite connections cache more pages than
//! SQLite's default 2 MiB (the write connection 16 MiB, each read connection 8 MiB: see
//! [`database`]), so that a sync's fingerprint lookups mostly stay in memory, within the
//! server's memory target.

mod alerts;
mod database;
mod models;
mod reports;
mod syncs;

pub use alerts::{
    Attempt, DeliveryClaim, LateSchedule, LongRun, NewDelivery, StoredChannel, StoredDelivery, StoredRule,
};
pub use models::{NewModel, StoredModel};
pub use reports::{ActivitySlice, SliceWidth};
pub use syncs::{
    Claim, ClaimState, KeptBatch, NewRecord, NewSync, RecordFilter, RunScope, StoredRecord, StoredRun, StoredSync,
};

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use database::{DatabaseError, Pool, Row, query};
use squared_types::ConnectorType;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a connector with this name and type already exists in the workspace")]
    Duplicate,
    /// Not a URL of a database this store runs on. The URL itself is not in the message (it
    /// may carry a password): whoever opens the store names it, redacted.
    #[error("unsupported database URL: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] DatabaseError),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
    /// The run's claim is no longer this runner's: its lease lapsed and another runner took
    /// it over (a higher generation), or it ended. Nothing was written.
    #[error("this runner no longer holds run {0}: another runner took it over")]
    LostClaim(i64),
    #[error("connector {id}: {message}")]
    Reseal { id: i64, message: String },
    /// A row the write refers to is gone (a model's connector, deleted meanwhile).
    #[error("a row this write refers to no longer exists")]
    Missing,
    /// The row is still referred to (a connector that a model reads).
    #[error("the row is still in use")]
    InUse,
}

/// Which database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// How a query reads a JSON array of arrays bound as parameter `$n`, for statements over
    /// a whole batch with one parameter (the engines' per-statement parameter limits, and
    /// sqlx's cost per parameter, make one placeholder per value slow): the expressions of
    /// the members of each element, one per SQL type in `types` (`text` or `bigint`), and the
    /// `FROM` clause.
    pub(crate) fn json_rows(self, n: usize, types: &[&str]) -> (String, String) {
        match self {
            Engine::Sqlite => (
                (0..types.len()).map(|i| format!("json_extract(value, '$[{i}]')")).collect::<Vec<_>>().join(", "),
                format!("json_each(${n})"),
            ),
            Engine::Postgres => (
                types.iter().enumerate().map(|(i, t)| format!("(element->>{i})::{t}")).collect::<Vec<_>>().join(", "),
                format!("json_array_elements(${n}::json) AS element"),
            ),
        }
    }

    /// `SELECT …` of the integer elements of a JSON array bound as parameter `$n`.
    pub(crate) fn json_integers(self, n: usize) -> String {
        match self {
            Engine::Sqlite => format!("SELECT CAST(value AS INTEGER) FROM json_each(${n})"),
            Engine::Postgres => format!("SELECT CAST(json_array_elements_text(${n}::json) AS BIGINT)"),
        }
    }

    /// `SELECT …` of the text elements of a JSON array bound as parameter `$n`.
    pub(crate) fn json_texts(self, n: usize) -> String {
        match self {
            Engine::Sqlite => format!("SELECT value FROM json_each(${n})"),
            Engine::Postgres => format!("SELECT json_array_elements_text(${n}::json)"),
        }
    }

    pub fn of_url(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }
}

/// A connector as given to the store.
#[derive(Clone, Debug)]
pub struct NewConnector {
    pub workspace_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub connector_type: ConnectorType,
    pub connector_name: String,
    /// As it is to be stored (secrets already sealed by the caller).
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

/// Which connectors of a workspace a list shows.
#[derive(Clone, Debug, Default)]
pub struct ConnectorFilter {
    pub connector_type: Option<ConnectorType>,
    /// Only these definitions, by type and name (a category filter, resolved through the
    /// catalog: one name can be a source in one category and a destination in another).
    pub definitions: Option<Vec<(ConnectorType, String)>>,
}

/// A discovered catalog of a connector, cached until refreshed.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCatalog {
    pub connector_id: i64,
    pub workspace_id: i64,
    pub catalog: Value,
    pub catalog_hash: String,
    pub updated_at: DateTime<Utc>,
}

pub struct Store {
    pool: Pool,
    engine: Engine,
}

/// The columns of a connector row, in the order [`connector_from_row`] reads them by name.
macro_rules! connector_columns {
    () => {
        "id, workspace_id, name, description, connector_type, connector_name, configuration, created_at, updated_at"
    };
}

impl Store {
    /// Opens the database at `url` (an SQLite file is created if missing) and applies the
    /// engine's migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let engine = Engine::of_url(url).ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
        let pool = match engine {
            Engine::Sqlite => Pool::open_sqlite(url, &sqlx::migrate!("./migrations/sqlite")).await?,
            Engine::Postgres => Pool::open_postgres(url, &sqlx::migrate!("./migrations/postgres")).await?,
        };
        Ok(Store { pool, engine })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether the database answers and holds every migration this build knows, for the
    /// readiness check: `Err` names what is wrong.
    pub async fn check_ready(&self) -> Result<(), String> {
        let known = match self.engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().count(),
            Engine::Postgres => sqlx::migrate!("./migrations/postgres").iter().count(),
        } as i64;
        let applied: i64 = query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_scalar(&self.pool)
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        match applied >= known {
            true => Ok(()),
            false => Err(format!("{applied} of {known} migrations applied")),
        }
    }

    /// How many runs wait for a runner, in every workspace.
    pub async fn pending_runs(&self) -> Result<i64, StoreError> {
        Ok(query("SELECT COUNT(*) FROM sync_runs WHERE status = 'pending'").fetch_scalar(&self.pool).await?)
    }

    /// Waits for queries in flight, then closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Wakes `wake` whenever any instance creates a run (PostgreSQL's `NOTIFY`, sent by a
    /// trigger of migration 0013 when the run's transaction commits), until the store closes.
    /// On SQLite it does nothing: runners of other processes find new runs by looking.
    pub async fn announce_runs_to(&self, wake: std::sync::Arc<tokio::sync::Notify>) -> Result<(), StoreError> {
        let database::Pool::Postgres(pool) = &self.pool else { return Ok(()) };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await.map_err(DatabaseError::from)?;
        listener.listen("squared_sync_runs").await.map_err(DatabaseError::from)?;
        tokio::spawn(async move {
            // `recv` reconnects after a lost connection; it fails only once the pool is closed.
            while listener.recv().await.is_ok() {
                wake.notify_one();
            }
        });
        Ok(())
    }

    /// Stores a new connector; a name already used by the workspace for the type fails
    /// with [`StoreError::Duplicate`] and stores nothing.
    pub async fn insert_connector(&self, new: &NewConnector) -> Result<StoredConnector, StoreError> {
        let now = timestamp(Utc::now());
        let row = query(concat!(
            "INSERT INTO connectors \
             (workspace_id, name, description, connector_type, connector_name, configuration, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
            connector_columns!()
        ))
        .bind(new.workspace_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(new.connector_type.as_str())
        .bind(&new.connector_name)
        .bind(json_text(&new.configuration))
        .bind(&now)
        .fetch_one(&self.pool)
        .await
        .map_err(duplicate_or_database)?;
        connector_from_row(&row)
    }

    /// The connector `id` of a workspace, if it exists there.
    pub async fn get_connector(&self, workspace_id: i64, id: i64) -> Result<Option<StoredConnector>, StoreError> {
        let row =
            query(concat!("SELECT ", connector_columns!(), " FROM connectors WHERE workspace_id = $1 AND id = $2"))
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(connector_from_row).transpose()
    }

    /// One page of a workspace's connectors, newest `updated_at` first, and how many there
    /// are in all.
    pub async fn list_connectors(
        &self,
        workspace_id: i64,
        filter: &ConnectorFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<StoredConnector>, i64), StoreError> {
        let mut condition = String::from("workspace_id = $1");
        let mut arguments: Vec<String> = Vec::new();
        if let Some(connector_type) = filter.connector_type {
            arguments.push(connector_type.as_str().to_owned());
            write!(condition, " AND connector_type = ${}", arguments.len() + 1).unwrap();
        }
        if let Some(definitions) = &filter.definitions {
            if definitions.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let mut alternatives = Vec::new();
            for (connector_type, name) in definitions {
                arguments.push(connector_type.as_str().to_owned());
                arguments.push(name.clone());
                let n = arguments.len() + 1;
                alternatives.push(format!("(connector_type = ${} AND connector_name = ${n})", n - 1));
            }
            write!(condition, " AND ({})", alternatives.join(" OR ")).unwrap();
        }
        // The triggers of migration 0003 keep per-definition counts: summing a few of them
        // replaces counting every connector of the workspace.
        let count_sql =
            format!("SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM connector_counts WHERE {condition}");
        // Built from constant text and numbered placeholders only: no value is spliced in.
        let mut count = query(count_sql).bind(workspace_id);
        for argument in &arguments {
            count = count.bind(argument);
        }
        let total: i64 = count.fetch_scalar(&self.pool).await?;

        let page_sql = format!(
            "SELECT {} FROM connectors WHERE {condition} ORDER BY updated_at DESC, id DESC {}",
            connector_columns!(),
            limit_offset(arguments.len() + 2, arguments.len() + 3)
        );
        let mut page = query(page_sql).bind(workspace_id);
        for argument in &arguments {
            page = page.bind(argument);
        }
        let rows = page.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let connectors = rows.iter().map(connector_from_row).collect::<Result<_, _>>()?;
        Ok((connectors, total))
    }

    /// One page of `SELECT columns FROM table WHERE condition ORDER BY order`, and how many
    /// rows the condition selects. `condition` numbers its placeholders from `$1`: `key` binds
    /// `$1` and `texts` the ones after it. Every piece of SQL here is the caller's constant
    /// text; values only ever arrive as bound parameters.
    #[allow(clippy::too_many_arguments)]
    async fn page(
        &self,
        table: &str,
        columns: &str,
        condition: &str,
        order: &str,
        key: i64,
        texts: &[&str],
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Row>, i64), StoreError> {
        let count_sql = format!("SELECT COUNT(*) FROM {table} WHERE {condition}");
        let next = texts.len() + 2;
        let page_sql = format!(
            "SELECT {columns} FROM {table} WHERE {condition} ORDER BY {order} {}",
            limit_offset(next, next + 1)
        );
        let mut count = query(count_sql).bind(key);
        let mut page = query(page_sql).bind(key);
        for text in texts {
            count = count.bind(*text);
            page = page.bind(*text);
        }
        let total: i64 = count.fetch_scalar(&self.pool).await?;
        let rows = page.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        Ok((rows, total))
    }

    /// Replaces the fields of connector `id` of a workspace; `None` when it is not there.
    pub async fn update_connector(
        &self,
        workspace_id: i64,
        id: i64,
        changed: &NewConnector,
    ) -> Result<Option<StoredConnector>, StoreError> {
        let now = timestamp(Utc::now());
        let mut transaction = self.pool.begin().await?;
        let row = query(concat!(
            "UPDATE connectors SET name = $1, description = $2, connector_type = $3, connector_name = $4, \
             configuration = $5, updated_at = $6 WHERE workspace_id = $7 AND id = $8 RETURNING ",
            connector_columns!()
        ))
        .bind(&changed.name)
        .bind(&changed.description)
        .bind(changed.connector_type.as_str())
        .bind(&changed.connector_name)
        .bind(json_text(&changed.configuration))
        .bind(&now)
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut transaction)
        .await
        .map_err(duplicate_or_database)?;
        // A changed connector may see other streams: its kept catalog goes.
        query("DELETE FROM catalogs WHERE connector_id = $1").bind(id).execute(&mut transaction).await?;
        transaction.commit().await?;
        row.as_ref().map(connector_from_row).transpose()
    }

    /// The kept catalog of a connector, if there is one.
    pub async fn get_catalog(&self, workspace_id: i64, connector_id: i64) -> Result<Option<StoredCatalog>, StoreError> {
        let row = query(
            "SELECT connector_id, workspace_id, catalog, catalog_hash, updated_at FROM catalogs \
             WHERE workspace_id = $1 AND connector_id = $2",
        )
        .bind(workspace_id)
        .bind(connector_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let catalog: String = row.try_get("catalog")?;
            Ok(StoredCatalog {
                connector_id: row.try_get("connector_id")?,
                workspace_id: row.try_get("workspace_id")?,
                catalog: serde_json::from_str(&catalog).map_err(|e| StoreError::Corrupt(format!("catalog: {e}")))?,
                catalog_hash: row.try_get("catalog_hash")?,
                updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
            })
        })
        .transpose()
    }

    /// Keeps (or replaces) the catalog of a connector.
    pub async fn put_catalog(&self, catalog: &StoredCatalog) -> Result<(), StoreError> {
        query(
            "INSERT INTO catalogs (connector_id, workspace_id, catalog, catalog_hash, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector_id) DO UPDATE SET \
             catalog = excluded.catalog, catalog_hash = excluded.catalog_hash, updated_at = excluded.updated_at",
        )
        .bind(catalog.connector_id)
        .bind(catalog.workspace_id)
        .bind(json_text(&catalog.catalog))
        .bind(&catalog.catalog_hash)
        .bind(timestamp(catalog.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes connector `id` of a workspace (and its catalog); false when it is not there.
    pub async fn delete_connector(&self, workspace_id: i64, id: i64) -> Result<bool, StoreError> {
        let done = query("DELETE FROM connectors WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|error| match error.is_foreign_key_violation() {
                true => StoreError::InUse,
                false => StoreError::Database(error),
            })?;
        Ok(done == 1)
    }

    /// The vault check value and the id of the key that sealed it, if there is one yet.
    pub async fn vault_check(&self) -> Result<Option<(String, String)>, StoreError> {
        let row = query("SELECT key_id, sealed FROM vault_check WHERE id = 1").fetch_optional(&self.pool).await?;
        row.map(|row| Ok((row.try_get("key_id")?, row.try_get("sealed")?))).transpose()
    }

    /// Stores the vault check value unless one is there already (another instance may
    /// have stored its own first: read it back to compare).
    pub async fn init_vault_check(&self, key_id: &str, sealed: &str) -> Result<(), StoreError> {
        query("INSERT INTO vault_check (id, key_id, sealed) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(key_id)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The configuration of one connector that holds a sealed value, with its id and
    /// workspace, if any does: to try a key against a database that has no check value yet.
    pub async fn some_sealed_configuration(&self) -> Result<Option<(i64, i64, Value)>, StoreError> {
        let row = query(
            "SELECT id, workspace_id, configuration FROM connectors WHERE configuration LIKE '%\"sealed:%' LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let configuration: String = row.try_get("configuration")?;
            let configuration =
                serde_json::from_str(&configuration).map_err(|e| StoreError::Corrupt(format!("configuration: {e}")))?;
            Ok((row.try_get("id")?, row.try_get("workspace_id")?, configuration))
        })
        .transpose()
    }

    /// Rewrites every connector's configuration with `reseal` (given the configuration and
    /// its workspace) and the vault check with `reseal_check`, in one transaction: after a
    /// failure nothing has changed. Returns how many sealed values `reseal` reported.
    pub async fn reseal_all(
        &self,
        new_key_id: &str,
        reseal: impl Fn(&Value, i64) -> Result<(Value, usize), String>,
        reseal_check: impl Fn(Option<&str>) -> Result<String, String>,
    ) -> Result<usize, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let mut count = 0;
        // Connectors and alert channels keep sealed secrets in their `configuration`.
        for table in ["connectors", "alert_channels"] {
            let rows = query(format!("SELECT id, workspace_id, configuration FROM {table} ORDER BY id"))
                .fetch_all(&mut transaction)
                .await?;
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let workspace_id: i64 = row.try_get("workspace_id")?;
                let configuration: String = row.try_get("configuration")?;
                let configuration: Value = serde_json::from_str(&configuration)
                    .map_err(|e| StoreError::Corrupt(format!("configuration: {e}")))?;
                let (resealed, sealed) =
                    reseal(&configuration, workspace_id).map_err(|message| StoreError::Reseal { id, message })?;
                count += sealed;
                // The connector's updated_at stays: its configuration did not change.
                query(format!("UPDATE {table} SET configuration = $1 WHERE id = $2"))
                    .bind(json_text(&resealed))
                    .bind(id)
                    .execute(&mut transaction)
                    .await?;
            }
        }
        let check: Option<String> =
            query("SELECT sealed FROM vault_check WHERE id = 1").fetch_optional_scalar(&mut transaction).await?;
        let check = reseal_check(check.as_deref()).map_err(|message| StoreError::Reseal { id: 0, message })?;
        query(
            "INSERT INTO vault_check (id, key_id, sealed) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed",
        )
        .bind(new_key_id)
        .bind(check)
        .execute(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(count)
    }
}

/// `LIMIT $limit OFFSET $offset` of a page, written as expressions (`$n + 0`): SQLite plans
/// a bare bound LIMIT by its value, so that binding a new value (every reuse of the cached
/// statement) made it prepare the statement again, the largest cost of a list in the profile.
fn limit_offset(limit: usize, offset: usize) -> String {
    format!("LIMIT (${limit} + 0) OFFSET (${offset} + 0)")
}

/// The run states in which a run is active: at most one per sync, by the unique index of
/// migration 0006, which lists the same states.
pub const ACTIVE_RUN_STATES: [squared_types::SyncRunStatus; 6] = [
    squared_types::SyncRunStatus::Pending,
    squared_types::SyncRunStatus::Started,
    squared_types::SyncRunStatus::Querying,
    squared_types::SyncRunStatus::Queued,
    squared_types::SyncRunStatus::InProgress,
    squared_types::SyncRunStatus::Paused,
];

/// `status IN (…)` over `states`, for SQL (built from the enums' own text: nothing spliced in
/// comes from outside).
fn status_in(states: &[squared_types::SyncRunStatus]) -> String {
    let states: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("status IN ({})", states.join(", "))
}

fn duplicate_or_database(error: DatabaseError) -> StoreError {
    match error.is_unique_violation() {
        true => StoreError::Duplicate,
        false => StoreError::Database(error),
    }
}

fn json_text(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value serializes")
}

/// A column holding a spec enum's wire value, decoded here once: the rest of the server sees
/// only the enum.
fn decode<T>(row: &Row, column: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = squared_types::conversions::UnknownValue>,
{
    let text: String = row.try_get(column)?;
    text.parse().map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// [`decode`] of a column that may be null.
fn decode_optional<T>(row: &Row, column: &str) -> Result<Option<T>, StoreError>
where
    T: std::str::FromStr<Err = squared_types::conversions::UnknownValue>,
{
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| text.parse().map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))).transpose()
}

fn connector_from_row(row: &Row) -> Result<StoredConnector, StoreError> {
    let configuration: String = row.try_get("configuration")?;
    Ok(StoredConnector {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        connector_type: decode(row, "connector_type")?,
        connector_name: row.try_get("connector_name")?,
        configuration: serde_json::from_str(&configuration)
            .map_err(|e| StoreError::Corrupt(format!("configuration: {e}")))?,
        created_at: parse_timestamp(&row.try_get::<String>("created_at")?)?,
        updated_at: parse_timestamp(&row.try_get::<String>("updated_at")?)?,
    })
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
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

    async fn sqlite() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("db").display())).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn duplicates_are_refused_by_the_database() {
        let (_dir, store) = sqlite().await;
        let first = store.insert_connector(&postgres(1, "a")).await.unwrap();
        assert!(matches!(store.insert_connector(&postgres(1, "a")).await, Err(StoreError::Duplicate)));
        // The same name is free in another workspace.
        store.insert_connector(&postgres(2, "a")).await.unwrap();
        assert_eq!(store.get_connector(1, first.id).await.unwrap(), Some(first.clone()));
        assert_eq!(store.get_connector(2, first.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn lists_filter_and_page_newest_first() {
        let (_dir, store) = sqlite().await;
        for name in ["a", "b", "c"] {
            store.insert_connector(&postgres(1, name)).await.unwrap();
        }
        let mut http = postgres(1, "d");
        http.connector_name = "Http".into();
        store.insert_connector(&http).await.unwrap();
        let (page, total) = store.list_connectors(1, &ConnectorFilter::default(), 2, 0).await.unwrap();
        assert_eq!(total, 4);
        assert_eq!(page.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["d", "c"]);
        let only_postgres = ConnectorFilter {
            connector_type: None,
            definitions: Some(vec![(ConnectorType::Source, "Postgresql".into())]),
        };
        let (page, total) = store.list_connectors(1, &only_postgres, 10, 1).await.unwrap();
        assert_eq!((total, page.len()), (3, 2));
        // The kept counts follow updates and deletes.
        let mut moved = page[0].clone();
        moved.connector_name = "Http".into();
        let moved = NewConnector {
            workspace_id: 1,
            name: moved.name,
            description: None,
            connector_type: moved.connector_type,
            connector_name: moved.connector_name,
            configuration: moved.configuration,
        };
        store.update_connector(1, page[0].id, &moved).await.unwrap();
        assert_eq!(store.list_connectors(1, &only_postgres, 10, 0).await.unwrap().1, 2);
        store.delete_connector(1, page[1].id).await.unwrap();
        assert_eq!(store.list_connectors(1, &only_postgres, 10, 0).await.unwrap().1, 1);
        assert_eq!(store.list_connectors(1, &ConnectorFilter::default(), 10, 0).await.unwrap().1, 3);
        let none = ConnectorFilter { connector_type: Some(ConnectorType::Destination), definitions: None };
        assert_eq!(store.list_connectors(1, &none, 10, 0).await.unwrap().1, 0);
    }

    #[tokio::test]
    async fn the_database_refuses_what_foreign_keys_forbid() {
        let (_dir, store) = sqlite().await;
        let source = store.insert_connector(&postgres(1, "a")).await.unwrap();
        let model = |connector_id| NewModel {
            workspace_id: 1,
            connector_id,
            name: "m".into(),
            description: None,
            query: Some("SELECT 1".into()),
            query_type: squared_types::ModelQueryType::RawSql,
            primary_key: None,
            configuration: serde_json::json!({}),
            columns: None,
        };
        store.insert_model(&model(source.id)).await.unwrap();
        let deleted = store.delete_connector(1, source.id).await;
        assert!(matches!(deleted, Err(StoreError::InUse)), "{deleted:?}");
        assert!(matches!(store.insert_model(&model(source.id + 1000)).await, Err(StoreError::Missing)));
    }

    #[tokio::test]
    async fn only_known_engines_are_taken() {
        assert!(matches!(Store::open("mysql://localhost/x").await, Err(StoreError::UnsupportedUrl(_))));
    }
}
