//! Integrations: signed outbound webhooks (Standard Webhooks 1.0), Slack and
//! Teams channels, and inbound endpoints for events from outside. The rules
//! every door (API, settings pages) follows live here: a URL is checked at
//! save (its shape and every address its name resolves to) and again at send
//! ([`sender`]); secrets are generated here, sealed with the server key
//! ([`crate::sealed`]) and shown once.

pub mod catalogue;
pub mod deliver;
pub mod inbound;
pub mod messages;
pub mod sender;

use baton_core::types::{EndpointId, InboundId};
use baton_core::webhooks::WebhookSecret;
use baton_core::CoreError;
use baton_store::integrations::{self, deliveries, Endpoint, EndpointPatch, Kind, NewEndpoint};
use baton_store::{Cx, StoreError};

use crate::state::AppState;

/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3_600_000;

/// Checks an endpoint URL (field `url`) for this deployment.
pub async fn check_url(state: &AppState, url: &str) -> Result<(), StoreError> {
    state
        .sender
        .check_url(url)
        .await
        .map_err(|m| CoreError::invalid("url", m).into())
}

/// A channel's URL as shown: scheme, host and the last four characters
/// (the rest is the secret, be it in the path, the query or the fragment).
pub fn mask_url(url: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map(|i| after_scheme + i)
        .unwrap_or(url.len());
    let tail: String = {
        let chars: Vec<char> = url[host_end..].chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    if tail.is_empty() {
        url[..host_end].to_string()
    } else {
        format!("{}/…{tail}", &url[..host_end])
    }
}

/// The filters of a channel's choices: a notice key of
/// [`catalogue::CHANNEL_NOTICES`] stands for its topics; anything else is
/// kept as a filter.
pub fn expand_channel_events(events: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |f: &str| {
        if !out.iter().any(|o| o == f) {
            out.push(f.to_string());
        }
    };
    for e in events {
        let e = e.trim();
        match catalogue::CHANNEL_NOTICES.iter().find(|n| n.key == e) {
            Some(n) => n.filters.iter().for_each(|f| add(f)),
            None => add(e),
        }
    }
    out
}

/// What creates a webhook or a channel.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    pub kind: Kind,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub client_id: Option<String>,
}

/// Creates a webhook (returning its new secret, to show once) or a channel.
pub async fn create_endpoint(
    state: &AppState,
    cx: Cx<'_>,
    input: EndpointInput,
) -> Result<(Endpoint, Option<WebhookSecret>), StoreError> {
    let url = input.url.trim().to_string();
    check_url(state, &url).await?;
    let id = EndpointId::new(cx.now);
    let key = &state.config.secret_key;
    let (shown, url_sealed, secret, secret_sealed, events) = match input.kind {
        Kind::Webhook => {
            let secret = WebhookSecret::generate();
            let sealed = crate::sealed::seal(key, &id, &secret.to_string());
            (url, None, Some(secret), Some(sealed), input.events)
        }
        Kind::Slack | Kind::Teams => (
            mask_url(&url),
            Some(crate::sealed::seal(key, &id, &url)),
            None,
            None,
            expand_channel_events(&input.events),
        ),
    };
    let endpoint = integrations::create(
        cx,
        NewEndpoint {
            id,
            kind: input.kind,
            url: shown,
            url_sealed,
            description: input.description,
            events,
            client_id: input.client_id,
            secret_sealed,
        },
    )
    .await?;
    Ok((endpoint, secret))
}

/// A change to an endpoint as typed (the URL unchecked, a channel's
/// choices unexpanded).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub client_id: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Changes an endpoint; a new URL is checked like a new endpoint's.
pub async fn update_endpoint(
    state: &AppState,
    cx: Cx<'_>,
    id: &str,
    change: EndpointChange,
) -> Result<Endpoint, StoreError> {
    let before = integrations::get(cx.db, cx.agency_id(), id).await?;
    let url = match change.url.as_deref().map(str::trim) {
        None => None,
        Some(u) => {
            check_url(state, u).await?;
            Some(match before.kind {
                Kind::Webhook => (u.to_string(), None),
                Kind::Slack | Kind::Teams => (
                    mask_url(u),
                    Some(crate::sealed::seal(&state.config.secret_key, id, u)),
                ),
            })
        }
    };
    let events = change.events.map(|e| {
        if before.kind.is_channel() {
            expand_channel_events(&e)
        } else {
            e
        }
    });
    integrations::update(
        cx,
        id,
        EndpointPatch {
            url,
            description: change.description,
            events,
            client_id: change.client_id,
            enabled: change.enabled,
        },
    )
    .await
}

/// Rotates a webhook's secret: the new one (returned, shown once) signs
/// from now on, the old one alongside it for 24 hours.
pub async fn rotate_secret(
    state: &AppState,
    cx: Cx<'_>,
    id: &str,
) -> Result<(Endpoint, WebhookSecret), StoreError> {
    let secret = WebhookSecret::generate();
    let sealed = crate::sealed::seal(&state.config.secret_key, id, &secret.to_string());
    let ep = integrations::rotate_secret(cx, id, &sealed, cx.now + ROTATION_OVERLAP_MS).await?;
    Ok((ep, secret))
}

/// Queues a test event (or test message) to an endpoint, sent like any
/// delivery; it is not recorded in the event log.
pub async fn send_test(
    state: &AppState,
    cx: Cx<'_>,
    id: &str,
) -> Result<deliveries::Delivery, StoreError> {
    let ep = integrations::get(cx.db, cx.agency_id(), id).await?;
    if !ep.enabled {
        return Err(CoreError::Conflict(
            "this endpoint is turned off: turn it on before sending a test".into(),
        )
        .into());
    }
    let d = deliver::test_delivery(state, &ep, &cx.actor.label);
    deliveries::send_test(cx, d).await
}

/// Creates an inbound endpoint; returns it with its secret (shown once).
pub async fn create_inbound(
    state: &AppState,
    cx: Cx<'_>,
    name: &str,
) -> Result<(integrations::inbound::InboundEndpoint, WebhookSecret), StoreError> {
    let id = InboundId::new(cx.now);
    let secret = WebhookSecret::generate();
    let sealed = crate::sealed::seal(&state.config.secret_key, &id, &secret.to_string());
    let ep = integrations::inbound::create(cx, &id, name, &sealed).await?;
    Ok((ep, secret))
}

/// The URL a sender posts to for an inbound endpoint.
pub fn inbound_url(state: &AppState, id: &str) -> String {
    format!("{}/api/v1/inbound/{id}", state.config.public_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_urls_are_masked_to_host_and_last_four() {
        let cases = [
            (
                "https://hooks.slack.com/services/T000/B000/XXXXabcd",
                "https://hooks.slack.com/…abcd",
            ),
            ("https://example.com", "https://example.com"),
            ("http://127.0.0.1:9000/x", "http://127.0.0.1:9000/…/x"),
            // A secret in the query of a URL without a path is masked too.
            (
                "https://example.com?sig=SECRETabcd",
                "https://example.com/…abcd",
            ),
            (
                "https://example.com#SECRETabcd",
                "https://example.com/…abcd",
            ),
        ];
        for (url, masked) in cases {
            assert_eq!(mask_url(url), masked);
        }
    }

    #[test]
    fn channel_choices_expand_to_their_topics() {
        let got = expand_channel_events(&[
            "sop_breached".into(),
            "access".into(),
            "content.published".into(),
        ]);
        assert_eq!(
            got,
            vec![
                "sop_run.breached",
                "access.granted_by_client",
                "access.verified",
                "access.failed",
                "content.published"
            ]
        );
    }
}
