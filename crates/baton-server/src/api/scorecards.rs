//! `/api/v1/measurables` (what the weekly scorecard tracks),
//! `/api/v1/scorecard` (13 weeks at a glance), `/api/v1/scorecards` (shipped
//! weeks: 3 insights, 3 actions) and `/api/v1/actions` (tracked to done).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::scorecard::{Comparator, Goal, IsoWeek, Source};
use baton_core::types::{ActionId, ClientId, MeasurableId, MemberId};
use baton_store::scorecards::{
    self, ActionFilter, ActionRow, Grid, Measurable, MeasurablePatch, NewAction, NewMeasurable,
    Scope as CardScope, Scorecard, Ship,
};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The scorecard operations (merged into [`super::operations`]).
pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_measurables, create_measurable))
        .routes(routes!(update_measurable))
        .routes(routes!(enter_value))
        .routes(routes!(get_scorecard))
        .routes(routes!(list_scorecards, ship))
        .routes(routes!(list_actions))
        .routes(routes!(action_done))
        .routes(routes!(action_reopen))
}

/// One measurable.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurableOut {
    /// `msr_…`
    pub id: String,
    pub name: String,
    /// The member who owns it (`mem_…`).
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// `days`, `percent`, `count` (a KPI's), or the manual measurable's own word.
    pub unit: String,
    /// `<`, `<=`, `>=`, `>` or `range`.
    pub comparator: String,
    pub goal: f64,
    /// The upper end of a `range`.
    pub goal_max: Option<f64>,
    /// `manual` or the KPI that fills it every week.
    pub source: String,
    /// The rule in words.
    pub rule: String,
    pub archived: bool,
}

impl From<Measurable> for MeasurableOut {
    fn from(m: Measurable) -> Self {
        MeasurableOut {
            rule: m.rule(),
            id: m.id.to_string(),
            name: m.name,
            owner: m.owner_member_id,
            owner_name: m.owner_name,
            unit: m.unit,
            comparator: m.goal.comparator.key().into(),
            goal: m.goal.goal,
            goal_max: m.goal.goal_max,
            source: m.source.key(),
            archived: m.archived,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurableList {
    pub items: Vec<MeasurableOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasurablesQuery {
    /// `true`: archived ones too.
    #[param(nullable = false)]
    pub archived: Option<bool>,
}

#[utoipa::path(get, operation_id = "listMeasurables", path = "/measurables", tag = "scorecard", params(MeasurablesQuery),
    responses((status = 200, body = MeasurableList)), security(("bearer" = [])))]
pub async fn list_measurables(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<MeasurablesQuery>,
) -> ApiResult<Json<MeasurableList>> {
    caller.require(Scope::Read)?;
    scorecards::ensure_defaults(caller.cx(&state)).await?;
    let items =
        scorecards::measurables(&state.db, caller.agency_id(), q.archived.unwrap_or(false)).await?;
    Ok(Json(MeasurableList {
        items: items.into_iter().map(MeasurableOut::from).collect(),
    }))
}

/// A goal: one number, or `[low, high]` for `range`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum GoalIn {
    One(f64),
    Range([f64; 2]),
}

/// The goal of `comparator` and `goal` (plus `goal_max`, the other way to
/// give a range's high end).
fn goal_of(comparator: &str, goal: &GoalIn, goal_max: Option<f64>) -> ApiResult<Goal> {
    let c = Comparator::parse(comparator)
        .ok_or_else(|| ApiError::invalid("comparator", "use <, <=, >=, > or range"))?;
    let (lo, hi) = match (goal, goal_max) {
        (GoalIn::One(v), max) => (*v, max),
        (GoalIn::Range(_), Some(_)) => {
            return Err(ApiError::invalid(
                "goal_max",
                "give the range as goal [low, high] or goal and goal_max, not both",
            ))
        }
        (GoalIn::Range([a, b]), None) => (*a, Some(*b)),
    };
    Ok(Goal::new(c, lo, hi)?)
}

fn source_of(s: &str) -> ApiResult<Source> {
    Ok(Source::parse(s)?)
}

/// A new measurable.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurableIn {
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// The member who owns it (`mem_…`, active: 422 otherwise).
    #[schema(schema_with = super::openapi::member_id)]
    pub owner: MemberId,
    /// A KPI's unit (`days`, `percent`, `count`; may be left out), or a
    /// manual measurable's (1–20 characters).
    #[schema(schema_with = super::openapi::optional_unit)]
    pub unit: Option<String>,
    /// A number, or `[low, high]` with `range`.
    #[schema(schema_with = super::openapi::goal)]
    pub goal: GoalIn,
    /// The high end of a `range` (when `goal` is one number).
    #[schema(schema_with = super::openapi::goal_max)]
    pub goal_max: Option<f64>,
    #[schema(schema_with = super::openapi::comparator)]
    pub comparator: String,
    /// `manual`, or the KPI that fills it every week (`time_to_verified_access`, …).
    #[schema(schema_with = super::openapi::measurable_source)]
    pub source: String,
}

#[utoipa::path(post, operation_id = "createMeasurable", path = "/measurables", tag = "scorecard", request_body = MeasurableIn,
    responses((status = 201, body = MeasurableOut), (status = 422)), security(("bearer" = [])))]
pub async fn create_measurable(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<MeasurableIn>,
) -> ApiResult<(StatusCode, Json<MeasurableOut>)> {
    caller.require(Scope::Write)?;
    let m = NewMeasurable {
        name: b.name,
        owner: Some(b.owner),
        unit: strict_unit(b.unit)?,
        goal: goal_of(&b.comparator, &b.goal, b.goal_max)?,
        source: source_of(&b.source)?,
    };
    let m = scorecards::create_measurable(caller.cx(&state), m).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// What an edit changes; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurablePatchIn {
    #[schema(schema_with = super::openapi::name_text_or_null)]
    pub name: Option<String>,
    /// The new owner (`mem_…`).
    #[schema(schema_with = super::openapi::member_id_or_null)]
    pub owner: Option<MemberId>,
    #[schema(schema_with = super::openapi::optional_unit)]
    pub unit: Option<String>,
    /// With `comparator`: the new goal.
    #[schema(schema_with = super::openapi::goal_or_null)]
    pub goal: Option<GoalIn>,
    #[schema(schema_with = super::openapi::goal_max)]
    pub goal_max: Option<f64>,
    #[schema(schema_with = super::openapi::comparator_or_null)]
    pub comparator: Option<String>,
    /// `true` takes it off the scorecard (its history stays); `false` brings it back.
    #[schema(nullable = false)]
    pub archived: Option<bool>,
}

/// A unit as the document spells it: 1–20 characters on one line, no
/// spaces around them. The store would read an empty unit as "the KPI's
/// own"; the API refuses what its document forbids instead.
fn strict_unit(unit: Option<String>) -> ApiResult<Option<String>> {
    if let Some(u) = &unit {
        let one_line = !u.contains(['\n', '\r', '\u{2028}', '\u{2029}']);
        let trimmed = u.trim() == u && !u.starts_with('\u{feff}') && !u.ends_with('\u{feff}');
        if u.is_empty() || !one_line || !trimmed || u.chars().count() > 20 {
            return Err(ApiError::invalid(
                "unit",
                "must be 1 to 20 characters on one line, without spaces around them (leave it out for a KPI's own)",
            ));
        }
    }
    Ok(unit)
}

#[utoipa::path(patch, operation_id = "updateMeasurable", path = "/measurables/{id}", tag = "scorecard",
    params(("id" = String, Path)), request_body = MeasurablePatchIn,
    responses((status = 200, body = MeasurableOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_measurable(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<MeasurableId>,
    ApiJson(b): ApiJson<MeasurablePatchIn>,
) -> ApiResult<Json<MeasurableOut>> {
    caller.require(Scope::Write)?;
    let goal = match (&b.comparator, &b.goal) {
        (Some(c), Some(g)) => Some(goal_of(c, g, b.goal_max)?),
        (None, None) if b.goal_max.is_none() => None,
        _ => {
            return Err(ApiError::invalid(
                "goal",
                "change the goal and the comparator together",
            ))
        }
    };
    let p = MeasurablePatch {
        name: b.name,
        owner: b.owner.map(Some),
        unit: strict_unit(b.unit)?,
        goal,
        archived: b.archived,
    };
    let m = scorecards::update_measurable(caller.cx(&state), &id, p).await?;
    Ok(Json(m.into()))
}

/// A manual measurable's value for a week.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurableValueIn {
    /// `2026-W48`; not a week that has not started.
    #[schema(schema_with = super::openapi::iso_week)]
    pub week: String,
    pub value: f64,
}

#[utoipa::path(post, operation_id = "enterMeasurableValue", path = "/measurables/{id}/values", tag = "scorecard",
    params(("id" = String, Path)), request_body = MeasurableValueIn,
    responses((status = 200, body = MeasurableOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn enter_value(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<MeasurableId>,
    ApiJson(b): ApiJson<MeasurableValueIn>,
) -> ApiResult<Json<MeasurableOut>> {
    caller.require(Scope::Write)?;
    let week = IsoWeek::parse(&b.week)?;
    let m = scorecards::enter_value(caller.cx(&state), &id, week, b.value).await?;
    Ok(Json(m.into()))
}

/// One week of one measurable.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardCellOut {
    pub week: String,
    pub value: Option<f64>,
    /// `on_track`, `off_track` or `no_data`.
    pub status: String,
    /// The value the week was shipped with.
    pub frozen: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardRowOut {
    pub measurable: MeasurableOut,
    /// One per week, oldest first.
    pub weeks: Vec<ScorecardCellOut>,
    /// Off track the newest two weeks running.
    pub flagged: bool,
}

/// An action agreed in a shipped week.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardActionOut {
    /// `act_…`
    pub id: String,
    pub text: String,
    pub owner: String,
    pub owner_name: String,
    /// `YYYY-MM-DD`, agency time.
    pub due: String,
    /// The week that agreed it.
    pub week: String,
    pub scorecard: String,
    pub client: Option<String>,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub overdue: bool,
}

impl ScorecardActionOut {
    fn new(a: ActionRow, now: i64) -> Self {
        ScorecardActionOut {
            overdue: a.is_overdue(now),
            id: a.id.to_string(),
            text: a.text,
            owner: a.owner_member_id,
            owner_name: a.owner_name,
            due: a.due_on,
            week: a.week,
            scorecard: a.scorecard_id,
            client: a.client_id,
            done: a.done_at.is_some(),
            done_at: a.done_at.map(rfc3339),
            done_by: a.done_by,
        }
    }
}

/// A shipped week.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardOut {
    /// `scw_…`
    pub id: String,
    pub week: String,
    /// The client's scorecard, or null for the agency's.
    pub client: Option<String>,
    pub client_name: Option<String>,
    pub insights: Vec<String>,
    pub actions: Vec<ScorecardActionOut>,
    pub shipped_by: String,
    pub shipped_at: String,
    /// The week's `weekly_performance` runs done (of the clients it covers).
    pub runs_done: i64,
}

impl ScorecardOut {
    fn new(s: Scorecard, now: i64) -> Self {
        ScorecardOut {
            id: s.id.to_string(),
            week: s.week,
            client: s.client_id,
            client_name: s.client_name,
            insights: s.insights,
            actions: s
                .actions
                .into_iter()
                .map(|a| ScorecardActionOut::new(a, now))
                .collect(),
            shipped_by: s.shipped_by,
            shipped_at: rfc3339(s.shipped_at),
            runs_done: s.runs_done,
        }
    }
}

/// The scorecard at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardViewOut {
    /// The week in view.
    pub week: String,
    pub client: Option<String>,
    /// The weeks of the grid, oldest first (13).
    pub weeks: Vec<String>,
    pub rows: Vec<ScorecardRowOut>,
    /// The week's shipped scorecard, if shipped.
    pub shipped: Option<ScorecardOut>,
    /// The actions of the week before, with their state.
    pub last_week_actions: Vec<ScorecardActionOut>,
}

fn grid_out(g: Grid) -> (Vec<String>, Vec<ScorecardRowOut>) {
    let rows = g
        .rows
        .into_iter()
        .map(|r| ScorecardRowOut {
            flagged: r.flagged,
            weeks: r
                .cells
                .into_iter()
                .map(|c| ScorecardCellOut {
                    week: c.week,
                    value: c.value,
                    status: c.status.key().into(),
                    frozen: c.frozen,
                })
                .collect(),
            measurable: r.measurable.into(),
        })
        .collect();
    (g.weeks, rows)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// `2026-W48`; the current week when absent.
    #[param(schema_with = super::openapi::iso_week_or_empty)]
    pub week: Option<String>,
    /// A client's scorecard (`cli_…`); the agency's when absent.
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
    /// `csv` for a CSV download (or send `Accept: text/csv`).
    #[param(schema_with = super::openapi::download_format)]
    pub format: Option<String>,
}

/// The scope named by a `client` filter: the agency's, or a client of this
/// agency (404 otherwise).
async fn scope_of(
    state: &AppState,
    caller: &ApiCaller,
    client: Option<&str>,
) -> ApiResult<CardScope> {
    Ok(
        match super::kpis::client_filter(state, caller, client).await? {
            Some(id) => CardScope::Client(id),
            None => CardScope::Agency,
        },
    )
}

#[utoipa::path(get, operation_id = "getScorecard", path = "/scorecard", tag = "scorecard", params(ScorecardQuery),
    responses(
        (status = 200, description = "13 weeks at a glance; CSV with `format=csv` or `Accept: text/csv`",
            content((ScorecardViewOut = "application/json"), (String = "text/csv"))),
        (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn get_scorecard(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let csv = super::kpis::wants_csv(q.format.as_deref(), &headers)?;
    let scope = scope_of(&state, &caller, q.client.as_deref()).await?;
    scorecards::ensure_defaults(caller.cx(&state)).await?;
    let now = state.now();
    let tz = baton_store::calendars::zone(&state.db, caller.agency_id()).await?;
    let week = match q.week.as_deref() {
        None | Some("") => IsoWeek::containing(now, &tz),
        Some(w) => IsoWeek::parse(w)?,
    };
    let g = scorecards::grid(
        &state.db,
        caller.agency_id(),
        &scope,
        week,
        scorecards::WEEKS,
        now,
    )
    .await?;
    if csv {
        return super::kpis::csv_response(&format!("scorecard-{week}.csv"), grid_csv_rows(&g));
    }
    let shipped = scorecards::scorecard(&state.db, caller.agency_id(), &scope, week).await?;
    let last = scorecards::scorecard(&state.db, caller.agency_id(), &scope, week.prev()).await?;
    let (weeks, rows) = grid_out(g);
    Ok(Json(ScorecardViewOut {
        week: week.to_string(),
        client: scope.client().map(|c| c.to_string()),
        weeks,
        rows,
        shipped: shipped.map(|s| ScorecardOut::new(s, now)),
        last_week_actions: last
            .map(|s| {
                s.actions
                    .into_iter()
                    .map(|a| ScorecardActionOut::new(a, now))
                    .collect()
            })
            .unwrap_or_default(),
    })
    .into_response())
}

/// The grid as CSV rows: one row per measurable and week.
pub fn grid_csv_rows(g: &Grid) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "measurable",
        "owner",
        "unit",
        "goal",
        "week",
        "value",
        "status",
    ]
    .map(String::from)
    .to_vec()];
    for r in &g.rows {
        for c in &r.cells {
            rows.push(vec![
                r.measurable.name.clone(),
                r.measurable.owner_name.clone().unwrap_or_default(),
                r.measurable.unit.clone(),
                r.measurable.goal.short(&r.measurable.unit),
                c.week.clone(),
                c.value.map(|v| v.to_string()).unwrap_or_default(),
                c.status.key().into(),
            ]);
        }
    }
    rows
}

/// An action to agree.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardActionIn {
    /// 1–500 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub text: String,
    /// The member who owns it (`mem_…`, active).
    #[schema(schema_with = super::openapi::member_id)]
    pub owner: MemberId,
    /// The day it is due (`YYYY-MM-DD`, agency time), not before the week.
    #[schema(schema_with = super::openapi::date)]
    pub due: String,
}

/// A week to ship: exactly 3 insights and 3 actions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipIn {
    /// `2026-W48`; not a week that has not started.
    #[schema(schema_with = super::openapi::iso_week)]
    pub week: String,
    /// A client's scorecard (`cli_…`); the agency's when absent.
    #[schema(schema_with = super::openapi::client_id_or_null)]
    pub client: Option<String>,
    /// Exactly three, each 1–1,000 characters.
    #[schema(schema_with = super::openapi::insights)]
    pub insights: Vec<String>,
    /// Exactly three.
    #[schema(min_items = 3, max_items = 3)]
    pub actions: Vec<ScorecardActionIn>,
}

#[utoipa::path(post, operation_id = "shipScorecard", path = "/scorecards", tag = "scorecard", request_body = ShipIn,
    responses((status = 201, body = ScorecardOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn ship(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<ShipIn>,
) -> ApiResult<(StatusCode, Json<ScorecardOut>)> {
    caller.require(Scope::Write)?;
    let week = IsoWeek::parse(&b.week)?;
    let scope = match b.client.as_deref() {
        None | Some("") => CardScope::Agency,
        Some(c) => CardScope::Client(
            ClientId::parse(c)
                .map_err(|_| ApiError::invalid("client", "must be a client id (cli_…)"))?,
        ),
    };
    let s = Ship {
        week,
        scope,
        insights: b.insights,
        actions: b
            .actions
            .into_iter()
            .map(|a| NewAction {
                text: a.text,
                owner: a.owner,
                due_on: a.due,
            })
            .collect(),
    };
    let out = scorecards::ship(caller.cx(&state), s).await?;
    Ok((
        StatusCode::CREATED,
        Json(ScorecardOut::new(out, state.now())),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardList {
    pub items: Vec<ScorecardOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardsQuery {
    /// Only this client's (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
    /// 1–200 (default 52), newest week first.
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, operation_id = "listScorecards", path = "/scorecards", tag = "scorecard", params(ScorecardsQuery),
    responses((status = 200, body = ScorecardList), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn list_scorecards(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ScorecardsQuery>,
) -> ApiResult<Json<ScorecardList>> {
    caller.require(Scope::Read)?;
    let limit = q.limit.unwrap_or(52);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1–200"));
    }
    let scope = scope_of(&state, &caller, q.client.as_deref()).await?;
    let client = scope.client().map(|c| c.as_str());
    let items = scorecards::scorecards(&state.db, caller.agency_id(), client, limit).await?;
    let now = state.now();
    Ok(Json(ScorecardList {
        items: items
            .into_iter()
            .map(|s| ScorecardOut::new(s, now))
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorecardActionList {
    pub items: Vec<ScorecardActionOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// `true`: not done yet; `false`: done; absent: all.
    #[param(nullable = false)]
    pub open: Option<bool>,
    /// Only this member's (`mem_…`).
    #[param(schema_with = super::openapi::member_filter)]
    pub owner: Option<String>,
}

#[utoipa::path(get, operation_id = "listActions", path = "/actions", tag = "scorecard", params(ActionsQuery),
    responses((status = 200, body = ScorecardActionList), (status = 422)), security(("bearer" = [])))]
pub async fn list_actions(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> ApiResult<Json<ScorecardActionList>> {
    caller.require(Scope::Read)?;
    let owner = match q.owner.as_deref() {
        None | Some("") => None,
        Some(o) => Some(
            MemberId::parse(o)
                .map_err(|_| ApiError::invalid("owner", "must be a member id (mem_…)"))?
                .into_string(),
        ),
    };
    let f = ActionFilter {
        open: q.open,
        owner,
        limit: None,
    };
    let items = scorecards::actions(&state.db, caller.agency_id(), &f).await?;
    let now = state.now();
    Ok(Json(ScorecardActionList {
        items: items
            .into_iter()
            .map(|a| ScorecardActionOut::new(a, now))
            .collect(),
    }))
}

#[utoipa::path(post, operation_id = "markActionDone", path = "/actions/{id}/done", tag = "scorecard",
    params(("id" = String, Path)), responses((status = 200, body = ScorecardActionOut), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn action_done(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ActionId>,
) -> ApiResult<Json<ScorecardActionOut>> {
    caller.require(Scope::Write)?;
    let a = scorecards::action_done(caller.cx(&state), &id, true).await?;
    Ok(Json(ScorecardActionOut::new(a, state.now())))
}

#[utoipa::path(post, operation_id = "reopenAction", path = "/actions/{id}/reopen", tag = "scorecard",
    params(("id" = String, Path)), responses((status = 200, body = ScorecardActionOut), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn action_reopen(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ActionId>,
) -> ApiResult<Json<ScorecardActionOut>> {
    caller.require(Scope::Write)?;
    let a = scorecards::action_done(caller.cx(&state), &id, false).await?;
    Ok(Json(ScorecardActionOut::new(a, state.now())))
}
