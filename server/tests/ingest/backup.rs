//! `carteiro backup` and `carteiro restore` (SQLite): a backup taken while
//! an import writes is the database as of one of its checkpoints, a restore
//! gives back exactly what was backed up and keeps what it replaces, and
//! both refuse what would lose data: a file in the way, a database in use,
//! a damaged, foreign or newer file. On PostgreSQL both point to pg_dump.

use crate::common::{carteiro, fresh_database};
use crate::helpers::{connect, count_in_one_pass, generate, series_sums, snapshot};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// True when the suite runs on PostgreSQL (the SQLite-only tests then stop).
fn on_postgres() -> bool {
    std::env::var("CARTEIRO_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

fn url_of(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// `carteiro --db URL ARGS…`, its output whatever its status.
fn run(url: &str, args: &[&str]) -> Output {
    carteiro().args(["--db", url]).args(args).output().unwrap()
}

fn backup(url: &str, out: &Path) -> Output {
    run(url, &["backup", "--out", out.to_str().unwrap()])
}

fn restore(url: &str, from: &Path) -> Output {
    run(url, &["restore", "--from", from.to_str().unwrap()])
}

/// Asserts `out` succeeded; its standard output.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts `out` failed; its standard error.
fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn import_child(url: &str, log: &Path, batch_lines: &str) -> Child {
    carteiro()
        .env("CARTEIRO_MAILFLOW__BATCH_LINES", batch_lines)
        .args(["--db", url, "import", "--no-detect", "--report", "json"])
        .args(["--year", "2026"])
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn import(url: &str, log: &Path) {
    let out = import_child(url, log, "5000").wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The checkpoint of the import of `log`: (lines, byte offset), if stored.
async fn checkpoint(db: &DatabaseConnection, log: &Path) -> Option<(i64, i64)> {
    let sql = r#"SELECT lines, "offset" FROM ingest_checkpoint WHERE path = ?"#;
    let stmt = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [log.display().to_string().into()],
    );
    let row = db.query_one_raw(stmt).await.ok()??;
    Some((
        row.try_get("", "lines").unwrap(),
        row.try_get("", "offset").unwrap(),
    ))
}

async fn pragma(db: &DatabaseConnection, sql: &str) -> String {
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(stmt).await.unwrap().unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap()
}

/// Waits until the import of `log` into `url` has checkpointed at least `lines`.
async fn wait_for_checkpoint(url: &str, log: &Path, lines: i64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let db = connect(url).await;
        let at = checkpoint(&db, log).await;
        db.close().await.unwrap();
        if at.is_some_and(|(n, _)| n >= lines) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the import never got to {lines} lines"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`snapshot`] of the database at `url`, its connection closed after.
async fn snapshot_of(url: &str) -> Vec<Vec<String>> {
    let db = connect(url).await;
    let all = snapshot(&db).await;
    db.close().await.unwrap();
    all
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_during_an_import_is_the_database_at_one_checkpoint() {
    if on_postgres() {
        return; // SQLite only; PostgreSQL: on_postgresql_both_point_to_pg_dump
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    const LINES: i64 = 300_000;
    let text = generate(&log, LINES as usize, 21);
    let url = url_of(&dir.path().join("carteiro.db"));
    let copy = dir.path().join("copy.db");

    // Small batches: a commit every 1,000 lines while the copy is made.
    let mut importing = import_child(&url, &log, "1000");
    wait_for_checkpoint(&url, &log, 20_000).await;
    let said = ok(backup(&url, &copy));
    let still_importing = importing.try_wait().unwrap().is_none();
    let out = importing.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("MB in") && said.contains("Integrity check: ok"),
        "{said}"
    );
    assert!(still_importing, "the import ended before the backup did");

    let copied = connect(&url_of(&copy)).await;
    assert_eq!(pragma(&copied, "PRAGMA integrity_check").await, "ok");
    // Kept from the source: the purge can still give pages back.
    assert_eq!(
        pragma(&copied, "PRAGMA auto_vacuum").await,
        "2",
        "incremental"
    );
    let (lines, offset) = checkpoint(&copied, &log)
        .await
        .expect("the copy has the checkpoint");
    assert!(
        lines < LINES,
        "the copy was made after the import: {lines} lines"
    );
    // Exactly the lines before its checkpoint are counted, none after.
    let before = &text[..offset as usize];
    assert_eq!(before.lines().count() as i64, lines);
    assert_eq!(series_sums(&copied).await, count_in_one_pass(before));
    copied.close().await.unwrap();

    // And the copy is a database the import continues from: it ends
    // holding what the whole import stored.
    import(&url_of(&copy), &log);
    let whole = snapshot_of(&url).await;
    assert!(snapshot_of(&url_of(&copy)).await == whole);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_gives_back_the_backup_and_keeps_the_database_it_replaces() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("a.log"), dir.path().join("b.log"));
    // The first 20,000 lines, then the file grown to 200,000 (the same
    // log: two different generated logs would share hosts and times).
    let text = generate(&second, 200_000, 4);
    let cut = text.match_indices('\n').nth(19_999).unwrap().0 + 1;
    std::fs::write(&first, &text[..cut]).unwrap();
    let db_path = dir.path().join("carteiro.db");
    let url = url_of(&db_path);
    import(&url, &first);
    let backed_up = snapshot_of(&url).await;
    let copy = dir.path().join("copy.db");
    ok(backup(&url, &copy));

    // Later writes, the last ones still in the WAL: an import killed
    // (-9) after some of its batches committed.
    let mut importing = import_child(&url, &second, "1000");
    wait_for_checkpoint(&url, &second, 40_000).await;
    assert!(importing.try_wait().unwrap().is_none(), "the import ended");
    importing.kill().unwrap();
    importing.wait().unwrap();
    let wal = with_suffix(&db_path, "-wal");
    assert!(wal.metadata().unwrap().len() > 0, "no WAL left to fold in");
    // What the database holds now, read from a copy of it and its WAL
    // (the last connection to close would fold the WAL itself).
    let now = tempfile::tempdir().unwrap();
    std::fs::copy(&db_path, now.path().join("c.db")).unwrap();
    std::fs::copy(&wal, now.path().join("c.db-wal")).unwrap();
    let latest = snapshot_of(&url_of(&now.path().join("c.db"))).await;
    assert!(latest != backed_up);

    let said = ok(restore(&url, &copy));
    assert!(said.contains("before-restore"), "{said}");
    assert!(!wal.exists(), "a stale WAL beside the restored database");
    assert!(snapshot_of(&url).await == backed_up);
    let kept = url_of(&with_suffix(&db_path, ".before-restore"));
    assert!(
        snapshot_of(&kept).await == latest,
        "the replaced database lost what its WAL held"
    );

    // A second restore would overwrite what the first kept: refused.
    let said = refused(restore(&url, &copy));
    assert!(said.contains("before-restore exists"), "{said}");

    // Onto a new host: no database there yet.
    let elsewhere = url_of(&dir.path().join("new").join("carteiro.db"));
    ok(restore(&elsewhere, &copy));
    assert!(snapshot_of(&elsewhere).await == backed_up);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_refuses_a_database_in_use_and_damaged_foreign_or_newer_files() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 20_000, 5);
    let db_path = dir.path().join("carteiro.db");
    let url = url_of(&db_path);
    import(&url, &log);
    let copy = dir.path().join("copy.db");
    ok(backup(&url, &copy));
    let kept = with_suffix(&db_path, ".before-restore");

    // An idle connection, as a running `serve` keeps: in use.
    let serving = connect(&url).await;
    let stored = snapshot(&serving).await;
    let said = refused(restore(&url, &copy));
    assert!(said.contains("in use") && said.contains("stop"), "{said}");
    assert!(!kept.exists());
    serving.close().await.unwrap();

    // Damaged: pages in the middle overwritten.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&copy).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 64 * 1024].fill(0x5a);
    std::fs::write(&damaged, bytes).unwrap();
    let said = refused(restore(&url, &damaged));
    assert!(
        said.contains("malformed") || said.contains("integrity"),
        "{said}"
    );

    // Not SQLite at all, and SQLite but not Carteiro's.
    let said = refused(restore(&url, &log));
    assert!(said.contains("not a database"), "{said}");
    let foreign = dir.path().join("foreign.db");
    let other = connect(&url_of(&foreign)).await;
    other
        .execute_unprepared("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    other.close().await.unwrap();
    let said = refused(restore(&url, &foreign));
    assert!(said.contains("not a Carteiro database"), "{said}");

    // A newer version's: a migration this binary does not know.
    let newer = dir.path().join("newer.db");
    std::fs::copy(&copy, &newer).unwrap();
    let future = connect(&url_of(&newer)).await;
    future
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000000_future', 0)",
        )
        .await
        .unwrap();
    future.close().await.unwrap();
    let said = refused(restore(&url, &newer));
    assert!(
        said.contains("newer version") && said.contains("m20991231_000000_future"),
        "{said}"
    );

    assert!(!kept.exists(), "a refused restore replaced the database");
    assert!(snapshot_of(&url).await == stored);
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_refuses_to_replace_a_file_unless_forced() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 5_000, 6);
    let url = url_of(&dir.path().join("carteiro.db"));
    import(&url, &log);
    let stored = snapshot_of(&url).await;
    let out = dir.path().join("precious.db");
    std::fs::write(&out, "yesterday's backup").unwrap();

    let said = refused(backup(&url, &out));
    assert!(
        said.contains("exists") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "yesterday's backup");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");

    // Not even forced onto the database itself, by its path or a link.
    let db_path = dir.path().join("carteiro.db");
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db_path, &link).unwrap();
    for onto in [&db_path, &link] {
        let out = onto.to_str().unwrap();
        let said = refused(run(&url, &["backup", "--force", "--out", out]));
        assert!(said.contains("the database itself"), "{said}");
    }
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());

    ok(run(
        &url,
        &["backup", "--force", "--out", out.to_str().unwrap()],
    ));
    assert!(snapshot_of(&url).await == stored);
    assert!(snapshot_of(&url_of(&out)).await == stored);
}

#[tokio::test]
async fn on_postgresql_both_point_to_pg_dump() {
    // The commands refuse before connecting: a server is not needed, but
    // under .ci/with-postgres.sh this is a real one.
    let dir = tempfile::tempdir().unwrap();
    let url = if on_postgres() {
        fresh_database(&dir).await
    } else {
        "postgres://postgres@127.0.0.1:5432/carteiro".into()
    };
    let url = url.replacen("postgres@", "postgres:Sup3rSecret@", 1);
    let out = dir.path().join("carteiro.dump");

    let said = refused(backup(&url, &out));
    assert!(said.contains("pg_dump --format=custom"), "{said}");
    let said = refused(restore(&url, &out));
    assert!(said.contains("pg_restore"), "{said}");
    for said in [said, refused(backup(&url, &out))] {
        assert!(said.contains("docs/deploy.md"), "{said}");
        assert!(!said.contains("Sup3rSecret"), "the password shown: {said}");
        assert!(said.contains("postgres://postgres@"), "{said}");
    }
    assert!(!out.exists());
}
