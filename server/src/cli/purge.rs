//! `carteiro purge [--dry-run] [--vacuum]`: one purge round, as `serve`
//! runs every ten minutes ([`crate::start::Purge::round`]), with a line per
//! table: the setting, the PostgreSQL day partitions dropped whole (or that
//! would be), the rows deleted in all (theirs included) and the time.

use crate::config::Config;
use crate::db;
use crate::start::{Purge, Round};
use anyhow::{Result, bail};
use mailflow::coverage::thousands;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

pub(super) async fn run(cfg: &Config, dry_run: bool, vacuum: bool) -> Result<()> {
    let db = db::open(&cfg.database).await?;
    let purge = Purge::new(db.clone(), cfg);
    let round = purge.round(dry_run).await;
    print!("{}", table(&round, dry_run));
    let failed = failures(&round);
    if vacuum {
        eprintln!("Rewriting the whole database (VACUUM): other writers wait until it is done…");
        let started = Instant::now();
        app::server::retention::vacuum(&db).await?;
        println!("vacuum done in {}", secs(started.elapsed()));
    }
    if failed > 0 {
        bail!("{failed} tables could not be purged (see above)");
    }
    Ok(())
}

/// The round as a table for people.
fn table(round: &Round, dry_run: bool) -> String {
    let verb = if dry_run { "would delete" } else { "deleted" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<40} {:>4} {:>12} {:>9}",
        "table", "kept by", "days", verb, "time"
    );
    let line = |out: &mut String, table: &str, setting: &str, days: usize, rows: String, took| {
        let days = if days == 0 {
            String::new()
        } else {
            days.to_string()
        };
        let _ = writeln!(
            out,
            "{table:<24} {setting:<40} {days:>4} {rows:>12} {:>9}",
            secs(took)
        );
    };
    let (mailboxes, took) = &round.mailboxes;
    line(
        &mut out,
        "mailbox (deleted)",
        "provision.retention_days",
        0,
        count(mailboxes.as_ref().map(|n| Some(*n))),
        *took,
    );
    let mut total = 0;
    for o in &round.tables {
        let setting = match &o.rows {
            Ok(None) => format!("{} (forever)", o.table.keep.setting()),
            _ => o.table.keep.setting().to_string(),
        };
        total += o.rows.as_ref().ok().copied().flatten().unwrap_or(0);
        line(
            &mut out,
            o.table.name,
            &setting,
            o.partitions.len(),
            count(o.rows.as_ref().map(|n| *n)),
            o.took,
        );
    }
    let all: Duration = round.tables.iter().map(|o| o.took).sum::<Duration>() + *took;
    line(
        &mut out,
        "total",
        "",
        round.tables.iter().map(|o| o.partitions.len()).sum(),
        thousands(total + mailboxes.as_ref().copied().unwrap_or(0)),
        all,
    );
    match &round.ahead {
        (Ok(0), _) => {}
        (Ok(n), took) => {
            let _ = writeln!(
                out,
                "created {n} day partitions for today and the next two days in {}",
                secs(*took)
            );
        }
        (Err(e), _) => {
            let _ = writeln!(out, "creating the day partitions ahead failed: {e}");
        }
    }
    let (reclaimed, took) = &round.reclaimed;
    match reclaimed {
        Ok(Some(pages)) => {
            let _ = writeln!(
                out,
                "gave {} free pages back to the file system in {}",
                thousands(*pages),
                secs(*took)
            );
        }
        Ok(None) => {}
        Err(e) => {
            let _ = writeln!(out, "giving free pages back failed: {e}");
        }
    }
    out
}

/// How many lines of the round failed (each printed as `error: …`).
fn failures(round: &Round) -> usize {
    usize::from(round.mailboxes.0.is_err())
        + usize::from(round.ahead.0.is_err())
        + round.tables.iter().filter(|o| o.rows.is_err()).count()
}

fn count(rows: Result<Option<u64>, &sea_orm::DbErr>) -> String {
    match rows {
        Ok(Some(n)) => thousands(n),
        Ok(None) => "-".into(),
        Err(e) => format!("error: {e}"),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
