//! `GET|PUT /api/v1/agency/calendar` and the business-hours variant of
//! time-to-verified-access: the contract's shape, every refusal, admin-only
//! writes, one calendar per agency.

mod common;

use baton_server::testing::TestApp;
use common::Api;
use reqwest::Method;
use serde_json::json;

/// Monday 2026-03-02 09:00:00 UTC.
const MON_9: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;

#[tokio::test]
async fn the_calendar_round_trips_and_defaults_to_weekdays_nine_to_five_utc() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let d = api.get("/api/v1/agency/calendar", t).await;
    d.expect(200, "default calendar");
    assert_eq!(d.body["timezone"], "UTC");
    assert_eq!(d.body["configured"], false);
    assert_eq!(d.body["hours"]["mon"], json!([["09:00", "17:00"]]));
    assert_eq!(d.body["hours"]["sat"], json!(null), "{}", d.text);

    let body = json!({
        "timezone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "17:00"]], "fri": [["09:00", "15:00"]]},
        "holidays": ["2026-12-24", "2026-12-25"]
    });
    let r = api
        .call(Method::PUT, "/api/v1/agency/calendar", t, Some(&body))
        .await;
    r.expect(200, "put calendar");
    assert_eq!(r.body["configured"], true);
    let g = api.get("/api/v1/agency/calendar", t).await;
    for k in ["timezone", "hours", "holidays"] {
        assert_eq!(g.body[k], body[k], "{k}: {}", g.text);
    }
    assert_eq!(g.body["day_minutes"], 480);

    // Another agency still has the default.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.get("/api/v1/agency/calendar", &rival.token).await;
    assert_eq!(theirs.body["timezone"], "UTC");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_calendars_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let nine_five = json!([["09:00", "17:00"]]);
    for (body, field) in [
        (
            json!({"timezone": "Mars/Olympus", "hours": {"mon": nine_five}}),
            "timezone",
        ),
        (
            json!({"timezone": "UTC", "hours": {"mon": [["09:00", "25:00"]]}}),
            "hours",
        ),
        (
            json!({"timezone": "UTC", "hours": {"mon": [["17:00", "09:00"]]}}),
            "hours",
        ),
        (
            json!({"timezone": "UTC", "hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}),
            "hours",
        ),
        (
            json!({"timezone": "UTC", "hours": {"funday": nine_five}}),
            "hours",
        ),
        (json!({"timezone": "UTC", "hours": {}}), "hours"),
        (
            json!({"timezone": "UTC", "hours": {"mon": nine_five}, "holidays": ["2026-02-30"]}),
            "holidays",
        ),
        (
            json!({"timezone": "UTC", "hours": {"mon": nine_five}, "day_minutes": 5}),
            "day_minutes",
        ),
    ] {
        let r = api
            .call(Method::PUT, "/api/v1/agency/calendar", t, Some(&body))
            .await;
        r.problem(422, &format!("{body}"));
        assert!(
            r.text.contains(field),
            "{body} should name {field}: {}",
            r.text
        );
    }
    let r = api
        .call(
            Method::PUT,
            "/api/v1/agency/calendar",
            t,
            Some(&json!({"timezone": "UTC", "hours": {"mon": nine_five}, "extra": 1})),
        )
        .await;
    r.problem(422, "unknown field");
    // Writing needs an admin token.
    let write = api.token(t, "write").await;
    let r = api
        .call(
            Method::PUT,
            "/api/v1/agency/calendar",
            &write,
            Some(&json!({"timezone": "UTC", "hours": {"mon": nine_five}})),
        )
        .await;
    r.problem(403, "write scope");
    assert_eq!(
        api.get("/api/v1/agency/calendar", t).await.body["configured"],
        false
    );
    app.shutdown().await;
}

#[tokio::test]
async fn time_to_verified_access_in_business_hours() {
    // Signed Monday 09:00 UTC, complete Tuesday 13:00: 28 h of calendar
    // time, 8 h + 4 h = 12 h of business time on the default calendar.
    let (app, clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Business Hours Co").await;
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    let link = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            t,
            json!({"requests": [{"platform": "ga4"}]}),
        )
        .await;
    link.expect(201, "link");
    let rid = link.body["requests"][0]["id"].as_str().unwrap().to_string();
    clock.advance(28 * HOUR);
    api.post(
        &format!("/api/v1/access-requests/{rid}/verify"),
        t,
        json!({"note": "checked"}),
    )
    .await
    .expect(200, "verify");
    let k = api.get(&format!("/api/v1/clients/{client}/kpis"), t).await;
    assert_eq!(k.body["time_to_verified_access_seconds"], 28 * 3600);
    assert_eq!(
        k.body["time_to_verified_access_business_seconds"],
        12 * 3600,
        "{}",
        k.text
    );
    let a = api.get("/api/v1/kpis/access", t).await;
    assert_eq!(
        a.body["time_to_verified_access_business_median_seconds"],
        12 * 3600,
        "{}",
        a.text
    );

    // On a New York calendar (UTC−5 on those days) the same span is Monday
    // 04:00 → Tuesday 08:00 local: only Monday 09:00–17:00 counts, 8 h.
    api.call(
        Method::PUT,
        "/api/v1/agency/calendar",
        t,
        Some(&json!({"timezone": "America/New_York", "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}})),
    )
    .await
    .expect(200, "new york");
    let k = api.get(&format!("/api/v1/clients/{client}/kpis"), t).await;
    assert_eq!(
        k.body["time_to_verified_access_business_seconds"],
        8 * 3600,
        "{}",
        k.text
    );
    app.shutdown().await;
}
