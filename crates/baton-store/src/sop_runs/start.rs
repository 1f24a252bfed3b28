//! Starting runs: by hand, or from the trigger event's outbox job (once per
//! event), and re-resolving owners when the account team changes.

use baton_core::calendar::Calendar;
use baton_core::facts::Subject;
use baton_core::sop::{self, RunStatus, SopDefinition};
use baton_core::types::{ClientId, EventId, RunId};
use baton_core::{events, ids, CoreError};
use serde_json::{json, Value};
use sqlx::Row;

use crate::cx::Cx;
use crate::error::{Result, StoreError};
use crate::write::{Actor, NewEvent, Record, WriteTx};

use super::{apply_status, follow, from_row, get, get_on, resolve_owner, Run, COLS, FROM};

/// What starts a run.
#[derive(Debug, Clone)]
pub struct StartRun {
    pub sop_key: String,
    pub client_id: String,
    /// When the SLA clock starts (back-dated imports); now when absent.
    pub started_at: Option<i64>,
    /// The event that triggered it; `None` when started by hand.
    pub trigger_event_id: Option<String>,
}

/// Starts a run inside `tx`; `None` if the trigger event already started
/// this SOP (a replayed outbox job), or if the work it was for went away.
/// `week`: the ISO week a weekly-scorecard run is about (its subject).
async fn start_in_tx(
    tx: &mut WriteTx,
    calendar: &Calendar,
    s: &StartRun,
    week: Option<&str>,
    email: bool,
) -> Result<Option<(Run, Vec<NewEvent>)>> {
    let agency_id = tx.agency_id().to_string();
    let now = tx.now();
    if already_started(tx, s).await? || already_about_week(tx, s, week).await? {
        return Ok(None);
    }
    let lifecycle = startable_lifecycle(tx, s).await?;
    let (version, def) = crate::sops::current_in_tx(tx.conn(), &agency_id, &s.sop_key, now)
        .await?
        .ok_or_else(|| {
            CoreError::invalid("sop", format!("no SOP {:?} in the library", s.sop_key))
        })?;
    let trigger = trigger_of(tx, s).await?;
    let subject = match week {
        Some(w) => RunSubjectRow {
            kind: Some(Subject::Week),
            id: Some(w.to_string()),
            round: None,
        },
        None => RunSubjectRow::of(&def.key, s, trigger.as_ref()),
    };
    if s.trigger_event_id.is_some()
        && work_went_away(tx, s, &lifecycle, &def, &subject, &trigger).await?
    {
        return Ok(None);
    }
    let started_at = s.started_at.unwrap_or(now);
    let (owner, source) =
        resolve_owner(tx.conn(), &agency_id, &s.client_id, def.owner_role).await?;
    let (at_risk_at, due_at) = def.sla.deadlines(calendar, started_at, 0);
    let id = ids::new_id(ids::SOP_RUN, now);
    let actor = tx.actor().label.clone();
    sqlx::query(
        "INSERT INTO sop_runs (id, agency_id, client_id, sop_key, sop_version, trigger_event_id, started_at, \
         started_by, owner_member_id, owner_source, status, at_risk_at, due_at, next_change_at, checklist, \
         created_at, updated_at, subject_type, subject_id, subject_round) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'on_track', $11, $12, $11, '{}', $13, $13, $14, $15, $16)",
    )
    .bind(&id)
    .bind(&agency_id)
    .bind(&s.client_id)
    .bind(&def.key)
    .bind(version)
    .bind(&s.trigger_event_id)
    .bind(started_at)
    .bind(&actor)
    .bind(&owner)
    .bind(source)
    .bind(at_risk_at)
    .bind(due_at)
    .bind(now)
    .bind(subject.kind.map(Subject::key))
    .bind(&subject.id)
    .bind(subject.round)
    .execute(tx.conn())
    .await?;
    let mut run = get_on(tx.conn(), &agency_id, &id).await?;
    let mut evs = vec![NewEvent {
        id: None,
        event_type: events::SOP_RUN_STARTED.into(),
        client_id: Some(s.client_id.clone()),
        entity_type: "sop_run".into(),
        entity_id: id.clone(),
        occurred_at: Some(started_at),
        note: None,
        data: json!({
            "run_id": id, "sop": def.key, "sop_name": def.name, "version": version,
            "owner": run.owner_name, "owner_source": source, "due_at": due_at,
            "trigger_event_id": s.trigger_event_id, "subject": run.subject,
        }),
    }];
    // Facts already true tick at the start; a run whose work is already
    // done completes at once.
    evs.extend(follow::sync_new(tx, &mut run, calendar).await?);
    let (status, next) = sop::status_at(at_risk_at, due_at, now);
    if run.is_open() && status != RunStatus::OnTrack {
        // Back-dated: the run starts late and escalates at once.
        evs.extend(apply_status(tx, &mut run, status, next, email).await?);
    }
    Ok(Some((run, evs)))
}

/// Whether the trigger event already started this SOP (a replayed job).
async fn already_started(tx: &mut WriteTx, s: &StartRun) -> Result<bool> {
    let Some(ev) = &s.trigger_event_id else {
        return Ok(false);
    };
    let agency_id = tx.agency_id().to_string();
    // Per client: one `week_ended` starts a run for each active client.
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT id FROM sop_runs WHERE agency_id = $1 AND trigger_event_id = $2 AND sop_key = $3 \
         AND client_id = $4",
    )
    .bind(&agency_id)
    .bind(ev)
    .bind(&s.sop_key)
    .bind(&s.client_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(exists.is_some())
}

/// Whether the client already has a run of this SOP about `week` (a
/// scorecard shipped before the week ended started it).
async fn already_about_week(tx: &mut WriteTx, s: &StartRun, week: Option<&str>) -> Result<bool> {
    let Some(week) = week else {
        return Ok(false);
    };
    let agency_id = tx.agency_id().to_string();
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT id FROM sop_runs WHERE agency_id = $1 AND client_id = $2 AND sop_key = $3 \
         AND subject_type = 'week' AND subject_id = $4 AND cancelled_at IS NULL",
    )
    .bind(&agency_id)
    .bind(&s.client_id)
    .bind(&s.sop_key)
    .bind(week)
    .fetch_optional(tx.conn())
    .await?;
    Ok(exists.is_some())
}

/// Inside a scorecard's shipping: starts `sop_key` about `week` for each of
/// `clients` that has no run about it yet (the week had not ended, or the
/// client became active after it did), so shipping completes it. Returns
/// the records to commit with the change.
pub(crate) async fn start_for_week_in_tx(
    tx: &mut WriteTx,
    sop_key: &str,
    week: &str,
    clients: &[String],
    started_at: i64,
) -> Result<Vec<Record>> {
    let agency_id = tx.agency_id().to_string();
    let (calendar, _) = crate::calendars::get_on(tx.conn(), &agency_id).await?;
    let mut records = Vec::new();
    for client_id in clients {
        let s = StartRun {
            sop_key: sop_key.to_string(),
            client_id: client_id.clone(),
            started_at: Some(started_at),
            trigger_event_id: None,
        };
        if let Some((run, evs)) = start_in_tx(tx, &calendar, &s, Some(week), false).await? {
            let mut record = Record::new(
                events::SOP_RUN_STARTED,
                "sop_run",
                &run.id,
                json!({"sop": run.sop_key, "client_id": run.client_id, "week": week}),
            );
            record.events = evs;
            records.push(record);
        }
    }
    Ok(records)
}

/// The clients a clientless trigger event starts runs for: `week_ended`
/// starts the weekly cadence of every active client (about that week).
async fn fan_out(db: &crate::db::Db, agency_id: &str, event_type: &str) -> Result<Vec<String>> {
    if event_type != events::WEEK_ENDED {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT id FROM clients WHERE agency_id = $1 AND lifecycle = 'active' ORDER BY id",
    )
    .bind(agency_id)
    .fetch_all(db.reader())
    .await?)
}

/// The client's lifecycle (404 when there is no such client); an archived
/// client starts nothing by hand (409).
async fn startable_lifecycle(tx: &mut WriteTx, s: &StartRun) -> Result<String> {
    let agency_id = tx.agency_id().to_string();
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM clients WHERE agency_id = $1 AND id = $2")
            .bind(&agency_id)
            .bind(&s.client_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
    if lifecycle == "archived" && s.trigger_event_id.is_none() {
        return Err(
            CoreError::Conflict("the client is archived: no SOP can start for it".into()).into(),
        );
    }
    Ok(lifecycle)
}

/// The trigger event's (entity type, entity id, data); the data only for a
/// submission, which opens a round the run it starts reviews.
async fn trigger_of(tx: &mut WriteTx, s: &StartRun) -> Result<Option<(String, String, Value)>> {
    let Some(ev) = &s.trigger_event_id else {
        return Ok(None);
    };
    let agency_id = tx.agency_id().to_string();
    sqlx::query(
        "SELECT type, entity_type, entity_id, data FROM events WHERE agency_id = $1 AND id = $2",
    )
    .bind(&agency_id)
    .bind(ev)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| -> Result<(String, String, Value)> {
        let data: String = r.try_get("data")?;
        // Only a submission opens a round: the run it starts reviews it.
        let opens_round = r.try_get::<String, _>("type")?
            == baton_core::content::action_event(baton_core::content::ContentAction::Submit);
        Ok((
            r.try_get("entity_type")?,
            r.try_get("entity_id")?,
            if opens_round {
                serde_json::from_str(&data).unwrap_or(Value::Null)
            } else {
                Value::Null
            },
        ))
    })
    .transpose()
}

/// What a new run is about, as stored: the content item its trigger event
/// names (with the round it opened), or the client's brief, access or
/// offboarding.
struct RunSubjectRow {
    kind: Option<Subject>,
    id: Option<String>,
    round: Option<i64>,
}

impl RunSubjectRow {
    fn of(sop_key: &str, s: &StartRun, trigger: Option<&(String, String, Value)>) -> RunSubjectRow {
        let kind = Subject::of_run(sop_key, trigger.map(|t| t.0.as_str()));
        let (id, round) = match (kind, trigger) {
            (Some(Subject::Incident), Some((_, entity, _))) => (Some(entity.clone()), None),
            (Some(Subject::ContentItem), Some((_, entity, data))) => (
                Some(entity.clone()),
                data.get("round").and_then(Value::as_i64),
            ),
            (Some(_), _) => (Some(s.client_id.clone()), None),
            (None, _) => (None, None),
        };
        RunSubjectRow { kind, id, round }
    }
}

/// Whether the work a trigger event started went away before its job ran:
/// a cancelled item, a client that left delivery (but for the SOPs of
/// offboarding itself), or a client move corrected since.
async fn work_went_away(
    tx: &mut WriteTx,
    s: &StartRun,
    lifecycle: &str,
    def: &SopDefinition,
    subject: &RunSubjectRow,
    trigger: &Option<(String, String, Value)>,
) -> Result<bool> {
    let agency_id = tx.agency_id().to_string();
    if subject.kind == Some(Subject::ContentItem) {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM content_items WHERE agency_id = $1 AND id = $2")
                .bind(&agency_id)
                .bind(&subject.id)
                .fetch_optional(tx.conn())
                .await?;
        if status.as_deref() == Some("cancelled") {
            return Ok(true);
        }
    }
    if subject.kind == Some(Subject::Incident)
        && crate::incidents::facts::went_away(tx.conn(), &agency_id, subject.id.as_deref()).await?
    {
        return Ok(true);
    }
    if matches!(lifecycle, "offboarding" | "archived") && !sop::outlives_delivery(def) {
        return Ok(true);
    }
    // A move that was corrected before its job ran starts nothing.
    if let (Some(ev), Some(("client", _, _))) = (
        &s.trigger_event_id,
        trigger.as_ref().map(|(t, e, d)| (t.as_str(), e, d)),
    ) {
        let corrected: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM events WHERE agency_id = $1 AND client_id = $2 AND type = 'reopened' \
             AND data LIKE $3 LIMIT 1",
        )
        .bind(&agency_id)
        .bind(&s.client_id)
        .bind(format!("%\"corrects_event_id\":\"{ev}\"%"))
        .fetch_optional(tx.conn())
        .await?;
        if corrected.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Starts an SOP for a client by hand (or from the API). `email`: whether
/// escalations also go out by email (SMTP configured).
pub async fn start(cx: Cx<'_>, s: StartRun, email: bool) -> Result<Run> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    crate::clients::check_past_time("started_at", s.started_at, now)?;
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = cx.begin().await?;
    let (run, evs) = start_in_tx(&mut tx, &calendar, &s, None, email)
        .await?
        .ok_or_else(|| StoreError::Duplicate("this event already started that SOP".into()))?;
    let mut record = Record::new(
        events::SOP_RUN_STARTED,
        "sop_run",
        &run.id,
        json!({"sop": run.sop_key, "client_id": run.client_id, "started_at": run.started_at}),
    );
    record.events = evs;
    tx.commit(record).await?;
    get(db, agency_id, &run.id).await
}

/// Starts every SOP whose trigger is the type of event `event_id` (an outbox
/// job of the event). Runs start when the event occurred, so a back-dated
/// `contract_signed` whose SLA has passed starts breached and escalates at
/// once. Idempotent: a replayed job starts nothing twice. A
/// `client.team_changed` event also re-resolves the client's run owners.
/// Returns the runs started. `cx` is the trigger's: the worker's
/// `Actor::system("SOP trigger")` at the job's time.
pub async fn start_for_event(cx: Cx<'_>, event_id: &EventId, email: bool) -> Result<Vec<RunId>> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let row = sqlx::query(
        "SELECT type, client_id, occurred_at, entity_type, entity_id FROM events WHERE agency_id = $1 AND id = $2",
    )
    .bind(agency_id)
    .bind(event_id.as_str())
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(vec![]);
    };
    let event_type: String = row.try_get("type")?;
    // A week's runs are about the week the event names.
    let week: Option<String> = (row.try_get::<String, _>("entity_type")? == "week")
        .then(|| row.try_get("entity_id"))
        .transpose()?;
    let clients = match row.try_get::<Option<String>, _>("client_id")? {
        Some(c) => vec![c],
        None => fan_out(db, agency_id, &event_type).await?,
    };
    let Some(client_id) = clients.first().cloned() else {
        return Ok(vec![]);
    };
    let occurred_at: i64 = row.try_get("occurred_at")?;
    let keys = {
        let mut conn = db.reader().acquire().await?;
        crate::sops::keys_for_trigger(&mut conn, agency_id, &event_type).await?
    };
    if event_type == events::CLIENT_TEAM_CHANGED {
        let resolver = Actor::system("SOP owner resolution");
        let client = ClientId::parse(&client_id)?;
        reresolve_owners(
            Cx {
                actor: &resolver,
                ..cx
            },
            &client,
        )
        .await?;
    }
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let (calendar, _) = crate::calendars::get(db, agency_id).await?;
    let mut tx = cx.begin().await?;
    let mut records = Vec::new();
    let mut started = Vec::new();
    let pairs: Vec<(String, String)> = keys
        .iter()
        .flat_map(|k| clients.iter().map(|c| (k.clone(), c.clone())))
        .collect();
    for (key, client_id) in pairs {
        let s = StartRun {
            sop_key: key.clone(),
            client_id: client_id.clone(),
            started_at: Some(occurred_at.min(now)),
            trigger_event_id: Some(event_id.to_string()),
        };
        if let Some((run, evs)) =
            start_in_tx(&mut tx, &calendar, &s, week.as_deref(), email).await?
        {
            let mut record = Record::new(
                events::SOP_RUN_STARTED,
                "sop_run",
                &run.id,
                json!({"sop": run.sop_key, "client_id": run.client_id, "trigger": event_type, "event_id": event_id}),
            );
            record.events = evs;
            records.push(record);
            started.push(run.id);
        }
    }
    if records.is_empty() {
        return Ok(started);
    }
    tx.commit_all(records).await?;
    Ok(started)
}

/// After the client's account team changed: open runs whose owner came from
/// the team (or that had none) take the team's current member for their
/// role. Runs assigned by hand keep their owner. `cx` is the resolver's
/// (`Actor::system("SOP owner resolution")` when the team change's job runs).
pub async fn reresolve_owners(cx: Cx<'_>, client_id: &ClientId) -> Result<usize> {
    let (agency_id, now) = (cx.agency_id(), cx.now);
    let mut tx = cx.begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLS} {FROM} WHERE r.agency_id = $1 AND r.client_id = $2 AND r.done_at IS NULL AND r.cancelled_at IS NULL \
         AND r.owner_source <> 'assigned' ORDER BY r.id"
    ))
    .bind(agency_id)
    .bind(client_id.as_str())
    .fetch_all(tx.conn())
    .await?;
    let runs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let mut records = Vec::new();
    for run in runs {
        let (owner, source) =
            resolve_owner(tx.conn(), agency_id, client_id, run.owner_role).await?;
        if owner == run.owner_member_id && source == run.owner_source {
            continue;
        }
        sqlx::query(
            "UPDATE sop_runs SET owner_member_id = $3, owner_source = $4, updated_at = $5 WHERE agency_id = $1 AND id = $2",
        )
        .bind(agency_id)
        .bind(run.id.as_str())
        .bind(&owner)
        .bind(source)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let data = json!({"run_id": run.id, "sop": run.sop_key, "sop_name": run.sop_name, "owner_member_id": owner, "owner_source": source});
        records.push(
            Record::new(events::SOP_RUN_ASSIGNED, "sop_run", &run.id, data.clone())
                .with_event(Some(client_id.as_str()), data),
        );
    }
    let n = records.len();
    if n > 0 {
        tx.commit_all(records).await?;
    }
    Ok(n)
}
