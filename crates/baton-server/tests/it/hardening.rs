//! The edges an operator relies on: over-long URLs, HSTS behind https, the
//! metrics token and its bounded labels, offsets that exist.

use crate::common;

use std::sync::Arc;

use baton_core::clock::SystemClock;
use baton_server::testing::TestApp;
use common::Api;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn an_over_long_url_is_a_414_problem() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let long = format!("/api/v1/clients?lifecycle={}", "a".repeat(9000));
    let r = api.get(&long, &app.agency.token).await;
    r.problem(414, "long URL");
    assert!(r.text.contains("at most 8192 bytes"), "{}", r.text);
    // Just under the limit is read as usual (and refused for its value).
    let fine = format!("/api/v1/clients?lifecycle={}", "a".repeat(8000));
    api.get(&fine, &app.agency.token)
        .await
        .problem(422, "long but allowed");
    app.shutdown().await;
}

#[tokio::test]
async fn hsts_only_behind_an_https_public_url() {
    let app = TestApp::spawn().await;
    let r = Api::new(&app).get("/healthz", "").await;
    assert!(
        r.header("strict-transport-security").is_none(),
        "plain http"
    );
    app.shutdown().await;

    let app = TestApp::spawn_with_config(Arc::new(SystemClock), |c| {
        c.public_url = "https://ops.agency.example".into();
    })
    .await;
    let api = Api::new(&app);
    for path in ["/healthz", "/login", "/api/v1/clients", "/o/nothing"] {
        let r = api.get(path, "").await;
        assert_eq!(
            r.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_take_a_token_when_one_is_set_and_keep_labels_bounded() {
    let app = TestApp::spawn_with_config(Arc::new(SystemClock), |c| {
        c.metrics_token = Some("metrics-token-0123456789".into());
    })
    .await;
    let api = Api::new(&app);
    api.get("/metrics", "").await.expect(401, "no token");
    api.get("/metrics", "wrong-token-0123456789")
        .await
        .expect(401, "wrong token");
    // Methods nobody defined are counted as one label.
    for m in ["PROPFIND", "XYZZY", "FOO123"] {
        api.send(api.request(
            Method::from_bytes(m.as_bytes()).unwrap(),
            "/api/v1/clients",
            "",
        ))
        .await;
    }
    let r = api.get("/metrics", "metrics-token-0123456789").await;
    r.expect(200, "with the token");
    assert!(r.text.contains("method=\"other\""), "{}", r.text);
    for m in ["PROPFIND", "XYZZY", "FOO123"] {
        assert!(!r.text.contains(m), "{m} is not a label");
    }
    // Routes are templates, never raw paths.
    api.get("/api/v1/clients/cli_does_not_exist", &app.agency.token)
        .await;
    let r = api.get("/metrics", "metrics-token-0123456789").await;
    assert!(r.text.contains("route=\"/api/v1/clients/{id}\""));
    assert!(!r.text.contains("cli_does_not_exist"));
    app.shutdown().await;

    // Without a token configured, /metrics stays open.
    let app = TestApp::spawn().await;
    Api::new(&app).get("/metrics", "").await.expect(200, "open");
    app.shutdown().await;
}

/// The value of an unlabelled counter in a Prometheus text page.
fn counter(page: &str, name: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in:\n{page}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_count_writes_and_the_commits_they_shared() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let page = api.get("/metrics", "").await.text;
    let (writes, batches) = (
        counter(&page, "baton_writes_committed_total"),
        counter(&page, "baton_write_batches_total"),
    );
    assert!(batches <= writes);
    let r = api
        .post("/api/v1/clients", t, json!({"name": "Acme Coffee"}))
        .await;
    r.expect(201, "create");
    api.post(
        &format!("/api/v1/clients/{}/events", r.id()),
        t,
        json!({"type": "note", "note": "kick-off call"}),
    )
    .await
    .expect(201, "event");
    let page = api.get("/metrics", "").await.text;
    // Two writes, one after the other: each its own COMMIT.
    assert_eq!(counter(&page, "baton_writes_committed_total"), writes + 2);
    assert_eq!(counter(&page, "baton_write_batches_total"), batches + 2);
    app.shutdown().await;
}

#[tokio::test]
async fn offsets_beyond_eighteen_hours_are_refused() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Offsets").await;
    let r = api
        .event(
            t,
            &client,
            json!({"type": "contract_signed", "occurred_at": "2026-11-01T09:00:00+19:00"}),
        )
        .await;
    r.problem(422, "+19:00");
    assert!(r.text.contains("occurred_at"), "{}", r.text);
    api.event(
        t,
        &client,
        json!({"type": "contract_signed", "occurred_at": "2026-11-01T09:00:00+14:00"}),
    )
    .await
    .expect(201, "+14:00 (Kiribati) is real");
    app.shutdown().await;
}

/// The reminder pass runs on every server of a PostgreSQL deployment (here:
/// three passes at once on one database, beside the app's own worker).
/// Each due reminder, and each stop of a schedule, is claimed inside its
/// transaction: one audit entry each, whatever the number of servers.
#[tokio::test]
async fn reminder_passes_on_several_servers_write_once() {
    use baton_core::clock::ManualClock;
    const T0: i64 = 1_795_856_400_000; // 2026-11-28T09:00:00Z
    const DAY: i64 = 86_400_000;
    let clock = ManualClock::new(T0);
    let app = TestApp::spawn_with_clock(Arc::new(clock.clone())).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let mut required = Vec::new();
    for name in ["Harbor Fitness", "Acme Coffee", "Bluebird Roasters"] {
        let client = api.create_client(t, name).await;
        let r = api
            .post(
                &format!("/api/v1/clients/{client}/onboarding-links"),
                t,
                json!({"requests": [{"platform": "meta_page"}, {"platform": "pinterest", "required": false}]}),
            )
            .await;
        r.expect(201, "link");
        required.push(r.body["requests"][0]["id"].as_str().unwrap().to_string());
    }
    let audited = |action: &'static str| {
        let app = &app;
        async move {
            common::count(
                app,
                "SELECT COUNT(*) FROM audit_log WHERE action = $1",
                action,
            )
            .await
        }
    };
    let passes = || async {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let state = app.state.clone();
            set.spawn(async move { baton_server::reminders::run_once(&state).await.unwrap() });
        }
        let mut sent = 0;
        while let Some(n) = set.join_next().await {
            sent += n.unwrap();
        }
        sent
    };

    clock.advance(3 * DAY);
    let sent = passes().await;
    assert!(sent <= 3, "{sent}");
    common::settle(&app).await;
    assert_eq!(
        audited("onboarding.reminder_sent").await,
        3,
        "one reminder per link"
    );

    // The clients leave delivery behind the schedule's back (as a direct
    // database change would): every pass finds the links not live, and
    // each schedule is stopped once.
    common::execute_raw(&app, "UPDATE clients SET lifecycle = 'archived'").await;
    clock.advance(7 * DAY);
    passes().await;
    common::settle(&app).await;
    assert_eq!(
        audited("onboarding.reminders_stopped").await,
        3,
        "one stop per link"
    );
    assert_eq!(
        audited("onboarding.reminder_sent").await,
        3,
        "no reminder more"
    );
    app.shutdown().await;
}
