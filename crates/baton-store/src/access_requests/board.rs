//! Reading access requests across clients: the board, the open lines,
//! counts by who the request waits on, and what is held or to revoke.

use baton_core::access::{AccessStatus, WaitingOn};
use baton_core::lifecycle::Lifecycle;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};

use super::{from_row, AccessRequest, COLS};

/// A line of the access board or the held-access view: a request with its
/// client's name and stage.
#[derive(Debug, Clone, Serialize)]
pub struct BoardLine {
    pub request: AccessRequest,
    pub client_name: String,
    pub client_lifecycle: Lifecycle,
}

fn board_line(r: &AnyRow) -> Result<BoardLine> {
    let lc: String = r.try_get("client_lifecycle")?;
    Ok(BoardLine {
        request: from_row(r)?,
        client_name: r.try_get("client_name")?,
        client_lifecycle: Lifecycle::parse(&lc)
            .ok_or_else(|| StoreError::Config(format!("bad stored lifecycle {lc}")))?,
    })
}

/// What the board shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoardFilter {
    pub waiting_on: Option<WaitingOn>,
    pub status: Option<AccessStatus>,
}

/// Requests across the agency's clients, a page at a time in id order:
/// open ones by default (waiting on the client or on the agency).
pub async fn board(
    db: &Db,
    agency_id: &str,
    filter: BoardFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<BoardLine>> {
    let limit = page::clamp_limit(limit);
    let statuses: Vec<&str> = match (filter.status, filter.waiting_on) {
        (Some(s), Some(w)) if s.waiting_on() != Some(w) => {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            })
        }
        (Some(s), _) => vec![s.key()],
        (None, Some(WaitingOn::Client)) => vec!["requested", "failed"],
        (None, Some(WaitingOn::Agency)) => vec!["granted_by_client"],
        (None, None) => vec!["requested", "failed", "granted_by_client"],
    };
    let placeholders: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT {COLS}, c.name AS client_name, c.lifecycle AS client_lifecycle FROM access_requests r \
         JOIN clients c ON c.id = r.client_id \
         WHERE r.agency_id = $1 AND r.id > $2 AND r.status IN ({}) ORDER BY r.id LIMIT $3",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(""))
        .bind(limit + 1);
    for s in &statuses {
        q = q.bind(*s);
    }
    let rows = q.fetch_all(db.reader()).await?;
    let items = rows.iter().map(board_line).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |l| l.request.id.to_string()))
}

/// A line of the web access board: only what the board shows, so a large
/// agency's board is one narrow query.
#[derive(Debug, Clone, Serialize)]
pub struct OpenLine {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub client_lifecycle: Lifecycle,
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub status: AccessStatus,
    /// Waiting since.
    pub status_at: i64,
    pub failed_reason: Option<String>,
    pub stuck_at: Option<i64>,
    pub stuck_message: Option<String>,
}

/// Every open request of the agency (waiting on the client or on the
/// agency), oldest wait first: the web board, one query.
pub async fn open_board(db: &Db, agency_id: &str) -> Result<Vec<OpenLine>> {
    let rows = sqlx::query(
        "SELECT r.id, r.client_id, c.name AS client_name, c.lifecycle AS client_lifecycle, r.platform, r.permission, \
         r.asset, r.status, r.status_at, r.failed_reason, r.stuck_at, r.stuck_message FROM access_requests r \
         JOIN clients c ON c.id = r.client_id \
         WHERE r.agency_id = $1 AND r.status IN ('requested', 'failed', 'granted_by_client') \
         ORDER BY r.status_at, r.id",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            let lc: String = r.try_get("client_lifecycle")?;
            Ok(OpenLine {
                id: r.try_get("id")?,
                client_id: r.try_get("client_id")?,
                client_name: r.try_get("client_name")?,
                client_lifecycle: Lifecycle::parse(&lc)
                    .ok_or_else(|| StoreError::Config(format!("bad stored lifecycle {lc}")))?,
                platform: r.try_get("platform")?,
                permission: r.try_get("permission")?,
                asset: r.try_get("asset")?,
                status: AccessStatus::parse(&status).ok_or_else(|| {
                    StoreError::Config(format!("bad stored access status {status}"))
                })?,
                status_at: r.try_get("status_at")?,
                failed_reason: r.try_get("failed_reason")?,
                stuck_at: r.try_get("stuck_at")?,
                stuck_message: r.try_get("stuck_message")?,
            })
        })
        .collect()
}

/// Per client: how many requests wait on the client and how many on the
/// agency (only clients with something open).
pub async fn waiting_counts(db: &Db, agency_id: &str) -> Result<Vec<(String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT client_id, \
         COALESCE(SUM(CASE WHEN status IN ('requested', 'failed') THEN 1 ELSE 0 END), 0) AS on_client, \
         COALESCE(SUM(CASE WHEN status = 'granted_by_client' THEN 1 ELSE 0 END), 0) AS on_agency \
         FROM access_requests WHERE agency_id = $1 AND status IN ('requested', 'failed', 'granted_by_client') \
         GROUP BY client_id",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("client_id")?,
                r.try_get("on_client")?,
                r.try_get("on_agency")?,
            ))
        })
        .collect()
}

/// Access the agency may still hold, across clients (verified or granted,
/// not revoked, not waived): the access inventory and "still held" view.
pub async fn held(db: &Db, agency_id: &str) -> Result<Vec<BoardLine>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS}, c.name AS client_name, c.lifecycle AS client_lifecycle FROM access_requests r \
         JOIN clients c ON c.id = r.client_id \
         WHERE r.agency_id = $1 AND r.status IN ('verified', 'granted_by_client') AND r.waived_at IS NULL \
         ORDER BY c.name, r.client_id, r.position"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(board_line).collect()
}

/// How many lines of a client's revoke checklist are still open.
pub(crate) async fn open_revoke_lines(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_requests WHERE agency_id = $1 AND client_id = $2 \
         AND status IN ('verified', 'granted_by_client') AND waived_at IS NULL",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(conn)
    .await?)
}
