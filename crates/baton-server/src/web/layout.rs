//! What every page shares: the top bar (agency name, logo and colours, the
//! nav, the member and the logout form), the one-line notice after a change,
//! and turning a template into a response.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use baton_store::agencies::{self, Agency};

use super::{assets, WebError};
use crate::auth::session::WebSession;
use crate::state::AppState;

/// The frame of a page, handed to `templates/base.html`.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's own title (the `<title>` adds the brand).
    pub title: String,
    /// The agency's name, or "Baton" on pages outside any agency.
    pub brand: String,
    pub logo_url: Option<String>,
    pub css_href: String,
    pub js_href: String,
    /// The agency's colour sheet (`/static/theme.css?b=…&a=…`).
    pub theme_href: String,
    /// The logged-in member, when there is one.
    pub user: Option<UserBar>,
    /// The session's CSRF token for the page's forms ("" without a session).
    pub csrf: String,
    /// Which nav item is the current page ("dashboard", "team", …).
    pub nav: &'static str,
    pub notice: Option<&'static str>,
    /// A fresh single-use nonce for the page's create forms (see
    /// [`super::prg`]): a second submit of the same form writes nothing.
    pub nonce: String,
}

/// The member part of the top bar.
#[derive(Debug, Clone)]
pub struct UserBar {
    pub name: String,
    pub is_admin: bool,
}

impl Layout {
    /// A page outside any agency (login, errors).
    pub fn public(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            brand: "Baton".into(),
            logo_url: None,
            css_href: assets::css_href(),
            js_href: assets::js_href(),
            theme_href: assets::theme_href(agencies::DEFAULT_BRAND, agencies::DEFAULT_ACCENT),
            user: None,
            csrf: String::new(),
            nav: "",
            notice: None,
            nonce: form_nonce(),
        }
    }

    /// A page in an agency's colours, before anyone is logged in (invites).
    pub fn branded(agency: &Agency, title: impl Into<String>) -> Layout {
        Layout {
            brand: agency.name.clone(),
            logo_url: agency.logo_url.clone(),
            theme_href: assets::theme_href(&agency.brand_color, &agency.accent_color),
            ..Layout::public(title)
        }
    }

    /// A page of the app for a logged-in member.
    pub fn app(
        agency: &Agency,
        session: &WebSession,
        title: impl Into<String>,
        nav: &'static str,
    ) -> Layout {
        Layout {
            user: Some(UserBar {
                name: session.member().name.clone(),
                is_admin: session.member().is_admin,
            }),
            csrf: session.csrf().to_string(),
            nav,
            ..Layout::branded(agency, title)
        }
    }

    /// Shows the notice named by `?notice=` (a fixed set: the query cannot
    /// put arbitrary text on the page).
    pub fn with_notice(mut self, key: Option<&str>) -> Layout {
        self.notice = key.and_then(notice_text);
        self
    }
}

/// A fresh form nonce: 128 random bits from the thread's CSPRNG (no system
/// call per page), which only has to be unique per rendered form.
fn form_nonce() -> String {
    baton_core::secret::hex(&rand::random::<[u8; 16]>())
}

/// The sentence for a notice key.
pub fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "client_created" => "Client created.",
        "client_saved" => "Client details saved.",
        "team_saved" => "Account team saved.",
        "event_recorded" => "Event recorded on the timeline.",
        "move_corrected" => "Last move corrected: the client is back where it was, with what the move withdrew or cancelled.",
        "settings_saved" => "Settings saved.",
        "domain_pending" => {
            "Settings saved. Add the DNS record below: Baton uses the custom domain once it sees it."
        }
        "domain_verified" => "Custom domain verified: client links use it now.",
        "domain_not_verified" => {
            "Custom domain not verified yet: Baton did not find the TXT record's value. See what it found below."
        }
        "domain_changed" => "The custom domain changed while it was being checked. Check again.",
        "domain_none" => "No custom domain is set.",
        "password_changed" => "Password changed. Your other sessions were signed out.",
        "token_revoked" => "Token revoked. It no longer works.",
        "feed_revoked" => "Calendar feed revoked: its URL no longer works.",
        "feed_none" => "There was no calendar feed to revoke.",
        "member_deactivated" => {
            "Member deactivated: their sessions ended and their API tokens were revoked."
        }
        "member_reactivated" => "Member reactivated.",
        "scorecard_shipped" => "Scorecard shipped: its insights and actions are recorded, the week's values frozen, and the weekly performance runs it covers are done.",
        "measurable_saved" => "Measurable saved.",
        "value_saved" => "Value saved.",
        "scorecard_action_done" => "Action marked done: next week's scorecard shows it shipped.",
        "meeting_held" => "Artifact attached: the meeting counts as held, and its decisions are recorded.",
        "decision_done" => "Decision marked done.",
        "revision_resized" => "Revision re-sized: the rework rate counts the round by its new size, and the timeline keeps why.",
        "incident_reported" => {
            "Incident reported. Triage is due within the severity's triage time, day or night: confirm the severity, name a lead, write the plan."
        }
        "incident_triaged" => "Incident triaged: the triage clock stopped.",
        "incident_moved" => "Incident updated.",
        "postmortem_saved" => "Postmortem saved.",
        "note_added" => "Added to the timeline.",
        "action_done" => "Follow-up action done.",
        _ => return None,
    })
}

/// The agency of the logged-in member.
pub async fn agency_of(state: &AppState, session: &WebSession) -> Result<Agency, WebError> {
    Ok(agencies::get(&state.db, session.agency_id()).await?)
}

/// Renders a page with `status`. Pages are never cached: they show private
/// data and sometimes a secret shown once.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(e) => WebError::Internal(format!("template failed: {e}")).into_response(),
    }
}

/// An HTML body with the headers every page carries.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// 303 to `to` (after a successful form); a target that cannot be a header
/// (never built from raw input, but be safe) goes to the dashboard.
pub fn see_other(to: &str) -> Response {
    if HeaderValue::from_str(to).is_ok() {
        Redirect::to(to).into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

/// A `<select>` option.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Opt {
        let value = value.into();
        Opt {
            selected: value == current,
            value,
            label: label.into(),
        }
    }
}
