//! The content calendar (`/content/calendar?month=2026-11` or
//! `?week=2026-W48`): scheduled and published items by day, in the
//! agency's time zone.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::content::ContentStatus;
use baton_store::clients::{self, Client};
use baton_store::content::{self, Item};
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::shared::{channel_name, layout, CALENDAR_CAP};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, Layout, Opt};
use crate::web::{timefmt, WebError};

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
pub(super) async fn calendar(
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

    let weeks = weeks(&items, period, first, last, today, &tz)?;

    let filter = client_id
        .map(|c| format!("&client={c}"))
        .unwrap_or_default();
    let Nav {
        heading,
        prev,
        next,
        this,
        switch_href,
        switch_label,
        key,
        value,
    } = nav(period, today, last)?;
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

/// The calendar's days from `first` to `last`, a week a row, each with its
/// items by time.
fn weeks(
    items: &[Item],
    period: Period,
    first: Date,
    last: Date,
    today: Date,
    tz: &TimeZone,
) -> Result<Vec<Vec<CalDay>>, WebError> {
    // Each item on its day, by time.
    let mut by_day: BTreeMap<Date, Vec<(i64, CalItem)>> = BTreeMap::new();
    for i in items {
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
                id: i.id.to_string(),
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
    Ok(weeks)
}

/// The heading and the links around a period: previous, next, today and
/// the other view; `key` and `value` name the period in the client filter.
struct Nav {
    heading: String,
    prev: String,
    next: String,
    this: String,
    switch_href: String,
    switch_label: &'static str,
    key: &'static str,
    value: String,
}

/// The heading and links of `period` (`last` is its last day shown).
fn nav(period: Period, today: Date, last: Date) -> Result<Nav, WebError> {
    let nav = match period {
        Period::Month(m) => Nav {
            heading: m.strftime("%B %Y").to_string(),
            prev: format!("?month={}", month_key(shift(m, (-1).months())?)),
            next: format!("?month={}", month_key(shift(m, 1.months())?)),
            this: format!("?month={}", month_key(today)),
            // The week of the month's first day (or of today, this month).
            switch_href: format!(
                "?week={}",
                week_key(if m == today.first_of_month() {
                    today
                } else {
                    m
                })
            ),
            switch_label: "Week view",
            key: "month",
            value: month_key(m),
        },
        Period::Week(monday) => Nav {
            heading: format!(
                "Week {}, {} · {} – {}",
                monday.iso_week_date().week(),
                monday.iso_week_date().year(),
                monday.strftime("%-d %b"),
                last.strftime("%-d %b")
            ),
            prev: format!("?week={}", week_key(shift(monday, (-7).days())?)),
            next: format!("?week={}", week_key(shift(monday, 7.days())?)),
            this: format!("?week={}", week_key(today)),
            switch_href: format!("?month={}", month_key(monday)),
            switch_label: "Month view",
            key: "week",
            value: week_key(monday),
        },
    };
    Ok(nav)
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
}
