//! `/team`: the agency's members (roles, admin flag, status) and the role map.
//! Admins invite members (the one-time link is shown once, on the page that
//! answers the form), re-issue invites, and deactivate or reactivate members.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::policy::{Action, Area, Subject};
use baton_core::roles::{Role, RoleInfo, ROLE_MAP};
use baton_core::types::MemberId;
use baton_store::invites;
use baton_store::members::{self, Member, MemberInput, MemberPatch};
use baton_store::StoreError;
use serde::Deserialize;

use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::{refusal, timefmt, WebError};

/// A member line.
pub struct MemberRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: String,
    pub is_admin: bool,
    pub is_self: bool,
    /// "active", "invited" or "deactivated".
    pub status: &'static str,
    pub status_label: &'static str,
    pub since: String,
}

/// A role checkbox of the invite form.
pub struct RoleCheck {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// The invite form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub is_admin: bool,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

/// A refused form of this page: its status and sentence, or the error page.
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, refusal::COMMON)
}

/// A freshly made invite link, shown once.
pub struct InviteLink {
    pub name: String,
    pub email: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    layout: Layout,
    is_admin: bool,
    members: Vec<MemberRow>,
    invite_form: InviteForm,
    role_checks: Vec<RoleCheck>,
    invite_link: Option<InviteLink>,
    action_error: Option<String>,
    role_map: &'static [RoleInfo],
}

/// What the page shows besides the member list.
#[derive(Default)]
struct Extras {
    invite_form: Option<InviteForm>,
    invite_link: Option<InviteLink>,
    action_error: Option<String>,
}

async fn all_members(state: &AppState, agency_id: &str) -> Result<Vec<Member>, WebError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = members::list(&state.db, agency_id, cursor.as_deref(), Some(200)).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out.sort_by_key(|m| m.name.to_lowercase());
    Ok(out)
}

async fn render_team(
    state: &AppState,
    session: &WebSession,
    notice: Option<&str>,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let me = session.member();
    let members = all_members(state, session.agency_id())
        .await?
        .into_iter()
        .map(|m| {
            let (status, status_label) = match (m.active, m.has_password) {
                (false, _) => ("deactivated", "Deactivated"),
                (true, false) => ("invited", "Invited, pending"),
                (true, true) => ("active", "Active"),
            };
            MemberRow {
                is_self: m.id == me.id,
                roles: m
                    .roles
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                since: timefmt::local_date(m.created_at, &tz),
                id: m.id,
                name: m.name,
                email: m.email,
                is_admin: m.is_admin,
                status,
                status_label,
            }
        })
        .collect();
    let invite_form = extras.invite_form.unwrap_or_default();
    let role_checks = Role::ALL
        .iter()
        .map(|r| RoleCheck {
            key: r.key(),
            label: r.label(),
            checked: invite_form.roles.iter().any(|k| k == r.key()),
        })
        .collect();
    let page = TeamPage {
        layout: Layout::app(&agency, session, "Team", "team").with_notice(notice),
        is_admin: session.administers(Area::Team),
        members,
        invite_form,
        role_checks,
        invite_link: extras.invite_link,
        action_error: extras.action_error,
        role_map: &ROLE_MAP,
    };
    Ok(render(status, &page))
}

/// `GET /team`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_team(
        &state,
        &session,
        q.get("notice"),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /team/invite` (admins): adds a member without a password and shows
/// their one-time invite link.
pub async fn invite(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut typed): CsrfForm<InviteForm>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Team))?;
    let result = invites::create_member_with_invite(
        session.cx(&state),
        MemberInput {
            email: typed.email.clone(),
            name: typed.name.clone(),
            roles: typed.roles.clone(),
            is_admin: typed.is_admin,
            password_hash: None,
        },
    )
    .await;
    match result {
        Ok((m, token)) => {
            let extras = Extras {
                invite_link: Some(InviteLink {
                    name: m.name,
                    email: m.email,
                    url: state.config.invite_url(&token),
                }),
                ..Extras::default()
            };
            render_team(&state, &session, None, extras, StatusCode::OK).await
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            typed.error = Some(message);
            let extras = Extras {
                invite_form: Some(typed),
                ..Extras::default()
            };
            render_team(&state, &session, None, extras, status).await
        }
    }
}

/// `POST /team/{id}/reissue` (admins): a fresh invite link for a member who
/// has not set a password; older links stop working.
pub async fn reissue(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<MemberId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Team))?;
    let m = members::get(&state.db, session.agency_id(), &id).await?;
    if !m.active {
        return action_refused(
            &state,
            &session,
            (
                StatusCode::CONFLICT,
                format!(
                    "{} is deactivated; reactivate them before sending an invite.",
                    m.name
                ),
            ),
        )
        .await;
    }
    match invites::reissue(session.cx(&state), &id).await {
        Ok(token) => {
            let extras = Extras {
                invite_link: Some(InviteLink {
                    name: m.name,
                    email: m.email,
                    url: state.config.invite_url(&token),
                }),
                ..Extras::default()
            };
            render_team(&state, &session, None, extras, StatusCode::OK).await
        }
        Err(e) => action_refused(&state, &session, refusal(e)?).await,
    }
}

/// Shows the team page with why an action was refused.
async fn action_refused(
    state: &AppState,
    session: &WebSession,
    (status, message): (StatusCode, String),
) -> Result<Response, WebError> {
    let extras = Extras {
        action_error: Some(message),
        ..Extras::default()
    };
    render_team(state, session, None, extras, status).await
}

async fn set_active(
    state: AppState,
    session: WebSession,
    id: &MemberId,
    active: bool,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Team))?;
    members::get(&state.db, session.agency_id(), id).await?;
    if !active && id.as_str() == session.member().id {
        return action_refused(
            &state,
            &session,
            (
                StatusCode::CONFLICT,
                "You cannot deactivate yourself; ask another admin.".to_string(),
            ),
        )
        .await;
    }
    let result = members::update(
        session.cx(&state),
        id,
        MemberPatch {
            active: Some(active),
            ..MemberPatch::default()
        },
    )
    .await;
    match result {
        Ok(_) if active => Ok(see_other("/team?notice=member_reactivated")),
        Ok(_) => Ok(see_other("/team?notice=member_deactivated")),
        Err(e) => action_refused(&state, &session, refusal(e)?).await,
    }
}

/// `POST /team/{id}/deactivate` (admins): their sessions end and their tokens
/// are revoked.
pub async fn deactivate(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<MemberId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    set_active(state, session, &id, false).await
}

/// `POST /team/{id}/reactivate` (admins)
pub async fn reactivate(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<MemberId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    set_active(state, session, &id, true).await
}
