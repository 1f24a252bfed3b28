//! What the content API answers: items, versions, rounds, remarks, QA.

use baton_core::clock::rfc3339;
use baton_core::content::ContentBrief;
use baton_store::content::{Item, PendingParticipants, Remark, Round, Version};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub n: i64,
    /// Named by the agency's convention, e.g. `harbor-fitness_spring_instagram_reel_v2`.
    pub name: String,
    /// `link` or `file`.
    pub kind: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// A file's SHA-256 (hex), to check a download against.
    pub sha256: Option<String>,
    /// Where a file downloads (`GET`, bearer token), named by the convention.
    pub file_url: Option<String>,
    pub note: Option<String>,
    /// The caption (copy) this version was added with; null for versions
    /// from before captions.
    pub caption: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl VersionOut {
    pub(super) fn of(content_id: &str, v: Version) -> Self {
        VersionOut {
            file_url: (v.kind == "file")
                .then(|| format!("/api/v1/content/{content_id}/versions/{}/file", v.n)),
            sha256: v.sha256,
            n: v.n,
            name: v.name,
            kind: v.kind,
            url: v.url,
            file_name: v.file_name,
            content_type: v.content_type,
            size_bytes: v.size_bytes,
            note: v.note,
            caption: v.caption,
            created_by: v.created_by,
            created_at: rfc3339(v.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoundOut {
    pub round: i64,
    pub version: i64,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    /// `approved` or `changes_requested`; null while open.
    pub outcome: Option<String>,
    /// `major` or `minor` when changes were requested.
    pub revision: Option<String>,
    /// The round's feedback as one list ("Name: text").
    pub feedback: Vec<String>,
    /// The caption the round was submitted with: with the version, what
    /// the approvers decided on.
    pub caption: Option<String>,
}

impl From<Round> for RoundOut {
    fn from(r: Round) -> Self {
        RoundOut {
            round: r.round,
            version: r.version_n,
            submitted_at: rfc3339(r.submitted_at),
            decided_at: r.decided_at.map(rfc3339),
            outcome: r.outcome,
            revision: r.revision,
            feedback: r.consolidated,
            caption: r.caption,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemarkOut {
    pub id: String,
    pub round: i64,
    pub version: i64,
    /// `member` or `client`.
    pub author_kind: String,
    pub author: String,
    /// Null for a comment; `approve` or `request_changes` for a decision.
    pub decision: Option<String>,
    pub body: Option<String>,
    /// Shown to the client on their approval link (a comment marked for
    /// the client, or the client's own comment or decision).
    pub for_client: bool,
    pub created_at: String,
}

impl From<Remark> for RemarkOut {
    fn from(r: Remark) -> Self {
        RemarkOut {
            id: r.id,
            round: r.round,
            version: r.version_n,
            author_kind: r.author_kind,
            author: r.author_label,
            decision: r.decision,
            body: r.body,
            for_client: r.for_client,
            created_at: rfc3339(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QaItemOut {
    pub key: String,
    pub label: String,
    pub done: bool,
    pub done_by: Option<String>,
    pub done_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QaOut {
    pub items: Vec<QaItemOut>,
    pub complete: bool,
    /// Who last worked on the QA checklist.
    pub qa_by: Option<String>,
    pub qa_at: Option<String>,
    /// Set when QA was waived at scheduling (counted as an incident risk).
    pub waived_reason: Option<String>,
}

pub(super) fn qa_out(i: &Item) -> QaOut {
    QaOut {
        items: i
            .qa
            .items
            .iter()
            .map(|q| {
                let d = i.qa.done.get(&q.key);
                QaItemOut {
                    key: q.key.clone(),
                    label: q.label.clone(),
                    done: d.is_some(),
                    done_by: d.map(|d| d.by.clone()),
                    done_at: d.map(|d| rfc3339(d.at)),
                }
            })
            .collect(),
        complete: i.qa.complete(),
        qa_by: i.qa_by.clone(),
        qa_at: i.qa_at.map(rfc3339),
        waived_reason: i.qa_waived_reason.clone(),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefDto {
    /// Each field at most 5,000 characters, several lines; may be empty.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::brief_text)]
    pub audience: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::brief_text)]
    pub angle: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::brief_text)]
    pub offer: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::brief_text)]
    pub constraints: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::brief_text)]
    pub examples: String,
}

impl From<ContentBrief> for BriefDto {
    fn from(b: ContentBrief) -> Self {
        BriefDto {
            audience: b.audience,
            angle: b.angle,
            offer: b.offer,
            constraints: b.constraints,
            examples: b.examples,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentOut {
    /// `cnt_…`
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    pub title: String,
    pub channel: String,
    pub format: String,
    pub campaign: String,
    pub brief: BriefDto,
    pub brief_complete: bool,
    /// The brief fields still empty.
    pub brief_missing: Vec<String>,
    /// `brief`, `in_production`, `in_review`, `changes_requested`, `approved`, `scheduled`, `published` or `cancelled`.
    pub status: String,
    /// `all` (every approver) or `any` (one approver).
    pub approval_mode: String,
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// A change of reviewers and approvers made during the open round by
    /// someone other than an admin: it applies when the next round opens.
    pub pending_participants: Option<PendingParticipantsOut>,
    /// The caption (copy) to publish with the asset; part of what is approved.
    pub caption: String,
    /// What the channel's limits say about the caption (too long, too many
    /// hashtags); the matching QA items cannot be ticked until it is fixed.
    pub caption_problems: Vec<String>,
    pub current_version: i64,
    pub round: i64,
    /// Rounds that ended with changes requested.
    pub revision_count: i64,
    /// First submission to approval, wall time; null until approved.
    pub approval_cycle_seconds: Option<i64>,
    /// The same on the agency's business calendar.
    pub approval_cycle_business_seconds: Option<i64>,
    pub first_submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub publish_at: Option<String>,
    pub published_at: Option<String>,
    /// The day it is planned to go out (`YYYY-MM-DD`, agency time).
    pub planned_on: Option<String>,
    pub qa: QaOut,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Only on single-item reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Vec<RoundOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discussion: Option<Vec<RemarkOut>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingParticipantsOut {
    pub reviewers: Vec<String>,
    pub approvers: Vec<String>,
    /// `all` or `any`.
    pub approval_mode: String,
    /// Who asked for the change (their name) and when.
    pub requested_by: String,
    pub requested_by_id: String,
    pub requested_at: String,
}

impl From<PendingParticipants> for PendingParticipantsOut {
    fn from(p: PendingParticipants) -> Self {
        PendingParticipantsOut {
            reviewers: p.reviewers,
            approvers: p.approvers,
            approval_mode: p.approval_mode.key().into(),
            requested_by: p.by,
            requested_by_id: p.by_id,
            requested_at: rfc3339(p.at),
        }
    }
}

impl From<Item> for ContentOut {
    fn from(i: Item) -> Self {
        let qa = qa_out(&i);
        ContentOut {
            caption_problems: baton_core::content::caption_problems(&i.channel, &i.caption)
                .into_iter()
                .map(|p| p.message)
                .collect(),
            approval_cycle_seconds: i.approval_cycle_ms().map(|ms| ms / 1000),
            approval_cycle_business_seconds: i.approval_business_ms.map(|ms| ms / 1000),
            brief_complete: i.brief.is_complete(),
            brief_missing: i.brief.missing().into_iter().map(String::from).collect(),
            id: i.id.into(),
            client_id: i.client_id,
            client_name: i.client_name,
            title: i.title,
            channel: i.channel,
            format: i.format,
            campaign: i.campaign,
            brief: i.brief.into(),
            status: i.status.key().into(),
            approval_mode: i.approval_mode.key().into(),
            reviewers: i.reviewers,
            approvers: i.approvers,
            pending_participants: i.pending_participants.map(Into::into),
            caption: i.caption,
            current_version: i.current_version,
            round: i.round,
            revision_count: i.revision_count,
            first_submitted_at: i.first_submitted_at.map(rfc3339),
            approved_at: i.approved_at.map(rfc3339),
            publish_at: i.publish_at.map(rfc3339),
            planned_on: i.planned_on.clone(),
            published_at: i.published_at.map(rfc3339),
            qa,
            created_by: i.created_by,
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
            versions: None,
            rounds: None,
            discussion: None,
        }
    }
}
