//! `/api/v1/connections`: the agency's connections to platform APIs, which
//! let connectors verify access through the platform itself. An admin saves
//! the agency's own OAuth app for a platform (`PUT …/{platform}/app`),
//! starts a connection (`POST …/{platform}/start` answers the consent URL),
//! the platform sends the browser back to `GET /oauth/callback`, and
//! `DELETE …/{id}` removes one. Managing connections is an admin's, like
//! the other integrations.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::clock::rfc3339;
use baton_core::connectors::ConnectorPlatform;
use baton_core::policy::{Action, Area, Subject as PolicySubject};
use baton_core::types::ConnectionId;
use baton_store::connections::{self, App, AppInput, Connection, Start};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::api_token::ApiCaller;
use crate::connectors::checker::app_owner;
use crate::connectors::{oauth, secret_extra};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::sealed;
use crate::state::AppState;

pub(super) fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(start))
        .routes(routes!(put_app))
        .routes(routes!(delete))
}

/// Refuses (403) unless the token's member may manage integrations.
fn manage(caller: &ApiCaller) -> ApiResult<()> {
    caller.can(
        &caller.principal(),
        Action::Administer,
        PolicySubject::Setting(Area::Integrations),
    )
}

fn platform(key: &str) -> ApiResult<ConnectorPlatform> {
    ConnectorPlatform::parse(key).ok_or(ApiError::NotFound)
}

/// A connection to a platform's API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionOut {
    /// `con_…`
    pub id: String,
    /// `ga4`, `google_ads`, `gtm`, `meta`, `linkedin` or `tiktok`.
    pub platform: String,
    /// `pending` (at the consent screen), `active`, `expired` (reconnect),
    /// `revoked` or `failed` (the consent was refused).
    pub status: String,
    /// The account it acts as, as the platform named it.
    pub account: Option<String>,
    /// The scopes granted (space-separated).
    pub scopes: String,
    pub started_by: String,
    pub created_at: String,
    pub connected_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// When the access token runs out (refreshed before it does).
    pub access_expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<Connection> for ConnectionOut {
    fn from(c: Connection) -> Self {
        ConnectionOut {
            id: c.id,
            platform: c.platform.key().into(),
            status: c.status.key().into(),
            account: c.account,
            scopes: c.scopes,
            started_by: c.started_by,
            created_at: rfc3339(c.created_at),
            connected_at: c.connected_at.map(rfc3339),
            last_success_at: c.last_success_at.map(rfc3339),
            last_error: c.last_error,
            last_error_at: c.last_error_at.map(rfc3339),
            access_expires_at: c.access_expires_at.map(rfc3339),
            revoked_at: c.revoked_at.map(rfc3339),
        }
    }
}

/// One extra value an app needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorExtraOut {
    pub key: String,
    /// What it is and where the platform shows it.
    pub label: String,
    /// Its value; a secret's is never shown (`"(set)"`).
    pub value: Option<String>,
}

/// A platform Baton can connect to, with the agency's app for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorPlatformOut {
    pub platform: String,
    pub label: String,
    /// The catalogue platforms its connector checks (`meta_page`, `meta_ad_account`).
    pub checks: Vec<String>,
    /// The read-only scopes Baton asks for.
    pub scopes: String,
    /// The redirect URI to register on the platform's app.
    pub redirect_uri: String,
    /// The agency's app client id, when saved.
    pub client_id: Option<String>,
    pub client_secret_set: bool,
    pub extras: Vec<ConnectorExtraOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionList {
    pub items: Vec<ConnectionOut>,
    pub platforms: Vec<ConnectorPlatformOut>,
}

fn platform_out(state: &AppState, p: ConnectorPlatform, app: Option<&App>) -> ConnectorPlatformOut {
    ConnectorPlatformOut {
        platform: p.key().into(),
        label: p.label().into(),
        checks: p
            .request_platforms()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        scopes: p.scopes().into(),
        redirect_uri: state.config.oauth_redirect_uri(),
        client_id: app.map(|a| a.client_id.clone()),
        client_secret_set: app.is_some(),
        extras: p
            .app_extras()
            .iter()
            .map(|(key, label)| ConnectorExtraOut {
                key: key.to_string(),
                label: label.to_string(),
                value: app.and_then(|a| a.extras.get(*key)).map(|v| {
                    if secret_extra(key) {
                        "(set)".to_string()
                    } else {
                        v.clone()
                    }
                }),
            })
            .collect(),
    }
}

#[utoipa::path(get, operation_id = "listConnections", path = "/connections", tag = "connections",
    responses((status = 200, body = ConnectionList), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<ConnectionList>> {
    manage(&caller)?;
    let agency = caller.agency_id();
    let items = connections::list(&state.db, agency, state.now()).await?;
    let apps = connections::apps(&state.db, agency).await?;
    let platforms = ConnectorPlatform::ALL
        .into_iter()
        .map(|p| platform_out(&state, p, apps.iter().find(|a| a.platform == p)))
        .collect();
    Ok(Json(ConnectionList {
        items: items.into_iter().map(Into::into).collect(),
        platforms,
    }))
}

/// The agency's OAuth app for a platform.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorAppIn {
    /// The app's client id (TikTok: its app id).
    pub client_id: String,
    /// The app's client secret; omit to keep the one saved.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The platform's extra values by key (`developer_token`,
    /// `manager_customer_id`, `business_id`, `bc_id`, `account_email`); an
    /// empty string removes one.
    #[serde(default)]
    pub extras: BTreeMap<String, String>,
}

#[utoipa::path(put, operation_id = "putConnectorApp", path = "/connections/{platform}/app", tag = "connections",
    params(("platform" = String, Path, description = "ga4, google_ads, gtm, meta, linkedin or tiktok")),
    request_body = ConnectorAppIn,
    responses((status = 200, body = ConnectorPlatformOut), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn put_app(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<ConnectorAppIn>,
) -> ApiResult<Json<ConnectorPlatformOut>> {
    manage(&caller)?;
    let p = platform(&key)?;
    let app = save_app(&state, caller.cx(&state), p, b).await?;
    Ok(Json(platform_out(&state, p, Some(&app))))
}

/// Checks and seals an app as an admin typed it and saves it (the API and
/// the settings page both save here): the client secret and the secret
/// extras (`secret_extra`) are sealed with the server key for the owner
/// `app_owner(agency, platform)`, so the store never holds them in clear.
/// An unknown extra, an over-long or multi-line value, or an empty secret
/// is refused at its field (`extras.{key}`, `client_secret`).
pub async fn save_app(
    state: &AppState,
    cx: baton_store::Cx<'_>,
    p: ConnectorPlatform,
    b: ConnectorAppIn,
) -> ApiResult<App> {
    let owner = app_owner(cx.agency_id(), p);
    let key_ = &state.config.secret_key;
    let known: Vec<&str> = p.app_extras().iter().map(|(k, _)| *k).collect();
    let mut extras = BTreeMap::new();
    let mut secret_extras = Vec::new();
    for (k, v) in b.extras {
        if !known.contains(&k.as_str()) {
            return Err(ApiError::invalid(
                &format!("extras.{k}"),
                if known.is_empty() {
                    format!("{} takes no extras", p.label())
                } else {
                    format!("unknown; {} takes {}", p.label(), known.join(", "))
                },
            ));
        }
        let v = v.trim().to_string();
        if v.len() > 500 || v.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                &format!("extras.{k}"),
                "must be one line of at most 500 characters",
            ));
        }
        if secret_extra(&k) && !v.is_empty() {
            secret_extras.push(k.clone());
            extras.insert(k, sealed::seal(key_, &owner, &v));
        } else {
            extras.insert(k, v);
        }
    }
    let secret = match b.client_secret.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            return Err(ApiError::invalid(
                "client_secret",
                "must not be empty; omit it to keep the saved one",
            ))
        }
        Some(s) if s.len() > 500 => {
            return Err(ApiError::invalid(
                "client_secret",
                "is longer than 500 characters",
            ))
        }
        Some(s) => Some(sealed::seal(key_, &owner, s)),
    };
    let app = connections::save_app(
        cx,
        p,
        AppInput {
            client_id: b.client_id,
            client_secret_sealed: secret,
            extras,
            secret_extras,
        },
    )
    .await?;
    Ok(app)
}

/// A consent to open in the admin's browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    /// The pending connection (`con_…`).
    pub connection_id: String,
    /// Open this in the browser of the account to connect; the platform
    /// sends it back to `redirect_uri`.
    pub authorization_url: String,
    pub redirect_uri: String,
    /// The consent must come back before this time.
    pub expires_at: String,
}

#[utoipa::path(post, operation_id = "startConnection", path = "/connections/{platform}/start", tag = "connections",
    params(("platform" = String, Path, description = "ga4, google_ads, gtm, meta, linkedin or tiktok")),
    responses((status = 201, body = ConsentOut), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<ConsentOut>)> {
    manage(&caller)?;
    let p = platform(&key)?;
    let out = start_consent(&state, caller.cx(&state), p).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Records a pending connection and builds its consent URL (the API and
/// the settings page both start here).
pub async fn start_consent(
    state: &AppState,
    cx: baton_store::Cx<'_>,
    p: ConnectorPlatform,
) -> ApiResult<ConsentOut> {
    let agency = cx.agency_id();
    let app = connections::app(&state.db, agency, p)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict(format!(
            "save the agency's {} app (client id and secret) first: PUT /api/v1/connections/{}/app",
            p.label(),
            p.key()
        ))
        })?;
    let (verifier, challenge) = oauth::pkce();
    let state_token = baton_core::secret::random_token();
    let id = ConnectionId::new(cx.now);
    let until = cx.now + oauth::CONSENT_WINDOW_MS;
    connections::start(
        cx,
        p,
        Start {
            id: id.as_str().to_string(),
            state_hash: baton_core::secret::hash_token(&state_token),
            verifier_sealed: sealed::seal(&state.config.secret_key, id.as_str(), &verifier),
            pending_until: until,
        },
    )
    .await?;
    let redirect_uri = state.config.oauth_redirect_uri();
    let url = oauth::authorization_url(
        p,
        state.config.connectors.of(p),
        &app.client_id,
        &redirect_uri,
        &state_token,
        &challenge,
    );
    Ok(ConsentOut {
        connection_id: id.into(),
        authorization_url: url,
        redirect_uri,
        expires_at: rfc3339(until),
    })
}

#[utoipa::path(delete, operation_id = "deleteConnection", path = "/connections/{id}", tag = "connections",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiPath(id): ApiPath<ConnectionId>,
) -> ApiResult<StatusCode> {
    manage(&caller)?;
    connections::revoke(caller.cx(&state), id.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}
