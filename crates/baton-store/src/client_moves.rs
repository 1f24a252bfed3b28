//! Where a client's lifecycle moves are made, previewed and corrected. A move
//! that leaves delivery (to offboarding or archived) withdraws the requests
//! still waiting on the client and cancels the runs that do not outlive
//! delivery, each pointing at the move's event; a correction ([`reopen`])
//! returns the client to the stage the move left and brings exactly those
//! back. History is never rewritten: the mistaken move and its correction
//! both stay on the timeline and in the audit log.

use baton_core::lifecycle::{self, ClientEventType, Lifecycle};
use baton_core::types::ClientId;
use baton_core::{events, ids, validate, CoreError};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use crate::access_requests::{self, Withdraw};
use crate::clients::check_past_time;
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::events::Event;
use crate::sop_runs::{self, Cancel};
use crate::write::{NewEvent, Record, WriteTx};

/// Locks the client's row (a no-op UPDATE, the portable `SELECT … FOR
/// UPDATE`) so two moves cannot start from the same stage; its stage.
async fn lock_stage(tx: &mut WriteTx, client_id: &str) -> Result<Lifecycle> {
    let agency_id = tx.agency_id().to_string();
    let lc: Option<String> = sqlx::query_scalar(
        "UPDATE clients SET updated_at = updated_at WHERE agency_id = $1 AND id = $2 RETURNING lifecycle",
    )
    .bind(&agency_id)
    .bind(client_id)
    .fetch_optional(tx.conn())
    .await?;
    lc.and_then(|l| Lifecycle::parse(&l))
        .ok_or(StoreError::NotFound)
}

/// Records a timeline event on a client and moves its lifecycle when the
/// event says so. Impossible moves are a conflict; nothing is written then.
/// A `reopened` event is a correction ([`reopen`]).
pub async fn record_event(
    cx: Cx<'_>,
    client_id: &ClientId,
    event_type: ClientEventType,
    occurred_at: Option<i64>,
    note: Option<&str>,
) -> Result<Event> {
    if event_type == ClientEventType::Reopened {
        return reopen(cx, client_id, note.unwrap_or(""), false).await;
    }
    check_past_time("occurred_at", occurred_at, cx.now)?;
    let note = checked_note(event_type, note)?;
    let mut tx = cx.begin().await?;
    let record = move_in(&mut tx, client_id.as_str(), event_type, occurred_at, note).await?;
    first_event(tx.commit(record).await?)
}

/// The move of [`record_event`] inside an open write (a caller that makes
/// the client in the same transaction, like an inbound "deal won"): locks
/// the client, moves it and returns the record to commit.
pub(crate) async fn move_in(
    tx: &mut WriteTx,
    client_id: &str,
    event_type: ClientEventType,
    occurred_at: Option<i64>,
    note: Option<String>,
) -> Result<Record> {
    let agency_id = tx.agency_id().to_string();
    let agency_id = agency_id.as_str();
    let now = tx.now();
    let from = lock_stage(tx, client_id).await?;
    let to = lifecycle::transition(from, event_type)?;
    if to == Lifecycle::Archived {
        refuse_held_access(tx, client_id).await?;
    }
    if event_type == ClientEventType::ContractSigned {
        sqlx::query("UPDATE clients SET contract_signed_at = $3 WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .bind(occurred_at.unwrap_or(now))
            .execute(tx.conn())
            .await?;
    }
    let event_id = ids::new_id(ids::EVENT, now);
    let mut more = Vec::new();
    let (withdrawn, cancelled) = if to != from && leaves_delivery(to) {
        leave_delivery(tx, client_id, to, &event_id, &mut more).await?
    } else {
        (0, 0)
    };
    if to != from {
        sqlx::query(
            "UPDATE clients SET lifecycle = $3, updated_at = $4, archived_at = $5 WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(client_id)
        .bind(to.key())
        .bind(now)
        .bind((to == Lifecycle::Archived).then_some(now))
        .execute(tx.conn())
        .await?;
    }
    let data = move_data(from, to, withdrawn, cancelled);
    let mut record = Record::new(
        &events::client_topic(event_type),
        "client",
        client_id,
        json!({"from": from.key(), "to": to.key(), "occurred_at": occurred_at, "note": note}),
    )
    .push_event(NewEvent {
        id: Some(event_id),
        event_type: event_type.key().to_string(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at,
        note: note.clone(),
        data,
    });
    record.events.extend(more);
    Ok(record)
}

/// A timeline event's note, trimmed and checked; required (422) by the
/// events that need one.
fn checked_note(event_type: ClientEventType, note: Option<&str>) -> Result<Option<String>> {
    Ok(match note.map(str::trim) {
        Some("") | None if event_type.requires_note() => {
            return Err(CoreError::invalid("note", "a note event needs the note's text").into())
        }
        Some("") | None => None,
        Some(n) => Some(validate::note("note", n)?),
    })
}

/// Refuses (409) to archive a client while platform access is still held.
async fn refuse_held_access(tx: &mut WriteTx, client_id: &str) -> Result<()> {
    let agency_id = tx.agency_id().to_string();
    let open = access_requests::open_revoke_lines(tx.conn(), &agency_id, client_id).await?;
    if open > 0 {
        return Err(CoreError::Conflict(format!(
            "{open} platform access{} still held: revoke each (verified by a member) or waive it with a reason before archiving",
            if open == 1 { " is" } else { "es are" }
        ))
        .into());
    }
    Ok(())
}

/// Leaving delivery closes the client's links and its work: what still
/// waits on the client is withdrawn (the board and reminders drop it),
/// runs that do not outlive delivery are cancelled, not left to breach.
/// Their events go to `more`; the counts (withdrawn, cancelled) are
/// returned.
async fn leave_delivery(
    tx: &mut WriteTx,
    client_id: &str,
    to: Lifecycle,
    event_id: &str,
    more: &mut Vec<NewEvent>,
) -> Result<(usize, usize)> {
    let agency_id = tx.agency_id().to_string();
    let (now, by) = (tx.now(), tx.actor().label.clone());
    let why = format!("withdrawn: the client moved to {}", to.key());
    let moved = access_requests::withdraw(
        tx.conn(),
        &agency_id,
        Withdraw::Client(client_id),
        now,
        &by,
        &why,
        event_id,
    )
    .await?;
    if !moved.is_empty() {
        more.push(access_requests::moved_event(
            client_id, &moved, event_id, &why, false,
        ));
    }
    let reason = format!("the client moved to {}", to.label().to_lowercase());
    let runs = sop_runs::cancel(tx, client_id, Cancel::LeavingDelivery, &reason, event_id).await?;
    let n = runs.len();
    more.extend(runs);
    Ok((moved.len(), n))
}

/// The client's event data: the move, with what leaving delivery withdrew
/// and cancelled; empty when the event did not move the client.
fn move_data(from: Lifecycle, to: Lifecycle, withdrawn: usize, cancelled: usize) -> Value {
    let mut data = json!({});
    if to != from {
        data = json!({"from": from.key(), "to": to.key()});
        if withdrawn > 0 {
            data["access_requests_withdrawn"] = json!(withdrawn);
        }
        if cancelled > 0 {
            data["runs_cancelled"] = json!(cancelled);
        }
    }
    data
}

/// The event a move (or its correction) recorded first: the client's own.
fn first_event(recorded: crate::write::Recorded) -> Result<Event> {
    recorded
        .events
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Config("the event was not recorded".into()))
}

fn leaves_delivery(to: Lifecycle) -> bool {
    matches!(to, Lifecycle::Offboarding | Lifecycle::Archived)
}

/// What recording an event would do, for a page that asks first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MovePreview {
    pub from: Lifecycle,
    pub to: Lifecycle,
    /// Stages the move passes over.
    pub skipped: Vec<Lifecycle>,
    /// Access requests still waiting on the client that would be withdrawn.
    pub requests_withdrawn: i64,
    /// The open runs that would be cancelled (their SOP names).
    pub runs_cancelled: Vec<String>,
}

impl MovePreview {
    /// The move skips stages or withdraws work: ask before making it.
    pub fn needs_confirmation(&self) -> bool {
        !self.skipped.is_empty() || self.requests_withdrawn > 0 || !self.runs_cancelled.is_empty()
    }
}

/// What recording `event_type` on the client now would do (nothing is
/// written). An impossible move is the same conflict as recording it.
pub async fn preview_event(
    db: &Db,
    agency_id: &str,
    client_id: &str,
    event_type: ClientEventType,
) -> Result<MovePreview> {
    let client = crate::clients::get(db, agency_id, client_id).await?;
    let from = client.lifecycle;
    let to = lifecycle::transition(from, event_type)?;
    let mut preview = MovePreview {
        from,
        to,
        skipped: lifecycle::skipped(from, to),
        requests_withdrawn: 0,
        runs_cancelled: Vec::new(),
    };
    if to == from || !leaves_delivery(to) {
        return Ok(preview);
    }
    preview.requests_withdrawn = sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_requests WHERE agency_id = $1 AND client_id = $2 \
         AND status IN ('requested', 'failed')",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(db.reader())
    .await?;
    let open = sop_runs::by_due(
        db,
        agency_id,
        &sop_runs::RunFilter {
            client_id: Some(client_id.to_string()),
            open: true,
            ..Default::default()
        },
        5_000,
    )
    .await?;
    for run in open {
        let def = crate::sops::version(db, agency_id, &run.sop_key, run.sop_version).await?;
        if !baton_core::sop::outlives_delivery(&def) {
            preview.runs_cancelled.push(match &run.subject {
                Some(s) if s.kind == baton_core::facts::Subject::ContentItem => {
                    format!("{} ({})", run.sop_name, s.title)
                }
                _ => run.sop_name.clone(),
            });
        }
    }
    Ok(preview)
}

/// The client's last lifecycle move, or its correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastMove {
    pub event_id: String,
    /// The event type (`contract_ended`, …, or `reopened`).
    pub event_type: String,
    pub from: Lifecycle,
    pub to: Lifecycle,
    pub occurred_at: i64,
    pub recorded_at: i64,
}

impl LastMove {
    /// This move was itself a correction.
    pub fn is_correction(&self) -> bool {
        self.event_type == ClientEventType::Reopened.key()
    }
}

/// The newest event that moved the client (or corrected a move).
async fn last_move_on(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<Option<LastMove>> {
    let types: Vec<&str> = ClientEventType::ALL
        .iter()
        .filter(|t| t.may_move() || **t == ClientEventType::Reopened)
        .map(|t| t.key())
        .collect();
    let list = types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT id, type, data, occurred_at, recorded_at FROM events WHERE agency_id = $1 AND client_id = $2 \
         AND type IN ({list}) ORDER BY seq DESC LIMIT 100"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(conn)
    .await?;
    for r in rows {
        let data: Value =
            serde_json::from_str(&r.try_get::<String, _>("data")?).unwrap_or_default();
        let stage = |k: &str| {
            data.get(k)
                .and_then(Value::as_str)
                .and_then(Lifecycle::parse)
        };
        if let (Some(from), Some(to)) = (stage("from"), stage("to")) {
            if from != to {
                return Ok(Some(LastMove {
                    event_id: r.try_get("id")?,
                    event_type: r.try_get("type")?,
                    from,
                    to,
                    occurred_at: r.try_get("occurred_at")?,
                    recorded_at: r.try_get("recorded_at")?,
                }));
            }
        }
    }
    Ok(None)
}

/// The client's last lifecycle move (or its correction), for the page that
/// offers to correct it.
pub async fn last_move(db: &Db, agency_id: &str, client_id: &str) -> Result<Option<LastMove>> {
    let mut conn = db.reader().acquire().await?;
    last_move_on(&mut conn, agency_id, client_id).await
}

/// Corrects the client's last lifecycle move: the client returns to the
/// stage that move left, the requests it withdrew and the runs it cancelled
/// come back, the runs its event started are cancelled, and a `reopened`
/// event with the reason records the correction. Who may do this is the
/// caller's rule (admins). `email`: escalations of restored runs that are
/// already late also go out by email.
pub async fn reopen(cx: Cx<'_>, client_id: &ClientId, reason: &str, email: bool) -> Result<Event> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let client_id = client_id.as_str();
    if reason.trim().is_empty() {
        return Err(CoreError::invalid("note", "say why the last move is corrected").into());
    }
    let reason = validate::note("note", reason.trim())?;
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let (every, max) = access_requests::reminder_schedule(db, agency_id).await?;
    let mut tx = cx.begin().await?;
    let current = lock_stage(&mut tx, client_id).await?;
    let last = last_move_on(tx.conn(), agency_id, client_id)
        .await?
        .ok_or_else(|| {
            CoreError::Conflict("this client has no lifecycle move to correct".into())
        })?;
    if last.is_correction() {
        return Err(CoreError::Conflict(format!(
            "the last move was already corrected (back to '{}'): record the right move instead",
            last.to.key()
        ))
        .into());
    }
    let target = lifecycle::reopen_target(current, last.from, last.to)?;
    let event_id = ids::new_id(ids::EVENT, now);
    sqlx::query(
        "UPDATE clients SET lifecycle = $3, updated_at = $4, archived_at = NULL WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .bind(target.key())
    .bind(now)
    .execute(tx.conn())
    .await?;
    if target == Lifecycle::Won {
        // Back before the contract: time-to-verified-access starts again
        // when it is signed for real.
        sqlx::query(
            "UPDATE clients SET contract_signed_at = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
    }
    let mut more = Vec::new();
    let restored =
        access_requests::restore(tx.conn(), agency_id, &last.event_id, now, every, max).await?;
    if !restored.is_empty() {
        more.push(access_requests::moved_event(
            client_id,
            &restored,
            &last.event_id,
            "the move that withdrew them was corrected",
            true,
        ));
    }
    let runs_restored =
        sop_runs::restore(&mut tx, client_id, &last.event_id, &calendar, email).await?;
    let runs_back = runs_restored
        .iter()
        .filter(|e| e.event_type == events::SOP_RUN_RESTORED)
        .count();
    more.extend(runs_restored);
    let started = sop_runs::cancel(
        &mut tx,
        client_id,
        Cancel::StartedBy(&last.event_id),
        "the move that started it was corrected",
        &event_id,
    )
    .await?;
    let runs_cancelled = started.len();
    more.extend(started);
    let data = json!({
        "from": current.key(), "to": target.key(),
        "corrects_event_id": last.event_id, "corrects": last.event_type,
        "access_requests_restored": restored.len(),
        "runs_restored": runs_back, "runs_cancelled": runs_cancelled,
    });
    let mut record = Record::new(
        &events::client_topic(ClientEventType::Reopened),
        "client",
        client_id,
        data.clone(),
    )
    .push_event(NewEvent {
        id: Some(event_id),
        event_type: ClientEventType::Reopened.key().to_string(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at: None,
        note: Some(reason),
        data,
    });
    record.events.extend(more);
    first_event(tx.commit(record).await?)
}
