//! `carteiro month-bench`: a month of ISP operation, one day after the
//! other, on a throw-away database, to show that storage and the portal's
//! queries stay flat once the retention horizon is passed.
//!
//! For each day it writes that day's part of one continuous generated log
//! (`mailflow::generate`: messages cross midnight into the next day's file,
//! as in rotated archives), imports it with [`log_import::import`] (what
//! `carteiro import` runs), purges with [`retention::purge`] at the end of
//! that day (the configured `[retention]`, the horizons of the tables
//! that grow with the volume shortened by `--horizon-days`) and gives SQLite's freed pages back as
//! `serve`'s purge round does, then times the queries behind the portal's
//! pages, called directly as the server functions call them: the message
//! trace by queue id, by sender and by recipient over its longest window
//! (a week), the MailFlow overview, and the month chart. It prints one line
//! a day and, at the end, the last day against the day the horizon
//! was reached, and whether the goals hold.

use crate::cli::args::MonthBench;
use crate::config::Config;
use crate::log_import;
use crate::tools::provision_bench::{Rng, quantile};
use anyhow::{Context, Result, bail};
use app::i18n::Lang;
use app::model::{ChartQuery, TraceQuery};
use app::server::{defence, mailgraph, retention, trace};
use chrono::{Datelike, NaiveDate};
use mailflow::coverage::thousands;
use mailflow::generate::{Generator, Shape};
use mailflow::time::DAY;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The relays writing the generated log (as `generate-log`'s default).
const HOSTS: [&str; 3] = ["mx1", "mx2", "smtp1"];
/// The goals of issue 19, in milliseconds (p95 on the last day).
const GOAL_MS: f64 = 50.0;
/// One query in this many asks for a queue id or address that is not there.
const ABSENT_EVERY: usize = 5;
/// The tables whose rows are counted on the horizon day and the last day.
const COUNTED: [&str; 7] = [
    "mail_message",
    "mail_recipient",
    "mail_subject_hour",
    "mail_minute",
    "mail_hour",
    "mail_domain_minute",
    "mail_domain_hour",
];

/// What is timed every day, in the order of the day line's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    QueueId,
    Sender,
    Recipient,
    Overview,
    MonthChart,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::QueueId,
        Kind::Sender,
        Kind::Recipient,
        Kind::Overview,
        Kind::MonthChart,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::QueueId => "trace queue id",
            Kind::Sender => "trace sender",
            Kind::Recipient => "trace recipient",
            Kind::Overview => "MailFlow overview",
            Kind::MonthChart => "month chart",
        }
    }
}

/// One day's measurements.
struct Day {
    day: u32,
    date: NaiveDate,
    lines: u64,
    /// Bytes: the SQLite file and its WAL, or `pg_database_size`.
    size: u64,
    import: Duration,
    purge: Duration,
    purged: u64,
    /// p50 and p95 of each [`Kind`].
    latency: [(Duration, Duration); 5],
    /// Queries for something imported that found nothing.
    misses: usize,
}

impl Day {
    fn lines_per_second(&self) -> f64 {
        self.lines as f64 / self.import.as_secs_f64().max(1e-9)
    }

    fn p95(&self, kind: Kind) -> f64 {
        ms(self.latency[kind as usize].1)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub async fn run(cfg: Config, db_given: bool, args: MonthBench) -> Result<()> {
    if !args.flat_percent.is_finite() || args.flat_percent < 0.0 {
        bail!("--flat-percent: a percentage of 0 or more");
    }
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    let mut db_cfg = cfg.database.clone();
    if !db_given {
        db_cfg.url = format!(
            "sqlite://{}?mode=rwc",
            scratch.path().join("month.db").display()
        );
    }
    // As `carteiro import`: one connection, writing one batch after another.
    db_cfg.max_connections = 1;
    let db = crate::db::open(&db_cfg).await?;
    let held = rows(&db, "mail_message").await? + rows(&db, "mail_minute").await?;
    if held > 0 && !args.force {
        bail!(
            "{} already holds mail ({} rows): give a throw-away database with --db, \
             or --force to add a month to it (its old rows are purged like the new ones)",
            crate::db::redact(&db_cfg.url),
            thousands(u64::try_from(held).unwrap_or(0))
        );
    }
    register_hosted(&db).await?;

    let mut settings = cfg.retention_settings();
    if let Some(days) = args.horizon_days {
        settings.retention.message_trace_days = days;
        settings.retention.subject_hour_days = days;
        settings.mailgraph.minute_days = days;
        settings.mailgraph_domain.minute_days = days;
    }
    // The size is flat once the longest-kept table that grows with the
    // mail's volume is past its horizon (0 keeps forever).
    let r = &settings.retention;
    let volume_days = [
        r.message_trace_days,
        r.subject_hour_days,
        settings.mailgraph.minute_days,
        settings.mailgraph_domain.minute_days,
    ];
    let horizon = if volume_days.contains(&0) {
        0
    } else {
        volume_days.into_iter().max().unwrap_or(0)
    };
    let bench = Bench {
        db: &db,
        cfg: &cfg,
        settings,
        guard: cfg.defence.guardrails()?,
        mailgraph: cfg.mailgraph_settings(),
        queries: args.queries as usize,
    };
    let first = args.start.unwrap_or_else(|| {
        chrono::Utc::now().date_naive() - chrono::Days::new(u64::from(args.days))
    });
    let start = first.and_hms_opt(0, 0, 0).context("--start")?.and_utc();
    let mut generator = Generator::new(Shape {
        seed: args.seed,
        start: start.timestamp(),
        lines_per_day: args.lines_per_day,
        hosts: HOSTS.map(String::from).to_vec(),
        rfc3339: false,
    });
    println!(
        "{} days of {} log lines from {first} into {} ({}); trace kept {}; {} queries of each kind a day \
         (trace windows: the week before the day's end; one query in {ABSENT_EVERY} for what is not there)",
        args.days,
        thousands(args.lines_per_day),
        crate::db::redact(&db_cfg.url),
        backend_name(&db),
        match horizon {
            0 => "forever".to_string(),
            d => format!("{d} days"),
        },
        args.queries,
    );
    println!("{}", header());
    let mut days = Vec::new();
    let mut counted = Vec::new();
    let mut carry = String::new();
    for day in 1..=args.days {
        let date = first + chrono::Days::new(u64::from(day - 1));
        let path = scratch.path().join(format!("mail-{date}.log"));
        let lines = write_day(&mut generator, &mut carry, date, &path)?;
        let d = bench.day(day, date, lines, &path).await?;
        std::fs::remove_file(&path).ok();
        println!("{}", line(&d));
        if day == horizon || day == args.days {
            counted.push((day, table_rows(&db).await?));
        }
        days.push(d);
    }
    print!("{}", summary(&days, horizon, args.flat_percent, &counted));
    db.close().await.ok();
    Ok(())
}

/// What every day's work needs.
struct Bench<'a> {
    db: &'a DatabaseConnection,
    cfg: &'a Config,
    settings: retention::Settings,
    guard: app::state::Guardrails,
    mailgraph: app::state::MailgraphSettings,
    queries: usize,
}

impl Bench<'_> {
    /// Imports the day's log at `path`, purges at the day's end, measures.
    async fn day(&self, day: u32, date: NaiveDate, lines: u64, path: &Path) -> Result<Day> {
        let db = self.db;
        let end = date
            .and_hms_opt(0, 0, 0)
            .context("date")?
            .and_utc()
            .timestamp()
            + DAY;
        let started = Instant::now();
        let report = log_import::import(
            db,
            self.cfg,
            &log_import::Options {
                files: vec![path.to_path_buf()],
                dry_run: false,
                report: None,
                year: Some(date.year()),
                detect: true,
            },
        )
        .await
        .with_context(|| format!("day {day}: import"))?;
        let import = started.elapsed();
        if report.lines != lines {
            bail!(
                "day {day}: {lines} lines written, {} imported",
                report.lines
            );
        }

        // As `serve`'s purge round, at the day's end, without the pauses
        // between chunks (no other writer waits here).
        let started = Instant::now();
        let opts = retention::Options {
            pause: Duration::ZERO,
            ..retention::Options::from_settings(&self.settings.retention, false)
        };
        let mut purged = 0;
        for outcome in retention::purge(db, &self.settings, end, opts, |_| true).await {
            purged += outcome
                .rows
                .with_context(|| format!("day {day}: purging {}", outcome.table.name))?
                .unwrap_or(0);
        }
        retention::reclaim(db, u32::MAX, Duration::ZERO)
            .await
            .with_context(|| format!("day {day}: giving free pages back"))?;
        let purge = started.elapsed();

        let size = size(db).await?;
        let samples = Samples::pick(db, end, self.queries, u64::from(day)).await?;
        let mut latency = [(Duration::ZERO, Duration::ZERO); 5];
        let mut misses = 0;
        for kind in Kind::ALL {
            let (times, missed) = self.time(kind, &samples, end).await?;
            latency[kind as usize] = (quantile(&times, 0.50), quantile(&times, 0.95));
            misses += missed;
        }
        Ok(Day {
            day,
            date,
            lines,
            size,
            import,
            purge,
            purged,
            latency,
            misses,
        })
    }

    /// `queries` queries of `kind` at `now`, each timed with the
    /// serialization of its answer (as the server function sends it); and
    /// how many of those for something imported found nothing.
    async fn time(
        &self,
        kind: Kind,
        samples: &Samples,
        now: i64,
    ) -> Result<(Vec<Duration>, usize)> {
        let db = self.db;
        let mut times = Vec::with_capacity(self.queries);
        let mut misses = 0;
        for i in 0..self.queries {
            let present = i % ABSENT_EVERY != ABSENT_EVERY - 1;
            let trace_query = |q: &str, sender: &str, recipient: &str| TraceQuery {
                q: q.into(),
                sender: sender.into(),
                recipient: recipient.into(),
                hours: trace::MAX_HOURS,
                ..TraceQuery::default()
            };
            let query = match kind {
                Kind::QueueId => Some(trace_query(&samples.queue_ids[i], "", "")),
                Kind::Sender => Some(trace_query("", &samples.senders[i], "")),
                Kind::Recipient => Some(trace_query("", "", &samples.recipients[i])),
                Kind::Overview | Kind::MonthChart => None,
            };
            let started = Instant::now();
            let json = match (kind, &query) {
                (_, Some(q)) => {
                    let found = trace::trace(db, q, now, Lang::En)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}: {e}", kind.label()))?;
                    if present && found.messages.is_empty() {
                        misses += 1;
                    }
                    serde_json::to_string(&found)?
                }
                (Kind::Overview, None) => {
                    serde_json::to_string(&defence::overview(db, &self.guard, now).await?)?
                }
                (_, None) => {
                    let q = ChartQuery {
                        preset: "month".into(),
                        ..ChartQuery::default()
                    };
                    let chart = mailgraph::chart(db, &self.mailgraph, &q, now)
                        .await
                        .map_err(|e| anyhow::anyhow!("month chart: {e}"))?;
                    serde_json::to_string(&chart)?
                }
            };
            times.push(started.elapsed());
            std::hint::black_box(json);
        }
        times.sort();
        Ok((times, misses))
    }
}

/// The queue ids and addresses the trace is asked for: of messages first
/// seen in the week before the day's end (what a week's trace window
/// holds), every [`ABSENT_EVERY`]-th one that is not there.
struct Samples {
    queue_ids: Vec<String>,
    senders: Vec<String>,
    recipients: Vec<String>,
}

impl Samples {
    async fn pick(db: &DatabaseConnection, end: i64, n: usize, seed: u64) -> Result<Samples> {
        let backend = db.get_database_backend();
        let from = end - trace::MAX_HOURS * 3600;
        let bounds = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT CAST(MIN(id) AS BIGINT), CAST(MAX(id) AS BIGINT) FROM mail_message \
                 WHERE first_at >= $1 AND first_at < $2",
                [from.into(), end.into()],
            ))
            .await?
            .context("no bounds")?;
        let (low, high): (Option<i64>, Option<i64>) =
            (bounds.try_get_by_index(0)?, bounds.try_get_by_index(1)?);
        let mut rng = Rng(seed);
        let mut s = Samples {
            queue_ids: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            recipients: Vec::with_capacity(n),
        };
        for i in 0..n {
            if i % ABSENT_EVERY == ABSENT_EVERY - 1 {
                let x = rng.next();
                s.queue_ids.push(format!("Z{:X}", x >> 8));
                s.senders.push(format!("nobody{x}@absent.example"));
                s.recipients.push(format!("nobody{x}@absent.example"));
                continue;
            }
            let (mut qid, mut sender, mut recipient) = (None, None, None);
            // A message at a random id, until one with a sender and a
            // recipient turns up (bounces have no sender, rejects may lack
            // a recipient).
            for _ in 0..50 {
                let (Some(low), Some(high)) = (low, high) else {
                    break;
                };
                let id = low + (rng.next() % (high - low + 1) as u64) as i64;
                let Some(row) = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        "SELECT queue_id, sender, rcpt_addrs FROM mail_message \
                         WHERE id >= $1 AND first_at >= $2 AND first_at < $3 ORDER BY id LIMIT 1",
                        [id.into(), from.into(), end.into()],
                    ))
                    .await?
                else {
                    continue;
                };
                qid.get_or_insert(row.try_get_by_index::<String>(0)?);
                let from_addr: Option<String> = row.try_get_by_index(1)?;
                if sender.is_none() {
                    sender = from_addr.filter(|a| a.contains('@'));
                }
                let to: String = row.try_get_by_index(2)?;
                if recipient.is_none() {
                    recipient = to.split(' ').find(|a| a.contains('@')).map(String::from);
                }
                if sender.is_some() && recipient.is_some() {
                    break;
                }
            }
            let absent = || format!("nobody{i}@absent.example");
            s.queue_ids.push(qid.unwrap_or_else(|| format!("Z{i:08X}")));
            s.senders.push(sender.unwrap_or_else(absent));
            s.recipients.push(recipient.unwrap_or_else(absent));
        }
        Ok(s)
    }
}

/// Writes the lines of `date` to `path`: `carry` (the first line of
/// this day, read last time), then the generator's lines until one is of
/// the next day, kept in `carry`. Returns the lines written.
fn write_day(g: &mut Generator, carry: &mut String, date: NaiveDate, path: &Path) -> Result<u64> {
    // Classic syslog stamps start with the day: "Nov  1 00:00:03".
    let prefix = date.format("%b %e ").to_string();
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut lines = 0;
    loop {
        if carry.is_empty() {
            g.next_line(carry);
        }
        if !carry.starts_with(&prefix) {
            break;
        }
        out.write_all(carry.as_bytes())?;
        carry.clear();
        lines += 1;
    }
    out.flush()?;
    Ok(lines)
}

/// Adds the generated log's customer domains as hosted domains.
async fn register_hosted(db: &DatabaseConnection) -> Result<()> {
    use app::server::provision::lookup::{DomainLimits, insert_domain};
    let now = chrono::Utc::now();
    let known = mailgraph::hosted_domains(db).await?;
    // The generated log's customers: their per-domain series are written
    // as at the ISP.
    for name in mailflow::generate::CUSTOMERS
        .iter()
        .filter(|d| !known.iter().any(|k| k == *d))
    {
        insert_domain(
            db,
            name,
            "month-bench".into(),
            None,
            &DomainLimits::NONE,
            now,
        )
        .await?;
    }
    Ok(())
}

fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        _ => "MySQL",
    }
}

/// The database's size in bytes: the SQLite file and its WAL, or
/// PostgreSQL's `pg_database_size`.
async fn size(db: &DatabaseConnection) -> Result<u64> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Sqlite {
        let row = db
            .query_one_raw(Statement::from_string(backend, "PRAGMA database_list"))
            .await?
            .context("no database file")?;
        let file: String = row.try_get_by_index(2)?;
        let len = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        return Ok(len(file.clone()) + len(format!("{file}-wal")));
    }
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT pg_database_size(current_database())",
        ))
        .await?
        .context("no size")?;
    Ok(u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0))
}

async fn rows(db: &DatabaseConnection, table: &str) -> Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
        ))
        .await?
        .context("no count")?;
    Ok(row.try_get_by_index(0)?)
}

async fn table_rows(db: &DatabaseConnection) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for table in COUNTED {
        out.push(rows(db, table).await?);
    }
    Ok(out)
}

fn header() -> String {
    let mut h = format!(
        "{:>3} {:<10} {:>9} {:>10} {:>8} {:>9}",
        "day", "date", "size MB", "import l/s", "purge s", "purged"
    );
    for kind in Kind::ALL {
        h.push_str(&format!(" {:>17}", kind.label()));
    }
    h.push_str("\n    (latencies: p50/p95 ms)");
    h
}

fn line(d: &Day) -> String {
    let mut l = format!(
        "{:>3} {} {:>9.1} {:>10} {:>8.2} {:>9}",
        d.day,
        d.date,
        mb(d.size),
        thousands(d.lines_per_second() as u64),
        d.purge.as_secs_f64(),
        thousands(d.purged),
    );
    for (p50, p95) in d.latency {
        l.push_str(&format!(
            " {:>17}",
            format!("{:.1}/{:.1}", ms(p50), ms(p95))
        ));
    }
    l
}

/// The last day against the day the horizon was reached, the rows
/// of the growing tables on both, and the goals.
fn summary(days: &[Day], horizon: u32, flat_percent: f64, counted: &[(u32, Vec<i64>)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let Some(last) = days.last() else {
        return out;
    };
    let reached = (horizon > 0 && horizon < last.day).then(|| &days[horizon as usize - 1]);
    let _ = writeln!(out);
    match reached {
        Some(h) => {
            let _ = writeln!(
                out,
                "summary: day {} (the horizon, {horizon} days, reached) → day {}",
                h.day, last.day
            );
            let change = |a: f64, b: f64| {
                let digits = if a >= 1000.0 { 0 } else { 1 };
                format!(
                    "{a:.digits$} → {b:.digits$} ({:+.1} %)",
                    100.0 * (b / a - 1.0)
                )
            };
            let _ = writeln!(
                out,
                "  {:<26} {}",
                "size MB",
                change(mb(h.size), mb(last.size))
            );
            let _ = writeln!(
                out,
                "  {:<26} {}",
                "import lines/s",
                change(h.lines_per_second(), last.lines_per_second())
            );
            let _ = writeln!(
                out,
                "  {:<26} {:.2} s ({} rows) → {:.2} s ({} rows)",
                "purge",
                h.purge.as_secs_f64(),
                thousands(h.purged),
                last.purge.as_secs_f64(),
                thousands(last.purged)
            );
            for kind in Kind::ALL {
                let label = format!("{} p95 ms", kind.label());
                let _ = writeln!(out, "  {label:<26} {}", change(h.p95(kind), last.p95(kind)));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "summary: the run ends before it passes the horizon ({}): nothing to compare; \
                 use more --days or a shorter --horizon-days",
                if horizon == 0 {
                    "kept forever".to_string()
                } else {
                    format!("{horizon} days")
                }
            );
        }
    }
    for (day, counts) in counted {
        let tables: Vec<String> = COUNTED
            .iter()
            .zip(counts)
            .map(|(t, n)| format!("{t} {}", thousands(u64::try_from(*n).unwrap_or(0))))
            .collect();
        let _ = writeln!(out, "  rows on day {day}: {}", tables.join(", "));
    }
    let misses: usize = days.iter().map(|d| d.misses).sum();
    if misses > 0 {
        let _ = writeln!(
            out,
            "  warning: {misses} traces for a queue id or address that was imported found nothing"
        );
    }
    let verdict = |ok: bool| if ok { "holds" } else { "FAILS" };
    let _ = writeln!(out, "goals (day {}):", last.day);
    for kind in [Kind::Recipient, Kind::MonthChart] {
        let p95 = last.p95(kind);
        let _ = writeln!(
            out,
            "  {} p95 < {GOAL_MS} ms: {p95:.1} ms, {}",
            kind.label(),
            verdict(p95 < GOAL_MS)
        );
    }
    match reached {
        Some(h) => {
            let growth = 100.0 * (last.size as f64 / h.size.max(1) as f64 - 1.0);
            let _ = writeln!(
                out,
                "  size flat after the horizon (day {} within {flat_percent} % of day {}): {growth:+.1} %, {}",
                last.day,
                h.day,
                verdict(growth <= flat_percent)
            );
        }
        None => {
            let _ = writeln!(out, "  size flat after the horizon: not measured");
        }
    }
    out
}
