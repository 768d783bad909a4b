//! MailFlow defence: the detection policies the security team tunes, the
//! block proposals they fire, the blocks the team approved, and the
//! allowlist that is never proposed. Times are Unix seconds, as in the
//! MailFlow tables.
//!
//! Two views let Postfix read the active blocks straight from the database
//! (`check_client_access sqlite:/pgsql:` and `check_sasl_access`):
//! `postfix_client_access (client, action)` and
//! `postfix_sasl_access (username, action)`.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DefencePolicy::Table)
                    .if_not_exists()
                    .col(pk_auto(DefencePolicy::Id))
                    .col(string_len_uniq(DefencePolicy::Name, 64))
                    .col(text(DefencePolicy::Description))
                    // `ip` or `account`.
                    .col(string_len(DefencePolicy::Subject, 16))
                    // What is counted: `reject` (of `reject_class`, or any),
                    // `sasl_failures`, `messages`, `recipients`,
                    // `distinct_recipients`, `distinct_ips`, `bounces`.
                    .col(string_len(DefencePolicy::Metric, 32))
                    .col(string_len_null(DefencePolicy::RejectClass, 64))
                    .col(integer(DefencePolicy::WindowMinutes))
                    .col(big_integer(DefencePolicy::Threshold))
                    // Fires only when the window's count is also this many
                    // times the subject's own usual count (a burst).
                    .col(double_null(DefencePolicy::BurstFactor))
                    .col(integer(DefencePolicy::BlockMinutes))
                    .col(boolean(DefencePolicy::Enabled))
                    // Proposals of this policy are approved without review.
                    .col(boolean(DefencePolicy::AutoApprove))
                    .col(big_integer(DefencePolicy::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DefenceProposal::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DefenceProposal::Id))
                    .col(string_len(DefenceProposal::Subject, 16))
                    .col(string_len(DefenceProposal::Target, 320))
                    .col(string_len(DefenceProposal::Policy, 64))
                    // `pending`, `approved`, `rejected`, `expired`.
                    .col(string_len(DefenceProposal::Status, 16))
                    // JSON object: reason → count.
                    .col(text(DefenceProposal::Reasons))
                    .col(big_integer(DefenceProposal::Score))
                    .col(big_integer(DefenceProposal::FirstSeen))
                    .col(big_integer(DefenceProposal::LastSeen))
                    .col(integer(DefenceProposal::DistinctIps))
                    .col(integer(DefenceProposal::DistinctRecipients))
                    // JSON array of up to 20 log lines.
                    .col(text(DefenceProposal::Samples))
                    .col(big_integer(DefenceProposal::CreatedAt))
                    .col(big_integer(DefenceProposal::UpdatedAt))
                    .col(string_len_null(DefenceProposal::DecidedBy, 64))
                    .col(big_integer_null(DefenceProposal::DecidedAt))
                    .col(text_null(DefenceProposal::DecisionReason))
                    // A rejected proposal is not made again before this.
                    .col(big_integer_null(DefenceProposal::SuppressUntil))
                    .col(big_integer_null(DefenceProposal::BlockId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_defence_proposal_target",
            DefenceProposal::Table,
            [DefenceProposal::Subject, DefenceProposal::Target],
        )
        .await?;
        index(
            manager,
            "idx_defence_proposal_status",
            DefenceProposal::Table,
            [DefenceProposal::Status, DefenceProposal::UpdatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DefenceBlock::Table)
                    .if_not_exists()
                    .col(big_pk_auto(DefenceBlock::Id))
                    .col(string_len(DefenceBlock::Subject, 16))
                    // An IP address, a CIDR network or an account.
                    .col(string_len(DefenceBlock::Target, 320))
                    .col(big_integer_null(DefenceBlock::ProposalId))
                    .col(text(DefenceBlock::Reason))
                    .col(string_len(DefenceBlock::ApprovedBy, 64))
                    .col(big_integer(DefenceBlock::ApprovedAt))
                    .col(big_integer(DefenceBlock::ExpiresAt))
                    .col(string_len_null(DefenceBlock::LiftedBy, 64))
                    .col(big_integer_null(DefenceBlock::LiftedAt))
                    // Connections or requests it refused.
                    .col(big_integer(DefenceBlock::Hits).default(0))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_defence_block_target",
            DefenceBlock::Table,
            [DefenceBlock::Subject, DefenceBlock::Target],
        )
        .await?;
        index(
            manager,
            "idx_defence_block_expires",
            DefenceBlock::Table,
            [DefenceBlock::ExpiresAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DefenceAllow::Table)
                    .if_not_exists()
                    .col(pk_auto(DefenceAllow::Id))
                    // `ip` (an address or CIDR network) or `account`.
                    .col(string_len(DefenceAllow::Subject, 16))
                    .col(string_len(DefenceAllow::Target, 320))
                    .col(text(DefenceAllow::Note))
                    .col(string_len(DefenceAllow::CreatedBy, 64))
                    .col(big_integer(DefenceAllow::CreatedAt))
                    .to_owned(),
            )
            .await?;

        let now = match manager.get_database_backend() {
            DbBackend::Postgres => "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
            _ => "CAST(strftime('%s', 'now') AS INTEGER)",
        };
        let db = manager.get_connection();
        for (view, key, subject) in [
            ("postfix_client_access", "client", "ip"),
            ("postfix_sasl_access", "username", "account"),
        ] {
            db.execute_unprepared(&format!(
                "CREATE VIEW {view} AS \
                 SELECT target AS {key}, \
                 'REJECT blocked by the abuse team (block ' || id || ')' AS action \
                 FROM defence_block \
                 WHERE subject = '{subject}' AND lifted_at IS NULL AND expires_at > {now}"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for view in ["postfix_client_access", "postfix_sasl_access"] {
            db.execute_unprepared(&format!("DROP VIEW IF EXISTS {view}"))
                .await?;
        }
        for table in [
            DefenceAllow::Table.into_iden(),
            DefenceBlock::Table.into_iden(),
            DefenceProposal::Table.into_iden(),
            DefencePolicy::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T: IntoIden, C: IntoIden, const N: usize>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: [C; N],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for c in cols {
        index.col(c);
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden)]
enum DefencePolicy {
    Table,
    Id,
    Name,
    Description,
    Subject,
    Metric,
    RejectClass,
    WindowMinutes,
    Threshold,
    BurstFactor,
    BlockMinutes,
    Enabled,
    AutoApprove,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DefenceProposal {
    Table,
    Id,
    Subject,
    Target,
    Policy,
    Status,
    Reasons,
    Score,
    FirstSeen,
    LastSeen,
    DistinctIps,
    DistinctRecipients,
    Samples,
    CreatedAt,
    UpdatedAt,
    DecidedBy,
    DecidedAt,
    DecisionReason,
    SuppressUntil,
    BlockId,
}

#[derive(DeriveIden)]
enum DefenceBlock {
    Table,
    Id,
    Subject,
    Target,
    ProposalId,
    Reason,
    ApprovedBy,
    ApprovedAt,
    ExpiresAt,
    LiftedBy,
    LiftedAt,
    Hits,
}

#[derive(DeriveIden)]
enum DefenceAllow {
    Table,
    Id,
    Subject,
    Target,
    Note,
    CreatedBy,
    CreatedAt,
}
