//! Content production and approval: the states a content item moves through,
//! its brief, approval rounds, the version naming convention, the publishing
//! QA checklist and the content metrics (revisions per asset, rework rate,
//! approval cycle time, first-draft acceptance, approval pass rate).
//!
//! `brief → in_production → in_review ⇄ changes_requested`, then
//! `approved → scheduled → published`, or `cancelled` from any open status.
//! Each action records an event ([`action_event`]) whose type is also the
//! trigger of the matching SOP, so the SOP library and the workflow cannot
//! drift apart. Review is broad and approval narrow: anyone may comment, but
//! only the item's approvers decide a round ([`round_outcome`]).

mod approval;
mod brief;
mod caption;
mod metrics;
mod naming;
mod qa;

use serde::{Deserialize, Serialize};

use crate::CoreError;

pub use approval::{round_outcome, ApprovalMode, Decision, RevisionSize, RoundOutcome};
pub use brief::ContentBrief;
pub use caption::{caption_problems, hashtag_count, validate_caption, CaptionProblem, CAPTION_MAX};
pub use metrics::{metrics, ContentMetrics, ItemHistory};
pub use naming::{validate_naming, version_name, NameParts, DEFAULT_NAMING, NAMING_PLACEHOLDERS};
use qa::thousands;
pub use qa::{channel, default_qa, validate_qa, ChannelInfo, QaItem, CHANNELS};

/// Where a content item is in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentStatus {
    /// The brief is being written (content intake).
    Brief,
    /// The brief is approved; drafts are being made.
    InProduction,
    /// A version is with the reviewers and approvers.
    InReview,
    /// An approver asked for changes; the team is revising.
    ChangesRequested,
    /// Approved; waiting to be scheduled (publishing QA).
    Approved,
    Scheduled,
    Published,
    Cancelled,
}

impl ContentStatus {
    pub const ALL: [ContentStatus; 8] = [
        ContentStatus::Brief,
        ContentStatus::InProduction,
        ContentStatus::InReview,
        ContentStatus::ChangesRequested,
        ContentStatus::Approved,
        ContentStatus::Scheduled,
        ContentStatus::Published,
        ContentStatus::Cancelled,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ContentStatus::Brief => "brief",
            ContentStatus::InProduction => "in_production",
            ContentStatus::InReview => "in_review",
            ContentStatus::ChangesRequested => "changes_requested",
            ContentStatus::Approved => "approved",
            ContentStatus::Scheduled => "scheduled",
            ContentStatus::Published => "published",
            ContentStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ContentStatus> {
        ContentStatus::ALL.into_iter().find(|c| c.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ContentStatus::Brief => "Brief",
            ContentStatus::InProduction => "In production",
            ContentStatus::InReview => "In review",
            ContentStatus::ChangesRequested => "Changes requested",
            ContentStatus::Approved => "Approved",
            ContentStatus::Scheduled => "Scheduled",
            ContentStatus::Published => "Published",
            ContentStatus::Cancelled => "Cancelled",
        }
    }

    /// Still in the pipeline: neither published nor cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, ContentStatus::Published | ContentStatus::Cancelled)
    }
}

/// What is done to a content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentAction {
    /// The brief is complete and signed off; production starts.
    ApproveBrief,
    /// A version is sent for review (first time or after changes).
    Submit,
    /// An approval round ended with changes requested.
    RequestChanges,
    /// An approval round ended approved.
    Approve,
    Schedule,
    /// Taken off the schedule, back to approved.
    Unschedule,
    Publish,
    Cancel,
    /// The caption of an approved (or scheduled) item changed: what was
    /// approved no longer is what would be published, so the item goes back
    /// to production and needs a new review round. Not offered on its own;
    /// editing the caption does it.
    ReopenApproval,
}

/// Every action people choose, in workflow order (for "what is possible"
/// messages); [`ContentAction::ReopenApproval`] follows a caption edit.
const ACTIONS: [ContentAction; 8] = [
    ContentAction::ApproveBrief,
    ContentAction::Submit,
    ContentAction::RequestChanges,
    ContentAction::Approve,
    ContentAction::Schedule,
    ContentAction::Unschedule,
    ContentAction::Publish,
    ContentAction::Cancel,
];

impl ContentAction {
    pub fn key(self) -> &'static str {
        match self {
            ContentAction::ApproveBrief => "approve_brief",
            ContentAction::Submit => "submit",
            ContentAction::RequestChanges => "request_changes",
            ContentAction::Approve => "approve",
            ContentAction::Schedule => "schedule",
            ContentAction::Unschedule => "unschedule",
            ContentAction::Publish => "publish",
            ContentAction::Cancel => "cancel",
            ContentAction::ReopenApproval => "reopen_approval",
        }
    }

    /// The action as a verb phrase after "it can" / "it cannot".
    fn phrase(self) -> &'static str {
        match self {
            ContentAction::ApproveBrief => "have its brief approved",
            ContentAction::Submit => "be submitted for review",
            ContentAction::RequestChanges => "get changes requested",
            ContentAction::Approve => "be approved",
            ContentAction::Schedule => "be scheduled",
            ContentAction::Unschedule => "be unscheduled",
            ContentAction::Publish => "be published",
            ContentAction::Cancel => "be cancelled",
            ContentAction::ReopenApproval => "have its approval reopened",
        }
    }
}

/// The allowed moves; `None` for everything else.
fn next(from: ContentStatus, action: ContentAction) -> Option<ContentStatus> {
    use ContentAction as A;
    use ContentStatus as S;
    Some(match (from, action) {
        (S::Brief, A::ApproveBrief) => S::InProduction,
        (S::InProduction | S::ChangesRequested, A::Submit) => S::InReview,
        (S::InReview, A::RequestChanges) => S::ChangesRequested,
        (S::InReview, A::Approve) => S::Approved,
        (S::Approved, A::Schedule) => S::Scheduled,
        (S::Scheduled, A::Unschedule) => S::Approved,
        (S::Scheduled, A::Publish) => S::Published,
        (S::Approved | S::Scheduled, A::ReopenApproval) => S::InProduction,
        (s, A::Cancel) if s.is_open() => S::Cancelled,
        _ => return None,
    })
}

/// The status after `action`, or a conflict that names the current status
/// and what is possible from it.
///
/// brief --ApproveBrief--> in_production --Submit--> in_review
/// --RequestChanges--> changes_requested --Submit--> in_review --Approve-->
/// approved --Schedule--> scheduled --Publish--> published;
/// scheduled --Unschedule--> approved; Cancel from any open status;
/// approved or scheduled --ReopenApproval--> in_production (the caption
/// changed after approval: a new round on the current version decides it
/// again; the revision count is unchanged, because no approver asked for
/// the change).
pub fn transition(from: ContentStatus, action: ContentAction) -> Result<ContentStatus, CoreError> {
    if let Some(to) = next(from, action) {
        return Ok(to);
    }
    let label = from.label();
    let cannot = action.phrase();
    let possible: Vec<&str> = ACTIONS
        .into_iter()
        .filter(|a| next(from, *a).is_some())
        .map(ContentAction::phrase)
        .collect();
    let msg = match from {
        ContentStatus::Published => format!(
            "content in \"{label}\" cannot {cannot}; published content is final and nothing more can happen to it"
        ),
        ContentStatus::Cancelled => format!(
            "content in \"{label}\" cannot {cannot}; it is closed, so start a new content item instead"
        ),
        _ => format!(
            "content in \"{label}\" cannot {cannot}; from \"{label}\" it can {}",
            or_list(&possible)
        ),
    };
    Err(CoreError::Conflict(msg))
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Event of a new content item; it starts the `content_intake` SOP.
pub const CYCLE_STARTED: &str = "content.cycle_started";

/// The event type an action records, which is also the trigger of the
/// matching SOP (`content.brief_approved` starts creative production,
/// `content.drafts_ready` review and approval, `content.ready_to_schedule`
/// publishing QA).
pub fn action_event(action: ContentAction) -> &'static str {
    match action {
        ContentAction::ApproveBrief => "content.brief_approved",
        ContentAction::Submit => "content.drafts_ready",
        ContentAction::RequestChanges => "content.changes_requested",
        ContentAction::Approve => "content.ready_to_schedule",
        ContentAction::Schedule => "content.scheduled",
        ContentAction::Unschedule => "content.unscheduled",
        ContentAction::Publish => "content.published",
        ContentAction::Cancel => "content.cancelled",
        ContentAction::ReopenApproval => APPROVAL_REOPENED,
    }
}

/// Event of an approval reopened because the caption changed after it.
pub const APPROVAL_REOPENED: &str = "content.approval_reopened";

#[cfg(test)]
mod tests;
