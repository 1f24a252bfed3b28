//! `/invite/{token}`: a new member sets their password through their one-time
//! link and is logged in. A used, replaced, expired or unknown link is a 404
//! that says so. The form uses the login form's signed-cookie CSRF check,
//! since no session exists yet.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use baton_store::members::Member;
use baton_store::{agencies, invites, StoreError};
use serde::Deserialize;

use super::form::{ClientMeta, PlainForm};
use super::layout::{render, Layout};
use super::login::start_session;
use super::{refusal, WebError};
use crate::auth::password;
use crate::auth::session::{cookie, login_csrf_ok, login_csrf_pair, set_cookie};
use crate::state::AppState;

const FORM_SECS: i64 = 12 * 3600;

/// The set-your-password form: its double-submit token and the password
/// twice.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteForm {
    csrf: String,
    password: String,
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    layout: Layout,
    agency_name: String,
    name: String,
    email: String,
    action: String,
    csrf: String,
    error: Option<String>,
}

/// The member a live invite token is for (inactive members' links are dead).
async fn invited(state: &AppState, token: &str) -> Result<Member, WebError> {
    match invites::find(&state.db, token, state.now()).await? {
        Some((_, m)) if m.active && !m.has_password => Ok(m),
        _ => Err(WebError::InviteInvalid),
    }
}

async fn render_invite(
    state: &AppState,
    token: &str,
    member: &Member,
    csrf: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agencies::get(&state.db, &member.agency_id).await?;
    let page = InvitePage {
        layout: Layout::branded(&agency, format!("Join {}", agency.name)),
        agency_name: agency.name.clone(),
        name: member.name.clone(),
        email: member.email.clone(),
        action: format!("/invite/{token}"),
        csrf,
        error,
    };
    Ok(render(status, &page))
}

/// `GET /invite/{token}`
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let member = invited(&state, &token).await?;
    let (nonce, mac) = login_csrf_pair(&state.config.secret_key);
    let mut resp = render_invite(&state, &token, &member, mac, None, StatusCode::OK).await?;
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state.config,
            state.config.login_cookie(),
            &nonce,
            FORM_SECS,
        ),
    );
    Ok(resp)
}

/// `POST /invite/{token}`: sets the password, spends the link, logs in.
pub async fn accept(
    State(state): State<AppState>,
    Path(token): Path<String>,
    meta: ClientMeta,
    headers: HeaderMap,
    PlainForm(form): PlainForm<InviteForm>,
) -> Result<Response, WebError> {
    let member = invited(&state, &token).await?;
    let nonce = cookie(&headers, state.config.login_cookie());
    if !login_csrf_ok(&state.config.secret_key, nonce, &form.csrf) {
        let (nonce, mac) = login_csrf_pair(&state.config.secret_key);
        let mut resp = render_invite(
            &state,
            &token,
            &member,
            mac,
            Some("This form expired. Please enter your password again.".into()),
            StatusCode::FORBIDDEN,
        )
        .await?;
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                &state.config,
                state.config.login_cookie(),
                &nonce,
                FORM_SECS,
            ),
        );
        return Ok(resp);
    }
    let new = form.password;
    let problem = if let Err(e) = baton_core::validate::password(&new) {
        Some(refusal::present(StoreError::Core(e), refusal::COMMON)?)
    } else if new != form.password_confirm {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords do not match.".to_string(),
        ))
    } else {
        None
    };
    if let Some((status, message)) = problem {
        return render_invite(&state, &token, &member, form.csrf, Some(message), status).await;
    }
    let hash = password::hash_async(new).await;
    let actor =
        crate::auth::member_actor("member", &member, meta.ip.clone(), meta.user_agent.clone());
    let member = match invites::accept(&state.db, &token, &actor, state.now(), &hash).await {
        Ok(m) => m,
        // Spent by a concurrent request between our check and now.
        Err(StoreError::NotFound) => return Err(WebError::InviteInvalid),
        Err(e) => return Err(e.into()),
    };
    start_session(&state, &member, &meta, "/").await
}

/// Middleware: an invite's pages, and the redirects to them, carry
/// `Referrer-Policy: no-referrer` like every capability page, so the token
/// in the URL never leaves in a `Referer`.
pub async fn no_referrer(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let invite = req.uri().path().starts_with("/invite/");
    let mut resp = next.run(req).await;
    if invite {
        resp.headers_mut().insert(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        );
    }
    resp
}
