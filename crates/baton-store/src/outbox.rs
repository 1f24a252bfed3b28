//! The outbox: jobs written in the same transaction as the change that caused
//! them, run by workers after commit. A job is claimed by setting
//! `locked_until` (a lease), so a crashed worker's job is picked up again.

use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub agency_id: String,
    pub kind: String,
    pub event_id: Option<String>,
    pub payload: String,
    pub attempts: i64,
}

/// Which jobs a worker takes: the outbox worker runs event and email jobs,
/// the delivery worker sends webhooks and channel messages (slow receivers
/// must not hold up SOP triggers and email).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    All,
    /// Everything but deliveries.
    Work,
    /// Delivery attempts ([`crate::integrations::deliveries::JOB_KIND`]).
    Deliveries,
}

impl Lane {
    fn condition(self) -> &'static str {
        match self {
            Lane::All => "",
            Lane::Work => " AND kind <> 'delivery'",
            Lane::Deliveries => " AND kind = 'delivery'",
        }
    }
}

/// Claims up to `limit` due jobs for `lease_ms`. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); on SQLite the
/// single writer serialises claims.
pub async fn claim(db: &Db, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<Job>> {
    claim_lane(db, now, lease_ms, limit, Lane::All).await
}

/// [`claim`] of one lane's jobs.
pub async fn claim_lane(
    db: &Db,
    now: i64,
    lease_ms: i64,
    limit: i64,
    lane: Lane,
) -> Result<Vec<Job>> {
    let lock = match db.backend() {
        crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::Backend::Sqlite => "",
    };
    let mut tx = match db.backend() {
        crate::Backend::Sqlite => db.writer.begin_with("BEGIN IMMEDIATE").await?,
        crate::Backend::Postgres => db.writer.begin().await?,
    };
    let rows = sqlx::query(&format!(
        "SELECT id, agency_id, kind, event_id, payload, attempts FROM outbox \
         WHERE done_at IS NULL AND run_after <= $1 AND (locked_until IS NULL OR locked_until < $1){} \
         ORDER BY run_after, id LIMIT $2{lock}",
        lane.condition()
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        sqlx::query("UPDATE outbox SET locked_until = $2, attempts = attempts + 1 WHERE id = $1")
            .bind(&id)
            .bind(now + lease_ms)
            .execute(&mut *tx)
            .await?;
        jobs.push(Job {
            id,
            agency_id: r.try_get("agency_id")?,
            kind: r.try_get("kind")?,
            event_id: r.try_get("event_id")?,
            payload: r.try_get("payload")?,
            attempts: r.try_get::<i64, _>("attempts")? + 1,
        });
    }
    tx.commit().await?;
    Ok(jobs)
}

/// Marks a job done.
pub async fn complete(db: &Db, id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET done_at = $2, locked_until = NULL, last_error = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Schedules a failed job again at `retry_at`, keeping the error for operators.
pub async fn fail(db: &Db, id: &str, retry_at: i64, error: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET run_after = $2, locked_until = NULL, last_error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(retry_at)
    .bind(error)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Jobs not done yet (metrics and tests).
pub async fn pending_count(db: &Db) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL")
            .fetch_one(db.reader())
            .await?,
    )
}

/// Marks several jobs done in one statement.
pub async fn complete_many(db: &Db, ids: &[String], now: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "UPDATE outbox SET done_at = $1, locked_until = NULL, last_error = NULL WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(now);
    for id in ids {
        q = q.bind(id);
    }
    q.execute(&db.writer).await?;
    Ok(())
}

/// Gives claimed jobs back (their lease ends now), for another pass.
pub async fn release(db: &Db, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(100) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "UPDATE outbox SET locked_until = NULL, attempts = attempts - 1 WHERE done_at IS NULL AND id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&db.writer).await?;
    }
    Ok(())
}

/// Whether any job is due (a cheap read before taking the write lock).
pub async fn any_due(db: &Db, now: i64) -> Result<bool> {
    any_due_lane(db, now, Lane::All).await
}

/// [`any_due`] of one lane.
pub async fn any_due_lane(db: &Db, now: i64, lane: Lane) -> Result<bool> {
    let n: Option<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM outbox WHERE done_at IS NULL AND run_after <= $1 AND (locked_until IS NULL OR locked_until < $1){} LIMIT 1",
        lane.condition()
    ))
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    Ok(n.is_some())
}
