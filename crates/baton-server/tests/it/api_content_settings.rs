//! Content settings and content KPIs through the API: the agency's naming
//! convention and QA checklists (round trip, defaults, what the next version
//! and a new item get), a client's approval defaults (what a new item starts
//! with), bad input, scopes, tenant isolation, and the content metrics on a
//! manual clock with known numbers.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use baton_store::tokens::Scope;
use common::{non_admin_token, Api, Resp};
use serde_json::{json, Value};

/// Monday 2026-03-02 09:00:00 UTC (inside the default business hours).
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

/// A write token acting as the member `id` (through the store, like the CLI).
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
        Scope::Write,
    )
    .await
    .expect("token")
    .1
}

async fn create(api: &Api, t: &str, client: &str, title: &str, channel: &str) -> Value {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": channel, "format": "reel", "campaign": "Spring Launch"}),
        )
        .await;
    r.expect(201, "create content");
    r.body.clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn add_version(api: &Api, t: &str, id: &str, n: u32) -> Resp {
    let r = api
        .post(
            &format!("/api/v1/content/{id}/versions"),
            t,
            json!({"url": format!("https://drive.example.com/{id}-v{n}.mp4")}),
        )
        .await;
    r.expect(201, "add version");
    r
}

async fn submit(api: &Api, t: &str, id: &str) {
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
}

async fn decide(api: &Api, t: &str, id: &str, body: Value) -> Resp {
    let r = api
        .post(&format!("/api/v1/content/{id}/decisions"), t, body)
        .await;
    r.expect(200, "decide");
    r
}

/// The field a 422 problem names.
#[track_caller]
fn field(r: &Resp) -> &str {
    r.body["errors"][0]["field"].as_str().unwrap_or("")
}

#[track_caller]
fn invalid(r: &Resp, want_field: &str, what: &str) {
    r.problem(422, what);
    assert_eq!(field(r), want_field, "{what}: {}", r.text);
}

fn keys(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {items}"))
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn agency_settings_round_trip_and_defaults() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;

    let g = api.get("/api/v1/agency/content-settings", t).await;
    g.expect(200, "defaults");
    assert_eq!(
        g.body["naming"],
        baton_core::content::DEFAULT_NAMING,
        "{}",
        g.text
    );
    assert_eq!(
        g.body["default_naming"],
        baton_core::content::DEFAULT_NAMING
    );
    assert_eq!(g.body["qa"], json!({}));
    assert_eq!(
        g.body["placeholders"],
        json!([
            "{client}",
            "{campaign}",
            "{channel}",
            "{format}",
            "{title}",
            "{date}",
            "{n}"
        ])
    );
    let defaults = g.body["default_qa"].as_object().unwrap();
    assert_eq!(defaults.len(), baton_core::content::CHANNELS.len());
    for c in baton_core::content::CHANNELS {
        let want: Vec<String> = baton_core::content::default_qa(c.key)
            .into_iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(keys(&defaults[c.key]), want, "{}", c.key);
    }
    assert!(keys(&defaults["instagram"]).contains(&"hashtags"));
    assert_eq!(
        defaults["x"][3]["label"], "Caption within X's 280 characters",
        "labels come along"
    );

    let body = json!({
        "naming": "  {date}_{client}_{title}-v{n}  ",
        "qa": {
            "instagram": [
                {"key": "alt_text", "label": "  Alt text written  "},
                {"key": "collab_tag", "label": "Collab partner tagged"}
            ],
            "Newsletter": [{"key": "unsubscribe", "label": "Unsubscribe link works"}]
        }
    });
    let p = api.put("/api/v1/agency/content-settings", t, body).await;
    p.expect(200, "save settings");
    assert_eq!(p.body["naming"], "{date}_{client}_{title}-v{n}", "trimmed");
    let want_qa = json!({
        "instagram": [
            {"key": "alt_text", "label": "Alt text written"},
            {"key": "collab_tag", "label": "Collab partner tagged"}
        ],
        "newsletter": [{"key": "unsubscribe", "label": "Unsubscribe link works"}]
    });
    assert_eq!(
        p.body["qa"], want_qa,
        "channel keys lower-cased, labels trimmed"
    );
    let g = api.get("/api/v1/agency/content-settings", t).await;
    g.expect(200, "read back");
    assert_eq!(g.body["naming"], "{date}_{client}_{title}-v{n}");
    assert_eq!(g.body["qa"], want_qa);
    assert_eq!(
        keys(&g.body["default_qa"]["instagram"])[0],
        "links_checked",
        "defaults stay Baton's"
    );

    // A read token reads; a PUT replaces every checklist.
    let read = api.token(t, "read").await;
    api.get("/api/v1/agency/content-settings", &read)
        .await
        .expect(200, "read scope reads");
    let p = api
        .put(
            "/api/v1/agency/content-settings",
            t,
            json!({"naming": "{client}_v{n}"}),
        )
        .await;
    p.expect(200, "no checklists");
    assert_eq!(p.body["qa"], json!({}), "back to Baton's checklists");
    app.shutdown().await;
}

#[tokio::test]
async fn the_next_version_and_a_new_item_follow_the_settings() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let item = create(&api, t, &client, "Morning Routine", "instagram").await;
    let id = id_of(&item);
    let v1 = add_version(&api, t, &id, 1).await;
    assert_eq!(
        v1.body["name"],
        "harbor-fitness_spring-launch_instagram_reel_v1"
    );

    api.put(
        "/api/v1/agency/content-settings",
        t,
        json!({"naming": "{client}-{title}.v{n}", "qa": {
            "instagram": [{"key": "alt_text", "label": "Alt text written"}]
        }}),
    )
    .await
    .expect(200, "new convention");
    let v2 = add_version(&api, t, &id, 2).await;
    assert_eq!(v2.body["name"], "harbor-fitness-morning-routine.v2");
    let g = api.get(&format!("/api/v1/content/{id}"), t).await;
    g.expect(200, "item");
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
            "harbor-fitness-morning-routine.v2"
        ],
        "versions are immutable: v1 keeps its name"
    );
    // The item made before the change keeps the checklist it started with.
    assert_eq!(keys(&g.body["qa"]["items"])[0], "links_checked");

    let ig = create(&api, t, &client, "Carousel", "instagram").await;
    assert_eq!(keys(&ig["qa"]["items"]), ["alt_text"]);
    assert_eq!(ig["qa"]["items"][0]["label"], "Alt text written");
    assert_eq!(ig["qa"]["complete"], false);
    let fb = create(&api, t, &client, "Post", "facebook").await;
    let want: Vec<String> = baton_core::content::default_qa("facebook")
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(
        keys(&fb["qa"]["items"]),
        want,
        "other channels keep the default"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn client_defaults_apply_to_new_items() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let rae = member(&api, t, "rae@northwind.test", "Rae Viewer").await;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let admin = app.agency.admin.id.clone();
    let client = api.create_client(t, "Harbor Fitness").await;
    let other = api.create_client(t, "Acme Bakery").await;
    let url = format!("/api/v1/clients/{client}/content-settings");

    let g = api.get(&url, t).await;
    g.expect(200, "defaults");
    assert_eq!(
        g.body,
        json!({"client_id": client, "approval_mode": "all", "reviewers": [], "approvers": []})
    );

    let before = create(&api, t, &client, "Before", "instagram").await;
    let write = api.token(t, "write").await;
    let p = api
        .put(
            &url,
            &write,
            json!({"approval_mode": "any", "reviewers": [rae], "approvers": [abe, admin, abe]}),
        )
        .await;
    p.expect(200, "write scope sets defaults");
    let want = json!({"client_id": client, "approval_mode": "any", "reviewers": [rae], "approvers": [abe, admin]});
    assert_eq!(p.body, want, "duplicates listed once");
    assert_eq!(api.get(&url, t).await.body, want);

    let item = create(&api, t, &client, "After", "instagram").await;
    assert_eq!(item["approval_mode"], "any");
    assert_eq!(item["reviewers"], json!([rae]));
    assert_eq!(item["approvers"], json!([abe, admin]));
    assert_eq!(
        before["approvers"],
        json!([]),
        "earlier items are not changed"
    );
    let g = api
        .get(&format!("/api/v1/content/{}", id_of(&before)), t)
        .await;
    assert_eq!(g.body["approvers"], json!([]));
    let elsewhere = create(&api, t, &other, "Elsewhere", "instagram").await;
    assert_eq!(elsewhere["approvers"], json!([]), "per client");
    assert_eq!(elsewhere["approval_mode"], "all");

    // With the defaults an item can be submitted at once, and any one
    // approver decides.
    let id = id_of(&item);
    add_version(&api, t, &id, 1).await;
    submit(&api, t, &id).await;
    let abe_token = token_of(&app, &abe).await;
    let d = decide(&api, &abe_token, &id, json!({"decision": "approve"})).await;
    assert_eq!(
        d.body["status"], "approved",
        "mode any: one approval is enough"
    );

    // Mode left out: back to all.
    let p = api
        .put(&url, t, json!({"reviewers": [], "approvers": [abe]}))
        .await;
    p.expect(200, "mode left out");
    assert_eq!(p.body["approval_mode"], "all");
    let events = api.client_events(t, &client).await;
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "client.content_settings_changed"),
        "the change is on the client's timeline"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let agency_url = "/api/v1/agency/content-settings";
    api.put(
        agency_url,
        t,
        json!({"naming": "{client}_v{n}", "qa": {"x": [{"key": "thread_ok", "label": "Thread reads well"}]}}),
    )
    .await
    .expect(200, "a good save first");
    let saved = api.get(agency_url, t).await.body.clone();

    let item = |key: &str, label: &str| json!({"key": key, "label": label});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"naming": "{client}_{campaign}"}), "naming"),
        (json!({"naming": "{author}_v{n}"}), "naming"),
        (json!({"naming": "../{client}_v{n}"}), "naming"),
        (json!({"naming": ""}), "naming"),
        (json!({"naming": "a".repeat(201) + "{n}"}), "naming"),
        (json!({"qa": {}}), "body"),
        (json!({"naming": "{n}", "extra": 1}), "body"),
        (
            json!({"naming": "{n}", "qa": {"instagram": []}}),
            "qa.instagram",
        ),
        (
            json!({"naming": "{n}", "qa": {"instagram": [item("Alt", "x")]}}),
            "qa.instagram",
        ),
        (
            json!({"naming": "{n}", "qa": {"tiktok": [item("legal", "a"), item("legal", "b")]}}),
            "qa.tiktok",
        ),
        (
            json!({"naming": "{n}", "qa": {"tiktok": [item("legal", "  ")]}}),
            "qa.tiktok",
        ),
        (
            json!({"naming": "{n}", "qa": {"tiktok": [item("legal", "two\nlines")]}}),
            "qa.tiktok",
        ),
        (
            json!({"naming": "{n}", "qa": {"tiktok": [{"key": "legal", "label": "ok", "done": true}]}}),
            "body",
        ),
        (
            json!({"naming": "{n}", "qa": {"my space": [item("legal", "ok")]}}),
            "qa",
        ),
        (
            json!({"naming": "{n}", "qa": {"Instagram": [item("legal", "ok")], "instagram": [item("legal", "ok")]}}),
            "qa.instagram",
        ),
    ];
    for (body, want) in cases {
        let r = api.put(agency_url, t, body.clone()).await;
        invalid(&r, want, &body.to_string());
    }
    assert_eq!(
        api.get(agency_url, t).await.body,
        saved,
        "nothing was saved"
    );

    let rae = member(&api, t, "rae@northwind.test", "Rae Viewer").await;
    let client = api.create_client(t, "Harbor Fitness").await;
    let url = format!("/api/v1/clients/{client}/content-settings");
    api.put(&url, t, json!({"approvers": [rae]}))
        .await
        .expect(200, "a good save first");
    let rival = app.other_agency("admin@rival.test").await;
    let stranger = rival.admin.id.clone();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"approval_mode": "most", "approvers": [rae]}),
            "approval_mode",
        ),
        (json!({"approval_mode": 1}), "body"),
        (json!({"approvers": ["mem_nobody"]}), "approvers"),
        (json!({"reviewers": [stranger]}), "reviewers"),
        (json!({"approvers": [stranger]}), "approvers"),
        (json!({"reviewers": [rae], "approvers": [rae]}), "approvers"),
        (json!({"approvers": rae}), "body"),
        (json!({"owners": []}), "body"),
    ];
    for (body, want) in cases {
        let r = api.put(&url, t, body.clone()).await;
        invalid(&r, want, &body.to_string());
    }
    let g = api.get(&url, t).await;
    assert_eq!(g.body["approvers"], json!([rae]), "nothing was saved");
    assert_eq!(g.body["approval_mode"], "all");
    api.put("/api/v1/clients/cli_nope/content-settings", t, json!({}))
        .await
        .problem(404, "unknown client");
    api.get("/api/v1/clients/nope/content-settings", t)
        .await
        .problem(404, "garbage id");
    app.shutdown().await;
}

#[tokio::test]
async fn scopes_and_admins() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let body = json!({"naming": "{client}_v{n}"});
    let url = "/api/v1/agency/content-settings";

    let write = api.token(t, "write").await;
    api.put(url, &write, body.clone())
        .await
        .problem(403, "write token on agency settings");
    let demoted = non_admin_token(&app, &api, "demoted@northwind.test", Scope::Admin).await;
    api.put(url, &demoted, body.clone())
        .await
        .problem(403, "admin-scoped token of a non-admin");
    let member_write = non_admin_token(&app, &api, "plain@northwind.test", Scope::Write).await;
    api.put(url, &member_write, body.clone())
        .await
        .problem(403, "non-admin member");
    api.get(url, &member_write)
        .await
        .expect(200, "but they can read");
    assert_eq!(
        api.get(url, t).await.body["naming"],
        baton_core::content::DEFAULT_NAMING,
        "unchanged"
    );
    // Client defaults need write scope, not admin.
    let read = api.token(t, "read").await;
    let curl = format!("/api/v1/clients/{client}/content-settings");
    api.put(&curl, &read, json!({}))
        .await
        .problem(403, "read token on client defaults");
    api.get(&curl, &read).await.expect(200, "read reads");
    // Who approves is the account lead's, traffic control's or an admin's
    // to change (issue 11): write scope alone is not enough.
    let r = api
        .put(&curl, &member_write, json!({"approval_mode": "any"}))
        .await;
    r.problem(403, "a non-admin with write scope, not on the team");
    assert_eq!(
        r.body["detail"],
        "Only the account lead, traffic control or an admin can change who approves."
    );
    let plain = api.get("/api/v1/me", &member_write).await.id();
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": plain}],
               "traffic_control": app.agency.admin.id}),
    )
    .await
    .expect(200, "make them the account lead");
    api.put(&curl, &member_write, json!({"approval_mode": "any"}))
        .await
        .expect(200, "the client's account lead with write scope");
    api.get("/api/v1/kpis/content", &read)
        .await
        .expect(200, "read reads KPIs");
    for (path, what) in [
        (url.to_string(), "agency settings"),
        (curl.clone(), "client defaults"),
        ("/api/v1/kpis/content".to_string(), "kpis"),
    ] {
        let r = api.get(&path, "bt_not_a_token").await;
        r.problem(401, what);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_sees_none_of_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let client = api.create_client(t, "Ours").await;
    let url = format!("/api/v1/clients/{client}/content-settings");
    api.put(&url, t, json!({"approvers": [abe]}))
        .await
        .expect(200, "our defaults");
    api.put(
        "/api/v1/agency/content-settings",
        t,
        json!({"naming": "{client}_v{n}", "qa": {"instagram": [{"key": "ours", "label": "Ours"}]}}),
    )
    .await
    .expect(200, "our settings");

    let rival = app.other_agency("admin@rival.test").await;
    let r = &rival.token;
    api.get(&url, r)
        .await
        .problem(404, "their client's defaults");
    api.put(&url, r, json!({"approvers": [rival.admin.id]}))
        .await
        .problem(404, "set their client's defaults");
    api.put(&url, r, json!({}))
        .await
        .problem(404, "clear their client's defaults");
    assert_eq!(api.get(&url, t).await.body["approvers"], json!([abe]));

    let theirs = api.get("/api/v1/agency/content-settings", r).await;
    theirs.expect(200, "their settings");
    assert_eq!(theirs.body["naming"], baton_core::content::DEFAULT_NAMING);
    assert_eq!(theirs.body["qa"], json!({}));
    api.put(
        "/api/v1/agency/content-settings",
        r,
        json!({"naming": "{title}_v{n}"}),
    )
    .await
    .expect(200, "their own settings");
    let ours = api.get("/api/v1/agency/content-settings", t).await;
    assert_eq!(ours.body["naming"], "{client}_v{n}");
    assert_eq!(keys(&ours.body["qa"]["instagram"]), ["ours"]);

    // Their items follow their settings, not ours.
    let their_client = api.create_client(r, "Theirs").await;
    let item = create(&api, r, &their_client, "Post", "instagram").await;
    assert_eq!(item["approvers"], json!([]));
    assert_eq!(keys(&item["qa"]["items"])[0], "links_checked");

    // KPIs: our client cannot be named as a filter by them.
    let k = api
        .get(&format!("/api/v1/kpis/content?client={client}"), r)
        .await;
    invalid(&k, "client", "their client as a KPI filter");
    let k = api
        .get(&format!("/api/v1/kpis/content?creative={abe}"), r)
        .await;
    invalid(&k, "creative", "their member as a KPI filter");
    app.shutdown().await;
}

/// Checks one group of the KPI report.
#[track_caller]
fn check(g: &Value, want: Value) {
    for (k, v) in want.as_object().unwrap() {
        let got = &g[k];
        match (got.as_f64(), v.as_f64()) {
            (Some(a), Some(b)) if v.is_f64() => {
                assert!((a - b).abs() < 1e-9, "{k}: got {got}, want {v} in {g}")
            }
            _ => assert_eq!(got, v, "{k} in {g}"),
        }
    }
}

#[tokio::test]
async fn content_kpis_on_a_manual_clock() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let cleo = member(&api, t, "cleo@northwind.test", "Cleo Creative").await;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let admin = app.agency.admin.id.clone();
    let cleo_t = token_of(&app, &cleo).await;
    let abe_t = token_of(&app, &abe).await;
    let harbor = api.create_client(t, "Harbor Fitness").await;
    let acme = api.create_client(t, "Acme Bakery").await;
    for c in [&harbor, &acme] {
        api.put(
            &format!("/api/v1/clients/{c}/content-settings"),
            t,
            json!({"approvers": [abe]}),
        )
        .await
        .expect(200, "approver by default");
    }

    // A (Harbor, by Cleo): approved in its first round after 2 h.
    // B (Harbor, by the admin): major changes, then approved 5 h after the
    // first submission. C (Acme, by Cleo): minor changes, still open.
    // D (Acme): never submitted, so not in any period.
    let a = id_of(&create(&api, t, &harbor, "A", "instagram").await);
    let b = id_of(&create(&api, t, &harbor, "B", "instagram").await);
    let c = id_of(&create(&api, t, &acme, "C", "tiktok").await);
    let d = id_of(&create(&api, t, &acme, "D", "tiktok").await);
    add_version(&api, &cleo_t, &a, 1).await;
    add_version(&api, t, &b, 1).await;
    add_version(&api, &cleo_t, &c, 1).await;
    add_version(&api, &cleo_t, &d, 1).await;
    for id in [&a, &b, &c] {
        submit(&api, t, id).await;
    }

    // Nothing decided yet: three items, no rates.
    let k = api.get("/api/v1/kpis/content", t).await;
    k.expect(200, "kpis before decisions");
    check(
        &k.body["overall"],
        json!({"key": "all", "items": 3, "approved": 0, "revisions_per_asset": null,
               "rework_rate": null, "approval_cycle_median_seconds": null,
               "first_draft_acceptance": null, "approval_pass_rate": null}),
    );

    clock.advance(HOUR);
    let major =
        json!({"decision": "request_changes", "comment": "Wrong offer", "revision": "major"});
    decide(&api, &abe_t, &b, major).await;
    let minor = json!({"decision": "request_changes", "comment": "Typo", "revision": "minor"});
    decide(&api, &abe_t, &c, minor).await;
    clock.advance(HOUR);
    let ok = decide(&api, &abe_t, &a, json!({"decision": "approve"})).await;
    assert_eq!(ok.body["approval_cycle_seconds"], 2 * 3600);
    add_version(&api, t, &b, 2).await;
    submit(&api, t, &b).await;
    clock.advance(3 * HOUR);
    let ok = decide(&api, &abe_t, &b, json!({"decision": "approve"})).await;
    assert_eq!(ok.body["approval_cycle_seconds"], 5 * 3600);
    assert_eq!(ok.body["approval_cycle_business_seconds"], 5 * 3600);

    let k = api.get("/api/v1/kpis/content", t).await;
    k.expect(200, "kpis");
    let h = 3600;
    check(
        &k.body["overall"],
        json!({
            "key": "all", "items": 3, "approved": 2, "revisions": 2,
            // B 1 + C 1 over three reviewed items
            "revisions_per_asset": 2.0 / 3.0,
            // only B had a major revision
            "rework_rate": 1.0 / 3.0,
            // cycles 2 h and 5 h: nearest-rank median 2 h, p90 5 h
            "approval_cycle_median_seconds": 2 * h,
            "approval_cycle_p90_seconds": 5 * h,
            "approval_cycle_business_median_seconds": 2 * h,
            "approval_cycle_business_p90_seconds": 5 * h,
            // A in its first round, B not
            "first_draft_acceptance": 0.5,
            // A ✓, B ✗ ✓, C ✗: 2 of 4 decided rounds
            "approval_pass_rate": 0.5,
        }),
    );
    let by_client = k.body["by_client"].as_array().unwrap();
    let labels: Vec<&str> = by_client
        .iter()
        .map(|g| g["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Acme Bakery", "Harbor Fitness"], "by name");
    check(
        &by_client[0],
        json!({"key": acme, "items": 1, "approved": 0, "revisions_per_asset": 1.0,
               "rework_rate": 0.0, "approval_cycle_median_seconds": null,
               "first_draft_acceptance": null, "approval_pass_rate": 0.0}),
    );
    check(
        &by_client[1],
        json!({"key": harbor, "items": 2, "approved": 2, "revisions_per_asset": 0.5,
               "rework_rate": 0.5, "approval_cycle_median_seconds": 2 * h,
               "approval_cycle_p90_seconds": 5 * h, "first_draft_acceptance": 0.5,
               "approval_pass_rate": 2.0 / 3.0}),
    );
    let by_creative = k.body["by_creative"].as_array().unwrap();
    assert_eq!(by_creative.len(), 2, "{}", k.text);
    check(
        &by_creative[0],
        json!({"key": cleo, "label": "Cleo Creative", "items": 2, "approved": 1,
               "revisions_per_asset": 0.5, "rework_rate": 0.0,
               "approval_cycle_median_seconds": 2 * h, "first_draft_acceptance": 1.0,
               "approval_pass_rate": 0.5}),
    );
    check(
        &by_creative[1],
        json!({"key": admin, "label": "Test Admin", "items": 1, "approved": 1,
               "revisions_per_asset": 1.0, "rework_rate": 1.0,
               "approval_cycle_median_seconds": 5 * h,
               "approval_cycle_business_median_seconds": 5 * h,
               "first_draft_acceptance": 0.0, "approval_pass_rate": 0.5}),
    );

    // Filters.
    let k = api
        .get(&format!("/api/v1/kpis/content?client={harbor}"), t)
        .await;
    k.expect(200, "by client");
    check(&k.body["overall"], json!({"items": 2, "approved": 2}));
    assert_eq!(k.body["by_client"].as_array().unwrap().len(), 1);
    let k = api
        .get(&format!("/api/v1/kpis/content?creative={cleo}"), t)
        .await;
    k.expect(200, "by creative");
    check(
        &k.body["overall"],
        json!({"items": 2, "approved": 1, "first_draft_acceptance": 1.0}),
    );
    let k = api
        .get(
            &format!("/api/v1/kpis/content?client={acme}&creative={admin}"),
            t,
        )
        .await;
    k.expect(200, "both filters");
    check(&k.body["overall"], json!({"items": 0, "rework_rate": null}));
    assert_eq!(k.body["by_client"], json!([]));

    // The period is by first submission, [from, to).
    let at = |ms: i64| common::enc(&baton_core::clock::rfc3339(ms));
    let k = api
        .get(
            &format!(
                "/api/v1/kpis/content?from={}&to={}",
                at(MON_9 - HOUR),
                at(MON_9)
            ),
            t,
        )
        .await;
    k.expect(200, "before the submissions");
    check(&k.body["overall"], json!({"items": 0}));
    let k = api
        .get(
            &format!(
                "/api/v1/kpis/content?from={}&to={}",
                at(MON_9),
                at(MON_9 + 1)
            ),
            t,
        )
        .await;
    k.expect(200, "the first millisecond");
    check(&k.body["overall"], json!({"items": 3, "approved": 2}));
    assert_eq!(k.body["from"], baton_core::clock::rfc3339(MON_9));
    assert_eq!(k.body["to"], baton_core::clock::rfc3339(MON_9 + 1));

    // Bad periods and filters.
    for (q, want) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z", "from"),
        ("from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z", "from"),
        ("client=cli_nope", "client"),
        ("creative=mem_nope", "creative"),
    ] {
        let r = api.get(&format!("/api/v1/kpis/content?{q}"), t).await;
        invalid(&r, want, q);
    }

    // Another agency's report is empty.
    let rival = app.other_agency("admin@rival.test").await;
    let k = api.get("/api/v1/kpis/content", &rival.token).await;
    k.expect(200, "their kpis");
    check(&k.body["overall"], json!({"items": 0}));
    assert_eq!(k.body["by_creative"], json!([]));
    app.shutdown().await;
}
