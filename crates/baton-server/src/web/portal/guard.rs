//! The layer around every portal response (throttled guessing, neutral
//! error pages, `no-referrer`, `noindex`, the portal's CSP) and the
//! portal's errors.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_core::uploads;
use baton_store::StoreError;

use super::brand::css_href;
use crate::auth::throttle;
use crate::state::AppState;
use crate::web::WebError;

/// The portal's own content security policy: no scripts at all.
const PORTAL_CSP: &str = "default-src 'none'; img-src 'self' https: data:; media-src 'self'; \
    style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// ------------------------------------------------------------------ guard --

fn is_link_path(path: &str) -> bool {
    path == "/o" || path.starts_with("/o/") || path == "/a" || path.starts_with("/a/")
}

/// Throttles guessing, turns any bare error into a neutral page and sets the
/// headers every portal response carries.
pub(super) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let link_path = is_link_path(&path);
    let ip = crate::auth::client_ip(req.extensions());
    let now = state.now();
    // Past its misses, an address's link requests wait before they are
    // looked up (so guessing is slowed whatever the guesser's timeout), and
    // its misses say "too many attempts"; a valid link is still served.
    let slowed = link_path
        && throttle::link_slowed(&state.db, &ip, now)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the link throttle");
                false
            });
    if slowed {
        tokio::time::sleep(state.config.link_guess_delay).await;
    }
    let mut resp = neutralize(next.run(req).await);
    if link_path && resp.status() == StatusCode::NOT_FOUND {
        match throttle::link_missed(&state.db, &ip, now).await {
            Ok(secs) if slowed => resp = PortalError::TooMany(secs).into_response(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not count a link miss"),
        }
    }
    let cacheable = path.starts_with("/o-static/") && resp.status().is_success();
    let h = resp.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    // A draft file keeps its own, stricter policy (`sandbox`).
    let sandboxed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes().starts_with(b"sandbox"));
    if !sandboxed {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PORTAL_CSP),
        );
    }
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Any error response that is not already a page (a 405 from the router, a
/// rejection) becomes the matching neutral page; a 405 reads as the 404.
fn neutralize(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        return resp;
    }
    match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => PortalError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => PortalError::TooLarge,
        StatusCode::FORBIDDEN => PortalError::Forbidden,
        s if s.is_client_error() => PortalError::BadRequest,
        _ => PortalError::Internal(format!("portal answered {status} without a page")),
    }
    .into_response()
}

// ----------------------------------------------------------------- errors --

/// Why the portal shows a neutral page (no agency, no product name).
#[derive(Debug)]
pub enum PortalError {
    NotFound,
    Forbidden,
    BadRequest,
    TooLarge,
    TooMany(u64),
    Internal(String),
}

#[derive(Template)]
#[template(path = "portal_error.html")]
struct ErrorPage {
    css_href: String,
    title: &'static str,
    message: String,
}

impl PortalError {
    fn status(&self) -> StatusCode {
        match self {
            PortalError::NotFound => StatusCode::NOT_FOUND,
            PortalError::Forbidden => StatusCode::FORBIDDEN,
            PortalError::BadRequest => StatusCode::BAD_REQUEST,
            PortalError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PortalError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            PortalError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> (&'static str, String) {
        match self {
            PortalError::NotFound => (
                "This link is not valid",
                "It may have expired or been replaced. Ask the agency that sent it for a new link.".into(),
            ),
            PortalError::Forbidden => (
                "This form could not be accepted",
                "It did not come from the onboarding page. Open the link you were sent again and retry.".into(),
            ),
            PortalError::BadRequest => (
                "This request could not be handled",
                "Go back, reload the page and try again.".into(),
            ),
            PortalError::TooLarge => (
                "That is too large",
                format!(
                    "Files can be up to {} each. Go back and choose a smaller file.",
                    uploads::limit_text()
                ),
            ),
            PortalError::TooMany(secs) => {
                let minutes = secs.div_ceil(60).max(1);
                let unit = if minutes == 1 { "minute" } else { "minutes" };
                (
                    "Too many attempts",
                    format!("Too many invalid links were opened from your network. Try again in {minutes} {unit}."),
                )
            }
            PortalError::Internal(_) => (
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.".into(),
            ),
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        if let PortalError::Internal(cause) = &self {
            tracing::error!(%cause, "onboarding link request failed");
        }
        let (title, message) = self.page();
        let page = ErrorPage {
            css_href: css_href(),
            title,
            message,
        };
        let mut resp = match page.render() {
            Ok(html) => html_page(self.status(), html),
            Err(e) => {
                tracing::error!(error = %e, "portal error template failed");
                html_page(self.status(), title.to_string())
            }
        };
        if let PortalError::TooMany(secs) = self {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PortalError::NotFound,
            StoreError::Core(_) | StoreError::Duplicate(_) | StoreError::AlreadyDone => {
                PortalError::BadRequest
            }
            StoreError::Forbidden(_) => PortalError::Forbidden,
            StoreError::Config(m) => PortalError::Internal(m),
            StoreError::Database(e) => PortalError::Internal(e.to_string()),
        }
    }
}

impl From<WebError> for PortalError {
    fn from(e: WebError) -> Self {
        match e {
            WebError::PayloadTooLarge => PortalError::TooLarge,
            WebError::NotFound | WebError::InviteInvalid => PortalError::NotFound,
            WebError::Forbidden(_) => PortalError::Forbidden,
            WebError::Internal(m) => PortalError::Internal(m),
            _ => PortalError::BadRequest,
        }
    }
}

fn html_page(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_page(status, html),
        Err(e) => PortalError::Internal(format!("template failed: {e}")).into_response(),
    }
}

/// Unknown addresses under `/o/`.
pub(super) async fn not_found() -> PortalError {
    PortalError::NotFound
}
