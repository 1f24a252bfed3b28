//! Operator endpoints: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

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

/// `GET /metrics`: Prometheus text format. With `BATON_METRICS_TOKEN` set,
/// only for `Authorization: Bearer <that token>` (401 otherwise).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !baton_core::secret::constant_time_eq(sent.trim(), token) {
            return (
                StatusCode::UNAUTHORIZED,
                [
                    (header::CONTENT_TYPE, "text/plain"),
                    (header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""),
                ],
                "send the metrics token as 'Authorization: Bearer …'\n",
            )
                .into_response();
        }
    }
    let pools = state.db.pool_stats();
    let mut body = state.metrics.render(&pools);
    // Group commit: writes per COMMIT is writes_committed / write_batches.
    let gc = state.db.group_commit_stats();
    body.push_str(&format!(
        "# HELP baton_write_batches_total Transactions that committed one or more writes (group commit).\n\
         # TYPE baton_write_batches_total counter\n\
         baton_write_batches_total {}\n\
         # HELP baton_writes_committed_total Writes committed, each with its events, audit entry and outbox jobs.\n\
         # TYPE baton_writes_committed_total counter\n\
         baton_writes_committed_total {}\n",
        gc.batches, gc.writes
    ));
    if let Some(wal) = state.db.wal_checkpoint_stats() {
        use std::sync::atomic::Ordering::Relaxed;
        body.push_str(&format!(
            "# HELP baton_sqlite_wal_checkpoints_total WAL checkpoints run off the request path.\n\
             # TYPE baton_sqlite_wal_checkpoints_total counter\n\
             baton_sqlite_wal_checkpoints_total {}\n\
             # HELP baton_sqlite_wal_checkpoint_failures_total WAL checkpoints that failed (retried).\n\
             # TYPE baton_sqlite_wal_checkpoint_failures_total counter\n\
             baton_sqlite_wal_checkpoint_failures_total {}\n\
             # HELP baton_sqlite_wal_frames Frames in the WAL at the last checkpoint.\n\
             # TYPE baton_sqlite_wal_frames gauge\n\
             baton_sqlite_wal_frames {}\n",
            wal.checkpoints.load(Relaxed),
            wal.failures.load(Relaxed),
            wal.wal_frames.load(Relaxed)
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
