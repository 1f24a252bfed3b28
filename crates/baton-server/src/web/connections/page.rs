//! Settings → Connections (`/settings/connections`), for admins: one card
//! per platform Baton has a connector for, with what it checks, the scopes
//! it asks, the redirect URI to register, the form that saves the agency's
//! own OAuth app, the Connect button and the platform's connections (each
//! with a Remove button).
//!
//! The rules are the API's (`crate::api::connections`): saving an app goes
//! through its `save_app`, which checks the extras and seals the secrets,
//! and Connect through its `start_consent`, which answers the consent URL
//! the browser is sent to (303). Secrets (the client secret, a developer
//! token) are never shown back: a blank field keeps the saved one. The save
//! form carries a single-use nonce; Connect does not, on purpose: its
//! answer is a redirect carrying the consent's `state`, which a claim would
//! keep in clear as its answer, while a second click only starts a fresh
//! consent (the unused one expires in 15 minutes).
//!
//! The page's Content-Security-Policy lets its forms lead to the platforms'
//! consent screens (`form-action`), since browsers hold a form's redirect
//! to that directive too.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use baton_core::connectors::ConnectorPlatform;
use baton_core::policy::{Action, Area, Subject};
use baton_core::types::ConnectionId;
use baton_store::connections::{self, App, Connection, Status};
use jiff::tz::TimeZone;

use crate::api::connections::{save_app, start_consent, ConnectorAppIn};
use crate::auth::session::WebSession;
use crate::connectors::secret_extra;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::form::{QueryData, WebPath};
use crate::web::layout::{agency_of, notice_text, render, see_other, Layout};
use crate::web::prg::show_at;
use crate::web::{refusal, timefmt, WebError};

pub(super) const PATH: &str = "/settings/connections";

/// The fields of the app form as the page labels them.
const LABELS: refusal::Labels = &[
    ("client_id", "Client id"),
    ("client_secret", "Client secret"),
];

/// Connections are an admin's, like the other integrations: the policy's
/// `Integrations` area, which the API asks too (a member who is not one
/// gets the 403 page).
fn require_admin(session: &WebSession) -> Result<(), WebError> {
    session.may(Action::Administer, Subject::Setting(Area::Integrations))?;
    Ok(())
}

fn platform(key: &str) -> Result<ConnectorPlatform, WebError> {
    ConnectorPlatform::parse(key).ok_or(WebError::NotFound)
}

/// The notices of this page (naming the platform of `?platform=`, one of a
/// fixed set), then the app's shared ones.
fn notice(q: Option<&QueryData>) -> Option<String> {
    let q = q?;
    let label = q
        .get("platform")
        .and_then(ConnectorPlatform::parse)
        .map(|p| p.label())
        .unwrap_or("The platform's");
    Some(match q.get("notice")? {
        "app_saved" => format!(
            "{label} app saved. Its secrets are sealed and never shown again. \
             Connect it now, signed in as the agency's account."
        ),
        "connection_removed" => format!(
            "{label} connection removed: its tokens are erased. Checks through it say \
             “could not check” until you connect again; requests stay verifiable by hand."
        ),
        other => notice_text(other)?.to_string(),
    })
}

/// A refusal of the app form, at its field (`""`: above the form).
#[derive(Debug, Default, Clone)]
pub struct Refusal {
    field: String,
    text: String,
}

impl Refusal {
    /// The sentence to show at `field`, if any.
    pub fn at(&self, field: &str) -> Option<&str> {
        (!self.text.is_empty() && self.field == field).then_some(self.text.as_str())
    }
}

/// The form field of an extra.
fn extra_field(key: &str) -> String {
    format!("extra_{key}")
}

/// An extra's label split into its name and the hint after it:
/// "Business Center id (Business Center → Business info)" → ("Business
/// Center id", "Business Center → Business info").
fn split_label(full: &str) -> (&str, String) {
    match full.find(" (") {
        Some(i) => (
            &full[..i],
            full[i + 2..].replacen(')', "", 1).trim().to_string(),
        ),
        None => (full, String::new()),
    }
}

/// The app form as typed: what is kept on the page when it is refused (never
/// a secret).
#[derive(Debug, Default, Clone)]
pub struct AppForm {
    client_id: String,
    /// Non-secret extras by key.
    extras: BTreeMap<String, String>,
    error: Refusal,
}

/// An extra of the app form.
pub struct ExtraField {
    /// The form field (`extra_developer_token`).
    pub name: String,
    pub label: String,
    pub hint: String,
    /// A secret is never shown back (a blank field keeps it).
    pub secret: bool,
    /// Whether a value is saved.
    pub set: bool,
    /// The value in the field (empty for a secret).
    pub value: String,
}

/// A connection as a line of a platform's list.
pub struct ConnectionRow {
    pub id: String,
    pub status: &'static str,
    /// `badge-ok`, `badge-warn`, …
    pub badge: &'static str,
    pub account: Option<String>,
    pub scopes: String,
    pub started_by: String,
    pub started: timefmt::Stamp,
    pub connected: Option<timefmt::Stamp>,
    pub last_success: Option<timefmt::Stamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<timefmt::Stamp>,
    pub removed: Option<timefmt::Stamp>,
    pub removable: bool,
}

fn status_words(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Pending => ("Waiting for consent", "badge-info"),
        Status::Active => ("Connected", "badge-ok"),
        Status::Expired => ("Expired: connect again", "badge-warn"),
        Status::Revoked => ("Removed", "badge-status"),
        Status::Failed => ("Not connected", "badge-danger"),
    }
}

impl ConnectionRow {
    fn of(c: Connection, now: i64, tz: &TimeZone) -> ConnectionRow {
        let (status, badge) = status_words(c.status);
        let at = |ms: i64| timefmt::stamp(ms, now, tz);
        ConnectionRow {
            status,
            badge,
            account: c.account,
            scopes: c.scopes,
            started_by: c.started_by,
            started: at(c.created_at),
            connected: c.connected_at.map(at),
            last_success: c.last_success_at.map(at),
            last_error: c.last_error,
            last_error_at: c.last_error_at.map(at),
            removed: c.revoked_at.map(at),
            removable: c.status != Status::Revoked,
            id: c.id,
        }
    }
}

/// Who saved an app last, and when.
pub struct Saved {
    pub by: String,
    pub at: timefmt::Stamp,
}

/// One platform's card.
pub struct PlatformCard {
    pub key: &'static str,
    pub label: &'static str,
    /// The access requests its connector checks, by the catalogue's names.
    pub checks: Vec<String>,
    /// The scopes Baton asks, one per item (none: chosen on the app).
    pub scopes: Vec<&'static str>,
    pub redirect_uri: String,
    /// The saved app, when there is one.
    pub app_saved: Option<Saved>,
    pub client_id: String,
    pub secret_set: bool,
    pub extras: Vec<ExtraField>,
    pub error: Refusal,
    /// Why Connect could not start.
    pub connect_error: Option<String>,
    /// The account of its active connection ("" when it named none).
    pub active: Option<String>,
    pub connections: Vec<ConnectionRow>,
}

impl PlatformCard {
    /// The card of `p`: the saved app, or the form as typed when it was
    /// refused.
    fn of(
        state: &AppState,
        p: ConnectorPlatform,
        app: Option<&App>,
        typed: Option<AppForm>,
        (now, tz): (i64, &TimeZone),
    ) -> PlatformCard {
        let typed_extras = typed.as_ref().map(|t| &t.extras);
        let extras = p
            .app_extras()
            .iter()
            .map(|(key, full)| {
                let (label, hint) = split_label(full);
                let saved = app.and_then(|a| a.extras.get(*key));
                let secret = secret_extra(key);
                let value = if secret {
                    String::new()
                } else {
                    typed_extras
                        .and_then(|t| t.get(*key))
                        .or(saved)
                        .cloned()
                        .unwrap_or_default()
                };
                ExtraField {
                    name: extra_field(key),
                    label: label.to_string(),
                    hint,
                    secret,
                    set: saved.is_some_and(|v| !v.is_empty()),
                    value,
                }
            })
            .collect();
        let (client_id, error) = match typed {
            Some(t) => (t.client_id, t.error),
            None => (
                app.map(|a| a.client_id.clone()).unwrap_or_default(),
                Refusal::default(),
            ),
        };
        PlatformCard {
            key: p.key(),
            label: p.label(),
            checks: p
                .request_platforms()
                .iter()
                .map(|k| {
                    baton_core::platforms::builtin_get(k)
                        .map(|c| c.name.clone())
                        .unwrap_or_else(|| k.to_string())
                })
                .collect(),
            scopes: p.scopes().split_whitespace().collect(),
            redirect_uri: state.config.oauth_redirect_uri(),
            app_saved: app.map(|a| Saved {
                by: a.updated_by.clone(),
                at: timefmt::stamp(a.updated_at, now, tz),
            }),
            client_id,
            secret_set: app.is_some(),
            extras,
            error,
            connect_error: None,
            active: None,
            connections: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "settings_connections.html")]
struct ConnectionsPage {
    layout: Layout,
    notice: Option<String>,
    /// The settings section for `access_subnav.html`.
    sub: &'static str,
    cards: Vec<PlatformCard>,
}

/// What the page shows besides what is saved.
#[derive(Default)]
struct Extras {
    /// A refused app form, as typed.
    form: Option<(ConnectorPlatform, AppForm)>,
    /// Why Connect could not start.
    connect_error: Option<(ConnectorPlatform, String)>,
}

/// The page's Content-Security-Policy: the app's own, with the platforms'
/// consent screens allowed as where a form may lead (Connect answers a 303
/// to one).
fn csp(state: &AppState) -> String {
    let mut origins: Vec<String> = Vec::new();
    for p in ConnectorPlatform::ALL {
        let Ok(url) = reqwest::Url::parse(&state.config.connectors.of(p).auth) else {
            continue;
        };
        let origin = url.origin();
        if !origin.is_tuple() {
            continue;
        }
        let o = origin.ascii_serialization();
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    let mut form_action = "'self'".to_string();
    for o in origins {
        form_action.push(' ');
        form_action.push_str(&o);
    }
    crate::content_security_policy(&form_action)
}

async fn render_page(
    state: &AppState,
    session: &WebSession,
    q: Option<&QueryData>,
    mut extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz: TimeZone = timefmt::zone(&agency.timezone);
    let agency_id = session.agency_id();
    let now = state.now();
    let apps = connections::apps(&state.db, agency_id).await?;
    let mut all = connections::list(&state.db, agency_id, now).await?;
    let mut cards = Vec::new();
    for p in ConnectorPlatform::ALL {
        let typed = match extras.form.take() {
            Some((fp, form)) if fp == p => Some(form),
            other => {
                extras.form = other;
                None
            }
        };
        let mut card = PlatformCard::of(
            state,
            p,
            apps.iter().find(|a| a.platform == p),
            typed,
            (now, &tz),
        );
        card.connect_error = match extras.connect_error.take() {
            Some((cp, text)) if cp == p => Some(text),
            other => {
                extras.connect_error = other;
                None
            }
        };
        let (mine, rest): (Vec<Connection>, Vec<Connection>) =
            all.into_iter().partition(|c| c.platform == p);
        all = rest;
        card.active = mine
            .iter()
            .find(|c| c.status == Status::Active)
            .map(|c| c.account.clone().unwrap_or_default());
        card.connections = mine
            .into_iter()
            .map(|c| ConnectionRow::of(c, now, &tz))
            .collect();
        cards.push(card);
    }
    let page = ConnectionsPage {
        layout: Layout::app(&agency, session, "Connections", "settings"),
        notice: notice(q),
        sub: "connections",
        cards,
    };
    let mut resp = render(status, &page);
    if let Ok(v) = HeaderValue::from_str(&csp(state)) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(resp)
}

/// `GET /settings/connections`
pub(super) async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    render_page(
        &state,
        &session,
        Some(&q),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// The app form's fields read into the API's input: a blank client secret
/// or secret extra keeps the saved one; a blank plain extra removes it; an
/// extra the form did not send is kept.
fn app_input(p: ConnectorPlatform, fields: &BTreeMap<String, String>) -> (ConnectorAppIn, AppForm) {
    let field = |name: &str| fields.get(name).map(|v| v.trim().to_string());
    let client_id = field("client_id").unwrap_or_default();
    let client_secret = field("client_secret").filter(|s| !s.is_empty());
    let mut extras = BTreeMap::new();
    let mut kept = BTreeMap::new();
    for (key, _) in p.app_extras() {
        let Some(v) = field(&extra_field(key)) else {
            continue;
        };
        if secret_extra(key) {
            if !v.is_empty() {
                extras.insert(key.to_string(), v);
            }
        } else {
            kept.insert(key.to_string(), v.clone());
            extras.insert(key.to_string(), v);
        }
    }
    let typed = AppForm {
        client_id: client_id.clone(),
        extras: kept,
        error: Refusal::default(),
    };
    (
        ConnectorAppIn {
            client_id,
            client_secret,
            extras,
        },
        typed,
    )
}

/// An invalid field of the API's answer as the form's field and sentence.
fn refusal_of(p: ConnectorPlatform, field: &str, message: &str) -> Refusal {
    if let Some(key) = field.strip_prefix("extras.") {
        if let Some((_, full)) = p.app_extras().iter().find(|(k, _)| *k == key) {
            let (label, _) = split_label(full);
            return Refusal {
                field: extra_field(key),
                text: format!("{label}: {}.", message.trim().trim_end_matches('.')),
            };
        }
    }
    let on_form = matches!(field, "client_id" | "client_secret");
    Refusal {
        field: if on_form {
            field.to_string()
        } else {
            String::new()
        },
        text: refusal::invalid_sentence(LABELS, field, message),
    }
}

/// `POST /settings/connections/{platform}/app` (single-use nonce): saves the
/// agency's app, its secrets sealed; or shows the form again with the
/// refusal at its field.
pub(super) async fn save(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(key): WebPath<String>,
    CsrfForm(fields): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let p = platform(&key)?;
    let (input, mut typed) = app_input(p, &fields);
    match save_app(&state, session.cx(&state), p, input).await {
        Ok(_) => Ok(see_other(&format!(
            "{PATH}?notice=app_saved&platform={k}#platform-{k}",
            k = p.key()
        ))),
        Err(ApiError::Invalid { field, message }) => {
            typed.error = refusal_of(p, &field, &message);
            let extras = Extras {
                form: Some((p, typed)),
                ..Extras::default()
            };
            let resp = render_page(
                &state,
                &session,
                None,
                extras,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await?;
            Ok(show_at(resp, format!("{PATH}#app-{}", p.key())))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/connections/{platform}/connect`: records a pending
/// connection and sends the browser to the platform's consent screen (303);
/// without a saved app, the page says to save it first.
pub(super) async fn connect(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(key): WebPath<String>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let p = platform(&key)?;
    if connections::app(&state.db, session.agency_id(), p)
        .await?
        .is_none()
    {
        let text = format!(
            "Save the agency's {} app first: its client id and client secret, in the form below \
             (register the redirect URI on the app too). Then connect.",
            p.label()
        );
        let extras = Extras {
            connect_error: Some((p, text)),
            ..Extras::default()
        };
        let resp = render_page(&state, &session, None, extras, StatusCode::CONFLICT).await?;
        return Ok(show_at(resp, format!("{PATH}#platform-{}", p.key())));
    }
    let out = start_consent(&state, session.cx(&state), p).await?;
    Ok(see_other(&out.authorization_url))
}

/// `POST /settings/connections/{id}/remove`: the connection's tokens are
/// erased; another agency's id is the 404 page.
pub(super) async fn remove(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<ConnectionId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    require_admin(&session)?;
    let c = connections::revoke(session.cx(&state), id.as_str()).await?;
    Ok(see_other(&format!(
        "{PATH}?notice=connection_removed&platform={k}#platform-{k}",
        k = c.platform.key()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_labels_split_into_name_and_hint() {
        for (p, key, name, hint) in [
            (
                ConnectorPlatform::GoogleAds,
                "developer_token",
                "Google Ads API developer token",
                "API Center of the manager account",
            ),
            (
                ConnectorPlatform::GoogleAds,
                "manager_customer_id",
                "The agency's manager account id",
                "123-456-7890; sent as login-customer-id",
            ),
            (
                ConnectorPlatform::Tiktok,
                "bc_id",
                "The agency's Business Center id",
                "Business Center → Business info",
            ),
        ] {
            let full = p.app_extras().iter().find(|(k, _)| *k == key).unwrap().1;
            let (n, h) = split_label(full);
            assert_eq!((n, h.as_str()), (name, hint), "{key}");
        }
        assert_eq!(split_label("Plain"), ("Plain", String::new()));
    }

    #[test]
    fn blank_secrets_keep_and_blank_plain_extras_remove() {
        let fields: BTreeMap<String, String> = [
            ("client_id", " app.example "),
            ("client_secret", "  "),
            ("extra_developer_token", ""),
            ("extra_manager_customer_id", ""),
            ("extra_unknown", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (input, typed) = app_input(ConnectorPlatform::GoogleAds, &fields);
        assert_eq!(input.client_id, "app.example");
        assert_eq!(input.client_secret, None);
        assert_eq!(
            input.extras.into_iter().collect::<Vec<_>>(),
            vec![("manager_customer_id".to_string(), String::new())]
        );
        assert_eq!(typed.client_id, "app.example");
        let mut fields = fields;
        fields.insert("extra_developer_token".into(), "dev-tok".into());
        fields.insert("client_secret".into(), "s".into());
        let (input, typed) = app_input(ConnectorPlatform::GoogleAds, &fields);
        assert_eq!(input.client_secret.as_deref(), Some("s"));
        assert_eq!(input.extras["developer_token"], "dev-tok");
        assert!(!typed.extras.contains_key("developer_token"), "never kept");
    }

    #[test]
    fn refusals_land_at_their_field() {
        let r = refusal_of(ConnectorPlatform::Ga4, "client_id", "must not be empty");
        assert_eq!(r.at("client_id"), Some("Client id: must not be empty."));
        let r = refusal_of(
            ConnectorPlatform::Meta,
            "extras.business_id",
            "must be one line of at most 500 characters",
        );
        assert_eq!(
            r.at("extra_business_id"),
            Some("The agency's Business Manager id: must be one line of at most 500 characters.")
        );
        let r = refusal_of(ConnectorPlatform::Ga4, "", "something else");
        assert_eq!(r.at(""), Some("Something else."));
    }
}
