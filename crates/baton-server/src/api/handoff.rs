//! `/api/v1/clients/{id}/handoff`: the client's sales-to-delivery handoff
//! brief (scope, goals, constraints, first 30 days, stakeholders and who
//! approves, non-standard promises), versioned. Its completeness is the
//! `sales_handoff` SOP's definition of done: saving it syncs the client's
//! open runs.

use axum::extract::State;
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::handoff::HandoffBrief;
use baton_core::types::ClientId;
use baton_store::handoff_briefs::{self, SavedBrief, VersionSummary};
use baton_store::tokens::Scope;
use baton_store::{clients, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::api_token::ApiCaller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// The brief as sent and returned. Every field may be left out (empty);
/// unknown fields are refused (422). Lines are trimmed and blank ones
/// dropped; a line is at most 500 characters and a list at most 50 lines.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = HandoffBrief)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct HandoffBriefDoc {
    scope: HandoffScopeDoc,
    /// Goals and success measures, one per line.
    #[schema(schema_with = lines)]
    goals: Vec<String>,
    /// Brand, legal and budget constraints, one per line.
    #[schema(schema_with = lines)]
    constraints: Vec<String>,
    /// The plan for the first 30 days, one step per line.
    #[schema(schema_with = lines)]
    first_30_days: Vec<String>,
    /// At most 30.
    #[schema(max_items = 30)]
    stakeholders: Vec<StakeholderDoc>,
    /// Every non-standard promise sales made, one per line.
    #[schema(schema_with = lines)]
    promises: Vec<String>,
    /// `true` says explicitly that no non-standard promise was made; refused
    /// (422 on `promises`) while promises are listed.
    no_promises: bool,
}

/// A list of at most 50 lines of at most 500 characters.
fn lines() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(super::openapi::handoff_line())
        .max_items(Some(50))
        .build()
}

/// A list of at most 50 channels of at most 200 characters.
fn channels() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(super::openapi::handoff_short_line())
        .max_items(Some(50))
        .build()
}

/// What was sold.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = HandoffScope)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct HandoffScopeDoc {
    /// `["instagram", "tiktok"]`; at most 200 characters each.
    #[schema(schema_with = channels)]
    channels: Vec<String>,
    /// At most 50.
    #[schema(max_items = 50)]
    deliverables: Vec<DeliverableDoc>,
    /// Free text, at most 2,000 characters.
    #[schema(schema_with = super::openapi::scope_notes)]
    notes: String,
}

/// "12 Feed posts" a month.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = HandoffDeliverable)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct DeliverableDoc {
    /// At most 500 characters, one line. A deliverable with an empty item
    /// and `per_month` 0 is dropped; an empty item with a count is a 422.
    #[schema(schema_with = super::openapi::handoff_line)]
    item: String,
    /// 1 to 1,000 (0 only with an empty item).
    #[schema(minimum = 0, maximum = 1000)]
    per_month: i64,
}

/// A person on the client's side.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = HandoffStakeholder)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct StakeholderDoc {
    /// At most 200 characters, one line. A stakeholder with an empty name,
    /// role and email is dropped; one with a role or email needs a name (422).
    #[schema(schema_with = super::openapi::handoff_short_line)]
    name: String,
    /// Their title, e.g. `CMO` (may be empty).
    #[schema(schema_with = super::openapi::handoff_short_line)]
    role: String,
    #[schema(schema_with = super::openapi::optional_email)]
    email: Option<String>,
    /// Approves content and deliverables for the client.
    approves: bool,
}

/// A section of the brief and whether it is done.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffSectionOut {
    /// The `sales_handoff` checklist key, e.g. `scope_documented`.
    pub key: String,
    pub label: String,
    pub done: bool,
}

/// The client's brief (the latest, or one version).
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffOut {
    pub client_id: String,
    /// 1, 2, …; 0 while nothing has been saved.
    pub version: i64,
    #[schema(value_type = HandoffBriefDoc)]
    pub brief: HandoffBrief,
    /// Every section is done: the `sales_handoff` definition of done.
    pub complete: bool,
    /// Keys of the sections not done yet.
    pub missing: Vec<String>,
    pub sections: Vec<HandoffSectionOut>,
    /// Who saved this version; null before the first save.
    pub author: Option<String>,
    pub saved_at: Option<String>,
}

impl HandoffOut {
    fn new(client_id: &str, saved: Option<SavedBrief>) -> HandoffOut {
        let (version, brief, author, saved_at) = match saved {
            Some(s) => (
                s.version,
                s.brief,
                Some(s.author_label),
                Some(rfc3339(s.created_at)),
            ),
            None => (0, HandoffBrief::default(), None, None),
        };
        HandoffOut {
            client_id: client_id.to_string(),
            version,
            complete: brief.is_complete(),
            missing: brief.missing().into_iter().map(String::from).collect(),
            sections: brief
                .sections()
                .into_iter()
                .map(|(key, label, done)| HandoffSectionOut {
                    key: key.into(),
                    label: label.into(),
                    done,
                })
                .collect(),
            brief,
            author,
            saved_at,
        }
    }
}

/// A line of the version history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffVersionOut {
    pub version: i64,
    pub complete: bool,
    pub author: String,
    pub saved_at: String,
}

impl From<VersionSummary> for HandoffVersionOut {
    fn from(v: VersionSummary) -> Self {
        HandoffVersionOut {
            version: v.version,
            complete: v.complete,
            author: v.author_label,
            saved_at: rfc3339(v.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffVersionList {
    /// Newest first.
    pub items: Vec<HandoffVersionOut>,
}

#[utoipa::path(get, operation_id = "getClientHandoff", path = "/clients/{id}/handoff", tag = "handoff",
    params(("id" = String, Path)), responses((status = 200, body = HandoffOut), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<HandoffOut>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let latest = handoff_briefs::latest(&state.db, caller.agency_id(), &client_id).await?;
    Ok(Json(HandoffOut::new(&client_id, latest)))
}

#[utoipa::path(put, operation_id = "putClientHandoff", path = "/clients/{id}/handoff", tag = "handoff",
    params(("id" = String, Path)), request_body = HandoffBriefDoc,
    responses((status = 200, description = "saved as a new version (or unchanged: the same version)", body = HandoffOut),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
    ApiJson(brief): ApiJson<HandoffBrief>,
) -> ApiResult<Json<HandoffOut>> {
    caller.require(Scope::Write)?;
    let saved = handoff_briefs::save(caller.cx(&state), &client_id, brief).await?;
    Ok(Json(HandoffOut::new(&client_id, Some(saved))))
}

#[utoipa::path(get, operation_id = "listClientHandoffVersions", path = "/clients/{id}/handoff/versions", tag = "handoff",
    params(("id" = String, Path)), responses((status = 200, body = HandoffVersionList), (status = 404)), security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(client_id): ApiPath<ClientId>,
) -> ApiResult<Json<HandoffVersionList>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    let items = handoff_briefs::versions(&state.db, caller.agency_id(), &client_id).await?;
    Ok(Json(HandoffVersionList {
        items: items.into_iter().map(HandoffVersionOut::from).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getClientHandoffVersion", path = "/clients/{id}/handoff/versions/{n}", tag = "handoff",
    params(("id" = String, Path), ("n" = i64, Path, description = "version number, from 1")),
    responses((status = 200, body = HandoffOut), (status = 404)), security(("bearer" = [])))]
pub async fn version(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath((client_id, n)): ApiPath<(ClientId, String)>,
) -> ApiResult<Json<HandoffOut>> {
    caller.require(Scope::Read)?;
    clients::get(&state.db, caller.agency_id(), &client_id).await?;
    // A version that is not a positive number is simply not found.
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(StoreError::NotFound)?;
    let saved = handoff_briefs::version(&state.db, caller.agency_id(), &client_id, n).await?;
    Ok(Json(HandoffOut::new(&client_id, Some(saved))))
}
