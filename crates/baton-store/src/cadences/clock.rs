//! The cadences' day clock, run by the SLA scheduler: when an agency's day
//! ends, each meeting of that day without its artifact is flagged once (a
//! row with `flagged_at`, a `cadence.artifact_missing` event, a notice to
//! its owner or, when nobody owns it, to the admins). The clock is claimed
//! inside its transaction and written only while the scheduler's lease
//! holds, so several servers flag a meeting once. The first look at an
//! agency starts its cadences from that day, silently.

use baton_core::events;
use baton_core::types::AgencyId;
use jiff::ToSpan;
use serde_json::json;
use sqlx::Row;

use super::day_of;
use super::occurrences::{compute, day_end, ensure_row, Filter};
use crate::cx::Cx;
use crate::db::Db;
use crate::error::Result;
use crate::leases::Fence;
use crate::sop_runs::{admins, send_notices, NoticeAbout, NoticeText};
use crate::write::{NewEvent, Record};

/// A server that was down flags at most this many past days.
const CATCH_UP_DAYS: i64 = 31;

/// Agencies whose day ended (or whose next day end is unknown).
pub async fn due_for_change(db: &Db, now: i64, limit: i64) -> Result<Vec<AgencyId>> {
    let rows = sqlx::query(
        "SELECT id FROM agencies WHERE cadence_next_check_at IS NULL OR cadence_next_check_at <= $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Ok(a) = AgencyId::parse(&r.try_get::<String, _>("id")?) {
            out.push(a);
        }
    }
    Ok(out)
}

/// The earliest day end still to check.
pub async fn next_change(db: &Db) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(cadence_next_check_at) FROM agencies")
            .fetch_one(db.reader())
            .await?,
    )
}

/// Counts the agency's meetings from `day` on (an import of history, the
/// demo): the cadences start then instead of on the clock's first look,
/// and the clock checks days from then on. Never moves the start later.
pub async fn count_from(cx: Cx<'_>, day: jiff::civil::Date) -> Result<()> {
    let mut tx = cx.begin().await?;
    let moved = sqlx::query(
        "UPDATE agencies SET cadences_since = $2, cadence_checked_through = NULL, cadence_next_check_at = NULL \
         WHERE id = $1 AND (cadences_since IS NULL OR cadences_since > $2)",
    )
    .bind(cx.agency_id())
    .bind(day.to_string())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(());
    }
    let detail = json!({"cadences_since": day.to_string()});
    tx.commit(Record::new(
        events::CADENCE_CHANGED,
        "agency",
        cx.agency_id(),
        detail,
    ))
    .await?;
    Ok(())
}

/// Checks the agency's ended days at `cx.now` while `fence` holds. Returns
/// how many meetings it flagged.
pub async fn advance_fenced(cx: Cx<'_>, email: bool, fence: Option<&Fence>) -> Result<usize> {
    let mut tx = cx.begin().await?;
    if let Some(fence) = fence {
        if !crate::leases::fence_holds(tx.conn(), fence, cx.now).await? {
            return Ok(0);
        }
    }
    let agency_id = cx.agency_id();
    let row = sqlx::query(
        "SELECT name, cadences_since, cadence_checked_through, cadence_next_check_at FROM agencies WHERE id = $1",
    )
    .bind(agency_id)
    .fetch_one(tx.conn())
    .await?;
    let agency_name: String = row.try_get("name")?;
    let since: Option<String> = row.try_get("cadences_since")?;
    let through: Option<String> = row.try_get("cadence_checked_through")?;
    let next_at: Option<i64> = row.try_get("cadence_next_check_at")?;
    let cal = crate::calendars::week_calendar_on(tx.conn(), agency_id).await?;
    let tz = baton_core::human::zone(&cal.timezone);
    let today = day_of(cx.now, &tz);
    let yesterday = today.yesterday().unwrap_or(today);
    let new_next = day_end(today, &tz);
    let checked: Option<jiff::civil::Date> = through.as_deref().and_then(|t| t.parse().ok());
    // Claim: only the writer that finds the clock as read moves it.
    let claimed = sqlx::query(
        "UPDATE agencies SET cadences_since = COALESCE(cadences_since, $2), cadence_checked_through = $3, \
         cadence_next_check_at = $4 WHERE id = $1 AND COALESCE(cadence_checked_through, '') = $5 \
         AND COALESCE(cadence_next_check_at, -1) = $6",
    )
    .bind(agency_id)
    .bind(today.to_string())
    .bind(yesterday.to_string())
    .bind(new_next)
    .bind(through.clone().unwrap_or_default())
    .bind(next_at.unwrap_or(-1))
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(0);
    }
    let lo = match (since, checked) {
        (Some(_), Some(c)) if c < yesterday => c
            .tomorrow()
            .unwrap_or(c)
            .max(yesterday.saturating_sub((CATCH_UP_DAYS - 1).days())),
        _ => {
            // A newly tracked agency (or nothing new ended): bookkeeping only.
            tx.commit_all(Vec::new()).await?;
            return Ok(0);
        }
    };
    let missing: Vec<_> = compute(
        tx.conn(),
        agency_id,
        (lo, yesterday),
        cx.now,
        &Filter::default(),
    )
    .await?
    .into_iter()
    .filter(|o| o.artifact_missing && o.flagged_at.is_none())
    .collect();
    let mut records = Vec::new();
    for o in &missing {
        ensure_row(&mut tx, o).await?;
        let flagged = sqlx::query(
            "UPDATE cadence_occurrences SET flagged_at = $3, updated_at = $3 \
             WHERE agency_id = $1 AND id = $2 AND flagged_at IS NULL AND held_at IS NULL",
        )
        .bind(agency_id)
        .bind(o.id.as_str())
        .bind(cx.now)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if flagged == 0 {
            continue;
        }
        let to = match &o.owner_member_id {
            Some(m) => vec![m.clone()],
            None => admins(tx.conn(), agency_id).await?,
        };
        let title = match &o.client_name {
            Some(c) => format!("{} for {c} ({}): no artifact", o.cadence_name, o.date),
            None => format!("{} ({}): no artifact", o.cadence_name, o.date),
        };
        let body = format!(
            "The day of this meeting ended without its artifact ({}). A meeting without its \
             artifact counts as not held: attach it on the Cadences page.",
            o.artifact_kind.label().to_lowercase()
        );
        send_notices(
            &mut tx,
            &to,
            NoticeAbout {
                client_id: o.client_id.as_deref(),
                occurrence_id: Some(o.id.as_str()),
                ..NoticeAbout::default()
            },
            NoticeText {
                kind: events::CADENCE_ARTIFACT_MISSING,
                title: &title,
                body: &body,
            },
            &agency_name,
            email,
        )
        .await?;
        let data = json!({
            "occurrence_id": o.id, "cadence": o.cadence_key, "date": o.date.to_string(),
            "client_id": o.client_id, "owner": o.owner_member_id, "artifact": o.artifact_kind.key(),
        });
        let mut record = Record::new(
            events::CADENCE_ARTIFACT_MISSING,
            "cadence_occurrence",
            o.id.as_str(),
            data.clone(),
        );
        record.events.push(NewEvent {
            id: None,
            event_type: events::CADENCE_ARTIFACT_MISSING.into(),
            client_id: o.client_id.clone(),
            entity_type: "cadence_occurrence".into(),
            entity_id: o.id.to_string(),
            occurred_at: Some(day_end(o.date, &tz)),
            note: None,
            data,
        });
        records.push(record);
    }
    let n = records.len();
    tx.commit_all(records).await?;
    Ok(n)
}
