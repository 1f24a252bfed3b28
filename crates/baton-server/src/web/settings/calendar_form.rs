//! The business-hours form as typed: working windows per weekday, the
//! business day's length and the holidays, read into a calendar with each
//! refusal at its field.

use std::collections::BTreeMap;

use baton_core::calendar::{Calendar, DAY_KEYS, DEFAULT_DAY_MINUTES};
use baton_core::CoreError;
use baton_store::calendars::CalendarDoc;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::api::calendar::MAX_HOLIDAYS;
use crate::web::refusal::sentence;

/// Weekday names in the order of [`DAY_KEYS`] (Monday first).
const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

// ------------------------------------------------------------------- form --

/// The calendar form as sent: the time zone, the windows per weekday
/// (`hours_mon` … `hours_sun`), the business day's length and the holidays.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CalendarFields {
    timezone: String,
    hours_mon: String,
    hours_tue: String,
    hours_wed: String,
    hours_thu: String,
    hours_fri: String,
    hours_sat: String,
    hours_sun: String,
    day_hours: String,
    holidays: String,
}

/// One weekday's row of the form.
pub struct DayRow {
    pub key: &'static str,
    pub name: &'static str,
    /// The windows as typed, e.g. `09:00-12:00, 13:00-17:00`; empty = day off.
    pub value: String,
    pub error: Option<String>,
}

/// The calendar form as shown or typed, with a message per refused field.
pub struct CalendarForm {
    pub timezone: String,
    pub timezone_error: Option<String>,
    pub days: Vec<DayRow>,
    /// A refusal about the week as a whole ("no working time").
    pub hours_error: Option<String>,
    /// Business-day length in hours: `8`, `7.5` or `7:30`.
    pub day_hours: String,
    pub day_hours_error: Option<String>,
    /// One `YYYY-MM-DD` per line.
    pub holidays: String,
    pub holidays_error: Option<String>,
}

impl CalendarForm {
    /// The form of a saved calendar.
    pub(super) fn of(c: &Calendar) -> CalendarForm {
        CalendarForm {
            timezone: c.timezone.clone(),
            timezone_error: None,
            days: DAY_KEYS
                .iter()
                .zip(DAY_NAMES)
                .zip(&c.week)
                .map(|((key, name), windows)| DayRow {
                    key,
                    name,
                    value: windows
                        .iter()
                        .map(|w| format!("{}-{}", hhmm(w.start_min), hhmm(w.end_min)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    error: None,
                })
                .collect(),
            hours_error: None,
            day_hours: hours_text(c.day_minutes),
            day_hours_error: None,
            holidays: c
                .holidays
                .iter()
                .map(Date::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            holidays_error: None,
        }
    }

    /// What the browser sent, nothing checked yet.
    pub(super) fn typed(f: CalendarFields) -> CalendarForm {
        // In the order of DAY_KEYS.
        let week = [
            f.hours_mon,
            f.hours_tue,
            f.hours_wed,
            f.hours_thu,
            f.hours_fri,
            f.hours_sat,
            f.hours_sun,
        ];
        CalendarForm {
            timezone: f.timezone,
            timezone_error: None,
            days: DAY_KEYS
                .iter()
                .zip(DAY_NAMES)
                .zip(week)
                .map(|((key, name), value)| DayRow {
                    key,
                    name,
                    value,
                    error: None,
                })
                .collect(),
            hours_error: None,
            day_hours: f.day_hours,
            day_hours_error: None,
            holidays: f.holidays.replace("\r\n", "\n"),
            holidays_error: None,
        }
    }

    pub(super) fn has_errors(&self) -> bool {
        self.timezone_error.is_some()
            || self.hours_error.is_some()
            || self.day_hours_error.is_some()
            || self.holidays_error.is_some()
            || self.days.iter().any(|d| d.error.is_some())
    }

    /// Checks every field, noting a message next to each wrong one, and
    /// returns the calendar to save when all are right.
    pub(super) fn check(&mut self) -> Option<CalendarDoc> {
        let timezone = self.timezone.trim().to_string();
        if timezone.is_empty() {
            self.timezone_error = Some("Enter a time zone, such as Europe/Berlin.".into());
        } else if TimeZone::get(&timezone).is_err() {
            self.timezone_error = Some(format!(
                "“{timezone}” is not a time zone Baton knows. Use an IANA name such as Europe/Berlin."
            ));
        }
        let mut hours = BTreeMap::new();
        for day in &mut self.days {
            match parse_windows(&day.value) {
                Err(message) => day.error = Some(message),
                Ok(pairs) if pairs.is_empty() => {}
                Ok(pairs) => {
                    // The day on its own, for a message about this row only.
                    let one = BTreeMap::from([(day.key.to_string(), pairs.clone())]);
                    match Calendar::from_parts("UTC", &one, &[]) {
                        Ok(_) => {
                            hours.insert(day.key.to_string(), pairs);
                        }
                        Err(e) => day.error = Some(day_message(day.key, e)),
                    }
                }
            }
        }
        if hours.is_empty() && self.days.iter().all(|d| d.error.is_none()) {
            self.hours_error = Some(
                "Give at least one day working hours: the calendar has no working time.".into(),
            );
        }
        let day_minutes = match parse_day_hours(&self.day_hours) {
            Ok(m) => m,
            Err(message) => {
                self.day_hours_error = Some(message);
                DEFAULT_DAY_MINUTES
            }
        };
        let holidays = match parse_holidays(&self.holidays) {
            Ok(h) => h,
            Err(message) => {
                self.holidays_error = Some(message);
                Vec::new()
            }
        };
        if self.has_errors() {
            return None;
        }
        Some(CalendarDoc {
            timezone,
            hours,
            holidays,
            day_minutes,
        })
    }

    /// Puts a refusal of the store next to the field it names.
    pub(super) fn refuse(&mut self, field: &str, message: &str) {
        let text = sentence(message);
        match field {
            "timezone" => self.timezone_error = Some(text),
            "holidays" => self.holidays_error = Some(text),
            "day_minutes" => self.day_hours_error = Some(text),
            _ => self.hours_error = Some(text),
        }
    }
}

/// `09:00-12:00, 13:00-17:00` → `[["09:00","12:00"],["13:00","17:00"]]`.
/// Windows are separated by commas or semicolons; a dash (or en dash)
/// separates start and end; `9:00` and `9` read as `09:00`. The times
/// themselves (range, order, overlaps) are checked by the calendar.
fn parse_windows(text: &str) -> Result<Vec<[String; 2]>, String> {
    let mut out = Vec::new();
    for part in text.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((start, end)) = part.split_once(['-', '–', '—']) else {
            return Err(format!(
                "“{part}” is not a window; write it as start-end, like 09:00-17:00."
            ));
        };
        let (Some(start), Some(end)) = (time_of_day(start), time_of_day(end)) else {
            return Err(format!(
                "“{part}” is not a window; write it as start-end, like 09:00-17:00."
            ));
        };
        out.push([start, end]);
    }
    if out.len() > 24 {
        return Err("At most 24 windows a day.".into());
    }
    Ok(out)
}

/// `9`, `09`, `9:30` or `09:30` → `09:30`; anything else is `None`.
fn time_of_day(text: &str) -> Option<String> {
    let text = text.trim();
    let (h, m) = text.split_once(':').unwrap_or((text, "00"));
    let digits = |s: &str, max_len: usize| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return None;
    }
    Some(format!("{h:0>2}:{m}"))
}

/// A calendar refusal about one weekday, without the weekday key it starts
/// with (the row already names the day).
fn day_message(key: &str, e: CoreError) -> String {
    let message = match e {
        CoreError::Invalid { message, .. } => message,
        CoreError::Conflict(message) => message,
    };
    let message = message
        .strip_prefix(key)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(&message);
    sentence(message)
}

/// Business-day length: `8`, `7.5` or `7:30` hours → minutes (1 to 24 h).
fn parse_day_hours(text: &str) -> Result<u32, String> {
    let bad = || "Enter the hours of one business day, 1 to 24, like 8, 7.5 or 7:30.".to_string();
    let text = text.trim();
    let minutes = if let Some((h, m)) = text.split_once(':') {
        let h: u32 = h.trim().parse().map_err(|_| bad())?;
        let m: u32 = m.trim().parse().map_err(|_| bad())?;
        if m > 59 {
            return Err(bad());
        }
        h.saturating_mul(60).saturating_add(m)
    } else {
        let h: f64 = text.replace(',', ".").parse().map_err(|_| bad())?;
        if !h.is_finite() || !(0.0..=1_000.0).contains(&h) {
            return Err(bad());
        }
        (h * 60.0).round() as u32
    };
    if (60..=1440).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(bad())
    }
}

/// Minutes → the form's hours text: `8`, or `7:30` for part hours.
fn hours_text(minutes: u32) -> String {
    if minutes.is_multiple_of(60) {
        (minutes / 60).to_string()
    } else {
        format!("{}:{:02}", minutes / 60, minutes % 60)
    }
}

/// Minutes → `8 h` or `7 h 30 min`.
pub(super) fn hours_words(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("{h} h"),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// One `YYYY-MM-DD` per line (blank lines ignored); sorted, each date once.
fn parse_holidays(text: &str) -> Result<Vec<String>, String> {
    let mut dates = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let strict = line.len() == 10
            && line.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        match line.parse::<Date>() {
            Ok(d) if strict => {
                dates.insert(d);
            }
            _ => {
                return Err(format!(
                    "Line {}: “{line}” is not a date; write one date per line as YYYY-MM-DD.",
                    i + 1
                ))
            }
        }
    }
    if dates.len() > MAX_HOLIDAYS {
        return Err(format!(
            "{} holidays are more than the {MAX_HOLIDAYS} a calendar may hold.",
            dates.len()
        ));
    }
    Ok(dates.iter().map(Date::to_string).collect())
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<[String; 2]> {
        v.iter()
            .map(|(a, b)| [a.to_string(), b.to_string()])
            .collect()
    }

    #[test]
    fn windows_read_as_typed() {
        assert_eq!(parse_windows("").unwrap(), pairs(&[]));
        assert_eq!(parse_windows("  ,  ").unwrap(), pairs(&[]));
        assert_eq!(
            parse_windows("09:00-12:00, 13:00-17:00").unwrap(),
            pairs(&[("09:00", "12:00"), ("13:00", "17:00")])
        );
        assert_eq!(
            parse_windows("9 – 12:30; 13:30 - 24:00").unwrap(),
            pairs(&[("09:00", "12:30"), ("13:30", "24:00")])
        );
        for bad in [
            "9to5",
            "09:00",
            "09:00-",
            "a-b",
            "9:0-10:00",
            "123:00-130:00",
        ] {
            assert!(parse_windows(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_lengths() {
        assert_eq!(parse_day_hours("8"), Ok(480));
        assert_eq!(parse_day_hours(" 7.5 "), Ok(450));
        assert_eq!(parse_day_hours("7,5"), Ok(450));
        assert_eq!(parse_day_hours("7:30"), Ok(450));
        assert_eq!(parse_day_hours("24"), Ok(1440));
        for bad in ["", "0", "0.5", "25", "-8", "NaN", "inf", "7:60", "eight"] {
            assert!(parse_day_hours(bad).is_err(), "{bad}");
        }
        for m in [60, 450, 480, 470, 1440] {
            assert_eq!(parse_day_hours(&hours_text(m)), Ok(m));
        }
        assert_eq!(hours_words(480), "8 h");
        assert_eq!(hours_words(450), "7 h 30 min");
    }

    #[test]
    fn holidays_one_per_line() {
        assert_eq!(
            parse_holidays("2026-12-25\r\n\n 2026-01-01 \n2026-12-25").unwrap(),
            vec!["2026-01-01", "2026-12-25"]
        );
        let err = parse_holidays("2026-01-01\n2026-02-30").unwrap_err();
        assert!(err.starts_with("Line 2:"), "{err}");
        assert!(parse_holidays("20261225").is_err());
        assert!(parse_holidays("2026-1-1").is_err());
    }

    #[test]
    fn overlaps_are_named_on_their_row() {
        let mut f = CalendarForm::of(&Calendar::default_utc());
        f.days[0].value = "09:00-13:00, 12:00-17:00".into();
        assert!(f.check().is_none());
        let e = f.days[0].error.clone().unwrap();
        assert!(
            e.starts_with("Windows 09:00-13:00 and 12:00-17:00 overlap"),
            "{e}"
        );
        assert!(f.days[1].error.is_none());

        let mut f = CalendarForm::of(&Calendar::default_utc());
        for d in &mut f.days {
            d.value.clear();
        }
        assert!(f.check().is_none());
        assert!(f.hours_error.is_some());

        let mut f = CalendarForm::of(&Calendar::default_utc());
        f.timezone = "Mars/Olympus".into();
        assert!(f.check().is_none());
        assert!(f.timezone_error.is_some());

        let mut f = CalendarForm::of(&Calendar::default_utc());
        f.timezone = " Europe/Berlin ".into();
        let doc = f.check().expect("valid");
        assert_eq!(doc.timezone, "Europe/Berlin");
        assert_eq!(
            doc.calendar().unwrap().hours_map(),
            Calendar::default_utc().hours_map()
        );
    }
}
