//! The incident log's pages: the log (`/incidents`, open ones first, with
//! the QA waivers as publishing-error risks), the report form
//! (`/incidents/new`, reached from the top bar's "Report incident", a client
//! page or a content item's "Report a publishing error"), one incident
//! (`/incidents/{id}`: the triage clock, the moves the lifecycle allows, one
//! timeline of moves and notes, the postmortem and its follow-up actions).
//!
//! Files: `report` (the form and its POST), `page` (the log and one
//! incident, and their forms), `severities` (the agency's definitions and
//! triage times).

mod page;
mod report;
mod severities;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use baton_store::StoreError;

use crate::state::AppState;
use crate::web::{refusal, WebError};

/// The incident forms' fields as they label them.
const LABELS: refusal::Labels = &[
    ("title", "Title"),
    ("severity", "Severity"),
    ("source", "Source"),
    ("client", "Client"),
    ("content", "Content item"),
    ("summary", "What happened"),
    ("reported_at", "Reported at"),
    ("lead", "Incident lead"),
    ("plan", "Response plan"),
    ("at", "Time"),
    ("postmortem", "Postmortem"),
    ("postmortem.summary", "Summary"),
    ("postmortem.impact", "Impact"),
    ("postmortem.detection", "Detection"),
    ("postmortem.response", "Response"),
    ("postmortem.root_cause", "Root cause"),
    ("override_reason", "Override reason"),
    ("actions[0].title", "Follow-up"),
    ("actions[0].owner", "Follow-up owner"),
    ("actions[0].due_on", "Follow-up due date"),
];

/// A refused incident form's status and message ([`refusal::present`]).
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}

/// The incident routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(page::list).post(report::create))
        .route("/incidents/new", get(report::new_page))
        .route("/incidents/severities", get(severities::page))
        .route("/incidents/severities/{severity}", post(severities::save))
        .route("/incidents/{id}", get(page::detail))
        .route("/incidents/{id}/{step}", post(page::act))
        .route(
            "/incidents/{id}/actions/{action}/done",
            post(page::finish_action),
        )
}

/// The incident-count KPI as the dashboard and a client page show it
/// (`_incident_kpi.html`).
pub struct IncidentCard {
    pub days: i64,
    pub count: i64,
    pub open: i64,
    pub median_triage: String,
    pub on_time: String,
    pub waivers: i64,
    /// The log's link, with the client's report link when for one client.
    pub report_href: String,
}

/// The last `days` days' incident figures, for one client or the agency.
pub(crate) async fn card(
    state: &AppState,
    agency_id: &str,
    client: Option<&str>,
    days: i64,
) -> Result<IncidentCard, WebError> {
    let now = state.now();
    let from = now - days * 86_400_000;
    let k = baton_store::incidents::kpis(&state.db, agency_id, from, now + 1, client, now).await?;
    let waivers =
        baton_store::incidents::qa_waiver_count(&state.db, agency_id, from, now + 1, client)
            .await?;
    Ok(IncidentCard {
        days,
        count: k.count,
        open: k.open,
        median_triage: k
            .median_time_to_triage_seconds
            .map(|s| baton_core::human::duration(s * 1000))
            .unwrap_or_else(|| "—".into()),
        on_time: k
            .triage_on_time_rate
            .map(|r| format!("{:.0} %", r * 100.0))
            .unwrap_or_else(|| "—".into()),
        waivers,
        report_href: match client {
            Some(c) => format!("/incidents/new?client={c}"),
            None => "/incidents/new".into(),
        },
    })
}
