//! The content metrics page (`/content/metrics`) through a real server and a
//! cookie-keeping HTTP client, on a manual clock: known numbers overall, per
//! client and per creative (with calendar and business cycle times in words),
//! the client and creative filters, the 30/90/365-day period selector, a bad
//! period, the empty states, another agency's ids (404, nothing shown) and a
//! logged-out visit. On PostgreSQL too when `BATON_TEST_POSTGRES_URL` is set.

use crate::common;
use baton_store::Cx;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::tokens::Scope;
use common::{browser, csrf_of};
use common::{Api, Resp};
use reqwest::header::LOCATION;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// Monday 2026-03-02 09:00:00 UTC (inside the default business hours).
const MON_9: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A page that must answer 200, without inline style or script, one h1.
async fn page(app: &TestApp, c: &Client, path: &str) -> String {
    let (status, html) = get(c, &app.url(path)).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    assert!(
        !html.contains("style=") && !html.contains("<script>"),
        "{path} has inline style or script"
    );
    assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
    html
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

/// The part of `html` from `start` up to the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in the page"));
    let rest = &html[i..];
    let j = rest[start.len()..]
        .find(end)
        .map_or(rest.len(), |j| j + start.len());
    &rest[..j]
}

/// A section of the page by its `data-testid`.
fn section<'a>(html: &'a str, testid: &str) -> &'a str {
    between(html, &format!("data-testid=\"{testid}\""), "</section>")
}

/// The text of an overall metric (`<dd data-metric="…">`).
fn metric<'a>(html: &'a str, key: &str) -> &'a str {
    let open = format!("data-metric=\"{key}\">");
    let part = between(section(html, "metrics-overall"), &open, "</dd>");
    &part[open.len()..]
}

/// The cells of a table row (`<tr data-key="…">`), label first, tags
/// stripped.
fn row(html: &str, table: &str, key: &str) -> Vec<String> {
    let tr = between(
        section(html, table),
        &format!("data-key=\"{key}\""),
        "</tr>",
    );
    let mut cells = Vec::new();
    let mut rest = tr;
    while let Some(i) = [rest.find("<td"), rest.find("<th")]
        .into_iter()
        .flatten()
        .min()
    {
        let after = &rest[i..];
        let body = &after[after.find('>').expect("a tag ends") + 1..];
        let end = body.find("</t").unwrap_or(body.len());
        cells.push(strip_tags(&body[..end]).trim().to_string());
        rest = &body[end..];
    }
    cells
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The keys of a table's rows, in order.
fn row_keys(html: &str, table: &str) -> Vec<String> {
    section(html, table)
        .split("<tr data-key=\"")
        .skip(1)
        .map(|p| p[..p.find('"').unwrap()].to_string())
        .collect()
}

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
async fn token_of(app: &TestApp, agency_id: &str, id: &str) -> String {
    let m = baton_store::members::get(&app.state.db, agency_id, id)
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

async fn approvers(api: &Api, t: &str, client: &str, who: &[&str]) {
    api.put(
        &format!("/api/v1/clients/{client}/content-settings"),
        t,
        json!({ "approvers": who }),
    )
    .await
    .expect(200, "approvers by default");
}

async fn create(api: &Api, t: &str, client: &str, title: &str) -> String {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram", "format": "reel"}),
        )
        .await;
    r.expect(201, "create content");
    r.id()
}

async fn add_version(api: &Api, t: &str, id: &str, n: u32) {
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": format!("https://drive.example.com/{id}-v{n}.mp4")}),
    )
    .await
    .expect(201, "add version");
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

/// Two items on a manual clock, both first submitted at `MON_9`:
/// A (Harbor, by Cleo): major changes after 1 h, approved in round 2 at
/// Wednesday 13:00 (2 days 4 h; 20 business hours = 2 business days 4 h, 09:00–17:00).
/// B (Acme & Sons, by the admin): approved in its first round after 2 h.
struct Seeded {
    harbor: String,
    acme: String,
    cleo: String,
}

async fn seed(app: &TestApp, clock: &baton_core::clock::ManualClock) -> Seeded {
    let api = Api::new(app);
    let t = &app.agency.token;
    let cleo = member(&api, t, "cleo@northwind.test", "Cleo Creative").await;
    let abe = member(&api, t, "abe@northwind.test", "Abe Prover").await;
    let cleo_t = token_of(app, &app.agency.id, &cleo).await;
    let abe_t = token_of(app, &app.agency.id, &abe).await;
    let harbor = api.create_client(t, "Harbor Fitness").await;
    let acme = api.create_client(t, "Acme & Sons").await;
    approvers(&api, t, &harbor, &[&abe]).await;
    approvers(&api, t, &acme, &[&abe]).await;

    let a = create(&api, t, &harbor, "A").await;
    let b = create(&api, t, &acme, "B").await;
    add_version(&api, &cleo_t, &a, 1).await;
    add_version(&api, t, &b, 1).await;
    submit(&api, t, &a).await;
    submit(&api, t, &b).await;

    clock.advance(HOUR);
    decide(
        &api,
        &abe_t,
        &a,
        json!({"decision": "request_changes", "comment": "Wrong offer", "revision": "major"}),
    )
    .await;
    clock.advance(HOUR);
    decide(&api, &abe_t, &b, json!({"decision": "approve"})).await;
    add_version(&api, &cleo_t, &a, 2).await;
    submit(&api, t, &a).await;
    clock.set(MON_9 + 2 * DAY + 4 * HOUR);
    let ok = decide(&api, &abe_t, &a, json!({"decision": "approve"})).await;
    assert_eq!(
        ok.body["approval_cycle_seconds"],
        (2 * DAY + 4 * HOUR) / 1000
    );
    assert_eq!(
        ok.body["approval_cycle_business_seconds"],
        20 * 3600,
        "Mon 8 h + Tue 8 h + Wed 4 h"
    );
    Seeded { harbor, acme, cleo }
}

#[tokio::test]
async fn the_page_shows_known_numbers_overall_per_client_and_per_creative() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let s = seed(&app, &clock).await;
    let admin = app.agency.admin.id.clone();
    let c = login_as(&app, &app.agency.admin.email.clone()).await;

    let html = page(&app, &c, "/content/metrics").await;
    assert!(html.contains("data-testid=\"content-metrics\" data-days=\"90\""));
    assert!(html.contains("<h1>Content metrics</h1>"));
    let period = between(&html, "data-testid=\"metrics-period\"", "</p>");
    assert!(
        period.contains("Thu 4 Dec 2025") && period.contains("Wed 4 Mar"),
        "the period in the agency's zone: {period}"
    );
    assert!(period.contains("(last 90 days)"), "{period}");
    assert!(
        section(&html, "metrics-overall").contains("2 items · 2 approved"),
        "{}",
        section(&html, "metrics-overall")
    );
    // A 1 revision, B none, over two reviewed items.
    assert_eq!(metric(&html, "revisions_per_asset"), "0.5");
    // Only A needed a major revision.
    assert_eq!(metric(&html, "rework_rate"), "50%");
    // B in its first round, A not.
    assert_eq!(metric(&html, "first_draft_acceptance"), "50%");
    // A ✗ ✓, B ✓: 2 of 3 decided rounds.
    assert_eq!(metric(&html, "pass_rate"), "67%");
    // Cycles 2 h and 2 days 4 h: nearest-rank median 2 h, p90 2 days 4 h.
    assert_eq!(
        metric(&html, "cycle"),
        "median 2 h · 90th percentile 2 days 4 h"
    );
    assert_eq!(
        metric(&html, "business"),
        "median 2 business h · 90th percentile 2 business days 4 h"
    );
    assert!(!html.contains("data-testid=\"metrics-empty\""));
    assert!(!html.contains("data-testid=\"metrics-none-approved\""));

    // Per client, by name, each linking to its content board; the name is
    // escaped.
    assert_eq!(
        row_keys(&html, "metrics-by-client"),
        [s.acme.clone(), s.harbor.clone()]
    );
    assert!(html.contains(&format!(
        "<a href=\"/clients/{}/content\">Acme &#38; Sons</a>",
        s.acme
    )));
    assert!(html.contains(&format!(
        "<a href=\"/clients/{}/content\">Harbor Fitness</a>",
        s.harbor
    )));
    assert!(!html.contains("Acme & Sons"));
    let head = [
        "Items",
        "Approved",
        "Revisions per asset",
        "Rework rate",
        "First-draft acceptance",
        "Pass rate",
    ];
    for h in head {
        assert!(section(&html, "metrics-by-client").contains(&format!(">{h}</th>")));
    }
    assert_eq!(
        row(&html, "metrics-by-client", &s.harbor),
        [
            "Harbor Fitness",
            "1",
            "1",
            "1.0",
            "100%",
            "0%",
            "50%",
            "2 days 4 h / 2 days 4 h",
            "2 business days 4 h / 2 business days 4 h"
        ]
    );
    assert_eq!(
        row(&html, "metrics-by-client", &s.acme),
        [
            "Acme &#38; Sons",
            "1",
            "1",
            "0.0",
            "0%",
            "100%",
            "100%",
            "2 h / 2 h",
            "2 business h / 2 business h"
        ]
    );
    // Per creative (the first version's author), by name.
    assert_eq!(
        row_keys(&html, "metrics-by-creative"),
        [s.cleo.clone(), admin.clone()]
    );
    assert_eq!(
        row(&html, "metrics-by-creative", &s.cleo),
        [
            "Cleo Creative",
            "1",
            "1",
            "1.0",
            "100%",
            "0%",
            "50%",
            "2 days 4 h / 2 days 4 h",
            "2 business days 4 h / 2 business days 4 h"
        ]
    );
    assert_eq!(row(&html, "metrics-by-creative", &admin)[0], "Test Admin");

    // The page explains every metric.
    let defs = between(&html, "id=\"definitions\"", "</section>");
    for term in [
        "Revisions per asset",
        "Rework rate",
        "First-draft acceptance",
        "Pass rate",
        "Approval cycle",
        "Business time",
    ] {
        assert!(defs.contains(&format!("<dt>{term}</dt><dd>")), "{term}");
    }

    // One item approved after one major revision: rework 100 %, revisions
    // 1.0, first-draft acceptance 0 %.
    for q in [
        format!("client={}", s.harbor),
        format!("creative={}", s.cleo),
        format!("client={}&creative={}", s.harbor, s.cleo),
    ] {
        let html = page(&app, &c, &format!("/content/metrics?{q}")).await;
        assert!(
            section(&html, "metrics-overall").contains("1 item · 1 approved"),
            "{q}"
        );
        assert_eq!(metric(&html, "revisions_per_asset"), "1.0", "{q}");
        assert_eq!(metric(&html, "rework_rate"), "100%", "{q}");
        assert_eq!(metric(&html, "first_draft_acceptance"), "0%", "{q}");
        assert_eq!(metric(&html, "pass_rate"), "50%", "{q}");
        assert_eq!(
            metric(&html, "cycle"),
            "median 2 days 4 h · 90th percentile 2 days 4 h"
        );
        assert_eq!(row_keys(&html, "metrics-by-client"), [s.harbor.as_str()]);
        assert_eq!(row_keys(&html, "metrics-by-creative"), [s.cleo.as_str()]);
    }
    let html = page(&app, &c, &format!("/content/metrics?client={}", s.harbor)).await;
    assert!(html.contains("<h1>Content metrics · Harbor Fitness</h1>"));
    assert!(html.contains(&format!(
        "<option value=\"{}\" selected>Harbor Fitness</option>",
        s.harbor
    )));
    // Both filters naming nothing in common: the empty state.
    let html = page(
        &app,
        &c,
        &format!("/content/metrics?client={}&creative={}", s.acme, s.cleo),
    )
    .await;
    assert!(section(&html, "metrics-overall").contains(
        "No content item was submitted for review in the last 90 days for Acme &#38; Sons by Cleo Creative"
    ));
    assert!(!html.contains("metrics-by-client"));

    // The content boards link to the page (a client's with its filter).
    let board = page(&app, &c, "/content").await;
    assert!(board.contains("href=\"/content/metrics\">Metrics</a>"));
    let board = page(&app, &c, &format!("/clients/{}/content", s.harbor)).await;
    assert!(board.contains(&format!(
        "href=\"/content/metrics?client={}\">Metrics</a>",
        s.harbor
    )));
    app.shutdown().await;
}

#[tokio::test]
async fn the_period_is_30_90_or_365_days() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let s = seed(&app, &clock).await;

    // 40 days after the submissions: out of the last 30 days, in the last 90
    // (logged in anew: sessions do not last that long).
    clock.set(MON_9 + 40 * DAY);
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let html = page(&app, &c, "/content/metrics?days=30").await;
    assert!(html.contains("data-days=\"30\""));
    assert!(section(&html, "metrics-overall").contains(
        "No content item was submitted for review in the last 30 days, so there is nothing to measure yet."
    ));
    assert!(!html.contains("data-testid=\"metrics-by-client\""));
    let periods = between(&html, "data-testid=\"metrics-periods\"", "</p>");
    assert!(periods.contains("<strong aria-current=\"true\">30 days</strong>"));
    assert!(periods.contains("<a href=\"/content/metrics?days=90\">90 days</a>"));
    assert!(periods.contains("<a href=\"/content/metrics?days=365\">365 days</a>"));
    for path in ["/content/metrics", "/content/metrics?days=90"] {
        let html = page(&app, &c, path).await;
        assert!(html.contains("data-days=\"90\""), "{path}");
        assert_eq!(metric(&html, "rework_rate"), "50%", "{path}");
    }

    // 100 days after: only the year still has them; the links keep the
    // filters.
    clock.set(MON_9 + 100 * DAY);
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let html = page(&app, &c, "/content/metrics").await;
    assert!(html.contains("data-testid=\"metrics-empty\""));
    let html = page(
        &app,
        &c,
        &format!("/content/metrics?days=365&client={}", s.harbor),
    )
    .await;
    assert_eq!(metric(&html, "rework_rate"), "100%");
    let periods = between(&html, "data-testid=\"metrics-periods\"", "</p>");
    assert!(
        periods.contains(&format!(
            "<a href=\"/content/metrics?days=30&#38;client={}\">30 days</a>",
            s.harbor
        )),
        "{periods}"
    );
    assert!(
        html.contains("name=\"days\" value=\"365\""),
        "the filter form keeps the period"
    );

    // A period not offered is a clear 400, never a 500; an empty one is the
    // default.
    for bad in ["7", "ninety", "-30", "90.5", "1000000000000000000000"] {
        let (status, html) = get(&c, &app.url(&format!("/content/metrics?days={bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "days={bad}");
        assert!(
            html.contains("Days: use 30, 90 or 365."),
            "days={bad}: {html}"
        );
    }
    let html = page(&app, &c, "/content/metrics?days=").await;
    assert!(html.contains("data-days=\"90\""));
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_ids_are_not_found_and_nothing_leaks() {
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let s = seed(&app, &clock).await;
    let api = Api::new(&app);
    let rival = app.other_agency("rival@rival.test").await;
    let rival_client = api.create_client(&rival.token, "Rival Secret Client").await;
    approvers(&api, &rival.token, &rival_client, &[&rival.admin.id]).await;
    let rival_item = create(&api, &rival.token, &rival_client, "Rival post").await;
    add_version(&api, &rival.token, &rival_item, 1).await;
    submit(&api, &rival.token, &rival_item).await;

    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let html = page(&app, &c, "/content/metrics").await;
    assert!(!html.contains("Rival"), "their client is not among ours");
    assert!(section(&html, "metrics-overall").contains("2 items"));
    for q in [
        format!("client={rival_client}"),
        format!("creative={}", rival.admin.id),
        format!("client={rival_client}&creative={}", s.cleo),
        "client=cli_nope".to_string(),
        "client=not-an-id".to_string(),
        "creative=mem_nope".to_string(),
    ] {
        let (status, html) = get(&c, &app.url(&format!("/content/metrics?{q}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{q}");
        assert!(!html.contains("Rival"), "{q}");
        assert!(html.contains("belongs to another agency"), "{q}: {html}");
    }

    // Their page shows their item only, and cannot name ours.
    let rc = login_as(&app, "rival@rival.test").await;
    let html = page(&app, &rc, "/content/metrics").await;
    assert!(section(&html, "metrics-overall").contains("1 item · 0 approved"));
    assert!(html.contains("data-testid=\"metrics-none-approved\""));
    assert!(html.contains("Rival Secret Client"));
    assert!(!html.contains("Harbor") && !html.contains("Cleo") && !html.contains("Acme"));
    for q in [
        format!("client={}", s.harbor),
        format!("creative={}", s.cleo),
    ] {
        let (status, html) = get(&rc, &app.url(&format!("/content/metrics?{q}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{q}");
        assert!(!html.contains("Harbor") && !html.contains("Cleo"), "{q}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn empty_states_and_logged_out() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;

    // Logged out: to the login page and back.
    let resp = browser()
        .get(app.url("/content/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(to, "/login?next=/content/metrics");

    // Nothing submitted yet: a sentence, no tables, the definitions.
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let html = page(&app, &c, "/content/metrics").await;
    let overall = section(&html, "metrics-overall");
    assert!(overall.contains("0 items · 0 approved"), "{overall}");
    assert!(overall.contains(
        "No content item was submitted for review in the last 90 days, so there is nothing to measure yet."
    ));
    assert!(!html.contains("data-testid=\"metrics-by-client\""));
    assert!(!html.contains("data-testid=\"metrics-by-creative\""));
    assert!(html.contains("What the numbers mean"));

    // Submitted, not decided: counted, with dashes and a line saying why.
    let client = api.create_client(t, "Harbor Fitness").await;
    approvers(&api, t, &client, &[&app.agency.admin.id]).await;
    let id = create(&api, t, &client, "Pending").await;
    add_version(&api, t, &id, 1).await;
    submit(&api, t, &id).await;
    let html = page(&app, &c, "/content/metrics").await;
    assert!(section(&html, "metrics-overall").contains("1 item · 0 approved"));
    assert!(html.contains(
        "No item submitted in the period was approved yet: cycle times and first-draft acceptance show once one is."
    ));
    assert_eq!(metric(&html, "rework_rate"), "—");
    assert_eq!(metric(&html, "cycle"), "median — · 90th percentile —");
    assert_eq!(
        row(&html, "metrics-by-client", &client)[1..3],
        ["1".to_string(), "0".to_string()]
    );
    app.shutdown().await;
}
