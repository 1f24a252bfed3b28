//! The integration tests of `baton-server`, linked as one binary (`--test it`)
//! instead of one binary per file: each former `tests/<name>.rs` is the
//! module `<name>`, so its tests run as `<name>::<test>` and a suite is
//! picked with a filter: `cargo test -p baton-server --test it -- <name>::`.

mod api_access;
mod api_agency;
mod api_bad_input;
mod api_cadences;
mod api_calendar;
mod api_clients;
mod api_content;
mod api_content_approval;
mod api_content_settings;
mod api_conventions;
mod api_events;
mod api_handoff;
mod api_incidents;
mod api_integrations;
mod api_kpis;
mod api_members;
mod api_onboarding;
mod api_scorecard;
mod api_sops;
mod api_tokens;
mod approval_link;
mod calendar_feeds;
mod common;
mod connectors;
mod content_files;
mod custom_domains;
mod email;
mod hardening;
mod portal;
mod web_access;
mod web_access_pages;
mod web_cadences;
mod web_calendar;
mod web_connections;
mod web_content;
mod web_content_metrics;
mod web_handoff;
mod web_incidents;
mod web_integrations;
mod web_numbers;
mod web_pages;
mod web_scorecard;
mod web_sops;
