//! The sync engine against real services: incremental reads past a cursor (PostgreSQL into
//! MariaDB), rows that left the model (PostgreSQL into PostgreSQL), record retention, and
//! cancel during a run. The server runs on SQLite here; the engine's use of the server's own
//! database on PostgreSQL is covered by `contract_syncs` and `processes`.

use serde_json::{Map, Value, json};
use sqlx::Row;
use squared_client::Client;
use squared_client::types::{
    ConnectorInput, ConnectorType, CreateConnectorRequest, CreateModelRequest, CreateSyncRequest, ModelInput,
    ModelQueryType, SyncInput, SyncMapping, SyncMode, SyncRecordAction, SyncRecordStatus, SyncRun, SyncRunStatus,
    SyncScheduleType, SyncUpdate, UpdateSyncRequest,
};
use squared_server::auth::Role;
use squared_tests::databases::{MariaDbDatabase, PostgresSchema};
use squared_tests::harness::{
    TestEngine, TestServer, allow_loopback, dry_run_to_end, error_pointers, expect_error, no_sync_change,
    run_sync_to_end, wait_for_run_end,
};

const WORKSPACE: i64 = 43;

fn unique(prefix: &str) -> String {
    squared_tests::harness::unique_name(prefix)
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// A schema of the test's own in the test PostgreSQL, holding the source table `orders`
/// (`orders` rows) and the destination tables `orders_copy` and `orders_kept`.
async fn orders_schema(orders: usize) -> PostgresSchema {
    let pg = PostgresSchema::create("engine").await;
    pg.execute(&format!(
        "CREATE TABLE {{schema}}.orders (id integer PRIMARY KEY, customer text, amount numeric(10,2),
                                        changed_at timestamptz);
         INSERT INTO {{schema}}.orders SELECT n, 'customer ' || n, n * 1.25,
                '2026-01-01T00:00:00Z'::timestamptz + (n / 2) * interval '1 minute'
                FROM generate_series(1, {orders}) AS n;
         CREATE TABLE {{schema}}.orders_copy (order_id integer PRIMARY KEY, customer_name text, total numeric);
         CREATE TABLE {{schema}}.orders_kept (order_id integer PRIMARY KEY, customer_name text, total numeric);"
    ))
    .await;
    pg
}

/// A database of the test's own in the test MariaDB, holding the destination table
/// `orders_copy`.
async fn orders_copy_database() -> MariaDbDatabase {
    let maria = MariaDbDatabase::create("dest").await;
    maria
        .execute(
            "CREATE TABLE {database}.orders_copy (order_id INT PRIMARY KEY, customer_name VARCHAR(100) NOT NULL, \
             total DECIMAL(10,2))",
        )
        .await;
    maria
}

/// Every row of a MariaDB `orders_copy`, in key order, as (id, customer, total as text).
async fn copied_rows(maria: &MariaDbDatabase) -> Vec<(i32, String, String)> {
    let sql = format!(
        "SELECT order_id, customer_name, CAST(total AS CHAR) AS total FROM {}.orders_copy ORDER BY order_id",
        maria.database
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&maria.admin)
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get("order_id"), row.get("customer_name"), row.get("total")))
        .collect()
}

async fn connector(client: &Client, kind: ConnectorType, definition: &str, configuration: Map<String, Value>) -> i64 {
    let request = CreateConnectorRequest {
        connector: ConnectorInput {
            name: unique(definition),
            description: None,
            connector_type: kind,
            connector_name: definition.into(),
            configuration,
        },
    };
    client.create_connector().body(request).send().await.unwrap().into_inner().data.id.parse().unwrap()
}

async fn orders_model(client: &Client, source: i64, schema: &str) -> i64 {
    let model = ModelInput {
        name: "orders".into(),
        description: None,
        connector_id: source,
        query: Some(format!("SELECT id, customer, amount, changed_at FROM {schema}.orders")),
        query_type: ModelQueryType::RawSql,
        primary_key: Some("id".into()),
        configuration: None,
    };
    let created = client.create_model().body(CreateModelRequest { model }).send().await.unwrap();
    created.into_inner().data.id.parse().unwrap()
}

fn sync_input(source: i64, model: i64, destination: i64, stream: &str) -> SyncInput {
    SyncInput {
        name: Some(unique("sync")),
        source_id: source,
        model_id: model,
        destination_id: destination,
        schedule_type: SyncScheduleType::Manual,
        sync_interval: None,
        sync_interval_unit: None,
        cron_expression: None,
        sync_mode: SyncMode::FullRefresh,
        cursor_field: None,
        stream_name: stream.into(),
        configuration: SyncMapping::FieldMap(
            [("id", "order_id"), ("customer", "customer_name"), ("amount", "total")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        ),
        delete_removed_rows: None,
    }
}

/// A PostgreSQL schema of `rows` orders, and in `server` the connectors reading and writing it
/// and the orders model: what the PostgreSQL-to-PostgreSQL scenarios start from.
struct RoundTrip {
    source: PostgresSchema,
    server: TestServer,
    client: Client,
    source_id: i64,
    destination_id: i64,
    model: i64,
}

impl RoundTrip {
    async fn start(rows: usize, server: TestServer) -> RoundTrip {
        let source = orders_schema(rows).await;
        let client = server.client(WORKSPACE, Role::Member);
        let source_id = connector(&client, ConnectorType::Source, "Postgresql", source.configuration()).await;
        let destination_id = connector(&client, ConnectorType::Destination, "Postgresql", source.configuration()).await;
        let model = orders_model(&client, source_id, &source.schema).await;
        RoundTrip { source, server, client, source_id, destination_id, model }
    }
}

async fn create_sync(client: &Client, input: SyncInput) -> String {
    let created = client.create_sync().body(CreateSyncRequest { sync: input }).send().await.unwrap();
    created.into_inner().data.id
}

fn counts(run: &SyncRun) -> (i64, i64, i64, i64, i64) {
    let a = &run.attributes;
    (a.total_query_rows, a.skipped_rows, a.total_rows, a.successful_rows, a.failed_rows)
}

/// Every record of a run as (key, action, status), in the order written.
async fn records(client: &Client, sync: &str, run: &SyncRun) -> Vec<(String, SyncRecordAction, SyncRecordStatus)> {
    let mut all = Vec::new();
    for page in 1.. {
        let listed =
            client.list_sync_records().sync_id(sync).sync_run_id(&run.id).page(page).per_page(100).send().await;
        let data = listed.unwrap().into_inner().data;
        if data.is_empty() {
            return all;
        }
        all.extend(data.into_iter().map(|r| (r.attributes.primary_key, r.attributes.action, r.attributes.status)));
    }
    unreachable!()
}

#[tokio::test]
#[cfg_attr(
    not(all(squared_test_postgres, squared_test_mariadb)),
    ignore = "SQUARED_TEST_POSTGRES_URL or SQUARED_TEST_MARIADB_URL is not set"
)]
async fn postgres_to_mariadb_full_refresh_then_incremental_past_the_cursor() {
    let source = orders_schema(4).await;
    let destination = orders_copy_database().await;
    let server = TestServer::start_with_sync_runner(TestEngine::Sqlite).await;
    let client = server.client(WORKSPACE, Role::Member);
    let source_id = connector(&client, ConnectorType::Source, "Postgresql", source.configuration()).await;
    let destination_id = connector(&client, ConnectorType::Destination, "MariaDB", destination.configuration()).await;
    let model = orders_model(&client, source_id, &source.schema).await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;

    // A full refresh writes every row, mapped, row by row.
    let first = run_sync_to_end(&client, &sync).await;
    assert_eq!((first.attributes.status, counts(&first)), (SyncRunStatus::Success, (4, 0, 4, 4, 0)), "{first:?}");
    let expected: Vec<(i32, String, String)> =
        (1..=4).map(|n| (n, format!("customer {n}"), format!("{:.2}", f64::from(n) * 1.25))).collect();
    assert_eq!(copied_rows(&destination).await, expected);

    // Incremental from here on: the first incremental run reads everything (the cursor starts
    // empty) and writes nothing, since nothing changed; then the cursor stands at the last row.
    let incremental = SyncUpdate {
        sync_mode: Some(SyncMode::Incremental),
        cursor_field: Some("changed_at".into()),
        ..no_sync_change()
    };
    let updated = client.update_sync().sync_id(&sync).body(UpdateSyncRequest { sync: incremental }).send().await;
    assert_eq!(updated.unwrap().into_inner().data.attributes.current_cursor, None);
    let second = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&second), (4, 4, 0, 0, 0), "{second:?}");
    let shown = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data;
    let cursor = shown.attributes.current_cursor.expect("the cursor moved");
    assert!(cursor.starts_with("2026-01-01 00:02:00"), "{cursor}");

    // Three rows change: two updated, one new, all at one later cursor value (a tie that the
    // primary key settles). The next run reads exactly those three and writes them.
    source
        .execute(
            "UPDATE {schema}.orders SET amount = 99.00, changed_at = '2026-02-01T00:00:00Z' WHERE id IN (1, 3);
             INSERT INTO {schema}.orders VALUES (5, 'customer 5', 6.25, '2026-02-01T00:00:00Z');",
        )
        .await;
    let third = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&third), (3, 0, 3, 3, 0), "{third:?}");
    assert_eq!(
        records(&client, &sync, &third).await,
        [
            ("1".to_owned(), SyncRecordAction::DestinationUpdate, SyncRecordStatus::Success),
            ("3".to_owned(), SyncRecordAction::DestinationUpdate, SyncRecordStatus::Success),
            ("5".to_owned(), SyncRecordAction::DestinationInsert, SyncRecordStatus::Success),
        ]
    );
    let mut expected = expected;
    expected[0].2 = "99.00".into();
    expected[2].2 = "99.00".into();
    expected.push((5, "customer 5".into(), "6.25".into()));
    assert_eq!(copied_rows(&destination).await, expected);

    // A row at the same cursor value with a later key is read; nothing already read is read
    // again.
    source.execute("INSERT INTO {schema}.orders VALUES (6, 'customer 6', 7.50, '2026-02-01T00:00:00Z')").await;
    let fourth = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&fourth), (1, 0, 1, 1, 0), "{fourth:?}");
    let fifth = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&fifth), (0, 0, 0, 0, 0), "{fifth:?}");
    assert_eq!(copied_rows(&destination).await.len(), 6);

    // A row the destination refuses (MariaDB's column is NOT NULL) fails alone, with its error.
    source.execute("INSERT INTO {schema}.orders VALUES (7, NULL, 1.00, '2026-03-01T00:00:00Z'), (8, 'customer 8', 2.00, '2026-03-01T00:00:00Z')").await;
    let sixth = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&sixth), (2, 0, 2, 1, 1), "{sixth:?}");
    let listed = client.list_sync_records().sync_id(&sync).sync_run_id(&sixth.id).send().await.unwrap();
    let failed: Vec<_> =
        listed.into_inner().data.into_iter().filter(|r| r.attributes.status == SyncRecordStatus::Failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attributes.primary_key, "7");
    assert!(failed[0].attributes.error.as_deref().unwrap_or_default().contains("customer_name"), "{failed:?}");
    assert_eq!(copied_rows(&destination).await.len(), 7);

    server.stop().await;
    source.drop().await;
    destination.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_full_refresh_notices_rows_that_left_the_model() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(3, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let deleting = create_sync(
        &client,
        SyncInput { delete_removed_rows: Some(true), ..sync_input(source_id, model, destination_id, "orders_copy") },
    )
    .await;
    let keeping = create_sync(&client, sync_input(source_id, model, destination_id, "orders_kept")).await;
    for sync in [&deleting, &keeping] {
        assert_eq!(counts(&run_sync_to_end(&client, sync).await), (3, 0, 3, 3, 0));
    }
    source.execute("DELETE FROM {schema}.orders WHERE id = 2").await;
    for (sync, left) in [(&deleting, 2), (&keeping, 3)] {
        let run = run_sync_to_end(&client, sync).await;
        assert_eq!(counts(&run), (2, 2, 1, 1, 0), "{run:?}");
        assert_eq!(
            records(&client, sync, &run).await,
            [("2".to_owned(), SyncRecordAction::DestinationDelete, SyncRecordStatus::Success)]
        );
        let table = if sync == &deleting { "orders_copy" } else { "orders_kept" };
        assert_eq!(source.count(table).await, left, "{table}");
        // Noticed once: the next run finds nothing gone.
        assert_eq!(counts(&run_sync_to_end(&client, sync).await), (2, 2, 0, 0, 0));
    }
    // An Http destination cannot delete, nor can a sync whose mapping sends another column to
    // the stream's key: both are refused at the option's pointer.
    let http = connector(
        &client,
        ConnectorType::Destination,
        "Http",
        object(json!({"destination_url": "https://hooks.example.com/orders"})),
    )
    .await;
    let refused = client
        .create_sync()
        .body(CreateSyncRequest {
            sync: SyncInput { delete_removed_rows: Some(true), ..sync_input(source_id, model, http, "records") },
        })
        .send()
        .await;
    let (status, error) = expect_error(refused);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/sync/delete_removed_rows".to_owned()]), "{error:?}");
    let mut other_key = sync_input(source_id, model, destination_id, "orders_copy");
    other_key.configuration = SyncMapping::FieldMap(
        [("amount", "order_id"), ("customer", "customer_name")]
            .iter()
            .map(|(a, b)| ((*a).into(), (*b).into()))
            .collect(),
    );
    other_key.delete_removed_rows = Some(true);
    let (status, error) = expect_error(client.create_sync().body(CreateSyncRequest { sync: other_key }).send().await);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/sync/delete_removed_rows".to_owned()]), "{error:?}");
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn only_the_latest_runs_keep_their_records() {
    let server = TestServer::start_configured(TestEngine::Sqlite, |config| {
        allow_loopback(config);
        config.run_syncs = true;
        config.engine.record_runs_kept = 2;
    })
    .await
    .unwrap();
    let RoundTrip { source, server, client, source_id, destination_id, model } = RoundTrip::start(2, server).await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    let mut runs = Vec::new();
    for amount in 1..=3 {
        // Every run changes both rows, so that every run has records.
        source.execute(&format!("UPDATE {{schema}}.orders SET amount = {amount}")).await;
        runs.push(run_sync_to_end(&client, &sync).await);
    }
    let kept: Vec<usize> = {
        let mut kept = Vec::new();
        for run in &runs {
            kept.push(records(&client, &sync, run).await.len());
        }
        kept
    };
    assert_eq!(kept, [0, 2, 2], "the oldest run keeps its counts only");
    assert_eq!(counts(&runs[0]).3, 2);
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn cancel_stops_a_run_after_the_batch_in_hand_keeping_what_it_wrote() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(300_000, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    let start = squared_client::types::StartSyncRunRequest {
        schedule_sync: squared_client::types::ScheduleSync { sync_id: sync.parse().unwrap(), dry_run: false },
    };
    let run = client.start_sync_run().body(start).send().await.unwrap().into_inner().data;
    // Wait until it has written something.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let shown = client.show_sync_run().sync_id(&sync).sync_run_id(&run.id).send().await.unwrap();
        let shown = shown.into_inner().data;
        if shown.attributes.successful_rows > 0 {
            break;
        }
        assert!(shown.attributes.status != SyncRunStatus::Success, "the run ended before it was canceled");
        assert!(std::time::Instant::now() < deadline, "the run wrote nothing: {shown:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let canceled = client.cancel_sync_run().sync_id(&sync).send().await.unwrap().into_inner().data;
    assert_eq!(canceled.attributes.status, SyncRunStatus::Canceled);
    let at_cancel = source.count("orders_copy").await;
    // The event: the runner gives the run back (its lease cleared) once it stopped.
    let db = server.database().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let released: Option<String> = sqlx::query_scalar("SELECT lease_expires_at FROM sync_runs WHERE id = $1")
            .bind(run.id.parse::<i64>().unwrap())
            .fetch_one(&db)
            .await
            .unwrap();
        if released.is_none() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the runner did not stop");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    db.close().await;
    // At most the batch in hand was written after the cancel was answered.
    let after = source.count("orders_copy").await;
    assert!(
        after <= at_cancel + squared_server::engine::BATCH_ROWS as i64,
        "{} rows written after the cancel, more than the batch in hand",
        after - at_cancel
    );
    let ended = wait_for_run_end(&client, &sync, &run.id).await;
    assert_eq!(ended.attributes.status, SyncRunStatus::Canceled);
    let written = ended.attributes.successful_rows;
    assert!(written > 0 && written < 300_000, "{ended:?}");
    assert_eq!(source.count("orders_copy").await, written, "what was written is counted");
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn postgres_to_postgres_full_refresh_then_incremental() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(3, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (3, 0, 3, 3, 0));
    let incremental = SyncUpdate {
        sync_mode: Some(SyncMode::Incremental),
        cursor_field: Some("changed_at".into()),
        ..no_sync_change()
    };
    client.update_sync().sync_id(&sync).body(UpdateSyncRequest { sync: incremental }).send().await.unwrap();
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (3, 3, 0, 0, 0));
    source
        .execute("UPDATE {schema}.orders SET customer = 'changed', changed_at = '2026-06-01T00:00:00Z' WHERE id = 2")
        .await;
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (1, 0, 1, 1, 0));
    let copied: Vec<(i32, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT order_id, customer_name, total::text FROM {}.orders_copy ORDER BY order_id",
        source.schema
    )))
    .fetch_all(&source.admin)
    .await
    .unwrap();
    assert_eq!(
        copied,
        [
            (1, "customer 1".into(), "1.25".into()),
            (2, "changed".into(), "2.50".into()),
            (3, "customer 3".into(), "3.75".into())
        ]
    );
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (0, 0, 0, 0, 0));
    server.stop().await;
    source.drop().await;
}

/// The claim generation of a run, from the server's own database: how many times it was
/// claimed.
async fn claim_generation(server: &TestServer, run: &SyncRun) -> i64 {
    let db = server.database().await;
    let generation = sqlx::query_scalar::<_, i64>("SELECT claim_generation FROM sync_runs WHERE id = $1")
        .bind(run.id.parse::<i64>().unwrap())
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    generation
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_run_in_which_every_row_fails_is_failed_and_its_sync_is_not_healthy() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(20, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    // Every source row leaves a NOT NULL column of the destination null.
    source
        .execute(
            "UPDATE {schema}.orders SET customer = NULL;
             ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name SET NOT NULL;",
        )
        .await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    let run = run_sync_to_end(&client, &sync).await;
    assert_eq!((run.attributes.status, counts(&run)), (SyncRunStatus::Failed, (20, 0, 20, 0, 20)), "{run:?}");
    let error = run.attributes.error.clone().unwrap_or_default();
    assert!(error.starts_with("20 of 20 rows failed and 0 were written"), "{error}");
    assert!(error.contains("customer_name"), "the first error is named: {error}");
    let shown = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data.attributes;
    assert_eq!(
        (shown.status, shown.last_run_status.as_deref(), shown.last_run_failed_rows),
        (squared_client::types::SyncStatus::Failed, Some("failed"), Some(20))
    );
    assert_eq!(source.count("orders_copy").await, 0);
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_row_refused_in_an_incremental_run_is_written_by_the_next() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(6, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    // The destination refuses row 3 (a check), which sits in the middle of the cursor order.
    source.execute("ALTER TABLE {schema}.orders_copy ADD CONSTRAINT not_three CHECK (order_id <> 3)").await;
    let sync = create_sync(
        &client,
        SyncInput {
            sync_mode: SyncMode::Incremental,
            cursor_field: Some("changed_at".into()),
            ..sync_input(source_id, model, destination_id, "orders_copy")
        },
    )
    .await;
    let first = run_sync_to_end(&client, &sync).await;
    assert_eq!((first.attributes.status, counts(&first)), (SyncRunStatus::Failed, (6, 0, 6, 5, 1)), "{first:?}");
    assert_eq!(source.count("orders_copy").await, 5);

    // The destination is mended; nothing changes at the source. The next run reads the refused
    // row again (and the rows after it, which it skips), and writes it.
    source.execute("ALTER TABLE {schema}.orders_copy DROP CONSTRAINT not_three").await;
    let second = run_sync_to_end(&client, &sync).await;
    assert_eq!(second.attributes.status, SyncRunStatus::Success, "{second:?}");
    let (read, skipped, total, written, failed) = counts(&second);
    assert_eq!((total, written, failed), (1, 1, 0), "{second:?}");
    assert_eq!(read, skipped + 1, "{second:?}");
    assert_eq!(
        records(&client, &sync, &second).await,
        [("3".to_owned(), SyncRecordAction::DestinationInsert, SyncRecordStatus::Success)]
    );
    assert_eq!(source.count("orders_copy").await, 6);
    // Delivered: the position moves past it, and the next run reads nothing.
    let third = run_sync_to_end(&client, &sync).await;
    assert_eq!(counts(&third), (0, 0, 0, 0, 0), "{third:?}");
    server.stop().await;
    source.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn two_runners_and_a_destination_slower_than_the_lease_run_each_batch_once() {
    use squared_tests::receiver::{Behaviour, Receiver};
    const ROWS: usize = 12_000;
    let lease = |config: &mut squared_server::ServerConfig| config.engine.lease = chrono::Duration::seconds(2);
    let server = TestServer::start_configured(TestEngine::Postgres, |config| {
        allow_loopback(config);
        config.run_syncs = true;
        lease(config);
    })
    .await
    .unwrap();
    let worker = server.start_worker(lease).await;
    let source = orders_schema(ROWS).await;
    let client = server.client(WORKSPACE, Role::Member);
    // Each request takes longer than the whole lease.
    let receiver = Receiver::start(Behaviour {
        delay: std::time::Duration::from_secs(3),
        honour_idempotency: false,
        key_field: "order_id".into(),
    })
    .await;
    let source_id = connector(&client, ConnectorType::Source, "Postgresql", source.configuration()).await;
    let hook =
        connector(&client, ConnectorType::Destination, "Http", object(json!({"destination_url": receiver.url}))).await;
    let model = orders_model(&client, source_id, &source.schema).await;
    let sync = create_sync(&client, sync_input(source_id, model, hook, "records")).await;
    let run = run_sync_to_end(&client, &sync).await;
    assert_eq!(
        (run.attributes.status, counts(&run)),
        (SyncRunStatus::Success, (ROWS as i64, 0, ROWS as i64, ROWS as i64, 0)),
        "{run:?}"
    );
    assert_eq!(receiver.most_in_flight(), 1, "two requests of one run were in flight at once");
    let processed = receiver.processed();
    assert_eq!(processed.len(), ROWS, "every row arrives");
    assert!(processed.values().all(|times| *times == 1), "a row was sent twice");
    assert_eq!(receiver.requests(), ROWS.div_ceil(squared_server::engine::BATCH_ROWS));
    assert_eq!(claim_generation(&server, &run).await, 1, "the run was never taken over");
    worker.close().await;
    server.stop().await;
    source.drop().await;
}

/// A run started through one instance is taken by another's runner at once: the runner's own
/// look for runs is an hour away here, so only the database's notification can wake it.
#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_run_started_on_one_instance_wakes_the_runner_of_another() {
    let api = TestServer::start_configured(TestEngine::Postgres, allow_loopback).await.unwrap();
    let worker = api
        .start_worker(|config| {
            config.engine.poll = std::time::Duration::from_secs(3600);
        })
        .await;
    let RoundTrip { source, server, client, source_id, destination_id, model } = RoundTrip::start(3, api).await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    let run = run_sync_to_end(&client, &sync).await;
    assert_eq!((run.attributes.status, counts(&run)), (SyncRunStatus::Success, (3, 0, 3, 3, 0)), "{run:?}");
    worker.close().await;
    server.stop().await;
    source.drop().await;
}

/// A digest of every row of `table` in the schema, in key order: equal digests, equal tables.
async fn table_digest(pg: &PostgresSchema, table: &str) -> Option<String> {
    let sql = format!(
        "SELECT md5(string_agg(order_id || ':' || coalesce(customer_name, '-') || ':' || coalesce(total::text, '-'), \
         ',' ORDER BY order_id)) FROM {{schema}}.{table}"
    );
    pg.texts(&sql).await.remove(0)
}

/// Every fingerprint the server keeps for a sync, from its own database, in key order.
async fn fingerprints(server: &TestServer, sync: &str) -> Vec<(String, i64)> {
    let db = server.database().await;
    let kept = sqlx::query_as::<_, (String, i64)>(
        "SELECT primary_key, fingerprint FROM sync_fingerprints WHERE sync_id = $1 ORDER BY primary_key",
    )
    .bind(sync.parse::<i64>().unwrap())
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    kept
}

/// What a run did by action: (read, skipped, tried, inserted, updated, deleted).
fn actions(run: &SyncRun) -> (i64, i64, i64, i64, i64, i64) {
    let a = &run.attributes;
    (a.total_query_rows, a.skipped_rows, a.total_rows, a.inserted_rows, a.updated_rows, a.deleted_rows)
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_dry_run_counts_what_the_next_run_does_and_writes_nothing() {
    use squared_client::types::SyncRunType;
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(10_000, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let sync = create_sync(
        &client,
        SyncInput { delete_removed_rows: Some(true), ..sync_input(source_id, model, destination_id, "orders_copy") },
    )
    .await;
    let first = run_sync_to_end(&client, &sync).await;
    assert_eq!(actions(&first), (10_000, 0, 10_000, 10_000, 0, 0), "{first:?}");
    // 1,000 rows change, 100 leave the model and 50 join it.
    source
        .execute(
            "UPDATE {schema}.orders SET amount = amount + 1 WHERE id % 10 = 0;
             DELETE FROM {schema}.orders WHERE id % 10 = 1 AND id <= 1000;
             INSERT INTO {schema}.orders SELECT n, 'customer ' || n, 1, now() FROM generate_series(10001, 10050) AS n;",
        )
        .await;
    let (table, kept) = (table_digest(&source, "orders_copy").await, fingerprints(&server, &sync).await);
    let sync_before = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data.attributes;

    let dry = dry_run_to_end(&client, &sync).await;
    assert_eq!((dry.attributes.run_type, dry.attributes.status), (SyncRunType::DryRun, SyncRunStatus::Success));
    assert_eq!(actions(&dry), (9_950, 8_900, 1_150, 50, 1_000, 100), "{dry:?}");
    assert_eq!(dry.attributes.successful_rows, 0, "a dry run writes nothing: {dry:?}");
    assert!(records(&client, &sync, &dry).await.is_empty(), "a dry run keeps no records");
    assert_eq!(table_digest(&source, "orders_copy").await, table, "the destination is as it was");
    assert_eq!(fingerprints(&server, &sync).await, kept, "the sync's fingerprints are as they were");
    let sync_after = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data.attributes;
    assert_eq!(
        (sync_after.status, &sync_after.last_run_status),
        (sync_before.status, &sync_before.last_run_status),
        "a dry run is not the sync's last run"
    );

    let real = run_sync_to_end(&client, &sync).await;
    assert_eq!(real.attributes.run_type, SyncRunType::General);
    assert_eq!(actions(&real), actions(&dry), "the dry run counted what the run did: {real:?}");
    assert_eq!(real.attributes.successful_rows, 1_150);
    assert_eq!(source.count("orders_copy").await, 9_950);
    server.stop().await;
    source.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn a_test_run_writes_one_row_and_leaves_the_sync_as_it_was() {
    use squared_client::types::SyncRunType;
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(5, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let mut input = sync_input(source_id, model, destination_id, "orders_copy");
    input.sync_mode = SyncMode::Incremental;
    input.cursor_field = Some("changed_at".into());
    let sync = create_sync(&client, input).await;
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (5, 0, 5, 5, 0));
    let before = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data.attributes;
    assert!(before.current_cursor.is_some());
    let kept = fingerprints(&server, &sync).await;
    assert_eq!(kept.len(), 5);
    source.execute("DELETE FROM {schema}.orders_copy").await;

    let answer = client.test_sync().sync_id(&sync).send().await.unwrap().into_inner();
    let body = serde_json::to_value(&answer).unwrap();
    squared_tests::published::assert_published_shape("/enterprise/api/v1/syncs/{sync_id}/test", "post", 200, &body);
    assert_eq!(answer.message, "Sync test triggered successfully");
    assert_eq!(answer.data.attributes.run_type, SyncRunType::Test);
    let test = wait_for_run_end(&client, &sync, &answer.data.id).await;
    // The cursor stands past every row, and every row is unchanged: a test writes one anyway.
    assert_eq!((test.attributes.status, counts(&test)), (SyncRunStatus::Success, (1, 0, 1, 1, 0)), "{test:?}");
    assert_eq!(source.count("orders_copy").await, 1, "exactly one row written");
    assert_eq!(records(&client, &sync, &test).await.len(), 1);
    assert!(test.attributes.executed_by.as_deref().is_some_and(|by| by.contains(':')), "{test:?}");
    let after = client.show_sync().sync_id(&sync).send().await.unwrap().into_inner().data.attributes;
    assert_eq!(after.current_cursor, before.current_cursor, "the cursor is where it was");
    assert_eq!((after.status, &after.last_run_status), (before.status, &before.last_run_status));
    assert_eq!(fingerprints(&server, &sync).await, kept, "the fingerprints are as they were");
    // The next general run goes on from where the last general run left off: nothing new.
    assert_eq!(counts(&run_sync_to_end(&client, &sync).await), (0, 0, 0, 0, 0));

    // A sync that is not there is not found.
    let (status, _) = expect_error(client.test_sync().sync_id("999999").send().await);
    assert_eq!(status, 404);
    server.stop().await;
    source.drop().await;
}

/// `/metrics` as Prometheus' text format: every sample line is `name{labels} value` with a
/// number, under a `# TYPE` of its family; answers the samples by name and labels.
async fn scrape(server: &TestServer) -> std::collections::HashMap<String, f64> {
    let response = reqwest::get(format!("{}/metrics", server.base_url)).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let mut typed = std::collections::HashSet::new();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(family) = line.strip_prefix("# TYPE ") {
            typed.insert(family.split(' ').next().unwrap().to_owned());
            continue;
        }
        if line.starts_with("# ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "not a metric name: {line}");
        let family = ["_total", "_bucket", "_sum", "_count", "_created"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "a sample without its # TYPE: {line}");
        samples.insert(series.to_owned(), value);
    }
    assert!(text.ends_with("# EOF\n"), "OpenMetrics' end marker");
    samples
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn metrics_count_the_runs_rows_and_requests_and_health_says_ready() {
    let RoundTrip { source, server, client, source_id, destination_id, model } =
        RoundTrip::start(20, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
    let live = reqwest::get(format!("{}/health/live", server.base_url)).await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = reqwest::get(format!("{}/health/ready", server.base_url)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["sync_runner"]["state"], "running", "{ready}");
    assert_eq!(ready["checks"]["database"]["ok"], true, "{ready}");

    // 20 rows, 5 of which the destination refuses; then the same again, all skipped but the 5.
    source
        .execute(
            "UPDATE {schema}.orders SET customer = NULL WHERE id <= 5;
             ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name SET NOT NULL;",
        )
        .await;
    let sync = create_sync(&client, sync_input(source_id, model, destination_id, "orders_copy")).await;
    let runs = [run_sync_to_end(&client, &sync).await, run_sync_to_end(&client, &sync).await];
    let sum = |field: fn(&SyncRun) -> i64| runs.iter().map(field).sum::<i64>() as f64;
    let samples = scrape(&server).await;
    assert_eq!(samples["squared_sync_rows_read_total"], sum(|r| r.attributes.total_query_rows), "{samples:?}");
    assert_eq!(samples["squared_sync_rows_written_total"], sum(|r| r.attributes.successful_rows));
    assert_eq!(samples["squared_sync_rows_failed_total"], sum(|r| r.attributes.failed_rows));
    assert_eq!(sum(|r| r.attributes.failed_rows), 10.0, "{runs:?}");
    assert_eq!(samples[r#"squared_sync_runs_total{outcome="failed"}"#], 2.0, "{samples:?}");
    assert_eq!(samples["squared_sync_run_duration_seconds_count"], 2.0);
    assert_eq!(samples["squared_sync_runs_pending"], 0.0);
    assert_eq!(samples[r#"squared_http_requests_total{operation="create_sync",status="201"}"#], 1.0);
    assert!(samples[r#"squared_http_request_duration_seconds_count{operation="show_sync_run"}"#] >= 2.0);
    // An error is counted with its status; no label names a workspace.
    let (status, _) = expect_error(client.show_sync().sync_id("999999").send().await);
    assert_eq!(status, 404);
    let samples = scrape(&server).await;
    assert_eq!(samples[r#"squared_http_requests_total{operation="show_sync",status="404"}"#], 1.0);
    assert!(samples.keys().all(|series| !series.contains("workspace")), "{samples:?}");
    server.stop().await;
    source.drop().await;
}

// ---------------------------------------------------------------------------------------------
// Alerts: rules on run ends and schedules, delivered to receivers on loopback.

mod alerts {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};
    use squared_client::Client;
    use squared_client::types::{
        AlertChannelInput, AlertChannelKind, AlertCondition, AlertDelivery, AlertDeliveryStatus, AlertRuleInput,
        CreateAlertChannelRequest, CreateAlertRuleRequest, SyncIntervalUnit, SyncRunStatus, SyncScheduleType,
    };
    use squared_server::auth::Role;
    use squared_tests::alert_peers::{HookReceiver, SmtpPeer};
    use squared_tests::harness::{TestEngine, TestServer, allow_loopback, run_sync_to_end};

    use super::{RoundTrip, WORKSPACE, create_sync, object, sync_input};

    const SECRET: &str = "a secret of at least sixteen characters";

    pub async fn channel(admin: &Client, kind: AlertChannelKind, configuration: Value) -> i64 {
        let alert_channel = AlertChannelInput { name: "ops".into(), kind, configuration: object(configuration) };
        let created = admin.create_alert_channel().body(CreateAlertChannelRequest { alert_channel }).send().await;
        created.unwrap().into_inner().data.id.parse().unwrap()
    }

    pub async fn webhook(admin: &Client, url: &str) -> i64 {
        channel(admin, AlertChannelKind::Webhook, json!({"url": url, "secret": SECRET})).await
    }

    pub async fn rule(
        admin: &Client,
        channel_id: i64,
        sync_id: Option<&str>,
        condition: AlertCondition,
        threshold_percent: Option<f64>,
        duration_seconds: Option<i64>,
    ) -> i64 {
        let alert_rule = AlertRuleInput {
            name: format!("{condition}"),
            channel_id,
            sync_id: sync_id.map(|id| id.parse().unwrap()),
            condition,
            threshold_percent,
            duration_seconds,
        };
        let created = admin.create_alert_rule().body(CreateAlertRuleRequest { alert_rule }).send().await;
        created.unwrap().into_inner().data.id.parse().unwrap()
    }

    pub async fn deliveries(client: &Client, rule_id: i64) -> Vec<AlertDelivery> {
        client
            .list_alert_deliveries()
            .rule_id(std::num::NonZeroU64::new(rule_id as u64).unwrap())
            .per_page(100)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
    }

    /// Waits until every delivery of `rule_id` has left `pending` (at least `count` of them).
    pub async fn settled_deliveries(
        client: &Client,
        rule_id: i64,
        count: usize,
        limit: Duration,
    ) -> Vec<AlertDelivery> {
        let started = Instant::now();
        loop {
            let found = deliveries(client, rule_id).await;
            if found.len() >= count && found.iter().all(|d| d.attributes.status != AlertDeliveryStatus::Pending) {
                return found;
            }
            assert!(started.elapsed() < limit, "deliveries still pending after {limit:?}: {found:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `header` (`t=…,v1=…`) signs `body` with `secret`, checked apart from the server's
    /// code: HMAC-SHA256 over `<t>.<body>`.
    fn signed(header: &str, body: &[u8], secret: &str) -> bool {
        let (Some(t), Some(v1)) = (
            header.split(',').find_map(|p| p.strip_prefix("t=")),
            header.split(',').find_map(|p| p.strip_prefix("v1=")),
        ) else {
            return false;
        };
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let message = [t.as_bytes(), b".", body].concat();
        hex::decode(v1).is_ok_and(|tag| aws_lc_rs::hmac::verify(&key, &message, &tag).is_ok())
    }

    /// Five of twenty rows refused (customer NULL where the destination wants one).
    async fn refuse_five(trip: &RoundTrip) {
        trip.source
            .execute(
                "UPDATE {schema}.orders SET customer = NULL WHERE id <= 5;
                 ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name SET NOT NULL;",
            )
            .await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn a_failed_run_raises_one_signed_webhook_and_its_recovery_one_more() {
        let trip = RoundTrip::start(20, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
        let hook = HookReceiver::start(&[]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        let sync =
            create_sync(&trip.client, sync_input(trip.source_id, trip.model, trip.destination_id, "orders_copy")).await;
        let failed = rule(&admin, channel_id, Some(&sync), AlertCondition::RunFailed, None, None).await;
        let recovered = rule(&admin, channel_id, None, AlertCondition::RunRecovered, None, None).await;
        refuse_five(&trip).await;

        let run = run_sync_to_end(&trip.client, &sync).await;
        assert_eq!(run.attributes.status, SyncRunStatus::Failed, "{run:?}");
        let got = hook.wait_for_accepted(1, Duration::from_secs(5)).await;
        let alert = got[0].json();
        assert_eq!(alert["event"], "run_failed", "{alert:#}");
        assert_eq!(alert["run"]["id"].to_string(), run.id);
        assert_eq!(alert["run"]["status"], "failed");
        assert_eq!(alert["run"]["error"].as_str(), run.attributes.error.as_deref());
        assert_eq!(
            (alert["run"]["failed_rows"].as_i64(), alert["run"]["successful_rows"].as_i64()),
            (Some(5), Some(15))
        );
        assert_eq!(alert["sync"]["id"].to_string(), sync);
        assert_eq!(alert["workspace_id"], WORKSPACE);
        assert_eq!(alert["link"], format!("/api/v1/syncs/{sync}/sync_runs/{}", run.id));
        assert!(signed(&got[0].headers["squared-signature"], &got[0].body, SECRET), "{:?}", got[0].headers);
        assert!(!signed(&got[0].headers["squared-signature"], b"{}", SECRET), "the signature covers the body");
        assert_eq!(got[0].headers["content-type"], "application/json");

        // Mended: the refused rows are written, and the run succeeds.
        trip.source.execute("ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name DROP NOT NULL").await;
        let second = run_sync_to_end(&trip.client, &sync).await;
        assert_eq!(second.attributes.status, SyncRunStatus::Success, "{second:?}");
        let got = hook.wait_for_accepted(2, Duration::from_secs(5)).await;
        let recovery = got[1].json();
        assert_eq!(
            (recovery["event"].as_str(), recovery["run"]["id"].to_string()),
            (Some("run_recovered"), second.id.clone())
        );

        // One delivery per rule and event, each delivered at its first attempt.
        let failed = settled_deliveries(&trip.client, failed, 1, Duration::from_secs(5)).await;
        let recovered = settled_deliveries(&trip.client, recovered, 1, Duration::from_secs(5)).await;
        for list in [&failed, &recovered] {
            assert_eq!(list.len(), 1, "{list:#?}");
            assert_eq!((list[0].attributes.status, list[0].attributes.attempts), (AlertDeliveryStatus::Delivered, 1));
        }
        assert_eq!(got[0].headers["squared-delivery"], failed[0].id);
        assert_eq!(hook.received().len(), 2, "nothing sent twice");
        trip.server.stop().await;
        trip.source.drop().await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn failed_rows_raise_an_alert_from_the_threshold_up_only() {
        let trip = RoundTrip::start(10, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
        let hook = HookReceiver::start(&[]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        // Into orders_copy, 3 of 10 rows are refused (30 %); into orders_kept, 1 of 10 (10 %).
        trip.source
            .execute(
                "UPDATE {schema}.orders SET customer = NULL WHERE id <= 3;
                 ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name SET NOT NULL;
                 ALTER TABLE {schema}.orders_kept ADD CONSTRAINT not_one CHECK (order_id <> 1);",
            )
            .await;
        let mut syncs = Vec::new();
        for table in ["orders_copy", "orders_kept"] {
            let sync =
                create_sync(&trip.client, sync_input(trip.source_id, trip.model, trip.destination_id, table)).await;
            let rule_id =
                rule(&admin, channel_id, Some(&sync), AlertCondition::FailedRowsPercent, Some(20.0), None).await;
            let run = run_sync_to_end(&trip.client, &sync).await;
            syncs.push((run, rule_id));
        }
        let [(thirty, above), (ten, below)] = syncs.try_into().unwrap();
        assert_eq!((thirty.attributes.failed_rows, ten.attributes.failed_rows), (3, 1));
        // A run's alerts are raised with its end, in one transaction: what the list shows now
        // is all there will be.
        let raised = deliveries(&trip.client, above).await;
        assert_eq!(raised.len(), 1, "{raised:#?}");
        assert_eq!(raised[0].attributes.sync_run_id.map(|id| id.to_string()), Some(thirty.id.clone()));
        assert!(deliveries(&trip.client, below).await.is_empty(), "10 % is under the threshold");
        let got = hook.wait_for_accepted(1, Duration::from_secs(5)).await;
        assert_eq!(got[0].json()["event"], "failed_rows_percent");
        // The same alert through a Slack incoming webhook: a `text` message.
        let slack = HookReceiver::start(&[]).await;
        let slack_channel = channel(&admin, AlertChannelKind::Slack, json!({"webhook_url": slack.url})).await;
        let sync = &thirty.attributes.sync_id.to_string();
        rule(&admin, slack_channel, Some(sync), AlertCondition::FailedRowsPercent, Some(20.0), None).await;
        run_sync_to_end(&trip.client, sync).await;
        let posted = slack.wait_for_accepted(1, Duration::from_secs(5)).await;
        let text = posted[0].json()["text"].as_str().unwrap().to_owned();
        assert!(text.contains(&format!("Sync {sync}")) && text.contains("failed 3 of 3 rows"), "{text}");
        trip.server.stop().await;
        trip.source.drop().await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn a_receiver_failing_twice_gets_the_alert_once_at_the_third_attempt() {
        let trip = RoundTrip::start(20, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
        let hook = HookReceiver::start(&[500, 500]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        let sync =
            create_sync(&trip.client, sync_input(trip.source_id, trip.model, trip.destination_id, "orders_copy")).await;
        let rule_id = rule(&admin, channel_id, Some(&sync), AlertCondition::RunFailed, None, None).await;
        refuse_five(&trip).await;
        run_sync_to_end(&trip.client, &sync).await;
        let got = hook.wait_for_accepted(1, Duration::from_secs(30)).await;
        assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), [500, 500, 200]);
        let ids: Vec<&str> = got.iter().map(|r| r.headers["squared-delivery"].as_str()).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "one delivery, tried three times: {ids:?}");
        let listed = settled_deliveries(&trip.client, rule_id, 1, Duration::from_secs(5)).await;
        assert_eq!(listed.len(), 1);
        let delivery = &listed[0].attributes;
        assert_eq!(
            (delivery.status, delivery.attempts, delivery.last_error.as_deref()),
            (AlertDeliveryStatus::Delivered, 3, None)
        );
        assert!(delivery.delivered_at.is_some());
        trip.server.stop().await;
        trip.source.drop().await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn an_email_rule_sends_one_message_over_smtp() {
        let trip = RoundTrip::start(20, TestServer::start_with_sync_runner(TestEngine::Sqlite).await).await;
        let smtp = SmtpPeer::start().await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = channel(
            &admin,
            AlertChannelKind::Email,
            json!({"host": "127.0.0.1", "port": smtp.port, "security": "none", "from": "squared@example.com",
                   "to": ["ops@example.com", "data@example.com"]}),
        )
        .await;
        let sync =
            create_sync(&trip.client, sync_input(trip.source_id, trip.model, trip.destination_id, "orders_copy")).await;
        let rule_id = rule(&admin, channel_id, None, AlertCondition::RunFailed, None, None).await;
        refuse_five(&trip).await;
        let run = run_sync_to_end(&trip.client, &sync).await;
        let mails = smtp.wait_for_mails(1, Duration::from_secs(10)).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].from, "squared@example.com");
        assert_eq!(mails[0].to, ["ops@example.com", "data@example.com"]);
        let data = &mails[0].data;
        assert!(data.contains(&format!("Subject: [squared] Sync {sync}")), "{data}");
        assert!(data.contains(&format!("\"id\": {}", run.id)) && data.contains("failed"), "{data}");
        let listed = settled_deliveries(&trip.client, rule_id, 1, Duration::from_secs(5)).await;
        assert_eq!(listed[0].attributes.status, AlertDeliveryStatus::Delivered);
        trip.server.stop().await;
        trip.source.drop().await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn a_run_longer_than_its_rule_allows_raises_one_alert_while_it_runs() {
        use squared_client::types::ConnectorType;
        use squared_tests::receiver::{Behaviour, Receiver};
        let server = TestServer::start_configured(TestEngine::Sqlite, |config| {
            allow_loopback(config);
            config.run_syncs = true;
            config.alert_check_every = Duration::from_millis(200);
        })
        .await
        .unwrap();
        let trip = RoundTrip::start(20, server).await;
        // The destination takes 3 s to answer the run's one batch.
        let slow = Receiver::start(Behaviour {
            delay: Duration::from_secs(3),
            honour_idempotency: false,
            key_field: "order_id".into(),
        })
        .await;
        let destination = super::connector(
            &trip.client,
            ConnectorType::Destination,
            "Http",
            object(json!({"destination_url": slow.url})),
        )
        .await;
        let sync = create_sync(&trip.client, sync_input(trip.source_id, trip.model, destination, "records")).await;
        let hook = HookReceiver::start(&[]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        let rule_id = rule(&admin, channel_id, Some(&sync), AlertCondition::RunLongerThan, None, Some(1)).await;
        let start = squared_client::types::StartSyncRunRequest {
            schedule_sync: squared_client::types::ScheduleSync { sync_id: sync.parse().unwrap(), dry_run: false },
        };
        let run = trip.client.start_sync_run().body(start).send().await.unwrap().into_inner().data;
        let got = hook.wait_for_accepted(1, Duration::from_secs(10)).await;
        let alert = got[0].json();
        assert_eq!(
            (alert["event"].as_str(), alert["run"]["id"].to_string()),
            (Some("run_longer_than"), run.id.clone())
        );
        // Raised while the run was still going, and once however many checks saw it.
        let ended = squared_tests::harness::wait_for_run_end(&trip.client, &sync, &run.id).await;
        assert_eq!(ended.attributes.status, SyncRunStatus::Success);
        assert_eq!(alert["run"]["status"], "in_progress", "{alert:#}");
        assert_eq!(settled_deliveries(&trip.client, rule_id, 1, Duration::from_secs(5)).await.len(), 1);
        trip.server.stop().await;
        trip.source.drop().await;
    }

    /// A server that runs no syncs (its runner stopped), checking alerts every 200 ms, with a
    /// scheduled sync whose next run was due two seconds ago: the state a stopped runner leaves.
    /// Its egress policy allows loopback, or (`all_loopback` false) only 127.0.0.1, where the
    /// test databases are.
    async fn overdue_schedule(all_loopback: bool) -> (RoundTrip, String) {
        let server = TestServer::start_configured(TestEngine::Sqlite, |config| {
            allow_loopback(config);
            if !all_loopback {
                config.egress = squared_server::egress::EgressPolicy::allowing([
                    squared_server::egress::EgressPolicy::parse_network("127.0.0.1/32").unwrap(),
                ]);
            }
            config.run_syncs = false;
            config.alert_check_every = Duration::from_millis(200);
        })
        .await
        .unwrap();
        let trip = RoundTrip::start(5, server).await;
        let mut input = sync_input(trip.source_id, trip.model, trip.destination_id, "orders_copy");
        input.schedule_type = SyncScheduleType::Interval;
        input.sync_interval = Some(1);
        input.sync_interval_unit = Some(SyncIntervalUnit::Hours);
        let sync = create_sync(&trip.client, input).await;
        let db = trip.server.database().await;
        sqlx::query("UPDATE syncs SET next_run_at = $1 WHERE id = CAST($2 AS BIGINT)")
            .bind(squared_server::store::timestamp(chrono::Utc::now() - chrono::Duration::seconds(2)))
            .bind(&sync)
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
        (trip, sync)
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn a_schedule_whose_runner_is_stopped_raises_an_overdue_alert() {
        let (trip, sync) = overdue_schedule(true).await;
        let hook = HookReceiver::start(&[]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        let rule_id = rule(&admin, channel_id, None, AlertCondition::ScheduleOverdue, None, Some(1)).await;
        let got = hook.wait_for_accepted(1, Duration::from_secs(10)).await;
        let alert = got[0].json();
        assert_eq!(
            (alert["event"].as_str(), alert["sync"]["id"].to_string()),
            (Some("schedule_overdue"), sync.clone())
        );
        assert_eq!(alert["run"], Value::Null);
        assert!(alert["message"].as_str().unwrap().contains("has not started"), "{alert:#}");
        // Raised once for this missed start, however many checks see it.
        let listed = settled_deliveries(&trip.client, rule_id, 1, Duration::from_secs(5)).await;
        assert_eq!(listed.len(), 1, "{listed:#?}");
        trip.server.stop().await;
        trip.source.drop().await;
    }

    #[tokio::test]
    #[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
    async fn an_alert_to_an_address_the_egress_policy_refuses_is_never_sent() {
        let (trip, _sync) = overdue_schedule(false).await;
        // On 127.0.0.2: loopback too, but not the one address the policy allows.
        let hook = HookReceiver::start_on("127.0.0.2", &[]).await;
        let admin = trip.server.client(WORKSPACE, Role::Admin);
        let channel_id = webhook(&admin, &hook.url).await;
        let rule_id = rule(&admin, channel_id, None, AlertCondition::ScheduleOverdue, None, Some(1)).await;
        let started = Instant::now();
        let attempted = loop {
            let found = deliveries(&trip.client, rule_id).await;
            if let Some(delivery) = found.into_iter().find(|d| d.attributes.attempts >= 1) {
                break delivery;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no attempt was made");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let error = attempted.attributes.last_error.unwrap_or_default();
        assert!(error.contains("loopback"), "{error}");
        assert!(hook.received().is_empty(), "refused before any connection");
        trip.server.stop().await;
        trip.source.drop().await;
    }
}
