//! The team's side of onboarding in the web app, through a real server and
//! a cookie-keeping HTTP client: onboarding links on the client page (URL
//! shown once, regenerate, revoke, reminders), verifying and failing access
//! requests, the time-to-verified-access line and dashboard card, the revoke
//! checklist at offboarding, intake answers (escaped) and file downloads
//! (attachment, sandboxed, tenant-isolated).

use crate::common;
use baton_store::Cx;

use std::collections::BTreeMap;

use baton_core::access::AccessStatus;
use baton_core::lifecycle::Lifecycle;
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::access_requests::{self, AccessRequest, NewRequest};
use baton_store::agencies::{self, AgencyPatch};
use baton_store::clients::{self, NewClient};
use baton_store::{access_templates, intake, onboarding_links, Actor};
use common::{browser, csrf_of};
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use reqwest::{Client, Response, StatusCode};

/// 2026-03-01T08:30:00Z.
const T0: i64 = 1_772_353_800_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn location(resp: &Response) -> String {
    resp.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The text of the page's first error alert.
fn alert_of(html: &str) -> Option<String> {
    let start = html.find("role=\"alert\">")? + "role=\"alert\">".len();
    Some(html[start..][..html[start..].find('<')?].to_string())
}

/// Every onboarding token in a page (`/o/` + 43 base64url characters).
fn tokens_in(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("/o/") {
        let after = &rest[i + 3..];
        let token: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if token.len() == 43 {
            out.push(token);
        }
        rest = after;
    }
    out
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A browser logged in as `email` (password [`ADMIN_PASSWORD`]).
async fn login_as(app: &TestApp, email: &str) -> Client {
    let c = browser();
    let (status, html) = get(&c, &app.url("/login")).await;
    assert_eq!(status, StatusCode::OK);
    let resp = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login as {email}");
    c
}

async fn admin(app: &TestApp) -> Client {
    login_as(app, &app.agency.admin.email.clone()).await
}

async fn make_client(
    app: &TestApp,
    agency_id: &baton_core::types::AgencyId,
    name: &str,
) -> clients::Client {
    clients::create(
        Cx::new(&app.state.db, agency_id, &Actor::cli(), app.state.now()),
        NewClient {
            name: name.into(),
            ..NewClient::default()
        },
    )
    .await
    .expect("create client")
}

/// Posts a form (with the page's CSRF token) and returns status and body.
async fn post(c: &Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    c.post(url).form(&form).send().await.expect("POST")
}

/// The client page and its CSRF token.
async fn client_page(app: &TestApp, c: &Client, client_id: &str) -> (String, String) {
    let (status, html) = get(c, &app.url(&format!("/clients/{client_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    (html, csrf)
}

async fn record(app: &TestApp, c: &Client, csrf: &str, client_id: &str, event: &str) -> Response {
    post(
        c,
        &app.url(&format!("/clients/{client_id}/events")),
        csrf,
        &[("type", event)],
    )
    .await
}

/// Creates a link for Facebook Page + Instagram through the form.
async fn create_link(
    app: &TestApp,
    c: &Client,
    csrf: &str,
    client_id: &str,
) -> (StatusCode, String) {
    let resp = post(
        c,
        &app.url(&format!("/clients/{client_id}/links")),
        csrf,
        &[
            ("template", ""),
            ("expires_in_days", "30"),
            ("platform", "meta_page"),
            ("perm_meta_page", "content"),
            ("asset_meta_page", "Globex Page"),
            ("platform", "instagram"),
            ("perm_instagram", "content"),
            ("asset_instagram", "@globex"),
            ("perm_ga4", "analyst"),
            ("asset_ga4", "ignored: not ticked"),
        ],
    )
    .await;
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

async fn requests_of(app: &TestApp, client_id: &str) -> Vec<AccessRequest> {
    access_requests::list_for_client(&app.state.db, &app.agency.id, client_id)
        .await
        .unwrap()
}

/// Posts an action form of an access request (`note` or `reason`, as the
/// page's form names it).
async fn act(
    app: &TestApp,
    c: &Client,
    csrf: &str,
    client_id: &str,
    rid: &str,
    action: &str,
    text: &str,
) -> Response {
    let field = match action {
        "fail" | "waive" => "reason",
        _ => "note",
    };
    post(
        c,
        &app.url(&format!("/clients/{client_id}/access/{rid}/{action}")),
        csrf,
        &[(field, text)],
    )
    .await
}

#[tokio::test]
async fn link_url_is_shown_once_then_regenerated_reminded_and_revoked() {
    let app = TestApp::spawn().await;
    agencies::update(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        AgencyPatch {
            custom_domain: Some("onboard.northwind.test".into()),
            ..AgencyPatch::default()
        },
    )
    .await
    .unwrap();
    // Verified as its TXT record would (the DNS check has its own suite,
    // custom_domains.rs): only a verified domain is put in links.
    let challenge = agencies::get(&app.state.db, &app.agency.id)
        .await
        .unwrap()
        .domain
        .challenge
        .unwrap();
    assert!(agencies::verify_custom_domain(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now()
        ),
        &challenge,
        "the expected value"
    )
    .await
    .unwrap());
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let (html, csrf) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("No access requested yet."));
    assert!(html.contains("New onboarding link"));
    assert!(html.contains("name=\"perm_meta_page\""));
    assert!(!html.contains("style=") && !html.contains("<script>"));

    // Nothing chosen: refused, the form says why.
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links", client.id)),
        &csrf,
        &[("template", ""), ("expires_in_days", "30")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Choose a template or tick at least one platform.")
    );
    // A bad expiry keeps what was typed.
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links", client.id)),
        &csrf,
        &[
            ("expires_in_days", "999"),
            ("platform", "meta_page"),
            ("perm_meta_page", "insights"),
            ("asset_meta_page", "Kept asset"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html).unwrap().starts_with("Expires in:"),
        "{html}"
    );
    assert!(html.contains("value=\"Kept asset\""));
    assert!(html.contains("value=\"999\""));
    assert!(html.contains("value=\"insights\" selected"));
    assert!(requests_of(&app, &client.id).await.is_empty());

    // Created: the URL is on this response, once.
    let (status, html) = create_link(&app, &c, &csrf, &client.id).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(
        "Copy this link now — Baton keeps only a fingerprint of it and cannot show it again."
    ));
    let tokens = tokens_in(&html);
    assert_eq!(tokens.len(), 2, "the URL and its custom-domain twin");
    let token = tokens[0].clone();
    assert_eq!(tokens[1], token);
    assert!(html.contains(&format!("value=\"{}/o/{token}\"", app.address)));
    assert!(html.contains(&format!("https://onboard.northwind.test/o/{token}")));
    assert!(html.contains("Facebook Page") && html.contains("Instagram"));
    let reqs = requests_of(&app, &client.id).await;
    assert_eq!(reqs.len(), 2, "only the ticked platforms");
    assert_eq!(reqs[0].asset.as_deref(), Some("Globex Page"));

    // A second look at the page never shows it again.
    let (html, csrf) = client_page(&app, &c, &client.id).await;
    assert!(!html.contains(&token));
    assert!(tokens_in(&html).is_empty());
    assert!(html.contains(">active<"));
    assert!(html.contains("Waiting: 0 of 2 required requests verified; 2 waiting on the client"));
    assert!(html.contains("Waiting on the client since"));
    let link =
        baton_store::onboarding_links::list_for_client(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .remove(0);

    // A template works too (its requests plus nothing ticked).
    let tpl = access_templates::save(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        None,
        "Analytics only",
        vec![NewRequest {
            platform: "ga4".into(),
            permission: "viewer".into(),
            asset: None,
            required: false,
        }],
    )
    .await
    .unwrap();
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains(&format!("value=\"{}\"", tpl.id)));
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links", client.id)),
        &csrf,
        &[("template", tpl.id.as_str()), ("expires_in_days", "")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(tokens_in(&resp.text().await.unwrap()).len(), 2);
    assert_eq!(requests_of(&app, &client.id).await.len(), 3);

    // Regenerate: a new URL, shown once; the old one is dead.
    let resp = post(
        &c,
        &app.url(&format!(
            "/clients/{}/links/{}/regenerate",
            client.id, link.id
        )),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let fresh = tokens_in(&html);
    assert_eq!(fresh.len(), 2);
    assert_ne!(fresh[0], token);
    assert!(html.contains("the old one no longer opens"));

    // Reminder: the text to copy, listing what waits on the client.
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links/{}/remind", client.id, link.id)),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Reminder ready."));
    assert!(html.contains("id=\"reminder-text\""));
    assert!(html.contains("Facebook Page (Partial access: Content"));
    // It carries the link as it is now (the regenerated one, on the
    // agency's own domain), made again from the server's key.
    assert_eq!(tokens_in(&html), vec![fresh[0].clone()]);
    assert!(html.contains(&format!("https://onboard.northwind.test/o/{}", fresh[0])));
    assert!(html.contains("it carries their link."));

    // Nothing waiting on the client: a friendly 409, nothing breaks.
    for r in requests_of(&app, &client.id)
        .await
        .iter()
        .filter(|r| r.link_id.as_deref() == Some(link.id.as_str()))
    {
        let resp = act(&app, &c, &csrf, &client.id, &r.id, "verify", "Checked it").await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links/{}/remind", client.id, link.id)),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html)
            .unwrap()
            .contains("nothing on this link is waiting on the client"),
        "{html}"
    );

    // Revoke: 303 with a notice, the link shows as revoked.
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links/{}/revoke", client.id, link.id)),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        format!("/clients/{}?notice=link_revoked#links", client.id)
    );
    let (_, html) = get(&c, &app.url(&location(&resp))).await;
    assert!(html.contains("Onboarding link revoked. It no longer opens."));
    assert!(html.contains(">revoked<"));

    // Someone else's link id on this client's URL is not found.
    let other = make_client(&app, &app.agency.id, "Initech").await;
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links/{}/revoke", other.id, link.id)),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn verify_and_fail_move_requests_and_the_kpi_line_appears() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let (_, csrf) = client_page(&app, &c, &client.id).await;
    let resp = record(&app, &c, &csrf, &client.id, "contract_signed").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (status, _) = create_link(&app, &c, &csrf, &client.id).await;
    assert_eq!(status, StatusCode::OK);
    let reqs = requests_of(&app, &client.id).await;
    let (page, ig) = (reqs[0].id.clone(), reqs[1].id.clone());

    // The verify form shows the platform's checklist next to the note.
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("What did you check?"));
    assert!(html.contains("Before marking it verified:"));
    assert!(html.contains("Page is listed as shared by the client"));

    // An empty note is refused; nothing changes.
    let resp = act(&app, &c, &csrf, &client.id, &page, "verify", "   ").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Say what you checked before marking the access verified.")
    );
    assert_eq!(
        requests_of(&app, &client.id).await[0].status,
        AccessStatus::Requested
    );

    // Failing a request that waits on the client is a conflict, shown kindly.
    let resp = act(&app, &c, &csrf, &client.id, &page, "fail", "Wrong page").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html)
            .unwrap()
            .starts_with("Only granted or verified access can fail"),
        "{html}"
    );
    assert_eq!(
        requests_of(&app, &client.id).await[0].status,
        AccessStatus::Requested
    );
    // A note too long is refused with what was typed kept.
    let long = "x".repeat(10_001);
    let resp = act(&app, &c, &csrf, &client.id, &page, "verify", &long).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html)
            .unwrap()
            .starts_with("Note: must be at most"),
        "{html}"
    );
    assert!(
        html.contains(&format!(">{long}</textarea>")),
        "what was typed is kept"
    );

    // Verify one: 303 back to the request with a notice.
    clock.advance(DAY);
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &page,
        "verify",
        "Scheduled a post and deleted it",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        format!("/clients/{}?notice=access_verified#req-{page}", client.id)
    );
    let (_, html) = get(&c, &app.url(&location(&resp))).await;
    assert!(html.contains("Access marked verified."));
    assert!(html.contains("Waiting: 1 of 2 required requests verified; 1 waiting on the client"));
    assert!(html.contains("Scheduled a post and deleted it"));
    assert!(html.contains("Verified by Test Admin"));
    assert!(!html.contains("Time to verified access:"));

    // Fail it with a reason the client sees; then verify it again.
    let resp = act(&app, &c, &csrf, &client.id, &page, "fail", "").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &page,
        "fail",
        "Only Insights was shared",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        requests_of(&app, &client.id).await[0].status,
        AccessStatus::Failed
    );
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("Failed: <span class=\"note\">Only Insights was shared</span>"));
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &page,
        "verify",
        "Content access now works",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // The last required one: the KPI line.
    clock.advance(2 * DAY + 4 * HOUR);
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &ig,
        "verify",
        "Replied to a DM",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(
        // 19 h 30 min of business time are 2 business days (8 h each) and 3.5 h.
        html.contains("Time to verified access: 3 days 4 h (2 business days 4 h in business time; contract signed Sun 1 Mar → access complete Wed 4 Mar)"),
        "{html}"
    );

    // The dashboard's card.
    let (status, html) = get(&c, &app.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"access-kpi-card\""));
    assert!(
        html.contains("median 3 days 4 h · 90th percentile 3 days 4 h · 1 client"),
        "{html}"
    );

    // Another agency's member cannot touch these requests.
    let rival = app.other_agency("rival@rival.test").await;
    let r = login_as(&app, &rival.admin.email).await;
    let (_, rhtml) = get(&r, &app.url("/account")).await;
    let rcsrf = csrf_of(&rhtml);
    let resp = act(&app, &r, &rcsrf, &client.id, &ig, "revoke", "").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = post(
        &r,
        &app.url(&format!("/clients/{}/links", client.id)),
        &rcsrf,
        &[("platform", "ga4"), ("perm_ga4", "viewer")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        requests_of(&app, &client.id).await[1].status,
        AccessStatus::Verified
    );
    // An unknown action is not found either.
    let resp = act(&app, &c, &csrf, &client.id, &ig, "explode", "x").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn dashboard_card_without_completed_clients_and_access_badges() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let (_, csrf) = client_page(&app, &c, &client.id).await;
    record(&app, &c, &csrf, &client.id, "contract_signed").await;
    create_link(&app, &c, &csrf, &client.id).await;
    let (status, html) = get(&c, &app.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("No client completed access in the last 90 days · 1 still waiting."),
        "{html}"
    );
    assert!(html.contains("Access: 2 waiting on the client"));
    // The period is a choice of 30, 90 or 365 days; anything else is 90.
    let (_, html) = get(&c, &app.url("/?kpi_days=30")).await;
    assert!(html.contains("in the last 30 days"), "{html}");
    assert!(
        html.contains("href=\"/?kpi_days=365#access-kpi\""),
        "{html}"
    );
    let (_, html) = get(&c, &app.url("/?kpi_days=7")).await;
    assert!(html.contains("in the last 90 days"), "{html}");
    app.shutdown().await;
}

#[tokio::test]
async fn offboarding_needs_every_access_revoked_or_waived_before_archiving() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let (_, csrf) = client_page(&app, &c, &client.id).await;
    record(&app, &c, &csrf, &client.id, "contract_signed").await;
    create_link(&app, &c, &csrf, &client.id).await;
    let reqs = requests_of(&app, &client.id).await;
    for r in &reqs {
        let resp = act(&app, &c, &csrf, &client.id, &r.id, "verify", "Works").await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    // Waive is only offered (and only possible) while offboarding.
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(!html.contains("/waive\""));
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &reqs[0].id,
        "waive",
        "Client keeps us",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // Ending the contract withdraws work, so the page asks first and moves
    // nothing until confirmed.
    let resp = record(&app, &c, &csrf, &client.id, "contract_ended").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("data-testid=\"move-confirm\""), "{html}");
    assert_eq!(
        clients::get(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .lifecycle,
        Lifecycle::Onboarding
    );
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/events", client.id)),
        &csrf,
        &[("type", "contract_ended"), ("confirmed", "yes")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(
        html.contains("2 accesses still held</strong> — revoke or waive each before archiving.")
    );
    assert!(html.contains("Facebook Page: Globex Page"));
    assert!(html.contains(&format!("/access/{}/waive\"", reqs[0].id)));
    let resp = post(
        &c,
        &app.url(&format!("/clients/{}/links", client.id)),
        &csrf,
        &[("platform", "ga4"), ("perm_ga4", "viewer")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(alert_of(&resp.text().await.unwrap())
        .unwrap()
        .contains("onboarding links are for clients being onboarded or active"));
    assert!(
        !html.contains("New onboarding link"),
        "no new links while offboarding"
    );

    // Archiving is refused while anything is held; the form says why.
    let resp = record(&app, &c, &csrf, &client.id, "archived").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html).unwrap().contains("still held"), "{html}");
    assert_eq!(
        clients::get(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .lifecycle,
        Lifecycle::Offboarding
    );

    // Waive one (a reason is required), revoke the other.
    let resp = act(&app, &c, &csrf, &client.id, &reqs[0].id, "waive", "").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        alert_of(&resp.text().await.unwrap()).as_deref(),
        Some("Say why this access is not revoked.")
    );
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &reqs[0].id,
        "waive",
        "The client owns the Page and removes us",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("1 access still held</strong>"));
    assert!(html.contains("Revoke waived by Test Admin"));
    let resp = act(
        &app,
        &c,
        &csrf,
        &client.id,
        &reqs[1].id,
        "revoke",
        "Removed in Business settings",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("This client can be archived"));
    // A stale form on a revoked request: the refusal is still shown.
    let resp = act(&app, &c, &csrf, &client.id, &reqs[1].id, "verify", "Again").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        alert_of(&resp.text().await.unwrap()).as_deref(),
        Some("The request is revoked; create a new request instead.")
    );

    let resp = record(&app, &c, &csrf, &client.id, "archived").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("its access requests are closed"));
    assert!(!html.contains("/verify\""));
    app.shutdown().await;
}

#[tokio::test]
async fn uploaded_files_download_as_sandboxed_attachments() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let now = app.state.now();
    let mut ids = Vec::new();
    for (name, content_type, bytes) in [
        ("logo.png", "image/png", b"\x89PNG\r\n\x1a\nfake".to_vec()),
        (
            "mark.svg",
            "image/svg+xml",
            b"<svg onload=alert(1)></svg>".to_vec(),
        ),
    ] {
        let id = intake::new_file_id(now);
        let stored = format!("{id}-{name}");
        let dir = app
            .state
            .config
            .data_dir
            .join("uploads")
            .join(app.agency.id.as_str())
            .join(client.id.as_str());
        tokio::fs::create_dir_all(&dir).await.unwrap();
        tokio::fs::write(dir.join(&stored), &bytes).await.unwrap();
        intake::add_file(
            Cx::new(&app.state.db, &app.agency.id, &Actor::cli(), now),
            &client.id,
            intake::NewFile {
                id: id.clone(),
                link_id: None,
                name: name.into(),
                stored_name: stored,
                content_type: content_type.into(),
                size_bytes: bytes.len() as i64,
                sha256: "0".repeat(64),
            },
        )
        .await
        .unwrap();
        ids.push((id, bytes));
    }
    let c = admin(&app).await;
    let (html, _) = client_page(&app, &c, &client.id).await;
    let png_url = format!("/clients/{}/files/{}", client.id, ids[0].0);
    assert!(html.contains(&format!("href=\"{png_url}\"")));
    assert!(html.contains("logo.png") && html.contains("12 bytes"));

    let resp = c.get(app.url(&png_url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h[CONTENT_TYPE], "image/png");
    assert!(h[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"logo.png\""));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(h[CACHE_CONTROL], "no-store");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), ids[0].1);

    // SVG can carry script: never served as an image.
    let resp = c
        .get(app.url(&format!("/clients/{}/files/{}", client.id, ids[1].0)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[CONTENT_TYPE], "application/octet-stream");
    assert!(resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));

    // Another client's URL, an unknown id, another agency, no session: no file.
    let other = make_client(&app, &app.agency.id, "Initech").await;
    for path in [
        format!("/clients/{}/files/{}", other.id, ids[0].0),
        format!("/clients/{}/files/fil_nope", client.id),
    ] {
        let (status, html) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Page not found"));
    }
    let rival = app.other_agency("rival@rival.test").await;
    let r = login_as(&app, &rival.admin.email).await;
    let (status, body) = get(&r, &app.url(&png_url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("fake"));
    let resp = browser().get(app.url(&png_url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/login?next="));
    app.shutdown().await;
}

#[tokio::test]
async fn intake_answers_are_shown_escaped_with_their_line_breaks() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let mut answers = BTreeMap::new();
    answers.insert(
        "approver".to_string(),
        "<script>alert(1)</script>\nDana, dana@globex.test".to_string(),
    );
    intake::save_answers(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        &client.id,
        &answers,
    )
    .await
    .unwrap();
    let c = admin(&app).await;
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(html.contains("Who approves content on your side?"));
    assert!(html.contains(
        "<dd class=\"note\">&#60;script&#62;alert(1)&#60;/script&#62;\nDana, dana@globex.test</dd>"
    ), "{html}");
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("No files uploaded yet."));
    app.shutdown().await;
}

#[tokio::test]
async fn a_link_card_flags_missing_agency_settings_until_they_are_set() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let (_, csrf) = client_page(&app, &c, &client.id).await;
    let (status, html) = create_link(&app, &c, &csrf, &client.id).await;
    assert_eq!(status, StatusCode::OK);
    // Shown with the new link, and on every later view of the page.
    for html in [html, client_page(&app, &c, &client.id).await.0] {
        let start = html
            .find("data-testid=\"link-setup-warnings\"")
            .unwrap_or_else(|| panic!("no warnings: {html}"));
        let box_ = &html[start..start + html[start..].find("</div>").unwrap()];
        assert!(
            box_.contains("Facebook Page: the client&#39;s steps need your Meta Business ID"),
            "{box_}"
        );
        assert!(box_.contains("Instagram"), "{box_}");
        assert!(box_.contains("<a href=\"/settings/onboarding#pv-meta_business_id\">"));
    }
    // The value entered: the warning is gone (nothing was stored about it).
    let mut settings = baton_store::onboarding_settings::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    settings
        .platform_values
        .insert("meta_business_id".into(), "1234567890".into());
    baton_store::onboarding_settings::put(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        settings,
    )
    .await
    .unwrap();
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(!html.contains("link-setup-warnings"), "{html}");
    // The settings page has the field the warning points to.
    let (_, html) = get(&c, &app.url("/settings/onboarding")).await;
    assert!(html.contains("id=\"pv-meta_business_id\""));
    app.shutdown().await;
}

#[tokio::test]
async fn reload_and_back_after_create_link_change_nothing() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = common::browser_with_jar(&jar);
    let (_, html) = get(&c, &app.url("/login")).await;
    c.post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", app.agency.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let raw = common::raw_browser(&jar);
    let page_url = app.url(&format!("/clients/{}", client.id));
    let (html, csrf) = client_page(&app, &c, &client.id).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("nonce", &common::nonce_of(&html)),
        ("expires_in_days", "30"),
        ("platform", "meta_page"),
        ("perm_meta_page", "content"),
        ("platform", "instagram"),
        ("perm_instagram", "content"),
    ];
    let create = || {
        raw.post(app.url(&format!("/clients/{}/links", client.id)))
            .header("referer", &page_url)
            .form(&form)
            .send()
    };
    let resp = create().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(
        to.starts_with(&format!("/clients/{}?flash=", client.id)),
        "{to}"
    );
    // The answer, shown once on a GET: the link's URL.
    let (status, html) = get(&raw, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens_in(&html).len(), 1, "the new URL, once");
    let token = tokens_in(&html)[0].clone();
    // Reload: the page afresh, no URL, nothing created.
    let (status, html) = get(&raw, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(tokens_in(&html).is_empty());
    // Back, then submit the same form again (or a double click): answered
    // with the first answer; still one link and two requests.
    let again = create().await.unwrap();
    assert_eq!(location(&again), to);
    let links = onboarding_links::list_for_client(&app.state.db, &app.agency.id, &client.id)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(requests_of(&app, &client.id).await.len(), 2);
    // The page the URL was shown on is not kept readable.
    let stored = common::stored_bytes(&app).await;
    assert!(!common::contains_bytes(&stored, token.as_bytes()));

    // A second link is revoked: the requests only it asked for are
    // withdrawn, so nothing of it waits on the client.
    let (html, csrf) = client_page(&app, &c, &client.id).await;
    let resp = raw
        .post(app.url(&format!("/clients/{}/links", client.id)))
        .header("referer", &page_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("nonce", &common::nonce_of(&html)),
            ("platform", "ga4"),
            ("perm_ga4", "analyst"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let second = onboarding_links::list_for_client(&app.state.db, &app.agency.id, &client.id)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.id != links[0].id)
        .unwrap();
    let resp = post(
        &c,
        &app.url(&format!(
            "/clients/{}/links/{}/revoke",
            client.id, second.id
        )),
        &csrf,
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let reqs = requests_of(&app, &client.id).await;
    let ga4 = reqs.iter().find(|r| r.platform == "ga4").unwrap();
    assert_eq!(ga4.status, AccessStatus::Revoked);
    assert!(ga4.withdrawn());
    assert_eq!(
        reqs.iter().filter(|r| r.waiting_on().is_some()).count(),
        2,
        "only the first link's two requests wait on the client"
    );
    let (html, _) = client_page(&app, &c, &client.id).await;
    assert!(
        html.contains("Withdrawn"),
        "the withdrawn request reads as withdrawn"
    );
    app.shutdown().await;
}
