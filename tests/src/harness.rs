//! A real server for one test: its own temporary data directory, its own database (an
//! SQLite file, or a fresh PostgreSQL database), JWT secret and ephemeral port. Tests talk to
//! it through the generated client and read its database directly to see what was (or was
//! not) stored.
//!
//! PostgreSQL tests need `SQUARED_TEST_POSTGRES_URL` (a database the tests may connect to
//! and create databases from, such as `postgres://postgres@127.0.0.1:5432/test`); without
//! it they are compiled `#[ignore]`d, and reported as ignored. `.ci/run` always sets it, and
//! fails if any test was ignored.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::{AnyPool, Executor};
use squared_client::{Client, Credentials};
use squared_server::auth::{Claims, Role, TokenIssuer, TokenRules, WorkspaceGrant};
use squared_server::config::Secrets;
use squared_server::egress::EgressPolicy;
use squared_server::{RunningServer, ServerConfig};
use tempfile::TempDir;

/// The secret every test server signs with; at least 32 bytes, as the server demands.
pub const TEST_JWT_SECRET: &[u8] = b"test-secret-0123456789abcdef-0123456789";
/// The key every test server seals connector secrets with.
pub const TEST_ENCRYPTION_KEY: [u8; 32] = [0x5a; 32];

/// The variable that names the PostgreSQL server the tests may use.
pub const POSTGRES_URL_VAR: &str = "SQUARED_TEST_POSTGRES_URL";

/// Which database engine a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestEngine {
    Sqlite,
    Postgres,
}

/// A database made for one test, dropped when the test stops its server.
pub struct TestDatabase {
    pub url: String,
    /// For PostgreSQL: the server's admin URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database on `engine`, or `None` when the engine is not configured on this
    /// machine (tests that need it are compiled ignored there: see `tests/build/services.rs`).
    pub async fn create(engine: TestEngine, data_dir: &std::path::Path) -> Option<TestDatabase> {
        match engine {
            TestEngine::Sqlite => Some(TestDatabase {
                url: format!("sqlite://{}", data_dir.join("squared.sqlite3").display()),
                postgres: None,
            }),
            TestEngine::Postgres => {
                let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else { return None };
                static SEQUENCE: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "squared_test_{}_{}_{}",
                    std::process::id(),
                    SEQUENCE.fetch_add(1, Ordering::Relaxed),
                    chrono::Utc::now().timestamp_micros() % 1_000_000
                );
                sqlx::any::install_default_drivers();
                let admin = AnyPool::connect(&admin_url).await.expect("connecting to SQUARED_TEST_POSTGRES_URL");
                admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
                admin.close().await;
                let (base, _) = admin_url.rsplit_once('/').expect("a URL with a database name");
                Some(TestDatabase { url: format!("{base}/{name}"), postgres: Some((admin_url, name)) })
            }
        }
    }

    pub async fn drop(self) {
        if let Some((admin_url, name)) = self.postgres {
            let admin = AnyPool::connect(&admin_url).await.unwrap();
            admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
            admin.close().await;
        }
    }
}

pub struct TestServer {
    pub base_url: String,
    pub engine: TestEngine,
    database: Option<TestDatabase>,
    server: Option<RunningServer>,
    issuer: TokenIssuer,
    _dir: TempDir,
}

impl TestServer {
    /// A server on SQLite.
    pub async fn start() -> TestServer {
        Self::start_on(TestEngine::Sqlite).await.expect("SQLite is always there")
    }

    /// A server on SQLite whose connectors may reach this machine's loopback addresses, as
    /// an operator allows with `--allow-network 127.0.0.0/8 --allow-network ::1`: for tests of
    /// connectors against local databases and HTTP servers.
    pub async fn start_allowing_loopback() -> TestServer {
        Self::start_configured(TestEngine::Sqlite, allow_loopback).await.expect("SQLite is always there")
    }

    /// A server on `engine` whose sync runner executes runs, and whose connectors may reach
    /// loopback addresses: for tests of the sync engine against local databases and servers.
    pub async fn start_with_sync_runner(engine: TestEngine) -> TestServer {
        Self::start_configured(engine, |config| {
            allow_loopback(config);
            config.run_syncs = true;
        })
        .await
        .expect("the engine is configured")
    }

    /// A server on `engine`, or `None` when the engine is not configured here.
    pub async fn start_on(engine: TestEngine) -> Option<TestServer> {
        Self::start_configured(engine, as_configured).await
    }

    /// A server on `engine` with settings changed by `configure`, or `None` when the engine
    /// is not configured here.
    pub async fn start_configured(engine: TestEngine, configure: impl FnOnce(&mut ServerConfig)) -> Option<TestServer> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database = TestDatabase::create(engine, dir.path()).await?;
        let mut config = ServerConfig {
            bind: ([127, 0, 0, 1], 0).into(),
            database: Some(database.url.clone()),
            data_dir: dir.path().to_owned(),
            // API tests see runs as the API leaves them; engine tests turn the runner on.
            run_syncs: false,
            ..ServerConfig::default()
        };
        configure(&mut config);
        let secrets = Secrets { jwt_secret: TEST_JWT_SECRET.to_vec(), encryption_key: TEST_ENCRYPTION_KEY.to_vec() };
        let log = slog::Logger::root(slog::Discard, slog::o!());
        let server = squared_server::start(&config, &secrets, log).await.expect("the server starts");
        Some(TestServer {
            base_url: format!("http://{}", server.local_addr()),
            engine,
            database: Some(database),
            server: Some(server),
            issuer: TokenIssuer::new(TEST_JWT_SECRET, &config.token_rules),
            _dir: dir,
        })
    }

    /// A second process's sync runner (`squared-server worker`) on this server's database,
    /// with settings changed by `configure`: for tests of runners that share the runs.
    pub async fn start_worker(&self, configure: impl FnOnce(&mut ServerConfig)) -> squared_server::RunningWorker {
        let mut config = ServerConfig {
            database: Some(self.database_url().to_owned()),
            data_dir: self._dir.path().to_owned(),
            ..ServerConfig::default()
        };
        allow_loopback(&mut config);
        configure(&mut config);
        let secrets = Secrets { jwt_secret: TEST_JWT_SECRET.to_vec(), encryption_key: TEST_ENCRYPTION_KEY.to_vec() };
        let log = slog::Logger::root(slog::Discard, slog::o!());
        squared_server::start_worker(&config, &secrets, log).await.expect("the worker starts")
    }

    /// The URL of the server's database.
    pub fn database_url(&self) -> &str {
        &self.database.as_ref().expect("running").url
    }

    /// A valid token for one workspace.
    pub fn token(&self, workspace_id: i64, role: Role) -> String {
        self.issuer.issue_for("tester", workspace_id, role, chrono::Duration::hours(1))
    }

    /// A token with the given claims, signed with the server's secret.
    pub fn token_with_claims(&self, claims: &Claims) -> String {
        self.issuer.issue(claims)
    }

    /// A client acting in `workspace_id` with `role`.
    pub fn client(&self, workspace_id: i64, role: Role) -> Client {
        self.client_with(Credentials::new(self.token(workspace_id, role), workspace_id))
    }

    pub fn client_with(&self, credentials: Credentials) -> Client {
        Client::new(&self.base_url, credentials)
    }

    /// A connection to the server's database, for reading what it stored.
    pub async fn database(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(self.database_url()).await.unwrap()
    }

    /// How many connectors are stored, in every workspace.
    pub async fn connector_count(&self) -> i64 {
        let pool = self.database().await;
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM connectors").fetch_one(&pool).await.unwrap();
        pool.close().await;
        count
    }

    /// Stops the server (gracefully) and drops its database.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server.close()).await.expect("closes in time").unwrap();
        }
        if let Some(database) = self.database.take() {
            database.drop().await;
        }
    }
}

/// Leaves a server's settings as they are.
pub fn as_configured(_: &mut ServerConfig) {}

/// Lets a server's connectors reach loopback addresses (IPv4 and IPv6).
pub fn allow_loopback(config: &mut ServerConfig) {
    config.egress = EgressPolicy::allowing(
        ["127.0.0.0/8", "::1/128"].map(|net| EgressPolicy::parse_network(net).expect("a network")),
    );
}

/// Claims for one workspace, expiring `expires_in_seconds` from now (negative: expired).
pub fn claims(workspace_id: i64, role: Role, expires_in_seconds: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "tester".into(),
        iat: now,
        exp: now + expires_in_seconds,
        aud: None,
        iss: None,
        workspaces: vec![WorkspaceGrant { id: workspace_id, role }],
    }
}

/// An unsigned token (`alg: none`) carrying otherwise valid claims.
pub fn unsigned_token(claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.")
}

/// A token signed with HS256 but another secret.
pub fn foreign_token(claims: &Claims) -> String {
    TokenIssuer::new(b"another-secret-0123456789abcdef-01234", &TokenRules::default()).issue(claims)
}

/// Defines one `#[tokio::test]` per engine for a scenario `async fn(TestServer)`:
/// `<name>_on_sqlite` always runs; `<name>_on_postgres` runs where PostgreSQL is configured
/// (`SQUARED_TEST_POSTGRES_URL` when the tests were built) and is reported ignored elsewhere.
///
/// `on_every_engine!(needs_postgres: …)` is for scenarios that reach a PostgreSQL database
/// as a connector (a source, a destination) whatever the server's own engine: both of their
/// tests are ignored where PostgreSQL is not configured.
#[macro_export]
macro_rules! on_every_engine {
    (needs_postgres: $($name:ident),* $(,)?) => {
        $crate::on_every_engine!(
            @tests [#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]]
            $crate::harness::allow_loopback; $($name),*
        );
    };
    (@tests [$($sqlite_attribute:tt)*] $configure:expr;) => {};
    (@tests [$($sqlite_attribute:tt)*] $configure:expr; $name:ident $(, $rest:ident)*) => {
        mod $name {
            #[tokio::test]
            $($sqlite_attribute)*
            async fn on_sqlite() {
                let server = $crate::harness::TestServer::start_configured($crate::harness::TestEngine::Sqlite, $configure)
                    .await
                    .expect("SQLite is always there");
                super::$name(server).await;
            }

            #[tokio::test]
            #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
            async fn on_postgres() {
                let server = $crate::harness::TestServer::start_configured($crate::harness::TestEngine::Postgres, $configure)
                    .await
                    .expect("PostgreSQL is configured");
                super::$name(server).await;
            }
        }
        $crate::on_every_engine!(@tests [$($sqlite_attribute)*] $configure; $($rest),*);
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_every_engine!(@tests [] $crate::harness::as_configured; $($name),*);
    };
}

/// The variable that names the MariaDB server the connector tests may use.
pub const MARIADB_URL_VAR: &str = "SQUARED_TEST_MARIADB_URL";

/// The parts of a database URL (`scheme://user[:password]@host:port/database`).
#[derive(Clone, Debug)]
pub struct DatabaseUrl {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub database: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> DatabaseUrl {
        let rest = url.split_once("://").expect("a URL with a scheme").1;
        let (credentials, rest) = rest.rsplit_once('@').unwrap_or(("", rest));
        let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
        let (address, database) = rest.split_once('/').expect("a URL with a database");
        let database = database.split('?').next().unwrap_or_default();
        let (host, port) = address.rsplit_once(':').expect("a URL with a port");
        DatabaseUrl {
            user: user.to_owned(),
            password: password.to_owned(),
            host: host.to_owned(),
            port: port.parse().expect("a numeric port"),
            database: database.to_owned(),
        }
    }
}

/// The URL in `var`. Tests that call this are compiled ignored where the variable was not
/// set (see `tests/build/services.rs`), so its absence here is a mistake worth a clear panic.
pub fn url_from_env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} was set when the tests were built, and is not now"))
}

/// The status and body of an error response the spec declares; anything else panics.
pub fn expect_error<T: std::fmt::Debug>(
    result: Result<T, squared_client::Error<squared_client::types::ErrorResponse>>,
) -> (u16, squared_client::types::ErrorResponse) {
    match result {
        Err(squared_client::Error::ErrorResponse(response)) => (response.status().as_u16(), response.into_inner()),
        other => panic!("expected an error response the spec declares, got {other:?}"),
    }
}

/// The JSON Pointers an error response names, in order.
pub fn error_pointers(error: &squared_client::types::ErrorResponse) -> Vec<String> {
    error.errors.iter().filter_map(|e| e.source.as_ref().and_then(|s| s.pointer.clone())).collect()
}

/// Starts a run of sync `sync_id` and waits (up to a minute) until it ends: `success`,
/// `failed` or `canceled`.
pub async fn run_sync_to_end(client: &Client, sync_id: &str) -> squared_client::types::SyncRun {
    start_run_to_end(client, sync_id, false).await
}

/// Starts a dry run of sync `sync_id` and waits (up to a minute) until it ends.
pub async fn dry_run_to_end(client: &Client, sync_id: &str) -> squared_client::types::SyncRun {
    start_run_to_end(client, sync_id, true).await
}

async fn start_run_to_end(client: &Client, sync_id: &str, dry_run: bool) -> squared_client::types::SyncRun {
    use squared_client::types::{ScheduleSync, StartSyncRunRequest};
    let sync = ScheduleSync { sync_id: sync_id.parse().expect("a sync id"), dry_run };
    let start = StartSyncRunRequest { schedule_sync: sync };
    let run = client.start_sync_run().body(start).send().await.expect("the run starts").into_inner().data;
    wait_for_run_end(client, sync_id, &run.id).await
}

/// Waits (up to a minute) until run `run_id` of sync `sync_id` ends.
pub async fn wait_for_run_end(client: &Client, sync_id: &str, run_id: &str) -> squared_client::types::SyncRun {
    wait_for_run_end_within(client, sync_id, run_id, Duration::from_secs(60)).await
}

/// Waits up to `limit` until run `run_id` of sync `sync_id` ends: `success`, `failed` or
/// `canceled`. The one wait for a run of every test.
pub async fn wait_for_run_end_within(
    client: &Client,
    sync_id: &str,
    run_id: &str,
    limit: Duration,
) -> squared_client::types::SyncRun {
    use squared_client::types::SyncRunStatus;
    let deadline = std::time::Instant::now() + limit;
    loop {
        let shown = client.show_sync_run().sync_id(sync_id).sync_run_id(run_id).send().await.expect("the run");
        let shown = shown.into_inner().data;
        if matches!(shown.attributes.status, SyncRunStatus::Success | SyncRunStatus::Failed | SyncRunStatus::Canceled) {
            return shown;
        }
        assert!(std::time::Instant::now() < deadline, "the run did not end within {limit:?}: {shown:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A sync update that changes nothing: tests set the fields they change.
pub fn no_sync_change() -> squared_client::types::SyncUpdate {
    squared_client::types::SyncUpdate {
        name: None,
        source_id: None,
        model_id: None,
        destination_id: None,
        schedule_type: None,
        sync_interval: None,
        sync_interval_unit: None,
        cron_expression: None,
        sync_mode: None,
        cursor_field: None,
        stream_name: None,
        configuration: None,
        delete_removed_rows: None,
    }
}

/// A name no other test uses: a prefix, this process's id, a sequence number (two tests of
/// one process may ask within the same microsecond) and the time (a later process may have
/// the same id).
pub fn unique_name(prefix: &str) -> String {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let (process, sequence) = (std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed));
    format!("{prefix}_{process}_{sequence}_{}", chrono::Utc::now().timestamp_micros() % 100_000_000)
}
