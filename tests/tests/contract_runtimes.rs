//! Contract tests of the working connectors against real systems: PostgreSQL and MariaDB as
//! sources (check, discover, query_source) and PostgreSQL and HTTP as destinations (check).
//!
//! The databases are those of `SQUARED_TEST_POSTGRES_URL` and `SQUARED_TEST_MARIADB_URL`;
//! each test makes its own schema or database with its own tables, and drops it after.
//! Without the variable a test is compiled ignored (see `tests/build/services.rs`). The HTTP destination is a small server
//! on an ephemeral loopback port, started by the test.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use sqlx::Executor;
use squared_client::Client;
use squared_client::types::{
    CheckConnectionRequest, ConnectionStatusValue, ConnectorInput, ConnectorType, CreateConnectorRequest,
    CreateModelRequest, ModelColumn, ModelInput, ModelQueryType, ModelUpdate, QuerySourceRequest, UpdateModelRequest,
};
use squared_server::auth::Role;
use squared_server::runtime::RuntimeLimits;
use squared_tests::databases::{MariaDbDatabase, PostgresSchema};
use squared_tests::harness::{
    DatabaseUrl, POSTGRES_URL_VAR, TestEngine, TestServer, allow_loopback, expect_error, run_sync_to_end, url_from_env,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WORKSPACE: i64 = 21;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

async fn check(
    client: &Client,
    connector_type: ConnectorType,
    name: &str,
    spec: Value,
) -> (ConnectionStatusValue, String) {
    let request = CheckConnectionRequest { type_: connector_type, name: name.into(), connection_spec: object(spec) };
    let outcome = client.check_connection().body(request).send().await.unwrap();
    assert_eq!(outcome.status().as_u16(), 200, "a check answers 200 whatever its outcome");
    let outcome = outcome.into_inner();
    assert_eq!(outcome.type_, "connection_status");
    (outcome.connection_status.status, outcome.connection_status.message)
}

async fn create(client: &Client, connector_type: ConnectorType, name: &str, configuration: Value) -> String {
    let request = CreateConnectorRequest {
        connector: ConnectorInput {
            name: format!("{name}-connector"),
            description: None,
            connector_type,
            connector_name: name.into(),
            configuration: object(configuration),
        },
    };
    client.create_connector().body(request).send().await.unwrap().into_inner().data.id
}

/// A port nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// A schema of the test's own in the test PostgreSQL, with a table and a view.
async fn postgres_source() -> PostgresSchema {
    let pg = PostgresSchema::create("src").await;
    pg.execute(
        "CREATE TABLE {schema}.orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(10,2),
                                       paid boolean, placed_at timestamptz, notes jsonb);
         INSERT INTO {schema}.orders VALUES
             (1, 'ada', 12.50, true, '2026-01-02T03:04:05Z', '{\"gift\": true}'),
             (2, 'bob', 7.00, false, NULL, NULL),
             (3, 'cy', 99.99, true, '2026-02-03T04:05:06Z', '[]');
         CREATE VIEW {schema}.big_orders AS SELECT id, amount FROM {schema}.orders WHERE amount > 10;
         CREATE SEQUENCE {schema}.counter;",
    )
    .await;
    pg
}

fn pg_configuration(source: &PostgresSchema) -> Value {
    Value::Object(source.configuration())
}

/// A database of the test's own in the test MariaDB, with a table and a view.
async fn mariadb_source() -> MariaDbDatabase {
    let maria = MariaDbDatabase::create("src").await;
    maria
        .execute(
            "CREATE TABLE {database}.products (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL, price DECIMAL(8,2), \
             stocked TINYINT(1), added DATETIME);
             INSERT INTO {database}.products VALUES (1, 'lamp', 20.00, 1, '2026-03-04 05:06:07'), \
             (2, 'desk', 150.50, 0, NULL), (3, 'chair', 75.25, 1, '2026-04-05 06:07:08');
             CREATE VIEW {database}.cheap AS SELECT id, title FROM {database}.products WHERE price < 100",
        )
        .await;
    maria
}

/// The configuration of a connector to `source` with `password` (the right one, or not).
fn maria_configuration(source: &MariaDbDatabase, password: &str) -> Value {
    let mut configuration = source.configuration();
    configuration.insert("password".into(), json!(password));
    Value::Object(configuration)
}

fn stream_schema(catalog: &squared_client::types::CatalogResponse, name: &str) -> Value {
    let stream = catalog.data.attributes.catalog.streams.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no stream {name} in {:?}",
            catalog.data.attributes.catalog.streams.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    });
    assert_eq!(stream.action, "create");
    Value::Object(stream.json_schema.clone())
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn postgres_source_checks_discovers_and_queries() {
    let source = postgres_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);

    let (status, message) = check(&member, ConnectorType::Source, "Postgresql", pg_configuration(&source)).await;
    assert_eq!(status, ConnectionStatusValue::Succeeded, "{message}");
    let mut wrong_user = pg_configuration(&source);
    wrong_user["credentials"]["username"] = json!("no_such_role_here");
    let (status, message) = check(&member, ConnectorType::Source, "Postgresql", wrong_user).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.contains("no_such_role_here") && message.contains("does not exist"), "{message}");
    let mut closed = pg_configuration(&source);
    closed["port"] = json!(closed_port().await.to_string());
    let (status, message) = check(&member, ConnectorType::Source, "Postgresql", closed).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.to_lowercase().contains("refused"), "{message}");
    let mut no_schema = pg_configuration(&source);
    no_schema["schema"] = json!("no_such_schema");
    let (status, message) = check(&member, ConnectorType::Source, "Postgresql", no_schema).await;
    assert_eq!((status, message.contains("no_such_schema")), (ConnectionStatusValue::Failed, true));

    let id = create(&member, ConnectorType::Source, "Postgresql", pg_configuration(&source)).await;
    let viewer = server.client(WORKSPACE, Role::Viewer);
    let catalog = viewer.discover_connector().id(&id).send().await.unwrap().into_inner();
    assert_eq!(catalog.data.type_, "catalogs");
    assert_eq!(catalog.data.attributes.connector_id.to_string(), id);
    assert_eq!(catalog.data.attributes.workspace_id, WORKSPACE);
    let names: Vec<&str> = catalog.data.attributes.catalog.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["big_orders", "orders"], "tables and views of the schema, by name");
    assert_eq!(
        stream_schema(&catalog, "orders")["properties"],
        json!({
            "id": {"type": "integer"},
            "customer": {"type": "string"},
            "amount": {"type": ["number", "null"]},
            "paid": {"type": ["boolean", "null"]},
            "placed_at": {"type": ["string", "null"], "format": "date-time"},
            "notes": {"type": ["object", "null"]}
        })
    );
    assert_eq!(catalog.data.attributes.catalog_hash.len(), 64);

    // Kept until refreshed: a new column shows only with refresh=true.
    source
        .admin
        .execute(sqlx::AssertSqlSafe(format!("ALTER TABLE {}.orders ADD COLUMN coupon text", source.schema)))
        .await
        .unwrap();
    let kept = viewer.discover_connector().id(&id).send().await.unwrap().into_inner();
    assert_eq!(kept.data.attributes.catalog_hash, catalog.data.attributes.catalog_hash);
    let fresh = viewer.discover_connector().id(&id).refresh(true).send().await.unwrap().into_inner();
    assert_ne!(fresh.data.attributes.catalog_hash, catalog.data.attributes.catalog_hash);
    assert_eq!(stream_schema(&fresh, "orders")["properties"]["coupon"], json!({"type": ["string", "null"]}));

    let query = |sql: &str, limit: i64| QuerySourceRequest { query: sql.into(), limit };
    // A query runs the caller's SQL with the owner's credentials: members only.
    let (status, _) = expect_error(viewer.query_source().id(&id).body(query("SELECT 1", 1)).send().await);
    assert_eq!(status, 403);
    let rows = member
        .query_source()
        .id(&id)
        .body(query(
            &format!("SELECT id, customer, amount, paid, notes FROM {}.orders ORDER BY id;", source.schema),
            50,
        ))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        rows.into_iter().map(Value::Object).collect::<Vec<_>>(),
        [
            json!({"id": 1, "customer": "ada", "amount": 12.50, "paid": true, "notes": {"gift": true}}),
            json!({"id": 2, "customer": "bob", "amount": 7.00, "paid": false, "notes": null}),
            json!({"id": 3, "customer": "cy", "amount": 99.99, "paid": true, "notes": []}),
        ]
    );
    let limited = member
        .query_source()
        .id(&id)
        .body(query(&format!("SELECT id FROM {}.big_orders ORDER BY id", source.schema), 1))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(limited.into_iter().map(Value::Object).collect::<Vec<_>>(), [json!({"id": 1})]);

    // Read-only: a query that would change something is refused by PostgreSQL.
    let (status, error) = expect_error(
        member
            .query_source()
            .id(&id)
            .body(query(&format!("SELECT nextval('{}.counter')", source.schema), 5))
            .send()
            .await,
    );
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("read-only"), "{}", error.errors[0].detail);
    let (status, error) =
        expect_error(member.query_source().id(&id).body(query("SELECT * FROM nowhere", 5)).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("nowhere"), "{}", error.errors[0].detail);
    let (status, error) = expect_error(member.query_source().id(&id).body(query("SELECT 1", 1001)).send().await);
    assert_eq!(status, 400, "the spec bounds `limit`; the generated type refuses more");
    assert!(error.errors[0].detail.contains("`limit` must be at most 1000"), "{}", error.errors[0].detail);

    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_mariadb), ignore = "SQUARED_TEST_MARIADB_URL is not set")]
async fn mariadb_source_checks_discovers_and_queries() {
    let source = mariadb_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let password = source.url.password.clone();

    let (status, message) =
        check(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, &password)).await;
    assert_eq!(status, ConnectionStatusValue::Succeeded, "{message}");
    assert!(message.contains("MariaDB"), "{message}");
    let (status, message) =
        check(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, "definitely-the-wrong-password"))
            .await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.contains("Access denied"), "{message}");
    assert!(!message.contains("definitely-the-wrong-password"), "the password never shows: {message}");
    let mut closed = maria_configuration(&source, &password);
    closed["port"] = json!(closed_port().await.to_string());
    let (status, message) = check(&member, ConnectorType::Source, "MariaDB", closed).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.to_lowercase().contains("refused"), "{message}");

    let id = create(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, &password)).await;
    let catalog = member.discover_connector().id(&id).send().await.unwrap().into_inner();
    let names: Vec<&str> = catalog.data.attributes.catalog.streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["cheap", "products"]);
    assert_eq!(
        stream_schema(&catalog, "products")["properties"],
        json!({
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "price": {"type": ["number", "null"]},
            "stocked": {"type": ["integer", "null"]},
            "added": {"type": ["string", "null"], "format": "date-time"}
        })
    );

    let query = |sql: String, limit: i64| QuerySourceRequest { query: sql, limit };
    let rows = member
        .query_source()
        .id(&id)
        .body(query(format!("SELECT id, title, price, added FROM {}.products ORDER BY id", source.database), 2))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        rows.into_iter().map(Value::Object).collect::<Vec<_>>(),
        [
            json!({"id": 1, "title": "lamp", "price": 20.00, "added": "2026-03-04 05:06:07"}),
            json!({"id": 2, "title": "desk", "price": 150.50, "added": null}),
        ]
    );
    let (status, error) =
        expect_error(member.query_source().id(&id).body(query("SELECT * FROM no_such_table".into(), 5)).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("no_such_table"), "{}", error.errors[0].detail);

    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn postgres_destination_checks() {
    let url = url_from_env(POSTGRES_URL_VAR);
    let url = DatabaseUrl::parse(&url);
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let spec = |port: u16| {
        json!({
            "host": url.host, "port": port.to_string(), "database": url.database, "schema": "public",
            "credentials": {"auth_type": "username/password", "username": url.user, "password": "unused"}
        })
    };
    let (status, message) = check(&member, ConnectorType::Destination, "Postgresql", spec(url.port)).await;
    assert_eq!(status, ConnectionStatusValue::Succeeded, "{message}");
    let (status, message) = check(&member, ConnectorType::Destination, "Postgresql", spec(closed_port().await)).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.to_lowercase().contains("refused"), "{message}");
    server.stop().await;
}

/// A one-request-at-a-time HTTP server on loopback that answers `status` and records the
/// headers it was sent.
async fn http_sink(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook?token=query-secret", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            record.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
            let reply = format!("HTTP/1.1 {status} Status\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn http_destination_checks_against_a_local_server() {
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);

    let (url, seen) = http_sink(200).await;
    let spec = json!({"destination_url": url, "headers": {"X-Api-Key": "header-secret"}});
    let (status, message) = check(&member, ConnectorType::Destination, "Http", spec).await;
    assert_eq!(status, ConnectionStatusValue::Succeeded, "{message}");
    let request = seen.lock().unwrap().first().cloned().expect("the destination was called");
    assert!(request.starts_with("POST /hook?token=query-secret HTTP/1.1"), "{request}");
    assert!(request.to_lowercase().contains("x-api-key: header-secret"), "{request}");

    let (url, _) = http_sink(503).await;
    let (status, message) = check(&member, ConnectorType::Destination, "Http", json!({"destination_url": url})).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.contains("503"), "{message}");

    let closed = format!("http://127.0.0.1:{}/hook?token=query-secret", closed_port().await);
    let (status, message) =
        check(&member, ConnectorType::Destination, "Http", json!({"destination_url": closed})).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(!message.contains("query-secret"), "the URL (and its token) never shows: {message}");

    // A definition without a runtime fails plainly, never pretends.
    let (status, message) =
        check(&member, ConnectorType::Destination, "Slack", json!({"api_token": "t", "channel_id": "c"})).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.contains("no runtime"), "{message}");

    // The specification must fit the definition, and the definition must exist.
    let request = CheckConnectionRequest {
        type_: ConnectorType::Destination,
        name: "Http".into(),
        connection_spec: object(json!({"headers": {}})),
    };
    let (status, error) = expect_error(member.check_connection().body(request).send().await);
    assert_eq!(status, 422);
    assert_eq!(error.errors[0].source.as_ref().unwrap().pointer.as_deref(), Some("/connection_spec/destination_url"));
    let request = CheckConnectionRequest {
        type_: ConnectorType::Source,
        name: "Nope".into(),
        connection_spec: object(json!({"a": 1})),
    };
    assert_eq!(expect_error(member.check_connection().body(request).send().await).0, 422);
    server.stop().await;
}

#[tokio::test]
async fn connectors_without_runtime_cannot_discover_or_query() {
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let id = create(
        &member,
        ConnectorType::Source,
        "Snowflake",
        json!({
            "host": "acme.snowflakecomputing.com", "role": "r", "warehouse": "w", "database": "d",
            "credentials": {"auth_type": "username/password", "username": "u", "password": "p"}
        }),
    )
    .await;
    let (status, error) = expect_error(member.discover_connector().id(&id).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("cannot discover"), "{}", error.errors[0].detail);
    let request = QuerySourceRequest { query: "SELECT 1".into(), limit: 1 };
    let (status, error) = expect_error(member.query_source().id(&id).body(request).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("cannot query"), "{}", error.errors[0].detail);
    let definition = member
        .show_connector_definition()
        .connector_name("Snowflake")
        .type_(ConnectorType::Source)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!definition.capabilities.check && !definition.capabilities.discover && !definition.capabilities.query);
    server.stop().await;
}

/// A loopback HTTP server that answers every request with a redirect to `location`.
async fn redirecting_to(location: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let reply = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn connectors_reach_local_addresses_only_when_the_operator_allows_them() {
    // The default policy: public addresses only. Every runtime call aimed at this machine is
    // refused before any connection is opened, with a 422 that names the flag.
    let server = TestServer::start().await;
    let member = server.client(WORKSPACE, Role::Member);
    let (url, seen) = http_sink(200).await;
    let localhost = url.replace("127.0.0.1", "localhost");
    for destination in [url.clone(), localhost, url.replace("127.0.0.1", "[::ffff:127.0.0.1]")] {
        let request = CheckConnectionRequest {
            type_: ConnectorType::Destination,
            name: "Http".into(),
            connection_spec: object(json!({"destination_url": destination, "headers": {"X-Api-Key": "header-secret"}})),
        };
        let (status, error) = expect_error(member.check_connection().body(request).send().await);
        assert_eq!(status, 422, "{destination}");
        let detail = &error.errors[0].detail;
        assert!(
            detail.contains("egress policy") && detail.contains("--allow-network") && detail.contains("loopback"),
            "{detail}"
        );
    }
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the local server");

    // A database on this machine (the port needs no server: nothing is dialled), and the
    // cloud metadata address, which is refused the same way.
    let postgres = |host: &str| {
        json!({"data_type": "structured", "host": host, "port": "5432", "database": "test", "schema": "public",
               "credentials": {"auth_type": "username/password", "username": "postgres", "password": "pw"}})
    };
    for host in ["127.0.0.1", "localhost", "169.254.169.254", "/var/run/postgresql"] {
        let request = CheckConnectionRequest {
            type_: ConnectorType::Source,
            name: "Postgresql".into(),
            connection_spec: object(postgres(host)),
        };
        let outcome = member.check_connection().body(request).send().await;
        match host {
            // A socket path is not a host: the check fails, and no driver ever sees the path.
            "/var/run/postgresql" => {
                let outcome = outcome.unwrap().into_inner().connection_status;
                assert_eq!(outcome.status, ConnectionStatusValue::Failed);
                assert!(outcome.message.contains("not a host name"), "{}", outcome.message);
            }
            _ => assert_eq!(expect_error(outcome).0, 422, "{host}"),
        }
    }
    let id = create(&member, ConnectorType::Source, "Postgresql", postgres("127.0.0.1")).await;
    let (status, error) = expect_error(member.discover_connector().id(&id).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("--allow-network"), "{}", error.errors[0].detail);
    let query = QuerySourceRequest { query: "SELECT 1".into(), limit: 1 };
    assert_eq!(expect_error(member.query_source().id(&id).body(query).send().await).0, 422);
    let mariadb = json!({"host": "127.0.0.1", "port": "3306", "username": "root", "password": "", "database": "test"});
    let id = create(&member, ConnectorType::Source, "MariaDB", mariadb).await;
    assert_eq!(expect_error(member.discover_connector().id(&id).send().await).0, 422);
    server.stop().await;

    // Allowed by the operator, the same local server is reached.
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let (status, message) = check(
        &member,
        ConnectorType::Destination,
        "Http",
        json!({"destination_url": url.replace("127.0.0.1", "localhost")}),
    )
    .await;
    assert_eq!(status, ConnectionStatusValue::Succeeded, "{message}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn http_connectors_follow_no_redirect() {
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    // The redirect points at an allowed address, and is still not followed: a redirect could
    // as well point anywhere.
    let (target, seen) = http_sink(200).await;
    let url = redirecting_to(&target).await;
    let (status, message) = check(&member, ConnectorType::Destination, "Http", json!({"destination_url": url})).await;
    assert_eq!(status, ConnectionStatusValue::Failed);
    assert!(message.contains("307") && message.contains("redirect"), "{message}");
    assert!(seen.lock().unwrap().is_empty(), "the redirect was not followed");
    server.stop().await;
}

#[tokio::test]
async fn too_many_connector_calls_at_once_answer_503() {
    let limits = RuntimeLimits {
        max_concurrent_calls: 1,
        queue_wait: std::time::Duration::from_millis(200),
        ..RuntimeLimits::default()
    };
    let server = TestServer::start_configured(TestEngine::Sqlite, |config| {
        allow_loopback(config);
        config.runtime_limits = limits;
    })
    .await
    .unwrap();
    let member = server.client(WORKSPACE, Role::Member);
    // A destination that says when the first request has arrived, and answers it only when
    // the test lets it; later requests are answered at once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let (arrived, first_arrived) = tokio::sync::oneshot::channel::<()>();
    let release = std::sync::Arc::new(tokio::sync::Notify::new());
    let held = release.clone();
    tokio::spawn(async move {
        let mut arrived = Some(arrived);
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let first = arrived.take();
            let held = held.clone();
            tokio::spawn(async move {
                if let Some(arrived) = first {
                    let released = held.notified();
                    let _ = arrived.send(());
                    released.await;
                }
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    let request = || CheckConnectionRequest {
        type_: ConnectorType::Destination,
        name: "Http".into(),
        connection_spec: object(json!({"destination_url": url})),
    };
    let slow = member.check_connection().body(request()).send();
    let second = async {
        // Once the first call holds the only place (its request reached the destination).
        first_arrived.await.unwrap();
        let second = member.check_connection().body(request()).send().await;
        release.notify_one();
        second
    };
    let (slow, second) = tokio::join!(slow, second);
    assert_eq!(slow.unwrap().into_inner().connection_status.status, ConnectionStatusValue::Succeeded);
    let (status, error) = expect_error(second);
    assert_eq!(status, 503);
    assert!(error.errors[0].detail.contains("limit"), "{}", error.errors[0].detail);
    // Once the first is done, calls go through again.
    assert_eq!(
        member.check_connection().body(request()).send().await.unwrap().into_inner().connection_status.status,
        ConnectionStatusValue::Succeeded
    );
    server.stop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn query_source_returns_at_most_limit_rows_whatever_the_sql_says() {
    let source = postgres_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let id = create(&member, ConnectorType::Source, "Postgresql", pg_configuration(&source)).await;
    // Each query closes the wrapping the server puts around it and comments out the rest,
    // LIMIT included: one is shaped for a wrapping `FROM (<query>) AS q LIMIT $1`, the other
    // for this server's. Neither may return more than `limit` rows.
    for sql in [
        "SELECT g FROM generate_series(1, 5000) AS g WHERE $1::bigint > 0) AS q --",
        "SELECT g FROM generate_series(1, 5000) AS g) AS q) AS w --",
    ] {
        let answer =
            member.query_source().id(&id).body(QuerySourceRequest { query: sql.into(), limit: 3 }).send().await;
        match answer {
            Ok(rows) => assert!(rows.into_inner().data.len() <= 3, "{sql}"),
            Err(error) => assert_eq!(expect_error::<()>(Err(error)).0, 422, "{sql}"),
        }
    }
    let rows = member
        .query_source()
        .id(&id)
        .body(QuerySourceRequest {
            query: "SELECT g FROM generate_series(1, 5000) AS g) AS q) AS w --".into(),
            limit: 3,
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(rows.len(), 3, "the rows are read from a cursor and reading stops at the limit");
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn query_source_refuses_huge_answers_and_keeps_serving() {
    let source = postgres_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let id = create(&member, ConnectorType::Source, "Postgresql", pg_configuration(&source)).await;
    // 100 rows of 50 MB: each is over the 10 MiB limit, and never leaves PostgreSQL whole.
    // 100 rows of 200 kB: each is small, together they are over it, and reading stops there.
    for sql in [
        "SELECT repeat('x', 50000000) FROM generate_series(1, 100)",
        "SELECT repeat('x', 200000) AS x FROM generate_series(1, 100)",
    ] {
        let started = std::time::Instant::now();
        let (status, error) = expect_error(
            member.query_source().id(&id).body(QuerySourceRequest { query: sql.into(), limit: 100 }).send().await,
        );
        assert_eq!(status, 422, "{sql}");
        assert!(error.errors[0].detail.contains("bytes"), "{}", error.errors[0].detail);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{sql} took {:?}", started.elapsed());
    }
    // And the server goes on serving, queries included.
    let rows = member
        .query_source()
        .id(&id)
        .body(QuerySourceRequest { query: "SELECT 1 AS one".into(), limit: 1 })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(rows.into_iter().map(Value::Object).collect::<Vec<_>>(), [json!({"one": 1})]);
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_mariadb), ignore = "SQUARED_TEST_MARIADB_URL is not set")]
async fn mariadb_query_source_refuses_huge_answers() {
    let source = mariadb_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let password = source.url.password.clone();
    let id = create(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, &password)).await;
    let huge = QuerySourceRequest { query: "SELECT REPEAT('x', 200000) AS x FROM seq_1_to_100".into(), limit: 100 };
    let (status, error) = expect_error(member.query_source().id(&id).body(huge).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("bytes"), "{}", error.errors[0].detail);
    let rows = member
        .query_source()
        .id(&id)
        .body(QuerySourceRequest { query: "SELECT seq FROM seq_1_to_5000".into(), limit: 2 })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(rows.into_iter().map(Value::Object).collect::<Vec<_>>(), [json!({"seq": 1}), json!({"seq": 2})]);
    server.stop().await;
    source.drop().await;
}

fn sql_model(connector_id: &str, query: &str, primary_key: &str) -> CreateModelRequest {
    CreateModelRequest {
        model: ModelInput {
            name: "orders".into(),
            description: None,
            connector_id: connector_id.parse().unwrap(),
            query: Some(query.into()),
            query_type: ModelQueryType::RawSql,
            primary_key: Some(primary_key.into()),
            configuration: None,
        },
    }
}

fn columns(pairs: &[(&str, &str)]) -> Option<Vec<ModelColumn>> {
    Some(
        pairs
            .iter()
            .map(|(name, json_type)| ModelColumn { name: (*name).into(), type_: (*json_type).into() })
            .collect(),
    )
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn models_are_checked_against_a_postgres_source() {
    let source = postgres_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let id = create(&member, ConnectorType::Source, "Postgresql", pg_configuration(&source)).await;
    let schema = &source.schema;

    // The query runs, returns its primary key, and its columns are kept.
    let query = format!("SELECT id, customer, amount, paid, notes, placed_at FROM {schema}.orders WHERE paid");
    let model = member.create_model().body(sql_model(&id, &query, "id")).send().await.unwrap().into_inner().data;
    assert_eq!(
        model.attributes.columns,
        columns(&[
            ("id", "integer"),
            ("customer", "string"),
            ("amount", "number"),
            ("paid", "boolean"),
            ("notes", "object"),
            ("placed_at", "string")
        ])
    );
    // A primary key the query does not return, a query the source refuses, and one that
    // cannot run read-only: 422 at the field, with the source's words where it gave some.
    for (query, key, pointer, words) in [
        (query.clone(), "order_id", "/model/primary_key", "no column `order_id`"),
        (format!("SELECT id FROM {schema}.nowhere"), "id", "/model/query", "nowhere"),
        (format!("SELECT nextval('{schema}.counter') AS id"), "id", "/model/query", "read-only"),
    ] {
        let (status, error) = expect_error(member.create_model().body(sql_model(&id, &query, key)).send().await);
        assert_eq!(status, 422, "{query}");
        assert_eq!(error.errors[0].source.as_ref().unwrap().pointer.as_deref(), Some(pointer), "{query}");
        assert!(error.errors[0].detail.contains(words), "{}", error.errors[0].detail);
    }
    // An update of the query is checked again; a rename is not (the source is not asked).
    let update = |change: ModelUpdate| UpdateModelRequest { model: change };
    let no_change = || ModelUpdate {
        name: None,
        description: None,
        connector_id: None,
        query: None,
        query_type: None,
        primary_key: None,
        configuration: None,
    };
    let narrowed = member
        .patch_model()
        .id(&model.id)
        .body(update(ModelUpdate { query: Some(format!("SELECT id, amount FROM {schema}.orders")), ..no_change() }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(narrowed.attributes.columns, columns(&[("id", "integer"), ("amount", "number")]));
    let (status, _) = expect_error(
        member
            .patch_model()
            .id(&model.id)
            .body(update(ModelUpdate { query: Some(format!("SELECT amount FROM {schema}.orders")), ..no_change() }))
            .send()
            .await,
    );
    assert_eq!(status, 422);
    // The model's query would now fail; a rename still goes through, since it does not ask.
    source
        .admin
        .execute(sqlx::AssertSqlSafe(format!("ALTER TABLE {schema}.orders DROP COLUMN amount CASCADE")))
        .await
        .unwrap();
    let renamed = member
        .patch_model()
        .id(&model.id)
        .body(update(ModelUpdate { name: Some("orders, renamed".into()), ..no_change() }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(renamed.attributes.columns, narrowed.attributes.columns);
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_mariadb), ignore = "SQUARED_TEST_MARIADB_URL is not set")]
async fn models_are_checked_against_a_mariadb_source() {
    let source = mariadb_source().await;
    let server = TestServer::start_allowing_loopback().await;
    let member = server.client(WORKSPACE, Role::Member);
    let password = source.url.password.clone();
    let id = create(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, &password)).await;
    let query = format!("SELECT id, title, price, added FROM {}.products", source.database);
    let model = member.create_model().body(sql_model(&id, &query, "id")).send().await.unwrap().into_inner().data;
    assert_eq!(
        model.attributes.columns,
        columns(&[("id", "integer"), ("title", "string"), ("price", "number"), ("added", "string")])
    );
    let (status, error) = expect_error(member.create_model().body(sql_model(&id, &query, "sku")).send().await);
    assert_eq!(status, 422);
    assert_eq!(error.errors[0].source.as_ref().unwrap().pointer.as_deref(), Some("/model/primary_key"));
    let missing = format!("SELECT id FROM {}.no_such_table", source.database);
    let (status, error) = expect_error(member.create_model().body(sql_model(&id, &missing, "id")).send().await);
    assert_eq!((status, error.errors[0].source.as_ref().unwrap().pointer.as_deref()), (422, Some("/model/query")));
    server.stop().await;
    source.drop().await;
}

/// A loopback HTTP server that answers 503 to its first `failures` requests and 200 after,
/// keeping every request's `Idempotency-Key` and body.
async fn flaky_sink(failures: usize) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/records", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 65536];
            // Read the head, then as much body as Content-Length says.
            loop {
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&request).to_string();
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
            let key = head
                .lines()
                .find_map(|l| l.to_lowercase().starts_with("idempotency-key:").then(|| l[16..].trim().to_owned()))
                .unwrap_or_default();
            let count = {
                let mut seen = record.lock().unwrap();
                seen.push((key, serde_json::from_str(body).unwrap_or(Value::Null)));
                seen.len()
            };
            let reply = if count <= failures {
                "HTTP/1.1 503 Service Unavailable\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

#[tokio::test]
#[cfg_attr(not(squared_test_mariadb), ignore = "SQUARED_TEST_MARIADB_URL is not set")]
async fn runs_move_mariadb_rows_to_an_http_destination_that_fails_twice() {
    let source = mariadb_source().await;
    let server = TestServer::start_with_sync_runner(TestEngine::Sqlite).await;
    let member = server.client(WORKSPACE, Role::Member);
    let password = source.url.password.clone();
    let source_id = create(&member, ConnectorType::Source, "MariaDB", maria_configuration(&source, &password)).await;
    let (url, seen) = flaky_sink(2).await;
    let destination_id = create(
        &member,
        ConnectorType::Destination,
        "Http",
        json!({"destination_url": url, "headers": {"X-Team": "data"}}),
    )
    .await;
    let query = format!("SELECT id, title, price, added FROM {}.products", source.database);
    let model = member.create_model().body(sql_model(&source_id, &query, "id")).send().await.unwrap().into_inner().data;
    let sync = member
        .create_sync()
        .body(squared_client::types::CreateSyncRequest {
            sync: squared_client::types::SyncInput {
                name: None,
                source_id: source_id.parse().unwrap(),
                model_id: model.id.parse().unwrap(),
                destination_id: destination_id.parse().unwrap(),
                schedule_type: squared_client::types::SyncScheduleType::Manual,
                sync_interval: None,
                sync_interval_unit: None,
                cron_expression: None,
                sync_mode: squared_client::types::SyncMode::FullRefresh,
                cursor_field: None,
                stream_name: "records".into(),
                delete_removed_rows: None,
                configuration: squared_client::types::SyncMapping::FieldMap(
                    [("id".to_owned(), "product_id".to_owned()), ("title".to_owned(), "name".to_owned())].into(),
                ),
            },
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let start = squared_client::types::StartSyncRunRequest {
        schedule_sync: squared_client::types::ScheduleSync { sync_id: sync.id.parse().unwrap(), dry_run: false },
    };
    let run = member.start_sync_run().body(start).send().await.unwrap().into_inner().data;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ended = loop {
        let shown =
            member.show_sync_run().sync_id(&sync.id).sync_run_id(&run.id).send().await.unwrap().into_inner().data;
        if matches!(
            shown.attributes.status,
            squared_client::types::SyncRunStatus::Success | squared_client::types::SyncRunStatus::Failed
        ) {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the run did not end: {shown:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ended.attributes.status, squared_client::types::SyncRunStatus::Success, "{ended:?}");
    assert_eq!(
        (ended.attributes.total_query_rows, ended.attributes.successful_rows, ended.attributes.failed_rows),
        (3, 3, 0)
    );
    // Two 503s, then the same batch, under the same idempotency key, arrives once.
    let seen_by_sink = seen.clone();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|(key, _)| key == &seen[0].0 && key.starts_with("squared-run-")), "{seen:?}");
    let delivered = seen[2].1.as_array().unwrap();
    let mut ids: Vec<i64> = delivered.iter().map(|r| r["product_id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert!(delivered.iter().any(|r| r == &json!({"product_id": 1, "name": "lamp"})), "{delivered:?}");

    // Incremental from here on, by `added` (a DATETIME; the desk has none, and comes first).
    // The first incremental run reads every row and sends nothing, as nothing changed.
    let incremental = squared_client::types::SyncUpdate {
        sync_mode: Some(squared_client::types::SyncMode::Incremental),
        cursor_field: Some("added".into()),
        ..squared_tests::harness::no_sync_change()
    };
    member
        .update_sync()
        .sync_id(&sync.id)
        .body(squared_client::types::UpdateSyncRequest { sync: incremental })
        .send()
        .await
        .unwrap();
    let counts = |run: &squared_client::types::SyncRun| {
        let a = &run.attributes;
        (a.status, a.total_query_rows, a.skipped_rows, a.successful_rows)
    };
    let success = squared_client::types::SyncRunStatus::Success;
    assert_eq!(counts(&run_sync_to_end(&member, &sync.id).await), (success, 3, 3, 0));
    let shown = member.show_sync().sync_id(&sync.id).send().await.unwrap().into_inner().data;
    assert_eq!(shown.attributes.current_cursor.as_deref(), Some("2026-04-05 06:07:08"));
    // One row moves past the cursor and one is new: the next run reads and sends exactly those,
    // mapped; the one after reads nothing.
    for statement in [
        format!(
            "UPDATE {}.products SET title = 'lantern', added = '2026-05-01 00:00:00' WHERE id = 1",
            source.database
        ),
        format!("INSERT INTO {}.products VALUES (4, 'shelf', 30.00, 1, '2026-05-01 00:00:00')", source.database),
    ] {
        source.admin.execute(sqlx::AssertSqlSafe(statement)).await.unwrap();
    }
    assert_eq!(counts(&run_sync_to_end(&member, &sync.id).await), (success, 2, 0, 2));
    let last = seen_by_sink.lock().unwrap().last().cloned().unwrap().1;
    assert_eq!(last, json!([{"product_id": 1, "name": "lantern"}, {"product_id": 4, "name": "shelf"}]));
    assert_eq!(counts(&run_sync_to_end(&member, &sync.id).await), (success, 0, 0, 0));
    server.stop().await;
    source.drop().await;
}
