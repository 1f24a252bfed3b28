//! Approval rounds: submitting a version, comments, approvers' decisions
//! and closing a round with its consolidated feedback.

use baton_core::content::{
    self, ContentAction, ContentStatus, Decision, RevisionSize, RoundOutcome,
};
use baton_core::policy;
use baton_core::types::ContentId;
use baton_core::{ids, validate, CoreError};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{Record, WriteTx};

use super::{event, get, lock, set_status, text, Item, Remark, PARTICIPANTS_APPLIED};

/// Submits the current version for review: opens a round (records
/// `content.drafts_ready`, which starts the review and approval SOP) with
/// the item's caption as the round's. Needs a version and at least one
/// approver. A pending change of reviewers and approvers applies here, in
/// the same transaction, before the round opens
/// ([`PARTICIPANTS_APPLIED`]).
pub async fn submit(cx: Cx<'_>, id: &ContentId) -> Result<Item> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let to = content::transition(item.status, ContentAction::Submit)?;
    if item.current_version == 0 {
        return Err(CoreError::Conflict(
            "add a version (a file or a link) before submitting".into(),
        )
        .into());
    }
    let mut record = Record::new(
        content::action_event(ContentAction::Submit),
        "content",
        id,
        json!({}),
    );
    let mut approvers = &item.approvers;
    if let Some(p) = &item.pending_participants {
        approvers = &p.approvers;
        sqlx::query(
            "UPDATE content_items SET reviewers = $3, approvers = $4, approval_mode = $5, \
             pending_participants = NULL WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(id.as_str())
        .bind(text(&p.reviewers)?)
        .bind(text(&p.approvers)?)
        .bind(p.approval_mode.key())
        .execute(tx.conn())
        .await?;
        record.events.push(event(
            &item,
            PARTICIPANTS_APPLIED,
            json!({"reviewers": p.reviewers, "approvers": p.approvers,
                "approval_mode": p.approval_mode.key(), "applied": "next_round",
                "round": item.round + 1, "requested_by": p.by, "requested_at": p.at}),
        ));
    }
    if approvers.is_empty() {
        return Err(CoreError::Conflict(
            "name at least one approver first (PUT …/participants): someone must decide".into(),
        )
        .into());
    }
    let round = item.round + 1;
    sqlx::query(
        "INSERT INTO content_rounds (agency_id, content_id, round, version_n, submitted_at, caption) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(agency_id)
    .bind(id.as_str())
    .bind(round)
    .bind(item.current_version)
    .bind(now)
    .bind(&item.caption)
    .execute(tx.conn())
    .await?;
    set_status(
        &mut tx,
        &item,
        to,
        ", round = $5, submitted_at = $6, first_submitted_at = COALESCE(first_submitted_at, $6)",
        &[Some(round), Some(now)],
    )
    .await?;
    let ev = content::action_event(ContentAction::Submit);
    let data = json!({"round": round, "version": item.current_version,
        "participants_applied": item.pending_participants.is_some()});
    record.detail = data.clone();
    record.events.push(event(&item, ev, data));
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

/// Who is speaking: a member of the agency or the client on their link.
#[derive(Debug, Clone)]
pub enum Speaker {
    Member { id: String, name: String },
    Client { name: String },
}

impl Speaker {
    fn parts(&self) -> (&'static str, String, String) {
        match self {
            Speaker::Member { id, name } => ("member", id.clone(), name.clone()),
            Speaker::Client { name } => ("client", String::new(), name.clone()),
        }
    }
}

/// A comment on the current round.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub who: Speaker,
    pub body: String,
    /// The client sees it on their approval link. Members' comments are
    /// internal unless marked; the client's own are always theirs to see.
    pub for_client: bool,
}

/// Adds a comment to the current round (review is broad: any member, and
/// the client on their link).
pub async fn comment(cx: Cx<'_>, id: &ContentId, c: &NewComment) -> Result<Remark> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let (who, for_client) = (
        &c.who,
        c.for_client || matches!(c.who, Speaker::Client { .. }),
    );
    let body = validate::note("body", &c.body)?;
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    if !item.status.is_open() {
        return Err(CoreError::Conflict(format!(
            "the item is {}",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let (kind, author_id, label) = who.parts();
    let cid = ids::new_id(ids::COMMENT, now);
    sqlx::query(
        "INSERT INTO content_comments (id, agency_id, content_id, round, version_n, author_kind, author_id, author_label, body, created_at, for_client) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&cid)
    .bind(agency_id)
    .bind(id.as_str())
    .bind(item.round)
    .bind(item.current_version)
    .bind(kind)
    .bind(&author_id)
    .bind(&label)
    .bind(&body)
    .bind(now)
    .bind(i64::from(for_client))
    .execute(tx.conn())
    .await?;
    let data = json!({"comment_id": cid, "round": item.round, "by": label, "author_kind": kind, "for_client": for_client});
    let mut record = Record::new("content.commented", "content", id, data.clone());
    record.events.push(event(&item, "content.commented", data));
    tx.commit(record).await?;
    Ok(Remark {
        id: cid,
        round: item.round,
        version_n: item.current_version,
        author_kind: kind.into(),
        author_id,
        author_label: label,
        decision: None,
        body: Some(body),
        for_client,
        created_at: now,
    })
}

/// The round's feedback as one list: every comment and decision comment of
/// the round, "Name: text", in time order.
async fn consolidate(
    conn: &mut AnyConnection,
    agency_id: &str,
    id: &str,
    round: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT author_label, body, created_at, id FROM content_comments WHERE agency_id = $1 AND content_id = $2 AND round = $3 \
         UNION ALL SELECT author_label, comment AS body, created_at, id FROM content_decisions \
         WHERE agency_id = $1 AND content_id = $2 AND round = $3 AND comment IS NOT NULL ORDER BY created_at, id",
    )
    .bind(agency_id)
    .bind(id)
    .bind(round)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let who: String = r.try_get("author_label")?;
            let body: String = r.try_get("body")?;
            Ok(format!("{who}: {body}"))
        })
        .collect()
}

/// A decision on the current round.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub who: Speaker,
    pub decision: Decision,
    /// Required when requesting changes.
    pub comment: Option<String>,
    /// For a request for changes: major or minor (minor when absent).
    pub revision: Option<RevisionSize>,
}

/// Records an approver's decision on the current round. A reviewer (or any
/// other member) deciding is refused (403): approval is narrow. The item is
/// approved when the approvers' decisions say so (all, or any one, as the
/// item is set); a request for changes closes the round as a revision
/// (`major` or `minor`, minor by default) with the consolidated feedback.
pub async fn decide(cx: Cx<'_>, id: &ContentId, d: &NewDecision) -> Result<Item> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let comment = d.checked_comment()?;
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let (kind, _, label) = d.who.parts();
    let approver_key = approver_key(&d.who, &item)?;
    if item.status != ContentStatus::InReview {
        return Err(CoreError::Conflict(format!(
            "nothing to decide: the item is {} (decisions are made on a submitted version)",
            item.status.label().to_lowercase()
        ))
        .into());
    }
    let did = ids::new_id(ids::DECISION, now);
    sqlx::query(
        "INSERT INTO content_decisions (id, agency_id, content_id, round, version_n, author_kind, author_id, author_label, decision, comment, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&did)
    .bind(agency_id)
    .bind(id.as_str())
    .bind(item.round)
    .bind(item.current_version)
    .bind(kind)
    .bind(&approver_key)
    .bind(&label)
    .bind(d.decision.key())
    .bind(&comment)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let decisions = round_decisions(&mut tx, &item).await?;
    let outcome = content::round_outcome(item.approval_mode, &item.approvers, &decisions);
    let ev_data = json!({"round": item.round, "version": item.current_version, "decision": d.decision.key(), "by": label});
    let mut record = Record::new("content.decided", "content", id, ev_data.clone());
    record.events.push(event(&item, "content.decided", ev_data));
    match outcome {
        RoundOutcome::Pending { .. } => {}
        RoundOutcome::Approved => {
            let business = item
                .first_submitted_at
                .map(|s| calendar.business_between(s, now));
            approve_round(&mut tx, &item, business, &mut record).await?;
        }
        RoundOutcome::ChangesRequested => {
            let size = d.revision.unwrap_or(RevisionSize::Minor);
            request_changes(&mut tx, &item, size, &mut record).await?;
        }
    }
    tx.commit(record).await?;
    get(db, agency_id, id).await
}

impl NewDecision {
    /// The decision's comment, trimmed and checked; required (422) when
    /// requesting changes.
    fn checked_comment(&self) -> Result<Option<String>> {
        let comment = match self
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(c) => Some(validate::note("comment", c)?),
            None => None,
        };
        if self.decision == Decision::RequestChanges && comment.is_none() {
            return Err(CoreError::invalid("comment", "say what should change").into());
        }
        Ok(comment)
    }
}

/// The key `who` decides under on the locked item, or 403: the client
/// decides for the client's side; among members only the round's
/// approvers (the policy's rule).
fn approver_key(who: &Speaker, item: &Item) -> Result<String> {
    let decider = match who {
        Speaker::Member { id: m, .. } => policy::Decider::Member { id: m },
        Speaker::Client { .. } => policy::Decider::Client,
    };
    policy::may_decide(
        decider,
        policy::RoundSeats {
            approvers: &item.approvers,
            next_round_approvers: item
                .pending_participants
                .as_ref()
                .map(|p| p.approvers.as_slice()),
            reviewers: &item.reviewers,
        },
    )
    .map_err(|d| StoreError::Forbidden(d.sentence))
}

/// Every decision of the item's round so far, members by id and the
/// client as "client", in order.
async fn round_decisions(tx: &mut WriteTx, item: &Item) -> Result<Vec<(String, Decision)>> {
    let agency_id = tx.agency_id().to_string();
    let rows = sqlx::query(
        "SELECT author_id, decision FROM content_decisions WHERE agency_id = $1 AND content_id = $2 AND round = $3 \
         ORDER BY created_at, id",
    )
    .bind(&agency_id)
    .bind(item.id.as_str())
    .bind(item.round)
    .fetch_all(tx.conn())
    .await?;
    let mut decisions = Vec::new();
    for r in &rows {
        let d: String = r.try_get("decision")?;
        if let Some(d) = Decision::parse(&d) {
            decisions.push((r.try_get::<String, _>("author_id")?, d));
        }
    }
    Ok(decisions)
}

/// The approvers approved: the item is approved (with the approval's
/// business time since first submission) and the round closed.
async fn approve_round(
    tx: &mut WriteTx,
    item: &Item,
    business: Option<i64>,
    record: &mut Record,
) -> Result<()> {
    let to = content::transition(item.status, ContentAction::Approve)?;
    let now = tx.now();
    set_status(
        tx,
        item,
        to,
        ", approved_at = $5, approval_business_ms = $6",
        &[Some(now), business],
    )
    .await?;
    close_round(tx, item, "approved", None).await?;
    let ev = content::action_event(ContentAction::Approve);
    record.events.push(event(
        item,
        ev,
        json!({"round": item.round, "version": item.current_version}),
    ));
    Ok(())
}

/// Changes were requested: the round closes as a revision of `size` with
/// the consolidated feedback.
async fn request_changes(
    tx: &mut WriteTx,
    item: &Item,
    size: RevisionSize,
    record: &mut Record,
) -> Result<()> {
    let to = content::transition(item.status, ContentAction::RequestChanges)?;
    set_status(tx, item, to, "", &[]).await?;
    let feedback = close_round(tx, item, "changes_requested", Some(size)).await?;
    let ev = content::action_event(ContentAction::RequestChanges);
    record.events.push(event(
        item,
        ev,
        json!({"round": item.round, "revision": size.key(), "feedback": feedback}),
    ));
    Ok(())
}

async fn close_round(
    tx: &mut WriteTx,
    item: &Item,
    outcome: &str,
    revision: Option<RevisionSize>,
) -> Result<Vec<String>> {
    let agency_id = tx.agency_id().to_string();
    let feedback = consolidate(tx.conn(), &agency_id, &item.id, item.round).await?;
    sqlx::query(
        "UPDATE content_rounds SET decided_at = $4, outcome = $5, revision = $6, consolidated = $7 \
         WHERE agency_id = $1 AND content_id = $2 AND round = $3",
    )
    .bind(&agency_id)
    .bind(item.id.as_str())
    .bind(item.round)
    .bind(tx.now())
    .bind(outcome)
    .bind(revision.map(|r| r.key()))
    .bind(text(&feedback)?)
    .execute(tx.conn())
    .await?;
    Ok(feedback)
}

/// Re-sizes the revision of decided round `round` (one that asked for
/// changes) to `size`, with why: a client's "small changes" that were really
/// a rework, or the reverse. The rework KPI counts the round by its new
/// size; the timeline keeps both (`content.revision_resized`). Who may is
/// the door's question (`policy::Action::ResizeRevision`). The same size
/// again changes nothing.
pub async fn resize_revision(
    cx: Cx<'_>,
    id: &ContentId,
    round: i64,
    size: RevisionSize,
    reason: &str,
) -> Result<Item> {
    let reason = validate::note("reason", reason)?;
    let mut tx = cx.begin().await?;
    let item = lock(&mut tx, id).await?;
    let row = sqlx::query(
        "SELECT outcome, revision FROM content_rounds WHERE agency_id = $1 AND content_id = $2 AND round = $3",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(round)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(StoreError::NotFound)?;
    let outcome: Option<String> = row.try_get("outcome")?;
    if outcome.as_deref() != Some("changes_requested") {
        return Err(CoreError::Conflict(format!(
            "round {round} did not ask for changes: only a revision can be re-sized"
        ))
        .into());
    }
    let from: Option<String> = row.try_get("revision")?;
    if from.as_deref() == Some(size.key()) {
        return get(cx.db, cx.agency_id(), id).await;
    }
    sqlx::query(
        "UPDATE content_rounds SET revision = $4 WHERE agency_id = $1 AND content_id = $2 AND round = $3",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(round)
    .bind(size.key())
    .execute(tx.conn())
    .await?;
    let data = json!({"round": round, "from": from, "to": size.key(), "reason": reason});
    let mut record = Record::new(
        "content.revision_resized",
        "content",
        id.as_str(),
        data.clone(),
    );
    record
        .events
        .push(event(&item, "content.revision_resized", data));
    tx.commit(record).await?;
    get(cx.db, cx.agency_id(), id).await
}
