//! Changing a run by hand: its definition-of-done checklist, completing,
//! pausing, resuming and assigning it.

use std::collections::BTreeMap;

use baton_core::calendar::Calendar;
use baton_core::sop::{self, SopDefinition};
use baton_core::types::RunId;
use baton_core::{events, validate, CoreError};
use serde_json::{json, Value};

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{Record, WriteTx};

use super::{apply_status, follow, get, get_on, to_text, DoneItem, DoneMap, Run};

/// Loads an open run for a change, locking its row (a no-op UPDATE, the
/// portable `SELECT … FOR UPDATE`).
pub(super) async fn lock_run(tx: &mut WriteTx, id: &str) -> Result<Run> {
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
/// the items a fact ticks ([`facts`](baton_core::facts)): the handoff brief's sections ("if it
/// is not in the handoff, it does not exist"), a content item's brief, its
/// drafts and rounds, the client's access.
pub async fn set_checklist(cx: Cx<'_>, id: &RunId, items: &BTreeMap<String, bool>) -> Result<Run> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    if items.is_empty() {
        return Err(CoreError::invalid("items", "name at least one checklist item").into());
    }
    let mut tx = cx.begin().await?;
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
    .bind(id.as_str())
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
pub(super) fn credit_pause(run: &mut Run, def: &SopDefinition, cal: &Calendar, now: i64) {
    if let Some(p) = run.paused_at {
        run.paused_ms += def.sla.elapsed(cal, p, now);
        let (r, d) = def.sla.deadlines(cal, run.started_at, run.paused_ms);
        run.at_risk_at = r;
        run.due_at = d;
        run.paused_at = None;
    }
}

/// Completes a run. Refused (409) until every checklist item is done.
pub async fn complete(cx: Cx<'_>, id: &RunId) -> Result<Run> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = cx.begin().await?;
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
pub async fn pause(cx: Cx<'_>, id: &RunId, reason: &str) -> Result<Run> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    if reason.trim().is_empty() {
        return Err(CoreError::invalid("reason", "say what the run waits on").into());
    }
    let reason = validate::note("reason", reason)?;
    let mut tx = cx.begin().await?;
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
    .bind(id.as_str())
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
pub async fn resume(cx: Cx<'_>, id: &RunId, email: bool) -> Result<Run> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = cx.begin().await?;
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
    .bind(id.as_str())
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
pub async fn assign(cx: Cx<'_>, id: &RunId, member_id: &str) -> Result<Run> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
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
    .bind(id.as_str())
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
