//! API tokens: `bt_…` bearer secrets acting as one member with a scope.
//! Shown once at creation; only the SHA-256 hash is stored.

use baton_core::types::TokenId;
use baton_core::{secret, validate};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::members::{self, Member};
use crate::write::{Record, WriteTx};

/// What a token may do (the policy's scope, kept here too for callers).
pub use baton_core::policy::Scope;

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub member_id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLS: &str = "id, member_id, name, scope, created_at, last_used_at, revoked_at";

fn from_row(r: &AnyRow) -> Result<ApiToken> {
    let scope: String = r.try_get("scope")?;
    Ok(ApiToken {
        id: crate::db::typed_id(r, "id")?,
        member_id: r.try_get("member_id")?,
        name: r.try_get("name")?,
        scope: Scope::parse(&scope)
            .ok_or_else(|| StoreError::Config(format!("bad stored scope {scope}")))?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Inserts a token inside an open write; returns the row and the secret, which
/// is never retrievable again.
pub async fn insert(
    tx: &mut WriteTx,
    member: &Member,
    name: &str,
    scope: Scope,
) -> Result<(ApiToken, String)> {
    let name = validate::name("name", name)?;
    if scope == Scope::Admin && !member.is_admin {
        return Err(baton_core::CoreError::invalid(
            "scope",
            "only admins can hold admin-scoped tokens",
        )
        .into());
    }
    let secret = secret::new_api_token();
    let now = tx.now();
    let id = TokenId::new(now);
    sqlx::query(
        "INSERT INTO api_tokens (id, agency_id, member_id, name, token_hash, scope, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(tx.agency_id().to_string())
    .bind(&member.id)
    .bind(&name)
    .bind(secret::hash_token(&secret))
    .bind(scope.key())
    .bind(now)
    .execute(tx.conn())
    .await?;
    let token = ApiToken {
        id,
        member_id: member.id.clone(),
        name,
        scope,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok((token, secret))
}

/// Creates a token for `member` (a member of `cx`'s agency), audited as
/// `api_token.created`.
pub async fn create(
    cx: Cx<'_>,
    member: &Member,
    name: &str,
    scope: Scope,
) -> Result<(ApiToken, String)> {
    if member.agency_id != *cx.agency {
        return Err(StoreError::NotFound);
    }
    let mut tx = cx.begin().await?;
    let (token, secret) = insert(&mut tx, member, name, scope).await?;
    tx.commit(Record::new(
        "api_token.created",
        "api_token",
        &token.id,
        json!({"member_id": member.id, "name": token.name, "scope": scope.key()}),
    ))
    .await?;
    Ok((token, secret))
}

/// The token and member a bearer secret stands for, if live.
pub async fn authenticate(db: &Db, secret_value: &str) -> Result<Option<(ApiToken, Member)>> {
    // One round trip: every API request pays for this lookup.
    let row = sqlx::query(&format!(
        "SELECT t.id AS tok_id, t.name AS tok_name, t.scope AS tok_scope, t.created_at AS tok_created_at, \
         t.last_used_at AS tok_last_used_at, {} \
         FROM api_tokens t JOIN members m ON m.id = t.member_id AND m.agency_id = t.agency_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND m.active = 1",
        members::COLS_AS_M
    ))
    .bind(secret::hash_token(secret_value))
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let member = members::from_row(&row)?;
    let scope: String = row.try_get("tok_scope")?;
    let token = ApiToken {
        id: crate::db::typed_id(&row, "tok_id")?,
        member_id: member.id.clone(),
        name: row.try_get("tok_name")?,
        scope: Scope::parse(&scope)
            .ok_or_else(|| StoreError::Config(format!("bad stored scope {scope}")))?,
        created_at: row.try_get("tok_created_at")?,
        last_used_at: row.try_get("tok_last_used_at")?,
        revoked_at: None,
    };
    Ok(Some((token, member)))
}

/// Notes when a token was last used (at most once a minute per token; not
/// audited: it is telemetry, not a change).
pub async fn touch(db: &Db, token: &ApiToken, now: i64) -> Result<()> {
    if token.last_used_at.is_some_and(|t| now - t < 60_000) {
        return Ok(());
    }
    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(token.id.as_str())
        .bind(now)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// The agency's tokens (admins see all; others pass their member id).
pub async fn list(db: &Db, agency_id: &str, member_id: Option<&str>) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM api_tokens WHERE agency_id = $1 AND ($2 = '' OR member_id = $2) ORDER BY id DESC"
    ))
    .bind(agency_id)
    .bind(member_id.unwrap_or(""))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<ApiToken> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM api_tokens WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Revokes a token, audited as `api_token.revoked`. Revoking twice is a no-op.
pub async fn revoke(cx: Cx<'_>, id: &TokenId) -> Result<ApiToken> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let token = get(db, agency_id, id).await?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id.as_str())
        .bind(now)
        .execute(tx.conn())
        .await?;
    tx.commit(Record::new(
        "api_token.revoked",
        "api_token",
        id,
        json!({"name": token.name}),
    ))
    .await?;
    get(db, agency_id, id).await
}
