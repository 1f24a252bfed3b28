//! `/api/v1/agency`: the calling member's agency and its settings; and
//! `/api/v1/audit`, the agency's audit log (admins).

use axum::extract::State;
use axum::Json;
use baton_store::agencies::{self, AgencyPatch};
use baton_store::audit;
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{AgencyOut, PageOut};
use crate::auth::api_token::ApiCaller;
use crate::custom_domains::{self, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, PageQuery};
use crate::state::AppState;

#[utoipa::path(get, operation_id = "getAgency", path = "/agency", tag = "agency",
    responses((status = 200, body = AgencyOut)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Json<AgencyOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        agencies::get(&state.db, caller.agency_id()).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgency {
    #[schema(schema_with = super::openapi::name_text_or_null)]
    pub name: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`; a name the time zone database
    /// does not know is a 422.
    #[schema(schema_with = super::openapi::timezone_or_null)]
    pub timezone: Option<String>,
    /// `#rrggbb`
    #[schema(schema_with = super::openapi::color_or_null)]
    pub brand_color: Option<String>,
    /// `#rrggbb`
    #[schema(schema_with = super::openapi::color_or_null)]
    pub accent_color: Option<String>,
    /// http(s) URL; empty string removes the logo.
    #[schema(schema_with = super::openapi::optional_url)]
    pub logo_url: Option<String>,
    /// Hide Baton's name on client-facing pages.
    pub white_label: Option<bool>,
    /// Host name serving this agency's client links; empty string removes it.
    /// A new domain is `pending` until its DNS TXT record is in place (see
    /// `custom_domain_txt_name` and `custom_domain_txt_value` of the
    /// answer, and `POST /api/v1/agency/custom-domain/verify`); the same
    /// domain again changes nothing.
    /// This Baton's own host name (and names under it) is refused (422).
    #[schema(schema_with = super::openapi::custom_domain)]
    pub custom_domain: Option<String>,
}

#[utoipa::path(patch, operation_id = "updateAgency", path = "/agency", tag = "agency", request_body = UpdateAgency,
    responses((status = 200, body = AgencyOut), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<UpdateAgency>,
) -> ApiResult<Json<AgencyOut>> {
    caller.require(Scope::Admin)?;
    if let Some(why) = b
        .custom_domain
        .as_deref()
        .and_then(|d| state.config.custom_domain_refusal(d))
    {
        return Err(ApiError::invalid("custom_domain", why));
    }
    let a = agencies::update(
        caller.cx(&state),
        AgencyPatch {
            name: b.name,
            timezone: b.timezone,
            brand_color: b.brand_color,
            accent_color: b.accent_color,
            logo_url: b.logo_url,
            white_label: b.white_label,
            custom_domain: b.custom_domain,
        },
    )
    .await?;
    Ok(Json(a.into()))
}

/// Checks the agency's pending custom domain now: Baton looks up the TXT
/// records of `_baton-challenge.{custom_domain}` and verifies the domain when
/// one holds `custom_domain_txt_value`. A verified domain is answered as it
/// is, without a lookup.
#[utoipa::path(post, operation_id = "verifyCustomDomain", path = "/agency/custom-domain/verify", tag = "agency",
    responses(
        (status = 200, description = "The domain is verified (now or earlier): Baton routes it and uses it in links", body = AgencyOut),
        (status = 403),
        (status = 409, description = "No custom domain is set, or it changed while it was being checked"),
        (status = 422, description = "Not verified: the detail names the record looked up, the value expected and what was found"),
    ),
    security(("bearer" = [])))]
pub async fn verify_custom_domain(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<AgencyOut>> {
    caller.require(Scope::Admin)?;
    match custom_domains::check_now(&state, caller.agency_id(), &caller.actor).await? {
        Outcome::Verified(a) | Outcome::AlreadyVerified(a) => Ok(Json(a.into())),
        Outcome::NoDomain => Err(ApiError::Conflict(
            "no custom domain is set: set one with PATCH /api/v1/agency first".into(),
        )),
        Outcome::Changed(_) => Err(ApiError::Conflict(
            "the custom domain changed while it was being checked; read the agency and check again"
                .into(),
        )),
        Outcome::NotYet {
            record,
            expected,
            found,
        } => Err(ApiError::invalid(
            "custom_domain",
            format!(
                "not verified yet: Baton looked up the TXT records of {record} and found {found}; \
                 add a TXT record named {record} with the value {expected} (DNS changes can take a while to show)"
            ),
        )),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub seq: i64,
    pub recorded_at: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub ip: String,
    pub user_agent: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub hash: String,
}

#[utoipa::path(get, operation_id = "listAuditEntries", path = "/audit", tag = "agency", params(PageQuery),
    responses((status = 200, body = PageOut<AuditEntryOut>), (status = 403)), security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<PageOut<AuditEntryOut>>> {
    caller.require(Scope::Admin)?;
    q.validate()?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let page = audit::list(&state.db, caller.agency_id(), cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, |e| AuditEntryOut {
        seq: e.seq,
        recorded_at: baton_core::clock::rfc3339(e.recorded_at),
        actor_kind: e.actor_kind,
        actor_id: e.actor_id,
        actor_label: e.actor_label,
        action: e.action,
        entity_type: e.entity_type,
        entity_id: e.entity_id,
        ip: e.ip,
        user_agent: e.user_agent,
        detail: e.detail,
        hash: e.hash,
    })))
}
