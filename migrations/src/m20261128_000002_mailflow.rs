//! MailFlow storage: per-minute counters per (host, series), per-hour
//! counters per client IP and SASL account, one trace row per message, the
//! ingest checkpoint of each log source, and the reject classification rules.
//!
//! Times are Unix seconds (UTC) in `BIGINT` columns: the ingest engine
//! writes them in bulk and the charts bucket them with integer arithmetic.
//!
//! Every key and index starts with time (the hour, the day, the first
//! second), so the rows of a day's ~20 million log lines land at the end of
//! their B-trees, in the database's cache, instead of on random pages of a
//! structure far larger than any cache. A lookup that does not know the time
//! (a message-id, a sender, a queue id) probes one day at a time:
//! `first_day IN (…) AND msgid_hash = ?`, then compares the text itself.
//! (m20261129_000003 narrowed the day to the hour.)

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The counter tables are looked up and updated only by their key:
        // on SQLite, store their rows in the key's B-tree itself.
        let clustered = |t: &mut TableCreateStatement| {
            if manager.get_database_backend() == DbBackend::Sqlite {
                t.extra("WITHOUT ROWID");
            }
        };
        let mut minute = Table::create();
        minute
            .table(MailMinute::Table)
            .if_not_exists()
            .col(string_len(MailMinute::Host, 255))
            .col(big_integer(MailMinute::Minute))
            .col(string_len(MailMinute::Series, 96))
            .col(big_integer(MailMinute::N))
            .primary_key(
                Index::create()
                    .col(MailMinute::Minute)
                    .col(MailMinute::Host)
                    .col(MailMinute::Series),
            );
        clustered(&mut minute);
        manager.create_table(minute).await?;

        let mut subject = Table::create();
        subject
            .table(MailSubjectHour::Table)
            .if_not_exists()
            .col(string_len(MailSubjectHour::Kind, 16))
            .col(string_len(MailSubjectHour::Subject, 320))
            .col(big_integer(MailSubjectHour::Hour))
            .col(string_len(MailSubjectHour::Series, 96))
            .col(big_integer(MailSubjectHour::N))
            .primary_key(
                Index::create()
                    .col(MailSubjectHour::Kind)
                    .col(MailSubjectHour::Hour)
                    .col(MailSubjectHour::Subject)
                    .col(MailSubjectHour::Series),
            );
        clustered(&mut subject);
        manager.create_table(subject).await?;

        manager
            .create_table(
                Table::create()
                    .table(MailMessage::Table)
                    .if_not_exists()
                    .col(big_pk_auto(MailMessage::Id))
                    .col(string_len(MailMessage::Host, 255))
                    .col(string_len(MailMessage::QueueId, 32))
                    .col(big_integer(MailMessage::FirstAt))
                    // first_at / 86400: the day the message is filed under.
                    .col(integer(MailMessage::FirstDay))
                    .col(big_integer(MailMessage::LastAt))
                    .col(string_len(MailMessage::Origin, 16))
                    .col(string_len_null(MailMessage::ClientName, 255))
                    .col(string_len_null(MailMessage::ClientIp, 64))
                    .col(string_len_null(MailMessage::SaslMethod, 32))
                    .col(string_len_null(MailMessage::SaslUsername, 320))
                    .col(text_null(MailMessage::MessageId))
                    .col(string_len_null(MailMessage::Sender, 320))
                    // FNV-1a of the lower-cased message-id and sender
                    // (app::server::mailflow::key_hash): short index keys.
                    .col(big_integer_null(MailMessage::MsgidHash))
                    .col(big_integer_null(MailMessage::SenderHash))
                    .col(big_integer_null(MailMessage::Size))
                    .col(integer_null(MailMessage::Nrcpt))
                    .col(string_len_null(MailMessage::Verdict, 16))
                    .col(text_null(MailMessage::Reject))
                    // JSON array of each recipient's latest outcome.
                    .col(text(MailMessage::Recipients))
                    // The recipients' addresses, lower case, space separated:
                    // what a search by address looks in.
                    .col(text(MailMessage::RcptAddrs))
                    .col(boolean(MailMessage::Removed))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            // What the ingest engine updates a message by.
            (
                "uq_mail_message_first_host_qid",
                &[
                    MailMessage::FirstAt,
                    MailMessage::Host,
                    MailMessage::QueueId,
                ][..],
            ),
            (
                "idx_mail_message_day_qid",
                &[MailMessage::FirstDay, MailMessage::QueueId][..],
            ),
            (
                "idx_mail_message_day_msgid",
                &[MailMessage::FirstDay, MailMessage::MsgidHash][..],
            ),
            (
                "idx_mail_message_day_sender",
                &[MailMessage::FirstDay, MailMessage::SenderHash][..],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(MailMessage::Table);
            for c in cols {
                index.col(c.clone());
            }
            if name.starts_with("uq_") {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IngestCheckpoint::Table)
                    .if_not_exists()
                    .col(string_len(IngestCheckpoint::Source, 512).primary_key())
                    // What the bytes at `offset` belong to: a fingerprint of
                    // the file's first line (survives renames).
                    .col(string_len(IngestCheckpoint::FileId, 128))
                    // The path it was last read from, for people.
                    .col(string_len(IngestCheckpoint::Path, 1024))
                    .col(big_integer(IngestCheckpoint::Offset))
                    .col(integer(IngestCheckpoint::Year))
                    .col(integer(IngestCheckpoint::LastMonth))
                    .col(big_integer(IngestCheckpoint::Lines))
                    .col(big_integer_null(IngestCheckpoint::LastLogAt))
                    .col(big_integer(IngestCheckpoint::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MailRejectRule::Table)
                    .if_not_exists()
                    .col(pk_auto(MailRejectRule::Id))
                    .col(integer(MailRejectRule::Position))
                    .col(string_len(MailRejectRule::Class, 64))
                    .col(text(MailRejectRule::Pattern))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MailRejectRule::Table.into_iden(),
            IngestCheckpoint::Table.into_iden(),
            MailMessage::Table.into_iden(),
            MailSubjectHour::Table.into_iden(),
            MailMinute::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MailMinute {
    Table,
    Host,
    Minute,
    Series,
    N,
}

#[derive(DeriveIden)]
enum MailSubjectHour {
    Table,
    Kind,
    Subject,
    Hour,
    Series,
    N,
}

#[derive(DeriveIden, Clone)]
enum MailMessage {
    Table,
    Id,
    Host,
    QueueId,
    FirstAt,
    FirstDay,
    LastAt,
    Origin,
    ClientName,
    ClientIp,
    SaslMethod,
    SaslUsername,
    MessageId,
    Sender,
    MsgidHash,
    SenderHash,
    Size,
    Nrcpt,
    Verdict,
    Reject,
    Recipients,
    RcptAddrs,
    Removed,
}

#[derive(DeriveIden)]
enum IngestCheckpoint {
    Table,
    Source,
    FileId,
    Path,
    Offset,
    Year,
    LastMonth,
    Lines,
    LastLogAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailRejectRule {
    Table,
    Id,
    Position,
    Class,
    Pattern,
}
