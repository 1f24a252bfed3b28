//! Settings → Connections through a real server and a cookie-keeping
//! client, with GA4 played by a local stand-in (`common::platforms`): the
//! page explains every platform to admins and is the 403 page to other
//! members; an app saved by its form (single-use nonce) says its secret is
//! set and never shows it, nor stores it in clear, and a reload of the form
//! saves once; a refused save keeps what was typed (never the secret);
//! Connect without an app says to save it first, with one it is a 303 to the
//! consent screen (PKCE), and after the callback the page lists the
//! connection; Remove revokes it; another agency's connection is the 404
//! page.

use crate::common;

use std::sync::Arc;

use baton_core::clock::SystemClock;
use baton_core::connectors::ConnectorPlatform;
use baton_server::testing::TestApp;
use common::platforms::StandIn;
use common::{contains_bytes, count, csrf_of, nonce_of, page, signed_in_admin, stored_bytes, Api};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const PAGE: &str = "/settings/connections";

/// The app with GA4 played by a stand-in.
async fn app() -> (TestApp, StandIn) {
    let ga4 = StandIn::start().await;
    let urls = ga4.urls();
    let app = TestApp::spawn_with_config(Arc::new(SystemClock), move |c| {
        c.connectors.set(ConnectorPlatform::Ga4, urls);
    })
    .await;
    (app, ga4)
}

/// A form post as a browser makes it: a page answer is the page shown once
/// (the flash redirect is followed by the client); a redirect to this site
/// is followed here. The final status and page.
async fn post(c: &Client, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c.post(url).form(fields).send().await.expect("POST");
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        let next = r.url().join(&to).unwrap();
        return page(c, next.as_str()).await;
    }
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The page (200) and its CSRF token and nonce.
async fn show(app: &TestApp, c: &Client) -> (String, String, String) {
    let (s, html) = page(c, &app.url(PAGE)).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (csrf, nonce) = (csrf_of(&html), nonce_of(&html));
    (html, csrf, nonce)
}

fn saves_sql() -> &'static str {
    "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1 AND action = 'connection.app_saved'"
}

/// Saves the GA4 app through the form.
async fn save_ga4(app: &TestApp, c: &Client) -> String {
    let (_, csrf, nonce) = show(app, c).await;
    let (s, html) = post(
        c,
        &app.url("/settings/connections/ga4/app"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("client_id", "agency-app.apps.example"),
            ("client_secret", "ga4-s3cret-value"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Google Analytics 4 app saved."), "{html}");
    html
}

/// Connect: the 303's `Location`.
async fn connect(app: &TestApp, c: &Client, platform: &str) -> reqwest::Response {
    let (_, csrf, _) = show(app, c).await;
    c.post(app.url(&format!("/settings/connections/{platform}/connect")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

/// The API's connections.
async fn api_items(app: &TestApp) -> Vec<Value> {
    let r = Api::new(app)
        .get("/api/v1/connections", &app.agency.token)
        .await;
    r.expect(200, "connections");
    r.items().clone()
}

/// The first connection id on a page (its Remove form).
fn connection_id(html: &str) -> String {
    let marker = "action=\"/settings/connections/con_";
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no Remove form in {html}"));
    let rest = &html[at + "action=\"/settings/connections/".len()..];
    rest[..rest.find('/').unwrap()].to_string()
}

#[tokio::test]
async fn the_page_explains_every_platform_to_admins_and_is_403_to_others() {
    let (app, ga4) = app().await;
    let c = signed_in_admin(&app).await;
    let r = c.get(app.url(PAGE)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("aria-current=\"page\">Connections</a>"),
        "subnav: {html}"
    );
    for p in ConnectorPlatform::ALL {
        assert!(
            html.contains(&format!("id=\"platform-{}\"", p.key())),
            "{} card",
            p.key()
        );
        assert!(html.contains(p.label()), "{}", p.label());
        assert!(
            html.contains(&format!("action=\"/settings/connections/{}/app\"", p.key())),
            "{} app form",
            p.key()
        );
        assert!(
            html.contains(&format!(
                "action=\"/settings/connections/{}/connect\"",
                p.key()
            )),
            "{} connect form",
            p.key()
        );
        for (key, _) in p.app_extras() {
            assert!(html.contains(&format!("name=\"extra_{key}\"")), "{key}");
        }
    }
    // What each checks, the scopes, the redirect URI to register.
    assert!(
        html.contains("Facebook Page, Meta ad account requests"),
        "what Meta checks: {html}"
    );
    assert!(html.contains("https://www.googleapis.com/auth/analytics.readonly"));
    assert!(html.contains("Chosen on the app itself"), "TikTok's scopes");
    assert!(html.contains(&format!("value=\"{}\"", app.url("/oauth/callback"))));
    assert!(html.contains("Not set up"));
    assert!(
        html.contains("Register the agency's own OAuth app"),
        "explained"
    );
    // The consent screens are where its forms may lead.
    assert!(
        csp.contains(&format!("form-action 'self' {}", ga4.url))
            && csp.contains("https://www.facebook.com"),
        "{csp}"
    );
    // The settings page links here too.
    let (_, general) = page(&c, &app.url("/settings")).await;
    assert!(general.contains("href=\"/settings/connections\""));

    // A member who is not an admin: the 403 page, for the page and its forms.
    let m = common::signed_in_non_admin(&app).await;
    let (s, html) = page(&m, &app.url(PAGE)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    let (_, hours) = page(&m, &app.url("/settings/calendar")).await;
    assert!(
        !hours.contains("href=\"/settings/connections\""),
        "not in their subnav"
    );
    let csrf = csrf_of(&hours);
    let r = m
        .post(app.url("/settings/connections/ga4/app"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "x"),
            ("client_secret", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, saves_sql(), &app.agency.id).await, 0);
    let r = m
        .post(app.url("/settings/connections/ga4/connect"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

#[tokio::test]
async fn a_saved_app_says_its_secret_is_set_never_shows_it_and_saves_once() {
    let (app, _ga4) = app().await;
    let c = signed_in_admin(&app).await;
    let (_, csrf, nonce) = show(&app, &c).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("client_id", "ads-app.apps.example"),
        ("client_secret", "ads-s3cret-value"),
        ("extra_developer_token", "dev-t0ken-value"),
        ("extra_manager_customer_id", "123-456-7890"),
    ];
    let (s, html) = post(
        &c,
        &app.url("/settings/connections/google_ads/app"),
        &fields,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Google Ads app saved."), "{html}");
    assert!(html.contains("secret set"), "{html}");
    assert!(
        html.contains("value=\"ads-app.apps.example\""),
        "client id shown"
    );
    assert!(html.contains("value=\"123-456-7890\""), "plain extra shown");
    assert!(html.contains("App saved, not connected"));
    for secret in ["ads-s3cret-value", "dev-t0ken-value"] {
        assert!(!html.contains(secret), "{secret} shown");
    }

    // A reload of the form (Back and submit, a double click): saved once.
    let (s, _) = post(
        &c,
        &app.url("/settings/connections/google_ads/app"),
        &fields,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(count(&app, saves_sql(), &app.agency.id).await, 1);

    // Sealed at rest, like the API's.
    let stored = stored_bytes(&app).await;
    for secret in ["ads-s3cret-value", "dev-t0ken-value"] {
        assert!(
            !contains_bytes(&stored, secret.as_bytes()),
            "{secret} in clear"
        );
    }
    let api = Api::new(&app);
    let list = api.get("/api/v1/connections", &app.agency.token).await;
    let ads = list.body["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["platform"] == "google_ads")
        .unwrap()
        .clone();
    assert_eq!(ads["client_id"], "ads-app.apps.example");
    assert_eq!(ads["client_secret_set"], true);
    let extras = ads["extras"].as_array().unwrap();
    assert!(extras
        .iter()
        .any(|x| x["key"] == "developer_token" && x["value"] == "(set)"));
    assert!(extras
        .iter()
        .any(|x| x["key"] == "manager_customer_id" && x["value"] == "123-456-7890"));

    // Blank secrets keep the saved ones; a cleared plain extra is removed.
    let (_, csrf, nonce) = show(&app, &c).await;
    let (s, html) = post(
        &c,
        &app.url("/settings/connections/google_ads/app"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("client_id", "ads-app-2.apps.example"),
            ("client_secret", ""),
            ("extra_developer_token", ""),
            ("extra_manager_customer_id", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(count(&app, saves_sql(), &app.agency.id).await, 2);
    let list = api.get("/api/v1/connections", &app.agency.token).await;
    let ads = list.body["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["platform"] == "google_ads")
        .unwrap()
        .clone();
    assert_eq!(ads["client_id"], "ads-app-2.apps.example");
    assert_eq!(ads["client_secret_set"], true);
    let extras = ads["extras"].as_array().unwrap();
    assert!(extras
        .iter()
        .any(|x| x["key"] == "developer_token" && x["value"] == "(set)"));
    assert!(extras
        .iter()
        .any(|x| x["key"] == "manager_customer_id" && x["value"].is_null()));
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_save_keeps_what_was_typed_but_never_the_secret() {
    let (app, _ga4) = app().await;
    let c = signed_in_admin(&app).await;
    // The first save needs the secret.
    let (_, csrf, nonce) = show(&app, &c).await;
    let (s, html) = post(
        &c,
        &app.url("/settings/connections/meta/app"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("client_id", "meta-app-1234"),
            ("client_secret", ""),
            ("extra_business_id", "998877"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(
            "id=\"meta-client-secret-err\">Client secret: is required the first time the app is saved.</p>"
        ),
        "{html}"
    );
    assert!(html.contains("value=\"meta-app-1234\""), "client id kept");
    assert!(html.contains("value=\"998877\""), "extra kept");
    // An over-long extra: refused at its field, the secret not echoed.
    let (_, csrf, nonce) = show(&app, &c).await;
    let long = "9".repeat(501);
    let (s, html) = post(
        &c,
        &app.url("/settings/connections/meta/app"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("client_id", "meta-app-1234"),
            ("client_secret", "meta-s3cret-value"),
            ("extra_business_id", &long),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(
            "id=\"meta-extra_business_id-err\">The agency&#39;s Business Manager id: must be one line of at most 500 characters.</p>"
        ),
        "{html}"
    );
    assert!(
        !html.contains("meta-s3cret-value"),
        "the secret is not echoed"
    );
    assert_eq!(count(&app, saves_sql(), &app.agency.id).await, 0);
    // An unknown platform is the 404 page.
    let (_, csrf, nonce) = show(&app, &c).await;
    let (s, _) = post(
        &c,
        &app.url("/settings/connections/myspace/app"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("client_id", "x"),
            ("client_secret", "y"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn connect_sends_the_admin_to_the_consent_screen_and_remove_revokes() {
    let (app, ga4) = app().await;
    let c = signed_in_admin(&app).await;

    // Without an app: the page says to save it first, and nothing starts.
    let r = connect(&app, &c, "ga4").await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "shown once after the redirect"
    );
    assert!(
        r.url().query().unwrap_or("").contains("flash="),
        "{}",
        r.url()
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Save the agency&#39;s Google Analytics 4 app first"),
        "{html}"
    );
    assert!(api_items(&app).await.is_empty());

    // With one: a 303 to the consent screen, with PKCE.
    save_ga4(&app, &c).await;
    let r = connect(&app, &c, "ga4").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/authorize?", ga4.url)), "{url}");
    assert!(url.contains("code_challenge="), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("client_id=agency-app.apps.example"), "{url}");
    let (html, _, _) = show(&app, &c).await;
    assert!(html.contains("Waiting for consent"), "{html}");

    // The platform sends the browser back; the callback links here.
    let (state, code) = ga4.consent(&url);
    let (s, done) = page(
        &c,
        &app.url(&format!(
            "/oauth/callback?state={}&code={code}",
            common::enc(&state)
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert!(done.contains("is connected"), "{done}");
    let (html, _, _) = show(&app, &c).await;
    assert!(
        html.contains("Connected as ops@northwind.test"),
        "the account: {html}"
    );
    assert!(html.contains("openid email read"), "the scopes granted");
    assert!(!html.contains("ga4-s3cret-value"));
    let id = connection_id(&html);
    let items = api_items(&app).await;
    let conn = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(conn["status"], "active");

    // Remove: revoked, its tokens gone.
    let (_, csrf, _) = show(&app, &c).await;
    let r = c
        .post(app.url(&format!("/settings/connections/{id}/remove")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with(PAGE), "{to}");
    let (_, html) = page(&c, &app.url(&to)).await;
    assert!(
        html.contains("Google Analytics 4 connection removed"),
        "{html}"
    );
    assert!(html.contains("Removed"), "{html}");
    assert!(!html.contains(&format!("action=\"/settings/connections/{id}/remove\"")));
    let items = api_items(&app).await;
    let conn = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(conn["status"], "revoked");
    // Without a CSRF token, nothing happens.
    let r = c
        .post(app.url(&format!("/settings/connections/{id}/remove")))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_connection_is_not_found() {
    let (app, ga4) = app().await;
    let c = signed_in_admin(&app).await;
    save_ga4(&app, &c).await;
    let r = connect(&app, &c, "ga4").await;
    let url = r.headers()[LOCATION].to_str().unwrap().to_string();
    let (state, code) = ga4.consent(&url);
    let (s, _) = page(
        &c,
        &app.url(&format!(
            "/oauth/callback?state={}&code={code}",
            common::enc(&state)
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (html, _, _) = show(&app, &c).await;
    let id = connection_id(&html);

    let other = app.other_agency("rival@rival.test").await;
    let rival = common::signed_in_as(&app, &other.admin.email, &other.admin_password).await;
    let (html, csrf, _) = show(&app, &rival).await;
    assert!(!html.contains(&id), "not listed to another agency");
    assert!(html.contains("Not set up"));
    let r = rival
        .post(app.url(&format!("/settings/connections/{id}/remove")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Not a connection id at all: the 404 page too.
    let r = rival
        .post(app.url("/settings/connections/nope/remove"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Their Connect does not use this agency's app.
    let r = connect(&app, &rival, "ga4").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let items = api_items(&app).await;
    let conn = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(conn["status"], "active", "still connected");
    app.shutdown().await;
}
