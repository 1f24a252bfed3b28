//! `baton serve`: binds, serves, and shuts down gracefully on SIGTERM/Ctrl-C.

use std::process::ExitCode;

use baton_server::AppState;
use baton_store::Db;
use tokio::net::TcpListener;

use crate::config::Config;

pub async fn run(config: &Config, db: Db) -> anyhow::Result<ExitCode> {
    let server_config = config.server_config()?;
    // A wrong bucket, endpoint or key is reported now, not at the first upload.
    server_config.files.check().await.map_err(|e| {
        anyhow::anyhow!(
            "file storage {} is not usable: {e}",
            server_config.files.describe()
        )
    })?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(
        listen = %config.listen,
        public_url = %server_config.public_url,
        database = %baton_store::db::redact(&config.database_url),
        files = %server_config.files.describe(),
        "baton is serving"
    );
    let state = AppState::new(db, server_config);
    baton_server::serve(state, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
