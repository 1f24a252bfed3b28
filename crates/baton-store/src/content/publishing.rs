//! After review: the plain status moves (approve the brief, cancel,
//! unschedule, publish), the publishing QA checklist and the schedule.

use std::collections::BTreeMap;

use baton_core::content::{self, ContentAction, ContentStatus};
use baton_core::types::ContentId;
use baton_core::{validate, CoreError};
use serde_json::json;

use crate::cx::Cx;
use crate::error::Result;
use crate::write::Record;

use super::{event, get, lock, set_status, text, Done, Item};

/// Moves an item by one of the plain actions (approve the brief, cancel,
/// unschedule, publish), recording the action's event.
pub async fn act(cx: Cx<'_>, id: &ContentId, action: ContentAction) -> Result<Item> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, action)?;
    match action {
        ContentAction::ApproveBrief if !item.brief.is_complete() => {
            return Err(CoreError::Conflict(format!(
                "the brief is not complete: fill {}",
                item.brief.missing().join(", ")
            ))
            .into());
        }
        ContentAction::ApproveBrief | ContentAction::Cancel | ContentAction::Unschedule => {
            set_status(&mut tx, &item, to, "", &[]).await?
        }
        ContentAction::Publish => {
            set_status(&mut tx, &item, to, ", published_at = $5", &[Some(now)]).await?
        }
        _ => {
            return Err(CoreError::Conflict(format!(
                "use the item's own endpoint to {}",
                action.key().replace('_', " ")
            ))
            .into())
        }
    }
    let ev = content::action_event(action);
    let data = json!({"from": item.status.key(), "to": to.key()});
    let mut record = Record::new(ev, "content", id, data.clone());
    record.events.push(event(&item, ev, data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Ticks or unticks QA items; who did it is recorded.
pub async fn set_qa(cx: Cx<'_>, id: &ContentId, items: &BTreeMap<String, bool>) -> Result<Item> {
    let (db, agency_id, actor, now) = (cx.db, cx.agency_id(), cx.actor, cx.now);
    if items.is_empty() {
        return Err(CoreError::invalid("items", "name at least one QA item").into());
    }
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    if matches!(
        item.status,
        ContentStatus::Published | ContentStatus::Cancelled
    ) {
        return Err(CoreError::Conflict(format!(
            "the item is {}",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let mut qa = item.qa.clone();
    let problems = content::caption_problems(&item.channel, &item.caption);
    for (key, &tick) in items {
        let Some(line) = qa.items.iter().find(|i| &i.key == key) else {
            return Err(CoreError::invalid(
                "items",
                format!("{key:?} is not on this item's QA checklist"),
            )
            .into());
        };
        if let Some(p) = problems.iter().find(|p| p.key == key).filter(|_| tick) {
            return Err(CoreError::invalid(
                "items",
                format!("\"{}\" cannot be ticked: {}", line.label, p.message),
            )
            .into());
        }
        if tick {
            qa.done.entry(key.clone()).or_insert(Done {
                at: now,
                by: actor.label.clone(),
            });
        } else {
            qa.done.remove(key);
        }
    }
    sqlx::query("UPDATE content_items SET qa = $3, qa_by = $4, qa_at = $5, updated_at = $5 WHERE agency_id = $1 AND id = $2")
        .bind(agency_id)
        .bind(id.as_str())
        .bind(text(&qa)?)
        .bind(&actor.label)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let data = json!({"done": qa.done.len(), "of": qa.items.len(), "complete": qa.complete()});
    let mut record = Record::new("content.qa_changed", "content", id, data.clone());
    record.events.push(event(&item, "content.qa_changed", data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Schedules an approved item. Refused (409) until its QA checklist is
/// complete, unless QA is waived with a reason — recorded as an incident
/// risk (`content.qa_waived`).
pub async fn schedule(
    cx: Cx<'_>,
    id: &ContentId,
    publish_at: i64,
    waive_reason: Option<&str>,
) -> Result<Item> {
    let (db, agency_id, actor) = (cx.db, cx.agency_id(), cx.actor);
    let waive = match waive_reason.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => Some(validate::note("qa_waived_reason", w)?),
        None => None,
    };
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, ContentAction::Schedule)?;
    if !item.qa.complete() && waive.is_none() {
        let missing: Vec<&str> = item
            .qa
            .items
            .iter()
            .filter(|i| !item.qa.done.contains_key(&i.key))
            .map(|i| i.label.as_str())
            .collect();
        return Err(CoreError::Conflict(format!(
            "publishing QA is not complete: {} item{} left ({}); finish it or waive it with a reason",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            missing.join("; ")
        ))
        .into());
    }
    set_status(&mut tx, &item, to, ", publish_at = $5", &[Some(publish_at)]).await?;
    let ev = content::action_event(ContentAction::Schedule);
    let data = json!({"publish_at": publish_at, "qa_by": item.qa_by, "qa_waived": waive.is_some()});
    let mut record = Record::new(ev, "content", id, data.clone());
    record.events.push(event(&item, ev, data));
    if let Some(reason) = &waive {
        sqlx::query(
            "UPDATE content_items SET qa_waived_reason = $3 WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id.as_str())
        .bind(reason)
        .execute(tx.conn())
        .await?;
        record.events.push(event(
            &item,
            "content.qa_waived",
            json!({"reason": reason, "incident_risk": true, "by": actor.label}),
        ));
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
}
