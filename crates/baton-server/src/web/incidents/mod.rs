//! The incident log's pages: the log (`/incidents`, open ones first, with
//! the QA waivers as publishing-error risks), the report form
//! (`/incidents/new`, reached from the top bar's "Report incident", a client
//! page or a content item's "Report a publishing error"), one incident
//! (`/incidents/{id}`: the triage clock, the moves the lifecycle allows, one
//! timeline of moves and notes, the postmortem and its follow-up actions).
//!
//! Files: `report` (the form and its POST), `page` (the log and one
//! incident, and their forms).

mod page;
mod report;

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
        .route("/incidents/{id}", get(page::detail))
        .route("/incidents/{id}/{step}", post(page::act))
        .route(
            "/incidents/{id}/actions/{action}/done",
            post(page::finish_action),
        )
}
