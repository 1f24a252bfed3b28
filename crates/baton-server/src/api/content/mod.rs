//! `/api/v1/clients/{id}/content` and `/api/v1/content/{id}/…`: content
//! items with their brief, versions, reviewers and approvers, approval
//! rounds, the publishing QA gate and the schedule. What is answered is in
//! `dto`; the item itself here; its files in `versions`; the moves of review,
//! approval and publishing in `review`.

mod dto;
mod review;
mod versions;

pub use dto::*;
pub use review::*;
pub use versions::*;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::content::{ApprovalMode, ContentBrief, ContentStatus};
use baton_core::policy::{Action, Subject};
use baton_core::types::{ClientId, ContentId};
use baton_store::content::{self, ItemFilter, ItemPatch, NewItem, Participants};
use baton_store::tokens::Scope;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

/// The whole item: with versions, rounds and discussion.
async fn full(state: &AppState, agency_id: &str, id: &str) -> ApiResult<ContentOut> {
    let item = content::get(&state.db, agency_id, id).await?;
    let (versions, rounds, discussion) = tokio::try_join!(
        content::versions(&state.db, agency_id, id),
        content::rounds(&state.db, agency_id, id),
        content::discussion(&state.db, agency_id, id),
    )?;
    let mut out = ContentOut::from(item);
    out.versions = Some(
        versions
            .into_iter()
            .map(|v| VersionOut::of(id, v))
            .collect(),
    );
    out.rounds = Some(rounds.into_iter().map(Into::into).collect());
    out.discussion = Some(discussion.into_iter().map(Into::into).collect());
    Ok(out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentIn {
    /// 1–200 characters.
    #[schema(schema_with = crate::api::openapi::name_text)]
    pub title: String,
    /// `instagram`, `tiktok`, `linkedin`, … (its QA checklist follows):
    /// 1–40 letters, digits or `_`.
    #[schema(schema_with = crate::api::openapi::channel_key)]
    pub channel: String,
    /// At most 60 characters, one line.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::format_text)]
    pub format: Option<String>,
    /// At most 120 characters, one line.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::campaign_text)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub brief: Option<BriefDto>,
    /// The caption (copy), up to 5,000 characters; may come later.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::caption_text)]
    pub caption: Option<String>,
    /// The day it is planned to go out (`YYYY-MM-DD`, agency time): the
    /// on-time KPI judges it published by the end of that day.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::date_or_null)]
    pub planned_on: Option<String>,
}

#[utoipa::path(post, operation_id = "createContent", path = "/clients/{id}/content", tag = "content",
    params(("id" = String, Path)), request_body = ContentIn,
    responses((status = 201, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
    ApiJson(b): ApiJson<ContentIn>,
) -> ApiResult<(StatusCode, Json<ContentOut>)> {
    caller.require(Scope::Write)?;
    let brief = b.brief.unwrap_or(BriefDto {
        audience: String::new(),
        angle: String::new(),
        offer: String::new(),
        constraints: String::new(),
        examples: String::new(),
    });
    let item = content::create(
        caller.cx(&state),
        &client,
        NewItem {
            title: b.title,
            channel: b.channel,
            format: b.format.unwrap_or_default(),
            campaign: b.campaign.unwrap_or_default(),
            brief: ContentBrief {
                audience: brief.audience,
                angle: brief.angle,
                offer: brief.offer,
                constraints: brief.constraints,
                examples: brief.examples,
            },
            caption: b.caption.unwrap_or_default(),
            planned_on: b.planned_on,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(full(&state, caller.agency_id(), &item.id).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = crate::api::openapi::content_cursor)]
    pub cursor: Option<String>,
    /// Only this client's items (`cli_…`).
    #[param(nullable = false)]
    pub client: Option<String>,
    /// Only items in this status.
    #[param(schema_with = crate::api::openapi::content_status_filter)]
    pub status: Option<String>,
}

#[utoipa::path(get, operation_id = "listContent", path = "/content", tag = "content", params(ContentQuery),
    responses((status = 200, body = PageOut<ContentOut>), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ContentQuery>,
) -> ApiResult<Json<PageOut<ContentOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ContentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "use brief, in_production, in_review, changes_requested, approved, scheduled, published or cancelled")
        })?),
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::CONTENT)?;
    let f = ItemFilter {
        client_id: q.client.filter(|c| !c.is_empty()),
        status,
    };
    let page = content::list(&state.db, caller.agency_id(), &f, cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, ContentOut::from)))
}

#[utoipa::path(get, operation_id = "listClientContent", path = "/clients/{id}/content", tag = "content",
    params(("id" = String, Path), ContentQuery),
    responses((status = 200, body = PageOut<ContentOut>), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn list_for_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
    ApiQuery(mut q): ApiQuery<ContentQuery>,
) -> ApiResult<Json<PageOut<ContentOut>>> {
    caller.require(Scope::Read)?;
    baton_store::clients::get(&state.db, caller.agency_id(), &client).await?;
    q.client = Some(client.into_string());
    list(State(state), caller, ApiQuery(q)).await
}

#[utoipa::path(get, operation_id = "getContent", path = "/content/{id}", tag = "content",
    params(("id" = String, Path)), responses((status = 200, body = ContentOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentPatch {
    /// 1–200 characters.
    #[schema(schema_with = crate::api::openapi::name_text_or_null)]
    pub title: Option<String>,
    /// At most 60 characters, one line.
    #[schema(schema_with = crate::api::openapi::format_text)]
    pub format: Option<String>,
    /// At most 120 characters, one line.
    #[schema(schema_with = crate::api::openapi::campaign_text)]
    pub campaign: Option<String>,
    /// Replaces the whole brief.
    pub brief: Option<BriefDto>,
    /// The caption (copy), up to 5,000 characters, several lines. Refused
    /// (409) during an open round; on an approved or scheduled item a new
    /// caption reopens approval: the item goes back to `in_production`
    /// (off the schedule, its QA to do again) and needs a new round.
    #[schema(schema_with = crate::api::openapi::caption_text)]
    pub caption: Option<String>,
}

/// Edits the item. Once approved only the caption may change, and a new
/// caption reopens approval (`content.approval_reopened`).
#[utoipa::path(patch, operation_id = "updateContent", path = "/content/{id}", tag = "content",
    params(("id" = String, Path)), request_body = ContentPatch,
    responses((status = 200, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ContentPatch>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::update(
        caller.cx(&state),
        &id,
        ItemPatch {
            title: b.title,
            format: b.format,
            campaign: b.campaign,
            brief: b.brief.map(|d| ContentBrief {
                audience: d.audience,
                angle: d.angle,
                offer: d.offer,
                constraints: d.constraints,
                examples: d.examples,
            }),
            caption: b.caption,
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsIn {
    /// Members who comment (`mem_…`), at most 50; each a member of this
    /// agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub reviewers: Vec<String>,
    /// Members who decide (`mem_…`), at most 50; each a member of this
    /// agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub approvers: Vec<String>,
    /// `all` (default) or `any`.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::approval_mode)]
    pub approval_mode: Option<String>,
}

/// Sets who reviews and who approves. Only the client's account lead, its
/// traffic-control owner or an admin may (403 otherwise). During an open
/// round a change by anyone but an admin applies from the next round: it is
/// returned as `pending_participants` and the open round keeps its approvers.
#[utoipa::path(put, operation_id = "setContentParticipants", path = "/content/{id}/participants", tag = "content",
    params(("id" = String, Path)), request_body = ParticipantsIn,
    responses((status = 200, body = ContentOut), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn participants(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ParticipantsIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let item = content::get(&state.db, caller.agency_id(), &id).await?;
    let principal = caller
        .principal_on_client(&state.db, &item.client_id)
        .await?;
    caller.can(
        &principal,
        Action::ChangeParticipants,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    )?;
    let mode = match b.approval_mode.as_deref() {
        None | Some("") => None,
        Some(m) => Some(
            ApprovalMode::parse(m)
                .ok_or_else(|| ApiError::invalid("approval_mode", "use all or any"))?,
        ),
    };
    content::set_participants(
        caller.cx(&state),
        &id,
        &Participants {
            reviewers: b.reviewers,
            approvers: b.approvers,
            mode,
            by_admin: principal.is_admin(),
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}
