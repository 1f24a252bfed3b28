//! Calls to a platform's API: the token on the request, a time limit, the
//! answer read as JSON, and every way a platform says no sorted into a
//! [`CallError`], from the HTTP status and the platform's own error
//! envelope (an [`Envelope`] per platform: Google's `error.status`, Meta's
//! `error.code`, TikTok's `code` in a 200 answer).

use std::time::Duration;

use baton_core::connectors::Outcome;
use serde_json::Value;

use super::Call;

/// How long one call may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// The largest answer read.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// How many pages a connector follows before it gives up on a listing.
pub const MAX_PAGES: usize = 50;
/// Words of every outcome that says the token was refused, so the checker
/// refreshes the token once and asks again.
pub const TOKEN_REFUSED: &str = "refused the connection's token";

/// Why a call did not answer the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The platform refused: the connection may not see that object. For a
    /// check this means the access is not there ([`Outcome::Missing`]).
    Denied(String),
    /// No such object for this connection: missing too.
    NotFound(String),
    /// Too many requests; asked again after `retry_after_ms` (the
    /// `Retry-After` header) or the backoff.
    RateLimited {
        detail: String,
        retry_after_ms: Option<i64>,
    },
    /// The token was refused (expired or revoked at the platform).
    Unauthorized(String),
    /// An outage, a timeout, an answer that made no sense.
    Unavailable(String),
}

impl CallError {
    /// What a check concludes from this error: only "denied" and "not
    /// found" say the access is missing; everything else is "could not
    /// check", retried.
    pub fn outcome(self, label: &str) -> Outcome {
        match self {
            CallError::Denied(d) => Outcome::Missing {
                detail: format!("{label} refused: {d}"),
            },
            CallError::NotFound(d) => Outcome::Missing {
                detail: format!("{label} does not know it: {d}"),
            },
            CallError::RateLimited {
                detail,
                retry_after_ms,
            } => Outcome::Error {
                detail: format!("{label} is rate limiting Baton: {detail}"),
                retry_after_ms,
            },
            CallError::Unauthorized(d) => Outcome::Error {
                detail: format!("{label} {TOKEN_REFUSED}: {d}"),
                retry_after_ms: None,
            },
            CallError::Unavailable(d) => Outcome::Error {
                detail: format!("could not reach {label}: {d}"),
                retry_after_ms: None,
            },
        }
    }
}

/// A platform's own error in an answer (status, parsed body), or `None`
/// when the body is not an error.
pub type Envelope = fn(u16, &Value) -> Option<CallError>;

/// How the token travels.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer …` (Google, Meta, LinkedIn).
    Bearer,
    /// A header of the platform's own (TikTok's `Access-Token`).
    Header(&'static str),
}

/// One GET to `path` (after the API base) with `query` and extra headers.
pub async fn get(
    call: &Call<'_>,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    auth: Auth,
    envelope: Envelope,
) -> Result<Value, CallError> {
    let req = call.http.get(format!("{}{path}", call.api)).query(query);
    send(call, req, headers, auth, envelope).await
}

/// One POST of a JSON body to `path`.
pub async fn post(
    call: &Call<'_>,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
    auth: Auth,
    envelope: Envelope,
) -> Result<Value, CallError> {
    let req = call
        .http
        .post(format!("{}{path}", call.api))
        .header("content-type", "application/json")
        .body(body.to_string());
    send(call, req, headers, auth, envelope).await
}

async fn send(
    call: &Call<'_>,
    mut req: reqwest::RequestBuilder,
    headers: &[(&str, &str)],
    auth: Auth,
    envelope: Envelope,
) -> Result<Value, CallError> {
    req = match auth {
        Auth::Bearer => req.bearer_auth(call.token),
        Auth::Header(name) => req.header(name, call.token),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req
        .timeout(TIMEOUT)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| CallError::Unavailable(describe(&e)))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after_ms);
    let body = read(resp).await?;
    let json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) if (200..300).contains(&status) => {
                return Err(CallError::Unavailable("the answer was not JSON".into()))
            }
            Err(_) => Value::Null,
        }
    };
    let found = envelope(status, &json).or_else(|| by_status(status, &json));
    match found {
        None => Ok(json),
        Some(CallError::RateLimited {
            detail,
            retry_after_ms,
        }) => Err(CallError::RateLimited {
            detail,
            retry_after_ms: retry_after.or(retry_after_ms),
        }),
        Some(e) => Err(e),
    }
}

async fn read(mut resp: reqwest::Response) -> Result<Vec<u8>, CallError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| CallError::Unavailable(describe(&e)))?
    {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(CallError::Unavailable("the answer was too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The error a status alone says, with the body's message when it has one.
fn by_status(status: u16, body: &Value) -> Option<CallError> {
    let message = || message_of(body).unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        200..=299 => None,
        401 => Some(CallError::Unauthorized(message())),
        403 => Some(CallError::Denied(message())),
        404 => Some(CallError::NotFound(message())),
        429 => Some(CallError::RateLimited {
            detail: message(),
            retry_after_ms: None,
        }),
        _ => Some(CallError::Unavailable(message())),
    }
}

/// The human message of a JSON error in the usual places.
pub fn message_of(body: &Value) -> Option<String> {
    [
        body.pointer("/error/message"),
        body.pointer("/message"),
        body.pointer("/error_description"),
        body.pointer("/error"),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.as_str().map(str::to_string))
    .filter(|s| !s.is_empty())
}

/// `Retry-After` in milliseconds: seconds, or an HTTP date (from now).
pub fn retry_after_ms(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs.clamp(0, 86_400) * 1_000);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Some(i64::try_from(wait.as_millis()).unwrap_or(0).min(86_400_000))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the platform did not answer in time".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "the connection failed".into()
    }
}

/// Google's envelope: `{"error": {"code", "message", "status"}}`.
pub fn google_envelope(_status: u16, body: &Value) -> Option<CallError> {
    let err = body.get("error")?;
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    match err.get("status").and_then(Value::as_str)? {
        "PERMISSION_DENIED" => Some(CallError::Denied(message)),
        "NOT_FOUND" => Some(CallError::NotFound(message)),
        "UNAUTHENTICATED" => Some(CallError::Unauthorized(message)),
        "RESOURCE_EXHAUSTED" => Some(CallError::RateLimited {
            detail: message,
            retry_after_ms: None,
        }),
        "UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" => Some(CallError::Unavailable(message)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_and_google_envelopes_sort_errors() {
        let cases = [
            (200, json!({"ok": true}), None),
            (403, json!({}), Some("denied")),
            (401, json!({}), Some("unauthorized")),
            (404, json!({}), Some("not_found")),
            (429, json!({}), Some("rate_limited")),
            (503, json!({}), Some("unavailable")),
            (
                400,
                json!({"error": {"message": "bad", "status": "INVALID_ARGUMENT"}}),
                Some("unavailable"),
            ),
            (
                403,
                json!({"error": {"message": "no", "status": "PERMISSION_DENIED"}}),
                Some("denied"),
            ),
            (
                429,
                json!({"error": {"message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
                Some("rate_limited"),
            ),
            (
                401,
                json!({"error": {"message": "expired", "status": "UNAUTHENTICATED"}}),
                Some("unauthorized"),
            ),
        ];
        for (status, body, want) in cases {
            let got = google_envelope(status, &body).or_else(|| by_status(status, &body));
            let kind = got.map(|e| match e {
                CallError::Denied(_) => "denied",
                CallError::NotFound(_) => "not_found",
                CallError::RateLimited { .. } => "rate_limited",
                CallError::Unauthorized(_) => "unauthorized",
                CallError::Unavailable(_) => "unavailable",
            });
            assert_eq!(kind, want, "{status} {body}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after_ms("30"), Some(30_000));
        assert_eq!(retry_after_ms(" 0 "), Some(0));
        assert_eq!(retry_after_ms("999999"), Some(86_400_000));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(retry_after_ms("soon"), None);
        let later = httpdate::fmt_http_date(
            std::time::SystemTime::now() + std::time::Duration::from_secs(120),
        );
        let ms = retry_after_ms(&later).unwrap();
        assert!((100_000..=120_000).contains(&ms), "{ms}");
    }

    #[test]
    fn only_denied_and_not_found_mean_missing() {
        let missing = |e: CallError| matches!(e.outcome("GA4"), Outcome::Missing { .. });
        assert!(missing(CallError::Denied("x".into())));
        assert!(missing(CallError::NotFound("x".into())));
        assert!(!missing(CallError::Unauthorized("x".into())));
        assert!(!missing(CallError::Unavailable("x".into())));
        assert!(!missing(CallError::RateLimited {
            detail: "x".into(),
            retry_after_ms: Some(1)
        }));
    }
}
