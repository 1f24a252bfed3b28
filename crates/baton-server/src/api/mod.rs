//! The JSON API under `/api/v1`, authenticated by bearer tokens, documented by
//! OpenAPI 3.1 at `/api/openapi.json`. Every error is problem+json; another
//! agency's ids are answered 404 like ids that do not exist.

pub mod access;
pub mod agency;
pub mod calendar;
pub mod calendar_feeds;
pub mod clients;
pub mod content;
pub mod content_settings;
pub mod dto;
pub mod events;
pub mod handoff;
pub mod idempotency;
pub mod members;
pub mod onboarding;
pub mod openapi;
pub mod sops;
pub mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use utoipa::OpenApi;

use self::openapi::Conventions;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Baton API", description = "Delivery operations for social media agencies: clients, team, events, audit, onboarding links and verified platform access."),
    paths(
        clients::create, clients::list, clients::get, clients::update, clients::set_team,
        clients::post_event, clients::archive, events::list,
        members::create, members::list, members::get, members::update, members::me,
        tokens::create, tokens::list, tokens::revoke,
        agency::get, agency::update, agency::verify_custom_domain, agency::audit_log, calendar::get, calendar::put, calendar::import,
        onboarding::list_platforms, onboarding::get_platform, onboarding::put_platform, onboarding::delete_platform,
        onboarding::get_settings, onboarding::update_settings,
        onboarding::list_templates, onboarding::create_template, onboarding::update_template, onboarding::delete_template,
        onboarding::create_link, onboarding::list_links, onboarding::get_link, onboarding::revoke_link,
        onboarding::regenerate_link, onboarding::remind_link,
        access::list_for_client, access::board, access::held, access::get, access::verify, access::fail,
        access::grant, access::revoke, access::waive, access::client_kpis, access::agency_kpis, access::intake,
        handoff::get, handoff::put, handoff::versions, handoff::version,
        sops::list, sops::get, sops::versions, sops::put, sops::list_runs, sops::get_run, sops::start,
        sops::checklist, sops::complete, sops::pause, sops::resume, sops::assign, sops::kpis,
        sops::notices, sops::mark_read,
        content::create, content::update, content::list, content::list_for_client, content::get, content::participants,
        content::add_version, content::download_version, content::submit, content::approve_brief, content::cancel, content::unschedule,
        calendar_feeds::for_client, calendar_feeds::for_me,
        calendar_feeds::revoke_for_client, calendar_feeds::revoke_for_me,
        content::publish, content::comment, content::decide, content::get_qa, content::put_qa, content::schedule, content::approval_link, content::waiting,
        content_settings::get_agency, content_settings::put_agency, content_settings::get_client,
        content_settings::put_client, content_settings::kpis,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldProblem)),
    modifiers(&Conventions),
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
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Response {
    let mut resp = ApiDoc::openapi()
        .to_json()
        .unwrap_or_default()
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The `/api/v1` routes with token authentication and idempotency.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/{id}", get(clients::get).patch(clients::update))
        .route("/clients/{id}/team", put(clients::set_team))
        .route("/clients/{id}/events", post(clients::post_event))
        .route("/clients/{id}/archive", post(clients::archive))
        .route("/events", get(events::list))
        .route("/members", get(members::list).post(members::create))
        .route("/members/{id}", get(members::get).patch(members::update))
        .route("/me", get(members::me))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/agency", get(agency::get).patch(agency::update))
        .route(
            "/agency/custom-domain/verify",
            post(agency::verify_custom_domain),
        )
        .route("/audit", get(agency::audit_log))
        .route("/agency/calendar", get(calendar::get).put(calendar::put))
        .route("/agency/calendar/holidays/import", post(calendar::import))
        .route("/platforms", get(onboarding::list_platforms))
        .route(
            "/platforms/{key}",
            get(onboarding::get_platform)
                .put(onboarding::put_platform)
                .delete(onboarding::delete_platform),
        )
        .route(
            "/agency/onboarding",
            get(onboarding::get_settings).patch(onboarding::update_settings),
        )
        .route(
            "/access-templates",
            get(onboarding::list_templates).post(onboarding::create_template),
        )
        .route(
            "/access-templates/{id}",
            put(onboarding::update_template).delete(onboarding::delete_template),
        )
        .route(
            "/clients/{id}/onboarding-links",
            get(onboarding::list_links).post(onboarding::create_link),
        )
        .route(
            "/onboarding-links/{id}",
            get(onboarding::get_link).delete(onboarding::revoke_link),
        )
        .route(
            "/onboarding-links/{id}/regenerate",
            post(onboarding::regenerate_link),
        )
        .route(
            "/onboarding-links/{id}/remind",
            post(onboarding::remind_link),
        )
        .route(
            "/clients/{id}/access-requests",
            get(access::list_for_client),
        )
        .route("/clients/{id}/kpis", get(access::client_kpis))
        .route("/clients/{id}/intake", get(access::intake))
        .route("/clients/{id}/handoff", get(handoff::get).put(handoff::put))
        .route("/clients/{id}/handoff/versions", get(handoff::versions))
        .route("/clients/{id}/handoff/versions/{n}", get(handoff::version))
        .route("/access-requests", get(access::board))
        .route("/access-requests/{id}", get(access::get))
        .route("/access-requests/{id}/verify", post(access::verify))
        .route("/access-requests/{id}/fail", post(access::fail))
        .route("/access-requests/{id}/grant", post(access::grant))
        .route("/access-requests/{id}/revoke", post(access::revoke))
        .route("/access-requests/{id}/waive", post(access::waive))
        .route("/access-inventory", get(access::held))
        .route("/kpis/access", get(access::agency_kpis))
        .route("/sops", get(sops::list))
        .route("/sops/{key}", get(sops::get).put(sops::put))
        .route("/sops/{key}/versions", get(sops::versions))
        .route("/sop-runs", get(sops::list_runs).post(sops::start))
        .route("/sop-runs/{id}", get(sops::get_run))
        .route("/sop-runs/{id}/checklist", put(sops::checklist))
        .route("/sop-runs/{id}/complete", post(sops::complete))
        .route("/sop-runs/{id}/pause", post(sops::pause))
        .route("/sop-runs/{id}/resume", post(sops::resume))
        .route("/sop-runs/{id}/assign", post(sops::assign))
        .route("/kpis/sops", get(sops::kpis))
        .route(
            "/clients/{id}/content",
            get(content::list_for_client).post(content::create),
        )
        .route("/content", get(content::list))
        .route("/content/{id}", get(content::get).patch(content::update))
        .route("/content/{id}/participants", put(content::participants))
        .route(
            "/content/{id}/versions",
            post(content::add_version)
                .layer(DefaultBodyLimit::max(crate::draft_files::UPLOAD_BODY_LIMIT)),
        )
        .route(
            "/content/{id}/versions/{n}/file",
            get(content::download_version),
        )
        .route("/content/{id}/submit", post(content::submit))
        .route("/content/{id}/approve-brief", post(content::approve_brief))
        .route("/content/{id}/cancel", post(content::cancel))
        .route("/content/{id}/unschedule", post(content::unschedule))
        .route("/content/{id}/publish", post(content::publish))
        .route("/content/{id}/comments", post(content::comment))
        .route("/content/{id}/decisions", post(content::decide))
        .route(
            "/content/{id}/qa",
            get(content::get_qa).put(content::put_qa),
        )
        .route("/content/{id}/schedule", post(content::schedule))
        .route("/content/{id}/approval-link", post(content::approval_link))
        .route(
            "/clients/{id}/calendar-feed",
            post(calendar_feeds::for_client).delete(calendar_feeds::revoke_for_client),
        )
        .route(
            "/me/calendar-feed",
            post(calendar_feeds::for_me).delete(calendar_feeds::revoke_for_me),
        )
        .route("/me/content-waiting", get(content::waiting))
        .route(
            "/agency/content-settings",
            get(content_settings::get_agency).put(content_settings::put_agency),
        )
        .route(
            "/clients/{id}/content-settings",
            get(content_settings::get_client).put(content_settings::put_client),
        )
        .route("/kpis/content", get(content_settings::kpis))
        .route("/notices", get(sops::notices))
        .route("/notices/read", post(sops::mark_read))
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
