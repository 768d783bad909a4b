//! Evidence worth approving (issue 17): a proposal keeps when its subject's
//! attack *started* (`started_at`: its first event seen, before any
//! threshold was crossed) and every distinct value detection read from its
//! log lines, one row each in `defence_proposal_detail`: client IPs,
//! recipients, HELO names and reverse names (`list`), at most 10,000 per
//! list (the application caps them), so the pages can page through them.
//! `details_more` is a JSON object: list → how many more values were seen
//! beyond the cap.
//!
//! The new columns are nullable: proposals stored before this migration
//! have neither, and the pages fall back to `first_seen` and empty lists.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(DefenceProposal::Table)
                    .add_column(big_integer_null(DefenceProposal::StartedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DefenceProposal::Table)
                    .add_column(text_null(DefenceProposal::DetailsMore))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DefenceProposalDetail::Table)
                    .if_not_exists()
                    .col(big_integer(DefenceProposalDetail::ProposalId))
                    // `ips`, `recipients`, `helos`, `client_names`.
                    .col(string_len(DefenceProposalDetail::List, 16))
                    .col(string_len(DefenceProposalDetail::Value, 320))
                    .primary_key(
                        Index::create()
                            .col(DefenceProposalDetail::ProposalId)
                            .col(DefenceProposalDetail::List)
                            .col(DefenceProposalDetail::Value),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(DefenceProposalDetail::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        for col in [DefenceProposal::DetailsMore, DefenceProposal::StartedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DefenceProposal::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DefenceProposal {
    Table,
    StartedAt,
    DetailsMore,
}

#[derive(DeriveIden)]
enum DefenceProposalDetail {
    Table,
    ProposalId,
    List,
    Value,
}
