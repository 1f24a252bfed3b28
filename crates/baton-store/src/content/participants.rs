//! Who reviews and who approves: the client's defaults and an item's
//! participants, with the policy's rule on when a change applies.

use std::collections::BTreeSet;

use baton_core::content::ApprovalMode;
use baton_core::policy::{self, Effect};
use baton_core::types::{ClientId, ContentId};
use baton_core::CoreError;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::Record;

use super::{event, get, lock, parse, text, Item, PendingParticipants};

/// The client's approval defaults: (mode, reviewers, approvers).
pub async fn client_defaults(
    conn: &mut AnyConnection,
    agency_id: &str,
    client_id: &str,
) -> Result<(ApprovalMode, Vec<String>, Vec<String>)> {
    let row = sqlx::query(
        "SELECT approval_mode, reviewers, approvers FROM client_content_settings WHERE agency_id = $1 AND client_id = $2",
    )
    .bind(agency_id)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok((ApprovalMode::All, vec![], vec![])),
        Some(r) => Ok((
            ApprovalMode::parse(&r.try_get::<String, _>("approval_mode")?).unwrap_or_default(),
            parse(&r.try_get::<String, _>("reviewers")?, "reviewers")?,
            parse(&r.try_get::<String, _>("approvers")?, "approvers")?,
        )),
    }
}

/// Saves a client's approval defaults (new items start with them).
pub async fn save_client_defaults(
    cx: Cx<'_>,
    client_id: &ClientId,
    p: &Participants,
) -> Result<(ApprovalMode, Vec<String>, Vec<String>)> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    let hit =
        sqlx::query("UPDATE clients SET updated_at = updated_at WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id.as_str())
            .execute(tx.conn())
            .await?
            .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    let (reviewers, approvers) = checked_people(tx.conn(), agency_id, p).await?;
    let mode = p.mode.unwrap_or_default();
    sqlx::query("DELETE FROM client_content_settings WHERE agency_id = $1 AND client_id = $2")
        .bind(agency_id)
        .bind(client_id.as_str())
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO client_content_settings (agency_id, client_id, approval_mode, reviewers, approvers, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(agency_id)
    .bind(client_id.as_str())
    .bind(mode.key())
    .bind(text(&reviewers)?)
    .bind(text(&approvers)?)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let data = json!({"approval_mode": mode.key(), "reviewers": reviewers, "approvers": approvers});
    tx.commit(
        Record::new(
            "client.content_settings_changed",
            "client",
            client_id,
            data.clone(),
        )
        .with_event(Some(client_id.as_str()), data),
    )
    .await?;
    Ok((mode, reviewers, approvers))
}

/// The approver id that stands for the client (who decides on the item's
/// approval link, without an account); defined by the policy.
pub use baton_core::policy::CLIENT_APPROVER;

/// Active members of the agency among `ids` (each once) with their names,
/// or a 422 naming the first one who cannot be chosen: by name when they
/// are a (deactivated) member, as given when nobody has that id.
async fn members_of(
    conn: &mut AnyConnection,
    agency_id: &str,
    field: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if ids.len() > 50 {
        return Err(CoreError::invalid(field, "at most 50 people").into());
    }
    for id in ids {
        let id = id.trim();
        // The client approves on their approval link: "client" in approvers.
        if id == CLIENT_APPROVER && field == "approvers" {
            if seen.insert(id.to_string()) {
                out.push((id.to_string(), "the client".to_string()));
            }
            continue;
        }
        let row = sqlx::query("SELECT active, name FROM members WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let name = match row {
            Some(r) if r.try_get::<i64, _>("active")? == 1 => r.try_get::<String, _>("name")?,
            Some(r) => {
                let name: String = r.try_get("name")?;
                return Err(CoreError::invalid(
                    field,
                    format!("{name} is no longer an active member of this agency"),
                )
                .into());
            }
            None => {
                return Err(CoreError::invalid(
                    field,
                    format!("{id:?} is not a member of this agency"),
                )
                .into())
            }
        };
        if seen.insert(id.to_string()) {
            out.push((id.to_string(), name));
        }
    }
    Ok(out)
}

/// The reviewers and approvers of `p`, each an active member (or the
/// client, as approver) and listed once. Approval stays narrow: nobody is
/// both, and the refusal names them.
async fn checked_people(
    conn: &mut AnyConnection,
    agency_id: &str,
    p: &Participants,
) -> Result<(Vec<String>, Vec<String>)> {
    let reviewers = members_of(conn, agency_id, "reviewers", &p.reviewers).await?;
    let approvers = members_of(conn, agency_id, "approvers", &p.approvers).await?;
    if let Some((_, name)) = reviewers
        .iter()
        .find(|(r, _)| approvers.iter().any(|(a, _)| a == r))
    {
        return Err(CoreError::invalid(
            "approvers",
            format!("{name} is listed as reviewer and approver: keep approval narrow, choose one"),
        )
        .into());
    }
    let ids = |v: Vec<(String, String)>| v.into_iter().map(|(id, _)| id).collect();
    Ok((ids(reviewers), ids(approvers)))
}

/// Who reviews and who approves an item, and how approvals combine.
#[derive(Debug, Clone, Default)]
pub struct Participants {
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// `None` keeps the item's mode.
    pub mode: Option<ApprovalMode>,
    /// An admin makes the change: on an item it applies at once, even
    /// during an open round ([`policy::participants_effect`]). Whether the
    /// person may make it at all is the handler's question
    /// ([`policy::can`]); the store does not authorize.
    pub by_admin: bool,
}

/// Sets who reviews (comments) and who approves (decides). Approval stays
/// narrow: a member is a reviewer or an approver, not both. During an open
/// round a change by anyone but an admin is kept as the item's pending
/// participants (`content.participants_changed` with `"applies":
/// "next_round"`) and applied when the next round opens ([`submit`](super::submit)); the
/// open round is decided by the approvers it was submitted to. Otherwise it
/// applies at once (`"applies": "now"`) and replaces any pending change.
pub async fn set_participants(cx: Cx<'_>, id: &ContentId, p: &Participants) -> Result<Item> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let (reviewers, approvers) = checked_people(tx.conn(), agency_id, p).await?;
    let mode = p.mode.unwrap_or(item.approval_mode);
    let effect = policy::participants_effect(p.by_admin, item.status);
    let applies = match effect {
        Effect::Now => {
            sqlx::query(
                "UPDATE content_items SET reviewers = $3, approvers = $4, approval_mode = $5, updated_at = $6, \
                 pending_participants = NULL WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id.as_str())
            .bind(text(&reviewers)?)
            .bind(text(&approvers)?)
            .bind(mode.key())
            .bind(now)
            .execute(tx.conn())
            .await?;
            "now"
        }
        Effect::NextRound => {
            let pending = PendingParticipants {
                reviewers: reviewers.clone(),
                approvers: approvers.clone(),
                approval_mode: mode,
                by: actor.label.clone(),
                by_id: actor.id.clone(),
                at: now,
            };
            sqlx::query(
                "UPDATE content_items SET pending_participants = $3, updated_at = $4 \
                 WHERE agency_id = $1 AND id = $2",
            )
            .bind(agency_id)
            .bind(id.as_str())
            .bind(text(&pending)?)
            .bind(now)
            .execute(tx.conn())
            .await?;
            "next_round"
        }
    };
    let data = json!({"reviewers": reviewers, "approvers": approvers, "approval_mode": mode.key(),
        "applies": applies, "round": item.round,
        "replaced_pending": item.pending_participants.is_some()});
    let mut record = Record::new("content.participants_changed", "content", id, data.clone());
    record
        .events
        .push(event(&item, "content.participants_changed", data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Event of a pending change of reviewers and approvers applied as the next
/// round opened.
pub const PARTICIPANTS_APPLIED: &str = "content.participants_applied";
