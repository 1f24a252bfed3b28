//! One SQLite connection, executed in place: statements (prepared once and
//! cached by their text), arguments bound by their `$N` number, rows decoded
//! straight into `AnyRow`, transactions and savepoints counted like sqlx's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Batch, OpenFlags, Statement};
use sqlx_core::any::{
    Any, AnyArguments, AnyColumn, AnyConnectOptions, AnyConnectionBackend, AnyQueryResult, AnyRow,
    AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind,
};
use sqlx_core::describe::Describe;
use sqlx_core::ext::ustr::UStr;
use sqlx_core::{Either, Error, Url};

use super::error::db_error;

/// Statements slower than this are logged (their SQL text, never arguments).
const SLOW_STATEMENT: Duration = Duration::from_secs(1);

/// Prepared statements kept per connection. Baton's SQL texts are static
/// apart from the filter combinations of list queries, a few hundred at most.
const STATEMENT_CACHE: usize = 512;

/// Where and how to open the database file (`sqlite://PATH?mode=rwc`).
#[derive(Debug, Clone)]
pub struct InlineOptions {
    path: PathBuf,
    flags: OpenFlags,
    url: String,
}

impl FromStr for InlineOptions {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| Error::Configuration(format!("not an sqlite URL: {url}").into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(Error::Configuration(
                "sqlite URL needs a file path, e.g. sqlite://baton-data/baton.db".into(),
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("mode", "ro")) => {
                    flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
                }
                Some(("mode", "rw")) => {
                    flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
                }
                Some(("mode", "rwc")) => {}
                _ => {
                    return Err(Error::Configuration(
                        format!("unsupported sqlite URL parameter {pair:?} (only mode=ro|rw|rwc)")
                            .into(),
                    ))
                }
            }
        }
        Ok(InlineOptions {
            path: PathBuf::from(path),
            flags,
            url: url.to_string(),
        })
    }
}

impl<'a> TryFrom<&'a AnyConnectOptions> for InlineOptions {
    type Error = Error;

    fn try_from(opts: &'a AnyConnectOptions) -> Result<Self, Error> {
        opts.database_url.as_str().parse()
    }
}

impl sqlx_core::connection::ConnectOptions for InlineOptions {
    type Connection = InlineConnection;

    fn from_url(url: &Url) -> Result<Self, Error> {
        url.as_str().parse()
    }

    fn to_url_lossy(&self) -> Url {
        Url::parse(&self.url).unwrap_or_else(|_| Url::parse("sqlite://").expect("static URL"))
    }

    fn connect(&self) -> BoxFuture<'_, Result<InlineConnection, Error>> {
        Box::pin(async move { InlineConnection::open(self) })
    }

    /// Statements are not logged one by one (there are tens of thousands a
    /// second); slow ones are, at `warn`.
    fn log_statements(self, _level: log::LevelFilter) -> Self {
        self
    }

    fn log_slow_statements(self, _level: log::LevelFilter, _duration: Duration) -> Self {
        self
    }
}

/// The column names and columns of one statement, shared by its rows.
#[derive(Clone)]
struct Shape {
    names: Arc<sqlx_core::HashMap<UStr, usize>>,
    columns: Vec<AnyColumn>,
}

/// An open SQLite connection that runs statements where they are awaited.
pub struct InlineConnection {
    conn: rusqlite::Connection,
    /// Open transactions and savepoints (sqlx's transaction depth).
    depth: usize,
    /// Result shapes by SQL text, so rows share one name map.
    shapes: HashMap<Box<str>, Shape>,
}

impl std::fmt::Debug for InlineConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineConnection")
            .field("path", &self.conn.path())
            .field("depth", &self.depth)
            .finish()
    }
}

impl InlineConnection {
    fn open(opts: &InlineOptions) -> Result<InlineConnection, Error> {
        let conn = rusqlite::Connection::open_with_flags(&opts.path, opts.flags).map_err(|e| {
            Error::Configuration(format!("cannot open {}: {e}", opts.path.display()).into())
        })?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // sqlx's SQLite defaults, which every Baton connection relies on.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(db_error)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(db_error)?;
        Ok(InlineConnection {
            conn,
            depth: 0,
            shapes: HashMap::new(),
        })
    }

    /// Runs `sql` to completion (or to its first `limit` rows): each
    /// statement's rows, then its result, in order.
    fn run(
        &mut self,
        sql: &str,
        persistent: bool,
        args: Option<AnyArguments<'_>>,
        limit: Option<usize>,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let started = Instant::now();
        let mut out = Vec::new();
        let InlineConnection { conn, shapes, .. } = self;
        match args {
            // Plain text without arguments may hold several statements
            // (pragmas, a migration step).
            None => {
                let mut batch = Batch::new(conn, sql);
                while let Some(mut stmt) = batch.next().map_err(db_error)? {
                    let shape = shape_of(&stmt);
                    let changed = step(conn, &mut stmt, &shape, limit, &mut out)?;
                    out.push(Either::Left(changed));
                }
            }
            Some(args) => {
                let values = args.values.0;
                let result = if persistent {
                    let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
                    bind(&mut stmt, &values)?;
                    let shape = cached_shape(shapes, sql, &stmt);
                    step(conn, &mut stmt, &shape, limit, &mut out)
                } else {
                    let mut stmt = conn.prepare(sql).map_err(db_error)?;
                    bind(&mut stmt, &values)?;
                    let shape = shape_of(&stmt);
                    step(conn, &mut stmt, &shape, limit, &mut out)
                };
                out.push(Either::Left(result?));
            }
        }
        let took = started.elapsed();
        if took >= SLOW_STATEMENT {
            tracing::warn!(
                target: "baton_store::sqlite",
                elapsed_ms = took.as_millis() as u64,
                sql = %sql.chars().take(200).collect::<String>(),
                "slow statement"
            );
        }
        Ok(out)
    }

    fn exec(&mut self, sql: &str) -> Result<(), Error> {
        self.conn.execute_batch(sql).map_err(db_error)
    }

    pub(super) fn tx_begin(&mut self, statement: Option<Cow<'static, str>>) -> Result<(), Error> {
        let sql: Cow<'static, str> = match (self.depth, statement) {
            (0, Some(s)) => s,
            (0, None) => "BEGIN".into(),
            (_, Some(_)) => return Err(Error::InvalidSavePointStatement),
            (d, None) => format!("SAVEPOINT _sqlx_savepoint_{d}").into(),
        };
        self.exec(&sql)?;
        self.depth += 1;
        Ok(())
    }

    pub(super) fn tx_commit(&mut self) -> Result<(), Error> {
        if self.depth == 0 {
            return Ok(());
        }
        let sql = if self.depth == 1 {
            "COMMIT".to_string()
        } else {
            format!("RELEASE SAVEPOINT _sqlx_savepoint_{}", self.depth - 1)
        };
        match self.exec(&sql) {
            Ok(()) => {
                self.depth -= 1;
                Ok(())
            }
            Err(e) => {
                // SQLite may have rolled the transaction back itself.
                if self.conn.is_autocommit() {
                    self.depth = 0;
                }
                Err(e)
            }
        }
    }

    pub(super) fn tx_rollback(&mut self) -> Result<(), Error> {
        if self.depth == 0 {
            return Ok(());
        }
        if self.conn.is_autocommit() {
            // Already rolled back by SQLite (a failed COMMIT, an I/O error).
            self.depth = 0;
            return Ok(());
        }
        let sql = if self.depth == 1 {
            "ROLLBACK".to_string()
        } else {
            format!("ROLLBACK TO SAVEPOINT _sqlx_savepoint_{}", self.depth - 1)
        };
        let result = self.exec(&sql);
        self.depth -= 1;
        result
    }

    pub(super) fn depth(&self) -> usize {
        self.depth
    }
}

/// Binds `values` to the statement's parameters by number: `$3` (or `?3`)
/// is the third value however often and wherever it appears; a bare `?`
/// takes the value at its own position.
fn bind(stmt: &mut Statement<'_>, values: &[AnyValueKind<'_>]) -> Result<(), Error> {
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            None => i,
            Some(name) => name[1..].parse::<usize>().map_err(|_| {
                Error::Protocol(format!("named parameter {name} is not supported; use $N"))
            })?,
        };
        let value = values.get(n.wrapping_sub(1)).ok_or_else(|| {
            Error::Protocol(format!(
                "the statement uses parameter {n} but {} values were bound",
                values.len()
            ))
        })?;
        let v = match value {
            AnyValueKind::Null(_) => ValueRef::Null,
            AnyValueKind::Bool(b) => ValueRef::Integer(*b as i64),
            AnyValueKind::SmallInt(v) => ValueRef::Integer(*v as i64),
            AnyValueKind::Integer(v) => ValueRef::Integer(*v as i64),
            AnyValueKind::BigInt(v) => ValueRef::Integer(*v),
            AnyValueKind::Real(v) => ValueRef::Real(*v as f64),
            AnyValueKind::Double(v) => ValueRef::Real(*v),
            AnyValueKind::Text(t) => ValueRef::Text(t.as_bytes()),
            AnyValueKind::Blob(b) => ValueRef::Blob(b),
            other => {
                return Err(Error::Protocol(format!(
                    "cannot bind {other:?} to an SQLite statement"
                )))
            }
        };
        stmt.raw_bind_parameter(i, ToSqlOutput::Borrowed(v))
            .map_err(db_error)?;
    }
    Ok(())
}

fn shape_of(stmt: &Statement<'_>) -> Shape {
    let mut names = sqlx_core::HashMap::with_capacity(stmt.column_count());
    let mut columns = Vec::with_capacity(stmt.column_count());
    for (ordinal, name) in stmt.column_names().into_iter().enumerate() {
        let name = UStr::new(name);
        names.insert(name.clone(), ordinal);
        columns.push(AnyColumn {
            ordinal,
            name,
            type_info: AnyTypeInfo {
                kind: AnyTypeInfoKind::Null,
            },
        });
    }
    Shape {
        names: Arc::new(names),
        columns,
    }
}

fn cached_shape(shapes: &mut HashMap<Box<str>, Shape>, sql: &str, stmt: &Statement<'_>) -> Shape {
    // A migration can add columns under a cached `SELECT *`: SQLite
    // re-prepares the statement at its next step, after which the count
    // tells the shape is stale (`step` checks the first row too).
    if let Some(shape) = shapes
        .get(sql)
        .filter(|s| s.columns.len() == stmt.column_count())
    {
        return shape.clone();
    }
    if shapes.len() >= STATEMENT_CACHE {
        shapes.clear();
    }
    let shape = shape_of(stmt);
    shapes.insert(sql.into(), shape.clone());
    shape
}

/// Steps `stmt` to its end (or `limit` rows), pushing its rows; returns its
/// result (rows changed, for a statement that writes).
fn step(
    conn: &rusqlite::Connection,
    stmt: &mut Statement<'_>,
    shape: &Shape,
    limit: Option<usize>,
    out: &mut Vec<Either<AnyQueryResult, AnyRow>>,
) -> Result<AnyQueryResult, Error> {
    let readonly = stmt.readonly();
    let mut taken = 0usize;
    let mut fresh: Option<Shape> = None;
    {
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(db_error)? {
            if taken == 0 && row.as_ref().column_count() != shape.columns.len() {
                fresh = Some(shape_of(row.as_ref()));
            }
            let shape = fresh.as_ref().unwrap_or(shape);
            let mut values = Vec::with_capacity(shape.columns.len());
            for i in 0..shape.columns.len() {
                let kind = match row.get_ref(i).map_err(db_error)? {
                    ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
                    ValueRef::Integer(v) => AnyValueKind::BigInt(v),
                    ValueRef::Real(v) => AnyValueKind::Double(v),
                    ValueRef::Text(t) => AnyValueKind::Text(Cow::Owned(
                        String::from_utf8(t.to_vec()).map_err(|e| Error::ColumnDecode {
                            index: shape.columns[i].name.to_string(),
                            source: Box::new(e),
                        })?,
                    )),
                    ValueRef::Blob(b) => AnyValueKind::Blob(Cow::Owned(b.to_vec())),
                };
                values.push(AnyValue { kind });
            }
            out.push(Either::Right(AnyRow {
                column_names: shape.names.clone(),
                columns: shape.columns.clone(),
                values,
            }));
            taken += 1;
            if limit.is_some_and(|l| taken >= l) {
                break;
            }
        }
    }
    let rows_affected = if readonly { 0 } else { conn.changes() };
    Ok(AnyQueryResult {
        rows_affected,
        last_insert_id: None,
    })
}

impl AnyConnectionBackend for InlineConnection {
    fn name(&self) -> &str {
        "SQLite"
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, sqlx_core::Result<()>> {
        Box::pin(async move {
            self.conn.close().map_err(|(_, e)| db_error(e))?;
            Ok(())
        })
    }

    fn close_hard(self: Box<Self>) -> BoxFuture<'static, sqlx_core::Result<()>> {
        self.close()
    }

    /// An in-process database is reachable as long as the handle is open.
    fn ping(&mut self) -> BoxFuture<'_, sqlx_core::Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn begin(
        &mut self,
        statement: Option<Cow<'static, str>>,
    ) -> BoxFuture<'_, sqlx_core::Result<()>> {
        let result = self.tx_begin(statement);
        Box::pin(async move { result })
    }

    fn commit(&mut self) -> BoxFuture<'_, sqlx_core::Result<()>> {
        let result = self.tx_commit();
        Box::pin(async move { result })
    }

    fn rollback(&mut self) -> BoxFuture<'_, sqlx_core::Result<()>> {
        let result = self.tx_rollback();
        Box::pin(async move { result })
    }

    /// Called when a transaction is dropped without commit: rolls back now.
    fn start_rollback(&mut self) {
        if let Err(e) = self.tx_rollback() {
            tracing::warn!(target: "baton_store::sqlite", error = %e, "rollback of a dropped transaction failed");
        }
    }

    fn get_transaction_depth(&self) -> usize {
        self.depth
    }

    fn shrink_buffers(&mut self) {}

    fn flush(&mut self) -> BoxFuture<'_, sqlx_core::Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn should_flush(&self) -> bool {
        false
    }

    fn fetch_many<'q>(
        &'q mut self,
        query: &'q str,
        persistent: bool,
        arguments: Option<AnyArguments<'q>>,
    ) -> BoxStream<'q, sqlx_core::Result<Either<AnyQueryResult, AnyRow>>> {
        let items = match self.run(query, persistent, arguments, None) {
            Ok(items) => items.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        };
        Box::pin(futures_util::stream::iter(items))
    }

    fn fetch_optional<'q>(
        &'q mut self,
        query: &'q str,
        persistent: bool,
        arguments: Option<AnyArguments<'q>>,
    ) -> BoxFuture<'q, sqlx_core::Result<Option<AnyRow>>> {
        let result = self
            .run(query, persistent, arguments, Some(1))
            .map(|items| {
                items.into_iter().find_map(|item| match item {
                    Either::Right(row) => Some(row),
                    Either::Left(_) => None,
                })
            });
        Box::pin(async move { result })
    }

    fn prepare_with<'c, 'q: 'c>(
        &'c mut self,
        sql: &'q str,
        _parameters: &[AnyTypeInfo],
    ) -> BoxFuture<'c, sqlx_core::Result<AnyStatement<'q>>> {
        let result = self.conn.prepare_cached(sql).map_err(db_error).map(|stmt| {
            let shape = shape_of(&stmt);
            AnyStatement {
                sql: Cow::Borrowed(sql),
                parameters: Some(Either::Right(stmt.parameter_count())),
                column_names: shape.names,
                columns: shape.columns,
            }
        });
        Box::pin(async move { result })
    }

    /// Compile-time query checking (sqlx's macros) is not used by Baton.
    fn describe<'q>(
        &'q mut self,
        _sql: &'q str,
    ) -> BoxFuture<'q, sqlx_core::Result<Describe<Any>>> {
        Box::pin(async {
            Err(Error::Protocol(
                "the embedded SQLite driver does not describe queries".into(),
            ))
        })
    }
}
