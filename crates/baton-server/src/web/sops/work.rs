//! "My work" (`/my-work`: the member's open runs by due time, the content
//! waiting for their review or decision, their escalation notices),
//! traffic control (`/traffic`) and the role map (`/roles`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::human;
use baton_core::roles::ROLE_MAP;
use baton_core::sop::{RunStatus, SopDefinition};
use baton_store::content::{self, WaitingFor};
use baton_store::members;
use baton_store::sop_runs::{self, Notice, Run, RunFilter};
use baton_store::sops;
use jiff::tz::TimeZone;

use super::shared::{layout, RunLine, When, LIST_CAP, NOTICE_CAP, WAITING_CAP};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::{timefmt, WebError};

/// An escalation notice as shown.
pub struct NoticeView {
    pub title: String,
    pub body: String,
    pub unread: bool,
    pub at: When,
    pub ago: String,
    /// The run on its client's runs page.
    pub href: Option<String>,
}

fn notice_view(n: Notice, now: i64, tz: &TimeZone) -> NoticeView {
    let href = match (&n.client_id, &n.run_id) {
        _ if n.incident_id.is_some() => n.incident_id.as_ref().map(|i| format!("/incidents/{i}")),
        (Some(c), Some(r)) => Some(format!("/clients/{c}/runs#run-{r}")),
        (Some(c), None) => Some(format!("/clients/{c}/runs")),
        _ => None,
    };
    NoticeView {
        unread: n.read_at.is_none(),
        at: When::at(n.created_at, tz),
        ago: timefmt::relative(n.created_at, now),
        // Notices stored before times were put in words say them in RFC 3339.
        title: human::instants_in_text(&n.title, now, tz),
        body: human::instants_in_text(&n.body, now, tz),
        href,
    }
}

/// A content item in review waiting for the member.
pub struct WaitingView {
    pub id: String,
    pub title: String,
    pub client_name: String,
    pub version: i64,
    pub round: i64,
    /// "Your decision" or "Your review".
    pub what: &'static str,
    /// Since when, in words ("Tue 24 Nov, 10:41").
    pub since: Option<String>,
}

#[derive(Template)]
#[template(path = "my_work.html")]
struct MyWorkPage {
    layout: Layout,
    runs: Vec<RunLine>,
    content: Vec<WaitingView>,
    content_cap: i64,
    late: usize,
    notices: Vec<NoticeView>,
    unread: i64,
    follow_ups: Vec<FollowUpView>,
    /// Open scorecard actions the member owns, soonest due first.
    actions: Vec<crate::web::scorecard::ActionView>,
    /// Meetings the member owns, this week: to hold, or flagged.
    meetings: Vec<crate::web::cadences::MeetingLine>,
    /// Open decisions the member owns.
    decisions: Vec<crate::web::cadences::DecisionView>,
}

/// An open follow-up action of a postmortem the member owns.
struct FollowUpView {
    title: String,
    incident_id: String,
    due: String,
    overdue: bool,
}

/// `GET /my-work`: the member's open runs, soonest due first, and their
/// escalation notices, newest first.
pub(super) async fn my_work(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let me = session.member().id.clone();
    let f = RunFilter {
        owner_member_id: Some(me.clone()),
        open: true,
        ..RunFilter::default()
    };
    let action_filter = baton_store::scorecards::ActionFilter {
        open: Some(true),
        owner: Some(me.clone()),
        limit: Some(LIST_CAP),
    };
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let today = baton_store::cadences::day_of(now, &tz);
    let mine = baton_store::cadences::occurrences::Filter {
        owner: Some(me.clone()),
        ..Default::default()
    };
    let my_decisions = baton_store::cadences::decisions::Search {
        owner: Some(me.clone()),
        open: Some(true),
        ..Default::default()
    };
    let (runs, notices, unread, waiting, follow_ups, actions, meetings, decisions, cadences) = tokio::try_join!(
        sop_runs::by_due(&state.db, agency_id, &f, LIST_CAP),
        sop_runs::notices(&state.db, agency_id, &me, false, NOTICE_CAP),
        sop_runs::unread_count(&state.db, agency_id, &me),
        content::waiting_for(&state.db, agency_id, &me, WAITING_CAP),
        baton_store::incidents::open_actions_of(&state.db, agency_id, &me),
        baton_store::scorecards::actions(&state.db, agency_id, &action_filter),
        baton_store::cadences::occurrences::list(
            &state.db,
            agency_id,
            (
                today.saturating_sub(jiff::Span::new().days(7)),
                today.saturating_add(jiff::Span::new().days(6))
            ),
            now,
            &mine
        ),
        baton_store::cadences::decisions::search(&state.db, agency_id, &my_decisions, LIST_CAP),
        baton_store::cadences::list(&state.db, agency_id),
    )?;
    let names: Vec<(String, String)> = cadences
        .into_iter()
        .map(|c| (c.definition.key, c.definition.name))
        .collect();
    let runs: Vec<RunLine> = runs.iter().map(|r| RunLine::of(r, now, &tz)).collect();
    let late = runs
        .iter()
        .filter(|r| r.status == "breached" || r.status == "at_risk")
        .count();
    let page = MyWorkPage {
        layout: layout(&agency, &session, "My work", "my_work", Some(&q)),
        runs,
        content: waiting
            .into_iter()
            .map(|(i, why)| WaitingView {
                what: match why {
                    WaitingFor::Decision => "Your decision",
                    WaitingFor::Review => "Your review",
                },
                since: i.submitted_at.map(|at| human::when(at, now, &tz)),
                id: i.id.into(),
                title: i.title,
                client_name: i.client_name,
                version: i.current_version,
                round: i.round,
            })
            .collect(),
        content_cap: WAITING_CAP,
        late,
        notices: notices
            .into_iter()
            .map(|n| notice_view(n, now, &tz))
            .collect(),
        unread,
        follow_ups: follow_ups
            .into_iter()
            .map(|a| FollowUpView {
                overdue: a.overdue(now),
                title: a.title,
                incident_id: a.incident_id,
                due: a.due_on,
            })
            .collect(),
        actions: actions
            .iter()
            .map(|a| crate::web::scorecard::ActionView::of(a, now))
            .collect(),
        // The week's meetings still to hold (or flagged), and today's held.
        meetings: meetings
            .iter()
            .filter(|o| !o.held || o.date == today)
            .map(|o| crate::web::cadences::MeetingLine::of(o, now, &tz))
            .collect(),
        decisions: decisions
            .iter()
            .map(|d| crate::web::cadences::DecisionView::of(d, &names))
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /my-work/notices/read`: marks all of the member's notices read.
pub(super) async fn mark_read(
    State(state): State<AppState>,
    session: WebSession,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    sop_runs::mark_notices_read(session.cx(&state)).await?;
    Ok(see_other("/my-work?notice=notices_read"))
}

// ----------------------------------------------------------------- traffic --

#[derive(Template)]
#[template(path = "traffic.html")]
struct TrafficPage {
    layout: Layout,
    /// Breached first, then at risk, each by due time.
    late: Vec<RunLine>,
    breached: usize,
    at_risk: usize,
    unowned: Vec<RunLine>,
    paused: Vec<RunLine>,
    /// Nothing to show at all: the page explains what would appear.
    nothing: bool,
}

/// `GET /traffic`: the traffic-control view across clients.
pub(super) async fn traffic(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let only = |s: RunStatus| RunFilter {
        statuses: vec![s],
        open: true,
        ..RunFilter::default()
    };
    let (b, r, p) = (
        only(RunStatus::Breached),
        only(RunStatus::AtRisk),
        only(RunStatus::Paused),
    );
    let (breached, at_risk, paused, unowned, counts) = tokio::try_join!(
        sop_runs::by_due(&state.db, agency_id, &b, LIST_CAP),
        sop_runs::by_due(&state.db, agency_id, &r, LIST_CAP),
        sop_runs::by_due(&state.db, agency_id, &p, LIST_CAP),
        sop_runs::unowned(&state.db, agency_id, LIST_CAP),
        // Exact totals, also past the list cap.
        sop_runs::open_counts(&state.db, agency_id),
    )?;
    let total = |s: RunStatus| counts.get(&s).copied().unwrap_or(0) as usize;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let lines =
        |runs: &[Run]| -> Vec<RunLine> { runs.iter().map(|r| RunLine::of(r, now, &tz)).collect() };
    let mut late = lines(&breached);
    late.extend(lines(&at_risk));
    let nothing = late.is_empty() && unowned.is_empty() && paused.is_empty();
    let page = TrafficPage {
        layout: layout(&agency, &session, "Traffic control", "traffic", Some(&q)),
        late,
        breached: total(RunStatus::Breached),
        at_risk: total(RunStatus::AtRisk),
        unowned: lines(&unowned),
        paused: lines(&paused),
        nothing,
    };
    Ok(render(StatusCode::OK, &page))
}

// ------------------------------------------------------------------- roles --

/// An SOP as the role map names it.
pub struct SopRef {
    pub key: String,
    pub name: String,
}

/// One role of the agency's role map.
pub struct RoleRow {
    pub key: &'static str,
    pub title: &'static str,
    pub ownership: &'static str,
    pub outputs: &'static str,
    pub kpis: &'static str,
    pub members: Vec<String>,
    pub owns: Vec<SopRef>,
    pub escalations: Vec<SopRef>,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    layout: Layout,
    roles: Vec<RoleRow>,
}

/// `GET /roles`: the role map with who holds each role and the SOPs it
/// owns or takes escalations for.
pub(super) async fn roles(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let (people, library) = tokio::try_join!(
        members::list_active(&state.db, agency_id),
        sops::list(&state.db, agency_id),
    )?;
    let sop_refs = |pick: &dyn Fn(&SopDefinition) -> bool| -> Vec<SopRef> {
        library
            .iter()
            .filter(|s| pick(&s.definition))
            .map(|s| SopRef {
                key: s.definition.key.clone(),
                name: s.definition.name.clone(),
            })
            .collect()
    };
    let roles = ROLE_MAP
        .iter()
        .map(|info| RoleRow {
            key: info.role.key(),
            title: info.title,
            ownership: info.ownership,
            outputs: info.outputs,
            kpis: info.kpis,
            members: people
                .iter()
                .filter(|m| m.roles.contains(&info.role))
                .map(|m| m.name.clone())
                .collect(),
            owns: sop_refs(&|d| d.owner_role == info.role),
            escalations: sop_refs(&|d| d.escalation_role == info.role),
        })
        .collect();
    let page = RolesPage {
        layout: layout(&agency, &session, "Role map", "team", Some(&q)),
        roles,
    };
    Ok(render(StatusCode::OK, &page))
}
