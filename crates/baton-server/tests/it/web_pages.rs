//! The web app through a real server and a cookie-keeping HTTP client: login
//! (CSRF, throttling, equal answers), the pages, their forms, tenant
//! isolation, invites, password change and HTML escaping. Runs on SQLite, or
//! on PostgreSQL when `BATON_TEST_POSTGRES_URL` is set.

use crate::common;
use baton_store::Cx;

use baton_core::lifecycle::{ClientEventType, Lifecycle};
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::clients::{self, NewClient};
use baton_store::members::{self, MemberInput};
use baton_store::Actor;
use common::{browser, csrf_of};
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};

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

/// Loads the login page (for its CSRF cookie and field) and submits it.
async fn login(app: &TestApp, c: &Client, email: &str, password: &str) -> Response {
    login_next(app, c, email, password, "").await
}

async fn login_next(
    app: &TestApp,
    c: &Client,
    email: &str,
    password: &str,
    next: &str,
) -> Response {
    let (status, html) = get(c, &app.url("/login")).await;
    assert_eq!(status, StatusCode::OK);
    c.post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", next),
        ])
        .send()
        .await
        .expect("POST /login")
}

/// A browser logged in as the test agency's admin.
async fn admin(app: &TestApp) -> Client {
    let c = browser();
    let resp = login(app, &c, &app.agency.admin.email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "admin login");
    c
}

/// The CSRF token of a logged-in browser (from any page with forms).
async fn session_csrf(app: &TestApp, c: &Client) -> String {
    let (status, html) = get(c, &app.url("/account")).await;
    assert_eq!(status, StatusCode::OK);
    csrf_of(&html)
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

/// A member with a password who is not an admin.
async fn make_member(app: &TestApp, email: &str, password: &str) {
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
}

#[tokio::test]
async fn login_page_renders_the_form() {
    let app = TestApp::spawn().await;
    let resp = browser().get(app.url("/login")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let cookie = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("baton_login="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let html = resp.text().await.unwrap();
    for needle in [
        "data-testid=\"login-form\"",
        "name=\"email\"",
        "type=\"email\"",
        "id=\"email\"",
        "<label for=\"email\">",
        "name=\"password\"",
        "<label for=\"password\">",
        "<button type=\"submit\"",
        "name=\"csrf\"",
        "class=\"skip-link\"",
        "<main id=\"main\"",
    ] {
        assert!(html.contains(needle), "login page lacks {needle}");
    }
    // No inline styles or scripts: the CSP forbids them.
    assert!(!html.contains("style=") && !html.contains("<script>"));

    // Pages need a session: the browser is sent to the login page and back.
    let resp = browser().get(app.url("/team")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login?next=/team");
    app.shutdown().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let c = browser();
    let wrong = login(&app, &c, &app.agency.admin.email, "not the password").await;
    let wrong_status = wrong.status();
    let wrong_html = wrong.text().await.unwrap();
    let unknown = login(&app, &c, "nobody@nowhere.test", "not the password").await;
    let unknown_status = unknown.status();
    let unknown_html = unknown.text().await.unwrap();
    assert_eq!(wrong_status, unknown_status);
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(alert_of(&wrong_html), alert_of(&unknown_html));
    assert_eq!(
        alert_of(&wrong_html).as_deref(),
        Some("Email or password is incorrect.")
    );
    // The email typed is kept, the password is not.
    assert!(unknown_html.contains("value=\"nobody@nowhere.test\""));
    assert!(!unknown_html.contains("not the password"));

    // A deactivated member and a member without a password (invited) are
    // refused with the very same message.
    make_member(&app, "gone@northwind.test", "a long enough password").await;
    let gone = members::find_by_email(&app.state.db, "gone@northwind.test")
        .await
        .unwrap()
        .unwrap();
    members::update(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        &baton_core::types::MemberId::parse(&gone.id).unwrap(),
        members::MemberPatch {
            active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let resp = login(&app, &c, "gone@northwind.test", "a long enough password").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        alert_of(&resp.text().await.unwrap()).as_deref(),
        Some("Email or password is incorrect.")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn sixth_failed_attempt_is_throttled() {
    let app = TestApp::spawn().await;
    let c = browser();
    let email = app.agency.admin.email.clone();
    for i in 0..5 {
        let resp = login(&app, &c, &email, "wrong password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Blocked now, even with the right password.
    let resp = login(&app, &c, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    let html = resp.text().await.unwrap();
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Too many attempts, try again in 15 minutes.")
    );
    assert!(html.contains("data-testid=\"login-form\""));
    app.shutdown().await;
}

/// Failures count per (account, address) and per address, never per account
/// alone; a browser that signed in before is slowed, never locked.
#[tokio::test]
async fn wrong_passwords_from_elsewhere_cannot_lock_a_member_out() {
    use std::sync::Arc;
    let app = TestApp::spawn_with_config(Arc::new(baton_core::clock::SystemClock), |c| {
        c.trusted_proxies =
            baton_server::auth::client_addr::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let email = app.agency.admin.email.clone();
    let laptop_jar = Arc::new(reqwest::cookie::Jar::default());
    let laptop = common::browser_at("203.0.113.10", &laptop_jar);
    let resp = login(&app, &laptop, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "the member signs in");

    // Someone at another address tries passwords until that address is
    // refused for the account, even with the right one.
    let attacker = common::browser_at("198.51.100.66", &Arc::default());
    for i in 0..5 {
        let resp = login(&app, &attacker, &email, "guess").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let resp = login(&app, &attacker, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "that address");

    // The member signs in from anywhere else, even a new browser.
    let phone = common::browser_at("203.0.113.20", &Arc::default());
    let resp = login(&app, &phone, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "another address");

    // And from the attacker's own address (a shared office network) on the
    // laptop that signed in before: its device cookie says the user is real.
    let laptop_in_office = common::browser_at("198.51.100.66", &laptop_jar);
    let resp = login(&app, &laptop_in_office, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "known device");

    // A known device's own wrong passwords slow it down but never lock it.
    for i in 0..5 {
        let resp = login(&app, &laptop, &email, "typo").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "typo {i}");
    }
    let started = std::time::Instant::now();
    let resp = login(&app, &laptop, &email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "slowed, not locked");
    assert!(started.elapsed() >= baton_server::auth::throttle::DEVICE_DELAY);

    // The audit log has the member's real addresses, not the proxy's.
    let ips = common::count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE ip = $1",
        "203.0.113.20",
    )
    .await;
    assert!(ips >= 1, "the forwarded address is recorded");
    app.shutdown().await;
}

#[tokio::test]
async fn login_redirects_and_dashboard_shows_clients() {
    let app = TestApp::spawn().await;
    make_client(&app, &app.agency.id, "Acme Coffee").await;
    let c = browser();
    let resp = login(&app, &c, &app.agency.admin.email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let cookies: Vec<_> = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("baton_session=") && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let (status, html) = get(&c, &app.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"dashboard\""));
    assert!(html.contains("Northwind Social"));
    assert!(html.contains("Acme Coffee"));
    assert!(html.contains("No traffic-control owner"));
    assert!(html.contains("Test Admin"), "member's name in the top bar");
    assert!(html.contains("action=\"/logout\""));

    // `next` is followed when it is a local path, ignored otherwise.
    let c2 = browser();
    let resp = login_next(&app, &c2, &app.agency.admin.email, ADMIN_PASSWORD, "/team").await;
    assert_eq!(location(&resp), "/team");
    let c3 = browser();
    let resp = login_next(
        &app,
        &c3,
        &app.agency.admin.email,
        ADMIN_PASSWORD,
        "//evil.example/",
    )
    .await;
    assert_eq!(location(&resp), "/");
    app.shutdown().await;
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let missing = c
        .post(app.url("/clients"))
        .form(&[("name", "No Token Ltd")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let wrong = c
        .post(app.url("/clients"))
        .form(&[("name", "Wrong Token Ltd"), ("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let logout = c
        .post(app.url("/logout"))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    // The login form without its cookie (a forged cross-site login).
    let resp = browser()
        .post(app.url("/login"))
        .form(&[
            ("csrf", "x"),
            ("email", app.agency.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let all = clients::summaries(&app.state.db, &app.agency.id, true)
        .await
        .unwrap();
    assert!(all.is_empty(), "nothing was created");
    app.shutdown().await;
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let csrf = session_csrf(&app, &c).await;
    let resp = c
        .post(app.url("/clients"))
        .header("Origin", "https://evil.example")
        .form(&[("name", "Cross Site Inc"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("<html"));
    // A look-alike origin that starts with ours is another site, as an
    // Origin and as a Referer.
    let lookalike = format!("{}.evil.example", app.address);
    for (name, value) in [
        ("Origin", lookalike.clone()),
        ("Referer", format!("{lookalike}/clients")),
    ] {
        let resp = c
            .post(app.url("/clients"))
            .header(name, value)
            .form(&[("name", "Look-alike Inc"), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{name}");
    }
    // `Origin: null` (a no-referrer page's own form, or a sandboxed frame)
    // passes only when fetch metadata says it came from our origin.
    for (site, allowed) in [
        (None, false),
        (Some("cross-site"), false),
        (Some("same-origin"), true),
    ] {
        let mut rb = c.post(app.url("/clients")).header("Origin", "null");
        if let Some(site) = site {
            rb = rb.header("sec-fetch-site", site);
        }
        let resp = rb
            .form(&[("name", ""), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status() != StatusCode::FORBIDDEN, allowed, "{site:?}");
    }
    // The same form from our own origin works.
    let resp = c
        .post(app.url("/clients"))
        .header("Origin", app.address.as_str())
        .form(&[("name", "Same Site Inc"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let names: Vec<_> = clients::summaries(&app.state.db, &app.agency.id, true)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.client.name)
        .collect();
    assert_eq!(names, vec!["Same Site Inc"]);
    app.shutdown().await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let c = browser();
    let resp = login(&app, &c, &app.agency.admin.email, ADMIN_PASSWORD).await;
    let session_cookie = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("baton_session="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = session_csrf(&app, &c).await;
    let resp = c
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");
    let resp = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/login"));
    // The old cookie, replayed, is dead on the server too.
    let resp = browser()
        .get(app.url("/"))
        .header("Cookie", session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/login"));
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_client_is_not_found() {
    let app = TestApp::spawn().await;
    let rival = app.other_agency("boss@rival.test").await;
    let theirs = make_client(&app, &rival.id, "Rival Secret Client").await;
    let c = admin(&app).await;
    let csrf = session_csrf(&app, &c).await;
    let (status, html) = get(&c, &app.url(&format!("/clients/{}", theirs.id))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
    assert!(!html.contains("Rival Secret Client"));
    for path in ["events", "team"] {
        let resp = c
            .post(app.url(&format!("/clients/{}/{path}", theirs.id)))
            .form(&[("csrf", csrf.as_str()), ("type", "note"), ("note", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let resp = c
        .post(app.url(&format!("/clients/{}", theirs.id)))
        .form(&[("csrf", csrf.as_str()), ("name", "Renamed")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (status, _) = get(&c, &app.url("/clients/cli_00000000000000000000000000")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&c, &app.url("/clients/%27%20OR%201=1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Unknown pages are the HTML 404 page too; a wrong method is a page.
    let (status, html) = get(&c, &app.url("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<main"));
    let (status, html) = get(&c, &app.url("/logout")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(html.contains("<main"));
    let unchanged = clients::get(&app.state.db, &rival.id, &theirs.id)
        .await
        .unwrap();
    assert_eq!(unchanged.name, "Rival Secret Client");
    app.shutdown().await;
}

#[tokio::test]
async fn wrong_shaped_ids_are_the_404_page() {
    let app = TestApp::spawn().await;
    let ours = make_client(&app, &app.agency.id, "Our Client").await;
    let c = admin(&app).await;
    let csrf = session_csrf(&app, &c).await;
    // Not an id at all (nor text), and ids of the wrong kind (a client id where a
    // content item's, a file's or a link's belongs, a content id for a run).
    for path in [
        "/clients/not-an-id".to_string(),
        "/clients/%FF".to_string(),
        format!("/content/{}", ours.id),
        format!("/clients/{}/files/{}", ours.id, ours.id),
    ] {
        let (status, html) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(html.contains("Page not found"), "GET {path}");
    }
    for path in [
        "/clients/not-an-id/events".to_string(),
        format!("/content/{}/submit", ours.id),
        format!("/clients/{}/links/{}/revoke", ours.id, ours.id),
        format!(
            "/clients/{}/runs/cnt_00000000000000000000000000/pause",
            ours.id
        ),
        "/team/tok_00000000000000000000000000/deactivate".to_string(),
    ] {
        let resp = c
            .post(app.url(&path))
            .form(&[("csrf", csrf.as_str()), ("type", "note"), ("note", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "POST {path}");
        assert!(resp.text().await.unwrap().contains("Page not found"));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn creating_a_client_through_the_form() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/clients/new")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"traffic_control\""));
    let csrf = csrf_of(&html);
    let admin_id = app.agency.admin.id.clone();

    // Invalid input: the form comes back with the message, input kept.
    let resp = c
        .post(app.url("/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "  "),
            ("website", "https://kept.example"),
            ("notes", "Kept notes"),
            ("traffic_control", admin_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert_eq!(alert_of(&html).as_deref(), Some("Name: must not be empty."));
    assert!(html.contains("value=\"https://kept.example\""));
    assert!(html.contains("Kept notes"));
    assert!(html.contains(&format!("value=\"{admin_id}\" selected")));

    let resp = c
        .post(app.url("/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Acme Coffee"),
            ("website", "https://acme.example"),
            ("notes", "Two locations"),
            ("traffic_control", admin_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with("/clients/cli_"), "{to}");
    let (status, html) = get(&c, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Client created."));
    assert!(html.contains("<h1>Acme Coffee</h1>"));
    assert!(html.contains("https://acme.example"));
    assert!(html.contains("aria-current=\"step\""));
    assert!(html.contains("Client created"), "timeline entry");
    let (_, dash) = get(&c, &app.url("/")).await;
    assert!(dash.contains("Acme Coffee"));
    assert!(dash.contains("Traffic control: Test Admin"));

    // Edit details and the team through the page's forms.
    let id = to
        .trim_start_matches("/clients/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let resp = c
        .post(app.url(&format!("/clients/{id}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Acme Coffee Roasters"),
            ("website", ""),
            ("notes", "Two locations"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = c
        .post(app.url(&format!("/clients/{id}/team")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("traffic_control", admin_id.as_str()),
            ("role_account_lead", admin_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let team = clients::team(&app.state.db, &app.agency.id, &id)
        .await
        .unwrap();
    assert_eq!(team.len(), 1);
    assert_eq!(team[0].member_id, admin_id);
    // A team without its traffic-control owner is refused, input kept.
    let resp = c
        .post(app.url(&format!("/clients/{id}/team")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("traffic_control", ""),
            ("role_analyst", admin_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Choose who owns traffic control"));
    assert!(html.contains("<details class=\"disclosure\" open>"));
    let c_now = clients::get(&app.state.db, &app.agency.id, &id)
        .await
        .unwrap();
    assert_eq!(c_now.name, "Acme Coffee Roasters");
    assert_eq!(c_now.website, None);
    app.shutdown().await;
}

#[tokio::test]
async fn impossible_lifecycle_move_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Globex").await;
    let c = admin(&app).await;
    let page = format!("/clients/{}", client.id);
    let (_, html) = get(&c, &app.url(&page)).await;
    let csrf = csrf_of(&html);
    // Only the moves possible from "won" are offered.
    assert!(html.contains("value=\"contract_signed\""));
    assert!(!html.contains("value=\"archived\""));
    assert!(!html.contains("value=\"onboarding_completed\""));

    let resp = c
        .post(app.url(&format!("{page}/events")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("type", "archived"),
            ("note", "kept note"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(
        alert_of(&html).unwrap().contains("cannot take event"),
        "{html}"
    );
    assert!(html.contains("kept note"));
    let after = clients::get(&app.state.db, &app.agency.id, &client.id)
        .await
        .unwrap();
    assert_eq!(after.lifecycle, Lifecycle::Won);
    let events = baton_store::events::list(
        &app.state.db,
        &app.agency.id,
        &baton_store::events::EventFilter {
            client_id: Some(client.id.to_string()),
            ..Default::default()
        },
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(events.items.len(), 1, "only client.created");

    // A bad time is a 422 with the input kept.
    let resp = c
        .post(app.url(&format!("{page}/events")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("type", "contract_signed"),
            ("occurred_at", "last tuesday"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("value=\"last tuesday\""));

    // A possible, back-dated move works and shows on the timeline.
    let resp = c
        .post(app.url(&format!("{page}/events")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("type", ClientEventType::ContractSigned.key()),
            ("occurred_at", "2025-01-02T09:30"),
            ("note", "Signed at the <b>kickoff</b> lunch"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = clients::get(&app.state.db, &app.agency.id, &client.id)
        .await
        .unwrap();
    assert_eq!(after.lifecycle, Lifecycle::Onboarding);
    let (_, html) = get(&c, &app.url(&page)).await;
    assert!(html.contains("Contract signed"));
    assert!(html.contains("Won → Onboarding"));
    assert!(html.contains("back-dated"));
    assert!(
        html.contains("Thu 2 Jan 2025, 09:30"),
        "shown in the agency's zone (UTC), in words, with the year of another year"
    );
    assert!(html.contains("Signed at the &#60;b&#62;kickoff&#60;/b&#62; lunch"));
    app.shutdown().await;
}

#[tokio::test]
async fn timeline_pages_with_an_older_events_link() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Initech").await;
    for i in 0..30 {
        clients::record_event(
            Cx::new(
                &app.state.db,
                &app.agency.id,
                &Actor::cli(),
                app.state.now(),
            ),
            &client.id,
            ClientEventType::Note,
            None,
            Some(&format!("note number {i}")),
        )
        .await
        .unwrap();
    }
    let c = admin(&app).await;
    let (_, html) = get(&c, &app.url(&format!("/clients/{}", client.id))).await;
    assert!(html.contains("note number 29"), "newest first");
    assert!(!html.contains("note number 0<"));
    let marker = "?before=";
    let at = html.find(marker).expect("older events link");
    let href_start = html[..at].rfind('"').unwrap() + 1;
    let href = &html[href_start..at + html[at..].find('"').unwrap()];
    assert!(html.contains("Older events"));
    let (status, older) = get(&c, &app.url(href)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(older.contains("note number 0<"));
    assert!(older.contains("Newest events"));
    let (status, _) = get(&c, &app.url(&format!("/clients/{}?before=abc", client.id))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.shutdown().await;
}

#[tokio::test]
async fn invite_flow_end_to_end() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let (status, html) = get(&c, &app.url("/team")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Role map"));
    assert!(html.contains("Project Manager (Delivery Ops)"));
    let csrf = csrf_of(&html);

    // A bad email comes back with the rest kept.
    let resp = c
        .post(app.url("/team/invite"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "not-an-email"),
            ("name", "Pat Manager"),
            ("roles", "project_manager"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(html.contains("value=\"Pat Manager\""));
    assert!(html.contains("value=\"project_manager\" checked"));

    let resp = c
        .post(app.url("/team/invite"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "pat@northwind.test"),
            ("name", "Pat Manager"),
            ("roles", "project_manager"),
            ("roles", "analyst"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let prefix = format!("{}/invite/", app.address);
    let start = html.find(&prefix).expect("invite link shown");
    let link = html[start..][..html[start..].find('"').unwrap()].to_string();
    assert!(html.contains("Invited, pending"));
    // Shown once: the team page does not show it again.
    let (_, again) = get(&c, &app.url("/team")).await;
    assert!(!again.contains(&link));

    // The invitee opens the link, sets a password and is logged in.
    let invitee = browser();
    let resp = invitee.get(&link).send().await.unwrap();
    assert_eq!(
        resp.headers()
            .get("referrer-policy")
            .map(|v| v.to_str().unwrap()),
        Some("no-referrer"),
        "the token never leaves in a Referer"
    );
    let (status, page) = (resp.status(), resp.text().await.unwrap());
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Join Northwind Social"));
    assert!(page.contains("pat@northwind.test"));
    let invite_csrf = csrf_of(&page);
    // The page's no-referrer makes a browser post with `Origin: null`; one
    // without fetch metadata (older Safari) still gets through on an invite.
    let resp = invitee
        .post(&link)
        .header("Origin", "null")
        .form(&[
            ("csrf", invite_csrf.as_str()),
            ("password", "pat's new password"),
            ("password_confirm", "pat's other password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("do not match"));
    let resp = invitee
        .post(&link)
        .form(&[
            ("csrf", invite_csrf.as_str()),
            ("password", "pat's new password"),
            ("password_confirm", "pat's new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let (status, dash) = get(&invitee, &app.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(dash.contains("data-testid=\"dashboard\""));
    assert!(dash.contains("Pat Manager"));
    assert!(!dash.contains("href=\"/settings\""), "not an admin");
    let pat = members::find_by_email(&app.state.db, "pat@northwind.test")
        .await
        .unwrap()
        .unwrap();
    assert!(pat.has_password);
    assert_eq!(pat.roles.len(), 2);

    // The link worked once.
    let (status, html) = get(&browser(), &link).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("This invite link is no longer valid"));
    let resp = browser()
        .post(&link)
        .form(&[
            ("csrf", invite_csrf.as_str()),
            ("password", "someone else's pw"),
            ("password_confirm", "someone else's pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (status, _) = get(&browser(), &app.url("/invite/made-up-token")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // And they can log in with the password they chose.
    let resp = login(&app, &browser(), "pat@northwind.test", "pat's new password").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    app.shutdown().await;
}

#[tokio::test]
async fn reissue_and_deactivate_from_the_team_page() {
    let app = TestApp::spawn().await;
    let c = admin(&app).await;
    let csrf = session_csrf(&app, &c).await;
    let resp = c
        .post(app.url("/team/invite"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "sam@northwind.test"),
            ("name", "Sam Writer"),
            ("roles", "copywriter"),
        ])
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    let prefix = format!("{}/invite/", app.address);
    let first = &html[html.find(&prefix).unwrap()..];
    let first = first[..first.find('"').unwrap()].to_string();
    let sam = members::find_by_email(&app.state.db, "sam@northwind.test")
        .await
        .unwrap()
        .unwrap();
    let resp = c
        .post(app.url(&format!("/team/{}/reissue", sam.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let second = &html[html.find(&prefix).unwrap()..];
    let second = second[..second.find('"').unwrap()].to_string();
    assert_ne!(first, second);
    assert_eq!(get(&browser(), &first).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&browser(), &second).await.0, StatusCode::OK);

    let resp = c
        .post(app.url(&format!("/team/{}/deactivate", sam.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &app.url("/team?notice=member_deactivated")).await;
    assert!(html.contains("Deactivated"));
    assert_eq!(get(&browser(), &second).await.0, StatusCode::NOT_FOUND);
    // The last admin cannot be deactivated; the page says why.
    let resp = c
        .post(app.url(&format!("/team/{}/deactivate", app.agency.admin.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let resp = c
        .post(app.url(&format!("/team/{}/reactivate", sam.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    app.shutdown().await;
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let email = app.agency.admin.email.clone();
    let laptop = admin(&app).await;
    let phone = admin(&app).await;
    assert_eq!(get(&phone, &app.url("/")).await.0, StatusCode::OK);
    let csrf = session_csrf(&app, &laptop).await;

    // Wrong current password, too short, mismatch: refused with a message.
    for (current, new, confirm, want) in [
        (
            "wrong one here",
            "a brand new password",
            "a brand new password",
            "Current password is incorrect.",
        ),
        (
            ADMIN_PASSWORD,
            "short",
            "short",
            "New password: must be at least 10 characters.",
        ),
        (
            ADMIN_PASSWORD,
            "a brand new password",
            "a different password",
            "The new password and its confirmation do not match.",
        ),
    ] {
        let resp = laptop
            .post(app.url("/account/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{want}");
        assert_eq!(alert_of(&resp.text().await.unwrap()).as_deref(), Some(want));
    }
    assert_eq!(
        get(&phone, &app.url("/")).await.0,
        StatusCode::OK,
        "nothing changed yet"
    );

    let resp = laptop
        .post(app.url("/account/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", ADMIN_PASSWORD),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/account?notice=password_changed");
    let resp = phone.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).starts_with("/login"));
    let (status, html) = get(&laptop, &app.url("/account?notice=password_changed")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Password changed."));
    assert_eq!(
        login(&app, &browser(), &email, ADMIN_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, &browser(), &email, "a brand new password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.shutdown().await;
}

#[tokio::test]
async fn api_tokens_on_the_account_page() {
    let app = TestApp::spawn().await;
    make_member(&app, "casey@northwind.test", "casey's password").await;
    let c = browser();
    let resp = login(&app, &c, "casey@northwind.test", "casey's password").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &app.url("/account")).await;
    assert!(
        !html.contains("value=\"admin\""),
        "non-admins cannot pick admin scope"
    );
    let csrf = csrf_of(&html);
    let resp = c
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Zapier"),
            ("scope", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("value=\"Zapier\""));
    let resp = c
        .post(app.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Zapier"),
            ("scope", "write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let start = html.find("value=\"bt_").expect("secret shown") + "value=\"".len();
    let secret = html[start..][..html[start..].find('"').unwrap()].to_string();
    let api = reqwest::Client::new();
    let me = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // Shown once only.
    let (_, html) = get(&c, &app.url("/account")).await;
    assert!(!html.contains(&secret));
    assert!(html.contains("Zapier"));
    let tokens = baton_store::tokens::list(&app.state.db, &app.agency.id, None)
        .await
        .unwrap();
    let mine = tokens.iter().find(|t| t.name == "Zapier").unwrap();
    let admins = tokens.iter().find(|t| t.name == "test").unwrap();
    // Someone else's token is invisible.
    let resp = c
        .post(app.url(&format!("/account/tokens/{}/revoke", admins.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = c
        .post(app.url(&format!("/account/tokens/{}/revoke", mine.id)))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let me = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    app.shutdown().await;
}

#[tokio::test]
async fn settings_are_for_admins_only() {
    let app = TestApp::spawn().await;
    make_member(&app, "casey@northwind.test", "casey's password").await;
    let c = browser();
    login(&app, &c, "casey@northwind.test", "casey's password").await;
    let csrf = session_csrf(&app, &c).await;
    let (status, html) = get(&c, &app.url("/settings")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Only agency admins"));
    let resp = c
        .post(app.url("/settings"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Hijacked"),
            ("timezone", "UTC"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = c
        .post(app.url("/team/invite"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "x@y.test"),
            ("name", "X"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, team) = get(&c, &app.url("/team")).await;
    assert!(!team.contains("action=\"/team/invite\""));

    // The admin can, and a bad time zone comes back with everything kept.
    let a = admin(&app).await;
    let (status, html) = get(&a, &app.url("/settings")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    let form = |tz: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Northwind Studio".to_string()),
            ("timezone", tz.to_string()),
            ("brand_color", "#aa2255".to_string()),
            ("accent_color", "#0f766e".to_string()),
            ("logo_url", "https://cdn.example/logo.png".to_string()),
            ("white_label", "1".to_string()),
            ("custom_domain", "onboard.northwind.example".to_string()),
        ]
    };
    let resp = a
        .post(app.url("/settings"))
        .form(&form("Mars/Olympus"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html)
        .unwrap()
        .starts_with("Time zone: unknown time zone"));
    assert!(html.contains("value=\"Mars/Olympus\""));
    assert!(html.contains("value=\"Northwind Studio\""));
    assert!(html.contains("value=\"onboard.northwind.example\""));
    let resp = a
        .post(app.url("/settings"))
        .form(&form("Europe/Berlin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let agency = baton_store::agencies::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    assert_eq!(agency.name, "Northwind Studio");
    assert_eq!(agency.timezone, "Europe/Berlin");
    assert!(agency.white_label);
    let (_, dash) = get(&a, &app.url("/")).await;
    assert!(dash.contains("/static/theme.css?b=aa2255&#38;a=0f766e"));
    assert!(dash.contains("src=\"https://cdn.example/logo.png\""));
    app.shutdown().await;
}

#[tokio::test]
async fn html_is_escaped() {
    let app = TestApp::spawn().await;
    let evil = make_client(&app, &app.agency.id, "<script>alert(1)</script>").await;
    let c = admin(&app).await;
    for path in ["/".to_string(), format!("/clients/{}", evil.id)] {
        let (status, html) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}"
        );
        assert!(!html.contains("<script>alert(1)"), "{path}");
    }
    // A quote cannot break out of an attribute either.
    let csrf = session_csrf(&app, &c).await;
    let resp = c
        .post(app.url("/clients"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", ""),
            ("website", "\"><img src=x onerror=alert(1)>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"));
    app.shutdown().await;
}

#[tokio::test]
async fn static_assets_are_served_with_long_cache() {
    let app = TestApp::spawn().await;
    let c = browser();
    for (path, kind) in [
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/static/favicon.svg", "image/svg+xml"),
        ("/static/theme.css?b=ffffff&a=zzz", "text/css"),
    ] {
        let resp = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert!(resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000"));
        let body = resp.text().await.unwrap();
        if path == "/static/app.css" {
            assert!(body.len() < 21 * 1024, "CSS stays small: {}", body.len());
        }
        if path.starts_with("/static/theme.css") {
            // White brand gets dark text; a bad accent falls back.
            assert!(
                body.contains("--brand:#ffffff;--on-brand:#1b1f24"),
                "{body}"
            );
            assert!(body.contains("--accent:#0f766e"), "{body}");
        }
    }
    app.shutdown().await;
}

/// A browser logged in as the admin, and a raw twin on the same cookies that
/// follows no redirect (to look at a form's `303` itself).
async fn admin_pair(app: &TestApp) -> (Client, Client) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = common::browser_with_jar(&jar);
    let resp = login(app, &c, &app.agency.admin.email, ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "admin login");
    (c, common::raw_browser(&jar))
}

#[tokio::test]
async fn a_refused_form_is_shown_once_after_a_redirect() {
    let app = TestApp::spawn().await;
    let (c, raw) = admin_pair(&app).await;
    let (_, html) = get(&c, &app.url("/clients/new")).await;
    let csrf = csrf_of(&html);
    let page = app.url("/clients/new");
    let resp = raw
        .post(app.url("/clients"))
        .header("referer", &page)
        .form(&[
            ("csrf", csrf.as_str()),
            ("nonce", common::nonce_of(&html).as_str()),
            ("name", " "),
            ("notes", "Kept notes"),
        ])
        .send()
        .await
        .unwrap();
    // Post/Redirect/Get: the answer is a redirect to the page the form was
    // on, never a page the browser would post again.
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with("/clients/new?flash="), "{to}");
    assert_eq!(resp.headers()["cache-control"], "no-store");

    // Another member's browser cannot open it: it gets the plain form.
    make_member(&app, "casey@northwind.test", "casey's password!").await;
    let other = browser();
    login(&app, &other, "casey@northwind.test", "casey's password!").await;
    let (status, html) = get(&other, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Kept notes") && alert_of(&html).is_none());

    // The GET shows the refusal with what was typed, once.
    let (status, html) = get(&raw, &app.url(&to)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(alert_of(&html).as_deref(), Some("Name: must not be empty."));
    assert!(html.contains("Kept notes"));
    let (status, html) = get(&raw, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK, "a reload shows the page afresh");
    assert!(!html.contains("Kept notes") && alert_of(&html).is_none());

    // Without a Referer the answer is shown on the dashboard's address.
    let resp = raw
        .post(app.url("/clients"))
        .form(&[("csrf", csrf.as_str()), ("name", "")])
        .send()
        .await
        .unwrap();
    assert!(
        location(&resp).starts_with("/?flash="),
        "{}",
        location(&resp)
    );
    // Nothing readable is kept: the typed text is not in the database.
    let stored = common::stored_bytes(&app).await;
    assert!(!common::contains_bytes(&stored, b"Kept notes"));
    app.shutdown().await;
}

#[tokio::test]
async fn concurrent_submits_of_one_new_client_form_make_one_client() {
    let app = TestApp::spawn().await;
    let (c, raw) = admin_pair(&app).await;
    let (_, html) = get(&c, &app.url("/clients/new")).await;
    let form = vec![
        ("csrf".to_string(), csrf_of(&html)),
        ("nonce".to_string(), common::nonce_of(&html)),
        ("name".to_string(), "Twice Clicked Co".to_string()),
    ];
    let mut answers = Vec::new();
    for _ in 0..8 {
        let (raw, url, form) = (raw.clone(), app.url("/clients"), form.clone());
        answers.push(tokio::spawn(async move {
            let resp = raw.post(url).form(&form).send().await.unwrap();
            (resp.status(), location(&resp))
        }));
    }
    let mut locations = Vec::new();
    for a in answers {
        let (status, to) = a.await.unwrap();
        assert_eq!(status, StatusCode::SEE_OTHER);
        locations.push(to);
    }
    let count = |name: &'static str| {
        let app = &app;
        async move {
            clients::list(&app.state.db, &app.agency.id, None, None, Some(100))
                .await
                .unwrap()
                .items
                .iter()
                .filter(|cl| cl.name == name)
                .count()
        }
    };
    assert_eq!(count("Twice Clicked Co").await, 1, "one client");
    // Every submit is answered with the first one's result.
    assert!(locations[0].starts_with("/clients/cli_"), "{locations:?}");
    assert!(
        locations.iter().all(|l| l == &locations[0]),
        "{locations:?}"
    );
    // Later: Back and submit again answers the same; a new form is new.
    let again = raw
        .post(app.url("/clients"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&again), locations[0]);
    let (_, html) = get(&c, &app.url("/clients/new")).await;
    assert_ne!(
        common::nonce_of(&html),
        form[1].1,
        "each page has its own nonce"
    );
    let fresh = [
        ("csrf", csrf_of(&html)),
        ("nonce", common::nonce_of(&html)),
        ("name", "Twice Clicked Co".to_string()),
    ];
    let resp = raw
        .post(app.url("/clients"))
        .form(&fresh)
        .send()
        .await
        .unwrap();
    assert_ne!(location(&resp), locations[0]);
    assert_eq!(count("Twice Clicked Co").await, 2);
    app.shutdown().await;
}

#[tokio::test]
async fn reloading_an_invite_answer_invites_nobody_twice() {
    let app = TestApp::spawn().await;
    let (c, raw) = admin_pair(&app).await;
    let (_, html) = get(&c, &app.url("/team")).await;
    let form = [
        ("csrf", csrf_of(&html)),
        ("nonce", common::nonce_of(&html)),
        ("email", "pat@northwind.test".to_string()),
        ("name", "Pat Manager".to_string()),
        ("roles", "project_manager".to_string()),
    ];
    let resp = raw
        .post(app.url("/team/invite"))
        .header("referer", app.url("/team"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with("/team?flash="), "{to}");
    let (status, html) = get(&raw, &app.url(&to)).await;
    assert_eq!(status, StatusCode::OK);
    let url_prefix = format!("{}/invite/", app.address);
    assert!(html.contains(&url_prefix), "the invite URL is shown once");
    // Reload: the page afresh, no URL, nothing sent again.
    let (_, html) = get(&raw, &app.url(&to)).await;
    assert!(!html.contains(&url_prefix));
    // Back and submit again: answered with the first answer, one invite.
    let resp = raw
        .post(app.url("/team/invite"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&resp), to);
    let invited = members::list(&app.state.db, &app.agency.id, None, Some(100))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|m| m.email == "pat@northwind.test")
        .count();
    assert_eq!(invited, 1);
    let events: i64 = common::count(
        &app,
        "SELECT COUNT(*) FROM events WHERE type = 'member.invited' AND agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(events, 1);
    app.shutdown().await;
}

#[tokio::test]
async fn contract_ended_from_won_asks_first_and_an_admin_corrects_it() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Acme Coffee").await;
    let api = common::Api::new(&app);
    api.post(
        &format!("/api/v1/clients/{}/onboarding-links", client.id),
        &app.agency.token,
        serde_json::json!({"requests": [{"platform": "meta_page"}, {"platform": "instagram"}]}),
    )
    .await
    .expect(201, "link");
    let (c, _raw) = admin_pair(&app).await;
    let page_url = app.url(&format!("/clients/{}", client.id));
    let (_, html) = get(&c, &page_url).await;
    let csrf = csrf_of(&html);
    assert!(
        !html.contains("data-testid=\"correct-move\""),
        "no move yet"
    );

    // The move skips two stages and withdraws work: a page says so first.
    let resp = c
        .post(app.url(&format!("/clients/{}/events", client.id)))
        .header("referer", &page_url)
        .form(&[("csrf", csrf.as_str()), ("type", "contract_ended")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Record “Contract ended” for Acme Coffee?"),
        "{html}"
    );
    assert!(html.contains("skip Onboarding and Active"));
    assert!(html.contains("withdraw <strong>2</strong> access requests"));
    let stage = || async {
        clients::get(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .lifecycle
    };
    assert_eq!(stage().await, Lifecycle::Won, "nothing moved yet");
    // Confirmed: it moves.
    let resp = c
        .post(app.url(&format!("/clients/{}/events", client.id)))
        .form(&[
            ("csrf", csrf.as_str()),
            ("nonce", &common::nonce_of(&html)),
            ("type", "contract_ended"),
            ("confirmed", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(stage().await, Lifecycle::Offboarding);

    // A non-admin sees the offer but no form.
    make_member(&app, "casey@northwind.test", "casey's password!").await;
    let other = browser();
    login(&app, &other, "casey@northwind.test", "casey's password!").await;
    let (_, html) = get(&other, &page_url).await;
    assert!(html.contains("data-testid=\"correct-move\""));
    assert!(html.contains("An agency admin can correct it."));
    let resp = other
        .post(app.url(&format!("/clients/{}/events", client.id)))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("type", "reopened"),
            ("note", "I think it is wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(stage().await, Lifecycle::Offboarding);

    // The admin corrects it with a reason: back to Won, requests back.
    let (_, html) = get(&c, &page_url).await;
    let card = &html[html.find("data-testid=\"correct-move\"").unwrap()..];
    assert!(card.contains("from <strong>Won</strong> to <strong>Offboarding</strong>"));
    let resp = c
        .post(app.url(&format!("/clients/{}/events", client.id)))
        .header("referer", &page_url)
        .form(&[("csrf", csrf.as_str()), ("type", "reopened"), ("note", " ")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("say why the last move is corrected"));
    let resp = c
        .post(app.url(&format!("/clients/{}/events", client.id)))
        .form(&[
            ("csrf", csrf.as_str()),
            ("type", "reopened"),
            ("note", "Ended the wrong client"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        format!("/clients/{}?notice=move_corrected#timeline", client.id)
    );
    assert_eq!(stage().await, Lifecycle::Won);
    let reqs =
        baton_store::access_requests::list_for_client(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap();
    assert!(reqs
        .iter()
        .all(|r| r.status == baton_core::access::AccessStatus::Requested));
    let (_, html) = get(&c, &page_url).await;
    assert!(html.contains("Last move corrected"), "on the timeline");
    assert!(
        !html.contains("data-testid=\"correct-move\""),
        "a correction is not corrected"
    );
    app.shutdown().await;
}
