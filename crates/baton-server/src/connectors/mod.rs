//! Where access is verified by the platform itself: connectors that ask a
//! platform's API, with the agency's own connection and read-only scopes,
//! whether a client's access is there.
//!
//! - [`Connector`]: one small module per platform (`ga4`, `google_ads`,
//!   `gtm`, `meta`, `linkedin`, `tiktok`) turns one request into an
//!   [`Outcome`]: verified with the role and asset the platform returned,
//!   pending (waiting on the client), missing (in the platform's words) or
//!   an error (nothing concluded, retried).
//! - [`http`]: the calls, each platform's error envelope, 429 and
//!   `Retry-After`.
//! - [`oauth`]: the consent (authorization code with PKCE), the code
//!   exchange and token refresh, tokens sealed with the server key.
//! - [`checker`]: runs due checks (claimed in the database, so several
//!   servers check each request once) and applies their outcome.
//!
//! Every platform's API, consent and token URL can be pointed elsewhere
//! (`BATON_CONNECTOR_<PLATFORM>_URL`, `…_AUTH_URL`, `…_TOKEN_URL`), so a
//! local stand-in can play the platform in tests.

pub mod checker;
pub mod ga4;
pub mod google_ads;
pub mod gtm;
pub mod http;
pub mod linkedin;
pub mod meta;
pub mod oauth;
pub mod tiktok;

use std::collections::{BTreeMap, HashMap};

use baton_core::connectors::{ConnectorPlatform, Outcome};
use futures_util::future::BoxFuture;

/// One platform's three URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUrls {
    /// The API's base (no trailing slash).
    pub api: String,
    /// The consent screen the admin's browser is sent to.
    pub auth: String,
    /// Where codes and refresh tokens are exchanged.
    pub token: String,
}

/// Where each platform is: its real URLs, or stand-ins from the environment.
#[derive(Debug, Clone)]
pub struct Endpoints {
    urls: HashMap<ConnectorPlatform, PlatformUrls>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            urls: ConnectorPlatform::ALL
                .into_iter()
                .map(|p| {
                    (
                        p,
                        PlatformUrls {
                            api: p.default_api_url().to_string(),
                            auth: p.default_auth_url().to_string(),
                            token: p.default_token_url().to_string(),
                        },
                    )
                })
                .collect(),
        }
    }
}

impl Endpoints {
    /// The defaults with `BATON_CONNECTOR_<PLATFORM>_URL`, `…_AUTH_URL` and
    /// `…_TOKEN_URL` applied from `vars`; an unknown platform or a value that
    /// is not an http(s) URL is refused by name.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Endpoints, String> {
        let mut e = Endpoints::default();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("BATON_CONNECTOR_") else {
                continue;
            };
            if rest == "RECHECK" {
                continue;
            }
            let (platform, kind) = if let Some(p) = rest.strip_suffix("_AUTH_URL") {
                (p, "auth")
            } else if let Some(p) = rest.strip_suffix("_TOKEN_URL") {
                (p, "token")
            } else if let Some(p) = rest.strip_suffix("_URL") {
                (p, "api")
            } else {
                return Err(format!(
                    "{name}: expected BATON_CONNECTOR_<PLATFORM>_URL, _AUTH_URL or _TOKEN_URL"
                ));
            };
            let p = ConnectorPlatform::ALL
                .into_iter()
                .find(|p| p.env_name() == platform)
                .ok_or_else(|| {
                    format!(
                        "{name}: no connector {platform:?}; expected one of {}",
                        ConnectorPlatform::ALL.map(|p| p.env_name()).join(", ")
                    )
                })?;
            let value = value.trim().trim_end_matches('/').to_string();
            if !(value.starts_with("http://") || value.starts_with("https://")) {
                return Err(format!("{name}: {value:?} is not an http(s) URL"));
            }
            let urls = e.urls.get_mut(&p).expect("every platform has URLs");
            match kind {
                "auth" => urls.auth = value,
                "token" => urls.token = value,
                _ => urls.api = value,
            }
        }
        Ok(e)
    }

    pub fn of(&self, p: ConnectorPlatform) -> &PlatformUrls {
        &self.urls[&p]
    }

    /// Points one platform elsewhere (tests: a stand-in on a local port).
    pub fn set(&mut self, p: ConnectorPlatform, urls: PlatformUrls) {
        self.urls.insert(p, urls);
    }
}

/// How a connector reaches its platform for one check.
pub struct Call<'a> {
    pub http: &'a reqwest::Client,
    /// The API base URL (from [`Endpoints`]).
    pub api: &'a str,
    /// The connection's access token.
    pub token: &'a str,
}

/// What one check asks about.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The catalogue platform (`meta_page`, `ga4`).
    pub platform: &'a str,
    /// The permission level asked for (a catalogue key: `editor`).
    pub permission: &'a str,
    /// The asset as the member typed it (an id, a URL, a name).
    pub asset: Option<&'a str>,
    /// The agency's values for the platform: its onboarding settings
    /// (`meta_business_id`, `google_ads_manager_id`, `agency_email`) with the
    /// app's extras (`developer_token`, `business_id`) over them.
    pub values: &'a BTreeMap<String, String>,
    /// The account the connection acts as (an email), when known.
    pub account: Option<&'a str>,
}

impl Target<'_> {
    /// One of the agency's values, trimmed, when set.
    pub fn value(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .filter_map(|k| self.values.get(*k))
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Whether `role` (a catalogue permission key of this platform) is at
    /// least the level asked for.
    pub fn enough(&self, role: &str) -> bool {
        let Some(p) = baton_core::platforms::builtin_get(self.platform) else {
            return false;
        };
        match (p.rank(role), p.rank(self.permission)) {
            (Some(have), Some(want)) => have >= want,
            _ => false,
        }
    }

    /// The permission asked for, as the catalogue names it.
    pub fn permission_name(&self) -> String {
        baton_core::platforms::builtin_get(self.platform)
            .and_then(|p| p.permission(self.permission).map(|x| x.name.clone()))
            .unwrap_or_else(|| self.permission.to_string())
    }
}

/// A platform's check: one request in, one outcome out. Implementations
/// are small modules of this one; each speaks its platform's pagination
/// and error envelope (through [`http`]) and maps "permission denied" to
/// [`Outcome::Missing`], never to an error.
pub trait Connector: Send + Sync {
    fn platform(&self) -> ConnectorPlatform;

    fn verify<'a>(&'a self, call: &'a Call<'a>, target: &'a Target<'a>) -> BoxFuture<'a, Outcome>;
}

/// The connector of `platform`.
pub fn connector(platform: ConnectorPlatform) -> &'static dyn Connector {
    match platform {
        ConnectorPlatform::Ga4 => &ga4::Ga4,
        ConnectorPlatform::GoogleAds => &google_ads::GoogleAds,
        ConnectorPlatform::Gtm => &gtm::Gtm,
        ConnectorPlatform::Meta => &meta::Meta,
        ConnectorPlatform::Linkedin => &linkedin::Linkedin,
        ConnectorPlatform::Tiktok => &tiktok::Tiktok,
    }
}

/// The account a fresh token acts as, for platforms whose token answer
/// does not say (Meta: the user's name; LinkedIn: the member's name).
/// `None` when the platform does not tell; the connection shows no name.
pub async fn whoami(
    state: &crate::state::AppState,
    platform: ConnectorPlatform,
    token: &str,
) -> Option<String> {
    let (path, fields): (&str, &[&str]) = match platform {
        ConnectorPlatform::Meta => ("/me", &["name"]),
        ConnectorPlatform::Linkedin => ("/v2/userinfo", &["email", "name"]),
        _ => return None,
    };
    let urls = state.config.connectors.of(platform);
    let call = Call {
        http: &state.connector_http,
        api: &urls.api,
        token,
    };
    let query: &[(&str, &str)] = if platform == ConnectorPlatform::Meta {
        &[("fields", "name")]
    } else {
        &[]
    };
    let me = http::get(&call, path, query, &[], http::Auth::Bearer, |_, _| None)
        .await
        .ok()?;
    fields
        .iter()
        .find_map(|f| me.get(*f).and_then(|v| v.as_str()).map(str::to_string))
}

/// The app extras that are secrets (sealed at rest, never shown back).
pub fn secret_extra(key: &str) -> bool {
    key == "developer_token"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_the_environment_by_name() {
        let vars = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        let e = Endpoints::from_vars(vars(&[
            ("BATON_CONNECTOR_GA4_URL", "http://127.0.0.1:9000/"),
            (
                "BATON_CONNECTOR_GA4_TOKEN_URL",
                "http://127.0.0.1:9000/token",
            ),
            (
                "BATON_CONNECTOR_GOOGLE_ADS_AUTH_URL",
                "https://x.example/auth",
            ),
            ("BATON_CONNECTOR_RECHECK", "24h"),
            ("PATH", "/usr/bin"),
        ]))
        .unwrap();
        assert_eq!(e.of(ConnectorPlatform::Ga4).api, "http://127.0.0.1:9000");
        assert_eq!(
            e.of(ConnectorPlatform::Ga4).token,
            "http://127.0.0.1:9000/token"
        );
        assert_eq!(
            e.of(ConnectorPlatform::Ga4).auth,
            ConnectorPlatform::Ga4.default_auth_url()
        );
        assert_eq!(
            e.of(ConnectorPlatform::GoogleAds).auth,
            "https://x.example/auth"
        );
        assert_eq!(
            e.of(ConnectorPlatform::Meta).api,
            ConnectorPlatform::Meta.default_api_url()
        );
        let bad = [
            ("BATON_CONNECTOR_MYSPACE_URL", "http://x"),
            ("BATON_CONNECTOR_GA4_URL", "ftp://x"),
            ("BATON_CONNECTOR_GA4", "http://x"),
        ];
        for (k, v) in bad {
            let err = Endpoints::from_vars(vars(&[(k, v)])).unwrap_err();
            assert!(err.starts_with(k), "{err}");
        }
    }

    #[test]
    fn roles_compare_on_the_catalogue_ladder() {
        let values = BTreeMap::new();
        let t = |permission| Target {
            platform: "ga4",
            permission,
            asset: None,
            values: &values,
            account: None,
        };
        let cases = [
            ("viewer", "viewer", true),
            ("editor", "viewer", true),
            ("viewer", "editor", false),
            ("administrator", "administrator", true),
            ("owner", "viewer", false),
        ];
        for (have, want, ok) in cases {
            assert_eq!(t(want).enough(have), ok, "{have} for {want}");
        }
    }
}
