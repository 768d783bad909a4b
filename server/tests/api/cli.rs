//! The `carteiro` binary itself: help texts and `user add`.

use crate::common::{carteiro, stdout_of};
use std::io::Write;
use std::process::{Command, Stdio};

/// `carteiro --db DB user add --username NAME --role ROLE`.
fn user_add(db: &str, name: &str, role: &str) -> Command {
    let mut cmd = carteiro();
    cmd.args([
        "--db",
        db,
        "user",
        "add",
        "--username",
        name,
        "--role",
        role,
    ]);
    cmd
}

#[test]
fn help_explains_every_command() {
    let out = carteiro().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in [
        "serve",
        "migrate",
        "user",
        "config",
        "import",
        "purge",
        "backup",
        "restore",
        "month-bench",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}:\n{text}");
    }
    let out = carteiro().args(["user", "add", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("standard input") && text.contains("--role"),
        "{text}"
    );
}

#[test]
fn user_add_reads_the_password_from_stdin_and_rejects_bad_roles() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());

    let mut child = user_add(&db, "ana", "support,manager")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let list = carteiro()
        .args(["--db", &db, "user", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    assert!(
        text.contains("ana") && text.contains("support,manager"),
        "{text}"
    );

    let bad = user_add(&db, "bob", "root")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));

    // The command line has no request to take a language from: its
    // messages are in English, like its help and its log.
    let mut child = user_add(&db, "x", "support")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"a-long-passphrase\n").unwrap();
    drop(stdin);
    let bad = child.wait_with_output().unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("The username must be 2 to 64"), "{stderr}");
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("carteiro.toml");
    std::fs::write(&file, "[server]\nlisten_on = 1\n").unwrap();
    let out = carteiro()
        .args(["--config", file.to_str().unwrap(), "config"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen_on"), "{err}");
}

#[test]
fn import_dry_run_reports_exact_counts_for_plain_and_gzip_files() {
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    log.extend_from_slice(b"Aug  4 08:28:40 mx1 postfix/smtpd[100]: 46E0BAB8E5: client=mail.example.com[203.0.113.7]\n");
    log.extend_from_slice(b"Aug  4 08:28:41 mx1 postfix/smtp[300]: 46E0BAB8E5: to=<a@example.net>, relay=mx.example.net[198.51.100.1]:25, delay=1, dsn=2.0.0, status=sent (250 ok)\n");
    log.extend_from_slice(b"Aug  4 08:28:42 mx1 postfix/smtpd[100]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <v@o.org>: Relay access denied; from=<s@e.com> to=<v@o.org> proto=ESMTP helo=<x>\n");
    log.extend_from_slice(b"Aug  4 08:28:43 mx1 postfix/smtpd[100]: warning: x[192.0.2.1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n");
    log.extend_from_slice(b"garbage that is not syslog\n");
    log.extend_from_slice(b"Aug  4 08:28:44 mx1 postfix/smtpd[100]: \xff\xfe broken bytes\n");
    let plain = dir.path().join("mail.log");
    std::fs::write(&plain, &log).unwrap();
    let gz = dir.path().join("mail.log.1.gz");
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&log).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let report = |file: &std::path::Path| -> serde_json::Value {
        let out = stdout_of(
            carteiro()
                .args(["import", "--dry-run", "--report", "json"])
                .arg(file),
        );
        serde_json::from_slice(&out).unwrap()
    };
    let r = report(&plain);
    assert_eq!(r["lines"], 6);
    assert_eq!(r["unparsed"], 2);
    assert_eq!(
        r["totals"],
        serde_json::json!({"received":1,"sent":1,"bounced":0,"deferred":0,"rejected":1,"spam":0,"virus":0})
    );
    assert_eq!(r["reject_classes"]["relay"], 1);
    assert_eq!(r["sasl_auth_failures"], 1);
    assert!(r["elapsed_s"].as_f64().unwrap() >= 0.0);

    let mut from_gz = report(&gz);
    for key in ["elapsed_s", "files"] {
        from_gz[key] = r[key].clone();
    }
    assert_eq!(from_gz, r, "a .gz file counts exactly like its plain text");

    let missing = dir.path().join("nope.log");
    let refused = carteiro()
        .args(["import", "--dry-run"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("nope.log is not a readable file"), "{err}");
}
