//! A content item's versions: uploading a draft file or a link, and
//! downloading a version's file.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use baton_core::types::ContentId;
use baton_store::content::{self, NewVersion, VersionText};
use baton_store::tokens::Scope;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::api_token::ApiCaller;
use crate::draft_files::{self, Disposition};
use crate::error::{ApiError, ApiResult};
use crate::extract::{is_multipart, ApiJson, ApiPath};
use crate::state::AppState;

use super::dto::*;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// The draft's link (https://…).
    #[schema(schema_with = crate::api::openapi::required_url)]
    pub url: String,
    /// What changed in this version.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::note_or_empty)]
    pub note: Option<String>,
    /// The caption (copy) that goes with it; the item's current caption
    /// when left out. A caption given here becomes the item's caption.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::caption_text)]
    pub caption: Option<String>,
}

/// A draft file upload (`multipart/form-data`): these three fields only
/// (another is refused with 422).
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionUpload {
    /// The draft: PNG, JPEG, GIF, WebP, MP4, MOV, WebM or PDF, at most 200 MB;
    /// its first bytes must match its extension.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// What changed in this version.
    #[schema(schema_with = crate::api::openapi::note_or_empty)]
    pub note: Option<String>,
    /// The caption that goes with it (default: the item's current caption).
    #[schema(schema_with = crate::api::openapi::caption_text)]
    pub caption: Option<String>,
}

/// Adds the next version: a link (JSON `{"url"}`) or a draft file
/// (`multipart/form-data` with `file` and optional `note` and `caption`).
#[utoipa::path(post, operation_id = "addContentVersion", path = "/content/{id}/versions", tag = "content",
    params(("id" = String, Path)),
    request_body(content(
        (VersionIn = "application/json"),
        (VersionUpload = "multipart/form-data"),
    )),
    responses((status = 201, body = VersionOut), (status = 404), (status = 409), (status = 413), (status = 422)), security(("bearer" = [])))]
pub async fn add_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    req: Request,
) -> ApiResult<(StatusCode, Json<VersionOut>)> {
    caller.require(Scope::Write)?;
    let agency_id = caller.agency_id();
    let v = if is_multipart(req.headers()) {
        // Refuse before receiving the file when the item takes no version.
        let item = content::ready_for_version(&state.db, agency_id, &id).await?;
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let form =
            draft_files::read_form(&state, agency_id, &item.client_id, &id, mp, None).await?;
        draft_files::add(&state, caller.cx(&state), &id, &item.client_id, form).await?
    } else {
        // This route's body limit is the upload's; JSON keeps the app's.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, state.config.body_limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        let ApiJson(b) =
            ApiJson::<VersionIn>::from_request(Request::from_parts(parts, bytes.into()), &state)
                .await?;
        content::add_version(
            caller.cx(&state),
            &id,
            NewVersion::Link { url: b.url },
            VersionText {
                note: b.note,
                caption: b.caption,
            },
        )
        .await?
    };
    Ok((StatusCode::CREATED, Json(VersionOut::of(&id, v))))
}

/// A file version's bytes, as an attachment named by the convention, in the
/// file's own type (`image/png`, `video/mp4`, `application/pdf`, …).
/// `Range` requests are answered with 206 (or 416), conditional ones with
/// 304 or 412.
#[utoipa::path(get, operation_id = "downloadContentVersion", path = "/content/{id}/versions/{n}/file", tag = "content",
    params(("id" = String, Path), ("n" = i64, Path, description = "The version number")),
    responses(
        (status = 200, description = "The whole file, in its own content type", content_type = "*/*", body = String,
            headers(("Content-Disposition" = String, description = "attachment, with the file name of the naming convention"))),
        (status = 206, description = "The requested range of the file", content_type = "*/*", body = String,
            headers(("Content-Range" = String))),
        (status = 304, description = "Not modified since `If-Modified-Since`"),
        (status = 404, description = "No such item or version"),
        (status = 409, description = "The version is a link, not a file: the problem's detail names the link"),
        (status = 412, description = "Modified since `If-Unmodified-Since`"),
        (status = 416, description = "The range is outside the file")),
    security(("bearer" = [])))]
pub async fn download_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, n)): ApiPath<(ContentId, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let n: i64 = n.parse().map_err(|_| ApiError::NotFound)?;
    let agency_id = caller.agency_id();
    let item = content::get(&state.db, agency_id, &id).await?;
    let v = content::version(&state.db, agency_id, &id, n).await?;
    if let Some(url) = v.url.as_deref().filter(|_| v.stored_name.is_none()) {
        return Err(ApiError::Conflict(format!(
            "version {n} is a link, not a file: {url}"
        )));
    }
    draft_files::serve(
        &state,
        agency_id,
        &item.client_id,
        &v,
        &method,
        &headers,
        Disposition::Download,
    )
    .await?
    .ok_or(ApiError::NotFound)
}
