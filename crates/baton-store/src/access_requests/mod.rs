//! Access requests: created with an onboarding link, moved by the client
//! ("I've granted access", "I'm stuck"), verified, failed, revoked or waived
//! by the agency. Every move recomputes when the client's access was
//! complete (the time-to-verified-access KPI) in the same transaction, and
//! the first time it is complete records `onboarding.completed`.

mod board;
mod checks;
mod completion;
mod moves;
mod withdrawal;

use baton_core::access::{AccessStatus, WaitingOn};
use baton_core::platforms::Platform;
use baton_core::{ids, validate, CoreError};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{flag, Db};
use crate::error::{Result, StoreError};

pub(crate) use board::open_revoke_lines;
pub use board::{board, held, open_board, waiting_counts, BoardFilter, BoardLine, OpenLine};
pub use checks::{apply_check, claim_due_checks, CheckResult, DueCheck};
pub(crate) use completion::{completed_event, refresh_completion};
pub use moves::{act, Act};
pub use withdrawal::Moved;
pub(crate) use withdrawal::{moved_event, reminder_schedule, restore, withdraw, Withdraw};

pub const MAX_REQUESTS_PER_LINK: usize = 50;

/// A request as typed by a member, a template or a script.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewRequest {
    pub platform: String,
    pub permission: String,
    #[serde(default)]
    pub asset: Option<String>,
    /// Required requests hold the time-to-verified-access KPI; optional ones do not.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessRequest {
    pub id: baton_core::types::AccessRequestId,
    pub client_id: String,
    pub link_id: Option<String>,
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub required: bool,
    pub position: i64,
    pub status: AccessStatus,
    /// When it entered its current status ("waiting since").
    pub status_at: i64,
    pub created_at: i64,
    pub granted_at: Option<i64>,
    /// `client`, `connector` or a member's name.
    pub granted_by: Option<String>,
    pub verified_at: Option<i64>,
    pub verified_by: Option<String>,
    pub verify_note: Option<String>,
    pub failed_reason: Option<String>,
    pub stuck_at: Option<i64>,
    pub stuck_message: Option<String>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_note: Option<String>,
    pub waived_at: Option<i64>,
    pub waived_by: Option<String>,
    pub waive_reason: Option<String>,
    /// The automated connector that manages it, when one does.
    pub connector: Option<String>,
    /// How it was verified: `member` or `connector` (`None` while never verified).
    pub verified_by_kind: Option<String>,
    /// The connection whose check verified it.
    pub verified_connection_id: Option<String>,
    /// What the platform returned at the last check that found the access.
    pub evidence: Option<baton_core::connectors::Evidence>,
    /// The last connector check: `verified`, `pending`, `missing`,
    /// `could_not_check` (or `None` before any).
    pub check_state: Option<String>,
    /// The last check's words (the platform's, for `missing`).
    pub check_detail: Option<String>,
    pub checked_at: Option<i64>,
    /// When a connector checks next (queued now, a retry, the daily re-check).
    pub next_check_at: Option<i64>,
    /// Checks in a row that could not ask the platform (the retry backoff).
    pub check_failures: i64,
    /// When a connector found held access gone.
    pub lost_at: Option<i64>,
    /// When a connector found revoked access gone from the platform.
    pub revoke_confirmed_at: Option<i64>,
}

impl AccessRequest {
    pub fn waiting_on(&self) -> Option<WaitingOn> {
        self.status.waiting_on()
    }

    /// Closed before the client ever granted it (its link was revoked or
    /// expired, the client left delivery): nothing was held, nothing waits.
    pub fn withdrawn(&self) -> bool {
        self.status == AccessStatus::Revoked
            && self.granted_at.is_none()
            && self.verified_at.is_none()
    }

    /// Still held and neither revoked nor waived: a line of the revoke checklist.
    pub fn needs_revoke(&self) -> bool {
        self.status.is_held() && self.waived_at.is_none()
    }
}

pub(crate) const COLS: &str = "r.id, r.client_id, r.link_id, r.platform, r.permission, r.asset, r.required, r.position, \
    r.status, r.status_at, r.created_at, r.granted_at, r.granted_by, r.verified_at, r.verified_by, r.verify_note, \
    r.failed_reason, r.stuck_at, r.stuck_message, r.revoked_at, r.revoked_by, r.revoke_note, r.waived_at, \
    r.waived_by, r.waive_reason, r.connector, r.verified_by_kind, r.verified_connection_id, r.evidence, \
    r.check_state, r.check_detail, r.checked_at, r.next_check_at, r.check_failures, r.lost_at, r.revoke_confirmed_at";

pub(crate) fn from_row(r: &AnyRow) -> Result<AccessRequest> {
    let status: String = r.try_get("status")?;
    Ok(AccessRequest {
        id: crate::db::typed_id(r, "id")?,
        client_id: r.try_get("client_id")?,
        link_id: r.try_get("link_id")?,
        platform: r.try_get("platform")?,
        permission: r.try_get("permission")?,
        asset: r.try_get("asset")?,
        required: flag(r, "required")?,
        position: r.try_get("position")?,
        status: AccessStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("bad stored access status {status}")))?,
        status_at: r.try_get("status_at")?,
        created_at: r.try_get("created_at")?,
        granted_at: r.try_get("granted_at")?,
        granted_by: r.try_get("granted_by")?,
        verified_at: r.try_get("verified_at")?,
        verified_by: r.try_get("verified_by")?,
        verify_note: r.try_get("verify_note")?,
        failed_reason: r.try_get("failed_reason")?,
        stuck_at: r.try_get("stuck_at")?,
        stuck_message: r.try_get("stuck_message")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_by: r.try_get("revoked_by")?,
        revoke_note: r.try_get("revoke_note")?,
        waived_at: r.try_get("waived_at")?,
        waived_by: r.try_get("waived_by")?,
        waive_reason: r.try_get("waive_reason")?,
        connector: r.try_get("connector")?,
        verified_by_kind: r.try_get("verified_by_kind")?,
        verified_connection_id: r.try_get("verified_connection_id")?,
        evidence: r
            .try_get::<Option<String>, _>("evidence")?
            .and_then(|e| serde_json::from_str(&e).ok()),
        check_state: r.try_get("check_state")?,
        check_detail: r.try_get("check_detail")?,
        checked_at: r.try_get("checked_at")?,
        next_check_at: r.try_get("next_check_at")?,
        check_failures: r.try_get("check_failures")?,
        lost_at: r.try_get("lost_at")?,
        revoke_confirmed_at: r.try_get("revoke_confirmed_at")?,
    })
}

/// Checks new requests against the agency's catalog: a known platform, one of
/// its permission levels, an asset of at most 200 characters, no duplicates.
pub fn validate_new(catalog: &[Platform], requests: Vec<NewRequest>) -> Result<Vec<NewRequest>> {
    if requests.is_empty() {
        return Err(CoreError::invalid("requests", "list at least one access request").into());
    }
    if requests.len() > MAX_REQUESTS_PER_LINK {
        return Err(CoreError::invalid(
            "requests",
            format!("at most {MAX_REQUESTS_PER_LINK} requests per link"),
        )
        .into());
    }
    let mut out: Vec<NewRequest> = Vec::with_capacity(requests.len());
    for (i, r) in requests.into_iter().enumerate() {
        let field = format!("requests[{i}]");
        let key = r.platform.trim();
        let p = catalog.iter().find(|p| p.key == key).ok_or_else(|| {
            CoreError::invalid(
                format!("{field}.platform"),
                format!("unknown platform {key:?}; GET /api/v1/platforms lists them"),
            )
        })?;
        let perm = r.permission.trim();
        if p.permission(perm).is_none() {
            return Err(CoreError::invalid(
                format!("{field}.permission"),
                format!(
                    "{perm:?} is not a permission level of {}; expected one of {}",
                    p.name,
                    p.permissions
                        .iter()
                        .map(|x| x.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into());
        }
        let asset = match r.asset.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(validate::name(&format!("{field}.asset"), a)?),
        };
        let n = NewRequest {
            platform: p.key.clone(),
            permission: perm.to_string(),
            asset,
            required: r.required,
        };
        if out
            .iter()
            .any(|o| o.platform == n.platform && o.asset == n.asset)
        {
            return Err(CoreError::invalid(
                field,
                format!(
                    "{} {} is requested twice",
                    p.name,
                    n.asset.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_string(),
            )
            .into());
        }
        out.push(n);
    }
    Ok(out)
}

/// Inserts requests for a client (inside the link's transaction).
pub(crate) async fn insert_all(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    link_id: &str,
    now: i64,
    requests: &[NewRequest],
) -> Result<Vec<String>> {
    let base: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) FROM access_requests WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let id = ids::new_id(ids::ACCESS_REQUEST, now);
        sqlx::query(
            "INSERT INTO access_requests (id, agency_id, client_id, link_id, platform, permission, asset, required, \
             position, status, status_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested', $10, $10)",
        )
        .bind(&id)
        .bind(agency_id)
        .bind(client_id)
        .bind(link_id)
        .bind(&r.platform)
        .bind(&r.permission)
        .bind(r.asset.as_deref())
        .bind(r.required as i64)
        .bind(base + 1 + i as i64)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        out.push(id);
    }
    // New required requests may make a complete client incomplete again.
    refresh_completion(conn, agency_id, client_id).await?;
    Ok(out)
}

pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<AccessRequest> {
    if !ids::has_shape(id, ids::ACCESS_REQUEST) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM access_requests r WHERE r.agency_id = $1 AND r.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A client's requests in the order they were asked for.
pub async fn list_for_client(
    db: &Db,
    agency_id: &str,
    client_id: &str,
) -> Result<Vec<AccessRequest>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM access_requests r WHERE r.agency_id = $1 AND r.client_id = $2 ORDER BY r.position"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The requests of one onboarding link, in order.
pub async fn list_for_link(db: &Db, agency_id: &str, link_id: &str) -> Result<Vec<AccessRequest>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM access_requests r WHERE r.agency_id = $1 AND r.link_id = $2 ORDER BY r.position"
    ))
    .bind(agency_id)
    .bind(link_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}
