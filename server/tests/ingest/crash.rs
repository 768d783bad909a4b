//! kill -9 during `carteiro import`, at several moments, then run it again
//! until it finishes: the database holds exactly what one uninterrupted
//! run stores: no line lost, none counted twice, and the recipient index
//! holds exactly one row per (message, recipient) (see
//! [`snapshot`](crate::helpers::snapshot)).

use crate::common::{carteiro, fresh_database, host_domains};
use crate::helpers::{assert_tiers_agree, connect, generate, snapshot};

/// Customer domains of the generated log: their series are stored too.
const HOSTED: [&str; 2] = ["cliente.com.br", "provedor.net.br"];
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start_import(db: &str, log: &Path) -> Child {
    carteiro()
        // Small batches: many commits, so a kill lands between and inside them.
        .env("CARTEIRO_MAILFLOW__BATCH_LINES", "1500")
        .args(["--db", db, "import", "--report", "json", "--year", "2026"])
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_any_moment_neither_loses_nor_double_counts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 120_000, 11);

    let whole = tempfile::tempdir().unwrap();
    let whole_url = fresh_database(&whole).await;
    host_domains(&connect(&whole_url).await, &HOSTED).await;
    let started = Instant::now();
    let status = start_import(&whole_url, &log).wait().unwrap();
    assert!(status.success());
    let full_run = started.elapsed();
    let want = snapshot(&connect(&whole_url).await).await;
    assert!(
        want.len() > 10_000,
        "the run stored too little: {}",
        want.len()
    );

    // Kill at a fifth of a full run's time again and again: each attempt
    // resumes from the last checkpoint and gets further.
    let url = fresh_database(&dir).await;
    host_domains(&connect(&url).await, &HOSTED).await;
    let mut kills = 0;
    for attempt in 0.. {
        assert!(attempt < 100, "the import never finished");
        let mut child = start_import(&url, &log);
        std::thread::sleep(full_run / 5 + Duration::from_millis(attempt * 7));
        if child.try_wait().unwrap().is_some() {
            assert!(child.wait().unwrap().success());
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    assert!(kills >= 3, "only {kills} kills landed during the import");
    let db = connect(&url).await;
    assert_tiers_agree(&db).await;
    let got = snapshot(&db).await;
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the interrupted import stored other data");
}
