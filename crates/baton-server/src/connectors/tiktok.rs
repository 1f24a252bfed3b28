//! TikTok Business Center (Business API): a client who added the agency as
//! a partner and shared an ad account with it has that advertiser listed
//! among the assets shared with the agency's Business Center
//! (`bc/partner/asset/get`, `share_type=SHARED`), with the role the
//! partner holds on it (`advertiser_role`). TikTok answers errors with
//! HTTP 200 and a non-zero `code`.

use baton_core::connectors::{digits, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::http::{self, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct Tiktok;

/// How many assets one page asks for.
const PAGE_SIZE: u64 = 50;
/// The catalogue platform whose ladder the roles are compared on.
const CATALOGUE: &str = "tiktok_ads";

/// TikTok's envelope: `{"code": 0, "message": "OK", "request_id", "data"}`,
/// an error when `code` is not 0 (in an HTTP 200 answer). `None` for a
/// success, or a body without a code (then the HTTP status decides).
pub fn envelope(_status: u16, body: &Value) -> Option<CallError> {
    let code = match body.get("code")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if code == 0 {
        return None;
    }
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("error");
    let detail = format!("{message} (code {code})");
    Some(match code {
        40100 | 40016 | 40133 => CallError::RateLimited {
            detail,
            retry_after_ms: None,
        },
        40102 | 40104 | 40105 => CallError::Unauthorized(detail),
        40001 | 40002 | 40007 => CallError::Denied(detail),
        _ => CallError::Unavailable(detail),
    })
}

/// The catalogue permission of a partner's advertiser role.
pub fn catalogue_role(role: &str) -> Option<&'static str> {
    match role.trim().to_ascii_uppercase().as_str() {
        "ADMIN" => Some("admin"),
        "OPERATOR" => Some("operator"),
        "ANALYST" => Some("analyst"),
        _ => None,
    }
}

/// An advertiser shared with the agency's Business Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertiser {
    pub id: String,
    pub name: Option<String>,
    /// TikTok's word (`OPERATOR`), when the listing gives one.
    pub role: Option<String>,
}

/// The advertisers one page lists (entries without an id, or of another
/// asset type, are left out); an answer without `data` made no sense.
pub fn advertisers(body: &Value) -> Result<Vec<Advertiser>, CallError> {
    let data = body
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| CallError::Unavailable("TikTok's answer had no data".into()))?;
    let Some(list) = data.get("list").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let text = |item: &Value, k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(list
        .iter()
        .filter(|item| {
            item.get("asset_type")
                .and_then(Value::as_str)
                .is_none_or(|t| t.eq_ignore_ascii_case("ADVERTISER"))
        })
        .filter_map(|item| {
            let id = match item.get("asset_id")? {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.as_u64()?.to_string(),
                _ => return None,
            };
            (!id.is_empty()).then(|| Advertiser {
                id,
                name: text(item, "asset_name"),
                role: text(item, "advertiser_role"),
            })
        })
        .collect())
}

/// The page after page `asked`: the next one while `page_info.page` is
/// below `total_page` (or the pages `total_number` makes, or, with neither,
/// while pages come back full); `None` after an empty page or the last one.
pub fn next_page(body: &Value, asked: u64) -> Option<u64> {
    let listed = body
        .pointer("/data/list")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if listed == 0 {
        return None;
    }
    let num = |k: &str| {
        body.pointer("/data/page_info")
            .and_then(|i| i.get(k))
            .and_then(Value::as_u64)
    };
    let page = num("page").filter(|p| *p > 0).unwrap_or(asked);
    let size = num("page_size").filter(|s| *s > 0).unwrap_or(PAGE_SIZE);
    let total = num("total_page").or_else(|| num("total_number").map(|n| n.div_ceil(size)));
    let more = match total {
        Some(total) => page < total,
        None => listed as u64 >= size,
    };
    let next = page.checked_add(1)?;
    (more && next > asked).then_some(next)
}

/// Whether a listed advertiser is the one asked for: its id, or its name
/// as typed.
pub fn matches(adv: &Advertiser, asset: &str) -> bool {
    let typed = asset.trim();
    if digits(typed, 6).is_some_and(|id| id == adv.id) {
        return true;
    }
    adv.name
        .as_deref()
        .is_some_and(|n| !typed.is_empty() && n.eq_ignore_ascii_case(typed))
}

/// The catalogue's name of a permission key (`operator` → `Operator`).
fn permission_name(key: &str) -> String {
    baton_core::platforms::builtin_get(CATALOGUE)
        .and_then(|p| p.permission(key).map(|x| x.name.clone()))
        .unwrap_or_else(|| key.to_string())
}

/// What the listings of the asked advertiser (`found`, usually one) say
/// about the request.
pub fn decide(target: &Target<'_>, asset: &str, bc: &str, found: &[Advertiser]) -> Outcome {
    let ladder = baton_core::platforms::builtin_get(CATALOGUE);
    let rank = |a: &Advertiser| {
        a.role
            .as_deref()
            .and_then(catalogue_role)
            .and_then(|k| ladder.and_then(|p| p.rank(k)))
            .map_or(0, |r| r + 1)
    };
    let Some(adv) = found.iter().max_by_key(|a| rank(a)) else {
        return Outcome::Missing {
            detail: format!(
                "the ad account {asset:?} is not shared with the agency's Business Center ({bc})"
            ),
        };
    };
    let want = target.permission_name();
    let id = &adv.id;
    match adv.role.as_deref().map(|w| (w, catalogue_role(w))) {
        Some((word, Some(key))) if target.enough(key) => Outcome::Verified(Evidence {
            role: word.to_string(),
            asset: id.clone(),
            asset_name: adv.name.clone(),
        }),
        Some((word, Some(key))) => Outcome::Missing {
            detail: format!(
                "the ad account {id} is shared with the agency's Business Center as {} ({word}); {want} was asked for",
                permission_name(key)
            ),
        },
        Some((word, None)) => Outcome::Missing {
            detail: format!(
                "the ad account {id} is shared with the agency's Business Center with a role Baton does not know ({word}); {want} was asked for"
            ),
        },
        None => Outcome::Missing {
            detail: format!(
                "the ad account {id} is shared with the agency's Business Center without a role; {want} was asked for"
            ),
        },
    }
}

/// Every listing of `asset` among the advertisers shared with `bc`, page
/// by page.
async fn shared(call: &Call<'_>, bc: &str, asset: &str) -> Result<Vec<Advertiser>, CallError> {
    let mut found = Vec::new();
    let mut page = 1;
    let size = PAGE_SIZE.to_string();
    for _ in 0..MAX_PAGES {
        let n = page.to_string();
        let q = [
            ("bc_id", bc),
            ("asset_type", "ADVERTISER"),
            ("share_type", "SHARED"),
            ("page", n.as_str()),
            ("page_size", size.as_str()),
        ];
        let body = http::get(
            call,
            "/bc/partner/asset/get/",
            &q,
            &[],
            Auth::Header("Access-Token"),
            envelope,
        )
        .await?;
        found.extend(
            advertisers(&body)?
                .into_iter()
                .filter(|a| matches(a, asset)),
        );
        match next_page(&body, page) {
            Some(next) => page = next,
            None => break,
        }
    }
    Ok(found)
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::Tiktok.label();
    let Some(typed_bc) = target.value(&["bc_id", "tiktok_business_center_id"]) else {
        return Outcome::Error {
            detail: "the agency's TikTok Business Center id is not set (Settings → Connections, \
                     or the onboarding setting “TikTok Business Center ID”)"
                .into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let Some(bc) = digits(typed_bc, 6) else {
        return Outcome::Error {
            detail: format!(
                "the agency's TikTok Business Center id {typed_bc:?} is not a Business Center id \
                 (a number, under the Business Center's name in Business settings → Business info)"
            ),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let Some(asset) = target.asset.map(str::trim).filter(|a| !a.is_empty()) else {
        return Outcome::Error {
            detail: "the request names no TikTok ad account (its asset): add the advertiser id \
                     or the ad account's name"
                .into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    match shared(call, &bc, asset).await {
        Ok(found) => decide(target, asset, &bc, &found),
        Err(e) => e.outcome(label),
    }
}

impl Connector for Tiktok {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::Tiktok
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

    fn asset(id: &str, name: &str, role: &str) -> Value {
        json!({"asset_id": id, "asset_name": name, "asset_type": "ADVERTISER", "advertiser_role": role})
    }

    fn adv(id: &str, name: Option<&str>, role: Option<&str>) -> Advertiser {
        Advertiser {
            id: id.into(),
            name: name.map(str::to_string),
            role: role.map(str::to_string),
        }
    }

    #[test]
    fn advertisers_are_read_from_a_page() {
        let body = json!({"code": 0, "message": "OK", "request_id": "r", "data": {
            "list": [
                asset("7012345678901234567", "Acme Ads", "OPERATOR"),
                {"asset_id": 7000000000000000001_u64, "asset_type": "ADVERTISER", "advertiser_role": "ADMIN"},
                {"asset_id": "7000000000000000002", "asset_name": " ", "advertiser_role": ""},
                {"asset_id": "7000000000000000003", "asset_type": "CATALOG", "advertiser_role": "ADMIN"},
                {"asset_name": "No id", "advertiser_role": "ADMIN"},
                {"asset_id": "", "advertiser_role": "ADMIN"},
                {"asset_id": true}
            ],
            "page_info": {"page": 1, "page_size": 50, "total_number": 3, "total_page": 1}
        }});
        assert_eq!(
            advertisers(&body),
            Ok(vec![
                adv("7012345678901234567", Some("Acme Ads"), Some("OPERATOR")),
                adv("7000000000000000001", None, Some("ADMIN")),
                adv("7000000000000000002", None, None),
            ])
        );
        assert_eq!(advertisers(&json!({"code": 0, "data": {}})), Ok(vec![]));
        assert_eq!(
            advertisers(&json!({"code": 0, "data": {"list": null}})),
            Ok(vec![])
        );
        for nonsense in [
            json!({"code": 0}),
            json!({"code": 0, "data": []}),
            Value::Null,
        ] {
            assert!(
                matches!(advertisers(&nonsense), Err(CallError::Unavailable(_))),
                "{nonsense}"
            );
        }
    }

    #[test]
    fn advertisers_match_by_id_or_name() {
        let a = adv("7012345678901234567", Some("Acme Ads"), Some("ADMIN"));
        let cases = [
            ("7012345678901234567", true),
            ("ID: 7012345678901234567 (Acme)", true),
            (
                "https://ads.tiktok.com/i18n/dashboard?aadvid=7012345678901234567",
                true,
            ),
            ("acme ads", true),
            (" Acme Ads ", true),
            ("7012345678901234568", false),
            ("Acme", false),
            ("", false),
        ];
        for (typed, want) in cases {
            assert_eq!(matches(&a, typed), want, "{typed}");
        }
        assert!(!matches(
            &adv("7012345678901234567", None, None),
            "Acme Ads"
        ));
    }

    #[test]
    fn pages_follow_page_info_until_total_page() {
        let body = |listed: usize, info: Value| json!({"code": 0, "data": {"list": vec![json!({}); listed], "page_info": info}});
        let cases = [
            // (answer, asked page, next)
            (
                body(
                    50,
                    json!({"page": 1, "page_size": 50, "total_number": 120, "total_page": 3}),
                ),
                1,
                Some(2),
            ),
            (
                body(
                    50,
                    json!({"page": 2, "page_size": 50, "total_number": 120, "total_page": 3}),
                ),
                2,
                Some(3),
            ),
            (
                body(
                    20,
                    json!({"page": 3, "page_size": 50, "total_number": 120, "total_page": 3}),
                ),
                3,
                None,
            ),
            (
                body(
                    3,
                    json!({"page": 1, "page_size": 50, "total_number": 3, "total_page": 1}),
                ),
                1,
                None,
            ),
            (
                body(
                    0,
                    json!({"page": 1, "page_size": 50, "total_number": 9, "total_page": 5}),
                ),
                1,
                None,
            ),
            // Without total_page: from total_number, then from full pages.
            (
                body(2, json!({"page": 1, "page_size": 2, "total_number": 5})),
                1,
                Some(2),
            ),
            (
                body(1, json!({"page": 3, "page_size": 2, "total_number": 5})),
                3,
                None,
            ),
            (body(50, json!({})), 4, Some(5)),
            (body(49, json!({})), 4, None),
            // A page going backwards is not followed.
            (body(50, json!({"page": 1, "total_page": 9})), 3, None),
            (json!({"code": 0, "data": {}}), 1, None),
        ];
        for (answer, asked, want) in cases {
            assert_eq!(next_page(&answer, asked), want, "{answer}");
        }
    }

    #[test]
    fn tiktok_codes_sort_errors() {
        let kind = |e: CallError| match e {
            CallError::Denied(_) => "denied",
            CallError::NotFound(_) => "not_found",
            CallError::RateLimited { .. } => "rate_limited",
            CallError::Unauthorized(_) => "unauthorized",
            CallError::Unavailable(_) => "unavailable",
        };
        let cases = [
            (json!({"code": 0, "message": "OK", "data": {}}), None),
            (json!({"code": "0", "message": "OK"}), None),
            (
                json!({"code": 40100, "message": "Too many requests"}),
                Some("rate_limited"),
            ),
            (json!({"code": 40016, "message": "m"}), Some("rate_limited")),
            (json!({"code": 40133, "message": "m"}), Some("rate_limited")),
            (json!({"code": 40102, "message": "m"}), Some("unauthorized")),
            (json!({"code": 40104, "message": "m"}), Some("unauthorized")),
            (
                json!({"code": "40105", "message": "m"}),
                Some("unauthorized"),
            ),
            (json!({"code": 40001, "message": "m"}), Some("denied")),
            (json!({"code": 40002, "message": "m"}), Some("denied")),
            (json!({"code": 40007, "message": "m"}), Some("denied")),
            (
                json!({"code": 50000, "message": "System error"}),
                Some("unavailable"),
            ),
            (json!({"code": 40000, "message": "m"}), Some("unavailable")),
            (json!({"message": "no code"}), None),
            (json!({"code": null}), None),
            (Value::Null, None),
        ];
        for (body, want) in cases {
            assert_eq!(envelope(200, &body).map(kind), want, "{body}");
        }
        assert_eq!(
            envelope(200, &json!({"code": 50000, "message": "System error"})),
            Some(CallError::Unavailable("System error (code 50000)".into()))
        );
    }

    #[test]
    fn roles_map_and_compare_with_the_request() {
        let roles = [
            ("ADMIN", Some("admin")),
            ("OPERATOR", Some("operator")),
            ("ANALYST", Some("analyst")),
            ("operator", Some("operator")),
            ("OWNER", None),
            ("", None),
        ];
        for (role, want) in roles {
            assert_eq!(catalogue_role(role), want, "{role}");
        }
        let values = BTreeMap::new();
        let target = |permission| Target {
            platform: CATALOGUE,
            permission,
            asset: Some("7012345678901234567"),
            values: &values,
            account: None,
        };
        let id = "7012345678901234567";
        // (asked, listings, outcome kind, words the detail or role holds)
        let cases: [(&str, Vec<Advertiser>, &str, &[&str]); 8] = [
            (
                "operator",
                vec![adv(id, Some("Acme Ads"), Some("OPERATOR"))],
                "verified",
                &["OPERATOR"],
            ),
            (
                "analyst",
                vec![adv(id, None, Some("ADMIN"))],
                "verified",
                &["ADMIN"],
            ),
            (
                "admin",
                vec![adv(id, None, Some("ANALYST")), adv(id, None, Some("ADMIN"))],
                "verified",
                &["ADMIN"],
            ),
            (
                "operator",
                vec![adv(id, None, Some("ANALYST"))],
                "missing",
                &["Analyst", "ANALYST", "Operator"],
            ),
            (
                "admin",
                vec![adv(id, None, Some("OPERATOR"))],
                "missing",
                &["Operator", "Admin", id],
            ),
            (
                "analyst",
                vec![adv(id, None, Some("OWNER"))],
                "missing",
                &["OWNER", "Analyst"],
            ),
            (
                "analyst",
                vec![adv(id, None, None)],
                "missing",
                &["without a role"],
            ),
            (
                "analyst",
                vec![],
                "missing",
                &["not shared", "7012345678901234567", "7999999"],
            ),
        ];
        for (asked, found, kind, words) in cases {
            let got = decide(&target(asked), id, "7999999", &found);
            let (k, text) = match &got {
                Outcome::Verified(e) => {
                    assert_eq!(e.asset, id);
                    ("verified", e.role.clone())
                }
                Outcome::Pending { detail } => ("pending", detail.clone()),
                Outcome::Missing { detail } => ("missing", detail.clone()),
                Outcome::Error { detail, .. } => ("error", detail.clone()),
            };
            assert_eq!(k, kind, "{asked} {found:?}: {got:?}");
            for w in words {
                assert!(text.contains(w), "{asked} {found:?}: {text:?} lacks {w:?}");
            }
        }
    }

    /// What the stand-in saw of each call: the query and the token header.
    type Seen = Arc<Mutex<Vec<(HashMap<String, String>, String)>>>;

    /// A stand-in TikTok on a local port: three advertisers shared with BC
    /// 7100000000000000001, two a page (whatever was asked). The token picks
    /// an error in a 200 answer: `expired`, `limited`, `denied`.
    async fn stand_in(seen: Seen) -> String {
        use axum::extract::{Query, State};
        use axum::http::HeaderMap;

        async fn assets(
            State(seen): State<Seen>,
            Query(q): Query<HashMap<String, String>>,
            headers: HeaderMap,
        ) -> axum::Json<Value> {
            let token = headers
                .get("access-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            seen.lock().unwrap().push((q.clone(), token.clone()));
            let fail = |code: i64, message: &str| {
                axum::Json(json!({"code": code, "message": message, "request_id": "r", "data": {}}))
            };
            match token.as_str() {
                "expired" => return fail(40105, "The access token is expired"),
                "limited" => return fail(40100, "Too many requests"),
                "denied" => return fail(40001, "No permission to operate Business Center"),
                _ => {}
            }
            let all = if q.get("bc_id").map(String::as_str) == Some("7100000000000000001") {
                vec![
                    asset("7000000000000000001", "Other", "ADMIN"),
                    asset("7000000000000000002", "Else", "ANALYST"),
                    asset("7012345678901234567", "Acme Ads", "OPERATOR"),
                ]
            } else {
                vec![]
            };
            let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let list: Vec<Value> = all
                .iter()
                .skip((page.max(1) - 1) * 2)
                .take(2)
                .cloned()
                .collect();
            axum::Json(
                json!({"code": 0, "message": "OK", "request_id": "r", "data": {
                    "list": list,
                    "page_info": {"page": page, "page_size": 2, "total_number": all.len(),
                                  "total_page": all.len().div_ceil(2)}
                }}),
            )
        }

        let app = axum::Router::new()
            .route("/bc/partner/asset/get/", axum::routing::get(assets))
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
        let with_bc: BTreeMap<String, String> = [(
            "tiktok_business_center_id".to_string(),
            " 7100000000000000001 ".to_string(),
        )]
        .into();
        let no_bc: BTreeMap<String, String> = [("bc_id".to_string(), " ".to_string())].into();
        let run = |token: &'static str,
                   permission: &'static str,
                   asset: &'static str,
                   settings: &'static str| {
            let (client, api) = (&client, &api);
            let values = if settings == "bc" { &with_bc } else { &no_bc };
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
                Tiktok.verify(&call, &target).await
            }
        };

        // The advertiser is on the second page.
        let got = run("tok", "operator", "7012345678901234567", "bc").await;
        assert_eq!(
            got,
            Outcome::Verified(Evidence {
                role: "OPERATOR".into(),
                asset: "7012345678901234567".into(),
                asset_name: Some("Acme Ads".into()),
            })
        );
        {
            let calls = seen.lock().unwrap();
            let pages: Vec<_> = calls.iter().map(|(q, _)| q["page"].clone()).collect();
            assert_eq!(pages, ["1", "2"]);
            for (q, token) in calls.iter() {
                assert_eq!(q["bc_id"], "7100000000000000001");
                assert_eq!(q["asset_type"], "ADVERTISER");
                assert_eq!(q["share_type"], "SHARED");
                assert_eq!(q["page_size"], "50");
                assert_eq!(token, "tok");
            }
        }

        // By name; too small a role names both.
        let got = run("tok", "admin", "acme ads", "bc").await;
        assert!(
            matches!(&got, Outcome::Missing { detail } if detail.contains("Operator") && detail.contains("Admin")),
            "{got:?}"
        );
        // Not shared: every page read, missing.
        seen.lock().unwrap().clear();
        let got = run("tok", "analyst", "7099999999999999999", "bc").await;
        assert!(
            matches!(&got, Outcome::Missing { detail } if detail.contains("not shared")),
            "{got:?}"
        );
        assert_eq!(seen.lock().unwrap().len(), 2);

        // Errors in a 200 answer.
        let got = run("expired", "analyst", "7012345678901234567", "bc").await;
        assert!(
            matches!(&got, Outcome::Error { detail, .. } if detail.contains(http::TOKEN_REFUSED) && detail.contains("40105")),
            "{got:?}"
        );
        let got = run("limited", "analyst", "7012345678901234567", "bc").await;
        assert!(
            matches!(&got, Outcome::Error { detail, .. } if detail.contains("rate limiting")),
            "{got:?}"
        );
        let got = run("denied", "analyst", "7012345678901234567", "bc").await;
        assert!(
            matches!(&got, Outcome::Missing { detail } if detail.contains("40001")),
            "{got:?}"
        );

        // No Business Center id, or no asset: nothing asked, an error to fix.
        seen.lock().unwrap().clear();
        let got = run("tok", "analyst", "7012345678901234567", "none").await;
        assert!(
            matches!(&got, Outcome::Error { detail, retry_after_ms: Some(ms) }
                if detail.contains("Business Center id is not set") && *ms == 6 * 3_600_000),
            "{got:?}"
        );
        let got = run("tok", "analyst", "  ", "bc").await;
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
