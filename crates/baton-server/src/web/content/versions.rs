//! A content item's drafts: a new version as a link or an uploaded file,
//! and the download of a version's file.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use baton_core::types::ContentId;
use baton_store::content::{self, NewVersion, VersionText};
use serde::Deserialize;

use super::actions::{back, done, item_of};
use super::item::render_item;
use super::item_views::Typed;
use super::shared::refusal;
use crate::auth::session::WebSession;
use crate::draft_files::{self, Disposition, DraftError};
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::{csrf_refused, multipart_refused, QueryData, WebPath, UNREADABLE_UPLOAD};
use crate::web::WebError;

/// A new version as a link, with its note.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LinkForm {
    url: String,
    note: String,
}

/// `POST /content/{id}/versions`: the next version, as a link.
pub(super) async fn add_version(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        url: form.url,
        note: form.note,
        ..Typed::default()
    };
    let result = content::add_version(
        session.cx(&state),
        &id,
        NewVersion::Link {
            url: typed.url.clone(),
        },
        VersionText {
            note: Some(typed.note.clone()),
            caption: None,
        },
    )
    .await;
    done(
        &state,
        &session,
        &id,
        result,
        ("version_added", "versions"),
        "version",
        typed,
    )
    .await
}

/// `POST /content/{id}/versions/upload` (multipart: `csrf` first, `file`,
/// `note`): the next version, as a draft file. A refused file comes back as
/// the item page with the reason at the versions and the note kept.
pub(super) async fn upload_version(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let agency_id = session.agency_id();
    let refused = |status: StatusCode, message: String, note: String| {
        let typed = Typed {
            at: "version",
            error: Some(message),
            note,
            ..Typed::default()
        };
        (status, typed)
    };
    let multipart = multipart.map_err(|e| multipart_refused(&e))?;
    // The item must take a version before its file is received.
    if let Err(e) = content::version_allowed(item.status) {
        let (status, message) = refusal(e)?;
        let (status, typed) = refused(status, message, String::new());
        return render_item(&state, &session, &id, None, typed, status).await;
    }
    let csrf = |t: &str| session.csrf_ok(t);
    let form = draft_files::read_form(
        &state,
        agency_id,
        &item.client_id,
        &id,
        multipart,
        Some(&csrf),
    )
    .await;
    let form = match form {
        Ok(f) => f,
        Err(DraftError::Refused(r)) => {
            let (status, typed) =
                refused(DraftError::refusal_status(&r), r.to_string(), String::new());
            return render_item(&state, &session, &id, None, typed, status).await;
        }
        Err(e) => return Err(draft_web_error(e)),
    };
    let note = form.note.clone();
    match draft_files::add(&state, session.cx(&state), &id, &item.client_id, form).await {
        Ok(_) => Ok(back(&id, "version_added", "versions")),
        Err(DraftError::Refused(r)) => {
            let (status, typed) = refused(DraftError::refusal_status(&r), r.to_string(), note);
            render_item(&state, &session, &id, None, typed, status).await
        }
        Err(DraftError::Store(e)) => {
            let (status, message) = refusal(e)?;
            let (status, typed) = refused(status, message, note);
            render_item(&state, &session, &id, None, typed, status).await
        }
        Err(e) => Err(draft_web_error(e)),
    }
}

fn draft_web_error(e: DraftError) -> WebError {
    match e {
        DraftError::Refused(r) => WebError::Invalid(r.to_string()),
        DraftError::Unreadable => WebError::BadRequest(UNREADABLE_UPLOAD.into()),
        DraftError::Csrf => csrf_refused(),
        DraftError::UnknownField(_) => WebError::BadRequest(e.to_string()),
        DraftError::Store(s) => s.into(),
        DraftError::Io(io) => WebError::Internal(format!("draft file: {io}")),
    }
}

/// `GET /content/{id}/versions/{n}/file`: a draft file, shown in the
/// browser when it is an image or a video (`?download=1` downloads it).
pub(super) async fn version_file(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, n)): WebPath<(ContentId, i64)>,
    q: QueryData,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let agency_id = session.agency_id();
    let v = content::version(&state.db, agency_id, &id, n).await?;
    let how = if q.get("download").is_none() {
        Disposition::Preview
    } else {
        Disposition::Download
    };
    draft_files::serve(
        &state,
        agency_id,
        &item.client_id,
        &v,
        &method,
        &headers,
        how,
    )
    .await
    .map_err(draft_web_error)?
    .ok_or(WebError::NotFound)
}
