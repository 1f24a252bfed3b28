//! The HTTP conventions every `/api/v1` route keeps: problem+json for every
//! error and never a 500 for bad input, body limits, pagination parameters,
//! `Idempotency-Key`, and the OpenAPI 3.1 document.

use crate::common;

use std::collections::{BTreeSet, HashSet};

use baton_server::testing::TestApp;
use baton_store::testing::TestDb;
use common::{count, enc, trail, Api};
use reqwest::Method;
use serde_json::{json, Value};

/// Every operation of the `/api/v1` router (see `api::router`).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v1/clients"),
    ("post", "/api/v1/clients"),
    ("get", "/api/v1/clients/{id}"),
    ("patch", "/api/v1/clients/{id}"),
    ("put", "/api/v1/clients/{id}/team"),
    ("post", "/api/v1/clients/{id}/events"),
    ("post", "/api/v1/clients/{id}/archive"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/members"),
    ("post", "/api/v1/members"),
    ("get", "/api/v1/members/{id}"),
    ("patch", "/api/v1/members/{id}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/agency"),
    ("patch", "/api/v1/agency"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/platforms"),
    ("get", "/api/v1/platforms/{key}"),
    ("put", "/api/v1/platforms/{key}"),
    ("delete", "/api/v1/platforms/{key}"),
    ("get", "/api/v1/agency/onboarding"),
    ("patch", "/api/v1/agency/onboarding"),
    ("get", "/api/v1/access-templates"),
    ("post", "/api/v1/access-templates"),
    ("put", "/api/v1/access-templates/{id}"),
    ("delete", "/api/v1/access-templates/{id}"),
    ("get", "/api/v1/clients/{id}/onboarding-links"),
    ("post", "/api/v1/clients/{id}/onboarding-links"),
    ("get", "/api/v1/onboarding-links/{id}"),
    ("delete", "/api/v1/onboarding-links/{id}"),
    ("post", "/api/v1/onboarding-links/{id}/regenerate"),
    ("post", "/api/v1/onboarding-links/{id}/remind"),
    ("get", "/api/v1/clients/{id}/access-requests"),
    ("get", "/api/v1/clients/{id}/kpis"),
    ("get", "/api/v1/clients/{id}/intake"),
    ("get", "/api/v1/access-requests"),
    ("get", "/api/v1/access-requests/{id}"),
    ("post", "/api/v1/access-requests/{id}/verify"),
    ("post", "/api/v1/access-requests/{id}/check"),
    ("post", "/api/v1/access-requests/{id}/fail"),
    ("post", "/api/v1/access-requests/{id}/grant"),
    ("post", "/api/v1/access-requests/{id}/revoke"),
    ("post", "/api/v1/access-requests/{id}/waive"),
    ("get", "/api/v1/access-inventory"),
    ("get", "/api/v1/kpis/access"),
    ("get", "/api/v1/agency/calendar"),
    ("put", "/api/v1/agency/calendar"),
    ("post", "/api/v1/agency/calendar/holidays/import"),
    ("post", "/api/v1/agency/custom-domain/verify"),
    ("get", "/api/v1/clients/{id}/handoff"),
    ("put", "/api/v1/clients/{id}/handoff"),
    ("get", "/api/v1/clients/{id}/handoff/versions"),
    ("get", "/api/v1/clients/{id}/handoff/versions/{n}"),
    ("get", "/api/v1/sops"),
    ("get", "/api/v1/sops/{key}"),
    ("put", "/api/v1/sops/{key}"),
    ("get", "/api/v1/sops/{key}/versions"),
    ("get", "/api/v1/sop-runs"),
    ("post", "/api/v1/sop-runs"),
    ("get", "/api/v1/sop-runs/{id}"),
    ("put", "/api/v1/sop-runs/{id}/checklist"),
    ("post", "/api/v1/sop-runs/{id}/complete"),
    ("post", "/api/v1/sop-runs/{id}/pause"),
    ("post", "/api/v1/sop-runs/{id}/resume"),
    ("post", "/api/v1/sop-runs/{id}/assign"),
    ("get", "/api/v1/kpis/sops"),
    ("get", "/api/v1/kpis"),
    ("get", "/api/v1/kpis/weekly"),
    ("get", "/api/v1/kpis/members"),
    ("get", "/api/v1/kpis/settings"),
    ("put", "/api/v1/kpis/settings"),
    ("get", "/api/v1/measurables"),
    ("post", "/api/v1/measurables"),
    ("patch", "/api/v1/measurables/{id}"),
    ("post", "/api/v1/measurables/{id}/values"),
    ("get", "/api/v1/scorecard"),
    ("get", "/api/v1/scorecards"),
    ("post", "/api/v1/scorecards"),
    ("get", "/api/v1/actions"),
    ("post", "/api/v1/actions/{id}/done"),
    ("post", "/api/v1/actions/{id}/reopen"),
    ("post", "/api/v1/content/{id}/rounds/{round}/revision"),
    ("get", "/api/v1/cadences"),
    ("get", "/api/v1/cadences/{key}"),
    ("put", "/api/v1/cadences/{key}"),
    ("get", "/api/v1/cadence-occurrences"),
    ("get", "/api/v1/cadence-occurrences/{id}"),
    ("post", "/api/v1/cadence-occurrences/{id}/artifact"),
    ("get", "/api/v1/cadence-decisions"),
    ("post", "/api/v1/cadence-decisions/{id}/done"),
    ("post", "/api/v1/cadence-decisions/{id}/reopen"),
    ("get", "/api/v1/cadence-adherence"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{id}"),
    ("patch", "/api/v1/webhooks/{id}"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/webhooks/{id}/deliveries"),
    ("post", "/api/v1/webhooks/{id}/deliveries/{delivery}/retry"),
    ("post", "/api/v1/webhooks/{id}/test"),
    ("post", "/api/v1/webhooks/{id}/recover"),
    ("post", "/api/v1/webhooks/{id}/rotate-secret"),
    ("get", "/api/v1/notification-channels"),
    ("post", "/api/v1/notification-channels"),
    ("get", "/api/v1/notification-channels/{id}"),
    ("patch", "/api/v1/notification-channels/{id}"),
    ("delete", "/api/v1/notification-channels/{id}"),
    ("get", "/api/v1/notification-channels/{id}/deliveries"),
    (
        "post",
        "/api/v1/notification-channels/{id}/deliveries/{delivery}/retry",
    ),
    ("post", "/api/v1/notification-channels/{id}/test"),
    ("post", "/api/v1/notification-channels/{id}/recover"),
    ("get", "/api/v1/inbound-endpoints"),
    ("post", "/api/v1/inbound-endpoints"),
    ("delete", "/api/v1/inbound-endpoints/{id}"),
    ("post", "/api/v1/inbound/{id}"),
    ("get", "/api/v1/connections"),
    ("post", "/api/v1/connections/{platform}/start"),
    ("put", "/api/v1/connections/{platform}/app"),
    ("delete", "/api/v1/connections/{id}"),
    ("get", "/api/v1/webhook-event-types"),
    ("post", "/api/v1/content/{id}/plan"),
    ("get", "/api/v1/notices"),
    ("post", "/api/v1/notices/read"),
    ("get", "/api/v1/incidents"),
    ("post", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("post", "/api/v1/incidents/{id}/triage"),
    ("post", "/api/v1/incidents/{id}/mitigate"),
    ("post", "/api/v1/incidents/{id}/resolve"),
    ("post", "/api/v1/incidents/{id}/close"),
    ("post", "/api/v1/incidents/{id}/cancel"),
    ("post", "/api/v1/incidents/{id}/notes"),
    ("put", "/api/v1/incidents/{id}/postmortem"),
    ("post", "/api/v1/incidents/{id}/actions/{action}/done"),
    ("get", "/api/v1/incident-severities"),
    ("put", "/api/v1/incident-severities/{severity}"),
    ("get", "/api/v1/kpis/incidents"),
    ("get", "/api/v1/clients/{id}/content"),
    ("post", "/api/v1/clients/{id}/content"),
    ("get", "/api/v1/content"),
    ("get", "/api/v1/content/{id}"),
    ("patch", "/api/v1/content/{id}"),
    ("put", "/api/v1/content/{id}/participants"),
    ("post", "/api/v1/content/{id}/versions"),
    ("get", "/api/v1/content/{id}/versions/{n}/file"),
    ("post", "/api/v1/content/{id}/submit"),
    ("post", "/api/v1/content/{id}/approve-brief"),
    ("post", "/api/v1/content/{id}/cancel"),
    ("post", "/api/v1/content/{id}/unschedule"),
    ("post", "/api/v1/content/{id}/publish"),
    ("post", "/api/v1/content/{id}/comments"),
    ("post", "/api/v1/content/{id}/decisions"),
    ("get", "/api/v1/content/{id}/qa"),
    ("put", "/api/v1/content/{id}/qa"),
    ("post", "/api/v1/content/{id}/schedule"),
    ("post", "/api/v1/content/{id}/approval-link"),
    ("post", "/api/v1/clients/{id}/calendar-feed"),
    ("delete", "/api/v1/clients/{id}/calendar-feed"),
    ("post", "/api/v1/me/calendar-feed"),
    ("get", "/api/v1/me/content-waiting"),
    ("delete", "/api/v1/me/calendar-feed"),
    ("get", "/api/v1/agency/content-settings"),
    ("put", "/api/v1/agency/content-settings"),
    ("get", "/api/v1/clients/{id}/content-settings"),
    ("put", "/api/v1/clients/{id}/content-settings"),
    ("get", "/api/v1/kpis/content"),
];

#[tokio::test]
#[cfg_attr(
    not(baton_pg),
    ignore = "PostgreSQL not configured: the API suite ran on SQLite only; set BATON_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it on PostgreSQL"
)]
async fn postgres_suite() {
    assert_eq!(TestDb::engine(), "postgres");
    let app = TestApp::spawn().await;
    assert_eq!(app.state.db.backend(), baton_store::Backend::Postgres);
    app.shutdown().await;
}

/// A JSON body sent with a given content type.
async fn raw_post(
    api: &Api,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> common::Resp {
    let mut rb = api
        .request(Method::POST, path, token)
        .body(body.to_string());
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    api.send(rb).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Target").await;
    let before = trail(&app, &app.agency.id).await;
    // Bodies that break before naming any field (a field name would be
    // judged first, as unknown: 422).
    let broken = [
        "{",
        "",
        "not json at all",
        "{'name': 'Acme'}",
        "{,}",
        "{\"name\" \"Acme\"}",
    ];
    for body in broken {
        for path in [
            "/api/v1/clients".to_string(),
            format!("/api/v1/clients/{client}/events"),
            "/api/v1/members".to_string(),
            "/api/v1/tokens".to_string(),
        ] {
            let path = if body.contains("name") && path != "/api/v1/clients" {
                continue;
            } else {
                path
            };
            let r = raw_post(&api, &path, t, Some("application/json"), body).await;
            r.problem(400, &format!("{path} {body:?}"));
            assert_eq!(r.body["type"], "https://baton.dev/problems/bad-request");
        }
    }
    for body in [
        r#"{"name": "Acme""#,
        r#"{"name": "Acme",}"#,
        r#"{"name": "Acme" "website": "x"}"#,
    ] {
        let r = raw_post(&api, "/api/v1/clients", t, Some("application/json"), body).await;
        r.problem(400, body);
    }
    let r = api
        .send(
            api.request(Method::PATCH, &format!("/api/v1/clients/{client}"), t)
                .header("content-type", "application/json")
                .body("{"),
        )
        .await;
    r.problem(400, "PATCH malformed");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{}",
        r.text
    );
    assert_eq!(trail(&app, &app.agency.id).await, before);
    app.shutdown().await;
}

#[tokio::test]
async fn wrong_types_and_unknown_fields_are_422() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let before = trail(&app, &app.agency.id).await;
    for (what, body) in [
        ("number name", json!({"name": 42})),
        ("null name", json!({"name": null})),
        ("array name", json!({"name": ["a"]})),
        ("object name", json!({"name": {"first": "a"}})),
        ("missing name", json!({})),
        ("array body", json!(["Acme"])),
        ("string body", json!("Acme")),
        ("null body", json!(null)),
        ("unknown field", json!({"name": "Acme", "color": "red"})),
        ("misspelled field", json!({"nmae": "Acme"})),
        ("website number", json!({"name": "Acme", "website": 7})),
    ] {
        let r = api.post("/api/v1/clients", t, body).await;
        r.problem(422, what);
        assert_eq!(r.body["type"], "https://baton.dev/problems/invalid-input");
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    // An array is not read as the fields in order, even where every field
    // may be left out (serde would otherwise accept `[]` for such a body).
    let client = api.create_client(t, "Acme").await;
    for body in [json!([]), json!(["Acme"])] {
        let r = api
            .patch(&format!("/api/v1/clients/{client}"), t, body.clone())
            .await;
        r.problem(422, &format!("{body}"));
        assert!(r.text.contains("must be a JSON object"), "{}", r.text);
    }
    let before = trail(&app, &app.agency.id).await;
    let r = api
        .post(
            "/api/v1/clients",
            t,
            json!({"name": "Acme", "color": "red"}),
        )
        .await;
    assert!(
        r.body["detail"].as_str().unwrap().contains("color"),
        "names the field: {}",
        r.text
    );
    assert_eq!(trail(&app, &app.agency.id).await, before);
    app.shutdown().await;
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
    ] {
        let r = raw_post(&api, "/api/v1/clients", t, ct, r#"{"name": "Acme"}"#).await;
        r.problem(415, &format!("{ct:?}"));
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"));
    }
    // A charset parameter is fine.
    let r = raw_post(
        &api,
        "/api/v1/clients",
        t,
        Some("application/json; charset=utf-8"),
        r#"{"name": "Acme"}"#,
    )
    .await;
    r.expect(201, "charset parameter");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
            &app.agency.id
        )
        .await,
        1
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_5_mb_body_is_413() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let big = json!({ "name": "x".repeat(5 * 1024 * 1024) }).to_string();
    for key in [None, Some("big-upload-1")] {
        let mut rb = api
            .request(Method::POST, "/api/v1/clients", t)
            .header("content-type", "application/json")
            .body(big.clone());
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        let r = api.send(rb).await;
        r.problem(413, &format!("5 MB body, key {key:?}"));
        assert_eq!(
            r.body["type"],
            "https://baton.dev/problems/payload-too-large"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
            &app.agency.id
        )
        .await,
        0
    );
    // The server is fine afterwards.
    api.create_client(t, "After the big one").await;
    app.shutdown().await;
}

#[tokio::test]
async fn page_sizes_and_cursors_are_checked() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.create_client(t, "One").await;
    let lists = [
        "/api/v1/clients",
        "/api/v1/events",
        "/api/v1/members",
        "/api/v1/audit",
    ];
    for list in lists {
        for (q, status) in [
            ("limit=0", 422),
            ("limit=1000", 422),
            ("limit=201", 422),
            ("limit=-1", 422),
            ("limit=abc", 400),
            ("limit=1.5", 400),
            ("cursor=garbage", 422),
            ("cursor=%27%20OR%201%3D1%20--", 422),
        ] {
            let path = format!("{list}?{q}");
            api.get(&path, t).await.problem(status, &path);
        }
        for q in ["limit=1", "limit=200", "cursor=", "limit=50&cursor="] {
            let path = format!("{list}?{q}");
            let r = api.get(&path, t).await;
            r.expect(200, &path);
            assert!(!r.items().is_empty(), "{path}");
        }
        let r = api.get(&format!("{list}?limit=1"), t).await;
        assert_eq!(r.items().len(), 1, "{list}");
    }
    // A cursor of another list is not a cursor of this one.
    let member_id = app.agency.admin.id.clone();
    api.get(&format!("/api/v1/clients?cursor={member_id}"), t)
        .await
        .problem(422, "member id as client cursor");
    app.shutdown().await;
}

#[tokio::test]
async fn every_error_is_problem_json() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let cases: Vec<(Method, &str, u16)> = vec![
        (Method::GET, "/api/v1/nothing-here", 404),
        (
            Method::GET,
            "/api/v1/clients/cli_00000000000000000000000000/nope",
            404,
        ),
        (Method::DELETE, "/api/v1/clients", 405),
        (Method::PUT, "/api/v1/agency", 405),
        (Method::POST, "/api/v1/events", 405),
        (
            Method::GET,
            "/api/v1/clients/cli_00000000000000000000000000",
            404,
        ),
    ];
    for (method, path, status) in cases {
        let r = api.call(method.clone(), path, t, None).await;
        r.problem(status, &format!("{method} {path}"));
    }
    // Every response carries a request id and the security headers.
    let r = api
        .get("/api/v1/clients/cli_00000000000000000000000000", t)
        .await;
    assert!(r
        .header("x-request-id")
        .is_some_and(|v| v.starts_with("req_")));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    app.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let post = |key: Option<&'static str>, body: Value| {
        let mut rb = api.request(Method::POST, "/api/v1/clients", t).json(&body);
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        api.send(rb)
    };
    let clients = || {
        count(
            &app,
            "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
            &app.agency.id,
        )
    };

    let first = post(Some("create-acme-1"), json!({"name": "Acme"})).await;
    first.expect(201, "first");
    let id = first.id();
    let before_retry = trail(&app, &app.agency.id).await;
    let retry = post(Some("create-acme-1"), json!({"name": "Acme"})).await;
    retry.expect(201, "retry");
    assert_eq!(retry.text, first.text, "the same body, byte for byte");
    assert_eq!(retry.id(), id);
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    assert!(retry.content_type().starts_with("application/json"));
    assert!(first.header("idempotency-replayed").is_none());
    assert_eq!(clients().await, 1, "one client for two requests");
    assert_eq!(
        trail(&app, &app.agency.id).await,
        before_retry,
        "a replay writes nothing"
    );

    // The same key with another body is refused and changes nothing.
    let other = post(Some("create-acme-1"), json!({"name": "Acme 2"})).await;
    other.problem(422, "same key, different body");
    assert!(other.body["detail"].as_str().unwrap().contains("key"));
    assert_eq!(clients().await, 1);
    // Another route with the same key is another request, too.
    let r = api
        .send(
            api.request(Method::POST, &format!("/api/v1/clients/{id}/events"), t)
                .header("idempotency-key", "create-acme-1")
                .json(&json!({"name": "Acme"})),
        )
        .await;
    r.problem(422, "same key, other path");

    // Without a key, two requests are two clients.
    post(None, json!({"name": "Twice"})).await.expect(201, "a");
    post(None, json!({"name": "Twice"})).await.expect(201, "b");
    assert_eq!(clients().await, 3);

    // A new key is a new request.
    let r = post(Some("create-acme-2"), json!({"name": "Acme"})).await;
    r.expect(201, "new key");
    assert_ne!(r.id(), id);
    assert_eq!(clients().await, 4);

    // Keys belong to the member: another member's same key is independent.
    let other = app.other_agency("admin@rival.test").await;
    let r = api
        .send(
            api.request(Method::POST, "/api/v1/clients", &other.token)
                .header("idempotency-key", "create-acme-1")
                .json(&json!({"name": "Acme"})),
        )
        .await;
    r.expect(201, "other member, same key");
    assert_ne!(r.id(), id);

    // Bad keys are refused.
    for key in [" ", "tab\tkey", &"k".repeat(256)] {
        let r = api
            .send(
                api.request(Method::POST, "/api/v1/clients", t)
                    .header("idempotency-key", key)
                    .json(&json!({"name": "Bad key"})),
            )
            .await;
        r.problem(422, &format!("key {key:?}"));
    }
    assert_eq!(clients().await, 4);
    app.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_replays_events_too() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Events").await;
    let path = format!("/api/v1/clients/{client}/events");
    let send = || {
        api.send(
            api.request(Method::POST, &path, t)
                .header("idempotency-key", "sign-once")
                .json(&json!({"type": "contract_signed"})),
        )
    };
    let a = send().await;
    a.expect(201, "first");
    // Without the key, signing twice is an impossible move (409); with it,
    // the retry is the first answer.
    let b = send().await;
    b.expect(201, "replay");
    assert_eq!(a.id(), b.id());
    let signed: Vec<_> = api
        .client_events(t, &client)
        .await
        .into_iter()
        .filter(|e| e["type"] == "contract_signed")
        .collect();
    assert_eq!(signed.len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn openapi_is_3_1_with_every_route_and_unique_operation_ids() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let r = api.get("/api/openapi.json", "").await;
    r.expect(200, "openapi");
    assert!(r.content_type().starts_with("application/json"));
    let doc = &r.body;
    let version = doc["openapi"].as_str().expect("openapi field");
    assert!(version.starts_with("3.1"), "{version}");
    assert_eq!(doc["info"]["title"], "Baton API");

    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = BTreeSet::new();
    let mut ids = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            documented.insert((method.clone(), path.clone()));
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            ids.push(id.to_string());
            assert!(
                id.chars().next().unwrap().is_ascii_lowercase()
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "camelCase operation id: {id}"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}"
            );
            assert!(
                op["security"].is_array(),
                "{method} {path} documents its security"
            );
        }
    }
    let routed: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented, routed,
        "documented operations = routed operations"
    );
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // And every routed operation is really served (not the 404 fallback).
    let t = &app.agency.token;
    for (m, p) in OPERATIONS {
        let path = p
            .replace("{id}", "x")
            .replace("{key}", "x")
            .replace("{delivery}", "x");
        let r = api
            .call(
                m.to_uppercase().parse().unwrap(),
                &path,
                t,
                Some(&json!({})),
            )
            .await;
        assert_ne!(r.status, 405, "{m} {p} is routed");
        if r.status == 404 {
            assert!(p.contains('{'), "{m} {p} is routed: {}", r.text);
        }
    }
    app.shutdown().await;
}

/// The document says what the server does: parameters where they are sent,
/// every status the layers answer, problem+json errors, the real content
/// types of a download.
#[tokio::test]
async fn openapi_tells_the_truth() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let doc = api.get("/api/openapi.json", "").await.body;
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["type"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().unwrap();
            let documents = |status: &str| responses.contains_key(status);
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"] == "path",
                    in_template,
                    "{at}: parameter {name} is `in: {}`",
                    p["in"]
                );
                if p["in"] == "path" {
                    assert_eq!(p["required"], true, "{at}: {name}");
                }
            }
            // The inbound endpoint takes signed posts without a token: no
            // 403, no Idempotency-Key (replays are told apart by webhook-id).
            let public = op["security"].as_array().is_some_and(|s| s.is_empty());
            assert_eq!(public, path == "/api/v1/inbound/{id}", "{at}");
            let statuses: &[&str] = if public { &["401"] } else { &["401", "403"] };
            for status in statuses {
                assert!(documents(status), "{at} documents {status}");
            }
            if path.contains('{') {
                assert!(documents("404"), "{at} documents 404");
            }
            let body_types: Vec<&String> = op["requestBody"]["content"]
                .as_object()
                .map(|c| c.keys().collect())
                .unwrap_or_default();
            if body_types.iter().any(|t| *t == "application/json") {
                for status in ["400", "413", "415", "422"] {
                    assert!(documents(status), "{at} reads JSON: documents {status}");
                }
            }
            if method == "post" && !public {
                let key = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"] == "Idempotency-Key")
                    .unwrap_or_else(|| panic!("{at} documents Idempotency-Key"));
                assert_eq!(key["in"], "header");
                assert_eq!(key["required"], false);
                assert!(documents("409") && documents("422"), "{at}");
            }
            for (status, r) in responses {
                if status.starts_with('4') && !["304", "412", "416"].contains(&status.as_str()) {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{at} {status} is problem+json"
                    );
                }
            }
        }
    }
    // Optional bodies are not required.
    for (path, method) in [
        ("/api/v1/access-requests/{id}/grant", "post"),
        ("/api/v1/access-requests/{id}/revoke", "post"),
        ("/api/v1/onboarding-links/{id}/regenerate", "post"),
        ("/api/v1/content/{id}/approval-link", "post"),
    ] {
        let body = &doc["paths"][path][method]["requestBody"];
        assert_ne!(
            body["required"], true,
            "{method} {path}: the body is optional"
        );
    }
    // Query parameters carry the constraints the server enforces.
    let clients = &doc["paths"]["/api/v1/clients"]["get"]["parameters"];
    let param = |name: &str| {
        clients
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    assert_eq!(param("limit")["schema"]["minimum"], 1);
    assert_eq!(param("limit")["schema"]["maximum"], 200);
    let stages = param("lifecycle")["schema"]["enum"].clone();
    assert!(
        stages.as_array().unwrap().contains(&json!("offboarding")),
        "{stages}"
    );
    // A draft is served in its own type, with ranges.
    let download = &doc["paths"]["/api/v1/content/{id}/versions/{n}/file"]["get"]["responses"];
    for status in ["200", "206"] {
        let types: Vec<&String> = download[status]["content"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(types, ["*/*"], "download {status}");
    }
    assert!(
        download["416"].is_object(),
        "an unsatisfiable range is documented"
    );
    // Request bodies state the rules the server checks.
    let schemas = &doc["components"]["schemas"];
    let brief = &schemas["HandoffBrief"];
    assert!(
        brief["required"].as_array().is_none_or(|r| r.is_empty()),
        "every field of a handoff brief may be left out: {}",
        brief["required"]
    );
    assert_eq!(
        brief["additionalProperties"], false,
        "unknown fields are refused"
    );
    let event_types = schemas["PostEvent"]["properties"]["type"]["enum"].clone();
    assert!(
        event_types
            .as_array()
            .unwrap()
            .contains(&json!("contract_signed")),
        "{event_types}"
    );
    let link = &schemas["CreateLink"]["properties"]["expires_in_days"];
    assert_eq!(
        (link["minimum"].clone(), link["maximum"].clone()),
        (json!(1), json!(365))
    );
    let approval = &schemas["ApprovalLinkIn"]["properties"]["expires_in_days"];
    assert_eq!(approval["maximum"], 90);
    assert_eq!(
        schemas["OnboardingSettingsPatch"]["properties"]["link_expiry_days"]["minimum"],
        1
    );
    let sla = &schemas["SopIn"]["properties"]["sla"]["oneOf"];
    assert_eq!(
        sla.as_array().map(Vec::len),
        Some(2),
        "one SLA shape per unit: {sla}"
    );
    assert_eq!(schemas["ContentIn"]["properties"]["title"]["minLength"], 1);
    assert!(schemas["ScheduleIn"]["properties"]["publish_at"]["format"] == "date-time");
    app.shutdown().await;
}

/// An integer field takes a whole number however JSON writes it (`14.0`),
/// as JSON Schema's `integer` (and so the OpenAPI document) says; a
/// fraction is still a 422.
#[tokio::test]
async fn whole_numbers_written_as_decimals_are_integers() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let r = api
        .patch(
            "/api/v1/agency/onboarding",
            t,
            json!({"link_expiry_days": 45.0, "reminder_max": 3e0}),
        )
        .await;
    r.expect(200, "45.0 days");
    assert_eq!(r.body["link_expiry_days"], 45);
    assert_eq!(r.body["reminder_max"], 3);
    let r = api
        .patch(
            "/api/v1/agency/onboarding",
            t,
            json!({"link_expiry_days": 45.5}),
        )
        .await;
    r.problem(422, "a fraction of a day");
    assert!(r.text.contains("not a whole number"), "{}", r.text);
    api.patch(
        "/api/v1/agency/onboarding",
        t,
        json!({"reminder_max": -1.0}),
    )
    .await
    .problem(422, "out of range for a count");
    app.shutdown().await;
}

#[tokio::test]
async fn garbage_ids_in_queries_and_paths_never_500() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.create_client(t, "Safe").await;
    // A well-formed id of another kind names nothing either (typed ids
    // refuse it while the request is read).
    let member = api.get("/api/v1/me", t).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/api/v1/clients/{member}"),
        format!("/api/v1/content/{member}"),
        format!("/api/v1/sop-runs/{member}"),
    ] {
        api.get(&path, t).await.problem(404, &path);
    }
    let nasty = [
        "cli_' OR 1=1 --",
        "cli_\"; DROP TABLE clients; --",
        "%00",
        "../../etc/passwd",
        "cli_東京",
        "🚀",
        &"a".repeat(4000),
    ];
    for id in nasty {
        let e = enc(id);
        for path in [
            format!("/api/v1/clients/{e}"),
            format!("/api/v1/members/{e}"),
            format!("/api/v1/events?client={e}"),
            format!("/api/v1/platforms/{e}"),
            format!("/api/v1/onboarding-links/{e}"),
            format!("/api/v1/access-requests/{e}"),
            format!("/api/v1/clients/{e}/access-requests"),
            format!("/api/v1/clients/{e}/kpis"),
            format!("/api/v1/clients/{e}/onboarding-links"),
            format!("/api/v1/clients/{e}/handoff"),
            format!("/api/v1/sops/{e}"),
            format!("/api/v1/sops/{e}/versions"),
            format!("/api/v1/sop-runs/{e}"),
            format!("/api/v1/content/{e}"),
            format!("/api/v1/content/{e}/qa"),
            format!("/api/v1/clients/{e}/content"),
        ] {
            api.get(&path, t).await.problem(404, &path);
        }
        let runs = api.get(&format!("/api/v1/sop-runs?client={e}"), t).await;
        runs.expect(200, "an unknown client filter is an empty list");
        assert!(runs.items().is_empty());
        api.get(&format!("/api/v1/events?type={e}"), t)
            .await
            .expect(200, "an unknown type filter is an empty list");
        api.get(&format!("/api/v1/clients?lifecycle={e}"), t)
            .await
            .problem(422, "lifecycle filter");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
            &app.agency.id
        )
        .await,
        1
    );
    app.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_is_not_spent_by_a_refused_request() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let post = |body: serde_json::Value| {
        api.send(
            api.request(Method::POST, "/api/v1/clients", t)
                .header("idempotency-key", "fix-and-retry")
                .json(&body),
        )
    };
    post(json!({"name": ""})).await.problem(422, "empty name");
    let fixed = post(json!({"name": "Fixed"})).await;
    fixed.expect(201, "the corrected retry runs");
    let again = post(json!({"name": "Fixed"})).await;
    again.expect(201, "and is then replayed");
    assert_eq!(fixed.id(), again.id());
    app.shutdown().await;
}

/// Eight identical requests with one key, all at once: exactly one write,
/// and every request gets the first one's answer (on whichever engine the
/// suite runs: SQLite's single writer, PostgreSQL's unique claim).
#[tokio::test]
async fn idempotency_key_is_exactly_once_under_concurrency() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    const N: usize = 8;

    async fn burst(api: &Api, t: &str, path: &str, key: &str, body: Value) -> Vec<common::Resp> {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
        let mut sends = tokio::task::JoinSet::new();
        for _ in 0..N {
            let barrier = barrier.clone();
            let api = api.clone();
            let rb = api
                .request(Method::POST, path, t)
                .header("idempotency-key", key)
                .json(&body);
            sends.spawn(async move {
                barrier.wait().await;
                api.send(rb).await
            });
        }
        let mut answers = Vec::new();
        while let Some(r) = sends.join_next().await {
            answers.push(r.expect("request task"));
        }
        answers
    }

    let created = burst(
        &api,
        &t,
        "/api/v1/clients",
        "burst-1",
        json!({"name": "Burst"}),
    )
    .await;
    let first = &created[0];
    for r in &created {
        r.expect(201, "every duplicate gets the first answer");
        assert_eq!(r.text, first.text, "byte for byte");
    }
    let replayed = created
        .iter()
        .filter(|r| r.header("idempotency-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, N - 1, "one request wrote, the others replayed");
    let clients = count(
        &app,
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(clients, 1, "one client for {N} concurrent requests");
    let id = first.id();
    let created_events = count(
        &app,
        "SELECT COUNT(*) FROM events WHERE client_id = $1 AND type = 'client.created'",
        &id,
    )
    .await;
    assert_eq!(created_events, 1, "one event");

    // An event that would be refused the second time (signing twice is an
    // impossible move) is answered with the first answer, not a 409.
    let path = format!("/api/v1/clients/{id}/events");
    let signed = burst(
        &api,
        &t,
        &path,
        "sign-burst",
        json!({"type": "contract_signed"}),
    )
    .await;
    for r in &signed {
        r.expect(201, "signing, at once");
        assert_eq!(r.id(), signed[0].id());
    }
    let contract_events = count(
        &app,
        "SELECT COUNT(*) FROM events WHERE client_id = $1 AND type = 'contract_signed'",
        &id,
    )
    .await;
    assert_eq!(contract_events, 1, "one contract_signed event");
    app.shutdown().await;
}
