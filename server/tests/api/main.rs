//! Integration tests: the whole portal, started as `carteiro serve` starts
//! it (`server::start::start`: purge, policy daemon and HTTP server, on
//! ephemeral ports), with a fresh database per test: SQLite by default, a
//! new PostgreSQL database when `CARTEIRO_TEST_DATABASE_URL` names a
//! PostgreSQL server (`make test` runs this binary both ways).

mod admin_pages;
mod audit;
mod auth;
mod cli;
#[path = "../common/mod.rs"]
mod common;
mod csrf;
mod csv_brazil;
mod decision_races;
mod defence;
mod edge;
mod evidence;
mod health;
mod helpers;
mod import_jobs;
mod language;
mod mailgraph;
mod messages;
mod never_block;
mod no_wasm;
mod provision;
mod provision_input;
mod provision_races;
mod report_filter_relays;
mod report_zone;
mod role_matrix;
mod search;
mod ssr;
mod staff;
mod support;
mod throttle;
mod trace;
mod unclassified;
mod whatif;
