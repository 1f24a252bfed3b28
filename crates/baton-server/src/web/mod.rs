//! The server-rendered web app (to be filled by the web pages work).

use axum::Router;

use crate::state::AppState;

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
}
