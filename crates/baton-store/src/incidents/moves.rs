//! The moves of an incident (`triage`, `mitigate`, `resolve`, `close`,
//! `cancel`), each checked against the lifecycle (409 naming the allowed
//! moves) and recorded with its event; timeline notes; the postmortem and
//! its follow-up actions. Closing a sev1/sev2 needs a postmortem (422), and
//! open follow-up actions hold the close unless an override reason is given
//! (the caller asks the policy who may give one).

use baton_core::incidents::{self, FollowUp, Move, Postmortem, Severity, Status};
use baton_core::types::{IncidentActionId, IncidentId, IncidentNoteId, MemberId};
use baton_core::{events, validate, CoreError};
use serde_json::{json, Value};
use sqlx::Row;

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{NewEvent, Record, WriteTx};

use super::{get_on, Incident};

/// Locks the incident's row (the portable `SELECT … FOR UPDATE`) and reads it.
async fn lock(tx: &mut WriteTx, id: &IncidentId) -> Result<Incident> {
    let agency_id = tx.agency_id().to_string();
    let hit = sqlx::query(
        "UPDATE incidents SET updated_at = updated_at WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(id.as_str())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if hit == 0 {
        return Err(StoreError::NotFound);
    }
    get_on(tx.conn(), &agency_id, id.as_str()).await
}

fn event(i: &Incident, kind: &str, note: Option<&str>, data: Value) -> NewEvent {
    NewEvent {
        id: None,
        event_type: kind.into(),
        client_id: i.client_id.clone(),
        entity_type: "incident".into(),
        entity_id: i.id.to_string(),
        occurred_at: None,
        note: note.map(String::from),
        data,
    }
}

/// Commits one move: the status, the columns in `set` (`$4` is now, the
/// texts in `args` are `$5`, `$6`, …) and the move's event.
async fn commit_move(
    mut tx: WriteTx,
    i: &Incident,
    mv: Move,
    set: &str,
    args: Vec<String>,
    note: Option<&str>,
    data: Value,
) -> Result<()> {
    let to = incidents::check_move(i.status, mv)?;
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let sql = format!(
        "UPDATE incidents SET status = $3, updated_at = $4{set} WHERE agency_id = $1 AND id = $2"
    );
    let mut q = sqlx::query(&sql)
        .bind(&agency_id)
        .bind(i.id.as_str())
        .bind(to.key())
        .bind(now);
    for a in args {
        q = q.bind(a);
    }
    q.execute(tx.conn()).await?;
    let mut data = data;
    data["incident_id"] = json!(i.id);
    data["from"] = json!(i.status.key());
    data["to"] = json!(to.key());
    let mut record = Record::new(mv.event(), "incident", i.id.as_str(), data.clone());
    record.events.push(event(i, mv.event(), note, data));
    tx.commit(record).await?;
    Ok(())
}

async fn reread(cx: Cx<'_>, id: &IncidentId) -> Result<Incident> {
    get_on(
        &mut *cx.db.reader().acquire().await?,
        cx.agency_id(),
        id.as_str(),
    )
    .await
}

fn required_note(field: &str, v: &str) -> Result<String> {
    Ok(validate::note(field, v)?)
}

fn optional_note(field: &str, v: Option<&str>) -> Result<Option<String>> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) => Ok(Some(validate::note(field, n)?)),
    }
}

/// An active member of the agency, by id, for the field `field` (422).
pub(crate) async fn active_member(tx: &mut WriteTx, field: &str, id: &str) -> Result<String> {
    let agency_id = tx.agency_id().to_string();
    let row = sqlx::query("SELECT name, active FROM members WHERE agency_id = $1 AND id = $2")
        .bind(&agency_id)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    match row {
        Some(r) if r.try_get::<i64, _>("active")? != 0 => Ok(r.try_get("name")?),
        Some(_) => Err(CoreError::invalid(field, format!("member {id} is deactivated")).into()),
        None => Err(CoreError::invalid(field, format!("no member {id} in this agency")).into()),
    }
}

/// What triage sets.
#[derive(Debug, Clone)]
pub struct Triage {
    /// The confirmed severity (unchanged when absent).
    pub severity: Option<Severity>,
    /// The incident lead.
    pub lead: MemberId,
    /// The response plan.
    pub plan: String,
}

/// `reported → triaged`: severity confirmed, lead set, plan written. The
/// triage clock stops (on time or not is kept).
pub async fn triage(cx: Cx<'_>, id: &IncidentId, t: Triage) -> Result<Incident> {
    let plan = required_note("plan", &t.plan)?;
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    incidents::check_move(i.status, Move::Triage)?;
    let lead_name = active_member(&mut tx, "lead", t.lead.as_str()).await?;
    let severity = t.severity.unwrap_or(i.severity);
    let data = json!({
        "severity": severity.key(), "severity_was": i.severity.key(), "lead": t.lead,
        "lead_name": lead_name, "plan": plan, "on_time": cx.now < i.triage_due_at,
    });
    commit_move(
        tx,
        &i,
        Move::Triage,
        ", severity = $5, lead_member_id = $6, plan = $7, triaged_at = $4, next_change_at = NULL",
        vec![severity.key().into(), t.lead.to_string(), plan.clone()],
        None,
        data,
    )
    .await?;
    reread(cx, id).await
}

/// `triaged → mitigated`: the response plan is executed.
pub async fn mitigate(cx: Cx<'_>, id: &IncidentId, note: Option<&str>) -> Result<Incident> {
    let note = optional_note("note", note)?;
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    commit_move(
        tx,
        &i,
        Move::Mitigate,
        ", mitigated_at = $4",
        vec![],
        note.as_deref(),
        json!({}),
    )
    .await?;
    reread(cx, id).await
}

/// `mitigated → resolved`: the note is the log's closing summary.
pub async fn resolve(cx: Cx<'_>, id: &IncidentId, note: &str) -> Result<Incident> {
    let note = required_note("note", note)?;
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    commit_move(
        tx,
        &i,
        Move::Resolve,
        ", resolved_at = $4, closing_summary = $5",
        vec![note.clone()],
        Some(&note),
        json!({}),
    )
    .await?;
    reread(cx, id).await
}

/// `… → cancelled` (not an incident after all), with the reason. Its SOP
/// run is cancelled with it.
pub async fn cancel(cx: Cx<'_>, id: &IncidentId, reason: &str) -> Result<Incident> {
    let reason = required_note("reason", reason)?;
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    commit_move(
        tx,
        &i,
        Move::Cancel,
        ", cancelled_at = $4, cancel_reason = $5, next_change_at = NULL",
        vec![reason.clone()],
        Some(&reason),
        json!({"reason": reason}),
    )
    .await?;
    reread(cx, id).await
}

/// `resolved → closed`. A sev1/sev2 needs a postmortem (given here or saved
/// before; 422). Open follow-up actions hold the close (409) unless
/// `override_reason` is given — the caller lets only admins give one.
pub async fn close(
    cx: Cx<'_>,
    id: &IncidentId,
    postmortem: Option<(Postmortem, Vec<FollowUp>)>,
    override_reason: Option<&str>,
) -> Result<Incident> {
    let override_reason = optional_note("override_reason", override_reason)?;
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    incidents::check_move(i.status, Move::Close)?;
    let mut extra = Vec::new();
    let has_postmortem = match postmortem {
        Some((pm, actions)) => {
            extra = write_postmortem(&mut tx, &i, &pm, &actions).await?;
            true
        }
        None => i.postmortem.is_some(),
    };
    if i.severity.needs_postmortem() && !has_postmortem {
        return Err(CoreError::invalid(
            "postmortem",
            format!(
                "a {} incident needs a postmortem (summary, impact, detection, response, root cause) before it closes",
                i.severity.key()
            ),
        )
        .into());
    }
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT title FROM incident_actions WHERE agency_id = $1 AND incident_id = $2 AND done_at IS NULL ORDER BY due_at, id",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .fetch_all(tx.conn())
    .await?;
    if !open.is_empty() && override_reason.is_none() {
        return Err(CoreError::Conflict(format!(
            "follow-up actions are still open ({}); finish them, or an admin closes with an override reason",
            open.join("; ")
        ))
        .into());
    }
    let data = json!({"override_reason": override_reason, "open_actions": open});
    // The postmortem's own events go with the close, in one transaction.
    let to = incidents::check_move(i.status, Move::Close)?;
    sqlx::query(
        "UPDATE incidents SET status = $3, closed_at = $4, close_override = $5, updated_at = $4 \
         WHERE agency_id = $1 AND id = $2",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(to.key())
    .bind(cx.now)
    .bind(override_reason.as_deref())
    .execute(tx.conn())
    .await?;
    let mut data = data;
    data["incident_id"] = json!(i.id);
    data["from"] = json!(i.status.key());
    data["to"] = json!(to.key());
    let mut record = Record::new(
        events::INCIDENT_CLOSED,
        "incident",
        id.as_str(),
        data.clone(),
    );
    record.events.extend(extra);
    record.events.push(event(
        &i,
        events::INCIDENT_CLOSED,
        override_reason.as_deref(),
        data,
    ));
    tx.commit(record).await?;
    reread(cx, id).await
}

/// Saves (replaces) the postmortem and adds its new follow-up actions.
/// Open from triage until closed.
pub async fn save_postmortem(
    cx: Cx<'_>,
    id: &IncidentId,
    pm: Postmortem,
    actions: Vec<FollowUp>,
) -> Result<Incident> {
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    if matches!(
        i.status,
        Status::Reported | Status::Closed | Status::Cancelled
    ) {
        return Err(CoreError::Conflict(format!(
            "the incident is {}: a postmortem is written after triage and before closing",
            i.status.key()
        ))
        .into());
    }
    let evs = write_postmortem(&mut tx, &i, &pm, &actions).await?;
    let mut record = Record::new(
        events::INCIDENT_POSTMORTEM,
        "incident",
        id.as_str(),
        json!({"actions": actions.len()}),
    );
    record.events = evs;
    tx.commit(record).await?;
    reread(cx, id).await
}

/// Writes the postmortem and its actions inside `tx`; returns the event.
async fn write_postmortem(
    tx: &mut WriteTx,
    i: &Incident,
    pm: &Postmortem,
    actions: &[FollowUp],
) -> Result<Vec<NewEvent>> {
    pm.validate()?;
    if actions.len() > 50 {
        return Err(CoreError::invalid("actions", "at most 50 follow-up actions").into());
    }
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    let tz: String = sqlx::query_scalar("SELECT timezone FROM agencies WHERE id = $1")
        .bind(&agency_id)
        .fetch_one(tx.conn())
        .await?;
    let tz = baton_core::human::zone(&tz);
    let mut added = Vec::new();
    for (n, a) in actions.iter().enumerate() {
        let field = format!("actions[{n}]");
        let title = validate::name(&format!("{field}.title"), &a.title)?;
        active_member(tx, &format!("{field}.owner"), &a.owner).await?;
        let due_at = incidents::end_of_day(&a.due_on, &tz).map_err(|_| {
            CoreError::invalid(format!("{field}.due_on"), "must be a date, YYYY-MM-DD")
        })?;
        let action_id = IncidentActionId::new(now);
        sqlx::query(
            "INSERT INTO incident_actions (id, agency_id, incident_id, title, owner_member_id, due_on, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(action_id.as_str())
        .bind(&agency_id)
        .bind(i.id.as_str())
        .bind(&title)
        .bind(&a.owner)
        .bind(&a.due_on)
        .bind(due_at)
        .bind(now)
        .execute(tx.conn())
        .await?;
        added.push(json!({"id": action_id, "title": title, "owner": a.owner, "due_on": a.due_on}));
    }
    let text = serde_json::to_string(pm).map_err(|e| StoreError::Config(e.to_string()))?;
    sqlx::query(
        "UPDATE incidents SET postmortem = $3, updated_at = $4 WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(i.id.as_str())
    .bind(&text)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(vec![event(
        i,
        events::INCIDENT_POSTMORTEM,
        None,
        json!({"incident_id": i.id, "actions": added}),
    )])
}

/// Marks a follow-up action done.
pub async fn finish_action(
    cx: Cx<'_>,
    id: &IncidentId,
    action: &IncidentActionId,
) -> Result<Incident> {
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    let title: Option<String> = sqlx::query_scalar(
        "SELECT title FROM incident_actions WHERE agency_id = $1 AND incident_id = $2 AND id = $3 AND done_at IS NULL",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(action.as_str())
    .fetch_optional(tx.conn())
    .await?;
    let Some(title) = title else {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT id FROM incident_actions WHERE agency_id = $1 AND incident_id = $2 AND id = $3",
        )
        .bind(cx.agency_id())
        .bind(id.as_str())
        .bind(action.as_str())
        .fetch_optional(tx.conn())
        .await?;
        return Err(match exists {
            Some(_) => CoreError::Conflict("this follow-up action is already done".into()).into(),
            None => StoreError::NotFound,
        });
    };
    sqlx::query(
        "UPDATE incident_actions SET done_at = $4, done_by = $5 WHERE agency_id = $1 AND incident_id = $2 AND id = $3",
    )
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(action.as_str())
    .bind(cx.now)
    .bind(&cx.actor.label)
    .execute(tx.conn())
    .await?;
    let data = json!({"incident_id": i.id, "action_id": action, "title": title});
    let mut record = Record::new(
        events::INCIDENT_ACTION_DONE,
        "incident",
        id.as_str(),
        data.clone(),
    );
    record
        .events
        .push(event(&i, events::INCIDENT_ACTION_DONE, None, data));
    tx.commit(record).await?;
    reread(cx, id).await
}

/// Appends a note to the timeline at `at` (when it happened; now when
/// absent; not in the future).
pub async fn add_note(
    cx: Cx<'_>,
    id: &IncidentId,
    note: &str,
    at: Option<i64>,
) -> Result<Incident> {
    let note = required_note("note", note)?;
    crate::clients::check_past_time("at", at, cx.now)?;
    let at = at.unwrap_or(cx.now);
    let mut tx = cx.begin().await?;
    let i = lock(&mut tx, id).await?;
    let note_id = IncidentNoteId::new(cx.now);
    let member = matches!(cx.actor.kind.as_str(), "member" | "token").then_some(&cx.actor.id);
    sqlx::query(
        "INSERT INTO incident_notes (id, agency_id, incident_id, at, note, author, author_member_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(note_id.as_str())
    .bind(cx.agency_id())
    .bind(id.as_str())
    .bind(at)
    .bind(&note)
    .bind(&cx.actor.label)
    .bind(member)
    .bind(cx.now)
    .execute(tx.conn())
    .await?;
    let data = json!({"incident_id": i.id, "note_id": note_id, "at": at});
    let mut record = Record::new(events::INCIDENT_NOTE, "incident", id.as_str(), data.clone());
    let mut ev = event(&i, events::INCIDENT_NOTE, Some(&note), data);
    ev.occurred_at = Some(at);
    record.events.push(ev);
    tx.commit(record).await?;
    reread(cx, id).await
}
