//! `GET /`: the agency's clients by lifecycle stage, each with its
//! traffic-control owner (missing owners flagged), and the new-client form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::lifecycle::Lifecycle;
use baton_store::clients::{self, ClientSummary};
use jiff::tz::TimeZone;

use super::client_page::{member_options, NewClientForm};
use super::form::QueryData;
use super::layout::{agency_of, render, Layout, Opt};
use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

/// One client line on the dashboard.
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    pub updated_ago: String,
    pub updated_at: String,
    pub updated_iso: String,
}

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

fn row(s: ClientSummary, tz: &TimeZone, now: i64) -> ClientRow {
    ClientRow {
        updated_ago: timefmt::relative(s.client.updated_at, now),
        updated_at: timefmt::local(s.client.updated_at, tz),
        updated_iso: timefmt::machine(s.client.updated_at),
        owner: s
            .client
            .traffic_control_member_id
            .as_ref()
            .and(s.traffic_control_name),
        id: s.client.id,
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
        let r = row(s, &tz, now);
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
    };
    Ok(render(StatusCode::OK, &page))
}
