//! PostgreSQL: the message trace, its recipient index, the two minute
//! tiers and the per-subject hours become tables partitioned by range of
//! their time column, one partition per UTC day (`<table>_pYYYYMMDD`) and
//! a `<table>_pdefault` that catches a row of a day without its own
//! partition (the application creates each day's partitions ahead and
//! before it writes a day, so the default stays empty; see
//! `app::server::partitions`). Retention then drops a whole day's
//! partition instead of deleting its rows one by one.
//!
//! Each table is rebuilt in this migration's transaction: the old one is
//! renamed, a partitioned one like it is created, with a partition for
//! every day its rows hold, the rows are copied (`INSERT … SELECT`), then
//! its keys and indexes are built (on the full partitions, faster than row
//! by row) and the old table is dropped. PostgreSQL wants the partition
//! column in every unique key: a key without it gets it appended, so
//! `mail_message`'s primary key becomes `(id, first_at)` (its sequence
//! still gives each message its own id; a lookup by id still uses the key's
//! index). Its identity column becomes a plain `BIGINT` with a sequence
//! default (PostgreSQL 15 has no identity on a partitioned table), the
//! sequence going on from where the old one stood. Every other index is
//! built again as it was. The conflict key of the ingest engine's upsert,
//! `(first_at, host, queue_id)`, already holds the partition column.
//!
//! On SQLite the migration does nothing: its retention deletes in chunks.

use sea_orm_migration::SchemaManagerConnection as Conn;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A table partitioned by day: its time column, and how many of the
/// column's units make a day (seconds, or hours for `mail_recipient`).
struct Spec {
    table: &'static str,
    column: &'static str,
    per_day: i64,
}

const TABLES: [Spec; 5] = [
    Spec {
        table: "mail_message",
        column: "first_at",
        per_day: 86_400,
    },
    Spec {
        table: "mail_recipient",
        column: "first_hour",
        per_day: 24,
    },
    Spec {
        table: "mail_minute",
        column: "minute",
        per_day: 86_400,
    },
    Spec {
        table: "mail_domain_minute",
        column: "minute",
        per_day: 86_400,
    },
    Spec {
        table: "mail_subject_hour",
        column: "hour",
        per_day: 86_400,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for spec in &TABLES {
            rebuild(manager.get_connection(), spec, true).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for spec in &TABLES {
            rebuild(manager.get_connection(), spec, false).await?;
        }
        Ok(())
    }
}

/// Rebuilds one table, partitioned by day (`partitioned`) or plain again,
/// with the same rows, keys and indexes.
async fn rebuild(db: &Conn<'_>, spec: &Spec, partitioned: bool) -> Result<(), DbErr> {
    let Spec {
        table: t,
        column: col,
        per_day,
    } = *spec;
    let old = format!("{t}_before_rebuild");
    // Keys (PRIMARY KEY / UNIQUE constraints) and the other indexes, read
    // while their definitions still name the table `t`.
    let keys = strings2(
        db,
        &format!(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = '{t}'::regclass AND contype IN ('p', 'u') ORDER BY conname"
        ),
    )
    .await?;
    let indexes = strings2(
        db,
        &format!(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
             WHERE i.indrelid = '{t}'::regclass AND NOT EXISTS \
             (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
        ),
    )
    .await?;
    // The column numbered by a sequence (mail_message.id): its name, whether
    // it is an identity column, and its sequence.
    let numbered = strings2(
        db,
        &format!(
            "SELECT attname::text, (attidentity <> '')::text FROM pg_attribute \
             WHERE attrelid = '{t}'::regclass AND attnum > 0 AND NOT attisdropped \
             AND pg_get_serial_sequence('{t}', attname) IS NOT NULL"
        ),
    )
    .await?;
    exec(db, &format!("ALTER TABLE {t} RENAME TO {old}")).await?;
    for (name, _) in &keys {
        exec(db, &format!("ALTER TABLE {old} DROP CONSTRAINT \"{name}\"")).await?;
    }
    for (name, _) in &indexes {
        exec(db, &format!("DROP INDEX {name}")).await?;
    }
    let mut next = Vec::new();
    for (column, identity) in &numbered {
        let sequence = format!("pg_get_serial_sequence('{old}', '{column}')");
        let n = number(
            db,
            &format!(
                "SELECT GREATEST(nextval({sequence}), \
                 COALESCE((SELECT MAX({column}) + 1 FROM {old}), 1))"
            ),
        )
        .await?;
        // Frees the sequence's name (`<table>_<column>_seq`) for the new one.
        if identity == "true" {
            exec(
                db,
                &format!("ALTER TABLE {old} ALTER COLUMN {column} DROP IDENTITY"),
            )
            .await?;
        } else {
            let name = text(db, &format!("SELECT {sequence}")).await?;
            exec(
                db,
                &format!(
                    "ALTER TABLE {old} ALTER COLUMN {column} DROP DEFAULT; DROP SEQUENCE {name}"
                ),
            )
            .await?;
        }
        next.push((column.clone(), n));
    }
    let partition_by = if partitioned {
        format!(" PARTITION BY RANGE ({col})")
    } else {
        String::new()
    };
    exec(
        db,
        &format!("CREATE TABLE {t} (LIKE {old} INCLUDING DEFAULTS){partition_by}"),
    )
    .await?;
    for (column, n) in &next {
        if partitioned {
            // PostgreSQL 15 has no identity column on a partitioned table.
            exec(
                db,
                &format!(
                    "CREATE SEQUENCE {t}_{column}_seq START WITH {n} OWNED BY {t}.{column}; \
                     ALTER TABLE {t} ALTER COLUMN {column} SET DEFAULT nextval('{t}_{column}_seq')"
                ),
            )
            .await?;
        } else {
            exec(
                db,
                &format!(
                    "ALTER TABLE {t} ALTER COLUMN {column} \
                     ADD GENERATED BY DEFAULT AS IDENTITY (START WITH {n})"
                ),
            )
            .await?;
        }
    }
    if partitioned {
        // A partition for every UTC day the rows hold (floor division: the
        // day of a negative time is the one before).
        let day = format!(
            "(CASE WHEN {col} >= 0 THEN {col} / {per_day} ELSE ({col} + 1) / {per_day} - 1 END)"
        );
        let days = strings2(
            db,
            &format!(
                "SELECT d::text, to_char(to_timestamp(d * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD') \
                 FROM (SELECT DISTINCT {day} AS d FROM {old}) days ORDER BY d"
            ),
        )
        .await?;
        for (d, date) in days {
            let d: i64 = d.parse().map_err(|_| DbErr::Custom(format!("day {d}")))?;
            exec(
                db,
                &format!(
                    "CREATE TABLE \"{t}_p{date}\" PARTITION OF {t} FOR VALUES FROM ({}) TO ({})",
                    d * per_day,
                    (d + 1) * per_day
                ),
            )
            .await?;
        }
        exec(
            db,
            &format!("CREATE TABLE \"{t}_pdefault\" PARTITION OF {t} DEFAULT"),
        )
        .await?;
    }
    exec(db, &format!("INSERT INTO {t} SELECT * FROM {old}")).await?;
    for (name, def) in &keys {
        let def = if partitioned {
            with_column(def, col)
        } else {
            without_column(def, col)
        };
        exec(
            db,
            &format!("ALTER TABLE {t} ADD CONSTRAINT \"{name}\" {def}"),
        )
        .await?;
    }
    for (_, def) in &indexes {
        // A partitioned table's index reads `ON ONLY`: built on every
        // partition here.
        exec(db, &def.replacen(" ON ONLY ", " ON ", 1)).await?;
    }
    exec(db, &format!("DROP TABLE {old}")).await?;
    // A partitioned table's own statistics are never gathered by autovacuum.
    exec(db, &format!("ANALYZE {t}")).await
}

/// `PRIMARY KEY (id)` → `PRIMARY KEY (id, first_at)`: a unique key of a
/// partitioned table holds the partition column.
fn with_column(def: &str, col: &str) -> String {
    match def.strip_suffix(')') {
        Some(head) if !columns(def).contains(&col) => format!("{head}, {col})"),
        _ => def.to_string(),
    }
}

/// The inverse of [`with_column`]: the column appended last goes again.
fn without_column(def: &str, col: &str) -> String {
    match def.strip_suffix(&format!(", {col})")) {
        Some(head) => format!("{head})"),
        None => def.to_string(),
    }
}

/// The column names of a key definition `… (a, b, c)`.
fn columns(def: &str) -> Vec<&str> {
    def.rsplit_once('(')
        .map(|(_, cols)| cols.trim_end_matches(')').split(", ").collect())
        .unwrap_or_default()
}

async fn exec(db: &Conn<'_>, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

/// The rows of a query of two text columns.
async fn strings2(db: &Conn<'_>, sql: &str) -> Result<Vec<(String, String)>, DbErr> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect()
}

async fn text(db: &Conn<'_>, sql: &str) -> Result<String, DbErr> {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no row from {sql}")))?
        .try_get_by_index(0)
}

async fn number(db: &Conn<'_>, sql: &str) -> Result<i64, DbErr> {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("no row from {sql}")))?
        .try_get_by_index(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gains_the_partition_column_once_and_loses_it_again() {
        assert_eq!(
            with_column("PRIMARY KEY (id)", "first_at"),
            "PRIMARY KEY (id, first_at)"
        );
        assert_eq!(
            without_column("PRIMARY KEY (id, first_at)", "first_at"),
            "PRIMARY KEY (id)"
        );
        let holds = "PRIMARY KEY (kind, hour, subject, series)";
        assert_eq!(with_column(holds, "hour"), holds);
        assert_eq!(without_column(holds, "hour"), holds);
    }
}
