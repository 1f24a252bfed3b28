//! The cadences' pages: `/cadences` (the meetings of this week and next
//! with their state, the cadence library, adherence, and the decisions
//! search), `/cadences/meetings/{id}` (one meeting: Baton's draft of its
//! artifact and the form that attaches it with notes and decisions) and
//! the decision's done form (from here or from My work).

mod page;

pub(crate) use page::{adherence_card, DecisionView, MeetingLine};

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The cadence routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/cadences", get(page::library))
        .route("/cadences/meetings/{id}", get(page::meeting))
        .route("/cadences/meetings/{id}/artifact", post(page::attach))
        .route("/cadences/decisions/{id}/done", post(page::decision_done))
}
