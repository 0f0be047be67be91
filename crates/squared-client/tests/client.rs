//! The client's own layer, against progenitor's typed mock server helpers: a paged list read
//! whole with `.stream()`, failures in one line, and the client from the environment.

use std::num::NonZeroU64;

use futures::TryStreamExt as _;
use httpmock::MockServer;
use squared_client::mock::MockServerExt as _;
use squared_client::types::{ConnectorListResponse, ErrorResponse};
use squared_client::{Client, ClientInfo as _, Credentials, Failure, PageList as _};

fn connector(id: u64, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id.to_string(), "type": "connectors",
        "attributes": {
            "name": name, "description": null, "connector_type": "destination", "workspace_id": 1,
            "created_at": "2026-12-07T10:00:00Z", "updated_at": "2026-12-07T10:00:00Z",
            "configuration": {"destination_url": "https://example.com"},
            "connector_name": "Http", "icon": "https://example.com/icon.svg"
        }
    })
}

fn page(items: Vec<serde_json::Value>, next: Option<&str>) -> ConnectorListResponse {
    serde_json::from_value(serde_json::json!({
        "data": items,
        "links": {"self": "/x", "first": "/x", "prev": null, "next": next, "last": "/x"}
    }))
    .unwrap()
}

#[tokio::test]
async fn stream_reads_every_page_in_order_and_stops_at_the_last() {
    let server = MockServer::start_async().await;
    let first = server.list_connectors(|when, then| {
        when.page(NonZeroU64::new(1)).per_page(NonZeroU64::new(2));
        then.ok(&page(vec![connector(3, "c"), connector(2, "b")], Some("/api/v1/connectors?page=2")));
    });
    let second = server.list_connectors(|when, then| {
        when.page(NonZeroU64::new(2)).per_page(NonZeroU64::new(2));
        then.ok(&page(vec![connector(1, "a")], None));
    });
    let client = Client::new(&server.base_url(), Credentials::new("token", 1));

    let names: Vec<String> = client
        .list_connectors()
        .per_page(2u64)
        .stream()
        .map_ok(|connector| connector.attributes.name)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(names, ["c", "b", "a"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_failed_page_ends_the_stream_with_its_error() {
    let server = MockServer::start_async().await;
    server.list_connectors(|when, then| {
        when.page(NonZeroU64::new(1));
        then.ok(&page(vec![connector(1, "a")], Some("/api/v1/connectors?page=2")));
    });
    server.list_connectors(|when, then| {
        when.page(NonZeroU64::new(2));
        then.internal_server_error(&error(500, "Internal Server Error", "the store went away", None));
    });
    let client = Client::new(&server.base_url(), Credentials::new("token", 1));
    let read: Vec<_> = futures::StreamExt::collect(client.list_connectors().stream()).await;
    assert_eq!(read.len(), 2);
    assert!(read[0].is_ok());
    let failure = Failure::from(read.into_iter().nth(1).unwrap().unwrap_err());
    assert_eq!(failure.to_string(), "500 Internal Server Error: the store went away");
}

fn error(status: i64, title: &str, detail: &str, pointer: Option<&str>) -> ErrorResponse {
    let mut entry = serde_json::json!({"status": status, "title": title, "detail": detail});
    if let Some(pointer) = pointer {
        entry["source"] = serde_json::json!({ "pointer": pointer });
    }
    serde_json::from_value(serde_json::json!({ "errors": [entry] })).unwrap()
}

#[tokio::test]
async fn a_failure_reads_as_one_line_with_status_detail_pointer_and_request_id() {
    let server = MockServer::start_async().await;
    let mut body = error(422, "Unprocessable Entity", "`name` is required", Some("/connector/name"));
    body.errors
        .extend(error(422, "Unprocessable Entity", "unknown definition", Some("/connector/connector_name")).errors);
    server.show_connector(|when, then| {
        when.id("7");
        let then = then.into_inner().header("x-request-id", "req-42");
        squared_client::mock::operations::ShowConnectorThen::new(then).bad_request(&ErrorResponse {
            errors: body
                .errors
                .iter()
                .map(|e| squared_client::types::ErrorObject { status: 400, ..e.clone() })
                .collect(),
        });
    });
    let client = Client::new(&server.base_url(), Credentials::new("token", 1));
    let failure = Failure::from(client.show_connector().id("7").send().await.unwrap_err());
    assert_eq!(
        failure.to_string(),
        "400 Bad Request: `name` is required (at /connector/name) (and 1 more) [request req-42]"
    );
    assert_eq!(failure.body().unwrap().errors.len(), 2);
    assert_eq!(failure.request_id(), Some("req-42"));
}

#[tokio::test]
async fn a_transport_failure_keeps_its_cause() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"), Credentials::new("token", 1));
    let failure = Failure::from(client.show_connector().id("7").send().await.unwrap_err());
    let line = failure.to_string();
    assert!(line.starts_with("the request failed: "), "{line}");
    assert!(line.to_lowercase().contains("refused"), "{line}");
    assert!(std::error::Error::source(&failure).is_some(), "the transport error is kept as the source");
}

#[test]
fn from_env_needs_a_url_and_reads_the_workspace() {
    // One test touches the environment, so no other test races it.
    // SAFETY: no other thread of this test binary reads or writes these variables.
    unsafe {
        std::env::remove_var("SQUARED_URL");
        std::env::remove_var("SQUARED_WORKSPACE");
    }
    let missing = Client::from_env().unwrap_err().to_string();
    assert!(missing.contains("SQUARED_URL"), "{missing}");
    unsafe {
        std::env::set_var("SQUARED_URL", "http://127.0.0.1:1");
        std::env::set_var("SQUARED_WORKSPACE", "zero");
    }
    let bad = Client::from_env().unwrap_err().to_string();
    assert!(bad.contains("SQUARED_WORKSPACE") && bad.contains("zero"), "{bad}");
    unsafe { std::env::set_var("SQUARED_WORKSPACE", "3") };
    let client = Client::from_env().unwrap();
    assert_eq!(client.inner().workspace_id(), Some(3));
    assert_eq!(client.baseurl(), "http://127.0.0.1:1");
}
