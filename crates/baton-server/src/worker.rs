//! Background workers. The outbox worker runs jobs that committed writes left
//! behind: an event job starts the SOPs the event triggers (and, after a team
//! change, re-resolves run owners); an email job is sent. The same loop
//! prepares the clients' scheduled onboarding reminders and records the
//! links that expired (withdrawing what they still asked of the client). An
//! event job also fans the event out to the agency's webhooks and channels;
//! their deliveries run in their own loop (`integrations::deliver`).

use std::time::Duration;

use baton_core::types::{AgencyId, EventId};
use baton_store::outbox::Lane;
use baton_store::{onboarding_links, outbox, sop_runs, Actor, Cx};
use tokio::sync::watch;

use crate::state::AppState;

const LEASE_MS: i64 = 60_000;
/// How often expired form claims are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
const BATCH: i64 = 200;

/// Runs until `shutdown` turns true.
pub async fn outbox_loop(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut pruned = tokio::time::Instant::now();
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "outbox worker pass failed");
        }
        if let Err(e) = crate::reminders::run_once(&state).await {
            tracing::warn!(error = %e, "reminder pass failed");
        }
        if let Err(e) = expire_links(&state).await {
            tracing::warn!(error = %e, "link expiry pass failed");
        }
        // Form claims are kept a day; forget older ones now and then.
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = tokio::time::Instant::now();
            if let Err(e) = baton_store::claims::prune(&state.db, state.now()).await {
                tracing::warn!(error = %e, "pruning form claims failed");
            }
            if let Err(e) = crate::auth::throttle::prune(&state.db, state.now()).await {
                tracing::warn!(error = %e, "pruning throttle counters failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// Records every onboarding link whose expiry has come, withdrawing what it
/// still asked of the client. Each expiry is claimed inside its own
/// transaction, so several servers record it once. Returns how many.
pub async fn expire_links(state: &AppState) -> Result<usize, baton_store::StoreError> {
    let now = state.now();
    let due = onboarding_links::due_expiries(&state.db, now, BATCH).await?;
    let mut n = 0;
    for (agency_id, link_id) in due {
        match onboarding_links::expire(&state.db, &agency_id, &link_id, now).await {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, link = %link_id, "link expiry failed"),
        }
    }
    Ok(n)
}

async fn send_email(
    state: &AppState,
    job_id: &str,
    agency_id: &str,
    payload: &str,
) -> Result<(), String> {
    let mailer = state
        .mailer
        .as_ref()
        .ok_or_else(|| "SMTP is not configured on this server".to_string())?;
    let mut m: crate::email::OutgoingEmail =
        serde_json::from_str(payload).map_err(|e| format!("bad email job: {e}"))?;
    if let Some(link_id) = m.onboarding_link.take() {
        // A reminder: the link's URL is made now, never queued.
        let url = match crate::reminders::link_url(state, agency_id, &link_id).await {
            Ok(u) => u,
            Err(baton_store::StoreError::NotFound) => None,
            Err(e) => return Err(format!("making the link's URL: {e}")),
        };
        let slot = baton_core::onboarding::LINK_SLOT;
        m.text = match (url, m.fallback_text.take()) {
            (Some(url), _) => m.text.replace(slot, &url),
            (None, Some(fallback)) => fallback,
            (None, None) => m.text.replace(slot, ""),
        };
    }
    mailer.send(job_id, &m).await
}

/// Event jobs marked done together (an email is marked on its own, at once).
const DONE_GROUP: usize = 20;

/// One pass: claim due jobs, run them, mark them. Returns how many ran.
///
/// A crash loses little: an email is marked done as soon as the relay took
/// it (and carries a stable `Message-ID` for the rare retry), event jobs in
/// groups of [`DONE_GROUP`]; and a pass that has used half its lease lets
/// the rest of its jobs go, so nothing it claimed waits for a dead lease.
pub async fn run_once(state: &AppState) -> Result<usize, baton_store::StoreError> {
    let now = state.now();
    if !outbox::any_due_lane(&state.db, now, Lane::Work).await? {
        return Ok(0);
    }
    let jobs = outbox::claim_lane(&state.db, now, LEASE_MS, BATCH, Lane::Work).await?;
    let started = std::time::Instant::now();
    let mut done = Vec::with_capacity(DONE_GROUP);
    let mut ran = 0;
    for (i, job) in jobs.iter().enumerate() {
        if started.elapsed() > Duration::from_millis(LEASE_MS as u64 / 2) {
            let rest: Vec<String> = jobs[i..].iter().map(|j| j.id.clone()).collect();
            tracing::info!(
                left = rest.len(),
                "outbox pass near its lease; releasing the rest"
            );
            outbox::release(&state.db, &rest).await?;
            break;
        }
        ran += 1;
        if done.len() >= DONE_GROUP {
            outbox::complete_many(&state.db, &done, now).await?;
            done.clear();
        }
        match job.kind.as_str() {
            "event" => {
                let Some(event_id) = &job.event_id else {
                    done.push(job.id.clone());
                    continue;
                };
                // An id of the wrong shape names no event: nothing to start.
                let (Ok(agency), Ok(event_id)) =
                    (AgencyId::parse(&job.agency_id), EventId::parse(event_id))
                else {
                    done.push(job.id.clone());
                    continue;
                };
                let trigger = Actor::system("SOP trigger");
                let cx = Cx::new(&state.db, &agency, &trigger, now);
                // The SOPs it starts, then its deliveries to the agency's
                // endpoints (both idempotent: a retried job adds nothing).
                let handled =
                    match sop_runs::start_for_event(cx, &event_id, state.mailer.is_some()).await {
                        Ok(_) => crate::integrations::deliver::fan_out(state, &agency, &event_id)
                            .await
                            .map(|_| ()),
                        Err(e) => Err(e),
                    };
                match handled {
                    Ok(()) => done.push(job.id.clone()),
                    Err(e) => {
                        let backoff = 5_000 * (1i64 << job.attempts.clamp(0, 8));
                        tracing::warn!(job = %job.id, error = %e, "SOP trigger or webhook fan-out failed; will retry");
                        outbox::fail(&state.db, &job.id, now + backoff, &e.to_string()).await?;
                    }
                }
            }
            "email" => match send_email(state, &job.id, &job.agency_id, &job.payload).await {
                // Marked at once: a crash right after must not send it again.
                Ok(()) => outbox::complete(&state.db, &job.id, now).await?,
                Err(e) => {
                    // Back off 1, 2, 4 … minutes, at most an hour apart.
                    let backoff = 60_000 * (1i64 << job.attempts.clamp(0, 6));
                    tracing::warn!(job = %job.id, attempts = job.attempts, error = %e, "email not sent; will retry");
                    outbox::fail(&state.db, &job.id, now + backoff, &e).await?;
                }
            },
            other => {
                tracing::warn!(kind = other, job = %job.id, "no handler for outbox job kind; will retry");
                let backoff = 60_000 * job.attempts.min(60);
                outbox::fail(
                    &state.db,
                    &job.id,
                    now + backoff,
                    &format!("no handler for kind {other}"),
                )
                .await?;
            }
        }
    }
    outbox::complete_many(&state.db, &done, now).await?;
    Ok(ran)
}
