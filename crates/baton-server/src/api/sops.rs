//! `/api/v1/sops` (the agency's SOP library, versioned with a changelog),
//! `/api/v1/sop-runs` (runs: start, checklist, pause, resume, assign,
//! complete), `/api/v1/kpis/sops` (on-time rate) and `/api/v1/notices`
//! (the caller's escalation notices).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use baton_core::clock::{parse_rfc3339, rfc3339};
use baton_core::roles::Role;
use baton_core::sop::{ChecklistItem, RunStatus, Sla, SopDefinition};
use baton_core::types::RunId;
use baton_store::sop_runs::{self, Notice, OnTime, Run, RunFilter, StartRun};
use baton_store::sops::{self, Sop, SopVersion};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, period, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

/// An SLA: at risk at `target`, breached at `limit`, in `unit`: from a
/// minute to a year (8,760 hours or business hours; 0.01 to 365 business
/// days), `target` not above `limit` (422 otherwise).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaDto {
    /// `hours` (wall time), `business_hours` or `business_days` (the agency's calendar).
    pub unit: String,
    pub target: f64,
    pub limit: f64,
}

impl From<Sla> for SlaDto {
    fn from(s: Sla) -> Self {
        SlaDto {
            unit: serde_json::to_value(s.unit)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            target: s.target,
            limit: s.limit,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemDto {
    /// 2–40 of `[a-z0-9_]`, a letter first; unique in the checklist (422).
    #[schema(schema_with = super::openapi::item_key)]
    pub key: String,
    /// 1–200 characters, one line.
    #[schema(schema_with = super::openapi::line_200)]
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SopOut {
    pub key: String,
    pub name: String,
    /// The event type that starts a run (`contract_signed`, …), or `manual`.
    pub trigger: String,
    pub owner_role: String,
    pub escalation_role: String,
    /// The definition of done.
    pub checklist: Vec<ChecklistItemDto>,
    pub sla: SlaDto,
    /// The SLA in words, e.g. "24–72 hours".
    pub sla_text: String,
    pub version: i64,
    pub customized: bool,
    /// One of Baton's nine default SOPs.
    pub default: bool,
    pub changed_by: String,
    pub changed_at: Option<String>,
    /// The latest changelog line.
    pub reason: String,
}

fn def_parts(
    d: SopDefinition,
) -> (
    String,
    String,
    String,
    String,
    String,
    Vec<ChecklistItemDto>,
    Sla,
) {
    (
        d.key,
        d.name,
        d.trigger,
        d.owner_role.key().into(),
        d.escalation_role.key().into(),
        d.checklist
            .into_iter()
            .map(|i| ChecklistItemDto {
                key: i.key,
                label: i.label,
            })
            .collect(),
        d.sla,
    )
}

impl From<Sop> for SopOut {
    fn from(s: Sop) -> Self {
        let (key, name, trigger, owner_role, escalation_role, checklist, sla) =
            def_parts(s.definition);
        SopOut {
            key,
            name,
            trigger,
            owner_role,
            escalation_role,
            checklist,
            sla_text: sla.describe(),
            sla: sla.into(),
            version: s.version,
            customized: s.customized,
            default: s.default,
            changed_by: s.changed_by,
            changed_at: s.changed_at.map(rfc3339),
            reason: s.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SopVersionOut {
    pub version: i64,
    pub reason: String,
    pub changed_by: String,
    /// Null for Baton's default version 1.
    pub changed_at: Option<String>,
    pub name: String,
    pub trigger: String,
    pub owner_role: String,
    pub escalation_role: String,
    pub checklist: Vec<ChecklistItemDto>,
    pub sla: SlaDto,
}

impl From<SopVersion> for SopVersionOut {
    fn from(v: SopVersion) -> Self {
        let (_, name, trigger, owner_role, escalation_role, checklist, sla) =
            def_parts(v.definition);
        SopVersionOut {
            version: v.version,
            reason: v.reason,
            changed_by: v.changed_by,
            changed_at: v.changed_at.map(rfc3339),
            name,
            trigger,
            owner_role,
            escalation_role,
            checklist,
            sla: sla.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SopList {
    pub items: Vec<SopOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SopVersionList {
    pub items: Vec<SopVersionOut>,
}

#[utoipa::path(get, operation_id = "listSops", path = "/sops", tag = "sops",
    responses((status = 200, body = SopList)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Json<SopList>> {
    caller.require(Scope::Read)?;
    let items = sops::list(&state.db, caller.agency_id()).await?;
    Ok(Json(SopList {
        items: items.into_iter().map(SopOut::from).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getSop", path = "/sops/{key}", tag = "sops",
    params(("key" = String, Path)), responses((status = 200, body = SopOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> ApiResult<Json<SopOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        sops::get(&state.db, caller.agency_id(), &key).await?.into(),
    ))
}

#[utoipa::path(get, operation_id = "listSopVersions", path = "/sops/{key}/versions", tag = "sops",
    params(("key" = String, Path)), responses((status = 200, body = SopVersionList), (status = 404)), security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> ApiResult<Json<SopVersionList>> {
    caller.require(Scope::Read)?;
    let items = sops::history(&state.db, caller.agency_id(), &key).await?;
    Ok(Json(SopVersionList {
        items: items.into_iter().map(SopVersionOut::from).collect(),
    }))
}

/// A new version of an SOP (or a new SOP of the agency's own).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SopIn {
    /// 1–200 characters, one line.
    #[schema(schema_with = super::openapi::line_200)]
    pub name: String,
    /// The event type that starts a run (`contract_signed`,
    /// `content.brief_approved`), or `manual`.
    #[schema(schema_with = super::openapi::trigger)]
    pub trigger: String,
    #[schema(schema_with = super::openapi::role)]
    pub owner_role: String,
    #[schema(schema_with = super::openapi::role)]
    pub escalation_role: String,
    /// The definition of done: 1–30 items with unique keys.
    #[schema(min_items = 1, max_items = 30)]
    pub checklist: Vec<ChecklistItemDto>,
    #[schema(schema_with = super::openapi::sla)]
    pub sla: SlaDto,
    /// Why it changes: the changelog line (1–10,000 characters).
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
}

fn role(field: &str, key: &str) -> ApiResult<Role> {
    Role::parse(key).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!(
                "unknown role {key:?}; use one of: {}",
                Role::ALL
                    .iter()
                    .map(|r| r.key())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Parses an SOP as the API and the TOML export spell it.
pub fn definition(key: &str, b: SopIn) -> ApiResult<(SopDefinition, String)> {
    let unit =
        serde_json::from_value(serde_json::Value::String(b.sla.unit.clone())).map_err(|_| {
            ApiError::invalid("sla", "unit must be hours, business_hours or business_days")
        })?;
    Ok((
        SopDefinition {
            key: key.to_string(),
            name: b.name,
            trigger: b.trigger,
            owner_role: role("owner_role", &b.owner_role)?,
            escalation_role: role("escalation_role", &b.escalation_role)?,
            checklist: b
                .checklist
                .into_iter()
                .map(|i| ChecklistItem {
                    key: i.key,
                    label: i.label,
                })
                .collect(),
            sla: Sla::range(unit, b.sla.target, b.sla.limit),
        },
        b.reason,
    ))
}

#[utoipa::path(put, operation_id = "putSop", path = "/sops/{key}", tag = "sops",
    params(("key" = String, Path, pattern = r"^[a-z][a-z0-9_]{1,39}$", description = "2–40 of `[a-z0-9_]`, a letter first")),
    request_body = SopIn,
    responses((status = 200, body = SopOut), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    ApiJson(b): ApiJson<SopIn>,
) -> ApiResult<Json<SopOut>> {
    caller.require(Scope::Admin)?;
    let (def, reason) = definition(&key, b)?;
    let s = sops::save(caller.cx(&state), def, &reason).await?;
    Ok(Json(s.into()))
}

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct RunItemOut {
    pub key: String,
    pub label: String,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    /// A fact Baton knows ticks and unticks it (it cannot be set by hand).
    pub auto: bool,
    /// Why it ticks itself, when `auto`.
    pub fact: Option<String>,
    /// The `sop_run.checklist_changed` event that ticked it, when a fact did.
    pub event_id: Option<String>,
}

/// What a run is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunSubjectOut {
    /// `content_item`, `handoff_brief`, `access` or `offboarding`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The content item (`cnt_…`), or the client for client-level subjects.
    pub id: String,
    /// The item's title, or "Handoff brief of Acme", ….
    pub title: String,
    /// The approval round a review run is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    /// `run_…`
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub sop_key: String,
    pub sop_name: String,
    /// The SOP version the run follows (edits after its start do not change it).
    pub sop_version: i64,
    /// `on_track`, `at_risk`, `breached`, `paused`, `done` or `cancelled`.
    pub status: String,
    /// What the run is about (null for a run about nothing Baton tracks).
    pub subject: Option<RunSubjectOut>,
    /// The SLA in words.
    pub sla: String,
    pub started_at: String,
    pub started_by: String,
    /// The event that started the run; null when started by hand.
    pub trigger_event_id: Option<String>,
    pub at_risk_at: String,
    pub due_at: String,
    pub owner_role: String,
    pub escalation_role: String,
    pub owner_member_id: Option<String>,
    pub owner_name: Option<String>,
    /// `role`, `traffic_control`, `assigned` or `unowned`.
    pub owner_source: String,
    /// Flagged: nobody could be found to own it.
    pub unowned: bool,
    pub checklist: Vec<RunItemOut>,
    pub paused_at: Option<String>,
    pub pause_reason: Option<String>,
    /// SLA time credited for pauses so far.
    pub paused_seconds: i64,
    pub at_risk_since: Option<String>,
    pub breached_since: Option<String>,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    /// Done by its due time; null while open or cancelled.
    pub on_time: Option<bool>,
    /// Cancelled (its item was cancelled, the client left delivery): never
    /// judged on time.
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
}

impl From<Run> for RunOut {
    fn from(r: Run) -> Self {
        let on_time = r.on_time();
        RunOut {
            id: r.id.into(),
            client_id: r.client_id,
            client_name: r.client_name,
            sop_key: r.sop_key,
            sop_name: r.sop_name,
            sop_version: r.sop_version,
            status: r.status.key().into(),
            subject: r.subject.map(|s| RunSubjectOut {
                kind: s.kind.key().into(),
                id: s.id,
                title: s.title,
                round: s.round,
            }),
            sla: r.sla,
            started_at: rfc3339(r.started_at),
            started_by: r.started_by,
            trigger_event_id: r.trigger_event_id,
            at_risk_at: rfc3339(r.at_risk_at),
            due_at: rfc3339(r.due_at),
            owner_role: r.owner_role.key().into(),
            escalation_role: r.escalation_role.key().into(),
            unowned: r.owner_member_id.is_none(),
            owner_member_id: r.owner_member_id,
            owner_name: r.owner_name,
            owner_source: r.owner_source,
            checklist: r
                .checklist
                .into_iter()
                .map(|i| RunItemOut {
                    key: i.key,
                    label: i.label,
                    done: i.done,
                    done_at: i.done_at.map(rfc3339),
                    done_by: i.done_by,
                    auto: i.auto,
                    fact: i.fact.map(String::from),
                    event_id: i.event_id,
                })
                .collect(),
            paused_at: r.paused_at.map(rfc3339),
            pause_reason: r.pause_reason,
            paused_seconds: r.paused_ms / 1000,
            at_risk_since: r.at_risk_since.map(rfc3339),
            breached_since: r.breached_since.map(rfc3339),
            done_at: r.done_at.map(rfc3339),
            done_by: r.done_by,
            on_time,
            cancelled_at: r.cancelled_at.map(rfc3339),
            cancel_reason: r.cancel_reason,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::run_cursor)]
    pub cursor: Option<String>,
    /// Only this client's runs (`cli_…`).
    #[param(nullable = false)]
    pub client: Option<String>,
    /// Only runs this member owns (`mem_…`).
    #[param(nullable = false)]
    pub owner: Option<String>,
    /// Only runs of this SOP.
    #[param(nullable = false)]
    pub sop: Option<String>,
    /// Comma-separated statuses: `on_track,at_risk,breached,paused,done,cancelled`.
    #[param(schema_with = super::openapi::run_statuses_filter)]
    pub status: Option<String>,
    /// `true`: only runs neither done nor cancelled.
    #[param(nullable = false)]
    pub open: Option<bool>,
}

#[utoipa::path(get, operation_id = "listSopRuns", path = "/sop-runs", tag = "sops", params(RunQuery),
    responses((status = 200, body = PageOut<RunOut>), (status = 422)), security(("bearer" = [])))]
pub async fn list_runs(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> ApiResult<Json<PageOut<RunOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let mut statuses = Vec::new();
    for s in q
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        statuses.push(RunStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "use on_track, at_risk, breached, paused, done or cancelled",
            )
        })?);
    }
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let f = RunFilter {
        client_id: nonempty(q.client),
        owner_member_id: nonempty(q.owner),
        sop_key: nonempty(q.sop),
        statuses,
        open: q.open.unwrap_or(false),
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::SOP_RUN)?;
    let page = sop_runs::list(&state.db, caller.agency_id(), &f, cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, RunOut::from)))
}

#[utoipa::path(get, operation_id = "getSopRun", path = "/sop-runs/{id}", tag = "sops",
    params(("id" = String, Path)), responses((status = 200, body = RunOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_run(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        sop_runs::get(&state.db, caller.agency_id(), &id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartIn {
    /// The SOP key, e.g. `access_setup`: one of the library's (422 otherwise).
    #[schema(schema_with = super::openapi::item_key)]
    pub sop: String,
    /// The client (`cli_…`); one of this agency's (404 otherwise).
    #[schema(schema_with = super::openapi::client_id)]
    pub client: String,
    /// When the SLA clock starts (RFC 3339): after 2000-01-01 and not in the
    /// future (422); now when absent or empty.
    #[schema(schema_with = super::openapi::time_or_empty)]
    pub started_at: Option<String>,
}

#[utoipa::path(post, operation_id = "startSopRun", path = "/sop-runs", tag = "sops", request_body = StartIn,
    responses((status = 201, body = RunOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<StartIn>,
) -> ApiResult<(StatusCode, Json<RunOut>)> {
    caller.require(Scope::Write)?;
    let started_at = match b.started_at.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            parse_rfc3339(s)
                .ok_or_else(|| ApiError::invalid("started_at", "must be an RFC 3339 time"))?,
        ),
    };
    if b.sop.trim().is_empty() {
        return Err(ApiError::invalid("sop", "name the SOP to start"));
    }
    if !baton_core::ids::has_shape(&b.client, baton_core::ids::CLIENT) {
        return Err(ApiError::invalid("client", "must be a client id (cli_…)"));
    }
    let run = sop_runs::start(
        caller.cx(&state),
        StartRun {
            sop_key: b.sop,
            client_id: b.client,
            started_at,
            trigger_event_id: None,
        },
        state.mailer.is_some(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistIn {
    /// `{"item_key": true}` ticks an item, `false` unticks it. At least
    /// one; each a key of the run's checklist that no fact ticks (422
    /// otherwise).
    #[schema(schema_with = super::openapi::item_toggles)]
    pub items: BTreeMap<String, bool>,
}

#[utoipa::path(put, operation_id = "setSopRunChecklist", path = "/sop-runs/{id}/checklist", tag = "sops",
    params(("id" = String, Path)), request_body = ChecklistIn,
    responses((status = 200, body = RunOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn checklist(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
    ApiJson(b): ApiJson<ChecklistIn>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Write)?;
    let run = sop_runs::set_checklist(caller.cx(&state), &id, &b.items).await?;
    Ok(Json(run.into()))
}

#[utoipa::path(post, operation_id = "completeSopRun", path = "/sop-runs/{id}/complete", tag = "sops",
    params(("id" = String, Path)),
    responses((status = 200, body = RunOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn complete(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Write)?;
    let run = sop_runs::complete(caller.cx(&state), &id).await?;
    Ok(Json(run.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseIn {
    /// What the run waits on (required, 1–10,000 characters).
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
}

#[utoipa::path(post, operation_id = "pauseSopRun", path = "/sop-runs/{id}/pause", tag = "sops",
    params(("id" = String, Path)), request_body = PauseIn,
    responses((status = 200, body = RunOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn pause(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
    ApiJson(b): ApiJson<PauseIn>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Write)?;
    let run = sop_runs::pause(caller.cx(&state), &id, &b.reason).await?;
    Ok(Json(run.into()))
}

#[utoipa::path(post, operation_id = "resumeSopRun", path = "/sop-runs/{id}/resume", tag = "sops",
    params(("id" = String, Path)),
    responses((status = 200, body = RunOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn resume(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Write)?;
    let run = sop_runs::resume(caller.cx(&state), &id, state.mailer.is_some()).await?;
    Ok(Json(run.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// The member who owns the run from now on (`mem_…`): an active member
    /// of this agency (422 otherwise).
    pub member: String,
}

#[utoipa::path(post, operation_id = "assignSopRun", path = "/sop-runs/{id}/assign", tag = "sops",
    params(("id" = String, Path)), request_body = AssignIn,
    responses((status = 200, body = RunOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<RunId>,
    ApiJson(b): ApiJson<AssignIn>,
) -> ApiResult<Json<RunOut>> {
    caller.require(Scope::Write)?;
    let run = sop_runs::assign(caller.cx(&state), &id, &b.member).await?;
    Ok(Json(run.into()))
}

// ---------------------------------------------------------------------------
// On-time KPI and notices
// ---------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct OnTimeOut {
    pub key: String,
    pub label: String,
    /// Runs done in the period.
    pub done: i64,
    /// Of those, done by their due time.
    pub on_time: i64,
    /// Runs still open whose due time passed in the period (already late).
    pub late_open: i64,
    /// `on_time / (done + late_open)`; null when nothing was decided.
    pub on_time_rate: Option<f64>,
}

impl From<OnTime> for OnTimeOut {
    fn from(t: OnTime) -> Self {
        OnTimeOut {
            key: t.key,
            label: t.label,
            done: t.done,
            on_time: t.on_time,
            late_open: t.late_open,
            on_time_rate: t.rate,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnTimeReportOut {
    pub from: String,
    pub to: String,
    pub overall: OnTimeOut,
    pub by_sop: Vec<OnTimeOut>,
    pub by_client: Vec<OnTimeOut>,
    pub by_owner: Vec<OnTimeOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodIn {
    /// RFC 3339; default 90 days before `to`.
    #[param(schema_with = super::openapi::time_param)]
    pub from: Option<String>,
    /// RFC 3339; default now.
    #[param(schema_with = super::openapi::time_param)]
    pub to: Option<String>,
}

#[utoipa::path(get, operation_id = "getSopKpis", path = "/kpis/sops", tag = "sops", params(PeriodIn),
    responses((status = 200, body = OnTimeReportOut), (status = 422)), security(("bearer" = [])))]
pub async fn kpis(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<PeriodIn>,
) -> ApiResult<Json<OnTimeReportOut>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let (from, to, until) = period(q.from.as_deref(), q.to.as_deref(), now)?;
    let r = sop_runs::on_time(&state.db, caller.agency_id(), from, until, now).await?;
    Ok(Json(OnTimeReportOut {
        from: rfc3339(from),
        to: rfc3339(to),
        overall: r.overall.into(),
        by_sop: r.by_sop.into_iter().map(Into::into).collect(),
        by_client: r.by_client.into_iter().map(Into::into).collect(),
        by_owner: r.by_owner.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeOut {
    /// `ntc_…`
    pub id: String,
    /// `sop_run.at_risk`, `sop_run.breached`, `incident.triage_at_risk`,
    /// `incident.triage_breached` or `incident.action_overdue`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub client_id: Option<String>,
    pub run_id: Option<String>,
    /// The incident it is about (`inc_…`), for incident notices.
    pub incident_id: Option<String>,
    pub created_at: String,
    pub read_at: Option<String>,
}

impl From<Notice> for NoticeOut {
    fn from(n: Notice) -> Self {
        NoticeOut {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            client_id: n.client_id,
            run_id: n.run_id,
            incident_id: n.incident_id,
            created_at: rfc3339(n.created_at),
            read_at: n.read_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<NoticeOut>,
    pub unread: i64,
}

#[utoipa::path(get, operation_id = "listNotices", path = "/notices", tag = "sops",
    responses((status = 200, body = NoticeList)), security(("bearer" = [])))]
pub async fn notices(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<NoticeList>> {
    caller.require(Scope::Read)?;
    let me = &caller.member.id;
    let items = sop_runs::notices(&state.db, caller.agency_id(), me, false, 100).await?;
    let unread = sop_runs::unread_count(&state.db, caller.agency_id(), me).await?;
    Ok(Json(NoticeList {
        items: items.into_iter().map(NoticeOut::from).collect(),
        unread,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedOut {
    pub marked: u64,
}

#[utoipa::path(post, operation_id = "markNoticesRead", path = "/notices/read", tag = "sops",
    responses((status = 200, body = MarkedOut)), security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<MarkedOut>> {
    caller.require(Scope::Read)?;
    let marked = sop_runs::mark_notices_read(caller.cx(&state)).await?;
    Ok(Json(MarkedOut { marked }))
}
