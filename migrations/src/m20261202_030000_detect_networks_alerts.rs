//! Issue 17 items 4 and 6: detection by client network, the networks never
//! blocked, and alerts.
//!
//! `defence_policy.per_network` makes a policy count per /24 (IPv4) or /48
//! (IPv6) client network instead of per address. `defence_never_block`
//! holds the networks an admin listed as never to be blocked: detection
//! never proposes inside them and no block inside them is accepted.
//! `defence_alert` holds the alerts raised when the whole server's SASL
//! failures or rejects of one class are far above their usual rate: one
//! open alert per kind, updated while it lasts, until an analyst
//! acknowledges it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DefencePolicy::Table)
                    .add_column(boolean(DefencePolicy::PerNetwork).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DefenceNeverBlock::Table)
                    .if_not_exists()
                    .col(pk_auto(DefenceNeverBlock::Id))
                    // A CIDR network in its canonical form.
                    .col(string_len(DefenceNeverBlock::Network, 64).unique_key())
                    .col(string_len(DefenceNeverBlock::Note, 500))
                    .col(string_len(DefenceNeverBlock::CreatedBy, 128))
                    .col(big_integer(DefenceNeverBlock::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DefenceAlert::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DefenceAlert::Id))
                    // `sasl_failures` or `reject.<class>`.
                    .col(string_len(DefenceAlert::Kind, 128))
                    .col(big_integer(DefenceAlert::Since))
                    .col(big_integer(DefenceAlert::LastSeen))
                    // The highest count in one window, and the usual count.
                    .col(big_integer(DefenceAlert::Count))
                    .col(double(DefenceAlert::Usual))
                    .col(big_integer(DefenceAlert::WindowMinutes))
                    // open or acknowledged.
                    .col(string_len(DefenceAlert::Status, 16))
                    .col(string_len_null(DefenceAlert::AcknowledgedBy, 128))
                    .col(big_integer_null(DefenceAlert::AcknowledgedAt))
                    .col(big_integer(DefenceAlert::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("defence_alert_kind_status")
                    .table(DefenceAlert::Table)
                    .col(DefenceAlert::Kind)
                    .col(DefenceAlert::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(DefenceAlert::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(DefenceNeverBlock::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DefencePolicy::Table)
                    .drop_column(DefencePolicy::PerNetwork)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum DefencePolicy {
    Table,
    PerNetwork,
}

#[derive(DeriveIden)]
enum DefenceNeverBlock {
    Table,
    Id,
    Network,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DefenceAlert {
    Table,
    Id,
    Kind,
    Since,
    LastSeen,
    Count,
    Usual,
    WindowMinutes,
    Status,
    AcknowledgedBy,
    AcknowledgedAt,
    UpdatedAt,
}
