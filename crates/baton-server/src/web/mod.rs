//! The server-rendered web app: login, dashboard, clients, access, SOPs,
//! content, team, settings, account and invites.
//!
//! Pages are askama templates (auto-escaped HTML) under `templates/`; the
//! look is one small stylesheet plus a per-agency colour sheet served from
//! `/static` (the CSP forbids inline styles and scripts). Every unsafe form
//! carries the session's CSRF token, and cross-site posts are refused before
//! any handler runs. Handlers parse, authorize and call `baton-store`; they
//! hold no SQL. See `docs/visual-style.md` for the look every page follows.
//!
//! One folder per feature, each with a `router()` merged here: `clients`
//! (dashboard, a client's page, handoff), `access` (access board and
//! settings, the access part of a client's page), `sops` (my work, traffic,
//! the library, a client's runs), `content` (board, item, calendar,
//! metrics), `settings` (settings, business hours, team, account) and
//! `portal` (the client's links, merged outside this router's layers by
//! `lib.rs`). What every page uses stays at this level: `layout`, `form`,
//! `prg`, `error_page`, `timefmt`, `assets`, with `login`, `invite` and
//! `feeds`.

mod access;
mod assets;
mod cadences;
mod clients;
mod connections;
mod content;
mod csrf_form;
mod error_page;
pub mod feeds;
mod form;
mod incidents;
mod invite;
mod layout;
mod login;
pub mod portal;
pub mod prg;
mod refusal;
mod scorecard;
mod settings;
mod sops;
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
        .route("/invite/{token}", get(invite::page).post(invite::accept))
        .route("/static/app.css", get(assets::app_css))
        .route("/static/app.js", get(assets::app_js))
        .route("/static/favicon.svg", get(assets::favicon))
        .route("/static/theme.css", get(assets::theme_css))
        .merge(clients::router())
        .merge(access::router())
        .merge(sops::router())
        .merge(content::router())
        .merge(settings::router())
        .merge(connections::router())
        .merge(incidents::router())
        .merge(scorecard::router())
        .merge(cadences::router())
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
