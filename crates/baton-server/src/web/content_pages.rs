//! The content pages: the board by status (`/content` across clients,
//! `/clients/{id}/content` for one client, with the "New content item"
//! form), one item (`/content/{id}`: brief, next step, versions, reviewers
//! and approvers, rounds with their consolidated feedback, comments,
//! decisions for approvers, the publishing QA checklist, schedule, publish,
//! cancel) and the calendar (`/content/calendar?month=2026-11` or
//! `?week=2026-W48`, in the agency's time zone).
//!
//! A client's board also holds the client's calendar feed card (create or
//! replace the secret `.ics` URL, shown once; revoke): the board is where
//! the team looks after one client's content, and the feed is exactly that
//! client's scheduled and published content.
//!
//! Every form posts to its own address and comes back to the item with a
//! notice; a refusal of the store (422 invalid, 409 impossible, 403 not an
//! approver) renders the item again with the message at that form and what
//! was typed kept. Lists are a few store queries per page, never one per
//! card.

use std::collections::{BTreeMap, HashMap, HashSet};

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use baton_core::content::{
    self as rules, ApprovalMode, ContentAction, ContentBrief, ContentStatus, Decision,
    RevisionSize, RoundOutcome, CHANNELS,
};
use baton_core::content_files::{self, Preview};
use baton_core::policy::{self, Action, Subject, CHANGE_PARTICIPANTS_RULE};
use baton_core::{ids, CoreError};
use baton_store::agencies::Agency;
use baton_store::calendar_feeds::FeedScope;
use baton_store::clients::{self, Client};
use baton_store::content::{
    self, Item, ItemFilter, ItemPatch, NewComment, NewDecision, NewItem, NewVersion, Participants,
    Remark, Round, Speaker, Version, VersionText,
};
use baton_store::members::{self, Member};
use baton_store::{Page, StoreError};
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::feeds::{self, FeedCard};
use super::form::{
    check_csrf, csrf_refused, multipart_refused, FormData, QueryData, UNREADABLE_UPLOAD,
};
use super::layout::{agency_of, notice_text, render, see_other, Layout, Opt};
use super::sop_pages::When;
use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::authz;
use crate::draft_files::{self, Disposition, DraftError};
use crate::state::AppState;

/// Cards per open column of the board; past it the column links to its own
/// list (the counts stay exact).
const COLUMN_CAP: i64 = 100;
/// Items per page of one status's list (`?status=…`).
const STATUS_PAGE: i64 = 200;
/// Items the store reads for one calendar period at most.
const CALENDAR_CAP: usize = 5_000;
/// How far ahead an item can be scheduled, like the API.
const SCHEDULE_HORIZON_MS: i64 = 5 * 366 * 86_400_000;

/// The board's open columns, in workflow order.
const OPEN: [ContentStatus; 6] = [
    ContentStatus::Brief,
    ContentStatus::InProduction,
    ContentStatus::InReview,
    ContentStatus::ChangesRequested,
    ContentStatus::Approved,
    ContentStatus::Scheduled,
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/content", get(agency_board))
        .route("/content/calendar", get(calendar))
        .route("/clients/{id}/content", get(client_board).post(create))
        .route("/clients/{id}/calendar-feed", post(create_feed))
        .route("/clients/{id}/calendar-feed/revoke", post(revoke_feed))
        .route("/content/{id}", get(item_page))
        .route("/content/{id}/participants", post(participants))
        .route("/content/{id}/caption", post(caption))
        .route("/content/{id}/versions", post(add_version))
        .route(
            "/content/{id}/versions/upload",
            post(upload_version).layer(DefaultBodyLimit::max(draft_files::UPLOAD_BODY_LIMIT)),
        )
        .route("/content/{id}/versions/{n}/file", get(version_file))
        .route("/content/{id}/submit", post(submit))
        .route("/content/{id}/comments", post(comment))
        .route("/content/{id}/decisions", post(decide))
        .route("/content/{id}/qa", post(qa))
        .route("/content/{id}/schedule", post(schedule))
        .route(
            "/content/{id}/approve-brief",
            action_route(ContentAction::ApproveBrief, "brief_approved"),
        )
        .route(
            "/content/{id}/unschedule",
            action_route(ContentAction::Unschedule, "unscheduled"),
        )
        .route(
            "/content/{id}/publish",
            action_route(ContentAction::Publish, "published"),
        )
        .route(
            "/content/{id}/cancel",
            action_route(ContentAction::Cancel, "cancelled"),
        )
        .route("/content/{id}/approval-link", post(approval_link))
}

// ------------------------------------------------------------------ shared --

/// The sentences after the changes of the content pages (a fixed set), then
/// the app's shared ones.
fn notice(key: Option<&str>) -> Option<&'static str> {
    let key = key?;
    Some(match key {
        "content_created" => "Content item created.",
        "participants_saved" => "Reviewers and approvers saved.",
        "participants_next_round" => {
            "Saved for the next round: this round stays with the approvers it was submitted to."
        }
        "caption_saved" => "Caption saved.",
        "approval_reopened" => {
            "Caption saved. It changed after approval, so approval is reopened: submit the item for a new round (its publishing QA is to do again)."
        }
        "version_added" => "Version added.",
        "submitted" => "Submitted for review: a new round is open for the approvers.",
        "commented" => "Comment added to this round.",
        "decided" => "Decision recorded.",
        "qa_saved" => "QA checklist saved.",
        "qa_unchanged" => "Nothing changed on the QA checklist.",
        "scheduled" => "Scheduled.",
        "unscheduled" => "Taken off the schedule: the item is approved again.",
        "published" => "Marked as published.",
        "cancelled" => "Content item cancelled.",
        "brief_approved" => "Brief approved: production starts.",
        other => return notice_text(other),
    })
}

fn layout(agency: &Agency, session: &WebSession, title: &str, q: Option<&QueryData>) -> Layout {
    let mut l = Layout::app(agency, session, title, "content");
    l.notice = notice(q.and_then(|q| q.get("notice")));
    l
}

/// A field of the content forms as people read it.
fn field_label(field: &str) -> &str {
    match field {
        "title" => "Title",
        "channel" => "Channel",
        "format" => "Format",
        "campaign" => "Campaign",
        "brief.audience" => "Audience",
        "brief.angle" => "Angle",
        "brief.offer" => "Offer",
        "brief.constraints" => "Constraints",
        "brief.examples" => "Examples",
        "url" => "Link",
        "note" => "Note",
        "body" | "comment" => "Comment",
        "reviewers" => "Reviewers",
        "approvers" => "Approvers",
        "approval_mode" => "Approval",
        "items" => "QA checklist",
        "caption" => "Caption",
        "qa_waived_reason" => "Reason to waive QA",
        "publish_at" => "Publish at",
        "decision" => "Decision",
        "revision" => "Revision",
        other => other,
    }
}

/// "the item is cancelled" → "The item is cancelled."
fn sentence(m: &str) -> String {
    let m = m.trim().trim_end_matches('.');
    let mut c = m.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// A refused form's status and message: invalid input (422), an impossible
/// change (409), someone who may not decide (403). Anything else (not
/// found, a failure) becomes an error page.
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => {
            let message = message.trim_end_matches('.');
            let text = if field.is_empty() {
                sentence(message)
            } else {
                format!("{}: {message}.", field_label(&field))
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, text))
        }
        StoreError::Core(CoreError::Conflict(m)) => Ok((StatusCode::CONFLICT, sentence(&m))),
        StoreError::Forbidden(m) => Ok((StatusCode::FORBIDDEN, sentence(&m))),
        StoreError::Duplicate(m) => Ok((StatusCode::UNPROCESSABLE_ENTITY, sentence(&m))),
        other => Err(other.into()),
    }
}

fn invalid(message: &str) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_string())
}

/// A channel's name ("Instagram"), or its key when Baton does not know it.
fn channel_name(key: &str) -> String {
    rules::channel(key).map_or_else(|| key.replace('_', " "), |c| c.name.to_string())
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A `datetime-local` value ("2026-11-20T10:00") in `tz`.
fn local_input(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// "2.1 MB", "540 KB".
fn size_label(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1_048_576.0 {
        format!("{:.1} MB", b / 1_048_576.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

// ------------------------------------------------------------------- board --

/// One content item on the board, a status list or the calendar.
pub struct CardView {
    pub id: String,
    pub title: String,
    pub client_name: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    /// "v3" or "No version yet".
    pub versions: String,
    /// "2 revisions"; empty when none.
    pub revisions: String,
    /// When it goes live, for scheduled and published items.
    pub publish: Option<When>,
}

impl CardView {
    fn of(i: &Item, tz: &TimeZone) -> CardView {
        CardView {
            id: i.id.clone(),
            title: i.title.clone(),
            client_name: i.client_name.clone(),
            channel: channel_name(&i.channel),
            format: i.format.clone(),
            campaign: i.campaign.clone(),
            versions: if i.current_version == 0 {
                "No version yet".into()
            } else {
                format!("v{}", i.current_version)
            },
            revisions: if i.revision_count == 0 {
                String::new()
            } else {
                plural(i.revision_count, "revision", "revisions")
            },
            publish: match i.status {
                ContentStatus::Scheduled | ContentStatus::Published => {
                    i.publish_at.or(i.published_at).map(|at| When::at(at, tz))
                }
                _ => None,
            },
        }
    }
}

/// A column of the board.
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub cards: Vec<CardView>,
    /// More items than shown: the column links to its full list.
    pub more: bool,
}

/// Published or cancelled: a count and a link.
pub struct ClosedCount {
    pub key: &'static str,
    pub label: &'static str,
    pub count: i64,
}

/// One status as a paged list (`?status=…`).
pub struct StatusList {
    pub key: &'static str,
    pub label: &'static str,
    pub cards: Vec<CardView>,
    pub next_href: Option<String>,
    /// Not the first page: a link back to it.
    pub paged: bool,
}

/// The "New content item" form as typed.
#[derive(Debug, Clone, Default)]
pub struct NewForm {
    pub title: String,
    pub channel: String,
    pub channel_other: String,
    pub format: String,
    pub campaign: String,
    pub audience: String,
    pub angle: String,
    pub offer: String,
    pub constraints: String,
    pub examples: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "content_board.html")]
struct BoardPage {
    layout: Layout,
    /// The client of a client board; `None` across clients.
    client: Option<Client>,
    archived: bool,
    heading: String,
    summary: String,
    /// The board's own address (`/content` or `/clients/{id}/content`).
    base: String,
    calendar_href: String,
    columns: Vec<Column>,
    closed: Vec<ClosedCount>,
    list: Option<StatusList>,
    cap: i64,
    form: NewForm,
    channels: Vec<Opt>,
    /// The client's calendar feed (client boards only).
    feed: Option<FeedCard>,
}

async fn by_status(
    state: &AppState,
    agency_id: &str,
    client_id: Option<&str>,
    status: ContentStatus,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<Item>, StoreError> {
    let f = ItemFilter {
        client_id: client_id.map(str::to_string),
        status: Some(status),
    };
    content::list(&state.db, agency_id, &f, cursor, Some(limit)).await
}

async fn render_board(
    state: &AppState,
    session: &WebSession,
    client_id: Option<&str>,
    q: &QueryData,
    form: NewForm,
    new_feed_url: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let (agency, client) = match client_id {
        Some(id) => {
            let (a, c) = tokio::try_join!(agency_of(state, session), async {
                Ok(clients::get(&state.db, agency_id, id).await?)
            },)?;
            (a, Some(c))
        }
        None => (agency_of(state, session).await?, None),
    };
    let tz = timefmt::zone(&agency.timezone);
    let cid = client.as_ref().map(|c| c.id.as_str());
    let base = match cid {
        Some(c) => format!("/clients/{c}/content"),
        None => "/content".to_string(),
    };
    let wanted = match q.get("status") {
        None => None,
        Some(s) => Some(ContentStatus::parse(s).ok_or_else(|| {
            WebError::BadRequest(
                "Status: use brief, in_production, in_review, changes_requested, approved, \
                 scheduled, published or cancelled."
                    .into(),
            )
        })?),
    };
    let (mut columns, mut closed, mut list) = (Vec::new(), Vec::new(), None);
    let mut open_total = 0i64;
    if let Some(s) = wanted {
        let cursor = q.get("cursor").filter(|c| ids::has_shape(c, ids::CONTENT));
        let page = by_status(state, agency_id, cid, s, cursor, STATUS_PAGE).await?;
        list = Some(StatusList {
            key: s.key(),
            label: s.label(),
            cards: page.items.iter().map(|i| CardView::of(i, &tz)).collect(),
            next_href: page
                .next_cursor
                .map(|c| format!("{base}?status={}&cursor={c}", s.key())),
            paged: cursor.is_some(),
        });
    } else {
        let col = |s| by_status(state, agency_id, cid, s, None, COLUMN_CAP);
        let (counts, b, p, r, c, a, s) = tokio::try_join!(
            content::status_counts(&state.db, agency_id, cid),
            col(OPEN[0]),
            col(OPEN[1]),
            col(OPEN[2]),
            col(OPEN[3]),
            col(OPEN[4]),
            col(OPEN[5]),
        )?;
        let count = |s: ContentStatus| counts.get(&s).copied().unwrap_or(0);
        for (status, page) in OPEN.into_iter().zip([b, p, r, c, a, s]) {
            let more = page.next_cursor.is_some();
            let mut cards: Vec<CardView> =
                page.items.iter().map(|i| CardView::of(i, &tz)).collect();
            if status == ContentStatus::Scheduled {
                // Soonest first (of those shown); creation order otherwise.
                let mut at: Vec<(i64, CardView)> = page
                    .items
                    .iter()
                    .map(|i| i.publish_at.unwrap_or(i64::MAX))
                    .zip(cards)
                    .collect();
                at.sort_by_key(|(t, _)| *t);
                cards = at.into_iter().map(|(_, c)| c).collect();
            }
            open_total += count(status);
            columns.push(Column {
                key: status.key(),
                label: status.label(),
                count: count(status).max(cards.len() as i64),
                cards,
                more,
            });
        }
        for status in [ContentStatus::Published, ContentStatus::Cancelled] {
            closed.push(ClosedCount {
                key: status.key(),
                label: status.label(),
                count: count(status),
            });
        }
    }
    let open_count = open_total;
    let (heading, summary, calendar_href, title) = match &client {
        Some(c) => (
            format!("Content · {}", c.name),
            format!("{open_count} open · times in {}", agency.timezone),
            format!("/content/calendar?client={}", c.id),
            format!("Content · {}", c.name),
        ),
        None => (
            "Content".to_string(),
            format!(
                "{open_count} open across clients · times in {}",
                agency.timezone
            ),
            "/content/calendar".to_string(),
            "Content".to_string(),
        ),
    };
    let summary = match &list {
        Some(l) => format!(
            "{} · {} shown{}",
            l.label,
            l.cards.len(),
            if l.next_href.is_some() {
                ", more on the next page"
            } else {
                ""
            }
        ),
        None => summary,
    };
    let mut channels: Vec<Opt> = CHANNELS
        .iter()
        .map(|c| Opt::new(c.key, c.name, &form.channel))
        .collect();
    channels.push(Opt::new("other", "Other (type it below)", &form.channel));
    let feed = match &client {
        Some(c) => Some(
            FeedCard::load(
                state,
                session,
                &FeedScope::Client(c.id.clone()),
                &tz,
                new_feed_url,
            )
            .await?,
        ),
        None => None,
    };
    let page = BoardPage {
        layout: layout(&agency, session, &title, Some(q)),
        archived: client
            .as_ref()
            .is_some_and(|c| c.lifecycle == baton_core::lifecycle::Lifecycle::Archived),
        client,
        heading,
        summary,
        base,
        calendar_href,
        columns,
        closed,
        list,
        cap: COLUMN_CAP,
        form,
        channels,
        feed,
    };
    Ok(render(status, &page))
}

/// `GET /content`: the board across clients.
async fn agency_board(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_board(
        &state,
        &session,
        None,
        &q,
        NewForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `GET /clients/{id}/content`: one client's board and the new item form.
async fn client_board(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_board(
        &state,
        &session,
        Some(&id),
        &q,
        NewForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /clients/{id}/content`: a new item in `brief` (its reviewers and
/// approvers come from the client's defaults).
async fn create(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
    let mut typed = NewForm {
        title: form.string("title"),
        channel: form.string("channel"),
        channel_other: form.string("channel_other"),
        format: form.string("format"),
        campaign: form.string("campaign"),
        audience: form.string("audience"),
        angle: form.string("angle"),
        offer: form.string("offer"),
        constraints: form.string("constraints"),
        examples: form.string("examples"),
        error: None,
    };
    // "Other": the typed channel as a key ("Google Business" → google_business).
    let channel = if typed.channel == "other" || typed.channel.trim().is_empty() {
        typed
            .channel_other
            .trim()
            .to_lowercase()
            .replace([' ', '-'], "_")
    } else {
        typed.channel.clone()
    };
    let result = content::create(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &client.id,
        NewItem {
            title: typed.title.clone(),
            channel,
            format: typed.format.clone(),
            campaign: typed.campaign.clone(),
            brief: ContentBrief {
                audience: typed.audience.clone(),
                angle: typed.angle.clone(),
                offer: typed.offer.clone(),
                constraints: typed.constraints.clone(),
                examples: typed.examples.clone(),
            },
            caption: String::new(),
        },
    )
    .await;
    let (status, message) = match result {
        Ok(item) => {
            return Ok(see_other(&format!(
                "/content/{}?notice=content_created",
                item.id
            )))
        }
        Err(e) => refusal(e)?,
    };
    typed.error = Some(message);
    render_board(
        &state,
        &session,
        Some(&client.id),
        &QueryData::default(),
        typed,
        None,
        status,
    )
    .await
}

/// `POST /clients/{id}/calendar-feed`: a new URL of the client's calendar
/// feed (the previous one stops working), shown once on the board.
async fn create_feed(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let url = feeds::create_url(&state, &session, &FeedScope::Client(id.clone())).await?;
    render_board(
        &state,
        &session,
        Some(&id),
        &QueryData::default(),
        NewForm::default(),
        Some(url),
        StatusCode::OK,
    )
    .await
}

/// `POST /clients/{id}/calendar-feed/revoke`: the client's feed URL stops
/// working.
async fn revoke_feed(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    // Read through the store first: another agency's id is a 404 here too.
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
    let notice = feeds::revoke_url(&state, &session, &FeedScope::Client(client.id.clone())).await?;
    Ok(see_other(&format!(
        "/clients/{}/content?notice={notice}#calendar-feed",
        client.id
    )))
}

// -------------------------------------------------------------------- item --

/// A brief field as shown.
pub struct BriefLine {
    pub label: &'static str,
    pub value: String,
}

pub struct VersionView {
    pub n: i64,
    pub name: String,
    /// The draft's link (always http or https).
    pub href: Option<String>,
    /// "cover.jpg · image/jpeg · 2.1 MB" for a file.
    pub file: Option<String>,
    /// Where a file version is shown (`/content/{id}/versions/{n}/file`).
    pub file_href: Option<String>,
    /// `image` or `video` for a file shown in the page, else empty.
    pub preview: &'static str,
    pub note: Option<String>,
    /// The caption the version was added with, when it has one.
    pub caption: Option<String>,
    pub by: String,
    pub at: When,
    pub ago: String,
    pub current: bool,
}

fn version_view(item_id: &str, v: &Version, current: i64, now: i64, tz: &TimeZone) -> VersionView {
    let file_href = (v.kind == "file").then(|| format!("/content/{item_id}/versions/{}/file", v.n));
    let preview = match v.content_type.as_deref().map(Preview::of) {
        Some(Preview::Image) if file_href.is_some() => "image",
        Some(Preview::Video) if file_href.is_some() => "video",
        _ => "",
    };
    VersionView {
        file_href,
        preview,
        n: v.n,
        name: v.name.clone(),
        href: v
            .url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        file: v.file_name.as_ref().map(|f| {
            let mut parts = vec![f.clone()];
            parts.extend(v.content_type.clone());
            parts.extend(v.size_bytes.map(size_label));
            parts.join(" · ")
        }),
        note: v.note.clone(),
        caption: v.caption.clone().filter(|c| !c.is_empty()),
        by: v.created_by.clone(),
        at: When::at(v.created_at, tz),
        ago: timefmt::relative(v.created_at, now),
        current: v.n == current,
    }
}

/// An active member as a choice of the participants form.
pub struct PersonOpt {
    pub id: String,
    pub name: String,
    pub reviewer: bool,
    pub approver: bool,
}

pub struct RoundView {
    pub n: i64,
    pub version: i64,
    pub submitted: When,
    pub decided: Option<When>,
    /// "Open", "Approved", "Changes requested".
    pub outcome: &'static str,
    pub badge: &'static str,
    /// "major revision" / "minor revision".
    pub revision: Option<String>,
    /// The round's feedback as one list ("Name: text"); for the open round,
    /// what was said so far.
    pub feedback: Vec<String>,
    pub open: bool,
}

pub struct RemarkView {
    pub who: String,
    pub from_client: bool,
    /// A member's comment the client sees on their approval link.
    pub shown_to_client: bool,
    /// "Approved", "Requested changes"; `None` for a comment.
    pub decision: Option<&'static str>,
    pub badge: &'static str,
    pub body: Option<String>,
    pub round: i64,
    pub version: i64,
    pub at: When,
    pub ago: String,
}

pub struct QaLine {
    pub key: String,
    pub label: String,
    pub done: bool,
    /// "Ana Ortiz, Tue 3 Mar, 14:05".
    pub done_note: Option<String>,
}

/// What was typed in the item's forms, and which form was refused.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// The refused form: "brief", "participants", "version", "act",
    /// "comment", "decision", "qa" or "schedule".
    pub at: &'static str,
    pub error: Option<String>,
    pub url: String,
    pub note: String,
    pub comment: String,
    /// The comment was marked "Visible to the client".
    pub comment_for_client: bool,
    /// The caption as typed (`None`: the item's).
    pub caption: Option<String>,
    pub decision_comment: String,
    /// "major" or "minor".
    pub revision: String,
    pub publish_at: String,
    pub waive_reason: String,
    /// Participants as ticked: (reviewers, approvers, mode).
    pub participants: Option<(Vec<String>, Vec<String>, String)>,
    /// A client approval link just made: shown once, on this render only.
    pub approval_url: Option<String>,
}

impl Typed {
    /// The refusal to show at form `at`.
    pub fn err(&self, at: &str) -> Option<&str> {
        if self.at == at {
            self.error.as_deref()
        } else {
            None
        }
    }

    fn refused(at: &'static str, (status, message): (StatusCode, String)) -> (StatusCode, Typed) {
        (
            status,
            Typed {
                at,
                error: Some(message),
                ..Typed::default()
            },
        )
    }
}

#[derive(Template)]
#[template(path = "content_item.html")]
struct ItemPage {
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

/// A change of reviewers and approvers waiting for the next round.
pub struct PendingView {
    pub reviewers: String,
    pub approvers: String,
    /// "every approver" / "any one approver".
    pub mode: &'static str,
    pub by: String,
    pub at: String,
}

/// "312 characters · 4 hashtags", with the channel's limits when known.
fn caption_count(channel: &str, caption: &str) -> String {
    let info = rules::channel(channel);
    let chars = caption.chars().count();
    let mut out = match info.and_then(|c| c.caption_limit) {
        Some(l) => format!("{chars} of {l} characters"),
        None => plural(chars as i64, "character", "characters"),
    };
    let tags = rules::hashtag_count(caption) as i64;
    match info.and_then(|c| c.hashtag_limit) {
        Some(l) => out.push_str(&format!(" · {tags} of {l} hashtags")),
        None => out.push_str(&format!(" · {}", plural(tags, "hashtag", "hashtags"))),
    }
    out
}

/// The status and what happens next, in a sentence.
fn next_step(
    item: &Item,
    approver_names: &[String],
    waiting: &[String],
    qa_left: usize,
    tz: &TimeZone,
) -> String {
    let v = item.current_version;
    match item.status {
        ContentStatus::Brief => {
            let missing = item.brief.missing();
            if missing.is_empty() {
                "The brief is complete: approve it to start production (or add a first version)."
                    .into()
            } else {
                format!(
                    "The brief still needs {}: complete it, then approve it to start production.",
                    missing.join(", ")
                )
            }
        }
        ContentStatus::InProduction if v == 0 => {
            "In production: add a first version (a link), then submit it for review.".into()
        }
        ContentStatus::InProduction | ContentStatus::ChangesRequested
            if approver_names.is_empty() =>
        {
            format!("Version {v} is ready once someone can decide: name at least one approver, then submit it for review.")
        }
        ContentStatus::InProduction if item.approved_at.is_some() => format!(
            "Approval was reopened (the caption changed after approval): submit version {v} with the new caption for a new round, or add a newer version."
        ),
        ContentStatus::InProduction => {
            format!("In production: submit version {v} for review when it is ready, or add a newer version.")
        }
        ContentStatus::ChangesRequested => format!(
            "Changes were requested in round {}: add the next version with the consolidated feedback below, then submit it.",
            item.round
        ),
        ContentStatus::InReview if waiting.is_empty() => format!(
            "Version {v} is in review (round {}), but nobody on it can approve: name an approver.",
            item.round
        ),
        ContentStatus::InReview => format!(
            "Version {v} is in review (round {}): waiting on {} to decide.",
            item.round,
            waiting.join(", ")
        ),
        ContentStatus::Approved if qa_left > 0 => format!(
            "Approved: finish the publishing QA checklist ({qa_left} left), then schedule it."
        ),
        ContentStatus::Approved => "Approved and QA is complete: schedule it.".into(),
        ContentStatus::Scheduled => format!(
            "Scheduled for {}: mark it published once it is live.",
            item.publish_at
                .map(|at| timefmt::local(at, tz))
                .unwrap_or_default()
        ),
        ContentStatus::Published => format!(
            "Published {}. Published content is final.",
            item.published_at
                .map(|at| timefmt::local(at, tz))
                .unwrap_or_default()
        ),
        ContentStatus::Cancelled => {
            "Cancelled: nothing more can happen to it; start a new item instead.".into()
        }
    }
}

/// Names for member ids: the active members', then the others one by one
/// (only participants who left the agency: rare, and few).
async fn names_of(
    state: &AppState,
    agency_id: &str,
    people: &[Member],
    ids: &[String],
) -> Result<HashMap<String, String>, WebError> {
    let mut names: HashMap<String, String> = people
        .iter()
        .map(|m| (m.id.clone(), m.name.clone()))
        .collect();
    for id in ids {
        if id == content::CLIENT_APPROVER {
            names.insert(id.clone(), "the client (approval link)".into());
            continue;
        }
        if !names.contains_key(id) {
            let name = match members::get(&state.db, agency_id, id).await {
                Ok(m) => format!("{} (deactivated)", m.name),
                Err(StoreError::NotFound) => id.clone(),
                Err(e) => return Err(e.into()),
            };
            names.insert(id.clone(), name);
        }
    }
    Ok(names)
}

fn round_view(r: &Round, remarks: &[Remark], tz: &TimeZone) -> RoundView {
    let (outcome, badge) = match r.outcome.as_deref() {
        Some("approved") => ("Approved", "badge-status-active"),
        Some("changes_requested") => ("Changes requested", "badge-warn"),
        _ => ("Open", "badge-info"),
    };
    let open = r.outcome.is_none();
    let feedback = if open {
        remarks
            .iter()
            .filter(|m| m.round == r.round)
            .filter_map(|m| m.body.as_ref().map(|b| format!("{}: {b}", m.author_label)))
            .collect()
    } else {
        r.consolidated.clone()
    };
    RoundView {
        n: r.round,
        version: r.version_n,
        submitted: When::at(r.submitted_at, tz),
        decided: r.decided_at.map(|at| When::at(at, tz)),
        outcome,
        badge,
        revision: r.revision.as_ref().map(|s| format!("{s} revision")),
        feedback,
        open,
    }
}

async fn render_item(
    state: &AppState,
    session: &WebSession,
    id: &str,
    q: Option<&QueryData>,
    typed: Typed,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    if !ids::has_shape(id, ids::CONTENT) {
        return Err(WebError::NotFound);
    }
    let (agency, item, versions, rounds, remarks, people) = tokio::try_join!(
        agency_of(state, session),
        async { Ok(content::get(&state.db, agency_id, id).await?) },
        async { Ok(content::versions(&state.db, agency_id, id).await?) },
        async { Ok(content::rounds(&state.db, agency_id, id).await?) },
        async { Ok(content::discussion(&state.db, agency_id, id).await?) },
        async { Ok::<_, WebError>(members::list_active(&state.db, agency_id).await?) },
    )?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let principal = authz::member_on_client(&state.db, session.member(), &item.client_id).await?;
    let can_change_participants = policy::can(
        &principal,
        Action::ChangeParticipants,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    )
    .is_ok();
    let mut everyone: Vec<String> = item.reviewers.clone();
    everyone.extend(item.approvers.iter().cloned());
    if let Some(p) = &item.pending_participants {
        everyone.extend(p.reviewers.iter().cloned());
        everyone.extend(p.approvers.iter().cloned());
    }
    let names = names_of(state, agency_id, &people, &everyone).await?;
    let name = |id: &String| names.get(id).cloned().unwrap_or_else(|| id.clone());
    let reviewer_names: Vec<String> = item.reviewers.iter().map(name).collect();
    let approver_names: Vec<String> = item.approvers.iter().map(name).collect();
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "nobody".to_string()
        } else {
            ids.iter().map(name).collect::<Vec<_>>().join(", ")
        }
    };
    let pending = item.pending_participants.as_ref().map(|p| PendingView {
        reviewers: list(&p.reviewers),
        approvers: list(&p.approvers),
        mode: match p.approval_mode {
            ApprovalMode::All => "every approver",
            ApprovalMode::Any => "any one approver",
        },
        by: p.by.clone(),
        at: baton_core::human::when(p.at, now, &tz),
    });

    // Who the open round still waits on (the client counts once it decided).
    let mut waiting = Vec::new();
    if item.status == ContentStatus::InReview {
        let decisions: Vec<(String, Decision)> = remarks
            .iter()
            .filter(|r| r.round == item.round)
            .filter_map(|r| {
                let d = Decision::parse(r.decision.as_deref()?)?;
                Some((r.author_id.clone(), d))
            })
            .collect();
        if let RoundOutcome::Pending { waiting_on } =
            rules::round_outcome(item.approval_mode, &item.approvers, &decisions)
        {
            waiting = waiting_on
                .iter()
                .map(|w| {
                    if w == "client" {
                        "the client".to_string()
                    } else {
                        name(w)
                    }
                })
                .collect();
        }
    }

    let (chosen_reviewers, chosen_approvers, mode) = match &typed.participants {
        Some((r, a, m)) => (
            r.iter().cloned().collect::<HashSet<_>>(),
            a.iter().cloned().collect::<HashSet<_>>(),
            m.clone(),
        ),
        None => (
            item.reviewers.iter().cloned().collect(),
            item.approvers.iter().cloned().collect(),
            item.approval_mode.key().to_string(),
        ),
    };
    let people: Vec<PersonOpt> = people
        .iter()
        .map(|m| PersonOpt {
            id: m.id.clone(),
            name: m.name.clone(),
            reviewer: chosen_reviewers.contains(&m.id),
            approver: chosen_approvers.contains(&m.id),
        })
        .collect();

    let qa: Vec<QaLine> = item
        .qa
        .items
        .iter()
        .map(|i| {
            let d = item.qa.done.get(&i.key);
            QaLine {
                key: i.key.clone(),
                label: i.label.clone(),
                done: d.is_some(),
                done_note: d.map(|d| format!("{}, {}", d.by, timefmt::local(d.at, &tz))),
            }
        })
        .collect();
    let qa_done = qa.iter().filter(|l| l.done).count();
    let me = &session.member().id;
    let mut typed = typed;
    let caption_text = typed.caption.take().unwrap_or_else(|| item.caption.clone());
    if typed.publish_at.is_empty() {
        if let Some(at) = item.publish_at {
            typed.publish_at = local_input(at, &tz);
        }
    }
    if typed.revision.is_empty() {
        typed.revision = RevisionSize::Minor.key().into();
    }
    let brief = &item.brief;
    let page = ItemPage {
        layout: layout(&agency, session, &item.title, q),
        status_key: item.status.key(),
        status_label: item.status.label(),
        channel: channel_name(&item.channel),
        open: item.status.is_open(),
        next_step: next_step(&item, &approver_names, &waiting, qa.len() - qa_done, &tz),
        brief: vec![
            BriefLine {
                label: "Audience",
                value: brief.audience.clone(),
            },
            BriefLine {
                label: "Angle",
                value: brief.angle.clone(),
            },
            BriefLine {
                label: "Offer",
                value: brief.offer.clone(),
            },
            BriefLine {
                label: "Constraints",
                value: brief.constraints.clone(),
            },
            BriefLine {
                label: "Examples",
                value: brief.examples.clone(),
            },
        ],
        brief_missing: brief.missing(),
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
        reviewer_names,
        approver_names,
        can_change_participants,
        participants_rule: CHANGE_PARTICIPANTS_RULE,
        change_waits: policy::participants_effect(principal.is_admin(), item.status)
            == policy::Effect::NextRound,
        approver_next_round: !item.approvers.contains(me)
            && item
                .pending_participants
                .as_ref()
                .is_some_and(|p| p.approvers.contains(me)),
        pending,
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
        people,
        mode_any: mode == ApprovalMode::Any.key(),
        client_approves: chosen_approvers
            .iter()
            .any(|a| a == content::CLIENT_APPROVER),
        rounds: rounds
            .iter()
            .rev()
            .map(|r| round_view(r, &remarks, &tz))
            .collect(),
        remarks: remarks
            .iter()
            .map(|r| {
                let (decision, badge) = match r.decision.as_deref() {
                    Some("approve") => (Some("Approved"), "badge-status-active"),
                    Some("request_changes") => (Some("Requested changes"), "badge-warn"),
                    _ => (None, ""),
                };
                RemarkView {
                    who: r.author_label.clone(),
                    from_client: r.author_kind == "client",
                    shown_to_client: r.for_client && r.author_kind != "client",
                    decision,
                    badge,
                    body: r.body.clone(),
                    round: r.round,
                    version: r.version_n,
                    at: When::at(r.created_at, &tz),
                    ago: timefmt::relative(r.created_at, now),
                }
            })
            .collect(),
        in_review: item.status == ContentStatus::InReview,
        is_approver: item.approvers.contains(me),
        qa_done,
        qa_complete: qa_done == qa.len(),
        qa,
        qa_editable: item.status.is_open(),
        qa_by: match (&item.qa_by, item.qa_at) {
            (Some(by), Some(at)) => Some(format!(
                "Last QA change by {by}, {}",
                timefmt::local(at, &tz)
            )),
            _ => None,
        },
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
async fn item_page(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
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

fn back(id: &str, notice: &str, anchor: &str) -> Response {
    see_other(&format!("/content/{id}?notice={notice}#{anchor}"))
}

/// After a store call: back to the item with a notice, or the item again
/// with the refusal at form `at` and `typed` kept.
async fn done<T>(
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
async fn item_of(state: &AppState, session: &WebSession, id: &str) -> Result<Item, WebError> {
    if !ids::has_shape(id, ids::CONTENT) {
        return Err(WebError::NotFound);
    }
    Ok(content::get(&state.db, session.agency_id(), id).await?)
}

/// `POST /content/{id}/participants`: reviewers (comment) and approvers
/// (decide), all or any.
async fn participants(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let item = item_of(&state, &session, &id).await?;
    let (reviewers, approvers) = (form.all("reviewers"), form.all("approvers"));
    let mode_key = form.string("approval_mode");
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
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
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
async fn caption(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let before = item_of(&state, &session, &id).await?;
    let text = form.string("caption");
    let result = content::update(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
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

/// `POST /content/{id}/versions`: the next version, as a link.
async fn add_version(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        url: form.string("url"),
        note: form.string("note"),
        ..Typed::default()
    };
    let result = content::add_version(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &id,
        NewVersion::Link {
            url: typed.url.clone(),
        },
        VersionText {
            note: Some(typed.note.clone()),
            caption: None,
        },
    )
    .await;
    done(
        &state,
        &session,
        &id,
        result,
        ("version_added", "versions"),
        "version",
        typed,
    )
    .await
}

/// `POST /content/{id}/versions/upload` (multipart: `csrf` first, `file`,
/// `note`): the next version, as a draft file. A refused file comes back as
/// the item page with the reason at the versions and the note kept.
async fn upload_version(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let agency_id = session.agency_id();
    let refused = |status: StatusCode, message: String, note: String| {
        let typed = Typed {
            at: "version",
            error: Some(message),
            note,
            ..Typed::default()
        };
        (status, typed)
    };
    let multipart = multipart.map_err(|e| multipart_refused(&e))?;
    // The item must take a version before its file is received.
    if let Err(e) = content::version_allowed(item.status) {
        let (status, message) = refusal(e)?;
        let (status, typed) = refused(status, message, String::new());
        return render_item(&state, &session, &id, None, typed, status).await;
    }
    let csrf = |t: &str| session.csrf_ok(t);
    let form = draft_files::read_form(
        &state,
        agency_id,
        &item.client_id,
        &id,
        multipart,
        Some(&csrf),
    )
    .await;
    let form = match form {
        Ok(f) => f,
        Err(DraftError::Refused(r)) => {
            let (status, typed) =
                refused(DraftError::refusal_status(&r), r.to_string(), String::new());
            return render_item(&state, &session, &id, None, typed, status).await;
        }
        Err(e) => return Err(draft_web_error(e)),
    };
    let note = form.note.clone();
    match draft_files::add(
        &state,
        agency_id,
        &session.actor,
        &id,
        &item.client_id,
        form,
    )
    .await
    {
        Ok(_) => Ok(back(&id, "version_added", "versions")),
        Err(DraftError::Refused(r)) => {
            let (status, typed) = refused(DraftError::refusal_status(&r), r.to_string(), note);
            render_item(&state, &session, &id, None, typed, status).await
        }
        Err(DraftError::Store(e)) => {
            let (status, message) = refusal(e)?;
            let (status, typed) = refused(status, message, note);
            render_item(&state, &session, &id, None, typed, status).await
        }
        Err(e) => Err(draft_web_error(e)),
    }
}

fn draft_web_error(e: DraftError) -> WebError {
    match e {
        DraftError::Refused(r) => WebError::Invalid(r.to_string()),
        DraftError::Unreadable => WebError::BadRequest(UNREADABLE_UPLOAD.into()),
        DraftError::Csrf => csrf_refused(),
        DraftError::UnknownField(_) => WebError::BadRequest(e.to_string()),
        DraftError::Store(s) => s.into(),
        DraftError::Io(io) => WebError::Internal(format!("draft file: {io}")),
    }
}

/// `GET /content/{id}/versions/{n}/file`: a draft file, shown in the
/// browser when it is an image or a video (`?download=1` downloads it).
async fn version_file(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, n)): Path<(String, String)>,
    q: QueryData,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let item = item_of(&state, &session, &id).await?;
    let n: i64 = n.parse().map_err(|_| WebError::NotFound)?;
    let agency_id = session.agency_id();
    let v = content::version(&state.db, agency_id, &id, n).await?;
    let how = if q.get("download").is_none() {
        Disposition::Preview
    } else {
        Disposition::Download
    };
    draft_files::serve(
        &state,
        agency_id,
        &item.client_id,
        &v,
        &method,
        &headers,
        how,
    )
    .await
    .map_err(draft_web_error)?
    .ok_or(WebError::NotFound)
}

/// `POST /content/{id}/submit`: opens a review round on the current version.
/// `POST /content/{id}/approval-link`: makes the client's approval link
/// (revoking the previous one) and shows its URL once on the page.
async fn approval_link(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let created = baton_store::approval_links::create(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &id,
        14,
    )
    .await;
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
            let message = match e {
                StoreError::Core(baton_core::CoreError::Conflict(m)) => m,
                StoreError::Core(baton_core::CoreError::Invalid { message, .. }) => message,
                other => return Err(other.into()),
            };
            let typed = Typed {
                at: "approval",
                error: Some(message),
                ..Typed::default()
            };
            render_item(&state, &session, &id, None, typed, StatusCode::CONFLICT).await
        }
    }
}

async fn submit(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let result = content::submit(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &id,
    )
    .await;
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

fn me(session: &WebSession) -> Speaker {
    Speaker::Member {
        id: session.member().id.clone(),
        name: session.member().name.clone(),
    }
}

/// `POST /content/{id}/comments`: review is broad, any member comments.
async fn comment(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        comment: form.string("body"),
        comment_for_client: form.get("for_client") == "1",
        ..Typed::default()
    };
    let result = content::comment(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
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
async fn decide(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let typed = Typed {
        decision_comment: form.string("comment"),
        revision: form.string("revision"),
        ..Typed::default()
    };
    let Some(decision) = Decision::parse(form.get("decision")) else {
        let (status, typed) = Typed::refused(
            "decision",
            invalid("Decision: choose approve or request changes."),
        );
        let typed = Typed {
            decision_comment: form.string("comment"),
            ..typed
        };
        return render_item(&state, &session, &id, None, typed, status).await;
    };
    let revision = match typed.revision.as_str() {
        "" => None,
        r => RevisionSize::parse(r),
    };
    let result = content::decide(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
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

/// `POST /content/{id}/qa`: the QA checkboxes. Only the items whose box
/// changed since the page was shown (`was` lists the ticked ones then) go to
/// the store, so a stale page does not undo a teammate's tick.
async fn qa(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let item = item_of(&state, &session, &id).await?;
    let ticked: HashSet<String> = form.all("done").into_iter().collect();
    let was: HashSet<String> = form.all("was").into_iter().collect();
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
    let result = content::set_qa(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &id,
        &items,
    )
    .await;
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
async fn schedule(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    item_of(&state, &session, &id).await?;
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let typed = Typed {
        publish_at: form.string("publish_at"),
        waive_reason: form.string("waive_reason"),
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
    let result = content::schedule(
        &state.db,
        session.agency_id(),
        &session.actor,
        now,
        &id,
        at,
        waive,
    )
    .await;
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
    id: &str,
    form: &FormData,
    action: ContentAction,
    notice: &str,
) -> Result<Response, WebError> {
    // The brief's approval sits with the brief; the other moves at the status.
    let (anchor, at) = if action == ContentAction::ApproveBrief {
        ("brief", "brief")
    } else {
        ("status", "act")
    };
    check_csrf(session, form)?;
    item_of(state, session, id).await?;
    let result = content::act(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        id,
        action,
    )
    .await;
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
fn action_route(action: ContentAction, notice: &'static str) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              session: WebSession,
              Path(id): Path<String>,
              form: FormData| async move {
            act(&state, &session, &id, &form, action, notice).await
        },
    )
}

// ---------------------------------------------------------------- calendar --

/// An item on its day.
pub struct CalItem {
    pub id: String,
    pub title: String,
    pub client_name: String,
    pub channel: String,
    /// "14:05" in the agency's zone.
    pub time: String,
    pub iso: String,
    pub published: bool,
}

pub struct CalDay {
    /// "2026-11-03".
    pub iso: String,
    /// "3" in the month grid, "Tuesday 3 Nov" in the week list.
    pub label: String,
    /// "Tue", shown on phones where the grid has no weekday row.
    pub wd: String,
    /// "Tuesday 3 November 2026" for screen readers.
    pub long: String,
    /// Inside the month shown (the grid pads with the neighbours' days).
    pub inside: bool,
    pub today: bool,
    pub items: Vec<CalItem>,
}

#[derive(Template)]
#[template(path = "content_calendar.html")]
struct CalendarPage {
    layout: Layout,
    /// "month" or "week".
    view: &'static str,
    heading: String,
    /// The month grid's weeks, or the week's one row.
    weeks: Vec<Vec<CalDay>>,
    weekdays: [&'static str; 7],
    prev_href: String,
    next_href: String,
    today_href: String,
    /// The other view of the same period ("Week view" / "Month view").
    switch_href: String,
    switch_label: &'static str,
    clients: Vec<Opt>,
    client: Option<Client>,
    /// `month=…` or `week=…` for the filter form.
    period_key: &'static str,
    period_value: String,
    total: usize,
    /// The store's limit cut the period short.
    truncated: bool,
    timezone: String,
}

/// The period a calendar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    /// The first day of the month.
    Month(Date),
    /// The Monday of the ISO week.
    Week(Date),
}

fn parse_month(s: &str) -> Option<Date> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

fn parse_week(s: &str) -> Option<Date> {
    let (y, w) = s.trim().split_once("-W")?;
    if y.len() != 4 || w.len() != 2 {
        return None;
    }
    ISOWeekDate::new(y.parse().ok()?, w.parse().ok()?, Weekday::Monday)
        .ok()
        .map(|d| d.date())
}

fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn week_key(d: Date) -> String {
    let w = d.iso_week_date();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// Midnight of `d` in `tz`, in UTC milliseconds.
fn day_start(d: Date, tz: &TimeZone) -> Result<i64, WebError> {
    d.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| WebError::Internal(format!("calendar day: {e}")))
}

fn shift(d: Date, span: jiff::Span) -> Result<Date, WebError> {
    d.checked_add(span)
        .map_err(|_| WebError::BadRequest("That date is out of range.".into()))
}

/// `GET /content/calendar?month=2026-11` (Monday-first grid) or
/// `?week=2026-W48`, optionally `&client=cli_…`; this month by default.
async fn calendar(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let today = Timestamp::from_millisecond(state.now())
        .map(|ts| ts.to_zoned(tz.clone()).date())
        .map_err(|e| WebError::Internal(format!("clock: {e}")))?;
    let period = match (q.get("month"), q.get("week")) {
        (Some(m), _) => Period::Month(
            parse_month(m)
                .ok_or_else(|| WebError::BadRequest("Month: use a month like 2026-11.".into()))?,
        ),
        (None, Some(w)) => Period::Week(
            parse_week(w)
                .ok_or_else(|| WebError::BadRequest("Week: use a week like 2026-W48.".into()))?,
        ),
        (None, None) => Period::Month(today.first_of_month()),
    };
    let client = match q.get("client") {
        Some(c) => Some(clients::get(&state.db, agency_id, c).await?),
        None => None,
    };
    let client_id = client.as_ref().map(|c| c.id.as_str());
    let (first, last) = match period {
        Period::Month(m) => {
            let back = m.weekday().to_monday_zero_offset() as i64;
            let first = shift(m, (-back).days())?;
            let end = m.last_of_month();
            let ahead = 6 - end.weekday().to_monday_zero_offset() as i64;
            (first, shift(end, ahead.days())?)
        }
        Period::Week(monday) => (monday, shift(monday, 6.days())?),
    };
    let from = day_start(first, &tz)?;
    let to = day_start(shift(last, 1.days())?, &tz)?;
    let (items, summaries) = tokio::try_join!(
        async {
            Ok::<_, WebError>(
                content::scheduled_between(&state.db, agency_id, from, to, client_id).await?,
            )
        },
        async { Ok(clients::summaries(&state.db, agency_id, false).await?) },
    )?;

    // Each item on its day, by time.
    let mut by_day: BTreeMap<Date, Vec<(i64, CalItem)>> = BTreeMap::new();
    for i in &items {
        let Some(at) = i.publish_at.or(i.published_at) else {
            continue;
        };
        let Ok(ts) = Timestamp::from_millisecond(at) else {
            continue;
        };
        let z = ts.to_zoned(tz.clone());
        by_day.entry(z.date()).or_default().push((
            at,
            CalItem {
                id: i.id.clone(),
                title: i.title.clone(),
                client_name: i.client_name.clone(),
                channel: channel_name(&i.channel),
                time: z.strftime("%H:%M").to_string(),
                iso: timefmt::machine(at),
                published: i.status == ContentStatus::Published,
            },
        ));
    }
    let mut weeks = Vec::new();
    let mut day = first;
    while day <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let mut list = by_day.remove(&day).unwrap_or_default();
            list.sort_by_key(|(at, _)| *at);
            week.push(CalDay {
                iso: day.to_string(),
                label: match period {
                    Period::Month(_) => day.day().to_string(),
                    Period::Week(_) => day.strftime("%A %-d %b").to_string(),
                },
                wd: day.strftime("%a").to_string(),
                long: day.strftime("%A %-d %B %Y").to_string(),
                inside: match period {
                    Period::Month(m) => day.year() == m.year() && day.month() == m.month(),
                    Period::Week(_) => true,
                },
                today: day == today,
                items: list.into_iter().map(|(_, c)| c).collect(),
            });
            day = shift(day, 1.days())?;
        }
        weeks.push(week);
    }

    let filter = client_id
        .map(|c| format!("&client={c}"))
        .unwrap_or_default();
    let (heading, prev, next, this, switch_href, switch_label, key, value) = match period {
        Period::Month(m) => (
            m.strftime("%B %Y").to_string(),
            format!("?month={}", month_key(shift(m, (-1).months())?)),
            format!("?month={}", month_key(shift(m, 1.months())?)),
            format!("?month={}", month_key(today)),
            // The week of the month's first day (or of today, this month).
            format!(
                "?week={}",
                week_key(if m == today.first_of_month() {
                    today
                } else {
                    m
                })
            ),
            "Week view",
            "month",
            month_key(m),
        ),
        Period::Week(monday) => (
            format!(
                "Week {}, {} · {} – {}",
                monday.iso_week_date().week(),
                monday.iso_week_date().year(),
                monday.strftime("%-d %b"),
                last.strftime("%-d %b")
            ),
            format!("?week={}", week_key(shift(monday, (-7).days())?)),
            format!("?week={}", week_key(shift(monday, 7.days())?)),
            format!("?week={}", week_key(today)),
            format!("?month={}", month_key(monday)),
            "Month view",
            "week",
            week_key(monday),
        ),
    };
    let href = |p: String| format!("/content/calendar{p}{filter}");
    let title = match &client {
        Some(c) => format!("Content calendar · {} · {heading}", c.name),
        None => format!("Content calendar · {heading}"),
    };
    let page = CalendarPage {
        layout: layout(&agency, &session, &title, Some(&q)),
        view: key,
        heading,
        total: weeks.iter().flatten().map(|d| d.items.len()).sum::<usize>(),
        weeks,
        weekdays: [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ],
        prev_href: href(prev),
        next_href: href(next),
        today_href: href(this),
        switch_href: href(switch_href),
        switch_label,
        clients: summaries
            .iter()
            .map(|s| {
                Opt::new(
                    s.client.id.clone(),
                    s.client.name.clone(),
                    client_id.unwrap_or(""),
                )
            })
            .collect(),
        client,
        period_key: key,
        period_value: value,
        truncated: items.len() >= CALENDAR_CAP,
        timezone: agency.timezone.clone(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse() {
        assert_eq!(parse_month("2026-11"), Some(jiff::civil::date(2026, 11, 1)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("26-11"), None);
        assert_eq!(parse_month("2026-1"), None);
        assert_eq!(
            parse_week("2026-W48"),
            Some(jiff::civil::date(2026, 11, 23))
        );
        assert_eq!(
            parse_week("2026-W01"),
            Some(jiff::civil::date(2025, 12, 29))
        );
        assert_eq!(parse_week("2026-W54"), None);
        assert_eq!(parse_week("2026-48"), None);
        assert_eq!(week_key(jiff::civil::date(2027, 1, 1)), "2026-W53");
        assert_eq!(month_key(jiff::civil::date(2026, 3, 9)), "2026-03");
    }

    #[test]
    fn refusals_read_as_sentences() {
        let (s, m) = refusal(StoreError::Core(CoreError::invalid(
            "brief.offer",
            "must be at most 5000 characters",
        )))
        .unwrap();
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(m, "Offer: must be at most 5000 characters.");
        let (s, m) = refusal(StoreError::Forbidden(
            "only the item's approvers decide".into(),
        ))
        .unwrap();
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(m, "Only the item's approvers decide.");
        assert!(refusal(StoreError::NotFound).is_err());
        assert_eq!(size_label(2_202_010), "2.1 MB");
        assert_eq!(channel_name("google_business"), "google business");
        assert_eq!(channel_name("x"), "X");
    }
}
