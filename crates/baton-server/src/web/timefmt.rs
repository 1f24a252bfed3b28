//! Times for people: stored UTC milliseconds shown in the agency's time zone
//! in words ("Tue 24 Nov, 10:41", see `baton_core::human`), relative ages
//! ("3 days ago"), and `datetime-local` form values read back in that zone.
//!
//! Whether a time needs its year depends on "now": [`with_now`] (a layer on
//! the web app's and the client link's routes) keeps the request's "now" from the server's clock for the
//! time of the request, so [`local`] and [`local_date`] need no extra
//! argument and a test's manual clock decides as the real one would.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use baton_core::clock::{Clock, SystemClock};
use baton_core::human;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::state::AppState;

tokio::task_local! {
    /// "Now" of the request being answered, from the state's clock.
    static NOW: i64;
}

/// Middleware: answers the request with its "now" set for [`local`].
pub async fn with_now(State(state): State<AppState>, req: Request, next: Next) -> Response {
    NOW.scope(state.now(), next.run(req)).await
}

/// The request's "now"; the wall clock outside a request.
fn now() -> i64 {
    NOW.try_with(|n| *n)
        .unwrap_or_else(|_| SystemClock.now_ms())
}

/// The agency's zone; an unknown name (cannot be stored, but be safe) is UTC.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// "Tue 24 Nov, 10:41" in `tz` ("Tue 24 Nov 2027, 10:41" in another year).
pub fn local(ms: i64, tz: &TimeZone) -> String {
    human::when(ms, now(), tz)
}

/// "Tue 24 Nov" in `tz` (with the year when it is not this year).
pub fn local_date(ms: i64, tz: &TimeZone) -> String {
    human::day(ms, now(), tz)
}

/// A moment shown as its age ("3 days ago"), with the time in words for a
/// `<time>` element's `title` and the machine form for its `datetime`.
pub struct Stamp {
    pub ago: String,
    pub local: String,
    pub iso: String,
}

/// `ms` as a [`Stamp`] at `now` in `tz`.
pub fn stamp(ms: i64, now: i64, tz: &TimeZone) -> Stamp {
    Stamp {
        ago: relative(ms, now),
        local: local(ms, tz),
        iso: machine(ms),
    }
}

/// RFC 3339 in UTC, for `<time datetime>`.
pub fn machine(ms: i64) -> String {
    baton_core::clock::rfc3339(ms)
}

/// How long ago `ms` was at `now`, in words ("just now", "5 minutes ago",
/// "in 2 days").
pub fn relative(ms: i64, now: i64) -> String {
    let diff = now - ms;
    let (secs, future) = if diff >= 0 {
        (diff / 1000, false)
    } else {
        (-diff / 1000, true)
    };
    if secs < 45 {
        return "just now".into();
    }
    let (n, unit) = if secs < 90 * 60 {
        ((secs + 30) / 60, "minute")
    } else if secs < 36 * 3600 {
        ((secs + 1800) / 3600, "hour")
    } else if secs < 45 * 86_400 {
        ((secs + 43_200) / 86_400, "day")
    } else if secs < 540 * 86_400 {
        ((secs + 15 * 86_400) / (30 * 86_400), "month")
    } else {
        ((secs + 182 * 86_400) / (365 * 86_400), "year")
    };
    let n = n.max(1);
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// Reads a `datetime-local` value ("2026-03-01T09:30") as a time in `tz`.
/// The message says what to type when it cannot.
pub fn parse_local(value: &str, tz: &TimeZone) -> Result<i64, String> {
    let bad = || "Occurred at must be a date and time like 2026-03-01T09:30.".to_string();
    let dt: DateTime = value.trim().parse().map_err(|_| bad())?;
    let zoned = dt.to_zoned(tz.clone()).map_err(|_| bad())?;
    Ok(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn formats_in_the_agency_zone_in_words() {
        let berlin = zone("Europe/Berlin");
        // 2026-03-01T08:30:00Z is Sunday 09:30 in Berlin (CET).
        let ms = 1_772_353_800_000;
        let (l, lu, d) = NOW
            .scope(ms + 86_400_000, async {
                (
                    local(ms, &berlin),
                    local(ms, &TimeZone::UTC),
                    local_date(ms, &berlin),
                )
            })
            .await;
        assert_eq!(l, "Sun 1 Mar, 09:30");
        assert_eq!(lu, "Sun 1 Mar, 08:30");
        assert_eq!(d, "Sun 1 Mar");
        // A year later the year is said.
        let (l, d) = NOW
            .scope(ms + 366 * 86_400_000, async {
                (local(ms, &berlin), local_date(ms, &berlin))
            })
            .await;
        assert_eq!(l, "Sun 1 Mar 2026, 09:30");
        assert_eq!(d, "Sun 1 Mar 2026");
        assert_eq!(machine(ms), "2026-03-01T08:30:00Z");
        assert_eq!(zone("Mars/Olympus"), TimeZone::UTC);
    }

    #[test]
    fn parses_datetime_local_in_zone() {
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            parse_local("2026-03-01T09:30", &berlin),
            Ok(1_772_353_800_000)
        );
        assert_eq!(
            parse_local("2026-03-01T09:30:00", &TimeZone::UTC),
            Ok(1_772_357_400_000)
        );
        assert!(parse_local("yesterday", &berlin).is_err());
        assert!(parse_local("2026-02-30T09:30", &berlin).is_err());
    }

    #[test]
    fn relative_ages() {
        let now = 10_000_000_000;
        for (ago_ms, want) in [
            (0, "just now"),
            (30_000, "just now"),
            (60_000, "1 minute ago"),
            (5 * 60_000, "5 minutes ago"),
            (3 * 3_600_000, "3 hours ago"),
            (3 * 86_400_000, "3 days ago"),
            (90 * 86_400_000, "3 months ago"),
            (800 * 86_400_000, "2 years ago"),
            (-2 * 86_400_000, "in 2 days"),
        ] {
            assert_eq!(relative(now - ago_ms, now), want, "{ago_ms}");
        }
    }
}
