//! PostgreSQL: check (source and destination), discover and query (source).

use futures::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row, ValueRef};
use squared_types::Stream;

use super::{
    Batch, QueryLimits, ReadPlan, RuntimeError, STATEMENT_TIMEOUT_SECONDS, batch_of, connect_first, describe, json_row,
    port, streams_of, text, upsert_columns,
};
use crate::egress::EgressPolicy;
use crate::sync::values::Record;

/// The most rows one FETCH asks for; the first asks for one, and each next for twice as many.
const MAX_FETCH_ROWS: usize = 256;

#[derive(Clone, Copy)]
pub enum Side {
    Source,
    Destination,
}

fn options(configuration: &Value) -> Result<PgConnectOptions, RuntimeError> {
    let statement_timeout = format!("{}s", STATEMENT_TIMEOUT_SECONDS);
    Ok(PgConnectOptions::new()
        .host(text(configuration, "/host")?)
        .port(port(configuration)?)
        .database(text(configuration, "/database")?)
        .username(text(configuration, "/credentials/username")?)
        .password(text(configuration, "/credentials/password")?)
        .application_name("squared-server")
        // UTC, so that timestamps read the same whatever the server's zone.
        .options([("statement_timeout", statement_timeout.as_str()), ("TimeZone", "UTC")])
        .disable_statement_logging())
}

/// Connects to an address of the configured host that the egress policy allows; the host
/// name itself never reaches the driver (so neither a Unix socket path nor a second DNS
/// answer can).
async fn connect(egress: &EgressPolicy, configuration: &Value) -> Result<PgConnection, RuntimeError> {
    let options = options(configuration)?;
    let addresses = egress.resolve(text(configuration, "/host")?, port(configuration)?).await?;
    connect_first("PostgreSQL", &addresses, |address| {
        let options = options.clone().host(&address.ip().to_string()).port(address.port());
        async move { options.connect().await }
    })
    .await
}

pub async fn check(egress: &EgressPolicy, configuration: &Value, side: Side) -> Result<String, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
    let schema = text(configuration, "/schema")?;
    let exists = sqlx::query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1")
        .bind(schema)
        .fetch_optional(&mut connection)
        .await
        .map_err(|e| RuntimeError::Remote(describe(&e)));
    let _ = connection.close().await;
    match exists? {
        Some(_) => Ok(match side {
            Side::Source => format!("connected to PostgreSQL; schema {schema} is there"),
            Side::Destination => format!("connected to PostgreSQL; schema {schema} is there to write to"),
        }),
        None => Err(RuntimeError::Remote(format!("connected, but the schema {schema} does not exist"))),
    }
}

fn json_type(data_type: &str) -> (&'static str, Option<&'static str>) {
    match data_type {
        "smallint" | "integer" | "bigint" => ("integer", None),
        "numeric" | "real" | "double precision" | "decimal" => ("number", None),
        "boolean" => ("boolean", None),
        "date" => ("string", Some("date")),
        t if t.starts_with("timestamp") => ("string", Some("date-time")),
        "json" | "jsonb" => ("object", None),
        _ => ("string", None),
    }
}

pub async fn discover(egress: &EgressPolicy, configuration: &Value) -> Result<Vec<Stream>, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
    let schema = text(configuration, "/schema")?;
    let rows = sqlx::query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
         c.data_type::text AS data_type, c.is_nullable::text AS is_nullable \
         FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = $1 AND t.table_type IN ('BASE TABLE', 'VIEW') \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .bind(schema)
    .fetch_all(&mut connection)
    .await
    .map_err(|e| RuntimeError::Remote(describe(&e)));
    let keys = sqlx::query(
        "SELECT tc.table_name::text AS table_name, kcu.column_name::text AS column_name \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
         AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name \
         WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY' \
         ORDER BY tc.table_name, kcu.ordinal_position",
    )
    .bind(schema)
    .fetch_all(&mut connection)
    .await
    .map_err(|e| RuntimeError::Remote(describe(&e)));
    let _ = connection.close().await;
    let mut primary_keys: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in keys? {
        primary_keys.entry(row.get("table_name")).or_default().push(row.get("column_name"));
    }
    let mut columns = Vec::new();
    for row in rows? {
        let data_type: String = row.get("data_type");
        let (json_type, format) = json_type(&data_type);
        let nullable: String = row.get("is_nullable");
        columns.push((row.get("table_name"), row.get("column_name"), json_type, format, nullable == "YES"));
    }
    let mut streams = streams_of(columns);
    for stream in &mut streams {
        stream.primary_key = primary_keys.remove(&stream.name);
    }
    Ok(streams)
}

/// The columns of `query` (name, JSON type) after it ran for one row (see [`super::Runtimes::inspect`]).
pub async fn inspect(
    egress: &EgressPolicy,
    configuration: &Value,
    query: &str,
    limits: QueryLimits,
) -> Result<Vec<(String, &'static str)>, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
    let remote = |e: sqlx::Error| RuntimeError::Remote(format!("the query failed: {}", describe(&e)));
    let described = connection
        .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.to_owned())))
        .await
        .map_err(remote)?;
    let columns = described
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), driver_json_type(sqlx::TypeInfo::name(c.type_info()))))
        .collect();
    run_read_only(&mut connection, query, limits).await?;
    let _ = connection.close().await;
    Ok(columns)
}

/// The JSON type of a column, from the name the driver gives its PostgreSQL type.
fn driver_json_type(name: &str) -> &'static str {
    match name {
        "INT2" | "INT4" | "INT8" | "OID" => "integer",
        "FLOAT4" | "FLOAT8" | "NUMERIC" | "MONEY" => "number",
        "BOOL" => "boolean",
        "JSON" | "JSONB" => "object",
        n if n.ends_with("[]") => "array",
        _ => "string",
    }
}

pub async fn query(
    egress: &EgressPolicy,
    configuration: &Value,
    query: &str,
    limits: QueryLimits,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
    let rows = run_read_only(&mut connection, query, limits).await;
    // After a refusal mid-stream, rows may still be in flight: the connection is dropped
    // unread (which ends its transaction) rather than closed politely.
    if rows.is_ok() {
        let _ = connection.close().await;
    }
    rows
}

async fn run_read_only(
    connection: &mut PgConnection,
    query: &str,
    limits: QueryLimits,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let remote = |e: sqlx::Error| RuntimeError::Remote(format!("the query failed: {}", describe(&e)));
    connection.execute("BEGIN READ ONLY").await.map_err(remote)?;
    // The query is the caller's own SQL, by design (this is what query_source is for). It
    // runs as one prepared statement (no second statement can ride along) inside a
    // read-only transaction with a statement timeout, and is rolled back. The wrapping turns
    // rows into JSON and leaves a row over the byte limit on the server; the limits
    // themselves do not rely on it (SQL can comment out its tail): a server-side cursor is
    // read in batches, each row counted here, and reading stops at either limit. The two
    // numbers spliced in are the server's own.
    let wrapped = format!(
        "DECLARE squared_rows NO SCROLL CURSOR FOR \
         SELECT CASE WHEN octet_length(r) <= {bytes} THEN r END AS row \
         FROM (SELECT row_to_json(q)::text AS r FROM ({query}) AS q) AS w LIMIT {rows}",
        bytes = limits.bytes,
        rows = limits.rows,
    );
    sqlx::query(sqlx::AssertSqlSafe(wrapped)).execute(&mut *connection).await.map_err(remote)?;
    let mut rows = Vec::new();
    let mut total = 0usize;
    let mut batch = 1;
    while rows.len() < limits.rows {
        let wanted = batch.min(limits.rows - rows.len());
        let mut fetched = 0;
        let mut stream =
            sqlx::query(sqlx::AssertSqlSafe(format!("FETCH {wanted} FROM squared_rows"))).fetch(&mut *connection);
        while let Some(row) = stream.try_next().await.map_err(remote)? {
            fetched += 1;
            if row.try_get_raw(0).map_err(remote)?.is_null() {
                return Err(limits.too_large());
            }
            let text: &str = row.try_get(0).map_err(remote)?;
            rows.push(json_row(text, &mut total, &limits, "PostgreSQL")?);
        }
        if fetched < wanted {
            break;
        }
        batch = (batch * 2).min(MAX_FETCH_ROWS);
    }
    connection.execute("ROLLBACK").await.map_err(remote)?;
    Ok(rows)
}

/// The rows of a model's query, read from a server-side cursor in batches inside a read-only
/// transaction (no whole result in memory, no LIMIT/OFFSET splice).
pub struct Reader {
    connection: PgConnection,
    batch: usize,
    ordered: bool,
    key_field: String,
}

impl Reader {
    pub async fn open(
        egress: &EgressPolicy,
        configuration: &Value,
        plan: &ReadPlan,
        batch: usize,
    ) -> Result<Reader, RuntimeError> {
        let mut connection = connect(egress, configuration).await?;
        let remote = |e: sqlx::Error| RuntimeError::Remote(format!("reading the model failed: {}", describe(&e)));
        connection.execute("BEGIN READ ONLY").await.map_err(remote)?;
        let query = plan.query.trim().trim_end_matches(';');
        let mut parameters = Vec::new();
        let key = identifier(&plan.key_field);
        let select = match &plan.order {
            None => format!("SELECT row_to_json(q)::text AS row, q.{key}::text FROM ({query}) AS q"),
            Some(order) => {
                let described = connection
                    .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.to_owned())))
                    .await
                    .map_err(remote)?;
                let type_of = |field: &str| {
                    let column = described.columns().iter().find(|c| c.name() == field).ok_or_else(|| {
                        RuntimeError::BadConfiguration(format!("the model's query has no column `{field}`"))
                    })?;
                    let name = sqlx::TypeInfo::name(column.type_info());
                    // The type's name comes back into SQL as a cast target: only plain names.
                    match name.chars().all(|c| c.is_ascii_alphanumeric() || "_[] ".contains(c)) {
                        true => Ok(name.to_owned()),
                        false => Err(RuntimeError::BadConfiguration(format!(
                            "the column `{field}` has the type {name}, which cannot order an incremental read"
                        ))),
                    }
                };
                let (cursor_type, key_type) = (type_of(&order.cursor_field)?, type_of(&plan.key_field)?);
                let cursor = identifier(&order.cursor_field);
                let columns =
                    format!("SELECT row_to_json(q)::text AS row, q.{key}::text, q.{cursor}::text FROM ({query}) AS q");
                match &order.after {
                    None => format!("{columns} ORDER BY q.{cursor} NULLS FIRST, q.{key}"),
                    Some(after) => {
                        parameters.extend([after.cursor.clone(), after.key.clone()]);
                        format!(
                            "{columns} WHERE (q.{cursor}, q.{key}) > (CAST($1 AS {cursor_type}), CAST($2 AS {key_type})) \
                             ORDER BY q.{cursor}, q.{key}"
                        )
                    }
                }
            }
        };
        let mut declare =
            sqlx::query(sqlx::AssertSqlSafe(format!("DECLARE squared_read NO SCROLL CURSOR FOR {select}")));
        for parameter in parameters {
            declare = declare.bind(parameter);
        }
        declare.execute(&mut connection).await.map_err(remote)?;
        Ok(Reader { connection, batch, ordered: plan.order.is_some(), key_field: plan.key_field.clone() })
    }

    /// The next rows; empty at the end.
    pub async fn next_batch(&mut self) -> Result<Batch, RuntimeError> {
        let remote = |e: sqlx::Error| RuntimeError::Remote(format!("reading the model failed: {}", describe(&e)));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("FETCH {} FROM squared_read", self.batch)))
            .fetch_all(&mut self.connection)
            .await
            .map_err(remote)?;
        let raw = rows
            .iter()
            .map(|row| match self.ordered {
                false => Ok((row.try_get(0)?, row.try_get(1)?, None)),
                true => Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)),
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(remote)?;
        batch_of(raw, &self.key_field)
    }

    pub async fn close(mut self) {
        let _ = self.connection.execute("ROLLBACK").await;
        let _ = self.connection.close().await;
    }
}

/// A PostgreSQL identifier, quoted.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Upserts records into one table of a destination by its primary key.
pub struct Writer {
    connection: PgConnection,
    table: String,
    primary_key: Vec<String>,
}

impl Writer {
    pub async fn open(
        egress: &EgressPolicy,
        configuration: &Value,
        table: &str,
        primary_key: Vec<String>,
    ) -> Result<Writer, RuntimeError> {
        let schema = text(configuration, "/schema")?;
        let connection = connect(egress, configuration).await?;
        Ok(Writer { connection, table: format!("{}.{}", identifier(schema), identifier(table)), primary_key })
    }

    /// Writes `records` (all with the same fields) in one statement; when the destination
    /// refuses it, one statement per record, so that a refused record fails alone. One
    /// outcome per record, in order.
    pub async fn upsert(&mut self, records: &[Record]) -> Vec<Result<(), String>> {
        let (columns, updated) = match upsert_columns(records, &self.primary_key) {
            Ok(columns) => columns,
            Err(error) => return records.iter().map(|_| Err(error.clone())).collect(),
        };
        if columns.is_empty() {
            return Vec::new();
        }
        let list = columns.iter().map(|c| identifier(c)).collect::<Vec<_>>().join(", ");
        let updates: Vec<String> = updated.iter().map(|c| format!("{0} = EXCLUDED.{0}", identifier(c))).collect();
        let on_conflict = match updates.is_empty() {
            true => "DO NOTHING".to_owned(),
            false => format!("DO UPDATE SET {}", updates.join(", ")),
        };
        let keys = self.primary_key.iter().map(|k| identifier(k)).collect::<Vec<_>>().join(", ");
        // Identifiers are quoted; values travel as one bound JSON array, typed by the table.
        let sql = format!(
            "INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json) \
             ON CONFLICT ({keys}) {on_conflict}",
            table = self.table
        );
        let batch = serde_json::to_string(records).expect("records serialize");
        match sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(batch).execute(&mut self.connection).await {
            Ok(_) => records.iter().map(|_| Ok(())).collect(),
            Err(_) => {
                let mut outcomes = Vec::with_capacity(records.len());
                for record in records {
                    let one = format!("[{}]", record.to_json());
                    let outcome = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(one)
                        .execute(&mut self.connection)
                        .await
                        .map(|_| ())
                        .map_err(|e| describe(&e));
                    outcomes.push(outcome);
                }
                outcomes
            }
        }
    }

    /// Deletes the rows whose (one-column) primary key is one of `keys`, given as text and
    /// typed by the table, in one statement.
    pub async fn delete(&mut self, keys: &[String]) -> Result<(), String> {
        let [key] = self.primary_key.as_slice() else {
            return Err("deleting rows needs a one-column primary key".into());
        };
        let key = identifier(key);
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM json_populate_recordset(NULL::{table}, $1::json))",
            table = self.table
        );
        let rows: Vec<Value> = keys.iter().map(|k| serde_json::json!({ self.primary_key[0].as_str(): k })).collect();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Value::Array(rows).to_string())
            .execute(&mut self.connection)
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }

    pub async fn close(self) {
        let _ = self.connection.close().await;
    }
}
