//! `/api/v1/agency/content-settings` (the version naming convention and the
//! publishing QA checklists per channel), `/api/v1/clients/{id}/content-settings`
//! (the reviewers, approvers and approval mode a client's new content items
//! start with) and `/api/v1/kpis/content` (revisions, rework, approval cycle
//! time, first-draft acceptance and pass rate per period, client and
//! creative).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::content::{self, ApprovalMode, QaItem, CHANNELS, NAMING_PLACEHOLDERS};
use baton_core::policy::{Action, Subject};
use baton_core::types::ClientId;
use baton_store::content::{self as store, ContentSettings, Participants};
use baton_store::content_metrics::{self, GroupMetrics, MetricsFilter};
use baton_store::tokens::Scope;
use baton_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{period, ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

// ---------------------------------------------------------------------------
// Agency settings
// ---------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaItemDto {
    /// `[a-z][a-z0-9_]{1,39}`, unique in the checklist.
    #[schema(schema_with = super::openapi::item_key)]
    pub key: String,
    /// 1–200 characters, one line.
    #[schema(schema_with = super::openapi::line_200)]
    pub label: String,
}

fn dto(items: Vec<QaItem>) -> Vec<QaItemDto> {
    items
        .into_iter()
        .map(|i| QaItemDto {
            key: i.key,
            label: i.label,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentSettingsOut {
    /// Version naming pattern, e.g. `{client}_{campaign}_{channel}_{format}_v{n}`.
    pub naming: String,
    /// Baton's pattern, used until the agency sets its own.
    pub default_naming: String,
    /// What a pattern may use: `{client}`, `{campaign}`, `{channel}`,
    /// `{format}`, `{title}`, `{date}` and `{n}` (the version number, required).
    pub placeholders: Vec<String>,
    /// The QA checklists the agency configured, per channel.
    #[schema(value_type = Object)]
    pub qa: BTreeMap<String, Vec<QaItemDto>>,
    /// Baton's default checklist of every known channel (used for a channel
    /// the agency did not configure).
    #[schema(value_type = Object)]
    pub default_qa: BTreeMap<String, Vec<QaItemDto>>,
}

impl From<ContentSettings> for ContentSettingsOut {
    fn from(s: ContentSettings) -> Self {
        ContentSettingsOut {
            naming: s.naming,
            default_naming: content::DEFAULT_NAMING.into(),
            placeholders: NAMING_PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect(),
            qa: s.qa.into_iter().map(|(k, v)| (k, dto(v))).collect(),
            default_qa: CHANNELS
                .iter()
                .map(|c| (c.key.to_string(), dto(content::default_qa(c.key))))
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentSettingsIn {
    /// The version naming pattern; must contain `{n}`.
    #[schema(schema_with = super::openapi::naming)]
    pub naming: String,
    /// QA checklists per channel (`instagram`, `tiktok`, … or the agency's
    /// own channel keys); a channel left out uses Baton's default. Replaces
    /// every configured checklist. Item keys are unique in a checklist and a
    /// channel is listed once, ignoring case (422 otherwise).
    #[serde(default)]
    #[schema(schema_with = super::openapi::qa_checklists)]
    pub qa: BTreeMap<String, Vec<QaItemDto>>,
}

/// Checks the checklists channel by channel so a problem names where it is
/// (`qa.instagram`), with channel keys as content items spell them.
fn checked_qa(
    qa: BTreeMap<String, Vec<QaItemDto>>,
) -> Result<BTreeMap<String, Vec<QaItem>>, ApiError> {
    let mut out = BTreeMap::new();
    for (channel, items) in qa {
        let key = channel.trim().to_lowercase();
        let ok = !key.is_empty()
            && key.len() <= 40
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(ApiError::invalid(
                "qa",
                format!("channel {channel:?}: use 1–40 letters, digits or _, e.g. instagram"),
            ));
        }
        let field = format!("qa.{key}");
        let items: Vec<QaItem> = items
            .into_iter()
            .map(|i| QaItem {
                key: i.key,
                label: i.label,
            })
            .collect();
        let items = content::validate_qa(items).map_err(|e| match e {
            baton_core::CoreError::Invalid { message, .. } => ApiError::invalid(&field, message),
            other => other.into(),
        })?;
        if out.insert(key, items).is_some() {
            return Err(ApiError::invalid(
                &field,
                "this channel is listed twice (channel keys ignore case)",
            ));
        }
    }
    Ok(out)
}

#[utoipa::path(get, operation_id = "getContentSettings", path = "/agency/content-settings", tag = "content",
    responses((status = 200, body = ContentSettingsOut)), security(("bearer" = [])))]
pub async fn get_agency(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<ContentSettingsOut>> {
    caller.require(Scope::Read)?;
    let s = store::settings(&state.db, caller.agency_id()).await?;
    Ok(Json(s.into()))
}

#[utoipa::path(put, operation_id = "putContentSettings", path = "/agency/content-settings", tag = "content",
    request_body = ContentSettingsIn,
    responses((status = 200, body = ContentSettingsOut), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_agency(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<ContentSettingsIn>,
) -> ApiResult<Json<ContentSettingsOut>> {
    caller.require(Scope::Admin)?;
    let naming = content::validate_naming(&b.naming)?;
    let qa = checked_qa(b.qa)?;
    let s = store::save_settings(caller.cx(&state), &naming, qa).await?;
    Ok(Json(s.into()))
}

// ---------------------------------------------------------------------------
// Client defaults
// ---------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientContentSettingsOut {
    pub client_id: String,
    /// `all` (every approver must approve) or `any` (one is enough).
    pub approval_mode: String,
    /// Members who comment (`mem_…`).
    pub reviewers: Vec<String>,
    /// Members who decide (`mem_…`).
    pub approvers: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientContentSettingsIn {
    /// `all` (default) or `any`.
    #[serde(default)]
    #[schema(schema_with = super::openapi::approval_mode)]
    pub approval_mode: Option<String>,
    /// At most 50 members of this agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub reviewers: Vec<String>,
    /// At most 50 members of this agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub approvers: Vec<String>,
}

fn client_out(
    client_id: String,
    (mode, reviewers, approvers): (ApprovalMode, Vec<String>, Vec<String>),
) -> ClientContentSettingsOut {
    ClientContentSettingsOut {
        client_id,
        approval_mode: mode.key().into(),
        reviewers,
        approvers,
    }
}

#[utoipa::path(get, operation_id = "getClientContentSettings", path = "/clients/{id}/content-settings", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ClientContentSettingsOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
) -> ApiResult<Json<ClientContentSettingsOut>> {
    caller.require(Scope::Read)?;
    baton_store::clients::get(&state.db, caller.agency_id(), &client).await?;
    let mut conn = state
        .db
        .reader()
        .acquire()
        .await
        .map_err(StoreError::from)?;
    let d = store::client_defaults(&mut conn, caller.agency_id(), &client).await?;
    Ok(Json(client_out(client.into_string(), d)))
}

/// Only the client's account lead, its traffic-control owner or an admin
/// may change who reviews and approves (403 otherwise).
#[utoipa::path(put, operation_id = "putClientContentSettings", path = "/clients/{id}/content-settings", tag = "content",
    params(("id" = String, Path)), request_body = ClientContentSettingsIn,
    responses((status = 200, body = ClientContentSettingsOut), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn put_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
    ApiJson(b): ApiJson<ClientContentSettingsIn>,
) -> ApiResult<Json<ClientContentSettingsOut>> {
    caller.require(Scope::Write)?;
    let principal = caller.principal_on_client(&state.db, &client).await?;
    caller.can(
        &principal,
        Action::ChangeParticipants,
        Subject::Client { client_id: &client },
    )?;
    let mode = match b.approval_mode.as_deref() {
        None | Some("") => None,
        Some(m) => Some(
            ApprovalMode::parse(m)
                .ok_or_else(|| ApiError::invalid("approval_mode", "use all or any"))?,
        ),
    };
    let d = store::save_client_defaults(
        caller.cx(&state),
        &client,
        &Participants {
            reviewers: b.reviewers,
            approvers: b.approvers,
            mode,
            by_admin: principal.is_admin(),
        },
    )
    .await?;
    Ok(Json(client_out(client.into_string(), d)))
}

// ---------------------------------------------------------------------------
// Content KPIs
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentKpiQuery {
    /// RFC 3339; default 90 days before `to`.
    #[param(schema_with = super::openapi::time_param)]
    pub from: Option<String>,
    /// RFC 3339; default now.
    #[param(schema_with = super::openapi::time_param)]
    pub to: Option<String>,
    /// Only this client's items (`cli_…`).
    #[param(nullable = false)]
    pub client: Option<String>,
    /// Only items whose first version this member added (`mem_…`).
    #[param(nullable = false)]
    pub creative: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentKpiOut {
    /// `all`, the client's id or the creative's member id.
    pub key: String,
    pub label: String,
    /// Items first submitted in the period.
    pub items: usize,
    /// Of those, approved.
    pub approved: usize,
    /// Rounds that ended with changes requested.
    pub revisions: usize,
    /// Mean revisions per item with a decided round; null when none.
    pub revisions_per_asset: Option<f64>,
    /// Share of items with a decided round that needed a major revision.
    pub rework_rate: Option<f64>,
    /// First submitted → approved, median and 90th percentile, wall time.
    pub approval_cycle_median_seconds: Option<i64>,
    pub approval_cycle_p90_seconds: Option<i64>,
    /// The same on the agency's business calendar.
    pub approval_cycle_business_median_seconds: Option<i64>,
    pub approval_cycle_business_p90_seconds: Option<i64>,
    /// Share of approved items approved in their first round.
    pub first_draft_acceptance: Option<f64>,
    /// Approved rounds over decided rounds.
    pub approval_pass_rate: Option<f64>,
}

impl From<GroupMetrics> for ContentKpiOut {
    fn from(g: GroupMetrics) -> Self {
        let secs = |ms: Option<i64>| ms.map(|ms| ms / 1000);
        ContentKpiOut {
            key: g.key,
            label: g.label,
            items: g.metrics.items,
            approved: g.approved,
            revisions: g.revisions,
            revisions_per_asset: g.metrics.revisions_per_asset,
            rework_rate: g.metrics.rework_rate,
            approval_cycle_median_seconds: secs(g.metrics.approval_cycle_median_ms),
            approval_cycle_p90_seconds: secs(g.metrics.approval_cycle_p90_ms),
            approval_cycle_business_median_seconds: secs(g.approval_business_median_ms),
            approval_cycle_business_p90_seconds: secs(g.approval_business_p90_ms),
            first_draft_acceptance: g.metrics.first_draft_acceptance,
            approval_pass_rate: g.metrics.approval_pass_rate,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentKpiReportOut {
    pub from: String,
    pub to: String,
    pub overall: ContentKpiOut,
    /// Per client, by name.
    pub by_client: Vec<ContentKpiOut>,
    /// Per creative (the member who added the item's first version), by name.
    pub by_creative: Vec<ContentKpiOut>,
}

#[utoipa::path(get, operation_id = "getContentKpis", path = "/kpis/content", tag = "content", params(ContentKpiQuery),
    responses((status = 200, body = ContentKpiReportOut), (status = 422)), security(("bearer" = [])))]
pub async fn kpis(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ContentKpiQuery>,
) -> ApiResult<Json<ContentKpiReportOut>> {
    caller.require(Scope::Read)?;
    let (from, to, until) = period(q.from.as_deref(), q.to.as_deref(), state.now())?;
    let agency = caller.agency_id();
    // A filter naming nothing of this agency is a mistake, not an empty report.
    let client_id = q.client.filter(|c| !c.is_empty());
    if let Some(c) = &client_id {
        match baton_store::clients::get(&state.db, agency, c).await {
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid("client", "not a client of this agency"))
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
    }
    let creative_id = q.creative.filter(|c| !c.is_empty());
    if let Some(m) = &creative_id {
        match baton_store::members::get(&state.db, agency, m).await {
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid("creative", "not a member of this agency"))
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
    }
    let r = content_metrics::report(
        &state.db,
        agency,
        from,
        until,
        &MetricsFilter {
            client_id,
            creative_id,
        },
    )
    .await?;
    Ok(Json(ContentKpiReportOut {
        from: rfc3339(from),
        to: rfc3339(to),
        overall: r.overall.into(),
        by_client: r.by_client.into_iter().map(Into::into).collect(),
        by_creative: r.by_creative.into_iter().map(Into::into).collect(),
    }))
}
