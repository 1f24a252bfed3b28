//! Settings → Connections: the agency's connections to platform APIs
//! (`page`: `/settings/connections`, its app forms, Connect and Remove),
//! and `GET /oauth/callback`, where a platform sends the admin's browser
//! back after consent (`callback`).

mod callback;
mod page;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/callback", get(callback::page))
        .route(page::PATH, get(page::page))
        // `{key}`: a platform (`ga4`) for `app` and `connect`, a
        // connection (`con_…`) for `remove`.
        .route("/settings/connections/{key}/app", post(page::save))
        .route("/settings/connections/{key}/connect", post(page::connect))
        .route("/settings/connections/{key}/remove", post(page::remove))
}
