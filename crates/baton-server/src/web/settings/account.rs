//! `/account`: the member's profile, password change (which signs out every
//! other session), their API tokens (create with a scope they may hold,
//! secret shown once; revoke) and their calendar feed URL (create or
//! replace, shown once; revoke).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_core::policy::{self, Action, Subject};
use baton_core::types::{MemberId, TokenId};
use baton_store::calendar_feeds::FeedScope;
use baton_store::members;
use baton_store::tokens::{self, Scope};
use baton_store::StoreError;
use serde::Deserialize;

use crate::auth::password;
use crate::auth::session::WebSession;
use crate::state::AppState;
use crate::web::csrf_form::{CsrfForm, NoFields};
use crate::web::error_page::too_many_attempts;
use crate::web::feeds::{self, FeedCard};
use crate::web::form::{ClientMeta, QueryData, WebPath};
use crate::web::layout::{agency_of, render, see_other, Layout, Opt};
use crate::web::{refusal, timefmt, WebError};

/// A token line.
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: &'static str,
    pub created: String,
    /// `None`: never used.
    pub last_used: Option<timefmt::Stamp>,
    pub revoked: Option<String>,
}

/// The fields of these forms as the page labels them.
const LABELS: refusal::Labels = &[("password", "New password")];

/// A refused form's status and sentence, or the error page.
fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    refusal::present(e, LABELS)
}

/// The new-token form as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
    pub scope: String,
    /// The refusal shown with the form (never read from it).
    #[serde(skip)]
    pub error: Option<String>,
}

/// The change-password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// A token secret just created, shown once.
pub struct NewSecret {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    roles: String,
    is_admin: bool,
    password_error: Option<String>,
    tokens: Vec<TokenRow>,
    token_form: TokenForm,
    scopes: Vec<Opt>,
    new_secret: Option<NewSecret>,
    feed: FeedCard,
}

#[derive(Default)]
struct Extras {
    password_error: Option<String>,
    token_form: Option<TokenForm>,
    new_secret: Option<NewSecret>,
    /// A calendar feed URL just made, shown once.
    new_feed_url: Option<String>,
}

async fn render_account(
    state: &AppState,
    session: &WebSession,
    notice: Option<&str>,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let agency = agency_of(state, session).await?;
    let tz = timefmt::zone(&agency.timezone);
    let now = state.now();
    let me = session.member();
    let tokens = tokens::list(&state.db, session.agency_id(), Some(&me.id))
        .await?
        .into_iter()
        .map(|t| TokenRow {
            created: timefmt::local_date(t.created_at, &tz),
            last_used: t.last_used_at.map(|at| timefmt::stamp(at, now, &tz)),
            revoked: t.revoked_at.map(|at| timefmt::local_date(at, &tz)),
            id: t.id.into(),
            name: t.name,
            scope: t.scope.key(),
        })
        .collect();
    let token_form = extras.token_form.unwrap_or_else(|| TokenForm {
        scope: "read".into(),
        ..TokenForm::default()
    });
    // The scopes the policy lets this member hold.
    let holder = crate::authz::member(me);
    let allowed: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|s| policy::can(&holder, Action::of_scope(*s), Subject::Agency).is_ok())
        .collect();
    let scopes = allowed
        .into_iter()
        .map(|s| {
            let label = match s {
                Scope::Read => "Read: look, change nothing",
                Scope::Write => "Write: read and change clients and events",
                Scope::Admin => "Admin: everything, including team and settings",
            };
            Opt::new(s.key(), label, &token_form.scope)
        })
        .collect();
    let feed = FeedCard::load(
        state,
        session,
        &FeedScope::Member(me.id.clone()),
        &tz,
        extras.new_feed_url,
    )
    .await?;
    let page = AccountPage {
        layout: Layout::app(&agency, session, "Account", "account").with_notice(notice),
        name: me.name.clone(),
        email: me.email.clone(),
        roles: me
            .roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", "),
        is_admin: me.is_admin,
        password_error: extras.password_error,
        tokens,
        token_form,
        scopes,
        new_secret: extras.new_secret,
        feed,
    };
    Ok(render(status, &page))
}

/// `GET /account`
pub async fn page(
    State(state): State<AppState>,
    session: WebSession,
    q: QueryData,
) -> Result<Response, WebError> {
    render_account(
        &state,
        &session,
        q.get("notice"),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /account/password`: needs the current password (throttled like a
/// login); keeps this session and ends every other one.
pub async fn change_password(
    State(state): State<AppState>,
    session: WebSession,
    meta: ClientMeta,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let me = session.member().clone();
    let now = state.now();
    let refuse = |status: StatusCode, message: String| {
        let extras = Extras {
            password_error: Some(message),
            ..Extras::default()
        };
        render_account(&state, &session, None, extras, status)
    };
    // A signed-in member is real, but a session left open on a shared
    // computer is not the member: password checks count like logins from
    // an unknown browser.
    match crate::auth::throttle::login_gate(&state.db, &me.email, &meta.ip, None, now).await? {
        crate::auth::throttle::Gate::Blocked(secs) => {
            return refuse(StatusCode::TOO_MANY_REQUESTS, too_many_attempts(secs)).await;
        }
        crate::auth::throttle::Gate::Slow(wait) => tokio::time::sleep(wait).await,
        crate::auth::throttle::Gate::Open => {}
    }
    let stored = members::password_hash(&state.db, session.agency_id(), &me.id).await?;
    if !password::verify_async(form.current_password, stored).await {
        crate::auth::throttle::login_failed(&state.db, &me.email, &meta.ip, None, now).await?;
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Current password is incorrect.".into(),
        )
        .await;
    }
    let new = form.new_password;
    if let Err(e) = baton_core::validate::password(&new) {
        let (status, message) = refusal(StoreError::Core(e))?;
        return refuse(status, message).await;
    }
    if new != form.confirm_password {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new password and its confirmation do not match.".into(),
        )
        .await;
    }
    let hash = password::hash_async(new).await;
    members::set_password(
        session.cx(&state).at(now),
        &MemberId::parse(&me.id).map_err(StoreError::from)?,
        &hash,
        Some(&session.session.token_hash),
    )
    .await?;
    Ok(see_other("/account?notice=password_changed"))
}

/// `POST /account/tokens`: creates a token for this member and shows its
/// secret once.
pub async fn create_token(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(mut typed): CsrfForm<TokenForm>,
) -> Result<Response, WebError> {
    let invalid = |m: &str| Err((StatusCode::UNPROCESSABLE_ENTITY, m.to_string()));
    let result = match Scope::parse(typed.scope.trim()) {
        None => invalid("Scope: choose read, write or admin."),
        // A token never gives more than its member may do (the policy).
        Some(scope)
            if policy::can(
                &crate::authz::member(session.member()),
                Action::of_scope(scope),
                Subject::Agency,
            )
            .is_err() =>
        {
            invalid("Scope: only admins can hold admin-scoped tokens.")
        }
        Some(scope) => {
            let created =
                tokens::create(session.cx(&state), session.member(), &typed.name, scope).await;
            match created {
                Ok(made) => Ok(made),
                Err(e) => Err(refusal(e)?),
            }
        }
    };
    match result {
        Ok((t, secret)) => {
            let extras = Extras {
                new_secret: Some(NewSecret {
                    name: t.name,
                    secret,
                }),
                ..Extras::default()
            };
            render_account(&state, &session, None, extras, StatusCode::OK).await
        }
        Err((status, message)) => {
            typed.error = Some(message);
            let extras = Extras {
                token_form: Some(typed),
                ..Extras::default()
            };
            render_account(&state, &session, None, extras, status).await
        }
    }
}

/// `POST /account/tokens/{id}/revoke`: revokes one of this member's tokens
/// (anyone else's is as invisible as another agency's: 404).
pub async fn revoke_token(
    State(state): State<AppState>,
    session: WebSession,
    WebPath(id): WebPath<TokenId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let t = tokens::get(&state.db, session.agency_id(), &id).await?;
    if t.member_id != session.member().id {
        return Err(WebError::NotFound);
    }
    tokens::revoke(session.cx(&state), &id).await?;
    Ok(see_other("/account?notice=token_revoked"))
}

/// `POST /account/calendar-feed`: a new URL of this member's calendar feed
/// (the previous one stops working), shown once.
pub async fn create_feed(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let scope = FeedScope::Member(session.member().id.clone());
    let url = feeds::create_url(&state, &session, &scope).await?;
    let extras = Extras {
        new_feed_url: Some(url),
        ..Extras::default()
    };
    render_account(&state, &session, None, extras, StatusCode::OK).await
}

/// `POST /account/calendar-feed/revoke`: this member's feed URL stops
/// working.
pub async fn revoke_feed(
    State(state): State<AppState>,
    session: WebSession,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    let scope = FeedScope::Member(session.member().id.clone());
    let notice = feeds::revoke_url(&state, &session, &scope).await?;
    Ok(see_other(&format!(
        "/account?notice={notice}#calendar-feed"
    )))
}
