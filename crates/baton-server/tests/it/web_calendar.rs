//! Settings → Business hours (`/settings/calendar`) through a real server and
//! a cookie-keeping HTTP client: the default calendar and its preview, saving
//! a calendar (seen by the API), refusals that keep what was typed and change
//! nothing, the .ics upload, members who may only read, and HTML escaping.

use crate::common;
use baton_store::Cx;

use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::members::{self, MemberInput};
use baton_store::Actor;
use common::Api;
use common::{browser, csrf_of};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

/// Wednesday 2026-03-04 12:00 UTC: the coming Friday is 2026-03-06.
const WED_NOON: i64 = 1_772_625_600_000;
const PAGE: &str = "/settings/calendar";

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

/// The `value` of the input with this `id`.
fn input_value(html: &str, id: &str) -> String {
    let tag = format!("id=\"{id}\"");
    let at = html
        .find(&tag)
        .unwrap_or_else(|| panic!("no input {id} in the page"));
    let rest = &html[at..];
    let start = rest.find("value=\"").expect("input has a value") + "value=\"".len();
    rest[start..][..rest[start..].find('"').unwrap()].to_string()
}

/// The text of the textarea with this `id`.
fn textarea_text(html: &str, id: &str) -> String {
    let tag = format!("id=\"{id}\"");
    let at = html
        .find(&tag)
        .unwrap_or_else(|| panic!("no textarea {id} in the page"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..][..rest[start..].find("</textarea>").unwrap()].to_string()
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// Logs a browser in (the login page first, for its CSRF cookie and field).
async fn login(app: &TestApp, email: &str, password: &str) -> Client {
    let c = browser();
    let (status, html) = get(&c, &app.url("/login")).await;
    assert_eq!(status, StatusCode::OK);
    let resp = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login {email}");
    c
}

/// A browser logged in as the test agency's admin.
async fn admin(app: &TestApp) -> Client {
    login(app, &app.agency.admin.email, ADMIN_PASSWORD).await
}

/// A member with a password who is not an admin, logged in.
async fn non_admin(app: &TestApp) -> Client {
    let (email, password) = ("casey@northwind.test", "casey's password");
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
    login(app, email, password).await
}

/// The calendar page and its CSRF token.
async fn page(app: &TestApp, c: &Client) -> (String, String) {
    let (status, html) = get(c, &app.url(PAGE)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csrf = csrf_of(&html);
    (html, csrf)
}

/// The calendar form's fields: Berlin, weekdays with a lunch break on
/// Monday, 7.5-hour days, two holidays; `edit` changes some.
fn calendar_form(csrf: &str, edit: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("csrf", csrf),
        ("timezone", "Europe/Berlin"),
        ("hours_mon", "09:00-12:00, 13:00-17:00"),
        ("hours_tue", "9:00-17:00"),
        ("hours_wed", "09:00-17:00"),
        ("hours_thu", "09:00 - 17:00"),
        ("hours_fri", "09:00-15:00"),
        ("hours_sat", ""),
        ("hours_sun", ""),
        ("day_hours", "7.5"),
        ("holidays", "2026-12-25\r\n2026-12-24\r\n"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in edit {
        match fields.iter_mut().find(|(key, _)| key == k) {
            Some(f) => f.1 = v.to_string(),
            None => fields.push((k.to_string(), v.to_string())),
        }
    }
    fields
}

async fn save(app: &TestApp, c: &Client, form: &[(String, String)]) -> Response {
    c.post(app.url(PAGE)).form(form).send().await.expect("POST")
}

async fn calendar(app: &TestApp) -> Value {
    let api = Api::new(app);
    let r = api.get("/api/v1/agency/calendar", &app.agency.token).await;
    r.expect(200, "GET calendar");
    r.body
}

/// A multipart body as a browser sends the upload form: text fields, then
/// the file. Returns the content type and the body.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let b = "----baton-test-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: text/calendar\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

async fn upload(
    app: &TestApp,
    c: &Client,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Response {
    let (ct, body) = multipart(fields, file);
    c.post(app.url("/settings/calendar/import"))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .expect("POST upload")
}

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261225\r\nDTEND;VALUE=DATE:20261227\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20270101\r\nSUMMARY:New Year\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

#[tokio::test]
async fn the_page_shows_the_default_calendar_and_what_it_is_for() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = admin(&app).await;
    let (html, _) = page(&app, &c).await;
    assert!(html.contains("<h1>Business hours</h1>"), "{html}");
    assert!(html.contains("SOP SLAs"), "explains the use");
    assert!(html.contains("business-time KPIs"), "explains the use");
    assert!(html.contains("default calendar"), "says it is the default");
    assert_eq!(input_value(&html, "cal-tz"), "UTC");
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        assert_eq!(input_value(&html, &format!("cal-h-{day}")), "09:00-17:00");
    }
    assert_eq!(input_value(&html, "cal-h-sat"), "");
    assert_eq!(input_value(&html, "cal-h-sun"), "");
    assert_eq!(input_value(&html, "cal-day"), "8");
    assert_eq!(textarea_text(&html, "cal-holidays"), "");
    assert!(
        html.contains("1 business day (8 h) from Friday 16:00 ends Monday 16:00."),
        "{html}"
    );
    assert!(html.contains("Friday 6 March 2026, 16:00"), "{html}");
    assert!(html.contains("action=\"/settings/calendar/import\""));
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(
        html.contains("<option value=\"Europe/Berlin\">"),
        "zone list"
    );
    assert!(!html.contains("style="), "no inline styles (CSP)");
    // The settings navigation leads here.
    for from in ["/settings", "/settings/onboarding"] {
        let (status, other) = get(&c, &app.url(from)).await;
        assert_eq!(status, StatusCode::OK, "{from}");
        assert!(other.contains("href=\"/settings/calendar\""), "{from}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn saving_berlin_with_a_lunch_break_changes_the_api_calendar() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = admin(&app).await;
    let (_, csrf) = page(&app, &c).await;
    let resp = save(&app, &c, &calendar_form(&csrf, &[])).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/settings/calendar?notice=calendar_saved");

    let cal = calendar(&app).await;
    assert_eq!(cal["configured"], true);
    assert_eq!(cal["timezone"], "Europe/Berlin");
    assert_eq!(
        cal["hours"],
        json!({
            "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
            "tue": [["09:00", "17:00"]],
            "wed": [["09:00", "17:00"]],
            "thu": [["09:00", "17:00"]],
            "fri": [["09:00", "15:00"]],
        })
    );
    assert_eq!(cal["holidays"], json!(["2026-12-24", "2026-12-25"]));
    assert_eq!(cal["day_minutes"], 450);
    let api = Api::new(&app);
    let audit = api.get("/api/v1/audit", &app.agency.token).await;
    assert_eq!(audit.items()[0]["action"], "agency.calendar_changed");
    assert_eq!(audit.items()[0]["actor_kind"], "member");

    // The page shows the saved calendar, normalised, and its preview:
    // Friday 16:00–15:00 is after hours, so 7.5 h run Monday 09:00–12:00
    // and 13:00–17:00 (7 h), then Tuesday 09:00–09:30.
    let (status, html) = get(&c, &app.url("/settings/calendar?notice=calendar_saved")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Business hours saved."));
    assert!(!html.contains("default calendar"));
    assert_eq!(input_value(&html, "cal-tz"), "Europe/Berlin");
    assert_eq!(input_value(&html, "cal-h-mon"), "09:00-12:00, 13:00-17:00");
    assert_eq!(input_value(&html, "cal-h-tue"), "09:00-17:00");
    assert_eq!(input_value(&html, "cal-day"), "7:30");
    assert_eq!(
        textarea_text(&html, "cal-holidays"),
        "2026-12-24\n2026-12-25"
    );
    assert!(
        html.contains("1 business day (7 h 30 min) from Friday 16:00 ends Tuesday 09:30."),
        "{html}"
    );

    // Saving the page as shown changes nothing in the calendar.
    let csrf = csrf_of(&html);
    let again = calendar_form(
        &csrf,
        &[
            ("hours_tue", "09:00-17:00"),
            ("hours_thu", "09:00-17:00"),
            ("day_hours", "7:30"),
            ("holidays", "2026-12-24\n2026-12-25"),
        ],
    );
    assert_eq!(save(&app, &c, &again).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(calendar(&app).await, cal);

    // The form without its CSRF token is refused.
    let mut forged = calendar_form(&csrf, &[("timezone", "Asia/Tokyo")]);
    forged.retain(|(k, _)| k != "csrf");
    assert_eq!(
        save(&app, &c, &forged).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(calendar(&app).await["timezone"], "Europe/Berlin");
    app.shutdown().await;
}

#[tokio::test]
async fn refusals_keep_the_input_name_the_field_and_change_nothing() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = admin(&app).await;
    let (_, csrf) = page(&app, &c).await;
    let before = calendar(&app).await;
    let trail = common::trail(&app, &app.agency.id).await;

    // An overlapping window: the error on Monday's row, everything kept.
    let resp = save(
        &app,
        &c,
        &calendar_form(&csrf, &[("hours_mon", "09:00-13:00, 12:00-17:00")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(alert_of(&html).unwrap().contains("not saved"), "{html}");
    assert!(
        html.contains("id=\"cal-h-mon-err\">Windows 09:00-13:00 and 12:00-17:00 overlap."),
        "{html}"
    );
    assert!(html.contains("aria-describedby=\"cal-h-mon-err\""));
    assert!(!html.contains("cal-h-tue-err"), "only Monday is wrong");
    assert_eq!(input_value(&html, "cal-h-mon"), "09:00-13:00, 12:00-17:00");
    assert_eq!(input_value(&html, "cal-tz"), "Europe/Berlin");
    assert_eq!(input_value(&html, "cal-h-thu"), "09:00 - 17:00");
    assert_eq!(input_value(&html, "cal-day"), "7.5");
    assert_eq!(
        textarea_text(&html, "cal-holidays"),
        "2026-12-25\n2026-12-24\n"
    );

    // Each other refusal, next to its field.
    for (edit, err_id, says) in [
        (
            vec![("timezone", "Mars/Olympus")],
            "cal-tz-err",
            "not a time zone",
        ),
        (vec![("timezone", "")], "cal-tz-err", "Enter a time zone"),
        (
            vec![("hours_fri", "17:00-09:00")],
            "cal-h-fri-err",
            "is not after start",
        ),
        (
            vec![("hours_wed", "09:00-25:00")],
            "cal-h-wed-err",
            "not a time of day",
        ),
        (
            vec![("hours_sat", "all day")],
            "cal-h-sat-err",
            "is not a window",
        ),
        (
            vec![
                ("hours_mon", ""),
                ("hours_tue", ""),
                ("hours_wed", ""),
                ("hours_thu", ""),
                ("hours_fri", ""),
            ],
            "cal-hours-err",
            "no working time",
        ),
        (
            vec![("holidays", "2026-12-24\n2026-02-30")],
            "cal-holidays-err",
            "Line 2",
        ),
        (vec![("day_hours", "30")], "cal-day-err", "1 to 24"),
    ] {
        let resp = save(&app, &c, &calendar_form(&csrf, &edit)).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{edit:?}");
        let html = resp.text().await.unwrap();
        let marker = format!("id=\"{err_id}\">");
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("{edit:?}: no {err_id} in {html}"));
        let message = &html[at + marker.len()..][..html[at + marker.len()..].find('<').unwrap()];
        assert!(message.contains(says), "{edit:?}: {message}");
        for (field, value) in &edit {
            if field.starts_with("hours_") || *field == "timezone" || *field == "day_hours" {
                let id = match *field {
                    "timezone" => "cal-tz".to_string(),
                    "day_hours" => "cal-day".to_string(),
                    f => format!("cal-h-{}", &f[6..]),
                };
                assert_eq!(input_value(&html, &id), *value, "{edit:?} keeps {field}");
            }
        }
    }
    assert_eq!(calendar(&app).await, before, "nothing saved");
    assert_eq!(common::trail(&app, &app.agency.id).await, trail);
    app.shutdown().await;
}

#[tokio::test]
async fn an_ics_upload_adds_its_all_day_dates() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = admin(&app).await;
    let (_, csrf) = page(&app, &c).await;
    // A saved holiday that the file repeats.
    save(
        &app,
        &c,
        &calendar_form(&csrf, &[("holidays", "2026-12-25")]),
    )
    .await;

    let resp = upload(
        &app,
        &c,
        &[("csrf", &csrf)],
        Some(("holidays.ics", ICS.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert_eq!(
        to,
        "/settings/calendar?notice=holidays_imported&added=2&removed=0"
    );
    let cal = calendar(&app).await;
    assert_eq!(
        cal["holidays"],
        json!(["2026-12-25", "2026-12-26", "2027-01-01"])
    );
    assert_eq!(cal["timezone"], "Europe/Berlin", "the rest is kept");
    let (_, html) = get(&c, &app.url(&to)).await;
    assert!(html.contains("2 holidays added from the file."), "{html}");
    assert_eq!(
        textarea_text(&html, "cal-holidays"),
        "2026-12-25\n2026-12-26\n2027-01-01"
    );

    // Replacing keeps only the file's dates.
    let resp = upload(
        &app,
        &c,
        &[("csrf", &csrf), ("replace", "1")],
        Some((
            "new-year.ics",
            b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nEND:VEVENT\nEND:VCALENDAR\n",
        )),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(location(&resp).ends_with("added=0&removed=2"));
    assert_eq!(calendar(&app).await["holidays"], json!(["2027-01-01"]));

    // Refusals re-render the page with the message at the upload form.
    let before = calendar(&app).await;
    let trail = common::trail(&app, &app.agency.id).await;
    for (file, says) in [
        (
            Some(("notes.txt", b"just some notes".as_slice())),
            "Not an iCalendar file",
        ),
        (Some(("x.ics", [0xffu8, 0xfe, 0x00].as_slice())), "not text"),
        (
            Some((
                "timed.ics",
                b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"
                    .as_slice(),
            )),
            "no all-day events",
        ),
        (Some(("", b"".as_slice())), "Choose an .ics file"),
        (None, "Choose an .ics file"),
    ] {
        let resp = upload(&app, &c, &[("csrf", &csrf)], file).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        let html = resp.text().await.unwrap();
        let alert = alert_of(&html).unwrap_or_default();
        assert!(alert.contains(says), "{says}: {alert} in {html}");
        assert!(html.contains("id=\"cal-ics-err\""));
    }
    // Over the body limit: a page saying so, nothing stored.
    let big = format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        "X-PAD:1\r\n".repeat(120_000)
    );
    let resp = upload(
        &app,
        &c,
        &[("csrf", &csrf)],
        Some(("big.ics", big.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(resp.text().await.unwrap().contains("larger than"));
    // Without the session's CSRF token: refused.
    let resp = upload(
        &app,
        &c,
        &[("csrf", "forged")],
        Some(("holidays.ics", ICS.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = upload(&app, &c, &[], Some(("holidays.ics", ICS.as_bytes()))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(calendar(&app).await, before);
    assert_eq!(common::trail(&app, &app.agency.id).await, trail);
    app.shutdown().await;
}

#[tokio::test]
async fn a_member_who_is_not_an_admin_reads_but_cannot_save() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = non_admin(&app).await;
    let (status, html) = get(&c, &app.url(PAGE)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Only agency admins can change the business hours."));
    assert!(!html.contains("data-testid=\"calendar-form\""), "no form");
    assert!(!html.contains("calendar-import-form"), "no upload");
    assert!(html.contains("09:00-17:00"), "reads the hours");
    assert!(html.contains("Day off"));
    assert!(html.contains("1 business day (8 h) from Friday 16:00 ends Monday 16:00."));
    let csrf = csrf_of(&html); // the log-out form's: a valid session token

    let resp = save(&app, &c, &calendar_form(&csrf, &[])).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("Only agency admins can change the business hours."),
        "{page}"
    );
    let resp = upload(
        &app,
        &c,
        &[("csrf", &csrf)],
        Some(("holidays.ics", ICS.as_bytes())),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let cal = calendar(&app).await;
    assert_eq!(cal["configured"], false);
    assert_eq!(cal["holidays"], json!([]));
    app.shutdown().await;
}

#[tokio::test]
async fn the_page_escapes_what_was_typed() {
    let (app, _clock) = TestApp::spawn_at(WED_NOON).await;
    let c = admin(&app).await;
    let (_, csrf) = page(&app, &c).await;
    let evil = "<script>alert(1)</script>\"'";
    let resp = save(
        &app,
        &c,
        &calendar_form(
            &csrf,
            &[
                ("timezone", evil),
                ("hours_mon", evil),
                ("day_hours", evil),
                ("holidays", evil),
            ],
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("</script>\""), "{html}");
    let escaped = |text: &str| text.contains("&#60;script&#62;") || text.contains("&lt;script&gt;");
    assert!(escaped(&html), "{html}");
    // Errors that quote the input escape it too.
    for id in ["cal-tz-err", "cal-h-mon-err", "cal-holidays-err"] {
        let marker = format!("id=\"{id}\">");
        let at = html.find(&marker).unwrap_or_else(|| panic!("{id}"));
        let message = &html[at..][..html[at..].find("</p>").unwrap()];
        assert!(escaped(message), "{id}: {message}");
    }
    assert_eq!(calendar(&app).await["configured"], false);
    app.shutdown().await;
}
