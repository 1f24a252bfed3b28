//! Numbers people read, through a real server and a cookie-keeping HTTP
//! client: times in the agency's zone in words ("due Tue 24 Nov, 10:41") and
//! no raw ISO time as text on the main pages, business durations in the
//! agency's own business days, names with nothing visible refused and bidi
//! controls stripped, and the calendar feed URLs (the member's on
//! `/account`, a client's on its content board) created, shown once and
//! revoked from the web app. Runs on SQLite, or on PostgreSQL when
//! `BATON_TEST_POSTGRES_URL` is set.

use crate::common;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::{browser, csrf_of, Api};
use reqwest::header::LOCATION;
use reqwest::{Client, StatusCode};
use serde_json::json;

const HOUR: i64 = 3_600_000;

/// An instant from its RFC 3339 text.
fn at(text: &str) -> i64 {
    baton_core::clock::parse_rfc3339(text).expect("an RFC 3339 instant")
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A page that must answer 200.
async fn page(app: &TestApp, c: &Client, path: &str) -> String {
    let (status, html) = get(c, &app.url(path)).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    html
}

/// A browser logged in as `email` with [`ADMIN_PASSWORD`].
async fn login_as(app: &TestApp, email: &str) -> Client {
    let c = browser();
    let (_, html) = get(&c, &app.url("/login")).await;
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

/// The value of the hidden field `name` of the form posting to `action`
/// on `html`, if the form has one.
fn hidden_of(html: &str, action: &str, name: &str) -> Option<String> {
    let form = &html[html.find(&format!("action=\"{action}\""))?..];
    let form = &form[..form.find("</form>")?];
    let marker = format!("name=\"{name}\" value=\"");
    let start = form.find(&marker)? + marker.len();
    Some(form[start..][..form[start..].find('"')?].to_string())
}

/// Submits the form posting to `action` on the page at `from` with `fields`
/// (and its CSRF token, and its form nonce when it has one), then follows a
/// redirect once: (the POST's status, where it redirected, the page the
/// browser shows). Works whether a refusal is re-rendered in place or
/// shown after a redirect (Post/Redirect/Get).
async fn submit(
    app: &TestApp,
    c: &Client,
    from: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let form_page = page(app, c, from).await;
    let csrf = hidden_of(&form_page, action, "csrf")
        .unwrap_or_else(|| panic!("no form posting to {action} on {from}"));
    let nonce = hidden_of(&form_page, action, "nonce");
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    if let Some(n) = &nonce {
        form.push(("nonce", n.as_str()));
    }
    form.extend_from_slice(fields);
    let resp = c
        .post(app.url(action))
        .form(&form)
        .send()
        .await
        .expect("POST");
    let status = resp.status();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let (_, html) = get(c, &app.url(&to)).await;
        (status, to, html)
    } else {
        (status, String::new(), resp.text().await.expect("body"))
    }
}

/// The page's text without its tags (attribute values dropped with them),
/// inline tags leaving nothing and others a space, entities of the common
/// characters decoded, whitespace collapsed.
fn text_of(html: &str) -> String {
    const INLINE: [&str; 8] = ["time", "span", "strong", "a", "b", "em", "code", "abbr"];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !INLINE.contains(&name.as_str()) {
            out.push(' ');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let out = out
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `dddd-dd-ddTdd:dd` (an ISO date and time) in `text`.
fn iso_time_in(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let shape = b"0000-00-00T00:00";
    (0..b.len().saturating_sub(shape.len() - 1)).find_map(|i| {
        let w = &b[i..i + shape.len()];
        let ok = w.iter().zip(shape).all(|(c, s)| {
            if *s == b'0' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
        ok.then(|| text[i.saturating_sub(40)..(i + 40).min(text.len())].to_string())
    })
}

#[test]
fn the_text_helpers_work() {
    assert_eq!(
        text_of("<p class=\"x\">due <time datetime=\"2026-11-24T09:41:00Z\">Tue 24 Nov, 10:41</time>, then</p><p>next &#38; last</p>"),
        "due Tue 24 Nov, 10:41, then next & last"
    );
    assert!(iso_time_in("due Tue 24 Nov, 10:41").is_none());
    assert!(iso_time_in("due 2026-11-24T09:41:00Z.").is_some());
}

#[tokio::test]
async fn times_and_business_durations_read_in_words_on_a_berlin_calendar() {
    // Monday 16 November 2026, 08:00 in Berlin.
    let (app, clock) = TestApp::spawn_at(at("2026-11-16T07:00:00Z")).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    api.patch("/api/v1/agency", &t, json!({"timezone": "Europe/Berlin"}))
        .await
        .expect(200, "agency zone");
    // Ten working hours a day, and a business day of that length.
    let day = [["08:00", "18:00"]];
    api.call(
        reqwest::Method::PUT,
        "/api/v1/agency/calendar",
        &t,
        Some(&json!({
            "timezone": "Europe/Berlin",
            "hours": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
            "day_minutes": 600,
        })),
    )
    .await
    .expect(200, "calendar");

    // Access: contract signed Monday 08:00, verified Wednesday 20:00 (after
    // hours): 2 days 12 h on the wall, 30 business hours = 3 business days.
    let client = api.create_client(&t, "Globex").await;
    api.event(&t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "contract signed");
    let link = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            &t,
            json!({"requests": [{"platform": "meta_page"}]}),
        )
        .await;
    link.expect(201, "link");
    let rid = link.body["requests"][0]["id"].as_str().unwrap().to_string();
    clock.set(at("2026-11-18T19:00:00Z"));
    api.post(
        &format!("/api/v1/access-requests/{rid}/grant"),
        &t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    api.post(
        &format!("/api/v1/access-requests/{rid}/verify"),
        &t,
        json!({"note": "Logged in as the agency."}),
    )
    .await
    .expect(200, "verify");

    // Tuesday 24 November, 13:00 in Berlin. A run due at 10:41 this
    // morning (breached, escalated to the admin) and one due on Thursday.
    clock.set(at("2026-11-24T12:00:00Z"));
    // The runs are another client's: Globex's access is verified, so an
    // access setup run for Globex would start done.
    let other = api.create_client(&t, "Initech").await;
    let start = |started: &str| {
        let body = json!({"sop": "access_setup", "client": other, "started_at": started});
        let api = &api;
        let t = &t;
        async move {
            let r = api.post("/api/v1/sop-runs", t, body).await;
            r.expect(201, "start run");
            r.id()
        }
    };
    // access_setup: due 72 wall hours after the start.
    let late = start("2026-11-21T09:41:00Z").await;
    let soon = start("2026-11-23T09:41:00Z").await;
    api.post(
        &format!("/api/v1/sop-runs/{soon}/assign"),
        &t,
        json!({"member": app.agency.admin.id}),
    )
    .await
    .expect(200, "assign");
    common::settle(&app).await;

    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let my_work = text_of(&page(&app, &c, "/my-work").await);
    assert!(
        my_work.contains("Due Thu 26 Nov, 10:41 · in 1 day 22 h"),
        "{my_work}"
    );
    // The escalation notice of the late run, whatever form it was stored in.
    assert!(
        my_work.contains("Breached: Access and permissions setup for Initech"),
        "{my_work}"
    );
    assert!(my_work.contains("due Tue 24 Nov, 10:41"), "{my_work}");

    let traffic = text_of(&page(&app, &c, "/traffic").await);
    assert!(
        traffic.contains("Due Tue 24 Nov, 10:41 · 2 h 19 min overdue"),
        "{traffic}"
    );
    let runs_html = page(&app, &c, &format!("/clients/{other}/runs")).await;
    let runs = text_of(&runs_html);
    assert!(runs.contains("Tue 24 Nov, 10:41"), "{runs}");
    assert!(runs_html.contains(&format!("id=\"run-{late}\"")));
    assert!(
        runs_html.contains("datetime=\"2026-11-24T09:41:00Z\""),
        "the machine time stays in the attribute"
    );

    let client_page = text_of(&page(&app, &c, &format!("/clients/{client}")).await);
    assert!(
        client_page.contains(
            "Time to verified access: 2 days 12 h (3 business days 0 h in business time; \
             contract signed Mon 16 Nov → access complete Wed 18 Nov)"
        ),
        "{client_page}"
    );
    // The timeline's SOP events say the due time in words too.
    let other_page = text_of(&page(&app, &c, &format!("/clients/{other}")).await);
    assert!(
        other_page.contains("Access and permissions setup: due Tue 24 Nov, 10:41"),
        "{other_page}"
    );
    let dashboard = text_of(&page(&app, &c, "/").await);
    assert!(
        dashboard.contains("median 2 days 12 h · 90th percentile 2 days 12 h · 1 client"),
        "{dashboard}"
    );

    // No main page shows a raw ISO time as text.
    for path in [
        "/".to_string(),
        format!("/clients/{client}"),
        format!("/clients/{client}/runs"),
        format!("/clients/{client}/content"),
        format!("/clients/{client}/handoff"),
        format!("/clients/{client}/decides"),
        "/my-work".to_string(),
        "/traffic".to_string(),
        "/access".to_string(),
        "/access/held".to_string(),
        "/content".to_string(),
        "/content/calendar".to_string(),
        "/content/metrics".to_string(),
        "/sops".to_string(),
        "/sops/access_setup".to_string(),
        "/roles".to_string(),
        "/team".to_string(),
        "/account".to_string(),
        "/settings".to_string(),
        "/settings/calendar".to_string(),
    ] {
        let text = text_of(&page(&app, &c, &path).await);
        assert_eq!(iso_time_in(&text), None, "{path} shows an ISO time");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn client_names_without_anything_visible_are_refused_and_bidi_controls_stripped() {
    let app = TestApp::spawn().await;
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let before = common::trail(&app, &app.agency.id).await;
    let (status, _, html) = submit(
        &app,
        &c,
        "/clients/new",
        "/clients",
        &[("name", "\u{200B}\u{202E}"), ("notes", "Kept notes")],
    )
    .await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::SEE_OTHER,
        "{status}"
    );
    assert!(
        html.contains("Name: must contain visible characters."),
        "{html}"
    );
    assert!(html.contains("Kept notes"), "what was typed is kept");
    assert_eq!(
        common::trail(&app, &app.agency.id).await,
        before,
        "nothing written"
    );

    let (_, to, html) = submit(
        &app,
        &c,
        "/clients/new",
        "/clients",
        &[("name", "\u{2067}Acme\u{202E}\u{2069}")],
    )
    .await;
    assert!(to.starts_with("/clients/cli_"), "{to}");
    assert!(html.contains("<h1>Acme</h1>"), "{html}");
    let id = to
        .trim_start_matches("/clients/")
        .split(['?', '#'])
        .next()
        .unwrap()
        .to_string();
    let stored = baton_store::clients::get(&app.state.db, &app.agency.id, &id)
        .await
        .unwrap();
    assert_eq!(stored.name, "Acme");
    app.shutdown().await;
}

/// The URL shown once on a page with a calendar feed card, if any.
fn feed_url_of(html: &str) -> Option<String> {
    let marker = "id=\"feed-url\" class=\"mono\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..][..html[start..].find('"')?].to_string())
}

/// The state line of the calendar feed card.
fn feed_state(html: &str) -> String {
    let start = html
        .find("data-testid=\"feed-state\">")
        .expect("a calendar feed card")
        + "data-testid=\"feed-state\">".len();
    text_of(&html[start..][..html[start..].find("</p>").unwrap()])
}

async fn feed_status(url: &str) -> u16 {
    reqwest::get(url).await.expect("GET feed").status().as_u16()
}

#[tokio::test]
async fn calendar_feeds_are_made_copied_and_revoked_in_the_web_app() {
    let (app, clock) = TestApp::spawn_at(at("2026-11-24T09:41:00Z")).await;
    let api = Api::new(&app);
    let c = login_as(&app, &app.agency.admin.email.clone()).await;

    // Mine, on /account.
    let html = page(&app, &c, "/account").await;
    assert!(html.contains("My calendar feed"));
    assert!(
        feed_state(&html).contains("No calendar feed URL works now."),
        "{html}"
    );
    let (_, _, html) = submit(&app, &c, "/account", "/account/calendar-feed", &[]).await;
    let mine = feed_url_of(&html).expect("the URL shown once");
    assert!(mine.starts_with(&app.url("/feeds/")) && mine.ends_with(".ics"));
    assert!(html.contains("readonly data-feed-url>"), "read-only");
    assert!(
        html.contains("data-copy=\"feed-url\">Copy</button>"),
        "with a Copy button"
    );
    assert_eq!(feed_status(&mine).await, 200);
    // Shown once; afterwards the card says since when it works.
    clock.advance(HOUR);
    let html = page(&app, &c, "/account").await;
    assert!(!html.contains(&mine), "the URL is not shown again");
    assert!(
        feed_state(&html).starts_with("Active since Tue 24 Nov, 09:41, made by Test Admin."),
        "{}",
        feed_state(&html)
    );
    // Replace: a new URL, the old one stops working.
    let (_, _, html) = submit(&app, &c, "/account", "/account/calendar-feed", &[]).await;
    let replaced = feed_url_of(&html).expect("a new URL");
    assert_ne!(replaced, mine);
    assert_eq!(feed_status(&mine).await, 404);
    assert_eq!(feed_status(&replaced).await, 200);
    // Revoke.
    let (status, to, html) =
        submit(&app, &c, "/account", "/account/calendar-feed/revoke", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/account?notice=feed_revoked#calendar-feed");
    assert!(html.contains("Calendar feed revoked: its URL no longer works."));
    assert!(feed_state(&html).contains("No calendar feed URL works now."));
    assert_eq!(feed_status(&replaced).await, 404);
    // Revoking again changes nothing and says so.
    let resp = c
        .post(app.url("/account/calendar-feed/revoke"))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get(LOCATION).unwrap(),
        "/account?notice=feed_none#calendar-feed"
    );
    // Without the CSRF token nothing happens.
    let resp = c
        .post(app.url("/account/calendar-feed"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // A client's, on its content board, which the client's calendar points to.
    let client = api.create_client(&app.agency.token, "Harbor Fitness").await;
    let html = page(&app, &c, &format!("/content/calendar?client={client}")).await;
    assert!(html.contains(&format!(
        "<a href=\"/clients/{client}/content#calendar-feed\">this client's</a>"
    )));
    let board = format!("/clients/{client}/content");
    let action = format!("/clients/{client}/calendar-feed");
    let html = page(&app, &c, &board).await;
    assert!(html.contains("Client calendar feed"));
    assert!(feed_state(&html).contains("No calendar feed URL works now."));
    let (_, _, html) = submit(&app, &c, &board, &action, &[]).await;
    let theirs = feed_url_of(&html).expect("the client's URL shown once");
    assert_eq!(feed_status(&theirs).await, 200);
    let html = page(&app, &c, &board).await;
    assert!(!html.contains(&theirs));
    assert!(feed_state(&html).starts_with("Active since"));
    let csrf = csrf_of(&html);

    // Another agency's member can neither make nor revoke it.
    let rival = app.other_agency("admin@rival.test").await;
    let r = login_as(&app, &rival.admin.email).await;
    let rcsrf = csrf_of(&page(&app, &r, "/account").await);
    for path in [action.clone(), format!("{action}/revoke")] {
        let resp = r
            .post(app.url(&path))
            .form(&[("csrf", rcsrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(feed_status(&theirs).await, 200, "still works");
    let (status, _) = get(&r, &app.url(&board)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let resp = c
        .post(app.url(&format!("{action}/revoke")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers().get(LOCATION).unwrap().to_str().unwrap(),
        format!("{board}?notice=feed_revoked#calendar-feed")
    );
    assert_eq!(feed_status(&theirs).await, 404);
    let html = page(&app, &c, &board).await;
    assert!(feed_state(&html).contains("No calendar feed URL works now."));
    // The client's timeline says who revoked it.
    let events = api.client_events(&app.agency.token, &client).await;
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(
        types.contains(&"calendar_feed.created") && types.contains(&"calendar_feed.revoked"),
        "{types:?}"
    );
    app.shutdown().await;
}
