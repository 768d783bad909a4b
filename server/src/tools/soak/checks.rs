//! What must hold after a run, read from the database: no domain over its
//! limits, no address both a mailbox and an alias, an audit entry for each
//! change the server reported done (and none more), and the ingest
//! worker's counters equal to those of a quiet import of the same log.

use super::{Plan, Report};
use crate::config::Config;
use anyhow::Result;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

async fn query(db: &DatabaseConnection, sql: &str) -> Result<Vec<QueryResult>> {
    let stmt = Statement::from_string(db.get_database_backend(), sql.to_string());
    Ok(db.query_all_raw(stmt).await?)
}

/// The text in column `i`.
fn text(row: &QueryResult, i: usize) -> Result<String> {
    Ok(row.try_get_by_index::<String>(i)?)
}

/// The integer in column `i` (cast to BIGINT in the query).
fn int(row: &QueryResult, i: usize) -> Result<i64> {
    Ok(row.try_get_by_index::<i64>(i)?)
}

/// Every broken rule in the database after the run of `plan` that gave
/// `report`; empty when all hold. The limit and address rules are checked
/// over the whole database, the audit over this run's accounts.
pub async fn database(
    db: &DatabaseConnection,
    plan: &Plan,
    report: &Report,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (table, limit, what) in [
        ("mailbox", "max_mailboxes", "mailboxes"),
        ("mail_alias", "max_aliases", "aliases"),
    ] {
        let sql = format!(
            "SELECT d.name, CAST(d.{limit} AS BIGINT), CAST(COUNT(x.id) AS BIGINT) \
             FROM mail_domain d JOIN {table} x ON x.domain_id = d.id \
             WHERE d.{limit} > 0 GROUP BY d.id, d.name, d.{limit} HAVING COUNT(x.id) > d.{limit}"
        );
        for row in query(db, &sql).await? {
            problems.push(format!(
                "domain {} holds {} {what}, over its limit of {}",
                text(&row, 0)?,
                int(&row, 2)?,
                int(&row, 1)?
            ));
        }
    }
    let both = query(
        db,
        "SELECT m.address FROM mailbox m JOIN mail_alias a ON a.address = m.address ORDER BY 1",
    )
    .await?;
    for row in both {
        problems.push(format!("{} is both a mailbox and an alias", text(&row, 0)?));
    }
    problems.extend(audit(db, plan, report).await?);
    Ok(problems)
}

/// The audit log against the changes the server reported done: per actor
/// of this run and per action (`provision.*`, `block.*`), as many entries
/// as successful answers. The import's summary entry is not a change.
async fn audit(db: &DatabaseConnection, plan: &Plan, report: &Report) -> Result<Vec<String>> {
    // Run names are hexadecimal with dots and dashes: nothing to escape.
    let sql = format!(
        "SELECT actor, action, CAST(COUNT(*) AS BIGINT) FROM audit_log \
         WHERE (actor LIKE '{}%' OR actor = '{}') \
         AND (action LIKE 'provision.%' OR action LIKE 'block.%') AND action <> 'provision.import' \
         GROUP BY actor, action",
        plan.actor_prefix, plan.token_actor
    );
    let mut audited = BTreeMap::new();
    for row in query(db, &sql).await? {
        audited.insert((text(&row, 0)?, text(&row, 1)?), int(&row, 2)? as u64);
    }
    let mut problems = Vec::new();
    let keys: std::collections::BTreeSet<&(String, String)> =
        audited.keys().chain(report.changes.keys()).collect();
    for key in keys {
        let entries = audited.get(key).copied().unwrap_or(0);
        let done = report.changes.get(key).copied().unwrap_or(0);
        if entries != done {
            problems.push(format!(
                "audit: {} has {entries} {} entries for {done} successful changes",
                key.0, key.1
            ));
        }
    }
    Ok(problems)
}

/// Imports `log` into `db` (a fresh database) with nothing else running,
/// as `carteiro import` would: what the live worker should have stored.
/// Returns the lines read.
pub async fn quiet_import(cfg: &Config, db: &DatabaseConnection, log: &Path) -> Result<u64> {
    crate::db::migrate(db).await?;
    let report = crate::log_import::import(
        db,
        cfg,
        &crate::log_import::Options {
            files: vec![log.to_path_buf()],
            dry_run: false,
            report: None,
            year: None,
            detect: true,
        },
    )
    .await?;
    Ok(report.lines)
}

/// The per-minute counters of `hosts`: (host, minute, series) → n.
async fn minute_rows(
    db: &DatabaseConnection,
    hosts: &[String],
) -> Result<BTreeMap<(String, i64, String), i64>> {
    let list = hosts
        .iter()
        .map(|h| format!("'{}'", h.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT host, CAST(minute AS BIGINT), series, CAST(n AS BIGINT) FROM mail_minute WHERE host IN ({list})"
    );
    let mut rows = BTreeMap::new();
    for row in query(db, &sql).await? {
        rows.insert(
            (text(&row, 0)?, int(&row, 1)?, text(&row, 2)?),
            int(&row, 3)?,
        );
    }
    Ok(rows)
}

/// Waits (up to `wait`) until the live database holds the same per-minute
/// counters for `hosts` as the quiet import; `Ok` with the rows compared,
/// or what differs.
pub async fn ingest(
    live: &DatabaseConnection,
    quiet: &DatabaseConnection,
    hosts: &[String],
    wait: Duration,
) -> Result<usize, String> {
    let want = minute_rows(quiet, hosts)
        .await
        .map_err(|e| format!("{e:#}"))?;
    if want.is_empty() {
        return Err("the quiet import stored no counters: nothing to compare".into());
    }
    let until = Instant::now() + wait;
    loop {
        let got = minute_rows(live, hosts)
            .await
            .map_err(|e| format!("{e:#}"))?;
        if got == want {
            return Ok(want.len());
        }
        if Instant::now() >= until {
            return Err(difference(&got, &want));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Per series, what the live worker stored against the quiet import, and
/// the first differing row.
fn difference(
    got: &BTreeMap<(String, i64, String), i64>,
    want: &BTreeMap<(String, i64, String), i64>,
) -> String {
    let sums = |rows: &BTreeMap<(String, i64, String), i64>| {
        let mut s: BTreeMap<String, i64> = BTreeMap::new();
        for ((_, _, series), n) in rows {
            *s.entry(series.clone()).or_default() += n;
        }
        s
    };
    let (g, w) = (sums(got), sums(want));
    let mut out = String::from("the live counters differ from a quiet import's:");
    for series in g
        .keys()
        .chain(w.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (g.get(series).unwrap_or(&0), w.get(series).unwrap_or(&0));
        if a != b {
            out.push_str(&format!(" {series}: live {a}, quiet {b};"));
        }
    }
    let first = want
        .iter()
        .find(|(k, n)| got.get(*k) != Some(n))
        .map(|(k, n)| format!(" first row: {k:?} live {:?}, quiet {n}", got.get(k)))
        .or_else(|| {
            got.iter()
                .find(|(k, _)| !want.contains_key(*k))
                .map(|(k, n)| format!(" first row: {k:?} live {n}, not in the quiet import"))
        });
    out.push_str(&first.unwrap_or_default());
    out
}
