//! Baton's HTTP server: the JSON API (`/api/v1`), the server-rendered web app,
//! operator endpoints, middleware (request ids, tracing, metrics, limits,
//! security headers) and the background workers.
//!
//! Handlers parse and authorize, then call `baton-store` commands; they hold no
//! SQL. Must not depend on the CLI crate.

pub mod api;
pub mod auth;
pub mod authz;
pub mod config;
pub mod draft_files;
pub mod email;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod ops;
pub mod reminders;
pub mod scheduler;
pub mod state;
pub mod testing;
pub mod uploads;
pub mod web;
pub mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::ServerConfig;
pub use state::AppState;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = baton_core::ids::new_id(
            "req",
            baton_core::clock::Clock::now_ms(&baton_core::clock::SystemClock),
        );
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The request path as logged: capability tokens in the path (onboarding
/// links `/o/{token}…`, invites `/invite/{token}`) are replaced by `…`, so a
/// log never holds a working link.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/o/", "/a/", "/invite/", "/feeds/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}…{tail}").into();
        }
    }
    path.into()
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .nest("/api/v1", api::router(state.clone()))
        .route("/api/openapi.json", get(api::openapi_json))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(web::portal::router(state.clone()))
        .merge(web::feeds::router())
        .merge(web::router(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), web::with_now))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(error::ApiError::Internal("handler panicked".into()))
        }))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
            let id = req.headers().get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), RandomRequestId))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then drains in-flight requests and stops
/// the workers. Returns the address it listened on through `on_bound`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(worker::outbox_loop(state.clone(), stop_rx.clone()));
    let scheduler = tokio::spawn(scheduler::scheduler_loop(state.clone(), stop_rx));
    let router = app(state.clone());
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), worker).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), scheduler).await;
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_never_reach_logged_paths() {
        for (path, logged) in [
            ("/o/abcDEF123_-xyz", "/o/…"),
            (
                "/o/abcDEF123_-xyz/requests/acc_1/grant",
                "/o/…/requests/acc_1/grant",
            ),
            ("/invite/secret", "/invite/…"),
            ("/feeds/secret.ics", "/feeds/…"),
            ("/a/secret/decision", "/a/…/decision"),
            ("/clients/cli_1", "/clients/cli_1"),
            ("/onboarding", "/onboarding"),
        ] {
            assert_eq!(super::loggable_path(path), logged);
        }
    }
}
