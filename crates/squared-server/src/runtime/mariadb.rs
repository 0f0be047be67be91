//! MariaDB (and MySQL): check, discover and query, as a source.

use futures::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row, ValueRef};
use squared_types::Stream;

use super::{
    QueryLimits, RuntimeError, STATEMENT_TIMEOUT_SECONDS, connect_first, describe, json_row, port, streams_of, text,
};
use crate::egress::EgressPolicy;

/// Connects to an address of the configured host that the egress policy allows; the host
/// name itself never reaches the driver.
async fn connect(egress: &EgressPolicy, configuration: &Value) -> Result<MySqlConnection, RuntimeError> {
    let mut options = MySqlConnectOptions::new()
        .database(text(configuration, "/database")?)
        .username(text(configuration, "/username")?)
        .disable_statement_logging();
    // An empty password means none: sent as a password, it would not match an account
    // that has none.
    let password = text(configuration, "/password")?;
    if !password.is_empty() {
        options = options.password(password);
    }
    let addresses = egress.resolve(text(configuration, "/host")?, port(configuration)?).await?;
    connect_first("MariaDB", &addresses, |address| {
        let options = options.clone().host(&address.ip().to_string()).port(address.port());
        async move { options.connect().await }
    })
    .await
}

pub async fn check(egress: &EgressPolicy, configuration: &Value) -> Result<String, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
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

pub async fn discover(egress: &EgressPolicy, configuration: &Value) -> Result<Vec<Stream>, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
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
        .map(|c| {
            let name = sqlx::TypeInfo::name(c.type_info()).to_lowercase();
            let json_type =
                if name == "boolean" { "boolean" } else { json_type(name.split(' ').next().unwrap_or("")).0 };
            (c.name().to_owned(), json_type)
        })
        .collect();
    run_read_only(&mut connection, query, limits).await?;
    let _ = connection.close().await;
    Ok(columns)
}

pub async fn query(
    egress: &EgressPolicy,
    configuration: &Value,
    query: &str,
    limits: QueryLimits,
) -> Result<Vec<Map<String, Value>>, RuntimeError> {
    let mut connection = connect(egress, configuration).await?;
    // A query stopped at its row limit may still have rows in flight: its connection is
    // dropped unread (which ends its transaction) rather than closed politely.
    let (rows, finished) = run_read_only(&mut connection, query, limits).await?;
    if finished {
        let _ = connection.close().await;
    }
    Ok(rows)
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
    limits: QueryLimits,
) -> Result<(Vec<Map<String, Value>>, bool), RuntimeError> {
    let remote = |e: sqlx::Error| RuntimeError::Remote(format!("the query failed: {}", describe(&e)));
    connection
        .execute(sqlx::AssertSqlSafe(format!("SET SESSION max_statement_time = {STATEMENT_TIMEOUT_SECONDS}")))
        .await
        .map_err(remote)?;
    connection.execute("START TRANSACTION READ ONLY").await.map_err(remote)?;
    // The query is the caller's own SQL, by design. Preparing it tells its columns, which
    // become the keys of a JSON_OBJECT over it; it runs as one prepared statement in a
    // read-only transaction with a statement timeout, and is rolled back. As for
    // PostgreSQL, the wrapping leaves a row over the byte limit on the server, but the
    // limits do not rely on it: rows are streamed and counted here.
    let described = connection
        .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.to_owned())))
        .await
        .map_err(remote)?;
    let members: Vec<String> =
        described.columns().iter().map(|c| format!("{}, q.{}", literal(c.name()), identifier(c.name()))).collect();
    if members.is_empty() {
        return Err(RuntimeError::Remote("the query returns no columns".into()));
    }
    let wrapped = format!(
        "SELECT CASE WHEN LENGTH(r) <= ? THEN r END AS `row` FROM (SELECT JSON_OBJECT({}) AS r FROM ({query}) AS q) AS w \
         LIMIT ?",
        members.join(", ")
    );
    let row_limit = i64::try_from(limits.rows).unwrap_or(i64::MAX);
    let byte_limit = i64::try_from(limits.bytes).unwrap_or(i64::MAX);
    let mut rows = Vec::new();
    let mut total = 0usize;
    {
        let mut stream =
            sqlx::query(sqlx::AssertSqlSafe(wrapped)).bind(byte_limit).bind(row_limit).fetch(&mut *connection);
        while rows.len() < limits.rows {
            let Some(row) = stream.try_next().await.map_err(remote)? else { break };
            if row.try_get_raw(0).map_err(remote)?.is_null() {
                return Err(limits.too_large());
            }
            let text: String = row.try_get(0).map_err(remote)?;
            rows.push(json_row(&text, &mut total, &limits, "MariaDB")?);
        }
        if rows.len() == limits.rows {
            return Ok((rows, false));
        }
    }
    connection.execute("ROLLBACK").await.map_err(remote)?;
    Ok((rows, true))
}

/// The rows of a model's query, streamed from MariaDB by a task that owns the connection and
/// hands over batches through a channel of one: at most two batches are in memory, and the
/// server sends rows only as they are taken.
pub struct Reader {
    batches: tokio::sync::mpsc::Receiver<Result<Vec<Map<String, Value>>, RuntimeError>>,
    task: tokio::task::JoinHandle<()>,
}

impl Reader {
    pub async fn open(
        egress: &EgressPolicy,
        configuration: &Value,
        query: &str,
        batch: usize,
    ) -> Result<Reader, RuntimeError> {
        let mut connection = connect(egress, configuration).await?;
        let remote = |e: sqlx::Error| RuntimeError::Remote(format!("reading the model failed: {}", describe(&e)));
        connection.execute("START TRANSACTION READ ONLY").await.map_err(remote)?;
        let query = query.trim().trim_end_matches(';').to_owned();
        let described = connection
            .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.clone())))
            .await
            .map_err(remote)?;
        let members: Vec<String> =
            described.columns().iter().map(|c| format!("{}, q.{}", literal(c.name()), identifier(c.name()))).collect();
        if members.is_empty() {
            return Err(RuntimeError::Remote("the model's query returns no columns".into()));
        }
        let wrapped = format!("SELECT JSON_OBJECT({}) AS `row` FROM ({query}) AS q", members.join(", "));
        let (sender, batches) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(async move {
            let outcome = {
                let mut stream = sqlx::query(sqlx::AssertSqlSafe(wrapped)).fetch(&mut connection);
                let mut rows = Vec::with_capacity(batch);
                loop {
                    match stream.try_next().await {
                        Ok(Some(row)) => {
                            let parsed =
                                row.try_get::<String, _>(0).map_err(remote).and_then(
                                    |text| match serde_json::from_str(&text) {
                                        Ok(Value::Object(map)) => Ok(map),
                                        _ => Err(RuntimeError::Remote(
                                            "MariaDB returned a row that is not a JSON object".into(),
                                        )),
                                    },
                                );
                            match parsed {
                                Ok(map) => rows.push(map),
                                Err(error) => break Err(error),
                            }
                            if rows.len() == batch && sender.send(Ok(std::mem::take(&mut rows))).await.is_err() {
                                break Ok(false);
                            }
                        }
                        Ok(None) => break Ok(true),
                        Err(error) => break Err(remote(error)),
                    }
                }
                .map(|finished| (finished, rows))
            };
            match outcome {
                Ok((true, rest)) => {
                    if !rest.is_empty() {
                        let _ = sender.send(Ok(rest)).await;
                    }
                    let _ = sender.send(Ok(Vec::new())).await;
                    let _ = connection.execute("ROLLBACK").await;
                    let _ = connection.close().await;
                }
                Ok((false, _)) => {}
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                }
            }
        });
        Ok(Reader { batches, task })
    }

    /// The next rows; empty at the end.
    pub async fn next_batch(&mut self) -> Result<Vec<Map<String, Value>>, RuntimeError> {
        self.batches.recv().await.unwrap_or_else(|| Ok(Vec::new()))
    }

    pub async fn close(self) {
        self.task.abort();
    }
}
