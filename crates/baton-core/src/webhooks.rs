//! The pure parts of Standard Webhooks 1.0 (<https://www.standardwebhooks.com>),
//! for Baton's outbound webhooks and its inbound endpoints: `whsec_` secrets,
//! `v1` HMAC-SHA256 signatures over `{msg_id}.{timestamp}.{body}` and their
//! verification, the retry schedule, event-type filters, and the checks that
//! keep an endpoint URL from pointing into our own network (SSRF).
//!
//! Using the standard, byte for byte, lets a receiver verify our deliveries
//! with any Standard Webhooks (or Svix) library. [`check_url`] only judges the
//! text of a URL: a host name can still resolve to a private address, so the
//! sender must also check every resolved address with [`is_forbidden_ip`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secret::constant_time_eq;
use crate::CoreError;

/// Prefix of a serialized signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// How far a `webhook-timestamp` may be from now, either way, in seconds.
pub const TOLERANCE_SECS: i64 = 300;
/// The longest `Retry-After` we honour, in milliseconds (24 h).
pub const MAX_RETRY_AFTER_MS: i64 = 86_400_000;
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;
const MAX_SCHEDULE_ITEMS: usize = 20;
const MAX_DELAY_MS: i64 = 7 * 86_400_000;
const MAX_FILTERS: usize = 50;
const MAX_FILTER_CHARS: usize = 100;
const MAX_URL_CHARS: usize = 2_000;

/// An endpoint's HMAC signing key: 24 to 64 bytes. Shown to people as
/// `whsec_<base64>`; its `Debug` form never prints the key.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// A fresh secret of 32 random bytes.
    pub fn generate() -> WebhookSecret {
        let mut bytes = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        WebhookSecret(bytes)
    }

    /// Reads `whsec_<standard base64>`, or the bare base64 without the
    /// prefix, as the reference libraries do.
    pub fn parse(text: &str) -> Result<WebhookSecret, CoreError> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| CoreError::invalid("secret", "must be whsec_ followed by base64"))?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(CoreError::invalid("secret", "must be 24 to 64 bytes long"));
        }
        Ok(WebhookSecret(bytes))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// The base64 HMAC-SHA256 of `{msg_id}.{timestamp}.` followed by `body`.
fn mac_b64(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("any key length");
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// One signature, `v1,<base64>`, as it goes into `webhook-signature`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", mac_b64(secret, msg_id, timestamp, body))
}

/// The `webhook-signature` header value: one `v1,…` per secret,
/// space-separated, so a receiver keeps working while a secret is rotated.
pub fn signature_header(
    secrets: &[&WebhookSecret],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let sigs: Vec<String> = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect();
    sigs.join(" ")
}

/// Why an inbound webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing or empty.
    #[error("a webhook header is missing")]
    MissingHeader,
    /// `webhook-timestamp` is not an integer number of seconds.
    #[error("the webhook timestamp is not an integer")]
    BadTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECS`] in the past.
    #[error("the webhook timestamp is too old")]
    TooOld,
    /// The timestamp is more than [`TOLERANCE_SECS`] in the future.
    #[error("the webhook timestamp is too far in the future")]
    TooNew,
    /// No `v1` signature matches.
    #[error("no webhook signature matches")]
    NoMatch,
}

/// Checks an inbound webhook's headers against `secret`: the timestamp must
/// be within [`TOLERANCE_SECS`] of `now_secs` (inclusive), and any `v1,<sig>`
/// entry of the space-separated `signatures` must match (constant-time).
/// Entries of other versions (`v1a`, …) are ignored.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), VerifyError> {
    if msg_id.is_empty() || timestamp.is_empty() || signatures.trim().is_empty() {
        return Err(VerifyError::MissingHeader);
    }
    // Digits only: `+5` or ` 5` would sign differently on each side.
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::BadTimestamp);
    }
    let ts: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now_secs.saturating_sub(ts) > TOLERANCE_SECS {
        return Err(VerifyError::TooOld);
    }
    if ts.saturating_sub(now_secs) > TOLERANCE_SECS {
        return Err(VerifyError::TooNew);
    }
    let expected = mac_b64(secret, msg_id, ts, body);
    let matched = signatures
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .any(|(version, sig)| version == "v1" && constant_time_eq(sig, &expected));
    matched.then_some(()).ok_or(VerifyError::NoMatch)
}

/// When to try a delivery: the delay before each attempt, in milliseconds,
/// counted from the previous attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays_ms: Vec<i64>,
}

impl Default for RetrySchedule {
    /// The Standard Webhooks example schedule: immediately, 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (10 attempts over ~3 days).
    fn default() -> RetrySchedule {
        let secs = [
            0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400,
        ];
        RetrySchedule {
            delays_ms: secs.iter().map(|s| s * 1_000).collect(),
        }
    }
}

impl RetrySchedule {
    /// Reads `BATON_WEBHOOK_RETRY_SCHEDULE`: comma-separated whole-number
    /// durations with a unit `ms`, `s`, `m`, `h` or `d` (`0s,1s,2s`), at most
    /// 20 of them, each at most 7 days.
    pub fn parse(text: &str) -> Result<RetrySchedule, CoreError> {
        let bad = |message: String| CoreError::invalid("BATON_WEBHOOK_RETRY_SCHEDULE", message);
        let items: Vec<&str> = text.split(',').map(str::trim).collect();
        if items.len() > MAX_SCHEDULE_ITEMS {
            return Err(bad(format!("has more than {MAX_SCHEDULE_ITEMS} delays")));
        }
        let mut delays_ms = Vec::with_capacity(items.len());
        for item in items {
            if item.is_empty() {
                return Err(bad("has an empty delay".into()));
            }
            let (digits, unit) = item.split_at(
                item.find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(item.len()),
            );
            let unit_ms: i64 = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => 0,
            };
            if digits.is_empty() || unit_ms == 0 {
                let why = "is not a whole number followed by ms, s, m, h or d";
                return Err(bad(format!("{item:?} {why}")));
            }
            let ms = digits
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(unit_ms))
                .filter(|ms| *ms <= MAX_DELAY_MS)
                .ok_or_else(|| bad(format!("{item:?} is longer than 7 days")))?;
            delays_ms.push(ms);
        }
        Ok(RetrySchedule { delays_ms })
    }

    /// How many attempts the schedule allows, the first one included.
    pub fn attempts(&self) -> usize {
        self.delays_ms.len()
    }

    /// The delay before attempt `attempt` (1 is the first try), or `None`
    /// when the schedule has no such attempt.
    pub fn delay_before(&self, attempt: usize) -> Option<i64> {
        attempt
            .checked_sub(1)
            .and_then(|i| self.delays_ms.get(i))
            .copied()
    }

    /// Every delay, in milliseconds.
    pub fn delays_ms(&self) -> &[i64] {
        &self.delays_ms
    }
}

/// `delay_ms` plus up to 10 % more, `unit` being a random number in `[0, 1)`,
/// so endpoints that failed together are not all retried at the same instant.
pub fn jittered(delay_ms: i64, unit: f64) -> i64 {
    let delay = delay_ms.max(0);
    // A NaN `unit` casts to 0.
    delay.saturating_add((delay as f64 * 0.1 * unit.clamp(0.0, 1.0)) as i64)
}

/// A `Retry-After` response header as a delay in milliseconds, at most
/// [`MAX_RETRY_AFTER_MS`]: delta-seconds (`120`), or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`) measured from `now_secs` (a past date
/// gives 0). `None` for anything else.
pub fn retry_after_ms(header: &str, now_secs: i64) -> Option<i64> {
    let header = header.trim();
    let secs = if !header.is_empty() && header.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to parse is still "a very long time".
        header.parse::<i64>().unwrap_or(i64::MAX)
    } else {
        let at = jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(header)
            .ok()?;
        at.as_second().saturating_sub(now_secs).max(0)
    };
    Some(secs.min(MAX_RETRY_AFTER_MS / 1_000) * 1_000)
}

/// Whether an endpoint subscribed with `filter` gets `event_type`: `*` takes
/// everything, `client.*` everything below `client.` (not `client` itself),
/// anything else only the exact type.
pub fn matches(filter: &str, event_type: &str) -> bool {
    if filter == "*" {
        return true;
    }
    match filter.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => {
            event_type.len() > prefix.len() && event_type.starts_with(prefix)
        }
        _ => filter == event_type,
    }
}

/// Validates an endpoint's event filters (field `events`): 1 to 50 entries,
/// each `*` or dot-separated `[a-z0-9_]+` segments, optionally ending in
/// `.*`, at most 100 characters. Returns them trimmed, duplicates dropped,
/// first occurrence kept.
pub fn check_filters(filters: &[String]) -> Result<Vec<String>, CoreError> {
    let bad = |message: String| CoreError::invalid("events", message);
    if filters.is_empty() || filters.len() > MAX_FILTERS {
        return Err(bad(format!("must have 1 to {MAX_FILTERS} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(filters.len());
    for raw in filters {
        let filter = raw.trim();
        if filter.chars().count() > MAX_FILTER_CHARS {
            return Err(bad(format!(
                "an entry is longer than {MAX_FILTER_CHARS} characters"
            )));
        }
        let body = filter.strip_suffix(".*").unwrap_or(filter);
        let well_formed = filter == "*"
            || body.split('.').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
        if !well_formed {
            let why = "is not an event type, a prefix like client.* or *";
            return Err(bad(format!("{filter:?} {why}")));
        }
        if !out.iter().any(|f| f == filter) {
            out.push(filter.to_string());
        }
    }
    Ok(out)
}

/// [`forbidden_reason`] for IPv4.
fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (0.0.0.0/8) address",
        (127, _, _) => "a loopback address",
        (10, _, _) | (192, 168, _) => "a private address",
        (172, _, _) if b & 0xf0 == 16 => "a private address",
        (169, 254, _) => "a link-local address",
        (100, _, _) if b & 0xc0 == 64 => "a shared (CGNAT) address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, _, _) if b & 0xfe == 18 => "a benchmarking address",
        (192, 0, 0) => "a reserved address",
        _ if ip.is_broadcast() => "a broadcast address",
        _ if ip.is_multicast() => "a multicast address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    })
}

/// Why a webhook must not be sent to `ip`, or `None` when it may.
fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V4(v4) => return forbidden_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    let s = ip.segments();
    let embedded = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // IPv4-compatible ::a.b.c.d, IPv4-mapped ::ffff:a.b.c.d, IPv4-translated
    // ::ffff:0:a.b.c.d and NAT64 64:ff9b::a.b.c.d reach the embedded IPv4.
    if let [0, 0, 0, 0, 0, 0 | 0xffff, _, _]
    | [0, 0, 0, 0, 0xffff, 0, _, _]
    | [0x64, 0xff9b, 0, 0, 0, 0, _, _] = s
    {
        return forbidden_v4(embedded());
    }
    Some(match s[0] {
        0x64 if s[1] == 0xff9b && s[2] == 1 => "a private (local NAT64) address",
        x if x & 0xfe00 == 0xfc00 => "a private (unique-local) address",
        x if x & 0xffc0 == 0xfe80 || x & 0xffc0 == 0xfec0 => "a link-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x3fff if s[1] & 0xf000 == 0 => "a documentation address",
        _ => return None,
    })
}

/// Whether webhooks must never go to `ip`: unspecified, loopback, private,
/// link-local (cloud metadata), CGNAT, broadcast, multicast, documentation,
/// benchmarking and reserved ranges; IPv6 forms that embed an IPv4 address
/// are judged by that address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_reason(ip).is_some()
}

/// Validates an endpoint URL (field `url`): at most 2,000 characters,
/// `https` (or `http` when `allow_private`), no user name or password, a
/// host. Unless `allow_private`, the host may not be a forbidden IP literal
/// (see [`is_forbidden_ip`]) nor `localhost` or a `.localhost`, `.internal`
/// or `.local` name. Numeric hosts must be canonical dotted quads, since
/// HTTP clients read `127.1` or `0x7f000001` as IPv4 too.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), CoreError> {
    let bad = |message: &str| CoreError::invalid("url", message);
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad("must be at most 2,000 characters"));
    }
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must be a URL without spaces"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("must be an https:// URL"))?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(bad("must use https")),
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(bad("must not contain a user name or password"));
    }
    let why = match url_host(authority).map_err(bad)? {
        Host::Ip(ip) => forbidden_reason(ip),
        Host::Name(name) => {
            let local = name == "localhost"
                || [".localhost", ".internal", ".local"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix));
            local.then_some("a local host name")
        }
    };
    match why {
        Some(why) if !allow_private => Err(bad(&format!("must not point to {why}"))),
        _ => Ok(()),
    }
}

/// A URL host as written: an IP literal or a (lower-case) name.
enum Host {
    Ip(IpAddr),
    Name(String),
}

/// The host of a URL authority, `host[:port]` or `[v6][:port]`, checked.
fn url_host(authority: &str) -> Result<Host, &'static str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => {
            let (v6, after) = inner
                .split_once(']')
                .ok_or("has an unclosed [ in its host")?;
            if !after.is_empty() && !after.starts_with(':') {
                return Err("has an invalid host");
            }
            let ip = v6.parse().map_err(|_| "has an invalid IPv6 address")?;
            (Host::Ip(IpAddr::V6(ip)), after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((name, port)) => (name_host(name)?, Some(port)),
            None => (name_host(authority)?, None),
        },
    };
    if let Some(port) = port {
        // Digits only: `u16::from_str` would take `+80`.
        let digits = port.bytes().all(|b| b.is_ascii_digit());
        if !digits || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err("has an invalid port");
        }
    }
    Ok(host)
}

/// A host name, or an IPv4 literal when its last label is a number: HTTP
/// clients read `127.1` or `0x7f000001` as IPv4, so only `a.b.c.d` passes.
fn name_host(name: &str) -> Result<Host, &'static str> {
    if name.is_empty() {
        return Err("must have a host");
    }
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !name.split('.').all(label_ok) {
        return Err("has an invalid host name (use ASCII; punycode for others)");
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !numeric {
        return Ok(Host::Name(name.to_string()));
    }
    let v4: Ipv4Addr = name
        .parse()
        .map_err(|_| "has an IPv4 address not written as a.b.c.d")?;
    Ok(Host::Ip(IpAddr::V4(v4)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerifyError::{BadTimestamp, MissingHeader, NoMatch, TooNew, TooOld};

    // The published test vector, as in the Standard Webhooks reference
    // libraries (standard-webhooks/standard-webhooks, libraries/go/
    // webhook_test.go, TestWebhookSign).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn field_of(err: CoreError) -> String {
        match err {
            CoreError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_parse_print_and_hide() {
        let s = WebhookSecret::parse(SECRET).unwrap();
        assert_eq!(s.as_bytes().len(), 24);
        assert_eq!(s.to_string(), SECRET);
        assert_eq!(
            WebhookSecret::parse(&SECRET[6..]).unwrap().as_bytes(),
            s.as_bytes()
        );
        assert_eq!(format!("{s:?}"), "WebhookSecret(..)");

        let g = WebhookSecret::generate();
        assert_eq!(g.as_bytes().len(), 32);
        assert_ne!(g.as_bytes(), WebhookSecret::generate().as_bytes());
        let again = WebhookSecret::parse(&g.to_string()).unwrap();
        assert_eq!(again.as_bytes(), g.as_bytes());

        let of_len = |n: usize| format!("whsec_{}", STANDARD.encode(vec![0xfb; n]));
        assert!(WebhookSecret::parse(&of_len(64)).is_ok());
        // Standard base64 with padding: base64url or unpadded text is refused.
        let url_safe = of_len(30).replace('+', "-");
        let unpadded = of_len(25).trim_end_matches('=').to_string();
        let bad = [
            "",
            "whsec_",
            "whsec_a b",
            "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ];
        let bad = bad.map(String::from).into_iter();
        for text in bad.chain([of_len(23), of_len(65), url_safe, unpadded]) {
            let err = WebhookSecret::parse(&text).unwrap_err();
            assert_eq!(field_of(err), "secret", "{text}");
        }
    }

    #[test]
    fn signing_matches_the_published_test_vector() {
        let s = WebhookSecret::parse(SECRET).unwrap();
        assert_eq!(sign(&s, ID, TS, BODY), SIG);
        let old = WebhookSecret::generate();
        let header = signature_header(&[&old, &s], ID, TS, BODY);
        assert_eq!(header, format!("{} {SIG}", sign(&old, ID, TS, BODY)));
        assert_eq!(signature_header(&[], ID, TS, BODY), "");
    }

    #[test]
    fn verification_table() {
        let s = WebhookSecret::parse(SECRET).unwrap();
        let t = "1614265330";
        // Rotation: only the second signature matches; other versions are skipped.
        let rotated = &format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SIG}");
        let versions = &format!("v1a,{} v2,x {SIG}", &SIG[3..]);
        let v1a_only = &format!("v1a,{}", &SIG[3..]);
        let other = &sign(&WebhookSecret::generate(), ID, TS, BODY);
        let cases = [
            (ID, t, SIG, BODY, TS, Ok(())),
            (ID, t, rotated, BODY, TS, Ok(())),
            (ID, t, versions, BODY, TS, Ok(())),
            (ID, t, SIG, BODY, TS + TOLERANCE_SECS, Ok(())),
            (ID, t, SIG, BODY, TS - TOLERANCE_SECS, Ok(())),
            (ID, t, SIG, BODY, TS + TOLERANCE_SECS + 1, Err(TooOld)),
            (ID, t, SIG, BODY, TS - TOLERANCE_SECS - 1, Err(TooNew)),
            (
                ID,
                t,
                SIG,
                &br#"{"test": 2432232315}"#[..],
                TS,
                Err(NoMatch),
            ),
            (ID, t, SIG, &b""[..], TS, Err(NoMatch)),
            ("msg_other", t, SIG, BODY, TS, Err(NoMatch)),
            (ID, "1614265331", SIG, BODY, TS, Err(NoMatch)),
            (ID, t, other, BODY, TS, Err(NoMatch)),
            (ID, t, v1a_only, BODY, TS, Err(NoMatch)),
            (ID, t, &SIG[3..], BODY, TS, Err(NoMatch)),
            (ID, t, "garbage ,, v1, v1 =,= v1,,", BODY, TS, Err(NoMatch)),
            ("", t, SIG, BODY, TS, Err(MissingHeader)),
            (ID, "", SIG, BODY, TS, Err(MissingHeader)),
            (ID, t, "  ", BODY, TS, Err(MissingHeader)),
            (ID, "16142653.3", SIG, BODY, TS, Err(BadTimestamp)),
            (ID, "+1614265330", SIG, BODY, TS, Err(BadTimestamp)),
            (ID, " 1614265330", SIG, BODY, TS, Err(BadTimestamp)),
            (ID, "-5", SIG, BODY, TS, Err(BadTimestamp)),
            (ID, "99999999999999999999", SIG, BODY, TS, Err(BadTimestamp)),
        ];
        for (i, (id, ts, sigs, body, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(verify(&s, id, ts, sigs, body, now), want, "case {i}");
        }
    }

    #[test]
    fn retry_schedules() {
        let d = RetrySchedule::default();
        assert_eq!(d.attempts(), 10);
        let firsts: Vec<_> = (0..4).map(|a| d.delay_before(a)).collect();
        assert_eq!(firsts, [None, Some(0), Some(5_000), Some(300_000)]);
        assert_eq!(
            (d.delay_before(10), d.delay_before(11)),
            (Some(86_400_000), None)
        );
        // 75 h 35 min 5 s in all, as in the specification's table.
        let total: i64 = d.delays_ms().iter().sum();
        assert_eq!(total, ((75 * 60 + 35) * 60 + 5) * 1_000);

        let twenty = vec!["0s"; 20].join(",");
        let ok: &[(&str, &[i64])] = &[
            ("0s,1s,2s", &[0, 1_000, 2_000]),
            (
                " 250ms , 3m,1h,2d ",
                &[250, 180_000, 3_600_000, 172_800_000],
            ),
            ("7d", &[604_800_000]),
            (&twenty, &[0; 20]),
        ];
        for (text, want) in ok {
            assert_eq!(
                RetrySchedule::parse(text).unwrap().delays_ms(),
                *want,
                "{text}"
            );
        }
        let bad = "| |1s,,2s|1s,|5|5x|5 s|s|-1s|1.5s|+1s|8d|168h1|10081m|99999999999999999999d|1S";
        let twenty_one = vec!["1s"; 21].join(",");
        for text in bad.split('|').chain([twenty_one.as_str()]) {
            let field = field_of(RetrySchedule::parse(text).unwrap_err());
            assert_eq!(field, "BATON_WEBHOOK_RETRY_SCHEDULE", "{text:?}");
        }
    }

    #[test]
    fn jitter_and_retry_after() {
        let jitter = [
            (0, 0.99, 0),
            (1_000, 0.0, 1_000),
            (1_000, 0.999_999, 1_099),
            (60_000, 0.25, 61_500),
            (-5, 0.5, 0),
            (1_000, f64::NAN, 1_000),
            (1_000, 7.0, 1_100),
        ];
        for (delay, unit, want) in jitter {
            assert_eq!(jittered(delay, unit), want, "{delay} {unit}");
        }
        let now = 1_445_412_480; // 2015-10-21T07:28:00Z
        let day = Some(86_400_000);
        for (header, want) in [
            ("120", Some(120_000)),
            (" 0 ", Some(0)),
            ("86401", day),
            ("99999999999999999999999", day),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(0)),
            ("Wed, 21 Oct 2015 07:30:00 GMT", Some(120_000)),
            ("Tue, 20 Oct 2015 07:28:00 GMT", Some(0)),
            ("Fri, 23 Oct 2015 07:28:00 GMT", day),
            ("", None),
            ("-5", None),
            ("soon", None),
        ] {
            assert_eq!(retry_after_ms(header, now), want, "{header:?}");
        }
    }

    #[test]
    fn event_filters() {
        for (filter, event, want) in [
            ("*", "client.contract_signed", true),
            ("client.*", "client.contract_signed", true),
            ("client.*", "client.x.y", true),
            ("client.*", "clients.x", false),
            ("client.*", "client", false),
            ("client.*", "client.", false),
            ("client.x.*", "client.xy", false),
            ("client.signed", "client.signed", true),
            ("client.signed", "client.signed_late", false),
            ("client", "client.x", false),
        ] {
            assert_eq!(matches(filter, event), want, "{filter} {event}");
        }

        let list = |text: &str| text.split('|').map(str::to_string).collect::<Vec<_>>();
        let kept = check_filters(&list(" client.* |*|task.done|client.*|v2_x.a1")).unwrap();
        assert_eq!(kept, list("client.*|*|task.done|v2_x.a1"));
        assert!(check_filters(&["a".repeat(100)]).is_ok());
        let fifty: Vec<String> = (0..50).map(|i| format!("e{i}")).collect();
        assert_eq!(check_filters(&fifty).unwrap().len(), 50);
        let fifty_one = [fifty.as_slice(), &["x".to_string()]].concat();
        let mut bad = vec![vec![], fifty_one, vec!["a".repeat(101)], list("ok|not ok")];
        let bad_entries =
            "|  |Client.x|client..x|.client|client.|client*|*.x|client.*.x|*.*|.*|a-b";
        bad.extend(bad_entries.split('|').map(|e| vec![e.to_string()]));
        for filters in bad {
            assert_eq!(
                field_of(check_filters(&filters).unwrap_err()),
                "events",
                "{filters:?}"
            );
        }
    }

    #[test]
    fn forbidden_addresses() {
        let forbidden = "0.0.0.0 0.1.2.3 127.0.0.1 127.255.0.9 10.0.0.1 172.16.0.1 \
            172.31.255.255 192.168.1.1 169.254.169.254 100.64.0.1 100.127.255.255 \
            255.255.255.255 224.0.0.1 239.1.1.1 192.0.2.1 198.51.100.7 203.0.113.9 \
            198.18.0.1 198.19.255.255 240.0.0.1 192.0.0.8 :: ::1 fc00::1 fdff::1 fe80::1 \
            febf::1 ff02::1 2001:db8::1 3fff::1 ::ffff:127.0.0.1 ::ffff:169.254.169.254 \
            ::ffff:10.1.2.3 ::10.0.0.1 ::ffff:0:10.0.0.1 64:ff9b::7f00:1 \
            64:ff9b::a9fe:a9fe 64:ff9b:1::1 2001:db8:ffff::";
        let allowed = "1.1.1.1 8.8.8.8 172.15.255.255 172.32.0.1 100.63.255.255 100.128.0.1 \
            169.253.0.1 198.17.0.1 198.20.0.1 192.169.0.1 223.255.255.255 2606:4700::1111 \
            2001:4860:4860::8888 ::ffff:8.8.8.8 64:ff9b::808:808 fbff::1 \
            3fff:1000::1";
        for (list, want) in [(forbidden, true), (allowed, false)] {
            for ip in list.split_whitespace() {
                assert_eq!(is_forbidden_ip(ip.parse().unwrap()), want, "{ip}");
            }
        }
    }

    #[test]
    fn endpoint_urls() {
        let long = format!("https://example.com/{}", "a".repeat(2_000));
        // (url, 'y' allowed, 'p' only with allow_private, 'n' never; message part)
        let cases = [
            ("https://example.com/hooks?x=1#f", 'y', ""),
            ("HTTPS://Example.COM.:8443/a@b", 'y', ""),
            ("https://8.8.8.8", 'y', ""),
            ("https://[2606:4700::1111]:443/x", 'y', ""),
            ("https://notlocalhost.com/", 'y', ""),
            ("http://example.com/h", 'p', "https"),
            ("https://10.0.0.1/", 'p', "a private address"),
            ("https://[fd00::1]:8443/", 'p', "private"),
            ("https://127.0.0.1./", 'p', "loopback"),
            ("https://[::ffff:127.0.0.1]/", 'p', "loopback"),
            ("https://169.254.169.254/latest", 'p', "link-local"),
            ("https://LOCALHOST:3000/", 'p', "local host"),
            ("https://api.localhost/", 'p', "local host"),
            ("https://metadata.google.internal/", 'p', "local host"),
            ("https://printer.local/", 'p', "local host"),
            ("ftp://example.com/h", 'n', "https"),
            ("example.com/h", 'n', "https://"),
            ("https:///path", 'n', "host"),
            ("https://:443/", 'n', "host"),
            ("https://user:pw@example.com/", 'n', "user name"),
            ("https://example.com\\@10.0.0.1/", 'n', "user name"),
            ("https://127.1/", 'n', "a.b.c.d"),
            ("https://0x7f000001/", 'n', "a.b.c.d"),
            ("https://127.000.000.001/", 'n', "a.b.c.d"),
            ("https://[::1/", 'n', "unclosed"),
            ("https://[nope]/", 'n', "IPv6"),
            ("https://[::1]x/", 'n', "invalid host"),
            ("https://example.com:0/", 'n', "port"),
            ("https://example.com:65536/", 'n', "port"),
            ("https://example.com:+80/", 'n', "port"),
            ("https://exa mple.com/", 'n', "spaces"),
            ("", 'n', "spaces"),
            ("https://exämple.com/", 'n', "ASCII"),
            ("https://%31%32%37.0.0.1/", 'n', "ASCII"),
            ("https://a..b/", 'n', "host name"),
            (&long, 'n', "2,000"),
        ];
        for (url, allowed, message) in cases {
            for allow_private in [false, true] {
                let got = check_url(url, allow_private);
                let want = allowed == 'y' || (allowed == 'p' && allow_private);
                assert_eq!(got.is_ok(), want, "{url} {allow_private}: {got:?}");
                if let Err(CoreError::Invalid { field, message: m }) = got {
                    assert_eq!(field, "url");
                    assert!(m.contains(message), "{url}: {m:?} lacks {message:?}");
                }
            }
        }
    }
}
