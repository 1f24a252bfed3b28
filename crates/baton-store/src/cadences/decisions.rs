//! Decisions taken in a meeting: text, owner, optional due day, done. They
//! hang off the meeting's artifact, show on their owner's My work while
//! open, and are searchable by their words.

use std::collections::HashMap;

use baton_core::types::{CadenceDecisionId, MemberId};
use baton_core::{events, validate, CoreError};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{Record, WriteTx};

/// At most this many decisions per meeting.
pub const MAX_PER_MEETING: usize = 20;

/// One decision, with the meeting it was taken in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: CadenceDecisionId,
    pub occurrence_id: String,
    pub cadence_key: String,
    pub on_date: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub text: String,
    pub owner_member_id: String,
    pub owner_name: Option<String>,
    pub due_on: Option<String>,
    pub done: bool,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    pub created_at: i64,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub text: String,
    pub owner: MemberId,
    pub due_on: Option<String>,
}

const COLS: &str =
    "d.id, d.occurrence_id, o.cadence_key, o.on_date, o.client_id, c.name AS client_name, \
    d.text, d.owner_member_id, m.name AS owner_name, d.due_on, d.done_at, d.done_by, d.created_at \
    FROM cadence_decisions d JOIN cadence_occurrences o ON o.id = d.occurrence_id \
    LEFT JOIN clients c ON c.id = o.client_id LEFT JOIN members m ON m.id = d.owner_member_id";

fn from_row(r: &AnyRow) -> Result<Decision> {
    let done_at: Option<i64> = r.try_get("done_at")?;
    Ok(Decision {
        id: crate::db::typed_id(r, "id")?,
        occurrence_id: r.try_get("occurrence_id")?,
        cadence_key: r.try_get("cadence_key")?,
        on_date: r.try_get("on_date")?,
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        text: r.try_get("text")?,
        owner_member_id: r.try_get("owner_member_id")?,
        owner_name: r.try_get("owner_name")?,
        due_on: r.try_get("due_on")?,
        done: done_at.is_some(),
        done_at,
        done_by: r.try_get("done_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The decisions of the meetings `ids`, by meeting, in the order taken.
pub(crate) async fn decisions_of<'a>(
    conn: &mut AnyConnection,
    agency_id: &str,
    ids: impl Iterator<Item = &'a String>,
) -> Result<HashMap<String, Vec<Decision>>> {
    let ids: Vec<&String> = ids.collect();
    let mut out: HashMap<String, Vec<Decision>> = HashMap::new();
    for chunk in ids.chunks(200) {
        let marks = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {COLS} WHERE d.agency_id = $1 AND d.occurrence_id IN ({marks}) \
             ORDER BY d.occurrence_id, d.position"
        );
        let mut q = sqlx::query(&sql).bind(agency_id);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for r in &q.fetch_all(&mut *conn).await? {
            let d = from_row(r)?;
            out.entry(d.occurrence_id.clone()).or_default().push(d);
        }
    }
    Ok(out)
}

/// Checks decisions as given (text 1–500 characters, a due day as
/// `YYYY-MM-DD`), naming the field `decisions`.
pub fn check(new: &[NewDecision]) -> Result<Vec<NewDecision>> {
    if new.len() > MAX_PER_MEETING {
        return Err(CoreError::invalid(
            "decisions",
            format!("at most {MAX_PER_MEETING} decisions per meeting"),
        )
        .into());
    }
    new.iter()
        .map(|d| {
            let text = validate::name("decisions", &d.text)?;
            let due_on = match d.due_on.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(
                    s.parse::<Date>()
                        .map_err(|_| {
                            CoreError::invalid(
                                "decisions",
                                format!("due {s:?} is not a day (YYYY-MM-DD)"),
                            )
                        })?
                        .to_string(),
                ),
            };
            Ok(NewDecision {
                text,
                owner: d.owner.clone(),
                due_on,
            })
        })
        .collect()
}

/// Records `new` on meeting `occurrence_id` after its existing decisions.
pub(crate) async fn insert(
    tx: &mut WriteTx,
    occurrence_id: &str,
    new: &[NewDecision],
) -> Result<Vec<String>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let start: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM cadence_decisions WHERE agency_id = $1 AND occurrence_id = $2",
    )
    .bind(&agency_id)
    .bind(occurrence_id)
    .fetch_one(tx.conn())
    .await?;
    let mut ids = Vec::with_capacity(new.len());
    for (i, d) in new.iter().enumerate() {
        crate::incidents::moves::active_member(tx, "decisions", d.owner.as_str()).await?;
        let id = CadenceDecisionId::new(now);
        sqlx::query(
            "INSERT INTO cadence_decisions (id, agency_id, occurrence_id, position, text, owner_member_id, due_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(&agency_id)
        .bind(occurrence_id)
        .bind(start + i as i64)
        .bind(&d.text)
        .bind(d.owner.as_str())
        .bind(d.due_on.as_deref())
        .bind(now)
        .execute(tx.conn())
        .await?;
        ids.push(id.into_string());
    }
    Ok(ids)
}

/// Narrows a search.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words the decision's text contains (case-insensitive for ASCII).
    pub q: Option<String>,
    pub owner: Option<String>,
    /// `Some(true)`: open only; `Some(false)`: done only.
    pub open: Option<bool>,
    pub cadence: Option<String>,
    pub client_id: Option<String>,
}

/// Decisions matching `s`, newest meeting first, at most `limit`.
pub async fn search(db: &Db, agency_id: &str, s: &Search, limit: i64) -> Result<Vec<Decision>> {
    let words: Vec<String> =
        s.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .take(8)
            .map(|w| {
                let escaped = w
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            })
            .collect();
    let mut sql = format!(
        "SELECT {COLS} WHERE d.agency_id = $1 AND ($2 = '' OR d.owner_member_id = $2) \
         AND ($3 = 0 OR ($3 = 1 AND d.done_at IS NULL) OR ($3 = 2 AND d.done_at IS NOT NULL)) \
         AND ($4 = '' OR o.cadence_key = $4) AND ($5 = '' OR o.client_id = $5)"
    );
    for i in 0..words.len() {
        sql.push_str(&format!(" AND LOWER(d.text) LIKE ${} ESCAPE '\\'", i + 7));
    }
    sql.push_str(" ORDER BY o.on_date DESC, d.occurrence_id, d.position LIMIT $6");
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(s.owner.as_deref().unwrap_or(""))
        .bind(match s.open {
            None => 0_i64,
            Some(true) => 1,
            Some(false) => 2,
        })
        .bind(s.cadence.as_deref().unwrap_or(""))
        .bind(s.client_id.as_deref().unwrap_or(""))
        .bind(limit);
    for w in &words {
        q = q.bind(w.as_str());
    }
    q.fetch_all(db.reader())
        .await?
        .iter()
        .map(from_row)
        .collect()
}

async fn get_on(conn: &mut AnyConnection, agency_id: &str, id: &str) -> Result<Decision> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} WHERE d.agency_id = $1 AND d.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Marks a decision done (`true`) or open again; the same state again
/// changes nothing.
pub async fn set_done(cx: Cx<'_>, id: &CadenceDecisionId, done: bool) -> Result<Decision> {
    let mut tx = cx.begin().await?;
    let cur = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    if cur.done == done {
        return Ok(cur);
    }
    sqlx::query(
        "UPDATE cadence_decisions SET done_at = $3, done_by = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(done.then_some(cx.now))
    .bind(done.then(|| cx.actor.label.clone()))
    .execute(tx.conn())
    .await?;
    let out = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    let kind = if done {
        events::CADENCE_DECISION_DONE
    } else {
        events::CADENCE_DECISION_REOPENED
    };
    let detail = json!({"decision_id": id, "occurrence_id": cur.occurrence_id, "text": cur.text});
    tx.commit(
        Record::new(kind, "cadence_decision", id.as_str(), detail.clone())
            .with_event(cur.client_id.as_deref(), detail),
    )
    .await?;
    Ok(out)
}
