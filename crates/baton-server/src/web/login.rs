//! Logging in and out. The login form is CSRF-protected by a signed
//! double-submit cookie (no session exists yet); failures are throttled per
//! (account, address) and per address, slowed but never locked on a browser
//! that signed in before (`auth::throttle`), and unknown emails, wrong
//! passwords and accounts that cannot log in get the same answer in the same
//! time.

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use baton_core::secret;
use baton_store::members::{self, Member};
use baton_store::{sessions, Cx};
use serde::Deserialize;

use super::csrf_form::{CsrfForm, NoFields};
use super::error_page::too_many_attempts;
use super::form::{local_path, ClientMeta, PlainForm, QueryData};
use super::layout::{render, see_other, Layout};
use super::WebError;
use crate::auth::session::{cookie, login_csrf_ok, login_csrf_pair, set_cookie, WebSession};
use crate::auth::{password, throttle};
use crate::state::AppState;

/// How long a login form stays usable.
const LOGIN_FORM_SECS: i64 = 12 * 3600;

/// The one message for every failed login.
pub const LOGIN_FAILED: &str = "Email or password is incorrect.";

/// The sign-in form: its double-submit token, where to go after, and the
/// credentials.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf: String,
    next: String,
    email: String,
    password: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

/// `GET /login?next=…`: the form, with a fresh CSRF pair.
pub async fn page(State(state): State<AppState>, q: QueryData) -> Response {
    let (nonce, mac) = login_csrf_pair(&state.config.secret_key);
    let page = LoginPage {
        layout: Layout::public("Sign in"),
        csrf: mac,
        next: local_path(q.get("next")),
        email: String::new(),
        error: None,
    };
    let mut resp = render(StatusCode::OK, &page);
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state.config,
            state.config.login_cookie(),
            &nonce,
            LOGIN_FORM_SECS,
        ),
    );
    resp
}

/// `POST /login`: checks the form, the throttle and the password, then starts
/// a session and goes to `next` (a local path) or the dashboard.
pub async fn submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: axum::http::HeaderMap,
    PlainForm(form): PlainForm<LoginForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    let next = local_path(Some(&form.next));
    let again = |status: StatusCode, csrf: String, error: &str| {
        render(
            status,
            &LoginPage {
                layout: Layout::public("Sign in"),
                csrf,
                next: next.clone(),
                email: form.email.trim().to_string(),
                error: Some(error.to_string()),
            },
        )
    };
    let nonce = cookie(&headers, state.config.login_cookie());
    if !login_csrf_ok(&state.config.secret_key, nonce, &form.csrf) {
        // The form expired (or was forged): hand out a fresh one.
        let (nonce, mac) = login_csrf_pair(&state.config.secret_key);
        let mut resp = again(
            StatusCode::FORBIDDEN,
            mac,
            "This sign-in form expired. Please try again.",
        );
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                &state.config,
                state.config.login_cookie(),
                &nonce,
                LOGIN_FORM_SECS,
            ),
        );
        return resp;
    }
    let csrf = form.csrf.clone();
    let now = state.now();
    let device_cookie = cookie(&headers, state.config.device_cookie());
    let device = throttle::device_of(&state.config.secret_key, device_cookie, &email);
    match throttle::login_gate(&state.db, &email, &meta.ip, device, now).await {
        Ok(throttle::Gate::Open) => {}
        Ok(throttle::Gate::Slow(wait)) => tokio::time::sleep(wait).await,
        Ok(throttle::Gate::Blocked(secs)) => {
            let mut resp = again(
                StatusCode::TOO_MANY_REQUESTS,
                csrf,
                &too_many_attempts(secs),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            return resp;
        }
        Err(e) => return axum::response::IntoResponse::into_response(WebError::from(e)),
    }
    let found = match members::find_login(&state.db, &email).await {
        Ok(found) => found,
        Err(e) => return axum::response::IntoResponse::into_response(WebError::from(e)),
    };
    // Only an active member with a password can log in; everyone else is
    // checked against the dummy hash so the answer takes as long.
    let (member, stored) = match found {
        Some((m, hash)) if m.active => (Some(m), hash),
        _ => (None, None),
    };
    let ok = password::verify_async(form.password.clone(), stored).await;
    let member = match (ok, member) {
        (true, Some(m)) => m,
        _ => {
            if let Err(e) = throttle::login_failed(&state.db, &email, &meta.ip, device, now).await {
                tracing::warn!(error = %e, "could not count a failed login");
            }
            return again(StatusCode::UNAUTHORIZED, csrf, LOGIN_FAILED);
        }
    };
    if let Err(e) = throttle::login_succeeded(&state.db, &email, &meta.ip, device).await {
        tracing::warn!(error = %e, "could not clear login failures");
    }
    match start_session(&state, &member, &meta, &next).await {
        Ok(mut resp) => {
            // This browser is now known for the account: a later run of
            // wrong passwords from anywhere cannot lock it out.
            let value = match (device, device_cookie) {
                (Some(_), Some(known)) => known.to_string(),
                _ => throttle::device_cookie(&state.config.secret_key, &email),
            };
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    &state.config,
                    state.config.device_cookie(),
                    &value,
                    throttle::DEVICE_COOKIE_SECS,
                ),
            );
            resp
        }
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

/// Creates a session for `member` and answers with a 303 to `next` that sets
/// the session cookie (and drops the login form's cookie).
pub async fn start_session(
    state: &AppState,
    member: &Member,
    meta: &ClientMeta,
    next: &str,
) -> Result<Response, WebError> {
    let token = secret::random_token();
    let csrf = secret::random_token();
    let actor =
        crate::auth::member_actor("member", member, meta.ip.clone(), meta.user_agent.clone());
    let ttl = state.config.session_ttl_ms;
    sessions::create(
        Cx::new(&state.db, &member.agency_id, &actor, state.now()),
        member,
        &secret::hash_token(&token),
        &csrf,
        ttl,
    )
    .await?;
    let mut resp = see_other(next);
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &state.config,
            state.config.session_cookie(),
            &token,
            ttl / 1000,
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&state.config, state.config.login_cookie(), "", 0),
    );
    Ok(resp)
}

/// `POST /logout`: ends this session and clears its cookie.
pub async fn logout(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    sessions::delete(session.cx(&state), &session.session).await?;
    let mut resp = see_other("/login");
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, state.config.session_cookie(), "", 0),
    );
    Ok(resp)
}
