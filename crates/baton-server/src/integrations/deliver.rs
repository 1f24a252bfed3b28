//! Where events reach webhooks and channels. The event's outbox job fans it
//! out (one delivery per endpoint that wants it, the body frozen then); the
//! delivery loop claims each attempt through the outbox's lease, signs and
//! sends it, and records the attempt together with what follows: done, the
//! next attempt on the retry schedule, or failed. Several servers send each
//! attempt once; a crash mid-send leaves the lease to run out and the
//! attempt is made again, never lost. Ordering is not promised: receivers
//! use `webhook-id` (the event id) to drop duplicates.

use std::time::Duration;

use baton_core::types::AgencyId;
use baton_core::webhooks::{self, WebhookSecret};
use baton_store::events::{self, Event};
use baton_store::integrations::deliveries::{self, AttemptOutcome, Delivery, NewDelivery, Next};
use baton_store::integrations::{self, Endpoint, Kind};
use baton_store::outbox::{self, Job, Lane};
use baton_store::{Actor, Cx, StoreError};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::watch;

use super::messages;
use crate::state::AppState;

/// An attempt's lease: longer than the 15 s timeout of a send, with room
/// for the attempts sent before it in the same pass.
const LEASE_MS: i64 = 120_000;
const BATCH: i64 = 32;
/// Sends at once per server.
const CONCURRENCY: usize = 8;
/// Failing every attempt this long turns an endpoint off.
pub const DISABLE_AFTER_MS: i64 = 5 * 86_400_000;

/// The body a webhook receives: `{"type","timestamp","data"}`, the data
/// being the event as `GET /api/v1/events` serves it.
pub fn webhook_body(e: &Event) -> String {
    json!({
        "type": e.topic,
        "timestamp": baton_core::clock::rfc3339(e.occurred_at),
        "data": crate::api::dto::EventOut::from(e.clone()),
    })
    .to_string()
}

/// What `endpoint` is sent for `e`.
fn body_for(state: &AppState, endpoint: &Endpoint, e: &Event, client_name: Option<&str>) -> String {
    match endpoint.kind {
        Kind::Webhook => webhook_body(e),
        Kind::Slack | Kind::Teams => {
            let m = messages::for_event(e, client_name, &state.config.public_url);
            let v = if endpoint.kind == Kind::Slack {
                messages::slack_body(&m)
            } else {
                messages::teams_body(&m)
            };
            v.to_string()
        }
    }
}

/// Makes the deliveries of event `event_id` to the agency's endpoints that
/// want it (made after the endpoint was). Returns how many were new.
pub async fn fan_out(
    state: &AppState,
    agency: &AgencyId,
    event_id: &str,
) -> Result<usize, StoreError> {
    let endpoints = integrations::enabled(&state.db, agency.as_str()).await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let e = match events::get(&state.db, agency.as_str(), event_id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => return Ok(0),
        Err(err) => return Err(err),
    };
    let wanted: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|ep| ep.created_at <= e.recorded_at)
        .filter(|ep| ep.wants(&e.event_type, &e.topic, e.client_id.as_deref()))
        .collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    let client_name = match &e.client_id {
        Some(c) if wanted.iter().any(|ep| ep.kind.is_channel()) => {
            match baton_store::clients::get(&state.db, agency.as_str(), c).await {
                Ok(client) => Some(client.name),
                Err(StoreError::NotFound) => None,
                Err(err) => return Err(err),
            }
        }
        _ => None,
    };
    let batch: Vec<NewDelivery> = wanted
        .iter()
        .map(|ep| NewDelivery {
            endpoint_id: ep.id.clone(),
            event_id: e.id.clone(),
            event_type: e.topic.clone(),
            body: body_for(state, ep, &e, client_name.as_deref()),
        })
        .collect();
    deliveries::fan_out(&state.db, agency.as_str(), &batch, state.now()).await
}

/// The delivery a test sends to `endpoint`: a `webhook.test` event of its
/// own id, nothing recorded in the event log.
pub fn test_delivery(state: &AppState, endpoint: &Endpoint, member_label: &str) -> NewDelivery {
    let now = state.now();
    let id = baton_core::ids::new_id("msg", now);
    let e = Event {
        id: id.clone(),
        seq: 0,
        client_id: endpoint.client_id.clone(),
        event_type: "webhook.test".into(),
        topic: "webhook.test".into(),
        entity_type: "integration_endpoint".into(),
        entity_id: endpoint.id.clone(),
        occurred_at: now,
        recorded_at: now,
        actor_kind: "member".into(),
        actor_id: String::new(),
        actor_label: member_label.into(),
        note: None,
        data: json!({"message": "A test event from Baton."}),
    };
    NewDelivery {
        endpoint_id: endpoint.id.clone(),
        event_id: id,
        event_type: "webhook.test".into(),
        body: body_for(state, endpoint, &e, endpoint.client_name.as_deref()),
    }
}

/// Runs until `shutdown` turns true.
pub async fn delivery_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        match run_once(&state).await {
            // More may be due right away.
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivery pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// One pass: claims the due delivery attempts and sends them, a few at a
/// time. Returns how many were handled.
pub async fn run_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.now();
    if !outbox::any_due_lane(&state.db, now, Lane::Deliveries).await? {
        return Ok(0);
    }
    let jobs = outbox::claim_lane(&state.db, now, LEASE_MS, BATCH, Lane::Deliveries).await?;
    let n = jobs.len();
    futures_util::stream::iter(jobs)
        .for_each_concurrent(CONCURRENCY, |job| async move {
            if let Err(e) = attempt(state, &job).await {
                // The lease runs out and the attempt is made again.
                tracing::warn!(job = %job.id, error = %e, "delivery attempt not recorded; will retry");
            }
        })
        .await;
    Ok(n)
}

/// The secrets that sign now: the current one, and the one it replaced
/// while that still signs.
fn signing_secrets(
    state: &AppState,
    ep: &Endpoint,
    now: i64,
) -> Result<Vec<WebhookSecret>, String> {
    let key = &state.config.secret_key;
    let open = |sealed: &str| {
        crate::sealed::open(key, &ep.id, sealed)
            .and_then(|s| WebhookSecret::parse(&s).ok())
            .ok_or_else(|| {
                "the signing secret cannot be opened with this server's key (was BATON_SECRET_KEY changed?); rotate the secret".to_string()
            })
    };
    let mut out = vec![open(ep.secret_sealed.as_deref().unwrap_or(""))?];
    if let (Some(old), Some(until)) = (&ep.old_secret_sealed, ep.old_secret_until) {
        if until > now {
            out.push(open(old)?);
        }
    }
    Ok(out)
}

/// Makes one attempt of the job's delivery and records it.
async fn attempt(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let now = state.now();
    let delivery_id = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|v| v["delivery"].as_str().map(String::from))
        .unwrap_or_default();
    let d = match deliveries::by_id(&state.db, &delivery_id).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => {
            return outbox::complete(&state.db, &job.id, now).await;
        }
        Err(e) => return Err(e),
    };
    if d.state != "pending" {
        // Already settled (a retry queued twice): nothing to send.
        return outbox::complete(&state.db, &job.id, now).await;
    }
    let ep = match integrations::get(&state.db, &d.agency_id, &d.endpoint_id).await {
        Ok(ep) => ep,
        Err(StoreError::NotFound) => {
            return deliveries::abandon(&state.db, &d.id, &job.id, "the endpoint was deleted", now)
                .await;
        }
        Err(e) => return Err(e),
    };
    if !ep.enabled {
        let why = format!(
            "the endpoint is turned off{}",
            ep.disabled_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        return deliveries::abandon(&state.db, &d.id, &job.id, &why, now).await;
    }
    let (url, headers) = match request_of(state, &ep, &d, now) {
        Ok(r) => r,
        Err(why) => {
            tracing::warn!(endpoint = %ep.id, "{why}");
            return deliveries::abandon(&state.db, &d.id, &job.id, &why, now).await;
        }
    };
    let sent = state.sender.post(&url, &headers, &d.body).await;
    let finished = state.now();
    let outcome = judge(ep.kind, &sent, now);
    let next = next_step(state, &d, &sent, outcome.succeeded, finished);
    let recorded =
        deliveries::record_attempt(&state.db, &d, &job.id, &outcome, next, finished).await?;
    if !recorded {
        return Ok(());
    }
    let actor = Actor::system("Webhook delivery");
    let agency = AgencyId::parse(&d.agency_id).map_err(StoreError::from)?;
    let cx = Cx::new(&state.db, &agency, &actor, finished);
    if sent.status == Some(410) {
        let reason = "the receiver answered 410 Gone";
        integrations::disable(cx, &ep.id, reason, state.mailer.is_some()).await?;
        return Ok(());
    }
    let failing_since =
        integrations::note_outcome(&state.db, &ep.id, outcome.succeeded, finished).await?;
    if let Some(since) = failing_since {
        if finished - since >= DISABLE_AFTER_MS {
            let reason = "every attempt failed for 5 days";
            integrations::disable(cx, &ep.id, reason, state.mailer.is_some()).await?;
        }
    }
    Ok(())
}

/// The URL and headers of an attempt: a webhook's are signed now (a fresh
/// `webhook-timestamp` each attempt, the same `webhook-id`).
fn request_of(
    state: &AppState,
    ep: &Endpoint,
    d: &Delivery,
    now: i64,
) -> Result<(String, Vec<(String, String)>), String> {
    match ep.kind {
        Kind::Webhook => {
            let secrets = signing_secrets(state, ep, now)?;
            let refs: Vec<&WebhookSecret> = secrets.iter().collect();
            let ts = now.div_euclid(1000);
            let signature = webhooks::signature_header(&refs, &d.event_id, ts, d.body.as_bytes());
            Ok((
                ep.url.clone(),
                vec![
                    ("webhook-id".into(), d.event_id.clone()),
                    ("webhook-timestamp".into(), ts.to_string()),
                    ("webhook-signature".into(), signature),
                ],
            ))
        }
        Kind::Slack | Kind::Teams => {
            let url = ep
                .url_sealed
                .as_deref()
                .and_then(|s| crate::sealed::open(&state.config.secret_key, &ep.id, s))
                .ok_or_else(|| {
                    "the channel's URL cannot be opened with this server's key (was BATON_SECRET_KEY changed?); save the URL again".to_string()
                })?;
            Ok((url, Vec::new()))
        }
    }
}

/// Whether the answer is a success, and what the log keeps of it. Only 2xx
/// succeeds; Slack also needs the body `ok` (anything else is its error
/// code, e.g. `channel_not_found`, `invalid_payload`).
fn judge(kind: Kind, sent: &super::sender::Sent, started_at: i64) -> AttemptOutcome {
    let status = sent.status;
    let body = sent.excerpt.as_deref().unwrap_or("").trim();
    let two_xx = status.is_some_and(|s| (200..300).contains(&s));
    let (succeeded, error) = match (kind, status) {
        (_, None) => (false, sent.error.clone().or(Some("no answer".into()))),
        (Kind::Slack, Some(200)) if body == "ok" => (true, None),
        (Kind::Slack, Some(s)) => (
            false,
            Some(if body.is_empty() || body.len() > 100 {
                format!("HTTP {s}")
            } else {
                format!("HTTP {s}: {body}")
            }),
        ),
        (_, Some(_)) if two_xx => (true, None),
        (_, Some(s)) => (false, Some(format!("HTTP {s}"))),
    };
    AttemptOutcome {
        started_at,
        status_code: status.map(i64::from),
        latency_ms: sent.latency_ms,
        succeeded,
        error,
        response_excerpt: sent.excerpt.as_deref().map(|t| excerpt(t, 500)),
    }
}

fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// What follows an attempt: done, failed (410, or the schedule is over), or
/// the next attempt on the schedule, later when the receiver asked to slow
/// down (429, 502, 504, `Retry-After`).
fn next_step(
    state: &AppState,
    d: &Delivery,
    sent: &super::sender::Sent,
    ok: bool,
    now: i64,
) -> Next {
    if ok {
        return Next::Succeeded;
    }
    if sent.status == Some(410) {
        return Next::Failed;
    }
    // This attempt was number round_attempts + 1 of its round.
    let next_number = (d.round_attempts + 2) as usize;
    let Some(delay) = state.config.webhook_retry.delay_before(next_number) else {
        return Next::Failed;
    };
    let mut delay = webhooks::jittered(delay, rand::random::<f64>());
    let slow_down = matches!(sent.status, Some(429 | 502 | 503 | 504));
    let asked = sent
        .retry_after
        .as_deref()
        .and_then(|h| webhooks::retry_after_ms(h, now.div_euclid(1000)));
    match asked {
        Some(ms) => delay = delay.max(ms),
        None if slow_down => delay = delay.saturating_mul(2).max(1_000),
        None => {}
    }
    Next::RetryAt(now + delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::sender::Sent;

    #[test]
    fn only_2xx_succeeds_and_slack_needs_ok() {
        let sent = |status: Option<u16>, body: &str| Sent {
            status,
            excerpt: (!body.is_empty()).then(|| body.to_string()),
            error: status.is_none().then(|| "connection refused".to_string()),
            ..Sent::default()
        };
        let cases = [
            (Kind::Webhook, sent(Some(200), ""), true, None),
            (Kind::Webhook, sent(Some(204), ""), true, None),
            (Kind::Webhook, sent(Some(301), ""), false, Some("HTTP 301")),
            (
                Kind::Webhook,
                sent(Some(500), "oops"),
                false,
                Some("HTTP 500"),
            ),
            (
                Kind::Webhook,
                sent(None, ""),
                false,
                Some("connection refused"),
            ),
            (Kind::Teams, sent(Some(202), ""), true, None),
            (Kind::Slack, sent(Some(200), "ok"), true, None),
            (
                Kind::Slack,
                sent(Some(200), "not ok"),
                false,
                Some("HTTP 200: not ok"),
            ),
            (
                Kind::Slack,
                sent(Some(400), "invalid_payload"),
                false,
                Some("HTTP 400: invalid_payload"),
            ),
            (
                Kind::Slack,
                sent(Some(404), "channel_not_found"),
                false,
                Some("HTTP 404: channel_not_found"),
            ),
        ];
        for (kind, s, ok, error) in cases {
            let o = judge(kind, &s, 1);
            assert_eq!(o.succeeded, ok, "{kind:?} {s:?}");
            assert_eq!(o.error.as_deref(), error, "{kind:?} {s:?}");
        }
    }
}
