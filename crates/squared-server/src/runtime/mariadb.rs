//! MariaDB (and MySQL): check, discover and query as a source; upsert and delete rows as a
//! destination.

use futures::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{Column, ConnectOptions, Connection, Executor, Row, ValueRef};
use squared_types::Stream;

use super::{
    Batch, QueryLimits, ReadPlan, RuntimeError, STATEMENT_TIMEOUT_SECONDS, batch_of, connect_first, describe, json_row,
    port, streams_of, text, upsert_columns,
};
use crate::egress::EgressPolicy;
use crate::sync::values::{self, Kind, Record};
use serde_json::value::RawValue;

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
    let keys = sqlx::query(
        "SELECT CAST(table_name AS CHAR) AS table_name, CAST(column_name AS CHAR) AS column_name \
         FROM information_schema.key_column_usage WHERE table_schema = ? AND constraint_name = 'PRIMARY' \
         ORDER BY table_name, ordinal_position",
    )
    .bind(database)
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
        let (json_type, format) = json_type(&data_type.to_lowercase());
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

/// What the table a query's column comes from says of it.
#[derive(Clone, Copy, Debug, Default)]
struct Origin {
    /// Bytes: a BLOB, BINARY or VARBINARY without a character set (not text in a `_bin`
    /// collation, which the driver names alike).
    bytes: bool,
    /// JSON: MariaDB's JSON (LONGTEXT with a `json_valid` check) or MySQL's.
    json: bool,
}

/// The origin of each column of a described query that comes from a table, from
/// `information_schema`; `None` for a computed column.
async fn origins(
    connection: &mut MySqlConnection,
    described: &sqlx::Describe<sqlx::MySql>,
) -> Result<Vec<Option<Origin>>, sqlx::Error> {
    let mut origins = Vec::with_capacity(described.columns().len());
    for column in described.columns() {
        let sqlx::ColumnOrigin::Table(origin) = column.origin() else {
            origins.push(None);
            continue;
        };
        let (schema, table) = match origin.table.split_once('.') {
            Some((schema, table)) => (Some(schema.to_owned()), table.to_owned()),
            None => (None, origin.table.to_string()),
        };
        let row = sqlx::query(
            "SELECT CAST(c.data_type AS CHAR) AS data_type, c.character_set_name IS NULL AS binary_set, \
             EXISTS (SELECT 1 FROM information_schema.check_constraints k WHERE k.constraint_schema = c.table_schema \
                 AND k.table_name = c.table_name \
                 AND k.check_clause LIKE CONCAT('%json_valid(`', c.column_name, '`)%')) AS json_check \
             FROM information_schema.columns c \
             WHERE c.table_schema = COALESCE(?, DATABASE()) AND c.table_name = ? AND c.column_name = ?",
        )
        .bind(schema)
        .bind(table)
        .bind(origin.name.to_string())
        .fetch_optional(&mut *connection)
        .await?;
        origins.push(row.map(|row| {
            let data_type = row.get::<String, _>("data_type").to_ascii_lowercase();
            let binary_set = row.get::<i64, _>("binary_set") != 0;
            let bytes_type =
                matches!(data_type.as_str(), "tinyblob" | "blob" | "mediumblob" | "longblob" | "binary" | "varbinary");
            Origin {
                bytes: bytes_type && binary_set,
                json: data_type == "json" || row.get::<i64, _>("json_check") != 0,
            }
        }));
    }
    Ok(origins)
}

/// The `'name', value` members of a `JSON_OBJECT` over the columns of a described query, each
/// value in its canonical JSON form (see [`crate::sync::values`]).
async fn json_members(
    connection: &mut MySqlConnection,
    described: &sqlx::Describe<sqlx::MySql>,
) -> Result<Vec<String>, sqlx::Error> {
    let origins = origins(connection, described).await?;
    Ok(described
        .columns()
        .iter()
        .zip(origins)
        .map(|(c, origin)| {
            let value = json_member(c.name(), sqlx::TypeInfo::name(c.type_info()), origin);
            format!("{}, {value}", literal(c.name()))
        })
        .collect())
}

/// A column of the wrapped query as `JSON_OBJECT` should see it, by its origin and the type the
/// driver names: JSON as JSON; `FLOAT` at full precision (MariaDB would print 6 significant
/// digits); `TINYINT(1)` as a JSON boolean; `TIMESTAMP` as RFC 3339 with its offset (the
/// session is in UTC); bytes as PostgreSQL's hex text `\x…` (raw bytes are no JSON text); `BIT`
/// as a number.
fn json_member(name: &str, type_name: &str, origin: Option<Origin>) -> String {
    let column = format!("q.{}", identifier(name));
    let hex = format!("CONCAT(CHAR(92 USING utf8mb4), 'x', LOWER(HEX({column})))");
    match (type_name, origin) {
        (_, Some(Origin { json: true, .. })) => column,
        (_, Some(Origin { bytes: true, .. })) => hex,
        ("FLOAT", _) => format!("CAST({column} AS DOUBLE)"),
        ("BOOLEAN", _) => format!(
            "IF({column} IS NULL, NULL, IF({column} <> 0, JSON_EXTRACT('true', '$'), JSON_EXTRACT('false', '$')))"
        ),
        ("TIMESTAMP", _) => format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%f+00:00')"),
        ("TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY", None) => {
            format!("IF(CHARSET({column}) = 'binary', {hex}, {column})")
        }
        ("BIT", _) => format!("CAST({column} AS UNSIGNED)"),
        _ => column,
    }
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
    // Times in UTC: a TIMESTAMP is read as UTC, with its offset (see `json_member`).
    connection.execute("SET time_zone = '+00:00'").await.map_err(remote)?;
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
    let members = json_members(connection, &described).await.map_err(remote)?;
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
    batches: tokio::sync::mpsc::Receiver<Result<Batch, RuntimeError>>,
    task: tokio::task::JoinHandle<()>,
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
        // Times in UTC: a TIMESTAMP is read as UTC, with its offset (see `json_member`).
        connection.execute("SET time_zone = '+00:00'").await.map_err(remote)?;
        connection.execute("START TRANSACTION READ ONLY").await.map_err(remote)?;
        let query = plan.query.trim().trim_end_matches(';').to_owned();
        let described = connection
            .describe(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(query.clone())))
            .await
            .map_err(remote)?;
        let names: Vec<&str> = described.columns().iter().map(|c| c.name()).collect();
        let members = json_members(&mut connection, &described).await.map_err(remote)?;
        if members.is_empty() {
            return Err(RuntimeError::Remote("the model's query returns no columns".into()));
        }
        let fields = [Some(&plan.key_field), plan.order.as_ref().map(|o| &o.cursor_field)];
        for field in fields.into_iter().flatten() {
            if !names.contains(&field.as_str()) {
                return Err(RuntimeError::BadConfiguration(format!("the model's query has no column `{field}`")));
            }
        }
        let key = identifier(&plan.key_field);
        let columns = format!("SELECT JSON_OBJECT({}) AS `row`, CAST(q.{key} AS CHAR)", members.join(", "));
        let mut parameters = Vec::new();
        let wrapped = match &plan.order {
            None => format!("{columns} FROM ({query}) AS q"),
            Some(order) => {
                let cursor = identifier(&order.cursor_field);
                // MariaDB orders nulls first; it compares the text parameters in the columns' types.
                let columns = format!("{columns}, CAST(q.{cursor} AS CHAR) FROM ({query}) AS q");
                match &order.after {
                    None => format!("{columns} ORDER BY q.{cursor}, q.{key}"),
                    Some(after) => {
                        parameters.extend([after.cursor.clone(), after.key.clone()]);
                        format!("{columns} WHERE (q.{cursor}, q.{key}) > (?, ?) ORDER BY q.{cursor}, q.{key}")
                    }
                }
            }
        };
        let ordered = plan.order.is_some();
        let key_field = plan.key_field.clone();
        let (sender, batches) = tokio::sync::mpsc::channel(1);
        let task = tokio::spawn(async move {
            let outcome = {
                let mut select = sqlx::query(sqlx::AssertSqlSafe(wrapped));
                for parameter in parameters {
                    select = select.bind(parameter);
                }
                let mut stream = select.fetch(&mut connection);
                let mut rows = Vec::with_capacity(batch);
                loop {
                    match stream.try_next().await {
                        Ok(Some(row)) => {
                            let raw = match ordered {
                                false => row.try_get(0).and_then(|text| Ok((text, row.try_get(1)?, None))),
                                true => row.try_get(0).and_then(|text| Ok((text, row.try_get(1)?, row.try_get(2)?))),
                            };
                            match raw {
                                Ok(raw) => rows.push(raw),
                                Err(error) => break Err(remote(error)),
                            }
                            if rows.len() == batch {
                                let full = batch_of(std::mem::take(&mut rows), &key_field);
                                let failed = full.is_err();
                                if sender.send(full).await.is_err() || failed {
                                    break Ok((false, Vec::new()));
                                }
                            }
                        }
                        Ok(None) => break Ok((true, rows)),
                        Err(error) => break Err(remote(error)),
                    }
                }
            };
            match outcome {
                Ok((true, rest)) => {
                    if !rest.is_empty() {
                        let _ = sender.send(batch_of(rest, &key_field)).await;
                    }
                    let _ = sender.send(Ok(Batch::default())).await;
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
    pub async fn next_batch(&mut self) -> Result<Batch, RuntimeError> {
        self.batches.recv().await.unwrap_or_else(|| Ok(Batch::default()))
    }

    pub async fn close(self) {
        self.task.abort();
    }
}

/// The most placeholders one MariaDB statement may carry.
const MAX_PLACEHOLDERS: usize = 65_535;

/// What a destination column takes, as far as a value's form must change for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColumnType {
    /// `DATETIME`, `TIMESTAMP`: a time without an offset, in UTC.
    DateTime,
    /// `BLOB`s, `BINARY`, `VARBINARY`: bytes.
    Bytes,
    /// `JSON`: JSON text, a bare string with its quotes.
    Json,
    /// Anything else: the value as MariaDB converts it.
    Other,
}

impl ColumnType {
    fn of(data_type: &str) -> ColumnType {
        match data_type.to_ascii_lowercase().as_str() {
            "datetime" | "timestamp" => ColumnType::DateTime,
            "tinyblob" | "blob" | "mediumblob" | "longblob" | "binary" | "varbinary" => ColumnType::Bytes,
            "json" => ColumnType::Json,
            _ => ColumnType::Other,
        }
    }
}

/// A value (canonical JSON, see [`crate::sync::values`]) as a MariaDB parameter for a column of
/// `column` type: exact numbers as their digits (MariaDB reads them into the column's type
/// exactly), booleans as 1/0, a time with an offset as UTC without one, PostgreSQL's hex text
/// of bytes as the bytes, JSON as its text for a JSON column, objects and arrays as JSON text.
fn bind_value<'q>(
    query: sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>,
    value: Option<&RawValue>,
    column: ColumnType,
) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
    let Some(value) = value else { return query.bind(None::<String>) };
    match (values::kind(value), column) {
        (Kind::Null, _) => query.bind(None::<String>),
        (_, ColumnType::Json) => query.bind(value.get().to_owned()),
        (Kind::Bool(b), _) => query.bind(b),
        (Kind::Number, _) => match value.get().parse::<i64>() {
            Ok(i) => query.bind(i),
            Err(_) => query.bind(value.get().to_owned()),
        },
        (Kind::String, column) => {
            let text = values::string(value).unwrap_or_default();
            match column {
                ColumnType::DateTime => match chrono::DateTime::parse_from_rfc3339(&text) {
                    Ok(at) => query.bind(at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
                    Err(_) => query.bind(text),
                },
                ColumnType::Bytes => match values::hex_bytes(&text) {
                    Some(bytes) => query.bind(bytes),
                    None => query.bind(text),
                },
                _ => query.bind(text),
            }
        }
        (Kind::Structure, _) => query.bind(value.get().to_owned()),
    }
}

/// Upserts records into one table of a MariaDB destination by its primary key.
pub struct Writer {
    connection: MySqlConnection,
    table: String,
    primary_key: Vec<String>,
    /// What each column of the table takes.
    columns: std::collections::HashMap<String, ColumnType>,
}

impl Writer {
    pub async fn open(
        egress: &EgressPolicy,
        configuration: &Value,
        table: &str,
        primary_key: Vec<String>,
    ) -> Result<Writer, RuntimeError> {
        let database = text(configuration, "/database")?;
        let mut connection = connect(egress, configuration).await?;
        let remote = |e: sqlx::Error| RuntimeError::Remote(describe(&e));
        // Times are written in UTC, also into TIMESTAMP columns.
        connection.execute("SET time_zone = '+00:00'").await.map_err(remote)?;
        // MariaDB's JSON is LONGTEXT with a `json_valid` check; MySQL's is a type of its own.
        let columns = sqlx::query(
            "SELECT CAST(c.column_name AS CHAR) AS column_name, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM information_schema.check_constraints k \
                 WHERE k.constraint_schema = c.table_schema AND k.table_name = c.table_name \
                 AND k.check_clause LIKE CONCAT('%json_valid(`', c.column_name, '`)%')) THEN 'json' \
                 ELSE c.data_type END AS CHAR) AS data_type \
             FROM information_schema.columns c WHERE c.table_schema = ? AND c.table_name = ?",
        )
        .bind(database)
        .bind(table)
        .fetch_all(&mut connection)
        .await
        .map_err(remote)?
        .iter()
        .map(|row| (row.get::<String, _>("column_name"), ColumnType::of(&row.get::<String, _>("data_type"))))
        .collect();
        let table = format!("{}.{}", identifier(database), identifier(table));
        Ok(Writer { connection, table, primary_key, columns })
    }

    /// Writes `records` (all with the same fields) in multi-row statements; when MariaDB
    /// refuses one, one statement per record of it, so that a refused record fails alone.
    pub async fn upsert(&mut self, records: &[Record]) -> Vec<Result<(), String>> {
        let (columns, updated) = match upsert_columns(records, &self.primary_key) {
            Ok(columns) => columns,
            Err(error) => return records.iter().map(|_| Err(error.clone())).collect(),
        };
        if columns.is_empty() {
            return Vec::new();
        }
        let list = columns.iter().map(|c| identifier(c)).collect::<Vec<_>>().join(", ");
        let updates: Vec<String> = updated.iter().map(|c| format!("{0} = VALUES({0})", identifier(c))).collect();
        // With nothing to update, a key that is there already is left as it is.
        let on_duplicate = match updates.is_empty() {
            true => {
                let key = identifier(&self.primary_key[0]);
                format!("{key} = {key}")
            }
            false => updates.join(", "),
        };
        let row = format!("({})", vec!["?"; columns.len()].join(", "));
        let statement = |count: usize| {
            format!(
                "INSERT INTO {} ({list}) VALUES {} ON DUPLICATE KEY UPDATE {on_duplicate}",
                self.table,
                vec![row.as_str(); count].join(", ")
            )
        };
        let per_statement = (MAX_PLACEHOLDERS / columns.len().max(1)).max(1);
        let types: Vec<ColumnType> =
            columns.iter().map(|c| self.columns.get(*c).copied().unwrap_or(ColumnType::Other)).collect();
        let mut outcomes = Vec::with_capacity(records.len());
        for chunk in records.chunks(per_statement) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(statement(chunk.len())));
            for record in chunk {
                for (column, column_type) in columns.iter().zip(&types) {
                    query = bind_value(query, record.get(column), *column_type);
                }
            }
            if query.execute(&mut self.connection).await.is_ok() {
                outcomes.extend(chunk.iter().map(|_| Ok(())));
                continue;
            }
            for record in chunk {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(statement(1)));
                for (column, column_type) in columns.iter().zip(&types) {
                    query = bind_value(query, record.get(column), *column_type);
                }
                outcomes.push(query.execute(&mut self.connection).await.map(|_| ()).map_err(|e| describe(&e)));
            }
        }
        outcomes
    }

    /// Deletes the rows whose (one-column) primary key is one of `keys`, given as text.
    pub async fn delete(&mut self, keys: &[String]) -> Result<(), String> {
        let [key] = self.primary_key.as_slice() else {
            return Err("deleting rows needs a one-column primary key".into());
        };
        for chunk in keys.chunks(MAX_PLACEHOLDERS) {
            let sql = format!(
                "DELETE FROM {} WHERE {} IN ({})",
                self.table,
                identifier(key),
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key.clone());
            }
            query.execute(&mut self.connection).await.map_err(|e| describe(&e))?;
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.connection.close().await;
    }
}
