//! The one door of the store to its database: a query is SQL text with numbered `$n`
//! placeholders and bound values, run on whichever engine the store opened, and answered
//! with rows that read the same on both.
//!
//! The engines are reached differently because they cost differently. PostgreSQL is a
//! server: sqlx's native PostgreSQL pool, asynchronous. SQLite is a library call of a few
//! microseconds: through sqlx every query crossed to a worker thread and back (two thread
//! wake-ups, most of a show's cost in the profile), so here each query runs on the calling
//! thread through rusqlite, with the statement prepared once per connection and cached.
//! Reads go to a small set of read connections (WAL lets them read while a write is under
//! way); every write goes to the one write connection, taken in turn by an async lock, so
//! writers of this process queue without blocking a thread and never meet SQLite's busy
//! error, and writes that queue together are committed together ([`Sqlite::write`]). A
//! transaction holds the write connection from `BEGIN IMMEDIATE` to its end and
//! runs its statements with `block_in_place`, so that a sync's batch of thousands of rows
//! does not stall the other requests of the runtime thread it runs on.
//!
//! Nothing here knows tables or rules; [`super`] writes the SQL once for both engines.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Column, Row as _, TypeInfo, ValueRef as _};

/// How many prepared statements each SQLite connection keeps.
const STATEMENTS_CACHED: usize = 128;
/// A bound text longer than this makes a statement a batch's (see `Query::is_batch`).
const BATCH_PARAM_BYTES: usize = 4096;
/// How many idle SQLite read connections are kept for reuse.
const READERS_KEPT: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// sqlx's: PostgreSQL, and SQLite while its migrations are applied.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("column {0} is missing or of another type")]
    Column(String),
    #[error("the query returned no row")]
    NoRow,
    /// The commit of a group of writes failed (see `Sqlite::write`): every write of the group
    /// is undone and gets this error.
    #[error("committing a group of writes: {0}")]
    GroupCommit(String),
}

impl DatabaseError {
    fn sqlite_extended(&self) -> Option<i32> {
        match self {
            DatabaseError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => Some(error.extended_code),
            _ => None,
        }
    }

    /// A unique or primary-key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DatabaseError::Sqlx(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => matches!(
                self.sqlite_extended(),
                Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
            ),
        }
    }

    /// A foreign-key constraint refused the write.
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            DatabaseError::Sqlx(sqlx::Error::Database(db)) => db.is_foreign_key_violation(),
            // A RESTRICT met while a trigger of the same statement runs (the connector count
            // triggers) comes as SQLITE_CONSTRAINT_TRIGGER: only its message says foreign key.
            DatabaseError::Sqlite(rusqlite::Error::SqliteFailure(error, message)) => {
                error.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
                    || (error.code == rusqlite::ffi::ErrorCode::ConstraintViolation
                        && message.as_deref().is_some_and(|m| m.contains("FOREIGN KEY")))
            }
            _ => false,
        }
    }
}

/// A bound value.
#[derive(Clone, Debug)]
pub enum Param {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(Some(value)) => ToSqlOutput::from(*value),
            Param::Real(Some(value)) => ToSqlOutput::from(*value),
            Param::Text(Some(value)) => ToSqlOutput::from(value.as_str()),
            Param::Int(None) | Param::Real(None) | Param::Text(None) => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

impl From<i64> for Param {
    fn from(value: i64) -> Param {
        Param::Int(Some(value))
    }
}
impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Param {
        Param::Int(value)
    }
}
impl From<&Option<i64>> for Param {
    fn from(value: &Option<i64>) -> Param {
        Param::Int(*value)
    }
}
impl From<Option<f64>> for Param {
    fn from(value: Option<f64>) -> Param {
        Param::Real(value)
    }
}
impl From<String> for Param {
    fn from(value: String) -> Param {
        Param::Text(Some(value))
    }
}
impl From<&String> for Param {
    fn from(value: &String) -> Param {
        Param::Text(Some(value.clone()))
    }
}
impl From<&str> for Param {
    fn from(value: &str) -> Param {
        Param::Text(Some(value.to_owned()))
    }
}
impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Param {
        Param::Text(value)
    }
}
impl From<&Option<String>> for Param {
    fn from(value: &Option<String>) -> Param {
        Param::Text(value.clone())
    }
}
impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Param {
        Param::Text(value.map(str::to_owned))
    }
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A row of a result, read by column name.
#[derive(Debug)]
pub struct Row {
    columns: Arc<[String]>,
    cells: Vec<Cell>,
}

/// A Rust value a [`Row`] cell can be read as.
pub trait FromCell: Sized {
    #[doc(hidden)]
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> Option<i64> {
        match cell {
            Cell::Int(value) => Some(*value),
            _ => None,
        }
    }
}
impl FromCell for f64 {
    fn from_cell(cell: &Cell) -> Option<f64> {
        match cell {
            Cell::Real(value) => Some(*value),
            // SQLite keeps a whole REAL value as written; a number is a number.
            Cell::Int(value) => Some(*value as f64),
            _ => None,
        }
    }
}
impl FromCell for String {
    fn from_cell(cell: &Cell) -> Option<String> {
        match cell {
            Cell::Text(value) => Some(value.clone()),
            _ => None,
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> Option<Option<T>> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

impl Row {
    pub fn try_get<T: FromCell>(&self, column: &str) -> Result<T, DatabaseError> {
        let index =
            self.columns.iter().position(|c| c == column).ok_or_else(|| DatabaseError::Column(column.into()))?;
        T::from_cell(&self.cells[index]).ok_or_else(|| DatabaseError::Column(column.into()))
    }

    /// The first column, for single-value queries.
    fn first<T: FromCell>(&self) -> Result<T, DatabaseError> {
        let cell = self.cells.first().ok_or_else(|| DatabaseError::Column("0".into()))?;
        T::from_cell(cell).ok_or_else(|| DatabaseError::Column(self.columns[0].clone()))
    }
}

/// An open database (one per store: the size of the variants does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Pool {
    Sqlite(Sqlite),
    Postgres(PgPool),
}

/// Commits `group` (see [`Sqlite::write`]) and answers each write.
fn commit_group(connection: &rusqlite::Connection, mut group: Vec<QueuedWrite>) {
    let run = |write: &QueuedWrite| write.query.on_connection(connection, write.keep);
    if group.len() == 1 {
        let write = group.pop().expect("one write");
        let result = run(&write);
        let _ = write.answer.send(result);
        return;
    }
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        for write in group {
            let _ = write.answer.send(Err(DatabaseError::GroupCommit(error.to_string())));
        }
        return;
    }
    let mut results = Vec::with_capacity(group.len());
    for write in &group {
        let result = connection.execute_batch("SAVEPOINT queued_write").map_err(DatabaseError::from).and_then(|()| {
            let result = run(write);
            let end = match result {
                Ok(_) => "RELEASE queued_write",
                Err(_) => "ROLLBACK TO queued_write; RELEASE queued_write",
            };
            connection.execute_batch(end)?;
            result
        });
        results.push(result);
    }
    match connection.execute_batch("COMMIT") {
        Ok(()) => {
            for (write, result) in group.into_iter().zip(results) {
                let _ = write.answer.send(result);
            }
        }
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            for write in group {
                let _ = write.answer.send(Err(DatabaseError::GroupCommit(error.to_string())));
            }
        }
    }
}

/// `$n`, the name SQLite gives placeholder `n`; the common ones made once.
fn placeholder(n: usize) -> std::borrow::Cow<'static, str> {
    static NAMES: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| (0..=32).map(|n| format!("${n}")).collect());
    match NAMES.get(n) {
        Some(name) => std::borrow::Cow::Borrowed(name.as_str()),
        None => std::borrow::Cow::Owned(format!("${n}")),
    }
}

/// SQLite: one write connection and a few read connections of one file.
pub struct Sqlite {
    path: std::path::PathBuf,
    writer: tokio::sync::Mutex<rusqlite::Connection>,
    readers: Mutex<Vec<rusqlite::Connection>>,
    /// Writes waiting for the write connection: whoever takes it next commits them all.
    queued: Mutex<Vec<QueuedWrite>>,
}

/// A write outside a transaction, waiting in [`Sqlite::write`].
struct QueuedWrite {
    query: Query,
    keep: Option<usize>,
    answer: tokio::sync::oneshot::Sender<Outcome>,
}

/// What a statement answers: its rows (as many as asked for) and how many rows it changed.
type Outcome = Result<(Vec<Row>, u64), DatabaseError>;

/// Above this many writes (or with a batch's statement among them), a group commits through
/// [`blocking`].
const GROUP_INLINE: usize = 8;

/// The settings of every SQLite connection (see the store's documentation for why).
const SQLITE_SETTINGS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

/// The page cache of the write connection, in KiB: it keeps every page it touches (writes of
/// other connections no longer empty it), so this bounds most of the store's memory.
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// The page cache of each read connection, in KiB (a sync's fingerprint lookups read here).
const READER_CACHE_KIB: i64 = 8 * 1024;

fn sqlite_connection(path: &std::path::Path, cache_kib: i64) -> Result<rusqlite::Connection, DatabaseError> {
    let connection = rusqlite::Connection::open(path)?;
    connection.execute_batch(SQLITE_SETTINGS)?;
    // A negative cache size is in KiB.
    connection.execute_batch(&format!("PRAGMA cache_size = -{cache_kib};"))?;
    connection.set_prepared_statement_cache_capacity(STATEMENTS_CACHED);
    Ok(connection)
}

impl Pool {
    /// Opens an SQLite file (created if missing) after applying the migrations, with sqlx's
    /// migrator (so the record of applied migrations stays where earlier versions kept it).
    pub async fn open_sqlite(url: &str, migrator: &sqlx::migrate::Migrator) -> Result<Pool, super::StoreError> {
        use sqlx::ConnectOptions;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .map_err(DatabaseError::Sqlx)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename().to_owned();
        let mut connection = options.connect().await.map_err(DatabaseError::Sqlx)?;
        migrator.run(&mut connection).await?;
        sqlx::Connection::close(connection).await.map_err(DatabaseError::Sqlx)?;
        let writer = sqlite_connection(&path, WRITER_CACHE_KIB)?;
        Ok(Pool::Sqlite(Sqlite {
            path,
            writer: tokio::sync::Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            queued: Mutex::new(Vec::new()),
        }))
    }

    pub async fn open_postgres(url: &str, migrator: &sqlx::migrate::Migrator) -> Result<Pool, super::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(DatabaseError::Sqlx)?;
        migrator.run(&pool).await?;
        Ok(Pool::Postgres(pool))
    }

    pub async fn close(&self) {
        match self {
            // Waits for the write under way; connections close when the store is dropped.
            Pool::Sqlite(sqlite) => drop(sqlite.writer.lock().await),
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Starts a transaction: on SQLite it holds the write connection until it ends.
    pub async fn begin(&self) -> Result<Transaction<'_>, DatabaseError> {
        match self {
            Pool::Sqlite(sqlite) => {
                let connection = sqlite.writer.lock().await;
                blocking(|| connection.execute_batch("BEGIN IMMEDIATE"))?;
                Ok(Transaction::Sqlite(SqliteTransaction { connection, open: true }))
            }
            Pool::Postgres(pool) => Ok(Transaction::Postgres(pool.begin().await?)),
        }
    }
}

/// Runs `work` where a long statement does not hold up the runtime thread's other tasks:
/// through `block_in_place` on a multi-threaded runtime, inline on a single-threaded one.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// An open transaction; dropped without [`Transaction::commit`], it rolls back.
pub enum Transaction<'p> {
    Sqlite(SqliteTransaction<'p>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// The write connection, inside `BEGIN IMMEDIATE` while `open`.
pub struct SqliteTransaction<'p> {
    connection: tokio::sync::MutexGuard<'p, rusqlite::Connection>,
    open: bool,
}

impl Transaction<'_> {
    pub async fn commit(self) -> Result<(), DatabaseError> {
        match self {
            Transaction::Sqlite(mut transaction) => {
                blocking(|| transaction.connection.execute_batch("COMMIT"))?;
                transaction.open = false;
                Ok(())
            }
            Transaction::Postgres(transaction) => Ok(transaction.commit().await?),
        }
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Should the rollback fail, the next `BEGIN IMMEDIATE` fails and says why.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
    }
}

/// Where a query runs: on the pool, or inside a transaction.
pub enum On<'a, 'p> {
    Pool(&'a Pool),
    Transaction(&'a mut Transaction<'p>),
}

impl<'a> From<&'a Pool> for On<'a, 'a> {
    fn from(pool: &'a Pool) -> Self {
        On::Pool(pool)
    }
}

impl<'a, 'p> From<&'a mut Transaction<'p>> for On<'a, 'p> {
    fn from(transaction: &'a mut Transaction<'p>) -> Self {
        On::Transaction(transaction)
    }
}

/// SQL with numbered `$n` placeholders and the values bound to them, in order.
#[must_use]
pub struct Query {
    sql: String,
    params: Vec<Param>,
}

/// Starts a query. The SQL is the store's own text; values arrive only as bound parameters.
pub fn query(sql: impl Into<String>) -> Query {
    Query { sql: sql.into(), params: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Param>) -> Query {
        self.params.push(value.into());
        self
    }

    pub async fn fetch_all<'a, 'p>(self, on: impl Into<On<'a, 'p>>) -> Result<Vec<Row>, DatabaseError>
    where
        'p: 'a,
    {
        self.run(on.into(), None).await.map(|(rows, _)| rows)
    }

    pub async fn fetch_optional<'a, 'p>(self, on: impl Into<On<'a, 'p>>) -> Result<Option<Row>, DatabaseError>
    where
        'p: 'a,
    {
        Ok(self.run(on.into(), Some(1)).await?.0.into_iter().next())
    }

    pub async fn fetch_one<'a, 'p>(self, on: impl Into<On<'a, 'p>>) -> Result<Row, DatabaseError>
    where
        'p: 'a,
    {
        self.fetch_optional(on).await?.ok_or(DatabaseError::NoRow)
    }

    /// The first column of the first row.
    pub async fn fetch_scalar<'a, 'p, T: FromCell>(self, on: impl Into<On<'a, 'p>>) -> Result<T, DatabaseError>
    where
        'p: 'a,
    {
        self.fetch_one(on).await?.first()
    }

    /// The first column of the first row, if there is a row.
    pub async fn fetch_optional_scalar<'a, 'p, T: FromCell>(
        self,
        on: impl Into<On<'a, 'p>>,
    ) -> Result<Option<T>, DatabaseError>
    where
        'p: 'a,
    {
        self.fetch_optional(on).await?.map(|row| row.first()).transpose()
    }

    /// The first column of every row.
    pub async fn fetch_all_scalars<'a, 'p, T: FromCell>(
        self,
        on: impl Into<On<'a, 'p>>,
    ) -> Result<Vec<T>, DatabaseError>
    where
        'p: 'a,
    {
        self.fetch_all(on).await?.iter().map(Row::first).collect()
    }

    /// Runs a statement; returns how many rows it changed.
    pub async fn execute<'a, 'p>(self, on: impl Into<On<'a, 'p>>) -> Result<u64, DatabaseError>
    where
        'p: 'a,
    {
        self.run(on.into(), Some(0)).await.map(|(_, changed)| changed)
    }

    /// Runs the query, keeping at most `keep` rows (all when `None`); returns them and how
    /// many rows a write changed.
    async fn run(self, on: On<'_, '_>, keep: Option<usize>) -> Outcome {
        match on {
            On::Pool(Pool::Sqlite(sqlite)) => {
                // A read runs on a read connection; a write on the write connection, in turn.
                let reader = sqlite.reader()?;
                let read = {
                    let mut statement = reader.prepare_cached(&self.sql)?;
                    statement.readonly().then(|| self.on_sqlite(&mut statement, &reader, keep))
                };
                sqlite.give_back(reader);
                match read {
                    Some(result) => result,
                    None => sqlite.write(self, keep).await,
                }
            }
            On::Transaction(Transaction::Sqlite(transaction)) => {
                blocking(|| self.on_connection(&transaction.connection, keep))
            }
            // Boxed, so that the SQLite path's future does not carry the size of sqlx's:
            // dropshot moves every handler's future, and its size was a copy per request.
            On::Pool(Pool::Postgres(pool)) => {
                Box::pin(async move {
                    let mut connection = pool.acquire().await?;
                    self.on_postgres(&mut connection, keep).await
                })
                .await
            }
            On::Transaction(Transaction::Postgres(transaction)) => Box::pin(self.on_postgres(transaction, keep)).await,
        }
    }

    /// Whether this is a statement over a whole batch (a sync's), bound as one large JSON
    /// parameter.
    fn is_batch(&self) -> bool {
        self.params.iter().any(|p| matches!(p, Param::Text(Some(text)) if text.len() > BATCH_PARAM_BYTES))
    }

    /// A statement over a whole batch (a sync's, bound as one large JSON parameter) runs
    /// through [`blocking`]; a single row's runs inline, where a thread hop would cost more
    /// than the statement.
    fn on_sqlite(
        &self,
        statement: &mut rusqlite::CachedStatement<'_>,
        connection: &rusqlite::Connection,
        keep: Option<usize>,
    ) -> Outcome {
        match self.is_batch() {
            true => blocking(|| self.on_sqlite_inline(statement, connection, keep)),
            false => self.on_sqlite_inline(statement, connection, keep),
        }
    }

    /// Prepares (or finds cached) and runs the statement on `connection`, inline.
    fn on_connection(&self, connection: &rusqlite::Connection, keep: Option<usize>) -> Outcome {
        self.on_sqlite_inline(&mut connection.prepare_cached(&self.sql)?, connection, keep)
    }

    fn on_sqlite_inline(
        &self,
        statement: &mut rusqlite::CachedStatement<'_>,
        connection: &rusqlite::Connection,
        keep: Option<usize>,
    ) -> Outcome {
        // `$n` placeholders are named parameters to SQLite: bind each by its name.
        for (i, param) in self.params.iter().enumerate() {
            if let Some(index) = statement.parameter_index(&placeholder(i + 1))? {
                statement.raw_bind_parameter(index, param)?;
            }
        }
        let columns: Arc<[String]> = statement.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = statement.raw_query();
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            if keep.is_some_and(|keep| found.len() >= keep) {
                continue;
            }
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                cells.push(match row.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(value) => Cell::Int(value),
                    ValueRef::Real(value) => Cell::Real(value),
                    ValueRef::Text(text) | ValueRef::Blob(text) => {
                        Cell::Text(String::from_utf8_lossy(text).into_owned())
                    }
                });
            }
            found.push(Row { columns: columns.clone(), cells });
        }
        drop(rows);
        Ok((found, connection.changes()))
    }

    async fn on_postgres(self, connection: &mut sqlx::PgConnection, keep: Option<usize>) -> Outcome {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for param in self.params {
            query = match param {
                Param::Int(value) => query.bind(value),
                Param::Real(value) => query.bind(value),
                Param::Text(value) => query.bind(value),
            };
        }
        if keep == Some(0) {
            return Ok((Vec::new(), query.execute(connection).await?.rows_affected()));
        }
        let rows = query.fetch_all(connection).await?;
        let mut found = Vec::with_capacity(rows.len());
        let mut columns: Option<Arc<[String]>> = None;
        for row in rows.iter().take(keep.unwrap_or(usize::MAX)) {
            let columns =
                columns.get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_owned()).collect()).clone();
            found.push(Row { cells: postgres_cells(row)?, columns });
        }
        Ok((found, 0))
    }
}

/// The cells of a PostgreSQL row, by the column types the store's tables use.
fn postgres_cells(row: &PgRow) -> Result<Vec<Cell>, DatabaseError> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            cells.push(Cell::Null);
            continue;
        }
        cells.push(match column.type_info().name() {
            "INT8" => Cell::Int(row.try_get::<i64, _>(i)?),
            "INT4" => Cell::Int(row.try_get::<i32, _>(i)?.into()),
            "INT2" => Cell::Int(row.try_get::<i16, _>(i)?.into()),
            "BOOL" => Cell::Int(row.try_get::<bool, _>(i)?.into()),
            "FLOAT8" => Cell::Real(row.try_get::<f64, _>(i)?),
            "FLOAT4" => Cell::Real(row.try_get::<f32, _>(i)?.into()),
            _ => Cell::Text(row.try_get::<String, _>(i)?),
        });
    }
    Ok(cells)
}

impl Sqlite {
    /// Group commit. A write outside a transaction queues, then waits for the write
    /// connection; whoever gets it takes every queued write and commits them in one
    /// transaction, each in a savepoint of its own (a write that fails, a duplicate name say,
    /// is undone alone and answered with its error), and answers each only after the commit.
    /// Under load, one commit (SQLite's own cost, and the WAL frames of the pages the writes
    /// share) serves many writes; alone, a write commits by itself as before. Nothing is
    /// answered before it is committed, so an acknowledged write survives a crash of the
    /// process as before.
    async fn write(&self, query: Query, keep: Option<usize>) -> Outcome {
        let (answer, mut answered) = tokio::sync::oneshot::channel();
        self.queued.lock().expect("the write queue is never poisoned").push(QueuedWrite { query, keep, answer });
        let writer = self.writer.lock().await;
        // Queued before the connection was taken: either an earlier holder committed this
        // write, or it is among those taken now.
        if let Ok(result) = answered.try_recv() {
            return result;
        }
        let group = std::mem::take(&mut *self.queued.lock().expect("the write queue is never poisoned"));
        let heavy = group.len() > GROUP_INLINE || group.iter().any(|write| write.query.is_batch());
        match heavy {
            true => blocking(|| commit_group(&writer, group)),
            false => commit_group(&writer, group),
        }
        drop(writer);
        answered.await.unwrap_or_else(|_| Err(DatabaseError::GroupCommit("the write was dropped".into())))
    }

    /// An idle read connection, or a new one.
    fn reader(&self) -> Result<rusqlite::Connection, DatabaseError> {
        let idle = self.readers.lock().expect("the reader list is never poisoned").pop();
        match idle {
            Some(connection) => Ok(connection),
            None => sqlite_connection(&self.path, READER_CACHE_KIB),
        }
    }

    fn give_back(&self, connection: rusqlite::Connection) {
        let mut readers = self.readers.lock().expect("the reader list is never poisoned");
        if readers.len() < READERS_KEPT {
            readers.push(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(sql: &str, value: i64) -> (QueuedWrite, tokio::sync::oneshot::Receiver<Outcome>) {
        let (answer, answered) = tokio::sync::oneshot::channel();
        (QueuedWrite { query: query(sql).bind(value), keep: Some(1), answer }, answered)
    }

    #[test]
    fn a_group_commits_together_and_a_failing_write_alone_is_undone() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
        let insert = "INSERT INTO t (x) VALUES ($1) RETURNING x";
        let (first, first_answer) = queued(insert, 1);
        let (duplicate, duplicate_answer) = queued(insert, 1);
        let (second, second_answer) = queued(insert, 2);
        commit_group(&connection, vec![first, duplicate, second]);

        let (rows, changed) = first_answer.blocking_recv().unwrap().unwrap();
        assert_eq!((rows[0].try_get::<i64>("x").unwrap(), changed), (1, 1));
        assert!(duplicate_answer.blocking_recv().unwrap().unwrap_err().is_unique_violation());
        assert_eq!(second_answer.blocking_recv().unwrap().unwrap().0[0].try_get::<i64>("x").unwrap(), 2);
        let kept: Vec<i64> = connection
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept, [1, 2]);
        assert!(connection.is_autocommit(), "the group's transaction is closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_each_answered_with_their_own_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db").display());
        let pool = std::sync::Arc::new(Pool::open_sqlite(&url, &sqlx::migrate!("./migrations/sqlite")).await.unwrap());
        let Pool::Sqlite(sqlite) = &*pool else { unreachable!() };
        sqlite.writer.lock().await.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
        // 200 writes of 100 values: each value's first write wins, its second is refused.
        let tasks: Vec<_> = (0..200i64)
            .map(|n| {
                let pool = pool.clone();
                tokio::spawn(async move { query("INSERT INTO t (x) VALUES ($1)").bind(n % 100).execute(&*pool).await })
            })
            .collect();
        let mut written = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(changed) => written += changed,
                Err(error) => assert!(error.is_unique_violation(), "{error}"),
            }
        }
        assert_eq!(written, 100);
        let count: i64 = query("SELECT COUNT(*) FROM t").fetch_scalar(&*pool).await.unwrap();
        assert_eq!(count, 100);
    }
}
