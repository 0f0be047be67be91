//! Runtimes: the code that reaches the systems connectors point at.
//!
//! A definition of the catalog has a runtime here or not. Those that do can check a
//! connection, and (for sources) discover streams and run queries, as their
//! [`Capabilities`] say; the API shows these on every definition. A definition without a
//! runtime can still be created and stored, and its check fails with a message saying so:
//! never a pretended success.
//!
//! Every call goes through [`Runtimes`], which holds what protects the server and the
//! connectors' owners: the [`EgressPolicy`] (a runtime connects only to addresses it
//! returned), a limit on calls in flight, and a deadline on each whole call, connection
//! included. Every call opens its own connection and closes it before returning; queries run
//! read-only with a statement timeout, stream their rows, and stop at their row and byte
//! limits. Messages may quote what the remote system said, never a configuration value.

pub(crate) mod http_destination;

pub use http_destination::DEFAULT_STREAM as DEFAULT_HTTP_STREAM;
mod mariadb;
mod postgres;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Map, Value, json};
use squared_types::{ConnectorCapabilities, ConnectorType, ModelColumn, Stream};
use tokio::sync::Semaphore;

use crate::egress::{EgressError, EgressPolicy};
use crate::sync::values::Record;

/// How long a runtime waits to connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one query may run.
pub const STATEMENT_TIMEOUT_SECONDS: u64 = 15;

/// The runtimes this server has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    PostgresSource,
    PostgresDestination,
    MariaDbSource,
    MariaDbDestination,
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
    /// The egress policy does not allow the address.
    #[error("{0}")]
    Refused(String),
    /// The answer would be larger than the server returns.
    #[error("{0}")]
    TooLarge(String),
    /// Too many connector calls are in flight on this server.
    #[error("{0}")]
    Busy(String),
}

impl From<EgressError> for RuntimeError {
    fn from(error: EgressError) -> Self {
        match error {
            EgressError::Refused { .. } => RuntimeError::Refused(error.to_string()),
            EgressError::Unresolved { .. } => RuntimeError::Remote(error.to_string()),
        }
    }
}

impl Runtime {
    /// The runtime of a definition, if this server has one.
    pub fn of(connector_type: ConnectorType, connector_name: &str) -> Option<Runtime> {
        match (connector_type, connector_name) {
            (ConnectorType::Source, "Postgresql") => Some(Runtime::PostgresSource),
            (ConnectorType::Destination, "Postgresql") => Some(Runtime::PostgresDestination),
            (ConnectorType::Source, "MariaDB") => Some(Runtime::MariaDbSource),
            (ConnectorType::Destination, "MariaDB") => Some(Runtime::MariaDbDestination),
            (ConnectorType::Destination, "Http") => Some(Runtime::HttpDestination),
            _ => None,
        }
    }

    pub fn capabilities(self) -> ConnectorCapabilities {
        match self {
            Runtime::PostgresSource | Runtime::MariaDbSource => {
                ConnectorCapabilities { check: true, discover: true, query: true }
            }
            Runtime::PostgresDestination | Runtime::MariaDbDestination | Runtime::HttpDestination => {
                ConnectorCapabilities { check: true, discover: true, query: false }
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

/// The operator's limits on connector calls.
#[derive(Clone, Debug)]
pub struct RuntimeLimits {
    /// Calls (checks, discovers, queries) in flight at once, over every workspace.
    pub max_concurrent_calls: usize,
    /// How long a call waits for one of those places before it is refused (503).
    pub queue_wait: Duration,
    /// How long one whole call may take, connecting included.
    pub call_deadline: Duration,
    /// The most bytes of rows one query returns (as JSON text); more is refused (422).
    pub max_query_bytes: usize,
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        RuntimeLimits {
            max_concurrent_calls: 32,
            queue_wait: Duration::from_secs(5),
            call_deadline: Duration::from_secs(30),
            max_query_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The runtimes, behind the server's egress policy and limits.
pub struct Runtimes {
    egress: EgressPolicy,
    limits: RuntimeLimits,
    permits: Semaphore,
}

/// What a query may return.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryLimits {
    pub rows: usize,
    pub bytes: usize,
}

impl QueryLimits {
    /// The error for an answer over the byte limit.
    pub(crate) fn too_large(&self) -> RuntimeError {
        RuntimeError::TooLarge(format!(
            "the rows of this query come to more than {} bytes, the most this server returns; ask for fewer rows \
             or narrower columns",
            self.bytes
        ))
    }
}

impl Runtimes {
    pub fn new(egress: EgressPolicy, limits: RuntimeLimits) -> Self {
        let permits = Semaphore::new(limits.max_concurrent_calls.max(1));
        Runtimes { egress, limits, permits }
    }

    pub fn egress(&self) -> &EgressPolicy {
        &self.egress
    }

    /// Runs one call within the limits: a place among the calls in flight, and the deadline.
    async fn guarded<T>(&self, work: impl Future<Output = Result<T, RuntimeError>>) -> Result<T, RuntimeError> {
        let busy = || {
            RuntimeError::Busy(format!(
                "this server already runs {} connector calls, its limit; try again shortly",
                self.limits.max_concurrent_calls
            ))
        };
        let _permit = tokio::time::timeout(self.limits.queue_wait, self.permits.acquire())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        tokio::time::timeout(self.limits.call_deadline, work).await.unwrap_or_else(|_| {
            Err(RuntimeError::Remote(format!(
                "the call did not finish within {} s, the server's deadline for one connector call",
                self.limits.call_deadline.as_secs()
            )))
        })
    }

    /// Tries the connection: `Ok` carries a message of success, `Err` why it failed. A check
    /// that could not be tried at all (refused by the egress policy, or the server is busy)
    /// is an error of the call, not a failed check.
    pub async fn check(
        &self,
        connector_type: ConnectorType,
        connector_name: &str,
        configuration: &Value,
    ) -> Result<Result<String, String>, RuntimeError> {
        let Some(runtime) = Runtime::of(connector_type, connector_name) else {
            return Ok(Err(format!(
                "this server has no runtime for the {connector_type} connector {connector_name}, so it cannot \
                 check the connection; the connector can still be created and stored"
            )));
        };
        let egress = &self.egress;
        let outcome = self
            .guarded(async {
                match runtime {
                    Runtime::PostgresSource => postgres::check(egress, configuration, postgres::Side::Source).await,
                    Runtime::PostgresDestination => {
                        postgres::check(egress, configuration, postgres::Side::Destination).await
                    }
                    Runtime::MariaDbSource | Runtime::MariaDbDestination => mariadb::check(egress, configuration).await,
                    Runtime::HttpDestination => http_destination::check(egress, configuration).await,
                }
            })
            .await;
        match outcome {
            Ok(message) => Ok(Ok(message)),
            Err(error @ (RuntimeError::Refused(_) | RuntimeError::Busy(_))) => Err(error),
            Err(other) => Ok(Err(other.to_string())),
        }
    }

    /// The streams a source can read, or a destination can write.
    pub async fn discover(
        &self,
        connector_type: ConnectorType,
        connector_name: &str,
        configuration: &Value,
    ) -> Result<Vec<Stream>, RuntimeError> {
        let egress = &self.egress;
        match Runtime::of(connector_type, connector_name) {
            Some(Runtime::PostgresSource | Runtime::PostgresDestination) => {
                self.guarded(postgres::discover(egress, configuration)).await
            }
            Some(Runtime::MariaDbSource | Runtime::MariaDbDestination) => {
                self.guarded(mariadb::discover(egress, configuration)).await
            }
            // An HTTP endpoint has no schema to tell: one stream of any records, which the
            // user may describe through the catalog operations.
            Some(Runtime::HttpDestination) => Ok(vec![http_destination::default_stream()]),
            _ => Err(RuntimeError::Unsupported(format!(
                "this server cannot discover the streams of the {connector_type} connector {connector_name}"
            ))),
        }
    }

    /// At most `limit` rows of `query`, run read-only against a source, and at most the
    /// server's byte limit of them.
    pub async fn query(
        &self,
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
        let limits = QueryLimits { rows: usize::try_from(limit).unwrap_or(0), bytes: self.limits.max_query_bytes };
        let egress = &self.egress;
        match Runtime::of(connector_type, connector_name) {
            Some(Runtime::PostgresSource) => self.guarded(postgres::query(egress, configuration, query, limits)).await,
            Some(Runtime::MariaDbSource) => self.guarded(mariadb::query(egress, configuration, query, limits)).await,
            _ => Err(RuntimeError::Unsupported(format!(
                "this server cannot query the {connector_type} connector {connector_name}"
            ))),
        }
    }
}

impl Runtimes {
    /// The columns of `query` on a source, as the source describes them, after running it
    /// read-only for one row (so that a query that cannot run is refused now, not at its
    /// first sync). `Ok(None)` for a source this server cannot query: it stores such queries
    /// unchecked.
    pub async fn inspect(
        &self,
        connector_type: ConnectorType,
        connector_name: &str,
        configuration: &Value,
        query: &str,
    ) -> Result<Option<Vec<ModelColumn>>, RuntimeError> {
        let query = query.trim().trim_end_matches(';').trim();
        if query.is_empty() {
            return Err(RuntimeError::BadConfiguration("the query is empty".into()));
        }
        let limits = QueryLimits { rows: 1, bytes: self.limits.max_query_bytes };
        let egress = &self.egress;
        let columns = match Runtime::of(connector_type, connector_name) {
            Some(Runtime::PostgresSource) => {
                self.guarded(postgres::inspect(egress, configuration, query, limits)).await?
            }
            Some(Runtime::MariaDbSource) => {
                self.guarded(mariadb::inspect(egress, configuration, query, limits)).await?
            }
            _ => return Ok(None),
        };
        Ok(Some(columns.into_iter().map(|(name, json_type)| ModelColumn { name, type_: json_type.into() }).collect()))
    }
}

/// What a reader reads: a model's query, whole, or in cursor order past a position.
#[derive(Clone, Debug)]
pub struct ReadPlan {
    pub query: String,
    /// The model's primary key column, read beside each row as the source's text for it.
    pub key_field: String,
    /// For an incremental sync: rows in (cursor, key) order, after `after` when given.
    pub order: Option<CursorOrder>,
}

/// How an incremental read orders its rows and where it starts. The primary key breaks ties
/// between rows of one cursor value, so that no row is skipped or read twice.
#[derive(Clone, Debug)]
pub struct CursorOrder {
    pub cursor_field: String,
    pub after: Option<CursorPosition>,
}

/// Where an incremental read stopped: the cursor and key of the last row, as the source's
/// own text for them, which goes back to the source as bound parameters it casts to the
/// columns' types (never spliced into SQL).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CursorPosition {
    pub cursor: String,
    pub key: String,
}

/// One row as a source gave it: its JSON text (parsed only when the row changed), its
/// primary key as the source's text and, in an ordered read, its cursor as the source's text
/// (`None` for a null cursor, or an unordered read).
#[derive(Clone, Debug)]
pub struct SourceRow {
    pub text: String,
    pub key: String,
    pub cursor: Option<String>,
}

impl SourceRow {
    /// Where an ordered read stands after this row; `None` for a null cursor.
    pub fn position(&self) -> Option<CursorPosition> {
        self.cursor.as_ref().map(|cursor| CursorPosition { cursor: cursor.clone(), key: self.key.clone() })
    }
}

/// A batch of rows, in read order (in an ordered read, rows whose cursor is null come first
/// and only in a read from the start).
#[derive(Debug, Default)]
pub struct Batch {
    pub rows: Vec<SourceRow>,
}

/// Turns a reader's raw rows (the row's JSON text, its key's text, and for an ordered read
/// its cursor's text) into a batch.
pub(crate) fn batch_of(
    rows: Vec<(String, Option<String>, Option<String>)>,
    key_field: &str,
) -> Result<Batch, RuntimeError> {
    let mut batch = Batch { rows: Vec::with_capacity(rows.len()) };
    for (text, key, cursor) in rows {
        let Some(key) = key else {
            return Err(RuntimeError::Remote(format!("a row has no value in the primary key column `{key_field}`")));
        };
        batch.rows.push(SourceRow { text, key, cursor });
    }
    Ok(batch)
}

/// Reads the rows of a model's query from its source, batch by batch.
pub enum SourceReader {
    Postgres(postgres::Reader),
    MariaDb(mariadb::Reader),
}

impl SourceReader {
    /// The next rows, at most the batch size the reader was opened with; empty at the end.
    pub async fn next_batch(&mut self) -> Result<Batch, RuntimeError> {
        match self {
            SourceReader::Postgres(reader) => reader.next_batch().await,
            SourceReader::MariaDb(reader) => reader.next_batch().await,
        }
    }

    pub async fn close(self) {
        match self {
            SourceReader::Postgres(reader) => reader.close().await,
            SourceReader::MariaDb(reader) => reader.close().await,
        }
    }
}

/// The idempotency keys of a batch: one for the whole batch, and one per record for a
/// destination that takes the records one by one when it refused the batch.
#[derive(Clone, Debug, Default)]
pub struct IdempotencyKeys {
    pub batch: String,
    pub records: Vec<String>,
}

/// Writes mapped records into one stream of a destination.
pub enum DestinationWriter {
    Postgres(postgres::Writer),
    MariaDb(mariadb::Writer),
    Http(http_destination::Writer),
}

impl DestinationWriter {
    /// One outcome per record, in order: a record the destination refuses fails alone.
    /// `idempotency` names the batch and each record, the same on every retry of them.
    pub async fn write(&mut self, records: &[Record], idempotency: &IdempotencyKeys) -> Vec<Result<(), String>> {
        match self {
            DestinationWriter::Postgres(writer) => writer.upsert(records).await,
            DestinationWriter::MariaDb(writer) => writer.upsert(records).await,
            DestinationWriter::Http(writer) => writer.write(records, idempotency).await,
        }
    }

    /// Deletes the rows whose one-column primary key is one of `keys` (as text); an error
    /// for all of them when the destination cannot.
    pub async fn delete(&mut self, keys: &[String]) -> Result<(), String> {
        match self {
            DestinationWriter::Postgres(writer) => writer.delete(keys).await,
            DestinationWriter::MariaDb(writer) => writer.delete(keys).await,
            DestinationWriter::Http(_) => Err("an Http destination cannot delete records".into()),
        }
    }

    pub async fn close(self) {
        match self {
            DestinationWriter::Postgres(writer) => writer.close().await,
            DestinationWriter::MariaDb(writer) => writer.close().await,
            DestinationWriter::Http(_) => {}
        }
    }
}

impl Runtimes {
    /// A reader of `plan` on a source, `batch` rows at a time; through the egress policy,
    /// like every runtime call.
    pub async fn open_reader(
        &self,
        connector_type: ConnectorType,
        connector_name: &str,
        configuration: &Value,
        plan: &ReadPlan,
        batch: usize,
    ) -> Result<SourceReader, RuntimeError> {
        match Runtime::of(connector_type, connector_name) {
            Some(Runtime::PostgresSource) => {
                Ok(SourceReader::Postgres(postgres::Reader::open(&self.egress, configuration, plan, batch).await?))
            }
            Some(Runtime::MariaDbSource) => {
                Ok(SourceReader::MariaDb(mariadb::Reader::open(&self.egress, configuration, plan, batch).await?))
            }
            _ => Err(RuntimeError::Unsupported(format!(
                "this server cannot read rows for a sync from the {connector_type} connector {connector_name} yet"
            ))),
        }
    }

    /// A writer into `stream` of a destination, upserting by `primary_key`.
    pub async fn open_writer(
        &self,
        connector_type: ConnectorType,
        connector_name: &str,
        configuration: &Value,
        stream: &str,
        primary_key: Vec<String>,
    ) -> Result<DestinationWriter, RuntimeError> {
        let runtime = Runtime::of(connector_type, connector_name);
        if matches!(runtime, Some(Runtime::PostgresDestination | Runtime::MariaDbDestination)) && primary_key.is_empty()
        {
            return Err(RuntimeError::BadConfiguration(format!(
                "the destination table {stream} has no primary key, which upserts need"
            )));
        }
        match runtime {
            Some(Runtime::PostgresDestination) => {
                let writer = postgres::Writer::open(&self.egress, configuration, stream, primary_key).await?;
                Ok(DestinationWriter::Postgres(writer))
            }
            Some(Runtime::MariaDbDestination) => {
                let writer = mariadb::Writer::open(&self.egress, configuration, stream, primary_key).await?;
                Ok(DestinationWriter::MariaDb(writer))
            }
            Some(Runtime::HttpDestination) => {
                Ok(DestinationWriter::Http(http_destination::Writer::open(&self.egress, configuration).await?))
            }
            _ => Err(RuntimeError::Unsupported(format!(
                "this server cannot write a sync's rows to the {connector_type} connector {connector_name} yet"
            ))),
        }
    }
}

/// The columns an upsert of `records` writes (the fields of the first record; a batch's
/// records share them) and, of those, the ones it updates (all but the primary key's). An
/// error when the mapping gives no value for a primary key column.
pub(crate) fn upsert_columns<'a>(
    records: &'a [Record],
    primary_key: &[String],
) -> Result<(Vec<&'a String>, Vec<&'a String>), String> {
    let Some(first) = records.first() else { return Ok((Vec::new(), Vec::new())) };
    if let Some(missing) = primary_key.iter().find(|k| first.get(k).is_none()) {
        return Err(format!("the mapping gives no value for `{missing}`, the destination's primary key"));
    }
    let columns: Vec<&String> = first.fields.iter().map(|(name, _)| name).collect();
    let updated = columns.iter().copied().filter(|c| !primary_key.contains(c)).collect();
    Ok((columns, updated))
}

/// Connects to the first of `addresses` that answers, each within [`CONNECT_TIMEOUT`];
/// `what` names the system in messages.
async fn connect_first<C, F>(
    what: &str,
    addresses: &[SocketAddr],
    mut connect: impl FnMut(SocketAddr) -> F,
) -> Result<C, RuntimeError>
where
    F: Future<Output = Result<C, sqlx::Error>>,
{
    let mut last = None;
    for address in addresses {
        match tokio::time::timeout(CONNECT_TIMEOUT, connect(*address)).await {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(error)) => last = Some(format!("could not connect to {what}: {}", describe(&error))),
            Err(_) => last = Some(format!("could not connect to {what} within {} s", CONNECT_TIMEOUT.as_secs())),
        }
    }
    Err(RuntimeError::Remote(last.unwrap_or_else(|| format!("could not connect to {what}: no address"))))
}

/// Reads a row's JSON text (as the runtimes' wrapping queries give it) into an object,
/// counting its bytes against `limits`.
pub(crate) fn json_row(
    text: &str,
    total: &mut usize,
    limits: &QueryLimits,
    engine: &str,
) -> Result<Map<String, Value>, RuntimeError> {
    *total = total.saturating_add(text.len());
    if *total > limits.bytes {
        return Err(limits.too_large());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(RuntimeError::Remote(format!("{engine} returned a row that is not a JSON object"))),
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
pub(crate) fn stream(name: String, columns: Vec<(String, &'static str, Option<&'static str>, bool)>) -> Stream {
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
        primary_key: None,
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
        assert!(http.check && http.discover && !http.query);
        let slack = capabilities_of(ConnectorType::Destination, "Slack");
        assert!(!slack.check && !slack.discover && !slack.query);
    }

    #[tokio::test]
    async fn a_definition_without_a_runtime_fails_its_check_plainly() {
        let runtimes = Runtimes::new(EgressPolicy::public_only(), RuntimeLimits::default());
        let message = runtimes.check(ConnectorType::Destination, "Slack", &json!({})).await.unwrap().unwrap_err();
        assert!(message.contains("no runtime"), "{message}");
    }

    #[tokio::test]
    async fn a_call_waits_for_a_place_then_is_refused_as_busy() {
        let limits =
            RuntimeLimits { max_concurrent_calls: 1, queue_wait: Duration::from_millis(50), ..Default::default() };
        let runtimes = Runtimes::new(EgressPolicy::public_only(), limits);
        let held = runtimes.permits.acquire().await.unwrap();
        let error = runtimes.guarded(async { Ok(()) }).await.unwrap_err();
        assert!(matches!(error, RuntimeError::Busy(_)), "{error:?}");
        drop(held);
        runtimes.guarded(async { Ok(()) }).await.unwrap();
    }

    #[tokio::test]
    async fn a_call_past_its_deadline_is_stopped() {
        let limits = RuntimeLimits { call_deadline: Duration::from_millis(50), ..Default::default() };
        let runtimes = Runtimes::new(EgressPolicy::public_only(), limits);
        let error = runtimes
            .guarded(async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(error.to_string().contains("deadline"), "{error}");
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
