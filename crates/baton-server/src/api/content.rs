//! `/api/v1/clients/{id}/content` and `/api/v1/content/{id}/…`: content
//! items with their brief, versions, reviewers and approvers, approval
//! rounds, the publishing QA gate and the schedule.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use baton_core::clock::{parse_rfc3339, rfc3339};
use baton_core::content::{
    ApprovalMode, ContentAction, ContentBrief, ContentStatus, Decision, RevisionSize,
};
use baton_core::policy::{Action, Subject};
use baton_core::types::{ClientId, ContentId};
use baton_store::content::{
    self, Item, ItemFilter, ItemPatch, NewComment, NewDecision, NewItem, NewVersion, Participants,
    PendingParticipants, Remark, Round, Speaker, Version, VersionText, WaitingFor,
};
use baton_store::tokens::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::dto::PageOut;
use crate::auth::api_token::ApiCaller;
use crate::draft_files::{self, Disposition};
use crate::error::{ApiError, ApiResult};
use crate::extract::{id_cursor, is_multipart, ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::state::AppState;

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
    fn of(content_id: &str, v: Version) -> Self {
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

fn qa_out(i: &Item) -> QaOut {
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
    #[schema(schema_with = super::openapi::brief_text)]
    pub audience: String,
    #[serde(default)]
    #[schema(schema_with = super::openapi::brief_text)]
    pub angle: String,
    #[serde(default)]
    #[schema(schema_with = super::openapi::brief_text)]
    pub offer: String,
    #[serde(default)]
    #[schema(schema_with = super::openapi::brief_text)]
    pub constraints: String,
    #[serde(default)]
    #[schema(schema_with = super::openapi::brief_text)]
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
            id: i.id,
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

/// The whole item: with versions, rounds and discussion.
async fn full(state: &AppState, agency_id: &str, id: &str) -> ApiResult<ContentOut> {
    let item = content::get(&state.db, agency_id, id).await?;
    let (versions, rounds, discussion) = tokio::try_join!(
        content::versions(&state.db, agency_id, id),
        content::rounds(&state.db, agency_id, id),
        content::discussion(&state.db, agency_id, id),
    )?;
    let mut out = ContentOut::from(item);
    out.versions = Some(
        versions
            .into_iter()
            .map(|v| VersionOut::of(id, v))
            .collect(),
    );
    out.rounds = Some(rounds.into_iter().map(Into::into).collect());
    out.discussion = Some(discussion.into_iter().map(Into::into).collect());
    Ok(out)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentIn {
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub title: String,
    /// `instagram`, `tiktok`, `linkedin`, … (its QA checklist follows):
    /// 1–40 letters, digits or `_`.
    #[schema(schema_with = super::openapi::channel_key)]
    pub channel: String,
    /// At most 60 characters, one line.
    #[serde(default)]
    #[schema(schema_with = super::openapi::format_text)]
    pub format: Option<String>,
    /// At most 120 characters, one line.
    #[serde(default)]
    #[schema(schema_with = super::openapi::campaign_text)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub brief: Option<BriefDto>,
    /// The caption (copy), up to 5,000 characters; may come later.
    #[serde(default)]
    #[schema(schema_with = super::openapi::caption_text)]
    pub caption: Option<String>,
}

#[utoipa::path(post, operation_id = "createContent", path = "/api/v1/clients/{id}/content", tag = "content",
    params(("id" = String, Path)), request_body = ContentIn,
    responses((status = 201, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
    ApiJson(b): ApiJson<ContentIn>,
) -> ApiResult<(StatusCode, Json<ContentOut>)> {
    caller.require(Scope::Write)?;
    let brief = b.brief.unwrap_or(BriefDto {
        audience: String::new(),
        angle: String::new(),
        offer: String::new(),
        constraints: String::new(),
        examples: String::new(),
    });
    let item = content::create(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &client,
        NewItem {
            title: b.title,
            channel: b.channel,
            format: b.format.unwrap_or_default(),
            campaign: b.campaign.unwrap_or_default(),
            brief: ContentBrief {
                audience: brief.audience,
                angle: brief.angle,
                offer: brief.offer,
                constraints: brief.constraints,
                examples: brief.examples,
            },
            caption: b.caption.unwrap_or_default(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(full(&state, caller.agency_id(), &item.id).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200, nullable = false)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(schema_with = super::openapi::content_cursor)]
    pub cursor: Option<String>,
    /// Only this client's items (`cli_…`).
    #[param(nullable = false)]
    pub client: Option<String>,
    /// Only items in this status.
    #[param(schema_with = super::openapi::content_status_filter)]
    pub status: Option<String>,
}

#[utoipa::path(get, operation_id = "listContent", path = "/api/v1/content", tag = "content", params(ContentQuery),
    responses((status = 200, body = PageOut<ContentOut>), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<ContentQuery>,
) -> ApiResult<Json<PageOut<ContentOut>>> {
    caller.require(Scope::Read)?;
    PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .validate()?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ContentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "use brief, in_production, in_review, changes_requested, approved, scheduled, published or cancelled")
        })?),
    };
    let cursor = id_cursor(q.cursor.as_deref(), baton_core::ids::CONTENT)?;
    let f = ItemFilter {
        client_id: q.client.filter(|c| !c.is_empty()),
        status,
    };
    let page = content::list(&state.db, caller.agency_id(), &f, cursor, q.limit).await?;
    Ok(Json(PageOut::map(page, ContentOut::from)))
}

#[utoipa::path(get, operation_id = "listClientContent", path = "/api/v1/clients/{id}/content", tag = "content",
    params(("id" = String, Path), ContentQuery),
    responses((status = 200, body = PageOut<ContentOut>), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn list_for_client(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client): ApiPath<ClientId>,
    ApiQuery(mut q): ApiQuery<ContentQuery>,
) -> ApiResult<Json<PageOut<ContentOut>>> {
    caller.require(Scope::Read)?;
    baton_store::clients::get(&state.db, caller.agency_id(), &client).await?;
    q.client = Some(client.into_string());
    list(State(state), caller, ApiQuery(q)).await
}

#[utoipa::path(get, operation_id = "getContent", path = "/api/v1/content/{id}", tag = "content",
    params(("id" = String, Path)), responses((status = 200, body = ContentOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentPatch {
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text_or_null)]
    pub title: Option<String>,
    /// At most 60 characters, one line.
    #[schema(schema_with = super::openapi::format_text)]
    pub format: Option<String>,
    /// At most 120 characters, one line.
    #[schema(schema_with = super::openapi::campaign_text)]
    pub campaign: Option<String>,
    /// Replaces the whole brief.
    pub brief: Option<BriefDto>,
    /// The caption (copy), up to 5,000 characters, several lines. Refused
    /// (409) during an open round; on an approved or scheduled item a new
    /// caption reopens approval: the item goes back to `in_production`
    /// (off the schedule, its QA to do again) and needs a new round.
    #[schema(schema_with = super::openapi::caption_text)]
    pub caption: Option<String>,
}

/// Edits the item. Once approved only the caption may change, and a new
/// caption reopens approval (`content.approval_reopened`).
#[utoipa::path(patch, operation_id = "updateContent", path = "/api/v1/content/{id}", tag = "content",
    params(("id" = String, Path)), request_body = ContentPatch,
    responses((status = 200, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ContentPatch>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::update(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        ItemPatch {
            title: b.title,
            format: b.format,
            campaign: b.campaign,
            brief: b.brief.map(|d| ContentBrief {
                audience: d.audience,
                angle: d.angle,
                offer: d.offer,
                constraints: d.constraints,
                examples: d.examples,
            }),
            caption: b.caption,
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsIn {
    /// Members who comment (`mem_…`), at most 50; each a member of this
    /// agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub reviewers: Vec<String>,
    /// Members who decide (`mem_…`), at most 50; each a member of this
    /// agency (422 otherwise).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub approvers: Vec<String>,
    /// `all` (default) or `any`.
    #[serde(default)]
    #[schema(schema_with = super::openapi::approval_mode)]
    pub approval_mode: Option<String>,
}

/// Sets who reviews and who approves. Only the client's account lead, its
/// traffic-control owner or an admin may (403 otherwise). During an open
/// round a change by anyone but an admin applies from the next round: it is
/// returned as `pending_participants` and the open round keeps its approvers.
#[utoipa::path(put, operation_id = "setContentParticipants", path = "/api/v1/content/{id}/participants", tag = "content",
    params(("id" = String, Path)), request_body = ParticipantsIn,
    responses((status = 200, body = ContentOut), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn participants(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ParticipantsIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let item = content::get(&state.db, caller.agency_id(), &id).await?;
    let principal = caller
        .principal_on_client(&state.db, &item.client_id)
        .await?;
    caller.can(
        &principal,
        Action::ChangeParticipants,
        Subject::ContentItem {
            client_id: &item.client_id,
        },
    )?;
    let mode = match b.approval_mode.as_deref() {
        None | Some("") => None,
        Some(m) => Some(
            ApprovalMode::parse(m)
                .ok_or_else(|| ApiError::invalid("approval_mode", "use all or any"))?,
        ),
    };
    content::set_participants(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        &Participants {
            reviewers: b.reviewers,
            approvers: b.approvers,
            mode,
            by_admin: principal.is_admin(),
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionIn {
    /// The draft's link (https://…).
    #[schema(schema_with = super::openapi::required_url)]
    pub url: String,
    /// What changed in this version.
    #[serde(default)]
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub note: Option<String>,
    /// The caption (copy) that goes with it; the item's current caption
    /// when left out. A caption given here becomes the item's caption.
    #[serde(default)]
    #[schema(schema_with = super::openapi::caption_text)]
    pub caption: Option<String>,
}

/// A draft file upload (`multipart/form-data`): these three fields only
/// (another is refused with 422).
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionUpload {
    /// The draft: PNG, JPEG, GIF, WebP, MP4, MOV, WebM or PDF, at most 200 MB;
    /// its first bytes must match its extension.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// What changed in this version.
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub note: Option<String>,
    /// The caption that goes with it (default: the item's current caption).
    #[schema(schema_with = super::openapi::caption_text)]
    pub caption: Option<String>,
}

/// Adds the next version: a link (JSON `{"url"}`) or a draft file
/// (`multipart/form-data` with `file` and optional `note` and `caption`).
#[utoipa::path(post, operation_id = "addContentVersion", path = "/api/v1/content/{id}/versions", tag = "content",
    params(("id" = String, Path)),
    request_body(content(
        (VersionIn = "application/json"),
        (VersionUpload = "multipart/form-data"),
    )),
    responses((status = 201, body = VersionOut), (status = 404), (status = 409), (status = 413), (status = 422)), security(("bearer" = [])))]
pub async fn add_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    req: Request,
) -> ApiResult<(StatusCode, Json<VersionOut>)> {
    caller.require(Scope::Write)?;
    let agency_id = caller.agency_id();
    let v = if is_multipart(req.headers()) {
        // Refuse before receiving the file when the item takes no version.
        let item = content::ready_for_version(&state.db, agency_id, &id).await?;
        let mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let form =
            draft_files::read_form(&state, agency_id, &item.client_id, &id, mp, None).await?;
        draft_files::add(&state, agency_id, &caller.actor, &id, &item.client_id, form).await?
    } else {
        // This route's body limit is the upload's; JSON keeps the app's.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, state.config.body_limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        let ApiJson(b) =
            ApiJson::<VersionIn>::from_request(Request::from_parts(parts, bytes.into()), &state)
                .await?;
        content::add_version(
            &state.db,
            agency_id,
            &caller.actor,
            state.now(),
            &id,
            NewVersion::Link { url: b.url },
            VersionText {
                note: b.note,
                caption: b.caption,
            },
        )
        .await?
    };
    Ok((StatusCode::CREATED, Json(VersionOut::of(&id, v))))
}

/// A file version's bytes, as an attachment named by the convention, in the
/// file's own type (`image/png`, `video/mp4`, `application/pdf`, …).
/// `Range` requests are answered with 206 (or 416), conditional ones with
/// 304 or 412.
#[utoipa::path(get, operation_id = "downloadContentVersion", path = "/api/v1/content/{id}/versions/{n}/file", tag = "content",
    params(("id" = String, Path), ("n" = i64, Path, description = "The version number")),
    responses(
        (status = 200, description = "The whole file, in its own content type", content_type = "*/*", body = String,
            headers(("Content-Disposition" = String, description = "attachment, with the file name of the naming convention"))),
        (status = 206, description = "The requested range of the file", content_type = "*/*", body = String,
            headers(("Content-Range" = String))),
        (status = 304, description = "Not modified since `If-Modified-Since`"),
        (status = 404, description = "No such item or version"),
        (status = 409, description = "The version is a link, not a file: the problem's detail names the link"),
        (status = 412, description = "Modified since `If-Unmodified-Since`"),
        (status = 416, description = "The range is outside the file")),
    security(("bearer" = [])))]
pub async fn download_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((id, n)): ApiPath<(ContentId, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(Scope::Read)?;
    let n: i64 = n.parse().map_err(|_| ApiError::NotFound)?;
    let agency_id = caller.agency_id();
    let item = content::get(&state.db, agency_id, &id).await?;
    let v = content::version(&state.db, agency_id, &id, n).await?;
    if let Some(url) = v.url.as_deref().filter(|_| v.stored_name.is_none()) {
        return Err(ApiError::Conflict(format!(
            "version {n} is a link, not a file: {url}"
        )));
    }
    draft_files::serve(
        &state,
        agency_id,
        &item.client_id,
        &v,
        &method,
        &headers,
        Disposition::Download,
    )
    .await?
    .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, operation_id = "submitContent", path = "/api/v1/content/{id}/submit", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::submit(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

/// `POST /api/v1/content/{id}/{action}` for the plain moves.
async fn plain(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    action: ContentAction,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    content::act(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        id,
        action,
    )
    .await?;
    Ok(Json(full(state, caller.agency_id(), id).await?))
}

#[utoipa::path(post, operation_id = "approveContentBrief", path = "/api/v1/content/{id}/approve-brief", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn approve_brief(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::ApproveBrief).await
}

#[utoipa::path(post, operation_id = "cancelContent", path = "/api/v1/content/{id}/cancel", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Cancel).await
}

#[utoipa::path(post, operation_id = "unscheduleContent", path = "/api/v1/content/{id}/unschedule", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn unschedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Unschedule).await
}

#[utoipa::path(post, operation_id = "publishContent", path = "/api/v1/content/{id}/publish", tag = "content",
    params(("id" = String, Path)),
    responses((status = 200, body = ContentOut), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn publish(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<ContentOut>> {
    plain(&state, &caller, &id, ContentAction::Publish).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// 1–10,000 characters.
    #[schema(schema_with = super::openapi::required_note)]
    pub body: String,
    /// Show it to the client on their approval link (default: internal,
    /// the team's only).
    #[serde(default)]
    pub for_client: bool,
}

#[utoipa::path(post, operation_id = "commentContent", path = "/api/v1/content/{id}/comments", tag = "content",
    params(("id" = String, Path)), request_body = CommentIn,
    responses((status = 201, body = RemarkOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn comment(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<CommentIn>,
) -> ApiResult<(StatusCode, Json<RemarkOut>)> {
    caller.require(Scope::Write)?;
    let who = Speaker::Member {
        id: caller.member.id.clone(),
        name: caller.member.name.clone(),
    };
    let r = content::comment(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        &NewComment {
            who,
            body: b.body,
            for_client: b.for_client,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// `approve` or `request_changes`.
    #[schema(schema_with = super::openapi::decision)]
    pub decision: String,
    /// Required with `request_changes` (422 without it).
    #[serde(default)]
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub comment: Option<String>,
    /// For `request_changes`: `major` or `minor` (default) revision.
    #[serde(default)]
    #[schema(schema_with = super::openapi::revision)]
    pub revision: Option<String>,
}

#[utoipa::path(post, operation_id = "decideContent", path = "/api/v1/content/{id}/decisions", tag = "content",
    params(("id" = String, Path)), request_body = DecisionIn,
    responses((status = 200, body = ContentOut), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<DecisionIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let decision = Decision::parse(&b.decision)
        .ok_or_else(|| ApiError::invalid("decision", "use approve or request_changes"))?;
    let revision = match b.revision.as_deref() {
        None | Some("") => None,
        Some(r) => Some(
            RevisionSize::parse(r)
                .ok_or_else(|| ApiError::invalid("revision", "use major or minor"))?,
        ),
    };
    let who = Speaker::Member {
        id: caller.member.id.clone(),
        name: caller.member.name.clone(),
    };
    content::decide(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        &NewDecision {
            who,
            decision,
            comment: b.comment,
            revision,
        },
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[utoipa::path(get, operation_id = "getContentQa", path = "/api/v1/content/{id}/qa", tag = "content",
    params(("id" = String, Path)), responses((status = 200, body = QaOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_qa(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
) -> ApiResult<Json<QaOut>> {
    caller.require(Scope::Read)?;
    let item = content::get(&state.db, caller.agency_id(), &id).await?;
    Ok(Json(qa_out(&item)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaIn {
    /// `{"links_checked": true}` ticks an item, `false` unticks it. At
    /// least one; each a key of the item's QA checklist (422 otherwise).
    #[schema(schema_with = super::openapi::item_toggles)]
    pub items: BTreeMap<String, bool>,
}

#[utoipa::path(put, operation_id = "putContentQa", path = "/api/v1/content/{id}/qa", tag = "content",
    params(("id" = String, Path)), request_body = QaIn,
    responses((status = 200, body = QaOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn put_qa(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<QaIn>,
) -> ApiResult<Json<QaOut>> {
    caller.require(Scope::Write)?;
    let item = content::set_qa(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        &b.items,
    )
    .await?;
    Ok(Json(qa_out(&item)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// When it goes live (RFC 3339, offset within ±18:00): not in the past
    /// and within five years (422 otherwise).
    #[schema(schema_with = super::openapi::time)]
    pub publish_at: String,
    /// Schedule without finished QA: the reason is recorded as an incident risk.
    #[serde(default)]
    #[schema(schema_with = super::openapi::note_or_empty)]
    pub waive_qa_reason: Option<String>,
}

#[utoipa::path(post, operation_id = "scheduleContent", path = "/api/v1/content/{id}/schedule", tag = "content",
    params(("id" = String, Path)), request_body = ScheduleIn,
    responses((status = 200, body = ContentOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    ApiJson(b): ApiJson<ScheduleIn>,
) -> ApiResult<Json<ContentOut>> {
    caller.require(Scope::Write)?;
    let at = parse_rfc3339(&b.publish_at)
        .ok_or_else(|| ApiError::invalid("publish_at", "must be an RFC 3339 time"))?;
    let now = state.now();
    if at < now - 5 * 60_000 {
        return Err(ApiError::invalid("publish_at", "must not be in the past"));
    }
    if at > now + 5 * 366 * 86_400_000 {
        return Err(ApiError::invalid("publish_at", "must be within five years"));
    }
    content::schedule(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        at,
        b.waive_qa_reason.as_deref(),
    )
    .await?;
    Ok(Json(full(&state, caller.agency_id(), &id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalLinkIn {
    /// 1–90 days (default 14).
    #[schema(schema_with = super::openapi::approval_link_days)]
    #[serde(default, deserialize_with = "crate::extract::whole")]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalLinkOut {
    /// Send it to the client; shown once (only its hash is stored). A new
    /// link revokes the previous one.
    pub url: String,
    pub expires_at: String,
}

#[utoipa::path(post, operation_id = "createContentApprovalLink", path = "/api/v1/content/{id}/approval-link", tag = "content",
    params(("id" = String, Path)), request_body(content = Option<ApprovalLinkIn>, description = "May be left out"),
    responses((status = 201, body = ApprovalLinkOut), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn approval_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ContentId>,
    crate::extract::OptionalJson(body): crate::extract::OptionalJson<ApprovalLinkIn>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Scope::Write)?;
    let days = body.expires_in_days.unwrap_or(14);
    let created = baton_store::approval_links::create(
        &state.db,
        caller.agency_id(),
        &caller.actor,
        state.now(),
        &id,
        days,
    )
    .await?;
    let out = ApprovalLinkOut {
        url: state.config.approval_url(&created.token),
        expires_at: rfc3339(created.expires_at),
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut()
        .insert(super::idempotency::SecretInBody);
    Ok(resp)
}

/// An item waiting for the caller in its open review round.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingOut {
    /// `cnt_…`
    pub id: String,
    pub title: String,
    pub client_id: String,
    pub client_name: String,
    pub channel: String,
    pub round: i64,
    pub version: i64,
    /// When the round opened.
    pub submitted_at: Option<String>,
    /// `decision` (you approve and have not decided this round) or `review`
    /// (you review and have not commented this round).
    pub waiting_for: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingListOut {
    /// Longest waiting first, at most 100.
    pub items: Vec<WaitingOut>,
}

/// Most items "waiting for me" lists.
pub const WAITING_CAP: i64 = 100;

/// Content in review waiting for the caller: items whose open round has
/// them as an approver who has not decided, or as a reviewer who has not
/// commented.
#[utoipa::path(get, operation_id = "myContentWaiting", path = "/api/v1/me/content-waiting", tag = "content",
    responses((status = 200, body = WaitingListOut)), security(("bearer" = [])))]
pub async fn waiting(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<WaitingListOut>> {
    caller.require(Scope::Read)?;
    let list = content::waiting_for(
        &state.db,
        caller.agency_id(),
        &caller.member.id,
        WAITING_CAP,
    )
    .await?;
    Ok(Json(WaitingListOut {
        items: list
            .into_iter()
            .map(|(i, why)| WaitingOut {
                waiting_for: match why {
                    WaitingFor::Decision => "decision",
                    WaitingFor::Review => "review",
                }
                .into(),
                submitted_at: i.submitted_at.map(rfc3339),
                id: i.id,
                title: i.title,
                client_id: i.client_id,
                client_name: i.client_name,
                channel: i.channel,
                round: i.round,
                version: i.current_version,
            })
            .collect(),
    }))
}
