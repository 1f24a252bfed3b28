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

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::calendar::Calendar;
use baton_core::policy::{Action, Area, Subject};
use baton_core::CoreError;
use baton_store::agencies::Agency;
use baton_store::calendars;
use baton_store::StoreError;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::calendar_form::{hours_words, CalendarFields, CalendarForm};
use crate::api::calendar::{import_holidays, MAX_HOLIDAYS};
use crate::auth::session::WebSession;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::{csrf_refused, multipart_refused, QueryData, UNREADABLE_UPLOAD};
use crate::web::layout::{agency_of, notice_text, render, see_other, Layout};
use crate::web::{refusal, WebError};

const PATH: &str = "/settings/calendar";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page).post(save))
        .route("/settings/calendar/import", post(import))
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
        can_edit: session.administers(Area::BusinessHours),
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
        zones: super::general::COMMON_ZONES,
        max_holidays: MAX_HOLIDAYS,
    };
    Ok(render(view.status, &page))
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
    CsrfForm(form): CsrfForm<CalendarFields>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::BusinessHours))?;
    let mut typed = CalendarForm::typed(form);
    if let Some(doc) = typed.check() {
        let saved = calendars::put(session.cx(&state), doc).await;
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
    session.may(Action::Administer, Subject::Setting(Area::BusinessHours))?;
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
                        &session.member().agency_id,
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
                            format!(
                                "This file could not be imported. {}",
                                refusal::sentence(&message)
                            ),
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
