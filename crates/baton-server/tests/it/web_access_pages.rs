//! The team's access pages through a real server and a cookie-keeping HTTP
//! client: the access board and the held-access view across clients (and
//! never another agency's), onboarding settings, access templates and custom
//! platforms, their refusals (422 with what was typed, 403, 409) and HTML
//! escaping. Requests are set up through the API, as a script would.

use crate::common;
use baton_store::Cx;

use baton_core::onboarding::OnboardingSettings;
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::access_requests::{self, Act};
use baton_store::members::{self, MemberInput};
use baton_store::{onboarding_settings, Actor};
use common::Api;
use common::{browser, csrf_of};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

fn location(resp: &Response) -> String {
    resp.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The text of the page's error alert.
fn alert_of(html: &str) -> Option<String> {
    let start = html.find("role=\"alert\">")? + "role=\"alert\">".len();
    Some(html[start..][..html[start..].find('<')?].to_string())
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

async fn post(c: &Client, url: &str, form: &[(String, String)]) -> Response {
    c.post(url).form(form).send().await.expect("POST")
}

/// Logs a browser in (the login page first, for its CSRF cookie and field).
async fn login(app: &TestApp, email: &str, password: &str) -> Client {
    let c = browser();
    let (status, html) = get(&c, &app.url("/login")).await;
    assert_eq!(status, StatusCode::OK);
    let resp = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login {email}");
    c
}

/// A browser logged in as the test agency's admin.
async fn admin(app: &TestApp) -> Client {
    login(app, &app.agency.admin.email, ADMIN_PASSWORD).await
}

/// The CSRF token of a logged-in browser (from any page with forms).
async fn session_csrf(app: &TestApp, c: &Client) -> String {
    let (status, html) = get(c, &app.url("/account")).await;
    assert_eq!(status, StatusCode::OK);
    csrf_of(&html)
}

/// A member with a password who is not an admin, logged in.
async fn non_admin(app: &TestApp) -> Client {
    let (email, password) = ("casey@northwind.test", "casey's password");
    let hash = baton_server::auth::password::hash_async(password.into()).await;
    members::create(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        MemberInput {
            email: email.into(),
            name: "Casey Creative".into(),
            roles: vec!["designer".into()],
            is_admin: false,
            password_hash: Some(hash),
        },
    )
    .await
    .expect("create member");
    login(app, email, password).await
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A client with an onboarding link asking for `platforms`; returns the
/// client id and the request ids in order.
async fn client_with_requests(
    api: &Api,
    token: &str,
    name: &str,
    platforms: &[&str],
) -> (String, Vec<String>) {
    let client = api.create_client(token, name).await;
    let requests: Vec<Value> = platforms.iter().map(|p| json!({"platform": p})).collect();
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            token,
            json!({ "requests": requests }),
        )
        .await;
    r.expect(201, "create onboarding link");
    let ids = r.body["requests"]
        .as_array()
        .expect("requests in the link")
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    (client, ids)
}

/// The part of a page from `start` up to the next `</section>`.
fn section<'a>(html: &'a str, start: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("page has no {start}"));
    let rest = &html[from..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn board_splits_requests_by_who_they_wait_on() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let (client, ids) = client_with_requests(&api, &t, "Acme Bakery", &["meta_page", "ga4"]).await;
    api.post(
        &format!("/api/v1/access-requests/{}/grant", ids[0]),
        &t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    // The client is stuck on the second one: the board says to call them,
    // and what they typed cannot become markup.
    access_requests::act(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        &baton_core::types::AccessRequestId::parse(&ids[1]).unwrap(),
        Act::Stuck {
            message: "Which account? <script>alert(1)</script>".into(),
        },
    )
    .await
    .expect("stuck");

    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/access")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/access\" aria-current=\"page\">Access</a>"));
    let on_us = section(&html, "id=\"waiting-on-us\"");
    let on_client = section(&html, "id=\"waiting-on-client\"");
    assert!(on_us.contains("Waiting on us <span class=\"count\">1</span>"));
    assert!(on_us.contains("Facebook Page"), "{on_us}");
    assert!(on_us.contains(&format!("href=\"/clients/{client}#access\"")));
    assert!(on_us.contains("Acme Bakery"));
    assert!(!on_us.contains("Google Analytics 4"));
    assert!(on_client.contains("Waiting on the client <span class=\"count\">1</span>"));
    assert!(on_client.contains("Google Analytics 4"), "{on_client}");
    assert!(on_client.contains("class=\"stuck\""));
    assert!(on_client.contains("Which account? &#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(on_client.contains("<time datetime=\""));
    assert!(html.contains("1 stuck: call the client"));

    // Filters show one side, with both counts in the links.
    let (_, agency_only) = get(&c, &app.url("/access?waiting_on=agency")).await;
    assert!(agency_only.contains("id=\"waiting-on-us\""));
    assert!(!agency_only.contains("id=\"waiting-on-client\""));
    assert!(agency_only.contains("Waiting on the client (1)"));
    let (_, client_only) = get(&c, &app.url("/access?waiting_on=client")).await;
    assert!(!client_only.contains("id=\"waiting-on-us\""));
    assert!(client_only.contains("id=\"waiting-on-client\""));

    // Verified requests leave the board.
    api.post(
        &format!("/api/v1/access-requests/{}/verify", ids[0]),
        &t,
        json!({"note": "checked"}),
    )
    .await
    .expect(200, "verify");
    let (_, html) = get(&c, &app.url("/access")).await;
    assert!(section(&html, "id=\"waiting-on-us\"").contains("Nothing is waiting on the team."));
    app.shutdown().await;
}

#[tokio::test]
async fn held_view_lists_verified_access_and_not_revoked() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let (_, ids) = client_with_requests(&api, &t, "Acme Bakery", &["meta_page", "ga4"]).await;
    api.post(
        &format!("/api/v1/access-requests/{}/verify", ids[0]),
        &t,
        json!({"note": "checked"}),
    )
    .await
    .expect(200, "verify");
    api.post(
        &format!("/api/v1/access-requests/{}/revoke", ids[1]),
        &t,
        json!({}),
    )
    .await
    .expect(200, "revoke");
    // A client whose contract ended comes first: its access must go.
    let (late, late_ids) = client_with_requests(&api, &t, "Zenith Dental", &["instagram"]).await;
    api.post(
        &format!("/api/v1/access-requests/{}/grant", late_ids[0]),
        &t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    api.event(&t, &late, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");

    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/access/held")).await;
    assert_eq!(status, StatusCode::OK);
    let acme = section(&html, "Acme Bakery</a>");
    assert!(acme.contains("Facebook Page"), "{acme}");
    assert!(acme.contains(&app.agency.admin.name), "verified by");
    assert!(acme.contains("1 held"));
    assert!(
        !html.contains("Google Analytics 4"),
        "revoked access is not held"
    );
    let zenith = html.find("Zenith Dental").unwrap();
    assert!(
        zenith < html.find("Acme Bakery").unwrap(),
        "offboarding first"
    );
    assert!(section(&html, "Zenith Dental</a>").contains("Revoke now"));
    assert!(section(&html, "Zenith Dental</a>").contains("Not verified"));
    assert!(html.contains("1 client offboarding: revoke now"));
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_requests_never_appear() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let other = app.other_agency("boss@rival.test").await;
    let (_, ids) = client_with_requests(
        &api,
        &other.token,
        "Rival Secret Client",
        &["meta_page", "ga4"],
    )
    .await;
    api.post(
        &format!("/api/v1/access-requests/{}/verify", ids[0]),
        &other.token,
        json!({"note": "checked"}),
    )
    .await
    .expect(200, "verify");
    api.post(
        &format!("/api/v1/access-requests/{}/grant", ids[1]),
        &other.token,
        json!({}),
    )
    .await
    .expect(200, "grant");
    api.post(
        "/api/v1/access-templates",
        &other.token,
        json!({"name": "Rival template", "requests": [{"platform": "ga4"}]}),
    )
    .await
    .expect(201, "rival template");

    let c = admin(&app).await;
    for path in [
        "/access",
        "/access?waiting_on=agency",
        "/access/held",
        "/settings/templates",
    ] {
        let (status, html) = get(&c, &app.url(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains("Rival"),
            "{path} shows another agency's data"
        );
    }
    let (_, html) = get(&c, &app.url("/access")).await;
    assert!(html.contains("0 open requests across 0 clients"));
    app.shutdown().await;
}

/// The onboarding form for the default questions plus one new question.
fn onboarding_form(csrf: &str, expiry: &str, new_question: &str) -> Vec<(String, String)> {
    let mut f = form(&[
        ("csrf", csrf),
        ("pv_meta_business_id", "1234567890"),
        ("welcome", "Welcome aboard!"),
        ("link_expiry_days", expiry),
        ("reminder_every_days", "0"),
        ("reminder_max", "2"),
    ]);
    let defaults = OnboardingSettings::default().questions;
    for (i, q) in defaults.iter().enumerate() {
        f.push((format!("q{i}_key"), q.key.clone()));
        f.push((format!("q{i}_label"), q.label.clone()));
        f.push((format!("q{i}_help"), q.help.clone()));
        if q.long {
            f.push((format!("q{i}_long"), "1".into()));
        }
        if q.required {
            f.push((format!("q{i}_required"), "1".into()));
        }
    }
    // The last default question is removed; one is added in a blank row.
    let last = defaults.len() - 1;
    f.push((format!("q{last}_remove"), "1".into()));
    let n = defaults.len();
    f.push((format!("q{n}_key"), String::new()));
    f.push((format!("q{n}_label"), new_question.into()));
    f.push((format!("q{n}_help"), "Hex codes are fine".into()));
    f.push((format!("q{n}_required"), "1".into()));
    f.push((format!("q{}_label", n + 1), String::new()));
    f.push(("q_count".into(), (n + 2).to_string()));
    f
}

#[tokio::test]
async fn onboarding_settings_round_trip_and_refusals() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/settings/onboarding")).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "<label for=\"pv-meta_business_id\">Meta Business ID",
        "name=\"link_expiry_days\" value=\"30\"",
        "name=\"q0_label\" value=\"Who approves content on your side?\"",
        "placeholder=\"New question\"",
        "aria-current=\"page\">Onboarding</a>",
        "href=\"/settings/platforms\"",
    ] {
        assert!(html.contains(needle), "onboarding page lacks {needle}");
    }
    let csrf = csrf_of(&html);

    // A bad expiry: 422, the message, everything typed kept, nothing saved.
    let resp = post(
        &c,
        &app.url("/settings/onboarding"),
        &onboarding_form(&csrf, "0", "Brand colours?"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Link expiry: must be 1 to 365.")
    );
    assert!(html.contains("name=\"link_expiry_days\" value=\"0\""));
    assert!(html.contains("value=\"1234567890\""));
    assert!(html.contains("value=\"Brand colours?\""));
    assert!(html.contains("Welcome aboard!"));
    let stored = onboarding_settings::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    assert_eq!(stored, OnboardingSettings::default());

    // Not a number at all is refused the same way.
    let resp = post(
        &c,
        &app.url("/settings/onboarding"),
        &onboarding_form(&csrf, "thirty", "Brand colours?"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html).unwrap().starts_with("Link expiry:"));

    // Saved: the value, the new question, the removal, the numbers.
    let resp = post(
        &c,
        &app.url("/settings/onboarding"),
        &onboarding_form(&csrf, "14", "Brand colours?"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        "/settings/onboarding?notice=onboarding_saved"
    );
    let stored = onboarding_settings::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    assert_eq!(
        stored
            .platform_values
            .get("meta_business_id")
            .map(String::as_str),
        Some("1234567890")
    );
    assert_eq!(stored.link_expiry_days, 14);
    assert_eq!(stored.reminder_every_days, 0);
    assert_eq!(stored.reminder_max, 2);
    assert_eq!(stored.welcome, "Welcome aboard!");
    let keys: Vec<&str> = stored.questions.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(
        keys,
        ["approver", "access_contact", "brand_voice", "brand_colours"]
    );
    let added = stored.questions.last().unwrap();
    assert!(added.required && !added.long);
    assert_eq!(added.help, "Hex codes are fine");
    let (_, html) = get(&c, &app.url("/settings/onboarding?notice=onboarding_saved")).await;
    assert!(html.contains("Onboarding settings saved."));
    assert!(html.contains("value=\"Brand colours?\""));
    assert!(html.contains("value=\"1234567890\""));

    // The platform catalog shows the value inside the client's steps.
    let (_, html) = get(&c, &app.url("/settings/platforms")).await;
    assert!(html.contains("Enter Northwind"), "agency name in the steps");
    assert!(html.contains("1234567890"));
    app.shutdown().await;
}

#[tokio::test]
async fn question_labels_are_escaped() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let csrf = session_csrf(&app, &c).await;
    let resp = post(
        &c,
        &app.url("/settings/onboarding"),
        &onboarding_form(&csrf, "30", "<script>alert(1)</script>\"><b>"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &app.url("/settings/onboarding")).await;
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#62;&#60;b&#62;"));
    app.shutdown().await;
}

#[tokio::test]
async fn non_admins_read_onboarding_settings_but_cannot_save() {
    let app = TestApp::spawn().await;
    let c = non_admin(&app).await;
    let (status, html) = get(&c, &app.url("/settings/onboarding")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Only agency admins can change these settings."));
    assert!(html.contains("Who approves content on your side?"));
    assert!(!html.contains("action=\"/settings/onboarding\""));
    assert!(!html.contains("href=\"/settings\">General"));
    let csrf = session_csrf(&app, &c).await;
    let resp = post(
        &c,
        &app.url("/settings/onboarding"),
        &onboarding_form(&csrf, "14", "Sneaky?"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let stored = onboarding_settings::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    assert_eq!(stored, OnboardingSettings::default());

    // Custom platforms are for admins too; the catalog is readable.
    let (status, html) = get(&c, &app.url("/settings/platforms")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("action=\"/settings/platforms\""));
    let resp = post(
        &c,
        &app.url("/settings/platforms"),
        &form(&[("csrf", &csrf), ("key", "sneaky_platform")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Without the CSRF token nothing is saved, even for an admin.
    let a = admin(&app).await;
    let resp = post(
        &a,
        &app.url("/settings/onboarding"),
        &onboarding_form("wrong", "14", "Forged?"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

#[tokio::test]
async fn templates_are_created_listed_and_deleted() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/settings/templates")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"perm_meta_page\""));
    // Each level starts at the platform's default.
    assert!(html.contains("<option value=\"content\" selected>"));
    let csrf = csrf_of(&html);

    // Nothing ticked: 422 with the name kept.
    let resp = post(
        &c,
        &app.url("/settings/templates"),
        &form(&[
            ("csrf", &csrf),
            ("name", "Paid social"),
            ("perm_meta_page", "insights"),
        ]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html).unwrap().starts_with("Platforms:"),
        "{:?}",
        alert_of(&html)
    );
    assert!(html.contains("value=\"Paid social\""));
    assert!(html.contains("<option value=\"insights\" selected>"));

    let resp = post(
        &c,
        &app.url("/settings/templates"),
        &form(&[
            ("csrf", &csrf),
            ("name", "Paid social"),
            ("platform", "ga4"),
            ("platform", "meta_page"),
            ("perm_meta_page", "insights"),
        ]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &app.url("/settings/templates?notice=template_saved")).await;
    assert!(html.contains("Access template saved."));
    let listed = section(&html, "id=\"templates-title\"");
    assert!(listed.contains("Paid social"));
    assert!(listed.contains("Facebook Page: <span class=\"muted\">Partial access: Insights</span>"));
    assert!(listed.contains("Google Analytics 4"));

    let r = api.get("/api/v1/access-templates", &app.agency.token).await;
    r.expect(200, "list templates");
    let t = r
        .items()
        .iter()
        .find(|t| t["name"] == "Paid social")
        .expect("the template in the API")
        .clone();
    let reqs = t["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["platform"], "meta_page", "catalog order");
    assert_eq!(reqs[0]["permission"], "insights");

    // A duplicate name is refused with the form kept.
    let resp = post(
        &c,
        &app.url("/settings/templates"),
        &form(&[
            ("csrf", &csrf),
            ("name", "Paid social"),
            ("platform", "ga4"),
        ]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = t["id"].as_str().unwrap();
    let resp = post(
        &c,
        &app.url(&format!("/settings/templates/{id}/delete")),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let r = api.get("/api/v1/access-templates", &app.agency.token).await;
    assert!(r.items().is_empty());
    // Deleting it again, or another agency's id, is a 404 page.
    let resp = post(
        &c,
        &app.url(&format!("/settings/templates/{id}/delete")),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}

fn platform_form(csrf: &str, key: &str, default_permission: &str) -> Vec<(String, String)> {
    form(&[
        ("csrf", csrf),
        ("key", key),
        ("name", "Pinterest business"),
        ("vendor", "Pinterest"),
        ("asset_label", "Business account URL"),
        (
            "permissions",
            "analyst | Analyst | See analytics\nstaff | Staff\nadmin | Admin",
        ),
        ("default_permission", default_permission),
        ("settings", "pinterest_partner_id | Pinterest partner ID"),
        (
            "instructions",
            "Open Business settings.\n\nAdd {agency} as a partner with ID {pinterest_partner_id} at {permission}.",
        ),
        ("mistakes", "Don't share your password."),
        ("verify", "The account shows under Partners."),
    ])
}

#[tokio::test]
async fn custom_platforms_are_added_shown_and_removed() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/settings/platforms")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"p-meta_page\""));
    assert!(html.contains("<details class=\"disclosure\">"));
    assert!(html.contains("Full control"));
    let csrf = csrf_of(&html);

    // A default that is not one of the levels: 422, the form open and kept.
    let resp = post(
        &c,
        &app.url("/settings/platforms"),
        &platform_form(&csrf, "pinterest_business", "owner"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html).unwrap().starts_with("Default permission:"));
    assert!(html.contains("<details class=\"disclosure\" open>"));
    assert!(html.contains("value=\"pinterest_business\""));
    assert!(html.contains("analyst | Analyst | See analytics\nstaff | Staff"));

    let resp = post(
        &c,
        &app.url("/settings/platforms"),
        &platform_form(&csrf, "pinterest_business", "analyst"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let r = api.get("/api/v1/platforms", &app.agency.token).await;
    r.expect(200, "platforms");
    let p = r
        .items()
        .iter()
        .find(|p| p["key"] == "pinterest_business")
        .expect("custom platform in the API")
        .clone();
    assert_eq!(p["custom"], true);
    assert_eq!(p["default_permission"], "analyst");
    assert_eq!(p["permissions"].as_array().unwrap().len(), 3);
    assert_eq!(p["permissions"][0]["description"], "See analytics");
    assert_eq!(p["settings"][0]["key"], "pinterest_partner_id");
    assert_eq!(p["instructions"].as_array().unwrap().len(), 2);

    // Its page card, with a remove button; its setting is asked for in
    // the onboarding settings.
    let (_, html) = get(&c, &app.url("/settings/platforms")).await;
    let card = section(&html, "id=\"p-pinterest_business\"");
    assert!(card.contains("Custom"));
    assert!(card.contains("action=\"/settings/platforms/pinterest_business/delete\""));
    // A value not filled in reads neutrally, never as a placeholder.
    assert!(card.contains("Northwind Social&#39;s Pinterest"), "{card}");
    assert!(!card.contains("[ask"), "{card}");
    let (_, html) = get(&c, &app.url("/settings/onboarding")).await;
    assert!(html.contains("name=\"pv_pinterest_partner_id\""));

    // In use by a request: it stays, and the page says why (409).
    let (_, _ids) = client_with_requests(
        &api,
        &app.agency.token,
        "Acme Bakery",
        &["pinterest_business"],
    )
    .await;
    let resp = post(
        &c,
        &app.url("/settings/platforms/pinterest_business/delete"),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html)
        .unwrap()
        .contains("access requests use platform"));
    assert!(html.contains("id=\"p-pinterest_business\""));

    // Built-in platforms cannot be removed; unknown ones are not found.
    let resp = post(
        &c,
        &app.url("/settings/platforms/meta_page/delete"),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // An unused custom platform goes.
    let resp = post(
        &c,
        &app.url("/settings/platforms"),
        &platform_form(&csrf, "threads_extra", "staff"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = post(
        &c,
        &app.url("/settings/platforms/threads_extra/delete"),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        "/settings/platforms?notice=platform_deleted"
    );
    let r = api
        .get("/api/v1/platforms/threads_extra", &app.agency.token)
        .await;
    assert_eq!(r.status, 404);
    let resp = post(
        &c,
        &app.url("/settings/platforms/threads_extra/delete"),
        &form(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn pages_need_a_session_and_carry_no_inline_code() {
    let app = TestApp::spawn().await;
    for path in [
        "/access",
        "/access/held",
        "/settings/onboarding",
        "/settings/templates",
        "/settings/platforms",
    ] {
        let resp = browser().get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&resp), format!("/login?next={path}"));
    }
    let c = admin(&app).await;
    let (_, dash) = get(&c, &app.url("/")).await;
    assert!(dash.contains("<a href=\"/access\">Access</a>"));
    for path in [
        "/access",
        "/access/held",
        "/settings/onboarding",
        "/settings/templates",
        "/settings/platforms",
    ] {
        let (status, html) = get(&c, &app.url(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains("style=") && !html.contains("<script>"),
            "{path}"
        );
        assert_eq!(html.matches("<h1").count(), 1, "{path}");
    }
    app.shutdown().await;
}
