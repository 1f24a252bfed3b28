//! The SOP library (`/sops`) and one SOP (`/sops/{key}`): its definition
//! form (trigger, owner role, definition-of-done checklist, SLA) and its
//! version history.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::policy::{Action, Area, Subject};
use baton_core::roles::Role;
use baton_core::sop::{ChecklistItem, Sla, SlaUnit, SopDefinition};
use baton_store::sops::{self, Sop};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::shared::{layout, refusal, When};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::{timefmt, WebError};

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
pub(super) async fn library(
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
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
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
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
        can_edit: session.administers(Area::SopLibrary),
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
pub(super) async fn detail(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    q: QueryData,
) -> Result<Response, WebError> {
    render_detail(&state, &session, &key, Some(&q), None, StatusCode::OK).await
}

/// `POST /sops/{key}` (admins): saves the edit as a new version with its
/// changelog line; a refusal shows the form again with what was typed.
pub(super) async fn save(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    CsrfForm(mut typed): CsrfForm<SopForm>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::SopLibrary))?;
    let agency_id = session.agency_id();
    let current = sops::get(&state.db, agency_id, &key).await?;
    let refused = match typed.definition(&key, Some(&current.definition.sla)) {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(def) => match sops::save(session.cx(&state), def, &typed.reason).await {
            Ok(saved) => {
                let notice = if saved.version == current.version {
                    "sop_unchanged"
                } else {
                    "sop_saved"
                };
                return Ok(see_other(&format!("/sops/{key}?notice={notice}")));
            }
            Err(e) => refusal(e)?,
        },
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
