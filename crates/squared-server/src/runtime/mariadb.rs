//! MariaDB (and MySQL): check, discover and query, as a source.

use serde_json::{Map, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row};
use squared_types::Stream;

use super::{CONNECT_TIMEOUT, RuntimeError, STATEMENT_TIMEOUT_SECONDS, describe, port, streams_of, text};

async fn connect(configuration: &Value) -> Result<MySqlConnection, RuntimeError> {
    let mut options = MySqlConnectOptions::new()
        .host(text(configuration, "/host")?)
        .port(port(configuration)?)
        .database(text(configuration, "/database")?)
        .username(text(configuration, "/username")?)
        .disable_statement_logging();
    // An empty password means none: sent as a password, it would not match an account
    // that has none.
    let password = text(configuration, "/password")?;
    if !password.is_empty() {
        options = options.password(password);
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Err(_) => {
            Err(RuntimeError::Remote(format!("could not connect to MariaDB within {} s", CONNECT_TIMEOUT.as_secs())))
        }
        Ok(Err(error)) => Err(RuntimeError::Remote(format!("could not connect to MariaDB: {}", describe(&error)))),
        Ok(Ok(connection)) => Ok(connection),
    }
}

pub async fn check(configuration: &Value) -> Result<String, RuntimeError> {
    let mut connection = connect(configuration).await?;
    let version = sqlx::query_scalar::<_, String>("SELECT VERSION()")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| RuntimeError::Remote(describe(&e)));
    let _ = connection.close().await;
    Ok(format!("connected to MariaDB {}", version?))
}

fn json_type(data_type: &str) -> (&'static str, Option<&'static str>) {
    match data_type {
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "bit" | "year" => ("integer", None),
        "decimal" | "numeric" | "float" | "double" | "real" => ("number", None),
        "date" => ("string", Some("date")),
        "datetime" | "timestamp" => ("string", Some("date-time")),
        _ => ("string", None),
    }
}

pub async fn discover(configuration: &Value) -> Result<Vec<Stream>, RuntimeError> {
    let mut connection = connect(configuration).await?;
    let database = text(configuration, "/database")?;
    let rows = sqlx::query(
        "SELECT CAST(c.table_name AS CHAR) AS table_name, CAST(c.column_name AS CHAR) AS column_name, \
         CAST(c.data_type AS CHAR) AS data_type, CAST(c.is_nullable AS CHAR) AS is_nullable \
         FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = ? AND t.table_type IN ('BASE TABLE', 'VIEW') \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .bind(database)
    .fetch_all(&mut connection)
    .await
    .map_err(|e| RuntimeError::Remote(describe(&e)));
    let _ = connection.close().await;
    let mut columns = Vec::new();
    for row in rows? {
        let data_type: String = row.get("data_type");
        let (json_type, format) = json_type(&data_type.to_lowercase());
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

/// A MariaDB identifier, quoted.
fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A MariaDB string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

async fn run_read_only(
    connection: &mut MySqlConnection,
    query: &str,
    limit: i64,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let remote = |e: sqlx::Error| RuntimeError::Remote(format!("the query failed: {}", describe(&e)));
    connection
        .execute(sqlx::AssertSqlSafe(format!("SET SESSION max_statement_time = {STATEMENT_TIMEOUT_SECONDS}")))
        .await
        .map_err(remote)?;
    connection.execute("START TRANSACTION READ ONLY").await.map_err(remote)?;
    // The query is the caller's own SQL, by design. Preparing it tells its columns, which
    // become the keys of a JSON_OBJECT over it; it runs as one prepared statement in a
    // read-only transaction with a statement timeout, and is rolled back.
    let described = connection
        .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.to_owned())))
        .await
        .map_err(remote)?;
    let members: Vec<String> =
        described.columns().iter().map(|c| format!("{}, q.{}", literal(c.name()), identifier(c.name()))).collect();
    if members.is_empty() {
        return Err(RuntimeError::Remote("the query returns no columns".into()));
    }
    let wrapped = format!("SELECT JSON_OBJECT({}) AS `row` FROM ({query}) AS q LIMIT ?", members.join(", "));
    let rows = sqlx::query(sqlx::AssertSqlSafe(wrapped)).bind(limit).fetch_all(&mut *connection).await.map_err(remote);
    let _ = connection.execute("ROLLBACK").await;
    rows?
        .iter()
        .map(|row| {
            let text: String = row.try_get("row").map_err(remote)?;
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(RuntimeError::Remote("MariaDB returned a row that is not a JSON object".into())),
            }
        })
        .collect()
}
