//! The incident log (`/incidents`) and one incident (`/incidents/{id}`)
//! with the forms of its moves (`POST /incidents/{id}/{step}`: triage,
//! mitigate, resolve, close, cancel, notes, postmortem) and of its
//! follow-up actions. A refused form shows the page again with the sentence
//! and what was typed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::incidents::{FollowUp, Move, Postmortem, Severity, Status};
use baton_core::policy::{Action, Area, Subject};
use baton_core::types::{IncidentActionId, IncidentId, MemberId};
use baton_store::incidents::{self, Incident, IncidentFilter, Triage};
use baton_store::members;
use serde::Deserialize;

use super::refusal;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::WebPath;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::timefmt;
use crate::web::WebError;

/// One incident as a line of the log.
pub struct Line {
    pub id: String,
    pub title: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub client: Option<String>,
    pub reported: String,
    /// "Triage due 23:00", "Triage breached", "Triaged on time", …
    pub clock: String,
    pub late: bool,
}

fn clock_words(i: &Incident, now: i64, tz: &jiff::tz::TimeZone) -> (String, bool) {
    match (i.status, i.triaged_at) {
        (Status::Cancelled, None) => ("Cancelled before triage".into(), false),
        (_, Some(_)) if i.triage_on_time() == Some(true) => ("Triaged on time".into(), false),
        (_, Some(_)) => ("Triaged late".into(), true),
        _ if i.triage_breached(now) => (
            format!(
                "Triage breached: was due {}",
                timefmt::local(i.triage_due_at, tz)
            ),
            true,
        ),
        _ if i.triage_at_risk(now) => (
            format!(
                "Triage at risk: due {} ({})",
                timefmt::local(i.triage_due_at, tz),
                timefmt::relative(i.triage_due_at, now)
            ),
            true,
        ),
        _ => (
            format!(
                "Triage due {} ({})",
                timefmt::local(i.triage_due_at, tz),
                timefmt::relative(i.triage_due_at, now)
            ),
            false,
        ),
    }
}

fn line(i: &Incident, now: i64, tz: &jiff::tz::TimeZone) -> Line {
    let (clock, late) = clock_words(i, now, tz);
    Line {
        id: i.id.to_string(),
        title: i.title.clone(),
        severity: i.severity.key(),
        status: i.status.label(),
        client: i.client_name.clone(),
        reported: timefmt::local(i.reported_at, tz),
        clock,
        late,
    }
}

/// A QA waiver as a line.
pub struct Risk {
    pub content_id: String,
    pub title: String,
    pub client: Option<String>,
    pub reason: String,
    pub by: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct LogPage {
    layout: Layout,
    open: Vec<Line>,
    recent: Vec<Line>,
    risks: Vec<Risk>,
    /// The last 90 days' figures, as the dashboard shows them.
    kpi: super::IncidentCard,
}

/// `GET /incidents`: open incidents first, then the latest closed ones, the
/// QA waivers, and the last 90 days' numbers.
pub async fn list(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let agency_id = session.agency_id();
    let open_filter = IncidentFilter {
        open: true,
        ..IncidentFilter::default()
    };
    let open = incidents::list(&state.db, agency_id, &open_filter, None, Some(200)).await?;
    let all = incidents::list(
        &state.db,
        agency_id,
        &IncidentFilter::default(),
        None,
        Some(50),
    )
    .await?;
    let kpi = super::card(&state, agency_id, None, 90).await?;
    let from = now - kpi.days * 86_400_000;
    let waivers = incidents::qa_waivers(&state.db, agency_id, from, now + 1, None, 20).await?;
    let mut layout = Layout::app(&agency, &session, "Incidents", "incidents");
    layout = layout.with_notice(q.get("notice").map(String::as_str));
    let page = LogPage {
        layout,
        open: open.items.iter().map(|i| line(i, now, &tz)).collect(),
        recent: all
            .items
            .iter()
            .filter(|i| !i.status.is_open())
            .map(|i| line(i, now, &tz))
            .collect(),
        kpi,
        risks: waivers
            .into_iter()
            .map(|w| Risk {
                content_id: w.content_id,
                title: w.content_title,
                client: w.client_name,
                reason: w.reason,
                by: w.by,
                at: timefmt::local(w.at, &tz),
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Everything the incident page's forms may carry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StepForm {
    pub severity: String,
    pub lead: String,
    pub plan: String,
    pub note: String,
    /// A note's own time (`datetime-local`, agency zone).
    pub at: String,
    pub reason: String,
    pub override_reason: String,
    pub summary: String,
    pub impact: String,
    pub detection: String,
    pub response: String,
    pub root_cause: String,
    /// One new follow-up action per postmortem save.
    pub action_title: String,
    pub action_owner: String,
    pub action_due_on: String,
}

/// The moves the lifecycle allows now.
pub struct Can {
    pub triage: bool,
    pub mitigate: bool,
    pub resolve: bool,
    pub close: bool,
    pub cancel: bool,
}

impl Can {
    fn of(status: Status) -> Can {
        let a = status.allowed();
        Can {
            triage: a.contains(&Move::Triage),
            mitigate: a.contains(&Move::Mitigate),
            resolve: a.contains(&Move::Resolve),
            close: a.contains(&Move::Close),
            cancel: a.contains(&Move::Cancel),
        }
    }
}

pub struct TimelineLine {
    pub at: String,
    pub text: String,
    pub by: String,
    pub note: bool,
}

pub struct ActionLine {
    pub id: String,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub done: Option<String>,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    layout: Layout,
    i: Line,
    incident: Incident,
    reported_by: String,
    occurred: String,
    severity_name: &'static str,
    source: &'static str,
    can: Can,
    needs_postmortem: bool,
    postmortem_open: bool,
    may_override: bool,
    timeline: Vec<TimelineLine>,
    actions: Vec<ActionLine>,
    open_actions: usize,
    leads: Vec<Opt>,
    severities: Vec<Opt>,
    run: Option<String>,
    form: StepForm,
    error: Option<String>,
}

async fn render_incident(
    state: &AppState,
    session: &WebSession,
    id: &IncidentId,
    form: StepForm,
    error: Option<String>,
    status: StatusCode,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let agency_id = session.agency_id();
    let i = incidents::get(&state.db, agency_id, id).await?;
    let timeline = incidents::timeline(&state.db, agency_id, id)
        .await?
        .into_iter()
        .map(|e| TimelineLine {
            at: timefmt::local(e.at, &tz),
            note: e.kind == "note",
            text: e.text,
            by: e.by,
        })
        .collect();
    let actions: Vec<ActionLine> = incidents::actions(&state.db, agency_id, id)
        .await?
        .into_iter()
        .map(|a| ActionLine {
            overdue: a.overdue(now),
            id: a.id,
            title: a.title,
            owner: a.owner_name,
            due: a.due_on,
            done: a.done_at.map(|t| timefmt::local(t, &tz)),
        })
        .collect();
    let lead = if form.lead.is_empty() {
        i.lead_member_id.clone().unwrap_or_default()
    } else {
        form.lead.clone()
    };
    let leads = members::list_active(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|m| Opt::new(m.id, m.name, &lead))
        .collect();
    let sev = if form.severity.is_empty() {
        i.severity.key().to_string()
    } else {
        form.severity.clone()
    };
    let severities = Severity::ALL
        .iter()
        .map(|s| Opt::new(s.key(), format!("{} — {}", s.key(), s.name()), &sev))
        .collect();
    let mut layout = Layout::app(&agency, session, i.title.clone(), "incidents");
    layout = layout.with_notice(notice);
    let page = IncidentPage {
        layout,
        i: line(&i, now, &tz),
        reported_by: i.reported_by.clone(),
        occurred: timefmt::local(i.occurred_at, &tz),
        severity_name: i.severity.name(),
        source: i.source.label(),
        can: Can::of(i.status),
        needs_postmortem: i.severity.needs_postmortem(),
        postmortem_open: matches!(
            i.status,
            Status::Triaged | Status::Mitigated | Status::Resolved
        ),
        may_override: session.administers(Area::Incidents),
        open_actions: actions.iter().filter(|a| a.done.is_none()).count(),
        timeline,
        actions,
        leads,
        severities,
        run: incidents::run_of(&state.db, agency_id, id).await?,
        form,
        error,
        incident: i,
    };
    Ok(render(status, &page))
}

/// `GET /incidents/{id}`
pub async fn detail(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<IncidentId>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    render_incident(
        &state,
        &session,
        &id,
        StepForm::default(),
        None,
        StatusCode::OK,
        q.get("notice").map(String::as_str),
    )
    .await
}

fn some(v: &str) -> Option<&str> {
    let v = v.trim();
    (!v.is_empty()).then_some(v)
}

/// Runs one step; `Ok(notice)` on success.
async fn step(
    state: &AppState,
    session: &WebSession,
    id: &IncidentId,
    name: &str,
    f: &StepForm,
) -> Result<Result<&'static str, baton_store::StoreError>, WebError> {
    let cx = session.cx(state);
    let postmortem = || {
        (
            Postmortem {
                summary: f.summary.trim().into(),
                impact: f.impact.trim().into(),
                detection: f.detection.trim().into(),
                response: f.response.trim().into(),
                root_cause: f.root_cause.trim().into(),
            },
            match some(&f.action_title) {
                Some(title) => vec![FollowUp {
                    title: title.into(),
                    owner: f.action_owner.clone(),
                    due_on: f.action_due_on.trim().into(),
                }],
                None => vec![],
            },
        )
    };
    let invalid = |field: &str, m: &str| -> baton_store::StoreError {
        baton_core::CoreError::invalid(field, m).into()
    };
    Ok(match name {
        "triage" => {
            let Ok(lead) = MemberId::parse(&f.lead) else {
                return Ok(Err(invalid("lead", "choose the incident lead")));
            };
            incidents::triage(
                cx,
                id,
                Triage {
                    severity: Severity::parse(&f.severity),
                    lead,
                    plan: f.plan.clone(),
                },
            )
            .await
            .map(|_| "incident_triaged")
        }
        "mitigate" => incidents::mitigate(cx, id, some(&f.note))
            .await
            .map(|_| "incident_moved"),
        "resolve" => incidents::resolve(cx, id, &f.note)
            .await
            .map(|_| "incident_moved"),
        "cancel" => incidents::cancel(cx, id, &f.reason)
            .await
            .map(|_| "incident_moved"),
        "close" => {
            let override_reason = some(&f.override_reason);
            if override_reason.is_some() {
                session.may(Action::Administer, Subject::Setting(Area::Incidents))?;
            }
            let pm = some(&f.summary).map(|_| postmortem());
            incidents::close(cx, id, pm, override_reason)
                .await
                .map(|_| "incident_moved")
        }
        "postmortem" => {
            let (pm, actions) = postmortem();
            incidents::save_postmortem(cx, id, pm, actions)
                .await
                .map(|_| "postmortem_saved")
        }
        "notes" => {
            let at = match some(&f.at) {
                None => None,
                Some(v) => {
                    let agency = agency_of(state, session).await?;
                    match timefmt::parse_local(v, &timefmt::zone(&agency.timezone)) {
                        Ok(t) => Some(t),
                        Err(_) => {
                            return Ok(Err(invalid(
                                "at",
                                "must be a date and time like 2026-03-01T09:30",
                            )))
                        }
                    }
                }
            };
            incidents::add_note(cx, id, &f.note, at)
                .await
                .map(|_| "note_added")
        }
        _ => return Err(WebError::NotFound),
    })
}

/// `POST /incidents/{id}/{step}`: one move or form of the incident page.
pub async fn act(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, name)): WebPath<(IncidentId, String)>,
    CsrfForm(form): CsrfForm<StepForm>,
) -> Result<Response, WebError> {
    if name != "notes" && name != "postmortem" {
        let known = [
            Move::Triage,
            Move::Mitigate,
            Move::Resolve,
            Move::Close,
            Move::Cancel,
        ]
        .iter()
        .any(|m| m.key() == name);
        if !known {
            return Err(WebError::NotFound);
        }
    }
    match step(&state, &session, &id, &name, &form).await? {
        Ok(notice) => Ok(see_other(&format!("/incidents/{id}?notice={notice}"))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_incident(&state, &session, &id, form, Some(message), status, None).await
        }
    }
}

/// `POST /incidents/{id}/actions/{action}/done`
pub async fn finish_action(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, action)): WebPath<(IncidentId, IncidentActionId)>,
    CsrfForm(form): CsrfForm<crate::web::csrf_form::NoFields>,
) -> Result<Response, WebError> {
    let _ = form;
    match incidents::finish_action(session.cx(&state), &id, &action).await {
        Ok(_) => Ok(see_other(&format!("/incidents/{id}?notice=action_done"))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_incident(
                &state,
                &session,
                &id,
                StepForm::default(),
                Some(message),
                status,
                None,
            )
            .await
        }
    }
}
