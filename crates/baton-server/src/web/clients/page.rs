//! A client's page (`/clients/{id}`): details, lifecycle stepper, account
//! team, timeline and the access part, rendered again with a refused form;
//! the edit-details and set-the-team forms.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::lifecycle::{self, ClientEventType, Lifecycle};
use baton_core::policy::{self, Action, Subject};
use baton_core::roles::Role;
use baton_core::types::ClientId;
use baton_store::clients::{self, Client, ClientPatch, TeamSeat};
use baton_store::events::{self, EventFilter};
use baton_store::members::{self, Member};
use serde::Deserialize;

use super::events::{event_label, event_view};
use super::{invalid, refusal};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::access::{self, AccessSection};
use crate::web::csrf_form::CsrfForm;
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::{timefmt, WebError};

/// Timeline events per page.
const TIMELINE_PAGE: i64 = 25;

/// The record-an-event form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventForm {
    #[serde(rename = "type")]
    pub event_type: String,
    pub occurred_at: String,
    pub note: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

/// The edit-details form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    pub name: String,
    pub website: String,
    pub notes: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

impl EditForm {
    /// The client's details as saved.
    fn of(client: &Client) -> EditForm {
        EditForm {
            name: client.name.clone(),
            website: client.website.clone().unwrap_or_default(),
            notes: client.notes.clone().unwrap_or_default(),
            error: None,
        }
    }
}

/// One role of the account-team form.
#[derive(Debug, Clone)]
pub struct TeamRow {
    pub key: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
}

/// The account-team form as typed: (role key, member id) and the owner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "TeamFields")]
pub struct TeamForm {
    pub seats: Vec<(String, String)>,
    pub owner: String,
    pub error: Option<String>,
}

/// The account-team form as posted: one `role_{key}` select per role (a
/// member id, or blank for an empty seat) and the traffic-control owner.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TeamFields {
    traffic_control: String,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

impl From<TeamFields> for TeamForm {
    fn from(f: TeamFields) -> TeamForm {
        TeamForm {
            seats: Role::ALL
                .iter()
                .filter_map(|r| {
                    let member = f.rest.get(&format!("role_{}", r.key()))?;
                    Some((r.key().to_string(), member.clone()))
                })
                .filter(|(_, m)| !m.trim().is_empty())
                .collect(),
            owner: f.traffic_control,
            error: None,
        }
    }
}

impl TeamForm {
    /// The team as saved.
    fn of(client: &Client, team: &[TeamSeat]) -> TeamForm {
        TeamForm {
            seats: team
                .iter()
                .map(|s| (s.role.key().to_string(), s.member_id.clone()))
                .collect(),
            owner: client.traffic_control_member_id.clone().unwrap_or_default(),
            error: None,
        }
    }

    fn seat(&self, role: Role) -> &str {
        self.seats
            .iter()
            .find(|(r, _)| r == role.key())
            .map(|(_, m)| m.as_str())
            .unwrap_or("")
    }
}

/// Which forms of the client page show what the user typed (after a refusal),
/// and what the access forms show once.
#[derive(Default)]
pub(crate) struct Typed {
    pub(super) event: Option<EventForm>,
    /// The correction form's reason and refusal.
    pub(super) correction: Option<(String, String)>,
    pub(super) edit: Option<EditForm>,
    pub(super) team: Option<TeamForm>,
    pub(super) access: access::AccessTyped,
}

impl Typed {
    /// The page with the access forms' refusal or one-time result.
    pub(crate) fn access(access: access::AccessTyped) -> Typed {
        Typed {
            access,
            ..Typed::default()
        }
    }
}

/// A lifecycle step of the stepper.
pub struct Step {
    pub label: &'static str,
    /// "done", "current" or "todo".
    pub state: &'static str,
}

/// A seat of the account team as shown.
pub struct SeatView {
    pub role: &'static str,
    pub member: String,
}

/// A timeline entry as shown.
pub struct EventView {
    pub label: String,
    pub change: Option<String>,
    pub actor: String,
    pub occurred: String,
    pub occurred_iso: String,
    pub ago: String,
    /// When it was recorded, if that differs from when it happened.
    pub recorded: Option<String>,
    pub note: Option<String>,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    layout: Layout,
    client: Client,
    website_href: Option<String>,
    created: String,
    steps: Vec<Step>,
    archived: bool,
    owner: Option<String>,
    seats: Vec<SeatView>,
    events: Vec<EventView>,
    older_href: Option<String>,
    newer_href: Option<String>,
    timezone: String,
    event_types: Vec<Opt>,
    event_form: EventForm,
    edit_form: EditForm,
    team_rows: Vec<TeamRow>,
    owner_options: Vec<Opt>,
    team_error: Option<String>,
    access: AccessSection,
    correction: Option<CorrectionView>,
    incidents: crate::web::incidents::IncidentCard,
    trends: crate::web::scorecard::kpis::KpiTrends,
}

/// The offer to correct the client's last lifecycle move (admins make it).
pub struct CorrectionView {
    pub event_label: String,
    pub from: &'static str,
    pub to: &'static str,
    pub when: String,
    pub allowed: bool,
    pub reason: String,
    pub error: Option<String>,
}

/// Whether the signed-in member may correct the client's last lifecycle
/// move (the one policy decides); the refusal's sentence.
pub(super) fn may_correct(session: &WebSession, client_id: &str) -> Result<(), String> {
    policy::can(
        &crate::authz::member(session.member()),
        Action::CorrectLifecycle,
        Subject::Client { client_id },
    )
    .map_err(|d| d.sentence)
}

/// The lifecycle stepper: the stages before `current` done, then it, then
/// the ones to come.
fn lifecycle_steps(current: Lifecycle) -> Vec<Step> {
    let position = |l: Lifecycle| Lifecycle::ALL.iter().position(|x| *x == l).unwrap_or(0);
    Lifecycle::ALL
        .iter()
        .map(|l| Step {
            label: l.label(),
            state: match position(*l).cmp(&position(current)) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            },
        })
        .collect()
}

/// The account team form's rows: each role with the active members to
/// pick, the seat's member (as typed or saved) selected.
fn team_rows(active: &[Member], team_form: &TeamForm) -> Vec<TeamRow> {
    Role::ALL
        .iter()
        .map(|r| TeamRow {
            key: r.key(),
            label: r.label(),
            options: active
                .iter()
                .map(|m| Opt::new(m.id.clone(), m.name.clone(), team_form.seat(*r)))
                .collect(),
        })
        .collect()
}

/// The traffic-control owner's name ("a deactivated member" when they left).
fn owner_name(client: &Client, active: &[Member]) -> Option<String> {
    client.traffic_control_member_id.as_ref().map(|tc| {
        active
            .iter()
            .find(|m| &m.id == tc)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "a deactivated member".to_string())
    })
}

/// The offer to correct the client's last lifecycle move, when that move
/// is what brought the client to its stage; `typed` is the refused
/// correction's (reason, message).
async fn correction_view(
    state: &AppState,
    session: &WebSession,
    client: &Client,
    tz: &jiff::tz::TimeZone,
    typed: Option<(String, String)>,
) -> Result<Option<CorrectionView>, WebError> {
    let last = baton_store::client_moves::last_move(&state.db, session.agency_id(), &client.id)
        .await?
        .filter(|m| !m.is_correction() && m.to == client.lifecycle);
    Ok(last.map(|m| {
        let (reason, error) = typed.unwrap_or_default();
        CorrectionView {
            event_label: event_label(&m.event_type),
            from: m.from.label(),
            to: m.to.label(),
            when: timefmt::local(m.occurred_at, tz),
            allowed: may_correct(session, &client.id).is_ok(),
            reason,
            error: (!error.is_empty()).then_some(error),
        }
    }))
}

/// Renders the client page, with `typed` forms refilled and `status`.
pub(crate) async fn render_client(
    state: &AppState,
    session: &WebSession,
    id: &str,
    q: &QueryData,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let client = clients::get(&state.db, agency_id, id).await?;
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let before = q.get("before");
    if before.is_some_and(|b| b.parse::<i64>().is_err()) {
        return Err(WebError::BadRequest(
            "That timeline page does not exist.".into(),
        ));
    }
    let team = clients::team(&state.db, agency_id, id).await?;
    let active = members::list_active(&state.db, agency_id).await?;
    let page = events::list(
        &state.db,
        agency_id,
        &EventFilter {
            client_id: Some(id.to_string()),
            event_type: None,
            newest_first: true,
        },
        before,
        Some(TIMELINE_PAGE),
    )
    .await?;

    let current = client.lifecycle;
    let event_form = typed.event.unwrap_or_default();
    let event_types = ClientEventType::ALL
        .into_iter()
        .filter(|t| lifecycle::transition(current, *t).is_ok())
        .map(|t| Opt::new(t.key(), t.label(), &event_form.event_type))
        .collect();
    let edit_form = typed.edit.unwrap_or_else(|| EditForm::of(&client));
    let team_form = typed.team.unwrap_or_else(|| TeamForm::of(&client, &team));
    let team_rows = team_rows(&active, &team_form);
    let owner_options = active
        .iter()
        .map(|m| Opt::new(m.id.clone(), m.name.clone(), &team_form.owner))
        .collect();
    let older_href = page
        .next_cursor
        .as_ref()
        .map(|c| format!("/clients/{id}?before={c}#timeline"));
    let newer_href = before.map(|_| format!("/clients/{id}#timeline"));
    let title = client.name.clone();
    let correction = correction_view(state, session, &client, &tz, typed.correction).await?;
    let access = access::section(state, &agency, &client, &tz, now, typed.access).await?;
    let mut layout = Layout::app(&agency, session, title, "dashboard").with_notice(q.get("notice"));
    if layout.notice.is_none() {
        layout.notice = q.get("notice").and_then(access::notice_text);
    }
    let incidents =
        crate::web::incidents::card(state, session.agency_id(), Some(client.id.as_str()), 90)
            .await?;
    let trends = crate::web::scorecard::kpis::trends(
        state,
        session.agency_id(),
        Some(client.id.as_str()),
        now,
    )
    .await?;
    let view = ClientPage {
        layout,
        access,
        incidents,
        trends,
        website_href: client.website.clone(),
        created: timefmt::local_date(client.created_at, &tz),
        steps: lifecycle_steps(current),
        archived: current == Lifecycle::Archived,
        owner: owner_name(&client, &active),
        seats: team
            .into_iter()
            .map(|s| SeatView {
                role: s.role.label(),
                member: s.member_name,
            })
            .collect(),
        events: page
            .items
            .into_iter()
            .map(|e| event_view(e, &tz, now))
            .collect(),
        older_href,
        newer_href,
        timezone: agency.timezone.clone(),
        event_types,
        event_form,
        edit_form,
        team_rows,
        owner_options,
        team_error: team_form.error,
        correction,
        client,
    };
    Ok(render(status, &view))
}

/// `GET /clients/{id}?before=…`
pub async fn show(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_client(&state, &session, &id, &q, Typed::default(), StatusCode::OK).await
}

/// `POST /clients/{id}`: edits name, website and notes.
pub async fn update(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(mut typed): CsrfForm<EditForm>,
) -> Result<Response, WebError> {
    clients::get(&state.db, session.agency_id(), &id).await?;
    let result = clients::update(
        session.cx(&state),
        &id,
        ClientPatch {
            name: Some(typed.name.clone()),
            website: Some(typed.website.clone()),
            notes: Some(typed.notes.clone()),
        },
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?notice=client_saved"))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            typed.error = Some(message);
            let typed = Typed {
                edit: Some(typed),
                ..Typed::default()
            };
            render_client(&state, &session, &id, &QueryData::default(), typed, status).await
        }
    }
}

/// `POST /clients/{id}/team`: sets the account team and the traffic-control
/// owner.
pub async fn set_team(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(mut typed): CsrfForm<TeamForm>,
) -> Result<Response, WebError> {
    clients::get(&state.db, session.agency_id(), &id).await?;
    let result = if typed.owner.trim().is_empty() {
        Err(invalid("Choose who owns traffic control for this client."))
    } else {
        clients::set_team(session.cx(&state), &id, &typed.seats, typed.owner.trim()).await
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?notice=team_saved"))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            typed.error = Some(message);
            let typed = Typed {
                team: Some(typed),
                ..Typed::default()
            };
            render_client(&state, &session, &id, &QueryData::default(), typed, status).await
        }
    }
}
