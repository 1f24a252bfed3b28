//! "Who decides what" (`/clients/{id}/decides`): the account team, who
//! approves, who owns traffic control, and per SOP who owns it and who
//! hears of a breach.

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::roles::Role;
use baton_core::types::ClientId;
use baton_store::clients::{self, Client, TeamSeat};
use baton_store::members::{self, Member};
use baton_store::{handoff_briefs, sops, StoreError};

use super::runs::client_of;
use super::shared::layout;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, Layout};
use crate::web::WebError;

/// A role of the account team and who holds it for this client.
pub struct SeatLine {
    pub role: &'static str,
    pub title: &'static str,
    pub member: Option<String>,
}

/// Someone who approves for the client.
pub struct ApproverLine {
    pub name: String,
    /// "Account lead seat", "Client stakeholder (handoff brief): CMO".
    pub why: String,
}

/// Who owns an SOP for this client and who hears of a breach.
pub struct SopLine {
    pub key: String,
    pub name: String,
    pub owner_role: &'static str,
    pub owner: Option<String>,
    /// How the owner is found: "the Project Manager seat", "traffic control
    /// (no Strategist on the team)", or why nobody is found.
    pub owner_how: String,
    pub escalation_role: &'static str,
    pub escalates_to: Option<String>,
    /// Where a breach goes when the escalation seat is empty.
    pub escalation_how: String,
    pub sla: String,
}

#[derive(Template)]
#[template(path = "client_decides.html")]
struct DecidesPage {
    layout: Layout,
    client: Client,
    seats: Vec<SeatLine>,
    gaps: usize,
    approvers: Vec<ApproverLine>,
    /// The client has a handoff brief.
    has_brief: bool,
    traffic_control: Option<String>,
    /// The traffic-control owner was deactivated.
    traffic_control_inactive: bool,
    sops: Vec<SopLine>,
}

/// The active members of the agency by id, for "is this seat filled by
/// someone who still works here".
fn active_ids(people: &[Member]) -> HashSet<String> {
    people.iter().map(|m| m.id.clone()).collect()
}

/// The active member holding `role` on the team.
fn seat(team: &[TeamSeat], active: &HashSet<String>, role: Role) -> Option<String> {
    team.iter()
        .find(|s| s.role == role && active.contains(&s.member_id))
        .map(|s| s.member_name.clone())
}

/// `GET /clients/{id}/decides`: "Who decides what" for the client.
pub(super) async fn decides(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let client = client_of(&state, &session, &id).await?;
    let (team, people, library) = tokio::try_join!(
        clients::team(&state.db, agency_id, &client.id),
        members::list_active(&state.db, agency_id),
        sops::list(&state.db, agency_id),
    )?;
    let active = active_ids(&people);
    let (traffic_control, traffic_control_inactive) = match &client.traffic_control_member_id {
        None => (None, false),
        Some(m) => match people.iter().find(|p| &p.id == m) {
            Some(p) => (Some(p.name.clone()), false),
            // Deactivated: still named, and flagged.
            None => match members::get(&state.db, agency_id, m).await {
                Ok(p) => (Some(p.name), true),
                Err(StoreError::NotFound) => (None, false),
                Err(e) => return Err(e.into()),
            },
        },
    };
    let tc_active = traffic_control
        .clone()
        .filter(|_| !traffic_control_inactive);
    let seats: Vec<SeatLine> = Role::ALL
        .iter()
        .map(|&r| SeatLine {
            role: r.key(),
            title: r.info().title,
            member: seat(&team, &active, r),
        })
        .collect();
    let gaps = seats.iter().filter(|s| s.member.is_none()).count();
    let mut approvers = Vec::new();
    if let Some(lead) = seat(&team, &active, Role::AccountLead) {
        approvers.push(ApproverLine {
            name: lead,
            why: "Account lead seat: signs off for the agency and owns escalation decisions".into(),
        });
    }
    let (has_brief, stakeholders) = brief_approvers(&state, agency_id, &client.id).await?;
    approvers.extend(stakeholders);
    let sops = library
        .iter()
        .map(|s| {
            let d = &s.definition;
            let (owner, owner_how) = match seat(&team, &active, d.owner_role) {
                Some(m) => (Some(m), format!("the {} seat", d.owner_role.label())),
                None => match &tc_active {
                    Some(tc) => (
                        Some(tc.clone()),
                        format!("traffic control: no {} on the team", d.owner_role.label()),
                    ),
                    None => (
                        None,
                        format!(
                            "nobody: no {} on the team and no traffic-control owner",
                            d.owner_role.label()
                        ),
                    ),
                },
            };
            let esc = seat(&team, &active, d.escalation_role);
            let escalation_how = match (&esc, &owner, &tc_active) {
                (Some(_), _, _) => {
                    format!("the {} seat, with the owner", d.escalation_role.label())
                }
                (None, Some(o), _) => format!(
                    "no {} on the team: only the owner ({o}) hears of a breach",
                    d.escalation_role.label()
                ),
                (None, None, Some(tc)) => {
                    format!(
                        "no {} on the team: traffic control ({tc})",
                        d.escalation_role.label()
                    )
                }
                (None, None, None) => format!(
                    "no {} on the team and no owner: the agency's admins",
                    d.escalation_role.label()
                ),
            };
            SopLine {
                key: d.key.clone(),
                name: d.name.clone(),
                owner_role: d.owner_role.label(),
                owner,
                owner_how,
                escalation_role: d.escalation_role.label(),
                escalates_to: esc,
                escalation_how,
                sla: d.sla.describe(),
            }
        })
        .collect();
    let page = DecidesPage {
        layout: layout(
            &agency,
            &session,
            &format!("Who decides what · {}", client.name),
            "dashboard",
            Some(&q),
        ),
        client,
        seats,
        gaps,
        approvers,
        has_brief,
        traffic_control,
        traffic_control_inactive,
        sops,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Whether the client has a handoff brief, and its stakeholders who
/// approve (from the latest version).
async fn brief_approvers(
    state: &AppState,
    agency_id: &str,
    client_id: &str,
) -> Result<(bool, Vec<ApproverLine>), WebError> {
    let Some(saved) = handoff_briefs::latest(&state.db, agency_id, client_id).await? else {
        return Ok((false, Vec::new()));
    };
    let version = saved.version;
    let approvers = saved
        .brief
        .stakeholders
        .into_iter()
        .filter(|s| s.approves)
        .map(|s| {
            let title = if s.role.trim().is_empty() {
                String::new()
            } else {
                format!(", {}", s.role.trim())
            };
            ApproverLine {
                name: s.name,
                why: format!("Client stakeholder{title} (handoff brief version {version})"),
            }
        })
        .collect();
    Ok((true, approvers))
}
