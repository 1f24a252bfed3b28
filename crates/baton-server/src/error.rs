//! The HTTP layer's error type. API routes answer RFC 9457
//! `application/problem+json`; the web app renders the same errors as a page
//! (see `web::error_page`). Causes of 500s are logged, never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_core::CoreError;
use baton_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The short title of the problem type.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Bad request",
            ApiError::Invalid { .. } => "Invalid input",
            ApiError::Unauthorized => "Authentication required",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound => "Not found",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PayloadTooLarge => "Request body too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::TooManyRequests(_) => "Too many requests",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    /// What a person should read (never the cause of an internal error).
    pub fn detail(&self) -> String {
        match self {
            ApiError::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
            ApiError::NotFound => "No such resource in this agency.".into(),
            ApiError::Unauthorized => "Send an API token as 'Authorization: Bearer bt_…'.".into(),
            // A rule without one field (e.g. a duplicate): the message alone,
            // not ": message".
            ApiError::Invalid { field, message } if field.is_empty() => message.clone(),
            other => other.to_string(),
        }
    }

    fn problem_type(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Invalid { .. } => "invalid-input",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<crate::draft_files::DraftError> for ApiError {
    fn from(e: crate::draft_files::DraftError) -> Self {
        use crate::draft_files::DraftError;
        use baton_core::content_files::Refusal;
        match e {
            DraftError::Refused(Refusal::TooLarge { .. }) => ApiError::PayloadTooLarge,
            DraftError::Refused(r) => ApiError::invalid("file", r.to_string()),
            DraftError::Unreadable => ApiError::BadRequest(e.to_string()),
            DraftError::Csrf => ApiError::Forbidden(e.to_string()),
            DraftError::UnknownField(_) => ApiError::invalid("body", e.to_string()),
            DraftError::Store(s) => s.into(),
            DraftError::Io(io) => ApiError::Internal(format!("draft file: {io}")),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Duplicate(m) => ApiError::Invalid {
                field: String::new(),
                message: m,
            },
            StoreError::Core(c) => c.into(),
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            StoreError::AlreadyDone => {
                ApiError::Conflict("this request was already handled by an earlier one".into())
            }
            StoreError::Config(m) => ApiError::Internal(m),
            StoreError::Database(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { field, message } => ApiError::Invalid { field, message },
            CoreError::Conflict(m) => ApiError::Conflict(m),
        }
    }
}

/// An RFC 9457 problem document: the body of every `/api/v1` error, served
/// as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `https://baton.dev/problems/<slug>`: what kind of problem it is.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What a person should read.
    pub detail: String,
    /// The fields that are wrong (invalid input only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldProblem>>,
}

/// One wrong field of an invalid input.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Problem {
    fn new(status: StatusCode, problem_type: &str, title: &str, detail: String) -> Problem {
        Problem {
            problem_type: format!("https://baton.dev/problems/{problem_type}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors: None,
        }
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut problem = Problem::new(status, self.problem_type(), self.title(), self.detail());
        if let ApiError::Invalid { field, .. } = &self {
            if !field.is_empty() {
                problem.errors = Some(vec![FieldProblem {
                    field: field.clone(),
                    message: self.to_string(),
                }]);
            }
        }
        let mut resp = problem.into_response();
        if let ApiError::TooManyRequests(secs) = self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// The JSON text of a problem document for a status without an [`ApiError`]
/// variant (405, 409 `request-in-progress`).
pub fn problem_body(status: StatusCode, problem_type: &str, title: &str, detail: &str) -> String {
    serde_json::to_string(&Problem::new(status, problem_type, title, detail.into()))
        .unwrap_or_default()
}

/// A problem+json answer for a status without an [`ApiError`] variant.
pub fn problem_response(
    status: StatusCode,
    problem_type: &str,
    title: &str,
    detail: &str,
) -> Response {
    Problem::new(status, problem_type, title, detail.into()).into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;
