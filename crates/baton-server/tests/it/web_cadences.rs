//! The cadence pages through a real server and a cookie-keeping client:
//! the week's meetings and the library, a meeting's draft artifact and the
//! attach form (a refused decision shown again at its field, single-use
//! nonce), the held meeting's decision on the owner's My work and marked
//! done there, the memo shared once with its link, and another agency's
//! meeting as the 404 page.

use crate::common;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::{browser, csrf_of, nonce_of, page, signed_in_admin, Api};
use reqwest::{Client, StatusCode};

/// Monday 2026-03-02 09:00:00 UTC.
const T0: i64 = 1_772_442_000_000;

/// A form post: a refusal is the page shown once; a success is a 303 that
/// is followed. Returns the final status and page.
async fn post(c: &Client, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = c.post(url).form(fields).send().await.expect("POST");
    if r.status() == StatusCode::SEE_OTHER {
        let to = r.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let next = r.url().join(&to).unwrap();
        return page(c, next.as_str()).await;
    }
    let s = r.status();
    (s, r.text().await.unwrap())
}

/// The href of the first meeting link whose text starts with `name`.
fn meeting_href(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("\">{name}"))
        .unwrap_or_else(|| panic!("no {name} link in {html}"));
    let start = html[..at].rfind("href=\"").unwrap() + 6;
    html[start..at].to_string()
}

#[tokio::test]
async fn a_meeting_is_held_from_its_page_and_its_decision_reaches_my_work() {
    let (app, _clock) = TestApp::spawn_at(T0).await;
    app.tick_scheduler().await;
    let c = signed_in_admin(&app).await;
    let me = app.agency.admin.id.to_string();

    let (s, html) = page(&c, &app.url("/cadences")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Weekly delivery planning"));
    assert!(html.contains("every Monday at 10:00"));
    assert!(html.contains("Cadence adherence, last four weeks:"));
    assert!(html.contains("No meeting was due yet."));
    let href = meeting_href(&html, "Weekly delivery planning");
    assert!(href.starts_with("/cadences/meetings/cdo_"), "{href}");

    let (s, meeting) = page(&c, &app.url(&href)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(meeting.contains("Today: attach its artifact"));
    assert!(meeting.contains("0 items planned or scheduled from 2026-03-02 to 2026-03-15"));
    let action = format!("{href}/artifact");

    // A decision without its owner is refused at its row; nothing is held.
    let (_, refused) = post(
        &c,
        &app.url(&action),
        &[
            ("csrf", csrf_of(&meeting).as_str()),
            ("nonce", nonce_of(&meeting).as_str()),
            ("notes", "Next two weeks confirmed."),
            ("decision_1_text", "Hire a freelance editor"),
            ("decision_1_owner", ""),
        ],
    )
    .await;
    assert!(
        refused.contains("Decision 1: choose who owns it."),
        "{refused}"
    );
    assert!(
        refused.contains("Next two weeks confirmed."),
        "typed text kept"
    );

    let (_, meeting) = page(&c, &app.url(&href)).await;
    let fields = [
        ("csrf", csrf_of(&meeting)),
        ("nonce", nonce_of(&meeting)),
        ("notes", "Next two weeks confirmed.".to_string()),
        ("decision_1_text", "Hire a freelance editor".to_string()),
        ("decision_1_owner", me.clone()),
        ("decision_1_due", "2026-03-06".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, held) = post(&c, &app.url(&action), &fields).await;
    assert_eq!(s, StatusCode::OK);
    assert!(held.contains("✓ Held"), "{held}");
    assert!(held.contains("Hire a freelance editor"));
    // The same form again (a reload, a double click) records nothing more.
    c.post(app.url(&action)).form(&fields).send().await.unwrap();
    let api = Api::new(&app);
    let found = api
        .get("/api/v1/cadence-decisions?q=freelance", &app.agency.token)
        .await;
    assert_eq!(found.items().len(), 1, "one decision, not two");

    // My work lists the decision; marking it done there closes it.
    let (_, work) = page(&c, &app.url("/my-work")).await;
    assert!(work.contains("data-testid=\"my-decisions\""), "{work}");
    assert!(work.contains("Hire a freelance editor"));
    let dec = found.items()[0]["id"].as_str().unwrap().to_string();
    let (s, work) = post(
        &c,
        &app.url(&format!("/cadences/decisions/{dec}/done")),
        &[("csrf", csrf_of(&work).as_str()), ("back", "my-work")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(work.contains("Decision marked done."));
    assert!(!work.contains("data-testid=\"my-decisions\""));

    // Searching finds it on the cadences page, with its meeting.
    let (_, html) = page(&c, &app.url("/cadences?q=editor")).await;
    assert!(html.contains("Hire a freelance editor"));
    assert!(html.contains("Weekly delivery planning, 2026-03-02"));

    // Another agency's meeting is the 404 page.
    let rival = app.other_agency("admin@rival.test").await;
    let rc = browser();
    let (_, login) = page(&rc, &app.url("/login")).await;
    rc.post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("email", rival.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let (s, _) = page(&rc, &app.url(&href)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
