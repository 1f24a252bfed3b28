//! `/api/v1/webhooks` (signed outbound webhooks), `/api/v1/notification-channels`
//! (Slack and Teams), their delivery logs, retries and tests;
//! `/api/v1/inbound-endpoints` and `POST /api/v1/inbound/{id}`, where a CRM
//! or an automation tool posts signed events ("deal won"). Managing
//! integrations is an admin's (an `admin` token).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use baton_core::clock::{parse_rfc3339, rfc3339};
use baton_core::policy::{Action, Area, Subject as PolicySubject};
use baton_core::types::{DeliveryId, EndpointId, InboundId};
use baton_store::integrations::deliveries::{self, Delivery, LogRow};
use baton_store::integrations::inbound::InboundEndpoint;
use baton_store::integrations::{self, Endpoint, Kind};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::integrations::{self as integ, EndpointChange, EndpointInput};
use crate::state::AppState;

/// The operations that need a token (merged into [`super::operations`]).
pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(webhook_deliveries))
        .routes(routes!(retry_webhook_delivery))
        .routes(routes!(test_webhook))
        .routes(routes!(recover_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(channel_deliveries))
        .routes(routes!(retry_channel_delivery))
        .routes(routes!(test_channel))
        .routes(routes!(recover_channel))
        .routes(routes!(list_inbound, create_inbound))
        .routes(routes!(event_types))
        .routes(routes!(delete_inbound))
}

/// The operation a sender calls with its own signature instead of a token.
pub(super) fn public_operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_inbound))
}

/// Refuses (403) unless the policy lets this token's member manage the
/// integrations (an admin through an `admin` token), as the settings
/// pages ask it.
fn manage(caller: &ApiCaller) -> ApiResult<()> {
    caller.can(
        &caller.principal(),
        Action::Administer,
        PolicySubject::Setting(Area::Integrations),
    )
}

/// Attempts in the last 7 days and how many succeeded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessRate {
    pub attempts: i64,
    pub succeeded: i64,
    /// `succeeded / attempts`, or `null` with no attempts.
    pub rate: Option<f64>,
}

async fn success_rate(state: &AppState, e: &Endpoint) -> ApiResult<SuccessRate> {
    let since = state.now() - 7 * 86_400_000;
    let (ok, n) = deliveries::success_rate(&state.db, &e.agency_id, &e.id, since).await?;
    Ok(SuccessRate {
        attempts: n,
        succeeded: ok,
        rate: (n > 0).then(|| ok as f64 / n as f64),
    })
}

/// An outbound webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// `whk_…`
    pub id: String,
    pub url: String,
    pub description: String,
    /// Event filters: a topic (`access.verified`), a namespace
    /// (`client.*`) or `*`.
    pub events: Vec<String>,
    /// Only this client's events, when set.
    pub client_id: Option<String>,
    pub enabled: bool,
    /// Why delivery turned it off (`410 Gone`, five days of failures).
    pub disabled_reason: Option<String>,
    /// While a rotated-out secret still signs alongside the new one.
    pub previous_secret_until: Option<String>,
    pub success_7d: SuccessRate,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookOut {
    async fn of(state: &AppState, e: Endpoint) -> ApiResult<WebhookOut> {
        let now = state.now();
        Ok(WebhookOut {
            success_7d: success_rate(state, &e).await?,
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            client_id: e.client_id,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            previous_secret_until: e.old_secret_until.filter(|u| *u > now).map(rfc3339),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        })
    }
}

/// A webhook with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookOut,
    /// `whsec_` + base64: verify `webhook-signature` with it (Standard
    /// Webhooks). Not shown again.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookOut>,
}

/// A new webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://…` (http and private addresses only on a server started with
    /// `BATON_WEBHOOK_ALLOW_PRIVATE=1`). A name that resolves to a loopback,
    /// private, link-local or metadata address is refused.
    #[schema(schema_with = super::openapi::webhook_url)]
    pub url: String,
    /// 1–50 filters: `client.*`, `access.verified`, `*`; see the event
    /// catalogue (`GET /api/v1/webhook-event-types`).
    #[schema(schema_with = super::openapi::event_filters)]
    pub events: Vec<String>,
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub description: Option<String>,
    /// Only this client's events (`cli_…`).
    #[schema(schema_with = super::openapi::client_id_or_null)]
    pub client_id: Option<String>,
}

/// The store names the client filter `client` (as the settings form does);
/// this API's field is `client_id`.
fn client_id_field(e: baton_store::StoreError) -> ApiError {
    match ApiError::from(e) {
        ApiError::Invalid { field, message } if field == "client" => ApiError::Invalid {
            field: "client_id".into(),
            message,
        },
        other => other,
    }
}

/// Refuses filters written with spaces around them (the document forbids
/// them; the settings page trims its own input).
fn strict_filters(events: &[String]) -> ApiResult<()> {
    if events.iter().any(|e| e.trim() != e) {
        return Err(ApiError::invalid(
            "events",
            "an entry has spaces around it; write client.* or access.verified",
        ));
    }
    Ok(())
}

#[utoipa::path(post, operation_id = "createWebhook", path = "/webhooks", tag = "integrations",
    request_body = CreateWebhook,
    responses((status = 201, body = WebhookWithSecret), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<CreateWebhook>,
) -> ApiResult<Response> {
    manage(&caller)?;
    strict_filters(&b.events)?;
    let (ep, secret) = integ::create_endpoint(
        &state,
        caller.cx(&state),
        EndpointInput {
            kind: Kind::Webhook,
            url: b.url,
            events: b.events,
            description: b.description,
            client_id: b.client_id,
        },
    )
    .await
    .map_err(client_id_field)?;
    let out = WebhookWithSecret {
        webhook: WebhookOut::of(&state, ep).await?,
        secret: secret.map(|s| s.to_string()).unwrap_or_default(),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut()
        .insert(super::idempotency::SecretInBody);
    Ok(resp)
}

#[utoipa::path(get, operation_id = "listWebhooks", path = "/webhooks", tag = "integrations",
    responses((status = 200, body = WebhookList), (status = 403)), security(("bearer" = [])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<WebhookList>> {
    manage(&caller)?;
    let mut items = Vec::new();
    for e in integrations::list(&state.db, caller.agency_id(), &[Kind::Webhook]).await? {
        items.push(WebhookOut::of(&state, e).await?);
    }
    Ok(Json(WebhookList { items }))
}

/// An endpoint of the agency of `kind`'s family (webhook, or channel).
async fn endpoint_of(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
) -> ApiResult<Endpoint> {
    let ep = integrations::get(&state.db, caller.agency_id(), id).await?;
    if ep.kind.is_channel() != channel {
        return Err(ApiError::NotFound);
    }
    Ok(ep)
}

#[utoipa::path(get, operation_id = "getWebhook", path = "/webhooks/{id}", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<Json<WebhookOut>> {
    manage(&caller)?;
    let ep = endpoint_of(&state, &caller, &id, false).await?;
    Ok(Json(WebhookOut::of(&state, ep).await?))
}

/// A change to a webhook or channel; fields left out stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    #[schema(schema_with = super::openapi::webhook_url_or_null)]
    pub url: Option<String>,
    #[schema(schema_with = super::openapi::event_filters_or_null)]
    pub events: Option<Vec<String>>,
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub description: Option<String>,
    /// `null` removes the client filter.
    #[serde(default, deserialize_with = "some_nullable")]
    #[schema(schema_with = super::openapi::client_id_or_null)]
    pub client_id: Option<Option<String>>,
    /// `true` turns the endpoint back on (and forgets its failures).
    pub enabled: Option<bool>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn some_nullable<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Some(Option::<String>::deserialize(d)?))
}

fn change_of(
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    client_id: Option<Option<String>>,
    enabled: Option<bool>,
) -> ApiResult<EndpointChange> {
    if let Some(e) = &events {
        strict_filters(e)?;
    }
    Ok(EndpointChange {
        url,
        description: description.map(|d| d.trim().to_string()),
        events,
        client_id,
        enabled,
    })
}

/// `PATCH` of a webhook (`channel` false) or a channel.
async fn update(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
    b: UpdateEndpoint,
) -> ApiResult<Endpoint> {
    manage(caller)?;
    endpoint_of(state, caller, id, channel).await?;
    let change = change_of(b.url, b.events, b.description, b.client_id, b.enabled)?;
    integ::update_endpoint(state, caller.cx(state), id, change)
        .await
        .map_err(client_id_field)
}

/// `DELETE` of a webhook (`channel` false) or a channel.
async fn remove(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
) -> ApiResult<StatusCode> {
    manage(caller)?;
    endpoint_of(state, caller, id, channel).await?;
    integrations::delete(caller.cx(state), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, operation_id = "updateWebhook", path = "/webhooks/{id}", tag = "integrations",
    params(("id" = String, Path)), request_body = UpdateEndpoint,
    responses((status = 200, body = WebhookOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiJson(b): ApiJson<UpdateEndpoint>,
) -> ApiResult<Json<WebhookOut>> {
    let ep = update(&state, &caller, &id, false, b).await?;
    Ok(Json(WebhookOut::of(&state, ep).await?))
}

#[utoipa::path(delete, operation_id = "deleteWebhook", path = "/webhooks/{id}", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<StatusCode> {
    remove(&state, &caller, &id, false).await
}

/// `?delivery=&limit=&cursor=` of a delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only this delivery's attempts (`dlv_…`).
    #[param(schema_with = super::openapi::delivery_id)]
    pub delivery: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::attempt_cursor)]
    pub cursor: Option<String>,
}

/// One attempt of a delivery, newest first: the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    /// `dlv_…`: the delivery (one event to this endpoint).
    pub delivery_id: String,
    /// The `webhook-id` sent: the event's id, the same on every attempt.
    pub webhook_id: String,
    pub event_type: String,
    /// 1 for the first attempt of the delivery.
    pub attempt: i64,
    pub attempted_at: String,
    /// The receiver's HTTP status; `null` when no answer came.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub succeeded: bool,
    /// Why it failed: `HTTP 500`, a Slack error code, a timeout, a refused
    /// address.
    pub error: Option<String>,
    /// The start of what the receiver answered (at most 500 characters).
    pub response_excerpt: Option<String>,
    /// The delivery's state now: `pending`, `succeeded` or `failed`.
    pub delivery_state: String,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<String>,
}

impl From<LogRow> for AttemptOut {
    fn from(r: LogRow) -> Self {
        AttemptOut {
            delivery_id: r.delivery_id,
            webhook_id: r.event_id,
            event_type: r.event_type,
            attempt: r.attempt,
            attempted_at: rfc3339(r.started_at),
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            succeeded: r.succeeded,
            error: r.error,
            response_excerpt: r.response_excerpt,
            delivery_state: r.state,
            next_attempt_at: r.next_attempt_at.map(rfc3339),
        }
    }
}

async fn log_of(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
    q: LogQuery,
) -> ApiResult<Json<PageOut<AttemptOut>>> {
    manage(caller)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    endpoint_of(state, caller, id, channel).await?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    if let Some(c) = cursor {
        let parts: Vec<&str> = c.split(':').collect();
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        let shaped = parts.len() == 3
            && digits(parts[0], 15)
            && baton_core::ids::has_shape(parts[1], baton_core::ids::DELIVERY)
            && digits(parts[2], 6);
        if !shaped {
            return Err(ApiError::invalid("cursor", "not a cursor from this list"));
        }
    }
    let delivery = match q.delivery.as_deref() {
        None | Some("") => None,
        Some(d) => Some(
            DeliveryId::parse(d)
                .map_err(|_| ApiError::invalid("delivery", "is not a delivery id (dlv_…)"))?,
        ),
    };
    let page = deliveries::log(
        &state.db,
        caller.agency_id(),
        id,
        delivery.as_deref(),
        cursor,
        q.limit,
    )
    .await?;
    Ok(Json(PageOut::map(page, AttemptOut::from)))
}

#[utoipa::path(get, operation_id = "listWebhookDeliveries", path = "/webhooks/{id}/deliveries", tag = "integrations",
    params(("id" = String, Path), LogQuery),
    responses((status = 200, body = PageOut<AttemptOut>), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<PageOut<AttemptOut>>> {
    log_of(&state, &caller, &id, false, q).await
}

/// A delivery: one event to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// `dlv_…`
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        DeliveryOut {
            id: d.id,
            webhook_id: d.event_id,
            event_type: d.event_type,
            state: d.state,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
        }
    }
}

#[utoipa::path(post, operation_id = "retryWebhookDelivery", path = "/webhooks/{id}/deliveries/{delivery}/retry", tag = "integrations",
    params(("id" = String, Path), ("delivery" = String, Path)),
    responses((status = 202, body = DeliveryOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn retry_webhook_delivery(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, delivery)): ApiPath<(EndpointId, DeliveryId)>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    retry(&state, &caller, &id, &delivery, false).await
}

async fn retry(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    delivery: &DeliveryId,
    channel: bool,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    manage(caller)?;
    endpoint_of(state, caller, id, channel).await?;
    let d = deliveries::retry(caller.cx(state), id, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

#[utoipa::path(post, operation_id = "testWebhook", path = "/webhooks/{id}/test", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 202, body = DeliveryOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn test_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    test(&state, &caller, &id, false).await
}

async fn test(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    manage(caller)?;
    endpoint_of(state, caller, id, channel).await?;
    let d = integ::send_test(state, caller.cx(state), id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

/// Which failed deliveries to send again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverIn {
    /// Every failed delivery made since this time (RFC 3339, not in the
    /// future).
    #[schema(schema_with = super::openapi::time)]
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recovered {
    /// How many failed deliveries are being sent again.
    pub recovered: usize,
}

#[utoipa::path(post, operation_id = "recoverWebhook", path = "/webhooks/{id}/recover", tag = "integrations",
    params(("id" = String, Path)), request_body = RecoverIn,
    responses((status = 202, body = Recovered), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn recover_webhook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiJson(b): ApiJson<RecoverIn>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    recover(&state, &caller, &id, false, &b.since).await
}

async fn recover(
    state: &AppState,
    caller: &ApiCaller,
    id: &EndpointId,
    channel: bool,
    since: &str,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    manage(caller)?;
    let since = parse_rfc3339(since)
        .ok_or_else(|| ApiError::invalid("since", "must be a time like 2026-12-01T09:00:00Z"))?;
    if since > state.now() {
        return Err(ApiError::invalid("since", "must not be in the future"));
    }
    endpoint_of(state, caller, id, channel).await?;
    let recovered = deliveries::recover(caller.cx(state), id, since).await?;
    Ok((StatusCode::ACCEPTED, Json(Recovered { recovered })))
}

#[utoipa::path(post, operation_id = "rotateWebhookSecret", path = "/webhooks/{id}/rotate-secret", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookWithSecret), (status = 404)), security(("bearer" = [])))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<Response> {
    manage(&caller)?;
    endpoint_of(&state, &caller, &id, false).await?;
    let (ep, secret) = integ::rotate_secret(&state, caller.cx(&state), &id).await?;
    let out = WebhookWithSecret {
        webhook: WebhookOut::of(&state, ep).await?,
        secret: secret.to_string(),
    };
    let mut resp = Json(out).into_response();
    resp.extensions_mut()
        .insert(super::idempotency::SecretInBody);
    Ok(resp)
}

// ---- Slack and Teams channels ----

/// A Slack or Teams channel. Its URL is a secret: only its masked form is
/// shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelOut {
    /// `whk_…`
    pub id: String,
    /// `slack` or `teams`.
    pub kind: String,
    /// The URL, masked: host and last four characters.
    pub url: String,
    pub description: String,
    /// The topics it is told about.
    pub events: Vec<String>,
    pub client_id: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub success_7d: SuccessRate,
    pub created_at: String,
    pub updated_at: String,
}

impl ChannelOut {
    async fn of(state: &AppState, e: Endpoint) -> ApiResult<ChannelOut> {
        Ok(ChannelOut {
            success_7d: success_rate(state, &e).await?,
            id: e.id,
            kind: e.kind.key().into(),
            url: e.url,
            description: e.description,
            events: e.events,
            client_id: e.client_id,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub items: Vec<ChannelOut>,
}

/// A new Slack or Teams channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// `slack` (an incoming-webhook URL) or `teams` (a Workflows webhook URL).
    #[schema(schema_with = super::openapi::channel_kind)]
    pub kind: String,
    #[schema(schema_with = super::openapi::webhook_url)]
    pub url: String,
    /// Which notices go there: `sop_at_risk`, `sop_breached`,
    /// `approvals_waiting`, `client_decisions`, `access`, `incidents`,
    /// `scorecard`, or event filters like `access.verified`.
    #[schema(schema_with = super::openapi::event_filters)]
    pub events: Vec<String>,
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub description: Option<String>,
    /// Only this client's notices (`cli_…`).
    #[schema(schema_with = super::openapi::client_id_or_null)]
    pub client_id: Option<String>,
}

#[utoipa::path(post, operation_id = "createNotificationChannel", path = "/notification-channels", tag = "integrations",
    request_body = CreateChannel,
    responses((status = 201, body = ChannelOut), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<CreateChannel>,
) -> ApiResult<(StatusCode, Json<ChannelOut>)> {
    manage(&caller)?;
    let kind = match Kind::parse(&b.kind) {
        Some(k) if k.is_channel() => k,
        _ => return Err(ApiError::invalid("kind", "must be slack or teams")),
    };
    strict_filters(&b.events)?;
    let (ep, _) = integ::create_endpoint(
        &state,
        caller.cx(&state),
        EndpointInput {
            kind,
            url: b.url,
            events: b.events,
            description: b.description,
            client_id: b.client_id,
        },
    )
    .await
    .map_err(client_id_field)?;
    Ok((StatusCode::CREATED, Json(ChannelOut::of(&state, ep).await?)))
}

#[utoipa::path(get, operation_id = "listNotificationChannels", path = "/notification-channels", tag = "integrations",
    responses((status = 200, body = ChannelList), (status = 403)), security(("bearer" = [])))]
pub async fn list_channels(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<ChannelList>> {
    manage(&caller)?;
    let mut items = Vec::new();
    for e in integrations::list(&state.db, caller.agency_id(), &[Kind::Slack, Kind::Teams]).await? {
        items.push(ChannelOut::of(&state, e).await?);
    }
    Ok(Json(ChannelList { items }))
}

#[utoipa::path(get, operation_id = "getNotificationChannel", path = "/notification-channels/{id}", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 200, body = ChannelOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<Json<ChannelOut>> {
    manage(&caller)?;
    let ep = endpoint_of(&state, &caller, &id, true).await?;
    Ok(Json(ChannelOut::of(&state, ep).await?))
}

#[utoipa::path(patch, operation_id = "updateNotificationChannel", path = "/notification-channels/{id}", tag = "integrations",
    params(("id" = String, Path)), request_body = UpdateEndpoint,
    responses((status = 200, body = ChannelOut), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiJson(b): ApiJson<UpdateEndpoint>,
) -> ApiResult<Json<ChannelOut>> {
    let ep = update(&state, &caller, &id, true, b).await?;
    Ok(Json(ChannelOut::of(&state, ep).await?))
}

#[utoipa::path(delete, operation_id = "deleteNotificationChannel", path = "/notification-channels/{id}", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<StatusCode> {
    remove(&state, &caller, &id, true).await
}

#[utoipa::path(get, operation_id = "listNotificationChannelDeliveries", path = "/notification-channels/{id}/deliveries", tag = "integrations",
    params(("id" = String, Path), LogQuery),
    responses((status = 200, body = PageOut<AttemptOut>), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn channel_deliveries(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<PageOut<AttemptOut>>> {
    log_of(&state, &caller, &id, true, q).await
}

#[utoipa::path(post, operation_id = "retryNotificationChannelDelivery", path = "/notification-channels/{id}/deliveries/{delivery}/retry", tag = "integrations",
    params(("id" = String, Path), ("delivery" = String, Path)),
    responses((status = 202, body = DeliveryOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn retry_channel_delivery(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, delivery)): ApiPath<(EndpointId, DeliveryId)>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    retry(&state, &caller, &id, &delivery, true).await
}

#[utoipa::path(post, operation_id = "testNotificationChannel", path = "/notification-channels/{id}/test", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 202, body = DeliveryOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn test_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
) -> ApiResult<(StatusCode, Json<DeliveryOut>)> {
    test(&state, &caller, &id, true).await
}

#[utoipa::path(post, operation_id = "recoverNotificationChannel", path = "/notification-channels/{id}/recover", tag = "integrations",
    params(("id" = String, Path)), request_body = RecoverIn,
    responses((status = 202, body = Recovered), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn recover_channel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<EndpointId>,
    ApiJson(b): ApiJson<RecoverIn>,
) -> ApiResult<(StatusCode, Json<Recovered>)> {
    recover(&state, &caller, &id, true, &b.since).await
}

// ---- inbound ----

/// An inbound endpoint: where a CRM or automation posts signed events.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundOut {
    /// `inb_…`
    pub id: String,
    pub name: String,
    /// Where to post: `POST` Standard-Webhooks-signed JSON here.
    pub url: String,
    pub created_at: String,
    pub last_received_at: Option<String>,
}

impl InboundOut {
    fn of(state: &AppState, e: InboundEndpoint) -> InboundOut {
        InboundOut {
            url: integ::inbound_url(state, &e.id),
            id: e.id,
            name: e.name,
            created_at: rfc3339(e.created_at),
            last_received_at: e.last_received_at.map(rfc3339),
        }
    }
}

/// An inbound endpoint with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundWithSecret {
    #[serde(flatten)]
    pub endpoint: InboundOut,
    /// `whsec_…`: the sender signs with it (Standard Webhooks).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboundList {
    pub items: Vec<InboundOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbound {
    /// What posts here ("HubSpot deals").
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
}

#[utoipa::path(post, operation_id = "createInboundEndpoint", path = "/inbound-endpoints", tag = "integrations",
    request_body = CreateInbound,
    responses((status = 201, body = InboundWithSecret), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_inbound(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(b): ApiJson<CreateInbound>,
) -> ApiResult<Response> {
    manage(&caller)?;
    let (ep, secret) = integ::create_inbound(&state, caller.cx(&state), &b.name).await?;
    let out = InboundWithSecret {
        endpoint: InboundOut::of(&state, ep),
        secret: secret.to_string(),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut()
        .insert(super::idempotency::SecretInBody);
    Ok(resp)
}

#[utoipa::path(get, operation_id = "listInboundEndpoints", path = "/inbound-endpoints", tag = "integrations",
    responses((status = 200, body = InboundList), (status = 403)), security(("bearer" = [])))]
pub async fn list_inbound(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<InboundList>> {
    manage(&caller)?;
    let items = integrations::inbound::list(&state.db, caller.agency_id())
        .await?
        .into_iter()
        .map(|e| InboundOut::of(&state, e))
        .collect();
    Ok(Json(InboundList { items }))
}

#[utoipa::path(delete, operation_id = "deleteInboundEndpoint", path = "/inbound-endpoints/{id}", tag = "integrations",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_inbound(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<InboundId>,
) -> ApiResult<StatusCode> {
    manage(&caller)?;
    integrations::inbound::delete(caller.cx(&state), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an inbound post did.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundResult {
    /// `recorded`, or `duplicate` for a `webhook-id` already received
    /// (nothing recorded again).
    pub status: String,
    pub client_id: Option<String>,
    /// Whether the client was made by this event.
    pub client_created: bool,
    /// The `contract_signed` event recorded.
    pub event_id: Option<String>,
}

/// The body of a "deal won": `{"type":"contract_signed","client":{"external_id","name","website"?},"occurred_at"?}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InboundEvent {
    /// `contract_signed`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub event_type: String,
    pub client: Option<serde_json::Value>,
    /// When it happened (RFC 3339), if not now.
    pub occurred_at: Option<String>,
}

#[utoipa::path(post, operation_id = "receiveInbound", path = "/inbound/{id}", tag = "integrations",
    params(("id" = String, Path),
        ("webhook-id" = String, Header, description = "The message id; a replay is ignored"),
        ("webhook-timestamp" = String, Header, description = "Unix seconds; within 5 minutes of the server's clock"),
        ("webhook-signature" = String, Header, description = "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the endpoint's secret; space-separated when several")),
    request_body = InboundEvent,
    responses((status = 200, body = InboundResult), (status = 401, description = "missing or bad signature"),
        (status = 404), (status = 409, description = "the client cannot take the event"),
        (status = 422, description = "unknown type or bad fields; nothing recorded")))]
pub async fn receive_inbound(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<InboundId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<InboundResult>> {
    integ::inbound::receive(&state, &id, &headers, &body)
        .await
        .map(Json)
}

/// One topic of the event catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeOut {
    /// `client.contract_signed`, `access.verified`, …
    pub topic: String,
    pub means: String,
    /// The body a webhook receives for it (example values).
    #[schema(value_type = Object)]
    pub example: serde_json::Value,
}

/// A notice a Slack or Teams channel can choose.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelNoticeOut {
    /// Use it in a channel's `events`.
    pub key: String,
    pub label: String,
    pub topics: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub items: Vec<EventTypeOut>,
    pub channel_notices: Vec<ChannelNoticeOut>,
}

#[utoipa::path(get, operation_id = "listWebhookEventTypes", path = "/webhook-event-types", tag = "integrations",
    responses((status = 200, body = EventTypeList)), security(("bearer" = [])))]
pub async fn event_types(caller: ApiCaller) -> ApiResult<Json<EventTypeList>> {
    caller.require(Scope::Read)?;
    use crate::integrations::catalogue;
    Ok(Json(EventTypeList {
        items: catalogue::TOPICS
            .iter()
            .map(|t| EventTypeOut {
                topic: t.topic.into(),
                means: t.means.into(),
                example: catalogue::example_body(t),
            })
            .collect(),
        channel_notices: catalogue::CHANNEL_NOTICES
            .iter()
            .map(|n| ChannelNoticeOut {
                key: n.key.into(),
                label: n.label.into(),
                topics: n.filters.iter().map(|f| f.to_string()).collect(),
            })
            .collect(),
    }))
}
