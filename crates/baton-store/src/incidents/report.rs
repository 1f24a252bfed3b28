//! Reporting an incident: from the top bar, a client page, a content item
//! ("Report a publishing error") or the API. The report fixes the triage
//! clock (the severity's minutes from `reported_at`, which may be back-dated
//! but never in the future) and records `incident.opened`, whose outbox job
//! starts the client's `incident_response` SOP run.

use baton_core::incidents::{self, Severity, Source};
use baton_core::types::{ClientId, ContentId, IncidentId};
use baton_core::{events, validate, CoreError};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::error::Result;
use crate::write::{NewEvent, Record};

use super::{get_on, settings, Incident};

/// What a report says.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    pub severity: Severity,
    pub source: Source,
    pub client_id: Option<ClientId>,
    /// A content item it is about (a publishing error); its client is the
    /// incident's client.
    pub content_id: Option<ContentId>,
    /// What happened.
    pub summary: Option<String>,
    /// When it happened (before the report); the report time when absent.
    pub occurred_at: Option<i64>,
    /// When it was reported (back-dated imports); now when absent.
    pub reported_at: Option<i64>,
}

/// The content item a report names: its client, the version that went out
/// and the round that approved it.
struct ItemLink {
    client_id: String,
    version: Option<i64>,
    approval_round: Option<i64>,
}

async fn item_link(
    conn: &mut AnyConnection,
    agency_id: &str,
    content_id: &ContentId,
) -> Result<ItemLink> {
    let row = sqlx::query(
        "SELECT client_id, current_version FROM content_items WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(content_id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| {
        CoreError::invalid(
            "content",
            format!("no content item {content_id} in this agency"),
        )
    })?;
    let version: i64 = row.try_get("current_version")?;
    let approval_round: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(round) FROM content_rounds WHERE agency_id = $1 AND content_id = $2 AND outcome = 'approved'",
    )
    .bind(agency_id)
    .bind(content_id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(ItemLink {
        client_id: row.try_get("client_id")?,
        version: (version > 0).then_some(version),
        approval_round,
    })
}

async fn check_client(conn: &mut AnyConnection, agency_id: &str, id: &ClientId) -> Result<()> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(CoreError::invalid("client", format!("no client {id} in this agency")).into()),
    }
}

/// Records a new incident, `reported`, with its triage clock running.
pub async fn report(cx: Cx<'_>, input: NewIncident) -> Result<Incident> {
    let title = validate::name("title", &input.title)?;
    let summary = match input.summary.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(validate::note("summary", s)?),
    };
    let reported_at = input.reported_at.unwrap_or(cx.now);
    let occurred_at = input.occurred_at.unwrap_or(reported_at);
    incidents::check_report_times(occurred_at, reported_at, cx.now)?;
    let agency_id = cx.agency_id();
    let mut tx = cx.begin().await?;
    let link = match &input.content_id {
        Some(c) => Some(item_link(tx.conn(), agency_id, c).await?),
        None => None,
    };
    let client_id = match (&input.client_id, &link) {
        (Some(c), Some(l)) if c.as_str() != l.client_id => {
            return Err(CoreError::invalid(
                "content",
                "the content item belongs to another client than the one given",
            )
            .into())
        }
        (Some(c), _) => {
            check_client(tx.conn(), agency_id, c).await?;
            Some(c.to_string())
        }
        (None, Some(l)) => Some(l.client_id.clone()),
        (None, None) => None,
    };
    let clock = settings::clock_of(tx.conn(), agency_id, input.severity).await?;
    let (at_risk_at, due_at) = clock.deadlines(reported_at);
    let id = IncidentId::new(cx.now);
    let member = matches!(cx.actor.kind.as_str(), "member" | "token").then_some(&cx.actor.id);
    sqlx::query(
        "INSERT INTO incidents (id, agency_id, client_id, content_id, content_version, approval_round, title, \
         severity, source, summary, status, reported_by, reported_by_member_id, occurred_at, reported_at, \
         triage_at_risk_at, triage_due_at, next_change_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'reported', $11, $12, $13, $14, $15, $16, $15, $17, $17)",
    )
    .bind(id.as_str())
    .bind(agency_id)
    .bind(client_id.as_deref())
    .bind(input.content_id.as_ref().map(|c| c.as_str()))
    .bind(link.as_ref().and_then(|l| l.version))
    .bind(link.as_ref().and_then(|l| l.approval_round))
    .bind(&title)
    .bind(input.severity.key())
    .bind(input.source.key())
    .bind(summary.as_deref())
    .bind(&cx.actor.label)
    .bind(member)
    .bind(occurred_at)
    .bind(reported_at)
    .bind(at_risk_at)
    .bind(due_at)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    let data = json!({
        "incident_id": id, "title": title, "severity": input.severity.key(),
        "source": input.source.key(), "content_id": input.content_id,
        "occurred_at": occurred_at, "triage_due_at": due_at,
    });
    let mut record = Record::new(
        events::INCIDENT_OPENED,
        "incident",
        id.as_str(),
        data.clone(),
    );
    record.events.push(NewEvent {
        id: None,
        event_type: events::INCIDENT_OPENED.into(),
        client_id: client_id.clone(),
        entity_type: "incident".into(),
        entity_id: id.to_string(),
        occurred_at: Some(reported_at),
        note: summary.clone(),
        data,
    });
    if let (Some(content), Some(l)) = (&input.content_id, &link) {
        record.events.push(NewEvent {
            id: None,
            event_type: events::CONTENT_ERROR_REPORTED.into(),
            client_id: client_id.clone(),
            entity_type: "content".into(),
            entity_id: content.to_string(),
            occurred_at: Some(occurred_at),
            note: None,
            data: json!({
                "incident_id": id, "title": title, "severity": input.severity.key(),
                "version": l.version, "approval_round": l.approval_round,
            }),
        });
    }
    tx.commit(record).await?;
    get_on(
        &mut *cx.db.reader().acquire().await?,
        agency_id,
        id.as_str(),
    )
    .await
}
