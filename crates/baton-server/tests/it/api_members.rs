//! `/api/v1/members` and `/api/v1/me`: inviting, reading and changing the
//! agency's team; only admins change it.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use common::{trail, Api};
use serde_json::json;

#[tokio::test]
async fn an_admin_invites_a_member() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let r = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": "  Pat@Northwind.TEST ", "name": "Pat Manager", "roles": ["project_manager", "ops"]}),
        )
        .await;
    r.expect(201, "create member");
    let id = r.id();
    assert!(id.starts_with("mem_"), "{id}");
    assert_eq!(
        r.body["email"], "pat@northwind.test",
        "emails are normalised"
    );
    assert_eq!(r.body["name"], "Pat Manager");
    assert_eq!(r.body["roles"], json!(["project_manager", "ops"]));
    assert_eq!(r.body["is_admin"], false);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["has_password"], false);
    let invite = r.body["invite_url"].as_str().expect("invite_url");
    assert!(
        invite.starts_with(&format!("{}/invite/", app.address)),
        "built from the public URL: {invite}"
    );
    assert!(invite.len() > format!("{}/invite/", app.address).len() + 20);

    let g = api.get(&format!("/api/v1/members/{id}"), t).await;
    g.expect(200, "get member");
    assert_eq!(g.body["email"], "pat@northwind.test");
    assert!(
        g.body.get("invite_url").is_none(),
        "the invite is shown once"
    );

    let list = api.get("/api/v1/members", t).await;
    list.expect(200, "list");
    let emails: Vec<_> = list.items().iter().map(|m| m["email"].clone()).collect();
    assert!(emails.contains(&json!("pat@northwind.test")));
    assert!(emails.contains(&json!("admin@northwind.test")));
    assert_eq!(emails.len(), 2);
    assert!(list
        .items()
        .iter()
        .all(|m| m.get("password_hash").is_none()));

    let p = api
        .patch(
            &format!("/api/v1/members/{id}"),
            t,
            json!({"name": "Pat M.", "roles": ["designer"]}),
        )
        .await;
    p.expect(200, "patch member");
    assert_eq!(p.body["name"], "Pat M.");
    assert_eq!(p.body["roles"], json!(["designer"]));

    let me = api.get("/api/v1/me", t).await;
    me.expect(200, "me");
    assert_eq!(me.body["id"], app.agency.admin.id.as_str());
    assert_eq!(me.body["is_admin"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn only_admin_scope_adds_or_changes_members() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let admin = &app.agency.token;
    let write = api.token(admin, "write").await;
    let read = api.token(admin, "read").await;
    let before = trail(&app, &app.agency.id).await;
    let body = json!({"email": "x@northwind.test", "name": "X", "roles": []});
    for (scope, token) in [("write", &write), ("read", &read)] {
        let r = api.post("/api/v1/members", token, body.clone()).await;
        r.problem(403, &format!("{scope} token creates a member"));
        assert!(
            r.body["detail"].as_str().unwrap().contains("admin"),
            "{}",
            r.text
        );
        api.patch(
            &format!("/api/v1/members/{}", app.agency.admin.id),
            token,
            json!({"name": "Renamed"}),
        )
        .await
        .problem(403, &format!("{scope} token patches a member"));
        // Reading the team is fine.
        api.get("/api/v1/members", token).await.expect(200, scope);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let r = api.get("/api/v1/members", admin).await;
    assert_eq!(r.items().len(), 1, "nobody was added");

    // A member who is not an admin cannot add people or mint admin tokens,
    // whatever token they hold.
    let m = api
        .post(
            "/api/v1/members",
            admin,
            json!({"email": "nonadmin@northwind.test", "name": "Non Admin", "roles": ["designer"]}),
        )
        .await;
    m.expect(201, "member");
    let member = baton_store::members::get(&app.state.db, &app.agency.id, &m.id())
        .await
        .unwrap();
    let (_, secret) = baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &member.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &member,
        "designer's script",
        baton_store::tokens::Scope::Write,
    )
    .await
    .unwrap();
    api.post("/api/v1/members", &secret, body.clone())
        .await
        .problem(403, "non-admin creates a member");
    api.post(
        "/api/v1/tokens",
        &secret,
        json!({"name": "escalate", "scope": "admin"}),
    )
    .await
    .problem(403, "non-admin mints an admin token");
    api.get("/api/v1/audit", &secret)
        .await
        .problem(403, "non-admin reads the audit log");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_member_input_is_422() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.post(
        "/api/v1/members",
        t,
        json!({"email": "taken@northwind.test", "name": "Taken", "roles": []}),
    )
    .await
    .expect(201, "first");
    let before = trail(&app, &app.agency.id).await;
    let cases = [
        (
            "bad email",
            json!({"email": "not-an-email", "name": "N", "roles": []}),
        ),
        (
            "email without domain dot",
            json!({"email": "a@b", "name": "N", "roles": []}),
        ),
        (
            "empty name",
            json!({"email": "n@northwind.test", "name": "", "roles": []}),
        ),
        (
            "whitespace name",
            json!({"email": "n@northwind.test", "name": "   ", "roles": []}),
        ),
        (
            "long name",
            json!({"email": "n@northwind.test", "name": "n".repeat(10_000), "roles": []}),
        ),
        (
            "unknown role",
            json!({"email": "n@northwind.test", "name": "N", "roles": ["wizard"]}),
        ),
        (
            "roles not a list",
            json!({"email": "n@northwind.test", "name": "N", "roles": "designer"}),
        ),
        ("missing email", json!({"name": "N"})),
        (
            "unknown field",
            json!({"email": "n@northwind.test", "name": "N", "password": "hunter2hunter2"}),
        ),
        (
            "duplicate email",
            json!({"email": "TAKEN@northwind.test", "name": "Again", "roles": []}),
        ),
        (
            "the admin's email",
            json!({"email": "admin@northwind.test", "name": "Again", "roles": []}),
        ),
    ];
    for (what, body) in cases {
        api.post("/api/v1/members", t, body)
            .await
            .problem(422, what);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let r = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": "taken@northwind.test", "name": "Again"}),
        )
        .await;
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("taken@northwind.test") && !detail.starts_with(':'),
        "a readable detail: {detail:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_last_admin_stays_and_deactivation_revokes_tokens() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    for (what, body) in [
        ("demote the last admin", json!({"is_admin": false})),
        ("deactivate the last admin", json!({"active": false})),
    ] {
        api.patch(&format!("/api/v1/members/{admin}"), t, body)
            .await
            .problem(409, what);
    }
    let g = api.get(&format!("/api/v1/members/{admin}"), t).await;
    assert_eq!(g.body["is_admin"], true);
    assert_eq!(g.body["active"], true);

    // A second admin, with a token of their own, then deactivated.
    let second = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": "second@northwind.test", "name": "Second", "roles": [], "is_admin": true}),
        )
        .await;
    second.expect(201, "second admin");
    assert_eq!(second.body["is_admin"], true);
    let second_id = second.id();
    let member = baton_store::members::get(&app.state.db, &app.agency.id, &second_id)
        .await
        .unwrap();
    let (_, secret) = baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &member.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &member,
        "second's script",
        baton_store::tokens::Scope::Write,
    )
    .await
    .unwrap();
    api.get("/api/v1/me", &secret)
        .await
        .expect(200, "second's token works");
    let p = api
        .patch(
            &format!("/api/v1/members/{second_id}"),
            t,
            json!({"active": false}),
        )
        .await;
    p.expect(200, "deactivate");
    assert_eq!(p.body["active"], false);
    let r = api.get("/api/v1/me", &secret).await;
    r.problem(401, "a deactivated member's token");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    app.shutdown().await;
}

#[tokio::test]
async fn members_page_with_a_cursor() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for i in 0..6 {
        api.post(
            "/api/v1/members",
            t,
            json!({"email": format!("m{i}@northwind.test"), "name": format!("M {i}"), "roles": []}),
        )
        .await
        .expect(201, "member");
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/members?limit=4".to_string();
    loop {
        let r = api.get(&path, t).await;
        r.expect(200, &path);
        seen.extend(
            r.items()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/members?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ordered, each once");
    app.shutdown().await;
}
