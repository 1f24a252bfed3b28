//! `/api/v1/agency/calendar`: the agency's business-hours calendar (time
//! zone, weekly working windows, holidays) that SLAs and business-time KPIs
//! are counted on.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use baton_store::calendars::{self, CalendarDoc};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::api_token::ApiCaller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

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
    pub timezone: String,
    #[schema(value_type = Object)]
    pub hours: BTreeMap<String, Vec<[String; 2]>>,
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Default 480 (8 h).
    #[serde(default)]
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

#[utoipa::path(get, operation_id = "getAgencyCalendar", path = "/api/v1/agency/calendar", tag = "agency",
    responses((status = 200, body = CalendarOut)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, caller: ApiCaller) -> ApiResult<Json<CalendarOut>> {
    caller.require(Scope::Read)?;
    let (c, configured) = calendars::get(&state.db, caller.agency_id()).await?;
    Ok(Json(out(CalendarDoc::of(&c), configured)))
}

#[utoipa::path(put, operation_id = "putAgencyCalendar", path = "/api/v1/agency/calendar", tag = "agency",
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
    let c = calendars::put(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        doc,
    )
    .await?;
    Ok(Json(out(CalendarDoc::of(&c), true)))
}
