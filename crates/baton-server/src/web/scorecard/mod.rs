//! The measurement loop's pages: the KPIs (`/kpis`, their definitions at
//! `/kpis/definitions`, the 13-week trends as SVG charts with a table and a
//! CSV download) and the weekly scorecard (`/scorecard`: 13 weeks at a
//! glance, shipping a week with 3 insights and 3 actions, measurables, the
//! actions tracked to done).
//!
//! Files: `chart` (the SVG trend charts' geometry), `kpis` (the KPI pages
//! and the trend section of the dashboard and client pages), `page` (the
//! scorecard and its forms).

pub mod chart;
pub mod kpis;
mod page;

pub(crate) use page::ActionView;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use baton_store::StoreError;

use crate::state::AppState;
use crate::web::{refusal, WebError};

/// The scorecard forms' fields as they label them.
const LABELS: refusal::Labels = &[
    ("week", "Week"),
    ("insights", "Insights"),
    ("actions", "Actions"),
    ("actions[0]", "Action 1"),
    ("actions[1]", "Action 2"),
    ("actions[2]", "Action 3"),
    ("actions[0].owner", "Action 1 owner"),
    ("actions[1].owner", "Action 2 owner"),
    ("actions[2].owner", "Action 3 owner"),
    ("name", "Name"),
    ("owner", "Owner"),
    ("unit", "Unit"),
    ("goal", "Goal"),
    ("source", "Source"),
    ("value", "Value"),
];

/// A refused scorecard form's status and message ([`refusal::present`]).
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}

/// The KPI and scorecard routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/kpis", get(kpis::page))
        .route("/kpis/definitions", get(kpis::definitions))
        .route("/kpis/weekly.csv", get(kpis::weekly_csv))
        .route("/scorecard", get(page::page))
        .route("/scorecard.csv", get(page::csv))
        .route("/scorecard/ship", post(page::ship))
        .route("/scorecard/measurables", post(page::add_measurable))
        .route("/scorecard/measurables/{id}", post(page::edit_measurable))
        .route("/scorecard/measurables/{id}/value", post(page::enter_value))
        .route("/actions/{id}/done", post(page::action_done))
}
