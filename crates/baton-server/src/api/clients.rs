//! `/api/v1/clients`: create, list, read, update, team, timeline events, archive.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::clock::parse_rfc3339;
use baton_core::lifecycle::{ClientEventType, Lifecycle};
use baton_core::policy::{Action, Subject};
use baton_core::types::ClientId;
use baton_store::clients::{self, ClientPatch, NewClient};
use baton_store::tokens::Scope;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::dto::{ClientOut, EventOut, PageOut, TeamSeatOut};
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// An http(s) URL; empty or left out for none.
    #[schema(schema_with = super::openapi::optional_url)]
    pub website: Option<String>,
    #[schema(schema_with = super::openapi::optional_note_text)]
    pub notes: Option<String>,
    /// Member id of the traffic-control owner: a member of this agency (422
    /// otherwise).
    pub traffic_control: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListClients {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::client_cursor)]
    pub cursor: Option<String>,
    /// Only clients in this lifecycle stage.
    #[param(schema_with = super::openapi::lifecycle_filter)]
    pub lifecycle: Option<String>,
}

#[utoipa::path(post, operation_id = "createClient", path = "/clients", tag = "clients", request_body = CreateClient,
    responses((status = 201, body = ClientOut), (status = 422, description = "invalid input")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateClient>,
) -> ApiResult<(StatusCode, Json<ClientOut>)> {
    caller.require(Scope::Write)?;
    let c = clients::create(
        caller.cx(&state),
        NewClient {
            name: body.name,
            website: body.website,
            notes: body.notes,
            traffic_control_member_id: body.traffic_control,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ClientOut::new(c, Some(vec![])))))
}

#[utoipa::path(get, operation_id = "listClients", path = "/clients", tag = "clients", params(ListClients),
    responses((status = 200, body = PageOut<ClientOut>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ListClients>,
) -> ApiResult<Json<PageOut<ClientOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let lifecycle = match q.lifecycle.as_deref() {
        None | Some("") => None,
        Some(l) => Some(Lifecycle::parse(l).ok_or_else(|| {
            ApiError::invalid(
                "lifecycle",
                "must be one of won, onboarding, active, offboarding, archived",
            )
        })?),
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::CLIENT)?;
    let page = clients::list(&state.db, caller.agency_id(), lifecycle, cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, |c| ClientOut::new(c, None))))
}

#[utoipa::path(get, operation_id = "getClient", path = "/clients/{id}", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = ClientOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientOut>> {
    caller.require(Scope::Read)?;
    let c = clients::get(&state.db, caller.agency_id(), &id).await?;
    let team = clients::team(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(ClientOut::new(c, Some(team))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    #[schema(schema_with = super::openapi::name_text_or_null)]
    pub name: Option<String>,
    /// An http(s) URL; empty string clears it.
    #[schema(schema_with = super::openapi::optional_url)]
    pub website: Option<String>,
    /// Empty string clears them.
    #[schema(schema_with = super::openapi::optional_note_text)]
    pub notes: Option<String>,
}

#[utoipa::path(patch, operation_id = "updateClient", path = "/clients/{id}", tag = "clients", params(("id" = String, Path)),
    request_body = UpdateClient, responses((status = 200, body = ClientOut), (status = 404),
        (status = 409, description = "the client is archived"), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(body): ApiJson<UpdateClient>,
) -> ApiResult<Json<ClientOut>> {
    caller.require(Scope::Write)?;
    let c = clients::update(
        caller.cx(&state),
        &id,
        ClientPatch {
            name: body.name,
            website: body.website,
            notes: body.notes,
        },
    )
    .await?;
    let team = clients::team(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(ClientOut::new(c, Some(team))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamSeatIn {
    /// A role key such as `project_manager`.
    #[schema(schema_with = super::openapi::role)]
    pub role: String,
    /// A member of this agency (422 otherwise).
    pub member_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTeam {
    /// Role → member; one member per role (a role listed twice is a 422).
    pub members: Vec<TeamSeatIn>,
    /// The one member who owns traffic control (usually the PM); a member of
    /// this agency (422 otherwise).
    pub traffic_control: String,
}

#[utoipa::path(put, operation_id = "setClientTeam", path = "/clients/{id}/team", tag = "clients", params(("id" = String, Path)),
    request_body = SetTeam, responses((status = 200, body = Vec<TeamSeatOut>), (status = 404),
        (status = 409, description = "the client is archived"), (status = 422)),
    security(("bearer" = [])))]
pub async fn set_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(body): ApiJson<SetTeam>,
) -> ApiResult<Json<Vec<TeamSeatOut>>> {
    caller.require(Scope::Write)?;
    let seats: Vec<(String, String)> = body
        .members
        .into_iter()
        .map(|s| (s.role, s.member_id))
        .collect();
    let team = clients::set_team(caller.cx(&state), &id, &seats, &body.traffic_control).await?;
    Ok(Json(team.into_iter().map(TeamSeatOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostEvent {
    /// `contract_signed`, `kickoff_scheduled`, `onboarding_completed`,
    /// `contract_ended`, `archived`, `note`, or `reopened`: an admin's
    /// correction of the client's last lifecycle move (the client returns to
    /// the stage that move left; the requests it withdrew and the runs it
    /// cancelled come back).
    #[serde(rename = "type")]
    #[schema(schema_with = super::openapi::client_event_type)]
    pub event_type: String,
    /// RFC 3339 (offset within ±18:00); back-dates the event (imports):
    /// after 2000-01-01 and not in the future (422). Defaults to now. Not for `reopened` (a correction is recorded when it
    /// is made; 422).
    #[schema(schema_with = super::openapi::time_or_null)]
    pub occurred_at: Option<String>,
    /// Required for `note`, and for `reopened` (why the move is corrected);
    /// 422 without it.
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub note: Option<String>,
}

#[utoipa::path(post, operation_id = "postClientEvent", path = "/clients/{id}/events", tag = "events", params(("id" = String, Path)),
    request_body = PostEvent,
    responses((status = 201, body = EventOut), (status = 404), (status = 409, description = "impossible lifecycle move"), (status = 422)),
    security(("bearer" = [])))]
pub async fn post_event(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(body): ApiJson<PostEvent>,
) -> ApiResult<(StatusCode, Json<EventOut>)> {
    caller.require(Scope::Write)?;
    let result = match parse_event(&body) {
        Ok((ClientEventType::Reopened, occurred_at)) => {
            caller.can(
                &caller.principal(),
                Action::CorrectLifecycle,
                Subject::Client { client_id: &id },
            )?;
            if occurred_at.is_some() {
                return Err(ApiError::invalid(
                    "occurred_at",
                    "a correction is recorded when it is made; leave occurred_at out",
                ));
            }
            clients::reopen(
                caller.cx(&state),
                &id,
                body.note.as_deref().unwrap_or(""),
                state.mailer.is_some(),
            )
            .await
            .map_err(ApiError::from)
        }
        Ok((event_type, occurred_at)) => clients::record_event(
            caller.cx(&state),
            &id,
            event_type,
            occurred_at,
            body.note.as_deref(),
        )
        .await
        .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => Ok((StatusCode::CREATED, Json(e.into()))),
        // An unknown id answers 404 even when the body is bad too; the
        // existence check runs only on this error path, not on every write.
        Err(invalid @ ApiError::Invalid { .. }) => {
            clients::get(&state.db, caller.agency_id(), &id).await?;
            Err(invalid)
        }
        Err(e) => Err(e),
    }
}

fn parse_event(body: &PostEvent) -> ApiResult<(ClientEventType, Option<i64>)> {
    let event_type = ClientEventType::parse(body.event_type.trim()).ok_or_else(|| {
        ApiError::invalid(
            "type",
            format!(
                "unknown event type {:?}; expected one of {}",
                body.event_type,
                ClientEventType::ALL.map(|t| t.key()).join(", ")
            ),
        )
    })?;
    let occurred_at = match body.occurred_at.as_deref() {
        None => None,
        Some(s) => Some(parse_rfc3339(s).ok_or_else(|| {
            ApiError::invalid(
                "occurred_at",
                "must be an RFC 3339 time such as 2026-11-02T09:30:00Z",
            )
        })?),
    };
    Ok((event_type, occurred_at))
}

#[utoipa::path(post, operation_id = "archiveClient", path = "/clients/{id}/archive", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = ClientOut), (status = 404), (status = 409, description = "client is not in offboarding")),
    security(("bearer" = [])))]
pub async fn archive(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientOut>> {
    caller.require(Scope::Write)?;
    clients::get(&state.db, caller.agency_id(), &id).await?;
    clients::record_event(
        caller.cx(&state),
        &id,
        ClientEventType::Archived,
        None,
        None,
    )
    .await?;
    let c = clients::get(&state.db, caller.agency_id(), &id).await?;
    let team = clients::team(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(ClientOut::new(c, Some(team))))
}
