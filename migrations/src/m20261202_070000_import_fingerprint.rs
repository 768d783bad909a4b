//! The fingerprint of an imported file (issue 18): `import_job.fingerprint`,
//! the SHA-256 of the file's bytes (hex). An import from the portal names
//! the fingerprint of its preview and runs only after a preview of the same
//! file by the same staff member that had no errors.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJob::Table)
                    .add_column(string_len_null(ImportJob::Fingerprint, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ImportJob::Table)
                    .drop_column(ImportJob::Fingerprint)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ImportJob {
    Table,
    Fingerprint,
}
