//! `/api/v1` for platform access: a client's requests, the board across
//! clients, verify / fail / grant / revoke / waive, the access still held,
//! the client's intake answers and files, and the time-to-verified-access KPIs.

use axum::extract::State;
use axum::Json;
use baton_core::access::{AccessStatus, Mover, WaitingOn};
use baton_core::clock::rfc3339;
use baton_core::types::{AccessRequestId, ClientId};
use baton_store::access_requests::{self, AccessRequest, Act, BoardFilter, BoardLine};
use baton_store::tokens::Scope;
use baton_store::{access_kpis, clients, intake};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, ApiJson, ApiPath, ApiQuery, OptionalJson, PageQuery};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRequestOut {
    /// `acc_…`
    pub id: String,
    pub client_id: String,
    pub link_id: Option<String>,
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub required: bool,
    /// `requested`, `granted_by_client`, `verified`, `failed` or `revoked`.
    pub status: String,
    /// When it entered its status: "waiting since".
    pub status_at: String,
    /// `client`, `agency` or null.
    pub waiting_on: Option<String>,
    pub created_at: String,
    pub granted_at: Option<String>,
    pub granted_by: Option<String>,
    pub verified_at: Option<String>,
    /// Who verified it: a member's name (a string), or for a connector
    /// `{"kind": "connector", "platform", "connection_id", "account"}`.
    #[schema(schema_with = verified_by_schema)]
    pub verified_by: Option<serde_json::Value>,
    /// `member` or `connector` (null while never verified).
    pub verified_by_kind: Option<String>,
    /// What the platform returned when a connector found the access.
    pub evidence: Option<EvidenceOut>,
    /// The last connector check, when one ran or is queued.
    pub check: Option<CheckOut>,
    /// When a connector found this held access gone (`access.lost`).
    pub lost_at: Option<String>,
    /// When a connector found this revoked access gone from the platform.
    pub revoke_confirmed_at: Option<String>,
    pub verify_note: Option<String>,
    pub failed_reason: Option<String>,
    /// The client's "I'm stuck" message, until the request moves on.
    pub stuck_message: Option<String>,
    pub stuck_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_note: Option<String>,
    pub waived_at: Option<String>,
    pub waived_by: Option<String>,
    pub waive_reason: Option<String>,
    /// Held and neither revoked nor waived: a line of the offboarding revoke checklist.
    pub needs_revoke: bool,
    /// `revoked` before the client ever granted it: withdrawn with its link
    /// (revoked or expired) or when the client left delivery.
    pub withdrawn: bool,
    pub connector: Option<String>,
}

impl From<AccessRequest> for AccessRequestOut {
    fn from(r: AccessRequest) -> Self {
        AccessRequestOut {
            waiting_on: r.waiting_on().map(|w| w.key().to_string()),
            needs_revoke: r.needs_revoke(),
            withdrawn: r.withdrawn(),
            id: r.id.into(),
            client_id: r.client_id,
            link_id: r.link_id,
            platform: r.platform,
            permission: r.permission,
            asset: r.asset,
            required: r.required,
            status: r.status.key().into(),
            status_at: rfc3339(r.status_at),
            created_at: rfc3339(r.created_at),
            granted_at: r.granted_at.map(rfc3339),
            granted_by: r.granted_by,
            verified_at: r.verified_at.map(rfc3339),
            verified_by: match (r.verified_by_kind.as_deref(), &r.verified_connection_id) {
                (Some("connector"), Some(connection_id)) => Some(serde_json::json!({
                    "kind": "connector",
                    "platform": r.connector.as_deref().unwrap_or(""),
                    "connection_id": connection_id,
                    "name": r.verified_by,
                })),
                _ => r.verified_by.map(serde_json::Value::String),
            },
            verified_by_kind: r.verified_by_kind,
            evidence: r.evidence.map(|e| EvidenceOut {
                role: e.role,
                asset: e.asset,
                asset_name: e.asset_name,
            }),
            check: (r.check_state.is_some() || r.next_check_at.is_some()).then(|| CheckOut {
                state: r.check_state.unwrap_or_else(|| "queued".into()),
                detail: r.check_detail,
                checked_at: r.checked_at.map(rfc3339),
                next_check_at: r.next_check_at.map(rfc3339),
            }),
            lost_at: r.lost_at.map(rfc3339),
            revoke_confirmed_at: r.revoke_confirmed_at.map(rfc3339),
            verify_note: r.verify_note,
            failed_reason: r.failed_reason,
            stuck_message: r.stuck_message,
            stuck_at: r.stuck_at.map(rfc3339),
            revoked_at: r.revoked_at.map(rfc3339),
            revoked_by: r.revoked_by,
            revoke_note: r.revoke_note,
            waived_at: r.waived_at.map(rfc3339),
            waived_by: r.waived_by,
            waive_reason: r.waive_reason,
            connector: r.connector,
        }
    }
}

/// What a platform returned that proves the access.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    /// The platform's word for the role (`EDITOR`, `MANAGE`, `ADMINISTRATOR`).
    pub role: String,
    /// The asset's id on the platform (`properties/123`, `act_456`).
    pub asset: String,
    pub asset_name: Option<String>,
}

/// A request's connector check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    /// `queued`, `verified`, `pending` (waiting on the client), `missing`
    /// (the platform does not list it) or `could_not_check` (an outage,
    /// rate limit or expired connection: nothing concluded, retried).
    pub state: String,
    /// The check's words (the platform's, for `missing`).
    pub detail: Option<String>,
    pub checked_at: Option<String>,
    /// When a connector checks next (a retry or the daily re-check).
    pub next_check_at: Option<String>,
}

fn verified_by_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("the member who verified it")),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "the connector that verified it: kind, platform, connection_id, name",
                )),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build();
    Schema::OneOf(one_of)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRequestList {
    pub items: Vec<AccessRequestOut>,
}

#[utoipa::path(get, operation_id = "listClientAccessRequests", path = "/clients/{id}/access-requests", tag = "access",
    params(("id" = String, Path)), responses((status = 200, body = AccessRequestList), (status = 404)), security(("bearer" = [])))]
pub async fn list_for_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<AccessRequestList>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let items = access_requests::list_for_client(&state.db, caller.agency_id(), &client_id).await?;
    Ok(Json(AccessRequestList {
        items: items.into_iter().map(AccessRequestOut::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoardLineOut {
    #[serde(flatten)]
    pub request: AccessRequestOut,
    pub client_name: String,
    pub client_lifecycle: String,
}

impl From<BoardLine> for BoardLineOut {
    fn from(l: BoardLine) -> Self {
        BoardLineOut {
            request: l.request.into(),
            client_name: l.client_name,
            client_lifecycle: l.client_lifecycle.key().into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::access_request_cursor)]
    pub cursor: Option<String>,
    /// `client` or `agency`.
    #[param(schema_with = super::openapi::waiting_on_filter)]
    pub waiting_on: Option<String>,
    /// One status (any of the five).
    #[param(schema_with = super::openapi::access_status_filter)]
    pub status: Option<String>,
}

#[utoipa::path(get, operation_id = "listAccessRequests", path = "/access-requests", tag = "access", params(BoardQuery),
    responses((status = 200, body = PageOut<BoardLineOut>), (status = 422)), security(("bearer" = [])))]
pub async fn board(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> ApiResult<Json<PageOut<BoardLineOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let waiting_on = match q.waiting_on.as_deref() {
        None | Some("") => None,
        Some(w) => Some(
            WaitingOn::parse(w)
                .ok_or_else(|| ApiError::invalid("waiting_on", "must be client or agency"))?,
        ),
    };
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(AccessStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "must be requested, granted_by_client, verified, failed or revoked",
            )
        })?),
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::ACCESS_REQUEST)?;
    let page = access_requests::board(
        &state.db,
        caller.agency_id(),
        BoardFilter { waiting_on, status },
        cursor,
        q.limit,
    )
    .await?;
    Ok(Json(PageOut::map(page, BoardLineOut::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldList {
    /// Access the agency may still hold (verified, or granted and unchecked), not waived.
    pub items: Vec<BoardLineOut>,
}

#[utoipa::path(get, operation_id = "listHeldAccess", path = "/access-inventory", tag = "access",
    responses((status = 200, body = HeldList)), security(("bearer" = [])))]
pub async fn held(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Json<HeldList>> {
    caller.require(Scope::Read)?;
    let items = access_requests::held(&state.db, caller.agency_id()).await?;
    Ok(Json(HeldList {
        items: items.into_iter().map(BoardLineOut::from).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getAccessRequest", path = "/access-requests/{id}", tag = "access",
    params(("id" = String, Path)), responses((status = 200, body = AccessRequestOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        access_requests::get(&state.db, caller.agency_id(), &id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// What was checked ("logged in as the agency, page listed with full control").
    #[schema(schema_with = super::openapi::required_note)]
    pub note: String,
    /// `member` (default) or `connector` (an automated check through the platform's API).
    #[serde(default)]
    #[schema(schema_with = super::openapi::mover)]
    pub by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailIn {
    /// Why it does not work; the client sees it on their link.
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
    #[serde(default)]
    #[schema(schema_with = super::openapi::mover)]
    pub by: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantIn {
    /// `member` (default: the client told us another way) or `connector`.
    #[serde(default)]
    #[schema(schema_with = super::openapi::mover)]
    pub by: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeIn {
    /// What was done (e.g. "removed the agency from Business Settings → Partners").
    #[serde(default)]
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub note: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::openapi::mover)]
    pub by: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaiveIn {
    /// Why this access is not revoked (e.g. "client removed the partner themselves").
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
}

fn mover(by: Option<&str>) -> ApiResult<Mover> {
    match by.map(str::trim) {
        None | Some("") | Some("member") => Ok(Mover::Member),
        Some("connector") => Ok(Mover::Connector),
        Some(_) => Err(ApiError::invalid("by", "must be member or connector")),
    }
}

async fn apply(
    state: &AppState,
    caller: &ApiCaller,
    id: &AccessRequestId,
    act: Act,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let r = access_requests::act(caller.cx(state), id, act).await?;
    Ok(Json(r.into()))
}

#[utoipa::path(post, operation_id = "checkAccessRequest", path = "/access-requests/{id}/check", tag = "access",
    params(("id" = String, Path)),
    responses((status = 200, body = AccessRequestOut, description = "checked through the platform's API: see `check` and `status`"),
        (status = 404), (status = 409, description = "no connector for the platform, or no active connection")),
    security(("bearer" = [])))]
pub async fn check(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let r =
        crate::connectors::checker::check(&state, &caller.member.agency_id, id.as_str()).await?;
    Ok(Json(r.into()))
}

#[utoipa::path(post, operation_id = "verifyAccessRequest", path = "/access-requests/{id}/verify", tag = "access",
    params(("id" = String, Path)), request_body = VerifyIn,
    responses((status = 200, body = AccessRequestOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
    ApiJson(b): ApiJson<VerifyIn>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let m = mover(b.by.as_deref())?;
    apply(
        &state,
        &caller,
        &id,
        Act::Verify {
            mover: m,
            note: b.note,
        },
    )
    .await
}

#[utoipa::path(post, operation_id = "failAccessRequest", path = "/access-requests/{id}/fail", tag = "access",
    params(("id" = String, Path)), request_body = FailIn,
    responses((status = 200, body = AccessRequestOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn fail(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
    ApiJson(b): ApiJson<FailIn>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let m = mover(b.by.as_deref())?;
    apply(
        &state,
        &caller,
        &id,
        Act::Fail {
            mover: m,
            reason: b.reason,
        },
    )
    .await
}

#[utoipa::path(post, operation_id = "grantAccessRequest", path = "/access-requests/{id}/grant", tag = "access",
    params(("id" = String, Path)), request_body(content = Option<GrantIn>, description = "May be left out"),
    responses((status = 200, body = AccessRequestOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
    OptionalJson(b): OptionalJson<GrantIn>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let m = mover(b.by.as_deref())?;
    apply(&state, &caller, &id, Act::Grant { mover: m }).await
}

#[utoipa::path(post, operation_id = "revokeAccessRequest", path = "/access-requests/{id}/revoke", tag = "access",
    params(("id" = String, Path)), request_body(content = Option<RevokeIn>, description = "May be left out"),
    responses((status = 200, body = AccessRequestOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
    OptionalJson(b): OptionalJson<RevokeIn>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    let m = mover(b.by.as_deref())?;
    apply(
        &state,
        &caller,
        &id,
        Act::Revoke {
            mover: m,
            note: b.note,
        },
    )
    .await
}

#[utoipa::path(post, operation_id = "waiveAccessRevoke", path = "/access-requests/{id}/waive", tag = "access",
    params(("id" = String, Path)), request_body = WaiveIn,
    responses((status = 200, body = AccessRequestOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn waive(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessRequestId>,
    ApiJson(b): ApiJson<WaiveIn>,
) -> ApiResult<Json<AccessRequestOut>> {
    caller.require(Scope::Write)?;
    apply(&state, &caller, &id, Act::Waive { reason: b.reason }).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientKpisOut {
    pub client_id: String,
    /// Contract signed → last required access request verified, in seconds;
    /// null until every required request is verified.
    pub time_to_verified_access_seconds: Option<i64>,
    /// The same counted in the agency's business hours (its calendar, or
    /// Monday–Friday 09:00–17:00 UTC by default); null with the other.
    pub time_to_verified_access_business_seconds: Option<i64>,
    pub contract_signed_at: Option<String>,
    pub access_complete_at: Option<String>,
    pub access_requests: i64,
    pub access_required: i64,
    pub access_verified: i64,
    pub access_waiting_on_client: i64,
    pub access_waiting_on_agency: i64,
    /// Of the verified requests, how many a connector verified through the platform's API.
    pub access_verified_by_connector: i64,
}

#[utoipa::path(get, operation_id = "getClientKpis", path = "/clients/{id}/kpis", tag = "access",
    params(("id" = String, Path)), responses((status = 200, body = ClientKpisOut), (status = 404)), security(("bearer" = [])))]
pub async fn client_kpis(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientKpisOut>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let k = access_kpis::client(&state.db, caller.agency_id(), &client_id).await?;
    let (calendar, _) = baton_store::calendars::get(&state.db, caller.agency_id()).await?;
    let business = match (k.contract_signed_at, k.access_complete_at) {
        (Some(a), Some(b)) => Some(calendar.business_between(a, b) / 1000),
        _ => None,
    };
    Ok(Json(ClientKpisOut {
        client_id: client_id.into_string(),
        time_to_verified_access_seconds: k.time_to_verified_access_ms.map(|ms| ms / 1000),
        time_to_verified_access_business_seconds: business,
        contract_signed_at: k.contract_signed_at.map(rfc3339),
        access_complete_at: k.access_complete_at.map(rfc3339),
        access_requests: k.requests,
        access_required: k.required,
        access_verified: k.verified,
        access_waiting_on_client: k.waiting_on_client,
        access_waiting_on_agency: k.waiting_on_agency,
        access_verified_by_connector: k.verified_by_connector,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// RFC 3339; default 90 days before `to`.
    #[param(schema_with = super::openapi::time_param)]
    pub from: Option<String>,
    /// RFC 3339; default now.
    #[param(schema_with = super::openapi::time_param)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyAccessKpiOut {
    pub from: String,
    pub to: String,
    /// Clients whose access became complete in the period.
    pub clients: usize,
    pub time_to_verified_access_median_seconds: Option<i64>,
    pub time_to_verified_access_p90_seconds: Option<i64>,
    /// Median and 90th percentile counted in the agency's business hours.
    pub time_to_verified_access_business_median_seconds: Option<i64>,
    pub time_to_verified_access_business_p90_seconds: Option<i64>,
    /// Clients with a signed contract still waiting for complete access.
    pub clients_waiting: i64,
    /// Requests first verified in the period by a connector (through the
    /// platform's API) and by a member (by hand).
    pub verified_by_connector: i64,
    pub verified_by_member: i64,
}

#[utoipa::path(get, operation_id = "getAgencyAccessKpis", path = "/kpis/access", tag = "access", params(PeriodQuery),
    responses((status = 200, body = AgencyAccessKpiOut), (status = 422)), security(("bearer" = [])))]
pub async fn agency_kpis(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<AgencyAccessKpiOut>> {
    caller.require(Scope::Read)?;
    let (from, to, until) =
        crate::extract::period(q.from.as_deref(), q.to.as_deref(), state.now())?;
    let k = access_kpis::agency(&state.db, caller.agency_id(), from, until).await?;
    Ok(Json(AgencyAccessKpiOut {
        from: rfc3339(k.from),
        to: rfc3339(to),
        clients: k.clients,
        time_to_verified_access_median_seconds: k.median_ms.map(|ms| ms / 1000),
        time_to_verified_access_p90_seconds: k.p90_ms.map(|ms| ms / 1000),
        time_to_verified_access_business_median_seconds: k.business_median_ms.map(|ms| ms / 1000),
        time_to_verified_access_business_p90_seconds: k.business_p90_ms.map(|ms| ms / 1000),
        clients_waiting: k.waiting_clients,
        verified_by_connector: k.verified_by_connector,
        verified_by_member: k.verified_by_member,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerOut {
    pub question_key: String,
    pub question: String,
    pub answer: String,
    pub answered_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    /// `fil_…`
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeOut {
    pub answers: Vec<AnswerOut>,
    pub files: Vec<FileOut>,
}

#[utoipa::path(get, operation_id = "getClientIntake", path = "/clients/{id}/intake", tag = "access",
    params(("id" = String, Path)), responses((status = 200, body = IntakeOut), (status = 404)), security(("bearer" = [])))]
pub async fn intake(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<IntakeOut>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let answers = intake::answers(&state.db, caller.agency_id(), &client_id).await?;
    let files = intake::files(&state.db, caller.agency_id(), &client_id).await?;
    Ok(Json(IntakeOut {
        answers: answers
            .into_iter()
            .map(|a| AnswerOut {
                question_key: a.question_key,
                question: a.question,
                answer: a.answer,
                answered_at: rfc3339(a.answered_at),
            })
            .collect(),
        files: files
            .into_iter()
            .map(|f| FileOut {
                id: f.id,
                name: f.name,
                content_type: f.content_type,
                size_bytes: f.size_bytes,
                sha256: f.sha256,
                uploaded_at: rfc3339(f.uploaded_at),
                uploaded_by: f.uploaded_by,
            })
            .collect(),
    }))
}
