//! Operator commands: agency and token creation, audit verification, backup.

use std::path::Path;
use std::process::ExitCode;

use baton_core::clock::{Clock, SystemClock};
use baton_core::policy::{self, Action, Subject};
use baton_core::secret;
use baton_server::auth::password;
use baton_store::agencies::{self, NewAgency};
use baton_store::tokens::{self, Scope};
use baton_store::{audit, members, Actor, Cx, Db};
use serde_json::json;

use crate::config::Config;

pub async fn agency_create(
    db: &Db,
    name: String,
    admin_email: String,
    admin_name: Option<String>,
    timezone: Option<String>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let now = SystemClock.now_ms();
    let admin_password = secret::random_password();
    let admin_name =
        admin_name.unwrap_or_else(|| admin_email.split('@').next().unwrap_or("Admin").to_string());
    let hash = password::hash_async(admin_password.clone()).await;
    let (agency, admin) = agencies::create(
        db,
        &Actor::cli(),
        now,
        NewAgency {
            name,
            timezone,
            admin_email,
            admin_name,
            admin_password_hash: hash,
        },
    )
    .await?;
    let (_, token) = tokens::create(
        Cx::new(db, &admin.agency_id, &Actor::cli(), now),
        &admin,
        "Created with the agency",
        Scope::Admin,
    )
    .await?;
    if as_json {
        println!(
            "{}",
            json!({
                "agency_id": agency.id,
                "agency_slug": agency.slug,
                "admin_id": admin.id,
                "admin_email": admin.email,
                "admin_password": admin_password,
                "api_token": token,
            })
        );
    } else {
        println!("Agency {} created ({}).", agency.name, agency.id);
        println!("Admin login: {} / {}", admin.email, admin_password);
        println!("Admin API token (shown once): {token}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token_create(
    db: &Db,
    email: &str,
    scope: Option<&str>,
    name: &str,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(member) = members::find_by_email(db, email).await? else {
        anyhow::bail!("no member with email {email}");
    };
    if !member.active {
        anyhow::bail!("{email} is deactivated");
    }
    let scope = match scope {
        None => {
            if member.is_admin {
                Scope::Admin
            } else {
                Scope::Write
            }
        }
        Some(s) => Scope::parse(s)
            .ok_or_else(|| anyhow::anyhow!("--scope must be read, write or admin"))?,
    };
    // The policy every door asks: a token never gives more than its member
    // may do (an admin-scoped token is for admins).
    let holder = baton_server::authz::member(&member);
    if let Err(d) = policy::can(&holder, Action::of_scope(scope), Subject::Agency) {
        anyhow::bail!("{email} cannot hold a {}-scoped token: {d}", scope.key());
    }
    let (t, token) = tokens::create(
        Cx::new(db, &member.agency_id, &Actor::cli(), SystemClock.now_ms()),
        &member,
        name,
        scope,
    )
    .await?;
    if as_json {
        println!(
            "{}",
            json!({"token": token, "id": t.id, "member_id": member.id, "scope": scope.key()})
        );
    } else {
        println!("{token}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn audit_verify(db: &Db) -> anyhow::Result<ExitCode> {
    let reports = audit::verify_all(db).await?;
    let mut broken = 0;
    for r in &reports {
        match &r.problem {
            None => println!(
                "ok      {} ({}): {} entries, chain intact",
                r.agency_name, r.agency_id, r.entries
            ),
            Some(p) => {
                broken += 1;
                println!("BROKEN  {} ({}): {p}", r.agency_name, r.agency_id);
            }
        }
    }
    if broken > 0 {
        eprintln!(
            "baton: audit verification failed for {broken} of {} agencies",
            reports.len()
        );
        Ok(ExitCode::FAILURE)
    } else {
        println!("all {} audit chains intact", reports.len());
        Ok(ExitCode::SUCCESS)
    }
}

/// `baton backup PATH`: a consistent copy of the SQLite database. Uploaded
/// files are not in it; the output says where they are and how to keep them.
pub async fn backup(db: &Db, config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    db.backup_to(path).await?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!("backup written to {} ({size} bytes)", path.display());
    match &config.storage_url {
        None => println!(
            "not in the backup: uploaded files in {}; copy that folder alongside (e.g. rsync -a)",
            baton_server::uploads::root(&config.data_dir).display()
        ),
        Some(url) => println!(
            "not in the backup: uploaded files in {url}; keep them with the bucket's versioning or replication, or copy them with your S3 tool"
        ),
    }
    Ok(ExitCode::SUCCESS)
}
