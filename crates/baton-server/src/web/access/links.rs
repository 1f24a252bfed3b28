//! The onboarding links on a client's page: create (the URL shown once),
//! revoke, regenerate, prepare a reminder. A refused form comes back on the
//! client page with the message next to it and what was typed kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::platforms::Platform;
use baton_core::CoreError;
use baton_store::access_requests::NewRequest;
use baton_store::agencies::Agency;
use baton_store::clients;
use baton_store::onboarding_links::{self, Link};
use baton_store::{access_templates, platforms, StoreError};

use super::section::show_page;
use super::section_views::{platform_name, AccessTyped, LinkForm, ReminderView, ShownLink};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::error_page::form_error;
use crate::web::form::{check_csrf, FormData};
use crate::web::layout::see_other;
use crate::web::{timefmt, WebError};

/// A store refusal of a new link, worded for the form.
fn link_error(e: StoreError, requests: &[NewRequest], catalog: &[Platform]) -> WebError {
    let StoreError::Core(CoreError::Invalid { field, message }) = e else {
        return e.into();
    };
    if field == "expires_in_days" {
        return WebError::Invalid(format!("Expires in: {message} days."));
    }
    if field == "requests" {
        return WebError::Invalid(format!("Requests: {message}."));
    }
    // "requests[2].asset" → the third request's platform.
    let index = field
        .strip_prefix("requests[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse::<usize>().ok());
    match index.and_then(|i| requests.get(i)) {
        Some(r) => {
            let name = platform_name(catalog, &r.platform);
            if field.ends_with(".asset") {
                WebError::Invalid(format!("{name}, what to share: {message}."))
            } else if field.ends_with(".permission") || field.ends_with(".platform") {
                WebError::Invalid(format!("{name}: {message}."))
            } else {
                WebError::Invalid(format!(
                    "{message}: untick it or choose a template without it."
                ))
            }
        }
        None => StoreError::Core(CoreError::Invalid { field, message }).into(),
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
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let agency_id = session.agency_id();
    clients::get(&state.db, agency_id, &id).await?;
    let catalog = platforms::catalog(&state.db, agency_id).await?;
    let mut typed = LinkForm::from_form(&form, &catalog);
    let result = async {
        let mut requests: Vec<NewRequest> = Vec::new();
        let template = typed.template.trim();
        if !template.is_empty() {
            let t = access_templates::get(&state.db, agency_id, template)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        WebError::Invalid("Choose a template from the list.".into())
                    }
                    other => other.into(),
                })?;
            requests.extend(t.requests);
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
            return Err(WebError::Invalid(
                "Choose a template or tick at least one platform.".into(),
            ));
        }
        let days = match typed.expires_in_days.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| {
                WebError::Invalid("Expires in: enter a number of days, like 30.".into())
            })?),
        };
        onboarding_links::create(
            &state.db,
            agency_id,
            &session.actor,
            state.now(),
            &id,
            requests.clone(),
            days,
            Some(typed.contact_email.as_str()),
            &state.config.secret_key,
        )
        .await
        .map_err(|e| link_error(e, &requests, &catalog))
    }
    .await;
    match result {
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
        Err(e) => {
            let (status, message) = form_error(e)?;
            typed.error = Some(message);
            let access = AccessTyped {
                link_form: Some(typed),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, status).await
        }
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
    e: WebError,
) -> Result<Response, WebError> {
    let (status, message) = form_error(e)?;
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
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    match onboarding_links::revoke(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &lid,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice=link_revoked#links"
        ))),
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}

/// `POST /clients/{id}/links/{lid}/regenerate`: a new token for the same
/// requests, shown once; the old URL stops working.
pub async fn regenerate_link(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    let result = onboarding_links::regenerate(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &lid,
        None,
        &state.config.secret_key,
    )
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
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}

/// `POST /clients/{id}/links/{lid}/remind`: prepares the reminder text, with
/// the link in it when the server can derive it, for the member to copy (or
/// emails it to the link's contact when SMTP is configured).
pub async fn remind_link(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    let url = crate::reminders::link_url(&state, session.agency_id(), &lid).await?;
    let result = onboarding_links::remind(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
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
            let e = WebError::Conflict("Nothing on this link is waiting on the client.".into());
            links_refused(&state, &session, &id, e).await
        }
        Err(StoreError::Core(CoreError::Conflict(m))) => {
            let e = WebError::Conflict(format!("No reminder needed: {m}."));
            links_refused(&state, &session, &id, e).await
        }
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}
