//! Operator endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use crate::state::AppState;

/// `GET /healthz`: the process is up (no database call, cheap by design).
pub async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "ok\n")
}

/// `GET /readyz`: 200 when the database answers, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            "ready\n",
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain")],
            "database unreachable\n",
        )
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pools = state.db.pool_stats();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(&pools),
    )
}
