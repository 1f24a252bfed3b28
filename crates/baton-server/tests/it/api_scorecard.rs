//! `/api/v1/measurables`, `/api/v1/scorecard`, `/api/v1/scorecards` and
//! `/api/v1/actions`: the default measurables, a manual one, `week_ended`
//! at the end of the last business day (once, starting the weekly runs of
//! active clients), shipping a week with exactly 3 insights and 3 actions
//! (completing those runs; a client's week starts its run then), actions
//! tracked to done with one overdue notice, the frozen week, bad input and
//! tenant isolation.

use crate::common;

use common::{count, Api};
use serde_json::{json, Value};

use baton_server::testing::TestApp;

/// Monday 2026-03-02 09:00:00 UTC (ISO week 2026-W10).
const T0: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Friday 2026-03-06 17:00 UTC: the end of W10's last business day.
const W10_END: i64 = T0 + 4 * DAY + 8 * HOUR;

fn ship_body(week: &str, owner: &str, insights: usize, actions: usize) -> Value {
    ship_due(week, owner, insights, actions, "2026-03-13")
}

fn ship_due(week: &str, owner: &str, insights: usize, actions: usize, due: &str) -> Value {
    json!({
        "week": week,
        "insights": (1..=insights).map(|i| format!("Insight {i}")).collect::<Vec<_>>(),
        "actions": (1..=actions)
            .map(|i| json!({"text": format!("Action {i}"), "owner": owner, "due": due}))
            .collect::<Vec<_>>(),
    })
}

async fn weekly_runs(app: &TestApp, client: &str, week: &str) -> (i64, i64) {
    let all = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM sop_runs WHERE sop_key = 'weekly_performance' \
             AND subject_type = 'week' AND subject_id = '{week}' AND client_id = $1"
        ),
        client,
    )
    .await;
    let done = count(
        app,
        &format!(
            "SELECT COUNT(*) FROM sop_runs WHERE sop_key = 'weekly_performance' \
             AND subject_type = 'week' AND subject_id = '{week}' AND client_id = $1 AND done_at IS NOT NULL"
        ),
        client,
    )
    .await;
    (all, done)
}

#[tokio::test]
async fn a_week_ends_ships_and_its_actions_are_tracked_to_done() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let me = app.agency.admin.id.clone();
    let harbor = api.create_client(t, "Harbor Fitness").await;
    for e in ["contract_signed", "onboarding_completed"] {
        api.event(t, &harbor, json!({"type": e}))
            .await
            .expect(201, e);
    }
    let acme = api.create_client(t, "Acme Bakery").await;
    api.event(t, &acme, json!({"type": "contract_signed"}))
        .await
        .expect(201, "acme signed");
    app.drain_outbox().await;

    // The default set: the seed's six ops KPIs, each filled by Baton.
    let m = api.get("/api/v1/measurables", t).await;
    m.expect(200, "measurables");
    let sources: Vec<&str> = m
        .items()
        .iter()
        .map(|x| x["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        [
            "time_to_verified_access",
            "time_to_first_value",
            "cycle_time",
            "rework_rate",
            "on_time_delivery_rate",
            "incident_count"
        ]
    );
    assert_eq!(
        m.items()[4]["rule"],
        "green when at least 90%, red otherwise"
    );
    // Looking again creates nothing more.
    assert_eq!(api.get("/api/v1/measurables", t).await.items().len(), 6);
    let posts = api
        .post(
            "/api/v1/measurables",
            t,
            json!({"name": "Posts published", "owner": me, "unit": "posts", "goal": 12,
                   "comparator": ">=", "source": "manual"}),
        )
        .await;
    posts.expect(201, "manual measurable");
    assert_eq!(
        posts.body["rule"],
        "green when at least 12 posts, red otherwise"
    );
    let posts_id = posts.id();

    // The week clock starts tracking silently, then records W10's end once.
    app.tick_scheduler().await;
    clock.set(W10_END - 1);
    app.tick_scheduler().await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE type = $1",
            "week_ended"
        )
        .await,
        0,
        "not before the end of Friday"
    );
    clock.set(W10_END);
    app.tick_scheduler().await;
    app.tick_scheduler().await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE type = $1",
            "week_ended"
        )
        .await,
        1,
        "once"
    );
    app.drain_outbox().await;
    assert_eq!(
        weekly_runs(&app, &harbor, "2026-W10").await,
        (1, 0),
        "active client"
    );
    assert_eq!(
        weekly_runs(&app, &acme, "2026-W10").await,
        (0, 0),
        "still onboarding"
    );
    // The manual measurable's owner is reminded to enter the week's number.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notices WHERE kind = 'scorecard.values_reminded' AND member_id = $1",
            &me
        )
        .await,
        1
    );
    api.post(
        &format!("/api/v1/measurables/{posts_id}/values"),
        t,
        json!({"week": "2026-W10", "value": 9}),
    )
    .await
    .expect(200, "value");

    // Exactly three and three.
    let r = api
        .post("/api/v1/scorecards", t, ship_body("2026-W10", &me, 2, 3))
        .await;
    r.problem(422, "two insights");
    assert!(r.text.contains("exactly 3 insights"), "{}", r.text);
    let r = api
        .post("/api/v1/scorecards", t, ship_body("2026-W10", &me, 3, 4))
        .await;
    r.problem(422, "four actions");
    assert!(r.text.contains("exactly 3 actions"), "{}", r.text);
    api.post("/api/v1/scorecards", t, ship_body("2026-W12", &me, 3, 3))
        .await
        .problem(422, "a week that has not started");

    clock.set(W10_END + 2 * DAY + 17 * HOUR);
    let s = api
        .post("/api/v1/scorecards", t, ship_body("2026-W10", &me, 3, 3))
        .await;
    s.expect(201, "ship");
    assert_eq!(s.body["week"], "2026-W10");
    assert_eq!(s.body["insights"].as_array().unwrap().len(), 3);
    assert_eq!(s.body["actions"].as_array().unwrap().len(), 3);
    assert_eq!(s.body["runs_done"], 1);
    assert_eq!(
        weekly_runs(&app, &harbor, "2026-W10").await,
        (1, 1),
        "shipped: done"
    );
    api.post("/api/v1/scorecards", t, ship_body("2026-W10", &me, 3, 3))
        .await
        .problem(409, "shipped twice");

    // A client's week ships on its own and starts its run then.
    let mut body = ship_body("2026-W10", &me, 3, 3);
    body["client"] = json!(acme);
    api.post("/api/v1/scorecards", t, body)
        .await
        .expect(201, "acme ships");
    assert_eq!(
        weekly_runs(&app, &acme, "2026-W10").await,
        (1, 1),
        "created then"
    );

    // Actions: on the owner's list, done once.
    let open = api.get("/api/v1/actions?open=true", t).await;
    open.expect(200, "actions");
    assert_eq!(open.items().len(), 6);
    let first = s.body["actions"][0]["id"].as_str().unwrap().to_string();
    let d = api
        .post(&format!("/api/v1/actions/{first}/done"), t, json!({}))
        .await;
    d.expect(200, "done");
    assert_eq!(d.body["done"], true);
    api.post(&format!("/api/v1/actions/{first}/done"), t, json!({}))
        .await
        .problem(409, "done twice");
    assert_eq!(
        api.get("/api/v1/actions?open=true", t).await.items().len(),
        5
    );
    assert_eq!(
        api.get(&format!("/api/v1/actions?open=true&owner={me}"), t)
            .await
            .items()
            .len(),
        5
    );

    // Overdue after Friday the 13th: one notice per open action, once.
    clock.set(T0 + 12 * DAY);
    app.tick_scheduler().await;
    app.tick_scheduler().await;
    let overdue = count(
        &app,
        "SELECT COUNT(*) FROM notices WHERE kind = $1",
        "scorecard.action_overdue",
    )
    .await;
    assert_eq!(overdue, 5);

    // Next week's scorecard shows last week's actions with their state,
    // and W10 as shipped (frozen).
    let v = api.get("/api/v1/scorecard?week=2026-W11", t).await;
    v.expect(200, "scorecard");
    assert_eq!(v.body["weeks"].as_array().unwrap().len(), 13);
    let last = v.body["last_week_actions"].as_array().unwrap();
    assert_eq!(last.len(), 3);
    assert_eq!(last.iter().filter(|a| a["done"] == true).count(), 1);
    let row = v.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measurable"]["id"] == posts_id.as_str())
        .expect("posts row")
        .clone();
    let w10 = &row["weeks"][11];
    assert_eq!(w10["week"], "2026-W10");
    assert_eq!(w10["value"], 9.0);
    assert_eq!(w10["status"], "off_track", "9 posts < 12");
    assert_eq!(w10["frozen"], true);
    assert_eq!(row["weeks"][12]["status"], "no_data");
    let csv = api
        .get("/api/v1/scorecard?week=2026-W11&format=csv", t)
        .await;
    csv.expect(200, "scorecard csv");
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(csv
        .text
        .starts_with("measurable,owner,unit,goal,week,value,status\r\n"));
    app.shutdown().await;
}

#[tokio::test]
async fn bad_measurables_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let me = app.agency.admin.id.clone();
    let base = json!({"name": "Leads", "owner": me, "unit": "leads", "goal": 10,
                      "comparator": ">=", "source": "manual"});
    let cases = [
        ("comparator", json!("=="), "comparator"),
        ("source", json!("revenue"), "source"),
        ("comparator", json!("range"), "goal"),
        ("owner", json!("mem_00000000000000000000000000"), "owner"),
    ];
    for (key, value, field) in cases {
        let mut body = base.clone();
        body[key] = value;
        let r = api.post("/api/v1/measurables", t, body).await;
        r.problem(422, key);
        assert_eq!(r.body["errors"][0]["field"], field, "{key}: {}", r.text);
    }
    // A KPI has its own unit.
    let r = api
        .post(
            "/api/v1/measurables",
            t,
            json!({"name": "Cycle", "owner": me, "unit": "posts", "goal": 5, "comparator": "<=",
                   "source": "cycle_time"}),
        )
        .await;
    r.problem(422, "kpi unit");
    assert_eq!(r.body["errors"][0]["field"], "unit");
    // A range as [low, high].
    let r = api
        .post(
            "/api/v1/measurables",
            t,
            json!({"name": "Posting cadence", "owner": me, "unit": "posts", "goal": [3, 5],
                   "comparator": "range", "source": "manual"}),
        )
        .await;
    r.expect(201, "range");
    assert_eq!(
        r.body["rule"],
        "green when between 3 posts and 5 posts, red otherwise"
    );
    // Only a manual measurable takes entered values.
    let kpi = api.get("/api/v1/measurables", t).await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A unit the document forbids (empty, spaces around it, two lines) is
    // refused, not read as "the KPI's own".
    for unit in ["", " days", "days ", "da\nys"] {
        let r = api
            .patch(
                &format!("/api/v1/measurables/{kpi}"),
                t,
                json!({"unit": unit, "archived": true}),
            )
            .await;
        r.problem(422, &format!("unit {unit:?}"));
        assert_eq!(r.body["errors"][0]["field"], "unit");
    }
    let listed = api.get("/api/v1/measurables", t).await;
    let m = listed
        .items()
        .iter()
        .find(|m| m["id"] == kpi.as_str())
        .expect("listed");
    assert_ne!(m["archived"], true, "nothing changed");
    api.post(
        &format!("/api/v1/measurables/{kpi}/values"),
        t,
        json!({"week": "2026-W10", "value": 1}),
    )
    .await
    .problem(409, "a KPI's value is Baton's");
    api.post(
        &format!("/api/v1/measurables/{kpi}/values"),
        t,
        json!({"week": "2026-W99", "value": 1}),
    )
    .await
    .problem(422, "no such week");
    let read = api.token(t, "read").await;
    api.post("/api/v1/measurables", &read, base.clone())
        .await
        .problem(403, "a read token cannot add");
    app.shutdown().await;
}

#[tokio::test]
async fn another_agency_sees_none_of_the_scorecard() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let me = app.agency.admin.id.clone();
    let client = api.create_client(t, "Ours Co").await;
    let now = app.state.now();
    let week = baton_core::scorecard::IsoWeek::containing(now, &jiff::tz::TimeZone::UTC);
    let due = week.sunday().to_string();
    let week = week.to_string();
    let ship_body = |week: &str, owner: &str, i: usize, a: usize| ship_due(week, owner, i, a, &due);
    let s = api
        .post("/api/v1/scorecards", t, ship_body(&week, &me, 3, 3))
        .await;
    s.expect(201, "ship");
    let action = s.body["actions"][0]["id"].as_str().unwrap().to_string();
    let measurable = api.get("/api/v1/measurables", t).await.items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rival = app.other_agency("admin@rival.test").await;
    let rt = &rival.token;
    assert!(api.get("/api/v1/actions", rt).await.items().is_empty());
    assert!(api.get("/api/v1/scorecards", rt).await.items().is_empty());
    api.post(&format!("/api/v1/actions/{action}/done"), rt, json!({}))
        .await
        .problem(404, "their action");
    api.patch(
        &format!("/api/v1/measurables/{measurable}"),
        rt,
        json!({"name": "Mine"}),
    )
    .await
    .problem(404, "their measurable");
    api.get(&format!("/api/v1/scorecard?client={client}"), rt)
        .await
        .problem(404, "their client");
    let mut body = ship_body(&week, &rival.admin.id, 3, 3);
    body["client"] = json!(client);
    api.post("/api/v1/scorecards", rt, body)
        .await
        .problem(404, "their client's week");
    // An owner from another agency is not an owner here.
    api.post("/api/v1/scorecards", rt, ship_body(&week, &me, 3, 3))
        .await
        .problem(422, "our member as their owner");
    app.shutdown().await;
}
