//! Mailgraph: the mail-flow counters rolled up by hour and by day, and the
//! same series per hosted domain.
//!
//! `mail_minute` (m20261128_000002) holds each host's exact counts per
//! minute. The ingest engine now writes, in the same transaction, the same
//! counts summed by hour (`mail_hour`) and by day (`mail_day`), and the
//! per-domain counts at all three resolutions (`mail_domain_minute`,
//! `mail_domain_hour`, `mail_domain_day`). Every table has the key
//! `(time, host or domain, series)` and one count; a chart reads the
//! coarsest table that still shows its range in enough detail, so a year
//! is a few thousand day rows. Each tier is purged after its own retention.
//! The domain tables are also indexed by `(domain, time)` for one domain's
//! chart.
//!
//! The counts already in `mail_minute` are rolled up here once (days by UTC).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The new tables: name, time column, key column.
const TABLES: [(&str, &str, &str); 5] = [
    ("mail_hour", "hour", "host"),
    ("mail_day", "day", "host"),
    ("mail_domain_minute", "minute", "domain"),
    ("mail_domain_hour", "hour", "domain"),
    ("mail_domain_day", "day", "domain"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, time, key) in TABLES {
            let mut t = Table::create();
            t.table(Alias::new(table))
                .if_not_exists()
                .col(ColumnDef::new(Alias::new(time)).big_integer().not_null())
                .col(ColumnDef::new(Alias::new(key)).string_len(255).not_null())
                .col(
                    ColumnDef::new(Alias::new("series"))
                        .string_len(96)
                        .not_null(),
                )
                .col(ColumnDef::new(Alias::new("n")).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(Alias::new(time))
                        .col(Alias::new(key))
                        .col(Alias::new("series")),
                );
            if manager.get_database_backend() == DbBackend::Sqlite {
                // Looked up and updated by key only: rows live in the key's B-tree.
                t.extra("WITHOUT ROWID");
            }
            manager.create_table(t).await?;
        }
        // A domain's chart reads its own rows of a range: by domain first.
        for (table, time, key) in TABLES {
            if key == "domain" {
                manager
                    .create_index(
                        Index::create()
                            .name(format!("idx_{table}_domain"))
                            .table(Alias::new(table))
                            .col(Alias::new(key))
                            .col(Alias::new(time))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        let db = manager.get_connection();
        for (table, seconds) in [("mail_hour", 3600), ("mail_day", 86_400)] {
            let time = if seconds == 3600 { "hour" } else { "day" };
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({time}, host, series, n) \
                 SELECT minute - (minute % {seconds}), host, series, SUM(n) FROM mail_minute \
                 GROUP BY minute - (minute % {seconds}), host, series"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, _) in TABLES {
            manager
                .drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
