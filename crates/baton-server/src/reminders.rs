//! Scheduled reminders to clients whose onboarding link still waits on them.
//! Runs in the worker loop; each pass reads only links whose next reminder
//! is due (an indexed column), so an idle pass costs one small query.

use baton_store::onboarding_links;
use baton_store::Actor;

use crate::state::AppState;

const BATCH: i64 = 100;

/// Sends every due reminder once. Returns how many were recorded.
pub async fn run_once(state: &AppState) -> Result<usize, baton_store::StoreError> {
    let now = state.now();
    let due = onboarding_links::due_reminders(&state.db, now, BATCH).await?;
    let actor = Actor::system("reminder schedule");
    let mut sent = 0;
    for (agency_id, link_id) in due {
        match onboarding_links::remind(
            &state.db,
            &agency_id,
            &actor,
            now,
            &link_id,
            true,
            state.mailer.is_some(),
        )
        .await
        {
            Ok(Some(_)) => sent += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, link = %link_id, "reminder failed"),
        }
    }
    Ok(sent)
}
