//! Integration tests of MailFlow defence: detection through `carteiro
//! import`, the policy daemon against a real database (SQLite, or
//! PostgreSQL when `CARTEIRO_TEST_DATABASE_URL` is set), hostile clients,
//! and a real Postfix that asks it at RCPT time.

#[path = "../common/mod.rs"]
mod common;
mod demo;
mod detect;
mod distributed;
mod helpers;
#[path = "../common/mailhost.rs"]
mod mailhost;
mod policyd;
mod postfix;
mod refused;
