//! `carteiro mailgraph-bench`: how fast the charts answer with a year of
//! data at the ISP's volume.
//!
//! It fills the series tables (the configured database, or --db) with what
//! --days of ingest at --messages-per-day over --hosts log hosts and
//! --domains hosted domains leave behind under the configured retention:
//! minutes for the minute tier's days, hours and days for theirs, each
//! coarser row the exact sum of the finer ones it covers. The counts follow
//! a daily and weekly rhythm with noise; the domains share the traffic by a
//! Zipf law, so most of them are small. Nothing is parsed: generating a
//! year of logs (seven billion lines) would measure the parser, not the
//! charts. Then it calls the chart query behind `/api/mailgraph/chart`
//! (and serializes its answer as the server function does) --queries times
//! per kind and prints the latency percentiles.

use crate::ingest::store::write_counts;
use crate::tools::provision_bench::{Rng, report};
use anyhow::{Context, Result};
use app::model::ChartQuery;
use app::server::mailgraph::{self, Scope, Tier};
use app::state::MailgraphSettings;
use mailflow::time::{DAY, HOUR, MINUTE, MINUTES_PER_DAY};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use std::collections::BTreeMap;
use std::time::Instant;

pub struct Options {
    pub days: i64,
    pub messages_per_day: u64,
    pub hosts: usize,
    pub domains: usize,
    pub queries: usize,
}

/// Each series' share of the received messages.
const SHARES: [(&str, f64); 19] = [
    ("received", 1.0),
    ("sent", 1.9),
    ("bounced", 0.05),
    ("deferred", 0.08),
    ("rejected", 1.0),
    ("spam", 0.06),
    ("virus", 0.002),
    ("sasl_failures", 0.25),
    ("reject.unknown_user", 0.35),
    ("reject.rbl", 0.2),
    ("reject.relay", 0.08),
    ("reject.domain", 0.09),
    ("reject.not_logged", 0.07),
    ("reject.spf", 0.06),
    ("reject.other", 0.05),
    ("reject.sender_denied", 0.045),
    ("reject.sender_other", 0.04),
    ("reject.rate", 0.02),
    ("reject.not_owned", 0.013),
];

/// `x` rounded up or down at random, so that small rates still add up.
fn round(rng: &mut Rng, x: f64) -> u64 {
    (x + rng.unit()).floor().max(0.0) as u64
}

/// Traffic at minute `t` relative to the day's average: a night trough,
/// a working-hours plateau, quieter weekends.
fn rhythm(t: i64) -> f64 {
    let hour = (t.rem_euclid(DAY)) as f64 / HOUR as f64;
    let day = 1.0 - 0.75 * ((hour - 3.0) * std::f64::consts::PI / 24.0).cos().powi(2);
    let weekday = (t.div_euclid(DAY) + 4).rem_euclid(7); // 0 = Sunday
    let week = if weekday == 0 || weekday == 6 {
        0.6
    } else {
        1.1
    };
    day * week * 1.45
}

/// Rows of one table: (time, key, series) → n.
type Rows<'a> = BTreeMap<(i64, &'a str, &'static str), u64>;

pub async fn run(db: &DatabaseConnection, settings: &MailgraphSettings, o: Options) -> Result<()> {
    let now = chrono::Utc::now().timestamp();
    let end = Tier::Minute.start(now, 0);
    let start = Tier::Day.start(end - o.days * DAY, 0);
    let have = count(db, "mail_day").await?;
    if have > 0 {
        println!("mail_day already holds {have} rows: measuring what is there");
    } else {
        fill(db, settings, &o, start, end).await?;
    }
    measure(db, settings, &o, now).await
}

async fn count(db: &DatabaseConnection, table: &str) -> Result<i64> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
        ))
        .await?
        .context("no count")?;
    Ok(row.try_get_by_index(0)?)
}

async fn fill(
    db: &DatabaseConnection,
    settings: &MailgraphSettings,
    o: &Options,
    start: i64,
    end: i64,
) -> Result<()> {
    let started = Instant::now();
    let hosts: Vec<String> = (1..=o.hosts).map(|i| format!("mx{i}")).collect();
    let domains: Vec<String> = (0..o.domains)
        .map(|i| format!("cliente{i:04}.com.br"))
        .collect();
    // Zipf weights (s = 1.1), summing to 1.
    let zipf: Vec<f64> = (1..=o.domains)
        .map(|r| 1.0 / (r as f64).powf(1.1))
        .collect();
    let total: f64 = zipf.iter().sum();
    let weights: Vec<f64> = zipf.iter().map(|w| w / total).collect();
    let kept = |scope_days: u32| {
        if scope_days == 0 {
            start
        } else {
            end - i64::from(scope_days) * DAY
        }
    };
    let r = &settings.retention;
    let d = &settings.domain_retention;
    let per_minute = o.messages_per_day as f64 / MINUTES_PER_DAY as f64 / o.hosts as f64;
    let mut rng = Rng(2026);
    let mut written = 0u64;
    let mut day = start;
    while day < end {
        // One day at a time: its minutes per host, summed into hours and
        // the day, and shared out among the domains by hour.
        let mut tiers: [Rows<'_>; 6] = Default::default();
        for host in &hosts {
            for minute in (day..(day + DAY).min(end)).step_by(MINUTE as usize) {
                let level = per_minute * rhythm(minute) * (0.85 + 0.3 * rng.unit());
                for (series, share) in SHARES {
                    let n = round(&mut rng, level * share);
                    if n == 0 {
                        continue;
                    }
                    for (tier, i) in [(Tier::Minute, 0), (Tier::Hour, 1), (Tier::Day, 2)] {
                        let at = tier.start(minute, 0);
                        if at >= kept(tier.retention(r)) {
                            *tiers[i].entry((at, host.as_str(), series)).or_default() += n;
                        }
                    }
                }
            }
        }
        // Domains: the hour totals of all hosts, shared by weight; the
        // minute rows only for the days the domain minute tier keeps.
        let mut hour_totals: BTreeMap<(i64, &'static str), u64> = BTreeMap::new();
        for ((at, _, series), n) in &tiers[1] {
            *hour_totals.entry((*at, series)).or_default() += n;
        }
        for ((hour, series), n) in hour_totals {
            for (domain, w) in domains.iter().zip(&weights) {
                let share = round(&mut rng, n as f64 * w);
                if share == 0 {
                    continue;
                }
                if hour >= kept(d.hour_days) {
                    *tiers[4].entry((hour, domain.as_str(), series)).or_default() += share;
                }
                *tiers[5]
                    .entry((Tier::Day.start(hour, 0), domain.as_str(), series))
                    .or_default() += share;
                if hour >= kept(d.minute_days) {
                    // Spread over the hour's minutes.
                    let mut left = share;
                    for m in 0..60 {
                        let n = if m == 59 {
                            left
                        } else {
                            left.min(round(&mut rng, share as f64 / 60.0))
                        };
                        left -= n;
                        if n > 0 {
                            *tiers[3]
                                .entry((hour + m * 60, domain.as_str(), series))
                                .or_default() += n;
                        }
                    }
                }
            }
        }
        if !tiers[0].is_empty() || !tiers[3].is_empty() {
            app::server::partitions::ensure_days(db, day, (day + DAY).min(end)).await?;
        }
        let txn = db.begin().await?;
        for (i, rows) in tiers.iter().enumerate() {
            let scope = if i < 3 { Scope::Host } else { Scope::Domain };
            let tier = Tier::ALL[i % 3];
            write_counts(&txn, tier, scope, rows).await?;
            written += rows.len() as u64;
        }
        txn.commit().await?;
        day += DAY;
        eprint!(
            "\rfilled {} of {} days, {written} rows, {:.0} s",
            (day - start) / DAY,
            (end - start + DAY - 1) / DAY,
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    println!(
        "filled {written} rows ({} hosts, {} domains, {} messages/day) in {:.0} s",
        o.hosts,
        o.domains,
        o.messages_per_day,
        started.elapsed().as_secs_f64()
    );
    for scope in [Scope::Host, Scope::Domain] {
        for tier in Tier::ALL {
            let table = tier.table(scope);
            println!("  {table:<20} {:>10} rows", count(db, table.name()).await?);
        }
    }
    Ok(())
}

async fn measure(
    db: &DatabaseConnection,
    settings: &MailgraphSettings,
    o: &Options,
    now: i64,
) -> Result<()> {
    let kinds: [(&str, &str, &str, &str); 7] = [
        ("year, all hosts (day tier)", "year", "", ""),
        ("year, one host", "year", "mx1", ""),
        ("year, the biggest domain", "year", "", "cliente0000.com.br"),
        ("year, a small domain", "year", "", "cliente0500.com.br"),
        ("month, all hosts (hour tier)", "month", "", ""),
        ("week, all hosts (hour tier)", "week", "", ""),
        ("day, all hosts (minute tier)", "day", "", ""),
    ];
    for (label, preset, host, domain) in kinds {
        let q = ChartQuery {
            preset: preset.into(),
            host: host.into(),
            domain: domain.into(),
            ..ChartQuery::default()
        };
        let mut times = Vec::with_capacity(o.queries);
        let mut points = 0;
        for _ in 0..o.queries {
            let t = Instant::now();
            let data = mailgraph::chart(db, settings, &q, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let json = serde_json::to_string(&data)?;
            times.push(t.elapsed());
            points = data.series.first().map_or(0, |s| s.values.len()) * data.series.len();
            std::hint::black_box(json);
        }
        report(label, times, points);
    }
    Ok(())
}
