//! One outbound endpoint's page (`/settings/integrations/{id}`), for
//! admins: a webhook's or a channel's settings with their edit form, "Send
//! test event" (or message), "Rotate secret" (webhooks: the new secret shown
//! once, the old one signing 24 more hours), "Recover failed since" (a time
//! in the agency's zone), "Delete", and the delivery log: every attempt,
//! newest first, with a Retry button on a delivery that failed, and the
//! deliveries waiting for their next attempt.

use std::collections::HashSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::types::{DeliveryId, EndpointId};
use baton_store::integrations::{self, deliveries, Endpoint, Kind};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::integrations::{client_opts, notice, require_admin, PATH};
use super::integrations_view::{
    channel_events_words, chosen, datetime_local, latency_words, notice_checks, notices_of, refuse,
    schedule_words, split_filters, success_words, FieldError, NoticeCheck, CHANNEL_LABELS, LABELS,
};
use crate::auth::session::WebSession;
use crate::integrations::{self as integ, EndpointChange, ROTATION_OVERLAP_MS};
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::prg::show_at;
use crate::web::{refusal, timefmt, WebError};

/// Attempts per page of the log.
const LOG_PAGE: i64 = 50;
/// Deliveries shown waiting for their next attempt.
const WAITING_SHOWN: i64 = 20;

fn path_of(id: &str) -> String {
    format!("{PATH}/{id}")
}

/// The endpoint as its page shows it.
pub struct EndpointView {
    pub id: String,
    pub is_webhook: bool,
    /// "Webhook", "Slack", "Microsoft Teams".
    pub kind: &'static str,
    /// A webhook's URL; a channel's, masked.
    pub url: String,
    pub description: String,
    pub events: String,
    pub client: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub success: String,
    pub created: String,
    /// While a rotated-out secret still signs, until when (local time).
    pub old_secret_until: Option<String>,
}

/// One attempt of the log.
pub struct LogLine {
    pub delivery_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub attempt: i64,
    pub at: String,
    pub at_iso: String,
    /// The receiver's HTTP status, or "no answer".
    pub status: String,
    pub latency: String,
    pub succeeded: bool,
    pub error: Option<String>,
    pub excerpt: Option<String>,
    /// The newest attempt of a delivery that failed: it can be sent again.
    pub can_retry: bool,
    /// The newest attempt of a delivery waiting for its next attempt: when.
    pub next_attempt: Option<String>,
}

/// A delivery waiting for its next attempt.
pub struct WaitingLine {
    pub webhook_id: String,
    pub event_type: String,
    pub attempts: i64,
    /// "Tue 24 Nov, 14:05 (in 5 minutes)"
    pub next: String,
}

/// The edit form as typed: a webhook's filters are text (`events`), a
/// channel's are its notices ticked plus other filters (`more_events`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    /// A channel's URL is only sent to replace it (blank keeps it).
    pub url: String,
    pub events: String,
    pub notices: Vec<String>,
    pub more_events: String,
    pub description: String,
    pub client: String,
    pub enabled: bool,
    #[serde(skip)]
    pub error: FieldError,
}

const EDIT_FIELDS: &[&str] = &["url", "events", "description", "client"];

impl EditForm {
    fn of(e: &Endpoint) -> EditForm {
        let (notices, rest) = notices_of(&e.events);
        EditForm {
            url: if e.kind.is_channel() {
                String::new()
            } else {
                e.url.clone()
            },
            events: e.events.join(", "),
            notices: notices.iter().map(|n| n.key.to_string()).collect(),
            more_events: rest.join(", "),
            description: e.description.clone(),
            client: e.client_id.clone().unwrap_or_default(),
            enabled: e.enabled,
            error: FieldError::default(),
        }
    }
}

/// A secret just rotated in, shown once, and until when the one it
/// replaced still signs (local time).
pub struct RotatedSecret {
    pub secret: String,
    pub old_until: String,
}

/// The "Recover failed since" form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecoverForm {
    /// `datetime-local`, in the agency's zone.
    pub since: String,
    #[serde(skip)]
    pub error: FieldError,
}

#[derive(Template)]
#[template(path = "settings_integrations_endpoint.html")]
struct EndpointPage {
    layout: Layout,
    notice: Option<String>,
    /// The settings section for `access_subnav.html`.
    sub: &'static str,
    ep: EndpointView,
    edit: EditForm,
    notice_checks: Vec<NoticeCheck>,
    clients: Vec<Opt>,
    /// A rotated secret, shown this once.
    new_secret: Option<RotatedSecret>,
    /// A refused button (test, rotate, retry), above the log.
    action_error: Option<String>,
    recover: RecoverForm,
    /// Now, for the recover form's `max`.
    now_local: String,
    log: Vec<LogLine>,
    /// The `?cursor=` of the next page of the log.
    next_cursor: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    paged: bool,
    waiting: Vec<WaitingLine>,
    schedule: String,
}

/// What the page shows besides the endpoint.
#[derive(Default)]
struct Extras {
    edit: Option<EditForm>,
    new_secret: Option<String>,
    action_error: Option<String>,
    recover: Option<RecoverForm>,
}

/// The endpoint of this agency, or the 404 page.
async fn endpoint_of(
    state: &AppState,
    session: &WebSession,
    id: &str,
) -> Result<Endpoint, WebError> {
    Ok(integrations::get(&state.db, session.agency_id(), id).await?)
}

fn view_of(e: &Endpoint, success: String, now: i64, tz: &TimeZone) -> EndpointView {
    EndpointView {
        id: e.id.clone(),
        is_webhook: e.kind == Kind::Webhook,
        kind: e.kind.label(),
        url: e.url.clone(),
        description: e.description.clone(),
        events: if e.kind.is_channel() {
            channel_events_words(&e.events)
        } else {
            e.events.join(", ")
        },
        client: e.client_id.as_ref().map(|id| {
            e.client_name
                .clone()
                .unwrap_or_else(|| format!("a removed client ({id})"))
        }),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        success,
        created: timefmt::local(e.created_at, tz),
        old_secret_until: e
            .old_secret_until
            .filter(|u| *u > now)
            .map(|u| timefmt::local(u, tz)),
    }
}

async fn render_endpoint(
    state: &AppState,
    session: &WebSession,
    ep: Endpoint,
    q: Option<&QueryData>,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let agency_id = session.agency_id();
    let now = state.now();
    let (ok, total) =
        deliveries::success_rate(&state.db, agency_id, &ep.id, now - 7 * 86_400_000).await?;
    let cursor = q.and_then(|q| q.get("cursor"));
    let page = deliveries::log(&state.db, agency_id, &ep.id, None, cursor, Some(LOG_PAGE)).await?;
    let mut seen = HashSet::new();
    let log = page
        .items
        .into_iter()
        .map(|r| {
            let newest = seen.insert(r.delivery_id.clone());
            LogLine {
                at: timefmt::local(r.started_at, &tz),
                at_iso: timefmt::machine(r.started_at),
                status: r
                    .status_code
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no answer".into()),
                latency: latency_words(r.latency_ms),
                // Retry is refused while the endpoint is off: no button then.
                can_retry: newest && r.state == "failed" && ep.enabled,
                next_attempt: r
                    .next_attempt_at
                    .filter(|_| newest && r.state == "pending")
                    .map(|at| timefmt::local(at, &tz)),
                delivery_id: r.delivery_id,
                webhook_id: r.event_id,
                event_type: r.event_type,
                attempt: r.attempt,
                succeeded: r.succeeded,
                error: r.error,
                excerpt: r.response_excerpt.filter(|x| !x.trim().is_empty()),
            }
        })
        .collect();
    let waiting = deliveries::waiting(&state.db, agency_id, &ep.id, WAITING_SHOWN)
        .await?
        .into_iter()
        .map(|d| {
            let at = d.next_attempt_at.unwrap_or(d.created_at);
            WaitingLine {
                next: format!(
                    "{} ({})",
                    timefmt::local(at, &tz),
                    timefmt::relative(at, now)
                ),
                webhook_id: d.event_id,
                event_type: d.event_type,
                attempts: d.attempts,
            }
        })
        .collect();
    let edit = extras.edit.unwrap_or_else(|| EditForm::of(&ep));
    let new_secret = extras.new_secret.map(|secret| RotatedSecret {
        secret,
        old_until: timefmt::local(
            ep.old_secret_until.unwrap_or(now + ROTATION_OVERLAP_MS),
            &tz,
        ),
    });
    let recover = extras.recover.unwrap_or_else(|| RecoverForm {
        since: datetime_local(now - 86_400_000, &tz),
        error: FieldError::default(),
    });
    let title = format!("{}: {}", ep.kind.label(), ep.url);
    let page = EndpointPage {
        layout: Layout::app(&agency, session, title, "settings"),
        notice: notice(q),
        sub: "integrations",
        ep: view_of(&ep, success_words(ok, total), now, &tz),
        notice_checks: notice_checks(&edit.notices),
        clients: client_opts(state, agency_id, &edit.client).await?,
        edit,
        new_secret,
        action_error: extras.action_error,
        recover,
        now_local: datetime_local(now, &tz),
        log,
        next_cursor: page.next_cursor,
        paged: cursor.is_some(),
        waiting,
        schedule: schedule_words(&state.config.webhook_retry),
    };
    Ok(render(status, &page))
}

/// The page again with a refused button's sentence above the log.
async fn refused_action(
    state: &AppState,
    session: &WebSession,
    ep: Endpoint,
    (status, text): (StatusCode, String),
) -> Result<Response, WebError> {
    let at = format!("{}#actions", path_of(&ep.id));
    let extras = Extras {
        action_error: Some(text),
        ..Extras::default()
    };
    let resp = render_endpoint(state, session, ep, None, extras, status).await?;
    Ok(show_at(resp, at))
}

/// `GET /settings/integrations/{id}?cursor=`
pub(super) async fn page(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    q: QueryData,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    render_endpoint(
        &state,
        &session,
        ep,
        Some(&q),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/integrations/{id}`: saves the edit form, or shows it
/// again with the refusal at its field.
pub(super) async fn save(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    CsrfForm(mut form): CsrfForm<EditForm>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    let channel = ep.kind.is_channel();
    let (labels, events) = if channel {
        let mut events = form.notices.clone();
        events.extend(split_filters(&form.more_events));
        (CHANNEL_LABELS, events)
    } else {
        (LABELS, split_filters(&form.events))
    };
    let url = form.url.trim().to_string();
    let refused = |field: &str, text: &str| {
        Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldError::new(field, text, EDIT_FIELDS),
        ))
    };
    let saved = if !channel && url.is_empty() {
        refused("url", "URL: paste the address of the receiver, https://…")
    } else if events.is_empty() && channel {
        refused(
            "events",
            "Notices: choose at least one notice for the channel.",
        )
    } else if events.is_empty() {
        refused(
            "events",
            "Events: write at least one, such as client.* or * for every event.",
        )
    } else {
        let change = EndpointChange {
            // An unchanged webhook URL is not looked up again; a blank
            // channel URL keeps the one saved.
            url: Some(url).filter(|u| !u.is_empty() && (channel || *u != ep.url)),
            description: Some(form.description.trim().to_string()),
            events: Some(events),
            client_id: Some(chosen(&form.client)),
            enabled: Some(form.enabled),
        };
        match integ::update_endpoint(&state, session.cx(&state), &id, change).await {
            Ok(_) => Ok(()),
            Err(e) => Err(refuse(e, labels, EDIT_FIELDS)?),
        }
    };
    match saved {
        Ok(()) => Ok(see_other(&format!(
            "{}?notice=endpoint_saved",
            path_of(&id)
        ))),
        Err((status, error)) => {
            form.error = error;
            let extras = Extras {
                edit: Some(form),
                ..Extras::default()
            };
            let resp = render_endpoint(&state, &session, ep, None, extras, status).await?;
            Ok(show_at(resp, format!("{}#edit", path_of(&id))))
        }
    }
}

/// `POST /settings/integrations/{id}/test` (single-use nonce): queues a
/// test event (or message), sent like any delivery.
pub(super) async fn test(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    match integ::send_test(&state, session.cx(&state), &id).await {
        Ok(_) => Ok(see_other(&format!(
            "{}?notice=test_queued#deliveries",
            path_of(&id)
        ))),
        Err(e) => {
            let shown = refusal::present(e, LABELS)?;
            refused_action(&state, &session, ep, shown).await
        }
    }
}

/// `POST /settings/integrations/{id}/rotate-secret` (single-use nonce): a
/// new secret signs from now on, shown once; the old one signs alongside
/// it for 24 hours.
pub(super) async fn rotate(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    match integ::rotate_secret(&state, session.cx(&state), &id).await {
        Ok((ep, secret)) => {
            let extras = Extras {
                new_secret: Some(secret.to_string()),
                ..Extras::default()
            };
            let resp = render_endpoint(&state, &session, ep, None, extras, StatusCode::OK).await?;
            Ok(show_at(resp, format!("{}#new-secret", path_of(&id))))
        }
        Err(e) => {
            let shown = refusal::present(e, LABELS)?;
            refused_action(&state, &session, ep, shown).await
        }
    }
}

/// `POST /settings/integrations/{id}/recover`: sends again every delivery
/// that failed since the time given (the agency's time zone).
pub(super) async fn recover(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    CsrfForm(mut form): CsrfForm<RecoverForm>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let since = match timefmt::parse_local(&form.since, &tz) {
        Err(_) => Err("Recover failed since: choose a date and time, like 2026-03-01T09:30."),
        Ok(ms) if ms > state.now() => Err("Recover failed since: must not be in the future."),
        Ok(ms) => Ok(ms),
    };
    match since {
        Ok(since) => match deliveries::recover(session.cx(&state), &id, since).await {
            Ok(n) => Ok(see_other(&format!(
                "{}?notice=recovered&n={n}#deliveries",
                path_of(&id)
            ))),
            // Refused while the endpoint is off: said above the log.
            Err(e) => {
                let shown = refusal::present(e, LABELS)?;
                refused_action(&state, &session, ep, shown).await
            }
        },
        Err(text) => {
            form.error = FieldError::new("since", text, &["since"]);
            let extras = Extras {
                recover: Some(form),
                ..Extras::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let resp = render_endpoint(&state, &session, ep, None, extras, status).await?;
            Ok(show_at(resp, format!("{}#recover", path_of(&id))))
        }
    }
}

/// `POST /settings/integrations/{id}/delete`: nothing more is sent to it;
/// its delivery log stays for the audit trail.
pub(super) async fn delete(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<EndpointId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    endpoint_of(&state, &session, &id).await?;
    integrations::delete(session.cx(&state), &id).await?;
    Ok(see_other(&format!("{PATH}?notice=endpoint_deleted")))
}

/// `POST /settings/integrations/{id}/deliveries/{delivery}/retry`: sends a
/// delivery that failed again now (refused while it is still pending).
pub(super) async fn retry(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, delivery)): WebPath<(EndpointId, DeliveryId)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let ep = endpoint_of(&state, &session, &id).await?;
    match deliveries::retry(session.cx(&state), &id, &delivery).await {
        Ok(_) => Ok(see_other(&format!(
            "{}?notice=delivery_retried#deliveries",
            path_of(&id)
        ))),
        Err(e) => {
            let shown = refusal::present(e, LABELS)?;
            refused_action(&state, &session, ep, shown).await
        }
    }
}
