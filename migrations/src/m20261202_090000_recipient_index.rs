//! The recipient index of the message trace (issue 19): `mail_recipient`
//! holds one row per (message, recipient address), so "the mail to X in
//! the last 7 days" probes an index instead of reading every message of
//! the window.
//!
//! `hash` is the 64-bit FNV-1a hash of the lower-cased address (the rule of
//! `mail_message.msgid_hash` and `sender_hash`: `app::server::ingest_status::key_hash`;
//! stable across builds and machines, unlike Rust's randomised hasher). Two
//! addresses may share a hash: the trace compares every message it finds
//! through the index with the address itself.
//!
//! Like every MailFlow key, the primary key starts with time (the hour the
//! message was first seen in, `first_at / 3600`), so a day's inserts land at
//! the end of the B-tree, and a search probes `first_hour IN (…) AND hash =
//! ?`. `first_at` is the message's own, so the rows of a time range delete
//! with it (`first_hour <= t / 3600 AND first_at < t`). `message_id` is the
//! message's `mail_message.id`.
//!
//! The ingest engine writes the rows in the transaction that writes their
//! messages. This migration fills the table for the messages already
//! stored, reading them by id in rounds of [`BATCH`] (bounded memory).

use sea_orm_migration::sea_orm::{DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Messages read (and their recipients written) per round of the fill.
const BATCH: u64 = 5000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create();
        t.table(MailRecipient::Table)
            .if_not_exists()
            .col(big_integer(MailRecipient::FirstHour))
            .col(big_integer(MailRecipient::Hash))
            .col(big_integer(MailRecipient::FirstAt))
            .col(big_integer(MailRecipient::MessageId))
            .primary_key(
                Index::create()
                    .col(MailRecipient::FirstHour)
                    .col(MailRecipient::Hash)
                    .col(MailRecipient::FirstAt)
                    .col(MailRecipient::MessageId),
            );
        if manager.get_database_backend() == DbBackend::Sqlite {
            // Read by its key only: the rows are the key's B-tree.
            t.extra("WITHOUT ROWID");
        }
        manager.create_table(t).await?;
        fill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(MailRecipient::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// Index rows for every stored message, read by id in batches.
async fn fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut after = 0i64;
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, first_at, rcpt_addrs FROM mail_message \
                     WHERE id > $1 ORDER BY id LIMIT {BATCH}"
                ),
                [after.into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        let mut index = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let first_at: i64 = row.try_get("", "first_at")?;
            let addrs: String = row.try_get("", "rcpt_addrs")?;
            let mut hashes: Vec<i64> = addrs
                .split(' ')
                .filter(|a| !a.is_empty())
                .map(hash)
                .collect();
            hashes.sort_unstable();
            hashes.dedup();
            index.extend(
                hashes
                    .into_iter()
                    .map(|h| (first_at.div_euclid(3600), h, first_at, id)),
            );
        }
        index.sort_unstable();
        // Within every database's limit of bound values per statement.
        for chunk in index.chunks(2000) {
            let mut insert = Query::insert();
            insert
                .into_table(MailRecipient::Table)
                .columns([
                    MailRecipient::FirstHour,
                    MailRecipient::Hash,
                    MailRecipient::FirstAt,
                    MailRecipient::MessageId,
                ])
                .on_conflict(OnConflict::new().do_nothing().to_owned());
            for &(hour, h, first_at, id) in chunk {
                insert.values_panic([hour.into(), h.into(), first_at.into(), id.into()]);
            }
            db.execute(&insert).await?;
        }
    }
}

/// FNV-1a (64 bits) of the lower-cased address, as a signed integer. The
/// engine hashes by the same rule (`app::server::ingest_status::key_hash`);
/// a migration keeps its own copy, as the rule it filled the table by.
/// `mail_message.rcpt_addrs` is already lower case; lowering again is
/// harmless.
fn hash(address: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in address.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

#[derive(DeriveIden)]
enum MailRecipient {
    Table,
    FirstHour,
    Hash,
    FirstAt,
    MessageId,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_is_fnv1a_of_the_lower_cased_address() {
        // The published FNV-1a test vector for "a".
        assert_eq!(super::hash("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::hash("Ana@X.com"), super::hash("ana@x.com"));
    }
}
