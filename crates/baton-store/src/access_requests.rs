//! Access requests: created with an onboarding link, moved by the client
//! ("I've granted access", "I'm stuck"), verified, failed, revoked or waived
//! by the agency. Every move recomputes when the client's access was
//! complete (the time-to-verified-access KPI) in the same transaction, and
//! the first time it is complete records `onboarding.completed`.

use baton_core::access::{self, AccessAction, AccessStatus, KpiRequest, Mover, WaitingOn};
use baton_core::lifecycle::Lifecycle;
use baton_core::platforms::Platform;
use baton_core::{events, ids, validate, CoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{flag, Db};
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::{Actor, NewEvent, Record, WriteTx};

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
    pub id: String,
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
    r.waived_by, r.waive_reason, r.connector";

pub(crate) fn from_row(r: &AnyRow) -> Result<AccessRequest> {
    let status: String = r.try_get("status")?;
    Ok(AccessRequest {
        id: r.try_get("id")?,
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
    Ok(page::from_rows(items, limit, |l| l.request.id.clone()))
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

/// What is done to a request, with the text each move needs.
#[derive(Debug, Clone)]
pub enum Act {
    /// "I've granted access" (client), or a member/connector recording it.
    Grant { mover: Mover },
    /// "I'm stuck": the client's message; the status does not change.
    Stuck { message: String },
    /// Working access confirmed; the note says what was checked.
    Verify { mover: Mover, note: String },
    /// It does not work; the reason goes back to the client.
    Fail { mover: Mover, reason: String },
    /// Removed at the platform (held access) or withdrawn (not yet granted).
    Revoke { mover: Mover, note: Option<String> },
    /// Offboarding: the access is not revoked, for a stated reason.
    Waive { reason: String },
}

fn required_text(field: &str, v: &str) -> Result<String> {
    if v.trim().is_empty() {
        return Err(CoreError::invalid(field, "must not be empty").into());
    }
    Ok(validate::note(field, v)?)
}

/// Applies `act` to request `id`; the change, its event and the audit entry
/// commit together. Returns the request as it is now.
///
/// The steps every move shares are here (text checked before the
/// transaction, the row locked, an archived client refused, the link's
/// reminders and the client's completion kept up to date, one record
/// committed); what each move changes is its own function below.
pub async fn act(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    act: Act,
) -> Result<AccessRequest> {
    if !ids::has_shape(id, ids::ACCESS_REQUEST) {
        return Err(StoreError::NotFound);
    }
    // Validate text before opening the transaction.
    let text = match &act {
        Act::Grant { .. } => None,
        Act::Stuck { message } => Some(required_text("message", message)?),
        Act::Verify { note, .. } => Some(required_text("note", note)?),
        Act::Fail { reason, .. } => Some(required_text("reason", reason)?),
        Act::Revoke { note, .. } => match note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(validate::note("note", n)?),
        },
        Act::Waive { reason } => Some(required_text("reason", reason)?),
    };
    // Only a failure needs the reminder schedule (it restarts reminders).
    let reminders = if matches!(act, Act::Fail { .. }) {
        reminder_schedule(db, agency_id).await?
    } else {
        (None, 0)
    };
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let (current, lifecycle) = lock_open(&mut tx, agency_id, id).await?;
    let mut m = Move {
        tx: &mut tx,
        agency_id,
        id,
        now,
        who: actor.label.clone(),
        current: &current,
        lifecycle,
        text: text.as_deref(),
    };
    let (event_type, detail) = match &act {
        Act::Grant { mover } => grant(&mut m, *mover).await?,
        Act::Stuck { .. } => stuck(&mut m).await?,
        Act::Verify { mover, .. } => verify(&mut m, *mover).await?,
        Act::Fail { mover, .. } => fail(&mut m, *mover, reminders).await?,
        Act::Revoke { mover, .. } => revoke(&mut m, *mover).await?,
        Act::Waive { .. } => waive(&mut m).await?,
    };
    finish(tx, agency_id, id, &current, event_type, detail).await?;
    get(db, agency_id, id).await
}

/// One move of one request, inside its transaction: what the move
/// functions read and write.
struct Move<'a> {
    tx: &'a mut WriteTx,
    agency_id: &'a str,
    id: &'a str,
    now: i64,
    /// The actor's label, recorded as who verified, revoked or waived.
    who: String,
    /// The request as it was before the move (locked).
    current: &'a AccessRequest,
    /// Its client's lifecycle stage (key).
    lifecycle: String,
    /// The move's checked text (message, note or reason).
    text: Option<&'a str>,
}

/// Locks request `id` (portable `SELECT … FOR UPDATE`) and reads it with
/// its client's lifecycle stage; refuses when the client is archived (its
/// requests are closed).
async fn lock_open(tx: &mut WriteTx, agency_id: &str, id: &str) -> Result<(AccessRequest, String)> {
    let row = sqlx::query(&format!(
        "UPDATE access_requests SET status_at = status_at WHERE agency_id = $1 AND id = $2 \
         RETURNING {}",
        COLS.replace("r.", "")
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)?;
    let current = from_row(&row)?;
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(&current.client_id)
            .fetch_one(tx.conn())
            .await?;
    if lifecycle == Lifecycle::Archived.key() {
        return Err(CoreError::Conflict(
            "the client is archived; its access requests are closed".into(),
        )
        .into());
    }
    Ok((current, lifecycle))
}

/// What a move records: its event type and the details it adds.
type Recorded = (&'static str, serde_json::Value);

/// "I've granted access" (the client), or a member or connector recording it.
async fn grant(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Grant, mover)?;
    let by = match mover {
        Mover::Client => "client".to_string(),
        Mover::Connector => "connector".to_string(),
        Mover::Member => m.who.clone(),
    };
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, granted_at = $4, granted_by = $5, \
         stuck_at = NULL, stuck_message = NULL WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(&by)
    .execute(m.tx.conn())
    .await?;
    Ok((events::ACCESS_GRANTED, json!({"by": by, "mover": mover})))
}

/// "I'm stuck": the client's message; the status does not change.
async fn stuck(m: &mut Move<'_>) -> Result<Recorded> {
    let status = m.current.status;
    if status.waiting_on() != Some(WaitingOn::Client) && status != AccessStatus::GrantedByClient {
        return Err(CoreError::Conflict(format!(
            "the request is {}; nothing is waiting on the client",
            status.key()
        ))
        .into());
    }
    sqlx::query(
        "UPDATE access_requests SET stuck_at = $3, stuck_message = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(m.now)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((events::ACCESS_STUCK, json!({"message": m.text})))
}

/// Working access confirmed; the note says what was checked. The KPI
/// counts the first confirmation: re-verifying after a failure keeps it.
async fn verify(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Verify, mover)?;
    let verified_at = m.current.verified_at.unwrap_or(m.now);
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, verified_at = $5, verified_by = $6, \
         verify_note = $7, failed_reason = NULL, stuck_at = NULL, stuck_message = NULL \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(verified_at)
    .bind(&m.who)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((
        events::ACCESS_VERIFIED,
        json!({"note": m.text, "mover": mover}),
    ))
}

/// It does not work; the reason goes back to the client. A required
/// request is back with the client: if the link's reminders had stopped
/// (nothing required was waiting), they start again (an optional one does
/// not restart them). `reminders`: the agency's (interval, limit).
async fn fail(m: &mut Move<'_>, mover: Mover, reminders: (Option<i64>, i64)) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Fail, mover)?;
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, failed_reason = $5 WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    let (every, max) = reminders;
    if let (Some(link_id), Some(every), true) = (&m.current.link_id, every, m.current.required) {
        sqlx::query(
            "UPDATE onboarding_links SET next_reminder_at = $3 WHERE agency_id = $1 AND id = $2 \
             AND next_reminder_at IS NULL AND revoked_at IS NULL AND expires_at > $3 AND reminder_count < $4",
        )
        .bind(m.agency_id)
        .bind(link_id)
        .bind(m.now + every)
        .bind(max)
        .execute(m.tx.conn())
        .await?;
    }
    Ok((
        events::ACCESS_FAILED,
        json!({"reason": m.text, "mover": mover}),
    ))
}

/// Removed at the platform (held access) or withdrawn (not yet granted).
async fn revoke(m: &mut Move<'_>, mover: Mover) -> Result<Recorded> {
    let to = access::transition(m.current.status, AccessAction::Revoke, mover)?;
    sqlx::query(
        "UPDATE access_requests SET status = $3, status_at = $4, revoked_at = $4, revoked_by = $5, revoke_note = $6 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(to.key())
    .bind(m.now)
    .bind(&m.who)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((
        events::ACCESS_REVOKED,
        json!({"note": m.text, "was": m.current.status.key(), "mover": mover}),
    ))
}

/// Offboarding: held access is not revoked, for a stated reason.
async fn waive(m: &mut Move<'_>) -> Result<Recorded> {
    if m.lifecycle != Lifecycle::Offboarding.key() {
        return Err(CoreError::Conflict(
            "revokes are waived only during offboarding (after contract_ended)".into(),
        )
        .into());
    }
    if !m.current.needs_revoke() {
        return Err(CoreError::Conflict(format!(
            "the request is {}{}; there is no held access to waive",
            m.current.status.key(),
            if m.current.waived_at.is_some() {
                " and already waived"
            } else {
                ""
            }
        ))
        .into());
    }
    sqlx::query(
        "UPDATE access_requests SET waived_at = $3, waived_by = $4, waive_reason = $5 WHERE agency_id = $1 AND id = $2",
    )
    .bind(m.agency_id)
    .bind(m.id)
    .bind(m.now)
    .bind(&m.who)
    .bind(m.text)
    .execute(m.tx.conn())
    .await?;
    Ok((events::ACCESS_WAIVED, json!({"reason": m.text})))
}

/// After any move: the link's reminders stop when nothing required waits
/// on the client any more (now, rather than at their next due time;
/// optional requests alone are not reminded about), the client's access
/// completion is refreshed, and the move commits as one record.
async fn finish(
    mut tx: WriteTx,
    agency_id: &str,
    id: &str,
    current: &AccessRequest,
    event_type: &'static str,
    detail: serde_json::Value,
) -> Result<()> {
    let mut data = json!({
        "request_id": id,
        "platform": current.platform,
        "permission": current.permission,
        "asset": current.asset,
        "from": current.status.key(),
    });
    if let (Some(d), Some(extra)) = (data.as_object_mut(), detail.as_object()) {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    if let Some(link_id) = &current.link_id {
        sqlx::query(
            "UPDATE onboarding_links SET next_reminder_at = NULL WHERE agency_id = $1 AND id = $2 \
             AND next_reminder_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM access_requests \
             WHERE link_id = $2 AND agency_id = $1 AND required = 1 AND status IN ('requested', 'failed'))",
        )
        .bind(agency_id)
        .bind(link_id)
        .execute(tx.conn())
        .await?;
    }
    let completed = refresh_completion(tx.conn(), agency_id, &current.client_id).await?;
    let mut record = Record::new(event_type, "access_request", id, data.clone())
        .with_event(Some(&current.client_id), data);
    if let Some(at) = completed {
        record = record.push_event(completed_event(&current.client_id, at));
    }
    tx.commit(record).await?;
    Ok(())
}

/// `onboarding.completed`: the client's access was complete at `at`.
pub(crate) fn completed_event(client_id: &str, at: i64) -> NewEvent {
    NewEvent {
        id: None,
        event_type: events::ONBOARDING_COMPLETED.into(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at: Some(at),
        note: None,
        data: json!({"access_complete_at": at}),
    }
}

/// Recomputes `clients.access_complete_at` from the client's requests.
/// Returns the completion time when the client just became complete.
pub(crate) async fn refresh_completion(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<Option<i64>> {
    let rows = sqlx::query(
        "SELECT required, status, verified_at FROM access_requests WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut reqs = Vec::with_capacity(rows.len());
    for r in &rows {
        let s: String = r.try_get("status")?;
        reqs.push(KpiRequest {
            required: flag(r, "required")?,
            status: AccessStatus::parse(&s).unwrap_or(AccessStatus::Requested),
            verified_at: r.try_get("verified_at")?,
        });
    }
    let complete = access::access_complete_at(&reqs);
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT access_complete_at FROM clients WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    if before != complete {
        sqlx::query("UPDATE clients SET access_complete_at = $3 WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .bind(complete)
            .execute(&mut *conn)
            .await?;
    }
    if before.is_some() || complete.is_none() {
        return Ok(None);
    }
    // `onboarding.completed` is recorded once per client: a later link with
    // new required requests moves the KPI but does not complete onboarding again.
    let already: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM events WHERE agency_id = $1 AND client_id = $2 AND type = 'onboarding.completed' LIMIT 1",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(if already.is_some() { None } else { complete })
}

/// Which open requests a withdrawal covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Withdraw<'a> {
    /// Every request of the client (it left delivery).
    Client(&'a str),
    /// The requests one link asked for (it was revoked or expired).
    Link(&'a str),
}

/// A request a withdrawal or a restore moved: for the event it records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Moved {
    pub id: String,
    pub platform: String,
}

/// Withdraws the requests in `scope` that wait on the client (`requested`,
/// `failed`): they become `revoked` with `why` as their note, keep their
/// status in `withdrawn_from` and the event that withdrew them in
/// `withdrawn_cause` (so [`restore`] can bring them back), and their links'
/// reminders stop. Held access (granted or verified) is not touched: it is
/// revoked at the platform, on the revoke checklist.
pub(crate) async fn withdraw(
    conn: &mut AnyConnection,
    agency_id: &str,
    scope: Withdraw<'_>,
    now: i64,
    by: &str,
    why: &str,
    cause: &str,
) -> Result<Vec<Moved>> {
    let (col, key) = match scope {
        Withdraw::Client(c) => ("client_id", c),
        Withdraw::Link(l) => ("link_id", l),
    };
    let rows = sqlx::query(&format!(
        "SELECT id, platform FROM access_requests WHERE agency_id = $1 AND {col} = $2 \
         AND status IN ('requested', 'failed') ORDER BY position, id"
    ))
    .bind(agency_id)
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    let moved = rows
        .iter()
        .map(|r| {
            Ok(Moved {
                id: r.try_get("id")?,
                platform: r.try_get("platform")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !moved.is_empty() {
        sqlx::query(&format!(
            "UPDATE access_requests SET withdrawn_from = status, withdrawn_cause = $6, status = 'revoked', \
             status_at = $3, revoked_at = $3, revoked_by = $4, revoke_note = $5 \
             WHERE agency_id = $1 AND {col} = $2 AND status IN ('requested', 'failed')"
        ))
        .bind(agency_id)
        .bind(key)
        .bind(now)
        .bind(by)
        .bind(why)
        .bind(cause)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(&format!(
        "UPDATE onboarding_links SET next_reminder_at = NULL WHERE agency_id = $1 AND {} = $2",
        if col == "link_id" { "id" } else { "client_id" }
    ))
    .bind(agency_id)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(moved)
}

/// Brings back the requests withdrawn by the event `cause`, in the status
/// they had; the reminders of their links start again (on the agency's
/// schedule, while the link is live). `reminder_every_ms`/`reminder_max`:
/// the agency's reminder schedule.
pub(crate) async fn restore(
    conn: &mut AnyConnection,
    agency_id: &str,
    cause: &str,
    now: i64,
    reminder_every_ms: Option<i64>,
    reminder_max: i64,
) -> Result<Vec<Moved>> {
    let rows = sqlx::query(
        "SELECT id, platform, link_id FROM access_requests WHERE agency_id = $1 AND withdrawn_cause = $2 \
         AND status = 'revoked' ORDER BY position, id",
    )
    .bind(agency_id)
    .bind(cause)
    .fetch_all(&mut *conn)
    .await?;
    let mut moved = Vec::with_capacity(rows.len());
    let mut links = std::collections::BTreeSet::new();
    for r in &rows {
        moved.push(Moved {
            id: r.try_get("id")?,
            platform: r.try_get("platform")?,
        });
        if let Some(l) = r.try_get::<Option<String>, _>("link_id")? {
            links.insert(l);
        }
    }
    if moved.is_empty() {
        return Ok(moved);
    }
    sqlx::query(
        "UPDATE access_requests SET status = COALESCE(withdrawn_from, 'requested'), status_at = $3, \
         revoked_at = NULL, revoked_by = NULL, revoke_note = NULL, withdrawn_from = NULL, withdrawn_cause = NULL \
         WHERE agency_id = $1 AND withdrawn_cause = $2 AND status = 'revoked'",
    )
    .bind(agency_id)
    .bind(cause)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if let Some(every) = reminder_every_ms {
        for link in links {
            sqlx::query(
                "UPDATE onboarding_links SET next_reminder_at = $3 WHERE agency_id = $1 AND id = $2 \
                 AND next_reminder_at IS NULL AND revoked_at IS NULL AND expires_at > $3 AND reminder_count < $4",
            )
            .bind(agency_id)
            .bind(&link)
            .bind(now + every)
            .bind(reminder_max)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(moved)
}

/// The event of a withdrawal (or, with `restored`, of a restore) on the
/// client's timeline: which requests, why, and the event that caused it.
pub(crate) fn moved_event(
    client_id: &str,
    moved: &[Moved],
    cause: &str,
    why: &str,
    restored: bool,
) -> NewEvent {
    let platforms: Vec<&str> = moved.iter().map(|m| m.platform.as_str()).collect();
    NewEvent {
        id: None,
        event_type: if restored {
            events::ACCESS_RESTORED
        } else {
            events::ACCESS_WITHDRAWN
        }
        .into(),
        client_id: Some(client_id.to_string()),
        entity_type: "client".into(),
        entity_id: client_id.to_string(),
        occurred_at: None,
        note: None,
        data: json!({
            "count": moved.len(),
            "requests": moved,
            "platforms": platforms,
            "reason": why,
            "cause_event_id": cause,
        }),
    }
}

/// The reminder schedule of the agency as (every ms, at most), for
/// [`restore`].
pub(crate) async fn reminder_schedule(db: &Db, agency_id: &str) -> Result<(Option<i64>, i64)> {
    let settings = crate::onboarding_settings::get(db, agency_id).await?;
    Ok((
        (settings.reminder_every_days > 0)
            .then(|| settings.reminder_every_days as i64 * 86_400_000),
        settings.reminder_max as i64,
    ))
}
