//! The incident-count KPI ("brand risk events, publishing errors — measures
//! QA and governance maturity") over a period, and the QA waivers: items
//! scheduled without finished publishing QA, each a `sev3`
//! `publishing_error` risk (not an incident until something goes wrong),
//! read from their `content.qa_waived` events so waivers recorded before the
//! incident log existed count too.

use baton_core::incidents::{self, KpiRow, Kpis, Severity, Source, Status};
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::{Result, StoreError};

/// The KPI over incidents reported in `[from, until)`, optionally for one
/// client, at `now`.
pub async fn kpis(
    db: &Db,
    agency_id: &str,
    from: i64,
    until: i64,
    client_id: Option<&str>,
    now: i64,
) -> Result<Kpis> {
    let rows = sqlx::query(
        "SELECT severity, source, status, reported_at, triaged_at, triage_due_at FROM incidents \
         WHERE agency_id = $1 AND reported_at >= $2 AND reported_at < $3 AND ($4 = '' OR client_id = $4)",
    )
    .bind(agency_id)
    .bind(from)
    .bind(until)
    .bind(client_id.unwrap_or(""))
    .fetch_all(db.reader())
    .await?;
    let bad = |what: &str, v: &str| StoreError::Config(format!("bad stored incident {what} {v:?}"));
    let rows = rows
        .iter()
        .map(|r| {
            let sev: String = r.try_get("severity")?;
            let src: String = r.try_get("source")?;
            let st: String = r.try_get("status")?;
            Ok(KpiRow {
                severity: Severity::parse(&sev).ok_or_else(|| bad("severity", &sev))?,
                source: Source::parse(&src).ok_or_else(|| bad("source", &src))?,
                status: Status::parse(&st).ok_or_else(|| bad("status", &st))?,
                reported_at: r.try_get("reported_at")?,
                triaged_at: r.try_get("triaged_at")?,
                triage_due_at: r.try_get("triage_due_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(incidents::kpis(&rows, now))
}

/// One waived publishing QA: a publishing-error risk on the item.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QaWaiver {
    pub content_id: String,
    pub content_title: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

/// The latest `limit` (1–500) QA waivers recorded in `[from, until)`,
/// newest first ([`qa_waiver_count`] counts them all).
pub async fn qa_waivers(
    db: &Db,
    agency_id: &str,
    from: i64,
    until: i64,
    client_id: Option<&str>,
    limit: i64,
) -> Result<Vec<QaWaiver>> {
    let rows = sqlx::query(
        "SELECT e.entity_id, e.client_id, e.occurred_at, e.actor_label, e.data, ci.title, c.name AS client_name \
         FROM events e LEFT JOIN content_items ci ON ci.id = e.entity_id LEFT JOIN clients c ON c.id = e.client_id \
         WHERE e.agency_id = $1 AND e.type = 'content.qa_waived' AND e.occurred_at >= $2 AND e.occurred_at < $3 \
         AND ($4 = '' OR e.client_id = $4) ORDER BY e.seq DESC LIMIT $5",
    )
    .bind(agency_id)
    .bind(from)
    .bind(until)
    .bind(client_id.unwrap_or(""))
    .bind(limit.clamp(1, 500))
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let data: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("data")?).unwrap_or_default();
            Ok(QaWaiver {
                content_id: r.try_get("entity_id")?,
                content_title: r
                    .try_get::<Option<String>, _>("title")?
                    .unwrap_or_else(|| "a content item".into()),
                client_id: r.try_get("client_id")?,
                client_name: r.try_get("client_name")?,
                reason: data
                    .get("reason")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
                by: r.try_get("actor_label")?,
                at: r.try_get("occurred_at")?,
            })
        })
        .collect()
}

/// How many QA waivers were recorded in `[from, until)`.
pub async fn qa_waiver_count(
    db: &Db,
    agency_id: &str,
    from: i64,
    until: i64,
    client_id: Option<&str>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'content.qa_waived' \
         AND occurred_at >= $2 AND occurred_at < $3 AND ($4 = '' OR client_id = $4)",
    )
    .bind(agency_id)
    .bind(from)
    .bind(until)
    .bind(client_id.unwrap_or(""))
    .fetch_one(db.reader())
    .await?)
}
