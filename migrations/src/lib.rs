//! Carteiro's database schema as ordered sea-orm migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL
//! (production); `carteiro serve` and `carteiro migrate` apply whatever is
//! pending, so a database is always at the schema of the binary that opens it.
//! Each migration lives in its own `mYYYYMMDD_HHMMSS_<what>.rs` file with an
//! `up` and a `down`.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_staff_sessions_audit;
mod m20261128_000002_mailflow;
mod m20261129_000003_message_hour_keys;
mod m20261129_000004_defence;
mod m20261129_000005_provisioning;
mod m20261129_000006_mailgraph;
mod m20261201_220000_import_jobs;
mod m20261202_030000_detect_networks_alerts;
mod m20261202_030000_evidence_proposal_detail;
mod m20261202_030000_rules_unclassified;
mod m20261202_060000_staff_language;
mod m20261202_070000_import_fingerprint;
mod m20261202_070000_refused_minute;
mod m20261202_070000_search_words;
mod m20261202_090000_recipient_index;
mod m20261202_120000_day_partitions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_staff_sessions_audit::Migration),
            Box::new(m20261128_000002_mailflow::Migration),
            Box::new(m20261129_000003_message_hour_keys::Migration),
            Box::new(m20261129_000004_defence::Migration),
            Box::new(m20261129_000005_provisioning::Migration),
            Box::new(m20261129_000006_mailgraph::Migration),
            Box::new(m20261201_220000_import_jobs::Migration),
            Box::new(m20261202_030000_rules_unclassified::Migration),
            Box::new(m20261202_030000_detect_networks_alerts::Migration),
            Box::new(m20261202_030000_evidence_proposal_detail::Migration),
            Box::new(m20261202_060000_staff_language::Migration),
            Box::new(m20261202_070000_import_fingerprint::Migration),
            Box::new(m20261202_070000_refused_minute::Migration),
            Box::new(m20261202_070000_search_words::Migration),
            Box::new(m20261202_090000_recipient_index::Migration),
            Box::new(m20261202_120000_day_partitions::Migration),
        ]
    }
}
