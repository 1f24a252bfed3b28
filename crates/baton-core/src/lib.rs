//! Baton's domain: typed ids, roles, the client lifecycle, validation rules,
//! secrets and the audit hash chain.
//!
//! Pure by design: no IO, no async, no SQL, no HTTP. Everything here is plain
//! functions over plain data so it can be unit-tested hard and reused by the
//! store, the server and the CLI alike. Time comes in as arguments (unix
//! milliseconds) or through [`clock::Clock`], never from a global.

pub mod access;
pub mod audit;
pub mod cadence;
pub mod calendar;
pub mod clock;
pub mod colour;
pub mod connectors;
pub mod content;
pub mod content_files;
pub mod custom_domain;
pub mod error;
pub mod events;
pub mod facts;
pub mod handoff;
pub mod human;
pub mod ical;
pub mod ids;
pub mod incidents;
pub mod kpis;
pub mod lifecycle;
pub mod onboarding;
pub mod platforms;
pub mod policy;
pub mod roles;
pub mod scorecard;
pub mod secret;
pub mod sop;
pub mod types;
pub mod uploads;
pub mod validate;
pub mod webhooks;
pub mod weblinks;

pub use error::CoreError;
