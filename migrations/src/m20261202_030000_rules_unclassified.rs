//! Reject classes for the security team (issue 17): the new default rules
//! reach databases whose `mail_reject_rule` was seeded before them, and
//! `mail_unclassified` holds the rejects no rule classified, by normalised
//! text, for the "Unclassified rejects" page.
//!
//! The new rules are inserted where the defaults have them: each before
//! the first rule whose class follows it in the defaults (`sender_unknown`
//! before `unknown_user`, `server` before `sender_denied` or, that one
//! deleted, `sender_other`…), or at the end when none is there. A class already present (an admin made it) is
//! left alone: no rule an admin wrote or changed is touched; only the
//! positions after an insertion move down by one. An empty table is left
//! empty: the server seeds it from the defaults at first use.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The default classes in their order since issue 17.
const ORDER: [&str; 15] = [
    "sender_unknown",
    "unknown_user",
    "relay",
    "domain",
    "not_logged",
    "not_owned",
    "spf",
    "server",
    "sender_denied",
    "sender_other",
    "recipient_denied",
    "rate",
    "rbl",
    "reverse_dns",
    "helo",
];

/// The new default rules as issue 17 added them. A copy, not `mailflow`'s
/// constant: a migration stays what it was when it ran.
const NEW_RULES: [(&str, &str); 5] = [
    ("sender_unknown", r"Sender address rejected: User unknown"),
    (
        "server",
        r"Insufficient system storage|Temporary lookup (failure|error)|Server configuration (error|problem)|queue file write error|Server local (data )?error|Mail system error|TLS not available due to local problem|Service unavailable - try again later",
    ),
    (
        "recipient_denied",
        r"(?i)Recipient address rejected: Access denied",
    ),
    (
        "reverse_dns",
        r"(?i)Client host rejected: cannot find your (reverse )?hostname",
    ),
    ("helo", r"(?i)Helo command rejected"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailUnclassified::Table)
                    .if_not_exists()
                    .col(pk_auto(MailUnclassified::Id))
                    // The normalised reply (at most 400 bytes).
                    .col(string_len_uniq(MailUnclassified::Text, 512))
                    .col(big_integer(MailUnclassified::N))
                    .col(big_integer(MailUnclassified::FirstAt))
                    .col(big_integer(MailUnclassified::LastAt))
                    // A few raw lines, one per line.
                    .col(text(MailUnclassified::Samples))
                    // The class of the rule saved from it, once there is one.
                    .col(string_len_null(MailUnclassified::ClassifiedAs, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_unclassified_n")
                    .table(MailUnclassified::Table)
                    .col(MailUnclassified::N)
                    .to_owned(),
            )
            .await?;
        insert_new_rules(manager).await?;
        // One rule per class (a class is one series): two analysts saving
        // the same new class at once get one rule and one refusal.
        manager
            .create_index(
                Index::create()
                    .name("mail_reject_rule_class")
                    .table(MailRejectRule::Table)
                    .col(MailRejectRule::Class)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("mail_reject_rule_class")
                    .table(MailRejectRule::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(MailUnclassified::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// Inserts [`NEW_RULES`] into a non-empty `mail_reject_rule` (see the
/// module's note), renumbering positions 0.. in the new order.
async fn insert_new_rules(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MailRejectRule::{Class, Id, Pattern, Position, Table};
    let db = manager.get_connection();
    let q = Query::select()
        .columns([Id, Class])
        .from(Table)
        .order_by(Position, Order::Asc)
        .order_by(Id, Order::Asc)
        .to_owned();
    let mut rows: Vec<(Option<i32>, String, &str)> = Vec::new();
    for r in db.query_all(&q).await? {
        rows.push((Some(r.try_get("", "id")?), r.try_get("", "class")?, ""));
    }
    if rows.is_empty() {
        return Ok(());
    }
    for (class, pattern) in NEW_RULES {
        if rows.iter().any(|(_, c, _)| c == class) {
            continue;
        }
        // Before the first class that follows it in the defaults and is
        // there; at the end when none is.
        let later = ORDER.iter().skip_while(|c| **c != class).skip(1);
        let at = later
            .filter_map(|next| rows.iter().position(|(_, c, _)| c == next))
            .next()
            .unwrap_or(rows.len());
        rows.insert(at, (None, class.to_string(), pattern));
    }
    for (position, (id, class, pattern)) in rows.iter().enumerate() {
        let position = position as i32;
        match id {
            Some(id) => {
                let q = Query::update()
                    .table(Table)
                    .value(Position, position)
                    .and_where(Expr::col(Id).eq(*id))
                    .to_owned();
                db.execute(&q).await?
            }
            None => {
                let q = Query::insert()
                    .into_table(Table)
                    .columns([Position, Class, Pattern])
                    .values_panic([position.into(), class.as_str().into(), (*pattern).into()])
                    .to_owned();
                db.execute(&q).await?
            }
        };
    }
    Ok(())
}

#[derive(DeriveIden)]
enum MailRejectRule {
    Table,
    Id,
    Position,
    Class,
    Pattern,
}

#[derive(DeriveIden)]
enum MailUnclassified {
    Table,
    Id,
    Text,
    N,
    FirstAt,
    LastAt,
    Samples,
    ClassifiedAs,
}
