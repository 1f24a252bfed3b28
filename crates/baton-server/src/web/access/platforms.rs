//! Settings → Platforms (`/settings/platforms`): the shipped catalog and
//! the agency's own platforms with their permission levels.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::platforms::{self as catalog, Permission, Platform, SettingField};
use baton_core::policy::{Action, Area, Subject};
use baton_core::CoreError;
use baton_store::{onboarding_settings, platforms, StoreError};
use serde::Deserialize;

use super::common::{layout, lines, refusal};
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::QueryData;
use crate::web::layout::{agency_of, render, see_other, Layout};
use crate::web::WebError;

/// A permission level of a platform card.
pub struct LevelRow {
    pub key: String,
    pub name: String,
    pub description: String,
    pub is_default: bool,
}

/// A setting a platform needs, with the agency's value.
pub struct NeedRow {
    pub key: String,
    pub label: String,
    pub value: Option<String>,
}

/// A platform of the catalog, as the team reads it.
pub struct PlatformCard {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub asset_label: String,
    pub custom: bool,
    pub levels: Vec<LevelRow>,
    pub needs: Vec<NeedRow>,
    pub steps: Vec<String>,
    pub mistakes: Vec<String>,
    pub verify: Vec<String>,
}

/// The add-a-platform form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PlatformForm {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub asset_label: String,
    pub permissions: String,
    pub default_permission: String,
    pub settings: String,
    pub instructions: String,
    pub mistakes: String,
    pub verify: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

impl PlatformForm {
    /// The platform typed: `key | Name | description` per permission line,
    /// `key | Label | help` per setting line.
    fn platform(&self) -> Platform {
        let split = |line: &str| {
            let mut parts = line.splitn(3, '|').map(str::trim);
            let first = parts.next().unwrap_or("").to_string();
            match parts.next() {
                Some(second) => (
                    first,
                    second.to_string(),
                    parts.next().unwrap_or("").to_string(),
                ),
                // A name alone: its key is the name in key form.
                None => (
                    baton_core::validate::slugify(&first).replace('-', "_"),
                    first,
                    String::new(),
                ),
            }
        };
        Platform {
            key: self.key.trim().to_string(),
            name: self.name.clone(),
            vendor: self.vendor.clone(),
            asset_label: self.asset_label.clone(),
            permissions: lines(&self.permissions)
                .iter()
                .map(|l| {
                    let (key, name, description) = split(l);
                    Permission {
                        key,
                        name,
                        description,
                    }
                })
                .collect(),
            default_permission: self.default_permission.trim().to_string(),
            settings: lines(&self.settings)
                .iter()
                .map(|l| {
                    let (key, label, help) = split(l);
                    SettingField { key, label, help }
                })
                .collect(),
            instructions: lines(&self.instructions),
            mistakes: lines(&self.mistakes),
            verify: lines(&self.verify),
            custom: true,
        }
    }
}

#[derive(Template)]
#[template(path = "settings_platforms.html")]
struct PlatformsPage {
    layout: Layout,
    sub: &'static str,
    is_admin: bool,
    platforms: Vec<PlatformCard>,
    custom_count: usize,
    form: PlatformForm,
    form_open: bool,
    action_error: Option<String>,
}

async fn render_platforms(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    form: Option<PlatformForm>,
    action_error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let values = onboarding_settings::get(&state.db, agency_id)
        .await?
        .platform_values;
    let cards: Vec<PlatformCard> = all
        .iter()
        .map(|p| PlatformCard {
            key: p.key.clone(),
            name: p.name.clone(),
            vendor: p.vendor.clone(),
            asset_label: p.asset_label.clone(),
            custom: p.custom,
            levels: p
                .permissions
                .iter()
                .map(|x| LevelRow {
                    key: x.key.clone(),
                    name: x.name.clone(),
                    description: x.description.clone(),
                    is_default: x.key == p.default_permission,
                })
                .collect(),
            needs: p
                .settings
                .iter()
                .map(|s| NeedRow {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    value: values.get(&s.key).filter(|v| !v.is_empty()).cloned(),
                })
                .collect(),
            steps: p.render_steps(&agency.name, &values, &p.default_permission, None),
            mistakes: p.render_mistakes(&agency.name, &values),
            verify: p.verify.clone(),
        })
        .collect();
    let form_open = form.as_ref().is_some_and(|f| f.error.is_some());
    let page = PlatformsPage {
        layout: layout(&agency, session, "Platforms", "settings", q),
        sub: "platforms",
        is_admin: session.administers(Area::PlatformCatalog),
        custom_count: cards.iter().filter(|c| c.custom).count(),
        platforms: cards,
        form: form.unwrap_or_default(),
        form_open,
        action_error,
    };
    Ok(render(status, &page))
}

/// `GET /settings/platforms`
pub(super) async fn platforms_page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_platforms(&state, &session, Some(&q), None, None, StatusCode::OK).await
}

/// `POST /settings/platforms` (admins): adds or replaces a custom platform.
pub(super) async fn platform_save(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut typed): CsrfForm<PlatformForm>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::PlatformCatalog))?;
    let result = platforms::save(session.cx(&state), typed.platform()).await;
    match result {
        Ok(p) => Ok(see_other(&format!(
            "/settings/platforms?notice=platform_saved#p-{}",
            p.key
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            typed.error = Some(message);
            render_platforms(&state, &session, None, Some(typed), None, status).await
        }
    }
}

/// `POST /settings/platforms/{key}/delete` (admins): a platform still used
/// by requests stays, and the page says why (409).
pub(super) async fn platform_delete(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    session.may(Action::Administer, Subject::Setting(Area::PlatformCatalog))?;
    let result = if catalog::builtin_get(&key).is_some() {
        Err(StoreError::Core(CoreError::Conflict(
            "built-in platforms cannot be removed".into(),
        )))
    } else {
        platforms::delete(session.cx(&state), &key).await
    };
    match result {
        Ok(()) => Ok(see_other("/settings/platforms?notice=platform_deleted")),
        Err(e) => {
            let (status, message) = refusal(e)?;
            render_platforms(&state, &session, None, None, Some(message), status).await
        }
    }
}
