//! Issue 11 through the API: approval stays narrow for real (who may change
//! an item's reviewers and approvers, a change during an open round applies
//! from the next round unless an admin makes it, error texts name people),
//! the caption is versioned with the draft and a change after approval
//! reopens it, comments marked for the client, and "content waiting for me".
//! Bad input and tenant isolation for each. On PostgreSQL too when
//! `BATON_TEST_POSTGRES_URL` is set.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use common::{Api, Resp};
use serde_json::{json, Value};

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

/// A write token acting as the member `id`.
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

async fn create(api: &Api, t: &str, client: &str, body: Value) -> String {
    let r = api
        .post(&format!("/api/v1/clients/{client}/content"), t, body)
        .await;
    r.expect(201, "create content");
    r.id()
}

async fn participants(api: &Api, t: &str, id: &str, body: Value) -> Resp {
    api.put(&format!("/api/v1/content/{id}/participants"), t, body)
        .await
}

async fn version(api: &Api, t: &str, id: &str, body: Value) -> Resp {
    api.post(&format!("/api/v1/content/{id}/versions"), t, body)
        .await
}

async fn submit(api: &Api, t: &str, id: &str) -> Resp {
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
}

async fn decide(api: &Api, t: &str, id: &str, body: Value) -> Resp {
    api.post(&format!("/api/v1/content/{id}/decisions"), t, body)
        .await
}

async fn item(api: &Api, t: &str, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/content/{id}"), t).await;
    r.expect(200, "get content");
    r.body.clone()
}

async fn events_of(api: &Api, t: &str, client: &str, kind: &str) -> Vec<Value> {
    api.client_events(t, client)
        .await
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

const RULE: &str = "Only the account lead, traffic control or an admin can change who approves.";

#[tokio::test]
async fn a_reviewer_cannot_promote_himself_and_a_leads_change_waits_for_the_next_round() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rey = member(&api, t, "rey@northwind.test", "Rey Reviewer").await;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let lea = member(&api, t, "lea@northwind.test", "Lea Lead").await;
    let tom = member(&api, t, "tom@northwind.test", "Tom Traffic").await;
    let client = api.create_client(t, "Harbor Fitness").await;
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lea}], "traffic_control": tom}),
    )
    .await
    .expect(200, "account team");
    let id = create(
        &api,
        t,
        &client,
        json!({"title": "Morning reel", "channel": "instagram"}),
    )
    .await;
    participants(
        &api,
        t,
        &id,
        json!({"reviewers": [rey], "approvers": [abe]}),
    )
    .await
    .expect(200, "the admin sets them");
    version(&api, t, &id, json!({"url": "https://drafts.example/v1"}))
        .await
        .expect(201, "v1");
    submit(&api, t, &id).await.expect(200, "round 1");

    // The reviewer moves himself to the approvers mid-round: refused, in
    // words, and nothing changes.
    let rey_t = token_of(&app, &rey).await;
    let before = common::trail(&app, &app.agency.id).await;
    let r = participants(&api, &rey_t, &id, json!({"approvers": [abe, rey]})).await;
    r.problem(403, "a reviewer changes the approvers");
    assert_eq!(r.body["detail"], RULE);
    assert_eq!(common::trail(&app, &app.agency.id).await, before);
    decide(&api, &rey_t, &id, json!({"decision": "approve"}))
        .await
        .problem(403, "and still cannot decide");
    let now = item(&api, t, &id).await;
    assert_eq!(now["approvers"], json!([abe]));
    assert_eq!(now["pending_participants"], Value::Null);

    // The account lead may; during the open round it waits for the next.
    let lea_t = token_of(&app, &lea).await;
    let r = participants(
        &api,
        &lea_t,
        &id,
        json!({"reviewers": [], "approvers": [abe, rey], "approval_mode": "any"}),
    )
    .await;
    r.expect(200, "the account lead changes them");
    assert_eq!(r.body["approvers"], json!([abe]), "this round's approvers");
    assert_eq!(r.body["reviewers"], json!([rey]));
    assert_eq!(r.body["approval_mode"], "all");
    let pending = &r.body["pending_participants"];
    assert_eq!(pending["approvers"], json!([abe, rey]));
    assert_eq!(pending["reviewers"], json!([]));
    assert_eq!(pending["approval_mode"], "any");
    assert_eq!(pending["requested_by"], "Lea Lead");
    assert_eq!(pending["requested_by_id"], lea.as_str());
    assert!(pending["requested_at"].as_str().unwrap().ends_with('Z'));
    let changed = events_of(&api, t, &client, "content.participants_changed").await;
    let last = changed.last().expect("the request is on the timeline");
    assert_eq!(last["data"]["applies"], "next_round");
    assert_eq!(last["data"]["round"], 1);

    // Rey approves from the next round on, not in this one.
    let r = decide(&api, &rey_t, &id, json!({"decision": "approve"})).await;
    r.problem(403, "a next-round approver decides now");
    assert!(
        r.body["detail"].as_str().unwrap().contains("next round"),
        "{}",
        r.text
    );
    // Traffic control may change them too; the newest request wins.
    let tom_t = token_of(&app, &tom).await;
    let r = participants(&api, &tom_t, &id, json!({"approvers": [abe, rey]})).await;
    r.expect(200, "traffic control");
    assert_eq!(r.body["pending_participants"]["approval_mode"], "all");
    assert_eq!(
        r.body["pending_participants"]["requested_by"],
        "Tom Traffic"
    );

    // Abe decides round 1; the change is still waiting, then applies as
    // round 2 opens, with its own event.
    let abe_t = token_of(&app, &abe).await;
    let d = decide(
        &api,
        &abe_t,
        &id,
        json!({"decision": "request_changes", "comment": "Shorter hook"}),
    )
    .await;
    d.expect(200, "abe decides round 1");
    assert_eq!(d.body["status"], "changes_requested");
    assert_eq!(d.body["approvers"], json!([abe]));
    assert!(d.body["pending_participants"].is_object());
    version(&api, t, &id, json!({"url": "https://drafts.example/v2"}))
        .await
        .expect(201, "v2");
    let s = submit(&api, t, &id).await;
    s.expect(200, "round 2");
    assert_eq!(s.body["approvers"], json!([abe, rey]));
    assert_eq!(s.body["reviewers"], json!([]));
    assert_eq!(s.body["pending_participants"], Value::Null);
    let applied = events_of(&api, t, &client, "content.participants_applied").await;
    assert_eq!(applied.len(), 1, "{applied:?}");
    assert_eq!(applied[0]["data"]["applied"], "next_round");
    assert_eq!(applied[0]["data"]["round"], 2);
    assert_eq!(applied[0]["data"]["requested_by"], "Tom Traffic");
    let d = decide(&api, &rey_t, &id, json!({"decision": "approve"})).await;
    d.expect(200, "rey decides round 2");
    assert_eq!(d.body["status"], "in_review", "abe still to decide");

    // An admin's change applies at once, even mid-round.
    let r = participants(&api, t, &id, json!({"approvers": [abe]})).await;
    r.expect(200, "the admin");
    assert_eq!(r.body["approvers"], json!([abe]));
    assert_eq!(r.body["pending_participants"], Value::Null);
    let changed = events_of(&api, t, &client, "content.participants_changed").await;
    assert_eq!(changed.last().unwrap()["data"]["applies"], "now");

    // The account lead of another client is nobody here.
    let other = api.create_client(t, "Acme Bakery").await;
    api.put(
        &format!("/api/v1/clients/{other}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": rey}], "traffic_control": tom}),
    )
    .await
    .expect(200, "rey leads another client");
    participants(&api, &rey_t, &id, json!({"approvers": [rey]}))
        .await
        .problem(403, "lead elsewhere");

    // Outside a round the lead's change applies at once.
    let id2 = create(
        &api,
        t,
        &client,
        json!({"title": "Second", "channel": "tiktok"}),
    )
    .await;
    let r = participants(&api, &lea_t, &id2, json!({"approvers": [abe]})).await;
    r.expect(200, "lead, no open round");
    assert_eq!(r.body["approvers"], json!([abe]));
    assert_eq!(r.body["pending_participants"], Value::Null);
    app.shutdown().await;
}

#[tokio::test]
async fn error_texts_name_people_not_ids() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let jo = member(&api, t, "jo@northwind.test", "Jo Newhire").await;
    let gone = member(&api, t, "gone@northwind.test", "Gil Gone").await;
    api.patch(
        &format!("/api/v1/members/{gone}"),
        t,
        json!({"active": false}),
    )
    .await
    .expect(200, "deactivate");
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = create(&api, t, &client, json!({"title": "Reel", "channel": "x"})).await;
    let r = participants(&api, t, &id, json!({"reviewers": [jo], "approvers": [jo]})).await;
    r.problem(422, "both");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Jo Newhire is listed as reviewer and approver"),
        "{detail}"
    );
    assert!(!detail.contains(&jo), "no id: {detail}");
    let r = participants(&api, t, &id, json!({"approvers": [gone]})).await;
    r.problem(422, "deactivated");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("Gil Gone"), "{detail}");
    assert!(!detail.contains(&gone), "{detail}");
    let r = participants(&api, t, &id, json!({"approvers": ["mem_nobody"]})).await;
    r.problem(422, "stranger");
    assert!(r.text.contains("mem_nobody"), "quoted as given: {}", r.text);
    // The client defaults say the same.
    let r = api
        .put(
            &format!("/api/v1/clients/{client}/content-settings"),
            t,
            json!({"reviewers": [jo], "approvers": [jo]}),
        )
        .await;
    r.problem(422, "defaults: both");
    assert!(r
        .text
        .contains("Jo Newhire is listed as reviewer and approver"));
    // Bad input on the participants endpoint.
    participants(&api, t, &id, json!({"approvers": "jo"}))
        .await
        .problem(422, "not a list");
    participants(
        &api,
        t,
        &id,
        json!({"approvers": [jo], "approval_mode": "most"}),
    )
    .await
    .problem(422, "mode");
    participants(&api, t, &id, json!({"approvers": [jo], "extra": 1}))
        .await
        .client_error("unknown field");
    app.shutdown().await;
}

#[tokio::test]
async fn the_caption_is_versioned_and_a_change_after_approval_reopens_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = create(
        &api,
        t,
        &client,
        json!({"title": "Morning reel", "channel": "instagram", "caption": "  Rise early.\r\nRun far.  "}),
    )
    .await;
    let it = item(&api, t, &id).await;
    assert_eq!(it["caption"], "Rise early.\nRun far.");
    assert_eq!(it["caption_problems"], json!([]));
    participants(&api, t, &id, json!({"approvers": [abe]}))
        .await
        .expect(200, "approver");

    // A version keeps the caption it was added with (the item's, or its own).
    let v1 = version(&api, t, &id, json!({"url": "https://drafts.example/v1"})).await;
    v1.expect(201, "v1");
    assert_eq!(v1.body["caption"], "Rise early.\nRun far.");
    let patched = api
        .patch(
            &format!("/api/v1/content/{id}"),
            t,
            json!({"caption": "Rise early. Run far. #run"}),
        )
        .await;
    patched.expect(200, "caption edited in production");
    assert_eq!(patched.body["caption"], "Rise early. Run far. #run");
    assert_eq!(
        patched.body["versions"][0]["caption"], "Rise early.\nRun far.",
        "versions are immutable"
    );
    let v2 = version(
        &api,
        t,
        &id,
        json!({"url": "https://drafts.example/v2", "caption": "Rise early. Run far. #run #gym"}),
    )
    .await;
    v2.expect(201, "v2 with its caption");
    assert_eq!(v2.body["caption"], "Rise early. Run far. #run #gym");
    assert_eq!(
        item(&api, t, &id).await["caption"],
        "Rise early. Run far. #run #gym",
        "a version's caption becomes the item's"
    );

    // The round keeps the caption it was submitted with; no edits mid-round.
    let s = submit(&api, t, &id).await;
    s.expect(200, "round 1");
    assert_eq!(
        s.body["rounds"][0]["caption"],
        "Rise early. Run far. #run #gym"
    );
    let r = api
        .patch(
            &format!("/api/v1/content/{id}"),
            t,
            json!({"caption": "Sneaky edit"}),
        )
        .await;
    r.problem(409, "caption edit during review");
    assert!(r.text.contains("stays as submitted"), "{}", r.text);
    let abe_t = token_of(&app, &abe).await;
    decide(&api, &abe_t, &id, json!({"decision": "approve"}))
        .await
        .expect(200, "approved");
    api.put(
        &format!("/api/v1/content/{id}/qa"),
        t,
        json!({"items": {"links_checked": true, "tags_handles": true, "formatting": true, "length": true,
                         "hashtags": true, "legal": true, "disclosure": true}}),
    )
    .await
    .expect(200, "QA done");
    let at = baton_core::clock::rfc3339(app.state.now() + 86_400_000);
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        t,
        json!({"publish_at": at}),
    )
    .await
    .expect(200, "scheduled");

    // Other edits of a scheduled item stay refused; a new caption reopens
    // approval: back in production, off the schedule, QA to do again.
    api.patch(
        &format!("/api/v1/content/{id}"),
        t,
        json!({"title": "New title", "caption": "x"}),
    )
    .await
    .problem(409, "title after approval");
    let same = api
        .patch(
            &format!("/api/v1/content/{id}"),
            t,
            json!({"caption": "Rise early. Run far. #run #gym"}),
        )
        .await;
    same.expect(200, "the same caption");
    assert_eq!(same.body["status"], "scheduled", "nothing changed");
    let r = api
        .patch(
            &format!("/api/v1/content/{id}"),
            t,
            json!({"caption": "Rise early. Run far. Join us Saturday."}),
        )
        .await;
    r.expect(200, "caption after approval");
    assert_eq!(r.body["status"], "in_production");
    assert_eq!(r.body["qa"]["complete"], false);
    assert!(r.body["qa"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["done"] == false));
    assert_eq!(r.body["revision_count"], 0, "not a revision");
    let reopened = events_of(&api, t, &client, "content.approval_reopened").await;
    assert_eq!(reopened.len(), 1);
    assert_eq!(
        reopened[0]["data"]["reason"],
        "caption changed after approval"
    );
    assert_eq!(reopened[0]["data"]["from"], "scheduled");
    assert_eq!(reopened[0]["data"]["unscheduled"], true);
    // A new round on the same version decides the new copy.
    let s = submit(&api, t, &id).await;
    s.expect(200, "round 2");
    assert_eq!(s.body["rounds"][1]["version"], 2);
    assert_eq!(
        s.body["rounds"][1]["caption"],
        "Rise early. Run far. Join us Saturday."
    );
    let d = decide(&api, &abe_t, &id, json!({"decision": "approve"})).await;
    assert_eq!(d.body["status"], "approved");
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        t,
        json!({"publish_at": at}),
    )
    .await
    .problem(409, "QA gate applies again");
    app.shutdown().await;
}

#[tokio::test]
async fn caption_limits_and_bad_input() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let id = create(
        &api,
        t,
        &client,
        json!({"title": "Tags", "channel": "instagram"}),
    )
    .await;
    let tags: String = (0..31).map(|i| format!("#t{i} ")).collect();
    let r = api
        .patch(
            &format!("/api/v1/content/{id}"),
            t,
            json!({"caption": tags}),
        )
        .await;
    r.expect(200, "a caption over the hashtag limit is saved");
    assert_eq!(
        r.body["caption_problems"],
        json!(["the caption has 31 hashtags; Instagram allows 30"])
    );
    let q = api
        .put(
            &format!("/api/v1/content/{id}/qa"),
            t,
            json!({"items": {"hashtags": true}}),
        )
        .await;
    q.problem(422, "the hashtag check cannot be ticked");
    assert!(q.text.contains("31 hashtags"), "{}", q.text);
    api.put(
        &format!("/api/v1/content/{id}/qa"),
        t,
        json!({"items": {"legal": true}}),
    )
    .await
    .expect(200, "other checks can");
    let before = item(&api, t, &id).await["caption"].clone();
    for (body, what) in [
        (json!({"caption": "é".repeat(5_001)}), "too long"),
        (json!({"caption": "bell\u{7}"}), "control character"),
        (json!({"caption": 42}), "not a string"),
    ] {
        api.patch(&format!("/api/v1/content/{id}"), t, body)
            .await
            .problem(422, what);
    }
    version(
        &api,
        t,
        &id,
        json!({"url": "https://drafts.example/v1", "caption": "é".repeat(5_001)}),
    )
    .await
    .problem(422, "version caption too long");
    assert_eq!(item(&api, t, &id).await["caption"], before, "unchanged");
    assert_eq!(item(&api, t, &id).await["current_version"], 0);
    api.post(
        &format!("/api/v1/clients/{client}/content"),
        t,
        json!({"title": "X", "channel": "x", "caption": "é".repeat(5_001)}),
    )
    .await
    .problem(422, "create with a too long caption");
    app.shutdown().await;
}

#[tokio::test]
async fn comments_for_the_client_and_content_waiting_for_me() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rey = member(&api, t, "rey@northwind.test", "Rey Reviewer").await;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let (rey_t, abe_t) = (token_of(&app, &rey).await, token_of(&app, &abe).await);
    let client = api.create_client(t, "Harbor Fitness").await;
    let mut ids = Vec::new();
    for title in ["First", "Second"] {
        let id = create(
            &api,
            t,
            &client,
            json!({"title": title, "channel": "instagram"}),
        )
        .await;
        participants(
            &api,
            t,
            &id,
            json!({"reviewers": [rey], "approvers": [abe]}),
        )
        .await
        .expect(200, "participants");
        version(&api, t, &id, json!({"url": "https://drafts.example/v1"}))
            .await
            .expect(201, "v1");
        ids.push(id);
    }
    let waiting = |tok: String| {
        let api = api.clone();
        async move {
            let r = api.get("/api/v1/me/content-waiting", &tok).await;
            r.expect(200, "waiting");
            r.items()
                .iter()
                .map(|i| {
                    (
                        i["id"].as_str().unwrap().to_string(),
                        i["waiting_for"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert!(waiting(abe_t.clone()).await.is_empty(), "nothing in review");
    submit(&api, t, &ids[0]).await.expect(200, "submit first");
    submit(&api, t, &ids[1]).await.expect(200, "submit second");
    assert_eq!(
        waiting(abe_t.clone()).await,
        vec![
            (ids[0].clone(), "decision".to_string()),
            (ids[1].clone(), "decision".to_string())
        ]
    );
    assert_eq!(
        waiting(rey_t.clone()).await,
        vec![
            (ids[0].clone(), "review".to_string()),
            (ids[1].clone(), "review".to_string())
        ]
    );
    let full = api.get("/api/v1/me/content-waiting", &abe_t).await;
    let first = &full.items()[0];
    assert_eq!(first["title"], "First");
    assert_eq!(first["client_name"], "Harbor Fitness");
    assert_eq!(first["round"], 1);
    assert_eq!(first["version"], 1);
    assert!(
        waiting(t.clone()).await.is_empty(),
        "the admin is on neither"
    );

    // Comments: internal by default, for the client when marked.
    let c = api
        .post(
            &format!("/api/v1/content/{}/comments", ids[0]),
            &rey_t,
            json!({"body": "Internal: the hook drags"}),
        )
        .await;
    c.expect(201, "internal comment");
    assert_eq!(c.body["for_client"], false);
    let c = api
        .post(
            &format!("/api/v1/content/{}/comments", ids[0]),
            t,
            json!({"body": "The music is licensed for a year.", "for_client": true}),
        )
        .await;
    c.expect(201, "for the client");
    assert_eq!(c.body["for_client"], true);
    let it = item(&api, t, &ids[0]).await;
    let flags: Vec<bool> = it["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["for_client"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![false, true]);
    api.post(
        &format!("/api/v1/content/{}/comments", ids[0]),
        t,
        json!({"body": "x", "for_client": "yes"}),
    )
    .await
    .problem(422, "for_client must be a boolean");

    // A review comment or a decision takes the item off the list.
    assert_eq!(
        waiting(rey_t.clone()).await,
        vec![(ids[1].clone(), "review".to_string())]
    );
    decide(&api, &abe_t, &ids[1], json!({"decision": "approve"}))
        .await
        .expect(200, "abe approves the second");
    assert_eq!(
        waiting(abe_t.clone()).await,
        vec![(ids[0].clone(), "decision".to_string())]
    );
    assert!(waiting(rey_t.clone()).await.is_empty());

    // Another agency: nothing of ours, and our ids are not found.
    let rival = app.other_agency("admin@rival.test").await;
    let r = &rival.token;
    assert!(waiting(r.clone()).await.is_empty());
    api.post(
        &format!("/api/v1/content/{}/comments", ids[0]),
        r,
        json!({"body": "hi", "for_client": true}),
    )
    .await
    .problem(404, "their comment");
    api.patch(
        &format!("/api/v1/content/{}", ids[0]),
        r,
        json!({"caption": "theirs"}),
    )
    .await
    .problem(404, "their caption");
    participants(&api, r, &ids[0], json!({"approvers": [rival.admin.id]}))
        .await
        .problem(404, "their participants");
    api.get("/api/v1/me/content-waiting", "bt_not_a_token")
        .await
        .problem(401, "no token");
    app.shutdown().await;
}
