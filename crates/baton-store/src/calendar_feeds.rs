//! Secret iCalendar feed URLs of the content calendar, one per client and
//! one per member, that calendar apps subscribe to. The URL is the
//! capability: a 256-bit token of which only the SHA-256 is stored. Making a
//! new URL for the same client or member revokes the previous one; revoking
//! leaves none. Both are recorded (`calendar_feed.created` /
//! `calendar_feed.revoked`, event and audit entry).

use baton_core::secret;
use serde_json::json;
use sqlx::Row;

use crate::content::{self, Item};
use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

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

/// The feed of a client or member that works now: when it was made and by
/// whom (its URL cannot be shown again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveFeed {
    pub created_at: i64,
    pub created_by: String,
}

/// `scope` as (its column in `calendar_feeds`, the id, the entity type of
/// its audit entry).
fn parts(scope: &FeedScope) -> (&'static str, &str, &'static str) {
    match scope {
        FeedScope::Client(c) => ("client_id", c.as_str(), "client"),
        FeedScope::Member(m) => ("member_id", m.as_str(), "member"),
    }
}

/// The client a feed of `scope` belongs to, for its events.
fn client_of(scope: &FeedScope) -> Option<&str> {
    match scope {
        FeedScope::Client(c) => Some(c.as_str()),
        FeedScope::Member(_) => None,
    }
}

/// The id of the client or (active) member `scope` names, if it is the
/// agency's; `NotFound` otherwise.
async fn entity_of(
    tx: &mut crate::write::WriteTx,
    agency_id: &str,
    scope: &FeedScope,
) -> Result<String> {
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
    exists.ok_or(StoreError::NotFound)
}

/// The current feed of `scope`, if there is one. The caller has checked
/// that the client or member is the agency's.
pub async fn active(db: &Db, agency_id: &str, scope: &FeedScope) -> Result<Option<ActiveFeed>> {
    let (column, id, _) = parts(scope);
    let row = sqlx::query(&format!(
        "SELECT created_at, created_by FROM calendar_feeds \
         WHERE agency_id = $1 AND {column} = $2 AND revoked_at IS NULL \
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(match row {
        Some(r) => Some(ActiveFeed {
            created_at: r.try_get("created_at")?,
            created_by: r.try_get("created_by")?,
        }),
        None => None,
    })
}

/// Revokes the current feed of `scope`: its URL stops working at once.
/// `Ok(false)` when there was none (nothing is written then); `NotFound`
/// when the client or member is not the agency's.
pub async fn revoke(cx: Cx<'_>, scope: &FeedScope) -> Result<bool> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let (column, _, kind) = parts(scope);
    let mut tx = cx.begin().await?;
    let entity = entity_of(&mut tx, agency_id, scope).await?;
    let revoked = sqlx::query(&format!(
        "UPDATE calendar_feeds SET revoked_at = $3 WHERE agency_id = $1 AND {column} = $2 AND revoked_at IS NULL"
    ))
    .bind(agency_id)
    .bind(&entity)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if revoked == 0 {
        // Dropped without commit: nothing changed, nothing to record.
        return Ok(false);
    }
    tx.commit(
        Record::new(
            "calendar_feed.revoked",
            kind,
            &entity,
            json!({"scope": kind}),
        )
        .with_event(client_of(scope), json!({"scope": kind})),
    )
    .await?;
    Ok(true)
}

/// Makes a new feed token for `scope` (revoking the previous one) and
/// returns it; only its hash is kept, so it is shown once.
pub async fn create(cx: Cx<'_>, scope: &FeedScope) -> Result<String> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let (column, _, kind) = parts(scope);
    let mut tx = cx.begin().await?;
    let entity = entity_of(&mut tx, agency_id, scope).await?;
    let previous = sqlx::query(&format!(
        "UPDATE calendar_feeds SET revoked_at = $3 WHERE agency_id = $1 AND {column} = $2 AND revoked_at IS NULL"
    ))
    .bind(agency_id)
    .bind(&entity)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let token = secret::random_token();
    sqlx::query(
        "INSERT INTO calendar_feeds (token_hash, agency_id, client_id, member_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(secret::hash_token(&token))
    .bind(agency_id)
    .bind(client_of(scope))
    .bind(matches!(scope, FeedScope::Member(_)).then_some(entity.as_str()))
    .bind(&actor.label)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            "calendar_feed.created",
            kind,
            &entity,
            json!({"scope": kind, "previous_revoked": previous > 0}),
        )
        .with_event(
            client_of(scope),
            json!({"scope": kind, "previous_revoked": previous > 0}),
        ),
    )
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
