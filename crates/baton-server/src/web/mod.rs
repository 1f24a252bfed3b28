//! The server-rendered web app: login, dashboard, clients, team, settings,
//! account and invites.
//!
//! Pages are askama templates (auto-escaped HTML) under `templates/`; the
//! look is one small stylesheet plus a per-agency colour sheet served from
//! `/static` (the CSP forbids inline styles and scripts). Every unsafe form
//! carries the session's CSRF token, and cross-site posts are refused before
//! any handler runs. Handlers parse, authorize and call `baton-store`; they
//! hold no SQL. See `docs/visual-style.md` for the look every page follows.

mod access_pages;
mod account;
mod approval_portal;
mod assets;
mod client_access;
mod client_page;
mod client_runs;
mod content;
mod dashboard;
mod error_page;
pub mod feeds;
mod form;
mod handoff;
mod invite;
mod layout;
mod login;
pub mod portal;
pub mod prg;
mod settings;
mod settings_calendar;
mod sop_pages;
mod team;
mod timefmt;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use error_page::WebError;

/// The web app's routes, wrapped in the same-origin check and a layer that
/// turns any bare error response into the HTML error page.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/", get(dashboard::page))
        .route(
            "/clients",
            get(|| async { layout::see_other("/") }).post(client_page::create),
        )
        .route("/clients/new", get(client_page::new_page))
        .route(
            "/clients/{id}",
            get(client_page::show).post(client_page::update),
        )
        .route("/clients/{id}/team", post(client_page::set_team))
        .route("/clients/{id}/events", post(client_page::record_event))
        .route("/clients/{id}/links", post(client_access::create_link))
        .route(
            "/clients/{id}/links/{lid}/revoke",
            post(client_access::revoke_link),
        )
        .route(
            "/clients/{id}/links/{lid}/regenerate",
            post(client_access::regenerate_link),
        )
        .route(
            "/clients/{id}/links/{lid}/remind",
            post(client_access::remind_link),
        )
        .route(
            "/clients/{id}/access/{rid}/{action}",
            post(client_access::act),
        )
        .route(
            "/clients/{id}/files/{fid}",
            get(client_access::download_file),
        )
        .route("/team", get(team::page))
        .route("/team/invite", post(team::invite))
        .route("/team/{id}/reissue", post(team::reissue))
        .route("/team/{id}/deactivate", post(team::deactivate))
        .route("/team/{id}/reactivate", post(team::reactivate))
        .route("/settings", get(settings::page).post(settings::save))
        .route(
            "/settings/custom-domain/check",
            post(settings::check_domain),
        )
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/calendar-feed", post(account::create_feed))
        .route("/account/calendar-feed/revoke", post(account::revoke_feed))
        .route("/invite/{token}", get(invite::page).post(invite::accept))
        .route("/static/app.css", get(assets::app_css))
        .route("/static/app.js", get(assets::app_js))
        .route("/static/favicon.svg", get(assets::favicon))
        .route("/static/theme.css", get(assets::theme_css))
        .merge(access_pages::router())
        .merge(settings_calendar::router())
        .merge(handoff::router())
        .merge(sop_pages::router())
        .merge(client_runs::router())
        .merge(content::router())
        .fallback(error_page::not_found)
        .layer(from_fn_with_state(
            state.clone(),
            crate::auth::session::same_origin,
        ))
        .layer(from_fn(error_page::html_errors))
        .layer(from_fn_with_state(state.clone(), prg::layer))
        .layer(from_fn_with_state(state, timefmt::with_now))
        .layer(from_fn(invite::no_referrer))
}
