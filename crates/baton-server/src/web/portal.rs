//! The client's onboarding link, `/o/{token}`: no account, the agency's
//! branding, one card per access request, the intake questionnaire and the
//! brand-kit upload.
//!
//! The token in the path is the capability. Pages that only show (`GET`)
//! write nothing, because link previewers and mail scanners fetch links;
//! the client's "Continue" on the welcome page is what logs an open. Every
//! refusal of a token (wrong, expired, revoked, offboarded client, another
//! agency's link on a custom domain, unknown sub-path) is the same neutral
//! 404 page, byte for byte, and counts as a miss for the caller's address:
//! past [`throttle::LINK_MISSES`] misses in the window every link request
//! of that address waits before any token is looked up, and its misses
//! answer 429; a valid link is never refused. Every response carries `no-referrer` and
//! `noindex`, so the token never leaks through a `Referer` or a search index.
//!
//! The steps page is built for a phone: after "I've granted access" or
//! "I'm stuck" it opens at the next card still waiting on the client
//! (`…/steps?done=granted&next=acc_…#req-acc_…`), with the thanks in that
//! card; a refused form comes back with its errors listed at the top, each a
//! link to its field, and again at the field. Web addresses in the steps
//! are links; a value the agency has not entered reads as a neutral
//! sentence; optional requests say so. "I'm stuck" opens its form on one
//! card only (`?stuck=acc_…`), which keeps the page with every catalog
//! platform under 60 KB with its CSS.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::Router;
use baton_core::access::{AccessStatus, Mover};
use baton_core::colour::{hex, parse_hex, readable_on_white, text_on, Rgb};
use baton_core::onboarding::OnboardingSettings;
use baton_core::uploads;
use baton_core::weblinks::{self, Part};
use baton_core::CoreError;
use baton_store::access_requests::{self, AccessRequest, Act};
use baton_store::agencies::{self, Agency, DEFAULT_ACCENT, DEFAULT_BRAND};
use baton_store::clients::Client;
use baton_store::intake::{self, NewFile};
use baton_store::onboarding_links::{self, Link};
use baton_store::{platforms, Actor, StoreError};
use sha2::{Digest, Sha256};

use super::form::{ClientMeta, FormData, QueryData, UNREADABLE_UPLOAD};
use super::WebError;
use crate::auth::throttle;
use crate::state::AppState;

const PORTAL_CSS: &str = include_str!("../../static/portal.css");
const LONG_CACHE: &str = "public, max-age=31536000, immutable";

/// The upload route's body limit: the file limit plus room for the
/// multipart framing. (The app's limit everywhere else is 1 MiB.)
const UPLOAD_BODY_LIMIT: usize = uploads::MAX_FILE_BYTES + 256 * 1024;

/// The portal's own content security policy: no scripts at all.
const PORTAL_CSP: &str = "default-src 'none'; img-src 'self' https: data:; media-src 'self'; \
    style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The portal's routes. Merged outside the team app's layers: it has its own
/// neutral error pages and accepts the agency's custom domain as origin.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/o", any(not_found))
        .route("/o/", any(not_found))
        .route("/o/{token}", get(welcome))
        .route("/o/{token}/", any(not_found))
        .route("/o/{token}/open", post(open))
        .route("/o/{token}/steps", get(steps))
        .route("/o/{token}/requests/{id}/granted", post(granted))
        .route("/o/{token}/requests/{id}/stuck", post(stuck))
        .route("/o/{token}/answers", post(answers))
        .route(
            "/o/{token}/files",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/o/{token}/{*rest}", any(not_found))
        .merge(super::approval_portal::routes())
        .route("/o-static/portal.css", get(portal_css))
        .route("/o-static/theme.css", get(theme_css))
        .layer(from_fn_with_state(state.clone(), super::prg::layer))
        .layer(from_fn_with_state(state.clone(), super::timefmt::with_now))
        .layer(from_fn_with_state(state, guard))
}

// ------------------------------------------------------------------ guard --

fn is_link_path(path: &str) -> bool {
    path == "/o" || path.starts_with("/o/") || path == "/a" || path.starts_with("/a/")
}

/// Throttles guessing, turns any bare error into a neutral page and sets the
/// headers every portal response carries.
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let link_path = is_link_path(&path);
    let ip = crate::auth::client_ip(req.extensions());
    let now = state.now();
    // Past its misses, an address's link requests wait before they are
    // looked up (so guessing is slowed whatever the guesser's timeout), and
    // its misses say "too many attempts"; a valid link is still served.
    let slowed = link_path
        && throttle::link_slowed(&state.db, &ip, now)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not read the link throttle");
                false
            });
    if slowed {
        tokio::time::sleep(state.config.link_guess_delay).await;
    }
    let mut resp = neutralize(next.run(req).await);
    if link_path && resp.status() == StatusCode::NOT_FOUND {
        match throttle::link_missed(&state.db, &ip, now).await {
            Ok(secs) if slowed => resp = PortalError::TooMany(secs).into_response(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not count a link miss"),
        }
    }
    let cacheable = path.starts_with("/o-static/") && resp.status().is_success();
    let h = resp.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    // A draft file keeps its own, stricter policy (`sandbox`).
    let sandboxed = h
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.as_bytes().starts_with(b"sandbox"));
    if !sandboxed {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PORTAL_CSP),
        );
    }
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Any error response that is not already a page (a 405 from the router, a
/// rejection) becomes the matching neutral page; a 405 reads as the 404.
fn neutralize(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        return resp;
    }
    match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => PortalError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => PortalError::TooLarge,
        StatusCode::FORBIDDEN => PortalError::Forbidden,
        s if s.is_client_error() => PortalError::BadRequest,
        _ => PortalError::Internal(format!("portal answered {status} without a page")),
    }
    .into_response()
}

// ----------------------------------------------------------------- errors --

/// Why the portal shows a neutral page (no agency, no product name).
#[derive(Debug)]
pub enum PortalError {
    NotFound,
    Forbidden,
    BadRequest,
    TooLarge,
    TooMany(u64),
    Internal(String),
}

#[derive(Template)]
#[template(path = "portal_error.html")]
struct ErrorPage {
    css_href: String,
    title: &'static str,
    message: String,
}

impl PortalError {
    fn status(&self) -> StatusCode {
        match self {
            PortalError::NotFound => StatusCode::NOT_FOUND,
            PortalError::Forbidden => StatusCode::FORBIDDEN,
            PortalError::BadRequest => StatusCode::BAD_REQUEST,
            PortalError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PortalError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            PortalError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> (&'static str, String) {
        match self {
            PortalError::NotFound => (
                "This link is not valid",
                "It may have expired or been replaced. Ask the agency that sent it for a new link.".into(),
            ),
            PortalError::Forbidden => (
                "This form could not be accepted",
                "It did not come from the onboarding page. Open the link you were sent again and retry.".into(),
            ),
            PortalError::BadRequest => (
                "This request could not be handled",
                "Go back, reload the page and try again.".into(),
            ),
            PortalError::TooLarge => (
                "That is too large",
                format!(
                    "Files can be up to {} each. Go back and choose a smaller file.",
                    uploads::limit_text()
                ),
            ),
            PortalError::TooMany(secs) => {
                let minutes = secs.div_ceil(60).max(1);
                let unit = if minutes == 1 { "minute" } else { "minutes" };
                (
                    "Too many attempts",
                    format!("Too many invalid links were opened from your network. Try again in {minutes} {unit}."),
                )
            }
            PortalError::Internal(_) => (
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.".into(),
            ),
        }
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        if let PortalError::Internal(cause) = &self {
            tracing::error!(%cause, "onboarding link request failed");
        }
        let (title, message) = self.page();
        let page = ErrorPage {
            css_href: css_href(),
            title,
            message,
        };
        let mut resp = match page.render() {
            Ok(html) => html_page(self.status(), html),
            Err(e) => {
                tracing::error!(error = %e, "portal error template failed");
                html_page(self.status(), title.to_string())
            }
        };
        if let PortalError::TooMany(secs) = self {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PortalError::NotFound,
            StoreError::Core(_) | StoreError::Duplicate(_) | StoreError::AlreadyDone => {
                PortalError::BadRequest
            }
            StoreError::Forbidden(_) => PortalError::Forbidden,
            StoreError::Config(m) => PortalError::Internal(m),
            StoreError::Database(e) => PortalError::Internal(e.to_string()),
        }
    }
}

impl From<WebError> for PortalError {
    fn from(e: WebError) -> Self {
        match e {
            WebError::PayloadTooLarge => PortalError::TooLarge,
            WebError::NotFound | WebError::InviteInvalid => PortalError::NotFound,
            WebError::Forbidden(_) => PortalError::Forbidden,
            WebError::Internal(m) => PortalError::Internal(m),
            _ => PortalError::BadRequest,
        }
    }
}

fn html_page(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_page(status, html),
        Err(e) => PortalError::Internal(format!("template failed: {e}")).into_response(),
    }
}

/// Unknown addresses under `/o/`.
async fn not_found() -> PortalError {
    PortalError::NotFound
}

// ----------------------------------------------------------------- assets --

fn css_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        baton_core::secret::hex(&Sha256::digest(PORTAL_CSS.as_bytes()))[..12].to_string()
    })
}

/// The portal's stylesheet, versioned by content so it can be cached.
pub fn css_href() -> String {
    format!("/o-static/portal.css?v={}", css_version())
}

/// The colour sheet of an agency's brand and accent.
pub(super) fn theme_href(brand: &str, accent: &str) -> String {
    format!(
        "/o-static/theme.css?b={}&a={}",
        brand.trim_start_matches('#'),
        accent.trim_start_matches('#')
    )
}

fn css_response(css: String) -> Response {
    let mut resp = css.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(LONG_CACHE));
    resp
}

/// `GET /o-static/portal.css`
async fn portal_css() -> Response {
    css_response(PORTAL_CSS.to_string())
}

/// `GET /o-static/theme.css?b=rrggbb&a=rrggbb`
async fn theme_css(q: QueryData) -> Response {
    let brand = parse_hex(q.get("b").unwrap_or(""))
        .unwrap_or_else(|| parse_hex(DEFAULT_BRAND).expect("default"));
    let accent = parse_hex(q.get("a").unwrap_or(""))
        .unwrap_or_else(|| parse_hex(DEFAULT_ACCENT).expect("default"));
    css_response(theme(brand, accent))
}

/// The portal's colour variables: the header band and the progress bar wear
/// the agency's brand colour and the primary buttons its accent, each as
/// chosen, with the text colour that reads on it picked by
/// [`text_on`] (the same rule as the team app's theme, so a light brand
/// keeps its colour with dark text); card edges take the brand as is; text
/// in the brand colour on white is darkened until it reads.
fn theme(brand: Rgb, accent: Rgb) -> String {
    format!(
        ":root{{--band:{};--on-band:{};--btn:{};--on-btn:{};--edge:{};--brand-ink:{}}}\n",
        hex(brand),
        hex(text_on(brand)),
        hex(accent),
        hex(text_on(accent)),
        hex(brand),
        hex(readable_on_white(brand)),
    )
}

// ---------------------------------------------------------------- context --

/// The host a request was sent to: lower-case, without the port.
pub(super) fn request_host(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get(header::HOST)?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    Some(strip_port(&raw).to_string())
}

fn strip_port(hostport: &str) -> &str {
    if let Some(rest) = hostport.strip_prefix('[') {
        // [v6]:port
        return rest.split(']').next().unwrap_or(rest);
    }
    match hostport.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => hostport,
    }
}

/// The host (no port) of a base URL, lower-case.
pub(crate) fn public_host(public_url: &str) -> String {
    let after = public_url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &public_url[after..];
    let hostport = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
    strip_port(&hostport.to_ascii_lowercase()).to_string()
}

/// What a valid token opens, with who is asking.
/// A live link as one request sees it: loaded once (one query) by [`load`].
struct Ctx {
    token: String,
    agency: Agency,
    settings: OnboardingSettings,
    client: Client,
    link: Link,
    /// The link's requests in order, as they were when the request came in.
    requests: Vec<AccessRequest>,
    meta: ClientMeta,
}

impl Ctx {
    fn base(&self) -> String {
        format!("/o/{}", self.token)
    }

    fn actor(&self) -> Actor {
        Actor {
            kind: "client_link".into(),
            id: self.link.id.clone(),
            label: format!("{} (onboarding link)", self.client.name),
            ip: self.meta.ip.clone(),
            user_agent: self.meta.user_agent.clone(),
        }
    }

    fn layout(&self, title: String) -> PortalLayout {
        PortalLayout {
            title,
            agency: self.agency.name.clone(),
            logo_url: self.agency.logo_url.clone(),
            css_href: css_href(),
            theme_href: theme_href(&self.agency.brand_color, &self.agency.accent_color),
            powered_by: !self.agency.white_label,
        }
    }

    /// Back to the steps page after a form, with `done` saying what
    /// happened and `place` what to scroll to (`?…#…`).
    fn steps_url(&self, done: &str, place: &str) -> Response {
        Redirect::to(&format!("{}/steps?done={done}{place}", self.base())).into_response()
    }

    /// After "I've granted access" or "I'm stuck" on request `acted`: the
    /// next request card still waiting on the client (in page order, from
    /// the one after `acted` round to the top), where the notice shows;
    /// else the card itself when it still waits (stuck), else the
    /// progress summary.
    fn after_card(&self, done: &str, acted: &str) -> Response {
        let waiting = |r: &&AccessRequest| {
            r.id != acted && matches!(r.status, AccessStatus::Requested | AccessStatus::Failed)
        };
        let at = self
            .requests
            .iter()
            .position(|r| r.id == acted)
            .unwrap_or(0);
        let (before, after) = self.requests.split_at(at);
        let place = match after.iter().chain(before).find(waiting) {
            Some(next) => format!("&next={0}#req-{0}", next.id),
            None if done == "stuck" => format!("&at={acted}#req-{acted}"),
            None => "#progress".into(),
        };
        self.steps_url(done, &place)
    }
}

/// Resolves the token for the host the request came to: on the public host
/// any agency's link, on a custom domain only that agency's links.
async fn load(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    meta: ClientMeta,
) -> Result<Ctx, PortalError> {
    let host = request_host(headers);
    let domain_agency = match host {
        Some(h) if h != public_host(&state.config.public_url) => {
            match agencies::find_by_custom_domain(&state.db, &h).await? {
                Some(a) => Some(a),
                None => return Err(PortalError::NotFound),
            }
        }
        _ => None,
    };
    let page = onboarding_links::open_page(
        &state.db,
        token,
        state.now(),
        domain_agency.as_ref().map(|a| a.id.as_str()),
    )
    .await?
    .ok_or(PortalError::NotFound)?;
    Ok(Ctx {
        token: token.to_string(),
        agency: page.agency,
        settings: page.settings,
        client: page.client,
        link: page.link,
        requests: page.requests,
        meta,
    })
}

/// Refuses a cross-site post: an `Origin`, when sent, must be the public
/// origin or the agency's custom domain.
pub(super) fn check_origin(
    state: &AppState,
    headers: &HeaderMap,
    agency: &Agency,
) -> Result<(), PortalError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| PortalError::Forbidden)?
        .trim()
        .to_ascii_lowercase();
    // The portal's `Referrer-Policy: no-referrer` makes browsers send
    // `Origin: null` on its own form posts. Fetch metadata, where the browser
    // sends it, still says where the post came from: refuse `null` only when
    // it names another site (older browsers send none; the token in the path
    // is the capability either way).
    if origin == "null" {
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return if matches!(site, "cross-site" | "same-site") {
            Err(PortalError::Forbidden)
        } else {
            Ok(())
        };
    }
    if origin == state.config.public_origin().to_ascii_lowercase() {
        return Ok(());
    }
    if let Some(domain) = &agency.custom_domain {
        let domain = domain.to_ascii_lowercase();
        if origin == format!("https://{domain}")
            || (!state.config.secure_cookies && origin == format!("http://{domain}"))
        {
            return Ok(());
        }
    }
    Err(PortalError::Forbidden)
}

/// Loads the link for a form post and checks where the post came from.
async fn load_for_post(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    meta: ClientMeta,
) -> Result<Ctx, PortalError> {
    let ctx = load(state, headers, token, meta).await?;
    check_origin(state, headers, &ctx.agency)?;
    Ok(ctx)
}

// ------------------------------------------------------------------ views --

/// The frame of a portal page (`templates/portal_base.html`).
pub(super) struct PortalLayout {
    pub(super) title: String,
    pub(super) agency: String,
    pub(super) logo_url: Option<String>,
    pub(super) css_href: String,
    pub(super) theme_href: String,
    /// "Powered by Baton" in the footer (off for white-label agencies).
    pub(super) powered_by: bool,
}

struct PlatformLine {
    name: String,
    permission: String,
    asset: Option<String>,
    optional: bool,
}

#[derive(Template)]
#[template(path = "portal_welcome.html")]
struct WelcomePage {
    layout: PortalLayout,
    heading: String,
    welcome: String,
    platforms: Vec<PlatformLine>,
    base: String,
}

struct Card {
    id: String,
    vendor: String,
    platform: String,
    permission: String,
    permission_description: String,
    asset_label: String,
    asset: Option<String>,
    status_class: &'static str,
    status_text: String,
    /// Optional requests say so: they do not hold anything up.
    optional: bool,
    steps: Vec<StepView>,
    mistakes: Vec<Vec<Part>>,
    /// The notice after a form, when this card is where the page opens.
    notice: Option<String>,
    /// Granted or verified: the steps fold away.
    folded: bool,
    /// Revoked: no steps at all.
    withdrawn: bool,
    /// Waiting on the client: the two buttons.
    can_act: bool,
    stuck_message: Option<String>,
    /// A refusal of this card's action, at the top of the card.
    alert: Option<String>,
    /// The "I'm stuck" form: what was typed, its error, whether it is open.
    stuck_text: String,
    stuck_error: Option<String>,
    stuck_open: bool,
}

/// A step: its text with web addresses as links, and a note when it needs a
/// value the agency has not filled in yet.
struct StepView {
    parts: Vec<Part>,
    note: Option<String>,
}

struct QuestionView {
    key: String,
    label: String,
    help: String,
    long: bool,
    required: bool,
    value: String,
    error: Option<String>,
    described_by: String,
}

struct FileLine {
    name: String,
    size: String,
}

#[derive(Template)]
#[template(path = "portal_steps.html")]
struct StepsPage {
    layout: PortalLayout,
    base: String,
    agency: String,
    client: String,
    /// Refusals of the form just sent: (anchor of the field, message), at
    /// the top of the page, each a link to its field.
    errors: Vec<(String, String)>,
    /// The notice after a form, above the progress summary.
    notice: Option<String>,
    questions_notice: Option<String>,
    files_notice: Option<String>,
    finished: bool,
    done: usize,
    verified: usize,
    total: usize,
    cards: Vec<Card>,
    questions: Vec<QuestionView>,
    answers_alert: Option<String>,
    accept: String,
    accepted: String,
    limit: String,
    file_error: Option<String>,
    files: Vec<FileLine>,
}

/// What a refused form leaves on the re-rendered page.
#[derive(Default)]
struct Refused {
    /// (request id, message) at the top of a card.
    card_alert: Option<(String, String)>,
    /// (request id, typed text, error) of the "I'm stuck" form shown open
    /// (also without a refusal, when the client asked for it).
    stuck: Option<(String, String, Option<String>)>,
    /// The answers as typed, and errors by question key.
    answers: Option<BTreeMap<String, String>>,
    answer_errors: BTreeMap<String, String>,
    answers_alert: Option<String>,
    file_error: Option<String>,
}

impl Refused {
    /// The element the page opens at: the field (or card) refused first.
    fn anchor(&self) -> String {
        if let Some((id, _)) = &self.card_alert {
            return format!("req-{id}");
        }
        if let Some((id, _, Some(_))) = &self.stuck {
            return format!("m-{id}");
        }
        if let Some(key) = self.answer_errors.keys().next() {
            return format!("q-{key}");
        }
        if self.answers_alert.is_some() {
            return "questions".into();
        }
        if self.file_error.is_some() {
            return "file".into();
        }
        "errors".into()
    }
}

/// A refused form's page, shown (after the redirect) at the field it
/// refused: `…/steps#field`.
fn refused_page(ctx: &Ctx, resp: Response, anchor: &str) -> Response {
    super::prg::show_at(resp, format!("{}/steps#{anchor}", ctx.base()))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn size_text(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        plural(bytes.max(0) as usize, "byte", "bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).ceil())
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

fn status_words(r: &AccessRequest, agency: &str) -> (&'static str, String) {
    match r.status {
        AccessStatus::Requested => ("requested", "Waiting for you".into()),
        AccessStatus::GrantedByClient => (
            "granted",
            format!("You marked this granted — {agency} is checking"),
        ),
        AccessStatus::Verified => ("verified", format!("Confirmed by {agency}")),
        AccessStatus::Failed => (
            "failed",
            format!(
                "{agency} could not use this access: {} — please check and try again",
                r.failed_reason.as_deref().unwrap_or("no reason given")
            ),
        ),
        AccessStatus::Revoked => ("revoked", "Withdrawn".into()),
    }
}

/// The sentence after a form (`?done=`), from a fixed set. `next` says the
/// page opens at another card than the one acted on.
fn notice_for(done: Option<&str>, agency: &str, next: bool) -> Option<String> {
    let then = if next { " Next, this one:" } else { "" };
    Some(match done? {
        "granted" if next => {
            format!("Thank you. {agency} will check that access and confirm it.{then}")
        }
        "granted" => format!("Thank you. {agency} will check the access and confirm it here."),
        "stuck" => format!("Your message was sent to {agency}. They will get back to you.{then}"),
        "answers" => "Your answers were saved. You can change them any time.".into(),
        "file" => "Your file was uploaded.".into(),
        _ => return None,
    })
}

/// Where the notice after a form shows: at a card (`next=` / `at=` naming
/// one of this link's requests), at its section, or above the progress.
#[derive(Default)]
struct Notice {
    text: Option<String>,
    /// What happened (`granted`, `answers`, …), when `text` is set.
    done: Option<String>,
    /// The request id of the card it shows in.
    card: Option<String>,
}

impl Notice {
    fn from_query(q: &QueryData, ctx: &Ctx) -> Notice {
        let done = q.get("done");
        let known = |id: Option<&str>| {
            id.filter(|id| ctx.requests.iter().any(|r| r.id == *id))
                .map(str::to_string)
        };
        let next = known(q.get("next"));
        let card = next.clone().or_else(|| known(q.get("at")));
        let text = notice_for(done, &ctx.agency.name, next.is_some());
        Notice {
            done: text.as_ref().and(done).map(str::to_string),
            text,
            card,
        }
    }
}

/// The note under a step that needs values the agency has not filled in.
fn missing_note(agency: &str, labels: &[String]) -> Option<String> {
    let list = match labels {
        [] => return None,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and the {last}", rest.join(", ")),
    };
    Some(format!(
        "Your contact at {agency} will send you the {list} for this step."
    ))
}

/// The refusals of the form just sent, for the summary at the top: (anchor
/// of the field or card, message naming it).
fn error_summary(
    refused: &Refused,
    cards: &[Card],
    settings: &OnboardingSettings,
) -> Vec<(String, String)> {
    let platform = |id: &str| {
        cards
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.platform.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    if let Some((id, message)) = &refused.card_alert {
        out.push((format!("req-{id}"), format!("{}: {message}", platform(id))));
    }
    if let Some((id, _, Some(message))) = &refused.stuck {
        out.push((format!("m-{id}"), format!("{}: {message}", platform(id))));
    }
    for q in &settings.questions {
        if let Some(message) = refused.answer_errors.get(&q.key) {
            out.push((format!("q-{}", q.key), format!("{} {message}", q.label)));
        }
    }
    if refused.answer_errors.is_empty() {
        if let Some(message) = &refused.answers_alert {
            out.push(("questions".into(), message.clone()));
        }
    }
    if let Some(message) = &refused.file_error {
        out.push(("file".into(), format!("Brand kit: {message}")));
    }
    out
}

/// Renders the steps page with `status`, a notice and whatever a refused
/// form left. Reads only.
async fn steps_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    notice: Notice,
    refused: Refused,
) -> Result<Response, PortalError> {
    let agency_id = &ctx.agency.id;
    let agency = ctx.agency.name.as_str();
    let requests = &ctx.requests;
    let catalog = platforms::lookup(&state.db, agency_id, &platform_keys(requests)).await?;
    let settings = &ctx.settings;
    let saved = intake::answers(&state.db, agency_id, &ctx.client.id).await?;
    let files = intake::files(&state.db, agency_id, &ctx.client.id).await?;

    let live: Vec<&AccessRequest> = requests
        .iter()
        .filter(|r| r.status != AccessStatus::Revoked)
        .collect();
    let total = live.len();
    let verified = live
        .iter()
        .filter(|r| r.status == AccessStatus::Verified)
        .count();
    let done = verified
        + live
            .iter()
            .filter(|r| r.status == AccessStatus::GrantedByClient)
            .count();

    let values = &settings.platform_values;
    let cards: Vec<Card> = requests
        .iter()
        .map(|r| {
            let p = catalog.iter().find(|p| p.key == r.platform);
            let perm = p.and_then(|p| p.permission(&r.permission));
            let (status_class, status_text) = status_words(r, agency);
            let waiting = matches!(r.status, AccessStatus::Requested | AccessStatus::Failed);
            let (stuck_text, stuck_error, stuck_open) = match &refused.stuck {
                Some((id, text, err)) if *id == r.id => (text.clone(), err.clone(), true),
                _ => (String::new(), None, false),
            };
            Card {
                id: r.id.clone(),
                vendor: p.map(|p| p.vendor.clone()).unwrap_or_default(),
                platform: p
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| r.platform.clone()),
                permission: perm
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| r.permission.clone()),
                permission_description: perm.map(|x| x.description.clone()).unwrap_or_default(),
                asset_label: p
                    .map(|p| p.asset_label.clone())
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| "Account".into()),
                asset: r.asset.clone().filter(|a| !a.trim().is_empty()),
                status_class,
                status_text,
                optional: !r.required,
                steps: p
                    .map(|p| p.render_step_lines(agency, values, &r.permission, r.asset.as_deref()))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|line| StepView {
                        parts: weblinks::split(&line.text),
                        note: missing_note(agency, &line.missing),
                    })
                    .collect(),
                mistakes: p
                    .map(|p| p.render_mistakes(agency, values))
                    .unwrap_or_default()
                    .iter()
                    .map(|m| weblinks::split(m))
                    .collect(),
                notice: match &notice.card {
                    Some(id) if *id == r.id => notice.text.clone(),
                    _ => None,
                },
                folded: matches!(
                    r.status,
                    AccessStatus::GrantedByClient | AccessStatus::Verified
                ),
                withdrawn: r.status == AccessStatus::Revoked,
                can_act: waiting,
                stuck_message: r.stuck_message.clone(),
                alert: match &refused.card_alert {
                    Some((id, m)) if *id == r.id => Some(m.clone()),
                    _ => None,
                },
                stuck_text,
                stuck_error,
                stuck_open,
            }
        })
        .collect();

    let current: BTreeMap<&str, &str> = saved
        .iter()
        .map(|a| (a.question_key.as_str(), a.answer.as_str()))
        .collect();
    let questions = settings
        .questions
        .iter()
        .map(|q| {
            let value = match &refused.answers {
                Some(typed) => typed.get(&q.key).cloned().unwrap_or_default(),
                None => current
                    .get(q.key.as_str())
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            };
            let error = refused.answer_errors.get(&q.key).cloned();
            let mut described = Vec::new();
            if !q.help.is_empty() {
                described.push(format!("qh-{}", q.key));
            }
            if error.is_some() {
                described.push(format!("qe-{}", q.key));
            }
            QuestionView {
                key: q.key.clone(),
                label: q.label.clone(),
                help: q.help.clone(),
                long: q.long,
                required: q.required,
                value,
                error,
                described_by: described.join(" "),
            }
        })
        .collect();

    let errors = error_summary(&refused, &cards, settings);
    // The notice shows where the page opens: its card, its section, or
    // above the progress summary.
    let (mut top, mut questions_notice, mut files_notice) = (None, None, None);
    match (notice.card.is_some(), notice.done.as_deref()) {
        (true, _) => {}
        (false, Some("answers")) => questions_notice = notice.text,
        (false, Some("file")) => files_notice = notice.text,
        _ => top = notice.text,
    }
    let page = StepsPage {
        layout: ctx.layout(format!("Access for {}", ctx.client.name)),
        base: ctx.base(),
        agency: agency.to_string(),
        client: ctx.client.name.clone(),
        errors,
        notice: top,
        questions_notice,
        files_notice,
        finished: total > 0 && verified == total,
        done,
        verified,
        total,
        cards,
        questions,
        answers_alert: refused.answers_alert,
        accept: uploads::accept_attribute(),
        accepted: uploads::accepted_list(),
        limit: uploads::limit_text(),
        file_error: refused.file_error,
        files: files
            .into_iter()
            .map(|f| FileLine {
                name: f.name,
                size: size_text(f.size_bytes),
            })
            .collect(),
    };
    Ok(render(status, &page))
}

// --------------------------------------------------------------- handlers --

/// `GET /o/{token}`: the welcome page. Writes nothing.
async fn welcome(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load(&state, &headers, &token, meta).await?;
    let agency_id = &ctx.agency.id;
    let requests = &ctx.requests;
    let catalog = platforms::lookup(&state.db, agency_id, &platform_keys(requests)).await?;
    let lines: Vec<PlatformLine> = requests
        .iter()
        .filter(|r| r.status != AccessStatus::Revoked)
        .map(|r| {
            let p = catalog.iter().find(|p| p.key == r.platform);
            PlatformLine {
                name: p
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| r.platform.clone()),
                permission: p
                    .and_then(|p| p.permission(&r.permission))
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| r.permission.clone()),
                asset: r.asset.clone().filter(|a| !a.trim().is_empty()),
                optional: !r.required,
            }
        })
        .collect();
    let page = WelcomePage {
        heading: format!(
            "{} needs access to {} for {}",
            ctx.agency.name,
            plural(lines.len(), "platform", "platforms"),
            ctx.client.name
        ),
        layout: ctx.layout(format!("Welcome, {}", ctx.client.name)),
        welcome: ctx.settings.welcome.clone(),
        platforms: lines,
        base: ctx.base(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /o/{token}/open`: "Continue" logs the open, then the steps.
async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    onboarding_links::record_open(
        &state.db,
        &ctx.agency.id,
        &ctx.actor(),
        state.now(),
        &ctx.link,
    )
    .await?;
    Ok(Redirect::to(&format!("{}/steps", ctx.base())).into_response())
}

/// `GET /o/{token}/steps[?done=…&next=…][?stuck=acc_…]`: the main page.
/// Writes nothing.
async fn steps(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    q: QueryData,
) -> Result<Response, PortalError> {
    let ctx = load(&state, &headers, &token, meta).await?;
    let notice = Notice::from_query(&q, &ctx);
    // "I'm stuck" is a link (`?stuck=acc_…#m-acc_…`) that opens the message
    // form on that card only, so the page carries one form, not one per card.
    let open = q
        .get("stuck")
        .and_then(|id| ctx.requests.iter().find(|r| r.id == id))
        .map(|r| (r.id.clone(), String::new(), None));
    let view = Refused {
        stuck: open,
        ..Refused::default()
    };
    steps_page(&state, &ctx, StatusCode::OK, notice, view).await
}

/// The request `id` of this link, or 404 (another link's or client's id too).
fn request_of(ctx: &Ctx, id: &str) -> Result<AccessRequest, PortalError> {
    ctx.requests
        .iter()
        .find(|r| r.id == id && r.link_id.as_deref() == Some(ctx.link.id.as_str()))
        .cloned()
        .ok_or(PortalError::NotFound)
}

/// The platform keys of `requests`, for [`platforms::lookup`].
fn platform_keys(requests: &[AccessRequest]) -> Vec<&str> {
    requests.iter().map(|r| r.platform.as_str()).collect()
}

pub(super) fn read_form(form: Result<FormData, WebError>) -> Result<FormData, PortalError> {
    form.map_err(PortalError::from)
}

/// A store refusal to show on the page: (status, message), or a page error.
fn refusal(e: StoreError) -> Result<(StatusCode, String, Option<String>), PortalError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            capitalize(&message),
            Some(field),
        )),
        StoreError::Core(CoreError::Conflict(m)) => {
            Ok((StatusCode::CONFLICT, capitalize(&m), None))
        }
        other => Err(other.into()),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// `POST /o/{token}/requests/{id}/granted`: "I've granted access".
async fn granted(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
    meta: ClientMeta,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let req = request_of(&ctx, &id)?;
    if matches!(
        req.status,
        AccessStatus::GrantedByClient | AccessStatus::Verified
    ) {
        // A second click (or the back button): already done.
        return Ok(ctx.after_card("granted", &req.id));
    }
    let act = Act::Grant {
        mover: Mover::Client,
    };
    match access_requests::act(
        &state.db,
        &ctx.agency.id,
        &ctx.actor(),
        state.now(),
        &req.id,
        act,
    )
    .await
    {
        Ok(_) => Ok(ctx.after_card("granted", &req.id)),
        Err(e) => {
            let (status, message, _) = refusal(e)?;
            let refused = Refused {
                card_alert: Some((req.id, message)),
                ..Refused::default()
            };
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}

/// `POST /o/{token}/requests/{id}/stuck`: "I'm stuck" with a message.
async fn stuck(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
    meta: ClientMeta,
    form: Result<FormData, WebError>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let form = read_form(form)?;
    let req = request_of(&ctx, &id)?;
    let message = form.string("message");
    let act = Act::Stuck {
        message: message.clone(),
    };
    match access_requests::act(
        &state.db,
        &ctx.agency.id,
        &ctx.actor(),
        state.now(),
        &req.id,
        act,
    )
    .await
    {
        Ok(_) => Ok(ctx.after_card("stuck", &req.id)),
        Err(e) => {
            let (status, text, field) = refusal(e)?;
            let refused = if field.is_some() {
                let text = if message.trim().is_empty() {
                    "Write a few words about where you are stuck.".to_string()
                } else {
                    format!("Your message {}", lower_first(&text))
                };
                Refused {
                    stuck: Some((req.id, message, Some(text))),
                    ..Refused::default()
                }
            } else {
                Refused {
                    card_alert: Some((req.id, text)),
                    ..Refused::default()
                }
            };
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}

/// `POST /o/{token}/answers`: the questionnaire (fields `q_{key}`).
async fn answers(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    form: Result<FormData, WebError>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let form = read_form(form)?;
    let settings = &ctx.settings;
    // Only the questions asked now: a field of an older questionnaire is
    // ignored rather than refused.
    let given: BTreeMap<String, String> = settings
        .questions
        .iter()
        .map(|q| (q.key.clone(), form.string(&format!("q_{}", q.key))))
        .collect();
    let saved = intake::save_answers(
        &state.db,
        &ctx.agency.id,
        &ctx.actor(),
        state.now(),
        &ctx.client.id,
        &given,
    )
    .await;
    match saved {
        Ok(_) => Ok(ctx.steps_url("answers", "#questions")),
        Err(e) => {
            let (status, message, field) = refusal(e)?;
            let mut refused = Refused {
                answers: Some(given),
                answers_alert: Some(
                    "Your answers were not saved yet. Please check the question marked below."
                        .into(),
                ),
                ..Refused::default()
            };
            match field {
                Some(f) if settings.questions.iter().any(|q| q.key == f) => {
                    let message = match settings.questions.iter().find(|q| q.key == f) {
                        Some(q) if message.contains(&q.label) => {
                            "This question needs an answer.".to_string()
                        }
                        _ => message,
                    };
                    refused.answer_errors.insert(f, message);
                }
                _ => refused.answers_alert = Some(message),
            }
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            Ok(refused_page(&ctx, page, &anchor))
        }
    }
}

/// Reads the `file` part of the upload: (client's file name, bytes), or a
/// refusal. Past the limit it keeps reading without keeping (the route's
/// body limit bounds that), so the client gets the answer rather than a
/// connection reset.
async fn read_upload(
    mut multipart: Multipart,
) -> Result<Option<(String, Vec<u8>)>, uploads::Refusal> {
    let too_large =
        |e: &axum::extract::multipart::MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE;
    let mut found = None;
    let mut over = false;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if too_large(&e) => return Err(uploads::Refusal::TooLarge),
            Err(_) => return Ok(None),
        };
        let is_file = field.name() == Some("file") && found.is_none();
        let name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if !is_file || over {
                        continue;
                    }
                    if bytes.len() + chunk.len() > uploads::MAX_FILE_BYTES {
                        over = true;
                        bytes = Vec::new();
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) if too_large(&e) => return Err(uploads::Refusal::TooLarge),
                Err(_) => return Ok(None),
            }
        }
        if is_file && !over {
            found = Some((name, bytes));
        }
    }
    if over {
        return Err(uploads::Refusal::TooLarge);
    }
    Ok(found)
}

/// `POST /o/{token}/files`: one brand-kit file (multipart field `file`).
async fn upload(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    meta: ClientMeta,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PortalError> {
    let ctx = load_for_post(&state, &headers, &token, meta).await?;
    let refuse = |status: StatusCode, message: String| {
        let refused = Refused {
            file_error: Some(message),
            ..Refused::default()
        };
        (status, refused)
    };
    let outcome = match multipart {
        Err(_) => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            UNREADABLE_UPLOAD.into(),
        )),
        Ok(m) => match read_upload(m).await {
            Err(r) => Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, r.to_string())),
            Ok(None) => Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a file to upload.".into(),
            )),
            Ok(Some((name, bytes))) if name.is_empty() && bytes.is_empty() => Err(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose a file to upload.".into(),
            )),
            Ok(Some((name, bytes))) => {
                let name = uploads::sanitize_name(&name);
                match uploads::check(&name, &bytes) {
                    Ok(kind) => Ok((name, bytes, kind)),
                    Err(r @ uploads::Refusal::TooLarge) => {
                        Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, r.to_string()))
                    }
                    Err(r) => Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, r.to_string())),
                }
            }
        },
    };
    let outcome = match outcome {
        Ok(v) => {
            let held = intake::files(&state.db, &ctx.agency.id, &ctx.client.id)
                .await?
                .len();
            if held >= uploads::MAX_FILES_PER_CLIENT {
                Err(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "{} files are already uploaded, the most a link takes. Send further files to {} another way.",
                        held, ctx.agency.name
                    ),
                ))
            } else {
                Ok(v)
            }
        }
        e => e,
    };
    let (name, bytes, kind) = match outcome {
        Ok(v) => v,
        Err((status, refused)) => {
            let anchor = refused.anchor();
            let page = steps_page(&state, &ctx, status, Notice::default(), refused).await?;
            return Ok(refused_page(&ctx, page, &anchor));
        }
    };
    let now = state.now();
    let id = intake::new_file_id(now);
    let stored_name = format!("{id}-{name}");
    let sha256 = baton_core::secret::hex(&Sha256::digest(&bytes));
    let size_bytes = bytes.len() as i64;
    let files = &state.config.files;
    files
        .store(&ctx.agency.id, &ctx.client.id, &stored_name, bytes)
        .await
        .map_err(|e| PortalError::Internal(format!("storing an upload failed: {e}")))?;
    let file = NewFile {
        id,
        link_id: Some(ctx.link.id.clone()),
        name,
        stored_name: stored_name.clone(),
        content_type: kind.content_type.to_string(),
        size_bytes,
        sha256,
    };
    if let Err(e) = intake::add_file(
        &state.db,
        &ctx.agency.id,
        &ctx.actor(),
        now,
        &ctx.client.id,
        file,
    )
    .await
    {
        let _ = files
            .remove(&ctx.agency.id, &ctx.client.id, &stored_name)
            .await;
        return Err(e.into());
    }
    Ok(ctx.steps_url("file", "#files"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_keeps_the_agency_colours_with_readable_text() {
        use baton_core::colour::{contrast, WHITE};
        // Every grey as brand and accent: the text on it reads at 4.5:1.
        for v in 0..=255u8 {
            let c = [v, v, v];
            assert!(contrast(c, text_on(c)) >= 4.5, "grey {v}");
            assert!(contrast(readable_on_white(c), WHITE) >= 4.5, "grey {v}");
        }
        // A dark brand carries white text; a light one is kept with ink.
        assert_eq!(
            theme(parse_hex("#1f4fd1").unwrap(), parse_hex("#0f766e").unwrap()),
            ":root{--band:#1f4fd1;--on-band:#ffffff;--btn:#0f766e;--on-btn:#ffffff;\
             --edge:#1f4fd1;--brand-ink:#1f4fd1}\n"
        );
        let light = theme(parse_hex("#f5e663").unwrap(), parse_hex("#ffd700").unwrap());
        assert!(
            light.starts_with(
                ":root{--band:#f5e663;--on-band:#1b1f24;--btn:#ffd700;--on-btn:#1b1f24;"
            ),
            "{light}"
        );
    }

    #[test]
    fn hosts() {
        let mut h = HeaderMap::new();
        for (raw, want) in [
            ("Onboard.Example.com:8443", "onboard.example.com"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("[::1]:8080", "::1"),
            ("example.com", "example.com"),
        ] {
            h.insert(header::HOST, HeaderValue::from_static(raw));
            assert_eq!(request_host(&h).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(
            public_host("https://Ops.Agency.com/baton"),
            "ops.agency.com"
        );
        assert_eq!(public_host("http://127.0.0.1:8080"), "127.0.0.1");
    }

    #[test]
    fn sizes_and_words() {
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(1000), "1000 bytes");
        assert_eq!(size_text(1025), "2 KB");
        assert_eq!(size_text(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(capitalize("must not be empty"), "Must not be empty.");
        assert_eq!(notice_for(Some("nope"), "A", false), None);
        assert!(notice_for(Some("granted"), "Northwind", false)
            .unwrap()
            .contains("Northwind"));
        assert!(notice_for(Some("stuck"), "N", true)
            .unwrap()
            .ends_with("Next, this one:"));
        assert_eq!(missing_note("N", &[]), None);
        assert_eq!(
            missing_note("N", &["Meta Business ID".into()]).unwrap(),
            "Your contact at N will send you the Meta Business ID for this step."
        );
    }
}
