//! The client's onboarding link `/o/{token}` through a real server: the
//! side-effect-free pages, the logged open, the neutral 404 for every bad
//! token, guessing limits, granting and "I'm stuck", the questionnaire
//! (escaping, required answers), brand-kit uploads (types, names, sizes),
//! custom domains and white label, page weight, and that the token itself
//! is never stored. Runs on SQLite, or on PostgreSQL when
//! `BATON_TEST_POSTGRES_URL` is set.

use crate::common;
use baton_store::Cx;

use baton_server::testing::TestApp;
use baton_store::Backend;
use common::{trail, Api};
use reqwest::header::{HeaderMap, HOST, LOCATION, ORIGIN};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const NOT_VALID: &str = "This link is not valid.";
const ASK_AGAIN: &str =
    "It may have expired or been replaced. Ask the agency that sent it for a new link.";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Whether `html` shows `raw` HTML-escaped: `<`, `>`, `&`, quotes as
/// entities (askama writes numeric ones, `&#60;`; named ones count too).
fn shows_escaped(html: &str, raw: &str) -> bool {
    let numeric = raw
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let named = raw
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    html.contains(&numeric) || html.contains(&named)
}

/// A browser without cookies that does not follow redirects.
fn browser() -> Client {
    Client::builder()
        .redirect(common::flash_policy())
        .build()
        .expect("client")
}

/// A page as the client's browser got it.
#[derive(Debug)]
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn location(&self) -> &str {
        self.header(LOCATION.as_str())
    }

    #[track_caller]
    fn expect(&self, status: u16, what: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{what}: body {}", self.html);
        self
    }

    /// Every portal response: no referrer, not indexed.
    #[track_caller]
    fn private_headers(&self, what: &str) {
        assert_eq!(self.header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(self.header("x-robots-tag"), "noindex, nofollow", "{what}");
    }
}

async fn read(resp: reqwest::Response) -> Page {
    Page {
        status: resp.status(),
        headers: resp.headers().clone(),
        html: resp.text().await.expect("body"),
    }
}

async fn get(c: &Client, url: &str) -> Page {
    read(c.get(url).send().await.expect("GET")).await
}

async fn post_form(c: &Client, url: &str, form: &[(&str, &str)]) -> Page {
    read(c.post(url).form(form).send().await.expect("POST")).await
}

/// A multipart body with one `file` part, built by hand.
fn multipart(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----portal-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        format!(
            "Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(c: &Client, url: &str, filename: &str, bytes: &[u8]) -> Page {
    let (ct, body) = multipart(filename, bytes);
    read(
        c.post(url)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

/// A client with a signed contract and one onboarding link.
#[derive(Debug, Clone)]
struct Link {
    client: String,
    id: String,
    token: String,
    /// `address/o/{token}`
    url: String,
    requests: Vec<String>,
}

async fn client_with_link(api: &Api, token: &str, name: &str, requests: Value) -> Link {
    let client = api.create_client(token, name).await;
    api.event(token, &client, json!({"type": "contract_signed"}))
        .await
        .expect(201, "contract signed");
    link_for(api, token, &client, requests).await
}

async fn link_for(api: &Api, token: &str, client: &str, body: Value) -> Link {
    let body = if body.is_array() {
        json!({ "requests": body })
    } else {
        body
    };
    let r = api
        .post(
            &format!("/api/v1/clients/{client}/onboarding-links"),
            token,
            body,
        )
        .await;
    r.expect(201, "create link");
    let url = r.body["url"].as_str().expect("url").to_string();
    let tok = url.rsplit('/').next().unwrap().to_string();
    assert!(url.ends_with(&format!("/o/{tok}")), "{url}");
    Link {
        client: client.to_string(),
        id: r.id(),
        token: tok,
        url,
        requests: r.body["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect(),
    }
}

fn two_requests() -> Value {
    json!([{"platform": "meta_page"}, {"platform": "ga4", "permission": "analyst"}])
}

async fn statuses(api: &Api, token: &str, client: &str) -> Vec<String> {
    let r = api
        .get(&format!("/api/v1/clients/{client}/access-requests"), token)
        .await;
    r.expect(200, "list access requests");
    r.items()
        .iter()
        .map(|x| x["status"].as_str().unwrap().to_string())
        .collect()
}

async fn event_types(api: &Api, token: &str, client: &str) -> Vec<String> {
    api.client_events(token, client)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn welcome_writes_nothing_and_continue_logs_the_open() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();

    common::settle(&app).await;
    let events_before = api.get("/api/v1/events?limit=200", t).await.items().len();
    let before = trail(&app, &app.agency.id).await;
    let p = get(&c, &link.url).await;
    p.expect(200, "welcome");
    p.private_headers("welcome");
    assert_eq!(p.header("cache-control"), "no-store");
    assert!(p.header("content-type").starts_with("text/html"));
    assert!(p.html.contains("<html lang=\"en\">"));
    assert!(
        p.html
            .contains("Northwind Social needs access to 2 platforms for Acme Coffee"),
        "{}",
        p.html
    );
    assert!(
        p.html.contains("Facebook Page") && p.html.contains("Google Analytics"),
        "{}",
        p.html
    );
    assert!(p
        .html
        .contains(&format!("action=\"/o/{}/open\"", link.token)));
    assert!(p.html.contains(">Continue</button>"));
    assert_eq!(p.html.matches("<h1").count(), 1, "one h1");
    // The steps page is side-effect free too.
    get(&c, &format!("{}/steps", link.url))
        .await
        .expect(200, "steps");
    assert_eq!(
        trail(&app, &app.agency.id).await,
        before,
        "GETs write nothing"
    );
    assert_eq!(
        api.get("/api/v1/events?limit=200", t).await.items().len(),
        events_before
    );
    let l = api
        .get(&format!("/api/v1/onboarding-links/{}", link.id), t)
        .await;
    assert_eq!(l.body["open_count"], 0);

    let p = read(
        c.post(format!("{}/open", link.url))
            .header("user-agent", "PortalTest/1.0")
            .send()
            .await
            .unwrap(),
    )
    .await;
    p.expect(303, "continue");
    p.private_headers("continue");
    assert_eq!(p.location(), format!("/o/{}/steps", link.token));
    assert!(event_types(&api, t, &link.client)
        .await
        .contains(&"onboarding.link_opened".to_string()));
    let audit = api.get("/api/v1/audit?limit=200", t).await;
    audit.expect(200, "audit");
    let open = audit
        .items()
        .iter()
        .find(|e| e["action"] == "onboarding.link_opened")
        .unwrap_or_else(|| panic!("no open in the audit log: {}", audit.text));
    assert_eq!(open["ip"], "127.0.0.1");
    assert_eq!(open["user_agent"], "PortalTest/1.0");
    assert_eq!(open["actor_kind"], "client_link");
    assert_eq!(open["actor_id"], link.id.as_str());
    assert_eq!(open["actor_label"], "Acme Coffee (onboarding link)");
    let l = api
        .get(&format!("/api/v1/onboarding-links/{}", link.id), t)
        .await;
    assert_eq!(l.body["open_count"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn every_bad_token_gets_the_same_neutral_404() {
    let start = 1_780_000_000_000;
    let (app, clock) = TestApp::spawn_at(start).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let live = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let revoked = link_for(&api, t, &live.client, two_requests()).await;
    let expiring = link_for(
        &api,
        t,
        &live.client,
        json!({"requests": [{"platform": "meta_page"}], "expires_in_days": 1}),
    )
    .await;
    let c = browser();
    get(&c, &expiring.url).await.expect(200, "before expiry");
    get(&c, &revoked.url).await.expect(200, "before revoking");
    api.delete(&format!("/api/v1/onboarding-links/{}", revoked.id), t)
        .await;
    clock.advance(2 * 86_400_000);

    let base = &app.address;
    let wrong = "A".repeat(43);
    let mut bodies = Vec::new();
    for (what, url) in [
        ("wrong token", format!("{base}/o/{wrong}")),
        ("garbage token", format!("{base}/o/not-a-token")),
        ("revoked", revoked.url.clone()),
        ("expired", expiring.url.clone()),
        ("revoked steps", format!("{}/steps", revoked.url)),
        ("unknown sub-path", format!("{}/nope/deeper", live.url)),
        ("trailing slash", format!("{}/", live.url)),
        ("bare /o/", format!("{base}/o/")),
        ("empty token", format!("{base}/o//steps")),
        ("GET of a POST route", format!("{}/open", live.url)),
    ] {
        let p = get(&c, &url).await;
        p.expect(404, what);
        p.private_headers(what);
        assert_eq!(p.header("cache-control"), "no-store", "{what}");
        bodies.push((what, p.html));
    }
    // Posts with a bad token get it too.
    let p = post_form(&c, &format!("{}/open", revoked.url), &[]).await;
    p.expect(404, "open of a revoked link");
    bodies.push(("open revoked", p.html));
    let p = post_form(
        &c,
        &format!("{}/answers", expiring.url),
        &[("q_approver", "x")],
    )
    .await;
    p.expect(404, "answers on an expired link");
    bodies.push(("answers expired", p.html));

    let first = &bodies[0].1;
    assert!(
        first.contains(NOT_VALID) && first.contains(ASK_AGAIN),
        "{first}"
    );
    for (what, body) in &bodies {
        assert_eq!(body, first, "{what}: the 404 differs");
    }
    for word in ["Northwind", "Baton", "baton", "Acme"] {
        assert!(!first.contains(word), "the 404 names {word}: {first}");
    }
    // The live link still works and its client is untouched by the misses.
    get(&c, &live.url).await.expect(200, "live link");
    app.shutdown().await;
}

#[tokio::test]
async fn guessing_tokens_is_slowed_per_address_but_never_blocks_a_valid_link() {
    let delay = std::time::Duration::from_millis(400);
    let app =
        TestApp::spawn_with_config(std::sync::Arc::new(baton_core::clock::SystemClock), |c| {
            c.link_guess_delay = delay
        })
        .await;
    let api = Api::new(&app);
    let live = client_with_link(&api, &app.agency.token, "Acme Coffee", two_requests()).await;
    let c = browser();
    for i in 0..30 {
        let guess = format!("{:0>43}", i);
        get(&c, &app.url(&format!("/o/{guess}")))
            .await
            .expect(404, "guess");
    }
    // Past the limit a guess waits before it is looked up, and says so.
    let started = std::time::Instant::now();
    let p = get(&c, &app.url(&format!("/o/{}", "B".repeat(43)))).await;
    assert!(started.elapsed() >= delay, "the 31st guess is slowed");
    p.expect(429, "31st guess");
    p.private_headers("429");
    let wait: u64 = p
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert!(p.html.contains("Too many attempts"), "{}", p.html);
    assert!(!p.html.contains("Northwind") && !p.html.contains("Baton"));
    // A valid link from the same address is slowed too, never refused:
    // junk requests cannot lock the agency's clients out.
    let started = std::time::Instant::now();
    get(&c, &live.url)
        .await
        .expect(200, "valid link while slowed");
    assert!(started.elapsed() >= delay);
    let opened = post_form(&c, &format!("{}/open", live.url), &[]).await;
    assert!(
        opened.status.is_success() || opened.status.is_redirection(),
        "a post on the valid link works: {}",
        opened.status
    );
    // The counters are in the database (shared by every server).
    let counters = common::count(
        &app,
        "SELECT COUNT(*) FROM throttle_counters WHERE throttle_key LIKE $1",
        "link:%",
    )
    .await;
    assert_eq!(counters, 1, "one counter for the address");
    // The stylesheet is not under /o/ and is never slowed.
    let started = std::time::Instant::now();
    get(&c, &app.url("/o-static/portal.css"))
        .await
        .expect(200, "css");
    assert!(started.elapsed() < delay);
    app.shutdown().await;
}

#[tokio::test]
async fn client_grants_gets_stuck_and_sees_the_agency_confirm() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(
        &api,
        t,
        "Acme Coffee",
        json!([
            {"platform": "meta_page"},
            {"platform": "ga4", "permission": "analyst"},
            {"platform": "google_ads", "asset": "123-456-7890"}
        ]),
    )
    .await;
    let (meta, ga4, ads) = (&link.requests[0], &link.requests[1], &link.requests[2]);
    let c = browser();
    let steps = format!("{}/steps", link.url);

    let p = get(&c, &steps).await;
    p.expect(200, "steps");
    assert!(p.html.contains("0 of 3 done"), "{}", p.html);
    assert!(p.html.contains("0 confirmed by Northwind Social"));
    assert!(p.html.contains("<progress max=\"3\" value=\"0\""));
    assert_eq!(p.html.matches("Waiting for you").count(), 3);
    assert_eq!(p.html.matches("<h1").count(), 1);
    assert!(
        p.html.contains("<ol class=\"steps\">"),
        "steps are an ordered list"
    );
    assert!(p.html.contains("Mistakes to avoid"));
    assert!(
        p.html.contains("Analyst"),
        "the permission's name, not its key"
    );
    assert!(p.html.contains("123-456-7890"), "the asset");
    // Cards in position order.
    let (a, b, d) = (
        p.html.find(&format!("id=\"req-{meta}\"")).unwrap(),
        p.html.find(&format!("id=\"req-{ga4}\"")).unwrap(),
        p.html.find(&format!("id=\"req-{ads}\"")).unwrap(),
    );
    assert!(a < b && b < d);
    // "I'm stuck" is a link that opens the message form on that card only.
    let stuck_link = format!("href=\"/o/{}/steps?stuck={meta}#m-{meta}\"", link.token);
    assert!(p.html.contains(&stuck_link), "{}", p.html);
    assert!(!p.html.contains("<textarea id=\"m-"), "no form until asked");
    let opened = get(&c, &format!("{steps}?stuck={meta}")).await;
    opened.expect(200, "stuck form");
    assert!(
        opened.html.contains(&format!("<label for=\"m-{meta}\">")),
        "the stuck textarea is labelled"
    );
    assert_eq!(opened.html.matches("<textarea id=\"m-").count(), 1);

    // A cross-site post is refused and writes nothing.
    let before = trail(&app, &app.agency.id).await;
    let p = read(
        c.post(format!("{}/requests/{meta}/granted", link.url))
            .header(ORIGIN, "https://evil.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    p.expect(403, "cross-site grant");
    p.private_headers("403");
    assert!(!p.html.contains("Northwind"));
    assert_eq!(trail(&app, &app.agency.id).await, before);

    // Same-origin posts work (with or without an Origin header); each
    // returns to the next platform still waiting.
    for (id, next) in [(meta, ga4), (ga4, ads)] {
        let p = read(
            c.post(format!("{}/requests/{id}/granted", link.url))
                .header(ORIGIN, app.address.as_str())
                .send()
                .await
                .unwrap(),
        )
        .await;
        p.expect(303, "grant");
        assert_eq!(
            p.location(),
            format!(
                "/o/{}/steps?done=granted&next={next}#req-{next}",
                link.token
            )
        );
    }
    // A second click is harmless.
    post_form(&c, &format!("{}/requests/{meta}/granted", link.url), &[])
        .await
        .expect(303, "grant again");
    assert_eq!(
        statuses(&api, t, &link.client).await,
        vec!["granted_by_client", "granted_by_client", "requested"]
    );

    // Stuck: an empty message is refused next to the field, typed text kept.
    let p = post_form(
        &c,
        &format!("{}/requests/{ads}/stuck", link.url),
        &[("message", "   ")],
    )
    .await;
    p.expect(422, "empty stuck message");
    assert!(p.html.contains("Write a few words"), "{}", p.html);
    assert!(
        p.html.contains(&format!("<label for=\"m-{ads}\">")),
        "the form re-opens"
    );
    let p = post_form(
        &c,
        &format!("{}/requests/{ads}/stuck", link.url),
        &[("message", "I can't find <Admin> settings")],
    )
    .await;
    p.expect(303, "stuck");
    // Nothing else waits on the client: back at that card.
    assert_eq!(
        p.location(),
        format!("/o/{}/steps?done=stuck&at={ads}#req-{ads}", link.token)
    );
    assert!(event_types(&api, t, &link.client)
        .await
        .contains(&"access.client_stuck".to_string()));
    let p = get(&c, &format!("{steps}?done=stuck&at={ads}")).await;
    assert!(
        shows_escaped(&p.html, "I can't find <Admin> settings"),
        "{}",
        p.html
    );
    assert!(p.html.contains("role=\"status\""), "the notice");
    assert!(p.html.contains("2 of 3 done"));
    assert_eq!(
        p.html
            .matches("You marked this granted — Northwind Social is checking")
            .count(),
        2
    );
    // ?done= only picks from fixed sentences.
    let p = get(&c, &format!("{steps}?done=%3Cscript%3E")).await;
    assert!(!p.html.contains("role=\"status\"") && !p.html.contains("<script"));

    // Ids of another link or another client are not found.
    let other_link = link_for(&api, t, &link.client, two_requests()).await;
    let other_client = client_with_link(&api, t, "Other Co", two_requests()).await;
    for id in [
        &other_link.requests[0],
        &other_client.requests[0],
        &"acc_nope".to_string(),
    ] {
        post_form(&c, &format!("{}/requests/{id}/granted", link.url), &[])
            .await
            .expect(404, "foreign request id");
        post_form(
            &c,
            &format!("{}/requests/{id}/stuck", link.url),
            &[("message", "x")],
        )
        .await
        .expect(404, "foreign request id (stuck)");
    }
    assert_eq!(
        statuses(&api, t, &other_client.client).await,
        vec!["requested", "requested"]
    );

    // The agency verifies one and fails one; the client reads it.
    api.post(
        &format!("/api/v1/access-requests/{meta}/verify"),
        t,
        json!({"note": "posted a draft"}),
    )
    .await
    .expect(200, "verify");
    api.post(
        &format!("/api/v1/access-requests/{ga4}/fail"),
        t,
        json!({"reason": "wrong property <b>"}),
    )
    .await
    .expect(200, "fail");
    let p = get(&c, &steps).await;
    assert!(p.html.contains("Confirmed by Northwind Social"));
    assert!(
        shows_escaped(
            &p.html,
            "Northwind Social could not use this access: wrong property <b> — please check and try again"
        ),
        "{}",
        p.html
    );
    assert!(p.html.contains("1 of 3 done") && p.html.contains("1 confirmed by Northwind Social"));
    assert!(!p.html.contains("All done"), "not finished yet");

    // Everything verified: the thank-you banner.
    for id in [ga4, ads] {
        api.post(
            &format!("/api/v1/access-requests/{id}/verify"),
            t,
            json!({"note": "checked"}),
        )
        .await
        .expect(200, "verify");
    }
    let p = get(&c, &steps).await;
    assert!(p.html.contains("All done — thank you!"), "{}", p.html);
    assert!(p.html.contains("3 of 3 done") && p.html.contains("3 confirmed by"));
    assert!(
        !p.html.contains("I&#39;ve granted access") && !p.html.contains("granted access</button>")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn answers_are_escaped_and_required_ones_enforced() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    let steps = format!("{}/steps", link.url);

    let p = get(&c, &steps).await;
    assert!(p.html.contains("<label for=\"q-approver\">"), "{}", p.html);
    assert!(p.html.contains("name=\"q_approver\""));
    assert!(p
        .html
        .contains("id=\"q-approver\" name=\"q_approver\" value=\"\" maxlength=\"5000\" required"));
    assert!(
        p.html.contains("<textarea id=\"q-avoid\" name=\"q_avoid\""),
        "long questions are textareas"
    );

    let script = "<script>alert(1)</script>";
    let p = post_form(
        &c,
        &format!("{}/answers", link.url),
        &[
            ("q_approver", script),
            ("q_avoid", "Competitor \"X\"\nand politics"),
            ("q_unknown", "ignored"),
        ],
    )
    .await;
    p.expect(303, "answers");
    assert_eq!(
        p.location(),
        format!("/o/{}/steps?done=answers#questions", link.token)
    );
    let intake = api
        .get(&format!("/api/v1/clients/{}/intake", link.client), t)
        .await;
    intake.expect(200, "intake");
    let stored: Vec<(&str, &str)> = intake.body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["question_key"].as_str().unwrap(),
                a["answer"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(stored.contains(&("approver", script)), "{stored:?}");
    let p = get(&c, &format!("{steps}?done=answers")).await;
    assert!(shows_escaped(&p.html, script), "{}", p.html);
    assert!(!p.html.contains(script));
    assert!(
        p.html.contains("Competitor &#34;X&#34;\nand politics")
            || p.html.contains("Competitor &quot;X&quot;\nand politics")
    );
    assert!(p.html.contains("Your answers were saved"));

    // The required question left empty: 422, the error next to it, the
    // other answers as typed, nothing saved.
    let before = trail(&app, &app.agency.id).await;
    let p = post_form(
        &c,
        &format!("{}/answers", link.url),
        &[("q_approver", "  "), ("q_brand_voice", "Warm & direct")],
    )
    .await;
    p.expect(422, "missing required answer");
    p.private_headers("422");
    assert!(
        p.html.contains("value=\"Warm &#38; direct\"")
            || p.html.contains("value=\"Warm &amp; direct\""),
        "typed text kept: {}",
        p.html
    );
    assert!(p
        .html
        .contains("<p class=\"err\" id=\"qe-approver\">This question needs an answer.</p>"));
    assert!(p
        .html
        .contains("aria-describedby=\"qh-approver qe-approver\" aria-invalid=\"true\""));
    assert!(p.html.contains("role=\"alert\""));
    assert_eq!(trail(&app, &app.agency.id).await, before, "nothing written");
    let intake = api
        .get(&format!("/api/v1/clients/{}/intake", link.client), t)
        .await;
    assert!(intake.text.contains("alert(1)"), "the earlier answers stay");
    app.shutdown().await;
}

/// Every stored file (`agency/client/name`, temporary ones too on the
/// local backend), from whichever file store the app uses.
async fn stored_files(app: &TestApp) -> Vec<String> {
    app.state
        .config
        .files
        .list()
        .await
        .expect("list stored files")
}

#[tokio::test]
async fn uploads_are_typed_sized_named_and_stored() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    let files_url = format!("{}/files", link.url);
    let data_dir = app.state.config.data_dir.clone();
    let client_dir = format!("{}/{}/", app.agency.id, link.client);

    let p = get(&c, &format!("{}/steps", link.url)).await;
    assert!(p.html.contains("enctype=\"multipart/form-data\""));
    assert!(
        p.html.contains("Accepted types: PNG, JPG, JPEG"),
        "{}",
        p.html
    );
    assert!(p.html.contains("Up to 20 MB per file"));
    assert!(p.html.contains("<label for=\"file\">"));

    let mut logo = PNG.to_vec();
    logo.extend_from_slice(&[7u8; 500]);
    let p = upload(&c, &files_url, "Logo final.png", &logo).await;
    p.expect(303, "png upload");
    assert_eq!(
        p.location(),
        format!("/o/{}/steps?done=file#files", link.token)
    );
    let intake = api
        .get(&format!("/api/v1/clients/{}/intake", link.client), t)
        .await;
    let f = &intake.body["files"][0];
    assert_eq!(f["name"], "Logo_final.png");
    assert_eq!(f["content_type"], "image/png");
    assert_eq!(f["size_bytes"], logo.len());
    let sha = baton_core::secret::hex(&Sha256::digest(&logo));
    assert_eq!(f["sha256"], sha.as_str());
    let file_id = f["id"].as_str().unwrap();
    let stored = format!("{file_id}-Logo_final.png");
    let on_disk = app
        .state
        .config
        .files
        .read(&app.agency.id, &link.client, &stored)
        .await
        .unwrap_or_else(|e| panic!("{stored}: {e}"));
    assert_eq!(baton_core::secret::hex(&Sha256::digest(&on_disk)), sha);
    assert!(event_types(&api, t, &link.client)
        .await
        .contains(&"onboarding.file_uploaded".to_string()));

    // A path in the name: only a sanitized name, inside the uploads dir.
    upload(&c, &files_url, "../../etc/passwd.png", PNG)
        .await
        .expect(303, "traversal name");
    let intake = api
        .get(&format!("/api/v1/clients/{}/intake", link.client), t)
        .await;
    let names: Vec<&str> = intake.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Logo_final.png", "passwd.png"]);
    assert!(!data_dir.join("etc").exists());
    let stored = stored_files(&app).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    for p in &stored {
        let name = p
            .strip_prefix(&client_dir)
            .unwrap_or_else(|| panic!("{p} is not under {client_dir}"));
        assert!(
            !name.contains("..") && !name.starts_with('.') && !name.contains('/'),
            "{name}"
        );
    }

    // Refusals re-render the page with the reason next to the field.
    let before = trail(&app, &app.agency.id).await;
    for (what, name, bytes, status, says) in [
        (
            "fake png",
            "logo.png",
            &b"<html><script>alert(1)</script></html>"[..],
            422,
            "its content is something else",
        ),
        (
            "exe",
            "setup.exe",
            &b"MZ\x90\0\x03\0\0\0"[..],
            422,
            "not accepted",
        ),
        (
            "html",
            "page.html",
            &b"<html></html>"[..],
            422,
            "not accepted",
        ),
        ("empty", "empty.png", &b""[..], 422, "The file is empty."),
    ] {
        let p = upload(&c, &files_url, name, bytes).await;
        p.expect(status, what);
        p.private_headers(what);
        assert!(p.html.contains(says), "{what}: {}", p.html);
        assert!(p.html.contains("Accepted types: PNG"), "{what}");
        assert!(
            p.html.contains("<p class=\"err\" id=\"file-err\">"),
            "{what}"
        );
    }
    // No file chosen.
    let p = upload(&c, &files_url, "", b"").await;
    p.expect(422, "no file");
    assert!(p.html.contains("Choose a file"));

    // Over 20 MiB: 413 (the route takes a bit more than the app's 1 MiB).
    let mut big = PNG.to_vec();
    big.resize(20 * 1024 * 1024 + 1, 0);
    let p = upload(&c, &files_url, "huge.png", &big).await;
    p.expect(413, "too large");
    p.private_headers("413");
    assert!(p.html.contains("larger than 20 MB"), "{}", p.html);
    // Far over the route's body limit: still a 413 answer.
    let mut huge = PNG.to_vec();
    huge.resize(24 * 1024 * 1024, 0);
    let p = upload(&c, &files_url, "huge.png", &huge).await;
    p.expect(413, "over the route limit");
    assert!(p.html.contains("larger than 20 MB"), "{}", p.html);
    // A 2 MiB file (over the app's default body limit) is fine here.
    let mut mid = PNG.to_vec();
    mid.resize(2 * 1024 * 1024, 1);
    upload(&c, &files_url, "photo.png", &mid)
        .await
        .expect(303, "2 MiB");
    let mut after = trail(&app, &app.agency.id).await;
    after.events -= 1;
    after.audit -= 1;
    after.outbox -= 1;
    assert_eq!(after, before, "refusals write nothing");
    assert_eq!(
        stored_files(&app).await.len(),
        3,
        "no stray or temporary files"
    );

    let p = get(&c, &format!("{}/steps?done=file", link.url)).await;
    assert!(
        p.html.contains("Logo_final.png")
            && p.html.contains("passwd.png")
            && p.html.contains("photo.png")
    );
    assert!(p.html.contains("Your file was uploaded."));
    app.shutdown().await;
}

#[tokio::test]
async fn custom_domain_and_white_label() {
    let (app, dns) =
        common::dns::app_with_dns(std::sync::Arc::new(baton_core::clock::SystemClock)).await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    common::dns::verified_domain(&api, t, &dns, "onboard.example.com").await;
    let c = browser();
    let path = format!("/o/{}", link.token);

    let on = |host: &'static str, p: &str| c.get(app.url(p)).header(HOST, host);
    let p = read(on("onboard.example.com", &path).send().await.unwrap()).await;
    p.expect(200, "custom domain");
    p.private_headers("custom domain");
    assert!(p.html.contains("Northwind Social"));
    assert!(p.html.contains("Powered by Baton"), "not white-label yet");
    let p = read(
        on("Onboard.Example.com:443", &format!("{path}/steps"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    p.expect(200, "custom domain, case and port");

    let neutral = get(&c, &app.url(&format!("/o/{}", "A".repeat(43)))).await;
    let p = read(on("other.example.com", &path).send().await.unwrap()).await;
    p.expect(404, "unknown host");
    assert_eq!(p.html, neutral.html, "the same 404");

    // Another agency's link is not served on this agency's domain.
    let rival = app.other_agency("admin@rival.test").await;
    let theirs = client_with_link(&api, &rival.token, "Rival Client", two_requests()).await;
    get(&c, &theirs.url)
        .await
        .expect(200, "their link on the public host");
    let p = read(
        on("onboard.example.com", &format!("/o/{}", theirs.token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    p.expect(404, "their link on our domain");
    assert_eq!(p.html, neutral.html);

    // Posts from the custom domain's origin are accepted; others are not.
    let post = |origin: &'static str| {
        c.post(app.url(&format!("{path}/open")))
            .header(HOST, "onboard.example.com")
            .header(ORIGIN, origin)
    };
    read(post("https://onboard.example.com").send().await.unwrap())
        .await
        .expect(303, "https origin of the domain");
    read(post("http://onboard.example.com").send().await.unwrap())
        .await
        .expect(303, "http origin while the server runs plain http");
    read(post("https://other.example.com").send().await.unwrap())
        .await
        .expect(403, "foreign origin");
    read(post("null").send().await.unwrap())
        .await
        .expect(303, "null origin from a browser without fetch metadata");
    // What a browser sends for the portal's own forms under no-referrer.
    let same_site = |site: &'static str| post("null").header("sec-fetch-site", site);
    read(same_site("same-origin").send().await.unwrap())
        .await
        .expect(303, "null origin from the portal's own page");
    read(same_site("cross-site").send().await.unwrap())
        .await
        .expect(403, "null origin from another site");

    // White label: not a word of the product.
    api.patch("/api/v1/agency", t, json!({"white_label": true}))
        .await
        .expect(200, "white label");
    for p in [path.clone(), format!("{path}/steps")] {
        let page = read(on("onboard.example.com", &p).send().await.unwrap()).await;
        page.expect(200, "white label page");
        assert!(
            !page.html.to_lowercase().contains("baton"),
            "{p}: {}",
            page.html
        );
        assert!(page.html.contains("Northwind Social"));
    }
    app.shutdown().await;
}

#[tokio::test]
async fn branding_welcome_text_and_the_stylesheet() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.patch(
        "/api/v1/agency",
        t,
        json!({"brand_color": "#ffd700", "accent_color": "#0f766e", "logo_url": "https://cdn.example.com/logo.png"}),
    )
    .await
    .expect(200, "colours");
    api.patch(
        "/api/v1/agency/onboarding",
        t,
        json!({"welcome": "Hi <team>!\nThis takes ten minutes."}),
    )
    .await
    .expect(200, "welcome text");
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    let p = get(&c, &link.url).await;
    assert!(
        shows_escaped(&p.html, "Hi <team>!\nThis takes ten minutes."),
        "{}",
        p.html
    );
    assert!(p
        .html
        .contains("<img class=\"logo\" src=\"https://cdn.example.com/logo.png\" alt=\"\">"));
    let href = |marker: &str| {
        let i = p.html.find(marker).unwrap_or_else(|| panic!("no {marker}"));
        let start = i + "<link rel=\"stylesheet\" href=\"".len();
        p.html[start..][..p.html[start..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
    };
    let css_href = href("<link rel=\"stylesheet\" href=\"/o-static/portal.css");
    let theme_href = href("<link rel=\"stylesheet\" href=\"/o-static/theme.css");
    assert!(css_href.contains("?v="));
    let css = get(&c, &app.url(&css_href)).await;
    css.expect(200, "css");
    css.private_headers("css");
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.header("cache-control").contains("max-age=31536000"));
    assert!(css.html.contains("min-height:44px"), "touch targets");
    assert!(css.html.contains(":focus-visible"), "visible focus");
    let theme = get(&c, &app.url(&theme_href)).await;
    theme.expect(200, "theme");
    theme.private_headers("theme");
    // Gold is too light for white text: the band keeps the gold with dark
    // text (as the team app's theme does); the dark accent keeps white.
    assert!(
        theme.html.contains("--band:#ffd700;--on-band:#1b1f24"),
        "{}",
        theme.html
    );
    assert!(
        theme.html.contains("--btn:#0f766e;--on-btn:#ffffff"),
        "{}",
        theme.html
    );
    assert!(theme.html.contains("--edge:#ffd700"), "{}", theme.html);
    // The stylesheet writes text on the band and buttons in those colours.
    assert!(css
        .html
        .contains(".band{background:var(--band);color:var(--on-band)}"));
    assert!(css
        .html
        .contains("background:var(--btn);border-color:var(--btn);color:var(--on-btn)"));
    app.shutdown().await;
}

#[tokio::test]
async fn steps_page_with_every_platform_weighs_under_60_kb() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    // Every built-in platform, each with an asset, the agency's values
    // missing (the longest steps), every request still waiting.
    let catalog = api.get("/api/v1/platforms", t).await;
    catalog.expect(200, "platforms");
    let requests: Vec<Value> = catalog
        .items()
        .iter()
        .filter(|p| p["custom"] == false)
        .map(|p| json!({"platform": p["key"], "asset": "Acme Coffee Roasters main account"}))
        .collect();
    assert_eq!(requests.len(), 22, "the whole shipped catalog");
    let link = client_with_link(&api, t, "Acme Coffee", Value::Array(requests)).await;
    let c = browser();
    let p = get(&c, &format!("{}/steps", link.url)).await;
    p.expect(200, "steps");
    assert_eq!(p.html.matches("class=\"card req").count(), 22);
    assert!(!p.html.contains("<script"), "works without JavaScript");
    let mut total = p.html.len();
    for marker in ["/o-static/portal.css", "/o-static/theme.css"] {
        let start = p.html.find(marker).unwrap();
        let href = p.html[start..][..p.html[start..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let r = get(&c, &app.url(&href)).await;
        r.expect(200, marker);
        total += r.html.len();
    }
    println!(
        "steps page with all 22 platforms: HTML {} bytes, HTML + CSS {total} bytes",
        p.html.len()
    );
    assert!(total <= 60 * 1024, "HTML + CSS is {total} bytes");
    // What travels when the browser asks for compression.
    for encoding in ["br", "gzip"] {
        let r = c
            .get(format!("{}/steps", link.url))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], encoding);
        let sent = r.bytes().await.unwrap().len();
        println!("  HTML sent with {encoding}: {sent} bytes");
        assert!(sent * 4 < p.html.len(), "{encoding}: {sent} bytes");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_token_is_never_stored() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    get(&c, &link.url).await.expect(200, "welcome");
    post_form(&c, &format!("{}/open", link.url), &[])
        .await
        .expect(303, "open");
    post_form(
        &c,
        &format!("{}/requests/{}/granted", link.url, link.requests[0]),
        &[],
    )
    .await
    .expect(303, "grant");
    post_form(
        &c,
        &format!("{}/requests/{}/stuck", link.url, link.requests[1]),
        &[("message", "help")],
    )
    .await
    .expect(303, "stuck");
    post_form(
        &c,
        &format!("{}/answers", link.url),
        &[("q_approver", "Dana")],
    )
    .await
    .expect(303, "answers");
    upload(&c, &format!("{}/files", link.url), "logo.png", PNG)
        .await
        .expect(303, "upload");

    // Every text column the flow wrote.
    for (table, cols) in [
        (
            "audit_log",
            "detail || actor_label || user_agent || entity_id",
        ),
        ("events", "data || entity_id"),
        ("onboarding_links", "token_hash || id"),
        (
            "access_requests",
            "COALESCE(stuck_message, '') || COALESCE(granted_by, '')",
        ),
        ("client_answers", "answer"),
        ("client_files", "name || stored_name"),
    ] {
        let n = common::count(
            &app,
            &format!("SELECT COUNT(*) FROM {table} WHERE ({cols}) LIKE '%' || $1 || '%'"),
            &link.token,
        )
        .await;
        assert_eq!(n, 0, "the token is in {table}");
    }
    if app.state.db.backend() == Backend::Sqlite {
        let dir = &app.state.config.data_dir;
        let mut scanned = 0;
        for name in ["baton.db", "baton.db-wal"] {
            if let Ok(bytes) = std::fs::read(dir.join(name)) {
                scanned += bytes.len();
                assert!(
                    !bytes
                        .windows(link.token.len())
                        .any(|w| w == link.token.as_bytes()),
                    "the token is in {name}"
                );
            }
        }
        assert!(scanned > 0, "the database files were read");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_can_upload_at_most_the_file_limit() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Many Files Ltd", two_requests()).await;
    let actor = baton_store::Actor::cli();
    let now = app.state.now();
    for i in 0..baton_core::uploads::MAX_FILES_PER_CLIENT {
        let id = baton_store::intake::new_file_id(now);
        baton_store::intake::add_file(
            Cx::new(&app.state.db, &app.agency.id, &actor, now),
            &baton_core::types::ClientId::parse(&link.client).unwrap(),
            baton_store::intake::NewFile {
                stored_name: format!("{id}-f{i}.png"),
                id,
                link_id: None,
                name: format!("f{i}.png"),
                content_type: "image/png".into(),
                size_bytes: 1,
                sha256: "00".into(),
            },
        )
        .await
        .unwrap();
    }
    let c = browser();
    let p = upload(&c, &format!("{}/files", link.url), "one-more.png", PNG).await;
    p.expect(422, "over the per-client file limit");
    assert!(
        p.html.contains("100 files are already uploaded"),
        "{}",
        p.html
    );
    let intake = api
        .get(&format!("/api/v1/clients/{}/intake", link.client), t)
        .await;
    assert_eq!(
        intake.body["files"].as_array().unwrap().len(),
        baton_core::uploads::MAX_FILES_PER_CLIENT
    );
    app.shutdown().await;
}

/// The part of `html` that is the card of request `id`.
fn card<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section class=\"card req\" id=\"req-{id}\">"))
        .unwrap_or_else(|| panic!("no card {id}: {html}"));
    let len = html[start..].find("</section>").expect("card end");
    &html[start..start + len]
}

#[tokio::test]
async fn granting_and_being_stuck_return_to_the_next_platform() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(
        &api,
        t,
        "Acme Coffee",
        json!([
            {"platform": "meta_page"},
            {"platform": "ga4", "permission": "analyst", "required": false},
            {"platform": "google_ads"}
        ]),
    )
    .await;
    let (meta, ga4, ads) = (&link.requests[0], &link.requests[1], &link.requests[2]);
    let c = browser();
    let steps = format!("{}/steps", link.url);
    let base = format!("/o/{}/steps", link.token);

    // Optional requests say so on the first page and on their card;
    // required ones do not.
    let welcome = get(&c, &link.url).await;
    assert_eq!(
        welcome
            .html
            .matches("<span class=\"tag\">Optional</span>")
            .count(),
        1,
        "{}",
        welcome.html
    );
    let p = get(&c, &steps).await;
    assert!(card(&p.html, ga4).contains("<span class=\"tag\">Optional</span>"));
    assert!(card(&p.html, ga4).contains("Nothing waits on it."));
    for id in [meta, ads] {
        assert!(!card(&p.html, id).contains("Optional"), "{id}");
    }

    // The last card granted: the next one waiting is the first card.
    let r = post_form(&c, &format!("{}/requests/{ads}/granted", link.url), &[]).await;
    r.expect(303, "grant the last");
    assert_eq!(
        r.location(),
        format!("{base}?done=granted&next={meta}#req-{meta}")
    );
    // There the thanks show in that card, not above the progress summary.
    let p = get(&c, &app.url(r.location().split('#').next().unwrap())).await;
    assert!(
        card(&p.html, meta).contains("<p class=\"notice\" role=\"status\">Thank you."),
        "{}",
        p.html
    );
    assert_eq!(p.html.matches("role=\"status\"").count(), 1);

    // Stuck on the first: on to the next still waiting (the optional one).
    let r = post_form(
        &c,
        &format!("{}/requests/{meta}/stuck", link.url),
        &[("message", "Which business portfolio?")],
    )
    .await;
    r.expect(303, "stuck");
    assert_eq!(
        r.location(),
        format!("{base}?done=stuck&next={ga4}#req-{ga4}")
    );
    let p = get(&c, &app.url(r.location().split('#').next().unwrap())).await;
    assert!(card(&p.html, ga4).contains("Your message was sent to Northwind Social."));

    // Granting the first leaves the optional one; granting that leaves
    // nothing: back to the progress summary, with the notice above it.
    let r = post_form(&c, &format!("{}/requests/{meta}/granted", link.url), &[]).await;
    assert_eq!(
        r.location(),
        format!("{base}?done=granted&next={ga4}#req-{ga4}")
    );
    let r = post_form(&c, &format!("{}/requests/{ga4}/granted", link.url), &[]).await;
    assert_eq!(r.location(), format!("{base}?done=granted#progress"));
    let p = get(&c, &app.url(&format!("{base}?done=granted"))).await;
    let notice = p.html.find("role=\"status\"").expect("notice");
    assert!(notice < p.html.find("id=\"progress\"").unwrap());
    assert!(p.html.contains("3 of 3 done"));
    // A second click on a granted card (Back, then the button): the same.
    let r = post_form(&c, &format!("{}/requests/{meta}/granted", link.url), &[]).await;
    assert_eq!(r.location(), format!("{base}?done=granted#progress"));
    // `next`/`at` naming no request of this link are ignored.
    let other = client_with_link(&api, t, "Other Co", two_requests()).await;
    let p = get(
        &c,
        &format!("{steps}?done=granted&next={}", other.requests[0]),
    )
    .await;
    p.expect(200, "foreign next");
    assert!(p.html.find("role=\"status\"").unwrap() < p.html.find("id=\"progress\"").unwrap());
    app.shutdown().await;
}

#[tokio::test]
async fn refused_forms_show_errors_at_the_top_and_at_the_field() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let (meta, ga4) = (&link.requests[0], &link.requests[1]);
    let c = browser();
    // The summary: above the heading, a role=alert list of links to the
    // fields, each also marked where it is.
    let summary = |html: &str| -> String {
        let start = html
            .find("<div class=\"alert\" id=\"errors\" role=\"alert\">")
            .unwrap_or_else(|| panic!("no summary: {html}"));
        assert!(
            start < html.find("<h1").unwrap(),
            "the summary is at the top"
        );
        let len = html[start..].find("</div>").unwrap();
        html[start..start + len].to_string()
    };

    // "I'm stuck" with no message.
    let p = post_form(
        &c,
        &format!("{}/requests/{ga4}/stuck", link.url),
        &[("message", " ")],
    )
    .await;
    p.expect(422, "empty message");
    let s = summary(&p.html);
    assert!(
        s.contains(&format!(
            "<a href=\"#m-{ga4}\">Google Analytics 4: Write a few words"
        )),
        "{s}"
    );
    assert!(p.html.contains(&format!(
        "<p class=\"err\" id=\"me-{ga4}\">Write a few words"
    )));
    assert!(p.html.contains(&format!("id=\"m-{ga4}\"")));

    // A required answer missing.
    let p = post_form(&c, &format!("{}/answers", link.url), &[("q_approver", "")]).await;
    p.expect(422, "missing answer");
    let s = summary(&p.html);
    assert!(s.contains("<a href=\"#q-approver\">Who approves content on your side? This question needs an answer.</a>"), "{s}");
    assert!(p
        .html
        .contains("<p class=\"err\" id=\"qe-approver\">This question needs an answer.</p>"));

    // A refused upload.
    let p = upload(
        &c,
        &format!("{}/files", link.url),
        "notes.exe",
        b"MZ\x90\x00",
    )
    .await;
    p.expect(422, "bad type");
    let s = summary(&p.html);
    assert!(s.contains("<a href=\"#file\">Brand kit: "), "{s}");
    assert!(p.html.contains("<p class=\"err\" id=\"file-err\">"));

    // Granting a request the agency withdrew: at its card.
    api.post(
        &format!("/api/v1/access-requests/{meta}/revoke"),
        t,
        json!({"note": "not needed"}),
    )
    .await
    .expect(200, "withdraw");
    let p = post_form(&c, &format!("{}/requests/{meta}/granted", link.url), &[]).await;
    assert!(p.status.is_client_error(), "{}", p.status);
    let s = summary(&p.html);
    assert!(s.contains(&format!("<a href=\"#req-{meta}\">")), "{s}");
    assert!(card(&p.html, meta).contains("<p class=\"alert\">"));

    // A page without a refusal has no summary.
    let p = get(&c, &format!("{}/steps", link.url)).await;
    assert!(!p.html.contains("id=\"errors\""));
    app.shutdown().await;
}

#[tokio::test]
async fn steps_link_their_addresses_and_never_show_a_missing_setting_placeholder() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(
        &api,
        t,
        "Acme Coffee",
        json!([
            {"platform": "meta_page", "asset": "acmecoffee.com/page <b>x</b> javascript:alert(1)"},
            {"platform": "shopify"}
        ]),
    )
    .await;
    let (meta, shopify) = (&link.requests[0], &link.requests[1]);
    let c = browser();
    let steps = format!("{}/steps", link.url);
    let p = get(&c, &steps).await;
    let meta_card = card(&p.html, meta);
    assert!(
        meta_card.contains("<a href=\"https://business.facebook.com/settings\" target=\"_blank\" rel=\"noopener noreferrer\">business.facebook.com/settings</a>"),
        "{meta_card}"
    );
    // The client's own text: its address is a link, the rest escaped text.
    assert!(meta_card.contains("<a href=\"https://acmecoffee.com/page\" target=\"_blank\" rel=\"noopener noreferrer\">acmecoffee.com/page</a>"));
    assert!(shows_escaped(meta_card, "<b>x</b> javascript:alert(1)"));
    assert!(!p.html.contains("href=\"javascript"));
    assert!(!p.html.contains("<b>x"));
    // Values the agency has not entered: a neutral sentence, never the
    // agency's to-do note.
    assert!(!p.html.contains("[ask"), "{}", p.html);
    assert!(card(&p.html, shopify).contains(
        "<span class=\"note\">Your contact at Northwind Social will send you the Shopify Partner organization name for this step.</span>"
    ));
    assert!(meta_card.contains("will send you the Meta Business ID for this step."));

    // Entered: the values are in the steps, the notes gone.
    api.patch(
        "/api/v1/agency/onboarding",
        t,
        json!({"platform_values": {"meta_business_id": "1234567890", "shopify_partner_name": "Northwind Partners"}}),
    )
    .await
    .expect(200, "values");
    let p = get(&c, &steps).await;
    assert!(!p.html.contains("class=\"note\""));
    assert!(card(&p.html, meta).contains("Business ID: 1234567890."));
    assert!(card(&p.html, shopify).contains("the request from Northwind Partners arrives"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_light_brand_colour_is_kept_with_dark_text() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    api.patch(
        "/api/v1/agency",
        t,
        json!({"brand_color": "#f5e663", "accent_color": "#f5e663"}),
    )
    .await
    .expect(200, "colours");
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    for url in [link.url.clone(), format!("{}/steps", link.url)] {
        let p = get(&c, &url).await;
        assert!(
            p.html.contains("/o-static/theme.css?b=f5e663&amp;a=f5e663")
                || p.html.contains("/o-static/theme.css?b=f5e663&#38;a=f5e663"),
            "{}",
            p.html
        );
    }
    let theme = get(&c, &app.url("/o-static/theme.css?b=f5e663&a=f5e663")).await;
    theme.expect(200, "theme");
    assert!(
        theme
            .html
            .contains("--band:#f5e663;--on-band:#1b1f24;--btn:#f5e663;--on-btn:#1b1f24;"),
        "{}",
        theme.html
    );
    // The same text colour as the team app's own theme picks for it.
    let app_theme = get(&c, &app.url("/static/theme.css?b=f5e663&a=f5e663")).await;
    assert!(
        app_theme
            .html
            .contains("--brand:#f5e663;--on-brand:#1b1f24"),
        "{}",
        app_theme.html
    );
    app.shutdown().await;
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("brotli");
    out
}

#[tokio::test]
async fn text_responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let api = Api::new(&app);
    let t = &app.agency.token;
    let link = client_with_link(&api, t, "Acme Coffee", two_requests()).await;
    let c = browser();
    let fetch = |url: String, encoding: Option<&'static str>| {
        let c = c.clone();
        let t = t.clone();
        async move {
            let mut rb = c.get(&url).bearer_auth(&t);
            if let Some(e) = encoding {
                rb = rb.header("accept-encoding", e);
            }
            let r = rb.send().await.expect("GET");
            let status = r.status();
            let h = r.headers().clone();
            (status, h, r.bytes().await.expect("body").to_vec())
        }
    };
    let header = |h: &HeaderMap, name: &str| {
        h.get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let css = app.url("/o-static/portal.css");
    for url in [
        format!("{}/steps", link.url),
        css,
        app.url("/api/v1/platforms"),
        app.url("/api/openapi.json"),
    ] {
        let (status, h, plain) = fetch(url.clone(), None).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(header(&h, "content-encoding"), "", "{url}: not asked");
        for (encoding, decode) in [("br", unbrotli as fn(&[u8]) -> Vec<u8>), ("gzip", gunzip)] {
            let (status, h, body) = fetch(url.clone(), Some(encoding)).await;
            assert_eq!(status, 200, "{url}");
            assert_eq!(header(&h, "content-encoding"), encoding, "{url}");
            assert!(header(&h, "vary")
                .to_ascii_lowercase()
                .contains("accept-encoding"));
            assert!(
                body.len() < plain.len(),
                "{url}: {} < {}",
                body.len(),
                plain.len()
            );
            assert_eq!(decode(&body), plain, "{url} {encoding}");
        }
    }
    // Problem details too.
    let (_, h, body) = fetch(app.url("/api/v1/clients/cli_nope"), Some("gzip")).await;
    assert_eq!(header(&h, "content-type"), "application/problem+json");
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert!(String::from_utf8(gunzip(&body)).unwrap().contains("404"));
    app.shutdown().await;
}
