//! The KPI and scorecard pages through a real server and a cookie-keeping
//! client: the dashboard's inline SVG trends, the definitions page, the CSV
//! downloads, shipping a week from the form (a refusal shown again with its
//! sentence, single-use nonce), measurables added, edited and filled, an
//! action marked done from My work, a planned day moved, and another
//! agency's client as the 404 page.

use crate::common;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::{browser, csrf_of, nonce_of, page, signed_in_admin};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};

/// Submits a form as a browser would: a refusal comes back as the page
/// shown once (the flash the test browser follows); a success is a 303 to
/// the page, which is then read. Returns the final status, URL and page.
async fn post(c: &Client, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(url).form(fields).send().await.expect("POST");
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let next = r.url().join(&to).unwrap();
        let r = c.get(next.clone()).send().await.expect("GET after POST");
        let s = r.status();
        return (s, to, r.text().await.unwrap());
    }
    let (s, at) = (r.status(), r.url().to_string());
    (s, at, r.text().await.unwrap())
}

#[tokio::test]
async fn kpis_trends_and_definitions_read_without_javascript() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let (s, dash) = page(&c, &app.url("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(dash.contains("<svg"), "inline SVG trend chart");
    assert!(dash.contains("data-testid=\"kpi-trends\""));
    assert!(dash.contains("href=\"/kpis/definitions\""));
    assert!(
        dash.contains("aria-label=\"Ops KPIs per week\""),
        "the table beneath"
    );
    let (s, defs) = page(&c, &app.url("/kpis/definitions")).await;
    assert_eq!(s, StatusCode::OK);
    for key in [
        "time_to_verified_access",
        "time_to_first_value",
        "cycle_time",
        "rework_rate",
        "on_time_delivery_rate",
        "incident_count",
    ] {
        assert!(defs.contains(&format!("id=\"{key}\"")), "{key}");
    }
    assert!(defs.contains("Median calendar days from a content item&#39;s brief approval"));
    let (s, kpis) = page(&c, &app.url("/kpis?days=90")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(kpis.contains("data-kpi=\"cycle_time\""));
    assert!(kpis.contains("Last 90 days"));

    // Six default measurables × 13 weeks, and a header.
    for (path, lines) in [
        ("/kpis?format=csv", 7),
        ("/kpis/weekly.csv", 14),
        ("/scorecard.csv", 79),
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/csv"), "{path}: {ct}");
        let body = r.text().await.unwrap();
        assert_eq!(
            body.split("\r\n").filter(|l| !l.is_empty()).count(),
            lines,
            "{path}: {body}"
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_week_ships_from_the_form_and_its_actions_are_done_from_my_work() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let me = app.agency.admin.id.clone();
    let (s, html) = page(&c, &app.url("/scorecard")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"ship-form\""));
    assert!(
        html.contains("Time to verified access"),
        "the default measurables"
    );
    let week = html
        .split("name=\"week\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the week in the form")
        .to_string();
    let due = {
        let w = baton_core::scorecard::IsoWeek::parse(&week).unwrap();
        w.sunday().to_string()
    };
    let csrf = csrf_of(&html);
    let nonce = nonce_of(&html);
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("nonce", &nonce),
        ("week", &week),
        ("client", ""),
        ("insight_1", "Reels reach twice the carousels"),
        ("insight_2", ""),
        ("insight_3", "Late posts waited on the client"),
    ];
    for (t, o, d) in [
        ("action_1_text", "action_1_owner", "action_1_due"),
        ("action_2_text", "action_2_owner", "action_2_due"),
        ("action_3_text", "action_3_owner", "action_3_due"),
    ] {
        fields.push((t, "Try a carousel recap"));
        fields.push((o, &me));
        fields.push((d, &due));
    }
    // A blank insight: the form again, with the rule.
    let (_, _, html) = post(&c, &app.url("/scorecard/ship"), &fields).await;
    assert!(html.contains("insight 2 is empty"), "{html}");
    assert!(
        html.contains("Reels reach twice the carousels"),
        "typed text kept"
    );
    let nonce = nonce_of(&html);
    fields[1] = ("nonce", &nonce);
    fields[5] = ("insight_2", "First-round approvals named the offer");
    let (s, to, shipped) = post(&c, &app.url("/scorecard/ship"), &fields).await;
    assert_eq!(s, StatusCode::OK, "followed to the scorecard");
    assert!(to.contains("notice=scorecard_shipped"), "{to}");
    assert!(
        shipped.contains("data-testid=\"scorecard-shipped\""),
        "{shipped}"
    );
    assert!(shipped.contains("First-round approvals named the offer"));
    assert!(
        !shipped.contains("data-testid=\"ship-form\""),
        "shipped once"
    );

    // The owner's My work lists the three actions; one is marked done.
    let (_, work) = page(&c, &app.url("/my-work")).await;
    assert_eq!(work.matches("data-testid=\"scorecard-action\"").count(), 3);
    let action = work
        .split("action=\"/actions/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("an action form")
        .to_string();
    let csrf = csrf_of(&work);
    let (_, to, work) = post(
        &c,
        &app.url(&format!("/actions/{action}/done")),
        &[("csrf", &csrf), ("back", "my-work")],
    )
    .await;
    assert!(to.starts_with("/my-work?"), "{to}");
    assert!(work.contains("Action marked done"), "{work}");
    assert_eq!(work.matches("data-testid=\"scorecard-action\"").count(), 2);

    // A manual measurable added, its goal changed, a value entered.
    let (_, html) = page(&c, &app.url("/scorecard")).await;
    let csrf = csrf_of(&html);
    let nonce = nonce_of(&html);
    let back = format!("week={week}");
    let (_, _, html) = post(
        &c,
        &app.url("/scorecard/measurables"),
        &[
            ("csrf", &csrf),
            ("nonce", &nonce),
            ("back", &back),
            ("name", "Posts published"),
            ("source", "manual"),
            ("owner", &me),
            ("unit", "posts"),
            ("comparator", ">="),
            ("goal", "12"),
            ("goal_max", ""),
        ],
    )
    .await;
    assert!(html.contains("Measurable saved."), "{html}");
    assert!(html.contains("green when at least 12 posts, red otherwise"));
    let id = html
        .split("action=\"/scorecard/measurables/msr_")
        .filter_map(|r| r.split('"').next())
        .find(|r| r.ends_with("/value"))
        .map(|r| format!("msr_{}", r.trim_end_matches("/value")))
        .expect("the manual measurable's value form");
    let csrf = csrf_of(&html);
    let (_, _, html) = post(
        &c,
        &app.url(&format!("/scorecard/measurables/{id}/value")),
        &[
            ("csrf", &csrf),
            ("back", &back),
            ("week", &week),
            ("value", "nine"),
        ],
    )
    .await;
    assert!(html.contains("Value: write a number"), "{html}");
    let (_, _, html) = post(
        &c,
        &app.url(&format!("/scorecard/measurables/{id}/value")),
        &[
            ("csrf", &csrf),
            ("back", &back),
            ("week", &week),
            ("value", "9"),
        ],
    )
    .await;
    assert!(html.contains("Value saved."), "{html}");
    let (_, _, html) = post(
        &c,
        &app.url(&format!("/scorecard/measurables/{id}")),
        &[
            ("csrf", &csrf),
            ("back", &back),
            ("owner", &me),
            ("comparator", "range"),
            ("goal", "8"),
            ("goal_max", "10"),
        ],
    )
    .await;
    assert!(
        html.contains("green when between 8 posts and 10 posts"),
        "{html}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_planned_day_moves_and_another_agencys_client_is_not_found() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let api = common::Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Harbor Fitness").await;
    let item = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            serde_json::json!({"title": "Reel", "channel": "instagram", "planned_on": "2030-01-10"}),
        )
        .await;
    item.expect(201, "item");
    let id = item.id();
    let (_, html) = page(&c, &app.url(&format!("/content/{id}"))).await;
    assert!(
        html.contains("value=\"2030-01-10\""),
        "the planned day in the form"
    );
    let csrf = csrf_of(&html);
    let (_, _, html) = post(
        &c,
        &app.url(&format!("/content/{id}/plan")),
        &[
            ("csrf", &csrf),
            ("planned_on", "2030-01-17"),
            ("reason", "Client holiday"),
        ],
    )
    .await;
    assert!(html.contains("Planned day saved."), "{html}");
    assert!(html.contains("value=\"2030-01-17\""));
    let got = api.get(&format!("/api/v1/content/{id}"), t).await;
    assert_eq!(got.body["planned_on"], "2030-01-17");

    let rival = app.other_agency("admin@rival.test").await;
    let rc = browser();
    let (_, html) = page(&rc, &app.url("/login")).await;
    let r = rc
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", rival.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, _) = page(&rc, &app.url(&format!("/scorecard?client={client}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page(&rc, &app.url(&format!("/kpis/weekly.csv?client={client}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page(&rc, &app.url(&format!("/scorecard.csv?client={client}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.shutdown().await;
}
