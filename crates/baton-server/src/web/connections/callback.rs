//! `GET /oauth/callback?state=…&code=…` (or `&error=…`): the platform sends
//! the admin's browser back here after consent. The `state` (256 bits,
//! stored hashed, single use, 15 minutes) names the pending connection and
//! is the only credential the request needs; the code is exchanged with the
//! PKCE verifier sealed when the consent started. The page says what
//! happened; nothing of the query (code, state) is logged.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baton_core::types::AgencyId;
use baton_store::connections::{self, Tokens};
use baton_store::{Actor, Cx};
use serde::Deserialize;

use crate::connectors::checker::app_owner;
use crate::connectors::oauth::{self, OpenedApp};
use crate::sealed;
use crate::state::AppState;
use crate::web::assets::css_href;
use crate::web::layout::html_response;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code: Option<String>,
    /// TikTok's name for the code.
    #[serde(default)]
    auth_code: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "oauth_done.html")]
struct Done {
    css_href: String,
    title: String,
    message: String,
}

fn done(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Response {
    let page = Done {
        css_href: css_href(),
        title: title.into(),
        message: message.into(),
    };
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering the consent page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn page(State(state): State<AppState>, Query(q): Query<CallbackQuery>) -> Response {
    let now = state.now();
    let Some(st) = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 200)
    else {
        return done(
            StatusCode::BAD_REQUEST,
            "This is not a connection in progress",
            "The address has no state. Start the connection again from Settings → Connections.",
        );
    };
    let hash = baton_core::secret::hash_token(st);
    let pending = match connections::pending_by_state(&state.db, &hash, now).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return done(
                StatusCode::NOT_FOUND,
                "This connection link has expired or was already used",
                "Start the connection again from Settings → Connections; a consent must come back within 15 minutes.",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a pending connection failed");
            return done(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Try again in a moment.");
        }
    };
    let Ok(agency) = AgencyId::parse(&pending.agency_id) else {
        return done(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Try again in a moment.",
        );
    };
    let label = pending.platform.label();
    let actor = Actor::system(&format!("{label} consent"));
    let cx = Cx::new(&state.db, &agency, &actor, now);
    match complete(&state, &pending, &q).await {
        Ok((account, scopes, tokens)) => {
            match connections::connect(cx, &pending.id, account.as_deref(), scopes.as_deref(), tokens).await {
                Ok(c) => done(
                    StatusCode::OK,
                    format!("{label} is connected"),
                    match &c.account {
                        Some(a) => format!("Baton checks access through {label} as {a}, read-only. Requests waiting for a check are being checked now."),
                        None => format!("Baton checks access through {label}, read-only. Requests waiting for a check are being checked now."),
                    },
                ),
                Err(e) => {
                    tracing::warn!(error = %e, connection = %pending.id, "completing a connection failed");
                    done(StatusCode::CONFLICT, "This connection link was already used", "Start the connection again from Settings → Connections.")
                }
            }
        }
        Err(why) => {
            if let Err(e) = connections::fail_pending(cx, &pending.id, &why).await {
                tracing::warn!(error = %e, connection = %pending.id, "recording a failed consent failed");
            }
            done(
                StatusCode::BAD_REQUEST,
                format!("{label} was not connected"),
                format!("{why}. Start the connection again from Settings → Connections."),
            )
        }
    }
}

/// Exchanges the code; `Err` is a sentence for the admin.
async fn complete(
    state: &AppState,
    pending: &connections::Connection,
    q: &CallbackQuery,
) -> Result<(Option<String>, Option<String>, Tokens), String> {
    let platform = pending.platform;
    let label = platform.label();
    if let Some(err) = &q.error {
        let desc = q.error_description.as_deref().unwrap_or("");
        return Err(if err == "access_denied" {
            format!("The consent was declined at {label}")
        } else {
            format!("{label} answered {err} {desc}").trim().to_string()
        });
    }
    let code = q
        .code
        .as_deref()
        .or(q.auth_code.as_deref())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("{label} sent no authorization code"))?;
    let key = &state.config.secret_key;
    let verifier = pending
        .verifier_sealed
        .as_deref()
        .and_then(|s| sealed::open(key, &pending.id, s))
        .ok_or("The consent's verifier could not be opened with this server's key")?;
    let app = connections::app(&state.db, &pending.agency_id, platform)
        .await
        .map_err(|_| "The agency's app could not be read".to_string())?
        .ok_or_else(|| format!("The agency's {label} app is no longer set up"))?;
    let secret = sealed::open(
        key,
        &app_owner(&pending.agency_id, platform),
        &app.client_secret_sealed,
    )
    .ok_or_else(|| {
        format!("The {label} app's secret cannot be opened with this server's key; save it again")
    })?;
    let opened = OpenedApp {
        client_id: app.client_id.clone(),
        client_secret: secret,
    };
    let urls = state.config.connectors.of(platform);
    let set = oauth::exchange_code(
        &state.connector_http,
        platform,
        urls,
        &opened,
        code,
        &verifier,
        &state.config.oauth_redirect_uri(),
    )
    .await
    .map_err(|e| format!("{label}: {e}"))?;
    let account = match set.account.clone() {
        Some(a) => Some(a),
        None => crate::connectors::whoami(state, platform, &set.access_token).await,
    };
    let now = state.now();
    let tokens = Tokens {
        access_sealed: sealed::seal(key, &pending.id, &set.access_token),
        access_expires_at: set.expires_in.map(|s| now + s * 1_000),
        refresh_sealed: set
            .refresh_token
            .as_deref()
            .map(|t| sealed::seal(key, &pending.id, t)),
    };
    Ok((account, set.scope.clone(), tokens))
}
