//! Creating and editing items: the brief, title, format, campaign and
//! caption, including the caption edit that reopens an approval.

use std::collections::BTreeMap;

use baton_core::content::{self, ContentAction, ContentBrief, ContentStatus};
use baton_core::{ids, validate, CoreError};
use serde_json::json;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::{Actor, Record};

use super::{client_defaults, event, get, lock, settings_on, text, Item, QaState};

/// A new item.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    pub title: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    pub brief: ContentBrief,
    /// The caption (copy); may be written later.
    pub caption: String,
}

fn short(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(
            CoreError::invalid(field, format!("use at most {max} characters, one line")).into(),
        );
    }
    Ok(v.to_string())
}

fn channel_key(v: &str) -> Result<String> {
    let v = v.trim().to_lowercase();
    if v.is_empty()
        || v.len() > 40
        || !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(CoreError::invalid(
            "channel",
            "name the channel, e.g. instagram, tiktok, linkedin (letters, digits, _)",
        )
        .into());
    }
    Ok(v)
}

/// Creates an item in `brief` and records `content.cycle_started` (which
/// starts the content intake SOP). Reviewers, approvers and the approval
/// mode come from the client's settings; the QA checklist from the agency's
/// checklist for the channel (or Baton's default).
pub async fn create(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    client_id: &str,
    n: NewItem,
) -> Result<Item> {
    let title = validate::name("title", &n.title)?;
    let channel = channel_key(&n.channel)?;
    let format = short("format", &n.format, 60)?;
    let campaign = short("campaign", &n.campaign, 120)?;
    let brief = n.brief.validated()?;
    let caption = content::validate_caption(&n.caption)?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
    if lifecycle == "archived" {
        return Err(CoreError::Conflict("the client is archived: no new content".into()).into());
    }
    let (mode, reviewers, approvers) = client_defaults(tx.conn(), agency_id, client_id).await?;
    let settings = settings_on(tx.conn(), agency_id).await?;
    let qa = QaState {
        items: settings
            .qa
            .get(&channel)
            .cloned()
            .unwrap_or_else(|| content::default_qa(&channel)),
        done: BTreeMap::new(),
    };
    let id = ids::new_id(ids::CONTENT, now);
    sqlx::query(
        "INSERT INTO content_items (id, agency_id, client_id, title, channel, format, campaign, brief, status, \
         approval_mode, reviewers, approvers, qa, created_by, created_at, updated_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'brief', $9, $10, $11, $12, $13, $14, $14, $15)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(client_id)
    .bind(&title)
    .bind(&channel)
    .bind(&format)
    .bind(&campaign)
    .bind(text(&brief)?)
    .bind(mode.key())
    .bind(text(&reviewers)?)
    .bind(text(&approvers)?)
    .bind(text(&qa)?)
    .bind(&actor.label)
    .bind(now)
    .bind(&caption)
    .execute(tx.conn())
    .await?;
    let data = json!({"content_id": id, "title": title, "channel": channel, "brief_complete": brief.is_complete()});
    tx.commit(
        Record::new(content::CYCLE_STARTED, "content", &id, data.clone())
            .with_event(Some(client_id), data),
    )
    .await?;
    get(db, agency_id, &id).await
}

/// What an edit of an item may change; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub format: Option<String>,
    pub campaign: Option<String>,
    pub brief: Option<ContentBrief>,
    pub caption: Option<String>,
}

/// Why an approval was reopened, in the event and on the page.
pub const CAPTION_REOPENS: &str = "caption changed after approval";

/// Edits the title, format, campaign, brief or caption.
///
/// Once approved the item is what was approved: edits are refused (409)
/// from then on, except the caption's: a new caption on an approved or
/// scheduled item reopens approval ([`ContentAction::ReopenApproval`]: back
/// to `in_production`, taken off the schedule, its publishing QA to do
/// again, `content.approval_reopened` recorded) so the next round decides
/// on the new copy. During an open round the caption under review stays as
/// submitted (409). A caption that breaks the channel's length or hashtag
/// limit unticks that QA item.
pub async fn update(
    db: &Db,
    agency_id: &str,
    actor: &Actor,
    now: i64,
    id: &str,
    p: ItemPatch,
) -> Result<Item> {
    let title = p
        .title
        .as_deref()
        .map(|t| validate::name("title", t))
        .transpose()?;
    let format = p
        .format
        .as_deref()
        .map(|f| short("format", f, 60))
        .transpose()?;
    let campaign = p
        .campaign
        .as_deref()
        .map(|c| short("campaign", c, 120))
        .transpose()?;
    let brief = p.brief.map(ContentBrief::validated).transpose()?;
    let caption = p
        .caption
        .as_deref()
        .map(content::validate_caption)
        .transpose()?;
    let mut tx = db.begin_write(agency_id, actor, now).await?;
    let item = lock(&mut tx, id).await?;
    let caption = caption.filter(|c| *c != item.caption);
    let others = title.is_some() || format.is_some() || campaign.is_some() || brief.is_some();
    let approved = matches!(
        item.status,
        ContentStatus::Approved | ContentStatus::Scheduled
    );
    let editable = matches!(
        item.status,
        ContentStatus::Brief
            | ContentStatus::InProduction
            | ContentStatus::ChangesRequested
            | ContentStatus::InReview
    );
    if others && !editable {
        return Err(CoreError::Conflict(format!(
            "the item is {}: it stays as it was approved{}",
            item.status.label().to_lowercase(),
            if approved {
                " (a new caption reopens approval)"
            } else {
                ""
            }
        ))
        .into());
    }
    if caption.is_some() && item.status == ContentStatus::InReview {
        return Err(CoreError::Conflict(
            "a review round is open: the caption under review stays as submitted; \
             request changes (or wait for the decision), then edit it"
                .into(),
        )
        .into());
    }
    if caption.is_some() && !(editable || approved) {
        return Err(CoreError::Conflict(format!(
            "the item is {}: its caption stays as it was",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let reopen = caption.is_some() && approved;
    let title = title.unwrap_or_else(|| item.title.clone());
    let format = format.unwrap_or_else(|| item.format.clone());
    let campaign = campaign.unwrap_or_else(|| item.campaign.clone());
    let brief = brief.unwrap_or_else(|| item.brief.clone());
    let changed_caption = caption.is_some();
    let caption = caption.unwrap_or_else(|| item.caption.clone());
    let mut qa = item.qa.clone();
    if reopen {
        // The copy changed: every check of the publishing QA is about it.
        qa.done.clear();
    } else if changed_caption {
        for problem in content::caption_problems(&item.channel, &caption) {
            qa.done.remove(problem.key);
        }
    }
    let status = if reopen {
        content::transition(item.status, ContentAction::ReopenApproval)?
    } else {
        item.status
    };
    sqlx::query(
        "UPDATE content_items SET title = $3, format = $4, campaign = $5, brief = $6, updated_at = $7, \
         caption = $8, qa = $9, status = $10 WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(id)
    .bind(&title)
    .bind(&format)
    .bind(&campaign)
    .bind(text(&brief)?)
    .bind(now)
    .bind(&caption)
    .bind(text(&qa)?)
    .bind(status.key())
    .execute(tx.conn())
    .await?;
    if reopen {
        sqlx::query(
            "UPDATE content_items SET qa_waived_reason = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    let data = json!({"title": title, "brief_complete": brief.is_complete(), "brief_missing": brief.missing(),
        "caption_changed": changed_caption});
    let mut record = Record::new("content.updated", "content", id, data.clone());
    record.events.push(event(&item, "content.updated", data));
    if reopen {
        let ev = content::action_event(ContentAction::ReopenApproval);
        record.events.push(event(
            &item,
            ev,
            json!({"reason": CAPTION_REOPENS, "from": item.status.key(), "to": status.key(),
                "round": item.round, "version": item.current_version,
                "unscheduled": item.status == ContentStatus::Scheduled, "qa_reset": true}),
        ));
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
}
