//! What the access pages share: notices, the layout with the access
//! sub-navigation, the admin check, "since" stamps, the labels of their
//! fields for the one refusal presenter and catalog look-ups.

use std::collections::HashMap;

use axum::http::StatusCode;
use baton_core::platforms::Platform;
use baton_core::CoreError;
use baton_store::agencies::Agency;
use baton_store::StoreError;
use jiff::tz::TimeZone;

use crate::auth::session::WebSession;
use crate::web::form::QueryData;
use crate::web::layout::{notice_text, Layout};
use crate::web::{refusal, timefmt, WebError};

/// The notices of these pages, then the app's shared ones.
pub(super) fn notice(key: Option<&str>) -> Option<&'static str> {
    let key = key?;
    Some(match key {
        "onboarding_saved" => "Onboarding settings saved.",
        "template_saved" => "Access template saved.",
        "template_deleted" => "Access template deleted.",
        "platform_saved" => "Platform saved to the catalog.",
        "platform_deleted" => "Platform removed from the catalog.",
        other => return notice_text(other),
    })
}

pub(super) fn layout(
    agency: &Agency,
    session: &WebSession,
    title: &str,
    nav: &'static str,
    q: Option<&QueryData>,
) -> Layout {
    let mut l = Layout::app(agency, session, title, nav);
    l.notice = notice(q.and_then(|q| q.get("notice")));
    l
}

/// A moment shown as a relative age, with the exact time for `<time>`.
pub struct Since {
    pub iso: String,
    pub local: String,
    pub ago: String,
}

impl Since {
    pub(super) fn at(ms: i64, now: i64, tz: &TimeZone) -> Since {
        Since {
            iso: timefmt::machine(ms),
            local: timefmt::local(ms, tz),
            ago: timefmt::relative(ms, now),
        }
    }
}

/// The fields of these forms as people read them.
pub(super) const LABELS: refusal::Labels = &[
    ("platform_values", "Platform values"),
    ("questions", "Intake questions"),
    ("reminder_every_days", "Remind every"),
    ("reminder_max", "Reminders at most"),
    ("link_expiry_days", "Link expiry"),
    ("welcome", "Welcome text"),
    ("vendor", "Vendor"),
    ("asset_label", "Asset label"),
    ("permissions", "Permission levels"),
    ("default_permission", "Default permission"),
    ("settings", "Settings it needs"),
    ("instructions", "Instructions"),
    ("mistakes", "Mistakes to avoid"),
    ("verify", "Verification checklist"),
    ("requests", "Platforms"),
];

/// A refused form's status and message, in the words of these forms (a
/// field of one request, `requests[2].permission`, is the "Platforms"
/// field); any other error becomes an error page.
pub(super) fn refusal(e: StoreError) -> Result<(StatusCode, String), WebError> {
    let e = match e {
        StoreError::Core(CoreError::Invalid { field, message })
            if field.starts_with("requests[") =>
        {
            StoreError::Core(CoreError::Invalid {
                field: "requests".into(),
                message,
            })
        }
        other => other,
    };
    refusal::present(e, LABELS)
}

/// Platforms by key, for lookups while building many lines.
pub(super) fn by_key(all: &[Platform]) -> HashMap<&str, &Platform> {
    all.iter().map(|p| (p.key.as_str(), p)).collect()
}

/// The platform's and the permission's names (the keys when unknown).
pub(super) fn names(
    cat: &HashMap<&str, &Platform>,
    platform: &str,
    permission: &str,
) -> (String, String) {
    match cat.get(platform) {
        Some(p) => (
            p.name.clone(),
            p.permission(permission)
                .map_or_else(|| permission.to_string(), |x| x.name.clone()),
        ),
        None => (platform.to_string(), permission.to_string()),
    }
}

/// Non-empty trimmed lines of a textarea.
pub(super) fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
