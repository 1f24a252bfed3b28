//! `/cadences` and one meeting's page with its attach form.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::cadence::ArtifactKind;
use baton_core::human;
use baton_core::kpis::{Kpi, Unit};
use baton_core::types::{CadenceDecisionId, MemberId, OccurrenceId};
use baton_store::cadences::artifacts::{self, Attach};
use baton_store::cadences::decisions::{self, Decision, NewDecision, Search};
use baton_store::cadences::occurrences::{self, Filter, Occurrence};
use baton_store::cadences::{self, day_of};
use jiff::ToSpan;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::clients::new::member_options;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::WebPath;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::{refusal, WebError};

/// The attach form's fields as it labels them.
const LABELS: refusal::Labels = &[
    ("notes", "Notes"),
    ("url", "Link"),
    ("decisions", "Decisions"),
    ("share", "Share"),
    ("artifact", "Artifact"),
];

/// One meeting in a list.
pub struct MeetingLine {
    pub id: String,
    pub name: String,
    pub client: Option<String>,
    /// "Mon 2 Mar, 10:00", agency time.
    pub when: String,
    pub owner: String,
    /// `held`, `missing`, `due` (today, not held yet) or `upcoming`.
    pub state: &'static str,
    pub state_words: &'static str,
    pub artifact: &'static str,
}

impl MeetingLine {
    pub fn of(o: &Occurrence, now: i64, tz: &jiff::tz::TimeZone) -> MeetingLine {
        let today = day_of(now, tz);
        let (state, state_words) = if o.held {
            ("held", "Held")
        } else if o.artifact_missing {
            ("missing", "Artifact missing")
        } else if o.date <= today {
            ("due", "Today: attach its artifact")
        } else {
            ("upcoming", "Upcoming")
        };
        MeetingLine {
            id: o.id.to_string(),
            name: o.cadence_name.clone(),
            client: o.client_name.clone(),
            when: human::when(o.starts_at, now, tz),
            owner: o.owner_name.clone().unwrap_or_else(|| "Nobody yet".into()),
            state,
            state_words,
            artifact: o.artifact_kind.label(),
        }
    }
}

/// One decision in a list.
pub struct DecisionView {
    pub id: String,
    pub text: String,
    pub owner: String,
    pub due: Option<String>,
    pub done: bool,
    pub meeting_id: String,
    /// "Weekly delivery planning, 2026-03-02 · Harbor Fitness".
    pub meeting: String,
}

impl DecisionView {
    pub fn of(d: &Decision, names: &[(String, String)]) -> DecisionView {
        let cadence = names
            .iter()
            .find(|(k, _)| *k == d.cadence_key)
            .map_or(d.cadence_key.as_str(), |(_, n)| n.as_str());
        let mut meeting = format!("{cadence}, {}", d.on_date);
        if let Some(c) = &d.client_name {
            meeting.push_str(&format!(" · {c}"));
        }
        DecisionView {
            id: d.id.to_string(),
            text: d.text.clone(),
            owner: d.owner_name.clone().unwrap_or_default(),
            due: d.due_on.clone(),
            done: d.done,
            meeting_id: d.occurrence_id.clone(),
            meeting,
        }
    }
}

/// A cadence of the library.
struct CadenceView {
    name: String,
    purpose: String,
    schedule: String,
    attendees: String,
    owner_role: &'static str,
    artifact: &'static str,
    per_client: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "cadences.html")]
struct LibraryPage {
    layout: Layout,
    meetings: Vec<MeetingLine>,
    cadences: Vec<CadenceView>,
    /// "7 of 9 meetings held (78%)", last four weeks.
    adherence: String,
    q: String,
    decisions: Vec<DecisionView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LibraryQuery {
    q: String,
    notice: Option<String>,
}

/// `cadence key → name` of the agency's cadences.
async fn cadence_names(
    state: &AppState,
    agency_id: &str,
) -> Result<Vec<(String, String)>, WebError> {
    Ok(cadences::list(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|c| (c.definition.key, c.definition.name))
        .collect())
}

/// The adherence figure in words.
fn adherence_words(a: &occurrences::Adherence) -> String {
    match a.rate() {
        None => "No meeting was due yet.".into(),
        Some(r) => format!(
            "{} of {} meeting{} held with their artifact ({}%)",
            a.held,
            a.due,
            if a.due == 1 { "" } else { "s" },
            (r * 100.0).round()
        ),
    }
}

/// The dashboard's adherence figure: the last four weeks, in words.
pub async fn adherence_card(state: &AppState, agency_id: &str) -> Result<String, WebError> {
    let now = state.now();
    let today = cadences::today(&state.db, agency_id, now).await?;
    let a = occurrences::adherence(
        &state.db,
        agency_id,
        (today.saturating_sub(27.days()), today),
        now,
        None,
    )
    .await?;
    Ok(adherence_words(&a))
}

/// `GET /cadences?q=`: this week's and next week's meetings, the cadences,
/// adherence over four weeks, and the decisions (open ones, or those
/// matching `q`).
pub async fn library(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<LibraryQuery>,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let tz = crate::web::timefmt::zone(&agency.timezone);
    let now = state.now();
    let today = day_of(now, &tz);
    let monday = today.saturating_sub(i64::from(today.weekday().to_monday_zero_offset()).days());
    let range = (monday, monday.saturating_add(13.days()));
    let words = q.q.chars().take(200).collect::<String>();
    let search = Search {
        q: Some(words.clone()).filter(|w| !w.trim().is_empty()),
        open: words.trim().is_empty().then_some(true),
        ..Search::default()
    };
    let all = Filter::default();
    let (meetings, library, adherence, found) = tokio::try_join!(
        async {
            Ok::<_, WebError>(occurrences::list(&state.db, agency_id, range, now, &all).await?)
        },
        async { Ok(cadences::list(&state.db, agency_id).await?) },
        adherence_card(&state, agency_id),
        async { Ok(decisions::search(&state.db, agency_id, &search, 50).await?) },
    )?;
    let names: Vec<(String, String)> = library
        .iter()
        .map(|c| (c.definition.key.clone(), c.definition.name.clone()))
        .collect();
    let page = LibraryPage {
        layout: Layout::app(&agency, &session, "Cadences", "cadences")
            .with_notice(q.notice.as_deref()),
        meetings: meetings
            .iter()
            .map(|o| MeetingLine::of(o, now, &tz))
            .collect(),
        cadences: library
            .into_iter()
            .map(|c| {
                let d = c.definition;
                CadenceView {
                    schedule: d.schedule.describe(),
                    attendees: d.attendees_text(),
                    owner_role: d.owner_role.label(),
                    artifact: d.artifact.label(),
                    per_client: d.scope == baton_core::cadence::Scope::Client,
                    name: d.name,
                    purpose: d.purpose,
                    version: c.version,
                }
            })
            .collect(),
        adherence,
        q: words,
        decisions: found.iter().map(|d| DecisionView::of(d, &names)).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// What Baton generated for a meeting, as lines a person reads.
fn artifact_lines(kind: ArtifactKind, g: &Value, now: i64, tz: &jiff::tz::TimeZone) -> Vec<String> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let kpi_lines = |k: &Value| -> Vec<String> {
        Kpi::ALL
            .into_iter()
            .map(|kpi| {
                let v = &k[kpi.key()];
                let unit = v["unit"]
                    .as_str()
                    .and_then(Unit::parse)
                    .unwrap_or(kpi.unit());
                match v["value"].as_f64() {
                    Some(x) => format!("{}: {} (n = {})", kpi.label(), unit.format(x), v["n"]),
                    None => format!("{}: nothing to count", kpi.label()),
                }
            })
            .collect()
    };
    let mut out = Vec::new();
    match kind {
        ArtifactKind::ContentCalendar => {
            let items = g["items"].as_array().map_or(&[][..], |v| v.as_slice());
            out.push(format!(
                "{} item{} planned or scheduled from {} to {}",
                items.len(),
                if items.len() == 1 { "" } else { "s" },
                s(&g["from"]),
                s(&g["to"])
            ));
            for i in items {
                let when = match (i["planned_on"].as_str(), i["publish_at"].as_i64()) {
                    (_, Some(at)) => human::when(at, now, tz),
                    (Some(d), None) => d.to_string(),
                    _ => String::new(),
                };
                out.push(format!(
                    "{} · {} · {} · {}",
                    s(&i["title"]),
                    s(&i["client"]),
                    when,
                    s(&i["status"]).replace('_', " ")
                ));
            }
            for c in g["changes"].as_array().map_or(&[][..], |v| v.as_slice()) {
                out.push(format!(
                    "Moved: {} from {} to {}",
                    s(&c["title"]),
                    c["from"].as_str().unwrap_or("no day"),
                    c["to"].as_str().unwrap_or("no day")
                ));
            }
        }
        ArtifactKind::Scorecard => {
            out.push(format!("Scorecard {} (shipped)", s(&g["week"])));
            for i in g["insights"].as_array().map_or(&[][..], |v| v.as_slice()) {
                out.push(format!("Insight: {}", s(i)));
            }
            for a in g["actions"].as_array().map_or(&[][..], |v| v.as_slice()) {
                out.push(format!(
                    "Action: {} · {} · due {}",
                    s(&a["text"]),
                    s(&a["owner"]),
                    s(&a["due_on"])
                ));
            }
        }
        ArtifactKind::AccountMemo => {
            out.push("The client's KPIs over the 30 days before the meeting:".into());
            out.extend(kpi_lines(&g["kpis"]));
        }
        ArtifactKind::OpsReview => {
            let changes = g["sop_changes"]
                .as_array()
                .map_or(&[][..], |v| v.as_slice());
            out.push(format!(
                "{}: {} SOP change{}",
                s(&g["quarter"]),
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            ));
            for c in changes {
                out.push(format!(
                    "{} v{}: {} ({})",
                    s(&c["sop"]),
                    c["version"],
                    s(&c["reason"]),
                    s(&c["by"])
                ));
            }
            out.push("The quarter's KPIs:".into());
            out.extend(kpi_lines(&g["kpis"]));
        }
    }
    out
}

/// The attach form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AttachForm {
    pub notes: String,
    pub url: String,
    pub share: bool,
    pub decision_1_text: String,
    pub decision_1_owner: String,
    pub decision_1_due: String,
    pub decision_2_text: String,
    pub decision_2_owner: String,
    pub decision_2_due: String,
    pub decision_3_text: String,
    pub decision_3_owner: String,
    pub decision_3_due: String,
}

impl AttachForm {
    fn decisions(&self) -> [(&str, &str, &str); 3] {
        [
            (
                &self.decision_1_text,
                &self.decision_1_owner,
                &self.decision_1_due,
            ),
            (
                &self.decision_2_text,
                &self.decision_2_owner,
                &self.decision_2_due,
            ),
            (
                &self.decision_3_text,
                &self.decision_3_owner,
                &self.decision_3_due,
            ),
        ]
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
    }
}

/// One decision row of the form.
struct DecisionRow {
    n: usize,
    text: String,
    owners: Vec<Opt>,
    due: String,
}

#[derive(Template)]
#[template(path = "cadence_meeting.html")]
struct MeetingPage {
    layout: Layout,
    m: MeetingLine,
    date: String,
    attendees: String,
    artifact_label: &'static str,
    /// Baton's part: frozen when held, else the draft.
    lines: Vec<String>,
    held_by: Option<String>,
    notes: String,
    url: String,
    is_memo: bool,
    shared: bool,
    share_url: Option<String>,
    can_attach: bool,
    /// Why nothing can be attached yet (a weekly review before its scorecard ships).
    blocked: Option<String>,
    decisions: Vec<DecisionView>,
    rows: Vec<DecisionRow>,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_meeting(
    state: &AppState,
    session: &WebSession,
    id: &OccurrenceId,
    typed: Option<&AttachForm>,
    error: Option<String>,
    share_url: Option<String>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let tz = crate::web::timefmt::zone(&agency.timezone);
    let now = state.now();
    let o = occurrences::get(&state.db, agency_id, id, now).await?;
    let names = cadence_names(state, agency_id).await?;
    let (generated, blocked) = match o.artifact.as_ref().map(|a| a["generated"].clone()) {
        Some(g) if o.held => (Some(g), None),
        _ => match artifacts::generate(&state.db, agency_id, &o, now).await {
            Ok(g) => (Some(g), None),
            Err(baton_store::StoreError::Core(baton_core::CoreError::Invalid {
                message, ..
            })) => (None, Some(message)),
            Err(e) => return Err(e.into()),
        },
    };
    let is_memo = o.artifact_kind == ArtifactKind::AccountMemo;
    let stored_notes = o
        .artifact
        .as_ref()
        .and_then(|a| a["notes"].as_str().map(String::from));
    let notes = match typed {
        Some(f) => f.notes.clone(),
        None => stored_notes.unwrap_or_else(|| match (&generated, is_memo) {
            (Some(g), true) => {
                artifacts::memo_draft(g, o.client_name.as_deref().unwrap_or("the client"))
            }
            _ => String::new(),
        }),
    };
    let url = match typed {
        Some(f) => f.url.clone(),
        None => o
            .artifact
            .as_ref()
            .and_then(|a| a["url"].as_str().map(String::from))
            .unwrap_or_default(),
    };
    let me = session.member().id.clone();
    // The team once; each row marks its own owner.
    let team = member_options(state, agency_id, "").await?;
    let empty = AttachForm::default();
    let rows = typed
        .unwrap_or(&empty)
        .decisions()
        .into_iter()
        .enumerate()
        .map(|(i, (text, owner, due))| {
            let owner = if owner.is_empty() { me.as_str() } else { owner };
            DecisionRow {
                n: i + 1,
                text: text.to_string(),
                owners: team
                    .iter()
                    .map(|o| Opt::new(o.value.clone(), o.label.clone(), owner))
                    .collect(),
                due: due.to_string(),
            }
        })
        .collect();
    let today = day_of(now, &tz);
    let page = MeetingPage {
        layout: Layout::app(&agency, session, o.cadence_name.clone(), "cadences")
            .with_notice(notice),
        date: o.date.strftime("%A %-d %B %Y").to_string(),
        attendees: o
            .attendee_roles
            .iter()
            .map(|a| a.label())
            .collect::<Vec<_>>()
            .join(", "),
        artifact_label: o.artifact_kind.label(),
        lines: generated
            .as_ref()
            .map(|g| artifact_lines(o.artifact_kind, g, now, &tz))
            .unwrap_or_default(),
        held_by: o.held.then(|| {
            format!(
                "{}{}",
                o.held_by.clone().unwrap_or_default(),
                o.held_at
                    .map(|at| format!(", {}", human::when(at, now, &tz)))
                    .unwrap_or_default()
            )
        }),
        notes,
        url,
        is_memo,
        shared: o.shared,
        share_url,
        can_attach: o.date <= today && blocked.is_none(),
        blocked,
        decisions: o
            .decisions
            .iter()
            .map(|d| DecisionView::of(d, &names))
            .collect(),
        rows,
        error,
        m: MeetingLine::of(&o, now, &tz),
    };
    Ok(render(status, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// `GET /cadences/meetings/{id}`: one meeting, its artifact (Baton's
/// draft until held) and the attach form.
pub async fn meeting(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<OccurrenceId>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    render_meeting(
        &state,
        &session,
        &id,
        None,
        None,
        None,
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

/// The typed decisions: a row with text needs an owner; empty rows are
/// skipped.
fn read_decisions(f: &AttachForm) -> Result<Vec<NewDecision>, String> {
    let mut out = Vec::new();
    for (i, (text, owner, due)) in f.decisions().into_iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        let owner = MemberId::parse(owner)
            .map_err(|_| format!("Decision {}: choose who owns it.", i + 1))?;
        out.push(NewDecision {
            text: text.to_string(),
            owner,
            due_on: Some(due.to_string()).filter(|d| !d.trim().is_empty()),
        });
    }
    Ok(out)
}

/// `POST /cadences/meetings/{id}/artifact`: attaches the artifact (single-use
/// nonce: a reload adds no decision twice). A memo shared just now shows
/// its link once.
pub async fn attach(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<OccurrenceId>,
    CsrfForm(f): CsrfForm<AttachForm>,
) -> Result<Response, WebError> {
    let refused = |message: String, status: StatusCode| {
        let (state, session, id, f) = (&state, &session, &id, &f);
        async move {
            render_meeting(
                state,
                session,
                id,
                Some(f),
                Some(message),
                None,
                None,
                status,
            )
            .await
        }
    };
    let decisions = match read_decisions(&f) {
        Ok(d) => d,
        Err(m) => return refused(m, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let a = Attach {
        notes: Some(f.notes.clone()),
        url: Some(f.url.clone()),
        decisions,
        share: f.share,
    };
    match artifacts::attach(session.cx(&state), &id, a).await {
        Ok(done) => match done.share_token {
            Some(t) => {
                render_meeting(
                    &state,
                    &session,
                    &id,
                    None,
                    None,
                    Some(state.config.memo_url(&t)),
                    Some("meeting_held"),
                    StatusCode::OK,
                )
                .await
            }
            None => Ok(see_other(&format!(
                "/cadences/meetings/{id}?notice=meeting_held"
            ))),
        },
        Err(e) => {
            let (status, message) = refusal::present(e, LABELS)?;
            refused(message, status).await
        }
    }
}

/// Where a decision's done form came from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneForm {
    /// `my-work`, or the meeting's id.
    back: String,
}

/// `POST /cadences/decisions/{id}/done`: marks a decision done.
pub async fn decision_done(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<CadenceDecisionId>,
    CsrfForm(f): CsrfForm<DoneForm>,
) -> Result<Response, WebError> {
    let d = decisions::set_done(session.cx(&state), &id, true).await?;
    if f.back == "my-work" {
        return Ok(see_other("/my-work?notice=decision_done#decisions"));
    }
    Ok(see_other(&format!(
        "/cadences/meetings/{}?notice=decision_done#decisions",
        d.occurrence_id
    )))
}
