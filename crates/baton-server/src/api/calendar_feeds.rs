//! `POST /api/v1/clients/{id}/calendar-feed` and `POST /api/v1/me/calendar-feed`:
//! a secret iCalendar URL of the content calendar (one client's, or the
//! caller's), shown once; a new one revokes the previous. `DELETE` on the
//! same paths revokes the current one (204, also when there was none).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::types::ClientId;
use baton_store::calendar_feeds::{self, FeedScope};
use baton_store::tokens::Scope;
use serde::Serialize;
use utoipa::ToSchema;

use super::idempotency::SecretInBody;
use crate::auth::api_token::ApiCaller;
use crate::error::ApiResult;
use crate::extract::ApiPath;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedOut {
    /// Subscribe to it in a calendar app; shown once. Anyone with the URL
    /// sees the calendar, so treat it like a password.
    pub url: String,
}

async fn create(state: &AppState, caller: &ApiCaller, scope: FeedScope) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let token = calendar_feeds::create(caller.cx(state), &scope).await?;
    let out = FeedOut {
        url: state.config.feed_url(&token),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut().insert(SecretInBody);
    Ok(resp)
}

#[utoipa::path(post, operation_id = "createClientCalendarFeed", path = "/clients/{id}/calendar-feed", tag = "content",
    params(("id" = String, Path)),
    responses((status = 201, body = FeedOut), (status = 404)), security(("bearer" = [])))]
pub async fn for_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
) -> ApiResult<Response> {
    create(&state, &caller, FeedScope::Client(client.into_string())).await
}

#[utoipa::path(post, operation_id = "createMyCalendarFeed", path = "/me/calendar-feed", tag = "content",
    responses((status = 201, body = FeedOut)), security(("bearer" = [])))]
pub async fn for_me(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Response> {
    let me = caller.member.id.clone();
    create(&state, &caller, FeedScope::Member(me)).await
}

async fn revoke(state: &AppState, caller: &ApiCaller, scope: FeedScope) -> ApiResult<StatusCode> {
    caller.require(Scope::Write)?;
    calendar_feeds::revoke(caller.cx(state), &scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the client's calendar feed URL: calendar apps get a 404 from it
/// from now on. Nothing to revoke is a 204 too (and records nothing).
#[utoipa::path(delete, operation_id = "revokeClientCalendarFeed", path = "/clients/{id}/calendar-feed", tag = "content",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_for_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
) -> ApiResult<StatusCode> {
    revoke(&state, &caller, FeedScope::Client(client.into_string())).await
}

/// Revokes the caller's own calendar feed URL.
#[utoipa::path(delete, operation_id = "revokeMyCalendarFeed", path = "/me/calendar-feed", tag = "content",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn revoke_for_me(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<StatusCode> {
    let me = caller.member.id.clone();
    revoke(&state, &caller, FeedScope::Member(me)).await
}
