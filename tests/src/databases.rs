//! The test databases that connectors read and write: a PostgreSQL schema and a MariaDB
//! database of a test's own, each with the configuration of a connector to it, and dropped when
//! the test ends (`drop().await`, or by the guard if the test panicked first).
//!
//! They need `SQUARED_TEST_POSTGRES_URL` and `SQUARED_TEST_MARIADB_URL`; tests that use them are
//! compiled ignored where those are not set (see `tests/build/services.rs`).

use serde_json::{Map, Value, json};
use sqlx::{AnyPool, Executor};

use crate::harness::{DatabaseUrl, MARIADB_URL_VAR, POSTGRES_URL_VAR, unique_name, url_from_env};

/// Runs `sql` on a fresh connection to `url` from a thread of its own: for the guards, which
/// may run inside or outside a runtime, after a test panicked.
fn run_detached(url: String, sql: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            sqlx::any::install_default_drivers();
            if let Ok(pool) = AnyPool::connect(&url).await {
                let _ = pool.execute(sqlx::AssertSqlSafe(sql)).await;
                pool.close().await;
            }
        });
    })
    .join();
}

/// A schema of its own in the test PostgreSQL.
pub struct PostgresSchema {
    pub admin: AnyPool,
    pub url: DatabaseUrl,
    pub schema: String,
    admin_url: String,
    dropped: bool,
}

impl PostgresSchema {
    pub async fn create(prefix: &str) -> PostgresSchema {
        let admin_url = url_from_env(POSTGRES_URL_VAR);
        sqlx::any::install_default_drivers();
        let admin = AnyPool::connect(&admin_url).await.unwrap();
        let schema = unique_name(prefix);
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
        PostgresSchema { admin, url: DatabaseUrl::parse(&admin_url), schema, admin_url, dropped: false }
    }

    /// The configuration of a PostgreSQL connector (source or destination) to this schema.
    pub fn configuration(&self) -> Map<String, Value> {
        let password = if self.url.password.is_empty() { "unused-with-trust-auth" } else { &self.url.password };
        json!({
            "data_type": "structured",
            "host": self.url.host, "port": self.url.port.to_string(), "database": self.url.database,
            "schema": self.schema,
            "credentials": {"auth_type": "username/password", "username": self.url.user, "password": password}
        })
        .as_object()
        .cloned()
        .expect("an object")
    }

    /// Runs `sql`, with `{schema}` standing for the schema's name.
    pub async fn execute(&self, sql: &str) {
        self.admin.execute(sqlx::AssertSqlSafe(sql.replace("{schema}", &self.schema))).await.unwrap();
    }

    /// The first column of every row of `sql` (`{schema}` as in [`Self::execute`]), as text.
    pub async fn texts(&self, sql: &str) -> Vec<Option<String>> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace("{schema}", &self.schema)))
            .fetch_all(&self.admin)
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {}.{table}", self.schema);
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&self.admin).await.unwrap()
    }

    pub async fn drop(mut self) {
        self.dropped = true;
        self.admin.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.schema))).await.unwrap();
        self.admin.close().await;
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        if !self.dropped {
            run_detached(self.admin_url.clone(), format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A database of its own in the test MariaDB.
pub struct MariaDbDatabase {
    pub admin: AnyPool,
    pub url: DatabaseUrl,
    pub database: String,
    admin_url: String,
    dropped: bool,
}

impl MariaDbDatabase {
    pub async fn create(prefix: &str) -> MariaDbDatabase {
        let admin_url = url_from_env(MARIADB_URL_VAR);
        sqlx::any::install_default_drivers();
        let admin = AnyPool::connect(&admin_url).await.unwrap();
        let database = unique_name(prefix);
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).await.unwrap();
        MariaDbDatabase { admin, url: DatabaseUrl::parse(&admin_url), database, admin_url, dropped: false }
    }

    /// The configuration of a MariaDB connector (source or destination) to this database.
    pub fn configuration(&self) -> Map<String, Value> {
        json!({
            "host": self.url.host, "port": self.url.port.to_string(), "username": self.url.user,
            "password": self.url.password, "database": self.database
        })
        .as_object()
        .cloned()
        .expect("an object")
    }

    /// Runs each statement of `sql` (`;`-separated, without `;` inside values), with
    /// `{database}` standing for the database's name, in one session in UTC.
    pub async fn execute(&self, sql: &str) {
        let mut connection = self.admin.acquire().await.unwrap();
        connection.execute("SET time_zone = '+00:00'").await.unwrap();
        for statement in sql.replace("{database}", &self.database).split(';').filter(|s| !s.trim().is_empty()) {
            connection.execute(sqlx::AssertSqlSafe(statement.to_owned())).await.unwrap();
        }
    }

    /// The first column of every row of `sql` (`{database}` as in [`Self::execute`]), as text,
    /// read in a session in UTC.
    pub async fn texts(&self, sql: &str) -> Vec<Option<String>> {
        let mut connection = self.admin.acquire().await.unwrap();
        connection.execute("SET time_zone = '+00:00'").await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.replace("{database}", &self.database)))
            .fetch_all(&mut *connection)
            .await
            .unwrap()
    }

    pub async fn drop(mut self) {
        self.dropped = true;
        self.admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {}", self.database))).await.unwrap();
        self.admin.close().await;
    }
}

impl Drop for MariaDbDatabase {
    fn drop(&mut self) {
        if !self.dropped {
            run_detached(self.admin_url.clone(), format!("DROP DATABASE IF EXISTS {}", self.database));
        }
    }
}
