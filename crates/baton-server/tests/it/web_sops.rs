//! The SOP pages of the web app through a real server and a cookie-keeping
//! HTTP client: "My work" (runs by due time, escalation notices, mark all
//! read), traffic control (breached before at risk, unowned, paused with the
//! reason), a client's runs (checklist, complete refused then allowed, pause
//! needs a reason, resume, assign, start by hand in the agency's zone, the
//! handoff-brief items read-only), "Who decides what", the role map, the SOP
//! library and its edit form (a new version in the changelog, refusals keep
//! what was typed, admins only), escaping and tenant isolation.

use crate::common;
use baton_store::Cx;

use baton_core::handoff::{HandoffBrief, Stakeholder};
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use baton_store::agencies::{self, AgencyPatch};
use baton_store::handoff_briefs;
use baton_store::members::{self, MemberInput};
use baton_store::Actor;
use common::{browser, csrf_of};
use common::{ms, Api};
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

const HOUR: i64 = 3_600_000;
/// Monday 2026-03-02 09:00:00 UTC.
const MON_9: i64 = 1_772_442_000_000;

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

/// The part of `html` from `start` up to the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in the page"));
    let rest = &html[i..];
    let j = rest[start.len()..]
        .find(end)
        .map_or(rest.len(), |j| j + start.len());
    &rest[..j]
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let resp = c.get(url).send().await.expect("GET");
    let status = resp.status();
    (status, resp.text().await.expect("body"))
}

/// A page that must answer 200.
async fn page(app: &TestApp, c: &Client, path: &str) -> String {
    let (status, html) = get(c, &app.url(path)).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    assert!(
        !html.contains("style=") && !html.contains("<script>"),
        "{path} has inline style or script"
    );
    html
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

/// The admin's browser and a CSRF token of their session.
async fn admin(app: &TestApp) -> (Client, String) {
    let c = login_as(app, &app.agency.admin.email.clone()).await;
    let html = page(app, &c, "/my-work").await;
    let csrf = csrf_of(&html);
    (c, csrf)
}

/// Posts a form with the CSRF token.
async fn post(c: &Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    c.post(url).form(&form).send().await.expect("POST")
}

/// Posts a form that must redirect; where to.
async fn post_ok(c: &Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> String {
    let resp = post(c, url, csrf, fields).await;
    let status = resp.status();
    let to = location(&resp);
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::SEE_OTHER, "POST {url}: {body}");
    to
}

/// Posts a form that must be refused with `status`; the page.
async fn post_refused(
    c: &Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
    status: StatusCode,
) -> String {
    let resp = post(c, url, csrf, fields).await;
    let got = resp.status();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "POST {url}: {body}");
    body
}

/// A member with the test password and these roles.
async fn member(app: &TestApp, email: &str, name: &str, roles: &[&str]) -> String {
    let hash = baton_server::auth::password::hash_async(ADMIN_PASSWORD.into()).await;
    members::create(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        MemberInput {
            email: email.into(),
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            is_admin: false,
            password_hash: Some(hash),
        },
    )
    .await
    .expect("create member")
    .id
}

/// Starts a run through the API; its JSON.
async fn start(api: &Api, token: &str, sop: &str, client: &str, started_at: i64) -> Value {
    let r = api
        .post(
            "/api/v1/sop-runs",
            token,
            json!({"sop": sop, "client": client, "started_at": baton_core::clock::rfc3339(started_at)}),
        )
        .await;
    r.expect(201, "start run");
    r.body.clone()
}

async fn run_json(api: &Api, token: &str, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/sop-runs/{id}"), token).await;
    r.expect(200, "get run");
    r.body.clone()
}

fn item_done(run: &Value, key: &str) -> bool {
    run["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no item {key}"))["done"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn my_work_traffic_and_a_clients_runs() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "Globex").await;
    // The agency's own copy of access setup, started by hand and about
    // nothing Baton tracks: its checklist is ticked by people.
    let mut own = api.get("/api/v1/sops/access_setup", &t).await.body;
    let obj = own.as_object_mut().unwrap();
    for k in [
        "key",
        "sla_text",
        "version",
        "customized",
        "default",
        "changed_by",
        "changed_at",
    ] {
        obj.remove(k);
    }
    own["name"] = json!("Access check");
    own["trigger"] = json!("manual");
    own["reason"] = json!("Checked by hand for this test");
    api.put("/api/v1/sops/access_check", &t, own)
        .await
        .expect(200, "the agency's own SOP");
    // On track (unowned: no team, no traffic control), breached, at risk.
    let fresh = start(&api, &t, "access_check", &client, MON_9).await;
    let late = start(&api, &t, "access_check", &client, MON_9 - 100 * HOUR).await;
    let risky = start(&api, &t, "offboarding", &client, MON_9 - 130 * HOUR).await;
    assert_eq!(fresh["status"], "on_track");
    assert_eq!(late["status"], "breached");
    assert_eq!(risky["status"], "at_risk");
    let (fresh, late, risky) = (
        fresh["id"].as_str().unwrap().to_string(),
        late["id"].as_str().unwrap().to_string(),
        risky["id"].as_str().unwrap().to_string(),
    );
    let (c, csrf) = admin(&app).await;
    let runs_url = app.url(&format!("/clients/{client}/runs"));

    // Traffic control: breached first, then at risk; all three unowned.
    let html = page(&app, &c, "/traffic").await;
    assert!(html.contains("data-testid=\"traffic\""));
    assert!(html.contains("1 breached · 1 at risk · 3 unowned · 0 paused"));
    let late_list = between(&html, "data-testid=\"traffic-late\"", "</ul>");
    let (b, r) = (
        late_list
            .find(&format!("id=\"line-{late}\""))
            .expect("breached run listed"),
        late_list
            .find(&format!("id=\"line-{risky}\""))
            .expect("at-risk run listed"),
    );
    assert!(b < r, "breached before at risk");
    assert!(!late_list.contains(&fresh), "an on-track run is not late");
    assert!(late_list.contains("Breached") && late_list.contains("At risk"));
    assert!(late_list.contains(&format!("href=\"/clients/{client}/runs#run-{late}\"")));
    assert!(late_list.contains("Globex"));
    assert!(late_list.contains("1 day 4 h overdue"), "{late_list}");
    let unowned = between(&html, "data-testid=\"traffic-unowned\"", "</ul>");
    for id in [&fresh, &late, &risky] {
        assert!(unowned.contains(id.as_str()));
    }
    assert!(html.contains("No run is paused."));

    // My work: nothing owned yet; the escalations went to the admin.
    let html = page(&app, &c, "/my-work").await;
    assert!(html.contains("No open runs are yours."));
    assert!(html.contains("2 unread"));
    assert!(html.contains("Breached: Access check for Globex"));
    assert!(html.contains("At risk: Offboarding and access revoke for Globex"));
    assert_eq!(html.matches("notice-line notice-unread").count(), 2);
    let to = post_ok(&c, &app.url("/my-work/notices/read"), &csrf, &[]).await;
    assert_eq!(to, "/my-work?notice=notices_read");
    let html = page(&app, &c, &to).await;
    assert!(html.contains("Notices marked read."));
    assert!(!html.contains("notice-unread") && !html.contains("Mark all read"));
    assert!(html.contains("Breached: Access check for Globex"));

    // Assign the fresh run to the admin: it is their work now.
    let to = post_ok(
        &c,
        &format!("{runs_url}/{fresh}/assign"),
        &csrf,
        &[("member", &app.agency.admin.id)],
    )
    .await;
    assert_eq!(
        to,
        format!("/clients/{client}/runs?notice=run_assigned#run-{fresh}")
    );
    let html = page(&app, &c, "/my-work").await;
    let line = between(&html, &format!("id=\"line-{fresh}\""), "</li>");
    assert!(
        line.contains("On track") && line.contains("in 3 days 0 h"),
        "{line}"
    );
    assert!(line.contains("checklist 0/4") && line.contains("assigned by hand"));
    assert!(
        line.contains("Thu 5 Mar, 09:00"),
        "due in the agency's zone: {line}"
    );

    // The client's runs: tick one item, complete is refused, untick.
    let html = page(&app, &c, &format!("/clients/{client}/runs")).await;
    assert!(html.contains("3 open, soonest due first · 0 done"));
    let card = between(&html, &format!("id=\"run-{fresh}\""), "</article>");
    assert!(card.contains("name=\"done\" value=\"platforms_listed\">"));
    assert!(card.contains("24–72 hours"));
    let to = post_ok(
        &c,
        &format!("{runs_url}/{fresh}/checklist"),
        &csrf,
        &[("done", "platforms_listed")],
    )
    .await;
    assert!(to.contains("notice=checklist_saved"), "{to}");
    assert!(item_done(
        &run_json(&api, &t, &fresh).await,
        "platforms_listed"
    ));
    let html = page(&app, &c, &to).await;
    assert!(html.contains("Checklist saved."));
    let card = between(&html, &format!("id=\"run-{fresh}\""), "</article>");
    assert!(card.contains("value=\"platforms_listed\" checked"));
    assert!(card.contains("name=\"was\" value=\"platforms_listed\""));
    let html = post_refused(
        &c,
        &format!("{runs_url}/{fresh}/complete"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    let alert = alert_of(&html).expect("an error flash");
    assert!(
        alert.starts_with("The definition of done is not met: 3 still to do"),
        "{alert}"
    );
    assert!(between(&html, &format!("id=\"run-{fresh}\""), "</article>").contains(&alert));
    // Untick: the box was ticked when shown and is not any more.
    post_ok(
        &c,
        &format!("{runs_url}/{fresh}/checklist"),
        &csrf,
        &[("was", "platforms_listed")],
    )
    .await;
    assert!(!item_done(
        &run_json(&api, &t, &fresh).await,
        "platforms_listed"
    ));
    // A stale page (shown before a teammate ticked) does not undo the tick.
    let _ = api
        .put(
            &format!("/api/v1/sop-runs/{fresh}/checklist"),
            &t,
            json!({"items": {"access_requested": true}}),
        )
        .await
        .expect(200, "tick by API");
    let to = post_ok(&c, &format!("{runs_url}/{fresh}/checklist"), &csrf, &[]).await;
    assert!(to.contains("notice=checklist_unchanged"));
    assert!(item_done(
        &run_json(&api, &t, &fresh).await,
        "access_requested"
    ));
    // Everything ticked: complete, on time.
    let all = [
        ("was", "access_requested"),
        ("done", "platforms_listed"),
        ("done", "access_requested"),
        ("done", "platform_access_verified"),
        ("done", "folder_access_verified"),
    ];
    post_ok(&c, &format!("{runs_url}/{fresh}/checklist"), &csrf, &all).await;
    let to = post_ok(&c, &format!("{runs_url}/{fresh}/complete"), &csrf, &[]).await;
    assert!(to.contains("notice=run_completed"));
    let html = page(&app, &c, &to).await;
    let card = between(&html, &format!("id=\"run-{fresh}\""), "</article>");
    assert!(
        card.contains("Done by Test Admin") && card.contains("On time"),
        "{card}"
    );
    assert!(!card.contains("/complete"), "a done run has no actions");
    assert!(html.contains("2 open, soonest due first · 1 done"));

    // Pause needs a reason; paused runs show on traffic control; resume.
    let html = post_refused(
        &c,
        &format!("{runs_url}/{late}/pause"),
        &csrf,
        &[("reason", "  ")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Reason: say what the run waits on.")
    );
    assert!(between(&html, &format!("id=\"run-{late}\""), "</article>")
        .contains("<details class=\"disclosure\" open>"));
    let to = post_ok(
        &c,
        &format!("{runs_url}/{late}/pause"),
        &csrf,
        &[("reason", "Waiting on the client's Meta admin")],
    )
    .await;
    assert!(to.contains("notice=run_paused"));
    let html = page(&app, &c, "/traffic").await;
    let paused = between(&html, "data-testid=\"traffic-paused\"", "</ul>");
    assert!(paused.contains(&late) && paused.contains("Waiting on the client&#39;s Meta admin"));
    assert!(!between(&html, "data-testid=\"traffic-late\"", "</ul>").contains(&late));
    let html = page(&app, &c, &format!("/clients/{client}/runs")).await;
    let card = between(&html, &format!("id=\"run-{late}\""), "</article>");
    assert!(card.contains("Paused") && card.contains("/resume") && !card.contains("/pause\""));
    let to = post_ok(&c, &format!("{runs_url}/{late}/resume"), &csrf, &[]).await;
    assert!(to.contains("notice=run_resumed"));
    assert_eq!(run_json(&api, &t, &late).await["status"], "breached");
    // Resuming a run that is not paused is refused on the page.
    let html = post_refused(
        &c,
        &format!("{runs_url}/{late}/resume"),
        &csrf,
        &[],
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(alert_of(&html).as_deref(), Some("This run is not paused."));
    // Done late.
    let all: Vec<(&str, &str)> = all[1..].to_vec();
    post_ok(&c, &format!("{runs_url}/{late}/checklist"), &csrf, &all).await;
    post_ok(&c, &format!("{runs_url}/{late}/complete"), &csrf, &[]).await;
    let html = page(&app, &c, &format!("/clients/{client}/runs")).await;
    let card = between(&html, &format!("id=\"run-{late}\""), "</article>");
    assert!(
        card.contains("Late") && card.contains("done 1 day 4 h late"),
        "{card}"
    );

    // Assigning someone who is not an active member is refused.
    let html = post_refused(
        &c,
        &format!("{runs_url}/{risky}/assign"),
        &csrf,
        &[("member", "mem_nobody")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(alert_of(&html).unwrap().starts_with("Assign to: "));

    // Start by hand, at a time typed in the agency's zone.
    agencies::update(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        AgencyPatch {
            timezone: Some("Europe/Berlin".into()),
            ..AgencyPatch::default()
        },
    )
    .await
    .unwrap();
    let html = post_refused(
        &c,
        &runs_url,
        &csrf,
        &[("sop", "offboarding"), ("started_at", "yesterday")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Start time: enter a date and time like 2026-03-01T09:30.")
    );
    assert!(html.contains("value=\"yesterday\""));
    assert!(html.contains("<option value=\"offboarding\" selected>"));
    let html = post_refused(
        &c,
        &runs_url,
        &csrf,
        &[("sop", "nope"), ("started_at", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(alert_of(&html).unwrap().starts_with("SOP: "), "{html}");
    let to = post_ok(
        &c,
        &runs_url,
        &csrf,
        &[("sop", "publishing_qa"), ("started_at", "2026-03-01T09:30")],
    )
    .await;
    assert!(to.contains("notice=run_started#run-run_"), "{to}");
    let id = to.rsplit("#run-").next().unwrap();
    let run = run_json(&api, &t, id).await;
    // 09:30 in Berlin is 08:30 UTC.
    assert_eq!(ms(&run["started_at"]), 1_772_353_800_000);
    assert_eq!(run["sop_key"], "publishing_qa");

    // The handoff brief's items are read-only here.
    let to = post_ok(&c, &runs_url, &csrf, &[("sop", "sales_handoff")]).await;
    let handoff = to.rsplit("#run-").next().unwrap().to_string();
    let html = page(&app, &c, &format!("/clients/{client}/runs")).await;
    let card = between(&html, &format!("id=\"run-{handoff}\""), "</article>");
    assert!(card.contains("Ticks itself when the handoff brief has this section"));
    assert!(card.contains(&format!("href=\"/clients/{client}/handoff\"")));
    assert!(!card.contains("name=\"done\""), "no editable box: {card}");
    assert!(!card.contains("/checklist\""), "no checklist form");
    let to = post_ok(
        &c,
        &format!("{runs_url}/{handoff}/checklist"),
        &csrf,
        &[("done", "scope_documented")],
    )
    .await;
    assert!(to.contains("notice=checklist_unchanged"));
    assert!(!item_done(
        &run_json(&api, &t, &handoff).await,
        "scope_documented"
    ));

    // Forms without the session's CSRF token are refused.
    let resp = post(&c, &format!("{runs_url}/{risky}/complete"), "forged", &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    app.shutdown().await;
}

#[tokio::test]
async fn traffic_control_and_my_work_explain_their_empty_state() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let (c, _) = admin(&app).await;
    let html = page(&app, &c, "/traffic").await;
    assert!(html.contains("data-testid=\"traffic-empty\""));
    assert!(html.contains("Nothing needs traffic control"));
    assert!(html.contains("aria-current=\"page\">Traffic</a>"));
    let html = page(&app, &c, "/my-work").await;
    assert!(html.contains("No open runs are yours.") && html.contains("No notices."));
    assert!(html.contains("aria-current=\"page\">My work</a>"));
    app.shutdown().await;
}

#[tokio::test]
async fn who_decides_what_and_the_role_map() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let pat = member(&app, "pat@northwind.test", "Pat PM", &["project_manager"]).await;
    let client = api.create_client(&t, "Initech").await;
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        &t,
        json!({"members": [{"role": "project_manager", "member_id": pat}], "traffic_control": pat}),
    )
    .await
    .expect(200, "set team");
    let (c, _) = admin(&app).await;

    let html = page(&app, &c, &format!("/clients/{client}/decides")).await;
    assert!(html.contains("Who decides what · Initech"));
    assert!(between(&html, "id=\"seat-project_manager\"", "</dd>").contains("Pat PM"));
    assert!(between(&html, "id=\"seat-account_lead\"", "</dd>").contains("Unfilled"));
    assert!(html.contains("9 roles unfilled"));
    assert!(between(&html, "id=\"approvers\"", "</section>").contains("Nobody"));
    assert!(between(&html, "id=\"traffic-control\"", "</section>").contains("Pat PM"));
    let access = between(&html, "id=\"sop-access_setup\"", "</tr>");
    assert!(access.contains("Pat PM") && access.contains("the Project Manager seat"));
    assert!(access.contains("No Account Lead") && access.contains("only the owner (Pat PM)"));
    let intake = between(&html, "id=\"sop-content_intake\"", "</tr>");
    assert!(
        intake.contains("traffic control: no Strategist on the team"),
        "{intake}"
    );

    // An account lead approves and takes the escalations.
    api.put(
        &format!("/api/v1/clients/{client}/team"),
        &t,
        json!({"members": [
            {"role": "project_manager", "member_id": pat},
            {"role": "account_lead", "member_id": app.agency.admin.id},
        ], "traffic_control": pat}),
    )
    .await
    .expect(200, "set team");
    let html = page(&app, &c, &format!("/clients/{client}/decides")).await;
    let approvers = between(&html, "id=\"approvers\"", "</section>");
    assert!(approvers.contains("Test Admin") && approvers.contains("Account lead seat"));
    let access = between(&html, "id=\"sop-access_setup\"", "</tr>");
    assert!(
        access.contains("Test Admin") && access.contains("the Account Lead seat, with the owner")
    );
    assert!(
        approvers.contains("(none yet)"),
        "no brief yet: {approvers}"
    );
    // The handoff brief's approving stakeholders approve too.
    handoff_briefs::save(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &Actor::cli(),
            app.state.now(),
        ),
        &baton_core::types::ClientId::parse(&client).unwrap(),
        HandoffBrief {
            goals: vec!["More leads".into()],
            stakeholders: vec![
                Stakeholder {
                    name: "Dana <i>Reyes</i>".into(),
                    role: "CMO".into(),
                    email: None,
                    approves: true,
                },
                Stakeholder {
                    name: "Sam Viewer".into(),
                    role: "Intern".into(),
                    email: None,
                    approves: false,
                },
            ],
            ..HandoffBrief::default()
        },
    )
    .await
    .expect("save brief");
    let html = page(&app, &c, &format!("/clients/{client}/decides")).await;
    let approvers = between(&html, "id=\"approvers\"", "</section>");
    assert!(approvers.contains("Test Admin"));
    assert!(
        approvers.contains("Dana &#60;i&#62;Reyes&#60;/i&#62;"),
        "{approvers}"
    );
    assert!(approvers.contains("Client stakeholder, CMO (handoff brief version 1)"));
    assert!(!approvers.contains("Sam Viewer") && !approvers.contains("(none yet)"));
    // A handoff run shows the brief's done sections ticked, read-only.
    let t2 = t.clone();
    let run = start(&api, &t2, "sales_handoff", &client, MON_9).await;
    let run = run["id"].as_str().unwrap().to_string();
    let html = page(&app, &c, &format!("/clients/{client}/runs")).await;
    let card = between(&html, &format!("id=\"run-{run}\""), "</article>");
    assert!(
        card.contains("disabled checked> <label for=\"item-"),
        "{card}"
    );
    assert!(card.contains("<span class=\"count\">2/6</span>"), "{card}");

    // The client page links here and to the runs.
    let html = page(&app, &c, &format!("/clients/{client}")).await;
    assert!(html.contains(&format!("href=\"/clients/{client}/decides\"")));
    assert!(html.contains(&format!("href=\"/clients/{client}/runs\"")));

    // The role map: ownership, outputs, KPIs, members and SOPs per role.
    let html = page(&app, &c, "/roles").await;
    let pm = between(&html, "id=\"role-project_manager\"", "</article>");
    assert!(pm.contains("Project Manager (Delivery Ops)"));
    assert!(pm.contains("Workflow, resourcing, due dates"));
    assert!(pm.contains("Production calendar, traffic control, SOP adherence"));
    assert!(pm.contains("On-time rate, cycle time, rework rate"));
    assert!(pm.contains("Pat PM"));
    assert!(
        pm.contains("href=\"/sops/access_setup\"") && pm.contains("href=\"/sops/offboarding\"")
    );
    let analyst = between(&html, "id=\"role-analyst\"", "</article>");
    assert!(analyst.contains("Nobody holds this role"));
    assert!(analyst.contains("Weekly performance cadence"));
    app.shutdown().await;
}

#[tokio::test]
async fn sop_library_detail_and_admin_edits() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    member(&app, "pat@northwind.test", "Pat PM", &["project_manager"]).await;
    let (c, csrf) = admin(&app).await;

    let html = page(&app, &c, "/sops").await;
    assert!(html.contains("9 standard operating procedures"));
    for name in [
        "Sales-to-delivery handoff",
        "Access and permissions setup",
        "Content intake and brief",
        "Creative production",
        "Review and approval",
        "Publishing QA",
        "Weekly performance cadence",
        "Incident response (brand risk)",
        "Offboarding and access revoke",
    ] {
        assert!(html.contains(name), "{name} in the library");
    }
    let row = between(&html, "id=\"sop-access_setup\"", "</tr>");
    assert!(row.contains("kickoff_scheduled") && row.contains("Project Manager"));
    assert!(row.contains("24–72 hours") && row.contains("4 items"));
    assert!(row.contains("Baton&#39;s default SOP library"), "{row}");

    let html = page(&app, &c, "/sops/access_setup").await;
    assert!(html.contains("Save new version") && html.contains("Saving writes version 2."));
    assert!(html.contains("platforms_listed | Required platforms and folders listed"));
    let v1 = between(&html, "id=\"version-1\"", "</tr>");
    assert!(v1.contains("Baton&#39;s default SOP library"), "{v1}");
    let form = |target: &'static str, limit: &'static str, reason: &'static str| {
        vec![
            ("name", "Access and permissions setup"),
            ("trigger", "kickoff_scheduled"),
            ("owner_role", "project_manager"),
            ("escalation_role", "account_lead"),
            ("sla_unit", "hours"),
            ("sla_target", target),
            ("sla_limit", limit),
            (
                "checklist",
                "platforms_listed | Required platforms and folders listed\n\
                 access_requested | Access requested from the client\n\
                 platform_access_verified | Access verified on every required platform\n\
                 folder_access_verified | Access verified on shared folders and drives",
            ),
            ("reason", reason),
        ]
    };
    let url = app.url("/sops/access_setup");

    // A bad SLA shows the form again with what was typed.
    let html = post_refused(
        &c,
        &url,
        &csrf,
        &form("80", "72", "Typed reason"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("SLA: target (80) must not exceed limit (72).")
    );
    assert!(html.contains("name=\"sla_target\" value=\"80\""));
    assert!(html.contains(">Typed reason</textarea>"));
    let html = post_refused(
        &c,
        &url,
        &csrf,
        &form("abc", "72", "x"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(alert_of(&html)
        .unwrap()
        .starts_with("SLA: the at-risk target must be a number"));
    let html = post_refused(
        &c,
        &url,
        &csrf,
        &form("24", "72", "  "),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(alert_of(&html)
        .unwrap()
        .starts_with("Reason: say why the SOP changes"));
    let mut bad = form("24", "72", "x");
    bad[7].1 = "no bar here";
    let html = post_refused(&c, &url, &csrf, &bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        alert_of(&html).as_deref(),
        Some("Checklist: line 1 must be written as key | label.")
    );
    // Saving the form as shown changes nothing.
    let to = post_ok(&c, &url, &csrf, &form("24", "72", "No change")).await;
    assert_eq!(to, "/sops/access_setup?notice=sop_unchanged");

    // A real edit is version 2, in the changelog with who and why.
    let to = post_ok(
        &c,
        &url,
        &csrf,
        &form("12", "48", "Clients answer faster now"),
    )
    .await;
    assert_eq!(to, "/sops/access_setup?notice=sop_saved");
    let html = page(&app, &c, &to).await;
    assert!(html.contains("SOP saved as a new version."));
    assert!(html.contains("Version 2") && html.contains("12–48 hours"));
    let v2 = between(&html, "id=\"version-2\"", "</tr>");
    assert!(v2.contains("Test Admin") && v2.contains("Clients answer faster now"));
    assert!(v2.contains("Mon 2 Mar, 09:00"), "{v2}");
    let html = page(&app, &c, "/sops").await;
    let row = between(&html, "id=\"sop-access_setup\"", "</tr>");
    assert!(row.contains("12–48 hours") && row.contains("Edited") && row.contains("Test Admin"));

    // Unknown SOPs are 404; members who are not admins see no form and
    // cannot post one.
    let (status, _) = get(&c, &app.url("/sops/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let p = login_as(&app, "pat@northwind.test").await;
    let html = page(&app, &p, "/sops/access_setup").await;
    assert!(!html.contains("Save new version") && !html.contains("name=\"reason\""));
    let p_csrf = csrf_of(&html);
    let resp = post(&p, &url, &p_csrf, &form("1", "2", "Sneaky")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let html = page(&app, &c, "/sops/access_setup").await;
    assert!(!html.contains("Sneaky") && !html.contains("id=\"version-3\""));
    app.shutdown().await;
}

#[tokio::test]
async fn names_are_escaped_and_other_agencies_runs_are_not_found() {
    let (app, _clock) = TestApp::spawn_at(MON_9).await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let client = api.create_client(&t, "<b>X</b>").await;
    let run = start(&api, &t, "access_setup", &client, MON_9 - 100 * HOUR).await;
    let run = run["id"].as_str().unwrap().to_string();
    let rival = app.other_agency("rival@rival.test").await;
    let theirs = api.create_client(&rival.token, "Rival Client").await;
    let their_run = start(
        &api,
        &rival.token,
        "access_setup",
        &theirs,
        MON_9 - 100 * HOUR,
    )
    .await;
    let their_run = their_run["id"].as_str().unwrap().to_string();
    let (c, csrf) = admin(&app).await;

    let escaped = "&#60;b&#62;X&#60;/b&#62;";
    for path in [
        "/traffic".to_string(),
        "/my-work".to_string(),
        format!("/clients/{client}/runs"),
        format!("/clients/{client}/decides"),
    ] {
        let html = page(&app, &c, &path).await;
        assert!(html.contains(escaped), "{path} shows the name escaped");
        assert!(!html.contains("<b>X</b>"), "{path} shows markup");
        assert!(!html.contains("Rival Client") && !html.contains(&their_run));
    }

    // Another agency's client and run ids are not found, in any combination.
    for path in [
        format!("/clients/{theirs}/runs"),
        format!("/clients/{theirs}/decides"),
    ] {
        let (status, _) = get(&c, &app.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
    }
    for (cl, r, action, fields) in [
        (&theirs, &their_run, "complete", vec![]),
        (&client, &their_run, "complete", vec![]),
        (&client, &their_run, "pause", vec![("reason", "x")]),
        (&client, &their_run, "resume", vec![]),
        (
            &client,
            &their_run,
            "checklist",
            vec![("done", "platforms_listed")],
        ),
        (
            &client,
            &their_run,
            "assign",
            vec![("member", app.agency.admin.id.as_str())],
        ),
        (&theirs, &run, "complete", vec![]),
    ] {
        let resp = post(
            &c,
            &app.url(&format!("/clients/{cl}/runs/{r}/{action}")),
            &csrf,
            &fields,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{action} {cl} {r}");
    }
    let resp = post(
        &c,
        &app.url(&format!("/clients/{theirs}/runs")),
        &csrf,
        &[("sop", "access_setup")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Their run is untouched; ours cannot be assigned to their admin.
    let r = api
        .get(&format!("/api/v1/sop-runs/{their_run}"), &rival.token)
        .await;
    assert_eq!(r.body["paused_at"], Value::Null);
    let resp = post(
        &c,
        &app.url(&format!("/clients/{client}/runs/{run}/assign")),
        &csrf,
        &[("member", rival.admin.id.as_str())],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.shutdown().await;
}

#[tokio::test]
async fn the_dashboard_shows_the_on_time_rate_and_what_is_late() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = app.agency.token.clone();
    let (c, _) = admin(&app).await;
    let html = page(&app, &c, "/").await;
    assert!(html.contains("SOPs on time"), "{html}");
    assert!(html.contains("No SOP run was due or done"), "{html}");

    let client = api.create_client(&t, "Dash Co").await;
    let now = common::now_ms();
    // One breached (started 100 h ago, 72 h limit), one done on time.
    start(&api, &t, "access_setup", &client, now - 100 * 3_600_000).await;
    let done = start(&api, &t, "offboarding", &client, now - 3_600_000).await;
    let id = done["id"].as_str().unwrap();
    // Nothing is held, so "access revoked" ticked itself; people tick the rest.
    let items: serde_json::Map<String, Value> = done["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["auto"] == false)
        .map(|i| (i["key"].as_str().unwrap().to_string(), json!(true)))
        .collect();
    assert_eq!(items.len(), 2, "{done}");
    api.put(
        &format!("/api/v1/sop-runs/{id}/checklist"),
        &t,
        json!({"items": items}),
    )
    .await
    .expect(200, "tick all");
    api.post(&format!("/api/v1/sop-runs/{id}/complete"), &t, json!({}))
        .await
        .expect(200, "complete");
    let html = page(&app, &c, "/").await;
    let card = between(&html, "id=\"sop-kpi\"", "</section>");
    assert!(card.contains("1 breached"), "{card}");
    // Offboarding done on time; access setup still open past its due time.
    assert!(
        card.contains("50% on time · 1 of 2 done by their due time"),
        "{card}"
    );
    assert!(card.contains("Offboarding and access revoke"), "{card}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_sop_page_says_which_items_tick_themselves() {
    let app = TestApp::spawn().await;
    let (c, _) = admin(&app).await;
    let html = page(&app, &c, "/sops/review_approval").await;
    let list = between(&html, "id=\"checklist\"", "</ol>");
    assert!(
        list.contains("Ticks itself when the round is decided and its feedback consolidated."),
        "{list}"
    );
    assert!(html.contains("id=\"self-ticking\""));
    // Offboarding: revoking is a fact, archiving assets is not.
    let html = page(&app, &c, "/sops/offboarding").await;
    let list = between(&html, "id=\"checklist\"", "</ol>");
    assert_eq!(list.matches("Ticks itself").count(), 1, "{list}");
    // Weekly reporting: shipping the week's scorecard ticks all of it.
    let html = page(&app, &c, "/sops/weekly_performance").await;
    let list = between(&html, "id=\"checklist\"", "</ol>");
    assert_eq!(
        list.matches("Ticks itself when the week&#39;s scorecard is shipped")
            .count(),
        4,
        "{list}"
    );
    app.shutdown().await;
}
