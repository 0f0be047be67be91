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
use squared_tests::databases::PostgresSchema;
use squared_tests::harness::wait_for_run_end_within;
use squared_tests::receiver;

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
        Self::start_with(&["serve", "--bind", "127.0.0.1:0"], data_dir, database)
    }

    /// Starts `squared-server` with `arguments` (`serve …` or `worker …`) and waits for its
    /// first line: where a server listens (the base URL), or that a worker works.
    fn start_with(arguments: &[&str], data_dir: &Path, database: Option<&str>) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_squared-server"));
        command
            .args(arguments)
            // Connectors reach the test databases on this machine only because it is allowed.
            .args(["--allow-network", "127.0.0.1/32", "--data-dir"])
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
        let base_url = match arguments[0] {
            "serve" => first.strip_prefix("squared-server listening on ").expect(&first).to_owned(),
            _ => {
                assert!(first.contains("worker"), "{first}");
                String::new()
            }
        };
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

    /// Sends SIGTERM and waits until the process exits; answers whether it exited cleanly.
    fn terminate(mut self) -> bool {
        self.signal("-TERM");
        self.child.wait().unwrap().success()
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
            let query = QuerySourceRequest { query: "SELECT 42 AS answer FROM pg_sleep(2)".into(), limit: 1 };
            client.query_source().id(&id).body(query).send().await
        })
    };
    // The event: the query is running in PostgreSQL, so the request is in flight.
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(&source_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'squared-server' \
             AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&admin)
        .await
        .unwrap();
        if running > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the query never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    admin.close().await;
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

/// A schema of its own in the test PostgreSQL with `orders` (`rows` rows) to read and
/// `tables` empty tables to write, and the configuration of a connector to it.
struct SyncFixture {
    pg: PostgresSchema,
    schema: String,
    configuration: serde_json::Map<String, Value>,
}

impl SyncFixture {
    async fn create(rows: usize, tables: &[&str]) -> SyncFixture {
        let pg = PostgresSchema::create("proc_sync").await;
        let mut sql = format!(
            "CREATE TABLE {{schema}}.orders (id integer PRIMARY KEY, customer text, amount numeric(10,2), note text);
             INSERT INTO {{schema}}.orders SELECT n, 'customer ' || n, n % 1000 + 0.25, repeat('x', n % 40)
                    FROM generate_series(1, {rows}) AS n;"
        );
        for table in tables {
            sql.push_str(&format!(
                "CREATE TABLE {{schema}}.{table} (order_id integer PRIMARY KEY, customer_name text, total numeric(10,2));"
            ));
        }
        pg.execute(&sql).await;
        let (schema, configuration) = (pg.schema.clone(), pg.configuration());
        SyncFixture { pg, schema, configuration }
    }

    /// Creates the source and destination connectors, the model of `orders`, and a manual
    /// full-refresh sync into each table; returns the syncs' ids.
    async fn syncs(&self, client: &Client, tables: &[&str]) -> Vec<String> {
        use squared_client::types::{
            CreateModelRequest, CreateSyncRequest, ModelInput, ModelQueryType, SyncInput, SyncMapping, SyncMode,
            SyncScheduleType,
        };
        let connector = |kind: ConnectorType, name: &str| {
            let mut request = postgres_source(name, "unused");
            request.connector.connector_type = kind;
            request.connector.configuration = self.configuration.clone();
            async move { client.create_connector().body(request).send().await.unwrap().into_inner().data.id }
        };
        let source: i64 = connector(ConnectorType::Source, "warehouse").await.parse().unwrap();
        let destination: i64 = connector(ConnectorType::Destination, "replica").await.parse().unwrap();
        let model = ModelInput {
            name: "orders".into(),
            description: None,
            connector_id: source,
            query: Some(format!("SELECT id, customer, amount FROM {}.orders", self.schema)),
            query_type: ModelQueryType::RawSql,
            primary_key: Some("id".into()),
            configuration: None,
        };
        let model: i64 = client
            .create_model()
            .body(CreateModelRequest { model })
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .id
            .parse()
            .unwrap();
        let mut ids = Vec::new();
        for table in tables {
            let sync = SyncInput {
                name: Some(format!("orders to {table}")),
                source_id: source,
                model_id: model,
                destination_id: destination,
                schedule_type: SyncScheduleType::Manual,
                sync_interval: None,
                sync_interval_unit: None,
                cron_expression: None,
                sync_mode: SyncMode::FullRefresh,
                cursor_field: None,
                stream_name: (*table).into(),
                configuration: SyncMapping::FieldMap(
                    [("id", "order_id"), ("customer", "customer_name"), ("amount", "total")]
                        .iter()
                        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                        .collect(),
                ),
                delete_removed_rows: None,
            };
            let created = client.create_sync().body(CreateSyncRequest { sync }).send().await.unwrap();
            ids.push(created.into_inner().data.id);
        }
        ids
    }

    /// How many rows of `table` differ from `orders` (missing, extra or changed).
    async fn differences(&self, table: &str) -> i64 {
        let sql = format!(
            "SELECT COUNT(*) FROM {s}.orders o FULL JOIN {s}.{table} c ON c.order_id = o.id \
             WHERE o.id IS NULL OR c.order_id IS NULL OR c.customer_name IS DISTINCT FROM o.customer \
             OR c.total IS DISTINCT FROM o.amount",
            s = self.schema
        );
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&self.pg.admin).await.unwrap()
    }

    async fn count(&self, table: &str) -> i64 {
        self.pg.count(table).await
    }

    async fn drop(self) {
        self.pg.drop().await;
    }
}

/// Starts a run of `sync` and returns its id.
async fn start_run(client: &Client, sync: &str) -> String {
    use squared_client::types::{ScheduleSync, StartSyncRunRequest};
    let start = StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id: sync.parse().unwrap(), dry_run: false } };
    client.start_sync_run().body(start).send().await.unwrap().into_inner().data.id
}

/// A full-refresh run of the fixture into `orders_copy`, by a server with `lease`, that has
/// written at least 20,000 rows (some batches committed, more to come).
struct RunUnderWay {
    running: ServerProcess,
    sync: String,
    run: String,
    /// The process that holds the run.
    executed_by: String,
}

async fn run_under_way(fixture: &SyncFixture, dir: &Path, url: &str, lease: [&str; 2]) -> RunUnderWay {
    let running = ServerProcess::start_with(&["serve", "--bind", "127.0.0.1:0", lease[0], lease[1]], dir, Some(url));
    let client = running.client(Role::Member);
    let sync = fixture.syncs(&client, &["orders_copy"]).await.remove(0);
    let run = start_run(&client, &sync).await;
    let started = Instant::now();
    loop {
        let shown = client.show_sync_run().sync_id(&sync).sync_run_id(&run).send().await.unwrap().into_inner().data;
        if shown.attributes.successful_rows >= 20_000 {
            let executed_by = shown.attributes.executed_by.expect("a runner holds the run");
            return RunUnderWay { running, sync, run, executed_by };
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the run did not get going: {shown:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts an API-only server to watch and a worker (with `lease`) to take runs over, and
/// waits `within` for `run` to end: the two processes (each stops when dropped) and the ended
/// run.
async fn finished_by_a_worker(
    dir: &Path,
    url: &str,
    lease: [&str; 2],
    sync: &str,
    run: &str,
    within: Duration,
) -> (ServerProcess, ServerProcess, squared_client::types::SyncRun) {
    let api = ServerProcess::start_with(&["serve", "--bind", "127.0.0.1:0", "--no-sync-runner"], dir, Some(url));
    let worker = ServerProcess::start_with(&["worker", lease[0], lease[1]], dir, Some(url));
    let ended = wait_for_run_end_within(&api.client(Role::Member), sync, run, within).await;
    (api, worker, ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_run_whose_process_was_killed_is_finished_by_a_worker() {
    const ROWS: i64 = 200_000;
    let (url, admin_url) = postgres_database().await;
    let fixture = SyncFixture::create(ROWS as usize, &["orders_copy"]).await;
    let dir = tempfile::tempdir().unwrap();
    let lease = ["--run-lease", "3s"];
    // Kill the instance once it has committed some batches, mid-run.
    let RunUnderWay { running, sync, run, .. } = run_under_way(&fixture, dir.path(), &url, lease).await;
    running.kill();
    let written_before = fixture.count("orders_copy").await;
    assert!(written_before < ROWS, "the run was cut off before its end ({written_before} rows written)");

    // A worker takes the run over once its lease expires.
    let (api, _worker, ended) =
        finished_by_a_worker(dir.path(), &url, lease, &sync, &run, Duration::from_secs(300)).await;
    let a = &ended.attributes;
    assert_eq!(a.status, squared_client::types::SyncRunStatus::Success, "{ended:?}");
    assert_eq!(fixture.count("orders_copy").await, ROWS);
    assert_eq!(fixture.differences("orders_copy").await, 0, "the destination holds exactly the source's rows");
    // The taken-over attempt read every row and skipped what the killed one had committed.
    assert_eq!(a.total_query_rows, ROWS);
    assert_eq!(a.skipped_rows + a.successful_rows, ROWS, "{ended:?}");
    assert!(a.skipped_rows >= 20_000, "{ended:?}");
    drop(api);
    fixture.drop().await;
    drop_postgres_database(&url, &admin_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn two_instances_run_each_of_ten_syncs_once() {
    const ROWS: i64 = 1_500;
    let tables: Vec<String> = (0..10).map(|n| format!("copy_{n}")).collect();
    let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
    let (url, admin_url) = postgres_database().await;
    let fixture = SyncFixture::create(ROWS as usize, &tables).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = ServerProcess::start(dir_a.path(), Some(&url));
    let b = ServerProcess::start(dir_b.path(), Some(&url));
    let (client_a, client_b) = (a.client(Role::Member), b.client(Role::Member));
    let syncs = fixture.syncs(&client_a, &tables).await;
    // All ten started at once, through both instances.
    let starts: Vec<_> = syncs
        .iter()
        .enumerate()
        .map(|(n, sync)| {
            let client = if n % 2 == 0 { client_a.clone() } else { client_b.clone() };
            let sync = sync.clone();
            tokio::spawn(async move { start_run(&client, &sync).await })
        })
        .collect();
    let mut runs = Vec::new();
    for start in starts {
        runs.push(start.await.unwrap());
    }
    for ((sync, run), table) in syncs.iter().zip(&runs).zip(&tables) {
        let ended = wait_for_run_end_within(&client_a, sync, run, Duration::from_secs(120)).await;
        let a = &ended.attributes;
        // Executed twice, the second attempt would have skipped every row.
        assert_eq!(
            (a.status, a.total_query_rows, a.skipped_rows, a.successful_rows, a.failed_rows),
            (squared_client::types::SyncRunStatus::Success, ROWS, 0, ROWS, 0),
            "sync {sync}"
        );
        let listed = client_b.list_sync_runs().sync_id(sync).send().await.unwrap().into_inner().data;
        assert_eq!(listed.len(), 1, "one run of sync {sync}");
        assert_eq!(fixture.differences(table).await, 0, "{table}");
    }
    // Every row of every run recorded once.
    let database = AnyPool::connect(&url).await.unwrap();
    let recorded: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT sync_run_id, COUNT(*) FROM sync_records GROUP BY sync_run_id HAVING COUNT(*) <> COUNT(DISTINCT primary_key) \
         OR COUNT(*) <> $1",
    )
    .bind(ROWS)
    .fetch_all(&database)
    .await
    .unwrap();
    assert!(recorded.is_empty(), "runs with a row recorded twice or missing: {recorded:?}");
    database.close().await;
    drop((a, b));
    fixture.drop().await;
    drop_postgres_database(&url, &admin_url).await;
}

/// A receiver that honours `Idempotency-Key` (a repeated key is answered from its cache, its
/// rows not processed again); the runner of an incremental run is killed mid-run and a worker
/// takes it over: every row is processed exactly once, because a batch sent again has the key
/// it had (its rows' keys and fingerprints), and other rows never share it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn an_incremental_run_taken_over_after_sigkill_delivers_every_row_once() {
    use squared_client::types::{
        CreateModelRequest, CreateSyncRequest, ModelInput, ModelQueryType, SyncInput, SyncMapping, SyncMode,
        SyncRunStatus, SyncScheduleType,
    };
    const ROWS: usize = 40_000;
    let (url, admin_url) = postgres_database().await;
    let fixture = SyncFixture::create(ROWS, &[]).await;
    let receiver = receiver::Receiver::start(receiver::Behaviour {
        delay: Duration::from_millis(300),
        honour_idempotency: true,
        key_field: "order_id".into(),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lease = ["--run-lease", "2s"];
    let running =
        ServerProcess::start_with(&["serve", "--bind", "127.0.0.1:0", lease[0], lease[1]], dir.path(), Some(&url));
    let client = running.client(Role::Member);
    let mut source = postgres_source("warehouse", "unused");
    source.connector.configuration = fixture.configuration.clone();
    let source: i64 =
        client.create_connector().body(source).send().await.unwrap().into_inner().data.id.parse().unwrap();
    let mut hook = postgres_source("hook", "unused");
    hook.connector.connector_type = ConnectorType::Destination;
    hook.connector.connector_name = "Http".into();
    hook.connector.configuration = json!({"destination_url": receiver.url}).as_object().cloned().unwrap();
    let hook: i64 = client.create_connector().body(hook).send().await.unwrap().into_inner().data.id.parse().unwrap();
    let model = ModelInput {
        name: "orders".into(),
        description: None,
        connector_id: source,
        query: Some(format!("SELECT id, customer, amount FROM {}.orders", fixture.schema)),
        query_type: ModelQueryType::RawSql,
        primary_key: Some("id".into()),
        configuration: None,
    };
    let model = client.create_model().body(CreateModelRequest { model }).send().await.unwrap().into_inner().data;
    let sync = SyncInput {
        name: Some("orders to the hook".into()),
        source_id: source,
        model_id: model.id.parse().unwrap(),
        destination_id: hook,
        schedule_type: SyncScheduleType::Manual,
        sync_interval: None,
        sync_interval_unit: None,
        cron_expression: None,
        sync_mode: SyncMode::Incremental,
        cursor_field: Some("id".into()),
        stream_name: "records".into(),
        configuration: SyncMapping::FieldMap(
            [("id", "order_id"), ("customer", "customer_name"), ("amount", "total")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        ),
        delete_removed_rows: None,
    };
    let sync = client.create_sync().body(CreateSyncRequest { sync }).send().await.unwrap().into_inner().data.id;
    let run = start_run(&client, &sync).await;
    // Killed once the receiver has processed two batches, with more to come.
    receiver.wait_for_rows(10_000, Duration::from_secs(120)).await;
    running.kill();
    assert!(receiver.processed().len() < ROWS, "the run was cut off before its end");

    let (api, _worker, ended) =
        finished_by_a_worker(dir.path(), &url, lease, &sync, &run, Duration::from_secs(300)).await;
    assert_eq!(ended.attributes.status, SyncRunStatus::Success, "{ended:?}");
    let processed = receiver.processed();
    assert_eq!(processed.len(), ROWS, "every row arrives");
    assert_eq!(receiver.most_in_flight(), 1, "one runner at a time");
    let twice: Vec<_> = processed.iter().filter(|(_, times)| **times != 1).take(5).collect();
    assert!(twice.is_empty(), "rows processed more than once: {twice:?}");
    // The run went on from its committed position with its committed counts.
    assert_eq!(ended.attributes.successful_rows, ROWS as i64, "{ended:?}");
    drop(api);
    fixture.drop().await;
    drop_postgres_database(&url, &admin_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn sigterm_hands_a_run_back_at_once_and_a_worker_resumes_it() {
    const ROWS: i64 = 200_000;
    let (url, admin_url) = postgres_database().await;
    let fixture = SyncFixture::create(ROWS as usize, &["orders_copy"]).await;
    let dir = tempfile::tempdir().unwrap();
    // Ten minutes: only a run handed back is resumed within the test's two.
    let lease = ["--run-lease", "600s"];
    let RunUnderWay { running, sync, run, executed_by: first_runner } =
        run_under_way(&fixture, dir.path(), &url, lease).await;
    assert!(running.terminate(), "SIGTERM ends the process cleanly");

    // Handed back: still in progress, its lease already lapsed.
    let db = AnyPool::connect(&url).await.unwrap();
    let (status, lease_expires_at): (String, String) =
        sqlx::query_as("SELECT status, lease_expires_at FROM sync_runs WHERE id = CAST($1 AS BIGINT)")
            .bind(&run)
            .fetch_one(&db)
            .await
            .unwrap();
    db.close().await;
    assert_eq!(status, "in_progress");
    assert!(lease_expires_at <= squared_server::store::timestamp(chrono::Utc::now()), "{lease_expires_at}");
    assert!(fixture.count("orders_copy").await < ROWS, "the run was cut off before its end");

    let (api, _worker, ended) =
        finished_by_a_worker(dir.path(), &url, lease, &sync, &run, Duration::from_secs(120)).await;
    assert_eq!(ended.attributes.status, squared_client::types::SyncRunStatus::Success, "{ended:?}");
    assert_ne!(ended.attributes.executed_by.as_deref(), Some(first_runner.as_str()), "the worker finished it");
    assert_eq!(fixture.count("orders_copy").await, ROWS);
    assert_eq!(fixture.differences("orders_copy").await, 0, "the destination holds exactly the source's rows");
    drop(api);
    fixture.drop().await;
    drop_postgres_database(&url, &admin_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn an_alert_pending_when_its_process_is_killed_is_delivered_after_restart_once() {
    use squared_client::types::{
        AlertChannelInput, AlertChannelKind, AlertCondition, AlertDeliveryStatus, AlertRuleInput,
        CreateAlertChannelRequest, CreateAlertRuleRequest, SyncIntervalUnit, SyncScheduleType, UpdateSyncRequest,
    };
    use squared_tests::alert_peers::HookReceiver;
    let (url, admin_url) = postgres_database().await;
    let fixture = SyncFixture::create(5, &["orders_copy"]).await;
    let hook = HookReceiver::start(&[]).await;
    hook.answer_always(503);
    let dir = tempfile::tempdir().unwrap();
    // No sync runner: the schedule below is overdue as a stopped runner leaves it.
    let arguments = ["serve", "--bind", "127.0.0.1:0", "--no-sync-runner", "--alert-check-interval", "1s"];
    let running = ServerProcess::start_with(&arguments, dir.path(), Some(&url));
    let admin = running.client(Role::Admin);
    let sync = fixture.syncs(&admin, &["orders_copy"]).await.remove(0);
    let hourly = squared_client::types::SyncUpdate {
        schedule_type: Some(SyncScheduleType::Interval),
        sync_interval: Some(1),
        sync_interval_unit: Some(SyncIntervalUnit::Hours),
        ..squared_tests::harness::no_sync_change()
    };
    admin.update_sync().sync_id(&sync).body(UpdateSyncRequest { sync: hourly }).send().await.unwrap();
    let db = AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE syncs SET next_run_at = $1 WHERE id = CAST($2 AS BIGINT)")
        .bind(squared_server::store::timestamp(chrono::Utc::now() - chrono::Duration::seconds(2)))
        .bind(&sync)
        .execute(&db)
        .await
        .unwrap();
    let configuration = json!({"url": hook.url, "secret": "a secret of sixteen characters"});
    let alert_channel = AlertChannelInput {
        name: "ops".into(),
        kind: AlertChannelKind::Webhook,
        configuration: configuration.as_object().cloned().unwrap(),
    };
    let channel = admin.create_alert_channel().body(CreateAlertChannelRequest { alert_channel }).send().await.unwrap();
    let alert_rule = AlertRuleInput {
        name: "late".into(),
        channel_id: channel.into_inner().data.id.parse().unwrap(),
        sync_id: None,
        condition: AlertCondition::ScheduleOverdue,
        threshold_percent: None,
        duration_seconds: Some(1),
    };
    admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule }).send().await.unwrap();

    // The first attempt is refused (503) and recorded: the delivery is pending, to be retried.
    hook.wait_for_requests(1, Duration::from_secs(30)).await;
    let started = Instant::now();
    loop {
        let listed = admin.list_alert_deliveries().send().await.unwrap().into_inner().data;
        if listed.iter().any(|d| d.attributes.last_error.is_some()) {
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].attributes.status, AlertDeliveryStatus::Pending);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the attempt was not recorded: {listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.kill();

    hook.answer_always(200);
    let restarted = ServerProcess::start_with(&arguments, dir.path(), Some(&url));
    let got = hook.wait_for_accepted(1, Duration::from_secs(60)).await;
    let admin = restarted.client(Role::Admin);
    let started = Instant::now();
    let delivered = loop {
        let listed = admin.list_alert_deliveries().send().await.unwrap().into_inner().data;
        if listed.iter().all(|d| d.attributes.status == AlertDeliveryStatus::Delivered) {
            break listed;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not delivered: {listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivered.len(), 1, "one alert for the missed start: {delivered:?}");
    assert!(delivered[0].attributes.attempts >= 2, "{delivered:?}");
    let accepted: Vec<_> = hook.received().into_iter().filter(|r| r.answered == 200).collect();
    assert_eq!(accepted.len(), 1, "delivered once: {got:?}");
    assert_eq!(accepted[0].headers["squared-delivery"], delivered[0].id);
    drop(restarted);
    db.close().await;
    fixture.drop().await;
    drop_postgres_database(&url, &admin_url).await;
}
