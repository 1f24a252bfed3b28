//! The agency's onboarding settings (platform values, questionnaire, link
//! expiry, reminder schedule), one JSON document on the agency row.

use baton_core::events;
use baton_core::onboarding::OnboardingSettings;
use serde_json::json;

use crate::cx::Cx;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::write::Record;

pub async fn get(db: &Db, agency_id: &str) -> Result<OnboardingSettings> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT onboarding FROM agencies WHERE id = $1")
            .bind(agency_id)
            .fetch_optional(db.reader())
            .await?;
    stored
        .map(|s| OnboardingSettings::from_stored(&s))
        .ok_or(StoreError::NotFound)
}

/// Replaces the settings after validating them; records what changed.
pub async fn put(cx: Cx<'_>, settings: OnboardingSettings) -> Result<OnboardingSettings> {
    let (db, agency_id, now) = (cx.db, cx.agency_id(), cx.now);
    let next = settings.validated()?;
    let current = get(db, agency_id).await?;
    if next == current {
        return Ok(current);
    }
    let doc = serde_json::to_string(&next).map_err(|e| StoreError::Config(e.to_string()))?;
    let mut tx = cx.begin().await?;
    sqlx::query("UPDATE agencies SET onboarding = $2, updated_at = $3 WHERE id = $1")
        .bind(agency_id)
        .bind(&doc)
        .bind(now)
        .execute(tx.conn())
        .await?;
    let mut changed = Vec::new();
    if next.platform_values != current.platform_values {
        changed.push("platform_values");
    }
    if next.questions != current.questions {
        changed.push("questions");
    }
    if next.reminder_every_days != current.reminder_every_days
        || next.reminder_max != current.reminder_max
    {
        changed.push("reminders");
    }
    if next.link_expiry_days != current.link_expiry_days {
        changed.push("link_expiry_days");
    }
    if next.welcome != current.welcome {
        changed.push("welcome");
    }
    let detail = json!({"changed": changed});
    tx.commit(
        Record::new(
            events::ONBOARDING_SETTINGS_CHANGED,
            "agency",
            agency_id,
            detail.clone(),
        )
        .with_event(None, detail),
    )
    .await?;
    Ok(next)
}
