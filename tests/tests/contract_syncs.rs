//! Contract tests of catalogs, syncs, manual runs, runs and records, through the generated
//! client, with the server on SQLite and on PostgreSQL. A sync needs a model whose query was
//! checked against a real source, so every scenario reads a schema of its own in the test
//! PostgreSQL (`SQUARED_TEST_POSTGRES_URL`), which also serves as a destination.

use serde_json::{Map, Value, json};
use sqlx::Executor;
use squared_client::Client;
use squared_client::types::{
    CatalogInput, ConnectorInput, ConnectorType, CreateCatalogRequest, CreateConnectorRequest, CreateModelRequest,
    CreateSyncRequest, EnableSyncRequest, ModelInput, ModelQueryType, ScheduleSync, StartSyncRunRequest, SyncInput,
    SyncIntervalUnit, SyncMapping, SyncMappingEntry, SyncMappingType, SyncMode, SyncRecordStatus, SyncRunStatus,
    SyncScheduleType, SyncStatus, SyncUpdate, UpdateSyncRequest,
};
use squared_server::auth::Role;
use squared_tests::databases::PostgresSchema;
use squared_tests::harness::{TestEngine, TestServer, error_pointers, expect_error, no_sync_change, run_sync_to_end};
use squared_tests::on_every_engine;

const WORKSPACE: i64 = 41;

on_every_engine!(
    needs_postgres: catalogs_are_defined_and_changed,
    a_sync_is_created_shown_listed_updated_enabled_and_deleted,
    the_rules_of_a_sync_answer_422_at_their_pointer,
    manual_runs_start_cancel_and_list_with_their_records,
    a_runs_records_export_as_csv_across_batches,
    what_a_sync_uses_cannot_be_deleted,
    viewers_read_syncs_and_other_workspaces_see_none,
    the_activity_report_sums_general_runs_by_slice,
    roles_describe_exactly_what_each_role_may_do,
);

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// A schema of the test PostgreSQL with a source table and a destination table.
async fn orders_fixture() -> PostgresSchema {
    let pg = PostgresSchema::create("syncs").await;
    pg.execute(
        "CREATE TABLE {schema}.orders (id integer PRIMARY KEY, customer text, amount numeric(10,2),
                                       changed_at timestamptz);
         INSERT INTO {schema}.orders VALUES (1, 'ada', 12.50, now()), (2, 'bob', 7.00, now());
         CREATE TABLE {schema}.orders_copy (order_id integer PRIMARY KEY, customer_name text, total numeric);",
    )
    .await;
    pg
}

/// Everything a sync joins, in one workspace.
struct Parts {
    fixture: PostgresSchema,
    source: i64,
    model: i64,
    postgres_destination: i64,
    http_destination: i64,
}

async fn connector(
    client: &Client,
    connector_type: ConnectorType,
    name: &str,
    definition: &str,
    configuration: Map<String, Value>,
) -> i64 {
    let request = CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type,
            connector_name: definition.into(),
            configuration,
        },
    };
    client.create_connector().body(request).send().await.unwrap().into_inner().data.id.parse().unwrap()
}

async fn parts(client: &Client) -> Parts {
    let fixture = orders_fixture().await;
    let source = connector(client, ConnectorType::Source, "warehouse", "Postgresql", fixture.configuration()).await;
    let postgres_destination =
        connector(client, ConnectorType::Destination, "replica", "Postgresql", fixture.configuration()).await;
    let http_destination = connector(
        client,
        ConnectorType::Destination,
        "hooks",
        "Http",
        object(json!({"destination_url": "https://hooks.example.com/orders"})),
    )
    .await;
    let query = format!("SELECT id, customer, amount, changed_at FROM {}.orders", fixture.schema);
    let model = raw_sql_model(client, source, "orders", query).await;
    Parts { fixture, source, model, postgres_destination, http_destination }
}

/// A `raw_sql` model of `query` on `source`, keyed by `id`.
async fn raw_sql_model(client: &Client, source: i64, name: &str, query: String) -> i64 {
    let model = ModelInput {
        name: name.into(),
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

fn field_map(pairs: &[(&str, &str)]) -> SyncMapping {
    SyncMapping::FieldMap(pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect())
}

fn sync_input(parts: &Parts) -> SyncInput {
    SyncInput {
        name: Some("orders to the replica".into()),
        source_id: parts.source,
        model_id: parts.model,
        destination_id: parts.postgres_destination,
        schedule_type: SyncScheduleType::Manual,
        sync_interval: Some(30),
        sync_interval_unit: Some(SyncIntervalUnit::Minutes),
        cron_expression: Some("0 * * * *".into()),
        sync_mode: SyncMode::FullRefresh,
        cursor_field: Some("changed_at".into()),
        stream_name: "orders_copy".into(),
        configuration: field_map(&[("id", "order_id"), ("customer", "customer_name"), ("amount", "total")]),
        delete_removed_rows: None,
    }
}

async fn create_sync(client: &Client, input: SyncInput) -> String {
    let created = client.create_sync().body(CreateSyncRequest { sync: input }).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    created.into_inner().data.id
}

fn update(sync: SyncUpdate) -> UpdateSyncRequest {
    UpdateSyncRequest { sync }
}

async fn catalogs_are_defined_and_changed(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    // An HTTP destination offers one stream of any records until the user defines it.
    let offered = client.discover_connector().id(parts.http_destination.to_string()).send().await.unwrap().into_inner();
    let streams = &offered.data.attributes.catalog.streams;
    assert_eq!((streams.len(), streams[0].name.as_str()), (1, "records"));
    let define = |name: Option<&str>, fields: Value| CreateCatalogRequest {
        connector_id: parts.http_destination,
        catalog: CatalogInput {
            stream_name: name.map(str::to_owned),
            json_schema: object(json!({"type": "object", "properties": fields})),
        },
    };
    let created = client
        .create_catalog()
        .body(define(Some("orders"), json!({"order_id": {"type": "integer"}, "total": {"type": "number"}})))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created = created.into_inner().data;
    assert_eq!(created.id, parts.http_destination.to_string());
    assert_eq!(created.attributes.catalog.streams[0].name, "orders");
    // Discover answers the defined catalog from then on.
    let kept = client.discover_connector().id(parts.http_destination.to_string()).send().await.unwrap().into_inner();
    assert_eq!(kept.data.attributes.catalog_hash, created.attributes.catalog_hash);
    let changed = client
        .update_catalog()
        .id(&created.id)
        .body(define(None, json!({"order_id": {"type": "integer"}})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(changed.attributes.catalog.streams[0].name, "records");
    assert_ne!(changed.attributes.catalog_hash, created.attributes.catalog_hash);
    // A catalog cannot move to another connector, nor be defined for one of another workspace.
    let mut moved = define(None, json!({}));
    moved.connector_id = parts.source;
    let (status, error) = expect_error(client.update_catalog().id(&created.id).body(moved).send().await);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/connector_id".to_owned()]));
    let stranger = server.client(WORKSPACE + 1, Role::Member);
    let (status, error) = expect_error(stranger.create_catalog().body(define(None, json!({}))).send().await);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/connector_id".to_owned()]));
    assert_eq!(
        expect_error(stranger.update_catalog().id(&created.id).body(define(None, json!({}))).send().await).0,
        404
    );
    assert_eq!(
        expect_error(
            server.client(WORKSPACE, Role::Viewer).create_catalog().body(define(None, json!({}))).send().await
        )
        .0,
        403
    );
    // A PostgreSQL destination tells its tables, with their primary keys.
    let tables =
        client.discover_connector().id(parts.postgres_destination.to_string()).send().await.unwrap().into_inner();
    let copy = tables.data.attributes.catalog.streams.iter().find(|s| s.name == "orders_copy").unwrap();
    assert_eq!(copy.primary_key.as_deref(), Some(&["order_id".to_owned()][..]));
    server.stop().await;
    parts.fixture.drop().await;
}

async fn a_sync_is_created_shown_listed_updated_enabled_and_deleted(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let created = client
        .create_sync()
        .body(CreateSyncRequest { sync: sync_input(&parts) })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let attributes = &created.attributes;
    assert_eq!(created.type_, "syncs");
    assert_eq!((attributes.status, attributes.schedule_type), (SyncStatus::Pending, SyncScheduleType::Manual));
    // What does not apply to a manual, full-refresh sync is cleared.
    assert_eq!(
        (
            attributes.sync_interval,
            &attributes.sync_interval_unit,
            &attributes.cron_expression,
            &attributes.cursor_field
        ),
        (None, &None, &None, &None)
    );
    // Short forms of what it joins, as the open-source server embeds them.
    assert_eq!(attributes.source.id, parts.source.to_string());
    assert_eq!(attributes.source.connector_name, "Postgresql");
    assert_eq!(attributes.destination.name, "replica");
    assert_eq!((attributes.model.name.as_str(), attributes.model.query_type), ("orders", ModelQueryType::RawSql));
    assert_eq!(client.show_sync().sync_id(&created.id).send().await.unwrap().into_inner().data, created);
    assert_eq!(client.list_syncs().send().await.unwrap().into_inner().data.len(), 1);

    // An interval schedule keeps its interval and loses the cron expression; a cron schedule
    // the other way round; the mapping takes its second shape.
    let interval = client
        .patch_sync()
        .sync_id(&created.id)
        .body(update(SyncUpdate {
            schedule_type: Some(SyncScheduleType::Interval),
            sync_interval: Some(2),
            sync_interval_unit: Some(SyncIntervalUnit::Hours),
            cron_expression: Some("*/5 * * * *".into()),
            ..no_sync_change()
        }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .attributes;
    assert_eq!(
        (interval.sync_interval, interval.sync_interval_unit.as_deref(), interval.cron_expression),
        (Some(2), Some("hours"), None)
    );
    let entries = SyncMapping::Entries(vec![
        SyncMappingEntry {
            mapping_type: SyncMappingType::Standard,
            from: Some("id".into()),
            to: "order_id".into(),
            value: None,
            template: None,
        },
        SyncMappingEntry {
            mapping_type: SyncMappingType::Static,
            from: None,
            to: "customer_name".into(),
            value: Some(json!("web")),
            template: None,
        },
        SyncMappingEntry {
            mapping_type: SyncMappingType::Template,
            from: None,
            to: "total".into(),
            value: None,
            template: Some("{{ amount }}".into()),
        },
    ]);
    let cron = client
        .update_sync()
        .sync_id(&created.id)
        .body(update(SyncUpdate {
            schedule_type: Some(SyncScheduleType::CronExpression),
            cron_expression: Some("30 2 * * 1-5".into()),
            sync_mode: Some(SyncMode::Incremental),
            cursor_field: Some("changed_at".into()),
            configuration: Some(entries.clone()),
            ..no_sync_change()
        }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .attributes;
    assert_eq!((cron.sync_interval, cron.cron_expression.as_deref()), (None, Some("30 2 * * 1-5")));
    assert_eq!((cron.sync_mode, cron.cursor_field.as_deref()), (SyncMode::Incremental, Some("changed_at")));
    assert_eq!(cron.configuration, entries);

    let disabled = client
        .enable_sync()
        .sync_id(&created.id)
        .body(EnableSyncRequest { enable: false })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(disabled.attributes.status, SyncStatus::Disabled);
    // An update keeps a disabled sync disabled.
    let renamed = client
        .patch_sync()
        .sync_id(&created.id)
        .body(update(SyncUpdate { name: Some("renamed".into()), ..no_sync_change() }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        (renamed.attributes.name.as_deref(), renamed.attributes.status),
        (Some("renamed"), SyncStatus::Disabled)
    );
    let enabled =
        client.enable_sync().sync_id(&created.id).body(EnableSyncRequest { enable: true }).send().await.unwrap();
    assert_eq!(enabled.into_inner().data.attributes.status, SyncStatus::Pending);

    assert_eq!(client.delete_sync().sync_id(&created.id).send().await.unwrap().status().as_u16(), 204);
    assert_eq!(expect_error(client.show_sync().sync_id(&created.id).send().await).0, 404);
    assert_eq!(expect_error(client.show_sync().sync_id("nope").send().await).0, 404);
    server.stop().await;
    parts.fixture.drop().await;
}

async fn the_rules_of_a_sync_answer_422_at_their_pointer(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let stranger = server.client(WORKSPACE + 1, Role::Member);
    let foreign =
        connector(&stranger, ConnectorType::Source, "theirs", "Postgresql", parts.fixture.configuration()).await;
    let unchecked = client
        .create_model()
        .body(CreateModelRequest {
            model: ModelInput {
                name: "dbt".into(),
                description: None,
                connector_id: parts.source,
                query: Some("select 1".into()),
                query_type: ModelQueryType::Dbt,
                primary_key: Some("id".into()),
                configuration: None,
            },
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .id
        .parse()
        .unwrap();
    let base = || sync_input(&parts);
    let entry = |mapping_type, from: Option<&str>, to: &str| SyncMappingEntry {
        mapping_type,
        from: from.map(str::to_owned),
        to: to.into(),
        value: None,
        template: None,
    };
    // A model with a JSON column, which no number field can take.
    let query =
        format!("SELECT id, customer, amount, '{{\"a\": 1}}'::jsonb AS tags FROM {}.orders", parts.fixture.schema);
    let with_json = raw_sql_model(&client, parts.source, "with json", query).await;
    let static_value = |value: Value| {
        SyncMapping::Entries(vec![
            entry(SyncMappingType::Standard, Some("id"), "order_id"),
            SyncMappingEntry { value: Some(value), ..entry(SyncMappingType::Static, None, "total") },
        ])
    };
    let cases: Vec<(&str, SyncInput, &str)> = vec![
        (
            "a JSON column into a number field",
            SyncInput {
                model_id: with_json,
                configuration: field_map(&[("id", "order_id"), ("tags", "total")]),
                ..base()
            },
            "/sync/configuration/tags",
        ),
        (
            "an object value into a number field",
            SyncInput { configuration: static_value(json!({"a": 1})), ..base() },
            "/sync/configuration/1/value",
        ),
        (
            "a boolean into a PostgreSQL number field",
            SyncInput { configuration: static_value(json!(true)), ..base() },
            "/sync/configuration/1/value",
        ),
        ("another workspace's source", SyncInput { source_id: foreign, ..base() }, "/sync/source_id"),
        (
            "a source that is a destination",
            SyncInput { source_id: parts.http_destination, ..base() },
            "/sync/source_id",
        ),
        (
            "a destination that is a source",
            SyncInput { destination_id: parts.source, ..base() },
            "/sync/destination_id",
        ),
        ("a model that does not exist", SyncInput { model_id: 999_999, ..base() }, "/sync/model_id"),
        ("a model this server cannot sync", SyncInput { model_id: unchecked, ..base() }, "/sync/model_id"),
        (
            "a stream the destination does not have",
            SyncInput { stream_name: "nowhere".into(), ..base() },
            "/sync/stream_name",
        ),
        (
            "a column the model does not have",
            SyncInput { configuration: field_map(&[("nope", "order_id")]), ..base() },
            "/sync/configuration/nope",
        ),
        (
            "a field the stream does not have",
            SyncInput { configuration: field_map(&[("id", "nope")]), ..base() },
            "/sync/configuration/id",
        ),
        ("an empty mapping", SyncInput { configuration: field_map(&[]), ..base() }, "/sync/configuration"),
        (
            "a standard entry without `from`",
            SyncInput {
                configuration: SyncMapping::Entries(vec![entry(SyncMappingType::Standard, None, "order_id")]),
                ..base()
            },
            "/sync/configuration/0/from",
        ),
        (
            "a static entry without `value`",
            SyncInput {
                configuration: SyncMapping::Entries(vec![entry(SyncMappingType::Static, None, "order_id")]),
                ..base()
            },
            "/sync/configuration/0/value",
        ),
        (
            "a template entry without `template`",
            SyncInput {
                configuration: SyncMapping::Entries(vec![entry(SyncMappingType::Template, None, "order_id")]),
                ..base()
            },
            "/sync/configuration/0/template",
        ),
        (
            "an entry to a field the stream does not have",
            SyncInput {
                configuration: SyncMapping::Entries(vec![entry(SyncMappingType::Standard, Some("id"), "nope")]),
                ..base()
            },
            "/sync/configuration/0/to",
        ),
        (
            "an interval schedule without an interval",
            SyncInput { schedule_type: SyncScheduleType::Interval, sync_interval: None, ..base() },
            "/sync/sync_interval",
        ),
        (
            "an interval schedule without a unit",
            SyncInput { schedule_type: SyncScheduleType::Interval, sync_interval_unit: None, ..base() },
            "/sync/sync_interval_unit",
        ),
        (
            "a cron schedule without an expression",
            SyncInput { schedule_type: SyncScheduleType::CronExpression, cron_expression: None, ..base() },
            "/sync/cron_expression",
        ),
        (
            "a cron expression of six fields",
            SyncInput {
                schedule_type: SyncScheduleType::CronExpression,
                cron_expression: Some("0 0 * * * *".into()),
                ..base()
            },
            "/sync/cron_expression",
        ),
        (
            "a cron expression out of range",
            SyncInput {
                schedule_type: SyncScheduleType::CronExpression,
                cron_expression: Some("0 25 * * *".into()),
                ..base()
            },
            "/sync/cron_expression",
        ),
        (
            "an incremental sync without a cursor",
            SyncInput { sync_mode: SyncMode::Incremental, cursor_field: None, ..base() },
            "/sync/cursor_field",
        ),
        (
            "a cursor that is not a column",
            SyncInput { sync_mode: SyncMode::Incremental, cursor_field: Some("nope".into()), ..base() },
            "/sync/cursor_field",
        ),
    ];
    for (case, input, pointer) in cases {
        let (status, error) = expect_error(client.create_sync().body(CreateSyncRequest { sync: input }).send().await);
        assert_eq!(status, 422, "{case}");
        assert!(error_pointers(&error).iter().any(|p| p == pointer), "{case}: {:?}", error.errors);
    }
    // The refusal names the column, the field and their types.
    let refused = client
        .create_sync()
        .body(CreateSyncRequest {
            sync: SyncInput {
                model_id: with_json,
                configuration: field_map(&[("id", "order_id"), ("tags", "total")]),
                ..base()
            },
        })
        .send()
        .await;
    let (_, error) = expect_error(refused);
    let detail = &error.errors[0].detail;
    assert!(detail.contains("column `tags` holds object values") && detail.contains("`total`"), "{detail}");
    assert!(detail.contains("(number)"), "{detail}");
    // What a field can take passes: a JSON column into a text field, numbers into numbers.
    let fine = SyncInput {
        model_id: with_json,
        configuration: field_map(&[("id", "order_id"), ("tags", "customer_name"), ("amount", "total")]),
        ..base()
    };
    let fine = client.create_sync().body(CreateSyncRequest { sync: fine }).send().await.unwrap().into_inner().data;
    client.delete_sync().sync_id(&fine.id).send().await.unwrap();
    // A non-positive interval is outside the spec's bounds (400).
    let zero = SyncInput { schedule_type: SyncScheduleType::Interval, sync_interval: Some(0), ..base() };
    assert_eq!(expect_error(client.create_sync().body(CreateSyncRequest { sync: zero }).send().await).0, 400);
    assert!(client.list_syncs().send().await.unwrap().into_inner().data.is_empty(), "nothing was stored");
    // An update is held to the same rules, and writes nothing when it breaks one.
    let id = create_sync(&client, base()).await;
    let before = client.show_sync().sync_id(&id).send().await.unwrap().into_inner().data;
    let (status, error) = expect_error(
        client
            .patch_sync()
            .sync_id(&id)
            .body(update(SyncUpdate { stream_name: Some("nowhere".into()), ..no_sync_change() }))
            .send()
            .await,
    );
    assert_eq!((status, error_pointers(&error)), (422, vec!["/sync/stream_name".to_owned()]));
    assert_eq!(client.show_sync().sync_id(&id).send().await.unwrap().into_inner().data, before);
    server.stop().await;
    parts.fixture.drop().await;
}

async fn manual_runs_start_cancel_and_list_with_their_records(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let id = create_sync(&client, sync_input(&parts)).await;
    let numeric: i64 = id.parse().unwrap();
    let start = |sync_id: i64| StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id, dry_run: false } };
    let run = client.start_sync_run().body(start(numeric)).send().await.unwrap();
    assert_eq!(run.status().as_u16(), 201);
    let run = run.into_inner().data;
    assert_eq!(
        (run.type_.as_str(), run.attributes.status, run.attributes.sync_id),
        ("sync_runs", SyncRunStatus::Pending, numeric)
    );
    assert_eq!((run.attributes.started_at, run.attributes.duration), (None, None));
    // One active run at a time.
    let (status, error) = expect_error(client.start_sync_run().body(start(numeric)).send().await);
    assert_eq!((status, error_pointers(&error)), (422, vec!["/schedule_sync/sync_id".to_owned()]));
    assert!(error.errors[0].detail.contains("active run"), "{}", error.errors[0].detail);
    let shown = client.show_sync_run().sync_id(&id).sync_run_id(&run.id).send().await.unwrap().into_inner().data;
    assert_eq!(shown, run);
    let canceled = client.cancel_sync_run().sync_id(&id).send().await.unwrap().into_inner().data;
    assert_eq!((canceled.id.as_str(), canceled.attributes.status), (run.id.as_str(), SyncRunStatus::Canceled));
    assert!(
        canceled.attributes.finished_at.is_some() && canceled.attributes.error.as_deref().unwrap().contains("canceled")
    );
    let (status, _) = expect_error(client.cancel_sync_run().sync_id(&id).send().await);
    assert_eq!(status, 422, "nothing left to cancel");
    let second = client.start_sync_run().body(start(numeric)).send().await.unwrap().into_inner().data;
    let runs = client.list_sync_runs().sync_id(&id).send().await.unwrap().into_inner();
    assert_eq!(runs.data.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [second.id.as_str(), run.id.as_str()]);
    let only_canceled =
        client.list_sync_runs().sync_id(&id).status(SyncRunStatus::Canceled).send().await.unwrap().into_inner();
    assert_eq!(only_canceled.data.len(), 1);
    assert_eq!(only_canceled.links.self_, format!("/api/v1/syncs/{id}/sync_runs?status=canceled&page=1&per_page=10"));
    assert_eq!(expect_error(client.show_sync_run().sync_id(&id).sync_run_id("999999").send().await).0, 404);

    // Records, as a run writes them (written here straight into the database).
    let db = server.database().await;
    for (index, status) in ["success", "failed", "success"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO sync_records (sync_id, sync_run_id, primary_key, record, status, action, error, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, 'destination_insert', $6, '2026-01-01T00:00:00.000000Z', \
             '2026-01-01T00:00:00.000000Z')",
        )
        .bind(numeric)
        .bind(run.id.parse::<i64>().unwrap())
        .bind((index + 1).to_string())
        .bind(json!({"order_id": index + 1}).to_string())
        .bind(*status)
        .bind((*status == "failed").then_some("duplicate key"))
        .execute(&db)
        .await
        .unwrap();
    }
    db.close().await;
    let records =
        client.list_sync_records().sync_id(&id).sync_run_id(&run.id).per_page(2).send().await.unwrap().into_inner();
    assert_eq!(records.data.iter().map(|r| r.attributes.primary_key.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(
        records.links.next.as_deref(),
        Some(format!("/api/v1/syncs/{id}/sync_runs/{}/sync_records?page=2&per_page=2", run.id).as_str())
    );
    let failed = client
        .list_sync_records()
        .sync_id(&id)
        .sync_run_id(&run.id)
        .status(SyncRecordStatus::Failed)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failed.data.len(), 1);
    assert_eq!(
        (failed.data[0].attributes.error.as_deref(), &failed.data[0].attributes.record["order_id"]),
        (Some("duplicate key"), &json!(2))
    );
    assert!(
        client
            .list_sync_records()
            .sync_id(&id)
            .sync_run_id(&second.id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );

    // Only a manual, enabled sync is started by hand.
    client.cancel_sync_run().sync_id(&id).send().await.unwrap();
    client.enable_sync().sync_id(&id).body(EnableSyncRequest { enable: false }).send().await.unwrap();
    let (status, error) = expect_error(client.start_sync_run().body(start(numeric)).send().await);
    assert!(status == 422 && error.errors[0].detail.contains("disabled"), "{}", error.errors[0].detail);
    let scheduled =
        create_sync(&client, SyncInput { schedule_type: SyncScheduleType::Interval, name: None, ..sync_input(&parts) })
            .await;
    let (status, error) = expect_error(client.start_sync_run().body(start(scheduled.parse().unwrap())).send().await);
    assert!(status == 422 && error.errors[0].detail.contains("interval"), "{}", error.errors[0].detail);
    let (status, _) = expect_error(client.start_sync_run().body(start(999_999)).send().await);
    assert_eq!(status, 422);
    // Deleting the sync takes its runs and records with it.
    client.delete_sync().sync_id(&id).send().await.unwrap();
    let db = server.database().await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_records").fetch_one(&db).await.unwrap();
    let runs_left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_runs").fetch_one(&db).await.unwrap();
    db.close().await;
    assert_eq!((left, runs_left), (0, 0));
    server.stop().await;
    parts.fixture.drop().await;
}

/// A run's records as CSV, whole: the header line, then every record the filter selects,
/// oldest first, across more batches than the export reads at once.
async fn export(
    client: &Client,
    sync_id: &str,
    run_id: &str,
    status: Option<SyncRecordStatus>,
) -> (String, Vec<Vec<String>>) {
    use futures::TryStreamExt;
    let mut request = client.export_sync_records().sync_id(sync_id).sync_run_id(run_id);
    if let Some(status) = status {
        request = request.status(status);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    let chunks: Vec<bytes::Bytes> = response.into_inner().into_inner().try_collect().await.unwrap();
    let text = chunks.concat();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_slice());
    let lines = reader.records().map(|line| line.unwrap().iter().map(str::to_owned).collect()).collect();
    (disposition, lines)
}

async fn a_runs_records_export_as_csv_across_batches(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let id = create_sync(&client, sync_input(&parts)).await;
    let numeric: i64 = id.parse().unwrap();
    let start = StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id: numeric, dry_run: false } };
    let run = client.start_sync_run().body(start).send().await.unwrap().into_inner().data;
    let run_id: i64 = run.id.parse().unwrap();
    // 1,203 records (every 7th failed, with a comma and a quote in its error), written here
    // straight into the database as a run writes them; and one of another run, not exported.
    const RECORDS: i64 = 1203;
    client.cancel_sync_run().sync_id(&id).send().await.unwrap();
    let start = StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id: numeric, dry_run: false } };
    let other_run: i64 =
        client.start_sync_run().body(start).send().await.unwrap().into_inner().data.id.parse().unwrap();
    let db = server.database().await;
    sqlx::query(
        "INSERT INTO sync_records (sync_id, sync_run_id, primary_key, record, status, action, error, created_at, \
         updated_at) SELECT $1, $2, CAST(i AS TEXT), '{\"order_id\":' || CAST(i AS TEXT) || '}', \
         CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'success' END, 'destination_insert', \
         CASE WHEN i % 7 = 0 THEN 'duplicate key, \"orders_pkey\"' END, '2026-01-01T00:00:00.000000Z', \
         '2026-01-01T00:00:00.000000Z' FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
         WHERE i < $3) SELECT i FROM n) AS numbers",
    )
    .bind(numeric)
    .bind(run_id)
    .bind(RECORDS)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sync_records (sync_id, sync_run_id, primary_key, record, status, action, error, created_at, \
         updated_at) VALUES ($1, $2, 'other', '{}', 'success', 'destination_insert', NULL, \
         '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
    )
    .bind(numeric)
    .bind(other_run)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;

    let (disposition, lines) = export(&client, &id, &run.id, None).await;
    assert_eq!(disposition, format!("attachment; filename=\"sync-{id}-run-{run_id}-records.csv\""));
    assert_eq!(
        lines[0],
        ["id", "sync_run_id", "primary_key", "action", "status", "error", "created_at", "updated_at", "record"]
    );
    let rows = &lines[1..];
    assert_eq!(rows.len() as i64, RECORDS, "every record of the run, once");
    let keys: Vec<i64> = rows.iter().map(|row| row[2].parse().unwrap()).collect();
    assert_eq!(keys, (1..=RECORDS).collect::<Vec<_>>(), "oldest first, none twice, none skipped");
    let ids: Vec<i64> = rows.iter().map(|row| row[0].parse().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    // A line is what the list shows of the same record.
    let listed = client
        .list_sync_records()
        .sync_id(&id)
        .sync_run_id(&run.id)
        .status(SyncRecordStatus::Failed)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .remove(0);
    let line = rows.iter().find(|row| row[0] == listed.id).unwrap();
    assert_eq!(line[1], run_id.to_string());
    assert_eq!((line[3].as_str(), line[4].as_str()), ("destination_insert", "failed"));
    assert_eq!(Some(line[5].as_str()), listed.attributes.error.as_deref());
    assert_eq!(line[5], "duplicate key, \"orders_pkey\"");
    assert_eq!(line[6].parse::<chrono::DateTime<chrono::Utc>>().unwrap(), listed.attributes.created_at);
    assert_eq!(serde_json::from_str::<Map<String, Value>>(&line[8]).unwrap(), listed.attributes.record);

    // The list's filters.
    let (_, failed) = export(&client, &id, &run.id, Some(SyncRecordStatus::Failed)).await;
    assert_eq!(failed.len() as i64 - 1, RECORDS / 7);
    assert!(failed[1..].iter().all(|row| row[4] == "failed" && row[2].parse::<i64>().unwrap() % 7 == 0));
    let one = client.export_sync_records().sync_id(&id).sync_run_id(&run.id).primary_key("12").send().await.unwrap();
    let one = String::from_utf8(
        futures::TryStreamExt::try_collect::<Vec<bytes::Bytes>>(one.into_inner().into_inner()).await.unwrap().concat(),
    )
    .unwrap();
    assert_eq!(one.lines().count(), 2, "{one}");
    // Another workspace sees no such run.
    let stranger = server.client(WORKSPACE + 1, Role::Member);
    let refused = stranger.export_sync_records().sync_id(&id).sync_run_id(&run.id).send().await;
    assert_eq!(expect_error(refused.map(|response| response.status())).0, 404);
    server.stop().await;
    parts.fixture.drop().await;
}

async fn what_a_sync_uses_cannot_be_deleted(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let id = create_sync(&client, sync_input(&parts)).await;
    let (status, error) = expect_error(client.delete_model().id(parts.model.to_string()).send().await);
    assert_eq!(status, 422);
    assert!(
        error.errors[0].detail.contains(&format!("syncs {id} (orders to the replica)")),
        "{}",
        error.errors[0].detail
    );
    for connector in [parts.source, parts.postgres_destination] {
        let (status, error) = expect_error(client.delete_connector().id(connector.to_string()).send().await);
        assert_eq!(status, 422);
        assert!(error.errors[0].detail.contains(&format!("syncs {id}")), "{}", error.errors[0].detail);
    }
    client.delete_sync().sync_id(&id).send().await.unwrap();
    client.delete_model().id(parts.model.to_string()).send().await.unwrap();
    for connector in [parts.source, parts.postgres_destination] {
        assert_eq!(client.delete_connector().id(connector.to_string()).send().await.unwrap().status().as_u16(), 204);
    }
    server.stop().await;
    parts.fixture.drop().await;
}

async fn viewers_read_syncs_and_other_workspaces_see_none(server: TestServer) {
    let member = server.client(WORKSPACE, Role::Member);
    let parts = parts(&member).await;
    let id = create_sync(&member, sync_input(&parts)).await;
    let numeric: i64 = id.parse().unwrap();
    let run = member
        .start_sync_run()
        .body(StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id: numeric, dry_run: false } })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let viewer = server.client(WORKSPACE, Role::Viewer);
    assert_eq!(viewer.list_syncs().send().await.unwrap().into_inner().data.len(), 1);
    assert_eq!(viewer.show_sync().sync_id(&id).send().await.unwrap().into_inner().data.id, id);
    assert_eq!(viewer.list_sync_runs().sync_id(&id).send().await.unwrap().into_inner().data.len(), 1);
    assert_eq!(
        viewer.show_sync_run().sync_id(&id).sync_run_id(&run.id).send().await.unwrap().into_inner().data.id,
        run.id
    );
    viewer.list_sync_records().sync_id(&id).sync_run_id(&run.id).send().await.unwrap();
    let start = StartSyncRunRequest { schedule_sync: ScheduleSync { sync_id: numeric, dry_run: false } };
    assert_eq!(
        expect_error(viewer.create_sync().body(CreateSyncRequest { sync: sync_input(&parts) }).send().await).0,
        403
    );
    assert_eq!(expect_error(viewer.patch_sync().sync_id(&id).body(update(no_sync_change())).send().await).0, 403);
    assert_eq!(expect_error(viewer.update_sync().sync_id(&id).body(update(no_sync_change())).send().await).0, 403);
    assert_eq!(
        expect_error(viewer.enable_sync().sync_id(&id).body(EnableSyncRequest { enable: false }).send().await).0,
        403
    );
    assert_eq!(expect_error(viewer.delete_sync().sync_id(&id).send().await).0, 403);
    assert_eq!(expect_error(viewer.start_sync_run().body(start.clone()).send().await).0, 403);
    assert_eq!(expect_error(viewer.cancel_sync_run().sync_id(&id).send().await).0, 403);

    let stranger = server.client(WORKSPACE + 1, Role::Member);
    assert_eq!(expect_error(stranger.show_sync().sync_id(&id).send().await).0, 404);
    assert_eq!(expect_error(stranger.patch_sync().sync_id(&id).body(update(no_sync_change())).send().await).0, 404);
    assert_eq!(expect_error(stranger.delete_sync().sync_id(&id).send().await).0, 404);
    assert_eq!(expect_error(stranger.list_sync_runs().sync_id(&id).send().await).0, 404);
    assert_eq!(expect_error(stranger.show_sync_run().sync_id(&id).sync_run_id(&run.id).send().await).0, 404);
    assert_eq!(expect_error(stranger.list_sync_records().sync_id(&id).sync_run_id(&run.id).send().await).0, 404);
    assert_eq!(expect_error(stranger.cancel_sync_run().sync_id(&id).send().await).0, 404);
    assert_eq!(expect_error(stranger.start_sync_run().body(start).send().await).0, 422);
    assert!(stranger.list_syncs().send().await.unwrap().into_inner().data.is_empty());
    // Nor can another workspace's sync name this workspace's parts.
    let theirs = SyncInput { ..sync_input(&parts) };
    let (status, error) = expect_error(stranger.create_sync().body(CreateSyncRequest { sync: theirs }).send().await);
    assert_eq!(status, 422);
    assert!(error_pointers(&error).contains(&"/sync/source_id".to_owned()), "{:?}", error.errors);
    server.stop().await;
    parts.fixture.drop().await;
}

/// `GET /syncs/configurations` is served beside `GET /syncs/{sync_id}` (one dispatching endpoint
/// serves both: see `crates/squared-codegen/src/routing.rs`).
#[tokio::test]
async fn sync_configurations_are_served_beside_show_sync() {
    let server = TestServer::start().await;
    for role in [Role::Member, Role::Viewer] {
        let answer = server.client(WORKSPACE, role).sync_configurations().send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 200);
        let types = answer.into_inner().data.configurations.catalog_mapping_types;
        assert_eq!(types.static_.keys().collect::<Vec<_>>(), ["boolean", "null", "number", "string"]);
        assert!(
            types.template.filter.contains_key("upcase") && types.template.variable.contains_key("current_timestamp")
        );
    }
    // The same authentication as every operation, and a real sync id still reaches show_sync.
    let unauthenticated =
        squared_client::Client::new(&server.base_url, squared_client::Credentials::new("nope", WORKSPACE));
    assert_eq!(expect_error(unauthenticated.sync_configurations().send().await).0, 401);
    assert_eq!(expect_error(server.client(WORKSPACE, Role::Member).show_sync().sync_id("12345").send().await).0, 404);
    // Other methods on either path get 405 with the methods of the path they named, whatever
    // body they carry.
    let http = reqwest::Client::new();
    let token = server.token(WORKSPACE, Role::Member);
    for (path, allow) in [("configurations", "GET"), ("12345", "DELETE, GET, PATCH, PUT")] {
        let methods: &[reqwest::Method] = match path {
            "configurations" => &[
                reqwest::Method::PUT,
                reqwest::Method::PATCH,
                reqwest::Method::DELETE,
                reqwest::Method::POST,
                reqwest::Method::OPTIONS,
            ],
            _ => &[reqwest::Method::POST, reqwest::Method::OPTIONS],
        };
        for method in methods {
            let answer = http
                .request(method.clone(), format!("{}/api/v1/syncs/{path}", server.base_url))
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE.to_string())
                .body("not json")
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 405, "{method} {path}");
            assert_eq!(answer.headers()["allow"], allow, "{method} {path}");
        }
    }
    server.stop().await;
}

/// The first slice of the sync engine: manual, full-refresh runs from PostgreSQL into
/// PostgreSQL, executed by the server's runner.
async fn runs_move_rows_and_write_only_what_changed(engine: TestEngine) {
    let server = TestServer::start_with_sync_runner(engine).await;
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let schema = &parts.fixture.schema;
    // A third row the destination will refuse: its customer is null, the column is not.
    parts
        .fixture
        .admin
        .execute(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {schema}.orders VALUES (3, NULL, 1.00, now());
             ALTER TABLE {schema}.orders_copy ALTER COLUMN customer_name SET NOT NULL;"
        )))
        .await
        .unwrap();
    let id = create_sync(&client, sync_input(&parts)).await;
    let run = |client: &Client| {
        let (id, client) = (id.clone(), client.clone());
        async move { run_sync_to_end(&client, &id).await }
    };
    let counts = |run: &squared_client::types::SyncRun| {
        let a = &run.attributes;
        (a.total_query_rows, a.skipped_rows, a.total_rows, a.successful_rows, a.failed_rows)
    };
    let copied = || async {
        sqlx::query_as::<_, (i32, String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT order_id, customer_name, total::text FROM {schema}.orders_copy ORDER BY order_id"
        )))
        .fetch_all(&parts.fixture.admin)
        .await
        .unwrap()
    };

    // A run that failed a row is `failed` (never `success`), and says how many and why; its
    // sync is not healthy.
    let first = run(&client).await;
    assert_eq!(first.attributes.status, SyncRunStatus::Failed, "{first:?}");
    assert_eq!(counts(&first), (3, 0, 3, 2, 1));
    let error = first.attributes.error.clone().unwrap_or_default();
    assert!(error.starts_with("1 of 3 rows failed and 2 were written"), "{error}");
    assert!(error.contains("null value in column \"customer_name\""), "{error}");
    let shown = client.show_sync().sync_id(&id).send().await.unwrap().into_inner().data.attributes;
    assert_eq!(
        (shown.status, shown.last_run_status.as_deref(), shown.last_run_failed_rows),
        (SyncStatus::Failed, Some("failed"), Some(1))
    );
    assert!(first.attributes.started_at.is_some() && first.attributes.duration.is_some());
    // Numbers travel with every digit the source gave: 12.50 arrives as 12.50, never through
    // a float, even in an unscaled numeric column.
    assert_eq!(copied().await, [(1, "ada".into(), "12.50".into()), (2, "bob".into(), "7.00".into())]);
    let records =
        client.list_sync_records().sync_id(&id).sync_run_id(&first.id).send().await.unwrap().into_inner().data;
    let failed: Vec<_> = records.iter().filter(|r| r.attributes.status == SyncRecordStatus::Failed).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(failed.len(), 1, "the refused row fails alone");
    assert_eq!(failed[0].attributes.primary_key, "3");
    assert!(failed[0].attributes.error.as_deref().unwrap().contains("null value"), "{:?}", failed[0].attributes.error);
    assert!(
        records
            .iter()
            .filter(|r| r.attributes.status == SyncRecordStatus::Success)
            .all(|r| { r.attributes.action == squared_client::types::SyncRecordAction::DestinationInsert })
    );

    // One row changes and the refused one is mended: the next run writes exactly those two.
    parts
        .fixture
        .admin
        .execute(sqlx::AssertSqlSafe(format!(
            "UPDATE {schema}.orders SET amount = 99.00 WHERE id = 1; UPDATE {schema}.orders SET customer = 'cy' WHERE id = 3;"
        )))
        .await
        .unwrap();
    let second = run(&client).await;
    assert_eq!(counts(&second), (3, 1, 2, 2, 0));
    let records =
        client.list_sync_records().sync_id(&id).sync_run_id(&second.id).send().await.unwrap().into_inner().data;
    let actions: Vec<(String, squared_client::types::SyncRecordAction)> =
        records.iter().map(|r| (r.attributes.primary_key.clone(), r.attributes.action)).collect();
    assert_eq!(
        actions,
        [
            ("1".to_owned(), squared_client::types::SyncRecordAction::DestinationUpdate),
            ("3".to_owned(), squared_client::types::SyncRecordAction::DestinationInsert)
        ]
    );
    assert_eq!(
        copied().await,
        [(1, "ada".into(), "99.00".into()), (2, "bob".into(), "7.00".into()), (3, "cy".into(), "1.00".into())]
    );
    assert_eq!(second.attributes.status, SyncRunStatus::Success, "{second:?}");
    let shown = client.show_sync().sync_id(&id).send().await.unwrap().into_inner().data.attributes;
    assert_eq!(
        (shown.status, shown.last_run_status.as_deref(), shown.last_run_failed_rows),
        (SyncStatus::Healthy, Some("success"), Some(0))
    );
    // The refused row's history: its failed attempt in the first run, its write in the second.
    let history = client
        .list_sync_records()
        .sync_id(&id)
        .sync_run_id(&second.id)
        .primary_key("3")
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let attempts: Vec<(i64, SyncRecordStatus)> =
        history.iter().map(|r| (r.attributes.sync_run_id, r.attributes.status)).collect();
    let run_ids = (first.id.parse::<i64>().unwrap(), second.id.parse::<i64>().unwrap());
    assert_eq!(attempts, [(run_ids.0, SyncRecordStatus::Failed), (run_ids.1, SyncRecordStatus::Success)]);
    // As of the first run, only its attempt; by action, only the insert.
    let as_of_first =
        client.list_sync_records().sync_id(&id).sync_run_id(&first.id).primary_key("3").send().await.unwrap();
    assert_eq!(as_of_first.into_inner().data.len(), 1);
    let updates = client
        .list_sync_records()
        .sync_id(&id)
        .sync_run_id(&second.id)
        .action(squared_client::types::SyncRecordAction::DestinationUpdate)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(updates.iter().map(|r| r.attributes.primary_key.as_str()).collect::<Vec<_>>(), ["1"]);
    // Nothing changed: nothing is written.
    let third = run(&client).await;
    assert_eq!(counts(&third), (3, 3, 0, 0, 0));
    assert!(
        client
            .list_sync_records()
            .sync_id(&id)
            .sync_run_id(&third.id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );
    server.stop().await;
    parts.fixture.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn runs_move_rows_on_sqlite() {
    runs_move_rows_and_write_only_what_changed(TestEngine::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn runs_move_rows_on_postgres() {
    runs_move_rows_and_write_only_what_changed(TestEngine::Postgres).await;
}

/// A scheduled sync shows when it runs next; when that time is due, the runner creates its
/// run, executes it, and moves the schedule on.
async fn scheduled_syncs_run_when_due(engine: TestEngine) {
    let server = TestServer::start_with_sync_runner(engine).await;
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let before = chrono::Utc::now();
    let hourly = SyncInput {
        schedule_type: SyncScheduleType::Interval,
        sync_interval: Some(1),
        sync_interval_unit: Some(SyncIntervalUnit::Hours),
        ..sync_input(&parts)
    };
    let sync = client.create_sync().body(CreateSyncRequest { sync: hourly }).send().await.unwrap().into_inner().data;
    let next = sync.attributes.next_run_at.expect("a scheduled sync shows its next run");
    assert!(next >= before + chrono::Duration::minutes(59) && next <= chrono::Utc::now() + chrono::Duration::hours(1));
    assert_eq!(sync.attributes.last_run_status, None);
    // Make it due now, as if an hour had passed.
    let db = server.database().await;
    sqlx::query("UPDATE syncs SET next_run_at = '2020-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(sync.id.parse::<i64>().unwrap())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let shown = loop {
        let shown = client.show_sync().sync_id(&sync.id).send().await.unwrap().into_inner().data;
        // The sync and its latest run are read in two queries: wait until both show the end.
        if shown.attributes.last_run_status.as_deref() == Some("success")
            && shown.attributes.status == SyncStatus::Healthy
        {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the due sync did not run: {shown:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(shown.attributes.status, SyncStatus::Healthy);
    let moved = shown.attributes.next_run_at.unwrap();
    assert!(moved > chrono::Utc::now() + chrono::Duration::minutes(59), "the schedule moved on: {moved}");
    let runs = client.list_sync_runs().sync_id(&sync.id).send().await.unwrap().into_inner().data;
    assert_eq!(runs.len(), 1, "one run for one due time");
    assert_eq!(runs[0].attributes.successful_rows, 2);
    // A manual sync has no next run.
    let manual = create_sync(&client, sync_input(&parts)).await;
    assert_eq!(
        client.show_sync().sync_id(&manual).send().await.unwrap().into_inner().data.attributes.next_run_at,
        None
    );
    server.stop().await;
    parts.fixture.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn scheduled_syncs_run_on_sqlite() {
    scheduled_syncs_run_when_due(TestEngine::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn scheduled_syncs_run_on_postgres() {
    scheduled_syncs_run_when_due(TestEngine::Postgres).await;
}

/// A run whose instance died (its lease expired) is taken over and finished; a run whose
/// lease is live is left to its instance.
async fn runs_of_a_dead_instance_are_taken_over(engine: TestEngine) {
    let server = TestServer::start_with_sync_runner(engine).await;
    let client = server.client(WORKSPACE, Role::Member);
    let parts = parts(&client).await;
    let dead_sync = create_sync(&client, sync_input(&parts)).await;
    let live_sync = create_sync(&client, SyncInput { name: Some("another".into()), ..sync_input(&parts) }).await;
    let db = server.database().await;
    let executing = |sync: String, lease: &'static str| {
        let db = db.clone();
        async move {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sync_runs (workspace_id, sync_id, status, started_at, lease_expires_at, created_at, \
                 updated_at) VALUES ($1, $2, 'in_progress', '2020-01-01T00:00:00.000000Z', $3, \
                 '2020-01-01T00:00:00.000000Z', '2020-01-01T00:00:00.000000Z') RETURNING id",
            )
            .bind(WORKSPACE)
            .bind(sync.parse::<i64>().unwrap())
            .bind(lease)
            .fetch_one(&db)
            .await
            .unwrap();
            id.to_string()
        }
    };
    let dead = executing(dead_sync.clone(), "2020-01-01T00:00:30.000000Z").await;
    let live = executing(live_sync.clone(), "2999-01-01T00:00:00.000000Z").await;
    db.close().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let finished = loop {
        let shown =
            client.show_sync_run().sync_id(&dead_sync).sync_run_id(&dead).send().await.unwrap().into_inner().data;
        if shown.attributes.status == SyncRunStatus::Success {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the dead instance's run was not taken over: {shown:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(finished.attributes.successful_rows, 2);
    let rows: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {}.orders_copy", parts.fixture.schema)))
            .fetch_one(&parts.fixture.admin)
            .await
            .unwrap();
    assert_eq!(rows, 2);
    let untouched =
        client.show_sync_run().sync_id(&live_sync).sync_run_id(&live).send().await.unwrap().into_inner().data;
    assert_eq!(untouched.attributes.status, SyncRunStatus::InProgress, "a live lease is its instance's");
    // The claims as stored: the dead run claimed once more (by this runner), the live one never.
    let db = server.database().await;
    let claim = |id: String| {
        let db = db.clone();
        async move {
            sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(
                "SELECT claim_generation, runner, lease_expires_at FROM sync_runs WHERE id = $1",
            )
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let (generation, runner, lease) = claim(dead).await;
    assert_eq!((generation, lease), (1, None), "taken over once, and given back at its end");
    assert!(runner.is_some_and(|r| r.ends_with(&format!(":{}", std::process::id()))), "the runner is recorded");
    assert_eq!(
        claim(live).await,
        (0, None, Some("2999-01-01T00:00:00.000000Z".to_owned())),
        "the live run's claim is untouched"
    );
    db.close().await;
    server.stop().await;
    parts.fixture.drop().await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn dead_runs_are_taken_over_on_sqlite() {
    runs_of_a_dead_instance_are_taken_over(TestEngine::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(squared_test_postgres), ignore = "SQUARED_TEST_POSTGRES_URL is not set")]
async fn dead_runs_are_taken_over_on_postgres() {
    runs_of_a_dead_instance_are_taken_over(TestEngine::Postgres).await;
}

/// Stores an ended run of sync `sync` created at `at`, as a runner would have left it.
async fn stored_run(
    server: &TestServer,
    (workspace, sync): (i64, i64),
    at: chrono::DateTime<chrono::Utc>,
    run: (&str, &str, i64, i64),
) {
    let (run_type, status, written, failed) = run;
    let db = server.database().await;
    let at = squared_server::store::timestamp(at);
    sqlx::query(
        "INSERT INTO sync_runs (workspace_id, sync_id, status, run_type, created_at, updated_at, started_at, \
         finished_at, total_rows, successful_rows, failed_rows) VALUES ($1, $2, $3, $4, $5, $5, $5, $5, $6, $7, $8)",
    )
    .bind(workspace)
    .bind(sync)
    .bind(status)
    .bind(run_type)
    .bind(at)
    .bind(written + failed)
    .bind(written)
    .bind(failed)
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
}

/// A report's slices as (start, total, success, failed), only the slices with a count.
fn busy_slices(slices: &[squared_client::types::ReportSlice]) -> Vec<(chrono::DateTime<chrono::Utc>, i64, i64, i64)> {
    slices
        .iter()
        .filter(|s| s.total_count > 0)
        .map(|s| (s.time_slice, s.total_count, s.success_count, s.failed_count))
        .collect()
}

async fn the_activity_report_sums_general_runs_by_slice(server: TestServer) {
    use chrono::{DurationRound, TimeDelta, Utc};
    use squared_client::types::{ReportMetric, ReportTimePeriod, ReportType};
    let member = server.client(WORKSPACE, Role::Member);
    let parts = parts(&member).await;
    let to_table: i64 = create_sync(&member, sync_input(&parts)).await.parse().unwrap();
    let mut to_hooks = sync_input(&parts);
    to_hooks.destination_id = parts.http_destination;
    to_hooks.stream_name = "records".into();
    to_hooks.delete_removed_rows = None;
    let to_hooks: i64 = create_sync(&member, to_hooks).await.parse().unwrap();
    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    let day = Utc::now().duration_trunc(TimeDelta::days(1)).unwrap();
    let (w, at) = (WORKSPACE, |back: TimeDelta| hour - back);
    // This hour: two runs to the table, one to the hooks; a test and a dry run, not counted.
    stored_run(&server, (w, to_table), at(TimeDelta::zero()), ("general", "success", 10, 0)).await;
    stored_run(&server, (w, to_table), at(TimeDelta::zero()), ("general", "failed", 3, 2)).await;
    stored_run(&server, (w, to_hooks), at(TimeDelta::zero()), ("general", "failed", 0, 4)).await;
    stored_run(&server, (w, to_hooks), at(TimeDelta::zero()), ("test", "success", 1, 0)).await;
    stored_run(&server, (w, to_table), at(TimeDelta::zero()), ("dry_run", "success", 0, 0)).await;
    // Five hours ago; three days ago; ten days ago (outside the week); another workspace.
    stored_run(&server, (w, to_table), at(TimeDelta::hours(5)), ("general", "success", 7, 0)).await;
    stored_run(&server, (w, to_hooks), day - TimeDelta::days(3), ("general", "canceled", 1, 0)).await;
    stored_run(&server, (w, to_table), day - TimeDelta::days(10), ("general", "success", 100, 0)).await;
    stored_run(&server, (w + 5, to_table), at(TimeDelta::zero()), ("general", "success", 1000, 0)).await;

    let report = |period, metric: Option<ReportMetric>, connectors: &[i64]| {
        let mut request = member.get_report().type_(ReportType::WorkspaceActivity).time_period(period);
        if let Some(metric) = metric {
            request = request.metric(metric);
        }
        if !connectors.is_empty() {
            request = request.connector_ids(connectors.iter().map(|id| (*id).into()).collect::<Vec<_>>());
        }
        request.send()
    };
    let daily = report(ReportTimePeriod::OneDay, None, &[]).await.unwrap().into_inner().data;
    let runs = daily.sync_run_triggered.expect("every metric by default");
    assert_eq!((runs.len(), runs[23].time_slice), (24, hour), "24 hourly slices ending with this one");
    assert_eq!(busy_slices(&runs), [(hour - TimeDelta::hours(5), 1, 1, 0), (hour, 3, 1, 2)]);
    let rows = daily.total_sync_run_rows.expect("every metric by default");
    assert_eq!(busy_slices(&rows), [(hour - TimeDelta::hours(5), 7, 7, 0), (hour, 19, 13, 6)]);

    let weekly = report(ReportTimePeriod::OneWeek, Some(ReportMetric::SyncRunTriggered), &[]).await.unwrap();
    let weekly = weekly.into_inner().data;
    assert!(weekly.total_sync_run_rows.is_none(), "only the metric asked for");
    let runs = weekly.sync_run_triggered.unwrap();
    assert_eq!((runs.len(), runs[6].time_slice), (7, day));
    let today = if hour - TimeDelta::hours(5) >= day { 4 } else { 3 };
    let mut expected = vec![(day - TimeDelta::days(3), 1, 0, 0)];
    if today == 3 {
        expected.push((day - TimeDelta::days(1), 1, 1, 0));
    }
    expected.push((day, today, today - 2, 2));
    assert_eq!(busy_slices(&runs), expected);

    // Only the syncs into the hooks.
    let hooks = report(ReportTimePeriod::OneDay, Some(ReportMetric::All), &[parts.http_destination]).await.unwrap();
    assert_eq!(busy_slices(&hooks.into_inner().data.sync_run_triggered.unwrap()), [(hour, 1, 0, 1)]);
    let body =
        serde_json::to_value(report(ReportTimePeriod::OneDay, None, &[parts.source]).await.unwrap().into_inner())
            .unwrap();
    squared_tests::published::assert_published_shape("/api/v1/reports", "get", 200, &body);

    // A viewer reads the report.
    let viewer = server.client(WORKSPACE, Role::Viewer);
    viewer.get_report().type_(ReportType::WorkspaceActivity).send().await.unwrap();
    server.stop().await;
    parts.fixture.drop().await;
}

async fn roles_describe_exactly_what_each_role_may_do(server: TestServer) {
    let listed = server.client(WORKSPACE, Role::Viewer).list_roles().send().await.unwrap().into_inner();
    let body = serde_json::to_value(&listed).unwrap();
    squared_tests::published::assert_published_shape("/enterprise/api/v1/roles", "get", 200, &body);
    let names: Vec<&str> = listed.data.iter().map(|r| r.attributes.role_name.as_str()).collect();
    assert_eq!(names, ["Admin", "Member", "Viewer"]);
    let member = server.client(WORKSPACE, Role::Member);
    let parts = parts(&member).await;
    let sync = create_sync(&member, sync_input(&parts)).await;
    for (role, listed) in [Role::Admin, Role::Member, Role::Viewer].into_iter().zip(&listed.data) {
        let client = server.client(WORKSPACE, role);
        let may = |resource: &str, action: &str| {
            let permission = &listed.attributes.policies.permissions[resource];
            match action {
                "read" => permission.read,
                "create" => permission.create,
                "update" => permission.update,
                _ => permission.delete,
            }
        };
        // Each call is refused for its permission (403) or fails further on (404, 422), so
        // nothing is changed; a 403 must come exactly where the role lists no permission.
        let unknown_definition = CreateConnectorRequest {
            connector: ConnectorInput {
                name: "refused either way".into(),
                description: None,
                connector_type: ConnectorType::Source,
                connector_name: "NoSuchDefinition".into(),
                configuration: Map::new(),
            },
        };
        let enable = EnableSyncRequest { enable: true };
        let tries = [
            ("connector", "create", expect_error(client.create_connector().body(unknown_definition).send().await)),
            ("connector", "delete", expect_error(client.delete_connector().id("999999").send().await)),
            ("model", "delete", expect_error(client.delete_model().id("999999").send().await)),
            ("sync", "delete", expect_error(client.delete_sync().sync_id("999999").send().await)),
            ("sync", "update", expect_error(client.enable_sync().sync_id("999999").body(enable).send().await)),
            ("sync_run", "create", expect_error(client.test_sync().sync_id("999999").send().await)),
            ("sync_run", "update", expect_error(client.cancel_sync_run().sync_id(&sync).send().await)),
        ];
        for (resource, action, (status, error)) in tries {
            assert_eq!(status == 403, !may(resource, action), "{role:?} {action} {resource}: {status} {error:?}");
        }
        assert!(may("sync_record", "read") && !may("sync_record", "delete"), "{role:?}");
    }
    server.stop().await;
    parts.fixture.drop().await;
}
