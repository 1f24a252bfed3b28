//! `/api/v1` for onboarding, as external scripts use it: the platform catalog
//! and custom platforms, the agency's onboarding settings, access templates,
//! onboarding links (the URL shown once, revoke, regenerate, remind), their
//! refusals, tenant isolation, `Idempotency-Key` on secret-bearing POSTs, the
//! link token never at rest, and the OpenAPI document of these routes.

use crate::common;

use std::collections::{BTreeSet, HashSet};

use baton_server::testing::TestApp;
use baton_store::tokens::Scope;
use common::{
    contains_bytes, count, link_page_status, link_token, ms, non_admin_token, stored_bytes, trail,
    Api, Resp,
};
use reqwest::Method;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;
const UNKNOWN_CLIENT: &str = "cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
const UNKNOWN_LINK: &str = "lnk_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
const UNKNOWN_TEMPLATE: &str = "tpl_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";

/// The platforms the contract names.
const REQUIRED_PLATFORMS: [&str; 8] = [
    "meta_page",
    "meta_ad_account",
    "google_ads",
    "ga4",
    "gtm",
    "tiktok_ads",
    "linkedin_page",
    "linkedin_campaign_manager",
];

fn links_path(client: &str) -> String {
    format!("/api/v1/clients/{client}/onboarding-links")
}

/// `POST /api/v1/clients/{client}/onboarding-links`.
async fn create_link(api: &Api, token: &str, client: &str, body: Value) -> Resp {
    api.post(&links_path(client), token, body).await
}

/// Creates a link and returns its answer, asserting the 201.
async fn new_link(api: &Api, token: &str, client: &str, body: Value) -> Resp {
    let r = create_link(api, token, client, body).await;
    r.expect(201, "create onboarding link");
    r
}

/// The `field` of the first error of a 422.
fn error_field(r: &Resp) -> &str {
    r.body["errors"][0]["field"].as_str().unwrap_or("")
}

/// A valid custom platform definition.
fn klaviyo(name: &str) -> Value {
    json!({
        "name": name,
        "vendor": "Klaviyo",
        "asset_label": "Klaviyo account name",
        "permissions": [
            {"key": "analyst", "name": "Analyst", "description": "Reads reports"},
            {"key": "manager", "name": "Manager"}
        ],
        "default_permission": "analyst",
        "instructions": [
            "Open Settings → Users and invite {agency} as {permission}.",
            "Pick the account {asset}."
        ],
        "mistakes": ["Do not share your password with {agency}."],
        "verify": ["Log in and open the flows."]
    })
}

async fn links_of(app: &TestApp, agency: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM onboarding_links WHERE agency_id = $1",
        agency,
    )
    .await
}

async fn requests_of(app: &TestApp, agency: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) FROM access_requests WHERE agency_id = $1",
        agency,
    )
    .await
}

// ------------------------------------------------------------ platforms --

#[tokio::test]
async fn the_platform_catalog_lists_every_shipped_platform() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let r = api.get("/api/v1/platforms", t).await;
    r.expect(200, "list platforms");
    assert!(r.content_type().starts_with("application/json"));
    let obj = r.body.as_object().expect("an object");
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        vec!["items"],
        "exactly {{\"items\": […]}}"
    );
    let items = r.items();
    assert!(
        items.len() >= 22,
        "at least 22 platforms, got {}",
        items.len()
    );
    let keys: Vec<&str> = items.iter().map(|p| p["key"].as_str().unwrap()).collect();
    let unique: HashSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "keys are unique: {keys:?}");
    for k in REQUIRED_PLATFORMS {
        assert!(keys.contains(&k), "{k} is in the catalog: {keys:?}");
    }
    for p in items {
        let key = p["key"].as_str().unwrap();
        assert!(
            !p["name"].as_str().unwrap_or("").is_empty(),
            "{key} has a name"
        );
        let perms = p["permissions"].as_array().expect("permissions");
        assert!(perms.len() >= 2, "{key} has at least 2 permission levels");
        let perm_keys: Vec<&str> = perms
            .iter()
            .map(|x| {
                assert!(!x["name"].as_str().unwrap_or("").is_empty(), "{key}: {x}");
                x["key"].as_str().expect("permission key")
            })
            .collect();
        let default = p["default_permission"].as_str().expect("default");
        assert!(
            perm_keys.contains(&default),
            "{key}: default {default} is one of {perm_keys:?}"
        );
        assert_eq!(p["custom"], false, "{key} is shipped");
        assert!(
            p["instructions"].as_array().is_some_and(|s| !s.is_empty()),
            "{key} has instructions"
        );
    }

    // One platform is the same document as its line in the list.
    for key in REQUIRED_PLATFORMS {
        let g = api.get(&format!("/api/v1/platforms/{key}"), t).await;
        g.expect(200, key);
        let line = items.iter().find(|p| p["key"] == key).unwrap();
        assert_eq!(&g.body, line, "{key}");
    }
    for unknown in ["no_such_platform", "META_PAGE", "meta_page%20"] {
        api.get(&format!("/api/v1/platforms/{unknown}"), t)
            .await
            .problem(404, unknown);
    }
    // A read token reads the catalog; no token does not.
    let read = api.token(t, "read").await;
    api.get("/api/v1/platforms", &read)
        .await
        .expect(200, "read token");
    api.get("/api/v1/platforms", "")
        .await
        .problem(401, "no token");
    app.shutdown().await;
}

#[tokio::test]
async fn a_platform_key_with_a_nul_byte_is_404_never_500() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for key in ["%00", "meta%00page", "x%00"] {
        api.get(&format!("/api/v1/platforms/{key}"), t)
            .await
            .problem(404, &format!("GET {key}"));
        api.delete(&format!("/api/v1/platforms/{key}"), t)
            .await
            .problem(404, &format!("DELETE {key}"));
        api.put(&format!("/api/v1/platforms/{key}"), t, klaviyo("Nul"))
            .await
            .problem(422, &format!("PUT {key}"));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn custom_platforms_are_added_checked_isolated_and_deleted() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;

    let r = api
        .put("/api/v1/platforms/klaviyo", t, klaviyo("Klaviyo"))
        .await;
    r.expect(200, "add a custom platform");
    assert_eq!(r.body["key"], "klaviyo");
    assert_eq!(r.body["name"], "Klaviyo");
    assert_eq!(r.body["custom"], true);
    assert_eq!(r.body["default_permission"], "analyst");
    assert_eq!(r.body["permissions"][1]["key"], "manager");
    assert_eq!(r.body["permissions"][1]["description"], "");

    let list = api.get("/api/v1/platforms", t).await;
    let mine: Vec<&Value> = list
        .items()
        .iter()
        .filter(|p| p["key"] == "klaviyo")
        .collect();
    assert_eq!(mine.len(), 1, "listed once");
    assert_eq!(mine[0]["custom"], true);
    assert_eq!(mine[0], &r.body);
    assert_eq!(
        list.items().iter().filter(|p| p["custom"] == true).count(),
        1
    );
    let g = api.get("/api/v1/platforms/klaviyo", t).await;
    g.expect(200, "get custom");
    assert_eq!(g.body, r.body);

    // PUT again replaces it (still one line).
    let r = api
        .put("/api/v1/platforms/klaviyo", t, klaviyo("Klaviyo Email"))
        .await;
    r.expect(200, "replace");
    let list = api.get("/api/v1/platforms", t).await;
    let names: Vec<&Value> = list
        .items()
        .iter()
        .filter(|p| p["key"] == "klaviyo")
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names, vec![&json!("Klaviyo Email")]);

    // Bad definitions are 422 and change nothing.
    let before = trail(&app, &app.agency.id).await;
    let mut no_perms = klaviyo("Broken");
    no_perms["permissions"] = json!([]);
    let mut bad_default = klaviyo("Broken");
    bad_default["default_permission"] = json!("owner");
    let mut typo = klaviyo("Broken");
    typo["instructions"] = json!(["Invite {agnecy}."]);
    let mut no_instructions = klaviyo("Broken");
    no_instructions
        .as_object_mut()
        .unwrap()
        .remove("instructions");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("meta_page", klaviyo("Mine now"), "key"),
        ("google_ads", klaviyo("Mine now"), "key"),
        ("Bad-Key", klaviyo("Bad key"), "key"),
        ("broken", no_perms, "permissions"),
        ("broken", bad_default, "default_permission"),
        ("broken", typo, "instructions"),
        ("broken", no_instructions, "body"),
    ];
    for (key, body, field) in cases {
        let r = api.put(&format!("/api/v1/platforms/{key}"), t, body).await;
        r.problem(422, &format!("PUT {key} ({field})"));
        assert_eq!(error_field(&r), field, "{key}: {}", r.text);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");
    let g = api.get("/api/v1/platforms/meta_page", t).await;
    assert_eq!(g.body["custom"], false, "the builtin is untouched");
    api.get("/api/v1/platforms/broken", t)
        .await
        .problem(404, "no broken platform");

    // Only admins (admin scope and admin member) manage the catalog.
    let write = api.token(t, "write").await;
    let read = api.token(t, "read").await;
    for (who, tok) in [("write", &write), ("read", &read)] {
        api.put("/api/v1/platforms/sneaky", tok, klaviyo("Sneaky"))
            .await
            .problem(403, &format!("{who} token adds a platform"));
        api.delete("/api/v1/platforms/klaviyo", tok)
            .await
            .problem(403, &format!("{who} token deletes a platform"));
        api.get("/api/v1/platforms/klaviyo", tok)
            .await
            .expect(200, who);
    }
    let non_admin = non_admin_token(&app, &api, "designer@northwind.test", Scope::Admin).await;
    api.put("/api/v1/platforms/sneaky", &non_admin, klaviyo("Sneaky"))
        .await
        .problem(403, "non-admin member adds a platform");
    api.get("/api/v1/platforms/sneaky", t)
        .await
        .problem(404, "not added");

    // Another agency does not see it, cannot delete it, and may use the same key.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.get("/api/v1/platforms", &rival.token).await;
    assert!(
        theirs.items().iter().all(|p| p["key"] != "klaviyo"),
        "the rival does not see agency A's platform"
    );
    assert!(theirs.items().iter().all(|p| p["custom"] == false));
    api.get("/api/v1/platforms/klaviyo", &rival.token)
        .await
        .problem(404, "rival GET");
    api.delete("/api/v1/platforms/klaviyo", &rival.token)
        .await
        .problem(404, "rival DELETE");
    let rival_client = api.create_client(&rival.token, "Rival client").await;
    let r = create_link(
        &api,
        &rival.token,
        &rival_client,
        json!({"requests": [{"platform": "klaviyo"}]}),
    )
    .await;
    r.problem(422, "the rival cannot request agency A's platform");
    assert_eq!(error_field(&r), "requests[0].platform");
    api.put(
        "/api/v1/platforms/klaviyo",
        &rival.token,
        klaviyo("Rival Klaviyo"),
    )
    .await
    .expect(200, "the rival adds its own klaviyo");
    let g = api.get("/api/v1/platforms/klaviyo", t).await;
    assert_eq!(g.body["name"], "Klaviyo Email", "ours is unchanged");

    // Deleting: builtin 409, in use 409, unused 204, then 404.
    let r = api.delete("/api/v1/platforms/meta_page", t).await;
    r.problem(409, "delete a builtin");
    let client = api.create_client(t, "Uses Klaviyo").await;
    let link = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "klaviyo", "asset": "Main account"}]}),
    )
    .await;
    assert_eq!(link.body["requests"][0]["platform"], "klaviyo");
    assert_eq!(
        link.body["requests"][0]["permission"], "analyst",
        "custom default"
    );
    api.delete("/api/v1/platforms/klaviyo", t)
        .await
        .problem(409, "delete a platform in use");
    api.get("/api/v1/platforms/klaviyo", t)
        .await
        .expect(200, "still there");
    api.put("/api/v1/platforms/unused_tool", t, klaviyo("Unused"))
        .await
        .expect(200, "add unused");
    let d = api.delete("/api/v1/platforms/unused_tool", t).await;
    d.expect(204, "delete unused");
    assert!(d.text.is_empty(), "204 has no body");
    api.get("/api/v1/platforms/unused_tool", t)
        .await
        .problem(404, "deleted");
    api.delete("/api/v1/platforms/unused_tool", t)
        .await
        .problem(404, "delete twice");
    api.delete("/api/v1/platforms/never_existed", t)
        .await
        .problem(404, "delete unknown");
    // The rival's own klaviyo is still there after all this.
    api.get("/api/v1/platforms/klaviyo", &rival.token)
        .await
        .expect(200, "rival's own");
    app.shutdown().await;
}

// ------------------------------------------------------------- settings --

#[tokio::test]
async fn onboarding_settings_round_trip_and_refusals() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let r = api.get("/api/v1/agency/onboarding", t).await;
    r.expect(200, "get defaults");
    assert_eq!(r.body["platform_values"], json!({}));
    assert_eq!(r.body["questions"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["reminder_every_days"], 3);
    assert_eq!(r.body["reminder_max"], 3);
    assert_eq!(r.body["link_expiry_days"], 30);
    assert_eq!(r.body["welcome"], "");
    let defaults = r.body.clone();

    let patch = json!({
        "platform_values": {
            "meta_business_id": " 1234567890 ",
            "agency_email": "access@northwind.test",
            "google_ads_manager_id": ""
        },
        "questions": [
            {"key": "approver", "label": "Who approves content?", "required": true},
            {"label": "Brand voice", "help": "Three words", "long": true}
        ],
        "reminder_every_days": 5,
        "link_expiry_days": 14
    });
    let p = api.patch("/api/v1/agency/onboarding", t, patch).await;
    p.expect(200, "patch");
    assert_eq!(
        p.body["platform_values"],
        json!({"meta_business_id": "1234567890", "agency_email": "access@northwind.test"}),
        "values trimmed, blank ones dropped"
    );
    assert_eq!(p.body["questions"][0]["key"], "approver");
    assert_eq!(p.body["questions"][0]["required"], true);
    assert_eq!(p.body["questions"][1]["key"], "brand_voice", "derived key");
    assert_eq!(p.body["questions"][1]["long"], true);
    assert_eq!(p.body["questions"][1]["required"], false);
    assert_eq!(p.body["reminder_every_days"], 5);
    assert_eq!(p.body["link_expiry_days"], 14);
    assert_eq!(
        p.body["reminder_max"], 3,
        "fields left out keep their value"
    );
    assert_eq!(p.body["welcome"], "");
    let g = api.get("/api/v1/agency/onboarding", t).await;
    assert_eq!(g.body, p.body, "GET returns what PATCH answered");
    let saved = g.body.clone();

    // A new link uses the agency's expiry.
    let client = api.create_client(t, "Expiry").await;
    let link = new_link(&api, t, &client, json!({"requests": [{"platform": "ga4"}]})).await;
    assert_eq!(
        ms(&link.body["expires_at"]) - ms(&link.body["created_at"]),
        14 * DAY_MS
    );

    // Refusals: 422 and nothing changes.
    let before = trail(&app, &app.agency.id).await;
    let cases = [
        (json!({"link_expiry_days": 0}), "link_expiry_days"),
        (json!({"link_expiry_days": 366}), "link_expiry_days"),
        (json!({"reminder_every_days": 61}), "reminder_every_days"),
        (json!({"reminder_max": 21}), "reminder_max"),
        (
            json!({"platform_values": {"Bad Key": "x"}}),
            "platform_values",
        ),
        (
            json!({"questions": [{"label": "A", "key": "a"}, {"label": "B", "key": "a"}]}),
            "questions",
        ),
        (json!({"questions": [{"label": "  "}]}), "questions"),
        (json!({"link_expiry_days": -1}), "body"),
        (json!({"link_expiry_days": "30"}), "body"),
        (json!({"colour": "red"}), "body"),
        (json!({"welcome": "hi", "unknown_field": 1}), "body"),
    ];
    for (body, field) in cases {
        let r = api
            .patch("/api/v1/agency/onboarding", t, body.clone())
            .await;
        r.problem(422, &format!("{body}"));
        assert_eq!(error_field(&r), field, "{body}: {}", r.text);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");
    assert_eq!(
        api.get("/api/v1/agency/onboarding", t).await.body,
        saved,
        "unchanged after refusals"
    );

    // Only admins change the settings; everyone with a token reads them.
    let write = api.token(t, "write").await;
    let read = api.token(t, "read").await;
    let non_admin = non_admin_token(&app, &api, "designer@northwind.test", Scope::Admin).await;
    for (who, tok) in [
        ("write token", &write),
        ("read token", &read),
        ("non-admin member", &non_admin),
    ] {
        api.patch(
            "/api/v1/agency/onboarding",
            tok,
            json!({"link_expiry_days": 7}),
        )
        .await
        .problem(403, who);
        let g = api.get("/api/v1/agency/onboarding", tok).await;
        g.expect(200, who);
        assert_eq!(g.body, saved);
    }

    // Another agency keeps its own (default) settings.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.get("/api/v1/agency/onboarding", &rival.token).await;
    theirs.expect(200, "rival settings");
    assert_eq!(theirs.body, defaults);
    app.shutdown().await;
}

#[tokio::test]
async fn a_question_without_key_always_gets_a_valid_derived_key() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for label in [
        "Which topics, words or competitors must we never mention in content?",
        "2026 goals for social media",
    ] {
        let r = api
            .patch(
                "/api/v1/agency/onboarding",
                t,
                json!({"questions": [{"label": label}]}),
            )
            .await;
        r.expect(200, label);
        let key = r.body["questions"][0]["key"].as_str().unwrap();
        assert!(!key.is_empty() && key.len() <= 40, "{key}");
    }
    app.shutdown().await;
}

// ------------------------------------------------------------ templates --

#[tokio::test]
async fn access_templates_crud_refusals_and_isolation() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let meta_default = api.get("/api/v1/platforms/meta_page", t).await.body["default_permission"]
        .as_str()
        .unwrap()
        .to_string();

    let list = api.get("/api/v1/access-templates", t).await;
    list.expect(200, "empty list");
    assert_eq!(list.body, json!({"items": []}));

    let r = api
        .post(
            "/api/v1/access-templates",
            t,
            json!({"name": "  Standard retainer ", "requests": [
                {"platform": "meta_page"},
                {"platform": "google_ads", "permission": "standard", "asset": "123-456-7890"},
                {"platform": "ga4", "required": false}
            ]}),
        )
        .await;
    r.expect(201, "create template");
    let id = r.id();
    assert!(id.starts_with("tpl_") && id.len() == 30, "{id}");
    assert_eq!(r.body["name"], "Standard retainer");
    let reqs = r.body["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0],
        json!({"platform": "meta_page", "permission": meta_default, "asset": null, "required": true})
    );
    assert_eq!(
        reqs[1],
        json!({"platform": "google_ads", "permission": "standard", "asset": "123-456-7890", "required": true})
    );
    assert_eq!(reqs[2]["required"], false);
    assert!(r.body["created_at"].is_string() && r.body["updated_at"].is_string());

    let list = api.get("/api/v1/access-templates", t).await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0], r.body);

    // Replace it.
    let u = api
        .put(
            &format!("/api/v1/access-templates/{id}"),
            t,
            json!({"name": "Paid retainer", "requests": [{"platform": "tiktok_ads"}]}),
        )
        .await;
    u.expect(200, "update template");
    assert_eq!(u.body["id"], id.as_str());
    assert_eq!(u.body["name"], "Paid retainer");
    assert_eq!(u.body["requests"].as_array().unwrap().len(), 1);
    assert_eq!(u.body["created_at"], r.body["created_at"]);

    // A second template; then its name may not be taken by the first.
    let second = api
        .post(
            "/api/v1/access-templates",
            t,
            json!({"name": "Analytics only", "requests": [{"platform": "ga4"}, {"platform": "gtm"}]}),
        )
        .await;
    second.expect(201, "second");
    let second_id = second.id();

    let before = trail(&app, &app.agency.id).await;
    let dup = api
        .post(
            "/api/v1/access-templates",
            t,
            json!({"name": "Paid retainer", "requests": [{"platform": "ga4"}]}),
        )
        .await;
    dup.problem(422, "duplicate name on create");
    assert!(dup.body["detail"]
        .as_str()
        .unwrap()
        .contains("Paid retainer"));
    api.put(
        &format!("/api/v1/access-templates/{second_id}"),
        t,
        json!({"name": "Paid retainer", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .problem(422, "duplicate name on update");
    let bad: Vec<(Value, &str)> = vec![
        (
            json!({"name": "X", "requests": [{"platform": "myspace"}]}),
            "requests[0].platform",
        ),
        (
            json!({"name": "X", "requests": [{"platform": "ga4"}, {"platform": "nope"}]}),
            "requests[1].platform",
        ),
        (
            json!({"name": "X", "requests": [{"platform": "ga4", "permission": "god_mode"}]}),
            "requests[0].permission",
        ),
        (
            json!({"name": "X", "requests": [{"platform": "meta_page", "permission": "viewer"}]}),
            "requests[0].permission",
        ),
        (json!({"name": "X", "requests": []}), "requests"),
        (
            json!({"name": "X", "requests": [{"platform": "ga4"}, {"platform": "ga4"}]}),
            "requests[1]",
        ),
        (
            json!({"name": "", "requests": [{"platform": "ga4"}]}),
            "name",
        ),
        (json!({"name": "X"}), "body"),
        (
            json!({"name": "X", "requests": [{"platform": "ga4"}], "extra": 1}),
            "body",
        ),
    ];
    for (body, field) in bad {
        let r = api.post("/api/v1/access-templates", t, body.clone()).await;
        r.problem(422, &format!("{body}"));
        assert_eq!(error_field(&r), field, "{body}: {}", r.text);
    }
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");

    // Scopes: a read token lists but does not write.
    let read = api.token(t, "read").await;
    api.get("/api/v1/access-templates", &read)
        .await
        .expect(200, "read lists");
    api.post(
        "/api/v1/access-templates",
        &read,
        json!({"name": "R", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .problem(403, "read creates");
    api.put(
        &format!("/api/v1/access-templates/{id}"),
        &read,
        json!({"name": "R", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .problem(403, "read updates");
    api.delete(&format!("/api/v1/access-templates/{id}"), &read)
        .await
        .problem(403, "read deletes");

    // Another agency: 404 on our ids, its list does not show ours.
    let rival = app.other_agency("admin@rival.test").await;
    let their_before = trail(&app, &rival.id).await;
    api.put(
        &format!("/api/v1/access-templates/{id}"),
        &rival.token,
        json!({"name": "Stolen", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .problem(404, "rival PUT");
    api.delete(&format!("/api/v1/access-templates/{id}"), &rival.token)
        .await
        .problem(404, "rival DELETE");
    let theirs = api.get("/api/v1/access-templates", &rival.token).await;
    assert_eq!(theirs.body, json!({"items": []}));
    assert_eq!(trail(&app, &rival.id).await, their_before);
    let rival_client = api.create_client(&rival.token, "Rival client").await;
    let r = create_link(&api, &rival.token, &rival_client, json!({"template": id})).await;
    r.problem(422, "the rival links with our template");
    assert_eq!(error_field(&r), "template");
    // And the same name is free in another agency.
    api.post(
        "/api/v1/access-templates",
        &rival.token,
        json!({"name": "Paid retainer", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .expect(201, "same name, other agency");

    // Unknown and garbage ids are 404.
    for bad_id in [UNKNOWN_TEMPLATE, "tpl_x", "cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
        api.put(
            &format!("/api/v1/access-templates/{bad_id}"),
            t,
            json!({"name": "Ghost", "requests": [{"platform": "ga4"}]}),
        )
        .await
        .problem(404, bad_id);
        api.delete(&format!("/api/v1/access-templates/{bad_id}"), t)
            .await
            .problem(404, bad_id);
    }

    // Delete.
    let d = api
        .delete(&format!("/api/v1/access-templates/{id}"), t)
        .await;
    d.expect(204, "delete");
    api.delete(&format!("/api/v1/access-templates/{id}"), t)
        .await
        .problem(404, "delete twice");
    let list = api.get("/api/v1/access-templates", t).await;
    let ids: Vec<&Value> = list.items().iter().map(|x| &x["id"]).collect();
    assert_eq!(ids, vec![&json!(second_id)]);
    app.shutdown().await;
}

// ---------------------------------------------------------------- links --

#[tokio::test]
async fn a_link_is_created_with_its_url_once_and_listed_without_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme Coffee").await;
    let defaults: Vec<String> = {
        let mut v = Vec::new();
        for key in ["meta_page", "ga4"] {
            let p = api.get(&format!("/api/v1/platforms/{key}"), t).await;
            v.push(p.body["default_permission"].as_str().unwrap().to_string());
        }
        v
    };

    let r = new_link(
        &api,
        t,
        &client,
        json!({"requests": [
            {"platform": "meta_page", "asset": "Acme Coffee Roasters"},
            {"platform": "google_ads", "permission": "read_only", "asset": "123-456-7890"},
            {"platform": "ga4", "required": false}
        ]}),
    )
    .await;
    assert!(r.content_type().starts_with("application/json"));
    let id = r.id();
    assert!(id.starts_with("lnk_") && id.len() == 30, "{id}");
    assert_eq!(r.body["client_id"], client.as_str());
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["revoked_at"], json!(null));
    assert_eq!(r.body["regenerated_at"], json!(null));
    assert_eq!(r.body["open_count"], 0);
    assert_eq!(r.body["custom_domain_url"], json!(null));
    assert_eq!(
        ms(&r.body["expires_at"]) - ms(&r.body["created_at"]),
        30 * DAY_MS,
        "the default expiry is 30 days"
    );
    let url = r.body["url"].as_str().expect("url").to_string();
    let token = link_token(&url);
    assert_eq!(url, format!("{}/o/{token}", app.state.config.public_url));
    assert_eq!(token.len(), 43, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url: {token}"
    );

    let reqs = r.body["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 3);
    let want = [
        (
            "meta_page",
            defaults[0].as_str(),
            json!("Acme Coffee Roasters"),
            true,
        ),
        ("google_ads", "read_only", json!("123-456-7890"), true),
        ("ga4", defaults[1].as_str(), json!(null), false),
    ];
    for (req, (platform, permission, asset, required)) in reqs.iter().zip(want) {
        let rid = req["id"].as_str().unwrap();
        assert!(rid.starts_with("acc_") && rid.len() == 30, "{rid}");
        assert_eq!(req["platform"], platform);
        assert_eq!(req["permission"], permission, "{platform}");
        assert_eq!(req["asset"], asset);
        assert_eq!(req["required"], required);
        assert_eq!(req["status"], "requested");
        assert_eq!(req["waiting_on"], "client");
        assert_eq!(req["link_id"], id.as_str());
        assert_eq!(req["client_id"], client.as_str());
        assert_eq!(req["needs_revoke"], false);
    }

    // The client's page opens with the token.
    assert_eq!(link_page_status(&api, &token).await, 200);

    // Listing and reading show the link, never its URL or token.
    let list = api.get(&links_path(&client), t).await;
    list.expect(200, "list links");
    assert_eq!(list.items().len(), 1);
    let line = &list.items()[0];
    assert_eq!(line["id"], id.as_str());
    assert_eq!(line["state"], "active");
    assert!(line.get("url").is_none(), "no url in the list: {line}");
    assert!(line.get("token").is_none());
    assert!(!list.text.contains(&token), "no token in the list");
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    g.expect(200, "get link");
    assert!(g.body.get("url").is_none() && !g.text.contains(&token));
    assert_eq!(&g.body, line);
    // The link's fields are the created answer minus url/requests (and the
    // settings it lacks, computed when it is made).
    let mut created = r.body.as_object().unwrap().clone();
    for k in ["url", "custom_domain_url", "requests", "setup_warnings"] {
        created.remove(k);
    }
    assert_eq!(Value::Object(created), g.body);

    // The requests are the client's access requests.
    let ar = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    ar.expect(200, "client requests");
    assert_eq!(ar.items(), reqs);

    // A second link lists newest first; a read token reads them.
    let second = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "tiktok_ads"}], "expires_in_days": 365}),
    )
    .await;
    assert_eq!(
        ms(&second.body["expires_at"]) - ms(&second.body["created_at"]),
        365 * DAY_MS
    );
    let read = api.token(t, "read").await;
    let list = api.get(&links_path(&client), &read).await;
    list.expect(200, "read lists links");
    let ids: Vec<&str> = list
        .items()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![second.id().as_str(), id.as_str()]);
    api.get(&format!("/api/v1/onboarding-links/{id}"), &read)
        .await
        .expect(200, "read gets a link");
    // A client without links has an empty list.
    let other = api.create_client(t, "No links").await;
    assert_eq!(
        api.get(&links_path(&other), t).await.body,
        json!({"items": []})
    );
    // One link_created event per link, on the client's timeline.
    let created_events: Vec<Value> = api
        .client_events(t, &client)
        .await
        .into_iter()
        .filter(|e| e["type"] == "onboarding.link_created")
        .collect();
    assert_eq!(created_events.len(), 2);
    assert_eq!(created_events[0]["entity_id"], id.as_str());
    assert_eq!(
        created_events[0]["data"]["requests"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_link_from_a_template_and_every_refusal_of_link_creation() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Templated").await;
    let tpl = api
        .post(
            "/api/v1/access-templates",
            t,
            json!({"name": "Social", "requests": [
                {"platform": "meta_page"},
                {"platform": "linkedin_page", "permission": "content_admin", "asset": "Acme"},
                {"platform": "ga4", "required": false}
            ]}),
        )
        .await;
    tpl.expect(201, "template");
    let r = new_link(&api, t, &client, json!({"template": tpl.id()})).await;
    let reqs = r.body["requests"].as_array().unwrap();
    let got: Vec<(Value, Value, Value, Value)> = reqs
        .iter()
        .map(|x| {
            (
                x["platform"].clone(),
                x["permission"].clone(),
                x["asset"].clone(),
                x["required"].clone(),
            )
        })
        .collect();
    let want: Vec<(Value, Value, Value, Value)> = tpl.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["platform"].clone(),
                x["permission"].clone(),
                x["asset"].clone(),
                x["required"].clone(),
            )
        })
        .collect();
    assert_eq!(got, want, "the template's requests");
    assert!(r.body["url"].as_str().unwrap().contains("/o/"));

    // Refusals write nothing.
    let links_before = links_of(&app, &app.agency.id).await;
    let reqs_before = requests_of(&app, &app.agency.id).await;
    let trail_before = trail(&app, &app.agency.id).await;
    let one = json!([{"platform": "ga4"}]);
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"platform": "meta_page", "asset": format!("Page {i}")}))
        .collect();
    let fifty: Vec<Value> = (0..50)
        .map(|i| json!({"platform": "meta_page", "asset": format!("Page {i}")}))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"requests": one, "template": tpl.id()}), "template"),
        (json!({}), "requests"),
        (json!({"requests": []}), "requests"),
        (json!({"requests": many}), "requests"),
        (
            json!({"requests": one, "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"requests": one, "expires_in_days": 366}),
            "expires_in_days",
        ),
        (
            json!({"requests": one, "expires_in_days": -3}),
            "expires_in_days",
        ),
        (json!({"template": UNKNOWN_TEMPLATE}), "template"),
        (json!({"template": "tpl_garbage"}), "template"),
        (
            json!({"requests": [{"platform": "myspace"}]}),
            "requests[0].platform",
        ),
        (
            json!({"requests": [{"platform": "ga4"}, {"platform": "google_ads", "permission": "owner"}]}),
            "requests[1].permission",
        ),
        (
            json!({"requests": [{"platform": "ga4", "asset": "x".repeat(201)}]}),
            "requests[0].asset",
        ),
        (json!({"requests": one, "extra": true}), "body"),
        (json!({"requests": [{"permission": "viewer"}]}), "body"),
    ];
    for (body, field) in cases {
        let r = create_link(&api, t, &client, body.clone()).await;
        let what: String = body.to_string().chars().take(120).collect();
        r.problem(422, &what);
        assert_eq!(error_field(&r), field, "{what}: {}", r.text);
    }
    let r = create_link(&api, t, &client, json!({"requests": many})).await;
    assert!(
        r.body["detail"].as_str().unwrap().contains("50"),
        "{}",
        r.text
    );
    assert_eq!(links_of(&app, &app.agency.id).await, links_before);
    assert_eq!(requests_of(&app, &app.agency.id).await, reqs_before);
    assert_eq!(trail(&app, &app.agency.id).await, trail_before);
    // Exactly 50 is fine.
    let r = new_link(&api, t, &client, json!({"requests": fifty})).await;
    assert_eq!(r.body["requests"].as_array().unwrap().len(), 50);

    // Unknown, garbage and another agency's clients are 404, even with a bad body.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.create_client(&rival.token, "Theirs").await;
    let their_trail = trail(&app, &rival.id).await;
    for c in [UNKNOWN_CLIENT, "cli_nope", theirs.as_str()] {
        for body in [
            json!({"requests": [{"platform": "ga4"}]}),
            json!({"requests": []}),
        ] {
            create_link(&api, t, c, body)
                .await
                .problem(404, &format!("create on {c}"));
        }
        api.get(&links_path(c), t)
            .await
            .problem(404, &format!("list on {c}"));
    }
    assert_eq!(trail(&app, &rival.id).await, their_trail);
    assert_eq!(links_of(&app, &rival.id).await, 0);

    // A read token cannot create links.
    let read = api.token(t, "read").await;
    create_link(&api, &read, &client, json!({"requests": one}))
        .await
        .problem(403, "read token");

    // Offboarding and archived clients get no links.
    let leaving = api.create_client(t, "Leaving").await;
    api.event(t, &leaving, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");
    let gone = api.create_client(t, "Gone").await;
    api.event(t, &gone, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");
    api.call(
        Method::POST,
        &format!("/api/v1/clients/{gone}/archive"),
        t,
        None,
    )
    .await
    .expect(200, "archive");
    for (c, stage) in [(&leaving, "offboarding"), (&gone, "archived")] {
        let r = create_link(&api, t, c, json!({"requests": [{"platform": "ga4"}]})).await;
        r.problem(409, stage);
        assert!(
            r.body["detail"].as_str().unwrap().contains(stage),
            "{}",
            r.text
        );
        let r = create_link(&api, t, c, json!({"template": tpl.id()})).await;
        r.problem(409, stage);
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM onboarding_links WHERE client_id = $1",
            &leaving
        )
        .await,
        0
    );
    app.shutdown().await;
}

#[tokio::test]
async fn revoke_and_regenerate_change_which_token_opens_the_page() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Rotating").await;
    let r = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "meta_page"}, {"platform": "ga4"}]}),
    )
    .await;
    let id = r.id();
    let token1 = link_token(r.body["url"].as_str().unwrap());
    assert_eq!(link_page_status(&api, &token1).await, 200);

    // Revoke: 200 with the revoked link; the page answers 404 at once.
    let d = api
        .delete(&format!("/api/v1/onboarding-links/{id}"), t)
        .await;
    d.expect(200, "revoke");
    assert_eq!(d.body["id"], id.as_str());
    assert_eq!(d.body["state"], "revoked");
    assert!(d.body["revoked_at"].is_string());
    assert!(d.body.get("url").is_none());
    assert_eq!(link_page_status(&api, &token1).await, 404);
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    assert_eq!(g.body["state"], "revoked");
    // Revoking again is fine and changes nothing.
    let again = api
        .delete(&format!("/api/v1/onboarding-links/{id}"), t)
        .await;
    again.expect(200, "revoke twice");
    assert_eq!(again.body, d.body);
    // What the link still asked of the client is withdrawn with it (the
    // client's waiting counts drop); a new URL brings it back below.
    let ar = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    assert!(
        ar.items()
            .iter()
            .all(|x| x["status"] == "revoked" && x["withdrawn"] == true),
        "{}",
        ar.text
    );

    // Regenerate: a new URL, the old token stays dead, the new one opens.
    let g1 = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            json!({}),
        )
        .await;
    g1.expect(200, "regenerate");
    assert_eq!(g1.body["id"], id.as_str(), "the same link");
    assert_eq!(g1.body["state"], "active", "a revoked link is live again");
    assert_eq!(g1.body["revoked_at"], json!(null));
    assert!(g1.body["regenerated_at"].is_string());
    assert_eq!(g1.body["requests"].as_array().unwrap().len(), 2);
    let url2 = g1.body["url"].as_str().unwrap().to_string();
    let token2 = link_token(&url2);
    assert_ne!(token2, token1);
    assert_eq!(url2, format!("{}/o/{token2}", app.state.config.public_url));
    assert_eq!(token2.len(), 43);
    assert_eq!(link_page_status(&api, &token1).await, 404);
    assert_eq!(link_page_status(&api, &token2).await, 200);
    // The withdrawn requests wait on the client again, each with its event.
    let ar = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    assert!(
        ar.items()
            .iter()
            .all(|x| x["status"] == "requested" && x["withdrawn"] == false),
        "{}",
        ar.text
    );
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
            .unwrap_or_else(|| panic!("{ty} in {types:?}"))
    };
    assert!(at("onboarding.link_revoked") < at("access.withdrawn"));
    assert!(at("access.withdrawn") < at("onboarding.link_regenerated"));
    assert!(at("onboarding.link_regenerated") < at("access.restored"));

    // Regenerating a live link (no body) with its own expiry.
    let g2 = api
        .call(
            Method::POST,
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            None,
        )
        .await;
    g2.expect(200, "regenerate without a body");
    let token3 = link_token(g2.body["url"].as_str().unwrap());
    assert_eq!(link_page_status(&api, &token2).await, 404);
    assert_eq!(link_page_status(&api, &token3).await, 200);
    let g3 = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            json!({"expires_in_days": 7}),
        )
        .await;
    g3.expect(200, "regenerate for 7 days");
    let token4 = link_token(g3.body["url"].as_str().unwrap());
    let regenerated = ms(&g3.body["regenerated_at"]);
    assert_eq!(ms(&g3.body["expires_at"]) - regenerated, 7 * DAY_MS);
    assert_eq!(link_page_status(&api, &token3).await, 404);
    for bad in [
        json!({"expires_in_days": 0}),
        json!({"expires_in_days": 366}),
    ] {
        api.post(&format!("/api/v1/onboarding-links/{id}/regenerate"), t, bad)
            .await
            .problem(422, "bad regenerate expiry");
    }
    api.post(
        &format!("/api/v1/onboarding-links/{id}/regenerate"),
        t,
        json!({"expires_in": 7}),
    )
    .await
    .problem(422, "unknown field");
    assert_eq!(
        link_page_status(&api, &token4).await,
        200,
        "refused regenerations keep the token"
    );

    // A read token cannot revoke or regenerate.
    let read = api.token(t, "read").await;
    api.delete(&format!("/api/v1/onboarding-links/{id}"), &read)
        .await
        .problem(403, "read revokes");
    api.post(
        &format!("/api/v1/onboarding-links/{id}/regenerate"),
        &read,
        json!({}),
    )
    .await
    .problem(403, "read regenerates");
    assert_eq!(link_page_status(&api, &token4).await, 200);

    // An offboarding client's link is closed and is not regenerated.
    api.event(t, &client, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");
    assert_eq!(link_page_status(&api, &token4).await, 404);
    api.post(
        &format!("/api/v1/onboarding-links/{id}/regenerate"),
        t,
        json!({}),
    )
    .await
    .problem(409, "regenerate for an offboarding client");

    // The timeline has each step.
    let types: Vec<String> = api
        .client_events(t, &client)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    let n = |ty: &str| types.iter().filter(|x| *x == ty).count();
    assert_eq!(n("onboarding.link_created"), 1);
    assert_eq!(n("onboarding.link_revoked"), 1, "{types:?}");
    assert_eq!(n("onboarding.link_regenerated"), 3, "{types:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn remind_names_what_waits_on_the_client_then_409() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Slow Responder").await;
    let name_of = |key: &'static str| {
        let api = api.clone();
        let t = t.clone();
        async move {
            api.get(&format!("/api/v1/platforms/{key}"), &t).await.body["name"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let meta = name_of("meta_page").await;
    let gads = name_of("google_ads").await;
    let r = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "meta_page"}, {"platform": "google_ads"}]}),
    )
    .await;
    let id = r.id();
    let url = r.body["url"].as_str().unwrap().to_string();
    let token = link_token(&url);
    let req_ids: Vec<String> = r.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();

    let m = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/remind"),
            t,
            json!({}),
        )
        .await;
    m.expect(200, "remind");
    assert_eq!(m.body["channel"], "copy");
    assert_eq!(m.body["link_id"], id.as_str());
    assert_eq!(m.body["client_id"], client.as_str());
    assert_eq!(m.body["pending"], 2);
    let text = m.body["text"].as_str().expect("text");
    assert!(text.contains(&meta), "{text}");
    assert!(text.contains(&gads), "{text}");
    assert!(text.contains("Slow Responder"), "{text}");
    // The reminder carries the link itself (made again from the server's
    // key: only its hash is stored), and the link opens.
    assert!(text.contains(&format!("\n{url}\n")), "{text}");
    assert_eq!(m.body["includes_link"], true);
    assert_eq!(m.body["required_pending"], 2);
    assert_eq!(link_page_status(&api, &token).await, 200);
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    assert!(g.body["last_reminded_at"].is_string(), "{}", g.text);
    // No body at all works too.
    api.call(
        Method::POST,
        &format!("/api/v1/onboarding-links/{id}/remind"),
        t,
        None,
    )
    .await
    .expect(200, "remind without a body");

    // The client granted both: nothing waits on them.
    for rid in &req_ids {
        api.post(
            &format!("/api/v1/access-requests/{rid}/grant"),
            t,
            json!({}),
        )
        .await
        .expect(200, "grant");
    }
    let m = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/remind"),
            t,
            json!({}),
        )
        .await;
    m.problem(409, "nothing waits on the client");

    // One fails: it waits on the client again, with the reason.
    let f = api
        .post(
            &format!("/api/v1/access-requests/{}/fail", req_ids[1]),
            t,
            json!({"reason": "Wrong ad account shared"}),
        )
        .await;
    f.expect(200, "fail");
    let m = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/remind"),
            t,
            json!({}),
        )
        .await;
    m.expect(200, "remind after a failure");
    assert_eq!(m.body["pending"], 1);
    let text = m.body["text"].as_str().unwrap();
    assert!(
        text.contains(&gads) && text.contains("Wrong ad account shared"),
        "{text}"
    );
    assert!(
        !text.contains(&meta),
        "the granted one is not named: {text}"
    );

    // A read token cannot remind; a revoked link is not reminded.
    let read = api.token(t, "read").await;
    api.post(
        &format!("/api/v1/onboarding-links/{id}/remind"),
        &read,
        json!({}),
    )
    .await
    .problem(403, "read reminds");
    api.delete(&format!("/api/v1/onboarding-links/{id}"), t)
        .await
        .expect(200, "revoke");
    api.post(
        &format!("/api/v1/onboarding-links/{id}/remind"),
        t,
        json!({}),
    )
    .await
    .problem(409, "revoked link");

    let sent = api
        .client_events(t, &client)
        .await
        .into_iter()
        .filter(|e| e["type"] == "onboarding.reminder_sent")
        .count();
    assert_eq!(sent, 3, "one event per reminder that was prepared");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_link_is_404_on_every_route() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Ours").await;
    let r = new_link(&api, t, &client, json!({"requests": [{"platform": "ga4"}]})).await;
    let id = r.id();
    let token = link_token(r.body["url"].as_str().unwrap());
    let rival = app.other_agency("admin@rival.test").await;
    let ours_before = trail(&app, &app.agency.id).await;
    let routes = [
        (Method::GET, format!("/api/v1/onboarding-links/{id}"), None),
        (
            Method::DELETE,
            format!("/api/v1/onboarding-links/{id}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/onboarding-links/{id}/regenerate"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/onboarding-links/{id}/remind"),
            Some(json!({})),
        ),
        (Method::GET, links_path(&client), None),
        (
            Method::POST,
            links_path(&client),
            Some(json!({"requests": [{"platform": "ga4"}]})),
        ),
        (
            Method::GET,
            format!("/api/v1/clients/{client}/access-requests"),
            None,
        ),
    ];
    for (m, path, body) in &routes {
        api.call(m.clone(), path, &rival.token, body.as_ref())
            .await
            .problem(404, &format!("rival {m} {path}"));
    }
    // Unknown and garbage link ids are 404 for us, too.
    for bad in [UNKNOWN_LINK, "lnk_nope", "acc_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
        for (m, path, body) in [
            (Method::GET, format!("/api/v1/onboarding-links/{bad}"), None),
            (
                Method::DELETE,
                format!("/api/v1/onboarding-links/{bad}"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/onboarding-links/{bad}/regenerate"),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("/api/v1/onboarding-links/{bad}/remind"),
                Some(json!({})),
            ),
        ] {
            api.call(m.clone(), &path, t, body.as_ref())
                .await
                .problem(404, &format!("{m} {path}"));
        }
    }
    assert_eq!(
        trail(&app, &app.agency.id).await,
        ours_before,
        "nothing of ours changed"
    );
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    assert_eq!(g.body["state"], "active");
    assert_eq!(
        link_page_status(&api, &token).await,
        200,
        "token still works"
    );
    app.shutdown().await;
}

// ---------------------------------------------------------- idempotency --

#[tokio::test]
async fn an_idempotency_key_never_replays_a_secret() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Retried").await;
    let body = json!({"requests": [{"platform": "meta_page"}, {"platform": "ga4"}]});
    let post = |path: String, key: &'static str, body: Value| {
        api.send(
            api.request(Method::POST, &path, t)
                .header("idempotency-key", key)
                .json(&body),
        )
    };

    let first = post(links_path(&client), "link-once", body.clone()).await;
    first.expect(201, "first");
    let token = link_token(first.body["url"].as_str().unwrap());
    let second = post(links_path(&client), "link-once", body.clone()).await;
    second.problem(409, "the retry");
    assert!(
        second.body["type"]
            .as_str()
            .unwrap()
            .ends_with("secret-not-replayed"),
        "{}",
        second.text
    );
    assert_eq!(second.header("idempotency-replayed"), Some("true"));
    assert!(
        !second.text.contains(&token),
        "the secret is not in the replay"
    );
    assert!(second.body.get("url").is_none());
    assert_eq!(links_of(&app, &app.agency.id).await, 1, "one link");
    assert_eq!(requests_of(&app, &app.agency.id).await, 2, "two requests");
    assert_eq!(api.get(&links_path(&client), t).await.items().len(), 1);
    // The first link's token still works.
    assert_eq!(link_page_status(&api, &token).await, 200);
    // The same key with another body is refused.
    post(
        links_path(&client),
        "link-once",
        json!({"requests": [{"platform": "gtm"}]}),
    )
    .await
    .problem(422, "same key, other body");
    // A new key is a new link.
    post(links_path(&client), "link-twice", body.clone())
        .await
        .expect(201, "new key");
    assert_eq!(links_of(&app, &app.agency.id).await, 2);

    // The same for regenerating a link: the new URL is not replayed.
    let id = first.id();
    let path = format!("/api/v1/onboarding-links/{id}/regenerate");
    let g1 = post(path.clone(), "regen-once", json!({})).await;
    g1.expect(200, "regenerate");
    let token2 = link_token(g1.body["url"].as_str().unwrap());
    let g2 = post(path.clone(), "regen-once", json!({})).await;
    g2.problem(409, "regenerate retried");
    assert!(!g2.text.contains(&token2));
    assert_eq!(
        link_page_status(&api, &token2).await,
        200,
        "the retry did not rotate the token again"
    );

    // And for API tokens.
    let tok_body = json!({"name": "ci deploys", "scope": "write"});
    let a = post("/api/v1/tokens".into(), "token-once", tok_body.clone()).await;
    a.expect(201, "token");
    let secret = a.body["token"].as_str().unwrap().to_string();
    let b = post("/api/v1/tokens".into(), "token-once", tok_body.clone()).await;
    b.problem(409, "token retried");
    assert!(b.body["type"]
        .as_str()
        .unwrap()
        .ends_with("secret-not-replayed"));
    assert!(!b.text.contains(&secret));
    let tokens = api.get("/api/v1/tokens", t).await;
    let named = tokens
        .items()
        .iter()
        .filter(|x| x["name"] == "ci deploys")
        .count();
    assert_eq!(named, 1, "one token for two requests");
    api.get("/api/v1/me", &secret)
        .await
        .expect(200, "the first secret works");
    // The stored answer holds no secret either.
    let stored = stored_bytes(&app).await;
    for s in [&token, &token2, &secret] {
        assert!(!contains_bytes(&stored, s.as_bytes()), "{s} at rest");
    }
    app.shutdown().await;
}

// -------------------------------------------------------------- secrets --

#[tokio::test]
async fn the_link_token_is_never_stored_nor_logged() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Secretive").await;
    let r = api
        .send(
            api.request(Method::POST, &links_path(&client), t)
                .header("idempotency-key", "secret-link")
                .json(&json!({"requests": [{"platform": "meta_page"}, {"platform": "ga4"}]})),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    let url1 = r.body["url"].as_str().unwrap().to_string();
    let token1 = link_token(&url1);
    let req_ids: Vec<String> = r.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    // The page is opened, the link rotated, the new one used by the client.
    assert_eq!(link_page_status(&api, &token1).await, 200);
    let g = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            json!({}),
        )
        .await;
    g.expect(200, "regenerate");
    let url2 = g.body["url"].as_str().unwrap().to_string();
    let token2 = link_token(&url2);
    assert_eq!(link_page_status(&api, &token1).await, 404);
    assert_eq!(link_page_status(&api, &token2).await, 200);
    let open = api
        .http
        .post(format!("{url2}/open"))
        .send()
        .await
        .expect("open");
    assert!(open.status().is_success(), "open: {}", open.status());
    let granted = api
        .http
        .post(format!("{url2}/requests/{}/granted", req_ids[0]))
        .send()
        .await
        .expect("granted");
    assert!(
        granted.status().is_success(),
        "granted: {}",
        granted.status()
    );
    let after = api
        .get(&format!("/api/v1/access-requests/{}", req_ids[0]), t)
        .await;
    assert_eq!(after.body["status"], "granted_by_client");
    assert_eq!(after.body["granted_by"], "client");
    assert_eq!(
        api.get(&format!("/api/v1/onboarding-links/{id}"), t)
            .await
            .body["open_count"],
        1
    );
    api.post(
        &format!("/api/v1/access-requests/{}/verify", req_ids[0]),
        t,
        json!({"note": "Page listed under Partners"}),
    )
    .await
    .expect(200, "verify");
    api.post(
        &format!("/api/v1/onboarding-links/{id}/remind"),
        t,
        json!({}),
    )
    .await
    .expect(200, "remind");

    // The API's own logs: neither the audit log nor the events hold it.
    let audit = api.get("/api/v1/audit?limit=200", t).await;
    audit.expect(200, "audit");
    assert!(audit.items().len() >= 6, "{}", audit.text);
    let events = api.get("/api/v1/events?limit=200", t).await;
    for (what, text) in [("audit", &audit.text), ("events", &events.text)] {
        for s in [&token1, &token2] {
            assert!(!text.contains(s.as_str()), "{what} holds the token");
        }
    }

    // Nothing at rest: every byte of the database (SQLite: file and WAL;
    // PostgreSQL: the text of every row of every table).
    let stored = stored_bytes(&app).await;
    for s in [&token1, &token2, &url1, &url2] {
        assert!(
            !contains_bytes(&stored, s.as_bytes()),
            "{s} is stored in the database ({})",
            baton_store::testing::TestDb::engine()
        );
    }
    // Sanity: what is stored instead (the hash) is found by the same search.
    let hash = baton_core::secret::hash_token(&token2);
    assert!(
        contains_bytes(&stored, hash.as_bytes()),
        "the search sees the link's hash"
    );
    assert!(contains_bytes(&stored, id.as_bytes()));
    app.shutdown().await;
}

// -------------------------------------------------------------- openapi --

#[tokio::test]
async fn openapi_documents_the_onboarding_and_access_routes() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let r = api.get("/api/openapi.json", "").await;
    r.expect(200, "openapi");
    let paths = r.body["paths"].as_object().expect("paths");
    let ops: &[(&str, &str)] = &[
        ("get", "/api/v1/platforms"),
        ("get", "/api/v1/platforms/{key}"),
        ("put", "/api/v1/platforms/{key}"),
        ("delete", "/api/v1/platforms/{key}"),
        ("get", "/api/v1/agency/onboarding"),
        ("patch", "/api/v1/agency/onboarding"),
        ("get", "/api/v1/access-templates"),
        ("post", "/api/v1/access-templates"),
        ("put", "/api/v1/access-templates/{id}"),
        ("delete", "/api/v1/access-templates/{id}"),
        ("get", "/api/v1/clients/{id}/onboarding-links"),
        ("post", "/api/v1/clients/{id}/onboarding-links"),
        ("get", "/api/v1/onboarding-links/{id}"),
        ("delete", "/api/v1/onboarding-links/{id}"),
        ("post", "/api/v1/onboarding-links/{id}/regenerate"),
        ("post", "/api/v1/onboarding-links/{id}/remind"),
        ("get", "/api/v1/clients/{id}/access-requests"),
        ("get", "/api/v1/clients/{id}/kpis"),
        ("get", "/api/v1/access-requests"),
        ("get", "/api/v1/access-requests/{id}"),
        ("post", "/api/v1/access-requests/{id}/verify"),
        ("post", "/api/v1/access-requests/{id}/fail"),
        ("post", "/api/v1/access-requests/{id}/grant"),
        ("post", "/api/v1/access-requests/{id}/revoke"),
        ("post", "/api/v1/access-requests/{id}/waive"),
        ("get", "/api/v1/access-inventory"),
        ("get", "/api/v1/kpis/access"),
    ];
    for (m, p) in ops {
        let op = &paths.get(*p).unwrap_or_else(|| panic!("{p} is documented"))[*m];
        assert!(op.is_object(), "{m} {p} is documented");
        assert!(op["operationId"].is_string(), "{m} {p} has an operationId");
        assert!(op["security"].is_array(), "{m} {p} documents its security");
    }
    let mut ids = Vec::new();
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                ids.push(id.to_string());
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
    // Each documented route is really served (not the 404 fallback, not 405).
    let t = &app.agency.token;
    for (m, p) in ops {
        let path = p.replace("{id}", "x").replace("{key}", "x");
        let r = api
            .call(
                m.to_uppercase().parse().unwrap(),
                &path,
                t,
                Some(&json!({})),
            )
            .await;
        assert_ne!(r.status, 405, "{m} {p} is routed");
        assert_ne!(r.status, 500, "{m} {p}: {}", r.text);
        if r.status == 404 {
            assert!(p.contains('{'), "{m} {p} is routed: {}", r.text);
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_expired_link_closes_and_regenerating_reopens_it() {
    // 2026-06-01T09:00:00Z
    let (app, clock) = TestApp::spawn_at(1_780_304_400_000).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Late").await;
    let r = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "ga4"}], "expires_in_days": 2}),
    )
    .await;
    let id = r.id();
    let token = link_token(r.body["url"].as_str().unwrap());
    clock.advance(2 * DAY_MS - 1);
    assert_eq!(
        link_page_status(&api, &token).await,
        200,
        "a ms before expiry"
    );
    clock.advance(1);
    assert_eq!(link_page_status(&api, &token).await, 404, "at expiry");
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    assert_eq!(g.body["state"], "expired");
    let list = api.get(&links_path(&client), t).await;
    assert_eq!(list.items()[0]["state"], "expired");
    let m = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/remind"),
            t,
            json!({}),
        )
        .await;
    m.problem(409, "remind an expired link");
    assert!(
        m.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        m.text
    );
    let n = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            json!({}),
        )
        .await;
    n.expect(200, "regenerate an expired link");
    assert_eq!(n.body["state"], "active");
    assert_eq!(
        ms(&n.body["expires_at"]) - ms(&n.body["regenerated_at"]),
        30 * DAY_MS,
        "the agency's default expiry"
    );
    let fresh = link_token(n.body["url"].as_str().unwrap());
    assert_eq!(link_page_status(&api, &fresh).await, 200);
    assert_eq!(link_page_status(&api, &token).await, 404);
    api.post(
        &format!("/api/v1/onboarding-links/{id}/remind"),
        t,
        json!({}),
    )
    .await
    .expect(200, "remind the regenerated link");
    app.shutdown().await;
}

// ------------------------------------------------- setup warnings --

#[tokio::test]
async fn a_new_link_flags_the_agency_settings_its_steps_need() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme Bakery").await;
    api.patch(
        "/api/v1/agency/onboarding",
        t,
        json!({"platform_values": {"agency_email": "ops@northwind.example"}}),
    )
    .await
    .expect(200, "one value set");
    let body = json!({"requests": [
        {"platform": "shopify"}, {"platform": "ga4"}, {"platform": "meta_page"}, {"platform": "instagram"}
    ]});
    let r = new_link(&api, t, &client, body.clone()).await;
    let warnings = r.body["setup_warnings"].as_array().expect("setup_warnings");
    let got: Vec<(&str, Vec<&str>)> = warnings
        .iter()
        .map(|w| {
            (
                w["platform"].as_str().unwrap(),
                w["missing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("shopify", vec!["shopify_partner_name"]),
            ("meta_page", vec!["meta_business_id"]),
            ("instagram", vec!["meta_business_id"]),
        ],
        "ga4's agency_email is set"
    );
    let shopify = &warnings[0];
    assert_eq!(shopify["platform_name"], "Shopify store");
    let message = shopify["message"].as_str().unwrap();
    assert!(
        message.contains("Shopify Partner organization name"),
        "{message}"
    );
    assert!(message.contains("Settings → Onboarding"), "{message}");

    // The client's page never shows the agency's note.
    let page = api
        .http
        .get(format!("{}/steps", r.body["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("[ask") && !page.contains("not set"),
        "{page}"
    );

    // Filled in: the next link (and the regenerated one) carries none.
    api.patch(
        "/api/v1/agency/onboarding",
        t,
        json!({"platform_values": {
            "agency_email": "ops@northwind.example",
            "meta_business_id": "1234567890",
            "shopify_partner_name": "Northwind Partners"
        }}),
    )
    .await
    .expect(200, "all values set");
    let r2 = new_link(&api, t, &client, body).await;
    assert_eq!(r2.body["setup_warnings"], json!([]));
    let g = api
        .post(
            &format!("/api/v1/onboarding-links/{}/regenerate", r.id()),
            t,
            json!({}),
        )
        .await;
    g.expect(200, "regenerate");
    assert_eq!(g.body["setup_warnings"], json!([]));

    // Documented.
    let doc = api.get("/api/openapi.json", "").await;
    let schemas = &doc.body["components"]["schemas"];
    let created = schemas["CreatedLinkOut"].to_string();
    assert!(
        created.contains("\"setup_warnings\"") && created.contains("SetupWarningOut"),
        "{created}"
    );
    for field in ["platform", "platform_name", "missing", "message"] {
        assert!(
            schemas["SetupWarningOut"]["properties"][field].is_object(),
            "{field}"
        );
    }
    for field in ["includes_link", "required_pending"] {
        assert!(
            schemas["ReminderOut"]["properties"][field].is_object(),
            "{field}"
        );
    }
    app.shutdown().await;
}

// ------------------------------------------------------- reminders --

#[tokio::test]
async fn a_reminder_carries_the_link_without_storing_it() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme Bakery").await;
    let r = new_link(
        &api,
        t,
        &client,
        json!({"requests": [{"platform": "meta_page"}, {"platform": "pinterest", "required": false}]}),
    )
    .await;
    let id = r.id();
    let url = r.body["url"].as_str().unwrap().to_string();
    let token = link_token(&url);
    let remind = format!("/api/v1/onboarding-links/{id}/remind");

    let m = api.post(&remind, t, json!({})).await;
    m.expect(200, "remind");
    let text = m.body["text"].as_str().unwrap();
    assert!(text.contains(&format!("\n{url}\n")), "{text}");
    assert_eq!(m.body["includes_link"], true);
    assert_eq!(
        (
            m.body["pending"].as_u64(),
            m.body["required_pending"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert!(text.contains("Optional, if you can"), "{text}");
    // Regenerated: the reminder carries the new link, which opens; the old
    // one does not.
    let g = api
        .post(
            &format!("/api/v1/onboarding-links/{id}/regenerate"),
            t,
            json!({}),
        )
        .await;
    g.expect(200, "regenerate");
    let url2 = g.body["url"].as_str().unwrap().to_string();
    let m = api.post(&remind, t, json!({})).await;
    let text = m.body["text"].as_str().unwrap();
    assert!(text.contains(&url2) && !text.contains(&url), "{text}");
    assert_eq!(link_page_status(&api, &link_token(&url2)).await, 200);
    assert_eq!(link_page_status(&api, &token).await, 404);

    // With an Idempotency-Key the text (a secret) is not replayed.
    let key = |k: &'static str| {
        api.send(
            api.request(Method::POST, &remind, t)
                .header("idempotency-key", k)
                .json(&json!({})),
        )
    };
    key("remind-once").await.expect(200, "first");
    let again = key("remind-once").await;
    again.problem(409, "replayed");
    assert!(!again.text.contains(&url2));

    // What is recorded shows where the link pointed, never the link.
    let events = api
        .get(&format!("/api/v1/events?client={client}&limit=200"), t)
        .await;
    let reminders: Vec<&Value> = events
        .items()
        .iter()
        .filter(|e| e["type"] == "onboarding.reminder_sent")
        .collect();
    assert_eq!(reminders.len(), 3, "{}", events.text);
    for e in &reminders {
        let recorded = e["data"]["text"].as_str().unwrap_or_default();
        assert!(recorded.contains("/o/…"), "{recorded}");
        assert_eq!(e["data"]["includes_link"], true);
    }
    let stored = stored_bytes(&app).await;
    for s in [&url, &url2, &link_token(&url2)] {
        assert!(!contains_bytes(&stored, s.as_bytes()), "{s} at rest");
    }

    // A link whose token the server cannot make again (made before this
    // release, or under another secret key): the text points to the
    // earlier message, as before.
    common::execute_raw(
        &app,
        &format!("UPDATE onboarding_links SET token_salt = 'another-salt' WHERE id = '{id}'"),
    )
    .await;
    let m = api.post(&remind, t, json!({})).await;
    m.expect(200, "remind without the link");
    assert_eq!(m.body["includes_link"], false);
    let text = m.body["text"].as_str().unwrap();
    assert!(
        text.contains("the onboarding link we sent you on"),
        "{text}"
    );
    assert!(!text.contains("/o/"), "{text}");
    common::execute_raw(
        &app,
        &format!("UPDATE onboarding_links SET token_salt = NULL WHERE id = '{id}'"),
    )
    .await;
    let m = api.post(&remind, t, json!({})).await;
    assert_eq!(m.body["includes_link"], false);
    app.shutdown().await;
}

#[tokio::test]
async fn reminding_refuses_bad_ids_and_other_agencies() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Acme Bakery").await;
    let r = new_link(&api, t, &client, json!({"requests": [{"platform": "ga4"}]})).await;
    let id = r.id();
    for bad in [UNKNOWN_LINK, "lnk_", "x", "cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
        api.post(
            &format!("/api/v1/onboarding-links/{bad}/remind"),
            t,
            json!({}),
        )
        .await
        .problem(404, bad);
    }
    // Agency B cannot remind, regenerate or read agency A's link.
    let other = app.other_agency("b@other.example").await;
    for (m, p) in [
        (
            Method::POST,
            format!("/api/v1/onboarding-links/{id}/remind"),
        ),
        (
            Method::POST,
            format!("/api/v1/onboarding-links/{id}/regenerate"),
        ),
        (Method::GET, format!("/api/v1/onboarding-links/{id}")),
    ] {
        api.call(m, &p, &other.token, Some(&json!({})))
            .await
            .problem(404, &p);
    }
    let g = api.get(&format!("/api/v1/onboarding-links/{id}"), t).await;
    assert!(
        g.body["last_reminded_at"].is_null(),
        "untouched: {}",
        g.text
    );
    // The route takes no body: junk in one is ignored, never a 500.
    let odd = api
        .send(
            api.request(
                Method::POST,
                &format!("/api/v1/onboarding-links/{id}/remind"),
                t,
            )
            .header("content-type", "application/json")
            .body("{not json"),
        )
        .await;
    odd.expect(200, "remind ignores a body");
    // Nothing left waiting on the client: 409.
    let req = r.body["requests"][0]["id"].as_str().unwrap().to_string();
    api.post(
        &format!("/api/v1/access-requests/{req}/grant"),
        t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    api.post(
        &format!("/api/v1/onboarding-links/{id}/remind"),
        t,
        json!({}),
    )
    .await
    .problem(409, "nothing waits");
    app.shutdown().await;
}

#[tokio::test]
async fn an_expired_link_withdraws_its_requests_once_even_on_two_servers() {
    let (app, clock) = TestApp::spawn_at(1_772_442_000_000).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Expiring Co").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            json!({"requests": [{"platform": "meta_page"}, {"platform": "instagram"}], "expires_in_days": 1}),
        )
        .await;
    r.expect(201, "link");
    let link = r.id();
    let rid = r.body["requests"][0]["id"].as_str().unwrap().to_string();
    // The client granted one; only the other still waits on them.
    api.post(
        &format!("/api/v1/access-requests/{rid}/grant"),
        t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    // Nothing due before the expiry.
    assert_eq!(
        baton_server::worker::expire_links(&app.state)
            .await
            .unwrap(),
        0
    );
    clock.advance(2 * DAY_MS);
    // Two servers' workers find the same expired link at once: one records it.
    let (a, b) = tokio::join!(
        baton_server::worker::expire_links(&app.state),
        baton_server::worker::expire_links(&app.state)
    );
    // (The app's own worker may have got there first.)
    assert!(a.unwrap() + b.unwrap() <= 1);
    common::settle(&app).await;
    let events = api.client_events(t, &client).await;
    let count = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
    assert_eq!(count("onboarding.link_expired"), 1);
    assert_eq!(count("access.withdrawn"), 1);
    let expired = events
        .iter()
        .find(|e| e["type"] == "onboarding.link_expired")
        .unwrap();
    assert_eq!(
        expired["occurred_at"], r.body["expires_at"],
        "dated at the expiry"
    );
    let ar = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    let status: Vec<(&str, bool)> = ar
        .items()
        .iter()
        .map(|x| (x["status"].as_str().unwrap(), x["withdrawn"] == true))
        .collect();
    assert_eq!(
        status,
        [("granted_by_client", false), ("revoked", true)],
        "what the client granted stays; what waited on them is withdrawn"
    );
    // Nothing is left to expire; a new URL brings the withdrawn one back.
    assert_eq!(
        baton_server::worker::expire_links(&app.state)
            .await
            .unwrap(),
        0
    );
    api.post(
        &format!("/api/v1/onboarding-links/{link}/regenerate"),
        t,
        json!({}),
    )
    .await
    .expect(200, "regenerate");
    let ar = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    assert_eq!(ar.items()[1]["status"], "requested");
    app.shutdown().await;
}
