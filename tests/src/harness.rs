//! A real server for one test: its own temporary data directory, SQLite file, JWT secret
//! and ephemeral port. Tests talk to it through the generated client and read its database
//! directly to see what was (or was not) stored.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use squared_client::{Client, Credentials};
use squared_server::auth::{Claims, Role, TokenIssuer, WorkspaceGrant};
use squared_server::config::Secrets;
use squared_server::{RunningServer, ServerConfig};
use tempfile::TempDir;

/// The secret every test server signs with; at least 32 bytes, as the server demands.
pub const TEST_JWT_SECRET: &[u8] = b"test-secret-0123456789abcdef-0123456789";

pub struct TestServer {
    pub base_url: String,
    pub database_url: String,
    server: Option<RunningServer>,
    issuer: TokenIssuer,
    _dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = ServerConfig { bind: ([127, 0, 0, 1], 0).into(), database: None, data_dir: dir.path().to_owned() };
        let database_url = config.database_url().unwrap();
        let secrets = Secrets { jwt_secret: TEST_JWT_SECRET.to_vec() };
        let log = slog::Logger::root(slog::Discard, slog::o!());
        let server = squared_server::start(&config, &secrets, log).await.expect("the server starts");
        TestServer {
            base_url: format!("http://{}", server.local_addr()),
            database_url,
            server: Some(server),
            issuer: TokenIssuer::new(TEST_JWT_SECRET),
            _dir: dir,
        }
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

    /// A read connection to the server's database.
    pub async fn database(&self) -> SqlitePool {
        let options: SqliteConnectOptions = self.database_url.parse().unwrap();
        SqlitePool::connect_with(options.read_only(true)).await.unwrap()
    }

    /// How many connectors are stored, in every workspace.
    pub async fn connector_count(&self) -> i64 {
        let pool = self.database().await;
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM connectors").fetch_one(&pool).await.unwrap();
        pool.close().await;
        count
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server.close()).await.expect("closes in time").unwrap();
        }
    }
}

/// Claims for one workspace, expiring `expires_in_seconds` from now (negative: expired).
pub fn claims(workspace_id: i64, role: Role, expires_in_seconds: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "tester".into(),
        iat: now,
        exp: now + expires_in_seconds,
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
    TokenIssuer::new(b"another-secret-0123456789abcdef-01234").issue(claims)
}
