//! In-app notices of escalations: listing, counting unread and marking
//! them read.

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::write::Record;

/// An in-app notice for a member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub client_id: Option<String>,
    pub run_id: Option<String>,
    /// The incident it is about (triage at risk or breached, an overdue
    /// follow-up action).
    pub incident_id: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A member's notices, newest first.
pub async fn notices(
    db: &Db,
    agency_id: &str,
    member_id: &str,
    unread_only: bool,
    cap: i64,
) -> Result<Vec<Notice>> {
    let rows = sqlx::query(&format!(
        "SELECT id, kind, title, body, client_id, run_id, incident_id, created_at, read_at FROM notices \
         WHERE agency_id = $1 AND member_id = $2{} ORDER BY created_at DESC, id DESC LIMIT $3",
        if unread_only {
            " AND read_at IS NULL"
        } else {
            ""
        }
    ))
    .bind(agency_id)
    .bind(member_id)
    .bind(cap.clamp(1, 500))
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notice {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                body: r.try_get("body")?,
                client_id: r.try_get("client_id")?,
                run_id: r.try_get("run_id")?,
                incident_id: r.try_get("incident_id")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
}

/// How many unread notices a member has.
pub async fn unread_count(db: &Db, agency_id: &str, member_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notices WHERE agency_id = $1 AND member_id = $2 AND read_at IS NULL",
    )
    .bind(agency_id)
    .bind(member_id)
    .fetch_one(db.reader())
    .await?)
}

/// Marks all of a member's notices read.
pub async fn mark_notices_read(cx: Cx<'_>) -> Result<u64> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let mut tx = cx.begin().await?;
    let n = sqlx::query(
        "UPDATE notices SET read_at = $3 WHERE agency_id = $1 AND member_id = $2 AND read_at IS NULL",
    )
    .bind(agency_id)
    .bind(&actor.id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(0);
    }
    tx.commit(Record::new(
        "notice.read",
        "member",
        &actor.id,
        json!({"notices": n}),
    ))
    .await?;
    Ok(n)
}
