//! The weekly scorecard: measurables (a number with an owner, a goal and a
//! comparator, filled by Baton from a KPI or entered by hand), the grid of
//! 13 weeks at a glance, shipped weeks (frozen values, exactly three
//! insights and three actions, completing the week's `weekly_performance`
//! runs), the actions tracked to done, and the clock that records
//! `week_ended` and notices overdue actions.

mod actions;
mod clock;
mod grid;
mod measurables;
mod ship;

pub use actions::{action_done, actions, ActionFilter, ActionRow};
pub use clock::{advance_fenced, due_for_change, next_change, Due};
pub use grid::{grid, Cell, Frozen, FrozenRow, Grid, GridRow, Scope};
pub use measurables::{
    create_measurable, ensure_defaults, enter_value, measurables, update_measurable, Measurable,
    MeasurablePatch, NewMeasurable,
};
pub use ship::{scorecard, scorecards, ship, NewAction, Scorecard, Ship, WEEKLY_SOP, WEEKS};

use baton_core::facts::Snapshot;
use sqlx::AnyConnection;

use crate::error::Result;

/// Whether week `week`'s scorecard covering client `client_id` (its own or
/// the agency's) is shipped: the fact the weekly runs' checklist follows.
pub(crate) async fn week_snapshot(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
    week: &str,
) -> Result<Snapshot> {
    let shipped: Option<String> = sqlx::query_scalar(
        "SELECT id FROM scorecards WHERE agency_id = $1 AND week = $2 AND scope IN ('agency', $3) LIMIT 1",
    )
    .bind(agency_id)
    .bind(week)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    Ok(Snapshot::Week {
        shipped: shipped.is_some(),
    })
}
