//! The SOP pages of the team: "My work" (`/my-work`), traffic control
//! (`/traffic`), the role map (`/roles`), the SOP library (`/sops`, one SOP
//! at `/sops/{key}`), and one client's runs (`/clients/{id}/runs`) with
//! "Who decides what" (`/clients/{id}/decides`).
//!
//! One file per sub-feature: `work` ("My work", traffic control, roles),
//! `library` (the library and one SOP's definition form), `runs` (a
//! client's runs and their forms), `decides`; `shared` holds the run lines,
//! notices and refusals they all use.

mod decides;
mod library;
mod runs;
mod shared;
mod work;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

use library::{detail, library, save};
pub(super) use shared::When;
use work::{mark_read, my_work, roles, traffic};

/// The SOP routes: my work, traffic, roles, the library, a client's runs.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/my-work", get(my_work))
        .route("/my-work/notices/read", post(mark_read))
        .route("/traffic", get(traffic))
        .route("/roles", get(roles))
        .route("/sops", get(library))
        .route("/sops/{key}", get(detail).post(save))
        .merge(runs::router())
}
