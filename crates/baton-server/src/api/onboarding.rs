//! `/api/v1` for onboarding: the platform catalog, the agency's onboarding
//! settings, access templates and onboarding links. A link's URL (with its
//! token) is in the response that creates or regenerates it and nowhere else.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::onboarding::OnboardingSettings;
use baton_core::platforms::Platform;
use baton_core::types::{AccessTemplateId, ClientId, LinkId};
use baton_store::access_requests::NewRequest;
use baton_store::onboarding_links::{self, Link};
use baton_store::tokens::Scope;
use baton_store::{access_templates, onboarding_settings, platforms};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::AccessRequestOut;
use super::idempotency::SecretInBody;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, OptionalJson};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionOut {
    pub key: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingFieldOut {
    pub key: String,
    pub label: String,
    pub help: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformOut {
    /// `meta_page`, `google_ads`, `ga4`, …
    pub key: String,
    pub name: String,
    pub vendor: String,
    /// What a request's `asset` names on this platform.
    pub asset_label: String,
    /// Permission levels, least privilege first.
    pub permissions: Vec<PermissionOut>,
    pub default_permission: String,
    /// Values the agency supplies once in its onboarding settings.
    pub settings: Vec<SettingFieldOut>,
    /// Client instructions with `{placeholders}` (filled in on the client's page).
    pub instructions: Vec<String>,
    pub mistakes: Vec<String>,
    /// What a member checks before marking a request verified.
    pub verify: Vec<String>,
    /// Added by the agency (not shipped with Baton).
    pub custom: bool,
}

impl From<Platform> for PlatformOut {
    fn from(p: Platform) -> Self {
        PlatformOut {
            key: p.key,
            name: p.name,
            vendor: p.vendor,
            asset_label: p.asset_label,
            permissions: p
                .permissions
                .into_iter()
                .map(|x| PermissionOut {
                    key: x.key,
                    name: x.name,
                    description: x.description,
                })
                .collect(),
            default_permission: p.default_permission,
            settings: p
                .settings
                .into_iter()
                .map(|s| SettingFieldOut {
                    key: s.key,
                    label: s.label,
                    help: s.help,
                })
                .collect(),
            instructions: p.instructions,
            mistakes: p.mistakes,
            verify: p.verify,
            custom: p.custom,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformList {
    pub items: Vec<PlatformOut>,
}

#[utoipa::path(get, operation_id = "listPlatforms", path = "/platforms", tag = "onboarding",
    responses((status = 200, body = PlatformList)), security(("bearer" = [])))]
pub async fn list_platforms(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<PlatformList>> {
    caller.require(Scope::Read)?;
    let all = platforms::catalog(&state.db, caller.agency_id()).await?;
    Ok(Json(PlatformList {
        items: all.into_iter().map(PlatformOut::from).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getPlatform", path = "/platforms/{key}", tag = "onboarding",
    params(("key" = String, Path)), responses((status = 200, body = PlatformOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_platform(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> ApiResult<Json<PlatformOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        platforms::get(&state.db, caller.agency_id(), &key)
            .await?
            .into(),
    ))
}

/// An agency-added platform (same shape as the shipped catalog).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlatformIn {
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    pub asset_label: String,
    /// Least privilege first: `[{"key","name","description"?}]`.
    #[schema(value_type = Vec<Object>)]
    pub permissions: Vec<baton_core::platforms::Permission>,
    pub default_permission: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub settings: Vec<baton_core::platforms::SettingField>,
    pub instructions: Vec<String>,
    #[serde(default)]
    pub mistakes: Vec<String>,
    #[serde(default)]
    pub verify: Vec<String>,
}

#[utoipa::path(put, operation_id = "putPlatform", path = "/platforms/{key}", tag = "onboarding",
    params(("key" = String, Path, pattern = r"^[a-z][a-z0-9_]{1,39}$",
        description = "2–40 of `[a-z0-9_]`, a letter first; not the key of a platform shipped with Baton (422)")),
    request_body = PlatformIn,
    responses((status = 200, body = PlatformOut), (status = 422)), security(("bearer" = [])))]
pub async fn put_platform(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<PlatformIn>,
) -> ApiResult<Json<PlatformOut>> {
    caller.require(Scope::Admin)?;
    let p = Platform {
        key,
        name: body.name,
        vendor: body.vendor,
        asset_label: body.asset_label,
        permissions: body.permissions,
        default_permission: body.default_permission,
        settings: body.settings,
        instructions: body.instructions,
        mistakes: body.mistakes,
        verify: body.verify,
        custom: true,
    };
    let saved = platforms::save(caller.cx(&state), p).await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(delete, operation_id = "deletePlatform", path = "/platforms/{key}", tag = "onboarding",
    params(("key" = String, Path)), responses((status = 204), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn delete_platform(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Admin)?;
    if baton_core::platforms::builtin_get(&key).is_some() {
        return Err(ApiError::Conflict(
            "platforms shipped with Baton cannot be deleted".into(),
        ));
    }
    platforms::delete(caller.cx(&state), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The agency's onboarding settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OnboardingSettingsDoc {
    /// Values the platform instructions use, by setting key (`meta_business_id`, `agency_email`, …).
    #[schema(value_type = Object)]
    pub platform_values: std::collections::BTreeMap<String, String>,
    /// The intake questionnaire: `[{"key"?,"label","help"?,"long"?,"required"?}]`.
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<baton_core::onboarding::Question>,
    /// Days between reminders while a link waits on the client; 0 = off.
    pub reminder_every_days: u32,
    pub reminder_max: u32,
    pub link_expiry_days: u32,
    pub welcome: String,
}

impl From<OnboardingSettings> for OnboardingSettingsDoc {
    fn from(s: OnboardingSettings) -> Self {
        OnboardingSettingsDoc {
            platform_values: s.platform_values,
            questions: s.questions,
            reminder_every_days: s.reminder_every_days,
            reminder_max: s.reminder_max,
            link_expiry_days: s.link_expiry_days,
            welcome: s.welcome,
        }
    }
}

#[utoipa::path(get, operation_id = "getOnboardingSettings", path = "/agency/onboarding", tag = "onboarding",
    responses((status = 200, body = OnboardingSettingsDoc)), security(("bearer" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<OnboardingSettingsDoc>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        onboarding_settings::get(&state.db, caller.agency_id())
            .await?
            .into(),
    ))
}

/// Partial update: fields left out keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnboardingSettingsPatch {
    #[schema(schema_with = super::openapi::platform_values)]
    pub platform_values: Option<std::collections::BTreeMap<String, String>>,
    #[schema(schema_with = super::openapi::questions)]
    pub questions: Option<Vec<baton_core::onboarding::Question>>,
    /// Days between reminders, 0 (off) to 60.
    #[schema(schema_with = super::openapi::reminder_every_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub reminder_every_days: Option<u32>,
    /// 0 to 20.
    #[schema(schema_with = super::openapi::reminder_max)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub reminder_max: Option<u32>,
    /// 1 to 365.
    #[schema(schema_with = super::openapi::link_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub link_expiry_days: Option<u32>,
    /// At most 2,000 characters.
    #[schema(schema_with = super::openapi::welcome_text)]
    pub welcome: Option<String>,
}

#[utoipa::path(patch, operation_id = "updateOnboardingSettings", path = "/agency/onboarding", tag = "onboarding",
    request_body = OnboardingSettingsPatch, responses((status = 200, body = OnboardingSettingsDoc), (status = 422)),
    security(("bearer" = [])))]
pub async fn update_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<OnboardingSettingsPatch>,
) -> ApiResult<Json<OnboardingSettingsDoc>> {
    caller.require(Scope::Admin)?;
    let mut s = onboarding_settings::get(&state.db, caller.agency_id()).await?;
    if let Some(v) = body.platform_values {
        s.platform_values = v;
    }
    if let Some(v) = body.questions {
        s.questions = v;
    }
    if let Some(v) = body.reminder_every_days {
        s.reminder_every_days = v;
    }
    if let Some(v) = body.reminder_max {
        s.reminder_max = v;
    }
    if let Some(v) = body.link_expiry_days {
        s.link_expiry_days = v;
    }
    if let Some(v) = body.welcome {
        s.welcome = v;
    }
    let saved = onboarding_settings::put(caller.cx(&state), s).await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct RequestIn {
    /// A platform key from `GET /api/v1/platforms` (an unknown one is a 422).
    pub platform: String,
    /// One of the platform's permission keys (another is a 422); its default
    /// when left out.
    #[serde(default)]
    pub permission: Option<String>,
    /// Which page, account or property (the platform's `asset_label`), at
    /// most 200 characters. The same platform and asset twice is a 422.
    #[serde(default)]
    #[schema(schema_with = super::openapi::name_or_empty)]
    pub asset: Option<String>,
    /// Required requests hold the time-to-verified-access KPI (default true).
    #[serde(default)]
    pub required: Option<bool>,
}

/// Fills in each platform's default permission, then hands over to the store's checks.
async fn to_new_requests(
    state: &AppState,
    agency_id: &str,
    reqs: Vec<RequestIn>,
) -> ApiResult<Vec<NewRequest>> {
    let catalog = platforms::catalog(&state.db, agency_id).await?;
    Ok(reqs
        .into_iter()
        .map(|r| {
            let permission = r.permission.unwrap_or_else(|| {
                catalog
                    .iter()
                    .find(|p| p.key == r.platform.trim())
                    .map(|p| p.default_permission.clone())
                    .unwrap_or_default()
            });
            NewRequest {
                platform: r.platform,
                permission,
                asset: r.asset,
                required: r.required.unwrap_or(true),
            }
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    /// `tpl_…`
    pub id: String,
    pub name: String,
    pub requests: Vec<TemplateRequestOut>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateRequestOut {
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub required: bool,
}

impl From<access_templates::AccessTemplate> for TemplateOut {
    fn from(t: access_templates::AccessTemplate) -> Self {
        TemplateOut {
            id: t.id,
            name: t.name,
            requests: t
                .requests
                .into_iter()
                .map(|r| TemplateRequestOut {
                    platform: r.platform,
                    permission: r.permission,
                    asset: r.asset,
                    required: r.required,
                })
                .collect(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// 1–50 requests.
    #[schema(min_items = 1, max_items = 50)]
    pub requests: Vec<RequestIn>,
}

#[utoipa::path(get, operation_id = "listAccessTemplates", path = "/access-templates", tag = "onboarding",
    responses((status = 200, body = TemplateList)), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<TemplateList>> {
    caller.require(Scope::Read)?;
    let items = access_templates::list(&state.db, caller.agency_id()).await?;
    Ok(Json(TemplateList {
        items: items.into_iter().map(TemplateOut::from).collect(),
    }))
}

#[utoipa::path(post, operation_id = "createAccessTemplate", path = "/access-templates", tag = "onboarding",
    request_body = TemplateIn, responses((status = 201, body = TemplateOut), (status = 422)), security(("bearer" = [])))]
pub async fn create_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<TemplateIn>,
) -> ApiResult<(StatusCode, Json<TemplateOut>)> {
    caller.require(Scope::Write)?;
    let reqs = to_new_requests(&state, caller.agency_id(), body.requests).await?;
    let t = access_templates::save(caller.cx(&state), None, &body.name, reqs).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

#[utoipa::path(put, operation_id = "updateAccessTemplate", path = "/access-templates/{id}", tag = "onboarding",
    params(("id" = String, Path)), request_body = TemplateIn,
    responses((status = 200, body = TemplateOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessTemplateId>,
    ApiJson(body): ApiJson<TemplateIn>,
) -> ApiResult<Json<TemplateOut>> {
    caller.require(Scope::Write)?;
    access_templates::get(&state.db, caller.agency_id(), &id).await?;
    let reqs = to_new_requests(&state, caller.agency_id(), body.requests).await?;
    let t = access_templates::save(caller.cx(&state), Some(&id), &body.name, reqs).await?;
    Ok(Json(t.into()))
}

#[utoipa::path(delete, operation_id = "deleteAccessTemplate", path = "/access-templates/{id}", tag = "onboarding",
    params(("id" = String, Path)), responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<AccessTemplateId>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Write)?;
    access_templates::delete(caller.cx(&state), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// `lnk_…`
    pub id: String,
    pub client_id: String,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub regenerated_at: Option<String>,
    /// Opens the client confirmed ("Continue" on the link's first page).
    pub open_count: i64,
    pub last_opened_at: Option<String>,
    pub reminder_count: i64,
    pub last_reminded_at: Option<String>,
    pub next_reminder_at: Option<String>,
    /// Where reminders go by email (when SMTP is configured).
    pub contact_email: Option<String>,
}

impl LinkOut {
    pub fn new(l: Link, now: i64) -> LinkOut {
        LinkOut {
            state: l.state(now).into(),
            id: l.id.into(),
            client_id: l.client_id,
            created_at: rfc3339(l.created_at),
            created_by: l.created_by,
            expires_at: rfc3339(l.expires_at),
            revoked_at: l.revoked_at.map(rfc3339),
            regenerated_at: l.regenerated_at.map(rfc3339),
            open_count: l.open_count,
            last_opened_at: l.last_opened_at.map(rfc3339),
            reminder_count: l.reminder_count,
            last_reminded_at: l.last_reminded_at.map(rfc3339),
            next_reminder_at: l.next_reminder_at.map(rfc3339),
            contact_email: l.contact_email,
        }
    }
}

/// A link with its URL: returned once, when the token is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedLinkOut {
    #[serde(flatten)]
    pub link: LinkOut,
    /// `BATON_PUBLIC_URL/o/{token}`: send this to the client. Shown this once.
    pub url: String,
    /// The same link on the agency's custom domain, when one is set.
    pub custom_domain_url: Option<String>,
    pub requests: Vec<AccessRequestOut>,
    /// Requested platforms whose steps need agency settings that are not
    /// filled in (`PATCH /api/v1/agency/onboarding`, `platform_values`).
    /// The client is told the agency will send the value; empty when
    /// nothing is missing.
    pub setup_warnings: Vec<SetupWarningOut>,
}

/// A requested platform whose client steps need agency settings that are
/// not set.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupWarningOut {
    /// The platform's key, e.g. `shopify`.
    pub platform: String,
    pub platform_name: String,
    /// The missing settings' keys (`platform_values` keys), e.g.
    /// `["shopify_partner_name"]`.
    pub missing: Vec<String>,
    /// A sentence for people.
    pub message: String,
}

impl From<baton_core::platforms::SetupWarning> for SetupWarningOut {
    fn from(w: baton_core::platforms::SetupWarning) -> Self {
        SetupWarningOut {
            message: w.message(),
            missing: w.missing.into_iter().map(|f| f.key).collect(),
            platform: w.platform,
            platform_name: w.platform_name,
        }
    }
}

/// What a link's platforms lack in the agency's settings, now.
async fn setup_warnings(
    state: &AppState,
    agency_id: &str,
    requests: &[baton_store::access_requests::AccessRequest],
) -> ApiResult<Vec<SetupWarningOut>> {
    let keys: Vec<&str> = requests.iter().map(|r| r.platform.as_str()).collect();
    Ok(
        onboarding_links::setup_warnings(&state.db, agency_id, &keys)
            .await?
            .into_iter()
            .map(SetupWarningOut::from)
            .collect(),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    /// The requests to make (1–50); or leave out and name a `template`
    /// (one of the two, not both: 422).
    #[serde(default)]
    #[schema(min_items = 1, max_items = 50)]
    pub requests: Option<Vec<RequestIn>>,
    /// `tpl_…`: use an access template's requests (an unknown one is a 422).
    #[serde(default)]
    pub template: Option<String>,
    /// 1–365; the agency's setting (30 by default) when left out.
    #[schema(schema_with = super::openapi::link_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub expires_in_days: Option<i64>,
    /// The client's contact: scheduled reminders go here by email when the
    /// server has SMTP configured.
    #[serde(default)]
    #[schema(schema_with = super::openapi::optional_email)]
    pub contact_email: Option<String>,
}

async fn custom_domain_url(
    state: &AppState,
    agency_id: &str,
    token: &str,
) -> ApiResult<Option<String>> {
    let agency = baton_store::agencies::get(&state.db, agency_id).await?;
    Ok(agency
        .custom_domain
        .map(|d| format!("https://{d}/o/{token}")))
}

#[utoipa::path(post, operation_id = "createOnboardingLink", path = "/clients/{id}/onboarding-links", tag = "onboarding",
    params(("id" = String, Path)), request_body = CreateLink,
    responses((status = 201, body = CreatedLinkOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
    ApiJson(body): ApiJson<CreateLink>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let agency = caller.agency_id();
    // 404 for another agency's client before any input is judged.
    baton_store::clients::get(&state.db, agency, &client_id).await?;
    let requests = match (body.requests, body.template) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "template",
                "give either requests or a template, not both",
            ))
        }
        (Some(r), None) => to_new_requests(&state, agency, r).await?,
        (None, Some(t)) => {
            access_templates::get(&state.db, agency, &t)
                .await
                .map_err(|e| match e {
                    baton_store::StoreError::NotFound => {
                        ApiError::invalid("template", format!("no access template {t}"))
                    }
                    other => other.into(),
                })?
                .requests
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "requests",
                "list the access requests or name a template",
            ))
        }
    };
    let now = state.now();
    let created = onboarding_links::create(
        caller.cx(&state).at(now),
        &client_id,
        requests,
        body.expires_in_days,
        body.contact_email.as_deref(),
        &state.config.secret_key,
    )
    .await?;
    let out = CreatedLinkOut {
        url: state.config.onboarding_url(&created.token),
        custom_domain_url: custom_domain_url(&state, agency, &created.token).await?,
        setup_warnings: setup_warnings(&state, agency, &created.requests).await?,
        link: LinkOut::new(created.link, now),
        requests: created
            .requests
            .into_iter()
            .map(AccessRequestOut::from)
            .collect(),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut().insert(SecretInBody);
    Ok(resp)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    pub items: Vec<LinkOut>,
}

#[utoipa::path(get, operation_id = "listOnboardingLinks", path = "/clients/{id}/onboarding-links", tag = "onboarding",
    params(("id" = String, Path)), responses((status = 200, body = LinkList), (status = 404)), security(("bearer" = [])))]
pub async fn list_links(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<LinkList>> {
    caller.require(Scope::Read)?;
    baton_store::clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let now = state.now();
    let links =
        onboarding_links::list_for_client(&state.db, caller.agency_id(), &client_id).await?;
    Ok(Json(LinkList {
        items: links.into_iter().map(|l| LinkOut::new(l, now)).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getOnboardingLink", path = "/onboarding-links/{id}", tag = "onboarding",
    params(("id" = String, Path)), responses((status = 200, body = LinkOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<LinkId>,
) -> ApiResult<Json<LinkOut>> {
    caller.require(Scope::Read)?;
    let l = onboarding_links::get(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(LinkOut::new(l, state.now())))
}

#[utoipa::path(delete, operation_id = "revokeOnboardingLink", path = "/onboarding-links/{id}", tag = "onboarding",
    params(("id" = String, Path)), responses((status = 200, body = LinkOut), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<LinkId>,
) -> ApiResult<Json<LinkOut>> {
    caller.require(Scope::Write)?;
    let now = state.now();
    let l = onboarding_links::revoke(caller.cx(&state).at(now), &id).await?;
    Ok(Json(LinkOut::new(l, now)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegenerateLink {
    /// 1–365; the agency's setting (30 by default) when left out.
    #[schema(schema_with = super::openapi::link_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub expires_in_days: Option<i64>,
}

#[utoipa::path(post, operation_id = "regenerateOnboardingLink", path = "/onboarding-links/{id}/regenerate", tag = "onboarding",
    params(("id" = String, Path)), request_body(content = Option<RegenerateLink>, description = "May be left out"),
    responses((status = 200, body = CreatedLinkOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn regenerate_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<LinkId>,
    OptionalJson(body): OptionalJson<RegenerateLink>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let now = state.now();
    let days = body.expires_in_days;
    let (link, token) = onboarding_links::regenerate(
        caller.cx(&state).at(now),
        &id,
        days,
        &state.config.secret_key,
    )
    .await?;
    let requests =
        baton_store::access_requests::list_for_link(&state.db, caller.agency_id(), &id).await?;
    let out = CreatedLinkOut {
        url: state.config.onboarding_url(&token),
        custom_domain_url: custom_domain_url(&state, caller.agency_id(), &token).await?,
        setup_warnings: setup_warnings(&state, caller.agency_id(), &requests).await?,
        link: LinkOut::new(link, now),
        requests: requests.into_iter().map(AccessRequestOut::from).collect(),
    };
    let mut resp = Json(out).into_response();
    resp.extensions_mut().insert(SecretInBody);
    Ok(resp)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderOut {
    pub link_id: String,
    pub client_id: String,
    /// `email` (sent to the link's contact) or `copy` (no SMTP or no contact
    /// email: the text is ready to copy and send).
    pub channel: String,
    /// Requests waiting on the client (named in the text).
    pub pending: usize,
    /// Of those, the required ones. Scheduled reminders stop when this is 0.
    pub required_pending: usize,
    /// Whether `text` carries the link's URL (false for a link made before
    /// this was possible, or after the server's secret key changed: the
    /// text then points to the message that carried the link).
    pub includes_link: bool,
    pub text: String,
}

#[utoipa::path(post, operation_id = "remindOnboardingLink", path = "/onboarding-links/{id}/remind", tag = "onboarding",
    params(("id" = String, Path)), responses((status = 200, body = ReminderOut), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn remind_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<LinkId>,
) -> ApiResult<Response> {
    caller.require(Scope::Write)?;
    let url = crate::reminders::link_url(&state, caller.agency_id(), &id).await?;
    let r = onboarding_links::remind(
        caller.cx(&state),
        &id,
        false,
        state.mailer.is_some(),
        url.as_deref(),
    )
    .await?
    .ok_or_else(|| ApiError::Conflict("nothing to remind the client about".into()))?;
    let includes_link = r.includes_link;
    let mut resp = Json(ReminderOut {
        link_id: r.link_id,
        client_id: r.client_id,
        channel: r.channel,
        pending: r.pending,
        required_pending: r.required_pending,
        includes_link,
        text: r.text,
    })
    .into_response();
    if includes_link {
        // The text holds the link: an Idempotency-Key replay must not
        // store it.
        resp.extensions_mut().insert(SecretInBody);
    }
    Ok(resp)
}
