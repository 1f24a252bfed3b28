//! Shipping a week: the scorecard frozen as it stands, exactly three
//! insights and three actions (each with an owner and a due day), and the
//! week's `weekly_performance` runs of the clients it covers completed by
//! the fact — started then if the week had not ended yet.

use baton_core::events;
use baton_core::scorecard::{check_ship, IsoWeek};
use baton_core::types::{ActionId, MemberId, ScorecardId};
use baton_core::CoreError;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::actions::{actions_of, ActionRow};
use super::grid::{grid, Frozen, Scope};
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::sop_runs::{follow, start_for_week_in_tx, Follow};
use crate::write::{NewEvent, Record};

/// The SOP a shipped week completes.
pub const WEEKLY_SOP: &str = "weekly_performance";
/// Weeks on a scorecard at a glance.
pub const WEEKS: usize = 13;

/// One action to agree.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub text: String,
    pub owner: MemberId,
    /// `YYYY-MM-DD`, agency time.
    pub due_on: String,
}

/// A week to ship.
#[derive(Debug, Clone)]
pub struct Ship {
    pub week: IsoWeek,
    pub scope: Scope,
    pub insights: Vec<String>,
    pub actions: Vec<NewAction>,
}

/// A shipped week.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub id: ScorecardId,
    pub week: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub insights: Vec<String>,
    pub actions: Vec<ActionRow>,
    pub shipped_by: String,
    pub shipped_at: i64,
    /// The weekly runs it completed (or found done), by client.
    pub runs_done: i64,
    /// The scorecard as shipped.
    pub frozen: Option<Frozen>,
}

const COLS: &str = "s.id, s.week, s.client_id, c.name AS client_name, s.insights, s.frozen, \
    s.shipped_by, s.shipped_at FROM scorecards s LEFT JOIN clients c ON c.id = s.client_id";

fn from_row(r: &AnyRow) -> Result<Scorecard> {
    let insights: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("insights")?)
        .map_err(|e| StoreError::Config(format!("bad stored insights: {e}")))?;
    Ok(Scorecard {
        id: crate::db::typed_id(r, "id")?,
        week: r.try_get("week")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        insights,
        actions: Vec::new(),
        shipped_by: r.try_get("shipped_by")?,
        shipped_at: r.try_get("shipped_at")?,
        runs_done: 0,
        frozen: serde_json::from_str(&r.try_get::<String, _>("frozen")?).ok(),
    })
}

async fn with_details(db: &Db, agency_id: &str, mut s: Scorecard) -> Result<Scorecard> {
    s.actions = actions_of(db, agency_id, s.id.as_str()).await?;
    s.runs_done = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sop_runs WHERE agency_id = $1 AND sop_key = $2 AND subject_type = 'week' \
         AND subject_id = $3 AND done_at IS NOT NULL AND ($4 = '' OR client_id = $4)",
    )
    .bind(agency_id)
    .bind(WEEKLY_SOP)
    .bind(&s.week)
    .bind(s.client_id.as_deref().unwrap_or(""))
    .fetch_one(db.reader())
    .await?;
    Ok(s)
}

/// The week's shipped scorecard of `scope`, if shipped.
pub async fn scorecard(
    db: &Db,
    agency_id: &str,
    scope: &Scope,
    week: IsoWeek,
) -> Result<Option<Scorecard>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} WHERE s.agency_id = $1 AND s.scope = $2 AND s.week = $3"
    ))
    .bind(agency_id)
    .bind(scope.key())
    .bind(week.to_string())
    .fetch_optional(db.reader())
    .await?;
    match row {
        Some(r) => Ok(Some(with_details(db, agency_id, from_row(&r)?).await?)),
        None => Ok(None),
    }
}

/// Shipped scorecards, newest week first (all scopes, or one client's).
pub async fn scorecards(
    db: &Db,
    agency_id: &str,
    client_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Scorecard>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} WHERE s.agency_id = $1 AND ($2 = '' OR s.client_id = $2) \
         ORDER BY s.week DESC, s.id DESC LIMIT $3"
    ))
    .bind(agency_id)
    .bind(client_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(with_details(db, agency_id, from_row(r)?).await?);
    }
    Ok(out)
}

/// Ships week `s.week` of `s.scope`: 409 when it was shipped already.
pub async fn ship(cx: Cx<'_>, s: Ship) -> Result<Scorecard> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    check_ship(&s.insights, s.actions.len())?;
    let tz = crate::calendars::zone(db, agency_id).await?;
    if s.week > IsoWeek::containing(now, &tz) {
        return Err(CoreError::invalid("week", "that week has not started yet").into());
    }
    let (monday, _) = s.week.bounds(&tz);
    let mut due = Vec::with_capacity(s.actions.len());
    for (i, a) in s.actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        let text = a.text.trim();
        if text.is_empty() || text.chars().count() > 500 {
            return Err(CoreError::invalid(&field, "an action's text is 1–500 characters").into());
        }
        let due_at = baton_core::incidents::end_of_day(&a.due_on, &tz)
            .map_err(|_| CoreError::invalid(&field, "due must be a date, YYYY-MM-DD"))?;
        if due_at < monday {
            return Err(CoreError::invalid(
                &field,
                "due must not be before the week it was agreed in",
            )
            .into());
        }
        due.push(due_at);
    }
    super::ensure_defaults(cx).await?;
    let grid = grid(db, agency_id, &s.scope, s.week, WEEKS, now).await?;
    let frozen =
        serde_json::to_string(&grid.freeze()).map_err(|e| StoreError::Config(e.to_string()))?;
    let insights: Vec<String> = s.insights.iter().map(|t| t.trim().to_string()).collect();
    let week = s.week.to_string();
    let client = s.scope.client().map(|c| c.as_str().to_string());

    let mut tx = cx.begin().await?;
    // The clients it covers, with their lifecycle: the one (404 when it is
    // not this agency's), or every active client and every client whose run
    // about the week is open.
    let covered: Vec<(String, String)> = sqlx::query(
        "SELECT id, lifecycle FROM clients WHERE agency_id = $1 AND (id = $4 OR ($4 = '' AND \
         (lifecycle = 'active' OR id IN (SELECT client_id FROM sop_runs WHERE agency_id = $1 \
         AND sop_key = $2 AND subject_type = 'week' AND subject_id = $3 AND done_at IS NULL \
         AND cancelled_at IS NULL)))) ORDER BY id",
    )
    .bind(agency_id)
    .bind(WEEKLY_SOP)
    .bind(&week)
    .bind(client.as_deref().unwrap_or(""))
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("lifecycle")?)))
    .collect::<Result<_>>()?;
    if client.is_some() && covered.is_empty() {
        return Err(StoreError::NotFound);
    }
    let mut owners = Vec::with_capacity(s.actions.len());
    for (i, a) in s.actions.iter().enumerate() {
        let field = format!("actions[{i}].owner");
        owners
            .push(crate::incidents::moves::active_member(&mut tx, &field, a.owner.as_str()).await?);
    }
    let id = ScorecardId::new(now);
    let inserted = sqlx::query(
        "INSERT INTO scorecards (id, agency_id, client_id, scope, week, insights, frozen, shipped_by, \
         shipped_by_member_id, shipped_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (agency_id, scope, week) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(agency_id)
    .bind(&client)
    .bind(s.scope.key())
    .bind(&week)
    .bind(serde_json::to_string(&insights).map_err(|e| StoreError::Config(e.to_string()))?)
    .bind(&frozen)
    .bind(&cx.actor.label)
    .bind((cx.actor.kind == "member").then_some(cx.actor.id.as_str()))
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted != 1 {
        let whose = match &s.scope {
            Scope::Agency => "the agency's".to_string(),
            Scope::Client(_) => "this client's".to_string(),
        };
        return Err(CoreError::Conflict(format!(
            "{whose} scorecard for {week} was already shipped"
        ))
        .into());
    }
    let mut action_data = Vec::new();
    for (i, (a, due_at)) in s.actions.iter().zip(&due).enumerate() {
        let aid = ActionId::new(now);
        sqlx::query(
            "INSERT INTO scorecard_actions (id, agency_id, scorecard_id, position, text, owner_member_id, \
             due_on, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(aid.as_str())
        .bind(agency_id)
        .bind(id.as_str())
        .bind(i as i64)
        .bind(a.text.trim())
        .bind(a.owner.as_str())
        .bind(&a.due_on)
        .bind(*due_at)
        .bind(now)
        .execute(tx.conn())
        .await?;
        action_data.push(json!({"id": aid, "text": a.text.trim(), "owner": a.owner, "owner_name": owners[i], "due_on": a.due_on}));
    }

    // Missing runs start now, for clients still in delivery.
    let startable: Vec<String> = covered
        .iter()
        .filter(|(_, lifecycle)| matches!(lifecycle.as_str(), "onboarding" | "active"))
        .map(|(id, _)| id.clone())
        .collect();
    let has_sop = crate::sops::current_in_tx(tx.conn(), agency_id, WEEKLY_SOP, now)
        .await?
        .is_some();
    let week_end = baton_core::scorecard::week_end_at(
        &crate::calendars::week_calendar_on(tx.conn(), agency_id).await?,
        s.week,
    );
    let mut records = if has_sop {
        start_for_week_in_tx(&mut tx, WEEKLY_SOP, &week, &startable, week_end.min(now)).await?
    } else {
        Vec::new()
    };
    let mut followed = Vec::new();
    for (c, _) in &covered {
        followed.extend(follow(&mut tx, c, Follow::Week(&week), events::SCORECARD_SHIPPED).await?);
    }
    let data = json!({
        "scorecard_id": id, "week": week, "client_id": client, "insights": insights,
        "actions": action_data,
    });
    let mut record = Record::new(
        events::SCORECARD_SHIPPED,
        "scorecard",
        id.as_str(),
        data.clone(),
    );
    record.events.push(NewEvent {
        id: None,
        event_type: events::SCORECARD_SHIPPED.into(),
        client_id: client.clone(),
        entity_type: "scorecard".into(),
        entity_id: id.to_string(),
        occurred_at: None,
        note: None,
        data,
    });
    record.events.extend(followed);
    records.insert(0, record);
    tx.commit_all(records).await?;
    scorecard(db, agency_id, &s.scope, s.week)
        .await?
        .ok_or(StoreError::NotFound)
}
