//! Settings → Access templates (`/settings/templates`): named sets of
//! access requests to start a client's link with.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::types::AccessTemplateId;
use baton_store::access_requests::NewRequest;
use baton_store::{access_templates, platforms};
use serde::Deserialize;

use super::common::{by_key, layout, names, refusal};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::WebError;

/// A saved template with its requests in words.
pub struct TemplateRow {
    pub id: String,
    pub name: String,
    pub lines: Vec<(String, String)>,
}

/// A platform of the create form: a checkbox and its permission level.
pub struct Pick {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub checked: bool,
    pub options: Vec<Opt>,
}

/// The new-template form as sent: the name, the ticked platforms and a
/// permission level per platform (`perm_{key}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TemplateFields {
    name: String,
    platform: Vec<String>,
    /// `perm_{key}` per platform of the catalog (and the CSRF token).
    #[serde(flatten)]
    levels: BTreeMap<String, String>,
}

impl TemplateFields {
    /// The permission level sent for platform `key` ("" when none).
    fn level(&self, key: &str) -> String {
        self.levels
            .get(&format!("perm_{key}"))
            .cloned()
            .unwrap_or_default()
    }
}

/// The new-template form as shown or typed.
#[derive(Default)]
pub struct TemplateForm {
    pub name: String,
    /// Platform key → chosen permission key, for the ticked platforms.
    pub chosen: Vec<(String, String)>,
    /// Permission chosen per platform, ticked or not (kept on a refusal).
    pub levels: HashMap<String, String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_templates.html")]
struct TemplatesPage {
    layout: Layout,
    sub: &'static str,
    templates: Vec<TemplateRow>,
    name: String,
    picks: Vec<Pick>,
    error: Option<String>,
    action_error: Option<String>,
}

async fn render_templates(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    form: TemplateForm,
    action_error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let cat = by_key(&all);
    let templates = access_templates::list(&state.db, agency_id)
        .await?
        .into_iter()
        .map(|t| TemplateRow {
            lines: t
                .requests
                .iter()
                .map(|r| names(&cat, &r.platform, &r.permission))
                .collect(),
            id: t.id,
            name: t.name,
        })
        .collect();
    let picks = all
        .iter()
        .map(|p| {
            let level = form
                .levels
                .get(&p.key)
                .map_or(p.default_permission.as_str(), String::as_str);
            Pick {
                key: p.key.clone(),
                name: p.name.clone(),
                vendor: p.vendor.clone(),
                checked: form.chosen.iter().any(|(k, _)| k == &p.key),
                options: p
                    .permissions
                    .iter()
                    .map(|x| Opt::new(x.key.clone(), x.name.clone(), level))
                    .collect(),
            }
        })
        .collect();
    let page = TemplatesPage {
        layout: layout(&agency, session, "Access templates", "settings", q),
        sub: "templates",
        templates,
        name: form.name,
        picks,
        error: form.error,
        action_error,
    };
    Ok(render(status, &page))
}

/// `GET /settings/templates`
pub(super) async fn templates_page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_templates(
        &state,
        &session,
        Some(&q),
        TemplateForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /settings/templates`: a new template of the ticked platforms.
pub(super) async fn template_create(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(form): CsrfForm<TemplateFields>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let mut typed = TemplateForm {
        name: form.name.clone(),
        ..TemplateForm::default()
    };
    // Catalog order, whatever order the browser sent.
    for p in &all {
        let level = form.level(&p.key);
        if form.platform.iter().any(|k| k == &p.key) {
            let level = if level.is_empty() {
                p.default_permission.clone()
            } else {
                level.clone()
            };
            typed.chosen.push((p.key.clone(), level));
        }
        if !level.is_empty() {
            typed.levels.insert(p.key.clone(), level);
        }
    }
    let requests = typed
        .chosen
        .iter()
        .map(|(platform, permission)| NewRequest {
            platform: platform.clone(),
            permission: permission.clone(),
            asset: None,
            required: true,
        })
        .collect();
    let result = access_templates::save(session.cx(&state), None, &typed.name, requests).await;
    match result {
        Ok(_) => Ok(see_other("/settings/templates?notice=template_saved")),
        Err(e) => {
            let (status, message) = refusal(e)?;
            typed.error = Some(message);
            render_templates(&state, &session, None, typed, None, status).await
        }
    }
}

/// `POST /settings/templates/{id}/delete`
pub(super) async fn template_delete(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<AccessTemplateId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    match access_templates::delete(session.cx(&state), &id).await {
        Ok(()) => Ok(see_other("/settings/templates?notice=template_deleted")),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_templates(
                &state,
                &session,
                None,
                TemplateForm::default(),
                Some(message),
                status,
            )
            .await
        }
    }
}
