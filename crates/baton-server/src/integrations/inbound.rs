//! Where inbound events are verified and mapped. A post to an inbound
//! endpoint must carry Standard Webhooks headers signed with that endpoint's
//! secret (±5 minutes, constant-time compare); a bad signature is 401 and
//! nothing is read further. The built-in mapping takes
//! `{"type":"contract_signed","client":{"external_id","name","website"?},"occurred_at"?}`:
//! the client is matched by `external_id` (or made) and `contract_signed`
//! recorded, which starts the handoff SOP. A replayed `webhook-id` is
//! answered 200 `duplicate` and changes nothing; an unknown type is 422.

use axum::http::HeaderMap;
use baton_core::clock::parse_rfc3339;
use baton_core::types::{AgencyId, InboundId};
use baton_core::webhooks::{self, VerifyError, WebhookSecret};
use baton_store::integrations::inbound::{self, ContractSigned, Received};
use baton_store::{Actor, Cx, StoreError};
use serde_json::Value;

use crate::api::integrations::InboundResult;
use crate::error::ApiError;
use crate::state::AppState;

/// The event types the built-in mapping knows.
pub const TYPES: &[&str] = &["contract_signed"];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
}

/// Verifies and records one inbound post.
pub async fn receive(
    state: &AppState,
    id: &InboundId,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<InboundResult, ApiError> {
    let ep = inbound::by_id(&state.db, id).await?;
    let secret = crate::sealed::open(&state.config.secret_key, &ep.id, &ep.secret_sealed)
        .and_then(|s| WebhookSecret::parse(&s).ok())
        .ok_or_else(|| {
            tracing::error!(endpoint = %ep.id, "an inbound endpoint's secret cannot be opened with this server's key");
            ApiError::Internal("the endpoint's secret cannot be opened".into())
        })?;
    let msg_id = header(headers, "webhook-id");
    let now = state.now();
    webhooks::verify(
        &secret,
        msg_id,
        header(headers, "webhook-timestamp"),
        header(headers, "webhook-signature"),
        body,
        now.div_euclid(1000),
    )
    .map_err(|e: VerifyError| {
        tracing::info!(endpoint = %ep.id, reason = %e, "inbound post refused");
        ApiError::Unauthorized
    })?;
    if msg_id.chars().count() > 200 {
        return Err(ApiError::invalid(
            "webhook-id",
            "must be at most 200 characters",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("body", format!("is not JSON: {e}")))?;
    let event_type = v.get("type").and_then(Value::as_str).unwrap_or("");
    if !TYPES.contains(&event_type) {
        return Err(ApiError::invalid(
            "type",
            format!(
                "{event_type:?} is not an event Baton takes; use {}",
                TYPES.join(", ")
            ),
        ));
    }
    let client = v.get("client").and_then(Value::as_object).ok_or_else(|| {
        ApiError::invalid("client", "must be an object with external_id and name")
    })?;
    let text = |k: &str| -> Result<Option<String>, ApiError> {
        match client.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // A CRM's numeric id is its id all the same.
            Some(Value::Number(n)) if k == "external_id" => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::invalid(
                &format!("client.{k}"),
                "must be a string",
            )),
        }
    };
    let external_id = text("external_id")?
        .ok_or_else(|| ApiError::invalid("client.external_id", "is required"))?;
    let name = text("name")?.ok_or_else(|| ApiError::invalid("client.name", "is required"))?;
    let website = text("website")?.filter(|w| !w.trim().is_empty());
    let occurred_at = match v.get("occurred_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_rfc3339(s).ok_or_else(|| {
            ApiError::invalid("occurred_at", "must be a time like 2026-12-01T09:00:00Z")
        })?),
        Some(_) => return Err(ApiError::invalid("occurred_at", "must be a string")),
    };
    let agency = AgencyId::parse(&ep.agency_id).map_err(StoreError::from)?;
    let actor = Actor {
        kind: "inbound".into(),
        id: ep.id.clone(),
        label: format!("Inbound: {}", ep.name),
        ip: String::new(),
        user_agent: String::new(),
    };
    let cx = Cx::new(&state.db, &agency, &actor, now);
    let input = ContractSigned {
        external_id,
        name,
        website,
        occurred_at,
    };
    let received = match inbound::contract_signed(cx, &ep.id, msg_id, input.clone()).await {
        // Two first posts about the same new client at once (PostgreSQL):
        // the one that lost the race to make the client matches it now.
        Err(StoreError::Duplicate(_)) => {
            inbound::contract_signed(cx, &ep.id, msg_id, input).await?
        }
        other => other?,
    };
    Ok(match received {
        Received::Duplicate => InboundResult {
            status: "duplicate".into(),
            client_id: None,
            client_created: false,
            event_id: None,
        },
        Received::Recorded {
            client_id,
            created,
            event_id,
        } => InboundResult {
            status: "recorded".into(),
            client_id: Some(client_id),
            client_created: created,
            event_id: Some(event_id),
        },
    })
}
