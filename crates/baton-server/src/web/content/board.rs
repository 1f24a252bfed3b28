//! The content board by status (`/content`, `/clients/{id}/content`, one
//! status's list with `?status=…`), the "New content item" form and the
//! client's calendar feed card on the client's board.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::content::{ContentBrief, ContentStatus, CHANNELS};
use baton_core::ids;
use baton_core::types::ClientId;
use baton_store::calendar_feeds::FeedScope;
use baton_store::clients::{self, Client};
use baton_store::content::{self, Item, ItemFilter, NewItem};
use baton_store::{Page, StoreError};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::shared::{channel_name, layout, plural, refusal, COLUMN_CAP, OPEN, STATUS_PAGE};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::feeds::{self, FeedCard};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::sops::When;
use crate::web::{timefmt, WebError};

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
            id: i.id.to_string(),
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewForm {
    pub title: String,
    pub channel: String,
    pub channel_other: String,
    pub format: String,
    pub campaign: String,
    /// The planned day (`YYYY-MM-DD`), empty for none yet.
    pub planned_on: String,
    pub audience: String,
    pub angle: String,
    pub offer: String,
    pub constraints: String,
    pub examples: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
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

/// The open columns of the board (each capped, the counts exact) and the
/// counts of the closed statuses, with the number of open items.
async fn open_columns(
    state: &AppState,
    agency_id: &str,
    cid: Option<&str>,
    tz: &TimeZone,
) -> Result<(Vec<Column>, Vec<ClosedCount>, i64), WebError> {
    let (mut columns, mut closed) = (Vec::new(), Vec::new());
    let mut open_total = 0i64;
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
        let mut cards: Vec<CardView> = page.items.iter().map(|i| CardView::of(i, tz)).collect();
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
    Ok((columns, closed, open_total))
}

/// The status asked for by `?status=` (a list instead of the board).
fn wanted_status(q: &QueryData) -> Result<Option<ContentStatus>, WebError> {
    let Some(s) = q.get("status") else {
        return Ok(None);
    };
    let status = ContentStatus::parse(s).ok_or_else(|| {
        WebError::BadRequest(
            "Status: use brief, in_production, in_review, changes_requested, approved, \
             scheduled, published or cancelled."
                .into(),
        )
    })?;
    Ok(Some(status))
}

/// One status's list, a page at a time (`?cursor=`), linking to the next.
async fn status_list(
    state: &AppState,
    agency_id: &str,
    cid: Option<&str>,
    s: ContentStatus,
    q: &QueryData,
    base: &str,
    tz: &TimeZone,
) -> Result<StatusList, WebError> {
    let cursor = q.get("cursor").filter(|c| ids::has_shape(c, ids::CONTENT));
    let page = by_status(state, agency_id, cid, s, cursor, STATUS_PAGE).await?;
    Ok(StatusList {
        key: s.key(),
        label: s.label(),
        cards: page.items.iter().map(|i| CardView::of(i, tz)).collect(),
        next_href: page
            .next_cursor
            .map(|c| format!("{base}?status={}&cursor={c}", s.key())),
        paged: cursor.is_some(),
    })
}

/// The board's heading, summary line, calendar link and page title.
fn headings(
    client: Option<&Client>,
    open_count: i64,
    timezone: &str,
) -> (String, String, String, String) {
    match client {
        Some(c) => (
            format!("Content · {}", c.name),
            format!("{open_count} open · times in {timezone}"),
            format!("/content/calendar?client={}", c.id),
            format!("Content · {}", c.name),
        ),
        None => (
            "Content".to_string(),
            format!("{open_count} open across clients · times in {timezone}"),
            "/content/calendar".to_string(),
            "Content".to_string(),
        ),
    }
}

/// "Approved · 200 shown, more on the next page".
fn list_summary(l: &StatusList) -> String {
    format!(
        "{} · {} shown{}",
        l.label,
        l.cards.len(),
        if l.next_href.is_some() {
            ", more on the next page"
        } else {
            ""
        }
    )
}

/// The channel choices of the new-item form, with "Other".
fn channel_options(selected: &str) -> Vec<Opt> {
    let mut channels: Vec<Opt> = CHANNELS
        .iter()
        .map(|c| Opt::new(c.key, c.name, selected))
        .collect();
    channels.push(Opt::new("other", "Other (type it below)", selected));
    channels
}

/// Renders the board (or one status's list) with the new-item form as
/// typed and, once, a new calendar feed URL.
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
    let (mut columns, mut closed, mut list) = (Vec::new(), Vec::new(), None);
    let mut open_total = 0i64;
    if let Some(s) = wanted_status(q)? {
        list = Some(status_list(state, agency_id, cid, s, q, &base, &tz).await?);
    } else {
        (columns, closed, open_total) = open_columns(state, agency_id, cid, &tz).await?;
    }
    let (heading, mut summary, calendar_href, title) =
        headings(client.as_ref(), open_total, &agency.timezone);
    if let Some(l) = &list {
        summary = list_summary(l);
    }
    let channels = channel_options(&form.channel);
    let feed = match &client {
        Some(c) => Some(
            FeedCard::load(
                state,
                session,
                &FeedScope::Client(c.id.to_string()),
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
pub(super) async fn agency_board(
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
pub(super) async fn client_board(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
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
pub(super) async fn create(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(mut typed): CsrfForm<NewForm>,
) -> Result<Response, WebError> {
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
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
        session.cx(&state),
        &id,
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
            planned_on: Some(typed.planned_on.clone()),
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
pub(super) async fn create_feed(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let url = feeds::create_url(&state, &session, &FeedScope::Client(id.to_string())).await?;
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
pub(super) async fn revoke_feed(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    _: CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    // Read through the store first: another agency's id is a 404 here too.
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
    let notice =
        feeds::revoke_url(&state, &session, &FeedScope::Client(client.id.to_string())).await?;
    Ok(see_other(&format!(
        "/clients/{}/content?notice={notice}#calendar-feed",
        client.id
    )))
}
