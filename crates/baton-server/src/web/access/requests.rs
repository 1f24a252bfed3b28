//! The access requests' forms on a client's page (verify, fail, revoke,
//! waive, check now through the platform's connector) and the download of a
//! file the client handed over.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use baton_core::access::Mover;
use baton_core::types::{AccessRequestId, ClientId, FileId};
use baton_core::CoreError;
use baton_store::access_requests::{self, Act};
use baton_store::{intake, StoreError};
use serde::Deserialize;

use super::common::refusal;
use super::section::show_page;
use super::section_views::{AccessTyped, RequestError};
use crate::auth::session::WebSession;
use crate::download::{self, Show};
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::WebPath;
use crate::web::layout::see_other;
use crate::web::WebError;

/// A request action's form: a note (verify, revoke) or a reason (fail,
/// waive).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActForm {
    note: String,
    reason: String,
}

/// A refusal of a request action, worded for its form: an empty note or
/// reason says what to write, anything else goes to the one presenter.
fn act_refusal(action: &str, e: StoreError) -> Result<(StatusCode, String), WebError> {
    let message = match e {
        StoreError::Core(CoreError::Invalid { message, .. }) if message == "must not be empty" => {
            match action {
                "verify" => "Say what you checked before marking the access verified.",
                "fail" => "Say what does not work: the client sees this reason.",
                "waive" => "Say why this access is not revoked.",
                _ => "This field must not be empty.",
            }
            .to_string()
        }
        StoreError::Core(CoreError::Invalid { message, .. }) => {
            let label = match action {
                "fail" | "waive" => "Reason",
                _ => "Note",
            };
            format!("{label}: {message}.")
        }
        other => return refusal(other),
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, message))
}

/// `POST /clients/{id}/access/{rid}/{verify|fail|revoke|waive|check}`
pub async fn act(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, rid, action)): WebPath<(ClientId, AccessRequestId, String)>,
    CsrfForm(form): CsrfForm<ActForm>,
) -> Result<Response, WebError> {
    if action == "check" {
        return check(&state, &session, &id, &rid).await;
    }
    let (action, text, notice): (&'static str, String, &str) = match action.as_str() {
        "verify" => ("verify", form.note, "access_verified"),
        "fail" => ("fail", form.reason, "access_failed"),
        "revoke" => ("revoke", form.note, "access_revoked"),
        "waive" => ("waive", form.reason, "access_waived"),
        _ => return Err(WebError::NotFound),
    };
    let request = access_requests::get(&state.db, session.agency_id(), &rid).await?;
    if request.client_id != *id {
        return Err(WebError::NotFound);
    }
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
    let result = access_requests::act(session.cx(&state), &rid, what).await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice={notice}#req-{rid}"
        ))),
        Err(e) => {
            let (status, message) = act_refusal(action, e)?;
            let access = AccessTyped {
                request_error: Some(RequestError {
                    id: rid.into_string(),
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

/// "Check now": asks the platform's connector at once; a platform without
/// a connector or an agency without a connection is said next to the request.
async fn check(
    state: &AppState,
    session: &WebSession,
    id: &ClientId,
    rid: &AccessRequestId,
) -> Result<Response, WebError> {
    let request = access_requests::get(&state.db, session.agency_id(), rid).await?;
    if request.client_id != **id {
        return Err(WebError::NotFound);
    }
    match crate::connectors::checker::check(state, &session.member().agency_id, rid.as_str()).await
    {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice=access_checked#req-{rid}"
        ))),
        Err(StoreError::Core(CoreError::Conflict(message))) => {
            let access = AccessTyped {
                request_error: Some(RequestError {
                    id: rid.as_str().to_string(),
                    action: "check",
                    message: format!("{message}."),
                    typed: String::new(),
                }),
                ..AccessTyped::default()
            };
            show_page(state, session, id.as_str(), access, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /clients/{id}/files/{fid}`: a brand-kit file the client uploaded,
/// always as an attachment in a sandbox.
pub async fn download_file(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, fid)): WebPath<(ClientId, FileId)>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let file = intake::get_file(&state.db, agency_id, &fid).await?;
    if file.client_id != *id {
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
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        download::safe_type(&file.content_type),
    );
    download::mark(
        h,
        &file.name,
        Show::Attachment,
        download::SANDBOX,
        "no-store",
    );
    Ok(resp)
}
