//! Custom domains are verified by a DNS TXT record before Baton routes them
//! or puts them in links. The server asks a tiny local DNS responder
//! (`common::dns`) instead of the internet.

use crate::common;
use baton_store::Cx;

use std::sync::Arc;

use baton_core::clock::{Clock, ManualClock, SystemClock};
use baton_server::testing::{TestApp, ADMIN_PASSWORD};
use common::dns::{app_with_dns, verified_domain, DnsResponder};
use common::{browser, count, csrf_of, trail, Api};
use reqwest::header::{HOST, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const DOMAIN: &str = "onboard.northwind.test";
const RECORD: &str = "_baton-challenge.onboard.northwind.test";
const VERIFY: &str = "/api/v1/agency/custom-domain/verify";

async fn system_app() -> (TestApp, DnsResponder) {
    app_with_dns(Arc::new(SystemClock)).await
}

/// A client with an onboarding link: (link id, token, API answer).
async fn link(api: &Api, token: &str, name: &str) -> (String, String, Value) {
    let client = api.create_client(token, name).await;
    api.event(token, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "contract signed");
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            token,
            json!({"requests": [{"platform": "meta_page"}]}),
        )
        .await;
    r.expect(201, "create link");
    let url = r.body["url"].as_str().unwrap();
    let tok = url.rsplit('/').next().unwrap().to_string();
    (r.id(), tok, r.body.clone())
}

/// The status of the client's link page asked for on `host`.
async fn page_on(app: &TestApp, host: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(app.url(&format!("/o/{token}")))
        .header(HOST, host)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn verified_events(app: &TestApp, agency_id: &str) -> (i64, i64) {
    (
        count(
            app,
            "SELECT COUNT(*) FROM events WHERE agency_id = $1 AND type = 'agency.custom_domain_verified'",
            agency_id,
        )
        .await,
        count(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1 AND action = 'agency.custom_domain_verified'",
            agency_id,
        )
        .await,
    )
}

#[tokio::test]
async fn a_new_domain_is_pending_not_routed_and_not_in_links() {
    let (app, _dns) = system_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let g = api.get("/api/v1/agency", t).await;
    assert_eq!(g.body["custom_domain_status"], "none");
    assert_eq!(g.body["custom_domain"], Value::Null);

    let p = api
        .patch(
            "/api/v1/agency",
            t,
            json!({"custom_domain": "Onboard.Northwind.test"}),
        )
        .await;
    p.expect(200, "set the domain");
    assert_eq!(
        p.body["custom_domain"], DOMAIN,
        "the existing field as before"
    );
    assert_eq!(p.body["custom_domain_status"], "pending");
    assert_eq!(p.body["custom_domain_verified_at"], Value::Null);
    assert_eq!(p.body["custom_domain_txt_name"], RECORD);
    let value = p.body["custom_domain_txt_value"].as_str().unwrap();
    assert!(
        value.starts_with("baton-verify=") && value.len() > 40,
        "{value}"
    );
    assert_eq!(p.body["custom_domain_checked_at"], Value::Null);

    // Not routed: the domain is nobody's yet.
    let (link_id, token, created) = link(&api, t, "Acme Coffee").await;
    assert_eq!(page_on(&app, "127.0.0.1", &token).await, 200);
    assert_eq!(page_on(&app, DOMAIN, &token).await, 404);
    // Links use the public URL.
    assert_eq!(created["custom_domain_url"], Value::Null);
    let url = baton_server::reminders::link_url(&app.state, &app.agency.id, &link_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(url, format!("{}/o/{token}", app.address));
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_check_says_which_record_was_looked_up_and_what_was_found() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let p = api
        .patch("/api/v1/agency", t, json!({"custom_domain": DOMAIN}))
        .await;
    let value = p.body["custom_domain_txt_value"]
        .as_str()
        .unwrap()
        .to_string();
    let before = trail(&app, &app.agency.id).await;

    // Nothing in DNS yet.
    let r = api.post(VERIFY, t, json!({})).await;
    r.problem(422, "no record");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(RECORD), "{detail}");
    assert!(detail.contains("no such name in DNS"), "{detail}");
    assert!(detail.contains(&value), "says what to add: {detail}");
    assert_eq!(dns.queries(RECORD), 1);

    // A record with another value (e.g. an old challenge).
    dns.set_txt(RECORD, &["baton-verify=old", "v=spf1 -all"]);
    let r = api.post(VERIFY, t, json!({})).await;
    r.problem(422, "wrong value");
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(
            "found 2 TXT records, \"baton-verify=old\", \"v=spf1 -all\", none of them the expected value"
        ),
        "{detail}"
    );

    // The agency shows when it was checked and what was found; still pending.
    let g = api.get("/api/v1/agency", t).await;
    assert_eq!(g.body["custom_domain_status"], "pending");
    assert!(g.body["custom_domain_checked_at"].is_string(), "{}", g.text);
    assert!(g.body["custom_domain_check_found"]
        .as_str()
        .unwrap()
        .contains("baton-verify=old"));
    // A failed check is no change of the agency: no event, no audit entry.
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(
        page_on(&app, DOMAIN, &link(&api, t, "Acme").await.1).await,
        404
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_txt_record_verifies_the_domain_which_is_then_routed_and_in_links() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let (link_id, token, _) = link(&api, t, "Acme Coffee").await;
    let before = trail(&app, &app.agency.id).await;
    let p = api
        .patch("/api/v1/agency", t, json!({"custom_domain": DOMAIN}))
        .await;
    let value = p.body["custom_domain_txt_value"].as_str().unwrap();
    // Other TXT records at the name do not get in the way.
    dns.set_txt(RECORD, &["google-site-verification=x", value]);
    let r = api.post(VERIFY, t, json!({})).await;
    r.expect(200, "verified");
    assert_eq!(r.body["custom_domain"], DOMAIN);
    assert_eq!(r.body["custom_domain_status"], "verified");
    let at = common::ms(&r.body["custom_domain_verified_at"]);
    assert!((at - app.state.now()).abs() < 60_000);
    assert_eq!(r.body["custom_domain_txt_name"], Value::Null);
    assert_eq!(r.body["custom_domain_txt_value"], Value::Null);

    // Routed, and in links.
    assert_eq!(page_on(&app, DOMAIN, &token).await, 200);
    assert_eq!(
        page_on(&app, "Onboard.Northwind.test:443", &token).await,
        200
    );
    let url = baton_server::reminders::link_url(&app.state, &app.agency.id, &link_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(url, format!("https://{DOMAIN}/o/{token}"));
    let (_, _, created) = link(&api, t, "Globex").await;
    let custom = created["custom_domain_url"].as_str().unwrap();
    assert!(
        custom.starts_with(&format!("https://{DOMAIN}/o/")),
        "{custom}"
    );

    // One event and one audit entry, by the member's token, naming the domain.
    assert_eq!(verified_events(&app, &app.agency.id).await, (1, 1));
    let changed = count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE agency_id = $1 AND action LIKE 'agency.%'",
        &app.agency.id,
    )
    .await;
    assert_eq!(
        changed, 3,
        "agency.created, agency.updated (the domain set), agency.custom_domain_verified"
    );
    assert!((trail(&app, &app.agency.id).await - before).events > 2);
    let audit = api.get("/api/v1/audit?limit=50", t).await;
    let entry = audit
        .items()
        .iter()
        .find(|e| e["action"] == "agency.custom_domain_verified")
        .expect("audit entry");
    assert_eq!(entry["detail"]["custom_domain"], DOMAIN);
    assert_eq!(entry["detail"]["txt_record"], RECORD);
    assert_eq!(entry["actor_kind"], "token");

    // Checking a verified domain again looks nothing up and writes nothing.
    let queries = dns.queries(RECORD);
    let again = trail(&app, &app.agency.id).await;
    api.post(VERIFY, t, json!({}))
        .await
        .expect(200, "already verified");
    assert_eq!(dns.queries(RECORD), queries);
    assert_eq!(trail(&app, &app.agency.id).await, again);
    // The record may go now: a verified domain stays verified.
    dns.remove(RECORD);
    assert_eq!(page_on(&app, DOMAIN, &token).await, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn changing_the_domain_starts_over_and_the_same_domain_changes_nothing() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let (_, token, _) = link(&api, t, "Acme Coffee").await;
    let v = verified_domain(&api, t, &dns, DOMAIN).await;
    let since = v["custom_domain_verified_at"].clone();

    // Saving other settings, or the same domain (any case), keeps it verified.
    for body in [
        json!({"name": "Northwind Studio"}),
        json!({"custom_domain": "ONBOARD.northwind.test", "brand_color": "#112233"}),
    ] {
        let r = api.patch("/api/v1/agency", t, body).await;
        r.expect(200, "patch");
        assert_eq!(r.body["custom_domain_status"], "verified", "{}", r.text);
        assert_eq!(r.body["custom_domain_verified_at"], since);
    }
    assert_eq!(page_on(&app, DOMAIN, &token).await, 200);

    // Another domain: pending with a fresh challenge; neither is routed.
    let r = api
        .patch(
            "/api/v1/agency",
            t,
            json!({"custom_domain": "links.northwind.test"}),
        )
        .await;
    r.expect(200, "change the domain");
    assert_eq!(r.body["custom_domain"], "links.northwind.test");
    assert_eq!(r.body["custom_domain_status"], "pending");
    assert_eq!(r.body["custom_domain_verified_at"], Value::Null);
    assert_eq!(
        r.body["custom_domain_txt_name"],
        "_baton-challenge.links.northwind.test"
    );
    let fresh = r.body["custom_domain_txt_value"].as_str().unwrap();
    assert_ne!(Some(fresh), v["custom_domain_txt_value"].as_str());
    assert_eq!(page_on(&app, DOMAIN, &token).await, 404);
    assert_eq!(page_on(&app, "links.northwind.test", &token).await, 404);
    // The old domain's record does not verify the new one.
    api.post(VERIFY, t, json!({}))
        .await
        .problem(422, "new domain, no record");

    // Back to the first domain: pending again (its old proof is not kept).
    let r = api
        .patch("/api/v1/agency", t, json!({"custom_domain": DOMAIN}))
        .await;
    assert_eq!(r.body["custom_domain_status"], "pending");
    let third = r.body["custom_domain_txt_value"].as_str().unwrap();
    assert_ne!(third, fresh);
    api.post(VERIFY, t, json!({}))
        .await
        .problem(422, "the old record holds an old challenge");

    // Cleared: nothing left.
    let r = api
        .patch("/api/v1/agency", t, json!({"custom_domain": ""}))
        .await;
    r.expect(200, "clear");
    for k in [
        "custom_domain",
        "custom_domain_verified_at",
        "custom_domain_txt_name",
        "custom_domain_txt_value",
        "custom_domain_checked_at",
        "custom_domain_check_found",
    ] {
        assert_eq!(r.body[k], Value::Null, "{k}");
    }
    assert_eq!(r.body["custom_domain_status"], "none");
    let r = api.post(VERIFY, t, json!({})).await;
    r.problem(409, "no domain");
    assert!(r.text.contains("no custom domain is set"), "{}", r.text);
    app.shutdown().await;
}

#[tokio::test]
async fn agencies_cannot_see_verify_or_take_each_others_domains() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    let a = &app.agency.token;
    let rival = app.other_agency("admin@rival.test").await;
    let b = &rival.token;
    let pa = api
        .patch("/api/v1/agency", a, json!({"custom_domain": DOMAIN}))
        .await;
    let a_value = pa.body["custom_domain_txt_value"]
        .as_str()
        .unwrap()
        .to_string();

    // B sees its own agency only, and has no domain to verify.
    let g = api.get("/api/v1/agency", b).await;
    assert_eq!(g.body["custom_domain_status"], "none");
    assert!(!g.text.contains(&a_value));
    api.post(VERIFY, b, json!({}))
        .await
        .problem(409, "B has no domain");

    // A pending claim does not lock the domain: B may claim it too, with its
    // own challenge; A's record does not verify B's claim.
    let pb = api
        .patch("/api/v1/agency", b, json!({"custom_domain": DOMAIN}))
        .await;
    pb.expect(200, "B claims the same domain");
    assert_ne!(
        pb.body["custom_domain_txt_value"],
        pa.body["custom_domain_txt_value"]
    );
    dns.set_txt(RECORD, &[&a_value]);
    let r = api.post(VERIFY, b, json!({})).await;
    r.problem(422, "A's record is not B's proof");
    // (What DNS holds is public: B is told what was found, as anyone could
    // look it up; B's own challenge is what B must publish.)
    let b_value = pb.body["custom_domain_txt_value"].as_str().unwrap();
    assert!(r.text.contains(b_value), "{}", r.text);
    // A proves it; then the domain is A's and B can neither verify nor set it.
    api.post(VERIFY, a, json!({}))
        .await
        .expect(200, "A verifies");
    dns.set_txt(RECORD, &[b_value]);
    let r = api.post(VERIFY, b, json!({})).await;
    r.problem(422, "already A's");
    assert!(
        r.text.contains("already verified by another agency"),
        "{}",
        r.text
    );
    let r = api
        .patch("/api/v1/agency", b, json!({"custom_domain": ""}))
        .await;
    r.expect(200, "B lets it go");
    let r = api
        .patch("/api/v1/agency", b, json!({"custom_domain": DOMAIN}))
        .await;
    r.problem(422, "B cannot claim A's verified domain");
    assert!(
        r.text.contains("already verified by another agency"),
        "{}",
        r.text
    );
    assert_eq!(verified_events(&app, &rival.id).await, (0, 0));
    assert_eq!(verified_events(&app, &app.agency.id).await, (1, 1));

    // Only admins verify.
    let read = api.token(a, "read").await;
    api.post(VERIFY, &read, json!({}))
        .await
        .problem(403, "read scope");
    api.post(VERIFY, "bt_nope", json!({}))
        .await
        .problem(401, "no token");
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_refused_without_a_lookup() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let before = trail(&app, &app.agency.id).await;
    for (what, domain) in [
        ("not a host name", "not a domain"),
        ("an address", "10.0.0.1"),
        ("no dot", "localhost"),
        ("a label too long", &format!("{}.test", "a".repeat(64))),
        ("underscore", "_baton-challenge.northwind.test"),
    ] {
        api.patch("/api/v1/agency", t, json!({ "custom_domain": domain }))
            .await
            .problem(422, what);
    }
    // The verify call takes no input; JSON it does not read is not looked at,
    // and the wrong method is not routed.
    api.post(VERIFY, t, json!({"custom_domain": DOMAIN}))
        .await
        .problem(409, "still no domain");
    let r = api.get(VERIFY, t).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(trail(&app, &app.agency.id).await, before);
    assert_eq!(dns.queries(RECORD), 0);
    app.shutdown().await;
}

/// The background worker checks pending domains every 10 minutes: with two
/// passes at once (two servers), the record is looked up once and the
/// domain verified once.
#[tokio::test]
async fn the_worker_verifies_a_pending_domain_exactly_once_with_two_passes_at_once() {
    let clock = ManualClock::new(1_795_856_400_000);
    let (app, dns) = app_with_dns(Arc::new(clock.clone())).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let p = api
        .patch("/api/v1/agency", t, json!({"custom_domain": DOMAIN}))
        .await;
    dns.set_txt(
        RECORD,
        &[p.body["custom_domain_txt_value"].as_str().unwrap()],
    );
    // Not due before 10 minutes have passed.
    let state = &app.state;
    assert_eq!(
        baton_server::custom_domains::run_once(state).await.unwrap(),
        0
    );
    assert_eq!(dns.queries(RECORD), 0);

    clock.advance(10 * 60 * 1000);
    let (x, y) = tokio::join!(
        baton_server::custom_domains::run_once(state),
        baton_server::custom_domains::run_once(state)
    );
    let verified = x.unwrap() + y.unwrap();
    assert!(verified <= 1);
    assert_eq!(verified_events(&app, &app.agency.id).await, (1, 1));
    assert_eq!(dns.queries(RECORD), 1, "one lookup for two passes");
    let g = api.get("/api/v1/agency", t).await;
    assert_eq!(g.body["custom_domain_status"], "verified");
    let audit = api.get("/api/v1/audit?limit=5", t).await;
    assert_eq!(audit.items()[0]["action"], "agency.custom_domain_verified");
    assert_eq!(audit.items()[0]["actor_label"], "custom domain check");

    // Nothing more to do on later passes.
    clock.advance(10 * 60 * 1000);
    assert_eq!(
        baton_server::custom_domains::run_once(state).await.unwrap(),
        0
    );
    assert_eq!(dns.queries(RECORD), 1);
    assert_eq!(verified_events(&app, &app.agency.id).await, (1, 1));
    app.shutdown().await;
}

/// Without the record, the worker looks every 10 minutes and records what
/// it found; after 7 days it stops looking (a member can still check).
#[tokio::test]
async fn the_worker_keeps_looking_for_seven_days_then_stops() {
    let clock = ManualClock::new(1_795_856_400_000);
    let (app, dns) = app_with_dns(Arc::new(clock.clone())).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.patch("/api/v1/agency", t, json!({"custom_domain": DOMAIN}))
        .await
        .expect(200, "set");
    let before = trail(&app, &app.agency.id).await;
    let pass = || baton_server::custom_domains::run_once(&app.state);
    clock.advance(10 * 60 * 1000);
    assert_eq!(pass().await.unwrap(), 0);
    assert_eq!(dns.queries(RECORD), 1);
    // Twice in the same 10 minutes is once.
    clock.advance(5 * 60 * 1000);
    pass().await.unwrap();
    assert_eq!(dns.queries(RECORD), 1);
    clock.advance(5 * 60 * 1000);
    pass().await.unwrap();
    assert_eq!(dns.queries(RECORD), 2);
    let g = api.get("/api/v1/agency", t).await;
    assert_eq!(g.body["custom_domain_check_found"], "no such name in DNS");
    assert_eq!(
        common::ms(&g.body["custom_domain_checked_at"]),
        clock.now_ms()
    );
    assert_eq!(
        trail(&app, &app.agency.id).await,
        before,
        "checks write no event"
    );

    // Past 7 days: no more lookups by the worker, but Check now still works.
    clock.advance(7 * 24 * 3600 * 1000);
    pass().await.unwrap();
    assert_eq!(dns.queries(RECORD), 2);
    let g = api.get("/api/v1/agency", t).await;
    dns.set_txt(
        RECORD,
        &[g.body["custom_domain_txt_value"].as_str().unwrap()],
    );
    pass().await.unwrap();
    assert_eq!(dns.queries(RECORD), 2);
    api.post(VERIFY, t, json!({}))
        .await
        .expect(200, "checked by hand");
    app.shutdown().await;
}

async fn get(c: &Client, url: &str) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn admin_browser(app: &TestApp) -> Client {
    let c = browser();
    let (_, html) = get(&c, &app.url("/login")).await;
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", app.agency.admin.email.as_str()),
            ("password", ADMIN_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "admin login");
    c
}

fn settings_form(csrf: &str, domain: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("name", "Northwind Social".into()),
        ("timezone", "Europe/Berlin".into()),
        ("brand_color", "#1f4fd1".into()),
        ("accent_color", "#0f766e".into()),
        ("logo_url", String::new()),
        ("custom_domain", domain.into()),
    ]
}

#[tokio::test]
async fn the_settings_page_shows_the_record_and_check_now_comes_back_to_it() {
    let (app, dns) = system_app().await;
    let c = admin_browser(&app).await;
    let (status, html) = get(&c, &app.url("/settings")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("data-testid=\"custom-domain\""),
        "no domain yet"
    );
    let csrf = csrf_of(&html);
    let r = c
        .post(app.url("/settings"))
        .form(&settings_form(&csrf, DOMAIN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/settings?notice=domain_pending#custom-domain",
        "to the record the new domain needs"
    );

    // Pending: the record to add, in plain words, copyable.
    let (_, html) = get(&c, &app.url("/settings?notice=domain_pending")).await;
    assert!(html.contains("Add the DNS record below"));
    let agency = baton_store::agencies::get(&app.state.db, &app.agency.id)
        .await
        .unwrap();
    let value = agency.domain.challenge.clone().unwrap();
    assert!(html.contains("Waiting for DNS"), "{html}");
    assert!(html.contains(&format!("value=\"{RECORD}\" readonly")));
    assert!(html.contains(&format!("value=\"{value}\" readonly")));
    assert!(html.contains("data-copy=\"txt-value\""));
    assert!(html.contains("<dd class=\"mono\">TXT</dd>"));
    assert!(html.contains(&format!("client links use {}", app.address)));
    assert!(html.contains("Not checked yet."));
    assert!(html.contains("action=\"/settings/custom-domain/check\""));

    // Check now: Post/Redirect/Get back to the page, which says what was found.
    let csrf = csrf_of(&html);
    let check = |csrf: String| {
        c.post(app.url("/settings/custom-domain/check"))
            .form(&[("csrf", csrf)])
            .send()
    };
    let r = check(csrf.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/settings?notice=domain_not_verified#custom-domain"
    );
    let (_, html) = get(&c, &app.url("/settings?notice=domain_not_verified")).await;
    assert!(html.contains("Custom domain not verified yet"));
    assert!(html.contains("Last checked"));
    assert!(
        html.contains(&format!("at {RECORD} Baton found no such name in DNS.")),
        "{html}"
    );

    // Without the session's CSRF token: refused, nothing looked up.
    let queries = dns.queries(RECORD);
    let r = check("forged".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(dns.queries(RECORD), queries);

    // Saving the form again with the same domain keeps the same record.
    let r = c
        .post(app.url("/settings"))
        .form(&settings_form(&csrf, DOMAIN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/settings?notice=settings_saved");
    let (_, html) = get(&c, &app.url("/settings")).await;
    assert!(html.contains(&format!("value=\"{value}\" readonly")));

    // The record is there: verified, since when in the agency's time.
    dns.set_txt(RECORD, &[&value]);
    let r = check(csrf.clone()).await.unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/settings?notice=domain_verified#custom-domain"
    );
    let (_, html) = get(&c, &app.url("/settings?notice=domain_verified")).await;
    assert!(html.contains("Custom domain verified: client links use it now."));
    assert!(html.contains(">Verified</span>"), "{html}");
    assert!(html.contains(" since <time datetime=\""));
    assert!(html.contains(&format!("Client links use https://{DOMAIN}")));
    assert!(!html.contains(&value), "no record to add any more");
    assert!(!html.contains("/settings/custom-domain/check"));
    assert_eq!(verified_events(&app, &app.agency.id).await, (1, 1));
    let label: String = sqlx::query_scalar(
        "SELECT actor_label FROM audit_log WHERE agency_id = $1 AND action = 'agency.custom_domain_verified'",
    )
    .bind(app.agency.id.as_str())
    .fetch_one(app.state.db.reader())
    .await
    .unwrap();
    assert_eq!(label, "Test Admin", "the member, by name");
    app.shutdown().await;
}

#[tokio::test]
async fn only_admins_check_from_the_settings_page() {
    let (app, dns) = system_app().await;
    let api = Api::new(&app);
    api.patch(
        "/api/v1/agency",
        &app.agency.token,
        json!({"custom_domain": DOMAIN}),
    )
    .await
    .expect(200, "set");
    // A member who is not an admin.
    let (email, password) = ("casey@northwind.test", "casey's password");
    baton_store::members::create(
        Cx::new(
            &app.state.db,
            &app.agency.id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        baton_store::members::MemberInput {
            email: email.into(),
            name: "Casey Creative".into(),
            roles: vec!["designer".into()],
            is_admin: false,
            password_hash: Some(baton_server::auth::password::hash_async(password.into()).await),
        },
    )
    .await
    .expect("create member");
    let c = browser();
    let (_, html) = get(&c, &app.url("/login")).await;
    c.post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    let (_, html) = get(&c, &app.url("/account")).await;
    let r = c
        .post(app.url("/settings/custom-domain/check"))
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(dns.queries(RECORD), 0);
    app.shutdown().await;
}

#[tokio::test]
async fn the_api_document_describes_the_status_and_the_check() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let doc = api.get("/api/openapi.json", "").await.body;
    let op = &doc["paths"][VERIFY]["post"];
    assert_eq!(op["operationId"], "verifyCustomDomain");
    for status in ["200", "403", "409", "422"] {
        assert!(op["responses"][status].is_object(), "{status}");
    }
    let schemas = &doc["components"]["schemas"];
    let agency = &schemas["AgencyOut"]["properties"];
    for field in [
        "custom_domain",
        "custom_domain_status",
        "custom_domain_verified_at",
        "custom_domain_txt_name",
        "custom_domain_txt_value",
    ] {
        assert!(agency[field].is_object(), "{field}");
    }
    let status = &schemas["CustomDomainStatus"];
    assert_eq!(
        status["enum"],
        json!(["none", "pending", "verified"]),
        "{status}"
    );
    app.shutdown().await;
}
