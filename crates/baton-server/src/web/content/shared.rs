//! What the content pages share: limits, the notices after a change, the
//! store's refusals as sentences, and the small labels (channel, size,
//! plural, a local date-time input).

use axum::http::StatusCode;
use baton_core::content::{self as rules, ContentStatus};
use baton_store::agencies::Agency;
use baton_store::StoreError;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::auth::session::WebSession;
use crate::web::form::QueryData;
use crate::web::layout::{notice_text, Layout};
use crate::web::refusal;
use crate::web::WebError;

/// Cards per open column of the board; past it the column links to its own
/// list (the counts stay exact).
pub(super) const COLUMN_CAP: i64 = 100;
/// Items per page of one status's list (`?status=…`).
pub(super) const STATUS_PAGE: i64 = 200;
/// Items the store reads for one calendar period at most.
pub(super) const CALENDAR_CAP: usize = 5_000;
/// How far ahead an item can be scheduled, like the API.
pub(super) const SCHEDULE_HORIZON_MS: i64 = 5 * 366 * 86_400_000;

/// The board's open columns, in workflow order.
pub(super) const OPEN: [ContentStatus; 6] = [
    ContentStatus::Brief,
    ContentStatus::InProduction,
    ContentStatus::InReview,
    ContentStatus::ChangesRequested,
    ContentStatus::Approved,
    ContentStatus::Scheduled,
];

// ------------------------------------------------------------------ shared --

/// The sentences after the changes of the content pages (a fixed set), then
/// the app's shared ones.
pub(super) fn notice(key: Option<&str>) -> Option<&'static str> {
    let key = key?;
    Some(match key {
        "content_created" => "Content item created.",
        "participants_saved" => "Reviewers and approvers saved.",
        "participants_next_round" => {
            "Saved for the next round: this round stays with the approvers it was submitted to."
        }
        "caption_saved" => "Caption saved.",
        "planned" => "Planned day saved.",
        "approval_reopened" => {
            "Caption saved. It changed after approval, so approval is reopened: submit the item for a new round (its publishing QA is to do again)."
        }
        "version_added" => "Version added.",
        "submitted" => "Submitted for review: a new round is open for the approvers.",
        "commented" => "Comment added to this round.",
        "decided" => "Decision recorded.",
        "qa_saved" => "QA checklist saved.",
        "qa_unchanged" => "Nothing changed on the QA checklist.",
        "scheduled" => "Scheduled.",
        "unscheduled" => "Taken off the schedule: the item is approved again.",
        "published" => "Marked as published.",
        "cancelled" => "Content item cancelled.",
        "brief_approved" => "Brief approved: production starts.",
        other => return notice_text(other),
    })
}

pub(super) fn layout(
    agency: &Agency,
    session: &WebSession,
    title: &str,
    q: Option<&QueryData>,
) -> Layout {
    let mut l = Layout::app(agency, session, title, "content");
    l.notice = notice(q.and_then(|q| q.get("notice")));
    l
}

/// The content forms' fields as they label them.
const LABELS: refusal::Labels = &[
    ("title", "Title"),
    ("channel", "Channel"),
    ("format", "Format"),
    ("campaign", "Campaign"),
    ("brief.audience", "Audience"),
    ("brief.angle", "Angle"),
    ("brief.offer", "Offer"),
    ("brief.constraints", "Constraints"),
    ("brief.examples", "Examples"),
    ("url", "Link"),
    ("note", "Note"),
    ("body", "Comment"),
    ("comment", "Comment"),
    ("reviewers", "Reviewers"),
    ("approvers", "Approvers"),
    ("approval_mode", "Approval"),
    ("items", "QA checklist"),
    ("caption", "Caption"),
    ("qa_waived_reason", "Reason to waive QA"),
    ("publish_at", "Publish at"),
    ("decision", "Decision"),
    ("revision", "Revision"),
];

/// A refused content form's status and message ([`refusal::present`]).
pub(super) fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}

pub(super) fn invalid(message: &str) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_string())
}

/// A channel's name ("Instagram"), or its key when Baton does not know it.
pub(super) fn channel_name(key: &str) -> String {
    rules::channel(key).map_or_else(|| key.replace('_', " "), |c| c.name.to_string())
}

pub(super) fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A `datetime-local` value ("2026-11-20T10:00") in `tz`.
pub(super) fn local_input(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// "2.1 MB", "540 KB".
pub(super) fn size_label(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1_048_576.0 {
        format!("{:.1} MB", b / 1_048_576.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::CoreError;

    #[test]
    fn refusals_read_as_sentences() {
        let (s, m) = refusal(StoreError::Core(CoreError::invalid(
            "brief.offer",
            "must be at most 5000 characters",
        )))
        .expect("shown at the form");
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(m, "Offer: must be at most 5000 characters.");
        let (s, m) = refusal(StoreError::Forbidden(
            "only the item's approvers decide".into(),
        ))
        .expect("shown at the form");
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(m, "Only the item's approvers decide.");
        assert!(refusal(StoreError::NotFound).is_err());
        assert_eq!(size_label(2_202_010), "2.1 MB");
        assert_eq!(channel_name("google_business"), "google business");
        assert_eq!(channel_name("x"), "X");
    }
}
