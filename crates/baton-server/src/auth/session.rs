//! Browser sessions for the web app. The session cookie holds a random token
//! (only its hash is stored). Every unsafe form carries the session's CSRF
//! token; the login form, before any session exists, uses a double-submit
//! cookie whose value is HMAC-signed with the server's secret key. Requests
//! whose `Origin` is not ours are refused outright.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use baton_core::secret;
use baton_store::sessions::{self, Session};
use baton_store::{Actor, Cx};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::ServerConfig;
use crate::state::AppState;

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with Baton's attributes (HttpOnly, SameSite=Lax,
/// Path=/, Secure when configured). `max_age` 0 deletes the cookie.
pub fn set_cookie(
    config: &ServerConfig,
    name: &str,
    value: &str,
    max_age_secs: i64,
) -> HeaderValue {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie value is token characters")
}

/// A logged-in member of the web app, with their session.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub session: Session,
    pub actor: Actor,
}

impl WebSession {
    pub fn member(&self) -> &baton_store::members::Member {
        &self.session.member
    }
    pub fn agency_id(&self) -> &str {
        &self.session.member.agency_id
    }
    /// The store's command context for this request: the member's agency,
    /// the member as the actor, the server's clock now.
    pub fn cx<'a>(&'a self, state: &'a AppState) -> Cx<'a> {
        Cx::new(
            &state.db,
            &self.session.member.agency_id,
            &self.actor,
            state.now(),
        )
    }
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
    /// Whether the policy lets this member do `action` on `subject`; the
    /// refusal's sentence is the one shown to them.
    pub fn may(
        &self,
        action: baton_core::policy::Action,
        subject: baton_core::policy::Subject<'_>,
    ) -> Result<(), baton_core::policy::Denied> {
        baton_core::policy::can(&crate::authz::member(self.member()), action, subject)
    }

    /// Whether the member runs the agency's settings area `area` (the
    /// pages show its edit controls only then).
    pub fn administers(&self, area: baton_core::policy::Area) -> bool {
        use baton_core::policy::{Action, Subject};
        self.may(Action::Administer, Subject::Setting(area)).is_ok()
    }

    /// Whether a submitted form's CSRF token is this session's.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        secret::constant_time_eq(submitted, &self.session.csrf_token)
    }
}

/// Why a page needing a session could not have one.
pub enum NoSession {
    /// Send the browser to the login page, then back to `next`.
    Login {
        next: String,
    },
    Failed,
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::Login { next } => {
                let next = if next.starts_with('/') && !next.starts_with("//") {
                    next
                } else {
                    "/".into()
                };
                Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
            }
            NoSession::Failed => {
                (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
            }
        }
    }
}

/// Minimal percent-encoding for a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for WebSession {
    type Rejection = NoSession;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(s) = parts.extensions.get::<WebSession>() {
            return Ok(s.clone());
        }
        // After login the browser comes back with GET, so only a GET may be
        // returned to; a form post without a session returns to the dashboard.
        let next = match parts.method {
            Method::GET => parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            _ => "/".into(),
        };
        let Some(token) = cookie(&parts.headers, state.config.session_cookie()) else {
            return Err(NoSession::Login { next });
        };
        let found = sessions::find(&state.db, &secret::hash_token(token), state.now())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "session lookup failed");
                NoSession::Failed
            })?;
        let Some(session) = found else {
            return Err(NoSession::Login { next });
        };
        let actor = crate::auth::member_actor(
            "member",
            &session.member,
            crate::auth::client_ip(&parts.extensions),
            crate::auth::user_agent(&parts.headers),
        );
        let ws = WebSession { session, actor };
        parts.extensions.insert(ws.clone());
        Ok(ws)
    }
}

/// The login form's CSRF pair: a random nonce for the cookie and its HMAC for
/// the form field.
pub fn login_csrf_pair(secret_key: &str) -> (String, String) {
    let nonce = secret::random_token();
    let mac = login_csrf_mac(secret_key, &nonce);
    (nonce, mac)
}

pub fn login_csrf_mac(secret_key: &str, nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("any key length");
    mac.update(b"baton-login-csrf:");
    mac.update(nonce.as_bytes());
    secret::hex(&mac.finalize().into_bytes())
}

/// Whether a login form's field matches the nonce in its cookie.
pub fn login_csrf_ok(secret_key: &str, cookie_nonce: Option<&str>, field: &str) -> bool {
    match cookie_nonce {
        Some(n) if !n.is_empty() => secret::constant_time_eq(&login_csrf_mac(secret_key, n), field),
        _ => false,
    }
}

/// Middleware for the web app: refuses unsafe requests whose `Origin` (or,
/// without one, `Referer`) names another site. The per-form CSRF token is the
/// second line of defence.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let ours = state.config.public_origin();
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let referer = req
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok());
        // Compared whole (scheme, host and port), never as a prefix:
        // `http://host:port.evil.example` is another site.
        // Pages with `Referrer-Policy: no-referrer` (an invite) make the
        // browser send `Origin: null` on their own forms; fetch metadata,
        // where the browser sends it, still says the post came from our own
        // origin.
        let fetch_site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        // A browser without fetch metadata (older Safari) gets in on an
        // invite only, whose form carries its CSRF token and whose path is
        // the capability, as the client's link does.
        let capability_page = req.uri().path().starts_with("/invite/");
        let foreign = match (origin, referer.map(origin_of)) {
            (Some("null"), _) => match fetch_site {
                Some("same-origin") => false,
                None => !capability_page,
                Some(_) => true,
            },
            (Some(o), _) => o != ours && !same_host(o, &req),
            (None, Some(Some(r))) => r != ours && !same_host(r, &req),
            (None, Some(None)) => true,
            (None, None) => false,
        };
        if foreign {
            return (StatusCode::FORBIDDEN, "cross-site form submission refused").into_response();
        }
    }
    next.run(req).await
}

/// Origin equal to `scheme://Host` of the request itself: lets a server reached
/// at another address than its public URL (local runs) accept its own forms.
fn same_host(origin: &str, req: &Request) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

/// The origin (`scheme://host[:port]`) of an absolute URL; `None` for
/// anything else.
fn origin_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if end == 0 {
        return None;
    }
    Some(&url[..url.len() - rest.len() + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls() {
        for (url, origin) in [
            ("http://h:8080/clients", Some("http://h:8080")),
            ("https://h", Some("https://h")),
            (
                "http://h:8080.evil.example/x",
                Some("http://h:8080.evil.example"),
            ),
            ("http://h:8080?x=1", Some("http://h:8080")),
            ("ftp://h/", None),
            ("http:///x", None),
            ("/relative", None),
        ] {
            assert_eq!(origin_of(url), origin, "{url}");
        }
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; baton_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, "baton_session"), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn login_csrf_binds_field_to_cookie() {
        let (nonce, field) = login_csrf_pair("k");
        assert!(login_csrf_ok("k", Some(&nonce), &field));
        assert!(!login_csrf_ok("other key", Some(&nonce), &field));
        assert!(!login_csrf_ok("k", Some("other nonce"), &field));
        assert!(!login_csrf_ok("k", None, &field));
    }

    #[test]
    fn urlencode_keeps_paths() {
        assert_eq!(
            urlencode("/clients/cli_1?x=a b"),
            "/clients/cli_1%3Fx%3Da%20b"
        );
    }
}
