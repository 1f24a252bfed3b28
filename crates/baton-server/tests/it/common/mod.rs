//! Shared helpers of the API suites: a small JSON client over reqwest, problem
//! checks, direct row counts and raw SQL for tampering tests.
#![allow(dead_code)]

pub mod dns;
pub mod platforms;
pub mod receiver;

use baton_server::testing::TestApp;
use baton_store::Backend;
use baton_store::Cx;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sqlx::Row;

/// An answer of the API: status, parsed JSON (`Null` when the body is empty
/// or not JSON), the raw text and the headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }

    /// Asserts the status, naming the request in the failure message.
    #[track_caller]
    pub fn expect(&self, status: u16, what: &str) -> &Self {
        assert_eq!(
            self.status, status,
            "{what}: expected {status}, got {} with body {}",
            self.status, self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status: the content type and the
    /// four members every problem has.
    #[track_caller]
    pub fn problem(&self, status: u16, what: &str) -> &Self {
        self.expect(status, what);
        assert_problem_shape(self, what);
        self
    }

    /// Asserts any 4xx problem (never a 500).
    #[track_caller]
    pub fn client_error(&self, what: &str) -> &Self {
        assert!(
            (400..500).contains(&self.status),
            "{what}: expected a 4xx, got {} with body {}",
            self.status,
            self.text
        );
        assert_problem_shape(self, what);
        self
    }

    /// The `id` of the body.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }

    /// `items` of a page.
    #[track_caller]
    pub fn items(&self) -> &Vec<Value> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {}", self.text))
    }
}

#[track_caller]
fn assert_problem_shape(r: &Resp, what: &str) {
    assert!(
        r.content_type().starts_with("application/problem+json"),
        "{what}: content type {:?} is not application/problem+json (body {})",
        r.content_type(),
        r.text
    );
    for key in ["type", "title", "detail"] {
        let v = r.body[key].as_str().unwrap_or("");
        assert!(!v.is_empty(), "{what}: problem has no {key}: {}", r.text);
    }
    assert_eq!(
        r.body["status"].as_u64(),
        Some(r.status as u64),
        "{what}: problem status member differs from the HTTP status: {}",
        r.text
    );
    assert!(
        !r.text.contains("panicked") && !r.text.contains("sqlx") && !r.text.contains("SQLSTATE"),
        "{what}: problem leaks internals: {}",
        r.text
    );
}

/// A JSON client bound to one app.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(app: &TestApp) -> Api {
        Api {
            http: reqwest::Client::builder().build().expect("reqwest client"),
            base: app.address.clone(),
        }
    }

    /// A raw request to `path` with `token` as bearer (none when empty).
    pub fn request(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        if token.is_empty() {
            rb
        } else {
            rb.bearer_auth(token)
        }
    }

    pub async fn send(&self, rb: RequestBuilder) -> Resp {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Resp {
        let mut rb = self.request(method, path, token);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.send(rb).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, token, Some(&body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, token, Some(&body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Creates a client and returns its id.
    pub async fn create_client(&self, token: &str, name: &str) -> String {
        let r = self
            .post("/api/v1/clients", token, json!({ "name": name }))
            .await;
        r.expect(201, "create client");
        r.id()
    }

    /// Posts a timeline event on a client.
    pub async fn event(&self, token: &str, client: &str, body: Value) -> Resp {
        self.post(&format!("/api/v1/clients/{client}/events"), token, body)
            .await
    }

    /// Creates a token of `scope` for the caller's member; returns the secret.
    pub async fn token(&self, token: &str, scope: &str) -> String {
        let r = self
            .post(
                "/api/v1/tokens",
                token,
                json!({"name": format!("{scope} script"), "scope": scope}),
            )
            .await;
        r.expect(201, "create token");
        r.body["token"].as_str().expect("secret").to_string()
    }

    /// Every event of a client, oldest first.
    pub async fn client_events(&self, token: &str, client: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/api/v1/events?client={client}&limit=200"), token)
            .await;
        r.expect(200, "list client events");
        r.items().clone()
    }
}

/// Rows of the write trail of one agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trail {
    pub events: i64,
    pub audit: i64,
    pub outbox: i64,
}

impl std::ops::Sub for Trail {
    type Output = Trail;
    fn sub(self, o: Trail) -> Trail {
        Trail {
            events: self.events - o.events,
            audit: self.audit - o.audit,
            outbox: self.outbox - o.outbox,
        }
    }
}

/// Runs the outbox until it is idle, so the SOP runs that trigger events
/// start have been written: before and after snapshots of a timeline then
/// compare what the request did.
pub async fn settle(app: &TestApp) {
    app.drain_outbox().await;
}

/// Counts an agency's events, audit entries and outbox rows with direct SQL.
pub async fn trail(app: &TestApp, agency_id: &str) -> Trail {
    settle(app).await;
    // Outbox rows of kind `event` are the ones a write leaves; jobs that
    // workers may add later (deliveries) are not part of the write, nor are
    // the SOP runs the worker starts from a trigger event afterwards (their
    // `sop_run.*` records land whenever the worker gets to them).
    let mut n = [0i64; 3];
    for (i, from) in ["events", "audit_log", "outbox"].into_iter().enumerate() {
        let only = match from {
            "events" => " AND type NOT LIKE 'sop_run.%'",
            "audit_log" => " AND action NOT LIKE 'sop_run.%'",
            _ => " AND kind = 'event' AND event_id NOT IN (SELECT id FROM events WHERE type LIKE 'sop_run.%')",
        };
        n[i] = count(
            app,
            &format!("SELECT COUNT(*) FROM {from} WHERE agency_id = $1{only}"),
            agency_id,
        )
        .await;
    }
    Trail {
        events: n[0],
        audit: n[1],
        outbox: n[2],
    }
}

/// Runs a `SELECT COUNT(*) … $1` through the reader pool.
pub async fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    let row = sqlx::query(sql)
        .bind(arg)
        .fetch_one(app.state.db.reader())
        .await
        .expect("count query");
    row.try_get::<i64, _>(0).expect("count column")
}

/// Runs a statement that writes, bypassing the application (tampering tests).
/// SQLite's reader pool is read-only, so a separate connection to the test's
/// file is opened; on PostgreSQL the pool is shared and writable.
pub async fn execute_raw(app: &TestApp, sql: &str) -> u64 {
    match app.state.db.backend() {
        Backend::Postgres => sqlx::query(sql)
            .execute(app.state.db.reader())
            .await
            .expect("raw statement")
            .rows_affected(),
        Backend::Sqlite => {
            let url = format!(
                "sqlite://{}",
                app.state.config.data_dir.join("baton.db").display()
            );
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                .await
                .expect("open the test database file");
            let n = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect("raw statement")
                .rows_affected();
            sqlx::Connection::close(conn).await.expect("close");
            n
        }
    }
}

/// Milliseconds since the epoch, by the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// Parses an RFC 3339 time of a response.
#[track_caller]
pub fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    baton_core::clock::parse_rfc3339(s).unwrap_or_else(|| panic!("not RFC 3339: {s}"))
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A token of `scope` held by a new member of the test agency who is not an
/// admin. The store refuses admin-scoped tokens to non-admins, so for
/// `Scope::Admin` the member is created an admin, given the token, then
/// demoted through the API (the token stays; its admin powers must not).
pub async fn non_admin_token(
    app: &TestApp,
    api: &Api,
    email: &str,
    scope: baton_store::tokens::Scope,
) -> String {
    let admin_first = scope == baton_store::tokens::Scope::Admin;
    let m = api
        .post(
            "/api/v1/members",
            &app.agency.token,
            json!({"email": email, "name": "Not An Admin", "roles": ["designer"], "is_admin": admin_first}),
        )
        .await;
    m.expect(201, "create a member");
    let member = baton_store::members::get(&app.state.db, &app.agency.id, &m.id())
        .await
        .expect("the new member");
    let (_, secret) = baton_store::tokens::create(
        Cx::new(
            &app.state.db,
            &member.agency_id,
            &baton_store::Actor::cli(),
            app.state.now(),
        ),
        &member,
        "non-admin script",
        scope,
    )
    .await
    .expect("token for the member");
    if admin_first {
        api.patch(
            &format!("/api/v1/members/{}", member.id),
            &app.agency.token,
            json!({"is_admin": false}),
        )
        .await
        .expect(200, "demote the member");
    }
    let me = api.get("/api/v1/me", &secret).await;
    me.expect(200, "the member's token works");
    assert_eq!(me.body["is_admin"], false, "{}", me.text);
    secret
}

/// The token at the end of an onboarding link's URL (`…/o/{token}`).
#[track_caller]
pub fn link_token(url: &str) -> String {
    url.rsplit_once("/o/")
        .unwrap_or_else(|| panic!("not an onboarding link URL: {url}"))
        .1
        .to_string()
}

/// The status of the client's link page `GET /o/{token}`.
pub async fn link_page_status(api: &Api, token: &str) -> u16 {
    api.http
        .get(format!("{}/o/{token}", api.base))
        .send()
        .await
        .expect("GET the link page")
        .status()
        .as_u16()
}

/// Everything the database holds, to search for a secret: on SQLite every
/// byte of the database file and its write-ahead log; on PostgreSQL the text
/// of every row of every table of the test's database.
pub async fn stored_bytes(app: &TestApp) -> Vec<u8> {
    match app.state.db.backend() {
        Backend::Sqlite => {
            let file = app
                .state
                .db
                .sqlite_file()
                .expect("SQLite test database file")
                .to_path_buf();
            let mut out = std::fs::read(&file).expect("read the database file");
            assert!(!out.is_empty(), "the database file is empty");
            let mut wal = file.clone().into_os_string();
            wal.push("-wal");
            if let Ok(bytes) = std::fs::read(&wal) {
                out.extend(bytes);
            }
            out
        }
        Backend::Postgres => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(app.state.db.reader())
            .await
            .expect("list tables");
            assert!(tables.iter().any(|t| t == "onboarding_links"), "{tables:?}");
            let mut out = Vec::new();
            for t in tables {
                let text: String = sqlx::query_scalar(&format!(
                    "SELECT COALESCE(string_agg(CAST(t AS TEXT), ' '), '') FROM \"{t}\" t"
                ))
                .fetch_one(app.state.db.reader())
                .await
                .unwrap_or_else(|e| panic!("dump table {t}: {e}"));
                out.extend(text.into_bytes());
                out.push(b'\n');
            }
            out
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A browser for the team's pages: keeps cookies, follows a form's redirect
/// to its answer ([`flash_policy`]) and no other redirect (tests look at them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(flash_policy())
        .build()
        .expect("client")
}

/// The value of the first hidden `nonce` field in a page (a create form's
/// single-use nonce).
pub fn nonce_of(html: &str) -> String {
    let marker = "name=\"nonce\" value=\"";
    let start = html.find(marker).expect("page has a nonce field") + marker.len();
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

/// A second client on the same cookie jar as a browser made with
/// [`browser_with_jar`] that follows no redirect at all: to look at a form's
/// `303` itself.
pub fn raw_browser(jar: &std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A browser like [`browser`] whose cookies live in `jar`.
pub fn browser_with_jar(jar: &std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(flash_policy())
        .build()
        .expect("client")
}

/// A browser like [`browser_with_jar`] whose requests arrive through a
/// trusted proxy (the test server trusts 127.0.0.1 when configured to) on
/// behalf of `client_addr`.
pub fn browser_at(
    client_addr: &str,
    jar: &std::sync::Arc<reqwest::cookie::Jar>,
) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        reqwest::header::HeaderValue::from_str(client_addr).expect("address"),
    );
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .default_headers(headers)
        .redirect(flash_policy())
        .build()
        .expect("client")
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a csrf field") + marker.len();
    html[start..][..html[start..].find('"').unwrap()].to_string()
}

/// The redirect policy of the test browsers: follow only the redirect to a
/// page shown once after a form (`…?flash=…`, Post/Redirect/Get), so a test
/// reads a form's answer as the person sees it; every other redirect stops
/// (tests look at them).
pub fn flash_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let flash = attempt
            .url()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("flash=")));
        if flash && attempt.previous().len() < 2 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `GET url` through `c`: the status and the page.
pub async fn page(c: &reqwest::Client, url: &str) -> (reqwest::StatusCode, String) {
    let r = c.get(url).send().await.expect("GET");
    let s = r.status();
    (s, r.text().await.expect("body"))
}

/// A browser ([`browser`]) signed in as the test agency's admin.
pub async fn signed_in_admin(app: &TestApp) -> reqwest::Client {
    signed_in_as(
        app,
        &app.agency.admin.email,
        baton_server::testing::ADMIN_PASSWORD,
    )
    .await
}

/// A browser ([`browser`]) signed in as `email`.
pub async fn signed_in_as(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let c = browser();
    let (_, html) = page(&c, &app.url("/login")).await;
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login {email}");
    c
}

/// A browser signed in as a new member of the test agency who is not an
/// admin (a designer).
pub async fn signed_in_non_admin(app: &TestApp) -> reqwest::Client {
    let (email, password) = ("casey@northwind.test", "casey's password");
    let hash = baton_server::auth::password::hash_async(password.into()).await;
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
            password_hash: Some(hash),
        },
    )
    .await
    .expect("create member");
    signed_in_as(app, email, password).await
}
