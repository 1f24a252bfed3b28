//! One module per command.

mod admin;
mod cadence;
mod demo;
mod demo_history;
mod serve;
mod sop;

use std::process::ExitCode;

use baton_store::Db;

use crate::cli::{AgencyCommand, AuditCommand, CadenceCommand, Command, SopCommand, TokenCommand};
use crate::config::Config;

pub async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    let db = open(&config).await?;
    let code = match command {
        Command::Serve => serve::run(&config, db.clone()).await?,
        Command::Migrate => {
            println!(
                "migrations applied to {}",
                baton_store::db::redact(&config.database_url)
            );
            ExitCode::SUCCESS
        }
        Command::Demo { serve: and_serve } => {
            demo::run(&config, &db).await?;
            if and_serve {
                serve::run(&config, db.clone()).await?
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Agency(AgencyCommand::Create {
            name,
            admin_email,
            admin_name,
            timezone,
            json,
        }) => admin::agency_create(&db, name, admin_email, admin_name, timezone, json).await?,
        Command::Token(TokenCommand::Create {
            member,
            scope,
            name,
            json,
        }) => admin::token_create(&db, &member, scope.as_deref(), &name, json).await?,
        Command::Audit(AuditCommand::Verify) => admin::audit_verify(&db).await?,
        Command::Sop(SopCommand::Export { agency, output }) => {
            sop::export(&db, agency.as_deref(), output.as_deref()).await?
        }
        Command::Sop(SopCommand::Import {
            file,
            agency,
            reason,
            dry_run,
        }) => sop::import(&db, &file, agency.as_deref(), reason.as_deref(), dry_run).await?,
        Command::Cadence(CadenceCommand::Export { agency, output }) => {
            cadence::export(&db, agency.as_deref(), output.as_deref()).await?
        }
        Command::Cadence(CadenceCommand::Import {
            file,
            agency,
            reason,
            dry_run,
        }) => cadence::import(&db, &file, agency.as_deref(), reason.as_deref(), dry_run).await?,
        Command::Backup { path } => admin::backup(&db, &config, &path).await?,
    };
    db.close().await;
    Ok(code)
}

/// Opens (and migrates) the configured database.
async fn open(config: &Config) -> anyhow::Result<Db> {
    let mut sizes = baton_store::db::PoolSizes::default();
    if let Some(n) = config.db_pool {
        sizes.postgres = n;
        sizes.sqlite_readers = n;
    }
    Db::open_with(&config.database_url, sizes)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open database {}: {e}",
                baton_store::db::redact(&config.database_url)
            )
        })
}
