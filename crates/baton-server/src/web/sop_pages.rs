//! The SOP pages of the team: "My work" (`/my-work`: the member's open runs
//! by due time, the content waiting for their review or decision and their
//! escalation notices), traffic control (`/traffic`:
//! every late, at-risk, unowned or paused run across clients, for the PM),
//! the role map (`/roles`) and the SOP library (`/sops`, `/sops/{key}` with
//! its changelog and, for admins, the edit form that saves a new version).
//!
//! Each list is one store query (or a few in parallel), never one per line.
//! The run lines these pages share with the client's runs page
//! (`client_runs.rs`) are built here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::facts::Subject;
use baton_core::human;
use baton_core::roles::{Role, ROLE_MAP};
use baton_core::sop::{ChecklistItem, RunStatus, Sla, SlaUnit, SopDefinition};
use baton_core::CoreError;
use baton_store::agencies::Agency;
use baton_store::content::{self, WaitingFor};
use baton_store::sop_runs::{self, Notice, Run, RunFilter};
use baton_store::sops::{self, Sop};
use baton_store::{members, StoreError};
use jiff::tz::TimeZone;

use super::error_page::form_error;
use super::form::{check_csrf, FormData, QueryData};
use super::layout::{agency_of, notice_text, render, see_other, Layout, Opt};
use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

/// How many runs a list shows at most (the store caps a query too).
const LIST_CAP: i64 = 500;
/// How many notices "My work" shows.
const NOTICE_CAP: i64 = 50;
/// How many content items "My work" lists as waiting.
const WAITING_CAP: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/my-work", get(my_work))
        .route("/my-work/notices/read", post(mark_read))
        .route("/traffic", get(traffic))
        .route("/roles", get(roles))
        .route("/sops", get(library))
        .route("/sops/{key}", get(detail).post(save))
}

// ------------------------------------------------------------------ shared --

/// The sentences after the changes of the SOP pages (a fixed set, like
/// `layout::notice_text`), then the app's shared ones.
pub(super) fn notice(key: Option<&str>) -> Option<&'static str> {
    let key = key?;
    Some(match key {
        "notices_read" => "Notices marked read.",
        "sop_saved" => {
            "SOP saved as a new version. Runs already started keep the version they began with."
        }
        "sop_unchanged" => "Nothing changed: the SOP is as it was, so no new version was written.",
        "run_started" => "SOP run started.",
        "checklist_saved" => "Checklist saved.",
        "checklist_unchanged" => "Nothing changed on the checklist.",
        "run_completed" => "Run completed.",
        "run_paused" => "Run paused: its SLA clock stopped.",
        "run_resumed" => "Run resumed: its due time moved by the paused time.",
        "run_assigned" => "Run assigned.",
        other => return notice_text(other),
    })
}

/// The page frame with the notice named by `?notice=`.
pub(super) fn layout(
    agency: &Agency,
    session: &WebSession,
    title: &str,
    nav: &'static str,
    q: Option<&QueryData>,
) -> Layout {
    let mut l = Layout::app(agency, session, title, nav);
    l.notice = notice(q.and_then(|q| q.get("notice")));
    l
}

/// A moment in the agency's time zone, with its machine form for `<time>`.
pub struct When {
    pub local: String,
    pub iso: String,
}

impl When {
    pub(super) fn at(ms: i64, tz: &TimeZone) -> When {
        When {
            local: timefmt::local(ms, tz),
            iso: timefmt::machine(ms),
        }
    }
}

/// A run status as people read it, and its badge class.
pub(super) fn status_view(s: RunStatus) -> (&'static str, &'static str) {
    match s {
        RunStatus::OnTrack => ("On track", "badge-status-active"),
        RunStatus::AtRisk => ("At risk", "badge-warn"),
        RunStatus::Breached => ("Breached", "badge-danger"),
        RunStatus::Paused => ("Paused", "badge-info"),
        RunStatus::Done => ("Done", "badge"),
        RunStatus::Cancelled => ("Cancelled", "badge"),
    }
}

/// What a run is about, as a link: the content item, the client's handoff
/// brief, its access.
pub struct SubjectView {
    /// "Content", "Handoff brief", "Access", "Offboarding".
    pub kind: &'static str,
    pub title: String,
    pub href: String,
}

impl SubjectView {
    pub(super) fn of(r: &Run) -> Option<SubjectView> {
        let s = r.subject.as_ref()?;
        let (kind, href) = match s.kind {
            Subject::ContentItem => ("Content", format!("/content/{}", s.id)),
            Subject::HandoffBrief => ("Handoff brief", format!("/clients/{}/handoff", r.client_id)),
            Subject::Access => ("Access", format!("/clients/{}#access", r.client_id)),
            Subject::Offboarding => ("Offboarding", format!("/clients/{}#access", r.client_id)),
        };
        let title = match s.round {
            Some(n) => format!("{}, round {n}", s.title),
            None => s.title.clone(),
        };
        Some(SubjectView { kind, title, href })
    }
}

/// Who owns a run and how that owner was found.
pub struct OwnerView {
    pub name: Option<String>,
    /// "Project Manager on the account team", "assigned by hand", …
    pub source: String,
    /// Nobody owns it: flagged.
    pub unowned: bool,
}

pub(super) fn owner_view(r: &Run) -> OwnerView {
    let role = r.owner_role.label();
    let source = match r.owner_source.as_str() {
        "role" => format!("{role} on the account team"),
        "traffic_control" => format!("traffic control: no {role} on the account team"),
        "assigned" => "assigned by hand".to_string(),
        _ => format!("no {role} on the account team and no traffic-control owner"),
    };
    OwnerView {
        unowned: r.owner_member_id.is_none(),
        name: r.owner_name.clone().filter(|_| r.owner_member_id.is_some()),
        source,
    }
}

/// A paused run's reason and since when.
pub struct PausedView {
    pub reason: String,
    pub since: When,
    pub ago: String,
}

/// One run as a line of a list (my work, traffic control) and the head of a
/// run on the client's runs page.
pub struct RunLine {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub sop_key: String,
    pub sop_name: String,
    /// `on_track`, `at_risk`, `breached`, `paused` or `done`.
    pub status: &'static str,
    pub status_label: &'static str,
    pub badge: &'static str,
    pub due: When,
    /// "in 3 h", "2 h overdue", or why the clock does not run.
    pub due_rel: String,
    pub overdue: bool,
    pub done_items: usize,
    pub total_items: usize,
    pub owner: OwnerView,
    pub paused: Option<PausedView>,
    pub subject: Option<SubjectView>,
}

impl RunLine {
    pub(super) fn of(r: &Run, now: i64, tz: &TimeZone) -> RunLine {
        let (status_label, badge) = status_view(r.status);
        let paused = match (r.paused_at, &r.pause_reason) {
            (Some(at), reason) => Some(PausedView {
                reason: reason.clone().unwrap_or_default(),
                since: When::at(at, tz),
                ago: timefmt::relative(at, now),
            }),
            _ => None,
        };
        let (due_rel, overdue) = if r.cancelled_at.is_some() {
            (
                format!(
                    "cancelled: {}",
                    r.cancel_reason.as_deref().unwrap_or("no reason given")
                ),
                false,
            )
        } else if let Some(done) = r.done_at {
            if done <= r.due_at {
                ("done on time".to_string(), false)
            } else {
                (
                    format!("done {} late", human::duration(done - r.due_at)),
                    true,
                )
            }
        } else if paused.is_some() {
            (
                "SLA clock stopped while paused".to_string(),
                now >= r.due_at,
            )
        } else if r.due_at > now {
            (format!("in {}", human::duration(r.due_at - now)), false)
        } else {
            (format!("{} overdue", human::duration(now - r.due_at)), true)
        };
        RunLine {
            id: r.id.clone(),
            client_id: r.client_id.clone(),
            client_name: r.client_name.clone(),
            sop_key: r.sop_key.clone(),
            sop_name: r.sop_name.clone(),
            status: r.status.key(),
            status_label,
            badge,
            due: When::at(r.due_at, tz),
            due_rel,
            overdue,
            done_items: r.checklist.iter().filter(|i| i.done).count(),
            total_items: r.checklist.len(),
            owner: owner_view(r),
            paused,
            subject: SubjectView::of(r),
        }
    }
}

fn require_admin(session: &WebSession) -> Result<(), WebError> {
    if session.member().is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Only agency admins can change the SOP library.".into(),
        ))
    }
}

/// A field of the SOP forms as people read it.
pub(super) fn field_label(field: &str) -> &str {
    match field {
        "key" => "Key",
        "name" => "Name",
        "trigger" => "Trigger",
        "owner_role" => "Owner role",
        "escalation_role" => "Escalation role",
        "sla" => "SLA",
        "checklist" | "items" => "Checklist",
        "reason" => "Reason",
        "member" => "Assign to",
        "sop" => "SOP",
        "started_at" => "Start time",
        other => other,
    }
}

/// A refused form's status and message in the words of these forms; any
/// other error becomes an error page.
pub(super) fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => {
            let message = message.trim_end_matches('.');
            let text = if field.is_empty() {
                format!("{message}.")
            } else {
                format!("{}: {message}.", field_label(&field))
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, text))
        }
        other => form_error(other),
    }
}

// ----------------------------------------------------------------- my work --

/// An escalation notice as shown.
pub struct NoticeView {
    pub title: String,
    pub body: String,
    pub unread: bool,
    pub at: When,
    pub ago: String,
    /// The run on its client's runs page.
    pub href: Option<String>,
}

fn notice_view(n: Notice, now: i64, tz: &TimeZone) -> NoticeView {
    let href = match (&n.client_id, &n.run_id) {
        (Some(c), Some(r)) => Some(format!("/clients/{c}/runs#run-{r}")),
        (Some(c), None) => Some(format!("/clients/{c}/runs")),
        _ => None,
    };
    NoticeView {
        unread: n.read_at.is_none(),
        at: When::at(n.created_at, tz),
        ago: timefmt::relative(n.created_at, now),
        // Notices stored before times were put in words say them in RFC 3339.
        title: human::instants_in_text(&n.title, now, tz),
        body: human::instants_in_text(&n.body, now, tz),
        href,
    }
}

/// A content item in review waiting for the member.
pub struct WaitingView {
    pub id: String,
    pub title: String,
    pub client_name: String,
    pub version: i64,
    pub round: i64,
    /// "Your decision" or "Your review".
    pub what: &'static str,
    /// Since when, in words ("Tue 24 Nov, 10:41").
    pub since: Option<String>,
}

#[derive(Template)]
#[template(path = "my_work.html")]
struct MyWorkPage {
    layout: Layout,
    runs: Vec<RunLine>,
    content: Vec<WaitingView>,
    content_cap: i64,
    late: usize,
    notices: Vec<NoticeView>,
    unread: i64,
}

/// `GET /my-work`: the member's open runs, soonest due first, and their
/// escalation notices, newest first.
async fn my_work(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let me = session.member().id.clone();
    let f = RunFilter {
        owner_member_id: Some(me.clone()),
        open: true,
        ..RunFilter::default()
    };
    let (runs, notices, unread, waiting) = tokio::try_join!(
        sop_runs::by_due(&state.db, agency_id, &f, LIST_CAP),
        sop_runs::notices(&state.db, agency_id, &me, false, NOTICE_CAP),
        sop_runs::unread_count(&state.db, agency_id, &me),
        content::waiting_for(&state.db, agency_id, &me, WAITING_CAP),
    )?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let runs: Vec<RunLine> = runs.iter().map(|r| RunLine::of(r, now, &tz)).collect();
    let late = runs
        .iter()
        .filter(|r| r.status == "breached" || r.status == "at_risk")
        .count();
    let page = MyWorkPage {
        layout: layout(&agency, &session, "My work", "my_work", Some(&q)),
        runs,
        content: waiting
            .into_iter()
            .map(|(i, why)| WaitingView {
                what: match why {
                    WaitingFor::Decision => "Your decision",
                    WaitingFor::Review => "Your review",
                },
                since: i.submitted_at.map(|at| human::when(at, now, &tz)),
                id: i.id,
                title: i.title,
                client_name: i.client_name,
                version: i.current_version,
                round: i.round,
            })
            .collect(),
        content_cap: WAITING_CAP,
        late,
        notices: notices
            .into_iter()
            .map(|n| notice_view(n, now, &tz))
            .collect(),
        unread,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /my-work/notices/read`: marks all of the member's notices read.
async fn mark_read(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    sop_runs::mark_notices_read(&state.db, session.agency_id(), &session.actor, state.now())
        .await?;
    Ok(see_other("/my-work?notice=notices_read"))
}

// ----------------------------------------------------------------- traffic --

#[derive(Template)]
#[template(path = "traffic.html")]
struct TrafficPage {
    layout: Layout,
    /// Breached first, then at risk, each by due time.
    late: Vec<RunLine>,
    breached: usize,
    at_risk: usize,
    unowned: Vec<RunLine>,
    paused: Vec<RunLine>,
    /// Nothing to show at all: the page explains what would appear.
    nothing: bool,
}

/// `GET /traffic`: the traffic-control view across clients.
async fn traffic(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let only = |s: RunStatus| RunFilter {
        statuses: vec![s],
        open: true,
        ..RunFilter::default()
    };
    let (b, r, p) = (
        only(RunStatus::Breached),
        only(RunStatus::AtRisk),
        only(RunStatus::Paused),
    );
    let (breached, at_risk, paused, unowned, counts) = tokio::try_join!(
        sop_runs::by_due(&state.db, agency_id, &b, LIST_CAP),
        sop_runs::by_due(&state.db, agency_id, &r, LIST_CAP),
        sop_runs::by_due(&state.db, agency_id, &p, LIST_CAP),
        sop_runs::unowned(&state.db, agency_id, LIST_CAP),
        // Exact totals, also past the list cap.
        sop_runs::open_counts(&state.db, agency_id),
    )?;
    let total = |s: RunStatus| counts.get(&s).copied().unwrap_or(0) as usize;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let lines =
        |runs: &[Run]| -> Vec<RunLine> { runs.iter().map(|r| RunLine::of(r, now, &tz)).collect() };
    let mut late = lines(&breached);
    late.extend(lines(&at_risk));
    let nothing = late.is_empty() && unowned.is_empty() && paused.is_empty();
    let page = TrafficPage {
        layout: layout(&agency, &session, "Traffic control", "traffic", Some(&q)),
        late,
        breached: total(RunStatus::Breached),
        at_risk: total(RunStatus::AtRisk),
        unowned: lines(&unowned),
        paused: lines(&paused),
        nothing,
    };
    Ok(render(StatusCode::OK, &page))
}

// ------------------------------------------------------------------- roles --

/// An SOP as the role map names it.
pub struct SopRef {
    pub key: String,
    pub name: String,
}

/// One role of the agency's role map.
pub struct RoleRow {
    pub key: &'static str,
    pub title: &'static str,
    pub ownership: &'static str,
    pub outputs: &'static str,
    pub kpis: &'static str,
    pub members: Vec<String>,
    pub owns: Vec<SopRef>,
    pub escalations: Vec<SopRef>,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    layout: Layout,
    roles: Vec<RoleRow>,
}

/// `GET /roles`: the role map with who holds each role and the SOPs it
/// owns or takes escalations for.
async fn roles(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let agency_id = session.agency_id();
    let (people, library) = tokio::try_join!(
        members::list_active(&state.db, agency_id),
        sops::list(&state.db, agency_id),
    )?;
    let sop_refs = |pick: &dyn Fn(&SopDefinition) -> bool| -> Vec<SopRef> {
        library
            .iter()
            .filter(|s| pick(&s.definition))
            .map(|s| SopRef {
                key: s.definition.key.clone(),
                name: s.definition.name.clone(),
            })
            .collect()
    };
    let roles = ROLE_MAP
        .iter()
        .map(|info| RoleRow {
            key: info.role.key(),
            title: info.title,
            ownership: info.ownership,
            outputs: info.outputs,
            kpis: info.kpis,
            members: people
                .iter()
                .filter(|m| m.roles.contains(&info.role))
                .map(|m| m.name.clone())
                .collect(),
            owns: sop_refs(&|d| d.owner_role == info.role),
            escalations: sop_refs(&|d| d.escalation_role == info.role),
        })
        .collect();
    let page = RolesPage {
        layout: layout(&agency, &session, "Role map", "team", Some(&q)),
        roles,
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- library --

/// An SOP line of the library.
pub struct SopRow {
    pub key: String,
    pub name: String,
    pub trigger: String,
    pub owner_role: &'static str,
    pub sla: String,
    pub items: usize,
    pub version: i64,
    pub customized: bool,
    /// "Baton's default SOP library" or "Ana Ortiz, Tue 3 Mar, 14:05".
    pub changed: String,
    pub changed_iso: Option<String>,
}

fn changed_text(by: &str, at: Option<i64>, tz: &TimeZone) -> String {
    match at {
        Some(at) if !by.is_empty() => format!("{by}, {}", timefmt::local(at, tz)),
        Some(at) => timefmt::local(at, tz),
        None => sops::DEFAULT_REASON.to_string(),
    }
}

#[derive(Template)]
#[template(path = "sops.html")]
struct LibraryPage {
    layout: Layout,
    sops: Vec<SopRow>,
}

/// `GET /sops`: the agency's SOP library.
async fn library(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let sops = sops::list(&state.db, session.agency_id())
        .await?
        .into_iter()
        .map(|s| SopRow {
            changed: changed_text(&s.changed_by, s.changed_at, &tz),
            changed_iso: s.changed_at.map(timefmt::machine),
            key: s.definition.key,
            name: s.definition.name,
            trigger: s.definition.trigger,
            owner_role: s.definition.owner_role.label(),
            sla: s.definition.sla.describe(),
            items: s.definition.checklist.len(),
            version: s.version,
            customized: s.customized,
        })
        .collect();
    let page = LibraryPage {
        layout: layout(&agency, &session, "SOPs", "sops", Some(&q)),
        sops,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A line of an SOP's changelog.
pub struct VersionRow {
    pub version: i64,
    pub reason: String,
    pub by: String,
    pub at: Option<When>,
    pub sla: String,
    pub items: usize,
}

/// The SLA units of the edit form: (key, label).
const UNITS: [(SlaUnit, &str, &str); 3] = [
    (
        SlaUnit::Hours,
        "hours",
        "Hours (wall clock: nights and weekends count)",
    ),
    (
        SlaUnit::BusinessHours,
        "business_hours",
        "Business hours (the agency's calendar)",
    ),
    (
        SlaUnit::BusinessDays,
        "business_days",
        "Business days (the agency's calendar)",
    ),
];

fn unit_key(u: SlaUnit) -> &'static str {
    UNITS
        .iter()
        .find(|(x, _, _)| *x == u)
        .map(|(_, k, _)| *k)
        .unwrap_or("hours")
}

/// A number as shown in a form: "24", "0.5", "19.2" (at most 4 decimals,
/// so 80% of 24 hours does not read 19.200000000000003).
fn number(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The SOP edit form as shown or typed.
#[derive(Debug, Clone, Default)]
pub struct SopForm {
    pub name: String,
    pub trigger: String,
    pub owner_role: String,
    pub escalation_role: String,
    pub sla_unit: String,
    pub sla_target: String,
    pub sla_limit: String,
    /// One `key | label` per line.
    pub checklist: String,
    pub reason: String,
    pub error: Option<String>,
}

impl SopForm {
    fn of(d: &SopDefinition) -> SopForm {
        SopForm {
            name: d.name.clone(),
            trigger: d.trigger.clone(),
            owner_role: d.owner_role.key().into(),
            escalation_role: d.escalation_role.key().into(),
            sla_unit: unit_key(d.sla.unit).into(),
            sla_target: number(d.sla.target),
            sla_limit: number(d.sla.limit),
            checklist: d
                .checklist
                .iter()
                .map(|i| format!("{} | {}", i.key, i.label))
                .collect::<Vec<_>>()
                .join("\n"),
            reason: String::new(),
            error: None,
        }
    }

    fn typed(f: &FormData) -> SopForm {
        SopForm {
            name: f.string("name"),
            trigger: f.string("trigger"),
            owner_role: f.string("owner_role"),
            escalation_role: f.string("escalation_role"),
            sla_unit: f.string("sla_unit"),
            sla_target: f.string("sla_target"),
            sla_limit: f.string("sla_limit"),
            checklist: f.string("checklist"),
            reason: f.string("reason"),
            error: None,
        }
    }

    /// The definition typed for SOP `key`; the message says what to fix.
    /// An SLA amount left as the form showed it keeps `current`'s exact
    /// value (the form rounds), so saving an untouched form changes nothing.
    fn definition(&self, key: &str, current: Option<&Sla>) -> Result<SopDefinition, String> {
        let role = |v: &str, what: &str| {
            Role::parse(v.trim()).ok_or_else(|| format!("{what}: choose a role from the list."))
        };
        let unit = UNITS
            .iter()
            .find(|(_, k, _)| *k == self.sla_unit.trim())
            .map(|(u, _, _)| *u)
            .ok_or("SLA: choose hours, business hours or business days.")?;
        let amount = |v: &str, what: &str, was: Option<f64>| {
            if let Some(was) = was.filter(|w| number(*w) == v.trim()) {
                return Ok(was);
            }
            v.trim()
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("SLA: the {what} must be a number, like 24 or 0.5."))
        };
        let mut checklist = Vec::new();
        for (n, line) in self.checklist.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let item = match line.split_once('|') {
                Some((k, l)) => ChecklistItem {
                    key: k.trim().to_string(),
                    label: l.trim().to_string(),
                },
                None => {
                    return Err(format!(
                        "Checklist: line {} must be written as key | label.",
                        n + 1
                    ))
                }
            };
            checklist.push(item);
        }
        Ok(SopDefinition {
            key: key.to_string(),
            name: self.name.clone(),
            trigger: self.trigger.trim().to_string(),
            owner_role: role(&self.owner_role, "Owner role")?,
            escalation_role: role(&self.escalation_role, "Escalation role")?,
            checklist,
            sla: Sla::range(
                unit,
                amount(
                    &self.sla_target,
                    "at-risk target",
                    current.map(|s| s.target),
                )?,
                amount(&self.sla_limit, "limit", current.map(|s| s.limit))?,
            ),
        })
    }
}

#[derive(Template)]
#[template(path = "sop_detail.html")]
struct DetailPage {
    layout: Layout,
    sop: Sop,
    /// The checklist, each item with why it ticks itself when it does.
    items: Vec<(String, String, Option<&'static str>)>,
    /// Some item ticks itself.
    self_ticking: bool,
    owner_role: &'static str,
    escalation_role: &'static str,
    sla: String,
    unit: &'static str,
    /// The current thresholds as numbers ("24", "72").
    target: String,
    limit: String,
    history: Vec<VersionRow>,
    can_edit: bool,
    form: SopForm,
    roles_owner: Vec<Opt>,
    roles_escalation: Vec<Opt>,
    units: Vec<Opt>,
}

impl DetailPage {
    fn unit_words(u: SlaUnit) -> &'static str {
        match u {
            SlaUnit::Hours => "wall-clock hours: nights and weekends count",
            SlaUnit::BusinessHours => "business hours on the agency's calendar",
            SlaUnit::BusinessDays => "business days on the agency's calendar",
        }
    }
}

async fn render_detail(
    state: &AppState,
    session: &WebSession,
    key: &str,
    q: Option<&QueryData>,
    form: Option<SopForm>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let (sop, history) = tokio::try_join!(
        sops::get(&state.db, agency_id, key),
        sops::history(&state.db, agency_id, key),
    )?;
    let tz = timefmt::zone(&agency.timezone);
    let form = form.unwrap_or_else(|| SopForm::of(&sop.definition));
    let role_opts = |current: &str| -> Vec<Opt> {
        Role::ALL
            .iter()
            .map(|r| Opt::new(r.key(), r.info().title, current))
            .collect()
    };
    let d = &sop.definition;
    let subject = baton_core::facts::subject_of_sop(d);
    let items = d
        .checklist
        .iter()
        .map(|i| {
            let fact = subject.and_then(|s| baton_core::facts::fact_for(s, &i.key));
            (i.label.clone(), i.key.clone(), fact.map(|f| f.explain()))
        })
        .collect::<Vec<_>>();
    let page = DetailPage {
        self_ticking: items.iter().any(|i| i.2.is_some()),
        items,
        layout: layout(&agency, session, &d.name, "sops", q),
        owner_role: d.owner_role.info().title,
        escalation_role: d.escalation_role.info().title,
        sla: d.sla.describe(),
        unit: DetailPage::unit_words(d.sla.unit),
        target: number(d.sla.target),
        limit: number(d.sla.limit),
        history: history
            .into_iter()
            .map(|v| VersionRow {
                version: v.version,
                by: v.changed_by,
                at: v.changed_at.map(|t| When::at(t, &tz)),
                sla: v.definition.sla.describe(),
                items: v.definition.checklist.len(),
                reason: v.reason,
            })
            .collect(),
        can_edit: session.member().is_admin,
        roles_owner: role_opts(&form.owner_role),
        roles_escalation: role_opts(&form.escalation_role),
        units: UNITS
            .iter()
            .map(|(_, k, label)| Opt::new(*k, *label, &form.sla_unit))
            .collect(),
        form,
        sop,
    };
    Ok(render(status, &page))
}

/// `GET /sops/{key}`: an SOP, its changelog and (admins) the edit form.
async fn detail(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_detail(&state, &session, &key, Some(&q), None, StatusCode::OK).await
}

/// `POST /sops/{key}` (admins): saves the edit as a new version with its
/// changelog line; a refusal shows the form again with what was typed.
async fn save(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session)?;
    let agency_id = session.agency_id();
    let current = sops::get(&state.db, agency_id, &key).await?;
    let mut typed = SopForm::typed(&form);
    let refused = match typed.definition(&key, Some(&current.definition.sla)) {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(def) => {
            match sops::save(
                &state.db,
                agency_id,
                &session.actor,
                state.now(),
                def,
                &typed.reason,
            )
            .await
            {
                Ok(saved) => {
                    let notice = if saved.version == current.version {
                        "sop_unchanged"
                    } else {
                        "sop_saved"
                    };
                    return Ok(see_other(&format!("/sops/{key}?notice={notice}")));
                }
                Err(e) => refusal(e)?,
            }
        }
    };
    typed.error = Some(refused.1);
    render_detail(&state, &session, &key, None, Some(typed), refused.0).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(checklist: &str, target: &str, limit: &str, unit: &str) -> SopForm {
        SopForm {
            name: "Access".into(),
            trigger: "kickoff_scheduled".into(),
            owner_role: "project_manager".into(),
            escalation_role: "account_lead".into(),
            sla_unit: unit.into(),
            sla_target: target.into(),
            sla_limit: limit.into(),
            checklist: checklist.into(),
            reason: "why".into(),
            error: None,
        }
    }

    #[test]
    fn sop_form_reads_lines_and_numbers() {
        let d = form("a_b | First\n\n  c_d|Second  \n", "24", "72,5", "hours")
            .definition("access_setup", None)
            .unwrap();
        assert_eq!(d.key, "access_setup");
        assert_eq!(d.checklist.len(), 2);
        assert_eq!(
            (d.checklist[1].key.as_str(), d.checklist[1].label.as_str()),
            ("c_d", "Second")
        );
        assert_eq!((d.sla.target, d.sla.limit), (24.0, 72.5));
        assert_eq!(d.sla.unit, SlaUnit::Hours);
        for (f, want) in [
            (form("no bar", "1", "2", "hours"), "Checklist: line 1"),
            (
                form("a_b | A", "x", "2", "hours"),
                "SLA: the at-risk target",
            ),
            (form("a_b | A", "1", "inf", "hours"), "SLA: the limit"),
            (form("a_b | A", "1", "2", "weeks"), "SLA: choose"),
        ] {
            let e = f.definition("k", None).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        let mut bad_role = form("a_b | A", "1", "2", "hours");
        bad_role.owner_role = "boss".into();
        assert!(bad_role
            .definition("k", None)
            .unwrap_err()
            .starts_with("Owner role"));
    }

    #[test]
    fn sop_form_round_trips_a_definition() {
        for d in baton_core::sop::default_library() {
            let f = SopForm::of(&d);
            assert_eq!(f.definition(&d.key, Some(&d.sla)).unwrap(), d, "{}", d.key);
        }
    }
}
