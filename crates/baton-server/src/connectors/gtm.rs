//! Google Tag Manager (Tag Manager API v2): a container shared with the
//! agency is among the containers of the Tag Manager accounts the agency's
//! Google account can see; its level (Read, Edit, Approve, Publish, and
//! account Administrator) comes from the account's `user_permissions` for
//! the agency's access email, where the connection may read them (the
//! `tagmanager.manage.users` scope).

use baton_core::connectors::{digits, gtm_public_id, ConnectorPlatform, Evidence, Outcome};
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::http::{self, google_envelope, Auth, CallError, MAX_PAGES};
use super::{Call, Connector, Target};

pub struct Gtm;

/// The role of a container that is listed when its users' permissions
/// cannot be read.
pub const NOT_READABLE: &str = "listed (permission not readable)";

/// The container a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// Its public id, upper-cased (`GTM-ABC123`).
    PublicId(String),
    /// Its numeric `containerId`.
    ContainerId(String),
    /// Its name, as typed.
    Name(String),
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::PublicId(id) => write!(f, "{id}"),
            Wanted::ContainerId(id) => write!(f, "with id {id}"),
            Wanted::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// What the member typed, read as a public id (`GTM-ABC123`, also inside
/// a text), a container id (`12345678`, or the `containers/12345678` of a
/// Tag Manager URL), or else a container's name.
pub fn wanted(asset: &str) -> Option<Wanted> {
    let asset = asset.trim();
    if let Some(id) = gtm_public_id(asset) {
        return Some(Wanted::PublicId(id));
    }
    // A Tag Manager URL holds the account id too; the container's follows
    // `containers/`.
    let tail = asset
        .rsplit_once("containers/")
        .map_or(asset, |(_, t)| t.split('/').next().unwrap_or(t));
    if let Some(id) = digits(tail, 5) {
        return Some(Wanted::ContainerId(id));
    }
    (!asset.is_empty()).then(|| Wanted::Name(asset.to_string()))
}

/// The token of the next page of a listing, when there is one.
pub fn next_token(page: &Value) -> Option<String> {
    page.get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The account ids in one page of `accounts` (only numeric ones: they go
/// into the next paths).
pub fn account_ids(page: &Value) -> Vec<String> {
    let Some(accounts) = page.get("account").and_then(Value::as_array) else {
        return Vec::new();
    };
    accounts
        .iter()
        .filter_map(|a| {
            a.get("accountId").and_then(Value::as_str).or_else(|| {
                a.get("path")
                    .and_then(Value::as_str)
                    .and_then(|p| p.strip_prefix("accounts/"))
            })
        })
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// A container found in an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// `accounts/<account>/containers/<container>`.
    pub path: String,
    /// The account it was listed in.
    pub account_id: String,
    pub container_id: String,
    pub name: Option<String>,
    pub public_id: Option<String>,
}

impl Container {
    /// How the container is named in words: its public id, else its path.
    pub fn shown(&self) -> &str {
        self.public_id.as_deref().unwrap_or(&self.path)
    }
}

/// The container asked for in one page of `accounts/<account_id>/containers`.
pub fn find_container(page: &Value, account_id: &str, want: &Wanted) -> Option<Container> {
    page.get("container")?.as_array()?.iter().find_map(|c| {
        let container_id = c.get("containerId")?.as_str()?;
        let public_id = c.get("publicId").and_then(Value::as_str);
        let name = c.get("name").and_then(Value::as_str);
        let hit = match want {
            Wanted::PublicId(id) => public_id.is_some_and(|p| p.eq_ignore_ascii_case(id)),
            Wanted::ContainerId(id) => container_id == id,
            Wanted::Name(n) => name.is_some_and(|x| x.trim().eq_ignore_ascii_case(n.trim())),
        };
        hit.then(|| Container {
            path: c
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("accounts/{account_id}/containers/{container_id}")),
            account_id: account_id.to_string(),
            container_id: container_id.to_string(),
            name: name.map(str::to_string),
            public_id: public_id.map(str::to_string),
        })
    })
}

/// A user's access in a Tag Manager account, for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The account permission is `admin`.
    pub admin: bool,
    /// The container's permission (`read`, `edit`, `approve`, `publish`,
    /// `noAccess`), when the user has an entry for it.
    pub container: Option<String>,
}

/// The access of `email` (any case) to container `container_id` in one
/// page of `user_permissions`; `None` when the page does not list the user.
pub fn user_access(page: &Value, email: &str, container_id: &str) -> Option<Access> {
    let user = page.get("userPermission")?.as_array()?.iter().find(|u| {
        u.get("emailAddress")
            .and_then(Value::as_str)
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(email.trim()))
    })?;
    let admin = user
        .pointer("/accountAccess/permission")
        .and_then(Value::as_str)
        == Some("admin");
    let container = user
        .get("containerAccess")
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|c| c.get("containerId").and_then(Value::as_str) == Some(container_id))
        })
        .and_then(|c| c.get("permission").and_then(Value::as_str))
        .map(str::to_string);
    Some(Access { admin, container })
}

/// The catalogue permission an access gives on the container: the
/// container's own (`read` … `publish`, same keys); `account_admin` is the
/// catalogue's "Publish, plus account Administrator", so it needs both an
/// `admin` account permission and `publish` on the container (an
/// administrator with less on the container has what the container says).
pub fn catalogue_role(access: &Access) -> Option<&'static str> {
    let container = match access.container.as_deref()? {
        "read" => "read",
        "edit" => "edit",
        "approve" => "approve",
        "publish" => "publish",
        _ => return None,
    };
    Some(if access.admin && container == "publish" {
        "account_admin"
    } else {
        container
    })
}

/// A catalogue permission's name (`Publish`).
fn permission_name(role: &str) -> String {
    baton_core::platforms::builtin_get("gtm")
        .and_then(|p| p.permission(role).map(|x| x.name.clone()))
        .unwrap_or_else(|| role.to_string())
}

/// What `email`'s access (`None`: not a user of the account) to the
/// listed `container` means for the request.
pub fn judge(
    target: &Target<'_>,
    email: &str,
    container: &Container,
    access: Option<&Access>,
) -> Outcome {
    let shown = container.shown();
    let Some(access) = access else {
        return Outcome::Missing {
            detail: format!(
                "{email} is not a user of the Tag Manager account {} that holds container {shown}",
                container.account_id
            ),
        };
    };
    let role = catalogue_role(access);
    if let Some(r) = role.filter(|r| target.enough(r)) {
        return Outcome::Verified(Evidence {
            role: r.to_string(),
            asset: container.path.clone(),
            asset_name: container.name.clone(),
        });
    }
    let has = match (role, access.admin) {
        (Some(r), false) => permission_name(r),
        (Some(r), true) => format!(
            "account Administrator with {} on the container",
            permission_name(r)
        ),
        (None, false) => "no access to the container".to_string(),
        (None, true) => "account Administrator with no access to the container".to_string(),
    };
    Outcome::Missing {
        detail: format!(
            "{email} has {has} on container {shown}; {} was asked for",
            target.permission_name()
        ),
    }
}

/// Walks a listing page by page (`pageToken` → `nextPageToken`) until
/// `done` says so.
async fn walk(
    call: &Call<'_>,
    path: &str,
    mut done: impl FnMut(&Value) -> bool,
) -> Result<(), CallError> {
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let mut q: Vec<(&str, &str)> = Vec::new();
        if !token.is_empty() {
            q.push(("pageToken", token.as_str()));
        }
        let page = http::get(call, path, &q, &[], Auth::Bearer, google_envelope).await?;
        if done(&page) {
            return Ok(());
        }
        match next_token(&page) {
            Some(t) => token = t,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// The container in the accounts the connection sees. An account that
/// refuses to list its containers is passed over.
async fn locate(call: &Call<'_>, want: &Wanted) -> Result<Option<Container>, CallError> {
    let mut accounts: Vec<String> = Vec::new();
    walk(call, "/tagmanager/v2/accounts", |page| {
        accounts.extend(account_ids(page));
        false
    })
    .await?;
    for account in &accounts {
        let mut hit = None;
        let path = format!("/tagmanager/v2/accounts/{account}/containers");
        let listed = walk(call, &path, |page| {
            hit = find_container(page, account, want);
            hit.is_some()
        })
        .await;
        match listed {
            Ok(()) => {}
            Err(CallError::Denied(_) | CallError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        }
        if hit.is_some() {
            return Ok(hit);
        }
    }
    Ok(None)
}

/// The access of `email` to `container`; `Ok(None)` when the account does
/// not list the user, `Err` when the permissions are unreadable.
async fn access_of(
    call: &Call<'_>,
    container: &Container,
    email: &str,
) -> Result<Option<Access>, CallError> {
    let mut found = None;
    let path = format!(
        "/tagmanager/v2/accounts/{}/user_permissions",
        container.account_id
    );
    walk(call, &path, |page| {
        found = user_access(page, email, &container.container_id);
        found.is_some()
    })
    .await?;
    Ok(found)
}

async fn check(call: &Call<'_>, target: &Target<'_>) -> Outcome {
    let label = ConnectorPlatform::Gtm.label();
    let Some(want) = target.asset.and_then(wanted) else {
        return Outcome::Error {
            detail: "the request names no Tag Manager container (its asset): add its id, \
                     e.g. GTM-ABC123"
                .into(),
            retry_after_ms: Some(6 * 3_600_000),
        };
    };
    let container = match locate(call, &want).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Outcome::Missing {
                detail: format!(
                    "container {want} is not among the containers of the Tag Manager accounts \
                     the agency's Google account can see"
                ),
            }
        }
        Err(e) => return e.outcome(label),
    };
    let listed = || {
        Outcome::Verified(Evidence {
            role: NOT_READABLE.to_string(),
            asset: container.path.clone(),
            asset_name: container.name.clone(),
        })
    };
    let Some(email) = target
        .value(&["account_email", "agency_email"])
        .or(target.account)
    else {
        return listed();
    };
    match access_of(call, &container, email).await {
        Ok(access) => judge(target, email, &container, access.as_ref()),
        // The connection may lack the manage.users scope (or the account's
        // rules hide its users): the container is listed all the same.
        Err(CallError::Denied(_) | CallError::NotFound(_)) => listed(),
        Err(e) => e.outcome(label),
    }
}

impl Connector for Gtm {
    fn platform(&self) -> ConnectorPlatform {
        ConnectorPlatform::Gtm
    }

    fn verify<'a>(&'a self, call: &'a Call<'a>, target: &'a Target<'a>) -> BoxFuture<'a, Outcome> {
        Box::pin(check(call, target))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    #[test]
    fn assets_name_a_public_id_a_container_id_or_a_name() {
        let cases = [
            ("GTM-ABC123", Some(Wanted::PublicId("GTM-ABC123".into()))),
            ("web container (gtm-k7x2p)", Some(Wanted::PublicId("GTM-K7X2P".into()))),
            ("12345678", Some(Wanted::ContainerId("12345678".into()))),
            (
                "https://tagmanager.google.com/#/container/accounts/6001234567/containers/12345678/workspaces/3",
                Some(Wanted::ContainerId("12345678".into())),
            ),
            (" Acme web ", Some(Wanted::Name("Acme web".into()))),
            ("1234", Some(Wanted::Name("1234".into()))),
            ("   ", None),
        ];
        for (asset, want) in cases {
            assert_eq!(wanted(asset), want, "{asset}");
        }
    }

    #[test]
    fn accounts_and_page_tokens_are_read_from_listings() {
        let page = json!({"account": [
            {"path": "accounts/6001234567", "accountId": "6001234567", "name": "Acme"},
            {"path": "accounts/6007654321", "name": "Path only"},
            {"path": "accounts/../x", "accountId": "../x", "name": "Odd"},
            {"name": "No id"}
        ], "nextPageToken": "p2"});
        assert_eq!(account_ids(&page), vec!["6001234567", "6007654321"]);
        assert_eq!(account_ids(&json!({})), Vec::<String>::new());
        assert_eq!(next_token(&page).as_deref(), Some("p2"));
        assert_eq!(next_token(&json!({"nextPageToken": ""})), None);
        assert_eq!(next_token(&json!({"account": []})), None);
    }

    #[test]
    fn containers_are_found_by_public_id_container_id_or_name() {
        let page = json!({"container": [
            {"path": "accounts/6001234567/containers/111111", "accountId": "6001234567",
             "containerId": "111111", "name": "Other", "publicId": "GTM-OTHER1", "usageContext": ["web"]},
            {"path": "accounts/6001234567/containers/12345678", "accountId": "6001234567",
             "containerId": "12345678", "name": "Acme web", "publicId": "GTM-ABC123", "usageContext": ["web"]},
            {"name": "No id", "publicId": "GTM-NOID"}
        ]});
        let acme = Container {
            path: "accounts/6001234567/containers/12345678".into(),
            account_id: "6001234567".into(),
            container_id: "12345678".into(),
            name: Some("Acme web".into()),
            public_id: Some("GTM-ABC123".into()),
        };
        let cases = [
            (Wanted::PublicId("GTM-ABC123".into()), Some(&acme)),
            (Wanted::ContainerId("12345678".into()), Some(&acme)),
            (Wanted::Name("acme WEB".into()), Some(&acme)),
            (Wanted::PublicId("GTM-ABC12".into()), None),
            (Wanted::ContainerId("1234567".into()), None),
            (Wanted::PublicId("GTM-NOID".into()), None),
        ];
        for (want, found) in cases {
            assert_eq!(
                find_container(&page, "6001234567", &want).as_ref(),
                found,
                "{want:?}"
            );
        }
        assert_eq!(acme.shown(), "GTM-ABC123");
        // No path given: built from the ids.
        let bare = json!({"container": [{"containerId": "999999"}]});
        let c = find_container(&bare, "42", &Wanted::ContainerId("999999".into())).unwrap();
        assert_eq!(c.path, "accounts/42/containers/999999");
        assert_eq!(c.shown(), "accounts/42/containers/999999");
    }

    #[test]
    fn the_users_access_is_read_from_user_permissions() {
        let page = json!({"userPermission": [
            {"path": "accounts/6001234567/user_permissions/1", "accountId": "6001234567",
             "emailAddress": "someone@client.example",
             "accountAccess": {"permission": "admin"},
             "containerAccess": [{"containerId": "12345678", "permission": "publish"}]},
            {"path": "accounts/6001234567/user_permissions/2", "accountId": "6001234567",
             "emailAddress": "Access@Agency.example",
             "accountAccess": {"permission": "user"},
             "containerAccess": [
                {"containerId": "111111", "permission": "publish"},
                {"containerId": "12345678", "permission": "edit"}]},
            {"emailAddress": "boss@agency.example", "accountAccess": {"permission": "admin"}}
        ]});
        let cases = [
            (
                "access@agency.example",
                "12345678",
                Some((false, Some("edit"))),
            ),
            (
                "access@agency.example",
                "111111",
                Some((false, Some("publish"))),
            ),
            ("access@agency.example", "222222", Some((false, None))),
            ("boss@agency.example", "12345678", Some((true, None))),
            ("nobody@agency.example", "12345678", None),
        ];
        for (email, container, want) in cases {
            let want = want.map(|(admin, c): (bool, Option<&str>)| Access {
                admin,
                container: c.map(str::to_string),
            });
            assert_eq!(
                user_access(&page, email, container),
                want,
                "{email} {container}"
            );
        }
    }

    #[test]
    fn permissions_map_to_the_catalogue_and_are_compared_with_the_request() {
        let values = BTreeMap::new();
        let target = |permission| Target {
            platform: "gtm",
            permission,
            asset: Some("GTM-ABC123"),
            values: &values,
            account: None,
        };
        let container = Container {
            path: "accounts/6001234567/containers/12345678".into(),
            account_id: "6001234567".into(),
            container_id: "12345678".into(),
            name: Some("Acme web".into()),
            public_id: Some("GTM-ABC123".into()),
        };
        let access = |admin: bool, c: Option<&str>| Access {
            admin,
            container: c.map(str::to_string),
        };
        // (access, asked, verified role or words of the missing detail)
        let cases = [
            (
                Some(access(false, Some("publish"))),
                "publish",
                Ok("publish"),
            ),
            (Some(access(false, Some("approve"))), "edit", Ok("approve")),
            (Some(access(false, Some("read"))), "read", Ok("read")),
            (
                Some(access(true, Some("publish"))),
                "account_admin",
                Ok("account_admin"),
            ),
            (
                Some(access(true, Some("publish"))),
                "publish",
                Ok("account_admin"),
            ),
            (
                Some(access(false, Some("edit"))),
                "publish",
                Err("has Edit on container GTM-ABC123; Publish was asked for"),
            ),
            (
                Some(access(false, Some("publish"))),
                "account_admin",
                Err("has Publish on container"),
            ),
            (
                Some(access(true, Some("read"))),
                "publish",
                Err("account Administrator with Read on the container"),
            ),
            (
                Some(access(true, None)),
                "read",
                Err("account Administrator with no access"),
            ),
            (
                Some(access(false, Some("noAccess"))),
                "read",
                Err("has no access to the container"),
            ),
            (
                None,
                "read",
                Err("is not a user of the Tag Manager account 6001234567"),
            ),
        ];
        for (a, asked, want) in cases {
            let got = judge(
                &target(asked),
                "access@agency.example",
                &container,
                a.as_ref(),
            );
            match (got, want) {
                (Outcome::Verified(e), Ok(role)) => {
                    assert_eq!(e.role, role, "{a:?} for {asked}");
                    assert_eq!(e.asset, container.path);
                    assert_eq!(e.asset_name.as_deref(), Some("Acme web"));
                }
                (Outcome::Missing { detail }, Err(words)) => {
                    assert!(detail.contains(words), "{a:?} for {asked}: {detail}");
                    assert!(detail.starts_with("access@agency.example"), "{detail}");
                }
                (got, want) => panic!("{a:?} for {asked}: {got:?}, wanted {want:?}"),
            }
        }
        let roles = [
            (access(true, Some("publish")), Some("account_admin")),
            (access(true, Some("approve")), Some("approve")),
            (access(false, Some("publish")), Some("publish")),
            (access(false, Some("containerPermissionUnspecified")), None),
            (access(true, None), None),
        ];
        for (a, want) in roles {
            assert_eq!(catalogue_role(&a), want, "{a:?}");
        }
    }
}
