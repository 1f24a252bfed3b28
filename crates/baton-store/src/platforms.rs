//! The platform catalog an agency sees: the catalog shipped in the binary
//! (`baton_core::platforms`) plus the platforms the agency added itself,
//! stored as JSON definitions.

use baton_core::events;
use baton_core::platforms::{self, Platform};
use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// The agency's own platforms, by key.
pub async fn custom(db: &Db, agency_id: &str) -> Result<Vec<Platform>> {
    let rows = sqlx::query(
        "SELECT definition FROM custom_platforms WHERE agency_id = $1 ORDER BY platform_key",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let d: String = r.try_get("definition")?;
            serde_json::from_str::<Platform>(&d)
                .map_err(|e| StoreError::Config(format!("bad stored platform: {e}")))
        })
        .collect()
}

/// Every platform the agency can request: shipped ones first, then its own.
pub async fn catalog(db: &Db, agency_id: &str) -> Result<Vec<Platform>> {
    let mut all: Vec<Platform> = platforms::builtin().to_vec();
    all.extend(custom(db, agency_id).await?);
    Ok(all)
}

/// The platforms with these keys (shipped or the agency's own), in the
/// order given, each once; unknown keys are left out. Reads the database
/// only when a key is not a shipped platform.
pub async fn lookup(db: &Db, agency_id: &str, keys: &[&str]) -> Result<Vec<Platform>> {
    let mut out: Vec<Platform> = Vec::with_capacity(keys.len());
    let mut custom_needed = false;
    for k in keys {
        if out.iter().any(|p| p.key == *k) {
            continue;
        }
        match platforms::builtin_get(k) {
            Some(p) => out.push(p.clone()),
            None => custom_needed = true,
        }
    }
    if custom_needed {
        for p in custom(db, agency_id).await? {
            if keys.contains(&p.key.as_str()) && !out.iter().any(|o| o.key == p.key) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// One platform of the agency's catalog.
pub async fn get(db: &Db, agency_id: &str, key: &str) -> Result<Platform> {
    if let Some(p) = platforms::builtin_get(key) {
        return Ok(p.clone());
    }
    if !baton_core::onboarding::is_key(key) {
        return Err(StoreError::NotFound);
    }
    let d: Option<String> = sqlx::query_scalar(
        "SELECT definition FROM custom_platforms WHERE agency_id = $1 AND platform_key = $2",
    )
    .bind(agency_id)
    .bind(key)
    .fetch_optional(db.reader())
    .await?;
    let d = d.ok_or(StoreError::NotFound)?;
    serde_json::from_str(&d).map_err(|e| StoreError::Config(format!("bad stored platform: {e}")))
}

/// Adds or replaces one of the agency's own platforms.
pub async fn save(cx: Cx<'_>, platform: Platform) -> Result<Platform> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let p = platforms::validate_custom(platform)?;
    let doc = serde_json::to_string(&p).map_err(|e| StoreError::Config(e.to_string()))?;
    let mut tx = cx.begin().await?;
    let updated = sqlx::query(
        "UPDATE custom_platforms SET definition = $3, updated_at = $4 WHERE agency_id = $1 AND platform_key = $2",
    )
    .bind(agency_id)
    .bind(&p.key)
    .bind(&doc)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO custom_platforms (agency_id, platform_key, definition, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(agency_id)
        .bind(&p.key)
        .bind(&doc)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    let detail = json!({"key": p.key, "name": p.name, "created": updated == 0});
    tx.commit(
        Record::new(events::PLATFORM_SAVED, "platform", &p.key, detail.clone())
            .with_event(None, detail),
    )
    .await?;
    Ok(p)
}

/// Removes one of the agency's own platforms; refused while a request uses it.
pub async fn delete(cx: Cx<'_>, key: &str) -> Result<()> {
    let (db, agency_id) = (cx.db, cx.agency_id());
    if !baton_core::onboarding::is_key(key) {
        return Err(StoreError::NotFound);
    }
    let templates: Vec<String> = crate::access_templates::list(db, agency_id)
        .await?
        .into_iter()
        .filter(|t| t.requests.iter().any(|r| r.platform == key))
        .map(|t| t.name)
        .collect();
    if !templates.is_empty() {
        return Err(baton_core::CoreError::Conflict(format!(
            "access templates use platform {key}: {}; change them first",
            templates.join(", ")
        ))
        .into());
    }
    let mut tx = cx.begin().await?;
    let used: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM access_requests WHERE agency_id = $1 AND platform = $2",
    )
    .bind(agency_id)
    .bind(key)
    .fetch_one(tx.conn())
    .await?;
    if used > 0 {
        return Err(baton_core::CoreError::Conflict(format!(
            "{used} access requests use platform {key}; it stays in the catalog so they keep their instructions"
        ))
        .into());
    }
    let n = sqlx::query("DELETE FROM custom_platforms WHERE agency_id = $1 AND platform_key = $2")
        .bind(agency_id)
        .bind(key)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit(
        Record::new(events::PLATFORM_DELETED, "platform", key, json!({}))
            .with_event(None, json!({"key": key})),
    )
    .await?;
    Ok(())
}
