//! Bad input gets a clear answer and loses nothing: one test per kind of bad
//! input, each asserting the exact 4xx problem+json (so never a 500) and that
//! no row was written. The wider tables of variants live in the other suites.

use crate::common;

use baton_server::testing::TestApp;
use common::{count, enc, trail, Api, Resp};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// One app with one client in `won`, and the state to compare against.
struct Case {
    app: TestApp,
    api: Api,
    token: String,
    client: String,
}

impl Case {
    async fn new() -> Case {
        let app = TestApp::spawn().await;
        let api = Api::new(&app);
        let token = app.agency.token.clone();
        let client = api.create_client(&token, "Existing").await;
        Case {
            app,
            api,
            token,
            client,
        }
    }

    fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.api.request(Method::POST, path, &self.token).json(body)
    }

    fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> RequestBuilder {
        let rb = self
            .api
            .request(method, path, &self.token)
            .body(body.to_string());
        match content_type {
            Some(ct) => rb.header("content-type", ct),
            None => rb,
        }
    }

    /// Sends `rb`, asserts the problem, and that no event, audit entry,
    /// outbox row or client was written and the existing client is unchanged.
    async fn refused(
        &self,
        rb: RequestBuilder,
        status: u16,
        problem_type: &str,
        what: &str,
    ) -> Resp {
        let agency = &self.app.agency.id;
        let before = trail(&self.app, agency).await;
        let clients = self.clients().await;
        let existing = self.existing().await;
        let r = self.api.send(rb).await;
        r.problem(status, what);
        assert_eq!(
            r.body["type"],
            format!("https://baton.dev/problems/{problem_type}"),
            "{what}"
        );
        assert_eq!(
            trail(&self.app, agency).await,
            before,
            "{what}: nothing written"
        );
        assert_eq!(self.clients().await, clients, "{what}: no client created");
        assert_eq!(self.existing().await, existing, "{what}: client unchanged");
        r
    }

    async fn clients(&self) -> i64 {
        count(
            &self.app,
            "SELECT COUNT(*) FROM clients WHERE agency_id = $1",
            &self.app.agency.id,
        )
        .await
    }

    async fn existing(&self) -> Value {
        self.api
            .get(&format!("/api/v1/clients/{}", self.client), &self.token)
            .await
            .body
    }

    fn events_path(&self) -> String {
        format!("/api/v1/clients/{}/events", self.client)
    }

    async fn done(self) {
        self.app.shutdown().await;
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.raw(
                Method::POST,
                "/api/v1/clients",
                Some("application/json"),
                r#"{"name": "Acme""#,
            ),
            400,
            "bad-request",
            "malformed JSON",
        )
        .await;
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("malformed JSON"));
    c.done().await;
}

#[tokio::test]
async fn wrong_types_are_422() {
    let c = Case::new().await;
    c.refused(
        c.post("/api/v1/clients", &json!({"name": 42})),
        422,
        "invalid-input",
        "number as name",
    )
    .await;
    c.refused(
        c.raw(
            Method::PATCH,
            &format!("/api/v1/clients/{}", c.client),
            Some("application/json"),
            r#"{"name": true}"#,
        ),
        422,
        "invalid-input",
        "boolean as name on PATCH",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn a_missing_content_type_is_415() {
    let c = Case::new().await;
    c.refused(
        c.raw(Method::POST, "/api/v1/clients", None, r#"{"name": "Acme"}"#),
        415,
        "unsupported-media-type",
        "no content type",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn an_empty_name_is_422() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post("/api/v1/clients", &json!({"name": ""})),
            422,
            "invalid-input",
            "empty name",
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "name");
    c.done().await;
}

#[tokio::test]
async fn a_whitespace_only_name_is_422() {
    let c = Case::new().await;
    c.refused(
        c.post("/api/v1/clients", &json!({"name": " \t \u{a0} "})),
        422,
        "invalid-input",
        "whitespace-only name",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn a_10000_character_name_is_422() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post("/api/v1/clients", &json!({ "name": "n".repeat(10_000) })),
            422,
            "invalid-input",
            "10,000-character name",
        )
        .await;
    assert!(
        r.body["detail"].as_str().unwrap().contains("200"),
        "{}",
        r.text
    );
    c.done().await;
}

#[tokio::test]
async fn a_200_character_name_is_accepted() {
    let c = Case::new().await;
    let name = "Ñ".repeat(100) + &"n".repeat(100);
    let r = c
        .api
        .post("/api/v1/clients", &c.token, json!({ "name": name }))
        .await;
    r.expect(201, "200-character name");
    let g = c
        .api
        .get(&format!("/api/v1/clients/{}", r.id()), &c.token)
        .await;
    assert_eq!(g.body["name"], name.as_str());
    c.done().await;
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let c = Case::new().await;
    let unknown = "cli_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
    c.refused(
        c.api
            .request(Method::GET, &format!("/api/v1/clients/{unknown}"), &c.token),
        404,
        "not-found",
        "GET unknown client",
    )
    .await;
    c.refused(
        c.api
            .request(
                Method::PATCH,
                &format!("/api/v1/clients/{unknown}"),
                &c.token,
            )
            .json(&json!({"name": "Ghost"})),
        404,
        "not-found",
        "PATCH unknown client",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn garbage_ids_are_404() {
    let c = Case::new().await;
    let garbage = enc("cli_' OR 1=1 --");
    c.refused(
        c.api
            .request(Method::GET, &format!("/api/v1/clients/{garbage}"), &c.token),
        404,
        "not-found",
        "GET garbage id",
    )
    .await;
    c.refused(
        c.post(
            &format!("/api/v1/clients/{garbage}/events"),
            &json!({"type": "contract_signed"}),
        ),
        404,
        "not-found",
        "POST event on garbage id",
    )
    .await;
    c.refused(
        c.api.request(
            Method::GET,
            &format!("/api/v1/events?client={garbage}"),
            &c.token,
        ),
        404,
        "not-found",
        "events of garbage id",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn another_agencys_ids_are_404() {
    let c = Case::new().await;
    let rival = c.app.other_agency("admin@rival.test").await;
    let theirs = c.api.create_client(&rival.token, "Theirs").await;
    let their_trail = trail(&c.app, &rival.id).await;
    c.refused(
        c.api
            .request(Method::GET, &format!("/api/v1/clients/{theirs}"), &c.token),
        404,
        "not-found",
        "GET their client",
    )
    .await;
    c.refused(
        c.api
            .request(
                Method::PATCH,
                &format!("/api/v1/clients/{theirs}"),
                &c.token,
            )
            .json(&json!({"name": "Mine"})),
        404,
        "not-found",
        "PATCH their client",
    )
    .await;
    assert_eq!(trail(&c.app, &rival.id).await, their_trail);
    let g = c
        .api
        .get(&format!("/api/v1/clients/{theirs}"), &rival.token)
        .await;
    assert_eq!(g.body["name"], "Theirs");
    c.done().await;
}

#[tokio::test]
async fn unknown_event_types_are_422() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post(&c.events_path(), &json!({"type": "contract_shredded"})),
            422,
            "invalid-input",
            "unknown event type",
        )
        .await;
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("contract_signed") && detail.contains("note"),
        "lists the known types: {detail}"
    );
    c.done().await;
}

#[tokio::test]
async fn a_bad_occurred_at_is_422() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post(
                &c.events_path(),
                &json!({"type": "contract_signed", "occurred_at": "last Tuesday"}),
            ),
            422,
            "invalid-input",
            "bad occurred_at",
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "occurred_at");
    c.done().await;
}

#[tokio::test]
async fn a_future_occurred_at_is_422() {
    let c = Case::new().await;
    let tomorrow = baton_core::clock::rfc3339(common::now_ms() + 86_400_000);
    let r = c
        .refused(
            c.post(
                &c.events_path(),
                &json!({"type": "contract_signed", "occurred_at": tomorrow}),
            ),
            422,
            "invalid-input",
            "future occurred_at",
        )
        .await;
    assert!(r.body["detail"].as_str().unwrap().contains("future"));
    c.done().await;
}

#[tokio::test]
async fn a_note_event_without_text_is_422() {
    let c = Case::new().await;
    for body in [
        json!({"type": "note"}),
        json!({"type": "note", "note": "   "}),
    ] {
        let r = c
            .refused(
                c.post(&c.events_path(), &body),
                422,
                "invalid-input",
                "note without text",
            )
            .await;
        assert_eq!(r.body["errors"][0]["field"], "note");
    }
    c.done().await;
}

#[tokio::test]
async fn an_impossible_lifecycle_move_is_409() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post(&c.events_path(), &json!({"type": "onboarding_completed"})),
            409,
            "conflict",
            "won → onboarding_completed",
        )
        .await;
    assert!(r.body["detail"].as_str().unwrap().contains("won"));
    let events = c.api.client_events(&c.token, &c.client).await;
    assert_eq!(events.len(), 1, "only client.created");
    c.done().await;
}

#[tokio::test]
async fn a_5_mb_body_is_413() {
    let c = Case::new().await;
    let body = json!({ "name": "x".repeat(5 * 1024 * 1024) }).to_string();
    c.refused(
        c.raw(
            Method::POST,
            "/api/v1/clients",
            Some("application/json"),
            &body,
        ),
        413,
        "payload-too-large",
        "5 MB body",
    )
    .await;
    c.done().await;
}

#[tokio::test]
async fn unknown_json_fields_are_422() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.post(
                "/api/v1/clients",
                &json!({"name": "Acme", "lifecycle": "active"}),
            ),
            422,
            "invalid-input",
            "unknown field",
        )
        .await;
    assert!(r.body["detail"].as_str().unwrap().contains("lifecycle"));
    c.done().await;
}

#[tokio::test]
async fn limit_0_and_limit_1000_are_422() {
    let c = Case::new().await;
    for q in ["limit=0", "limit=1000"] {
        let r = c
            .refused(
                c.api
                    .request(Method::GET, &format!("/api/v1/clients?{q}"), &c.token),
                422,
                "invalid-input",
                q,
            )
            .await;
        assert_eq!(r.body["errors"][0]["field"], "limit");
    }
    c.done().await;
}

#[tokio::test]
async fn a_bad_cursor_is_refused() {
    let c = Case::new().await;
    for path in [
        "/api/v1/clients?cursor=not-a-cursor",
        "/api/v1/events?cursor=not-a-cursor",
    ] {
        let r = c
            .refused(
                c.api.request(Method::GET, path, &c.token),
                422,
                "invalid-input",
                path,
            )
            .await;
        assert_eq!(r.body["errors"][0]["field"], "cursor");
    }
    c.done().await;
}

#[tokio::test]
async fn a_unicode_name_is_stored_verbatim() {
    let c = Case::new().await;
    let name = "Zoë's Café 東京 🚀";
    let r = c
        .api
        .post("/api/v1/clients", &c.token, json!({ "name": name }))
        .await;
    r.expect(201, "unicode");
    assert_eq!(r.body["name"], name);
    let g = c
        .api
        .get(&format!("/api/v1/clients/{}", r.id()), &c.token)
        .await;
    assert_eq!(g.body["name"], name);
    c.done().await;
}

#[tokio::test]
async fn a_sql_looking_name_is_stored_verbatim() {
    let c = Case::new().await;
    let name = "Robert'); DROP TABLE clients;--";
    let r = c
        .api
        .post("/api/v1/clients", &c.token, json!({ "name": name }))
        .await;
    r.expect(201, "sql-looking");
    let g = c
        .api
        .get(&format!("/api/v1/clients/{}", r.id()), &c.token)
        .await;
    assert_eq!(g.body["name"], name);
    assert_eq!(
        c.clients().await,
        2,
        "the table is still there, with both clients"
    );
    c.done().await;
}

#[tokio::test]
async fn a_missing_bearer_token_is_401() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.api
                .request(Method::POST, "/api/v1/clients", "")
                .json(&json!({"name": "Anonymous"})),
            401,
            "unauthorized",
            "no token",
        )
        .await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    c.done().await;
}

#[tokio::test]
async fn an_invalid_bearer_token_is_401() {
    let c = Case::new().await;
    let r = c
        .refused(
            c.api
                .request(
                    Method::POST,
                    "/api/v1/clients",
                    "bt_forged0000000000000000000000000000",
                )
                .json(&json!({"name": "Forged"})),
            401,
            "unauthorized",
            "forged token",
        )
        .await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    c.done().await;
}

#[tokio::test]
async fn a_read_scoped_token_is_refused_on_writes() {
    let c = Case::new().await;
    let read = c.api.token(&c.token, "read").await;
    let r = c
        .refused(
            c.api
                .request(Method::POST, "/api/v1/clients", &read)
                .json(&json!({"name": "Read only"})),
            403,
            "forbidden",
            "read token creates a client",
        )
        .await;
    assert!(r.body["detail"].as_str().unwrap().contains("read"));
    c.refused(
        c.api
            .request(Method::POST, &c.events_path(), &read)
            .json(&json!({"type": "contract_signed"})),
        403,
        "forbidden",
        "read token posts an event",
    )
    .await;
    c.done().await;
}
