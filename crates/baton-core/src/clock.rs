//! Where "now" comes from. Production uses [`SystemClock`]; tests use
//! [`ManualClock`] and move time by hand.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of the current time in unix milliseconds (UTC).
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(now_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(now_ms)))
    }
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats unix milliseconds as RFC 3339 in UTC with a `Z`, e.g.
/// `2026-11-28T09:00:00Z` (milliseconds shown only when non-zero).
pub fn rfc3339(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => {
            if ms % 1000 == 0 {
                ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            }
        }
        Err(_) => String::new(),
    }
}

/// "Mar 3, 2026": the calendar day of `ms` in the IANA zone `tz` (UTC when
/// the zone is unknown). For text sent to people, e.g. reminders.
pub fn local_day(ms: i64, tz: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.to_zoned(zone).strftime("%b %-d, %Y").to_string(),
        Err(_) => String::new(),
    }
}

/// Parses an RFC 3339 instant into unix milliseconds. Its offset must be a
/// real one (within ±18:00, as ISO 8601 and every time zone keep); jiff
/// alone would take up to ±25:59.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if !offset_in_range(s) {
        return None;
    }
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// The largest offset from UTC accepted in an instant, in minutes.
const MAX_OFFSET_MINUTES: u32 = 18 * 60;

/// Whether the numeric offset at the end of `s` (if any) is within ±18:00.
fn offset_in_range(s: &str) -> bool {
    let Some(t) = s.find(['T', 't', ' ']) else {
        return true;
    };
    let time = &s[t + 1..];
    let Some(sign) = time.rfind(['+', '-']) else {
        return true;
    };
    let digits: String = time[sign + 1..]
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    if digits.len() < 2 {
        return true;
    }
    let hours: u32 = digits[..2].parse().unwrap_or(99);
    let minutes: u32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
    let seconds: u32 = digits.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(0);
    hours * 60 + minutes + u32::from(seconds > 0) <= MAX_OFFSET_MINUTES
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_days() {
        // 23:30 UTC on Mar 3 is already Mar 4 in Tokyo
        let ms = super::parse_rfc3339("2026-03-03T23:30:00Z").unwrap();
        assert_eq!(super::local_day(ms, "UTC"), "Mar 3, 2026");
        assert_eq!(super::local_day(ms, "Asia/Tokyo"), "Mar 4, 2026");
        assert_eq!(super::local_day(ms, "Not/AZone"), "Mar 3, 2026");
    }

    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_795_856_400_000, "2026-11-28T09:00:00Z"),
            (1_795_856_400_123, "2026-11-28T09:00:00.123Z"),
        ] {
            assert_eq!(rfc3339(ms), text);
            assert_eq!(parse_rfc3339(text), Some(ms));
        }
        assert_eq!(
            parse_rfc3339("2026-11-28T10:00:00+01:00"),
            Some(1_795_856_400_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        // Offsets: ±18:00 at most.
        for (text, ok) in [
            ("2026-11-28T09:00:00+18:00", true),
            ("2026-11-28T09:00:00-18:00", true),
            ("2026-11-28T09:00:00+14:00", true),
            ("2026-11-28T09:00:00-0930", true),
            ("2026-11-28T09:00:00+18:01", false),
            ("2026-11-28T09:00:00-25:59", false),
            ("2026-11-28T09:00:00+19:00", false),
            ("2026-11-28 09:00:00+20:00", false),
        ] {
            assert_eq!(parse_rfc3339(text).is_some(), ok, "{text}");
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(10);
        let d = c.clone();
        c.advance(5);
        assert_eq!(d.now_ms(), 15);
        d.set(100);
        assert_eq!(c.now_ms(), 100);
    }
}
