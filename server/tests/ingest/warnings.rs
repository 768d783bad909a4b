//! Never a silent zero: a log whose Postfix lines give almost no events
//! warns in `carteiro import`'s report and on the live source's status;
//! repeat lines are read, not counted as unparsed.

use crate::common::{carteiro, fresh_database};
use crate::helpers::{generate, worker_on};
use crate::import::import;
use std::path::Path;
use std::time::{Duration, Instant};

/// `n` Postfix lines in a dialect the engine does not read: a relay that
/// puts the facility before each message. Syslog lines all right, events none.
fn unread_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Nov  1 00:{:02}:{:02} relay postfix/smtpd[{}]: <mail.info> {:X}: client=unknown[203.0.113.{}]\n",
                i / 60 % 60,
                i % 60,
                1000 + i,
                0x1000 + i,
                i % 250
            )
        })
        .collect()
}

#[tokio::test]
async fn a_file_giving_no_events_warns_in_the_json_report_and_a_normal_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("solaris.log");
    std::fs::write(&bad, unread_lines(3120)).unwrap();
    let good = dir.path().join("mail.log");
    generate(&good, 5_000, 3);
    let url = fresh_database(&dir).await;

    let r = import(&url, &[&good, &bad], &[]);

    let warnings = r["warnings"].as_array().expect("a warnings array");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w["file"], bad.display().to_string());
    assert_eq!(w["kind"], "no_events");
    let message = w["message"].as_str().unwrap();
    assert!(
        message.starts_with("3,120 lines from Postfix programs gave 0 events")
            && message.contains("First such line: relay postfix/smtpd[1000]: <mail.info> 1000:"),
        "{message}"
    );
    // Every key of before is still there.
    for key in [
        "first_at",
        "last_at",
        "lines",
        "unparsed",
        "totals",
        "reject_classes",
        "sasl_auth_failures",
        "elapsed_s",
        "files",
        "proposals",
    ] {
        assert!(r.get(key).is_some(), "{key} is missing");
    }

    // Alone, the normal file warns about nothing.
    let url = fresh_database(&tempfile::tempdir().unwrap()).await;
    let r = import(&url, &[&good], &[]);
    assert_eq!(r["warnings"], serde_json::json!([]));
}

#[tokio::test]
async fn without_a_report_format_the_warning_goes_to_standard_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("mail.log");
    std::fs::write(&bad, unread_lines(500)).unwrap();
    let out = carteiro()
        .args(["import", "--dry-run", "--year", "2026"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {}: 500 lines from Postfix programs gave 0 events",
            bad.display()
        )),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("!!! WARNINGS (1)"), "{stdout}");
}

#[tokio::test]
async fn repeat_lines_count_their_copies_and_are_not_unparsed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(
        &log,
        "Nov  1 00:00:00 mx1 postfix/smtpd[7]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n\
         Nov  1 00:00:30 mx1 last message repeated 4 times\n\
         Nov  1 00:01:00 mx1 postfix/smtpd[7]: message repeated 2 times: [ warning: unknown[203.0.113.9]: SASL PLAIN authentication failed: x]\n",
    )
    .unwrap();
    let url = fresh_database(&dir).await;
    let r = import(&url, &[&log], &[]);
    assert_eq!(r["sasl_auth_failures"], 7);
    assert_eq!(
        (r["lines"].as_u64(), r["unparsed"].as_u64()),
        (Some(3), Some(0))
    );
}

/// The source's status on the live board, once it has one warning or none
/// as `want_warning` says (within a minute).
async fn wait_for_warnings(board: &app::state::IngestBoard, want_warning: bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let warnings = board.read().unwrap()[0].warnings.clone();
        if warnings.is_empty() != want_warning {
            return warnings;
        }
        assert!(
            Instant::now() < deadline,
            "warnings on the board: {warnings:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_source_giving_no_events_shows_a_warning_until_it_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, unread_lines(400)).unwrap();
    let url = fresh_database(&dir).await;
    let w = worker_on(&url, &log).await;

    let warnings = wait_for_warnings(&w.board, true).await;
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with("400 lines from Postfix programs gave 0 events"),
        "{warnings:?}"
    );

    // Readable lines again: the next stretch clears the warning.
    append_generated(dir.path(), &log);
    assert_eq!(
        wait_for_warnings(&w.board, false).await,
        Vec::<String>::new()
    );
    w.stop().await;
}

/// Appends a generated log to `log`.
fn append_generated(dir: &Path, log: &Path) {
    use std::io::Write;
    let text = generate(&dir.join("good.log"), 3_000, 9);
    let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}
