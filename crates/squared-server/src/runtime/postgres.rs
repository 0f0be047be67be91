//! PostgreSQL: check (source and destination), discover and query (source).

use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};
use squared_types::Stream;

use super::{CONNECT_TIMEOUT, RuntimeError, STATEMENT_TIMEOUT_SECONDS, describe, port, streams_of, text};

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
        .options([("statement_timeout", statement_timeout.as_str())])
        .disable_statement_logging())
}

async fn connect(configuration: &Value) -> Result<PgConnection, RuntimeError> {
    let options = options(configuration)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Err(_) => {
            Err(RuntimeError::Remote(format!("could not connect to PostgreSQL within {} s", CONNECT_TIMEOUT.as_secs())))
        }
        Ok(Err(error)) => Err(RuntimeError::Remote(format!("could not connect to PostgreSQL: {}", describe(&error)))),
        Ok(Ok(connection)) => Ok(connection),
    }
}

pub async fn check(configuration: &Value, side: Side) -> Result<String, RuntimeError> {
    let mut connection = connect(configuration).await?;
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

pub async fn discover(configuration: &Value) -> Result<Vec<Stream>, RuntimeError> {
    let mut connection = connect(configuration).await?;
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
    let _ = connection.close().await;
    let mut columns = Vec::new();
    for row in rows? {
        let data_type: String = row.get("data_type");
        let (json_type, format) = json_type(&data_type);
        let nullable: String = row.get("is_nullable");
        columns.push((row.get("table_name"), row.get("column_name"), json_type, format, nullable == "YES"));
    }
    Ok(streams_of(columns))
}

pub async fn query(configuration: &Value, query: &str, limit: i64) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let mut connection = connect(configuration).await?;
    let rows = run_read_only(&mut connection, query, limit).await;
    let _ = connection.close().await;
    rows
}

async fn run_read_only(
    connection: &mut PgConnection,
    query: &str,
    limit: i64,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let remote = |e: sqlx::Error| RuntimeError::Remote(format!("the query failed: {}", describe(&e)));
    let mut transaction = connection.begin().await.map_err(remote)?;
    sqlx::query("SET TRANSACTION READ ONLY").execute(&mut *transaction).await.map_err(remote)?;
    // The query is the caller's own SQL, by design (this is what query_source is for). It
    // runs as one prepared statement (no second statement can ride along) inside a
    // read-only transaction with a statement timeout, and is rolled back.
    let wrapped = format!("SELECT row_to_json(q)::text AS row FROM ({query}) AS q LIMIT $1");
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(wrapped)).bind(limit).fetch_all(&mut *transaction).await.map_err(remote)?;
    transaction.rollback().await.map_err(remote)?;
    rows.iter()
        .map(|row| {
            let text: String = row.get("row");
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(RuntimeError::Remote("PostgreSQL returned a row that is not a JSON object".into())),
            }
        })
        .collect()
}
