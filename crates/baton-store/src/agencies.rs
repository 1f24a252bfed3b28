//! Agencies, the tenants: creation (with the first admin), branding, lookups.

use baton_core::{events, ids, validate};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{flag, Db};
use crate::error::{Result, StoreError};
use crate::members::{self, Member, NewMember};
use crate::write::{Actor, Record};

pub const DEFAULT_BRAND: &str = "#1f4fd1";
pub const DEFAULT_ACCENT: &str = "#0f766e";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub brand_color: String,
    pub accent_color: String,
    pub logo_url: Option<String>,
    pub white_label: bool,
    pub custom_domain: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const COLS: &str = "id, name, slug, timezone, brand_color, accent_color, logo_url, white_label, custom_domain, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Agency> {
    from_row_prefixed(r, "")
}

/// An agency from columns named `{prefix}id`, `{prefix}name`, … (for joins).
pub(crate) fn from_row_prefixed(r: &AnyRow, p: &str) -> Result<Agency> {
    let c = |name: &str| format!("{p}{name}");
    Ok(Agency {
        id: r.try_get(c("id").as_str())?,
        name: r.try_get(c("name").as_str())?,
        slug: r.try_get(c("slug").as_str())?,
        timezone: r.try_get(c("timezone").as_str())?,
        brand_color: r.try_get(c("brand_color").as_str())?,
        accent_color: r.try_get(c("accent_color").as_str())?,
        logo_url: r.try_get(c("logo_url").as_str())?,
        white_label: flag(r, &c("white_label"))?,
        custom_domain: r.try_get(c("custom_domain").as_str())?,
        created_at: r.try_get(c("created_at").as_str())?,
        updated_at: r.try_get(c("updated_at").as_str())?,
    })
}

/// A new agency and its first admin.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub name: String,
    pub timezone: Option<String>,
    pub admin_email: String,
    pub admin_name: String,
    /// argon2id PHC string of the admin's password.
    pub admin_password_hash: String,
}

/// Creates an agency with its admin member in one transaction.
pub async fn create(
    db: &Db,
    actor: &Actor,
    now: i64,
    input: NewAgency,
) -> Result<(Agency, Member)> {
    let name = validate::name("name", &input.name)?;
    let timezone = validate::timezone(input.timezone.as_deref().unwrap_or("UTC"))?;
    let email = validate::email(&input.admin_email)?;
    if members::find_by_email(db, &email).await?.is_some() {
        return Err(StoreError::Duplicate(format!(
            "a member with email {email} already exists"
        )));
    }
    let id = ids::new_id(ids::AGENCY, now);
    let base_slug = validate::slugify(&name);
    let taken: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM agencies WHERE slug = $1 OR slug LIKE $2")
            .bind(&base_slug)
            .bind(format!("{base_slug}-%"))
            .fetch_one(db.reader())
            .await?;
    let slug = if taken == 0 {
        base_slug
    } else {
        format!("{base_slug}-{}", &id[id.len() - 6..].to_lowercase())
    };

    let mut tx = db.begin_write(&id, actor, now).await?;
    sqlx::query(
        "INSERT INTO agencies (id, name, slug, timezone, brand_color, accent_color, audit_head, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(&name)
    .bind(&slug)
    .bind(&timezone)
    .bind(DEFAULT_BRAND)
    .bind(DEFAULT_ACCENT)
    .bind(baton_core::audit::GENESIS)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let member = members::insert(
        &mut tx,
        NewMember {
            email,
            name: input.admin_name,
            roles: vec![baton_core::roles::Role::AccountLead],
            is_admin: true,
            password_hash: Some(input.admin_password_hash),
        },
    )
    .await?;
    tx.commit_all(vec![
        Record::new(
            events::AGENCY_CREATED,
            "agency",
            &id,
            json!({"name": name, "slug": slug, "timezone": timezone}),
        )
        .with_event(None, json!({"name": name})),
        Record::new(
            events::MEMBER_CREATED,
            "member",
            &member.id,
            json!({"email": member.email, "is_admin": true}),
        )
        .with_event(None, json!({"email": member.email})),
    ])
    .await?;
    let agency = get(db, &id).await?;
    Ok((agency, member))
}

pub async fn get(db: &Db, id: &str) -> Result<Agency> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM agencies WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Every agency, oldest first (the CLI's audit verify walks them all).
pub async fn list_all(db: &Db) -> Result<Vec<Agency>> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM agencies ORDER BY id"))
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Agency>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM agencies WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The agency whose custom domain is `host` (lower-case, no port).
pub async fn find_by_custom_domain(db: &Db, host: &str) -> Result<Option<Agency>> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM agencies WHERE custom_domain = $1"
    ))
    .bind(host)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Changes to an agency's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgencyPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub brand_color: Option<String>,
    pub accent_color: Option<String>,
    /// `Some("")` clears the logo.
    pub logo_url: Option<String>,
    pub white_label: Option<bool>,
    /// `Some("")` clears the custom domain.
    pub custom_domain: Option<String>,
}

pub async fn update(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    patch: AgencyPatch,
) -> Result<Agency> {
    let current = get(db, agency_id).await?;
    let mut next = current.clone();
    let mut changed = serde_json::Map::new();
    if let Some(v) = &patch.name {
        next.name = validate::name("name", v)?;
    }
    if let Some(v) = &patch.timezone {
        next.timezone = validate::timezone(v)?;
    }
    if let Some(v) = &patch.brand_color {
        next.brand_color = validate::color("brand_color", v)?;
    }
    if let Some(v) = &patch.accent_color {
        next.accent_color = validate::color("accent_color", v)?;
    }
    if let Some(v) = &patch.logo_url {
        next.logo_url = validate::optional_url("logo_url", v)?;
    }
    if let Some(v) = patch.white_label {
        next.white_label = v;
    }
    if let Some(v) = &patch.custom_domain {
        next.custom_domain = validate_domain(v)?;
    }
    for (k, old, new) in [
        ("name", json!(current.name), json!(next.name)),
        ("timezone", json!(current.timezone), json!(next.timezone)),
        (
            "brand_color",
            json!(current.brand_color),
            json!(next.brand_color),
        ),
        (
            "accent_color",
            json!(current.accent_color),
            json!(next.accent_color),
        ),
        ("logo_url", json!(current.logo_url), json!(next.logo_url)),
        (
            "white_label",
            json!(current.white_label),
            json!(next.white_label),
        ),
        (
            "custom_domain",
            json!(current.custom_domain),
            json!(next.custom_domain),
        ),
    ] {
        if old != new {
            changed.insert(k.to_string(), new);
        }
    }
    if changed.is_empty() {
        return Ok(current);
    }
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    sqlx::query(
        "UPDATE agencies SET name = $2, timezone = $3, brand_color = $4, accent_color = $5, logo_url = $6, \
         white_label = $7, custom_domain = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(agency_id)
    .bind(&next.name)
    .bind(&next.timezone)
    .bind(&next.brand_color)
    .bind(&next.accent_color)
    .bind(next.logo_url.as_deref())
    .bind(next.white_label as i64)
    .bind(next.custom_domain.as_deref())
    .bind(now)
    .execute(tx.conn())
    .await?;
    let detail = serde_json::Value::Object(changed);
    tx.commit(
        Record::new(events::AGENCY_UPDATED, "agency", agency_id, detail.clone())
            .with_event(None, detail),
    )
    .await?;
    get(db, agency_id).await
}

fn validate_domain(v: &str) -> Result<Option<String>> {
    let v = v.trim().to_lowercase();
    if v.is_empty() {
        return Ok(None);
    }
    let ok = v.len() <= 253
        && v.contains('.')
        && v.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !ok {
        return Err(baton_core::CoreError::invalid(
            "custom_domain",
            "must be a host name like onboard.agency.com",
        )
        .into());
    }
    Ok(Some(v))
}
