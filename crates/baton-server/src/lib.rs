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
pub mod connectors;
pub mod custom_domains;
pub mod download;
pub mod draft_files;
pub mod email;
pub mod error;
pub mod extract;
pub mod file_store;
pub mod integrations;
pub mod metrics;
pub mod ops;
pub mod reminders;
pub mod scheduler;
pub mod sealed;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod uploads;
pub mod web;
pub mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{
    header, Extensions, HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Version,
};
use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
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

/// Whether a response is worth compressing: text Baton writes itself (HTML,
/// CSS, JavaScript, SVG, JSON, problem+json, iCalendar). Files people
/// uploaded and download (draft files with `Range` support, brand-kit
/// files; all sent with `Content-Disposition`) pass through unchanged, so
/// their length, ranges and bytes stay exactly as stored.
fn compressible(headers: &axum::http::HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_DISPOSITION) {
        return false;
    }
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/html"
            | "text/css"
            | "text/javascript"
            | "application/javascript"
            | "image/svg+xml"
            | "application/json"
            | "application/problem+json"
            | "text/calendar"
            | "text/plain"
    )
}

/// The Content-Security-Policy of every answer; `form_action` says where a
/// form (and the redirect it answers) may lead: `'self'`, and on Settings →
/// Connections the platforms' consent screens too.
pub fn content_security_policy(form_action: &str) -> String {
    format!(
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
         form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .nest(api::PREFIX, api::router(state.clone()))
        .route("/api/openapi.json", get(api::openapi_json))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(web::portal::router(state.clone()))
        .merge(web::feeds::router())
        .merge(web::router(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), auth::client_addr::layer))
        // gzip or brotli, as the client's Accept-Encoding asks.
        .layer(CompressionLayer::new().compress_when(
            SizeAbove::default().and(|_: StatusCode, _: Version, h: &HeaderMap, _: &Extensions| {
                compressible(h)
            }),
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(error::ApiError::Internal("handler panicked".into()))
        }))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy("'self'")).expect("a valid header"),
        ))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
            let id = req.headers().get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), RandomRequestId))
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .with_state(state)
}

/// The longest request target (path and query) Baton reads.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Before anything else: a request target over [`MAX_URI_BYTES`] is a 414
/// problem; behind an https public URL every answer carries HSTS (a year),
/// so a browser never again tries the site over plain HTTP.
async fn edge(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    let mut resp = if target > MAX_URI_BYTES {
        error::problem_response(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI too long",
            &format!("the request's path and query may be at most {MAX_URI_BYTES} bytes"),
        )
    } else {
        next.run(req).await
    };
    if state.config.public_url.starts_with("https://") {
        resp.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Serves until `shutdown` resolves, then drains in-flight requests and stops
/// the workers. Returns the address it listened on through `on_bound`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let loops = if state.config.background_jobs {
        vec![
            tokio::spawn(worker::outbox_loop(state.clone(), stop_rx.clone())),
            tokio::spawn(integrations::deliver::delivery_loop(
                state.clone(),
                stop_rx.clone(),
            )),
            tokio::spawn(custom_domains::check_loop(state.clone(), stop_rx.clone())),
            tokio::spawn(connectors::checker::checker_loop(
                state.clone(),
                stop_rx.clone(),
            )),
            tokio::spawn(scheduler::scheduler_loop(state.clone(), stop_rx)),
        ]
    } else {
        Vec::new()
    };
    let router = app(state.clone());
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop_tx.send(true);
    for task in loops {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_text_baton_writes_is_compressed() {
        use axum::http::{header, HeaderMap, HeaderValue};
        let with = |ct: &'static str, disposition: bool| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            if disposition {
                h.insert(
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment"),
                );
            }
            super::compressible(&h)
        };
        for ct in [
            "text/html; charset=utf-8",
            "text/css; charset=utf-8",
            "application/json",
            "application/problem+json",
            "text/calendar; charset=utf-8",
            "text/javascript; charset=utf-8",
            "image/svg+xml",
        ] {
            assert!(with(ct, false), "{ct}");
            assert!(!with(ct, true), "{ct} as a download");
        }
        for ct in [
            "image/png",
            "video/mp4",
            "application/pdf",
            "application/octet-stream",
        ] {
            assert!(!with(ct, false), "{ct}");
        }
        assert!(!super::compressible(&HeaderMap::new()), "no type");
    }

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
