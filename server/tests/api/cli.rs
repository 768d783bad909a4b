//! The `carteiro` binary itself: help texts and `user add`.

use std::io::Write;
use std::process::{Command, Stdio};

fn carteiro() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carteiro"));
    cmd.env_remove("CARTEIRO_DATABASE_URL")
        .env_remove("DATABASE_URL");
    cmd
}

#[test]
fn help_explains_every_command() {
    let out = carteiro().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for cmd in ["serve", "migrate", "user", "config"] {
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

    let mut child = carteiro()
        .args([
            "--db",
            &db,
            "user",
            "add",
            "--username",
            "ana",
            "--role",
            "support,manager",
        ])
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

    let bad = carteiro()
        .args([
            "--db",
            &db,
            "user",
            "add",
            "--username",
            "bob",
            "--role",
            "root",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
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
