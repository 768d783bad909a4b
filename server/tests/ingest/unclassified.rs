//! The live worker and the rejects no rule classifies: it stores them by
//! normalised text in its batches, and picks up a rule saved from the
//! "Unclassified rejects" page without a restart.

use crate::common::fresh_database;
use crate::helpers::{series_sums, worker_on};
use app::server::audit::Actor;
use sea_orm::ConnectionTrait;
use std::io::Write;
use std::time::{Duration, Instant};

fn reject(second: u32, days: u32) -> String {
    format!(
        "Nov  2 10:00:{second:02} mx1 postfix/smtpd[10]: NOQUEUE: reject: RCPT from x[192.0.2.{second}]: 550 5.7.1 <u{second}@cliente.com.br>: Recipient address rejected: Mailbox disabled for {days} days; from=<s@e.example> to=<u{second}@cliente.com.br> proto=ESMTP helo=<x>\n"
    )
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Polls until `check` holds, for at most `secs` seconds.
async fn eventually<F, Fut>(secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn stored_n(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM mail_unclassified".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_stores_unclassified_rejects_and_reloads_saved_rules() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    append(&log, &(reject(1, 3) + &reject(2, 40)));
    let url = fresh_database(&dir).await;
    let w = worker_on(&url, &log).await;
    eventually(20, || async { stored_n(&w.db).await == 2 }).await;

    let saved = app::server::unclassified::save(
        &w.db,
        &Actor::cli(),
        "mailbox_disabled",
        r"(?i)Mailbox disabled for \d+ days",
    )
    .await
    .unwrap();
    assert_eq!(saved.preview.rejects, 2);

    // Within the half minute the worker re-reads its rules: rejects of
    // that kind keep coming until one is counted in the new class, and
    // the ones after that are no longer unclassified.
    let mut sent = 0;
    let counted = || async {
        series_sums(&w.db)
            .await
            .get("reject.mailbox_disabled")
            .copied()
            .unwrap_or(0)
    };
    let start = Instant::now();
    while counted().await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the rule was not used"
        );
        sent += 1;
        append(&log, &reject(3 + sent % 50, sent));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    append(&log, &reject(59, 1));
    let unclassified_then = stored_n(&w.db).await;
    eventually(20, || async { counted().await >= 2 }).await;
    assert_eq!(stored_n(&w.db).await, unclassified_then);
    assert!(unclassified_then < 2 + i64::from(sent));
    w.stop().await;
}
