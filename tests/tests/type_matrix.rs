//! Values across engines: each type a PostgreSQL or MariaDB source has, synced into PostgreSQL,
//! MariaDB and Http destinations, arrives equal, compared value by value (integers at their
//! extremes, unsigned too; decimals with every digit; floats at full precision; booleans; text;
//! dates, times and timestamps with microseconds, a zone's offset moved to UTC; uuid; JSON,
//! bare strings included; bytes; arrays; enums; NULL).
//!
//! Each source table has three rows: ordinary values, extreme ones, and NULLs. The run must be
//! `success` with no failed row, and every cell must read back as expected at the destination.

use serde_json::{Map, Value};
use squared_client::Client;
use squared_client::types::{
    ConnectorInput, ConnectorType, CreateConnectorRequest, CreateModelRequest, CreateSyncRequest, ModelInput,
    ModelQueryType, SyncInput, SyncMapping, SyncMode, SyncRunStatus, SyncScheduleType,
};
use squared_server::auth::Role;
use squared_tests::databases::{MariaDbDatabase, PostgresSchema};
use squared_tests::harness::{TestEngine, TestServer, run_sync_to_end, unique_name};
use squared_tests::receiver::{Behaviour, Receiver};

const WORKSPACE: i64 = 47;

async fn connector(client: &Client, kind: ConnectorType, definition: &str, configuration: Map<String, Value>) -> i64 {
    let connector = ConnectorInput {
        name: unique_name(definition),
        description: None,
        connector_type: kind,
        connector_name: definition.into(),
        configuration,
    };
    let created = client.create_connector().body(CreateConnectorRequest { connector }).send().await.unwrap();
    created.into_inner().data.id.parse().unwrap()
}

async fn model(client: &Client, source: i64, query: String) -> i64 {
    let model = ModelInput {
        name: unique_name("matrix"),
        description: None,
        connector_id: source,
        query: Some(query),
        query_type: ModelQueryType::RawSql,
        primary_key: Some("id".into()),
        configuration: None,
    };
    let created = client.create_model().body(CreateModelRequest { model }).send().await.unwrap();
    created.into_inner().data.id.parse().unwrap()
}

/// Runs a full refresh of every column of the model into `stream` (same names), and checks that
/// all three rows were written.
async fn sync_every_column(
    client: &Client,
    (source, model): (i64, i64),
    destination: i64,
    stream: &str,
    columns: &[&str],
) {
    let sync = SyncInput {
        name: Some(unique_name("matrix")),
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
        configuration: SyncMapping::FieldMap(columns.iter().map(|c| ((*c).to_owned(), (*c).to_owned())).collect()),
        delete_removed_rows: None,
    };
    let created = client.create_sync().body(CreateSyncRequest { sync }).send().await;
    let sync = created.unwrap_or_else(|e| panic!("the sync into {stream} is refused: {e:?}")).into_inner().data.id;
    let run = run_sync_to_end(client, &sync).await;
    let a = &run.attributes;
    assert_eq!((a.status, a.successful_rows, a.failed_rows), (SyncRunStatus::Success, 3, 0), "into {stream}: {run:?}");
}

/// Syncs every column of the source's `matrix` table (its definition, configuration and
/// schema or database) by full refresh into `matrix_copy` of the PostgreSQL schema and of the
/// MariaDB database, and into a receiver's `records`; answers the server and the receiver.
async fn sync_into_every_destination(
    (definition, configuration, namespace): (&str, Map<String, Value>, &str),
    pg: &PostgresSchema,
    maria: &MariaDbDatabase,
    columns: &[&str],
) -> (TestServer, Receiver) {
    let receiver =
        Receiver::start(Behaviour { delay: Default::default(), honour_idempotency: false, key_field: "id".into() })
            .await;
    let server = TestServer::start_with_sync_runner(TestEngine::Sqlite).await;
    let client = server.client(WORKSPACE, Role::Member);
    let source = connector(&client, ConnectorType::Source, definition, configuration).await;
    let model = model(&client, source, format!("SELECT * FROM {namespace}.matrix")).await;
    let into_pg = connector(&client, ConnectorType::Destination, "Postgresql", pg.configuration()).await;
    let into_maria = connector(&client, ConnectorType::Destination, "MariaDB", maria.configuration()).await;
    let hook = serde_json::json!({"destination_url": receiver.url}).as_object().cloned().unwrap();
    let into_http = connector(&client, ConnectorType::Destination, "Http", hook).await;
    for (destination, stream) in [(into_pg, "matrix_copy"), (into_maria, "matrix_copy"), (into_http, "records")] {
        sync_every_column(&client, (source, model), destination, stream, columns).await;
    }
    (server, receiver)
}

/// `expected` cell by cell against `actual`, naming the first cell that differs.
fn assert_cells(what: &str, columns: &[&str], expected: &[[Option<&str>; 3]], actual: &[Vec<Option<String>>]) {
    for (column, (expected, actual)) in columns.iter().zip(expected.iter().zip(actual)) {
        let expected: Vec<Option<String>> = expected.iter().map(|cell| cell.map(str::to_owned)).collect();
        assert_eq!(&expected, actual, "{what}: column {column}, rows 1 to 3");
    }
}

const PG_COLUMNS: [&str; 20] =
    ["id", "i2", "i4", "i8", "n", "r", "d", "b", "t", "v", "c", "dt", "tm", "ts", "tz", "u", "j", "bytes", "arr", "e"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(squared_test_postgres, squared_test_mariadb)),
    ignore = "SQUARED_TEST_POSTGRES_URL or SQUARED_TEST_MARIADB_URL is not set"
)]
async fn postgres_values_arrive_equal_in_postgres_mariadb_and_http() {
    let pg = PostgresSchema::create("matrix").await;
    pg.execute(
        "CREATE TYPE {schema}.mood AS ENUM ('happy', 'sad');
         CREATE TABLE {schema}.matrix (id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, n numeric(20,6),
             r real, d double precision, b boolean, t text, v varchar(20), c char(5), dt date, tm time(6),
             ts timestamp(6), tz timestamptz(6), u uuid, j jsonb, bytes bytea, arr integer[], e {schema}.mood);
         INSERT INTO {schema}.matrix VALUES
           (1, -32768, -2147483648, -9223372036854775808, 12345678901234.123456, 16777216, 0.1, true,
            'text \"quoted\"', 'varchar', 'ab', '2026-03-01', '11:00:00.123456', '2026-03-01 11:00:00.123456',
            '2026-03-01 12:00:00.123456+01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\"bare\"', '\\x01ff00',
            '{1,2,3}', 'happy'),
           (2, 32767, 2147483647, 9223372036854775807, -99999999999999.999999, 0.1, 1.7976931348623157e308, false,
            '', 'é ü', 'x', '1970-01-01', '23:59:59.999999', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00',
            '00000000-0000-0000-0000-000000000000', '{\"a\": [1, 2.50]}', '\\x', '{}', 'sad'),
           (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL);
         CREATE TABLE {schema}.matrix_copy (LIKE {schema}.matrix INCLUDING ALL);",
    )
    .await;
    let maria = MariaDbDatabase::create("matrix").await;
    maria
        .execute(
            "CREATE TABLE {database}.matrix_copy (id INT PRIMARY KEY, i2 SMALLINT, i4 INT, i8 BIGINT, n DECIMAL(20,6),
             r FLOAT, d DOUBLE, b BOOLEAN, t TEXT, v VARCHAR(20), c CHAR(5), dt DATE, tm TIME(6), ts DATETIME(6),
             tz DATETIME(6), u CHAR(36), j JSON, bytes LONGBLOB, arr JSON, e VARCHAR(10))",
        )
        .await;
    let (server, receiver) =
        sync_into_every_destination(("Postgresql", pg.configuration(), &pg.schema), &pg, &maria, &PG_COLUMNS).await;

    // PostgreSQL: each row reads back exactly as the source's (its JSON text, every column).
    let rows = |table: &str| format!("SELECT row_to_json(m)::text FROM {{schema}}.{table} m ORDER BY id");
    assert_eq!(pg.texts(&rows("matrix_copy")).await, pg.texts(&rows("matrix")).await);

    // MariaDB: each cell as text (a FLOAT read as a double, bytes as hex).
    let cast = |column: &str| match column {
        "r" => "CAST(CAST(r AS DOUBLE) AS CHAR)".to_owned(),
        "bytes" => "HEX(bytes)".to_owned(),
        other => format!("CAST({other} AS CHAR)"),
    };
    let mut actual = Vec::new();
    for column in PG_COLUMNS {
        actual.push(maria.texts(&format!("SELECT {} FROM {{database}}.matrix_copy ORDER BY id", cast(column))).await);
    }
    let expected: [[Option<&str>; 3]; 20] = [
        [Some("1"), Some("2"), Some("3")],
        [Some("-32768"), Some("32767"), None],
        [Some("-2147483648"), Some("2147483647"), None],
        [Some("-9223372036854775808"), Some("9223372036854775807"), None],
        [Some("12345678901234.123456"), Some("-99999999999999.999999"), None],
        // A real is a 32-bit float: 0.1 arrives as that float (0.1 exactly in a FLOAT).
        [Some("16777216"), Some("0.10000000149011612"), None],
        [Some("0.1"), Some("1.7976931348623157e308"), None],
        [Some("1"), Some("0"), None],
        [Some("text \"quoted\""), Some(""), None],
        [Some("varchar"), Some("é ü"), None],
        // CHAR(5) pads in PostgreSQL and trims on reading in MariaDB.
        [Some("ab"), Some("x"), None],
        [Some("2026-03-01"), Some("1970-01-01"), None],
        [Some("11:00:00.123456"), Some("23:59:59.999999"), None],
        [Some("2026-03-01 11:00:00.123456"), Some("1999-12-31 23:59:59.999999"), None],
        // A time with a zone, in UTC.
        [Some("2026-03-01 11:00:00.123456"), Some("2000-01-01 00:00:00.000000"), None],
        [Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Some("00000000-0000-0000-0000-000000000000"), None],
        [Some("\"bare\""), Some("{\"a\": [1, 2.50]}"), None],
        [Some("01FF00"), Some(""), None],
        [Some("[1,2,3]"), Some("[]"), None],
        [Some("happy"), Some("sad"), None],
    ];
    assert_cells("PostgreSQL into MariaDB", &PG_COLUMNS, &expected, &actual);

    // Http: each value as the JSON text received.
    let records = receiver.records();
    assert_eq!(records.len(), 3, "{records:?}");
    let received: Vec<Vec<Option<String>>> = PG_COLUMNS
        .iter()
        .map(|column| {
            let mut cells: Vec<(String, Option<String>)> = records
                .iter()
                .map(|record| {
                    let cell = record.get(*column).map(|v| v.get().to_owned()).filter(|v| v != "null");
                    (record["id"].get().to_owned(), cell)
                })
                .collect();
            cells.sort();
            cells.into_iter().map(|(_, cell)| cell).collect()
        })
        .collect();
    let expected: [[Option<&str>; 3]; 20] = [
        [Some("1"), Some("2"), Some("3")],
        [Some("-32768"), Some("32767"), None],
        [Some("-2147483648"), Some("2147483647"), None],
        [Some("-9223372036854775808"), Some("9223372036854775807"), None],
        [Some("12345678901234.123456"), Some("-99999999999999.999999"), None],
        [Some("1.6777216e+07"), Some("0.1"), None],
        [Some("0.1"), Some("1.7976931348623157e+308"), None],
        [Some("true"), Some("false"), None],
        [Some(r#""text \"quoted\"""#), Some(r#""""#), None],
        [Some(r#""varchar""#), Some(r#""é ü""#), None],
        [Some(r#""ab   ""#), Some(r#""x    ""#), None],
        [Some(r#""2026-03-01""#), Some(r#""1970-01-01""#), None],
        [Some(r#""11:00:00.123456""#), Some(r#""23:59:59.999999""#), None],
        [Some(r#""2026-03-01T11:00:00.123456""#), Some(r#""1999-12-31T23:59:59.999999""#), None],
        [Some(r#""2026-03-01T11:00:00.123456+00:00""#), Some(r#""2000-01-01T00:00:00+00:00""#), None],
        [Some(r#""a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11""#), Some(r#""00000000-0000-0000-0000-000000000000""#), None],
        [Some(r#""bare""#), Some(r#"{"a": [1, 2.50]}"#), None],
        [Some(r#""\\x01ff00""#), Some(r#""\\x""#), None],
        [Some("[1,2,3]"), Some("[]"), None],
        [Some(r#""happy""#), Some(r#""sad""#), None],
    ];
    assert_cells("PostgreSQL into Http", &PG_COLUMNS, &expected, &received);

    server.stop().await;
    pg.drop().await;
    maria.drop().await;
}

const MARIA_COLUMNS: [&str; 17] =
    ["id", "i1", "iu", "i8", "n", "f", "d", "b", "t", "v", "c", "dt", "tm", "ts", "tz", "j", "bl"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(squared_test_postgres, squared_test_mariadb)),
    ignore = "SQUARED_TEST_POSTGRES_URL or SQUARED_TEST_MARIADB_URL is not set"
)]
async fn mariadb_values_arrive_equal_in_postgres_mariadb_and_http() {
    let maria = MariaDbDatabase::create("matrix").await;
    let table = "(id INT PRIMARY KEY, i1 TINYINT, iu BIGINT UNSIGNED, i8 BIGINT, n DECIMAL(20,6), f FLOAT, d DOUBLE,
         b TINYINT(1), t TEXT, v VARCHAR(20), c CHAR(5), dt DATE, tm TIME(6), ts DATETIME(6), tz TIMESTAMP(6) NULL,
         j JSON, bl BLOB)";
    maria
        .execute(&format!(
            "CREATE TABLE {{database}}.matrix {table};
             CREATE TABLE {{database}}.matrix_copy {table};
             INSERT INTO {{database}}.matrix VALUES
               (1, -128, 18446744073709551615, -9223372036854775808, 12345678901234.123456, 16777216, 0.1, 1,
                'text \"quoted\"', 'é ü', 'ab', '2026-03-01', '11:00:00.123456', '2026-03-01 11:00:00.123456',
                '2026-03-01 11:00:00.123456', '\"bare\"', x'01ff00'),
               (2, 127, 0, 9223372036854775807, -99999999999999.999999, 0.1, 1.7976931348623157e308, 0, '', 'x', 'x',
                '1970-01-01', '23:59:59.999999', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00',
                '{{\"a\": [1, 2.50]}}', x''),
               (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        ))
        .await;
    let pg = PostgresSchema::create("matrix").await;
    pg.execute(
        "CREATE TABLE {schema}.matrix_copy (id int PRIMARY KEY, i1 smallint, iu numeric(20,0), i8 bigint,
             n numeric(20,6), f real, d double precision, b boolean, t text, v varchar(20), c char(5), dt date,
             tm time(6), ts timestamp(6), tz timestamptz(6), j jsonb, bl bytea)",
    )
    .await;
    let (server, receiver) =
        sync_into_every_destination(("MariaDB", maria.configuration(), &maria.database), &pg, &maria, &MARIA_COLUMNS)
            .await;

    // MariaDB: each cell of the copy reads as the source's (a FLOAT as a double, bytes as hex).
    let cast = |column: &str| match column {
        "f" => "CAST(CAST(f AS DOUBLE) AS CHAR)".to_owned(),
        "bl" => "HEX(bl)".to_owned(),
        other => format!("CAST({other} AS CHAR)"),
    };
    for column in MARIA_COLUMNS {
        let read = |table: &str| format!("SELECT {} FROM {{database}}.{table} ORDER BY id", cast(column));
        assert_eq!(
            maria.texts(&read("matrix_copy")).await,
            maria.texts(&read("matrix")).await,
            "MariaDB into MariaDB: column {column}"
        );
    }

    // PostgreSQL: each cell as text.
    let mut actual = Vec::new();
    for column in MARIA_COLUMNS {
        let sql = format!("SELECT {column}::text FROM {{schema}}.matrix_copy ORDER BY id");
        actual.push(pg.texts(&sql).await);
    }
    let expected: [[Option<&str>; 3]; 17] = [
        [Some("1"), Some("2"), Some("3")],
        [Some("-128"), Some("127"), None],
        [Some("18446744073709551615"), Some("0"), None],
        [Some("-9223372036854775808"), Some("9223372036854775807"), None],
        [Some("12345678901234.123456"), Some("-99999999999999.999999"), None],
        // A FLOAT is a 32-bit float, as a real is.
        [Some("1.6777216e+07"), Some("0.1"), None],
        [Some("0.1"), Some("1.7976931348623157e+308"), None],
        [Some("true"), Some("false"), None],
        [Some("text \"quoted\""), Some(""), None],
        [Some("é ü"), Some("x"), None],
        // char(5) as text drops the padding in PostgreSQL.
        [Some("ab"), Some("x"), None],
        [Some("2026-03-01"), Some("1970-01-01"), None],
        [Some("11:00:00.123456"), Some("23:59:59.999999"), None],
        [Some("2026-03-01 11:00:00.123456"), Some("1999-12-31 23:59:59.999999"), None],
        [Some("2026-03-01 11:00:00.123456+00"), Some("2000-01-01 00:00:00+00"), None],
        [Some("\"bare\""), Some("{\"a\": [1, 2.50]}"), None],
        [Some("\\x01ff00"), Some("\\x"), None],
    ];
    assert_cells("MariaDB into PostgreSQL", &MARIA_COLUMNS, &expected, &actual);

    // Http: each value as the JSON text received.
    let records = receiver.records();
    assert_eq!(records.len(), 3, "{records:?}");
    let cell = |id: &str, column: &str| {
        let record = records.iter().find(|r| r["id"].get() == id).expect("the record");
        record.get(column).map(|v| v.get().to_owned())
    };
    let expected_first = [
        ("iu", "18446744073709551615"),
        ("i8", "-9223372036854775808"),
        ("n", "12345678901234.123456"),
        ("f", "16777216"),
        ("d", "0.1"),
        ("b", "true"),
        ("t", r#""text \"quoted\"""#),
        ("ts", r#""2026-03-01 11:00:00.123456""#),
        ("tz", r#""2026-03-01T11:00:00.123456+00:00""#),
        ("j", r#""bare""#),
        ("bl", r#""\\x01ff00""#),
    ];
    for (column, expected) in expected_first {
        assert_eq!(cell("1", column).as_deref(), Some(expected), "MariaDB into Http: column {column}, row 1");
    }
    assert_eq!(cell("2", "b").as_deref(), Some("false"));
    assert_eq!(cell("2", "f").as_deref(), Some("0.10000000149011612"), "a FLOAT's own value, every digit");
    for column in MARIA_COLUMNS.iter().skip(1) {
        assert_eq!(cell("3", column).as_deref(), Some("null"), "MariaDB into Http: column {column}, row 3");
    }

    server.stop().await;
    pg.drop().await;
    maria.drop().await;
}
