//! The weekly scorecard page (`/scorecard?week=&client=`): 13 weeks at a
//! glance with each measurable's rule, last week's actions with their
//! state, and either the shipped week (insights, actions) or the form that
//! ships it with exactly three insights and three actions. Also its forms:
//! adding and editing measurables, entering a manual value, marking an
//! action done (from here or from My work). Printable on one page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::scorecard::{Comparator, Goal, IsoWeek, Source, Status};
use baton_core::types::{ActionId, ClientId, MeasurableId, MemberId};
use baton_store::scorecards::{
    self, ActionRow, MeasurablePatch, NewAction, NewMeasurable, Scope, Ship,
};
use serde::Deserialize;

use super::refusal;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::clients::new::member_options;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::WebPath;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::WebError;

/// One cell of the grid.
pub struct CellView {
    pub value: String,
    /// `on_track`, `off_track` or `no_data` (the class; the symbol and the
    /// words say the same without colour).
    pub status: &'static str,
    pub symbol: &'static str,
    pub words: &'static str,
    pub frozen: bool,
}

/// One measurable's row.
pub struct RowView {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub goal: String,
    pub rule: String,
    pub source: String,
    pub manual: bool,
    pub flagged: bool,
    pub cells: Vec<CellView>,
    pub comparator: &'static str,
    pub goal_value: String,
    pub goal_max: String,
    pub owner_id: String,
}

/// An action as the page shows it.
pub struct ActionView {
    pub id: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub done: bool,
    pub overdue: bool,
}

impl ActionView {
    pub fn of(a: &ActionRow, now: i64) -> ActionView {
        ActionView {
            id: a.id.to_string(),
            text: a.text.clone(),
            owner: a.owner_name.clone(),
            due: a.due_on.clone(),
            done: a.done_at.is_some(),
            overdue: a.is_overdue(now),
        }
    }
}

/// The ship form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ShipForm {
    pub week: String,
    pub client: String,
    pub insight_1: String,
    pub insight_2: String,
    pub insight_3: String,
    pub action_1_text: String,
    pub action_1_owner: String,
    pub action_1_due: String,
    pub action_2_text: String,
    pub action_2_owner: String,
    pub action_2_due: String,
    pub action_3_text: String,
    pub action_3_owner: String,
    pub action_3_due: String,
}

impl ShipForm {
    fn actions(&self) -> [(&str, &str, &str); 3] {
        [
            (
                &self.action_1_text,
                &self.action_1_owner,
                &self.action_1_due,
            ),
            (
                &self.action_2_text,
                &self.action_2_owner,
                &self.action_2_due,
            ),
            (
                &self.action_3_text,
                &self.action_3_owner,
                &self.action_3_due,
            ),
        ]
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
    }
}

/// One action line of the ship form.
pub struct ActionSlot {
    pub n: usize,
    pub text: String,
    pub owners: Vec<Opt>,
    pub due: String,
}

#[derive(Template)]
#[template(path = "scorecard.html")]
struct ScorecardPage {
    layout: Layout,
    week: String,
    week_range: String,
    prev_week: String,
    next_week: Option<String>,
    client: Option<(String, String)>,
    clients: Vec<Opt>,
    weeks: Vec<String>,
    rows: Vec<RowView>,
    shipped: Option<ShippedView>,
    last_week_actions: Vec<ActionView>,
    form: ShipForm,
    slots: Vec<ActionSlot>,
    error: Option<String>,
    members: Vec<Opt>,
    sources: Vec<Opt>,
    comparators: Vec<Opt>,
    query: String,
}

pub struct ShippedView {
    pub insights: Vec<String>,
    pub actions: Vec<ActionView>,
    pub by: String,
    pub at: String,
    pub runs_done: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScorecardQuery {
    week: String,
    client: String,
    notice: Option<String>,
}

fn scope_of(client: &str) -> Result<Scope, WebError> {
    match client.trim() {
        "" => Ok(Scope::Agency),
        c => Ok(Scope::Client(
            ClientId::parse(c).map_err(|_| WebError::NotFound)?,
        )),
    }
}

fn query_of(week: IsoWeek, scope: &Scope) -> String {
    match scope {
        Scope::Agency => format!("week={week}"),
        Scope::Client(c) => format!("week={week}&client={c}"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &AppState,
    session: &WebSession,
    week: Option<IsoWeek>,
    scope: Scope,
    form: ShipForm,
    error: Option<String>,
    status: StatusCode,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    scorecards::ensure_defaults(session.cx(state)).await?;
    let now = state.now();
    let tz = crate::web::timefmt::zone(&agency.timezone);
    let current = IsoWeek::containing(now, &tz);
    let week = week.unwrap_or(current);
    let client = match scope.client() {
        Some(c) => {
            let found = baton_store::clients::get(&state.db, agency_id, c.as_str()).await?;
            Some((found.id.to_string(), found.name))
        }
        None => None,
    };
    let g = scorecards::grid(&state.db, agency_id, &scope, week, scorecards::WEEKS, now).await?;
    let rows = g
        .rows
        .iter()
        .map(|r| {
            let m = &r.measurable;
            RowView {
                id: m.id.to_string(),
                name: m.name.clone(),
                owner: m.owner_name.clone().unwrap_or_else(|| "Unowned".into()),
                goal: m.goal.short(&m.unit),
                rule: r.rule.clone(),
                source: match m.source {
                    Source::Kpi(k) => format!("Filled by Baton: {}", k.label()),
                    Source::Manual => "Entered by its owner".into(),
                },
                manual: m.source == Source::Manual,
                flagged: r.flagged,
                cells: r
                    .cells
                    .iter()
                    .map(|c| CellView {
                        value: c
                            .value
                            .map(|v| baton_core::scorecard::with_unit(v, &m.unit))
                            .unwrap_or_else(|| "—".into()),
                        status: c.status.key(),
                        symbol: match c.status {
                            Status::OnTrack => "✓",
                            Status::OffTrack => "✗",
                            Status::NoData => "·",
                        },
                        words: c.status.words(),
                        frozen: c.frozen,
                    })
                    .collect(),
                comparator: m.goal.comparator.key(),
                goal_value: baton_core::kpis::trim(m.goal.goal),
                goal_max: m
                    .goal
                    .goal_max
                    .map(baton_core::kpis::trim)
                    .unwrap_or_default(),
                owner_id: m.owner_member_id.clone().unwrap_or_default(),
            }
        })
        .collect();
    let shipped = scorecards::scorecard(&state.db, agency_id, &scope, week)
        .await?
        .map(|s| ShippedView {
            insights: s.insights.clone(),
            actions: s.actions.iter().map(|a| ActionView::of(a, now)).collect(),
            by: s.shipped_by.clone(),
            at: baton_core::human::when(s.shipped_at, now, &tz),
            runs_done: s.runs_done,
        });
    let last_week_actions = scorecards::scorecard(&state.db, agency_id, &scope, week.prev())
        .await?
        .map(|s| s.actions.iter().map(|a| ActionView::of(a, now)).collect())
        .unwrap_or_default();
    // The team once; each action line marks its own owner.
    let members = member_options(state, agency_id, "").await?;
    let slots = form
        .actions()
        .into_iter()
        .enumerate()
        .map(|(i, (text, owner, due))| ActionSlot {
            n: i + 1,
            text: text.to_string(),
            owners: members
                .iter()
                .map(|m| Opt::new(m.value.clone(), m.label.clone(), owner))
                .collect(),
            due: due.to_string(),
        })
        .collect();
    let clients = baton_store::clients::summaries(&state.db, agency_id, false)
        .await?
        .into_iter()
        .map(|c| Opt::new(c.client.id.to_string(), c.client.name, scope.key()))
        .collect();
    let title = match &client {
        Some((_, name)) => format!("Scorecard {week} · {name}"),
        None => format!("Scorecard {week}"),
    };
    let page = ScorecardPage {
        layout: Layout::app(&agency, session, title, "scorecard").with_notice(notice),
        week_range: format!(
            "{} – {}",
            week.monday().strftime("%a %-d %b"),
            week.sunday().strftime("%a %-d %b %Y")
        ),
        prev_week: week.prev().to_string(),
        next_week: (week < current).then(|| week.next().to_string()),
        query: query_of(week, &scope),
        week: week.to_string(),
        client,
        clients,
        weeks: g.weeks.clone(),
        rows,
        shipped,
        last_week_actions,
        form,
        slots,
        error,
        members,
        sources: std::iter::once(Opt::new("manual", "Entered by its owner (manual)", ""))
            .chain(
                baton_core::kpis::Kpi::ALL
                    .iter()
                    .map(|k| Opt::new(k.key(), format!("Baton KPI: {}", k.label()), "")),
            )
            .collect(),
        comparators: Comparator::ALL
            .iter()
            .map(|c| Opt::new(c.key(), comparator_words(*c), "<="))
            .collect(),
    };
    Ok(render(status, &page))
}

fn comparator_words(c: Comparator) -> &'static str {
    match c {
        Comparator::Lt => "below (<)",
        Comparator::Le => "at most (≤)",
        Comparator::Ge => "at least (≥)",
        Comparator::Gt => "above (>)",
        Comparator::Range => "between (range)",
    }
}

/// `GET /scorecard?week=&client=`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<ScorecardQuery>,
) -> Result<Response, WebError> {
    let week = match q.week.trim() {
        "" => None,
        w => Some(IsoWeek::parse(w).map_err(|_| WebError::NotFound)?),
    };
    let scope = scope_of(&q.client)?;
    render_page(
        &state,
        &session,
        week,
        scope,
        ShipForm::default(),
        None,
        StatusCode::OK,
        q.notice.as_deref(),
    )
    .await
}

/// `GET /scorecard.csv?week=&client=`: the 13 weeks at a glance as CSV.
pub async fn csv(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<ScorecardQuery>,
) -> Result<Response, WebError> {
    let scope = scope_of(&q.client)?;
    let agency_id = session.agency_id();
    if let Some(c) = scope.client() {
        baton_store::clients::get(&state.db, agency_id, c.as_str()).await?;
    }
    let now = state.now();
    let week = match q.week.trim() {
        "" => {
            let tz = baton_store::calendars::zone(&state.db, agency_id).await?;
            IsoWeek::containing(now, &tz)
        }
        w => IsoWeek::parse(w).map_err(|_| WebError::NotFound)?,
    };
    scorecards::ensure_defaults(session.cx(&state)).await?;
    let g = scorecards::grid(&state.db, agency_id, &scope, week, scorecards::WEEKS, now).await?;
    Ok(crate::api::kpis::csv_response(
        &format!("scorecard-{week}.csv"),
        crate::api::scorecards::grid_csv_rows(&g),
    )?)
}

/// What the ship form says, or the sentence saying what to fix.
fn read_ship(form: &ShipForm) -> Result<(IsoWeek, Vec<String>, Vec<NewAction>), String> {
    let week = IsoWeek::parse(&form.week).map_err(|_| "Week: not an ISO week.".to_string())?;
    let insights = vec![
        form.insight_1.clone(),
        form.insight_2.clone(),
        form.insight_3.clone(),
    ];
    let mut actions = Vec::new();
    for (i, (text, owner, due)) in form.actions().into_iter().enumerate() {
        let owner =
            MemberId::parse(owner).map_err(|_| format!("Action {}: choose who owns it.", i + 1))?;
        if due.trim().is_empty() {
            return Err(format!("Action {}: give it a due date.", i + 1));
        }
        actions.push(NewAction {
            text: text.to_string(),
            owner,
            due_on: due.trim().to_string(),
        });
    }
    Ok((week, insights, actions))
}

/// `POST /scorecard/ship`: ships the week (single-use nonce).
pub async fn ship(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(form): CsrfForm<ShipForm>,
) -> Result<Response, WebError> {
    let scope = scope_of(&form.client)?;
    let (week, insights, actions) = match read_ship(&form) {
        Ok(v) => v,
        Err(message) => {
            let week = IsoWeek::parse(&form.week).ok();
            return render_page(
                &state,
                &session,
                week,
                scope,
                form,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    let s = Ship {
        week,
        scope: scope.clone(),
        insights,
        actions,
    };
    match scorecards::ship(session.cx(&state), s).await {
        Ok(_) => Ok(see_other(&format!(
            "/scorecard?{}&notice=scorecard_shipped",
            query_of(week, &scope)
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_page(
                &state,
                &session,
                Some(week),
                scope,
                form,
                Some(message),
                status,
                None,
            )
            .await
        }
    }
}

/// A measurable as typed (add or edit).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MeasurableForm {
    name: String,
    owner: String,
    unit: String,
    comparator: String,
    goal: String,
    goal_max: String,
    source: String,
    archive: String,
    /// Back to this scorecard view (`week=…&client=…`).
    back: String,
}

fn number(field: &str, v: &str) -> Result<f64, String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{field}: write a number, e.g. 3 or 12.5."))
}

fn goal_of(f: &MeasurableForm) -> Result<Goal, String> {
    let c = Comparator::parse(&f.comparator).ok_or("Goal: choose how to compare.")?;
    let goal = number("Goal", &f.goal)?;
    let max = match (c, f.goal_max.trim()) {
        (Comparator::Range, m) => Some(number("Goal (high end)", m)?),
        _ => None,
    };
    Goal::new(c, goal, max).map_err(|e| format!("Goal: {e}"))
}

/// Back to the scorecard view the form was on (`week=…&client=…`, kept to
/// those characters), at `anchor`.
fn back_to(f_back: &str, notice: &str, anchor: &str) -> Response {
    let q: String = f_back
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '&' | '-' | '_'))
        .collect();
    see_other(&format!("/scorecard?{q}&notice={notice}#{anchor}"))
}

fn back(f_back: &str, notice: &str) -> Response {
    back_to(f_back, notice, "measurables")
}

/// Renders the scorecard view of `back` with a refusal.
async fn refused(
    state: &AppState,
    session: &WebSession,
    f_back: &str,
    message: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(f_back).unwrap_or_default();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let week = IsoWeek::parse(&get("week")).ok();
    let scope = scope_of(&get("client")).unwrap_or(Scope::Agency);
    render_page(
        state,
        session,
        week,
        scope,
        ShipForm::default(),
        Some(message),
        status,
        None,
    )
    .await
}

/// A form the page could not read: the scorecard again with the sentence.
async fn unreadable(
    state: &AppState,
    session: &WebSession,
    f_back: &str,
    message: String,
) -> Result<Response, WebError> {
    refused(
        state,
        session,
        f_back,
        message,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// After a store command: back to the scorecard with `notice`, or the
/// scorecard again with the store's refusal.
async fn saved<T>(
    state: &AppState,
    session: &WebSession,
    f_back: &str,
    result: Result<T, baton_store::StoreError>,
    notice: &str,
) -> Result<Response, WebError> {
    match result {
        Ok(_) => Ok(back(f_back, notice)),
        Err(e) => {
            let (status, message) = refusal(e)?;
            refused(state, session, f_back, message, status).await
        }
    }
}

/// `POST /scorecard/measurables`: adds a measurable (single-use nonce).
pub async fn add_measurable(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(f): CsrfForm<MeasurableForm>,
) -> Result<Response, WebError> {
    let input = (|| -> Result<NewMeasurable, String> {
        Ok(NewMeasurable {
            name: f.name.clone(),
            owner: match f.owner.trim() {
                "" => None,
                o => Some(MemberId::parse(o).map_err(|_| "Owner: choose one of the team.")?),
            },
            unit: Some(f.unit.clone()),
            goal: goal_of(&f)?,
            source: Source::parse(&f.source).map_err(|e| format!("Source: {e}"))?,
        })
    })();
    let input = match input {
        Ok(i) => i,
        Err(m) => return unreadable(&state, &session, &f.back, m).await,
    };
    let result = scorecards::create_measurable(session.cx(&state), input).await;
    saved(&state, &session, &f.back, result, "measurable_saved").await
}

/// `POST /scorecard/measurables/{id}`: changes the goal and owner, or
/// archives it.
pub async fn edit_measurable(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<MeasurableId>,
    CsrfForm(f): CsrfForm<MeasurableForm>,
) -> Result<Response, WebError> {
    let patch = if f.archive == "1" {
        Ok(MeasurablePatch {
            archived: Some(true),
            ..MeasurablePatch::default()
        })
    } else {
        goal_of(&f).and_then(|goal| {
            Ok(MeasurablePatch {
                goal: Some(goal),
                owner: match f.owner.trim() {
                    "" => Some(None),
                    o => Some(Some(
                        MemberId::parse(o).map_err(|_| "Owner: choose one of the team.")?,
                    )),
                },
                ..MeasurablePatch::default()
            })
        })
    };
    let patch = match patch {
        Ok(p) => p,
        Err(m) => return unreadable(&state, &session, &f.back, m).await,
    };
    let result = scorecards::update_measurable(session.cx(&state), &id, patch).await;
    saved(&state, &session, &f.back, result, "measurable_saved").await
}

/// A manual value as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ValueForm {
    week: String,
    value: String,
    back: String,
}

/// `POST /scorecard/measurables/{id}/value`: the owner's number for a week.
pub async fn enter_value(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<MeasurableId>,
    CsrfForm(f): CsrfForm<ValueForm>,
) -> Result<Response, WebError> {
    let parsed = IsoWeek::parse(&f.week)
        .map_err(|_| "Week: not an ISO week.".to_string())
        .and_then(|w| Ok((w, number("Value", &f.value)?)));
    let (week, value) = match parsed {
        Ok(v) => v,
        Err(m) => return unreadable(&state, &session, &f.back, m).await,
    };
    let result = scorecards::enter_value(session.cx(&state), &id, week, value).await;
    saved(&state, &session, &f.back, result, "value_saved").await
}

/// Where an action's "Done" goes back to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    /// `my-work` or a scorecard query.
    back: String,
}

/// `POST /actions/{id}/done`: marks an agreed action done.
pub async fn action_done(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ActionId>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let result = scorecards::action_done(session.cx(&state), &id, true).await;
    let notice = match result {
        // Already done (a second click): the same answer.
        Ok(_) | Err(baton_store::StoreError::Core(baton_core::CoreError::Conflict(_))) => {
            "scorecard_action_done"
        }
        Err(e) => return Err(e.into()),
    };
    if f.back == "my-work" {
        return Ok(see_other(&format!("/my-work?notice={notice}#actions")));
    }
    Ok(back_to(&f.back, notice, "actions"))
}
