//! `Idempotency-Key` for POST requests: the first successful response to a
//! key is kept for 24 hours and replayed, byte for byte, for retries of the
//! same request; the same key with a different body is a 422.
//!
//! Exactly once under concurrency: the handler runs under a
//! [`claims::Claim`] on (agency, member, key), which the request's first
//! write transaction takes as its first statement. Of several identical
//! requests sent at once, one writes; the others find the claim taken, write
//! nothing, wait (up to [`WAIT_FOR_FIRST`]) for the first one's stored answer
//! and replay it. If it is still not there (the first is slow, or crashed
//! between its commit and storing its answer) they answer 409
//! `request-in-progress` with `Retry-After: 1`.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use baton_store::claims::{self, Claim};
use baton_store::idempotency::{self, Stored};
use std::time::Duration;

/// Marks a response whose body holds a secret shown once.
#[derive(Debug, Clone, Copy)]
pub struct SecretInBody;
use sha2::{Digest, Sha256};

use crate::auth::api_token::ApiCaller;
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

/// How long a duplicate waits for the first request's answer.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match parse_key(key) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
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
    let request_hash = request_hash(&parts, &bytes);
    let now = state.now();
    let agency = caller.agency_id().to_string();
    let actor = caller.member.id.clone();
    match idempotency::find(&state.db, &agency, &actor, &key, now).await {
        Ok(Some(stored)) => return replay(stored, &request_hash),
        Ok(None) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let claim = Claim::new(
        claim_key(&agency, &actor, &key),
        baton_core::secret::random_token(),
    );
    let resp = claims::scope(
        claim.clone(),
        next.run(Request::from_parts(parts, Body::from(bytes))),
    )
    .await;
    if claim.taken() {
        return answer_duplicate(&state, &agency, &actor, &key, &request_hash).await;
    }
    // A duplicate can also be refused before it writes, by a check that
    // already sees the first one's change (signing a contract twice is an
    // impossible move): if another request holds the key, its answer is
    // this one's too.
    if !resp.status().is_success() && !claim.owned() {
        match claims::is_held(&state.db, &claim.key, now).await {
            Ok(true) => {
                return answer_duplicate(&state, &agency, &actor, &key, &request_hash).await
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not read a key's claim"),
        }
    }
    // Only successes are remembered: a refused request changed nothing, so a
    // corrected retry under the same key must run (as Stripe does).
    if !resp.status().is_success() {
        return resp;
    }
    remember(&state, &agency, &actor, &key, now, request_hash, resp).await
}

/// The key as sent: 1–255 visible ASCII characters.
fn parse_key(key: &axum::http::HeaderValue) -> Result<String, ApiError> {
    match key.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x21..0x7f).contains(&b)) =>
        {
            Ok(k.to_string())
        }
        _ => Err(ApiError::invalid(
            "Idempotency-Key",
            "must be 1–255 visible ASCII characters",
        )),
    }
}

/// What makes two requests the same: method, path, query and body.
fn request_hash(parts: &axum::http::request::Parts, body: &[u8]) -> String {
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
    h.update(body);
    baton_core::secret::hex(&h.finalize())
}

/// Stores a successful answer under the key, for replays, and returns it.
/// A response that shows a secret once (an API token, a link's URL) is not
/// stored: a replay answers 409 instead of keeping the secret at rest.
async fn remember(
    state: &AppState,
    agency: &str,
    actor: &str,
    key: &str,
    now: i64,
    request_hash: String,
    resp: Response,
) -> Response {
    let secret_shown = resp.extensions().get::<SecretInBody>().is_some();
    let (resp, stored) = if secret_shown {
        let body = crate::error::problem_body(
            StatusCode::CONFLICT,
            "secret-not-replayed",
            "Already done",
            "this request already succeeded; its response held a secret that is shown only once, so it is not replayed",
        );
        let stored = Stored {
            request_hash,
            status: StatusCode::CONFLICT.as_u16(),
            body,
        };
        (resp, stored)
    } else {
        let (parts, body) = resp.into_parts();
        let bytes = match to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(_) => {
                return ApiError::Internal("could not buffer response".into()).into_response()
            }
        };
        let stored = Stored {
            request_hash,
            status: parts.status.as_u16(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        (Response::from_parts(parts, Body::from(bytes)), stored)
    };
    if let Err(e) = idempotency::save(&state.db, agency, actor, key, now, &stored).await {
        tracing::warn!(error = %e, "could not store idempotent response");
    }
    resp
}

/// The claim key of (agency, member, key): hashed, so a key of any visible
/// ASCII fits, and prefixed apart from the web's form nonces.
fn claim_key(agency: &str, actor: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(agency);
    h.update(b"\n");
    h.update(actor);
    h.update(b"\n");
    h.update(key);
    format!("idem:{}", baton_core::secret::hex(&h.finalize()))
}

/// The stored answer to a key, for a request with `request_hash`: the same
/// request is replayed; another one under the same key is refused.
fn replay(stored: Stored, request_hash: &str) -> Response {
    if stored.request_hash != request_hash {
        return ApiError::invalid(
            "Idempotency-Key",
            "this key was already used with a different request; use a new key",
        )
        .into_response();
    }
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
    resp
}

/// A request whose key another request holds: it wrote nothing. Waits for
/// the first one's answer and replays it, or says to retry.
async fn answer_duplicate(
    state: &AppState,
    agency: &str,
    actor: &str,
    key: &str,
    request_hash: &str,
) -> Response {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        match idempotency::find(&state.db, agency, actor, key, state.now()).await {
            Ok(Some(stored)) => return replay(stored, request_hash),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read a key's first answer"),
        }
        if tokio::time::Instant::now() >= deadline {
            let mut resp = crate::error::problem_response(
                StatusCode::CONFLICT,
                "request-in-progress",
                "Request in progress",
                "another request with this Idempotency-Key is being handled; retry after a second to get its answer",
            );
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(1u32));
            return resp;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
