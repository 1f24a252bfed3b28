//! `/api/v1/clients/{id}/handoff`: the sales-to-delivery handoff brief
//! through the real router — save, read, versions, identical saves, every
//! refusal, scopes, tenant isolation, the timeline event, and the sync of an
//! open `sales_handoff` run's checklist in the same transaction.

use crate::common;

use baton_server::testing::TestApp;
use common::{execute_raw, trail, Api};
use serde_json::{json, Value};

/// 2026-03-02T09:00:00Z.
const T0: i64 = 1_772_442_000_000;
const MINUTE: i64 = 60_000;

fn full_brief() -> Value {
    json!({
        "scope": {"channels": ["instagram", "tiktok"], "deliverables": [{"item": "Feed posts", "per_month": 12}], "notes": "Stories on request"},
        "goals": ["Grow reach 20% by Q3"],
        "constraints": ["No competitor mentions"],
        "first_30_days": ["Kickoff workshop", "Month-one calendar"],
        "stakeholders": [{"name": "Dana Ruiz", "role": "CMO", "email": "dana@client.test", "approves": true}],
        "promises": ["We post daily across 4 channels"],
        "no_promises": false
    })
}

fn handoff(client: &str) -> String {
    format!("/api/v1/clients/{client}/handoff")
}

#[tokio::test]
async fn a_brief_is_saved_read_and_versioned() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme Coffee").await;

    // Nothing saved yet: version 0, every section missing.
    let empty = api.get(&handoff(&client), t).await;
    empty.expect(200, "empty brief");
    assert_eq!(empty.body["client_id"], client.as_str());
    assert_eq!(empty.body["version"], 0);
    assert_eq!(empty.body["complete"], false);
    assert_eq!(empty.body["author"], Value::Null);
    assert_eq!(empty.body["saved_at"], Value::Null);
    assert_eq!(
        empty.body["missing"],
        json!(baton_core::handoff::SECTION_KEYS)
    );
    assert_eq!(empty.body["brief"]["goals"], json!([]));
    assert_eq!(empty.body["sections"].as_array().unwrap().len(), 6);
    let none = api.get(&format!("{}/versions", handoff(&client)), t).await;
    none.expect(200, "no versions");
    assert!(none.items().is_empty());

    // A partial brief, padded and with blank lines: stored normalized.
    let partial = json!({
        "scope": {"channels": [" instagram "], "deliverables": [{"item": "Feed posts", "per_month": 12}]},
        "goals": ["  Grow reach  ", "", "   "],
    });
    let v1 = api.put(&handoff(&client), t, partial.clone()).await;
    v1.expect(200, "save v1");
    assert_eq!(v1.body["version"], 1);
    assert_eq!(v1.body["complete"], false);
    assert_eq!(v1.body["brief"]["goals"], json!(["Grow reach"]));
    assert_eq!(v1.body["brief"]["scope"]["channels"], json!(["instagram"]));
    assert_eq!(
        v1.body["missing"],
        json!([
            "constraints_documented",
            "first_30_days",
            "stakeholders_approver",
            "non_standard_promises"
        ])
    );
    let sections = v1.body["sections"].as_array().unwrap();
    assert_eq!(sections[0]["key"], "scope_documented");
    assert_eq!(sections[0]["done"], true);
    assert!(!sections[0]["label"].as_str().unwrap().is_empty());
    assert_eq!(sections[2]["done"], false);
    assert_eq!(v1.body["saved_at"], "2026-03-02T09:00:00Z");
    assert!(!v1.body["author"].as_str().unwrap().is_empty());

    clock.advance(MINUTE);
    let v2 = api.put(&handoff(&client), t, full_brief()).await;
    v2.expect(200, "save v2");
    assert_eq!(v2.body["version"], 2);
    assert_eq!(v2.body["complete"], true);
    assert_eq!(v2.body["missing"], json!([]));
    assert_eq!(v2.body["brief"], full_brief());
    assert_eq!(v2.body["saved_at"], "2026-03-02T09:01:00Z");

    let latest = api.get(&handoff(&client), t).await;
    latest.expect(200, "latest");
    assert_eq!(latest.body, v2.body);

    let list = api.get(&format!("{}/versions", handoff(&client)), t).await;
    list.expect(200, "versions");
    let items = list.items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["version"], 2, "newest first");
    assert_eq!(items[0]["complete"], true);
    assert_eq!(items[1]["version"], 1);
    assert_eq!(items[1]["complete"], false);
    assert_eq!(items[1]["saved_at"], "2026-03-02T09:00:00Z");
    assert_eq!(items[1]["author"], v1.body["author"]);

    let old = api
        .get(&format!("{}/versions/1", handoff(&client)), t)
        .await;
    old.expect(200, "version 1");
    assert_eq!(old.body, v1.body);
    for missing in ["3", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        api.get(&format!("{}/versions/{missing}", handoff(&client)), t)
            .await
            .problem(404, missing);
    }

    // No promises, said explicitly, is also complete.
    let mut none_made = full_brief();
    none_made["promises"] = json!([]);
    none_made["no_promises"] = json!(true);
    let v3 = api.put(&handoff(&client), t, none_made).await;
    v3.expect(200, "no promises");
    assert_eq!(v3.body["version"], 3);
    assert_eq!(v3.body["complete"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn an_identical_save_is_no_new_version() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Same Again").await;
    let first = api.put(&handoff(&client), t, full_brief()).await;
    first.expect(200, "first");
    let before = trail(&app, &app.agency.id).await;
    let again = api.put(&handoff(&client), t, full_brief()).await;
    again.expect(200, "again");
    assert_eq!(again.body, first.body, "the same version comes back");
    // The same brief after trimming and dropping blank lines is the same too.
    let mut padded = full_brief();
    padded["goals"] = json!(["  Grow reach 20% by Q3 ", ""]);
    let padded = api.put(&handoff(&client), t, padded).await;
    padded.expect(200, "padded");
    assert_eq!(padded.body["version"], 1);
    assert_eq!(
        trail(&app, &app.agency.id).await - before,
        common::Trail {
            events: 0,
            audit: 0,
            outbox: 0
        },
        "nothing written"
    );
    let list = api.get(&format!("{}/versions", handoff(&client)), t).await;
    assert_eq!(list.items().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_briefs_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Strict").await;
    let with = |k: &str, v: Value| {
        let mut b = full_brief();
        b[k] = v;
        b
    };
    let mut bad_email = full_brief();
    bad_email["stakeholders"][0]["email"] = json!("dana at client");
    let mut zero = full_brief();
    zero["scope"]["deliverables"][0]["per_month"] = json!(0);
    let mut huge = full_brief();
    huge["scope"]["deliverables"][0]["per_month"] = json!(1001);
    let mut long_channel = full_brief();
    long_channel["scope"]["channels"] = json!(["c".repeat(121)]);
    let before = trail(&app, &app.agency.id).await;
    for (what, body, field) in [
        ("unknown field", json!({"goal": ["x"]}), "body"),
        (
            "unknown scope field",
            json!({"scope": {"channel": ["x"]}}),
            "body",
        ),
        (
            "unknown stakeholder field",
            json!({"stakeholders": [{"name": "A", "phone": "1"}]}),
            "body",
        ),
        ("wrong type", json!({"goals": "one goal"}), "body"),
        (
            "promises and no promises",
            with("no_promises", json!(true)),
            "promises",
        ),
        ("bad email", bad_email, "stakeholders"),
        (
            "long goal",
            with("goals", json!(["g".repeat(501)])),
            "goals",
        ),
        (
            "long promise",
            with("promises", json!(["p".repeat(501)])),
            "promises",
        ),
        (
            "too many steps",
            with(
                "first_30_days",
                json!((0..51).map(|i| format!("step {i}")).collect::<Vec<_>>()),
            ),
            "first_30_days",
        ),
        (
            "two lines in one",
            with("constraints", json!(["a\nb"])),
            "constraints",
        ),
        (
            "nameless stakeholder",
            with(
                "stakeholders",
                json!([{"name": " ", "role": "CMO", "approves": true}]),
            ),
            "stakeholders",
        ),
        ("zero per month", zero, "scope.deliverables"),
        ("too many per month", huge, "scope.deliverables"),
        ("long channel", long_channel, "scope.channels"),
    ] {
        let r = api.put(&handoff(&client), t, body).await;
        r.problem(422, what);
        assert_eq!(r.body["errors"][0]["field"], field, "{what}: {}", r.text);
    }
    // Not JSON at all is a 400.
    let r = api
        .send(
            api.request(reqwest::Method::PUT, &handoff(&client), t)
                .header("content-type", "application/json")
                .body("{"),
        )
        .await;
    r.problem(400, "malformed JSON");
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");
    let list = api.get(&format!("{}/versions", handoff(&client)), t).await;
    assert!(list.items().is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_client_is_not_found_and_read_tokens_cannot_write() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Ours").await;
    api.put(&handoff(&client), t, full_brief())
        .await
        .expect(200, "save");

    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.create_client(&rival.token, "Theirs").await;
    for (token, id) in [(&rival.token, &client), (t, &theirs)] {
        api.get(&handoff(id), token)
            .await
            .problem(404, "get across agencies");
        api.get(&format!("{}/versions", handoff(id)), token)
            .await
            .problem(404, "versions across agencies");
        api.get(&format!("{}/versions/1", handoff(id)), token)
            .await
            .problem(404, "version across agencies");
        api.put(&handoff(id), token, full_brief())
            .await
            .problem(404, "put across agencies");
    }
    api.put(&handoff("cli_nope"), t, full_brief())
        .await
        .problem(404, "unknown client");
    // The rival's attempt left our brief alone and theirs empty.
    let ours = api.get(&handoff(&client), t).await;
    assert_eq!(ours.body["version"], 1);
    let list = api
        .get(&format!("{}/versions", handoff(&theirs)), &rival.token)
        .await;
    assert!(list.items().is_empty());

    let read = api.token(t, "read").await;
    api.get(&handoff(&client), &read)
        .await
        .expect(200, "read token reads");
    let mut changed = full_brief();
    changed["goals"] = json!(["Something else"]);
    api.put(&handoff(&client), &read, changed.clone())
        .await
        .problem(403, "read token writes");
    let write = api.token(t, "write").await;
    let w = api.put(&handoff(&client), &write, changed).await;
    w.expect(200, "write token writes");
    assert_eq!(w.body["version"], 2);
    api.put(&handoff(&client), "", full_brief())
        .await
        .problem(401, "no token");
    app.shutdown().await;
}

#[tokio::test]
async fn saving_records_an_event_on_the_clients_timeline() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Timeline").await;
    let mut partial = full_brief();
    partial["goals"] = json!([]);
    partial["promises"] = json!([]);
    let r = api.put(&handoff(&client), t, partial).await;
    r.expect(200, "save");
    let events = api.client_events(t, &client).await;
    let saved: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "handoff.saved")
        .collect();
    assert_eq!(saved.len(), 1, "{events:?}");
    let e = saved[0];
    assert_eq!(e["topic"], "handoff.saved");
    assert_eq!(e["client_id"], client.as_str());
    assert_eq!(e["entity_type"], "client");
    assert_eq!(e["entity_id"], client.as_str());
    assert_eq!(e["data"]["version"], 1);
    assert_eq!(e["data"]["complete"], false);
    assert_eq!(
        e["data"]["missing"],
        json!(["goals_documented", "non_standard_promises"])
    );
    assert_eq!(e["actor"]["label"], r.body["author"]);
    app.shutdown().await;
}

/// Inserts version 1 of the default `sales_handoff` SOP for the agency.
async fn insert_sales_handoff_sop(app: &TestApp, agency_id: &str) {
    let def = serde_json::to_string(&baton_core::sop::default_library()[0]).unwrap();
    assert!(def.contains("\"sales_handoff\""));
    execute_raw(
        app,
        &format!(
            "INSERT INTO sop_versions (agency_id, sop_key, version, trigger_event, definition, reason, actor_id, actor_label, created_at) \
             VALUES ('{agency_id}', 'sales_handoff', 1, 'contract_signed', '{}', 'library', '', 'Baton', {T0})",
            def.replace('\'', "''")
        ),
    )
    .await;
}

/// Inserts a run of `sales_handoff` v1 with this checklist (JSON) and done time.
async fn insert_run(
    app: &TestApp,
    agency_id: &str,
    run_id: &str,
    client: &str,
    checklist: &Value,
    done_at: Option<i64>,
) {
    let done = done_at.map_or("NULL".to_string(), |d| d.to_string());
    execute_raw(
        app,
        &format!(
            "INSERT INTO sop_runs (id, agency_id, client_id, sop_key, sop_version, trigger_event_id, started_at, started_by, \
             owner_member_id, owner_source, status, at_risk_at, due_at, next_change_at, paused_ms, checklist, done_at, created_at, updated_at, \
             subject_type, subject_id) \
             VALUES ('{run_id}', '{agency_id}', '{client}', 'sales_handoff', 1, NULL, {T0}, 'test', NULL, 'unowned', 'on_track', \
             {}, {}, NULL, 0, '{}', {done}, {T0}, {T0}, 'handoff_brief', '{client}')",
            T0 + 19 * 3_600_000,
            T0 + 24 * 3_600_000,
            checklist.to_string().replace('\'', "''"),
        ),
    )
    .await;
}

/// A run's stored checklist (each item ticked by a fact names the event
/// that ticked it: checked here, then left out of the map) and when the run
/// was last changed.
async fn run_row(app: &TestApp, run_id: &str) -> (Value, i64) {
    let row: (String, i64) =
        sqlx::query_as("SELECT checklist, updated_at FROM sop_runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(app.state.db.reader())
            .await
            .expect("the run");
    let mut checklist: Value = serde_json::from_str(&row.0).expect("checklist JSON");
    for (key, item) in checklist.as_object_mut().unwrap() {
        if key.ends_with("_documented")
            || [
                "first_30_days",
                "stakeholders_approver",
                "non_standard_promises",
            ]
            .contains(&key.as_str())
        {
            let event = item.as_object_mut().unwrap().remove("event");
            assert!(
                event
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.starts_with("evt_")),
                "{key} names the event that ticked it: {event:?}"
            );
        }
    }
    (checklist, row.1)
}

/// Runs inserted by hand, with ids of a run id's shape (as the store reads them).
const OPEN_RUN: &str = "run_00000000000000000000000001";
const DONE_RUN: &str = "run_00000000000000000000000002";
const OTHER_RUN: &str = "run_00000000000000000000000003";

#[tokio::test]
async fn saving_syncs_the_open_sales_handoff_runs_checklist() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let agency = app.agency.id.clone();
    let client = api.create_client(t, "Synced").await;
    let other = api.create_client(t, "Other client").await;
    insert_sales_handoff_sop(&app, &agency).await;
    let kept = json!({"at": 5, "by": "Ana Ortiz"});
    // An open run (with an item that is not the brief's), a done run and a
    // run of another client.
    insert_run(
        &app,
        &agency,
        OPEN_RUN,
        &client,
        &json!({"custom_item": kept}),
        None,
    )
    .await;
    insert_run(&app, &agency, DONE_RUN, &client, &json!({}), Some(T0)).await;
    insert_run(&app, &agency, OTHER_RUN, &other, &json!({}), None).await;

    clock.set(T0 + MINUTE);
    let partial = json!({
        "scope": {"channels": ["instagram"], "deliverables": [{"item": "Feed posts", "per_month": 12}]},
        "goals": ["Grow reach"],
        "stakeholders": [{"name": "Dana Ruiz", "role": "CMO", "approves": false}],
    });
    let v1 = api.put(&handoff(&client), t, partial).await;
    v1.expect(200, "save v1");
    let author = v1.body["author"].as_str().unwrap().to_string();
    let (checklist, updated) = run_row(&app, OPEN_RUN).await;
    let by_brief = json!({"at": T0 + MINUTE, "by": author});
    assert_eq!(
        checklist,
        json!({"custom_item": kept, "scope_documented": by_brief, "goals_documented": by_brief}),
        "done sections ticked, other items kept"
    );
    assert_eq!(updated, T0 + MINUTE);

    // Goals dropped, the rest done: goals unticked, scope keeps its time.
    clock.set(T0 + 2 * MINUTE);
    let mut v2_body = full_brief();
    v2_body["goals"] = json!([]);
    api.put(&handoff(&client), t, v2_body)
        .await
        .expect(200, "save v2");
    let (checklist, updated) = run_row(&app, OPEN_RUN).await;
    let later = json!({"at": T0 + 2 * MINUTE, "by": author});
    assert_eq!(
        checklist,
        json!({
            "custom_item": kept,
            "scope_documented": by_brief,
            "constraints_documented": later,
            "first_30_days": later,
            "stakeholders_approver": later,
            "non_standard_promises": later,
        })
    );
    assert_eq!(updated, T0 + 2 * MINUTE);

    // Done runs and other clients' runs are left alone.
    assert_eq!(run_row(&app, DONE_RUN).await, (json!({}), T0));
    assert_eq!(run_row(&app, OTHER_RUN).await, (json!({}), T0));
    app.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_brief() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let doc = api.get("/api/openapi.json", "").await;
    doc.expect(200, "openapi");
    let put = &doc.body["paths"]["/api/v1/clients/{id}/handoff"]["put"];
    assert_eq!(put["operationId"], "putClientHandoff");
    let body_ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("request body schema: {put}"));
    assert_eq!(body_ref, "#/components/schemas/HandoffBrief");
    let schemas = &doc.body["components"]["schemas"];
    let brief = &schemas["HandoffBrief"]["properties"];
    for k in [
        "scope",
        "goals",
        "constraints",
        "first_30_days",
        "stakeholders",
        "promises",
        "no_promises",
    ] {
        assert!(
            brief[k].is_object(),
            "HandoffBrief.{k}: {}",
            schemas["HandoffBrief"]
        );
    }
    let out = &schemas["HandoffOut"]["properties"];
    for k in [
        "client_id",
        "version",
        "brief",
        "complete",
        "missing",
        "sections",
        "author",
        "saved_at",
    ] {
        assert!(
            out[k].is_object(),
            "HandoffOut.{k}: {}",
            schemas["HandoffOut"]
        );
    }
    for (path, id) in [
        (
            "/api/v1/clients/{id}/handoff/versions",
            "listClientHandoffVersions",
        ),
        (
            "/api/v1/clients/{id}/handoff/versions/{n}",
            "getClientHandoffVersion",
        ),
    ] {
        assert_eq!(doc.body["paths"][path]["get"]["operationId"], id, "{path}");
    }
    app.shutdown().await;
}
