//! SOP runs: one SOP started for one client, by its trigger event or by hand.
//! A run resolves its owner from the client's account team, computes its
//! at-risk and due instants on the agency's business calendar, tracks its
//! definition-of-done checklist, and moves `on_track → at_risk → breached`
//! when the scheduler ([`due_for_change`], [`advance`]) reaches its
//! `next_change_at`. Escalations (events, in-app notices and, when SMTP is
//! configured, emails) are written in the same transaction as the move.

use std::collections::{BTreeMap, BTreeSet};

use baton_core::calendar::Calendar;
use baton_core::facts::{self, Fact, Subject};
use baton_core::roles::Role;
use baton_core::sop::{self, RunStatus, SopDefinition};
use baton_core::{events, ids, validate, CoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::{Actor, NewEvent, Record, WriteTx};

mod follow;
pub(crate) use follow::{cancel, follow_events, restore, Cancel};

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
    pub id: String,
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
    c.name AS client_name, m.name AS owner_name, v.definition, ci.title AS subject_title";

const FROM: &str = "FROM sop_runs r JOIN clients c ON c.id = r.client_id \
    LEFT JOIN members m ON m.id = r.owner_member_id \
    JOIN sop_versions v ON v.agency_id = r.agency_id AND v.sop_key = r.sop_key AND v.version = r.sop_version \
    LEFT JOIN content_items ci ON r.subject_type = 'content_item' AND ci.id = r.subject_id";

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
            },
            id,
            round: r.try_get("subject_round")?,
        }),
        _ => None,
    };
    Ok(Run {
        id: r.try_get("id")?,
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

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub client_id: Option<String>,
    pub owner_member_id: Option<String>,
    pub sop_key: Option<String>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<RunStatus>,
    /// Only runs neither done nor cancelled.
    pub open: bool,
}

fn filter_sql(f: &RunFilter, first: usize) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut n = first;
    let mut add = |cond: &str, v: &str, sql: &mut String| {
        sql.push_str(&cond.replace('?', &format!("${n}")));
        binds.push(v.to_string());
        n += 1;
    };
    if let Some(c) = &f.client_id {
        add(" AND r.client_id = ?", c, &mut sql);
    }
    if let Some(m) = &f.owner_member_id {
        add(" AND r.owner_member_id = ?", m, &mut sql);
    }
    if let Some(k) = &f.sop_key {
        add(" AND r.sop_key = ?", k, &mut sql);
    }
    if !f.statuses.is_empty() {
        let mut parts = Vec::new();
        for s in &f.statuses {
            parts.push(format!("${n}"));
            binds.push(s.key().to_string());
            n += 1;
        }
        sql.push_str(&format!(" AND r.status IN ({})", parts.join(", ")));
    }
    if f.open {
        sql.push_str(" AND r.done_at IS NULL AND r.cancelled_at IS NULL");
    }
    (sql, binds)
}

/// Runs in id (start) order, a page at a time.
pub async fn list(
    db: &Db,
    agency_id: &str,
    f: &RunFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Run>> {
    let limit = page::clamp_limit(limit);
    let (cond, binds) = filter_sql(f, 4);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.id > $2{cond} ORDER BY r.id LIMIT $3"
    );
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(""))
        .bind(limit + 1);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let runs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(runs, limit, |r| r.id.clone()))
}

/// Runs by due time (soonest first), at most `cap`: the "my work" and
/// traffic-control views.
pub async fn by_due(db: &Db, agency_id: &str, f: &RunFilter, cap: i64) -> Result<Vec<Run>> {
    let (cond, binds) = filter_sql(f, 3);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1{cond} ORDER BY r.due_at, r.id LIMIT $2"
    );
    let mut q = sqlx::query(&sql).bind(agency_id).bind(cap.clamp(1, 5_000));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// The most recently done runs first, at most `cap` (a client's history).
pub async fn recently_done(db: &Db, agency_id: &str, f: &RunFilter, cap: i64) -> Result<Vec<Run>> {
    let (cond, binds) = filter_sql(f, 3);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.done_at IS NOT NULL{cond} \
         ORDER BY r.done_at DESC, r.id DESC LIMIT $2"
    );
    let mut q = sqlx::query(&sql).bind(agency_id).bind(cap.clamp(1, 5_000));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// How many runs match `f`.
pub async fn count(db: &Db, agency_id: &str, f: &RunFilter) -> Result<i64> {
    let (cond, binds) = filter_sql(f, 2);
    let sql = format!("SELECT COUNT(*) FROM sop_runs r WHERE r.agency_id = $1{cond}");
    let mut q = sqlx::query_scalar(&sql).bind(agency_id);
    for b in &binds {
        q = q.bind(b);
    }
    Ok(q.fetch_one(db.reader()).await?)
}

/// How many open runs the agency has in each status (the dashboard's line).
pub async fn open_counts(db: &Db, agency_id: &str) -> Result<BTreeMap<RunStatus, i64>> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM sop_runs WHERE agency_id = $1 AND done_at IS NULL \
         AND cancelled_at IS NULL GROUP BY status",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        let status: String = r.try_get("status")?;
        if let Some(s) = RunStatus::parse(&status) {
            out.insert(s, r.try_get::<i64, _>("n")?);
        }
    }
    Ok(out)
}

/// Open runs that nobody owns.
pub async fn unowned(db: &Db, agency_id: &str, cap: i64) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.done_at IS NULL AND r.cancelled_at IS NULL \
         AND r.owner_member_id IS NULL \
         ORDER BY r.due_at, r.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cap.clamp(1, 5_000))
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}

// ---------------------------------------------------------------------------
// Owners and escalation
// ---------------------------------------------------------------------------

/// The active member holding `role` on the client's account team.
async fn seat(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    role: Role,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT t.member_id FROM client_team t JOIN members m ON m.id = t.member_id \
         WHERE t.agency_id = $1 AND t.client_id = $2 AND t.role = $3 AND m.active = 1",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(role.key())
    .fetch_optional(conn)
    .await?)
}

/// The client's traffic-control owner, if active.
async fn traffic_control(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<Option<String>> {
    let m: Option<Option<String>> = sqlx::query_scalar(
        "SELECT c.traffic_control_member_id FROM clients c \
         LEFT JOIN members m ON m.id = c.traffic_control_member_id AND m.active = 1 \
         WHERE c.agency_id = $1 AND c.id = $2 AND (c.traffic_control_member_id IS NULL OR m.id IS NOT NULL)",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    Ok(m.flatten())
}

/// The owner of a run of an SOP owned by `role`: the client's seat for the
/// role, else the traffic-control owner, else nobody (flagged `unowned`).
async fn resolve_owner(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    role: Role,
) -> Result<(Option<String>, &'static str)> {
    if let Some(m) = seat(conn, agency_id, client_id, role).await? {
        return Ok((Some(m), "role"));
    }
    if let Some(m) = traffic_control(conn, agency_id, client_id).await? {
        return Ok((Some(m), "traffic_control"));
    }
    Ok((None, "unowned"))
}

/// Who hears about a run's move: the owner, plus (on breach) the member in
/// the escalation role. Without either, the traffic-control owner; without
/// that, the agency's admins, so an escalation never goes nowhere.
async fn recipients(
    conn: &mut AnyConnection,
    agency_id: &str,
    run: &Run,
    breach: bool,
) -> Result<Vec<String>> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    if let Some(o) = &run.owner_member_id {
        out.insert(o.clone());
    }
    if breach {
        if let Some(m) = seat(conn, agency_id, &run.client_id, run.escalation_role).await? {
            out.insert(m);
        }
    }
    if out.is_empty() {
        if let Some(m) = traffic_control(conn, agency_id, &run.client_id).await? {
            out.insert(m);
        }
    }
    if out.is_empty() {
        let admins: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM members WHERE agency_id = $1 AND is_admin = 1 AND active = 1 ORDER BY id",
        )
        .bind(agency_id)
        .fetch_all(&mut *conn)
        .await?;
        out.extend(admins);
    }
    Ok(out.into_iter().collect())
}

/// Writes the in-app notices (and, with `email`, the email jobs) for a run
/// that became at risk or breached.
async fn escalate(tx: &mut WriteTx, run: &Run, status: RunStatus, email: bool) -> Result<usize> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let breach = status == RunStatus::Breached;
    let to = recipients(tx.conn(), &agency_id, run, breach).await?;
    let (kind, title) = if breach {
        (
            events::SOP_RUN_BREACHED,
            format!("Breached: {} for {}", run.sop_name, run.client_name),
        )
    } else {
        (
            events::SOP_RUN_AT_RISK,
            format!("At risk: {} for {}", run.sop_name, run.client_name),
        )
    };
    let missing: Vec<&str> = run.missing().iter().map(|i| i.label.as_str()).collect();
    let owner = run
        .owner_name
        .as_deref()
        .unwrap_or("nobody (no owner could be resolved)");
    let agency = sqlx::query("SELECT name, timezone FROM agencies WHERE id = $1")
        .bind(&agency_id)
        .fetch_one(tx.conn())
        .await?;
    let agency_name: String = agency.try_get("name")?;
    let tz = baton_core::human::zone(&agency.try_get::<String, _>("timezone")?);
    let about = match &run.subject {
        Some(s) if s.kind == Subject::ContentItem => format!(" ({})", s.title),
        _ => String::new(),
    };
    let mut body = format!(
        "{}{about} for {} ({} SLA) is {} — due {}. Owner: {owner}.",
        run.sop_name,
        run.client_name,
        run.sla,
        if breach {
            "past its due time"
        } else {
            "at risk"
        },
        baton_core::human::when(run.due_at, now, &tz),
    );
    if !missing.is_empty() {
        body.push_str(&format!(" Still to do: {}.", missing.join("; ")));
    }
    for member in &to {
        sqlx::query(
            "INSERT INTO notices (id, agency_id, member_id, client_id, run_id, kind, title, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(ids::new_id(ids::NOTICE, now))
        .bind(&agency_id)
        .bind(member)
        .bind(&run.client_id)
        .bind(&run.id)
        .bind(kind)
        .bind(&title)
        .bind(&body)
        .bind(now)
        .execute(tx.conn())
        .await?;
        if email {
            let address: Option<String> =
                sqlx::query_scalar("SELECT email FROM members WHERE id = $1 AND active = 1")
                    .bind(member)
                    .fetch_optional(tx.conn())
                    .await?;
            if let Some(address) = address {
                tx.enqueue(
                    "email",
                    &json!({"to": address, "subject": title, "text": body, "from_name": agency_name}),
                )
                .await?;
            }
        }
    }
    Ok(to.len())
}

fn status_event(run: &Run, status: RunStatus, occurred_at: i64, notified: usize) -> NewEvent {
    let event_type = if status == RunStatus::Breached {
        events::SOP_RUN_BREACHED
    } else {
        events::SOP_RUN_AT_RISK
    };
    NewEvent {
        id: None,
        event_type: event_type.into(),
        client_id: Some(run.client_id.clone()),
        entity_type: "sop_run".into(),
        entity_id: run.id.clone(),
        occurred_at: Some(occurred_at),
        note: None,
        data: json!({
            "run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name,
            "due_at": run.due_at, "owner": run.owner_name, "notified": notified,
        }),
    }
}

/// Applies a computed status to a run inside `tx`: the row, and for a new
/// at-risk or breach the event (occurring at the SLA instant, not at the
/// scheduler's wake-up) and the escalation notices. Returns the events.
async fn apply_status(
    tx: &mut WriteTx,
    run: &mut Run,
    status: RunStatus,
    next: Option<i64>,
    email: bool,
) -> Result<Vec<NewEvent>> {
    let mut out = Vec::new();
    let at_risk_since = match status {
        RunStatus::OnTrack => None,
        _ => run.at_risk_since.or(Some(run.at_risk_at.min(run.due_at))),
    };
    let breached_since = match status {
        RunStatus::Breached => run.breached_since.or(Some(run.due_at)),
        _ => None,
    };
    let newly_breached = status == RunStatus::Breached && run.breached_since.is_none();
    let newly_at_risk = status == RunStatus::AtRisk && run.at_risk_since.is_none();
    sqlx::query(
        "UPDATE sop_runs SET status = $3, next_change_at = $4, at_risk_since = $5, breached_since = $6, \
         at_risk_at = $7, due_at = $8, updated_at = $9 WHERE agency_id = $1 AND id = $2",
    )
    .bind(tx.agency_id().to_string())
    .bind(&run.id)
    .bind(status.key())
    .bind(next)
    .bind(at_risk_since)
    .bind(breached_since)
    .bind(run.at_risk_at)
    .bind(run.due_at)
    .bind(tx.now())
    .execute(tx.conn())
    .await?;
    run.status = status;
    run.at_risk_since = at_risk_since;
    run.breached_since = breached_since;
    if newly_breached || newly_at_risk {
        let notified = escalate(tx, run, status, email).await?;
        let at = if newly_breached {
            run.due_at
        } else {
            run.at_risk_at
        };
        out.push(status_event(run, status, at, notified));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Starting runs
// ---------------------------------------------------------------------------

/// What starts a run.
#[derive(Debug, Clone)]
pub struct StartRun {
    pub sop_key: String,
    pub client_id: String,
    /// When the SLA clock starts (back-dated imports); now when absent.
    pub started_at: Option<i64>,
    /// The event that triggered it; `None` when started by hand.
    pub trigger_event_id: Option<String>,
}

/// Starts a run inside `tx`; `None` if the trigger event already started
/// this SOP (a replayed outbox job).
async fn start_in_tx(
    tx: &mut WriteTx,
    calendar: &Calendar,
    s: &StartRun,
    email: bool,
) -> Result<Option<(Run, Vec<NewEvent>)>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    if let Some(ev) = &s.trigger_event_id {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM sop_runs WHERE agency_id = $1 AND trigger_event_id = $2 AND sop_key = $3",
        )
        .bind(&agency_id)
        .bind(ev)
        .bind(&s.sop_key)
        .fetch_optional(tx.conn())
        .await?;
        if exists.is_some() {
            return Ok(None);
        }
    }
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(&agency_id)
            .bind(&s.client_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
    if lifecycle == "archived" && s.trigger_event_id.is_none() {
        return Err(
            CoreError::Conflict("the client is archived: no SOP can start for it".into()).into(),
        );
    }
    let (version, def) = crate::sops::current_in_tx(tx.conn(), &agency_id, &s.sop_key, now)
        .await?
        .ok_or_else(|| {
            CoreError::invalid("sop", format!("no SOP {:?} in the library", s.sop_key))
        })?;
    // What the run is about: the content item its trigger event names, or
    // the client's brief, access or offboarding.
    let trigger = match &s.trigger_event_id {
        Some(ev) => sqlx::query(
            "SELECT type, entity_type, entity_id, data FROM events WHERE agency_id = $1 AND id = $2",
        )
        .bind(&agency_id)
        .bind(ev)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| -> Result<(String, String, Value)> {
            let data: String = r.try_get("data")?;
            // Only a submission opens a round: the run it starts reviews it.
            let opens_round = r.try_get::<String, _>("type")?
                == baton_core::content::action_event(baton_core::content::ContentAction::Submit);
            Ok((
                r.try_get("entity_type")?,
                r.try_get("entity_id")?,
                if opens_round {
                    serde_json::from_str(&data).unwrap_or(Value::Null)
                } else {
                    Value::Null
                },
            ))
        })
        .transpose()?,
        None => None,
    };
    let kind = Subject::of_run(&def.key, trigger.as_ref().map(|t| t.0.as_str()));
    let (subject_id, subject_round) = match (kind, &trigger) {
        (Some(Subject::ContentItem), Some((_, entity, data))) => (
            Some(entity.clone()),
            data.get("round").and_then(Value::as_i64),
        ),
        (Some(_), _) => (Some(s.client_id.clone()), None),
        (None, _) => (None, None),
    };
    if s.trigger_event_id.is_some() {
        // Work that went away starts nothing: a cancelled item, or a client
        // that left delivery (but for the SOPs of offboarding itself).
        if kind == Some(Subject::ContentItem) {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM content_items WHERE agency_id = $1 AND id = $2",
            )
            .bind(&agency_id)
            .bind(&subject_id)
            .fetch_optional(tx.conn())
            .await?;
            if status.as_deref() == Some("cancelled") {
                return Ok(None);
            }
        }
        if matches!(lifecycle.as_str(), "offboarding" | "archived") && !sop::outlives_delivery(&def)
        {
            return Ok(None);
        }
        // A move that was corrected before its job ran starts nothing.
        if let (Some(ev), Some(("client", _, _))) = (
            &s.trigger_event_id,
            trigger.as_ref().map(|(t, e, d)| (t.as_str(), e, d)),
        ) {
            let corrected: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM events WHERE agency_id = $1 AND client_id = $2 AND type = 'reopened' \
                 AND data LIKE $3 LIMIT 1",
            )
            .bind(&agency_id)
            .bind(&s.client_id)
            .bind(format!("%\"corrects_event_id\":\"{ev}\"%"))
            .fetch_optional(tx.conn())
            .await?;
            if corrected.is_some() {
                return Ok(None);
            }
        }
    }
    let started_at = s.started_at.unwrap_or(now);
    let (owner, source) =
        resolve_owner(tx.conn(), &agency_id, &s.client_id, def.owner_role).await?;
    let (at_risk_at, due_at) = def.sla.deadlines(calendar, started_at, 0);
    let id = ids::new_id(ids::SOP_RUN, now);
    let actor = tx.actor().label.clone();
    sqlx::query(
        "INSERT INTO sop_runs (id, agency_id, client_id, sop_key, sop_version, trigger_event_id, started_at, \
         started_by, owner_member_id, owner_source, status, at_risk_at, due_at, next_change_at, checklist, \
         created_at, updated_at, subject_type, subject_id, subject_round) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'on_track', $11, $12, $11, '{}', $13, $13, $14, $15, $16)",
    )
    .bind(&id)
    .bind(&agency_id)
    .bind(&s.client_id)
    .bind(&def.key)
    .bind(version)
    .bind(&s.trigger_event_id)
    .bind(started_at)
    .bind(&actor)
    .bind(&owner)
    .bind(source)
    .bind(at_risk_at)
    .bind(due_at)
    .bind(now)
    .bind(kind.map(Subject::key))
    .bind(&subject_id)
    .bind(subject_round)
    .execute(tx.conn())
    .await?;
    let mut run = get_on(tx.conn(), &agency_id, &id).await?;
    let mut evs = vec![NewEvent {
        id: None,
        event_type: events::SOP_RUN_STARTED.into(),
        client_id: Some(s.client_id.clone()),
        entity_type: "sop_run".into(),
        entity_id: id.clone(),
        occurred_at: Some(started_at),
        note: None,
        data: json!({
            "run_id": id, "sop": def.key, "sop_name": def.name, "version": version,
            "owner": run.owner_name, "owner_source": source, "due_at": due_at,
            "trigger_event_id": s.trigger_event_id, "subject": run.subject,
        }),
    }];
    // Facts already true tick at the start; a run whose work is already
    // done completes at once.
    evs.extend(follow::sync_new(tx, &mut run, calendar).await?);
    let (status, next) = sop::status_at(at_risk_at, due_at, now);
    if run.is_open() && status != RunStatus::OnTrack {
        // Back-dated: the run starts late and escalates at once.
        evs.extend(apply_status(tx, &mut run, status, next, email).await?);
    }
    Ok(Some((run, evs)))
}

/// Starts an SOP for a client by hand (or from the API). `email`: whether
/// escalations also go out by email (SMTP configured).
pub async fn start(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    s: StartRun,
    email: bool,
) -> Result<Run> {
    crate::clients::check_past_time("started_at", s.started_at, now)?;
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let (run, evs) = start_in_tx(&mut tx, &calendar, &s, email)
        .await?
        .ok_or_else(|| StoreError::Duplicate("this event already started that SOP".into()))?;
    let mut record = Record::new(
        events::SOP_RUN_STARTED,
        "sop_run",
        &run.id,
        json!({"sop": run.sop_key, "client_id": run.client_id, "started_at": run.started_at}),
    );
    record.events = evs;
    tx.commit(record).await?;
    get(db, agency_id, &run.id).await
}

/// Starts every SOP whose trigger is the type of event `event_id` (an outbox
/// job of the event). Runs start when the event occurred, so a back-dated
/// `contract_signed` whose SLA has passed starts breached and escalates at
/// once. Idempotent: a replayed job starts nothing twice. A
/// `client.team_changed` event also re-resolves the client's run owners.
/// Returns the runs started.
pub async fn start_for_event(
    db: &Db,
    agency_id: &str,
    event_id: &str,
    now: i64,
    email: bool,
) -> Result<Vec<String>> {
    let row = sqlx::query(
        "SELECT type, client_id, occurred_at FROM events WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(event_id)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(vec![]);
    };
    let Some(client_id) = row.try_get::<Option<String>, _>("client_id")? else {
        return Ok(vec![]);
    };
    let event_type: String = row.try_get("type")?;
    let occurred_at: i64 = row.try_get("occurred_at")?;
    let keys = {
        let mut conn = db.reader().acquire().await?;
        crate::sops::keys_for_trigger(&mut conn, agency_id, &event_type).await?
    };
    if event_type == events::CLIENT_TEAM_CHANGED {
        reresolve_owners(db, agency_id, &client_id, now).await?;
    }
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let actor = Actor::system("SOP trigger");
    let mut tx = db.begin_write(agency_id, &actor, now).await?;
    let mut records = Vec::new();
    let mut started = Vec::new();
    for key in keys {
        let s = StartRun {
            sop_key: key,
            client_id: client_id.clone(),
            started_at: Some(occurred_at.min(now)),
            trigger_event_id: Some(event_id.to_string()),
        };
        if let Some((run, evs)) = start_in_tx(&mut tx, &calendar, &s, email).await? {
            let mut record = Record::new(
                events::SOP_RUN_STARTED,
                "sop_run",
                &run.id,
                json!({"sop": run.sop_key, "client_id": run.client_id, "trigger": event_type, "event_id": event_id}),
            );
            record.events = evs;
            records.push(record);
            started.push(run.id);
        }
    }
    if records.is_empty() {
        return Ok(started);
    }
    tx.commit_all(records).await?;
    Ok(started)
}

/// After the client's account team changed: open runs whose owner came from
/// the team (or that had none) take the team's current member for their
/// role. Runs assigned by hand keep their owner.
pub async fn reresolve_owners(
    db: &Db,
    agency_id: &str,
    client_id: &str,
    now: i64,
) -> Result<usize> {
    let actor = Actor::system("SOP owner resolution");
    let mut tx = db.begin_write(agency_id, &actor, now).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.client_id = $2 AND r.done_at IS NULL AND r.cancelled_at IS NULL \
         AND r.owner_source <> 'assigned' ORDER BY r.id"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(tx.conn())
    .await?;
    let runs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let mut records = Vec::new();
    for run in runs {
        let (owner, source) =
            resolve_owner(tx.conn(), agency_id, client_id, run.owner_role).await?;
        if owner == run.owner_member_id && source == run.owner_source {
            continue;
        }
        sqlx::query(
            "UPDATE sop_runs SET owner_member_id = $3, owner_source = $4, updated_at = $5 WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(&run.id)
        .bind(&owner)
        .bind(source)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let data = json!({"run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name, "owner_member_id": owner, "owner_source": source});
        records.push(
            Record::new(events::SOP_RUN_ASSIGNED, "sop_run", &run.id, data.clone())
                .with_event(Some(client_id), data),
        );
    }
    let n = records.len();
    if n > 0 {
        tx.commit_all(records).await?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------
// Changing runs
// ---------------------------------------------------------------------------

/// Loads an open run for a change, locking its row (a no-op UPDATE, the
/// portable `SELECT … FOR UPDATE`).
async fn lock_run(tx: &mut WriteTx, id: &str) -> Result<Run> {
    let agency_id = tx.agency_id().to_string();
    let hit =
        sqlx::query("UPDATE sop_runs SET updated_at = updated_at WHERE agency_id = $1 AND id = $2")
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

fn refuse_done(run: &Run) -> Result<()> {
    if run.done_at.is_some() {
        return Err(CoreError::Conflict("this run is already done".into()).into());
    }
    if run.cancelled_at.is_some() {
        return Err(CoreError::Conflict(format!(
            "this run was cancelled ({})",
            run.cancel_reason.as_deref().unwrap_or("no reason given")
        ))
        .into());
    }
    Ok(())
}

fn run_event(run: &Run, event_type: &str, data: Value) -> Record {
    let mut d = json!({"run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name});
    if let (Some(obj), Value::Object(extra)) = (d.as_object_mut(), data) {
        obj.extend(extra);
    }
    Record::new(event_type, "sop_run", &run.id, d.clone()).with_event(Some(&run.client_id), d)
}

/// A run's checklist as stored: the done items.
fn done_map(run: &Run) -> DoneMap {
    run.checklist
        .iter()
        .filter_map(|i| {
            Some((
                i.key.clone(),
                DoneItem {
                    at: i.done_at?,
                    by: i.done_by.clone()?,
                    event: i.event_id.clone(),
                },
            ))
        })
        .collect()
}

/// Ticks or unticks checklist items. Unknown keys are refused (422), as are
/// the items a fact ticks ([`facts`]): the handoff brief's sections ("if it
/// is not in the handoff, it does not exist"), a content item's brief, its
/// drafts and rounds, the client's access.
pub async fn set_checklist(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    items: &BTreeMap<String, bool>,
) -> Result<Run> {
    if items.is_empty() {
        return Err(CoreError::invalid("items", "name at least one checklist item").into());
    }
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let run = lock_run(&mut tx, id).await?;
    refuse_done(&run)?;
    let mut done = done_map(&run);
    let mut changed = Vec::new();
    for (key, &tick) in items {
        let Some(item) = run.checklist.iter().find(|i| &i.key == key) else {
            return Err(CoreError::invalid(
                "items",
                format!("{key:?} is not an item of this run's checklist"),
            )
            .into());
        };
        if baton_core::handoff::SECTION_KEYS.contains(&key.as_str()) && item.auto {
            return Err(CoreError::invalid(
                "items",
                format!("{key:?} follows the client's handoff brief: fill that section of the brief instead"),
            )
            .into());
        }
        if let Some(why) = item.fact {
            return Err(CoreError::invalid(
                "items",
                format!("{key:?} is a fact Baton knows: it {why}"),
            )
            .into());
        }
        if tick && !done.contains_key(key) {
            done.insert(
                key.clone(),
                DoneItem {
                    at: now,
                    by: actor.label.clone(),
                    event: None,
                },
            );
            changed.push(json!({"key": key, "done": true}));
        } else if !tick && done.remove(key).is_some() {
            changed.push(json!({"key": key, "done": false}));
        }
    }
    if changed.is_empty() {
        drop(tx);
        return get(db, agency_id, id).await;
    }
    sqlx::query(
        "UPDATE sop_runs SET checklist = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(to_text(&done)?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit(run_event(
        &run,
        events::SOP_RUN_CHECKLIST,
        json!({"items": changed}),
    ))
    .await?;
    get(db, agency_id, id).await
}

/// Credits the time since a pause began to the run's SLA and recomputes its
/// deadlines on the agency's current calendar.
fn credit_pause(run: &mut Run, def: &SopDefinition, cal: &Calendar, now: i64) {
    if let Some(p) = run.paused_at {
        run.paused_ms += def.sla.elapsed(cal, p, now);
        let (r, d) = def.sla.deadlines(cal, run.started_at, run.paused_ms);
        run.at_risk_at = r;
        run.due_at = d;
        run.paused_at = None;
    }
}

/// Completes a run. Refused (409) until every checklist item is done.
pub async fn complete(db: &Db, agency_id: &str, actor: &Actor, now: i64, id: &str) -> Result<Run> {
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let mut run = lock_run(&mut tx, id).await?;
    refuse_done(&run)?;
    let missing: Vec<String> = run.missing().iter().map(|i| i.label.clone()).collect();
    if !missing.is_empty() {
        return Err(CoreError::Conflict(format!(
            "the definition of done is not met: {} still to do ({})",
            missing.len(),
            missing.join("; ")
        ))
        .into());
    }
    let def = crate::sops::version(db, agency_id, &run.sop_key, run.sop_version).await?;
    let on_time = follow::mark_done(&mut tx, &mut run, now, &actor.label, &def, &calendar).await?;
    tx.commit(run_event(
        &run,
        events::SOP_RUN_COMPLETED,
        json!({"on_time": on_time, "due_at": run.due_at}),
    ))
    .await?;
    get(db, agency_id, id).await
}

/// Pauses a run while it waits on the client; the reason is required and
/// the paused time does not count against the SLA.
pub async fn pause(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    reason: &str,
) -> Result<Run> {
    if reason.trim().is_empty() {
        return Err(CoreError::invalid("reason", "say what the run waits on").into());
    }
    let reason = validate::note("reason", reason)?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let run = lock_run(&mut tx, id).await?;
    refuse_done(&run)?;
    if run.paused_at.is_some() {
        return Err(CoreError::Conflict("this run is already paused".into()).into());
    }
    sqlx::query(
        "UPDATE sop_runs SET status = 'paused', paused_at = $3, pause_reason = $4, next_change_at = NULL, updated_at = $3 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(now)
    .bind(&reason)
    .execute(tx.conn())
    .await?;
    tx.commit(run_event(
        &run,
        events::SOP_RUN_PAUSED,
        json!({"reason": reason}),
    ))
    .await?;
    get(db, agency_id, id).await
}

/// Resumes a paused run: its deadlines move by the paused SLA time and its
/// status is recomputed (escalating if it is still late).
pub async fn resume(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    email: bool,
) -> Result<Run> {
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let mut run = lock_run(&mut tx, id).await?;
    refuse_done(&run)?;
    let Some(paused_at) = run.paused_at else {
        return Err(CoreError::Conflict("this run is not paused".into()).into());
    };
    let def = crate::sops::version(db, agency_id, &run.sop_key, run.sop_version).await?;
    credit_pause(&mut run, &def, &calendar, now);
    sqlx::query(
        "UPDATE sop_runs SET paused_at = NULL, pause_reason = NULL, paused_ms = $3 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(run.paused_ms)
    .execute(tx.conn())
    .await?;
    let (status, next) = sop::status_at(run.at_risk_at, run.due_at, now);
    let evs = apply_status(&mut tx, &mut run, status, next, email).await?;
    let mut record = run_event(
        &run,
        events::SOP_RUN_RESUMED,
        json!({"paused_for_ms": now - paused_at, "credited_ms": run.paused_ms, "due_at": run.due_at}),
    );
    record.events.extend(evs);
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Gives a run to a member by hand (it keeps that owner when the team changes).
pub async fn assign(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    member_id: &str,
) -> Result<Run> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let active: Option<i64> =
        sqlx::query_scalar("SELECT active FROM members WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(member_id)
            .fetch_optional(tx.conn())
            .await?;
    if active != Some(1) {
        return Err(CoreError::invalid("member", "not an active member of this agency").into());
    }
    let run = lock_run(&mut tx, id).await?;
    refuse_done(&run)?;
    sqlx::query(
        "UPDATE sop_runs SET owner_member_id = $3, owner_source = 'assigned', updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(member_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit(run_event(
        &run,
        events::SOP_RUN_ASSIGNED,
        json!({"owner_member_id": member_id, "owner_source": "assigned"}),
    ))
    .await?;
    get(db, agency_id, id).await
}

// ---------------------------------------------------------------------------
// The scheduler's queries
// ---------------------------------------------------------------------------

/// Runs whose next status change is due at `now`, soonest first: the only
/// rows a scheduler tick touches.
pub async fn due_for_change(db: &Db, now: i64, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT agency_id, id FROM sop_runs WHERE next_change_at <= $1 ORDER BY next_change_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    crate::db::agency_and_ids(&rows)
}

/// The earliest pending status change of any run (the scheduler sleeps
/// until then).
pub async fn next_change(db: &Db) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(next_change_at) FROM sop_runs")
            .fetch_one(db.reader())
            .await?,
    )
}

/// Moves one run to its status at `now` (with its escalation). Returns the
/// new status if it changed; `None` if another scheduler or a user change
/// got there first.
pub async fn advance(
    db: &Db,
    agency_id: &str,
    id: &str,
    now: i64,
    email: bool,
) -> Result<Option<RunStatus>> {
    advance_fenced(db, agency_id, id, now, email, None).await
}

/// [`advance`] by the holder of the scheduler's lease: nothing is written
/// unless `fence` still holds, checked inside the transaction (a leader
/// that was frozen past its lease wakes up to find it gone).
pub async fn advance_fenced(
    db: &Db,
    agency_id: &str,
    id: &str,
    now: i64,
    email: bool,
    fence: Option<&crate::leases::Fence>,
) -> Result<Option<RunStatus>> {
    let actor = Actor::system("SLA scheduler");
    let mut tx = db.begin_write(agency_id, &actor, now).await?;
    if let Some(fence) = fence {
        if !crate::leases::fence_holds(tx.conn(), fence, now).await? {
            return Ok(None);
        }
    }
    let mut run = lock_run(&mut tx, id).await?;
    let next_change: Option<i64> =
        sqlx::query_scalar("SELECT next_change_at FROM sop_runs WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    match next_change {
        Some(at) if at <= now && run.done_at.is_none() && run.paused_at.is_none() => {}
        _ => return Ok(None),
    }
    let (status, next) = sop::status_at(run.at_risk_at, run.due_at, now);
    let evs = apply_status(&mut tx, &mut run, status, next, email).await?;
    let mut record = Record::new(
        "sop_run.status_changed",
        "sop_run",
        id,
        json!({"status": status.key(), "next_change_at": next}),
    );
    record.events = evs;
    tx.commit(record).await?;
    Ok(Some(status))
}

// ---------------------------------------------------------------------------
// Notices
// ---------------------------------------------------------------------------

/// An in-app notice for a member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub client_id: Option<String>,
    pub run_id: Option<String>,
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
        "SELECT id, kind, title, body, client_id, run_id, created_at, read_at FROM notices \
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
pub async fn mark_notices_read(db: &Db, agency_id: &str, actor: &Actor, now: i64) -> Result<u64> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
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

// ---------------------------------------------------------------------------
// On-time KPI
// ---------------------------------------------------------------------------

/// On-time rate of one group: runs done by their due time among the runs
/// decided in the period (done in it, or still open past a due time in it;
/// a paused run is not judged until it resumes, since its due time moves).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTime {
    pub key: String,
    pub label: String,
    pub done: i64,
    pub on_time: i64,
    /// Open runs whose due time passed inside the period: already late.
    pub late_open: i64,
    /// `on_time / (done + late_open)`; `None` when nothing was decided.
    pub rate: Option<f64>,
}

/// On-time rates per SOP, per client and per owner over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnTimeReport {
    pub from: i64,
    pub to: i64,
    pub overall: OnTime,
    pub by_sop: Vec<OnTime>,
    pub by_client: Vec<OnTime>,
    pub by_owner: Vec<OnTime>,
}

pub async fn on_time(
    db: &Db,
    agency_id: &str,
    from: i64,
    to: i64,
    now: i64,
) -> Result<OnTimeReport> {
    let rows = sqlx::query(
        "SELECT r.sop_key, r.client_id, c.name AS client_name, r.owner_member_id, m.name AS owner_name, \
         r.done_at, r.due_at FROM sop_runs r JOIN clients c ON c.id = r.client_id \
         LEFT JOIN members m ON m.id = r.owner_member_id \
         WHERE r.agency_id = $1 AND ((r.done_at >= $2 AND r.done_at < $3) \
         OR (r.done_at IS NULL AND r.cancelled_at IS NULL AND r.paused_at IS NULL \
         AND r.due_at >= $2 AND r.due_at < $3 AND r.due_at < $4))",
    )
    .bind(agency_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(db.reader())
    .await?;
    let names: BTreeMap<String, String> = crate::sops::list(db, agency_id)
        .await?
        .into_iter()
        .map(|s| (s.definition.key, s.definition.name))
        .collect();
    let mut overall = OnTime {
        key: "all".into(),
        label: "All SOPs".into(),
        done: 0,
        on_time: 0,
        late_open: 0,
        rate: None,
    };
    let mut by: [BTreeMap<String, OnTime>; 3] = Default::default();
    for r in &rows {
        let done_at: Option<i64> = r.try_get("done_at")?;
        let due_at: i64 = r.try_get("due_at")?;
        let sop_key: String = r.try_get("sop_key")?;
        let client_id: String = r.try_get("client_id")?;
        let client_name: String = r.try_get("client_name")?;
        let owner: Option<String> = r.try_get("owner_member_id")?;
        let owner_name: Option<String> = r.try_get("owner_name")?;
        let groups = [
            (
                sop_key.clone(),
                names.get(&sop_key).cloned().unwrap_or(sop_key),
            ),
            (client_id, client_name),
            (
                owner.unwrap_or_else(|| "unowned".into()),
                owner_name.unwrap_or_else(|| "Unowned".into()),
            ),
        ];
        let bump = |t: &mut OnTime| match done_at {
            Some(d) => {
                t.done += 1;
                if d <= due_at {
                    t.on_time += 1;
                }
            }
            None => t.late_open += 1,
        };
        bump(&mut overall);
        for (map, (key, label)) in by.iter_mut().zip(groups) {
            let t = map.entry(key.clone()).or_insert_with(|| OnTime {
                key,
                label,
                done: 0,
                on_time: 0,
                late_open: 0,
                rate: None,
            });
            bump(t);
        }
    }
    let finish = |mut t: OnTime| {
        let n = t.done + t.late_open;
        t.rate = (n > 0).then(|| t.on_time as f64 / n as f64);
        t
    };
    let [s, c, o] = by;
    let sorted = |m: BTreeMap<String, OnTime>| {
        let mut v: Vec<OnTime> = m.into_values().map(finish).collect();
        v.sort_by(|a, b| a.label.cmp(&b.label).then(a.key.cmp(&b.key)));
        v
    };
    Ok(OnTimeReport {
        from,
        to,
        overall: finish(overall),
        by_sop: sorted(s),
        by_client: sorted(c),
        by_owner: sorted(o),
    })
}

// ---------------------------------------------------------------------------
// Scheduler leadership
// ---------------------------------------------------------------------------

/// The lease (see [`crate::leases`]) of the server that runs the SLA
/// scheduler: exactly one at a time, on either engine.
pub const SCHEDULER_LEASE: &str = "sla_scheduler";
