//! The server as operators run it: `squared-server serve` processes, started, killed and
//! stopped by these tests.
//!
//! - Two instances on one PostgreSQL database serve the same connectors, and a unique
//!   constraint (not a read-then-write) settles concurrent creates of one name.
//! - A create that was answered 201 survives SIGKILL, on SQLite and on PostgreSQL.
//! - SIGTERM lets a request in flight finish, then the process exits cleanly.
//!
//! PostgreSQL tests need `SQUARED_TEST_POSTGRES_URL`; without it they are compiled ignored
//! (see `tests/build/services.rs`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{AnyPool, Executor};
use squared_client::types::{
    ConnectorInput, ConnectorResponse, ConnectorType, ConnectorUpdate, CreateConnectorRequest, QuerySourceRequest,
    UpdateConnectorRequest,
};
use squared_client::{Client, Credentials, Error};
use squared_server::auth::{Role, TokenIssuer, TokenRules};

const JWT_SECRET: &str = "processes-test-secret-0123456789abcdef";
const ENCRYPTION_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const WORKSPACE: i64 = 3;

/// A fresh PostgreSQL database for one test, and the admin URL it was made from.
async fn postgres_database() -> (String, String) {
    let admin_url = std::env::var("SQUARED_TEST_POSTGRES_URL")
        .expect("SQUARED_TEST_POSTGRES_URL was set when the tests were built, and is not now");
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let name = format!("squared_proc_{}_{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed));
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(&admin_url).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    admin.close().await;
    let base = admin_url.rsplit_once('/').unwrap().0;
    (format!("{base}/{name}"), admin_url)
}

async fn drop_postgres_database(url: &str, admin_url: &str) {
    let name = url.rsplit_once('/').unwrap().1;
    let admin = AnyPool::connect(admin_url).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
    admin.close().await;
}

/// A running `squared-server serve`.
struct ServerProcess {
    child: Child,
    base_url: String,
}

impl ServerProcess {
    /// Starts a server on `database` (or the data directory's SQLite file) and waits until
    /// it says where it listens.
    fn start(data_dir: &Path, database: Option<&str>) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_squared-server"));
        command
            // Connectors reach the test databases on this machine only because it is allowed.
            .args(["serve", "--bind", "127.0.0.1:0", "--allow-network", "127.0.0.1/32", "--data-dir"])
            .arg(data_dir)
            .env("SQUARED_JWT_SECRET", JWT_SECRET)
            .env("SQUARED_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(database) = database {
            command.args(["--database", database]);
        }
        let mut child = command.spawn().expect("the server binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("the server prints a line").unwrap();
        let base_url = first.strip_prefix("squared-server listening on ").expect(&first).to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess { child, base_url }
    }

    fn client(&self, role: Role) -> Client {
        let token = TokenIssuer::new(JWT_SECRET.as_bytes(), &TokenRules::default()).issue_for(
            "ops",
            WORKSPACE,
            role,
            chrono::Duration::hours(1),
        );
        Client::new(&self.base_url, Credentials::new(token, WORKSPACE))
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn postgres_source(name: &str, password: &str) -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type: ConnectorType::Source,
            connector_name: "Postgresql".into(),
            configuration: json!({
                "data_type": "structured", "host": "db.internal", "port": "5432", "database": "d", "schema": "public",
                "credentials": {"auth_type": "username/password", "username": "u", "password": password}
            })
            .as_object()
            .cloned()
            .unwrap(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn two_instances_share_one_postgres_database() {
    let (url, admin_url) = postgres_database().await;
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = ServerProcess::start(dir_a.path(), Some(&url));
    let b = ServerProcess::start(dir_b.path(), Some(&url));
    let (client_a, client_b) = (a.client(Role::Member), b.client(Role::Member));

    let id =
        client_a.create_connector().body(postgres_source("shared", "pw-1")).send().await.unwrap().into_inner().data.id;
    let shown = client_b.show_connector().id(&id).send().await.unwrap().into_inner().data;
    assert_eq!(shown.attributes.name, "shared");
    assert_eq!(client_b.list_connectors().send().await.unwrap().into_inner().data.len(), 1);
    // B keeps A's sealed secret through a masked update: the two share the encryption key.
    let mut configuration = shown.attributes.configuration.clone();
    configuration["schema"] = json!("reporting");
    let update = ConnectorUpdate {
        name: None,
        description: Some("changed through B".into()),
        connector_type: None,
        connector_name: None,
        configuration: Some(configuration),
    };
    client_b.update_connector().id(&id).body(UpdateConnectorRequest { connector: update }).send().await.unwrap();
    let seen_by_a = client_a.show_connector().id(&id).send().await.unwrap().into_inner().data;
    assert_eq!(seen_by_a.attributes.description.as_deref(), Some("changed through B"));
    assert_eq!(seen_by_a.attributes.configuration["schema"], "reporting");
    client_b.delete_connector().id(&id).send().await.unwrap();
    assert!(
        matches!(client_a.show_connector().id(&id).send().await, Err(Error::ErrorResponse(r)) if r.status() == 404)
    );

    // 20 concurrent creates of one name and type, spread over both instances.
    let attempts = (0..20).map(|n| {
        let client = if n % 2 == 0 { client_a.clone() } else { client_b.clone() };
        tokio::spawn(async move { client.create_connector().body(postgres_source("contested", "pw")).send().await })
    });
    let mut created = 0;
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(response) if response.status() == 201 => created += 1,
            Err(Error::ErrorResponse(response)) if response.status() == 422 => {
                assert_eq!(response.errors[0].detail, "A connector with the same name already exists.");
                refused += 1;
            }
            other => panic!("unexpected answer: {other:?}"),
        }
    }
    assert_eq!((created, refused), (1, 19));
    drop((a, b));
    drop_postgres_database(&url, &admin_url).await;
}

/// Sends creates until `stop` says so, and returns every connector a 201 acknowledged.
async fn create_until_killed(server: ServerProcess) -> Vec<ConnectorResponse> {
    let client = server.client(Role::Member);
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let client = client.clone();
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                for n in 0.. {
                    let request = postgres_source(&format!("crash-{writer}-{n}"), &format!("secret-{writer}-{n}"));
                    match client.create_connector().body(request).send().await {
                        Ok(response) => acknowledged.lock().unwrap().push(response.into_inner()),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let creates flow, then kill the process in the middle of them.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 60 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 60, "only {} creates before the kill", acknowledged.len());
    acknowledged
}

async fn every_acknowledged_create_survives(data_dir: &Path, database: Option<&str>) {
    let acknowledged = create_until_killed(ServerProcess::start(data_dir, database)).await;
    let restarted = ServerProcess::start(data_dir, database);
    let client = restarted.client(Role::Member);
    for created in &acknowledged {
        let id = &created.data.id;
        let stored = client.show_connector().id(id).send().await.unwrap_or_else(|e| panic!("connector {id} lost: {e}"));
        assert_eq!(stored.into_inner(), *created, "connector {id} is complete");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    every_acknowledged_create_survives(dir.path(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn acknowledged_creates_survive_sigkill_on_postgres() {
    let (url, admin_url) = postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    every_acknowledged_create_survives(dir.path(), Some(&url)).await;
    drop_postgres_database(&url, &admin_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn sigterm_finishes_the_request_in_flight_then_exits() {
    // The slow request is a query that sleeps in PostgreSQL, through a PostgreSQL source.
    let source_url = std::env::var("SQUARED_TEST_POSTGRES_URL")
        .expect("SQUARED_TEST_POSTGRES_URL was set when the tests were built, and is not now");
    let (rest, database) = source_url.split_once("://").unwrap().1.rsplit_once('/').unwrap();
    let (user, address) = rest.rsplit_once('@').unwrap();
    let (host, port) = address.rsplit_once(':').unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), None);
    let client = server.client(Role::Member);
    let mut request = postgres_source("sleepy", "unused");
    request.connector.configuration = json!({
        "data_type": "structured", "host": host, "port": port, "database": database.split('?').next().unwrap(),
        "schema": "public", "credentials": {"auth_type": "username/password", "username": user.split(':').next().unwrap(), "password": "unused"}
    })
    .as_object()
    .cloned()
    .unwrap();
    let id = client.create_connector().body(request).send().await.unwrap().into_inner().data.id;

    let slow = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let query = QuerySourceRequest { query: "SELECT 42 AS answer FROM pg_sleep(1.5)".into(), limit: 1 };
            client.query_source().id(&id).body(query).send().await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.signal("-TERM");
    let answered = slow.await.unwrap().expect("the request in flight is answered").into_inner();
    assert_eq!(answered.data.into_iter().map(Value::Object).collect::<Vec<_>>(), [json!({"answer": 42})]);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit: {status}");
    assert!(client.list_connectors().send().await.is_err(), "nothing listens any more");
}
