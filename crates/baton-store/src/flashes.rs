//! Pages shown once after a form's POST (Post/Redirect/Get): the server keeps
//! the answer it rendered, sealed by the HTTP layer, until the browser's GET
//! takes it. Not tenant data and not a domain change, so not on the write
//! path: a flash is a few milliseconds of a page in transit.

use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// How long an untaken flash is kept.
pub const TTL_MS: i64 = 10 * 60 * 1000;

/// A stored page: whose secret opens it, its status and the sealed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub owner_kind: String,
    pub status: u16,
    pub sealed: String,
}

/// Keeps a flash under `id` and forgets expired ones.
pub async fn save(db: &Db, id: &str, flash: &Flash, now: i64) -> Result<()> {
    let mut tx = db.writer.begin().await?;
    sqlx::query("DELETE FROM web_flashes WHERE created_at < $1")
        .bind(now - TTL_MS)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO web_flashes (id, owner_kind, status, sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&flash.owner_kind)
    .bind(i64::from(flash.status))
    .bind(&flash.sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The flash under `id`, if it has not expired.
pub async fn get(db: &Db, id: &str, now: i64) -> Result<Option<Flash>> {
    let row = sqlx::query(
        "SELECT owner_kind, status, sealed FROM web_flashes WHERE id = $1 AND created_at >= $2",
    )
    .bind(id)
    .bind(now - TTL_MS)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| {
        Ok(Flash {
            owner_kind: r.try_get("owner_kind")?,
            status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(200),
            sealed: r.try_get("sealed")?,
        })
    })
    .transpose()
}

/// Forgets a flash once it was shown.
pub async fn delete(db: &Db, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_flashes WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}
