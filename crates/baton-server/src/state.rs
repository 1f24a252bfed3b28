//! Shared state handed to every handler.

use std::sync::Arc;

use baton_core::clock::{Clock, SystemClock};
use baton_store::Db;

use crate::config::ServerConfig;
use crate::email::Mailer;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: ServerConfig,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// Set when SMTP is configured (and its settings made sense).
    pub mailer: Option<Mailer>,
    /// The outbound HTTP client of webhooks and channels.
    pub sender: crate::integrations::sender::Sender,
    /// The outbound client of platform connectors (the operator's URLs,
    /// so none of the webhook sender's address checks; no redirects).
    pub connector_http: reqwest::Client,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: ServerConfig) -> AppState {
        AppState::with_clock(db, config, Arc::new(SystemClock))
    }

    pub fn with_clock(db: Db, config: ServerConfig, clock: Arc<dyn Clock>) -> AppState {
        let mailer = config.smtp.as_ref().and_then(|s| match Mailer::new(s) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(error = %e, "SMTP is configured but unusable; email stays off");
                None
            }
        });
        let sender = crate::integrations::sender::Sender::new(
            config.webhook_allow_private,
            config.dns_server,
        );
        let connector_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Baton/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a plain HTTP client builds");
        AppState(Arc::new(Inner {
            sender,
            connector_http,
            db,
            config,
            clock,
            metrics: Metrics::default(),
            mailer,
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
