//! When the client's access was complete: recomputed on every move, and
//! `onboarding.completed` recorded the first time.

use baton_core::access::{self, AccessStatus, KpiRequest};
use baton_core::events;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::db::flag;
use crate::error::Result;
use crate::write::NewEvent;

/// `onboarding.completed`: the client's access was complete at `at`.
pub(crate) fn completed_event(client_id: &str, at: i64) -> NewEvent {
    NewEvent {
        id: None,
        event_type: events::ONBOARDING_COMPLETED.into(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at: Some(at),
        note: None,
        data: json!({"access_complete_at": at}),
    }
}

/// Recomputes `clients.access_complete_at` from the client's requests.
/// Returns the completion time when the client just became complete.
pub(crate) async fn refresh_completion(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<Option<i64>> {
    let rows = sqlx::query(
        "SELECT required, status, verified_at FROM access_requests WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut reqs = Vec::with_capacity(rows.len());
    for r in &rows {
        let s: String = r.try_get("status")?;
        reqs.push(KpiRequest {
            required: flag(r, "required")?,
            status: AccessStatus::parse(&s).unwrap_or(AccessStatus::Requested),
            verified_at: r.try_get("verified_at")?,
        });
    }
    let complete = access::access_complete_at(&reqs);
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT access_complete_at FROM clients WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    if before != complete {
        sqlx::query("UPDATE clients SET access_complete_at = $3 WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .bind(complete)
            .execute(&mut *conn)
            .await?;
    }
    if before.is_some() || complete.is_none() {
        return Ok(None);
    }
    // `onboarding.completed` is recorded once per client: a later link with
    // new required requests moves the KPI but does not complete onboarding again.
    let already: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM events WHERE agency_id = $1 AND client_id = $2 AND type = 'onboarding.completed' LIMIT 1",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(if already.is_some() { None } else { complete })
}
