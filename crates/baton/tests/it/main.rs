//! The integration tests of `baton`, linked as one binary (`--test it`)
//! instead of one binary per file: each former `tests/<name>.rs` is the
//! module `<name>`, so its tests run as `<name>::<test>` and a suite is
//! picked with a filter: `cargo test -p baton --test it -- <name>::`.

mod browser;
mod cli;
mod cli_sop;
mod cluster;
mod common;
mod crash;
