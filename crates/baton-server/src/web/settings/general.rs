//! `/settings` (admins only): the agency's name, time zone, brand and accent
//! colours, logo, white-label switch and custom domain, with the domain's
//! verification (the DNS record to add, "Check now").

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::custom_domain::{self, DomainStatus};
use baton_core::policy::{Action, Area, Subject};
use baton_store::agencies::{self, Agency, AgencyPatch};
use serde::Deserialize;

use crate::auth::session::WebSession;
use crate::custom_domains::{self, Outcome};
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::timefmt::{self, Stamp};
use crate::web::{refusal, WebError};

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
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub name: String,
    pub timezone: String,
    pub brand_color: String,
    pub accent_color: String,
    pub logo_url: String,
    pub white_label: bool,
    pub custom_domain: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
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
            custom_domain: a.configured_domain().unwrap_or_default().to_string(),
            error: None,
        }
    }
}

/// The custom domain's status, in plain words.
pub struct DomainView {
    pub domain: String,
    pub verified: bool,
    /// Verified: since when, agency-local.
    pub since: Option<Stamp>,
    /// Pending: the TXT record to add.
    pub record_name: String,
    pub record_value: String,
    /// Pending: the host the domain should point at (CNAME).
    pub target: String,
    pub public_url: String,
    /// Pending: when it was last checked, and what was found.
    pub checked: Option<Stamp>,
    pub found: String,
    /// Pending: until when the background checks run; `None` once over.
    pub checks_until: Option<String>,
}

impl DomainView {
    fn of(a: &Agency, state: &AppState) -> Option<DomainView> {
        let domain = a.configured_domain()?.to_string();
        let tz = timefmt::zone(&a.timezone);
        let now = state.now();
        let (record_name, record_value) = a.pending_record().unwrap_or_default();
        let checks_until = a
            .domain
            .set_at
            .map(|t| t + custom_domain::CHECK_FOR_MS)
            .filter(|until| *until > now)
            .map(|until| timefmt::local(until, &tz));
        Some(DomainView {
            verified: a.domain_status() == DomainStatus::Verified,
            since: a.domain.verified_at.map(|t| timefmt::stamp(t, now, &tz)),
            record_name,
            record_value,
            target: crate::web::portal::public_host(&state.config.public_url),
            public_url: state.config.public_url.clone(),
            checked: a.domain.checked_at.map(|t| timefmt::stamp(t, now, &tz)),
            found: a.domain.found.clone().unwrap_or_default(),
            checks_until,
            domain,
        })
    }
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    form: SettingsForm,
    zones: &'static [&'static str],
    slug: String,
    domain: Option<DomainView>,
}

fn render_settings(
    state: &AppState,
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
        domain: DomainView::of(agency, state),
    };
    render(status, &page)
}

/// `GET /settings`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Agency))?;
    let agency = agency_of(&state, &session).await?;
    let form = SettingsForm::of(&agency);
    Ok(render_settings(
        &state,
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
    CsrfForm(mut typed): CsrfForm<SettingsForm>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Agency))?;
    if let Some(why) = state.config.custom_domain_refusal(&typed.custom_domain) {
        typed.error = Some(format!("Custom domain: {why}"));
        let agency = agency_of(&state, &session).await?;
        return Ok(render_settings(
            &state,
            &agency,
            &session,
            None,
            typed,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let now = state.now();
    let result = agencies::update(
        session.cx(&state).at(now),
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
        // A domain set just now: to the record it needs.
        Ok(a) if a.domain_status() == DomainStatus::Pending && a.domain.set_at == Some(now) => {
            Ok(see_other("/settings?notice=domain_pending#custom-domain"))
        }
        Ok(_) => Ok(see_other("/settings?notice=settings_saved")),
        Err(e) => {
            let (status, message) = refusal::present(e, refusal::COMMON)?;
            typed.error = Some(message);
            let agency = agency_of(&state, &session).await?;
            Ok(render_settings(
                &state, &agency, &session, None, typed, status,
            ))
        }
    }
}

/// `POST /settings/custom-domain/check`: looks up the pending domain's TXT
/// record now, then back to the settings page, which shows what was found.
pub async fn check_domain(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Agency))?;
    let notice = match custom_domains::check_now(&state, session.agency_id(), &session.actor).await
    {
        Ok(Outcome::Verified(_) | Outcome::AlreadyVerified(_)) => "domain_verified",
        Ok(Outcome::NotYet { .. }) => "domain_not_verified",
        Ok(Outcome::Changed(_)) => "domain_changed",
        Ok(Outcome::NoDomain) => "domain_none",
        Err(e) => {
            let (status, message) = refusal::present(e, refusal::COMMON)?;
            let agency = agency_of(&state, &session).await?;
            let mut typed = SettingsForm::of(&agency);
            typed.error = Some(message);
            return Ok(render_settings(
                &state, &agency, &session, None, typed, status,
            ));
        }
    };
    Ok(see_other(&format!(
        "/settings?notice={notice}#custom-domain"
    )))
}
