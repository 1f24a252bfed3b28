//! One content item's page (`/content/{id}`): gathers the item, its
//! versions, rounds, comments and people, and renders them with the form
//! that was refused, if any.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::content::{
    self as rules, ApprovalMode, ContentAction, ContentStatus, RevisionSize,
};
use baton_core::content_files;
use baton_core::ids;
use baton_core::policy::Principal;
use baton_core::policy::{self, Action, Subject, CHANGE_PARTICIPANTS_RULE};
use baton_core::types::ContentId;
use baton_store::agencies::Agency;
use baton_store::content::{self, Item, Remark, Round, Version};
use baton_store::members::{self, Member};
use jiff::tz::TimeZone;

use super::item_views::{
    brief_lines, caption_count, names_of, next_step, pending_view, person_options, qa_lines,
    remark_view, round_view, version_view, waiting_on, BriefLine, PendingView, PersonOpt, QaLine,
    RemarkView, RoundView, Typed, VersionView,
};
use super::shared::{channel_name, layout, local_input};
use crate::auth::session::WebSession;
use crate::authz;
use crate::state::AppState;
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, Layout};
use crate::web::refusal::sentence;
use crate::web::sops::When;
use crate::web::{timefmt, WebError};

#[derive(Template)]
#[template(path = "content_item.html")]
struct ItemPage {
    /// Incidents reported about this item: `(id, title, severity, status)`.
    incidents: Vec<(String, String, &'static str, &'static str)>,
    /// The client is one of the approvers (on the approval link).
    client_approves: bool,
    layout: Layout,
    item: Item,
    status_key: &'static str,
    status_label: &'static str,
    channel: String,
    open: bool,
    next_step: String,
    brief: Vec<BriefLine>,
    brief_missing: Vec<&'static str>,
    versions: Vec<VersionView>,
    can_add_version: bool,
    /// The upload input's `accept`, the types and the size limit in words.
    draft_accept: String,
    draft_types: String,
    draft_limit: String,
    can_submit: bool,
    reviewer_names: Vec<String>,
    approver_names: Vec<String>,
    /// The signed-in member may change who reviews and approves.
    can_change_participants: bool,
    /// The signed-in member may re-size a round's revision (the client's
    /// account lead, an admin).
    can_resize: bool,
    /// Who may, for those who may not.
    participants_rule: &'static str,
    /// A change made now would wait for the next round (open round, not an
    /// admin).
    change_waits: bool,
    /// "Changes from the next round: …" when a change waits for it.
    pending: Option<PendingView>,
    /// The signed-in member approves from the next round on.
    approver_next_round: bool,
    /// The caption as shown in the form (typed, or the item's).
    caption_text: String,
    /// The caption can be edited now.
    caption_editable: bool,
    /// The item is approved or scheduled: a new caption reopens approval.
    caption_reopens: bool,
    /// The channel's limits the caption breaks.
    caption_problems: Vec<String>,
    /// "312 characters · 4 hashtags" (with the channel's limit when known).
    caption_count: String,
    people: Vec<PersonOpt>,
    mode_any: bool,
    rounds: Vec<RoundView>,
    remarks: Vec<RemarkView>,
    in_review: bool,
    is_approver: bool,
    qa: Vec<QaLine>,
    qa_done: usize,
    qa_complete: bool,
    qa_editable: bool,
    /// "Last QA change by Ana Ortiz, Tue 3 Mar, 14:05".
    qa_by: Option<String>,
    publish: Option<When>,
    published: Option<When>,
    created: When,
    typed: Typed,
    timezone: String,
}

/// What one item's page is made from: read together, then shaped.
struct ItemData {
    agency: Agency,
    item: Item,
    versions: Vec<Version>,
    rounds: Vec<Round>,
    remarks: Vec<Remark>,
    /// The agency's active members.
    members: Vec<Member>,
    /// The signed-in member as the policy sees them on the item's client.
    principal: Principal,
}

/// Reads the item and everything its page shows (404 when it is not this
/// agency's).
async fn gather(state: &AppState, session: &WebSession, id: &str) -> Result<ItemData, WebError> {
    let agency_id = session.agency_id();
    if !ids::has_shape(id, ids::CONTENT) {
        return Err(WebError::NotFound);
    }
    let (agency, item, versions, rounds, remarks, members) = tokio::try_join!(
        agency_of(state, session),
        async { Ok(content::get(&state.db, agency_id, id).await?) },
        async { Ok(content::versions(&state.db, agency_id, id).await?) },
        async { Ok(content::rounds(&state.db, agency_id, id).await?) },
        async { Ok(content::discussion(&state.db, agency_id, id).await?) },
        async { Ok::<_, WebError>(members::list_active(&state.db, agency_id).await?) },
    )?;
    let principal = authz::member_on_client(&state.db, session.member(), &item.client_id).await?;
    Ok(ItemData {
        agency,
        item,
        versions,
        rounds,
        remarks,
        members,
        principal,
    })
}

/// The people part of the page: who reviews and approves (by name), who
/// the round waits on, the participants form and who may change it.
struct PeopleParts {
    reviewer_names: Vec<String>,
    approver_names: Vec<String>,
    waiting: Vec<String>,
    pending: Option<PendingView>,
    options: Vec<PersonOpt>,
    mode_any: bool,
    client_approves: bool,
    can_change_participants: bool,
    can_resize: bool,
    change_waits: bool,
    approver_next_round: bool,
    is_approver: bool,
}

async fn people_parts(
    state: &AppState,
    session: &WebSession,
    data: &ItemData,
    typed: &Typed,
    now: i64,
    tz: &TimeZone,
) -> Result<PeopleParts, WebError> {
    let item = &data.item;
    let mut everyone: Vec<String> = item.reviewers.clone();
    everyone.extend(item.approvers.iter().cloned());
    if let Some(p) = &item.pending_participants {
        everyone.extend(p.reviewers.iter().cloned());
        everyone.extend(p.approvers.iter().cloned());
    }
    let names = names_of(state, session.agency_id(), &data.members, &everyone).await?;
    let name = |id: &String| names.get(id).cloned().unwrap_or_else(|| id.clone());
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "nobody".to_string()
        } else {
            ids.iter().map(name).collect::<Vec<_>>().join(", ")
        }
    };
    let (options, chosen_approvers, mode) =
        person_options(&data.members, item, &typed.participants);
    let me = &session.member().id;
    Ok(PeopleParts {
        reviewer_names: item.reviewers.iter().map(name).collect(),
        approver_names: item.approvers.iter().map(name).collect(),
        waiting: waiting_on(item, &data.remarks, &name),
        pending: item
            .pending_participants
            .as_ref()
            .map(|p| pending_view(p, &list, now, tz)),
        options,
        mode_any: mode == ApprovalMode::Any.key(),
        client_approves: chosen_approvers
            .iter()
            .any(|a| a == content::CLIENT_APPROVER),
        can_change_participants: policy::can(
            &data.principal,
            Action::ChangeParticipants,
            Subject::ContentItem {
                client_id: &item.client_id,
            },
        )
        .is_ok(),
        can_resize: policy::can(
            &data.principal,
            Action::ResizeRevision,
            Subject::ContentItem {
                client_id: &item.client_id,
            },
        )
        .is_ok(),
        change_waits: policy::participants_effect(data.principal.is_admin(), item.status)
            == policy::Effect::NextRound,
        approver_next_round: !item.approvers.contains(me)
            && item
                .pending_participants
                .as_ref()
                .is_some_and(|p| p.approvers.contains(me)),
        is_approver: item.approvers.contains(me),
    })
}

/// The forms' values where nothing was typed: the item's publish time and a
/// minor revision.
fn prefill(mut typed: Typed, item: &Item, tz: &TimeZone) -> Typed {
    if typed.publish_at.is_empty() {
        if let Some(at) = item.publish_at {
            typed.publish_at = local_input(at, tz);
        }
    }
    if typed.revision.is_empty() {
        typed.revision = RevisionSize::Minor.key().into();
    }
    typed
}

/// "Last QA change by Ana Ortiz, Tue 3 Mar, 14:05".
fn qa_by(item: &Item, tz: &TimeZone) -> Option<String> {
    match (&item.qa_by, item.qa_at) {
        (Some(by), Some(at)) => Some(format!(
            "Last QA change by {by}, {}",
            timefmt::local(at, tz)
        )),
        _ => None,
    }
}

/// Renders the item's page with `typed` forms refilled (the refused one with
/// its message) and `status`.
pub(super) async fn render_item(
    state: &AppState,
    session: &WebSession,
    id: &str,
    q: Option<&QueryData>,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, WebError> {
    let data = gather(state, session, id).await?;
    let tz = timefmt::zone(&data.agency.timezone);
    let now = state.now();
    let people = people_parts(state, session, &data, &typed, now, &tz).await?;
    let mut typed = prefill(typed, &data.item, &tz);
    let caption_text = typed
        .caption
        .take()
        .unwrap_or_else(|| data.item.caption.clone());
    let layout = layout(&data.agency, session, &data.item.title, q);
    let ItemData {
        agency,
        item,
        versions,
        rounds,
        remarks,
        ..
    } = data;
    let qa = qa_lines(&item, &tz);
    let qa_done = qa.iter().filter(|l| l.done).count();
    let status_open = item.status.is_open();
    let incidents = baton_store::incidents::list(
        &state.db,
        &agency.id,
        &baton_store::incidents::IncidentFilter {
            content_id: Some(item.id.to_string()),
            ..Default::default()
        },
        None,
        Some(20),
    )
    .await?
    .items
    .into_iter()
    .map(|i| {
        (
            i.id.to_string(),
            i.title,
            i.severity.key(),
            i.status.label(),
        )
    })
    .collect();
    let page = ItemPage {
        incidents,
        layout,
        status_key: item.status.key(),
        status_label: item.status.label(),
        channel: channel_name(&item.channel),
        open: status_open,
        next_step: next_step(
            &item,
            &people.approver_names,
            &people.waiting,
            qa.len() - qa_done,
            &tz,
        ),
        brief: brief_lines(&item.brief),
        brief_missing: item.brief.missing(),
        versions: versions
            .iter()
            .rev()
            .map(|v| version_view(&item.id, v, item.current_version, now, &tz))
            .collect(),
        draft_accept: content_files::accept_attribute(),
        draft_types: content_files::accepted_list(),
        draft_limit: content_files::size_text(
            state.config.draft_limit.min(content_files::MAX_DRAFT_BYTES),
        ),
        can_add_version: matches!(
            item.status,
            ContentStatus::Brief | ContentStatus::InProduction | ContentStatus::ChangesRequested
        ),
        can_submit: rules::transition(item.status, ContentAction::Submit).is_ok(),
        reviewer_names: people.reviewer_names,
        approver_names: people.approver_names,
        can_change_participants: people.can_change_participants,
        can_resize: people.can_resize,
        participants_rule: CHANGE_PARTICIPANTS_RULE,
        change_waits: people.change_waits,
        approver_next_round: people.approver_next_round,
        pending: people.pending,
        caption_count: caption_count(&item.channel, &item.caption),
        caption_problems: rules::caption_problems(&item.channel, &item.caption)
            .into_iter()
            .map(|p| sentence(&p.message))
            .collect(),
        caption_editable: matches!(
            item.status,
            ContentStatus::Brief
                | ContentStatus::InProduction
                | ContentStatus::ChangesRequested
                | ContentStatus::Approved
                | ContentStatus::Scheduled
        ),
        caption_reopens: matches!(
            item.status,
            ContentStatus::Approved | ContentStatus::Scheduled
        ),
        caption_text,
        people: people.options,
        mode_any: people.mode_any,
        client_approves: people.client_approves,
        rounds: rounds
            .iter()
            .rev()
            .map(|r| round_view(r, &remarks, &tz))
            .collect(),
        remarks: remarks.iter().map(|r| remark_view(r, now, &tz)).collect(),
        in_review: item.status == ContentStatus::InReview,
        is_approver: people.is_approver,
        qa_done,
        qa_complete: qa_done == qa.len(),
        qa,
        qa_editable: status_open,
        qa_by: qa_by(&item, &tz),
        publish: item.publish_at.map(|at| When::at(at, &tz)),
        published: item.published_at.map(|at| When::at(at, &tz)),
        created: When::at(item.created_at, &tz),
        typed,
        timezone: agency.timezone.clone(),
        item,
    };
    Ok(render(status, &page))
}

/// `GET /content/{id}`
pub(super) async fn item_page(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_item(
        &state,
        &session,
        &id,
        Some(&q),
        Typed::default(),
        StatusCode::OK,
    )
    .await
}
