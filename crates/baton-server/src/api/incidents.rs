//! `/api/v1/incidents` (the incident log: report, triage, mitigate,
//! resolve, close with a postmortem, cancel, timeline notes, follow-up
//! actions), `/api/v1/incident-severities` (the agency's definitions and
//! triage limits) and `/api/v1/kpis/incidents` (the incident-count KPI).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::clock::{parse_rfc3339, rfc3339};
use baton_core::incidents::{FollowUp, Postmortem, Severity, Source, Status};
use baton_core::policy::{Action, Area, Subject};
use baton_core::types::{ClientId, ContentId, IncidentActionId, IncidentId, MemberId};
use baton_store::incidents::{
    self, Action as FollowUpAction, Incident, IncidentFilter, NewIncident, SeverityDef,
    TimelineEntry, Triage,
};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, period, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

/// The incident log's operations (merged into [`super::operations`]).
pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, report))
        .routes(routes!(get))
        .routes(routes!(triage))
        .routes(routes!(mitigate))
        .routes(routes!(resolve))
        .routes(routes!(close))
        .routes(routes!(cancel))
        .routes(routes!(note))
        .routes(routes!(postmortem))
        .routes(routes!(finish_action))
        .routes(routes!(severities))
        .routes(routes!(put_severity))
        .routes(routes!(kpis))
}

/// One line of an incident's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    pub at: String,
    /// `note`, or the event type (`incident.triaged`, `incident.triage_breached`, …).
    pub kind: String,
    pub text: String,
    pub by: String,
}

impl From<TimelineEntry> for TimelineOut {
    fn from(e: TimelineEntry) -> Self {
        TimelineOut {
            at: rfc3339(e.at),
            kind: e.kind,
            text: e.text,
            by: e.by,
        }
    }
}

/// A postmortem's follow-up action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionOut {
    pub id: String,
    pub title: String,
    pub owner: String,
    pub owner_name: String,
    /// `YYYY-MM-DD`, agency time.
    pub due_on: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub overdue: bool,
}

impl ActionOut {
    fn new(a: FollowUpAction, now: i64) -> Self {
        ActionOut {
            overdue: a.overdue(now),
            id: a.id,
            title: a.title,
            owner: a.owner_member_id,
            owner_name: a.owner_name,
            due_on: a.due_on,
            done_at: a.done_at.map(rfc3339),
            done_by: a.done_by,
        }
    }
}

/// What a sev1/sev2 explains before it closes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PostmortemOut {
    pub summary: String,
    pub impact: String,
    pub detection: String,
    pub response: String,
    pub root_cause: String,
}

/// An incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    /// `inc_…`
    pub id: String,
    pub title: String,
    /// `sev1` (critical), `sev2` (major) or `sev3` (minor).
    pub severity: String,
    /// `brand_risk`, `publishing_error`, `access` or `other`.
    pub source: String,
    /// `reported`, `triaged`, `mitigated`, `resolved`, `closed` or `cancelled`.
    pub status: String,
    pub client: Option<String>,
    pub client_name: Option<String>,
    pub content: Option<String>,
    pub content_title: Option<String>,
    /// The version of the content item that went out.
    pub content_version: Option<i64>,
    /// The review round that approved it.
    pub approval_round: Option<i64>,
    /// What happened.
    pub summary: Option<String>,
    pub reported_by: String,
    pub occurred_at: String,
    pub reported_at: String,
    /// When triage turns at risk (half the triage time).
    pub triage_at_risk_at: String,
    /// When triage is due: the severity's triage minutes after `reported_at`, 24/7.
    pub triage_due_at: String,
    /// Triage came (or is) past its due time.
    pub triage_breached: bool,
    /// Triaged by its due time; null while not triaged.
    pub triage_on_time: Option<bool>,
    /// The incident lead (`mem_…`), set at triage.
    pub lead: Option<String>,
    pub lead_name: Option<String>,
    /// The response plan, written at triage.
    pub plan: Option<String>,
    pub triaged_at: Option<String>,
    pub mitigated_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
    /// The resolve note: the log's closing summary.
    pub closing_summary: Option<String>,
    pub postmortem: Option<PostmortemOut>,
    /// An admin's reason to close over open follow-up actions.
    pub close_override: Option<String>,
    /// The moves allowed now (`triage`, `mitigate`, `resolve`, `close`, `cancel`).
    pub allowed_moves: Vec<String>,
    /// The `incident_response` SOP run it started (`run_…`; none without a
    /// client), on `GET /incidents/{id}` and moves (null in lists).
    pub run: Option<String>,
    /// Status changes, clock events and notes, oldest first (on `GET /incidents/{id}` and moves).
    pub timeline: Option<Vec<TimelineOut>>,
    /// The postmortem's follow-up actions (on `GET /incidents/{id}` and moves).
    pub actions: Option<Vec<ActionOut>>,
}

impl IncidentOut {
    fn new(i: Incident, now: i64) -> Self {
        IncidentOut {
            triage_breached: i.triage_breached(now),
            triage_on_time: i.triage_on_time(),
            allowed_moves: i
                .status
                .allowed()
                .iter()
                .map(|m| m.key().to_string())
                .collect(),
            id: i.id.to_string(),
            title: i.title,
            severity: i.severity.key().into(),
            source: i.source.key().into(),
            status: i.status.key().into(),
            client: i.client_id,
            client_name: i.client_name,
            content: i.content_id,
            content_title: i.content_title,
            content_version: i.content_version,
            approval_round: i.approval_round,
            summary: i.summary,
            reported_by: i.reported_by,
            occurred_at: rfc3339(i.occurred_at),
            reported_at: rfc3339(i.reported_at),
            triage_at_risk_at: rfc3339(i.triage_at_risk_at),
            triage_due_at: rfc3339(i.triage_due_at),
            lead: i.lead_member_id,
            lead_name: i.lead_name,
            plan: i.plan,
            triaged_at: i.triaged_at.map(rfc3339),
            mitigated_at: i.mitigated_at.map(rfc3339),
            resolved_at: i.resolved_at.map(rfc3339),
            closed_at: i.closed_at.map(rfc3339),
            cancelled_at: i.cancelled_at.map(rfc3339),
            cancel_reason: i.cancel_reason,
            closing_summary: i.closing_summary,
            postmortem: i.postmortem.map(|p| PostmortemOut {
                summary: p.summary,
                impact: p.impact,
                detection: p.detection,
                response: p.response,
                root_cause: p.root_cause,
            }),
            close_override: i.close_override,
            run: None,
            timeline: None,
            actions: None,
        }
    }
}

/// The whole incident: with its run, timeline and actions.
async fn full(state: &AppState, agency_id: &str, i: Incident) -> ApiResult<IncidentOut> {
    let now = state.now();
    let id = i.id.clone();
    let mut out = IncidentOut::new(i, now);
    out.run = incidents::run_of(&state.db, agency_id, &id).await?;
    out.timeline = Some(
        incidents::timeline(&state.db, agency_id, &id)
            .await?
            .into_iter()
            .map(TimelineOut::from)
            .collect(),
    );
    out.actions = Some(
        incidents::actions(&state.db, agency_id, &id)
            .await?
            .into_iter()
            .map(|a| ActionOut::new(a, now))
            .collect(),
    );
    Ok(out)
}

fn optional_time(field: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time")),
    }
}

fn severity(field: &str, v: &str) -> ApiResult<Severity> {
    Severity::parse(v).ok_or_else(|| ApiError::invalid(field, "use sev1, sev2 or sev3"))
}

/// A report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// One line, 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub title: String,
    /// `sev1` critical, `sev2` major, `sev3` minor (see `/incident-severities`).
    #[schema(schema_with = super::openapi::severity)]
    pub severity: String,
    #[schema(schema_with = super::openapi::incident_source)]
    pub source: String,
    /// The client it concerns (`cli_…`, this agency's: 422 otherwise).
    #[schema(schema_with = super::openapi::client_id_or_null)]
    pub client: Option<ClientId>,
    /// The content item it concerns (`cnt_…`): a publishing error; its client is the incident's.
    #[schema(schema_with = super::openapi::content_id_or_null)]
    pub content: Option<ContentId>,
    /// What happened (up to 10,000 characters).
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub summary: Option<String>,
    /// When it happened (RFC 3339), not after `reported_at`; `reported_at` when absent.
    #[schema(schema_with = super::openapi::time_or_empty)]
    pub occurred_at: Option<String>,
    /// When it was reported (RFC 3339; back-dated imports), never in the future; now when absent.
    #[schema(schema_with = super::openapi::time_or_empty)]
    pub reported_at: Option<String>,
}

#[utoipa::path(post, operation_id = "reportIncident", path = "/incidents", tag = "incidents", request_body = ReportIn,
    responses((status = 201, body = IncidentOut), (status = 422)), security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<ReportIn>,
) -> ApiResult<(StatusCode, Json<IncidentOut>)> {
    caller.require(Scope::Write)?;
    let input = NewIncident {
        title: b.title,
        severity: severity("severity", &b.severity)?,
        source: Source::parse(&b.source).ok_or_else(|| {
            ApiError::invalid(
                "source",
                "use brand_risk, publishing_error, access or other",
            )
        })?,
        client_id: b.client,
        content_id: b.content,
        summary: b.summary,
        occurred_at: optional_time("occurred_at", b.occurred_at.as_deref())?,
        reported_at: optional_time("reported_at", b.reported_at.as_deref())?,
    };
    let i = incidents::report(caller.cx(&state), input).await?;
    let out = full(&state, caller.agency_id(), i).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::incident_cursor)]
    pub cursor: Option<String>,
    /// Only incidents in this status.
    #[param(schema_with = super::openapi::incident_status_filter)]
    pub status: Option<String>,
    /// Only this client's (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
    /// Only this severity.
    #[param(schema_with = super::openapi::severity_filter)]
    pub severity: Option<String>,
    /// `true`: only open ones (not closed or cancelled).
    #[param(nullable = false)]
    pub open: Option<bool>,
}

#[utoipa::path(get, operation_id = "listIncidents", path = "/incidents", tag = "incidents", params(ListQuery),
    responses((status = 200, body = PageOut<IncidentOut>), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageOut<IncidentOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let f = IncidentFilter {
        status: nonempty(q.status)
            .map(|s| {
                Status::parse(&s).ok_or_else(|| {
                    ApiError::invalid(
                        "status",
                        "use reported, triaged, mitigated, resolved, closed or cancelled",
                    )
                })
            })
            .transpose()?,
        open: q.open.unwrap_or(false),
        client_id: match nonempty(q.client) {
            Some(c) if baton_core::ids::has_shape(&c, baton_core::ids::CLIENT) => Some(c),
            Some(_) => return Err(ApiError::invalid("client", "must be a client id (cli_…)")),
            None => None,
        },
        severity: nonempty(q.severity)
            .map(|s| severity("severity", &s))
            .transpose()?,
        content_id: None,
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::INCIDENT)?;
    let page = incidents::list(&state.db, caller.agency_id(), &f, cursor, q.limit).await?;
    let now = state.now();
    Ok(Json(PageOut::map(page, |i| IncidentOut::new(i, now))))
}

#[utoipa::path(get, operation_id = "getIncident", path = "/incidents/{id}", tag = "incidents",
    params(("id" = String, Path)), responses((status = 200, body = IncidentOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<IncidentId>,
) -> ApiResult<Json<IncidentOut>> {
    caller.require(Scope::Read)?;
    let i = incidents::get(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(full(&state, caller.agency_id(), i).await?))
}

/// Triage: severity confirmed, lead set, plan written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageIn {
    /// The confirmed severity; unchanged when absent.
    #[schema(schema_with = super::openapi::severity_or_null)]
    pub severity: Option<String>,
    /// The incident lead: an active member (`mem_…`; 422 otherwise).
    #[schema(schema_with = super::openapi::member_id)]
    pub lead: MemberId,
    /// The response plan (1–10,000 characters).
    #[schema(schema_with = super::openapi::required_note)]
    pub plan: String,
}

/// A move's note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    /// What was done (up to 10,000 characters).
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub note: Option<String>,
}

/// The resolve note: the log's closing summary.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIn {
    /// What was done and how it ended (1–10,000 characters).
    #[schema(schema_with = super::openapi::required_note)]
    pub note: String,
}

/// Why it is not an incident after all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    /// 1–10,000 characters.
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
}

/// One follow-up action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpIn {
    #[schema(schema_with = super::openapi::name_text)]
    pub title: String,
    /// Its owner: an active member (`mem_…`).
    #[schema(schema_with = super::openapi::member_id)]
    pub owner: MemberId,
    /// The day it is due, `YYYY-MM-DD` (agency time).
    #[schema(schema_with = super::openapi::date)]
    pub due_on: String,
}

/// A postmortem: every section 1–10,000 characters, and follow-up actions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostmortemIn {
    #[schema(schema_with = super::openapi::required_note)]
    pub summary: String,
    #[schema(schema_with = super::openapi::required_note)]
    pub impact: String,
    #[schema(schema_with = super::openapi::required_note)]
    pub detection: String,
    #[schema(schema_with = super::openapi::required_note)]
    pub response: String,
    #[schema(schema_with = super::openapi::required_note)]
    pub root_cause: String,
    /// Follow-up actions to add (at most 50).
    #[schema(max_items = 50)]
    #[serde(default)]
    pub actions: Vec<FollowUpIn>,
}

impl PostmortemIn {
    fn parts(self) -> (Postmortem, Vec<FollowUp>) {
        (
            Postmortem {
                summary: self.summary.trim().to_string(),
                impact: self.impact.trim().to_string(),
                detection: self.detection.trim().to_string(),
                response: self.response.trim().to_string(),
                root_cause: self.root_cause.trim().to_string(),
            },
            self.actions
                .into_iter()
                .map(|a| FollowUp {
                    title: a.title,
                    owner: a.owner.into_string(),
                    due_on: a.due_on,
                })
                .collect(),
        )
    }
}

/// Closing: the postmortem (required for sev1/sev2 unless saved before),
/// and an admin's override of open follow-up actions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIn {
    #[schema(nullable = true)]
    pub postmortem: Option<PostmortemIn>,
    /// Close although follow-up actions are open: the reason (admins only, 403 otherwise).
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub override_reason: Option<String>,
}

/// A timeline note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineNoteIn {
    /// 1–10,000 characters ("client called", "post removed").
    #[schema(schema_with = super::openapi::required_note)]
    pub note: String,
    /// When it happened (RFC 3339, not in the future); now when absent.
    #[schema(schema_with = super::openapi::time_or_empty)]
    pub at: Option<String>,
}

macro_rules! incident_move {
    ($(#[$doc:meta])* $name:ident, $op:literal, $path:literal, $body:ty, |$cx:ident, $id:ident, $b:ident, $caller:ident| $call:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, operation_id = $op, path = $path, tag = "incidents",
            params(("id" = String, Path)), request_body = $body,
            responses((status = 200, body = IncidentOut), (status = 404),
                (status = 409, description = "not allowed from the incident's status: the problem names the allowed moves"),
                (status = 422)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(state): State<AppState>,
            $caller: ApiCaller,
            ApiPath($id): ApiPath<IncidentId>,
            ApiJson($b): ApiJson<$body>,
        ) -> ApiResult<Json<IncidentOut>> {
            $caller.require(Scope::Write)?;
            let $cx = $caller.cx(&state);
            let i = $call;
            Ok(Json(full(&state, $caller.agency_id(), i).await?))
        }
    };
}

incident_move!(
    /// `reported → triaged`.
    triage, "triageIncident", "/incidents/{id}/triage", TriageIn, |cx, id, b, caller| {
        let severity = match b.severity.as_deref() {
            None | Some("") => None,
            Some(s) => Some(severity("severity", s)?),
        };
        incidents::triage(cx, &id, Triage { severity, lead: b.lead, plan: b.plan }).await?
    }
);
incident_move!(
    /// `triaged → mitigated`: the response plan is executed.
    mitigate, "mitigateIncident", "/incidents/{id}/mitigate", NoteIn, |cx, id, b, caller| {
        incidents::mitigate(cx, &id, b.note.as_deref()).await?
    }
);
incident_move!(
    /// `mitigated → resolved`, with the closing summary.
    resolve, "resolveIncident", "/incidents/{id}/resolve", ResolveIn, |cx, id, b, caller| {
        incidents::resolve(cx, &id, &b.note).await?
    }
);
incident_move!(
    /// `… → cancelled`: not an incident after all. Its SOP run is cancelled.
    cancel, "cancelIncident", "/incidents/{id}/cancel", CancelIn, |cx, id, b, caller| {
        incidents::cancel(cx, &id, &b.reason).await?
    }
);
incident_move!(
    /// `resolved → closed`. A sev1/sev2 without a postmortem: 422. Open
    /// follow-up actions: 409, unless an admin gives `override_reason`.
    close, "closeIncident", "/incidents/{id}/close", CloseIn, |cx, id, b, caller| {
        let override_reason = b.override_reason.filter(|r| !r.trim().is_empty());
        if override_reason.is_some() {
            caller.can(&caller.principal(), Action::Administer, Subject::Setting(Area::Incidents))?;
        }
        incidents::close(cx, &id, b.postmortem.map(PostmortemIn::parts), override_reason.as_deref()).await?
    }
);

#[utoipa::path(put, operation_id = "putIncidentPostmortem", path = "/incidents/{id}/postmortem", tag = "incidents",
    params(("id" = String, Path)), request_body = PostmortemIn,
    responses((status = 200, body = IncidentOut), (status = 404),
        (status = 409, description = "the incident is not between triage and closing"), (status = 422)),
    security(("bearer" = [])))]
pub async fn postmortem(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(b): ApiJson<PostmortemIn>,
) -> ApiResult<Json<IncidentOut>> {
    caller.require(Scope::Write)?;
    let (pm, actions) = b.parts();
    let i = incidents::save_postmortem(caller.cx(&state), &id, pm, actions).await?;
    Ok(Json(full(&state, caller.agency_id(), i).await?))
}

#[utoipa::path(post, operation_id = "addIncidentNote", path = "/incidents/{id}/notes", tag = "incidents",
    params(("id" = String, Path)), request_body = TimelineNoteIn,
    responses((status = 201, body = IncidentOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn note(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<IncidentId>,
    ApiJson(b): ApiJson<TimelineNoteIn>,
) -> ApiResult<(StatusCode, Json<IncidentOut>)> {
    caller.require(Scope::Write)?;
    let at = optional_time("at", b.at.as_deref())?;
    let i = incidents::add_note(caller.cx(&state), &id, &b.note, at).await?;
    Ok((
        StatusCode::CREATED,
        Json(full(&state, caller.agency_id(), i).await?),
    ))
}

#[utoipa::path(post, operation_id = "finishIncidentAction", path = "/incidents/{id}/actions/{action}/done", tag = "incidents",
    params(("id" = String, Path), ("action" = String, Path)),
    responses((status = 200, body = IncidentOut), (status = 404), (status = 409, description = "already done")),
    security(("bearer" = [])))]
pub async fn finish_action(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, action)): ApiPath<(IncidentId, IncidentActionId)>,
) -> ApiResult<Json<IncidentOut>> {
    caller.require(Scope::Write)?;
    let i = incidents::finish_action(caller.cx(&state), &id, &action).await?;
    Ok(Json(full(&state, caller.agency_id(), i).await?))
}

/// One severity as the agency defines it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityOut {
    pub severity: String,
    /// "Critical", "Major", "Minor".
    pub name: String,
    /// The one-line definition shown where a severity is chosen.
    pub definition: String,
    /// Triage is due this many minutes after the report (24/7); at risk at half.
    pub triage_minutes: i64,
    pub customized: bool,
}

impl From<SeverityDef> for SeverityOut {
    fn from(d: SeverityDef) -> Self {
        SeverityOut {
            severity: d.severity.key().into(),
            name: d.severity.name().into(),
            definition: d.definition,
            triage_minutes: d.triage_minutes,
            customized: d.customized,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityList {
    pub items: Vec<SeverityOut>,
}

#[utoipa::path(get, operation_id = "listIncidentSeverities", path = "/incident-severities", tag = "incidents",
    responses((status = 200, body = SeverityList)), security(("bearer" = [])))]
pub async fn severities(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<SeverityList>> {
    caller.require(Scope::Read)?;
    let items = incidents::severities(&state.db, caller.agency_id()).await?;
    Ok(Json(SeverityList {
        items: items.into_iter().map(SeverityOut::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityIn {
    /// One line, 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub definition: String,
    /// 5–4,320 minutes; applies to incidents reported from now on.
    #[schema(schema_with = super::openapi::triage_minutes)]
    pub triage_minutes: i64,
}

#[utoipa::path(put, operation_id = "putIncidentSeverity", path = "/incident-severities/{severity}", tag = "incidents",
    params(("severity" = String, Path, description = "`sev1`, `sev2` or `sev3`")), request_body = SeverityIn,
    responses((status = 200, body = SeverityOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn put_severity(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<SeverityIn>,
) -> ApiResult<Json<SeverityOut>> {
    caller.can(
        &caller.principal(),
        Action::Administer,
        Subject::Setting(Area::Incidents),
    )?;
    let sev = Severity::parse(&key).ok_or(ApiError::NotFound)?;
    let d =
        incidents::save_severity(caller.cx(&state), sev, &b.definition, b.triage_minutes).await?;
    Ok(Json(d.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// Start of the period (RFC 3339); 90 days before `to` when absent.
    #[param(schema_with = super::openapi::time_param)]
    pub from: Option<String>,
    /// End of the period (RFC 3339); now when absent.
    #[param(schema_with = super::openapi::time_param)]
    pub to: Option<String>,
    /// Only this client's (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
}

/// The incident-count KPI over incidents reported in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentKpisOut {
    pub from: String,
    pub to: String,
    /// Incidents reported in the period (cancelled ones are not counted).
    pub count: i64,
    /// Per severity (`sev1`, `sev2`, `sev3`).
    pub by_severity: BTreeMap<String, i64>,
    /// Per source (`brand_risk`, `publishing_error`, `access`, `other`).
    pub by_source: BTreeMap<String, i64>,
    /// Median of report → triage over the triaged ones; null without any.
    pub median_time_to_triage_seconds: Option<i64>,
    /// Share triaged by their due time, over those whose triage is settled
    /// (triaged, or past due untriaged); null without any.
    pub triage_on_time_rate: Option<f64>,
    /// Of the counted ones, those not closed yet.
    pub open: i64,
    /// Publishing QA waived in the period: each a sev3 publishing-error risk.
    pub qa_waivers: i64,
    /// One sentence: how it is counted.
    pub definition: String,
}

/// What the incident-count KPI counts.
pub const KPI_DEFINITION: &str = "Incidents (brand-risk events, publishing errors, access and other) reported in the period, cancelled ones excluded; time to triage runs from the report to triage on a 24/7 clock, on time when triaged by the severity's triage limit.";

#[utoipa::path(get, operation_id = "getIncidentKpis", path = "/kpis/incidents", tag = "incidents", params(KpiQuery),
    responses((status = 200, body = IncidentKpisOut), (status = 422)), security(("bearer" = [])))]
pub async fn kpis(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Json<IncidentKpisOut>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let (from, to, until) = period(q.from.as_deref(), q.to.as_deref(), now)?;
    let client = match q.client.as_deref() {
        None | Some("") => None,
        Some(c) if baton_core::ids::has_shape(c, baton_core::ids::CLIENT) => Some(c),
        Some(_) => return Err(ApiError::invalid("client", "must be a client id (cli_…)")),
    };
    let k = incidents::kpis(&state.db, caller.agency_id(), from, until, client, now).await?;
    let waivers =
        incidents::qa_waiver_count(&state.db, caller.agency_id(), from, until, client).await?;
    Ok(Json(IncidentKpisOut {
        from: rfc3339(from),
        to: rfc3339(to),
        count: k.count,
        by_severity: k.by_severity,
        by_source: k.by_source,
        median_time_to_triage_seconds: k.median_time_to_triage_seconds,
        triage_on_time_rate: k.triage_on_time_rate,
        open: k.open,
        qa_waivers: waivers,
        definition: KPI_DEFINITION.into(),
    }))
}
