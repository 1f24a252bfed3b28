//! `/api/v1/members`: the agency's team. Adding members is for admins; a new
//! member gets a one-time invite link to set their password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::types::MemberId;
use baton_store::members::{self, MemberInput, MemberPatch};
use baton_store::{invites, tokens::Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{MemberOut, PageOut};
use crate::auth::api_token::ApiCaller;
use crate::error::ApiResult;
use crate::extract::{id_cursor, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// Role keys: account_lead, strategist, project_manager, creative_lead,
    /// copywriter, designer, community_manager, paid_social, analyst, ops.
    #[serde(default)]
    #[schema(schema_with = super::openapi::roles)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub is_admin: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedMember {
    #[serde(flatten)]
    pub member: MemberOut,
    /// One-time link for the member to set a password (valid 7 days).
    pub invite_url: String,
}

#[utoipa::path(post, operation_id = "createMember", path = "/members", tag = "members", request_body = CreateMember,
    responses((status = 201, body = CreatedMember), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateMember>,
) -> ApiResult<(StatusCode, Json<CreatedMember>)> {
    caller.require(Scope::Admin)?;
    let (m, token) = invites::create_member_with_invite(
        caller.cx(&state),
        MemberInput {
            email: body.email,
            name: body.name,
            roles: body.roles,
            is_admin: body.is_admin,
            password_hash: None,
        },
    )
    .await?;
    let invite_url = state.config.invite_url(&token);
    Ok((
        StatusCode::CREATED,
        Json(CreatedMember {
            member: m.into(),
            invite_url,
        }),
    ))
}

/// `?limit=&cursor=` of the member list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberPage {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::member_cursor)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, operation_id = "listMembers", path = "/members", tag = "members", params(MemberPage),
    responses((status = 200, body = PageOut<MemberOut>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<MemberPage>,
) -> ApiResult<Json<PageOut<MemberOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::MEMBER)?;
    let page = members::list(&state.db, caller.agency_id(), cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, MemberOut::from)))
}

#[utoipa::path(get, operation_id = "getMember", path = "/members/{id}", tag = "members", params(("id" = String, Path)),
    responses((status = 200, body = MemberOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<MemberId>,
) -> ApiResult<Json<MemberOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        members::get(&state.db, caller.agency_id(), &id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    #[schema(schema_with = super::openapi::name_text_or_null)]
    pub name: Option<String>,
    #[schema(schema_with = super::openapi::roles_or_null)]
    pub roles: Option<Vec<String>>,
    pub is_admin: Option<bool>,
    /// False deactivates: sessions end, tokens are revoked.
    pub active: Option<bool>,
}

#[utoipa::path(patch, operation_id = "updateMember", path = "/members/{id}", tag = "members", params(("id" = String, Path)),
    request_body = UpdateMember, responses((status = 200, body = MemberOut), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<MemberId>,
    ApiJson(body): ApiJson<UpdateMember>,
) -> ApiResult<Json<MemberOut>> {
    caller.require(Scope::Admin)?;
    let m = members::update(
        caller.cx(&state),
        &id,
        MemberPatch {
            name: body.name,
            roles: body.roles,
            is_admin: body.is_admin,
            active: body.active,
        },
    )
    .await?;
    Ok(Json(m.into()))
}

#[utoipa::path(get, operation_id = "getMe", path = "/me", tag = "members",
    responses((status = 200, body = MemberOut)), security(("bearer" = [])))]
pub async fn me(caller: ApiCaller) -> ApiResult<Json<MemberOut>> {
    Ok(Json(caller.member.into()))
}
