//! Removes deleted mailboxes whose retention period is over. `carteiro
//! serve` runs this every few minutes; each purge is in the audit log.

use super::lookup;
use crate::provision::MailboxStatus;
use crate::server::audit::{self, Actor};
use crate::server::entities::mailbox;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};

/// The deleted mailboxes whose retention is over at `now`.
fn due(now: DateTime<Utc>) -> sea_orm::Select<mailbox::Entity> {
    mailbox::Entity::find()
        .filter(mailbox::Column::Status.eq(MailboxStatus::Deleted))
        .filter(mailbox::Column::PurgeAfter.lte(now))
}

/// How many mailboxes [`purge_due`] would purge now (`carteiro purge --dry-run`).
pub async fn count_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    due(now).count(db).await
}

/// Purges up to 1,000 due mailboxes; returns how many.
pub async fn purge_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let due = due(now).limit(1000).all(db).await?;
    let actor = Actor {
        id: None,
        name: "system:purge".into(),
        client_addr: None,
    };
    let tx = crate::server::retry::begin_write(db).await?;
    let mut purged = 0;
    for m in &due {
        // Still deleted and due: a restore since the read above wins.
        let gone = mailbox::Entity::delete_many()
            .filter(mailbox::Column::Id.eq(m.id))
            .filter(mailbox::Column::Status.eq(MailboxStatus::Deleted))
            .filter(mailbox::Column::PurgeAfter.lte(now))
            .exec(&tx)
            .await?;
        if gone.rows_affected == 0 {
            continue;
        }
        super::search::forget_name(&tx, m.id).await?;
        purged += 1;
        audit::record(
            &tx,
            &actor,
            "provision.mailbox_purge",
            &m.address,
            Some(&lookup::mailbox_view_of(m)),
            audit::NONE,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(purged)
}
