//! Reading the event log (events are only ever written by [`crate::write`]).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub id: String,
    pub seq: i64,
    pub client_id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub topic: String,
    pub entity_type: String,
    pub entity_id: String,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_label: String,
    pub note: Option<String>,
    pub data: serde_json::Value,
}

const COLS: &str = "id, seq, client_id, type, topic, entity_type, entity_id, occurred_at, recorded_at, actor_kind, actor_id, actor_label, note, data";

fn from_row(r: &AnyRow) -> Result<Event> {
    let data: String = r.try_get("data")?;
    Ok(Event {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        client_id: r.try_get("client_id")?,
        event_type: r.try_get("type")?,
        topic: r.try_get("topic")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        occurred_at: r.try_get("occurred_at")?,
        recorded_at: r.try_get("recorded_at")?,
        actor_kind: r.try_get("actor_kind")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        note: r.try_get("note")?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
    })
}

pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Event> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM events WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub client_id: Option<String>,
    pub event_type: Option<String>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

/// Events in recording order (`seq`), a page at a time; the cursor is a seq.
pub async fn list(
    db: &Db,
    agency_id: &str,
    f: &EventFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Event>> {
    let limit = page::clamp_limit(limit);
    let cursor: Option<i64> = match cursor {
        Some(c) => Some(c.parse().map_err(|_| {
            baton_core::CoreError::invalid("cursor", "not a cursor from this list")
        })?),
        None => None,
    };
    let (cmp, order, start) = if f.newest_first {
        ("<", "DESC", i64::MAX)
    } else {
        (">", "ASC", 0)
    };
    // Filters are only written when given, so each query can use its index
    // (`events_client` for a client's timeline, the seq key otherwise).
    let mut sql = format!("SELECT {COLS} FROM events WHERE agency_id = $1 AND seq {cmp} $2");
    let mut n = 3;
    for (col, value) in [("client_id", &f.client_id), ("type", &f.event_type)] {
        if value.is_some() {
            sql.push_str(&format!(" AND {col} = ${n}"));
            n += 1;
        }
    }
    sql.push_str(&format!(" ORDER BY seq {order} LIMIT ${n}"));
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(start));
    for value in [&f.client_id, &f.event_type].into_iter().flatten() {
        q = q.bind(value.as_str());
    }
    let rows = q.bind(limit + 1).fetch_all(db.reader()).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |e| e.seq.to_string()))
}
