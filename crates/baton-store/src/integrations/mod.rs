//! Integrations: the agency's outbound endpoints (signed webhooks, Slack and
//! Teams channels), each event's deliveries to them with every attempt, and
//! the inbound endpoints that take signed events from outside.
//!
//! The store keeps secrets only sealed: the server seals a webhook's secret
//! and a channel's URL with its key before they reach these functions, and
//! opens them when it sends.

pub mod deliveries;
pub mod inbound;

use baton_core::types::EndpointId;
use baton_core::{events, validate, webhooks, CoreError};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// What an outbound endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Standard Webhooks receiver: signed JSON events.
    Webhook,
    /// A Slack incoming webhook: Block Kit messages.
    Slack,
    /// A Microsoft Teams Workflows webhook: Adaptive Cards.
    Teams,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "webhook" => Some(Kind::Webhook),
            "slack" => Some(Kind::Slack),
            "teams" => Some(Kind::Teams),
            _ => None,
        }
    }

    /// Webhooks on one side, notification channels on the other.
    pub fn is_channel(self) -> bool {
        self != Kind::Webhook
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Webhook => "Webhook",
            Kind::Slack => "Slack",
            Kind::Teams => "Microsoft Teams",
        }
    }
}

/// An outbound endpoint as stored.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub agency_id: String,
    pub kind: Kind,
    /// A webhook's URL; a channel's masked URL (the real one is sealed).
    pub url: String,
    pub url_sealed: Option<String>,
    pub description: String,
    /// Event filters (`client.*`, `access.verified`, `*`).
    pub events: Vec<String>,
    /// Only this client's events, when set.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub enabled: bool,
    /// Why delivery turned it off (410 Gone, five days of failures).
    pub disabled_reason: Option<String>,
    pub secret_sealed: Option<String>,
    pub old_secret_sealed: Option<String>,
    pub old_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Endpoint {
    /// Whether this endpoint takes an event of `event_type` (stored topic
    /// `topic`) about `client_id`.
    pub fn wants(&self, event_type: &str, topic: &str, client_id: Option<&str>) -> bool {
        if let Some(only) = &self.client_id {
            if client_id != Some(only.as_str()) {
                return false;
            }
        }
        self.events
            .iter()
            .any(|f| webhooks::matches(f, event_type) || webhooks::matches(f, topic))
    }
}

const COLUMNS: &str =
    "e.id, e.agency_id, e.kind, e.url, e.url_sealed, e.description, e.events, e.client_id, \
     c.name AS client_name, e.enabled, e.disabled_reason, e.secret_sealed, e.old_secret_sealed, \
     e.old_secret_until, e.failing_since, e.created_at, e.updated_at";

fn from_row(r: &AnyRow) -> Result<Endpoint> {
    let kind: String = r.try_get("kind")?;
    let events: String = r.try_get("events")?;
    Ok(Endpoint {
        id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Webhook),
        url: r.try_get("url")?,
        url_sealed: r.try_get("url_sealed")?,
        description: r.try_get("description")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("client_name")?,
        enabled: r.try_get::<i64, _>("enabled")? == 1,
        disabled_reason: r.try_get("disabled_reason")?,
        secret_sealed: r.try_get("secret_sealed")?,
        old_secret_sealed: r.try_get("old_secret_sealed")?,
        old_secret_until: r.try_get("old_secret_until")?,
        failing_since: r.try_get("failing_since")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The agency's endpoints of the given kinds (not deleted), oldest first.
pub async fn list(db: &Db, agency_id: &str, kinds: &[Kind]) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_endpoints e LEFT JOIN clients c ON c.id = e.client_id \
         WHERE e.agency_id = $1 AND e.deleted_at IS NULL ORDER BY e.id"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let e = from_row(r)?;
        if kinds.contains(&e.kind) {
            out.push(e);
        }
    }
    Ok(out)
}

/// The enabled endpoints of an agency (the fan-out's candidates).
pub async fn enabled(db: &Db, agency_id: &str) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_endpoints e LEFT JOIN clients c ON c.id = e.client_id \
         WHERE e.agency_id = $1 AND e.deleted_at IS NULL AND e.enabled = 1 ORDER BY e.id"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One endpoint of this agency (another agency's, or a deleted one, is
/// `NotFound`).
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Endpoint> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM integration_endpoints e LEFT JOIN clients c ON c.id = e.client_id \
         WHERE e.agency_id = $1 AND e.id = $2 AND e.deleted_at IS NULL"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// An endpoint to create; the URL already checked by the caller (its
/// reachability rules depend on the deployment), secrets already sealed.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Made by the caller, which seals the secrets for this id.
    pub id: EndpointId,
    pub kind: Kind,
    /// What is shown: the webhook URL, or a channel's masked URL.
    pub url: String,
    /// A channel's real URL, sealed.
    pub url_sealed: Option<String>,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub client_id: Option<String>,
    /// A webhook's signing secret, sealed.
    pub secret_sealed: Option<String>,
}

/// Checks a description (field `description`): a note's length at most.
fn checked_description(d: Option<&str>) -> Result<String> {
    match d.map(str::trim) {
        None | Some("") => Ok(String::new()),
        Some(d) => Ok(validate::note("description", d)?),
    }
}

async fn check_client(cx: &Cx<'_>, client_id: Option<&str>) -> Result<Option<String>> {
    match client_id.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => match crate::clients::get(cx.db, cx.agency_id(), c).await {
            Ok(client) => Ok(Some(client.id.to_string())),
            Err(StoreError::NotFound) => {
                Err(CoreError::invalid("client", format!("no client {c} in this agency")).into())
            }
            Err(e) => Err(e),
        },
    }
}

/// Creates an endpoint, enabled.
pub async fn create(cx: Cx<'_>, input: NewEndpoint) -> Result<Endpoint> {
    let events_list = webhooks::check_filters(&input.events)?;
    let description = checked_description(input.description.as_deref())?;
    let client_id = check_client(&cx, input.client_id.as_deref()).await?;
    let id = input.id.clone();
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO integration_endpoints (id, agency_id, kind, url, url_sealed, description, events, \
         client_id, enabled, secret_sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10)",
    )
    .bind(id.as_str())
    .bind(cx.agency_id())
    .bind(input.kind.key())
    .bind(&input.url)
    .bind(input.url_sealed.as_deref())
    .bind(&description)
    .bind(serde_json::to_string(&events_list).unwrap_or_default())
    .bind(client_id.as_deref())
    .bind(input.secret_sealed.as_deref())
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            events::ENDPOINT_SAVED,
            "integration_endpoint",
            &id,
            json!({"kind": input.kind.key(), "url": input.url, "events": events_list, "client_id": client_id, "created": true}),
        )
        .with_event(
            client_id.as_deref(),
            json!({"kind": input.kind.key(), "url": input.url, "events": events_list}),
        ),
    )
    .await?;
    get(cx.db, cx.agency_id(), &id).await
}

/// A change to an endpoint; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    /// A new URL (checked by the caller) and, for a channel, its sealed form.
    pub url: Option<(String, Option<String>)>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` removes the client filter.
    pub client_id: Option<Option<String>>,
    /// Turning an endpoint back on clears why it was off and its failures.
    pub enabled: Option<bool>,
}

/// Changes an endpoint.
pub async fn update(cx: Cx<'_>, id: &str, patch: EndpointPatch) -> Result<Endpoint> {
    let before = get(cx.db, cx.agency_id(), id).await?;
    let events_list = match &patch.events {
        Some(e) => webhooks::check_filters(e)?,
        None => before.events.clone(),
    };
    let description = match &patch.description {
        Some(d) => checked_description(Some(d))?,
        None => before.description.clone(),
    };
    let client_id = match &patch.client_id {
        Some(c) => check_client(&cx, c.as_deref()).await?,
        None => before.client_id.clone(),
    };
    let (url, url_sealed) = match &patch.url {
        Some((u, s)) => (u.clone(), s.clone().or(before.url_sealed.clone())),
        None => (before.url.clone(), before.url_sealed.clone()),
    };
    let enabled = patch.enabled.unwrap_or(before.enabled);
    let turned_on = enabled && !before.enabled;
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE integration_endpoints SET url = $3, url_sealed = $4, description = $5, events = $6, \
         client_id = $7, enabled = $8, updated_at = $9 \
         WHERE agency_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(&url)
    .bind(url_sealed.as_deref())
    .bind(&description)
    .bind(serde_json::to_string(&events_list).unwrap_or_default())
    .bind(client_id.as_deref())
    .bind(i64::from(enabled))
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    if turned_on {
        // Back on: why it was off and its run of failures are forgotten.
        sqlx::query(
            "UPDATE integration_endpoints SET disabled_reason = NULL, failing_since = NULL \
             WHERE agency_id = $1 AND id = $2",
        )
        .bind(cx.agency_id())
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    tx.commit(
        Record::new(
            events::ENDPOINT_SAVED,
            "integration_endpoint",
            id,
            json!({"kind": before.kind.key(), "url": url, "events": events_list, "client_id": client_id, "enabled": enabled}),
        )
        .with_event(
            client_id.as_deref(),
            json!({"kind": before.kind.key(), "url": url, "events": events_list, "enabled": enabled}),
        ),
    )
    .await?;
    get(cx.db, cx.agency_id(), id).await
}

/// Removes an endpoint: nothing more is sent to it; its delivery log stays
/// in the database for the audit trail.
pub async fn delete(cx: Cx<'_>, id: &str) -> Result<()> {
    let before = get(cx.db, cx.agency_id(), id).await?;
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE integration_endpoints SET deleted_at = $3, enabled = 0, updated_at = $3 \
         WHERE agency_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE integration_deliveries SET state = 'failed', last_error = 'endpoint deleted', \
         next_attempt_at = NULL, updated_at = $3 WHERE endpoint_id = $2 AND agency_id = $1 AND state = 'pending'",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            events::ENDPOINT_DELETED,
            "integration_endpoint",
            id,
            json!({"kind": before.kind.key(), "url": before.url}),
        )
        .with_event(
            before.client_id.as_deref(),
            json!({"kind": before.kind.key(), "url": before.url}),
        ),
    )
    .await?;
    Ok(())
}

/// Rotation: `new_sealed` signs from now on; the current secret keeps
/// signing alongside it until `old_until`.
pub async fn rotate_secret(
    cx: Cx<'_>,
    id: &str,
    new_sealed: &str,
    old_until: i64,
) -> Result<Endpoint> {
    let before = get(cx.db, cx.agency_id(), id).await?;
    if before.kind != Kind::Webhook {
        return Err(CoreError::Conflict("only a webhook has a signing secret".into()).into());
    }
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE integration_endpoints SET old_secret_sealed = secret_sealed, old_secret_until = $4, \
         secret_sealed = $3, updated_at = $5 WHERE agency_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(new_sealed)
    .bind(old_until)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            events::ENDPOINT_SECRET_ROTATED,
            "integration_endpoint",
            id,
            json!({"old_secret_until": old_until}),
        )
        .with_event(
            before.client_id.as_deref(),
            json!({"old_secret_until": old_until}),
        ),
    )
    .await?;
    get(cx.db, cx.agency_id(), id).await
}

/// Delivery turns an endpoint off (410 Gone, five days of failures) and
/// tells the admins, in-app and by email. Claimed inside the transaction:
/// of several servers that see it fail, one records it.
pub async fn disable(cx: Cx<'_>, id: &str, reason: &str, email: bool) -> Result<bool> {
    let mut tx = cx.begin().await?;
    let row = sqlx::query(
        "UPDATE integration_endpoints SET enabled = 0, disabled_reason = $3, updated_at = $4 \
         WHERE agency_id = $1 AND id = $2 AND enabled = 1 AND deleted_at IS NULL \
         RETURNING kind, url, client_id",
    )
    .bind(cx.agency_id())
    .bind(id)
    .bind(reason)
    .bind(cx.now)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let kind: String = row.try_get("kind")?;
    let url: String = row.try_get("url")?;
    let client_id: Option<String> = row.try_get("client_id")?;
    let admins = crate::sop_runs::escalation::admins(tx.conn(), cx.agency_id()).await?;
    let agency_name: String = sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
        .bind(cx.agency_id())
        .fetch_one(tx.conn())
        .await?;
    let label = Kind::parse(&kind).unwrap_or(Kind::Webhook).label();
    let title = format!("{label} turned off: {url}");
    let body = format!(
        "Baton stopped sending to the {label} endpoint {url}: {reason}. \
         Fix the receiver, then turn it back on in Settings → Integrations and recover what failed."
    );
    crate::sop_runs::escalation::send_notices(
        &mut tx,
        &admins,
        crate::sop_runs::escalation::NoticeAbout {
            client_id: client_id.as_deref(),
            ..Default::default()
        },
        crate::sop_runs::escalation::NoticeText {
            kind: events::ENDPOINT_DISABLED,
            title: &title,
            body: &body,
        },
        &agency_name,
        email,
    )
    .await?;
    tx.commit(
        Record::new(
            events::ENDPOINT_DISABLED,
            "integration_endpoint",
            id,
            json!({"kind": kind, "url": url, "reason": reason}),
        )
        .with_event(
            client_id.as_deref(),
            json!({"kind": kind, "url": url, "reason": reason}),
        ),
    )
    .await?;
    Ok(true)
}

/// Notes a failed attempt (the first since the last success starts the
/// clock) or a success (which stops it). Returns when failing started.
pub async fn note_outcome(db: &Db, id: &str, ok: bool, now: i64) -> Result<Option<i64>> {
    if ok {
        sqlx::query(
            "UPDATE integration_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
        )
        .bind(id)
        .execute(&db.writer)
        .await?;
        return Ok(None);
    }
    Ok(sqlx::query_scalar(
        "UPDATE integration_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 \
         RETURNING failing_since",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&db.writer)
    .await?
    .flatten())
}
