//! `Idempotency-Key` for POST requests: the first successful response to a
//! key is kept for 24 hours and replayed, byte for byte, for retries of the
//! same request; the same key with a different body is a 422.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_store::idempotency::{self, Stored};

/// Marks a response whose body holds a secret shown once.
#[derive(Debug, Clone, Copy)]
pub struct SecretInBody;
use sha2::{Digest, Sha256};

use crate::auth::api_token::ApiCaller;
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b)) =>
        {
            k.to_string()
        }
        _ => {
            return ApiError::invalid("Idempotency-Key", "must be 1–255 visible ASCII characters")
                .into_response();
        }
    };
    // A draft upload (up to 200 MB) is not kept for replay: say so rather
    // than replay nothing.
    if crate::extract::is_multipart(req.headers()) {
        return ApiError::invalid(
            "Idempotency-Key",
            "file uploads are not replayed: send the upload without it, and check GET /api/v1/content/{id} before retrying",
        )
        .into_response();
    }
    let Some(caller) = req.extensions().get::<ApiCaller>().cloned() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, state.config.body_limit).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update(b" ");
    h.update(parts.uri.path());
    // The query is part of the request (`?replace=true` changes what a POST does).
    if let Some(q) = parts.uri.query() {
        h.update(b"?");
        h.update(q);
    }
    h.update(b"\n");
    h.update(&bytes);
    let request_hash = baton_core::secret::hex(&h.finalize());
    let now = state.now();
    let agency = caller.agency_id().to_string();
    let actor = caller.member.id.clone();
    match idempotency::find(&state.db, &agency, &actor, &key, now).await {
        Ok(Some(stored)) if stored.request_hash == request_hash => {
            let mut resp = Response::new(Body::from(stored.body));
            *resp.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let ct = if stored.status >= 400 {
                "application/problem+json"
            } else {
                "application/json"
            };
            resp.headers_mut()
                .insert("content-type", HeaderValue::from_static(ct));
            resp.headers_mut()
                .insert("idempotency-replayed", HeaderValue::from_static("true"));
            return resp;
        }
        Ok(Some(_)) => {
            return ApiError::invalid(
                "Idempotency-Key",
                "this key was already used with a different request; use a new key",
            )
            .into_response();
        }
        Ok(None) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Only successes are remembered: a refused request changed nothing, so a
    // corrected retry under the same key must run (as Stripe does).
    if !resp.status().is_success() {
        return resp;
    }
    // A response that shows a secret once (an API token, a link's URL) is
    // not stored: a replay answers 409 instead of keeping the secret at rest.
    let stored_body = resp.extensions().get::<SecretInBody>().map(|_| {
        crate::error::problem_body(
            StatusCode::CONFLICT,
            "secret-not-replayed",
            "Already done",
            "this request already succeeded; its response held a secret that is shown only once, so it is not replayed",
        )
    });
    if let Some(body) = stored_body {
        let stored = Stored {
            request_hash,
            status: StatusCode::CONFLICT.as_u16(),
            body,
        };
        if let Err(e) = idempotency::save(&state.db, &agency, &actor, &key, now, &stored).await {
            tracing::warn!(error = %e, "could not store idempotent response");
        }
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return ApiError::Internal("could not buffer response".into()).into_response(),
    };
    let stored = Stored {
        request_hash,
        status: parts.status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Err(e) = idempotency::save(&state.db, &agency, &actor, &key, now, &stored).await {
        tracing::warn!(error = %e, "could not store idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}
