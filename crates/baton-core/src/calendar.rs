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
mod tests;
