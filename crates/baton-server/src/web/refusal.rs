//! The one presenter of a refused form: a store or core error becomes the
//! status and the sentence shown next to what the person typed, the field
//! named the way the form labels it ("Offer: must be at most 5000
//! characters."). Each feature passes its own labels (the same store field can
//! be labelled differently on two forms: `items` is an SOP run's "Checklist"
//! but a content item's "QA checklist"); fields no feature labels fall back to
//! [`COMMON`]. Errors a form cannot show (not found, a failure) become the
//! error page.

use axum::http::StatusCode;
use baton_core::CoreError;
use baton_store::StoreError;

use super::WebError;

/// A feature's form fields as its forms label them.
pub type Labels = &'static [(&'static str, &'static str)];

/// Labels shared by the forms of several features.
pub const COMMON: Labels = &[
    ("name", "Name"),
    ("key", "Key"),
    ("website", "Website"),
    ("notes", "Notes"),
    ("email", "Email"),
    ("traffic_control", "Traffic-control owner"),
    ("team", "Account team"),
    ("occurred_at", "Occurred at"),
    ("note", "Note"),
    ("reason", "Reason"),
    ("type", "Event"),
    ("timezone", "Time zone"),
    ("brand_color", "Brand colour"),
    ("accent_color", "Accent colour"),
    ("logo_url", "Logo URL"),
    ("custom_domain", "Custom domain"),
    ("password", "Password"),
    ("roles", "Roles"),
    ("scope", "Scope"),
];

/// `field` as labelled by `labels`, else by [`COMMON`], else itself.
pub fn label(labels: Labels, field: &str) -> &str {
    labels
        .iter()
        .chain(COMMON)
        .find(|(f, _)| *f == field)
        .map(|(_, l)| *l)
        .unwrap_or(field)
}

/// "the item is cancelled" → "The item is cancelled."
pub fn sentence(m: &str) -> String {
    let m = m.trim().trim_end_matches('.');
    let mut c = m.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// "Label: message." for an invalid field, the message alone when the rule is
/// about the whole form.
pub fn invalid_sentence(labels: Labels, field: &str, message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    if field.is_empty() {
        sentence(message)
    } else {
        format!("{}: {message}.", label(labels, field))
    }
}

/// A refused form's status and sentence: invalid input or a duplicate (422),
/// an impossible change (409), a refusal by a rule (403). Anything else (not
/// found, a failure) is the error page.
pub fn present(e: StoreError, labels: Labels) -> Result<(StatusCode, String), WebError> {
    match e {
        StoreError::Core(CoreError::Invalid { field, message }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            invalid_sentence(labels, &field, &message),
        )),
        StoreError::Core(CoreError::Conflict(m)) => Ok((StatusCode::CONFLICT, sentence(&m))),
        StoreError::Duplicate(m) => Ok((StatusCode::UNPROCESSABLE_ENTITY, sentence(&m))),
        StoreError::Forbidden(m) => Ok((StatusCode::FORBIDDEN, sentence(&m))),
        other => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT: Labels = &[("brief.offer", "Offer"), ("items", "QA checklist")];
    const SOPS: Labels = &[("items", "Checklist")];

    #[test]
    fn refusals_read_as_sentences_at_the_field() {
        let cases: Vec<(StoreError, Labels, StatusCode, &str)> = vec![
            (
                StoreError::Core(CoreError::invalid(
                    "brief.offer",
                    "must be at most 5000 characters",
                )),
                CONTENT,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Offer: must be at most 5000 characters.",
            ),
            (
                StoreError::Core(CoreError::invalid("items", "tick every item.")),
                CONTENT,
                StatusCode::UNPROCESSABLE_ENTITY,
                "QA checklist: tick every item.",
            ),
            (
                StoreError::Core(CoreError::invalid("items", "tick every item")),
                SOPS,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Checklist: tick every item.",
            ),
            (
                StoreError::Core(CoreError::invalid("timezone", "unknown zone")),
                SOPS,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Time zone: unknown zone.",
            ),
            (
                StoreError::Core(CoreError::invalid("", "choose at least one platform")),
                SOPS,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose at least one platform.",
            ),
            (
                StoreError::Core(CoreError::Conflict("the item is cancelled".into())),
                CONTENT,
                StatusCode::CONFLICT,
                "The item is cancelled.",
            ),
            (
                StoreError::Forbidden("only the item's approvers decide".into()),
                CONTENT,
                StatusCode::FORBIDDEN,
                "Only the item's approvers decide.",
            ),
            (
                StoreError::Duplicate("a client with this name exists".into()),
                COMMON,
                StatusCode::UNPROCESSABLE_ENTITY,
                "A client with this name exists.",
            ),
        ];
        for (e, labels, status, text) in cases {
            let shown = format!("{e}");
            let (s, m) = present(e, labels).expect("shown at the form");
            assert_eq!((s, m.as_str()), (status, text), "{shown}");
        }
        assert!(matches!(
            present(StoreError::NotFound, COMMON),
            Err(WebError::NotFound)
        ));
        assert_eq!(label(COMMON, "unlabelled_field"), "unlabelled_field");
    }
}
