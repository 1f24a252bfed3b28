//! The content pages of the web app through a real server and a
//! cookie-keeping HTTP client: an item created through the client board's
//! form, reviewers and approvers, versions, submit, a reviewer's decision
//! refused on the page (403), changes requested then approval of the next
//! version, the QA checklist, scheduling refused before QA then done (in the
//! agency's time zone), the calendar month and week, publishing; escaping,
//! tenant isolation and the agency board across clients. On PostgreSQL too
//! when `BATON_TEST_POSTGRES_URL` is set.

use crate::common;
use baton_store::Cx;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::agencies::{self, AgencyPatch};
use baton_store::members::{self, MemberInput};
use baton_store::Actor;
use common::Api;
use common::{browser, csrf_of};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

/// Monday 2026-11-16 09:00:00 UTC (10:00 in Berlin), ISO week 2026-W47.
const MON_9: i64 = 1_794_819_600_000;
/// Friday 2026-11-20 09:00:00 UTC: 10:00 in Berlin.
const FRI_9: i64 = 1_795_165_200_000;

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

/// One section of the item page (`<section … id="{id}"` to its end).
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    between(html, &format!("id=\"{id}\""), "</section>")
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A page that must answer 200, without inline style or script.
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

/// A browser logged in as `email` (password [`ADMIN_PASSWORD`]) and a CSRF
/// token of its session.
async fn login_as(app: &TestApp, email: &str) -> (Client, String) {
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
    let html = page(app, &c, "/content").await;
    let csrf = csrf_of(&html);
    (c, csrf)
}

async fn admin(app: &TestApp) -> (Client, String) {
    login_as(app, &app.agency.admin.email.clone()).await
}

/// Posts a form with the CSRF token.
async fn post(c: &Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    c.post(url).form(&form).send().await.expect("POST")
}

/// Posts a form that must redirect; where to.
async fn post_ok(c: &Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> String {
    let resp = post(c, url, csrf, fields).await;
    let status = resp.status();
    let to = location(&resp);
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::SEE_OTHER, "POST {url}: {body}");
    to
}

/// Posts a form that must be refused with `status`; the page.
async fn post_refused(
    c: &Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
    status: StatusCode,
) -> String {
    let resp = post(c, url, csrf, fields).await;
    let got = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "POST {url}: {body}");
    body
}

/// A member with the test password.
async fn member(app: &TestApp, email: &str, name: &str) -> String {
    let hash = baton_server::auth::password::hash_async(ADMIN_PASSWORD.into()).await;
    members::create(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        MemberInput {
            email: email.into(),
            name: name.into(),
            roles: vec!["copywriter".into()],
            is_admin: false,
            password_hash: Some(hash),
        },
    )
    .await
    .expect("create member")
    .id
}

async fn item_json(api: &Api, token: &str, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/content/{id}"), token).await;
    r.expect(200, "get content");
    r.body.clone()
}

/// The id in a redirect to `/content/{id}?…`.
fn item_id(to: &str) -> String {
    let rest = to.strip_prefix("/content/").expect("to the item");
    rest[..rest.find(['?', '#']).unwrap_or(rest.len())].to_string()
}

const BRIEF: [(&str, &str); 5] = [
    ("audience", "Runners in Hamburg, 25–40"),
    ("angle", "Winter running is a choice"),
    ("offer", "20% off the winter line"),
    ("constraints", "No competitor names"),
    ("examples", "Last year's carousel"),
];

#[tokio::test]
async fn an_item_from_brief_to_the_calendar() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    agencies::update(
        Cx::new(&app.state.db, &app.agency.id, &Actor::cli(), MON_9),
        AgencyPatch {
            timezone: Some("Europe/Berlin".into()),
            ..AgencyPatch::default()
        },
    )
    .await
    .unwrap();
    let client = api.create_client(&t, "Harbor Fitness").await;
    let other_client = api.create_client(&t, "Globex").await;
    let ana = member(&app, "ana@northwind.test", "Ana Approver").await;
    let rey = member(&app, "rey@northwind.test", "Rey Reviewer").await;
    let (c, csrf) = admin(&app).await;

    // The client page links to its board; the board has the form.
    let html = page(&app, &c, &format!("/clients/{client}")).await;
    assert!(html.contains(&format!("href=\"/clients/{client}/content\"")));
    let html = page(&app, &c, &format!("/clients/{client}/content")).await;
    assert!(html.contains("data-testid=\"content-board\""));
    assert!(html.contains("<option value=\"instagram\">Instagram</option>"));
    assert!(html.contains("aria-current=\"page\">Content</a>"));

    // A refused form keeps what was typed.
    let board_url = app.url(&format!("/clients/{client}/content"));
    let mut fields = vec![
        ("title", "  "),
        ("channel", "instagram"),
        ("format", "Reel"),
        ("campaign", "Winter launch"),
    ];
    fields.extend(BRIEF);
    let html = post_refused(
        &c,
        &board_url,
        &csrf,
        &fields,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let alert = alert_of(&html).expect("an error");
    assert!(alert.starts_with("Title: "), "{alert}");
    assert!(html.contains("value=\"Winter launch\""));
    assert!(html.contains("Winter running is a choice</textarea>"));
    assert!(html.contains("<option value=\"instagram\" selected>"));

    // Created through the form.
    fields[0] = ("title", "Winter running reel");
    let to = post_ok(&c, &board_url, &csrf, &fields).await;
    assert!(to.ends_with("?notice=content_created"), "{to}");
    let id = item_id(&to);
    let url = app.url(&format!("/content/{id}"));
    let html = page(&app, &c, &to).await;
    assert!(html.contains("Content item created."));
    assert!(html.contains("data-status=\"brief\""));
    assert!(section(&html, "brief").contains("Complete"));
    assert!(html.contains("The brief is complete: approve it to start production"));
    assert!(html.contains("Harbor Fitness · Instagram · Reel · Winter launch"));
    // "Other": a free-text channel.
    let to = post_ok(
        &c,
        &board_url,
        &csrf,
        &[
            ("title", "Store opening"),
            ("channel", "other"),
            ("channel_other", "Google Business"),
        ],
    )
    .await;
    let other_item = item_id(&to);
    assert_eq!(
        item_json(&api, &t, &other_item).await["channel"],
        "google_business"
    );
    let html = page(&app, &c, &to).await;
    assert!(section(&html, "brief").contains("5 missing"));
    assert!(html.contains("The brief still needs audience, angle, offer, constraints, examples"));

    // Nobody can approve yet: submitting is refused at the versions.
    let to = post_ok(
        &c,
        &format!("{url}/versions"),
        &csrf,
        &[
            ("url", "https://drafts.example/winter-v1"),
            ("note", "First cut"),
        ],
    )
    .await;
    assert_eq!(to, format!("/content/{id}?notice=version_added#versions"));
    let html = post_refused(
        &c,
        &format!("{url}/submit"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    let versions = section(&html, "versions");
    assert!(
        alert_of(versions)
            .unwrap()
            .starts_with("Name at least one approver first"),
        "{versions}"
    );
    assert!(versions.contains("harbor-fitness_winter-launch_instagram_reel_v1"));
    assert!(versions.contains("href=\"https://drafts.example/winter-v1\""));
    assert!(versions.contains("First cut") && versions.contains("Test Admin"));

    // Participants: one person cannot be both; then Rey reviews, Ana approves.
    let html = post_refused(
        &c,
        &format!("{url}/participants"),
        &csrf,
        &[
            ("reviewers", &ana),
            ("approvers", &ana),
            ("approval_mode", "all"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let part = section(&html, "participants");
    assert!(alert_of(part).unwrap().starts_with("Approvers: "), "{part}");
    assert!(part.contains(&format!("name=\"reviewers\" value=\"{ana}\" checked")));
    assert!(part.contains("<details class=\"disclosure\" open>"));
    let to = post_ok(
        &c,
        &format!("{url}/participants"),
        &csrf,
        &[
            ("reviewers", &rey),
            ("approvers", &ana),
            ("approval_mode", "all"),
        ],
    )
    .await;
    assert!(to.contains("notice=participants_saved"));
    let html = page(&app, &c, &to).await;
    let part = section(&html, "participants");
    assert!(part.contains("Rey Reviewer") && part.contains("Ana Approver"));
    assert!(html.contains("Submit v1 for review"));

    // Submit: in review, waiting on Ana.
    let to = post_ok(&c, &format!("{url}/submit"), &csrf, &[]).await;
    assert!(to.contains("notice=submitted"));
    let html = page(&app, &c, &to).await;
    assert!(html.contains("data-status=\"in_review\""));
    assert!(html.contains("Version 1 is in review (round 1): waiting on Ana Approver to decide."));
    assert!(
        !html.contains(&format!("action=\"/content/{id}/decisions\"")),
        "the admin is not an approver: no decision form"
    );

    // Rey reviews: comments, but a decision is refused (403) on the page.
    let (rc, rcsrf) = login_as(&app, "rey@northwind.test").await;
    let html = page(&app, &rc, &format!("/content/{id}")).await;
    assert!(!html.contains(&format!("action=\"/content/{id}/decisions\"")));
    assert!(html.contains("only the item's approvers decide (Ana Approver)"));
    let html = post_refused(
        &rc,
        &format!("{url}/decisions"),
        &rcsrf,
        &[("decision", "approve"), ("comment", "Looks good")],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        html.contains("data-testid=\"content-item\""),
        "the item page"
    );
    assert_eq!(
        alert_of(section(&html, "review")).as_deref(),
        Some("Reviewers comment; only the item&#39;s approvers decide.")
    );
    let to = post_ok(
        &rc,
        &format!("{url}/comments"),
        &rcsrf,
        &[("body", "The logo is too small")],
    )
    .await;
    assert!(to.contains("notice=commented"));
    assert_eq!(item_json(&api, &t, &id).await["status"], "in_review");

    // Ana decides: a request for changes needs a comment; then a major one.
    let (ac, acsrf) = login_as(&app, "ana@northwind.test").await;
    let html = page(&app, &ac, &format!("/content/{id}")).await;
    assert!(html.contains(&format!("action=\"/content/{id}/decisions\"")));
    let html = post_refused(
        &ac,
        &format!("{url}/decisions"),
        &acsrf,
        &[("decision", "request_changes"), ("revision", "major")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        alert_of(section(&html, "review")).as_deref(),
        Some("Comment: say what should change.")
    );
    assert!(html.contains("value=\"major\" checked"), "typed kept");
    let to = post_ok(
        &ac,
        &format!("{url}/decisions"),
        &acsrf,
        &[
            ("decision", "request_changes"),
            ("revision", "major"),
            ("comment", "Bigger logo, brighter colours"),
        ],
    )
    .await;
    assert!(to.contains("notice=decided"));
    let json = item_json(&api, &t, &id).await;
    assert_eq!(json["status"], "changes_requested");
    assert_eq!(json["revision_count"], 1);
    let html = page(&app, &ac, &to).await;
    let round = between(&html, "id=\"round-1\"", "</article>");
    assert!(round.contains("Changes requested") && round.contains("major revision"));
    assert!(round.contains("Consolidated feedback"));
    assert!(round.contains("Rey Reviewer: The logo is too small"));
    assert!(round.contains("Ana Approver: Bigger logo, brighter colours"));
    assert!(html.contains("Changes were requested in round 1"));
    let talk = section(&html, "discussion");
    assert!(talk.contains("Requested changes") && talk.contains("The logo is too small"));

    // The next version, submitted; Ana approves it.
    post_ok(
        &c,
        &format!("{url}/versions"),
        &csrf,
        &[("url", "https://drafts.example/winter-v2"), ("note", "")],
    )
    .await;
    post_ok(&c, &format!("{url}/submit"), &csrf, &[]).await;
    let to = post_ok(
        &ac,
        &format!("{url}/decisions"),
        &acsrf,
        &[
            ("decision", "approve"),
            ("comment", ""),
            ("revision", "minor"),
        ],
    )
    .await;
    assert!(to.contains("notice=decided"));
    let json = item_json(&api, &t, &id).await;
    assert_eq!(json["status"], "approved");
    assert_eq!(json["revision_count"], 1);
    assert_eq!(json["versions"].as_array().unwrap().len(), 2);
    let html = page(&app, &c, &format!("/content/{id}")).await;
    assert!(between(&html, "id=\"round-2\"", "</article>").contains("Approved"));
    assert!(
        html.contains("Approved: finish the publishing QA checklist (7 left), then schedule it.")
    );
    // Versions cannot be added once approved.
    assert!(!html.contains(&format!("action=\"/content/{id}/versions\"")));

    // QA: two ticks, by the admin.
    let to = post_ok(
        &c,
        &format!("{url}/qa"),
        &csrf,
        &[("done", "links_checked"), ("done", "tags_handles")],
    )
    .await;
    assert!(to.contains("notice=qa_saved"));
    let html = page(&app, &c, &to).await;
    let qa = section(&html, "qa");
    assert!(qa.contains("2/7"));
    assert!(qa.contains("value=\"links_checked\" checked"));
    assert!(qa.contains("done: Test Admin, Mon 16 Nov, 10:00"), "{qa}");
    // Nothing changed: nothing sent.
    let to = post_ok(
        &c,
        &format!("{url}/qa"),
        &csrf,
        &[
            ("was", "links_checked"),
            ("was", "tags_handles"),
            ("done", "links_checked"),
            ("done", "tags_handles"),
        ],
    )
    .await;
    assert!(to.contains("notice=qa_unchanged"));

    // Scheduling is refused before QA is complete, then in the past.
    let html = post_refused(
        &c,
        &format!("{url}/schedule"),
        &csrf,
        &[("publish_at", "2026-11-20T10:00"), ("waive_reason", "")],
        StatusCode::CONFLICT,
    )
    .await;
    let sched = section(&html, "schedule");
    assert!(
        alert_of(sched)
            .unwrap()
            .starts_with("Publishing QA is not complete: 5 items left"),
        "{sched}"
    );
    assert!(sched.contains("value=\"2026-11-20T10:00\""), "typed kept");
    let html = post_refused(
        &c,
        &format!("{url}/schedule"),
        &csrf,
        &[("publish_at", "2026-11-01T10:00")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        alert_of(section(&html, "schedule")).as_deref(),
        Some("Publish at: must not be in the past.")
    );
    let rest = [
        ("was", "links_checked"),
        ("was", "tags_handles"),
        ("done", "links_checked"),
        ("done", "tags_handles"),
        ("done", "formatting"),
        ("done", "length"),
        ("done", "hashtags"),
        ("done", "legal"),
        ("done", "disclosure"),
    ];
    post_ok(&c, &format!("{url}/qa"), &csrf, &rest).await;
    let to = post_ok(
        &c,
        &format!("{url}/schedule"),
        &csrf,
        &[("publish_at", "2026-11-20T10:00")],
    )
    .await;
    assert!(to.contains("notice=scheduled"));
    let json = item_json(&api, &t, &id).await;
    assert_eq!(json["status"], "scheduled");
    assert_eq!(
        json["publish_at"],
        baton_core::clock::rfc3339(FRI_9),
        "10:00 in Berlin"
    );
    assert_eq!(json["qa"]["waived_reason"], Value::Null);
    let html = page(&app, &c, &to).await;
    assert!(html.contains("Scheduled for Fri 20 Nov, 10:00: mark it published once it is live."));

    // The calendar: the month grid (Monday first) and the week list.
    let html = page(&app, &c, "/content/calendar?month=2026-11").await;
    assert!(html.contains("data-view=\"month\""));
    assert!(html.contains("November 2026 · 1 item scheduled or published"));
    let days = between(&html, "data-testid=\"calendar-days\"", "</ol>");
    assert!(
        days.contains("<li class=\"cal-day cal-out cal-empty\" data-date=\"2026-10-26\">"),
        "the grid starts on the Monday before: {days}"
    );
    assert!(
        days.contains("data-date=\"2026-12-06\""),
        "and ends on a Sunday"
    );
    assert!(!days.contains("data-date=\"2026-12-07\""));
    let day = between(days, "data-date=\"2026-11-20\"", "</li>\n  <li");
    assert!(day.contains("10:00"), "{day}");
    assert!(day.contains("Winter running reel") && day.contains("Harbor Fitness · Instagram"));
    assert!(day.contains(&format!("href=\"/content/{id}\"")));
    assert!(html.contains("href=\"/content/calendar?month=2026-10\""));
    assert!(html.contains("href=\"/content/calendar?month=2026-12\""));
    assert!(
        html.contains("href=\"/content/calendar?week=2026-W47\""),
        "week view of today"
    );
    assert!(days.contains("cal-day cal-today cal-empty\" data-date=\"2026-11-16\""));
    let html = page(&app, &c, "/content/calendar?week=2026-W47").await;
    assert!(html.contains("data-view=\"week\""));
    assert!(html.contains("Week 47, 2026 · 16 Nov – 22 Nov"));
    let day = between(&html, "data-date=\"2026-11-20\"", "</li>\n  <li");
    assert!(day.contains("Friday 20 Nov") && day.contains("Winter running reel"));
    assert!(html.contains("href=\"/content/calendar?week=2026-W46\""));
    assert!(html.contains("href=\"/content/calendar?week=2026-W48\""));
    let html = page(&app, &c, "/content/calendar?week=2026-W48").await;
    assert!(!html.contains("Winter running reel"));
    // Filtered by client.
    let html = page(
        &app,
        &c,
        &format!("/content/calendar?month=2026-11&client={client}"),
    )
    .await;
    assert!(html.contains("Winter running reel"));
    assert!(html.contains(&format!(
        "<option value=\"{client}\" selected>Harbor Fitness"
    )));
    assert!(html.contains(&format!(
        "href=\"/content/calendar?month=2026-12&#38;client={client}\""
    )));
    let html = page(
        &app,
        &c,
        &format!("/content/calendar?month=2026-11&client={other_client}"),
    )
    .await;
    assert!(!html.contains("Winter running reel"));
    for bad in ["month=2026-13", "month=november", "week=2026-W60"] {
        let (status, _) = get(&c, &app.url(&format!("/content/calendar?{bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // The board: scheduled with its time; then published, counted and listed.
    let html = page(&app, &c, &format!("/clients/{client}/content")).await;
    let col = section(&html, "col-scheduled");
    assert!(col.contains("Winter running reel") && col.contains("Fri 20 Nov, 10:00"));
    assert!(col.contains("v2") && col.contains("1 revision"));
    assert!(section(&html, "col-brief").contains("Store opening"));
    let to = post_ok(&c, &format!("{url}/publish"), &csrf, &[]).await;
    assert!(to.contains("notice=published"));
    let html = page(&app, &c, &to).await;
    assert!(html.contains("data-status=\"published\""));
    assert!(html.contains("Published content is final."));
    let html = page(&app, &c, "/content/calendar?month=2026-11").await;
    let day = between(&html, "data-date=\"2026-11-20\"", "</li>\n  <li");
    assert!(day.contains("Winter running reel") && day.contains("Published"));
    let html = page(&app, &c, &format!("/clients/{client}/content")).await;
    assert!(html.contains(&format!(
        "href=\"/clients/{client}/content?status=published\"><span class=\"count\">1</span> Published"
    )));
    assert!(!section(&html, "col-scheduled").contains("Winter running reel"));
    let html = page(
        &app,
        &c,
        &format!("/clients/{client}/content?status=published"),
    )
    .await;
    assert!(section(&html, "list").contains("Winter running reel"));
    assert!(!html.contains("Store opening"));
    // A published item cannot be cancelled: refused at the status.
    let html = post_refused(
        &c,
        &format!("{url}/cancel"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    assert!(alert_of(section(&html, "status"))
        .unwrap()
        .contains("published content is final"));
    // The other item: cancelled (and its brief cannot be approved incomplete).
    let other_url = app.url(&format!("/content/{other_item}"));
    let html = post_refused(
        &c,
        &format!("{other_url}/approve-brief"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    assert!(alert_of(section(&html, "brief"))
        .unwrap()
        .starts_with("The brief is not complete: fill audience"));
    let to = post_ok(&c, &format!("{other_url}/cancel"), &csrf, &[]).await;
    assert!(to.contains("notice=cancelled"));
    let html = page(&app, &c, &format!("/clients/{client}/content")).await;
    assert!(html.contains("<span class=\"count\">1</span> Cancelled"));
    app.shutdown().await;
}

#[tokio::test]
async fn titles_are_escaped_and_other_agencies_content_is_not_found() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "Acme <i>Corp</i>").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            &t,
            json!({"title": "<b>Bold</b> & \"quoted\"", "channel": "x", "campaign": "<script>x</script>"}),
        )
        .await;
    r.expect(201, "create content");
    let id = r.id();
    let rival = app.other_agency("rival@rival.test").await;
    let rival_client = api.create_client(&rival.token, "Rival client").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{rival_client}/content"),
            &rival.token,
            json!({"title": "Rival secret post", "channel": "instagram"}),
        )
        .await;
    r.expect(201, "rival content");
    let rival_item = r.id();
    let (c, csrf) = admin(&app).await;

    for path in [
        format!("/content/{id}"),
        format!("/clients/{client}/content"),
        "/content".to_string(),
    ] {
        let html = page(&app, &c, &path).await;
        assert!(
            html.contains("&#60;b&#62;Bold&#60;/b&#62; &#38; &#34;quoted&#34;"),
            "{path} escapes the title: {}",
            &html[html.find("Bold").unwrap_or(0).saturating_sub(30)..][..80]
        );
        assert!(!html.contains("<b>Bold</b>") && !html.contains("<i>Corp</i>"));
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("Rival secret post"), "{path}");
    }

    // Another agency's item and client: not found, for pages and forms.
    for path in [
        format!("/content/{rival_item}"),
        format!("/clients/{rival_client}/content"),
        format!("/content/calendar?client={rival_client}"),
        "/content/cnt_nonsense".to_string(),
    ] {
        let (status, html) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!html.contains("Rival"), "{path}");
    }
    for (path, fields) in [
        (
            format!("/clients/{rival_client}/content"),
            vec![("title", "Injected"), ("channel", "instagram")],
        ),
        (
            format!("/content/{rival_item}/comments"),
            vec![("body", "hi")],
        ),
        (format!("/content/{rival_item}/cancel"), vec![]),
        (
            format!("/content/{rival_item}/versions"),
            vec![("url", "https://x.example/")],
        ),
        (
            format!("/content/{rival_item}/decisions"),
            vec![("decision", "approve")],
        ),
    ] {
        let resp = post(&c, &app.url(&path), &csrf, &fields).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    let r = api
        .get(&format!("/api/v1/content/{rival_item}"), &rival.token)
        .await;
    r.expect(200, "rival item");
    assert_eq!(r.body["status"], "brief");
    assert_eq!(r.body["discussion"].as_array().unwrap().len(), 0);
    // Forms without the session's token are refused.
    let resp = post(
        &c,
        &app.url(&format!("/content/{id}/cancel")),
        "forged",
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(item_json(&api, &t, &id).await["status"], "brief");
    app.shutdown().await;
}

#[tokio::test]
async fn the_agency_board_shows_items_of_every_client() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let a = api.create_client(&t, "Harbor Fitness").await;
    let b = api.create_client(&t, "Globex").await;
    for (client, title, channel) in [
        (&a, "Harbor reel", "instagram"),
        (&b, "Globex thread", "linkedin"),
    ] {
        api.post(
            &format!("/api/v1/clients/{client}/content"),
            &t,
            json!({"title": title, "channel": channel, "format": "Post"}),
        )
        .await
        .expect(201, "create content");
    }
    let (c, _) = admin(&app).await;
    let html = page(&app, &c, "/content").await;
    assert!(html.contains("2 open across clients"));
    let col = section(&html, "col-brief");
    assert!(col.contains("Harbor reel") && col.contains("Harbor Fitness"));
    assert!(col.contains("Globex thread") && col.contains("Globex"));
    assert!(col.contains("Instagram · Post") && col.contains("LinkedIn · Post"));
    assert!(col.contains("No version yet"));
    assert!(html.contains("<span class=\"count\">2</span>"));
    assert!(
        !html.contains("id=\"new\""),
        "new items are made on a client's board"
    );
    let html = page(&app, &c, &format!("/clients/{a}/content")).await;
    assert!(html.contains("Harbor reel") && !html.contains("Globex thread"));
    let (status, _) = get(&c, &app.url("/content?status=nonsense")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let html = page(&app, &c, "/content?status=in_review").await;
    assert!(html.contains("No content item is in review."));
    app.shutdown().await;
}

#[tokio::test]
async fn the_team_makes_the_clients_approval_link_from_the_item_page() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "Harbor Fitness").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            &t,
            json!({"title": "Client-approved reel", "channel": "instagram"}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    let (c, csrf) = admin(&app).await;
    let item = app.url(&format!("/content/{id}"));
    // Without the client among the approvers, there is no link to make.
    let html = page(&app, &c, &format!("/content/{id}")).await;
    assert!(!html.contains("approval link</button>"));
    let refused = post_refused(
        &c,
        &format!("{item}/approval-link"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused.contains("not an approver"), "{refused}");
    post_ok(
        &c,
        &format!("{item}/participants"),
        &csrf,
        &[("approvers", "client"), ("approval_mode", "all")],
    )
    .await;
    let html = page(&app, &c, &format!("/content/{id}")).await;
    assert!(
        html.contains("the client (approval link)"),
        "named as approver"
    );
    let resp = post(&c, &format!("{item}/approval-link"), &csrf, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let marker = "expires in 14 days):<br><code>";
    let url = between(&html, marker, "</code>")[marker.len()..].to_string();
    assert!(url.contains("/a/"), "{url}");
    // The link opens the client's page; the URL is not on the next render.
    let (status, client_page) = get(&browser(), &url).await;
    assert_eq!(status, StatusCode::OK, "{client_page}");
    assert!(client_page.contains("Client-approved reel"));
    let again = page(&app, &c, &format!("/content/{id}")).await;
    assert!(!again.contains(&url), "shown once");
    app.shutdown().await;
}

/// Puts `lead` in the client's account lead seat (traffic control: the admin).
async fn make_lead(api: &Api, t: &str, client: &str, lead: &str, tc: &str) {
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        t,
        json!({"members": [{"role": "account_lead", "member_id": lead}], "traffic_control": tc}),
    )
    .await
    .expect(200, "account team");
}

/// An item of `client` in review (round 1, a link version), reviewed by
/// `reviewers` and approved by `approvers`.
async fn in_review(
    api: &Api,
    t: &str,
    client: &str,
    title: &str,
    reviewers: &[&str],
    approvers: &[&str],
) -> String {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            json!({"title": title, "channel": "instagram"}),
        )
        .await;
    r.expect(201, "create");
    let id = r.id();
    api.put(
        &format!("/api/v1/content/{id}/participants"),
        t,
        json!({"reviewers": reviewers, "approvers": approvers}),
    )
    .await
    .expect(200, "participants");
    api.post(
        &format!("/api/v1/content/{id}/versions"),
        t,
        json!({"url": "https://drafts.example/v1.png"}),
    )
    .await
    .expect(201, "v1");
    api.post(&format!("/api/v1/content/{id}/submit"), t, json!({}))
        .await
        .expect(200, "submit");
    id
}

#[tokio::test]
async fn the_reviewer_cannot_promote_himself_and_the_leads_change_waits() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "Harbor Fitness").await;
    let rey = member(&app, "rey@northwind.test", "Rey Reviewer").await;
    let ana = member(&app, "ana@northwind.test", "Ana Approver").await;
    let lea = member(&app, "lea@northwind.test", "Lea Lead").await;
    make_lead(&api, &t, &client, &lea, &app.agency.admin.id).await;
    let id = in_review(&api, &t, &client, "Morning reel", &[&rey], &[&ana]).await;
    let url = app.url(&format!("/content/{id}"));

    // The reviewer sees no form to change who approves, only the rule; a
    // forged post is refused (403) with the rule, and he gets no Approve.
    let (rc, rcsrf) = login_as(&app, "rey@northwind.test").await;
    let html = page(&app, &rc, &format!("/content/{id}")).await;
    let part = section(&html, "participants");
    assert!(!part.contains("action=\"/content/"), "{part}");
    assert!(part
        .contains("Only the account lead, traffic control or an admin can change who approves."));
    let html = post_refused(
        &rc,
        &format!("{url}/participants"),
        &rcsrf,
        &[
            ("approvers", &ana),
            ("approvers", &rey),
            ("approval_mode", "all"),
        ],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        alert_of(section(&html, "participants")).as_deref(),
        Some("Only the account lead, traffic control or an admin can change who approves.")
    );
    assert!(!html.contains(&format!("action=\"/content/{id}/decisions\"")));
    let json = item_json(&api, &t, &id).await;
    assert_eq!(json["approvers"], json!([ana]));
    assert_eq!(json["pending_participants"], Value::Null);

    // The account lead may; mid-round it applies from the next round.
    let (lc, lcsrf) = login_as(&app, "lea@northwind.test").await;
    let html = page(&app, &lc, &format!("/content/{id}")).await;
    let part = section(&html, "participants");
    assert!(part.contains(&format!("action=\"/content/{id}/participants\"")));
    assert!(part.contains("your change applies from the next round"));
    let to = post_ok(
        &lc,
        &format!("{url}/participants"),
        &lcsrf,
        &[
            ("approvers", &ana),
            ("approvers", &rey),
            ("approval_mode", "all"),
        ],
    )
    .await;
    assert!(to.contains("notice=participants_next_round"), "{to}");
    let html = page(&app, &lc, &to).await;
    assert!(html.contains("Saved for the next round"));
    let pending = between(&html, "data-testid=\"pending-participants\"", "</p>");
    assert!(
        pending.contains("Changes from the next round:")
            && pending.contains("approvers Ana Approver, Rey Reviewer")
            && pending.contains("Asked by Lea Lead"),
        "{pending}"
    );
    assert!(!pending.contains("mem_"), "names, not ids: {pending}");

    // Rey approves only from the next round: no Approve button now, and a
    // forged decision is refused.
    let html = page(&app, &rc, &format!("/content/{id}")).await;
    assert!(!html.contains(&format!("action=\"/content/{id}/decisions\"")));
    assert!(html.contains("data-testid=\"approver-next-round\""));
    let html = post_refused(
        &rc,
        &format!("{url}/decisions"),
        &rcsrf,
        &[("decision", "approve")],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        alert_of(section(&html, "review"))
            .unwrap()
            .contains("from the next round"),
        "{html}"
    );
    assert_eq!(item_json(&api, &t, &id).await["status"], "in_review");

    // A name, not an id, when someone is listed twice.
    let html = post_refused(
        &lc,
        &format!("{url}/participants"),
        &lcsrf,
        &[("reviewers", &ana), ("approvers", &ana)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let alert = alert_of(section(&html, "participants")).unwrap();
    assert!(
        alert.starts_with("Approvers: Ana Approver is listed as reviewer and approver"),
        "{alert}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_clients_approval_page_shows_the_caption_and_no_internal_comment() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    agencies::update(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        AgencyPatch {
            timezone: Some("Europe/Berlin".into()),
            ..AgencyPatch::default()
        },
    )
    .await
    .unwrap();
    let client = api.create_client(&t, "Harbor Fitness").await;
    let id = in_review(&api, &t, &client, "Launch carousel", &[], &["client"]).await;
    let url = app.url(&format!("/content/{id}"));
    let (c, csrf) = admin(&app).await;

    // In review the caption stays as submitted: no form, a sentence.
    let html = page(&app, &c, &format!("/content/{id}")).await;
    assert!(!section(&html, "caption").contains("action="));
    // Internal and client-facing comments through the page's form.
    post_ok(
        &c,
        &format!("{url}/comments"),
        &csrf,
        &[("body", "INTERNAL-ONLY: the client will hate the font")],
    )
    .await;
    post_ok(
        &c,
        &format!("{url}/comments"),
        &csrf,
        &[
            ("body", "We kept your brand colours throughout."),
            ("for_client", "1"),
        ],
    )
    .await;
    let html = page(&app, &c, &format!("/content/{id}")).await;
    let talk = section(&html, "discussion");
    assert_eq!(talk.matches("Visible to the client</span>").count(), 1);
    assert!(talk.contains("name=\"for_client\" value=\"1\""));

    // The client requests changes (their own words are theirs to see).
    let link = api
        .post(
            &format!("/api/v1/content/{id}/approval-link"),
            &t,
            json!({}),
        )
        .await;
    link.expect(201, "link");
    let link = link.body["url"].as_str().unwrap().to_string();
    let cb = browser();
    let resp = cb
        .post(format!("{link}/decision"))
        .form(&[
            ("name", "Dana Ruiz"),
            ("decision", "request_changes"),
            ("comment", "Please mention the Saturday class"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // The caption, written on the item page, goes with the next round.
    let caption = "Spring is here.\nJoin the Saturday class & bring a friend #spring";
    let to = post_ok(
        &c,
        &format!("{url}/caption"),
        &csrf,
        &[("caption", caption)],
    )
    .await;
    assert!(to.contains("notice=caption_saved"), "{to}");
    let html = page(&app, &c, &to).await;
    assert!(
        section(&html, "caption").contains("Join the Saturday class &#38; bring a friend")
            || section(&html, "caption").contains("Join the Saturday class &amp; bring a friend")
    );
    post_ok(&c, &format!("{url}/submit"), &csrf, &[]).await;

    let (status, page_html) = get(&cb, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page_html.contains("Join the Saturday class &#38; bring a friend #spring")
            || page_html.contains("Join the Saturday class &amp; bring a friend #spring"),
        "{page_html}"
    );
    assert!(page_html.contains("We kept your brand colours throughout."));
    assert!(page_html.contains("Please mention the Saturday class"));
    assert!(!page_html.contains("INTERNAL-ONLY"), "{page_html}");
    assert!(!page_html.contains("the client will hate the font"));
    assert!(!page_html.contains("harbor-fitness_"), "no naming headline");
    assert!(page_html.contains("Planned for <strong>Instagram</strong>; the date is not set yet"));

    // Approved, QA done, scheduled; a caption change reopens approval and
    // the client then sees the planned date in the agency's words.
    let resp = cb
        .post(format!("{link}/decision"))
        .form(&[("name", "Dana Ruiz"), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    api.put(
        &format!("/api/v1/content/{id}/qa"),
        &t,
        json!({"items": {"links_checked": true, "tags_handles": true, "formatting": true, "length": true,
                         "hashtags": true, "legal": true, "disclosure": true}}),
    )
    .await
    .expect(200, "QA");
    // Friday 2026-11-20 09:00 UTC is 10:00 in Berlin.
    api.post(
        &format!("/api/v1/content/{id}/schedule"),
        &t,
        json!({"publish_at": "2026-11-20T09:00:00Z"}),
    )
    .await
    .expect(200, "scheduled");
    let html = page(&app, &c, &format!("/content/{id}")).await;
    assert!(section(&html, "caption").contains("Save and reopen approval"));
    let to = post_ok(
        &c,
        &format!("{url}/caption"),
        &csrf,
        &[("caption", "Spring is here. Saturday class, 9am.")],
    )
    .await;
    assert!(to.contains("notice=approval_reopened"), "{to}");
    let html = page(&app, &c, &to).await;
    assert!(html.contains("data-status=\"in_production\""));
    assert!(html.contains("Approval was reopened (the caption changed after approval)"));
    post_ok(&c, &format!("{url}/submit"), &csrf, &[]).await;
    let (_, page_html) = get(&cb, &link).await;
    assert!(page_html.contains("Spring is here. Saturday class, 9am."));
    assert!(
        page_html.contains("Planned for <strong>Instagram</strong>, <strong>Fri 20 Nov"),
        "{page_html}"
    );
    assert!(page_html.contains("10:00</strong>"), "{page_html}");
    assert!(!page_html.contains("INTERNAL-ONLY"));
    app.shutdown().await;
}

#[tokio::test]
async fn my_work_lists_content_waiting_for_my_review_or_decision() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "Harbor Fitness").await;
    let rey = member(&app, "rey@northwind.test", "Rey Reviewer").await;
    let ana = member(&app, "ana@northwind.test", "Ana Approver").await;
    let id = in_review(&api, &t, &client, "Waiting <b>reel</b>", &[&rey], &[&ana]).await;
    let (ac, acsrf) = login_as(&app, "ana@northwind.test").await;
    let html = page(&app, &ac, "/my-work").await;
    let waiting = section(&html, "content-waiting");
    assert!(
        waiting.contains(&format!("href=\"/content/{id}#review\"")),
        "{waiting}"
    );
    assert!(waiting.contains("Your decision"));
    assert!(
        waiting.contains("Waiting &#60;b&#62;reel&#60;/b&#62;")
            || waiting.contains("Waiting &lt;b&gt;reel&lt;/b&gt;")
    );
    assert!(waiting.contains("Harbor Fitness · v1, round 1"));
    let (rc, _) = login_as(&app, "rey@northwind.test").await;
    let html = page(&app, &rc, "/my-work").await;
    assert!(section(&html, "content-waiting").contains("Your review"));
    // Deciding takes it off Ana's list.
    post_ok(
        &ac,
        &app.url(&format!("/content/{id}/decisions")),
        &acsrf,
        &[("decision", "approve")],
    )
    .await;
    let html = page(&app, &ac, "/my-work").await;
    let waiting = section(&html, "content-waiting");
    assert!(waiting.contains("Nothing is waiting for your review or decision."));
    // The admin is on neither list.
    let (c, _) = admin(&app).await;
    let html = page(&app, &c, "/my-work").await;
    assert!(!section(&html, "content-waiting").contains(&id));
    app.shutdown().await;
}
