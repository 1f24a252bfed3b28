//! The agency's severities (`/incidents/severities`): the one-line
//! definition shown where a severity is chosen, and each one's triage time.
//! Everyone reads them; admins change them (the policy's
//! [`Area::Incidents`]). A change applies to incidents reported afterwards.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::incidents::Severity;
use baton_core::policy::{Action, Area, Subject};
use baton_store::incidents;
use serde::Deserialize;

use super::refusal;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::form::WebPath;
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::WebError;

pub struct SeverityRow {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: String,
    pub minutes: i64,
    pub customized: bool,
}

#[derive(Template)]
#[template(path = "incident_severities.html")]
struct SeveritiesPage {
    layout: Layout,
    rows: Vec<SeverityRow>,
    may_edit: bool,
    error: Option<String>,
}

async fn render_page(
    state: &AppState,
    session: &WebSession,
    error: Option<String>,
    status: StatusCode,
    notice: Option<&str>,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let rows = incidents::severities(&state.db, session.agency_id())
        .await?
        .into_iter()
        .map(|d| SeverityRow {
            key: d.severity.key(),
            name: d.severity.name(),
            definition: d.definition,
            minutes: d.triage_minutes,
            customized: d.customized,
        })
        .collect();
    let page = SeveritiesPage {
        layout: Layout::app(&agency, session, "Incident severities", "incidents")
            .with_notice(notice),
        rows,
        may_edit: session.administers(Area::Incidents),
        error,
    };
    Ok(render(status, &page))
}

/// `GET /incidents/severities`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    render_page(
        &state,
        &session,
        None,
        StatusCode::OK,
        q.get("notice").map(String::as_str),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SeverityForm {
    definition: String,
    triage_minutes: String,
}

/// `POST /incidents/severities/{severity}` (admins).
pub async fn save(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(key): WebPath<String>,
    CsrfForm(form): CsrfForm<SeverityForm>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Incidents))?;
    let severity = Severity::parse(&key).ok_or(WebError::NotFound)?;
    let Ok(minutes) = form.triage_minutes.trim().parse::<i64>() else {
        let message = "Triage time: a whole number of minutes, 5 to 4,320.".to_string();
        return render_page(
            &state,
            &session,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    };
    match incidents::save_severity(session.cx(&state), severity, &form.definition, minutes).await {
        Ok(_) => Ok(see_other("/incidents/severities?notice=settings_saved")),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_page(&state, &session, Some(message), status, None).await
        }
    }
}
