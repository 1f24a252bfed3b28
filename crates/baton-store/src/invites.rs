//! One-time invite links: an admin adds a member, the member opens the link
//! once, sets a password, and the link is spent.

use baton_core::types::MemberId;
use baton_core::{ids, secret};
use serde_json::json;
use sqlx::Row;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::members::{self, Member, MemberInput};
use crate::write::{Actor, Record};

/// How long an invite link works.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// Adds a member without a password plus an invite for them, in one
/// transaction. Returns the member and the secret invite token.
pub async fn create_member_with_invite(cx: Cx<'_>, input: MemberInput) -> Result<(Member, String)> {
    let (agency_id, actor, now) = (cx.agency_id(), cx.actor, cx.now);
    let roles = baton_core::roles::parse_roles(&input.roles)?;
    let mut tx = cx.begin().await?;
    let m = members::insert(
        &mut tx,
        members::NewMember {
            email: input.email,
            name: input.name,
            roles,
            is_admin: input.is_admin,
            password_hash: None,
        },
    )
    .await?;
    let token = secret::random_token();
    let invite_id = ids::new_id(ids::INVITE, now);
    sqlx::query(
        "INSERT INTO invites (id, agency_id, member_id, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&invite_id)
    .bind(agency_id)
    .bind(&m.id)
    .bind(secret::hash_token(&token))
    .bind(&actor.id)
    .bind(now)
    .bind(now + INVITE_TTL_MS)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(baton_core::events::MEMBER_INVITED, "member", &m.id, json!({"email": m.email, "roles": m.roles, "is_admin": m.is_admin, "invite_id": invite_id}))
            .with_event(None, json!({"email": m.email, "name": m.name})),
    )
    .await?;
    Ok((m, token))
}

/// Issues a fresh invite for an existing member who has not set a password yet
/// (earlier unused invites stop working).
pub async fn reissue(cx: Cx<'_>, member_id: &MemberId) -> Result<String> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let member_id = member_id.as_str();
    let m = members::get(db, agency_id, member_id).await?;
    if m.has_password {
        return Err(baton_core::CoreError::Conflict(format!(
            "{} has already set a password",
            m.email
        ))
        .into());
    }
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE invites SET expires_at = $3 WHERE agency_id = $1 AND member_id = $2 AND accepted_at IS NULL")
        .bind(agency_id)
        .bind(member_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let token = secret::random_token();
    let invite_id = ids::new_id(ids::INVITE, now);
    sqlx::query(
        "INSERT INTO invites (id, agency_id, member_id, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&invite_id)
    .bind(agency_id)
    .bind(member_id)
    .bind(secret::hash_token(&token))
    .bind(&actor.id)
    .bind(now)
    .bind(now + INVITE_TTL_MS)
    .execute(tx.conn())
    .await?;
    tx.commit(Record::new(
        "member.invite_reissued",
        "member",
        member_id,
        json!({"invite_id": invite_id}),
    ))
    .await?;
    Ok(token)
}

/// The member an unspent, unexpired invite token is for.
pub async fn find(db: &Db, token: &str, now: i64) -> Result<Option<(String, Member)>> {
    let row = sqlx::query(
        "SELECT id, agency_id, member_id FROM invites WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
    )
    .bind(secret::hash_token(token))
    .bind(now)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let agency_id: String = row.try_get("agency_id")?;
    let member_id: String = row.try_get("member_id")?;
    let m = members::get(db, &agency_id, &member_id).await?;
    Ok(Some((row.try_get("id")?, m)))
}

/// Spends the invite and sets the member's password, in one transaction.
/// A second use of the same link finds nothing to spend.
pub async fn accept(
    db: &Db,
    token: &str,
    actor: &Actor,
    now: i64,
    password_hash: &str,
) -> Result<Member> {
    let (invite_id, member) = find(db, token, now).await?.ok_or(StoreError::NotFound)?;
    let mut tx = db.begin_write(&member.agency_id, actor, now).await?;
    let spent =
        sqlx::query("UPDATE invites SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL")
            .bind(&invite_id)
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if spent == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
        "UPDATE members SET password_hash = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(member.agency_id.as_str())
    .bind(&member.id)
    .bind(password_hash)
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit(
        Record::new(
            "member.invite_accepted",
            "member",
            &member.id,
            json!({"invite_id": invite_id}),
        )
        .with_event(None, json!({"email": member.email})),
    )
    .await?;
    members::get(db, &member.agency_id, &member.id).await
}
