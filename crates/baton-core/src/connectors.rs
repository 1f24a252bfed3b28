//! Platform connectors, the parts without I/O: which platforms Baton can
//! check access on through their own APIs, which access requests each one
//! checks, the OAuth endpoints and scopes it needs, the asset ids it reads
//! out of what a member typed, and what a check found.
//!
//! The HTTP side (the calls, pagination, error envelopes, token refresh) is
//! in `baton-server/src/connectors/`.

use serde::{Deserialize, Serialize};

/// A platform whose API Baton asks, with the agency's own connection,
/// whether a client's access is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorPlatform {
    Ga4,
    GoogleAds,
    Gtm,
    Meta,
    Linkedin,
    Tiktok,
}

impl ConnectorPlatform {
    pub const ALL: [ConnectorPlatform; 6] = [
        ConnectorPlatform::Ga4,
        ConnectorPlatform::GoogleAds,
        ConnectorPlatform::Gtm,
        ConnectorPlatform::Meta,
        ConnectorPlatform::Linkedin,
        ConnectorPlatform::Tiktok,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 => "ga4",
            ConnectorPlatform::GoogleAds => "google_ads",
            ConnectorPlatform::Gtm => "gtm",
            ConnectorPlatform::Meta => "meta",
            ConnectorPlatform::Linkedin => "linkedin",
            ConnectorPlatform::Tiktok => "tiktok",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 => "Google Analytics 4",
            ConnectorPlatform::GoogleAds => "Google Ads",
            ConnectorPlatform::Gtm => "Google Tag Manager",
            ConnectorPlatform::Meta => "Meta Business",
            ConnectorPlatform::Linkedin => "LinkedIn",
            ConnectorPlatform::Tiktok => "TikTok Business Center",
        }
    }

    pub fn parse(key: &str) -> Option<ConnectorPlatform> {
        ConnectorPlatform::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The part of `BATON_CONNECTOR_<PLATFORM>_URL` that names it.
    pub fn env_name(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 => "GA4",
            ConnectorPlatform::GoogleAds => "GOOGLE_ADS",
            ConnectorPlatform::Gtm => "GTM",
            ConnectorPlatform::Meta => "META",
            ConnectorPlatform::Linkedin => "LINKEDIN",
            ConnectorPlatform::Tiktok => "TIKTOK",
        }
    }

    /// The connector that checks requests of catalogue platform `key`.
    pub fn for_request(key: &str) -> Option<ConnectorPlatform> {
        match key {
            "ga4" => Some(ConnectorPlatform::Ga4),
            "google_ads" => Some(ConnectorPlatform::GoogleAds),
            "gtm" => Some(ConnectorPlatform::Gtm),
            "meta_page" | "meta_ad_account" => Some(ConnectorPlatform::Meta),
            "linkedin_page" => Some(ConnectorPlatform::Linkedin),
            "tiktok_ads" => Some(ConnectorPlatform::Tiktok),
            _ => None,
        }
    }

    /// The catalogue platforms this connector checks.
    pub fn request_platforms(self) -> &'static [&'static str] {
        match self {
            ConnectorPlatform::Ga4 => &["ga4"],
            ConnectorPlatform::GoogleAds => &["google_ads"],
            ConnectorPlatform::Gtm => &["gtm"],
            ConnectorPlatform::Meta => &["meta_page", "meta_ad_account"],
            ConnectorPlatform::Linkedin => &["linkedin_page"],
            ConnectorPlatform::Tiktok => &["tiktok_ads"],
        }
    }

    /// The platform's API, unless `BATON_CONNECTOR_<PLATFORM>_URL` says
    /// otherwise. Versioned APIs carry their version here (Google Ads
    /// `/v22`, Meta `/v21.0`), so an operator moves to a newer version
    /// without a new release when the platform retires one.
    pub fn default_api_url(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 => "https://analyticsadmin.googleapis.com",
            ConnectorPlatform::GoogleAds => "https://googleads.googleapis.com/v22",
            ConnectorPlatform::Gtm => "https://tagmanager.googleapis.com",
            ConnectorPlatform::Meta => "https://graph.facebook.com/v21.0",
            ConnectorPlatform::Linkedin => "https://api.linkedin.com",
            ConnectorPlatform::Tiktok => "https://business-api.tiktok.com/open_api/v1.3",
        }
    }

    /// Where the admin's browser is sent to consent
    /// (`BATON_CONNECTOR_<PLATFORM>_AUTH_URL`).
    pub fn default_auth_url(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 | ConnectorPlatform::GoogleAds | ConnectorPlatform::Gtm => {
                "https://accounts.google.com/o/oauth2/v2/auth"
            }
            ConnectorPlatform::Meta => "https://www.facebook.com/v21.0/dialog/oauth",
            ConnectorPlatform::Linkedin => "https://www.linkedin.com/oauth/v2/authorization",
            ConnectorPlatform::Tiktok => "https://business-api.tiktok.com/portal/auth",
        }
    }

    /// Where codes and refresh tokens are exchanged
    /// (`BATON_CONNECTOR_<PLATFORM>_TOKEN_URL`).
    pub fn default_token_url(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 | ConnectorPlatform::GoogleAds | ConnectorPlatform::Gtm => {
                "https://oauth2.googleapis.com/token"
            }
            ConnectorPlatform::Meta => "https://graph.facebook.com/v21.0/oauth/access_token",
            ConnectorPlatform::Linkedin => "https://www.linkedin.com/oauth/v2/accessToken",
            ConnectorPlatform::Tiktok => {
                "https://business-api.tiktok.com/open_api/v1.3/oauth2/access_token/"
            }
        }
    }

    /// The read-only scopes Baton asks for (space-separated, as the
    /// authorization URL sends them). Google's include `openid email` so the
    /// connection knows which account it acts as.
    pub fn scopes(self) -> &'static str {
        match self {
            ConnectorPlatform::Ga4 => {
                "openid email https://www.googleapis.com/auth/analytics.readonly \
                 https://www.googleapis.com/auth/analytics.manage.users.readonly"
            }
            ConnectorPlatform::GoogleAds => "openid email https://www.googleapis.com/auth/adwords",
            ConnectorPlatform::Gtm => {
                "openid email https://www.googleapis.com/auth/tagmanager.readonly \
                 https://www.googleapis.com/auth/tagmanager.manage.users"
            }
            ConnectorPlatform::Meta => "business_management pages_show_list ads_read",
            ConnectorPlatform::Linkedin => "r_organization_admin",
            // TikTok grants the scopes chosen on the app itself.
            ConnectorPlatform::Tiktok => "",
        }
    }

    /// What else the agency's app needs besides its client id and secret.
    pub fn app_extras(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ConnectorPlatform::GoogleAds => &[
                ("developer_token", "Google Ads API developer token (API Center of the manager account)"),
                ("manager_customer_id", "The agency's manager account id (123-456-7890); sent as login-customer-id"),
            ],
            ConnectorPlatform::Gtm => &[(
                "account_email",
                "The Google account clients add in Tag Manager (defaults to the connected account's email)",
            )],
            ConnectorPlatform::Meta => &[(
                "business_id",
                "The agency's Business Manager id (Business settings → Business info)",
            )],
            ConnectorPlatform::Tiktok => &[(
                "bc_id",
                "The agency's Business Center id (Business Center → Business info)",
            )],
            ConnectorPlatform::Ga4 | ConnectorPlatform::Linkedin => &[],
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The platform lists the asset with (at least) the requested role.
    Verified(Evidence),
    /// The platform shows the access waiting on the client (an invitation
    /// not yet accepted).
    Pending { detail: String },
    /// The platform does not list it (or with too small a role), in the
    /// platform's words.
    Missing { detail: String },
    /// Baton could not ask (outage, rate limit, expired connection): nothing
    /// is concluded; retried after `retry_after_ms` (or the backoff).
    Error {
        detail: String,
        retry_after_ms: Option<i64>,
    },
}

/// What the platform returned that proves the access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The role the platform reports (its own word: `EDITOR`, `ADMINISTRATOR`, `MANAGE`).
    pub role: String,
    /// The asset's id on the platform (`properties/123`, `act_456`, `urn:li:organization:7`).
    pub asset: String,
    /// The asset's name, when the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_name: Option<String>,
}

/// The digits of an id typed with or without decoration: `123-456-7890`,
/// `properties/123456`, `act_123`, `Property 123456 (Main site)`. `None`
/// when the text holds no run of at least `min` digits.
pub fn digits(text: &str, min: usize) -> Option<String> {
    // The longest run of digits, dashes between digits joined (Google Ads
    // shows customer ids as 123-456-7890).
    let joined: String = {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(chars.len());
        for (i, c) in chars.iter().enumerate() {
            let between_digits = *c == '-'
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if !between_digits {
                out.push(*c);
            }
        }
        out
    };
    joined
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= min)
        .max_by_key(|run| run.len())
        .map(str::to_string)
}

/// A GTM container's public id (`GTM-ABC123`) in `text`, upper-cased.
pub fn gtm_public_id(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let at = upper.find("GTM-")?;
    let id: String = upper[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (id.len() > 4).then_some(id)
}

/// The rank of a role in a ladder of roles (lowest first), case- and
/// separator-insensitive; `None` for a role the ladder does not know.
pub fn rank(ladder: &[&str], role: &str) -> Option<usize> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let role = norm(role);
    ladder.iter().position(|r| norm(r) == role)
}

/// How long after a failed check (attempt `n`, from 1) the next one runs,
/// in milliseconds: 1, 2, 4 … minutes, at most 6 hours.
pub fn backoff_ms(attempt: i64) -> i64 {
    let minutes = 1_i64 << attempt.clamp(1, 10).saturating_sub(1);
    (minutes * 60_000).min(6 * 3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_read_ids_as_members_type_them() {
        let cases = [
            ("123-456-7890", 6, Some("1234567890")),
            ("properties/123456789", 6, Some("123456789")),
            ("Property 123456 (Main site, 2024)", 6, Some("123456")),
            ("act_1234567", 6, Some("1234567")),
            ("urn:li:organization:5515715", 4, Some("5515715")),
            ("Acme Bakery", 6, None),
            ("12-34", 6, None),
            ("", 1, None),
            ("id 12345 and 7654321", 5, Some("7654321")),
        ];
        for (text, min, want) in cases {
            assert_eq!(digits(text, min).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn gtm_ids_are_found_in_text() {
        let cases = [
            ("GTM-ABC123", Some("GTM-ABC123")),
            ("container gtm-k7x2p (web)", Some("GTM-K7X2P")),
            ("GTM-", None),
            ("no container", None),
        ];
        for (text, want) in cases {
            assert_eq!(gtm_public_id(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn roles_rank_on_their_ladder() {
        let ladder = ["viewer", "analyst", "marketer", "editor", "administrator"];
        let cases = [
            ("viewer", Some(0)),
            ("ADMINISTRATOR", Some(4)),
            ("Editor", Some(3)),
            ("predefinedRoles/viewer", None),
            ("owner", None),
        ];
        for (role, want) in cases {
            assert_eq!(rank(&ladder, role), want, "{role}");
        }
    }

    #[test]
    fn request_platforms_map_to_their_connector_and_back() {
        for p in ConnectorPlatform::ALL {
            assert_eq!(ConnectorPlatform::parse(p.key()), Some(p));
            for key in p.request_platforms() {
                assert_eq!(ConnectorPlatform::for_request(key), Some(p), "{key}");
                assert!(
                    crate::platforms::builtin_get(key).is_some(),
                    "{key} is a catalogue platform"
                );
            }
        }
        assert_eq!(ConnectorPlatform::for_request("pinterest"), None);
    }

    #[test]
    fn backoff_doubles_to_six_hours() {
        let cases = [
            (1, 60_000),
            (2, 120_000),
            (3, 240_000),
            (10, 6 * 3_600_000),
            (50, 6 * 3_600_000),
        ];
        for (n, want) in cases {
            assert_eq!(backoff_ms(n), want, "{n}");
        }
    }
}
