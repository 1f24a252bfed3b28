//! Reading runs: the filtered list, runs by due date, recently done,
//! counts and the runs nobody owns.

use std::collections::BTreeMap;

use baton_core::sop::RunStatus;
use sqlx::Row;

use crate::db::Db;
use crate::error::Result;
use crate::page::{self, Page};

use super::{from_row, Run, COLS, FROM};

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub client_id: Option<String>,
    pub owner_member_id: Option<String>,
    pub sop_key: Option<String>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<RunStatus>,
    /// Only runs neither done nor cancelled.
    pub open: bool,
}

fn filter_sql(f: &RunFilter, first: usize) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut n = first;
    let mut add = |cond: &str, v: &str, sql: &mut String| {
        sql.push_str(&cond.replace('?', &format!("${n}")));
        binds.push(v.to_string());
        n += 1;
    };
    if let Some(c) = &f.client_id {
        add(" AND r.client_id = ?", c, &mut sql);
    }
    if let Some(m) = &f.owner_member_id {
        add(" AND r.owner_member_id = ?", m, &mut sql);
    }
    if let Some(k) = &f.sop_key {
        add(" AND r.sop_key = ?", k, &mut sql);
    }
    if !f.statuses.is_empty() {
        let mut parts = Vec::new();
        for s in &f.statuses {
            parts.push(format!("${n}"));
            binds.push(s.key().to_string());
            n += 1;
        }
        sql.push_str(&format!(" AND r.status IN ({})", parts.join(", ")));
    }
    if f.open {
        sql.push_str(" AND r.done_at IS NULL AND r.cancelled_at IS NULL");
    }
    (sql, binds)
}

/// Runs in id (start) order, a page at a time.
pub async fn list(
    db: &Db,
    agency_id: &str,
    f: &RunFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Run>> {
    let limit = page::clamp_limit(limit);
    let (cond, binds) = filter_sql(f, 4);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.id > $2{cond} ORDER BY r.id LIMIT $3"
    );
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(""))
        .bind(limit + 1);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let runs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(runs, limit, |r| r.id.to_string()))
}

/// Runs by due time (soonest first), at most `cap`: the "my work" and
/// traffic-control views.
pub async fn by_due(db: &Db, agency_id: &str, f: &RunFilter, cap: i64) -> Result<Vec<Run>> {
    let (cond, binds) = filter_sql(f, 3);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1{cond} ORDER BY r.due_at, r.id LIMIT $2"
    );
    let mut q = sqlx::query(&sql).bind(agency_id).bind(cap.clamp(1, 5_000));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// The most recently done runs first, at most `cap` (a client's history).
pub async fn recently_done(db: &Db, agency_id: &str, f: &RunFilter, cap: i64) -> Result<Vec<Run>> {
    let (cond, binds) = filter_sql(f, 3);
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.done_at IS NOT NULL{cond} \
         ORDER BY r.done_at DESC, r.id DESC LIMIT $2"
    );
    let mut q = sqlx::query(&sql).bind(agency_id).bind(cap.clamp(1, 5_000));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// How many runs match `f`.
pub async fn count(db: &Db, agency_id: &str, f: &RunFilter) -> Result<i64> {
    let (cond, binds) = filter_sql(f, 2);
    let sql = format!("SELECT COUNT(*) FROM sop_runs r WHERE r.agency_id = $1{cond}");
    let mut q = sqlx::query_scalar(&sql).bind(agency_id);
    for b in &binds {
        q = q.bind(b);
    }
    Ok(q.fetch_one(db.reader()).await?)
}

/// How many open runs the agency has in each status (the dashboard's line).
pub async fn open_counts(db: &Db, agency_id: &str) -> Result<BTreeMap<RunStatus, i64>> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM sop_runs WHERE agency_id = $1 AND done_at IS NULL \
         AND cancelled_at IS NULL GROUP BY status",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        let status: String = r.try_get("status")?;
        if let Some(s) = RunStatus::parse(&status) {
            out.insert(s, r.try_get::<i64, _>("n")?);
        }
    }
    Ok(out)
}

/// Open runs that nobody owns.
pub async fn unowned(db: &Db, agency_id: &str, cap: i64) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.done_at IS NULL AND r.cancelled_at IS NULL \
         AND r.owner_member_id IS NULL \
         ORDER BY r.due_at, r.id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cap.clamp(1, 5_000))
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}
