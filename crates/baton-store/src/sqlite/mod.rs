//! The embedded SQLite engine: statements run on the calling task's thread.
//!
//! sqlx's own SQLite driver gives every connection a thread of its own and
//! hands each statement, and then each result row, across a channel to it.
//! Under load that was most of Baton's time: 40–60 % of samples were the
//! kernel's scheduler and futex wake-ups, SQLite's own work under 1 %
//! (`docs/benchmarks.md`). This driver runs a statement where it is awaited,
//! on the async worker that awaits it, with rusqlite: no thread hop per
//! statement or per row, rows decoded once into sqlx's `AnyRow`.
//!
//! It plugs into sqlx's `Any` layer under the `sqlite:` URL scheme, so the
//! store keeps its one set of portable SQL texts and its sqlx code for both
//! engines; only the executor under `AnyPool` differs (PostgreSQL still uses
//! sqlx's driver). The price: a statement holds an async worker thread while
//! SQLite runs it. Baton's statements are indexed and short (tens of
//! microseconds; the slowest pages a few milliseconds), and a connection is
//! never shared by two tasks, so that is cheaper than two context switches
//! per statement. A write that waits on another *process's* lock (the CLI
//! beside a running server) sleeps on `busy_timeout` in that thread.
//!
//! [`install_drivers`] must run before any `AnyPool` is opened; `Db` and the
//! test harness call it.

mod checkpoint;
mod conn;
mod error;
mod plumbing;

use std::sync::Once;

pub use checkpoint::{CheckpointStats, Checkpointer};
pub use conn::{InlineConnection, InlineOptions};
pub use plumbing::InlineSqlite;

/// The `Any` driver for `sqlite:` URLs.
pub const DRIVER: sqlx_core::any::driver::AnyDriver =
    sqlx_core::any::driver::AnyDriver::without_migrate::<InlineSqlite>();

/// Registers PostgreSQL (sqlx's driver) and SQLite (this one) with sqlx's
/// `Any` layer, once per process.
pub fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        sqlx::any::install_drivers(&[sqlx::postgres::any::DRIVER, DRIVER])
            .expect("database drivers were installed by another caller");
    });
}

#[cfg(test)]
mod tests;
