//! Retention: every table that grows with time, how long it keeps its
//! rows and how they are deleted, in one list ([`TABLES`]). `carteiro
//! serve` applies it every ten minutes and `carteiro purge` on demand
//! (`--dry-run` counts instead); both call [`purge`].
//!
//! Deleting a day of trace at the ISP's volume (two million rows) must
//! not stall ingest or the portal, so rows go in chunks of at most
//! `retention.chunk_rows`, each its own short write transaction
//! ([`retry::begin_write`], tried again on a busy database), with a pause
//! between chunks in which other writers take the write lock. A table with
//! a one-column key deletes exactly the oldest rows of a chunk by key
//! (`id IN (SELECT id … WHERE time < ? LIMIT n)`, the time index finding
//! them); a table keyed by time (the counters, `WITHOUT ROWID` on SQLite)
//! deletes the time range that holds the next `n` rows (all the rows of
//! one time value at least). Every time column has an index that starts
//! with it (or with the condition's column, then it).
//!
//! On SQLite the freed pages are reused by the next inserts; a database
//! created with `auto_vacuum = INCREMENTAL` (see `server::db`) also gives
//! them back to the file system after a round ([`reclaim`]), a few
//! thousand pages per statement. [`vacuum`] rewrites an older database
//! once to switch it on.
//!
//! On PostgreSQL the trace and minute tables are partitioned by day
//! ([`Table::partitioned`], see [`super::partitions`]): a round drops each
//! partition whose whole day is past the horizon (one `DROP TABLE`, however
//! many rows), never deletes inside a day partition (so a row stays up to a
//! day longer than its setting there), and deletes in chunks only what the
//! default partition holds (rows written before their day's partition
//! existed). The lines of one partitioned table share their horizon: the
//! first drops the partitions, for all of them.
//!
//! Adding a table is one line in [`TABLES`].

use super::mailgraph::{Scope, Tier};
use super::{partitions, retry};
use crate::state::{AuthSettings, MailgraphSettings, Retention, RetentionSettings};
use mailflow::time::DAY;
use sea_orm::sea_query::{
    Alias, Condition, DeleteStatement, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// One growing table: what it is called, how its rows are addressed for
/// a chunked delete, its time column, the setting that says how long rows
/// stay, and which rows may go at all.
#[derive(Clone, Copy, Debug)]
pub struct Table {
    pub name: &'static str,
    pub key: Key,
    pub time: Time,
    pub keep: Keep,
    pub only: Only,
    /// Rows of other tables that belong to a row of this one, deleted with
    /// it in the same transaction: `(table, column holding our key)`.
    pub with: &'static [(&'static str, &'static str)],
    /// Partitioned by day of its time column on PostgreSQL: old days are
    /// dropped whole ([`super::partitions::TABLES`] lists the same tables).
    pub partitioned: bool,
}

/// How a chunk of rows is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A one-column key: the chunk is the first `n` matching keys.
    Column(&'static str),
    /// A key that starts with the time: the chunk is a time range.
    Time,
}

/// The time column: Unix seconds (`BIGINT`) or a timestamp with time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    Unix(&'static str),
    Stamp(&'static str),
    /// Whole hours since the epoch: a row goes once its hour has ended
    /// before the cutoff (the cutoff's own hour waits for a later round).
    Hours(&'static str),
}

impl Time {
    fn column(self) -> &'static str {
        match self {
            Time::Unix(c) | Time::Stamp(c) | Time::Hours(c) => c,
        }
    }

    /// The column's number for the instant `t` (`None`: a timestamp).
    fn units(self, t: i64) -> Option<i64> {
        match self {
            Time::Unix(_) => Some(t),
            Time::Hours(_) => Some(t.div_euclid(3600)),
            Time::Stamp(_) => None,
        }
    }

    /// The value compared with the column for the instant `t`.
    fn value(self, t: i64) -> Value {
        match self {
            Time::Unix(_) => t.into(),
            Time::Hours(_) => t.div_euclid(3600).into(),
            Time::Stamp(_) => chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
                .unwrap_or_default()
                .into(),
        }
    }
}

/// The setting that says how long a table's rows stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    MessageTrace,
    SubjectHours,
    Proposals,
    Blocks,
    Alerts,
    Unclassified,
    Audit,
    ImportJobs,
    /// `auth.failed_login_retention_days`.
    FailedLogins,
    /// `[mailgraph.retention]` or `[mailgraph.domain_retention]`.
    Mailgraph(Scope, Tier),
    /// Until they expire (sessions).
    Expiry,
    /// `auth.throttle.window_secs`.
    ThrottleWindow,
}

impl Keep {
    /// How many seconds rows stay; `None`: forever.
    pub fn seconds(self, s: &Settings) -> Option<i64> {
        let days = |d: u32| (d > 0).then(|| i64::from(d) * DAY);
        let r = &s.retention;
        match self {
            Keep::MessageTrace => days(r.message_trace_days),
            Keep::SubjectHours => days(r.subject_hour_days),
            Keep::Proposals => days(r.proposal_days),
            Keep::Blocks => days(r.block_days),
            Keep::Alerts => days(r.alert_days),
            Keep::Unclassified => days(r.unclassified_days),
            Keep::Audit => days(r.audit_days),
            Keep::ImportJobs => days(r.import_job_days),
            Keep::FailedLogins => days(s.failed_login_days),
            Keep::Mailgraph(scope, tier) => days(tier.retention(s.mailgraph(scope))),
            Keep::Expiry => Some(0),
            Keep::ThrottleWindow => Some(i64::try_from(s.throttle_window_secs).unwrap_or(i64::MAX)),
        }
    }

    /// The setting's name in `carteiro.toml`.
    pub fn setting(self) -> &'static str {
        match self {
            Keep::MessageTrace => "retention.message_trace_days",
            Keep::SubjectHours => "retention.subject_hour_days",
            Keep::Proposals => "retention.proposal_days",
            Keep::Blocks => "retention.block_days",
            Keep::Alerts => "retention.alert_days",
            Keep::Unclassified => "retention.unclassified_days",
            Keep::Audit => "retention.audit_days",
            Keep::ImportJobs => "retention.import_job_days",
            Keep::FailedLogins => "auth.failed_login_retention_days",
            Keep::Mailgraph(Scope::Host, Tier::Minute) => "mailgraph.retention.minute_days",
            Keep::Mailgraph(Scope::Host, Tier::Hour) => "mailgraph.retention.hour_days",
            Keep::Mailgraph(Scope::Host, Tier::Day) => "mailgraph.retention.day_days",
            Keep::Mailgraph(Scope::Domain, Tier::Minute) => {
                "mailgraph.domain_retention.minute_days"
            }
            Keep::Mailgraph(Scope::Domain, Tier::Hour) => "mailgraph.domain_retention.hour_days",
            Keep::Mailgraph(Scope::Domain, Tier::Day) => "mailgraph.domain_retention.day_days",
            Keep::Expiry => "until expiry",
            Keep::ThrottleWindow => "auth.throttle.window_secs",
        }
    }
}

/// Which rows of a table may go once old enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    All,
    /// `kind = '…'`: one kind of a table keyed by kind, then time.
    Kind(&'static str),
    /// Approved, rejected or expired proposals: never a pending one, nor
    /// one still suppressing its subject or whose block is still active.
    Decided,
    /// Blocks that ended: lifted, or expired.
    Ended,
    /// Acknowledged alerts, never an open one.
    Acknowledged,
    /// Audit entries of one action.
    Action(&'static str),
    /// Throttle rows without a lock in force.
    Unlocked,
}

impl Only {
    /// The condition, for a round at `now` (Unix seconds).
    fn condition(self, now: i64) -> Option<SimpleExpr> {
        let col = |c: &str| Expr::col(Alias::new(c));
        Some(match self {
            Only::All => return None,
            Only::Kind(kind) => col("kind").eq(kind),
            Only::Decided => {
                let active_blocks = Query::select()
                    .column(Alias::new("id"))
                    .from(Alias::new("defence_block"))
                    .and_where(col("lifted_at").is_null())
                    .and_where(col("expires_at").gt(now))
                    .to_owned();
                col("status")
                    .is_in(["approved", "rejected", "expired"])
                    .and(
                        col("suppress_until")
                            .is_null()
                            .or(col("suppress_until").lt(now)),
                    )
                    .and(
                        col("block_id")
                            .is_null()
                            .or(col("block_id").not_in_subquery(active_blocks)),
                    )
            }
            Only::Ended => col("lifted_at")
                .is_not_null()
                .or(col("expires_at").lte(now)),
            Only::Acknowledged => col("status").eq("acknowledged"),
            Only::Action(action) => col("action").eq(action),
            Only::Unlocked => col("locked_until")
                .is_null()
                .or(col("locked_until").lte(Time::Stamp("").value(now))),
        })
    }
}

/// Every table that grows with time. Deleted mailboxes are not here: their
/// purge is a provisioning change (audited, name words removed), see
/// `provision::purge`. A new growing table is one more line.
#[rustfmt::skip]
pub const TABLES: &[Table] = &[
    day("mail_message", Key::Column("id"), Time::Unix("first_at"), Keep::MessageTrace, Only::All),
    day("mail_recipient", Key::Time, Time::Hours("first_hour"), Keep::MessageTrace, Only::All),
    day("mail_subject_hour", Key::Time, Time::Unix("hour"), Keep::SubjectHours, Only::Kind("ip")),
    day("mail_subject_hour", Key::Time, Time::Unix("hour"), Keep::SubjectHours, Only::Kind("account")),
    day("mail_minute", Key::Time, Time::Unix("minute"), Keep::Mailgraph(Scope::Host, Tier::Minute), Only::All),
    t("mail_hour", Key::Time, Time::Unix("hour"), Keep::Mailgraph(Scope::Host, Tier::Hour), Only::All),
    t("mail_day", Key::Time, Time::Unix("day"), Keep::Mailgraph(Scope::Host, Tier::Day), Only::All),
    day("mail_domain_minute", Key::Time, Time::Unix("minute"), Keep::Mailgraph(Scope::Domain, Tier::Minute), Only::All),
    t("mail_domain_hour", Key::Time, Time::Unix("hour"), Keep::Mailgraph(Scope::Domain, Tier::Hour), Only::All),
    t("mail_domain_day", Key::Time, Time::Unix("day"), Keep::Mailgraph(Scope::Domain, Tier::Day), Only::All),
    // Charted beside the hour tier's ranges: kept as long as it.
    t("defence_refused_minute", Key::Time, Time::Unix("minute"), Keep::Mailgraph(Scope::Host, Tier::Hour), Only::All),
    Table {
        with: &[("defence_proposal_detail", "proposal_id")],
        ..t("defence_proposal", Key::Column("id"), Time::Unix("updated_at"), Keep::Proposals, Only::Decided)
    },
    t("defence_block", Key::Column("id"), Time::Unix("expires_at"), Keep::Blocks, Only::Ended),
    t("defence_alert", Key::Column("id"), Time::Unix("acknowledged_at"), Keep::Alerts, Only::Acknowledged),
    t("mail_unclassified", Key::Column("id"), Time::Unix("last_at"), Keep::Unclassified, Only::All),
    t("import_job", Key::Column("id"), Time::Stamp("updated_at"), Keep::ImportJobs, Only::All),
    t("audit_log", Key::Column("id"), Time::Stamp("at"), Keep::FailedLogins, Only::Action("auth.login_failed")),
    t("audit_log", Key::Column("id"), Time::Stamp("at"), Keep::Audit, Only::All),
    t("web_session", Key::Column("id"), Time::Stamp("expires_at"), Keep::Expiry, Only::All),
    t("login_throttle", Key::Column("key"), Time::Stamp("window_start"), Keep::ThrottleWindow, Only::Unlocked),
];

/// A table line without dependent rows.
const fn t(name: &'static str, key: Key, time: Time, keep: Keep, only: Only) -> Table {
    Table {
        name,
        key,
        time,
        keep,
        only,
        with: &[],
        partitioned: false,
    }
}

/// A line of a table partitioned by day on PostgreSQL.
const fn day(name: &'static str, key: Key, time: Time, keep: Keep, only: Only) -> Table {
    Table {
        partitioned: true,
        ..t(name, key, time, keep, only)
    }
}

/// Everything the horizons are read from.
#[derive(Clone, Debug)]
pub struct Settings {
    pub retention: RetentionSettings,
    pub mailgraph: Retention,
    pub mailgraph_domain: Retention,
    pub failed_login_days: u32,
    pub throttle_window_secs: u64,
}

/// The horizons of the default configuration.
impl Default for Settings {
    fn default() -> Self {
        Self::new(
            &RetentionSettings::default(),
            &MailgraphSettings::default(),
            &AuthSettings::default(),
        )
    }
}

impl Settings {
    pub fn new(
        retention: &RetentionSettings,
        mailgraph: &MailgraphSettings,
        auth: &AuthSettings,
    ) -> Self {
        Self {
            retention: retention.clone(),
            mailgraph: mailgraph.retention,
            mailgraph_domain: mailgraph.domain_retention,
            failed_login_days: auth.failed_login_retention_days,
            throttle_window_secs: auth.throttle.window_secs,
        }
    }

    fn mailgraph(&self, scope: Scope) -> &Retention {
        match scope {
            Scope::Host => &self.mailgraph,
            Scope::Domain => &self.mailgraph_domain,
        }
    }
}

/// How a round runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Count what would go; delete nothing.
    pub dry_run: bool,
    /// Most rows per delete (and per write transaction).
    pub chunk_rows: u64,
    /// Between two chunks of one table.
    pub pause: Duration,
}

impl Options {
    pub fn from_settings(r: &RetentionSettings, dry_run: bool) -> Self {
        Self {
            dry_run,
            chunk_rows: u64::from(Ord::max(r.chunk_rows, 1)),
            pause: Duration::from_millis(u64::from(r.pause_ms)),
        }
    }
}

/// What a round did to one line of [`TABLES`].
#[derive(Debug)]
pub struct Outcome {
    pub table: Table,
    /// The rows deleted (or, in a dry run, that would be); `None` when the
    /// setting keeps them forever. Those of the dropped partitions included.
    pub rows: Result<Option<u64>, DbErr>,
    /// The day partitions dropped (or that would be), with their rows.
    pub partitions: Vec<(String, u64)>,
    pub took: Duration,
}

/// One round over [`TABLES`] (those `only` accepts) at `now` (Unix
/// seconds). A table that fails is reported and the round goes on.
pub async fn purge(
    db: &DatabaseConnection,
    settings: &Settings,
    now: i64,
    opts: Options,
    only: impl Fn(&Table) -> bool,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    // The partitions a line already dropped (or, in a dry run, counted).
    let mut dropped = HashSet::new();
    for table in TABLES.iter().filter(|t| only(t)) {
        let started = Instant::now();
        let mut parts = Vec::new();
        let rows = match table.keep.seconds(settings) {
            None => Ok(None),
            Some(keep) => {
                let before = now.saturating_sub(keep);
                purge_table(db, table, before, now, opts, &mut dropped, &mut parts)
                    .await
                    .map(Some)
            }
        };
        out.push(Outcome {
            table: *table,
            rows,
            partitions: parts,
            took: started.elapsed(),
        });
    }
    out
}

/// [`purge`] of the tables `only` accepts, at once (no pause, no dry
/// run): the rows deleted in all, or the first failure.
pub async fn purge_now(
    db: &DatabaseConnection,
    settings: &Settings,
    now: i64,
    only: impl Fn(&Table) -> bool,
) -> Result<u64, DbErr> {
    let opts = Options {
        dry_run: false,
        chunk_rows: u64::from(Ord::max(settings.retention.chunk_rows, 1)),
        pause: Duration::ZERO,
    };
    let mut total = 0;
    for outcome in purge(db, settings, now, opts, only).await {
        total += outcome.rows?.unwrap_or(0);
    }
    Ok(total)
}

/// The rows of `table` older than `before`, matching its condition.
fn old(table: &Table, before: i64, now: i64) -> Condition {
    let mut cond = Condition::all()
        .add(Expr::col(Alias::new(table.time.column())).lt(table.time.value(before)));
    if let Some(only) = table.only.condition(now) {
        cond = cond.add(only);
    }
    cond
}

/// Deletes (or counts) one table's old rows: on PostgreSQL the day
/// partitions wholly before `before` first (each into `parts`, and into
/// `dropped` for the table's other lines), then, chunk by chunk, the rows
/// of the table, or of a partitioned table's default partition.
async fn purge_table(
    db: &DatabaseConnection,
    table: &Table,
    before: i64,
    now: i64,
    opts: Options,
    dropped: &mut HashSet<String>,
    parts: &mut Vec<(String, u64)>,
) -> Result<u64, DbErr> {
    let mut from = table.name.to_string();
    let mut total = 0;
    if let (true, Some(limit)) = (table.partitioned, table.time.units(before)) {
        let all = partitions::partitions(db, table.name).await?;
        *parts = partitions::drop_before(db, table.name, limit, opts.dry_run, dropped).await?;
        total = parts.iter().map(|(_, rows)| rows).sum();
        if !all.is_empty() {
            match all.iter().find(|p| p.bounds.is_none()) {
                Some(default) => from = default.name.clone(),
                None => return Ok(total),
            }
        }
    }
    Ok(total + purge_rows(db, table, &from, before, now, opts).await?)
}

/// Deletes (or counts) the old rows of `from` (`table` or a partition of
/// it), chunk by chunk.
async fn purge_rows(
    db: &DatabaseConnection,
    table: &Table,
    from: &str,
    before: i64,
    now: i64,
    opts: Options,
) -> Result<u64, DbErr> {
    let name = Alias::new(from);
    let cond = old(table, before, now);
    if opts.dry_run {
        let count = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(name)
            .cond_where(cond)
            .to_owned();
        let row = db.query_one(&count).await?;
        let n: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
        return Ok(u64::try_from(n).unwrap_or(0));
    }
    let n = opts.chunk_rows;
    let mut total = 0;
    loop {
        let (deleted, more) = match table.key {
            Key::Column(key) => {
                let deleted = delete_keys(db, table, from, key, &cond, n).await?;
                (deleted, deleted >= n)
            }
            Key::Time => delete_time_range(db, table, from, &cond, n).await?,
        };
        total += deleted;
        if !more {
            return Ok(total);
        }
        tokio::time::sleep(opts.pause).await;
    }
}

/// One chunk of a table with a one-column key: the first `n` matching
/// keys, with the rows of [`Table::with`] that belong to them.
async fn delete_keys(
    db: &DatabaseConnection,
    table: &Table,
    from: &str,
    key: &'static str,
    cond: &Condition,
    n: u64,
) -> Result<u64, DbErr> {
    let mut chunk = Query::select();
    chunk
        .column(Alias::new(key))
        .from(Alias::new(from))
        .cond_where(cond.clone())
        .limit(n);
    if !table.with.is_empty() {
        // Each statement picks the same rows (in one transaction).
        chunk.order_by(Alias::new(key), Order::Asc);
    }
    let chunk: SelectStatement = chunk.to_owned();
    let mut deletes: Vec<DeleteStatement> = table
        .with
        .iter()
        .map(|(child, column)| {
            Query::delete()
                .from_table(Alias::new(*child))
                .and_where(Expr::col(Alias::new(*column)).in_subquery(chunk.clone()))
                .to_owned()
        })
        .collect();
    deletes.push(
        Query::delete()
            .from_table(Alias::new(from))
            .and_where(Expr::col(Alias::new(key)).in_subquery(chunk))
            .to_owned(),
    );
    write(db, from, &deletes).await
}

/// One chunk of a table keyed by time: the rows before the time of the
/// `n + 1`-th oldest matching row (or, when more than `n` rows share the
/// oldest time, the rows of that time). Says whether more may be left.
async fn delete_time_range(
    db: &DatabaseConnection,
    table: &Table,
    from: &str,
    cond: &Condition,
    n: u64,
) -> Result<(u64, bool), DbErr> {
    let time = Alias::new(table.time.column());
    let boundary = Query::select()
        .column(time.clone())
        .from(Alias::new(from))
        .cond_where(cond.clone())
        .order_by(time.clone(), Order::Asc)
        .limit(1)
        .offset(n)
        .to_owned();
    let boundary: Option<i64> = match db.query_one(&boundary).await? {
        Some(row) => Some(row.try_get_by_index(0)?),
        None => None,
    };
    let delete = |extra: Option<SimpleExpr>| {
        let mut q = Query::delete();
        q.from_table(Alias::new(from)).cond_where(cond.clone());
        if let Some(extra) = extra {
            q.and_where(extra);
        }
        q.to_owned()
    };
    let Some(b) = boundary else {
        let rows = write(db, from, &[delete(None)]).await?;
        return Ok((rows, false));
    };
    let mut rows = write(db, from, &[delete(Some(Expr::col(time.clone()).lt(b)))]).await?;
    if rows == 0 {
        rows = write(db, from, &[delete(Some(Expr::col(time).eq(b)))]).await?;
    }
    Ok((rows, true))
}

/// Runs `deletes` in one write transaction (`BEGIN IMMEDIATE` on SQLite),
/// the whole tried again on a transient failure; the rows the last one
/// deleted.
async fn write(
    db: &DatabaseConnection,
    what: &str,
    deletes: &[DeleteStatement],
) -> Result<u64, DbErr> {
    let what = format!("purging {what}");
    retry::retrying(&what, retry::is_transient, || async {
        let tx = retry::begin_write(db).await?;
        let mut rows = 0;
        for delete in deletes {
            rows = tx.execute(delete).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(rows)
    })
    .await
}

/// Pages given back to the file system, at most this many per statement.
const RECLAIM_STEP: u32 = 4096;

/// On a SQLite database with `auto_vacuum = INCREMENTAL`, gives the free
/// pages back to the file system, [`RECLAIM_STEP`] pages per statement
/// (each a short write), `pause` between them, at most `max_steps`
/// statements. `Ok(None)`: not SQLite, or a database created without
/// incremental vacuum (see [`vacuum`]); else the pages given back.
pub async fn reclaim(
    db: &DatabaseConnection,
    max_steps: u32,
    pause: Duration,
) -> Result<Option<u64>, DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite || pragma(db, "auto_vacuum").await? != 2 {
        return Ok(None);
    }
    let before = pragma(db, "page_count").await?;
    for step in 0..max_steps {
        if pragma(db, "freelist_count").await? == 0 {
            break;
        }
        if step > 0 {
            tokio::time::sleep(pause).await;
        }
        retry::retrying("giving free pages back", retry::is_transient, || async {
            db.execute_unprepared(&format!("PRAGMA incremental_vacuum({RECLAIM_STEP})"))
                .await
        })
        .await?;
    }
    let after = pragma(db, "page_count").await?;
    // The file itself shrinks when the WAL is copied back: now, if no
    // reader holds an older snapshot (a passive checkpoint waits for no one).
    db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
        .await?;
    Ok(Some(u64::try_from(before - after).unwrap_or(0)))
}

/// A SQLite pragma's number (`page_count`, `freelist_count`, `auto_vacuum`…).
pub async fn pragma(db: &DatabaseConnection, name: &str) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await?;
    row.map(|r| r.try_get_by_index(0))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Rewrites the whole database once: on SQLite, switches on
/// `auto_vacuum = INCREMENTAL` (the setting only takes on an existing
/// file through a `VACUUM`) and compacts it. It holds the write lock
/// until done and needs free disk about the database's size. On
/// PostgreSQL, `VACUUM ANALYZE` of each table of [`TABLES`] (which does
/// not block readers or writers).
pub async fn vacuum(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        // One statement, so the pragma and the VACUUM share a connection.
        db.execute_unprepared("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
            .await?;
        return Ok(());
    }
    let mut done = Vec::new();
    for table in TABLES {
        if !done.contains(&table.name) {
            db.execute_unprepared(&format!("VACUUM ANALYZE {}", table.name))
                .await?;
            done.push(table.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailgraph_lines_name_the_tiers_tables_and_columns() {
        for table in TABLES {
            if let Keep::Mailgraph(scope, tier) = table.keep
                && table.name != "defence_refused_minute"
            {
                assert_eq!(table.name, tier.table(scope).name());
                assert_eq!(table.time.column(), tier.column().name());
            }
        }
    }

    #[test]
    fn the_partitioned_lines_are_the_partitioned_tables_and_share_their_horizon() {
        let mut flagged: Vec<&str> = TABLES
            .iter()
            .filter(|t| t.partitioned)
            .map(|t| t.name)
            .collect();
        flagged.dedup();
        let mut tables: Vec<&str> = partitions::TABLES.iter().map(|p| p.table).collect();
        flagged.sort_unstable();
        tables.sort_unstable();
        assert_eq!(flagged, tables);
        for line in TABLES.iter().filter(|t| t.partitioned) {
            let spec = partitions::table(line.name).unwrap();
            assert_eq!(line.time.column(), spec.column, "{}", line.name);
            // A partition goes with the first line: every line of the
            // table must agree on when.
            for other in TABLES.iter().filter(|t| t.name == line.name) {
                assert!(
                    other.partitioned && other.keep == line.keep,
                    "{}",
                    line.name
                );
            }
            // The partition's units are the column's.
            assert_eq!(
                line.time.units(DAY),
                Some(spec.bounds(1).0),
                "{}",
                line.name
            );
        }
    }

    #[test]
    fn zero_keeps_forever_and_days_are_seconds() {
        let mut s = Settings::default();
        assert_eq!(Keep::MessageTrace.seconds(&s), Some(30 * DAY));
        s.retention.message_trace_days = 0;
        assert_eq!(Keep::MessageTrace.seconds(&s), None);
        assert_eq!(
            Keep::Audit.seconds(&s),
            None,
            "the audit log stays by default"
        );
        s.retention.audit_days = crate::state::MAX_RETENTION_DAYS;
        assert_eq!(Keep::Audit.seconds(&s), Some(36_500 * DAY));
        assert_eq!(Keep::Expiry.seconds(&s), Some(0));
    }

    #[test]
    fn settings_beyond_a_century_or_odd_chunks_are_refused() {
        assert!(RetentionSettings::default().check().is_ok());
        let far = RetentionSettings {
            proposal_days: 36_501,
            ..Default::default()
        };
        assert!(far.check().unwrap_err().contains("retention.proposal_days"));
        let tiny = RetentionSettings {
            chunk_rows: 1,
            ..Default::default()
        };
        assert!(tiny.check().unwrap_err().contains("chunk_rows"));
    }

    #[test]
    fn each_time_column_is_compared_as_stored() {
        assert_eq!(Time::Unix("t").value(5), Value::from(5i64));
        assert_eq!(Time::Hours("h").value(7_199), Value::from(1i64));
        assert_eq!(Time::Hours("h").value(7_200), Value::from(2i64));
        assert_eq!(
            Time::Stamp("t").value(0),
            Value::from(chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap())
        );
    }
}
