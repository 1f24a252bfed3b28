//! Meta (Graph API): a client's Facebook Page or ad account shared with the
//! agency appears in the agency business's `client_pages` /
//! `client_ad_accounts` with the tasks it may do (`permitted_tasks`); an ad
//! account the agency asked for that the client has not approved yet is in
//! `pending_client_ad_accounts` ("waiting on the client").

use baton_core::connectors::{digits, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::http::{self, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct Meta;

/// Meta's error envelope: `{"error": {"message", "type", "code", "error_subcode"}}`.
pub fn envelope(_status: u16, body: &Value) -> Option<CallError> {
    let err = body.get("error")?;
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
    let sub = err
        .get("error_subcode")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Some(match code {
        190 | 102 => CallError::Unauthorized(message),
        4 | 17 | 32 | 613 | 80000..=80014 => CallError::RateLimited {
            detail: message,
            retry_after_ms: None,
        },
        10 | 200..=299 => CallError::Denied(message),
        100 if sub == 33 => CallError::NotFound(message),
        _ => CallError::Unavailable(message),
    })
}

/// The catalogue permission of a Meta task, for a page or an ad account.
pub fn catalogue_role(platform: &str, task: &str) -> Option<&'static str> {
    match (platform, task) {
        ("meta_page", "MANAGE") => Some("full_control"),
        ("meta_page", "ADVERTISE") => Some("ads"),
        ("meta_page", "CREATE_CONTENT") => Some("content"),
        ("meta_page", "MESSAGING") => Some("messages"),
        ("meta_page", "MODERATE") => Some("community_activity"),
        ("meta_page", "ANALYZE") => Some("insights"),
        ("meta_ad_account", "MANAGE") => Some("full_control"),
        ("meta_ad_account", "ADVERTISE") => Some("manage_campaigns"),
        ("meta_ad_account", "ANALYZE" | "DRAFT") => Some("view_performance"),
        _ => None,
    }
}

/// Whether a listed asset is the one asked for: its id (`act_` or not), or
/// its name as typed.
pub fn matches(item: &Value, asset: &str) -> bool {
    let typed = asset.trim();
    let want_id = digits(typed, 5);
    let id = item.get("id").and_then(Value::as_str).unwrap_or("");
    let account_id = item.get("account_id").and_then(Value::as_str).unwrap_or("");
    let id_digits = id.trim_start_matches("act_");
    if let Some(w) = &want_id {
        if w == id_digits || w == account_id {
            return true;
        }
    }
    item.get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !typed.is_empty() && n.trim().eq_ignore_ascii_case(typed))
}

/// The highest permission the listed asset's tasks give.
pub fn best_task(platform: &str, item: &Value) -> Option<(&'static str, String)> {
    let p = baton_core::platforms::builtin_get(platform)?;
    item.get("permitted_tasks")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|t| catalogue_role(platform, t).map(|r| (r, t.to_string())))
        .max_by_key(|(r, _)| p.rank(r).unwrap_or(0))
}

/// Walks an edge of the business (`client_pages`), page by page (cursor
/// `after`), until `found` says yes.
async fn find(
    call: &Call<'_>,
    path: &str,
    fields: &str,
    mut found: impl FnMut(&Value) -> bool,
) -> Result<Option<Value>, CallError> {
    let mut after = String::new();
    for _ in 0..MAX_PAGES {
        let mut q = vec![("fields", fields), ("limit", "100")];
        if !after.is_empty() {
            q.push(("after", after.as_str()));
        }
        let page = http::get(call, path, &q, &[], Auth::Bearer, envelope).await?;
        if let Some(hit) = page
            .get("data")
            .and_then(Value::as_array)
            .and_then(|items| items.iter().find(|i| found(i)))
        {
            return Ok(Some(hit.clone()));
        }
        let next = page.pointer("/paging/next").and_then(Value::as_str);
        let cursor = page
            .pointer("/paging/cursors/after")
            .and_then(Value::as_str);
        match (next, cursor) {
            (Some(_), Some(c)) if !c.is_empty() => after = c.to_string(),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::Meta.label();
    let Some(business) = target.value(&["business_id", "meta_business_id"]) else {
        return Outcome::Error {
            detail: "the agency's Meta business id is not set (Settings → Connections, or the onboarding settings)".into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let Some(asset) = target.asset.filter(|a| !a.trim().is_empty()) else {
        return Outcome::Error {
            detail: "the request names no page or ad account (its asset)".into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let (edge, noun) = match target.platform {
        "meta_ad_account" => ("client_ad_accounts", "ad account"),
        _ => ("client_pages", "Page"),
    };
    let fields = "id,account_id,name,permitted_tasks";
    let hit = match find(call, &format!("/{business}/{edge}"), fields, |i| {
        matches(i, asset)
    })
    .await
    {
        Ok(h) => h,
        Err(e) => return e.outcome(label),
    };
    if let Some(item) = hit {
        let name = item.get("name").and_then(Value::as_str).map(str::to_string);
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return match best_task(target.platform, &item) {
            Some((role, task)) if target.enough(role) => Outcome::Verified(Evidence {
                role: task,
                asset: id,
                asset_name: name,
            }),
            Some((_, task)) => Outcome::Missing {
                detail: format!(
                    "the {noun} is shared with the agency's business with {task} only; {} was asked for",
                    target.permission_name()
                ),
            },
            None => Outcome::Missing {
                detail: format!("the {noun} is shared with the agency's business without any task"),
            },
        };
    }
    if target.platform == "meta_ad_account" {
        let pending = find(
            call,
            &format!("/{business}/pending_client_ad_accounts"),
            "id,ad_account{id,account_id,name}",
            |i| i.get("ad_account").is_some_and(|a| matches(a, asset)),
        )
        .await;
        match pending {
            Ok(Some(_)) => {
                return Outcome::Pending {
                    detail: "the agency's request for this ad account is waiting for the client to approve it in Business Settings → Requests".into(),
                }
            }
            Ok(None) => {}
            Err(e) => return e.outcome(label),
        }
    }
    Outcome::Missing {
        detail: format!(
            "the {noun} {asset:?} is not shared with the agency's business ({business})"
        ),
    }
}

impl Connector for Meta {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::Meta
    }

    fn verify<'a>(&'a self, call: &'a Call<'a>, target: &'a Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(check(call, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listed_assets_match_by_id_or_name() {
        let page = json!({"id": "1098765432", "name": "Acme Bakery"});
        let account = json!({"id": "act_5550001", "account_id": "5550001", "name": "Acme Ads"});
        let cases = [
            (&page, "1098765432", true),
            (&page, "https://facebook.com/1098765432", true),
            (&page, "acme bakery", true),
            (&page, "Acme", false),
            (&account, "act_5550001", true),
            (&account, "5550001", true),
            (&account, "Acme Ads", true),
            (&account, "act_5550002", false),
        ];
        for (item, asset, want) in cases {
            assert_eq!(matches(item, asset), want, "{asset}");
        }
    }

    #[test]
    fn tasks_give_the_highest_catalogue_level() {
        let item = json!({"permitted_tasks": ["ANALYZE", "CREATE_CONTENT", "MODERATE"]});
        assert_eq!(
            best_task("meta_page", &item),
            Some(("content", "CREATE_CONTENT".to_string()))
        );
        let ads = json!({"permitted_tasks": ["DRAFT", "ADVERTISE"]});
        assert_eq!(
            best_task("meta_ad_account", &ads),
            Some(("manage_campaigns", "ADVERTISE".to_string()))
        );
        assert_eq!(
            best_task("meta_page", &json!({"permitted_tasks": []})),
            None
        );
    }

    #[test]
    fn meta_error_codes_sort_errors() {
        let e = |code: i64, sub: i64| {
            envelope(
                400,
                &json!({"error": {"message": "m", "code": code, "error_subcode": sub}}),
            )
        };
        assert!(matches!(e(190, 463), Some(CallError::Unauthorized(_))));
        assert!(matches!(e(17, 0), Some(CallError::RateLimited { .. })));
        assert!(matches!(e(80004, 0), Some(CallError::RateLimited { .. })));
        assert!(matches!(e(200, 0), Some(CallError::Denied(_))));
        assert!(matches!(e(10, 0), Some(CallError::Denied(_))));
        assert!(matches!(e(100, 33), Some(CallError::NotFound(_))));
        assert!(matches!(e(2, 0), Some(CallError::Unavailable(_))));
        assert_eq!(envelope(200, &json!({"data": []})), None);
    }
}
