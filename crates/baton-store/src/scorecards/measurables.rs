//! Measurables: what the weekly scorecard tracks. The default set (the
//! seed's six ops KPIs) is created once per agency, the first time its
//! scorecard is looked at; after that the agency edits, adds and archives.

use baton_core::events;
use baton_core::kpis::Unit;
use baton_core::scorecard::{defaults, Comparator, Goal, IsoWeek, Source};
use baton_core::types::{MeasurableId, MemberId};
use baton_core::CoreError;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// One measurable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurable {
    pub id: MeasurableId,
    pub name: String,
    pub owner_member_id: Option<String>,
    pub owner_name: Option<String>,
    pub unit: String,
    pub goal: Goal,
    #[serde(skip)]
    pub source: Source,
    /// The KPI it was created from, for a default.
    pub kpi_default: Option<String>,
    pub position: i64,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Measurable {
    /// The rule in words ("green when at most 3 days, red otherwise").
    pub fn rule(&self) -> String {
        self.goal.rule(&self.unit)
    }
}

const COLS: &str = "x.id, x.name, x.owner_member_id, m.name AS owner_name, x.unit, x.comparator, \
    x.goal, x.goal_max, x.source, x.kpi_default, x.position, x.archived_at, x.created_at, x.updated_at \
    FROM measurables x LEFT JOIN members m ON m.id = x.owner_member_id";

fn from_row(r: &AnyRow) -> Result<Measurable> {
    let bad =
        |what: &str, v: &str| StoreError::Config(format!("bad stored measurable {what} {v:?}"));
    let comparator: String = r.try_get("comparator")?;
    let source: String = r.try_get("source")?;
    let goal = Goal {
        comparator: Comparator::parse(&comparator).ok_or_else(|| bad("comparator", &comparator))?,
        goal: r.try_get("goal")?,
        goal_max: r.try_get("goal_max")?,
    };
    Ok(Measurable {
        id: crate::db::typed_id(r, "id")?,
        name: r.try_get("name")?,
        owner_member_id: r.try_get("owner_member_id")?,
        owner_name: r.try_get("owner_name")?,
        unit: r.try_get("unit")?,
        goal,
        source: Source::parse(&source).map_err(|_| bad("source", &source))?,
        kpi_default: r.try_get("kpi_default")?,
        position: r.try_get("position")?,
        archived: r.try_get::<Option<i64>, _>("archived_at")?.is_some(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The agency's measurables in scorecard order; archived ones only with
/// `archived`.
pub async fn measurables(db: &Db, agency_id: &str, archived: bool) -> Result<Vec<Measurable>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} WHERE x.agency_id = $1 AND ($2 = 1 OR x.archived_at IS NULL) ORDER BY x.position, x.id"
    ))
    .bind(agency_id)
    .bind(i64::from(archived))
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

async fn get_on(conn: &mut AnyConnection, agency_id: &str, id: &str) -> Result<Measurable> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} WHERE x.agency_id = $1 AND x.id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Creates the default measurables once per agency (the seed's six ops
/// KPIs, owned by the first active member holding the role that owns each).
/// Claimed inside the transaction: concurrent first looks create them once.
/// Recorded as Baton's doing, whoever looked first.
pub async fn ensure_defaults(cx: Cx<'_>) -> Result<()> {
    let baton = crate::write::Actor::system("Scorecard defaults");
    let cx = Cx {
        actor: &baton,
        ..cx
    };
    let seeded: Option<Option<i64>> =
        sqlx::query_scalar("SELECT scorecard_seeded_at FROM agencies WHERE id = $1")
            .bind(cx.agency_id())
            .fetch_optional(cx.db.reader())
            .await?;
    if !matches!(seeded, Some(None)) {
        return Ok(());
    }
    let mut tx = cx.begin().await?;
    let claimed = sqlx::query(
        "UPDATE agencies SET scorecard_seeded_at = $2 WHERE id = $1 AND scorecard_seeded_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(cx.now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(());
    }
    let mut created = Vec::new();
    for (i, d) in defaults().into_iter().enumerate() {
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT id FROM members WHERE agency_id = $1 AND active = 1 AND roles LIKE $2 ORDER BY id LIMIT 1",
        )
        .bind(cx.agency_id())
        .bind(format!("%\"{}\"%", d.owner_role.key()))
        .fetch_optional(tx.conn())
        .await?;
        let id = MeasurableId::new(cx.now);
        insert(
            &mut tx,
            &id,
            d.kpi.label(),
            owner.as_deref(),
            d.kpi.unit().key(),
            &d.goal,
            Source::Kpi(d.kpi),
            Some(d.kpi.key()),
            i as i64,
        )
        .await?;
        created.push(json!({"id": id, "kpi": d.kpi.key(), "owner": owner}));
    }
    let record = Record::new(
        events::MEASURABLE_SAVED,
        "agency",
        cx.agency_id(),
        json!({"defaults": created}),
    );
    tx.commit(record).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut crate::write::WriteTx,
    id: &MeasurableId,
    name: &str,
    owner: Option<&str>,
    unit: &str,
    goal: &Goal,
    source: Source,
    kpi_default: Option<&str>,
    position: i64,
) -> Result<()> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    sqlx::query(
        "INSERT INTO measurables (id, agency_id, name, owner_member_id, unit, comparator, goal, goal_max, \
         source, kpi_default, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(id.as_str())
    .bind(&agency_id)
    .bind(name)
    .bind(owner)
    .bind(unit)
    .bind(goal.comparator.key())
    .bind(goal.goal)
    .bind(crate::db::NullableF64(goal.goal_max))
    .bind(source.key())
    .bind(kpi_default)
    .bind(position)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A new measurable.
#[derive(Debug, Clone)]
pub struct NewMeasurable {
    pub name: String,
    pub owner: Option<MemberId>,
    /// Required for a manual measurable; a KPI's is its own.
    pub unit: Option<String>,
    pub goal: Goal,
    pub source: Source,
}

/// The name, checked like every name (`validate::name`).
fn check_name(name: &str) -> Result<String> {
    Ok(baton_core::validate::name("name", name)?)
}

/// The unit for `source`: a KPI's own (a different one given is refused),
/// or the manual measurable's (1–20 characters).
fn check_unit(source: Source, unit: Option<&str>) -> Result<String> {
    let given = unit.map(str::trim).filter(|u| !u.is_empty());
    match (source, given) {
        (Source::Kpi(k), None) => Ok(k.unit().key().into()),
        (Source::Kpi(k), Some(u)) if u == k.unit().key() => Ok(u.into()),
        (Source::Kpi(k), Some(u)) => Err(CoreError::invalid(
            "unit",
            format!("{} is counted in {}, not {u:?}", k.label(), k.unit().key()),
        )
        .into()),
        (Source::Manual, None) => Err(CoreError::invalid(
            "unit",
            format!(
                "a manual measurable needs a unit (e.g. {}, or a word such as \"posts\")",
                [Unit::Days, Unit::Percent, Unit::Count]
                    .map(Unit::key)
                    .join(", ")
            ),
        )
        .into()),
        (Source::Manual, Some(u)) if u.chars().count() <= 20 => Ok(u.into()),
        (Source::Manual, Some(_)) => {
            Err(CoreError::invalid("unit", "at most 20 characters").into())
        }
    }
}

pub async fn create_measurable(cx: Cx<'_>, m: NewMeasurable) -> Result<Measurable> {
    let name = check_name(&m.name)?;
    let unit = check_unit(m.source, m.unit.as_deref())?;
    // The defaults come first on the scorecard.
    ensure_defaults(cx).await?;
    let mut tx = cx.begin().await?;
    if let Some(owner) = &m.owner {
        crate::incidents::moves::active_member(&mut tx, "owner", owner.as_str()).await?;
    }
    let position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM measurables WHERE agency_id = $1",
    )
    .bind(cx.agency_id())
    .fetch_one(tx.conn())
    .await?;
    let id = MeasurableId::new(cx.now);
    let owner = m.owner.as_ref().map(|o| o.as_str());
    insert(
        &mut tx, &id, &name, owner, &unit, &m.goal, m.source, None, position,
    )
    .await?;
    let out = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    let record = Record::new(
        events::MEASURABLE_SAVED,
        "measurable",
        id.as_str(),
        json!({"name": name, "owner": owner, "unit": unit, "goal": m.goal, "source": m.source.key()}),
    );
    tx.commit(record).await?;
    Ok(out)
}

/// What an edit changes (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct MeasurablePatch {
    pub name: Option<String>,
    /// `Some(None)` clears the owner.
    pub owner: Option<Option<MemberId>>,
    pub unit: Option<String>,
    pub goal: Option<Goal>,
    pub archived: Option<bool>,
}

pub async fn update_measurable(
    cx: Cx<'_>,
    id: &MeasurableId,
    p: MeasurablePatch,
) -> Result<Measurable> {
    let mut tx = cx.begin().await?;
    let cur = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    let name = match &p.name {
        Some(n) => check_name(n)?,
        None => cur.name.clone(),
    };
    let unit = match &p.unit {
        Some(u) => check_unit(cur.source, Some(u))?,
        None => cur.unit.clone(),
    };
    let owner = match &p.owner {
        Some(Some(o)) => {
            crate::incidents::moves::active_member(&mut tx, "owner", o.as_str()).await?;
            Some(o.as_str().to_string())
        }
        Some(None) => None,
        None => cur.owner_member_id.clone(),
    };
    let goal = p.goal.unwrap_or(cur.goal);
    let archived_at = match p.archived {
        Some(true) if !cur.archived => Some(cx.now),
        Some(false) => None,
        _ if cur.archived => Some(cur.updated_at),
        _ => None,
    };
    sqlx::query(
        "UPDATE measurables SET name = $3, owner_member_id = $4, unit = $5, comparator = $6, goal = $7, \
         goal_max = $8, archived_at = $9, updated_at = $10 WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(&name)
    .bind(&owner)
    .bind(&unit)
    .bind(goal.comparator.key())
    .bind(goal.goal)
    .bind(crate::db::NullableF64(goal.goal_max))
    .bind(archived_at)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    let out = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    let record = Record::new(
        events::MEASURABLE_SAVED,
        "measurable",
        id.as_str(),
        json!({"name": name, "owner": owner, "unit": unit, "goal": goal, "archived": out.archived}),
    );
    tx.commit(record).await?;
    Ok(out)
}

/// The owner's value of a manual measurable for `week` (a new entry
/// replaces the week's old one; the event keeps both).
pub async fn enter_value(
    cx: Cx<'_>,
    id: &MeasurableId,
    week: IsoWeek,
    value: f64,
) -> Result<Measurable> {
    if !value.is_finite() {
        return Err(CoreError::invalid("value", "must be a number").into());
    }
    let tz = crate::calendars::zone(cx.db, cx.agency_id()).await?;
    if week > IsoWeek::containing(cx.now, &tz) {
        return Err(CoreError::invalid("week", "that week has not started yet").into());
    }
    let mut tx = cx.begin().await?;
    let m = get_on(tx.conn(), cx.agency_id(), id.as_str()).await?;
    if m.source != Source::Manual {
        return Err(CoreError::Conflict(format!(
            "\"{}\" is filled by Baton from its KPI; only manual measurables take entered values",
            m.name
        ))
        .into());
    }
    let week_key = week.to_string();
    let old: Option<f64> = sqlx::query_scalar(
        "SELECT value FROM measurable_values WHERE agency_id = $1 AND measurable_id = $2 AND week = $3",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(&week_key)
    .fetch_optional(tx.conn())
    .await?;
    sqlx::query(
        "DELETE FROM measurable_values WHERE agency_id = $1 AND measurable_id = $2 AND week = $3",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(&week_key)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO measurable_values (agency_id, measurable_id, week, value, entered_by, entered_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(&week_key)
    .bind(value)
    .bind(&cx.actor.label)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    let record = Record::new(
        events::MEASURABLE_VALUE,
        "measurable",
        id.as_str(),
        json!({"name": m.name, "week": week_key, "value": value, "previous": old}),
    );
    tx.commit(record).await?;
    Ok(m)
}
