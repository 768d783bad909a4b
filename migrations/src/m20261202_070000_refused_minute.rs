//! The "refused by blocks" series (issue 18): how many policy requests the
//! policy daemon answered REJECT, per minute and per kind of block
//! (`ip` or `account`). The daemon counts in memory and adds its counts
//! here every few seconds (`defence.refresh_secs`), so the Charts page can
//! show the effect of a block at a glance.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(DefenceRefusedMinute::Table)
            .if_not_exists()
            .col(
                ColumnDef::new(DefenceRefusedMinute::Minute)
                    .big_integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(DefenceRefusedMinute::Kind)
                    .string_len(16)
                    .not_null(),
            )
            .col(
                ColumnDef::new(DefenceRefusedMinute::N)
                    .big_integer()
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(DefenceRefusedMinute::Minute)
                    .col(DefenceRefusedMinute::Kind),
            );
        if manager.get_database_backend() == DbBackend::Sqlite {
            // Read by range of its key only.
            t.extra("WITHOUT ROWID");
        }
        manager.create_table(t).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DefenceRefusedMinute::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DefenceRefusedMinute {
    Table,
    Minute,
    Kind,
    N,
}
