//! The JSON API under `/api/v1`, authenticated by bearer tokens, documented by
//! OpenAPI 3.1 at `/api/openapi.json`. Every error is problem+json; another
//! agency's ids are answered 404 like ids that do not exist.

pub mod access;
pub mod agency;
pub mod cadences;
pub mod calendar;
pub mod calendar_feeds;
pub mod clients;
pub mod connections;
pub mod content;
pub mod content_settings;
pub mod dto;
pub mod events;
pub mod handoff;
pub mod idempotency;
pub mod incidents;
pub mod integrations;
pub mod kpis;
pub mod members;
pub mod onboarding;
pub mod openapi;
pub mod scorecards;
pub mod sops;
pub mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Router};
use std::sync::OnceLock;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::openapi::Conventions;

use crate::error::ApiError;
use crate::state::AppState;

/// The document's frame: title, shared schemas, the conventions every
/// operation follows, the tags. The operations come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Baton API", description = "Delivery operations for social media agencies: clients, team, events, audit, onboarding links and verified platform access."),
    components(schemas(crate::error::Problem, crate::error::FieldProblem)),
    tags(
        (name = "clients", description = "Clients, their lifecycle and account team"),
        (name = "events", description = "The event log and client timelines"),
        (name = "members", description = "The agency's team"),
        (name = "tokens", description = "API tokens"),
        (name = "agency", description = "Agency settings and audit log"),
        (name = "onboarding", description = "Platform catalog, onboarding settings, access templates and onboarding links"),
        (name = "access", description = "Access requests, verification, revoke checklist and time-to-verified-access"),
        (name = "handoff", description = "The sales-to-delivery handoff brief of a client, versioned; its completeness is the sales_handoff definition of done"),
        (name = "content", description = "Content items: brief, versions, review vs approval, publishing QA and the schedule"),
        (name = "sops", description = "The SOP library, SOP runs with business-hours SLAs, escalation notices and the on-time KPI"),
        (name = "kpis", description = "The six ops KPIs with one set of definitions (time to verified access, time to first value, cycle time, rework rate, on-time delivery, incident count) and their 13-week trends, as JSON or CSV"),
        (name = "scorecard", description = "The weekly scorecard: measurables with owner, goal and comparator, 13 weeks at a glance, shipped weeks with 3 insights and 3 actions, and the actions tracked to done"),
        (name = "cadences", description = "Cadences with artifacts: the agency's recurring meetings (weekly delivery planning, weekly performance review, monthly account review per client, quarterly ops review) as versioned data; each meeting is held only when its artifact is attached, flagged when its day ends without it; decisions with owners, searchable"),
        (name = "integrations", description = "Signed outbound webhooks (Standard Webhooks 1.0: `webhook-id`, `webhook-timestamp`, `webhook-signature`), Slack and Teams notification channels, their delivery logs, retries and tests, and inbound endpoints that take signed \"deal won\" events. Deliveries are retried on a schedule and not ordered: use `webhook-id` to drop duplicates"),
        (name = "connections", description = "Connections to platform APIs (GA4, Google Ads, Tag Manager, Meta, LinkedIn, TikTok) with the agency's own OAuth apps: connectors verify access through the platform itself, read-only, when the client says it is granted, and re-check held access daily"),
        (name = "incidents", description = "The incident log: brand-risk events and publishing errors with a one-hour triage SLA on a 24/7 clock, timeline, postmortem and the incident-count KPI"),
    )
)]
pub struct ApiDoc;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// Every `/api/v1` operation, registered once: each handler's
/// `#[utoipa::path]` gives both its route and its entry in the document, so
/// the router and the OpenAPI document cannot disagree.
fn operations() -> OpenApiRouter<AppState> {
    token_operations().merge(integrations::public_operations())
}

/// The operations a token authenticates (all but the inbound endpoint's).
fn token_operations() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(content::add_version))
        .layer(DefaultBodyLimit::max(crate::draft_files::UPLOAD_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update))
        .routes(routes!(clients::set_team))
        .routes(routes!(clients::post_event))
        .routes(routes!(clients::archive))
        .routes(routes!(events::list))
        .routes(routes!(members::list, members::create))
        .routes(routes!(members::get, members::update))
        .routes(routes!(members::me))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(agency::get, agency::update))
        .routes(routes!(agency::verify_custom_domain))
        .routes(routes!(agency::audit_log))
        .routes(routes!(calendar::get, calendar::put))
        .routes(routes!(calendar::import))
        .routes(routes!(onboarding::list_platforms))
        .routes(routes!(
            onboarding::get_platform,
            onboarding::put_platform,
            onboarding::delete_platform
        ))
        .routes(routes!(
            onboarding::get_settings,
            onboarding::update_settings
        ))
        .routes(routes!(
            onboarding::list_templates,
            onboarding::create_template
        ))
        .routes(routes!(
            onboarding::update_template,
            onboarding::delete_template
        ))
        .routes(routes!(onboarding::list_links, onboarding::create_link))
        .routes(routes!(onboarding::get_link, onboarding::revoke_link))
        .routes(routes!(onboarding::regenerate_link))
        .routes(routes!(onboarding::remind_link))
        .routes(routes!(access::list_for_client))
        .routes(routes!(access::client_kpis))
        .routes(routes!(access::intake))
        .routes(routes!(handoff::get, handoff::put))
        .routes(routes!(handoff::versions))
        .routes(routes!(handoff::version))
        .routes(routes!(access::board))
        .routes(routes!(access::get))
        .routes(routes!(access::verify))
        .routes(routes!(access::check))
        .routes(routes!(access::fail))
        .routes(routes!(access::grant))
        .routes(routes!(access::revoke))
        .routes(routes!(access::waive))
        .routes(routes!(access::held))
        .routes(routes!(access::agency_kpis))
        .routes(routes!(sops::list))
        .routes(routes!(sops::get, sops::put))
        .routes(routes!(sops::versions))
        .routes(routes!(sops::list_runs, sops::start))
        .routes(routes!(sops::get_run))
        .routes(routes!(sops::checklist))
        .routes(routes!(sops::complete))
        .routes(routes!(sops::pause))
        .routes(routes!(sops::resume))
        .routes(routes!(sops::assign))
        .routes(routes!(sops::kpis))
        .merge(incidents::operations())
        .merge(kpis::operations())
        .merge(scorecards::operations())
        .merge(cadences::operations())
        .merge(integrations::operations())
        .merge(connections::operations())
        .routes(routes!(content::list_for_client, content::create))
        .routes(routes!(content::list))
        .routes(routes!(content::get, content::update))
        .routes(routes!(content::participants))
        .merge(upload)
        .routes(routes!(content::download_version))
        .routes(routes!(content::submit))
        .routes(routes!(content::approve_brief))
        .routes(routes!(content::cancel))
        .routes(routes!(content::unschedule))
        .routes(routes!(content::publish))
        .routes(routes!(content::comment))
        .routes(routes!(content::decide))
        .routes(routes!(content::resize_revision))
        .routes(routes!(content::get_qa, content::put_qa))
        .routes(routes!(content::schedule))
        .routes(routes!(content::plan))
        .routes(routes!(content::approval_link))
        .routes(routes!(
            calendar_feeds::for_client,
            calendar_feeds::revoke_for_client
        ))
        .routes(routes!(
            calendar_feeds::for_me,
            calendar_feeds::revoke_for_me
        ))
        .routes(routes!(content::waiting))
        .routes(routes!(
            content_settings::get_agency,
            content_settings::put_agency
        ))
        .routes(routes!(
            content_settings::get_client,
            content_settings::put_client
        ))
        .routes(routes!(content_settings::kpis))
        .routes(routes!(sops::notices))
        .routes(routes!(sops::mark_read))
}

/// The OpenAPI document as served: the frame, every operation under
/// [`PREFIX`], and the [`Conventions`] they all follow. Built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, ops) = operations().split_for_parts();
        let mut doc = ApiDoc::openapi().nest(PREFIX, ops);
        Conventions.modify(&mut doc);
        doc
    })
}

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Response {
    let mut resp = document().to_json().unwrap_or_default().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The `/api/v1` routes (mounted at [`PREFIX`]) with token authentication
/// and idempotency.
pub fn router(state: AppState) -> Router<AppState> {
    let (routes, _) = token_operations().split_for_parts();
    // The inbound endpoint's senders prove themselves by signature, not by
    // token: its route is served without the token and idempotency layers.
    let (public, _) = integrations::public_operations().split_for_parts();
    let public = public.method_not_allowed_fallback(method_not_allowed);
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(middleware::from_fn_with_state(
            state,
            crate::auth::api_token::authenticate,
        ))
        .merge(public)
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> Response {
    crate::error::problem_response(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this method is not allowed on this resource",
    )
}
