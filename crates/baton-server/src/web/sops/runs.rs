//! A client's SOP runs (`/clients/{id}/runs`: open runs by due time, then
//! the done ones with on-time or late; each run's checklist, complete, pause
//! with a reason, resume, assign; starting an SOP by hand).
//!
//! Every form posts to its own address and comes back here: a success with a
//! notice, a refusal (409 "the definition of done is not met…", 422 for a
//! missing pause reason, …) with the page rendered again, the message at the
//! run it is about and what was typed kept.

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::lifecycle::Lifecycle;
use baton_core::sop::RunStatus;
use baton_core::types::{ClientId, RunId};
use baton_store::clients::{self, Client};
use baton_store::members::{self, Member};
use baton_store::sop_runs::{self, Run, RunFilter, StartRun};
use baton_store::{sops, StoreError};
use serde::Deserialize;

use super::decides::decides;
use super::shared::{layout, refusal, RunLine, When};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::{timefmt, WebError};

/// Most open runs of one client read.
const OPEN_CAP: i64 = 1_000;
/// Done runs shown, most recently done first.
const DONE_SHOWN: usize = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients/{id}/runs", get(page).post(start))
        .route("/clients/{id}/runs/{run}/checklist", post(checklist))
        .route("/clients/{id}/runs/{run}/complete", post(complete))
        .route("/clients/{id}/runs/{run}/pause", post(pause))
        .route("/clients/{id}/runs/{run}/resume", post(resume))
        .route("/clients/{id}/runs/{run}/assign", post(assign))
        .route("/clients/{id}/decides", get(decides))
}

// ------------------------------------------------------------------- views --

/// A checklist item of a run as shown.
pub struct ItemView {
    pub key: String,
    pub label: String,
    pub done: bool,
    /// A fact Baton knows ticks it: read-only here, with why.
    pub auto: Option<&'static str>,
    /// "Ana Ortiz, Mar 3, 2026, 14:05".
    pub done_note: Option<String>,
}

/// One run of the client as shown, with its forms.
pub struct RunCard {
    pub line: RunLine,
    pub sla: String,
    pub version: i64,
    pub started: When,
    pub started_by: String,
    pub trigger: &'static str,
    pub items: Vec<ItemView>,
    /// Some item can be ticked here (not all follow the brief).
    pub editable: bool,
    pub open: bool,
    pub paused: bool,
    /// "Done by Ana Ortiz, Mar 3, 2026, 14:05".
    pub done: Option<String>,
    pub on_time: bool,
    pub assign_options: Vec<Opt>,
    /// The form refused last time on this run ("complete", "pause", …).
    pub error_action: &'static str,
    pub error: Option<String>,
    /// The pause reason as typed, kept after a refusal.
    pub typed_reason: String,
}

/// The start-an-SOP form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StartForm {
    pub sop: String,
    pub started_at: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

/// A run's checkboxes: the ticked items, and those ticked when the page was
/// shown.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChecklistForm {
    done: Vec<String>,
    was: Vec<String>,
}

/// Pausing a run: what it waits on.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReasonForm {
    reason: String,
}

/// Giving a run to a member.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssignForm {
    member: String,
}

/// A refusal to show again at one run.
struct RunError {
    run: String,
    action: &'static str,
    message: String,
    typed: String,
}

#[derive(Template)]
#[template(path = "client_runs.html")]
struct RunsPage {
    layout: Layout,
    client: Client,
    archived: bool,
    open: Vec<RunCard>,
    done: Vec<RunCard>,
    done_total: usize,
    sops: Vec<Opt>,
    start: StartForm,
    timezone: String,
}

fn card(r: &Run, now: i64, tz: &jiff::tz::TimeZone, people: &[Member]) -> RunCard {
    let owner = r.owner_member_id.as_deref().unwrap_or("");
    let items = r
        .checklist
        .iter()
        .map(|i| ItemView {
            key: i.key.clone(),
            label: i.label.clone(),
            done: i.done,
            auto: i.fact,
            done_note: i.done_at.map(|at| match &i.done_by {
                Some(by) if !by.is_empty() => format!("{by}, {}", timefmt::local(at, tz)),
                _ => timefmt::local(at, tz),
            }),
        })
        .collect::<Vec<_>>();
    RunCard {
        line: RunLine::of(r, now, tz),
        sla: r.sla.clone(),
        version: r.sop_version,
        started: When::at(r.started_at, tz),
        started_by: r.started_by.clone(),
        trigger: if r.trigger_event_id.is_some() {
            "started by its trigger event"
        } else {
            "started by hand"
        },
        editable: items.iter().any(|i| i.auto.is_none()),
        items,
        open: r.is_open(),
        paused: r.paused_at.is_some(),
        done: r.done_at.map(|at| {
            format!(
                "Done by {}, {}",
                r.done_by.as_deref().unwrap_or("someone"),
                timefmt::local(at, tz)
            )
        }),
        on_time: r.on_time().unwrap_or(false),
        assign_options: people
            .iter()
            .map(|m| Opt::new(m.id.clone(), m.name.clone(), owner))
            .collect(),
        error_action: "",
        error: None,
        typed_reason: String::new(),
    }
}

pub(super) async fn client_of(
    state: &AppState,
    session: &WebSession,
    id: &str,
) -> Result<Client, WebError> {
    Ok(clients::get(&state.db, session.agency_id(), id).await?)
}

async fn render_runs(
    state: &AppState,
    session: &WebSession,
    client_id: &str,
    q: Option<&QueryData>,
    start: StartForm,
    error: Option<RunError>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let client = client_of(state, session, client_id).await?;
    let open_runs = RunFilter {
        client_id: Some(client.id.to_string()),
        open: true,
        ..RunFilter::default()
    };
    let done_runs = RunFilter {
        client_id: Some(client.id.to_string()),
        statuses: vec![RunStatus::Done],
        ..RunFilter::default()
    };
    let (open_runs, done_runs, done_total, people, library) = tokio::try_join!(
        sop_runs::by_due(&state.db, agency_id, &open_runs, OPEN_CAP),
        sop_runs::recently_done(&state.db, agency_id, &done_runs, DONE_SHOWN as i64),
        sop_runs::count(&state.db, agency_id, &done_runs),
        members::list_active(&state.db, agency_id),
        sops::list(&state.db, agency_id),
    )?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let mut open: Vec<RunCard> = open_runs
        .iter()
        .map(|r| card(r, now, &tz, &people))
        .collect();
    let done_total = done_total as usize;
    let mut done: Vec<RunCard> = done_runs
        .iter()
        .take(DONE_SHOWN)
        .map(|r| card(r, now, &tz, &people))
        .collect();
    if let Some(e) = error {
        if let Some(c) = open
            .iter_mut()
            .chain(done.iter_mut())
            .find(|c| c.line.id == e.run)
        {
            c.error_action = e.action;
            c.error = Some(e.message);
            c.typed_reason = e.typed;
        }
    }
    let page = RunsPage {
        layout: layout(
            &agency,
            session,
            &format!("SOP runs · {}", client.name),
            "dashboard",
            q,
        ),
        archived: client.lifecycle == Lifecycle::Archived,
        sops: library
            .iter()
            .map(|s| {
                Opt::new(
                    s.definition.key.clone(),
                    s.definition.name.clone(),
                    &start.sop,
                )
            })
            .collect(),
        start,
        open,
        done,
        done_total,
        timezone: agency.timezone.clone(),
        client,
    };
    Ok(render(status, &page))
}

/// `GET /clients/{id}/runs`
pub(super) async fn page(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_runs(
        &state,
        &session,
        &id,
        Some(&q),
        StartForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

fn back(client_id: &str, notice: &str, run: Option<&str>) -> Response {
    let anchor = run.map(|r| format!("#run-{r}")).unwrap_or_default();
    see_other(&format!(
        "/clients/{client_id}/runs?notice={notice}{anchor}"
    ))
}

/// `POST /clients/{id}/runs`: starts an SOP for the client by hand, its SLA
/// clock from now or from the typed time (in the agency's zone).
async fn start(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(mut typed): CsrfForm<StartForm>,
) -> Result<Response, WebError> {
    let client = client_of(&state, &session, &id).await?;
    let refused = match started_at(&state, &session, &typed.started_at).await? {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(_) if typed.sop.trim().is_empty() => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "SOP: choose the SOP to start.".to_string(),
        ),
        Ok(at) => {
            let result = sop_runs::start(
                session.cx(&state),
                StartRun {
                    sop_key: typed.sop.trim().to_string(),
                    client_id: client.id.to_string(),
                    started_at: at,
                    trigger_event_id: None,
                },
                state.mailer.is_some(),
            )
            .await;
            match result {
                Ok(run) => return Ok(back(&client.id, "run_started", Some(&run.id))),
                Err(e) => refusal(e)?,
            }
        }
    };
    typed.error = Some(refused.1);
    render_runs(&state, &session, &client.id, None, typed, None, refused.0).await
}

/// The typed start time in the agency's zone (`None`: now), or what to type.
async fn started_at(
    state: &AppState,
    session: &WebSession,
    value: &str,
) -> Result<Result<Option<i64>, String>, WebError> {
    if value.trim().is_empty() {
        return Ok(Ok(None));
    }
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    Ok(timefmt::parse_local(value, &tz)
        .map(Some)
        .map_err(|_| "Start time: enter a date and time like 2026-03-01T09:30.".to_string()))
}

/// The run `run` of client `id` (404 when it is another client's or another
/// agency's).
async fn run_of(
    state: &AppState,
    session: &WebSession,
    client_id: &str,
    run: &str,
) -> Result<Run, WebError> {
    let r = sop_runs::get(&state.db, session.agency_id(), run).await?;
    if r.client_id != client_id {
        return Err(WebError::NotFound);
    }
    Ok(r)
}

/// A refused run form: the page again with the message at the run.
async fn refused_at(
    state: &AppState,
    session: &WebSession,
    client_id: &str,
    run: &str,
    action: &'static str,
    typed: String,
    e: StoreError,
) -> Result<Response, WebError> {
    let (status, message) = refusal(e)?;
    let error = RunError {
        run: run.to_string(),
        action,
        message,
        typed,
    };
    render_runs(
        state,
        session,
        client_id,
        None,
        StartForm::default(),
        Some(error),
        status,
    )
    .await
}

/// `POST /clients/{id}/runs/{run}/checklist`: the checkboxes of one run.
/// Only the items whose box changed since the page was shown (`was` lists
/// the ticked ones then) are sent to the store, so a stale page does not undo
/// a teammate's tick.
async fn checklist(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, run)): WebPath<(ClientId, RunId)>,
    CsrfForm(form): CsrfForm<ChecklistForm>,
) -> Result<Response, WebError> {
    let r = run_of(&state, &session, &id, &run).await?;
    let ticked: HashSet<String> = form.done.into_iter().collect();
    let was: HashSet<String> = form.was.into_iter().collect();
    let items: std::collections::BTreeMap<String, bool> = r
        .checklist
        .iter()
        .filter(|i| !i.auto)
        .filter(|i| ticked.contains(&i.key) != was.contains(&i.key))
        .map(|i| (i.key.clone(), ticked.contains(&i.key)))
        .collect();
    if items.is_empty() {
        return Ok(back(&id, "checklist_unchanged", Some(&run)));
    }
    match sop_runs::set_checklist(session.cx(&state), &run, &items).await {
        Ok(_) => Ok(back(&id, "checklist_saved", Some(&run))),
        Err(e) => refused_at(&state, &session, &id, &run, "checklist", String::new(), e).await,
    }
}

/// `POST /clients/{id}/runs/{run}/complete`: refused (409) until the
/// definition of done is met.
async fn complete(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, run)): WebPath<(ClientId, RunId)>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    run_of(&state, &session, &id, &run).await?;
    match sop_runs::complete(session.cx(&state), &run).await {
        Ok(_) => Ok(back(&id, "run_completed", Some(&run))),
        Err(e) => refused_at(&state, &session, &id, &run, "complete", String::new(), e).await,
    }
}

/// `POST /clients/{id}/runs/{run}/pause`: needs a reason (what the run
/// waits on).
async fn pause(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, run)): WebPath<(ClientId, RunId)>,
    CsrfForm(ReasonForm { reason }): CsrfForm<ReasonForm>,
) -> Result<Response, WebError> {
    run_of(&state, &session, &id, &run).await?;
    match sop_runs::pause(session.cx(&state), &run, &reason).await {
        Ok(_) => Ok(back(&id, "run_paused", Some(&run))),
        Err(e) => refused_at(&state, &session, &id, &run, "pause", reason, e).await,
    }
}

/// `POST /clients/{id}/runs/{run}/resume`
async fn resume(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, run)): WebPath<(ClientId, RunId)>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    run_of(&state, &session, &id, &run).await?;
    match sop_runs::resume(session.cx(&state), &run, state.mailer.is_some()).await {
        Ok(_) => Ok(back(&id, "run_resumed", Some(&run))),
        Err(e) => refused_at(&state, &session, &id, &run, "resume", String::new(), e).await,
    }
}

/// `POST /clients/{id}/runs/{run}/assign`: gives the run to an active member
/// (it keeps that owner when the account team changes).
async fn assign(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, run)): WebPath<(ClientId, RunId)>,
    CsrfForm(AssignForm { member }): CsrfForm<AssignForm>,
) -> Result<Response, WebError> {
    run_of(&state, &session, &id, &run).await?;
    match sop_runs::assign(session.cx(&state), &run, member.trim()).await {
        Ok(_) => Ok(back(&id, "run_assigned", Some(&run))),
        Err(e) => refused_at(&state, &session, &id, &run, "assign", String::new(), e).await,
    }
}
