//! PostgreSQL's day partitions of the trace and minute tables (issue 19):
//! `mail_message`, `mail_recipient`, `mail_minute`, `mail_domain_minute`
//! and `mail_subject_hour` are partitioned by range of their time column,
//! one partition per UTC day named `<table>_pYYYYMMDD`, plus a
//! `<table>_pdefault` (migration m20261202_120000). SQLite has none of
//! this: every function here does nothing there.
//!
//! A day's partitions are created before anything writes that day:
//! [`ensure_batch`] before each ingest batch (an old archive creates its
//! old days), [`ensure_ahead`] (today and the next two days) in every
//! purge round of `carteiro serve` and `carteiro purge`. A process
//! remembers the days it knows exist ([`KNOWN`]), so a batch of days
//! already there costs no query (and forgets them when it drops one; a day
//! another process dropped, past the horizon, is then written to the
//! default partition, and deleted from there by the next round). Creating one is a short transaction
//! that waits at most [`LOCK_TIMEOUT`] for its locks: a new table like
//! the parent, the default partition's rows of that day moved into it
//! (none, unless something wrote the day before its partition existed),
//! then `ATTACH PARTITION`, which (unlike `CREATE TABLE … PARTITION OF`)
//! lets reads and writes of the other days go on. Two processes creating
//! the same day at once: the loser's error is checked against the
//! catalogue and, the day being there, ignored.
//!
//! The default partition is the safety net that makes a write never fail
//! for lack of a partition (a writer that did not ensure its days, a
//! partition that could not be created in time): its rows are still
//! found, and retention deletes them in chunks. It costs one thing: with a
//! default partition, PostgreSQL refuses `DETACH … CONCURRENTLY`, so a
//! day leaves with `DROP TABLE`, which takes the parent's exclusive lock
//! for a moment (waiting at most [`LOCK_TIMEOUT`], then tried again).
//!
//! Retention ([`super::retention`]) drops a table's partitions whose whole
//! day is older than its horizon ([`drop_before`]); it never deletes rows
//! inside a day partition, so on PostgreSQL a row stays up to a day longer
//! than its setting says.

use super::retry;
use mailflow::count::Batch;
use mailflow::time::DAY;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement};
use std::collections::{BTreeSet, HashSet};
use std::sync::{LazyLock, Mutex};

/// A table partitioned by day: its time column, and how many of the
/// column's units make a day (seconds; hours for `mail_recipient`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partitioned {
    pub table: &'static str,
    pub column: &'static str,
    pub per_day: i64,
}

impl Partitioned {
    /// The values of day `day` (days since the epoch): `[from, to)`.
    pub fn bounds(self, day: i64) -> (i64, i64) {
        (day * self.per_day, (day + 1) * self.per_day)
    }

    /// `<table>_pYYYYMMDD`.
    pub fn name(self, day: i64) -> String {
        let date = chrono::DateTime::from_timestamp(day * DAY, 0)
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_else(|| format!("d{day}"));
        format!("{}_p{date}", self.table)
    }
}

/// Every table partitioned by day (the migration's list).
pub const TABLES: [Partitioned; 5] = [
    Partitioned {
        table: "mail_message",
        column: "first_at",
        per_day: DAY,
    },
    Partitioned {
        table: "mail_recipient",
        column: "first_hour",
        per_day: 24,
    },
    Partitioned {
        table: "mail_minute",
        column: "minute",
        per_day: DAY,
    },
    Partitioned {
        table: "mail_domain_minute",
        column: "minute",
        per_day: DAY,
    },
    Partitioned {
        table: "mail_subject_hour",
        column: "hour",
        per_day: DAY,
    },
];

/// The partitioned table called `name`, if it is one.
pub fn table(name: &str) -> Option<Partitioned> {
    TABLES.iter().copied().find(|p| p.table == name)
}

/// How long creating or dropping a partition waits for a lock before it
/// gives up (and is tried again): what it may make others wait behind it.
pub const LOCK_TIMEOUT: &str = "2s";

/// The days (database, day) this process knows have all their partitions.
static KNOWN: LazyLock<Mutex<HashSet<(String, i64)>>> = LazyLock::new(Default::default);

/// One partition of a table, as the catalogue lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    /// `[from, to)` in the column's units; `None`: the default partition
    /// (or bounds that are not two numbers).
    pub bounds: Option<(i64, i64)>,
}

/// Whether `db` is PostgreSQL (the only database with partitions).
fn postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Which database `db` is, for [`KNOWN`]: server and database name.
fn database_key(db: &DatabaseConnection) -> String {
    let options = db.get_postgres_connection_pool().connect_options();
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

/// The day (since the epoch, UTC) of Unix time `t`.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// Makes sure every partitioned table has a partition for every day from
/// the day of `from` to the day of `to` (Unix seconds, both included).
/// Returns how many partitions it created.
pub async fn ensure_days(db: &DatabaseConnection, from: i64, to: i64) -> Result<u32, DbErr> {
    ensure(db, (day_of(from)..=day_of(to)).collect()).await
}

/// [`ensure_days`] for today and the next two days (UTC), at `now`.
pub async fn ensure_ahead(db: &DatabaseConnection, now: i64) -> Result<u32, DbErr> {
    ensure_days(db, now, now + 2 * DAY).await
}

/// Makes sure the days a batch writes have their partitions, before the
/// batch's transaction. A failure is logged, not returned: the rows then
/// go to the default partition (and move to their day's partition when it
/// is created), the ingest goes on.
pub async fn ensure_batch(db: &DatabaseConnection, batch: &Batch) {
    if !postgres(db) {
        return;
    }
    let mut days = BTreeSet::new();
    days.extend(batch.minutes.keys().map(|&(_, t, _)| day_of(t)));
    days.extend(batch.domain_minutes.keys().map(|(_, t, _)| day_of(*t)));
    for subjects in &batch.subjects {
        days.extend(subjects.iter().map(|(_, t, _, _)| day_of(t)));
    }
    days.extend(batch.messages.iter().map(|m| day_of(m.first_at)));
    if let Err(e) = ensure(db, days).await {
        tracing::warn!(error = %e, "cannot create the day partitions of a batch; its rows go to the default partitions");
    }
}

/// Creates what is missing of `days`' partitions.
pub async fn ensure(db: &DatabaseConnection, days: BTreeSet<i64>) -> Result<u32, DbErr> {
    if !postgres(db) {
        return Ok(0);
    }
    let key = database_key(db);
    let missing: Vec<i64> = {
        let known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
        days.into_iter()
            .filter(|d| !known.contains(&(key.clone(), *d)))
            .collect()
    };
    if missing.is_empty() {
        return Ok(0);
    }
    let mut created = 0;
    for table in TABLES {
        let parts = partitions(db, table.table).await?;
        for &day in &missing {
            if !covered(&parts, table.bounds(day)) {
                created += u32::from(create(db, table, day).await?);
            }
        }
    }
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    known.extend(missing.into_iter().map(|d| (key.clone(), d)));
    Ok(created)
}

/// Whether a partition holds all of `[from, to)`.
fn covered(parts: &[Partition], (from, to): (i64, i64)) -> bool {
    parts
        .iter()
        .any(|p| p.bounds.is_some_and(|(a, b)| a <= from && to <= b))
}

/// Creates `table`'s partition of `day`, in one transaction, tried again
/// on a lock wait that timed out, a deadlock, or a race with another
/// process; `false` when another process created it first.
async fn create(db: &DatabaseConnection, table: Partitioned, day: i64) -> Result<bool, DbErr> {
    let name = table.name(day);
    let (from, to) = table.bounds(day);
    let t = table.table;
    let attempt = || async {
        let parts = partitions(db, t).await?;
        if covered(&parts, (from, to)) {
            return Ok(false);
        }
        let mut sql = format!(
            "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; \
             CREATE TABLE \"{name}\" (LIKE {t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS); "
        );
        if let Some(default) = parts.iter().find(|p| p.bounds.is_none()) {
            sql += &format!(
                "WITH moved AS (DELETE FROM \"{}\" WHERE {col} >= {from} AND {col} < {to} \
                 RETURNING *) INSERT INTO \"{name}\" SELECT * FROM moved; ",
                default.name,
                col = table.column
            );
        }
        sql += &format!(
            "ALTER TABLE {t} ATTACH PARTITION \"{name}\" FOR VALUES FROM ({from}) TO ({to})"
        );
        let txn = retry::begin_write(db).await?;
        txn.execute_unprepared(&sql).await?;
        txn.commit().await?;
        Ok(true)
    };
    match retry::retrying(&format!("creating partition {name}"), is_race, attempt).await {
        Ok(created) => {
            if created {
                tracing::info!("created partition {name}");
            }
            Ok(created)
        }
        // Another process's partition, committed after our last try.
        Err(e) if covered(&partitions(db, t).await?, (from, to)) => {
            tracing::debug!(error = %e, "partition {name} was created by another process");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The SQLSTATE of a PostgreSQL error.
fn sqlstate(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match &**e {
        sea_orm::sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Worth another try: a lock wait that timed out (`55P03`), a deadlock or
/// serialization failure, another process creating the same table
/// (`23505`, `42P07`), or a row of the day written to the default
/// partition between the move and the attach (`23514`).
fn is_race(err: &DbErr) -> bool {
    retry::is_transient(err)
        || sqlstate(err)
            .is_some_and(|s| matches!(s.as_str(), "55P03" | "23505" | "42P07" | "23514"))
}

/// `table`'s partitions, from `pg_inherits`, oldest first (the default
/// last). None on SQLite, or when the table is not partitioned.
pub async fn partitions(db: &impl ConnectionTrait, table: &str) -> Result<Vec<Partition>, DbErr> {
    if !postgres(db) {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = to_regclass($1)",
            [table.into()],
        ))
        .await?;
    let mut parts = rows
        .iter()
        .map(|r| {
            let bound: String = r.try_get_by_index(1)?;
            Ok(Partition {
                name: r.try_get_by_index(0)?,
                bounds: parse_bounds(&bound),
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    parts.sort_by_key(|p| p.bounds.map_or((1, 0), |(from, _)| (0, from)));
    Ok(parts)
}

/// `FOR VALUES FROM ('1764633600') TO ('1764720000')` → the two numbers;
/// `DEFAULT` (or `MINVALUE`…) → `None`.
fn parse_bounds(bound: &str) -> Option<(i64, i64)> {
    let rest = bound.strip_prefix("FOR VALUES FROM (")?;
    let (from, rest) = rest.split_once(") TO (")?;
    let to = rest.strip_suffix(')')?;
    let number = |s: &str| s.trim_matches('\'').parse::<i64>().ok();
    Some((number(from)?, number(to)?))
}

/// `table`'s day partitions whose every value is before `before` (in the
/// column's units): those a retention horizon at `before` drops whole.
pub async fn older_than(
    db: &impl ConnectionTrait,
    table: &str,
    before: i64,
) -> Result<Vec<Partition>, DbErr> {
    Ok(partitions(db, table)
        .await?
        .into_iter()
        .filter(|p| p.bounds.is_some_and(|(_, to)| to <= before))
        .collect())
}

/// The rows a partition holds now.
pub async fn rows(db: &impl ConnectionTrait, partition: &str) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) FROM \"{partition}\""),
        ))
        .await?;
    let n: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Drops one partition (`DROP TABLE`: with a default partition PostgreSQL
/// cannot detach concurrently), waiting at most [`LOCK_TIMEOUT`] for the
/// parent's lock, tried again a few times. This process forgets the day.
pub async fn drop_partition(db: &DatabaseConnection, partition: &str) -> Result<(), DbErr> {
    retry::retrying(
        &format!("dropping partition {partition}"),
        is_race,
        || async {
            let txn = retry::begin_write(db).await?;
            txn.execute_unprepared(&format!(
                "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; DROP TABLE IF EXISTS \"{partition}\""
            ))
            .await?;
            txn.commit().await
        },
    )
    .await?;
    forget(db);
    Ok(())
}

/// Drops `table`'s partitions whose every value is before `before` (in
/// the column's units), or with `dry_run` only counts them, skipping those
/// already in `done` (another retention line of the table took them) and
/// adding the others: each one's name and rows (counted just before).
pub async fn drop_before(
    db: &DatabaseConnection,
    table: &str,
    before: i64,
    dry_run: bool,
    done: &mut HashSet<String>,
) -> Result<Vec<(String, u64)>, DbErr> {
    let mut dropped = Vec::new();
    for p in older_than(db, table, before).await? {
        if !done.insert(p.name.clone()) {
            continue;
        }
        let n = rows(db, &p.name).await?;
        if !dry_run {
            drop_partition(db, &p.name).await?;
        }
        dropped.push((p.name, n));
    }
    Ok(dropped)
}

/// Forgets the days known for `db` (after a drop, the next write of an
/// old day checks the catalogue again).
fn forget(db: &DatabaseConnection) {
    let key = database_key(db);
    KNOWN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(k, _)| *k != key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_read_from_the_catalogue_text() {
        assert_eq!(
            parse_bounds("FOR VALUES FROM ('1764633600') TO ('1764720000')"),
            Some((1_764_633_600, 1_764_720_000))
        );
        assert_eq!(parse_bounds("FOR VALUES FROM (-24) TO (0)"), Some((-24, 0)));
        assert_eq!(parse_bounds("DEFAULT"), None);
        assert_eq!(parse_bounds("FOR VALUES FROM (MINVALUE) TO ('5')"), None);
    }

    #[test]
    fn a_day_is_named_by_its_utc_date_and_bounded_in_the_column_units() {
        let day = day_of(1_764_720_000 - 1); // 2025-12-02T23:59:59Z
        assert_eq!(TABLES[0].name(day), "mail_message_p20251202");
        assert_eq!(TABLES[0].bounds(day), (1_764_633_600, 1_764_720_000));
        let recipients = table("mail_recipient").unwrap();
        assert_eq!(
            recipients.bounds(day),
            (1_764_633_600 / 3600, 1_764_720_000 / 3600)
        );
        assert_eq!(
            day_of(-1),
            -1,
            "the second before the epoch is the day before"
        );
    }

    #[test]
    fn a_range_is_covered_only_by_a_partition_holding_all_of_it() {
        let parts = [
            Partition {
                name: "d".into(),
                bounds: None,
            },
            Partition {
                name: "a".into(),
                bounds: Some((0, 10)),
            },
        ];
        assert!(covered(&parts, (0, 10)));
        assert!(covered(&parts, (2, 5)));
        assert!(!covered(&parts, (5, 15)));
        assert!(!covered(&parts[..1], (0, 10)), "the default covers no day");
    }
}
