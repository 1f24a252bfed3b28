//! What the server needs to know about its deployment. The binary fills this
//! from flags, environment and the TOML file; tests build it directly.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Public base URL, without a trailing slash; every link Baton hands out is
    /// built from it (never from the Host header).
    pub public_url: String,
    /// Mark cookies `Secure` and use the `__Host-` prefix. On for https URLs.
    pub secure_cookies: bool,
    /// Where the generated files (and, with local file storage, uploads) live.
    pub data_dir: PathBuf,
    /// Where uploaded files are kept: the data directory (the default) or
    /// S3-compatible object storage.
    pub files: crate::file_store::FileStore,
    /// The server key: signs CSRF tokens and link tokens, seals stored
    /// secrets (webhook secrets, channel URLs; see `sealed`).
    pub secret_key: String,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Largest draft file of a content version, in bytes (at most
    /// [`baton_core::content_files::MAX_DRAFT_BYTES`], the upload routes'
    /// body limit).
    pub draft_limit: u64,
    /// How long a login session lasts, in milliseconds.
    pub session_ttl_ms: i64,
    /// Outbound email; `None` keeps every message "ready to copy".
    pub smtp: Option<crate::email::SmtpSettings>,
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` are believed.
    pub trusted_proxies: crate::auth::client_addr::TrustedProxies,
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// How long a link request waits when its address is past the link-miss
    /// limit ([`crate::auth::throttle::LINK_MISSES`]).
    pub link_guess_delay: std::time::Duration,
    /// The nameserver custom-domain checks ask (`BATON_DNS_SERVER`);
    /// `None`: the system's resolver configuration.
    pub dns_server: Option<std::net::SocketAddr>,
    /// When webhook and channel deliveries are attempted
    /// (`BATON_WEBHOOK_RETRY_SCHEDULE`).
    pub webhook_retry: baton_core::webhooks::RetrySchedule,
    /// Outbound endpoints may use http and loopback, private or link-local
    /// addresses (`BATON_WEBHOOK_ALLOW_PRIVATE=1`, local testing only).
    pub webhook_allow_private: bool,
    /// Run the background loops (outbox worker and reminders, SLA
    /// scheduler, custom-domain checks). Always on in `baton serve`; tests
    /// turn it off and run each pass themselves when they mean it
    /// (`TestApp::drain_outbox`, `TestApp::tick_scheduler`).
    pub background_jobs: bool,
    /// Where each platform's API, consent screen and token endpoint are
    /// (`BATON_CONNECTOR_<PLATFORM>_URL`, `…_AUTH_URL`, `…_TOKEN_URL`).
    pub connectors: crate::connectors::Endpoints,
    /// How long after a connector found held access it checks again
    /// (`BATON_CONNECTOR_RECHECK`, default a day).
    pub connector_recheck_ms: i64,
}

impl ServerConfig {
    /// A configuration for tests and local runs against `public_url`.
    pub fn for_url(public_url: &str, data_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            public_url: public_url.trim_end_matches('/').to_string(),
            secure_cookies: public_url.starts_with("https://"),
            files: crate::file_store::FileStore::local(data_dir.clone()),
            data_dir,
            secret_key: baton_core::secret::random_token(),
            body_limit: 1024 * 1024,
            draft_limit: baton_core::content_files::MAX_DRAFT_BYTES,
            session_ttl_ms: 14 * 24 * 3600 * 1000,
            smtp: None,
            trusted_proxies: Default::default(),
            metrics_token: None,
            link_guess_delay: std::time::Duration::from_secs(2),
            dns_server: None,
            webhook_retry: Default::default(),
            webhook_allow_private: false,
            background_jobs: true,
            connectors: Default::default(),
            connector_recheck_ms: 86_400_000,
        }
    }

    /// The origin (scheme://host[:port]) of the public URL, for CSRF checks.
    pub fn public_origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map(|i| i + 3).unwrap_or(0);
        match self.public_url[after_scheme..].find('/') {
            Some(i) => &self.public_url[..after_scheme + i],
            None => &self.public_url,
        }
    }

    /// Why `domain` (already a valid host name) cannot be an agency's
    /// custom domain, if it cannot: the deployment's own host and the names
    /// under it belong to the operator, and an address is not a domain.
    pub fn custom_domain_refusal(&self, domain: &str) -> Option<String> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if domain.is_empty() {
            return None;
        }
        let public = crate::web::portal::public_host(&self.public_url);
        if domain == public || domain.ends_with(&format!(".{public}")) {
            return Some(format!(
                "{domain} is this Baton's own address; use a host name of the agency's, like onboard.agency.com"
            ));
        }
        if domain.parse::<std::net::IpAddr>().is_ok() {
            return Some("must be a host name like onboard.agency.com, not an address".into());
        }
        None
    }

    /// The one-time link a new member opens to set their password.
    pub fn invite_url(&self, token: &str) -> String {
        format!("{}/invite/{token}", self.public_url)
    }

    /// The client's onboarding link: `BATON_PUBLIC_URL/o/{token}`.
    pub fn onboarding_url(&self, token: &str) -> String {
        format!("{}/o/{token}", self.public_url)
    }

    /// The client's approval link of a content item.
    pub fn approval_url(&self, token: &str) -> String {
        format!("{}/a/{token}", self.public_url)
    }

    /// The client's link to a monthly account review's memo.
    pub fn memo_url(&self, token: &str) -> String {
        format!("{}/memo/{token}", self.public_url)
    }

    /// The secret iCalendar URL of a content calendar feed.
    /// Where platforms send the admin back after consent.
    pub fn oauth_redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.public_url)
    }

    pub fn feed_url(&self, token: &str) -> String {
        format!("{}/feeds/{token}.ics", self.public_url)
    }

    pub fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-baton_session"
        } else {
            "baton_session"
        }
    }

    /// The cookie that marks a browser that has signed in to an account
    /// before (login throttling slows it down but never locks it out).
    pub fn device_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-baton_device"
        } else {
            "baton_device"
        }
    }

    pub fn login_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-baton_login"
        } else {
            "baton_login"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_of_public_url() {
        let c = ServerConfig::for_url("https://ops.agency.com/baton/", "/tmp".into());
        assert_eq!(c.public_url, "https://ops.agency.com/baton");
        assert_eq!(c.public_origin(), "https://ops.agency.com");
        assert!(c.secure_cookies);
        let c = ServerConfig::for_url("http://127.0.0.1:8080", "/tmp".into());
        assert_eq!(c.public_origin(), "http://127.0.0.1:8080");
        assert_eq!(c.session_cookie(), "baton_session");
    }
}
