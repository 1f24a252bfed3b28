//! Google Ads (Google Ads API): a client account the agency manages is a
//! `customer_client_link` of the agency's manager account (MCC). The
//! manager sends a link request; the client accepts it in Google Ads
//! (Admin → Access and security → Managers), and the link turns from
//! `PENDING` to `ACTIVE`. One search of the manager's links, made as the
//! manager (`login-customer-id`) with the agency's developer token, says
//! which.

use baton_core::connectors::{digits, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::{json, Value};

use super::http::{self, google_envelope, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct GoogleAds;

/// When a check that waits on a setting (or the request's asset) runs again.
const FIX_WAIT_MS: i64 = 6 * 3_600_000;
/// The role of every verified request: see [`outcome`].
pub const ACTIVE_ROLE: &str = "ACTIVE manager link";

/// Google Ads' error envelope: Google's `{"error": {"status", "message"}}`
/// with a `GoogleAdsFailure` in `error.details[]`, whose
/// `errors[].errorCode` says more than the status does. An
/// `authorizationError` (`USER_PERMISSION_DENIED`, `CUSTOMER_NOT_ENABLED`)
/// is a refusal, except the developer token's own (`DEVELOPER_TOKEN_*`,
/// a setting of the agency, not the client's access), which is an error;
/// a `quotaError` is a rate limit, with its `retryDelay` when given. Other
/// answers are read as Google's.
pub fn envelope(status: u16, body: &Value) -> Option<CallError> {
    ads_error(body).or_else(|| google_envelope(status, body))
}

fn ads_error(body: &Value) -> Option<CallError> {
    let top = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("error");
    let errors = body
        .pointer("/error/details")?
        .as_array()?
        .iter()
        .filter_map(|d| d.get("errors").and_then(Value::as_array))
        .flatten();
    for e in errors {
        let Some(code) = e.get("errorCode") else {
            continue;
        };
        let message = e.get("message").and_then(Value::as_str).unwrap_or(top);
        if let Some(kind) = code.get("authorizationError").and_then(Value::as_str) {
            return Some(if kind.starts_with("DEVELOPER_TOKEN") {
                CallError::Unavailable(format!(
                    "the agency's developer token was refused ({kind}): {message}"
                ))
            } else {
                CallError::Denied(format!("{kind}: {message}"))
            });
        }
        if let Some(kind) = code.get("quotaError").and_then(Value::as_str) {
            return Some(CallError::RateLimited {
                detail: format!("{kind}: {message}"),
                retry_after_ms: e
                    .pointer("/details/quotaErrorDetails/retryDelay")
                    .and_then(Value::as_str)
                    .and_then(duration_ms),
            });
        }
    }
    None
}

/// A protobuf duration as JSON (`"30s"`, `"1.5s"`) in milliseconds, at
/// most a day.
fn duration_ms(text: &str) -> Option<i64> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(((secs * 1_000.0) as i64).min(86_400_000))
}

/// What a check needs before it calls: the agency's developer token and
/// manager account id, and the client's customer id (digits only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub developer_token: String,
    pub manager_id: String,
    pub client_id: String,
}

/// The [`Setup`] of a request, or the error naming what to set.
pub fn setup(target: &Target<'_>) -> Result<Setup, Outcome> {
    let fix = |detail: &str| Outcome::Error {
        detail: detail.to_string(),
        retry_after_ms: Some(FIX_WAIT_MS),
    };
    let Some(developer_token) = target.value(&["developer_token"]) else {
        return Err(fix(
            "the agency's Google Ads API developer token is not set (Settings → Connections → \
             Google Ads; it is in the manager account's API Center)",
        ));
    };
    let Some(manager_id) = target
        .value(&["manager_customer_id", "google_ads_manager_id"])
        .and_then(|v| digits(v, 10))
    else {
        return Err(fix(
            "the agency's Google Ads manager account id is not set (Settings → Connections → \
             Google Ads, or the onboarding settings), e.g. 123-456-7890",
        ));
    };
    let Some(client_id) = target.asset.and_then(|a| digits(a, 10)) else {
        return Err(fix(
            "the request names no Google Ads customer id (its asset): add the client's 10-digit \
             id, e.g. 123-456-7890",
        ));
    };
    Ok(Setup {
        developer_token: developer_token.to_string(),
        manager_id,
        client_id,
    })
}

/// A customer id as Google Ads shows it (`123-456-7890`).
pub fn dashed(id: &str) -> String {
    if id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &id[..3], &id[3..6], &id[6..])
    } else {
        id.to_string()
    }
}

/// The body of one `googleAds:search` for the manager's links to
/// `customers/<client_id>` (digits only, so nothing to escape), with the
/// page token of the previous answer after the first page.
pub fn search_body(client_id: &str, page_token: &str) -> Value {
    let query = format!(
        "SELECT customer_client_link.client_customer, customer_client_link.status, \
         customer_client_link.manager_link_id FROM customer_client_link \
         WHERE customer_client_link.client_customer = 'customers/{client_id}'"
    );
    let mut body = json!({ "query": query });
    if !page_token.is_empty() {
        body["pageToken"] = Value::String(page_token.to_string());
    }
    body
}

/// One link of the manager to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `ACTIVE`, `PENDING`, `REFUSED`, `CANCELED`, `INACTIVE`.
    pub status: String,
    /// The link's id (a newer link has a larger one), when given.
    pub manager_link_id: Option<u64>,
}

impl Link {
    /// Which link speaks for the client: an active one, else a pending
    /// one, else the newest ended one.
    fn weight(&self) -> (u8, u64) {
        let rank = match self.status.as_str() {
            "ACTIVE" => 2,
            "PENDING" => 1,
            _ => 0,
        };
        (rank, self.manager_link_id.unwrap_or(0))
    }
}

/// The links to `customers/<client_id>` in one page of search results.
pub fn links(page: &Value, client_id: &str) -> Vec<Link> {
    let want = format!("customers/{client_id}");
    let Some(rows) = page.get("results").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            let link = row.get("customerClientLink")?;
            if link.get("clientCustomer").and_then(Value::as_str) != Some(want.as_str()) {
                return None;
            }
            Some(Link {
                status: link.get("status")?.as_str()?.to_string(),
                manager_link_id: link.get("managerLinkId").and_then(|v| {
                    v.as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| v.as_u64())
                }),
            })
        })
        .collect()
}

/// The link that speaks for the client among `links`.
pub fn best(links: impl IntoIterator<Item = Link>) -> Option<Link> {
    links.into_iter().max_by_key(Link::weight)
}

/// What the manager's link to the client (`None`: no link at all) means.
///
/// The link carries no role: the manager's users reach the client account
/// with their own role in the manager account (Read only, Standard or
/// Admin), and an accepted link gives the manager admin-level access to
/// the client account. So an active link is enough for any level asked
/// for (`read_only`, `standard`, `admin`).
pub fn outcome(link: Option<&Link>, setup: &Setup) -> Outcome {
    let client = dashed(&setup.client_id);
    let manager = dashed(&setup.manager_id);
    let Some(link) = link else {
        return Outcome::Missing {
            detail: format!(
                "customer {client} is not linked under the agency's manager account {manager}: \
                 no link request was found"
            ),
        };
    };
    match link.status.as_str() {
        "ACTIVE" => Outcome::Verified(Evidence {
            role: ACTIVE_ROLE.to_string(),
            asset: format!("customers/{}", setup.client_id),
            asset_name: None,
        }),
        "PENDING" => Outcome::Pending {
            detail: format!(
                "the link request from manager account {manager} is waiting for the client to \
                 accept it in Google Ads (Admin → Access and security → Managers)"
            ),
        },
        "REFUSED" => Outcome::Missing {
            detail: format!(
                "customer {client} declined the link request from manager account {manager} \
                 (REFUSED); a new request is needed"
            ),
        },
        "CANCELED" => Outcome::Missing {
            detail: format!(
                "the link request from manager account {manager} to customer {client} was \
                 cancelled before it was accepted (CANCELED)"
            ),
        },
        "INACTIVE" => Outcome::Missing {
            detail: format!(
                "customer {client} was linked under manager account {manager}, but the link has \
                 ended (INACTIVE)"
            ),
        },
        other => Outcome::Missing {
            detail: format!(
                "the link between customer {client} and manager account {manager} is not active \
                 ({other})"
            ),
        },
    }
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::GoogleAds.label();
    let setup = match setup(target) {
        Ok(s) => s,
        Err(o) => return o,
    };
    // The API version is part of the base URL (`BATON_CONNECTOR_GOOGLE_ADS_URL`).
    let path = format!("/customers/{}/googleAds:search", setup.manager_id);
    let headers = [
        ("developer-token", setup.developer_token.as_str()),
        ("login-customer-id", setup.manager_id.as_str()),
    ];
    let mut found: Option<Link> = None;
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let body = search_body(&setup.client_id, &token);
        let page = match http::post(call, &path, &body, &headers, Auth::Bearer, envelope).await {
            Ok(p) => p,
            Err(e) => return e.outcome(label),
        };
        found = best(found.into_iter().chain(links(&page, &setup.client_id)));
        if found.as_ref().is_some_and(|l| l.status == "ACTIVE") {
            break;
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    outcome(found.as_ref(), &setup)
}

impl Connector for GoogleAds {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::GoogleAds
    }

    fn verify<'a>(&'a self, call: &'a Call<'a>, target: &'a Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(check(call, target))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn target<'a>(values: &'a BTreeMap<String, String>, asset: Option<&'a str>) -> Target<'a> {
        Target {
            platform: "google_ads",
            permission: "admin",
            asset,
            values,
            account: Some("ops@agency.example"),
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn setup_of(client: &str) -> Setup {
        Setup {
            developer_token: "dev".into(),
            manager_id: "1112223333".into(),
            client_id: client.into(),
        }
    }

    #[test]
    fn settings_and_the_asset_make_the_setup() {
        let full = values(&[
            ("developer_token", " dev-token "),
            ("google_ads_manager_id", "111-222-3333"),
        ]);
        assert_eq!(
            setup(&target(&full, Some("Acme (123-456-7890)"))),
            Ok(Setup {
                developer_token: "dev-token".into(),
                manager_id: "1112223333".into(),
                client_id: "1234567890".into(),
            })
        );
        // The app's extra wins over the onboarding setting.
        let both = values(&[
            ("developer_token", "dev"),
            ("manager_customer_id", "999-888-7777"),
            ("google_ads_manager_id", "111-222-3333"),
        ]);
        assert_eq!(
            setup(&target(&both, Some("1234567890"))).map(|s| s.manager_id),
            Ok("9998887777".to_string())
        );
        let cases = [
            (
                values(&[("google_ads_manager_id", "111-222-3333")]),
                Some("1234567890"),
                "developer token",
            ),
            (
                values(&[("developer_token", "dev")]),
                Some("1234567890"),
                "manager account id",
            ),
            (
                values(&[
                    ("developer_token", "dev"),
                    ("google_ads_manager_id", "12-34"),
                ]),
                Some("1234567890"),
                "manager account id",
            ),
            (full.clone(), Some("123-456"), "customer id"),
            (full.clone(), None, "customer id"),
        ];
        for (vals, asset, words) in cases {
            match setup(&target(&vals, asset)) {
                Err(Outcome::Error {
                    detail,
                    retry_after_ms,
                }) => {
                    assert!(detail.contains(words), "{detail}");
                    assert_eq!(retry_after_ms, Some(6 * 3_600_000));
                }
                other => panic!("{asset:?} {vals:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn search_bodies_ask_for_one_client_and_carry_the_page_token() {
        let first = search_body("1234567890", "");
        let q = first["query"].as_str().unwrap();
        assert!(q.contains("FROM customer_client_link"), "{q}");
        assert!(
            q.ends_with("customer_client_link.client_customer = 'customers/1234567890'"),
            "{q}"
        );
        assert!(first.get("pageToken").is_none());
        assert!(first.get("pageSize").is_none());
        let next = search_body("1234567890", "CAESBQ");
        assert_eq!(next["pageToken"], "CAESBQ");
        assert_eq!(next["query"], first["query"]);
    }

    #[test]
    fn links_of_the_client_are_read_from_search_rows() {
        let page = json!({
            "results": [
                {"customerClientLink": {"resourceName": "customers/1112223333/customerClientLinks/1234567890~7",
                    "clientCustomer": "customers/1234567890", "status": "REFUSED", "managerLinkId": "7"}},
                {"customerClientLink": {"clientCustomer": "customers/5555555555", "status": "ACTIVE", "managerLinkId": "8"}},
                {"customerClientLink": {"clientCustomer": "customers/1234567890", "status": "PENDING", "managerLinkId": "9"}},
                {"customerClientLink": {"clientCustomer": "customers/1234567890"}},
                {"somethingElse": {}}
            ],
            "nextPageToken": "next",
            "fieldMask": "customerClientLink.clientCustomer,customerClientLink.status,customerClientLink.managerLinkId"
        });
        assert_eq!(
            links(&page, "1234567890"),
            vec![
                Link {
                    status: "REFUSED".into(),
                    manager_link_id: Some(7)
                },
                Link {
                    status: "PENDING".into(),
                    manager_link_id: Some(9)
                },
            ]
        );
        assert_eq!(links(&page, "123456789"), vec![]);
        assert_eq!(links(&json!({"fieldMask": "x"}), "1234567890"), vec![]);
    }

    #[test]
    fn an_active_link_wins_then_pending_then_the_newest() {
        let l = |status: &str, id: u64| Link {
            status: status.into(),
            manager_link_id: Some(id),
        };
        let cases = [
            (
                vec![l("REFUSED", 9), l("ACTIVE", 1), l("PENDING", 5)],
                Some(l("ACTIVE", 1)),
            ),
            (
                vec![l("REFUSED", 9), l("PENDING", 5)],
                Some(l("PENDING", 5)),
            ),
            (
                vec![l("REFUSED", 3), l("CANCELED", 4), l("INACTIVE", 2)],
                Some(l("CANCELED", 4)),
            ),
            (vec![], None),
        ];
        for (all, want) in cases {
            assert_eq!(best(all.clone()), want, "{all:?}");
        }
    }

    #[test]
    fn link_statuses_decide_the_outcome() {
        let s = setup_of("1234567890");
        let l = |status: &str| Link {
            status: status.into(),
            manager_link_id: Some(1),
        };
        assert_eq!(
            outcome(Some(&l("ACTIVE")), &s),
            Outcome::Verified(Evidence {
                role: ACTIVE_ROLE.into(),
                asset: "customers/1234567890".into(),
                asset_name: None,
            })
        );
        let cases: [(Option<Link>, &str, &str); 6] = [
            (
                Some(l("PENDING")),
                "pending",
                "Access and security → Managers",
            ),
            (Some(l("REFUSED")), "missing", "declined"),
            (Some(l("CANCELED")), "missing", "cancelled"),
            (Some(l("INACTIVE")), "missing", "ended"),
            (Some(l("UNKNOWN")), "missing", "(UNKNOWN)"),
            (None, "missing", "no link request"),
        ];
        for (link, kind, words) in cases {
            let (got, detail) = match outcome(link.as_ref(), &s) {
                Outcome::Pending { detail } => ("pending", detail),
                Outcome::Missing { detail } => ("missing", detail),
                other => panic!("{link:?}: {other:?}"),
            };
            assert_eq!(got, kind, "{link:?}");
            assert!(detail.contains(words), "{detail}");
            assert!(detail.contains("111-222-3333"), "{detail}");
        }
    }

    #[test]
    fn ads_errors_are_read_before_googles_status() {
        let failure = |code: Value| {
            json!({"error": {"code": 403, "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED",
                "details": [{"@type": "type.googleapis.com/google.ads.googleads.v17.errors.GoogleAdsFailure",
                    "errors": [{"errorCode": code, "message": "specific"}],
                    "requestId": "r1"}]}})
        };
        let kind = |e: Option<CallError>| match e {
            None => "none",
            Some(CallError::Denied(_)) => "denied",
            Some(CallError::NotFound(_)) => "not_found",
            Some(CallError::RateLimited { .. }) => "rate_limited",
            Some(CallError::Unauthorized(_)) => "unauthorized",
            Some(CallError::Unavailable(_)) => "unavailable",
        };
        let cases = [
            (
                403,
                failure(json!({"authorizationError": "USER_PERMISSION_DENIED"})),
                "denied",
            ),
            (
                403,
                failure(json!({"authorizationError": "CUSTOMER_NOT_ENABLED"})),
                "denied",
            ),
            (
                403,
                failure(json!({"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"})),
                "unavailable",
            ),
            (
                403,
                failure(json!({"quotaError": "RESOURCE_EXHAUSTED"})),
                "rate_limited",
            ),
            // Not an Ads code of ours: Google's status decides.
            (
                403,
                failure(json!({"requestError": "INVALID_INPUT"})),
                "denied",
            ),
            (
                401,
                json!({"error": {"message": "expired", "status": "UNAUTHENTICATED"}}),
                "unauthorized",
            ),
            (
                503,
                json!({"error": {"message": "down", "status": "UNAVAILABLE"}}),
                "unavailable",
            ),
            (200, json!({"results": []}), "none"),
        ];
        for (status, body, want) in cases {
            assert_eq!(kind(envelope(status, &body)), want, "{body}");
        }
        match envelope(
            403,
            &failure(json!({"authorizationError": "USER_PERMISSION_DENIED"})),
        ) {
            Some(CallError::Denied(d)) => assert_eq!(d, "USER_PERMISSION_DENIED: specific"),
            other => panic!("{other:?}"),
        }
        let mut quota = failure(json!({"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}));
        quota["error"]["details"][0]["errors"][0]["details"] =
            json!({"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": "30s"}});
        assert_eq!(
            envelope(429, &quota),
            Some(CallError::RateLimited {
                detail: "RESOURCE_TEMPORARILY_EXHAUSTED: specific".into(),
                retry_after_ms: Some(30_000),
            })
        );
        let delays = [
            ("30s", Some(30_000)),
            ("1.5s", Some(1_500)),
            ("999999s", Some(86_400_000)),
            ("-1s", None),
            ("30", None),
        ];
        for (text, want) in delays {
            assert_eq!(duration_ms(text), want, "{text}");
        }
    }

    #[test]
    fn customer_ids_are_shown_with_dashes() {
        assert_eq!(dashed("1234567890"), "123-456-7890");
        assert_eq!(dashed("12345678901"), "12345678901");
    }
}
