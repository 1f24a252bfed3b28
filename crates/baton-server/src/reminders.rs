//! Scheduled reminders to clients whose onboarding link still waits on them
//! for a required request. Runs in the worker loop; each pass reads only
//! links whose next reminder is due (an indexed column), so an idle pass
//! costs one small query. Each reminder carries the link's URL when the
//! server can derive it ([`link_url`]).

use baton_store::{agencies, onboarding_links, Actor, Cx, StoreError};

use crate::state::AppState;

/// The link's current URL, derived with this server's secret key (see
/// `onboarding_links::derived_token`): on the agency's custom domain when it
/// has one, else `BATON_PUBLIC_URL/o/{token}`. `None` for a link made
/// before tokens were derivable, or when the secret key has changed since.
/// Never stored: callers put it in a reminder's text and nowhere else.
pub async fn link_url(
    state: &AppState,
    agency_id: &str,
    link_id: &str,
) -> Result<Option<String>, StoreError> {
    let token =
        onboarding_links::derived_token(&state.db, agency_id, link_id, &state.config.secret_key)
            .await?;
    let Some(token) = token else {
        return Ok(None);
    };
    let agency = agencies::get(&state.db, agency_id).await?;
    Ok(Some(
        match agency.custom_domain.as_deref().filter(|d| !d.is_empty()) {
            Some(domain) => format!("https://{domain}/o/{token}"),
            None => state.config.onboarding_url(&token),
        },
    ))
}

const BATCH: i64 = 100;

/// Sends every due reminder once. Returns how many were recorded.
pub async fn run_once(state: &AppState) -> Result<usize, baton_store::StoreError> {
    let now = state.now();
    let due = onboarding_links::due_reminders(&state.db, now, BATCH).await?;
    let actor = Actor::system("reminder schedule");
    let mut sent = 0;
    for (agency_id, link_id) in due {
        // With the URL the store writes the text with the link; a queued
        // email holds a slot the sender fills (see `worker::send_email`).
        let url = match link_url(state, &agency_id, &link_id).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, link = %link_id, "reminder failed");
                continue;
            }
        };
        match onboarding_links::remind(
            Cx::new(&state.db, &agency_id, &actor, now),
            &link_id,
            true,
            state.mailer.is_some(),
            url.as_deref(),
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
