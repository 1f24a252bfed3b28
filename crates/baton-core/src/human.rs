//! Numbers and times as people read them: an instant in the reader's time
//! zone in words ("Tue 24 Nov, 10:41"), a business duration in business
//! days of the agency's own length ("3 business days 0 h") and a wall-clock
//! duration ("2 days 3 h"). Pages, notices and emails use these instead of
//! ISO strings or 24-hour days.

use jiff::tz::TimeZone;
use jiff::Timestamp;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The time zone named `name` (an agency's), UTC when unknown.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// `ms` in `tz` as "Tue 24 Nov, 10:41"; the year is added when it is not
/// the year of `now` in that zone ("Tue 24 Nov 2027, 10:41").
pub fn when(ms: i64, now: i64, tz: &TimeZone) -> String {
    let (Ok(at), Ok(today)) = (
        Timestamp::from_millisecond(ms),
        Timestamp::from_millisecond(now),
    ) else {
        return String::new();
    };
    let at = at.to_zoned(tz.clone());
    let this_year = today.to_zoned(tz.clone()).year();
    if at.year() == this_year {
        at.strftime("%a %-d %b, %H:%M").to_string()
    } else {
        at.strftime("%a %-d %b %Y, %H:%M").to_string()
    }
}

/// The day of `ms` in `tz` as "Tue 24 Nov" (with the year when it is not
/// the year of `now`).
pub fn day(ms: i64, now: i64, tz: &TimeZone) -> String {
    let (Ok(at), Ok(today)) = (
        Timestamp::from_millisecond(ms),
        Timestamp::from_millisecond(now),
    ) else {
        return String::new();
    };
    let at = at.to_zoned(tz.clone());
    if at.year() == today.to_zoned(tz.clone()).year() {
        at.strftime("%a %-d %b").to_string()
    } else {
        at.strftime("%a %-d %b %Y").to_string()
    }
}

/// `text` with every RFC 3339 instant in it ("2026-11-24T09:41:00Z",
/// "2026-11-24T10:41:00.250+01:00") said as [`when`] says it, the rest kept
/// as it is. For text written before times were put in words (stored
/// notices); what does not parse as an instant stays.
pub fn instants_in_text(text: &str, now: i64, tz: &TimeZone) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match rfc3339_len(&b[i..]) {
            Some(n) => {
                if let Ok(ts) = text[i..i + n].parse::<Timestamp>() {
                    out.push_str(&text[copied..i]);
                    out.push_str(&when(ts.as_millisecond(), now, tz));
                    copied = i + n;
                }
                i += n;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The length of the RFC 3339 instant `b` starts with, by its shape:
/// `YYYY-MM-DDTHH:MM[:SS[.f…]]` then `Z` or `±HH:MM`.
fn rfc3339_len(b: &[u8]) -> Option<usize> {
    let digits =
        |at: usize, n: usize| b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit);
    let is = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(digits(0, 4)
        && is(4, b'-')
        && digits(5, 2)
        && is(7, b'-')
        && digits(8, 2)
        && (is(10, b'T') || is(10, b't'))
        && digits(11, 2)
        && is(13, b':')
        && digits(14, 2))
    {
        return None;
    }
    let mut n = 16;
    if is(n, b':') && digits(n + 1, 2) {
        n += 3;
        if is(n, b'.') && digits(n + 1, 1) {
            n += 1;
            while digits(n, 1) {
                n += 1;
            }
        }
    }
    if is(n, b'Z') || is(n, b'z') {
        Some(n + 1)
    } else if (is(n, b'+') || is(n, b'-'))
        && digits(n + 1, 2)
        && is(n + 3, b':')
        && digits(n + 4, 2)
    {
        Some(n + 6)
    } else {
        None
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Business time in the agency's units: `day_ms` is the length of one
/// business day on its calendar (8 h by default). Under a day it reads in
/// hours and minutes ("5 business h 20 min", "40 business min"); from a day
/// on, in days and whole hours ("1 business day 2 h", "3 business days 0 h").
/// Negative durations read as zero.
pub fn business_duration(ms: i64, day_ms: i64) -> String {
    let ms = ms.max(0);
    let day_ms = day_ms.max(MINUTE_MS);
    if ms < day_ms {
        let minutes = (ms + MINUTE_MS / 2) / MINUTE_MS;
        let (h, m) = (minutes / 60, minutes % 60);
        return match (h, m) {
            (0, m) => format!("{m} business min"),
            (h, 0) => format!("{h} business h"),
            (h, m) => format!("{h} business h {m} min"),
        };
    }
    // Whole hours, rounded; a remainder that rounds up to a full day carries.
    let mut days = ms / day_ms;
    let mut hours = ((ms % day_ms) + HOUR_MS / 2) / HOUR_MS;
    if hours * HOUR_MS >= day_ms {
        days += 1;
        hours = 0;
    }
    format!(
        "{} {hours} h",
        plural(days, "business day", "business days")
    )
}

/// Wall-clock time: "45 min", "5 h 20 min", "2 days 3 h". Negative reads as
/// zero.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < DAY_MS {
        let minutes = (ms + MINUTE_MS / 2) / MINUTE_MS;
        let (h, m) = (minutes / 60, minutes % 60);
        return match (h, m) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        };
    }
    let mut days = ms / DAY_MS;
    let mut hours = ((ms % DAY_MS) + HOUR_MS / 2) / HOUR_MS;
    if hours == 24 {
        days += 1;
        hours = 0;
    }
    format!("{} {hours} h", plural(days, "day", "days"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn instants_in_words() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let now = utc("2026-11-20T12:00:00Z");
        for (at, tz, want) in [
            ("2026-11-24T09:41:00Z", &berlin, "Tue 24 Nov, 10:41"),
            ("2026-11-24T09:41:00Z", &TimeZone::UTC, "Tue 24 Nov, 09:41"),
            ("2027-01-05T08:00:00Z", &berlin, "Tue 5 Jan 2027, 09:00"),
            // New Year's Eve late in UTC is already next year in Berlin.
            ("2026-12-31T23:30:00Z", &berlin, "Fri 1 Jan 2027, 00:30"),
        ] {
            assert_eq!(when(utc(at), now, tz), want, "{at}");
        }
        assert_eq!(day(utc("2026-11-24T09:41:00Z"), now, &berlin), "Tue 24 Nov");
        assert_eq!(
            day(utc("2025-11-24T09:41:00Z"), now, &berlin),
            "Mon 24 Nov 2025"
        );
    }

    #[test]
    fn instants_in_text_read_in_words() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let now = utc("2026-11-20T12:00:00Z");
        for (text, want) in [
            (
                "Client onboarding for Acme is at risk — due 2026-11-24T09:41:00Z. Owner: Jo.",
                "Client onboarding for Acme is at risk — due Tue 24 Nov, 10:41. Owner: Jo.",
            ),
            ("due 2026-11-24T09:41:00.250Z", "due Tue 24 Nov, 10:41"),
            ("due 2026-11-24T10:41:00+01:00!", "due Tue 24 Nov, 10:41!"),
            ("2026-11-24T09:41Z", "Tue 24 Nov, 10:41"),
            (
                "from 2026-11-24T09:41:00Z to 2027-01-05T08:00:00Z",
                "from Tue 24 Nov, 10:41 to Tue 5 Jan 2027, 09:00",
            ),
            // Not instants: kept as they are.
            ("nothing to see", "nothing to see"),
            ("a date 2026-11-24 alone", "a date 2026-11-24 alone"),
            (
                "no zone 2026-11-24T09:41:00 here",
                "no zone 2026-11-24T09:41:00 here",
            ),
            (
                "impossible 2026-02-30T09:41:00Z",
                "impossible 2026-02-30T09:41:00Z",
            ),
            (
                "Zoë 東京 2026-11-24T09:41:00Z 🚀",
                "Zoë 東京 Tue 24 Nov, 10:41 🚀",
            ),
            ("", ""),
        ] {
            assert_eq!(instants_in_text(text, now, &berlin), want, "{text}");
        }
    }

    #[test]
    fn business_durations_use_the_agency_day() {
        let eight = 8 * HOUR_MS;
        for (ms, day_ms, want) in [
            (0, eight, "0 business min"),
            (40 * MINUTE_MS, eight, "40 business min"),
            (5 * HOUR_MS, eight, "5 business h"),
            (5 * HOUR_MS + 20 * MINUTE_MS, eight, "5 business h 20 min"),
            (eight, eight, "1 business day 0 h"),
            (eight + 2 * HOUR_MS, eight, "1 business day 2 h"),
            (3 * eight, eight, "3 business days 0 h"),
            // A 7.5 h day: 24 business hours are 3 days 1.5 h → 2 h.
            (24 * HOUR_MS, 450 * MINUTE_MS, "3 business days 2 h"),
            // 7 h 45 min of an 8 h day rounds to a whole day.
            (
                eight + 7 * HOUR_MS + 45 * MINUTE_MS,
                eight,
                "2 business days 0 h",
            ),
            (-5, eight, "0 business min"),
        ] {
            assert_eq!(business_duration(ms, day_ms), want, "{ms} of {day_ms}");
        }
    }

    #[test]
    fn wall_durations() {
        for (ms, want) in [
            (0, "0 min"),
            (45 * MINUTE_MS, "45 min"),
            (5 * HOUR_MS + 20 * MINUTE_MS, "5 h 20 min"),
            (DAY_MS, "1 day 0 h"),
            (2 * DAY_MS + 3 * HOUR_MS, "2 days 3 h"),
            (2 * DAY_MS + 23 * HOUR_MS + 40 * MINUTE_MS, "3 days 0 h"),
        ] {
            assert_eq!(duration(ms), want, "{ms}");
        }
    }
}
