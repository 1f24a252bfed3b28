//! The KPI pages: `/kpis` (the six ops KPIs over a period with their
//! details, the access wait by who waits, 13-week trends, CSV downloads),
//! `/kpis/definitions` (the one set of definitions every number links to),
//! and the trend section the dashboard and client pages include.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use baton_core::human;
use baton_core::kpis::{Durations, FirstValue, Kpi, OnTime, Report};
use baton_store::kpis;
use serde::Deserialize;

use super::chart::{trend, TrendChart};
use crate::api::kpis::{csv_response, wants_csv, weekly_csv_rows};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::layout::{agency_of, render, Layout};
use crate::web::WebError;

/// One row of the trend table.
pub struct TrendRow {
    pub week: String,
    pub cells: Vec<String>,
}

/// The 13-week trends of the six KPIs, as charts and as a table.
pub struct KpiTrends {
    pub charts: Vec<TrendChart>,
    pub labels: Vec<&'static str>,
    pub rows: Vec<TrendRow>,
    /// Where the same numbers download as CSV.
    pub csv_href: String,
}

/// `value` of `kpi` as a person reads it, "—" without data.
pub fn show(kpi: Kpi, value: Option<f64>) -> String {
    value
        .map(|v| kpi.unit().format(v))
        .unwrap_or_else(|| "—".into())
}

/// The trends of the agency (or of one client) over the 13 weeks ending now.
pub async fn trends(
    state: &AppState,
    agency_id: &str,
    client_id: Option<&str>,
    now: i64,
) -> Result<KpiTrends, WebError> {
    let (weeks, _) = kpis::weekly(&state.db, agency_id, 13, client_id, now).await?;
    let names: Vec<String> = weeks.iter().map(|w| w.week.to_string()).collect();
    let charts = Kpi::ALL
        .into_iter()
        .map(|k| {
            let values: Vec<(Option<f64>, usize)> = weeks
                .iter()
                .map(|w| {
                    let v = w.report.value(k);
                    (v.value, v.n)
                })
                .collect();
            trend(
                k.key(),
                k.label(),
                &names,
                &values,
                |x| k.unit().format(x),
                k.lower_is_better(),
            )
        })
        .collect();
    let rows = weeks
        .iter()
        .map(|w| TrendRow {
            week: w.week.to_string(),
            cells: Kpi::ALL
                .into_iter()
                .map(|k| show(k, w.report.value(k).value))
                .collect(),
        })
        .collect();
    let csv_href = match client_id {
        Some(c) => format!("/kpis/weekly.csv?client={c}"),
        None => "/kpis/weekly.csv".into(),
    };
    Ok(KpiTrends {
        charts,
        labels: Kpi::ALL.map(|k| k.label()).to_vec(),
        rows,
        csv_href,
    })
}

/// One KPI card of the `/kpis` page.
pub struct KpiCard {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub n: usize,
    pub definition: String,
    /// Detail lines ("90th percentile 6 days", "business time: …").
    pub details: Vec<String>,
}

/// "median 2 days 5 h · 90th percentile 6 days · business: 3 business days 0 h".
fn durations_lines(d: &Durations, day_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(m), Some(p)) = (d.median_ms, d.p90_ms) {
        out.push(format!(
            "Median {} · 90th percentile {}",
            human::duration(m),
            human::duration(p)
        ));
    }
    if let (Some(m), Some(p)) = (d.business_median_ms, d.business_p90_ms) {
        out.push(format!(
            "In business time: median {} · 90th percentile {}",
            human::business_duration(m, day_ms),
            human::business_duration(p, day_ms)
        ));
    }
    out
}

fn on_time_line(what: &str, o: OnTime) -> String {
    match o.percent() {
        Some(p) => format!(
            "{what}: {} on time ({} of {})",
            Kpi::OnTimeDeliveryRate.unit().format(p),
            o.on_time,
            o.n
        ),
        None => format!("{what}: nothing due or done"),
    }
}

/// The six cards of a period.
pub fn cards(r: &Report, fv: FirstValue, day_ms: i64) -> Vec<KpiCard> {
    Kpi::ALL
        .into_iter()
        .map(|k| {
            let v = r.value(k);
            let details = match k {
                Kpi::TimeToVerifiedAccess => durations_lines(&r.time_to_verified_access, day_ms),
                Kpi::TimeToFirstValue => durations_lines(&r.time_to_first_value, day_ms),
                Kpi::CycleTime => {
                    let mut d = durations_lines(&r.cycle_time, day_ms);
                    let stage = |name: &str, s: &Durations| {
                        s.median_ms
                            .map(|m| format!("{name}: median {}", human::duration(m)))
                            .unwrap_or_else(|| format!("{name}: —"))
                    };
                    d.push(stage("Brief → first draft", &r.stages.brief_to_draft));
                    d.push(stage("First draft → approved", &r.stages.draft_to_approved));
                    d.push(stage(
                        "Approved → published",
                        &r.stages.approved_to_published,
                    ));
                    d
                }
                Kpi::ReworkRate => vec![format!(
                    "{} of {} reviewed items needed a major revision",
                    r.reworked, r.reviewed
                )],
                Kpi::OnTimeDeliveryRate => vec![
                    on_time_line("Content by its planned day", r.content_on_time),
                    on_time_line("SOP runs by their due time", r.sops_on_time),
                ],
                Kpi::IncidentCount => Vec::new(),
            };
            KpiCard {
                key: k.key(),
                label: k.label(),
                value: show(k, v.value),
                n: v.n,
                definition: k.definition(fv),
                details,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpisPage {
    layout: Layout,
    days: i64,
    periods: &'static [i64],
    cards: Vec<KpiCard>,
    waiting_on_client: Vec<String>,
    waiting_on_team: Vec<String>,
    trends: KpiTrends,
    members: Vec<MemberRow>,
}

/// One member's line of the "By team member" table.
pub struct MemberRow {
    pub name: String,
    pub runs: String,
    pub velocity: String,
    pub first_draft: String,
    pub pass_rate: String,
}

fn percent_or_dash(v: Option<f64>) -> String {
    v.map(|p| Kpi::ReworkRate.unit().format(p))
        .unwrap_or_else(|| "—".into())
}

const PERIODS: &[i64] = &[7, 30, 90, 365];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KpisQuery {
    days: Option<i64>,
    format: Option<String>,
}

/// `GET /kpis`: the six KPIs over the last `days` (30 by default), with
/// their trends; `?format=csv` downloads the period's figures.
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    headers: HeaderMap,
    Query(q): Query<KpisQuery>,
) -> Result<Response, WebError> {
    let days = q.days.filter(|d| PERIODS.contains(d)).unwrap_or(30);
    let now = state.now();
    let from = now - days * 86_400_000;
    let p = kpis::period(&state.db, session.agency_id(), from, now + 1, None, now).await?;
    let (calendar, _) = baton_store::calendars::get(&state.db, session.agency_id()).await?;
    let day_ms = i64::from(calendar.day_minutes) * 60_000;
    // An unknown format shows the page.
    if wants_csv(q.format.as_deref(), &headers).unwrap_or(false) {
        let mut rows = vec![["kpi", "value", "unit", "n", "from", "to", "definition"]
            .map(String::from)
            .to_vec()];
        let tz = baton_store::calendars::zone(&state.db, session.agency_id()).await?;
        let day = |ms: i64| {
            jiff::Timestamp::from_millisecond(ms)
                .map(|t| t.to_zoned(tz.clone()).date().to_string())
                .unwrap_or_default()
        };
        for k in Kpi::ALL {
            let v = p.report.value(k);
            rows.push(vec![
                k.key().into(),
                v.value.map(|x| x.to_string()).unwrap_or_default(),
                k.unit().key().into(),
                v.n.to_string(),
                day(from),
                day(now),
                k.definition(p.first_value),
            ]);
        }
        return Ok(csv_response(&format!("kpis-last-{days}-days.csv"), rows)?);
    }
    let agency = agency_of(&state, &session).await?;
    let page = KpisPage {
        layout: Layout::app(&agency, &session, "KPIs", "kpis"),
        days,
        periods: PERIODS,
        cards: cards(&p.report, p.first_value, day_ms),
        waiting_on_client: durations_lines(&p.report.waiting_on_client, day_ms),
        waiting_on_team: durations_lines(&p.report.waiting_on_team, day_ms),
        trends: trends(&state, session.agency_id(), None, now).await?,
        members: crate::api::kpis::member_figures(&state, session.agency_id(), from, now + 1, now)
            .await?
            .into_iter()
            .filter(|m| m.runs.is_some() || m.creative.is_some())
            .map(|m| MemberRow {
                runs: m
                    .runs
                    .map(|r| {
                        format!(
                            "{} on time ({} of {})",
                            percent_or_dash(r.rate),
                            r.on_time,
                            r.done + r.late_open
                        )
                    })
                    .unwrap_or_else(|| "—".into()),
                velocity: m
                    .creative
                    .as_ref()
                    .map(|c| {
                        format!(
                            "{} a week ({} items)",
                            baton_core::kpis::trim(c.per_week),
                            c.items
                        )
                    })
                    .unwrap_or_else(|| "—".into()),
                first_draft: percent_or_dash(
                    m.creative.as_ref().and_then(|c| c.first_draft_acceptance),
                ),
                pass_rate: percent_or_dash(m.creative.as_ref().and_then(|c| c.approval_pass_rate)),
                name: m.name,
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeeklyCsvQuery {
    client: Option<String>,
}

/// `GET /kpis/weekly.csv`: the 13-week trend (the agency's or a client's).
pub async fn weekly_csv(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<WeeklyCsvQuery>,
) -> Result<Response, WebError> {
    let client = match q.client.as_deref() {
        None | Some("") => None,
        Some(c) => {
            let id = baton_core::types::ClientId::parse(c).map_err(|_| WebError::NotFound)?;
            baton_store::clients::get(&state.db, session.agency_id(), id.as_str()).await?;
            Some(id.into_string())
        }
    };
    let (weeks, _) = kpis::weekly(
        &state.db,
        session.agency_id(),
        13,
        client.as_deref(),
        state.now(),
    )
    .await?;
    Ok(csv_response("kpis-weekly.csv", weekly_csv_rows(&weeks))?)
}

/// One definition.
pub struct Definition {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub definition: String,
    pub why: &'static str,
}

#[derive(Template)]
#[template(path = "kpi_definitions.html")]
struct DefinitionsPage {
    layout: Layout,
    definitions: Vec<Definition>,
    first_value_rule: &'static str,
}

/// `GET /kpis/definitions`: how each number is counted.
pub async fn definitions(
    State(state): State<AppState>,
    session: WebSession,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let fv = kpis::first_value_rule(&state.db, session.agency_id()).await?;
    let page = DefinitionsPage {
        layout: Layout::app(&agency, &session, "KPI definitions", "kpis"),
        definitions: Kpi::ALL
            .into_iter()
            .map(|k| Definition {
                key: k.key(),
                label: k.label(),
                unit: k.unit().key(),
                definition: k.definition(fv),
                why: k.why(),
            })
            .collect(),
        first_value_rule: fv.words(),
    };
    Ok(render(StatusCode::OK, &page))
}
