//! Post/Redirect/Get for every web form, and single-use form nonces.
//!
//! **Redirect.** The answer to a form's POST is never a page the browser
//! would post again on reload or Back. When a handler answers a POST with a
//! page (a form shown again with its refusal, a new link's URL shown once),
//! [`layer`] keeps that page as a *flash*, sealed, and answers `303` to the
//! page the form was on (or [`ShowAt`]) with `?flash=ID`; that GET shows the
//! kept page once. Redirects from handlers pass through unchanged.
//!
//! **Sealing.** A flash may hold a secret shown once, so it is sealed
//! (ChaCha20-Poly1305) with a key derived from the server key and the
//! browser's own secret: its session cookie, its login-form cookie, or the
//! capability token in the URL (`/o/…`, `/a/…`, `/invite/…`). The database
//! never holds the page readable, and nobody else's browser can open it.
//!
//! **Nonces.** A create form carries `nonce` (a fresh one per rendered page,
//! [`super::layout::Layout::nonce`]). Its POST runs with a
//! [`baton_store::claims::Claim`] on (browser, path, nonce), taken inside the
//! write's own transaction: a second submit of the same form (a double
//! click, Back and submit, two tabs) writes nothing and is sent where the
//! first one's answer was shown, also when both arrive at once.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use baton_core::secret;
use baton_store::claims::{self, Claim};
use baton_store::flashes::{self, Flash};
use hmac::{Hmac, Mac};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use sha2::{Digest, Sha256};

use super::layout::html_response;
use super::WebError;
use crate::state::AppState;

/// Where the page a form's answer shows is seen after the redirect: a path on
/// this site, optionally with a `#fragment` (the field or card to scroll to).
/// Without it, the page the form was on (the `Referer`) is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowAt(pub String);

/// Marks `resp` to be shown at `path` after the redirect.
pub fn show_at(mut resp: Response, path: impl Into<String>) -> Response {
    resp.extensions_mut().insert(ShowAt(path.into()));
    resp
}

/// How long a second submit waits for the first one's answer.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

/// Whose secret seals a flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnerKind {
    /// The session cookie of a logged-in member.
    Session,
    /// The login form's cookie (no session yet).
    Login,
    /// The capability token in the path (`/o/…`, `/a/…`, `/invite/…`).
    Link,
}

impl OwnerKind {
    fn key(self) -> &'static str {
        match self {
            OwnerKind::Session => "session",
            OwnerKind::Login => "login",
            OwnerKind::Link => "link",
        }
    }

    fn parse(s: &str) -> Option<OwnerKind> {
        [OwnerKind::Session, OwnerKind::Login, OwnerKind::Link]
            .into_iter()
            .find(|k| k.key() == s)
    }
}

/// The capability token a path carries, if any.
fn path_token(path: &str) -> Option<&str> {
    ["/o/", "/a/", "/invite/"].iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?;
        let token = rest.split('/').next().unwrap_or("");
        (!token.is_empty()).then_some(token)
    })
}

/// The main page of the capability link a path is under: where a link's
/// form answer is shown when the handler did not say (link pages send no
/// `Referer`).
fn link_home(path: &str) -> Option<String> {
    let token = path_token(path)?;
    Some(if path.starts_with("/o/") {
        format!("/o/{token}/steps")
    } else if path.starts_with("/a/") {
        format!("/a/{token}")
    } else {
        format!("/invite/{token}")
    })
}

/// The value of cookie `name` that the browser holds after `resp`: a cookie
/// the response sets (non-empty) wins over the one the request sent.
fn cookie_after(req: &HeaderMap, resp: Option<&HeaderMap>, name: &str) -> Option<String> {
    if let Some(h) = resp {
        for v in h.get_all(header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            if let Some((k, rest)) = v.split_once('=') {
                if k.trim() == name {
                    let value = rest.split(';').next().unwrap_or("").trim();
                    return (!value.is_empty()).then(|| value.to_string());
                }
            }
        }
    }
    crate::auth::session::cookie(req, name)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// The browser's secret for `kind`, as it stands after `resp` (when given).
fn owner_secret(
    state: &AppState,
    kind: OwnerKind,
    path: &str,
    req: &HeaderMap,
    resp: Option<&HeaderMap>,
) -> Option<String> {
    match kind {
        OwnerKind::Session => cookie_after(req, resp, state.config.session_cookie()),
        OwnerKind::Login => cookie_after(req, resp, state.config.login_cookie()),
        OwnerKind::Link => path_token(path).map(String::from),
    }
}

/// Which secret a POST's answer is sealed with: the capability token for
/// link pages, else the session, else the login form's cookie.
fn owner_of_post(
    state: &AppState,
    path: &str,
    req: &HeaderMap,
    resp: Option<&HeaderMap>,
) -> Option<(OwnerKind, String)> {
    [OwnerKind::Link, OwnerKind::Session, OwnerKind::Login]
        .into_iter()
        .find_map(|k| owner_secret(state, k, path, req, resp).map(|s| (k, s)))
}

fn sealing_key(state: &AppState, kind: OwnerKind, owner: &str) -> LessSafeKey {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(state.config.secret_key.as_bytes()).expect("any key length");
    mac.update(b"baton-flash:");
    mac.update(kind.key().as_bytes());
    mac.update(b":");
    mac.update(owner.as_bytes());
    let bytes = mac.finalize().into_bytes();
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &bytes).expect("32-byte key"))
}

/// Seals `body` for the flash `id`: base64 of nonce ‖ ciphertext ‖ tag.
fn seal(key: &LessSafeKey, id: &str, body: &[u8]) -> String {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let mut in_out = body.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(id.as_bytes()),
        &mut in_out,
    )
    .expect("sealing a flash cannot fail");
    let mut out = nonce_bytes.to_vec();
    out.extend(in_out);
    URL_SAFE_NO_PAD.encode(out)
}

/// Opens a sealed flash; `None` when it is not this owner's.
fn open(key: &LessSafeKey, id: &str, sealed: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let mut in_out = rest.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).ok()?,
            Aad::from(id.as_bytes()),
            &mut in_out,
        )
        .ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// The `flash` query parameter of a URI's query, if any.
fn flash_param(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("flash="))
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// `target` (a local path, maybe with a query and a fragment) with
/// `flash=id` set in its query.
fn with_flash(target: &str, id: &str) -> String {
    let (rest, fragment) = match target.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (target, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut kept: Vec<&str> = query
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with("flash="))
                .collect()
        })
        .unwrap_or_default();
    let param = format!("flash={id}");
    kept.push(&param);
    let mut out = format!("{path}?{}", kept.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The page the form was posted from: the `Referer` when it is this site
/// (its path and query), else `None`.
fn referer_path(state: &AppState, req: &HeaderMap) -> Option<String> {
    let referer = req.get(header::REFERER)?.to_str().ok()?;
    let host = req.get(header::HOST).and_then(|v| v.to_str().ok());
    let ours = state.config.public_origin();
    let rest = referer.strip_prefix(ours).or_else(|| {
        let host = host?;
        referer
            .strip_prefix(&format!("http://{host}"))
            .or_else(|| referer.strip_prefix(&format!("https://{host}")))
    })?;
    let local = super::form::local_path(Some(rest));
    (local == rest && !rest.is_empty()).then_some(local)
}

/// The claim key of a form submission: the browser's secret, the path and
/// the form's nonce.
fn claim_key(kind: OwnerKind, owner: &str, path: &str, nonce: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"form:");
    h.update(kind.key().as_bytes());
    h.update(b"\n");
    h.update(secret::hash_token(owner).as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(nonce.as_bytes());
    secret::hex(&h.finalize())
}

fn is_html(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"))
}

fn is_urlencoded(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The middleware: shows flashes on GET, redirects the answers of POSTs and
/// runs form submissions under their nonce's claim.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match *req.method() {
        Method::GET => show_flash(&state, req, next).await,
        Method::POST => post(&state, req, next).await,
        _ => next.run(req).await,
    }
}

/// A GET naming a flash this browser can open shows it (once); anything
/// else goes to the page's handler.
async fn show_flash(state: &AppState, req: Request, next: Next) -> Response {
    let Some(id) = flash_param(req.uri().query()).map(String::from) else {
        return next.run(req).await;
    };
    let now = state.now();
    let found = match flashes::get(&state.db, &id, now).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a flash");
            None
        }
    };
    let page = found.and_then(|f| {
        let kind = OwnerKind::parse(&f.owner_kind)?;
        let owner = owner_secret(state, kind, req.uri().path(), req.headers(), None)?;
        let plain = open(&sealing_key(state, kind, &owner), &id, &f.sealed)?;
        Some((
            StatusCode::from_u16(f.status).unwrap_or(StatusCode::OK),
            plain,
        ))
    });
    match page {
        Some((status, plain)) => {
            if let Err(e) = flashes::delete(&state.db, &id).await {
                tracing::warn!(error = %e, "could not forget a shown flash");
            }
            // The first line keeps the answer's `Retry-After` (a throttled
            // form says when to try again); the rest is the page.
            let (retry_after, body) = plain.split_once('\n').unwrap_or(("", &plain));
            let mut resp = html_response(status, body.to_string());
            if let Ok(v) = HeaderValue::from_str(retry_after) {
                if !retry_after.is_empty() {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            resp
        }
        None => next.run(req).await,
    }
}

async fn post(state: &AppState, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let req_headers = req.headers().clone();
    // A url-encoded form may carry a nonce; read it (forms are small: the
    // app's body limit applies) and hand the body on unchanged.
    let (req, nonce) = if is_urlencoded(&req_headers) {
        let (parts, body) = req.into_parts();
        let bytes = match to_bytes(body, state.config.body_limit).await {
            Ok(b) => b,
            Err(_) => return WebError::PayloadTooLarge.into_response(),
        };
        let nonce = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == "nonce")
                    .map(|(_, v)| v)
            })
            .filter(|v| !v.is_empty() && v.len() <= 128);
        (Request::from_parts(parts, Body::from(bytes)), nonce)
    } else {
        (req, None)
    };
    let claim = nonce.and_then(|n| {
        let (kind, owner) = owner_of_post(state, &path, &req_headers, None)?;
        Some(Claim::new(
            claim_key(kind, &owner, &path, &n),
            secret::random_token(),
        ))
    });
    let resp = match &claim {
        Some(c) => claims::scope(c.clone(), next.run(req)).await,
        None => next.run(req).await,
    };
    if let Some(c) = claim.as_ref().filter(|c| c.taken()) {
        return answer_duplicate(state, c).await;
    }
    let resp = redirect_answer(state, &path, &req_headers, resp).await;
    if let Some(c) = claim.as_ref().filter(|c| c.owned()) {
        if let Some(location) = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Err(e) = claims::set_location(&state.db, c, location).await {
                tracing::warn!(error = %e, "could not record a form's answer");
            }
        }
    }
    resp
}

/// A second submit of a form: wait (briefly) for the first one's answer and
/// send the browser there.
async fn answer_duplicate(state: &AppState, claim: &Claim) -> Response {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        match claims::location(&state.db, &claim.key).await {
            Ok(Some(location)) => return see_other(&location),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read a form's first answer"),
        }
        if tokio::time::Instant::now() >= deadline {
            return WebError::AlreadyDone.into_response();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Turns a POST's page answer into a 303 to a GET that shows it once.
/// Redirects and non-page answers pass through; so do answers nobody's
/// secret could seal (no session, cookie or token) and the neutral 404 of a
/// wrong capability token (a guess must not store anything).
async fn redirect_answer(
    state: &AppState,
    path: &str,
    req_headers: &HeaderMap,
    resp: Response,
) -> Response {
    if resp.status().is_redirection() || !is_html(resp.headers()) {
        return resp;
    }
    let Some((kind, owner)) = owner_of_post(state, path, req_headers, Some(resp.headers())) else {
        return resp;
    };
    if kind == OwnerKind::Link && resp.status() == StatusCode::NOT_FOUND {
        return resp;
    }
    let target = resp
        .extensions()
        .get::<ShowAt>()
        .map(|s| s.0.clone())
        .or_else(|| referer_path(state, req_headers))
        .or_else(|| link_home(path))
        .unwrap_or_else(|| "/".to_string());
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return WebError::Internal("could not buffer a page".into()).into_response();
    };
    let id = secret::random_token();
    let retry_after = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.contains('\n'))
        .unwrap_or("");
    let mut plain = Vec::with_capacity(bytes.len() + retry_after.len() + 1);
    plain.extend_from_slice(retry_after.as_bytes());
    plain.push(b'\n');
    plain.extend_from_slice(&bytes);
    let flash = Flash {
        owner_kind: kind.key().to_string(),
        status: parts.status.as_u16(),
        sealed: seal(&sealing_key(state, kind, &owner), &id, &plain),
    };
    if let Err(e) = flashes::save(&state.db, &id, &flash, state.now()).await {
        // Showing the page directly beats losing it.
        tracing::warn!(error = %e, "could not keep a flash; answering directly");
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut out = see_other(&with_flash(&target, &id));
    // Cookies the answer set (a fresh login form) still reach the browser.
    for v in parts.headers.get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_goes_into_the_query_before_the_fragment() {
        for (target, want) in [
            ("/", "/?flash=F"),
            ("/clients/cli_1", "/clients/cli_1?flash=F"),
            ("/clients/cli_1?before=9", "/clients/cli_1?before=9&flash=F"),
            ("/clients/cli_1?flash=OLD&x=1", "/clients/cli_1?x=1&flash=F"),
            ("/o/tok/steps#req-acc_1", "/o/tok/steps?flash=F#req-acc_1"),
            ("/a?b=1#c", "/a?b=1&flash=F#c"),
        ] {
            assert_eq!(with_flash(target, "F"), want, "{target}");
        }
    }

    #[test]
    fn flash_ids_are_plain() {
        assert_eq!(flash_param(Some("a=1&flash=abc_-9")), Some("abc_-9"));
        assert_eq!(flash_param(Some("flash=")), None);
        assert_eq!(flash_param(Some("flash=a%20b")), None);
        assert_eq!(flash_param(None), None);
    }

    #[test]
    fn capability_tokens_in_paths() {
        assert_eq!(path_token("/o/tok/steps"), Some("tok"));
        assert_eq!(path_token("/a/tok"), Some("tok"));
        assert_eq!(path_token("/invite/tok"), Some("tok"));
        assert_eq!(path_token("/o/"), None);
        assert_eq!(path_token("/clients/x"), None);
        assert_eq!(link_home("/o/tok/answers").as_deref(), Some("/o/tok/steps"));
        assert_eq!(link_home("/a/tok/decision").as_deref(), Some("/a/tok"));
        assert_eq!(link_home("/invite/tok").as_deref(), Some("/invite/tok"));
        assert_eq!(link_home("/team/invite"), None);
    }

    #[test]
    fn sealed_flashes_open_only_with_their_key_and_id() {
        let k1 = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[1u8; 32]).unwrap());
        let k2 = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &[2u8; 32]).unwrap());
        let sealed = seal(&k1, "id1", b"<p>secret</p>");
        assert!(!sealed.contains("secret"));
        assert_eq!(open(&k1, "id1", &sealed).as_deref(), Some("<p>secret</p>"));
        assert_eq!(open(&k2, "id1", &sealed), None);
        assert_eq!(open(&k1, "id2", &sealed), None);
        assert_eq!(open(&k1, "id1", "not base64!"), None);
    }

    #[test]
    fn claim_keys_differ_by_browser_path_and_nonce() {
        let a = claim_key(OwnerKind::Session, "s1", "/clients", "n1");
        assert_eq!(a, claim_key(OwnerKind::Session, "s1", "/clients", "n1"));
        for other in [
            claim_key(OwnerKind::Session, "s2", "/clients", "n1"),
            claim_key(OwnerKind::Session, "s1", "/team/invite", "n1"),
            claim_key(OwnerKind::Session, "s1", "/clients", "n2"),
            claim_key(OwnerKind::Link, "s1", "/clients", "n1"),
        ] {
            assert_ne!(a, other);
        }
    }
}
