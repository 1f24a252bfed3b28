//! The agency's business-hours calendar, one JSON document on the agency
//! row (`timezone`, `hours`, `holidays`, `day_minutes`). Deadlines and the
//! business-time KPIs are computed with it by `baton_core::calendar`.

use std::collections::BTreeMap;

use baton_core::calendar::Calendar;
use baton_core::events;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// The calendar as stored and as the API speaks it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalendarDoc {
    pub timezone: String,
    /// `{"mon": [["09:00","17:00"]], …}`; a day left out has no working time.
    pub hours: BTreeMap<String, Vec<[String; 2]>>,
    /// `YYYY-MM-DD` local dates off.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Length of one business day in business minutes (480 = 8 h).
    #[serde(default = "default_day_minutes")]
    pub day_minutes: u32,
}

fn default_day_minutes() -> u32 {
    480
}

impl CalendarDoc {
    /// Checks the document and builds the calendar it describes.
    pub fn calendar(&self) -> Result<Calendar> {
        let mut c = Calendar::from_parts(&self.timezone, &self.hours, &self.holidays)?;
        if !(60..=1440).contains(&self.day_minutes) {
            return Err(baton_core::CoreError::invalid(
                "day_minutes",
                "a business day is 60 to 1440 minutes",
            )
            .into());
        }
        c.day_minutes = self.day_minutes;
        Ok(c)
    }

    pub fn of(c: &Calendar) -> CalendarDoc {
        CalendarDoc {
            timezone: c.timezone.clone(),
            hours: c.hours_map(),
            holidays: c.holidays.iter().map(|d| d.to_string()).collect(),
            day_minutes: c.day_minutes,
        }
    }
}

/// The agency's calendar and whether the agency set it (`false`: the default).
pub async fn get(db: &Db, agency_id: &str) -> Result<(Calendar, bool)> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, agency_id).await
}

/// [`get`] on a given connection (inside a write).
pub(crate) async fn get_on(
    conn: &mut sqlx::AnyConnection,
    agency_id: &str,
) -> Result<(Calendar, bool)> {
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT calendar FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_optional(conn)
            .await?;
    match stored.ok_or(StoreError::NotFound)? {
        None => Ok((Calendar::default_utc(), false)),
        Some(text) => {
            let doc: CalendarDoc = serde_json::from_str(&text)
                .map_err(|e| StoreError::Config(format!("bad stored calendar: {e}")))?;
            Ok((doc.calendar()?, true))
        }
    }
}

/// The agency's time zone (weeks, days and times people read are in it).
pub async fn zone(db: &Db, agency_id: &str) -> Result<jiff::tz::TimeZone> {
    let name: Option<String> = sqlx::query_scalar("SELECT timezone FROM agencies WHERE id = $1")
        .bind(agency_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(baton_core::human::zone(&name.ok_or(StoreError::NotFound)?))
}

/// The calendar the agency's week ends on: its own, or, when it set none,
/// the default hours in the agency's time zone (not UTC's).
pub(crate) async fn week_calendar_on(
    conn: &mut sqlx::AnyConnection,
    agency_id: &str,
) -> Result<Calendar> {
    let (mut cal, set) = get_on(&mut *conn, agency_id).await?;
    if !set {
        let tz: String = sqlx::query_scalar("SELECT timezone FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_one(conn)
            .await?;
        cal.timezone = tz;
    }
    Ok(cal)
}

/// Replaces the agency's calendar after validating it.
pub async fn put(cx: Cx<'_>, doc: CalendarDoc) -> Result<Calendar> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let calendar = doc.calendar()?;
    let normalized = CalendarDoc::of(&calendar);
    let text = serde_json::to_string(&normalized).map_err(|e| StoreError::Config(e.to_string()))?;
    let mut tx = cx.begin().await?;
    // The week's end may move: the week clock recomputes its next time.
    sqlx::query(
        "UPDATE agencies SET calendar = $2, updated_at = $3, week_ended_next_at = NULL, cadence_next_check_at = NULL WHERE id = $1",
    )
        .bind(agency_id)
        .bind(&text)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let detail = json!({"timezone": normalized.timezone, "holidays": normalized.holidays.len()});
    tx.commit(
        Record::new(
            events::CALENDAR_CHANGED,
            "agency",
            agency_id,
            detail.clone(),
        )
        .with_event(None, detail),
    )
    .await?;
    Ok(calendar)
}
