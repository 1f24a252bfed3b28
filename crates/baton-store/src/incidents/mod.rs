//! The incident log: brand-risk events and publishing errors, from the report
//! through triage (on a 24/7 clock, see [`baton_core::incidents`]),
//! mitigation and resolution to closing with a postmortem. Every move is a
//! write through [`crate::WriteTx`] with its `incident.*` event; the
//! `incident.opened` event starts the client's `incident_response` SOP run,
//! whose checklist follows the incident ([`facts`]). The scheduler moves the
//! triage clock ([`clock`]).

pub(crate) mod facts;

mod clock;
mod kpis;
pub(crate) mod moves;
mod report;
mod settings;

use baton_core::incidents::{Postmortem, Severity, Source, Status};
use baton_core::types::IncidentId;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};

pub use clock::{advance_fenced, due_for_change, next_change, Due};
pub use kpis::{kpis, qa_waiver_count, qa_waivers, QaWaiver};
pub use moves::{
    add_note, cancel, close, finish_action, mitigate, resolve, save_postmortem, triage, Triage,
};
pub use report::{report, NewIncident};
pub use settings::{save_severity, severities, SeverityDef};

/// One incident as pages and the API show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Incident {
    pub id: IncidentId,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub content_id: Option<String>,
    pub content_title: Option<String>,
    /// The version that went out, for a publishing error on an item.
    pub content_version: Option<i64>,
    /// The review round that approved that version.
    pub approval_round: Option<i64>,
    pub title: String,
    pub severity: Severity,
    pub source: Source,
    /// What happened.
    pub summary: Option<String>,
    pub status: Status,
    pub reported_by: String,
    pub occurred_at: i64,
    pub reported_at: i64,
    pub triage_at_risk_at: i64,
    pub triage_due_at: i64,
    pub triage_at_risk_since: Option<i64>,
    /// When the scheduler recorded the triage breach.
    pub triage_breached_at: Option<i64>,
    pub lead_member_id: Option<String>,
    pub lead_name: Option<String>,
    pub plan: Option<String>,
    pub triaged_at: Option<i64>,
    pub mitigated_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: Option<String>,
    /// The resolve note: what was done, the log's closing summary.
    pub closing_summary: Option<String>,
    pub postmortem: Option<Postmortem>,
    /// An admin's reason to close with follow-up actions still open.
    pub close_override: Option<String>,
    pub updated_at: i64,
}

impl Incident {
    /// Whether triage came (or is) past its due time: triaged late, or still
    /// untriaged at `now` past due. A cancelled incident never triaged is
    /// judged at its cancellation.
    pub fn triage_breached(&self, now: i64) -> bool {
        match (self.triaged_at, self.cancelled_at) {
            (Some(t), _) => t >= self.triage_due_at,
            (None, Some(c)) => c >= self.triage_due_at,
            (None, None) => now >= self.triage_due_at,
        }
    }

    /// Triaged before its due time (`None` while not triaged): at the due
    /// instant the triage clock has run out, and the incident is breached.
    pub fn triage_on_time(&self) -> Option<bool> {
        self.triaged_at.map(|t| t < self.triage_due_at)
    }

    /// Whether the triage clock is running and past its at-risk time.
    pub fn triage_at_risk(&self, now: i64) -> bool {
        self.status == Status::Reported && now >= self.triage_at_risk_at && now < self.triage_due_at
    }
}

/// One follow-up action of a postmortem.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Action {
    pub id: String,
    pub incident_id: String,
    pub title: String,
    pub owner_member_id: String,
    pub owner_name: String,
    /// `YYYY-MM-DD`, agency time.
    pub due_on: String,
    /// The end of that day.
    pub due_at: i64,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
}

impl Action {
    pub fn overdue(&self, now: i64) -> bool {
        self.done_at.is_none() && now > self.due_at
    }
}

/// One line of an incident's timeline: a status change, a clock event or a
/// note, in the order they happened.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimelineEntry {
    /// When it happened (a note's own time, "14:05 client called").
    pub at: i64,
    /// `note`, or the event type (`incident.triaged`, …).
    pub kind: String,
    pub text: String,
    /// Who wrote it or made the move.
    pub by: String,
}

const COLS: &str = "i.id, i.client_id, c.name AS client_name, i.content_id, ci.title AS content_title, \
    i.content_version, i.approval_round, i.title, i.severity, i.source, i.summary, i.status, i.reported_by, \
    i.occurred_at, i.reported_at, i.triage_at_risk_at, i.triage_due_at, i.triage_at_risk_since, \
    i.triage_breached_at, i.lead_member_id, m.name AS lead_name, i.plan, i.triaged_at, i.mitigated_at, \
    i.resolved_at, i.closed_at, i.cancelled_at, i.cancel_reason, i.closing_summary, i.postmortem, \
    i.close_override, i.updated_at";

const FROM: &str = "FROM incidents i LEFT JOIN clients c ON c.id = i.client_id \
    LEFT JOIN content_items ci ON ci.id = i.content_id \
    LEFT JOIN members m ON m.id = i.lead_member_id";

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Config(format!("bad stored incident {what} {v:?}"))
}

fn from_row(r: &AnyRow) -> Result<Incident> {
    let severity: String = r.try_get("severity")?;
    let source: String = r.try_get("source")?;
    let status: String = r.try_get("status")?;
    let postmortem = r
        .try_get::<Option<String>, _>("postmortem")?
        .map(|t| serde_json::from_str::<Postmortem>(&t).map_err(|_| bad("postmortem", &t)))
        .transpose()?;
    Ok(Incident {
        id: crate::db::typed_id(r, "id")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        content_id: r.try_get("content_id")?,
        content_title: r.try_get("content_title")?,
        content_version: r.try_get("content_version")?,
        approval_round: r.try_get("approval_round")?,
        title: r.try_get("title")?,
        severity: Severity::parse(&severity).ok_or_else(|| bad("severity", &severity))?,
        source: Source::parse(&source).ok_or_else(|| bad("source", &source))?,
        summary: r.try_get("summary")?,
        status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
        reported_by: r.try_get("reported_by")?,
        occurred_at: r.try_get("occurred_at")?,
        reported_at: r.try_get("reported_at")?,
        triage_at_risk_at: r.try_get("triage_at_risk_at")?,
        triage_due_at: r.try_get("triage_due_at")?,
        triage_at_risk_since: r.try_get("triage_at_risk_since")?,
        triage_breached_at: r.try_get("triage_breached_at")?,
        lead_member_id: r.try_get("lead_member_id")?,
        lead_name: r.try_get("lead_name")?,
        plan: r.try_get("plan")?,
        triaged_at: r.try_get("triaged_at")?,
        mitigated_at: r.try_get("mitigated_at")?,
        resolved_at: r.try_get("resolved_at")?,
        closed_at: r.try_get("closed_at")?,
        cancelled_at: r.try_get("cancelled_at")?,
        cancel_reason: r.try_get("cancel_reason")?,
        closing_summary: r.try_get("closing_summary")?,
        postmortem,
        close_override: r.try_get("close_override")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One incident of the agency (404 for another agency's).
pub async fn get(db: &Db, agency_id: &str, id: &IncidentId) -> Result<Incident> {
    get_on(&mut *db.reader().acquire().await?, agency_id, id.as_str()).await
}

pub(crate) async fn get_on(
    conn: &mut sqlx::AnyConnection,
    agency_id: &str,
    id: &str,
) -> Result<Incident> {
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

/// Which incidents a list shows.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    /// Only open ones (not closed or cancelled).
    pub open: bool,
    pub client_id: Option<String>,
    pub severity: Option<Severity>,
    /// Only those about this content item (its publishing errors).
    pub content_id: Option<String>,
}

/// The agency's incidents, newest first, a page at a time (the cursor is
/// the last id shown).
pub async fn list(
    db: &Db,
    agency_id: &str,
    f: &IncidentFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Incident>> {
    let limit = page::clamp_limit(limit);
    let mut sql = format!("SELECT {COLS} {FROM} WHERE i.agency_id = $1");
    let mut args: Vec<String> = Vec::new();
    let mut arg = |sql: &mut String, cond: &str, v: String| {
        args.push(v);
        sql.push_str(&format!(" AND {cond} ${}", args.len() + 1));
    };
    if let Some(s) = f.status {
        arg(&mut sql, "i.status =", s.key().into());
    }
    if let Some(c) = &f.client_id {
        arg(&mut sql, "i.client_id =", c.clone());
    }
    if let Some(s) = f.severity {
        arg(&mut sql, "i.severity =", s.key().into());
    }
    if let Some(c) = &f.content_id {
        arg(&mut sql, "i.content_id =", c.clone());
    }
    if let Some(c) = cursor {
        arg(&mut sql, "i.id <", c.into());
    }
    if f.open {
        sql.push_str(" AND i.status NOT IN ('closed', 'cancelled')");
    }
    sql.push_str(&format!(" ORDER BY i.id DESC LIMIT {}", limit + 1));
    let mut q = sqlx::query(&sql).bind(agency_id);
    for a in &args {
        q = q.bind(a);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |i| i.id.to_string()))
}

/// The postmortem's follow-up actions of an incident.
pub async fn actions(db: &Db, agency_id: &str, id: &IncidentId) -> Result<Vec<Action>> {
    actions_where(db, agency_id, "a.incident_id = $2", id.as_str()).await
}

/// The open follow-up actions owned by `member_id`, soonest due first (My work).
pub async fn open_actions_of(db: &Db, agency_id: &str, member_id: &str) -> Result<Vec<Action>> {
    actions_where(
        db,
        agency_id,
        "a.owner_member_id = $2 AND a.done_at IS NULL",
        member_id,
    )
    .await
}

async fn actions_where(db: &Db, agency_id: &str, cond: &str, arg: &str) -> Result<Vec<Action>> {
    let rows = sqlx::query(&format!(
        "SELECT a.id, a.incident_id, a.title, a.owner_member_id, m.name AS owner_name, a.due_on, a.due_at, \
         a.done_at, a.done_by FROM incident_actions a JOIN members m ON m.id = a.owner_member_id \
         WHERE a.agency_id = $1 AND {cond} ORDER BY a.due_at, a.id"
    ))
    .bind(agency_id)
    .bind(arg)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Action {
                id: r.try_get("id")?,
                incident_id: r.try_get("incident_id")?,
                title: r.try_get("title")?,
                owner_member_id: r.try_get("owner_member_id")?,
                owner_name: r.try_get("owner_name")?,
                due_on: r.try_get("due_on")?,
                due_at: r.try_get("due_at")?,
                done_at: r.try_get("done_at")?,
                done_by: r.try_get("done_by")?,
            })
        })
        .collect()
}

/// The incident's timeline: its events (report, moves, the triage clock,
/// postmortem, actions) and its notes, oldest first.
pub async fn timeline(db: &Db, agency_id: &str, id: &IncidentId) -> Result<Vec<TimelineEntry>> {
    let mut out = Vec::new();
    let events = sqlx::query(
        "SELECT type, occurred_at, actor_label, note, data FROM events \
         WHERE agency_id = $1 AND entity_type = 'incident' AND entity_id = $2 AND type <> $3 ORDER BY seq",
    )
    .bind(agency_id)
    .bind(id.as_str())
    .bind(baton_core::events::INCIDENT_NOTE)
    .fetch_all(db.reader())
    .await?;
    for e in &events {
        let kind: String = e.try_get("type")?;
        let data: serde_json::Value =
            serde_json::from_str(&e.try_get::<String, _>("data")?).unwrap_or_default();
        out.push(TimelineEntry {
            at: e.try_get("occurred_at")?,
            text: describe(&kind, &data, e.try_get("note")?),
            kind,
            by: e.try_get("actor_label")?,
        });
    }
    let notes = sqlx::query(
        "SELECT at, note, author FROM incident_notes WHERE agency_id = $1 AND incident_id = $2 ORDER BY at, id",
    )
    .bind(agency_id)
    .bind(id.as_str())
    .fetch_all(db.reader())
    .await?;
    for n in &notes {
        out.push(TimelineEntry {
            at: n.try_get("at")?,
            kind: "note".into(),
            text: n.try_get("note")?,
            by: n.try_get("author")?,
        });
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

/// A timeline line for an incident event, in words.
fn describe(kind: &str, data: &serde_json::Value, note: Option<String>) -> String {
    use baton_core::events as ev;
    let s = |k: &str| {
        data.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let with = |head: String| match note.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!("{head}: {n}"),
        _ => head,
    };
    match kind {
        ev::INCIDENT_OPENED => with(format!("Reported ({})", s("severity"))),
        ev::INCIDENT_TRIAGED => with(format!(
            "Triaged as {}, led by {}",
            s("severity"),
            s("lead_name")
        )),
        ev::INCIDENT_MITIGATED => with("Mitigated".into()),
        ev::INCIDENT_RESOLVED => with("Resolved".into()),
        ev::INCIDENT_CLOSED => with("Closed".into()),
        ev::INCIDENT_CANCELLED => with("Cancelled".into()),
        ev::INCIDENT_TRIAGE_AT_RISK => "Triage at risk: half of the triage time has passed".into(),
        ev::INCIDENT_TRIAGE_BREACHED => "Triage breached: not triaged in time; escalated".into(),
        ev::INCIDENT_POSTMORTEM => "Postmortem saved".into(),
        ev::INCIDENT_ACTION_DONE => format!("Follow-up done: {}", s("title")),
        ev::INCIDENT_ACTION_OVERDUE => format!("Follow-up overdue: {}", s("title")),
        other => with(other.to_string()),
    }
}

/// The `incident_response` SOP run the incident started, if any (an
/// incident without a client starts none).
pub async fn run_of(db: &Db, agency_id: &str, id: &IncidentId) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM sop_runs WHERE agency_id = $1 AND subject_type = 'incident' AND subject_id = $2 \
         ORDER BY id LIMIT 1",
    )
    .bind(agency_id)
    .bind(id.as_str())
    .fetch_optional(db.reader())
    .await?)
}
