//! Settings → Business hours (`/settings/calendar`): the agency's
//! business-hours calendar that SOP SLAs and business-time KPIs count on.
//! Admins edit the time zone, the working windows per weekday, the length
//! of a business day and the holidays, and upload an iCalendar (.ics) file
//! whose all-day dates become holidays; every other member reads it.
//!
//! The form is plain text (`09:00-12:00, 13:00-17:00` per weekday, one
//! `YYYY-MM-DD` per line) so it needs no JavaScript. Each field is checked on
//! its own first, so a refusal names the field it is about and keeps what
//! was typed; the store validates the whole calendar again when saving.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::calendar::{Calendar, DAY_KEYS, DEFAULT_DAY_MINUTES};
use baton_core::CoreError;
use baton_store::agencies::Agency;
use baton_store::calendars::{self, CalendarDoc};
use baton_store::StoreError;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::form::{
    check_csrf, csrf_refused, multipart_refused, FormData, QueryData, UNREADABLE_UPLOAD,
};
use super::layout::{agency_of, notice_text, render, see_other, Layout};
use super::WebError;
use crate::api::calendar::{import_holidays, MAX_HOLIDAYS};
use crate::auth::session::WebSession;
use crate::error::ApiError;
use crate::state::AppState;

const PATH: &str = "/settings/calendar";

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

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page).post(save))
        .route("/settings/calendar/import", post(import))
}

// ------------------------------------------------------------------- form --

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
    fn of(c: &Calendar) -> CalendarForm {
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
    fn typed(f: &FormData) -> CalendarForm {
        CalendarForm {
            timezone: f.string("timezone"),
            timezone_error: None,
            days: DAY_KEYS
                .iter()
                .zip(DAY_NAMES)
                .map(|(key, name)| DayRow {
                    key,
                    name,
                    value: f.string(&format!("hours_{key}")),
                    error: None,
                })
                .collect(),
            hours_error: None,
            day_hours: f.string("day_hours"),
            day_hours_error: None,
            holidays: f.get("holidays").replace("\r\n", "\n"),
            holidays_error: None,
        }
    }

    fn has_errors(&self) -> bool {
        self.timezone_error.is_some()
            || self.hours_error.is_some()
            || self.day_hours_error.is_some()
            || self.holidays_error.is_some()
            || self.days.iter().any(|d| d.error.is_some())
    }

    /// Checks every field, noting a message next to each wrong one, and
    /// returns the calendar to save when all are right.
    fn check(&mut self) -> Option<CalendarDoc> {
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
    fn refuse(&mut self, field: &str, message: &str) {
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

/// Capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
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
fn hours_words(minutes: u32) -> String {
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

// ------------------------------------------------------------------- page --

/// "1 business day from Friday 16:00 ends Monday 16:00", on the saved
/// calendar, from the coming Friday in its time zone.
pub struct Preview {
    pub sentence: String,
    pub detail: String,
}

fn preview(c: &Calendar, now: i64) -> Option<Preview> {
    let tz = TimeZone::get(&c.timezone).unwrap_or(TimeZone::UTC);
    let today = Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned(tz.clone())
        .date();
    let ahead = (4 - i64::from(today.weekday().to_monday_zero_offset())).rem_euclid(7);
    let friday = today.checked_add(jiff::Span::new().days(ahead)).ok()?;
    let start = friday.at(16, 0, 0, 0).to_zoned(tz.clone()).ok()?;
    let start_ms = start.timestamp().as_millisecond();
    let end_ms = c.add_business(start_ms, c.business_days_ms(1.0));
    let day = hours_words(c.day_minutes);
    if end_ms == i64::MAX {
        return Some(Preview {
            sentence: format!("1 business day ({day}) from Friday 16:00 never ends: the calendar has no working time ahead."),
            detail: String::new(),
        });
    }
    let end = Timestamp::from_millisecond(end_ms).ok()?.to_zoned(tz);
    Some(Preview {
        sentence: format!(
            "1 business day ({day}) from Friday 16:00 ends {}.",
            end.strftime("%A %H:%M")
        ),
        detail: format!(
            "Counted in {} from {} to {}, skipping nights, days off and holidays.",
            c.timezone,
            start.strftime("%A %-d %B %Y, %H:%M"),
            end.strftime("%A %-d %B %Y, %H:%M"),
        ),
    })
}

/// The upload form's state.
#[derive(Default)]
pub struct ImportForm {
    pub error: Option<String>,
    pub replace: bool,
}

#[derive(Template)]
#[template(path = "settings_calendar.html")]
struct CalendarPage {
    layout: Layout,
    /// The settings section for `access_subnav.html`.
    sub: &'static str,
    can_edit: bool,
    /// `false` while the agency uses the default calendar.
    configured: bool,
    /// The agency's display time zone (Settings → General).
    agency_timezone: String,
    form: CalendarForm,
    import: ImportForm,
    /// The result of the last upload, from the redirect's query.
    import_notice: Option<String>,
    preview: Option<Preview>,
    /// The saved business-day length in words (`8 h`).
    day_length: String,
    /// The saved holidays with their weekday, for the read-only view.
    saved_holidays: Vec<String>,
    zones: &'static [&'static str],
    max_holidays: usize,
}

/// The notices of this page, then the app's shared ones.
fn notice(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "calendar_saved" => Some("Business hours saved."),
        other => notice_text(other),
    }
}

/// The sentence after an upload, from the redirect's counts (numbers only,
/// so the query cannot put text on the page).
fn import_notice(q: &QueryData) -> Option<String> {
    import_notice_from(|k| q.get(k))
}

fn import_notice_from<'q>(get: impl Fn(&str) -> Option<&'q str>) -> Option<String> {
    if get("notice") != Some("holidays_imported") {
        return None;
    }
    let n = |k: &str| get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let (added, removed) = (n("added"), n("removed"));
    let days = |n: usize| if n == 1 { "holiday" } else { "holidays" };
    Some(match (added, removed) {
        (0, 0) => "Nothing changed: every all-day date in the file is already a holiday.".into(),
        (a, 0) => format!("{a} {} added from the file.", days(a)),
        (a, r) => format!("Holidays replaced by the file: {a} added, {r} removed."),
    })
}

struct View {
    status: StatusCode,
    form: Option<CalendarForm>,
    import: ImportForm,
}

async fn show(
    state: &AppState,
    session: &WebSession,
    agency: &Agency,
    q: Option<&QueryData>,
    view: View,
) -> Result<Response, WebError> {
    let (saved, configured) = calendars::get(&state.db, session.agency_id()).await?;
    let mut layout = Layout::app(agency, session, "Business hours", "settings");
    layout.notice = notice(q.and_then(|q| q.get("notice")));
    let page = CalendarPage {
        layout,
        sub: "calendar",
        can_edit: session.member().is_admin,
        configured,
        agency_timezone: agency.timezone.clone(),
        form: view.form.unwrap_or_else(|| CalendarForm::of(&saved)),
        import: view.import,
        import_notice: q.and_then(import_notice),
        preview: preview(&saved, state.now()),
        day_length: hours_words(saved.day_minutes),
        saved_holidays: saved
            .holidays
            .iter()
            .map(|d| format!("{d} ({})", d.strftime("%A")))
            .collect(),
        zones: super::settings::COMMON_ZONES,
        max_holidays: MAX_HOLIDAYS,
    };
    Ok(render(view.status, &page))
}

fn require_admin(session: &WebSession) -> Result<(), WebError> {
    if session.member().is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Only agency admins can change the business hours.".into(),
        ))
    }
}

/// `GET /settings/calendar`: the form for admins, the calendar read-only
/// for everyone else.
async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let view = View {
        status: StatusCode::OK,
        form: None,
        import: ImportForm::default(),
    };
    show(&state, &session, &agency, Some(&q), view).await
}

/// `POST /settings/calendar` (admins): saves the whole calendar, or shows
/// the form again with what was typed and a message next to each wrong field.
async fn save(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session)?;
    let mut typed = CalendarForm::typed(&form);
    if let Some(doc) = typed.check() {
        let saved = calendars::put(
            &state.db,
            session.agency_id(),
            &session.actor,
            state.now(),
            doc,
        )
        .await;
        match saved {
            Ok(_) => return Ok(see_other("/settings/calendar?notice=calendar_saved")),
            Err(StoreError::Core(CoreError::Invalid { field, message })) => {
                typed.refuse(&field, &message);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let agency = agency_of(&state, &session).await?;
    let view = View {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        form: Some(typed),
        import: ImportForm::default(),
    };
    show(&state, &session, &agency, None, view).await
}

/// What the upload form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    replace: bool,
    /// The file's bytes, `None` when no file field came.
    file: Option<Vec<u8>>,
    too_large: bool,
}

/// Reads the multipart upload (`csrf`, `replace`, `file`). The app's body
/// limit applies; going over it is noted, not an error, so the page can say
/// so. `None` when the body is not readable multipart at all.
async fn read_upload(mut multipart: Multipart) -> Option<Upload> {
    let mut up = Upload::default();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                up.too_large = true;
                break;
            }
            Err(_) => return None,
        };
        let name = field.name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    up.too_large = true;
                    return Some(up);
                }
                Err(_) => return None,
            }
        }
        match name.as_str() {
            "csrf" => up.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "replace" => up.replace = true,
            "file" if up.file.is_none() => up.file = Some(bytes),
            _ => {}
        }
    }
    Some(up)
}

/// `POST /settings/calendar/import` (admins, multipart): adds the all-day
/// dates of an uploaded .ics file to the holidays (or replaces them).
async fn import(
    State(state): State<AppState>,
    session: WebSession,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WebError> {
    let multipart = multipart.map_err(|e| multipart_refused(&e))?;
    let up = read_upload(multipart)
        .await
        .ok_or_else(|| WebError::BadRequest(UNREADABLE_UPLOAD.into()))?;
    if !session.csrf_ok(&up.csrf) {
        // The token comes first in the form; a body cut short before it (too
        // large) cannot be trusted either.
        if up.too_large {
            return Err(WebError::PayloadTooLarge);
        }
        return Err(csrf_refused());
    }
    require_admin(&session)?;
    let refused = |status: StatusCode, message: String| View {
        status,
        form: None,
        import: ImportForm {
            error: Some(message),
            replace: up.replace,
        },
    };
    let view = if up.too_large {
        refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The file is larger than {} KiB, more than any holiday calendar needs.",
                state.config.body_limit / 1024
            ),
        )
    } else {
        match up.file.as_deref() {
            None | Some([]) => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose an .ics file to upload.".into(),
            ),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Err(_) => refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "This is not an iCalendar (.ics) file: it is not text.".into(),
                ),
                Ok(text) => {
                    match import_holidays(
                        &state,
                        session.agency_id(),
                        &session.actor,
                        text,
                        up.replace,
                    )
                    .await
                    {
                        Ok(done) => {
                            return Ok(see_other(&format!(
                                "/settings/calendar?notice=holidays_imported&added={}&removed={}",
                                done.added, done.removed
                            )))
                        }
                        Err(ApiError::Invalid { message, .. }) => refused(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("This file could not be imported. {}", sentence(&message)),
                        ),
                        Err(e) => return Err(e.into()),
                    }
                }
            },
        }
    };
    let agency = agency_of(&state, &session).await?;
    show(&state, &session, &agency, None, view).await
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

    #[test]
    fn preview_of_the_default_calendar() {
        // Wednesday 2026-03-04 12:00 UTC: the coming Friday is 2026-03-06.
        let p = preview(&Calendar::default_utc(), 1_772_625_600_000).unwrap();
        assert_eq!(
            p.sentence,
            "1 business day (8 h) from Friday 16:00 ends Monday 16:00."
        );
        assert!(
            p.detail.contains("Friday 6 March 2026, 16:00"),
            "{}",
            p.detail
        );
        assert!(
            p.detail.contains("Monday 9 March 2026, 16:00"),
            "{}",
            p.detail
        );
    }

    #[test]
    fn import_notices_take_numbers_only() {
        let q = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
        };
        assert_eq!(
            import_notice_from(q(&[("notice", "holidays_imported"), ("added", "1")])).unwrap(),
            "1 holiday added from the file."
        );
        assert_eq!(
            import_notice_from(q(&[("notice", "holidays_imported"), ("added", "<b>")])).unwrap(),
            "Nothing changed: every all-day date in the file is already a holiday."
        );
        assert!(import_notice_from(q(&[
            ("notice", "holidays_imported"),
            ("added", "2"),
            ("removed", "3")
        ]))
        .unwrap()
        .contains("2 added, 3 removed"));
        assert!(import_notice_from(q(&[("notice", "calendar_saved")])).is_none());
    }
}
