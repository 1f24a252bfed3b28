//! What the portal's pages share: the frame of a page, what a refused form
//! left (errors, the anchor to open at), the notice after a form, and the
//! small wording helpers.

use std::collections::BTreeMap;

use axum::response::Response;
use baton_core::access::AccessStatus;
use baton_store::access_requests::AccessRequest;

use super::context::Ctx;
use crate::web::form::QueryData;

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

/// What a refused form leaves on the re-rendered page.
#[derive(Default)]
pub(super) struct Refused {
    /// (request id, message) at the top of a card.
    pub(super) card_alert: Option<(String, String)>,
    /// (request id, typed text, error) of the "I'm stuck" form shown open
    /// (also without a refusal, when the client asked for it).
    pub(super) stuck: Option<(String, String, Option<String>)>,
    /// The answers as typed, and errors by question key.
    pub(super) answers: Option<BTreeMap<String, String>>,
    pub(super) answer_errors: BTreeMap<String, String>,
    pub(super) answers_alert: Option<String>,
    pub(super) file_error: Option<String>,
}

impl Refused {
    /// The element the page opens at: the field (or card) refused first.
    pub(super) fn anchor(&self) -> String {
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
pub(super) fn refused_page(ctx: &Ctx, resp: Response, anchor: &str) -> Response {
    crate::web::prg::show_at(resp, format!("{}/steps#{anchor}", ctx.base()))
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(super) fn size_text(bytes: i64) -> String {
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

pub(super) fn status_words(r: &AccessRequest, agency: &str) -> (&'static str, String) {
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
pub(super) struct Notice {
    pub(super) text: Option<String>,
    /// What happened (`granted`, `answers`, …), when `text` is set.
    pub(super) done: Option<String>,
    /// The request id of the card it shows in.
    pub(super) card: Option<String>,
}

impl Notice {
    pub(super) fn from_query(q: &QueryData, ctx: &Ctx) -> Notice {
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
pub(super) fn missing_note(agency: &str, labels: &[String]) -> Option<String> {
    let list = match labels {
        [] => return None,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and the {last}", rest.join(", ")),
    };
    Some(format!(
        "Your contact at {agency} will send you the {list} for this step."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_words() {
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(1000), "1000 bytes");
        assert_eq!(size_text(1025), "2 KB");
        assert_eq!(size_text(5 * 1024 * 1024), "5.0 MB");
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
