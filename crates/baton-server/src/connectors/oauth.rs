//! Connecting the agency's platform accounts: the OAuth 2.0 authorization
//! code flow with PKCE (RFC 7636), with the agency's own OAuth app (Baton is
//! self-hosted, so each agency registers its app at each platform), and
//! refreshing the tokens it gives. Tokens never reach a log: they live
//! sealed in the database and in memory only for one call.
//!
//! Platforms differ in the details: Google and LinkedIn speak the standard
//! form-encoded token endpoint (Google rotates nothing, LinkedIn and others
//! may return a new refresh token: it replaces the old one); Meta has no
//! refresh token and extends its long-lived token with `fb_exchange_token`;
//! TikTok's token endpoint takes JSON (`app_id`, `secret`, `auth_code`) and
//! answers in its `{code, message, data}` envelope with a token that does
//! not expire.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use baton_core::connectors::ConnectorPlatform;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::http::{message_of, TIMEOUT};
use super::PlatformUrls;

/// How long a consent may take before its callback is refused.
pub const CONSENT_WINDOW_MS: i64 = 15 * 60_000;

/// The agency's app, opened for one exchange.
#[derive(Clone)]
pub struct OpenedApp {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for OpenedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedApp")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// What a token endpoint gave.
#[derive(Clone, Default)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds the access token lasts, when the platform says.
    pub expires_in: Option<i64>,
    /// The scopes granted, space-separated, when the platform says.
    pub scope: Option<String>,
    /// The account the tokens act as, when the answer names it (Google's
    /// `id_token` email).
    pub account: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// Why a token request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The platform refused the code or refresh token (`invalid_grant`):
    /// an admin has to connect again.
    Refused(String),
    /// An outage or a strange answer: try again later.
    Unavailable(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Refused(m) => write!(f, "the platform refused: {m}"),
            TokenError::Unavailable(m) => write!(f, "the platform could not be asked: {m}"),
        }
    }
}

/// A PKCE verifier (43 characters of base64url, 256 bits) and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = baton_core::secret::random_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The S256 challenge of `verifier` (what a platform checks at the exchange).
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The URL of the platform's consent screen for this agency's app.
pub fn authorization_url(
    platform: ConnectorPlatform,
    urls: &PlatformUrls,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let mut q: Vec<(&str, String)> = Vec::new();
    match platform {
        ConnectorPlatform::Tiktok => {
            q.push(("app_id", client_id.into()));
            q.push(("state", state.into()));
            q.push(("redirect_uri", redirect_uri.into()));
        }
        _ => {
            q.push(("response_type", "code".into()));
            q.push(("client_id", client_id.into()));
            q.push(("redirect_uri", redirect_uri.into()));
            let scope = if platform == ConnectorPlatform::Meta {
                platform.scopes().replace(' ', ",")
            } else {
                platform.scopes().to_string()
            };
            q.push(("scope", scope));
            q.push(("state", state.into()));
            q.push(("code_challenge", challenge.into()));
            q.push(("code_challenge_method", "S256".into()));
            if matches!(
                platform,
                ConnectorPlatform::Ga4 | ConnectorPlatform::GoogleAds | ConnectorPlatform::Gtm
            ) {
                // A refresh token, asked for every time (Google gives one only on consent).
                q.push(("access_type", "offline".into()));
                q.push(("prompt", "consent".into()));
            }
        }
    }
    let query = serde_urlencoded::to_string(&q).unwrap_or_default();
    let sep = if urls.auth.contains('?') { '&' } else { '?' };
    format!("{}{sep}{query}", urls.auth)
}

/// Exchanges the consent's `code` for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    platform: ConnectorPlatform,
    urls: &PlatformUrls,
    app: &OpenedApp,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<TokenSet, TokenError> {
    let answer =
        match platform {
            ConnectorPlatform::Tiktok => post_json(
                http,
                &urls.token,
                &json!({"app_id": app.client_id, "secret": app.client_secret, "auth_code": code}),
            )
            .await?,
            _ => {
                post_form(
                    http,
                    &urls.token,
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", code),
                        ("redirect_uri", redirect_uri),
                        ("client_id", &app.client_id),
                        ("client_secret", &app.client_secret),
                        ("code_verifier", verifier),
                    ],
                )
                .await?
            }
        };
    parse_tokens(platform, &answer)
}

/// New tokens from the refresh token (or, on Meta, the current long-lived
/// token). A rotated refresh token comes back in the set.
pub async fn refresh(
    http: &reqwest::Client,
    platform: ConnectorPlatform,
    urls: &PlatformUrls,
    app: &OpenedApp,
    refresh_token: Option<&str>,
    access_token: Option<&str>,
) -> Result<TokenSet, TokenError> {
    let answer = match (platform, refresh_token) {
        (ConnectorPlatform::Tiktok, _) => {
            return Err(TokenError::Refused(
                "TikTok tokens do not refresh; connect again".into(),
            ))
        }
        (ConnectorPlatform::Meta, None) => {
            let current = access_token
                .ok_or_else(|| TokenError::Refused("no token to extend; connect again".into()))?;
            post_form(
                http,
                &urls.token,
                &[
                    ("grant_type", "fb_exchange_token"),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                    ("fb_exchange_token", current),
                ],
            )
            .await?
        }
        (_, Some(rt)) => {
            post_form(
                http,
                &urls.token,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                ],
            )
            .await?
        }
        (_, None) => {
            return Err(TokenError::Refused(
                "the platform gave no refresh token; connect again".into(),
            ))
        }
    };
    parse_tokens(platform, &answer)
}

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<Value, TokenError> {
    let body = serde_urlencoded::to_string(form).unwrap_or_default();
    let req = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    answer(req).await
}

async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, TokenError> {
    let req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> Result<Value, TokenError> {
    let resp = req
        .timeout(TIMEOUT)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| {
            TokenError::Unavailable(if e.is_timeout() {
                "the token endpoint did not answer in time".into()
            } else {
                "could not reach the token endpoint".into()
            })
        })?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|_| TokenError::Unavailable("the answer was cut off".into()))?;
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    match status {
        200..=299 => Ok(json),
        400 | 401 | 403 => {
            let code = json.get("error").and_then(Value::as_str).unwrap_or("");
            let text = json
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| message_of(&json))
                .unwrap_or_else(|| format!("HTTP {status}"));
            // `invalid_grant` and friends, Meta's code 190 (expired token):
            // the grant is gone; an admin connects again.
            Err(TokenError::Refused(
                if code.is_empty() || text.contains(code) {
                    text
                } else {
                    format!("{code}: {text}")
                },
            ))
        }
        _ => Err(TokenError::Unavailable(format!("HTTP {status}"))),
    }
}

/// Reads a token answer in the platform's shape.
pub fn parse_tokens(platform: ConnectorPlatform, answer: &Value) -> Result<TokenSet, TokenError> {
    let body = if platform == ConnectorPlatform::Tiktok {
        let code = answer.get("code").and_then(Value::as_i64).unwrap_or(-1);
        if code != 0 {
            let m = message_of(answer).unwrap_or_else(|| format!("code {code}"));
            return Err(TokenError::Refused(m));
        }
        answer.get("data").cloned().unwrap_or(Value::Null)
    } else {
        answer.clone()
    };
    let access_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::Unavailable("the answer had no access_token".into()))?
        .to_string();
    let scope = match body.get("scope") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    };
    Ok(TokenSet {
        access_token,
        refresh_token: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        expires_in: body.get("expires_in").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        }),
        scope,
        account: body
            .get("id_token")
            .and_then(Value::as_str)
            .and_then(id_token_email),
    })
}

/// The `email` claim of an OpenID `id_token`. Its signature is not checked:
/// the token came straight from the platform's token endpoint over TLS, and
/// the email is only a label of the connection.
pub fn id_token_email(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> PlatformUrls {
        PlatformUrls {
            api: "http://api".into(),
            auth: "https://auth.example/o/authorize".into(),
            token: "http://token".into(),
        }
    }

    #[test]
    fn the_consent_url_carries_pkce_and_the_scopes() {
        let url = authorization_url(
            ConnectorPlatform::Ga4,
            &urls(),
            "client-1",
            "https://baton.example/oauth/callback",
            "st4te",
            "ch4llenge",
        );
        assert!(
            url.starts_with(
                "https://auth.example/o/authorize?response_type=code&client_id=client-1&"
            ),
            "{url}"
        );
        for part in [
            "redirect_uri=https%3A%2F%2Fbaton.example%2Foauth%2Fcallback",
            "state=st4te",
            "code_challenge=ch4llenge",
            "code_challenge_method=S256",
            "access_type=offline",
            "analytics.readonly",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        let meta = authorization_url(ConnectorPlatform::Meta, &urls(), "c", "r", "s", "x");
        assert!(
            meta.contains("scope=business_management%2Cpages_show_list%2Cads_read"),
            "{meta}"
        );
        assert!(!meta.contains("access_type"));
        let tiktok = authorization_url(ConnectorPlatform::Tiktok, &urls(), "app9", "r", "s", "x");
        assert!(
            tiktok.contains("app_id=app9") && !tiktok.contains("client_id"),
            "{tiktok}"
        );
    }

    #[test]
    fn pkce_challenges_are_the_s256_of_their_verifier() {
        let (v, c) = pkce();
        assert!(v.len() >= 43);
        assert_eq!(challenge_of(&v), c);
        // RFC 7636 appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn token_answers_in_each_shape() {
        let claims = URL_SAFE_NO_PAD.encode(br#"{"email":"ops@agency.example"}"#);
        let google = json!({"access_token": "ya29", "expires_in": 3599, "refresh_token": "1//r",
                            "scope": "openid email", "id_token": format!("h.{claims}.s")});
        let t = parse_tokens(ConnectorPlatform::Ga4, &google).unwrap();
        assert_eq!(t.access_token, "ya29");
        assert_eq!(t.refresh_token.as_deref(), Some("1//r"));
        assert_eq!(t.expires_in, Some(3599));
        assert_eq!(t.account.as_deref(), Some("ops@agency.example"));
        let tiktok =
            json!({"code": 0, "message": "OK", "data": {"access_token": "tt", "scope": [1, 2]}});
        let t = parse_tokens(ConnectorPlatform::Tiktok, &tiktok).unwrap();
        assert_eq!(
            (t.access_token.as_str(), t.scope.as_deref()),
            ("tt", Some("1 2"))
        );
        let refused = json!({"code": 40105, "message": "auth_code expired"});
        assert_eq!(
            parse_tokens(ConnectorPlatform::Tiktok, &refused).unwrap_err(),
            TokenError::Refused("auth_code expired".into())
        );
        assert!(parse_tokens(ConnectorPlatform::Ga4, &json!({"token_type": "Bearer"})).is_err());
        assert_eq!(id_token_email("not-a-jwt"), None);
    }
}
