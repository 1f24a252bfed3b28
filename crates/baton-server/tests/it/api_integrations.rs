//! `/api/v1/webhooks`, `/api/v1/notification-channels`,
//! `/api/v1/inbound-endpoints` and `POST /api/v1/inbound/{id}` against real
//! local receivers (`common::receiver`): Standard Webhooks signatures checked
//! with the official `standardwebhooks` crate, retries on the schedule and
//! across a restart, two servers delivering at once, SSRF refusals (with a
//! local DNS responder for names and rebinding), secret rotation, 410 and
//! 429, Slack and Teams bodies, signed inbound "deal won", bad input, tenant
//! isolation and scopes.

use crate::common;

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_core::clock::{rfc3339, ManualClock, SystemClock};
use baton_core::webhooks::{self, RetrySchedule, WebhookSecret};
use baton_server::integrations::deliver;
use baton_server::testing::TestApp;
use baton_server::{AppState, ServerConfig};
use common::dns::DnsResponder;
use common::receiver::{Hit, Receiver, Reply};
use common::{count, ms, now_ms, trail, Api, Resp};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use standardwebhooks::Webhook;

const SEC: i64 = 1_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Local receivers allowed, retried immediately, after 1 s and after 2 s.
fn private(c: &mut ServerConfig) {
    c.webhook_allow_private = true;
    c.webhook_retry = RetrySchedule::parse("0s,1s,2s").unwrap();
}

/// The app on a manual clock set to the wall clock (so the official
/// library, which checks timestamps against the wall clock, still verifies),
/// with local receivers allowed; background loops off.
async fn private_app() -> (TestApp, ManualClock) {
    let clock = ManualClock::new(now_ms());
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), private).await;
    (app, clock)
}

/// `POST /api/v1/webhooks`: 201, its body (with the secret).
async fn webhook(api: &Api, t: &str, url: &str, events: &[&str]) -> Value {
    let r = api
        .post("/api/v1/webhooks", t, json!({"url": url, "events": events}))
        .await;
    r.expect(201, "create webhook");
    r.body.clone()
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

fn secret_of(v: &Value) -> String {
    v["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret in {v}"))
        .to_string()
}

/// The attempts of an endpoint's delivery log, newest first.
async fn attempts(api: &Api, t: &str, family: &str, id: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/{family}/{id}/deliveries?limit=200"), t)
        .await;
    r.expect(200, "delivery log");
    r.items().clone()
}

/// A hit's headers as the official library takes them.
fn header_map(hit: &Hit) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in &hit.headers {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

/// Verifies a delivery with the official Standard Webhooks library.
fn verify(secret: &str, hit: &Hit) -> Result<(), standardwebhooks::WebhookError> {
    Webhook::new(secret)
        .expect("a whsec_ secret the library reads")
        .verify(hit.body.as_bytes(), &header_map(hit))
}

/// The `v1,…` entries of a hit's `webhook-signature`.
fn signatures(hit: &Hit) -> Vec<String> {
    hit.header("webhook-signature")
        .unwrap_or("")
        .split(' ')
        .map(String::from)
        .collect()
}

/// What the official library signs for this hit with `secret`.
fn library_signature(secret: &str, hit: &Hit) -> String {
    let ts: i64 = hit.header("webhook-timestamp").unwrap().parse().unwrap();
    Webhook::new(secret)
        .unwrap()
        .sign(hit.header("webhook-id").unwrap(), ts, hit.body.as_bytes())
        .unwrap()
}

/// The field of a 422 problem.
#[track_caller]
fn field(r: &Resp) -> &str {
    r.body["errors"][0]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field in {}", r.text))
}

/// Asserts a 422 problem naming `name`.
#[track_caller]
fn invalid(r: &Resp, name: &str, what: &str) {
    r.problem(422, what);
    assert_eq!(field(r), name, "{what}: {}", r.text);
}

async fn deliveries_in_db(app: &TestApp, endpoint: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM integration_deliveries WHERE endpoint_id = $1",
        endpoint,
    )
    .await
}

async fn attempts_in_db(app: &TestApp, endpoint: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM integration_attempts WHERE endpoint_id = $1",
        endpoint,
    )
    .await
}

#[test]
fn baton_signs_the_published_test_vector_and_the_official_library_agrees() {
    // The vector of the Standard Webhooks reference libraries.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (id, ts, body) = (
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1_614_265_330,
        br#"{"test": 2432232314}"#,
    );
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let ours = WebhookSecret::parse(secret).unwrap();
    assert_eq!(webhooks::sign(&ours, id, ts, body), expected);
    let lib = Webhook::new(secret).unwrap();
    assert_eq!(lib.sign(id, ts, body).unwrap(), expected);
    // Baton verifies what the library signs, rotated header and all.
    let other = WebhookSecret::generate();
    let header = format!("{} {expected}", webhooks::sign(&other, id, ts, body));
    assert_eq!(
        webhooks::verify(&ours, id, &ts.to_string(), &header, body, ts + 10),
        Ok(())
    );
    // And the library verifies a fresh Baton signature (timestamp now).
    let now = now_ms() / 1000;
    let fresh = WebhookSecret::generate();
    let sig = webhooks::signature_header(&[&fresh], "msg_1", now, b"{}");
    let mut h = HeaderMap::new();
    h.insert("webhook-id", HeaderValue::from_static("msg_1"));
    h.insert("webhook-timestamp", now.to_string().parse().unwrap());
    h.insert("webhook-signature", sig.parse().unwrap());
    let lib = Webhook::new(&fresh.to_string()).unwrap();
    lib.verify(b"{}", &h).expect("the library verifies Baton");
    assert!(
        lib.verify(b"{ }", &h).is_err(),
        "another body does not verify"
    );
}

#[tokio::test]
async fn a_new_client_reaches_a_local_webhook_within_5_seconds_signed_by_the_standard() {
    let rx = Receiver::start().await;
    let app = TestApp::spawn_with_config(Arc::new(SystemClock), |c| {
        private(c);
        c.background_jobs = true;
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let wh = webhook(&api, t, &rx.url, &["client.*"]).await;
    let secret = secret_of(&wh);
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(wh["url"], rx.url.as_str());
    assert_eq!(wh["events"], json!(["client.*"]));
    assert_eq!(wh["enabled"], true);

    let started = Instant::now();
    let client = api.create_client(t, "Acme Bakery").await;
    let hits = rx.wait_for(1, Duration::from_secs(5)).await;
    let hit = &hits[0];
    assert!(hit.at.duration_since(started) <= Duration::from_secs(5));
    assert_eq!(hit.path, "/hook");
    verify(&secret, hit).expect("the official library verifies the delivery");
    assert!(
        verify(&WebhookSecret::generate().to_string(), hit).is_err(),
        "another secret does not verify it"
    );
    assert!(hit
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let ts: i64 = hit.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!((ts - now_ms() / 1000).abs() <= 10, "timestamp {ts} is now");
    let sigs = signatures(hit);
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    assert!(sigs[0].starts_with("v1,"));

    let body = hit.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["data", "timestamp", "type"], "{body}");
    assert_eq!(body["type"], "client.created");
    assert_eq!(body["data"]["client_id"], client.as_str());
    assert_eq!(body["data"]["data"]["name"], "Acme Bakery");
    // webhook-id is the event's id, as the event log shows it.
    let webhook_id = hit.header("webhook-id").unwrap();
    assert_eq!(body["data"]["id"], webhook_id);
    let events = api.client_events(t, &client).await;
    let created = events
        .iter()
        .find(|e| e["topic"] == "client.created")
        .expect("client.created in the log");
    assert_eq!(created["id"], webhook_id);
    assert_eq!(body["timestamp"], created["occurred_at"]);

    // The log shows the attempt.
    let log = attempts(&api, t, "webhooks", &id_of(&wh)).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["webhook_id"], webhook_id);
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(log[0]["delivery_state"], "succeeded");
    assert_eq!(log[0]["attempt"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_attempt_seconds_later() {
    let rx = Receiver::start().await;
    rx.script([
        Reply::body(500, "down"),
        Reply::status(500),
        Reply::status(200),
    ]);
    let app = TestApp::spawn_with_config(Arc::new(SystemClock), |c| {
        private(c);
        c.background_jobs = true;
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let wh = webhook(&api, t, &rx.url, &["client.created"]).await;
    let secret = secret_of(&wh);
    api.create_client(t, "Acme").await;
    let hits = rx.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(hits.len(), 3);
    let gap = |a: &Hit, b: &Hit| b.at.duration_since(a.at);
    // The schedule: 1 s after the first failure, 2 s after the second
    // (less a few ms of clock rounding).
    assert!(gap(&hits[0], &hits[1]) >= Duration::from_millis(950));
    assert!(gap(&hits[1], &hits[2]) >= Duration::from_millis(1_950));
    assert!(gap(&hits[0], &hits[2]) < Duration::from_secs(10));
    let id = hits[0].header("webhook-id").unwrap();
    for h in &hits {
        assert_eq!(h.header("webhook-id"), Some(id));
        assert_eq!(h.body, hits[0].body, "every attempt sends the same bytes");
        verify(&secret, h).expect("every attempt is signed");
    }
    // The log, once the third attempt is recorded.
    let until = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = attempts(&api, t, "webhooks", &id_of(&wh)).await;
        if log.len() == 3 || Instant::now() > until {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let codes: Vec<&Value> = log.iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(200), &json!(500), &json!(500)], "{log:#?}");
    let numbers: Vec<i64> = log.iter().map(|a| a["attempt"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert!(log.iter().all(|a| a["webhook_id"] == id));
    assert!(log
        .iter()
        .all(|a| a["delivery_id"] == log[0]["delivery_id"]));
    assert!(log.iter().all(|a| a["delivery_state"] == "succeeded"));
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(log[2]["succeeded"], false);
    assert_eq!(log[2]["error"], "HTTP 500");
    assert_eq!(log[2]["response_excerpt"], "down");
    assert!(log.iter().all(|a| a["latency_ms"].as_i64().unwrap() >= 0));
    let at: Vec<i64> = log.iter().map(|a| ms(&a["attempted_at"])).collect();
    assert!(at[0] - at[1] >= 2_000 && at[1] - at[2] >= 1_000, "{at:?}");
    let g = api
        .get(&format!("/api/v1/webhooks/{}", id_of(&wh)), t)
        .await;
    g.expect(200, "get webhook");
    assert_eq!(g.body["success_7d"]["attempts"], 3);
    assert_eq!(g.body["success_7d"]["succeeded"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn private_and_local_urls_are_refused_without_allow_private() {
    let dns = DnsResponder::start().await;
    dns.set_a("loop.hooks.test", &[Ipv4Addr::new(127, 0, 0, 1)]);
    dns.set_a(
        "mixed.hooks.test",
        &[Ipv4Addr::new(93, 184, 216, 34), Ipv4Addr::new(10, 1, 2, 3)],
    );
    dns.set_a("public.hooks.test", &[Ipv4Addr::new(93, 184, 216, 34)]);
    let addr = dns.addr;
    let app =
        TestApp::spawn_with_config(Arc::new(SystemClock), move |c| c.dns_server = Some(addr)).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let before = trail(&app, &app.agency.id).await;
    for (url, says) in [
        (rx.url.as_str(), "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.0.0.1:8443/hook", "loopback"),
        ("https://10.0.0.1/", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://localhost/", "local host"),
        ("https://localhost:3000/x", "local host"),
        ("https://loop.hooks.test/hook", "127.0.0.1"),
        ("https://mixed.hooks.test/hook", "10.1.2.3"),
        ("https://nowhere.hooks.test/", "does not resolve"),
        ("https://127.1/", "a.b.c.d"),
    ] {
        let r = api
            .post("/api/v1/webhooks", t, json!({"url": url, "events": ["*"]}))
            .await;
        invalid(&r, "url", url);
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{url}: {}",
            r.text
        );
        let r = api
            .post(
                "/api/v1/notification-channels",
                t,
                json!({"kind": "slack", "url": url, "events": ["sop_breached"]}),
            )
            .await;
        invalid(&r, "url", &format!("channel {url}"));
    }
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing saved");
    // A public name is taken, and a change to a private one is refused.
    let wh = webhook(&api, t, "https://public.hooks.test/hook", &["*"]).await;
    let id = id_of(&wh);
    let r = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            t,
            json!({"url": "https://loop.hooks.test/hook"}),
        )
        .await;
    invalid(&r, "url", "patch to a loopback name");
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    assert_eq!(g.body["url"], "https://public.hooks.test/hook");
    assert_eq!(rx.hits().len(), 0);
    app.shutdown().await;
}

/// Counts the TCP connections made to a local port (what a receiver on it
/// would see), answering nothing.
async fn connection_counter() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, n)
}

#[tokio::test]
async fn a_name_rebound_to_loopback_after_save_is_never_connected_to() {
    let dns = DnsResponder::start().await;
    let name = "rebind.hooks.test";
    dns.set_a(name, &[Ipv4Addr::new(93, 184, 216, 34)]);
    let addr = dns.addr;
    let clock = ManualClock::new(now_ms());
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), move |c| {
        c.dns_server = Some(addr);
        c.webhook_retry = RetrySchedule::parse("0s,1s").unwrap();
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let (port, connections) = connection_counter().await;
    let url = format!("https://{name}:{port}/hook");
    let wh = webhook(&api, t, &url, &["client.*"]).await;
    let id = id_of(&wh);
    // Now the name points at this machine.
    dns.set_a(name, &[Ipv4Addr::new(127, 0, 0, 1)]);
    api.create_client(t, "Rebind Co").await;
    app.drain_outbox().await;
    clock.advance(2 * SEC);
    app.drain_outbox().await;
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 2, "{log:#?}");
    for a in &log {
        assert_eq!(a["succeeded"], false);
        assert_eq!(a["status_code"], Value::Null);
        let error = a["error"].as_str().unwrap();
        assert!(error.contains("127.0.0.1"), "{error}");
        assert!(!error.contains(&url), "the error does not repeat the URL");
    }
    assert_eq!(log[0]["delivery_state"], "failed");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing connected");
    assert!(
        dns.queries(name) >= 3,
        "resolved at save and at each attempt"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_local_url_saved_while_allowed_is_refused_at_send_once_it_is_not() {
    let (app, clock) = private_app().await;
    let api = Api::new(&app);
    let rx = Receiver::start().await;
    let wh = webhook(&api, &app.agency.token, &rx.url, &["client.*"]).await;
    let id = id_of(&wh);
    let app = app
        .restart(|c| {
            c.webhook_allow_private = false;
            c.webhook_retry = RetrySchedule::parse("0s").unwrap();
        })
        .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.create_client(t, "Later Co").await;
    app.drain_outbox().await;
    clock.advance(5 * SEC);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 0, "the receiver got nothing");
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["delivery_state"], "failed");
    let error = log[0]["error"].as_str().unwrap();
    assert!(error.contains("https"), "{error}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_secret_is_shown_once_and_a_rotation_signs_with_both_for_24_hours() {
    let (app, clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let wh = webhook(&api, t, &rx.url, &["client.created"]).await;
    let id = id_of(&wh);
    assert!(id.starts_with("whk_"), "{id}");
    let first = secret_of(&wh);
    assert!(first.starts_with("whsec_"));
    WebhookSecret::parse(&first).expect("a Standard Webhooks secret");
    assert_eq!(wh["previous_secret_until"], Value::Null);

    // Never shown again, nor kept in the clear.
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    g.expect(200, "get webhook");
    assert!(g.body.get("secret").is_none(), "{}", g.text);
    assert!(!g.text.contains(&first[6..]));
    let l = api.get("/api/v1/webhooks", t).await;
    l.expect(200, "list webhooks");
    assert_eq!(l.items().len(), 1);
    assert!(!l.text.contains(&first[6..]) && !l.text.contains("\"secret\""));
    let stored = common::stored_bytes(&app).await;
    assert!(!common::contains_bytes(&stored, &first.as_bytes()[6..]));

    api.create_client(t, "One").await;
    app.drain_outbox().await;
    let hits = rx.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(signatures(&hits[0]).len(), 1);
    verify(&first, &hits[0]).expect("signed with the first secret");

    let r = api
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "rotate");
    let second = secret_of(&r.body);
    assert!(second.starts_with("whsec_") && second != first);
    assert_eq!(
        ms(&r.body["previous_secret_until"]),
        app.state.now() + DAY,
        "{}",
        r.text
    );
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    assert!(g.body.get("secret").is_none() && !g.text.contains(&second[6..]));

    // During the 24 hours: two space-separated v1 signatures, one per secret.
    api.create_client(t, "Two").await;
    app.drain_outbox().await;
    let hits = rx.wait_for(2, Duration::from_secs(1)).await;
    let both = &hits[1];
    let sigs = signatures(both);
    assert_eq!(sigs.len(), 2, "{sigs:?}");
    assert!(sigs.iter().all(|s| s.starts_with("v1,")));
    verify(&first, both).expect("a receiver with the old secret verifies");
    verify(&second, both).expect("a receiver with the new secret verifies");
    let (old_sig, new_sig) = (
        library_signature(&first, both),
        library_signature(&second, both),
    );
    assert!(
        sigs.contains(&old_sig) && sigs.contains(&new_sig),
        "{sigs:?}"
    );
    // A delivery made before the rotation and sent after it is signed with
    // both too (signatures are made at send).
    let r = api
        .post(&format!("/api/v1/webhooks/{id}/test"), t, json!({}))
        .await;
    r.expect(202, "test during rotation");
    app.drain_outbox().await;
    let hits = rx.wait_for(3, Duration::from_secs(1)).await;
    assert_eq!(signatures(&hits[2]).len(), 2);

    // After 24 hours only the new secret signs.
    clock.advance(DAY);
    api.create_client(t, "Three").await;
    app.drain_outbox().await;
    let hits = rx.wait_for(4, Duration::from_secs(1)).await;
    let after = &hits[3];
    assert_eq!(signatures(after), [library_signature(&second, after)]);
    assert_ne!(signatures(after)[0], library_signature(&first, after));
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    assert_eq!(g.body["previous_secret_until"], Value::Null, "{}", g.text);
    app.shutdown().await;
}

#[tokio::test]
async fn a_410_turns_the_webhook_off_and_tells_the_admins() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::body(410, "gone"));
    let wh = webhook(&api, t, &rx.url, &["client.*"]).await;
    let id = id_of(&wh);
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1, "a 410 is not retried");
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    g.expect(200, "get webhook");
    assert_eq!(g.body["enabled"], false, "{}", g.text);
    let reason = g.body["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("410"), "{reason}");
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status_code"], 410);
    assert_eq!(log[0]["delivery_state"], "failed");
    assert_eq!(log[0]["next_attempt_at"], Value::Null);

    // The admins hear of it, once.
    let n = api.get("/api/v1/notices", t).await;
    n.expect(200, "notices");
    let off: Vec<&Value> = n
        .items()
        .iter()
        .filter(|x| x["kind"] == "integration.endpoint_disabled")
        .collect();
    assert_eq!(off.len(), 1, "{}", n.text);
    assert!(off[0]["title"].as_str().unwrap().contains(&rx.url));
    let logged = count(
        &app,
        "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'integration.endpoint_disabled'",
        &app.agency.id,
    )
    .await;
    assert_eq!(logged, 1);

    // Off: new events are not sent, and a test is refused.
    api.create_client(t, "Bravo").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1);
    assert_eq!(deliveries_in_db(&app, &id).await, 1);
    api.post(&format!("/api/v1/webhooks/{id}/test"), t, json!({}))
        .await
        .problem(409, "test while off");
    // Nor is a retry or a recovery taken while off: it would end at once
    // without an attempt.
    let delivery = log[0]["delivery_id"].as_str().unwrap();
    let since = json!({"since": rfc3339(app.state.now() - HOUR)});
    let before = trail(&app, &app.agency.id).await;
    api.post(
        &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry"),
        t,
        json!({}),
    )
    .await
    .problem(409, "retry while off");
    api.post(&format!("/api/v1/webhooks/{id}/recover"), t, since.clone())
        .await
        .problem(409, "recover while off");
    app.drain_outbox().await;
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(attempts(&api, t, "webhooks", &id).await.len(), 1);

    // Turned back on: the reason goes, deliveries resume and what failed
    // is recovered.
    rx.default_reply(Reply::status(204));
    let r = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            t,
            json!({"enabled": true}),
        )
        .await;
    r.expect(200, "turn on");
    assert_eq!(r.body["enabled"], true);
    assert_eq!(r.body["disabled_reason"], Value::Null);
    api.create_client(t, "Charlie").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2);
    assert_eq!(rx.hits()[1].json()["data"]["data"]["name"], "Charlie");
    let r = api
        .post(&format!("/api/v1/webhooks/{id}/recover"), t, since)
        .await;
    r.expect(202, "recover once on");
    assert_eq!(r.body["recovered"], 1, "{}", r.text);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 3);
    assert_eq!(rx.hits()[2].json()["data"]["data"]["name"], "Acme");
    assert_eq!(
        rx.hits()[2].header("webhook-id"),
        rx.hits()[0].header("webhook-id")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_429_with_retry_after_holds_the_next_attempt_back() {
    let (app, clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.script([Reply::status(429).with_header("retry-after", "120")]);
    let wh = webhook(&api, t, &rx.url, &["client.created"]).await;
    let id = id_of(&wh);
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status_code"], 429);
    assert_eq!(log[0]["delivery_state"], "pending");
    let next = ms(&log[0]["next_attempt_at"]);
    assert!(
        next >= ms(&log[0]["attempted_at"]) + 120 * SEC,
        "the schedule said 1 s, the receiver 120 s: {log:#?}"
    );
    // Not after the schedule's 1 s, nor a minute later.
    clock.advance(2 * SEC);
    app.drain_outbox().await;
    clock.advance(60 * SEC);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1);
    // Once the two minutes are over.
    clock.advance(60 * SEC);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2);
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[0]["succeeded"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_delivery_can_be_retried_recovered_and_a_test_event_sent() {
    let clock = ManualClock::new(now_ms());
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), |c| {
        c.webhook_allow_private = true;
        c.webhook_retry = RetrySchedule::parse("0s,1s").unwrap();
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::body(503, "busy"));
    let wh = webhook(&api, t, &rx.url, &["client.created"]).await;
    let (id, secret) = (id_of(&wh), secret_of(&wh));
    let t0 = app.state.now();
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    let log = attempts(&api, t, "webhooks", &id).await;
    let delivery = log[0]["delivery_id"].as_str().unwrap().to_string();
    assert!(delivery.starts_with("dlv_"));
    assert_eq!(log[0]["delivery_state"], "pending");
    let retry = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry");
    api.post(&retry, t, json!({}))
        .await
        .problem(409, "retry while still being delivered");
    clock.advance(5 * SEC);
    app.drain_outbox().await;
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["delivery_state"], "failed", "{log:#?}");
    assert_eq!(log[0]["error"], "HTTP 503");

    // Retried by hand: a new attempt, now.
    rx.default_reply(Reply::status(200));
    let r = api.post(&retry, t, json!({})).await;
    r.expect(202, "retry");
    assert_eq!(r.body["id"], delivery.as_str());
    assert_eq!(r.body["state"], "pending");
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[2].header("webhook-id"), hits[0].header("webhook-id"));
    verify(&secret, &hits[2]).expect("the retry is signed");
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["attempt"], 3);
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(log[0]["delivery_state"], "succeeded");
    // One delivery's attempts alone.
    let one = api
        .get(
            &format!("/api/v1/webhooks/{id}/deliveries?delivery={delivery}&limit=2"),
            t,
        )
        .await;
    one.expect(200, "one delivery's attempts");
    assert_eq!(one.items().len(), 2);
    let cursor = one.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let rest = api
        .get(
            &format!(
                "/api/v1/webhooks/{id}/deliveries?delivery={delivery}&limit=2&cursor={}",
                common::enc(&cursor)
            ),
            t,
        )
        .await;
    rest.expect(200, "page 2");
    assert_eq!(rest.items().len(), 1);
    assert_eq!(rest.items()[0]["attempt"], 1);

    // Two more fail; recover resends the failed ones made since a time.
    rx.default_reply(Reply::status(500));
    clock.advance(10 * SEC);
    let t1 = app.state.now();
    api.create_client(t, "Bravo").await;
    api.create_client(t, "Charlie").await;
    app.drain_outbox().await;
    clock.advance(5 * SEC);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 3 + 4);
    rx.default_reply(Reply::status(200));
    let recover = format!("/api/v1/webhooks/{id}/recover");
    let r = api
        .post(&recover, t, json!({"since": rfc3339(app.state.now())}))
        .await;
    r.expect(202, "recover since now");
    assert_eq!(r.body["recovered"], 0);
    let r = api.post(&recover, t, json!({"since": rfc3339(t1)})).await;
    r.expect(202, "recover since t1");
    assert_eq!(r.body["recovered"], 2, "{}", r.text);
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 9);
    let names: Vec<Value> = hits[7..]
        .iter()
        .map(|h| h.json()["data"]["data"]["name"].clone())
        .collect();
    assert!(names.contains(&json!("Bravo")) && names.contains(&json!("Charlie")));
    // Nothing failed since t0 is left to recover.
    let r = api.post(&recover, t, json!({"since": rfc3339(t0)})).await;
    assert_eq!(r.body["recovered"], 0, "{}", r.text);

    // "Send test event": a webhook.test event, signed, not in the event log.
    let r = api
        .post(&format!("/api/v1/webhooks/{id}/test"), t, json!({}))
        .await;
    r.expect(202, "test");
    assert!(r.body["id"].as_str().unwrap().starts_with("dlv_"));
    assert_eq!(r.body["event_type"], "webhook.test");
    assert_eq!(r.body["state"], "pending");
    app.drain_outbox().await;
    let test = rx.hits().last().unwrap().clone();
    verify(&secret, &test).expect("the test event is signed");
    assert_eq!(test.json()["type"], "webhook.test");
    assert_eq!(test.header("webhook-id"), r.body["webhook_id"].as_str());
    let logged = count(
        &app,
        "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'webhook.test'",
        &app.agency.id,
    )
    .await;
    assert_eq!(logged, 0);
    let log = attempts(&api, t, "webhooks", &id).await;
    assert_eq!(log[0]["event_type"], "webhook.test");
    assert_eq!(log[0]["succeeded"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn a_retry_survives_a_restart_without_loss_or_duplicates() {
    let (app, clock) = private_app().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let rx = Receiver::start().await;
    rx.script([Reply::status(500)]);
    let wh = webhook(&api, &t, &rx.url, &["client.created"]).await;
    let (id, secret) = (id_of(&wh), secret_of(&wh));
    api.create_client(&t, "Acme").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1);

    // Server A stops with the retry pending; server B takes over.
    let app = app.restart(|_| {}).await;
    let api = Api::new(&app);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 1, "not due yet");
    clock.advance(2 * SEC);
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].header("webhook-id"), hits[0].header("webhook-id"));
    assert_eq!(hits[1].body, hits[0].body);
    verify(&secret, &hits[1]).expect("server B signs with the same secret");
    let log = attempts(&api, &t, "webhooks", &id).await;
    let numbers: Vec<i64> = log.iter().map(|a| a["attempt"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(deliveries_in_db(&app, &id).await, 1);
    assert_eq!(attempts_in_db(&app, &id).await, 2);
    // Nothing more is sent later.
    clock.advance(HOUR);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2);
    let open = count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE agency_id = $1 AND done_at IS NULL",
        &app.agency.id,
    )
    .await;
    assert_eq!(open, 0);
    app.shutdown().await;
}

#[tokio::test]
async fn two_servers_delivering_at_once_send_each_attempt_once() {
    let (app, clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let url = format!("{}/{i}", rx.url);
        ids.push(id_of(&webhook(&api, t, &url, &["client.created"]).await));
    }
    for i in 0..12 {
        api.create_client(t, &format!("Client {i}")).await;
    }
    // The event jobs fan out (48: more than one pass claims), then two
    // servers send at once.
    while baton_server::worker::run_once(&app.state).await.unwrap() > 0 {}
    let other = AppState::with_clock(
        app.state.db.clone(),
        app.state.config.clone(),
        app.state.clock.clone(),
    );
    let (mut passes, mut handled) = (0, 0);
    loop {
        let (a, b) = tokio::join!(deliver::run_once(&app.state), deliver::run_once(&other));
        let n = a.unwrap() + b.unwrap();
        handled += n;
        passes += 1;
        if n == 0 || passes > 20 {
            break;
        }
    }
    assert_eq!(handled, 48, "every attempt claimed once");
    let hits = rx.hits();
    assert_eq!(hits.len(), 48, "each delivery sent once");
    let mut seen: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.path.clone(), h.header("webhook-id").unwrap().to_string()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 48, "no delivery sent twice");
    for id in &ids {
        assert_eq!(deliveries_in_db(&app, id).await, 12);
        assert_eq!(attempts_in_db(&app, id).await, 12);
    }

    // A server that claimed an attempt and died: its lease runs out, the
    // other server makes the attempt, and the late one cannot record it
    // again.
    for id in &ids {
        api.delete(&format!("/api/v1/webhooks/{id}"), t)
            .await
            .expect(204, "delete");
    }
    let wh = id_of(&webhook(&api, t, &format!("{}/late", rx.url), &["client.created"]).await);
    api.create_client(t, "Late").await;
    while baton_server::worker::run_once(&app.state).await.unwrap() > 0 {}
    let now = app.state.now();
    let claimed = baton_store::outbox::claim_lane(
        &app.state.db,
        now,
        120_000,
        100,
        baton_store::outbox::Lane::Deliveries,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1, "one delivery job for the new webhook");
    let stale = baton_store::integrations::deliveries::by_id(
        &app.state.db,
        serde_json::from_str::<Value>(&claimed[0].payload).unwrap()["delivery"]
            .as_str()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(deliver::run_once(&other).await.unwrap(), 0, "leased");
    clock.advance(121 * SEC);
    assert_eq!(deliver::run_once(&other).await.unwrap(), 1, "lease ran out");
    assert_eq!(rx.hits().len(), 49);
    let late = baton_store::integrations::deliveries::record_attempt(
        &app.state.db,
        &stale,
        &claimed[0].id,
        &baton_store::integrations::deliveries::AttemptOutcome {
            started_at: now,
            status_code: Some(200),
            latency_ms: 1,
            succeeded: true,
            error: None,
            response_excerpt: None,
        },
        baton_store::integrations::deliveries::Next::Succeeded,
        app.state.now(),
    )
    .await
    .unwrap();
    assert!(!late, "the attempt is already recorded");
    assert_eq!(attempts_in_db(&app, &wh).await, 1);
    app.shutdown().await;
}

/// `POST /api/v1/notification-channels`: 201 and its body.
async fn channel(api: &Api, t: &str, kind: &str, url: &str, events: &[&str]) -> Value {
    let r = api
        .post(
            "/api/v1/notification-channels",
            t,
            json!({"kind": kind, "url": url, "events": events}),
        )
        .await;
    r.expect(201, "create channel");
    r.body.clone()
}

#[tokio::test]
async fn a_slack_channel_gets_block_kit_and_its_error_codes_are_logged() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::body(200, "ok"));
    let url = format!("{}/services/T0001/B0002/SeCrEtToKeN9xyz", rx.url);
    let ch = channel(&api, t, "slack", &url, &["sop_breached"]).await;
    let id = id_of(&ch);
    assert_eq!(ch["kind"], "slack");
    assert_eq!(
        ch["events"],
        json!(["sop_run.breached"]),
        "notices expand to topics"
    );
    assert!(ch.get("secret").is_none());
    // The URL is a secret: only its host and last four characters show.
    let shown = ch["url"].as_str().unwrap();
    assert!(!shown.contains("SeCrEtToKeN"), "{shown}");
    assert!(shown.starts_with(&format!("http://127.0.0.1:{}", rx.port)) && shown.ends_with("9xyz"));
    for path in [
        format!("/api/v1/notification-channels/{id}"),
        "/api/v1/notification-channels".to_string(),
    ] {
        let g = api.get(&path, t).await;
        g.expect(200, &path);
        assert!(!g.text.contains("SeCrEtToKeN"), "{}", g.text);
    }
    let stored = common::stored_bytes(&app).await;
    assert!(
        !common::contains_bytes(&stored, b"SeCrEtToKeN"),
        "sealed at rest"
    );
    // Not a webhook.
    api.get(&format!("/api/v1/webhooks/{id}"), t)
        .await
        .problem(404, "a channel is not a webhook");

    // The test message.
    let r = api
        .post(
            &format!("/api/v1/notification-channels/{id}/test"),
            t,
            json!({}),
        )
        .await;
    r.expect(202, "test message");
    app.drain_outbox().await;
    let hits = rx.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(hits[0].path, "/hook/services/T0001/B0002/SeCrEtToKeN9xyz");
    let body = hits[0].json();
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains("Test message from Baton"));
    assert!(!body["blocks"].as_array().unwrap().is_empty(), "{body}");
    assert_eq!(body["blocks"][0]["type"], "header");
    let log = attempts(&api, t, "notification-channels", &id).await;
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(log[0]["response_excerpt"], "ok");

    // Slack's error codes, and a 200 without `ok`: failed attempts.
    for (status, code) in [
        (400, "invalid_payload"),
        (404, "channel_not_found"),
        (200, "no_service"),
    ] {
        rx.script([Reply::body(status, code)]);
        let r = api
            .post(
                &format!("/api/v1/notification-channels/{id}/test"),
                t,
                json!({}),
            )
            .await;
        r.expect(202, "test message");
        app.drain_outbox().await;
        let one = api
            .get(
                &format!(
                    "/api/v1/notification-channels/{id}/deliveries?delivery={}",
                    r.id()
                ),
                t,
            )
            .await;
        one.expect(200, "the test's attempts");
        let log = one.items();
        assert_eq!(log.len(), 1, "{code}: {}", one.text);
        assert_eq!(log[0]["succeeded"], false, "{code}");
        assert_eq!(log[0]["status_code"], status);
        assert_eq!(log[0]["delivery_state"], "pending", "retried later");
        let error = log[0]["error"].as_str().unwrap();
        assert!(error.contains(code), "{error}");
        assert!(!error.contains("SeCrEtToKeN"));
    }

    // The chosen notice: a breached SOP run, and nothing else about it.
    let before = rx.hits().len();
    let client = api.create_client(t, "Late Co").await;
    let signed = app.state.now() - 10 * DAY;
    api.event(
        t,
        &client,
        json!({"type": "contract_signed", "occurred_at": rfc3339(signed)}),
    )
    .await
    .expect(201, "back-dated contract_signed");
    app.drain_outbox().await;
    app.tick_scheduler().await;
    app.drain_outbox().await;
    let hits = rx.hits();
    let new: Vec<&Hit> = hits[before..].iter().collect();
    assert_eq!(new.len(), 1, "only the breach: {new:#?}");
    let text = new[0].json()["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("SOP run breached") && text.contains("Late Co"),
        "{text}"
    );
    assert!(text.contains(&format!("/clients/{client}/runs")), "{text}");

    // A topic filter; what people typed is escaped everywhere Slack reads
    // mrkdwn (no channel-wide mention from a client's name), and a long note
    // is cut to what a section block takes.
    let rx2 = Receiver::start().await;
    rx2.default_reply(Reply::body(200, "ok"));
    channel(&api, t, "slack", &rx2.url, &["client.note"]).await;
    let named = api.create_client(t, "Acme <!channel> & Co").await;
    api.event(
        t,
        &named,
        json!({"type": "note", "note": "y".repeat(5_000)}),
    )
    .await
    .expect(201, "long note");
    app.drain_outbox().await;
    let hits = rx2.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(hits.len(), 1, "only the note");
    let body = hits[0].json();
    let fallback = body["text"].as_str().unwrap();
    assert!(!fallback.contains("<!channel>"), "{fallback}");
    assert!(fallback.contains("&lt;!channel&gt; &amp; Co"), "{fallback}");
    let section = body["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(section.chars().count() <= 3_000, "{}", section.len());
    assert!(!section.contains("<!channel>"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_teams_channel_gets_an_adaptive_card() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::status(202));
    let url = format!(
        "{}/workflows/abc/triggers/manual/paths/invoke?sig=TeamsSig123",
        rx.url
    );
    let ch = channel(&api, t, "teams", &url, &["access", "client.created"]).await;
    let id = id_of(&ch);
    assert_eq!(
        ch["events"],
        json!([
            "access.granted_by_client",
            "access.verified",
            "access.failed",
            "client.created"
        ])
    );
    assert!(!ch["url"].as_str().unwrap().contains("TeamsSig"), "{ch}");
    api.create_client(t, "Acme Bakery").await;
    api.post(
        &format!("/api/v1/notification-channels/{id}/test"),
        t,
        json!({}),
    )
    .await
    .expect(202, "test message");
    app.drain_outbox().await;
    let hits = rx.wait_for(2, Duration::from_secs(1)).await;
    assert_eq!(hits.len(), 2);
    for hit in &hits {
        let body = hit.json();
        assert_eq!(body["type"], "message", "{body}");
        let attachments = body["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(
            attachments[0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachments[0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.2");
        assert!(!card["body"].as_array().unwrap().is_empty());
        assert!(hit.header("webhook-signature").is_none());
    }
    let texts: Vec<String> = hits
        .iter()
        .map(|h| h.json()["attachments"][0]["content"]["body"].to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains("Acme Bakery")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("Test message from Baton")));
    let log = attempts(&api, t, "notification-channels", &id).await;
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|a| a["succeeded"] == true && a["status_code"] == 202));
    // A secret in the query of a URL without a path is masked too.
    let bare = format!("http://127.0.0.1:{}?sig=QuerySecret8899", rx.port);
    let q = channel(&api, t, "teams", &bare, &["scorecard"]).await;
    assert!(!q.to_string().contains("QuerySecret"), "{q}");
    assert!(q["url"].as_str().unwrap().ends_with("8899"), "{q}");
    let g = api
        .get(&format!("/api/v1/notification-channels/{}", id_of(&q)), t)
        .await;
    assert!(!g.text.contains("QuerySecret"), "{}", g.text);
    // A new URL is sealed and masked the same way.
    let r = api
        .patch(
            &format!("/api/v1/notification-channels/{id}"),
            t,
            json!({"url": format!("{}/other?sig=NewSig4567", rx.url), "events": ["incidents"]}),
        )
        .await;
    r.expect(200, "patch channel");
    assert!(!r.text.contains("NewSig") && r.body["url"].as_str().unwrap().ends_with("4567"));
    assert_eq!(
        r.body["events"],
        json!(["incident.opened", "incident.triage_breached"])
    );
    api.post(
        &format!("/api/v1/notification-channels/{id}/test"),
        t,
        json!({}),
    )
    .await
    .expect(202, "test message");
    app.drain_outbox().await;
    assert_eq!(rx.hits().last().unwrap().path, "/hook/other");
    app.shutdown().await;
}

/// Posts `body` to an inbound URL signed by the official library.
async fn post_inbound(
    api: &Api,
    url: &str,
    secret: &str,
    msg_id: &str,
    ts: i64,
    body: &Value,
) -> Resp {
    let bytes = body.to_string();
    let sig = Webhook::new(secret)
        .unwrap()
        .sign(msg_id, ts, bytes.as_bytes())
        .unwrap();
    signed_post(api, url, msg_id, &ts.to_string(), &sig, bytes).await
}

async fn signed_post(
    api: &Api,
    url: &str,
    msg_id: &str,
    ts: &str,
    sig: &str,
    body: String,
) -> Resp {
    api.send(
        api.http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", ts)
            .header("webhook-signature", sig)
            .body(body),
    )
    .await
}

async fn clients_with(app: &TestApp, external_id: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM clients WHERE external_id = $1",
        external_id,
    )
    .await
}

#[tokio::test]
async fn a_signed_deal_won_creates_the_client_and_starts_the_handoff() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let r = api
        .post(
            "/api/v1/inbound-endpoints",
            t,
            json!({"name": "HubSpot deals"}),
        )
        .await;
    r.expect(201, "create inbound endpoint");
    let id = r.id();
    assert!(id.starts_with("inb_"), "{id}");
    let url = r.body["url"].as_str().unwrap().to_string();
    assert_eq!(url, app.url(&format!("/api/v1/inbound/{id}")));
    let secret = secret_of(&r.body);
    assert!(secret.starts_with("whsec_"));
    assert_eq!(r.body["name"], "HubSpot deals");
    let l = api.get("/api/v1/inbound-endpoints", t).await;
    l.expect(200, "list inbound");
    assert_eq!(l.items().len(), 1);
    assert!(!l.text.contains(&secret[6..]) && l.items()[0].get("secret").is_none());
    assert_eq!(l.items()[0]["last_received_at"], Value::Null);

    let now = || now_ms() / 1000;
    let deal = json!({"type": "contract_signed", "client": {"external_id": "hs-42", "name": "Acme", "website": "https://acme.example"}});
    let r = post_inbound(&api, &url, &secret, "msg_deal_1", now(), &deal).await;
    r.expect(200, "deal won");
    assert_eq!(r.body["status"], "recorded", "{}", r.text);
    assert_eq!(r.body["client_created"], true);
    let client = r.body["client_id"].as_str().unwrap().to_string();
    let event = r.body["event_id"].as_str().unwrap().to_string();
    let c = api.get(&format!("/api/v1/clients/{client}"), t).await;
    c.expect(200, "the new client");
    assert_eq!(c.body["name"], "Acme");
    assert_eq!(c.body["website"], "https://acme.example");
    assert_eq!(c.body["lifecycle"], "onboarding");
    let e = api.get("/api/v1/events?type=contract_signed", t).await;
    e.expect(200, "contract_signed events");
    assert_eq!(e.items().len(), 1, "{}", e.text);
    assert_eq!(e.items()[0]["id"], event.as_str());
    assert_eq!(e.items()[0]["client_id"], client.as_str());
    assert_eq!(e.items()[0]["actor"]["kind"], "inbound");
    app.drain_outbox().await;
    let runs = api
        .get(&format!("/api/v1/sop-runs?client={client}"), t)
        .await;
    runs.expect(200, "runs");
    assert!(
        runs.items()
            .iter()
            .any(|x| x["sop_key"] == "sales_handoff" && x["trigger_event_id"] == event.as_str()),
        "{}",
        runs.text
    );
    let l = api.get("/api/v1/inbound-endpoints", t).await;
    assert!(l.items()[0]["last_received_at"].is_string());

    // A replay of the same message: nothing new.
    let before = trail(&app, &app.agency.id).await;
    let r = post_inbound(&api, &url, &secret, "msg_deal_1", now(), &deal).await;
    r.expect(200, "replay");
    assert_eq!(r.body["status"], "duplicate", "{}", r.text);
    assert_eq!(r.body["client_id"], Value::Null);
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(clients_with(&app, "hs-42").await, 1);

    // Refused, nothing recorded: a bad signature, an old or future
    // timestamp, no signature, an unknown type, a missing name.
    let body = deal.to_string();
    let good = Webhook::new(&secret)
        .unwrap()
        .sign("msg_x", now(), body.as_bytes())
        .unwrap();
    let other = WebhookSecret::generate().to_string();
    let tampered = body.replace("Acme", "Evil");
    for (what, r) in [
        (
            "signed with another secret",
            post_inbound(&api, &url, &other, "msg_x", now(), &deal).await,
        ),
        (
            "another body",
            signed_post(&api, &url, "msg_x", &now().to_string(), &good, tampered).await,
        ),
        (
            "another message id",
            signed_post(&api, &url, "msg_y", &now().to_string(), &good, body.clone()).await,
        ),
        (
            "six minutes old",
            post_inbound(&api, &url, &secret, "msg_old", now() - 360, &deal).await,
        ),
        (
            "six minutes ahead",
            post_inbound(&api, &url, &secret, "msg_new", now() + 360, &deal).await,
        ),
        (
            "no signature",
            api.send(
                api.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone()),
            )
            .await,
        ),
    ] {
        r.problem(401, what);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let r = post_inbound(
        &api,
        &url,
        &secret,
        "msg_type",
        now(),
        &json!({"type": "deal_lost", "client": {"external_id": "hs-43", "name": "Lost"}}),
    )
    .await;
    invalid(&r, "type", "unknown type");
    let r = post_inbound(
        &api,
        &url,
        &secret,
        "msg_noname",
        now(),
        &json!({"type": "contract_signed", "client": {"external_id": "hs-44"}}),
    )
    .await;
    invalid(&r, "client.name", "no client name");
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(
        clients_with(&app, "hs-43").await + clients_with(&app, "hs-44").await,
        0
    );

    // The same external id again matches the same client. While it is
    // onboarding it cannot take contract_signed again (409, nothing new);
    // once the move is corrected back to won it can.
    let again = json!({"type": "contract_signed", "client": {"external_id": "hs-42", "name": "Acme Renamed"}});
    let r = post_inbound(&api, &url, &secret, "msg_deal_2", now(), &again).await;
    r.problem(409, "a second deal won while onboarding");
    assert_eq!(trail(&app, &app.agency.id).await, before);
    api.event(
        t,
        &client,
        json!({"type": "reopened", "note": "signed by mistake"}),
    )
    .await
    .expect(201, "correct the move");
    let r = post_inbound(&api, &url, &secret, "msg_deal_2", now(), &again).await;
    r.expect(200, "deal won again");
    assert_eq!(r.body["status"], "recorded");
    assert_eq!(r.body["client_id"], client.as_str());
    assert_eq!(r.body["client_created"], false);
    assert_eq!(clients_with(&app, "hs-42").await, 1);
    let c = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(c.body["name"], "Acme", "the client is matched, not renamed");
    assert_eq!(c.body["lifecycle"], "onboarding");

    // A numeric CRM id is its id as text; another id is another client.
    let r = post_inbound(
        &api,
        &url,
        &secret,
        "msg_deal_3",
        now(),
        &json!({"type": "contract_signed", "client": {"external_id": 4242, "name": "Numeric"}}),
    )
    .await;
    r.expect(200, "numeric external id");
    assert_eq!(r.body["client_created"], true);
    assert_eq!(clients_with(&app, "4242").await, 1);

    // Removed: posts are refused.
    api.delete(&format!("/api/v1/inbound-endpoints/{id}"), t)
        .await
        .expect(204, "delete inbound");
    post_inbound(&api, &url, &secret, "msg_deal_4", now(), &deal)
        .await
        .problem(404, "deleted endpoint");
    post_inbound(
        &api,
        &app.url("/api/v1/inbound/inb_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"),
        &secret,
        "msg_deal_5",
        now(),
        &deal,
    )
    .await
    .problem(404, "unknown endpoint");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_422_naming_the_field() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let wh = id_of(&webhook(&api, t, &rx.url, &["*"]).await);
    let ch = id_of(&channel(&api, t, "slack", &rx.url, &["access"]).await);
    let before = trail(&app, &app.agency.id).await;
    let url = rx.url.as_str();
    for (body, name) in [
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": [" client.*"]}), "events"),
        (json!({"url": url, "events": ["client.* "]}), "events"),
        (json!({"url": url, "events": ["Client!"]}), "events"),
        (json!({"url": url, "events": ["client..x"]}), "events"),
        (json!({"url": url, "events": ["*.x"]}), "events"),
        (json!({"url": "ftp://x", "events": ["*"]}), "url"),
        (json!({"url": "", "events": ["*"]}), "url"),
        (
            json!({"url": "https://user:pw@example.com/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": url, "events": ["*"], "description": "x".repeat(10_001)}),
            "description",
        ),
        (
            json!({"url": url, "events": ["*"], "client_id": "cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"}),
            "client_id",
        ),
        (
            json!({"url": url, "events": ["*"], "client_id": "nope"}),
            "client_id",
        ),
    ] {
        let r = api.post("/api/v1/webhooks", t, body.clone()).await;
        invalid(&r, name, &format!("webhook {body}"));
    }
    for (body, what) in [
        (
            json!({"url": url, "events": ["*"], "secret": "whsec_mine"}),
            "secret",
        ),
        (json!({"url": url}), "events"),
        (json!({"events": ["*"]}), "url"),
        (json!({"url": url, "events": "client.*"}), "events"),
    ] {
        let r = api.post("/api/v1/webhooks", t, body.clone()).await;
        r.problem(422, &format!("webhook {body}"));
        assert!(r.text.contains(what), "{what}: {}", r.text);
    }
    for (body, name) in [
        (
            json!({"kind": "email", "url": url, "events": ["access"]}),
            "kind",
        ),
        (
            json!({"kind": "webhook", "url": url, "events": ["access"]}),
            "kind",
        ),
        (
            json!({"kind": "slack", "url": "ftp://x", "events": ["access"]}),
            "url",
        ),
        (json!({"kind": "slack", "url": url, "events": []}), "events"),
        (
            json!({"kind": "slack", "url": url, "events": ["Access!"]}),
            "events",
        ),
    ] {
        let r = api
            .post("/api/v1/notification-channels", t, body.clone())
            .await;
        invalid(&r, name, &format!("channel {body}"));
    }
    let r = api
        .post(
            "/api/v1/notification-channels",
            t,
            json!({"kind": "slack", "url": url, "events": ["access"], "color": "red"}),
        )
        .await;
    r.problem(422, "unknown channel field");
    assert!(r.text.contains("color"));
    for (path, body, name) in [
        (
            format!("/api/v1/webhooks/{wh}"),
            json!({"events": []}),
            "events",
        ),
        (
            format!("/api/v1/webhooks/{wh}"),
            json!({"url": "ftp://x"}),
            "url",
        ),
        (
            format!("/api/v1/notification-channels/{ch}"),
            json!({"events": [" access"]}),
            "events",
        ),
    ] {
        let r = api.patch(&path, t, body.clone()).await;
        invalid(&r, name, &format!("patch {path} {body}"));
    }
    let r = api
        .patch(
            &format!("/api/v1/webhooks/{wh}"),
            t,
            json!({"kind": "slack"}),
        )
        .await;
    r.problem(422, "patch an unknown field");
    for family in ["webhooks", "notification-channels"] {
        let id = if family == "webhooks" { &wh } else { &ch };
        let path = format!("/api/v1/{family}/{id}/recover");
        let future = rfc3339(app.state.now() + HOUR);
        invalid(
            &api.post(&path, t, json!({"since": future})).await,
            "since",
            "since in the future",
        );
        invalid(
            &api.post(&path, t, json!({"since": "yesterday"})).await,
            "since",
            "since not a time",
        );
        api.post(&path, t, json!({})).await.problem(422, "no since");
        let log = format!("/api/v1/{family}/{id}/deliveries");
        invalid(
            &api.get(&format!("{log}?limit=0"), t).await,
            "limit",
            "limit 0",
        );
        invalid(
            &api.get(&format!("{log}?cursor=nope"), t).await,
            "cursor",
            "bad cursor",
        );
        invalid(
            &api.get(&format!("{log}?delivery=cli_1"), t).await,
            "delivery",
            "bad delivery",
        );
        // A delivery id that is not this endpoint's.
        api.post(
            &format!("/api/v1/{family}/{id}/deliveries/dlv_7ZZZZZZZZZZZZZZZZZZZZZZZZZ/retry"),
            t,
            json!({}),
        )
        .await
        .problem(404, "unknown delivery");
    }
    for body in [json!({"name": ""}), json!({"name": "x".repeat(1_000)})] {
        invalid(
            &api.post("/api/v1/inbound-endpoints", t, body).await,
            "name",
            "inbound name",
        );
    }
    api.post(
        "/api/v1/inbound-endpoints",
        t,
        json!({"name": "x", "secret": "s"}),
    )
    .await
    .problem(422, "inbound unknown field");
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing saved");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_gets_404_and_read_or_write_tokens_get_403() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let wh = id_of(&webhook(&api, t, &rx.url, &["client.*"]).await);
    let wh2 = id_of(&webhook(&api, t, &format!("{}/2", rx.url), &["client.*"]).await);
    let ch = id_of(&channel(&api, t, "slack", &rx.url, &["access"]).await);
    let inbound = api
        .post("/api/v1/inbound-endpoints", t, json!({"name": "CRM"}))
        .await;
    inbound.expect(201, "inbound");
    let inb = inbound.id();
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    let log = attempts(&api, t, "webhooks", &wh).await;
    let dlv = log[0]["delivery_id"].as_str().unwrap().to_string();

    let other = app.other_agency("rival@other.test").await.token;
    // Its own lists are empty.
    for path in [
        "/api/v1/webhooks",
        "/api/v1/notification-channels",
        "/api/v1/inbound-endpoints",
    ] {
        let r = api.get(path, &other).await;
        r.expect(200, path);
        assert!(r.items().is_empty(), "{path}: {}", r.text);
    }
    let since = json!({"since": rfc3339(app.state.now() - HOUR)});
    let patch = json!({"enabled": false});
    let mut cases: Vec<(reqwest::Method, String, Option<Value>)> = Vec::new();
    for (family, id) in [("webhooks", &wh), ("notification-channels", &ch)] {
        let base = format!("/api/v1/{family}/{id}");
        cases.extend([
            (reqwest::Method::GET, base.clone(), None),
            (reqwest::Method::PATCH, base.clone(), Some(patch.clone())),
            (reqwest::Method::DELETE, base.clone(), None),
            (reqwest::Method::GET, format!("{base}/deliveries"), None),
            (
                reqwest::Method::POST,
                format!("{base}/test"),
                Some(json!({})),
            ),
            (
                reqwest::Method::POST,
                format!("{base}/recover"),
                Some(since.clone()),
            ),
        ]);
    }
    cases.extend([
        (
            reqwest::Method::POST,
            format!("/api/v1/webhooks/{wh}/deliveries/{dlv}/retry"),
            Some(json!({})),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/webhooks/{wh}/rotate-secret"),
            Some(json!({})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/inbound-endpoints/{inb}"),
            None,
        ),
    ]);
    let before = trail(&app, &app.agency.id).await;
    for (method, path, body) in &cases {
        let r = api.call(method.clone(), path, &other, body.as_ref()).await;
        r.problem(404, &format!("another agency: {method} {path}"));
    }
    // Across families and endpoints of the same agency, too.
    for (method, path) in [
        (
            reqwest::Method::GET,
            format!("/api/v1/notification-channels/{wh}"),
        ),
        (reqwest::Method::GET, format!("/api/v1/webhooks/{ch}")),
        (
            reqwest::Method::POST,
            format!("/api/v1/webhooks/{ch}/rotate-secret"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/webhooks/{wh2}/deliveries/{dlv}/retry"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/notification-channels/{ch}/deliveries/{dlv}/retry"),
        ),
    ] {
        let r = api.call(method.clone(), &path, t, Some(&json!({}))).await;
        r.problem(404, &format!("{method} {path}"));
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);

    // Managing integrations is an admin's: read and write tokens get 403,
    // as does an admin-scoped token of a member who is no longer an admin.
    let read = api.token(t, "read").await;
    let write = api.token(t, "write").await;
    let demoted = common::non_admin_token(
        &app,
        &api,
        "ex-admin@northwind.test",
        baton_store::tokens::Scope::Admin,
    )
    .await;
    let before = trail(&app, &app.agency.id).await;
    let mut managing = cases.clone();
    managing.extend([
        (reqwest::Method::GET, "/api/v1/webhooks".to_string(), None),
        (
            reqwest::Method::POST,
            "/api/v1/webhooks".to_string(),
            Some(json!({"url": rx.url, "events": ["*"]})),
        ),
        (
            reqwest::Method::GET,
            "/api/v1/notification-channels".to_string(),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/notification-channels".to_string(),
            Some(json!({"kind": "slack", "url": rx.url, "events": ["access"]})),
        ),
        (
            reqwest::Method::GET,
            "/api/v1/inbound-endpoints".to_string(),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/inbound-endpoints".to_string(),
            Some(json!({"name": "Sneaky"})),
        ),
    ]);
    for token in [&read, &write, &demoted] {
        for (method, path, body) in &managing {
            let r = api.call(method.clone(), path, token, body.as_ref()).await;
            r.problem(403, &format!("{method} {path}"));
        }
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    // The catalogue is readable with a read token.
    let r = api.get("/api/v1/webhook-event-types", &read).await;
    r.expect(200, "event types");
    assert!(r
        .items()
        .iter()
        .any(|x| x["topic"] == "client.contract_signed"));
    let notices = r.body["channel_notices"].as_array().unwrap();
    assert!(notices
        .iter()
        .any(|n| n["key"] == "sop_breached" && n["topics"] == json!(["sop_run.breached"])));
    // Everything still stands for its owner.
    for path in [
        format!("/api/v1/webhooks/{wh}"),
        format!("/api/v1/notification-channels/{ch}"),
    ] {
        let r = api.get(&path, t).await;
        r.expect(200, &path);
        assert_eq!(r.body["enabled"], true);
    }
    let l = api.get("/api/v1/inbound-endpoints", t).await;
    assert_eq!(l.items().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_filter_and_deletion_limit_what_is_sent() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let acme = api.create_client(t, "Acme").await;
    let bravo = api.create_client(t, "Bravo").await;
    app.drain_outbox().await;
    let r = api
        .post(
            "/api/v1/webhooks",
            t,
            json!({"url": rx.url, "events": ["client.*"], "client_id": acme, "description": "Acme only"}),
        )
        .await;
    r.expect(201, "webhook for one client");
    assert_eq!(r.body["client_id"], acme.as_str());
    assert_eq!(r.body["description"], "Acme only");
    let id = r.id();
    assert_eq!(rx.hits().len(), 0, "events before the webhook are not sent");
    for c in [&acme, &bravo] {
        api.event(t, c, json!({"type": "note", "note": "hello"}))
            .await
            .expect(201, "note");
    }
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    assert_eq!(hits[0].json()["data"]["client_id"], acme.as_str());
    assert_eq!(hits[0].json()["type"], "client.note");
    // The filter removed (null), the description trimmed: every client's.
    let r = api
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            t,
            json!({"client_id": null, "description": "  All clients  ", "events": ["client.note"]}),
        )
        .await;
    r.expect(200, "remove the client filter");
    assert_eq!(r.body["client_id"], Value::Null);
    assert_eq!(r.body["description"], "All clients");
    assert_eq!(r.body["events"], json!(["client.note"]));
    api.event(t, &bravo, json!({"type": "note", "note": "for all"}))
        .await
        .expect(201, "note");
    app.drain_outbox().await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].json()["data"]["client_id"], bravo.as_str());
    // Removed: nothing more is sent, its log stays out of reach.
    api.delete(&format!("/api/v1/webhooks/{id}"), t)
        .await
        .expect(204, "delete");
    api.event(t, &acme, json!({"type": "note", "note": "again"}))
        .await
        .expect(201, "note");
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2);
    api.get(&format!("/api/v1/webhooks/{id}"), t)
        .await
        .problem(404, "deleted webhook");
    api.get(&format!("/api/v1/webhooks/{id}/deliveries"), t)
        .await
        .problem(404, "deleted webhook's log");
    assert!(api.get("/api/v1/webhooks", t).await.items().is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn a_replayed_idempotency_key_never_shows_a_secret_again() {
    let (app, _clock) = private_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    let post = |path: &str, key: &str, body: Value| {
        api.request(reqwest::Method::POST, path, t)
            .header("idempotency-key", key)
            .json(&body)
    };
    let body = json!({"url": rx.url, "events": ["*"]});
    let first = api
        .send(post("/api/v1/webhooks", "k-webhook", body.clone()))
        .await;
    first.expect(201, "create with a key");
    let secret = secret_of(&first.body);
    let id = first.id();
    let inbound = json!({"name": "CRM"});
    let first_in = api
        .send(post(
            "/api/v1/inbound-endpoints",
            "k-inbound",
            inbound.clone(),
        ))
        .await;
    first_in.expect(201, "inbound with a key");
    let rotate = format!("/api/v1/webhooks/{id}/rotate-secret");
    let rotated = api.send(post(&rotate, "k-rotate", json!({}))).await;
    rotated.expect(200, "rotate with a key");
    for (path, key, body, shown) in [
        (
            "/api/v1/webhooks",
            "k-webhook",
            body,
            secret_of(&first.body),
        ),
        (
            "/api/v1/inbound-endpoints",
            "k-inbound",
            inbound,
            secret_of(&first_in.body),
        ),
        (
            rotate.as_str(),
            "k-rotate",
            json!({}),
            secret_of(&rotated.body),
        ),
    ] {
        let again = api.send(post(path, key, body)).await;
        again.problem(409, &format!("replay of {path}"));
        assert!(!again.text.contains(&shown[6..]), "{}", again.text);
    }
    assert_eq!(api.get("/api/v1/webhooks", t).await.items().len(), 1);
    assert_eq!(
        api.get("/api/v1/inbound-endpoints", t).await.items().len(),
        1
    );
    // The rotation happened once: the first secret still signs, as the
    // previous one.
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    let hit = rx
        .hits()
        .into_iter()
        .find(|h| h.json()["type"] == "client.created")
        .expect("client.created sent");
    assert_eq!(signatures(&hit).len(), 2);
    verify(&secret, &hit).expect("the first secret still verifies");
    verify(&secret_of(&rotated.body), &hit).expect("the rotated secret verifies");
    let stored = common::stored_bytes(&app).await;
    for s in [
        &secret,
        &secret_of(&first_in.body),
        &secret_of(&rotated.body),
    ] {
        assert!(
            !common::contains_bytes(&stored, &s.as_bytes()[6..]),
            "{s} at rest"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn five_days_of_failed_attempts_turn_a_webhook_off() {
    let clock = ManualClock::new(now_ms());
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), |c| {
        c.webhook_allow_private = true;
        c.webhook_retry = RetrySchedule::parse("0s,2d,2d,2d").unwrap();
    })
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rx = Receiver::start().await;
    rx.default_reply(Reply::status(500));
    let id = id_of(&webhook(&api, t, &rx.url, &["client.created"]).await);
    // Each retry waits 2 days and up to 10 % more.
    let step = 2 * DAY + 5 * HOUR;
    api.create_client(t, "Acme").await;
    app.drain_outbox().await;
    // A success in between starts the count again.
    clock.advance(step);
    rx.script([Reply::status(200)]);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 2, "Acme's second attempt");
    api.create_client(t, "Bravo").await;
    app.drain_outbox().await;
    // Bravo fails for four days and a half: still on.
    clock.advance(step);
    app.drain_outbox().await;
    clock.advance(step);
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 5, "Bravo's three attempts");
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    assert_eq!(g.body["enabled"], true, "{}", g.text);
    // Another event fails after five days of failures: off.
    clock.advance(DAY);
    api.create_client(t, "Charlie").await;
    app.drain_outbox().await;
    assert_eq!(rx.hits().len(), 6);
    let g = api.get(&format!("/api/v1/webhooks/{id}"), t).await;
    assert_eq!(g.body["enabled"], false, "{}", g.text);
    let reason = g.body["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("5 days"), "{reason}");
    let n = api.get("/api/v1/notices", t).await;
    assert!(n
        .items()
        .iter()
        .any(|x| x["kind"] == "integration.endpoint_disabled"));
    app.shutdown().await;
}
