//! The SLA scheduler: moves SOP runs `on_track → at_risk → breached` at the
//! moment their SLA says so, with the escalation written in the same
//! transaction. It is not a sweep: each tick reads only the runs whose
//! `next_change_at` has come (an index range), then sleeps until the next
//! one, at most a second, so runs started by other processes are seen soon.
//! On PostgreSQL exactly one process schedules (an advisory lock); after a
//! restart the first tick catches up with everything that came due meanwhile.

use std::time::Duration;

use baton_store::sop_runs::{self, SchedulerLock};
use tokio::sync::watch;

use crate::state::AppState;

/// Runs advanced per query; a tick repeats until fewer are due.
const BATCH: i64 = 500;
/// The longest sleep between ticks.
const MAX_SLEEP_MS: i64 = 1_000;
/// How often a process that is not the scheduler retries the lock.
const FOLLOWER_RETRY: Duration = Duration::from_secs(5);

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tick {
    /// Runs whose status changed.
    pub changed: usize,
    /// The next pending change of any run, if any.
    pub next_change_at: Option<i64>,
}

/// Advances every run whose next change is due now.
pub async fn tick(state: &AppState) -> Result<Tick, baton_store::StoreError> {
    let now = state.now();
    let email = state.mailer.is_some();
    let mut changed = 0;
    loop {
        let due = sop_runs::due_for_change(&state.db, now, BATCH).await?;
        let before = changed;
        for (agency_id, id) in &due {
            match sop_runs::advance(&state.db, agency_id, id, now, email).await {
                Ok(Some(_)) => changed += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(run = %id, error = %e, "SOP run not advanced; next tick retries")
                }
            }
        }
        // A full batch may hide more due runs; a batch where nothing moved
        // (failing runs) must not spin: the next tick retries them.
        if (due.len() as i64) < BATCH || changed == before {
            break;
        }
    }
    Ok(Tick {
        changed,
        next_change_at: sop_runs::next_change(&state.db).await?,
    })
}

/// Runs until `shutdown` turns true.
pub async fn scheduler_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut lock: Option<SchedulerLock> = None;
    loop {
        if let Some(l) = &mut lock {
            if !l.alive().await {
                tracing::warn!("lost the SLA scheduler lock; retrying");
                lock = None;
            }
        }
        if lock.is_none() {
            match SchedulerLock::try_acquire(&state.db).await {
                Ok(Some(l)) => {
                    tracing::info!("this process runs the SLA scheduler");
                    lock = Some(l);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "SLA scheduler lock failed"),
            }
        }
        let sleep = if lock.is_some() {
            match tick(&state).await {
                Ok(t) => {
                    if t.changed > 0 {
                        tracing::info!(changed = t.changed, "SOP runs advanced");
                    }
                    let until = t
                        .next_change_at
                        .map(|at| at - state.now())
                        .unwrap_or(MAX_SLEEP_MS);
                    Duration::from_millis(until.clamp(20, MAX_SLEEP_MS) as u64)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SLA scheduler tick failed");
                    Duration::from_millis(MAX_SLEEP_MS as u64)
                }
            }
        } else {
            FOLLOWER_RETRY
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => break,
        }
    }
}
