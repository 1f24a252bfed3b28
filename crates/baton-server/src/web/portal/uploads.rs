//! The brand-kit upload (`POST /o/{token}/files`): read within the body
//! limit, checked by its bytes, stored.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use baton_core::uploads;
use baton_store::intake::{self, NewFile};
use baton_store::Cx;
use sha2::{Digest, Sha256};

use super::context::load_for_post;
use super::guard::PortalError;
use super::steps::steps_page;
use super::views::{refused_page, Notice, Refused};
use crate::state::AppState;
use crate::web::form::{ClientMeta, UNREADABLE_UPLOAD};

/// The upload route's body limit: the file limit plus room for the
/// multipart framing. (The app's limit everywhere else is 1 MiB.)
pub(super) const UPLOAD_BODY_LIMIT: usize = uploads::MAX_FILE_BYTES + 256 * 1024;

/// Reads the `file` part of the upload: (client's file name, bytes), or a
/// refusal. Past the limit it keeps reading without keeping (the route's
/// body limit bounds that), so the client gets the answer rather than a
/// connection reset.
async fn read_upload(
    mut multipart: Multipart,
) -> Result<Option<(String, Vec<u8>)>, uploads::Refusal> {
    let too_large =
        |e: &axum::extract::multipart::MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE;
    let mut found = None;
    let mut over = false;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(uploads::Refusal::TooLarge),
            Err(_) => return Ok(None),
        };
        let is_file = field.name() == Some("file") && found.is_none();
        let name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if !is_file || over {
                        continue;
                    }
                    if bytes.len() + chunk.len() > uploads::MAX_FILE_BYTES {
                        over = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) if too_large(&e) => return Err(uploads::Refusal::TooLarge),
                Err(_) => return Ok(None),
            }
        }
        if is_file && !over {
            found = Some((name, bytes));
        }
    }
    if over {
        return Err(uploads::Refusal::TooLarge);
    }
    Ok(found)
}

/// `POST /o/{token}/files`: one brand-kit file (multipart field `file`).
pub(super) async fn upload(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let refuse = |status: StatusCode, message: String| {
        let refused = Refused {
            file_error: Some(message),
            ..Refused::default()
        };
        (status, refused)
    };
    let outcome = match multipart {
        Err(_) => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            UNREADABLE_UPLOAD.into(),
        )),
        Ok(m) => match read_upload(m).await {
            Err(r) => Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, r.to_string())),
            Ok(None) => Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a file to upload.".into(),
            )),
            Ok(Some((name, bytes))) if name.is_empty() && bytes.is_empty() => Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a file to upload.".into(),
            )),
            Ok(Some((name, bytes))) => {
                let name = uploads::sanitize_name(&name);
                match uploads::check(&name, &bytes) {
                    Ok(kind) => Ok((name, bytes, kind)),
                    Err(r @ uploads::Refusal::TooLarge) => {
                        Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, r.to_string()))
                    }
                    Err(r) => Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, r.to_string())),
                }
            }
        },
    };
    let outcome = match outcome {
        Ok(v) => {
            let held = intake::files(&state.db, &ctx.agency.id, &ctx.client.id)
                .await?
                .len();
            if held >= uploads::MAX_FILES_PER_CLIENT {
                Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "{} files are already uploaded, the most a link takes. Send further files to {} another way.",
                        held, ctx.agency.name
                    ),
                ))
            } else {
                Ok(v)
            }
        }
        e => e,
    };
    let (name, bytes, kind) = match outcome {
        Ok(v) => v,
        Err((status, refused)) => {
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            return Ok(refused_page(&ctx, page, &anchor));
        }
    };
    let now = state.now();
    let id = intake::new_file_id(now);
    let stored_name = format!("{id}-{name}");
    let sha256 = baton_core::secret::hex(&Sha256::digest(&bytes));
    let size_bytes = bytes.len() as i64;
    let files = &state.config.files;
    files
        .store(&ctx.agency.id, &ctx.client.id, &stored_name, bytes)
        .await
        .map_err(|e| PortalError::Internal(format!("storing an upload failed: {e}")))?;
    let file = NewFile {
        id,
        link_id: Some(ctx.link.id.to_string()),
        name,
        stored_name: stored_name.clone(),
        content_type: kind.content_type.to_string(),
        size_bytes,
        sha256,
    };
    if let Err(e) = intake::add_file(
        Cx::new(&state.db, &ctx.agency.id, &ctx.actor(), now),
        &ctx.client.id,
        file,
    )
    .await
    {
        let _ = files
            .remove(&ctx.agency.id, &ctx.client.id, &stored_name)
            .await;
        return Err(e.into());
    }
    Ok(ctx.steps_url("file", "#files"))
}
