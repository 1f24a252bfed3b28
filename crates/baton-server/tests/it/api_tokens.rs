//! Bearer authentication and `/api/v1/tokens`: scopes, the secret shown once,
//! revocation.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use common::{trail, Api};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn missing_or_invalid_bearer_tokens_are_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let valid = app.agency.token.clone();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("empty bearer", Some("Bearer ".into())),
        ("bearer without space", Some(format!("Bearer{valid}"))),
        (
            "unknown bt_ token",
            Some("Bearer bt_thisisnotarealtokenatall".into()),
        ),
        (
            "token without prefix",
            Some(format!("Bearer {}", valid.trim_start_matches("bt_"))),
        ),
        ("basic auth", Some("Basic YWRtaW46cGFzc3dvcmQ=".into())),
        ("raw token", Some(valid.clone())),
        ("sql in token", Some("Bearer bt_' OR '1'='1".into())),
    ];
    let routes = [
        (Method::GET, "/api/v1/clients"),
        (Method::POST, "/api/v1/clients"),
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/audit"),
        (
            Method::DELETE,
            "/api/v1/tokens/tok_00000000000000000000000000",
        ),
        (Method::GET, "/api/v1/no-such-route"),
    ];
    for (what, header) in &cases {
        for (method, path) in &routes {
            let mut rb = api.request(method.clone(), path, "");
            if let Some(h) = header {
                rb = rb.header("authorization", h);
            }
            let r = api.send(rb.json(&json!({"name": "Sneaky"}))).await;
            r.problem(401, &format!("{what}: {method} {path}"));
            assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
            assert_eq!(r.body["type"], "https://baton.dev/problems/unauthorized");
        }
    }
    let r = api.get("/api/v1/clients", "").await;
    assert!(r.body["detail"].as_str().unwrap().contains("Bearer"));
    let n = common::count(
        &app,
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(n, 0, "nothing was created without a valid token");
    // The lower-case scheme is accepted too.
    let r = api
        .send(
            api.request(Method::GET, "/api/v1/me", "")
                .header("authorization", format!("bearer {valid}")),
        )
        .await;
    r.expect(200, "lower-case bearer");
    app.shutdown().await;
}

#[tokio::test]
async fn a_read_token_reads_but_never_writes() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let admin = app.agency.token.clone();
    let client = api.create_client(&admin, "Readable").await;
    let admin_token_id = api.get("/api/v1/tokens", &admin).await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let read = api.token(&admin, "read").await;
    assert!(read.starts_with("bt_"), "secrets carry the bt_ prefix");

    for path in [
        "/api/v1/clients".to_string(),
        format!("/api/v1/clients/{client}"),
        "/api/v1/events".to_string(),
        format!("/api/v1/events?client={client}"),
        "/api/v1/members".to_string(),
        "/api/v1/me".to_string(),
        "/api/v1/tokens".to_string(),
        "/api/v1/agency".to_string(),
    ] {
        api.get(&path, &read).await.expect(200, &path);
    }

    let before = trail(&app, &app.agency.id).await;
    let admin_id = app.agency.admin.id.clone();
    let writes = [
        (
            Method::POST,
            "/api/v1/clients".to_string(),
            Some(json!({"name": "Nope"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/clients/{client}"),
            Some(json!({"name": "Nope"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/clients/{client}/team"),
            Some(json!({"members": [], "traffic_control": admin_id})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{client}/events"),
            Some(json!({"type": "contract_signed"})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{client}/archive"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/members".to_string(),
            Some(json!({"email": "a@b.co", "name": "A", "roles": []})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{admin_id}"),
            Some(json!({"name": "Nope"})),
        ),
        (
            Method::PATCH,
            "/api/v1/agency".to_string(),
            Some(json!({"name": "Nope"})),
        ),
        (
            Method::POST,
            "/api/v1/tokens".to_string(),
            Some(json!({"name": "w", "scope": "write"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{admin_token_id}"),
            None,
        ),
        (Method::GET, "/api/v1/audit".to_string(), None),
    ];
    for (method, path, body) in writes {
        let r = api.call(method.clone(), &path, &read, body.as_ref()).await;
        r.problem(403, &format!("read token: {method} {path}"));
        assert_eq!(r.body["type"], "https://baton.dev/problems/forbidden");
    }
    assert_eq!(
        trail(&app, &app.agency.id).await,
        before,
        "refusals write nothing"
    );
    let g = api.get(&format!("/api/v1/clients/{client}"), &admin).await;
    assert_eq!(g.body["name"], "Readable");
    assert_eq!(g.body["lifecycle"], "won");
    api.get("/api/v1/me", &admin)
        .await
        .expect(200, "the admin token still works");

    // A read token may mint another read token for its member.
    let r = api
        .post(
            "/api/v1/tokens",
            &read,
            json!({"name": "another reader", "scope": "read"}),
        )
        .await;
    r.expect(201, "read mints read");
    app.shutdown().await;
}

#[tokio::test]
async fn a_write_token_writes_but_is_not_an_admin() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let admin = app.agency.token.clone();
    let write = api.token(&admin, "write").await;
    let client = api.create_client(&write, "Written").await;
    api.event(&write, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "write posts events");
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/members",
            Some(json!({"email": "a@b.co", "name": "A", "roles": []})),
        ),
        (
            Method::PATCH,
            "/api/v1/agency",
            Some(json!({"name": "Mine now"})),
        ),
        (Method::GET, "/api/v1/audit", None),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "escalate", "scope": "admin"})),
        ),
    ] {
        api.call(method.clone(), path, &write, body.as_ref())
            .await
            .problem(403, &format!("write token: {method} {path}"));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn tokens_are_shown_once_listed_and_revoked() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let admin = app.agency.token.clone();
    let r = api
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "Zapier", "scope": "write"}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    let secret = r.body["token"].as_str().unwrap().to_string();
    assert!(id.starts_with("tok_"));
    assert!(secret.starts_with("bt_") && secret.len() > 30, "{secret}");
    assert_eq!(r.body["scope"], "write");
    assert_eq!(r.body["name"], "Zapier");
    assert_eq!(r.body["revoked_at"], json!(null));

    let list = api.get("/api/v1/tokens", &admin).await;
    list.expect(200, "list");
    assert_eq!(list.items().len(), 2);
    assert!(!list.text.contains(&secret), "the secret is never listed");
    assert!(list
        .items()
        .iter()
        .all(|t| t.get("token").is_none() && t.get("token_hash").is_none()));
    // Nor stored in clear.
    let stored = common::count(
        &app,
        "SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
        &secret,
    )
    .await;
    assert_eq!(stored, 0);

    api.get("/api/v1/me", &secret).await.expect(200, "works");
    let d = api.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
    d.expect(200, "revoke");
    assert!(d.body["revoked_at"].is_string());
    let r = api.get("/api/v1/me", &secret).await;
    r.problem(401, "revoked token");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // Revoking again is a no-op, not an error.
    api.delete(&format!("/api/v1/tokens/{id}"), &admin)
        .await
        .expect(200, "revoke twice");

    for (what, body) in [
        ("unknown scope", json!({"name": "x", "scope": "root"})),
        ("empty name", json!({"name": " ", "scope": "read"})),
        ("missing scope", json!({"name": "x"})),
    ] {
        api.post("/api/v1/tokens", &admin, body)
            .await
            .problem(422, what);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_write_token_cannot_see_or_revoke_someone_elses_token() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let admin = app.agency.token.clone();
    let admin_token_id = api.get("/api/v1/tokens", &admin).await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = api
        .post(
            "/api/v1/members",
            &admin,
            json!({"email": "w@northwind.test", "name": "Writer", "roles": ["copywriter"]}),
        )
        .await;
    let member = baton_store::members::get(&app.state.db, &app.agency.id, &m.id())
        .await
        .unwrap();
    let (own, secret) = baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &member.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &member,
        "writer's script",
        baton_store::tokens::Scope::Write,
    )
    .await
    .unwrap();
    let list = api.get("/api/v1/tokens", &secret).await;
    let ids: Vec<_> = list.items().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(ids, vec![json!(own.id)], "only their own tokens");
    api.delete(&format!("/api/v1/tokens/{admin_token_id}"), &secret)
        .await
        .problem(404, "someone else's token");
    api.get("/api/v1/me", &admin)
        .await
        .expect(200, "still live");
    api.delete(&format!("/api/v1/tokens/{}", own.id), &secret)
        .await
        .expect(200, "own token");
    app.shutdown().await;
}
