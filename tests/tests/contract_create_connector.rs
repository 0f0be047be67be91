//! Contract tests of Create Connector and the connector definitions, through the generated
//! client against a real server. After every request the database is read to prove what was
//! stored, or that nothing was.

use chrono::Utc;
use serde_json::{Value, json};
use squared_client::Credentials;
use squared_client::types::{
    ConnectorDefinitionCategoryFilter, ConnectorInput, ConnectorType, CreateConnectorRequest, ErrorResponse,
};
use squared_server::auth::Role;
use squared_server::secrets::key_id;
use squared_tests::harness::{TEST_ENCRYPTION_KEY, TestServer, claims, expect_error, foreign_token, unsigned_token};
use squared_tests::on_every_engine;

const WORKSPACE: i64 = 7;

on_every_engine!(
    methods_a_path_does_not_serve_get_405_with_its_allow_header,
    create_answers_201_in_the_seed_shape_and_stores_the_connector,
    bad_tokens_get_401_and_store_nothing,
    foreign_workspaces_and_viewers_get_403,
    unknown_connector_names_get_422,
    each_kind_of_schema_violation_gets_422_with_its_pointer,
    a_duplicate_name_and_type_gets_422_and_stores_nothing_more,
    unreadable_requests_get_the_one_error_shape_with_where_and_why,
    definitions_are_listed_filtered_and_shown,
);

fn postgres_configuration() -> Value {
    json!({
        "data_type": "structured",
        "host": "db.internal",
        "port": "5432",
        "database": "analytics",
        "schema": "public",
        "credentials": {"auth_type": "username/password", "username": "reader", "password": "hunter2-secret"}
    })
}

fn request(
    name: &str,
    connector_type: ConnectorType,
    connector_name: &str,
    configuration: Value,
) -> CreateConnectorRequest {
    CreateConnectorRequest {
        connector: ConnectorInput {
            name: name.into(),
            description: None,
            connector_type,
            connector_name: connector_name.into(),
            configuration: configuration.as_object().cloned().expect("an object"),
        },
    }
}

fn postgres(name: &str) -> CreateConnectorRequest {
    request(name, ConnectorType::Source, "Postgresql", postgres_configuration())
}

/// The error body and status of a failed call, or a panic if it did not fail as the spec says.
fn pointers(body: &ErrorResponse) -> Vec<String> {
    body.errors.iter().map(|e| e.source.as_ref().and_then(|s| s.pointer.clone()).unwrap_or_default()).collect()
}

async fn create_answers_201_in_the_seed_shape_and_stores_the_connector(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let before = Utc::now();
    let mut body = postgres("warehouse");
    body.connector.description = Some("the analytics replica".into());

    let response = client.create_connector().body(body).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let data = response.into_inner().data;
    let attributes = &data.attributes;
    assert!(data.id.parse::<i64>().is_ok(), "id is a numeric string: {:?}", data.id);
    assert_eq!(data.type_, "connectors");
    assert_eq!(attributes.name, "warehouse");
    assert_eq!(attributes.description.as_deref(), Some("the analytics replica"));
    assert_eq!(attributes.connector_type, "source");
    assert_eq!(attributes.workspace_id, WORKSPACE);
    assert_eq!(attributes.connector_name, "Postgresql");
    assert_eq!(
        attributes.icon,
        "https://raw.githubusercontent.com/Multiwoven/multiwoven/main/integrations/lib/multiwoven/integrations/source/postgresql/icon.svg"
    );
    assert!(attributes.created_at >= before && attributes.created_at <= Utc::now());
    assert_eq!(attributes.created_at, attributes.updated_at);
    let mut masked = postgres_configuration();
    masked["credentials"]["password"] = json!("*************");
    assert_eq!(Value::Object(attributes.configuration.clone()), masked);

    // The wire format itself: RFC 3339 UTC timestamps, the seed's field names.
    let raw: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/connectors", server.base_url))
        .bearer_auth(server.token(WORKSPACE, Role::Member))
        .header("Workspace-Id", WORKSPACE)
        .json(&json!({"connector": {"name": "second", "connector_type": "source",
                                    "connector_name": "Postgresql", "configuration": postgres_configuration()}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created_at = raw["data"]["attributes"]["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(created_at).is_ok(), "{created_at}");
    let mut keys: Vec<&str> = raw["data"]["attributes"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "configuration",
            "connector_name",
            "connector_type",
            "created_at",
            "description",
            "icon",
            "name",
            "updated_at",
            "workspace_id"
        ]
    );
    assert!(!raw.to_string().contains("hunter2-secret"));

    // Stored: the row is there, complete, in the caller's workspace.
    let db = server.database().await;
    let row: (i64, String, Option<String>, String, String, String) = sqlx::query_as(
        "SELECT workspace_id, name, description, connector_type, connector_name, configuration FROM connectors WHERE id = $1",
    )
    .bind(data.id.parse::<i64>().unwrap())
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (row.0, row.1.as_str(), row.2.as_deref(), row.3.as_str(), row.4.as_str()),
        (WORKSPACE, "warehouse", Some("the analytics replica"), "source", "Postgresql")
    );
    let stored: Value = serde_json::from_str(&row.5).unwrap();
    assert_eq!(stored["host"], "db.internal");
    // The secret is sealed at rest: the raw row does not hold it, nor the mask.
    assert!(!row.5.contains("hunter2-secret") && !row.5.contains("*****"), "{}", row.5);
    // Sealed under the server's key, whose id it names.
    let sealed_prefix = format!("sealed:v2:{}:", key_id(&TEST_ENCRYPTION_KEY));
    assert!(stored["credentials"]["password"].as_str().unwrap().starts_with(&sealed_prefix), "{}", row.5);
    assert_eq!(server.connector_count().await, 2);
    server.stop().await;
}

async fn bad_tokens_get_401_and_store_nothing(server: TestServer) {
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("malformed token", Some("not-a-jwt".into())),
        ("expired token", Some(server.token_with_claims(&claims(WORKSPACE, Role::Member, -3600)))),
        ("wrongly signed token", Some(foreign_token(&claims(WORKSPACE, Role::Member, 3600)))),
        ("alg none", Some(unsigned_token(&claims(WORKSPACE, Role::Member, 3600)))),
    ];
    for (case, token) in cases {
        let client = server.client_with(Credentials::none().with_bearer_token(token).with_workspace(Some(WORKSPACE)));
        let (status, body) = expect_error(client.create_connector().body(postgres("x")).send().await);
        assert_eq!(status, 401, "{case}");
        assert_eq!(body.errors[0].status, 401, "{case}");
        assert_eq!(body.errors[0].title, "Unauthorized", "{case}");
        assert!(!body.errors[0].detail.is_empty(), "{case}");
        let (status, _) = expect_error(client.list_connector_definitions().type_(ConnectorType::Source).send().await);
        assert_eq!(status, 401, "{case}: reads need a token too");
    }
    // A scheme other than Bearer.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/connectors", server.base_url))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .header("Workspace-Id", WORKSPACE)
        .json(&postgres("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn foreign_workspaces_and_viewers_get_403(server: TestServer) {
    let foreign = server.client_with(Credentials::new(server.token(WORKSPACE, Role::Member), WORKSPACE + 1));
    let (status, body) = expect_error(foreign.create_connector().body(postgres("x")).send().await);
    assert_eq!(status, 403);
    assert!(body.errors[0].detail.contains(&(WORKSPACE + 1).to_string()), "{:?}", body.errors[0].detail);

    let viewer = server.client(WORKSPACE, Role::Viewer);
    let (status, body) = expect_error(viewer.create_connector().body(postgres("x")).send().await);
    assert_eq!(status, 403);
    assert!(body.errors[0].detail.contains("viewer"), "{:?}", body.errors[0].detail);
    // A viewer may still read the catalog.
    let definitions = viewer.list_connector_definitions().type_(ConnectorType::Destination).send().await.unwrap();
    assert_eq!(definitions.len(), 27);
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn unknown_connector_names_get_422(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    for (connector_type, name) in [
        (ConnectorType::Source, "NoSuchConnector"),
        (ConnectorType::Source, "postgresql"), // names are case-sensitive
        (ConnectorType::Source, "Klaviyo"),    // a destination only
    ] {
        let body = request("x", connector_type, name, json!({"anything": "at all"}));
        let (status, error) = expect_error(client.create_connector().body(body).send().await);
        assert_eq!(status, 422, "{name}");
        assert_eq!(pointers(&error), ["/connector/connector_name"], "{name}");
        assert!(error.errors[0].detail.contains(name), "{:?}", error.errors[0].detail);
    }
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn each_kind_of_schema_violation_gets_422_with_its_pointer(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut configuration = postgres_configuration();
        edit(&mut configuration);
        request("x", ConnectorType::Source, "Postgresql", configuration)
    };
    let cases: Vec<(&str, CreateConnectorRequest, Vec<&str>)> = vec![
        (
            "missing required field",
            with(&|c| {
                c.as_object_mut().unwrap().remove("host");
            }),
            vec!["/connector/configuration/host"],
        ),
        ("wrong type", with(&|c| c["port"] = json!(5432)), vec!["/connector/configuration/port"]),
        (
            "value outside the enum",
            with(&|c| c["data_type"] = json!("tabular")),
            vec!["/connector/configuration/data_type"],
        ),
        (
            "nested required field",
            with(&|c| {
                c["credentials"].as_object_mut().unwrap().remove("password");
            }),
            vec!["/connector/configuration/credentials/password"],
        ),
        (
            "several at once",
            with(&|c| {
                c["port"] = json!(true);
                c.as_object_mut().unwrap().remove("schema");
            }),
            vec!["/connector/configuration/port", "/connector/configuration/schema"],
        ),
        (
            "empty configuration",
            request("x", ConnectorType::Source, "Postgresql", json!({})),
            vec!["/connector/configuration"],
        ),
        (
            "blank name",
            request(" ", ConnectorType::Source, "Postgresql", postgres_configuration()),
            vec!["/connector/name"],
        ),
    ];
    for (case, body, expected) in cases {
        let (status, error) = expect_error(client.create_connector().body(body).send().await);
        assert_eq!(status, 422, "{case}");
        assert_eq!(pointers(&error), expected, "{case}");
        assert!(error.errors.iter().all(|e| e.status == 422 && !e.detail.is_empty()), "{case}");
    }
    // A secret of the wrong type is reported without its value.
    let body = with(&|c| c["credentials"]["password"] = json!(987654321));
    let (_, error) = expect_error(client.create_connector().body(body).send().await);
    assert_eq!(pointers(&error), ["/connector/configuration/credentials/password"]);
    assert!(!serde_json::to_string(&error).unwrap().contains("987654321"));
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn a_duplicate_name_and_type_gets_422_and_stores_nothing_more(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    client.create_connector().body(postgres("warehouse")).send().await.unwrap();
    let (status, error) = expect_error(client.create_connector().body(postgres("warehouse")).send().await);
    assert_eq!(status, 422);
    assert_eq!(error.errors[0].detail, "A connector with the same name already exists.");
    assert_eq!(pointers(&error), ["/connector/name"]);
    assert_eq!(server.connector_count().await, 1);

    // The same name is free for the other type, and in another workspace.
    let destination = request("warehouse", ConnectorType::Destination, "Postgresql", postgres_configuration());
    client.create_connector().body(destination).send().await.unwrap();
    server.client(WORKSPACE + 1, Role::Member).create_connector().body(postgres("warehouse")).send().await.unwrap();
    assert_eq!(server.connector_count().await, 3);
    server.stop().await;
}

async fn unreadable_requests_get_the_one_error_shape_with_where_and_why(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Member);
    // The generated client cannot send a broken body, so these go through its HTTP client.
    use squared_client::ClientInfo;
    let http = client.client();
    let url = format!("{}/api/v1/connectors", server.base_url);
    let token = server.token(WORKSPACE, Role::Member);
    // (case, request, status, words the detail holds, the pointer or header it names)
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str, Option<&str>)> = vec![
        (
            "malformed JSON",
            http.post(&url)
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE)
                .header("Content-Type", "application/json")
                .body("{\"connector\":"),
            400,
            "EOF while parsing",
            None,
        ),
        (
            "a missing field",
            http.post(&url)
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE)
                .json(&json!({"connector": {"name": "x"}})),
            400,
            "`connector_type` is required",
            Some("/connector/connector_type"),
        ),
        (
            "an unknown connector_type",
            http.post(&url).bearer_auth(&token).header("Workspace-Id", WORKSPACE).json(&json!({"connector": {
                "name": "x", "connector_type": "sink", "connector_name": "Postgresql", "configuration": {"a": 1}}})),
            400,
            "must be `source` or `destination`",
            Some("/connector/connector_type"),
        ),
        (
            "an array where the spec wants an object",
            http.post(&url)
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE)
                .json(&json!({"connector": ["x", "source", "Http", {}]})),
            400,
            "must be an object, not an array",
            Some("/connector"),
        ),
        (
            "null for an optional field that is not nullable",
            http.post(&url).bearer_auth(&token).header("Workspace-Id", WORKSPACE).json(&json!({"connector": {
                "name": "x", "description": null, "connector_type": "source", "connector_name": "Postgresql",
                "configuration": postgres_configuration()}})),
            400,
            "must be a string, not null",
            Some("/connector/description"),
        ),
        (
            "a Workspace-Id outside the spec's bounds",
            http.post(&url).bearer_auth(&token).header("Workspace-Id", 0).json(&postgres("x")),
            400,
            "`Workspace-Id` must be at least 1",
            None,
        ),
        (
            "the wrong content type",
            http.post(&url)
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE)
                .header("Content-Type", "text/plain")
                .body("{}"),
            415,
            "the body must be `application/json`",
            None,
        ),
        (
            "no Workspace-Id header",
            http.post(&url).bearer_auth(&token).json(&postgres("x")),
            400,
            "the `Workspace-Id` header is required",
            Some("Workspace-Id"),
        ),
        (
            "a body over the size limit",
            http.post(&url)
                .bearer_auth(&token)
                .header("Workspace-Id", WORKSPACE)
                .header("Content-Type", "application/json")
                .body(vec![b' '; squared_server::MAX_REQUEST_BODY_BYTES + 1]),
            413,
            "larger than the server reads",
            None,
        ),
    ];
    for (case, builder, status, expected, source) in cases {
        let response = builder.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{case}");
        let body: ErrorResponse = response.json().await.unwrap_or_else(|e| panic!("{case}: not the error shape: {e}"));
        assert_eq!(body.errors.len(), 1, "{case}");
        assert_eq!(body.errors[0].status, i64::from(status), "{case}");
        assert!(body.errors[0].detail.contains(expected), "{case}: {:?}", body.errors[0].detail);
        assert!(!body.errors[0].detail.contains("ConnectorInput"), "{case}: no Rust type names");
        if let Some(source) = source {
            let found = body.errors[0].source.as_ref().unwrap_or_else(|| panic!("{case}: no source"));
            let named = found.pointer.as_deref().or(found.header.as_deref()).or(found.parameter.as_deref());
            assert_eq!(named, Some(source), "{case}");
        }
    }
    assert_eq!(server.connector_count().await, 0);
    server.stop().await;
}

async fn definitions_are_listed_filtered_and_shown(server: TestServer) {
    let client = server.client(WORKSPACE, Role::Viewer);
    let sources = client.list_connector_definitions().type_(ConnectorType::Source).send().await.unwrap().into_inner();
    assert_eq!(sources.len(), 29);
    let names: Vec<&str> = sources.iter().map(|d| d.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ordered by name");
    assert!(sources.iter().all(|d| d.connector_type == "source"));

    let ai = client
        .list_connector_definitions()
        .type_(ConnectorType::Source)
        .category(ConnectorDefinitionCategoryFilter::AiMl)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!ai.is_empty() && ai.iter().all(|d| d.category == "AI Model"));
    let data = client
        .list_connector_definitions()
        .type_(ConnectorType::Source)
        .category(ConnectorDefinitionCategoryFilter::Data)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ai.len() + data.len(), 29);

    let postgres = client
        .show_connector_definition()
        .connector_name("Postgresql")
        .type_(ConnectorType::Source)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(postgres.title, "PostgreSQL");
    assert_eq!(postgres.connector_spec.connector_query_type.as_deref(), Some("raw_sql"));
    let specification = Value::Object(postgres.connector_spec.connection_specification);
    assert_eq!(specification["properties"]["credentials"]["properties"]["password"]["multiwoven_secret"], true);

    let (status, error) = expect_error(
        client.show_connector_definition().connector_name("Klaviyo").type_(ConnectorType::Source).send().await,
    );
    assert_eq!(status, 404);
    assert!(error.errors[0].detail.contains("Klaviyo"));

    // A filter value outside the enum is a 400, not an empty list.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/connector_definitions?type=sink", server.base_url))
        .bearer_auth(server.token(WORKSPACE, Role::Viewer))
        .header("Workspace-Id", WORKSPACE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    server.stop().await;
}

/// dropshot's router holds `GET …/{connector_name}` and `POST …/check_connection` as one
/// node; the server still answers each path's other methods with 405 and that path's `Allow`.
async fn methods_a_path_does_not_serve_get_405_with_its_allow_header(server: TestServer) {
    let http = reqwest::Client::new();
    let token = server.token(WORKSPACE, Role::Member);
    let base = format!("{}/api/v1/connector_definitions", server.base_url);
    for (method, path, allow) in [
        (reqwest::Method::OPTIONS, "check_connection", "POST"),
        (reqwest::Method::DELETE, "check_connection", "POST"),
        (reqwest::Method::PUT, "Postgresql", "GET"),
        (reqwest::Method::PATCH, "Postgresql", "GET"),
        // POST is check_connection's method on this node: its dispatcher answers it for this
        // path, whatever the body (here none).
        (reqwest::Method::POST, "Postgresql", "GET"),
    ] {
        let response = http
            .request(method.clone(), format!("{base}/{path}?type=source"))
            .bearer_auth(&token)
            .header("Workspace-Id", WORKSPACE)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let header = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref(), Some(allow), "{method} {path}");
        let body: ErrorResponse = response.json().await.unwrap();
        assert_eq!(body.errors[0].status, 405, "{method} {path}");
    }
    server.stop().await;
}
