//! The driver against sqlx's contract, on a scratch file: what the store's
//! queries rely on (numbered parameters, results, transactions, errors).

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection, Executor, Row};

use crate::error::StoreError;

struct Scratch {
    pool: AnyPool,
    dir: std::path::PathBuf,
}

impl Scratch {
    async fn new(max: u32) -> Scratch {
        super::install_drivers();
        let dir = std::env::temp_dir().join(format!(
            "baton-sqlite-{}",
            baton_core::secret::random_token().replace(['-', '_'], "")[..16].to_lowercase()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .connect(&url)
            .await
            .unwrap();
        pool.execute(
            "PRAGMA journal_mode=WAL; \
             CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, b BLOB, note TEXT);",
        )
        .await
        .unwrap();
        Scratch { pool, dir }
    }

    async fn done(self) {
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    async fn count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn binds_parameters_by_their_number_and_reads_every_type_back() {
    let s = Scratch::new(1).await;
    // $2 appears twice and before $1: numbers, not positions, pick values.
    sqlx::query("INSERT INTO t (id, n, r, b, note) VALUES ($3, $2, $4, $5, $2 || $1)")
        .bind("x")
        .bind(7_i64)
        .bind("a")
        .bind(1.5_f64)
        .bind(vec![0_u8, 255])
        .execute(&s.pool)
        .await
        .unwrap();
    let row = sqlx::query("SELECT id, n, r, b, note, NULL AS absent FROM t")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(row.try_get::<String, _>("id").unwrap(), "a");
    assert_eq!(row.try_get::<i64, _>("n").unwrap(), 7);
    assert_eq!(row.try_get::<f64, _>("r").unwrap(), 1.5);
    assert_eq!(row.try_get::<Vec<u8>, _>("b").unwrap(), vec![0, 255]);
    assert_eq!(row.try_get::<String, _>("note").unwrap(), "7x");
    assert_eq!(row.try_get::<Option<String>, _>("absent").unwrap(), None);
    assert!(
        row.try_get::<i64, _>("id").is_err(),
        "text is not an integer"
    );
    assert!(matches!(
        row.try_get::<i64, _>("missing"),
        Err(sqlx::Error::ColumnNotFound(_))
    ));
    s.done().await;
}

#[tokio::test]
async fn counts_rows_changed_and_returns_rows_of_a_write() {
    let s = Scratch::new(1).await;
    for (id, n) in [("a", 1_i64), ("b", 2), ("c", 3)] {
        sqlx::query("INSERT INTO t (id, n) VALUES ($1, $2)")
            .bind(id)
            .bind(n)
            .execute(&s.pool)
            .await
            .unwrap();
    }
    let changed = sqlx::query("UPDATE t SET n = n + 10 WHERE n >= $1")
        .bind(2_i64)
        .execute(&s.pool)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 2);
    // A read after a write reports no change of its own.
    let read = sqlx::query("SELECT * FROM t")
        .execute(&s.pool)
        .await
        .unwrap();
    assert_eq!(read.rows_affected(), 0);
    // `fetch_optional` of a write that returns several rows applies it whole.
    let first = sqlx::query("UPDATE t SET n = 0 RETURNING id")
        .fetch_optional(&s.pool)
        .await
        .unwrap();
    assert!(first.is_some());
    let zeros: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE n = 0")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(zeros, 3);
    let none = sqlx::query("SELECT id FROM t WHERE id = $1")
        .bind("nope")
        .fetch_optional(&s.pool)
        .await
        .unwrap();
    assert!(none.is_none());
    s.done().await;
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_savepoints_nest() {
    let s = Scratch::new(1).await;
    {
        let mut tx = s.pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES ('dropped')")
            .execute(&mut *tx)
            .await
            .unwrap();
        // dropped without commit
    }
    assert_eq!(s.count().await, 0, "a dropped transaction leaves nothing");

    let mut conn = s.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("INSERT INTO t (id) VALUES ('kept')")
        .execute(&mut *tx)
        .await
        .unwrap();
    {
        let mut inner = tx.begin().await.unwrap();
        sqlx::query("INSERT INTO t (id) VALUES ('inner')")
            .execute(&mut *inner)
            .await
            .unwrap();
        inner.rollback().await.unwrap();
    }
    tx.commit().await.unwrap();
    drop(conn);
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM t ORDER BY id")
        .fetch_all(&s.pool)
        .await
        .unwrap();
    assert_eq!(ids, vec!["kept".to_string()]);
    s.done().await;
}

#[tokio::test]
async fn errors_keep_their_kind_and_say_what_is_wrong() {
    let s = Scratch::new(1).await;
    sqlx::query("INSERT INTO t (id) VALUES ($1)")
        .bind("a")
        .execute(&s.pool)
        .await
        .unwrap();
    let dup = sqlx::query("INSERT INTO t (id) VALUES ($1)")
        .bind("a")
        .execute(&s.pool)
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(dup), StoreError::Duplicate(_)));
    let Err(short) = sqlx::query("SELECT $1, $2")
        .bind(1_i64)
        .fetch_one(&s.pool)
        .await
    else {
        panic!("a missing argument is an error");
    };
    assert!(short.to_string().contains("parameter 2"), "{short}");
    let Err(syntax) = sqlx::query("SELEKT 1").fetch_one(&s.pool).await else {
        panic!("bad SQL is an error");
    };
    assert!(syntax.to_string().contains("syntax error"), "{syntax}");
    assert!(matches!(syntax, sqlx::Error::Database(_)), "{syntax:?}");
    // The connection is still usable after each failure.
    assert_eq!(s.count().await, 1);
    s.done().await;
}

#[tokio::test]
async fn a_cached_query_sees_columns_a_migration_added() {
    let s = Scratch::new(1).await;
    sqlx::query("INSERT INTO t (id) VALUES ($1)")
        .bind("a")
        .execute(&s.pool)
        .await
        .unwrap();
    let before = sqlx::query("SELECT * FROM t WHERE id = $1")
        .bind("a")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert!(before.try_get::<String, _>("extra").is_err());
    s.pool
        .execute("ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'added'")
        .await
        .unwrap();
    for _ in 0..2 {
        let after = sqlx::query("SELECT * FROM t WHERE id = $1")
            .bind("a")
            .fetch_one(&s.pool)
            .await
            .unwrap();
        assert_eq!(after.try_get::<String, _>("extra").unwrap(), "added");
    }
    s.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_through_one_connection_all_land() {
    let s = Scratch::new(1).await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let pool = s.pool.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
                sqlx::query("INSERT INTO t (id, n) VALUES ($1, $2)")
                    .bind(format!("{w}-{i}"))
                    .bind(i as i64)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.count().await, 200);
    s.done().await;
}

#[test]
fn urls_name_a_file_and_a_mode() {
    use super::InlineOptions;
    let cases: [(&str, bool); 7] = [
        ("sqlite://data/baton.db", true),
        ("sqlite://data/baton.db?mode=rwc", true),
        ("sqlite:data/baton.db?mode=ro", true),
        ("sqlite:///abs/baton.db?mode=rw", true),
        ("sqlite://", false),
        ("sqlite://x.db?cache=shared", false),
        ("postgres://x", false),
    ];
    for (url, ok) in cases {
        assert_eq!(url.parse::<InlineOptions>().is_ok(), ok, "{url}");
    }
}

#[tokio::test]
async fn the_writer_leaves_checkpoints_to_the_checkpointer() {
    let dir = std::env::temp_dir().join(format!(
        "baton-ckpt-{}",
        baton_core::secret::random_token().replace(['-', '_'], "")[..16].to_lowercase()
    ));
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let db = crate::Db::open(&url).await.unwrap();
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(&db.writer)
        .await
        .unwrap();
    assert_eq!(auto, 0, "the writer must not checkpoint inside a COMMIT");
    // Readers keep SQLite's default; they never write.
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(db.reader())
        .await
        .unwrap();
    assert_eq!(auto, 1000);
    assert!(db.wal_checkpoint_stats().is_some());
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
