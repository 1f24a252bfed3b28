//! Reading and verifying the audit log (entries are only ever written by
//! [`crate::write`]).

use baton_core::audit::{verify_chain, StoredEntry};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::agencies;
use crate::db::Db;
use crate::error::Result;
use crate::page::{self, Page};

/// An audit entry as shown to admins.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub recorded_at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: serde_json::Value,
    pub hash: String,
}

fn stored(r: &AnyRow) -> Result<StoredEntry> {
    Ok(StoredEntry {
        hash_version: r.try_get("hash_version")?,
        agency_id: r.try_get("agency_id")?,
        seq: r.try_get("seq")?,
        recorded_at: r.try_get("recorded_at")?,
        actor_kind: r.try_get("actor_kind")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

const COLS: &str = "agency_id, seq, recorded_at, actor_kind, actor_id, actor_label, action, entity_type, entity_id, ip, user_agent, detail, prev_hash, hash, hash_version";

/// Newest entries first, a page at a time; the cursor is a seq.
pub async fn list(
    db: &Db,
    agency_id: &str,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<AuditEntry>> {
    let limit = page::clamp_limit(limit);
    let before: i64 = match cursor {
        Some(c) => c
            .parse()
            .map_err(|_| baton_core::CoreError::invalid("cursor", "not a cursor from this list"))?,
        None => i64::MAX,
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM audit_log WHERE agency_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    ))
    .bind(agency_id)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db.reader())
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            Ok(AuditEntry {
                seq: r.try_get("seq")?,
                recorded_at: r.try_get("recorded_at")?,
                actor_kind: r.try_get("actor_kind")?,
                actor_id: r.try_get("actor_id")?,
                actor_label: r.try_get("actor_label")?,
                action: r.try_get("action")?,
                entity_type: r.try_get("entity_type")?,
                entity_id: r.try_get("entity_id")?,
                ip: r.try_get("ip")?,
                user_agent: r.try_get("user_agent")?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                hash: r.try_get("hash")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |e| e.seq.to_string()))
}

/// The outcome of verifying one agency's chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub agency_id: String,
    pub agency_name: String,
    pub entries: i64,
    /// `None` when intact; otherwise the first broken entry, described.
    pub problem: Option<String>,
}

/// Verifies every agency's audit chain, reading it in batches.
pub async fn verify_all(db: &Db) -> Result<Vec<ChainReport>> {
    let mut out = Vec::new();
    for agency in agencies::list_all(db).await? {
        // The head and the entries in one statement, so one snapshot: a
        // server appending entries (and moving the head) while this runs
        // must not read as a broken chain.
        let cols = COLS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols}, h.audit_seq AS head_seq, h.audit_head AS head_hash \
             FROM agencies h LEFT JOIN audit_log a ON a.agency_id = h.id \
             WHERE h.id = $1 ORDER BY a.seq"
        ))
        .bind(agency.id.as_str())
        .fetch_all(db.reader())
        .await?;
        let Some(first) = rows.first() else {
            continue; // the agency was deleted meanwhile
        };
        let head_seq: i64 = first.try_get("head_seq")?;
        let head_hash: String = first.try_get("head_hash")?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            // An agency without entries joins to one row of NULLs.
            if r.try_get::<Option<i64>, _>("seq")?.is_some() {
                entries.push(stored(r)?);
            }
        }
        let problem = verify_chain(&entries, head_seq, &head_hash).err();
        out.push(ChainReport {
            agency_id: agency.id.into(),
            agency_name: agency.name,
            entries: entries.len() as i64,
            problem,
        });
    }
    Ok(out)
}
