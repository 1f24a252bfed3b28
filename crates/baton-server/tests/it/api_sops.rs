//! `/api/v1/sops`, `/api/v1/sop-runs`, `/api/v1/kpis/sops` and
//! `/api/v1/notices`: the library and its versions, runs started by events
//! and by hand, owners, checklists and the definition of done, pauses, the
//! scheduler on a controlled clock, escalation notices and emails, the
//! on-time KPI, bad input and tenant isolation.

use crate::common;

use baton_server::testing::TestApp;
use common::{count, ms, now_ms, Api};
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;
/// Monday 2026-03-02 09:00:00 UTC.
const MON_9: i64 = 1_772_442_000_000;

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

async fn run_of(api: &Api, t: &str, id: &str) -> common::Resp {
    api.get(&format!("/api/v1/sop-runs/{id}"), t).await
}

async fn start(api: &Api, t: &str, sop: &str, client: &str, started_at: Option<i64>) -> Value {
    let mut body = json!({"sop": sop, "client": client});
    if let Some(s) = started_at {
        body["started_at"] = json!(at(s));
    }
    let r = api.post("/api/v1/sop-runs", t, body).await;
    r.expect(201, "start run");
    r.body.clone()
}

/// Runs the outbox worker's and the scheduler's passes, then returns the
/// client's run of `sop` in `status`, or panics.
async fn wait_for_run(
    app: &TestApp,
    api: &Api,
    t: &str,
    client: &str,
    sop: &str,
    status: &str,
) -> Value {
    app.drain_outbox().await;
    app.tick_scheduler().await;
    let r = api
        .get(&format!("/api/v1/sop-runs?client={client}"), t)
        .await;
    r.expect(200, "list runs");
    r.items()
        .iter()
        .find(|x| x["sop_key"] == sop && x["status"] == status)
        .cloned()
        .unwrap_or_else(|| panic!("no {sop} run reached {status} for {client}: {}", r.text))
}

#[tokio::test]
async fn the_library_lists_the_nine_default_sops() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let r = api.get("/api/v1/sops", &app.agency.token).await;
    r.expect(200, "list sops");
    let keys: Vec<&str> = r
        .items()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "sales_handoff",
            "access_setup",
            "content_intake",
            "creative_production",
            "review_approval",
            "publishing_qa",
            "weekly_performance",
            "incident_response",
            "offboarding"
        ]
    );
    let access = &r.items()[1];
    assert_eq!(access["owner_role"], "project_manager");
    assert_eq!(access["trigger"], "kickoff_scheduled");
    assert_eq!(
        access["sla"],
        json!({"unit": "hours", "target": 24.0, "limit": 72.0})
    );
    assert!(access["checklist"].as_array().unwrap().len() >= 3);
    assert_eq!(access["version"], 1);
    assert_eq!(access["customized"], false);
    let g = api.get("/api/v1/sops/offboarding", &app.agency.token).await;
    g.expect(200, "get one sop");
    assert_eq!(g.body["sla"]["limit"], 168.0);
    api.get("/api/v1/sops/nope", &app.agency.token)
        .await
        .problem(404, "unknown sop");
    app.shutdown().await;
}

#[tokio::test]
async fn a_back_dated_contract_signed_is_breached_within_seconds_with_the_breach_on_the_timeline() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Late Co").await;
    let signed = now_ms() - 10 * 24 * HOUR;
    api.event(
        t,
        &client,
        json!({"type": "contract_signed", "occurred_at": at(signed)}),
    )
    .await
    .expect(201, "back-dated contract_signed");
    let run = wait_for_run(&app, &api, t, &client, "sales_handoff", "breached").await;
    assert!(run["id"].as_str().unwrap().starts_with("run_"));
    assert!(run["due_at"].as_str().unwrap().ends_with('Z'), "{run}");
    assert_eq!(ms(&run["started_at"]), signed);
    assert_eq!(ms(&run["due_at"]), signed + 24 * HOUR);
    assert!(run["trigger_event_id"]
        .as_str()
        .unwrap()
        .starts_with("evt_"));
    let events = api.client_events(t, &client).await;
    let breach = events
        .iter()
        .find(|e| e["type"] == "sop_run.breached")
        .expect("breach event on the timeline");
    assert_eq!(breach["entity_id"], run["id"]);
    assert_eq!(ms(&breach["occurred_at"]), signed + 24 * HOUR);
    assert!(events.iter().any(|e| e["type"] == "sop_run.started"));
    // Unowned (no team, no traffic control): flagged, and the admins hear of it.
    assert_eq!(run["unowned"], true);
    let n = api.get("/api/v1/notices", t).await;
    n.expect(200, "notices");
    assert!(n.body["unread"].as_i64().unwrap() >= 1, "{}", n.text);
    assert!(n
        .items()
        .iter()
        .any(|x| x["kind"] == "sop_run.breached" && x["run_id"] == run["id"]));
    let m = api.post("/api/v1/notices/read", t, json!({})).await;
    m.expect(200, "mark read");
    assert_eq!(api.get("/api/v1/notices", t).await.body["unread"], 0);
    app.shutdown().await;
}

#[tokio::test]
async fn kickoff_and_contract_end_start_their_sops_once_each() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Trigger Co").await;
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "signed");
    api.event(t, &client, json!({"type": "kickoff_scheduled"}))
        .await
        .expect(201, "kickoff");
    let access = wait_for_run(&app, &api, t, &client, "access_setup", "on_track").await;
    assert_eq!(
        ms(&access["due_at"]) - ms(&access["started_at"]),
        72 * HOUR,
        "24–72 hours: due at the limit"
    );
    wait_for_run(&app, &api, t, &client, "sales_handoff", "on_track").await;
    // A note starts nothing.
    api.event(t, &client, json!({"type": "note", "note": "hello"}))
        .await
        .expect(201, "note");
    app.drain_outbox().await;
    let all = api
        .get(&format!("/api/v1/sop-runs?client={client}"), t)
        .await;
    assert_eq!(all.items().len(), 2, "{}", all.text);
    app.shutdown().await;
}

#[tokio::test]
async fn owners_come_from_the_team_then_traffic_control_and_follow_team_changes() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let pm = member(&api, t, "pm@northwind.test", "project_manager").await;
    let lead = member(&api, t, "lead@northwind.test", "account_lead").await;
    let client = api.create_client(t, "Owned Co").await;

    let unowned = start(&api, t, "access_setup", &client, None).await;
    assert_eq!(unowned["owner_source"], "unowned");
    assert_eq!(unowned["unowned"], true);

    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lead}], "traffic_control": lead}),
    )
    .await
    .expect(200, "team with a lead only");
    // The PM-owned run falls back to traffic control once the team changes.
    app.drain_outbox().await;
    let run = api
        .get(
            &format!("/api/v1/sop-runs/{}", unowned["id"].as_str().unwrap()),
            t,
        )
        .await
        .body;
    assert_eq!(run["owner_member_id"], lead.as_str(), "{run}");
    assert_eq!(run["owner_source"], "traffic_control");

    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lead}, {"role": "project_manager", "member_id": pm}], "traffic_control": lead}),
    )
    .await
    .expect(200, "team with a PM");
    let fresh = start(&api, t, "access_setup", &client, None).await;
    assert_eq!(fresh["owner_member_id"], pm.as_str());
    assert_eq!(fresh["owner_source"], "role");

    // Assigned by hand: kept.
    let a = api
        .post(
            &format!("/api/v1/sop-runs/{}/assign", fresh["id"].as_str().unwrap()),
            t,
            json!({"member": lead}),
        )
        .await;
    a.expect(200, "assign");
    assert_eq!(a.body["owner_source"], "assigned");
    api.post(
        &format!("/api/v1/sop-runs/{}/assign", fresh["id"].as_str().unwrap()),
        t,
        json!({"member": "mem_01J00000000000000000000000"}),
    )
    .await
    .problem(422, "assign to a stranger");

    // My runs by owner.
    let mine = api
        .get(&format!("/api/v1/sop-runs?owner={lead}&open=true"), t)
        .await;
    assert_eq!(mine.items().len(), 2, "{}", mine.text);
    app.shutdown().await;
}

#[tokio::test]
async fn a_run_completes_only_when_its_definition_of_done_is_met() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Done Co").await;
    // Weekly reporting: a checklist people tick (Baton does not know it).
    let run = start(&api, t, "weekly_performance", &client, None).await;
    let id = run["id"].as_str().unwrap();
    let c = api
        .post(&format!("/api/v1/sop-runs/{id}/complete"), t, json!({}))
        .await;
    c.problem(409, "incomplete checklist");
    assert!(c.text.contains("definition of done"), "{}", c.text);

    let path = format!("/api/v1/sop-runs/{id}/checklist");
    api.put(&path, t, json!({"items": {"nope": true}}))
        .await
        .problem(422, "unknown item");
    api.put(&path, t, json!({"items": {}}))
        .await
        .problem(422, "no items");
    let keys: Vec<String> = run["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    let first = json!({"items": {keys[0].clone(): true}});
    let r = api.put(&path, t, first).await;
    r.expect(200, "tick one");
    assert_eq!(r.body["checklist"][0]["done"], true);
    assert!(r.body["checklist"][0]["done_by"].is_string());
    let all: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.clone(), json!(true))).collect();
    api.put(&path, t, json!({"items": all}))
        .await
        .expect(200, "tick all");
    let done = api
        .post(&format!("/api/v1/sop-runs/{id}/complete"), t, json!({}))
        .await;
    done.expect(200, "complete");
    assert_eq!(done.body["status"], "done");
    assert_eq!(done.body["on_time"], true);
    api.post(&format!("/api/v1/sop-runs/{id}/complete"), t, json!({}))
        .await
        .problem(409, "complete twice");
    api.put(&path, t, json!({"items": {keys[0].clone(): false}}))
        .await
        .problem(409, "change a done run");

    // The handoff's brief items are not ticked by hand.
    let h = start(&api, t, "sales_handoff", &client, None).await;
    api.put(
        &format!("/api/v1/sop-runs/{}/checklist", h["id"].as_str().unwrap()),
        t,
        json!({"items": {"scope_documented": true}}),
    )
    .await
    .problem(422, "brief items follow the brief");

    let k = api.get("/api/v1/kpis/sops", t).await;
    k.expect(200, "kpis");
    assert_eq!(k.body["overall"]["done"], 1, "{}", k.text);
    assert_eq!(k.body["overall"]["on_time"], 1);
    assert_eq!(k.body["overall"]["on_time_rate"], 1.0);
    assert!(k.body["by_sop"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["key"] == "weekly_performance" && s["done"] == 1));
    api.get(
        "/api/v1/kpis/sops?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        t,
    )
    .await
    .problem(422, "from after to");
    app.shutdown().await;
}

#[tokio::test]
async fn the_scheduler_moves_runs_at_their_thresholds_and_pauses_do_not_count() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let pm = member(&api, t, "pm@northwind.test", "project_manager").await;
    let lead = member(&api, t, "lead@northwind.test", "account_lead").await;
    let client = api.create_client(t, "Clocked Co").await;
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lead}, {"role": "project_manager", "member_id": pm}], "traffic_control": pm}),
    )
    .await
    .expect(200, "team");
    // access_setup: 24–72 wall-clock hours.
    let run = start(&api, t, "access_setup", &client, None).await;
    let id = run["id"].as_str().unwrap().to_string();
    assert_eq!(ms(&run["at_risk_at"]), MON_9 + 24 * HOUR);
    assert_eq!(ms(&run["due_at"]), MON_9 + 72 * HOUR);
    clock.set(MON_9 + 24 * HOUR - 1);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(run_of(&api, t, &id).await.body["status"], "on_track");
    clock.set(MON_9 + 24 * HOUR);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    let r = run_of(&api, t, &id).await;
    assert_eq!(r.body["status"], "at_risk", "{}", r.text);
    assert_eq!(ms(&r.body["at_risk_since"]), MON_9 + 24 * HOUR);
    // At risk: the owner (the PM) is told, the escalation role (lead) not yet.
    let notices = |member: String| {
        let app = &app;
        async move {
            count(
                app,
                "SELECT COUNT(*) FROM notices WHERE member_id = $1",
                &member,
            )
            .await
        }
    };
    assert_eq!(notices(pm.clone()).await, 1);
    assert_eq!(notices(lead.clone()).await, 0);

    // Paused 10 hours while waiting on the client: the deadline moves 10 hours.
    api.post(
        &format!("/api/v1/sop-runs/{id}/pause"),
        t,
        json!({"reason": " "}),
    )
    .await
    .problem(422, "pause without a reason");
    let p = api
        .post(
            &format!("/api/v1/sop-runs/{id}/pause"),
            t,
            json!({"reason": "waiting on the client's Meta admin"}),
        )
        .await;
    p.expect(200, "pause");
    assert_eq!(p.body["status"], "paused");
    api.post(
        &format!("/api/v1/sop-runs/{id}/pause"),
        t,
        json!({"reason": "again"}),
    )
    .await
    .problem(409, "pause twice");
    clock.set(MON_9 + 34 * HOUR);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(run_of(&api, t, &id).await.body["status"], "paused");
    let resumed = api
        .post(&format!("/api/v1/sop-runs/{id}/resume"), t, json!({}))
        .await;
    resumed.expect(200, "resume");
    assert_eq!(ms(&resumed.body["due_at"]), MON_9 + 82 * HOUR);
    assert_eq!(resumed.body["paused_seconds"], 10 * 3600);
    assert_eq!(resumed.body["status"], "at_risk");
    api.post(&format!("/api/v1/sop-runs/{id}/resume"), t, json!({}))
        .await
        .problem(409, "resume a running run");

    // At its due instant a run is not breached yet: done then, it is on time.
    clock.set(MON_9 + 82 * HOUR);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(run_of(&api, t, &id).await.body["status"], "at_risk");
    clock.set(MON_9 + 82 * HOUR + 1);
    let tick = baton_server::scheduler::tick(&app.state).await.unwrap();
    let r = run_of(&api, t, &id).await;
    assert_eq!(r.body["status"], "breached", "{}", r.text);
    assert!(tick.changed <= 1);
    assert_eq!(ms(&r.body["breached_since"]), MON_9 + 82 * HOUR);
    // Breached: the owner again and the escalation role (the account lead).
    assert_eq!(notices(pm.clone()).await, 2);
    assert_eq!(notices(lead.clone()).await, 1);
    let events = api.client_events(t, &client).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for ty in [
        "sop_run.started",
        "sop_run.at_risk",
        "sop_run.paused",
        "sop_run.resumed",
        "sop_run.breached",
    ] {
        assert_eq!(
            types.iter().filter(|x| **x == ty).count(),
            1,
            "{ty}: {types:?}"
        );
    }
    // Ticking again changes nothing; no run is left for the scheduler, only
    // the end of the agency's day (Thursday 00:00, the cadences' clock)
    // before the end of its week (Friday 17:00, the scorecard's clock).
    let again = baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(again.changed, 0);
    assert_eq!(again.next_change_at, Some(MON_9 + 87 * HOUR));
    app.shutdown().await;
}

#[tokio::test]
async fn business_hour_slas_follow_the_agency_calendar() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Calendar Co").await;
    // content_intake: 1 business day. Friday 16:00 → Monday 16:00 by default.
    let fri_16 = MON_9 - 3 * 24 * HOUR + 7 * HOUR;
    let r = start(&api, t, "content_intake", &client, Some(fri_16)).await;
    assert_eq!(ms(&r["due_at"]), fri_16 + 3 * 24 * HOUR, "{r}");
    assert_eq!(r["sla"], "1 business day");
    assert_eq!(r["status"], "on_track");
    // With Berlin's calendar, the same SLA counts Berlin's working hours.
    api.put(
        "/api/v1/agency/calendar",
        t,
        json!({"timezone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]],
               "wed": [["09:00", "17:00"]], "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}}),
    )
    .await
    .expect(200, "berlin calendar");
    // Friday 16:00 UTC is 17:00 in Berlin: after hours, so the day starts Monday 09:00 Berlin (08:00 UTC).
    let b = start(&api, t, "content_intake", &client, Some(fri_16)).await;
    assert_eq!(ms(&b["due_at"]), MON_9 - HOUR + 8 * HOUR, "{b}");
    app.shutdown().await;
}

#[tokio::test]
async fn editing_an_sop_makes_a_version_and_running_runs_keep_theirs() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Version Co").await;
    let old = start(&api, t, "access_setup", &client, None).await;
    let mut body = api.get("/api/v1/sops/access_setup", t).await.body;
    let obj = body.as_object_mut().unwrap();
    for k in [
        "key",
        "sla_text",
        "version",
        "customized",
        "default",
        "changed_by",
        "changed_at",
    ] {
        obj.remove(k);
    }
    obj.insert(
        "sla".into(),
        json!({"unit": "business_hours", "target": 8, "limit": 16}),
    );
    obj.insert("reason".into(), json!(""));
    api.put("/api/v1/sops/access_setup", t, body.clone())
        .await
        .problem(422, "no reason");
    body["reason"] = json!("Clients answer within two working days");
    let put = api.put("/api/v1/sops/access_setup", t, body.clone()).await;
    put.expect(200, "edit sop");
    assert_eq!(put.body["version"], 2);
    assert_eq!(put.body["customized"], true);
    assert_eq!(put.body["sla_text"], "8–16 business hours");
    // The same definition again is not a new version.
    let same = api.put("/api/v1/sops/access_setup", t, body.clone()).await;
    assert_eq!(same.body["version"], 2);
    let v = api.get("/api/v1/sops/access_setup/versions", t).await;
    v.expect(200, "versions");
    assert_eq!(v.items().len(), 2);
    assert_eq!(
        v.items()[0]["reason"],
        "Clients answer within two working days"
    );
    assert_eq!(v.items()[1]["version"], 1);

    let kept = api
        .get(
            &format!("/api/v1/sop-runs/{}", old["id"].as_str().unwrap()),
            t,
        )
        .await;
    assert_eq!(kept.body["sop_version"], 1);
    assert_eq!(kept.body["due_at"], old["due_at"]);
    let new = start(&api, t, "access_setup", &client, None).await;
    assert_eq!(new["sop_version"], 2);
    assert_eq!(
        ms(&new["due_at"]),
        MON_9 + 16 * HOUR + 16 * HOUR,
        "Mon 9:00 + 16 business hours = Tue 17:00"
    );

    // Bad edits.
    for (patch, field) in [
        (
            json!({"sla": {"unit": "weeks", "target": 1, "limit": 2}}),
            "sla",
        ),
        (
            json!({"sla": {"unit": "hours", "target": 5, "limit": 2}}),
            "sla",
        ),
        // Sane bounds: at least a minute, at most a year.
        (
            json!({"sla": {"unit": "hours", "target": 0.001, "limit": 1}}),
            "sla",
        ),
        (
            json!({"sla": {"unit": "hours", "target": 1, "limit": 9000}}),
            "sla",
        ),
        (json!({"owner_role": "wizard"}), "owner_role"),
        (json!({"checklist": []}), "checklist"),
        (json!({"trigger": "Contract Signed!"}), "trigger"),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let r = api.put("/api/v1/sops/access_setup", t, b).await;
        r.problem(422, field);
        assert!(r.text.contains(field), "{field}: {}", r.text);
    }
    // A new SOP of the agency's own, manual.
    let mut custom = body.clone();
    custom["name"] = json!("Community escalation");
    custom["trigger"] = json!("manual");
    let c = api
        .put("/api/v1/sops/community_escalation", t, custom)
        .await;
    c.expect(200, "new sop");
    assert_eq!(c.body["version"], 1);
    assert_eq!(c.body["default"], false);
    assert_eq!(api.get("/api/v1/sops", t).await.items().len(), 10);

    // Admin only.
    let writer = common::non_admin_token(
        &app,
        &api,
        "w@northwind.test",
        baton_store::tokens::Scope::Write,
    )
    .await;
    api.put("/api/v1/sops/access_setup", &writer, body.clone())
        .await
        .problem(403, "non-admin edit");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_run_input_is_refused() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Input Co").await;
    for (body, status, what) in [
        (json!({"sop": "nope", "client": client}), 422, "unknown sop"),
        (json!({"sop": "", "client": client}), 422, "empty sop"),
        (
            json!({"sop": "access_setup", "client": "bad"}),
            422,
            "bad client id",
        ),
        (
            json!({"sop": "access_setup", "client": "cli_01J00000000000000000000000"}),
            404,
            "missing client",
        ),
        (
            json!({"sop": "access_setup", "client": client, "started_at": "yesterday"}),
            422,
            "bad time",
        ),
        (
            json!({"sop": "access_setup", "client": client, "started_at": "2999-01-01T00:00:00Z"}),
            422,
            "future",
        ),
        (
            json!({"sop": "access_setup", "client": client, "started_at": "1990-01-01T00:00:00Z"}),
            422,
            "too old",
        ),
        (
            json!({"sop": "access_setup", "client": client, "extra": 1}),
            422,
            "unknown field",
        ),
    ] {
        let r = api.post("/api/v1/sop-runs", t, body).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
    }
    for q in ["status=late", "limit=0", "cursor=xyz"] {
        api.get(&format!("/api/v1/sop-runs?{q}"), t)
            .await
            .problem(422, q);
    }
    api.get("/api/v1/sop-runs/run_01J00000000000000000000000", t)
        .await
        .problem(404, "missing run");
    let read = api.token(t, "read").await;
    api.post(
        "/api/v1/sop-runs",
        &read,
        json!({"sop": "access_setup", "client": client}),
    )
    .await
    .problem(403, "read token starts");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_sees_none_of_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Ours").await;
    let run = start(&api, t, "access_setup", &client, None).await;
    let id = run["id"].as_str().unwrap();
    let rival = app.other_agency("admin@rival.test").await;
    let r = &rival.token;
    api.get(&format!("/api/v1/sop-runs/{id}"), r)
        .await
        .problem(404, "their run");
    for path in ["complete", "resume", "pause", "assign"] {
        let res = api
            .post(
                &format!("/api/v1/sop-runs/{id}/{path}"),
                r,
                json!(match path {
                    "pause" => json!({"reason": "x"}),
                    "assign" => json!({"member": rival.admin.id}),
                    _ => json!({}),
                }),
            )
            .await;
        assert_eq!(res.status, 404, "{path}: {}", res.text);
    }
    api.put(
        &format!("/api/v1/sop-runs/{id}/checklist"),
        r,
        json!({"items": {"x": true}}),
    )
    .await
    .problem(404, "their checklist");
    api.post(
        "/api/v1/sop-runs",
        r,
        json!({"sop": "access_setup", "client": client}),
    )
    .await
    .problem(404, "start on their client");
    let list = api
        .get(&format!("/api/v1/sop-runs?client={client}"), r)
        .await;
    assert!(list.items().is_empty());
    assert!(api.get("/api/v1/sop-runs", r).await.items().is_empty());
    // Their SOP edits stay theirs.
    let mut body = api.get("/api/v1/sops/offboarding", r).await.body;
    for k in [
        "key",
        "sla_text",
        "version",
        "customized",
        "default",
        "changed_by",
        "changed_at",
    ] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["name"] = json!("Rival offboarding");
    body["reason"] = json!("ours");
    api.put("/api/v1/sops/offboarding", r, body)
        .await
        .expect(200, "their edit");
    assert_eq!(
        api.get("/api/v1/sops/offboarding", t).await.body["name"],
        "Offboarding and access revoke"
    );
    assert_eq!(
        api.get("/api/v1/kpis/sops", r).await.body["overall"]["done"],
        0
    );
    app.shutdown().await;
}

#[tokio::test]
async fn escalations_are_emailed_when_smtp_is_configured() {
    let app = TestApp::spawn_with_config(
        std::sync::Arc::new(baton_core::clock::ManualClock::new(MON_9)),
        |c| {
            c.smtp = Some(baton_server::email::SmtpSettings {
                url: "smtp://127.0.0.1:9".into(),
                from: "Baton <baton@northwind.test>".into(),
            });
        },
    )
    .await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Mail Co").await;
    let run = start(&api, t, "access_setup", &client, Some(MON_9 - 100 * HOUR)).await;
    assert_eq!(run["status"], "breached");
    let mails = count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'email' AND payload LIKE $1",
        "%Breached: Access and permissions setup for Mail Co%",
    )
    .await;
    assert_eq!(mails, 1, "one email to the agency's only admin");
    app.shutdown().await;
}

#[tokio::test]
async fn access_setup_started_after_access_is_verified_starts_done() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Quick Co").await;
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "signed");
    let link = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            json!({"requests": [{"platform": "meta_page"}]}),
        )
        .await;
    link.expect(201, "link");
    let rid = link.body["requests"][0]["id"].as_str().unwrap().to_string();
    clock.advance(2 * HOUR);
    api.post(
        &format!("/api/v1/access-requests/{rid}/verify"),
        t,
        json!({"note": "Partner access listed"}),
    )
    .await
    .expect(200, "verify");
    clock.advance(HOUR);
    let kickoff = api
        .event(t, &client, json!({"type": "kickoff_scheduled"}))
        .await;
    kickoff.expect(201, "kickoff");
    common::settle(&app).await;
    let run = wait_for_run(&app, &api, t, &client, "access_setup", "done").await;
    assert_eq!(
        run["done_at"], run["started_at"],
        "started and completed at once"
    );
    assert_eq!(run["done_by"], "Baton");
    assert_eq!(run["on_time"], true);
    assert_eq!(run["subject"]["type"], "access");
    assert_eq!(run["trigger_event_id"], kickoff.id().as_str());
    for item in run["checklist"].as_array().unwrap() {
        assert_eq!(item["done"], true, "{item}");
        assert_eq!(item["auto"], true, "{item}");
        assert!(item["fact"].as_str().unwrap().starts_with("ticks itself"));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_run_done_at_exactly_its_due_instant_is_on_time_and_never_breached() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Punctual Co").await;
    let run = start(&api, t, "weekly_performance", &client, None).await;
    let id = run["id"].as_str().unwrap().to_string();
    let due = ms(&run["due_at"]);
    clock.set(due);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(run_of(&api, t, &id).await.body["status"], "at_risk");
    let items: serde_json::Map<String, Value> = run["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().to_string(), json!(true)))
        .collect();
    api.put(
        &format!("/api/v1/sop-runs/{id}/checklist"),
        t,
        json!({"items": items}),
    )
    .await
    .expect(200, "tick all");
    let done = api
        .post(&format!("/api/v1/sop-runs/{id}/complete"), t, json!({}))
        .await;
    done.expect(200, "complete at the due instant");
    assert_eq!(done.body["on_time"], true);
    assert_eq!(done.body["breached_since"], Value::Null);
    clock.set(due + HOUR);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    let after = run_of(&api, t, &id).await;
    assert_eq!(after.body["status"], "done");
    let events = api.client_events(t, &client).await;
    assert!(events.iter().all(|e| e["type"] != "sop_run.breached"));
    app.shutdown().await;
}
