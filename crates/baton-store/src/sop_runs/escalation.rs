//! Owners and escalation: who owns a run (from the client's account
//! team), who hears of it going at risk or breached, and applying a
//! computed status with its event and notices.

use std::collections::BTreeSet;

use baton_core::facts::Subject;
use baton_core::roles::Role;
use baton_core::sop::RunStatus;
use baton_core::{events, ids};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::error::Result;
use crate::write::{NewEvent, WriteTx};

use super::Run;

/// The active member holding `role` on the client's account team.
pub(crate) async fn seat(
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
pub(crate) async fn traffic_control(
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
pub(super) async fn resolve_owner(
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
        out.extend(admins(conn, agency_id).await?);
    }
    Ok(out.into_iter().collect())
}

/// The agency's active admins: who hears of an escalation nobody else owns.
pub(crate) async fn admins(conn: &mut AnyConnection, agency_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM members WHERE agency_id = $1 AND is_admin = 1 AND active = 1 ORDER BY id",
    )
    .bind(agency_id)
    .fetch_all(conn)
    .await?)
}

/// What a notice is about (its links on My work).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoticeAbout<'a> {
    pub client_id: Option<&'a str>,
    pub run_id: Option<&'a str>,
    pub incident_id: Option<&'a str>,
    /// A weekly scorecard's action.
    pub action_id: Option<&'a str>,
    /// A cadence's meeting (its artifact is missing).
    pub occurrence_id: Option<&'a str>,
}

/// One notice.
pub(crate) struct NoticeText<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// Writes an in-app notice to each member in `to` and, with `email`, an
/// email job to each active one (sent from `agency_name`).
pub(crate) async fn send_notices(
    tx: &mut WriteTx,
    to: &[String],
    about: NoticeAbout<'_>,
    text: NoticeText<'_>,
    agency_name: &str,
    email: bool,
) -> Result<()> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    for member in to {
        sqlx::query(
            "INSERT INTO notices (id, agency_id, member_id, client_id, run_id, incident_id, action_id, occurrence_id, \
             kind, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(ids::new_id(ids::NOTICE, now))
        .bind(&agency_id)
        .bind(member)
        .bind(about.client_id)
        .bind(about.run_id)
        .bind(about.incident_id)
        .bind(about.action_id)
        .bind(about.occurrence_id)
        .bind(text.kind)
        .bind(text.title)
        .bind(text.body)
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
                    &json!({"to": address, "subject": text.title, "text": text.body, "from_name": agency_name}),
                )
                .await?;
            }
        }
    }
    Ok(())
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
    let links = NoticeAbout {
        client_id: Some(&run.client_id),
        run_id: Some(run.id.as_str()),
        incident_id: None,
        action_id: None,
        occurrence_id: None,
    };
    let text = NoticeText {
        kind,
        title: &title,
        body: &body,
    };
    send_notices(tx, &to, links, text, &agency_name, email).await?;
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
        entity_id: run.id.to_string(),
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
pub(super) async fn apply_status(
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
    .bind(run.id.as_str())
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
