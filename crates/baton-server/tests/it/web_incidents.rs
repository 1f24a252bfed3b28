//! The incident pages through a real server and a cookie-keeping client:
//! "Report incident" in the top bar, the report form (single-use nonce,
//! Post/Redirect/Get), the incident page's triage and timeline forms, a
//! refused form shown again with its sentence, the publishing-error entry
//! from a content item, and another agency's incident as the 404 page.

use crate::common;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::{browser, csrf_of, nonce_of, page, signed_in_admin};
use reqwest::header::LOCATION;
use reqwest::StatusCode;

#[tokio::test]
async fn an_incident_is_reported_triaged_and_noted_through_the_pages() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let (s, dash) = page(&c, &app.url("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(dash.contains("href=\"/incidents/new\""), "top bar action");
    let (s, form) = page(&c, &app.url("/incidents/new")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("Triage within 60 minutes"),
        "definitions where the choice is made"
    );
    let csrf = csrf_of(&form);
    let nonce = nonce_of(&form);
    let fields = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("title", "Competitor mention in our ad <b>"),
        ("severity", "sev2"),
        ("source", "brand_risk"),
        ("client", ""),
        ("content", ""),
        ("summary", "Spotted by the client"),
        ("occurred_at", ""),
    ];
    let r = c
        .post(app.url("/incidents"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with("/incidents/inc_"), "{to}");
    // A reload of the same form writes nothing twice.
    let again = c
        .post(app.url("/incidents"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let n = common::count(
        &app,
        "SELECT COUNT(*) FROM incidents WHERE agency_id = $1",
        &app.agency.id,
    )
    .await;
    assert_eq!(n, 1, "one incident for one rendered form");

    let (s, html) = page(&c, &app.url(&to)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Competitor mention in our ad"), "shown");
    assert!(!html.contains("ad <b>"), "escaped");
    assert!(html.contains("Triage due"), "{html}");
    let id = to
        .trim_start_matches("/incidents/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&html);
    // A refused triage (no plan) is the page again with the sentence.
    let r = c
        .post(app.url(&format!("/incidents/{id}/triage")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("severity", "sev2"),
            ("lead", app.agency.admin.id.as_str()),
            ("plan", " "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Response plan: must not be empty."));
    let r = c
        .post(app.url(&format!("/incidents/{id}/triage")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("severity", "sev1"),
            ("lead", app.agency.admin.id.as_str()),
            ("plan", "Pause the campaign"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .post(app.url(&format!("/incidents/{id}/notes")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("note", "Campaign paused"),
            ("at", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&c, &app.url(&format!("/incidents/{id}"))).await;
    assert!(html.contains("Triaged on time"), "{html}");
    assert!(html.contains("Campaign paused"));
    assert!(html.contains("sev1"));
    // Out of order: mitigating twice is a 409 with the allowed moves.
    let bad = c
        .post(app.url(&format!("/incidents/{id}/resolve")))
        .form(&[("csrf", csrf.as_str()), ("note", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::CONFLICT);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("allowed: mitigate, cancel"));
    let (_, log) = page(&c, &app.url("/incidents")).await;
    assert!(log.contains(&id));

    // Another agency's admin gets the 404 page.
    let rival = app.other_agency("admin@rival.test").await;
    let rc = browser();
    let (_, html) = page(&rc, &app.url("/login")).await;
    rc.post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", rival.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let (s, _) = page(&rc, &app.url(&format!("/incidents/{id}"))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = page(&rc, &app.url("/incidents/inc_garbage")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test]
async fn severities_dashboard_client_page_and_my_work_show_incidents() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let (s, html) = page(&c, &app.url("/incidents/severities")).await;
    assert_eq!(s, StatusCode::OK);
    let csrf = csrf_of(&html);
    let r = c
        .post(app.url("/incidents/severities/sev3"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("definition", "Small and contained"),
            ("triage_minutes", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let bad = c
        .post(app.url("/incidents/severities/sev3"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("definition", "x"),
            ("triage_minutes", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, form) = page(&c, &app.url("/incidents/new")).await;
    assert!(
        form.contains("Small and contained Triage within 30 minutes."),
        "{form}"
    );

    let (_, dash) = page(&c, &app.url("/")).await;
    assert!(dash.contains("data-testid=\"incident-kpi-card\""));
    let api = common::Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Page Co").await;
    let (_, cp) = page(&c, &app.url(&format!("/clients/{client}"))).await;
    assert!(cp.contains(&format!("/incidents/new?client={client}")));
    assert!(cp.contains("data-testid=\"incident-kpi-card\""));

    // A follow-up action owned by the admin shows on My work.
    let i = api
        .post(
            "/api/v1/incidents",
            t,
            serde_json::json!({"title": "Follow me", "severity": "sev3", "source": "other", "client": client}),
        )
        .await;
    i.expect(201, "report");
    let id = i.id();
    api.post(
        &format!("/api/v1/incidents/{id}/triage"),
        t,
        serde_json::json!({"lead": app.agency.admin.id, "plan": "p"}),
    )
    .await
    .expect(200, "triage");
    api.put(
        &format!("/api/v1/incidents/{id}/postmortem"),
        t,
        serde_json::json!({"summary": "s", "impact": "i", "detection": "d", "response": "r", "root_cause": "c",
            "actions": [{"title": "Write the checklist line", "owner": app.agency.admin.id, "due_on": "2020-01-01"}]}),
    )
    .await
    .expect(200, "postmortem");
    let (_, work) = page(&c, &app.url("/my-work")).await;
    assert!(work.contains("Write the checklist line"), "{work}");
    assert!(work.contains("Overdue"));
    // The scheduler notices the overdue action once, to its owner.
    app.tick_scheduler().await;
    app.tick_scheduler().await;
    let n = common::count(
        &app,
        "SELECT COUNT(*) FROM notices WHERE incident_id = $1 AND kind = 'incident.action_overdue'",
        &id,
    )
    .await;
    assert_eq!(n, 1);
    let (_, work) = page(&c, &app.url("/my-work")).await;
    assert!(
        work.contains(&format!("href=\"/incidents/{id}\"")),
        "the notice links the incident"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_publishing_error_is_reported_from_its_content_item() {
    let app = TestApp::spawn().await;
    let c = signed_in_admin(&app).await;
    let api = common::Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Item Co").await;
    let item = api
        .post(
            &format!("/api/v1/clients/{client}/content"),
            t,
            serde_json::json!({"title": "Spring reel", "channel": "instagram"}),
        )
        .await;
    item.expect(201, "content item");
    let item = item.id();
    let (_, page_html) = page(&c, &app.url(&format!("/content/{item}"))).await;
    assert!(page_html.contains(&format!("/incidents/new?content={item}")));
    let (s, form) = page(&c, &app.url(&format!("/incidents/new?content={item}"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("Report a publishing error"));
    assert!(form.contains("Publishing error: Spring reel"), "prefilled");
    let r = c
        .post(app.url("/incidents"))
        .form(&[
            ("csrf", csrf_of(&form).as_str()),
            ("nonce", nonce_of(&form).as_str()),
            ("title", "Publishing error: Spring reel"),
            ("severity", "sev3"),
            ("source", "publishing_error"),
            ("client", client.as_str()),
            ("content", item.as_str()),
            ("summary", "Wrong music"),
            ("occurred_at", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let listed = api.get("/api/v1/incidents", t).await;
    let i = &listed.items()[0];
    assert_eq!(i["content"], item.as_str());
    assert_eq!(i["client"], client.as_str(), "the item's client");
    assert_eq!(i["source"], "publishing_error");
    let (_, page_html) = page(&c, &app.url(&format!("/content/{item}"))).await;
    assert!(
        page_html.contains("data-testid=\"item-incident\""),
        "marked on the item"
    );
    let events = api.client_events(t, &client).await;
    assert!(events.iter().any(|e| e["type"] == "content.error_reported"));
    app.shutdown().await;
}
