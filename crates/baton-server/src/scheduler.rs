//! The SLA scheduler: moves SOP runs `on_track → at_risk → breached` at the
//! moment their SLA says so, with the escalation written in the same
//! transaction, and the incident log's 24/7 triage clock and overdue
//! follow-up actions the same way (`baton_store::incidents::advance_fenced`). It is not a sweep: each tick reads only the runs whose
//! `next_change_at` has come (an index range), then sleeps until the next
//! one, at most a second, so runs started by other processes are seen soon.
//! Exactly one server schedules: the holder of the `sla_scheduler` lease
//! (`baton_store::leases`), renewed every tick and fenced inside every
//! write, so when the leader dies or freezes another server takes over
//! within [`LEASE_TTL_MS`] + [`FOLLOWER_RETRY`], and a frozen leader that
//! wakes up writes nothing. After a restart the first tick catches up with
//! everything that came due meanwhile.

use std::time::Duration;

use baton_core::types::{AgencyId, RunId};
use baton_store::leases::{self, Fence, Lease};
use baton_store::sop_runs::{self, SCHEDULER_LEASE};
use baton_store::{cadences, incidents, scorecards};
use baton_store::{Actor, Cx};
use tokio::sync::watch;

use crate::state::AppState;

/// Runs advanced per query; a tick repeats until fewer are due.
const BATCH: i64 = 500;
/// The longest sleep between ticks.
const MAX_SLEEP_MS: i64 = 1_000;
/// How often a server that is not the scheduler tries the lease (one small
/// UPDATE on a pooled connection; nothing is opened or closed).
pub const FOLLOWER_RETRY: Duration = Duration::from_secs(2);
/// How long the lease lasts without a renewal; the leader renews it every
/// tick (at most a second apart).
pub const LEASE_TTL_MS: i64 = 10_000;

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
    tick_fenced(state, None).await
}

/// [`tick`] by the lease holder: each change is written only while `fence`
/// holds.
pub async fn tick_fenced(
    state: &AppState,
    fence: Option<&Fence>,
) -> Result<Tick, baton_store::StoreError> {
    let now = state.now();
    let email = state.mailer.is_some();
    let actor = Actor::system("SLA scheduler");
    let mut changed = 0;
    loop {
        let due = sop_runs::due_for_change(&state.db, now, BATCH).await?;
        let before = changed;
        for (agency_id, id) in &due {
            let (Ok(agency), Ok(run_id)) = (AgencyId::parse(agency_id), RunId::parse(id)) else {
                tracing::warn!(run = %id, "SOP run not advanced: not an id; next tick retries");
                continue;
            };
            let cx = Cx::new(&state.db, &agency, &actor, now);
            match sop_runs::advance_fenced(cx, &run_id, email, fence).await {
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
    changed += tick_incidents(state, now, email, fence).await?;
    changed += tick_scorecards(state, now, email, fence).await?;
    changed += tick_cadences(state, now, email, fence).await?;
    let next = [
        sop_runs::next_change(&state.db).await?,
        incidents::next_change(&state.db).await?,
        scorecards::next_change(&state.db).await?,
        cadences::clock::next_change(&state.db).await?,
    ];
    Ok(Tick {
        changed,
        next_change_at: next.into_iter().flatten().min(),
    })
}

/// The scorecard's clock: `week_ended` at the end of each agency's last
/// business day of the week, overdue actions. Returns how many changed.
async fn tick_scorecards(
    state: &AppState,
    now: i64,
    email: bool,
    fence: Option<&Fence>,
) -> Result<usize, baton_store::StoreError> {
    let actor = Actor::system("Scorecard clock");
    let mut changed = 0;
    // One batch a tick: a week clock that only recomputes its next time
    // writes no event, so "nothing changed" cannot tell a spin from progress;
    // the next tick (at most a second away) takes the rest.
    for (agency_id, d) in scorecards::due_for_change(&state.db, now, BATCH).await? {
        let cx = Cx::new(&state.db, &agency_id, &actor, now);
        match scorecards::advance_fenced(cx, &d, email, fence).await {
            Ok(Some(_)) => changed += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(due = ?d, error = %e, "scorecard clock not advanced; next tick retries")
            }
        }
    }
    Ok(changed)
}

/// The cadences' day clock: when an agency's day ends, its meetings of
/// that day without their artifact are flagged. Returns how many were.
async fn tick_cadences(
    state: &AppState,
    now: i64,
    email: bool,
    fence: Option<&Fence>,
) -> Result<usize, baton_store::StoreError> {
    let actor = Actor::system("Cadence clock");
    let mut changed = 0;
    // One batch a tick, like the scorecard clock.
    for agency_id in cadences::clock::due_for_change(&state.db, now, BATCH).await? {
        let cx = Cx::new(&state.db, &agency_id, &actor, now);
        match cadences::clock::advance_fenced(cx, email, fence).await {
            Ok(n) => changed += n,
            Err(e) => {
                tracing::warn!(agency = %agency_id, error = %e, "cadence clock not advanced; next tick retries")
            }
        }
    }
    Ok(changed)
}

/// The incident log's clock: triage at risk and breached (24/7), overdue
/// follow-up actions. Returns how many changed.
async fn tick_incidents(
    state: &AppState,
    now: i64,
    email: bool,
    fence: Option<&Fence>,
) -> Result<usize, baton_store::StoreError> {
    let actor = Actor::system("Incident clock");
    let mut changed = 0;
    loop {
        let due = incidents::due_for_change(&state.db, now, BATCH).await?;
        let before = changed;
        for (agency_id, id) in &due {
            let cx = Cx::new(&state.db, agency_id, &actor, now);
            match incidents::advance_fenced(cx, id, email, fence).await {
                Ok(Some(_)) => changed += 1,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(due = ?id, error = %e, "incident clock not advanced; next tick retries")
                }
            }
        }
        if (due.len() as i64) < BATCH || changed == before {
            break;
        }
    }
    Ok(changed)
}

/// Runs until `shutdown` turns true.
pub async fn scheduler_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let holder = format!("srv_{}", baton_core::secret::random_token());
    let mut lease: Option<Lease> = None;
    loop {
        let now = state.now();
        if let Some(l) = &mut lease {
            match leases::renew(&state.db, l, now, LEASE_TTL_MS).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("lost the SLA scheduler lease");
                    lease = None;
                }
                Err(e) => tracing::warn!(error = %e, "SLA scheduler lease renewal failed"),
            }
        }
        if lease.is_none() {
            match leases::acquire(&state.db, SCHEDULER_LEASE, &holder, now, LEASE_TTL_MS).await {
                Ok(Some(l)) => {
                    tracing::info!(token = l.fence.token, "this server runs the SLA scheduler");
                    lease = Some(l);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "SLA scheduler lease failed"),
            }
        }
        let sleep = match &lease {
            Some(l) => match tick_fenced(&state, Some(&l.fence)).await {
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
            },
            None => FOLLOWER_RETRY,
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => break,
        }
    }
    // Shutting down: hand the lease over at once rather than after its TTL.
    if let Some(l) = &lease {
        if let Err(e) = leases::release(&state.db, l).await {
            tracing::warn!(error = %e, "could not release the SLA scheduler lease");
        }
    }
}
