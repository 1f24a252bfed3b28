//! Who is calling: API bearer tokens, browser sessions with CSRF protection,
//! password hashing and login throttling.

pub mod api_token;
pub mod client_addr;
pub mod password;
pub mod session;
pub mod throttle;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use baton_store::members::Member;
use baton_store::Actor;

/// The client address of a request: behind a trusted proxy the one it
/// forwarded ([`client_addr`]), else the peer ("" when unknown, e.g.
/// in-process tests).
pub fn client_ip(ext: &Extensions) -> String {
    if let Some(client_addr::ClientAddr(a)) = ext.get::<client_addr::ClientAddr>() {
        return a.to_string();
    }
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

/// The User-Agent, cut to a sane length for the audit log.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
        .unwrap_or_default()
}

/// The audit actor for a member acting through `kind` (`member` or `token`).
pub fn member_actor(kind: &str, m: &Member, ip: String, ua: String) -> Actor {
    Actor {
        kind: kind.into(),
        id: m.id.clone(),
        label: m.name.clone(),
        ip,
        user_agent: ua,
    }
}
