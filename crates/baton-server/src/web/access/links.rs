//! The onboarding links on a client's page: create (the URL shown once),
//! revoke, regenerate, prepare a reminder. A refused form comes back on the
//! client page with the message next to it and what was typed kept.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::platforms::Platform;
use baton_core::types::{ClientId, LinkId};
use baton_core::CoreError;
use baton_store::access_requests::NewRequest;
use baton_store::agencies::Agency;
use baton_store::clients;
use baton_store::onboarding_links::{self, CreatedLink, Link};
use baton_store::{access_templates, platforms, StoreError};

use serde::Deserialize;

use super::common::refusal;
use super::section::show_page;
use super::section_views::{platform_name, AccessTyped, LinkForm, ReminderView, ShownLink};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::WebPath;
use crate::web::layout::see_other;
use crate::web::{timefmt, WebError};

/// The new-link form as sent: a template, the expiry, the contact, the
/// ticked platforms and per platform its permission (`perm_{key}`), what to
/// share (`asset_{key}`) and the optional box (`optional_{key}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkFields {
    template: String,
    expires_in_days: String,
    contact_email: String,
    platform: Vec<String>,
    /// The per-platform fields (and the CSRF token) by their keyed names.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl LinkFields {
    /// The text sent as `name` ("" when none).
    fn text(&self, name: &str) -> String {
        self.rest.get(name).cloned().unwrap_or_default()
    }

    /// The form as typed, a row per platform of the catalog.
    fn typed(self, catalog: &[Platform]) -> LinkForm {
        LinkForm {
            rows: catalog
                .iter()
                .map(|p| {
                    (
                        p.key.clone(),
                        self.text(&format!("perm_{}", p.key)),
                        self.text(&format!("asset_{}", p.key)),
                        self.rest.contains_key(&format!("optional_{}", p.key)),
                    )
                })
                .collect(),
            template: self.template,
            expires_in_days: self.expires_in_days,
            contact_email: self.contact_email,
            picked: self.platform,
            error: None,
        }
    }
}

/// A form refusal: its status and sentence.
type Refusal = (StatusCode, String);

/// A refusal of the new-link form with what it says.
fn invalid(message: &str) -> Refusal {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_string())
}

/// A store refusal of a new link, worded for the form (a request's field
/// named by its platform).
fn link_refusal(
    e: StoreError,
    requests: &[NewRequest],
    catalog: &[Platform],
) -> Result<Refusal, WebError> {
    let StoreError::Core(CoreError::Invalid { field, message }) = e else {
        return refusal(e);
    };
    if field == "expires_in_days" {
        return Ok(invalid(&format!("Expires in: {message} days.")));
    }
    if field == "requests" {
        return Ok(invalid(&format!("Requests: {message}.")));
    }
    // "requests[2].asset" → the third request's platform.
    let index = field
        .strip_prefix("requests[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse::<usize>().ok());
    match index.and_then(|i| requests.get(i)) {
        Some(r) => {
            let name = platform_name(catalog, &r.platform);
            Ok(invalid(&if field.ends_with(".asset") {
                format!("{name}, what to share: {message}.")
            } else if field.ends_with(".permission") || field.ends_with(".platform") {
                format!("{name}: {message}.")
            } else {
                format!("{message}: untick it or choose a template without it.")
            }))
        }
        None => refusal(StoreError::Core(CoreError::Invalid { field, message })),
    }
}

/// The URL(s) of a link just made, for showing once.
pub(super) fn shown(
    state: &AppState,
    agency: &Agency,
    token: &str,
    link: &Link,
    heading: &'static str,
) -> ShownLink {
    let tz = timefmt::zone(&agency.timezone);
    ShownLink {
        heading,
        url: state.config.onboarding_url(token),
        custom_url: agency
            .custom_domain
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("https://{d}/o/{token}")),
        expires: timefmt::local(link.expires_at, &tz),
    }
}

/// `POST /clients/{id}/links`: creates an onboarding link from a template
/// and/or ticked platforms, then shows its URL once (no redirect: the token
/// exists only in this response).
pub async fn create_link(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ClientId>,
    CsrfForm(form): CsrfForm<LinkFields>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    clients::get(&state.db, agency_id, &id).await?;
    let catalog = platforms::catalog(&state.db, agency_id).await?;
    let mut typed = form.typed(&catalog);
    match make_link(&state, &session, &id, &typed, &catalog).await? {
        Ok(created) => {
            let agency = crate::web::layout::agency_of(&state, &session).await?;
            let access = AccessTyped {
                shown: Some(shown(
                    &state,
                    &agency,
                    &created.token,
                    &created.link,
                    "Onboarding link created.",
                )),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Err((status, message)) => {
            typed.error = Some(message);
            let access = AccessTyped {
                link_form: Some(typed),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, status).await
        }
    }
}

/// Makes the link `typed` asks for: the template's requests and the ticked
/// platforms'. A refusal to show at the form is the inner `Err`.
async fn make_link(
    state: &AppState,
    session: &WebSession,
    id: &ClientId,
    typed: &LinkForm,
    catalog: &[Platform],
) -> Result<Result<CreatedLink, Refusal>, WebError> {
    let agency_id = session.agency_id();
    let mut requests: Vec<NewRequest> = Vec::new();
    let template = typed.template.trim();
    if !template.is_empty() {
        match access_templates::get(&state.db, agency_id, template).await {
            Ok(t) => requests.extend(t.requests),
            Err(StoreError::NotFound) => {
                return Ok(Err(invalid("Choose a template from the list.")));
            }
            Err(other) => return Err(other.into()),
        }
    }
    for key in &typed.picked {
        let (permission, asset, optional) = typed
            .row(key)
            .map(|r| (r.1.clone(), r.2.clone(), r.3))
            .unwrap_or_default();
        requests.push(NewRequest {
            platform: key.clone(),
            permission,
            asset: Some(asset).filter(|a| !a.trim().is_empty()),
            required: !optional,
        });
    }
    if requests.is_empty() {
        return Ok(Err(invalid(
            "Choose a template or tick at least one platform.",
        )));
    }
    let days = match typed.expires_in_days.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(days) => Some(days),
            Err(_) => return Ok(Err(invalid("Expires in: enter a number of days, like 30."))),
        },
    };
    let created = onboarding_links::create(
        session.cx(state),
        id,
        requests.clone(),
        days,
        Some(typed.contact_email.as_str()),
        &state.config.secret_key,
    )
    .await;
    match created {
        Ok(c) => Ok(Ok(c)),
        Err(e) => link_refusal(e, &requests, catalog).map(Err),
    }
}

/// The link `lid` when it belongs to client `id` (else 404).
async fn client_link(
    state: &AppState,
    session: &WebSession,
    id: &str,
    lid: &str,
) -> Result<Link, WebError> {
    let link = onboarding_links::get(&state.db, session.agency_id(), lid).await?;
    if link.client_id != id {
        return Err(WebError::NotFound);
    }
    Ok(link)
}

/// Shows a refusal of a link action above the links table.
async fn links_refused(
    state: &AppState,
    session: &WebSession,
    id: &str,
    (status, message): Refusal,
) -> Result<Response, WebError> {
    let access = AccessTyped {
        links_error: Some(message),
        ..AccessTyped::default()
    };
    show_page(state, session, id, access, status).await
}

/// `POST /clients/{id}/links/{lid}/revoke`
pub async fn revoke_link(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, lid)): WebPath<(ClientId, LinkId)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    client_link(&state, &session, &id, &lid).await?;
    match onboarding_links::revoke(session.cx(&state), &lid).await {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice=link_revoked#links"
        ))),
        Err(e) => links_refused(&state, &session, &id, refusal(e)?).await,
    }
}

/// `POST /clients/{id}/links/{lid}/regenerate`: a new token for the same
/// requests, shown once; the old URL stops working.
pub async fn regenerate_link(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, lid)): WebPath<(ClientId, LinkId)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    client_link(&state, &session, &id, &lid).await?;
    let result =
        onboarding_links::regenerate(session.cx(&state), &lid, None, &state.config.secret_key)
            .await;
    match result {
        Ok((link, token)) => {
            let agency = crate::web::layout::agency_of(&state, &session).await?;
            let access = AccessTyped {
                shown: Some(shown(
                    &state,
                    &agency,
                    &token,
                    &link,
                    "New link made: the old one no longer opens.",
                )),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Err(e) => links_refused(&state, &session, &id, refusal(e)?).await,
    }
}

/// `POST /clients/{id}/links/{lid}/remind`: prepares the reminder text, with
/// the link in it when the server can derive it, for the member to copy (or
/// emails it to the link's contact when SMTP is configured).
pub async fn remind_link(
    State(state): State<AppState>,
    session: WebSession,
    WebPath((id, lid)): WebPath<(ClientId, LinkId)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    client_link(&state, &session, &id, &lid).await?;
    let url = crate::reminders::link_url(&state, session.agency_id(), &lid).await?;
    let result = onboarding_links::remind(
        session.cx(&state),
        &lid,
        false,
        state.mailer.is_some(),
        url.as_deref(),
    )
    .await;
    match result {
        Ok(Some(r)) => {
            let access = AccessTyped {
                reminder: Some(ReminderView {
                    emailed_to: if r.channel == "email" {
                        onboarding_links::get(&state.db, session.agency_id(), &lid)
                            .await?
                            .contact_email
                    } else {
                        None
                    },
                    text: r.text,
                    pending: r.pending,
                    includes_link: r.includes_link,
                }),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Ok(None) => {
            let e = (
                StatusCode::CONFLICT,
                "Nothing on this link is waiting on the client.".to_string(),
            );
            links_refused(&state, &session, &id, e).await
        }
        Err(StoreError::Core(CoreError::Conflict(m))) => {
            let e = (StatusCode::CONFLICT, format!("No reminder needed: {m}."));
            links_refused(&state, &session, &id, e).await
        }
        Err(e) => links_refused(&state, &session, &id, refusal(e)?).await,
    }
}
