//! The web app's errors as friendly pages: 404 for anything not found (another
//! agency's ids included), 403, 400, 409, 422, 429 and 500. Causes of 500s are
//! logged, never shown; no response of the web app is ever a bare text error.

use askama::Template;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_core::CoreError;
use baton_store::StoreError;

use super::layout::{html_response, Layout};
use crate::error::ApiError;

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    BadRequest(String),
    Forbidden(String),
    NotFound,
    /// An invite link that was used, replaced, expired or never existed.
    InviteInvalid,
    Conflict(String),
    /// A second submit of a form whose first submit already wrote (the PRG
    /// layer answers it with the first submit's result).
    AlreadyDone,
    Invalid(String),
    PayloadTooLarge,
    TooManyRequests(u64),
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound | WebError::InviteInvalid => StatusCode::NOT_FOUND,
            WebError::Conflict(_) | WebError::AlreadyDone => StatusCode::CONFLICT,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            WebError::InviteInvalid => "This invite link is no longer valid",
            other => title_for(other.status()),
        }
    }

    /// What a person reads (never the cause of an internal error).
    pub fn message(&self) -> String {
        match self {
            WebError::BadRequest(m)
            | WebError::Forbidden(m)
            | WebError::Conflict(m)
            | WebError::Invalid(m) => m.clone(),
            WebError::NotFound => {
                "There is nothing at this address, or it belongs to another agency.".into()
            }
            WebError::InviteInvalid => {
                "It was already used, replaced by a newer invite, or it expired. \
                Ask an admin of your agency to send you a new one."
                    .into()
            }
            WebError::AlreadyDone => {
                "This form was already sent, and Baton did what it asked once. Go back to the page and reload it to see the result.".into()
            }
            WebError::PayloadTooLarge => "What you sent is too large.".into(),
            WebError::TooManyRequests(secs) => too_many_attempts(*secs),
            WebError::Internal(_) => {
                "Something went wrong on our side. It has been logged; please try again.".into()
            }
        }
    }
}

/// "Too many attempts, try again in N minutes."
pub fn too_many_attempts(secs: u64) -> String {
    let minutes = secs.div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Too many attempts, try again in {minutes} {unit}.")
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Page not found",
        405 => "Not allowed here",
        409 => "That change is not possible",
        413 => "Too large",
        415 => "Bad request",
        422 => "Please check your input",
        429 => "Too many attempts",
        503 => "Temporarily unavailable",
        _ => "Something went wrong",
    }
}

fn message_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "This request was refused. If you sent a form, reload the page and try again.",
        404 => "There is nothing at this address.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is too large.",
        503 => "Baton cannot reach its database right now. Please try again in a moment.",
        s if s < 500 => "The request could not be handled. Go back and try again.",
        _ => "Something went wrong on our side. It has been logged; please try again.",
    }
}

fn invalid_message(field: &str, message: &str) -> String {
    if field.is_empty() {
        format!("{message}.")
    } else {
        format!(
            "{}: {message}.",
            super::refusal::label(super::refusal::COMMON, field)
        )
    }
}

impl From<baton_core::policy::Denied> for WebError {
    fn from(d: baton_core::policy::Denied) -> Self {
        WebError::Forbidden(d.sentence)
    }
}

impl From<CoreError> for WebError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { field, message } => {
                WebError::Invalid(invalid_message(&field, &message))
            }
            CoreError::Conflict(m) => WebError::Conflict(format!("{m}.")),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Duplicate(m) => WebError::Invalid(invalid_message("", &m)),
            StoreError::Core(c) => c.into(),
            StoreError::Forbidden(m) => WebError::Forbidden(m),
            StoreError::AlreadyDone => WebError::AlreadyDone,
            StoreError::Config(m) => WebError::Internal(m),
            StoreError::Database(e) => WebError::Internal(e.to_string()),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest(m) | ApiError::UnsupportedMediaType(m) => WebError::BadRequest(m),
            ApiError::Invalid { field, message } => {
                WebError::Invalid(invalid_message(&field, &message))
            }
            ApiError::Unauthorized => WebError::Forbidden("Please sign in.".into()),
            ApiError::Forbidden(m) => WebError::Forbidden(m),
            ApiError::NotFound => WebError::NotFound,
            ApiError::Conflict(m) => WebError::Conflict(m),
            ApiError::PayloadTooLarge => WebError::PayloadTooLarge,
            ApiError::TooManyRequests(s) => WebError::TooManyRequests(s),
            ApiError::Internal(m) => WebError::Internal(m),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

fn error_response(status: StatusCode, heading: &'static str, message: String) -> Response {
    let page = ErrorPage {
        layout: Layout::public(heading),
        status: status.as_u16(),
        heading,
        message,
    };
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(error = %e, "error page template failed");
            (status, heading).into_response()
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(cause) = &self {
            tracing::error!(%cause, "web request failed");
        }
        let mut resp = error_response(self.status(), self.title(), self.message());
        if let WebError::TooManyRequests(secs) = self {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// The fallback of the web app: the 404 page.
pub async fn not_found() -> WebError {
    WebError::NotFound
}

/// Middleware: any error response that is not already a page (axum's
/// rejections, the same-origin refusal, a 405) becomes the error page.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
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
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let mut page = error_response(status, title_for(status), message_for(status).into());
    if let Some(v) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, v);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_read_well() {
        let e = WebError::from(StoreError::Core(CoreError::invalid(
            "name",
            "must not be empty",
        )));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.message(), "Name: must not be empty.");
        let e = WebError::from(StoreError::Config("secret cause".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message().contains("secret cause"));
    }

    #[test]
    fn throttle_message_rounds_up() {
        assert_eq!(
            too_many_attempts(1),
            "Too many attempts, try again in 1 minute."
        );
        assert_eq!(
            too_many_attempts(61),
            "Too many attempts, try again in 2 minutes."
        );
        assert_eq!(
            too_many_attempts(900),
            "Too many attempts, try again in 15 minutes."
        );
    }
}
