//! `/api/v1/cadences` (the agency's recurring meetings, versioned),
//! `/api/v1/cadence-occurrences` (the meetings: held with their artifact or
//! flagged without it), `/api/v1/cadence-decisions` (decisions taken in
//! them, searchable, tracked to done) and `/api/v1/cadence-adherence`.

use axum::extract::{Path, State};
use axum::Json;
use baton_core::cadence::{ArtifactKind, Attendee, CadenceDefinition, Schedule, Scope as Where};
use baton_core::clock::rfc3339;
use baton_core::roles::Role;
use baton_core::types::{CadenceDecisionId, ClientId, MemberId, OccurrenceId};
use baton_store::cadences::artifacts::{self, Attach};
use baton_store::cadences::decisions::{self, Decision, NewDecision, Search};
use baton_store::cadences::occurrences::{self, Filter, Occurrence};
use baton_store::cadences::{self, Cadence};
use baton_store::tokens::Scope;
use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::api_token::ApiCaller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The cadence operations (merged into [`super::operations`]).
pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cadences))
        .routes(routes!(get_cadence, put_cadence))
        .routes(routes!(list_occurrences))
        .routes(routes!(get_occurrence))
        .routes(routes!(attach_artifact))
        .routes(routes!(list_decisions))
        .routes(routes!(decision_done))
        .routes(routes!(decision_reopen))
        .routes(routes!(get_adherence))
}

/// One cadence.
#[derive(Debug, Serialize, ToSchema)]
pub struct CadenceOut {
    /// `weekly_delivery_planning`, `weekly_performance_review`,
    /// `monthly_account_review`, `quarterly_ops_review`, or the agency's own.
    pub key: String,
    pub name: String,
    pub purpose: String,
    /// `agency` (one meeting) or `client` (one meeting per active client).
    pub scope: String,
    /// Role keys, `leadership` (the agency's admins) and `client_stakeholders`.
    pub attendee_roles: Vec<String>,
    /// The role that owns each meeting (a client's seat for it first).
    pub owner_role: String,
    /// The recurrence rule (RFC 5545 `RRULE` subset), on the agency calendar
    /// and in its time zone: a meeting on a day off moves to the next
    /// working day.
    pub schedule: String,
    /// The schedule in words.
    pub schedule_text: String,
    pub duration_minutes: u16,
    /// What the meeting must leave behind to count as held:
    /// `content_calendar`, `scorecard`, `account_memo` or `ops_review`.
    pub artifact: String,
    pub artifact_text: String,
    pub version: i64,
    pub customized: bool,
    /// One of Baton's four defaults.
    pub default: bool,
    pub changed_by: String,
    pub changed_at: Option<String>,
    /// The latest changelog line.
    pub reason: String,
}

impl From<Cadence> for CadenceOut {
    fn from(c: Cadence) -> Self {
        let d = c.definition;
        CadenceOut {
            schedule_text: d.schedule.describe(),
            artifact_text: d.artifact.label().into(),
            key: d.key,
            name: d.name,
            purpose: d.purpose,
            scope: d.scope.key().into(),
            attendee_roles: d.attendee_roles.iter().map(|a| a.key().into()).collect(),
            owner_role: d.owner_role.key().into(),
            schedule: d.schedule.rrule(),
            duration_minutes: d.duration_minutes,
            artifact: d.artifact.key().into(),
            version: c.version,
            customized: c.customized,
            default: c.default,
            changed_by: c.changed_by,
            changed_at: c.changed_at.map(rfc3339),
            reason: c.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CadenceList {
    pub items: Vec<CadenceOut>,
}

#[utoipa::path(get, operation_id = "listCadences", path = "/cadences", tag = "cadences",
    responses((status = 200, body = CadenceList)), security(("bearer" = [])))]
pub async fn list_cadences(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<CadenceList>> {
    caller.require(Scope::Read)?;
    let items = cadences::list(&state.db, caller.agency_id()).await?;
    Ok(Json(CadenceList {
        items: items.into_iter().map(CadenceOut::from).collect(),
    }))
}

#[utoipa::path(get, operation_id = "getCadence", path = "/cadences/{key}", tag = "cadences",
    params(("key" = String, Path, pattern = r"^[a-z][a-z0-9_]{1,39}$")),
    responses((status = 200, body = CadenceOut), (status = 404)), security(("bearer" = [])))]
pub async fn get_cadence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
) -> ApiResult<Json<CadenceOut>> {
    caller.require(Scope::Read)?;
    Ok(Json(
        cadences::get(&state.db, caller.agency_id(), &key)
            .await?
            .into(),
    ))
}

/// A cadence as an edit (or a new cadence of the agency's own) gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadenceIn {
    #[schema(schema_with = super::openapi::name_text)]
    pub name: String,
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub purpose: String,
    #[schema(schema_with = super::openapi::cadence_scope)]
    pub scope: String,
    #[schema(schema_with = super::openapi::attendees)]
    pub attendee_roles: Vec<String>,
    #[schema(schema_with = super::openapi::role)]
    pub owner_role: String,
    /// `FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0`,
    /// `FREQ=MONTHLY;BYDAY=1TH;BYHOUR=15`,
    /// `FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=2TU`, `FREQ=MONTHLY;BYMONTHDAY=-1`;
    /// also `INTERVAL`.
    #[schema(schema_with = super::openapi::schedule_rule)]
    pub schedule: String,
    /// 5–480 minutes.
    #[schema(schema_with = super::openapi::meeting_minutes)]
    pub duration_minutes: u16,
    #[schema(schema_with = super::openapi::artifact_kind)]
    pub artifact: String,
    /// Why it changes: the changelog line (1–10,000 characters).
    #[schema(schema_with = super::openapi::required_note)]
    pub reason: String,
}

/// Parses a cadence as the API and the TOML export spell it.
pub fn definition(key: &str, b: CadenceIn) -> ApiResult<(CadenceDefinition, String)> {
    let attendee_roles = b
        .attendee_roles
        .iter()
        .map(|a| {
            Attendee::parse(a.trim()).ok_or_else(|| {
                ApiError::invalid(
                    "attendee_roles",
                    format!(
                        "unknown attendee {a:?}; use role keys, leadership or client_stakeholders"
                    ),
                )
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let def = CadenceDefinition {
        key: key.to_string(),
        name: b.name.trim().to_string(),
        purpose: b.purpose.trim().to_string(),
        scope: Where::parse(&b.scope)
            .ok_or_else(|| ApiError::invalid("scope", "use agency or client"))?,
        attendee_roles,
        owner_role: Role::parse(&b.owner_role).ok_or_else(|| {
            ApiError::invalid("owner_role", format!("unknown role {:?}", b.owner_role))
        })?,
        schedule: Schedule::parse(&b.schedule)?,
        duration_minutes: b.duration_minutes,
        artifact: ArtifactKind::parse(&b.artifact).ok_or_else(|| {
            ApiError::invalid(
                "artifact",
                "use content_calendar, scorecard, account_memo or ops_review",
            )
        })?,
    };
    Ok((def, b.reason))
}

#[utoipa::path(put, operation_id = "putCadence", path = "/cadences/{key}", tag = "cadences",
    params(("key" = String, Path, pattern = r"^[a-z][a-z0-9_]{1,39}$", description = "2–40 of `[a-z0-9_]`, a letter first")),
    request_body = CadenceIn,
    responses((status = 200, body = CadenceOut), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_cadence(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    ApiJson(b): ApiJson<CadenceIn>,
) -> ApiResult<Json<CadenceOut>> {
    caller.require(Scope::Admin)?;
    let (def, reason) = definition(&key, b)?;
    Ok(Json(
        cadences::save(caller.cx(&state), def, &reason)
            .await?
            .into(),
    ))
}

/// One decision taken in a meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct CadenceDecisionOut {
    /// `cdd_…`
    pub id: String,
    /// The meeting (`cdo_…`).
    pub occurrence_id: String,
    pub cadence: String,
    /// The meeting's day.
    pub date: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub text: String,
    pub owner: String,
    pub owner_name: Option<String>,
    pub due_on: Option<String>,
    pub done: bool,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
}

impl From<Decision> for CadenceDecisionOut {
    fn from(d: Decision) -> Self {
        CadenceDecisionOut {
            id: d.id.to_string(),
            occurrence_id: d.occurrence_id,
            cadence: d.cadence_key,
            date: d.on_date,
            client_id: d.client_id,
            client_name: d.client_name,
            text: d.text,
            owner: d.owner_member_id,
            owner_name: d.owner_name,
            due_on: d.due_on,
            done: d.done,
            done_at: d.done_at.map(rfc3339),
            done_by: d.done_by,
        }
    }
}

/// One meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceOut {
    /// `cdo_…`: the same before and after anything is written about it.
    pub id: String,
    pub cadence: String,
    pub name: String,
    /// The client of a per-client meeting.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    /// The day, agency time.
    pub date: String,
    pub starts_at: String,
    pub ends_at: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub attendee_roles: Vec<String>,
    /// The artifact it needs (`content_calendar`, `scorecard`, `account_memo`, `ops_review`).
    pub artifact: String,
    /// Its artifact is attached (a weekly review: the week's scorecard shipped by the end of its day).
    pub held: bool,
    pub held_at: Option<String>,
    pub held_by: Option<String>,
    /// Its day ended without its artifact.
    pub artifact_missing: bool,
    pub flagged_at: Option<String>,
    /// What was attached: `kind`, Baton's `generated` part, `notes`, `url`.
    #[schema(value_type = Option<Object>)]
    pub attached: Option<serde_json::Value>,
    /// A monthly memo shared with the client by link.
    pub shared: bool,
    pub decisions: Vec<CadenceDecisionOut>,
}

impl From<Occurrence> for OccurrenceOut {
    fn from(o: Occurrence) -> Self {
        OccurrenceOut {
            id: o.id.to_string(),
            cadence: o.cadence_key,
            name: o.cadence_name,
            client_id: o.client_id,
            client_name: o.client_name,
            date: o.date.to_string(),
            starts_at: rfc3339(o.starts_at),
            ends_at: rfc3339(o.ends_at),
            owner: o.owner_member_id,
            owner_name: o.owner_name,
            attendee_roles: o.attendee_roles.iter().map(|a| a.key().into()).collect(),
            artifact: o.artifact_kind.key().into(),
            held: o.held,
            held_at: o.held_at.map(rfc3339),
            held_by: o.held_by,
            artifact_missing: o.artifact_missing,
            flagged_at: o.flagged_at.map(rfc3339),
            attached: o.artifact,
            shared: o.shared,
            decisions: o.decisions.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceList {
    pub from: String,
    pub to: String,
    pub items: Vec<OccurrenceOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OccurrencesQuery {
    /// First day, `YYYY-MM-DD` (agency time); default a week ago.
    #[param(schema_with = super::openapi::date_or_empty)]
    pub from: Option<String>,
    /// Last day, inclusive; default four weeks after `from`; at most 366 days after it.
    #[param(schema_with = super::openapi::date_or_empty)]
    pub to: Option<String>,
    /// Only this cadence's meetings (its key).
    #[param(schema_with = super::openapi::cadence_filter)]
    pub cadence: Option<String>,
    /// Only this client's meetings (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
    /// Only meetings this member owns (`mem_…`).
    #[param(schema_with = super::openapi::member_filter)]
    pub owner: Option<String>,
}

/// A day as the document spells it: exactly `YYYY-MM-DD` (no sign, no
/// spaces), and one that exists.
fn day(field: &str, v: Option<&str>) -> ApiResult<Option<Date>> {
    let shaped = |s: &str| {
        s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    match v {
        None | Some("") => Ok(None),
        Some(s) if shaped(s) => s
            .parse::<Date>()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("{s} is not a day of the calendar"))),
        Some(_) => Err(ApiError::invalid(field, "must be a day, YYYY-MM-DD")),
    }
}

/// A cadence filter: its key, or empty for all.
fn cadence_filter(v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(k) if k.is_empty() => Ok(None),
        Some(k) if baton_core::sop::valid_key(&k) => Ok(Some(k)),
        Some(_) => Err(ApiError::invalid(
            "cadence",
            "must be a cadence key (2–40 of a-z, 0-9 and _, a letter first)",
        )),
    }
}

fn id_filter(field: &str, v: Option<&str>, prefix: &str) -> ApiResult<Option<String>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) if baton_core::ids::has_shape(s, prefix) => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("must be an id ({prefix}_…)"),
        )),
    }
}

#[utoipa::path(get, operation_id = "listCadenceOccurrences", path = "/cadence-occurrences", tag = "cadences",
    params(OccurrencesQuery),
    responses((status = 200, body = OccurrenceList), (status = 422)), security(("bearer" = [])))]
pub async fn list_occurrences(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<OccurrencesQuery>,
) -> ApiResult<Json<OccurrenceList>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let today = baton_store::cadences::today(&state.db, caller.agency_id(), now).await?;
    let from = day("from", q.from.as_deref())?.unwrap_or(today.saturating_sub(7.days()));
    let to = day("to", q.to.as_deref())?.unwrap_or(from.saturating_add(27.days()));
    let filter = Filter {
        cadence: cadence_filter(q.cadence)?,
        client_id: id_filter("client", q.client.as_deref(), baton_core::ids::CLIENT)?,
        owner: id_filter("owner", q.owner.as_deref(), baton_core::ids::MEMBER)?,
    };
    let items = occurrences::list(&state.db, caller.agency_id(), (from, to), now, &filter).await?;
    Ok(Json(OccurrenceList {
        from: from.to_string(),
        to: to.to_string(),
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One meeting, with Baton's draft of its artifact while it is not held.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceDetail {
    #[serde(flatten)]
    pub occurrence: OccurrenceOut,
    /// What Baton would attach now (generated from the work it records);
    /// `null` once held, or when it cannot yet (a weekly review before the
    /// scorecard ships).
    #[schema(value_type = Option<Object>)]
    pub draft: Option<serde_json::Value>,
    /// A monthly memo's starting text, from the client's KPIs.
    pub draft_notes: Option<String>,
}

#[utoipa::path(get, operation_id = "getCadenceOccurrence", path = "/cadence-occurrences/{id}", tag = "cadences",
    params(("id" = String, Path)), responses((status = 200, body = OccurrenceDetail), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_occurrence(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<OccurrenceId>,
) -> ApiResult<Json<OccurrenceDetail>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let o = occurrences::get(&state.db, caller.agency_id(), &id, now).await?;
    let draft = if o.held {
        None
    } else {
        artifacts::generate(&state.db, caller.agency_id(), &o, now)
            .await
            .ok()
    };
    let draft_notes = match (&draft, o.artifact_kind) {
        (Some(g), ArtifactKind::AccountMemo) => Some(artifacts::memo_draft(
            g,
            o.client_name.as_deref().unwrap_or("the client"),
        )),
        _ => None,
    };
    Ok(Json(OccurrenceDetail {
        occurrence: o.into(),
        draft,
        draft_notes,
    }))
}

/// A decision to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadenceDecisionIn {
    /// 1–200 characters.
    #[schema(schema_with = super::openapi::name_text)]
    pub text: String,
    /// Who owns it (`mem_…`, active).
    #[schema(schema_with = super::openapi::member_id)]
    pub owner: MemberId,
    /// `YYYY-MM-DD`, or empty/absent for none.
    #[schema(schema_with = super::openapi::date_or_null)]
    pub due: Option<String>,
}

/// What a meeting leaves behind. Attaching holds the meeting; attaching
/// again updates the notes and link and adds decisions (what Baton
/// generated stays as first attached).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactIn {
    /// The meeting's notes; for a monthly account review, the memo itself
    /// (required: start from `draft_notes`). Up to 10,000 characters.
    #[schema(schema_with = super::openapi::optional_note_text)]
    pub notes: Option<String>,
    /// A link to the document elsewhere (`http(s)://…`), or empty.
    #[schema(schema_with = super::openapi::optional_url)]
    pub url: Option<String>,
    /// Decisions taken (at most 20 per meeting), each with an owner.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub decisions: Vec<CadenceDecisionIn>,
    /// Share a monthly memo with the client by link (`share_url`, shown once).
    #[serde(default)]
    pub share: bool,
}

/// The meeting after attaching.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachedOut {
    #[serde(flatten)]
    pub occurrence: OccurrenceOut,
    /// The client's link to the memo, shown only when it was just made.
    pub share_url: Option<String>,
}

#[utoipa::path(post, operation_id = "attachCadenceArtifact", path = "/cadence-occurrences/{id}/artifact", tag = "cadences",
    params(("id" = String, Path)), request_body = ArtifactIn,
    responses((status = 200, body = AttachedOut), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn attach_artifact(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<OccurrenceId>,
    ApiJson(b): ApiJson<ArtifactIn>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Scope::Write)?;
    let a = Attach {
        notes: b.notes,
        url: b.url,
        decisions: b
            .decisions
            .into_iter()
            .map(|d| NewDecision {
                text: d.text,
                owner: d.owner,
                due_on: d.due,
            })
            .collect(),
        share: b.share,
    };
    let done = artifacts::attach(caller.cx(&state), &id, a).await?;
    let share_url = done.share_token.map(|t| state.config.memo_url(&t));
    let secret = share_url.is_some();
    let mut resp = Json(AttachedOut {
        occurrence: done.occurrence.into(),
        share_url,
    })
    .into_response();
    if secret {
        // The link's token is shown once: never replayed from the idempotency store.
        resp.extensions_mut()
            .insert(crate::api::idempotency::SecretInBody);
    }
    Ok(resp)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CadenceDecisionList {
    pub items: Vec<CadenceDecisionOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionsQuery {
    /// Words the decision contains (all of them; case-insensitive).
    #[param(schema_with = super::openapi::search_words)]
    pub q: Option<String>,
    /// `true`: not done yet; `false`: done; absent: all.
    #[param(nullable = false)]
    pub open: Option<bool>,
    /// Only this member's (`mem_…`).
    #[param(schema_with = super::openapi::member_filter)]
    pub owner: Option<String>,
    /// Only this cadence's (its key).
    #[param(schema_with = super::openapi::cadence_filter)]
    pub cadence: Option<String>,
    /// Only this client's (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
}

#[utoipa::path(get, operation_id = "listCadenceDecisions", path = "/cadence-decisions", tag = "cadences",
    params(DecisionsQuery),
    responses((status = 200, body = CadenceDecisionList), (status = 422)), security(("bearer" = [])))]
pub async fn list_decisions(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<DecisionsQuery>,
) -> ApiResult<Json<CadenceDecisionList>> {
    caller.require(Scope::Read)?;
    if q.q.as_deref().is_some_and(|w| w.chars().count() > 200) {
        return Err(ApiError::invalid("q", "at most 200 characters"));
    }
    let s = Search {
        q: q.q.filter(|w| !w.trim().is_empty()),
        owner: id_filter("owner", q.owner.as_deref(), baton_core::ids::MEMBER)?,
        open: q.open,
        cadence: cadence_filter(q.cadence)?,
        client_id: id_filter("client", q.client.as_deref(), baton_core::ids::CLIENT)?,
    };
    let items = decisions::search(&state.db, caller.agency_id(), &s, 200).await?;
    Ok(Json(CadenceDecisionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, operation_id = "markCadenceDecisionDone", path = "/cadence-decisions/{id}/done", tag = "cadences",
    params(("id" = String, Path)), responses((status = 200, body = CadenceDecisionOut), (status = 404)),
    security(("bearer" = [])))]
pub async fn decision_done(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<CadenceDecisionId>,
) -> ApiResult<Json<CadenceDecisionOut>> {
    caller.require(Scope::Write)?;
    Ok(Json(
        decisions::set_done(caller.cx(&state), &id, true)
            .await?
            .into(),
    ))
}

#[utoipa::path(post, operation_id = "reopenCadenceDecision", path = "/cadence-decisions/{id}/reopen", tag = "cadences",
    params(("id" = String, Path)), responses((status = 200, body = CadenceDecisionOut), (status = 404)),
    security(("bearer" = [])))]
pub async fn decision_reopen(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<CadenceDecisionId>,
) -> ApiResult<Json<CadenceDecisionOut>> {
    caller.require(Scope::Write)?;
    Ok(Json(
        decisions::set_done(caller.cx(&state), &id, false)
            .await?
            .into(),
    ))
}

/// Meetings held of those due (their day ended) over a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdherenceOut {
    pub from: String,
    pub to: String,
    pub held: usize,
    pub due: usize,
    /// Percent held of due, `null` when none was due.
    pub rate: Option<f64>,
    /// One sentence: what is counted.
    pub definition: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdherenceQuery {
    /// First day, `YYYY-MM-DD`; default four weeks before `to`.
    #[param(schema_with = super::openapi::date_or_empty)]
    pub from: Option<String>,
    /// Last day, inclusive; default today.
    #[param(schema_with = super::openapi::date_or_empty)]
    pub to: Option<String>,
    /// Only this client's meetings (`cli_…`).
    #[param(schema_with = super::openapi::client_filter)]
    pub client: Option<String>,
}

/// What cadence adherence counts, in one sentence.
pub const ADHERENCE_DEFINITION: &str =
    "Meetings held with their artifact attached, as a share of the \
    meetings whose day has ended (a meeting held early counts as soon as it is held).";

#[utoipa::path(get, operation_id = "getCadenceAdherence", path = "/cadence-adherence", tag = "cadences",
    params(AdherenceQuery),
    responses((status = 200, body = AdherenceOut), (status = 422)), security(("bearer" = [])))]
pub async fn get_adherence(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(q): ApiQuery<AdherenceQuery>,
) -> ApiResult<Json<AdherenceOut>> {
    caller.require(Scope::Read)?;
    let now = state.now();
    let to = match day("to", q.to.as_deref())? {
        Some(d) => d,
        None => baton_store::cadences::today(&state.db, caller.agency_id(), now).await?,
    };
    let from = day("from", q.from.as_deref())?.unwrap_or(to.saturating_sub(27.days()));
    let client = id_filter("client", q.client.as_deref(), baton_core::ids::CLIENT)?
        .map(|c| ClientId::parse(&c))
        .transpose()
        .map_err(|_| ApiError::invalid("client", "must be a client id"))?;
    let a = occurrences::adherence(
        &state.db,
        caller.agency_id(),
        (from, to),
        now,
        client.as_ref().map(|c| c.as_str()),
    )
    .await?;
    Ok(Json(AdherenceOut {
        from: from.to_string(),
        to: to.to_string(),
        held: a.held,
        due: a.due,
        rate: a.rate().map(|r| (r * 1000.0).round() / 10.0),
        definition: ADHERENCE_DEFINITION.into(),
    }))
}
