//! An agency's custom domain and its verification by a DNS TXT record.
//!
//! Setting (or changing) the domain makes it *pending* with a fresh
//! challenge. Baton routes the domain, and puts it in the links it hands
//! out, only once a TXT record named [`record_name`] holds the challenge:
//! proof that whoever set the domain controls its DNS.

use crate::secret;

/// The label in front of the domain that names the TXT record.
pub const RECORD_LABEL: &str = "_baton-challenge";

/// What every challenge value starts with.
pub const CHALLENGE_PREFIX: &str = "baton-verify=";

/// How often the background worker looks again at a pending domain.
pub const CHECK_EVERY_MS: i64 = 10 * 60 * 1000;

/// How long after it was set a pending domain is looked at by the worker
/// (a member can still check by hand after that).
pub const CHECK_FOR_MS: i64 = 7 * 24 * 3600 * 1000;

/// Where an agency's custom domain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    /// No custom domain is set.
    None,
    /// Set, waiting for its TXT record: not routed, not in links.
    Pending,
    /// Verified: routed and used in links.
    Verified,
}

impl DomainStatus {
    pub const ALL: [DomainStatus; 3] = [
        DomainStatus::None,
        DomainStatus::Pending,
        DomainStatus::Verified,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DomainStatus::None => "none",
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
        }
    }
}

/// The name of the TXT record that proves `domain`:
/// `_baton-challenge.onboard.agency.com`.
pub fn record_name(domain: &str) -> String {
    format!("{RECORD_LABEL}.{}", domain.trim_end_matches('.'))
}

/// A fresh challenge value: `baton-verify=` and 256 random bits.
pub fn new_challenge() -> String {
    format!("{CHALLENGE_PREFIX}{}", secret::random_token())
}

/// Whether one of the TXT values found is the challenge. Blanks around a
/// value, and the quotes some DNS panels want typed around it, are ignored;
/// everything else must be equal.
pub fn challenge_found(challenge: &str, values: &[String]) -> bool {
    !challenge.is_empty()
        && values.iter().any(|v| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            v.trim() == challenge
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names() {
        assert_eq!(
            record_name("onboard.agency.com"),
            "_baton-challenge.onboard.agency.com"
        );
        assert_eq!(
            record_name("onboard.agency.com."),
            "_baton-challenge.onboard.agency.com"
        );
    }

    #[test]
    fn challenges_are_fresh_and_prefixed() {
        let a = new_challenge();
        let b = new_challenge();
        assert!(a.starts_with(CHALLENGE_PREFIX));
        assert_eq!(a.len(), CHALLENGE_PREFIX.len() + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn matching() {
        let c = "baton-verify=abc";
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(challenge_found(c, &v(&["baton-verify=abc"])));
        assert!(challenge_found(
            c,
            &v(&["v=spf1 -all", " baton-verify=abc "])
        ));
        assert!(challenge_found(c, &v(&["\"baton-verify=abc\""])));
        assert!(!challenge_found(c, &v(&[])));
        assert!(!challenge_found(c, &v(&["baton-verify=abcd"])));
        assert!(!challenge_found(c, &v(&["baton-verify=ABC"])));
        assert!(!challenge_found(c, &v(&["baton-verify="])));
        assert!(!challenge_found("", &v(&[""])));
    }

    #[test]
    fn status_keys() {
        let keys: Vec<&str> = DomainStatus::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys, ["none", "pending", "verified"]);
    }
}
