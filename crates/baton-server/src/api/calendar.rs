//! `/api/v1/agency/calendar`: the agency's business-hours calendar (time
//! zone, weekly working windows, holidays) that SLAs and business-time KPIs
//! are counted on, and the import of holidays from an iCalendar (.ics) file
//! (`POST /api/v1/agency/calendar/holidays/import`, also used by the web
//! app's upload form).

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use baton_core::calendar::Calendar;
use baton_core::types::AgencyId;
use baton_store::calendars::{self, CalendarDoc};
use baton_store::tokens::Scope;
use baton_store::{Actor, Cx};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The most holidays an import may leave on the calendar: far more than any
/// real holiday list, small enough that a file of year-long events cannot
/// bloat the stored calendar (every deadline computation reads it).
pub const MAX_HOLIDAYS: usize = 5_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Working windows per weekday, local time: `{"mon": [["09:00","12:00"],["13:00","17:00"]], …}`.
    #[schema(value_type = Object)]
    pub hours: BTreeMap<String, Vec<[String; 2]>>,
    /// Local dates off, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Length of one business day in business minutes (480 = 8 h).
    pub day_minutes: u32,
    /// `false` while the agency uses the default (Monday–Friday 09:00–17:00 UTC).
    pub configured: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    /// IANA time zone, e.g. `Europe/Berlin`; a name the time zone database
    /// does not know is a 422.
    #[schema(schema_with = super::openapi::timezone_name)]
    pub timezone: String,
    /// Working windows per weekday, local time: `{"mon": [["09:00","12:00"],["13:00","17:00"]], …}`.
    /// A window must end after it starts, a day's windows must not overlap
    /// and some day must have one (422 otherwise).
    #[schema(schema_with = super::openapi::calendar_hours)]
    pub hours: BTreeMap<String, Vec<[String; 2]>>,
    /// Local dates off, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(schema_with = super::openapi::holidays)]
    pub holidays: Vec<String>,
    /// 60–1440 business minutes; default 480 (8 h).
    #[schema(schema_with = super::openapi::day_minutes)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub day_minutes: Option<u32>,
}

fn out(doc: CalendarDoc, configured: bool) -> CalendarOut {
    CalendarOut {
        timezone: doc.timezone,
        hours: doc.hours,
        holidays: doc.holidays,
        day_minutes: doc.day_minutes,
        configured,
    }
}

#[utoipa::path(get, operation_id = "getAgencyCalendar", path = "/agency/calendar", tag = "agency",
    responses((status = 200, body = CalendarOut)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Json<CalendarOut>> {
    caller.require(Scope::Read)?;
    let (c, configured) = calendars::get(&state.db, caller.agency_id()).await?;
    Ok(Json(out(CalendarDoc::of(&c), configured)))
}

#[utoipa::path(put, operation_id = "putAgencyCalendar", path = "/agency/calendar", tag = "agency",
    request_body = CalendarIn, responses((status = 200, body = CalendarOut), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<CalendarIn>,
) -> ApiResult<Json<CalendarOut>> {
    caller.require(Scope::Admin)?;
    let doc = CalendarDoc {
        timezone: b.timezone,
        hours: b.hours,
        holidays: b.holidays,
        day_minutes: b.day_minutes.unwrap_or(480),
    };
    let c = calendars::put(caller.cx(&state), doc).await?;
    Ok(Json(out(CalendarDoc::of(&c), true)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: the file's dates replace the holidays instead of being added.
    #[param(nullable = false)]
    pub replace: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayImportOut {
    /// Dates of the file that were not holidays before.
    pub added: usize,
    /// Holidays dropped because they are not in the file (only with `replace=true`).
    pub removed: usize,
    /// The calendar after the import, as `GET /api/v1/agency/calendar` shows it.
    pub calendar: CalendarOut,
}

/// What an import changed.
pub(crate) struct Imported {
    pub calendar: Calendar,
    pub added: usize,
    pub removed: usize,
}

/// Reads the all-day dates of an iCalendar text and adds them to the
/// agency's holidays (or, with `replace`, makes them the holidays), saving
/// through `calendars::put` so the change is validated and audited. A file
/// that changes nothing writes nothing. Shared by the API and the web form.
pub(crate) async fn import_holidays(
    state: &AppState,
    agency_id: &AgencyId,
    actor: &Actor,
    ics: &str,
    replace: bool,
) -> ApiResult<Imported> {
    let dates = Calendar::holidays_from_ics(ics.strip_prefix('\u{feff}').unwrap_or(ics))?;
    if dates.is_empty() {
        return Err(ApiError::invalid(
            "holidays",
            "the file has no all-day events (DTSTART;VALUE=DATE); timed events are not holidays",
        ));
    }
    let (current, configured) = calendars::get(&state.db, agency_id).await?;
    let file: BTreeSet<Date> = dates.into_iter().collect();
    let added = file.difference(&current.holidays).count();
    let next: BTreeSet<Date> = if replace {
        file
    } else {
        current.holidays.union(&file).copied().collect()
    };
    let removed = current.holidays.difference(&next).count();
    if next.len() > MAX_HOLIDAYS {
        return Err(ApiError::invalid(
            "holidays",
            format!(
                "the calendar would hold {} holidays, more than the {MAX_HOLIDAYS} it may hold",
                next.len()
            ),
        ));
    }
    if added == 0 && removed == 0 && configured {
        return Ok(Imported {
            calendar: current,
            added,
            removed,
        });
    }
    let mut doc = CalendarDoc::of(&current);
    doc.holidays = next.iter().map(Date::to_string).collect();
    let calendar = calendars::put(Cx::new(&state.db, agency_id, actor, state.now()), doc).await?;
    Ok(Imported {
        calendar,
        added,
        removed,
    })
}

/// Whether a `Content-Type` names an iCalendar or plain-text body.
fn is_calendar_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/calendar") || essence.eq_ignore_ascii_case("text/plain")
}

#[utoipa::path(post, operation_id = "importAgencyHolidays", path = "/agency/calendar/holidays/import", tag = "agency",
    params(ImportQuery),
    request_body(content = String, content_type = "text/calendar",
        description = "The iCalendar (.ics) file as is (`text/plain` is accepted too). Its all-day events (`DTSTART;VALUE=DATE`, multi-day ones expanded) become holidays; timed events are ignored."),
    responses((status = 200, body = HolidayImportOut), (status = 403), (status = 413), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<Json<HolidayImportOut>> {
    caller.require(Scope::Admin)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !is_calendar_text(content_type) {
        return Err(ApiError::UnsupportedMediaType(
            "send the .ics file as the body with 'Content-Type: text/calendar' (or text/plain)"
                .into(),
        ));
    }
    // Read through `Bytes` so the app's body limit applies (413).
    let bytes = Bytes::from_request(req, &state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::invalid("body", "the body is not UTF-8 text"))?;
    let done = import_holidays(
        &state,
        &caller.member.agency_id,
        &caller.actor,
        text,
        q.replace.unwrap_or(false),
    )
    .await?;
    Ok(Json(HolidayImportOut {
        added: done.added,
        removed: done.removed,
        calendar: out(CalendarDoc::of(&done.calendar), true),
    }))
}

#[cfg(test)]
mod tests {
    use super::is_calendar_text;

    #[test]
    fn calendar_content_types() {
        for ok in [
            "text/calendar",
            "text/calendar; charset=utf-8",
            "TEXT/Plain;charset=UTF-8",
        ] {
            assert!(is_calendar_text(Some(ok)), "{ok}");
        }
        for bad in ["application/json", "text/html", "text/calendarx", ""] {
            assert!(!is_calendar_text(Some(bad)), "{bad}");
        }
        assert!(!is_calendar_text(None));
    }
}
