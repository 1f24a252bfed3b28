//! `Idempotency-Key` on POST: the first response to a key is stored and
//! replayed for retries of the same request; the same key with a different
//! request is refused.

use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// How long keys are remembered.
pub const TTL_MS: i64 = 24 * 3600 * 1000;

pub async fn find(
    db: &Db,
    agency_id: &str,
    actor_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<Stored>> {
    let row = sqlx::query(
        "SELECT request_hash, status, response FROM idempotency_keys \
         WHERE agency_id = $1 AND actor_id = $2 AND idem_key = $3 AND created_at > $4",
    )
    .bind(agency_id)
    .bind(actor_id)
    .bind(key)
    .bind(now - TTL_MS)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(Stored {
            request_hash: r.try_get("request_hash")?,
            status: r.try_get::<i64, _>("status")? as u16,
            body: r.try_get("response")?,
        })
    })
    .transpose()
}

/// Remembers a response (replacing an expired one under the same key).
pub async fn save(
    db: &Db,
    agency_id: &str,
    actor_id: &str,
    key: &str,
    now: i64,
    s: &Stored,
) -> Result<()> {
    let mut tx = db.writer.begin().await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE agency_id = $1 AND actor_id = $2 AND idem_key = $3",
    )
    .bind(agency_id)
    .bind(actor_id)
    .bind(key)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (agency_id, idem_key, actor_id, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(agency_id)
    .bind(key)
    .bind(actor_id)
    .bind(&s.request_hash)
    .bind(s.status as i64)
    .bind(&s.body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
