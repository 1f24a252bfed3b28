//! The agency's business-hours calendar: working windows per weekday in the
//! agency's local time zone, whole-day holidays, and business-time arithmetic
//! ("due in 1 business day") over unix milliseconds (UTC).
//!
//! Wall-clock rules and DST: a window is given in local wall-clock minutes
//! `[start, end)`. Each boundary is turned into a real instant with jiff's
//! *compatible* rule: a local time inside a spring-forward gap is shifted
//! forward by the gap's length (02:30 in a 02:00→03:00 gap becomes 03:30),
//! and an ambiguous local time (fall back) takes its earlier occurrence.
//! Working time is then the real elapsed milliseconds between those
//! instants, so a Sunday 00:00–06:00 window holds 5 h on a spring-forward
//! night and 7 h on a fall-back night. `24:00` (minute 1440) is the next
//! day's midnight. Windows belong to the local date they are written on, and
//! a holiday removes every window of that local date.
//!
//! Cost: walking is window by window. Days whose UTC offset is constant
//! (almost all of them) need no time zone lookups at all, so a call costs a
//! handful of jiff lookups plus a few nanoseconds per day walked; whole weeks
//! without holidays or offset changes are skipped in one step.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::CoreError;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// Default length of a business day, in business minutes (8 h).
pub const DEFAULT_DAY_MINUTES: u32 = 480;
/// The API's weekday keys, Monday first (the index into [`Calendar::week`]).
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// The longest all-day event [`Calendar::holidays_from_ics`] expands.
pub const MAX_ICS_EVENT_DAYS: i64 = 366;
/// Walks stop (and answer "never", `i64::MAX`) past this civil day number
/// (9998-12-31), well inside jiff's range.
const MAX_DAY: i64 = 2_932_530;
const MIN_DAY: i64 = -719_000;

/// One working window in local wall-clock time, `[start, end)` in minutes
/// from midnight (`0..=1440`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start_min: u16,
    pub end_min: u16,
}

/// Business hours of an agency. Build it with [`Calendar::from_parts`]
/// (validated) or [`Calendar::default_utc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// IANA time zone name, validated by `from_parts`. An unknown name in a
    /// hand-built calendar is treated as UTC.
    pub timezone: String,
    /// Index 0 = Monday … 6 = Sunday; windows sorted and non-overlapping.
    pub week: [Vec<Window>; 7],
    /// Whole local days off.
    pub holidays: BTreeSet<Date>,
    /// Length of a "business day" in business minutes; default 480 (8 h).
    pub day_minutes: u32,
}

impl Calendar {
    /// Monday–Friday 09:00–17:00, UTC, no holidays, 8-hour business day.
    pub fn default_utc() -> Calendar {
        let nine_to_five = vec![Window {
            start_min: 9 * 60,
            end_min: 17 * 60,
        }];
        Calendar {
            timezone: "UTC".to_string(),
            week: [
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five.clone(),
                nine_to_five,
                Vec::new(),
                Vec::new(),
            ],
            holidays: BTreeSet::new(),
            day_minutes: DEFAULT_DAY_MINUTES,
        }
    }

    /// Builds and validates a calendar from the API shape: a time zone name,
    /// hours per weekday key (`"mon"`..`"sun"`) as `[["09:00","12:00"], …]`
    /// (a missing key is a day off) and holidays as `"YYYY-MM-DD"`.
    pub fn from_parts(
        timezone: &str,
        hours: &BTreeMap<String, Vec<[String; 2]>>,
        holidays: &[String],
    ) -> Result<Calendar, CoreError> {
        let tz_name = timezone.trim();
        if tz_name.is_empty() || TimeZone::get(tz_name).is_err() {
            return Err(CoreError::invalid(
                "timezone",
                format!(
                    "unknown time zone {timezone:?}; use an IANA name such as \"Europe/Berlin\""
                ),
            ));
        }
        let mut week: [Vec<Window>; 7] = Default::default();
        for (key, pairs) in hours {
            let Some(day) = DAY_KEYS.iter().position(|k| *k == key.as_str()) else {
                return Err(CoreError::invalid(
                    "hours",
                    format!("unknown weekday {key:?}; use mon, tue, wed, thu, fri, sat or sun"),
                ));
            };
            let mut windows = Vec::with_capacity(pairs.len());
            for [start, end] in pairs {
                let start_min = parse_hhmm(start)
                    .filter(|m| *m < 1440)
                    .ok_or_else(|| bad_time(key, start))?;
                let end_min = parse_hhmm(end).ok_or_else(|| bad_time(key, end))?;
                if end_min <= start_min {
                    return Err(CoreError::invalid(
                        "hours",
                        format!("{key}: end {end} is not after start {start}"),
                    ));
                }
                windows.push(Window { start_min, end_min });
            }
            windows.sort();
            for pair in windows.windows(2) {
                if pair[1].start_min < pair[0].end_min {
                    return Err(CoreError::invalid(
                        "hours",
                        format!(
                            "{key}: windows {}-{} and {}-{} overlap",
                            fmt_hhmm(pair[0].start_min),
                            fmt_hhmm(pair[0].end_min),
                            fmt_hhmm(pair[1].start_min),
                            fmt_hhmm(pair[1].end_min)
                        ),
                    ));
                }
            }
            week[day] = windows;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CoreError::invalid(
                "hours",
                "the calendar has no working time",
            ));
        }
        let mut days_off = BTreeSet::new();
        for text in holidays {
            days_off.insert(parse_ymd(text.trim()).ok_or_else(|| {
                CoreError::invalid("holidays", format!("{text:?} is not a date (YYYY-MM-DD)"))
            })?);
        }
        Ok(Calendar {
            timezone: tz_name.to_string(),
            week,
            holidays: days_off,
            day_minutes: DEFAULT_DAY_MINUTES,
        })
    }

    /// Back to the API shape (round-trips with [`Calendar::from_parts`]);
    /// days without windows are left out.
    pub fn hours_map(&self) -> BTreeMap<String, Vec<[String; 2]>> {
        let mut map = BTreeMap::new();
        for (key, windows) in DAY_KEYS.iter().zip(&self.week) {
            if windows.is_empty() {
                continue;
            }
            let pairs = windows
                .iter()
                .map(|w| [fmt_hhmm(w.start_min), fmt_hhmm(w.end_min)])
                .collect();
            map.insert((*key).to_string(), pairs);
        }
        map
    }

    /// The holidays in the API shape, `"YYYY-MM-DD"`, sorted.
    pub fn holiday_strings(&self) -> Vec<String> {
        self.holidays.iter().map(|d| d.to_string()).collect()
    }

    /// Whether `at` (unix ms) falls inside a working window on a non-holiday.
    pub fn is_working(&self, at: i64) -> bool {
        self.next_working(at) == at
    }

    /// The first instant `>= at` that is working time (`i64::MAX` if there
    /// is none, e.g. a hand-built calendar without windows).
    pub fn next_working(&self, at: i64) -> i64 {
        let Some(mut walk) = Walk::new(self, at) else {
            return i64::MAX;
        };
        let mut cursor = at;
        while let Some((s, e)) = walk.next_interval() {
            let s = s.max(cursor);
            if e > s {
                return s;
            }
            cursor = cursor.max(e);
        }
        i64::MAX
    }

    /// `at` plus `business_ms` of working time: the instant at which that
    /// much working time has elapsed, skipping nights, weekends and holidays.
    ///
    /// Exact rule: `business_ms <= 0` returns `at` unchanged (even outside
    /// working time). For `business_ms > 0` the result lies in `(s, e]` of a
    /// working window — inside it, or exactly at its end — never at a
    /// window's start. Hence `add(add(t, a), b) == add(t, a + b)` for all
    /// `a, b >= 0`. `i64::MAX` if the calendar never has enough working time.
    pub fn add_business(&self, at: i64, business_ms: i64) -> i64 {
        if business_ms <= 0 {
            return at;
        }
        let Some(mut walk) = Walk::new(self, at) else {
            return i64::MAX;
        };
        let mut remaining = business_ms;
        let mut cursor = at;
        loop {
            if walk.day_done() {
                if walk.advance_day().is_none() {
                    return i64::MAX;
                }
                if cursor <= walk.m0 {
                    while remaining > walk.week_ms && walk.try_skip_week() {
                        remaining -= walk.week_ms;
                        cursor = walk.m0;
                    }
                }
                continue;
            }
            let Some((s, e)) = walk.next_interval() else {
                return i64::MAX;
            };
            let s = s.max(cursor);
            if e <= s {
                continue;
            }
            let avail = e - s;
            if avail >= remaining {
                return s + remaining;
            }
            remaining -= avail;
            cursor = e;
        }
    }

    /// Working time (ms) between two instants; 0 if `b <= a`.
    pub fn business_between(&self, a: i64, b: i64) -> i64 {
        if b <= a {
            return 0;
        }
        let Some(mut walk) = Walk::new(self, a) else {
            return 0;
        };
        let mut total = 0i64;
        let mut cursor = a;
        loop {
            if walk.day_done() {
                if walk.advance_day().is_none() {
                    return total;
                }
                if cursor <= walk.m0 {
                    while walk.m0.saturating_add(WEEK_MS) <= b && walk.try_skip_week() {
                        total += walk.week_ms;
                        cursor = walk.m0;
                    }
                }
                continue;
            }
            let Some((s, e)) = walk.next_interval() else {
                return total;
            };
            let s = s.max(cursor);
            if e <= s {
                continue;
            }
            if s >= b {
                return total;
            }
            total += e.min(b) - s;
            cursor = e;
        }
    }

    /// Business days → business ms, using `day_minutes` (1 business day =
    /// 8 h by default). Rounded to the millisecond; NaN gives 0.
    pub fn business_days_ms(&self, days: f64) -> i64 {
        (days * f64::from(self.day_minutes) * MINUTE_MS as f64).round() as i64
    }

    /// Parses an iCalendar (.ics) text and returns the all-day
    /// (`VALUE=DATE`) dates of its VEVENTs, sorted and deduplicated.
    /// Multi-day events (`DTEND;VALUE=DATE`, exclusive, or `DURATION:PnD` /
    /// `PnW`) are expanded; folded lines are unfolded; timed events are
    /// ignored. Recurrence rules (`RRULE`) are not expanded: only the first
    /// occurrence counts.
    pub fn holidays_from_ics(ics: &str) -> Result<Vec<Date>, CoreError> {
        let bad = |m: String| CoreError::invalid("holidays", m);
        let lines = unfold_ics(ics);
        if !lines
            .iter()
            .any(|l| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR"))
        {
            return Err(bad("not an iCalendar file (no BEGIN:VCALENDAR)".into()));
        }
        let mut out = BTreeSet::new();
        let mut in_event = false;
        let mut nested = 0usize;
        let mut start: Option<(Option<Date>, bool)> = None; // (date, all-day)
        let mut end: Option<Date> = None;
        let mut duration_days: Option<i64> = None;
        for line in &lines {
            let line = line.trim_end();
            let Some((name, params, value)) = split_ics_line(line) else {
                continue;
            };
            let name = name.to_ascii_uppercase();
            match name.as_str() {
                "BEGIN" if value.eq_ignore_ascii_case("VEVENT") => {
                    if in_event {
                        return Err(bad("a VEVENT is nested in another VEVENT".into()));
                    }
                    in_event = true;
                    nested = 0;
                    start = None;
                    end = None;
                    duration_days = None;
                }
                "BEGIN" if in_event => nested += 1,
                "END" if in_event && nested > 0 => nested -= 1,
                "END" if value.eq_ignore_ascii_case("VEVENT") => {
                    if !in_event {
                        return Err(bad("END:VEVENT without BEGIN:VEVENT".into()));
                    }
                    in_event = false;
                    if let Some((Some(first), true)) = start {
                        let first_day = day_number(first);
                        let last_day = match (end, duration_days) {
                            (Some(e), _) => day_number(e) - 1,
                            (None, Some(n)) => first_day + n - 1,
                            (None, None) => first_day,
                        }
                        .max(first_day);
                        if last_day - first_day >= MAX_ICS_EVENT_DAYS {
                            return Err(bad(format!(
                                "an all-day event starting {first} lasts more than {MAX_ICS_EVENT_DAYS} days"
                            )));
                        }
                        for n in first_day..=last_day {
                            if let Some(d) = date_from_day(n) {
                                out.insert(d);
                            }
                        }
                    }
                }
                "DTSTART" if in_event && nested == 0 => {
                    start = Some(match ics_date(params, value) {
                        IcsDate::Date(d) => (Some(d), true),
                        IcsDate::Timed => (None, false),
                        IcsDate::Bad => {
                            return Err(bad(format!("bad DTSTART value {value:?}")));
                        }
                    });
                }
                "DTEND" if in_event && nested == 0 => {
                    end = match ics_date(params, value) {
                        IcsDate::Date(d) => Some(d),
                        IcsDate::Timed => None,
                        IcsDate::Bad => {
                            return Err(bad(format!("bad DTEND value {value:?}")));
                        }
                    };
                }
                "DURATION" if in_event && nested == 0 => {
                    duration_days = parse_ics_days(value);
                }
                _ => {}
            }
        }
        if in_event {
            return Err(bad("a VEVENT is not closed (no END:VEVENT)".into()));
        }
        Ok(out.into_iter().collect())
    }
}

// ---------------------------------------------------------------------------
// The walk: working intervals in real time, in order, from the day before the
// start instant's local date onwards.

struct Walk<'c> {
    cal: &'c Calendar,
    tz: TimeZone,
    /// Civil day number (days since 1970-01-01) of the current local date.
    day: i64,
    /// Instant of the current day's local midnight (compatible rule).
    m0: i64,
    /// Instant of the next day's local midnight.
    m1: i64,
    /// The first offset transition after the reference point (`i64::MAX`
    /// when none); days ending before it have a constant UTC offset.
    next_tr: i64,
    /// Whether the current day has one constant offset (window instants are
    /// then `m0 + minutes`).
    fast: bool,
    windows: &'c [Window],
    idx: usize,
    /// Total working ms of a full week with a constant offset, no holidays.
    week_ms: i64,
}

impl<'c> Walk<'c> {
    fn new(cal: &'c Calendar, at: i64) -> Option<Walk<'c>> {
        let tz = resolve_tz(&cal.timezone);
        let ts = Timestamp::from_millisecond(at).ok()?;
        let offset_ms = i64::from(tz.to_offset(ts).seconds()) * 1000;
        let day = (at + offset_ms).div_euclid(DAY_MS) - 1;
        if !(MIN_DAY..=MAX_DAY).contains(&day) {
            return None;
        }
        let week_ms: i64 = cal
            .week
            .iter()
            .map(|w| day_minutes_clamped(w) * MINUTE_MS)
            .sum();
        if week_ms == 0 {
            return None;
        }
        let m0 = local_instant(&tz, day, 0)?;
        let mut walk = Walk {
            cal,
            next_tr: next_transition(&tz, m0),
            tz,
            day,
            m0,
            m1: m0,
            fast: false,
            windows: &[],
            idx: 0,
            week_ms,
        };
        walk.setup_day()?;
        Some(walk)
    }

    /// Fills in the per-day fields for `self.day`, given `self.m0`.
    fn setup_day(&mut self) -> Option<()> {
        if self.next_tr <= self.m0 {
            self.next_tr = next_transition(&self.tz, self.m0);
        }
        let fast_end = self.m0 + DAY_MS;
        if fast_end < self.next_tr {
            self.fast = true;
            self.m1 = fast_end;
        } else {
            self.fast = false;
            self.m1 = local_instant(&self.tz, self.day + 1, 0)?;
        }
        self.idx = 0;
        self.windows = if self.is_holiday(self.day) {
            &[]
        } else {
            &self.cal.week[weekday(self.day)]
        };
        Some(())
    }

    fn is_holiday(&self, day: i64) -> bool {
        !self.cal.holidays.is_empty()
            && date_from_day(day).is_some_and(|d| self.cal.holidays.contains(&d))
    }

    fn day_done(&self) -> bool {
        self.idx >= self.windows.len()
    }

    fn advance_day(&mut self) -> Option<()> {
        if self.day >= MAX_DAY {
            return None;
        }
        self.day += 1;
        self.m0 = self.m1;
        self.setup_day()
    }

    /// The next window of the walk as real instants `[s, e)` (possibly
    /// empty or overlapping a previous one in DST gaps: callers clamp with
    /// their cursor). `None` past the supported range.
    fn next_interval(&mut self) -> Option<(i64, i64)> {
        while self.idx >= self.windows.len() {
            self.advance_day()?;
        }
        let w = self.windows[self.idx];
        self.idx += 1;
        if self.fast {
            Some((
                self.m0 + i64::from(w.start_min) * MINUTE_MS,
                self.m0 + i64::from(w.end_min) * MINUTE_MS,
            ))
        } else {
            let s = local_instant(&self.tz, self.day, w.start_min)?;
            let e = local_instant(&self.tz, self.day, w.end_min)?;
            Some((s, e))
        }
    }

    /// At the start of a day: jumps over the next 7 days when they have a
    /// constant offset and no holiday (they then hold exactly `week_ms`).
    fn try_skip_week(&mut self) -> bool {
        if self.idx != 0 || !self.fast || self.day + 7 > MAX_DAY {
            return false;
        }
        let end = self.m0 + WEEK_MS;
        if end >= self.next_tr {
            return false;
        }
        if !self.cal.holidays.is_empty() {
            let (Some(a), Some(b)) = (date_from_day(self.day), date_from_day(self.day + 7)) else {
                return false;
            };
            if self.cal.holidays.range(a..b).next().is_some() {
                return false;
            }
        }
        self.day += 7;
        self.m0 = end;
        self.setup_day().is_some()
    }
}

/// Minutes of a day's windows, clamped like the walk clamps overlaps.
fn day_minutes_clamped(windows: &[Window]) -> i64 {
    let mut cur = 0i64;
    let mut total = 0i64;
    for w in windows {
        let s = i64::from(w.start_min).max(cur);
        let e = i64::from(w.end_min);
        if e > s {
            total += e - s;
            cur = e;
        }
    }
    total
}

fn resolve_tz(name: &str) -> TimeZone {
    if name == "UTC" {
        return TimeZone::UTC;
    }
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

fn next_transition(tz: &TimeZone, at: i64) -> i64 {
    let Ok(ts) = Timestamp::from_millisecond(at) else {
        return i64::MAX;
    };
    tz.following(ts)
        .next()
        .map(|t| t.timestamp().as_millisecond())
        .unwrap_or(i64::MAX)
}

/// The instant of local wall-clock `minute` (0..=1440) on civil day `day`,
/// with the compatible rule for gaps and folds.
fn local_instant(tz: &TimeZone, day: i64, minute: u16) -> Option<i64> {
    let (day, minute) = if minute >= 1440 {
        (day + 1, minute - 1440)
    } else {
        (day, minute)
    };
    let date = date_from_day(day)?;
    let dt = DateTime::from_parts(
        date,
        jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?,
    );
    let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
    Some(ts.as_millisecond())
}

/// Monday = 0 … Sunday = 6 for a civil day number (1970-01-01 was a Thursday).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn day_number(d: Date) -> i64 {
    let (y, m, dd) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (Howard Hinnant's `civil_from_days`).
fn date_from_day(n: i64) -> Option<Date> {
    let z = n + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let y = i16::try_from(y).ok()?;
    Date::new(y, m as i8, d as i8).ok()
}

/// `"HH:MM"` (two digits each) → minutes; `24:00` is 1440.
fn parse_hhmm(text: &str) -> Option<u16> {
    let b = text.trim().as_bytes();
    if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let m = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

fn fmt_hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn bad_time(day: &str, text: &str) -> CoreError {
    CoreError::invalid(
        "hours",
        format!("{day}: {text:?} is not a time of day (HH:MM, 00:00 to 24:00)"),
    )
}

/// Strict `YYYY-MM-DD`.
fn parse_ymd(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return None;
    }
    let y: i16 = text[0..4].parse().ok()?;
    let m: i8 = text[5..7].parse().ok()?;
    let d: i8 = text[8..10].parse().ok()?;
    Date::new(y, m, d).ok()
}

/// Splits an .ics text into logical lines: CRLF or LF endings; a line that
/// starts with a space or tab continues the previous one (RFC 5545 §3.1).
fn unfold_ics(ics: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in ics.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix([' ', '\t']) {
            Some(rest) if !lines.is_empty() => {
                if let Some(last) = lines.last_mut() {
                    last.push_str(rest);
                }
            }
            _ => lines.push(raw.to_string()),
        }
    }
    lines
}

/// `NAME;PARAM=..;PARAM=..:VALUE` → (name, params, value); the value starts
/// at the first colon outside a quoted parameter value.
fn split_ics_line(line: &str) -> Option<(&str, &str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                let head = &line[..i];
                let value = &line[i + 1..];
                let (name, params) = head.split_once(';').unwrap_or((head, ""));
                return Some((name.trim(), params, value.trim()));
            }
            _ => {}
        }
    }
    None
}

enum IcsDate {
    Date(Date),
    Timed,
    Bad,
}

fn ics_date(params: &str, value: &str) -> IcsDate {
    let all_day_param = params
        .split(';')
        .any(|p| p.trim().eq_ignore_ascii_case("VALUE=DATE"));
    let b = value.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        let parsed = (|| {
            let y: i16 = value[0..4].parse().ok()?;
            let m: i8 = value[4..6].parse().ok()?;
            let d: i8 = value[6..8].parse().ok()?;
            Date::new(y, m, d).ok()
        })();
        return parsed.map_or(IcsDate::Bad, IcsDate::Date);
    }
    if all_day_param {
        IcsDate::Bad
    } else {
        IcsDate::Timed
    }
}

/// `P3D` / `P2W` → days; anything with a time part is not a whole-day length.
fn parse_ics_days(value: &str) -> Option<i64> {
    let v = value.trim().strip_prefix('+').unwrap_or(value.trim());
    let v = v.strip_prefix('P')?;
    if let Some(n) = v.strip_suffix('D') {
        n.parse::<i64>().ok().filter(|n| *n >= 0)
    } else if let Some(n) = v.strip_suffix('W') {
        n.parse::<i64>().ok().filter(|n| *n >= 0).map(|n| n * 7)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Hours = BTreeMap<String, Vec<[String; 2]>>;

    const M: i64 = MINUTE_MS;
    const H: i64 = 60 * MINUTE_MS;

    /// Local wall-clock text in `tz` → unix ms (compatible rule).
    fn at(tz: &str, local: &str) -> i64 {
        let dt: DateTime = local.parse().expect("datetime");
        dt.to_zoned(TimeZone::get(tz).expect("tz"))
            .expect("zoned")
            .timestamp()
            .as_millisecond()
    }

    fn utc(text: &str) -> i64 {
        text.parse::<Timestamp>()
            .expect("timestamp")
            .as_millisecond()
    }

    fn hours(spec: &[(&str, &[(&str, &str)])]) -> Hours {
        spec.iter()
            .map(|(day, ws)| {
                (
                    day.to_string(),
                    ws.iter()
                        .map(|(a, b)| [a.to_string(), b.to_string()])
                        .collect(),
                )
            })
            .collect()
    }

    fn weekdays(ws: &[(&'static str, &'static str)]) -> Hours {
        let days: Vec<(&str, &[(&str, &str)])> = ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| (*d, ws))
            .collect();
        hours(&days)
    }

    fn cal(tz: &str, h: &Hours, holidays: &[&str]) -> Calendar {
        let hol: Vec<String> = holidays.iter().map(|s| s.to_string()).collect();
        Calendar::from_parts(tz, h, &hol).expect("valid calendar")
    }

    /// (calendar, start, amount, expected) — and business_between(start,
    /// expected) must equal amount.
    fn check_table(c: &Calendar, cases: &[(i64, i64, i64)]) {
        for (i, &(start, amount, want)) in cases.iter().enumerate() {
            let got = c.add_business(start, amount);
            assert_eq!(
                got,
                want,
                "case {i}: add({}, {amount}) = {} want {}",
                crate::clock::rfc3339(start),
                crate::clock::rfc3339(got),
                crate::clock::rfc3339(want)
            );
            assert_eq!(c.business_between(start, want), amount, "case {i}: between");
        }
    }

    #[test]
    fn calendar_default_table() {
        let c = Calendar::default_utc();
        let day = c.business_days_ms(1.0);
        assert_eq!(day, 8 * H);
        let u = |s| at("UTC", s);
        check_table(
            &c,
            &[
                (u("2026-01-09T16:00"), day, u("2026-01-12T16:00")), // Fri → Mon
                (u("2026-01-12T08:00"), H, u("2026-01-12T10:00")),
                (u("2026-01-12T17:00"), M, u("2026-01-13T09:01")),
                (u("2026-01-10T12:00"), 30 * M, u("2026-01-12T09:30")), // Sat
                (u("2026-01-12T09:00"), day, u("2026-01-12T17:00")),    // lands on window end
                (u("2026-01-12T10:00"), 5 * day, u("2026-01-19T10:00")),
                (u("2026-01-12T10:00"), 15 * day, u("2026-02-02T10:00")), // week skips
                (u("2026-01-10T12:00"), 0, u("2026-01-10T12:00")),
            ],
        );
        assert!(c.is_working(u("2026-01-12T09:00")));
        assert!(!c.is_working(u("2026-01-12T17:00")));
        assert!(!c.is_working(u("2026-01-10T12:00")));
        assert_eq!(c.next_working(u("2026-01-10T12:00")), u("2026-01-12T09:00"));
        assert_eq!(
            c.business_between(u("2026-01-12T00:00"), u("2026-01-19T00:00")),
            40 * H
        );
        assert_eq!(
            c.business_between(u("2026-01-19T00:00"), u("2026-01-12T00:00")),
            0
        );
        assert_eq!(c.business_days_ms(0.5), 4 * H);
        assert_eq!(c.business_days_ms(f64::NAN), 0);
    }

    #[test]
    fn calendar_lunch_break_and_holidays() {
        let lunch = cal(
            "UTC",
            &weekdays(&[("09:00", "12:00"), ("13:00", "17:00")]),
            &[],
        );
        let u = |s| at("UTC", s);
        check_table(
            &lunch,
            &[
                (u("2026-01-12T11:30"), H, u("2026-01-12T13:30")),
                (u("2026-01-12T12:30"), H, u("2026-01-12T14:00")),
                (u("2026-01-12T11:00"), H, u("2026-01-12T12:00")),
            ],
        );
        assert!(!lunch.is_working(u("2026-01-12T12:30")));
        let holiday = cal("UTC", &weekdays(&[("09:00", "17:00")]), &["2026-01-12"]);
        check_table(
            &holiday,
            &[
                (u("2026-01-09T16:00"), 8 * H, u("2026-01-13T16:00")),
                (u("2026-01-12T10:00"), H, u("2026-01-13T10:00")),
            ],
        );
        assert!(!holiday.is_working(u("2026-01-12T10:00")));
        assert_eq!(
            holiday.next_working(u("2026-01-12T10:00")),
            u("2026-01-13T09:00")
        );
    }

    #[test]
    fn calendar_dst_berlin() {
        let tz = "Europe/Berlin";
        let b = |s| at(tz, s);
        let office = cal(tz, &weekdays(&[("09:00", "17:00")]), &[]);
        check_table(
            &office,
            &[
                // Spring forward weekend: Fri CET (+01) → Mon CEST (+02).
                (b("2026-03-27T16:00"), 8 * H, b("2026-03-30T16:00")),
                // Fall back weekend: Fri CEST → Mon CET.
                (b("2026-10-23T16:00"), 8 * H, b("2026-10-26T16:00")),
                (b("2026-03-23T09:00"), 10 * 8 * H, b("2026-04-03T17:00")),
            ],
        );
        assert_eq!(b("2026-03-30T16:00"), utc("2026-03-30T14:00Z"));
        assert_eq!(b("2026-03-27T16:00"), utc("2026-03-27T15:00Z"));

        // A Sunday 00:00–06:00 window spanning the change.
        let night = cal(tz, &hours(&[("sun", &[("00:00", "06:00")])]), &[]);
        // Spring: 00:00 CET = 23:00Z, 06:00 CEST = 04:00Z → 5 h.
        let (s, e) = (b("2026-03-29T00:00"), b("2026-03-29T06:00"));
        assert_eq!(e - s, 5 * H);
        assert_eq!(night.business_between(s - H, e + H), 5 * H);
        check_table(
            &night,
            &[
                (b("2026-03-28T12:00"), 5 * H, e),
                (b("2026-03-28T12:00"), 3 * H, utc("2026-03-29T02:00Z")), // 04:00 CEST
                (b("2026-03-28T12:00"), 6 * H, b("2026-04-05T01:00")),
            ],
        );
        // Fall: 00:00 CEST = 22:00Z, 06:00 CET = 05:00Z → 7 h.
        let (s, e) = (b("2026-10-25T00:00"), b("2026-10-25T06:00"));
        assert_eq!((s, e), (utc("2026-10-24T22:00Z"), utc("2026-10-25T05:00Z")));
        assert_eq!(night.business_between(s, e), 7 * H);
        check_table(
            &night,
            &[
                (s, 3 * H, utc("2026-10-25T01:00Z")), // 02:00 CET, the second 02:00
                (s, 7 * H, e),
            ],
        );
        assert!(night.is_working(utc("2026-10-25T00:30Z"))); // 02:30 CEST
        assert!(night.is_working(utc("2026-10-25T01:30Z"))); // 02:30 CET
        assert!(!night.is_working(e));

        // A window entirely inside the spring gap (02:15–02:45 does not
        // exist): compatible rule shifts it to 03:15–03:45 CEST, 30 min.
        let gap = cal(tz, &hours(&[("sun", &[("02:15", "02:45")])]), &[]);
        assert_eq!(
            gap.business_between(utc("2026-03-28T00:00Z"), utc("2026-03-30T00:00Z")),
            30 * M
        );
        assert!(gap.is_working(utc("2026-03-29T01:30Z")));
        assert_eq!(
            gap.next_working(utc("2026-03-28T00:00Z")),
            utc("2026-03-29T01:15Z")
        );
    }

    #[test]
    fn calendar_dst_new_york() {
        let tz = "America/New_York";
        let n = |s| at(tz, s);
        let office = cal(tz, &weekdays(&[("09:00", "17:00")]), &[]);
        check_table(
            &office,
            &[
                (n("2026-03-06T16:00"), 8 * H, n("2026-03-09T16:00")),
                (n("2026-10-30T16:00"), 8 * H, n("2026-11-02T16:00")),
            ],
        );
        assert_eq!(n("2026-03-09T16:00"), utc("2026-03-09T20:00Z"));
        assert_eq!(n("2026-11-02T16:00"), utc("2026-11-02T21:00Z"));
        let night = cal(tz, &hours(&[("sun", &[("01:00", "03:00")])]), &[]);
        // Spring 2026-03-08: 01:00 EST (06:00Z) → 03:00 EDT (07:00Z): 1 h.
        assert_eq!(
            night.business_between(utc("2026-03-08T00:00Z"), utc("2026-03-09T00:00Z")),
            H
        );
        // Fall 2026-11-01: 01:00 EDT (05:00Z, earlier) → 03:00 EST (08:00Z): 3 h.
        assert_eq!(
            night.business_between(utc("2026-11-01T00:00Z"), utc("2026-11-02T00:00Z")),
            3 * H
        );
        assert_eq!(
            night.add_business(utc("2026-10-31T00:00Z"), 150 * M),
            utc("2026-11-01T07:30Z")
        );
    }

    #[test]
    fn calendar_from_parts_errors() {
        let ok = weekdays(&[("09:00", "17:00")]);
        let cases: Vec<(&str, Hours, Vec<&str>, &str, &str)> = vec![
            (
                "Mars/Olympus",
                ok.clone(),
                vec![],
                "timezone",
                "unknown time zone",
            ),
            ("", ok.clone(), vec![], "timezone", "unknown time zone"),
            (
                "UTC",
                hours(&[("mon", &[("25:00", "26:00")])]),
                vec![],
                "hours",
                "mon",
            ),
            (
                "UTC",
                hours(&[("mon", &[("09:00", "9am")])]),
                vec![],
                "hours",
                "9am",
            ),
            (
                "UTC",
                hours(&[("mon", &[("24:00", "24:00")])]),
                vec![],
                "hours",
                "24:00",
            ),
            (
                "UTC",
                hours(&[("tue", &[("17:00", "09:00")])]),
                vec![],
                "hours",
                "not after",
            ),
            (
                "UTC",
                hours(&[("tue", &[("09:00", "09:00")])]),
                vec![],
                "hours",
                "not after",
            ),
            (
                "UTC",
                hours(&[("wed", &[("13:00", "17:00"), ("09:00", "13:30")])]),
                vec![],
                "hours",
                "wed: windows 09:00-13:30 and 13:00-17:00 overlap",
            ),
            (
                "UTC",
                hours(&[("funday", &[("09:00", "17:00")])]),
                vec![],
                "hours",
                "funday",
            ),
            (
                "UTC",
                ok.clone(),
                vec!["2026-02-30"],
                "holidays",
                "2026-02-30",
            ),
            ("UTC", ok.clone(), vec!["26-1-1"], "holidays", "26-1-1"),
            (
                "UTC",
                BTreeMap::new(),
                vec![],
                "hours",
                "the calendar has no working time",
            ),
            (
                "UTC",
                hours(&[("mon", &[])]),
                vec![],
                "hours",
                "the calendar has no working time",
            ),
        ];
        for (tz, h, hol, want_field, want_msg) in cases {
            let hol: Vec<String> = hol.into_iter().map(String::from).collect();
            match Calendar::from_parts(tz, &h, &hol) {
                Err(CoreError::Invalid { field, message }) => {
                    assert_eq!(field, want_field, "{tz} {h:?} {hol:?}: {message}");
                    assert!(message.contains(want_msg), "{message:?} lacks {want_msg:?}");
                }
                other => panic!("{tz} {h:?} {hol:?}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn calendar_hours_map_round_trip() {
        let h = hours(&[
            ("mon", &[("09:00", "12:00"), ("13:00", "17:00")]),
            ("sat", &[("00:00", "24:00")]),
            ("sun", &[("22:30", "23:45")]),
        ]);
        let c = cal("Asia/Kolkata", &h, &["2026-12-25", "2026-01-01"]);
        assert_eq!(c.hours_map(), h);
        assert_eq!(c.holiday_strings(), vec!["2026-01-01", "2026-12-25"]);
        let back = Calendar::from_parts(&c.timezone, &c.hours_map(), &c.holiday_strings()).unwrap();
        assert_eq!(back, c);
        let d = Calendar::default_utc();
        let back = Calendar::from_parts(&d.timezone, &d.hours_map(), &[]).unwrap();
        assert_eq!(back, d);
        // Windows given out of order are sorted.
        let c = cal(
            "UTC",
            &hours(&[("mon", &[("13:00", "17:00"), ("09:00", "12:00")])]),
            &[],
        );
        assert_eq!(
            c.week[0][0],
            Window {
                start_min: 540,
                end_min: 720
            }
        );
    }

    #[test]
    fn calendar_holidays_from_ics() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261227\r\n\
SUMMARY:Christmas and\r\n  Boxing Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:2027\r\n 0101\r\nSUMMARY:New Year\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTART;TZID=Europe/Berlin:20261224T100000\r\n\
DTEND;TZID=Europe/Berlin:20261224T120000\r\nSUMMARY:Party (timed)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART:20270601\r\nDURATION:P2D\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
        let got = Calendar::holidays_from_ics(ics).unwrap();
        let want: Vec<Date> = [
            "2026-12-25",
            "2026-12-26",
            "2027-01-01",
            "2027-06-01",
            "2027-06-02",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        assert_eq!(got, want);
        // LF line endings work too.
        assert_eq!(
            Calendar::holidays_from_ics(&ics.replace("\r\n", "\n")).unwrap(),
            want
        );
        for bad in [
            "hello",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261332\nEND:VEVENT\nEND:VCALENDAR",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261201\nEND:VCALENDAR",
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20280101\nEND:VEVENT\nEND:VCALENDAR",
        ] {
            let err = Calendar::holidays_from_ics(bad).unwrap_err();
            assert!(matches!(err, CoreError::Invalid { ref field, .. } if field == "holidays"));
        }
    }

    // ---- property tests over a deterministic generator -------------------

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + self.below((hi - lo) as u64) as i64
        }
    }

    const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];
    const START_2025: i64 = 1_735_689_600_000;
    const END_2027: i64 = 1_830_297_600_000;

    fn random_calendar(rng: &mut Rng) -> Calendar {
        let timezone = ZONES[rng.below(4) as usize].to_string();
        let mut week: [Vec<Window>; 7] = Default::default();
        for day in week.iter_mut() {
            if rng.below(10) < 3 {
                continue;
            }
            let k = 1 + rng.below(3) as usize;
            let mut points: Vec<u16> = (0..2 * k)
                .map(|_| match rng.below(4) {
                    0 => 0,
                    1 => 1440,
                    _ => (rng.below(1441)) as u16,
                })
                .collect();
            points.sort_unstable();
            points.dedup();
            for pair in points.chunks_exact(2) {
                day.push(Window {
                    start_min: pair[0],
                    end_min: pair[1],
                });
            }
        }
        if week.iter().all(Vec::is_empty) {
            week[0].push(Window {
                start_min: 540,
                end_min: 1020,
            });
        }
        let holidays = (0..rng.below(12))
            .filter_map(|_| date_from_day(rng.range(20_089, 21_185)))
            .collect();
        let c = Calendar {
            timezone,
            week,
            holidays,
            day_minutes: DEFAULT_DAY_MINUTES,
        };
        // Every generated calendar is valid API input and round-trips.
        let back = Calendar::from_parts(&c.timezone, &c.hours_map(), &c.holiday_strings())
            .expect("generated calendar is valid");
        assert_eq!(back, c);
        c
    }

    /// DST transitions of the zones above in 2025–2027, to aim instants at.
    fn transitions() -> Vec<i64> {
        let mut out = Vec::new();
        for z in ZONES {
            let tz = TimeZone::get(z).unwrap();
            let from = Timestamp::from_millisecond(START_2025).unwrap();
            for t in tz.following(from) {
                let ms = t.timestamp().as_millisecond();
                if ms > END_2027 {
                    break;
                }
                out.push(ms);
            }
        }
        out
    }

    fn random_instant(rng: &mut Rng, trs: &[i64]) -> i64 {
        let t = match rng.below(4) {
            0 => trs[rng.below(trs.len() as u64) as usize] + rng.range(-3 * DAY_MS, 3 * DAY_MS),
            _ => rng.range(START_2025, END_2027),
        };
        if rng.below(2) == 0 {
            t - t.rem_euclid(M)
        } else {
            t
        }
    }

    fn random_amount(rng: &mut Rng) -> i64 {
        match rng.below(5) {
            0 => 0,
            1 => rng.range(1, 2 * H),
            2 => M * rng.range(1, 20 * 480),
            _ => rng.range(1, 20 * 8 * H + 1),
        }
    }

    #[test]
    fn calendar_properties() {
        let trs = transitions();
        assert!(trs.len() >= 12, "{}", trs.len());
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..3_000 {
            let c = random_calendar(&mut rng);
            let t = random_instant(&mut rng, &trs);
            let a = random_amount(&mut rng);
            let b = random_amount(&mut rng);
            let ctx = || {
                format!(
                    "case {case}: {c:?} t={} a={a} b={b}",
                    crate::clock::rfc3339(t)
                )
            };

            let x = c.add_business(t, a);
            assert!(x >= t, "{}", ctx());
            // Additivity (holds for every a, b >= 0 under the stated rule).
            assert_eq!(c.add_business(x, b), c.add_business(t, a + b), "{}", ctx());
            // Inverse.
            assert_eq!(c.business_between(t, x), a, "{}", ctx());
            if a == 0 {
                assert_eq!(x, t, "{}", ctx());
            } else {
                // Inside a window or exactly at a window's end.
                assert!(c.is_working(x) || c.is_working(x - 1), "{}", ctx());
                assert!(c.is_working(x - 1), "{}", ctx());
            }
            // next_working.
            let n = c.next_working(t);
            assert!(n >= t && c.is_working(n), "{}", ctx());
            assert_eq!(c.business_between(t, n), 0, "{}", ctx());
            assert_eq!(c.is_working(t), n == t, "{}", ctx());
            // Between is additive over a split point.
            let y = t + rng.range(0, 30 * DAY_MS);
            let mid = rng.range(t, y + 1);
            assert_eq!(
                c.business_between(t, y),
                c.business_between(t, mid) + c.business_between(mid, y),
                "{}",
                ctx()
            );
            // Week skipping agrees with walking one day at a time.
            let chunked: i64 = (0..30)
                .map(|d| c.business_between(t + d * DAY_MS, (t + (d + 1) * DAY_MS).min(y)))
                .sum();
            assert_eq!(c.business_between(t, y), chunked, "{}", ctx());
            // Holidays never work.
            let tz = TimeZone::get(&c.timezone).unwrap();
            for h in &c.holidays {
                let minute = rng.below(1440) as i8;
                let dt = h.at(0, 0, 0, 0) + jiff::Span::new().minutes(i64::from(minute));
                let z = dt.to_zoned(tz.clone()).unwrap();
                if z.date() == *h {
                    assert!(
                        !c.is_working(z.timestamp().as_millisecond()),
                        "{} {h}",
                        ctx()
                    );
                }
            }
            // Oracle away from offset changes: wall-clock lookup.
            let off = |ms: i64| tz.to_offset(Timestamp::from_millisecond(ms).unwrap());
            if off(t - 2 * DAY_MS) == off(t + 2 * DAY_MS) {
                assert_eq!(c.is_working(t), brute_is_working(&c, &tz, t), "{}", ctx());
            }
        }
    }

    fn brute_is_working(c: &Calendar, tz: &TimeZone, at: i64) -> bool {
        let z = Timestamp::from_millisecond(at)
            .unwrap()
            .to_zoned(tz.clone());
        if c.holidays.contains(&z.date()) {
            return false;
        }
        let minute = i64::from(z.hour()) * 60 + i64::from(z.minute());
        let wd = z.weekday().to_monday_zero_offset() as usize;
        c.week[wd]
            .iter()
            .any(|w| i64::from(w.start_min) <= minute && minute < i64::from(w.end_min))
    }

    #[test]
    fn calendar_between_matches_minute_oracle() {
        let mut rng = Rng(42);
        for case in 0..200 {
            let mut c = random_calendar(&mut rng);
            if c.timezone != "UTC" {
                c.timezone = "Asia/Kolkata".into(); // no DST: wall-clock oracle is exact
            }
            let tz = TimeZone::get(&c.timezone).unwrap();
            let a = rng.range(START_2025, END_2027) / M * M;
            let b = a + M * rng.range(0, 3 * 1440);
            let brute: i64 = (a / M..b / M)
                .filter(|m| brute_is_working(&c, &tz, m * M))
                .count() as i64
                * M;
            assert_eq!(
                c.business_between(a, b),
                brute,
                "case {case}: {c:?} {a} {b}"
            );
        }
    }

    #[test]
    fn calendar_without_working_time_never_loops() {
        let mut c = Calendar::default_utc();
        c.week = Default::default();
        assert_eq!(c.add_business(0, H), i64::MAX);
        assert_eq!(c.next_working(0), i64::MAX);
        assert!(!c.is_working(0));
        assert_eq!(c.business_between(0, WEEK_MS), 0);
        // Unknown zone in a hand-built calendar behaves as UTC.
        c = Calendar::default_utc();
        c.timezone = "Nowhere/Special".into();
        assert_eq!(
            c.add_business(utc("2026-01-09T16:00Z"), 8 * H),
            utc("2026-01-12T16:00Z")
        );
        // Extreme instants do not panic.
        let d = Calendar::default_utc();
        assert_eq!(d.add_business(i64::MAX, H), i64::MAX);
        assert_eq!(
            d.add_business(utc("9998-12-30T10:00Z"), 100 * 8 * H),
            i64::MAX
        );
    }

    #[test]
    fn calendar_day_numbers_round_trip() {
        for n in [-719_000, -1, 0, 1, 20_089, 21_184, MAX_DAY] {
            let d = date_from_day(n).unwrap();
            assert_eq!(day_number(d), n);
        }
        assert_eq!(weekday(day_number("2026-01-12".parse().unwrap())), 0);
        assert_eq!(weekday(day_number("2026-03-29".parse().unwrap())), 6);
    }
}
