//! `/settings` (admins only): the agency's name, time zone, brand and accent
//! colours, logo, white-label switch and custom domain.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_store::agencies::{self, Agency, AgencyPatch};

use super::error_page::form_error;
use super::form::{check_csrf, FormData, QueryData};
use super::layout::{agency_of, render, see_other, Layout};
use super::WebError;
use crate::auth::session::WebSession;
use crate::state::AppState;

/// Zones offered in the time-zone field's suggestions (any IANA name works).
pub(super) const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
];

/// The settings form as typed.
pub struct SettingsForm {
    pub name: String,
    pub timezone: String,
    pub brand_color: String,
    pub accent_color: String,
    pub logo_url: String,
    pub white_label: bool,
    pub custom_domain: String,
    pub error: Option<String>,
}

impl SettingsForm {
    fn of(a: &Agency) -> SettingsForm {
        SettingsForm {
            name: a.name.clone(),
            timezone: a.timezone.clone(),
            brand_color: a.brand_color.clone(),
            accent_color: a.accent_color.clone(),
            logo_url: a.logo_url.clone().unwrap_or_default(),
            white_label: a.white_label,
            custom_domain: a.custom_domain.clone().unwrap_or_default(),
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    form: SettingsForm,
    zones: &'static [&'static str],
    slug: String,
}

fn require_admin(session: &WebSession) -> Result<(), WebError> {
    if session.member().is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Only agency admins can change the agency's settings.".into(),
        ))
    }
}

fn render_settings(
    agency: &Agency,
    session: &WebSession,
    notice: Option<&str>,
    form: SettingsForm,
    status: StatusCode,
) -> Response {
    let page = SettingsPage {
        layout: Layout::app(agency, session, "Settings", "settings").with_notice(notice),
        form,
        zones: COMMON_ZONES,
        slug: agency.slug.clone(),
    };
    render(status, &page)
}

/// `GET /settings`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let agency = agency_of(&state, &session).await?;
    let form = SettingsForm::of(&agency);
    Ok(render_settings(
        &agency,
        &session,
        q.get("notice"),
        form,
        StatusCode::OK,
    ))
}

/// `POST /settings`
pub async fn save(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session)?;
    let mut typed = SettingsForm {
        name: form.string("name"),
        timezone: form.string("timezone"),
        brand_color: form.string("brand_color"),
        accent_color: form.string("accent_color"),
        logo_url: form.string("logo_url"),
        white_label: form.has("white_label"),
        custom_domain: form.string("custom_domain"),
        error: None,
    };
    if let Some(why) = state.config.custom_domain_refusal(&typed.custom_domain) {
        typed.error = Some(format!("Custom domain: {why}"));
        let agency = agency_of(&state, &session).await?;
        return Ok(render_settings(
            &agency,
            &session,
            None,
            typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let result = agencies::update(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        AgencyPatch {
            name: Some(typed.name.clone()),
            timezone: Some(typed.timezone.clone()),
            brand_color: Some(typed.brand_color.clone()),
            accent_color: Some(typed.accent_color.clone()),
            logo_url: Some(typed.logo_url.clone()),
            white_label: Some(typed.white_label),
            custom_domain: Some(typed.custom_domain.clone()),
        },
    )
    .await;
    match result {
        Ok(_) => Ok(see_other("/settings?notice=settings_saved")),
        Err(e) => {
            let (status, message) = form_error(e)?;
            typed.error = Some(message);
            let agency = agency_of(&state, &session).await?;
            Ok(render_settings(&agency, &session, None, typed, status))
        }
    }
}
