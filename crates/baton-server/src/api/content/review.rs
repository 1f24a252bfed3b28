//! The moves of a content item through review, approval, QA and publishing,
//! and what waits on the caller.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::clock::{parse_rfc3339, rfc3339};
use baton_core::content::{ContentAction, Decision, RevisionSize};
use baton_core::types::ContentId;
use baton_store::content::{self, NewComment, NewDecision, Speaker, WaitingFor};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

use super::dto::*;
use super::full;

#[utoipa::path(post, operation_id = "submitContent", path = "/content/{id}/submit", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::submit(caller.cx(&state), &id).await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

/// `POST /api/v1/content/{id}/{action}` for the plain moves.
async fn plain(
    state: &AppState,
    caller: &ApiCaller,
    id: &ContentId,
    action: ContentAction,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::act(caller.cx(state), id, action).await?;
    Ok(Json(full(state, caller.agency_id(), id).await?))
}

#[utoipa::path(post, operation_id = "approveContentBrief", path = "/content/{id}/approve-brief", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn approve_brief(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::ApproveBrief).await
}

#[utoipa::path(post, operation_id = "cancelContent", path = "/content/{id}/cancel", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Cancel).await
}

#[utoipa::path(post, operation_id = "unscheduleContent", path = "/content/{id}/unschedule", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn unschedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Unschedule).await
}

#[utoipa::path(post, operation_id = "publishContent", path = "/content/{id}/publish", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Publish).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// 1–10,000 characters.
    #[schema(schema_with = crate::api::openapi::required_note)]
    pub body: String,
    /// Show it to the client on their approval link (default: internal,
    /// the team's only).
    #[serde(default)]
    pub for_client: bool,
}

#[utoipa::path(post, operation_id = "commentContent", path = "/content/{id}/comments", tag = "content",
    params(("id" = String, Path)), request_body = CommentIn,
    responses((status = 201, body = RemarkOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn comment(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<CommentIn>,
) -> ApiResult<(StatusCode, Json<RemarkOut>)> {
    caller.require(Scope::Write)?;
    let who = Speaker::Member {
        id: caller.member.id.clone(),
        name: caller.member.name.clone(),
    };
    let r = content::comment(
        caller.cx(&state),
        &id,
        &NewComment {
            who,
            body: b.body,
            for_client: b.for_client,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// `approve` or `request_changes`.
    #[schema(schema_with = crate::api::openapi::decision)]
    pub decision: String,
    /// Required with `request_changes` (422 without it).
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::note_or_empty)]
    pub comment: Option<String>,
    /// For `request_changes`: `major` or `minor` (default) revision.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::revision)]
    pub revision: Option<String>,
}

#[utoipa::path(post, operation_id = "decideContent", path = "/content/{id}/decisions", tag = "content",
    params(("id" = String, Path)), request_body = DecisionIn,
    responses((status = 200, body = ContentOut), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<DecisionIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let decision = Decision::parse(&b.decision)
        .ok_or_else(|| ApiError::invalid("decision", "use approve or request_changes"))?;
    let revision = match b.revision.as_deref() {
        None | Some("") => None,
        Some(r) => Some(
            RevisionSize::parse(r)
                .ok_or_else(|| ApiError::invalid("revision", "use major or minor"))?,
        ),
    };
    let who = Speaker::Member {
        id: caller.member.id.clone(),
        name: caller.member.name.clone(),
    };
    content::decide(
        caller.cx(&state),
        &id,
        &NewDecision {
            who,
            decision,
            comment: b.comment,
            revision,
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

/// A round's revision, re-sized.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionSizeIn {
    /// `major` (counts as rework) or `minor`.
    #[schema(schema_with = crate::api::openapi::revision_size)]
    pub revision: String,
    /// Why: on the item's timeline (1–10,000 characters).
    #[schema(schema_with = crate::api::openapi::required_note)]
    pub reason: String,
}

/// Re-sizes a decided round's revision after the fact (a client's "small
/// changes" that were really a rework, or the reverse). Only the client's
/// account lead or an admin (403); only a round that asked for changes (409).
#[utoipa::path(post, operation_id = "resizeContentRevision", path = "/content/{id}/rounds/{round}/revision", tag = "content",
    params(("id" = String, Path), ("round" = String, Path, description = "The round's number (1, 2, …)")),
    request_body = RevisionSizeIn,
    responses((status = 200, body = ContentOut), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn resize_revision(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, round)): ApiPath<(ContentId, String)>,
    ApiJson(b): ApiJson<RevisionSizeIn>,
) -> ApiResult<Json<ContentOut>> {
    use baton_core::policy::{Action, Subject};
    caller.require(Scope::Write)?;
    let round: i64 = round.parse().map_err(|_| ApiError::NotFound)?;
    let item = content::get(&state.db, caller.agency_id(), &id).await?;
    let principal = caller
        .principal_on_client(&state.db, &item.client_id)
        .await?;
    caller.can(
        &principal,
        Action::ResizeRevision,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    )?;
    let size = RevisionSize::parse(&b.revision)
        .ok_or_else(|| ApiError::invalid("revision", "use major or minor"))?;
    content::resize_revision(caller.cx(&state), &id, round, size, &b.reason).await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[utoipa::path(get, operation_id = "getContentQa", path = "/content/{id}/qa", tag = "content",
    params(("id" = String, Path)), responses((status = 200, body = QaOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_qa(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<QaOut>> {
    caller.require(Scope::Read)?;
    let item = content::get(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(qa_out(&item)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaIn {
    /// `{"links_checked": true}` ticks an item, `false` unticks it. At
    /// least one; each a key of the item's QA checklist (422 otherwise).
    #[schema(schema_with = crate::api::openapi::item_toggles)]
    pub items: BTreeMap<String, bool>,
}

#[utoipa::path(put, operation_id = "putContentQa", path = "/content/{id}/qa", tag = "content",
    params(("id" = String, Path)), request_body = QaIn,
    responses((status = 200, body = QaOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn put_qa(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<QaIn>,
) -> ApiResult<Json<QaOut>> {
    caller.require(Scope::Write)?;
    let item = content::set_qa(caller.cx(&state), &id, &b.items).await?;
    Ok(Json(qa_out(&item)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// When it goes live (RFC 3339, offset within ±18:00): not in the past
    /// and within five years (422 otherwise).
    #[schema(schema_with = crate::api::openapi::time)]
    pub publish_at: String,
    /// Schedule without finished QA: the reason is recorded as an incident risk.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::note_or_empty)]
    pub waive_qa_reason: Option<String>,
}

#[utoipa::path(post, operation_id = "scheduleContent", path = "/content/{id}/schedule", tag = "content",
    params(("id" = String, Path)), request_body = ScheduleIn,
    responses((status = 200, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ScheduleIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let at = parse_rfc3339(&b.publish_at)
        .ok_or_else(|| ApiError::invalid("publish_at", "must be an RFC 3339 time"))?;
    let now = state.now();
    if at < now - 5 * 60_000 {
        return Err(ApiError::invalid("publish_at", "must not be in the past"));
    }
    if at > now + 5 * 366 * 86_400_000 {
        return Err(ApiError::invalid("publish_at", "must be within five years"));
    }
    content::schedule(caller.cx(&state), &id, at, b.waive_qa_reason.as_deref()).await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

/// The day an item is planned to go out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentPlanIn {
    /// `YYYY-MM-DD` (agency time), or null to clear the plan.
    #[schema(schema_with = crate::api::openapi::date_or_null)]
    pub planned_on: Option<String>,
    /// Why it moved (kept on the timeline).
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::note_or_empty)]
    pub reason: Option<String>,
}

/// Plans or moves the day an item goes out: `content.replanned` records
/// the move (from, to, reason) for the on-time KPI and the timeline.
#[utoipa::path(post, operation_id = "planContent", path = "/content/{id}/plan", tag = "content",
    params(("id" = String, Path)), request_body = ContentPlanIn,
    responses((status = 200, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn plan(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ContentPlanIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::plan(
        caller.cx(&state),
        &id,
        b.planned_on.as_deref(),
        b.reason.as_deref(),
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalLinkIn {
    /// 1–90 days (default 14).
    #[schema(schema_with = crate::api::openapi::approval_link_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalLinkOut {
    /// Send it to the client; shown once (only its hash is stored). A new
    /// link revokes the previous one.
    pub url: String,
    pub expires_at: String,
}

#[utoipa::path(post, operation_id = "createContentApprovalLink", path = "/content/{id}/approval-link", tag = "content",
    params(("id" = String, Path)), request_body(content = Option<ApprovalLinkIn>, description = "May be left out"),
    responses((status = 201, body = ApprovalLinkOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn approval_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    crate::extract::OptionalJson(body): crate::extract::OptionalJson<ApprovalLinkIn>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Scope::Write)?;
    let days = body.expires_in_days.unwrap_or(14);
    let created = baton_store::approval_links::create(caller.cx(&state), &id, days).await?;
    let out = ApprovalLinkOut {
        url: state.config.approval_url(&created.token),
        expires_at: rfc3339(created.expires_at),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut()
        .insert(crate::api::idempotency::SecretInBody);
    Ok(resp)
}

/// An item waiting for the caller in its open review round.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingOut {
    /// `cnt_…`
    pub id: String,
    pub title: String,
    pub client_id: String,
    pub client_name: String,
    pub channel: String,
    pub round: i64,
    pub version: i64,
    /// When the round opened.
    pub submitted_at: Option<String>,
    /// `decision` (you approve and have not decided this round) or `review`
    /// (you review and have not commented this round).
    pub waiting_for: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingListOut {
    /// Longest waiting first, at most 100.
    pub items: Vec<WaitingOut>,
}

/// Most items "waiting for me" lists.
pub const WAITING_CAP: i64 = 100;

/// Content in review waiting for the caller: items whose open round has
/// them as an approver who has not decided, or as a reviewer who has not
/// commented.
#[utoipa::path(get, operation_id = "myContentWaiting", path = "/me/content-waiting", tag = "content",
    responses((status = 200, body = WaitingListOut)), security(("bearer" = [])))]
pub async fn waiting(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<WaitingListOut>> {
    caller.require(Scope::Read)?;
    let list = content::waiting_for(
        &state.db,
        caller.agency_id(),
        &caller.member.id,
        WAITING_CAP,
    )
    .await?;
    Ok(Json(WaitingListOut {
        items: list
            .into_iter()
            .map(|(i, why)| WaitingOut {
                waiting_for: match why {
                    WaitingFor::Decision => "decision",
                    WaitingFor::Review => "review",
                }
                .into(),
                submitted_at: i.submitted_at.map(rfc3339),
                id: i.id.into(),
                title: i.title,
                client_id: i.client_id,
                client_name: i.client_name,
                channel: i.channel,
                round: i.round,
                version: i.current_version,
            })
            .collect(),
    }))
}
