//! `/api/v1/incidents`, `/api/v1/incident-severities` and
//! `/api/v1/kpis/incidents`: reporting (back-dated too), the ordered
//! lifecycle with 409s naming the allowed moves, the triage SLA moved by
//! the scheduler on a controlled clock (24/7: a Saturday night counts), the
//! `incident_response` SOP run that follows the incident, the postmortem
//! and follow-up actions that hold the close, the KPI, bad input and
//! tenant isolation.

use crate::common;

use baton_server::testing::TestApp;
use common::{count, ms, Api};
use serde_json::{json, Value};

const MINUTE: i64 = 60_000;
/// Saturday 2026-03-07 22:00:00 UTC: outside any business hours.
const SAT_22: i64 = 1_772_920_800_000;

fn at(ms: i64) -> String {
    baton_core::clock::rfc3339(ms)
}

async fn member(api: &Api, t: &str, email: &str, role: &str) -> String {
    let r = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": email, "name": format!("{role} person"), "roles": [role]}),
        )
        .await;
    r.expect(201, "create member");
    r.id()
}

async fn report(api: &Api, t: &str, body: Value) -> Value {
    let r = api.post("/api/v1/incidents", t, body).await;
    r.expect(201, "report");
    r.body.clone()
}

async fn mv(api: &Api, t: &str, id: &str, action: &str, body: Value) -> common::Resp {
    api.post(&format!("/api/v1/incidents/{id}/{action}"), t, body)
        .await
}

async fn events_of(app: &TestApp, kind: &str, id: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) FROM events WHERE type = '{kind}' AND entity_id = $1"),
        id,
    )
    .await
}

async fn run_json(api: &Api, t: &str, run_id: &str) -> Value {
    api.get(&format!("/api/v1/sop-runs/{run_id}"), t).await.body
}

#[tokio::test]
async fn an_incident_goes_from_report_to_close_with_one_timeline() {
    let (app, clock) = TestApp::spawn_at(SAT_22).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let lead = member(&api, t, "lead@agency.test", "account_lead").await;
    let client = api.create_client(t, "Harbor Coffee").await;
    let i = report(
        &api,
        t,
        json!({"title": "Wrong price in a live post", "severity": "sev3", "source": "publishing_error",
               "client": client, "summary": "The promo post says 5 € instead of 15 €.",
               "occurred_at": at(SAT_22 - 10 * MINUTE)}),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("inc_"), "{id}");
    assert_eq!(i["status"], "reported");
    assert_eq!(i["severity"], "sev3");
    assert_eq!(i["client"], client.as_str());
    assert_eq!(ms(&i["reported_at"]), SAT_22);
    assert_eq!(ms(&i["occurred_at"]), SAT_22 - 10 * MINUTE);
    // 24/7: due an hour later on a Saturday night, at risk at half of it.
    assert_eq!(ms(&i["triage_due_at"]), SAT_22 + 60 * MINUTE);
    assert_eq!(ms(&i["triage_at_risk_at"]), SAT_22 + 30 * MINUTE);
    assert_eq!(i["triage_breached"], false);
    assert_eq!(i["triage_on_time"], Value::Null);
    assert_eq!(i["allowed_moves"], json!(["triage", "cancel"]));

    clock.advance(12 * MINUTE);
    let r = mv(
        &api,
        t,
        &id,
        "triage",
        json!({"lead": lead, "plan": "Edit the caption, pin a correction reply.", "severity": "sev2"}),
    )
    .await;
    r.expect(200, "triage");
    assert_eq!(r.body["status"], "triaged");
    assert_eq!(r.body["severity"], "sev2", "severity confirmed at triage");
    assert_eq!(r.body["lead"], lead.as_str());
    assert_eq!(r.body["triage_on_time"], true);
    assert_eq!(r.body["triage_breached"], false);
    api.post(
        &format!("/api/v1/incidents/{id}/notes"),
        t,
        json!({"note": "Client called", "at": at(SAT_22 + 5 * MINUTE)}),
    )
    .await
    .expect(201, "note");
    clock.advance(10 * MINUTE);
    mv(&api, t, &id, "mitigate", json!({"note": "Caption fixed"}))
        .await
        .expect(200, "mitigate");
    clock.advance(10 * MINUTE);
    let r = mv(
        &api,
        t,
        &id,
        "resolve",
        json!({"note": "Fixed and answered within 40 minutes."}),
    )
    .await;
    r.expect(200, "resolve");
    assert_eq!(
        r.body["closing_summary"],
        "Fixed and answered within 40 minutes."
    );
    // sev2 now: a postmortem is required to close.
    let no_pm = mv(&api, t, &id, "close", json!({})).await;
    no_pm.problem(422, "close a sev2 without a postmortem");
    assert!(no_pm.text.contains("postmortem"), "{}", no_pm.text);
    let pm = json!({"summary": "Wrong price", "impact": "2,000 views", "detection": "A follower",
                    "response": "Edited in 20 minutes", "root_cause": "Price not in the QA checklist"});
    let r = mv(&api, t, &id, "close", json!({"postmortem": pm})).await;
    r.expect(200, "close with a postmortem");
    assert_eq!(r.body["status"], "closed");
    assert_eq!(
        r.body["postmortem"]["root_cause"],
        "Price not in the QA checklist"
    );
    assert_eq!(r.body["allowed_moves"], json!([]));

    let got = api.get(&format!("/api/v1/incidents/{id}"), t).await;
    got.expect(200, "get");
    let kinds: Vec<&str> = got.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "incident.opened",
            "note",
            "incident.triaged",
            "incident.mitigated",
            "incident.resolved",
            "incident.postmortem_saved",
            "incident.closed"
        ],
        "{}",
        got.text
    );
    let note = &got.body["timeline"][1];
    assert_eq!(note["text"], "Client called");
    assert_eq!(ms(&note["at"]), SAT_22 + 5 * MINUTE, "the note's own time");
    // Times are ordered: no move before the one it follows.
    let b = &got.body;
    assert!(ms(&b["triaged_at"]) <= ms(&b["mitigated_at"]));
    assert!(ms(&b["mitigated_at"]) <= ms(&b["resolved_at"]));
    assert!(ms(&b["resolved_at"]) <= ms(&b["closed_at"]));
    app.shutdown().await;
}

#[tokio::test]
async fn a_move_out_of_order_is_409_naming_the_allowed_moves() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let i = report(
        &api,
        t,
        json!({"title": "Hacked account", "severity": "sev1", "source": "brand_risk"}),
    )
    .await;
    let id = i["id"].as_str().unwrap();
    for (action, body) in [
        ("mitigate", json!({})),
        ("resolve", json!({"note": "done"})),
        ("close", json!({})),
    ] {
        let r = mv(&api, t, id, action, body).await;
        r.problem(409, action);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("allowed: triage, cancel"),
            "{action}: {}",
            r.text
        );
    }
    let r = mv(&api, t, id, "cancel", json!({"reason": "A test post"})).await;
    r.expect(200, "cancel");
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["cancel_reason"], "A test post");
    let again = mv(&api, t, id, "cancel", json!({"reason": "again"})).await;
    again.problem(409, "no moves left");
    assert!(again.text.contains("no moves are left"), "{}", again.text);
    app.shutdown().await;
}

#[tokio::test]
async fn the_scheduler_breaches_an_untriaged_incident_once_and_escalates() {
    let (app, clock) = TestApp::spawn_at(SAT_22).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let lead = member(&api, t, "al@agency.test", "account_lead").await;
    let client = api.create_client(t, "Night Owl Bar").await;
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lead}], "traffic_control": lead}),
    )
    .await
    .expect(200, "team");
    let i = report(
        &api,
        t,
        json!({"title": "Angry thread going viral", "severity": "sev2", "source": "brand_risk", "client": client}),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    clock.set(SAT_22 + 29 * MINUTE);
    app.tick_scheduler().await;
    assert_eq!(events_of(&app, "incident.triage_at_risk", &id).await, 0);
    clock.set(SAT_22 + 30 * MINUTE);
    app.tick_scheduler().await;
    assert_eq!(events_of(&app, "incident.triage_at_risk", &id).await, 1);
    clock.set(SAT_22 + 60 * MINUTE);
    app.tick_scheduler().await;
    app.tick_scheduler().await;
    assert_eq!(
        events_of(&app, "incident.triage_breached", &id).await,
        1,
        "once"
    );
    let got = api.get(&format!("/api/v1/incidents/{id}"), t).await.body;
    assert_eq!(got["status"], "reported");
    assert_eq!(got["triage_breached"], true);
    let breach = got["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "incident.triage_breached")
        .expect("the breach on the timeline")
        .clone();
    assert_eq!(
        ms(&breach["at"]),
        SAT_22 + 60 * MINUTE,
        "at the due instant"
    );
    // The account lead heard of it (in-app notice).
    let notices = count(
        &app,
        "SELECT COUNT(*) FROM notices WHERE incident_id = $1 AND kind = 'incident.triage_breached'",
        &id,
    )
    .await;
    assert!(notices >= 1, "{notices}");
    // Triaged late: on time is false, breached stays true.
    mv(
        &api,
        t,
        &id,
        "triage",
        json!({"lead": lead, "plan": "Reply with the statement"}),
    )
    .await
    .expect(200, "late triage");
    let got = api.get(&format!("/api/v1/incidents/{id}"), t).await.body;
    assert_eq!(got["triage_on_time"], false);
    assert_eq!(got["triage_breached"], true);
    app.shutdown().await;
}

#[tokio::test]
async fn a_back_dated_report_is_breached_at_once_and_never_in_the_future() {
    let (app, _clock) = TestApp::spawn_at(SAT_22).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let i = report(
        &api,
        t,
        json!({"title": "Imported from the old log", "severity": "sev3", "source": "other",
               "reported_at": at(SAT_22 - 3 * 60 * MINUTE), "occurred_at": at(SAT_22 - 4 * 60 * MINUTE)}),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    assert_eq!(ms(&i["reported_at"]), SAT_22 - 180 * MINUTE);
    assert_eq!(ms(&i["triage_due_at"]), SAT_22 - 120 * MINUTE);
    assert_eq!(i["triage_breached"], true);
    app.tick_scheduler().await;
    let got = api.get(&format!("/api/v1/incidents/{id}"), t).await.body;
    let breach = got["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "incident.triage_breached")
        .expect("breached within one tick")
        .clone();
    assert_eq!(ms(&breach["at"]), SAT_22 - 120 * MINUTE);

    let future = api
        .post(
            "/api/v1/incidents",
            t,
            json!({"title": "x", "severity": "sev3", "source": "other", "reported_at": at(SAT_22 + 60 * MINUTE)}),
        )
        .await;
    future.problem(422, "reported in the future");
    assert!(future.text.contains("reported_at"), "{}", future.text);
    let backwards = api
        .post(
            "/api/v1/incidents",
            t,
            json!({"title": "x", "severity": "sev3", "source": "other",
                   "reported_at": at(SAT_22 - 60 * MINUTE), "occurred_at": at(SAT_22 - 30 * MINUTE)}),
        )
        .await;
    backwards.problem(422, "occurred after the report");
    assert!(backwards.text.contains("occurred_at"), "{}", backwards.text);
    app.shutdown().await;
}

#[tokio::test]
async fn the_incident_response_run_follows_the_incident_and_completes_itself() {
    let (app, clock) = TestApp::spawn_at(SAT_22).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let lead = member(&api, t, "ir@agency.test", "account_lead").await;
    let client = api.create_client(t, "Follow Co").await;
    let i = report(
        &api,
        t,
        json!({"title": "Offensive reply by the brand account", "severity": "sev3", "source": "brand_risk", "client": client}),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    app.drain_outbox().await;
    let got = api.get(&format!("/api/v1/incidents/{id}"), t).await.body;
    let run_id = got["run"]
        .as_str()
        .expect("the incident started its run")
        .to_string();
    let r = run_json(&api, t, &run_id).await;
    assert_eq!(r["sop_key"], "incident_response");
    assert_eq!(r["subject"]["type"], "incident", "{r}");
    let done = |r: &Value| -> Vec<String> {
        r["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["done"] == true)
            .map(|x| x["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(done(&r).is_empty(), "{r}");
    clock.advance(5 * MINUTE);
    mv(
        &api,
        t,
        &id,
        "triage",
        json!({"lead": lead, "plan": "Delete and apologise"}),
    )
    .await
    .expect(200, "triage");
    assert_eq!(
        done(&run_json(&api, t, &run_id).await),
        ["triage", "response_plan"]
    );
    mv(&api, t, &id, "mitigate", json!({}))
        .await
        .expect(200, "mitigate");
    assert_eq!(
        done(&run_json(&api, t, &run_id).await),
        ["triage", "response_plan", "plan_executed"]
    );
    mv(
        &api,
        t,
        &id,
        "resolve",
        json!({"note": "Apology posted, reply removed."}),
    )
    .await
    .expect(200, "resolve");
    let r = run_json(&api, t, &run_id).await;
    assert_eq!(r["status"], "done", "{r}");
    assert_eq!(r["done_by"], "Baton");
    assert_eq!(r["on_time"], true);

    // A cancelled incident cancels its run.
    let other = report(
        &api,
        t,
        json!({"title": "False alarm", "severity": "sev3", "source": "other", "client": client}),
    )
    .await;
    let other_id = other["id"].as_str().unwrap().to_string();
    app.drain_outbox().await;
    mv(&api, t, &other_id, "cancel", json!({"reason": "Not ours"}))
        .await
        .expect(200, "cancel");
    let got = api
        .get(&format!("/api/v1/incidents/{other_id}"), t)
        .await
        .body;
    let r = api
        .get(
            &format!("/api/v1/sop-runs/{}", got["run"].as_str().unwrap()),
            t,
        )
        .await
        .body;
    assert_eq!(r["status"], "cancelled", "{r}");
    app.shutdown().await;
}

#[tokio::test]
async fn open_follow_up_actions_hold_the_close_unless_an_admin_overrides() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let owner = member(&api, t, "owner@agency.test", "project_manager").await;
    let i = report(
        &api,
        t,
        json!({"title": "Scheduled the wrong client's post", "severity": "sev1", "source": "publishing_error"}),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    mv(
        &api,
        t,
        &id,
        "triage",
        json!({"lead": owner, "plan": "Unpublish"}),
    )
    .await
    .expect(200, "triage");
    let pm = json!({"summary": "s", "impact": "i", "detection": "d", "response": "r", "root_cause": "c",
                    "actions": [{"title": "Add client check to QA", "owner": owner, "due_on": "2026-12-31"}]});
    let r = api
        .put(&format!("/api/v1/incidents/{id}/postmortem"), t, pm)
        .await;
    r.expect(200, "postmortem");
    let action = r.body["actions"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["actions"][0]["due_on"], "2026-12-31");
    mv(&api, t, &id, "mitigate", json!({}))
        .await
        .expect(200, "mitigate");
    mv(&api, t, &id, "resolve", json!({"note": "Unpublished"}))
        .await
        .expect(200, "resolve");
    let held = mv(&api, t, &id, "close", json!({})).await;
    held.problem(409, "open actions hold the close");
    assert!(
        held.text.contains("Add client check to QA"),
        "{}",
        held.text
    );
    let writer = common::non_admin_token(
        &app,
        &api,
        "writer@agency.test",
        baton_store::tokens::Scope::Write,
    )
    .await;
    mv(
        &api,
        &writer,
        &id,
        "close",
        json!({"override_reason": "Ship it"}),
    )
    .await
    .problem(403, "only admins override");
    api.post(
        &format!("/api/v1/incidents/{id}/actions/{action}/done"),
        t,
        json!({}),
    )
    .await
    .expect(200, "action done");
    api.post(
        &format!("/api/v1/incidents/{id}/actions/{action}/done"),
        t,
        json!({}),
    )
    .await
    .problem(409, "already done");
    let r = mv(&api, &writer, &id, "close", json!({})).await;
    r.expect(200, "close once the actions are done");
    assert_eq!(r.body["status"], "closed");

    // The admin's override, with its reason kept.
    let j = report(
        &api,
        t,
        json!({"title": "Second", "severity": "sev3", "source": "other"}),
    )
    .await;
    let jd = j["id"].as_str().unwrap().to_string();
    mv(&api, t, &jd, "triage", json!({"lead": owner, "plan": "p"}))
        .await
        .expect(200, "triage");
    api.put(
        &format!("/api/v1/incidents/{jd}/postmortem"),
        t,
        json!({"summary": "s", "impact": "i", "detection": "d", "response": "r", "root_cause": "c",
               "actions": [{"title": "Later", "owner": owner, "due_on": "2027-01-15"}]}),
    )
    .await
    .expect(200, "postmortem");
    mv(&api, t, &jd, "mitigate", json!({}))
        .await
        .expect(200, "mitigate");
    mv(&api, t, &jd, "resolve", json!({"note": "ok"}))
        .await
        .expect(200, "resolve");
    let r = mv(
        &api,
        t,
        &jd,
        "close",
        json!({"override_reason": "Tracked in the Q1 ops review"}),
    )
    .await;
    r.expect(200, "admin override");
    assert_eq!(r.body["close_override"], "Tracked in the Q1 ops review");
    app.shutdown().await;
}

#[tokio::test]
async fn the_kpi_counts_by_severity_and_source_with_triage_times() {
    let (app, clock) = TestApp::spawn_at(SAT_22).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let lead = member(&api, t, "k@agency.test", "account_lead").await;
    let client = api.create_client(t, "Counted Co").await;
    let a = report(
        &api,
        t,
        json!({"title": "A", "severity": "sev1", "source": "brand_risk", "client": client}),
    )
    .await;
    let b = report(
        &api,
        t,
        json!({"title": "B", "severity": "sev3", "source": "publishing_error"}),
    )
    .await;
    let c = report(
        &api,
        t,
        json!({"title": "C", "severity": "sev3", "source": "other"}),
    )
    .await;
    clock.advance(20 * MINUTE);
    mv(
        &api,
        t,
        a["id"].as_str().unwrap(),
        "triage",
        json!({"lead": lead, "plan": "p"}),
    )
    .await
    .expect(200, "triage a");
    clock.advance(70 * MINUTE);
    mv(
        &api,
        t,
        b["id"].as_str().unwrap(),
        "triage",
        json!({"lead": lead, "plan": "p"}),
    )
    .await
    .expect(200, "triage b late");
    mv(
        &api,
        t,
        c["id"].as_str().unwrap(),
        "cancel",
        json!({"reason": "dup"}),
    )
    .await
    .expect(200, "cancel c");
    let k = api.get("/api/v1/kpis/incidents", t).await;
    k.expect(200, "kpis");
    let k = &k.body;
    assert_eq!(k["count"], 2, "cancelled ones are not counted: {k}");
    assert_eq!(k["by_severity"]["sev1"], 1);
    assert_eq!(k["by_severity"]["sev3"], 1);
    assert_eq!(k["by_source"]["brand_risk"], 1);
    assert_eq!(k["by_source"]["publishing_error"], 1);
    assert_eq!(k["median_time_to_triage_seconds"], 20 * 60);
    assert_eq!(k["triage_on_time_rate"], 0.5);
    assert_eq!(k["open"], 2);
    assert!(k["definition"].as_str().unwrap().contains("24/7"));
    let one = api
        .get(&format!("/api/v1/kpis/incidents?client={client}"), t)
        .await;
    one.expect(200, "per client");
    assert_eq!(one.body["count"], 1);
    let listed = api.get("/api/v1/incidents?severity=sev3", t).await;
    listed.expect(200, "list");
    assert_eq!(listed.items().len(), 2);
    let open = api.get("/api/v1/incidents?open=true", t).await;
    assert_eq!(open.items().len(), 2);
    let page = api.get("/api/v1/incidents?limit=1", t).await;
    assert_eq!(page.items().len(), 1);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = api
        .get(&format!("/api/v1/incidents?limit=1&cursor={cursor}"), t)
        .await;
    next.expect(200, "next page");
    assert_ne!(next.items()[0]["id"], page.items()[0]["id"]);
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_422_and_a_read_token_cannot_report() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for (body, field) in [
        (
            json!({"title": "x", "severity": "sev4", "source": "other"}),
            "severity",
        ),
        (
            json!({"title": "x", "severity": "sev1", "source": "weather"}),
            "source",
        ),
        (
            json!({"title": "", "severity": "sev1", "source": "other"}),
            "title",
        ),
        (
            json!({"title": "x", "severity": "sev1", "source": "other", "client": "cli_01JD0000000000000000000000"}),
            "client",
        ),
        (
            json!({"title": "x", "severity": "sev1", "source": "other", "client": "mem_01JD0000000000000000000000"}),
            "client",
        ),
    ] {
        let r = api.post("/api/v1/incidents", t, body.clone()).await;
        r.problem(422, field);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let read = api.token(t, "read").await;
    api.post(
        "/api/v1/incidents",
        &read,
        json!({"title": "x", "severity": "sev1", "source": "other"}),
    )
    .await
    .problem(403, "a read token cannot report");
    let i = report(
        &api,
        t,
        json!({"title": "Real", "severity": "sev3", "source": "other"}),
    )
    .await;
    let id = i["id"].as_str().unwrap();
    mv(
        &api,
        t,
        id,
        "triage",
        json!({"lead": "mem_01JD0000000000000000000000", "plan": "p"}),
    )
    .await
    .problem(422, "an unknown lead");
    mv(
        &api,
        t,
        id,
        "triage",
        json!({"lead": app.agency.admin.id, "plan": "  "}),
    )
    .await
    .problem(422, "a blank plan");
    api.get("/api/v1/incidents/inc_nope", t)
        .await
        .problem(404, "a wrong-shaped id");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_sees_none_of_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let i = report(
        &api,
        t,
        json!({"title": "Ours", "severity": "sev2", "source": "brand_risk"}),
    )
    .await;
    let id = i["id"].as_str().unwrap();
    let rival = app.other_agency("admin@rival.test").await;
    let rt = &rival.token;
    api.get(&format!("/api/v1/incidents/{id}"), rt)
        .await
        .problem(404, "get");
    mv(&api, rt, id, "cancel", json!({"reason": "mine now"}))
        .await
        .problem(404, "cancel");
    api.post(
        &format!("/api/v1/incidents/{id}/notes"),
        rt,
        json!({"note": "hi"}),
    )
    .await
    .problem(404, "note");
    assert!(api.get("/api/v1/incidents", rt).await.items().is_empty());
    assert_eq!(api.get("/api/v1/kpis/incidents", rt).await.body["count"], 0);
    // A client of ours cannot be named by the rival.
    let client = api.create_client(t, "Ours Co").await;
    api.post(
        "/api/v1/incidents",
        rt,
        json!({"title": "x", "severity": "sev3", "source": "other", "client": client}),
    )
    .await
    .problem(422, "another agency's client");
    app.shutdown().await;
}

#[tokio::test]
async fn severities_are_the_agencys_to_word_and_time() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let list = api.get("/api/v1/incident-severities", t).await;
    list.expect(200, "severities");
    assert_eq!(list.items().len(), 3);
    assert_eq!(list.items()[0]["triage_minutes"], 60);
    let r = api
        .put(
            "/api/v1/incident-severities/sev1",
            t,
            json!({"definition": "Anything a client's customers can see going wrong", "triage_minutes": 15}),
        )
        .await;
    r.expect(200, "save sev1");
    assert_eq!(r.body["customized"], true);
    let i = report(
        &api,
        t,
        json!({"title": "Fast", "severity": "sev1", "source": "brand_risk"}),
    )
    .await;
    assert_eq!(ms(&i["triage_due_at"]) - ms(&i["reported_at"]), 15 * MINUTE);
    api.put(
        "/api/v1/incident-severities/sev1",
        t,
        json!({"definition": "x", "triage_minutes": 2}),
    )
    .await
    .problem(422, "too short");
    api.put(
        "/api/v1/incident-severities/sev9",
        t,
        json!({"definition": "x", "triage_minutes": 30}),
    )
    .await
    .problem(404, "no such severity");
    let writer = common::non_admin_token(
        &app,
        &api,
        "w2@agency.test",
        baton_store::tokens::Scope::Write,
    )
    .await;
    api.put(
        "/api/v1/incident-severities/sev2",
        &writer,
        json!({"definition": "x", "triage_minutes": 30}),
    )
    .await
    .problem(403, "admins only");
    app.shutdown().await;
}
