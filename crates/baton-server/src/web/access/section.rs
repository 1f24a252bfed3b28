//! Builds the access part of a client's page (the client page in
//! `clients/page.rs` renders it), and renders that page again with a
//! refused access form.

use axum::http::StatusCode;
use axum::response::Response;
use baton_core::lifecycle::Lifecycle;
use baton_store::access_requests;
use baton_store::agencies::Agency;
use baton_store::clients::Client;
use baton_store::onboarding_links;
use baton_store::{access_kpis, access_templates, intake, onboarding_settings, platforms};
use jiff::tz::TimeZone;

use super::section_views::{
    file_view, kpi_line, link_view, link_warnings, platform_choice, platform_name, request_view,
    AccessSection, AccessTyped, AnswerView, LinkForm,
};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::clients::{render_client, Typed};
use crate::web::form::QueryData;
use crate::web::layout::Opt;
use crate::web::{timefmt, WebError};

/// Builds the access part of a client's page.
pub(crate) async fn section(
    state: &AppState,
    agency: &Agency,
    client: &Client,
    tz: &TimeZone,
    now: i64,
    typed: AccessTyped,
) -> Result<AccessSection, WebError> {
    let db = &state.db;
    let agency_id = agency.id.as_str();
    let catalog = platforms::catalog(db, agency_id).await?;
    let requests = access_requests::list_for_client(db, agency_id, &client.id).await?;
    let kpi = access_kpis::client(db, agency_id, &client.id).await?;
    let links = onboarding_links::list_for_client(db, agency_id, &client.id).await?;
    let settings = onboarding_settings::get(db, agency_id).await?;
    let templates = access_templates::list(db, agency_id).await?;
    let answers = intake::answers(db, agency_id, &client.id).await?;
    let answered = answers
        .iter()
        .map(|a| a.answered_at)
        .max()
        .map(|t| timefmt::local(t, tz));
    let files = intake::files(db, agency_id, &client.id).await?;

    let lifecycle = client.lifecycle;
    let (calendar, _) = baton_store::calendars::get(db, agency_id).await?;
    let (kpi_line, kpi_hint) = kpi_line(&kpi, &requests, tz, &calendar);
    let revoke_lines = requests
        .iter()
        .filter(|r| r.needs_revoke())
        .map(|r| {
            let name = platform_name(&catalog, &r.platform);
            match &r.asset {
                Some(a) => format!("{name}: {a}"),
                None => name,
            }
        })
        .collect();
    let can_create_links = matches!(
        lifecycle,
        Lifecycle::Won | Lifecycle::Onboarding | Lifecycle::Active
    );
    let link_form = typed.link_form.unwrap_or_else(|| LinkForm {
        expires_in_days: settings.link_expiry_days.to_string(),
        ..LinkForm::default()
    });
    let platforms = catalog
        .iter()
        .map(|p| platform_choice(p, &link_form))
        .collect();
    let template_opts = templates
        .iter()
        .map(|t| {
            let names: Vec<String> = t
                .requests
                .iter()
                .map(|r| platform_name(&catalog, &r.platform))
                .collect();
            Opt::new(
                t.id.clone(),
                format!("{} ({})", t.name, names.join(", ")),
                &link_form.template,
            )
        })
        .collect();
    let form_open = link_form.error.is_some() || (links.is_empty() && can_create_links);
    let links = links
        .into_iter()
        .map(|l| {
            let mut view = link_view(l, lifecycle, tz, now);
            if view.state == "active" {
                view.setup_warnings = link_warnings(&view.id, &requests, &catalog, &settings);
            }
            view
        })
        .collect();
    Ok(AccessSection {
        kpi_line,
        kpi_hint,
        requests: requests
            .into_iter()
            .map(|r| {
                request_view(
                    r,
                    &catalog,
                    lifecycle,
                    tz,
                    now,
                    typed.request_error.as_ref(),
                )
            })
            .collect(),
        offboarding: lifecycle == Lifecycle::Offboarding,
        revoke_lines,
        closed: lifecycle == Lifecycle::Archived,
        can_create_links,
        links,
        shown: typed.shown,
        reminder: typed.reminder,
        links_error: typed.links_error,
        form_open,
        link_form,
        templates: template_opts,
        platforms,
        default_expiry_days: settings.link_expiry_days,
        answered,
        answers: answers
            .into_iter()
            .map(|a| AnswerView {
                question: a.question,
                answer: a.answer,
            })
            .collect(),
        files: files.into_iter().map(|f| file_view(f, tz, now)).collect(),
    })
}

/// Re-renders the client page with `access` filled in.
pub(super) async fn show_page(
    state: &AppState,
    session: &WebSession,
    id: &str,
    access: AccessTyped,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_client(
        state,
        session,
        id,
        &QueryData::default(),
        Typed::access(access),
        status,
    )
    .await
}
