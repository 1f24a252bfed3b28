//! The handoff brief in the web app, through a real server and a
//! cookie-keeping HTTP client: the printable page, the edit form (saves a
//! version, refuses with the input kept, needs CSRF), escaping, the version
//! history and another agency's client (404).

use crate::common;
use baton_store::Cx;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::clients::{self, NewClient};
use baton_store::{handoff_briefs, Actor};
use common::{browser, csrf_of};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};

/// The text of the page's first error alert.
fn alert_of(html: &str) -> Option<String> {
    let start = html.find("role=\"alert\">")? + "role=\"alert\">".len();
    Some(html[start..][..html[start..].find('<')?].to_string())
}

fn location(resp: &Response) -> String {
    resp.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
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

/// The form fields of a complete brief.
fn complete_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("channels", "instagram, tiktok"),
        ("deliverables", "12 Feed posts\r\n4 Reels"),
        ("notes", "Stories on request"),
        ("goals", "Grow reach 20% by Q3\r\n\r\nMore leads"),
        ("constraints", "No competitor mentions"),
        ("first_30_days", "Kickoff workshop\r\nMonth-one calendar"),
        (
            "stakeholders",
            "Dana Ruiz | CMO | dana@client.test | approves\r\nSam Lee | Brand manager",
        ),
        ("promises", "We post <b>daily</b> across 4 channels"),
    ]
}

async fn post_form(
    app: &TestApp,
    c: &Client,
    client_id: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    c.post(app.url(&format!("/clients/{client_id}/handoff/edit")))
        .form(&form)
        .send()
        .await
        .expect("POST")
}

#[tokio::test]
async fn the_brief_is_written_in_the_form_and_shown_on_one_page() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Acme Coffee").await;
    let c = login_as(&app, &app.agency.admin.email.clone()).await;

    // The client page links to the brief.
    let (status, html) = get(&c, &app.url(&format!("/clients/{}", client.id))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/clients/{}/handoff\"", client.id)));

    // Nothing saved yet.
    let page_url = app.url(&format!("/clients/{}/handoff", client.id));
    let (status, html) = get(&c, &page_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No brief saved yet."), "{html}");
    assert!(html.contains("0 of 6 sections done"));
    assert!(html.contains("Write the brief"));
    assert!(!html.contains("style=") && !html.contains("<script>"));

    let (status, form_html) = get(
        &c,
        &app.url(&format!("/clients/{}/handoff/edit", client.id)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&form_html);
    assert!(form_html.contains("name=\"no_promises\""));
    assert!(!form_html.contains("style=") && !form_html.contains("<script>"));

    // Without the CSRF token: refused, nothing saved.
    let resp = post_form(&app, &c, &client.id, "wrong", &complete_form()).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        handoff_briefs::latest(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .is_none()
    );

    let resp = post_form(&app, &c, &client.id, &csrf, &complete_form()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&resp),
        format!("/clients/{}/handoff?notice=handoff_saved", client.id)
    );
    let saved = handoff_briefs::latest(&app.state.db, &app.agency.id, &client.id)
        .await
        .unwrap()
        .expect("saved");
    assert_eq!(saved.version, 1);
    assert!(saved.complete);
    assert_eq!(
        saved.brief.goals,
        vec!["Grow reach 20% by Q3", "More leads"]
    );
    assert_eq!(saved.brief.scope.deliverables[1].per_month, 4);
    assert_eq!(saved.brief.stakeholders.len(), 2);
    assert!(saved.brief.stakeholders[0].approves && !saved.brief.stakeholders[1].approves);
    assert_eq!(
        saved.brief.stakeholders[0].email.as_deref(),
        Some("dana@client.test")
    );
    assert_eq!(saved.author_label, app.agency.admin.name);

    let (status, html) = get(&c, &format!("{page_url}?notice=handoff_saved")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Handoff brief saved as a new version."));
    assert!(html.contains("Version 1"));
    assert!(html.contains(&app.agency.admin.name));
    assert!(html.contains(">Complete<"));
    assert!(html.contains("Feed posts") && html.contains("Dana Ruiz"));
    assert!(html.contains("Approves"));
    // The promise is shown escaped, never as markup.
    assert!(
        html.contains("We post &#60;b&#62;daily&#60;/b&#62;")
            || html.contains("We post &lt;b&gt;daily&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>daily</b>"));

    // Saving the same again is no new version.
    let resp = post_form(&app, &c, &client.id, &csrf, &complete_form()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).ends_with("notice=handoff_unchanged"));

    // The form opens with the saved brief; saving without promises and
    // without the box ticked makes an incomplete version 2.
    let (_, form_html) = get(
        &c,
        &app.url(&format!("/clients/{}/handoff/edit", client.id)),
    )
    .await;
    assert!(form_html.contains("Dana Ruiz | CMO | dana@client.test | approves"));
    assert!(form_html.contains("12 Feed posts"));
    let mut fields = complete_form();
    fields.retain(|(k, _)| *k != "promises");
    let resp = post_form(&app, &c, &client.id, &csrf, &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &page_url).await;
    assert!(html.contains("5 of 6 sections done"), "{html}");
    assert!(html.contains("Missing: Non-standard promises"));
    // The history links to version 1, which still shows the promise.
    assert!(html.contains(&format!(
        "href=\"/clients/{}/handoff?version=1\"",
        client.id
    )));
    let (status, old) = get(&c, &format!("{page_url}?version=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(old.contains("Version 1 of 2"));
    assert!(old.contains("This is an older version."));
    assert!(old.contains("daily"));
    for bad in ["3", "0", "x"] {
        let (status, _) = get(&c, &format!("{page_url}?version={bad}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "version {bad}");
    }

    // "No promises" ticked: complete again.
    fields.push(("no_promises", "1"));
    let resp = post_form(&app, &c, &client.id, &csrf, &fields).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = get(&c, &page_url).await;
    assert!(html.contains("None: no non-standard promises were made."));
    assert!(html.contains(">Complete<"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_form_comes_back_with_the_input_and_the_reason() {
    let app = TestApp::spawn().await;
    let client = make_client(&app, &app.agency.id, "Strict").await;
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let (_, form_html) = get(
        &c,
        &app.url(&format!("/clients/{}/handoff/edit", client.id)),
    )
    .await;
    let csrf = csrf_of(&form_html);
    let long = "g".repeat(501);
    for (what, edit, alert_start) in [
        (
            "promises and none",
            ("no_promises", "1"),
            "Non-standard promises:",
        ),
        (
            "bad deliverable",
            ("deliverables", "Feed posts"),
            "Deliverables, line 1:",
        ),
        (
            "bad email",
            ("stakeholders", "Dana | CMO | dana-at-client | approves"),
            "Stakeholders, line 1:",
        ),
        (
            "bad email shape",
            ("stakeholders", "Dana | CMO | dana@client | approves"),
            "Stakeholders:",
        ),
        ("long goal", ("goals", long.as_str()), "Goals:"),
    ] {
        let mut fields = complete_form();
        fields.retain(|(k, _)| *k != edit.0);
        fields.push(edit);
        let resp = post_form(&app, &c, &client.id, &csrf, &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let html = resp.text().await.unwrap();
        let alert = alert_of(&html).unwrap_or_else(|| panic!("{what}: no alert in {html}"));
        assert!(alert.starts_with(alert_start), "{what}: {alert}");
        // What was typed is kept.
        assert!(html.contains("instagram, tiktok"), "{what}");
        assert!(html.contains("Kickoff workshop"), "{what}");
    }
    assert!(
        handoff_briefs::latest(&app.state.db, &app.agency.id, &client.id)
            .await
            .unwrap()
            .is_none(),
        "nothing saved"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn another_agencys_client_is_not_found() {
    let app = TestApp::spawn().await;
    let rival = app.other_agency("rival@rival.test").await;
    let theirs = make_client(&app, &rival.id, "Theirs").await;
    let c = login_as(&app, &app.agency.admin.email.clone()).await;
    let ours = make_client(&app, &app.agency.id, "Ours").await;
    let (_, form_html) = get(&c, &app.url(&format!("/clients/{}/handoff/edit", ours.id))).await;
    let csrf = csrf_of(&form_html);
    for path in [
        format!("/clients/{}/handoff", theirs.id),
        format!("/clients/{}/handoff?version=1", theirs.id),
        format!("/clients/{}/handoff/edit", theirs.id),
        "/clients/cli_nope/handoff".to_string(),
    ] {
        let (status, html) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("Page not found"), "{path}");
    }
    let resp = post_form(&app, &c, &theirs.id, &csrf, &complete_form()).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(handoff_briefs::latest(&app.state.db, &rival.id, &theirs.id)
        .await
        .unwrap()
        .is_none());
    app.shutdown().await;
}
