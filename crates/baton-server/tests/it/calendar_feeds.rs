//! The secret iCalendar feeds of the content calendar: per client and per
//! member, parsed by an independent parser (the `ical` crate), revoked by a
//! new URL, shown once, and never stored in the clear.

use crate::common;
use baton_store::Cx;

use std::io::BufReader;

use baton_server::testing::TestApp;
use common::{now_ms, Api};
use serde_json::json;

const HOUR: i64 = 3_600_000;

/// A scheduled item of `client` titled `title`; returns its id.
async fn scheduled(
    api: &Api,
    t: &str,
    approver: &str,
    client: &str,
    title: &str,
    at: i64,
) -> String {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram", "format": "reel"}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"approvers": [approver]}),
    )
    .await
    .expect(200, "participants");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://example.com/draft"}),
    )
    .await
    .expect(201, "version");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    api.post(
        &format!("/api/v1/content/{id}/decisions"),
        t,
        json!({"decision": "approve"}),
    )
    .await
    .expect(200, "approve");
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        t,
        json!({"publish_at": baton_core::clock::rfc3339(at), "waive_qa_reason": "test feed"}),
    )
    .await
    .expect(200, "schedule");
    id
}

async fn fetch(url: &str) -> (u16, String, String) {
    let r = reqwest::get(url).await.expect("GET feed");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.expect("body"))
}

/// The content items' events (the cadences' meetings are in feeds too).
fn content_events(text: &str) -> Vec<(String, String, String)> {
    events(text)
        .into_iter()
        .filter(|e| e.0.starts_with("cnt_"))
        .collect()
}

/// (UID, SUMMARY, DTSTART) of every event, read by the `ical` crate.
fn events(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for cal in ical::IcalParser::new(BufReader::new(text.as_bytes())) {
        let cal = cal.expect("a valid iCalendar document");
        for e in cal.events {
            let prop = |name: &str| {
                e.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_default()
            };
            out.push((prop("UID"), prop("SUMMARY"), prop("DTSTART")));
        }
    }
    out
}

#[tokio::test]
async fn a_clients_feed_lists_its_scheduled_content_for_calendar_apps() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Harbor Fitness").await;
    let other = api.create_client(t, "Other Co").await;
    let at = (now_ms() / 1000 + 48 * 3600) * 1000;
    let id = scheduled(&api, t, &admin, &client, "Reel, with a comma; and more", at).await;
    scheduled(&api, t, &admin, &other, "Not in this feed", at + HOUR).await;

    let f = api
        .post(
            &format!("/api/v1/clients/{client}/calendar-feed"),
            t,
            json!({}),
        )
        .await;
    f.expect(201, "feed");
    let url = f.body["url"].as_str().unwrap().to_string();
    assert!(url.ends_with(".ics"), "{url}");
    let (status, ct, body) = fetch(&url).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/calendar"), "{ct}");
    let evs = content_events(&body);
    assert_eq!(evs.len(), 1, "{body}");
    assert!(evs[0].0.starts_with(&id));
    assert_eq!(evs[0].1, "Harbor Fitness: Reel\\, with a comma\\; and more");
    // DTSTART in UTC, e.g. 20261130T093000Z.
    let want = jiff::Timestamp::from_millisecond(at)
        .unwrap()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    assert_eq!(evs[0].2, want);

    // Only the hash is stored; a new URL revokes the old one.
    let token = url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let stored = common::stored_bytes(&app).await;
    assert!(
        !stored.windows(token.len()).any(|w| w == token.as_bytes()),
        "token stored in the clear"
    );
    let again = api
        .post(
            &format!("/api/v1/clients/{client}/calendar-feed"),
            t,
            json!({}),
        )
        .await;
    again.expect(201, "new feed");
    assert_eq!(fetch(&url).await.0, 404, "the old URL is revoked");
    assert_eq!(fetch(again.body["url"].as_str().unwrap()).await.0, 200);
    assert_eq!(fetch(&app.url("/feeds/nope.ics")).await.0, 404);

    // Another agency cannot make a feed of this client.
    let rival = app.other_agency("admin@rival.test").await;
    api.post(
        &format!("/api/v1/clients/{client}/calendar-feed"),
        &rival.token,
        json!({}),
    )
    .await
    .problem(404, "their client");
    app.shutdown().await;
}

#[tokio::test]
async fn a_members_feed_shows_the_content_they_approve_or_whose_client_they_serve() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let admin = app.agency.admin.id.clone();
    let served = api.create_client(t, "Served").await;
    let unrelated = api.create_client(t, "Unrelated").await;
    let at = now_ms() + 24 * HOUR;
    // The admin approves both; a new member only serves `served`.
    scheduled(&api, t, &admin, &served, "Served post", at).await;
    scheduled(&api, t, &admin, &unrelated, "Unrelated post", at).await;
    let m = api
        .post(
            "/api/v1/members",
            t,
            json!({"email": "pm@northwind.test", "name": "Pat", "roles": ["project_manager"]}),
        )
        .await;
    m.expect(201, "member");
    let pm = m.id();
    api.put(
        &format!("/api/v1/clients/{served}/team"),
        t,
        json!({"members": [{"role": "project_manager", "member_id": pm}], "traffic_control": pm}),
    )
    .await
    .expect(200, "team");

    let mine = api.post("/api/v1/me/calendar-feed", t, json!({})).await;
    mine.expect(201, "admin feed");
    let (_, _, body) = fetch(mine.body["url"].as_str().unwrap()).await;
    assert_eq!(content_events(&body).len(), 2, "the approver sees both");

    let member = baton_store::members::get(&app.state.db, &app.agency.id, &pm)
        .await
        .unwrap();
    let (_, pm_token) = baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &member.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &member,
        "pm",
        baton_store::tokens::Scope::Write,
    )
    .await
    .unwrap();
    let theirs = api
        .post("/api/v1/me/calendar-feed", &pm_token, json!({}))
        .await;
    theirs.expect(201, "pm feed");
    let (_, _, body) = fetch(theirs.body["url"].as_str().unwrap()).await;
    let evs: Vec<String> = content_events(&body).into_iter().map(|e| e.1).collect();
    assert_eq!(evs, vec!["Served: Served post".to_string()]);
    // And the meetings they attend by role: the weekly delivery planning.
    let meetings: Vec<String> = events(&body)
        .into_iter()
        .filter(|e| e.0.starts_with("cdo_"))
        .map(|e| e.1)
        .collect();
    assert!(
        meetings.iter().any(|m| m == "Weekly delivery planning"),
        "{meetings:?}"
    );
    assert!(
        !meetings.iter().any(|m| m == "Quarterly ops review"),
        "not theirs"
    );

    // The URL is shown once: an idempotent replay does not return it again.
    let key = "feed-once";
    let first = api
        .send(
            api.request(reqwest::Method::POST, "/api/v1/me/calendar-feed", t)
                .header("Idempotency-Key", key)
                .json(&json!({})),
        )
        .await;
    first.expect(201, "first");
    let replay = api
        .send(
            api.request(reqwest::Method::POST, "/api/v1/me/calendar-feed", t)
                .header("Idempotency-Key", key)
                .json(&json!({})),
        )
        .await;
    replay.problem(409, "secret not replayed");
    app.shutdown().await;
}

/// The feed's event and audit entry of `action` for `entity`: how many.
async fn recorded(app: &TestApp, action: &str, entity: &str) -> (i64, i64) {
    let events = common::count(
        app,
        &format!("SELECT COUNT(*) FROM events WHERE type = '{action}' AND agency_id = $1"),
        &app.agency.id,
    )
    .await;
    let audit = common::count(
        app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND entity_id = $1"),
        entity,
    )
    .await;
    (events, audit)
}

#[tokio::test]
async fn feeds_are_revoked_with_delete_and_only_by_their_agency() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let path = format!("/api/v1/clients/{client}/calendar-feed");
    let made = api.post(&path, t, json!({})).await;
    made.expect(201, "feed");
    let url = made.body["url"].as_str().unwrap().to_string();
    assert_eq!(fetch(&url).await.0, 200);
    assert_eq!(
        recorded(&app, "calendar_feed.created", &client).await,
        (1, 1)
    );

    // Bad input and other agencies: nothing revoked, nothing recorded.
    let rival = app.other_agency("admin@rival.test").await;
    api.delete(&path, &rival.token)
        .await
        .problem(404, "another agency's client");
    api.delete("/api/v1/clients/nope/calendar-feed", t)
        .await
        .problem(404, "not an id");
    api.delete(
        &format!("/api/v1/clients/{}/calendar-feed", "c".repeat(5000)),
        t,
    )
    .await
    .client_error("a very long id");
    let reader = api.token(t, "read").await;
    api.delete(&path, &reader).await.problem(403, "read scope");
    assert_eq!(fetch(&url).await.0, 200, "still works");
    assert_eq!(
        recorded(&app, "calendar_feed.revoked", &client).await,
        (0, 0)
    );

    // Revoked: the URL is dead, with an event on the client's timeline and
    // an audit entry. Again: still 204, nothing more recorded.
    let before = common::trail(&app, &app.agency.id).await;
    api.delete(&path, t).await.expect(204, "revoke");
    assert_eq!(fetch(&url).await.0, 404, "the URL no longer works");
    let after = common::trail(&app, &app.agency.id).await;
    assert_eq!(after.events - before.events, 1, "one event");
    assert_eq!(after.audit - before.audit, 1, "one audit entry");
    let timeline = api.client_events(t, &client).await;
    assert!(
        timeline
            .iter()
            .any(|e| e["type"] == "calendar_feed.revoked"),
        "{timeline:?}"
    );
    api.delete(&path, t)
        .await
        .expect(204, "nothing left to revoke");
    assert_eq!(
        recorded(&app, "calendar_feed.revoked", &client).await,
        (1, 1)
    );
    // The rival's own feed is untouched by all this.
    let theirs = api
        .post("/api/v1/me/calendar-feed", &rival.token, json!({}))
        .await;
    theirs.expect(201, "rival feed");
    let theirs = theirs.body["url"].as_str().unwrap().to_string();

    // My own feed.
    let mine = api.post("/api/v1/me/calendar-feed", t, json!({})).await;
    mine.expect(201, "my feed");
    let mine = mine.body["url"].as_str().unwrap().to_string();
    api.delete("/api/v1/me/calendar-feed", &reader)
        .await
        .problem(403, "read scope");
    api.delete("/api/v1/me/calendar-feed", t)
        .await
        .expect(204, "revoke mine");
    assert_eq!(fetch(&mine).await.0, 404);
    assert_eq!(
        recorded(&app, "calendar_feed.revoked", &app.agency.admin.id).await,
        (2, 1),
        "two revocations in the agency, one of them mine"
    );
    assert_eq!(
        fetch(&theirs).await.0,
        200,
        "another agency's feed works on"
    );

    // Both are in the OpenAPI document.
    let doc = api.get("/api/openapi.json", "").await;
    for (p, op) in [
        (
            "/api/v1/clients/{id}/calendar-feed",
            "revokeClientCalendarFeed",
        ),
        ("/api/v1/me/calendar-feed", "revokeMyCalendarFeed"),
    ] {
        assert_eq!(doc.body["paths"][p]["delete"]["operationId"], op, "{p}");
    }
    app.shutdown().await;
}
