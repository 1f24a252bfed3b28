//! The client's timeline: events in words, and recording one
//! (`POST /clients/{id}/events`), with the confirmation page of a move that
//! skips stages or withdraws work.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::events as topics;
use baton_core::lifecycle::{ClientEventType, Lifecycle};
use baton_core::types::ClientId;
use baton_store::clients::{self, Client};
use baton_store::events::Event;
use serde::Deserialize;

use super::page::{may_correct, render_client, EventForm, EventView, Typed};
use super::{invalid, refusal};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::{timefmt, WebError};

pub(super) fn event_label(event_type: &str) -> String {
    if let Some(t) = ClientEventType::parse(event_type) {
        return t.label().to_string();
    }
    match event_type {
        topics::CLIENT_CREATED => "Client created".into(),
        topics::CLIENT_UPDATED => "Details edited".into(),
        topics::CLIENT_TEAM_CHANGED => "Account team changed".into(),
        topics::CLIENT_LIFECYCLE_CHANGED => "Lifecycle changed".into(),
        topics::LINK_CREATED => "Onboarding link created".into(),
        topics::LINK_OPENED => "Client opened the onboarding link".into(),
        topics::LINK_REVOKED => "Onboarding link revoked".into(),
        topics::LINK_REGENERATED => "Onboarding link given a new URL".into(),
        topics::REMINDER_SENT => "Reminder to the client".into(),
        topics::ANSWERS_SAVED => "Client answered the questionnaire".into(),
        topics::FILE_UPLOADED => "Client uploaded a file".into(),
        topics::ONBOARDING_COMPLETED => "Access complete: every required request verified".into(),
        topics::ACCESS_GRANTED => "Access granted by the client".into(),
        topics::ACCESS_STUCK => "Client is stuck on an access step".into(),
        topics::ACCESS_VERIFIED => "Access verified".into(),
        topics::ACCESS_FAILED => "Access failed".into(),
        topics::ACCESS_REVOKED => "Access revoked".into(),
        topics::ACCESS_WAIVED => "Access revoke waived".into(),
        topics::SOP_RUN_STARTED => "SOP started".into(),
        topics::SOP_RUN_AT_RISK => "SOP at risk".into(),
        topics::SOP_RUN_BREACHED => "SOP breached its SLA".into(),
        topics::SOP_RUN_PAUSED => "SOP paused".into(),
        topics::SOP_RUN_RESUMED => "SOP resumed".into(),
        topics::SOP_RUN_CHECKLIST => "SOP checklist updated".into(),
        topics::SOP_RUN_ASSIGNED => "SOP owner changed".into(),
        topics::SOP_RUN_COMPLETED => "SOP done".into(),
        topics::SOP_RUN_CANCELLED => "SOP run cancelled".into(),
        topics::SOP_RUN_RESTORED => "SOP run restored".into(),
        topics::LINK_EXPIRED => "Onboarding link expired".into(),
        topics::ACCESS_WITHDRAWN => "Access requests withdrawn".into(),
        topics::ACCESS_RESTORED => "Access requests restored".into(),
        topics::HANDOFF_SAVED => "Handoff brief saved".into(),
        "content.cycle_started" => "Content item created".into(),
        "content.brief_approved" => "Content brief approved".into(),
        "content.version_added" => "Content version added".into(),
        "content.drafts_ready" => "Content submitted for review".into(),
        "content.commented" => "Content comment".into(),
        "content.decided" => "Content decision".into(),
        "content.changes_requested" => "Content changes requested".into(),
        "content.ready_to_schedule" => "Content approved".into(),
        "content.qa_changed" => "Publishing QA updated".into(),
        "content.qa_waived" => "Publishing QA waived (incident risk)".into(),
        "content.scheduled" => "Content scheduled".into(),
        "content.unscheduled" => "Content unscheduled".into(),
        "content.published" => "Content published".into(),
        "content.cancelled" => "Content cancelled".into(),
        "content.participants_changed" => "Reviewers and approvers changed".into(),
        "content.participants_applied" => {
            "Reviewers and approvers changed (from this round)".into()
        }
        "content.approval_reopened" => "Content approval reopened: caption changed".into(),
        topics::CONTENT_ERROR_REPORTED => "Publishing error reported (incident)".into(),
        topics::INCIDENT_OPENED => "Incident reported".into(),
        topics::INCIDENT_TRIAGED => "Incident triaged".into(),
        topics::INCIDENT_MITIGATED => "Incident mitigated".into(),
        topics::INCIDENT_RESOLVED => "Incident resolved".into(),
        topics::INCIDENT_CLOSED => "Incident closed".into(),
        topics::INCIDENT_CANCELLED => "Incident cancelled".into(),
        topics::INCIDENT_NOTE => "Incident note".into(),
        topics::INCIDENT_POSTMORTEM => "Incident postmortem saved".into(),
        topics::INCIDENT_ACTION_DONE => "Incident follow-up done".into(),
        topics::INCIDENT_ACTION_OVERDUE => "Incident follow-up overdue".into(),
        topics::INCIDENT_TRIAGE_AT_RISK => "Incident triage at risk".into(),
        topics::INCIDENT_TRIAGE_BREACHED => "Incident triage breached (not triaged in time)".into(),
        "calendar_feed.created" => "Calendar feed URL created".into(),
        "calendar_feed.revoked" => "Calendar feed URL revoked".into(),
        other => other.replace(['.', '_'], " "),
    }
}

/// What an onboarding or access event says beyond its label: the platform and
/// the note, reason or message typed with it; a reminder's text when it was
/// not emailed (so the team can send it).
fn event_detail(
    event_type: &str,
    data: &serde_json::Value,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    let text = |k: &str| {
        data.get(k)
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
    };
    if event_type == topics::REMINDER_SENT {
        let with_link = data.get("includes_link").and_then(|v| v.as_bool()) == Some(true);
        return match text("channel") {
            Some("email") => Some("Sent by email.".into()),
            _ => text("text").map(|t| {
                let link = if with_link {
                    "Its link is shortened here: use “Prepare reminder” under Onboarding links for the text with the link.\n\n"
                } else {
                    ""
                };
                format!("Not emailed (no SMTP or no contact email): copy and send it.\n{link}\n{t}")
            }),
        };
    }
    if event_type == topics::FILE_UPLOADED {
        return text("name").map(String::from);
    }
    if event_type == topics::ACCESS_WITHDRAWN || event_type == topics::ACCESS_RESTORED {
        let names: Vec<String> = data
            .get("platforms")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str())
                    .map(|k| {
                        baton_core::platforms::builtin_get(k)
                            .map(|p| p.name.clone())
                            .unwrap_or_else(|| k.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let why = text("reason")
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Some(format!("{}{why}", names.join(", ")));
    }
    if event_type.starts_with("sop_run.") {
        let name = text("sop_name").or(text("sop"))?;
        let extra = match event_type {
            topics::SOP_RUN_STARTED => text("owner").map(|o| format!("owner {o}")).or(Some(
                "no owner: nobody holds the role or traffic control".into(),
            )),
            topics::SOP_RUN_AT_RISK | topics::SOP_RUN_BREACHED => data
                .get("due_at")
                .and_then(|v| v.as_i64())
                .map(|d| format!("due {}", timefmt::local(d, tz))),
            topics::SOP_RUN_PAUSED => text("reason").map(|r| format!("waiting: {r}")),
            topics::SOP_RUN_CANCELLED => text("reason").map(String::from),
            topics::SOP_RUN_COMPLETED => data.get("on_time").and_then(|v| v.as_bool()).map(|ok| {
                if ok {
                    "on time".to_string()
                } else {
                    "late".to_string()
                }
            }),
            _ => None,
        };
        return Some(match extra {
            Some(x) => format!("{name}: {x}"),
            None => name.to_string(),
        });
    }
    if event_type.starts_with("content.") {
        let title = text("title")?;
        let extra = text("reason")
            .or(text("name"))
            .map(String::from)
            .or_else(|| {
                let by = text("by")?;
                Some(match text("decision") {
                    Some("approve") => format!("approved by {by}"),
                    Some(_) => format!("changes requested by {by}"),
                    None => format!("by {by}"),
                })
            });
        return Some(match extra {
            Some(x) => format!("{title}: {x}"),
            None => title.to_string(),
        });
    }
    if event_type == topics::HANDOFF_SAVED {
        let version = data.get("version").and_then(|v| v.as_i64()).unwrap_or(0);
        let complete = data
            .get("complete")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        return Some(format!(
            "Version {version}: {}",
            if complete { "complete" } else { "incomplete" }
        ));
    }
    let platform = text("platform").map(|k| {
        baton_core::platforms::builtin_get(k)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| k.to_string())
    })?;
    Some(match text("note").or(text("reason")).or(text("message")) {
        Some(t) => format!("{platform}: {t}"),
        None => platform,
    })
}

pub(super) fn event_view(e: Event, tz: &jiff::tz::TimeZone, now: i64) -> EventView {
    let stage = |k: &str| Lifecycle::parse(k).map(Lifecycle::label);
    let change = match (
        e.data.get("from").and_then(|v| v.as_str()).and_then(stage),
        e.data.get("to").and_then(|v| v.as_str()).and_then(stage),
    ) {
        (Some(from), Some(to)) if from != to => Some(format!("{from} → {to}")),
        _ => None,
    };
    // Events recorded more than a minute after they happened were back-dated.
    let recorded =
        (e.recorded_at - e.occurred_at > 60_000).then(|| timefmt::local(e.recorded_at, tz));
    EventView {
        label: event_label(&e.event_type),
        change,
        actor: e.actor_label,
        occurred: timefmt::local(e.occurred_at, tz),
        occurred_iso: timefmt::machine(e.occurred_at),
        ago: timefmt::relative(e.occurred_at, now),
        recorded,
        note: e.note.or_else(|| event_detail(&e.event_type, &e.data, tz)),
    }
}

#[derive(Template)]
#[template(path = "client_move_confirm.html")]
struct ConfirmMovePage {
    layout: Layout,
    client: Client,
    event_type: String,
    event_label: &'static str,
    occurred_at: String,
    note: String,
    from: &'static str,
    to: &'static str,
    /// "Onboarding and Active".
    skipped: String,
    requests: i64,
    runs: Vec<String>,
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The record-an-event form as posted: the event as typed, and `confirmed`
/// ("yes") from the confirmation page of a skipping move.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RecordEventForm {
    #[serde(flatten)]
    event: EventForm,
    confirmed: String,
}

/// `POST /clients/{id}/events`: records a timeline event; an impossible
/// lifecycle move is refused (409) and nothing changes. A move that skips
/// stages or withdraws work is first shown on a page that says what will
/// happen, and made only when that page's form confirms it
/// (`confirmed=yes`). `type=reopened` is an admin's correction of the last
/// move, with its reason in `note`.
pub async fn record_event(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(form): CsrfForm<RecordEventForm>,
) -> Result<Response, WebError> {
    let client = clients::get(&state.db, session.agency_id(), &id).await?;
    let agency = agency_of(&state, &session).await?;
    let mut typed = form.event;
    let confirmed = form.confirmed == "yes";
    let event_type = ClientEventType::parse(typed.event_type.trim());
    if event_type == Some(ClientEventType::Reopened) {
        // Only an admin corrects a move: anyone else gets the refusal page.
        may_correct(&session, &id).map_err(WebError::Forbidden)?;
    }
    let result = async {
        let event_type = event_type.ok_or_else(|| invalid("Choose what happened."))?;
        if event_type == ClientEventType::Reopened {
            return clients::reopen(session.cx(&state), &id, &typed.note, state.mailer.is_some())
                .await
                .map(|_| None);
        }
        let occurred_at = match typed.occurred_at.trim() {
            "" => None,
            v => Some(timefmt::parse_local(v, &timefmt::zone(&agency.timezone)).map_err(invalid)?),
        };
        if !confirmed {
            let preview =
                clients::preview_event(&state.db, session.agency_id(), &id, event_type).await?;
            if preview.needs_confirmation() {
                let skipped: Vec<&str> = preview.skipped.iter().map(|l| l.label()).collect();
                let page = ConfirmMovePage {
                    layout: Layout::app(&agency, &session, "Confirm the move", "dashboard"),
                    client: client.clone(),
                    event_type: event_type.key().to_string(),
                    event_label: event_type.label(),
                    occurred_at: typed.occurred_at.clone(),
                    note: typed.note.clone(),
                    from: preview.from.label(),
                    to: preview.to.label(),
                    skipped: and_list(&skipped),
                    requests: preview.requests_withdrawn,
                    runs: preview.runs_cancelled,
                };
                return Ok(Some(render(StatusCode::OK, &page)));
            }
        }
        clients::record_event(
            session.cx(&state),
            &id,
            event_type,
            occurred_at,
            Some(typed.note.as_str()),
        )
        .await
        .map(|_| None)
    }
    .await;
    match result {
        Ok(Some(confirm)) => Ok(confirm),
        Ok(None) if typed.event_type == ClientEventType::Reopened.key() => Ok(see_other(&format!(
            "/clients/{id}?notice=move_corrected#timeline"
        ))),
        Ok(None) => Ok(see_other(&format!(
            "/clients/{id}?notice=event_recorded#timeline"
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let typed = if typed.event_type == ClientEventType::Reopened.key() {
                Typed {
                    correction: Some((typed.note, message)),
                    ..Typed::default()
                }
            } else {
                typed.error = Some(message);
                Typed {
                    event: Some(typed),
                    ..Typed::default()
                }
            };
            render_client(&state, &session, &id, &QueryData::default(), typed, status).await
        }
    }
}

#[cfg(test)]
mod event_detail_tests {
    use serde_json::json;

    use super::{event_detail, event_label, topics};

    #[test]
    fn onboarding_events_read_as_sentences() {
        assert_eq!(event_label(topics::ACCESS_VERIFIED), "Access verified");
        assert_eq!(event_label("something.new"), "something new");
        for (t, data, want) in [
            (
                topics::ACCESS_FAILED,
                json!({"platform": "ga4", "reason": "wrong property"}),
                Some("Google Analytics 4: wrong property"),
            ),
            (
                topics::ACCESS_GRANTED,
                json!({"platform": "my_crm"}),
                Some("my_crm"),
            ),
            (
                topics::REMINDER_SENT,
                json!({"channel": "email", "text": "Hi"}),
                Some("Sent by email."),
            ),
            (topics::LINK_CREATED, json!({"link_id": "lnk_1"}), None),
        ] {
            assert_eq!(
                event_detail(t, &data, &jiff::tz::TimeZone::UTC).as_deref(),
                want,
                "{t}"
            );
        }
        let copy = event_detail(
            topics::REMINDER_SENT,
            &json!({"channel": "copy", "text": "Hi Acme"}),
            &jiff::tz::TimeZone::UTC,
        )
        .unwrap();
        assert!(copy.contains("copy and send") && copy.ends_with("Hi Acme"));
    }
}
