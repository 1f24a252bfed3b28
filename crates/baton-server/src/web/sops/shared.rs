//! What the SOP pages share: list caps, the notices after a change, the
//! layout with the SOP sub-navigation, run lines with their due time and
//! owner, and the store's refusals as sentences.

use axum::http::StatusCode;
use baton_core::facts::Subject;
use baton_core::human;
use baton_core::sop::RunStatus;
use baton_store::agencies::Agency;
use baton_store::sop_runs::Run;
use baton_store::StoreError;
use jiff::tz::TimeZone;

use crate::auth::session::WebSession;
use crate::web::form::QueryData;
use crate::web::layout::{notice_text, Layout};
use crate::web::refusal;
use crate::web::{timefmt, WebError};

/// How many runs a list shows at most (the store caps a query too).
pub(super) const LIST_CAP: i64 = 500;
/// How many notices "My work" shows.
pub(super) const NOTICE_CAP: i64 = 50;
/// How many content items "My work" lists as waiting.
pub(super) const WAITING_CAP: i64 = 100;

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
    pub(in crate::web) fn at(ms: i64, tz: &TimeZone) -> When {
        When {
            local: timefmt::local(ms, tz),
            iso: timefmt::machine(ms),
        }
    }
}

/// A run status as people read it, and its badge class.
fn status_view(s: RunStatus) -> (&'static str, &'static str) {
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
            Subject::Incident => ("Incident", format!("/incidents/{}", s.id)),
            Subject::Week => ("Scorecard", format!("/scorecard?week={}", s.id)),
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

fn owner_view(r: &Run) -> OwnerView {
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
            id: r.id.to_string(),
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

/// The SOP forms' fields as they label them.
const LABELS: refusal::Labels = &[
    ("trigger", "Trigger"),
    ("owner_role", "Owner role"),
    ("escalation_role", "Escalation role"),
    ("sla", "SLA"),
    ("checklist", "Checklist"),
    ("items", "Checklist"),
    ("member", "Assign to"),
    ("sop", "SOP"),
    ("started_at", "Start time"),
];

/// A refused SOP form's status and message ([`refusal::present`]).
pub(super) fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}
