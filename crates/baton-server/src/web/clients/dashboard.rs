//! `GET /`: the agency's clients by lifecycle stage, each with its
//! traffic-control owner (missing owners flagged) and open access requests,
//! the time-to-verified-access card, and the new-client form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

use baton_core::human;
use baton_core::lifecycle::Lifecycle;
use baton_core::sop::RunStatus;
use baton_store::clients::{self, ClientSummary};
use baton_store::{access_kpis, access_requests, sop_runs};
use jiff::tz::TimeZone;

use super::new::{member_options, NewClientForm};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, Layout, Opt};
use crate::web::{timefmt, WebError};

/// One client line on the dashboard.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub updated_ago: String,
    pub updated_at: String,
    pub updated_iso: String,
    /// Open access requests: "2 waiting on the client · 1 on us".
    pub access: Option<String>,
    /// Whether anything waits on the agency.
    pub access_ours: bool,
}

/// Time to verified access over the last 90 days.
pub struct AccessKpiCard {
    /// "median 2 days 5 h · 90th percentile 6 days 1 h · 12 clients", or `None`
    /// when no client completed access in the period.
    pub summary: Option<String>,
    pub waiting: i64,
    /// The period in days, and the periods to choose from.
    pub days: i64,
    pub periods: &'static [i64],
}

/// The periods the dashboard's access KPI can cover (`?kpi_days=`), in days;
/// the second is the default.
const KPI_PERIODS: &[i64] = &[30, 90, 365];

/// One lifecycle stage column.
pub struct Stage {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub clients: Vec<ClientRow>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    stages: Vec<Stage>,
    archived: Vec<ClientRow>,
    total: usize,
    unowned: usize,
    form: NewClientForm,
    owners: Vec<Opt>,
    access_kpi: AccessKpiCard,
    sop_kpi: SopKpiCard,
    incidents: crate::web::incidents::IncidentCard,
    trends: crate::web::scorecard::kpis::KpiTrends,
    /// Cadence adherence over the last four weeks, in words.
    adherence: String,
}

fn hint(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Won => "Contract agreed, delivery not started",
        Lifecycle::Onboarding => "Access, kickoff and setup under way",
        Lifecycle::Active => "In regular delivery",
        Lifecycle::Offboarding => "Contract ended, access being revoked",
        Lifecycle::Archived => "Done",
    }
}

/// Open requests of one client: (waiting on the client, waiting on us).
type Open = HashMap<String, (usize, usize)>;

fn access_badge(open: &Open, client_id: &str) -> (Option<String>, bool) {
    let Some(&(theirs, ours)) = open.get(client_id) else {
        return (None, false);
    };
    let mut parts = Vec::new();
    if theirs > 0 {
        parts.push(format!("{theirs} waiting on the client"));
    }
    if ours > 0 {
        parts.push(format!("{ours} on us"));
    }
    (Some(format!("Access: {}", parts.join(" · "))), ours > 0)
}

/// The SOP card: on-time rate over the period, per SOP, and the open runs
/// that need the traffic-control owner now.
pub struct SopKpiCard {
    /// "83% on time · 10 of 12 done by their due time" or None without data.
    pub summary: Option<String>,
    pub rows: Vec<SopKpiRow>,
    pub breached: i64,
    pub at_risk: i64,
    pub paused: i64,
}

pub struct SopKpiRow {
    pub label: String,
    pub done: i64,
    pub on_time: i64,
    pub late_open: i64,
    pub rate: String,
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn sop_card(
    r: sop_runs::OnTimeReport,
    open: &std::collections::BTreeMap<RunStatus, i64>,
) -> SopKpiCard {
    let o = &r.overall;
    let decided = o.done + o.late_open;
    let summary = (decided > 0).then(|| {
        format!(
            "{} on time · {} of {} done by their due time{}",
            percent(o.rate),
            o.on_time,
            decided,
            if o.late_open > 0 {
                format!(" ({} still open past due)", o.late_open)
            } else {
                String::new()
            }
        )
    });
    SopKpiCard {
        summary,
        rows: r
            .by_sop
            .into_iter()
            .map(|t| SopKpiRow {
                rate: percent(t.rate),
                label: t.label,
                done: t.done,
                on_time: t.on_time,
                late_open: t.late_open,
            })
            .collect(),
        breached: open.get(&RunStatus::Breached).copied().unwrap_or(0),
        at_risk: open.get(&RunStatus::AtRisk).copied().unwrap_or(0),
        paused: open.get(&RunStatus::Paused).copied().unwrap_or(0),
    }
}

fn kpi_card(k: &access_kpis::AgencyAccessKpi, days: i64) -> AccessKpiCard {
    let summary = match (k.median_ms, k.p90_ms) {
        (Some(median), Some(p90)) if k.clients > 0 => Some(format!(
            "median {} · 90th percentile {} · {} client{}",
            human::duration(median),
            human::duration(p90),
            k.clients,
            if k.clients == 1 { "" } else { "s" }
        )),
        _ => None,
    };
    AccessKpiCard {
        summary,
        waiting: k.waiting_clients,
        days,
        periods: KPI_PERIODS,
    }
}

fn row(s: ClientSummary, tz: &TimeZone, now: i64, open: &Open) -> ClientRow {
    let (access, access_ours) = access_badge(open, &s.client.id);
    ClientRow {
        access,
        access_ours,
        updated_ago: timefmt::relative(s.client.updated_at, now),
        updated_at: timefmt::local(s.client.updated_at, tz),
        updated_iso: timefmt::machine(s.client.updated_at),
        owner: s
            .client
            .traffic_control_member_id
            .as_ref()
            .and(s.traffic_control_name),
        id: s.client.id.into(),
        name: s.client.name,
    }
}

/// `GET /`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let summaries = clients::summaries(&state.db, session.agency_id(), true).await?;
    let owners = member_options(&state, session.agency_id(), "").await?;
    // One query for every client's open requests.
    let mut open: Open = HashMap::new();
    for (client_id, on_client, on_agency) in
        access_requests::waiting_counts(&state.db, session.agency_id()).await?
    {
        open.insert(client_id, (on_client as usize, on_agency as usize));
    }
    let kpi_days = q
        .get("kpi_days")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| KPI_PERIODS.contains(d))
        .unwrap_or(KPI_PERIODS[1]);
    let kpi = access_kpis::agency(
        &state.db,
        session.agency_id(),
        now - kpi_days * 86_400_000,
        // `to` is exclusive: count a client completed this very millisecond.
        now + 1,
    )
    .await?;
    let on_time = sop_runs::on_time(
        &state.db,
        session.agency_id(),
        now - kpi_days * 86_400_000,
        now + 1,
        now,
    )
    .await?;
    let open_runs = sop_runs::open_counts(&state.db, session.agency_id()).await?;
    let mut stages: Vec<Stage> = [
        Lifecycle::Won,
        Lifecycle::Onboarding,
        Lifecycle::Active,
        Lifecycle::Offboarding,
    ]
    .into_iter()
    .map(|l| Stage {
        key: l.key(),
        label: l.label(),
        hint: hint(l),
        clients: Vec::new(),
    })
    .collect();
    let mut archived = Vec::new();
    let mut unowned = 0;
    for s in summaries {
        let lifecycle = s.client.lifecycle;
        let r = row(s, &tz, now, &open);
        if lifecycle == Lifecycle::Archived {
            archived.push(r);
            continue;
        }
        if r.owner.is_none() {
            unowned += 1;
        }
        if let Some(stage) = stages.iter_mut().find(|st| st.key == lifecycle.key()) {
            stage.clients.push(r);
        }
    }
    let total = stages.iter().map(|s| s.clients.len()).sum();
    let page = DashboardPage {
        layout: Layout::app(&agency, &session, "Dashboard", "dashboard")
            .with_notice(q.get("notice")),
        stages,
        archived,
        total,
        unowned,
        form: NewClientForm::default(),
        owners,
        access_kpi: kpi_card(&kpi, kpi_days),
        sop_kpi: sop_card(on_time, &open_runs),
        incidents: crate::web::incidents::card(&state, session.agency_id(), None, kpi_days).await?,
        trends: crate::web::scorecard::kpis::trends(&state, session.agency_id(), None, state.now())
            .await?,
        adherence: crate::web::cadences::adherence_card(&state, session.agency_id()).await?,
    };
    Ok(render(StatusCode::OK, &page))
}
