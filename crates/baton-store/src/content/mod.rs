//! Content items: the brief, immutable versions named by the agency's
//! convention, reviewers (who comment) and approvers (who decide), approval
//! rounds with consolidated feedback and counted revisions, the publishing
//! QA gate and the schedule. Status moves follow `baton_core::content`;
//! each move records the event that starts the matching SOP.

mod items;
mod participants;
mod publishing;
mod queries;
mod review;
mod versions;

use std::collections::BTreeMap;

use baton_core::content::{self, ApprovalMode, ContentBrief, ContentStatus, QaItem};
use baton_core::types::ContentId;
use baton_core::CoreError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{NewEvent, Record, WriteTx};

pub use items::{create, plan, update, ItemPatch, NewItem, CAPTION_REOPENS};
pub use participants::{
    client_defaults, save_client_defaults, set_participants, Participants, CLIENT_APPROVER,
    PARTICIPANTS_APPLIED,
};
pub use publishing::{act, schedule, set_qa};
pub use queries::{
    discussion, list, rounds, scheduled_between, status_counts, versions, waiting_for, ItemFilter,
    Remark, Round, Version, WaitingFor,
};
pub use review::{comment, decide, resize_revision, submit, NewComment, NewDecision, Speaker};
pub use versions::{
    add_version, ready_for_version, version, version_allowed, NewVersion, VersionText,
};

/// The agency's content settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentSettings {
    /// Version naming pattern (default `{client}_{campaign}_{channel}_{format}_v{n}`).
    pub naming: String,
    /// QA checklists the agency configured, per channel; other channels use
    /// Baton's defaults.
    pub qa: BTreeMap<String, Vec<QaItem>>,
}

/// The agency's content settings (Baton's defaults until changed).
pub async fn settings(db: &Db, agency_id: &str) -> Result<ContentSettings> {
    let mut conn = db.reader().acquire().await?;
    settings_on(&mut conn, agency_id).await
}

async fn settings_on(conn: &mut AnyConnection, agency_id: &str) -> Result<ContentSettings> {
    let row = sqlx::query("SELECT naming, qa FROM content_settings WHERE agency_id = $1")
        .bind(agency_id)
        .fetch_optional(conn)
        .await?;
    let (naming, qa) = match row {
        None => (None, None),
        Some(r) => (
            r.try_get::<Option<String>, _>("naming")?,
            r.try_get::<Option<String>, _>("qa")?,
        ),
    };
    Ok(ContentSettings {
        naming: naming.unwrap_or_else(|| content::DEFAULT_NAMING.to_string()),
        qa: match qa {
            None => BTreeMap::new(),
            Some(t) => parse(&t, "QA settings")?,
        },
    })
}

/// Saves the agency's naming pattern and per-channel QA checklists.
pub async fn save_settings(
    cx: Cx<'_>,
    naming: &str,
    qa: BTreeMap<String, Vec<QaItem>>,
) -> Result<ContentSettings> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let naming = content::validate_naming(naming)?;
    let mut checked = BTreeMap::new();
    for (channel, items) in qa {
        let key = channel.trim().to_lowercase();
        if key.is_empty() || key.len() > 40 {
            return Err(CoreError::invalid("qa", "name each channel (1–40 characters)").into());
        }
        checked.insert(key, content::validate_qa(items)?);
    }
    let mut tx = cx.begin().await?;
    sqlx::query("DELETE FROM content_settings WHERE agency_id = $1")
        .bind(agency_id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO content_settings (agency_id, naming, qa, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(agency_id)
    .bind(&naming)
    .bind(text(&checked)?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let detail = json!({"naming": naming, "qa_channels": checked.keys().collect::<Vec<_>>()});
    tx.commit(Record::new(
        "agency.content_settings_changed",
        "agency",
        agency_id,
        detail,
    ))
    .await?;
    Ok(ContentSettings {
        naming,
        qa: checked,
    })
}

fn parse<T: for<'de> Deserialize<'de>>(t: &str, what: &str) -> Result<T> {
    serde_json::from_str(t).map_err(|e| StoreError::Config(format!("bad stored {what}: {e}")))
}

fn text(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Config(e.to_string()))
}

/// The QA checklist of an item: its items and which are done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QaState {
    pub items: Vec<QaItem>,
    /// key → who ticked it and when.
    pub done: BTreeMap<String, Done>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Done {
    pub at: i64,
    pub by: String,
}

impl QaState {
    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| self.done.contains_key(&i.key))
    }
}

/// One content item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: ContentId,
    pub client_id: String,
    pub client_name: String,
    pub title: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    pub brief: ContentBrief,
    /// The caption (copy) to publish with the asset, part of what is
    /// approved; empty until written.
    pub caption: String,
    pub status: ContentStatus,
    pub approval_mode: ApprovalMode,
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// A change of reviewers and approvers waiting for the next round.
    pub pending_participants: Option<PendingParticipants>,
    pub current_version: i64,
    pub round: i64,
    pub first_submitted_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub approved_at: Option<i64>,
    pub approval_business_ms: Option<i64>,
    pub qa: QaState,
    pub qa_by: Option<String>,
    pub qa_at: Option<i64>,
    pub qa_waived_reason: Option<String>,
    pub publish_at: Option<i64>,
    pub published_at: Option<i64>,
    /// The day it is planned to go out (`YYYY-MM-DD`, agency time): the
    /// on-time KPI judges it published by the end of that day.
    pub planned_on: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Rounds whose outcome was changes requested.
    pub revision_count: i64,
}

/// A change of an item's reviewers and approvers made during an open round
/// by someone other than an admin: it applies when the next round opens, so
/// the open round is decided by the approvers it was submitted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingParticipants {
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    pub approval_mode: ApprovalMode,
    /// Who asked for it: their name and member id.
    pub by: String,
    pub by_id: String,
    pub at: i64,
}

impl Item {
    /// First submission to approval, wall time.
    pub fn approval_cycle_ms(&self) -> Option<i64> {
        Some(self.approved_at? - self.first_submitted_at?)
    }
}

const COLS: &str = "i.id, i.client_id, c.name AS client_name, i.title, i.channel, i.format, i.campaign, \
    i.brief, i.caption, i.status, i.approval_mode, i.reviewers, i.approvers, i.pending_participants, \
    i.current_version, i.round, \
    i.first_submitted_at, i.submitted_at, i.approved_at, i.approval_business_ms, i.qa, i.qa_by, i.qa_at, \
    i.qa_waived_reason, i.publish_at, i.published_at, i.planned_on, i.created_by, i.created_at, i.updated_at, \
    (SELECT COUNT(*) FROM content_rounds x WHERE x.content_id = i.id AND x.outcome = 'changes_requested') AS revisions";

const FROM: &str = "FROM content_items i JOIN clients c ON c.id = i.client_id";

fn from_row(r: &AnyRow) -> Result<Item> {
    let status: String = r.try_get("status")?;
    let mode: String = r.try_get("approval_mode")?;
    Ok(Item {
        id: crate::db::typed_id(r, "id")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        title: r.try_get("title")?,
        channel: r.try_get("channel")?,
        format: r.try_get("format")?,
        campaign: r.try_get("campaign")?,
        brief: parse(&r.try_get::<String, _>("brief")?, "brief")?,
        caption: r.try_get("caption")?,
        status: ContentStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("bad stored content status {status}")))?,
        approval_mode: ApprovalMode::parse(&mode).unwrap_or_default(),
        reviewers: parse(&r.try_get::<String, _>("reviewers")?, "reviewers")?,
        approvers: parse(&r.try_get::<String, _>("approvers")?, "approvers")?,
        pending_participants: match r.try_get::<Option<String>, _>("pending_participants")? {
            Some(t) => Some(parse(&t, "pending participants")?),
            None => None,
        },
        current_version: r.try_get("current_version")?,
        round: r.try_get("round")?,
        first_submitted_at: r.try_get("first_submitted_at")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_at: r.try_get("approved_at")?,
        approval_business_ms: r.try_get("approval_business_ms")?,
        qa: parse(&r.try_get::<String, _>("qa")?, "QA")?,
        qa_by: r.try_get("qa_by")?,
        qa_at: r.try_get("qa_at")?,
        qa_waived_reason: r.try_get("qa_waived_reason")?,
        publish_at: r.try_get("publish_at")?,
        planned_on: r.try_get("planned_on")?,
        published_at: r.try_get("published_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        revision_count: r.try_get("revisions")?,
    })
}

async fn get_on(conn: &mut AnyConnection, agency_id: &str, id: &str) -> Result<Item> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE i.agency_id = $1 AND i.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// One item of the agency.
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Item> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, agency_id, id).await
}

/// Locks an item's row for a change and loads it.
async fn lock(tx: &mut WriteTx, id: &str) -> Result<Item> {
    let agency_id = tx.agency_id().to_string();
    let hit = sqlx::query(
        "UPDATE content_items SET updated_at = updated_at WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    get_on(tx.conn(), &agency_id, id).await
}

fn event(item: &Item, event_type: &str, data: serde_json::Value) -> NewEvent {
    let mut d = json!({"content_id": item.id, "title": item.title});
    if let (Some(o), serde_json::Value::Object(extra)) = (d.as_object_mut(), data) {
        o.extend(extra);
    }
    NewEvent {
        id: None,
        event_type: event_type.into(),
        client_id: Some(item.client_id.clone()),
        entity_type: "content".into(),
        entity_id: item.id.to_string(),
        occurred_at: None,
        note: None,
        data: d,
    }
}

async fn set_status(
    tx: &mut WriteTx,
    item: &Item,
    to: ContentStatus,
    extra_sql: &str,
    binds: &[Option<i64>],
) -> Result<()> {
    let sql = format!(
        "UPDATE content_items SET status = $3, updated_at = $4{extra_sql} WHERE agency_id = $1 AND id = $2"
    );
    let mut q = sqlx::query(&sql)
        .bind(tx.agency_id().to_string())
        .bind(item.id.as_str())
        .bind(to.key())
        .bind(tx.now());
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(tx.conn()).await?;
    Ok(())
}
