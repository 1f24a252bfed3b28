//! The client's sales-to-delivery handoff brief in the web app: the brief
//! as one printable page (`/clients/{id}/handoff`, any version with
//! `?version=n`, completeness per section and the version history) and its
//! edit form (`/clients/{id}/handoff/edit`), where lists are typed one entry
//! per line. A refused form comes back with the message and what was typed.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use baton_core::handoff::{Deliverable, HandoffBrief, Scope, Stakeholder};
use baton_core::types::ClientId;
use baton_core::CoreError;
use baton_store::clients::{self, Client};
use baton_store::handoff_briefs::{self, SavedBrief};
use serde::Deserialize;

use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::refusal;
use crate::web::{timefmt, WebError};

/// The brief's page and its edit form.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients/{id}/handoff", get(show))
        .route("/clients/{id}/handoff/edit", get(edit_page).post(save))
}

/// The sentence shown after saving (`?notice=`; a fixed set).
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "handoff_saved" => "Handoff brief saved as a new version.",
        "handoff_unchanged" => "Nothing changed: the brief is the same as the latest version.",
        _ => return None,
    })
}

// -------------------------------------------------------------------- view --

/// A section and whether it is done.
pub struct SectionView {
    pub key: &'static str,
    pub label: &'static str,
    pub done: bool,
}

/// A line of the version history.
pub struct VersionLine {
    pub version: i64,
    pub href: String,
    pub current: bool,
    pub complete: bool,
    pub author: String,
    pub at: String,
    pub iso: String,
}

#[derive(Template)]
#[template(path = "handoff.html")]
struct HandoffPage {
    layout: Layout,
    client: Client,
    /// 0 before the first save.
    version: i64,
    latest_version: i64,
    brief: HandoffBrief,
    author: String,
    saved_at: String,
    saved_iso: String,
    complete: bool,
    done_count: usize,
    sections: Vec<SectionView>,
    missing: Vec<&'static str>,
    /// Stakeholders are named but none approves.
    no_approver: bool,
    history: Vec<VersionLine>,
    timezone: String,
}

/// `GET /clients/{id}/handoff?version=n`
pub async fn show(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let client = clients::get(&state.db, agency_id, &id).await?;
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let latest = handoff_briefs::latest(&state.db, agency_id, &id).await?;
    let latest_version = latest.as_ref().map_or(0, |l| l.version);
    let shown: Option<SavedBrief> = match q.get("version") {
        None => latest,
        Some(v) => {
            let n = v
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(WebError::NotFound)?;
            Some(handoff_briefs::version(&state.db, agency_id, &id, n).await?)
        }
    };
    let history = handoff_briefs::versions(&state.db, agency_id, &id)
        .await?
        .into_iter()
        .map(|v| VersionLine {
            href: format!("/clients/{id}/handoff?version={}", v.version),
            current: shown.as_ref().is_some_and(|s| s.version == v.version),
            version: v.version,
            complete: v.complete,
            author: v.author_label,
            at: timefmt::local(v.created_at, &tz),
            iso: timefmt::machine(v.created_at),
        })
        .collect();
    let (version, brief, author, saved_at, saved_iso) = match shown {
        Some(s) => (
            s.version,
            s.brief,
            s.author_label,
            timefmt::local(s.created_at, &tz),
            timefmt::machine(s.created_at),
        ),
        None => (
            0,
            HandoffBrief::default(),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    let sections: Vec<SectionView> = brief
        .sections()
        .into_iter()
        .map(|(key, label, done)| SectionView { key, label, done })
        .collect();
    let missing = sections
        .iter()
        .filter(|s| !s.done)
        .map(|s| s.label)
        .collect();
    let mut layout = Layout::app(
        &agency,
        &session,
        format!("Handoff brief · {}", client.name),
        "dashboard",
    );
    layout.notice = q.get("notice").and_then(notice_text);
    let page = HandoffPage {
        layout,
        version,
        latest_version,
        author,
        saved_at,
        saved_iso,
        complete: brief.is_complete(),
        done_count: sections.iter().filter(|s| s.done).count(),
        sections,
        missing,
        no_approver: !brief.stakeholders.is_empty()
            && !brief.stakeholders.iter().any(|s| s.approves),
        history,
        timezone: agency.timezone.clone(),
        brief,
        client,
    };
    Ok(render(StatusCode::OK, &page))
}

// -------------------------------------------------------------------- edit --

/// The edit form as typed: lists one entry per line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HandoffForm {
    /// Comma-separated.
    pub channels: String,
    /// "12 Feed posts" per line.
    pub deliverables: String,
    pub notes: String,
    pub goals: String,
    pub constraints: String,
    pub first_30_days: String,
    /// "Name | Role | email | approves" per line.
    pub stakeholders: String,
    pub promises: String,
    /// The "No non-standard promises were made" box was ticked.
    pub no_promises: bool,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

impl HandoffForm {
    /// The form filled with a saved brief.
    fn of(b: &HandoffBrief) -> HandoffForm {
        let stakeholders = b
            .stakeholders
            .iter()
            .map(|s| {
                let mut parts = vec![
                    s.name.clone(),
                    s.role.clone(),
                    s.email.clone().unwrap_or_default(),
                    if s.approves {
                        "approves".into()
                    } else {
                        String::new()
                    },
                ];
                while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
                    parts.pop();
                }
                parts.join(" | ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        HandoffForm {
            channels: b.scope.channels.join(", "),
            deliverables: b
                .scope
                .deliverables
                .iter()
                .map(|d| format!("{} {}", d.per_month, d.item))
                .collect::<Vec<_>>()
                .join("\n"),
            notes: b.scope.notes.clone(),
            goals: b.goals.join("\n"),
            constraints: b.constraints.join("\n"),
            first_30_days: b.first_30_days.join("\n"),
            stakeholders,
            promises: b.promises.join("\n"),
            no_promises: b.no_promises,
            error: None,
        }
    }

    /// The brief the form describes, or a message saying which line to fix.
    /// Blank lines stay in place (as empty entries the domain drops) so the
    /// domain's "line N" matches the line typed.
    fn brief(&self) -> Result<HandoffBrief, String> {
        let deliverables = text_lines(&self.deliverables)
            .into_iter()
            .enumerate()
            .map(|(i, l)| deliverable(&l).map_err(|m| format!("Deliverables, line {}: {m}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let stakeholders = text_lines(&self.stakeholders)
            .into_iter()
            .enumerate()
            .map(|(i, l)| stakeholder(&l).map_err(|m| format!("Stakeholders, line {}: {m}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HandoffBrief {
            scope: Scope {
                channels: self
                    .channels
                    .split([',', '\n'])
                    .map(|c| c.trim().to_string())
                    .collect(),
                deliverables,
                notes: self.notes.clone(),
            },
            goals: text_lines(&self.goals),
            constraints: text_lines(&self.constraints),
            first_30_days: text_lines(&self.first_30_days),
            stakeholders,
            promises: text_lines(&self.promises),
            no_promises: self.no_promises,
        })
    }
}

/// The lines of a textarea (browsers send `\r\n`).
fn text_lines(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().to_string()).collect()
}

/// "12 Feed posts" (also "12 x Feed posts", "12× Feed posts"); a blank line
/// is an empty entry.
fn deliverable(line: &str) -> Result<Deliverable, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Deliverable::default());
    }
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    let bad = || "start with the number per month, like “12 Feed posts”".to_string();
    if digits.is_empty() {
        return Err(bad());
    }
    let per_month: i64 = digits
        .parse()
        .map_err(|_| "the number per month must be 1 to 1000".to_string())?;
    let rest = line[digits.len()..].trim_start();
    let rest = ["x ", "× ", "×", "X "]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
        .unwrap_or(rest)
        .trim();
    if rest.is_empty() {
        return Err("say what is delivered after the number, like “12 Feed posts”".into());
    }
    Ok(Deliverable {
        item: rest.to_string(),
        per_month,
    })
}

/// Words that mark a stakeholder who approves, or explicitly does not.
const YES: [&str; 6] = ["approves", "approver", "yes", "y", "true", "x"];
const NO: [&str; 4] = ["no", "n", "false", "-"];

/// "Name | Role | email | approves": the role is the second field; after
/// it, a field with `@` is the email and "approves" (or yes) marks an
/// approver, in any order. A blank line is an empty entry.
fn stakeholder(line: &str) -> Result<Stakeholder, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(Stakeholder::default());
    }
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    if parts.len() > 4 {
        return Err("use at most four fields: Name | Role | email | approves".into());
    }
    let mut s = Stakeholder {
        name: parts[0].to_string(),
        role: parts.get(1).copied().unwrap_or("").to_string(),
        ..Stakeholder::default()
    };
    for p in parts.iter().skip(2) {
        let word = p.to_lowercase();
        if p.is_empty() || NO.contains(&word.as_str()) {
            continue;
        }
        if YES.contains(&word.as_str()) {
            s.approves = true;
        } else if p.contains('@') && s.email.is_none() {
            s.email = Some(p.to_string());
        } else {
            return Err(format!(
                "“{p}” is neither an email nor “approves” (write Name | Role | email | approves)"
            ));
        }
    }
    Ok(s)
}

/// The brief's sections as the edit form labels them.
const LABELS: refusal::Labels = &[
    ("scope.channels", "Channels"),
    ("scope.deliverables", "Deliverables"),
    ("scope.notes", "Scope notes"),
    ("goals", "Goals"),
    ("constraints", "Constraints"),
    ("first_30_days", "First 30 days"),
    ("stakeholders", "Stakeholders"),
    ("promises", "Non-standard promises"),
];

#[derive(Template)]
#[template(path = "handoff_edit.html")]
struct EditPage {
    layout: Layout,
    client: Client,
    /// The version the form starts from (0: none yet).
    version: i64,
    form: HandoffForm,
}

async fn render_edit(
    state: &AppState,
    session: &WebSession,
    client: Client,
    version: i64,
    form: HandoffForm,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let page = EditPage {
        layout: Layout::app(
            &agency,
            session,
            format!("Edit handoff brief · {}", client.name),
            "dashboard",
        ),
        client,
        version,
        form,
    };
    Ok(render(status, &page))
}

/// `GET /clients/{id}/handoff/edit`: the form, filled with the latest version.
pub async fn edit_page(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
) -> Result<Response, WebError> {
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
    let latest = handoff_briefs::latest(&state.db, session.agency_id(), &id).await?;
    let (version, form) = match latest {
        Some(l) => (l.version, HandoffForm::of(&l.brief)),
        None => (0, HandoffForm::default()),
    };
    render_edit(&state, &session, client, version, form, StatusCode::OK).await
}

/// `POST /clients/{id}/handoff/edit`: saves a new version and shows the brief.
pub async fn save(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(mut typed): CsrfForm<HandoffForm>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let client = clients::get(&state.db, agency_id, &id).await?;
    let before = handoff_briefs::latest(&state.db, agency_id, &id)
        .await?
        .map_or(0, |l| l.version);
    let result = match typed.brief() {
        Ok(brief) => handoff_briefs::save(session.cx(&state), &id, brief).await,
        Err(message) => Err(CoreError::invalid("", message).into()),
    };
    match result {
        Ok(saved) => {
            let notice = if saved.version == before {
                "handoff_unchanged"
            } else {
                "handoff_saved"
            };
            Ok(see_other(&format!("/clients/{id}/handoff?notice={notice}")))
        }
        Err(e) => {
            let (status, message) = refusal::present(e, LABELS)?;
            typed.error = Some(message);
            render_edit(&state, &session, client, before, typed, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliverable_lines() {
        for (line, want) in [
            ("12 Feed posts", Some((12, "Feed posts"))),
            ("  4 x Reels ", Some((4, "Reels"))),
            ("4× Reels", Some((4, "Reels"))),
            ("1 Monthly report", Some((1, "Monthly report"))),
            ("Feed posts", None),
            ("12", None),
            ("99999999999999999999999 posts", None),
        ] {
            let got = deliverable(line).ok().map(|d| (d.per_month, d.item));
            assert_eq!(got, want.map(|(n, i)| (n, i.to_string())), "{line:?}");
        }
        assert_eq!(deliverable("  ").unwrap(), Deliverable::default());
    }

    #[test]
    fn stakeholder_lines() {
        let s = stakeholder("Dana Ruiz | CMO | dana@client.test | approves").unwrap();
        assert_eq!(
            (
                s.name.as_str(),
                s.role.as_str(),
                s.email.as_deref(),
                s.approves
            ),
            ("Dana Ruiz", "CMO", Some("dana@client.test"), true)
        );
        let s = stakeholder("Sam | Brand manager | approves").unwrap();
        assert!(s.approves && s.email.is_none());
        let s = stakeholder("Lee").unwrap();
        assert_eq!(
            (s.name.as_str(), s.role.as_str(), s.approves),
            ("Lee", "", false)
        );
        let s = stakeholder("Kim | | | no").unwrap();
        assert!(!s.approves);
        assert!(stakeholder("Kim | CEO | maybe").is_err());
        assert!(stakeholder("a | b | c@d.e | yes | extra").is_err());
    }

    #[test]
    fn form_round_trips_a_brief() {
        let form = HandoffForm {
            channels: "instagram, tiktok".into(),
            deliverables: "12 Feed posts\n\n4 Reels".into(),
            notes: "Stories on request".into(),
            goals: "Grow reach\r\nMore leads".into(),
            constraints: "No competitor mentions".into(),
            first_30_days: "Kickoff".into(),
            stakeholders: "Dana Ruiz | CMO | dana@client.test | approves\nSam | Brand manager"
                .into(),
            promises: "We post daily".into(),
            no_promises: false,
            error: None,
        };
        let brief = form.brief().unwrap().validated().unwrap();
        assert!(brief.is_complete());
        assert_eq!(brief.goals, vec!["Grow reach", "More leads"]);
        assert_eq!(brief.scope.deliverables.len(), 2);
        let again = HandoffForm::of(&brief)
            .brief()
            .unwrap()
            .validated()
            .unwrap();
        assert_eq!(again, brief);
    }
}
