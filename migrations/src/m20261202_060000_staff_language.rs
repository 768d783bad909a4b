//! Each staff member's own language (issue 18): `staff_user.language`,
//! `pt-BR` or `en`, null until they choose one under *Your account* (then
//! the browser's `Accept-Language` and `server.default_language` decide).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUser::Table)
                    .add_column(string_len_null(StaffUser::Language, 8))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUser::Table)
                    .drop_column(StaffUser::Language)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum StaffUser {
    Table,
    Language,
}
