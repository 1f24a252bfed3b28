//! Server-side login sessions. The browser holds a random session token; only
//! its hash is stored, with the session's CSRF token and expiry.

use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::members::{self, Member};
use crate::write::Record;

/// A live session and the member it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub member: Member,
}

/// Records a login of `member` (of `cx`'s agency, whose actor is the member
/// logging in): stores the session and audits `member.logged_in`.
pub async fn create(
    cx: Cx<'_>,
    member: &Member,
    token_hash: &str,
    csrf_token: &str,
    ttl_ms: i64,
) -> Result<()> {
    let (actor, now) = (cx.actor, cx.now);
    if member.agency_id != *cx.agency {
        return Err(StoreError::NotFound);
    }
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, agency_id, member_id, csrf_token, created_at, expires_at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token_hash)
    .bind(member.agency_id.as_str())
    .bind(&member.id)
    .bind(csrf_token)
    .bind(now)
    .bind(now + ttl_ms)
    .bind(&actor.ip)
    .bind(&actor.user_agent)
    .execute(tx.conn())
    .await?;
    // Expired sessions of anyone in the agency are cleaned up on the way.
    sqlx::query("DELETE FROM sessions WHERE agency_id = $1 AND expires_at < $2")
        .bind(member.agency_id.as_str())
        .bind(now)
        .execute(tx.conn())
        .await?;
    tx.commit(Record::new(
        "member.logged_in",
        "member",
        &member.id,
        json!({}),
    ))
    .await?;
    Ok(())
}

/// The unexpired session with this token hash, if its member is still active.
pub async fn find(db: &Db, token_hash: &str, now: i64) -> Result<Option<Session>> {
    let row = sqlx::query(
        "SELECT agency_id, member_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let agency_id: String = row.try_get("agency_id")?;
    let member_id: String = row.try_get("member_id")?;
    let member = match members::get(db, &agency_id, &member_id).await {
        Ok(m) if m.active => m,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Session {
        token_hash: token_hash.to_string(),
        csrf_token: row.try_get("csrf_token")?,
        expires_at: row.try_get("expires_at")?,
        member,
    }))
}

/// Ends a session (logout) of `cx`'s agency, audited as `member.logged_out`.
pub async fn delete(cx: Cx<'_>, session: &Session) -> Result<()> {
    if session.member.agency_id != *cx.agency {
        return Err(StoreError::NotFound);
    }
    let mut tx = cx.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(&session.token_hash)
        .execute(tx.conn())
        .await?;
    tx.commit(Record::new(
        "member.logged_out",
        "member",
        &session.member.id,
        json!({}),
    ))
    .await?;
    Ok(())
}

/// How many live sessions a member has (tests and the team page).
pub async fn count_for_member(db: &Db, agency_id: &str, member_id: &str, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE agency_id = $1 AND member_id = $2 AND expires_at > $3",
    )
    .bind(agency_id)
    .bind(member_id)
    .bind(now)
    .fetch_one(db.reader())
    .await?)
}
