//! `/api/v1/kpis`, `/api/v1/kpis/weekly` and `/api/v1/kpis/settings`: the
//! six ops KPIs over a small scripted history on a manual clock, every
//! figure computed by hand below; the 13-week trend as JSON and CSV; the
//! first-value rule; planned days moved as events; bad input and tenant
//! isolation.

use crate::common;

use common::{execute_raw, Api};
use reqwest::Method;
use serde_json::{json, Value};

use baton_server::testing::TestApp;

/// Monday 2026-03-02 09:00:00 UTC (ISO week 2026-W10), inside the default
/// business hours (Mon–Fri 09:00–17:00 UTC).
const T0: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn at(ms: i64) -> String {
    baton_core::clock::rfc3339(ms)
}

async fn create_item(api: &Api, t: &str, client: &str, title: &str, planned: &str) -> String {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram", "format": "reel", "planned_on": planned,
                   "brief": {"audience": "a", "angle": "b", "offer": "c", "constraints": "d", "examples": "e"}}),
        )
        .await;
    r.expect(201, "create item");
    assert_eq!(r.body["planned_on"], planned);
    r.id()
}

async fn step(api: &Api, t: &str, id: &str, what: &str, body: Value) {
    api.post(&format!("/api/v1/content/{id}/{what}"), t, body)
        .await
        .expect_ok(what);
}

trait ExpectOk {
    fn expect_ok(&self, what: &str);
}

impl ExpectOk for common::Resp {
    #[track_caller]
    fn expect_ok(&self, what: &str) {
        assert!(
            self.status == 200 || self.status == 201,
            "{what}: {} {}",
            self.status,
            self.text
        );
    }
}

#[track_caller]
fn kpi<'a>(body: &'a Value, key: &str) -> &'a Value {
    let k = &body["kpis"][key];
    assert!(k.is_object(), "{key} missing: {body}");
    for field in ["unit", "definition"] {
        assert!(k[field].is_string(), "{key}.{field}: {k}");
    }
    assert!(k["n"].is_u64(), "{key}.n: {k}");
    k
}

#[tokio::test]
async fn the_six_kpis_match_a_hand_computed_history() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let harbor = api.create_client(t, "Harbor Fitness").await;
    let acme = api.create_client(t, "Acme Bakery").await;
    api.put(
        &format!("/api/v1/clients/{harbor}/content-settings"),
        t,
        json!({"approvers": [app.agency.admin.id]}),
    )
    .await
    .expect(200, "approver");
    api.event(t, &harbor, json!({"type": "contract_signed"}))
        .await
        .expect(201, "signed");
    // Access complete two days after the signature (the access flow itself
    // is proven in api_access; its moment is what this KPI reads).
    execute_raw(
        &app,
        &format!(
            "UPDATE clients SET access_complete_at = {} WHERE id = '{harbor}'",
            T0 + 2 * DAY
        ),
    )
    .await;

    // A: brief approved Mon 09:00, first draft Tue 09:00, approved Wed
    // 09:00, published Thu 09:00, planned for Friday: on time.
    // B: planned for Tuesday, first draft Tue, major changes Wed, never
    // published: late once Tuesday ended.
    let a = create_item(&api, t, &harbor, "A", "2026-03-06").await;
    let b = create_item(&api, t, &harbor, "B", "2026-03-03").await;
    for id in [&a, &b] {
        step(&api, t, id, "approve-brief", json!({})).await;
    }
    clock.set(T0 + DAY);
    for id in [&a, &b] {
        step(
            &api,
            t,
            id,
            "versions",
            json!({"url": "https://drive.example.com/v1.mp4"}),
        )
        .await;
        step(&api, t, id, "submit", json!({})).await;
    }
    clock.set(T0 + 2 * DAY);
    step(&api, t, &a, "decisions", json!({"decision": "approve"})).await;
    step(
        &api,
        t,
        &b,
        "decisions",
        json!({"decision": "request_changes", "comment": "Wrong offer", "revision": "major"}),
    )
    .await;
    step(
        &api,
        t,
        &a,
        "schedule",
        json!({"publish_at": at(T0 + 3 * DAY), "waive_qa_reason": "checked by hand"}),
    )
    .await;
    clock.set(T0 + 3 * DAY);
    step(&api, t, &a, "publish", json!({})).await;
    // One incident counts, a cancelled report does not.
    let inc = |title: &str| json!({"title": title, "severity": "sev3", "source": "brand_risk", "client": harbor});
    api.post("/api/v1/incidents", t, inc("Rude reply"))
        .await
        .expect(201, "incident");
    let wrong = api.post("/api/v1/incidents", t, inc("Wrong alarm")).await;
    wrong.expect(201, "incident 2");
    api.post(
        &format!("/api/v1/incidents/{}/cancel", wrong.id()),
        t,
        json!({"reason": "not an incident"}),
    )
    .await
    .expect(200, "cancel");

    clock.set(T0 + 4 * DAY);
    let q = format!(
        "/api/v1/kpis?from={}&to={}",
        common::enc(&at(T0 - DAY)),
        common::enc(&at(T0 + 5 * DAY))
    );
    let r = api.get(&q, t).await;
    r.expect(200, "kpis");
    let k = &r.body;
    assert_eq!(k["from"], at(T0 - DAY).as_str());
    assert_eq!(k["to"], at(T0 + 5 * DAY).as_str());

    let ttva = kpi(k, "time_to_verified_access");
    assert_eq!(
        (ttva["value"].as_f64(), ttva["n"].as_u64()),
        (Some(2.0), Some(1))
    );
    assert_eq!(ttva["unit"], "days");
    assert_eq!(ttva["durations"]["median_seconds"], 2 * 86_400);
    // Mon 09:00 → Wed 09:00 is two 8-hour business days.
    assert_eq!(ttva["durations"]["business_median_seconds"], 16 * 3600);

    // Signed Mon 09:00, first item published Thu 09:00.
    let ttfv = kpi(k, "time_to_first_value");
    assert_eq!(
        (ttfv["value"].as_f64(), ttfv["n"].as_u64()),
        (Some(3.0), Some(1))
    );
    assert!(ttfv["definition"].as_str().unwrap().contains("published"));

    // A only: three days, one day per stage (8 business hours each).
    let cycle = kpi(k, "cycle_time");
    assert_eq!(
        (cycle["value"].as_f64(), cycle["n"].as_u64()),
        (Some(3.0), Some(1))
    );
    assert_eq!(cycle["durations"]["business_median_seconds"], 24 * 3600);
    for stage in [
        "brief_to_draft",
        "draft_to_approved",
        "approved_to_published",
    ] {
        assert_eq!(
            cycle["stages"][stage]["median_seconds"], 86_400,
            "{stage}: {cycle}"
        );
    }

    // A approved in its round, B needed a major revision: 1 of 2.
    let rework = kpi(k, "rework_rate");
    assert_eq!(
        (rework["value"].as_f64(), rework["n"].as_u64()),
        (Some(50.0), Some(2))
    );
    assert_eq!(rework["unit"], "percent");
    assert_eq!(rework["reworked"], 1);

    // A published by its planned Friday; B still open past Tuesday's end.
    // No SOP run was due or done (the outbox that starts them never ran).
    let on_time = kpi(k, "on_time_delivery_rate");
    assert_eq!(
        (on_time["value"].as_f64(), on_time["n"].as_u64()),
        (Some(50.0), Some(2))
    );
    assert_eq!(
        on_time["content"],
        json!({"n": 2, "on_time": 1, "rate": 50.0})
    );
    assert_eq!(on_time["sops"], json!({"n": 0, "on_time": 0, "rate": null}));

    let incidents = kpi(k, "incident_count");
    assert_eq!(
        (incidents["value"].as_f64(), incidents["n"].as_u64()),
        (Some(1.0), Some(1))
    );
    assert_eq!(incidents["unit"], "count");
    assert_eq!(k["definitions_url"], "/kpis/definitions");

    // Per member: the admin added both first drafts (6 days = 6/7 week).
    let m = api
        .get(&q.replace("/api/v1/kpis?", "/api/v1/kpis/members?"), t)
        .await;
    m.expect(200, "members");
    let me = m.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["member"] == app.agency.admin.id.as_str())
        .expect("the admin")
        .clone();
    assert_eq!(
        me["creative"],
        json!({"items": 2, "per_week": 2.33, "first_draft_acceptance": 100.0, "approval_pass_rate": 50.0})
    );
    assert_eq!(me["runs"], Value::Null);

    // One client's figures: Acme has nothing yet (null, not 0).
    let r = api.get(&format!("{q}&client={acme}"), t).await;
    r.expect(200, "acme");
    assert_eq!(r.body["kpis"]["cycle_time"]["value"], Value::Null);
    assert_eq!(r.body["kpis"]["cycle_time"]["n"], 0);
    assert_eq!(r.body["kpis"]["incident_count"]["value"], 0.0);

    // The agency may count the first client approval instead: none yet.
    let s = api
        .put(
            "/api/v1/kpis/settings",
            t,
            json!({"first_value_rule": "client_approved"}),
        )
        .await;
    s.expect(200, "settings");
    let r = api.get(&q, t).await;
    assert_eq!(r.body["first_value_rule"], "client_approved");
    assert_eq!(r.body["kpis"]["time_to_first_value"]["n"], 0);
    api.put(
        "/api/v1/kpis/settings",
        t,
        json!({"first_value_rule": "whenever"}),
    )
    .await
    .problem(422, "unknown rule");

    // Moving B's plan to next week takes it out of this period's judgement,
    // and the move is on the timeline.
    let moved = api
        .post(
            &format!("/api/v1/content/{b}/plan"),
            t,
            json!({"planned_on": "2026-03-10", "reason": "client asked for next week"}),
        )
        .await;
    moved.expect(200, "replan");
    assert_eq!(moved.body["planned_on"], "2026-03-10");
    let events = api.client_events(t, &harbor).await;
    let replanned = events
        .iter()
        .find(|e| e["type"] == "content.replanned")
        .expect("replanned event");
    assert_eq!(replanned["data"]["from"], "2026-03-03");
    assert_eq!(replanned["data"]["to"], "2026-03-10");
    let r = api.get(&q, t).await;
    assert_eq!(
        r.body["kpis"]["on_time_delivery_rate"]["content"],
        json!({"n": 1, "on_time": 1, "rate": 100.0})
    );
    // A published item's plan is history.
    api.post(
        &format!("/api/v1/content/{a}/plan"),
        t,
        json!({"planned_on": "2026-03-20"}),
    )
    .await
    .problem(409, "published");
    api.post(
        &format!("/api/v1/content/{b}/plan"),
        t,
        json!({"planned_on": "2026-02-30"}),
    )
    .await
    .problem(422, "not a day");
    app.shutdown().await;
}

#[tokio::test]
async fn thirteen_weeks_as_json_and_csv() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    for title in ["Rude reply", "Leaked draft"] {
        api.post(
            "/api/v1/incidents",
            t,
            json!({"title": title, "severity": "sev3", "source": "brand_risk", "client": client}),
        )
        .await
        .expect(201, "incident");
    }
    clock.set(T0 + 2 * DAY);
    let r = api.get("/api/v1/kpis/weekly?weeks=13", t).await;
    r.expect(200, "weekly");
    let weeks = r.body["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 13);
    assert_eq!(weeks[12]["week"], "2026-W10", "newest last");
    assert_eq!(weeks[12]["from"], "2026-03-02");
    assert_eq!(weeks[12]["to"], "2026-03-08");
    assert_eq!(weeks[0]["week"], "2025-W50");
    assert_eq!(weeks[12]["kpis"]["incident_count"]["value"], 2.0);
    assert_eq!(weeks[11]["kpis"]["incident_count"]["value"], 0.0);
    for key in [
        "time_to_verified_access",
        "time_to_first_value",
        "cycle_time",
        "rework_rate",
        "on_time_delivery_rate",
        "incident_count",
    ] {
        assert!(weeks[12]["kpis"][key].is_object(), "{key}");
    }

    for (path, accept) in [
        ("/api/v1/kpis/weekly?weeks=13&format=csv", None),
        ("/api/v1/kpis/weekly?weeks=13", Some("text/csv")),
    ] {
        let mut rb = api.request(Method::GET, path, t);
        if let Some(a) = accept {
            rb = rb.header("accept", a);
        }
        let r = api.send(rb).await;
        r.expect(200, "csv");
        assert!(
            r.content_type().starts_with("text/csv"),
            "{}",
            r.content_type()
        );
        let lines: Vec<&str> = r.text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 14, "a header and 13 weeks: {}", r.text);
        assert!(lines[0].starts_with("week,from,to,time_to_verified_access_days,"));
        assert!(
            lines[13].starts_with("2026-W10,2026-03-02,2026-03-08,"),
            "{}",
            lines[13]
        );
    }
    // The client's own trend; another agency's client is not found.
    let r = api
        .get(&format!("/api/v1/kpis/weekly?weeks=4&client={client}"), t)
        .await;
    r.expect(200, "client weekly");
    assert_eq!(r.body["weeks"].as_array().unwrap().len(), 4);
    let rival = app.other_agency("admin@rival.test").await;
    api.get(
        &format!("/api/v1/kpis/weekly?client={client}"),
        &rival.token,
    )
    .await
    .problem(404, "another agency's client");
    api.get(&format!("/api/v1/kpis?client={client}"), &rival.token)
        .await
        .problem(404, "another agency's client");
    let theirs = api.get("/api/v1/kpis", &rival.token).await;
    theirs.expect(200, "rival kpis");
    assert_eq!(theirs.body["kpis"]["incident_count"]["value"], 0.0);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_422_and_settings_are_for_admins() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for (path, what) in [
        ("/api/v1/kpis/weekly?weeks=0", "zero weeks"),
        ("/api/v1/kpis/weekly?weeks=54", "too many weeks"),
        ("/api/v1/kpis/weekly?format=xml", "unknown format"),
        ("/api/v1/kpis?from=yesterday", "not a time"),
        (
            "/api/v1/kpis?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            "from after to",
        ),
    ] {
        api.get(path, t).await.problem(422, what);
    }
    api.get("/api/v1/kpis?client=cli_nope", t)
        .await
        .problem(404, "garbage client");
    let write = api.token(t, "write").await;
    api.put(
        "/api/v1/kpis/settings",
        &write,
        json!({"first_value_rule": "client_approved"}),
    )
    .await
    .problem(403, "a write token cannot change how KPIs count");
    let got = api.get("/api/v1/kpis/settings", &write).await;
    got.expect(200, "read settings");
    assert_eq!(got.body["first_value_rule"], "published");
    app.shutdown().await;
}
