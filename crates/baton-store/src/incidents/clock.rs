//! The scheduler's side of the incident log: the triage clock (at risk at
//! half the triage time, breached at its end: `incident.triage_at_risk`,
//! `incident.triage_breached`, each with notices and emails) and overdue
//! follow-up actions (one notice to the owner). Like the SOP runs' clock it
//! touches only rows whose time has come, writes only while the scheduler's
//! lease holds, and claims each change inside its transaction, so several
//! servers never write one twice.

use std::collections::BTreeSet;

use baton_core::events;
use baton_core::incidents::{triage_state, TriageState};
use baton_core::roles::Role;
use baton_core::types::{AgencyId, IncidentActionId, IncidentId};
use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::leases::Fence;
use crate::write::{NewEvent, Record, WriteTx};

use super::{get_on, Incident};
use crate::sop_runs::{admins, seat, send_notices, traffic_control, NoticeAbout, NoticeText};

/// What the incident clock has due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// An incident's triage clock reached its at-risk or due time.
    Triage(IncidentId),
    /// A follow-up action became overdue.
    FollowUp(IncidentActionId),
}

/// Incidents whose triage clock changes at or before `now`, then follow-up
/// actions that became overdue, each with its agency, soonest first.
pub async fn due_for_change(db: &Db, now: i64, limit: i64) -> Result<Vec<(AgencyId, Due)>> {
    let typed = |rows: Vec<sqlx::any::AnyRow>, due: fn(&str) -> Option<Due>| {
        crate::db::agency_and_ids(&rows).map(|pairs| {
            pairs
                .into_iter()
                .filter_map(|(a, id)| Some((AgencyId::parse(&a).ok()?, due(&id)?)))
                .collect::<Vec<_>>()
        })
    };
    let rows = sqlx::query(
        "SELECT agency_id, id FROM incidents WHERE next_change_at <= $1 ORDER BY next_change_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut out = typed(rows, |id| IncidentId::parse(id).ok().map(Due::Triage))?;
    let rows = sqlx::query(
        "SELECT agency_id, id FROM incident_actions WHERE done_at IS NULL AND overdue_noticed_at IS NULL \
         AND due_at < $1 ORDER BY due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    out.extend(typed(rows, |id| {
        IncidentActionId::parse(id).ok().map(Due::FollowUp)
    })?);
    Ok(out)
}

/// The earliest pending change of any incident clock or action.
pub async fn next_change(db: &Db) -> Result<Option<i64>> {
    let a: Option<i64> = sqlx::query_scalar("SELECT MIN(next_change_at) FROM incidents")
        .fetch_one(db.reader())
        .await?;
    let b: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(due_at) FROM incident_actions WHERE done_at IS NULL AND overdue_noticed_at IS NULL",
    )
    .fetch_one(db.reader())
    .await?;
    // An action is overdue just after its due time.
    Ok(match (a, b.map(|t| t + 1)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Moves what is due (an incident's triage clock, or an overdue follow-up)
/// at `cx.now`, while `fence` holds; `cx`'s actor is the scheduler (the
/// system). Returns the event recorded, if any.
pub async fn advance_fenced(
    cx: Cx<'_>,
    due: &Due,
    email: bool,
    fence: Option<&Fence>,
) -> Result<Option<&'static str>> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    if let Some(fence) = fence {
        if !crate::leases::fence_holds(tx.conn(), fence, now).await? {
            return Ok(None);
        }
    }
    let id = match due {
        Due::FollowUp(action) => return action_overdue(tx, action.as_str(), email).await,
        Due::Triage(id) => id.as_str(),
    };
    // Claim: only the writer that moves `next_change_at` from a due value
    // goes on (a second scheduler finds it moved).
    let i = get_on(tx.conn(), agency_id, id).await?;
    let next: Option<i64> =
        sqlx::query_scalar("SELECT next_change_at FROM incidents WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    if !matches!(next, Some(at) if at <= now) || i.triaged_at.is_some() || i.cancelled_at.is_some()
    {
        return Ok(None);
    }
    let (kind, at_risk_since, breached_at, next) =
        match triage_state(i.triage_at_risk_at, i.triage_due_at, now) {
            // Not due yet (the clock was moved meanwhile): nothing to write.
            TriageState::OnTrack { .. } => return Ok(None),
            TriageState::AtRisk { next } => (
                events::INCIDENT_TRIAGE_AT_RISK,
                Some(i.triage_at_risk_at),
                None,
                Some(next),
            ),
            TriageState::Breached => (
                events::INCIDENT_TRIAGE_BREACHED,
                Some(i.triage_at_risk_at),
                Some(i.triage_due_at),
                None,
            ),
        };
    let claimed = sqlx::query(
        "UPDATE incidents SET next_change_at = $3, triage_at_risk_since = COALESCE(triage_at_risk_since, $4), \
         triage_breached_at = COALESCE(triage_breached_at, $5), updated_at = $6 \
         WHERE agency_id = $1 AND id = $2 AND next_change_at <= $6",
    )
    .bind(agency_id)
    .bind(id)
    .bind(next)
    .bind(at_risk_since)
    .bind(breached_at)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    let breach = kind == events::INCIDENT_TRIAGE_BREACHED;
    let notified = escalate(&mut tx, &i, breach, email, now).await?;
    let at = if breach {
        i.triage_due_at
    } else {
        i.triage_at_risk_at
    };
    let data = json!({
        "incident_id": i.id, "title": i.title, "severity": i.severity.key(),
        "triage_due_at": i.triage_due_at, "notified": notified,
    });
    let mut record = Record::new(kind, "incident", id, data.clone());
    record.events.push(NewEvent {
        id: None,
        event_type: kind.into(),
        client_id: i.client_id.clone(),
        entity_type: "incident".into(),
        entity_id: id.into(),
        occurred_at: Some(at),
        note: None,
        data,
    });
    tx.commit(record).await?;
    Ok(Some(kind))
}

/// Who hears of a triage clock: the lead if set, the client's account lead
/// and traffic control, and on breach the `incident_response` SOP's
/// escalation role; without anyone, the agency's admins.
async fn recipients(tx: &mut WriteTx, i: &Incident, breach: bool, now: i64) -> Result<Vec<String>> {
    let agency_id = tx.agency_id().to_string();
    let mut to: BTreeSet<String> = i.lead_member_id.iter().cloned().collect();
    if let Some(client) = &i.client_id {
        if let Some(m) = seat(tx.conn(), &agency_id, client, Role::AccountLead).await? {
            to.insert(m);
        }
        to.extend(traffic_control(tx.conn(), &agency_id, client).await?);
        if breach {
            let def =
                crate::sops::current_in_tx(tx.conn(), &agency_id, "incident_response", now).await?;
            if let Some((_, def)) = def {
                if let Some(m) = seat(tx.conn(), &agency_id, client, def.escalation_role).await? {
                    to.insert(m);
                }
            }
        }
    }
    if to.is_empty() {
        to.extend(admins(tx.conn(), &agency_id).await?);
    }
    Ok(to.into_iter().collect())
}

/// Writes the notices (and emails) about incident `i` to `to`.
async fn notify(
    tx: &mut WriteTx,
    to: &[String],
    i: &Incident,
    text: NoticeText<'_>,
    agency_name: &str,
    email: bool,
) -> Result<()> {
    let about = NoticeAbout {
        client_id: i.client_id.as_deref(),
        run_id: None,
        incident_id: Some(i.id.as_str()),
        action_id: None,
        occurrence_id: None,
    };
    send_notices(tx, to, about, text, agency_name, email).await
}

async fn escalate(
    tx: &mut WriteTx,
    i: &Incident,
    breach: bool,
    email: bool,
    now: i64,
) -> Result<usize> {
    let to = recipients(tx, i, breach, now).await?;
    let agency = sqlx::query("SELECT name, timezone FROM agencies WHERE id = $1")
        .bind(tx.agency_id().to_string())
        .fetch_one(tx.conn())
        .await?;
    let agency_name: String = agency.try_get("name")?;
    let tz = baton_core::human::zone(&agency.try_get::<String, _>("timezone")?);
    let client = i
        .client_name
        .as_deref()
        .map(|c| format!(" for {c}"))
        .unwrap_or_default();
    let (kind, title, state) = if breach {
        (
            events::INCIDENT_TRIAGE_BREACHED,
            format!(
                "Triage breached: {} ({}){client}",
                i.title,
                i.severity.key()
            ),
            "is past its triage time",
        )
    } else {
        (
            events::INCIDENT_TRIAGE_AT_RISK,
            format!("Triage at risk: {} ({}){client}", i.title, i.severity.key()),
            "is at risk",
        )
    };
    let body = format!(
        "The {} incident \"{}\"{client} {state}: it was reported {} and triage (severity confirmed, \
         an incident lead set, a response plan written) is due {} — brand risk runs on a 24/7 clock. \
         Triage it now in Baton's incident log.",
        i.severity.name().to_lowercase(),
        i.title,
        baton_core::human::when(i.reported_at, now, &tz),
        baton_core::human::when(i.triage_due_at, now, &tz),
    );
    let text = NoticeText {
        kind,
        title: &title,
        body: &body,
    };
    notify(tx, &to, i, text, &agency_name, email).await?;
    Ok(to.len())
}

/// One follow-up action that became overdue: claimed once, one notice to
/// its owner.
async fn action_overdue(mut tx: WriteTx, id: &str, email: bool) -> Result<Option<&'static str>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let claimed = sqlx::query(
        "UPDATE incident_actions SET overdue_noticed_at = $3 WHERE agency_id = $1 AND id = $2 \
         AND done_at IS NULL AND overdue_noticed_at IS NULL AND due_at < $3",
    )
    .bind(&agency_id)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT incident_id, title, owner_member_id, due_on FROM incident_actions WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let incident_id: String = row.try_get("incident_id")?;
    let title: String = row.try_get("title")?;
    let owner: String = row.try_get("owner_member_id")?;
    let due_on: String = row.try_get("due_on")?;
    let i = get_on(tx.conn(), &agency_id, &incident_id).await?;
    let kind = events::INCIDENT_ACTION_OVERDUE;
    let notice_title = format!("Follow-up overdue: {title}");
    let body = format!(
        "The follow-up \"{title}\" from the postmortem of \"{}\" was due {due_on}. Finish it and mark it done \
         in the incident log; the incident cannot close while it is open.",
        i.title
    );
    let agency_name: String = sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
        .bind(&agency_id)
        .fetch_one(tx.conn())
        .await?;
    let text = NoticeText {
        kind,
        title: &notice_title,
        body: &body,
    };
    notify(
        &mut tx,
        std::slice::from_ref(&owner),
        &i,
        text,
        &agency_name,
        email,
    )
    .await?;
    let data = json!({"incident_id": incident_id, "action_id": id, "title": title, "owner": owner, "due_on": due_on});
    let mut record = Record::new(kind, "incident", &incident_id, data.clone());
    record.events.push(NewEvent {
        id: None,
        event_type: kind.into(),
        client_id: i.client_id.clone(),
        entity_type: "incident".into(),
        entity_id: incident_id.clone(),
        occurred_at: None,
        note: None,
        data,
    });
    tx.commit(record).await?;
    Ok(Some(kind))
}
