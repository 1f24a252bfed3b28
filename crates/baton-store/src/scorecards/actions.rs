//! The actions a shipped week agreed, tracked to done: listed on My work,
//! noticed when overdue, shown with their state on the next week's
//! scorecard ("3 actions shipped" means done, not written).

use baton_core::events;
use baton_core::types::ActionId;
use baton_core::CoreError;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{NewEvent, Record};

/// One action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRow {
    pub id: ActionId,
    pub scorecard_id: String,
    /// The week that agreed it.
    pub week: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub text: String,
    pub owner_member_id: String,
    pub owner_name: String,
    /// `YYYY-MM-DD`, agency time; overdue after `due_at`.
    pub due_on: String,
    pub due_at: i64,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
}

impl ActionRow {
    pub fn is_overdue(&self, now: i64) -> bool {
        self.done_at.is_none() && self.due_at < now
    }
}

const COLS: &str = "a.id, a.scorecard_id, s.week, s.client_id, c.name AS client_name, a.text, \
    a.owner_member_id, m.name AS owner_name, a.due_on, a.due_at, a.done_at, a.done_by \
    FROM scorecard_actions a JOIN scorecards s ON s.id = a.scorecard_id \
    JOIN members m ON m.id = a.owner_member_id LEFT JOIN clients c ON c.id = s.client_id";

fn from_row(r: &AnyRow) -> Result<ActionRow> {
    Ok(ActionRow {
        id: crate::db::typed_id(r, "id")?,
        scorecard_id: r.try_get("scorecard_id")?,
        week: r.try_get("week")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        text: r.try_get("text")?,
        owner_member_id: r.try_get("owner_member_id")?,
        owner_name: r.try_get("owner_name")?,
        due_on: r.try_get("due_on")?,
        due_at: r.try_get("due_at")?,
        done_at: r.try_get("done_at")?,
        done_by: r.try_get("done_by")?,
    })
}

/// Which actions to list.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// `Some(true)`: not done; `Some(false)`: done.
    pub open: Option<bool>,
    /// Only this member's.
    pub owner: Option<String>,
    pub limit: Option<i64>,
}

/// Actions, soonest due first (the open ones), then newest done.
pub async fn actions(db: &Db, agency_id: &str, f: &ActionFilter) -> Result<Vec<ActionRow>> {
    let state = match f.open {
        Some(true) => "AND a.done_at IS NULL",
        Some(false) => "AND a.done_at IS NOT NULL",
        None => "",
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} WHERE a.agency_id = $1 AND ($2 = '' OR a.owner_member_id = $2) {state} \
         ORDER BY CASE WHEN a.done_at IS NULL THEN 0 ELSE 1 END, a.due_at, a.id LIMIT $3"
    ))
    .bind(agency_id)
    .bind(f.owner.as_deref().unwrap_or(""))
    .bind(f.limit.unwrap_or(500))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The actions of one shipped week, in the order agreed.
pub(crate) async fn actions_of(
    db: &Db,
    agency_id: &str,
    scorecard_id: &str,
) -> Result<Vec<ActionRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} WHERE a.agency_id = $1 AND a.scorecard_id = $2 ORDER BY a.position"
    ))
    .bind(agency_id)
    .bind(scorecard_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

pub(crate) async fn action_on(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: &str,
) -> Result<ActionRow> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} WHERE a.agency_id = $1 AND a.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Marks an action done (`done`) or open again; 409 when it already is.
pub async fn action_done(cx: Cx<'_>, id: &ActionId, done: bool) -> Result<ActionRow> {
    let mut tx = cx.begin().await?;
    let a = action_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    if a.done_at.is_some() == done {
        let state = if done { "done" } else { "open" };
        return Err(CoreError::Conflict(format!("this action is already {state}")).into());
    }
    sqlx::query(
        "UPDATE scorecard_actions SET done_at = $3, done_by = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(done.then_some(cx.now))
    .bind(done.then(|| cx.actor.label.clone()))
    .execute(tx.conn())
    .await?;
    let out = action_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    let kind = if done {
        events::ACTION_DONE
    } else {
        events::ACTION_REOPENED
    };
    let data =
        json!({"action_id": id, "scorecard_id": a.scorecard_id, "week": a.week, "text": a.text});
    let mut record = Record::new(kind, "scorecard", &a.scorecard_id, data.clone());
    record.events.push(NewEvent {
        id: None,
        event_type: kind.into(),
        client_id: a.client_id.clone(),
        entity_type: "scorecard".into(),
        entity_id: a.scorecard_id.clone(),
        occurred_at: None,
        note: None,
        data,
    });
    tx.commit(record).await?;
    Ok(out)
}
