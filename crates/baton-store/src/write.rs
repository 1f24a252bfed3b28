//! The one write path. A [`WriteTx`] is opened for one agency and one actor;
//! the caller changes rows through [`WriteTx::conn`], then [`WriteTx::commit`]
//! records the events, the hash-chained audit entry and one outbox job per event
//! in the same transaction before committing. There is no other way to commit a
//! write, so no change can land without its event and audit trail. The
//! transaction may be shared with the writes queued beside this one (group
//! commit, see `group_commit`): each works in its own savepoint, and `commit`
//! returns once the shared COMMIT has.

use baton_core::audit::{chain_hash, AuditFields, HASH_VERSION};
use baton_core::ids;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::{Result, StoreError};

/// Who is acting, from where. Recorded on every event and audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `member`, `token`, `system`, `cli` or `client_link`.
    pub kind: String,
    /// The member (or link) id; empty for the system.
    pub id: String,
    /// A readable name for timelines ("Ana Ortiz", "baton CLI").
    pub label: String,
    pub ip: String,
    pub user_agent: String,
}

impl Actor {
    pub fn system(label: &str) -> Actor {
        Actor {
            kind: "system".into(),
            id: String::new(),
            label: label.into(),
            ip: String::new(),
            user_agent: String::new(),
        }
    }
    pub fn cli() -> Actor {
        Actor {
            kind: "cli".into(),
            id: String::new(),
            label: "baton CLI".into(),
            ip: String::new(),
            user_agent: String::new(),
        }
    }
}

/// An event to record with the change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its id when the change needs it before commit (rows that point at the
    /// event that changed them); a new id otherwise.
    pub id: Option<String>,
    /// The event type as stored and served (`contract_signed`, `client.created`).
    pub event_type: String,
    pub client_id: Option<String>,
    pub entity_type: String,
    pub entity_id: String,
    /// When it happened, if not now (back-dated imports).
    pub occurred_at: Option<i64>,
    pub note: Option<String>,
    pub data: Value,
}

/// The audit entry (and events) that describe one change.
#[derive(Debug, Clone)]
pub struct Record {
    /// What was done, e.g. `client.created`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// What changed (never secrets).
    pub detail: Value,
    pub events: Vec<NewEvent>,
}

impl Record {
    pub fn new(action: &str, entity_type: &str, entity_id: &str, detail: Value) -> Record {
        Record {
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id: entity_id.into(),
            detail,
            events: Vec::new(),
        }
    }

    /// Adds an event whose type is the action itself (the common case).
    pub fn with_event(mut self, client_id: Option<&str>, data: Value) -> Record {
        self.events.push(NewEvent {
            id: None,
            event_type: self.action.clone(),
            client_id: client_id.map(String::from),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            occurred_at: None,
            note: None,
            data,
        });
        self
    }

    pub fn push_event(mut self, e: NewEvent) -> Record {
        self.events.push(e);
        self
    }
}

/// What a committed write recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The events as stored, in order.
    pub events: Vec<crate::events::Event>,
    pub audit_seq: i64,
}

/// An open write for one agency: its turn in the agency's (on SQLite, the
/// database's) group-commit batch.
pub struct WriteTx {
    /// This write's turn on its group-commit batch (see `group_commit`).
    turn: crate::group_commit::Turn,
    agency_id: String,
    actor: Actor,
    now: i64,
}

impl Db {
    /// Starts a write for `agency_id` by `actor` at time `now` (unix ms).
    pub async fn begin_write(&self, agency_id: &str, actor: &Actor, now: i64) -> Result<WriteTx> {
        let mut w = WriteTx {
            turn: self.take_turn(agency_id).await?,
            agency_id: agency_id.to_string(),
            actor: actor.clone(),
            now,
        };
        // A request that must write at most once claims that in this same
        // transaction, before it changes anything.
        crate::claims::take_in_tx(w.conn(), agency_id, now).await?;
        Ok(w)
    }
}

impl WriteTx {
    /// The connection to change rows through.
    pub fn conn(&mut self) -> &mut AnyConnection {
        self.turn.tx()
    }

    pub fn agency_id(&self) -> &str {
        &self.agency_id
    }

    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Adds an outbox job of `kind` (e.g. `email`) that the worker runs after
    /// this transaction commits (and never if it does not).
    pub async fn enqueue(&mut self, kind: &str, payload: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox (id, agency_id, kind, event_id, payload, created_at, run_after) \
             VALUES ($1, $2, $3, NULL, $4, $5, $5)",
        )
        .bind(ids::new_id(ids::JOB, self.now))
        .bind(&self.agency_id)
        .bind(kind)
        .bind(payload.to_string())
        .bind(self.now)
        .execute(&mut **self.turn.tx())
        .await?;
        Ok(())
    }

    /// Records the events, the audit entry and the outbox jobs, then commits.
    pub async fn commit(mut self, record: Record) -> Result<Recorded> {
        let recorded = self.record(record).await?;
        self.turn.finish().await?;
        Ok(recorded)
    }

    /// Like [`commit`](Self::commit) for several records in one transaction.
    pub async fn commit_all(mut self, records: Vec<Record>) -> Result<Vec<Recorded>> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(self.record(r).await?);
        }
        self.turn.finish().await?;
        Ok(out)
    }

    async fn record(&mut self, mut record: Record) -> Result<Recorded> {
        // Runs follow the work: the facts this change makes true (or false)
        // tick the SOP runs about it, in this same transaction.
        let followed = crate::sop_runs::follow_events(self, &record.events).await?;
        record.events.extend(followed);
        let n_events = record.events.len() as i64;
        let row = sqlx::query(
            "UPDATE agencies SET audit_seq = audit_seq + 1, event_seq = event_seq + $2 \
             WHERE id = $1 RETURNING audit_seq, audit_head, event_seq",
        )
        .bind(&self.agency_id)
        .bind(n_events)
        .fetch_optional(&mut **self.turn.tx())
        .await?
        .ok_or(StoreError::NotFound)?;
        let audit_seq: i64 = row.try_get("audit_seq")?;
        let prev_hash: String = row.try_get("audit_head")?;
        let last_event_seq: i64 = row.try_get("event_seq")?;

        let mut events = Vec::with_capacity(record.events.len());
        for (i, e) in std::mem::take(&mut record.events).into_iter().enumerate() {
            let seq = last_event_seq - n_events + 1 + i as i64;
            events.push(self.insert_event(e, seq).await?);
        }

        self.append_audit(&record, audit_seq, &prev_hash).await?;
        Ok(Recorded { events, audit_seq })
    }

    /// Inserts one event as number `seq` of the agency's stream, with its
    /// outbox job (the worker delivers it after the commit).
    async fn insert_event(&mut self, e: NewEvent, seq: i64) -> Result<crate::events::Event> {
        let id = e.id.unwrap_or_else(|| ids::new_id(ids::EVENT, self.now));
        let data = e.data.to_string();
        let topic = baton_core::events::topic_of(&e.event_type);
        let occurred_at = e.occurred_at.unwrap_or(self.now);
        sqlx::query(
            "INSERT INTO events (id, agency_id, seq, client_id, type, topic, entity_type, entity_id, \
             occurred_at, recorded_at, actor_kind, actor_id, actor_label, note, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&id)
        .bind(&self.agency_id)
        .bind(seq)
        .bind(e.client_id.as_deref())
        .bind(&e.event_type)
        .bind(&topic)
        .bind(&e.entity_type)
        .bind(&e.entity_id)
        .bind(occurred_at)
        .bind(self.now)
        .bind(&self.actor.kind)
        .bind(&self.actor.id)
        .bind(&self.actor.label)
        .bind(e.note.as_deref())
        .bind(&data)
        .execute(&mut **self.turn.tx())
        .await?;
        sqlx::query(
            "INSERT INTO outbox (id, agency_id, kind, event_id, payload, created_at, run_after) \
             VALUES ($1, $2, 'event', $3, $4, $5, $5)",
        )
        .bind(ids::new_id(ids::JOB, self.now))
        .bind(&self.agency_id)
        .bind(&id)
        .bind(&data)
        .bind(self.now)
        .execute(&mut **self.turn.tx())
        .await?;
        Ok(crate::events::Event {
            id,
            seq,
            client_id: e.client_id,
            event_type: e.event_type,
            topic,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            occurred_at,
            recorded_at: self.now,
            actor_kind: self.actor.kind.clone(),
            actor_id: self.actor.id.clone(),
            actor_label: self.actor.label.clone(),
            note: e.note,
            data: e.data,
        })
    }

    /// Appends the record's audit entry as number `audit_seq`, chained to
    /// `prev_hash`, and moves the agency's audit head to it.
    async fn append_audit(
        &mut self,
        record: &Record,
        audit_seq: i64,
        prev_hash: &str,
    ) -> Result<()> {
        let detail = record.detail.to_string();
        let fields = AuditFields {
            hash_version: HASH_VERSION,
            agency_id: &self.agency_id,
            seq: audit_seq,
            recorded_at: self.now,
            actor_kind: &self.actor.kind,
            actor_id: &self.actor.id,
            actor_label: &self.actor.label,
            action: &record.action,
            entity_type: &record.entity_type,
            entity_id: &record.entity_id,
            ip: &self.actor.ip,
            user_agent: &self.actor.user_agent,
            detail: &detail,
        };
        let hash = chain_hash(prev_hash, &fields);
        sqlx::query(
            "INSERT INTO audit_log (agency_id, seq, recorded_at, actor_kind, actor_id, actor_label, action, \
             entity_type, entity_id, ip, user_agent, detail, prev_hash, hash, hash_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&self.agency_id)
        .bind(audit_seq)
        .bind(self.now)
        .bind(&self.actor.kind)
        .bind(&self.actor.id)
        .bind(&self.actor.label)
        .bind(&record.action)
        .bind(&record.entity_type)
        .bind(&record.entity_id)
        .bind(&self.actor.ip)
        .bind(&self.actor.user_agent)
        .bind(&detail)
        .bind(prev_hash)
        .bind(&hash)
        .bind(HASH_VERSION)
        .execute(&mut **self.turn.tx())
        .await?;
        sqlx::query("UPDATE agencies SET audit_head = $2 WHERE id = $1")
            .bind(&self.agency_id)
            .bind(&hash)
            .execute(&mut **self.turn.tx())
            .await?;
        Ok(())
    }
}
