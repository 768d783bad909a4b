//! Name search by any word (issue 18): `mailbox_word (word, mailbox_id)`
//! holds each word of every mailbox's name, folded as its `name_key` is
//! (lower case, accents dropped), so `pereira` finds "João Pereira" with a
//! prefix range on the word index instead of a scan. The portal keeps it
//! up to date whenever a mailbox is created, renamed or purged; this
//! migration fills it for the mailboxes already there.

use sea_orm_migration::sea_orm::{DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Mailboxes read (and their words written) per round of the fill.
const BATCH: u64 = 1000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut word = string_len(MailboxWord::Word, 200);
        if backend == DbBackend::Postgres {
            // Prefix ranges compare byte-wise, as the other search keys do.
            word.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(MailboxWord::Table)
                    .if_not_exists()
                    .col(word)
                    .col(big_integer(MailboxWord::MailboxId))
                    .primary_key(
                        Index::create()
                            .col(MailboxWord::Word)
                            .col(MailboxWord::MailboxId),
                    )
                    .to_owned(),
            )
            .await?;
        // The words of one mailbox: replaced on a rename, checked for the
        // other words of a query, removed on a purge.
        manager
            .create_index(
                Index::create()
                    .name("idx_mailbox_word_mailbox")
                    .table(MailboxWord::Table)
                    .col(MailboxWord::MailboxId)
                    .col(MailboxWord::Word)
                    .to_owned(),
            )
            .await?;
        fill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(MailboxWord::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// Words for every mailbox, read by id in batches.
async fn fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut after = 0i64;
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT id, name_key FROM mailbox WHERE id > $1 ORDER BY id LIMIT {BATCH}"),
                [after.into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "id")?;
        let mut pairs = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let key: String = row.try_get("", "name_key")?;
            pairs.extend(words(&key).into_iter().map(|w| (w, id)));
        }
        // Within every database's limit of bound values per statement.
        for chunk in pairs.chunks(5000) {
            let mut insert = Query::insert();
            insert
                .into_table(MailboxWord::Table)
                .columns([MailboxWord::Word, MailboxWord::MailboxId]);
            for (w, id) in chunk {
                insert.values_panic([Expr::val(w.as_str()), Expr::val(*id)]);
            }
            db.execute(&insert).await?;
        }
    }
}

/// The words of a `name_key`: its runs of letters and digits, each once.
/// The portal splits names by the same rule
/// (`app::server::provision::search::name_words`); a migration keeps its
/// own copy, as the rule it filled the table by.
fn words(key: &str) -> Vec<String> {
    let mut out: Vec<String> = key
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[derive(DeriveIden)]
enum MailboxWord {
    Table,
    Word,
    MailboxId,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_splits_at_anything_but_letters_and_digits() {
        assert_eq!(
            super::words("maria-jose d'avila silva silva 2"),
            ["2", "avila", "d", "jose", "maria", "silva"]
        );
    }
}
