//! When a cadence meets: a small, strict subset of an RFC 5545 `RRULE`
//! (weekly on some weekdays, or monthly on the nth weekday or a day of the
//! month, optionally only in some months), the dates it falls on, and where
//! they land on the agency's calendar. Anything outside the subset (`COUNT`,
//! `UNTIL`, `FREQ=DAILY`, …) is refused by name, never silently ignored.

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::{Span, Unit};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::CoreError;

/// The longest rule text [`Schedule::parse`] accepts.
pub const MAX_RULE_LEN: usize = 200;
/// How many days ahead an occurrence on a day off looks for a working day.
pub const MAX_SHIFT_DAYS: i64 = 14;

const PARTS: &str = "FREQ INTERVAL BYDAY BYMONTHDAY BYMONTH BYHOUR BYMINUTE";
const DAY_CODES: &str = "MO TU WE TH FR SA SU";
const DAY_NAMES: &str = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday";
const NTH: &str = "first second third fourth";
const MONTH_NAMES: &str =
    "January February March April May June July August September October November December";

/// How often the rule repeats (`FREQ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freq {
    Weekly,
    Monthly,
}

/// A cadence's recurrence rule. Build it with [`Schedule::parse`], which
/// validates and normalises; it serializes as its canonical rule text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Schedule {
    pub freq: Freq,
    /// Every n weeks or months, `1..=12`.
    pub interval: u8,
    /// Weekly: one or more days, Monday first. Monthly: the one day of `nth`.
    pub by_day: Vec<Weekday>,
    /// Monthly `BYDAY=2TU`: which of the month's Tuesdays, `1..=4` or `-1`.
    pub nth: Option<i8>,
    /// Monthly `BYMONTHDAY`: `1..=28` (every month has it) or `-1`, the last.
    pub month_day: Option<i8>,
    /// Monthly only: months `1..=12`, sorted, no repeats; empty = all.
    pub by_month: Vec<u8>,
    /// Start time, agency local (`BYHOUR`, `BYMINUTE`); 09:00 by default.
    pub hour: u8,
    pub minute: u8,
}

impl Schedule {
    /// Parses rule text such as `FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10`. Keys
    /// and values are case-insensitive, an `RRULE:` prefix is allowed, and
    /// weekdays and months are sorted and deduplicated.
    pub fn parse(s: &str) -> Result<Schedule, CoreError> {
        if s.chars().count() > MAX_RULE_LEN {
            return fail(format!("is longer than {MAX_RULE_LEN} characters"));
        }
        let text = s.trim();
        let text = match text.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("RRULE:") => &text[6..],
            _ => text,
        };
        if text.trim().is_empty() {
            return fail("is empty; write a rule such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=10");
        }
        let mut raw: [Option<String>; 7] = Default::default();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return fail(format!("rule part {part:?} is not KEY=VALUE"));
            };
            let key = key.trim().to_ascii_uppercase();
            let Some(i) = PARTS.split(' ').position(|k| k == key) else {
                return fail(format!(
                    "unsupported rule part {key:?}; use FREQ, INTERVAL, BYDAY, BYMONTHDAY, \
                     BYMONTH, BYHOUR and BYMINUTE"
                ));
            };
            if raw[i].is_some() {
                return fail(format!("rule part {key} is given twice"));
            }
            raw[i] = Some(value.trim().to_ascii_uppercase());
        }
        let [freq, interval, by_day, month_day, by_month, hour, minute] = raw;
        let quarterly = "use WEEKLY or MONTHLY (with BYMONTH for quarterly)";
        let freq = match freq.as_deref() {
            None => return fail("FREQ is missing; use FREQ=WEEKLY or FREQ=MONTHLY"),
            Some("WEEKLY") => Freq::Weekly,
            Some("MONTHLY") => Freq::Monthly,
            Some("DAILY" | "YEARLY") => {
                return fail(format!("DAILY/YEARLY are not supported; {quarterly}"))
            }
            Some(other) => return fail(format!("unknown FREQ {other:?}; {quarterly}")),
        };
        let interval = int(interval.as_deref(), "INTERVAL", 1, 12, 1)? as u8;
        let hour = int(hour.as_deref(), "BYHOUR", 0, 23, 9)? as u8;
        let minute = int(minute.as_deref(), "BYMINUTE", 0, 59, 0)? as u8;
        let month_day = match month_day.as_deref() {
            None => None,
            Some("-1") => Some(-1),
            Some(v) => Some(int(Some(v), "BYMONTHDAY (or -1, the last day)", 1, 28, 1)? as i8),
        };
        if freq == Freq::Weekly && (by_month.is_some() || month_day.is_some()) {
            return fail("BYMONTH and BYMONTHDAY work only with FREQ=MONTHLY");
        }
        let mut months = Vec::new();
        for item in by_month.iter().flat_map(|v| v.split(',')) {
            months.push(int(Some(item.trim()), "BYMONTH", 1, 12, 1)? as u8);
        }
        months.sort_unstable();
        months.dedup();
        let mut days = Vec::new();
        for item in by_day.iter().flat_map(|v| v.split(',')).map(str::trim) {
            let Some(day) = parse_day(item) else {
                return fail(format!(
                    "unknown weekday {item:?} in BYDAY; use MO, TU, WE, TH, FR, SA or SU"
                ));
            };
            days.push(day);
        }
        let (by_day, nth) = match (freq, days.as_slice(), month_day) {
            (Freq::Weekly, [], _) => return fail("FREQ=WEEKLY needs BYDAY (e.g. BYDAY=MO,TH)"),
            (Freq::Weekly, _, _) if days.iter().any(|(n, _)| n.is_some()) => {
                return fail("FREQ=WEEKLY takes plain weekdays in BYDAY (MO,TH), no ordinal");
            }
            (Freq::Weekly, _, _) => {
                let mut weekdays: Vec<Weekday> = days.iter().map(|(_, d)| *d).collect();
                weekdays.sort_by_key(|d| d.to_monday_zero_offset());
                weekdays.dedup();
                (weekdays, None)
            }
            (_, [], None) => return fail("FREQ=MONTHLY needs BYDAY (BYDAY=2TU) or BYMONTHDAY"),
            (_, [], Some(_)) => (Vec::new(), None),
            (_, _, Some(_)) => return fail("FREQ=MONTHLY takes BYDAY or BYMONTHDAY, not both"),
            (_, [(Some(n @ (1..=4 | -1)), day)], None) => (vec![*day], Some(*n)),
            (_, [(Some(_), _)], None) => return fail("a BYDAY ordinal is 1 to 4, or -1 (last)"),
            (_, [(None, _)], None) => {
                return fail("FREQ=MONTHLY needs an ordinal in BYDAY (2TU, or -1FR: last Friday)");
            }
            (_, _, None) => return fail("FREQ=MONTHLY takes one BYDAY (e.g. BYDAY=2TU)"),
        };
        Ok(Schedule {
            freq,
            interval,
            by_day,
            nth,
            month_day,
            by_month: months,
            hour,
            minute,
        })
    }

    /// The canonical rule text; `Schedule::parse(&s.rrule()) == Ok(s)` for
    /// any parsed schedule. `INTERVAL=1` is left out, the time never is.
    pub fn rrule(&self) -> String {
        let mut out = String::from(match self.freq {
            Freq::Weekly => "FREQ=WEEKLY",
            Freq::Monthly => "FREQ=MONTHLY",
        });
        if self.interval != 1 {
            let _ = write!(out, ";INTERVAL={}", self.interval);
        }
        let nth = self.nth.map(|n| n.to_string()).unwrap_or_default();
        let code = |d: &Weekday| format!("{nth}{}", word(DAY_CODES, day_index(*d)));
        let days: Vec<String> = self.by_day.iter().map(code).collect();
        if !days.is_empty() {
            let _ = write!(out, ";BYDAY={}", days.join(","));
        }
        if let Some(d) = self.month_day {
            let _ = write!(out, ";BYMONTHDAY={d}");
        }
        let months: Vec<String> = self.by_month.iter().map(u8::to_string).collect();
        if !months.is_empty() {
            let _ = write!(out, ";BYMONTH={}", months.join(","));
        }
        let _ = write!(out, ";BYHOUR={};BYMINUTE={}", self.hour, self.minute);
        out
    }

    /// The rule in plain English: "every 2 weeks on Monday and Thursday at
    /// 09:30", "on the last day of every month at 16:00".
    pub fn describe(&self) -> String {
        let at = format!("at {:02}:{:02}", self.hour, self.minute);
        let n = self.interval;
        let days = list(self.by_day.iter().map(|d| word(DAY_NAMES, day_index(*d))));
        if self.freq == Freq::Weekly {
            return match n {
                0 | 1 => format!("every {days} {at}"),
                _ => format!("every {n} weeks on {days} {at}"),
            };
        }
        let day = match (self.nth, self.month_day) {
            (Some(-1), _) => format!("the last {days}"),
            (Some(n), _) => format!("the {} {days}", word(NTH, (n as usize).wrapping_sub(1))),
            (None, Some(-1)) => "the last day".to_string(),
            (None, Some(d)) => format!("the {}", ordinal(d)),
            (None, None) => "no day".to_string(),
        };
        let month = |m: &u8| word(MONTH_NAMES, usize::from(*m).wrapping_sub(1));
        let months = list(self.by_month.iter().map(month));
        let of = match (n, months.is_empty()) {
            (0 | 1, true) => "every month".to_string(),
            (_, true) => format!("every {n} months"),
            (0 | 1, false) => months,
            (_, false) => format!("every {n} months ({months} only)"),
        };
        format!("on {day} of {of} {at}")
    }

    /// The rule's dates in `[from, to]`, ascending, never before `anchor`.
    /// `INTERVAL` counts from the anchor: weekly, whole weeks since the
    /// Monday of its ISO week; monthly, months since its month.
    pub fn dates(&self, anchor: Date, from: Date, to: Date) -> Vec<Date> {
        let start = from.max(anchor);
        let step = i64::from(self.interval.max(1));
        let (base, unit) = match self.freq {
            Freq::Weekly => (monday(anchor), Unit::Week),
            Freq::Monthly => (anchor.first_of_month(), Unit::Month),
        };
        // Period k (weeks or months since the anchor's) starts on `period(k)`.
        let period = |k: i64| -> Option<Date> {
            let span = match unit {
                Unit::Week => Span::new().try_weeks(k),
                _ => Span::new().try_months(k),
            };
            base.checked_add(span.ok()?).ok()
        };
        let elapsed = start.since((unit, base)).map_or(0, |s| match unit {
            Unit::Week => i64::from(s.get_weeks()),
            _ => i64::from(s.get_months()),
        });
        let mut k = (elapsed + step - 1).div_euclid(step) * step;
        let mut out = Vec::new();
        while let Some(first) = period(k).filter(|p| *p <= to) {
            out.extend(
                self.days_in(first)
                    .into_iter()
                    .filter(|d| (start..=to).contains(d)),
            );
            k += step;
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// [`Schedule::dates`] moved onto the agency's calendar: a date on a day
    /// off (no working windows that weekday) or a holiday moves to the next
    /// working day within [`MAX_SHIFT_DAYS`] (or stays if there is none).
    /// Ascending, deduplicated, and within `[from, to]` after moving, so a
    /// rule date just before `from` can move into range.
    pub fn occurrences(&self, cal: &Calendar, anchor: Date, from: Date, to: Date) -> Vec<Date> {
        let early = add_days(from, -MAX_SHIFT_DAYS).unwrap_or(Date::MIN);
        let moved: BTreeSet<Date> = self
            .dates(anchor, early, to)
            .into_iter()
            .map(|d| next_working_day(cal, d))
            .filter(|d| (from..=to).contains(d))
            .collect();
        moved.into_iter().collect()
    }

    /// The rule's days in the week or month that starts on `first`.
    fn days_in(&self, first: Date) -> Vec<Date> {
        let month = first.month() as u8;
        match (self.freq, self.nth, self.month_day) {
            (Freq::Weekly, _, _) => {
                let offset = |d: &Weekday| add_days(first, day_index(*d) as i64);
                self.by_day.iter().filter_map(offset).collect()
            }
            _ if !self.by_month.is_empty() && !self.by_month.contains(&month) => Vec::new(),
            (_, Some(n), _) => {
                let nth = |d: &Weekday| first.nth_weekday_of_month(n, *d).ok();
                self.by_day.iter().filter_map(nth).collect()
            }
            (_, _, Some(-1)) => vec![first.last_of_month()],
            (_, _, Some(d)) => Date::new(first.year(), first.month(), d)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rrule())
    }
}

impl FromStr for Schedule {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Schedule, CoreError> {
        Schedule::parse(s)
    }
}

impl TryFrom<String> for Schedule {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Schedule, CoreError> {
        Schedule::parse(&s)
    }
}

impl From<Schedule> for String {
    fn from(s: Schedule) -> String {
        s.rrule()
    }
}

/// A validation error of the `schedule` field.
fn fail<T>(message: impl Into<String>) -> Result<T, CoreError> {
    Err(CoreError::invalid("schedule", message))
}

/// A rule part's number in `lo..=hi`, or `default` when the part is absent.
fn int(v: Option<&str>, what: &str, lo: i32, hi: i32, default: i32) -> Result<i32, CoreError> {
    match v.map(|v| (v, number(v))) {
        None => Ok(default),
        Some((_, Some(n))) if (lo..=hi).contains(&n) => Ok(n),
        Some((v, _)) => fail(format!(
            "{what} must be a whole number from {lo} to {hi}, not {v:?}"
        )),
    }
}

/// One to three ASCII digits (no sign).
fn number(v: &str) -> Option<i32> {
    let ok = (1..=3).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit());
    v.parse().ok().filter(|_| ok)
}

/// `TU`, `2TU`, `+2TU`, `-1FR` → (ordinal, weekday); the text is uppercase.
fn parse_day(item: &str) -> Option<(Option<i8>, Weekday)> {
    let split = item.len().checked_sub(2)?;
    let (ord, code) = (item.get(..split)?, item.get(split..)?);
    let idx = DAY_CODES.split(' ').position(|c| c == code)?;
    let day = Weekday::from_monday_zero_offset(idx as i8).ok()?;
    let (sign, digits) = match ord.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None if ord.is_empty() => return Some((None, day)),
        None => (1, ord.strip_prefix('+').unwrap_or(ord)),
    };
    Some((Some(i8::try_from(sign * number(digits)?).ok()?), day))
}

fn day_index(d: Weekday) -> usize {
    d.to_monday_zero_offset() as usize
}

/// The `i`th space-separated word of `list`.
fn word(list: &'static str, i: usize) -> &'static str {
    list.split(' ').nth(i).unwrap_or("?")
}

fn add_days(d: Date, n: i64) -> Option<Date> {
    d.checked_add(Span::new().try_days(n).ok()?).ok()
}

fn monday(d: Date) -> Date {
    add_days(d, -(day_index(d.weekday()) as i64)).unwrap_or(d)
}

/// `d` itself if the agency works that day, else the next day it does
/// within [`MAX_SHIFT_DAYS`], else `d`.
fn next_working_day(cal: &Calendar, d: Date) -> Date {
    let working =
        |d: &Date| !cal.week[day_index(d.weekday())].is_empty() && !cal.holidays.contains(d);
    (0..=MAX_SHIFT_DAYS)
        .filter_map(|n| add_days(d, n))
        .find(working)
        .unwrap_or(d)
}

/// "a", "a and b", "a, b and c".
fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// A day of the month: 1 → "1st", 22 → "22nd", 13 → "13th".
fn ordinal(n: i8) -> String {
    let suffix = match n {
        1 | 21 | 31 => "st",
        2 | 22 => "nd",
        3 | 23 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// Runs a table of `rule | anchor | from | to | expected dates` lines.
    fn check(table: &str, run: impl Fn(&Schedule, Date, Date, Date) -> Vec<Date>) {
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let s = Schedule::parse(cols[0]).unwrap();
            let want: Vec<Date> = cols[4].split_whitespace().map(d).collect();
            assert_eq!(run(&s, d(cols[1]), d(cols[2]), d(cols[3])), want, "{line}");
        }
    }

    #[test]
    fn parses_normalises_and_round_trips() {
        let table = "
            FREQ=WEEKLY;BYDAY=MO => FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0
            rrule:freq=weekly; interval=2 ; byday=th,mo,mo;byminute=30; => FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=30
            FREQ=WEEKLY;INTERVAL=1;BYDAY=SU,SA => FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=9;BYMINUTE=0
            RRULE:FREQ=MONTHLY;BYDAY=+2TU;BYMONTH=10,1,7,4,4;BYHOUR=14 => FREQ=MONTHLY;BYDAY=2TU;BYMONTH=1,4,7,10;BYHOUR=14;BYMINUTE=0
            FREQ=MONTHLY;BYDAY=-1FR;BYMINUTE=05 => FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=9;BYMINUTE=5
            FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=0 => FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=0;BYMINUTE=0
            FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=28;BYHOUR=23;BYMINUTE=59 => FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=28;BYHOUR=23;BYMINUTE=59";
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (input, canonical) = line.split_once(" => ").unwrap();
            let s = Schedule::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(s.rrule(), canonical, "{input}");
            assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s, "{input}");
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{canonical}\""));
            assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
        }
        let quarterly = Schedule::parse("FREQ=MONTHLY;BYDAY=2TU;BYMONTH=1,4,7,10;BYHOUR=14");
        let expected = Schedule {
            freq: Freq::Monthly,
            interval: 1,
            by_day: vec![Weekday::Tuesday],
            nth: Some(2),
            month_day: None,
            by_month: vec![1, 4, 7, 10],
            hour: 14,
            minute: 0,
        };
        assert_eq!(quarterly, Ok(expected));
        assert!(serde_json::from_str::<Schedule>("\"FREQ=DAILY\"").is_err());
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        let long = format!("FREQ=WEEKLY;BYDAY=MO{}", " ".repeat(181));
        let cases = [
            ("", "empty"),
            (" RRULE: ", "empty"),
            (long.as_str(), "200"),
            ("FREQ=WEEKLY;BYDAY=MO;COUNT=5", "\"COUNT\"; use FREQ"),
            ("FREQ=WEEKLY;BYDAY", "KEY=VALUE"),
            ("BYDAY=MO", "FREQ is missing"),
            ("FREQ=DAILY", "DAILY/YEARLY"),
            ("FREQ=HOURLY", "unknown FREQ"),
            ("FREQ=WEEKLY;BYDAY=MO;byday=TU", "twice"),
            ("FREQ=WEEKLY;BYDAY=MO;INTERVAL=0", "INTERVAL"),
            ("FREQ=WEEKLY;BYDAY=MO;INTERVAL=two", "INTERVAL"),
            ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=+9", "BYHOUR"),
            ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=24", "BYHOUR"),
            ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,10", "BYHOUR"),
            ("FREQ=WEEKLY;BYDAY=MO;BYMINUTE=60", "BYMINUTE"),
            ("FREQ=WEEKLY", "needs BYDAY"),
            ("FREQ=WEEKLY;BYDAY=2TU", "ordinal"),
            ("FREQ=WEEKLY;BYDAY=MÖ", "unknown weekday"),
            ("FREQ=WEEKLY;BYDAY=MO;BYMONTH=1", "only with FREQ=MONTHLY"),
            ("FREQ=MONTHLY", "needs BYDAY"),
            ("FREQ=MONTHLY;BYDAY=2TU;BYMONTHDAY=1", "not both"),
            ("FREQ=MONTHLY;BYDAY=2TU,3TU", "one BYDAY"),
            ("FREQ=MONTHLY;BYDAY=TU", "needs an ordinal"),
            ("FREQ=MONTHLY;BYDAY=5TU", "1 to 4"),
            ("FREQ=MONTHLY;BYDAY=+-1TU", "unknown weekday"),
            ("FREQ=MONTHLY;BYMONTHDAY=29", "BYMONTHDAY"),
            ("FREQ=MONTHLY;BYMONTHDAY=1;BYMONTH=13", "BYMONTH"),
        ];
        for (input, word) in cases {
            let e = Schedule::parse(input).expect_err(input);
            assert!(matches!(&e, CoreError::Invalid { field, .. } if field == "schedule"));
            assert!(e.to_string().contains(word), "{input:?}: {e}");
        }
    }

    #[test]
    fn describes_in_plain_english() {
        let table = "
            FREQ=WEEKLY;BYDAY=MO;BYHOUR=10 => every Monday at 10:00
            FREQ=WEEKLY;INTERVAL=2;BYDAY=TH,MO;BYMINUTE=30 => every 2 weeks on Monday and Thursday at 09:30
            FREQ=WEEKLY;BYDAY=MO,WE,FR => every Monday, Wednesday and Friday at 09:00
            FREQ=MONTHLY;BYDAY=2TU;BYMONTH=1,4,7,10;BYHOUR=14 => on the second Tuesday of January, April, July and October at 14:00
            FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=16 => on the last day of every month at 16:00
            FREQ=MONTHLY;BYDAY=1TH;BYHOUR=15 => on the first Thursday of every month at 15:00
            FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR => on the last Friday of every 2 months at 09:00
            FREQ=MONTHLY;BYMONTHDAY=22;BYHOUR=8;BYMINUTE=5 => on the 22nd of every month at 08:05
            FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=11;BYMONTH=1,7 => on the 11th of every 6 months (January and July only) at 09:00";
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (rule, words) = line.split_once(" => ").unwrap();
            assert_eq!(Schedule::parse(rule).unwrap().describe(), words, "{rule}");
        }
    }

    #[test]
    fn dates_follow_the_rule_from_the_anchor() {
        // Weekly; INTERVAL=2 anchored on a Wednesday counts that week (its
        // Monday is before the anchor) and every second one after.
        // Monthly: nth and last weekday, last day (February 2027 and leap
        // 2028), quarterly, INTERVAL=3 from the anchor's month.
        check(
            "
            FREQ=WEEKLY;BYDAY=TH,MO | 2026-01-01 | 2026-03-01 | 2026-03-12 | 2026-03-02 2026-03-05 2026-03-09 2026-03-12
            FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH | 2026-03-04 | 2026-03-01 | 2026-03-31 | 2026-03-05 2026-03-16 2026-03-19 2026-03-30
            FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH | 2026-03-09 | 2026-03-01 | 2026-03-31 | 2026-03-09 2026-03-12 2026-03-23 2026-03-26
            FREQ=WEEKLY;BYDAY=FR | 2026-03-20 | 2026-03-01 | 2026-03-19 |
            FREQ=WEEKLY;BYDAY=FR | 2026-01-01 | 2026-03-31 | 2026-03-01 |
            FREQ=MONTHLY;BYDAY=1TH | 2026-01-01 | 2026-01-01 | 2026-04-30 | 2026-01-01 2026-02-05 2026-03-05 2026-04-02
            FREQ=MONTHLY;BYDAY=-1FR | 2026-01-01 | 2026-01-01 | 2026-03-31 | 2026-01-30 2026-02-27 2026-03-27
            FREQ=MONTHLY;BYMONTHDAY=-1 | 2027-01-01 | 2027-02-01 | 2027-03-01 | 2027-02-28
            FREQ=MONTHLY;BYMONTHDAY=-1 | 2027-01-01 | 2028-02-01 | 2028-02-29 | 2028-02-29
            FREQ=MONTHLY;BYDAY=2TU;BYMONTH=1,4,7,10 | 2026-01-01 | 2026-01-01 | 2026-12-31 | 2026-01-13 2026-04-14 2026-07-14 2026-10-13
            FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15 | 2026-02-20 | 2026-01-01 | 2026-12-31 | 2026-05-15 2026-08-15 2026-11-15
            FREQ=MONTHLY;BYMONTHDAY=15 | 2026-03-15 | 2026-03-15 | 2026-03-15 | 2026-03-15",
            |s, anchor, from, to| s.dates(anchor, from, to),
        );
    }

    #[test]
    fn occurrences_move_onto_working_days() {
        let mut cal = Calendar::default_utc();
        cal.holidays.insert(d("2026-03-09"));
        // Monday 9 March is a holiday: Tuesday. Saturday 1 August: Monday 3
        // August, also when `from` is past the 1st, but never from a rule
        // date before the anchor. A weekend lands on one day (the holiday
        // pushes it to the 10th); the next weekend moves past `to`.
        check(
            "
            FREQ=WEEKLY;BYDAY=MO | 2026-03-02 | 2026-03-01 | 2026-03-20 | 2026-03-02 2026-03-10 2026-03-16
            FREQ=MONTHLY;BYMONTHDAY=1 | 2026-01-01 | 2026-08-01 | 2026-08-31 | 2026-08-03
            FREQ=MONTHLY;BYMONTHDAY=1 | 2026-01-01 | 2026-08-02 | 2026-08-31 | 2026-08-03
            FREQ=MONTHLY;BYMONTHDAY=1 | 2026-01-01 | 2026-08-04 | 2026-08-31 |
            FREQ=MONTHLY;BYMONTHDAY=1 | 2026-08-02 | 2026-08-01 | 2026-08-31 |
            FREQ=WEEKLY;BYDAY=SA,SU | 2026-03-02 | 2026-03-01 | 2026-03-15 | 2026-03-10",
            |s, anchor, from, to| s.occurrences(&cal, anchor, from, to),
        );
        // No working day within 14 days: the rule date stays.
        let mut closed = cal.clone();
        closed.week = Default::default();
        check(
            "FREQ=WEEKLY;BYDAY=SA | 2026-03-01 | 2026-03-01 | 2026-03-14 | 2026-03-07 2026-03-14",
            |s, anchor, from, to| s.occurrences(&closed, anchor, from, to),
        );
    }
}
