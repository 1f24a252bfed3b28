//! Access templates: named sets of requests ("standard social retainer") so
//! an onboarding link is made in two clicks.

use baton_core::types::AccessTemplateId;
use baton_core::{events, ids, validate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::access_requests::{self, NewRequest};
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessTemplate {
    pub id: String,
    pub name: String,
    pub requests: Vec<NewRequest>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn from_row(r: &AnyRow) -> Result<AccessTemplate> {
    let reqs: String = r.try_get("requests")?;
    Ok(AccessTemplate {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        requests: serde_json::from_str(&reqs)
            .map_err(|e| StoreError::Config(format!("bad stored template: {e}")))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn list(db: &Db, agency_id: &str) -> Result<Vec<AccessTemplate>> {
    let rows = sqlx::query(
        "SELECT id, name, requests, created_at, updated_at FROM access_templates WHERE agency_id = $1 ORDER BY name",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<AccessTemplate> {
    if !ids::has_shape(id, ids::ACCESS_TEMPLATE) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(
        "SELECT id, name, requests, created_at, updated_at FROM access_templates WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Creates a template (`id` None) or replaces one, after checking every
/// request against the agency's catalog.
pub async fn save(
    cx: Cx<'_>,
    id: Option<&AccessTemplateId>,
    name: &str,
    requests: Vec<NewRequest>,
) -> Result<AccessTemplate> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let id = id.map(AccessTemplateId::as_str);
    let name = validate::name("name", name)?;
    let catalog = crate::platforms::catalog(db, agency_id).await?;
    let requests = access_requests::validate_new(&catalog, requests)?;
    let doc = serde_json::to_string(&requests).map_err(|e| StoreError::Config(e.to_string()))?;
    let mut tx = cx.begin().await?;
    let id = match id {
        Some(id) => {
            let n = sqlx::query(
                "UPDATE access_templates SET name = $3, requests = $4, updated_at = $5 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id)
            .bind(&name)
            .bind(&doc)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(|e| dup_name(e, &name))?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            id.to_string()
        }
        None => {
            let id = ids::new_id(ids::ACCESS_TEMPLATE, now);
            sqlx::query(
                "INSERT INTO access_templates (id, agency_id, name, requests, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(&id)
            .bind(agency_id)
            .bind(&name)
            .bind(&doc)
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(|e| dup_name(e, &name))?;
            id
        }
    };
    let detail = json!({"name": name, "requests": requests.len()});
    tx.commit(
        Record::new(
            events::ACCESS_TEMPLATE_SAVED,
            "access_template",
            &id,
            detail.clone(),
        )
        .with_event(None, detail),
    )
    .await?;
    get(db, agency_id, &id).await
}

fn dup_name(e: sqlx::Error, name: &str) -> StoreError {
    match StoreError::from(e) {
        StoreError::Duplicate(_) => {
            StoreError::Duplicate(format!("a template named {name:?} already exists"))
        }
        other => other,
    }
}

pub async fn delete(cx: Cx<'_>, id: &AccessTemplateId) -> Result<()> {
    let (db, agency_id) = (cx.db, cx.agency_id());
    let t = get(db, agency_id, id).await?;
    let mut tx = cx.begin().await?;
    sqlx::query("DELETE FROM access_templates WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
    tx.commit(
        Record::new(
            events::ACCESS_TEMPLATE_DELETED,
            "access_template",
            id,
            json!({"name": t.name}),
        )
        .with_event(None, json!({"name": t.name})),
    )
    .await?;
    Ok(())
}

/// A starting template for new agencies and the demo: the usual social
/// retainer platforms, each at its least-privilege default level.
pub fn standard_social_retainer() -> (String, Vec<NewRequest>) {
    let requests = ["meta_page", "instagram", "meta_ad_account", "ga4"]
        .into_iter()
        .filter_map(baton_core::platforms::builtin_get)
        .map(|p| NewRequest {
            platform: p.key.clone(),
            permission: p.default_permission.clone(),
            asset: None,
            required: true,
        })
        .collect();
    ("Standard social retainer".into(), requests)
}
