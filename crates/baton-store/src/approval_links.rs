//! The client's approval link of a content item: approve or request changes
//! without an account. Same token rules as onboarding links: 256-bit,
//! only the SHA-256 stored, an expiry, revocable (a new link revokes the
//! previous one), and every decision written to the audit log with the
//! client's IP and user agent.

use baton_core::types::ContentId;
use baton_core::{ids, secret, CoreError};
use serde_json::json;
use sqlx::Row;

use crate::agencies::{self, Agency};
use crate::content::{self, Item, CLIENT_APPROVER};
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// Longest life of a link, in days.
pub const MAX_DAYS: i64 = 90;
const DAY: i64 = 86_400_000;

/// A link just made: the token is shown once.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub token: String,
    pub expires_at: i64,
}

/// Makes the item's approval link (revoking the previous one). The client
/// must be among the item's approvers.
pub async fn create(cx: Cx<'_>, content_id: &ContentId, days: i64) -> Result<Created> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(
            CoreError::invalid("expires_in_days", format!("use 1 to {MAX_DAYS} days")).into(),
        );
    }
    let item = content::get(db, agency_id, content_id).await?;
    if !item.approvers.iter().any(|a| a == CLIENT_APPROVER) {
        return Err(CoreError::Conflict(
            "the client is not an approver of this item: add \"client\" to its approvers first"
                .into(),
        )
        .into());
    }
    let token = secret::random_token();
    let id = ids::new_id(ids::APPROVAL_LINK, now);
    let expires_at = now + days * DAY;
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE approval_links SET revoked_at = $3 WHERE agency_id = $1 AND content_id = $2 AND revoked_at IS NULL",
    )
    .bind(agency_id)
    .bind(content_id.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO approval_links (id, agency_id, content_id, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(content_id.as_str())
    .bind(secret::hash_token(&token))
    .bind(&actor.label)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    let data = json!({"link_id": id, "expires_at": expires_at, "title": item.title, "content_id": item.id});
    tx.commit(
        Record::new(
            "content.approval_link_created",
            "content",
            content_id,
            data.clone(),
        )
        .with_event(Some(&item.client_id), data),
    )
    .await?;
    Ok(Created {
        id,
        token,
        expires_at,
    })
}

/// What a live token opens.
#[derive(Debug, Clone)]
pub struct Opened {
    pub link_id: String,
    pub agency: Agency,
    pub item: Item,
    pub expires_at: i64,
}

/// The agency and item of a live token (not revoked, not expired).
pub async fn resolve(db: &Db, token: &str, now: i64) -> Result<Option<Opened>> {
    let row = sqlx::query(
        "SELECT id, agency_id, content_id, expires_at FROM approval_links \
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(secret::hash_token(token))
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let agency_id: String = r.try_get("agency_id")?;
    let content_id: String = r.try_get("content_id")?;
    let agency = agencies::get(db, &agency_id).await?;
    let item = match content::get(db, &agency_id, &content_id).await {
        Ok(i) => i,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Opened {
        link_id: r.try_get("id")?,
        agency,
        item,
        expires_at: r.try_get("expires_at")?,
    }))
}
