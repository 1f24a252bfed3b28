//! Agencies, the tenants: creation (with the first admin), branding, lookups,
//! and the verification of their custom domain.

use baton_core::custom_domain::{self, DomainStatus};
use baton_core::types::AgencyId;
use baton_core::{events, validate};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::{flag, Db};
use crate::error::{Result, StoreError};
use crate::members::{self, Member, NewMember};
use crate::write::{Actor, Record, WriteTx};

pub const DEFAULT_BRAND: &str = "#1f4fd1";
pub const DEFAULT_ACCENT: &str = "#0f766e";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub brand_color: String,
    pub accent_color: String,
    pub logo_url: Option<String>,
    pub white_label: bool,
    /// The custom domain Baton routes to this agency's client pages and
    /// puts in the links it hands out: set only once verified. A domain set
    /// but not verified yet is in [`DomainState::pending`].
    pub custom_domain: Option<String>,
    /// The custom domain as set, and its verification.
    pub domain: DomainState,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where the agency's custom domain stands.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DomainState {
    /// Set, waiting for its TXT record (then `Agency::custom_domain` is
    /// empty).
    pub pending: Option<String>,
    /// The TXT value that proves the pending domain.
    pub challenge: Option<String>,
    /// When the domain was set (for a grandfathered one: the upgrade).
    pub set_at: Option<i64>,
    pub verified_at: Option<i64>,
    /// When it was last checked, and what that check found (in words).
    pub checked_at: Option<i64>,
    pub found: Option<String>,
}

impl Agency {
    /// The custom domain as set, verified or not (what the settings show).
    pub fn configured_domain(&self) -> Option<&str> {
        self.custom_domain
            .as_deref()
            .or(self.domain.pending.as_deref())
    }

    pub fn domain_status(&self) -> DomainStatus {
        if self.custom_domain.is_some() {
            DomainStatus::Verified
        } else if self.domain.pending.is_some() {
            DomainStatus::Pending
        } else {
            DomainStatus::None
        }
    }

    /// The TXT record (name, value) that would verify the pending domain.
    pub fn pending_record(&self) -> Option<(String, String)> {
        match (&self.domain.pending, &self.domain.challenge) {
            (Some(d), Some(c)) if self.custom_domain.is_none() => {
                Some((custom_domain::record_name(d), c.clone()))
            }
            _ => None,
        }
    }
}

pub(crate) const COLS: &str = "id, name, slug, timezone, brand_color, accent_color, logo_url, white_label, custom_domain, \
     custom_domain_pending, custom_domain_challenge, custom_domain_set_at, custom_domain_verified_at, \
     custom_domain_checked_at, custom_domain_found, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Agency> {
    from_row_prefixed(r, "")
}

/// An agency from columns named `{prefix}id`, `{prefix}name`, … (for joins).
pub(crate) fn from_row_prefixed(r: &AnyRow, p: &str) -> Result<Agency> {
    let c = |name: &str| format!("{p}{name}");
    Ok(Agency {
        id: crate::db::typed_id(r, c("id").as_str())?,
        name: r.try_get(c("name").as_str())?,
        slug: r.try_get(c("slug").as_str())?,
        timezone: r.try_get(c("timezone").as_str())?,
        brand_color: r.try_get(c("brand_color").as_str())?,
        accent_color: r.try_get(c("accent_color").as_str())?,
        logo_url: r.try_get(c("logo_url").as_str())?,
        white_label: flag(r, &c("white_label"))?,
        custom_domain: r.try_get(c("custom_domain").as_str())?,
        domain: DomainState {
            pending: r.try_get(c("custom_domain_pending").as_str())?,
            challenge: r.try_get(c("custom_domain_challenge").as_str())?,
            set_at: r.try_get(c("custom_domain_set_at").as_str())?,
            verified_at: r.try_get(c("custom_domain_verified_at").as_str())?,
            checked_at: r.try_get(c("custom_domain_checked_at").as_str())?,
            found: r.try_get(c("custom_domain_found").as_str())?,
        },
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
    let id = AgencyId::new(now);
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
    .bind(id.as_str())
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

/// The agency whose verified custom domain is `host` (lower-case, no port).
/// A pending domain is nobody's yet.
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

/// Changes the agency's settings, recording the event with what
/// changed; nothing is written when nothing changes. A new custom domain
/// starts over, pending with a fresh challenge.
pub async fn update(cx: Cx<'_>, patch: AgencyPatch) -> Result<Agency> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let current = get(db, agency_id).await?;
    let mut next = patched(&current, &patch)?;
    let mut changed = serde_json::Map::new();
    let domain_changed = change_domain(db, now, &current, &patch, &mut next, &mut changed).await?;
    record_changes(&current, &next, &mut changed);
    if changed.is_empty() {
        return Ok(current);
    }
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE agencies SET name = $2, timezone = $3, brand_color = $4, accent_color = $5, logo_url = $6, \
         white_label = $7, updated_at = $8, \
         week_ended_next_at = CASE WHEN timezone = $3 THEN week_ended_next_at ELSE NULL END, \
         cadence_next_check_at = CASE WHEN timezone = $3 THEN cadence_next_check_at ELSE NULL END WHERE id = $1",
    )
    .bind(agency_id)
    .bind(&next.name)
    .bind(&next.timezone)
    .bind(&next.brand_color)
    .bind(&next.accent_color)
    .bind(next.logo_url.as_deref())
    .bind(next.white_label as i64)
    .bind(now)
    .execute(tx.conn())
    .await?;
    if domain_changed {
        write_domain(&mut tx, &next).await?;
    }
    let detail = serde_json::Value::Object(changed);
    tx.commit(
        Record::new(events::AGENCY_UPDATED, "agency", agency_id, detail.clone())
            .with_event(None, detail),
    )
    .await?;
    get(db, agency_id).await
}

/// The agency with the patch's plain fields applied, each checked.
fn patched(current: &Agency, patch: &AgencyPatch) -> Result<Agency> {
    let mut next = current.clone();
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
    Ok(next)
}

/// Applies the patch's custom domain to `next` (and to `changed`);
/// whether it changed. The same domain again (the settings form always
/// sends it) changes nothing; another one starts over, pending with a
/// fresh challenge, unless another agency verified it (409).
async fn change_domain(
    db: &Db,
    now: i64,
    current: &Agency,
    patch: &AgencyPatch,
    next: &mut Agency,
    changed: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<bool> {
    let domain = match &patch.custom_domain {
        Some(v) => validate_domain(v)?,
        None => current.configured_domain().map(String::from),
    };
    let domain_changed = domain.as_deref() != current.configured_domain();
    if !domain_changed {
        return Ok(false);
    }
    if let Some(d) = &domain {
        let taken: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agencies WHERE custom_domain = $1 AND id <> $2",
        )
        .bind(d)
        .bind(current.id.as_str())
        .fetch_one(db.reader())
        .await?;
        if taken > 0 {
            return Err(StoreError::Duplicate(format!(
                "{d} is already verified by another agency"
            )));
        }
    }
    next.custom_domain = None;
    next.domain = match &domain {
        Some(d) => DomainState {
            pending: Some(d.clone()),
            challenge: Some(custom_domain::new_challenge()),
            set_at: Some(now),
            ..DomainState::default()
        },
        None => DomainState::default(),
    };
    changed.insert("custom_domain".into(), json!(domain));
    changed.insert(
        "custom_domain_status".into(),
        json!(next.domain_status().key()),
    );
    Ok(true)
}

/// Adds each plain field that differs between `current` and `next` to
/// `changed`, with its new value.
fn record_changes(
    current: &Agency,
    next: &Agency,
    changed: &mut serde_json::Map<String, serde_json::Value>,
) {
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
    ] {
        if old != new {
            changed.insert(k.to_string(), new);
        }
    }
}

/// Writes the agency's new custom domain state: pending (checked from
/// now on) or none; the verified domain is dropped either way.
async fn write_domain(tx: &mut WriteTx, next: &Agency) -> Result<()> {
    let now = tx.now();
    let next_check = next
        .domain
        .pending
        .as_ref()
        .map(|_| now + custom_domain::CHECK_EVERY_MS);
    sqlx::query(
        "UPDATE agencies SET custom_domain = NULL, custom_domain_pending = $2, custom_domain_challenge = $3, \
         custom_domain_set_at = $4, custom_domain_verified_at = NULL, custom_domain_checked_at = NULL, \
         custom_domain_found = NULL, custom_domain_next_check_at = $5 WHERE id = $1",
    )
    .bind(next.id.as_str())
    .bind(next.domain.pending.as_deref())
    .bind(next.domain.challenge.as_deref())
    .bind(next.domain.set_at)
    .bind(next_check)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Verifies the agency's pending custom domain, whose TXT record was found
/// to hold `challenge`: from now on Baton routes it and puts it in links.
/// Written with `agency.custom_domain_verified` and its audit entry.
/// `false` (nothing written) when the domain is no longer pending with that
/// challenge: changed or cleared meanwhile, or verified by a concurrent
/// check. A domain another agency verified first is a
/// [`StoreError::Duplicate`].
pub async fn verify_custom_domain(cx: Cx<'_>, challenge: &str, found: &str) -> Result<bool> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let current = get(db, agency_id).await?;
    let Some(domain) = current.domain.pending.clone() else {
        return Ok(false);
    };
    let taken_elsewhere =
        |d: &str| StoreError::Duplicate(format!("{d} is already verified by another agency"));
    let mut tx = cx.begin().await?;
    let verified = sqlx::query(
        "UPDATE agencies SET custom_domain = custom_domain_pending, custom_domain_pending = NULL, \
         custom_domain_challenge = NULL, custom_domain_verified_at = $3, custom_domain_checked_at = $3, \
         custom_domain_found = $4, custom_domain_next_check_at = NULL, updated_at = $3 \
         WHERE id = $1 AND custom_domain_pending = $5 AND custom_domain_challenge = $2",
    )
    .bind(agency_id)
    .bind(challenge)
    .bind(now)
    .bind(found)
    .bind(&domain)
    .execute(tx.conn())
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate(_) => taken_elsewhere(&domain),
        other => other,
    })?
    .rows_affected();
    if verified == 0 {
        return Ok(false);
    }
    let record = custom_domain::record_name(&domain);
    tx.commit(
        Record::new(
            events::CUSTOM_DOMAIN_VERIFIED,
            "agency",
            agency_id,
            json!({"custom_domain": domain, "txt_record": record}),
        )
        .with_event(None, json!({"custom_domain": domain})),
    )
    .await?;
    Ok(true)
}

/// Records a check of the pending domain that did not verify it: when, and
/// what was found (bookkeeping shown on the settings page, not a change of
/// the agency: no event). Ignored when the domain changed meanwhile.
pub async fn record_domain_check(
    db: &Db,
    agency_id: &str,
    challenge: &str,
    now: i64,
    found: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE agencies SET custom_domain_checked_at = $3, custom_domain_found = $4 \
         WHERE id = $1 AND custom_domain_challenge = $2 AND custom_domain_pending IS NOT NULL",
    )
    .bind(agency_id)
    .bind(challenge)
    .bind(now)
    .bind(found)
    .execute(&db.writer)
    .await?;
    Ok(())
}

/// A pending domain the worker should check: its agency and challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDomainCheck {
    pub agency_id: AgencyId,
    pub domain: String,
    pub challenge: String,
}

/// Pending domains whose next check is due, set less than
/// [`custom_domain::CHECK_FOR_MS`] ago.
pub async fn due_domain_checks(db: &Db, now: i64, limit: i64) -> Result<Vec<DueDomainCheck>> {
    let rows = sqlx::query(
        "SELECT id, custom_domain_pending, custom_domain_challenge FROM agencies \
         WHERE custom_domain_next_check_at <= $1 AND custom_domain_pending IS NOT NULL \
         AND custom_domain_challenge IS NOT NULL AND custom_domain_set_at > $2 \
         ORDER BY custom_domain_next_check_at LIMIT $3",
    )
    .bind(now)
    .bind(now - custom_domain::CHECK_FOR_MS)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDomainCheck {
                agency_id: crate::db::typed_id(r, "id")?,
                domain: r.try_get("custom_domain_pending")?,
                challenge: r.try_get("custom_domain_challenge")?,
            })
        })
        .collect()
}

/// Claims a due check for this server by moving its next check
/// [`custom_domain::CHECK_EVERY_MS`] ahead: `true` for exactly one of
/// several servers trying at once (the others then find it not due).
pub async fn claim_domain_check(db: &Db, due: &DueDomainCheck, now: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE agencies SET custom_domain_next_check_at = $3 \
         WHERE id = $1 AND custom_domain_challenge = $2 AND custom_domain_pending IS NOT NULL \
         AND custom_domain_next_check_at <= $4",
    )
    .bind(due.agency_id.as_str())
    .bind(&due.challenge)
    .bind(now + custom_domain::CHECK_EVERY_MS)
    .bind(now)
    .execute(&db.writer)
    .await?
    .rows_affected();
    Ok(claimed == 1)
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
