//! The client's approval link (`/a/{token}`): the client approves or asks
//! for changes without an account, under the onboarding link's rules (hashed
//! token, neutral 404, no side effects on GET, audited decisions).

use crate::common;

use baton_server::testing::TestApp;
use common::Api;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

fn browser() -> Client {
    Client::builder()
        .redirect(common::flash_policy())
        .build()
        .expect("client")
}

/// An item of a new client, in review, with the client as its only approver.
async fn item_in_review(api: &Api, t: &str, title: &str) -> String {
    let client = api.create_client(t, "Harbor Fitness").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram", "format": "carousel", "campaign": "Spring"}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": ["client"]}),
    )
    .await
    .expect(200, "client approves");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://cdn.example.com/drafts/slide-1.png", "note": "First cut"}),
    )
    .await
    .expect(201, "version");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    id
}

async fn link(api: &Api, t: &str, id: &str) -> String {
    let r = api
        .post(&format!("/api/v1/content/{id}/approval-link"), t, json!({}))
        .await;
    r.expect(201, "approval link");
    r.body["url"].as_str().unwrap().to_string()
}

async fn page(c: &Client, url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = c.get(url).send().await.expect("GET");
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.expect("body"))
}

async fn decide(c: &Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c
        .post(format!("{url}/decision"))
        .form(form)
        .send()
        .await
        .expect("POST");
    let s = r.status();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (s, loc.unwrap_or(r.text().await.unwrap_or_default()))
}

#[tokio::test]
async fn the_client_requests_changes_then_approves_without_an_account() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let id = item_in_review(&api, t, "Spring <b>launch</b> carousel").await;
    let url = link(&api, t, &id).await;
    assert!(url.contains("/a/"), "{url}");
    let c = browser();

    let before = common::trail(&app, &app.agency.id).await;
    let (status, headers, html) = page(&c, &url).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        common::trail(&app, &app.agency.id).await,
        before,
        "GET writes nothing"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers["x-robots-tag"]
        .to_str()
        .unwrap()
        .contains("noindex"));
    assert!(headers.get("set-cookie").is_none());
    assert!(
        (html.contains("Spring &#60;b&#62;launch&#60;/b&#62; carousel")
            || html.contains("Spring &lt;b&gt;launch&lt;/b&gt; carousel"))
            && !html.contains("<b>launch</b>"),
        "escaped"
    );
    // The file-naming headline is the team's, not the client's (issue 11).
    assert!(!html.contains("harbor-fitness_spring_instagram_carousel_v1"));
    assert!(html.contains("Draft 1"), "{html}");
    assert!(
        html.contains("src=\"https://cdn.example.com/drafts/slide-1.png\""),
        "image preview"
    );
    assert!(!html.contains("<script"));

    // Refusals keep what was typed.
    let (s, body) = decide(
        &c,
        &url,
        &[
            ("name", ""),
            ("decision", "approve"),
            ("comment", "typed text"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("give your name") && body.contains("typed text"),
        "{body}"
    );
    let (s, body) = decide(
        &c,
        &url,
        &[
            ("name", "Dana Ruiz"),
            ("decision", "request_changes"),
            ("comment", " "),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("what should change"), "{body}");

    let (s, loc) = decide(
        &c,
        &url,
        &[
            ("name", "Dana Ruiz"),
            ("decision", "request_changes"),
            ("comment", "Make the logo bigger"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    assert!(loc.ends_with("?done=request_changes"), "{loc}");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["status"], "changes_requested");
    assert_eq!(
        item["rounds"][0]["feedback"],
        json!(["Dana Ruiz: Make the logo bigger"])
    );
    assert_eq!(item["rounds"][0]["revision"], "minor", "small changes");
    let audit = api.get("/api/v1/audit?limit=20", t).await;
    let entry = audit
        .items()
        .iter()
        .find(|e| e["action"] == "content.decided")
        .expect("the decision is audited");
    assert_eq!(entry["actor_kind"], "client_link");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert!(entry["actor_label"].as_str().unwrap().contains("Dana Ruiz"));

    // Nothing to decide until the next draft; then the same link shows it.
    let (_, _, html) = page(&c, &url).await;
    assert!(html.contains("working on the changes"), "{html}");
    assert!(!html.contains("Send my decision"));
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://cdn.example.com/drafts/slide-1-v2.png"}),
    )
    .await
    .expect(201, "v2");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "resubmit");
    let (_, _, html) = page(&c, &url).await;
    assert!(html.contains("Draft 2"), "the current draft");
    assert!(!html.contains("_v2"), "no naming convention");
    assert!(
        html.contains("Make the logo bigger"),
        "the client's own earlier decision"
    );
    let (s, _) = decide(&c, &url, &[("name", "Dana Ruiz"), ("decision", "approve")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let item: Value = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["status"], "approved");
    assert_eq!(item["revision_count"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_asking_for_a_rework_marks_the_revision_major() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let id = item_in_review(&api, t, "Reel").await;
    let c = browser();
    let url = link(&api, t, &id).await;
    let (_, _, html) = page(&c, &url).await;
    assert!(
        html.contains("value=\"request_rework\""),
        "the client's choice"
    );
    let (s, loc) = decide(
        &c,
        &url,
        &[
            ("name", "Dana Ruiz"),
            ("decision", "request_rework"),
            ("comment", "This is not our tone at all; start again"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc}");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["status"], "changes_requested");
    assert_eq!(item["rounds"][0]["revision"], "major");
    app.shutdown().await;
}

#[tokio::test]
async fn the_account_lead_resizes_a_clients_small_changes_into_a_rework() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let id = item_in_review(&api, t, "Reel").await;
    let c = browser();
    let url = link(&api, t, &id).await;
    decide(
        &c,
        &url,
        &[
            ("name", "Dana Ruiz"),
            ("decision", "request_changes"),
            ("comment", "Just tweak the last slide"),
        ],
    )
    .await;
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["rounds"][0]["revision"], "minor");
    let client = item["client_id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/content/{id}/rounds/1/revision");
    let body = json!({"revision": "major", "reason": "The 'tweak' was a new concept"});

    // A member who is not the client's account lead may not; the lead may.
    let member = common::non_admin_token(
        &app,
        &api,
        "lead@northwind.test",
        baton_store::tokens::Scope::Write,
    )
    .await;
    let r = api.post(&path, &member, body.clone()).await;
    r.problem(403, "not the lead");
    assert!(r.text.contains("account lead"), "{}", r.text);
    let me = api.get("/api/v1/me", &member).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": me}], "traffic_control": me}),
    )
    .await
    .expect(200, "seat the lead");
    for (b, field) in [
        (json!({"revision": "huge", "reason": "x"}), "revision"),
        (json!({"revision": "major", "reason": " "}), "reason"),
    ] {
        let r = api.post(&path, &member, b).await;
        r.problem(422, field);
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    api.post(
        &format!("/api/v1/content/{id}/rounds/9/revision"),
        &member,
        body.clone(),
    )
    .await
    .problem(404, "no round 9");
    api.post(
        &format!("/api/v1/content/{id}/rounds/x/revision"),
        &member,
        body.clone(),
    )
    .await
    .problem(404, "not a round");
    let r = api.post(&path, &member, body.clone()).await;
    r.expect(200, "resized");
    assert_eq!(r.body["rounds"][0]["revision"], "major");
    let events = api.client_events(t, &client).await;
    let resized: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "content.revision_resized")
        .collect();
    assert_eq!(resized.len(), 1);
    assert_eq!(resized[0]["data"]["from"], "minor");
    assert_eq!(resized[0]["data"]["to"], "major");
    // The same size again records nothing more.
    api.post(&path, &member, body.clone())
        .await
        .expect(200, "again");
    assert_eq!(
        api.client_events(t, &client)
            .await
            .iter()
            .filter(|e| e["type"] == "content.revision_resized")
            .count(),
        1
    );
    // Another agency's item is not found.
    let rival = app.other_agency("admin@rival.test").await;
    api.post(&path, &rival.token, body)
        .await
        .problem(404, "other agency");
    app.shutdown().await;
}

#[tokio::test]
async fn an_admin_resizes_a_revision_from_the_item_page() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let id = item_in_review(&api, t, "Reel").await;
    let url = link(&api, t, &id).await;
    decide(
        &browser(),
        &url,
        &[
            ("name", "Dana Ruiz"),
            ("decision", "request_changes"),
            ("comment", "Just tweak the last slide"),
        ],
    )
    .await;
    let admin = common::signed_in_admin(&app).await;
    let (_, html) = common::page(&admin, &app.url(&format!("/content/{id}"))).await;
    assert!(html.contains("data-testid=\"resize-round-1\""), "{html}");
    let r = admin
        .post(app.url(&format!("/content/{id}/rounds/1/revision")))
        .form(&[
            ("csrf", common::csrf_of(&html).as_str()),
            ("revision", "major"),
            ("reason", "A new concept, not a tweak"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("notice=revision_resized"), "{to}");
    let item = api.get(&format!("/api/v1/content/{id}"), t).await.body;
    assert_eq!(item["rounds"][0]["revision"], "major");
    app.shutdown().await;
}

#[tokio::test]
async fn links_follow_the_token_rules() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let id = item_in_review(&api, t, "Reel").await;
    let c = browser();
    let url = link(&api, t, &id).await;
    let token = url.rsplit('/').next().unwrap().to_string();
    let stored = common::stored_bytes(&app).await;
    assert!(
        !stored.windows(token.len()).any(|w| w == token.as_bytes()),
        "only the hash is stored"
    );

    // A new link revokes the old one; wrong and revoked tokens get the same 404.
    let newer = link(&api, t, &id).await;
    let (s_old, _, old_page) = page(&c, &url).await;
    let (s_bad, _, bad_page) = page(&c, &app.url("/a/not-a-token")).await;
    assert_eq!(s_old, StatusCode::NOT_FOUND);
    assert_eq!(s_bad, StatusCode::NOT_FOUND);
    assert_eq!(old_page, bad_page, "indistinguishable");
    for odd in [
        "/a/",
        "/a",
        &format!("/a/{token}/"),
        &format!("/a/{token}/x/y"),
    ] {
        let (s, _, body) = page(&c, &app.url(odd)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{odd}");
        assert_eq!(body, bad_page, "{odd}: the same neutral page");
    }
    assert_eq!(page(&c, &newer).await.0, StatusCode::OK);

    // The client must be an approver; bad expiry; another agency.
    let other = api.create_client(t, "No client approval").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{other}/content"),
            t,
            json!({"title": "Internal only", "channel": "x"}),
        )
        .await;
    api.post(
        &format!("/api/v1/content/{}/approval-link", r.id()),
        t,
        json!({}),
    )
    .await
    .problem(409, "client not an approver");
    api.post(
        &format!("/api/v1/content/{id}/approval-link"),
        t,
        json!({"expires_in_days": 0}),
    )
    .await
    .problem(422, "bad expiry");
    let rival = app.other_agency("admin@rival.test").await;
    api.post(
        &format!("/api/v1/content/{id}/approval-link"),
        &rival.token,
        json!({}),
    )
    .await
    .problem(404, "their item");
    // A member cannot pass as the client, and "client" is no reviewer.
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"reviewers": ["client"]}),
    )
    .await
    .problem(422, "client as reviewer");
    app.shutdown().await;
}
