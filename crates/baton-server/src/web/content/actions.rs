//! The forms of one content item: participants, caption, submit, comments,
//! decisions, the QA checklist, schedule, the approval link and the plain
//! workflow actions. Each comes back to the item with a notice, or renders
//! the item again with the store's refusal at its form.

use std::collections::{BTreeMap, HashSet};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{post, MethodRouter};
use baton_core::content::{ApprovalMode, ContentAction, Decision, RevisionSize};
use baton_core::ids;
use baton_core::policy::{self, Action, Subject};
use baton_core::types::ContentId;
use baton_store::content::{self, Item, ItemPatch, NewComment, NewDecision, Participants, Speaker};
use baton_store::StoreError;
use serde::Deserialize;

use super::item::render_item;
use super::item_views::Typed;
use super::shared::{invalid, refusal, SCHEDULE_HORIZON_MS};
use crate::auth::session::WebSession;
use crate::authz;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::WebPath;
use crate::web::layout::{agency_of, see_other};
use crate::web::{timefmt, WebError};

pub(super) fn back(id: &str, notice: &str, anchor: &str) -> Response {
    see_other(&format!("/content/{id}?notice={notice}#{anchor}"))
}

/// After a store call: back to the item with a notice, or the item again
/// with the refusal at form `at` and `typed` kept.
pub(super) async fn done<T>(
    state: &AppState,
    session: &WebSession,
    id: &str,
    result: Result<T, StoreError>,
    (notice, anchor): (&str, &str),
    at: &'static str,
    typed: Typed,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(back(id, notice, anchor)),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let typed = Typed {
                at,
                error: Some(message),
                ..typed
            };
            render_item(state, session, id, None, typed, status).await
        }
    }
}

/// The item must be this agency's (404 otherwise) before any form is read.
pub(super) async fn item_of(
    state: &AppState,
    session: &WebSession,
    id: &str,
) -> Result<Item, WebError> {
    if !ids::has_shape(id, ids::CONTENT) {
        return Err(WebError::NotFound);
    }
    Ok(content::get(&state.db, session.agency_id(), id).await?)
}

/// The reviewers and approvers as ticked, and all-or-any.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ParticipantsForm {
    reviewers: Vec<String>,
    approvers: Vec<String>,
    approval_mode: String,
}

/// The caption (copy) as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CaptionForm {
    caption: String,
}

/// A comment on the current round; `for_client` is "1" when it is marked
/// "Visible to the client".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CommentForm {
    body: String,
    for_client: String,
}

/// An approver's decision: "approve" or "request_changes", its comment and
/// the size of the revision asked for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DecisionForm {
    decision: String,
    comment: String,
    revision: String,
}

/// The QA checkboxes: the ticked items, and those ticked when the page was
/// shown.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ChecklistForm {
    done: Vec<String>,
    was: Vec<String>,
}

/// The planned day and why it moves.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PlanForm {
    planned_on: String,
    reason: String,
}

/// `POST /content/{id}/plan`: plans or moves the day the item goes out.
pub(super) async fn plan(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(f): CsrfForm<PlanForm>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let result = content::plan(
        session.cx(&state),
        &id,
        Some(f.planned_on.as_str()),
        Some(f.reason.as_str()),
    )
    .await;
    let typed = Typed {
        note: f.reason,
        ..Typed::default()
    };
    done(
        &state,
        &session,
        &id,
        result,
        ("planned", "plan"),
        "plan",
        typed,
    )
    .await
}

/// When to publish (in the agency's zone) and why QA may be waived.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ScheduleForm {
    publish_at: String,
    waive_reason: String,
}

/// `POST /content/{id}/participants`: reviewers (comment) and approvers
/// (decide), all or any.
pub(super) async fn participants(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<ParticipantsForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let ParticipantsForm {
        reviewers,
        approvers,
        approval_mode: mode_key,
    } = form;
    let typed = Typed {
        participants: Some((reviewers.clone(), approvers.clone(), mode_key.clone())),
        ..Typed::default()
    };
    // The one rule, as the API asks it: the account lead, traffic control
    // or an admin.
    let principal = authz::member_on_client(&state.db, session.member(), &item.client_id).await?;
    if let Err(d) = policy::can(
        &principal,
        Action::ChangeParticipants,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    ) {
        let typed = Typed {
            at: "participants",
            error: Some(d.sentence),
            ..typed
        };
        return render_item(&state, &session, &id, None, typed, StatusCode::FORBIDDEN).await;
    }
    let mode = match mode_key.as_str() {
        "" => None,
        m => match ApprovalMode::parse(m) {
            Some(m) => Some(m),
            None => {
                let (status, typed) = Typed::refused(
                    "participants",
                    invalid("Approval: choose all approvers or any one approver."),
                );
                return render_item(&state, &session, &id, None, typed, status).await;
            }
        },
    };
    let result = content::set_participants(
        session.cx(&state),
        &id,
        &Participants {
            reviewers,
            approvers,
            mode,
            by_admin: principal.is_admin(),
        },
    )
    .await;
    let notice = match &result {
        Ok(after) if after.pending_participants.is_some() => "participants_next_round",
        _ => "participants_saved",
    };
    done(
        &state,
        &session,
        &id,
        result,
        (notice, "participants"),
        "participants",
        typed,
    )
    .await
}

/// `POST /content/{id}/caption`: the caption (copy). On an approved or
/// scheduled item a new caption reopens approval (the store says how).
pub(super) async fn caption(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(CaptionForm { caption: text }): CsrfForm<CaptionForm>,
) -> Result<Response, WebError> {
    let before = item_of(&state, &session, &id).await?;
    let result = content::update(
        session.cx(&state),
        &id,
        ItemPatch {
            caption: Some(text.clone()),
            ..ItemPatch::default()
        },
    )
    .await;
    let notice = match &result {
        Ok(after) if after.status != before.status => "approval_reopened",
        _ => "caption_saved",
    };
    let typed = Typed {
        caption: Some(text),
        ..Typed::default()
    };
    done(
        &state,
        &session,
        &id,
        result,
        (notice, "caption"),
        "caption",
        typed,
    )
    .await
}

/// `POST /content/{id}/approval-link`: makes the client's approval link
/// (revoking the previous one) and shows its URL once on the page.
pub(super) async fn approval_link(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let created = baton_store::approval_links::create(session.cx(&state), &id, 14).await;
    match created {
        Ok(c) => {
            let typed = Typed {
                at: "approval",
                approval_url: Some(state.config.approval_url(&c.token)),
                ..Typed::default()
            };
            render_item(&state, &session, &id, None, typed, StatusCode::OK).await
        }
        Err(e) => {
            let (status, typed) = Typed::refused("approval", refusal(e)?);
            render_item(&state, &session, &id, None, typed, status).await
        }
    }
}

/// `POST /content/{id}/submit`: opens a review round on the current version.
pub(super) async fn submit(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let result = content::submit(session.cx(&state), &id).await;
    done(
        &state,
        &session,
        &id,
        result,
        ("submitted", "review"),
        "version",
        Typed::default(),
    )
    .await
}

pub(super) fn me(session: &WebSession) -> Speaker {
    Speaker::Member {
        id: session.member().id.clone(),
        name: session.member().name.clone(),
    }
}

/// `POST /content/{id}/comments`: review is broad, any member comments.
pub(super) async fn comment(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<CommentForm>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        comment: form.body,
        comment_for_client: form.for_client == "1",
        ..Typed::default()
    };
    let result = content::comment(
        session.cx(&state),
        &id,
        &NewComment {
            who: me(&session),
            body: typed.comment.clone(),
            for_client: typed.comment_for_client,
        },
    )
    .await;
    done(
        &state,
        &session,
        &id,
        result,
        ("commented", "discussion"),
        "comment",
        typed,
    )
    .await
}

/// `POST /content/{id}/decisions`: approve or request changes (with a
/// comment, major or minor). Only the item's approvers decide: anyone else
/// gets the store's 403 on the page.
pub(super) async fn decide(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        decision_comment: form.comment,
        revision: form.revision,
        ..Typed::default()
    };
    let Some(decision) = Decision::parse(&form.decision) else {
        let (status, refused) = Typed::refused(
            "decision",
            invalid("Decision: choose approve or request changes."),
        );
        let typed = Typed {
            decision_comment: typed.decision_comment,
            ..refused
        };
        return render_item(&state, &session, &id, None, typed, status).await;
    };
    let revision = match typed.revision.as_str() {
        "" => None,
        r => RevisionSize::parse(r),
    };
    let result = content::decide(
        session.cx(&state),
        &id,
        &NewDecision {
            who: me(&session),
            decision,
            comment: Some(typed.decision_comment.clone()),
            revision,
        },
    )
    .await;
    done(
        &state,
        &session,
        &id,
        result,
        ("decided", "review"),
        "decision",
        typed,
    )
    .await
}

/// The re-size form of a decided round.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResizeForm {
    revision: String,
    reason: String,
}

/// `POST /content/{id}/rounds/{round}/revision`: re-sizes a round's
/// revision (the client's account lead or an admin: the policy's rule).
pub(super) async fn resize(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, round)): WebPath<(ContentId, i64)>,
    CsrfForm(form): CsrfForm<ResizeForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let principal = authz::member_on_client(&state.db, session.member(), &item.client_id).await?;
    if let Err(d) = policy::can(
        &principal,
        Action::ResizeRevision,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    ) {
        let typed = Typed {
            at: "decision",
            error: Some(d.sentence),
            ..Typed::default()
        };
        return render_item(&state, &session, &id, None, typed, StatusCode::FORBIDDEN).await;
    }
    let Some(size) = RevisionSize::parse(&form.revision) else {
        let (status, typed) = Typed::refused("decision", invalid("Size: choose major or minor."));
        return render_item(&state, &session, &id, None, typed, status).await;
    };
    let result = content::resize_revision(session.cx(&state), &id, round, size, &form.reason).await;
    done(
        &state,
        &session,
        &id,
        result,
        ("revision_resized", "review"),
        "decision",
        Typed::default(),
    )
    .await
}

/// `POST /content/{id}/qa`: the QA checkboxes. Only the items whose box
/// changed since the page was shown (`was` lists the ticked ones then) go to
/// the store, so a stale page does not undo a teammate's tick.
pub(super) async fn qa(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<ChecklistForm>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let ticked: HashSet<String> = form.done.into_iter().collect();
    let was: HashSet<String> = form.was.into_iter().collect();
    let items: BTreeMap<String, bool> = item
        .qa
        .items
        .iter()
        .filter(|i| ticked.contains(&i.key) != was.contains(&i.key))
        .map(|i| (i.key.clone(), ticked.contains(&i.key)))
        .collect();
    if items.is_empty() {
        return Ok(back(&id, "qa_unchanged", "qa"));
    }
    let result = content::set_qa(session.cx(&state), &id, &items).await;
    done(
        &state,
        &session,
        &id,
        result,
        ("qa_saved", "qa"),
        "qa",
        Typed::default(),
    )
    .await
}

/// `POST /content/{id}/schedule`: a time in the agency's zone; refused
/// (409) until QA is complete unless a reason to waive it is given.
pub(super) async fn schedule(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ContentId>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> Result<Response, WebError> {
    item_of(&state, &session, &id).await?;
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let typed = Typed {
        publish_at: form.publish_at,
        waive_reason: form.waive_reason,
        ..Typed::default()
    };
    let now = state.now();
    let at = match timefmt::parse_local(&typed.publish_at, &tz) {
        Err(_) => Err("Publish at: enter a date and time like 2026-11-20T10:00."),
        Ok(at) if at < now - 5 * 60_000 => Err("Publish at: must not be in the past."),
        Ok(at) if at > now + SCHEDULE_HORIZON_MS => Err("Publish at: must be within five years."),
        Ok(at) => Ok(at),
    };
    let at = match at {
        Ok(at) => at,
        Err(m) => {
            let typed = Typed {
                at: "schedule",
                error: Some(m.to_string()),
                ..typed
            };
            return render_item(
                &state,
                &session,
                &id,
                None,
                typed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let waive = Some(typed.waive_reason.as_str()).filter(|w| !w.trim().is_empty());
    let result = content::schedule(session.cx(&state).at(now), &id, at, waive).await;
    done(
        &state,
        &session,
        &id,
        result,
        ("scheduled", "schedule"),
        "schedule",
        typed,
    )
    .await
}

/// The plain moves: approve the brief, unschedule, publish, cancel.
async fn act(
    state: &AppState,
    session: &WebSession,
    id: &ContentId,
    action: ContentAction,
    notice: &str,
) -> Result<Response, WebError> {
    // The brief's approval sits with the brief; the other moves at the status.
    let (anchor, at) = if action == ContentAction::ApproveBrief {
        ("brief", "brief")
    } else {
        ("status", "act")
    };
    item_of(state, session, id).await?;
    let result = content::act(session.cx(state), id, action).await;
    done(
        state,
        session,
        id,
        result,
        (notice, anchor),
        at,
        Typed::default(),
    )
    .await
}

/// The route of one plain action (`POST /content/{id}/approve-brief`,
/// `…/unschedule`, `…/publish`, `…/cancel`): [`act`] with its notice.
pub(super) fn action_route(action: ContentAction, notice: &'static str) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              session: WebSession,
              WebPath(id): WebPath<ContentId>,
              _: CsrfForm<NoFields>| async move {
            act(&state, &session, &id, action, notice).await
        },
    )
}
