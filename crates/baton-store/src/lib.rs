//! Baton's persistence: one portable schema and one set of queries that run on
//! both SQLite (the embedded default) and PostgreSQL (scale-out), through
//! sqlx's `Any` driver.
//!
//! Every change goes through [`write::WriteTx`]: the row change, its events, the
//! hash-chained audit entry and the outbox jobs commit in one transaction.
//! Every function over tenant data takes the agency id, so a read across
//! agencies cannot be written by accident. This crate knows SQL and nothing of
//! HTTP; domain rules live in `baton-core`.

pub mod access_kpis;
pub mod access_requests;
pub mod access_templates;
pub mod agencies;
pub mod approval_links;
pub mod audit;
pub mod cadences;
pub mod calendar_feeds;
pub mod calendars;
pub mod claims;
pub mod client_moves;
pub mod clients;
pub mod connections;
pub mod content;
pub mod content_metrics;
pub mod cx;
pub mod db;
pub mod error;
pub mod events;
pub mod flashes;
mod group_commit;
pub mod handoff_briefs;
pub mod idempotency;
pub mod incidents;
pub mod intake;
pub mod integrations;
pub mod invites;
pub mod kpis;
pub mod leases;
pub mod members;
mod migrate;
pub mod onboarding_links;
pub mod onboarding_settings;
pub mod outbox;
pub mod page;
pub mod platforms;
pub mod scorecards;
pub mod sessions;
pub mod sop_runs;
pub mod sops;
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod throttles;
pub mod tokens;
pub mod write;

pub use cx::Cx;
pub use db::{Backend, Db};
pub use error::StoreError;
pub use group_commit::GroupCommitStats;
pub use page::Page;
pub use write::{Actor, NewEvent, Record, WriteTx};
