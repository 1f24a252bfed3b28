//! `GET /feeds/{token}.ics`: the content calendar as iCalendar for calendar
//! apps. The token is the capability (no login); a wrong or revoked token
//! gets a plain 404. Events cover 90 days back to a year ahead.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use baton_core::ical::{self, IcsEvent};
use baton_store::calendar_feeds;

use crate::state::AppState;

const DAY: i64 = 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/feeds/{file}", get(feed))
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
