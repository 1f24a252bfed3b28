//! Reminders by email: with SMTP configured and a contact on the link, a
//! reminder becomes an `email` outbox job that the worker delivers after
//! commit; an unreachable server leaves the job for a retry. A small fake
//! SMTP server on 127.0.0.1 records what arrives.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use baton_core::clock::{Clock, ManualClock, SystemClock};
use baton_server::email::SmtpSettings;
use baton_server::testing::{self, Inbox, TestApp};
use common::Api;
use serde_json::json;
use tokio::net::TcpListener;

/// The fake relay, answering at once.
async fn fake_smtp() -> (u16, Inbox) {
    testing::fake_smtp(Duration::ZERO).await
}

fn fake_smtp_on(listener: TcpListener) -> (u16, Inbox) {
    testing::fake_smtp_on(listener, Duration::ZERO)
}

async fn app_with_smtp(port: u16) -> TestApp {
    app_with_smtp_and_clock(port, Arc::new(SystemClock)).await
}

async fn app_with_smtp_and_clock(port: u16, clock: Arc<dyn Clock>) -> TestApp {
    TestApp::spawn_with_config(clock, |c| {
        c.smtp = Some(SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "Baton <baton@northwind.test>".into(),
        })
    })
    .await
}

async fn link_with_contact(api: &Api, t: &str, contact: Option<&str>) -> String {
    let client = api.create_client(t, "Harbor Fitness").await;
    let mut body = json!({"requests": [{"platform": "meta_page"}, {"platform": "ga4"}]});
    if let Some(c) = contact {
        body["contact_email"] = json!(c);
    }
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            body,
        )
        .await;
    r.expect(201, "link");
    assert_eq!(r.body["contact_email"], json!(contact));
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_reminder_is_emailed_to_the_links_contact_after_commit() {
    let (port, inbox) = fake_smtp().await;
    let app = app_with_smtp(port).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = link_with_contact(&api, t, Some("jess@harbor.example")).await;
    let r = api
        .post(
            &format!("/api/v1/onboarding-links/{link}/remind"),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "remind");
    assert_eq!(r.body["channel"], "email");
    // The worker's pass sends it.
    app.drain_outbox().await;
    assert!(
        !inbox.lock().unwrap().is_empty(),
        "no email arrived at the fake SMTP server"
    );
    let mail = inbox.lock().unwrap()[0].clone();
    assert!(mail.contains("To: jess@harbor.example"), "{mail}");
    assert!(
        mail.contains("Northwind Social"),
        "sender name and subject: {mail}"
    );
    assert!(mail.contains("Harbor Fitness"), "{mail}");
    assert!(
        mail.contains("Facebook Page") || mail.contains("Facebook"),
        "{mail}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn without_a_contact_or_smtp_the_reminder_is_ready_to_copy() {
    let (port, inbox) = fake_smtp().await;
    let app = app_with_smtp(port).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = link_with_contact(&api, t, None).await;
    let r = api
        .post(
            &format!("/api/v1/onboarding-links/{link}/remind"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(r.body["channel"], "copy");
    // a bad contact address is refused up front
    let client = api.create_client(t, "Bad Contact").await;
    api.post(
        &format!("/api/v1/clients/{client}/onboarding-links"),
        t,
        json!({"requests": [{"platform": "ga4"}], "contact_email": "not-an-address"}),
    )
    .await
    .problem(422, "contact_email");
    app.shutdown().await;

    // No SMTP at all: a contact does not make it email.
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = link_with_contact(&api, t, Some("jess@harbor.example")).await;
    let r = api
        .post(
            &format!("/api/v1/onboarding-links/{link}/remind"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(r.body["channel"], "copy");
    assert!(inbox.lock().unwrap().is_empty());
    app.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_smtp_server_leaves_the_email_for_a_retry() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = app_with_smtp(port).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = link_with_contact(&api, t, Some("jess@harbor.example")).await;
    api.post(
        &format!("/api/v1/onboarding-links/{link}/remind"),
        t,
        json!({}),
    )
    .await
    .expect(200, "remind");
    app.drain_outbox().await;
    let row: Option<(i64, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT attempts, last_error, done_at FROM outbox WHERE kind = 'email'")
            .fetch_optional(app.state.db.reader())
            .await
            .unwrap();
    let Some((attempts, Some(error), done)) = row else {
        panic!("the email job was never attempted: {row:?}");
    };
    assert_eq!(attempts, 1, "tried once, then left for a retry");
    assert_eq!(done, None, "a failed email is not marked sent");
    assert!(
        error.contains("SMTP"),
        "the stored error says what failed: {error}"
    );
    app.shutdown().await;
}

/// Runs the worker's passes, then returns what the fake server holds,
/// which must be at least `n` messages.
async fn wait_for_mail(app: &TestApp, inbox: &Inbox, n: usize) -> Vec<String> {
    app.drain_outbox().await;
    let mail = inbox.lock().unwrap().clone();
    assert!(mail.len() >= n, "{n} emails did not arrive: {mail:?}");
    mail
}

/// A message's body as text, undoing quoted-printable soft line breaks.
fn body_text(mail: &str) -> String {
    mail.replace("=\n", "").replace("=3D", "=")
}

const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z
const DAY: i64 = 86_400_000;

#[tokio::test]
async fn scheduled_reminder_emails_carry_the_link_and_stop_with_the_required_requests() {
    let (port, inbox) = fake_smtp().await;
    let clock = ManualClock::new(T0);
    let app = app_with_smtp_and_clock(port, Arc::new(clock.clone())).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            json!({
                "requests": [{"platform": "meta_page"}, {"platform": "pinterest", "required": false}],
                "contact_email": "jess@harbor.example"
            }),
        )
        .await;
    r.expect(201, "link");
    let url = r.body["url"].as_str().unwrap().to_string();
    let meta = r.body["requests"][0]["id"].as_str().unwrap().to_string();
    let emails = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT payload FROM outbox WHERE kind = 'email' ORDER BY id",
        )
        .fetch_all(app.state.db.reader())
        .await
        .unwrap()
    };

    // Due: the email carries the link; the queued job never held it.
    clock.advance(3 * DAY);
    baton_server::reminders::run_once(&app.state).await.unwrap();
    let mail = body_text(&wait_for_mail(&app, &inbox, 1).await[0]);
    assert!(mail.contains(&url), "{mail}");
    assert!(mail.contains("Optional, if you can"), "{mail}");
    // A stable Message-ID, made from the outbox job: a retry is the same message.
    let job_id: String = sqlx::query_scalar("SELECT id FROM outbox WHERE kind = 'email'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert!(
        mail.to_ascii_lowercase().contains(&format!(
            "message-id: <{}.baton@",
            job_id.to_ascii_lowercase()
        )),
        "{mail}"
    );
    let queued = emails().await;
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].contains(&url) && !queued[0].contains(&url[url.len() - 43..]));
    assert!(
        queued[0].contains("\\u0001onboarding-link\\u0001"),
        "{}",
        queued[0]
    );

    // The required request granted, the optional one still waiting: no
    // more reminders.
    api.post(
        &format!("/api/v1/access-requests/{meta}/grant"),
        t,
        json!({}),
    )
    .await
    .expect(200, "grant");
    clock.advance(4 * DAY);
    baton_server::reminders::run_once(&app.state).await.unwrap();
    assert_eq!(emails().await.len(), 1, "nothing about the optional one");
    let link = api
        .get(&format!("/api/v1/onboarding-links/{}", r.id()), t)
        .await;
    assert!(link.body["next_reminder_at"].is_null(), "{}", link.text);

    // The required one fails: reminders start again and name it as needed.
    api.post(
        &format!("/api/v1/access-requests/{meta}/fail"),
        t,
        json!({"reason": "the Page is not in the portfolio"}),
    )
    .await
    .expect(200, "fail");
    clock.advance(3 * DAY);
    // (The app's own worker may send it first: either way one email.)
    baton_server::reminders::run_once(&app.state).await.unwrap();
    let mail = body_text(&wait_for_mail(&app, &inbox, 2).await[1]);
    assert!(mail.contains("the Page is not in the portfolio"), "{mail}");
    assert!(mail.contains(&url), "{mail}");
    assert_eq!(emails().await.len(), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn a_queued_reminder_whose_link_cannot_be_made_again_is_sent_without_it() {
    // The SMTP server is down when the reminder is made…
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = std_listener.local_addr().unwrap().port();
    drop(std_listener);
    let clock = ManualClock::new(T0);
    let app = app_with_smtp_and_clock(port, Arc::new(clock.clone())).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = link_with_contact(&api, t, Some("jess@harbor.example")).await;
    let r = api
        .post(
            &format!("/api/v1/onboarding-links/{link}/remind"),
            t,
            json!({}),
        )
        .await;
    r.expect(200, "remind");
    assert_eq!(r.body["includes_link"], true);
    app.drain_outbox().await;
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE kind = 'email'")
        .fetch_one(app.state.db.reader())
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the email was attempted once");
    // …then the server's key no longer makes the link's token (simulated by
    // another salt), and the server comes back.
    common::execute_raw(
        &app,
        &format!("UPDATE onboarding_links SET token_salt = 'other' WHERE id = '{link}'"),
    )
    .await;
    let (_, inbox) = fake_smtp_on(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    clock.advance(2 * 60_000);
    let mail = body_text(&wait_for_mail(&app, &inbox, 1).await[0]);
    assert!(
        mail.contains("the onboarding link we sent you on"),
        "{mail}"
    );
    assert!(!mail.contains("/o/") && !mail.contains('\u{1}'), "{mail}");
    app.shutdown().await;
}
