//! SOP runs: one SOP started for one client, by its trigger event or by hand.
//! A run resolves its owner from the client's account team, computes its
//! at-risk and due instants on the agency's business calendar, tracks its
//! definition-of-done checklist, and moves `on_track → at_risk → breached`
//! when the scheduler ([`due_for_change`], [`advance`]) reaches its
//! `next_change_at`. Escalations (events, in-app notices and, when SMTP is
//! configured, emails) are written in the same transaction as the move.

mod changes;
pub(crate) mod escalation;
mod follow;
mod notices;
mod on_time;
mod queries;
mod scheduler;
mod start;

use std::collections::BTreeMap;

use baton_core::facts::{self, Fact, Subject};
use baton_core::roles::Role;
use baton_core::sop::{RunStatus, SopDefinition};
use baton_core::types::RunId;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};

pub use changes::{assign, complete, pause, resume, set_checklist};
use changes::{credit_pause, lock_run};
pub(crate) use escalation::{admins, seat, send_notices, traffic_control, NoticeAbout, NoticeText};
use escalation::{apply_status, resolve_owner};
pub use notices::{mark_notices_read, notices, unread_count, Notice};
pub use on_time::{on_time, OnTime, OnTimeReport};
pub use queries::{by_due, count, list, open_counts, recently_done, unowned, RunFilter};
pub use scheduler::{advance, advance_fenced, due_for_change, next_change, SCHEDULER_LEASE};
pub use start::{reresolve_owners, start, start_for_event, StartRun};

pub(crate) use follow::{cancel, follow, follow_events, restore, Cancel, Follow};
pub(crate) use start::start_for_week_in_tx;

/// One checklist item of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunItem {
    pub key: String,
    pub label: String,
    pub done: bool,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    /// A fact Baton knows ticks (and unticks) it; it cannot be ticked by hand.
    pub auto: bool,
    /// Why it ticks itself, when `auto`.
    pub fact: Option<&'static str>,
    /// The event that ticked it (`sop_run.checklist_changed`), when it
    /// ticked itself.
    pub event_id: Option<String>,
}

/// What a run is about: its subject, with a name people read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSubject {
    /// `content_item`, `handoff_brief`, `access` or `offboarding`.
    #[serde(rename = "type")]
    pub kind: Subject,
    /// The content item's id, or the client's for client-level subjects.
    pub id: String,
    pub title: String,
    /// The approval round a review run is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<i64>,
}

/// A run as the API and the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub client_id: String,
    pub client_name: String,
    pub sop_key: String,
    pub sop_name: String,
    pub sop_version: i64,
    pub trigger_event_id: Option<String>,
    pub started_at: i64,
    pub started_by: String,
    pub owner_role: Role,
    pub escalation_role: Role,
    pub owner_member_id: Option<String>,
    pub owner_name: Option<String>,
    /// `role`, `traffic_control`, `assigned` or `unowned` (flagged).
    pub owner_source: String,
    pub status: RunStatus,
    pub sla: String,
    pub at_risk_at: i64,
    pub due_at: i64,
    pub paused_at: Option<i64>,
    pub pause_reason: Option<String>,
    pub paused_ms: i64,
    pub checklist: Vec<RunItem>,
    pub at_risk_since: Option<i64>,
    pub breached_since: Option<i64>,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    pub subject: Option<RunSubject>,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
}

impl Run {
    /// Done no later than due (`None` while open or cancelled).
    pub fn on_time(&self) -> Option<bool> {
        self.done_at.map(|d| d <= self.due_at)
    }

    /// Neither done nor cancelled.
    pub fn is_open(&self) -> bool {
        self.done_at.is_none() && self.cancelled_at.is_none()
    }

    /// The checklist items still to do.
    pub fn missing(&self) -> Vec<&RunItem> {
        self.checklist.iter().filter(|i| !i.done).collect()
    }
}

/// A done checklist item as stored in the run's `checklist` JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneItem {
    pub at: i64,
    pub by: String,
    /// The `sop_run.checklist_changed` event that ticked it, when a fact did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

type DoneMap = BTreeMap<String, DoneItem>;

fn parse_done(text: &str) -> Result<DoneMap> {
    serde_json::from_str(text).map_err(|e| StoreError::Config(format!("bad run checklist: {e}")))
}

fn to_text(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Config(e.to_string()))
}

const COLS: &str = "r.id, r.client_id, r.sop_key, r.sop_version, r.trigger_event_id, r.started_at, \
    r.started_by, r.owner_member_id, r.owner_source, r.status, r.at_risk_at, r.due_at, r.paused_at, \
    r.pause_reason, r.paused_ms, r.checklist, r.at_risk_since, r.breached_since, r.done_at, r.done_by, \
    r.subject_type, r.subject_id, r.subject_round, r.cancelled_at, r.cancel_reason, \
    c.name AS client_name, m.name AS owner_name, v.definition, COALESCE(ci.title, inc.title) AS subject_title";

const FROM: &str = "FROM sop_runs r JOIN clients c ON c.id = r.client_id \
    LEFT JOIN members m ON m.id = r.owner_member_id \
    JOIN sop_versions v ON v.agency_id = r.agency_id AND v.sop_key = r.sop_key AND v.version = r.sop_version \
    LEFT JOIN content_items ci ON r.subject_type = 'content_item' AND ci.id = r.subject_id \
    LEFT JOIN incidents inc ON r.subject_type = 'incident' AND inc.id = r.subject_id";

fn from_row(r: &AnyRow) -> Result<Run> {
    let def: SopDefinition = serde_json::from_str(&r.try_get::<String, _>("definition")?)
        .map_err(|e| StoreError::Config(format!("bad stored SOP: {e}")))?;
    let done = parse_done(&r.try_get::<String, _>("checklist")?)?;
    let status: String = r.try_get("status")?;
    let client_name: String = r.try_get("client_name")?;
    let subject_kind = r
        .try_get::<Option<String>, _>("subject_type")?
        .and_then(|k| Subject::parse(&k));
    let subject = match (subject_kind, r.try_get::<Option<String>, _>("subject_id")?) {
        (Some(kind), Some(id)) => Some(RunSubject {
            kind,
            title: match kind {
                Subject::ContentItem => r
                    .try_get::<Option<String>, _>("subject_title")?
                    .unwrap_or_else(|| "a content item".into()),
                Subject::HandoffBrief => format!("Handoff brief of {client_name}"),
                Subject::Access => format!("Platform access of {client_name}"),
                Subject::Offboarding => format!("Offboarding of {client_name}"),
                Subject::Incident => r
                    .try_get::<Option<String>, _>("subject_title")?
                    .map(|t| format!("Incident: {t}"))
                    .unwrap_or_else(|| format!("An incident of {client_name}")),
                Subject::Week => format!(
                    "Weekly scorecard {} of {client_name}",
                    r.try_get::<Option<String>, _>("subject_id")?
                        .unwrap_or_default()
                ),
            },
            id,
            round: r.try_get("subject_round")?,
        }),
        _ => None,
    };
    Ok(Run {
        id: crate::db::typed_id(r, "id")?,
        client_id: r.try_get("client_id")?,
        client_name,
        sop_key: r.try_get("sop_key")?,
        sop_name: def.name.clone(),
        sop_version: r.try_get("sop_version")?,
        trigger_event_id: r.try_get("trigger_event_id")?,
        started_at: r.try_get("started_at")?,
        started_by: r.try_get("started_by")?,
        owner_role: def.owner_role,
        escalation_role: def.escalation_role,
        owner_member_id: r.try_get("owner_member_id")?,
        owner_name: r.try_get("owner_name")?,
        owner_source: r.try_get("owner_source")?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("bad stored run status {status}")))?,
        sla: def.sla.describe(),
        at_risk_at: r.try_get("at_risk_at")?,
        due_at: r.try_get("due_at")?,
        paused_at: r.try_get("paused_at")?,
        pause_reason: r.try_get("pause_reason")?,
        paused_ms: r.try_get("paused_ms")?,
        checklist: def
            .checklist
            .iter()
            .map(|i| {
                let d = done.get(&i.key);
                let fact = subject_kind.and_then(|s| facts::fact_for(s, &i.key));
                RunItem {
                    key: i.key.clone(),
                    label: i.label.clone(),
                    done: d.is_some(),
                    done_at: d.map(|d| d.at),
                    done_by: d.map(|d| d.by.clone()),
                    auto: fact.is_some(),
                    fact: fact.map(Fact::explain),
                    event_id: d.and_then(|d| d.event.clone()),
                }
            })
            .collect(),
        at_risk_since: r.try_get("at_risk_since")?,
        breached_since: r.try_get("breached_since")?,
        done_at: r.try_get("done_at")?,
        done_by: r.try_get("done_by")?,
        subject,
        cancelled_at: r.try_get("cancelled_at")?,
        cancel_reason: r.try_get("cancel_reason")?,
    })
}

async fn get_on(conn: &mut AnyConnection, agency_id: &str, id: &str) -> Result<Run> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// One run of the agency.
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Run> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, agency_id, id).await
}
