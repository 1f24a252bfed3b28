//! `/api/v1/tokens`: a member's API tokens. A token can mint tokens of its own
//! scope or lower for the same member; admins see and revoke everyone's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::types::TokenId;
use baton_store::tokens::{self, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{PageOut, TokenOut};
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token is for ("Zapier", "reporting script").
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// `read`, `write` or `admin`; at most the calling token's scope.
    #[schema(schema_with = super::openapi::scope)]
    pub scope: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenOut,
    /// The secret, shown this once.
    pub token: String,
}

#[utoipa::path(post, operation_id = "createToken", path = "/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<Response> {
    let scope = Scope::parse(body.scope.trim())
        .ok_or_else(|| ApiError::invalid("scope", "must be read, write or admin"))?;
    caller.require(scope)?;
    let (t, secret) = tokens::create(caller.cx(&state), &caller.member, &body.name, scope).await?;
    let mut resp = (
        StatusCode::CREATED,
        Json(CreatedToken {
            info: t.into(),
            token: secret,
        }),
    )
        .into_response();
    resp.extensions_mut()
        .insert(super::idempotency::SecretInBody);
    Ok(resp)
}

#[utoipa::path(get, operation_id = "listTokens", path = "/tokens", tag = "tokens",
    responses((status = 200, body = PageOut<TokenOut>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<PageOut<TokenOut>>> {
    caller.require(Scope::Read)?;
    let only = if caller.require(Scope::Admin).is_ok() {
        None
    } else {
        Some(caller.member.id.as_str())
    };
    let items = tokens::list(&state.db, caller.agency_id(), only).await?;
    Ok(Json(PageOut {
        items: items.into_iter().map(TokenOut::from).collect(),
        next_cursor: None,
    }))
}

#[utoipa::path(delete, operation_id = "revokeToken", path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = TokenOut), (status = 404)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<Json<TokenOut>> {
    caller.require(Scope::Write)?;
    let t = tokens::get(&state.db, caller.agency_id(), &id).await?;
    if t.member_id != caller.member.id && caller.require(Scope::Admin).is_err() {
        // Someone else's token is as invisible as another agency's.
        return Err(ApiError::NotFound);
    }
    let t = tokens::revoke(caller.cx(&state), &id).await?;
    Ok(Json(t.into()))
}
