//! The agency's connections to platform APIs (connectors): its own OAuth app
//! per platform, each connection from the consent screen (`pending`) to
//! `active`, `expired` or `revoked`, and its tokens.
//!
//! Secrets arrive sealed (the server seals with its key) and leave sealed;
//! the store never sees a token in clear. Saving an app, connecting, expiry
//! and removal are audited writes; a token refresh and a check's
//! success/error stamp are bookkeeping written directly (a daily re-check of
//! every request must not flood the audit log), like the outbox's claims.

use std::collections::BTreeMap;

use baton_core::connectors::ConnectorPlatform;
use baton_core::{events, CoreError};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// The agency's own OAuth app for one platform.
#[derive(Debug, Clone)]
pub struct App {
    pub platform: ConnectorPlatform,
    pub client_id: String,
    pub client_secret_sealed: String,
    /// Extras by key (a developer token is sealed, ids are plain).
    pub extras: BTreeMap<String, String>,
    pub updated_at: i64,
    pub updated_by: String,
}

fn platform_of(r: &AnyRow) -> Result<ConnectorPlatform> {
    let key: String = r.try_get("platform")?;
    ConnectorPlatform::parse(&key)
        .ok_or_else(|| StoreError::Config(format!("bad stored connector platform {key}")))
}

fn app_from_row(r: &AnyRow) -> Result<App> {
    let extras: String = r.try_get("extras")?;
    Ok(App {
        platform: platform_of(r)?,
        client_id: r.try_get("client_id")?,
        client_secret_sealed: r.try_get("client_secret_sealed")?,
        extras: serde_json::from_str(&extras).unwrap_or_default(),
        updated_at: r.try_get("updated_at")?,
        updated_by: r.try_get("updated_by")?,
    })
}

const APP_COLS: &str = "platform, client_id, client_secret_sealed, extras, updated_at, updated_by";

/// The agency's app for `platform`, if saved.
pub async fn app(db: &Db, agency_id: &str, platform: ConnectorPlatform) -> Result<Option<App>> {
    let row = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM connector_apps WHERE agency_id = $1 AND platform = $2"
    ))
    .bind(agency_id)
    .bind(platform.key())
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(app_from_row).transpose()
}

/// Every app the agency saved.
pub async fn apps(db: &Db, agency_id: &str) -> Result<Vec<App>> {
    let rows = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM connector_apps WHERE agency_id = $1 ORDER BY platform"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(app_from_row).collect()
}

/// An app as an admin typed it; `client_secret_sealed: None` keeps the one
/// saved (an edit of the id or an extra without re-typing the secret).
#[derive(Debug, Clone)]
pub struct AppInput {
    pub client_id: String,
    pub client_secret_sealed: Option<String>,
    /// Extras by key; an empty value removes one.
    pub extras: BTreeMap<String, String>,
    /// Which extras are secrets (their values arrive sealed): for the audit
    /// entry, which names them without their values.
    pub secret_extras: Vec<String>,
}

/// Saves the agency's app for `platform`.
pub async fn save_app(cx: Cx<'_>, platform: ConnectorPlatform, input: AppInput) -> Result<App> {
    let client_id = input.client_id.trim().to_string();
    if client_id.is_empty() {
        return Err(CoreError::invalid("client_id", "must not be empty").into());
    }
    if client_id.len() > 300
        || client_id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(CoreError::invalid(
            "client_id",
            "must be the app's client id as the platform shows it (no spaces, at most 300 characters)",
        )
        .into());
    }
    let before = app(cx.db, cx.agency_id(), platform).await?;
    let secret = match (input.client_secret_sealed, &before) {
        (Some(s), _) => s,
        (None, Some(b)) => b.client_secret_sealed.clone(),
        (None, None) => {
            return Err(CoreError::invalid(
                "client_secret",
                "is required the first time the app is saved",
            )
            .into())
        }
    };
    let mut extras = before
        .as_ref()
        .map(|b| b.extras.clone())
        .unwrap_or_default();
    for (k, v) in input.extras {
        if v.trim().is_empty() {
            extras.remove(&k);
        } else {
            extras.insert(k, v.trim().to_string());
        }
    }
    let extras_json = serde_json::to_string(&extras).unwrap_or_else(|_| "{}".into());
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO connector_apps (agency_id, platform, client_id, client_secret_sealed, extras, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (agency_id, platform) DO UPDATE SET client_id = $3, client_secret_sealed = $4, \
         extras = $5, updated_at = $6, updated_by = $7",
    )
    .bind(cx.agency_id())
    .bind(platform.key())
    .bind(&client_id)
    .bind(&secret)
    .bind(&extras_json)
    .bind(cx.now)
    .bind(&cx.actor.label)
    .execute(tx.conn())
    .await?;
    // The audit entry names what was set, never a secret's value.
    let shown: BTreeMap<&String, &str> = extras
        .iter()
        .map(|(k, v)| {
            let v = if input.secret_extras.contains(k) {
                "(sealed)"
            } else {
                v.as_str()
            };
            (k, v)
        })
        .collect();
    tx.commit(Record::new(
        events::CONNECTOR_APP_SAVED,
        "connector_app",
        platform.key(),
        json!({"platform": platform.key(), "client_id": client_id, "extras": shown,
               "secret_changed": before.as_ref().is_none_or(|b| b.client_secret_sealed != secret)}),
    ))
    .await?;
    app(cx.db, cx.agency_id(), platform)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The admin is at the platform's consent screen.
    Pending,
    Active,
    /// The platform refused the refresh token; an admin reconnects.
    Expired,
    /// Removed by an admin (or replaced by a newer connection).
    Revoked,
    /// The consent was refused or the code exchange failed.
    Failed,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Pending,
            Status::Active,
            Status::Expired,
            Status::Revoked,
            Status::Failed,
        ]
        .into_iter()
        .find(|x| x.key() == s)
    }
}

/// A connection as stored.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: String,
    pub agency_id: String,
    pub platform: ConnectorPlatform,
    pub status: Status,
    pub account: Option<String>,
    pub scopes: String,
    pub verifier_sealed: Option<String>,
    pub pending_until: Option<i64>,
    pub refresh_sealed: Option<String>,
    pub access_sealed: Option<String>,
    pub access_expires_at: Option<i64>,
    pub started_by: String,
    pub created_at: i64,
    pub connected_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

const COLS: &str =
    "id, agency_id, platform, status, account, scopes, verifier_sealed, pending_until, \
    refresh_sealed, access_sealed, access_expires_at, started_by, created_at, connected_at, \
    last_success_at, last_error, last_error_at, revoked_at, revoked_by";

fn from_row(r: &AnyRow) -> Result<Connection> {
    let status: String = r.try_get("status")?;
    Ok(Connection {
        id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        platform: platform_of(r)?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("bad stored connection status {status}")))?,
        account: r.try_get("account")?,
        scopes: r.try_get("scopes")?,
        verifier_sealed: r.try_get("verifier_sealed")?,
        pending_until: r.try_get("pending_until")?,
        refresh_sealed: r.try_get("refresh_sealed")?,
        access_sealed: r.try_get("access_sealed")?,
        access_expires_at: r.try_get("access_expires_at")?,
        started_by: r.try_get("started_by")?,
        created_at: r.try_get("created_at")?,
        connected_at: r.try_get("connected_at")?,
        last_success_at: r.try_get("last_success_at")?,
        last_error: r.try_get("last_error")?,
        last_error_at: r.try_get("last_error_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_by: r.try_get("revoked_by")?,
    })
}

/// One connection of the agency.
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Connection> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM connections WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The agency's connections, newest first; pending ones only while their
/// consent window is open.
pub async fn list(db: &Db, agency_id: &str, now: i64) -> Result<Vec<Connection>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM connections WHERE agency_id = $1 \
         AND (status <> 'pending' OR pending_until > $2) ORDER BY created_at DESC, id DESC"
    ))
    .bind(agency_id)
    .bind(now)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The agency's active connection to `platform`, if any.
pub async fn active(
    db: &Db,
    agency_id: &str,
    platform: ConnectorPlatform,
) -> Result<Option<Connection>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM connections WHERE agency_id = $1 AND platform = $2 AND status = 'active' \
         ORDER BY connected_at DESC LIMIT 1"
    ))
    .bind(agency_id)
    .bind(platform.key())
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A consent about to start: the hash of its `state`, the sealed PKCE
/// verifier, and until when the callback is accepted.
#[derive(Debug, Clone)]
pub struct Start {
    pub id: String,
    pub state_hash: String,
    pub verifier_sealed: String,
    pub pending_until: i64,
}

/// Records a pending connection (the admin goes to the consent screen).
pub async fn start(cx: Cx<'_>, platform: ConnectorPlatform, s: Start) -> Result<Connection> {
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO connections (id, agency_id, platform, status, scopes, state_hash, verifier_sealed, \
         pending_until, started_by, created_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9)",
    )
    .bind(&s.id)
    .bind(cx.agency_id())
    .bind(platform.key())
    .bind(platform.scopes())
    .bind(&s.state_hash)
    .bind(&s.verifier_sealed)
    .bind(s.pending_until)
    .bind(&cx.actor.label)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(Record::new(
        "connection.started",
        "connection",
        &s.id,
        json!({"platform": platform.key()}),
    ))
    .await?;
    get(cx.db, cx.agency_id(), &s.id).await
}

/// The pending connection whose `state` hashes to `state_hash` (any agency:
/// the state is the capability), while its window is open.
pub async fn pending_by_state(db: &Db, state_hash: &str, now: i64) -> Result<Option<Connection>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM connections WHERE state_hash = $1 AND status = 'pending' AND pending_until > $2"
    ))
    .bind(state_hash)
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// What the platform's token endpoint gave, sealed.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_sealed: String,
    pub access_expires_at: Option<i64>,
    /// `None` keeps the refresh token held (a platform that does not rotate).
    pub refresh_sealed: Option<String>,
}

/// The consent came back: the pending connection becomes active with its
/// tokens (claimed: a replayed callback finds nothing pending). An older
/// active connection to the platform is replaced. Requests the connector
/// checks that are granted or held are queued for a check now.
pub async fn connect(
    cx: Cx<'_>,
    id: &str,
    account: Option<&str>,
    scopes: Option<&str>,
    tokens: Tokens,
) -> Result<Connection> {
    let mut tx = cx.begin().await?;
    let row = sqlx::query(
        "UPDATE connections SET status = 'active', account = $3, scopes = COALESCE($4, scopes), \
         refresh_sealed = $5, access_sealed = $6, access_expires_at = $7, connected_at = $8, \
         last_success_at = $8, state_hash = NULL, verifier_sealed = NULL, pending_until = NULL \
         WHERE agency_id = $1 AND id = $2 AND status = 'pending' RETURNING platform",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(account)
    .bind(scopes)
    .bind(tokens.refresh_sealed.as_deref())
    .bind(&tokens.access_sealed)
    .bind(tokens.access_expires_at)
    .bind(cx.now)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| CoreError::Conflict("this consent was already used or has expired".into()))?;
    let platform = platform_of(&row)?;
    let replaced: Vec<String> = sqlx::query_scalar(
        "UPDATE connections SET status = 'revoked', revoked_at = $4, revoked_by = 'replaced by a new connection', \
         refresh_sealed = NULL, access_sealed = NULL \
         WHERE agency_id = $1 AND platform = $2 AND status IN ('active', 'expired') AND id <> $3 RETURNING id",
    )
    .bind(cx.agency_id())
    .bind(platform.key())
    .bind(id)
    .bind(cx.now)
    .fetch_all(tx.conn())
    .await?;
    let queued = queue_checks(tx.conn(), cx.agency_id(), platform, cx.now).await?;
    tx.commit(
        Record::new(
            events::CONNECTION_CONNECTED,
            "connection",
            id,
            json!({"platform": platform.key(), "account": account, "replaced": replaced,
                   "checks_queued": queued}),
        )
        .with_event(
            None,
            json!({"platform": platform.key(), "account": account}),
        ),
    )
    .await?;
    get(cx.db, cx.agency_id(), id).await
}

/// Queues a check now of every request `platform`'s connector checks that
/// is granted or held and not already queued. Returns how many.
pub(crate) async fn queue_checks(
    conn: &mut sqlx::AnyConnection,
    agency_id: &str,
    platform: ConnectorPlatform,
    now: i64,
) -> Result<u64> {
    let keys = platform.request_platforms();
    let list = keys
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query(&format!(
        "UPDATE access_requests SET next_check_at = $2, check_failures = 0 WHERE agency_id = $1 \
         AND platform IN ({list}) AND status IN ('granted_by_client', 'verified') \
         AND (next_check_at IS NULL OR next_check_at > $2)"
    ))
    .bind(agency_id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// The consent failed (refused at the platform, or the code did not
/// exchange): the pending connection is closed with the reason.
pub async fn fail_pending(cx: Cx<'_>, id: &str, reason: &str) -> Result<()> {
    let mut tx = cx.begin().await?;
    let n = sqlx::query(
        "UPDATE connections SET status = 'failed', last_error = $3, last_error_at = $4, \
         state_hash = NULL, verifier_sealed = NULL, pending_until = NULL \
         WHERE agency_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(reason)
    .bind(cx.now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(
            CoreError::Conflict("this consent was already used or has expired".into()).into(),
        );
    }
    tx.commit(Record::new(
        "connection.failed",
        "connection",
        id,
        json!({"reason": reason}),
    ))
    .await?;
    Ok(())
}

/// Removes a connection: its tokens are erased; checks that relied on it
/// will say "could not check" until another is made.
pub async fn revoke(cx: Cx<'_>, id: &str) -> Result<Connection> {
    let mut tx = cx.begin().await?;
    let row = sqlx::query(
        "UPDATE connections SET status = 'revoked', revoked_at = $3, revoked_by = $4, refresh_sealed = NULL, \
         access_sealed = NULL, state_hash = NULL, verifier_sealed = NULL \
         WHERE agency_id = $1 AND id = $2 AND status <> 'revoked' RETURNING platform",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(cx.now)
    .bind(&cx.actor.label)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        drop(tx);
        // Already removed (a retry), or not this agency's.
        let c = get(cx.db, cx.agency_id(), id).await?;
        return Ok(c);
    };
    let platform = platform_of(&row)?;
    tx.commit(
        Record::new(
            events::CONNECTION_REVOKED,
            "connection",
            id,
            json!({"platform": platform.key()}),
        )
        .with_event(None, json!({"platform": platform.key()})),
    )
    .await?;
    get(cx.db, cx.agency_id(), id).await
}

/// The platform refused the refresh token: the connection is expired
/// (audited, once) and shows why.
pub async fn expire(cx: Cx<'_>, id: &str, reason: &str) -> Result<()> {
    let mut tx = cx.begin().await?;
    let n = sqlx::query(
        "UPDATE connections SET status = 'expired', last_error = $3, last_error_at = $4, \
         access_sealed = NULL, refreshing_until = NULL WHERE agency_id = $1 AND id = $2 AND status = 'active'",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(reason)
    .bind(cx.now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(());
    }
    tx.commit(
        Record::new(
            events::CONNECTION_EXPIRED,
            "connection",
            id,
            json!({"reason": reason}),
        )
        .with_event(None, json!({"reason": reason})),
    )
    .await?;
    Ok(())
}

/// Claims the right to refresh the connection's token for `lease_ms`, so
/// two servers never spend one rotating refresh token twice. False when
/// another holds it (or the connection is no longer active).
pub async fn claim_refresh(db: &Db, id: &str, now: i64, lease_ms: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE connections SET refreshing_until = $3 WHERE id = $1 AND status = 'active' \
         AND (refreshing_until IS NULL OR refreshing_until <= $2)",
    )
    .bind(id)
    .bind(now)
    .bind(now + lease_ms)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Keeps refreshed tokens and lets the refresh lease go.
pub async fn store_tokens(db: &Db, id: &str, tokens: &Tokens, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE connections SET access_sealed = $2, access_expires_at = $3, \
         refresh_sealed = COALESCE($4, refresh_sealed), refreshing_until = NULL, \
         last_success_at = $5 WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .bind(&tokens.access_sealed)
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_sealed.as_deref())
    .bind(now)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// Lets a refresh lease go without new tokens (the refresh failed for a
/// reason that is not the token's: an outage).
pub async fn release_refresh(db: &Db, id: &str) -> Result<()> {
    sqlx::query("UPDATE connections SET refreshing_until = NULL WHERE id = $1")
        .bind(id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// Stamps the result of a call through the connection: its last success,
/// or its last error (shown on the connection).
pub async fn stamp(db: &Db, id: &str, now: i64, error: Option<&str>) -> Result<()> {
    match error {
        None => {
            sqlx::query("UPDATE connections SET last_success_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&db.writer)
                .await?
        }
        Some(e) => {
            sqlx::query("UPDATE connections SET last_error = $2, last_error_at = $3 WHERE id = $1")
                .bind(id)
                .bind(e)
                .bind(now)
                .execute(&db.writer)
                .await?
        }
    };
    Ok(())
}
