//! Moving one request: the client's moves (granted, stuck) and the
//! agency's (verify, fail, revoke, waive), each checked by
//! `baton_core::access` on the locked row.

use baton_core::access::{self, AccessAction, AccessStatus, Mover, WaitingOn};
use baton_core::connectors::ConnectorPlatform;
use baton_core::lifecycle::Lifecycle;
use baton_core::types::AccessRequestId;
use baton_core::{events, validate, CoreError};
use serde_json::json;

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{Record, WriteTx};

use super::{
    completed_event, from_row, get, refresh_completion, reminder_schedule, AccessRequest, COLS,
};

/// What is done to a request, with the text each move needs.
#[derive(Debug, Clone)]
pub enum Act {
    /// "I've granted access" (client), or a member/connector recording it.
    Grant { mover: Mover },
    /// "I'm stuck": the client's message; the status does not change.
    Stuck { message: String },
    /// Working access confirmed; the note says what was checked.
    Verify { mover: Mover, note: String },
    /// It does not work; the reason goes back to the client.
    Fail { mover: Mover, reason: String },
    /// Removed at the platform (held access) or withdrawn (not yet granted).
    Revoke { mover: Mover, note: Option<String> },
    /// Offboarding: the access is not revoked, for a stated reason.
    Waive { reason: String },
}

fn required_text(field: &str, v: &str) -> Result<String> {
    if v.trim().is_empty() {
        return Err(CoreError::invalid(field, "must not be empty").into());
    }
    Ok(validate::note(field, v)?)
}

/// Applies `act` to request `id`; the change, its event and the audit entry
/// commit together. Returns the request as it is now.
///
/// The steps every move shares are here (text checked before the
/// transaction, the row locked, an archived client refused, the link's
/// reminders and the client's completion kept up to date, one record
/// committed); what each move changes is its own function below.
pub async fn act(cx: Cx<'_>, id: &AccessRequestId, act: Act) -> Result<AccessRequest> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let id = id.as_str();
    // Validate text before opening the transaction.
    let text = match &act {
        Act::Grant { .. } => None,
        Act::Stuck { message } => Some(required_text("message", message)?),
        Act::Verify { note, .. } => Some(required_text("note", note)?),
        Act::Fail { reason, .. } => Some(required_text("reason", reason)?),
        Act::Revoke { note, .. } => match note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(validate::note("note", n)?),
        },
        Act::Waive { reason } => Some(required_text("reason", reason)?),
    };
    // Only a failure needs the reminder schedule (it restarts reminders).
    let reminders = if matches!(act, Act::Fail { .. }) {
        reminder_schedule(db, agency_id).await?
    } else {
        (None, 0)
    };
    let mut tx = cx.begin().await?;
    let (current, lifecycle) = lock_open(&mut tx, agency_id, id).await?;
    let mut m = Move {
        tx: &mut tx,
        agency_id,
        id,
        now,
        who: actor.label.clone(),
        current: &current,
        lifecycle,
        text: text.as_deref(),
    };
    let (event_type, detail) = match &act {
        Act::Grant { mover } => grant(&mut m, *mover).await?,
        Act::Stuck { .. } => stuck(&mut m).await?,
        Act::Verify { mover, .. } => verify(&mut m, *mover).await?,
        Act::Fail { mover, .. } => fail(&mut m, *mover, reminders).await?,
        Act::Revoke { mover, .. } => revoke(&mut m, *mover).await?,
        Act::Waive { .. } => waive(&mut m).await?,
    };
    finish(tx, agency_id, id, &current, event_type, detail).await?;
    get(db, agency_id, id).await
}

/// One move of one request, inside its transaction: what the move
/// functions read and write.
pub(super) struct Move<'a> {
    pub(super) tx: &'a mut WriteTx,
    pub(super) agency_id: &'a str,
    pub(super) id: &'a str,
    pub(super) now: i64,
    /// The actor's label, recorded as who verified, revoked or waived.
    pub(super) who: String,
    /// The request as it was before the move (locked).
    pub(super) current: &'a AccessRequest,
    /// Its client's lifecycle stage (key).
    pub(super) lifecycle: String,
    /// The move's checked text (message, note or reason).
    pub(super) text: Option<&'a str>,
}

/// Locks request `id` (portable `SELECT … FOR UPDATE`) and reads it with
/// its client's lifecycle stage; refuses when the client is archived (its
/// requests are closed).
pub(super) async fn lock_open(
    tx: &mut WriteTx,
    agency_id: &str,
    id: &str,
) -> Result<(AccessRequest, String)> {
    let row = sqlx::query(&format!(
        "UPDATE access_requests SET status_at = status_at WHERE agency_id = $1 AND id = $2 \
         RETURNING {}",
        COLS.replace("r.", "")
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)?;
    let current = from_row(&row)?;
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(&current.client_id)
            .fetch_one(tx.conn())
            .await?;
    if lifecycle == Lifecycle::Archived.key() {
        return Err(CoreError::Conflict(
            "the client is archived; its access requests are closed".into(),
        )
        .into());
    }
    Ok((current, lifecycle))
}

/// What a move records: its event type and the details it adds.
pub(super) type Recorded = (&'static str, serde_json::Value);

/// "I've granted access" (the client), or a member or connector recording it.
async fn grant(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Grant, mover)?;
    let by = match mover {
        Mover::Client => "client".to_string(),
        Mover::Connector => "connector".to_string(),
        Mover::Member => m.who.clone(),
    };
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, granted_at = $4, granted_by = $5, \
         stuck_at = NULL, stuck_message = NULL WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(&by)
    .execute(m.tx.conn())
    .await?;
    queue_connector_check(m).await?;
    Ok((events::ACCESS_GRANTED, json!({"by": by, "mover": mover})))
}

/// Queues a connector check of the request now when the agency has an
/// active connection to the platform's connector (granted: verify it;
/// verified by a member: attach the platform's evidence).
async fn queue_connector_check(m: &mut Move<'_>) -> Result<()> {
    let Some(platform) = ConnectorPlatform::for_request(&m.current.platform) else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE access_requests SET next_check_at = $3, check_failures = 0 WHERE agency_id = $1 AND id = $2 \
         AND EXISTS (SELECT 1 FROM connections c WHERE c.agency_id = $1 AND c.platform = $4 AND c.status = 'active')",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(m.now)
    .bind(platform.key())
    .execute(m.tx.conn())
    .await?;
    Ok(())
}

/// "I'm stuck": the client's message; the status does not change.
async fn stuck(m: &mut Move<'_>) -> Result<Recorded> {
    let status = m.current.status;
    if status.waiting_on() != Some(WaitingOn::Client) && status != AccessStatus::GrantedByClient {
        return Err(CoreError::Conflict(format!(
            "the request is {}; nothing is waiting on the client",
            status.key()
        ))
        .into());
    }
    sqlx::query(
        "UPDATE access_requests SET stuck_at = $3, stuck_message = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(m.now)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((events::ACCESS_STUCK, json!({"message": m.text})))
}

/// Working access confirmed; the note says what was checked. The KPI
/// counts the first confirmation: re-verifying after a failure keeps it.
pub(super) async fn verify(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Verify, mover)?;
    let verified_at = m.current.verified_at.unwrap_or(m.now);
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, verified_at = $5, verified_by = $6, \
         verify_note = $7, failed_reason = NULL, stuck_at = NULL, stuck_message = NULL, \
         verified_by_kind = $8, verified_connection_id = NULL, evidence = NULL, lost_at = NULL \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(verified_at)
    .bind(&m.who)
    .bind(m.text)
    .bind(match mover {
        Mover::Connector => "connector",
        Mover::Member | Mover::Client => "member",
    })
    .execute(m.tx.conn())
    .await?;
    if mover == Mover::Member {
        // Held access is re-checked by the platform's connector, when the
        // agency has one: the first check attaches the platform's evidence.
        queue_connector_check(m).await?;
    }
    Ok((
        events::ACCESS_VERIFIED,
        json!({"note": m.text, "mover": mover}),
    ))
}

/// It does not work; the reason goes back to the client. A required
/// request is back with the client: if the link's reminders had stopped
/// (nothing required was waiting), they start again (an optional one does
/// not restart them). `reminders`: the agency's (interval, limit).
pub(super) async fn fail(
    m: &mut Move<'_>,
    mover: Mover,
    reminders: (Option<i64>, i64),
) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Fail, mover)?;
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, failed_reason = $5, next_check_at = NULL \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    let (every, max) = reminders;
    if let (Some(link_id), Some(every), true) = (&m.current.link_id, every, m.current.required) {
        sqlx::query(
            "UPDATE onboarding_links SET next_reminder_at = $3 WHERE agency_id = $1 AND id = $2 \
             AND next_reminder_at IS NULL AND revoked_at IS NULL AND expires_at > $3 AND reminder_count < $4",
        )
        .bind(m.agency_id)
        .bind(link_id)
        .bind(m.now + every)
        .bind(max)
        .execute(m.tx.conn())
        .await?;
    }
    Ok((
        events::ACCESS_FAILED,
        json!({"reason": m.text, "mover": mover}),
    ))
}

/// Removed at the platform (held access) or withdrawn (not yet granted).
async fn revoke(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Revoke, mover)?;
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, revoked_at = $4, revoked_by = $5, revoke_note = $6, \
         next_check_at = NULL WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(&m.who)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((
        events::ACCESS_REVOKED,
        json!({"note": m.text, "was": m.current.status.key(), "mover": mover}),
    ))
}

/// Offboarding: held access is not revoked, for a stated reason.
async fn waive(m: &mut Move<'_>) -> Result<Recorded> {
    if m.lifecycle != Lifecycle::Offboarding.key() {
        return Err(CoreError::Conflict(
            "revokes are waived only during offboarding (after contract_ended)".into(),
        )
        .into());
    }
    if !m.current.needs_revoke() {
        return Err(CoreError::Conflict(format!(
            "the request is {}{}; there is no held access to waive",
            m.current.status.key(),
            if m.current.waived_at.is_some() {
                " and already waived"
            } else {
                ""
            }
        ))
        .into());
    }
    sqlx::query(
        "UPDATE access_requests SET waived_at = $3, waived_by = $4, waive_reason = $5 WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(m.now)
    .bind(&m.who)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((events::ACCESS_WAIVED, json!({"reason": m.text})))
}

/// After any move: the link's reminders stop when nothing required waits
/// on the client any more (now, rather than at their next due time;
/// optional requests alone are not reminded about), the client's access
/// completion is refreshed, and the move commits as one record.
pub(super) async fn finish(
    mut tx: WriteTx,
    agency_id: &str,
    id: &str,
    current: &AccessRequest,
    event_type: &'static str,
    detail: serde_json::Value,
) -> Result<()> {
    let mut data = json!({
        "request_id": id,
        "platform": current.platform,
        "permission": current.permission,
        "asset": current.asset,
        "from": current.status.key(),
    });
    if let (Some(d), Some(extra)) = (data.as_object_mut(), detail.as_object()) {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    if let Some(link_id) = &current.link_id {
        sqlx::query(
            "UPDATE onboarding_links SET next_reminder_at = NULL WHERE agency_id = $1 AND id = $2 \
             AND next_reminder_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM access_requests \
             WHERE link_id = $2 AND agency_id = $1 AND required = 1 AND status IN ('requested', 'failed'))",
        )
        .bind(agency_id)
        .bind(link_id)
        .execute(tx.conn())
        .await?;
    }
    let completed = refresh_completion(tx.conn(), agency_id, &current.client_id).await?;
    let mut record = Record::new(event_type, "access_request", id, data.clone())
        .with_event(Some(&current.client_id), data);
    if let Some(at) = completed {
        record = record.push_event(completed_event(&current.client_id, at));
    }
    tx.commit(record).await?;
    Ok(())
}
