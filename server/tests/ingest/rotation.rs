//! The live worker of `carteiro serve` follows a file through both
//! logrotate styles and stores exactly what one pass over all lines counts.

use crate::common::fresh_database;
use crate::helpers::{Worker, count_in_one_pass, generate, series_sums, worker_on, workers_on};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Appends `text` to `path` in a few writes, like a busy syslog daemon.
fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let bytes = text.as_bytes();
    let cut = bytes.len() / 3;
    // A write boundary inside a line: the worker must wait for its end.
    f.write_all(&bytes[..cut]).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    f.write_all(&bytes[cut..]).unwrap();
}

async fn wait_for(db: &sea_orm::DatabaseConnection, want: &BTreeMap<String, i64>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = series_sums(db).await;
        if &got == want {
            return;
        }
        assert!(Instant::now() < deadline, "stored {got:?}\nwanted {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn three_parts(dir: &Path) -> [String; 3] {
    let text = generate(&dir.join("all.log"), 9_000, 21);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    [
        lines[..3000].concat(),
        lines[3000..6000].concat(),
        lines[6000..].concat(),
    ]
}

/// A worker that has stored the first of [`three_parts`] of a log.
async fn following_the_first_part() -> (tempfile::TempDir, [String; 3], std::path::PathBuf, Worker)
{
    let dir = tempfile::tempdir().unwrap();
    let parts = three_parts(dir.path());
    let log = dir.path().join("mail.log");
    append(&log, &parts[0]);
    let url = fresh_database(&dir).await;
    let w = worker_on(&url, &log).await;
    wait_for(&w.db, &count_in_one_pass(&parts[0])).await;
    (dir, parts, log, w)
}

#[tokio::test(flavor = "multi_thread")]
async fn rename_and_create_rotation_loses_and_repeats_nothing() {
    let (dir, parts, log, w) = following_the_first_part().await;

    // logrotate renames; the writer still appends to the old file for a
    // moment, then opens the new one.
    let mut old = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::fs::rename(&log, dir.path().join("mail.log.1")).unwrap();
    old.write_all(parts[1].as_bytes()).unwrap();
    drop(old);
    append(&log, &parts[2]);
    wait_for(&w.db, &count_in_one_pass(parts.concat())).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = w.board.read().unwrap()[0].clone();
    assert_eq!(status.last_error, None);
    assert_eq!(status.state.as_str(), "following");
    assert_eq!(status.offset, parts[2].len() as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn copytruncate_rotation_loses_and_repeats_nothing() {
    let (dir, parts, log, w) = following_the_first_part().await;

    // More lines arrive, and logrotate copies and truncates before the
    // worker has read them: they must come from the copy.
    append(&log, &parts[1]);
    std::fs::copy(&log, dir.path().join("mail.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &parts[2]);
    wait_for(&w.db, &count_in_one_pass(parts.concat())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_worker_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let parts = three_parts(dir.path());
    let log = dir.path().join("mail.log");
    append(&log, &parts[0]);
    let url = fresh_database(&dir).await;
    let first = worker_on(&url, &log).await;
    wait_for(&first.db, &count_in_one_pass(&parts[0])).await;
    first.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // While the worker was down, the file grew and was rotated.
    std::fs::rename(&log, dir.path().join("mail.log.1")).unwrap();
    append(&dir.path().join("mail.log.1"), &parts[1]);
    append(&log, &parts[2]);
    let second = worker_on(&url, &log).await;
    wait_for(&second.db, &count_in_one_pass(parts.concat())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn several_sources_write_to_one_database_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // Both relays' logs name the same hosts, so their batches update the
    // very same counter rows concurrently.
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    let text_a = generate(&a, 20_000, 31);
    let text_b = generate(&b, 20_000, 32);
    let url = fresh_database(&dir).await;
    let w = workers_on(&url, &[&a, &b]).await;
    let mut want = count_in_one_pass(&text_a);
    for (series, n) in count_in_one_pass(&text_b) {
        *want.entry(series).or_default() += n;
    }
    wait_for(&w.db, &want).await;
    let board = w.board.read().unwrap().clone();
    assert!(board.iter().all(|s| s.last_error.is_none()), "{board:?}");
}
