//! Inbound endpoints: where a CRM or an automation tool posts signed events
//! ("deal won"). The server verifies the signature with the endpoint's
//! secret; this module records what the event says, once per message id.

use baton_core::lifecycle::ClientEventType;
use baton_core::types::{ClientId, InboundId};
use baton_core::{events, validate, CoreError};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

/// An inbound endpoint as stored.
#[derive(Debug, Clone)]
pub struct InboundEndpoint {
    pub id: String,
    pub agency_id: String,
    pub name: String,
    pub secret_sealed: String,
    pub created_at: i64,
    pub last_received_at: Option<i64>,
}

const COLUMNS: &str = "id, agency_id, name, secret_sealed, created_at, last_received_at";

fn from_row(r: &AnyRow) -> Result<InboundEndpoint> {
    Ok(InboundEndpoint {
        id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        name: r.try_get("name")?,
        secret_sealed: r.try_get("secret_sealed")?,
        created_at: r.try_get("created_at")?,
        last_received_at: r.try_get("last_received_at")?,
    })
}

/// Creates the inbound endpoint `id` (made by the caller, which sealed the
/// secret for it) named `name`.
pub async fn create(
    cx: Cx<'_>,
    id: &InboundId,
    name: &str,
    secret_sealed: &str,
) -> Result<InboundEndpoint> {
    let name = validate::name("name", name)?;
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO inbound_endpoints (id, agency_id, name, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(cx.agency_id())
    .bind(&name)
    .bind(secret_sealed)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            events::INBOUND_SAVED,
            "inbound_endpoint",
            id,
            json!({"name": name}),
        )
        .with_event(None, json!({"name": name})),
    )
    .await?;
    get(cx.db, cx.agency_id(), id.as_str()).await
}

/// The agency's inbound endpoints, oldest first.
pub async fn list(db: &Db, agency_id: &str) -> Result<Vec<InboundEndpoint>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_endpoints WHERE agency_id = $1 AND deleted_at IS NULL ORDER BY id"
    ))
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// One of the agency's inbound endpoints.
pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<InboundEndpoint> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_endpoints WHERE agency_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// An inbound endpoint by id alone: a post to it names no agency, its
/// signature proves the sender.
pub async fn by_id(db: &Db, id: &str) -> Result<InboundEndpoint> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_endpoints WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Removes an inbound endpoint: posts to it are refused from now on.
pub async fn delete(cx: Cx<'_>, id: &str) -> Result<()> {
    let before = get(cx.db, cx.agency_id(), id).await?;
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE inbound_endpoints SET deleted_at = $3 WHERE agency_id = $1 AND id = $2")
        .bind(cx.agency_id())
        .bind(id)
        .bind(cx.now)
        .execute(tx.conn())
        .await?;
    tx.commit(
        Record::new(
            events::INBOUND_DELETED,
            "inbound_endpoint",
            id,
            json!({"name": before.name}),
        )
        .with_event(None, json!({"name": before.name})),
    )
    .await?;
    Ok(())
}

/// A "deal won" from outside: the client as the CRM knows it.
#[derive(Debug, Clone)]
pub struct ContractSigned {
    /// The CRM's id of the client (company or deal), matched exactly.
    pub external_id: String,
    pub name: String,
    pub website: Option<String>,
    /// When the contract was signed, if not now.
    pub occurred_at: Option<i64>,
}

/// What an inbound message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Recorded on this client (made now when `created`).
    Recorded {
        client_id: String,
        created: bool,
        event_id: String,
    },
    /// This message id was taken before: nothing recorded again.
    Duplicate,
}

/// Checks an external id (field `client.external_id`): 1 to 200 printable
/// characters.
fn checked_external_id(id: &str) -> Result<String> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "client.external_id",
            "must be 1 to 200 characters without control characters",
        )
        .into());
    }
    Ok(id.to_string())
}

/// Records `contract_signed` for the client with `external_id`, making the
/// client first when the agency has none with it, all in one transaction
/// with the claim of `msg_id` (a replay is [`Received::Duplicate`]). The
/// event starts the handoff SOP like one recorded by hand.
pub async fn contract_signed(
    cx: Cx<'_>,
    endpoint_id: &str,
    msg_id: &str,
    input: ContractSigned,
) -> Result<Received> {
    let external_id = checked_external_id(&input.external_id)?;
    let name = validate::name("client.name", &input.name)?;
    let website = match input.website.as_deref() {
        Some(w) => validate::optional_url("client.website", w)?,
        None => None,
    };
    crate::clients::check_past_time("occurred_at", input.occurred_at, cx.now)?;
    let mut tx = cx.begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO inbound_messages (endpoint_id, msg_id, agency_id, received_at, event_type) \
         VALUES ($1, $2, $3, $4, 'contract_signed') ON CONFLICT (endpoint_id, msg_id) DO NOTHING",
    )
    .bind(endpoint_id)
    .bind(msg_id)
    .bind(cx.agency_id())
    .bind(cx.now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(Received::Duplicate);
    }
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND external_id = $2")
            .bind(cx.agency_id())
            .bind(&external_id)
            .fetch_optional(tx.conn())
            .await?;
    let mut records = Vec::new();
    let (client_id, created) = match found {
        Some(id) => (id, false),
        None => {
            let id = ClientId::new(cx.now);
            sqlx::query(
                "INSERT INTO clients (id, agency_id, name, lifecycle, website, external_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'won', $4, $5, $6, $6)",
            )
            .bind(id.as_str())
            .bind(cx.agency_id())
            .bind(&name)
            .bind(website.as_deref())
            .bind(&external_id)
            .bind(cx.now)
            .execute(tx.conn())
            .await?;
            records.push(
                Record::new(
                    events::CLIENT_CREATED,
                    "client",
                    &id,
                    json!({"name": name, "external_id": external_id}),
                )
                .with_event(
                    Some(id.as_str()),
                    json!({"name": name, "lifecycle": "won", "external_id": external_id}),
                ),
            );
            (id.to_string(), true)
        }
    };
    let note = format!("Deal won, received from an inbound endpoint ({endpoint_id})");
    records.push(
        crate::client_moves::move_in(
            &mut tx,
            &client_id,
            ClientEventType::ContractSigned,
            input.occurred_at,
            Some(note),
        )
        .await?,
    );
    sqlx::query(
        "UPDATE inbound_messages SET client_id = $3 WHERE endpoint_id = $1 AND msg_id = $2",
    )
    .bind(endpoint_id)
    .bind(msg_id)
    .bind(&client_id)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE inbound_endpoints SET last_received_at = $2 WHERE id = $1")
        .bind(endpoint_id)
        .bind(cx.now)
        .execute(tx.conn())
        .await?;
    let recorded = tx.commit_all(records).await?;
    let event_id = recorded
        .last()
        .and_then(|r| r.events.first())
        .map(|e| e.id.clone())
        .unwrap_or_default();
    Ok(Received::Recorded {
        client_id,
        created,
        event_id,
    })
}
