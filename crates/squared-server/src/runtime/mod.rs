//! Runtimes: the code that reaches the systems connectors point at.
//!
//! A definition of the catalog has a runtime here or not. Those that do can check a
//! connection, and (for sources) discover streams and run queries, as their
//! [`Capabilities`] say; the API shows these on every definition. A definition without a
//! runtime can still be created and stored, and its check fails with a message saying so:
//! never a pretended success.
//!
//! Every call opens its own connection and closes it before returning, with a connect
//! timeout and (for queries) a statement timeout; queries run read-only. Messages may quote
//! what the remote system said, never a configuration value.

mod http_destination;
mod mariadb;
mod postgres;

use serde_json::{Map, Value, json};
use squared_types::{ConnectorCapabilities, ConnectorType, Stream};

/// How long a runtime waits to connect.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long one query may run.
pub const STATEMENT_TIMEOUT_SECONDS: u64 = 15;

/// The runtimes this server has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    PostgresSource,
    PostgresDestination,
    MariaDbSource,
    HttpDestination,
}

/// Why a runtime call did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// This server has no runtime for that (definition, call).
    #[error("{0}")]
    Unsupported(String),
    /// The configuration cannot be used as it is (a port that is not a number, say).
    #[error("{0}")]
    BadConfiguration(String),
    /// The remote system refused or failed.
    #[error("{0}")]
    Remote(String),
}

impl Runtime {
    /// The runtime of a definition, if this server has one.
    pub fn of(connector_type: ConnectorType, connector_name: &str) -> Option<Runtime> {
        match (connector_type, connector_name) {
            (ConnectorType::Source, "Postgresql") => Some(Runtime::PostgresSource),
            (ConnectorType::Destination, "Postgresql") => Some(Runtime::PostgresDestination),
            (ConnectorType::Source, "MariaDB") => Some(Runtime::MariaDbSource),
            (ConnectorType::Destination, "Http") => Some(Runtime::HttpDestination),
            _ => None,
        }
    }

    pub fn capabilities(self) -> ConnectorCapabilities {
        match self {
            Runtime::PostgresSource | Runtime::MariaDbSource => {
                ConnectorCapabilities { check: true, discover: true, query: true }
            }
            Runtime::PostgresDestination | Runtime::HttpDestination => {
                ConnectorCapabilities { check: true, discover: false, query: false }
            }
        }
    }
}

/// What a definition can do here (nothing, without a runtime).
pub fn capabilities_of(connector_type: ConnectorType, connector_name: &str) -> ConnectorCapabilities {
    Runtime::of(connector_type, connector_name).map(Runtime::capabilities).unwrap_or(ConnectorCapabilities {
        check: false,
        discover: false,
        query: false,
    })
}

/// Tries the connection; `Ok` carries a message of success, `Err` the reason it failed.
pub async fn check(
    connector_type: ConnectorType,
    connector_name: &str,
    configuration: &Value,
) -> Result<String, String> {
    let Some(runtime) = Runtime::of(connector_type, connector_name) else {
        return Err(format!(
            "this server has no runtime for the {connector_type} connector {connector_name}, so it cannot check \
             the connection; the connector can still be created and stored"
        ));
    };
    let outcome = match runtime {
        Runtime::PostgresSource => postgres::check(configuration, postgres::Side::Source).await,
        Runtime::PostgresDestination => postgres::check(configuration, postgres::Side::Destination).await,
        Runtime::MariaDbSource => mariadb::check(configuration).await,
        Runtime::HttpDestination => http_destination::check(configuration).await,
    };
    outcome.map_err(|e| e.to_string())
}

/// The streams a source can read.
pub async fn discover(
    connector_type: ConnectorType,
    connector_name: &str,
    configuration: &Value,
) -> Result<Vec<Stream>, RuntimeError> {
    match Runtime::of(connector_type, connector_name) {
        Some(Runtime::PostgresSource) => postgres::discover(configuration).await,
        Some(Runtime::MariaDbSource) => mariadb::discover(configuration).await,
        _ => Err(RuntimeError::Unsupported(format!(
            "this server cannot discover the streams of the {connector_type} connector {connector_name}"
        ))),
    }
}

/// At most `limit` rows of `query`, run read-only against a source.
pub async fn query(
    connector_type: ConnectorType,
    connector_name: &str,
    configuration: &Value,
    query: &str,
    limit: i64,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let query = query.trim().trim_end_matches(';').trim();
    if query.is_empty() {
        return Err(RuntimeError::BadConfiguration("the query is empty".into()));
    }
    match Runtime::of(connector_type, connector_name) {
        Some(Runtime::PostgresSource) => postgres::query(configuration, query, limit).await,
        Some(Runtime::MariaDbSource) => mariadb::query(configuration, query, limit).await,
        _ => Err(RuntimeError::Unsupported(format!(
            "this server cannot query the {connector_type} connector {connector_name}"
        ))),
    }
}

/// What went wrong with a database, in the database's words where it gave some.
fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A string member of a configuration (a JSON Pointer), or a clear error.
fn text<'a>(configuration: &'a Value, pointer: &str) -> Result<&'a str, RuntimeError> {
    configuration
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| RuntimeError::BadConfiguration(format!("the configuration has no text at {pointer}")))
}

/// The `port` member, a string of digits in these specifications.
fn port(configuration: &Value) -> Result<u16, RuntimeError> {
    let port = text(configuration, "/port")?;
    port.trim().parse().map_err(|_| RuntimeError::BadConfiguration(format!("the port {port:?} is not a port number")))
}

/// A stream from columns (name, JSON type, format, nullable), in order.
fn stream(name: String, columns: Vec<(String, &'static str, Option<&'static str>, bool)>) -> Stream {
    let properties: Map<String, Value> = columns
        .into_iter()
        .map(|(column, json_type, format, nullable)| {
            let mut schema = if nullable { json!({"type": [json_type, "null"]}) } else { json!({"type": json_type}) };
            if let Some(format) = format {
                schema["format"] = json!(format);
            }
            (column, schema)
        })
        .collect();
    let json_schema = json!({"type": "object", "additionalProperties": true, "properties": properties});
    Stream {
        name,
        action: "create".into(),
        json_schema: json_schema.as_object().cloned().expect("an object"),
        url: None,
        request_method: None,
    }
}

/// Groups `(table, column, json type, format, nullable)` rows, ordered by table, into streams.
fn streams_of(rows: Vec<(String, String, &'static str, Option<&'static str>, bool)>) -> Vec<Stream> {
    let mut streams = Vec::new();
    let mut current: Option<(String, Vec<_>)> = None;
    for (table, column, json_type, format, nullable) in rows {
        match &mut current {
            Some((name, columns)) if *name == table => columns.push((column, json_type, format, nullable)),
            _ => {
                if let Some((name, columns)) = current.take() {
                    streams.push(stream(name, columns));
                }
                current = Some((table, vec![(column, json_type, format, nullable)]));
            }
        }
    }
    if let Some((name, columns)) = current {
        streams.push(stream(name, columns));
    }
    streams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_runtimes() {
        let postgres = capabilities_of(ConnectorType::Source, "Postgresql");
        assert!(postgres.check && postgres.discover && postgres.query);
        let http = capabilities_of(ConnectorType::Destination, "Http");
        assert!(http.check && !http.discover && !http.query);
        let slack = capabilities_of(ConnectorType::Destination, "Slack");
        assert!(!slack.check && !slack.discover && !slack.query);
    }

    #[tokio::test]
    async fn a_definition_without_a_runtime_fails_its_check_plainly() {
        let message = check(ConnectorType::Destination, "Slack", &json!({})).await.unwrap_err();
        assert!(message.contains("no runtime"), "{message}");
    }

    #[test]
    fn rows_group_into_streams() {
        let streams = streams_of(vec![
            ("a".into(), "id".into(), "integer", None, false),
            ("a".into(), "at".into(), "string", Some("date-time"), true),
            ("b".into(), "x".into(), "number", None, true),
        ]);
        assert_eq!(streams.len(), 2);
        assert_eq!(
            Value::Object(streams[0].json_schema.clone())["properties"],
            json!({"id": {"type": "integer"}, "at": {"type": ["string", "null"], "format": "date-time"}})
        );
        assert_eq!(streams[1].name, "b");
    }
}
