//! Client access: the team's access pages (the access board across
//! clients at `/access`, the access still held at `/access/held`, the
//! onboarding settings, access templates and platform catalog under
//! `/settings/…`) and the access part of a client's page (requests, the
//! revoke checklist, onboarding links, what the client handed over).
//!
//! The board and the held view are one store query each plus the agency's
//! catalog (looked up through a map, never per line), so they stay fast for
//! agencies with thousands of open requests. Onboarding settings and custom
//! platforms are for admins (others read them); templates are for every
//! member, as in the API.
//!
//! Files: `board` (board and held), `onboarding`, `templates`,
//! `platforms`, with `common` for what these pages share; the client
//! page's part is `section_views` and `section` (built for the client
//! page), `links` and `requests` (the handlers of its forms).

mod board;
mod common;
mod links;
mod onboarding;
mod platforms;
mod requests;
mod section;
mod section_views;
mod templates;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

use board::{board, held};
use onboarding::{onboarding_page, onboarding_save};
use platforms::{platform_delete, platform_save, platforms_page};
pub(super) use section::section;
pub(super) use section_views::{notice_text, AccessSection, AccessTyped};
use templates::{template_create, template_delete, templates_page};

/// The access routes: the team's access pages and the forms of the access
/// part of a client's page.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/access", get(board))
        .route("/access/held", get(held))
        .route(
            "/settings/onboarding",
            get(onboarding_page).post(onboarding_save),
        )
        .route(
            "/settings/templates",
            get(templates_page).post(template_create),
        )
        .route("/settings/templates/{id}/delete", post(template_delete))
        .route(
            "/settings/platforms",
            get(platforms_page).post(platform_save),
        )
        .route("/settings/platforms/{key}/delete", post(platform_delete))
        .route("/clients/{id}/links", post(links::create_link))
        .route("/clients/{id}/links/{lid}/revoke", post(links::revoke_link))
        .route(
            "/clients/{id}/links/{lid}/regenerate",
            post(links::regenerate_link),
        )
        .route("/clients/{id}/links/{lid}/remind", post(links::remind_link))
        .route("/clients/{id}/access/{rid}/{action}", post(requests::act))
        .route("/clients/{id}/files/{fid}", get(requests::download_file))
}
