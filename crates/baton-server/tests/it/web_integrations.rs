//! Settings → Integrations through a real server and a cookie-keeping
//! client, with real local receivers (`common::receiver`): a webhook added
//! by its form (single-use nonce) shows its secret once and signs with it;
//! bad input is refused at its field; members who are not admins get the
//! 403 page and another agency's endpoint the 404 page; the endpoint page's
//! delivery log (local times, status, latency, response) with Retry, its
//! pages, recovery, rotation, edits and deletion; a channel's URL masked;
//! inbound endpoints; and markup in a description shown as text.

use crate::common;

use std::sync::Arc;

use baton_core::clock::SystemClock;
use baton_core::types::ClientId;
use baton_core::webhooks::{self, RetrySchedule, WebhookSecret};
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_server::ServerConfig;
use baton_store::members::{self, MemberInput};
use baton_store::{Actor, Cx};
use common::receiver::{Hit, Receiver, Reply};
use common::{browser, count, csrf_of, nonce_of, now_ms, page, signed_in_admin, Api};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const LIST: &str = "/settings/integrations";

/// Local receivers allowed, one attempt per delivery: a failed attempt
/// fails the delivery at once, so it can be retried from the page.
fn config(c: &mut ServerConfig) {
    c.webhook_allow_private = true;
    c.webhook_retry = RetrySchedule::parse("0s").unwrap();
}

async fn app() -> TestApp {
    TestApp::spawn_with_config(Arc::new(SystemClock), config).await
}

/// A form post as a browser makes it: a page answer is the page shown once
/// (the flash redirect is followed by the client); a redirect is followed
/// here. The final status and page.
async fn post(c: &Client, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c.post(url).form(fields).send().await.expect("POST");
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let next = r.url().join(&to).unwrap();
        return page(c, next.as_str()).await;
    }
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The list page (200) and its CSRF token and nonce.
async fn list(app: &TestApp, c: &Client) -> (String, String, String) {
    let (s, html) = page(c, &app.url(LIST)).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (csrf, nonce) = (csrf_of(&html), nonce_of(&html));
    (html, csrf, nonce)
}

/// Adds a webhook through the form; the page that answers it.
async fn add_webhook(
    app: &TestApp,
    c: &Client,
    url: &str,
    events: &str,
    description: &str,
) -> (StatusCode, String) {
    let (_, csrf, nonce) = list(app, c).await;
    post(
        c,
        &app.url("/settings/integrations/webhooks"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("url", url),
            ("events", events),
            ("description", description),
            ("client", ""),
        ],
    )
    .await
}

/// The value of the first `<input … value="…" … marker>` (a secret shown
/// once).
fn value_before(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let start = html[..at].rfind("value=\"").unwrap() + 7;
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

/// The value of the first `<input marker … value="…">`.
fn value_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let start = at + html[at..].find("value=\"").unwrap() + 7;
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

/// The first `/settings/integrations/whk_…` id in a page.
fn endpoint_id(html: &str) -> String {
    let at = html
        .find("/settings/integrations/whk_")
        .unwrap_or_else(|| panic!("no endpoint link in {html}"));
    let rest = &html[at + "/settings/integrations/".len()..];
    rest[..rest
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap()]
        .to_string()
}

fn endpoint_count_sql() -> &'static str {
    "SELECT COUNT(*) FROM integration_endpoints WHERE agency_id = $1 AND deleted_at IS NULL"
}

/// Checks a receiver's request against a secret, as a receiver would.
fn verify(secret: &str, hit: &Hit) -> Result<(), webhooks::VerifyError> {
    webhooks::verify(
        &WebhookSecret::parse(secret).expect("a whsec_ secret"),
        hit.header("webhook-id").unwrap_or(""),
        hit.header("webhook-timestamp").unwrap_or(""),
        hit.header("webhook-signature").unwrap_or(""),
        hit.body.as_bytes(),
        now_ms() / 1000,
    )
}

/// Logs a browser in.
async fn login(app: &TestApp, email: &str, password: &str) -> Client {
    let c = browser();
    let (_, html) = page(&c, &app.url("/login")).await;
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {email}");
    c
}

/// A member with a password who is not an admin, logged in.
async fn non_admin(app: &TestApp) -> Client {
    let (email, password) = ("casey@northwind.test", "casey's password");
    let hash = baton_server::auth::password::hash_async(password.into()).await;
    members::create(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        MemberInput {
            email: email.into(),
            name: "Casey Creative".into(),
            roles: vec!["designer".into()],
            is_admin: false,
            password_hash: Some(hash),
        },
    )
    .await
    .expect("create member");
    login(app, email, password).await
}

/// `POST /api/v1/webhooks` with the agency's token: its body.
async fn api_webhook(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let r = Api::new(app)
        .post(
            "/api/v1/webhooks",
            &app.agency.token,
            json!({"url": url, "events": events}),
        )
        .await;
    r.expect(201, "create webhook");
    r.body.clone()
}

#[tokio::test]
async fn a_webhook_added_by_the_form_shows_its_secret_once_and_signs_with_it() {
    let app = app().await;
    let rx = Receiver::start().await;
    let c = signed_in_admin(&app).await;
    let (html, csrf, nonce) = list(&app, &c).await;
    assert!(html.contains("No webhooks yet."), "{html}");
    assert!(
        html.contains("aria-current=\"page\">Integrations</a>"),
        "subnav"
    );
    assert!(html.contains("Delivery is <strong>at least once</strong>"));
    assert!(
        html.contains("webhook-id"),
        "verification headers explained"
    );
    assert!(
        html.contains("id=\"topic-access.verified\""),
        "the catalogue lists its topics"
    );
    assert!(
        html.contains("&#34;type&#34;: &#34;client.contract_signed&#34;")
            || html.contains("&quot;type&quot;: &quot;client.contract_signed&quot;"),
        "example bodies, pretty-printed"
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("url", rx.url.as_str()),
        ("events", "client.*"),
        ("description", "CRM sync"),
        ("client", ""),
    ];
    let r = c
        .post(app.url("/settings/integrations/webhooks"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the flash is followed");
    let shown_at = r.url().clone();
    assert_eq!(shown_at.path(), LIST);
    assert!(
        shown_at.query().unwrap_or("").contains("flash="),
        "{shown_at}"
    );
    let answer = r.text().await.unwrap();
    let secret = value_before(&answer, "data-webhook-secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(answer.contains("shown only once"));

    // The same form again (a double click, Back and submit): one webhook,
    // and the secret is not shown again.
    let (s, again) = post(&c, &app.url("/settings/integrations/webhooks"), &fields).await;
    assert!(s == StatusCode::OK, "{s}");
    assert!(!again.contains(&secret), "a second submit shows no secret");
    assert_eq!(count(&app, endpoint_count_sql(), &app.agency.id).await, 1);
    let (s, reload) = page(&c, shown_at.as_str()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !reload.contains(&secret) && !reload.contains("data-webhook-secret"),
        "a reload shows no secret"
    );
    let (html, _, _) = list(&app, &c).await;
    assert!(!html.contains(&secret));
    assert!(
        html.contains(&rx.url) && html.contains("CRM sync"),
        "{html}"
    );
    assert!(html.contains("client.*"));
    assert!(html.contains("No attempts in 7 days"), "{html}");

    // An event: the receiver gets it signed with the secret shown.
    Api::new(&app)
        .create_client(&app.agency.token, "Globex")
        .await;
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].json()["type"], "client.created");
    verify(&secret, &hits[0]).expect("signed with the secret shown once");
    let (html, _, _) = list(&app, &c).await;
    assert!(
        html.contains("1 of 1 attempt succeeded (100%)"),
        "the 7-day success rate: {html}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_refused_at_its_field_and_keeps_what_was_typed() {
    let app = app().await;
    let c = signed_in_admin(&app).await;
    let (s, html) = add_webhook(
        &app,
        &c,
        "ftp://files.example.com/in",
        "client.*",
        "Kept text",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("id=\"wh-url-err\">URL: must use https.</p>"),
        "{html}"
    );
    assert!(
        html.contains("value=\"ftp://files.example.com/in\""),
        "URL kept"
    );
    assert!(html.contains("value=\"Kept text\""), "description kept");

    let (s, html) = add_webhook(&app, &c, "https://hooks.example.com/x", "Client.*", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let err = html
        .find("id=\"wh-events-err\">Events: ")
        .expect("at the events field");
    assert!(html[err..].contains("is not an event type"), "{html}");

    let (s, html) = add_webhook(&app, &c, "https://hooks.example.com/x", " , ", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"wh-events-err\">Events: write at least one"));

    let (s, html) = add_webhook(&app, &c, "", "*", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"wh-url-err\">URL: "), "{html}");

    let (_, csrf, nonce) = list(&app, &c).await;
    let ghost = ClientId::new(now_ms()).to_string();
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/webhooks"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("url", "http://127.0.0.1:9/hook"),
            ("events", "*"),
            ("client", &ghost),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"wh-client-err\">Client: no client"),
        "{html}"
    );

    // A channel needs a notice and a kind.
    let (_, csrf, nonce) = list(&app, &c).await;
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/channels"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("kind", "slack"),
            ("url", "http://127.0.0.1:9/services/x"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"ch-events-err\">Notices: choose at least one"),
        "{html}"
    );
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/channels"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce_of(&html)),
            ("kind", "webhook"),
            ("url", "http://127.0.0.1:9/services/x"),
            ("notices", "access"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"ch-kind-err\">Kind: choose Slack"),
        "{html}"
    );
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/inbound"),
        &[("csrf", &csrf), ("nonce", &nonce_of(&html)), ("name", " ")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"in-name-err\">Name: "), "{html}");
    assert_eq!(count(&app, endpoint_count_sql(), &app.agency.id).await, 0);
    app.shutdown().await;
}

#[tokio::test]
async fn members_who_are_not_admins_get_the_403_page() {
    let app = app().await;
    let hook = api_webhook(&app, "http://127.0.0.1:9/hook", &["*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let admin = signed_in_admin(&app).await;
    let (_, cal) = page(&admin, &app.url("/settings/calendar")).await;
    assert!(
        cal.contains("href=\"/settings/integrations\""),
        "admins see the link"
    );

    let c = non_admin(&app).await;
    let (s, cal) = page(&c, &app.url("/settings/calendar")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !cal.contains("href=\"/settings/integrations\""),
        "no link for members"
    );
    let csrf = csrf_of(&cal);
    for path in [LIST.to_string(), format!("{LIST}/{id}")] {
        let (s, html) = page(&c, &app.url(&path)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "GET {path}");
        assert!(html.contains("Only agency admins"), "{html}");
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/integrations/webhooks".into(),
            vec![("url", "http://127.0.0.1:9/x"), ("events", "*")],
        ),
        (
            "/settings/integrations/channels".into(),
            vec![
                ("kind", "slack"),
                ("url", "http://127.0.0.1:9/x"),
                ("notices", "access"),
            ],
        ),
        (
            "/settings/integrations/inbound".into(),
            vec![("name", "CRM")],
        ),
        (
            format!("{LIST}/{id}"),
            vec![("url", "http://127.0.0.1:9/y"), ("events", "*")],
        ),
        (format!("{LIST}/{id}/test"), vec![]),
        (format!("{LIST}/{id}/rotate-secret"), vec![]),
        (
            format!("{LIST}/{id}/recover"),
            vec![("since", "2026-01-01T00:00")],
        ),
        (format!("{LIST}/{id}/delete"), vec![]),
    ];
    for (path, mut fields) in posts {
        fields.push(("csrf", &csrf));
        let r = c.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    assert_eq!(count(&app, endpoint_count_sql(), &app.agency.id).await, 1);
    let n = count(
        &app,
        "SELECT COUNT(*) FROM integration_deliveries WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(n, 0, "no test was sent");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_endpoint_is_the_404_page() {
    let app = app().await;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::status(500));
    let hook = api_webhook(&app, &rx.url, &["client.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    Api::new(&app)
        .create_client(&app.agency.token, "Globex")
        .await;
    app.drain_outbox().await;
    let log = Api::new(&app)
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries"),
            &app.agency.token,
        )
        .await;
    let delivery = log.items()[0]["delivery_id"].as_str().unwrap().to_string();

    let rival = app.other_agency("admin@rival.test").await;
    let rc = login(&app, &rival.admin.email, ADMIN_PASSWORD).await;
    let (s, html) = page(&rc, &app.url(LIST)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains(&rx.url), "the rival's list is its own");
    let csrf = csrf_of(&html);
    let (s, _) = page(&rc, &app.url(&format!("{LIST}/{id}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for bad in ["whk_nope", "cli_01JD0000000000000000000000", "x"] {
        let (s, _) = page(&rc, &app.url(&format!("{LIST}/{bad}"))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    }
    for (path, fields) in [
        (
            format!("{LIST}/{id}"),
            vec![("url", "http://127.0.0.1:9/y"), ("events", "*")],
        ),
        (format!("{LIST}/{id}/test"), vec![]),
        (format!("{LIST}/{id}/rotate-secret"), vec![]),
        (
            format!("{LIST}/{id}/recover"),
            vec![("since", "2026-01-01T00:00")],
        ),
        (format!("{LIST}/{id}/delete"), vec![]),
        (format!("{LIST}/{id}/deliveries/{delivery}/retry"), vec![]),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let r = rc.post(app.url(&path)).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    // The delivery belongs to A's endpoint: named under another endpoint
    // of A's it is not found either.
    let other = api_webhook(&app, &rx.url, &["*"]).await;
    let a = signed_in_admin(&app).await;
    let (_, html) = page(&a, &app.url(LIST)).await;
    let r = a
        .post(app.url(&format!(
            "{LIST}/{}/deliveries/{delivery}/retry",
            other["id"].as_str().unwrap()
        )))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app, endpoint_count_sql(), &app.agency.id).await, 2);
    app.shutdown().await;
}

#[tokio::test]
async fn the_log_lists_attempts_in_local_time_and_retry_sends_a_failed_delivery_again() {
    let app = app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.patch("/api/v1/agency", t, json!({"timezone": "Asia/Tokyo"}))
        .await
        .expect(200, "agency time zone");
    let rx = Receiver::start().await;
    rx.default_reply(Reply::body(500, "database <b>down</b>"));
    let c = signed_in_admin(&app).await;
    let (s, html) = add_webhook(&app, &c, &rx.url, "client.*", "").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let id = endpoint_id(&html);
    let at = format!("{LIST}/{id}");
    let (s, html) = page(&c, &app.url(&at)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("No attempts yet."), "{html}");

    api.create_client(t, "Globex").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1);
    let webhook_id = rx.hits()[0].header("webhook-id").unwrap().to_string();
    let (s, html) = page(&c, &app.url(&at)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-result=\"failed\""), "{html}");
    assert!(html.contains("data-status>500</td>"), "{html}");
    assert!(html.contains("HTTP 500"));
    assert!(html.contains(" ms</td>"), "latency in ms: {html}");
    assert!(html.contains("client.created"));
    assert!(html.contains(&webhook_id), "the webhook-id");
    assert!(
        html.contains("database &lt;b&gt;down&lt;/b&gt;")
            || html.contains("database &#60;b&#62;down"),
        "the response, as text: {html}"
    );
    assert!(html.contains("0 of 1 attempt succeeded (0%)"), "{html}");
    // The attempt's time reads in the agency's zone.
    let log = api
        .get(&format!("/api/v1/webhooks/{id}/deliveries"), t)
        .await;
    let attempted = common::ms(&log.items()[0]["attempted_at"]);
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let local = baton_core::human::when(attempted, now_ms(), &tokyo);
    assert!(
        html.contains(&format!(">{local}</time>")),
        "{local} in {html}"
    );
    let delivery = log.items()[0]["delivery_id"].as_str().unwrap().to_string();
    let retry = format!("{at}/deliveries/{delivery}/retry");
    assert!(
        html.contains(&format!("action=\"{retry}\"")),
        "a Retry button"
    );

    // Retry, the receiver fixed.
    rx.default_reply(Reply::status(200));
    let csrf = csrf_of(&html);
    let (s, html) = post(&c, &app.url(&retry), &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Delivery queued again"), "{html}");
    assert!(html.contains("data-testid=\"waiting\""), "waiting: {html}");
    assert!(html.contains("1 attempt so far, next attempt at"), "{html}");
    assert!(
        !html.contains(&format!("action=\"{retry}\"")),
        "no Retry while pending"
    );
    // Retried again while it waits: refused, said above the log.
    let (s, html) = post(&c, &app.url(&retry), &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("still being delivered"), "{html}");

    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        hits[1].header("webhook-id"),
        Some(webhook_id.as_str()),
        "same id"
    );
    let (_, html) = page(&c, &app.url(&at)).await;
    let newest = html.find("<tr data-delivery").expect("rows");
    assert!(
        html[newest..].starts_with(&format!(
            "<tr data-delivery=\"{delivery}\" data-attempt=\"2\" data-result=\"succeeded\">"
        )),
        "the newest attempt first: {}",
        &html[newest..newest + 200]
    );
    assert!(html.contains("1 of 2 attempts succeeded (50%)"));
    assert!(!html.contains("data-testid=\"waiting\""));
    assert!(
        !html.contains(&format!("action=\"{retry}\"")),
        "succeeded: no Retry"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_log_pages_with_its_cursor() {
    let app = app().await;
    let rx = Receiver::start().await;
    let hook = api_webhook(&app, &rx.url, &["client.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let api = Api::new(&app);
    for _ in 0..51 {
        api.post(
            &format!("/api/v1/webhooks/{id}/test"),
            &app.agency.token,
            json!({}),
        )
        .await
        .expect(202, "test");
    }
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 51);
    let c = signed_in_admin(&app).await;
    let (_, first) = page(&c, &app.url(&format!("{LIST}/{id}"))).await;
    assert_eq!(first.matches("<tr data-delivery").count(), 50);
    let at = first.find("?cursor=").expect("an Older link");
    let href = &first[first[..at].rfind("href=\"").unwrap() + 6..];
    let href = &href[..href.find('"').unwrap()];
    let (s, second) = page(&c, &app.url(href)).await;
    assert_eq!(s, StatusCode::OK, "{href}");
    assert_eq!(second.matches("<tr data-delivery").count(), 1);
    assert!(second.contains("Newest attempts"));
    assert!(!second.contains("?cursor="));
    let (s, _) = page(&c, &app.url(&format!("{LIST}/{id}?cursor=garbage"))).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bad cursor is bad input"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_channel_shows_its_url_masked_and_its_notices_by_name() {
    let app = app().await;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::body(200, "ok"));
    let client = Api::new(&app)
        .create_client(&app.agency.token, "Harbor Fitness")
        .await;
    let c = signed_in_admin(&app).await;
    let (_, csrf, nonce) = list(&app, &c).await;
    let secret_url = format!(
        "http://127.0.0.1:{}/services/T000/B000/SECRETPATHabcd",
        rx.port
    );
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/channels"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("kind", "slack"),
            ("url", &secret_url),
            ("notices", "sop_breached"),
            ("notices", "access"),
            ("more_events", ""),
            ("description", "#delivery"),
            ("client", &client),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Channel added."), "{html}");
    let masked = format!("http://127.0.0.1:{}/…abcd", rx.port);
    assert!(html.contains(&masked), "masked: {html}");
    assert!(
        !html.contains("SECRETPATH"),
        "the URL's secret part is not shown"
    );
    assert!(html.contains("SOP run breached; Access granted, verified or failed"));
    assert!(html.contains("Harbor Fitness"), "the client by name");
    let id = endpoint_id(&html);
    let (s, html) = page(&c, &app.url(&format!("{LIST}/{id}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&masked) && !html.contains("SECRETPATH"),
        "{html}"
    );
    assert!(html.contains("Send test message"));
    assert!(
        !html.contains("Rotate secret"),
        "a channel has no secret to rotate"
    );
    assert!(
        html.contains("name=\"notices\" value=\"access\" checked"),
        "{html}"
    );
    // The test message goes to the real URL.
    let (s, html) = post(
        &c,
        &app.url(&format!("{LIST}/{id}/test")),
        &[("csrf", &csrf_of(&html)), ("nonce", &nonce_of(&html))],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Test queued"), "{html}");
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "/services/T000/B000/SECRETPATHabcd");
    let (_, html) = page(&c, &app.url(&format!("{LIST}/{id}"))).await;
    assert!(html.contains("data-result=\"succeeded\""), "{html}");
    assert!(!html.contains("SECRETPATH"));
    app.shutdown().await;
}

#[tokio::test]
async fn markup_in_a_description_is_shown_as_text() {
    let app = app().await;
    let c = signed_in_admin(&app).await;
    let (s, html) = add_webhook(
        &app,
        &c,
        "http://127.0.0.1:9/hook",
        "*",
        "<script>alert('x')</script>",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let id = endpoint_id(&html);
    for path in [LIST.to_string(), format!("{LIST}/{id}")] {
        let (_, html) = page(&c, &app.url(&path)).await;
        assert!(!html.contains("<script>alert"), "{path}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(") || html.contains("&#60;script&#62;alert("),
            "{path}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_inbound_endpoint_shows_its_url_and_secret_once_then_when_it_last_received() {
    let app = app().await;
    let c = signed_in_admin(&app).await;
    let (_, csrf, nonce) = list(&app, &c).await;
    let (s, html) = post(
        &c,
        &app.url("/settings/integrations/inbound"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("name", "HubSpot deals won"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let secret = value_before(&html, "data-inbound-secret");
    assert!(secret.starts_with("whsec_"));
    let url = value_after(&html, "id=\"new-inbound-url\"");
    assert!(url.starts_with(&app.url("/api/v1/inbound/inb_")), "{url}");
    let (html, _, _) = list(&app, &c).await;
    assert!(!html.contains(&secret), "shown once");
    assert!(html.contains("HubSpot deals won") && html.contains(&url));
    assert!(html.contains("Nothing yet"), "{html}");

    // A signed deal won arrives.
    let body = json!({"type": "contract_signed", "client": {"external_id": "hs-1", "name": "Acme Bakery"}})
        .to_string();
    let ts = now_ms() / 1000;
    let sig = webhooks::sign(
        &WebhookSecret::parse(&secret).unwrap(),
        "msg_deal_1",
        ts,
        body.as_bytes(),
    );
    let api = Api::new(&app);
    let r = api
        .send(
            api.http
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", "msg_deal_1")
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", sig)
                .body(body),
        )
        .await;
    r.expect(200, "deal won");
    let (html, csrf, _) = list(&app, &c).await;
    assert!(!html.contains("Nothing yet"), "{html}");
    assert!(html.contains("(just now)"), "{html}");
    let id = &url[url.rfind('/').unwrap() + 1..];
    let (s, html) = post(
        &c,
        &app.url(&format!("{LIST}/inbound/{id}/delete")),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Inbound endpoint deleted"), "{html}");
    assert!(html.contains("No inbound endpoints yet."));
    app.shutdown().await;
}

#[tokio::test]
async fn rotating_shows_the_new_secret_once_and_the_old_one_still_signs() {
    let app = app().await;
    let rx = Receiver::start().await;
    let hook = api_webhook(&app, &rx.url, &["client.*"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    let old = hook["secret"].as_str().unwrap().to_string();
    let c = signed_in_admin(&app).await;
    let at = format!("{LIST}/{id}");
    let (_, html) = page(&c, &app.url(&at)).await;
    let fields = [("csrf", csrf_of(&html)), ("nonce", nonce_of(&html))];
    let r = c
        .post(app.url(&format!("{at}/rotate-secret")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown_at = r.url().clone();
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"rotated-secret\""), "{html}");
    assert!(html.contains("24 more hours"));
    let new = value_before(&html, "data-webhook-secret");
    assert!(new.starts_with("whsec_") && new != old);
    // A double submit rotates once.
    let (s, again) = post(
        &c,
        &app.url(&format!("{at}/rotate-secret")),
        &[
            ("csrf", fields[0].1.as_str()),
            ("nonce", fields[1].1.as_str()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!again.contains("data-testid=\"rotated-secret\""));
    let (_, reload) = page(&c, shown_at.as_str()).await;
    assert!(!reload.contains(&new), "shown once");
    assert!(
        reload.contains("The previous secret also signs until"),
        "{reload}"
    );

    Api::new(&app)
        .create_client(&app.agency.token, "Globex")
        .await;
    app.drain_outbox().await;
    let hit = &rx.hits()[0];
    verify(&new, hit).expect("the new secret signs");
    verify(&old, hit).expect("the old secret still signs");
    app.shutdown().await;
}

#[tokio::test]
async fn edits_recovery_and_deletion_through_the_endpoint_page() {
    let app = app().await;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::status(503));
    let api = Api::new(&app);
    let client = api.create_client(&app.agency.token, "Globex").await;
    let c = signed_in_admin(&app).await;
    let (_, html) = add_webhook(&app, &c, &rx.url, "*", "Everything").await;
    let id = endpoint_id(&html);
    let at = format!("{LIST}/{id}");
    let (_, html) = page(&c, &app.url(&at)).await;
    let csrf = csrf_of(&html);

    // A refused edit: at its field, with what was typed.
    let (s, html) = post(
        &c,
        &app.url(&at),
        &[
            ("csrf", &csrf),
            ("url", "https://hooks.example.com/x y"),
            ("events", "access.*"),
            ("description", "Only access"),
            ("client", &client),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"ep-url-err\">URL: "), "{html}");
    assert!(html.contains("value=\"Only access\""));
    // Saved: the client by name; turned off.
    let (s, html) = post(
        &c,
        &app.url(&at),
        &[
            ("csrf", &csrf),
            ("url", &rx.url),
            ("events", "client.*, access.*"),
            ("description", "Only Globex"),
            ("client", &client),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(">Saved.</p>"), "{html}");
    assert!(html.contains("Client: Globex"), "{html}");
    assert!(
        html.contains("data-testid=\"endpoint-off\""),
        "turned off: {html}"
    );
    let (list_html, _, _) = list(&app, &c).await;
    assert!(list_html.contains("Turned off") && list_html.contains("Globex"));
    // On again, and a failure to recover.
    let (s, _) = post(
        &c,
        &app.url(&at),
        &[
            ("csrf", &csrf),
            ("url", &rx.url),
            ("events", "client.*"),
            ("client", &client),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    api.patch(
        &format!("/api/v1/clients/{client}"),
        &app.agency.token,
        json!({"notes": "Changed"}),
    )
    .await
    .expect(200, "update the client");
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1, "one client.updated");
    rx.default_reply(Reply::status(200));
    for (since, why) in [
        ("yesterday", "choose a date and time"),
        ("2999-01-01T00:00", "must not be in the future"),
    ] {
        let (s, html) = post(
            &c,
            &app.url(&format!("{at}/recover")),
            &[("csrf", &csrf), ("since", since)],
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{since}");
        assert!(
            html.contains(&format!("id=\"recover-err\">Recover failed since: {why}")),
            "{html}"
        );
        assert!(html.contains(&format!("value=\"{since}\"")), "kept");
    }
    let (s, html) = post(
        &c,
        &app.url(&format!("{at}/recover")),
        &[("csrf", &csrf), ("since", "2020-01-01T00:00")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("1 failed delivery is being sent again."),
        "{html}"
    );
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2);
    // Deleted: gone from the list, its page the 404.
    let (s, html) = post(&c, &app.url(&format!("{at}/delete")), &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Deleted: nothing more is sent to it."),
        "{html}"
    );
    assert!(html.contains("No webhooks yet."));
    let (s, _) = page(&c, &app.url(&at)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.shutdown().await;
}
