//! Reporting an incident from wherever the person is: the form
//! (`/incidents/new`, prefilled with `?client=` from a client page or
//! `?content=` from a content item's "Report a publishing error") and its
//! `POST /incidents` (single-use nonce, Post/Redirect/Get). Short on purpose,
//! for a phone: what happened, how bad, where it came from.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::incidents::{Severity, Source};
use baton_core::types::{ClientId, ContentId};
use baton_store::incidents::{self, NewIncident};
use baton_store::{clients, content};
use serde::Deserialize;

use super::refusal;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::CsrfForm;
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::timefmt;
use crate::web::WebError;

/// The report form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    pub title: String,
    pub severity: String,
    pub source: String,
    pub client: String,
    pub content: String,
    pub summary: String,
    /// `datetime-local` in the agency's zone; empty: now.
    pub occurred_at: String,
    #[serde(skip)]
    pub error: Option<String>,
}

/// A severity choice with the agency's one-line definition.
pub struct SeverityChoice {
    pub key: &'static str,
    pub name: &'static str,
    pub definition: String,
    pub minutes: i64,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "incident_new.html")]
struct ReportPage {
    layout: Layout,
    form: ReportForm,
    severities: Vec<SeverityChoice>,
    sources: Vec<Opt>,
    clients: Vec<Opt>,
    /// The content item it is about, by name.
    content_title: Option<String>,
}

async fn render_form(
    state: &AppState,
    session: &WebSession,
    form: ReportForm,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let severities = incidents::severities(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|d| SeverityChoice {
            key: d.severity.key(),
            name: d.severity.name(),
            checked: d.severity.key() == form.severity,
            definition: d.definition,
            minutes: d.triage_minutes,
        })
        .collect();
    let sources = Source::ALL
        .iter()
        .map(|s| Opt::new(s.key(), s.label(), &form.source))
        .collect();
    let clients = clients::summaries(&state.db, agency_id, false)
        .await?
        .into_iter()
        .map(|c| Opt::new(c.client.id.to_string(), c.client.name, &form.client))
        .collect();
    let content_title = match ContentId::parse(&form.content) {
        Ok(id) => content::get(&state.db, agency_id, &id)
            .await
            .ok()
            .map(|i| i.title),
        Err(_) => None,
    };
    let title = if form.source == Source::PublishingError.key() {
        "Report a publishing error"
    } else {
        "Report incident"
    };
    let page = ReportPage {
        layout: Layout::app(&agency, session, title, "incidents"),
        form,
        severities,
        sources,
        clients,
        content_title,
    };
    Ok(render(status, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Prefill {
    client: String,
    content: String,
}

/// `GET /incidents/new?client=&content=`
pub async fn new_page(
    State(state): State<AppState>,
    session: WebSession,
    Query(pre): Query<Prefill>,
) -> Result<Response, WebError> {
    let mut form = ReportForm {
        client: pre.client,
        content: pre.content,
        ..ReportForm::default()
    };
    if let Ok(id) = ContentId::parse(&form.content) {
        if let Ok(item) = content::get(&state.db, session.agency_id(), &id).await {
            form.client = item.client_id.clone();
            form.source = Source::PublishingError.key().into();
            form.title = format!("Publishing error: {}", item.title);
        }
    }
    render_form(&state, &session, form, StatusCode::OK).await
}

/// What the form says, or the sentence saying what to fix.
fn read(form: &ReportForm, tz: &jiff::tz::TimeZone) -> Result<NewIncident, String> {
    let severity = Severity::parse(&form.severity)
        .ok_or("Severity: choose how bad it is (sev1, sev2 or sev3).")?;
    let source = Source::parse(&form.source).ok_or("Source: choose where it came from.")?;
    let client_id = match form.client.trim() {
        "" => None,
        c => Some(ClientId::parse(c).map_err(|_| "Client: choose one of the list.")?),
    };
    let content_id = match form.content.trim() {
        "" => None,
        c => Some(ContentId::parse(c).map_err(|_| "Content item: not one of this agency's.")?),
    };
    let occurred_at = match form.occurred_at.trim() {
        "" => None,
        v => Some(timefmt::parse_local(v, tz)?),
    };
    Ok(NewIncident {
        title: form.title.clone(),
        severity,
        source,
        client_id,
        content_id,
        summary: Some(form.summary.clone()),
        occurred_at,
        reported_at: None,
    })
}

/// `POST /incidents`: records the report and opens the incident.
pub async fn create(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut form): CsrfForm<ReportForm>,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let input = match read(&form, &tz) {
        Ok(i) => i,
        Err(message) => {
            form.error = Some(message);
            return render_form(&state, &session, form, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match incidents::report(session.cx(&state), input).await {
        Ok(i) => Ok(see_other(&format!(
            "/incidents/{}?notice=incident_reported",
            i.id
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            form.error = Some(message);
            render_form(&state, &session, form, status).await
        }
    }
}
