//! Clients of an agency: their lifecycle, account team and traffic-control
//! owner. Lifecycle moves only through timeline events ([`record_event`], in
//! `client_moves.rs`, where moves are previewed, made and corrected).

use baton_core::lifecycle::Lifecycle;
use baton_core::roles::Role;
use baton_core::types::ClientId;
use baton_core::{events, ids, validate, CoreError};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::page::{self, Page};
use crate::write::Record;

pub use crate::client_moves::{preview_event, record_event, reopen};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub lifecycle: Lifecycle,
    pub website: Option<String>,
    pub notes: Option<String>,
    pub traffic_control_member_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
}

pub(crate) const COLS: &str = "id, name, lifecycle, website, notes, traffic_control_member_id, created_at, updated_at, archived_at";

fn from_row(r: &AnyRow) -> Result<Client> {
    from_row_prefixed(r, "")
}

/// A client from columns named `{prefix}id`, `{prefix}name`, … (for joins).
pub(crate) fn from_row_prefixed(r: &AnyRow, p: &str) -> Result<Client> {
    let c = |name: &str| format!("{p}{name}");
    let lc: String = r.try_get(c("lifecycle").as_str())?;
    Ok(Client {
        id: crate::db::typed_id(r, c("id").as_str())?,
        name: r.try_get(c("name").as_str())?,
        lifecycle: Lifecycle::parse(&lc)
            .ok_or_else(|| StoreError::Config(format!("bad stored lifecycle {lc}")))?,
        website: r.try_get(c("website").as_str())?,
        notes: r.try_get(c("notes").as_str())?,
        traffic_control_member_id: r.try_get(c("traffic_control_member_id").as_str())?,
        created_at: r.try_get(c("created_at").as_str())?,
        updated_at: r.try_get(c("updated_at").as_str())?,
        archived_at: r.try_get(c("archived_at").as_str())?,
    })
}

/// A new client as typed by a person or a script.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub website: Option<String>,
    pub notes: Option<String>,
    pub traffic_control_member_id: Option<String>,
}

/// Creates a client in lifecycle stage `won`.
pub async fn create(cx: Cx<'_>, input: NewClient) -> Result<Client> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let name = validate::name("name", &input.name)?;
    let website = match &input.website {
        Some(w) => validate::optional_url("website", w)?,
        None => None,
    };
    let notes = match input.notes.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(n) => Some(validate::note("notes", n)?),
    };
    let id = ClientId::new(now);
    let mut tx = cx.begin().await?;
    if let Some(tc) = &input.traffic_control_member_id {
        ensure_member(tx.conn(), agency_id, tc, "traffic_control").await?;
    }
    sqlx::query(
        "INSERT INTO clients (id, agency_id, name, lifecycle, website, notes, traffic_control_member_id, created_at, updated_at) \
         VALUES ($1, $2, $3, 'won', $4, $5, $6, $7, $7)",
    )
    .bind(id.as_str())
    .bind(agency_id)
    .bind(&name)
    .bind(website.as_deref())
    .bind(notes.as_deref())
    .bind(input.traffic_control_member_id.as_deref())
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(events::CLIENT_CREATED, "client", &id, json!({"name": name}))
            .with_event(Some(id.as_str()), json!({"name": name, "lifecycle": "won"})),
    )
    .await?;
    get(cx.db, agency_id, &id).await
}

async fn ensure_member(
    conn: &mut sqlx::AnyConnection,
    agency_id: &str,
    member_id: &str,
    field: &str,
) -> Result<()> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT active FROM members WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(member_id)
            .fetch_optional(conn)
            .await?;
    match found {
        Some(1) => Ok(()),
        Some(_) => {
            Err(CoreError::invalid(field, format!("member {member_id} is deactivated")).into())
        }
        None => {
            Err(CoreError::invalid(field, format!("no member {member_id} in this agency")).into())
        }
    }
}

/// A client of this agency (another agency's id is `NotFound`).
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Client> {
    if !ids::has_shape(id, ids::CLIENT) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM clients WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Clients in creation order, a page at a time, optionally of one stage.
pub async fn list(
    db: &Db,
    agency_id: &str,
    lifecycle: Option<Lifecycle>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Client>> {
    let limit = page::clamp_limit(limit);
    // Conditions are only written when they apply: an `($n = '' OR …)` form
    // lets SQLite pick the lifecycle index and sort every client of the agency.
    let sql = match lifecycle {
        Some(_) => format!(
            "SELECT {COLS} FROM clients WHERE agency_id = $1 AND id > $2 AND lifecycle = $4 ORDER BY id LIMIT $3"
        ),
        None => format!("SELECT {COLS} FROM clients WHERE agency_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
    };
    let mut q = sqlx::query(&sql)
        .bind(agency_id)
        .bind(cursor.unwrap_or(""))
        .bind(limit + 1);
    if let Some(l) = lifecycle {
        q = q.bind(l.key());
    }
    let rows = q.fetch_all(db.reader()).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |c| c.id.to_string()))
}

/// A dashboard line: a client with its traffic-control owner's name.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSummary {
    pub client: Client,
    pub traffic_control_name: Option<String>,
}

/// Every client not archived (or all, when `include_archived`), by name, with
/// the traffic-control owner's name: one query for the dashboard.
pub async fn summaries(
    db: &Db,
    agency_id: &str,
    include_archived: bool,
) -> Result<Vec<ClientSummary>> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.lifecycle, c.website, c.notes, c.traffic_control_member_id, c.created_at, \
         c.updated_at, c.archived_at, m.name AS tc_name \
         FROM clients c LEFT JOIN members m ON m.id = c.traffic_control_member_id \
         WHERE c.agency_id = $1 AND ($2 = 1 OR c.lifecycle <> 'archived') ORDER BY c.name, c.id",
    )
    .bind(agency_id)
    .bind(include_archived as i64)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ClientSummary {
                client: from_row(r)?,
                traffic_control_name: r.try_get("tc_name")?,
            })
        })
        .collect()
}

/// Changes to a client's details; `None` leaves a field as it is, `Some("")`
/// clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub website: Option<String>,
    pub notes: Option<String>,
}

pub async fn update(cx: Cx<'_>, id: &ClientId, patch: ClientPatch) -> Result<Client> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let current = get(db, agency_id, id).await?;
    if current.lifecycle == Lifecycle::Archived {
        return Err(CoreError::Conflict("an archived client cannot be changed".into()).into());
    }
    let mut changed = serde_json::Map::new();
    let name = match &patch.name {
        Some(n) => validate::name("name", n)?,
        None => current.name.clone(),
    };
    let website = match &patch.website {
        Some(w) => validate::optional_url("website", w)?,
        None => current.website.clone(),
    };
    let notes = match patch.notes.as_deref().map(str::trim) {
        Some("") => None,
        Some(n) => Some(validate::note("notes", n)?),
        None => current.notes.clone(),
    };
    if name != current.name {
        changed.insert("name".into(), json!(name));
    }
    if website != current.website {
        changed.insert("website".into(), json!(website));
    }
    if notes != current.notes {
        changed.insert("notes".into(), json!(notes));
    }
    if changed.is_empty() {
        return Ok(current);
    }
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE clients SET name = $3, website = $4, notes = $5, updated_at = $6 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id.as_str())
        .bind(&name)
        .bind(website.as_deref())
        .bind(notes.as_deref())
        .bind(now)
        .execute(tx.conn())
        .await?;
    let detail = serde_json::Value::Object(changed);
    tx.commit(
        Record::new(events::CLIENT_UPDATED, "client", id, detail.clone())
            .with_event(Some(id.as_str()), detail),
    )
    .await?;
    get(db, agency_id, id).await
}

/// Earliest accepted `occurred_at` (2000-01-01) and how far in the future a
/// clock may drift (5 minutes).
/// Checks a back-dated time (`field` as the API names it): after
/// 2000-01-01 and not in the future (a few minutes of clock skew allowed).
pub(crate) fn check_past_time(field: &str, at: Option<i64>, now: i64) -> Result<()> {
    if let Some(at) = at {
        if at < OCCURRED_MIN {
            return Err(CoreError::invalid(field, "must be after 2000-01-01").into());
        }
        if at > now + OCCURRED_SKEW {
            return Err(CoreError::invalid(field, "must not be in the future").into());
        }
    }
    Ok(())
}

const OCCURRED_MIN: i64 = 946_684_800_000;
const OCCURRED_SKEW: i64 = 5 * 60 * 1000;

/// One seat of a client's account team.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TeamSeat {
    pub role: Role,
    pub member_id: String,
    pub member_name: String,
}

pub async fn team(db: &Db, agency_id: &str, client_id: &str) -> Result<Vec<TeamSeat>> {
    let rows = sqlx::query(
        "SELECT t.role, t.member_id, m.name FROM client_team t JOIN members m ON m.id = t.member_id \
         WHERE t.agency_id = $1 AND t.client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    let mut seats = rows
        .iter()
        .filter_map(|r| {
            let role: String = r.try_get("role").ok()?;
            Some(TeamSeat {
                role: Role::parse(&role)?,
                member_id: r.try_get("member_id").ok()?,
                member_name: r.try_get("name").ok()?,
            })
        })
        .collect::<Vec<_>>();
    seats.sort_by_key(|s| s.role);
    Ok(seats)
}

/// Replaces a client's account team (role → member) and sets its one
/// traffic-control owner, who must be a member of the agency.
pub async fn set_team(
    cx: Cx<'_>,
    client_id: &ClientId,
    seats: &[(String, String)],
    traffic_control: &str,
) -> Result<Vec<TeamSeat>> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let client = get(db, agency_id, client_id).await?;
    let mut parsed: Vec<(Role, &str)> = Vec::new();
    for (role, member) in seats {
        let r = Role::parse(role.trim()).ok_or_else(|| {
            CoreError::invalid(
                "team",
                format!(
                    "unknown role {role:?}; expected one of {}",
                    Role::ALL.map(Role::key).join(", ")
                ),
            )
        })?;
        if parsed.iter().any(|(p, _)| *p == r) {
            return Err(CoreError::invalid(
                "team",
                format!(
                    "role {} is listed twice; a role has one member per client",
                    r.key()
                ),
            )
            .into());
        }
        parsed.push((r, member.as_str()));
    }
    if client.lifecycle == Lifecycle::Archived {
        return Err(
            CoreError::Conflict("an archived client's team cannot be changed".into()).into(),
        );
    }
    let mut tx = cx.begin().await?;
    ensure_member(tx.conn(), agency_id, traffic_control, "traffic_control").await?;
    for (_, m) in &parsed {
        ensure_member(tx.conn(), agency_id, m, "team").await?;
    }
    sqlx::query("DELETE FROM client_team WHERE agency_id = $1 AND client_id = $2")
        .bind(agency_id)
        .bind(client_id.as_str())
        .execute(tx.conn())
        .await?;
    for (role, m) in &parsed {
        sqlx::query("INSERT INTO client_team (agency_id, client_id, role, member_id) VALUES ($1, $2, $3, $4)")
            .bind(agency_id)
            .bind(client_id.as_str())
            .bind(role.key())
            .bind(*m)
            .execute(tx.conn())
            .await?;
    }
    sqlx::query("UPDATE clients SET traffic_control_member_id = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(client_id.as_str())
        .bind(traffic_control)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let detail = json!({
        "team": parsed.iter().map(|(r, m)| json!({"role": r.key(), "member_id": m})).collect::<Vec<_>>(),
        "traffic_control": traffic_control,
    });
    tx.commit(
        Record::new(
            events::CLIENT_TEAM_CHANGED,
            "client",
            client_id,
            detail.clone(),
        )
        .with_event(Some(client_id.as_str()), detail),
    )
    .await?;
    team(db, agency_id, client_id).await
}
