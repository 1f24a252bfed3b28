//! The access requests' forms on a client's page (verify, fail, revoke,
//! waive) and the download of a file the client handed over.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use baton_core::access::Mover;
use baton_core::CoreError;
use baton_store::access_requests::{self, Act};
use baton_store::{intake, StoreError};

use super::section::show_page;
use super::section_views::{AccessTyped, RequestError};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::error_page::form_error;
use crate::web::form::{check_csrf, FormData};
use crate::web::layout::see_other;
use crate::web::WebError;

/// A refusal of a request action, worded for its form.
fn act_error(action: &str, e: StoreError) -> WebError {
    match e {
        StoreError::Core(CoreError::Invalid { message, .. }) if message == "must not be empty" => {
            WebError::Invalid(
                match action {
                    "verify" => "Say what you checked before marking the access verified.",
                    "fail" => "Say what does not work: the client sees this reason.",
                    "waive" => "Say why this access is not revoked.",
                    _ => "This field must not be empty.",
                }
                .into(),
            )
        }
        StoreError::Core(CoreError::Invalid { message, .. }) => {
            let label = match action {
                "fail" | "waive" => "Reason",
                _ => "Note",
            };
            WebError::Invalid(format!("{label}: {message}."))
        }
        StoreError::Core(CoreError::Conflict(m)) => WebError::Conflict(format!(
            "{}{}.",
            m.get(..1).unwrap_or("").to_uppercase(),
            m.get(1..).unwrap_or("")
        )),
        other => other.into(),
    }
}

/// `POST /clients/{id}/access/{rid}/{verify|fail|revoke|waive}`
pub async fn act(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, rid, action)): Path<(String, String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let (action, field, notice): (&'static str, &str, &str) = match action.as_str() {
        "verify" => ("verify", "note", "access_verified"),
        "fail" => ("fail", "reason", "access_failed"),
        "revoke" => ("revoke", "note", "access_revoked"),
        "waive" => ("waive", "reason", "access_waived"),
        _ => return Err(WebError::NotFound),
    };
    let request = access_requests::get(&state.db, session.agency_id(), &rid).await?;
    if request.client_id != id {
        return Err(WebError::NotFound);
    }
    let text = form.string(field);
    let what = match action {
        "verify" => Act::Verify {
            mover: Mover::Member,
            note: text.clone(),
        },
        "fail" => Act::Fail {
            mover: Mover::Member,
            reason: text.clone(),
        },
        "revoke" => Act::Revoke {
            mover: Mover::Member,
            note: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        },
        _ => Act::Waive {
            reason: text.clone(),
        },
    };
    let result = access_requests::act(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &rid,
        what,
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice={notice}#req-{rid}"
        ))),
        Err(e) => {
            let (status, message) = form_error(act_error(action, e))?;
            let access = AccessTyped {
                request_error: Some(RequestError {
                    id: rid,
                    action,
                    message,
                    typed: text,
                }),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, status).await
        }
    }
}

/// `name` as a quoted-string value: visible ASCII without quotes or
/// backslashes (others become `_`).
fn ascii_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.trim().is_empty() {
        "download".into()
    } else {
        s
    }
}

/// RFC 5987 encoding for `filename*`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The content type a download is served with: the stored one, except
/// types a browser could run as a page (SVG, HTML, XML).
fn download_type(stored: &str) -> HeaderValue {
    let t = stored.trim().to_ascii_lowercase();
    let active = t.contains("svg") || t.contains("html") || t.contains("xml") || t.is_empty();
    if active {
        return HeaderValue::from_static("application/octet-stream");
    }
    HeaderValue::from_str(&t).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `GET /clients/{id}/files/{fid}`: a brand-kit file the client uploaded,
/// always as an attachment in a sandbox.
pub async fn download_file(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let file = intake::get_file(&state.db, agency_id, &fid).await?;
    if file.client_id != id {
        return Err(WebError::NotFound);
    }
    let read = state
        .config
        .files
        .read(agency_id, &file.client_id, &file.stored_name)
        .await;
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %file.id, "uploaded file is missing from the file store");
            return Err(WebError::NotFound);
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            tracing::warn!(file = %file.id, error = %e, "stored file name refused");
            return Err(WebError::NotFound);
        }
        Err(e) => return Err(WebError::Internal(format!("reading {}: {e}", file.id))),
    };
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_file_name(&file.name),
        percent_encode(&file.name)
    );
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, download_type(&file.content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static(
            "attachment; filename=\"download\"",
        )),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_headers_are_safe() {
        assert_eq!(download_type("image/png"), "image/png");
        assert_eq!(download_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(download_type("text/html"), "application/octet-stream");
        assert_eq!(download_type("bad\nvalue"), "application/octet-stream");
        assert_eq!(ascii_file_name("logo \"v2\".png"), "logo _v2_.png");
        assert_eq!(ascii_file_name("café.png"), "caf_.png");
        assert_eq!(percent_encode("café v2.png"), "caf%C3%A9%20v2.png");
    }
}
