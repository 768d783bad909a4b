//! CSV imports run as background jobs: `import_job` holds each job's state
//! and progress, so any portal replica (or the same one after a restart)
//! can answer how it went. A job still `running` whose `updated_at` has not
//! moved for a while was interrupted (its server stopped) and reads as
//! failed; the rows it had applied stay, each complete and audited.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportJob::Table)
                    .if_not_exists()
                    .col(pk_auto(ImportJob::Id))
                    // Keys the job's generated passwords in the memory of
                    // the server running it (they are never stored here).
                    .col(string_len(ImportJob::Nonce, 32))
                    // Who started it: staff id (none for an API token) and name.
                    .col(integer_null(ImportJob::StaffId))
                    .col(string_len(ImportJob::StartedBy, 128))
                    .col(boolean(ImportJob::DryRun))
                    // running, done or failed.
                    .col(string_len(ImportJob::Status, 16))
                    .col(integer(ImportJob::Total))
                    .col(integer(ImportJob::Done))
                    .col(integer(ImportJob::Errors))
                    .col(integer(ImportJob::Applied))
                    .col(text_null(ImportJob::Message))
                    // The rows' results as JSON, once finished (never a password).
                    .col(text_null(ImportJob::Result))
                    .col(timestamp_with_time_zone(ImportJob::CreatedAt))
                    .col(timestamp_with_time_zone(ImportJob::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportJob::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ImportJob {
    Table,
    Id,
    Nonce,
    StaffId,
    StartedBy,
    DryRun,
    Status,
    Total,
    Done,
    Errors,
    Applied,
    Message,
    Result,
    CreatedAt,
    UpdatedAt,
}
