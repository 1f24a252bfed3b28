//! The sales-to-delivery handoff brief of a client, one row per saved
//! version (`handoff_briefs`). Saving a brief also brings every open SOP run
//! of the client whose checklist has the brief's sections (the
//! `sales_handoff` SOP, or an agency's copy of it) in line with the brief,
//! in the same transaction: the brief is that checklist's definition of done.

use baton_core::events;
use baton_core::handoff::HandoffBrief;
use baton_core::types::ClientId;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// One saved version of a client's brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedBrief {
    pub client_id: String,
    /// 1, 2, … per client.
    pub version: i64,
    pub brief: HandoffBrief,
    pub complete: bool,
    pub author_id: String,
    pub author_label: String,
    pub created_at: i64,
}

/// A line of a brief's version history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    pub version: i64,
    pub complete: bool,
    pub author_label: String,
    pub created_at: i64,
}

const COLS: &str = "client_id, version, brief, complete, author_id, author_label, created_at";

fn from_row(r: &AnyRow) -> Result<SavedBrief> {
    let text: String = r.try_get("brief")?;
    let brief: HandoffBrief = serde_json::from_str(&text)
        .map_err(|e| StoreError::Config(format!("bad stored handoff brief: {e}")))?;
    Ok(SavedBrief {
        client_id: r.try_get("client_id")?,
        version: r.try_get("version")?,
        brief,
        complete: r.try_get::<i64, _>("complete")? != 0,
        author_id: r.try_get("author_id")?,
        author_label: r.try_get("author_label")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The client's latest brief, or None before the first save. Another
/// agency's client simply has none.
pub async fn latest(db: &Db, agency_id: &str, client_id: &str) -> Result<Option<SavedBrief>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM handoff_briefs WHERE agency_id = $1 AND client_id = $2 \
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Version `n` of the client's brief ([`StoreError::NotFound`] if there is
/// no such version in this agency).
pub async fn version(db: &Db, agency_id: &str, client_id: &str, n: i64) -> Result<SavedBrief> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM handoff_briefs WHERE agency_id = $1 AND client_id = $2 AND version = $3"
    ))
    .bind(agency_id)
    .bind(client_id)
    .bind(n)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Every version of the client's brief, newest first.
pub async fn versions(db: &Db, agency_id: &str, client_id: &str) -> Result<Vec<VersionSummary>> {
    let rows = sqlx::query(
        "SELECT version, complete, author_label, created_at FROM handoff_briefs \
         WHERE agency_id = $1 AND client_id = $2 ORDER BY version DESC",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionSummary {
                version: r.try_get("version")?,
                complete: r.try_get::<i64, _>("complete")? != 0,
                author_label: r.try_get("author_label")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Saves a new version of the client's brief after validating it, in one
/// transaction with a `handoff.saved` event (whose commit ticks the sections
/// of the client's open handoff runs, `sop_runs/follow.rs`). A brief identical to the latest
/// version saves nothing and returns that version.
pub async fn save(cx: Cx<'_>, client_id: &ClientId, brief: HandoffBrief) -> Result<SavedBrief> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let client_id = client_id.as_str();
    let brief = brief.validated()?;
    let mut tx = cx.begin().await?;
    // A no-op UPDATE locks the client's row (a portable `SELECT … FOR
    // UPDATE`), so concurrent saves take their version numbers in turn; it
    // also proves the client belongs to this agency.
    let hit =
        sqlx::query("UPDATE clients SET updated_at = updated_at WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    let last = sqlx::query(&format!(
        "SELECT {COLS} FROM handoff_briefs WHERE agency_id = $1 AND client_id = $2 \
         ORDER BY version DESC LIMIT 1"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(tx.conn())
    .await?;
    let last = last.as_ref().map(from_row).transpose()?;
    if let Some(last) = last.as_ref().filter(|l| l.brief == brief) {
        // Dropping the transaction rolls it back: nothing was changed.
        drop(tx);
        return Ok(last.clone());
    }
    let version = last.map_or(1, |l| l.version + 1);
    let complete = brief.is_complete();
    let text = serde_json::to_string(&brief).map_err(|e| StoreError::Config(e.to_string()))?;
    sqlx::query(
        "INSERT INTO handoff_briefs (agency_id, client_id, version, brief, complete, author_id, author_label, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(version)
    .bind(&text)
    .bind(i64::from(complete))
    .bind(&actor.id)
    .bind(&actor.label)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let missing = brief.missing();
    let data = json!({"version": version, "complete": complete, "missing": missing});
    let detail = data.clone();
    tx.commit(
        Record::new(events::HANDOFF_SAVED, "client", client_id, detail)
            .with_event(Some(client_id), data),
    )
    .await?;
    Ok(SavedBrief {
        client_id: client_id.to_string(),
        version,
        brief,
        complete,
        author_id: actor.id.clone(),
        author_label: actor.label.clone(),
        created_at: now,
    })
}
