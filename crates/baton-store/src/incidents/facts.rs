//! The incident as its `incident_response` SOP run sees it: the facts that
//! tick the run's checklist (triaged, plan written, plan executed, log
//! updated; see [`baton_core::facts`]), read inside the write that changed
//! the incident, and the run cancelled with a cancelled incident.

use baton_core::events;
use baton_core::facts::{IncidentState, Snapshot};
use baton_core::incidents::Status;
use sqlx::{AnyConnection, Row};

use crate::error::Result;
use crate::sop_runs::{cancel, Cancel, Follow};
use crate::write::{NewEvent, WriteTx};

/// What the facts of a run about incident `id` need.
pub(crate) async fn snapshot(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: &str,
) -> Result<Option<Snapshot>> {
    let Some(row) = sqlx::query(
        "SELECT status, plan, closing_summary FROM incidents WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    let filled = |v: Option<String>| v.is_some_and(|t| !t.trim().is_empty());
    Ok(Some(Snapshot::Incident(IncidentState {
        status: Status::parse(&status).unwrap_or(Status::Reported),
        plan_written: filled(row.try_get("plan")?),
        summary_written: filled(row.try_get("closing_summary")?),
    })))
}

/// Whether the incident a run would be about is gone (cancelled) before
/// the run started.
pub(crate) async fn went_away(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: Option<&str>,
) -> Result<bool> {
    let Some(id) = id else {
        return Ok(false);
    };
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM incidents WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(matches!(status.as_deref(), None | Some("cancelled")))
}

/// The write path's hook for an incident event: the runs about it follow
/// (a cancelled incident cancels them). Returns the events to record.
pub(crate) async fn follow_event(
    tx: &mut WriteTx,
    client_id: &str,
    e: &NewEvent,
) -> Result<Vec<NewEvent>> {
    let mut out = Vec::new();
    if e.event_type == events::INCIDENT_CANCELLED {
        out.extend(
            cancel(
                tx,
                client_id,
                Cancel::Incident(&e.entity_id),
                "the incident was cancelled",
                e.id.as_deref().unwrap_or(""),
            )
            .await?,
        );
    }
    out.extend(
        crate::sop_runs::follow(tx, client_id, Follow::Incident(&e.entity_id), &e.event_type)
            .await?,
    );
    Ok(out)
}
