//! LinkedIn (Community Management API): a client's Page that gave the
//! agency's team member a role lists that member in the Page's access
//! control, which the member reads with `organizationAcls?q=roleAssignee`:
//! one element per role held (a member may hold several roles on one
//! organization; the best one counts). A role an admin of the Page has not
//! approved yet is listed with the state `REQUESTED` ("waiting on the
//! client").
//!
//! The approved roles and the requested ones are two queries (`state=APPROVED`,
//! then `state=REQUESTED` only when the approved roles are not enough), not
//! one listing of every state sorted out here: what LinkedIn lists when
//! `state` is left out is not something to rely on, and each element's own
//! `state` is checked as well.

use baton_core::connectors::{digits, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::http::{self, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct Linkedin;

/// The versioned API Baton speaks (`LinkedIn-Version`).
pub const VERSION: &str = "202611";
/// The headers of every call to the versioned (`/rest`) API.
const HEADERS: [(&str, &str); 2] = [
    ("LinkedIn-Version", VERSION),
    ("X-Restli-Protocol-Version", "2.0.0"),
];
/// How many access-control elements one page asks for.
const PAGE_SIZE: usize = 100;
/// The catalogue platform whose ladder the roles are compared on.
const CATALOGUE: &str = "linkedin_page";

/// LinkedIn's error envelope: `{"status": 403, "serviceErrorCode": 100,
/// "code": "ACCESS_DENIED", "message": "…"}`. `None` for an answer that is
/// not an error, or an error whose code says nothing more than its HTTP
/// status (which then decides).
pub fn envelope(status: u16, body: &Value) -> Option<CallError> {
    let code = body.get("code").and_then(Value::as_str).unwrap_or("");
    let said = body.get("status").and_then(Value::as_u64);
    if code.is_empty() && said.is_none() {
        return None;
    }
    // A success answer that merely has a `status` field is not an error.
    if (200..300).contains(&status) && code.is_empty() && body.get("serviceErrorCode").is_none() {
        return None;
    }
    let message = http::message_of(body).unwrap_or_else(|| {
        if code.is_empty() {
            format!("HTTP {}", said.unwrap_or(u64::from(status)))
        } else {
            code.to_string()
        }
    });
    match (code, said) {
        ("ACCESS_DENIED", _) => Some(CallError::Denied(message)),
        ("EXPIRED_ACCESS_TOKEN" | "INVALID_ACCESS_TOKEN" | "REVOKED_ACCESS_TOKEN", _)
        | (_, Some(401)) => Some(CallError::Unauthorized(message)),
        ("TOO_MANY_REQUESTS", _) | (_, Some(429)) => Some(CallError::RateLimited {
            detail: message,
            retry_after_ms: None,
        }),
        ("NOT_FOUND", _) => Some(CallError::NotFound(message)),
        _ => None,
    }
}

/// The catalogue permission of a LinkedIn organization role.
pub fn catalogue_role(role: &str) -> Option<&'static str> {
    match role.trim().to_ascii_uppercase().as_str() {
        "ADMINISTRATOR" => Some("super_admin"),
        "CONTENT_ADMINISTRATOR"
        | "DIRECT_SPONSORED_CONTENT_POSTER"
        | "RECRUITING_POSTER"
        | "LEAD_GEN_FORMS_MANAGER" => Some("content_admin"),
        "ANALYST" => Some("analyst"),
        _ => None,
    }
}

/// The organization number at the end of an organization URN
/// (`urn:li:organization:5515715` → `5515715`).
pub fn organization_number(urn: &str) -> Option<&str> {
    let n = urn.trim().rsplit(':').next()?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// The roles (LinkedIn's words) one page of `organizationAcls` lists on
/// organization `id` in `state`; an answer without `elements` made no sense.
pub fn roles_on(page: &Value, id: &str, state: &str) -> Result<Vec<String>, CallError> {
    let elements = page
        .get("elements")
        .and_then(Value::as_array)
        .ok_or_else(|| CallError::Unavailable("LinkedIn's answer listed no elements".into()))?;
    Ok(elements
        .iter()
        .filter(|e| {
            e.get("organization")
                .and_then(Value::as_str)
                .and_then(organization_number)
                == Some(id)
        })
        .filter(|e| {
            e.get("state")
                .and_then(Value::as_str)
                .is_none_or(|s| s.eq_ignore_ascii_case(state))
        })
        .filter_map(|e| e.get("role").and_then(Value::as_str))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect())
}

/// Where the next page starts, after a page asked from `asked_start`:
/// `start + count` while that is below `total` (or, without a total, while
/// pages come back full); `None` after an empty page or the last one.
pub fn next_start(page: &Value, asked_start: usize, asked_count: usize) -> Option<usize> {
    let listed = page
        .get("elements")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if listed == 0 {
        return None;
    }
    let num = |k: &str| {
        page.get("paging")
            .and_then(|p| p.get(k))
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
    };
    let start = num("start").unwrap_or(asked_start);
    let count = num("count").filter(|c| *c > 0).unwrap_or(asked_count);
    let next = start.checked_add(count)?;
    let more = match num("total") {
        Some(total) => next < total,
        None => listed >= count,
    };
    (more && next > asked_start).then_some(next)
}

/// The best role in `roles` the catalogue knows: (permission key, LinkedIn's word).
pub fn best(roles: &[String]) -> Option<(&'static str, &str)> {
    let ladder = baton_core::platforms::builtin_get(CATALOGUE);
    roles
        .iter()
        .filter_map(|r| catalogue_role(r).map(|k| (k, r.as_str())))
        .max_by_key(|(k, _)| ladder.and_then(|p| p.rank(k)).unwrap_or(0))
}

/// The catalogue's name of a permission key (`content_admin` → `Content admin`).
fn permission_name(key: &str) -> String {
    baton_core::platforms::builtin_get(CATALOGUE)
        .and_then(|p| p.permission(key).map(|x| x.name.clone()))
        .unwrap_or_else(|| key.to_string())
}

/// What the roles the member holds on organization `id` (approved, and
/// requested but not approved yet) say about the request.
pub fn decide(target: &Target<'_>, id: &str, approved: &[String], requested: &[String]) -> Outcome {
    let who = target.account.unwrap_or("the connected LinkedIn member");
    let want = target.permission_name();
    let have = best(approved);
    let asked = best(requested);
    if let Some((key, word)) = have {
        if target.enough(key) {
            return Outcome::Verified(Evidence {
                role: word.to_string(),
                asset: format!("urn:li:organization:{id}"),
                asset_name: None,
            });
        }
    }
    if let Some((key, word)) = asked {
        if target.enough(key) {
            return Outcome::Pending {
                detail: format!(
                    "{who} was given the {word} role on organization {id}, but an admin of the page has not approved the role yet"
                ),
            };
        }
    }
    let detail = match (have, asked) {
        (Some((key, word)), _) => format!(
            "{who} is {word} ({}) on organization {id}; {want} was asked for",
            permission_name(key)
        ),
        (None, Some((key, word))) => format!(
            "{who} was only requested as {word} ({}) on organization {id}; {want} was asked for",
            permission_name(key)
        ),
        (None, None) if !approved.is_empty() || !requested.is_empty() => {
            let mut held: Vec<&str> = approved
                .iter()
                .chain(requested)
                .map(String::as_str)
                .collect();
            held.sort_unstable();
            held.dedup();
            format!(
                "{who} holds only {} on organization {id}, which is no Page admin role; {want} was asked for",
                held.join(", ")
            )
        }
        (None, None) => {
            format!("organization {id} does not list {who} as an admin (approved or requested)")
        }
    };
    Outcome::Missing { detail }
}

/// Every role the member holds in `state` on organization `id`, page by
/// page (`start`/`count`).
async fn held(call: &Call<'_>, state: &str, id: &str) -> Result<Vec<String>, CallError> {
    let mut roles = Vec::new();
    let mut start = 0;
    let count = PAGE_SIZE.to_string();
    for _ in 0..MAX_PAGES {
        let from = start.to_string();
        let q = [
            ("q", "roleAssignee"),
            ("state", state),
            ("start", from.as_str()),
            ("count", count.as_str()),
        ];
        let page = http::get(
            call,
            "/rest/organizationAcls",
            &q,
            &HEADERS,
            Auth::Bearer,
            envelope,
        )
        .await?;
        roles.extend(roles_on(&page, id, state)?);
        match next_start(&page, start, PAGE_SIZE) {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(roles)
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::Linkedin.label();
    let Some(id) = target.asset.and_then(|a| digits(a, 4)) else {
        return Outcome::Error {
            detail: "the request names no LinkedIn organization id (its asset): add the Page's \
                     number, as in its admin URL linkedin.com/company/5515715/admin"
                .into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let approved = match held(call, "APPROVED", &id).await {
        Ok(r) => r,
        Err(e) => return e.outcome(label),
    };
    if best(&approved).is_some_and(|(key, _)| target.enough(key)) {
        return decide(target, &id, &approved, &[]);
    }
    let requested = match held(call, "REQUESTED", &id).await {
        Ok(r) => r,
        // Requests LinkedIn will not show: the approved roles decide.
        Err(CallError::Denied(_) | CallError::NotFound(_)) => Vec::new(),
        Err(e) => return e.outcome(label),
    };
    decide(target, &id, &approved, &requested)
}

impl Connector for Linkedin {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::Linkedin
    }

    fn verify<'a>(&'a self, call: &'a Call<'a>, target: &'a Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(check(call, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    fn acl(org: &str, role: &str, state: &str) -> Value {
        json!({"organization": org, "role": role, "state": state, "roleAssignee": "urn:li:person:abc"})
    }

    /// Roles (or words) as a table lists them.
    type Roles = &'static [&'static str];

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn organization_numbers_are_read_from_urns() {
        let cases = [
            ("urn:li:organization:5515715", Some("5515715")),
            (" urn:li:organization:42 ", Some("42")),
            ("urn:li:organizationBrand:777", Some("777")),
            ("urn:li:organization:", None),
            ("urn:li:person:abc", None),
            ("", None),
        ];
        for (urn, want) in cases {
            assert_eq!(organization_number(urn), want, "{urn}");
        }
    }

    #[test]
    fn roles_on_the_organization_are_read_from_a_page() {
        let page = json!({"elements": [
            acl("urn:li:organization:5515715", "ANALYST", "APPROVED"),
            acl("urn:li:organization:55157150", "ADMINISTRATOR", "APPROVED"),
            acl("urn:li:organization:1", "ADMINISTRATOR", "APPROVED"),
            acl("urn:li:organization:5515715", "CONTENT_ADMINISTRATOR", "APPROVED"),
            acl("urn:li:organization:5515715", "ADMINISTRATOR", "REQUESTED"),
            {"organization": "urn:li:organization:5515715", "role": "RECRUITING_POSTER"},
            {"organization": "urn:li:organization:5515715", "state": "APPROVED"},
            {"role": "ADMINISTRATOR", "state": "APPROVED"},
        ]});
        let cases: [(&str, &str, &[&str]); 4] = [
            (
                "5515715",
                "APPROVED",
                &["ANALYST", "CONTENT_ADMINISTRATOR", "RECRUITING_POSTER"],
            ),
            (
                "5515715",
                "REQUESTED",
                &["ADMINISTRATOR", "RECRUITING_POSTER"],
            ),
            ("1", "APPROVED", &["ADMINISTRATOR"]),
            ("2", "APPROVED", &[]),
        ];
        for (id, state, want) in cases {
            assert_eq!(
                roles_on(&page, id, state),
                Ok(strings(want)),
                "{id} {state}"
            );
        }
        assert_eq!(
            roles_on(&json!({"elements": []}), "1", "APPROVED"),
            Ok(vec![])
        );
        for nonsense in [json!({}), json!({"elements": {}}), Value::Null] {
            assert!(
                matches!(
                    roles_on(&nonsense, "1", "APPROVED"),
                    Err(CallError::Unavailable(_))
                ),
                "{nonsense}"
            );
        }
    }

    #[test]
    fn linkedin_roles_map_to_the_catalogue_and_the_best_wins() {
        let cases = [
            ("ADMINISTRATOR", Some("super_admin")),
            ("CONTENT_ADMINISTRATOR", Some("content_admin")),
            ("DIRECT_SPONSORED_CONTENT_POSTER", Some("content_admin")),
            ("RECRUITING_POSTER", Some("content_admin")),
            ("LEAD_GEN_FORMS_MANAGER", Some("content_admin")),
            ("ANALYST", Some("analyst")),
            ("analyst", Some("analyst")),
            ("PAID_MEDIA_VIEWER", None),
            ("", None),
        ];
        for (role, want) in cases {
            assert_eq!(catalogue_role(role), want, "{role}");
        }
        let bests: [(Roles, Option<(&str, &str)>); 5] = [
            (
                &["ANALYST", "CONTENT_ADMINISTRATOR"],
                Some(("content_admin", "CONTENT_ADMINISTRATOR")),
            ),
            (
                &["ADMINISTRATOR", "ANALYST"],
                Some(("super_admin", "ADMINISTRATOR")),
            ),
            (
                &["PAID_MEDIA_VIEWER", "ANALYST"],
                Some(("analyst", "ANALYST")),
            ),
            (&["PAID_MEDIA_VIEWER"], None),
            (&[], None),
        ];
        for (roles, want) in bests {
            assert_eq!(best(&strings(roles)), want, "{roles:?}");
        }
    }

    #[test]
    fn paging_follows_start_and_count_until_total() {
        let three = |n: usize| Value::Array(vec![json!({}); n]);
        let cases = [
            // (page, asked start, next)
            (
                json!({"elements": three(3), "paging": {"start": 0, "count": 3, "total": 7}}),
                0,
                Some(3),
            ),
            (
                json!({"elements": three(3), "paging": {"start": 3, "count": 3, "total": 7}}),
                3,
                Some(6),
            ),
            (
                json!({"elements": three(1), "paging": {"start": 6, "count": 3, "total": 7}}),
                6,
                None,
            ),
            (
                json!({"elements": three(3), "paging": {"start": 0, "count": 3, "total": 3}}),
                0,
                None,
            ),
            (
                json!({"elements": [], "paging": {"start": 0, "count": 100, "total": 9}}),
                0,
                None,
            ),
            // No total: on while pages come back full.
            (
                json!({"elements": three(100), "paging": {"start": 0, "count": 100}}),
                0,
                Some(100),
            ),
            (
                json!({"elements": three(40), "paging": {"start": 100, "count": 100}}),
                100,
                None,
            ),
            // No paging at all: the asked start and count.
            (json!({"elements": three(100)}), 200, Some(300)),
            // A count of 0 would never move on: the asked count.
            (
                json!({"elements": three(2), "paging": {"start": 0, "count": 0, "total": 500}}),
                0,
                Some(100),
            ),
            // A start going backwards is not followed.
            (
                json!({"elements": three(2), "paging": {"start": 0, "count": 2, "total": 500}}),
                4,
                None,
            ),
            (json!({}), 0, None),
        ];
        for (page, asked, want) in cases {
            assert_eq!(next_start(&page, asked, PAGE_SIZE), want, "{page}");
        }
    }

    #[test]
    fn linkedin_error_envelopes_sort_errors() {
        let err = |status: u64, code: &str| json!({"status": status, "serviceErrorCode": 100, "code": code, "message": "m"});
        let cases = [
            (403, err(403, "ACCESS_DENIED"), Some("denied")),
            (401, err(401, "EXPIRED_ACCESS_TOKEN"), Some("unauthorized")),
            (401, err(401, "INVALID_ACCESS_TOKEN"), Some("unauthorized")),
            (401, err(401, "SOMETHING_ELSE"), Some("unauthorized")),
            (429, err(429, "TOO_MANY_REQUESTS"), Some("rate_limited")),
            (
                429,
                json!({"status": 429, "message": "slow down"}),
                Some("rate_limited"),
            ),
            (404, err(404, "NOT_FOUND"), Some("not_found")),
            (400, err(400, "PARAM_INVALID"), None),
            (500, json!({"message": "oops"}), None),
            (200, json!({"elements": [], "paging": {"start": 0}}), None),
            (200, json!({"status": 429, "elements": []}), None),
        ];
        let kind = |e: CallError| match e {
            CallError::Denied(_) => "denied",
            CallError::NotFound(_) => "not_found",
            CallError::RateLimited { .. } => "rate_limited",
            CallError::Unauthorized(_) => "unauthorized",
            CallError::Unavailable(_) => "unavailable",
        };
        for (status, body, want) in cases {
            assert_eq!(envelope(status, &body).map(kind), want, "{status} {body}");
        }
        assert_eq!(
            envelope(403, &err(403, "ACCESS_DENIED")),
            Some(CallError::Denied("m".into()))
        );
        assert_eq!(
            envelope(403, &json!({"status": 403, "code": "ACCESS_DENIED"})),
            Some(CallError::Denied("ACCESS_DENIED".into()))
        );
    }

    #[test]
    fn roles_compare_with_the_request_approved_before_requested() {
        let values = BTreeMap::new();
        let target = |permission| Target {
            platform: CATALOGUE,
            permission,
            asset: Some("5515715"),
            values: &values,
            account: Some("ops@agency.example"),
        };
        // (asked, approved, requested, outcome kind, words the detail holds)
        let cases: [(&str, Roles, Roles, &str, Roles); 9] = [
            (
                "content_admin",
                &["ANALYST", "CONTENT_ADMINISTRATOR"],
                &[],
                "verified",
                &["CONTENT_ADMINISTRATOR"],
            ),
            (
                "analyst",
                &["ADMINISTRATOR"],
                &[],
                "verified",
                &["ADMINISTRATOR"],
            ),
            (
                "super_admin",
                &["ANALYST"],
                &["ADMINISTRATOR"],
                "pending",
                &["ADMINISTRATOR", "not approved"],
            ),
            (
                "content_admin",
                &[],
                &["RECRUITING_POSTER"],
                "pending",
                &["RECRUITING_POSTER"],
            ),
            (
                "super_admin",
                &["CONTENT_ADMINISTRATOR"],
                &[],
                "missing",
                &["CONTENT_ADMINISTRATOR", "Content admin", "Super admin"],
            ),
            (
                "super_admin",
                &["CONTENT_ADMINISTRATOR"],
                &["ANALYST"],
                "missing",
                &["Content admin", "Super admin"],
            ),
            (
                "content_admin",
                &[],
                &["ANALYST"],
                "missing",
                &["requested", "ANALYST", "Content admin"],
            ),
            (
                "analyst",
                &["PAID_MEDIA_VIEWER"],
                &[],
                "missing",
                &["PAID_MEDIA_VIEWER", "Analyst"],
            ),
            (
                "analyst",
                &[],
                &[],
                "missing",
                &["5515715", "ops@agency.example"],
            ),
        ];
        for (asked, approved, requested, kind, words) in cases {
            let got = decide(
                &target(asked),
                "5515715",
                &strings(approved),
                &strings(requested),
            );
            let (k, text) = match &got {
                Outcome::Verified(e) => {
                    assert_eq!(e.asset, "urn:li:organization:5515715");
                    ("verified", e.role.clone())
                }
                Outcome::Pending { detail } => ("pending", detail.clone()),
                Outcome::Missing { detail } => ("missing", detail.clone()),
                Outcome::Error { detail, .. } => ("error", detail.clone()),
            };
            assert_eq!(k, kind, "{asked} {approved:?} {requested:?}: {got:?}");
            for w in words {
                assert!(
                    text.contains(w),
                    "{asked} {approved:?}: {text:?} lacks {w:?}"
                );
            }
        }
    }

    /// What the stand-in saw of each call: the query and two headers.
    type Seen = Arc<Mutex<Vec<(HashMap<String, String>, String, String)>>>;

    /// A stand-in LinkedIn on a local port: the member is ANALYST and
    /// CONTENT_ADMINISTRATOR of 5515715 (the second on the second page, two
    /// elements a page) and has ADMINISTRATOR requested there. The token
    /// picks an error: `denied`, `expired`, `busy`.
    async fn stand_in(seen: Seen) -> String {
        use axum::extract::{Query, State};
        use axum::http::{HeaderMap, StatusCode};
        use axum::response::IntoResponse;

        async fn acls(
            State(seen): State<Seen>,
            Query(q): Query<HashMap<String, String>>,
            headers: HeaderMap,
        ) -> axum::response::Response {
            let header = |k: &str| {
                headers
                    .get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let version = format!(
                "{}|{}",
                header("linkedin-version"),
                header("x-restli-protocol-version")
            );
            let auth = header("authorization");
            seen.lock()
                .unwrap()
                .push((q.clone(), version, auth.clone()));
            let error =
                |status: StatusCode, body: Value| (status, axum::Json(body)).into_response();
            match auth.as_str() {
                "Bearer denied" => {
                    return error(
                        StatusCode::FORBIDDEN,
                        json!({"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                               "message": "Not enough permissions to access: organizationAcls"}),
                    )
                }
                "Bearer expired" => {
                    return error(
                        StatusCode::UNAUTHORIZED,
                        json!({"status": 401, "serviceErrorCode": 65601, "code": "EXPIRED_ACCESS_TOKEN",
                               "message": "The token used in the request has expired"}),
                    )
                }
                "Bearer busy" => {
                    return (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "7")],
                        axum::Json(
                            json!({"status": 429, "message": "Resource level throttle limit"}),
                        ),
                    )
                        .into_response()
                }
                _ => {}
            }
            let all = match q.get("state").map(String::as_str) {
                Some("APPROVED") => vec![
                    acl("urn:li:organization:111", "ADMINISTRATOR", "APPROVED"),
                    acl("urn:li:organization:5515715", "ANALYST", "APPROVED"),
                    acl(
                        "urn:li:organization:5515715",
                        "CONTENT_ADMINISTRATOR",
                        "APPROVED",
                    ),
                ],
                Some("REQUESTED") => vec![acl(
                    "urn:li:organization:5515715",
                    "ADMINISTRATOR",
                    "REQUESTED",
                )],
                _ => vec![],
            };
            let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
            let page: Vec<Value> = all.iter().skip(start).take(2).cloned().collect();
            axum::Json(json!({"elements": page, "paging": {"start": start, "count": 2, "total": all.len()}}))
                .into_response()
        }

        let app = axum::Router::new()
            .route("/rest/organizationAcls", axum::routing::get(acls))
            .with_state(seen);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn checks_page_through_a_stand_in() {
        let seen: Seen = Arc::default();
        let api = stand_in(seen.clone()).await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let values = BTreeMap::new();
        let run = |token: &'static str, permission: &'static str, asset: &'static str| {
            let (client, api, values) = (&client, &api, &values);
            async move {
                let call = Call {
                    http: client,
                    api,
                    token,
                };
                let target = Target {
                    platform: CATALOGUE,
                    permission,
                    asset: Some(asset),
                    values,
                    account: None,
                };
                Linkedin.verify(&call, &target).await
            }
        };
        let page_url = "https://www.linkedin.com/company/5515715/admin/";

        // The content role is on the second page: found, no request read.
        let got = run("tok", "content_admin", page_url).await;
        assert_eq!(
            got,
            Outcome::Verified(Evidence {
                role: "CONTENT_ADMINISTRATOR".into(),
                asset: "urn:li:organization:5515715".into(),
                asset_name: None,
            })
        );
        {
            let calls = seen.lock().unwrap();
            let starts: Vec<_> = calls
                .iter()
                .map(|(q, _, _)| (q["state"].clone(), q["start"].clone()))
                .collect();
            assert_eq!(
                starts,
                [
                    ("APPROVED".to_string(), "0".to_string()),
                    ("APPROVED".into(), "2".into())
                ]
            );
            for (q, version, auth) in calls.iter() {
                assert_eq!(q["q"], "roleAssignee");
                assert_eq!(q["count"], "100");
                assert_eq!(*version, format!("{VERSION}|2.0.0"));
                assert_eq!(auth, "Bearer tok");
            }
        }
        seen.lock().unwrap().clear();

        // Super admin is only requested: pending, after both listings.
        let got = run("tok", "super_admin", "5515715").await;
        assert!(
            matches!(&got, Outcome::Pending { detail } if detail.contains("not approved")),
            "{got:?}"
        );
        let states: Vec<_> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(q, _, _)| q["state"].clone())
            .collect();
        assert_eq!(states, ["APPROVED", "APPROVED", "REQUESTED"]);

        // Another organization: missing.
        let got = run("tok", "analyst", "urn:li:organization:2222").await;
        assert!(
            matches!(&got, Outcome::Missing { detail } if detail.contains("2222")),
            "{got:?}"
        );

        // Errors through the envelope and the status.
        let got = run("denied", "analyst", "5515715").await;
        assert!(
            matches!(&got, Outcome::Missing { detail } if detail.contains("Not enough permissions")),
            "{got:?}"
        );
        let got = run("expired", "analyst", "5515715").await;
        assert!(
            matches!(&got, Outcome::Error { detail, retry_after_ms: None } if detail.contains(http::TOKEN_REFUSED)),
            "{got:?}"
        );
        let got = run("busy", "analyst", "5515715").await;
        assert!(
            matches!(
                &got,
                Outcome::Error {
                    retry_after_ms: Some(7_000),
                    ..
                }
            ),
            "{got:?}"
        );

        // No number in the asset: nothing asked, an error to fix.
        seen.lock().unwrap().clear();
        let got = run("tok", "analyst", "linkedin.com/company/acme-bakery").await;
        assert!(
            matches!(
                &got,
                Outcome::Error {
                    retry_after_ms: Some(_),
                    ..
                }
            ),
            "{got:?}"
        );
        assert!(seen.lock().unwrap().is_empty());
    }
}
