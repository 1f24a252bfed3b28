//! The client's approval page, `/a/{token}`: the current draft of one content
//! item, its caption (copy), the planned channel and date, the comments the
//! team marked for the client with the client's own earlier decisions, and a
//! form to approve it or request changes with a comment and a name, without
//! an account. Nothing internal is shown: not the team's other comments or
//! consolidated feedback, not the version's file name by the naming
//! convention, not the version notes. It lives inside the portal's router, so it has
//! the onboarding link's rules: throttled guessing with the same neutral 404,
//! `no-referrer`, `noindex`, no scripts, the agency's branding; `GET` writes
//! nothing, and a decision is audited with the client's IP and user agent.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::Router;
use baton_core::content::{ContentStatus, Decision, RevisionSize};
use baton_core::content_files::Preview;
use baton_core::human;
use baton_core::types::AgencyId;
use baton_core::CoreError;
use baton_store::approval_links::{self, Opened};
use baton_store::content::{self, NewDecision, Speaker};
use baton_store::{agencies, Actor, Cx, StoreError};
use serde::Deserialize;

use super::brand::{css_href, theme_href};
use super::context::{check_origin, public_host, request_host};
use super::guard::{render, PortalError};
use super::steps::read_form;
use super::views::PortalLayout;
use crate::draft_files::{self, Disposition};
use crate::state::AppState;
use crate::web::form::{ClientMeta, PlainForm, QueryData};
use crate::web::{timefmt, WebError};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/a", any(not_found))
        .route("/a/", any(not_found))
        .route("/a/{token}", get(page))
        .route("/a/{token}/", any(not_found))
        .route("/a/{token}/decision", post(decision))
        .route("/a/{token}/versions/{n}/file", get(draft_file))
        .route("/a/{token}/{*rest}", any(not_found))
}

async fn not_found() -> PortalError {
    PortalError::NotFound
}

/// The live link for this host: on the public host any agency's, on a
/// custom domain only that agency's.
async fn open(state: &AppState, headers: &HeaderMap, token: &str) -> Result<Opened, PortalError> {
    let opened = approval_links::resolve(&state.db, token, state.now())
        .await?
        .ok_or(PortalError::NotFound)?;
    if let Some(h) = request_host(headers) {
        if h != public_host(&state.config.public_url) {
            match agencies::find_by_custom_domain(&state.db, &h).await? {
                Some(a) if a.id == opened.agency.id => {}
                _ => return Err(PortalError::NotFound),
            }
        }
    }
    Ok(opened)
}

struct DraftView {
    n: i64,
    url: Option<String>,
    /// A draft file, served under this link (`/a/{token}/versions/{n}/file`).
    file_href: Option<String>,
    is_image: bool,
    is_video: bool,
}

/// A comment or decision the client sees.
struct NoteView {
    /// The client's name as they gave it, or the member's with the agency's.
    who: String,
    /// "Approved", "Asked for changes"; `None` for a comment.
    decision: Option<&'static str>,
    body: Option<String>,
    at: String,
}

#[derive(Template)]
#[template(path = "portal_approval.html")]
struct ApprovalPage {
    layout: PortalLayout,
    base: String,
    client: String,
    channel: String,
    format: String,
    title: String,
    version: Option<DraftView>,
    /// The caption (copy) to approve with the draft.
    caption: String,
    /// "Tue 24 Nov, 10:41" in the agency's zone, when a date is planned.
    planned: Option<String>,
    timezone: String,
    notes: Vec<NoteView>,
    waiting: bool,
    state_line: String,
    notice: Option<&'static str>,
    error: Option<String>,
    name: String,
    decision: String,
    comment: String,
}

fn ends_with_any(url: &str, exts: &[&str]) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    exts.iter().any(|e| path.ends_with(e))
}

/// What the client typed, kept when a decision is refused.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Typed {
    name: String,
    decision: String,
    comment: String,
}

async fn render_page(
    state: &AppState,
    token: &str,
    o: &Opened,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    typed: Typed,
) -> Result<Response, PortalError> {
    let agency_id = &o.agency.id;
    let item = &o.item;
    let (versions, rounds, discussion) = tokio::try_join!(
        content::versions(&state.db, agency_id, &item.id),
        content::rounds(&state.db, agency_id, &item.id),
        content::discussion(&state.db, agency_id, &item.id),
    )?;
    let version = versions
        .into_iter()
        .find(|v| v.n == item.current_version)
        .map(|v| {
            let file = v.kind == "file";
            let preview = v.content_type.as_deref().map(Preview::of);
            DraftView {
                is_image: if file {
                    preview == Some(Preview::Image)
                } else {
                    v.url.as_deref().is_some_and(|u| {
                        u.starts_with("https://")
                            && ends_with_any(u, &[".png", ".jpg", ".jpeg", ".gif", ".webp"])
                    })
                },
                is_video: if file {
                    preview == Some(Preview::Video)
                } else {
                    v.url
                        .as_deref()
                        .is_some_and(|u| ends_with_any(u, &[".mp4", ".mov", ".webm"]))
                },
                file_href: file.then(|| format!("/a/{token}/versions/{}/file", v.n)),
                n: v.n,
                url: v.url,
            }
        });
    let tz = timefmt::zone(&o.agency.timezone);
    let now = state.now();
    // Only what is meant for the client: comments marked for them and their
    // own comments and decisions.
    let notes = discussion
        .into_iter()
        .filter(|r| r.for_client)
        .map(|r| NoteView {
            who: if r.author_kind == "client" {
                r.author_label
            } else {
                format!("{} ({})", r.author_label, o.agency.name)
            },
            decision: match r.decision.as_deref() {
                Some("approve") => Some("Approved"),
                Some("request_changes") => Some("Asked for changes"),
                _ => None,
            },
            body: r.body,
            at: human::when(r.created_at, now, &tz),
        })
        .collect();
    // The caption under review is the one the open round was submitted with.
    let caption = match item.status {
        ContentStatus::InReview => rounds
            .iter()
            .find(|r| r.round == item.round)
            .and_then(|r| r.caption.clone())
            .unwrap_or_else(|| item.caption.clone()),
        _ => item.caption.clone(),
    };
    let waiting = item.status == ContentStatus::InReview;
    let state_line = match item.status {
        ContentStatus::Approved | ContentStatus::Scheduled | ContentStatus::Published => {
            format!("{} is approved. Thank you.", item.title)
        }
        ContentStatus::ChangesRequested | ContentStatus::InProduction => format!(
            "{} is working on the changes. You will get a link to the next draft.",
            o.agency.name
        ),
        ContentStatus::Cancelled => "This item was cancelled: nothing to decide.".into(),
        _ => "Nothing is waiting for your decision right now.".into(),
    };
    let page = ApprovalPage {
        layout: PortalLayout {
            title: format!("Approve: {}", item.title),
            agency: o.agency.name.clone(),
            logo_url: o.agency.logo_url.clone(),
            css_href: css_href(),
            theme_href: theme_href(&o.agency.brand_color, &o.agency.accent_color),
            powered_by: !o.agency.white_label,
        },
        base: format!("/a/{token}"),
        client: item.client_name.clone(),
        channel: baton_core::content::channel(&item.channel)
            .map_or_else(|| item.channel.replace('_', " "), |c| c.name.to_string()),
        format: item.format.clone(),
        title: item.title.clone(),
        version,
        caption,
        planned: item.publish_at.map(|at| human::when(at, now, &tz)),
        timezone: o.agency.timezone.clone(),
        notes,
        waiting,
        state_line,
        notice,
        error,
        name: typed.name,
        decision: typed.decision,
        comment: typed.comment,
    };
    Ok(render(status, &page))
}

/// `GET /a/{token}`: the draft and the decision form. Writes nothing.
async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    q: QueryData,
) -> Result<Response, PortalError> {
    let o = open(&state, &headers, &token).await?;
    let notice = match q.get("done") {
        Some("approve") => Some("Thank you: your approval is recorded."),
        Some("request_changes") => Some("Thank you: your feedback is on its way to the team."),
        _ => None,
    };
    render_page(
        &state,
        &token,
        &o,
        StatusCode::OK,
        notice,
        None,
        Typed::default(),
    )
    .await
}

/// `GET /a/{token}/versions/{n}/file`: the draft file the page shows, and
/// only that one (earlier versions stay with the team). Images and videos
/// open in the browser; other files download.
async fn draft_file(
    State(state): State<AppState>,
    Path((token, n)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, PortalError> {
    let o = open(&state, &headers, &token).await?;
    let n: i64 = n.parse().map_err(|_| PortalError::NotFound)?;
    if n != o.item.current_version {
        return Err(PortalError::NotFound);
    }
    let v = match content::version(&state.db, &o.agency.id, &o.item.id, n).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => return Err(PortalError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let served = draft_files::serve(
        &state,
        &o.agency.id,
        &o.item.client_id,
        &v,
        &method,
        &headers,
        Disposition::Preview,
    )
    .await
    .map_err(|e| PortalError::Internal(format!("serving a draft: {e}")))?;
    served.ok_or(PortalError::NotFound)
}

/// `POST /a/{token}/decision`: the client's decision, audited.
async fn decision(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    form: Result<PlainForm<Typed>, WebError>,
) -> Result<Response, PortalError> {
    let o = open(&state, &headers, &token).await?;
    check_origin(&state, &headers, &o.agency)?;
    let typed = read_form(form)?;
    let name = typed.name.trim().to_string();
    let refuse = |msg: String, typed: Typed| {
        let (state, token, o) = (state.clone(), token.clone(), o.clone());
        async move {
            render_page(
                &state,
                &token,
                &o,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(msg),
                typed,
            )
            .await
        }
    };
    if name.is_empty() || name.chars().count() > 200 {
        return refuse(
            "Please give your name (up to 200 characters).".into(),
            typed,
        )
        .await;
    }
    // The client's own words size the revision: small changes are minor,
    // a rework is major (the rework-rate KPI counts those).
    let (d, revision) = match typed.decision.trim() {
        "request_rework" => (Decision::RequestChanges, Some(RevisionSize::Major)),
        "request_changes" => (Decision::RequestChanges, Some(RevisionSize::Minor)),
        other => match Decision::parse(other) {
            Some(d) => (d, None),
            None => {
                return refuse(
                    "Please choose: approve, request small changes, or request a rework.".into(),
                    typed,
                )
                .await
            }
        },
    };
    let actor = Actor {
        kind: "client_link".into(),
        id: o.link_id.clone(),
        label: format!("{name} ({}, approval link)", o.item.client_name),
        ip: meta.ip,
        user_agent: meta.user_agent,
    };
    let comment = Some(typed.comment.clone()).filter(|c| !c.trim().is_empty());
    // The decision is audited with the client's IP and user agent (`actor`).
    let agency = AgencyId::parse(&o.agency.id).map_err(|_| PortalError::NotFound)?;
    let cx = Cx::new(&state.db, &agency, &actor, state.now());
    let result = content::decide(
        cx,
        &o.item.id,
        &NewDecision {
            who: Speaker::Client { name: name.clone() },
            decision: d,
            comment,
            revision,
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/a/{token}?done={}", d.key())).into_response()),
        Err(StoreError::Core(CoreError::Invalid { message, .. })) => {
            let msg = if message.contains("should change") {
                "Please say what should change.".to_string()
            } else {
                message
            };
            refuse(msg, typed).await
        }
        Err(StoreError::Core(CoreError::Conflict(m))) | Err(StoreError::Forbidden(m)) => {
            let (state, token2) = (state.clone(), token.clone());
            let o = open(&state, &headers, &token2).await?;
            render_page(
                &state,
                &token2,
                &o,
                StatusCode::CONFLICT,
                None,
                Some(m),
                typed,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
