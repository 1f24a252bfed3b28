//! The content pages: the board by status (`/content` across clients,
//! `/clients/{id}/content` for one client, with the "New content item"
//! form), one item (`/content/{id}`: brief, next step, versions, reviewers
//! and approvers, rounds with their consolidated feedback, comments,
//! decisions for approvers, the publishing QA checklist, schedule, publish,
//! cancel), the calendar (`/content/calendar?month=2026-11` or
//! `?week=2026-W48`, in the agency's time zone) and the content metrics.
//!
//! A client's board also holds the client's calendar feed card (create or
//! replace the secret `.ics` URL, shown once; revoke): the board is where
//! the team looks after one client's content, and the feed is exactly that
//! client's scheduled and published content.
//!
//! Every form posts to its own address and comes back to the item with a
//! notice; a refusal of the store (422 invalid, 409 impossible, 403 not an
//! approver) renders the item again with the message at that form and what
//! was typed kept. Lists are a few store queries per page, never one per
//! card.
//!
//! One file per sub-feature: `board` (board, status lists, new item, the
//! client's feed card), `item_views` and `item` (one item's page),
//! `actions` (the item's forms), `versions` (drafts: links, uploads,
//! downloads), `calendar`, `metrics`; `shared` holds the notices, refusals
//! and labels they all use.

mod actions;
mod board;
mod calendar;
mod item;
mod item_views;
mod metrics;
mod shared;
mod versions;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use baton_core::content::ContentAction;

use crate::draft_files;
use crate::state::AppState;
use actions::{
    action_route, approval_link, caption, comment, decide, participants, plan, qa, schedule, submit,
};
use board::{agency_board, client_board, create, create_feed, revoke_feed};
use calendar::calendar;
use item::item_page;
use versions::{add_version, upload_version, version_file};

/// The content routes: board, item and its forms, calendar and metrics.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/content", get(agency_board))
        .route("/content/calendar", get(calendar))
        .route("/clients/{id}/content", get(client_board).post(create))
        .route("/clients/{id}/calendar-feed", post(create_feed))
        .route("/clients/{id}/calendar-feed/revoke", post(revoke_feed))
        .route("/content/{id}", get(item_page))
        .route("/content/{id}/participants", post(participants))
        .route("/content/{id}/caption", post(caption))
        .route("/content/{id}/versions", post(add_version))
        .route(
            "/content/{id}/versions/upload",
            post(upload_version).layer(DefaultBodyLimit::max(draft_files::UPLOAD_BODY_LIMIT)),
        )
        .route("/content/{id}/versions/{n}/file", get(version_file))
        .route("/content/{id}/submit", post(submit))
        .route("/content/{id}/comments", post(comment))
        .route("/content/{id}/decisions", post(decide))
        .route(
            "/content/{id}/rounds/{round}/revision",
            post(actions::resize),
        )
        .route("/content/{id}/qa", post(qa))
        .route("/content/{id}/schedule", post(schedule))
        .route("/content/{id}/plan", post(plan))
        .route(
            "/content/{id}/approve-brief",
            action_route(ContentAction::ApproveBrief, "brief_approved"),
        )
        .route(
            "/content/{id}/unschedule",
            action_route(ContentAction::Unschedule, "unscheduled"),
        )
        .route(
            "/content/{id}/publish",
            action_route(ContentAction::Publish, "published"),
        )
        .route(
            "/content/{id}/cancel",
            action_route(ContentAction::Cancel, "cancelled"),
        )
        .route("/content/{id}/approval-link", post(approval_link))
        .merge(metrics::router())
}
