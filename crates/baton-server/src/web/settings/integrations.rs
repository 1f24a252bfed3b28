//! Settings → Integrations (`/settings/integrations`), for admins: the
//! agency's signed outbound webhooks (Standard Webhooks), its Slack and
//! Teams channels and its inbound "deal won" endpoints, each with its add
//! form, and the event catalogue with an example body per topic.
//! `integrations_endpoint` is one endpoint's page (its settings, a test,
//! secret rotation, recovery and the delivery log); `integrations_view`
//! puts numbers and refusals in words.
//!
//! The rules are `crate::integrations`' and the store's, shared with the
//! API: these handlers parse, ask the policy and show. A new webhook's
//! secret and a new inbound endpoint's secret are shown once, on the page
//! that answers the form (kept sealed in its flash, see `web::prg`); the
//! create forms carry a single-use nonce.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::policy::{Action, Area, Subject};
use baton_core::types::InboundId;
use baton_store::integrations::{self, deliveries, inbound, Endpoint, Kind};
use baton_store::{clients, StoreError};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::integrations_endpoint as endpoint;
use super::integrations_view::{
    catalogue_view, channel_events_words, chosen, notice_checks, refuse, schedule_words,
    split_filters, success_words, FieldError, NoticeCheck, TopicView, CHANNEL_LABELS, LABELS,
};
use crate::auth::session::WebSession;
use crate::integrations::{self as integ, EndpointInput};
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, notice_text, render, see_other, Layout, Opt};
use crate::web::prg::show_at;
use crate::web::{timefmt, WebError};

pub(super) const PATH: &str = "/settings/integrations";

/// The integrations routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(page))
        .route("/settings/integrations/webhooks", post(create_webhook))
        .route("/settings/integrations/channels", post(create_channel))
        .route("/settings/integrations/inbound", post(create_inbound))
        .route(
            "/settings/integrations/inbound/{id}/delete",
            post(delete_inbound),
        )
        .route(
            "/settings/integrations/{id}",
            get(endpoint::page).post(endpoint::save),
        )
        .route("/settings/integrations/{id}/test", post(endpoint::test))
        .route(
            "/settings/integrations/{id}/rotate-secret",
            post(endpoint::rotate),
        )
        .route(
            "/settings/integrations/{id}/recover",
            post(endpoint::recover),
        )
        .route("/settings/integrations/{id}/delete", post(endpoint::delete))
        .route(
            "/settings/integrations/{id}/deliveries/{delivery}/retry",
            post(endpoint::retry),
        )
}

/// Integrations are an admin's: the policy's `Integrations` area, which the
/// API asks too (a member who is not one gets the 403 page).
pub(super) fn require_admin(session: &WebSession) -> Result<(), WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Integrations))?;
    Ok(())
}

/// The notices of these pages, then the app's shared ones.
pub(super) fn notice(q: Option<&QueryData>) -> Option<String> {
    let q = q?;
    let text = match q.get("notice")? {
        "channel_added" => "Channel added. Send a test message from its page to see it arrive.",
        "endpoint_saved" => "Saved.",
        "endpoint_deleted" => {
            "Deleted: nothing more is sent to it. Its delivery log is kept for the audit trail."
        }
        "inbound_deleted" => "Inbound endpoint deleted: posts to its URL are refused from now on.",
        "test_queued" => "Test queued: it is sent like any delivery and shows in the log below.",
        "delivery_retried" => {
            "Delivery queued again: it is sent now, as a new round of the retry schedule."
        }
        "recovered" => {
            // A number only, so the query cannot put text on the page.
            let n: usize = q.get("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            return Some(match n {
                0 => "No failed deliveries since then: nothing to send again.".into(),
                1 => "1 failed delivery is being sent again.".into(),
                n => format!("{n} failed deliveries are being sent again."),
            });
        }
        other => notice_text(other)?,
    };
    Some(text.to_string())
}

/// The client choices of a form: every client not archived by name, and
/// the one chosen even when archived.
pub(super) async fn client_opts(
    state: &AppState,
    agency_id: &str,
    current: &str,
) -> Result<Vec<Opt>, WebError> {
    let mut opts = vec![Opt::new("", "All clients", current)];
    for s in clients::summaries(&state.db, agency_id, false).await? {
        opts.push(Opt::new(s.client.id.to_string(), s.client.name, current));
    }
    if !current.is_empty() && !opts.iter().any(|o| o.value == current) {
        if let Ok(c) = clients::get(&state.db, agency_id, current).await {
            let label = format!("{} (archived)", c.name);
            opts.push(Opt::new(current, label, current));
        }
    }
    Ok(opts)
}

/// The kinds a channel can be.
pub(super) fn kind_opts(current: &str) -> Vec<Opt> {
    [Kind::Slack, Kind::Teams]
        .into_iter()
        .map(|k| Opt::new(k.key(), k.label(), current))
        .collect()
}

/// An outbound endpoint as a line of the list.
pub struct EndpointRow {
    pub id: String,
    pub kind: &'static str,
    pub url: String,
    pub description: String,
    /// A webhook's filters, or a channel's notices by label.
    pub events: String,
    /// Only this client's events, by name.
    pub client: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The last 7 days, in words.
    pub success: String,
}

impl EndpointRow {
    async fn of(state: &AppState, e: Endpoint) -> Result<EndpointRow, WebError> {
        let since = state.now() - 7 * 86_400_000;
        let (ok, total) = deliveries::success_rate(&state.db, &e.agency_id, &e.id, since).await?;
        Ok(EndpointRow {
            kind: e.kind.label(),
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
            success: success_words(ok, total),
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
        })
    }
}

/// An inbound endpoint as a line of the list.
pub struct InboundRow {
    pub id: String,
    pub name: String,
    pub url: String,
    pub created: String,
    /// In the agency's time, with its age; `None`: nothing yet.
    pub last_received: Option<timefmt::Stamp>,
}

/// The add-a-webhook form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WebhookForm {
    pub url: String,
    /// Filters separated by commas: `client.*, access.verified`.
    pub events: String,
    pub description: String,
    pub client: String,
    #[serde(skip)]
    pub error: FieldError,
}

const WEBHOOK_FIELDS: &[&str] = &["url", "events", "description", "client"];

/// The add-a-channel form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChannelForm {
    pub kind: String,
    pub url: String,
    /// Keys of the notices ticked.
    pub notices: Vec<String>,
    /// Other event filters, as for a webhook.
    pub more_events: String,
    pub description: String,
    pub client: String,
    #[serde(skip)]
    pub error: FieldError,
}

const CHANNEL_FIELDS: &[&str] = &["kind", "url", "events", "description", "client"];

/// The add-an-inbound-endpoint form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InboundForm {
    pub name: String,
    #[serde(skip)]
    pub error: FieldError,
}

/// A webhook just made, with its secret (shown this once).
pub struct NewWebhook {
    pub id: String,
    pub url: String,
    pub secret: String,
}

/// An inbound endpoint just made: where to post and its secret (shown this
/// once).
pub struct NewInbound {
    pub name: String,
    pub url: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "settings_integrations.html")]
struct ListPage {
    layout: Layout,
    /// The notice after a change (some carry a count).
    notice: Option<String>,
    /// The settings section for `access_subnav.html`.
    sub: &'static str,
    webhooks: Vec<EndpointRow>,
    channels: Vec<EndpointRow>,
    inbound: Vec<InboundRow>,
    webhook_form: WebhookForm,
    webhook_clients: Vec<Opt>,
    channel_form: ChannelForm,
    channel_kinds: Vec<Opt>,
    channel_notices: Vec<NoticeCheck>,
    channel_clients: Vec<Opt>,
    inbound_form: InboundForm,
    new_webhook: Option<NewWebhook>,
    new_inbound: Option<NewInbound>,
    topics: Vec<TopicView>,
    /// The retry schedule in words.
    schedule: String,
}

/// What the list shows besides the endpoints.
#[derive(Default)]
struct Extras {
    webhook_form: Option<WebhookForm>,
    channel_form: Option<ChannelForm>,
    inbound_form: Option<InboundForm>,
    new_webhook: Option<NewWebhook>,
    new_inbound: Option<NewInbound>,
}

async fn render_list(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz: TimeZone = timefmt::zone(&agency.timezone);
    let agency_id = session.agency_id();
    let now = state.now();
    let mut webhooks = Vec::new();
    let mut channels = Vec::new();
    let all = integrations::list(
        &state.db,
        agency_id,
        &[Kind::Webhook, Kind::Slack, Kind::Teams],
    )
    .await?;
    for e in all {
        let channel = e.kind.is_channel();
        let row = EndpointRow::of(state, e).await?;
        if channel {
            channels.push(row);
        } else {
            webhooks.push(row);
        }
    }
    let inbound = inbound::list(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|e| InboundRow {
            url: integ::inbound_url(state, &e.id),
            created: timefmt::local_date(e.created_at, &tz),
            last_received: e.last_received_at.map(|at| timefmt::stamp(at, now, &tz)),
            id: e.id,
            name: e.name,
        })
        .collect();
    let webhook_form = extras.webhook_form.unwrap_or_default();
    let channel_form = extras.channel_form.unwrap_or_else(|| ChannelForm {
        kind: Kind::Slack.key().into(),
        ..ChannelForm::default()
    });
    let page = ListPage {
        layout: Layout::app(&agency, session, "Integrations", "settings"),
        notice: notice(q),
        sub: "integrations",
        webhooks,
        channels,
        inbound,
        webhook_clients: client_opts(state, agency_id, &webhook_form.client).await?,
        channel_clients: client_opts(state, agency_id, &channel_form.client).await?,
        channel_kinds: kind_opts(&channel_form.kind),
        channel_notices: notice_checks(&channel_form.notices),
        webhook_form,
        channel_form,
        inbound_form: extras.inbound_form.unwrap_or_default(),
        new_webhook: extras.new_webhook,
        new_inbound: extras.new_inbound,
        topics: catalogue_view(),
        schedule: schedule_words(&state.config.webhook_retry),
    };
    Ok(render(status, &page))
}

/// `GET /settings/integrations`
async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    render_list(
        &state,
        &session,
        Some(&q),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/integrations/webhooks` (single-use nonce): adds a
/// webhook and shows its secret once, or the form again with the refusal
/// at its field.
async fn create_webhook(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut form): CsrfForm<WebhookForm>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let events = split_filters(&form.events);
    let refused = |field: &str, text: &str| {
        Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldError::new(field, text, WEBHOOK_FIELDS),
        ))
    };
    let made = if form.url.trim().is_empty() {
        refused("url", "URL: paste the address of the receiver, https://…")
    } else if events.is_empty() {
        refused(
            "events",
            "Events: write at least one, such as client.* or * for every event.",
        )
    } else {
        let input = EndpointInput {
            kind: Kind::Webhook,
            url: form.url.clone(),
            events,
            description: Some(form.description.trim().to_string()),
            client_id: chosen(&form.client),
        };
        match integ::create_endpoint(&state, session.cx(&state), input).await {
            Ok(made) => Ok(made),
            Err(e) => Err(refuse(e, LABELS, WEBHOOK_FIELDS)?),
        }
    };
    match made {
        Ok((ep, secret)) => {
            let extras = Extras {
                new_webhook: Some(NewWebhook {
                    secret: secret.map(|s| s.to_string()).unwrap_or_default(),
                    id: ep.id,
                    url: ep.url,
                }),
                ..Extras::default()
            };
            let resp = render_list(&state, &session, None, extras, StatusCode::OK).await?;
            Ok(show_at(resp, format!("{PATH}#new-webhook")))
        }
        Err((status, error)) => {
            form.error = error;
            let extras = Extras {
                webhook_form: Some(form),
                ..Extras::default()
            };
            let resp = render_list(&state, &session, None, extras, status).await?;
            Ok(show_at(resp, format!("{PATH}#add-webhook")))
        }
    }
}

/// `POST /settings/integrations/channels` (single-use nonce): adds a Slack
/// or Teams channel (its URL kept sealed, shown masked).
async fn create_channel(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut form): CsrfForm<ChannelForm>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let mut events: Vec<String> = form.notices.clone();
    events.extend(split_filters(&form.more_events));
    let refused = |field: &str, text: &str| {
        Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldError::new(field, text, CHANNEL_FIELDS),
        ))
    };
    let made = match Kind::parse(form.kind.trim()).filter(|k| k.is_channel()) {
        None => refused("kind", "Kind: choose Slack or Microsoft Teams."),
        Some(_) if form.url.trim().is_empty() => refused(
            "url",
            "URL: paste the channel's incoming-webhook address, https://…",
        ),
        Some(_) if events.is_empty() => refused(
            "events",
            "Notices: choose at least one notice for the channel.",
        ),
        Some(kind) => {
            let input = EndpointInput {
                kind,
                url: form.url.clone(),
                events,
                description: Some(form.description.trim().to_string()),
                client_id: chosen(&form.client),
            };
            match integ::create_endpoint(&state, session.cx(&state), input).await {
                Ok(_) => Ok(()),
                Err(e) => Err(refuse(e, CHANNEL_LABELS, CHANNEL_FIELDS)?),
            }
        }
    };
    match made {
        Ok(()) => Ok(see_other(&format!("{PATH}?notice=channel_added#channels"))),
        Err((status, error)) => {
            form.error = error;
            let extras = Extras {
                channel_form: Some(form),
                ..Extras::default()
            };
            let resp = render_list(&state, &session, None, extras, status).await?;
            Ok(show_at(resp, format!("{PATH}#add-channel")))
        }
    }
}

/// `POST /settings/integrations/inbound` (single-use nonce): adds an
/// inbound endpoint and shows its URL and secret once.
async fn create_inbound(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut form): CsrfForm<InboundForm>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    match integ::create_inbound(&state, session.cx(&state), &form.name).await {
        Ok((ep, secret)) => {
            let extras = Extras {
                new_inbound: Some(NewInbound {
                    url: integ::inbound_url(&state, &ep.id),
                    name: ep.name,
                    secret: secret.to_string(),
                }),
                ..Extras::default()
            };
            let resp = render_list(&state, &session, None, extras, StatusCode::OK).await?;
            Ok(show_at(resp, format!("{PATH}#new-inbound")))
        }
        Err(e) => {
            let (status, error) = refuse(e, LABELS, &["name"])?;
            form.error = error;
            let extras = Extras {
                inbound_form: Some(form),
                ..Extras::default()
            };
            let resp = render_list(&state, &session, None, extras, status).await?;
            Ok(show_at(resp, format!("{PATH}#add-inbound")))
        }
    }
}

/// `POST /settings/integrations/inbound/{id}/delete`: posts to it are
/// refused from now on.
async fn delete_inbound(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<InboundId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    match inbound::delete(session.cx(&state), &id).await {
        Ok(()) => Ok(see_other(&format!("{PATH}?notice=inbound_deleted#inbound"))),
        Err(StoreError::NotFound) => Err(WebError::NotFound),
        Err(e) => Err(e.into()),
    }
}
