//! `/api/v1/cadences`, `/api/v1/cadence-occurrences`,
//! `/api/v1/cadence-decisions` and `/api/v1/cadence-adherence`: the four
//! default cadences, their meetings on the agency calendar (one per client
//! for the monthly review), held only with their artifact (the weekly
//! review by the shipped scorecard), flagged once when their day ends
//! without it, decisions searchable and tracked to done, the memo shared by
//! link, edits ruling from their day on, bad input and tenant isolation.

use crate::common;

use common::{count, Api};
use serde_json::{json, Value};

use baton_server::testing::TestApp;

/// Monday 2026-03-02 09:00:00 UTC (ISO week 2026-W10).
const T0: i64 = 1_772_442_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn find<'a>(items: &'a [Value], cadence: &str, date: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["cadence"] == cadence && o["date"] == date)
        .unwrap_or_else(|| panic!("no {cadence} on {date} in {items:#?}"))
}

async fn meetings(api: &Api, t: &str, from: &str, to: &str) -> Vec<Value> {
    let r = api
        .get(
            &format!("/api/v1/cadence-occurrences?from={from}&to={to}"),
            t,
        )
        .await;
    r.expect(200, "occurrences");
    r.items().clone()
}

async fn active_client(api: &Api, t: &str, name: &str) -> String {
    let c = api.create_client(t, name).await;
    for e in ["contract_signed", "onboarding_completed"] {
        api.event(t, &c, json!({"type": e})).await.expect(201, e);
    }
    c
}

#[tokio::test]
async fn the_four_cadences_meet_on_schedule_and_are_held_only_with_their_artifact() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let me = app.agency.admin.id.clone();

    let list = api.get("/api/v1/cadences", t).await;
    list.expect(200, "cadences");
    let keys: Vec<&str> = list
        .items()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "weekly_delivery_planning",
            "weekly_performance_review",
            "monthly_account_review",
            "quarterly_ops_review"
        ]
    );
    let planning = &list.items()[0];
    assert_eq!(
        planning["attendee_roles"],
        json!(["project_manager", "creative_lead", "strategist"])
    );
    assert_eq!(
        planning["schedule"],
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"
    );
    assert_eq!(planning["schedule_text"], "every Monday at 10:00");
    assert_eq!(planning["artifact"], "content_calendar");
    assert_eq!(list.items()[1]["artifact"], "scorecard");
    assert_eq!(list.items()[2]["scope"], "client");
    assert_eq!(
        list.items()[2]["attendee_roles"],
        json!(["account_lead", "client_stakeholders"])
    );
    assert_eq!(
        list.items()[3]["attendee_roles"],
        json!(["leadership", "ops"])
    );

    // The first look of the day clock starts the cadences today.
    app.tick_scheduler().await;
    let harbor = active_client(&api, t, "Harbor Fitness").await;
    // A client still onboarding has no monthly review yet.
    api.create_client(t, "Acme Bakery").await;
    let item = api
        .post(
            &format!("/api/v1/clients/{harbor}/content"),
            t,
            json!({"title": "Spring carousel", "channel": "instagram", "format": "carousel",
                   "planned_on": "2026-03-05",
                   "brief": {"audience": "a", "angle": "b", "offer": "c", "constraints": "d", "examples": "e"}}),
        )
        .await;
    item.expect(201, "item");
    api.post(
        &format!("/api/v1/content/{}/plan", item.id()),
        t,
        json!({"planned_on": "2026-03-06", "reason": "shoot moved"}),
    )
    .await
    .expect(200, "replan");

    // March–April: 9 Mondays of each weekly cadence, Harbor's review on the
    // first Thursdays (5 March, 2 April), the ops review on the second
    // Tuesday of April.
    let all = meetings(&api, t, "2026-03-01", "2026-04-30").await;
    let n = |key: &str| all.iter().filter(|o| o["cadence"] == key).count();
    assert_eq!(n("weekly_delivery_planning"), 9);
    assert_eq!(n("weekly_performance_review"), 9);
    assert_eq!(n("monthly_account_review"), 2);
    assert_eq!(n("quarterly_ops_review"), 1);
    assert_eq!(all.len(), 21);
    find(&all, "quarterly_ops_review", "2026-04-14");
    let review = find(&all, "monthly_account_review", "2026-03-05");
    assert_eq!(review["client_id"], harbor.as_str());
    assert_eq!(review["client_name"], "Harbor Fitness");
    let plan = find(&all, "weekly_delivery_planning", "2026-03-02");
    assert_eq!(plan["starts_at"], "2026-03-02T10:00:00Z");
    assert_eq!(plan["ends_at"], "2026-03-02T10:45:00Z");
    assert_eq!(plan["held"], false);
    assert_eq!(plan["artifact_missing"], false);
    let plan_id = plan["id"].as_str().unwrap().to_string();
    assert!(plan_id.starts_with("cdo_"));

    // Attaching the planning's artifact holds it: Baton freezes the next two
    // weeks of the calendar and what moved; a decision has an owner.
    let held = api
        .post(
            &format!("/api/v1/cadence-occurrences/{plan_id}/artifact"),
            t,
            json!({"notes": "Confirmed; the carousel shoot moved a day.",
                   "decisions": [{"text": "Book the carousel shoot for Thursday", "owner": me, "due": "2026-03-04"}]}),
        )
        .await;
    held.expect(200, "attach planning");
    assert_eq!(held.body["held"], true);
    assert_eq!(held.body["id"], plan_id.as_str());
    let generated = &held.body["attached"]["generated"];
    assert_eq!(generated["from"], "2026-03-02");
    assert_eq!(generated["to"], "2026-03-15");
    assert_eq!(generated["items"][0]["title"], "Spring carousel");
    assert_eq!(generated["items"][0]["planned_on"], "2026-03-06");
    assert_eq!(generated["changes"][0]["from"], "2026-03-05");
    assert_eq!(generated["changes"][0]["to"], "2026-03-06");
    assert_eq!(held.body["decisions"][0]["owner"], me.as_str());
    assert_eq!(held.body["decisions"][0]["due_on"], "2026-03-04");
    // A meeting still to come cannot be held.
    let next = find(&all, "weekly_delivery_planning", "2026-03-09")["id"]
        .as_str()
        .unwrap()
        .to_string();
    api.post(
        &format!("/api/v1/cadence-occurrences/{next}/artifact"),
        t,
        json!({"notes": "early"}),
    )
    .await
    .problem(409, "future meeting");

    // The weekly review's artifact is the shipped scorecard: refused before
    // the week ships, held by the shipping itself after.
    let review_id = find(&all, "weekly_performance_review", "2026-03-02")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/api/v1/cadence-occurrences/{review_id}/artifact"),
            t,
            json!({}),
        )
        .await;
    r.problem(422, "no scorecard yet");
    assert_eq!(r.body["errors"][0]["field"], "artifact");
    api.post(
        "/api/v1/scorecards",
        t,
        json!({"week": "2026-W09", "insights": ["a", "b", "c"],
               "actions": (1..=3).map(|i| json!({"text": format!("Action {i}"), "owner": me, "due": "2026-03-13"})).collect::<Vec<_>>()}),
    )
    .await
    .expect(201, "ship W09");
    let r = api
        .get(&format!("/api/v1/cadence-occurrences/{review_id}"), t)
        .await;
    r.expect(200, "review");
    assert_eq!(r.body["held"], true, "{}", r.text);
    assert_eq!(r.body["attached"]["generated"]["week"], "2026-W09");
    // Decisions taken on it are attached to it.
    let r = api
        .post(
            &format!("/api/v1/cadence-occurrences/{review_id}/artifact"),
            t,
            json!({"decisions": [{"text": "Stop boosting the static posts", "owner": me}]}),
        )
        .await;
    r.expect(200, "review decisions");
    assert_eq!(r.body["attached"]["generated"]["week"], "2026-W09");
    assert_eq!(
        r.body["attached"]["generated"]["insights"],
        json!(["a", "b", "c"])
    );

    // Harbor's monthly review: Baton drafts the memo from its KPIs; the
    // memo itself is required; shared by a link the client opens.
    clock.set(T0 + 3 * DAY + 6 * HOUR);
    let memo = review["id"].as_str().unwrap().to_string();
    let d = api
        .get(&format!("/api/v1/cadence-occurrences/{memo}"), t)
        .await;
    d.expect(200, "memo draft");
    let draft = d.body["draft_notes"].as_str().unwrap();
    assert!(
        draft.starts_with("Monthly account review: Harbor Fitness"),
        "{draft}"
    );
    assert!(draft.contains("Cycle time"), "{draft}");
    let r = api
        .post(
            &format!("/api/v1/cadence-occurrences/{memo}/artifact"),
            t,
            json!({"share": true}),
        )
        .await;
    r.problem(422, "memo without text");
    assert_eq!(r.body["errors"][0]["field"], "notes");
    let r = api
        .post(
            &format!("/api/v1/cadence-occurrences/{memo}/artifact"),
            t,
            json!({"notes": "Outcomes: first reel live.\nRisks: approvals slow.\nNext bets: UGC.", "share": true}),
        )
        .await;
    r.expect(200, "memo");
    assert_eq!(r.body["shared"], true);
    let url = r.body["share_url"].as_str().unwrap().to_string();
    assert!(url.contains("/memo/"), "{url}");
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Risks: approvals slow."), "{html}");
    assert!(html.contains("Harbor Fitness"));
    // The token is shown once and stored only as its hash.
    let token = url.rsplit('/').next().unwrap();
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM cadence_occurrences WHERE share_token_hash = $1",
            token
        )
        .await,
        0
    );
    let again = api
        .post(
            &format!("/api/v1/cadence-occurrences/{memo}/artifact"),
            t,
            json!({"notes": "Outcomes: first reel live. Edited."}),
        )
        .await;
    again.expect(200, "memo edited");
    assert_eq!(again.body["share_url"], Value::Null);
    assert!(reqwest::get(&url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("Edited."));

    // The day of 9 March ends: its planning and its review (W10 not
    // shipped) are flagged once each, with a notice.
    clock.set(T0 + 8 * DAY);
    app.tick_scheduler().await;
    clock.set(T0 + 8 * DAY + 15 * HOUR);
    app.tick_scheduler().await;
    app.tick_scheduler().await;
    let week2 = meetings(&api, t, "2026-03-09", "2026-03-09").await;
    assert_eq!(week2.len(), 2, "{week2:#?}");
    for o in &week2 {
        assert_eq!(o["held"], false);
        assert_eq!(o["artifact_missing"], true);
        assert!(o["flagged_at"].is_string(), "{o}");
        let id = o["id"].as_str().unwrap();
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM notices WHERE occurrence_id = $1",
                id
            )
            .await,
            1,
            "one notice for {id}"
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM events WHERE type = 'cadence.artifact_missing' AND entity_id = $1",
                id
            )
            .await,
            1
        );
    }
    // The week before was held: nothing flagged there.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM cadence_occurrences WHERE flagged_at IS NOT NULL AND agency_id = $1",
            app.agency.id.as_str()
        )
        .await,
        2
    );

    // Adherence: of the five meetings due (2, 5 and 9 March), three held.
    let a = api
        .get("/api/v1/cadence-adherence?from=2026-03-01&to=2026-03-10", t)
        .await;
    a.expect(200, "adherence");
    assert_eq!(a.body["held"], 3);
    assert_eq!(a.body["due"], 5);
    assert_eq!(a.body["rate"], 60.0);

    // Decisions are searchable and tracked to done.
    let found = api
        .get("/api/v1/cadence-decisions?q=carousel%20SHOOT", t)
        .await;
    found.expect(200, "search");
    assert_eq!(found.items().len(), 1);
    assert_eq!(found.items()[0]["cadence"], "weekly_delivery_planning");
    assert_eq!(found.items()[0]["date"], "2026-03-02");
    let dec = found.items()[0]["id"].as_str().unwrap().to_string();
    api.post(
        &format!("/api/v1/cadence-decisions/{dec}/done"),
        t,
        json!({}),
    )
    .await
    .expect(200, "done");
    let open = api.get("/api/v1/cadence-decisions?open=true", t).await;
    assert_eq!(open.items().len(), 1, "the review's decision stays open");
    assert_eq!(open.items()[0]["text"], "Stop boosting the static posts");
    api.post(
        &format!("/api/v1/cadence-decisions/{dec}/reopen"),
        t,
        json!({}),
    )
    .await
    .expect(200, "reopen");
    assert_eq!(
        api.get("/api/v1/cadence-decisions?open=true", t)
            .await
            .items()
            .len(),
        2
    );
}

#[tokio::test]
async fn an_edit_rules_from_its_day_and_past_meetings_keep_their_schedule() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    app.tick_scheduler().await;
    clock.set(T0 + 10 * DAY);
    let body = json!({
        "name": "Weekly delivery planning", "purpose": "Confirm next outputs, resolve constraints",
        "scope": "agency", "attendee_roles": ["project_manager", "creative_lead"],
        "owner_role": "project_manager", "schedule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=11",
        "duration_minutes": 30, "artifact": "content_calendar",
        "reason": "Mondays are for client calls"
    });
    let r = api
        .put("/api/v1/cadences/weekly_delivery_planning", t, body.clone())
        .await;
    r.expect(200, "edit");
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["customized"], true);
    assert_eq!(r.body["schedule_text"], "every Tuesday at 11:00");
    // The same again is not a change.
    let same = api
        .put("/api/v1/cadences/weekly_delivery_planning", t, body)
        .await;
    assert_eq!(same.body["version"], 2);
    let all = meetings(&api, t, "2026-03-01", "2026-03-31").await;
    let dates: Vec<&str> = all
        .iter()
        .filter(|o| o["cadence"] == "weekly_delivery_planning")
        .map(|o| o["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        [
            "2026-03-02",
            "2026-03-09",
            "2026-03-17",
            "2026-03-24",
            "2026-03-31"
        ]
    );
    let last = find(&all, "weekly_delivery_planning", "2026-03-31");
    assert_eq!(last["starts_at"], "2026-03-31T11:00:00Z");
    assert_eq!(
        last["attendee_roles"],
        json!(["project_manager", "creative_lead"])
    );
    // An agency's own cadence.
    let own = api
        .put(
            "/api/v1/cadences/paid_social_sync",
            t,
            json!({"name": "Paid social sync", "purpose": "Budgets and tests",
                   "scope": "agency", "attendee_roles": ["paid_social", "analyst"],
                   "owner_role": "paid_social", "schedule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
                   "duration_minutes": 30, "artifact": "ops_review", "reason": "New cadence"}),
        )
        .await;
    own.expect(200, "own cadence");
    assert_eq!(own.body["default"], false);
    assert_eq!(api.get("/api/v1/cadences", t).await.items().len(), 5);
}

#[tokio::test]
async fn bad_cadence_input_is_422_naming_the_field() {
    let (app, _clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    for (query, field) in [
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("from=2026-01-01&to=2027-06-01", "to"),
        ("from=2026-02-30", "from"),
        ("client=nope", "client"),
        ("owner=cli_00000000000000000000000000", "owner"),
    ] {
        let r = api
            .get(&format!("/api/v1/cadence-occurrences?{query}"), t)
            .await;
        r.problem(422, query);
        assert_eq!(r.body["errors"][0]["field"], field, "{query}: {}", r.text);
    }
    let base = json!({
        "name": "Sync", "purpose": "Talk", "scope": "agency", "attendee_roles": ["ops"],
        "owner_role": "ops", "schedule": "FREQ=WEEKLY;BYDAY=MO", "duration_minutes": 30,
        "artifact": "ops_review", "reason": "why"
    });
    for (key, value, field) in [
        ("schedule", json!("FREQ=DAILY"), "schedule"),
        (
            "schedule",
            json!("FREQ=WEEKLY;COUNT=3;BYDAY=MO"),
            "schedule",
        ),
        (
            "attendee_roles",
            json!(["ops", "client_stakeholders"]),
            "attendee_roles",
        ),
        ("attendee_roles", json!(["ceo"]), "attendee_roles"),
        ("artifact", json!("account_memo"), "artifact"),
        ("duration_minutes", json!(2), "duration_minutes"),
        ("owner_role", json!("boss"), "owner_role"),
        ("reason", json!(" "), "reason"),
    ] {
        let mut body = base.clone();
        body[key] = value;
        let r = api.put("/api/v1/cadences/sync", t, body).await;
        r.problem(422, key);
        assert_eq!(r.body["errors"][0]["field"], field, "{key}: {}", r.text);
    }
    api.put("/api/v1/cadences/Bad-Key", t, base.clone())
        .await
        .client_error("bad key");
    let read = api.token(t, "read").await;
    api.put("/api/v1/cadences/sync", &read, base)
        .await
        .problem(403, "read token");
    api.get("/api/v1/cadences/nope", t)
        .await
        .problem(404, "unknown cadence");

    let all = meetings(&api, t, "2026-03-02", "2026-03-02").await;
    let attach = |id: &str| format!("/api/v1/cadence-occurrences/{id}/artifact");
    api.post(
        &attach("cdo_00000000000000000000000000"),
        t,
        json!({"notes": "x"}),
    )
    .await
    .problem(404, "unknown meeting");
    api.post(&attach("not-an-id"), t, json!({"notes": "x"}))
        .await
        .problem(404, "garbage id");
    let id = find(&all, "weekly_delivery_planning", "2026-03-02")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = app.agency.admin.id.clone();
    for (body, field) in [
        (
            json!({"decisions": [{"text": "x", "owner": "mem_00000000000000000000000000"}]}),
            "decisions",
        ),
        (
            json!({"decisions": [{"text": " ", "owner": me}]}),
            "decisions",
        ),
        (
            json!({"decisions": [{"text": "x", "owner": me, "due": "2026-13-01"}]}),
            "decisions",
        ),
        (json!({"share": true}), "share"),
        (json!({"url": "javascript:alert(1)"}), "url"),
    ] {
        let r = api.post(&attach(&id), t, body.clone()).await;
        r.problem(422, &body.to_string());
        assert_eq!(r.body["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    {
        // Nothing was held by the refused attempts.
        let o = api
            .get(&format!("/api/v1/cadence-occurrences/{id}"), t)
            .await;
        assert_eq!(o.body["held"], false);
        assert!(o.body["decisions"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn another_agency_sees_none_of_the_meetings_or_decisions() {
    let (app, _clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let me = app.agency.admin.id.clone();
    app.tick_scheduler().await;
    let all = meetings(&api, t, "2026-03-02", "2026-03-02").await;
    let plan = find(&all, "weekly_delivery_planning", "2026-03-02")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/api/v1/cadence-occurrences/{plan}/artifact"),
            t,
            json!({"notes": "ok", "decisions": [{"text": "Secret plan", "owner": me}]}),
        )
        .await;
    r.expect(200, "attach");
    let dec = r.body["decisions"][0]["id"].as_str().unwrap().to_string();

    let rival = app.other_agency("admin@rival.test").await;
    let rt = &rival.token;
    api.get(&format!("/api/v1/cadence-occurrences/{plan}"), rt)
        .await
        .problem(404, "other agency's meeting");
    api.post(
        &format!("/api/v1/cadence-occurrences/{plan}/artifact"),
        rt,
        json!({"notes": "mine now"}),
    )
    .await
    .problem(404, "attach to other's meeting");
    api.post(
        &format!("/api/v1/cadence-decisions/{dec}/done"),
        rt,
        json!({}),
    )
    .await
    .problem(404, "other's decision");
    assert!(api
        .get("/api/v1/cadence-decisions", rt)
        .await
        .items()
        .is_empty());
    // The rival's own meetings on that day have their own ids and are not held.
    let theirs = meetings(&api, rt, "2026-03-02", "2026-03-02").await;
    assert!(theirs.iter().all(|o| o["id"] != plan.as_str()));
    assert!(theirs.iter().all(|o| o["held"] == false));
    // And ours was not touched.
    let ours = api
        .get(&format!("/api/v1/cadence-occurrences/{plan}"), t)
        .await;
    assert_eq!(ours.body["attached"]["notes"], "ok");
    assert_eq!(ours.body["decisions"][0]["done"], false);
}
