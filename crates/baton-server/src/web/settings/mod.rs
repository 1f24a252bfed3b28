//! The agency's settings and its people: Settings (`/settings`: name, time
//! zone, branding, custom domain), Settings → Business hours
//! (`/settings/calendar`), the team (`/team`: members, invites, roles) and
//! the member's own account (`/account`: password, API tokens, calendar
//! feed); Settings → Integrations (`/settings/integrations`: webhooks,
//! Slack and Teams channels, inbound endpoints, delivery logs). The access
//! settings (onboarding, templates, platforms) live with the access pages
//! in `web/access/`.
//!
//! Files: `general` (`/settings`), `calendar` and `calendar_form`
//! (business hours), `team`, `account`, `integrations` (the list),
//! `integrations_endpoint` (one endpoint and its log) and
//! `integrations_view` (their words).

mod account;
mod calendar;
mod calendar_form;
mod general;
mod integrations;
mod integrations_endpoint;
mod integrations_view;
mod team;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The settings routes: general settings, business hours, team, account,
/// integrations.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/team", get(team::page))
        .route("/team/invite", post(team::invite))
        .route("/team/{id}/reissue", post(team::reissue))
        .route("/team/{id}/deactivate", post(team::deactivate))
        .route("/team/{id}/reactivate", post(team::reactivate))
        .route("/settings", get(general::page).post(general::save))
        .route("/settings/custom-domain/check", post(general::check_domain))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/calendar-feed", post(account::create_feed))
        .route("/account/calendar-feed/revoke", post(account::revoke_feed))
        .merge(calendar::router())
        .merge(integrations::router())
}
