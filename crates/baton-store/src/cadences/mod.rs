//! The agency's cadences: Baton's four default meetings until the agency
//! edits one, then its own versions (like the SOP library). Every edit is a
//! new row of `cadence_versions` with a changelog line and the day it rules
//! from, so meetings already past keep the schedule they had.
//!
//! Meetings are computed from the versions on the agency calendar
//! ([`occurrences`]); a row is written only when one is held (its artifact
//! attached) or flagged ([`clock`]).

pub mod artifacts;
pub mod clock;
pub mod decisions;
pub mod occurrences;

use std::collections::BTreeMap;

use baton_core::cadence::{self, CadenceDefinition};
use baton_core::{events, validate};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// The changelog line of Baton's own version 1.
pub const DEFAULT_REASON: &str = "Baton's default cadences";

/// One cadence as the agency currently runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cadence {
    #[serde(flatten)]
    pub definition: CadenceDefinition,
    pub version: i64,
    /// `true` once the agency edited it (or created it).
    pub customized: bool,
    /// One of Baton's four defaults.
    pub default: bool,
    pub changed_by: String,
    pub changed_at: Option<i64>,
    pub reason: String,
}

/// One version of one cadence.
#[derive(Debug, Clone, PartialEq)]
pub struct CadenceVersion {
    pub version: i64,
    pub definition: CadenceDefinition,
    /// The first day it rules; `None` for Baton's version 1 (it rules from
    /// the day the agency's cadences started).
    pub effective_from: Option<Date>,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: Option<i64>,
}

fn default_of(key: &str) -> Option<CadenceDefinition> {
    cadence::defaults().into_iter().find(|d| d.key == key)
}

fn parse_def(text: &str) -> Result<CadenceDefinition> {
    serde_json::from_str(text).map_err(|e| StoreError::Config(format!("bad stored cadence: {e}")))
}

fn version_of(r: &AnyRow) -> Result<CadenceVersion> {
    let from: String = r.try_get("effective_from")?;
    Ok(CadenceVersion {
        version: r.try_get("version")?,
        definition: parse_def(&r.try_get::<String, _>("definition")?)?,
        effective_from: Some(
            from.parse()
                .map_err(|_| StoreError::Config(format!("bad stored day {from:?}")))?,
        ),
        reason: r.try_get("reason")?,
        changed_by: r.try_get("actor_label")?,
        changed_at: Some(r.try_get("created_at")?),
    })
}

fn implicit_v1(def: CadenceDefinition) -> CadenceVersion {
    CadenceVersion {
        version: 1,
        definition: def,
        effective_from: None,
        reason: DEFAULT_REASON.into(),
        changed_by: "Baton".into(),
        changed_at: None,
    }
}

fn current(v: CadenceVersion) -> Cadence {
    let default = default_of(&v.definition.key).is_some();
    Cadence {
        customized: !(default && v.version == 1),
        default,
        version: v.version,
        changed_by: v.changed_by,
        changed_at: v.changed_at,
        reason: v.reason,
        definition: v.definition,
    }
}

/// Every version of every cadence, by key (defaults first in the seed's
/// order, then the agency's own by key), oldest version first.
pub(crate) async fn all_versions(
    conn: &mut AnyConnection,
    agency_id: &str,
) -> Result<Vec<(String, Vec<CadenceVersion>)>> {
    let rows = sqlx::query(
        "SELECT cadence_key, version, definition, effective_from, reason, actor_label, created_at \
         FROM cadence_versions WHERE agency_id = $1 ORDER BY cadence_key, version",
    )
    .bind(agency_id)
    .fetch_all(conn)
    .await?;
    let mut stored: BTreeMap<String, Vec<CadenceVersion>> = BTreeMap::new();
    for r in &rows {
        stored
            .entry(r.try_get("cadence_key")?)
            .or_default()
            .push(version_of(r)?);
    }
    let mut out = Vec::new();
    for d in cadence::defaults() {
        let mut versions = stored.remove(&d.key).unwrap_or_default();
        if !versions.iter().any(|v| v.version == 1) {
            versions.insert(0, implicit_v1(d.clone()));
        }
        out.push((d.key, versions));
    }
    out.extend(stored);
    Ok(out)
}

/// The agency's cadences: the four defaults in the seed's order, then its
/// own by key.
pub async fn list(db: &Db, agency_id: &str) -> Result<Vec<Cadence>> {
    let mut conn = db.reader().acquire().await?;
    Ok(all_versions(&mut conn, agency_id)
        .await?
        .into_iter()
        .filter_map(|(_, mut v)| v.pop().map(current))
        .collect())
}

/// One cadence as currently defined.
pub async fn get(db: &Db, agency_id: &str, key: &str) -> Result<Cadence> {
    list(db, agency_id)
        .await?
        .into_iter()
        .find(|c| c.definition.key == key)
        .ok_or(StoreError::NotFound)
}

/// Every version of one cadence, newest first.
pub async fn history(db: &Db, agency_id: &str, key: &str) -> Result<Vec<CadenceVersion>> {
    let mut conn = db.reader().acquire().await?;
    let mut versions = all_versions(&mut conn, agency_id)
        .await?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .ok_or(StoreError::NotFound)?;
    versions.reverse();
    Ok(versions)
}

/// The agency's local day at `now`.
pub(crate) async fn today_on(conn: &mut AnyConnection, agency_id: &str, now: i64) -> Result<Date> {
    let tz: Option<String> = sqlx::query_scalar("SELECT timezone FROM agencies WHERE id = $1")
        .bind(agency_id)
        .fetch_optional(conn)
        .await?;
    let tz = baton_core::human::zone(&tz.ok_or(StoreError::NotFound)?);
    Ok(day_of(now, &tz))
}

/// The agency's local day at `now` (its "today" for meetings).
pub async fn today(db: &Db, agency_id: &str, now: i64) -> Result<Date> {
    let mut conn = db.reader().acquire().await?;
    today_on(&mut conn, agency_id, now).await
}

/// The local day of `ms` in `tz`.
pub fn day_of(ms: i64, tz: &jiff::tz::TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .date()
}

/// Saves a new version of a cadence (or a new cadence of the agency's own)
/// with its changelog line; it rules from today (agency time). A definition
/// equal to the current one is not a change.
pub async fn save(cx: Cx<'_>, def: CadenceDefinition, reason: &str) -> Result<Cadence> {
    def.validate()?;
    if reason.trim().is_empty() {
        return Err(baton_core::CoreError::invalid(
            "reason",
            "say why the cadence changes: it is the changelog line",
        )
        .into());
    }
    let reason = validate::note("reason", reason)?;
    let mut tx = cx.begin().await?;
    let agency_id = cx.agency_id();
    let versions = all_versions(tx.conn(), agency_id).await?;
    let latest = versions
        .iter()
        .find(|(k, _)| *k == def.key)
        .and_then(|(_, v)| v.last());
    let version = match latest {
        Some(cur) if cur.definition == def => {
            drop(tx);
            return get(cx.db, agency_id, &def.key).await;
        }
        Some(cur) => cur.version + 1,
        None => 1,
    };
    let today = today_on(tx.conn(), agency_id, cx.now).await?;
    let text = serde_json::to_string(&def).map_err(|e| StoreError::Config(e.to_string()))?;
    // Baton's version 1 of a default is written with the first edit, so the
    // changelog keeps where the agency started from.
    if version == 2 && latest.is_some_and(|v| v.effective_from.is_none()) {
        let since = since_on(tx.conn(), agency_id, cx.now).await?;
        let v1 = serde_json::to_string(&latest.expect("checked").definition)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        insert_version(
            tx.conn(),
            agency_id,
            (&def.key, 1, &v1, since),
            DEFAULT_REASON,
            ("", "Baton"),
            cx.now,
        )
        .await?;
    }
    let who = (cx.actor.id.as_str(), cx.actor.label.as_str());
    insert_version(
        tx.conn(),
        agency_id,
        (&def.key, version, &text, today),
        &reason,
        who,
        cx.now,
    )
    .await?;
    let detail = json!({"key": def.key, "version": version, "reason": reason,
                        "effective_from": today.to_string()});
    tx.commit(
        Record::new(events::CADENCE_CHANGED, "cadence", &def.key, detail.clone())
            .with_event(None, detail),
    )
    .await?;
    get(cx.db, agency_id, &def.key).await
}

async fn insert_version(
    conn: &mut AnyConnection,
    agency_id: &str,
    (key, version, definition, from): (&str, i64, &str, Date),
    reason: &str,
    actor: (&str, &str),
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO cadence_versions (agency_id, cadence_key, version, definition, effective_from, reason, \
         actor_id, actor_label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(agency_id)
    .bind(key)
    .bind(version)
    .bind(definition)
    .bind(from.to_string())
    .bind(reason)
    .bind(actor.0)
    .bind(actor.1)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first day whose meetings count: set by the day clock the first time
/// it looks at the agency; until then, today.
pub(crate) async fn since_on(conn: &mut AnyConnection, agency_id: &str, now: i64) -> Result<Date> {
    let since: Option<Option<String>> =
        sqlx::query_scalar("SELECT cadences_since FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_optional(&mut *conn)
            .await?;
    match since.ok_or(StoreError::NotFound)? {
        Some(s) => s
            .parse()
            .map_err(|_| StoreError::Config(format!("bad stored day {s:?}"))),
        None => today_on(conn, agency_id, now).await,
    }
}
