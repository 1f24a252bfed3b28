//! The scheduler's side: which runs change status next, advancing them
//! (fenced by the scheduler's lease) and the lease's name.

use baton_core::sop::{self, RunStatus};
use baton_core::types::RunId;
use serde_json::json;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::write::Record;

use super::{apply_status, lock_run};

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

/// Moves one run to its status at `cx.now` (with its escalation); `cx` is
/// the scheduler's (`Actor::system("SLA scheduler")` at the tick's time).
/// Returns the new status if it changed; `None` if another scheduler or a
/// user change got there first.
pub async fn advance(cx: Cx<'_>, id: &RunId, email: bool) -> Result<Option<RunStatus>> {
    advance_fenced(cx, id, email, None).await
}

/// [`advance`] by the holder of the scheduler's lease: nothing is written
/// unless `fence` still holds, checked inside the transaction (a leader
/// that was frozen past its lease wakes up to find it gone).
pub async fn advance_fenced(
    cx: Cx<'_>,
    id: &RunId,
    email: bool,
    fence: Option<&crate::leases::Fence>,
) -> Result<Option<RunStatus>> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    if let Some(fence) = fence {
        if !crate::leases::fence_holds(tx.conn(), fence, now).await? {
            return Ok(None);
        }
    }
    let mut run = lock_run(&mut tx, id).await?;
    let next_change: Option<i64> =
        sqlx::query_scalar("SELECT next_change_at FROM sop_runs WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id.as_str())
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

/// The lease (see [`crate::leases`]) of the server that runs the SLA
/// scheduler: exactly one at a time, on either engine.
pub const SCHEDULER_LEASE: &str = "sla_scheduler";
