//! Requests as the client leaves and returns: withdrawn when the client
//! moves out of onboarding, restored (with their reminder schedule) when a
//! move is corrected.

use baton_core::events;
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::Result;
use crate::write::NewEvent;

/// Which open requests a withdrawal covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Withdraw<'a> {
    /// Every request of the client (it left delivery).
    Client(&'a str),
    /// The requests one link asked for (it was revoked or expired).
    Link(&'a str),
}

/// A request a withdrawal or a restore moved: for the event it records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Moved {
    pub id: String,
    pub platform: String,
}

/// Withdraws the requests in `scope` that wait on the client (`requested`,
/// `failed`): they become `revoked` with `why` as their note, keep their
/// status in `withdrawn_from` and the event that withdrew them in
/// `withdrawn_cause` (so [`restore`] can bring them back), and their links'
/// reminders stop. Held access (granted or verified) is not touched: it is
/// revoked at the platform, on the revoke checklist.
pub(crate) async fn withdraw(
    conn: &mut AnyConnection,
    agency_id: &str,
    scope: Withdraw<'_>,
    now: i64,
    by: &str,
    why: &str,
    cause: &str,
) -> Result<Vec<Moved>> {
    let (col, key) = match scope {
        Withdraw::Client(c) => ("client_id", c),
        Withdraw::Link(l) => ("link_id", l),
    };
    let rows = sqlx::query(&format!(
        "SELECT id, platform FROM access_requests WHERE agency_id = $1 AND {col} = $2 \
         AND status IN ('requested', 'failed') ORDER BY position, id"
    ))
    .bind(agency_id)
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    let moved = rows
        .iter()
        .map(|r| {
            Ok(Moved {
                id: r.try_get("id")?,
                platform: r.try_get("platform")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !moved.is_empty() {
        sqlx::query(&format!(
            "UPDATE access_requests SET withdrawn_from = status, withdrawn_cause = $6, status = 'revoked', \
             status_at = $3, revoked_at = $3, revoked_by = $4, revoke_note = $5 \
             WHERE agency_id = $1 AND {col} = $2 AND status IN ('requested', 'failed')"
        ))
        .bind(agency_id)
        .bind(key)
        .bind(now)
        .bind(by)
        .bind(why)
        .bind(cause)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(&format!(
        "UPDATE onboarding_links SET next_reminder_at = NULL WHERE agency_id = $1 AND {} = $2",
        if col == "link_id" { "id" } else { "client_id" }
    ))
    .bind(agency_id)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(moved)
}

/// Brings back the requests withdrawn by the event `cause`, in the status
/// they had; the reminders of their links start again (on the agency's
/// schedule, while the link is live). `reminder_every_ms`/`reminder_max`:
/// the agency's reminder schedule.
pub(crate) async fn restore(
    conn: &mut AnyConnection,
    agency_id: &str,
    cause: &str,
    now: i64,
    reminder_every_ms: Option<i64>,
    reminder_max: i64,
) -> Result<Vec<Moved>> {
    let rows = sqlx::query(
        "SELECT id, platform, link_id FROM access_requests WHERE agency_id = $1 AND withdrawn_cause = $2 \
         AND status = 'revoked' ORDER BY position, id",
    )
    .bind(agency_id)
    .bind(cause)
    .fetch_all(&mut *conn)
    .await?;
    let mut moved = Vec::with_capacity(rows.len());
    let mut links = std::collections::BTreeSet::new();
    for r in &rows {
        moved.push(Moved {
            id: r.try_get("id")?,
            platform: r.try_get("platform")?,
        });
        if let Some(l) = r.try_get::<Option<String>, _>("link_id")? {
            links.insert(l);
        }
    }
    if moved.is_empty() {
        return Ok(moved);
    }
    sqlx::query(
        "UPDATE access_requests SET status = COALESCE(withdrawn_from, 'requested'), status_at = $3, \
         revoked_at = NULL, revoked_by = NULL, revoke_note = NULL, withdrawn_from = NULL, withdrawn_cause = NULL \
         WHERE agency_id = $1 AND withdrawn_cause = $2 AND status = 'revoked'",
    )
    .bind(agency_id)
    .bind(cause)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if let Some(every) = reminder_every_ms {
        for link in links {
            sqlx::query(
                "UPDATE onboarding_links SET next_reminder_at = $3 WHERE agency_id = $1 AND id = $2 \
                 AND next_reminder_at IS NULL AND revoked_at IS NULL AND expires_at > $3 AND reminder_count < $4",
            )
            .bind(agency_id)
            .bind(&link)
            .bind(now + every)
            .bind(reminder_max)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(moved)
}

/// The event of a withdrawal (or, with `restored`, of a restore) on the
/// client's timeline: which requests, why, and the event that caused it.
pub(crate) fn moved_event(
    client_id: &str,
    moved: &[Moved],
    cause: &str,
    why: &str,
    restored: bool,
) -> NewEvent {
    let platforms: Vec<&str> = moved.iter().map(|m| m.platform.as_str()).collect();
    NewEvent {
        id: None,
        event_type: if restored {
            events::ACCESS_RESTORED
        } else {
            events::ACCESS_WITHDRAWN
        }
        .into(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at: None,
        note: None,
        data: json!({
            "count": moved.len(),
            "requests": moved,
            "platforms": platforms,
            "reason": why,
            "cause_event_id": cause,
        }),
    }
}

/// The reminder schedule of the agency as (every ms, at most), for
/// [`restore`].
pub(crate) async fn reminder_schedule(db: &Db, agency_id: &str) -> Result<(Option<i64>, i64)> {
    let settings = crate::onboarding_settings::get(db, agency_id).await?;
    Ok((
        (settings.reminder_every_days > 0)
            .then(|| settings.reminder_every_days as i64 * 86_400_000),
        settings.reminder_max as i64,
    ))
}
