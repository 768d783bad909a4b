//! Message-trace lookups keyed by the hour instead of the day.
//!
//! At the ISP's volume a day holds about two million messages, so the part
//! of a `(first_day, hash)` index that one day's inserts land on (randomly,
//! by hash) is some 60 MB per index: more than the database's page cache,
//! and every insert read a page back from disk. An hour's part is a few
//! megabytes and stays cached. A lookup that does not know the time now
//! probes one hour at a time: `first_hour IN (…) AND msgid_hash = ?`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The lookups the message trace needs, by name and column.
const INDEXES: [(&str, MailMessage); 3] = [
    ("qid", MailMessage::QueueId),
    ("msgid", MailMessage::MsgidHash),
    ("sender", MailMessage::SenderHash),
];

/// A time bucket a message is filed under: its column, the index name part
/// and the bucket's length in seconds.
struct Bucket {
    col: MailMessage,
    name: &'static str,
    seconds: i64,
}

const DAY: Bucket = Bucket {
    col: MailMessage::FirstDay,
    name: "day",
    seconds: 86_400,
};
const HOUR: Bucket = Bucket {
    col: MailMessage::FirstHour,
    name: "hour",
    seconds: 3600,
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, DAY, HOUR).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, HOUR, DAY).await
    }
}

/// Files every message under the `to` bucket (a new column, filled from
/// `first_at`), moves the lookup indexes onto it and drops the `from`
/// column.
async fn rekey(manager: &SchemaManager<'_>, from: Bucket, to: Bucket) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(MailMessage::Table)
                .add_column(ColumnDef::new(to.col).big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
    manager
        .exec_stmt(
            Query::update()
                .table(MailMessage::Table)
                .value(to.col, Expr::col(MailMessage::FirstAt).div(to.seconds))
                .to_owned(),
        )
        .await?;
    for (what, col) in INDEXES {
        manager
            .drop_index(
                Index::drop()
                    .name(format!("idx_mail_message_{}_{what}", from.name))
                    .table(MailMessage::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(format!("idx_mail_message_{}_{what}", to.name))
                    .table(MailMessage::Table)
                    .col(to.col)
                    .col(col)
                    .to_owned(),
            )
            .await?;
    }
    manager
        .alter_table(
            Table::alter()
                .table(MailMessage::Table)
                .drop_column(from.col)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum MailMessage {
    Table,
    FirstAt,
    FirstDay,
    FirstHour,
    QueueId,
    MsgidHash,
    SenderHash,
}
