//! Contract tests of the Models API: create, list (filters, pages), show, PUT and PATCH,
//! delete, and each rule of a model, through the generated client, on SQLite and on
//! PostgreSQL. Queries checked against real sources are in `contract_runtimes.rs`.

use serde_json::json;
use squared_client::Client;
use squared_client::types::{
    ConnectorInput, ConnectorType, CreateConnectorRequest, CreateModelRequest, ModelInput, ModelQueryType, ModelUpdate,
    UpdateModelRequest,
};
use squared_server::auth::Role;
use squared_tests::harness::{TestServer, error_pointers, expect_error};
use squared_tests::on_every_engine;

const WORKSPACE: i64 = 31;

on_every_engine!(
    a_model_is_created_shown_listed_updated_and_deleted,
    the_rules_of_a_model_answer_422_at_their_pointer,
    lists_filter_by_query_type_and_page,
    a_connector_that_a_model_reads_cannot_be_deleted,
    viewers_read_models_and_other_workspaces_see_none,
    a_sql_model_on_a_source_the_egress_policy_refuses_is_refused,
);

async fn connector(client: &Client, connector_type: ConnectorType, name: &str) -> i64 {
    let (connector_name, configuration) = match connector_type {
        // A source this server cannot query: its queries are stored unchecked.
        ConnectorType::Source => (
            "Snowflake",
            json!({"host": "acme.snowflakecomputing.com", "role": "r", "warehouse": "w", "database": "d",
                   "credentials": {"auth_type": "username/password", "username": "u", "password": "p"}}),
        ),
        ConnectorType::Destination => ("Http", json!({"destination_url": "https://hooks.example.com/in"})),
    };
    let request = CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type,
            connector_name: connector_name.into(),
            configuration: configuration.as_object().cloned().unwrap(),
        },
    };
    client.create_connector().body(request).send().await.unwrap().into_inner().data.id.parse().unwrap()
}

fn model(connector_id: i64, name: &str, query_type: ModelQueryType) -> ModelInput {
    ModelInput {
        name: name.into(),
        description: Some("paid orders".into()),
        connector_id,
        query: Some("SELECT id, amount FROM orders WHERE paid".into()),
        query_type,
        primary_key: Some("id".into()),
        configuration: Some(json!({"refresh": "daily"}).as_object().cloned().unwrap()),
    }
}

async fn create(client: &Client, input: ModelInput) -> String {
    let created = client.create_model().body(CreateModelRequest { model: input }).send().await.unwrap();
    assert_eq!(created.status().as_u16(), 201);
    created.into_inner().data.id
}

fn no_change() -> ModelUpdate {
    ModelUpdate {
        name: None,
        description: None,
        connector_id: None,
        query: None,
        query_type: None,
        primary_key: None,
        configuration: None,
    }
}

fn update(model: ModelUpdate) -> UpdateModelRequest {
    UpdateModelRequest { model }
}

async fn a_model_is_created_shown_listed_updated_and_deleted(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let source = connector(&client, ConnectorType::Source, "warehouse").await;
    let created = client
        .create_model()
        .body(CreateModelRequest { model: model(source, "orders", ModelQueryType::RawSql) })
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(created.type_, "models");
    let attributes = &created.attributes;
    assert_eq!(
        (attributes.name.as_str(), attributes.connector_id, attributes.workspace_id, attributes.query_type),
        ("orders", source, WORKSPACE, ModelQueryType::RawSql)
    );
    assert_eq!(attributes.primary_key.as_deref(), Some("id"));
    assert_eq!(attributes.configuration["refresh"], "daily");
    assert_eq!(attributes.columns, None, "a Snowflake query is stored unchecked");
    let shown = client.show_model().id(&created.id).send().await.unwrap().into_inner().data;
    assert_eq!(shown, created);

    // PUT changes what it names and keeps the rest; PATCH does the same.
    let updated = client
        .update_model()
        .id(&created.id)
        .body(update(ModelUpdate { name: Some("orders v2".into()), ..no_change() }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(updated.attributes.name, "orders v2");
    assert_eq!(updated.attributes.query, created.attributes.query);
    assert!(updated.attributes.updated_at > created.attributes.updated_at);
    let patched = client
        .patch_model()
        .id(&created.id)
        .body(update(ModelUpdate {
            query: Some("SELECT id FROM orders".into()),
            primary_key: Some("id".into()),
            ..no_change()
        }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(patched.attributes.query.as_deref(), Some("SELECT id FROM orders"));
    assert_eq!(patched.attributes.name, "orders v2");

    let deleted = client.delete_model().id(&created.id).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(expect_error(client.show_model().id(&created.id).send().await).0, 404);
    assert_eq!(expect_error(client.delete_model().id(&created.id).send().await).0, 404);
    assert_eq!(expect_error(client.show_model().id("not-a-number").send().await).0, 404);
    server.stop().await;
}

async fn the_rules_of_a_model_answer_422_at_their_pointer(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let source = connector(&client, ConnectorType::Source, "warehouse").await;
    let destination = connector(&client, ConnectorType::Destination, "hooks").await;
    let elsewhere = connector(&server.client(WORKSPACE + 1, Role::Member), ConnectorType::Source, "theirs").await;
    let cases: Vec<(&str, ModelInput, &str)> = vec![
        ("a connector that does not exist", model(999_999, "m", ModelQueryType::RawSql), "/model/connector_id"),
        ("another workspace's connector", model(elsewhere, "m", ModelQueryType::RawSql), "/model/connector_id"),
        ("a destination", model(destination, "m", ModelQueryType::RawSql), "/model/connector_id"),
        (
            "no primary key",
            ModelInput { primary_key: None, ..model(source, "m", ModelQueryType::RawSql) },
            "/model/primary_key",
        ),
        (
            "no query for raw_sql",
            ModelInput { query: None, ..model(source, "m", ModelQueryType::RawSql) },
            "/model/query",
        ),
        ("no query for dbt", ModelInput { query: None, ..model(source, "m", ModelQueryType::Dbt) }, "/model/query"),
        ("no query for soql", ModelInput { query: None, ..model(source, "m", ModelQueryType::Soql) }, "/model/query"),
        (
            "a blank query for table_selector",
            ModelInput { query: Some("  ".into()), ..model(source, "m", ModelQueryType::TableSelector) },
            "/model/query",
        ),
        (
            "a query ending in LIMIT",
            ModelInput {
                query: Some("SELECT * FROM orders LIMIT 10".into()),
                ..model(source, "m", ModelQueryType::RawSql)
            },
            "/model/query",
        ),
        (
            "a query ending in OFFSET",
            ModelInput {
                query: Some("SELECT * FROM orders ORDER BY id OFFSET 5;".into()),
                ..model(source, "m", ModelQueryType::RawSql)
            },
            "/model/query",
        ),
    ];
    for (case, input, pointer) in cases {
        let (status, error) =
            expect_error(client.create_model().body(CreateModelRequest { model: input }).send().await);
        assert_eq!(status, 422, "{case}");
        assert!(error_pointers(&error).iter().any(|p| p == pointer), "{case}: {:?}", error.errors);
    }
    // Kinds that need no query, or no primary key, are stored as given.
    let unstructured =
        ModelInput { primary_key: None, query: None, ..model(source, "docs", ModelQueryType::Unstructured) };
    create(&client, unstructured).await;
    create(&client, ModelInput { query: None, ..model(source, "vectors", ModelQueryType::VectorSearch) }).await;
    // An update is held to the same rules, and writes nothing when it breaks one.
    let id = create(&client, model(source, "orders", ModelQueryType::RawSql)).await;
    let before = client.show_model().id(&id).send().await.unwrap().into_inner().data;
    for (change, pointer) in [
        (ModelUpdate { connector_id: Some(destination), ..no_change() }, "/model/connector_id"),
        (ModelUpdate { query: Some("SELECT 1 LIMIT 1".into()), ..no_change() }, "/model/query"),
        (ModelUpdate { query: Some("".into()), ..no_change() }, "/model/query"),
    ] {
        let (status, error) = expect_error(client.patch_model().id(&id).body(update(change)).send().await);
        assert_eq!((status, error_pointers(&error)), (422, vec![pointer.to_owned()]));
    }
    assert_eq!(client.show_model().id(&id).send().await.unwrap().into_inner().data, before);
    // A name is at least one character: the generated types refuse less (400).
    let (status, _) = expect_error(
        client
            .create_model()
            .body(CreateModelRequest { model: model(source, "", ModelQueryType::RawSql) })
            .send()
            .await,
    );
    assert_eq!(status, 400);
    server.stop().await;
}

async fn lists_filter_by_query_type_and_page(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let source = connector(&client, ConnectorType::Source, "warehouse").await;
    for index in 0..5 {
        create(&client, model(source, &format!("sql-{index}"), ModelQueryType::RawSql)).await;
    }
    create(&client, model(source, "dbt-0", ModelQueryType::Dbt)).await;
    create(&client, model(source, "table-0", ModelQueryType::TableSelector)).await;
    let names = |list: squared_client::types::ModelListResponse| {
        list.data.into_iter().map(|m| m.attributes.name).collect::<Vec<_>>()
    };
    let all = client.list_models().send().await.unwrap().into_inner();
    assert_eq!(all.data.len(), 7);
    assert_eq!(names(all)[0], "table-0", "newest first");
    let filtered = client.list_models().query_type("dbt,table_selector").send().await.unwrap().into_inner();
    assert_eq!(filtered.links.self_, "/api/v1/models?query_type=dbt%2Ctable_selector&page=1&per_page=10");
    assert_eq!(names(filtered), ["table-0", "dbt-0"]);
    let page = client.list_models().query_type("raw_sql").per_page(2).page(3).send().await.unwrap().into_inner();
    assert_eq!(names(page.clone()), ["sql-0"]);
    assert_eq!(page.links.prev.as_deref(), Some("/api/v1/models?query_type=raw_sql&page=2&per_page=2"));
    assert_eq!(page.links.next, None);
    assert_eq!(page.links.last, "/api/v1/models?query_type=raw_sql&page=3&per_page=2");
    let (status, error) = expect_error(client.list_models().query_type("raw_sql,nonsense").send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("unknown query type"), "{}", error.errors[0].detail);
    let (status, _) = expect_error(client.list_models().per_page(101).send().await);
    assert_eq!(status, 400);
    server.stop().await;
}

async fn a_connector_that_a_model_reads_cannot_be_deleted(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let source = connector(&client, ConnectorType::Source, "warehouse").await;
    let id = create(&client, model(source, "orders", ModelQueryType::RawSql)).await;
    let (status, error) = expect_error(client.delete_connector().id(source.to_string()).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains(&format!("{id} (orders)")), "{}", error.errors[0].detail);
    assert_eq!(client.show_connector().id(source.to_string()).send().await.unwrap().status().as_u16(), 200);
    client.delete_model().id(&id).send().await.unwrap();
    assert_eq!(client.delete_connector().id(source.to_string()).send().await.unwrap().status().as_u16(), 204);
    server.stop().await;
}

async fn viewers_read_models_and_other_workspaces_see_none(server: TestServer) {
    let member = server.client(WORKSPACE, Role::Member);
    let source = connector(&member, ConnectorType::Source, "warehouse").await;
    let id = create(&member, model(source, "orders", ModelQueryType::RawSql)).await;
    let viewer = server.client(WORKSPACE, Role::Viewer);
    assert_eq!(viewer.list_models().send().await.unwrap().into_inner().data.len(), 1);
    assert_eq!(viewer.show_model().id(&id).send().await.unwrap().into_inner().data.id, id);
    let create_request = CreateModelRequest { model: model(source, "mine", ModelQueryType::RawSql) };
    assert_eq!(expect_error(viewer.create_model().body(create_request).send().await).0, 403);
    assert_eq!(expect_error(viewer.update_model().id(&id).body(update(no_change())).send().await).0, 403);
    assert_eq!(expect_error(viewer.patch_model().id(&id).body(update(no_change())).send().await).0, 403);
    assert_eq!(expect_error(viewer.delete_model().id(&id).send().await).0, 403);

    let stranger = server.client(WORKSPACE + 1, Role::Member);
    let (status, error) = expect_error(stranger.show_model().id(&id).send().await);
    assert_eq!(status, 404);
    assert_eq!(error.errors[0].detail, format!("there is no model {id} in workspace {}", WORKSPACE + 1));
    assert_eq!(expect_error(stranger.update_model().id(&id).body(update(no_change())).send().await).0, 404);
    assert_eq!(expect_error(stranger.delete_model().id(&id).send().await).0, 404);
    assert!(stranger.list_models().send().await.unwrap().into_inner().data.is_empty());
    assert_eq!(member.show_model().id(&id).send().await.unwrap().into_inner().data.id, id);
    server.stop().await;
}

async fn a_sql_model_on_a_source_the_egress_policy_refuses_is_refused(server: TestServer) {
    // A PostgreSQL source on this machine, which the default policy does not allow: its query
    // cannot be checked, so the model is refused, and nothing is dialled.
    let client = server.client(WORKSPACE, Role::Member);
    let request = CreateConnectorRequest {
        connector: ConnectorInput {
            name: "local".into(),
            description: None,
            connector_type: ConnectorType::Source,
            connector_name: "Postgresql".into(),
            configuration: json!({"data_type": "structured", "host": "127.0.0.1", "port": "5432", "database": "test",
                                  "schema": "public", "credentials": {"auth_type": "username/password",
                                  "username": "postgres", "password": "pw"}})
            .as_object()
            .cloned()
            .unwrap(),
        },
    };
    let source: i64 =
        client.create_connector().body(request).send().await.unwrap().into_inner().data.id.parse().unwrap();
    let (status, error) = expect_error(
        client
            .create_model()
            .body(CreateModelRequest { model: model(source, "m", ModelQueryType::RawSql) })
            .send()
            .await,
    );
    assert_eq!((status, error_pointers(&error)), (422, vec!["/model/query".to_owned()]));
    assert!(error.errors[0].detail.contains("--allow-network"), "{}", error.errors[0].detail);
    // A kind this server does not run is stored without asking the source.
    create(&client, model(source, "dbt", ModelQueryType::Dbt)).await;
    server.stop().await;
}
