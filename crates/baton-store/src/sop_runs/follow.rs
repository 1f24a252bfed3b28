//! Where runs follow the work. Inside the transaction of every change to a
//! run's subject (a content item, the handoff brief, the client's access),
//! [`follow`] reads the subject's state, ticks the checklist items that are
//! facts Baton knows ([`baton_core::facts`]) and unticks those that stopped
//! being true, each with the `sop_run.checklist_changed` event that did it,
//! and completes a run whose definition of done is met at that instant
//! (`done_by` Baton). A run is cancelled, not left to breach, when its
//! subject goes away ([`cancel`]), and restored when the move that cancelled
//! it is corrected ([`restore`]).

use std::collections::BTreeMap;

use baton_core::calendar::Calendar;
use baton_core::content::{ContentBrief, ContentStatus};
use baton_core::facts::{self, AccessState, ContentState, RoundState, Snapshot, Subject};
use baton_core::sop::{self, RunStatus, SopDefinition};
use baton_core::{events, ids};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{apply_status, credit_pause, get_on, to_text, DoneItem, Run, COLS, FROM};
use crate::error::{Result, StoreError};
use crate::write::{NewEvent, WriteTx};

/// Who completes a run whose definition of done facts met.
pub(crate) const SYSTEM: &str = "Baton";

/// Which runs a change concerns.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Follow<'a> {
    /// The runs about this content item.
    Content(&'a str),
    /// The runs about this incident.
    Incident(&'a str),
    /// The weekly-scorecard runs about this ISO week (`2026-W48`).
    Week(&'a str),
    /// The runs about the client itself: its handoff brief, access and
    /// offboarding.
    Client,
}

/// Reads what the facts of a run about `subject` need.
async fn snapshot(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    subject: Subject,
    subject_id: &str,
) -> Result<Option<Snapshot>> {
    Ok(match subject {
        Subject::ContentItem => {
            let Some(row) = sqlx::query(
                "SELECT status, brief, current_version, qa, qa_waived_reason FROM content_items \
                 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(subject_id)
            .fetch_optional(&mut *conn)
            .await?
            else {
                return Ok(None);
            };
            let status: String = row.try_get("status")?;
            let brief: ContentBrief = serde_json::from_str(&row.try_get::<String, _>("brief")?)
                .map_err(|e| StoreError::Config(format!("bad stored brief: {e}")))?;
            let qa: crate::content::QaState =
                serde_json::from_str(&row.try_get::<String, _>("qa")?)
                    .map_err(|e| StoreError::Config(format!("bad stored QA: {e}")))?;
            let waived = row
                .try_get::<Option<String>, _>("qa_waived_reason")?
                .is_some();
            let rounds = sqlx::query(
                "SELECT round, version_n, outcome FROM content_rounds WHERE agency_id = $1 AND content_id = $2",
            )
            .bind(agency_id)
            .bind(subject_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                let outcome: Option<String> = r.try_get("outcome")?;
                Ok(RoundState {
                    round: r.try_get("round")?,
                    version_n: r.try_get("version_n")?,
                    decided: outcome.is_some(),
                    approved: outcome.as_deref() == Some("approved"),
                })
            })
            .collect::<Result<Vec<_>>>()?;
            Some(Snapshot::Content(ContentState {
                status: ContentStatus::parse(&status).unwrap_or(ContentStatus::Brief),
                brief,
                current_version: row.try_get("current_version")?,
                rounds,
                qa_done: waived || qa.complete(),
            }))
        }
        Subject::HandoffBrief => {
            let text: Option<String> = sqlx::query_scalar(
                "SELECT brief FROM handoff_briefs WHERE agency_id = $1 AND client_id = $2 \
                 ORDER BY version DESC LIMIT 1",
            )
            .bind(agency_id)
            .bind(client_id)
            .fetch_optional(&mut *conn)
            .await?;
            let done = match text {
                Some(t) => {
                    let brief: baton_core::handoff::HandoffBrief = serde_json::from_str(&t)
                        .map_err(|e| StoreError::Config(format!("bad stored brief: {e}")))?;
                    brief
                        .sections()
                        .into_iter()
                        .filter(|(_, _, ok)| *ok)
                        .map(|(k, _, _)| k)
                        .collect()
                }
                None => Vec::new(),
            };
            Some(Snapshot::Handoff(done))
        }
        Subject::Incident => crate::incidents::facts::snapshot(conn, agency_id, subject_id).await?,
        Subject::Week => {
            Some(crate::scorecards::week_snapshot(conn, agency_id, client_id, subject_id).await?)
        }
        Subject::Access | Subject::Offboarding => {
            // Withdrawn requests (never granted, then closed) do not count.
            let listed: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM access_requests WHERE agency_id = $1 AND client_id = $2 \
                 AND NOT (status = 'revoked' AND granted_at IS NULL AND verified_at IS NULL)",
            )
            .bind(agency_id)
            .bind(client_id)
            .fetch_one(&mut *conn)
            .await?;
            let complete: Option<i64> = sqlx::query_scalar(
                "SELECT access_complete_at FROM clients WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(client_id)
            .fetch_one(&mut *conn)
            .await?;
            let held =
                crate::access_requests::open_revoke_lines(conn, agency_id, client_id).await?;
            Some(Snapshot::Access(AccessState {
                listed,
                complete: complete.is_some(),
                held,
            }))
        }
    })
}

/// The open runs of the client that `what` concerns.
async fn open_runs(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    what: Follow<'_>,
) -> Result<Vec<Run>> {
    let (cond, subject_id) = match what {
        Follow::Content(id) => ("r.subject_type = 'content_item' AND r.subject_id = $3", id),
        Follow::Incident(id) => ("r.subject_type = 'incident' AND r.subject_id = $3", id),
        Follow::Week(week) => ("r.subject_type = 'week' AND r.subject_id = $3", week),
        Follow::Client => (
            "r.subject_type IN ('handoff_brief', 'access', 'offboarding') AND r.subject_id = $3",
            client_id,
        ),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.client_id = $2 AND {cond} \
         AND r.done_at IS NULL AND r.cancelled_at IS NULL ORDER BY r.id"
    ))
    .bind(agency_id)
    .bind(client_id)
    .bind(subject_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(super::from_row).collect()
}

/// The write path's hook ([`WriteTx::commit`]): for the events of one
/// change, brings the facts of what changed into the open runs about it, and
/// cancels the runs of a cancelled content item. Returns the events to
/// record with the change. Events that cannot change a fact (notes, the
/// runs' own events) cost nothing.
pub(crate) async fn follow_events(tx: &mut WriteTx, changed: &[NewEvent]) -> Result<Vec<NewEvent>> {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    let mut out = Vec::new();
    for e in changed {
        let Some(client_id) = &e.client_id else {
            continue;
        };
        let content = (e.entity_type == "content").then(|| e.entity_id.clone());
        if e.entity_type == "incident" {
            out.extend(crate::incidents::facts::follow_event(tx, client_id, e).await?);
            continue;
        }
        let client_fact = ["access.", "onboarding.", "handoff."]
            .iter()
            .any(|p| e.event_type.starts_with(p));
        if content.is_none() && !client_fact {
            continue;
        }
        if e.event_type == events::CONTENT_CANCELLED {
            out.extend(
                cancel(
                    tx,
                    client_id,
                    Cancel::Content(&e.entity_id),
                    "the content item was cancelled",
                    e.id.as_deref().unwrap_or(""),
                )
                .await?,
            );
        }
        let key = (client_id.clone(), content.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let what = match &content {
            Some(id) => Follow::Content(id),
            None => Follow::Client,
        };
        out.extend(follow(tx, client_id, what, &e.event_type).await?);
    }
    Ok(out)
}

/// Inside a change's transaction: brings the facts of what changed into the
/// client's open runs about it. `cause`: what changed, for the events (the
/// change's own event type). Returns the events to record with the change.
pub(crate) async fn follow(
    tx: &mut WriteTx,
    client_id: &str,
    what: Follow<'_>,
    cause: &str,
) -> Result<Vec<NewEvent>> {
    let agency_id = tx.agency_id().to_string();
    let runs = open_runs(tx.conn(), &agency_id, client_id, what).await?;
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let (calendar, _) = crate::calendars::get_on(tx.conn(), &agency_id).await?;
    let at = tx.now();
    let mut snapshots: BTreeMap<(Subject, String), Option<Snapshot>> = BTreeMap::new();
    let mut out = Vec::new();
    for mut run in runs {
        let Some(subject) = run.subject.clone() else {
            continue;
        };
        let key = (subject.kind, subject.id.clone());
        if !snapshots.contains_key(&key) {
            let snap =
                snapshot(tx.conn(), &agency_id, client_id, subject.kind, &subject.id).await?;
            snapshots.insert(key.clone(), snap);
        }
        let Some(Some(snap)) = snapshots.get(&key) else {
            continue;
        };
        let snap = snap.clone();
        out.extend(sync(tx, &mut run, &snap, at, cause, &calendar).await?);
    }
    Ok(out)
}

/// Syncs a run just started: facts already true tick at its start, and a
/// run whose work is already done completes at once.
pub(super) async fn sync_new(
    tx: &mut WriteTx,
    run: &mut Run,
    calendar: &Calendar,
) -> Result<Vec<NewEvent>> {
    let Some(subject) = run.subject.clone() else {
        return Ok(Vec::new());
    };
    let agency_id = tx.agency_id().to_string();
    let client_id = run.client_id.clone();
    let Some(snap) = snapshot(tx.conn(), &agency_id, &client_id, subject.kind, &subject.id).await?
    else {
        return Ok(Vec::new());
    };
    let at = run.started_at;
    sync(
        tx,
        run,
        &snap,
        at,
        "already true when the run started",
        calendar,
    )
    .await
}

/// Ticks and unticks `run`'s fact items from `snap` at `at`; completes it
/// when every item is done and a fact just completed it.
async fn sync(
    tx: &mut WriteTx,
    run: &mut Run,
    snap: &Snapshot,
    at: i64,
    cause: &str,
    calendar: &Calendar,
) -> Result<Vec<NewEvent>> {
    let Some(subject) = run.subject.clone() else {
        return Ok(Vec::new());
    };
    let agency_id = tx.agency_id().to_string();
    let event_id = ids::new_id(ids::EVENT, tx.now());
    // The stored map, so keys outside the definition are kept as they are.
    let stored: String =
        sqlx::query_scalar("SELECT checklist FROM sop_runs WHERE agency_id = $1 AND id = $2")
            .bind(&agency_id)
            .bind(run.id.as_str())
            .fetch_one(tx.conn())
            .await?;
    let mut done = super::parse_done(&stored)?;
    // Whoever made the fact true ticked it; at a run's start, Baton.
    let by = if tx.actor().kind == "system" {
        SYSTEM.to_string()
    } else {
        tx.actor().label.clone()
    };
    let mut changed = Vec::new();
    let mut ticked = false;
    for item in &run.checklist {
        let Some(fact) = facts::fact_for(subject.kind, &item.key) else {
            continue;
        };
        let holds = facts::holds(fact, snap, subject.round);
        if holds && !done.contains_key(&item.key) {
            done.insert(
                item.key.clone(),
                DoneItem {
                    at,
                    by: by.clone(),
                    event: Some(event_id.clone()),
                },
            );
            changed.push(json!({"key": item.key, "done": true}));
            ticked = true;
        } else if !holds && done.remove(&item.key).is_some() {
            changed.push(json!({"key": item.key, "done": false}));
        }
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(
        "UPDATE sop_runs SET checklist = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(run.id.as_str())
    .bind(to_text(&done)?)
    .bind(tx.now())
    .execute(tx.conn())
    .await?;
    let base = json!({"run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name});
    let mut data = base.clone();
    data["items"] = json!(changed);
    data["by"] = json!(SYSTEM);
    data["cause"] = json!(cause);
    let mut out = vec![NewEvent {
        id: Some(event_id),
        event_type: events::SOP_RUN_CHECKLIST.into(),
        client_id: Some(run.client_id.clone()),
        entity_type: "sop_run".into(),
        entity_id: run.id.to_string(),
        occurred_at: Some(at),
        note: None,
        data,
    }];
    let complete = run.checklist.iter().all(|i| done.contains_key(&i.key));
    if complete && ticked {
        let def =
            crate::sops::version_on(tx.conn(), &agency_id, &run.sop_key, run.sop_version).await?;
        let on_time = mark_done(tx, run, at, SYSTEM, &def, calendar).await?;
        let mut data = base;
        data["on_time"] = json!(on_time);
        data["due_at"] = json!(run.due_at);
        data["by"] = json!(SYSTEM);
        data["cause"] = json!(cause);
        out.push(NewEvent {
            id: None,
            event_type: events::SOP_RUN_COMPLETED.into(),
            client_id: Some(run.client_id.clone()),
            entity_type: "sop_run".into(),
            entity_id: run.id.to_string(),
            occurred_at: Some(at),
            note: None,
            data,
        });
    }
    *run = get_on(tx.conn(), &agency_id, &run.id).await?;
    Ok(out)
}

/// Marks `run` done at `at` by `by`, crediting a pause still running.
/// Returns whether it was on time (done no later than due).
pub(super) async fn mark_done(
    tx: &mut WriteTx,
    run: &mut Run,
    at: i64,
    by: &str,
    def: &SopDefinition,
    calendar: &Calendar,
) -> Result<bool> {
    credit_pause(run, def, calendar, at);
    let on_time = at <= run.due_at;
    sqlx::query(
        "UPDATE sop_runs SET status = 'done', done_at = $3, done_by = $4, next_change_at = NULL, paused_at = NULL, \
         paused_ms = $5, at_risk_at = $6, due_at = $7, updated_at = $8 WHERE agency_id = $1 AND id = $2",
    )
    .bind(tx.agency_id().to_string())
    .bind(run.id.as_str())
    .bind(at)
    .bind(by)
    .bind(run.paused_ms)
    .bind(run.at_risk_at)
    .bind(run.due_at)
    .bind(tx.now())
    .execute(tx.conn())
    .await?;
    run.done_at = Some(at);
    run.done_by = Some(by.to_string());
    Ok(on_time)
}

/// Which runs a cancellation covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cancel<'a> {
    /// The runs about this content item (it was cancelled).
    Content(&'a str),
    /// The runs about this incident (it was cancelled).
    Incident(&'a str),
    /// The client's runs whose SOP does not outlive delivery (it left).
    LeavingDelivery,
    /// The runs this event started (the move that started them was
    /// corrected).
    StartedBy(&'a str),
}

/// Cancels the client's open runs that `which` covers, with `reason`;
/// `cause` (the event that cancelled them) lets [`restore`] bring them back.
/// Returns the events to record.
pub(crate) async fn cancel(
    tx: &mut WriteTx,
    client_id: &str,
    which: Cancel<'_>,
    reason: &str,
    cause: &str,
) -> Result<Vec<NewEvent>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let (cond, arg) = match which {
        Cancel::Content(id) => ("r.subject_type = 'content_item' AND r.subject_id = $3", id),
        Cancel::Incident(id) => ("r.subject_type = 'incident' AND r.subject_id = $3", id),
        Cancel::LeavingDelivery => ("r.client_id = $3", client_id),
        Cancel::StartedBy(ev) => ("r.trigger_event_id = $3", ev),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.client_id = $2 AND {cond} \
         AND r.done_at IS NULL AND r.cancelled_at IS NULL ORDER BY r.id"
    ))
    .bind(&agency_id)
    .bind(client_id)
    .bind(arg)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let run = super::from_row(row)?;
        if matches!(which, Cancel::LeavingDelivery) {
            let def = crate::sops::version_on(tx.conn(), &agency_id, &run.sop_key, run.sop_version)
                .await?;
            if sop::outlives_delivery(&def) {
                continue;
            }
        }
        sqlx::query(
            "UPDATE sop_runs SET status = 'cancelled', cancelled_at = $3, cancelled_by = $4, cancel_reason = $5, \
             cancel_cause = $6, next_change_at = NULL, updated_at = $3 WHERE agency_id = $1 AND id = $2",
        )
        .bind(&agency_id)
        .bind(run.id.as_str())
        .bind(now)
        .bind(tx.actor().label.clone())
        .bind(reason)
        .bind(cause)
        .execute(tx.conn())
        .await?;
        out.push(NewEvent {
            id: None,
            event_type: events::SOP_RUN_CANCELLED.into(),
            client_id: Some(run.client_id.clone()),
            entity_type: "sop_run".into(),
            entity_id: run.id.to_string(),
            occurred_at: None,
            note: None,
            data: json!({
                "run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name,
                "reason": reason, "cause_event_id": cause, "was": run.status.key(),
            }),
        });
    }
    Ok(out)
}

/// Brings back the runs the event `cause` cancelled: the time they spent
/// cancelled is credited like a pause, their status is recomputed (and
/// escalates if they are late), and their facts are synced again.
pub(crate) async fn restore(
    tx: &mut WriteTx,
    client_id: &str,
    cause: &str,
    calendar: &Calendar,
    email: bool,
) -> Result<Vec<NewEvent>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM sop_runs WHERE agency_id = $1 AND client_id = $2 AND cancel_cause = $3 \
         AND cancelled_at IS NOT NULL AND done_at IS NULL ORDER BY id",
    )
    .bind(&agency_id)
    .bind(client_id)
    .bind(cause)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::new();
    for id in ids {
        let mut run = get_on(tx.conn(), &agency_id, &id).await?;
        let def =
            crate::sops::version_on(tx.conn(), &agency_id, &run.sop_key, run.sop_version).await?;
        let cancelled_at = run.cancelled_at.unwrap_or(now);
        // The cancelled time does not count against the SLA, like a pause.
        let was_paused = run.paused_at;
        run.paused_at = Some(was_paused.unwrap_or(cancelled_at));
        credit_pause(&mut run, &def, calendar, now);
        sqlx::query(
            "UPDATE sop_runs SET cancelled_at = NULL, cancelled_by = NULL, cancel_reason = NULL, cancel_cause = NULL, \
             paused_at = $3, paused_ms = $4, at_risk_at = $5, due_at = $6, status = $7, updated_at = $8 \
             WHERE agency_id = $1 AND id = $2",
        )
        .bind(&agency_id)
        .bind(&id)
        .bind(was_paused.map(|_| now))
        .bind(run.paused_ms)
        .bind(run.at_risk_at)
        .bind(run.due_at)
        .bind(if was_paused.is_some() {
            RunStatus::Paused.key()
        } else {
            RunStatus::OnTrack.key()
        })
        .bind(now)
        .execute(tx.conn())
        .await?;
        let mut run = get_on(tx.conn(), &agency_id, &id).await?;
        out.push(NewEvent {
            id: None,
            event_type: events::SOP_RUN_RESTORED.into(),
            client_id: Some(run.client_id.clone()),
            entity_type: "sop_run".into(),
            entity_id: run.id.to_string(),
            occurred_at: None,
            note: None,
            data: json!({
                "run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name,
                "cause_event_id": cause, "due_at": run.due_at,
            }),
        });
        if was_paused.is_none() {
            let (status, next) = sop::status_at(run.at_risk_at, run.due_at, now);
            out.extend(apply_status(tx, &mut run, status, next, email).await?);
        }
    }
    Ok(out)
}
