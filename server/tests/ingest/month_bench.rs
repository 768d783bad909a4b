//! `carteiro month-bench`: a short run prints a line a day with the
//! database's size and every query's latencies, its daily purge leaves
//! exactly the trace horizon, and a database holding mail is refused.

use crate::common::{carteiro, fresh_database, stdout_of};
use crate::helpers::{START, connect};
use sea_orm::{ConnectionTrait, Statement};

const DAY: i64 = 86_400;

/// The day lines of the output: `day date size import/s purge purged`,
/// then p50/p95 of the five queries.
fn day_lines(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|f| f.len() > 1 && f[1].starts_with("2026-11-"))
        .collect()
}

#[tokio::test]
async fn three_days_print_three_lines_and_keep_only_the_trace_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let bench = || {
        let mut cmd = carteiro();
        cmd.args(["--db", &url, "month-bench", "--days", "3"]);
        cmd.args(["--lines-per-day", "3000", "--horizon-days", "2"]);
        cmd.args(["--queries", "5", "--start", "2026-11-01"]);
        cmd
    };

    let out = String::from_utf8(stdout_of(&mut bench())).unwrap();

    let days = day_lines(&out);
    assert_eq!(days.len(), 3, "{out}");
    for (i, d) in days.iter().enumerate() {
        assert_eq!(d[0], (i + 1).to_string(), "{out}");
        assert_eq!(d[1], format!("2026-11-0{}", i + 1));
        assert_eq!(d.len(), 11, "five p50/p95 columns: {out}");
        let size: f64 = d[2].parse().unwrap();
        assert!(size > 0.1, "a size in MB: {out}");
        let rate: u64 = d[3].replace(',', "").parse().unwrap();
        assert!(rate > 0, "{out}");
        for latency in &d[6..] {
            let (p50, p95) = latency.split_once('/').expect("p50/p95");
            let (p50, p95): (f64, f64) = (p50.parse().unwrap(), p95.parse().unwrap());
            assert!(p95 > 0.0 && p95 >= p50, "{latency}: {out}");
        }
    }
    // Nothing is old enough on days 1 and 2; day 1's rows go on day 3.
    let purged = |d: &Vec<String>| d[5].replace(',', "").parse::<u64>().unwrap();
    assert_eq!(purged(&days[0]), 0, "{out}");
    assert!(purged(&days[2]) > 0, "{out}");
    assert!(out.contains("summary: day 2 (the horizon, 2 days, reached) → day 3"));
    assert!(out.contains("trace recipient p95 < 50 ms:"), "{out}");
    assert!(out.contains("size flat after the horizon (day 3 within 10 % of day 2)"));
    assert!(
        !out.contains("warning:"),
        "every imported address is found: {out}"
    );

    // The trace holds days 2 and 3, both, and nothing older.
    let db = connect(&url).await;
    let count = |sql: String| {
        let db = &db;
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let in_day = |table: &str, column: &str, day: i64, per: i64| {
        let (from, to) = ((START + (day - 1) * DAY) / per, (START + day * DAY) / per);
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE {column} >= {from} AND {column} < {to}"
        )
    };
    for (table, column, per) in [
        ("mail_message", "first_at", 1),
        ("mail_recipient", "first_hour", 3600),
    ] {
        assert_eq!(
            count(in_day(table, column, 1, per)).await,
            0,
            "{table}: day 1 purged"
        );
        for day in [2, 3] {
            assert!(
                count(in_day(table, column, day, per)).await > 0,
                "{table}: day {day} kept"
            );
        }
        let all = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
        let kept = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE {column} >= {}",
            (START + DAY) / per
        );
        assert_eq!(
            count(all).await,
            count(kept).await,
            "{table}: nothing older than day 2"
        );
    }
    db.close().await.ok();

    // Run again on it: refused.
    let again = bench().output().unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already holds mail"), "{err}");
}
