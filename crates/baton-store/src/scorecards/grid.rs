//! The scorecard at a glance: every measurable, 13 weeks, each week's value
//! (Baton's KPI, or the owner's entry), green or red by the measurable's
//! rule, flagged when off track two weeks running. A week that was shipped
//! shows the values it was shipped with (frozen), not today's recount.

use std::collections::BTreeMap;

use baton_core::scorecard::{flagged, IsoWeek, Source, Status};
use baton_core::types::ClientId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::measurables::{measurables, Measurable};
use crate::db::Db;
use crate::error::Result;

/// Whose scorecard: the agency's, or one client's (its KPIs only; manual
/// measurables are the agency's and show no value there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Agency,
    Client(ClientId),
}

impl Scope {
    /// As stored: `agency` or the client id.
    pub fn key(&self) -> &str {
        match self {
            Scope::Agency => "agency",
            Scope::Client(c) => c.as_str(),
        }
    }

    pub fn client(&self) -> Option<&ClientId> {
        match self {
            Scope::Agency => None,
            Scope::Client(c) => Some(c),
        }
    }
}

/// One week of one measurable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub week: String,
    pub value: Option<f64>,
    pub status: Status,
    /// The value the week was shipped with.
    pub frozen: bool,
}

/// One measurable across the weeks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRow {
    pub measurable: Measurable,
    /// Oldest first, one per week of the grid.
    pub cells: Vec<Cell>,
    /// Off track in the newest two weeks.
    pub flagged: bool,
    pub rule: String,
}

/// The scorecard for the weeks ending with `end`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    pub weeks: Vec<String>,
    pub rows: Vec<GridRow>,
}

/// What a shipped week keeps of its scorecard (JSON in `scorecards.frozen`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frozen {
    pub weeks: Vec<String>,
    pub rows: Vec<FrozenRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrozenRow {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub rule: String,
    pub values: Vec<Option<f64>>,
}

impl Grid {
    pub(crate) fn freeze(&self) -> Frozen {
        Frozen {
            weeks: self.weeks.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| FrozenRow {
                    id: r.measurable.id.to_string(),
                    name: r.measurable.name.clone(),
                    unit: r.measurable.unit.clone(),
                    rule: r.rule.clone(),
                    values: r.cells.iter().map(|c| c.value).collect(),
                })
                .collect(),
        }
    }
}

/// The scorecard of `scope` for the `weeks` weeks ending with `end`, at `now`.
pub async fn grid(
    db: &Db,
    agency_id: &str,
    scope: &Scope,
    end: IsoWeek,
    weeks: usize,
    now: i64,
) -> Result<Grid> {
    let list = measurables(db, agency_id, false).await?;
    let client = scope.client().map(|c| c.as_str());
    let (kpi_weeks, _) = crate::kpis::weeks_ending(db, agency_id, end, weeks, client, now).await?;
    let week_keys: Vec<String> = kpi_weeks.iter().map(|w| w.week.to_string()).collect();
    let (first, last) = (
        week_keys.first().cloned().unwrap_or_default(),
        week_keys.last().cloned().unwrap_or_default(),
    );
    // The owners' entries (the agency's scorecard only).
    let mut manual: BTreeMap<(String, String), f64> = BTreeMap::new();
    if client.is_none() {
        let rows = sqlx::query(
            "SELECT measurable_id, week, value FROM measurable_values WHERE agency_id = $1 \
             AND week >= $2 AND week <= $3",
        )
        .bind(agency_id)
        .bind(&first)
        .bind(&last)
        .fetch_all(db.reader())
        .await?;
        for r in &rows {
            manual.insert(
                (r.try_get("measurable_id")?, r.try_get("week")?),
                r.try_get("value")?,
            );
        }
    }
    // The values each shipped week was shipped with.
    let mut frozen: BTreeMap<(String, String), Option<f64>> = BTreeMap::new();
    let shipped = sqlx::query(
        "SELECT week, frozen FROM scorecards WHERE agency_id = $1 AND scope = $2 AND week >= $3 AND week <= $4",
    )
    .bind(agency_id)
    .bind(scope.key())
    .bind(&first)
    .bind(&last)
    .fetch_all(db.reader())
    .await?;
    for r in &shipped {
        let week: String = r.try_get("week")?;
        let f: Frozen = match serde_json::from_str(&r.try_get::<String, _>("frozen")?) {
            Ok(f) => f,
            Err(_) => continue,
        };
        let Some(i) = f.weeks.iter().position(|w| *w == week) else {
            continue;
        };
        for row in f.rows {
            frozen.insert((row.id, week.clone()), row.values.get(i).copied().flatten());
        }
    }
    let rows = list
        .into_iter()
        .map(|m| {
            let cells: Vec<Cell> = kpi_weeks
                .iter()
                .map(|w| {
                    let week = w.week.to_string();
                    let key = (m.id.to_string(), week.clone());
                    let (value, is_frozen) = match frozen.get(&key) {
                        Some(v) => (*v, true),
                        None => (
                            match m.source {
                                Source::Kpi(k) => w.report.value(k).value,
                                Source::Manual => manual.get(&key).copied(),
                            },
                            false,
                        ),
                    };
                    Cell {
                        week,
                        value,
                        status: Status::of(&m.goal, value),
                        frozen: is_frozen,
                    }
                })
                .collect();
            let statuses: Vec<Status> = cells.iter().map(|c| c.status).collect();
            GridRow {
                flagged: flagged(&statuses),
                rule: m.rule(),
                measurable: m,
                cells,
            }
        })
        .collect();
    Ok(Grid {
        weeks: week_keys,
        rows,
    })
}
