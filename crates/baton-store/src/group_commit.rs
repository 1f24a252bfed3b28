//! Group commit: writes that queue while one is being applied share the next
//! COMMIT.
//!
//! Every write goes through [`crate::write::WriteTx`]. Instead of a
//! transaction of its own, a write joins the *batch* open for its lane (the
//! whole database on SQLite, which has one writer; its agency on PostgreSQL,
//! whose audit-chain head row serializes an agency's writes anyway) and works
//! inside a savepoint of the batch's transaction, one write at a time. When
//! it is done it releases its savepoint and either commits the batch (nobody
//! is queued behind it) or leaves the commit to the writers queued behind it.
//! Each write keeps its own events, audit entry and outbox jobs, in order;
//! a write that fails rolls back to its savepoint and takes nothing else with
//! it; every caller is answered only after the shared COMMIT, with its error
//! if that COMMIT failed. So an acknowledged write is as durable as before,
//! and a burst of N writes costs one transaction (and, on PostgreSQL, one
//! fsync and one hold of the agency's row) instead of N.
//!
//! Progress never depends on a caller staying around: a write that releases a
//! batch it did not commit makes sure a *flusher* task is queued for it (it
//! commits the batch if no later writer did), and a write dropped half way
//! (an error, a cancelled request) hands its turn to a cleanup task that
//! rolls its savepoint back before anyone else touches the transaction.
//! Opening a batch and settling a write (release, COMMIT) run in tasks of
//! their own, so a caller that stops waiting cannot cut them in half.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{Any, Executor, Transaction};
use tokio::sync::{oneshot, Mutex as AsyncMutex, OwnedMutexGuard};

use crate::db::{Backend, Db};
use crate::error::{Result, StoreError};

/// Writes one batch may hold before it commits even with writers queued:
/// bounds the latency of the first one.
const MAX_MEMBERS: usize = 64;

/// The savepoint each write works in.
const SAVEPOINT: &str = "SAVEPOINT baton_write";
const RELEASE: &str = "RELEASE SAVEPOINT baton_write";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT baton_write; RELEASE SAVEPOINT baton_write";

/// The batches of one database, by lane.
#[derive(Debug, Default)]
pub(crate) struct Batches {
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
    committed_batches: AtomicU64,
    committed_writes: AtomicU64,
}

/// Committed batches and the writes they held, since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitStats {
    pub batches: u64,
    pub writes: u64,
}

/// One lane: at most one open batch, used by one write at a time.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    slot: Arc<AsyncMutex<Slot>>,
    /// Writers queued for `slot`.
    waiting: AtomicUsize,
}

#[derive(Debug, Default)]
pub(crate) struct Slot {
    open: Option<Open>,
    /// Numbers batches, so a flusher knows whether its batch is still open.
    next_id: u64,
}

/// The batch's transaction and the writes waiting for its COMMIT.
pub(crate) struct Open {
    pub(crate) tx: Transaction<'static, Any>,
    id: u64,
    members: Vec<oneshot::Sender<std::result::Result<(), String>>>,
    flusher: bool,
}

impl std::fmt::Debug for Open {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Open")
            .field("id", &self.id)
            .field("members", &self.members.len())
            .finish()
    }
}

/// A write's exclusive turn on its lane's open batch, inside its savepoint.
pub(crate) struct Turn {
    guard: Option<OwnedMutexGuard<Slot>>,
    lane: Arc<Lane>,
    batches: Arc<Batches>,
}

impl Batches {
    pub(crate) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.committed_batches.load(Ordering::Relaxed),
            writes: self.committed_writes.load(Ordering::Relaxed),
        }
    }

    fn lane(&self, key: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lane) = lanes.get(key) {
            return lane.clone();
        }
        lanes.entry(key.to_string()).or_default().clone()
    }
}

/// Counts a writer as queued until it has the lane (or gave up waiting).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Db {
    /// Takes a turn on the batch of `agency_id`'s lane (opening the batch if
    /// none is open) and opens this write's savepoint in it.
    ///
    /// Once the lane is ours, the rest runs in a task of its own: a caller
    /// that goes away mid-statement (a cancelled request) must not leave a
    /// batch half opened, holding its connection and the agency's row.
    pub(crate) async fn take_turn(&self, agency_id: &str) -> Result<Turn> {
        let key = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => agency_id,
        };
        let lane = self.batches.lane(key);
        let guard = {
            lane.waiting.fetch_add(1, Ordering::SeqCst);
            let _queued = Queued(&lane.waiting);
            lane.slot.clone().lock_owned().await
        };
        let turn = Turn {
            guard: Some(guard),
            lane,
            batches: self.batches.clone(),
        };
        tokio::spawn(turn.open(self.clone(), agency_id.to_string()))
            .await
            .map_err(|e| {
                StoreError::Database(sqlx::Error::Protocol(format!("write aborted: {e}")))
            })?
    }
}

impl Turn {
    /// Opens the batch if none is, then this write's savepoint. On an error
    /// the turn is dropped, and `Drop` leaves the lane clean.
    async fn open(mut self, db: Db, agency_id: String) -> Result<Turn> {
        let slot = self.guard.as_mut().expect("a new turn holds its lane");
        if slot.open.is_none() {
            let tx = match db.backend() {
                Backend::Sqlite => db.writer.begin_with("BEGIN IMMEDIATE").await?,
                Backend::Postgres => {
                    let mut tx = db.writer.begin().await?;
                    // The agency's row first, before any row a write changes:
                    // a batch's later writes change rows after its earlier
                    // ones moved the audit head, so without one lock order
                    // two servers' batches of one agency could deadlock.
                    sqlx::query("SELECT id FROM agencies WHERE id = $1 FOR UPDATE")
                        .bind(&agency_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx
                }
            };
            slot.next_id += 1;
            slot.open = Some(Open {
                tx,
                id: slot.next_id,
                members: Vec::new(),
                flusher: false,
            });
        }
        let open = slot.open.as_mut().expect("opened above");
        if let Err(e) = (&mut *open.tx).execute(SAVEPOINT).await {
            // The batch's transaction is unusable: end it, failing the
            // writes that were waiting for it.
            let open = slot.open.take().expect("open");
            fail(open, &e.to_string()).await;
            return Err(e.into());
        }
        Ok(self)
    }

    /// The batch's transaction, for this write's statements.
    pub(crate) fn tx(&mut self) -> &mut Transaction<'static, Any> {
        &mut self
            .guard
            .as_mut()
            .and_then(|g| g.open.as_mut())
            .expect("a turn always has its open batch")
            .tx
    }

    /// Keeps this write's changes and returns once the batch that holds them
    /// has committed (by this write, a later one or the flusher). The
    /// settling runs in a task of its own, so a caller that stops waiting
    /// cannot interrupt a COMMIT other writes are waiting for.
    pub(crate) async fn finish(self) -> Result<()> {
        let (sender, receiver) = oneshot::channel();
        tokio::spawn(self.settle(sender));
        match receiver.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "the write was not committed: {message}"
            )))),
            Err(_) => Err(StoreError::Database(sqlx::Error::Protocol(
                "the write was not committed: its batch was abandoned".into(),
            ))),
        }
    }

    /// Releases the savepoint, joins the batch's writes and commits the
    /// batch unless writers are queued to do it.
    async fn settle(mut self, answer: oneshot::Sender<std::result::Result<(), String>>) {
        let mut guard = self.guard.take().expect("a turn finishes once");
        let open = guard.open.as_mut().expect("open");
        if let Err(e) = (&mut *open.tx).execute(RELEASE).await {
            let _ = answer.send(Err(e.to_string()));
            // Put the turn back so Drop rolls this write back.
            self.guard = Some(guard);
            return;
        }
        open.members.push(answer);
        let queued = self.lane.waiting.load(Ordering::SeqCst);
        if queued == 0 || open.members.len() >= MAX_MEMBERS {
            commit(&mut guard, &self.batches).await;
        } else if !open.flusher {
            open.flusher = true;
            let id = open.id;
            tokio::spawn(flush(self.lane.clone(), self.batches.clone(), id));
        }
    }
}

impl Drop for Turn {
    /// A write that ends without [`Turn::finish`] (an error, a change that
    /// turned out to be a no-op, a cancelled request): its savepoint is
    /// rolled back before anyone else uses the batch.
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let lane = self.lane.clone();
        let batches = self.batches.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(abandon(guard, lane, batches));
            }
            // No runtime left (shutdown): dropping the transaction rolls the
            // whole batch back, and its waiting writes hear so.
            Err(_) => drop(guard),
        }
    }
}

/// Rolls an abandoned write's savepoint back, then ends the batch if it is
/// now empty or nobody is queued to end it.
async fn abandon(mut guard: OwnedMutexGuard<Slot>, lane: Arc<Lane>, batches: Arc<Batches>) {
    let Some(open) = guard.open.as_mut() else {
        return;
    };
    if let Err(e) = (&mut *open.tx).execute(ROLLBACK_TO).await {
        let open = guard.open.take().expect("open");
        fail(open, &e.to_string()).await;
        return;
    }
    if open.members.is_empty() {
        let open = guard.open.take().expect("open");
        let _ = open.tx.rollback().await;
    } else if lane.waiting.load(Ordering::SeqCst) == 0 {
        commit(&mut guard, &batches).await;
    } else if !open.flusher {
        open.flusher = true;
        let id = open.id;
        tokio::spawn(flush(lane.clone(), batches.clone(), id));
    }
}

/// Commits batch `id` if it is still open when this task gets the lane.
async fn flush(lane: Arc<Lane>, batches: Arc<Batches>, id: u64) {
    let mut guard = lane.slot.clone().lock_owned().await;
    if guard.open.as_ref().is_some_and(|o| o.id == id) {
        commit(&mut guard, &batches).await;
    }
}

/// Commits the open batch and answers its writes.
async fn commit(guard: &mut OwnedMutexGuard<Slot>, batches: &Batches) {
    let Some(open) = guard.open.take() else {
        return;
    };
    let writes = open.members.len() as u64;
    match open.tx.commit().await {
        Ok(()) => {
            batches.committed_batches.fetch_add(1, Ordering::Relaxed);
            batches
                .committed_writes
                .fetch_add(writes, Ordering::Relaxed);
            for m in open.members {
                let _ = m.send(Ok(()));
            }
        }
        Err(e) => {
            let message = e.to_string();
            tracing::error!(error = %message, writes, "a batch of writes failed to commit");
            for m in open.members {
                let _ = m.send(Err(message.clone()));
            }
        }
    }
}

/// Rolls a broken batch back and tells its writes why.
async fn fail(open: Open, message: &str) {
    tracing::error!(error = %message, writes = open.members.len(), "a batch of writes was rolled back");
    let _ = open.tx.rollback().await;
    for m in open.members {
        let _ = m.send(Err(message.to_string()));
    }
}
