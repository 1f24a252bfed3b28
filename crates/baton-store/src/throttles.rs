//! Shared throttle counters: hits per key in a fixed window that opens with
//! the key's first hit. In the database, so every server of a PostgreSQL
//! deployment counts the same hits; one statement per hit (an upsert that
//! also restarts an expired window), so concurrent hits are never lost.
//! Not on the write path: a counter is not a domain change.

use crate::db::Db;
use crate::error::Result;

/// A key's state: hits in its window and when the window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub hits: i64,
    pub window_ends: i64,
}

/// Counts a hit under `key`; returns the count including it.
pub async fn hit(db: &Db, key: &str, now: i64, window_ms: i64) -> Result<Count> {
    let (hits, start): (i64, i64) = sqlx::query_as(
        "INSERT INTO throttle_counters (throttle_key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
           hits = CASE WHEN throttle_counters.window_start <= $3 THEN 1 ELSE throttle_counters.hits + 1 END, \
           window_start = CASE WHEN throttle_counters.window_start <= $3 THEN $2 ELSE throttle_counters.window_start END \
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(now - window_ms)
    .fetch_one(&db.writer)
    .await?;
    Ok(Count {
        hits,
        window_ends: start + window_ms,
    })
}

/// The hits under `key` in its open window (0 when none is open).
pub async fn count(db: &Db, key: &str, now: i64, window_ms: i64) -> Result<Count> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT hits, window_start FROM throttle_counters \
         WHERE throttle_key = $1 AND window_start > $2",
    )
    .bind(key)
    .bind(now - window_ms)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map_or(
        Count {
            hits: 0,
            window_ends: now,
        },
        |(hits, start)| Count {
            hits,
            window_ends: start + window_ms,
        },
    ))
}

/// Forgets `key` (a success clears the failures before it).
pub async fn clear(db: &Db, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM throttle_counters WHERE throttle_key = $1")
        .bind(key)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Forgets windows that closed before `now - max_window_ms`; returns how many.
pub async fn prune(db: &Db, now: i64, max_window_ms: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM throttle_counters WHERE window_start <= $1")
            .bind(now - max_window_ms)
            .execute(&db.writer)
            .await?
            .rows_affected(),
    )
}
