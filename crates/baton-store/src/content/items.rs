//! Creating and editing items: the brief, title, format, campaign and
//! caption, including the caption edit that reopens an approval.

use std::collections::BTreeMap;

use baton_core::content::{self, ContentAction, ContentBrief, ContentStatus};
use baton_core::types::{ClientId, ContentId};
use baton_core::{events, ids, validate, CoreError};
use serde_json::json;

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{Record, WriteTx};

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
    /// The day it is planned to go out (`YYYY-MM-DD`, agency time).
    pub planned_on: Option<String>,
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
pub async fn create(cx: Cx<'_>, client_id: &ClientId, n: NewItem) -> Result<Item> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    let title = validate::name("title", &n.title)?;
    let channel = channel_key(&n.channel)?;
    let format = short("format", &n.format, 60)?;
    let campaign = short("campaign", &n.campaign, 120)?;
    let brief = n.brief.validated()?;
    let caption = content::validate_caption(&n.caption)?;
    let planned_on = planned_day(n.planned_on.as_deref())?;
    let mut tx = cx.begin().await?;
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(agency_id)
            .bind(client_id.as_str())
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
         approval_mode, reviewers, approvers, qa, created_by, created_at, updated_at, caption, planned_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'brief', $9, $10, $11, $12, $13, $14, $14, $15, $16)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(client_id.as_str())
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
    .bind(&planned_on)
    .execute(tx.conn())
    .await?;
    let data = json!({"content_id": id, "title": title, "channel": channel, "brief_complete": brief.is_complete(), "planned_on": planned_on});
    tx.commit(
        Record::new(content::CYCLE_STARTED, "content", &id, data.clone())
            .with_event(Some(client_id.as_str()), data),
    )
    .await?;
    get(db, agency_id, &id).await
}

/// A planned day, checked: `YYYY-MM-DD` (a real day), or none.
fn planned_day(v: Option<&str>) -> Result<Option<String>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => {
            let ok = d.len() == 10 && d.parse::<jiff::civil::Date>().is_ok();
            if !ok {
                return Err(CoreError::invalid("planned_on", "must be a date, YYYY-MM-DD").into());
            }
            Ok(Some(d.to_string()))
        }
    }
}

/// Plans (or moves, or clears) the day an item is to go out; the move is an
/// event (`content.replanned`, from and to, with the reason), so the
/// on-time KPI and the timeline show it. A published or cancelled item's
/// plan is history (409).
pub async fn plan(
    cx: Cx<'_>,
    id: &ContentId,
    planned_on: Option<&str>,
    reason: Option<&str>,
) -> Result<Item> {
    let (db, agency_id) = (cx.db, cx.agency_id());
    let planned_on = planned_day(planned_on)?;
    let reason = match reason.map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(validate::note("reason", r)?),
    };
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    if !item.status.is_open() {
        return Err(CoreError::Conflict(format!(
            "the item is {}: its plan is history",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    if item.planned_on == planned_on {
        return get(db, agency_id, id).await;
    }
    sqlx::query("UPDATE content_items SET planned_on = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id.as_str())
        .bind(&planned_on)
        .bind(cx.now)
        .execute(tx.conn())
        .await?;
    let data = json!({"content_id": id, "title": item.title, "from": item.planned_on, "to": planned_on, "reason": reason});
    tx.commit(
        Record::new(
            events::CONTENT_REPLANNED,
            "content",
            id.as_str(),
            data.clone(),
        )
        .with_event(Some(&item.client_id), data),
    )
    .await?;
    get(db, agency_id, id).await
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
pub async fn update(cx: Cx<'_>, id: &ContentId, p: ItemPatch) -> Result<Item> {
    let (db, agency_id) = (cx.db, cx.agency_id());
    let mut p = p.checked()?;
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let caption = p.caption.take().filter(|c| *c != item.caption);
    let reopen = edit_allowed(&item, p.others(), caption.is_some())?;
    let edit = Edit::of(&item, p, caption, reopen)?;
    write_edit(&mut tx, id, &edit, reopen).await?;
    tx.commit(edit_record(&item, id, &edit, reopen)).await?;
    get(db, agency_id, id).await
}

/// An [`ItemPatch`] with each given field checked.
struct CheckedPatch {
    title: Option<String>,
    format: Option<String>,
    campaign: Option<String>,
    brief: Option<ContentBrief>,
    caption: Option<String>,
}

impl ItemPatch {
    /// Checks each given field, before the write lock is taken.
    fn checked(self) -> Result<CheckedPatch> {
        let title = self
            .title
            .as_deref()
            .map(|t| validate::name("title", t))
            .transpose()?;
        let format = self
            .format
            .as_deref()
            .map(|f| short("format", f, 60))
            .transpose()?;
        let campaign = self
            .campaign
            .as_deref()
            .map(|c| short("campaign", c, 120))
            .transpose()?;
        let brief = self.brief.map(ContentBrief::validated).transpose()?;
        let caption = self
            .caption
            .as_deref()
            .map(content::validate_caption)
            .transpose()?;
        Ok(CheckedPatch {
            title,
            format,
            campaign,
            brief,
            caption,
        })
    }
}

impl CheckedPatch {
    /// Whether anything but the caption is edited.
    fn others(&self) -> bool {
        self.title.is_some()
            || self.format.is_some()
            || self.campaign.is_some()
            || self.brief.is_some()
    }
}

/// Whether the item's status takes the edit (409 with the reason when
/// not); `Ok(true)` when a new caption reopens its approval.
fn edit_allowed(item: &Item, others: bool, new_caption: bool) -> Result<bool> {
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
    if new_caption && item.status == ContentStatus::InReview {
        return Err(CoreError::Conflict(
            "a review round is open: the caption under review stays as submitted; \
             request changes (or wait for the decision), then edit it"
                .into(),
        )
        .into());
    }
    if new_caption && !(editable || approved) {
        return Err(CoreError::Conflict(format!(
            "the item is {}: its caption stays as it was",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    Ok(new_caption && approved)
}

/// The item as edited: every field, the QA checklist and the status.
struct Edit {
    title: String,
    format: String,
    campaign: String,
    brief: ContentBrief,
    changed_caption: bool,
    caption: String,
    qa: QaState,
    status: ContentStatus,
}

impl Edit {
    /// The item with the patch applied (the caption given apart, only when
    /// it differs from the item's). A reopened approval clears the
    /// whole publishing QA (every check is about the copy); a new caption
    /// otherwise unticks only the checks it breaks.
    fn of(item: &Item, p: CheckedPatch, caption: Option<String>, reopen: bool) -> Result<Edit> {
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
        Ok(Edit {
            title: p.title.unwrap_or_else(|| item.title.clone()),
            format: p.format.unwrap_or_else(|| item.format.clone()),
            campaign: p.campaign.unwrap_or_else(|| item.campaign.clone()),
            brief: p.brief.unwrap_or_else(|| item.brief.clone()),
            changed_caption,
            caption,
            qa,
            status,
        })
    }
}

/// Writes the edited item; a reopened approval drops its QA waiver too.
async fn write_edit(tx: &mut WriteTx, id: &str, e: &Edit, reopen: bool) -> Result<()> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    sqlx::query(
        "UPDATE content_items SET title = $3, format = $4, campaign = $5, brief = $6, updated_at = $7, \
         caption = $8, qa = $9, status = $10 WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(id)
    .bind(&e.title)
    .bind(&e.format)
    .bind(&e.campaign)
    .bind(text(&e.brief)?)
    .bind(now)
    .bind(&e.caption)
    .bind(text(&e.qa)?)
    .bind(e.status.key())
    .execute(tx.conn())
    .await?;
    if reopen {
        sqlx::query(
            "UPDATE content_items SET qa_waived_reason = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(&agency_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// `content.updated`, and `content.approval_reopened` when the edit
/// reopened the approval.
fn edit_record(item: &Item, id: &str, e: &Edit, reopen: bool) -> Record {
    let data = json!({"title": e.title, "brief_complete": e.brief.is_complete(), "brief_missing": e.brief.missing(),
        "caption_changed": e.changed_caption});
    let mut record = Record::new("content.updated", "content", id, data.clone());
    record.events.push(event(item, "content.updated", data));
    if reopen {
        let ev = content::action_event(ContentAction::ReopenApproval);
        record.events.push(event(
            item,
            ev,
            json!({"reason": CAPTION_REOPENS, "from": item.status.key(), "to": e.status.key(),
                "round": item.round, "version": item.current_version,
                "unscheduled": item.status == ContentStatus::Scheduled, "qa_reset": true}),
        ));
    }
    record
}
