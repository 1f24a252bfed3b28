//! Deliveries: one event to one endpoint, sent by attempts. A delivery is
//! made by the fan-out of the event's outbox job (once per endpoint and
//! event: a repeated fan-out adds nothing) together with its own outbox job;
//! each attempt is claimed through the outbox's lease, and recorded in the
//! same transaction that completes or reschedules the job, so a crash
//! mid-send retries and never loses, and no attempt is recorded twice.

use baton_core::ids;
use baton_core::types::DeliveryId;
use baton_core::CoreError;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::{Backend, Db};
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::Record;

/// The outbox job kind that sends one attempt of a delivery.
pub const JOB_KIND: &str = "delivery";

/// A delivery to make: the body is frozen now, so every attempt sends the
/// same bytes.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub endpoint_id: String,
    /// The `webhook-id`: the event's id.
    pub event_id: String,
    pub event_type: String,
    pub body: String,
}

async fn begin(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match db.backend() {
        Backend::Sqlite => db.writer.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.writer.begin().await?,
    })
}

/// Inserts a delivery and its first job unless the endpoint already has
/// this event; whether it was new.
async fn insert(
    conn: &mut AnyConnection,
    agency_id: &str,
    d: &NewDelivery,
    now: i64,
) -> Result<bool> {
    let id = DeliveryId::new(now);
    let inserted = sqlx::query(
        "INSERT INTO integration_deliveries (id, agency_id, endpoint_id, event_id, event_type, body, state, \
         attempts, round_attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $7, $7) \
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(agency_id)
    .bind(&d.endpoint_id)
    .bind(&d.event_id)
    .bind(&d.event_type)
    .bind(&d.body)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        enqueue(conn, agency_id, id.as_str(), now).await?;
    }
    Ok(inserted)
}

async fn enqueue(
    conn: &mut AnyConnection,
    agency_id: &str,
    delivery_id: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, agency_id, kind, event_id, payload, created_at, run_after) \
         VALUES ($1, $2, $3, NULL, $4, $5, $5)",
    )
    .bind(ids::new_id(ids::JOB, at))
    .bind(agency_id)
    .bind(JOB_KIND)
    .bind(json!({ "delivery": delivery_id }).to_string())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the deliveries of one event (all or none). Returns how many were
/// new.
pub async fn fan_out(db: &Db, agency_id: &str, batch: &[NewDelivery], now: i64) -> Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    let mut tx = begin(db).await?;
    let mut n = 0;
    for d in batch {
        n += usize::from(insert(&mut tx, agency_id, d, now).await?);
    }
    tx.commit().await?;
    Ok(n)
}

/// A delivery as stored.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub agency_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub round_attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, agency_id, endpoint_id, event_id, event_type, body, state, attempts, \
     round_attempts, next_attempt_at, last_status, last_error, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        body: r.try_get("body")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        round_attempts: r.try_get("round_attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// A delivery by id alone (the worker's job names it).
pub async fn by_id(db: &Db, id: &str) -> Result<Delivery> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A delivery of this agency's endpoint.
pub async fn get(db: &Db, agency_id: &str, endpoint_id: &str, id: &str) -> Result<Delivery> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_deliveries WHERE agency_id = $1 AND endpoint_id = $2 AND id = $3"
    ))
    .bind(agency_id)
    .bind(endpoint_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub started_at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub succeeded: bool,
    /// Why it failed (connection refused, timeout, `invalid_payload`, …).
    pub error: Option<String>,
    /// The start of what the receiver answered.
    pub response_excerpt: Option<String>,
}

/// What happens to the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    /// Another attempt at this time (unix ms).
    RetryAt(i64),
    /// No more attempts.
    Failed,
}

/// Records attempt number `delivery.attempts + 1` and what follows, and
/// completes or reschedules the outbox job `job_id`, in one transaction.
/// Returns false (recording nothing) when that attempt is already recorded:
/// another server sent it after this one's lease ran out.
pub async fn record_attempt(
    db: &Db,
    delivery: &Delivery,
    job_id: &str,
    outcome: &AttemptOutcome,
    next: Next,
    now: i64,
) -> Result<bool> {
    let mut tx = begin(db).await?;
    let attempt = delivery.attempts + 1;
    let claimed = sqlx::query(
        "UPDATE integration_deliveries SET attempts = attempts + 1, round_attempts = round_attempts + 1, \
         state = $3, next_attempt_at = $4, last_status = $5, last_error = $6, updated_at = $7 \
         WHERE id = $1 AND attempts = $2",
    )
    .bind(&delivery.id)
    .bind(delivery.attempts)
    .bind(match next {
        Next::Succeeded => "succeeded",
        Next::RetryAt(_) => "pending",
        Next::Failed => "failed",
    })
    .bind(match next {
        Next::RetryAt(at) => Some(at),
        _ => None,
    })
    .bind(outcome.status_code)
    .bind(outcome.error.as_deref())
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO integration_attempts (delivery_id, attempt, agency_id, endpoint_id, started_at, \
         status_code, latency_ms, succeeded, error, response_excerpt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&delivery.id)
    .bind(attempt)
    .bind(&delivery.agency_id)
    .bind(&delivery.endpoint_id)
    .bind(outcome.started_at)
    .bind(outcome.status_code)
    .bind(outcome.latency_ms)
    .bind(i64::from(outcome.succeeded))
    .bind(outcome.error.as_deref())
    .bind(outcome.response_excerpt.as_deref())
    .execute(&mut *tx)
    .await?;
    match next {
        Next::RetryAt(at) => {
            sqlx::query(
                "UPDATE outbox SET run_after = $2, locked_until = NULL, last_error = $3 WHERE id = $1",
            )
            .bind(job_id)
            .bind(at)
            .bind(outcome.error.as_deref().unwrap_or("failed"))
            .execute(&mut *tx)
            .await?;
        }
        Next::Succeeded | Next::Failed => {
            sqlx::query(
                "UPDATE outbox SET done_at = $2, locked_until = NULL, last_error = NULL WHERE id = $1",
            )
            .bind(job_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Ends a delivery without an attempt (its endpoint was deleted or turned
/// off, or its secret cannot be opened) and completes its job.
pub async fn abandon(db: &Db, delivery_id: &str, job_id: &str, why: &str, now: i64) -> Result<()> {
    let mut tx = begin(db).await?;
    sqlx::query(
        "UPDATE integration_deliveries SET state = 'failed', next_attempt_at = NULL, last_error = $2, \
         updated_at = $3 WHERE id = $1 AND state = 'pending'",
    )
    .bind(delivery_id)
    .bind(why)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE outbox SET done_at = $2, locked_until = NULL WHERE id = $1")
        .bind(job_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// One row of an endpoint's delivery log: an attempt and its delivery.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The delivery's state now.
    pub state: String,
    pub next_attempt_at: Option<i64>,
    pub attempt: i64,
    pub started_at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub succeeded: bool,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

/// The endpoint's attempts, newest first; `cursor` is the previous page's
/// `next_cursor` (`started_at:delivery_id:attempt`), `delivery` narrows to
/// one delivery.
pub async fn log(
    db: &Db,
    agency_id: &str,
    endpoint_id: &str,
    delivery: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<LogRow>> {
    let limit = page::clamp_limit(limit);
    let (c_started, c_delivery, c_attempt) = match cursor {
        None => (i64::MAX, String::new(), 0),
        Some(c) => {
            let bad =
                || StoreError::from(CoreError::invalid("cursor", "is not a cursor of this list"));
            let mut parts = c.splitn(3, ':');
            let started = parts
                .next()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(bad)?;
            let delivery = parts
                .next()
                .filter(|d| !d.is_empty())
                .ok_or_else(bad)?
                .to_string();
            let attempt = parts
                .next()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(bad)?;
            (started, delivery, attempt)
        }
    };
    let rows = sqlx::query(
        "SELECT a.delivery_id, a.attempt, a.started_at, a.status_code, a.latency_ms, a.succeeded, a.error, \
         a.response_excerpt, d.event_id, d.event_type, d.state, d.next_attempt_at \
         FROM integration_attempts a JOIN integration_deliveries d ON d.id = a.delivery_id \
         WHERE a.agency_id = $1 AND a.endpoint_id = $2 AND ($3 = '' OR a.delivery_id = $3) \
         AND (a.started_at < $4 OR (a.started_at = $4 AND (a.delivery_id < $5 OR (a.delivery_id = $5 AND a.attempt < $6)))) \
         ORDER BY a.started_at DESC, a.delivery_id DESC, a.attempt DESC LIMIT $7",
    )
    .bind(agency_id)
    .bind(endpoint_id)
    .bind(delivery.unwrap_or(""))
    .bind(c_started)
    .bind(&c_delivery)
    .bind(c_attempt)
    .bind(limit + 1)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(LogRow {
            delivery_id: r.try_get("delivery_id")?,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("event_type")?,
            state: r.try_get("state")?,
            next_attempt_at: r.try_get("next_attempt_at")?,
            attempt: r.try_get("attempt")?,
            started_at: r.try_get("started_at")?,
            status_code: r.try_get("status_code")?,
            latency_ms: r.try_get("latency_ms")?,
            succeeded: r.try_get::<i64, _>("succeeded")? == 1,
            error: r.try_get("error")?,
            response_excerpt: r.try_get("response_excerpt")?,
        });
    }
    Ok(page::from_rows(out, limit, |r| {
        format!("{}:{}:{}", r.started_at, r.delivery_id, r.attempt)
    }))
}

/// The endpoint's deliveries still waiting for an attempt (not yet tried,
/// or between retries), newest first, at most `limit`.
pub async fn waiting(
    db: &Db,
    agency_id: &str,
    endpoint_id: &str,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_deliveries WHERE agency_id = $1 AND endpoint_id = $2 \
         AND state = 'pending' ORDER BY id DESC LIMIT $3"
    ))
    .bind(agency_id)
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// `(successful attempts, attempts)` of an endpoint since `since`.
pub async fn success_rate(
    db: &Db,
    agency_id: &str,
    endpoint_id: &str,
    since: i64,
) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN succeeded = 1 THEN 1 ELSE 0 END), 0) AS ok \
         FROM integration_attempts \
         WHERE agency_id = $3 AND endpoint_id = $1 AND started_at >= $2",
    )
    .bind(endpoint_id)
    .bind(since)
    .bind(agency_id)
    .fetch_one(db.reader())
    .await?;
    Ok((row.try_get("ok")?, row.try_get("n")?))
}

/// Refuses to send again to an endpoint that is turned off: its delivery
/// would end at once without an attempt.
async fn check_enabled(cx: &Cx<'_>, endpoint_id: &str) -> Result<()> {
    if super::get(cx.db, cx.agency_id(), endpoint_id)
        .await?
        .enabled
    {
        return Ok(());
    }
    Err(CoreError::Conflict(
        "this endpoint is turned off: turn it back on before sending again".into(),
    )
    .into())
}

/// Sends a delivery again now (one that failed, or one that succeeded and
/// the receiver lost), as a new round of the retry schedule (409 while it
/// is still being delivered, or while its endpoint is turned off).
pub async fn retry(cx: Cx<'_>, endpoint_id: &str, delivery_id: &str) -> Result<Delivery> {
    let d = get(cx.db, cx.agency_id(), endpoint_id, delivery_id).await?;
    check_enabled(&cx, endpoint_id).await?;
    let mut tx = cx.begin().await?;
    let n = requeue(
        tx.conn(),
        cx.agency_id(),
        std::slice::from_ref(&d.id),
        cx.now,
    )
    .await?;
    if n == 0 {
        return Err(CoreError::Conflict(
            "this delivery is still being delivered; it can be retried once it has failed or succeeded".into(),
        )
        .into());
    }
    tx.commit(Record::new(
        "integration.delivery_retried",
        "integration_delivery",
        &d.id,
        json!({"endpoint_id": endpoint_id, "event_id": d.event_id}),
    ))
    .await?;
    get(cx.db, cx.agency_id(), endpoint_id, delivery_id).await
}

/// Sends again every failed delivery of the endpoint made since `since`
/// (unix ms); how many (409 while the endpoint is turned off).
pub async fn recover(cx: Cx<'_>, endpoint_id: &str, since: i64) -> Result<usize> {
    check_enabled(&cx, endpoint_id).await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM integration_deliveries WHERE agency_id = $1 AND endpoint_id = $2 \
         AND state = 'failed' AND created_at >= $3 ORDER BY id LIMIT 10000",
    )
    .bind(cx.agency_id())
    .bind(endpoint_id)
    .bind(since)
    .fetch_all(cx.db.reader())
    .await?;
    let mut tx = cx.begin().await?;
    let n = requeue(tx.conn(), cx.agency_id(), &ids, cx.now).await?;
    tx.commit(Record::new(
        "integration.deliveries_recovered",
        "integration_endpoint",
        endpoint_id,
        json!({"since": since, "deliveries": n}),
    ))
    .await?;
    Ok(n)
}

/// Puts finished deliveries back to pending with a job due now (the ones
/// still pending are left alone); how many.
async fn requeue(
    conn: &mut AnyConnection,
    agency_id: &str,
    ids: &[String],
    now: i64,
) -> Result<usize> {
    let mut n = 0;
    for id in ids {
        let changed = sqlx::query(
            "UPDATE integration_deliveries SET state = 'pending', round_attempts = 0, next_attempt_at = $3, \
             updated_at = $3 WHERE agency_id = $1 AND id = $2 AND state <> 'pending'",
        )
        .bind(agency_id)
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if changed == 1 {
            enqueue(conn, agency_id, id, now).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Queues a one-off test delivery (its own message id) to an endpoint.
pub async fn send_test(cx: Cx<'_>, d: NewDelivery) -> Result<Delivery> {
    let mut tx = cx.begin().await?;
    insert(tx.conn(), cx.agency_id(), &d, cx.now).await?;
    tx.commit(Record::new(
        "integration.test_sent",
        "integration_endpoint",
        &d.endpoint_id,
        json!({"event_id": d.event_id}),
    ))
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_deliveries WHERE endpoint_id = $1 AND event_id = $2"
    ))
    .bind(&d.endpoint_id)
    .bind(&d.event_id)
    .fetch_one(cx.db.reader())
    .await?;
    from_row(&row)
}
