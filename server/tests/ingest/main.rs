//! Integration tests of MailFlow ingest: `carteiro import` into a real
//! database (SQLite, or PostgreSQL when `CARTEIRO_TEST_DATABASE_URL` is set),
//! kill -9 at any moment, and the live worker across log rotation.

mod backup;
mod bulk;
#[path = "../common/mod.rs"]
mod common;
mod crash;
mod helpers;
mod import;
mod month_bench;
mod parallel;
mod partitions;
mod retention;
mod roles;
mod rotation;
mod trace;
mod unclassified;
mod warnings;
