//! `GET /feeds/{token}.ics`: the content calendar as iCalendar for calendar
//! apps. The token is the capability (no login); a wrong or revoked token
//! gets a plain 404. Events cover 90 days back to a year ahead.
//!
//! Also the "calendar feed" card the team manages these URLs with (on
//! `/account` for their own, on a client's content board for the client's):
//! whether one works and since when, create or replace (the URL shown once,
//! with a Copy button), revoke.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use baton_core::ical::{self, IcsEvent};
use baton_store::calendar_feeds::{self, FeedScope};
use jiff::tz::TimeZone;

use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

const DAY: i64 = 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/feeds/{file}", get(feed))
}

/// The calendar feed card of a page.
pub struct FeedCard {
    /// "My calendar feed", "Client calendar feed".
    pub title: &'static str,
    /// What the calendar shows, one sentence.
    pub what: String,
    /// Where its forms post: `{action}` creates or replaces, `{action}/revoke`
    /// revokes.
    pub action: String,
    /// Since when the current URL works; `None`: no URL works.
    pub since: Option<timefmt::Stamp>,
    /// Who made the current URL.
    pub by: String,
    /// The URL just made, shown this once.
    pub new_url: Option<String>,
}

impl FeedCard {
    /// The card of `scope` as it is now; `new_url` when one was just made.
    pub(super) async fn load(
        state: &AppState,
        session: &WebSession,
        scope: &FeedScope,
        tz: &TimeZone,
        new_url: Option<String>,
    ) -> Result<FeedCard, WebError> {
        let active = calendar_feeds::active(&state.db, session.agency_id(), scope).await?;
        let (title, what, action) = match scope {
            FeedScope::Member(_) => (
                "My calendar feed",
                "The scheduled and published content of your clients and of the items you review or approve."
                    .to_string(),
                "/account/calendar-feed".to_string(),
            ),
            FeedScope::Client(c) => (
                "Client calendar feed",
                "This client's scheduled and published content.".to_string(),
                format!("/clients/{c}/calendar-feed"),
            ),
        };
        Ok(FeedCard {
            title,
            what,
            action,
            since: active
                .as_ref()
                .map(|a| timefmt::stamp(a.created_at, state.now(), tz)),
            by: active.map(|a| a.created_by).unwrap_or_default(),
            new_url,
        })
    }
}

/// Makes a new URL for `scope` (the previous one stops working): the URL.
pub(super) async fn create_url(
    state: &AppState,
    session: &WebSession,
    scope: &FeedScope,
) -> Result<String, WebError> {
    let token = calendar_feeds::create(session.cx(state), scope).await?;
    Ok(state.config.feed_url(&token))
}

/// Revokes the URL of `scope`: the `?notice=` key that says what happened.
pub(super) async fn revoke_url(
    state: &AppState,
    session: &WebSession,
    scope: &FeedScope,
) -> Result<&'static str, WebError> {
    let revoked = calendar_feeds::revoke(session.cx(state), scope).await?;
    Ok(if revoked { "feed_revoked" } else { "feed_none" })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such calendar feed\n").into_response()
}

async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let feed = match calendar_feeds::resolve(&state.db, token).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again later\n").into_response();
        }
    };
    let now = state.now();
    let items = match calendar_feeds::items(&state.db, &feed, now - 90 * DAY, now + 366 * DAY).await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "calendar feed items failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again later\n").into_response();
        }
    };
    let host = state
        .config
        .public_url
        .split("://")
        .nth(1)
        .unwrap_or("baton")
        .split('/')
        .next()
        .unwrap_or("baton")
        .to_string();
    let events: Vec<IcsEvent> = items
        .iter()
        .filter_map(|i| {
            Some(IcsEvent {
                uid: format!("{}@{host}", i.id),
                start_ms: i.publish_at?,
                duration_minutes: 30,
                summary: format!(
                    "{}{}: {}",
                    if i.published_at.is_some() {
                        "Published · "
                    } else {
                        ""
                    },
                    i.client_name,
                    i.title
                ),
                description: format!("{} · {} · {}", i.channel, i.format, i.status.label()),
                url: Some(format!("{}/content/{}", state.config.public_url, i.id)),
            })
        })
        .collect();
    let mut events = events;
    match meeting_events(&state, &feed, now, &host).await {
        Ok(m) => events.extend(m),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed meetings failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again later\n").into_response();
        }
    }
    let body = ical::calendar(&format!("{} — content", feed.name), &events, now);
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    resp
}

/// The cadences' meetings of a feed, a month back to eleven months ahead: a
/// client's feed has the client's own meetings (the monthly review); a
/// member's, the meetings they own or attend by role (leadership: admins).
async fn meeting_events(
    state: &AppState,
    feed: &calendar_feeds::Feed,
    now: i64,
    host: &str,
) -> Result<Vec<IcsEvent>, baton_store::StoreError> {
    use baton_core::cadence::Attendee;
    use baton_store::cadences::occurrences::{self, Filter};
    use jiff::ToSpan;
    let today = baton_store::cadences::today(&state.db, &feed.agency_id, now).await?;
    let range = (
        today.saturating_sub(30.days()),
        today.saturating_add(335.days()),
    );
    let filter = match &feed.scope {
        FeedScope::Client(c) => Filter {
            client_id: Some(c.clone()),
            ..Filter::default()
        },
        FeedScope::Member(_) => Filter::default(),
    };
    let mut all = occurrences::list(&state.db, &feed.agency_id, range, now, &filter).await?;
    if let FeedScope::Member(id) = &feed.scope {
        let me = baton_store::members::get(&state.db, &feed.agency_id, id).await?;
        all.retain(|o| {
            o.owner_member_id.as_deref() == Some(id.as_str())
                || o.attendee_roles.iter().any(|a| match a {
                    Attendee::Role(r) => me.roles.contains(r),
                    Attendee::Leadership => me.is_admin,
                    Attendee::ClientStakeholders => false,
                })
        });
    }
    Ok(all
        .into_iter()
        .map(|o| IcsEvent {
            uid: format!("{}@{host}", o.id),
            start_ms: o.starts_at,
            duration_minutes: (o.ends_at - o.starts_at) / 60_000,
            summary: match &o.client_name {
                Some(c) => format!("{}: {c}", o.cadence_name),
                None => o.cadence_name.clone(),
            },
            description: format!(
                "Artifact: {}. Owner: {}.{}",
                o.artifact_kind.label(),
                o.owner_name.as_deref().unwrap_or("nobody yet"),
                if o.held { " Held." } else { "" }
            ),
            url: Some(format!(
                "{}/cadences/meetings/{}",
                state.config.public_url, o.id
            )),
        })
        .collect())
}
