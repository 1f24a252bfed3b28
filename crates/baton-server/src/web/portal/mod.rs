//! The client's links, without an account: the onboarding link
//! `/o/{token}` (the agency's branding, one card per access request, the
//! intake questionnaire and the brand-kit upload) and the content approval
//! link `/a/{token}` (`approval.rs`), which shares its guard, errors and look.
//!
//! The token in the path is the capability. Pages that only show (`GET`)
//! write nothing, because link previewers and mail scanners fetch links;
//! the client's "Continue" on the welcome page is what logs an open. Every
//! refusal of a token (wrong, expired, revoked, offboarded client, another
//! agency's link on a custom domain, unknown sub-path) is the same neutral
//! 404 page, byte for byte, and counts as a miss for the caller's address:
//! past [`throttle::LINK_MISSES`] misses in the window every link request
//! of that address waits before any token is looked up, and its misses
//! answer 429; a valid link is never refused. Every response carries `no-referrer` and
//! `noindex`, so the token never leaks through a `Referer` or a search index.
//!
//! The steps page is built for a phone: after "I've granted access" or
//! "I'm stuck" it opens at the next card still waiting on the client
//! (`…/steps?done=granted&next=acc_…#req-acc_…`), with the thanks in that
//! card; a refused form comes back with its errors listed at the top, each a
//! link to its field, and again at the field. Web addresses in the steps
//! are links; a value the agency has not entered reads as a neutral
//! sentence; optional requests say so. "I'm stuck" opens its form on one
//! card only (`?stuck=acc_…`), which keeps the page with every catalog
//! platform under 60 KB with its CSS.
//!
//! Files: `guard` (the layer and the neutral errors), `brand` (stylesheets),
//! `context` (host, token, origin), `views` and `steps` (the pages),
//! `actions` (granted, stuck, answers), `uploads`, `approval`.

mod actions;
mod approval;
mod brand;
mod context;
mod guard;
mod memo;
mod steps;
mod uploads;
mod views;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};
use axum::Router;

use crate::state::AppState;

use actions::{answers, granted, stuck};
use brand::{portal_css, theme_css};
pub(crate) use context::public_host;
use guard::{guard, not_found};
use steps::{open, steps, welcome};
use uploads::{upload, UPLOAD_BODY_LIMIT};

/// The portal's routes. Merged outside the team app's layers: it has its own
/// neutral error pages and accepts the agency's custom domain as origin.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/o", any(not_found))
        .route("/o/", any(not_found))
        .route("/o/{token}", get(welcome))
        .route("/o/{token}/", any(not_found))
        .route("/o/{token}/open", post(open))
        .route("/o/{token}/steps", get(steps))
        .route("/o/{token}/requests/{id}/granted", post(granted))
        .route("/o/{token}/requests/{id}/stuck", post(stuck))
        .route("/o/{token}/answers", post(answers))
        .route(
            "/o/{token}/files",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/o/{token}/{*rest}", any(not_found))
        .merge(approval::routes())
        .merge(memo::routes())
        .route("/o-static/portal.css", get(portal_css))
        .route("/o-static/theme.css", get(theme_css))
        .layer(from_fn_with_state(state.clone(), crate::web::prg::layer))
        .layer(from_fn_with_state(
            state.clone(),
            crate::web::timefmt::with_now,
        ))
        .layer(from_fn_with_state(state, guard))
}
