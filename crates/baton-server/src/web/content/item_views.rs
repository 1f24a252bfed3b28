//! The pieces of one content item's page: versions, people, rounds with
//! their remarks, the QA checklist, what was typed into a refused form,
//! and the "next step" line.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use baton_core::content::{
    self as rules, ApprovalMode, ContentBrief, ContentStatus, Decision, RoundOutcome,
};
use baton_core::content_files::Preview;
use baton_store::content::{self, Item, PendingParticipants, Remark, Round, Version};
use baton_store::members::{self, Member};
use baton_store::StoreError;
use jiff::tz::TimeZone;

use super::shared::{plural, size_label};
use crate::state::AppState;
use crate::web::sops::When;
use crate::web::{timefmt, WebError};

/// A brief field as shown.
pub struct BriefLine {
    pub label: &'static str,
    pub value: String,
}

pub struct VersionView {
    pub n: i64,
    pub name: String,
    /// The draft's link (always http or https).
    pub href: Option<String>,
    /// "cover.jpg · image/jpeg · 2.1 MB" for a file.
    pub file: Option<String>,
    /// Where a file version is shown (`/content/{id}/versions/{n}/file`).
    pub file_href: Option<String>,
    /// `image` or `video` for a file shown in the page, else empty.
    pub preview: &'static str,
    pub note: Option<String>,
    /// The caption the version was added with, when it has one.
    pub caption: Option<String>,
    pub by: String,
    pub at: When,
    pub ago: String,
    pub current: bool,
}

pub(super) fn version_view(
    item_id: &str,
    v: &Version,
    current: i64,
    now: i64,
    tz: &TimeZone,
) -> VersionView {
    let file_href = (v.kind == "file").then(|| format!("/content/{item_id}/versions/{}/file", v.n));
    let preview = match v.content_type.as_deref().map(Preview::of) {
        Some(Preview::Image) if file_href.is_some() => "image",
        Some(Preview::Video) if file_href.is_some() => "video",
        _ => "",
    };
    VersionView {
        file_href,
        preview,
        n: v.n,
        name: v.name.clone(),
        href: v
            .url
            .clone()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        file: v.file_name.as_ref().map(|f| {
            let mut parts = vec![f.clone()];
            parts.extend(v.content_type.clone());
            parts.extend(v.size_bytes.map(size_label));
            parts.join(" · ")
        }),
        note: v.note.clone(),
        caption: v.caption.clone().filter(|c| !c.is_empty()),
        by: v.created_by.clone(),
        at: When::at(v.created_at, tz),
        ago: timefmt::relative(v.created_at, now),
        current: v.n == current,
    }
}

/// An active member as a choice of the participants form.
pub struct PersonOpt {
    pub id: String,
    pub name: String,
    pub reviewer: bool,
    pub approver: bool,
}

pub struct RoundView {
    pub n: i64,
    pub version: i64,
    pub submitted: When,
    pub decided: Option<When>,
    /// "Open", "Approved", "Changes requested".
    pub outcome: &'static str,
    pub badge: &'static str,
    /// "major revision" / "minor revision".
    pub revision: Option<String>,
    /// The round's feedback as one list ("Name: text"); for the open round,
    /// what was said so far.
    pub feedback: Vec<String>,
    pub open: bool,
}

pub struct RemarkView {
    pub who: String,
    pub from_client: bool,
    /// A member's comment the client sees on their approval link.
    pub shown_to_client: bool,
    /// "Approved", "Requested changes"; `None` for a comment.
    pub decision: Option<&'static str>,
    pub badge: &'static str,
    pub body: Option<String>,
    pub round: i64,
    pub version: i64,
    pub at: When,
    pub ago: String,
}

pub struct QaLine {
    pub key: String,
    pub label: String,
    pub done: bool,
    /// "Ana Ortiz, Tue 3 Mar, 14:05".
    pub done_note: Option<String>,
}

/// What was typed in the item's forms, and which form was refused.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// The refused form: "brief", "participants", "version", "act",
    /// "comment", "decision", "qa" or "schedule".
    pub at: &'static str,
    pub error: Option<String>,
    pub url: String,
    pub note: String,
    pub comment: String,
    /// The comment was marked "Visible to the client".
    pub comment_for_client: bool,
    /// The caption as typed (`None`: the item's).
    pub caption: Option<String>,
    pub decision_comment: String,
    /// "major" or "minor".
    pub revision: String,
    pub publish_at: String,
    pub waive_reason: String,
    /// Participants as ticked: (reviewers, approvers, mode).
    pub participants: Option<(Vec<String>, Vec<String>, String)>,
    /// A client approval link just made: shown once, on this render only.
    pub approval_url: Option<String>,
}

impl Typed {
    /// The refusal to show at form `at`.
    pub fn err(&self, at: &str) -> Option<&str> {
        if self.at == at {
            self.error.as_deref()
        } else {
            None
        }
    }

    pub(super) fn refused(
        at: &'static str,
        (status, message): (StatusCode, String),
    ) -> (StatusCode, Typed) {
        (
            status,
            Typed {
                at,
                error: Some(message),
                ..Typed::default()
            },
        )
    }
}

/// A change of reviewers and approvers waiting for the next round.
pub struct PendingView {
    pub reviewers: String,
    pub approvers: String,
    /// "every approver" / "any one approver".
    pub mode: &'static str,
    pub by: String,
    pub at: String,
}

/// "312 characters · 4 hashtags", with the channel's limits when known.
pub(super) fn caption_count(channel: &str, caption: &str) -> String {
    let info = rules::channel(channel);
    let chars = caption.chars().count();
    let mut out = match info.and_then(|c| c.caption_limit) {
        Some(l) => format!("{chars} of {l} characters"),
        None => plural(chars as i64, "character", "characters"),
    };
    let tags = rules::hashtag_count(caption) as i64;
    match info.and_then(|c| c.hashtag_limit) {
        Some(l) => out.push_str(&format!(" · {tags} of {l} hashtags")),
        None => out.push_str(&format!(" · {}", plural(tags, "hashtag", "hashtags"))),
    }
    out
}

/// The status and what happens next, in a sentence.
pub(super) fn next_step(
    item: &Item,
    approver_names: &[String],
    waiting: &[String],
    qa_left: usize,
    tz: &TimeZone,
) -> String {
    let v = item.current_version;
    match item.status {
        ContentStatus::Brief => {
            let missing = item.brief.missing();
            if missing.is_empty() {
                "The brief is complete: approve it to start production (or add a first version)."
                    .into()
            } else {
                format!(
                    "The brief still needs {}: complete it, then approve it to start production.",
                    missing.join(", ")
                )
            }
        }
        ContentStatus::InProduction if v == 0 => {
            "In production: add a first version (a link), then submit it for review.".into()
        }
        ContentStatus::InProduction | ContentStatus::ChangesRequested
            if approver_names.is_empty() =>
        {
            format!("Version {v} is ready once someone can decide: name at least one approver, then submit it for review.")
        }
        ContentStatus::InProduction if item.approved_at.is_some() => format!(
            "Approval was reopened (the caption changed after approval): submit version {v} with the new caption for a new round, or add a newer version."
        ),
        ContentStatus::InProduction => {
            format!("In production: submit version {v} for review when it is ready, or add a newer version.")
        }
        ContentStatus::ChangesRequested => format!(
            "Changes were requested in round {}: add the next version with the consolidated feedback below, then submit it.",
            item.round
        ),
        ContentStatus::InReview if waiting.is_empty() => format!(
            "Version {v} is in review (round {}), but nobody on it can approve: name an approver.",
            item.round
        ),
        ContentStatus::InReview => format!(
            "Version {v} is in review (round {}): waiting on {} to decide.",
            item.round,
            waiting.join(", ")
        ),
        ContentStatus::Approved if qa_left > 0 => format!(
            "Approved: finish the publishing QA checklist ({qa_left} left), then schedule it."
        ),
        ContentStatus::Approved => "Approved and QA is complete: schedule it.".into(),
        ContentStatus::Scheduled => format!(
            "Scheduled for {}: mark it published once it is live.",
            item.publish_at
                .map(|at| timefmt::local(at, tz))
                .unwrap_or_default()
        ),
        ContentStatus::Published => format!(
            "Published {}. Published content is final.",
            item.published_at
                .map(|at| timefmt::local(at, tz))
                .unwrap_or_default()
        ),
        ContentStatus::Cancelled => {
            "Cancelled: nothing more can happen to it; start a new item instead.".into()
        }
    }
}

/// Names for member ids: the active members', then the others one by one
/// (only participants who left the agency: rare, and few).
pub(super) async fn names_of(
    state: &AppState,
    agency_id: &str,
    people: &[Member],
    ids: &[String],
) -> Result<HashMap<String, String>, WebError> {
    let mut names: HashMap<String, String> = people
        .iter()
        .map(|m| (m.id.clone(), m.name.clone()))
        .collect();
    for id in ids {
        if id == content::CLIENT_APPROVER {
            names.insert(id.clone(), "the client (approval link)".into());
            continue;
        }
        if !names.contains_key(id) {
            let name = match members::get(&state.db, agency_id, id).await {
                Ok(m) => format!("{} (deactivated)", m.name),
                Err(StoreError::NotFound) => id.clone(),
                Err(e) => return Err(e.into()),
            };
            names.insert(id.clone(), name);
        }
    }
    Ok(names)
}

pub(super) fn round_view(r: &Round, remarks: &[Remark], tz: &TimeZone) -> RoundView {
    let (outcome, badge) = match r.outcome.as_deref() {
        Some("approved") => ("Approved", "badge-status-active"),
        Some("changes_requested") => ("Changes requested", "badge-warn"),
        _ => ("Open", "badge-info"),
    };
    let open = r.outcome.is_none();
    let feedback = if open {
        remarks
            .iter()
            .filter(|m| m.round == r.round)
            .filter_map(|m| m.body.as_ref().map(|b| format!("{}: {b}", m.author_label)))
            .collect()
    } else {
        r.consolidated.clone()
    };
    RoundView {
        n: r.round,
        version: r.version_n,
        submitted: When::at(r.submitted_at, tz),
        decided: r.decided_at.map(|at| When::at(at, tz)),
        outcome,
        badge,
        revision: r.revision.as_ref().map(|s| format!("{s} revision")),
        feedback,
        open,
    }
}

/// A change of reviewers and approvers waiting for the next round, with
/// `list` naming the people.
pub(super) fn pending_view(
    p: &PendingParticipants,
    list: &dyn Fn(&[String]) -> String,
    now: i64,
    tz: &TimeZone,
) -> PendingView {
    PendingView {
        reviewers: list(&p.reviewers),
        approvers: list(&p.approvers),
        mode: match p.approval_mode {
            ApprovalMode::All => "every approver",
            ApprovalMode::Any => "any one approver",
        },
        by: p.by.clone(),
        at: baton_core::human::when(p.at, now, tz),
    }
}

/// Who the open round still waits on (the client counts once it decided),
/// by `name`.
pub(super) fn waiting_on(
    item: &Item,
    remarks: &[Remark],
    name: &dyn Fn(&String) -> String,
) -> Vec<String> {
    let mut waiting = Vec::new();
    if item.status == ContentStatus::InReview {
        let decisions: Vec<(String, Decision)> = remarks
            .iter()
            .filter(|r| r.round == item.round)
            .filter_map(|r| {
                let d = Decision::parse(r.decision.as_deref()?)?;
                Some((r.author_id.clone(), d))
            })
            .collect();
        if let RoundOutcome::Pending { waiting_on } =
            rules::round_outcome(item.approval_mode, &item.approvers, &decisions)
        {
            waiting = waiting_on
                .iter()
                .map(|w| {
                    if w == "client" {
                        "the client".to_string()
                    } else {
                        name(w)
                    }
                })
                .collect();
        }
    }
    waiting
}

/// The item's QA checklist, each line with who ticked it and when.
pub(super) fn qa_lines(item: &Item, tz: &TimeZone) -> Vec<QaLine> {
    item.qa
        .items
        .iter()
        .map(|i| {
            let d = item.qa.done.get(&i.key);
            QaLine {
                key: i.key.clone(),
                label: i.label.clone(),
                done: d.is_some(),
                done_note: d.map(|d| format!("{}, {}", d.by, timefmt::local(d.at, tz))),
            }
        })
        .collect()
}

/// The brief's fields in the page's order.
pub(super) fn brief_lines(brief: &ContentBrief) -> Vec<BriefLine> {
    vec![
        BriefLine {
            label: "Audience",
            value: brief.audience.clone(),
        },
        BriefLine {
            label: "Angle",
            value: brief.angle.clone(),
        },
        BriefLine {
            label: "Offer",
            value: brief.offer.clone(),
        },
        BriefLine {
            label: "Constraints",
            value: brief.constraints.clone(),
        },
        BriefLine {
            label: "Examples",
            value: brief.examples.clone(),
        },
    ]
}

/// A comment or decision as the discussion shows it.
pub(super) fn remark_view(r: &Remark, now: i64, tz: &TimeZone) -> RemarkView {
    let (decision, badge) = match r.decision.as_deref() {
        Some("approve") => (Some("Approved"), "badge-status-active"),
        Some("request_changes") => (Some("Requested changes"), "badge-warn"),
        _ => (None, ""),
    };
    RemarkView {
        who: r.author_label.clone(),
        from_client: r.author_kind == "client",
        shown_to_client: r.for_client && r.author_kind != "client",
        decision,
        badge,
        body: r.body.clone(),
        round: r.round,
        version: r.version_n,
        at: When::at(r.created_at, tz),
        ago: timefmt::relative(r.created_at, now),
    }
}

/// The people of the participants form, ticked as typed (or as saved), with
/// the chosen approvers and approval mode.
pub(super) fn person_options(
    people: &[Member],
    item: &Item,
    typed: &Option<(Vec<String>, Vec<String>, String)>,
) -> (Vec<PersonOpt>, HashSet<String>, String) {
    let (chosen_reviewers, chosen_approvers, mode) = match typed {
        Some((r, a, m)) => (
            r.iter().cloned().collect::<HashSet<_>>(),
            a.iter().cloned().collect::<HashSet<_>>(),
            m.clone(),
        ),
        None => (
            item.reviewers.iter().cloned().collect(),
            item.approvers.iter().cloned().collect(),
            item.approval_mode.key().to_string(),
        ),
    };
    let people: Vec<PersonOpt> = people
        .iter()
        .map(|m| PersonOpt {
            id: m.id.clone(),
            name: m.name.clone(),
            reviewer: chosen_reviewers.contains(&m.id),
            approver: chosen_approvers.contains(&m.id),
        })
        .collect();
    (people, chosen_approvers, mode)
}
