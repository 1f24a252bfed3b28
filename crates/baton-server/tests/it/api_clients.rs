//! `/api/v1/clients`: create, read, update, list with cursor pagination, the
//! account team, and the input rules of names.

use crate::common;

use std::collections::HashSet;

use baton_server::testing::TestApp;
use common::{enc, ms, now_ms, trail, Api, Trail};
use serde_json::json;

#[tokio::test]
async fn create_get_and_patch_a_client() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let before = now_ms();

    let r = api
        .post(
            "/api/v1/clients",
            t,
            json!({"name": "  Acme Coffee  ", "website": "https://acme.example", "notes": "Roasters"}),
        )
        .await;
    r.expect(201, "create");
    assert!(r.content_type().starts_with("application/json"));
    let id = r.id();
    assert!(id.starts_with("cli_"), "{id}");
    assert_eq!(id.len(), 30, "{id}");
    assert_eq!(r.body["name"], "Acme Coffee", "names are trimmed");
    assert_eq!(r.body["lifecycle"], "won");
    assert_eq!(r.body["website"], "https://acme.example");
    assert_eq!(r.body["notes"], "Roasters");
    assert_eq!(r.body["archived_at"], json!(null));
    assert_eq!(r.body["team"], json!([]));
    let created = ms(&r.body["created_at"]);
    assert!(created >= before - 1000 && created <= now_ms() + 1000);

    let g = api.get(&format!("/api/v1/clients/{id}"), t).await;
    g.expect(200, "get");
    assert_eq!(g.body["id"], id.as_str());
    assert_eq!(g.body["name"], "Acme Coffee");

    let p = api
        .patch(
            &format!("/api/v1/clients/{id}"),
            t,
            json!({"name": "Acme Coffee Roasters", "website": ""}),
        )
        .await;
    p.expect(200, "patch");
    assert_eq!(p.body["name"], "Acme Coffee Roasters");
    assert_eq!(p.body["website"], json!(null), "empty string clears");
    assert_eq!(p.body["notes"], "Roasters", "untouched fields stay");

    let g = api.get(&format!("/api/v1/clients/{id}"), t).await;
    assert_eq!(g.body["name"], "Acme Coffee Roasters");
    assert_eq!(g.body["website"], json!(null));

    let list = api.get("/api/v1/clients", t).await;
    list.expect(200, "list");
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["id"], id.as_str());
    assert_eq!(list.body["next_cursor"], json!(null));
    assert!(
        list.body.get("next_cursor").is_some(),
        "next_cursor is always present"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn pagination_walks_120_clients_each_exactly_once() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let mut created = HashSet::new();
    for i in 0..120 {
        created.insert(api.create_client(t, &format!("Client {i:03}")).await);
    }
    assert_eq!(created.len(), 120);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/clients?limit=50".to_string(),
            Some(c) => format!("/api/v1/clients?limit=50&cursor={}", enc(c)),
        };
        let r = api.get(&path, t).await;
        r.expect(200, &path);
        sizes.push(r.items().len());
        seen.extend(
            r.items()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(sizes.len() < 10, "pagination does not end");
    }
    assert_eq!(sizes, vec![50, 50, 20]);
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 120, "every client once");
    assert_eq!(unique, created, "exactly the created clients");

    // The default page size is 50.
    let r = api.get("/api/v1/clients", t).await;
    assert_eq!(r.items().len(), 50);
    assert!(r.body["next_cursor"].is_string());
    app.shutdown().await;
}

#[tokio::test]
async fn list_filters_by_lifecycle() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let won = api.create_client(t, "Still won").await;
    let signed = api.create_client(t, "Signed").await;
    api.event(t, &signed, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    for (stage, want) in [("won", &won), ("onboarding", &signed)] {
        let r = api
            .get(&format!("/api/v1/clients?lifecycle={stage}"), t)
            .await;
        r.expect(200, stage);
        let ids: Vec<_> = r.items().iter().map(|c| c["id"].clone()).collect();
        assert_eq!(ids, vec![json!(want)], "{stage}");
    }
    let r = api.get("/api/v1/clients?lifecycle=active", t).await;
    assert!(r.items().is_empty());
    api.get("/api/v1/clients?lifecycle=paused", t)
        .await
        .problem(422, "unknown lifecycle");
    app.shutdown().await;
}

#[tokio::test]
async fn unicode_and_sql_looking_names_are_stored_verbatim() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let names = [
        "Zoë's Café 東京 🚀",
        "Robert'); DROP TABLE clients;--",
        "\" OR \"1\"=\"1",
        "<script>alert(1)</script>",
        "%s %n {{name}} ${name}",
    ];
    let mut ids = Vec::new();
    for name in names {
        let r = api
            .post("/api/v1/clients", t, json!({ "name": name }))
            .await;
        r.expect(201, name);
        assert_eq!(r.body["name"], name);
        ids.push(r.id());
    }
    for (id, name) in ids.iter().zip(names) {
        let g = api.get(&format!("/api/v1/clients/{id}"), t).await;
        g.expect(200, name);
        assert_eq!(g.body["name"], name);
    }
    let list = api.get("/api/v1/clients", t).await;
    let listed: HashSet<_> = list
        .items()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, names.iter().map(|n| n.to_string()).collect());
    // The clients table survived the SQL-looking name.
    let n = common::count(
        &app,
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(n, names.len() as i64);
    // Unicode in a patch, too.
    let p = api
        .patch(
            &format!("/api/v1/clients/{}", ids[0]),
            t,
            json!({"notes": "Ünïcödé ✓\nsecond line"}),
        )
        .await;
    p.expect(200, "unicode notes");
    assert_eq!(p.body["notes"], "Ünïcödé ✓\nsecond line");
    app.shutdown().await;
}

#[tokio::test]
async fn names_are_checked_and_bad_ones_write_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let long = "x".repeat(10_000);
    let just_over = "é".repeat(201);
    let cases = [
        ("empty name", json!({"name": ""})),
        ("whitespace-only name", json!({"name": "   \t  "})),
        ("10,000-character name", json!({ "name": long })),
        ("201-character name", json!({ "name": just_over })),
        ("control character", json!({"name": "bell\u{7}name"})),
        (
            "bad website",
            json!({"name": "ok", "website": "javascript:alert(1)"}),
        ),
        (
            "unknown traffic control",
            json!({"name": "ok", "traffic_control": "mem_00000000000000000000000000"}),
        ),
    ];
    let before = trail(&app, &app.agency.id).await;
    for (what, body) in cases {
        let r = api.post("/api/v1/clients", t, body).await;
        r.problem(422, what);
    }
    assert_eq!(
        trail(&app, &app.agency.id).await,
        before,
        "refused input writes nothing"
    );
    let r = api.get("/api/v1/clients", t).await;
    assert!(r.items().is_empty());

    // Exactly 200 characters (not bytes) is fine.
    let max = "é".repeat(200);
    let r = api.post("/api/v1/clients", t, json!({ "name": max })).await;
    r.expect(201, "200-character name");
    assert_eq!(r.body["name"], max.as_str());
    let id = r.id();

    // The same rules on PATCH, and the client is unchanged after.
    for (what, body) in [
        ("empty name", json!({"name": ""})),
        ("whitespace-only name", json!({"name": "  "})),
        ("10,000-character name", json!({ "name": long })),
    ] {
        api.patch(&format!("/api/v1/clients/{id}"), t, body)
            .await
            .problem(422, what);
    }
    let g = api.get(&format!("/api/v1/clients/{id}"), t).await;
    assert_eq!(g.body["name"], max.as_str());
    app.shutdown().await;
}

#[tokio::test]
async fn the_account_team_and_traffic_control() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let pm = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": "pm@northwind.test", "name": "Pat Manager", "roles": ["project_manager"]}),
        )
        .await;
    pm.expect(201, "member");
    let pm = pm.id();
    let client = api.create_client(t, "Team client").await;
    let path = format!("/api/v1/clients/{client}/team");

    let r = api
        .put(
            &path,
            t,
            json!({"members": [
                {"role": "project_manager", "member_id": pm},
                {"role": "account_lead", "member_id": admin}
            ], "traffic_control": pm}),
        )
        .await;
    r.expect(200, "set team");
    let seats = r.body.as_array().expect("seats");
    assert_eq!(seats.len(), 2);
    let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(g.body["traffic_control_member_id"], pm.as_str());
    let team = g.body["team"].as_array().unwrap();
    assert!(team.iter().any(|s| s["role"] == "project_manager"
        && s["member_id"] == pm.as_str()
        && s["member_name"] == "Pat Manager"));
    assert!(team
        .iter()
        .any(|s| s["role"] == "account_lead" && s["member_id"] == admin.as_str()));

    let before = trail(&app, &app.agency.id).await;
    for (what, body) in [
        (
            "unknown role",
            json!({"members": [{"role": "wizard", "member_id": pm}], "traffic_control": pm}),
        ),
        (
            "role twice",
            json!({"members": [{"role": "designer", "member_id": pm}, {"role": "designer", "member_id": admin}], "traffic_control": pm}),
        ),
        (
            "unknown member",
            json!({"members": [], "traffic_control": "mem_00000000000000000000000000"}),
        ),
        ("missing traffic control", json!({"members": []})),
    ] {
        api.put(&path, t, body).await.problem(422, what);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let g2 = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(
        g2.body["team"], g.body["team"],
        "team unchanged after refusals"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_and_garbage_ids_answer_404_everywhere() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    api.create_client(t, "Real one").await;
    let ids = [
        "cli_00000000000000000000000000".to_string(),
        "cli_' OR 1=1 --".to_string(),
        "cli_'; DROP TABLE clients; --".to_string(),
        "nonsense".to_string(),
        "mem_00000000000000000000000000".to_string(),
        "x".repeat(500),
    ];
    let before = trail(&app, &app.agency.id).await;
    for raw in &ids {
        let id = enc(raw);
        let cases = [
            ("GET", format!("/api/v1/clients/{id}"), None),
            (
                "PATCH",
                format!("/api/v1/clients/{id}"),
                Some(json!({"name": "Hacked"})),
            ),
            (
                "PUT",
                format!("/api/v1/clients/{id}/team"),
                Some(json!({"members": [], "traffic_control": admin})),
            ),
            (
                "POST",
                format!("/api/v1/clients/{id}/events"),
                Some(json!({"type": "note", "note": "hi"})),
            ),
            (
                "POST",
                format!("/api/v1/clients/{id}/events"),
                Some(json!({"type": "bogus"})),
            ),
            ("POST", format!("/api/v1/clients/{id}/archive"), None),
            ("GET", format!("/api/v1/events?client={id}"), None),
            ("GET", format!("/api/v1/members/{id}"), None),
            (
                "PATCH",
                format!("/api/v1/members/{id}"),
                Some(json!({"name": "Hacked"})),
            ),
            ("DELETE", format!("/api/v1/tokens/{id}"), None),
        ];
        for (method, path, body) in cases {
            let r = api
                .call(method.parse().unwrap(), &path, t, body.as_ref())
                .await;
            r.problem(404, &format!("{method} {path}"));
            assert_eq!(r.body["type"], "https://baton.dev/problems/not-found");
        }
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let n = common::count(
        &app,
        "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(n, 1, "the clients table is intact");
    app.shutdown().await;
}

#[tokio::test]
async fn every_write_leaves_one_event_one_audit_entry_one_outbox_row() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let agency = app.agency.id.clone();
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(&t, "Trail").await;
    let member = api
        .post(
            "/api/v1/members",
            &t,
            json!({"email": "cm@northwind.test", "name": "Cam", "roles": ["community_manager"]}),
        )
        .await
        .id();
    let one = Trail {
        events: 1,
        audit: 1,
        outbox: 1,
    };
    let nothing = Trail {
        events: 0,
        audit: 0,
        outbox: 0,
    };
    let c = format!("/api/v1/clients/{client}");
    // (what, method, path, body, status, rows written)
    type Step = (
        &'static str,
        &'static str,
        String,
        Option<serde_json::Value>,
        u16,
        Trail,
    );
    let steps: Vec<Step> = vec![
        (
            "create client",
            "POST",
            "/api/v1/clients".into(),
            Some(json!({"name": "Another"})),
            201,
            one,
        ),
        (
            "patch client",
            "PATCH",
            c.clone(),
            Some(json!({"name": "Trail 2"})),
            200,
            one,
        ),
        (
            "no-op patch",
            "PATCH",
            c.clone(),
            Some(json!({"name": "Trail 2"})),
            200,
            nothing,
        ),
        (
            "set team",
            "PUT",
            format!("{c}/team"),
            Some(
                json!({"members": [{"role": "community_manager", "member_id": member}], "traffic_control": admin}),
            ),
            200,
            one,
        ),
        (
            "note",
            "POST",
            format!("{c}/events"),
            Some(json!({"type": "note", "note": "Kickoff went well"})),
            201,
            one,
        ),
        (
            "contract signed",
            "POST",
            format!("{c}/events"),
            Some(json!({"type": "contract_signed"})),
            201,
            one,
        ),
        (
            "impossible move",
            "POST",
            format!("{c}/events"),
            Some(json!({"type": "archived"})),
            409,
            nothing,
        ),
        (
            "bad input",
            "POST",
            format!("{c}/events"),
            Some(json!({"type": "note"})),
            422,
            nothing,
        ),
        (
            "contract ended",
            "POST",
            format!("{c}/events"),
            Some(json!({"type": "contract_ended"})),
            201,
            one,
        ),
        ("archive", "POST", format!("{c}/archive"), None, 200, one),
        (
            "patch archived",
            "PATCH",
            c.clone(),
            Some(json!({"name": "Nope"})),
            409,
            nothing,
        ),
        (
            "invite member",
            "POST",
            "/api/v1/members".into(),
            Some(json!({"email": "an@northwind.test", "name": "Ana", "roles": ["analyst"]})),
            201,
            one,
        ),
        (
            "patch member",
            "PATCH",
            format!("/api/v1/members/{member}"),
            Some(json!({"roles": ["designer"]})),
            200,
            one,
        ),
        (
            "patch agency",
            "PATCH",
            "/api/v1/agency".into(),
            Some(json!({"timezone": "Europe/Berlin"})),
            200,
            one,
        ),
        ("reads", "GET", "/api/v1/events".into(), None, 200, nothing),
        // API tokens are audited (who minted what) but are not domain
        // events: no event, so no webhook job either.
        (
            "create token",
            "POST",
            "/api/v1/tokens".into(),
            Some(json!({"name": "Zapier", "scope": "read"})),
            201,
            Trail {
                events: 0,
                audit: 1,
                outbox: 0,
            },
        ),
    ];
    for (what, method, path, body, status, want) in steps {
        let before = trail(&app, &agency).await;
        let r = api
            .call(method.parse().unwrap(), &path, &t, body.as_ref())
            .await;
        r.expect(status, what);
        let after = trail(&app, &agency).await;
        assert_eq!(after - before, want, "{what}");
    }
    // Every event has exactly one outbox row pointing at it.
    let orphans = common::count(
        &app,
        "SELECT COUNT(*) FROM events e WHERE e.agency_id = $1 AND \
         (SELECT COUNT(*) FROM outbox o WHERE o.event_id = e.id) <> 1",
        &agency,
    )
    .await;
    assert_eq!(orphans, 0);
    app.shutdown().await;
}

#[tokio::test]
async fn names_that_show_nothing_are_refused_and_bidi_controls_are_stripped() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let before = trail(&app, &app.agency.id).await;
    for (what, name) in [
        (
            "zero-width space and right-to-left override",
            "\u{200B}\u{202E}",
        ),
        ("isolates and marks only", " \u{2067}\u{2069}\u{200F} "),
        ("byte-order mark and word joiner", "\u{FEFF}\u{2060}"),
    ] {
        let r = api
            .post("/api/v1/clients", t, json!({ "name": name }))
            .await;
        r.problem(422, what);
        assert!(
            r.text.contains("must contain visible characters"),
            "{what}: {}",
            r.text
        );
    }
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");

    // Overrides are stripped, the rest is kept as typed.
    let r = api
        .post("/api/v1/clients", t, json!({"name": "Acme\u{202E}"}))
        .await;
    r.expect(201, "a name with an override");
    assert_eq!(r.body["name"], "Acme");
    let id = r.id();
    let r = api
        .patch(
            &format!("/api/v1/clients/{id}"),
            t,
            json!({"name": "\u{202D}Acme\u{202C} Café\u{200D}"}),
        )
        .await;
    r.expect(200, "rename");
    assert_eq!(r.body["name"], "Acme Café\u{200D}");
    api.patch(
        &format!("/api/v1/clients/{id}"),
        t,
        json!({"name": "\u{200B}\u{202E}"}),
    )
    .await
    .problem(422, "rename to nothing visible");
    let g = api.get(&format!("/api/v1/clients/{id}"), t).await;
    assert_eq!(g.body["name"], "Acme Café\u{200D}");
    app.shutdown().await;
}
