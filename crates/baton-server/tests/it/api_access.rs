//! `/api/v1` for platform access, as external scripts use it: a client's
//! requests, the board across clients with its filters and pagination, the
//! moves (grant, verify, fail, revoke, waive) and their refusals, the events
//! they leave, the time-to-verified-access KPIs on a manual clock, and the
//! offboarding revoke checklist that gates archiving.

use crate::common;

use std::collections::HashSet;

use baton_core::clock::rfc3339;
use baton_server::testing::TestApp;
use common::{enc, trail, Api, Resp};
use reqwest::Method;
use serde_json::{json, Value};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// 2026-06-01T09:00:00Z
const T0: i64 = 1_780_304_400_000;
const UNKNOWN_REQUEST: &str = "acc_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";

/// The `field` of the first error of a 422.
fn error_field(r: &Resp) -> &str {
    r.body["errors"][0]["field"].as_str().unwrap_or("")
}

/// Creates a link for `client` with `requests`; returns the request ids in order.
async fn link(api: &Api, token: &str, client: &str, requests: Value) -> Vec<String> {
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            token,
            json!({ "requests": requests }),
        )
        .await;
    r.expect(201, "create link");
    r.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// `POST /api/v1/access-requests/{id}/{mv}`.
async fn mv(api: &Api, token: &str, id: &str, action: &str, body: Option<Value>) -> Resp {
    api.call(
        Method::POST,
        &format!("/api/v1/access-requests/{id}/{action}"),
        token,
        body.as_ref(),
    )
    .await
}

async fn verify(api: &Api, token: &str, id: &str) -> Resp {
    let r = mv(api, token, id, "verify", Some(json!({"note": "Checked"}))).await;
    r.expect(200, "verify");
    r
}

async fn request(api: &Api, token: &str, id: &str) -> Value {
    let r = api
        .get(&format!("/api/v1/access-requests/{id}"), token)
        .await;
    r.expect(200, "get request");
    r.body
}

async fn kpis(api: &Api, token: &str, client: &str) -> Value {
    let r = api
        .get(&format!("/api/v1/clients/{client}/kpis"), token)
        .await;
    r.expect(200, "client kpis");
    r.body
}

/// Types of a client's events, oldest first.
async fn event_types(api: &Api, token: &str, client: &str) -> Vec<String> {
    api.client_events(token, client)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

// ------------------------------------------------------------- requests --

#[tokio::test]
async fn a_clients_requests_are_listed_in_order_with_status_and_waiting_on() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Listed").await;
    assert_eq!(
        api.get(&format!("/api/v1/clients/{client}/access-requests"), t)
            .await
            .body,
        json!({"items": []})
    );
    let ids = link(
        &api,
        t,
        &client,
        json!([
            {"platform": "meta_page", "asset": "Listed Page"},
            {"platform": "google_ads", "permission": "standard"},
            {"platform": "ga4", "required": false}
        ]),
    )
    .await;
    let more = link(&api, t, &client, json!([{"platform": "gtm"}])).await;

    let r = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), t)
        .await;
    r.expect(200, "list");
    let items = r.items();
    let mut want_ids = ids.clone();
    want_ids.extend(more.clone());
    assert_eq!(ids_of(items), want_ids, "in the order they were asked for");
    for x in items {
        for key in [
            "id",
            "client_id",
            "link_id",
            "platform",
            "permission",
            "status",
            "status_at",
            "created_at",
        ] {
            assert!(x[key].is_string(), "{key} in {x}");
        }
        assert_eq!(x["client_id"], client.as_str());
        assert_eq!(x["status"], "requested");
        assert_eq!(x["waiting_on"], "client");
        assert_eq!(x["status_at"], x["created_at"]);
        assert_eq!(x["needs_revoke"], false);
        for key in [
            "granted_at",
            "verified_at",
            "verify_note",
            "failed_reason",
            "revoked_at",
            "waived_at",
            "stuck_message",
        ] {
            assert_eq!(x[key], json!(null), "{key} in {x}");
        }
    }
    assert_eq!(items[0]["asset"], "Listed Page");
    assert_eq!(items[1]["permission"], "standard");
    assert_eq!(items[2]["required"], false);
    assert_ne!(items[0]["link_id"], items[3]["link_id"]);

    // One request is the same document as its line.
    for x in items {
        let id = x["id"].as_str().unwrap();
        assert_eq!(&request(&api, t, id).await, x);
    }
    // A read token reads them.
    let read = api.token(t, "read").await;
    api.get(&format!("/api/v1/clients/{client}/access-requests"), &read)
        .await
        .expect(200, "read lists");
    api.get(&format!("/api/v1/access-requests/{}", ids[0]), &read)
        .await
        .expect(200, "read gets");

    // Unknown, garbage and another agency's ids are 404.
    let rival = app.other_agency("admin@rival.test").await;
    for (tok, path) in [
        (t, format!("/api/v1/access-requests/{UNKNOWN_REQUEST}")),
        (
            t,
            format!("/api/v1/access-requests/{}", enc("acc_' OR 1=1 --")),
        ),
        (
            t,
            "/api/v1/access-requests/lnk_7ZZZZZZZZZZZZZZZZZZZZZZZZZ".into(),
        ),
        (
            t,
            "/api/v1/clients/cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ/access-requests".into(),
        ),
        (&rival.token, format!("/api/v1/access-requests/{}", ids[0])),
        (
            &rival.token,
            format!("/api/v1/clients/{client}/access-requests"),
        ),
    ] {
        api.get(&path, tok).await.problem(404, &path);
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_board_filters_by_waiting_on_and_status_and_pages() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let a = api.create_client(t, "Alpha").await;
    let b = api.create_client(t, "Beta").await;
    let ra = link(
        &api,
        t,
        &a,
        json!([{"platform": "meta_page"}, {"platform": "google_ads"}, {"platform": "ga4"}]),
    )
    .await;
    let rb = link(
        &api,
        t,
        &b,
        json!([{"platform": "gtm"}, {"platform": "tiktok_ads"}]),
    )
    .await;
    // Alpha: requested, granted, failed; Beta: verified, requested.
    mv(&api, t, &ra[1], "grant", None)
        .await
        .expect(200, "grant");
    mv(&api, t, &ra[2], "grant", None)
        .await
        .expect(200, "grant");
    mv(
        &api,
        t,
        &ra[2],
        "fail",
        Some(json!({"reason": "Wrong property"})),
    )
    .await
    .expect(200, "fail");
    verify(&api, t, &rb[0]).await;
    let (requested_a, granted_a, failed_a) = (&ra[0], &ra[1], &ra[2]);
    let (verified_b, requested_b) = (&rb[0], &rb[1]);

    let board = |q: &str| {
        let api = api.clone();
        let t = t.clone();
        let q = q.to_string();
        async move {
            let r = api.get(&format!("/api/v1/access-requests{q}"), &t).await;
            r.expect(200, &q);
            assert!(r.body.get("next_cursor").is_some(), "{q}: next_cursor");
            r
        }
    };
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("", vec![requested_a, granted_a, failed_a, requested_b]),
        (
            "?waiting_on=client",
            vec![requested_a, failed_a, requested_b],
        ),
        ("?waiting_on=agency", vec![granted_a]),
        ("?status=verified", vec![verified_b]),
        ("?status=failed", vec![failed_a]),
        ("?status=requested", vec![requested_a, requested_b]),
        ("?status=granted_by_client", vec![granted_a]),
        ("?status=revoked", vec![]),
        (
            "?waiting_on=&status=",
            vec![requested_a, granted_a, failed_a, requested_b],
        ),
        ("?waiting_on=client&status=failed", vec![failed_a]),
    ];
    for (q, want) in cases {
        let r = board(q).await;
        assert_eq!(
            sorted(ids_of(r.items())),
            sorted(want.into_iter().cloned().collect()),
            "{q}"
        );
        assert_eq!(r.body["next_cursor"], json!(null), "{q}");
    }
    // Lines carry the client's name and stage and who they wait on.
    let r = board("?waiting_on=agency").await;
    let line = &r.items()[0];
    assert_eq!(line["client_name"], "Alpha");
    assert_eq!(line["client_lifecycle"], "won");
    assert_eq!(line["client_id"], a.as_str());
    assert_eq!(line["waiting_on"], "agency");
    assert_eq!(line["status"], "granted_by_client");
    let r = board("?status=failed").await;
    assert_eq!(r.items()[0]["failed_reason"], "Wrong property");
    assert_eq!(r.items()[0]["waiting_on"], "client");

    // Pagination walks every open request exactly once.
    for limit in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let q = match &cursor {
                None => format!("?limit={limit}"),
                Some(c) => format!("?limit={limit}&cursor={}", enc(c)),
            };
            let r = board(&q).await;
            assert!(r.items().len() <= limit, "{q}");
            seen.extend(ids_of(r.items()));
            pages += 1;
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 10, "pagination ends");
        }
        assert_eq!(seen.len(), 4, "limit {limit}: {seen:?}");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 4, "limit {limit}: each once");
        assert_eq!(pages, 4_usize.div_ceil(limit), "limit {limit}");
    }
    // Filters and pages together.
    let r = board("?waiting_on=client&limit=2").await;
    assert_eq!(r.items().len(), 2);
    let c = r.body["next_cursor"].as_str().unwrap().to_string();
    let r2 = board(&format!("?waiting_on=client&limit=2&cursor={}", enc(&c))).await;
    assert_eq!(r2.items().len(), 1);
    assert_eq!(r2.body["next_cursor"], json!(null));

    // Bad parameters are 422 (never a silently empty page).
    for (q, field) in [
        ("?waiting_on=nobody", "waiting_on"),
        ("?waiting_on=CLIENT", "waiting_on"),
        ("?status=done", "status"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?cursor=cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "cursor"),
        ("?cursor=garbage", "cursor"),
    ] {
        let r = api.get(&format!("/api/v1/access-requests{q}"), t).await;
        r.problem(422, q);
        assert_eq!(error_field(&r), field, "{q}");
    }
    api.get("/api/v1/access-requests?limit=ten", t)
        .await
        .client_error("non-numeric limit");

    // Another agency's board is its own.
    let rival = app.other_agency("admin@rival.test").await;
    for q in ["", "?status=verified", "?waiting_on=agency"] {
        let r = api
            .get(&format!("/api/v1/access-requests{q}"), &rival.token)
            .await;
        r.expect(200, q);
        assert_eq!(r.body, json!({"items": [], "next_cursor": null}), "{q}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn board_filters_combine() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let c = api.create_client(t, "Combined").await;
    let ids = link(
        &api,
        t,
        &c,
        json!([{"platform": "ga4"}, {"platform": "gtm"}]),
    )
    .await;
    mv(&api, t, &ids[1], "grant", None)
        .await
        .expect(200, "grant");
    for (q, want_waiting) in [
        ("?waiting_on=agency&status=requested", "agency"),
        ("?waiting_on=client&status=granted_by_client", "client"),
    ] {
        let r = api.get(&format!("/api/v1/access-requests{q}"), t).await;
        r.expect(200, q);
        for line in r.items() {
            assert_eq!(line["waiting_on"], want_waiting, "{q}: {line}");
        }
    }
    app.shutdown().await;
}

// ---------------------------------------------------------------- moves --

#[tokio::test]
async fn moves_follow_the_state_machine_and_refuse_the_rest() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Mover").await;
    let ids = link(
        &api,
        t,
        &client,
        json!([
            {"platform": "meta_page"},
            {"platform": "google_ads"},
            {"platform": "ga4"},
            {"platform": "tiktok_ads"}
        ]),
    )
    .await;
    let (r1, r2, r3, r4) = (&ids[0], &ids[1], &ids[2], &ids[3]);

    // grant → granted_by_client, waiting on the agency.
    let g = mv(&api, t, r1, "grant", None).await;
    g.expect(200, "grant without a body");
    assert_eq!(g.body["id"], r1.as_str());
    assert_eq!(g.body["status"], "granted_by_client");
    assert_eq!(g.body["waiting_on"], "agency");
    assert!(g.body["granted_at"].is_string());
    assert_eq!(g.body["granted_by"], app.agency.admin.name.as_str());
    assert_eq!(g.body["status_at"], g.body["granted_at"]);
    assert_eq!(g.body["needs_revoke"], true, "granted access may be held");
    mv(&api, t, r1, "grant", Some(json!({})))
        .await
        .problem(409, "grant twice");

    // verify {note} → verified.
    for (body, field) in [
        (json!({"note": ""}), "note"),
        (json!({"note": "   "}), "note"),
        (json!({}), "body"),
        (json!({"note": "ok", "by": "robot"}), "by"),
        (json!({"note": "ok", "by": "client"}), "by"),
        (json!({"note": "ok", "extra": 1}), "body"),
        (json!({"note": 42}), "body"),
    ] {
        let r = mv(&api, t, r1, "verify", Some(body.clone())).await;
        r.problem(422, &format!("verify {body}"));
        assert_eq!(error_field(&r), field, "{body}: {}", r.text);
    }
    let v = mv(
        &api,
        t,
        r1,
        "verify",
        Some(json!({"note": "Logged in as the agency; page listed with Content access"})),
    )
    .await;
    v.expect(200, "verify");
    assert_eq!(v.body["status"], "verified");
    assert_eq!(v.body["waiting_on"], json!(null));
    assert_eq!(
        v.body["verify_note"],
        "Logged in as the agency; page listed with Content access"
    );
    assert_eq!(v.body["verified_by"], app.agency.admin.name.as_str());
    assert!(v.body["verified_at"].is_string());
    assert_eq!(v.body["needs_revoke"], true);
    let r = mv(&api, t, r1, "verify", Some(json!({"note": "again"}))).await;
    r.problem(409, "verify twice");
    mv(&api, t, r1, "grant", None)
        .await
        .problem(409, "grant a verified request");

    // fail: only granted or verified access fails.
    let r = mv(
        &api,
        t,
        r2,
        "fail",
        Some(json!({"reason": "Nothing there"})),
    )
    .await;
    r.problem(409, "fail a requested one");
    let g = mv(&api, t, r2, "grant", Some(json!({"by": "connector"}))).await;
    g.expect(200, "a connector grants");
    assert_eq!(g.body["granted_by"], "connector");
    for body in [
        json!({"reason": ""}),
        json!({}),
        json!({"reason": "x", "by": "nobody"}),
    ] {
        mv(&api, t, r2, "fail", Some(body.clone()))
            .await
            .problem(422, &format!("fail {body}"));
    }
    let f = mv(
        &api,
        t,
        r2,
        "fail",
        Some(json!({"reason": "Shared the wrong ad account"})),
    )
    .await;
    f.expect(200, "fail");
    assert_eq!(f.body["status"], "failed");
    assert_eq!(f.body["failed_reason"], "Shared the wrong ad account");
    assert_eq!(f.body["waiting_on"], "client", "back to the client");
    assert_eq!(f.body["needs_revoke"], false);
    mv(&api, t, r2, "fail", Some(json!({"reason": "again"})))
        .await
        .problem(409, "fail a failed one");
    // The client grants again; the agency verifies: the reason is cleared.
    mv(&api, t, r2, "grant", None).await.expect(200, "re-grant");
    let v = verify(&api, t, r2).await;
    assert_eq!(v.body["failed_reason"], json!(null));

    // revoke: held access (with a note) or a withdrawn request (no body).
    let rv = mv(
        &api,
        t,
        r1,
        "revoke",
        Some(json!({"note": "Removed the agency from Business Settings → Partners"})),
    )
    .await;
    rv.expect(200, "revoke verified");
    assert_eq!(rv.body["status"], "revoked");
    assert!(rv.body["revoked_at"].is_string());
    assert_eq!(rv.body["revoked_by"], app.agency.admin.name.as_str());
    assert_eq!(
        rv.body["revoke_note"],
        "Removed the agency from Business Settings → Partners"
    );
    assert_eq!(rv.body["needs_revoke"], false);
    assert_eq!(rv.body["waiting_on"], json!(null));
    assert!(rv.body["verified_at"].is_string(), "history is kept");
    let w = mv(&api, t, r3, "revoke", None).await;
    w.expect(200, "withdraw a requested one");
    assert_eq!(w.body["status"], "revoked");
    assert_eq!(w.body["revoke_note"], json!(null));
    for action in ["revoke", "grant", "verify", "fail"] {
        let body = match action {
            "verify" => Some(json!({"note": "n"})),
            "fail" => Some(json!({"reason": "r"})),
            _ => None,
        };
        mv(&api, t, r1, action, body)
            .await
            .problem(409, &format!("{action} a revoked request"));
    }
    mv(&api, t, r3, "revoke", Some(json!({"by": "robot"})))
        .await
        .problem(422, "unknown by on revoke");

    // waive: only during offboarding.
    verify(&api, t, r4).await;
    let r = mv(
        &api,
        t,
        r4,
        "waive",
        Some(json!({"reason": "Client removed us"})),
    )
    .await;
    r.problem(409, "waive outside offboarding");
    assert!(
        r.body["detail"].as_str().unwrap().contains("offboarding"),
        "{}",
        r.text
    );
    for body in [
        json!({"reason": " "}),
        json!({}),
        json!({"reason": "x", "by": "member"}),
    ] {
        mv(&api, t, r4, "waive", Some(body.clone()))
            .await
            .problem(422, &format!("waive {body}"));
    }

    // A retried move with an Idempotency-Key is answered once, not twice.
    let key_move = |id: String| {
        api.send(
            api.request(
                Method::POST,
                &format!("/api/v1/access-requests/{id}/revoke"),
                t,
            )
            .header("idempotency-key", "revoke-r4")
            .json(&json!({"note": "Removed"})),
        )
    };
    let a = key_move(r4.clone()).await;
    a.expect(200, "revoke with a key");
    let b = key_move(r4.clone()).await;
    b.expect(200, "replayed");
    assert_eq!(a.text, b.text);
    assert_eq!(b.header("idempotency-replayed"), Some("true"));

    // Every move answers 404 for unknown, garbage and kind-confused ids.
    for bad in [
        UNKNOWN_REQUEST.to_string(),
        enc("acc_' OR 1=1 --"),
        "lnk_7ZZZZZZZZZZZZZZZZZZZZZZZZZ".to_string(),
    ] {
        for (action, body) in [
            ("grant", None),
            ("verify", Some(json!({"note": "n"}))),
            ("fail", Some(json!({"reason": "r"}))),
            ("revoke", None),
            ("waive", Some(json!({"reason": "r"}))),
        ] {
            mv(&api, t, &bad, action, body)
                .await
                .problem(404, &format!("{action} {bad}"));
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn moves_need_a_write_token_and_the_agencys_own_request() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Guarded").await;
    let ids = link(
        &api,
        t,
        &client,
        json!([{"platform": "meta_page"}, {"platform": "ga4"}]),
    )
    .await;
    mv(&api, t, &ids[1], "grant", None)
        .await
        .expect(200, "grant");
    api.event(t, &client, json!({"type": "contract_ended"}))
        .await
        .expect(201, "offboarding, so waive is possible");
    let moves = |id: &str| -> Vec<(&'static str, String, Option<Value>)> {
        vec![
            ("grant", id.to_string(), None),
            ("verify", id.to_string(), Some(json!({"note": "ok"}))),
            ("fail", id.to_string(), Some(json!({"reason": "no"}))),
            ("revoke", id.to_string(), Some(json!({"note": "gone"}))),
            ("waive", id.to_string(), Some(json!({"reason": "theirs"}))),
        ]
    };
    let before = (
        request(&api, t, &ids[0]).await,
        request(&api, t, &ids[1]).await,
    );
    let read = api.token(t, "read").await;
    let trail_before = trail(&app, &app.agency.id).await;
    let rival = app.other_agency("admin@rival.test").await;
    let rival_trail = trail(&app, &rival.id).await;
    for id in &ids {
        for (action, rid, body) in moves(id) {
            mv(&api, &read, &rid, action, body.clone())
                .await
                .problem(403, &format!("read token {action}"));
            let r = mv(&api, &rival.token, &rid, action, body).await;
            r.problem(404, &format!("rival {action}"));
            assert_eq!(r.body["type"], "https://baton.dev/problems/not-found");
        }
    }
    assert_eq!(
        trail(&app, &app.agency.id).await,
        trail_before,
        "nothing moved"
    );
    assert_eq!(trail(&app, &rival.id).await, rival_trail);
    assert_eq!(request(&api, t, &ids[0]).await, before.0);
    assert_eq!(request(&api, t, &ids[1]).await, before.1);
    // A write token (not admin) may move requests.
    let write = api.token(t, "write").await;
    mv(&api, &write, &ids[1], "verify", Some(json!({"note": "ok"})))
        .await
        .expect(200, "write token verifies");
    app.shutdown().await;
}

#[tokio::test]
async fn a_read_token_is_403_whatever_the_body() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Body first").await;
    let ids = link(&api, t, &client, json!([{"platform": "ga4"}])).await;
    let read = api.token(t, "read").await;
    for (action, body) in [
        ("grant", json!({"by": "robot"})),
        ("verify", json!({"note": "ok", "by": "robot"})),
        ("fail", json!({"reason": "no", "by": "robot"})),
        ("revoke", json!({"by": "robot"})),
    ] {
        mv(&api, &read, &ids[0], action, Some(body))
            .await
            .problem(403, action);
    }
    app.shutdown().await;
}

// --------------------------------------------------------------- events --

#[tokio::test]
async fn moves_leave_events_and_completion_is_recorded_once() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Evented").await;
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    let ids = link(
        &api,
        t,
        &client,
        json!([
            {"platform": "meta_page"},
            {"platform": "google_ads"},
            {"platform": "ga4", "required": false}
        ]),
    )
    .await;
    let (r1, r2, optional) = (&ids[0], &ids[1], &ids[2]);
    mv(&api, t, r1, "grant", None).await.expect(200, "grant r1");
    verify(&api, t, r1).await;
    mv(&api, t, r2, "grant", None).await.expect(200, "grant r2");
    mv(
        &api,
        t,
        r2,
        "fail",
        Some(json!({"reason": "Wrong account"})),
    )
    .await
    .expect(200, "fail r2");
    let types = event_types(&api, t, &client).await;
    assert!(
        !types.iter().any(|x| x == "onboarding.completed"),
        "not complete while r2 is not verified: {types:?}"
    );
    let last = verify(&api, t, r2).await;
    // The optional request is left alone; r1 is revoked afterwards.
    mv(&api, t, r1, "revoke", Some(json!({"note": "Removed"})))
        .await
        .expect(200, "revoke r1");
    mv(&api, t, optional, "revoke", None)
        .await
        .expect(200, "withdraw the optional one");

    let events = api.client_events(t, &client).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let n = |ty: &str| types.iter().filter(|x| **x == ty).count();
    assert_eq!(n("contract_signed"), 1);
    assert_eq!(n("onboarding.link_created"), 1);
    assert_eq!(n("access.granted_by_client"), 2);
    assert_eq!(n("access.verified"), 2);
    assert_eq!(n("access.failed"), 1);
    assert_eq!(n("access.revoked"), 2);
    assert_eq!(n("onboarding.completed"), 1, "exactly once: {types:?}");
    // In order: completion follows the last verification.
    let pos = |ty: &str, nth: usize| {
        types
            .iter()
            .enumerate()
            .filter(|(_, x)| **x == ty)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap()
    };
    assert!(pos("onboarding.link_created", 0) < pos("access.granted_by_client", 0));
    assert!(pos("access.verified", 1) < pos("onboarding.completed", 0));
    assert!(pos("onboarding.completed", 0) < pos("access.revoked", 0));

    let completed = &events[pos("onboarding.completed", 0)];
    assert_eq!(completed["client_id"], client.as_str());
    assert_eq!(completed["entity_type"], "client");
    assert_eq!(completed["entity_id"], client.as_str());
    assert_eq!(completed["occurred_at"], last.body["verified_at"]);
    let verified = &events[pos("access.verified", 0)];
    assert_eq!(verified["entity_type"], "access_request");
    assert_eq!(verified["entity_id"], r1.as_str());
    assert_eq!(verified["data"]["request_id"], r1.as_str());
    assert_eq!(verified["data"]["platform"], "meta_page");
    assert_eq!(verified["data"]["from"], "granted_by_client");
    assert_eq!(verified["data"]["note"], "Checked");
    let failed = &events[pos("access.failed", 0)];
    assert_eq!(failed["data"]["reason"], "Wrong account");
    let revoked = &events[pos("access.revoked", 0)];
    assert_eq!(revoked["data"]["note"], "Removed");
    assert_eq!(revoked["data"]["was"], "verified");
    for e in &events {
        if e["type"].as_str().unwrap().starts_with("access.") {
            assert_eq!(e["client_id"], client.as_str(), "{e}");
        }
    }
    // The type filter finds them across the agency too.
    let r = api.get("/api/v1/events?type=onboarding.completed", t).await;
    r.expect(200, "filter by type");
    assert_eq!(r.items().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn completion_is_not_recorded_again_after_a_second_link() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Twice").await;
    let first = link(&api, t, &client, json!([{"platform": "meta_page"}])).await;
    verify(&api, t, &first[0]).await;
    let second = link(&api, t, &client, json!([{"platform": "google_ads"}])).await;
    verify(&api, t, &second[0]).await;
    let types = event_types(&api, t, &client).await;
    let n = types
        .iter()
        .filter(|x| *x == "onboarding.completed")
        .count();
    assert_eq!(n, 1, "{types:?}");
    app.shutdown().await;
}

// ----------------------------------------------------------------- kpis --

#[tokio::test]
async fn time_to_verified_access_of_a_client_on_a_manual_clock() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Timed").await;
    let k = kpis(&api, t, &client).await;
    assert_eq!(k["client_id"], client.as_str());
    assert_eq!(k["time_to_verified_access_seconds"], json!(null));
    assert_eq!(k["contract_signed_at"], json!(null));
    assert_eq!(k["access_complete_at"], json!(null));
    assert_eq!(k["access_requests"], 0);

    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    let k = kpis(&api, t, &client).await;
    assert_eq!(k["contract_signed_at"], rfc3339(T0).as_str());
    assert_eq!(k["time_to_verified_access_seconds"], json!(null));

    clock.advance(2 * DAY_MS);
    let ids = link(
        &api,
        t,
        &client,
        json!([
            {"platform": "meta_page"},
            {"platform": "google_ads"},
            {"platform": "ga4", "required": false}
        ]),
    )
    .await;
    let k = kpis(&api, t, &client).await;
    assert_eq!(k["access_requests"], 3);
    assert_eq!(k["access_required"], 2);
    assert_eq!(k["access_waiting_on_client"], 3);
    mv(&api, t, &ids[1], "grant", None)
        .await
        .expect(200, "grant");
    let k = kpis(&api, t, &client).await;
    assert_eq!(k["access_waiting_on_client"], 2);
    assert_eq!(k["access_waiting_on_agency"], 1);

    verify(&api, t, &ids[0]).await;
    let k = kpis(&api, t, &client).await;
    assert_eq!(
        k["time_to_verified_access_seconds"],
        json!(null),
        "one required request still unverified"
    );
    assert_eq!(k["access_verified"], 1);

    clock.advance(HOUR_MS);
    verify(&api, t, &ids[1]).await;
    let k = kpis(&api, t, &client).await;
    assert_eq!(
        k["time_to_verified_access_seconds"],
        2 * 86_400 + 3_600,
        "{k}"
    );
    assert_eq!(
        k["access_complete_at"],
        rfc3339(T0 + 2 * DAY_MS + HOUR_MS).as_str()
    );
    assert_eq!(k["access_verified"], 2);
    assert_eq!(
        k["access_waiting_on_client"], 1,
        "the optional one still waits"
    );
    assert_eq!(k["access_waiting_on_agency"], 0);
    // Signed Monday 09:00 UTC, complete Wednesday 10:00: 8 h + 8 h + 1 h of
    // the default calendar (Monday–Friday 09:00–17:00 UTC).
    assert_eq!(k["time_to_verified_access_business_seconds"], 17 * 3600);
    let completed: Vec<Value> = api
        .client_events(t, &client)
        .await
        .into_iter()
        .filter(|e| e["type"] == "onboarding.completed")
        .collect();
    assert_eq!(
        completed.len(),
        1,
        "the optional request did not hold it back"
    );
    assert_eq!(
        completed[0]["occurred_at"],
        rfc3339(T0 + 2 * DAY_MS + HOUR_MS).as_str()
    );

    // Later moves keep the first completion: verifying the optional one,
    // failing a verified one, revoking at offboarding.
    clock.advance(DAY_MS);
    verify(&api, t, &ids[2]).await;
    mv(
        &api,
        t,
        &ids[0],
        "fail",
        Some(json!({"reason": "Access removed by client"})),
    )
    .await
    .expect(200, "fail after verification");
    mv(&api, t, &ids[1], "revoke", None)
        .await
        .expect(200, "revoke");
    let k = kpis(&api, t, &client).await;
    assert_eq!(k["time_to_verified_access_seconds"], 2 * 86_400 + 3_600);

    // Another agency cannot read it; unknown clients are 404.
    let rival = app.other_agency("admin@rival.test").await;
    api.get(&format!("/api/v1/clients/{client}/kpis"), &rival.token)
        .await
        .problem(404, "rival kpis");
    api.get("/api/v1/clients/cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ/kpis", t)
        .await
        .problem(404, "unknown client");
    let read = api.token(t, "read").await;
    api.get(&format!("/api/v1/clients/{client}/kpis"), &read)
        .await
        .expect(200, "read token");
    app.shutdown().await;
}

#[tokio::test]
async fn agency_access_kpis_over_a_period() {
    let (app, clock) = TestApp::spawn_at(T0).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    // Three clients signed at T0, complete after 1 h, 2 h and 10 h.
    let mut firsts = Vec::new();
    for name in ["One hour", "Two hours", "Ten hours"] {
        let c = api.create_client(t, name).await;
        api.event(t, &c, json!({"type": "contract_signed"}))
            .await
            .expect(201, "sign");
        let ids = link(&api, t, &c, json!([{"platform": "meta_page"}])).await;
        firsts.push(ids[0].clone());
    }
    // A fourth signed and still waiting; a fifth never signed but complete.
    let waiting = api.create_client(t, "Waiting").await;
    api.event(t, &waiting, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    link(&api, t, &waiting, json!([{"platform": "ga4"}])).await;
    let unsigned = api.create_client(t, "Unsigned").await;
    let u = link(&api, t, &unsigned, json!([{"platform": "ga4"}])).await;
    verify(&api, t, &u[0]).await;

    for (i, step) in [HOUR_MS, HOUR_MS, 8 * HOUR_MS].into_iter().enumerate() {
        clock.advance(step);
        verify(&api, t, &firsts[i]).await;
    }
    let get = |q: String| {
        let api = api.clone();
        let t = t.clone();
        async move { api.get(&format!("/api/v1/kpis/access{q}"), &t).await }
    };
    let from = rfc3339(T0 - DAY_MS);
    let to = rfc3339(T0 + DAY_MS);
    let r = get(format!("?from={}&to={}", enc(&from), enc(&to))).await;
    r.expect(200, "period");
    assert_eq!(r.body["from"], from.as_str());
    assert_eq!(r.body["to"], to.as_str());
    assert_eq!(r.body["clients"], 3);
    assert_eq!(r.body["time_to_verified_access_median_seconds"], 7_200);
    assert_eq!(r.body["time_to_verified_access_p90_seconds"], 36_000);
    assert_eq!(r.body["clients_waiting"], 1);

    // A period holding only the last completion (T0 + 10 h).
    let r = get(format!(
        "?from={}&to={}",
        enc(&rfc3339(T0 + 5 * HOUR_MS)),
        enc(&to)
    ))
    .await;
    r.expect(200, "later period");
    assert_eq!(r.body["clients"], 1);
    assert_eq!(r.body["time_to_verified_access_median_seconds"], 36_000);
    assert_eq!(r.body["time_to_verified_access_p90_seconds"], 36_000);
    // `to` is exclusive: ending exactly at the second completion leaves it out.
    let r = get(format!(
        "?from={}&to={}",
        enc(&from),
        enc(&rfc3339(T0 + 2 * HOUR_MS))
    ))
    .await;
    assert_eq!(r.body["clients"], 1);
    assert_eq!(r.body["time_to_verified_access_median_seconds"], 3_600);
    // A period before anything: no clients, null statistics.
    let r = get(format!(
        "?from={}&to={}",
        enc(&rfc3339(T0 - 10 * DAY_MS)),
        enc(&rfc3339(T0 - 5 * DAY_MS))
    ))
    .await;
    r.expect(200, "empty period");
    assert_eq!(r.body["clients"], 0);
    assert_eq!(
        r.body["time_to_verified_access_median_seconds"],
        json!(null)
    );
    assert_eq!(r.body["time_to_verified_access_p90_seconds"], json!(null));
    // The default period is the 90 days up to now (`to` is exclusive, so a
    // minute passes after the last completion).
    clock.advance(60_000);
    let r = get(String::new()).await;
    r.expect(200, "default period");
    let now = T0 + 10 * HOUR_MS + 60_000;
    assert_eq!(r.body["to"], rfc3339(now).as_str());
    assert_eq!(r.body["from"], rfc3339(now - 90 * DAY_MS).as_str());
    assert_eq!(r.body["clients"], 3);

    // Bad periods are 422.
    for (q, field) in [
        ("?from=yesterday".to_string(), "from"),
        ("?to=2026-13-01T00:00:00Z".to_string(), "to"),
        (format!("?from={}", enc("2026-06-01 09:00")), "from"),
        (format!("?from={}&to={}", enc(&to), enc(&to)), "from"),
        (format!("?from={}&to={}", enc(&to), enc(&from)), "from"),
    ] {
        let r = get(q.clone()).await;
        r.problem(422, &q);
        assert_eq!(error_field(&r), field, "{q}");
    }
    // Another agency's numbers are its own.
    let rival = app.other_agency("admin@rival.test").await;
    let r = api
        .get(
            &format!("/api/v1/kpis/access?from={}&to={}", enc(&from), enc(&to)),
            &rival.token,
        )
        .await;
    r.expect(200, "rival");
    assert_eq!(r.body["clients"], 0);
    assert_eq!(r.body["clients_waiting"], 0);
    app.shutdown().await;
}

// ---------------------------------------------------------- offboarding --

#[tokio::test]
async fn archiving_waits_until_every_held_access_is_revoked_or_waived() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Leaving Soon").await;
    api.event(t, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "sign");
    let ids = link(
        &api,
        t,
        &client,
        json!([{"platform": "meta_page"}, {"platform": "google_ads"}, {"platform": "ga4"}]),
    )
    .await;
    verify(&api, t, &ids[0]).await;
    mv(&api, t, &ids[1], "grant", None)
        .await
        .expect(200, "grant");
    // ids[2] stays requested: not held.
    let staying = api.create_client(t, "Staying").await;
    let kept = link(&api, t, &staying, json!([{"platform": "gtm"}])).await;
    verify(&api, t, &kept[0]).await;

    let inventory = |tok: String| {
        let api = api.clone();
        async move {
            let r = api.get("/api/v1/access-inventory", &tok).await;
            r.expect(200, "inventory");
            r
        }
    };
    let inv = inventory(t.clone()).await;
    assert_eq!(
        sorted(ids_of(inv.items())),
        sorted(vec![ids[0].clone(), ids[1].clone(), kept[0].clone()]),
        "held access across clients"
    );
    for line in inv.items() {
        assert_eq!(line["needs_revoke"], true, "{line}");
        assert!(line["client_name"].is_string());
        assert!(line["client_lifecycle"].is_string());
    }
    let line = inv
        .items()
        .iter()
        .find(|l| l["id"] == ids[0].as_str())
        .unwrap();
    assert_eq!(line["client_name"], "Leaving Soon");
    assert_eq!(line["client_lifecycle"], "onboarding");
    assert_eq!(line["status"], "verified");

    // Archive is only possible from offboarding.
    let archive_path = format!("/api/v1/clients/{client}/archive");
    let archive = || api.call(Method::POST, &archive_path, t, None);
    archive()
        .await
        .problem(409, "archive before contract_ended");
    api.event(t, &client, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");
    let r = archive().await;
    r.problem(409, "archive with two held accesses");
    assert!(
        r.body["detail"].as_str().unwrap().contains('2'),
        "{}",
        r.text
    );
    let g = api.get(&format!("/api/v1/clients/{client}"), t).await;
    assert_eq!(g.body["lifecycle"], "offboarding");
    let inv = inventory(t.clone()).await;
    let line = inv
        .items()
        .iter()
        .find(|l| l["id"] == ids[0].as_str())
        .unwrap();
    assert_eq!(line["client_lifecycle"], "offboarding");

    // Revoke one: still one held.
    mv(
        &api,
        t,
        &ids[0],
        "revoke",
        Some(json!({"note": "Partner removed"})),
    )
    .await
    .expect(200, "revoke");
    archive().await.problem(409, "archive with one held access");
    // Waive the other: it stays granted, but off the checklist.
    let w = mv(
        &api,
        t,
        &ids[1],
        "waive",
        Some(json!({"reason": "The client removed us themselves"})),
    )
    .await;
    w.expect(200, "waive");
    assert_eq!(w.body["status"], "granted_by_client");
    assert!(w.body["waived_at"].is_string());
    assert_eq!(w.body["waived_by"], app.agency.admin.name.as_str());
    assert_eq!(w.body["waive_reason"], "The client removed us themselves");
    assert_eq!(w.body["needs_revoke"], false);
    mv(&api, t, &ids[1], "waive", Some(json!({"reason": "again"})))
        .await
        .problem(409, "waive twice");
    mv(
        &api,
        t,
        &ids[2],
        "waive",
        Some(json!({"reason": "never granted"})),
    )
    .await
    .problem(409, "waive a request that holds nothing");
    mv(
        &api,
        t,
        &ids[0],
        "waive",
        Some(json!({"reason": "revoked already"})),
    )
    .await
    .problem(409, "waive a revoked request");

    // Now the client archives, and its lines leave the inventory.
    let a = archive().await;
    a.expect(200, "archive");
    assert_eq!(a.body["lifecycle"], "archived");
    assert!(a.body["archived_at"].is_string());
    let inv = inventory(t.clone()).await;
    assert_eq!(ids_of(inv.items()), vec![kept[0].clone()], "only Staying's");
    // An archived client's requests are closed.
    mv(&api, t, &ids[2], "revoke", None)
        .await
        .problem(409, "move on an archived client");
    let types = event_types(&api, t, &client).await;
    assert!(
        types.iter().any(|x| x == "access.revoke_waived"),
        "{types:?}"
    );
    assert!(types.iter().any(|x| x == "archived"), "{types:?}");

    // The inventory is the agency's own; a read token may see it.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = inventory(rival.token.clone()).await;
    assert_eq!(theirs.body, json!({"items": []}));
    let read = api.token(t, "read").await;
    inventory(read).await;
    app.shutdown().await;
}

#[tokio::test]
async fn an_archived_clients_requests_leave_the_board() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Archived with a request").await;
    let ids = link(&api, t, &client, json!([{"platform": "ga4"}])).await;
    api.event(t, &client, json!({"type": "contract_ended"}))
        .await
        .expect(201, "contract ended");
    api.call(
        Method::POST,
        &format!("/api/v1/clients/{client}/archive"),
        t,
        None,
    )
    .await
    .expect(200, "archive: nothing is held");
    mv(&api, t, &ids[0], "revoke", None)
        .await
        .problem(409, "the request can no longer be moved");
    for q in ["", "?waiting_on=client"] {
        let r = api.get(&format!("/api/v1/access-requests{q}"), t).await;
        r.expect(200, q);
        assert!(
            !ids_of(r.items()).contains(&ids[0]),
            "{q}: an archived client's request waits on nobody: {}",
            r.text
        );
    }
    app.shutdown().await;
}

#[tokio::test]
async fn an_optional_body_still_has_the_body_limit() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let client = api.create_client(t, "Big Body").await;
    let ids = link(&api, t, &client, json!([{"platform": "ga4"}])).await;
    let huge = format!("{{\"by\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = api
        .send(
            api.request(
                Method::POST,
                &format!("/api/v1/access-requests/{}/grant", ids[0]),
                t,
            )
            .header("content-type", "application/json")
            .body(huge),
        )
        .await;
    r.problem(413, "a 2 MiB body on an optional-body route");
    // An empty body is the default move.
    let r = api
        .send(api.request(
            Method::POST,
            &format!("/api/v1/access-requests/{}/grant", ids[0]),
            t,
        ))
        .await;
    r.expect(200, "grant with no body");
    assert_eq!(r.body["status"], "granted_by_client");
    app.shutdown().await;
}
