//! Parsing ahead of the counter: lines parsed and classified on another
//! thread (and the next files read while one is counted) count exactly as
//! the engine reading them one by one; files named in any order count as
//! the one log they were cut from, with the messages that cross from one
//! file to the next correlated.

use crate::common::fresh_database;
use crate::helpers::{connect, count_in_one_pass, generate, rows, series_sums, snapshot};
use crate::import::{import, reported};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The shared corpus's raw logs (section B of its README), one after the
/// other: other servers, daemons and syslog formats than the generator's.
fn corpus_log() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut all = Vec::new();
    for file in [
        "pixelpark-postfix-logsums__mail.log",
        "lightmeter-controlcenter__complete/mail.log.1",
        "lightmeter-controlcenter__complete/mail.log",
        "infohtreasure-Postfix-Maillog-Dump__maillog",
        "infohtreasure-Postfix-Maillog-Dump__mailog2",
        "lograptor__postfix.log",
        "digineo-postfix_exporter__testdata/mail.log",
        "sergeymakinen-postfix_exporter__testdata/mail.log",
        "crowdsec-hub__tests/postscreen-logs/postscreen-logs.log",
    ] {
        let path = root.join(file);
        let text = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("the shared corpus: {}: {e}", path.display()));
        all.extend_from_slice(&text);
        if all.last() != Some(&b'\n') {
            all.push(b'\n');
        }
    }
    all
}

/// `--dry-run` and into a database: both report what the engine counts
/// reading the lines one by one on one thread.
async fn counts_as_in_one_pass(log: &[u8], dir: &tempfile::TempDir) {
    let path = dir.path().join("mail.log");
    std::fs::write(&path, log).unwrap();
    let want = count_in_one_pass(log);
    let dry = import("sqlite::memory:", &[&path], &["--dry-run"]);
    assert_eq!(reported(&dry), want);
    let lines = log.split(|b| *b == b'\n').count() - 1;
    assert_eq!(dry["lines"], lines);
    let url = fresh_database(dir).await;
    assert_eq!(reported(&import(&url, &[&path], &[])), want);
    assert_eq!(series_sums(&connect(&url).await).await, want);
}

#[tokio::test]
async fn the_corpus_counts_as_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let log = corpus_log();
    let want = count_in_one_pass(&log);
    assert!(
        want["received"] > 300 && want["rejected"] > 50 && want["sent"] > 400,
        "{want:?}"
    );
    counts_as_in_one_pass(&log, &dir).await;
}

#[tokio::test]
async fn a_generated_log_counts_as_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let text = generate(&dir.path().join("gen.log"), 40_000, 19);
    counts_as_in_one_pass(text.as_bytes(), &dir).await;
}

/// `text` cut at line boundaries into `parts` files (the second gzipped,
/// as logrotate leaves them), returned in the order given by `order`.
fn cut(dir: &Path, text: &str, parts: usize, order: &[usize]) -> Vec<PathBuf> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let per = lines.len().div_ceil(parts);
    let paths: Vec<PathBuf> = lines
        .chunks(per)
        .enumerate()
        .map(|(i, chunk)| {
            let body = chunk.concat();
            if i == 1 {
                let path = dir.join(format!("mail.log.{i}.gz"));
                let mut enc = flate2::write::GzEncoder::new(
                    std::fs::File::create(&path).unwrap(),
                    flate2::Compression::fast(),
                );
                enc.write_all(body.as_bytes()).unwrap();
                enc.finish().unwrap();
                path
            } else {
                let path = dir.join(format!("mail.log.{i}"));
                std::fs::write(&path, body).unwrap();
                path
            }
        })
        .collect();
    assert_eq!(paths.len(), parts);
    order.iter().map(|&i| paths[i].clone()).collect()
}

#[tokio::test]
async fn files_in_any_order_count_and_correlate_as_the_log_they_were_cut_from() {
    let dir = tempfile::tempdir().unwrap();
    let text = generate(&dir.path().join("whole.log"), 30_000, 23);
    let one = fresh_database(&dir).await;
    let whole = import(&one, &[&dir.path().join("whole.log")], &[]);
    let want = snapshot(&connect(&one).await).await;

    let parts = tempfile::tempdir().unwrap();
    let files = cut(parts.path(), &text, 4, &[2, 0, 3, 1]);
    let named: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let many = fresh_database(&parts).await;
    let cut_up = import(&many, &named, &[]);
    assert_eq!(reported(&cut_up), reported(&whole));
    assert_eq!(cut_up["lines"], 30_000);
    // Counters and every message's trace, recipients included: the
    // messages whose lines are in two files are whole.
    assert_eq!(snapshot(&connect(&many).await).await, want);
    // Each file has its own checkpoint at its end: imported again, nothing.
    let again = import(&many, &named, &[]);
    assert_eq!(again["lines"], 0, "{again}");
}

#[tokio::test]
async fn a_message_logged_across_two_files_is_one_trace() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("mail.log.1");
    let second = dir.path().join("mail.log");
    std::fs::write(
        &first,
        "Nov  2 23:59:58 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=mail.example.org[198.51.100.7]\n\
         Nov  2 23:59:58 mx1 postfix/cleanup[11]: 4F1A2B3C4D: message-id=<abc@example.org>\n\
         Nov  2 23:59:59 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<a@example.org>, size=900, nrcpt=1 (queue active)\n",
    )
    .unwrap();
    std::fs::write(
        &second,
        "Nov  3 00:00:01 mx1 postfix/smtp[13]: 4F1A2B3C4D: to=<b@example.net>, relay=mx.example.net[203.0.113.9]:25, delay=3, delays=0/0/1/2, dsn=2.0.0, status=sent (250 ok)\n\
         Nov  3 00:00:01 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed\n",
    )
    .unwrap();
    let url = fresh_database(&dir).await;
    // Named newest first, as `ls` lists rotated logs.
    let r = import(&url, &[&second, &first], &[]);
    assert_eq!(
        (
            r["totals"]["received"].as_i64(),
            r["totals"]["sent"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let rows = rows(
        &connect(&url).await,
        "SELECT client_ip, sender, recipients, CAST(CASE WHEN removed THEN 1 ELSE 0 END AS BIGINT) FROM mail_message",
    )
    .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        [&row[0], &row[1], &row[3]],
        [
            r#"Some("198.51.100.7")"#,
            r#"Some("a@example.org")"#,
            "Some(1)"
        ]
    );
    assert!(
        row[2].contains("b@example.net") && row[2].contains("sent"),
        "{row:?}"
    );
}
