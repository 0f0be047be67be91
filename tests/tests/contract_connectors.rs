//! Contract tests of the Connectors API beyond create: list and its pages, show, update
//! (PUT and PATCH) with masked secrets, delete, workspaces and roles. Every test runs on
//! SQLite and on PostgreSQL, through the generated client.

use serde_json::{Value, json};
use squared_client::Client;
use squared_client::types::{
    ConnectorCategory, ConnectorInput, ConnectorListResponse, ConnectorSubCategory, ConnectorType, ConnectorUpdate,
    CreateConnectorRequest, ErrorResponse, QuerySourceRequest, UpdateConnectorRequest,
};
use squared_server::auth::Role;
use squared_server::catalog::Catalog;
use squared_server::secrets::{MASK, Vault};
use squared_tests::harness::{TEST_ENCRYPTION_KEY, TestServer, error_pointers, expect_error};
use squared_tests::on_every_engine;

const WORKSPACE: i64 = 11;

on_every_engine!(
    an_empty_list_has_one_empty_page,
    pages_hold_per_page_connectors_newest_first,
    a_page_past_the_last_is_empty_and_points_back,
    page_sizes_outside_1_to_100_are_refused,
    lists_filter_by_type_category_and_sub_category,
    show_update_and_patch_keep_masked_secrets,
    a_masked_secret_never_goes_to_a_new_destination,
    a_secret_never_moves_to_a_new_definition,
    updates_are_validated_again,
    delete_then_404,
    another_workspaces_connector_is_not_found,
    viewers_read_but_do_not_write,
);

fn http_destination(name: &str) -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type: ConnectorType::Destination,
            connector_name: "Http".into(),
            configuration: json!({"destination_url": "http://127.0.0.1:9/hook", "headers": {"X-Team": "data"}})
                .as_object()
                .cloned()
                .unwrap(),
        },
    }
}

fn postgres_source(name: &str, password: &str) -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: Some("warehouse replica".into()),
            connector_type: ConnectorType::Source,
            connector_name: "Postgresql".into(),
            configuration: json!({
                "data_type": "structured", "host": "db.internal", "port": "5432", "database": "analytics",
                "schema": "public",
                "credentials": {"auth_type": "username/password", "username": "reader", "password": password}
            })
            .as_object()
            .cloned()
            .unwrap(),
        },
    }
}

fn klaviyo(name: &str) -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type: ConnectorType::Destination,
            connector_name: "Klaviyo".into(),
            configuration: json!({"public_api_key": "pk-1", "private_api_key": "sk-secret-1"})
                .as_object()
                .cloned()
                .unwrap(),
        },
    }
}

async fn create(client: &Client, request: CreateConnectorRequest) -> String {
    client.create_connector().body(request).send().await.unwrap().into_inner().data.id
}

async fn page(client: &Client, page: u64, per_page: u64) -> ConnectorListResponse {
    client.list_connectors().page(page).per_page(per_page).send().await.unwrap().into_inner()
}

fn update(connector: ConnectorUpdate) -> UpdateConnectorRequest {
    UpdateConnectorRequest { connector }
}

fn no_change() -> ConnectorUpdate {
    ConnectorUpdate { name: None, description: None, connector_type: None, connector_name: None, configuration: None }
}

/// The stored configuration of a connector, decrypted with the test key.
async fn stored_configuration(server: &TestServer, id: &str) -> (String, Value) {
    let db = server.database().await;
    let (connector_type, connector_name, raw): (String, String, String) =
        sqlx::query_as("SELECT connector_type, connector_name, configuration FROM connectors WHERE id = $1")
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(&db)
            .await
            .unwrap();
    db.close().await;
    let connector_type = ConnectorType::ALL.into_iter().find(|t| t.as_str() == connector_type).unwrap();
    let catalog = Catalog::load().unwrap();
    let schema = catalog.find(connector_type, &connector_name).unwrap().schema().clone();
    let vault = Vault::new(&TEST_ENCRYPTION_KEY).unwrap();
    let opened = vault.open(&schema, &serde_json::from_str(&raw).unwrap(), WORKSPACE).unwrap();
    (raw, opened)
}

async fn an_empty_list_has_one_empty_page(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let list = client.list_connectors().send().await.unwrap().into_inner();
    assert!(list.data.is_empty());
    assert_eq!(list.links.self_, "/api/v1/connectors?page=1&per_page=10");
    assert_eq!(list.links.first, list.links.self_);
    assert_eq!(list.links.last, list.links.self_);
    assert_eq!((list.links.prev, list.links.next), (None, None));
    server.stop().await;
}

async fn pages_hold_per_page_connectors_newest_first(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(create(&client, http_destination(&format!("hook-{n:02}"))).await);
    }
    // Exactly one full page.
    let one = page(&client, 1, 10).await;
    assert_eq!(one.data.len(), 10);
    assert_eq!((one.links.prev.as_deref(), one.links.next.as_deref()), (None, None));
    assert_eq!(one.links.last, "/api/v1/connectors?page=1&per_page=10");
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(one.data.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), newest_first);

    // Three pages of four: 4, 4, 2; an update moves a connector to the front.
    let touched = &ids[0];
    client
        .patch_connector()
        .id(touched)
        .body(update(ConnectorUpdate { description: Some("touched".into()), ..no_change() }))
        .send()
        .await
        .unwrap();
    let first = page(&client, 1, 4).await;
    assert_eq!(first.data[0].id, *touched);
    assert_eq!(first.links.next.as_deref(), Some("/api/v1/connectors?page=2&per_page=4"));
    assert_eq!(first.links.last, "/api/v1/connectors?page=3&per_page=4");
    let second = page(&client, 2, 4).await;
    assert_eq!(second.links.prev.as_deref(), Some("/api/v1/connectors?page=1&per_page=4"));
    let third = page(&client, 3, 4).await;
    assert_eq!(third.data.len(), 2);
    assert_eq!(third.links.next, None);
    let mut seen: Vec<String> = [first.data, second.data, third.data].into_iter().flatten().map(|c| c.id).collect();
    seen.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(seen, all, "every connector exactly once across the pages");
    server.stop().await;
}

async fn a_page_past_the_last_is_empty_and_points_back(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    for n in 0..3 {
        create(&client, http_destination(&format!("hook-{n}"))).await;
    }
    let past = page(&client, 5, 2).await;
    assert!(past.data.is_empty());
    assert_eq!(past.links.self_, "/api/v1/connectors?page=5&per_page=2");
    assert_eq!(past.links.prev.as_deref(), Some("/api/v1/connectors?page=2&per_page=2"));
    assert_eq!(past.links.next, None);
    assert_eq!(past.links.last, "/api/v1/connectors?page=2&per_page=2");
    server.stop().await;
}

async fn page_sizes_outside_1_to_100_are_refused(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let (status, error) = expect_error(client.list_connectors().per_page(101u64).send().await);
    assert_eq!(status, 400);
    assert!(error.errors[0].detail.contains("`per_page` must be at most 100"), "{}", error.errors[0].detail);
    // The generated client cannot even express a zero (its type is NonZeroU64), so raw:
    for (query, parameter) in
        [("page=1&per_page=0", "`per_page` must be at least 1"), ("page=0&per_page=10", "`page` must be at least 1")]
    {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/connectors?{query}", server.base_url))
            .bearer_auth(server.token(WORKSPACE, Role::Member))
            .header("Workspace-Id", WORKSPACE)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let error: ErrorResponse = response.json().await.unwrap();
        assert!(error.errors[0].detail.contains(parameter), "{query}: {}", error.errors[0].detail);
    }
    assert_eq!(page(&client, 1, 100).await.data.len(), 0, "100 is allowed");
    // Values outside the spec's enums are refused too.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/connectors?category=Nonsense", server.base_url))
        .bearer_auth(server.token(WORKSPACE, Role::Member))
        .header("Workspace-Id", WORKSPACE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    server.stop().await;
}

async fn lists_filter_by_type_category_and_sub_category(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    create(&client, http_destination("hook")).await;
    create(&client, postgres_source("warehouse", "pw")).await;
    create(&client, klaviyo("mail")).await;
    let names = |list: ConnectorListResponse| list.data.into_iter().map(|c| c.attributes.name).collect::<Vec<_>>();
    let sources = client.list_connectors().type_(ConnectorType::Source).send().await.unwrap().into_inner();
    assert_eq!(names(sources), ["warehouse"]);
    let marketing = client.list_connectors().category(ConnectorCategory::MarketingAutomation).send().await.unwrap();
    assert_eq!(names(marketing.into_inner()), ["mail"]);
    let relational =
        client.list_connectors().sub_category(ConnectorSubCategory::RelationalDatabase).send().await.unwrap();
    assert_eq!(names(relational.into_inner()), ["warehouse"]);
    let none = client
        .list_connectors()
        .type_(ConnectorType::Destination)
        .sub_category(ConnectorSubCategory::RelationalDatabase)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(none.data.is_empty());
    assert!(none.links.self_.contains("type=destination&sub_category=Relational%20Database"), "{}", none.links.self_);
    server.stop().await;
}

async fn show_update_and_patch_keep_masked_secrets(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let id = create(&client, postgres_source("warehouse", "first-password")).await;
    let shown = client.show_connector().id(&id).send().await.unwrap().into_inner().data;
    assert_eq!(shown.attributes.configuration["credentials"]["password"], MASK);
    assert_eq!(shown.attributes.description.as_deref(), Some("warehouse replica"));

    // PUT the shown configuration back, masked secret and all, with another schema (which
    // does not change where the secret goes).
    let mut configuration = shown.attributes.configuration.clone();
    configuration["schema"] = json!("reporting");
    let updated = client
        .update_connector()
        .id(&id)
        .body(update(ConnectorUpdate { configuration: Some(configuration), ..no_change() }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(updated.attributes.configuration["schema"], "reporting");
    assert_eq!(updated.attributes.configuration["credentials"]["password"], MASK);
    assert!(updated.attributes.updated_at > shown.attributes.updated_at);
    assert_eq!(updated.attributes.created_at, shown.attributes.created_at);
    let (raw, opened) = stored_configuration(&server, &id).await;
    assert_eq!(opened["credentials"]["password"], "first-password", "the masked secret kept its value");
    assert_eq!(opened["schema"], "reporting");
    assert!(!raw.contains("first-password") && !raw.contains(MASK), "{raw}");

    // PATCH a new secret and a new name; the other fields stay.
    let mut configuration = updated.attributes.configuration.clone();
    configuration["credentials"]["password"] = json!("second-password");
    let patched = client
        .patch_connector()
        .id(&id)
        .body(update(ConnectorUpdate {
            name: Some("warehouse-2".into()),
            configuration: Some(configuration),
            ..no_change()
        }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(patched.attributes.name, "warehouse-2");
    assert_eq!(patched.attributes.description.as_deref(), Some("warehouse replica"));
    let (raw, opened) = stored_configuration(&server, &id).await;
    assert_eq!(opened["credentials"]["password"], "second-password");
    assert!(!raw.contains("second-password"));
    server.stop().await;
}

async fn a_masked_secret_never_goes_to_a_new_destination(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let id = create(&client, postgres_source("warehouse", "owners-password")).await;
    let shown = client.show_connector().id(&id).send().await.unwrap().into_inner().data.attributes.configuration;
    let before = stored_configuration(&server, &id).await.0;
    // Every field that decides where the password goes: with the mask, each change is refused
    // at the password's pointer, naming the field; nothing is written.
    for (pointer, value) in [
        ("/host", json!("attacker.example")),
        ("/port", json!("6543")),
        ("/database", json!("other")),
        ("/credentials/username", json!("someone-else")),
    ] {
        let mut whole = Value::Object(shown.clone());
        *whole.pointer_mut(pointer).unwrap() = value;
        let configuration = whole.as_object().cloned().unwrap();
        for patch in [false, true] {
            let body = update(ConnectorUpdate { configuration: Some(configuration.clone()), ..no_change() });
            let sent = match patch {
                false => client.update_connector().id(&id).body(body).send().await,
                true => client.patch_connector().id(&id).body(body).send().await,
            };
            let (status, error) = expect_error(sent);
            assert_eq!(status, 422, "{pointer}");
            assert_eq!(error_pointers(&error), ["/connector/configuration/credentials/password"], "{pointer}");
            assert!(error.errors[0].detail.contains(&format!("`{pointer}`")), "{}", error.errors[0].detail);
        }
    }
    assert_eq!(stored_configuration(&server, &id).await.0, before, "nothing was written");
    // Sent again, the secret may go to the new host.
    let mut configuration = shown.clone();
    configuration["host"] = json!("db2.internal");
    configuration["credentials"]["password"] = json!("a-new-password");
    client
        .update_connector()
        .id(&id)
        .body(update(ConnectorUpdate { configuration: Some(configuration), ..no_change() }))
        .send()
        .await
        .unwrap();
    let opened = stored_configuration(&server, &id).await.1;
    assert_eq!(
        (opened["host"].as_str(), opened["credentials"]["password"].as_str()),
        (Some("db2.internal"), Some("a-new-password"))
    );

    // A URL-based destination: its headers are secret; the URL's scheme, host and port decide
    // where they go, its path does not.
    let hook = create(&client, http_destination("hook")).await;
    let shown = client.show_connector().id(&hook).send().await.unwrap().into_inner().data.attributes.configuration;
    assert_eq!(shown["headers"]["X-Team"], MASK, "header values are secret");
    for url in [
        "https://127.0.0.1:9/hook",
        "http://127.0.0.2:9/hook",
        "http://127.0.0.1:10/hook",
        "http://attacker.example:9/hook",
    ] {
        let mut configuration = shown.clone();
        configuration["destination_url"] = json!(url);
        let (status, error) = expect_error(
            client
                .patch_connector()
                .id(&hook)
                .body(update(ConnectorUpdate { configuration: Some(configuration), ..no_change() }))
                .send()
                .await,
        );
        assert_eq!(
            (status, error_pointers(&error)),
            (422, vec!["/connector/configuration/headers/X-Team".to_owned()]),
            "{url}"
        );
    }
    let mut configuration = shown.clone();
    configuration["destination_url"] = json!("http://127.0.0.1:9/another/path?x=1");
    client
        .patch_connector()
        .id(&hook)
        .body(update(ConnectorUpdate { configuration: Some(configuration), ..no_change() }))
        .send()
        .await
        .unwrap();
    let opened = stored_configuration(&server, &hook).await.1;
    assert_eq!(opened["headers"]["X-Team"], "data", "the same origin keeps the secret");
    server.stop().await;
}

async fn a_secret_never_moves_to_a_new_definition(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let id = create(&client, postgres_source("warehouse", "owners-password")).await;
    let before = stored_configuration(&server, &id).await.0;
    // A new definition without a configuration: the old one (and its secret) does not carry over.
    for change in [
        ConnectorUpdate { connector_name: Some("MariaDB".into()), ..no_change() },
        ConnectorUpdate {
            connector_type: Some(ConnectorType::Destination),
            connector_name: Some("Postgresql".into()),
            ..no_change()
        },
    ] {
        let sent = client.patch_connector().id(&id).body(update(change)).send().await;
        let text = format!("{sent:?}");
        let (status, error) = expect_error(sent);
        assert_eq!((status, error_pointers(&error)), (422, vec!["/connector/configuration".to_owned()]));
        assert!(!text.contains("owners-password"), "{text}");
    }
    // A definition that accepts anything (AmazonS3 source) still does not get the stored secret.
    let (status, error) = expect_error(
        client
            .patch_connector()
            .id(&id)
            .body(update(ConnectorUpdate { connector_name: Some("AmazonS3".into()), ..no_change() }))
            .send()
            .await,
    );
    assert_eq!((status, error_pointers(&error)), (422, vec!["/connector/configuration".to_owned()]));
    // With a configuration whose secret is the mask: refused at the secret.
    let mariadb =
        json!({"host": "db.internal", "port": "3306", "database": "analytics", "username": "reader", "password": MASK});
    let (status, error) = expect_error(
        client
            .patch_connector()
            .id(&id)
            .body(update(ConnectorUpdate {
                connector_name: Some("MariaDB".into()),
                configuration: Some(mariadb.as_object().cloned().unwrap()),
                ..no_change()
            }))
            .send()
            .await,
    );
    assert_eq!((status, error_pointers(&error)), (422, vec!["/connector/configuration/password".to_owned()]));
    assert_eq!(stored_configuration(&server, &id).await.0, before, "nothing was written");
    // With the secret sent again, the definition may change; it is sealed as the new one's.
    let mut mariadb = mariadb;
    mariadb["password"] = json!("mariadb-password");
    let changed = client
        .patch_connector()
        .id(&id)
        .body(update(ConnectorUpdate {
            connector_name: Some("MariaDB".into()),
            configuration: Some(mariadb.as_object().cloned().unwrap()),
            ..no_change()
        }))
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(changed.attributes.configuration["password"], MASK);
    let (raw, opened) = stored_configuration(&server, &id).await;
    assert_eq!(opened["password"], "mariadb-password");
    assert!(!raw.contains("mariadb-password") && !raw.contains("owners-password"), "{raw}");
    server.stop().await;
}

async fn updates_are_validated_again(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let id = create(&client, postgres_source("warehouse", "pw")).await;
    create(&client, postgres_source("other", "pw")).await;
    let cases: Vec<(&str, ConnectorUpdate, &str)> = vec![
        ("duplicate name", ConnectorUpdate { name: Some("other".into()), ..no_change() }, "/connector/name"),
        (
            "unknown definition",
            ConnectorUpdate { connector_name: Some("Nope".into()), ..no_change() },
            "/connector/connector_name",
        ),
        (
            "a new definition without a configuration",
            ConnectorUpdate { connector_name: Some("MariaDB".into()), ..no_change() },
            "/connector/configuration",
        ),
        (
            "an invalid configuration",
            ConnectorUpdate { configuration: Some(json!({"host": 1}).as_object().cloned().unwrap()), ..no_change() },
            "/connector/configuration/database",
        ),
        (
            "a mask with nothing to keep",
            ConnectorUpdate {
                connector_type: Some(ConnectorType::Destination),
                connector_name: Some("Klaviyo".into()),
                configuration: Some(
                    json!({"public_api_key": MASK, "private_api_key": "k"}).as_object().cloned().unwrap(),
                ),
                ..no_change()
            },
            "/connector/configuration/public_api_key",
        ),
    ];
    let before = stored_configuration(&server, &id).await.0;
    // The spec says a name has at least one character: the generated type refuses less (400).
    let (status, error) = expect_error(
        client
            .update_connector()
            .id(&id)
            .body(update(ConnectorUpdate { name: Some("".into()), ..no_change() }))
            .send()
            .await,
    );
    assert_eq!(status, 400);
    assert!(error.errors[0].detail.contains("`name` must not be empty"), "{}", error.errors[0].detail);
    for (case, change, pointer) in cases {
        let (status, error) = expect_error(client.update_connector().id(&id).body(update(change)).send().await);
        assert_eq!(status, 422, "{case}");
        let pointers: Vec<_> =
            error.errors.iter().filter_map(|e| e.source.as_ref().and_then(|s| s.pointer.clone())).collect();
        assert!(pointers.iter().any(|p| p == pointer), "{case}: {pointers:?}");
    }
    assert_eq!(stored_configuration(&server, &id).await.0, before, "nothing was written");
    let shown = client.show_connector().id(&id).send().await.unwrap().into_inner().data;
    assert_eq!(shown.attributes.name, "warehouse");
    server.stop().await;
}

async fn delete_then_404(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let id = create(&client, http_destination("hook")).await;
    let deleted = client.delete_connector().id(&id).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(expect_error(client.show_connector().id(&id).send().await).0, 404);
    assert_eq!(expect_error(client.delete_connector().id(&id).send().await).0, 404);
    assert_eq!(expect_error(client.patch_connector().id(&id).body(update(no_change())).send().await).0, 404);
    assert_eq!(expect_error(client.show_connector().id("not-a-number").send().await).0, 404);
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn another_workspaces_connector_is_not_found(server: TestServer) {
    let owner = server.client(WORKSPACE, Role::Member);
    let id = create(&owner, postgres_source("warehouse", "pw")).await;
    let stranger = server.client(WORKSPACE + 1, Role::Member);
    let (status, error) = expect_error(stranger.show_connector().id(&id).send().await);
    assert_eq!(status, 404);
    assert_eq!(error.errors[0].detail, format!("there is no connector {id} in workspace {}", WORKSPACE + 1));
    assert_eq!(expect_error(stranger.update_connector().id(&id).body(update(no_change())).send().await).0, 404);
    assert_eq!(expect_error(stranger.delete_connector().id(&id).send().await).0, 404);
    assert_eq!(expect_error(stranger.discover_connector().id(&id).send().await).0, 404);
    let query = QuerySourceRequest { query: "SELECT 1".into(), limit: 1 };
    assert_eq!(expect_error(stranger.query_source().id(&id).body(query).send().await).0, 404);
    assert!(stranger.list_connectors().send().await.unwrap().into_inner().data.is_empty());
    assert_eq!(owner.show_connector().id(&id).send().await.unwrap().into_inner().data.id, id);
    server.stop().await;
}

async fn viewers_read_but_do_not_write(server: TestServer) {
    let member = server.client(WORKSPACE, Role::Member);
    let id = create(&member, http_destination("hook")).await;
    let viewer = server.client(WORKSPACE, Role::Viewer);
    assert_eq!(viewer.list_connectors().send().await.unwrap().into_inner().data.len(), 1);
    assert_eq!(viewer.show_connector().id(&id).send().await.unwrap().into_inner().data.id, id);
    assert_eq!(expect_error(viewer.create_connector().body(http_destination("x")).send().await).0, 403);
    assert_eq!(expect_error(viewer.update_connector().id(&id).body(update(no_change())).send().await).0, 403);
    assert_eq!(expect_error(viewer.patch_connector().id(&id).body(update(no_change())).send().await).0, 403);
    assert_eq!(expect_error(viewer.delete_connector().id(&id).send().await).0, 403);
    let check = squared_client::types::CheckConnectionRequest {
        type_: ConnectorType::Destination,
        name: "Http".into(),
        connection_spec: json!({"destination_url": "http://127.0.0.1:9/"}).as_object().cloned().unwrap(),
    };
    assert_eq!(expect_error(viewer.check_connection().body(check).send().await).0, 403);
    // A query runs the caller's SQL with the owner's credentials: members only.
    let query = QuerySourceRequest { query: "SELECT 1".into(), limit: 5 };
    assert_eq!(expect_error(viewer.query_source().id(&id).body(query.clone()).send().await).0, 403);
    // A destination cannot be queried.
    let (status, error) = expect_error(member.query_source().id(&id).body(query).send().await);
    assert_eq!(status, 422);
    assert!(error.errors[0].detail.contains("destination"), "{}", error.errors[0].detail);
    assert_eq!(server.connector_count().await, 1);
    server.stop().await;
}
