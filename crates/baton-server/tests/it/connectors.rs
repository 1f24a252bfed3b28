//! Connectors against stand-ins of the platforms (`common::platforms`), on a
//! manual clock, through the real router and the checker's pass as the loop
//! runs it: connecting (app, consent with PKCE, callback), grant → verified
//! by the connector with evidence, access removed → `access.lost` on the
//! next re-check, an outage or a 429 → "could not check" and nothing lost,
//! refresh tokens rotating, an expired connection, Meta's pending and
//! denied answers, and the endpoints' bad input and tenant isolation.

use crate::common;

use std::sync::Arc;

use baton_core::clock::ManualClock;
use baton_core::connectors::ConnectorPlatform;
use baton_server::testing::TestApp;
use common::platforms::{Failure, StandIn};
use common::Api;
use serde_json::{json, Value};

/// 2026-06-01T09:00:00Z
const T0: i64 = 1_780_304_400_000;
const DAY_MS: i64 = 86_400_000;

struct Setup {
    app: TestApp,
    clock: ManualClock,
    ga4: StandIn,
    meta: StandIn,
}

async fn setup() -> Setup {
    let ga4 = StandIn::start().await;
    let meta = StandIn::start().await;
    meta.world().no_id_token = true;
    let clock = ManualClock::new(T0);
    let (g, m) = (ga4.urls(), meta.urls());
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), move |c| {
        c.connectors.set(ConnectorPlatform::Ga4, g);
        c.connectors.set(ConnectorPlatform::Meta, m);
    })
    .await;
    Setup {
        app,
        clock,
        ga4,
        meta,
    }
}

/// Saves the app, starts the consent, plays the platform's consent screen
/// and follows the callback; returns the connection.
async fn connect(s: &Setup, platform: &str, stand_in: &StandIn, extras: Value) -> Value {
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    api.put(
        &format!("/api/v1/connections/{platform}/app"),
        t,
        json!({"client_id": "agency-app.apps.example", "client_secret": "s3cret-value", "extras": extras}),
    )
    .await
    .expect(200, "save app");
    let r = api
        .post(
            &format!("/api/v1/connections/{platform}/start"),
            t,
            json!({}),
        )
        .await;
    r.expect(201, "start");
    let url = r.body["authorization_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/authorize?", stand_in.url)),
        "{url}"
    );
    // PKCE everywhere but TikTok, whose consent takes no challenge.
    assert_eq!(
        url.contains("code_challenge_method=S256"),
        platform != "tiktok",
        "{url}"
    );
    let (state, code) = stand_in.consent(&url);
    let page = reqwest::get(s.app.url(&format!(
        "/oauth/callback?state={}&code={code}",
        common::enc(&state)
    )))
    .await
    .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("is connected"), "{html}");
    // The state is single use.
    let again = reqwest::get(s.app.url(&format!(
        "/oauth/callback?state={}&code={code}",
        common::enc(&state)
    )))
    .await
    .unwrap();
    assert_eq!(again.status(), 404);
    let list = api.get("/api/v1/connections", t).await;
    list.expect(200, "connections");
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["platform"] == platform && c["status"] == "active")
        .cloned()
        .expect("an active connection")
}

/// A client with one onboarding link asking for `requests`; returns
/// (client id, request ids).
async fn requests(api: &Api, t: &str, requests: Value) -> (String, Vec<String>) {
    let client = api.create_client(t, "Acme Bakery").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            json!({ "requests": requests }),
        )
        .await;
    r.expect(201, "link");
    let ids = r.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    (client, ids)
}

async fn get(api: &Api, t: &str, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/access-requests/{id}"), t).await;
    r.expect(200, "request");
    r.body
}

async fn checks(s: &Setup) -> usize {
    baton_server::connectors::checker::run_once(&s.app.state)
        .await
        .expect("check pass")
}

async fn grant(api: &Api, t: &str, id: &str) {
    api.post(&format!("/api/v1/access-requests/{id}/grant"), t, json!({}))
        .await
        .expect(200, "grant");
}

fn ga4_world(s: &Setup) {
    let mut w = s.ga4.world();
    // Paged one per page: the client's property is on the third page.
    w.ga4_properties = vec![
        ("1".into(), "111111".into(), "Other client".into()),
        ("2".into(), "222222".into(), "Another".into()),
        ("3".into(), "345678".into(), "Acme Bakery web".into()),
    ];
    w.ga4_bindings = vec![(
        "properties/345678".into(),
        "ops@northwind.test".into(),
        "editor".into(),
    )];
}

#[tokio::test]
async fn a_grant_is_verified_by_the_connector_with_the_platforms_evidence() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    let conn = connect(&s, "ga4", &s.ga4, json!({})).await;
    assert_eq!(conn["account"], "ops@northwind.test");
    let (client, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "editor", "asset": "properties/345678"}]),
    )
    .await;
    // Nothing is checked before the client says it is granted.
    assert_eq!(checks(&s).await, 0);
    grant(&api, t, &ids[0]).await;
    let queued = get(&api, t, &ids[0]).await;
    assert_eq!(queued["check"]["state"], "queued");
    assert_eq!(
        common::ms(&queued["check"]["next_check_at"]),
        T0,
        "checked at once: the loop looks every two seconds"
    );
    assert_eq!(checks(&s).await, 1);
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["status"], "verified");
    assert_eq!(r["verified_by_kind"], "connector");
    assert_eq!(r["verified_by"]["kind"], "connector");
    assert_eq!(r["verified_by"]["platform"], "ga4");
    assert_eq!(r["verified_by"]["connection_id"], conn["id"]);
    assert_eq!(r["evidence"]["role"], "editor");
    assert_eq!(r["evidence"]["asset"], "properties/345678");
    assert_eq!(r["evidence"]["asset_name"], "Acme Bakery web");
    assert_eq!(r["check"]["state"], "verified");
    assert_eq!(
        common::ms(&r["check"]["next_check_at"]),
        T0 + DAY_MS,
        "re-checked daily"
    );
    // Three pages of summaries were walked, then the property's bindings.
    let calls = s.ga4.world().calls.clone();
    assert_eq!(
        calls
            .iter()
            .filter(|c| *c == "/v1beta/accountSummaries")
            .count(),
        3
    );
    assert!(calls.contains(&"/v1alpha/properties/345678/accessBindings".to_string()));
    // The timeline says who verified it and with what.
    let events = api.client_events(t, &client).await;
    let verified = events
        .iter()
        .find(|e| e["type"] == "access.verified")
        .expect("access.verified");
    assert_eq!(verified["data"]["mover"], "connector");
    assert_eq!(verified["data"]["evidence"]["asset"], "properties/345678");
    assert_eq!(verified["actor"]["kind"], "connector");
    // A member-verified request still reads as before: a name.
    let (_, by_hand) = requests(
        &api,
        t,
        json!([{"platform": "pinterest", "permission": "admin"}]),
    )
    .await;
    let r = api
        .post(
            &format!("/api/v1/access-requests/{}/verify", by_hand[0]),
            t,
            json!({"note": "logged in"}),
        )
        .await;
    r.expect(200, "verify by hand");
    assert!(r.body["verified_by"].is_string(), "{}", r.body);
    assert_eq!(r.body["verified_by_kind"], "member");
    s.app.shutdown().await;
}

#[tokio::test]
async fn access_removed_on_the_platform_is_lost_on_the_next_recheck() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let (client, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "viewer", "asset": "345678"}]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    checks(&s).await;
    assert_eq!(get(&api, t, &ids[0]).await["status"], "verified");
    // Not due yet: nothing runs.
    s.clock.advance(DAY_MS - 60_000);
    assert_eq!(checks(&s).await, 0);
    // The client removes the agency; the next daily check sees it.
    s.ga4.world().ga4_properties.retain(|p| p.1 != "345678");
    s.clock.advance(60_000);
    assert_eq!(checks(&s).await, 1);
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["status"], "failed", "back with the client");
    assert_eq!(common::ms(&r["lost_at"]), T0 + DAY_MS);
    assert_eq!(r["check"]["state"], "missing");
    assert!(
        r["failed_reason"]
            .as_str()
            .unwrap()
            .contains("property 345678 is not among"),
        "the platform's words reach the client: {}",
        r["failed_reason"]
    );
    let events = api.client_events(t, &client).await;
    let lost = events
        .iter()
        .find(|e| e["type"] == "access.lost")
        .expect("access.lost");
    assert_eq!(
        lost["data"]["evidence_before"]["asset"],
        "properties/345678"
    );
    // The account team (no team: the admins) is told.
    let notices = common::count(
        &s.app,
        "SELECT COUNT(*) FROM notices WHERE agency_id = $1 AND kind = 'access.lost'",
        s.app.agency.id.as_str(),
    )
    .await;
    assert_eq!(notices, 1);
    // No more checks until the client grants again.
    s.clock.advance(DAY_MS);
    assert_eq!(checks(&s).await, 0);
    s.app.shutdown().await;
}

#[tokio::test]
async fn an_outage_or_a_rate_limit_is_could_not_check_and_nothing_is_lost() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let (_, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "viewer", "asset": "345678"}]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    checks(&s).await;
    s.clock.advance(DAY_MS);
    s.ga4.world().fail_next.push_back(Failure::outage());
    checks(&s).await;
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["status"], "verified", "an outage never marks access lost");
    assert_eq!(r["lost_at"], Value::Null);
    assert_eq!(r["check"]["state"], "could_not_check");
    assert!(
        r["check"]["detail"]
            .as_str()
            .unwrap()
            .contains("could not reach"),
        "{}",
        r["check"]["detail"]
    );
    let retry_at = common::ms(&r["check"]["next_check_at"]);
    assert_eq!(retry_at, T0 + DAY_MS + 60_000, "first retry after a minute");
    // A 429 asks for two minutes: the retry waits that long.
    s.clock.set(retry_at);
    s.ga4
        .world()
        .fail_next
        .push_back(Failure::rate_limited("120"));
    checks(&s).await;
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["status"], "verified");
    assert_eq!(common::ms(&r["check"]["next_check_at"]), retry_at + 120_000);
    // The connection shows its last error.
    let list = api.get("/api/v1/connections", t).await;
    assert!(list.body["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("rate limiting"));
    // Back to normal: verified again, re-checked after a day.
    s.clock.set(retry_at + 120_000);
    checks(&s).await;
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["check"]["state"], "verified");
    assert_eq!(
        common::ms(&r["check"]["next_check_at"]),
        retry_at + 120_000 + DAY_MS
    );
    s.app.shutdown().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_refused_one_expires_the_connection() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    // Tokens that last 60 s: within the two-minute margin, so every check
    // refreshes first.
    s.ga4.world().expires_in = 60;
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let (_, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "viewer", "asset": "345678"}]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    checks(&s).await;
    s.clock.advance(DAY_MS);
    checks(&s).await;
    assert_eq!(get(&api, t, &ids[0]).await["check"]["state"], "verified");
    // Each refresh presented the token the one before returned.
    assert_eq!(s.ga4.world().refreshes, vec!["rt-1", "rt-2"]);
    // The platform forgets every refresh token (the client's admin revoked
    // the app): the connection expires, the access is not called lost.
    s.ga4.world().refresh_tokens.clear();
    s.clock.advance(DAY_MS);
    checks(&s).await;
    let r = get(&api, t, &ids[0]).await;
    assert_eq!(r["status"], "verified");
    assert_eq!(r["check"]["state"], "could_not_check");
    assert!(r["check"]["detail"].as_str().unwrap().contains("expired"));
    let list = api.get("/api/v1/connections", t).await;
    assert_eq!(list.body["items"][0]["status"], "expired");
    // Checking now says what to do.
    let r = api
        .post(
            &format!("/api/v1/access-requests/{}/check", ids[0]),
            t,
            json!({}),
        )
        .await;
    r.problem(409, "no active connection");
    s.app.shutdown().await;
}

#[tokio::test]
async fn meta_pending_and_missing_answers_reach_the_request_in_the_platforms_words() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    {
        let mut w = s.meta.world();
        w.meta_pages = vec![
            (
                "1000001".into(),
                "Someone else".into(),
                vec!["ANALYZE".into()],
            ),
            (
                "1098765432".into(),
                "Acme Bakery".into(),
                vec!["ANALYZE".into(), "CREATE_CONTENT".into()],
            ),
        ];
        w.meta_pending_ad_accounts = vec!["act_5550001".into()];
    }
    let conn = connect(&s, "meta", &s.meta, json!({"business_id": "9990001"})).await;
    assert_eq!(conn["account"], "Northwind Ops");
    let (_, ids) = requests(
        &api,
        t,
        json!([
            {"platform": "meta_page", "permission": "content", "asset": "Acme Bakery"},
            {"platform": "meta_ad_account", "permission": "manage_campaigns", "asset": "act_5550001"},
            {"platform": "meta_page", "permission": "full_control", "asset": "1098765432"}
        ]),
    )
    .await;
    for id in &ids {
        grant(&api, t, id).await;
    }
    assert_eq!(checks(&s).await, 3);
    let page = get(&api, t, &ids[0]).await;
    assert_eq!(page["status"], "verified");
    assert_eq!(page["evidence"]["role"], "CREATE_CONTENT");
    assert_eq!(page["evidence"]["asset"], "1098765432");
    let ads = get(&api, t, &ids[1]).await;
    assert_eq!(
        ads["status"], "granted_by_client",
        "still waiting on the client"
    );
    assert_eq!(ads["check"]["state"], "pending");
    assert_eq!(common::ms(&ads["check"]["next_check_at"]), T0 + 15 * 60_000);
    let too_small = get(&api, t, &ids[2]).await;
    assert_eq!(too_small["status"], "failed");
    assert!(
        too_small["failed_reason"]
            .as_str()
            .unwrap()
            .contains("CREATE_CONTENT only"),
        "{}",
        too_small["failed_reason"]
    );
    // The client approves the ad account request; the next look verifies it.
    {
        let mut w = s.meta.world();
        w.meta_pending_ad_accounts.clear();
        w.meta_ad_accounts = vec![(
            "act_5550001".into(),
            "Acme Ads".into(),
            vec!["ADVERTISE".into()],
        )];
    }
    s.clock.advance(15 * 60_000);
    assert_eq!(checks(&s).await, 1);
    assert_eq!(get(&api, t, &ids[1]).await["status"], "verified");
    s.app.shutdown().await;
}

#[tokio::test]
async fn a_platform_that_refuses_is_missing_not_an_error() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    // The wrong business id: Meta answers (#200) permission denied.
    connect(&s, "meta", &s.meta, json!({"business_id": "123"})).await;
    let (_, ids) = requests(
        &api,
        t,
        json!([{"platform": "meta_page", "permission": "insights", "asset": "Acme Bakery"}]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    let r = api
        .post(
            &format!("/api/v1/access-requests/{}/check", ids[0]),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "check now");
    assert_eq!(r.body["status"], "failed");
    assert_eq!(r.body["check"]["state"], "missing");
    assert!(r.body["failed_reason"]
        .as_str()
        .unwrap()
        .contains("Requires business_management permission"));
    s.app.shutdown().await;
}

#[tokio::test]
async fn revoked_access_is_proven_gone_by_a_check() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let (client, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "viewer", "asset": "345678"}]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    checks(&s).await;
    api.post(
        &format!("/api/v1/access-requests/{}/revoke", ids[0]),
        t,
        json!({"note": "removed the agency's user"}),
    )
    .await
    .expect(200, "revoke");
    // Still listed: the check says so, nothing is confirmed.
    let r = api
        .post(
            &format!("/api/v1/access-requests/{}/check", ids[0]),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "check");
    assert_eq!(r.body["revoke_confirmed_at"], Value::Null);
    assert!(r.body["check"]["detail"]
        .as_str()
        .unwrap()
        .contains("still lists"));
    s.ga4.world().ga4_properties.clear();
    let r = api
        .post(
            &format!("/api/v1/access-requests/{}/check", ids[0]),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "check");
    assert_eq!(common::ms(&r.body["revoke_confirmed_at"]), T0);
    let events = api.client_events(t, &client).await;
    assert!(events
        .iter()
        .any(|e| e["type"] == "access.revoke_confirmed"));
    s.app.shutdown().await;
}

#[tokio::test]
async fn connection_endpoints_refuse_bad_input_and_other_agencies() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    // Unknown platform, unknown extra, empty client id.
    api.post("/api/v1/connections/myspace/start", t, json!({}))
        .await
        .problem(404, "unknown platform");
    let r = api
        .put(
            "/api/v1/connections/ga4/app",
            t,
            json!({"client_id": "x", "client_secret": "y", "extras": {"developer_token": "z"}}),
        )
        .await;
    r.problem(422, "ga4 takes no extras");
    let r = api
        .put(
            "/api/v1/connections/ga4/app",
            t,
            json!({"client_id": " ", "client_secret": "y"}),
        )
        .await;
    r.problem(422, "empty client id");
    let r = api
        .put("/api/v1/connections/ga4/app", t, json!({"client_id": "x"}))
        .await;
    r.problem(422, "first save needs the secret");
    // Starting without an app says what to do.
    api.post("/api/v1/connections/ga4/start", t, json!({}))
        .await
        .problem(409, "no app");
    // A consent that came back refused.
    ga4_world(&s);
    let conn = connect(&s, "ga4", &s.ga4, json!({})).await;
    let r = api
        .post("/api/v1/connections/ga4/start", t, json!({}))
        .await;
    let (state, _) = s.ga4.consent(r.body["authorization_url"].as_str().unwrap());
    let page = reqwest::get(s.app.url(&format!(
        "/oauth/callback?state={}&error=access_denied",
        common::enc(&state)
    )))
    .await
    .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("declined"));
    let bogus = reqwest::get(s.app.url("/oauth/callback?state=nope&code=x"))
        .await
        .unwrap();
    assert_eq!(bogus.status(), 404);
    // The secret is never shown back; the app's redirect URI is.
    let list = api.get("/api/v1/connections", t).await;
    let ga4 = list.body["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["platform"] == "ga4")
        .unwrap()
        .clone();
    assert_eq!(ga4["client_secret_set"], true);
    assert!(!list.text.contains("s3cret-value"));
    assert_eq!(ga4["redirect_uri"], s.app.url("/oauth/callback"));
    // Another agency sees none of it and cannot remove or check.
    let other = s.app.other_agency("rival@rival.test").await;
    let theirs = api.get("/api/v1/connections", &other.token).await;
    assert_eq!(theirs.body["items"].as_array().unwrap().len(), 0);
    api.delete(
        &format!("/api/v1/connections/{}", conn["id"].as_str().unwrap()),
        &other.token,
    )
    .await
    .problem(404, "other agency's connection");
    let (_, ids) = requests(
        &api,
        t,
        json!([{"platform": "ga4", "permission": "viewer", "asset": "345678"}]),
    )
    .await;
    api.post(
        &format!("/api/v1/access-requests/{}/check", ids[0]),
        &other.token,
        json!({}),
    )
    .await
    .problem(404, "other agency's request");
    // A platform without a connector.
    let (_, pins) = requests(
        &api,
        t,
        json!([{"platform": "pinterest", "permission": "admin"}]),
    )
    .await;
    api.post(
        &format!("/api/v1/access-requests/{}/check", pins[0]),
        t,
        json!({}),
    )
    .await
    .problem(409, "no connector");
    // Removing the connection: gone from checks.
    api.delete(
        &format!("/api/v1/connections/{}", conn["id"].as_str().unwrap()),
        t,
    )
    .await
    .expect(204, "delete");
    let list = api.get("/api/v1/connections", t).await;
    let removed = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conn["id"])
        .unwrap()
        .clone();
    assert_eq!(removed["status"], "revoked");
    api.post(
        &format!("/api/v1/access-requests/{}/check", ids[0]),
        t,
        json!({}),
    )
    .await
    .problem(409, "no active connection");
    s.app.shutdown().await;
}

#[tokio::test]
async fn two_servers_check_each_due_request_once() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    {
        let mut w = s.ga4.world();
        w.ga4_properties = (0..6)
            .map(|i| (format!("{i}"), format!("90000{i}"), format!("Property {i}")))
            .collect();
    }
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let client = api.create_client(t, &format!("Client {i}")).await;
        let r = api
            .post(
                &format!("/api/v1/clients/{client}/onboarding-links"),
                t,
                json!({"requests": [{"platform": "ga4", "permission": "viewer", "asset": format!("90000{i}")}]}),
            )
            .await;
        r.expect(201, "link");
        let id = r.body["requests"][0]["id"].as_str().unwrap().to_string();
        grant(&api, t, &id).await;
        ids.push(id);
    }
    // A second server on the same database, same key and clock.
    let other = baton_server::state::AppState::with_clock(
        s.app.state.db.clone(),
        s.app.state.config.clone(),
        s.app.state.clock.clone(),
    );
    let (a, b) = tokio::join!(
        baton_server::connectors::checker::run_once(&s.app.state),
        baton_server::connectors::checker::run_once(&other),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 6, "each request checked once");
    for id in &ids {
        assert_eq!(get(&api, t, id).await["status"], "verified");
    }
    let verified = common::count(
        &s.app,
        "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'access.verified'",
        s.app.agency.id.as_str(),
    )
    .await;
    assert_eq!(verified, 6, "one access.verified per request");
    s.app.shutdown().await;
}

/// Google Ads, Tag Manager, LinkedIn and TikTok, each against a stand-in of
/// its own: a grant verified with the platform's evidence, and a second
/// request the platform shows waiting on the client or missing.
#[tokio::test]
async fn google_ads_gtm_linkedin_and_tiktok_verify_through_their_apis() {
    let ads = StandIn::start_for("google_ads").await;
    let gtm = StandIn::start_for("gtm").await;
    let linkedin = StandIn::start_for("linkedin").await;
    let tiktok = StandIn::start_for("tiktok").await;
    let clock = ManualClock::new(T0);
    let urls = [
        (ConnectorPlatform::GoogleAds, ads.urls()),
        (ConnectorPlatform::Gtm, gtm.urls()),
        (ConnectorPlatform::Linkedin, linkedin.urls()),
        (ConnectorPlatform::Tiktok, tiktok.urls()),
    ];
    let app = TestApp::spawn_with_config(Arc::new(clock.clone()), move |c| {
        for (p, u) in urls {
            c.connectors.set(p, u);
        }
    })
    .await;
    let s = Setup {
        app,
        clock,
        ga4: ads.clone(),
        meta: gtm.clone(),
    };
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    {
        ads.world().ads_links = vec![
            ("1234567890".into(), "ACTIVE".into()),
            ("5556667777".into(), "PENDING".into()),
        ];
        let mut g = gtm.world();
        g.gtm_accounts = vec![
            (
                "1".into(),
                vec![("11".into(), "GTM-OTHER1".into(), "Other".into())],
            ),
            (
                "2".into(),
                vec![("22".into(), "GTM-ABC123".into(), "Acme web".into())],
            ),
        ];
        g.gtm_permissions = vec![(
            "2".into(),
            "ops@northwind.test".into(),
            "user".into(),
            vec![("22".into(), "publish".into())],
        )];
        drop(g);
        linkedin.world().linkedin_acls = vec![
            ("1111".into(), "ANALYST".into(), "APPROVED".into()),
            ("5515715".into(), "ADMINISTRATOR".into(), "APPROVED".into()),
            (
                "7777".into(),
                "CONTENT_ADMINISTRATOR".into(),
                "REQUESTED".into(),
            ),
        ];
        tiktok.world().tiktok_assets = vec![
            (
                "7000000000000000001".into(),
                "Other Ads".into(),
                "ANALYST".into(),
            ),
            (
                "7000000000000000002".into(),
                "Acme Ads".into(),
                "ADMIN".into(),
            ),
        ];
    }
    connect(
        &s,
        "google_ads",
        &ads,
        json!({"developer_token": "dev-token-1", "manager_customer_id": "111-222-3333"}),
    )
    .await;
    connect(&s, "gtm", &gtm, json!({})).await;
    let li = connect(&s, "linkedin", &linkedin, json!({})).await;
    assert_eq!(li["account"], "maya@northwind.test");
    connect(
        &s,
        "tiktok",
        &tiktok,
        json!({"bc_id": "7100000000000000001"}),
    )
    .await;
    let (_, ids) = requests(
        &api,
        t,
        json!([
            {"platform": "google_ads", "permission": "standard", "asset": "123-456-7890"},
            {"platform": "google_ads", "permission": "read_only", "asset": "555-666-7777"},
            {"platform": "gtm", "permission": "publish", "asset": "GTM-ABC123"},
            {"platform": "gtm", "permission": "read", "asset": "GTM-NOPE99"},
            {"platform": "linkedin_page", "permission": "super_admin", "asset": "https://www.linkedin.com/company/5515715"},
            {"platform": "linkedin_page", "permission": "content_admin", "asset": "7777"},
            {"platform": "tiktok_ads", "permission": "admin", "asset": "7000000000000000002"},
            {"platform": "tiktok_ads", "permission": "operator", "asset": "7000000000000000001"}
        ]),
    )
    .await;
    for id in &ids {
        grant(&api, t, id).await;
    }
    assert_eq!(checks(&s).await, 8);
    let want = [
        ("verified", "verified", "customers/1234567890"),
        ("granted_by_client", "pending", ""),
        ("verified", "verified", "accounts/2/containers/22"),
        ("failed", "missing", ""),
        ("verified", "verified", "urn:li:organization:5515715"),
        ("granted_by_client", "pending", ""),
        ("verified", "verified", "7000000000000000002"),
        ("failed", "missing", ""),
    ];
    for (id, (status, check, asset)) in ids.iter().zip(want) {
        let r = get(&api, t, id).await;
        assert_eq!(r["status"], status, "{} {}", r["platform"], r["check"]);
        assert_eq!(
            r["check"]["state"], check,
            "{} {}",
            r["platform"], r["check"]
        );
        if !asset.is_empty() {
            assert_eq!(r["evidence"]["asset"], asset, "{}", r["platform"]);
            assert_eq!(r["verified_by"]["kind"], "connector");
        }
    }
    // The Google Ads stand-in saw the developer token and login-customer-id
    // (it refuses calls without them).
    let calls = ads.world().calls.clone();
    assert!(
        !calls.is_empty()
            && calls
                .iter()
                .all(|c| c == "/customers/1112223333/googleAds:search"),
        "{calls:?}"
    );
    // LinkedIn and TikTok were walked page by page.
    assert!(linkedin.world().calls.len() >= 3);
    assert!(tiktok.world().calls.len() >= 2);
    s.app.shutdown().await;
}

/// The client's page shows each request's check in words and "Check now"
/// asks the platform (a form, CSRF-checked, redirected after).
#[tokio::test]
async fn the_client_page_shows_the_check_and_checks_now() {
    let s = setup().await;
    let api = Api::new(&s.app);
    let t = &s.app.agency.token;
    ga4_world(&s);
    connect(&s, "ga4", &s.ga4, json!({})).await;
    let (client, ids) = requests(
        &api,
        t,
        json!([
            {"platform": "ga4", "permission": "editor", "asset": "properties/345678"},
            {"platform": "pinterest", "permission": "admin"}
        ]),
    )
    .await;
    grant(&api, t, &ids[0]).await;
    let c = common::signed_in_admin(&s.app).await;
    let (_, html) = common::page(&c, &s.app.url(&format!("/clients/{client}"))).await;
    assert!(
        html.contains("Queued for a check through Google Analytics 4."),
        "queued"
    );
    assert!(
        html.contains(&format!("/access/{}/check", ids[0])),
        "a GA4 request can be checked now"
    );
    assert!(
        !html.contains(&format!("/access/{}/check", ids[1])),
        "Pinterest has no connector"
    );
    let r = c
        .post(
            s.app
                .url(&format!("/clients/{client}/access/{}/check", ids[0])),
        )
        .form(&[("csrf", common::csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = common::page(&c, &s.app.url(&format!("/clients/{client}"))).await;
    assert!(
        html.contains("Google Analytics 4 lists it: editor on Acme Bakery web"),
        "the evidence in words"
    );
    // Without the form's CSRF token nothing is checked.
    let r = c
        .post(
            s.app
                .url(&format!("/clients/{client}/access/{}/check", ids[0])),
        )
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    s.app.shutdown().await;
}
