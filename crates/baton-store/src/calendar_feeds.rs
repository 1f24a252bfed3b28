//! Secret iCalendar feed URLs of the content calendar, one per client and
//! one per member, that calendar apps subscribe to. The URL is the
//! capability: a 256-bit token of which only the SHA-256 is stored. Making a
//! new URL for the same client or member revokes the previous one.

use baton_core::secret;
use serde_json::json;
use sqlx::Row;

use crate::content::{self, Item};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{Actor, Record};

/// Whose calendar a feed shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedScope {
    /// One client's scheduled and published content.
    Client(String),
    /// The content of a member's clients (account team or traffic control)
    /// and of the items they review or approve.
    Member(String),
}

/// A resolved feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub agency_id: String,
    pub scope: FeedScope,
    /// The client's or member's name, for the calendar's title.
    pub name: String,
}

/// Makes a new feed token for `scope` (revoking the previous one) and
/// returns it; only its hash is kept, so it is shown once.
pub async fn create(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    scope: &FeedScope,
) -> Result<String> {
    let (client, member) = match scope {
        FeedScope::Client(c) => (Some(c.as_str()), None),
        FeedScope::Member(m) => (None, Some(m.as_str())),
    };
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let exists: Option<String> = match scope {
        FeedScope::Client(c) => {
            sqlx::query_scalar("SELECT id FROM clients WHERE agency_id = $1 AND id = $2")
                .bind(agency_id)
                .bind(c)
                .fetch_optional(tx.conn())
                .await?
        }
        FeedScope::Member(m) => {
            sqlx::query_scalar(
                "SELECT id FROM members WHERE agency_id = $1 AND id = $2 AND active = 1",
            )
            .bind(agency_id)
            .bind(m)
            .fetch_optional(tx.conn())
            .await?
        }
    };
    let entity = exists.ok_or(StoreError::NotFound)?;
    let column = if client.is_some() {
        "client_id"
    } else {
        "member_id"
    };
    sqlx::query(&format!(
        "UPDATE calendar_feeds SET revoked_at = $3 WHERE agency_id = $1 AND {column} = $2 AND revoked_at IS NULL"
    ))
    .bind(agency_id)
    .bind(&entity)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let token = secret::random_token();
    sqlx::query(
        "INSERT INTO calendar_feeds (token_hash, agency_id, client_id, member_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(secret::hash_token(&token))
    .bind(agency_id)
    .bind(client)
    .bind(member)
    .bind(&actor.label)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let kind = if client.is_some() { "client" } else { "member" };
    tx.commit(Record::new(
        "calendar_feed.created",
        kind,
        &entity,
        json!({"scope": kind, "previous_revoked": true}),
    ))
    .await?;
    Ok(token)
}

/// The feed a token opens, if it is current.
pub async fn resolve(db: &Db, token: &str) -> Result<Option<Feed>> {
    let row = sqlx::query(
        "SELECT f.agency_id, f.client_id, f.member_id, c.name AS client_name, m.name AS member_name \
         FROM calendar_feeds f LEFT JOIN clients c ON c.id = f.client_id \
         LEFT JOIN members m ON m.id = f.member_id AND m.active = 1 \
         WHERE f.token_hash = $1 AND f.revoked_at IS NULL",
    )
    .bind(secret::hash_token(token))
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let agency_id: String = r.try_get("agency_id")?;
    let client: Option<String> = r.try_get("client_id")?;
    let member: Option<String> = r.try_get("member_id")?;
    Ok(match (client, member) {
        (Some(c), _) => Some(Feed {
            agency_id,
            scope: FeedScope::Client(c),
            name: r
                .try_get::<Option<String>, _>("client_name")?
                .unwrap_or_default(),
        }),
        // A deactivated member's feed goes dark with their account.
        (None, Some(m)) => r
            .try_get::<Option<String>, _>("member_name")?
            .map(|name| Feed {
                agency_id,
                scope: FeedScope::Member(m),
                name,
            }),
        (None, None) => None,
    })
}

/// The feed's scheduled and published items in `[from, to)`.
pub async fn items(db: &Db, feed: &Feed, from: i64, to: i64) -> Result<Vec<Item>> {
    match &feed.scope {
        FeedScope::Client(c) => {
            content::scheduled_between(db, &feed.agency_id, from, to, Some(c)).await
        }
        FeedScope::Member(m) => {
            let all = content::scheduled_between(db, &feed.agency_id, from, to, None).await?;
            let clients: Vec<String> = sqlx::query_scalar(
                "SELECT client_id FROM client_team WHERE agency_id = $1 AND member_id = $2 \
                 UNION SELECT id FROM clients WHERE agency_id = $1 AND traffic_control_member_id = $2",
            )
            .bind(&feed.agency_id)
            .bind(m)
            .fetch_all(db.reader())
            .await?;
            Ok(all
                .into_iter()
                .filter(|i| {
                    clients.contains(&i.client_id)
                        || i.reviewers.contains(m)
                        || i.approvers.contains(m)
                })
                .collect())
        }
    }
}
