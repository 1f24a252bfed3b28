//! A request's link: the host it came to (the agency's custom domain or the
//! public host), the token looked up into its link, client and agency, and
//! the origin check of the portal's forms.

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use baton_core::access::AccessStatus;
use baton_core::onboarding::OnboardingSettings;
use baton_store::access_requests::AccessRequest;
use baton_store::agencies::{self, Agency};
use baton_store::clients::Client;
use baton_store::onboarding_links::{self, Link};
use baton_store::Actor;

use super::brand::{css_href, theme_href};
use super::guard::PortalError;
use super::views::PortalLayout;
use crate::state::AppState;
use crate::web::form::ClientMeta;

/// The host a request was sent to: lower-case, without the port.
pub(super) fn request_host(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get(header::HOST)?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    Some(strip_port(&raw).to_string())
}

fn strip_port(hostport: &str) -> &str {
    if let Some(rest) = hostport.strip_prefix('[') {
        // [v6]:port
        return rest.split(']').next().unwrap_or(rest);
    }
    match hostport.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => hostport,
    }
}

/// The host (no port) of a base URL, lower-case.
pub(crate) fn public_host(public_url: &str) -> String {
    let after = public_url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &public_url[after..];
    let hostport = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
    strip_port(&hostport.to_ascii_lowercase()).to_string()
}

/// What a valid token opens, with who is asking.
/// A live link as one request sees it: loaded once (one query) by [`load`].
pub(super) struct Ctx {
    token: String,
    pub(super) agency: Agency,
    pub(super) settings: OnboardingSettings,
    pub(super) client: Client,
    pub(super) link: Link,
    /// The link's requests in order, as they were when the request came in.
    pub(super) requests: Vec<AccessRequest>,
    meta: ClientMeta,
}

impl Ctx {
    pub(super) fn base(&self) -> String {
        format!("/o/{}", self.token)
    }

    pub(super) fn actor(&self) -> Actor {
        Actor {
            kind: "client_link".into(),
            id: self.link.id.to_string(),
            label: format!("{} (onboarding link)", self.client.name),
            ip: self.meta.ip.clone(),
            user_agent: self.meta.user_agent.clone(),
        }
    }

    pub(super) fn layout(&self, title: String) -> PortalLayout {
        PortalLayout {
            title,
            agency: self.agency.name.clone(),
            logo_url: self.agency.logo_url.clone(),
            css_href: css_href(),
            theme_href: theme_href(&self.agency.brand_color, &self.agency.accent_color),
            powered_by: !self.agency.white_label,
        }
    }

    /// Back to the steps page after a form, with `done` saying what
    /// happened and `place` what to scroll to (`?…#…`).
    pub(super) fn steps_url(&self, done: &str, place: &str) -> Response {
        Redirect::to(&format!("{}/steps?done={done}{place}", self.base())).into_response()
    }

    /// After "I've granted access" or "I'm stuck" on request `acted`: the
    /// next request card still waiting on the client (in page order, from
    /// the one after `acted` round to the top), where the notice shows;
    /// else the card itself when it still waits (stuck), else the
    /// progress summary.
    pub(super) fn after_card(&self, done: &str, acted: &str) -> Response {
        let waiting = |r: &&AccessRequest| {
            r.id != acted && matches!(r.status, AccessStatus::Requested | AccessStatus::Failed)
        };
        let at = self
            .requests
            .iter()
            .position(|r| r.id == acted)
            .unwrap_or(0);
        let (before, after) = self.requests.split_at(at);
        let place = match after.iter().chain(before).find(waiting) {
            Some(next) => format!("&next={0}#req-{0}", next.id),
            None if done == "stuck" => format!("&at={acted}#req-{acted}"),
            None => "#progress".into(),
        };
        self.steps_url(done, &place)
    }
}

/// Resolves the token for the host the request came to: on the public host
/// any agency's link, on a custom domain only that agency's links.
pub(super) async fn load(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    meta: ClientMeta,
) -> Result<Ctx, PortalError> {
    let host = request_host(headers);
    let domain_agency = match host {
        Some(h) if h != public_host(&state.config.public_url) => {
            match agencies::find_by_custom_domain(&state.db, &h).await? {
                Some(a) => Some(a),
                None => return Err(PortalError::NotFound),
            }
        }
        _ => None,
    };
    let page = onboarding_links::open_page(
        &state.db,
        token,
        state.now(),
        domain_agency.as_ref().map(|a| a.id.as_str()),
    )
    .await?
    .ok_or(PortalError::NotFound)?;
    Ok(Ctx {
        token: token.to_string(),
        agency: page.agency,
        settings: page.settings,
        client: page.client,
        link: page.link,
        requests: page.requests,
        meta,
    })
}

/// Refuses a cross-site post: an `Origin`, when sent, must be the public
/// origin or the agency's custom domain.
pub(super) fn check_origin(
    state: &AppState,
    headers: &HeaderMap,
    agency: &Agency,
) -> Result<(), PortalError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| PortalError::Forbidden)?
        .trim()
        .to_ascii_lowercase();
    // The portal's `Referrer-Policy: no-referrer` makes browsers send
    // `Origin: null` on its own form posts. Fetch metadata, where the browser
    // sends it, still says where the post came from: refuse `null` only when
    // it names another site (older browsers send none; the token in the path
    // is the capability either way).
    if origin == "null" {
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return if matches!(site, "cross-site" | "same-site") {
            Err(PortalError::Forbidden)
        } else {
            Ok(())
        };
    }
    if origin == state.config.public_origin().to_ascii_lowercase() {
        return Ok(());
    }
    if let Some(domain) = &agency.custom_domain {
        let domain = domain.to_ascii_lowercase();
        if origin == format!("https://{domain}")
            || (!state.config.secure_cookies && origin == format!("http://{domain}"))
        {
            return Ok(());
        }
    }
    Err(PortalError::Forbidden)
}

/// Loads the link for a form post and checks where the post came from.
pub(super) async fn load_for_post(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    meta: ClientMeta,
) -> Result<Ctx, PortalError> {
    let ctx = load(state, headers, token, meta).await?;
    check_origin(state, headers, &ctx.agency)?;
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn hosts() {
        let mut h = HeaderMap::new();
        for (raw, want) in [
            ("Onboard.Example.com:8443", "onboard.example.com"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("[::1]:8080", "::1"),
            ("example.com", "example.com"),
        ] {
            h.insert(header::HOST, HeaderValue::from_static(raw));
            assert_eq!(request_host(&h).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(
            public_host("https://Ops.Agency.com/baton"),
            "ops.agency.com"
        );
        assert_eq!(public_host("http://127.0.0.1:8080"), "127.0.0.1");
    }
}
