//! Times for people: stored UTC milliseconds shown in the agency's time zone,
//! relative ages ("3 days ago"), and `datetime-local` form values read back in
//! that zone.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The agency's zone; an unknown name (cannot be stored, but be safe) is UTC.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// "Mar 3, 2026, 14:05" in `tz`.
pub fn local(ms: i64, tz: &TimeZone) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%b %-d, %Y, %H:%M")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// "Mar 3, 2026" in `tz`.
pub fn local_date(ms: i64, tz: &TimeZone) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.to_zoned(tz.clone()).strftime("%b %-d, %Y").to_string(),
        Err(_) => String::new(),
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

    #[test]
    fn formats_in_the_agency_zone() {
        let berlin = zone("Europe/Berlin");
        // 2026-03-01T08:30:00Z is 09:30 in Berlin (CET).
        let ms = 1_772_353_800_000;
        assert_eq!(local(ms, &berlin), "Mar 1, 2026, 09:30");
        assert_eq!(local(ms, &TimeZone::UTC), "Mar 1, 2026, 08:30");
        assert_eq!(local_date(ms, &berlin), "Mar 1, 2026");
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
