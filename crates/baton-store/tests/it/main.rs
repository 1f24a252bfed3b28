//! The integration tests of `baton-store`, linked as one binary (`--test it`)
//! instead of one binary per file: each former `tests/<name>.rs` is the
//! module `<name>`, so its tests run as `<name>::<test>` and a suite is
//! picked with a filter: `cargo test -p baton-store --test it -- <name>::`.

mod access;
mod cadences;
mod conformance;
mod group_commit;
mod incidents;
mod integrations;
mod scorecards;
mod sops;
