//! `GET|PUT /api/v1/agency/calendar` and the business-hours variant of
//! time-to-verified-access: the contract's shape, every refusal, admin-only
//! writes, one calendar per agency.

use crate::common;

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

// ---- POST /api/v1/agency/calendar/holidays/import -------------------------

const IMPORT: &str = "/api/v1/agency/calendar/holidays/import";

/// Two all-day events (Christmas Day, New Year's Eve) and a timed one that
/// is not a holiday.
const TWO_HOLIDAYS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas Day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\nSUMMARY:New Year's Eve\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20261224T100000Z\r\nDTEND:20261224T120000Z\r\nSUMMARY:Party\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

/// Posts `body` as the import with `content_type` (none when `None`).
async fn import(
    api: &Api,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> common::Resp {
    let mut rb = api.request(Method::POST, path, token).body(body);
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    api.send(rb).await
}

#[tokio::test]
async fn an_ics_file_adds_its_all_day_dates_to_the_holidays() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.put(
        "/api/v1/agency/calendar",
        t,
        json!({"timezone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-25", "2026-01-01"], "day_minutes": 450}),
    )
    .await
    .expect(200, "put calendar");
    let before = common::trail(&app, &app.agency.id).await;

    let r = import(&api, IMPORT, t, Some("text/calendar"), TWO_HOLIDAYS).await;
    r.expect(200, "import");
    assert_eq!(r.body["added"], 1, "{}", r.text);
    assert_eq!(r.body["removed"], 0, "{}", r.text);
    let want = json!(["2026-01-01", "2026-12-25", "2026-12-31"]);
    assert_eq!(r.body["calendar"]["holidays"], want, "{}", r.text);
    // Everything else of the calendar is kept, in GET's shape.
    let g = api.get("/api/v1/agency/calendar", t).await;
    assert_eq!(r.body["calendar"], g.body);
    assert_eq!(g.body["holidays"], want);
    assert_eq!(g.body["timezone"], "Europe/Berlin");
    assert_eq!(g.body["hours"], json!({"mon": [["09:00", "17:00"]]}));
    assert_eq!(g.body["day_minutes"], 450);
    // Audited as a calendar change, with its event and outbox job.
    assert_eq!(
        common::trail(&app, &app.agency.id).await - before,
        common::Trail {
            events: 1,
            audit: 1,
            outbox: 1
        }
    );
    let audit = api.get("/api/v1/audit", t).await;
    assert_eq!(audit.items()[0]["action"], "agency.calendar_changed");

    // The same file again adds nothing and writes nothing; text/plain works.
    let before = common::trail(&app, &app.agency.id).await;
    let again = import(
        &api,
        IMPORT,
        t,
        Some("text/plain; charset=utf-8"),
        TWO_HOLIDAYS,
    )
    .await;
    again.expect(200, "import again");
    assert_eq!(again.body["added"], 0);
    assert_eq!(again.body["calendar"]["holidays"], want);
    assert_eq!(common::trail(&app, &app.agency.id).await, before);

    // ?replace=true makes the file's dates the holidays.
    let r = import(
        &api,
        &format!("{IMPORT}?replace=true"),
        t,
        Some("text/calendar"),
        TWO_HOLIDAYS,
    )
    .await;
    r.expect(200, "replace");
    assert_eq!(r.body["added"], 0, "{}", r.text);
    assert_eq!(r.body["removed"], 1, "{}", r.text);
    assert_eq!(
        api.get("/api/v1/agency/calendar", t).await.body["holidays"],
        json!(["2026-12-25", "2026-12-31"])
    );
    import(
        &api,
        &format!("{IMPORT}?replace=maybe"),
        t,
        Some("text/calendar"),
        TWO_HOLIDAYS,
    )
    .await
    .problem(400, "replace must be a boolean");

    // Another agency is unaffected, and its import touches only its own.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = api.get("/api/v1/agency/calendar", &rival.token).await;
    assert_eq!(theirs.body["holidays"], json!([]));
    assert_eq!(theirs.body["configured"], false);
    let r = import(
        &api,
        IMPORT,
        &rival.token,
        Some("text/calendar"),
        TWO_HOLIDAYS,
    )
    .await;
    r.expect(200, "rival import");
    assert_eq!(r.body["added"], 2);
    assert_eq!(r.body["calendar"]["timezone"], "UTC", "the default is kept");
    assert_eq!(r.body["calendar"]["configured"], true);
    assert_eq!(
        api.get("/api/v1/agency/calendar", t).await.body["holidays"],
        json!(["2026-12-25", "2026-12-31"])
    );
    app.shutdown().await;
}

#[tokio::test]
async fn bad_imports_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    // A write token, and an admin token of a member who is no longer an admin.
    let write = api.token(t, "write").await;
    let demoted = common::non_admin_token(
        &app,
        &api,
        "casey@northwind.test",
        baton_store::tokens::Scope::Admin,
    )
    .await;
    let before = common::trail(&app, &app.agency.id).await;

    // Only iCalendar or plain text.
    for ct in [
        Some("application/json"),
        Some("multipart/form-data; boundary=x"),
        Some("text/html"),
        None,
    ] {
        let r = import(&api, IMPORT, t, ct, TWO_HOLIDAYS).await;
        r.problem(415, &format!("{ct:?}"));
        assert_eq!(
            r.body["type"],
            "https://baton.dev/problems/unsupported-media-type"
        );
    }
    // Not iCalendar, not UTF-8, or nothing all-day in it: 422 saying why.
    let timed_only =
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T100000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    for (body, says) in [
        ("garbage, not a calendar".as_bytes().to_vec(), "iCalendar"),
        (Vec::new(), "iCalendar"),
        (vec![0xff, 0xfe, 0x00, 0x42], "UTF-8"),
        (timed_only.as_bytes().to_vec(), "all-day"),
        (
            b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261301\nEND:VEVENT\nEND:VCALENDAR\n"
                .to_vec(),
            "DTSTART",
        ),
    ] {
        let r = import(&api, IMPORT, t, Some("text/calendar"), body).await;
        r.problem(422, says);
        assert!(
            r.body["detail"].as_str().unwrap_or("").contains(says),
            "{says}: {}",
            r.text
        );
    }
    // Over the app's body limit (1 MiB in tests): 413.
    let huge = format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        "X-PAD:1\r\n".repeat(120_000)
    );
    import(&api, IMPORT, t, Some("text/calendar"), huge)
        .await
        .problem(413, "too large");
    // Admins only.
    import(&api, IMPORT, &write, Some("text/calendar"), TWO_HOLIDAYS)
        .await
        .problem(403, "write scope");
    import(&api, IMPORT, &demoted, Some("text/calendar"), TWO_HOLIDAYS)
        .await
        .problem(403, "not an admin");
    import(&api, IMPORT, "", Some("text/calendar"), TWO_HOLIDAYS)
        .await
        .problem(401, "no token");

    assert_eq!(common::trail(&app, &app.agency.id).await, before);
    let g = api.get("/api/v1/agency/calendar", t).await;
    assert_eq!(g.body["holidays"], json!([]));
    assert_eq!(g.body["configured"], false);
    app.shutdown().await;
}
