//! Timeline events on clients, the lifecycle they move, and `/api/v1/events`.

use crate::common;

use baton_server::testing::TestApp;
use common::{ms, now_ms, trail, Api};
use serde_json::{json, Value};

#[tokio::test]
async fn a_posted_contract_signed_comes_back_with_its_type_and_topic() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme").await;

    let r = api
        .event(t, &client, json!({"type": "contract_signed"}))
        .await;
    r.expect(201, "post event");
    assert!(r.id().starts_with("evt_"));
    assert_eq!(r.body["type"], "contract_signed");
    assert_eq!(r.body["topic"], "client.contract_signed");
    assert_eq!(r.body["client_id"], client.as_str());
    assert_eq!(r.body["data"], json!({"from": "won", "to": "onboarding"}));
    assert_eq!(r.body["actor"]["kind"], "token");
    assert_eq!(r.body["actor"]["id"], app.agency.admin.id.as_str());

    let r = api.get(&format!("/api/v1/events?client={client}"), t).await;
    r.expect(200, "list");
    let items = r.items();
    // (The worker may already have started the handoff SOP the contract triggers.)
    let types: Vec<&str> = items
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| !t.starts_with("sop_run."))
        .collect();
    assert_eq!(types, vec!["client.created", "contract_signed"]);
    let signed = &items[1];
    assert_eq!(signed["type"], "contract_signed");
    assert_eq!(signed["topic"], "client.contract_signed");
    assert_eq!(items[0]["topic"], "client.created");
    assert!(items.iter().all(|e| e["client_id"] == client.as_str()));
    assert_eq!(r.body["next_cursor"], json!(null));

    let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(g.body["lifecycle"], "onboarding");
    app.shutdown().await;
}

#[tokio::test]
async fn back_dated_events_keep_occurred_at_and_record_now() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Imported").await;
    let before = now_ms();
    let r = api
        .event(
            t,
            &client,
            json!({"type": "contract_signed", "occurred_at": "2024-03-01T09:30:00+01:00", "note": "Imported from the CRM"}),
        )
        .await;
    r.expect(201, "back-dated");
    assert_eq!(
        r.body["occurred_at"], "2024-03-01T08:30:00Z",
        "kept, in UTC"
    );
    let recorded = ms(&r.body["recorded_at"]);
    assert!(
        recorded >= before - 1000 && recorded <= now_ms() + 1000,
        "recorded_at is now: {}",
        r.body["recorded_at"]
    );
    assert_eq!(r.body["note"], "Imported from the CRM");

    let events = api.client_events(t, &client).await;
    let e = events
        .iter()
        .find(|e| e["type"] == "contract_signed")
        .unwrap();
    assert_eq!(e["occurred_at"], "2024-03-01T08:30:00Z");
    assert_eq!(e["recorded_at"], r.body["recorded_at"]);

    // Without occurred_at, it happened now.
    let r = api
        .event(t, &client, json!({"type": "note", "note": "now"}))
        .await;
    r.expect(201, "now");
    assert_eq!(r.body["occurred_at"], r.body["recorded_at"]);
    app.shutdown().await;
}

#[tokio::test]
async fn the_lifecycle_from_won_to_archived() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Full journey").await;
    let steps = [
        ("contract_signed", "onboarding"),
        ("kickoff_scheduled", "onboarding"),
        ("note", "onboarding"),
        ("onboarding_completed", "active"),
        ("note", "active"),
        ("contract_ended", "offboarding"),
        ("archived", "archived"),
    ];
    for (event, stage) in steps {
        let mut body = json!({ "type": event });
        if event == "note" {
            body["note"] = json!("a remark");
        }
        api.event(t, &client, body).await.expect(201, event);
        let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
        assert_eq!(g.body["lifecycle"], stage, "after {event}");
    }
    let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert!(g.body["archived_at"].is_string());
    let types: Vec<Value> = api
        .client_events(t, &client)
        .await
        .iter()
        .map(|e| e["type"].clone())
        .filter(|t| !t.as_str().unwrap().starts_with("sop_run."))
        .collect();
    assert_eq!(
        types,
        vec![
            json!("client.created"),
            json!("contract_signed"),
            json!("kickoff_scheduled"),
            json!("note"),
            json!("onboarding_completed"),
            json!("note"),
            json!("contract_ended"),
            json!("archived"),
        ]
    );
    // An archived client takes nothing, not even a note.
    api.event(t, &client, json!({"type": "note", "note": "late"}))
        .await
        .problem(409, "note on archived");
    app.shutdown().await;
}

/// Moves a fresh client to `stage` through the API.
async fn client_in(api: &Api, t: &str, stage: &str) -> String {
    let id = api.create_client(t, &format!("In {stage}")).await;
    let path: &[&str] = match stage {
        "won" => &[],
        "onboarding" => &["contract_signed"],
        "active" => &["contract_signed", "onboarding_completed"],
        "offboarding" => &["contract_ended"],
        "archived" => &["contract_ended", "archived"],
        _ => unreachable!(),
    };
    for e in path {
        api.event(t, &id, json!({ "type": e })).await.expect(201, e);
    }
    id
}

#[tokio::test]
async fn impossible_lifecycle_moves_are_409_and_write_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let cases = [
        ("won", "onboarding_completed"),
        ("won", "archived"),
        ("onboarding", "contract_signed"),
        ("onboarding", "archived"),
        ("active", "contract_signed"),
        ("active", "kickoff_scheduled"),
        ("active", "onboarding_completed"),
        ("active", "archived"),
        ("offboarding", "contract_signed"),
        ("offboarding", "onboarding_completed"),
        ("offboarding", "contract_ended"),
        ("archived", "contract_signed"),
        ("archived", "contract_ended"),
        ("archived", "archived"),
    ];
    for (stage, event) in cases {
        let client = client_in(&api, t, stage).await;
        common::settle(&app).await;
        let before_client = api.get(&format!("/api/v1/clients/{client}"), t).await;
        let before_events = api.client_events(t, &client).await;
        let before_trail = trail(&app, &app.agency.id).await;

        let r = api.event(t, &client, json!({ "type": event })).await;
        r.problem(409, &format!("{event} on {stage}"));
        assert_eq!(r.body["type"], "https://baton.dev/problems/conflict");
        assert!(
            r.body["detail"].as_str().unwrap().contains(stage),
            "the detail names the stage: {}",
            r.text
        );

        let after_client = api.get(&format!("/api/v1/clients/{client}"), t).await;
        assert_eq!(
            after_client.body, before_client.body,
            "{event} on {stage}: client unchanged"
        );
        assert_eq!(
            api.client_events(t, &client).await,
            before_events,
            "{event} on {stage}: no event"
        );
        assert_eq!(trail(&app, &app.agency.id).await, before_trail);
    }

    // The archive shortcut refuses the same way.
    let active = client_in(&api, t, "active").await;
    let before = api.get(&format!("/api/v1/clients/{active}"), t).await;
    api.post(&format!("/api/v1/clients/{active}/archive"), t, json!(null))
        .await
        .problem(409, "archive an active client");
    let after = api.get(&format!("/api/v1/clients/{active}"), t).await;
    assert_eq!(after.body, before.body);
    let off = client_in(&api, t, "offboarding").await;
    let r = api
        .send(api.request(
            reqwest::Method::POST,
            &format!("/api/v1/clients/{off}/archive"),
            t,
        ))
        .await;
    r.expect(200, "archive an offboarding client");
    assert_eq!(r.body["lifecycle"], "archived");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_event_input_is_422_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Strict").await;
    let future = baton_core::clock::rfc3339(now_ms() + 24 * 3600 * 1000);
    let cases = [
        ("unknown type", json!({"type": "contract_burned"})),
        ("namespaced type", json!({"type": "client.contract_signed"})),
        ("empty type", json!({"type": ""})),
        ("type case", json!({"type": "CONTRACT_SIGNED"})),
        (
            "bad occurred_at",
            json!({"type": "contract_signed", "occurred_at": "yesterday"}),
        ),
        (
            "date without time",
            json!({"type": "contract_signed", "occurred_at": "2024-03-01"}),
        ),
        (
            "time without offset",
            json!({"type": "contract_signed", "occurred_at": "2024-03-01T10:00:00"}),
        ),
        (
            "impossible date",
            json!({"type": "contract_signed", "occurred_at": "2024-02-30T10:00:00Z"}),
        ),
        (
            "occurred_at before 2000",
            json!({"type": "contract_signed", "occurred_at": "1999-12-31T23:59:59Z"}),
        ),
        (
            "future occurred_at",
            json!({"type": "contract_signed", "occurred_at": future}),
        ),
        ("note without text", json!({"type": "note"})),
        ("note with empty text", json!({"type": "note", "note": ""})),
        (
            "note with blank text",
            json!({"type": "note", "note": "  \n\t "}),
        ),
        (
            "note too long",
            json!({"type": "note", "note": "n".repeat(10_001)}),
        ),
        (
            "occurred_at wrong type",
            json!({"type": "contract_signed", "occurred_at": 1700000000}),
        ),
        (
            "unknown field",
            json!({"type": "note", "note": "x", "priority": "high"}),
        ),
    ];
    common::settle(&app).await;
    let before_events = api.client_events(t, &client).await;
    let before = trail(&app, &app.agency.id).await;
    for (what, body) in cases {
        let r = api.event(t, &client, body).await;
        r.problem(422, what);
        assert_eq!(
            r.body["type"], "https://baton.dev/problems/invalid-input",
            "{what}"
        );
    }
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(api.client_events(t, &client).await, before_events);
    let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(g.body["lifecycle"], "won");

    // The offending field is named.
    let r = api
        .event(
            t,
            &client,
            json!({"type": "contract_signed", "occurred_at": "yesterday"}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "occurred_at", "{}", r.text);
    app.shutdown().await;
}

#[tokio::test]
async fn the_event_log_filters_orders_and_pages() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let a = api.create_client(t, "A").await;
    let b = api.create_client(t, "B").await;
    for i in 0..5 {
        api.event(t, &a, json!({"type": "note", "note": format!("a{i}")}))
            .await
            .expect(201, "note a");
    }
    api.event(t, &b, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign b");

    // By type.
    let r = api.get("/api/v1/events?type=contract_signed", t).await;
    let ids: Vec<_> = r.items().iter().map(|e| e["client_id"].clone()).collect();
    assert_eq!(ids, vec![json!(b)]);

    // By client, newest first.
    let r = api
        .get(&format!("/api/v1/events?client={a}&order=desc"), t)
        .await;
    let notes: Vec<_> = r.items().iter().map(|e| e["note"].clone()).collect();
    assert_eq!(notes[0], "a4");
    assert_eq!(notes.len(), 6);
    let seqs: Vec<i64> = r
        .items()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    // Paging the whole agency log, oldest first, sees every event once.
    let all = api.get("/api/v1/events?limit=200", t).await;
    let total = all.items().len();
    let mut seen = Vec::new();
    let mut path = "/api/v1/events?limit=3".to_string();
    loop {
        let r = api.get(&path, t).await;
        r.expect(200, &path);
        seen.extend(r.items().iter().map(|e| e["seq"].as_i64().unwrap()));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/events?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    api.get("/api/v1/events?order=sideways", t)
        .await
        .problem(422, "bad order");
    app.shutdown().await;
}

/// The client's access requests' statuses, in request order.
async fn statuses(api: &Api, t: &str, client: &str) -> Vec<String> {
    let r = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    r.expect(200, "requests");
    r.items()
        .iter()
        .map(|x| x["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_mistaken_contract_end_is_corrected_with_everything_it_withdrew_restored() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Still Won Co").await;
    api.post(
        &format!("/api/v1/clients/{client}/onboarding-links"),
        t,
        json!({"requests": [{"platform": "meta_page"}, {"platform": "ga4", "permission": "analyst"}]}),
    )
    .await
    .expect(201, "link");
    let weekly = api
        .post(
            "/api/v1/sop-runs",
            t,
            json!({"sop": "weekly_performance", "client": client}),
        )
        .await;
    weekly.expect(201, "a run");
    let weekly = weekly.id();

    // Nothing to correct yet.
    api.event(t, &client, json!({"type": "reopened", "note": "oops"}))
        .await
        .problem(409, "no move to correct");

    // "Contract ended" straight from Won: the requests are withdrawn, the
    // run cancelled, and the offboarding SOP starts.
    let ended = api
        .event(
            t,
            &client,
            json!({"type": "contract_ended", "note": "wrong client"}),
        )
        .await;
    ended.expect(201, "contract ended");
    assert_eq!(ended.body["data"]["from"], "won");
    assert_eq!(ended.body["data"]["to"], "offboarding");
    assert_eq!(ended.body["data"]["access_requests_withdrawn"], 2);
    assert_eq!(ended.body["data"]["runs_cancelled"], 1);
    assert_eq!(statuses(&api, t, &client).await, ["revoked", "revoked"]);
    let run = |id: String| {
        let api = &api;
        async move { api.get(&format!("/api/v1/sop-runs/{id}"), t).await.body }
    };
    assert_eq!(run(weekly.clone()).await["status"], "cancelled");
    common::settle(&app).await;
    let offboarding = api
        .get(
            &format!("/api/v1/sop-runs?client={client}&sop=offboarding"),
            t,
        )
        .await
        .items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The correction needs a reason and an admin.
    api.event(t, &client, json!({"type": "reopened"}))
        .await
        .problem(422, "no reason");
    api.event(
        t,
        &client,
        json!({"type": "reopened", "note": "x", "occurred_at": "2026-01-01T00:00:00Z"}),
    )
    .await
    .problem(422, "a correction is not back-dated");
    let writer = common::non_admin_token(
        &app,
        &api,
        "pm@northwind.test",
        baton_store::tokens::Scope::Write,
    )
    .await;
    let denied = api
        .event(
            &writer,
            &client,
            json!({"type": "reopened", "note": "mine"}),
        )
        .await;
    denied.problem(403, "not an admin");
    assert!(denied.text.contains("Only an admin"), "{}", denied.text);
    // Another agency cannot see the client at all.
    let other = baton_server::testing::create_agency(&app.state, "Other", "o@other.test").await;
    api.event(
        &other.token,
        &client,
        json!({"type": "reopened", "note": "x"}),
    )
    .await
    .problem(404, "another agency");

    let before = trail(&app, &app.agency.id).await;
    let fixed = api
        .event(
            t,
            &client,
            json!({"type": "reopened", "note": "Ended the wrong client's contract"}),
        )
        .await;
    fixed.expect(201, "reopen");
    assert_eq!(fixed.body["type"], "reopened");
    assert_eq!(fixed.body["topic"], "client.reopened");
    assert_eq!(fixed.body["note"], "Ended the wrong client's contract");
    assert_eq!(fixed.body["data"]["from"], "offboarding");
    assert_eq!(fixed.body["data"]["to"], "won");
    assert_eq!(fixed.body["data"]["corrects_event_id"], ended.id().as_str());
    assert_eq!(fixed.body["data"]["access_requests_restored"], 2);
    assert_eq!(fixed.body["data"]["runs_restored"], 1);
    assert_eq!(fixed.body["data"]["runs_cancelled"], 1);
    let c = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(c.body["lifecycle"], "won");
    assert_eq!(statuses(&api, t, &client).await, ["requested", "requested"]);
    assert_ne!(run(weekly).await["status"], "cancelled");
    assert_eq!(run(offboarding).await["status"], "cancelled");
    // Its own event and audit entry; history is not rewritten.
    let after = trail(&app, &app.agency.id).await;
    assert_eq!((after - before).audit, 1);
    let types: Vec<String> = api
        .client_events(t, &client)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    let at = |ty: &str| {
        types
            .iter()
            .position(|x| x == ty)
            .unwrap_or_else(|| panic!("{ty}"))
    };
    assert!(at("contract_ended") < at("access.withdrawn"));
    assert!(at("reopened") < at("access.restored"));
    // A correction is not corrected again: the right move is recorded instead.
    api.event(t, &client, json!({"type": "reopened", "note": "again"}))
        .await
        .problem(409, "already corrected");
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "the right move");
    app.shutdown().await;
}
