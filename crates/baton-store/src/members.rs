//! Members of an agency: the people who log in, hold roles and own work.

use baton_core::roles::{parse_roles, Role};
use baton_core::types::{AgencyId, MemberId};
use baton_core::{events, ids, validate};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::{flag, Db};
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::{Record, WriteTx};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Member {
    pub id: String,
    pub agency_id: AgencyId,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub is_admin: bool,
    pub active: bool,
    /// False until the member accepted their invite and set a password.
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str =
    "id, agency_id, email, name, roles, is_admin, active, password_hash, created_at, updated_at";

/// [`COLS`] of a `members m` in a join.
pub(crate) const COLS_AS_M: &str = "m.id, m.agency_id, m.email, m.name, m.roles, m.is_admin, \
     m.active, m.password_hash, m.created_at, m.updated_at";

pub(crate) fn from_row(r: &AnyRow) -> Result<Member> {
    let roles: String = r.try_get("roles")?;
    let keys: Vec<String> = serde_json::from_str(&roles).unwrap_or_default();
    let password_hash: Option<String> = r.try_get("password_hash")?;
    Ok(Member {
        id: r.try_get("id")?,
        agency_id: crate::db::typed_id(r, "agency_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        roles: keys.iter().filter_map(|k| Role::parse(k)).collect(),
        is_admin: flag(r, "is_admin")?,
        active: flag(r, "active")?,
        has_password: password_hash.is_some(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.key()).collect::<Vec<_>>()).expect("strings")
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

/// Inserts a member inside an open write (the caller records the change).
pub async fn insert(tx: &mut WriteTx, m: NewMember) -> Result<Member> {
    let email = validate::email(&m.email)?;
    let name = validate::name("name", &m.name)?;
    let id = ids::new_id(ids::MEMBER, tx.now());
    let now = tx.now();
    let agency_id = AgencyId::parse(tx.agency_id())?;
    sqlx::query(
        "INSERT INTO members (id, agency_id, email, name, password_hash, roles, is_admin, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
    )
    .bind(&id)
    .bind(agency_id.as_str())
    .bind(&email)
    .bind(&name)
    .bind(m.password_hash.as_deref())
    .bind(roles_json(&m.roles))
    .bind(m.is_admin as i64)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate(format!("a member with email {email} already exists")),
        other => other,
    })?;
    Ok(Member {
        id,
        agency_id,
        email,
        name,
        roles: m.roles,
        is_admin: m.is_admin,
        active: true,
        has_password: m.password_hash.is_some(),
        created_at: now,
        updated_at: now,
    })
}

/// Input for [`create`]: raw strings as they came from a form or the API.
#[derive(Debug, Clone, Default)]
pub struct MemberInput {
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub is_admin: bool,
    pub password_hash: Option<String>,
}

/// Adds a member to an agency, recorded as `member.created`.
pub async fn create(cx: Cx<'_>, input: MemberInput) -> Result<Member> {
    let roles = parse_roles(&input.roles)?;
    let email = validate::email(&input.email)?;
    validate::name("name", &input.name)?;
    let mut tx = cx.begin().await?;
    let m = insert(
        &mut tx,
        NewMember {
            email,
            name: input.name,
            roles,
            is_admin: input.is_admin,
            password_hash: input.password_hash,
        },
    )
    .await?;
    tx.commit(
        Record::new(
            events::MEMBER_CREATED,
            "member",
            &m.id,
            json!({"email": m.email, "roles": m.roles, "is_admin": m.is_admin}),
        )
        .with_event(None, json!({"email": m.email, "name": m.name})),
    )
    .await?;
    Ok(m)
}

/// A member of this agency (another agency's id is `NotFound`).
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Member> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM members WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Looks a member up by email across agencies (emails are unique), returning
/// the member and their password hash. Used by login and the CLI only.
pub async fn find_login(db: &Db, email: &str) -> Result<Option<(Member, Option<String>)>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM members WHERE email = $1"))
        .bind(email.trim().to_lowercase())
        .fetch_optional(db.reader())
        .await?;
    match row {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<Member>> {
    Ok(find_login(db, email).await?.map(|(m, _)| m))
}

/// The password hash of a member of this agency.
pub async fn password_hash(db: &Db, agency_id: &str, id: &str) -> Result<Option<String>> {
    let h: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM members WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_optional(db.reader())
            .await?;
    h.ok_or(StoreError::NotFound)
}

/// Members of the agency ordered by id, a page at a time.
pub async fn list(
    db: &Db,
    agency_id: &str,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Member>> {
    let limit = page::clamp_limit(limit);
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM members WHERE agency_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    ))
    .bind(agency_id)
    .bind(cursor.unwrap_or(""))
    .bind(limit + 1)
    .fetch_all(db.reader())
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |m| m.id.clone()))
}

/// Every active member, by name (team pages and pickers).
pub async fn list_active(db: &Db, agency_id: &str) -> Result<Vec<Member>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM members WHERE agency_id = $1 AND active = 1 ORDER BY name, id"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub is_admin: Option<bool>,
    pub active: Option<bool>,
}

pub async fn update(cx: Cx<'_>, id: &MemberId, patch: MemberPatch) -> Result<Member> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let id = id.as_str();
    let current = get(db, agency_id, id).await?;
    let name = match &patch.name {
        Some(n) => validate::name("name", n)?,
        None => current.name.clone(),
    };
    let roles = match &patch.roles {
        Some(r) => parse_roles(r)?,
        None => current.roles.clone(),
    };
    let is_admin = patch.is_admin.unwrap_or(current.is_admin);
    let active = patch.active.unwrap_or(current.active);
    let mut tx = cx.begin().await?;
    if current.is_admin && (!is_admin || !active) {
        let admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM members WHERE agency_id = $1 AND is_admin = 1 AND active = 1 AND id <> $2",
        )
        .bind(agency_id)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        if admins == 0 {
            return Err(baton_core::CoreError::Conflict(
                "an agency needs at least one active admin; make someone else admin first".into(),
            )
            .into());
        }
    }
    sqlx::query("UPDATE members SET name = $3, roles = $4, is_admin = $5, active = $6, updated_at = $7 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id)
        .bind(&name)
        .bind(roles_json(&roles))
        .bind(is_admin as i64)
        .bind(active as i64)
        .bind(now)
        .execute(tx.conn())
        .await?;
    if !active {
        sqlx::query("DELETE FROM sessions WHERE agency_id = $1 AND member_id = $2")
            .bind(agency_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE agency_id = $1 AND member_id = $2 AND revoked_at IS NULL")
            .bind(agency_id)
            .bind(id)
            .bind(now)
            .execute(tx.conn())
            .await?;
    }
    let detail = json!({"name": name, "roles": roles, "is_admin": is_admin, "active": active});
    tx.commit(
        Record::new(events::MEMBER_UPDATED, "member", id, detail.clone()).with_event(None, detail),
    )
    .await?;
    get(db, agency_id, id).await
}

/// Sets a member's password and ends every session of theirs except `keep_session`
/// (the one that made the change, given as its token hash).
pub async fn set_password(
    cx: Cx<'_>,
    id: &MemberId,
    password_hash: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let id = id.as_str();
    let mut tx = cx.begin().await?;
    let n = sqlx::query(
        "UPDATE members SET password_hash = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(password_hash)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let ended = sqlx::query(
        "DELETE FROM sessions WHERE agency_id = $1 AND member_id = $2 AND token_hash <> $3",
    )
    .bind(agency_id)
    .bind(id)
    .bind(keep_session.unwrap_or(""))
    .execute(tx.conn())
    .await?
    .rows_affected();
    tx.commit(Record::new(
        "member.password_changed",
        "member",
        id,
        json!({"other_sessions_ended": ended}),
    ))
    .await?;
    Ok(())
}
