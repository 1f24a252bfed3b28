//! The team's side of onboarding on a client's page: the time-to-verified-
//! access line, the access requests (verify, fail, revoke, waive), the
//! revoke checklist while offboarding, the onboarding links (create with
//! the URL shown once, revoke, regenerate, prepare a reminder) and what the
//! client handed over (intake answers and brand-kit files, downloadable).
//!
//! The client page (`client_page.rs`) renders everything; this module builds
//! the access part of it and holds the handlers of its forms. A refused form
//! comes back on the client page with the message next to it and what was
//! typed kept.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use baton_core::access::{AccessStatus, Mover, WaitingOn};
use baton_core::human;
use baton_core::lifecycle::Lifecycle;
use baton_core::platforms::Platform;
use baton_core::CoreError;
use baton_store::access_requests::{self, AccessRequest, Act, NewRequest};
use baton_store::agencies::Agency;
use baton_store::clients::{self, Client};
use baton_store::onboarding_links::{self, Link};
use baton_store::{
    access_kpis, access_templates, intake, onboarding_settings, platforms, StoreError,
};
use jiff::tz::TimeZone;

use super::client_page::{render_client, Typed};
use super::error_page::form_error;
use super::form::{check_csrf, FormData, QueryData};
use super::layout::{see_other, Opt};
use super::{timefmt, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

/// A file size for people: "812 bytes", "12 KB", "1.4 MB".
fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    }
}

/// The sentences after this module's changes, by `?notice=` key (a fixed
/// set, like `layout::notice_text`).
pub(crate) fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "access_verified" => "Access marked verified.",
        "access_failed" => "Access marked failed. The client sees your reason on their link.",
        "access_revoked" => "Access marked revoked.",
        "access_waived" => "Revoke waived; the reason is on the timeline.",
        "link_revoked" => "Onboarding link revoked. It no longer opens.",
        _ => return None,
    })
}

/// Refusals and one-time results the client page shows again, next to the
/// form that caused them.
#[derive(Default)]
pub(crate) struct AccessTyped {
    link_form: Option<LinkForm>,
    shown: Option<ShownLink>,
    reminder: Option<ReminderView>,
    links_error: Option<String>,
    request_error: Option<RequestError>,
}

/// A refused action on one access request.
struct RequestError {
    id: String,
    action: &'static str,
    message: String,
    typed: String,
}

/// A link URL shown once, right after it was made.
pub struct ShownLink {
    pub heading: &'static str,
    pub url: String,
    /// The same link on the agency's custom domain, when it has one.
    pub custom_url: Option<String>,
    pub expires: String,
}

/// A reminder prepared for the member to copy.
pub struct ReminderView {
    pub text: String,
    pub pending: usize,
    /// The text carries the link (else it points to the earlier message).
    pub includes_link: bool,
    /// The contact it was emailed to, when it went by email.
    pub emailed_to: Option<String>,
}

/// "Waiting on … since …".
pub struct Waiting {
    pub who: &'static str,
    pub at: String,
    pub iso: String,
    pub ago: String,
}

/// One access request as shown.
pub struct RequestView {
    pub id: String,
    pub platform: String,
    pub permission: String,
    pub permission_hint: String,
    pub asset: Option<String>,
    pub required: bool,
    pub status_label: &'static str,
    pub badge: &'static str,
    pub waiting: Option<Waiting>,
    pub stuck: Option<String>,
    pub stuck_at: Option<timefmt::Stamp>,
    pub failed_reason: Option<String>,
    /// "Verified by Ana Ortiz, Tue 3 Mar, 14:05".
    pub verified: Option<String>,
    pub verify_note: Option<String>,
    pub granted: Option<String>,
    pub revoked: Option<String>,
    pub revoke_note: Option<String>,
    pub waived: Option<String>,
    pub waive_reason: Option<String>,
    /// The platform's checks before marking it verified.
    pub verify_hints: Vec<String>,
    pub can_verify: bool,
    pub can_fail: bool,
    pub can_revoke: bool,
    pub can_waive: bool,
    /// The action refused last time ("verify", …) or "".
    pub error_action: &'static str,
    pub error: Option<String>,
    pub typed: String,
}

impl RequestView {
    pub fn has_actions(&self) -> bool {
        self.can_verify || self.can_fail || self.can_revoke || self.can_waive
    }

    /// The disclosure's summary: the moves this request allows ("Verify,
    /// fail or revoke").
    pub fn actions_label(&self) -> String {
        let verbs: Vec<&str> = [
            (self.can_verify, "verify"),
            (self.can_fail, "fail"),
            (self.can_revoke, "revoke"),
            (self.can_waive, "waive"),
        ]
        .into_iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, v)| v)
        .collect();
        let text = match verbs.as_slice() {
            [] => String::new(),
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        };
        let mut chars = text.chars();
        match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}

/// One onboarding link as shown.
pub struct LinkView {
    pub id: String,
    pub created: String,
    pub created_iso: String,
    pub created_by: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    pub badge: &'static str,
    pub expires: String,
    pub expires_iso: String,
    pub opens: i64,
    pub last_opened: Option<timefmt::Stamp>,
    pub reminders: i64,
    pub last_reminded: Option<timefmt::Stamp>,
    pub next_reminder: Option<String>,
    /// Where reminders go by email.
    pub contact: Option<String>,
    pub regenerated: Option<String>,
    pub can_revoke: bool,
    pub can_regenerate: bool,
    pub can_remind: bool,
    /// Its platforms' steps that need agency settings not filled in, as
    /// (message, anchor of the first missing field on Settings → Onboarding);
    /// computed on every render, so filling the value in clears them.
    pub setup_warnings: Vec<(String, String)>,
}

/// What the platforms of link `link_id` lack in the agency's settings now.
fn link_warnings(
    link_id: &str,
    requests: &[AccessRequest],
    catalog: &[Platform],
    settings: &baton_core::onboarding::OnboardingSettings,
) -> Vec<(String, String)> {
    let keys: Vec<&str> = requests
        .iter()
        .filter(|r| r.link_id.as_deref() == Some(link_id) && r.status != AccessStatus::Revoked)
        .map(|r| r.platform.as_str())
        .collect();
    baton_core::platforms::setup_warnings(catalog, &keys, &settings.platform_values)
        .into_iter()
        .map(|w| {
            let anchor = w
                .missing
                .first()
                .map(|f| format!("pv-{}", f.key))
                .unwrap_or_default();
            (w.message(), anchor)
        })
        .collect()
}

/// A platform of the new-link form.
pub struct PlatformChoice {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub asset_label: String,
    pub checked: bool,
    pub optional: bool,
    pub asset: String,
    pub permissions: Vec<Opt>,
}

/// The new-link form as typed.
#[derive(Debug, Clone, Default)]
pub struct LinkForm {
    pub template: String,
    pub expires_in_days: String,
    /// Where scheduled reminders go by email (when SMTP is configured).
    pub contact_email: String,
    /// Ticked platform keys.
    pub picked: Vec<String>,
    /// (platform key, permission, asset, optional) for every platform sent.
    pub rows: Vec<(String, String, String, bool)>,
    pub error: Option<String>,
}

impl LinkForm {
    fn from_form(f: &FormData, catalog: &[Platform]) -> LinkForm {
        LinkForm {
            template: f.string("template"),
            expires_in_days: f.string("expires_in_days"),
            contact_email: f.string("contact_email"),
            picked: f.all("platform"),
            rows: catalog
                .iter()
                .map(|p| {
                    (
                        p.key.clone(),
                        f.string(&format!("perm_{}", p.key)),
                        f.string(&format!("asset_{}", p.key)),
                        f.has(&format!("optional_{}", p.key)),
                    )
                })
                .collect(),
            error: None,
        }
    }

    fn row(&self, key: &str) -> Option<&(String, String, String, bool)> {
        self.rows.iter().find(|r| r.0 == key)
    }
}

/// An intake answer as shown.
pub struct AnswerView {
    pub question: String,
    pub answer: String,
}

/// An uploaded file as shown.
pub struct FileView {
    pub id: String,
    pub name: String,
    pub size: String,
    pub content_type: String,
    pub uploaded: String,
    pub uploaded_iso: String,
    pub uploaded_ago: String,
    pub uploaded_by: String,
}

/// Everything the access part of the client page shows.
pub struct AccessSection {
    pub kpi_line: String,
    pub kpi_hint: Option<String>,
    pub requests: Vec<RequestView>,
    pub offboarding: bool,
    pub revoke_lines: Vec<String>,
    pub closed: bool,
    pub can_create_links: bool,
    pub links: Vec<LinkView>,
    pub shown: Option<ShownLink>,
    pub reminder: Option<ReminderView>,
    pub links_error: Option<String>,
    pub link_form: LinkForm,
    pub form_open: bool,
    pub templates: Vec<Opt>,
    pub platforms: Vec<PlatformChoice>,
    pub default_expiry_days: u32,
    pub answers: Vec<AnswerView>,
    /// When the client last saved answers.
    pub answered: Option<String>,
    pub files: Vec<FileView>,
}

impl AccessSection {
    pub fn revoke_count(&self) -> usize {
        self.revoke_lines.len()
    }
}

fn platform_name(catalog: &[Platform], key: &str) -> String {
    catalog
        .iter()
        .find(|p| p.key == key)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| key.to_string())
}

fn status_badge(s: AccessStatus) -> &'static str {
    match s {
        AccessStatus::Requested => "badge-info",
        AccessStatus::GrantedByClient | AccessStatus::Failed => "badge-warn",
        AccessStatus::Verified => "badge-status-active",
        AccessStatus::Revoked => "badge-status-deactivated",
    }
}

fn when(by: Option<&str>, at: Option<i64>, tz: &TimeZone) -> Option<String> {
    let at = at?;
    Some(match by {
        Some(b) if !b.is_empty() => format!("{b}, {}", timefmt::local(at, tz)),
        _ => timefmt::local(at, tz),
    })
}

fn request_view(
    r: AccessRequest,
    catalog: &[Platform],
    lifecycle: Lifecycle,
    tz: &TimeZone,
    now: i64,
    error: Option<&RequestError>,
) -> RequestView {
    let p = catalog.iter().find(|p| p.key == r.platform);
    let perm = p.and_then(|p| p.permission(&r.permission));
    let open = !matches!(lifecycle, Lifecycle::Archived);
    let waiting = r.waiting_on().map(|w| Waiting {
        who: match w {
            WaitingOn::Client => "Waiting on the client",
            WaitingOn::Agency => "Waiting on us",
        },
        at: timefmt::local(r.status_at, tz),
        iso: timefmt::machine(r.status_at),
        ago: timefmt::relative(r.status_at, now),
    });
    let s = r.status;
    let error = error.filter(|e| e.id == r.id);
    let granted_by = r.granted_by.as_deref().map(|b| match b {
        "client" => "the client",
        "connector" => "a connector",
        other => other,
    });
    RequestView {
        platform: p
            .map(|p| p.name.clone())
            .unwrap_or_else(|| r.platform.clone()),
        permission: perm
            .map(|x| x.name.clone())
            .unwrap_or_else(|| r.permission.clone()),
        permission_hint: perm.map(|x| x.description.clone()).unwrap_or_default(),
        asset: r.asset.clone(),
        required: r.required,
        status_label: if r.withdrawn() {
            "Withdrawn"
        } else {
            s.label()
        },
        badge: status_badge(s),
        waiting,
        stuck_at: r.stuck_at.map(|t| timefmt::stamp(t, now, tz)),
        stuck: r.stuck_message.clone(),
        failed_reason: (s == AccessStatus::Failed)
            .then(|| r.failed_reason.clone())
            .flatten(),
        verified: when(r.verified_by.as_deref(), r.verified_at, tz),
        verify_note: r.verify_note.clone(),
        granted: when(granted_by, r.granted_at, tz),
        revoked: when(r.revoked_by.as_deref(), r.revoked_at, tz),
        revoke_note: r.revoke_note.clone(),
        waived: when(r.waived_by.as_deref(), r.waived_at, tz),
        waive_reason: r.waive_reason.clone(),
        verify_hints: p.map(|p| p.verify.clone()).unwrap_or_default(),
        can_verify: open
            && matches!(
                s,
                AccessStatus::Requested | AccessStatus::GrantedByClient | AccessStatus::Failed
            ),
        can_fail: open && matches!(s, AccessStatus::GrantedByClient | AccessStatus::Verified),
        can_revoke: open && s != AccessStatus::Revoked,
        can_waive: lifecycle == Lifecycle::Offboarding && r.needs_revoke(),
        error_action: error.map(|e| e.action).unwrap_or(""),
        error: error.map(|e| e.message.clone()),
        typed: error.map(|e| e.typed.clone()).unwrap_or_default(),
        id: r.id,
    }
}

fn link_view(l: Link, lifecycle: Lifecycle, tz: &TimeZone, now: i64) -> LinkView {
    let state = l.state(now);
    let live = matches!(
        lifecycle,
        Lifecycle::Won | Lifecycle::Onboarding | Lifecycle::Active
    );
    LinkView {
        created: timefmt::local(l.created_at, tz),
        created_iso: timefmt::machine(l.created_at),
        created_by: l.created_by,
        state,
        badge: match state {
            "active" => "badge-status-active",
            "expired" => "badge-warn",
            _ => "badge-status-deactivated",
        },
        expires: timefmt::local(l.expires_at, tz),
        expires_iso: timefmt::machine(l.expires_at),
        opens: l.open_count,
        last_opened: l.last_opened_at.map(|t| timefmt::stamp(t, now, tz)),
        reminders: l.reminder_count,
        last_reminded: l.last_reminded_at.map(|t| timefmt::stamp(t, now, tz)),
        next_reminder: l.next_reminder_at.map(|t| timefmt::local(t, tz)),
        contact: l.contact_email,
        regenerated: l.regenerated_at.map(|t| timefmt::local(t, tz)),
        can_revoke: state == "active",
        can_regenerate: live,
        can_remind: live && state == "active",
        setup_warnings: Vec::new(),
        id: l.id,
    }
}

/// The KPI line and a hint.
fn kpi_line(
    kpi: &access_kpis::ClientAccessKpi,
    requests: &[AccessRequest],
    tz: &TimeZone,
    calendar: &baton_core::calendar::Calendar,
) -> (String, Option<String>) {
    if let (Some(ms), Some(signed), Some(done)) = (
        kpi.time_to_verified_access_ms,
        kpi.contract_signed_at,
        kpi.access_complete_at,
    ) {
        return (
            format!(
                "Time to verified access: {} ({} in business time; contract signed {} → access complete {})",
                human::duration(ms),
                human::business_duration(
                    calendar.business_between(signed, done),
                    calendar.business_days_ms(1.0)
                ),
                timefmt::local_date(signed, tz),
                timefmt::local_date(done, tz)
            ),
            None,
        );
    }
    if let Some(done) = kpi.access_complete_at {
        return (
            format!("Access complete since {}", timefmt::local_date(done, tz)),
            Some(
                "Record “Contract signed” on the timeline to measure the time to verified access."
                    .into(),
            ),
        );
    }
    if requests.is_empty() {
        return (
            "No access requested yet.".into(),
            Some("Create an onboarding link below to ask the client for access.".into()),
        );
    }
    let required: Vec<&AccessRequest> = requests
        .iter()
        .filter(|r| r.required && r.status != AccessStatus::Revoked)
        .collect();
    let verified = required
        .iter()
        .filter(|r| r.status == AccessStatus::Verified)
        .count();
    let mut line = format!(
        "Waiting: {verified} of {} required request{} verified",
        required.len(),
        if required.len() == 1 { "" } else { "s" }
    );
    let mut parts = Vec::new();
    if kpi.waiting_on_client > 0 {
        parts.push(format!("{} waiting on the client", kpi.waiting_on_client));
    }
    if kpi.waiting_on_agency > 0 {
        parts.push(format!("{} waiting on us", kpi.waiting_on_agency));
    }
    if !parts.is_empty() {
        line.push_str("; ");
        line.push_str(&parts.join(", "));
    }
    let hint = kpi.contract_signed_at.is_none().then(|| {
        "No contract signature recorded yet: record “Contract signed” to start the clock.".into()
    });
    (line, hint)
}

/// Builds the access part of a client's page.
pub(crate) async fn section(
    state: &AppState,
    agency: &Agency,
    client: &Client,
    tz: &TimeZone,
    now: i64,
    typed: AccessTyped,
) -> Result<AccessSection, WebError> {
    let db = &state.db;
    let agency_id = agency.id.as_str();
    let catalog = platforms::catalog(db, agency_id).await?;
    let requests = access_requests::list_for_client(db, agency_id, &client.id).await?;
    let kpi = access_kpis::client(db, agency_id, &client.id).await?;
    let links = onboarding_links::list_for_client(db, agency_id, &client.id).await?;
    let settings = onboarding_settings::get(db, agency_id).await?;
    let templates = access_templates::list(db, agency_id).await?;
    let answers = intake::answers(db, agency_id, &client.id).await?;
    let answered = answers
        .iter()
        .map(|a| a.answered_at)
        .max()
        .map(|t| timefmt::local(t, tz));
    let files = intake::files(db, agency_id, &client.id).await?;

    let lifecycle = client.lifecycle;
    let (calendar, _) = baton_store::calendars::get(db, agency_id).await?;
    let (kpi_line, kpi_hint) = kpi_line(&kpi, &requests, tz, &calendar);
    let revoke_lines = requests
        .iter()
        .filter(|r| r.needs_revoke())
        .map(|r| {
            let name = platform_name(&catalog, &r.platform);
            match &r.asset {
                Some(a) => format!("{name}: {a}"),
                None => name,
            }
        })
        .collect();
    let can_create_links = matches!(
        lifecycle,
        Lifecycle::Won | Lifecycle::Onboarding | Lifecycle::Active
    );
    let link_form = typed.link_form.unwrap_or_else(|| LinkForm {
        expires_in_days: settings.link_expiry_days.to_string(),
        ..LinkForm::default()
    });
    let platforms = catalog
        .iter()
        .map(|p| {
            let row = link_form.row(&p.key);
            let chosen = row
                .map(|r| r.1.as_str())
                .filter(|v| !v.is_empty())
                .unwrap_or(&p.default_permission);
            PlatformChoice {
                key: p.key.clone(),
                name: p.name.clone(),
                vendor: p.vendor.clone(),
                asset_label: p.asset_label.clone(),
                checked: link_form.picked.iter().any(|k| k == &p.key),
                optional: row.is_some_and(|r| r.3),
                asset: row.map(|r| r.2.clone()).unwrap_or_default(),
                permissions: p
                    .permissions
                    .iter()
                    .map(|x| {
                        let label = if x.key == p.default_permission {
                            format!("{} (suggested)", x.name)
                        } else {
                            x.name.clone()
                        };
                        Opt::new(x.key.clone(), label, chosen)
                    })
                    .collect(),
            }
        })
        .collect();
    let template_opts = templates
        .iter()
        .map(|t| {
            let names: Vec<String> = t
                .requests
                .iter()
                .map(|r| platform_name(&catalog, &r.platform))
                .collect();
            Opt::new(
                t.id.clone(),
                format!("{} ({})", t.name, names.join(", ")),
                &link_form.template,
            )
        })
        .collect();
    let form_open = link_form.error.is_some() || (links.is_empty() && can_create_links);
    let links = links
        .into_iter()
        .map(|l| {
            let mut view = link_view(l, lifecycle, tz, now);
            if view.state == "active" {
                view.setup_warnings = link_warnings(&view.id, &requests, &catalog, &settings);
            }
            view
        })
        .collect();
    Ok(AccessSection {
        kpi_line,
        kpi_hint,
        requests: requests
            .into_iter()
            .map(|r| {
                request_view(
                    r,
                    &catalog,
                    lifecycle,
                    tz,
                    now,
                    typed.request_error.as_ref(),
                )
            })
            .collect(),
        offboarding: lifecycle == Lifecycle::Offboarding,
        revoke_lines,
        closed: lifecycle == Lifecycle::Archived,
        can_create_links,
        links,
        shown: typed.shown,
        reminder: typed.reminder,
        links_error: typed.links_error,
        form_open,
        link_form,
        templates: template_opts,
        platforms,
        default_expiry_days: settings.link_expiry_days,
        answered,
        answers: answers
            .into_iter()
            .map(|a| AnswerView {
                question: a.question,
                answer: a.answer,
            })
            .collect(),
        files: files
            .into_iter()
            .map(|f| FileView {
                size: size(f.size_bytes),
                uploaded: timefmt::local(f.uploaded_at, tz),
                uploaded_iso: timefmt::machine(f.uploaded_at),
                uploaded_ago: timefmt::relative(f.uploaded_at, now),
                uploaded_by: match f.uploaded_by.as_str() {
                    "" => "the client".into(),
                    other => other.to_string(),
                },
                content_type: f.content_type,
                name: f.name,
                id: f.id,
            })
            .collect(),
    })
}

/// Re-renders the client page with `access` filled in.
async fn show_page(
    state: &AppState,
    session: &WebSession,
    id: &str,
    access: AccessTyped,
    status: StatusCode,
) -> Result<Response, WebError> {
    render_client(
        state,
        session,
        id,
        &QueryData::default(),
        Typed::access(access),
        status,
    )
    .await
}

/// A store refusal of a new link, worded for the form.
fn link_error(e: StoreError, requests: &[NewRequest], catalog: &[Platform]) -> WebError {
    let StoreError::Core(CoreError::Invalid { field, message }) = e else {
        return e.into();
    };
    if field == "expires_in_days" {
        return WebError::Invalid(format!("Expires in: {message} days."));
    }
    if field == "requests" {
        return WebError::Invalid(format!("Requests: {message}."));
    }
    // "requests[2].asset" → the third request's platform.
    let index = field
        .strip_prefix("requests[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse::<usize>().ok());
    match index.and_then(|i| requests.get(i)) {
        Some(r) => {
            let name = platform_name(catalog, &r.platform);
            if field.ends_with(".asset") {
                WebError::Invalid(format!("{name}, what to share: {message}."))
            } else if field.ends_with(".permission") || field.ends_with(".platform") {
                WebError::Invalid(format!("{name}: {message}."))
            } else {
                WebError::Invalid(format!(
                    "{message}: untick it or choose a template without it."
                ))
            }
        }
        None => StoreError::Core(CoreError::Invalid { field, message }).into(),
    }
}

/// The URL(s) of a link just made, for showing once.
fn shown(
    state: &AppState,
    agency: &Agency,
    token: &str,
    link: &Link,
    heading: &'static str,
) -> ShownLink {
    let tz = timefmt::zone(&agency.timezone);
    ShownLink {
        heading,
        url: state.config.onboarding_url(token),
        custom_url: agency
            .custom_domain
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("https://{d}/o/{token}")),
        expires: timefmt::local(link.expires_at, &tz),
    }
}

/// `POST /clients/{id}/links`: creates an onboarding link from a template
/// and/or ticked platforms, then shows its URL once (no redirect: the token
/// exists only in this response).
pub async fn create_link(
    State(state): State<AppState>,
    session: WebSession,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let agency_id = session.agency_id();
    clients::get(&state.db, agency_id, &id).await?;
    let catalog = platforms::catalog(&state.db, agency_id).await?;
    let mut typed = LinkForm::from_form(&form, &catalog);
    let result = async {
        let mut requests: Vec<NewRequest> = Vec::new();
        let template = typed.template.trim();
        if !template.is_empty() {
            let t = access_templates::get(&state.db, agency_id, template)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        WebError::Invalid("Choose a template from the list.".into())
                    }
                    other => other.into(),
                })?;
            requests.extend(t.requests);
        }
        for key in &typed.picked {
            let (permission, asset, optional) = typed
                .row(key)
                .map(|r| (r.1.clone(), r.2.clone(), r.3))
                .unwrap_or_default();
            requests.push(NewRequest {
                platform: key.clone(),
                permission,
                asset: Some(asset).filter(|a| !a.trim().is_empty()),
                required: !optional,
            });
        }
        if requests.is_empty() {
            return Err(WebError::Invalid(
                "Choose a template or tick at least one platform.".into(),
            ));
        }
        let days = match typed.expires_in_days.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| {
                WebError::Invalid("Expires in: enter a number of days, like 30.".into())
            })?),
        };
        onboarding_links::create(
            &state.db,
            agency_id,
            &session.actor,
            state.now(),
            &id,
            requests.clone(),
            days,
            Some(typed.contact_email.as_str()),
            &state.config.secret_key,
        )
        .await
        .map_err(|e| link_error(e, &requests, &catalog))
    }
    .await;
    match result {
        Ok(created) => {
            let agency = super::layout::agency_of(&state, &session).await?;
            let access = AccessTyped {
                shown: Some(shown(
                    &state,
                    &agency,
                    &created.token,
                    &created.link,
                    "Onboarding link created.",
                )),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Err(e) => {
            let (status, message) = form_error(e)?;
            typed.error = Some(message);
            let access = AccessTyped {
                link_form: Some(typed),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, status).await
        }
    }
}

/// The link `lid` when it belongs to client `id` (else 404).
async fn client_link(
    state: &AppState,
    session: &WebSession,
    id: &str,
    lid: &str,
) -> Result<Link, WebError> {
    let link = onboarding_links::get(&state.db, session.agency_id(), lid).await?;
    if link.client_id != id {
        return Err(WebError::NotFound);
    }
    Ok(link)
}

/// Shows a refusal of a link action above the links table.
async fn links_refused(
    state: &AppState,
    session: &WebSession,
    id: &str,
    e: WebError,
) -> Result<Response, WebError> {
    let (status, message) = form_error(e)?;
    let access = AccessTyped {
        links_error: Some(message),
        ..AccessTyped::default()
    };
    show_page(state, session, id, access, status).await
}

/// `POST /clients/{id}/links/{lid}/revoke`
pub async fn revoke_link(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    match onboarding_links::revoke(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &lid,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice=link_revoked#links"
        ))),
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}

/// `POST /clients/{id}/links/{lid}/regenerate`: a new token for the same
/// requests, shown once; the old URL stops working.
pub async fn regenerate_link(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    let result = onboarding_links::regenerate(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &lid,
        None,
        &state.config.secret_key,
    )
    .await;
    match result {
        Ok((link, token)) => {
            let agency = super::layout::agency_of(&state, &session).await?;
            let access = AccessTyped {
                shown: Some(shown(
                    &state,
                    &agency,
                    &token,
                    &link,
                    "New link made: the old one no longer opens.",
                )),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}

/// `POST /clients/{id}/links/{lid}/remind`: prepares the reminder text, with
/// the link in it when the server can derive it, for the member to copy (or
/// emails it to the link's contact when SMTP is configured).
pub async fn remind_link(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, lid)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    client_link(&state, &session, &id, &lid).await?;
    let url = crate::reminders::link_url(&state, session.agency_id(), &lid).await?;
    let result = onboarding_links::remind(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &lid,
        false,
        state.mailer.is_some(),
        url.as_deref(),
    )
    .await;
    match result {
        Ok(Some(r)) => {
            let access = AccessTyped {
                reminder: Some(ReminderView {
                    emailed_to: if r.channel == "email" {
                        onboarding_links::get(&state.db, session.agency_id(), &lid)
                            .await?
                            .contact_email
                    } else {
                        None
                    },
                    text: r.text,
                    pending: r.pending,
                    includes_link: r.includes_link,
                }),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, StatusCode::OK).await
        }
        Ok(None) => {
            let e = WebError::Conflict("Nothing on this link is waiting on the client.".into());
            links_refused(&state, &session, &id, e).await
        }
        Err(StoreError::Core(CoreError::Conflict(m))) => {
            let e = WebError::Conflict(format!("No reminder needed: {m}."));
            links_refused(&state, &session, &id, e).await
        }
        Err(e) => links_refused(&state, &session, &id, e.into()).await,
    }
}

/// A refusal of a request action, worded for its form.
fn act_error(action: &str, e: StoreError) -> WebError {
    match e {
        StoreError::Core(CoreError::Invalid { message, .. }) if message == "must not be empty" => {
            WebError::Invalid(
                match action {
                    "verify" => "Say what you checked before marking the access verified.",
                    "fail" => "Say what does not work: the client sees this reason.",
                    "waive" => "Say why this access is not revoked.",
                    _ => "This field must not be empty.",
                }
                .into(),
            )
        }
        StoreError::Core(CoreError::Invalid { message, .. }) => {
            let label = match action {
                "fail" | "waive" => "Reason",
                _ => "Note",
            };
            WebError::Invalid(format!("{label}: {message}."))
        }
        StoreError::Core(CoreError::Conflict(m)) => WebError::Conflict(format!(
            "{}{}.",
            m.get(..1).unwrap_or("").to_uppercase(),
            m.get(1..).unwrap_or("")
        )),
        other => other.into(),
    }
}

/// `POST /clients/{id}/access/{rid}/{verify|fail|revoke|waive}`
pub async fn act(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, rid, action)): Path<(String, String, String)>,
    form: FormData,
) -> Result<Response, WebError> {
    check_csrf(&session, &form)?;
    let (action, field, notice): (&'static str, &str, &str) = match action.as_str() {
        "verify" => ("verify", "note", "access_verified"),
        "fail" => ("fail", "reason", "access_failed"),
        "revoke" => ("revoke", "note", "access_revoked"),
        "waive" => ("waive", "reason", "access_waived"),
        _ => return Err(WebError::NotFound),
    };
    let request = access_requests::get(&state.db, session.agency_id(), &rid).await?;
    if request.client_id != id {
        return Err(WebError::NotFound);
    }
    let text = form.string(field);
    let what = match action {
        "verify" => Act::Verify {
            mover: Mover::Member,
            note: text.clone(),
        },
        "fail" => Act::Fail {
            mover: Mover::Member,
            reason: text.clone(),
        },
        "revoke" => Act::Revoke {
            mover: Mover::Member,
            note: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        },
        _ => Act::Waive {
            reason: text.clone(),
        },
    };
    let result = access_requests::act(
        &state.db,
        session.agency_id(),
        &session.actor,
        state.now(),
        &rid,
        what,
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/clients/{id}?notice={notice}#req-{rid}"
        ))),
        Err(e) => {
            let (status, message) = form_error(act_error(action, e))?;
            let access = AccessTyped {
                request_error: Some(RequestError {
                    id: rid,
                    action,
                    message,
                    typed: text,
                }),
                ..AccessTyped::default()
            };
            show_page(&state, &session, &id, access, status).await
        }
    }
}

/// `name` as a quoted-string value: visible ASCII without quotes or
/// backslashes (others become `_`).
fn ascii_file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.trim().is_empty() {
        "download".into()
    } else {
        s
    }
}

/// RFC 5987 encoding for `filename*`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The content type a download is served with: the stored one, except
/// types a browser could run as a page (SVG, HTML, XML).
fn download_type(stored: &str) -> HeaderValue {
    let t = stored.trim().to_ascii_lowercase();
    let active = t.contains("svg") || t.contains("html") || t.contains("xml") || t.is_empty();
    if active {
        return HeaderValue::from_static("application/octet-stream");
    }
    HeaderValue::from_str(&t).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `GET /clients/{id}/files/{fid}`: a brand-kit file the client uploaded,
/// always as an attachment in a sandbox.
pub async fn download_file(
    State(state): State<AppState>,
    session: WebSession,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let agency_id = session.agency_id();
    let file = intake::get_file(&state.db, agency_id, &fid).await?;
    if file.client_id != id {
        return Err(WebError::NotFound);
    }
    let read = state
        .config
        .files
        .read(agency_id, &file.client_id, &file.stored_name)
        .await;
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(file = %file.id, "uploaded file is missing from the file store");
            return Err(WebError::NotFound);
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            tracing::warn!(file = %file.id, error = %e, "stored file name refused");
            return Err(WebError::NotFound);
        }
        Err(e) => return Err(WebError::Internal(format!("reading {}: {e}", file.id))),
    };
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_file_name(&file.name),
        percent_encode(&file.name)
    );
    let mut resp = Response::new(Body::from(bytes));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, download_type(&file.content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static(
            "attachment; filename=\"download\"",
        )),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sizes() {
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(12 * 1024), "12 KB");
        assert_eq!(size(1024 * 1024 * 14 / 10), "1.4 MB");
    }

    #[test]
    fn download_headers_are_safe() {
        assert_eq!(download_type("image/png"), "image/png");
        assert_eq!(download_type("image/svg+xml"), "application/octet-stream");
        assert_eq!(download_type("text/html"), "application/octet-stream");
        assert_eq!(download_type("bad\nvalue"), "application/octet-stream");
        assert_eq!(ascii_file_name("logo \"v2\".png"), "logo _v2_.png");
        assert_eq!(ascii_file_name("café.png"), "caf_.png");
        assert_eq!(percent_encode("café v2.png"), "caf%C3%A9%20v2.png");
    }

    #[test]
    fn notices_are_a_fixed_set() {
        assert!(notice_text("access_verified").is_some());
        assert!(notice_text("<script>").is_none());
    }
}
