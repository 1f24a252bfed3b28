//! A meeting's artifact: what Baton generates from the work it records
//! (the next two weeks of the content calendar and what moved, the week's
//! shipped scorecard, the client's KPIs for the month, the quarter's SOP
//! changelog and KPI trend), frozen when the team attaches it with its
//! notes, link and decisions. Attaching holds the meeting.
//!
//! The monthly memo can be shared with the client by a link: a 256-bit
//! token shown once, stored as its hash.

use baton_core::cadence::ArtifactKind;
use baton_core::kpis::{Kpi, Report};
use baton_core::scorecard::IsoWeek;
use baton_core::types::OccurrenceId;
use baton_core::{events, secret, validate, CoreError};
use jiff::civil::Date;
use jiff::ToSpan;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::decisions::{self, NewDecision};
use super::occurrences::{self, day_end, instant, Occurrence};
use super::today_on;
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// What the team attaches.
#[derive(Debug, Clone, Default)]
pub struct Attach {
    /// Notes (the memo's text for a monthly review); up to 10,000 characters.
    pub notes: Option<String>,
    /// A link to the meeting's document elsewhere.
    pub url: Option<String>,
    pub decisions: Vec<NewDecision>,
    /// Share a monthly memo with the client by link.
    pub share: bool,
}

/// A meeting after attaching, with the share link's token when one was
/// just made (shown once).
#[derive(Debug, Clone)]
pub struct Attached {
    pub occurrence: Occurrence,
    pub share_token: Option<String>,
}

fn kpi_values(r: &Report) -> Value {
    let mut m = serde_json::Map::new();
    for k in Kpi::ALL {
        let v = r.value(k);
        m.insert(
            k.key().into(),
            json!({"value": v.value, "n": v.n, "unit": k.unit().key()}),
        );
    }
    Value::Object(m)
}

/// The days `[from, from + days)` as local-day instants.
fn span_of(from: Date, days: i64, tz: &jiff::tz::TimeZone) -> (i64, i64) {
    let to = from.saturating_add(days.days());
    (instant(from, 0, 0, tz), instant(to, 0, 0, tz))
}

/// The first day of the quarter before the one `date` is in, and that
/// quarter's name ("2026-Q3").
fn previous_quarter(date: Date) -> (Date, Date, String) {
    let q = (date.month() - 1) / 3;
    let (year, q) = if q == 0 {
        (date.year() - 1, 3)
    } else {
        (date.year(), q - 1)
    };
    let start = Date::new(year, q * 3 + 1, 1).unwrap_or(date);
    let end = start.saturating_add(3.months());
    (start, end, format!("{year}-Q{}", q + 1))
}

/// What Baton drafts for `o` from the work it records, at `now`. A weekly
/// review needs its scorecard shipped (422 otherwise).
pub async fn generate(db: &Db, agency_id: &str, o: &Occurrence, now: i64) -> Result<Value> {
    let tz = crate::calendars::zone(db, agency_id).await?;
    match o.artifact_kind {
        ArtifactKind::ContentCalendar => content_calendar(db, agency_id, o, &tz).await,
        ArtifactKind::Scorecard => {
            let week = IsoWeek::of_date(o.date);
            for w in [week, week.prev()] {
                let s = crate::scorecards::scorecard(
                    db,
                    agency_id,
                    &crate::scorecards::Scope::Agency,
                    w,
                )
                .await?;
                if let Some(s) = s {
                    return Ok(json!({
                        "scorecard_id": s.id, "week": s.week, "insights": s.insights,
                        "actions": s.actions.iter().map(|a| json!({"id": a.id, "text": a.text, "owner": a.owner_name, "due_on": a.due_on, "done": a.done_at.is_some()})).collect::<Vec<_>>(),
                    }));
                }
            }
            Err(CoreError::invalid(
                "artifact",
                format!(
                    "the weekly scorecard of {} is not shipped yet: ship it on the Scorecard page, then attach it",
                    week.prev()
                ),
            )
            .into())
        }
        ArtifactKind::AccountMemo => {
            let (from, until) = (
                instant(o.date.saturating_sub(1.month()), 0, 0, &tz),
                instant(o.date, 0, 0, &tz),
            );
            let p = crate::kpis::period(db, agency_id, from, until, o.client_id.as_deref(), now)
                .await?;
            Ok(json!({
                "client": o.client_name, "from": from, "until": until,
                "kpis": kpi_values(&p.report),
            }))
        }
        ArtifactKind::OpsReview => {
            let (start, end, quarter) = previous_quarter(o.date);
            let (from, until) = (instant(start, 0, 0, &tz), instant(end, 0, 0, &tz));
            let rows = sqlx::query(
                "SELECT sop_key, version, reason, actor_label, created_at FROM sop_versions \
                 WHERE agency_id = $1 AND created_at >= $2 AND created_at < $3 AND actor_id <> '' \
                 ORDER BY created_at, sop_key",
            )
            .bind(agency_id)
            .bind(from)
            .bind(until)
            .fetch_all(db.reader())
            .await?;
            let mut changes = Vec::with_capacity(rows.len());
            for r in &rows {
                changes.push(json!({
                    "sop": r.try_get::<String, _>("sop_key")?,
                    "version": r.try_get::<i64, _>("version")?,
                    "reason": r.try_get::<String, _>("reason")?,
                    "by": r.try_get::<String, _>("actor_label")?,
                    "at": r.try_get::<i64, _>("created_at")?,
                }));
            }
            let last = IsoWeek::of_date(end.yesterday().unwrap_or(end));
            let (weeks, _) = crate::kpis::weeks_ending(db, agency_id, last, 13, None, now).await?;
            let trend: Vec<Value> = weeks
                .iter()
                .map(|w| json!({"week": w.week.to_string(), "kpis": kpi_values(&w.report)}))
                .collect();
            Ok(json!({
                "quarter": quarter, "from": from, "until": until,
                "sop_changes": changes, "kpi_trend": trend,
                "kpis": kpi_values(&crate::kpis::period(db, agency_id, from, until, None, now).await?.report),
            }))
        }
    }
}

/// The next two weeks of the content calendar from the meeting's day, and
/// the planned days that moved in the week before it.
async fn content_calendar(
    db: &Db,
    agency_id: &str,
    o: &Occurrence,
    tz: &jiff::tz::TimeZone,
) -> Result<Value> {
    let last = o.date.saturating_add(13.days());
    let (from, until) = span_of(o.date, 14, tz);
    let rows = sqlx::query(
        "SELECT i.id, i.title, i.status, i.planned_on, i.publish_at, c.name AS client_name \
         FROM content_items i JOIN clients c ON c.id = i.client_id WHERE i.agency_id = $1 \
         AND ((i.planned_on >= $2 AND i.planned_on <= $3) OR (i.publish_at >= $4 AND i.publish_at < $5)) \
         ORDER BY COALESCE(i.planned_on, ''), i.publish_at, i.id LIMIT 500",
    )
    .bind(agency_id)
    .bind(o.date.to_string())
    .bind(last.to_string())
    .bind(from)
    .bind(until)
    .fetch_all(db.reader())
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in &rows {
        items.push(json!({
            "id": r.try_get::<String, _>("id")?,
            "title": r.try_get::<String, _>("title")?,
            "client": r.try_get::<String, _>("client_name")?,
            "status": r.try_get::<String, _>("status")?,
            "planned_on": r.try_get::<Option<String>, _>("planned_on")?,
            "publish_at": r.try_get::<Option<i64>, _>("publish_at")?,
        }));
    }
    let (week_ago, _) = span_of(o.date.saturating_sub(7.days()), 7, tz);
    let rows = sqlx::query(
        "SELECT data, occurred_at FROM events WHERE agency_id = $1 AND type = $2 \
         AND occurred_at >= $3 AND occurred_at < $4 ORDER BY seq",
    )
    .bind(agency_id)
    .bind(events::CONTENT_REPLANNED)
    .bind(week_ago)
    .bind(day_end(o.date, tz))
    .fetch_all(db.reader())
    .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for r in &rows {
        let data: Value =
            serde_json::from_str(&r.try_get::<String, _>("data")?).unwrap_or(Value::Null);
        changes.push(json!({
            "content_id": data["content_id"], "title": data["title"],
            "from": data["from"], "to": data["to"], "reason": data["reason"],
            "at": r.try_get::<i64, _>("occurred_at")?,
        }));
    }
    Ok(
        json!({"from": o.date.to_string(), "to": last.to_string(), "items": items, "changes": changes}),
    )
}

/// Holds meeting `id` with its artifact (or updates a held one: notes,
/// link, more decisions; what Baton generated stays as first attached).
pub async fn attach(cx: Cx<'_>, id: &OccurrenceId, a: Attach) -> Result<Attached> {
    let notes = match a.notes.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(validate::note("notes", n)?),
    };
    let url = match a.url.as_deref() {
        None => None,
        Some(u) => validate::optional_url("url", u)?,
    };
    let new_decisions = decisions::check(&a.decisions)?;
    let o = occurrences::get(cx.db, cx.agency_id(), id, cx.now).await?;
    if o.artifact_kind == ArtifactKind::AccountMemo && notes.is_none() {
        return Err(CoreError::invalid(
            "notes",
            "write the memo: outcomes, risks and next bets (start from Baton's draft)",
        )
        .into());
    }
    if a.share && o.artifact_kind != ArtifactKind::AccountMemo {
        return Err(CoreError::invalid(
            "share",
            "only a monthly account review's memo is shared with the client",
        )
        .into());
    }
    let mut tx = cx.begin().await?;
    let today = today_on(tx.conn(), cx.agency_id(), cx.now).await?;
    if o.date > today {
        return Err(CoreError::Conflict(format!(
            "the meeting is on {}: attach its artifact on or after that day",
            o.date
        ))
        .into());
    }
    occurrences::ensure_row(&mut tx, &o).await?;
    // Claim "held" inside this transaction: of concurrent attaches exactly
    // one finds it not held (the row is locked until commit; the others
    // wait, then update it).
    let first = sqlx::query(
        "UPDATE cadence_occurrences SET held_at = $3, held_by = $4, updated_at = $3 \
         WHERE agency_id = $1 AND id = $2 AND held_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(cx.now)
    .bind(&cx.actor.label)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if !first {
        sqlx::query(
            "UPDATE cadence_occurrences SET updated_at = $3 WHERE agency_id = $1 AND id = $2",
        )
        .bind(cx.agency_id())
        .bind(id.as_str())
        .bind(cx.now)
        .execute(tx.conn())
        .await?;
    }
    let row = sqlx::query(
        "SELECT artifact, share_token_hash FROM cadence_occurrences WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .fetch_one(tx.conn())
    .await?;
    let stored_artifact = row
        .try_get::<Option<String>, _>("artifact")?
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let shared = row
        .try_get::<Option<String>, _>("share_token_hash")?
        .is_some();
    let generated = match stored_artifact
        .as_ref()
        .map(|s| s["generated"].clone())
        .filter(|g| !g.is_null())
    {
        Some(g) => g,
        None => generate(cx.db, cx.agency_id(), &o, cx.now).await?,
    };
    let artifact = json!({
        "kind": o.artifact_kind.key(), "generated": generated,
        "notes": notes.or_else(|| stored_artifact.as_ref().and_then(|s| s["notes"].as_str().map(String::from))),
        "url": url.or_else(|| stored_artifact.as_ref().and_then(|s| s["url"].as_str().map(String::from))),
    });
    let share_token = (a.share && !shared).then(secret::random_token);
    sqlx::query(
        "UPDATE cadence_occurrences SET artifact = $3, share_token_hash = COALESCE(share_token_hash, $4) \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(artifact.to_string())
    .bind(share_token.as_deref().map(secret::hash_token))
    .execute(tx.conn())
    .await?;
    let decision_ids = decisions::insert(&mut tx, id.as_str(), &new_decisions).await?;
    let kind = if first {
        events::CADENCE_HELD
    } else {
        events::CADENCE_ARTIFACT_UPDATED
    };
    let detail = json!({
        "occurrence_id": id, "cadence": o.cadence_key, "date": o.date.to_string(),
        "artifact": o.artifact_kind.key(), "decisions": decision_ids,
        "shared": share_token.is_some() || shared,
    });
    tx.commit(
        Record::new(kind, "cadence_occurrence", id.as_str(), detail.clone())
            .with_event(o.client_id.as_deref(), detail),
    )
    .await?;
    Ok(Attached {
        occurrence: occurrences::get(cx.db, cx.agency_id(), id, cx.now).await?,
        share_token,
    })
}

/// A memo as its client reads it through the share link.
#[derive(Debug, Clone, Serialize)]
pub struct SharedMemo {
    pub agency_id: String,
    pub agency_name: String,
    pub client_name: Option<String>,
    pub date: String,
    pub notes: String,
    pub generated: Value,
    pub decisions: Vec<(String, Option<String>, Option<String>)>,
}

/// The memo a share link's token opens, if any.
pub async fn shared_memo(db: &Db, token: &str) -> Result<Option<SharedMemo>> {
    if token.len() > 100 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT o.id, o.agency_id, a.name AS agency_name, c.name AS client_name, o.on_date, o.artifact \
         FROM cadence_occurrences o JOIN agencies a ON a.id = o.agency_id \
         LEFT JOIN clients c ON c.id = o.client_id WHERE o.share_token_hash = $1",
    )
    .bind(secret::hash_token(token))
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let artifact: Value = r
        .try_get::<Option<String>, _>("artifact")?
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| StoreError::Config("a shared memo without its artifact".into()))?;
    let agency_id: String = r.try_get("agency_id")?;
    let id: String = r.try_get("id")?;
    let mut conn = db.reader().acquire().await?;
    let ds = decisions::decisions_of(&mut conn, &agency_id, std::iter::once(&id)).await?;
    Ok(Some(SharedMemo {
        agency_name: r.try_get("agency_name")?,
        client_name: r.try_get("client_name")?,
        date: r.try_get("on_date")?,
        notes: artifact["notes"].as_str().unwrap_or_default().to_string(),
        generated: artifact["generated"].clone(),
        decisions: ds
            .into_values()
            .flatten()
            .map(|d| (d.text, d.owner_name, d.due_on))
            .collect(),
        agency_id,
    }))
}

/// Baton's draft of a monthly memo: the client's KPIs over the month before
/// the meeting, in sentences the account lead edits.
pub fn memo_draft(generated: &Value, client: &str) -> String {
    let mut lines = vec![
        format!("Monthly account review: {client}"),
        String::new(),
        "Outcomes (last 30 days):".to_string(),
    ];
    for k in Kpi::ALL {
        let v = &generated["kpis"][k.key()];
        let text = match v["value"].as_f64() {
            Some(x) => format!("{} over {}", k.unit().format(x), v["n"]),
            None => "nothing to count yet".to_string(),
        };
        lines.push(format!("- {}: {text}", k.label()));
    }
    lines.extend([
        String::new(),
        "Risks:".into(),
        "- ".into(),
        String::new(),
        "Next bets:".into(),
        "- ".into(),
    ]);
    lines.join("\n")
}
