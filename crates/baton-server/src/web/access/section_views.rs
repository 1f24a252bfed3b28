//! The views of the access part of a client's page: requests with their
//! state and actions, onboarding links with their warnings, the new-link
//! form, what the client handed over, and the time-to-verified-access line.

use baton_core::access::{AccessStatus, WaitingOn};
use baton_core::connectors::ConnectorPlatform;
use baton_core::human;
use baton_core::lifecycle::Lifecycle;
use baton_core::platforms::Platform;
use baton_store::access_kpis;
use baton_store::access_requests::AccessRequest;
use baton_store::intake::ClientFile;
use baton_store::onboarding_links::Link;
use jiff::tz::TimeZone;

use crate::web::layout::Opt;
use crate::web::timefmt;

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
        "access_checked" => "Checked through the platform: the result is on the request.",
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
    pub(super) link_form: Option<LinkForm>,
    pub(super) shown: Option<ShownLink>,
    pub(super) reminder: Option<ReminderView>,
    pub(super) links_error: Option<String>,
    pub(super) request_error: Option<RequestError>,
}

/// A refused action on one access request.
pub(super) struct RequestError {
    pub(super) id: String,
    pub(super) action: &'static str,
    pub(super) message: String,
    pub(super) typed: String,
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
    /// The last connector check, in a sentence.
    pub check: Option<String>,
    /// The platform has a connector: "Check now" asks it.
    pub can_check: bool,
}

/// The last connector check of `r` (or the one queued), in a sentence.
pub(super) fn check_line(r: &AccessRequest, tz: &TimeZone, now: i64) -> Option<String> {
    let label = ConnectorPlatform::for_request(&r.platform)?.label();
    let ago = r
        .checked_at
        .map(|t| format!(" (checked {})", timefmt::relative(t, now)))
        .unwrap_or_default();
    let next = r
        .next_check_at
        .map(|t| format!(" Next look: {}.", timefmt::local(t, tz)))
        .unwrap_or_default();
    let detail = r.check_detail.as_deref().unwrap_or("");
    Some(match r.check_state.as_deref() {
        None => {
            r.next_check_at?;
            format!("Queued for a check through {label}.")
        }
        Some("verified") => match &r.evidence {
            Some(e) => format!(
                "{label} lists it: {} on {}{ago}.{next}",
                e.role,
                e.asset_name.as_deref().unwrap_or(&e.asset)
            ),
            None => format!("{label}: {detail}{ago}.{next}"),
        },
        Some("pending") => format!("{label} shows it waiting on the client: {detail}{ago}.{next}"),
        Some("missing") => format!("{label} does not list it: {detail}{ago}.{next}"),
        Some(_) => {
            format!("Could not check through {label}: {detail}{ago}. Nothing was concluded.{next}")
        }
    })
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
pub(super) fn link_warnings(
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
    pub(super) fn row(&self, key: &str) -> Option<&(String, String, String, bool)> {
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

pub(super) fn platform_name(catalog: &[Platform], key: &str) -> String {
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

pub(super) fn request_view(
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
    let error = error.filter(|e| r.id == e.id.as_str());
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
        check: check_line(&r, tz, now),
        can_check: open && !r.withdrawn() && ConnectorPlatform::for_request(&r.platform).is_some(),
        id: r.id.into(),
    }
}

pub(super) fn link_view(l: Link, lifecycle: Lifecycle, tz: &TimeZone, now: i64) -> LinkView {
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
        id: l.id.into(),
    }
}

/// The KPI line and a hint.
pub(super) fn kpi_line(
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

/// A platform of the new-link form, as picked (or with its suggested
/// permission).
pub(super) fn platform_choice(p: &Platform, link_form: &LinkForm) -> PlatformChoice {
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
}

/// A file the client handed over, as listed.
pub(super) fn file_view(f: ClientFile, tz: &TimeZone, now: i64) -> FileView {
    FileView {
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
    }
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
    fn notices_are_a_fixed_set() {
        assert!(notice_text("access_verified").is_some());
        assert!(notice_text("<script>").is_none());
    }
}
