//! Google Analytics 4 (Analytics Admin API): the agency's
//! `accountSummaries` list the client's property when access was granted;
//! the role comes from the property's (or its account's) `accessBindings`
//! for the connected user, where the connection may read them.

use baton_core::connectors::{digits, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::http::{self, google_envelope, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct Ga4;

/// A property found in the agency's account summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub property: String,
    pub name: Option<String>,
    pub account: Option<String>,
}

/// The property `properties/<id>` in one page of `accountSummaries`.
pub fn find_property(page: &Value, id: &str) -> Option<Found> {
    let want = format!("properties/{id}");
    page.get("accountSummaries")?
        .as_array()?
        .iter()
        .find_map(|acc| {
            acc.get("propertySummaries")?
                .as_array()?
                .iter()
                .find(|p| p.get("property").and_then(Value::as_str) == Some(&want))
                .map(|p| Found {
                    property: want.clone(),
                    name: p
                        .get("displayName")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    account: acc
                        .get("account")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
        })
}

/// The catalogue permission of a GA4 predefined role.
pub fn catalogue_role(role: &str) -> Option<&'static str> {
    match role.rsplit('/').next()? {
        "viewer" => Some("viewer"),
        "analyst" => Some("analyst"),
        "marketer" => Some("marketer"),
        "editor" => Some("editor"),
        "admin" => Some("administrator"),
        _ => None,
    }
}

/// The highest role `user` holds in one page of `accessBindings`.
pub fn best_role(page: &Value, user: &str) -> Option<&'static str> {
    let p = baton_core::platforms::builtin_get("ga4")?;
    page.get("accessBindings")?
        .as_array()?
        .iter()
        .filter(|b| {
            b.get("user")
                .and_then(Value::as_str)
                .is_some_and(|u| u.eq_ignore_ascii_case(user))
        })
        .flat_map(|b| {
            b.get("roles")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|r| r.as_str().and_then(catalogue_role))
        .max_by_key(|r| p.rank(r).unwrap_or(0))
}

async fn summaries(call: &Call<'_>, id: &str) -> Result<Option<Found>, CallError> {
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let mut q = vec![("pageSize", "200")];
        if !token.is_empty() {
            q.push(("pageToken", token.as_str()));
        }
        let page = http::get(
            call,
            "/v1beta/accountSummaries",
            &q,
            &[],
            Auth::Bearer,
            google_envelope,
        )
        .await?;
        if let Some(found) = find_property(&page, id) {
            return Ok(Some(found));
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// The connected user's role on `parent` (`properties/1`, `accounts/2`);
/// `Ok(None)` when no binding names the user, `Err` when unreadable.
async fn role_on(
    call: &Call<'_>,
    parent: &str,
    user: &str,
) -> Result<Option<&'static str>, CallError> {
    let mut token = String::new();
    let mut best: Option<&'static str> = None;
    let p = baton_core::platforms::builtin_get("ga4");
    for _ in 0..MAX_PAGES {
        let mut q = vec![("pageSize", "200")];
        if !token.is_empty() {
            q.push(("pageToken", token.as_str()));
        }
        let path = format!("/v1alpha/{parent}/accessBindings");
        let page = http::get(call, &path, &q, &[], Auth::Bearer, google_envelope).await?;
        if let Some(r) = best_role(&page, user) {
            let rank = |x: &str| p.and_then(|p| p.rank(x)).unwrap_or(0);
            if best.is_none_or(|b| rank(r) > rank(b)) {
                best = Some(r);
            }
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    Ok(best)
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::Ga4.label();
    let Some(id) = target.asset.and_then(|a| digits(a, 5)) else {
        return Outcome::Error {
            detail: "the request names no GA4 property id (its asset): add the property's number, \
                     e.g. properties/123456789"
                .into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let found = match summaries(call, &id).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Outcome::Missing {
                detail: format!(
                    "property {id} is not among the accounts and properties the agency's Google account can see"
                ),
            }
        }
        Err(e) => return e.outcome(label),
    };
    let asset_name = found.name.clone();
    let evidence = |role: &str| Evidence {
        role: role.to_string(),
        asset: found.property.clone(),
        asset_name: asset_name.clone(),
    };
    let Some(user) = target.account else {
        return Outcome::Verified(evidence("listed (role not readable)"));
    };
    // The property's own bindings, then its account's (roles inherit).
    let mut role = None;
    let mut readable = false;
    let mut parents = vec![found.property.clone()];
    parents.extend(found.account.clone());
    for parent in &parents {
        match role_on(call, parent, user).await {
            Ok(r) => {
                readable = true;
                role = match (role, r) {
                    (Some(a), Some(b)) if target_rank(b) > target_rank(a) => Some(b),
                    (None, b) => b,
                    (a, _) => a,
                };
            }
            Err(CallError::Denied(_) | CallError::NotFound(_)) => {}
            Err(e) => return e.outcome(label),
        }
    }
    match role {
        Some(r) if target.enough(r) => Outcome::Verified(evidence(r)),
        Some(r) => Outcome::Missing {
            detail: format!(
                "{user} has the {r} role on property {id}; {} was asked for",
                target.permission_name()
            ),
        },
        None if readable => Outcome::Verified(evidence("listed (role from a group)")),
        None => Outcome::Verified(evidence("listed (role not readable)")),
    }
}

fn target_rank(role: &str) -> usize {
    baton_core::platforms::builtin_get("ga4")
        .and_then(|p| p.rank(role))
        .unwrap_or(0)
}

impl Connector for Ga4 {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::Ga4
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
    fn properties_are_found_in_account_summaries() {
        let page = json!({"accountSummaries": [
            {"account": "accounts/1", "propertySummaries": [
                {"property": "properties/111", "displayName": "Other"}]},
            {"account": "accounts/2", "propertySummaries": [
                {"property": "properties/222", "displayName": "Acme web"}]},
            {"account": "accounts/3"}
        ]});
        assert_eq!(
            find_property(&page, "222"),
            Some(Found {
                property: "properties/222".into(),
                name: Some("Acme web".into()),
                account: Some("accounts/2".into()),
            })
        );
        assert_eq!(find_property(&page, "22"), None);
        assert_eq!(find_property(&json!({}), "222"), None);
    }

    #[test]
    fn the_best_role_of_the_user_is_read_from_bindings() {
        let page = json!({"accessBindings": [
            {"user": "someone@else.example", "roles": ["predefinedRoles/admin"]},
            {"user": "OPS@agency.example", "roles": ["predefinedRoles/viewer", "predefinedRoles/editor"]},
            {"user": "ops@agency.example", "roles": ["predefinedRoles/no-cost-data"]}
        ]});
        assert_eq!(best_role(&page, "ops@agency.example"), Some("editor"));
        assert_eq!(best_role(&page, "nobody@x.example"), None);
        let cases = [
            ("predefinedRoles/admin", Some("administrator")),
            ("predefinedRoles/viewer", Some("viewer")),
            ("predefinedRoles/no-revenue-data", None),
        ];
        for (r, want) in cases {
            assert_eq!(catalogue_role(r), want, "{r}");
        }
    }
}
