//! Content items through the API: the contract's flow (create, participants,
//! versions, submit, comments, decisions, QA, schedule), review vs approval,
//! revisions and the approval cycle on a manual clock, the QA gate and its
//! waiver, the SOPs content events start, bad input and tenant isolation.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use common::{Api, Resp};
use serde_json::{json, Value};

/// Monday 2026-03-02 09:00:00 UTC.
const MON_9: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;

async fn member(api: &Api, t: &str, email: &str, name: &str) -> String {
    let r = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": email, "name": name, "roles": ["creative_lead"]}),
        )
        .await;
    r.expect(201, "create member");
    r.id()
}

/// A token acting as the member `id` (through the store, like the CLI).
async fn token_of(app: &TestApp, id: &str) -> String {
    let m = baton_store::members::get(&app.state.db, &app.agency.id, id)
        .await
        .expect("member");
    baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &m.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &m,
        "test",
        baton_store::tokens::Scope::Write,
    )
    .await
    .expect("token")
    .1
}

fn full_brief() -> Value {
    json!({"audience": "Gym-goers 25–40 near the harbour", "angle": "Morning routines",
           "offer": "First month free", "constraints": "No before/after photos", "examples": "https://example.com/ref"})
}

async fn create(api: &Api, t: &str, client: &str, title: &str, channel: &str) -> Value {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": channel, "format": "reel", "campaign": "Spring Launch", "brief": full_brief()}),
        )
        .await;
    r.expect(201, "create content");
    r.body.clone()
}

async fn decide(api: &Api, t: &str, id: &str, body: Value) -> Resp {
    api.post(&format!("/api/v1/content/{id}/decisions"), t, body)
        .await
}

#[tokio::test]
async fn the_contract_flow_from_brief_to_scheduled() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let reviewer = member(&api, t, "rev@northwind.test", "Rae Viewer").await;
    let approver = member(&api, t, "app@northwind.test", "Abe Prover").await;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Harbor Fitness").await;

    let item = create(&api, t, &client, "Morning routine reel", "instagram").await;
    let id = item["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cnt_"));
    assert_eq!(item["status"], "brief");
    assert_eq!(item["brief_complete"], true);
    assert_eq!(item["revision_count"], 0);
    assert_eq!(item["approval_cycle_seconds"], Value::Null);

    let p = api
        .put(
            &format!("/api/v1/content/{id}/participants"),
            t,
            json!({"reviewers": [reviewer], "approvers": [admin, approver]}),
        )
        .await;
    p.expect(200, "participants");
    assert_eq!(p.body["approvers"], json!([admin, approver]));
    assert_eq!(p.body["approval_mode"], "all");

    let v1 = api
        .post(
            &format!("/api/v1/content/{id}/versions"),
            t,
            json!({"url": "https://drive.example.com/reel-v1.mp4"}),
        )
        .await;
    v1.expect(201, "version 1");
    assert_eq!(
        v1.body["name"],
        "harbor-fitness_spring-launch_instagram_reel_v1"
    );
    assert_eq!(v1.body["n"], 1);

    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    let rev_token = token_of(&app, &reviewer).await;
    let app_token = token_of(&app, &approver).await;
    let c = api
        .post(
            &format!("/api/v1/content/{id}/comments"),
            &rev_token,
            json!({"body": "Hook is slow: cut the first 2 seconds"}),
        )
        .await;
    c.expect(201, "reviewer comments");
    assert_eq!(c.body["author"], "Rae Viewer");
    // Review is broad, approval narrow: the reviewer cannot decide.
    decide(&api, &rev_token, &id, json!({"decision": "approve"}))
        .await
        .problem(403, "reviewer decides");
    decide(
        &api,
        &app_token,
        &id,
        json!({"decision": "request_changes"}),
    )
    .await
    .problem(422, "changes without a comment");
    let d = decide(
        &api,
        &app_token,
        &id,
        json!({"decision": "request_changes", "comment": "Logo must be visible", "revision": "major"}),
    )
    .await;
    d.expect(200, "request changes");
    assert_eq!(d.body["status"], "changes_requested");
    assert_eq!(d.body["revision_count"], 1);
    let round = &d.body["rounds"][0];
    assert_eq!(round["outcome"], "changes_requested");
    assert_eq!(round["revision"], "major");
    assert_eq!(
        round["feedback"],
        json!([
            "Rae Viewer: Hook is slow: cut the first 2 seconds",
            "Abe Prover: Logo must be visible"
        ])
    );

    clock.advance(2 * HOUR);
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://drive.example.com/reel-v2.mp4", "note": "Shorter hook, logo in"}),
    )
    .await
    .expect(201, "version 2");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "resubmit");
    clock.advance(HOUR);
    let half = decide(&api, &app_token, &id, json!({"decision": "approve"})).await;
    half.expect(200, "one approver of two");
    assert_eq!(
        half.body["status"], "in_review",
        "all approvers must approve"
    );
    clock.advance(HOUR);
    let done = decide(
        &api,
        t,
        &id,
        json!({"decision": "approve", "comment": "Great"}),
    )
    .await;
    done.expect(200, "second approver");
    assert_eq!(done.body["status"], "approved");
    assert_eq!(done.body["revision_count"], 1);
    assert_eq!(done.body["approval_cycle_seconds"], 4 * 3600);
    assert_eq!(done.body["approval_cycle_business_seconds"], 4 * 3600);

    let g = api.get(&format!("/api/v1/content/{id}"), t).await;
    g.expect(200, "get");
    let names: Vec<&str> = g.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "harbor-fitness_spring-launch_instagram_reel_v1",
            "harbor-fitness_spring-launch_instagram_reel_v2"
        ]
    );
    assert_eq!(
        g.body["discussion"].as_array().unwrap().len(),
        4,
        "one comment, three decisions"
    );

    // QA gate.
    let qa = api.get(&format!("/api/v1/content/{id}/qa"), t).await;
    qa.expect(200, "qa");
    let keys: Vec<String> = qa.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    assert!(keys.contains(&"links_checked".to_string()), "{keys:?}");
    assert!(qa.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["done"] == false));
    let when = baton_core::clock::rfc3339(MON_9 + 48 * HOUR);
    let s = api
        .post(
            &format!("/api/v1/content/{id}/schedule"),
            t,
            json!({"publish_at": when}),
        )
        .await;
    s.problem(409, "schedule before QA");
    assert!(s.text.contains("QA"), "{}", s.text);
    api.put(
        &format!("/api/v1/content/{id}/qa"),
        t,
        json!({"items": {"nope": true}}),
    )
    .await
    .problem(422, "unknown QA item");
    let all: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.clone(), json!(true))).collect();
    let q = api
        .put(
            &format!("/api/v1/content/{id}/qa"),
            t,
            json!({"items": all}),
        )
        .await;
    q.expect(200, "qa done");
    assert_eq!(q.body["complete"], true);
    assert_eq!(q.body["qa_by"], app.agency.admin.name.as_str());
    let s = api
        .post(
            &format!("/api/v1/content/{id}/schedule"),
            t,
            json!({"publish_at": when}),
        )
        .await;
    s.expect(200, "schedule");
    assert_eq!(s.body["status"], "scheduled");
    assert_eq!(s.body["publish_at"], when.as_str());

    // The timeline tells the story.
    let types: Vec<String> = api
        .client_events(t, &client)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for ty in [
        "content.cycle_started",
        "content.version_added",
        "content.drafts_ready",
        "content.changes_requested",
        "content.ready_to_schedule",
        "content.scheduled",
    ] {
        assert!(types.iter().any(|x| x == ty), "{ty} in {types:?}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn any_mode_needs_one_approver_and_qa_can_be_waived_with_a_reason() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let other = member(&api, t, "o@northwind.test", "Other Approver").await;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Any Co").await;
    let id = create(&api, t, &client, "Post", "x").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .problem(409, "submit from brief without a version");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://example.com/draft"}),
    )
    .await
    .expect(201, "version");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .problem(409, "submit without approvers");
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": [admin, other], "approval_mode": "any"}),
    )
    .await
    .expect(200, "any mode");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://example.com/draft2"}),
    )
    .await
    .problem(409, "new version during review");
    let d = decide(&api, t, &id, json!({"decision": "approve"})).await;
    assert_eq!(d.body["status"], "approved", "{}", d.text);
    // X: the length item names the 280-character limit.
    let qa = api.get(&format!("/api/v1/content/{id}/qa"), t).await;
    assert!(qa.text.contains("280"), "{}", qa.text);
    let when = baton_core::clock::rfc3339(common::now_ms() + 24 * HOUR);
    let s = api
        .post(
            &format!("/api/v1/content/{id}/schedule"),
            t,
            json!({"publish_at": when, "waive_qa_reason": "Client's launch moved up; legal signed off by phone"}),
        )
        .await;
    s.expect(200, "waived");
    assert_eq!(
        s.body["qa"]["waived_reason"],
        "Client's launch moved up; legal signed off by phone"
    );
    let events = api.client_events(t, &client).await;
    let waived = events
        .iter()
        .find(|e| e["type"] == "content.qa_waived")
        .expect("waiver on the timeline");
    assert_eq!(waived["data"]["incident_risk"], true);
    api.post(&format!("/api/v1/content/{id}/publish"), t, json!({}))
        .await
        .expect(200, "publish");
    api.post(&format!("/api/v1/content/{id}/cancel"), t, json!({}))
        .await
        .problem(409, "cancel a published item");
    app.shutdown().await;
}

#[tokio::test]
async fn content_events_start_their_sops() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Sop Co").await;
    let id = create(&api, t, &client, "Carousel", "linkedin").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post(&format!("/api/v1/content/{id}/approve-brief"), t, json!({}))
        .await
        .expect(200, "approve brief");
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": [admin]}),
    )
    .await
    .expect(200, "approver");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://example.com/c1"}),
    )
    .await
    .expect(201, "version");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    decide(&api, t, &id, json!({"decision": "approve"}))
        .await
        .expect(200, "approve");
    let wanted = [
        "content_intake",
        "creative_production",
        "review_approval",
        "publishing_qa",
    ];
    app.drain_outbox().await;
    let r = api
        .get(&format!("/api/v1/sop-runs?client={client}"), t)
        .await;
    let keys: Vec<String> = r
        .items()
        .iter()
        .map(|x| x["sop_key"].as_str().unwrap().to_string())
        .collect();
    for w in wanted {
        assert!(keys.iter().any(|k| k == w), "{w} started: {keys:?}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn bad_content_input_is_refused() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Input Co").await;
    let path = format!("/api/v1/clients/{client}/content");
    for (body, what) in [
        (json!({"title": "", "channel": "instagram"}), "empty title"),
        (
            json!({"title": "X", "channel": "Insta gram!"}),
            "bad channel",
        ),
        (
            json!({"title": "X", "channel": "instagram", "extra": 1}),
            "unknown field",
        ),
        (
            json!({"title": "X", "channel": "instagram", "brief": {"mood": "x"}}),
            "unknown brief field",
        ),
        (
            json!({"title": "X", "channel": "instagram", "brief": {"audience": "a".repeat(6000)}}),
            "long brief",
        ),
        (json!({"channel": "instagram"}), "no title"),
    ] {
        let r = api.post(&path, t, body).await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
    }
    let id = create(&api, t, &client, "Ok", "tiktok").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Incomplete brief: approving it is refused and names what is missing.
    let half = api
        .post(
            &path,
            t,
            json!({"title": "Half", "channel": "tiktok", "brief": {"audience": "Runners"}}),
        )
        .await;
    half.expect(201, "half brief");
    assert_eq!(
        half.body["brief_missing"],
        json!(["angle", "offer", "constraints", "examples"])
    );
    let r = api
        .post(
            &format!("/api/v1/content/{}/approve-brief", half.id()),
            t,
            json!({}),
        )
        .await;
    r.problem(409, "incomplete brief");
    assert!(r.text.contains("angle"), "{}", r.text);

    for (body, what) in [
        (
            json!({"reviewers": ["mem_01J00000000000000000000000"]}),
            "stranger",
        ),
        (
            json!({"reviewers": [app.agency.admin.id], "approvers": [app.agency.admin.id]}),
            "both",
        ),
        (
            json!({"approvers": [], "approval_mode": "some"}),
            "bad mode",
        ),
    ] {
        let r = api
            .put(&format!("/api/v1/content/{id}/participants"), t, body)
            .await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
    }
    for (body, what) in [
        (json!({"url": "not a link"}), "bad url"),
        (json!({"url": ""}), "empty url"),
        (json!({"link": "https://x.test"}), "wrong field"),
    ] {
        let r = api
            .post(&format!("/api/v1/content/{id}/versions"), t, body)
            .await;
        assert_eq!(r.status, 422, "{what}: {}", r.text);
    }
    api.post(
        &format!("/api/v1/content/{id}/comments"),
        t,
        json!({"body": "  "}),
    )
    .await
    .problem(422, "empty comment");
    decide(&api, t, &id, json!({"decision": "maybe"}))
        .await
        .problem(422, "bad decision");
    decide(
        &api,
        t,
        &id,
        json!({"decision": "approve", "revision": "huge"}),
    )
    .await
    .problem(422, "bad revision");
    // Not an approver and nothing submitted.
    decide(&api, t, &id, json!({"decision": "approve"}))
        .await
        .problem(403, "not an approver");
    for when in ["tomorrow", "2001-01-01T00:00:00Z"] {
        api.post(
            &format!("/api/v1/content/{id}/schedule"),
            t,
            json!({"publish_at": when}),
        )
        .await
        .problem(422, when);
    }
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        t,
        json!({"publish_at": baton_core::clock::rfc3339(common::now_ms() + HOUR)}),
    )
    .await
    .problem(409, "schedule before approval");
    for q in ["status=late", "limit=0", "cursor=nope"] {
        api.get(&format!("/api/v1/content?{q}"), t)
            .await
            .problem(422, q);
    }
    let read = api.token(t, "read").await;
    api.post(&path, &read, json!({"title": "X", "channel": "instagram"}))
        .await
        .problem(403, "read token creates");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_sees_none_of_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Ours").await;
    let id = create(&api, t, &client, "Ours", "instagram").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rival = app.other_agency("admin@rival.test").await;
    let r = &rival.token;
    api.get(&format!("/api/v1/content/{id}"), r)
        .await
        .problem(404, "their item");
    api.get(&format!("/api/v1/content/{id}/qa"), r)
        .await
        .problem(404, "their qa");
    api.get(&format!("/api/v1/clients/{client}/content"), r)
        .await
        .problem(404, "their client's list");
    api.post(
        &format!("/api/v1/clients/{client}/content"),
        r,
        json!({"title": "X", "channel": "instagram"}),
    )
    .await
    .problem(404, "create on their client");
    for (method, path, body) in [
        (
            "put",
            "participants",
            json!({"approvers": [rival.admin.id]}),
        ),
        ("post", "versions", json!({"url": "https://x.test/a"})),
        ("post", "submit", json!({})),
        ("post", "comments", json!({"body": "hi"})),
        ("post", "decisions", json!({"decision": "approve"})),
        ("put", "qa", json!({"items": {"links_checked": true}})),
        (
            "post",
            "schedule",
            json!({"publish_at": baton_core::clock::rfc3339(common::now_ms() + HOUR)}),
        ),
        ("post", "cancel", json!({})),
    ] {
        let url = format!("/api/v1/content/{id}/{path}");
        let res = if method == "put" {
            api.put(&url, r, body).await
        } else {
            api.post(&url, r, body).await
        };
        assert_eq!(res.status, 404, "{path}: {}", res.text);
    }
    assert!(api.get("/api/v1/content", r).await.items().is_empty());
    let ours = api
        .get(&format!("/api/v1/clients/{client}/content"), t)
        .await;
    assert_eq!(ours.items().len(), 1);
    assert_eq!(ours.items()[0]["status"], "brief", "untouched by the rival");
    app.shutdown().await;
}

#[tokio::test]
async fn the_brief_is_edited_until_approval() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Edit Co").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": "Draft idea", "channel": "instagram", "brief": {"audience": "Runners"}}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    let path = format!("/api/v1/content/{id}");
    api.patch(&path, t, json!({"title": ""}))
        .await
        .problem(422, "empty title");
    api.patch(&path, t, json!({"brief": {"mood": "x"}}))
        .await
        .problem(422, "unknown brief field");
    let p = api
        .patch(
            &path,
            t,
            json!({"title": "Morning routine", "brief": full_brief()}),
        )
        .await;
    p.expect(200, "edit");
    assert_eq!(p.body["title"], "Morning routine");
    assert_eq!(p.body["brief_complete"], true);
    assert_eq!(p.body["channel"], "instagram", "kept");
    api.post(&format!("/api/v1/content/{id}/approve-brief"), t, json!({}))
        .await
        .expect(200, "approve the completed brief");
    let rival = app.other_agency("admin@rival.test").await;
    api.patch(&path, &rival.token, json!({"title": "Theirs"}))
        .await
        .problem(404, "their item");
    // Approved: the item stays as it was approved.
    api.put(
        &format!("{path}/participants"),
        t,
        json!({"approvers": [admin]}),
    )
    .await
    .expect(200, "approver");
    api.post(
        &format!("{path}/versions"),
        t,
        json!({"url": "https://example.com/v1"}),
    )
    .await
    .expect(201, "version");
    api.post(&format!("{path}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    decide(&api, t, &id, json!({"decision": "approve"}))
        .await
        .expect(200, "approve");
    api.patch(&path, t, json!({"title": "Changed after approval"}))
        .await
        .problem(409, "edit after approval");
    assert_eq!(api.get(&path, t).await.body["title"], "Morning routine");
    app.shutdown().await;
}

/// The client's runs (oldest first), with `?open=true` when `open`.
async fn runs_of(api: &Api, t: &str, client: &str, open: bool) -> Vec<Value> {
    let r = api
        .get(
            &format!("/api/v1/sop-runs?client={client}&limit=100&open={open}"),
            t,
        )
        .await;
    r.expect(200, "runs");
    r.items().clone()
}

#[tokio::test]
async fn content_runs_follow_the_item_and_none_is_left_open_once_it_is_scheduled() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Harbor Fitness").await;
    let item = create(&api, t, &client, "Morning routine reel", "instagram").await;
    let id = item["id"].as_str().unwrap().to_string();
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": [admin]}),
    )
    .await
    .expect(200, "participants");
    common::settle(&app).await;
    // The brief was complete when the intake started: it started done.
    let runs = runs_of(&api, t, &client, false).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["sop_key"], "content_intake");
    assert_eq!(runs[0]["status"], "done");
    assert_eq!(runs[0]["done_by"], "Baton");
    assert_eq!(runs[0]["done_at"], runs[0]["started_at"]);
    assert_eq!(
        runs[0]["subject"],
        json!({"type": "content_item", "id": id, "title": "Morning routine reel"})
    );

    api.post(&format!("/api/v1/content/{id}/approve-brief"), t, json!({}))
        .await
        .expect(200, "approve brief");
    common::settle(&app).await;
    let production = |runs: &[Value]| {
        runs.iter()
            .find(|r| r["sop_key"] == "creative_production")
            .cloned()
            .expect("a production run")
    };
    let p = production(&runs_of(&api, t, &client, true).await);
    assert!(p["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["auto"] == true && i["done"] == false));
    // A fact cannot be ticked by hand.
    let pid = p["id"].as_str().unwrap();
    let refused = api
        .put(
            &format!("/api/v1/sop-runs/{pid}/checklist"),
            t,
            json!({"items": {"drafts_produced": true}}),
        )
        .await;
    refused.problem(422, "a fact ticked by hand");
    assert!(
        refused.text.contains("a fact Baton knows"),
        "{}",
        refused.text
    );

    clock.advance(HOUR);
    let draft = |n: u32| json!({"url": format!("https://drive.example.com/reel-v{n}.mp4")});
    api.post(&format!("/api/v1/content/{id}/versions"), t, draft(1))
        .await
        .expect(201, "v1");
    let p = production(&runs_of(&api, t, &client, true).await);
    let done: Vec<&str> = p["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["done"] == true)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["drafts_produced", "version_naming"], "{p}");
    let ticked = &p["checklist"][0];
    assert_eq!(ticked["done_by"], app.agency.admin.name.as_str());
    assert!(ticked["event_id"].as_str().unwrap().starts_with("evt_"));

    clock.advance(HOUR);
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    common::settle(&app).await;
    clock.advance(2 * HOUR);
    decide(
        &api,
        t,
        &id,
        json!({"decision": "request_changes", "comment": "Logo must be visible", "revision": "major"}),
    )
    .await
    .expect(200, "changes");
    // Round 1 decided; its revision is not made yet.
    let open = runs_of(&api, t, &client, true).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["sop_key"], "review_approval");
    assert_eq!(open[0]["subject"]["round"], 1);
    clock.advance(3 * HOUR);
    let v2_at = MON_9 + 7 * HOUR;
    api.post(&format!("/api/v1/content/{id}/versions"), t, draft(2))
        .await
        .expect(201, "v2");
    assert!(
        runs_of(&api, t, &client, true).await.is_empty(),
        "round 1's run is done with the revision"
    );
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "resubmit");
    common::settle(&app).await;
    clock.advance(HOUR);
    decide(&api, t, &id, json!({"decision": "approve"}))
        .await
        .expect(200, "approve");
    common::settle(&app).await;
    let qa_run = runs_of(&api, t, &client, true).await;
    assert_eq!(qa_run.len(), 1);
    assert_eq!(qa_run[0]["sop_key"], "publishing_qa");
    assert!(
        qa_run[0]["subject"].get("round").is_none(),
        "only review runs have a round"
    );
    let qa = api.get(&format!("/api/v1/content/{id}/qa"), t).await;
    let all: serde_json::Map<String, Value> = qa.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap().to_string(), json!(true)))
        .collect();
    clock.advance(HOUR);
    api.put(
        &format!("/api/v1/content/{id}/qa"),
        t,
        json!({"items": all}),
    )
    .await
    .expect(200, "QA done");
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        t,
        json!({"publish_at": baton_core::clock::rfc3339(MON_9 + 72 * HOUR)}),
    )
    .await
    .expect(200, "schedule");
    common::settle(&app).await;

    // Scheduled: no run about the item is open; each was done by the facts,
    // when they became true, on time.
    assert!(runs_of(&api, t, &client, true).await.is_empty());
    let runs = runs_of(&api, t, &client, false).await;
    let mut keys: Vec<&str> = runs
        .iter()
        .map(|r| r["sop_key"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "content_intake",
            "creative_production",
            "publishing_qa",
            "review_approval",
            "review_approval",
        ]
    );
    for r in &runs {
        assert_eq!(r["status"], "done", "{r}");
        assert_eq!(r["done_by"], "Baton", "{r}");
        assert_eq!(r["on_time"], true, "{r}");
        assert_eq!(r["subject"]["id"], id.as_str());
        assert!(r["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["done"] == true && i["auto"] == true));
    }
    let review = |round: i64| {
        runs.iter()
            .find(|r| r["sop_key"] == "review_approval" && r["subject"]["round"] == round)
            .unwrap_or_else(|| panic!("review run of round {round}"))
    };
    assert_eq!(
        common::ms(&review(1)["done_at"]),
        v2_at,
        "round 1 done when its revision came"
    );
    assert_eq!(
        common::ms(&review(2)["done_at"]),
        v2_at + HOUR,
        "round 2 done when approved"
    );
    let k = api.get("/api/v1/kpis/sops", t).await;
    assert_eq!(k.body["overall"]["done"], 5, "{}", k.text);
    assert_eq!(k.body["overall"]["on_time_rate"], 1.0);
    app.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_item_cancels_its_runs_instead_of_leaving_them_to_breach() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Cancel Co").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": "Half a brief", "channel": "instagram", "format": "reel",
                   "brief": {"audience": "Runners"}}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    common::settle(&app).await;
    let open = runs_of(&api, t, &client, true).await;
    assert_eq!(open.len(), 1);
    let run = open[0]["id"].as_str().unwrap().to_string();
    let done: Vec<&str> = open[0]["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["done"] == true)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(done, ["audience"], "the brief's filled field ticked itself");
    api.post(
        &format!("/api/v1/content/{id}/cancel"),
        t,
        json!({"reason": "Campaign dropped"}),
    )
    .await
    .expect(200, "cancel");
    let r = api.get(&format!("/api/v1/sop-runs/{run}"), t).await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.text);
    assert_eq!(r.body["cancel_reason"], "the content item was cancelled");
    assert_eq!(r.body["on_time"], Value::Null);
    // Long past its due time it is neither breached nor counted late.
    clock.advance(10 * 24 * HOUR);
    baton_server::scheduler::tick(&app.state).await.unwrap();
    assert_eq!(
        api.get(&format!("/api/v1/sop-runs/{run}"), t).await.body["status"],
        "cancelled"
    );
    let k = api.get("/api/v1/kpis/sops", t).await;
    assert_eq!(k.body["overall"]["late_open"], 0, "{}", k.text);
    assert!(runs_of(&api, t, &client, true).await.is_empty());
    app.shutdown().await;
}
