//! `/api/v1/agency`, the audit log and its hash chain, and tenant isolation:
//! another agency's ids answer 404 (never 403) on every route.

use crate::common;

use baton_server::testing::TestApp;
use common::{execute_raw, trail, Api};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn agency_settings_read_and_change() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let g = api.get("/api/v1/agency", t).await;
    g.expect(200, "get agency");
    assert_eq!(g.body["id"], app.agency.id.as_str());
    assert_eq!(g.body["name"], "Northwind Social");
    assert_eq!(g.body["timezone"], "UTC");

    let p = api
        .patch(
            "/api/v1/agency",
            t,
            json!({"timezone": "Europe/Berlin", "brand_color": "#1F6FEB", "custom_domain": "Onboard.Northwind.test"}),
        )
        .await;
    p.expect(200, "patch agency");
    assert_eq!(p.body["timezone"], "Europe/Berlin");
    assert_eq!(p.body["brand_color"], "#1f6feb");
    assert_eq!(p.body["custom_domain"], "onboard.northwind.test");

    let before = trail(&app, &app.agency.id).await;
    for (what, body) in [
        ("unknown time zone", json!({"timezone": "Mars/Olympus"})),
        ("bad colour", json!({"brand_color": "blue"})),
        ("bad logo url", json!({"logo_url": "javascript:alert(1)"})),
        ("bad domain", json!({"custom_domain": "not a domain"})),
        ("an address", json!({"custom_domain": "127.0.0.1"})),
        ("empty name", json!({"name": ""})),
        ("wrong type", json!({"white_label": "yes"})),
        ("unknown field", json!({"slug": "mine"})),
    ] {
        api.patch("/api/v1/agency", t, body)
            .await
            .problem(422, what);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    let g = api.get("/api/v1/agency", t).await;
    assert_eq!(g.body["timezone"], "Europe/Berlin");
    app.shutdown().await;
}

/// The deployment's own host, and every name under it, belong to the
/// operator: no agency can claim them, through the API or the web form.
#[tokio::test]
async fn the_public_host_can_never_be_a_custom_domain() {
    let app =
        TestApp::spawn_with_config(std::sync::Arc::new(baton_core::clock::SystemClock), |c| {
            c.public_url = "https://ops.baton.test".into()
        })
        .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for domain in ["ops.baton.test", "OPS.baton.test", "links.ops.baton.test"] {
        let r = api
            .patch("/api/v1/agency", t, json!({"custom_domain": domain}))
            .await;
        r.problem(422, domain);
        assert!(r.text.contains("own address"), "{}", r.text);
    }
    api.patch(
        "/api/v1/agency",
        t,
        json!({"custom_domain": "onboard.northwind.test"}),
    )
    .await
    .expect(200, "the agency's own domain");
    app.shutdown().await;
}

#[tokio::test]
async fn the_audit_log_is_newest_first_hash_chained_and_verifiable() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Audited").await;
    api.patch(
        &format!("/api/v1/clients/{client}"),
        t,
        json!({"name": "Audited Ltd"}),
    )
    .await
    .expect(200, "patch");
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "event");

    // The worker then starts the handoff SOP the contract triggers; its
    // `sop_run.*` entries come after these and are left out here.
    common::settle(&app).await;
    let r = api.get("/api/v1/audit", t).await;
    r.expect(200, "audit");
    let all_seqs: Vec<i64> = r
        .items()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    let items: Vec<&serde_json::Value> = r
        .items()
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("sop_run."))
        .collect();
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    // agency.created, member.created, api_token.created, then the three writes.
    assert_eq!(seqs, vec![6, 5, 4, 3, 2, 1], "newest first");
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..3],
        &["client.contract_signed", "client.updated", "client.created"]
    );
    for e in &items {
        let h = e["hash"].as_str().unwrap();
        assert_eq!(h.len(), 64, "sha-256 hex: {h}");
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let hashes: std::collections::HashSet<_> = items.iter().map(|e| e["hash"].clone()).collect();
    assert_eq!(hashes.len(), items.len(), "every hash differs");
    let newest = &items[0];
    assert_eq!(newest["entity_id"], client.as_str());
    assert_eq!(newest["actor_kind"], "token");
    assert_eq!(newest["actor_id"], app.agency.admin.id.as_str());
    assert_eq!(newest["ip"], "127.0.0.1");
    assert_eq!(newest["detail"]["to"], "onboarding");
    assert_eq!(items[1]["detail"], json!({"name": "Audited Ltd"}));

    // Pages of the audit log, newest first.
    let p1 = api.get("/api/v1/audit?limit=4", t).await;
    let cursor = p1.body["next_cursor"].as_str().expect("more").to_string();
    let p2 = api
        .get(&format!("/api/v1/audit?limit=4&cursor={cursor}"), t)
        .await;
    let s: Vec<i64> = p1
        .items()
        .iter()
        .chain(p2.items())
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    // Pages of 4 cover the whole log, whatever the worker added.
    let mut s = s;
    let mut cursor = p2.body["next_cursor"].as_str().map(String::from);
    while let Some(c) = cursor {
        let p = api
            .get(&format!("/api/v1/audit?limit=4&cursor={c}"), t)
            .await;
        s.extend(p.items().iter().map(|e| e["seq"].as_i64().unwrap()));
        cursor = p.body["next_cursor"].as_str().map(String::from);
    }
    assert_eq!(s, all_seqs);

    let reports = baton_store::audit::verify_all(&app.state.db).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].entries, all_seqs.len() as i64);
    assert!(reports[0].problem.is_none(), "{:?}", reports[0].problem);

    // Tamper with entry #2 behind the application's back.
    let n = execute_raw(
        &app,
        &format!(
            "UPDATE audit_log SET detail = '{{}}' WHERE seq = 2 AND agency_id = '{}'",
            app.agency.id
        ),
    )
    .await;
    assert_eq!(n, 1);
    let reports = baton_store::audit::verify_all(&app.state.db).await.unwrap();
    let problem = reports[0].problem.clone().expect("tampering is detected");
    assert!(problem.contains("#2"), "names entry #2: {problem}");
    assert!(
        !problem.contains("#3"),
        "names the first broken entry only: {problem}"
    );

    app.shutdown().await;
}

#[tokio::test]
async fn deleting_the_newest_audit_entry_is_detected() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.create_client(t, "One").await;
    api.create_client(t, "Two").await;
    assert!(
        baton_store::audit::verify_all(&app.state.db).await.unwrap()[0]
            .problem
            .is_none()
    );
    let n = execute_raw(
        &app,
        &format!(
            "DELETE FROM audit_log WHERE seq = 5 AND agency_id = '{}'",
            app.agency.id
        ),
    )
    .await;
    assert_eq!(n, 1);
    let problem = baton_store::audit::verify_all(&app.state.db).await.unwrap()[0]
        .problem
        .clone()
        .expect("detected");
    assert!(problem.contains("#5"), "{problem}");
    app.shutdown().await;
}

/// What agency B owns, for agency A to poke at.
struct Theirs {
    agency: String,
    token: String,
    client: String,
    admin: String,
    token_id: String,
}

async fn rival(app: &TestApp, api: &Api) -> Theirs {
    let b = app.other_agency("admin@rival.test").await;
    let client = api.create_client(&b.token, "Rival's client").await;
    api.event(
        &b.token,
        &client,
        json!({"type": "note", "note": "secret plans"}),
    )
    .await
    .expect(201, "their note");
    let token_id = api.get("/api/v1/tokens", &b.token).await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Theirs {
        agency: b.id.into(),
        token: b.token,
        client,
        admin: b.admin.id,
        token_id,
    }
}

#[tokio::test]
async fn another_agencys_ids_answer_404_never_403() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let ours = app.agency.token.clone();
    let our_admin = app.agency.admin.id.clone();
    let theirs = rival(&app, &api).await;
    let their_client_before = api
        .get(&format!("/api/v1/clients/{}", theirs.client), &theirs.token)
        .await;
    let c = &theirs.client;
    let write = api.token(&ours, "write").await;
    let read = api.token(&ours, "read").await;
    let their_trail = trail(&app, &theirs.agency).await;
    let our_trail = trail(&app, &app.agency.id).await;
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/clients/{c}"), None),
        (
            Method::PATCH,
            format!("/api/v1/clients/{c}"),
            Some(json!({"name": "Stolen"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/clients/{c}/team"),
            Some(
                json!({"members": [{"role": "project_manager", "member_id": our_admin}], "traffic_control": our_admin}),
            ),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{c}/events"),
            Some(json!({"type": "contract_ended"})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{c}/events"),
            Some(json!({"type": "note", "note": "hi"})),
        ),
        (Method::POST, format!("/api/v1/clients/{c}/archive"), None),
        (Method::GET, format!("/api/v1/events?client={c}"), None),
        (
            Method::GET,
            format!("/api/v1/members/{}", theirs.admin),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{}", theirs.admin),
            Some(json!({"active": false})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{}", theirs.token_id),
            None,
        ),
    ];
    for (method, path, body) in &cases {
        let r = api.call(method.clone(), path, &ours, body.as_ref()).await;
        r.problem(404, &format!("admin: {method} {path}"));
        assert_eq!(r.body["type"], "https://baton.dev/problems/not-found");
        assert!(
            !r.text.contains("Rival"),
            "nothing of theirs leaks: {}",
            r.text
        );
    }
    // Write and read tokens: 404 wherever their scope allows the route.
    for (scope, token, allowed) in [
        (
            "write",
            &write,
            [true, true, true, true, true, true, true, true, false, true],
        ),
        (
            "read",
            &read,
            [
                true, false, false, false, false, false, true, true, false, false,
            ],
        ),
    ] {
        for ((method, path, body), ok) in cases.iter().zip(allowed) {
            let r = api.call(method.clone(), path, token, body.as_ref()).await;
            let want = if ok { 404 } else { 403 };
            r.problem(want, &format!("{scope}: {method} {path}"));
        }
    }

    // Nothing of theirs changed, nothing was written on either side.
    assert_eq!(trail(&app, &theirs.agency).await, their_trail);
    assert_eq!(trail(&app, &app.agency.id).await, our_trail);
    let after = api
        .get(&format!("/api/v1/clients/{}", theirs.client), &theirs.token)
        .await;
    assert_eq!(after.body, their_client_before.body);
    api.get("/api/v1/me", &theirs.token)
        .await
        .expect(200, "their token still works");

    // Lists show only our own rows.
    let our_client = api.create_client(&ours, "Ours").await;
    let lists = [
        "/api/v1/clients",
        "/api/v1/events?limit=200",
        "/api/v1/members",
        "/api/v1/tokens",
        "/api/v1/audit?limit=200",
    ];
    for path in lists {
        let r = api.get(path, &ours).await;
        r.expect(200, path);
        assert!(!r.items().is_empty(), "{path}");
        for id in [&theirs.client, &theirs.admin, &theirs.token_id] {
            assert!(!r.text.contains(id.as_str()), "{path} leaks {id}");
        }
        assert!(!r.text.contains("secret plans"), "{path}");
    }
    // And the other way round.
    let r = api.get("/api/v1/clients", &theirs.token).await;
    assert!(!r.text.contains(&our_client));
    // Their member as our client's traffic control is not found either.
    let r = api
        .put(
            &format!("/api/v1/clients/{our_client}/team"),
            &ours,
            json!({"members": [], "traffic_control": theirs.admin}),
        )
        .await;
    r.problem(422, "their member on our team");
    app.shutdown().await;
}
