//! Opening the database: URL parsing, connection pools, pragmas, migrations.
//!
//! SQLite runs in WAL mode with foreign keys on, one writer connection (every
//! write transaction is `BEGIN IMMEDIATE`, so writers queue instead of failing
//! to upgrade a read lock) and a small read-only reader pool. PostgreSQL uses
//! one pool for both.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};

use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) writer: AnyPool,
    pub(crate) reader: AnyPool,
    backend: Backend,
    sqlite_path: Option<PathBuf>,
    /// Group commit of writes (one lane on SQLite, one per agency on PostgreSQL).
    pub(crate) batches: std::sync::Arc<crate::group_commit::Batches>,
    /// SQLite: the thread that checkpoints the WAL off the request path.
    checkpointer: Option<std::sync::Arc<crate::sqlite::Checkpointer>>,
}

/// Pool sizes; the defaults fit a 2-core machine.
#[derive(Debug, Clone, Copy)]
pub struct PoolSizes {
    pub sqlite_readers: u32,
    pub postgres: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        PoolSizes {
            sqlite_readers: 4,
            postgres: 16,
        }
    }
}

/// Which engine a URL names, or a one-line explanation of what is wrong.
pub fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Config(format!(
            "database URL must start with sqlite:// or postgres:// (got {:?})",
            redact(url)
        )))
    }
}

/// The file path of an `sqlite://PATH` URL.
pub fn sqlite_path(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Config("not an sqlite URL".into()))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(
            "sqlite URL needs a file path, e.g. sqlite://baton-data/baton.db".into(),
        ));
    }
    Ok(PathBuf::from(path))
}

/// The URL without its password, for logs and error messages.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((creds, host)) = rest.rsplit_once('@') {
            let user = creds.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

impl Db {
    /// Opens (creating an SQLite file and its folder when needed) and migrates.
    pub async fn open(url: &str) -> Result<Db> {
        Db::open_with(url, PoolSizes::default()).await
    }

    pub async fn open_with(url: &str, sizes: PoolSizes) -> Result<Db> {
        let db = Db::connect(url, sizes).await?;
        crate::migrate::run(&db).await?;
        Ok(db)
    }

    /// Opens without migrating.
    pub(crate) async fn connect(url: &str, sizes: PoolSizes) -> Result<Db> {
        crate::sqlite::install_drivers();
        let db = match backend_of(url)? {
            Backend::Sqlite => {
                let path = sqlite_path(url)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let conn_url = format!("sqlite://{}?mode=rwc", path.display());
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; \
                                 PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; \
                                 PRAGMA wal_autocheckpoint=0;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&conn_url)
                    .await?;
                let reader = AnyPoolOptions::new()
                    .max_connections(sizes.sqlite_readers.max(1))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
                                 PRAGMA query_only=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_lazy(&conn_url)?;
                // The writer leaves checkpoints to this thread (see its docs).
                let checkpointer = crate::sqlite::Checkpointer::start(&path).map_err(|e| {
                    StoreError::Config(format!("cannot start the WAL checkpointer: {e}"))
                })?;
                Db {
                    writer,
                    reader,
                    backend: Backend::Sqlite,
                    sqlite_path: Some(path),
                    batches: Default::default(),
                    checkpointer: Some(std::sync::Arc::new(checkpointer)),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(sizes.postgres.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                Db {
                    writer: pool.clone(),
                    reader: pool,
                    backend: Backend::Postgres,
                    sqlite_path: None,
                    batches: Default::default(),
                    checkpointer: None,
                }
            }
        };
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads. On SQLite its connections are read-only.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1")
            .fetch_one(&self.reader)
            .await
            .is_ok()
    }

    /// (open, idle) connections of the reader and writer pools, for metrics.
    pub fn pool_stats(&self) -> [(&'static str, u32, usize); 2] {
        [
            ("reader", self.reader.size(), self.reader.num_idle()),
            ("writer", self.writer.size(), self.writer.num_idle()),
        ]
    }

    /// How many writes shared each COMMIT so far (group commit), for metrics.
    pub fn group_commit_stats(&self) -> crate::group_commit::GroupCommitStats {
        self.batches.stats()
    }

    /// SQLite: checkpoints the WAL now (the checkpointer's thread does it
    /// and answers); true on PostgreSQL, which has nothing to checkpoint.
    pub async fn checkpoint_wal_now(&self) -> bool {
        match &self.checkpointer {
            Some(c) => c.checkpoint_now().await,
            None => true,
        }
    }

    /// SQLite: the WAL checkpointer's counters, for metrics.
    pub fn wal_checkpoint_stats(&self) -> Option<&crate::sqlite::CheckpointStats> {
        self.checkpointer.as_deref().map(|c| c.stats())
    }

    /// Writes a consistent copy of the SQLite database to `dest` while the
    /// server keeps running (`VACUUM INTO` reads one snapshot).
    pub async fn backup_to(&self, dest: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Config(
                "backup copies the embedded SQLite database; for PostgreSQL use pg_dump".into(),
            ));
        }
        if dest.exists() {
            return Err(StoreError::Config(format!(
                "{} already exists; choose a new file name",
                dest.display()
            )));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Config("backup path must be valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The SQLite file, when the backend is SQLite.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.sqlite_path.as_deref()
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// `(agency_id, id)` of each row: the work a background pass found due,
/// across agencies.
pub(crate) fn agency_and_ids(rows: &[AnyRow]) -> Result<Vec<(String, String)>> {
    use sqlx::Row;
    rows.iter()
        .map(|r| Ok((r.try_get("agency_id")?, r.try_get("id")?)))
        .collect()
}

/// An optional `DOUBLE PRECISION` value to bind.
///
/// sqlx 0.8's `Any` layer hands a NULL `f64` to PostgreSQL as a `float4`
/// (its `Null(Double)` arm binds an `Option<f32>`), so a statement first
/// prepared with NULL in that place refuses a number later on the same
/// connection ("incorrect binary data format in bind parameter"). This binds
/// NULL as the kind sqlx sends as `float8`, like the numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullableF64(pub Option<f64>);

impl sqlx::Type<sqlx::Any> for NullableF64 {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for NullableF64 {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx_core::any::AnyArgumentBuffer<'q>,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        use sqlx_core::any::{AnyTypeInfoKind, AnyValueKind};
        match self.0 {
            Some(v) => {
                buf.0.push(AnyValueKind::Double(v));
                Ok(sqlx::encode::IsNull::No)
            }
            None => {
                // `Real`: the arm sqlx maps to a `float8` NULL.
                buf.0.push(AnyValueKind::Null(AnyTypeInfoKind::Real));
                Ok(sqlx::encode::IsNull::Yes)
            }
        }
    }
}

/// Reads a column that SQLite may return as INTEGER and PostgreSQL as BIGINT.
pub(crate) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(col)? != 0)
}

/// Reads a typed id column (`ClientId`, `AgencyId`, …). A stored value of the
/// wrong shape is a decode error, never a silently wrong id.
pub(crate) fn typed_id<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: std::str::FromStr<Err = baton_core::types::NotAnId>,
{
    use sqlx::Row;
    let text: String = row.try_get(col)?;
    text.parse::<T>().map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: col.to_string(),
            source: Box::new(e),
        }
        .into()
    })
}
