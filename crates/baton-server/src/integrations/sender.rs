//! The outbound HTTP client of webhooks and channels, and where a URL's
//! address is checked at send. The client resolves names itself and refuses
//! a name with any loopback, private, link-local or metadata address, so the
//! address connected to is the address checked (no DNS rebinding between a
//! check and the connection); IP literals are checked before the request.
//! Redirects are not followed; a request gives up after 15 seconds.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_core::webhooks;

/// How long an attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer is kept in the delivery log.
pub const EXCERPT_BYTES: usize = 1_024;

/// The outbound client, built once per server.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    dns_server: Option<SocketAddr>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// Why a name may not be sent to.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

/// Looks up `host`'s addresses: the configured nameserver, or the system's
/// resolver.
pub async fn lookup(dns_server: Option<SocketAddr>, host: &str) -> Result<Vec<IpAddr>, String> {
    let host = host.trim_end_matches('.');
    let found: Vec<IpAddr> = match dns_server {
        None => tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host, 0)))
            .await
            .map_err(|_| format!("looking up {host} timed out"))?
            .map_err(|e| format!("{host} does not resolve ({e})"))?
            .map(|a| a.ip())
            .collect(),
        Some(_) => {
            let resolver = crate::custom_domains::resolver(dns_server)?;
            let fqdn = format!("{host}.");
            tokio::time::timeout(TIMEOUT, resolver.lookup_ip(fqdn.as_str()))
                .await
                .map_err(|_| format!("looking up {host} timed out"))?
                .map_err(|e| format!("{host} does not resolve ({e})"))?
                .iter()
                .collect()
        }
    };
    if found.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    Ok(found)
}

/// Refuses addresses Baton must not send to (unless private ones are
/// allowed): the reason names the first such address.
pub fn refuse_forbidden(host: &str, addrs: &[IpAddr], allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    match addrs.iter().find(|ip| webhooks::is_forbidden_ip(**ip)) {
        Some(ip) => Err(format!(
            "{host} resolves to {ip}, an address Baton does not send to (loopback, private, link-local or reserved)"
        )),
        None => Ok(()),
    }
}

struct GuardedResolver {
    allow_private: bool,
    dns_server: Option<SocketAddr>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (allow_private, dns_server) = (self.allow_private, self.dns_server);
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = lookup(dns_server, &host)
                .await
                .map_err(|e| Box::new(Refused(e)) as Box<dyn std::error::Error + Send + Sync>)?;
            refuse_forbidden(&host, &addrs, allow_private)
                .map_err(|e| Box::new(Refused(e)) as Box<dyn std::error::Error + Send + Sync>)?;
            let addrs: reqwest::dns::Addrs =
                Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// What one POST came to.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// The start of the answer's body (lossy UTF-8).
    pub excerpt: Option<String>,
    /// Why no answer came (refused, timed out, connection failed).
    pub error: Option<String>,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
}

impl Sender {
    pub fn new(allow_private: bool, dns_server: Option<SocketAddr>) -> Sender {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address
            // checks: deliveries never go through one (HTTP(S)_PROXY is
            // ignored).
            .no_proxy()
            .user_agent(concat!("Baton-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private,
                dns_server,
            }))
            .build()
            .expect("the outbound HTTP client builds");
        Sender {
            client,
            allow_private,
            dns_server,
        }
    }

    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Checks a URL when it is saved: its shape (https, no credentials, no
    /// forbidden literal or local name) and, for a name, every address it
    /// resolves to now. The message is for the `url` field.
    pub async fn check_url(&self, url: &str) -> Result<(), String> {
        webhooks::check_url(url, self.allow_private).map_err(|e| match e {
            baton_core::CoreError::Invalid { message, .. } => message,
            other => other.to_string(),
        })?;
        if self.allow_private {
            return Ok(());
        }
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Err("is not a URL".into());
        };
        match parsed.host_str() {
            None => Err("must have a host".into()),
            // Literals were judged by their shape above.
            Some(h) if h.starts_with('[') || h.parse::<IpAddr>().is_ok() => Ok(()),
            Some(name) => {
                let addrs = lookup(self.dns_server, name).await?;
                refuse_forbidden(name, &addrs, false)
            }
        }
    }

    /// POSTs `body` as JSON with `headers`. Never fails: what happened is in
    /// the answer.
    pub async fn post(&self, url: &str, headers: &[(String, String)], body: &str) -> Sent {
        let started = Instant::now();
        let elapsed = |started: Instant| started.elapsed().as_millis() as i64;
        // Literals never reach the resolver: check them (and the shape) here.
        if let Err(e) = webhooks::check_url(url, self.allow_private) {
            return Sent {
                error: Some(format!("refused: {e}")),
                latency_ms: 0,
                ..Sent::default()
            };
        }
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return Sent {
                    error: Some(describe(&e)),
                    latency_ms: elapsed(started),
                    ..Sent::default()
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let mut bytes = Vec::new();
        let mut error = None;
        while bytes.len() < EXCERPT_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        bytes.truncate(EXCERPT_BYTES);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Sent {
            status: Some(status),
            latency_ms: elapsed(started),
            excerpt: (!text.is_empty()).then_some(text),
            error,
            retry_after,
        }
    }
}

/// A request error with its causes, minus the URL (it may hold a secret).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    if e.is_timeout() {
        parts.push("timed out after 15 s".to_string());
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(if e.is_connect() {
            "could not connect".into()
        } else {
            "the request failed".into()
        });
    }
    parts.join(": ")
}
