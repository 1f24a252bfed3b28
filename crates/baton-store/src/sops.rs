//! The agency's SOP library: Baton's nine default SOPs until the agency edits
//! one, then its own versions. Every edit is a new row of `sop_versions` with
//! a changelog line (why, who, when); runs point at the version they started
//! with. Version 1 of a default SOP is written the first time a run or an
//! edit needs it, so the library costs nothing until it is used.

use std::collections::BTreeMap;

use baton_core::sop::{self, SopDefinition};
use baton_core::{events, validate};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// The changelog line of Baton's own version 1.
pub const DEFAULT_REASON: &str = "Baton's default SOP library";

/// One SOP as the agency currently runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sop {
    #[serde(flatten)]
    pub definition: SopDefinition,
    pub version: i64,
    /// `true` once the agency edited it (or created it).
    pub customized: bool,
    /// Whether it is one of Baton's nine default SOPs.
    pub default: bool,
    /// The latest changelog line.
    pub changed_by: String,
    pub changed_at: Option<i64>,
    pub reason: String,
}

/// One line of an SOP's changelog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SopVersion {
    pub version: i64,
    pub reason: String,
    pub changed_by: String,
    /// `None` for Baton's default version 1 not yet written.
    pub changed_at: Option<i64>,
    pub definition: SopDefinition,
}

fn default_of(key: &str) -> Option<SopDefinition> {
    sop::default_library().into_iter().find(|d| d.key == key)
}

fn parse_def(text: &str) -> Result<SopDefinition> {
    serde_json::from_str(text).map_err(|e| StoreError::Config(format!("bad stored SOP: {e}")))
}

fn version_of(r: &AnyRow) -> Result<SopVersion> {
    let actor: String = r.try_get("actor_label")?;
    Ok(SopVersion {
        version: r.try_get("version")?,
        reason: r.try_get("reason")?,
        changed_by: actor,
        changed_at: Some(r.try_get("created_at")?),
        definition: parse_def(&r.try_get::<String, _>("definition")?)?,
    })
}

fn implicit_v1(def: SopDefinition) -> SopVersion {
    SopVersion {
        version: 1,
        reason: DEFAULT_REASON.into(),
        changed_by: "Baton".into(),
        changed_at: None,
        definition: def,
    }
}

fn current(v: SopVersion) -> Sop {
    let default = default_of(&v.definition.key).is_some();
    Sop {
        customized: !(default && v.version == 1),
        default,
        version: v.version,
        changed_by: v.changed_by,
        changed_at: v.changed_at,
        reason: v.reason,
        definition: v.definition,
    }
}

const LATEST: &str = "SELECT sop_key, version, definition, reason, actor_label, created_at \
     FROM sop_versions v WHERE agency_id = $1 AND version = \
     (SELECT MAX(version) FROM sop_versions w WHERE w.agency_id = v.agency_id AND w.sop_key = v.sop_key)";

/// The latest stored version of each SOP the agency has written, by key.
async fn stored_latest(
    conn: &mut AnyConnection,
    agency_id: &str,
) -> Result<BTreeMap<String, SopVersion>> {
    let rows = sqlx::query(LATEST).bind(agency_id).fetch_all(conn).await?;
    let mut out = BTreeMap::new();
    for r in &rows {
        out.insert(r.try_get::<String, _>("sop_key")?, version_of(r)?);
    }
    Ok(out)
}

fn merge(mut stored: BTreeMap<String, SopVersion>) -> Vec<Sop> {
    let mut out: Vec<Sop> = sop::default_library()
        .into_iter()
        .map(|d| current(stored.remove(&d.key).unwrap_or_else(|| implicit_v1(d))))
        .collect();
    // The agency's own SOPs follow the defaults, by key.
    out.extend(stored.into_values().map(current));
    out
}

/// The agency's whole library: the nine defaults in the context document's
/// order, then the agency's own SOPs by key.
pub async fn list(db: &Db, agency_id: &str) -> Result<Vec<Sop>> {
    let mut conn = db.reader().acquire().await?;
    Ok(merge(stored_latest(&mut conn, agency_id).await?))
}

/// One SOP as currently defined.
pub async fn get(db: &Db, agency_id: &str, key: &str) -> Result<Sop> {
    list(db, agency_id)
        .await?
        .into_iter()
        .find(|s| s.definition.key == key)
        .ok_or(StoreError::NotFound)
}

/// Every version of one SOP, newest first.
pub async fn history(db: &Db, agency_id: &str, key: &str) -> Result<Vec<SopVersion>> {
    let rows = sqlx::query(
        "SELECT sop_key, version, definition, reason, actor_label, created_at FROM sop_versions \
         WHERE agency_id = $1 AND sop_key = $2 ORDER BY version DESC",
    )
    .bind(agency_id)
    .bind(key)
    .fetch_all(db.reader())
    .await?;
    let mut out = rows.iter().map(version_of).collect::<Result<Vec<_>>>()?;
    if !out.iter().any(|v| v.version == 1) {
        if let Some(d) = default_of(key) {
            out.push(implicit_v1(d));
        }
    }
    if out.is_empty() {
        return Err(StoreError::NotFound);
    }
    Ok(out)
}

/// One version of one SOP (what a run follows).
pub async fn version(db: &Db, agency_id: &str, key: &str, version: i64) -> Result<SopDefinition> {
    let mut conn = db.reader().acquire().await?;
    version_on(&mut conn, agency_id, key, version).await
}

/// [`version`] on a given connection (inside a write).
pub(crate) async fn version_on(
    conn: &mut AnyConnection,
    agency_id: &str,
    key: &str,
    version: i64,
) -> Result<SopDefinition> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT definition FROM sop_versions WHERE agency_id = $1 AND sop_key = $2 AND version = $3",
    )
    .bind(agency_id)
    .bind(key)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    match text {
        Some(t) => parse_def(&t),
        None if version == 1 => default_of(key).ok_or(StoreError::NotFound),
        None => Err(StoreError::NotFound),
    }
}

async fn insert_version(
    conn: &mut AnyConnection,
    agency_id: &str,
    def: &SopDefinition,
    version: i64,
    reason: &str,
    actor: (&str, &str),
    now: i64,
) -> Result<()> {
    let text = serde_json::to_string(def).map_err(|e| StoreError::Config(e.to_string()))?;
    sqlx::query(
        "INSERT INTO sop_versions (agency_id, sop_key, version, trigger_event, definition, reason, actor_id, actor_label, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(agency_id)
    .bind(&def.key)
    .bind(version)
    .bind(&def.trigger)
    .bind(text)
    .bind(reason)
    .bind(actor.0)
    .bind(actor.1)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The current version of `key` inside a write, writing Baton's version 1 of
/// a default SOP if the agency never stored one. `None`: no such SOP.
pub(crate) async fn current_in_tx(
    conn: &mut AnyConnection,
    agency_id: &str,
    key: &str,
    now: i64,
) -> Result<Option<(i64, SopDefinition)>> {
    let row = sqlx::query(
        "SELECT version, definition FROM sop_versions WHERE agency_id = $1 AND sop_key = $2 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(agency_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        return Ok(Some((
            r.try_get("version")?,
            parse_def(&r.try_get::<String, _>("definition")?)?,
        )));
    }
    let Some(def) = default_of(key) else {
        return Ok(None);
    };
    insert_version(conn, agency_id, &def, 1, DEFAULT_REASON, ("", "Baton"), now).await?;
    Ok(Some((1, def)))
}

/// The keys of the SOPs that `event_type` starts (current versions).
pub(crate) async fn keys_for_trigger(
    conn: &mut AnyConnection,
    agency_id: &str,
    event_type: &str,
) -> Result<Vec<String>> {
    let stored = stored_latest(conn, agency_id).await?;
    Ok(merge(stored)
        .into_iter()
        .filter(|s| s.definition.trigger == event_type)
        .map(|s| s.definition.key)
        .collect())
}

/// Saves a new version of an SOP (or a new SOP of the agency's own) with its
/// changelog line. A definition equal to the current one is not a change and
/// returns the current SOP as it is.
pub async fn save(cx: Cx<'_>, def: SopDefinition, reason: &str) -> Result<Sop> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let def = sop::validate(def)?;
    if reason.trim().is_empty() {
        return Err(baton_core::CoreError::invalid(
            "reason",
            "say why the SOP changes: it is the changelog line",
        )
        .into());
    }
    let reason = validate::note("reason", reason)?;
    let mut tx = cx.begin().await?;
    let current = current_in_tx(tx.conn(), agency_id, &def.key, now).await?;
    let version = match &current {
        Some((_, cur)) if *cur == def => {
            drop(tx);
            return get(db, agency_id, &def.key).await;
        }
        Some((v, _)) => v + 1,
        None => 1,
    };
    let who = (actor.id.as_str(), actor.label.as_str());
    insert_version(tx.conn(), agency_id, &def, version, &reason, who, now).await?;
    let detail = json!({"key": def.key, "version": version, "reason": reason});
    tx.commit(
        Record::new(events::SOP_CHANGED, "sop", &def.key, detail.clone()).with_event(None, detail),
    )
    .await?;
    get(db, agency_id, &def.key).await
}
