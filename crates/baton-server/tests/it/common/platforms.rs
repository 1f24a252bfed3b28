//! Stand-ins for platform APIs: a local axum server that plays one platform
//! (GA4's Admin API or Meta's Graph API) and its OAuth token endpoint,
//! replaying the documented JSON shapes — with pagination (one item per
//! page), PKCE checked at the code exchange, refresh tokens that rotate
//! (the old one is refused after use), access tokens that expire, and
//! scripted failures (a 403, a 429 with `Retry-After`, a 503).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A scripted answer for the next API call (token calls are not affected).
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: Value,
}

impl Failure {
    pub fn outage() -> Failure {
        Failure {
            status: 503,
            retry_after: None,
            body: json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}),
        }
    }

    pub fn rate_limited(secs: &'static str) -> Failure {
        Failure {
            status: 429,
            retry_after: Some(secs),
            body: json!({"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}),
        }
    }
}

/// A Tag Manager container: (container id, public id, name).
pub type GtmContainer = (String, String, String);
/// A Tag Manager user's permission: (account id, email, account access,
/// [(container id, permission)]).
pub type GtmPermission = (String, String, String, Vec<(String, String)>);

/// What the platform holds and how it behaves; tests change it between checks.
#[derive(Debug, Default)]
pub struct World {
    /// code → PKCE challenge, registered by the test as the consent screen would.
    pub codes: HashMap<String, String>,
    pub access_tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
    /// Seconds each issued access token lasts.
    pub expires_in: i64,
    /// Refresh tokens presented, in order (rotation is visible here).
    pub refreshes: Vec<String>,
    pub issued: u64,
    /// GA4: (account, property id, name).
    pub ga4_properties: Vec<(String, String, String)>,
    /// GA4: (parent, user email, role).
    pub ga4_bindings: Vec<(String, String, String)>,
    /// Meta: client pages (id, name, tasks).
    pub meta_pages: Vec<(String, String, Vec<String>)>,
    /// Meta: client ad accounts (act_ id, name, tasks).
    pub meta_ad_accounts: Vec<(String, String, Vec<String>)>,
    /// Meta: ad accounts requested, not yet approved by the client.
    pub meta_pending_ad_accounts: Vec<String>,
    /// Failures answered to the next API calls, in order.
    pub fail_next: VecDeque<Failure>,
    /// Every API path called (after the token check).
    pub calls: Vec<String>,
    /// Token answers carry no OpenID `id_token` (Meta's do not).
    pub no_id_token: bool,
    /// Google Ads: (client customer id, link status) under the manager.
    pub ads_links: Vec<(String, String)>,
    /// Tag Manager: accounts and their containers.
    pub gtm_accounts: Vec<(String, Vec<GtmContainer>)>,
    /// Tag Manager: users' permissions.
    pub gtm_permissions: Vec<GtmPermission>,
    /// LinkedIn: (organization id, role, state) of the connected member.
    pub linkedin_acls: Vec<(String, String, String)>,
    /// TikTok: advertisers shared to the agency's BC (id, name, role).
    pub tiktok_assets: Vec<(String, String, String)>,
}

#[derive(Clone)]
pub struct StandIn {
    pub url: String,
    pub world: Arc<Mutex<World>>,
}

impl StandIn {
    /// Starts a stand-in on a free local port.
    pub async fn start() -> StandIn {
        let world = Arc::new(Mutex::new(World {
            expires_in: 3600,
            ..World::default()
        }));
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1beta/accountSummaries", get(ga4_summaries))
            .route("/v1alpha/{kind}/{id}/accessBindings", get(ga4_bindings))
            .route("/me", get(meta_me))
            .route("/{business}/{edge}", get(meta_edge))
            .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        StandIn { url, world }
    }

    /// A stand-in of one more platform: `google_ads`, `gtm`, `linkedin` or `tiktok`.
    pub async fn start_for(platform: &str) -> StandIn {
        let world = Arc::new(Mutex::new(World {
            expires_in: 3600,
            no_id_token: matches!(platform, "linkedin" | "tiktok"),
            ..World::default()
        }));
        let app = match platform {
            "google_ads" => Router::new()
                .route("/token", post(token))
                .route("/customers/{manager}/{method}", post(ads_search)),
            "gtm" => Router::new()
                .route("/token", post(token))
                .route("/tagmanager/v2/accounts", get(gtm_accounts))
                .route(
                    "/tagmanager/v2/accounts/{id}/containers",
                    get(gtm_containers),
                )
                .route(
                    "/tagmanager/v2/accounts/{id}/user_permissions",
                    get(gtm_permissions),
                ),
            "linkedin" => Router::new()
                .route("/token", post(token))
                .route("/v2/userinfo", get(linkedin_me))
                .route("/rest/organizationAcls", get(linkedin_acls)),
            "tiktok" => Router::new()
                .route("/token", post(tiktok_token))
                .route("/bc/partner/asset/get/", get(tiktok_assets)),
            other => panic!("no stand-in for {other}"),
        }
        .with_state(world.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        StandIn { url, world }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// The URLs Baton is pointed at.
    pub fn urls(&self) -> baton_server::connectors::PlatformUrls {
        baton_server::connectors::PlatformUrls {
            api: self.url.clone(),
            auth: format!("{}/authorize", self.url),
            token: format!("{}/token", self.url),
        }
    }

    /// Plays the consent screen: takes the `state` and `code_challenge` of
    /// an authorization URL and registers a code for them. Returns
    /// `(state, code)`.
    pub fn consent(&self, authorization_url: &str) -> (String, String) {
        let query = authorization_url.split_once('?').unwrap().1;
        let params: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
        let mut w = self.world();
        let code = format!("code-{}", w.codes.len() + w.issued as usize + 1);
        w.codes.insert(
            code.clone(),
            params.get("code_challenge").cloned().unwrap_or_default(),
        );
        (params["state"].clone(), code)
    }
}

fn issue(w: &mut World) -> Value {
    w.issued += 1;
    let at = format!("at-{}", w.issued);
    let rt = format!("rt-{}", w.issued);
    w.access_tokens.push(at.clone());
    w.refresh_tokens.push(rt.clone());
    let claims = URL_SAFE_NO_PAD.encode(br#"{"email":"ops@northwind.test"}"#);
    let mut answer = json!({"access_token": at, "refresh_token": rt, "expires_in": w.expires_in,
                            "token_type": "Bearer", "scope": "openid email read"});
    if !w.no_id_token {
        answer["id_token"] = json!(format!("eyJhbGciOiJub25lIn0.{claims}.sig"));
    }
    answer
}

async fn token(
    State(world): State<Arc<Mutex<World>>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    let refused = |m: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": m})),
        )
            .into_response()
    };
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            let Some(challenge) = w.codes.remove(&code) else {
                return refused("Malformed auth code.");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                return refused("Invalid code verifier.");
            }
            Json(issue(&mut w)).into_response()
        }
        Some("refresh_token") => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            w.refreshes.push(rt.clone());
            let Some(i) = w.refresh_tokens.iter().position(|t| *t == rt) else {
                return refused("Token has been expired or revoked.");
            };
            // Rotation: the used refresh token is spent.
            w.refresh_tokens.remove(i);
            Json(issue(&mut w)).into_response()
        }
        _ => refused("unsupported grant_type"),
    }
}

/// The token check and scripted failures every API call goes through.
fn gate(w: &mut World, headers: &HeaderMap, path: &str) -> Option<Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("access-token").and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    if !w.access_tokens.iter().any(|t| t == token) {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})),
            )
                .into_response(),
        );
    }
    w.calls.push(path.to_string());
    let f = w.fail_next.pop_front()?;
    let mut resp = (StatusCode::from_u16(f.status).unwrap(), Json(f.body)).into_response();
    if let Some(ra) = f.retry_after {
        resp.headers_mut()
            .insert("retry-after", ra.parse().unwrap());
    }
    Some(resp)
}

/// One item per page, `pageToken` = the index of the next.
fn page<T: Clone>(items: &[T], token: Option<&String>) -> (Option<T>, Option<String>) {
    let i: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
    let next = (i + 1 < items.len()).then(|| (i + 1).to_string());
    (items.get(i).cloned(), next)
}

async fn ga4_summaries(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/v1beta/accountSummaries") {
        return r;
    }
    let (item, next) = page(&w.ga4_properties, q.get("pageToken"));
    let summaries: Vec<Value> = item
        .into_iter()
        .map(|(account, id, name)| {
            json!({"name": format!("accountSummaries/{account}"), "account": format!("accounts/{account}"),
                   "displayName": "Client account",
                   "propertySummaries": [{"property": format!("properties/{id}"), "displayName": name,
                                          "propertyType": "PROPERTY_TYPE_ORDINARY", "parent": format!("accounts/{account}")}]})
        })
        .collect();
    let mut body = json!({"accountSummaries": summaries});
    if let Some(n) = next {
        body["nextPageToken"] = json!(n);
    }
    Json(body).into_response()
}

async fn ga4_bindings(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Response {
    let mut w = world.lock().unwrap();
    let parent = format!("{kind}/{id}");
    if let Some(r) = gate(
        &mut w,
        &headers,
        &format!("/v1alpha/{parent}/accessBindings"),
    ) {
        return r;
    }
    let bindings: Vec<Value> = w
        .ga4_bindings
        .iter()
        .filter(|(p, _, _)| *p == parent)
        .enumerate()
        .map(|(i, (_, user, role))| {
            json!({"name": format!("{parent}/accessBindings/{i}"), "user": user,
                   "roles": [format!("predefinedRoles/{role}")]})
        })
        .collect();
    Json(json!({"accessBindings": bindings})).into_response()
}

async fn meta_me(State(world): State<Arc<Mutex<World>>>, headers: HeaderMap) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/me") {
        return r;
    }
    Json(json!({"id": "10001", "name": "Northwind Ops"})).into_response()
}

async fn meta_edge(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Path((business, edge)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, &format!("/{business}/{edge}")) {
        return r;
    }
    if business != "9990001" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "(#200) Requires business_management permission", "type": "OAuthException", "code": 200}})),
        )
            .into_response();
    }
    let items: Vec<Value> = match edge.as_str() {
        "client_pages" => w
            .meta_pages
            .iter()
            .map(|(id, name, tasks)| json!({"id": id, "name": name, "permitted_tasks": tasks}))
            .collect(),
        "client_ad_accounts" => w
            .meta_ad_accounts
            .iter()
            .map(|(id, name, tasks)| {
                json!({"id": id, "account_id": id.trim_start_matches("act_"), "name": name, "permitted_tasks": tasks})
            })
            .collect(),
        "pending_client_ad_accounts" => w
            .meta_pending_ad_accounts
            .iter()
            .map(|id| json!({"id": format!("req-{id}"), "ad_account": {"id": id, "account_id": id.trim_start_matches("act_")}}))
            .collect(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // Cursor paging, one item per page.
    let (item, next) = page(&items, q.get("after"));
    let mut body = json!({"data": item.into_iter().collect::<Vec<_>>()});
    if let Some(n) = next {
        body["paging"] = json!({"cursors": {"before": "b", "after": n},
                                "next": format!("https://graph.facebook.com/v21.0/{business}/{edge}?after={n}")});
    }
    Json(body).into_response()
}

async fn ads_search(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Path((manager, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, &format!("/customers/{manager}/{method}")) {
        return r;
    }
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if method != "googleAds:search"
        || header("developer-token").is_empty()
        || header("login-customer-id") != manager
    {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": 400, "message": "bad request", "status": "INVALID_ARGUMENT"}}))).into_response();
    }
    let query = body["query"].as_str().unwrap_or("");
    let rows: Vec<Value> = w
        .ads_links
        .iter()
        .filter(|(id, _)| query.contains(&format!("'customers/{id}'")))
        .enumerate()
        .map(|(i, (id, status))| json!({"customerClientLink": {"clientCustomer": format!("customers/{id}"), "status": status, "managerLinkId": format!("{}", i + 1)}}))
        .collect();
    Json(json!({"results": rows, "fieldMask": "customerClientLink.clientCustomer,customerClientLink.status"})).into_response()
}

async fn gtm_accounts(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/tagmanager/v2/accounts") {
        return r;
    }
    let accounts: Vec<String> = w.gtm_accounts.iter().map(|(a, _)| a.clone()).collect();
    let (item, next) = page(&accounts, q.get("pageToken"));
    let mut body = json!({"account": item.into_iter().map(|a| json!({"path": format!("accounts/{a}"), "accountId": a, "name": format!("Account {a}")})).collect::<Vec<_>>()});
    if let Some(n) = next {
        body["nextPageToken"] = json!(n);
    }
    Json(body).into_response()
}

async fn gtm_containers(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(
        &mut w,
        &headers,
        &format!("/tagmanager/v2/accounts/{id}/containers"),
    ) {
        return r;
    }
    let containers: Vec<Value> = w
        .gtm_accounts
        .iter()
        .filter(|(a, _)| *a == id)
        .flat_map(|(a, cs)| cs.iter().map(move |(cid, public, name)| {
            json!({"path": format!("accounts/{a}/containers/{cid}"), "accountId": a, "containerId": cid, "name": name, "publicId": public})
        }))
        .collect();
    Json(json!({"container": containers})).into_response()
}

async fn gtm_permissions(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(
        &mut w,
        &headers,
        &format!("/tagmanager/v2/accounts/{id}/user_permissions"),
    ) {
        return r;
    }
    let perms: Vec<Value> = w
        .gtm_permissions
        .iter()
        .filter(|(a, ..)| *a == id)
        .map(|(a, email, access, containers)| {
            json!({"path": format!("accounts/{a}/user_permissions/1"), "accountId": a, "emailAddress": email,
                   "accountAccess": {"permission": access},
                   "containerAccess": containers.iter().map(|(c, p)| json!({"containerId": c, "permission": p})).collect::<Vec<_>>()})
        })
        .collect();
    Json(json!({"userPermission": perms})).into_response()
}

async fn linkedin_me(State(world): State<Arc<Mutex<World>>>, headers: HeaderMap) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/v2/userinfo") {
        return r;
    }
    Json(json!({"sub": "abc", "name": "Maya Ops", "email": "maya@northwind.test"})).into_response()
}

async fn linkedin_acls(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/rest/organizationAcls") {
        return r;
    }
    if q.get("q").map(String::as_str) != Some("roleAssignee")
        || headers.get("linkedin-version").is_none()
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "code": "ILLEGAL_ARGUMENT", "message": "bad query"})),
        )
            .into_response();
    }
    let state = q.get("state").cloned();
    let all: Vec<Value> = w
        .linkedin_acls
        .iter()
        .filter(|(_, _, st)| state.as_ref().is_none_or(|s| s == st))
        .map(|(org, role, st)| json!({"organization": format!("urn:li:organization:{org}"), "role": role, "state": st, "roleAssignee": "urn:li:person:abc"}))
        .collect();
    // start/count paging, one element per page.
    let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let elements: Vec<Value> = all.iter().skip(start).take(1).cloned().collect();
    Json(json!({"elements": elements, "paging": {"start": start, "count": 1, "total": all.len()}}))
        .into_response()
}

async fn tiktok_token(State(world): State<Arc<Mutex<World>>>, Json(b): Json<Value>) -> Response {
    let mut w = world.lock().unwrap();
    let code = b["auth_code"].as_str().unwrap_or("").to_string();
    if w.codes.remove(&code).is_none()
        || b["app_id"].as_str().is_none()
        || b["secret"].as_str().is_none()
    {
        return Json(json!({"code": 40105, "message": "auth_code is invalid or expired"}))
            .into_response();
    }
    let answer = issue(&mut w);
    Json(json!({"code": 0, "message": "OK", "data": {"access_token": answer["access_token"], "scope": [1, 2]}})).into_response()
}

async fn tiktok_assets(
    State(world): State<Arc<Mutex<World>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().unwrap();
    if let Some(r) = gate(&mut w, &headers, "/bc/partner/asset/get/") {
        return r;
    }
    if q.get("bc_id").map(String::as_str) != Some("7100000000000000001") {
        return Json(json!({"code": 40001, "message": "No permission to operate the Business Center", "data": {}})).into_response();
    }
    let page_no: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let total = w.tiktok_assets.len();
    let list: Vec<Value> = w
        .tiktok_assets
        .iter()
        .skip(page_no - 1)
        .take(1)
        .map(|(id, name, role)| json!({"asset_id": id, "asset_name": name, "asset_type": "ADVERTISER", "advertiser_role": role}))
        .collect();
    Json(json!({"code": 0, "message": "OK", "request_id": "r1",
                "data": {"list": list, "page_info": {"page": page_no, "page_size": 1, "total_number": total, "total_page": total.max(1)}}}))
        .into_response()
}
