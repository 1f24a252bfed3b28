//! Clients: the dashboard (`/`: the clients by lifecycle stage), creating
//! a client, its page (details, lifecycle stepper, account team, timeline,
//! and the access part built by `access/section.rs`), the forms on it
//! (record an event, edit details, set the team) and the sales-to-delivery
//! handoff brief. A form refused by the domain is shown again with the
//! message and everything typed kept.
//!
//! Files: `dashboard`, `new` (the new-client form), `page` (the client's
//! page and its edit and team forms), `events` (the timeline's wording and
//! recording an event, with the confirmation of a skipping move),
//! `handoff`.

mod dashboard;
mod events;
mod handoff;
pub(crate) mod new;
mod page;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use baton_core::CoreError;
use baton_store::StoreError;

use crate::state::AppState;
use crate::web::{layout, refusal, WebError};

pub(super) use page::{render_client, Typed};

/// The client forms' fields as they label them: the common labels
/// (the handoff brief has its own).
const LABELS: refusal::Labels = refusal::COMMON;

/// A refused client form's status and message ([`refusal::present`]).
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}

/// A rule of the form itself, said in its own words ("Choose what
/// happened."), refused like the store's invalid input (422).
fn invalid(message: impl Into<String>) -> StoreError {
    CoreError::invalid("", message).into()
}

/// The clients' routes: the dashboard, a new client, a client's page and
/// its forms, the handoff brief.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route(
            "/clients",
            get(|| async { layout::see_other("/") }).post(new::create),
        )
        .route("/clients/new", get(new::new_page))
        .route("/clients/{id}", get(page::show).post(page::update))
        .route("/clients/{id}/team", post(page::set_team))
        .route("/clients/{id}/events", post(events::record_event))
        .merge(handoff::router())
}
