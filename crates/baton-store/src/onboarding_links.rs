//! Onboarding links: one capability URL per client that collects platform
//! access. Only the SHA-256 of the 256-bit token is stored; the token is
//! shown once, at creation or regeneration. It is derived from the server's
//! secret key, the link id and a random salt kept with the link
//! ([`secret::link_token`]), so the server alone can make it again for a
//! reminder ([`derived_token`]). A link is reusable until it expires or is
//! revoked; every open the client confirms is logged (time, IP, user agent)
//! in the audit log with an `onboarding.link_opened` event.

use baton_core::lifecycle::Lifecycle;
use baton_core::onboarding::{
    self, OnboardingSettings, ReminderItem, ReminderLink, MAX_EXPIRY_DAYS,
};
use baton_core::types::{AgencyId, ClientId, LinkId};
use baton_core::{events, ids, secret, CoreError};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::access_requests::{self, AccessRequest, NewRequest, Withdraw};
use crate::agencies::Agency;
use crate::clients::Client;
use crate::cx::Cx;
use crate::db::{typed_id, Db};
use crate::error::{Result, StoreError};
use crate::write::{Actor, NewEvent, Record, WriteTx};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Link {
    pub id: LinkId,
    pub client_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub regenerated_at: Option<i64>,
    pub open_count: i64,
    pub last_opened_at: Option<i64>,
    pub reminder_count: i64,
    pub last_reminded_at: Option<i64>,
    pub next_reminder_at: Option<i64>,
    /// Who reminders go to by email (when SMTP is configured).
    pub contact_email: Option<String>,
}

impl Link {
    /// `active`, `expired` or `revoked` at time `now`.
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "active"
        }
    }
}

const COLS: &str =
    "id, client_id, created_at, created_by, expires_at, revoked_at, regenerated_at, open_count, \
    last_opened_at, reminder_count, last_reminded_at, next_reminder_at, contact_email";

fn from_row(r: &AnyRow) -> Result<Link> {
    link_from_row_prefixed(r, "")
}

fn link_from_row_prefixed(r: &AnyRow, p: &str) -> Result<Link> {
    let c = |name: &str| format!("{p}{name}");
    Ok(Link {
        id: typed_id(r, c("id").as_str())?,
        client_id: r.try_get(c("client_id").as_str())?,
        created_at: r.try_get(c("created_at").as_str())?,
        created_by: r.try_get(c("created_by").as_str())?,
        expires_at: r.try_get(c("expires_at").as_str())?,
        revoked_at: r.try_get(c("revoked_at").as_str())?,
        regenerated_at: r.try_get(c("regenerated_at").as_str())?,
        open_count: r.try_get(c("open_count").as_str())?,
        last_opened_at: r.try_get(c("last_opened_at").as_str())?,
        reminder_count: r.try_get(c("reminder_count").as_str())?,
        last_reminded_at: r.try_get(c("last_reminded_at").as_str())?,
        next_reminder_at: r.try_get(c("next_reminder_at").as_str())?,
        contact_email: r.try_get(c("contact_email").as_str())?,
    })
}

/// A link just made: the token is here and nowhere else.
#[derive(Debug, Clone)]
pub struct CreatedLink {
    pub link: Link,
    pub token: String,
    pub requests: Vec<AccessRequest>,
}

/// Creates a link for a client with its requests, in one transaction.
/// `expires_in_days` defaults to the agency's setting; `secret_key` is the
/// server's, from which the token is derived.
pub async fn create(
    cx: Cx<'_>,
    client_id: &ClientId,
    requests: Vec<NewRequest>,
    expires_in_days: Option<i64>,
    contact_email: Option<&str>,
    secret_key: &str,
) -> Result<CreatedLink> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let client_id = client_id.as_str();
    let settings = open_client_settings(db, agency_id, client_id).await?;
    let days = expiry_days(&settings, expires_in_days)?;
    let contact_email = match contact_email.map(str::trim) {
        None | Some("") => None,
        Some(e) => Some(baton_core::validate::email(e).map_err(|e| match e {
            CoreError::Invalid { message, .. } => CoreError::invalid("contact_email", message),
            other => other,
        })?),
    };
    let catalog = crate::platforms::catalog(db, agency_id).await?;
    let requests = access_requests::validate_new(&catalog, requests)?;
    let id = ids::new_id(ids::LINK, now);
    let salt = secret::new_link_salt();
    let token = secret::link_token(secret_key, &id, &salt);
    let expires_at = now + days * DAY_MS;
    // Reminders are about required requests: a link of optional ones only
    // has none scheduled.
    let next_reminder = settings
        .next_reminder(now, 0)
        .filter(|t| *t < expires_at && requests.iter().any(|r| r.required));
    let mut tx = cx.begin().await?;
    sqlx::query(
        "INSERT INTO onboarding_links (id, agency_id, client_id, token_hash, created_at, created_by, expires_at, next_reminder_at, contact_email, token_salt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(client_id)
    .bind(secret::hash_token(&token))
    .bind(now)
    .bind(&actor.label)
    .bind(expires_at)
    .bind(next_reminder)
    .bind(contact_email.as_deref())
    .bind(&salt)
    .execute(tx.conn())
    .await?;
    let request_ids =
        access_requests::insert_all(tx.conn(), agency_id, client_id, &id, now, &requests).await?;
    let data = json!({
        "link_id": id,
        "expires_at": expires_at,
        "requests": requests.iter().zip(&request_ids).map(|(r, rid)| json!({
            "id": rid, "platform": r.platform, "permission": r.permission, "asset": r.asset, "required": r.required,
        })).collect::<Vec<_>>(),
    });
    tx.commit(
        Record::new(events::LINK_CREATED, "onboarding_link", &id, data.clone())
            .with_event(Some(client_id), data),
    )
    .await?;
    Ok(CreatedLink {
        link: get(db, agency_id, &id).await?,
        token,
        requests: access_requests::list_for_link(db, agency_id, &id).await?,
    })
}

/// The agency's onboarding settings, once the client is known to be in a
/// stage that takes links (not offboarding or archived).
async fn open_client_settings(
    db: &Db,
    agency_id: &str,
    client_id: &str,
) -> Result<OnboardingSettings> {
    let client = crate::clients::get(db, agency_id, client_id).await?;
    if matches!(
        client.lifecycle,
        Lifecycle::Offboarding | Lifecycle::Archived
    ) {
        return Err(CoreError::Conflict(format!(
            "the client is {}; onboarding links are for clients being onboarded or active",
            client.lifecycle.key()
        ))
        .into());
    }
    crate::onboarding_settings::get(db, agency_id).await
}

/// The requested validity in days, or the agency's default.
fn expiry_days(settings: &OnboardingSettings, requested: Option<i64>) -> Result<i64> {
    let days = requested.unwrap_or(settings.link_expiry_days as i64);
    if !(1..=MAX_EXPIRY_DAYS as i64).contains(&days) {
        return Err(CoreError::invalid(
            "expires_in_days",
            format!("must be 1 to {MAX_EXPIRY_DAYS}"),
        )
        .into());
    }
    Ok(days)
}

pub async fn get(db: &Db, agency_id: &str, id: &str) -> Result<Link> {
    if !ids::has_shape(id, ids::LINK) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM onboarding_links WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A client's links, newest first.
pub async fn list_for_client(db: &Db, agency_id: &str, client_id: &str) -> Result<Vec<Link>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM onboarding_links WHERE agency_id = $1 AND client_id = $2 ORDER BY id DESC"
    ))
    .bind(agency_id)
    .bind(client_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a link: its token stops working at once, and the requests it
/// asked for that still wait on the client are withdrawn (with an
/// `access.withdrawn` event), so the client's waiting counts and the access
/// board drop them. Revoking twice is fine.
pub async fn revoke(cx: Cx<'_>, id: &LinkId) -> Result<Link> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let id = id.as_str();
    let link = get(db, agency_id, id).await?;
    if link.revoked_at.is_some() {
        return Ok(link);
    }
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE onboarding_links SET revoked_at = $3, next_reminder_at = NULL WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let event_id = ids::new_id(ids::EVENT, now);
    let record = withdraw_for_link(
        &mut tx,
        &link,
        &event_id,
        events::LINK_REVOKED,
        None,
        "withdrawn: the link was revoked",
    )
    .await?;
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// The record of a link that stopped working (revoked or expired) with the
/// withdrawal of its open requests; `event_id` is the link event's id, the
/// cause the requests keep.
async fn withdraw_for_link(
    tx: &mut WriteTx,
    link: &Link,
    event_id: &str,
    event_type: &str,
    occurred_at: Option<i64>,
    why: &str,
) -> Result<Record> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let by = tx.actor().label.clone();
    let moved = access_requests::withdraw(
        tx.conn(),
        &agency_id,
        Withdraw::Link(&link.id),
        now,
        &by,
        why,
        event_id,
    )
    .await?;
    let data = json!({"link_id": link.id, "access_requests_withdrawn": moved.len()});
    let mut record =
        Record::new(event_type, "onboarding_link", &link.id, data.clone()).push_event(NewEvent {
            id: Some(event_id.to_string()),
            event_type: event_type.into(),
            client_id: Some(link.client_id.clone()),
            entity_type: "onboarding_link".into(),
            entity_id: link.id.to_string(),
            occurred_at,
            note: None,
            data,
        });
    if !moved.is_empty() {
        record = record.push_event(access_requests::moved_event(
            &link.client_id,
            &moved,
            event_id,
            why,
            false,
        ));
        if let Some(at) =
            access_requests::refresh_completion(tx.conn(), &agency_id, &link.client_id).await?
        {
            record = record.push_event(access_requests::completed_event(&link.client_id, at));
        }
    }
    Ok(record)
}

/// Links whose expiry has come and whose open requests are not withdrawn
/// yet, soonest first: (agency, link).
pub async fn due_expiries(db: &Db, now: i64, limit: i64) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT agency_id, id FROM onboarding_links WHERE expiry_handled_at IS NULL AND revoked_at IS NULL \
         AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    crate::db::agency_and_ids(&rows)
}

/// Records that a link expired (`onboarding.link_expired`, dated at its
/// expiry) and withdraws its open requests. The expiry is claimed inside the
/// transaction, so several servers record it once. `false` when another
/// process already did (or the link was revoked or regenerated meanwhile).
pub async fn expire(db: &Db, agency_id: &str, id: &str, now: i64) -> Result<bool> {
    let actor = Actor::system("link expiry");
    let mut tx = db.begin_write(agency_id, &actor, now).await?;
    let claimed = sqlx::query(
        "UPDATE onboarding_links SET expiry_handled_at = $3, next_reminder_at = NULL \
         WHERE agency_id = $1 AND id = $2 AND expiry_handled_at IS NULL AND revoked_at IS NULL AND expires_at <= $3",
    )
    .bind(agency_id)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(false);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM onboarding_links WHERE agency_id = $1 AND id = $2"
    ))
    .bind(agency_id)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let link = from_row(&row)?;
    let event_id = ids::new_id(ids::EVENT, now);
    let record = withdraw_for_link(
        &mut tx,
        &link,
        &event_id,
        events::LINK_EXPIRED,
        Some(link.expires_at.min(now)),
        "withdrawn: the link expired",
    )
    .await?;
    tx.commit(record).await?;
    Ok(true)
}

/// Gives a link a new token (the old one stops working) and, when it had
/// expired or was revoked, a new expiry: the same requests, a fresh URL.
/// The token is derived from a new salt and `secret_key`.
pub async fn regenerate(
    cx: Cx<'_>,
    id: &LinkId,
    expires_in_days: Option<i64>,
    secret_key: &str,
) -> Result<(Link, String)> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let id = id.as_str();
    let link = get(db, agency_id, id).await?;
    let settings = open_client_settings(db, agency_id, &link.client_id).await?;
    let days = expiry_days(&settings, expires_in_days)?;
    let salt = secret::new_link_salt();
    let token = secret::link_token(secret_key, id, &salt);
    let expires_at = now + days * DAY_MS;
    let (every, max) = access_requests::reminder_schedule(db, agency_id).await?;
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE onboarding_links SET token_hash = $3, regenerated_at = $4, revoked_at = NULL, expires_at = $5, \
         expiry_handled_at = NULL, token_salt = $6 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(secret::hash_token(&token))
    .bind(now)
    .bind(expires_at)
    .bind(&salt)
    .execute(tx.conn())
    .await?;
    // The requests its revoke or expiry withdrew wait on the client again.
    let causes: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM events WHERE agency_id = $1 AND entity_id = $2 AND type IN ($3, $4)",
    )
    .bind(agency_id)
    .bind(id)
    .bind(events::LINK_REVOKED)
    .bind(events::LINK_EXPIRED)
    .fetch_all(tx.conn())
    .await?;
    let mut restored = Vec::new();
    for cause in &causes {
        let moved = access_requests::restore(tx.conn(), agency_id, cause, now, every, max).await?;
        if !moved.is_empty() {
            restored.push(access_requests::moved_event(
                &link.client_id,
                &moved,
                cause,
                "the link was given a new URL",
                true,
            ));
        }
    }
    let data = json!({"link_id": id, "expires_at": expires_at});
    let mut record = Record::new(
        events::LINK_REGENERATED,
        "onboarding_link",
        id,
        data.clone(),
    )
    .with_event(Some(&link.client_id), data);
    for e in restored {
        record = record.push_event(e);
    }
    access_requests::refresh_completion(tx.conn(), agency_id, &link.client_id).await?;
    tx.commit(record).await?;
    Ok((get(db, agency_id, id).await?, token))
}

/// What the given platforms' client steps lack in the agency's onboarding
/// settings (see [`baton_core::platforms::setup_warnings`]): computed now,
/// never stored, so entering a value clears it.
pub async fn setup_warnings(
    db: &Db,
    agency_id: &str,
    platform_keys: &[&str],
) -> Result<Vec<baton_core::platforms::SetupWarning>> {
    let catalog = crate::platforms::catalog(db, agency_id).await?;
    let settings = crate::onboarding_settings::get(db, agency_id).await?;
    Ok(baton_core::platforms::setup_warnings(
        &catalog,
        platform_keys,
        &settings.platform_values,
    ))
}

/// The link's current token, made again from `secret_key` and the link's
/// salt, when it still opens the link (its hash is the stored one). `None`
/// for a link made before tokens were derivable (no salt), or when the
/// server's secret key has changed since the token was made. Says nothing
/// about expiry or revocation.
pub async fn derived_token(
    db: &Db,
    agency_id: &str,
    id: &str,
    secret_key: &str,
) -> Result<Option<String>> {
    if !ids::has_shape(id, ids::LINK) {
        return Err(StoreError::NotFound);
    }
    let row = sqlx::query(
        "SELECT token_hash, token_salt FROM onboarding_links WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    let stored: String = row.try_get("token_hash")?;
    let Some(salt) = row.try_get::<Option<String>, _>("token_salt")? else {
        return Ok(None);
    };
    let token = secret::link_token(secret_key, id, &salt);
    Ok(secret::constant_time_eq(&secret::hash_token(&token), &stored).then_some(token))
}

/// What a valid token opens.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub agency_id: String,
    pub link: Link,
}

/// Finds the live link for a token: `None` for a wrong, expired or revoked
/// token, or one whose client is offboarding or archived (the caller answers
/// all of them with the same 404). `only_agency` restricts the lookup to
/// one agency (requests on that agency's custom domain).
pub async fn resolve(
    db: &Db,
    token: &str,
    now: i64,
    only_agency: Option<&str>,
) -> Result<Option<Resolved>> {
    Ok(open_page(db, token, now, only_agency)
        .await?
        .map(|page| Resolved {
            agency_id: page.agency.id.into(),
            link: page.link,
        }))
}

/// Everything the client's page shows, read in one query: the live link for
/// a token with its agency (branding and onboarding settings), its client and
/// its requests in order. `None` exactly when [`resolve`] is `None`.
#[derive(Debug, Clone)]
pub struct LinkPage {
    pub agency: Agency,
    pub settings: OnboardingSettings,
    pub client: Client,
    pub link: Link,
    pub requests: Vec<AccessRequest>,
}

pub async fn open_page(
    db: &Db,
    token: &str,
    now: i64,
    only_agency: Option<&str>,
) -> Result<Option<LinkPage>> {
    // Not a token at all: no query.
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    let prefixed = |alias: &str, cols: &str| {
        cols.split(", ")
            .map(|c| format!("{alias}.{c} AS {alias}_{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "SELECT {}, {}, a.onboarding AS a_onboarding, {}, {} FROM onboarding_links l \
         JOIN clients c ON c.id = l.client_id JOIN agencies a ON a.id = l.agency_id \
         LEFT JOIN access_requests r ON r.link_id = l.id AND r.agency_id = l.agency_id \
         WHERE l.token_hash = $1 AND l.revoked_at IS NULL AND l.expires_at > $2 \
         AND c.lifecycle IN ('won', 'onboarding', 'active') ORDER BY r.position",
        prefixed("l", COLS),
        prefixed("a", crate::agencies::COLS),
        prefixed("c", crate::clients::COLS),
        access_requests::COLS,
    );
    let rows = sqlx::query(&sql)
        .bind(secret::hash_token(token))
        .bind(now)
        .fetch_all(db.reader())
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let agency = crate::agencies::from_row_prefixed(first, "a_")?;
    if only_agency.is_some_and(|a| agency.id != a) {
        return Ok(None);
    }
    let settings: String = first.try_get("a_onboarding")?;
    let mut requests = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<Option<String>, _>("id")?.is_some() {
            requests.push(access_requests::from_row(r)?);
        }
    }
    Ok(Some(LinkPage {
        settings: OnboardingSettings::from_stored(&settings),
        client: crate::clients::from_row_prefixed(first, "c_")?,
        link: link_from_row_prefixed(first, "l_")?,
        agency,
        requests,
    }))
}

/// Logs that the client opened the link (IP and user agent are on the actor).
pub async fn record_open(cx: Cx<'_>, link: &Link) -> Result<()> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let mut tx = cx.begin().await?;
    sqlx::query(
        "UPDATE onboarding_links SET open_count = open_count + 1, last_opened_at = $3 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(link.id.as_str())
    .bind(now)
    .execute(tx.conn())
    .await?;
    let detail = json!({"link_id": link.id, "ip": actor.ip, "user_agent": actor.user_agent});
    tx.commit(
        Record::new(events::LINK_OPENED, "onboarding_link", &link.id, detail).with_event(
            Some(&link.client_id),
            json!({"link_id": link.id, "open": link.open_count + 1}),
        ),
    )
    .await?;
    Ok(())
}

/// Links whose next reminder is due, across agencies (for the worker).
pub async fn due_reminders(db: &Db, now: i64, limit: i64) -> Result<Vec<(AgencyId, LinkId)>> {
    let rows = sqlx::query(
        "SELECT agency_id, id FROM onboarding_links WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= $1 \
         ORDER BY next_reminder_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((typed_id(r, "agency_id")?, typed_id(r, "id")?)))
        .collect()
}

/// The earliest scheduled reminder, so the worker can sleep until then.
pub async fn next_reminder_at(db: &Db) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(next_reminder_at) FROM onboarding_links")
            .fetch_one(db.reader())
            .await?,
    )
}

/// A reminder that was prepared (and sent, when email is configured).
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    pub link_id: String,
    pub client_id: String,
    /// The text as the client gets it: with the link when one was given.
    pub text: String,
    /// Requests named in the text (waiting on the client).
    pub pending: usize,
    /// Of those, the required ones.
    pub required_pending: usize,
    /// Whether the text carries the link itself (else it points to the
    /// message that carried it).
    pub includes_link: bool,
    /// `copy` (no email configured: the text is ready to copy) or `email`.
    pub channel: String,
}

/// What a link's reminder is about: its requests waiting on the client,
/// and of those the required and the optional ones, named as the agency's
/// platform catalogue names them (platform, permission, why it failed).
struct Waiting {
    waiting: Vec<AccessRequest>,
    required: Vec<ReminderItem>,
    optional: Vec<ReminderItem>,
}

async fn waiting_on_client(db: &Db, agency_id: &str, link_id: &str) -> Result<Waiting> {
    let requests = access_requests::list_for_link(db, agency_id, link_id).await?;
    let catalog = crate::platforms::catalog(db, agency_id).await?;
    let item = |r: &AccessRequest| -> ReminderItem {
        let p = catalog.iter().find(|p| p.key == r.platform);
        let name = p
            .map(|p| p.name.clone())
            .unwrap_or_else(|| r.platform.clone());
        let perm = p
            .and_then(|p| p.permission(&r.permission))
            .map(|x| x.name.clone())
            .unwrap_or_else(|| r.permission.clone());
        (name, perm, r.failed_reason.clone())
    };
    let waiting: Vec<AccessRequest> = requests
        .into_iter()
        .filter(|r| r.waiting_on() == Some(baton_core::access::WaitingOn::Client))
        .collect();
    let (required, optional) = waiting.iter().partition::<Vec<_>, _>(|r| r.required);
    Ok(Waiting {
        required: required.into_iter().map(item).collect(),
        optional: optional.into_iter().map(item).collect(),
        waiting,
    })
}

/// Prepares a reminder for a link if a required request waits on the
/// client, records it as an `onboarding.reminder_sent` event and schedules
/// the next one. `scheduled` reminders (from the worker) only run when due,
/// and stop once every required request is done (granted, verified or
/// withdrawn) even if optional ones still wait; they start again when a
/// required one fails. A member's reminder runs at once, does not count
/// against the schedule's limit, and may be about optional requests alone.
///
/// `link_url` is the link's current URL when the server could derive it
/// ([`derived_token`]): the text then carries it. It is never stored: the
/// recorded text shows it shortened to `…/o/…`, and a queued email holds
/// [`baton_core::onboarding::LINK_SLOT`] where the sender puts the URL.
pub async fn remind(
    cx: Cx<'_>,
    id: &LinkId,
    scheduled: bool,
    email: bool,
    link_url: Option<&str>,
) -> Result<Option<Reminder>> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let id = id.as_str();
    let link = get(db, agency_id, id).await?;
    let settings = crate::onboarding_settings::get(db, agency_id).await?;
    let agency = crate::agencies::get(db, agency_id).await?;
    let client = crate::clients::get(db, agency_id, &link.client_id).await?;
    let Waiting {
        waiting,
        required,
        optional,
    } = waiting_on_client(db, agency_id, id).await?;
    let live = link.state(now) == "active"
        && matches!(
            client.lifecycle,
            Lifecycle::Won | Lifecycle::Onboarding | Lifecycle::Active
        );
    if scheduled && (link.next_reminder_at.is_none_or(|t| t > now)) {
        return Ok(None);
    }
    // The schedule nags about required requests only; a member may ask for
    // a reminder about optional ones.
    let nothing = required.is_empty() && (scheduled || optional.is_empty());
    if nothing || !live {
        let why = Idle {
            live,
            waiting: !waiting.is_empty(),
            scheduled,
        };
        return nothing_to_remind(db, agency_id, actor, now, &link, why).await;
    }
    let sent_on = baton_core::clock::local_day(
        link.regenerated_at.unwrap_or(link.created_at),
        &agency.timezone,
    );
    let write = |to: ReminderLink<'_>| {
        onboarding::reminder_text(&agency.name, &client.name, to, &required, &optional)
    };
    let fallback = write(ReminderLink::SentOn(&sent_on));
    let (text, recorded) = match link_url {
        Some(url) => (
            write(ReminderLink::Url(url)),
            write(ReminderLink::Url(&onboarding::redact_link(url))),
        ),
        None => (fallback.clone(), fallback.clone()),
    };
    let count = if scheduled {
        link.reminder_count + 1
    } else {
        link.reminder_count
    };
    let next = next_reminder(&settings, now, &link, count, scheduled, required.is_empty());
    let mut tx = cx.begin().await?;
    let claimed = claim_reminder(&mut tx, &link, count, next, scheduled).await?;
    if !claimed {
        return Ok(None);
    }
    let reminder = Reminder {
        link_id: id.to_string(),
        client_id: client.id.to_string(),
        text,
        pending: waiting.len(),
        required_pending: required.len(),
        includes_link: link_url.is_some(),
        channel: if email && link.contact_email.is_some() {
            "email"
        } else {
            "copy"
        }
        .into(),
    };
    if reminder.channel == "email" {
        // The queued message holds a slot, not the link: the sender derives
        // the URL when it sends, or sends the fallback text.
        let with_slot = link_url.map(|_| write(ReminderLink::Url(onboarding::LINK_SLOT)));
        let job = reminder_email(
            link.contact_email.as_deref().unwrap_or_default(),
            &onboarding::reminder_subject(&agency.name, &client.name),
            &agency.name,
            &fallback,
            with_slot.as_deref().map(|text| (text, id)),
        );
        tx.enqueue("email", &job).await?;
    }
    let data = json!({
        "link_id": id, "pending": waiting.len(), "required_pending": required.len(),
        "channel": reminder.channel, "scheduled": scheduled, "text": recorded,
        "includes_link": reminder.includes_link,
    });
    tx.commit(
        Record::new(
            events::REMINDER_SENT,
            "onboarding_link",
            id,
            json!({"pending": waiting.len(), "scheduled": scheduled}),
        )
        .with_event(Some(&client.id), data),
    )
    .await?;
    Ok(Some(reminder))
}

/// Why a reminder found nothing to do.
struct Idle {
    /// The link is active and the client still being onboarded or active.
    live: bool,
    /// Some request (required or not) waits on the client.
    waiting: bool,
    /// The worker's scheduled reminder, not a member's.
    scheduled: bool,
}

/// A reminder with nothing to remind about: the schedule stops (with the
/// reason recorded); a scheduled reminder then does nothing, a member's is
/// refused (409) saying why.
async fn nothing_to_remind(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    link: &Link,
    why: Idle,
) -> Result<Option<Reminder>> {
    if let Some(due) = link.next_reminder_at {
        let reason = if !why.live {
            "link not active"
        } else if !why.waiting {
            "nothing waits on the client"
        } else {
            "every required request is done"
        };
        stop_reminders(db, agency_id, actor, now, &link.id, due, reason).await?;
    }
    if why.scheduled {
        return Ok(None);
    }
    Err(CoreError::Conflict(if why.live {
        "nothing on this link is waiting on the client".into()
    } else {
        format!(
            "the link is {}; regenerate it before reminding the client",
            link.state(now)
        )
    })
    .into())
}

/// When the next scheduled reminder is due after this one (the `count`th
/// counted), before the link expires. With no required request left (a
/// member's reminder about optional ones) the schedule stays stopped; a
/// member's reminder otherwise keeps the schedule's due time when the
/// limit is reached.
fn next_reminder(
    settings: &OnboardingSettings,
    now: i64,
    link: &Link,
    count: i64,
    scheduled: bool,
    none_required: bool,
) -> Option<i64> {
    if none_required {
        None
    } else {
        settings
            .next_reminder(now, count as u32)
            .filter(|t| *t < link.expires_at)
            .or(if scheduled {
                None
            } else {
                link.next_reminder_at
            })
    }
}

/// Records the reminder on the link. A scheduled reminder claims its slot:
/// with several servers on one database only the one whose update still
/// sees the due time sends it (`false` for the others).
async fn claim_reminder(
    tx: &mut WriteTx,
    link: &Link,
    count: i64,
    next: Option<i64>,
    scheduled: bool,
) -> Result<bool> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let claimed = sqlx::query(
        "UPDATE onboarding_links SET reminder_count = $3, last_reminded_at = $4, next_reminder_at = $5 \
         WHERE agency_id = $1 AND id = $2 AND (next_reminder_at = $6 OR $7 = 0)",
    )
    .bind(&agency_id)
    .bind(link.id.as_str())
    .bind(count)
    .bind(now)
    .bind(next)
    .bind(link.next_reminder_at.unwrap_or(-1))
    .bind(scheduled as i64)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

/// Stops a link's reminder schedule, due at `due`, for `reason`. Claimed
/// like a reminder: with several servers on one database only the one whose
/// update still sees the schedule stops it (and writes the one audit
/// entry); the others write nothing.
async fn stop_reminders(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    due: i64,
    reason: &str,
) -> Result<()> {
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let stopped = sqlx::query(
        "UPDATE onboarding_links SET next_reminder_at = NULL \
         WHERE agency_id = $1 AND id = $2 AND next_reminder_at = $3",
    )
    .bind(agency_id)
    .bind(id)
    .bind(due)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if stopped == 1 {
        tx.commit(Record::new(
            "onboarding.reminders_stopped",
            "onboarding_link",
            id,
            json!({"reason": reason}),
        ))
        .await?;
    }
    Ok(())
}

/// The outbox job of a reminder email. `with_link`: the text holding
/// [`onboarding::LINK_SLOT`] where the sender puts the link's URL, and the
/// link's id; without it (or when the URL cannot be made at sending time)
/// the `fallback` text goes out.
fn reminder_email(
    to: &str,
    subject: &str,
    from_name: &str,
    fallback: &str,
    with_link: Option<(&str, &str)>,
) -> serde_json::Value {
    let mut job = json!({
        "to": to,
        "subject": subject,
        "text": fallback,
        "from_name": from_name,
    });
    if let Some((text, link_id)) = with_link {
        job["text"] = json!(text);
        job["fallback_text"] = json!(fallback);
        job["onboarding_link"] = json!(link_id);
    }
    job
}
