//! The team's access pages: the access board across clients (`/access`),
//! the access still held (`/access/held`), and the onboarding settings,
//! access templates and platform catalog under `/settings/…`.
//!
//! The board and the held view are one store query each plus the agency's
//! catalog (looked up through a map, never per line), so they stay fast for
//! agencies with thousands of open requests. Onboarding settings and custom
//! platforms are for admins (others read them); templates are for every
//! member, as in the API.

use std::collections::{BTreeMap, HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use baton_core::access::{AccessStatus, WaitingOn};
use baton_core::lifecycle::Lifecycle;
use baton_core::onboarding::{OnboardingSettings, Question, MAX_QUESTIONS};
use baton_core::platforms::{self as catalog, Permission, Platform, SettingField};
use baton_core::CoreError;
use baton_store::access_requests::{self, NewRequest};
use baton_store::agencies::Agency;
use baton_store::{access_templates, onboarding_settings, platforms, StoreError};
use jiff::tz::TimeZone;

use super::error_page::form_error;
use super::form::{check_csrf, FormData, QueryData};
use super::layout::{agency_of, notice_text, render, see_other, Layout, Opt};
use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/access", get(board))
        .route("/access/held", get(held))
        .route(
            "/settings/onboarding",
            get(onboarding_page).post(onboarding_save),
        )
        .route(
            "/settings/templates",
            get(templates_page).post(template_create),
        )
        .route("/settings/templates/{id}/delete", post(template_delete))
        .route(
            "/settings/platforms",
            get(platforms_page).post(platform_save),
        )
        .route("/settings/platforms/{key}/delete", post(platform_delete))
}

// ------------------------------------------------------------------ shared --

/// The notices of these pages, then the app's shared ones.
fn notice(key: Option<&str>) -> Option<&'static str> {
    let key = key?;
    Some(match key {
        "onboarding_saved" => "Onboarding settings saved.",
        "template_saved" => "Access template saved.",
        "template_deleted" => "Access template deleted.",
        "platform_saved" => "Platform saved to the catalog.",
        "platform_deleted" => "Platform removed from the catalog.",
        other => return notice_text(other),
    })
}

fn layout(
    agency: &Agency,
    session: &WebSession,
    title: &str,
    nav: &'static str,
    q: Option<&QueryData>,
) -> Layout {
    let mut l = Layout::app(agency, session, title, nav);
    l.notice = notice(q.and_then(|q| q.get("notice")));
    l
}

fn require_admin(session: &WebSession, what: &str) -> Result<(), WebError> {
    if session.member().is_admin {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "Only agency admins can change {what}."
        )))
    }
}

/// A moment shown as a relative age, with the exact time for `<time>`.
pub struct Since {
    pub iso: String,
    pub local: String,
    pub ago: String,
}

impl Since {
    fn at(ms: i64, now: i64, tz: &TimeZone) -> Since {
        Since {
            iso: timefmt::machine(ms),
            local: timefmt::local(ms, tz),
            ago: timefmt::relative(ms, now),
        }
    }
}

/// A field of these forms as people read it.
fn field_label(field: &str) -> &str {
    match field {
        "platform_values" => "Platform values",
        "questions" => "Intake questions",
        "reminder_every_days" => "Remind every",
        "reminder_max" => "Reminders at most",
        "link_expiry_days" => "Link expiry",
        "welcome" => "Welcome text",
        "key" => "Key",
        "name" => "Name",
        "vendor" => "Vendor",
        "asset_label" => "Asset label",
        "permissions" => "Permission levels",
        "default_permission" => "Default permission",
        "settings" => "Settings it needs",
        "instructions" => "Instructions",
        "mistakes" => "Mistakes to avoid",
        "verify" => "Verification checklist",
        f if f == "requests" || f.starts_with("requests[") => "Platforms",
        other => other,
    }
}

/// A refused form's status and message, in the words of these forms; any
/// other error becomes an error page.
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => {
            let message = message.trim_end_matches('.');
            let text = if field.is_empty() {
                format!("{message}.")
            } else {
                format!("{}: {message}.", field_label(&field))
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, text))
        }
        other => form_error(other),
    }
}

/// Platforms by key, for lookups while building many lines.
fn by_key(all: &[Platform]) -> HashMap<&str, &Platform> {
    all.iter().map(|p| (p.key.as_str(), p)).collect()
}

/// The platform's and the permission's names (the keys when unknown).
fn names(cat: &HashMap<&str, &Platform>, platform: &str, permission: &str) -> (String, String) {
    match cat.get(platform) {
        Some(p) => (
            p.name.clone(),
            p.permission(permission)
                .map_or_else(|| permission.to_string(), |x| x.name.clone()),
        ),
        None => (platform.to_string(), permission.to_string()),
    }
}

/// Non-empty trimmed lines of a textarea.
fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

// ------------------------------------------------------------------- board --

/// A line of the access board.
pub struct BoardRow {
    pub client_id: String,
    pub client_name: String,
    pub offboarding: bool,
    pub platform: String,
    pub permission: String,
    pub asset: Option<String>,
    pub failed: bool,
    pub since: Since,
    pub stuck: Option<String>,
    pub stuck_since: Option<Since>,
    pub failed_reason: Option<String>,
}

#[derive(Template)]
#[template(path = "access_board.html")]
struct BoardPage {
    layout: Layout,
    /// "", "agency" or "client".
    filter: &'static str,
    on_us: Vec<BoardRow>,
    on_client: Vec<BoardRow>,
    on_us_count: usize,
    on_client_count: usize,
    stuck_count: usize,
    client_count: usize,
}

/// `GET /access`: every open request across clients, oldest wait first,
/// split by who it waits on.
async fn board(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let filter = match q.get("waiting_on").and_then(WaitingOn::parse) {
        Some(WaitingOn::Agency) => "agency",
        Some(WaitingOn::Client) => "client",
        None => "",
    };
    // One query for the lines, one for the agency's own platforms.
    let (lines, all) = tokio::try_join!(
        access_requests::open_board(&state.db, session.agency_id()),
        platforms::catalog(&state.db, session.agency_id()),
    )?;
    let cat = by_key(&all);
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let mut page = BoardPage {
        layout: layout(&agency, &session, "Access", "access", Some(&q)),
        filter,
        on_us: Vec::new(),
        on_client: Vec::new(),
        on_us_count: 0,
        on_client_count: 0,
        stuck_count: 0,
        client_count: 0,
    };
    let mut clients = HashSet::new();
    for r in lines {
        let on_us = r.status.waiting_on() == Some(WaitingOn::Agency);
        if on_us {
            page.on_us_count += 1;
        } else {
            page.on_client_count += 1;
        }
        if r.stuck_message.is_some() {
            page.stuck_count += 1;
        }
        if !clients.contains(r.client_id.as_str()) {
            clients.insert(r.client_id.clone());
        }
        let shown = match filter {
            "agency" => on_us,
            "client" => !on_us,
            _ => true,
        };
        if !shown {
            continue;
        }
        let (platform, permission) = names(&cat, &r.platform, &r.permission);
        let row = BoardRow {
            offboarding: r.client_lifecycle == Lifecycle::Offboarding,
            client_name: r.client_name,
            platform,
            permission,
            failed: r.status == AccessStatus::Failed,
            since: Since::at(r.status_at, now, &tz),
            stuck_since: r.stuck_at.map(|t| Since::at(t, now, &tz)),
            stuck: r.stuck_message,
            failed_reason: r.failed_reason.filter(|_| r.status == AccessStatus::Failed),
            asset: r.asset,
            client_id: r.client_id,
        };
        if on_us {
            page.on_us.push(row);
        } else {
            page.on_client.push(row);
        }
    }
    page.client_count = clients.len();
    Ok(render(StatusCode::OK, &page))
}

// -------------------------------------------------------------------- held --

/// A held access of a client.
pub struct HeldRow {
    pub platform: String,
    pub asset: Option<String>,
    pub permission: String,
    pub verified: bool,
    pub since: Option<Since>,
    pub verified_by: Option<String>,
    pub granted_by: Option<String>,
}

/// A client and the access the agency holds for it.
pub struct HeldClient {
    pub id: String,
    pub name: String,
    pub stage: &'static str,
    pub offboarding: bool,
    pub lines: Vec<HeldRow>,
}

#[derive(Template)]
#[template(path = "access_held.html")]
struct HeldPage {
    layout: Layout,
    clients: Vec<HeldClient>,
    total: usize,
    offboarding: usize,
}

/// `GET /access/held`: the access inventory, clients in offboarding first.
async fn held(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    let agency = agency_of(&state, &session).await?;
    let (lines, all) = tokio::try_join!(
        access_requests::held(&state.db, session.agency_id()),
        platforms::catalog(&state.db, session.agency_id()),
    )?;
    let cat = by_key(&all);
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let total = lines.len();
    let mut clients: Vec<HeldClient> = Vec::new();
    for line in lines {
        let r = line.request;
        let (platform, permission) = names(&cat, &r.platform, &r.permission);
        let verified = r.status == AccessStatus::Verified;
        let row = HeldRow {
            platform,
            permission,
            asset: r.asset,
            verified,
            since: r
                .verified_at
                .filter(|_| verified)
                .or(r.granted_at)
                .or(r.verified_at)
                .map(|t| Since::at(t, now, &tz)),
            verified_by: r.verified_by.filter(|_| verified),
            granted_by: r.granted_by,
        };
        match clients.last_mut() {
            Some(c) if c.id == r.client_id => c.lines.push(row),
            _ => clients.push(HeldClient {
                id: r.client_id,
                name: line.client_name,
                stage: line.client_lifecycle.label(),
                offboarding: line.client_lifecycle == Lifecycle::Offboarding,
                lines: vec![row],
            }),
        }
    }
    // Offboarding first (revoke now); the store's name order otherwise.
    clients.sort_by_key(|c| !c.offboarding);
    let offboarding = clients.iter().filter(|c| c.offboarding).count();
    let page = HeldPage {
        layout: layout(&agency, &session, "Access still held", "access", Some(&q)),
        clients,
        total,
        offboarding,
    };
    Ok(render(StatusCode::OK, &page))
}

// -------------------------------------------------------------- onboarding --

/// A platform value field.
pub struct ValueField {
    pub key: String,
    pub label: String,
    pub help: String,
    pub value: String,
}

/// A row of the questionnaire editor.
#[derive(Default)]
pub struct QuestionRow {
    pub key: String,
    pub label: String,
    pub help: String,
    pub long: bool,
    pub required: bool,
    pub remove: bool,
}

impl QuestionRow {
    fn is_blank(&self) -> bool {
        self.key.trim().is_empty() && self.label.trim().is_empty() && self.help.trim().is_empty()
    }
}

/// Blank rows offered to add questions.
const BLANK_QUESTIONS: usize = 2;

/// The onboarding settings form as shown or typed.
pub struct OnboardingForm {
    pub values: Vec<ValueField>,
    pub welcome: String,
    pub link_expiry_days: String,
    pub reminder_every_days: String,
    pub reminder_max: String,
    pub questions: Vec<QuestionRow>,
    pub error: Option<String>,
}

impl OnboardingForm {
    fn of(s: &OnboardingSettings, fields: &[SettingField]) -> OnboardingForm {
        let mut questions: Vec<QuestionRow> = s
            .questions
            .iter()
            .map(|q| QuestionRow {
                key: q.key.clone(),
                label: q.label.clone(),
                help: q.help.clone(),
                long: q.long,
                required: q.required,
                remove: false,
            })
            .collect();
        questions.extend((0..BLANK_QUESTIONS).map(|_| QuestionRow::default()));
        OnboardingForm {
            values: fields
                .iter()
                .map(|f| ValueField {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    help: f.help.clone(),
                    value: s.platform_values.get(&f.key).cloned().unwrap_or_default(),
                })
                .collect(),
            welcome: s.welcome.clone(),
            link_expiry_days: s.link_expiry_days.to_string(),
            reminder_every_days: s.reminder_every_days.to_string(),
            reminder_max: s.reminder_max.to_string(),
            questions,
            error: None,
        }
    }

    fn typed(f: &FormData, fields: &[SettingField]) -> OnboardingForm {
        let count = f
            .get("q_count")
            .trim()
            .parse::<usize>()
            .unwrap_or(0)
            .min(MAX_QUESTIONS * 2 + BLANK_QUESTIONS);
        let mut questions: Vec<QuestionRow> = (0..count)
            .map(|i| QuestionRow {
                key: f.string(&format!("q{i}_key")),
                label: f.string(&format!("q{i}_label")),
                help: f.string(&format!("q{i}_help")),
                long: f.has(&format!("q{i}_long")),
                required: f.has(&format!("q{i}_required")),
                remove: f.has(&format!("q{i}_remove")),
            })
            .filter(|q| !q.is_blank())
            .collect();
        questions.extend((0..BLANK_QUESTIONS).map(|_| QuestionRow::default()));
        OnboardingForm {
            values: fields
                .iter()
                .map(|fl| ValueField {
                    key: fl.key.clone(),
                    label: fl.label.clone(),
                    help: fl.help.clone(),
                    value: f.string(&format!("pv_{}", fl.key)),
                })
                .collect(),
            welcome: f.string("welcome"),
            link_expiry_days: f.string("link_expiry_days"),
            reminder_every_days: f.string("reminder_every_days"),
            reminder_max: f.string("reminder_max"),
            questions,
            error: None,
        }
    }

    /// The settings to save: the current ones with what the form changes.
    fn settings(&self, current: &OnboardingSettings) -> Result<OnboardingSettings, String> {
        let number = |v: &str, field: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{}: enter a whole number of days.", field_label(field)))
        };
        let count = |v: &str, field: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{}: enter a whole number.", field_label(field)))
        };
        let mut platform_values: BTreeMap<String, String> = current.platform_values.clone();
        for v in &self.values {
            platform_values.insert(v.key.clone(), v.value.clone());
        }
        Ok(OnboardingSettings {
            platform_values,
            questions: self
                .questions
                .iter()
                .filter(|q| !q.remove && !q.is_blank())
                .map(|q| Question {
                    key: q.key.trim().to_string(),
                    label: q.label.clone(),
                    help: q.help.clone(),
                    long: q.long,
                    required: q.required,
                })
                .collect(),
            reminder_every_days: number(&self.reminder_every_days, "reminder_every_days")?,
            reminder_max: count(&self.reminder_max, "reminder_max")?,
            link_expiry_days: number(&self.link_expiry_days, "link_expiry_days")?,
            welcome: self.welcome.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "settings_onboarding.html")]
struct OnboardingPage {
    layout: Layout,
    sub: &'static str,
    can_edit: bool,
    form: OnboardingForm,
}

async fn render_onboarding(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    form: Option<OnboardingForm>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let form = match form {
        Some(f) => f,
        None => {
            let all = platforms::catalog(&state.db, session.agency_id()).await?;
            let fields = catalog::settings_fields(all.iter());
            let current = onboarding_settings::get(&state.db, session.agency_id()).await?;
            OnboardingForm::of(&current, &fields)
        }
    };
    let page = OnboardingPage {
        layout: layout(&agency, session, "Onboarding settings", "settings", q),
        sub: "onboarding",
        can_edit: session.member().is_admin,
        form,
    };
    Ok(render(status, &page))
}

/// `GET /settings/onboarding`
async fn onboarding_page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_onboarding(&state, &session, Some(&q), None, StatusCode::OK).await
}

/// `POST /settings/onboarding` (admins)
async fn onboarding_save(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session, "the onboarding settings")?;
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let fields = catalog::settings_fields(all.iter());
    let mut typed = OnboardingForm::typed(&form, &fields);
    let current = onboarding_settings::get(&state.db, agency_id).await?;
    let refused = match typed.settings(&current) {
        Err(message) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(next) => {
            match onboarding_settings::put(&state.db, agency_id, &session.actor, state.now(), next)
                .await
            {
                Ok(_) => return Ok(see_other("/settings/onboarding?notice=onboarding_saved")),
                Err(e) => refusal(e)?,
            }
        }
    };
    typed.error = Some(refused.1);
    render_onboarding(&state, &session, None, Some(typed), refused.0).await
}

// --------------------------------------------------------------- templates --

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
async fn templates_page(
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
async fn template_create(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let agency_id = session.agency_id();
    let all = platforms::catalog(&state.db, agency_id).await?;
    let ticked = form.all("platform");
    let mut typed = TemplateForm {
        name: form.string("name"),
        ..TemplateForm::default()
    };
    // Catalog order, whatever order the browser sent.
    for p in &all {
        let level = form.string(&format!("perm_{}", p.key));
        if ticked.iter().any(|k| k == &p.key) {
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
    let result = access_templates::save(
        &state.db,
        agency_id,
        &session.actor,
        state.now(),
        None,
        &typed.name,
        requests,
    )
    .await;
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
async fn template_delete(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    match access_templates::delete(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &id,
    )
    .await
    {
        Ok(()) => Ok(see_other("/settings/templates?notice=template_deleted")),
        Err(e) => {
            let (status, message) = form_error(e)?;
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

// --------------------------------------------------------------- platforms --

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
#[derive(Default)]
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
    pub error: Option<String>,
}

impl PlatformForm {
    fn typed(f: &FormData) -> PlatformForm {
        PlatformForm {
            key: f.string("key"),
            name: f.string("name"),
            vendor: f.string("vendor"),
            asset_label: f.string("asset_label"),
            permissions: f.string("permissions"),
            default_permission: f.string("default_permission"),
            settings: f.string("settings"),
            instructions: f.string("instructions"),
            mistakes: f.string("mistakes"),
            verify: f.string("verify"),
            error: None,
        }
    }

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
        is_admin: session.member().is_admin,
        custom_count: cards.iter().filter(|c| c.custom).count(),
        platforms: cards,
        form: form.unwrap_or_default(),
        form_open,
        action_error,
    };
    Ok(render(status, &page))
}

/// `GET /settings/platforms`
async fn platforms_page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_platforms(&state, &session, Some(&q), None, None, StatusCode::OK).await
}

/// `POST /settings/platforms` (admins): adds or replaces a custom platform.
async fn platform_save(
    State(state): State<AppState>,
    session: WebSession,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session, "the platform catalog")?;
    let mut typed = PlatformForm::typed(&form);
    let result = platforms::save(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        typed.platform(),
    )
    .await;
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
async fn platform_delete(
    State(state): State<AppState>,
    session: WebSession,
    Path(key): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    require_admin(&session, "the platform catalog")?;
    let result = if catalog::builtin_get(&key).is_some() {
        Err(StoreError::Core(CoreError::Conflict(
            "built-in platforms cannot be removed".into(),
        )))
    } else {
        platforms::delete(
            &state.db,
            session.agency_id(),
            &session.actor,
            state.now(),
            &key,
        )
        .await
    };
    match result {
        Ok(()) => Ok(see_other("/settings/platforms?notice=platform_deleted")),
        Err(e) => {
            let (status, message) = form_error(e)?;
            render_platforms(&state, &session, None, None, Some(message), status).await
        }
    }
}
