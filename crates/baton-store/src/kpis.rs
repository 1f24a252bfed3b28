//! The six ops KPIs over a period, and week by week: reads the moments each
//! KPI is about for a whole range in one pass per source (clients, content,
//! SOP runs, incidents, access requests), then lets
//! [`baton_core::kpis::compute`] count any period inside it. Same
//! definitions as the per-area reports (`access_kpis`, `content_metrics`,
//! `sop_runs::on_time`, `incidents::kpis`); this is the one place that puts
//! them side by side.

use baton_core::content::ItemHistory;
use baton_core::kpis::{
    compute, AccessWait, Cycle, Due, FirstValue, Inputs, Report, Reviewed, Span,
};
use baton_core::scorecard::IsoWeek;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;

/// The KPIs of one period, with what the definitions depend on.
#[derive(Debug, Clone)]
pub struct Period {
    pub report: Report,
    pub first_value: FirstValue,
}

/// One week of a trend.
#[derive(Debug, Clone)]
pub struct Week {
    pub week: IsoWeek,
    pub report: Report,
}

/// The agency's choice of "first meaningful output".
pub async fn first_value_rule(db: &Db, agency_id: &str) -> Result<FirstValue> {
    let rule: Option<String> =
        sqlx::query_scalar("SELECT first_value_rule FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_optional(db.reader())
            .await?;
    Ok(rule
        .as_deref()
        .and_then(FirstValue::parse)
        .unwrap_or_default())
}

/// Sets what counts as a client's first meaningful output.
pub async fn set_first_value_rule(cx: crate::cx::Cx<'_>, rule: FirstValue) -> Result<FirstValue> {
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE agencies SET first_value_rule = $2, updated_at = $3 WHERE id = $1")
        .bind(cx.agency_id())
        .bind(rule.key())
        .bind(cx.now)
        .execute(tx.conn())
        .await?;
    let detail = serde_json::json!({"first_value_rule": rule.key()});
    tx.commit(
        crate::write::Record::new(
            baton_core::events::FIRST_VALUE_RULE_SAVED,
            "agency",
            cx.agency_id(),
            detail.clone(),
        )
        .with_event(None, detail),
    )
    .await?;
    Ok(rule)
}

/// What every KPI count of an agency depends on: its business calendar,
/// its first-value rule and its time zone.
struct Basis {
    calendar: baton_core::calendar::Calendar,
    first_value: FirstValue,
    tz: jiff::tz::TimeZone,
}

async fn basis(db: &Db, agency_id: &str) -> Result<Basis> {
    Ok(Basis {
        calendar: crate::calendars::get(db, agency_id).await?.0,
        first_value: first_value_rule(db, agency_id).await?,
        tz: crate::calendars::zone(db, agency_id).await?,
    })
}

/// The KPIs over `[from, until)` at `now`, for one client or all.
pub async fn period(
    db: &Db,
    agency_id: &str,
    from: i64,
    until: i64,
    client_id: Option<&str>,
    now: i64,
) -> Result<Period> {
    let b = basis(db, agency_id).await?;
    let inputs = inputs(db, agency_id, &b, (from, until), client_id, now).await?;
    Ok(Period {
        report: compute(&inputs, from, until, now, &b.calendar),
        first_value: b.first_value,
    })
}

/// The KPIs of the `weeks` ISO weeks (agency time) ending with the week of
/// `now`, oldest first.
pub async fn weekly(
    db: &Db,
    agency_id: &str,
    weeks: usize,
    client_id: Option<&str>,
    now: i64,
) -> Result<(Vec<Week>, FirstValue)> {
    let b = basis(db, agency_id).await?;
    let end = IsoWeek::containing(now, &b.tz);
    weeks_of(db, agency_id, &b, (end, weeks), client_id, now).await
}

/// The KPIs of the `weeks` ISO weeks ending with `end`, oldest first.
pub async fn weeks_ending(
    db: &Db,
    agency_id: &str,
    end: IsoWeek,
    weeks: usize,
    client_id: Option<&str>,
    now: i64,
) -> Result<(Vec<Week>, FirstValue)> {
    let b = basis(db, agency_id).await?;
    weeks_of(db, agency_id, &b, (end, weeks), client_id, now).await
}

/// The `weeks` weeks ending with `end`: one read, one pass per week.
async fn weeks_of(
    db: &Db,
    agency_id: &str,
    b: &Basis,
    (end, weeks): (IsoWeek, usize),
    client_id: Option<&str>,
    now: i64,
) -> Result<(Vec<Week>, FirstValue)> {
    let mut list = vec![end];
    while list.len() < weeks.max(1) {
        let oldest = list[list.len() - 1].prev();
        list.push(oldest);
    }
    list.reverse();
    let from = list.first().map(|w| w.bounds(&b.tz).0).unwrap_or(now);
    let until = list.last().map(|w| w.bounds(&b.tz).1).unwrap_or(now);
    let inputs = inputs(db, agency_id, b, (from, until), client_id, now).await?;
    let out = list
        .into_iter()
        .map(|week| {
            let (start, next) = week.bounds(&b.tz);
            Week {
                week,
                report: compute(&inputs, start, next, now, &b.calendar),
            }
        })
        .collect();
    Ok((out, b.first_value))
}

/// Rows of `(a, b)` as spans from `a` to `b`.
fn spans(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Span>> {
    rows.iter()
        .map(|row| {
            Ok(Span {
                start: row.try_get("a")?,
                end: row.try_get("b")?,
            })
        })
        .collect()
}

/// Everything anchored in `[from, until)` that the KPIs count.
async fn inputs(
    db: &Db,
    agency_id: &str,
    b: &Basis,
    (from, until): (i64, i64),
    client_id: Option<&str>,
    now: i64,
) -> Result<Inputs> {
    let (tz, first_value) = (&b.tz, b.first_value);
    let client = client_id.unwrap_or("");
    let q = |sql: &'static str| {
        sqlx::query(sql)
            .bind(agency_id)
            .bind(from)
            .bind(until)
            .bind(client)
    };
    let r = db.reader();
    let access = q(
        "SELECT contract_signed_at AS a, access_complete_at AS b FROM clients \
         WHERE agency_id = $1 AND access_complete_at >= $2 AND access_complete_at < $3 \
         AND contract_signed_at IS NOT NULL AND ($4 = '' OR id = $4)",
    )
    .fetch_all(r)
    .await?;
    let access = spans(&access)?;

    let first_sql = match first_value {
        FirstValue::Published => {
            "SELECT c.contract_signed_at AS a, MIN(i.published_at) AS b FROM clients c \
             JOIN content_items i ON i.agency_id = c.agency_id AND i.client_id = c.id \
             WHERE c.agency_id = $1 AND c.contract_signed_at IS NOT NULL AND i.published_at IS NOT NULL \
             AND ($4 = '' OR c.id = $4) GROUP BY c.id, c.contract_signed_at \
             HAVING MIN(i.published_at) >= $2 AND MIN(i.published_at) < $3"
        }
        FirstValue::ClientApproved => {
            "SELECT c.contract_signed_at AS a, MIN(d.created_at) AS b FROM clients c \
             JOIN content_items i ON i.agency_id = c.agency_id AND i.client_id = c.id \
             JOIN content_decisions d ON d.agency_id = i.agency_id AND d.content_id = i.id \
             WHERE c.agency_id = $1 AND c.contract_signed_at IS NOT NULL AND d.author_kind = 'client' \
             AND d.decision = 'approve' AND ($4 = '' OR c.id = $4) GROUP BY c.id, c.contract_signed_at \
             HAVING MIN(d.created_at) >= $2 AND MIN(d.created_at) < $3"
        }
    };
    let first_value = q(first_sql).fetch_all(r).await?;
    let first_value = spans(&first_value)?;

    let cycles = q("SELECT i.published_at, i.approved_at, v.created_at AS draft_at, \
         (SELECT MIN(e.occurred_at) FROM events e WHERE e.agency_id = i.agency_id \
          AND e.entity_type = 'content' AND e.entity_id = i.id AND e.type = 'content.brief_approved') AS brief_at \
         FROM content_items i LEFT JOIN content_versions v ON v.content_id = i.id AND v.n = 1 \
         WHERE i.agency_id = $1 AND i.published_at >= $2 AND i.published_at < $3 \
         AND ($4 = '' OR i.client_id = $4)")
    .fetch_all(r)
    .await?
    .iter()
    .map(|row| {
        Ok(Cycle {
            brief_approved_at: row.try_get("brief_at")?,
            first_draft_at: row.try_get("draft_at")?,
            approved_at: row.try_get("approved_at")?,
            published_at: row.try_get("published_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let rows = q("SELECT i.id, i.first_submitted_at, i.approved_at, r.round, r.outcome, r.revision \
         FROM content_items i LEFT JOIN content_rounds r ON r.content_id = i.id AND r.outcome IS NOT NULL \
         WHERE i.agency_id = $1 AND i.first_submitted_at >= $2 AND i.first_submitted_at < $3 \
         AND ($4 = '' OR i.client_id = $4) ORDER BY i.id, r.round")
    .fetch_all(r)
    .await?;
    let mut reviewed: Vec<(String, Reviewed)> = Vec::new();
    for row in &rows {
        let id: String = row.try_get("id")?;
        if reviewed.last().map(|(last, _)| last != &id).unwrap_or(true) {
            let at: i64 = row.try_get("first_submitted_at")?;
            let history = ItemHistory {
                first_submitted_at: Some(at),
                approved_at: row.try_get("approved_at")?,
                ..ItemHistory::default()
            };
            reviewed.push((
                id,
                Reviewed {
                    first_submitted_at: at,
                    history,
                },
            ));
        }
        if let Some((_, item)) = reviewed.last_mut() {
            crate::content_metrics::add_round(&mut item.history, row)?;
        }
    }

    let day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(tz.clone()).date().to_string())
            .unwrap_or_default()
    };
    let content_due = sqlx::query(
        "SELECT planned_on, published_at FROM content_items WHERE agency_id = $1 \
         AND planned_on IS NOT NULL AND status <> 'cancelled' AND ($4 = '' OR client_id = $4) \
         AND ((published_at >= $2 AND published_at < $3) \
         OR (published_at IS NULL AND planned_on >= $5 AND planned_on <= $6))",
    )
    .bind(agency_id)
    .bind(from)
    .bind(until)
    .bind(client)
    // One day either side: the day's end is computed in the agency's zone.
    .bind(day(from - 86_400_000))
    .bind(day(until + 86_400_000))
    .fetch_all(r)
    .await?
    .iter()
    .filter_map(|row| {
        let planned: String = row.try_get("planned_on").ok()?;
        let due_at = baton_core::incidents::end_of_day(&planned, tz).ok()?;
        Some(Due {
            due_at,
            done_at: row.try_get("published_at").ok()?,
        })
    })
    .collect();

    let sop_due = sqlx::query(
        "SELECT due_at, done_at FROM sop_runs WHERE agency_id = $1 AND ($4 = '' OR client_id = $4) \
         AND ((done_at >= $2 AND done_at < $3) OR (done_at IS NULL AND cancelled_at IS NULL \
         AND paused_at IS NULL AND due_at >= $2 AND due_at < $3 AND due_at < $5))",
    )
    .bind(agency_id)
    .bind(from)
    .bind(until)
    .bind(client)
    .bind(now)
    .fetch_all(r)
    .await?
    .iter()
    .map(|row| {
        Ok(Due {
            due_at: row.try_get("due_at")?,
            done_at: row.try_get("done_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let incidents = q(
        "SELECT reported_at FROM incidents WHERE agency_id = $1 AND reported_at >= $2 \
         AND reported_at < $3 AND status <> 'cancelled' AND ($4 = '' OR client_id = $4)",
    )
    .fetch_all(r)
    .await?
    .iter()
    .map(|row| Ok(row.try_get("reported_at")?))
    .collect::<Result<Vec<i64>>>()?;

    let access_waits = q(
        "SELECT created_at, granted_at, verified_at FROM access_requests \
         WHERE agency_id = $1 AND ($4 = '' OR client_id = $4) \
         AND ((granted_at >= $2 AND granted_at < $3) OR (verified_at >= $2 AND verified_at < $3))",
    )
    .fetch_all(r)
    .await?
    .iter()
    .map(|row| {
        Ok(AccessWait {
            requested_at: row.try_get("created_at")?,
            granted_at: row.try_get("granted_at")?,
            verified_at: row.try_get("verified_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    Ok(Inputs {
        access,
        first_value,
        cycles,
        reviewed: reviewed.into_iter().map(|(_, r)| r).collect(),
        content_due,
        sop_due,
        incidents,
        access_waits,
    })
}
