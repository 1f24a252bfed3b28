//! `/api/v1/kpis` (the six ops KPIs over a period, one set of definitions),
//! `/api/v1/kpis/weekly` (13 ISO weeks, JSON or CSV) and
//! `/api/v1/kpis/settings` (what counts as a client's first value).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::kpis::{Durations, FirstValue, Kpi, OnTime, Report};
use baton_core::policy::{Action, Area, Subject as PolicySubject};
use baton_store::kpis;
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{period, ApiJson, ApiQuery};
use crate::state::AppState;

/// The KPI operations (merged into [`super::operations`]).
pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(weekly))
        .routes(routes!(members))
        .routes(routes!(get_settings, put_settings))
}

/// Median and 90th percentile, wall-clock and business time.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiDurationsOut {
    pub n: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    /// Counted in the agency's business hours.
    pub business_median_seconds: Option<i64>,
    pub business_p90_seconds: Option<i64>,
}

impl From<&Durations> for KpiDurationsOut {
    fn from(d: &Durations) -> Self {
        let s = |ms: Option<i64>| ms.map(|v| v / 1000);
        KpiDurationsOut {
            n: d.n,
            median_seconds: s(d.median_ms),
            p90_seconds: s(d.p90_ms),
            business_median_seconds: s(d.business_median_ms),
            business_p90_seconds: s(d.business_p90_ms),
        }
    }
}

/// The cycle time's stages: where the time goes.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiStagesOut {
    pub brief_to_draft: KpiDurationsOut,
    pub draft_to_approved: KpiDurationsOut,
    pub approved_to_published: KpiDurationsOut,
}

/// On time among the judged.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiOnTimeOut {
    pub n: usize,
    pub on_time: usize,
    /// Percent, 0–100; null when nothing was judged.
    pub rate: Option<f64>,
}

impl From<OnTime> for KpiOnTimeOut {
    fn from(o: OnTime) -> Self {
        KpiOnTimeOut {
            n: o.n,
            on_time: o.on_time,
            rate: o.percent(),
        }
    }
}

/// One KPI.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiOut {
    /// In `unit`; null when nothing counted toward it (never a misleading 0).
    pub value: Option<f64>,
    /// How many things it is computed over.
    pub n: usize,
    /// `days` (calendar days, the median), `percent` (0–100) or `count`.
    pub unit: String,
    /// One sentence: how it is counted.
    pub definition: String,
    pub label: String,
    /// Time KPIs: median and p90 in calendar and business time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durations: Option<KpiDurationsOut>,
    /// Cycle time: the split by stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stages: Option<KpiStagesOut>,
    /// Rework rate: items with a major revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reworked: Option<usize>,
    /// On-time delivery: content published by its planned day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<KpiOnTimeOut>,
    /// On-time delivery: SOP runs done by their due time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sops: Option<KpiOnTimeOut>,
}

/// The six ops KPIs by key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpisOut {
    pub time_to_verified_access: KpiOut,
    pub time_to_first_value: KpiOut,
    pub cycle_time: KpiOut,
    pub rework_rate: KpiOut,
    pub on_time_delivery_rate: KpiOut,
    pub incident_count: KpiOut,
}

/// Who the access wait is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiAccessWaitOut {
    /// Requested → granted by the client (requests granted in the period).
    pub waiting_on_client: KpiDurationsOut,
    /// Granted → verified by the team (requests verified in the period).
    pub waiting_on_team: KpiDurationsOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiOverviewOut {
    pub from: String,
    pub to: String,
    /// The client the figures are for; null for the whole agency.
    pub client: Option<String>,
    pub kpis: KpisOut,
    pub access_wait: KpiAccessWaitOut,
    /// What counts as a client's first value: `published` or `client_approved`.
    pub first_value_rule: String,
    /// Where the definitions are explained for people.
    pub definitions_url: String,
}

/// One KPI of `r`, with its details.
pub fn kpi_out(r: &Report, k: Kpi, fv: FirstValue) -> KpiOut {
    let v = r.value(k);
    let mut out = KpiOut {
        value: v.value,
        n: v.n,
        unit: k.unit().key().into(),
        definition: k.definition(fv),
        label: k.label().into(),
        durations: None,
        stages: None,
        reworked: None,
        content: None,
        sops: None,
    };
    match k {
        Kpi::TimeToVerifiedAccess => out.durations = Some((&r.time_to_verified_access).into()),
        Kpi::TimeToFirstValue => out.durations = Some((&r.time_to_first_value).into()),
        Kpi::CycleTime => {
            out.durations = Some((&r.cycle_time).into());
            out.stages = Some(KpiStagesOut {
                brief_to_draft: (&r.stages.brief_to_draft).into(),
                draft_to_approved: (&r.stages.draft_to_approved).into(),
                approved_to_published: (&r.stages.approved_to_published).into(),
            });
        }
        Kpi::ReworkRate => out.reworked = Some(r.reworked),
        Kpi::OnTimeDeliveryRate => {
            out.content = Some(r.content_on_time.into());
            out.sops = Some(r.sops_on_time.into());
        }
        Kpi::IncidentCount => {}
    }
    out
}

fn kpis_out(r: &Report, fv: FirstValue) -> KpisOut {
    KpisOut {
        time_to_verified_access: kpi_out(r, Kpi::TimeToVerifiedAccess, fv),
        time_to_first_value: kpi_out(r, Kpi::TimeToFirstValue, fv),
        cycle_time: kpi_out(r, Kpi::CycleTime, fv),
        rework_rate: kpi_out(r, Kpi::ReworkRate, fv),
        on_time_delivery_rate: kpi_out(r, Kpi::OnTimeDeliveryRate, fv),
        incident_count: kpi_out(r, Kpi::IncidentCount, fv),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// Start of the period (RFC 3339); 90 days before `to` when absent.
    #[param(schema_with = super::openapi::time_param)]
    pub from: Option<String>,
    /// End of the period (RFC 3339); now when absent.
    #[param(schema_with = super::openapi::time_param)]
    pub to: Option<String>,
    /// Only this client's figures (`cli_…`; 404 when not this agency's).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
}

/// The client filter: none, or a client of this agency (404 otherwise).
pub(super) async fn client_filter(
    state: &AppState,
    caller: &ApiCaller,
    client: Option<&str>,
) -> ApiResult<Option<baton_core::types::ClientId>> {
    match client {
        None | Some("") => Ok(None),
        Some(c) => {
            let id = baton_core::types::ClientId::parse(c).map_err(|_| ApiError::NotFound)?;
            baton_store::clients::get(&state.db, caller.agency_id(), id.as_str()).await?;
            Ok(Some(id))
        }
    }
}

#[utoipa::path(get, operation_id = "getKpis", path = "/kpis", tag = "kpis", params(OverviewQuery),
    responses((status = 200, body = KpiOverviewOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn overview(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<OverviewQuery>,
) -> ApiResult<Json<KpiOverviewOut>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let (from, to, until) = period(q.from.as_deref(), q.to.as_deref(), now)?;
    let client = client_filter(&state, &caller, q.client.as_deref())
        .await?
        .map(|c| c.into_string());
    let p = kpis::period(
        &state.db,
        caller.agency_id(),
        from,
        until,
        client.as_deref(),
        now,
    )
    .await?;
    Ok(Json(KpiOverviewOut {
        from: rfc3339(from),
        to: rfc3339(to),
        client,
        kpis: kpis_out(&p.report, p.first_value),
        access_wait: KpiAccessWaitOut {
            waiting_on_client: (&p.report.waiting_on_client).into(),
            waiting_on_team: (&p.report.waiting_on_team).into(),
        },
        first_value_rule: p.first_value.key().into(),
        definitions_url: "/kpis/definitions".into(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WeeklyQuery {
    /// How many ISO weeks, 1–53 (default 13), ending with this week.
    #[param(minimum = 1, maximum = 53, nullable = false)]
    pub weeks: Option<i64>,
    /// Only this client's figures (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
    /// `csv` for a CSV download (or send `Accept: text/csv`); `json` by default.
    #[param(schema_with = super::openapi::download_format)]
    pub format: Option<String>,
}

/// One KPI of one week.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiWeekValueOut {
    pub value: Option<f64>,
    pub n: usize,
    pub unit: String,
}

/// One ISO week.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiWeekOut {
    /// `2026-W48`
    pub week: String,
    /// Monday, `YYYY-MM-DD` (agency time).
    pub from: String,
    /// Sunday, `YYYY-MM-DD` (agency time).
    pub to: String,
    /// Every KPI by key.
    pub kpis: BTreeMap<String, KpiWeekValueOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KpiWeeklyOut {
    /// Oldest first; the last is the current week (so far).
    pub weeks: Vec<KpiWeekOut>,
    pub client: Option<String>,
    pub definitions_url: String,
}

/// Whether the caller asked for CSV (`format=csv` or `Accept: text/csv`).
pub fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> ApiResult<bool> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        None | Some("") => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.split(',').any(|p| p.trim().starts_with("text/csv")))),
        Some(_) => Err(ApiError::invalid("format", "use csv or json")),
    }
}

/// `rows` (a header first) as an RFC 4180 CSV download named `filename`.
pub fn csv_response(filename: &str, rows: Vec<Vec<String>>) -> ApiResult<Response> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The weekly trend as CSV rows: a header, then one row per week.
pub fn weekly_csv_rows(weeks: &[kpis::Week]) -> Vec<Vec<String>> {
    let mut header = vec!["week".to_string(), "from".into(), "to".into()];
    for k in Kpi::ALL {
        header.push(format!("{}_{}", k.key(), k.unit().key()));
        header.push(format!("{}_n", k.key()));
    }
    let mut rows = vec![header];
    for w in weeks {
        let mut row = vec![
            w.week.to_string(),
            w.week.monday().to_string(),
            w.week.sunday().to_string(),
        ];
        for k in Kpi::ALL {
            let v = w.report.value(k);
            row.push(v.value.map(|x| x.to_string()).unwrap_or_default());
            row.push(v.n.to_string());
        }
        rows.push(row);
    }
    rows
}

#[utoipa::path(get, operation_id = "getWeeklyKpis", path = "/kpis/weekly", tag = "kpis", params(WeeklyQuery),
    responses(
        (status = 200, description = "The weeks, oldest first; CSV with `format=csv` or `Accept: text/csv`",
            content((KpiWeeklyOut = "application/json"), (String = "text/csv"))),
        (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn weekly(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<WeeklyQuery>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let n = q.weeks.unwrap_or(13);
    if !(1..=53).contains(&n) {
        return Err(ApiError::invalid("weeks", "must be 1–53"));
    }
    let csv = wants_csv(q.format.as_deref(), &headers)?;
    let client = client_filter(&state, &caller, q.client.as_deref())
        .await?
        .map(|c| c.into_string());
    let now = state.now();
    let (weeks, _) = kpis::weekly(
        &state.db,
        caller.agency_id(),
        n as usize,
        client.as_deref(),
        now,
    )
    .await?;
    if csv {
        return csv_response("kpis-weekly.csv", weekly_csv_rows(&weeks));
    }
    let out = KpiWeeklyOut {
        weeks: weeks
            .iter()
            .map(|w| KpiWeekOut {
                week: w.week.to_string(),
                from: w.week.monday().to_string(),
                to: w.week.sunday().to_string(),
                kpis: Kpi::ALL
                    .iter()
                    .map(|k| {
                        let v = w.report.value(*k);
                        (
                            k.key().to_string(),
                            KpiWeekValueOut {
                                value: v.value,
                                n: v.n,
                                unit: k.unit().key().into(),
                            },
                        )
                    })
                    .collect(),
            })
            .collect(),
        client,
        definitions_url: "/kpis/definitions".into(),
    };
    Ok(Json(out).into_response())
}

/// What the KPIs depend on that the agency chooses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiSettings {
    /// What counts as a client's first meaningful output for
    /// time-to-first-value: `published` (its first content item published,
    /// the default) or `client_approved` (the first item the client approved).
    #[schema(schema_with = super::openapi::first_value_rule)]
    pub first_value_rule: String,
}

#[utoipa::path(get, operation_id = "getKpiSettings", path = "/kpis/settings", tag = "kpis",
    responses((status = 200, body = KpiSettings)), security(("bearer" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<KpiSettings>> {
    caller.require(Scope::Read)?;
    let fv = kpis::first_value_rule(&state.db, caller.agency_id()).await?;
    Ok(Json(KpiSettings {
        first_value_rule: fv.key().into(),
    }))
}

#[utoipa::path(put, operation_id = "putKpiSettings", path = "/kpis/settings", tag = "kpis", request_body = KpiSettings,
    responses((status = 200, body = KpiSettings), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<KpiSettings>,
) -> ApiResult<Json<KpiSettings>> {
    caller.can(
        &caller.principal(),
        Action::Administer,
        PolicySubject::Setting(Area::Scorecard),
    )?;
    let fv = FirstValue::parse(&b.first_value_rule)
        .ok_or_else(|| ApiError::invalid("first_value_rule", "use published or client_approved"))?;
    let fv = kpis::set_first_value_rule(caller.cx(&state), fv).await?;
    Ok(Json(KpiSettings {
        first_value_rule: fv.key().into(),
    }))
}

/// SOP runs a member owned, judged on time.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberRunsOut {
    pub done: i64,
    pub on_time: i64,
    /// Open runs already past their due time.
    pub late_open: i64,
    /// Percent, 0–100; null when nothing was judged.
    pub rate: Option<f64>,
}

/// What a creative produced (items whose first draft they added).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCreativeOut {
    /// Items first submitted for review in the period.
    pub items: usize,
    /// Creative velocity: those items per week of the period.
    pub per_week: f64,
    /// Percent of their approved items approved in the first round.
    pub first_draft_acceptance: Option<f64>,
    /// Percent of decided rounds of their items that were approvals.
    pub approval_pass_rate: Option<f64>,
}

/// One member's figures, where Baton has the data.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberKpisOut {
    /// `mem_…`
    pub member: String,
    pub name: String,
    pub roles: Vec<String>,
    /// Null when they owned no run due or done in the period.
    pub runs: Option<MemberRunsOut>,
    /// Null when no item of theirs was submitted in the period.
    pub creative: Option<MemberCreativeOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersKpisOut {
    pub from: String,
    pub to: String,
    /// Active members, by name.
    pub members: Vec<MemberKpisOut>,
}

/// Per-member figures over `[from, until)`: runs owned on time, and for
/// creatives velocity, first-draft acceptance and approval pass rate.
pub async fn member_figures(
    state: &AppState,
    agency_id: &str,
    from: i64,
    until: i64,
    now: i64,
) -> ApiResult<Vec<MemberKpisOut>> {
    let runs = baton_store::sop_runs::on_time(&state.db, agency_id, from, until, now).await?;
    let content = baton_store::content_metrics::report(
        &state.db,
        agency_id,
        from,
        until,
        &baton_store::content_metrics::MetricsFilter::default(),
    )
    .await?;
    let weeks = ((until - from) as f64 / (7.0 * 86_400_000.0)).max(1.0 / 7.0);
    let pct = |r: Option<f64>| r.map(|v| (v * 10_000.0).round() / 100.0);
    let mut members = baton_store::members::list_active(&state.db, agency_id).await?;
    members.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(members
        .into_iter()
        .map(|m| {
            let runs = runs
                .by_owner
                .iter()
                .find(|o| o.key == m.id)
                .map(|o| MemberRunsOut {
                    done: o.done,
                    on_time: o.on_time,
                    late_open: o.late_open,
                    rate: pct(o.rate),
                });
            let creative =
                content
                    .by_creative
                    .iter()
                    .find(|g| g.key == m.id)
                    .map(|g| MemberCreativeOut {
                        items: g.metrics.items,
                        per_week: (g.metrics.items as f64 / weeks * 100.0).round() / 100.0,
                        first_draft_acceptance: pct(g.metrics.first_draft_acceptance),
                        approval_pass_rate: pct(g.metrics.approval_pass_rate),
                    });
            MemberKpisOut {
                member: m.id,
                name: m.name,
                roles: m.roles.iter().map(|r| r.key().to_string()).collect(),
                runs,
                creative,
            }
        })
        .collect())
}

#[utoipa::path(get, operation_id = "getMemberKpis", path = "/kpis/members", tag = "kpis", params(super::sops::PeriodIn),
    responses((status = 200, body = MembersKpisOut), (status = 422)), security(("bearer" = [])))]
pub async fn members(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<super::sops::PeriodIn>,
) -> ApiResult<Json<MembersKpisOut>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let (from, to, until) = period(q.from.as_deref(), q.to.as_deref(), now)?;
    Ok(Json(MembersKpisOut {
        from: rfc3339(from),
        to: rfc3339(to),
        members: member_figures(&state, caller.agency_id(), from, until, now).await?,
    }))
}
