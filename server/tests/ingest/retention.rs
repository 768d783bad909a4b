//! Retention (`app::server::retention`, `carteiro purge`): each table
//! keeps what its setting says and loses the rest, in chunks; pending
//! proposals and active blocks stay whatever their age; a dry run counts
//! the same rows and deletes none; a purge during an import loses nothing
//! of it; and on SQLite the file gives its freed pages back.

use crate::common::{carteiro, fresh_database, stdout_of};
use crate::helpers::{connect, generate_dated, import_no_detect, series_sums};
use app::server::retention::{self, Keep, Options, Settings};
use app::state::RetentionSettings;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const DAY: i64 = 86_400;

/// The database at `url`, migrated, opened as the server opens it.
async fn open(url: &str) -> DatabaseConnection {
    let cfg = server::config::DatabaseConfig {
        url: url.into(),
        ..Default::default()
    };
    server::db::open(&cfg).await.unwrap()
}

/// Inserts one row of `(column, value)` pairs.
async fn insert(db: &DatabaseConnection, table: &str, row: &[(&str, Value)]) {
    let insert = Query::insert()
        .into_table(Alias::new(table))
        .columns(row.iter().map(|(c, _)| Alias::new(*c)))
        .values_panic(row.iter().map(|(_, v)| v.clone().into()))
        .to_owned();
    db.execute(&insert).await.unwrap();
}

async fn count(db: &DatabaseConnection, table: &str, filter: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table} WHERE {filter}");
    crate::helpers::scalar(db, &sql).await
}

fn stamp(t: i64) -> Value {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .unwrap()
        .into()
}

/// Rows of every kind, each some days older than `now` (`(table, tag)` in
/// a text column says which rows are meant to go).
async fn seed(db: &DatabaseConnection, now: i64) {
    let ago = |days: i64| now - days * DAY;
    // Trace: 30 days. Seven old (three chunks of 3), two new.
    for (i, days) in [31, 31, 40, 40, 50, 60, 365, 29, 1].into_iter().enumerate() {
        let at = ago(days) + i as i64;
        insert(
            db,
            "mail_message",
            &[
                ("host", "mx1".into()),
                ("queue_id", format!("Q{i}").into()),
                ("first_at", at.into()),
                ("first_hour", (at / 3600).into()),
                ("last_at", at.into()),
                ("origin", "smtp".into()),
                ("recipients", "[]".into()),
                ("rcpt_addrs", "".into()),
                ("removed", false.into()),
            ],
        )
        .await;
    }
    // Subject hours: 90 days. Five rows share one old hour (more than a
    // chunk), two in an older one; one old account row; one new each.
    let hour = |days: i64| (ago(days) / 3600) * 3600;
    let mut subject_rows = Vec::new();
    for i in 0..5 {
        subject_rows.push(("ip", format!("10.0.0.{i}"), hour(91)));
    }
    subject_rows.push(("ip", "10.0.1.1".into(), hour(100)));
    subject_rows.push(("ip", "10.0.1.2".into(), hour(100)));
    subject_rows.push(("account", "ana@x".into(), hour(95)));
    subject_rows.push(("ip", "10.9.9.9".into(), hour(89)));
    subject_rows.push(("account", "bia@x".into(), hour(1)));
    for (kind, subject, hour) in subject_rows {
        insert(
            db,
            "mail_subject_hour",
            &[
                ("kind", kind.into()),
                ("subject", subject.into()),
                ("hour", hour.into()),
                ("series", "rejected".into()),
                ("n", 1i64.into()),
            ],
        )
        .await;
    }
    // Blocks: 365 days after their planned end; id 1 active (a year and a
    // half long), id 2 ended long ago, id 3 lifted long ago but planned to
    // end recently.
    for (approved, expires, lifted) in [
        (ago(400), now + 10 * DAY, None),
        (ago(800), ago(400), None),
        (ago(400), ago(100), Some(ago(399))),
    ] {
        insert(
            db,
            "defence_block",
            &[
                ("subject", "ip".into()),
                ("target", "192.0.2.1".into()),
                ("reason", "r".into()),
                ("approved_by", "ana".into()),
                ("approved_at", approved.into()),
                ("expires_at", expires.into()),
                ("lifted_at", lifted.into()),
            ],
        )
        .await;
    }
    // Proposals: 365 days, decided ones only. Targets say what should happen.
    for (target, status, updated_days, suppress, block) in [
        ("go-approved", "approved", 400, None, Some(2i64)),
        ("go-expired", "expired", 366, None, None),
        ("keep-pending", "pending", 900, None, None),
        ("keep-suppressing", "rejected", 400, Some(now + DAY), None),
        ("keep-active-block", "approved", 400, None, Some(1)),
        ("keep-recent", "rejected", 364, None, None),
    ] {
        insert(
            db,
            "defence_proposal",
            &[
                ("subject", "ip".into()),
                ("target", target.into()),
                ("policy", "p".into()),
                ("status", status.into()),
                ("reasons", "{}".into()),
                ("score", 1i64.into()),
                ("first_seen", ago(updated_days).into()),
                ("last_seen", ago(updated_days).into()),
                ("distinct_ips", 1i32.into()),
                ("distinct_recipients", 1i32.into()),
                ("samples", "[]".into()),
                ("created_at", ago(updated_days).into()),
                ("updated_at", ago(updated_days).into()),
                ("suppress_until", suppress.into()),
                ("block_id", block.into()),
            ],
        )
        .await;
    }
    let ids: Vec<(i64, String)> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, target FROM defence_proposal",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect();
    for (id, target) in ids {
        for value in ["10.0.0.1", "10.0.0.2"] {
            insert(
                db,
                "defence_proposal_detail",
                &[
                    ("proposal_id", id.into()),
                    ("list", "ips".into()),
                    ("value", format!("{target}:{value}").into()),
                ],
            )
            .await;
        }
    }
    // Alerts: acknowledged ones, 365 days after.
    for (kind, status, acked) in [
        ("go", "acknowledged", Some(ago(366))),
        ("keep-open", "open", None),
        ("keep-recent", "acknowledged", Some(ago(10))),
    ] {
        insert(
            db,
            "defence_alert",
            &[
                ("kind", kind.into()),
                ("since", ago(500).into()),
                ("last_seen", ago(500).into()),
                ("count", 1i64.into()),
                ("usual", 1.0f64.into()),
                ("window_minutes", 60i64.into()),
                ("status", status.into()),
                ("acknowledged_at", acked.into()),
                ("updated_at", ago(500).into()),
            ],
        )
        .await;
    }
    for (text, days) in [("go", 91), ("keep", 89)] {
        insert(
            db,
            "mail_unclassified",
            &[
                ("text", text.into()),
                ("n", 1i64.into()),
                ("first_at", ago(days).into()),
                ("last_at", ago(days).into()),
                ("samples", "".into()),
            ],
        )
        .await;
    }
    for (nonce, days) in [("go", 31), ("keep", 29)] {
        insert(
            db,
            "import_job",
            &[
                ("nonce", nonce.into()),
                ("started_by", "ana".into()),
                ("dry_run", false.into()),
                ("status", "done".into()),
                ("total", 1i32.into()),
                ("done", 1i32.into()),
                ("errors", 0i32.into()),
                ("applied", 1i32.into()),
                ("created_at", stamp(ago(days))),
                ("updated_at", stamp(ago(days))),
            ],
        )
        .await;
    }
    // Audit: forever by default, failed sign-ins 90 days.
    for (target, action, days) in [
        ("go", "auth.login_failed", 91),
        ("keep-recent", "auth.login_failed", 89),
        ("keep-other", "auth.login", 4000),
    ] {
        insert(
            db,
            "audit_log",
            &[
                ("at", stamp(ago(days))),
                ("actor", "anonymous".into()),
                ("action", action.into()),
                ("target", target.into()),
            ],
        )
        .await;
    }
    for (id, expires) in [("go", now - 60), ("keep", now + 3600)] {
        insert(
            db,
            "web_session",
            &[
                ("id", id.into()),
                ("data", "{}".into()),
                ("expires_at", stamp(expires)),
            ],
        )
        .await;
    }
    let in_ten_minutes = chrono::DateTime::<chrono::Utc>::from_timestamp(now + 600, 0);
    for (key, locked) in [("go", None), ("keep-locked", in_ten_minutes)] {
        insert(
            db,
            "login_throttle",
            &[
                ("key", key.into()),
                ("failures", 3i32.into()),
                ("window_start", stamp(now - 3600)),
                ("locked_until", locked.into()),
            ],
        )
        .await;
    }
}

/// Rows per table name, summed over its lines.
fn by_table(outcomes: &[retention::Outcome]) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for o in outcomes {
        let rows = o.rows.as_ref().expect("no table fails").unwrap_or(0);
        *m.entry(o.table.name).or_default() += rows;
    }
    m.retain(|_, n| *n > 0);
    m
}

/// Small chunks, so every table takes several.
const CHUNKS_OF_3: Options = Options {
    dry_run: false,
    chunk_rows: 3,
    pause: Duration::ZERO,
};

#[tokio::test]
async fn each_table_loses_what_its_setting_no_longer_keeps_and_a_dry_run_only_counts() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let db = open(&url).await;
    let now = chrono::Utc::now().timestamp();
    seed(&db, now).await;
    let settings = Settings::default();
    let want: BTreeMap<&str, u64> = [
        ("mail_message", 7),
        ("mail_subject_hour", 8),
        ("defence_proposal", 2),
        ("defence_block", 1),
        ("defence_alert", 1),
        ("mail_unclassified", 1),
        ("import_job", 1),
        ("audit_log", 1),
        ("web_session", 1),
        ("login_throttle", 1),
    ]
    .into_iter()
    .collect();

    let dry = Options {
        dry_run: true,
        ..CHUNKS_OF_3
    };
    let counted = retention::purge(&db, &settings, now, dry, |_| true).await;
    assert_eq!(by_table(&counted), want, "a dry run counts");
    assert_eq!(
        count(&db, "mail_message", "1 = 1").await,
        9,
        "and deletes nothing"
    );
    assert_eq!(count(&db, "defence_proposal_detail", "1 = 1").await, 12);

    let done = retention::purge(&db, &settings, now, CHUNKS_OF_3, |_| true).await;
    assert_eq!(by_table(&done), want, "the same rows go");
    // What stays is what was meant to.
    assert_eq!(count(&db, "mail_message", "1 = 1").await, 2);
    assert_eq!(
        count(
            &db,
            "mail_message",
            &format!("first_at < {}", now - 30 * DAY)
        )
        .await,
        0
    );
    assert_eq!(count(&db, "mail_subject_hour", "1 = 1").await, 2);
    for (table, column) in [
        ("defence_proposal", "target"),
        ("defence_alert", "kind"),
        ("mail_unclassified", "text"),
        ("import_job", "nonce"),
        ("audit_log", "target"),
        ("web_session", "id"),
        ("login_throttle", "key"),
    ] {
        assert_eq!(
            count(&db, table, &format!("{column} LIKE 'go%'")).await,
            0,
            "{table}"
        );
        assert!(
            count(&db, table, &format!("{column} LIKE 'keep%'")).await > 0,
            "{table}"
        );
    }
    assert_eq!(
        count(&db, "defence_proposal", "status = 'pending'").await,
        1,
        "a pending proposal stays whatever its age"
    );
    assert_eq!(
        count(&db, "defence_proposal_detail", "value LIKE 'go%'").await,
        0,
        "evidence goes with its proposal"
    );
    assert_eq!(count(&db, "defence_proposal_detail", "1 = 1").await, 8);
    assert_eq!(
        count(&db, "defence_block", "id IN (1, 3)").await,
        2,
        "active and recently planned to end stay"
    );
    assert_eq!(count(&db, "defence_block", "1 = 1").await, 2);

    // A second round finds nothing more.
    let again = retention::purge(&db, &settings, now, CHUNKS_OF_3, |_| true).await;
    assert!(by_table(&again).is_empty(), "{:?}", by_table(&again));

    // 0 keeps forever, however late it is: ten years on, nothing of the
    // [retention] tables goes.
    let keep = Settings {
        retention: RetentionSettings::KEEP_ALL,
        failed_login_days: 0,
        ..Settings::default()
    };
    let later = now + 3650 * DAY;
    let kept = retention::purge(&db, &keep, later, CHUNKS_OF_3, |t| {
        !matches!(
            t.keep,
            Keep::Mailgraph(..) | Keep::Expiry | Keep::ThrottleWindow
        )
    })
    .await;
    assert!(kept.iter().all(|o| matches!(o.rows, Ok(None))), "{kept:?}");
    assert_eq!(count(&db, "mail_message", "1 = 1").await, 2);
    // Active blocks and pending proposals stay even at a tiny horizon.
    let tiny = Settings {
        retention: RetentionSettings {
            proposal_days: 1,
            block_days: 1,
            ..RetentionSettings::default()
        },
        ..Settings::default()
    };
    retention::purge(&db, &tiny, now, CHUNKS_OF_3, |_| true).await;
    assert_eq!(
        count(&db, "defence_proposal", "status = 'pending'").await,
        1
    );
    assert_eq!(count(&db, "defence_block", "id = 1").await, 1);
    assert_eq!(
        count(&db, "defence_proposal", "target = 'keep-active-block'").await,
        1
    );
}

/// A generated log of `lines` lines from `start` (RFC 3339 times, so no
/// year is guessed), at 2 million lines a day.
fn generate(path: &Path, lines: usize, seed: u64, start: i64) {
    generate_dated(path, lines, seed, start, 2_000_000);
}

fn purge_command(url: &str, extra: &[&str]) -> String {
    purge_with(url, extra, &[])
}

/// `carteiro purge` with settings from the environment.
fn purge_with(url: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let out = stdout_of(
        carteiro()
            .envs(env.iter().copied())
            .args(["--db", url, "purge"])
            .args(extra),
    );
    String::from_utf8(out).unwrap()
}

/// The number on the line of `table` in `carteiro purge`'s output.
fn rows_of(output: &str, table: &str) -> u64 {
    output
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .and_then(|l| l.split_whitespace().rev().nth(2))
        .map(|n| n.replace(',', "").parse().unwrap())
        .unwrap_or_else(|| panic!("no line for {table} in\n{output}"))
}

#[tokio::test]
async fn carteiro_purge_prints_per_table_what_it_would_delete_then_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let log = dir.path().join("old.log");
    let now = chrono::Utc::now().timestamp();
    generate(&log, 20_000, 3, now - 60 * DAY);
    import_no_detect(&url, &log);
    let db = connect(&url).await;
    let messages = count(&db, "mail_message", "1 = 1").await;
    assert!(messages > 500, "{messages}");
    let indexed = count(&db, "mail_recipient", "1 = 1").await;
    assert!(indexed >= messages, "{indexed}");

    let dry = purge_command(&url, &["--dry-run"]);
    assert!(dry.contains("would delete"), "{dry}");
    assert_eq!(rows_of(&dry, "mail_message"), messages as u64, "{dry}");
    assert!(rows_of(&dry, "mail_minute") > 0, "{dry}");
    assert_eq!(count(&db, "mail_message", "1 = 1").await, messages);

    let done = purge_command(&url, &[]);
    assert_eq!(rows_of(&done, "mail_message"), messages as u64, "{done}");
    assert_eq!(count(&db, "mail_message", "1 = 1").await, 0);
    // The recipient index goes with the messages.
    assert_eq!(rows_of(&done, "mail_recipient"), indexed as u64, "{done}");
    assert_eq!(count(&db, "mail_recipient", "1 = 1").await, 0);
    assert!(
        count(&db, "mail_hour", "1 = 1").await > 0,
        "hours stay 400 days"
    );

    let help = carteiro().args(["purge", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("--dry-run") && help.contains("--vacuum"),
        "{help}"
    );
    assert!(help.contains("[retention]"), "{help}");
}

#[tokio::test]
async fn a_purge_during_an_import_loses_nothing_of_the_new_day() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now().timestamp();
    let old = dir.path().join("old.log");
    let new = dir.path().join("new.log");
    generate(&old, 40_000, 5, now - 60 * DAY);
    generate(&new, 60_000, 6, now - DAY);
    // What the new day is alone.
    let alone_dir = tempfile::tempdir().unwrap();
    let alone_url = fresh_database(&alone_dir).await;
    import_no_detect(&alone_url, &new);
    let alone = connect(&alone_url).await;
    let want_messages = count(&alone, "mail_message", "1 = 1").await;
    let want_series = series_sums(&alone).await;

    let url = fresh_database(&dir).await;
    import_no_detect(&url, &old);
    let db = open(&url).await;
    let old_messages = count(&db, "mail_message", "1 = 1").await;
    assert!(old_messages > 1000);

    // The import runs in its own process while rounds purge, chunk by chunk.
    let importer = {
        let url = url.clone();
        let new = new.clone();
        std::thread::spawn(move || import_no_detect(&url, &new))
    };
    let settings = Settings::default();
    let small = Options {
        chunk_rows: 200,
        ..CHUNKS_OF_3
    };
    let mut deleted = 0;
    while !importer.is_finished() {
        let round = retention::purge(&db, &settings, now, small, |_| true).await;
        deleted += by_table(&round).get("mail_message").copied().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    importer.join().unwrap();
    let round = retention::purge(&db, &settings, now, small, |_| true).await;
    deleted += by_table(&round).get("mail_message").copied().unwrap_or(0);

    assert_eq!(deleted, old_messages as u64, "every old message went");
    assert_eq!(count(&db, "mail_message", "1 = 1").await, want_messages);
    // On PostgreSQL the old days went as whole partitions, and every row of
    // the import found its day's partition (none went to the default).
    for table in ["mail_message", "mail_recipient", "mail_minute"] {
        let spec = app::server::partitions::table(table).unwrap();
        let horizon = spec
            .bounds(app::server::partitions::day_of(now - 14 * DAY))
            .0;
        let old = app::server::partitions::older_than(&db, table, horizon).await;
        assert_eq!(old.unwrap(), [], "{table}");
        if db.get_database_backend() == DbBackend::Postgres {
            let default = format!("{table}_pdefault");
            assert_eq!(count(&db, &default, "1 = 1").await, 0, "{default}");
        }
    }
    // The new day's counters are complete (the old day's minutes went).
    let cutoff = now - 14 * DAY;
    let sums: BTreeMap<String, i64> = series_sums(&db).await;
    assert_eq!(
        count(&db, "mail_minute", &format!("minute < {cutoff}")).await,
        0
    );
    assert_eq!(sums, want_series);
}

#[tokio::test]
async fn a_sqlite_file_gives_purged_pages_back_and_reuses_them() {
    if std::env::var("CARTEIRO_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        return; // SQLite's file only.
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let now = chrono::Utc::now().timestamp();
    let first = dir.path().join("first.log");
    generate(&first, 60_000, 8, now - 60 * DAY);
    import_no_detect(&url, &first);
    let db = open(&url).await;
    assert_eq!(
        retention::pragma(&db, "auto_vacuum").await.unwrap(),
        2,
        "incremental"
    );
    let full = retention::pragma(&db, "page_count").await.unwrap();
    let file = dir.path().join("carteiro.db");
    let full_bytes = std::fs::metadata(&file).unwrap().len();

    // Everything the import wrote goes after a day.
    let a_day = [
        ("CARTEIRO_RETENTION__SUBJECT_HOUR_DAYS", "1"),
        ("CARTEIRO_MAILGRAPH__RETENTION__HOUR_DAYS", "1"),
        ("CARTEIRO_MAILGRAPH__RETENTION__DAY_DAYS", "1"),
        ("CARTEIRO_MAILGRAPH__DOMAIN_RETENTION__HOUR_DAYS", "1"),
        ("CARTEIRO_MAILGRAPH__DOMAIN_RETENTION__DAY_DAYS", "1"),
    ];
    purge_with(&url, &[], &a_day);
    let purged = retention::pragma(&db, "page_count").await.unwrap();
    assert!(
        purged < full / 2,
        "the file shrinks: {full} pages before the purge, {purged} after"
    );
    assert_eq!(retention::pragma(&db, "freelist_count").await.unwrap(), 0);
    let bytes = std::fs::metadata(&file).unwrap().len();
    assert!(
        bytes < full_bytes / 2,
        "the file itself: {full_bytes} bytes, then {bytes}"
    );

    // The same volume again, purged again: the file is no larger than after
    // the first import.
    let second = dir.path().join("second.log");
    generate(&second, 60_000, 9, now - 59 * DAY);
    import_no_detect(&url, &second);
    let again = retention::pragma(&db, "page_count").await.unwrap();
    assert!(again <= full + full / 20, "{full} pages, then {again}");
    purge_with(&url, &[], &a_day);
    let last = retention::pragma(&db, "page_count").await.unwrap();
    assert!(last <= purged + purged / 10, "{purged} pages, then {last}");
}

#[tokio::test]
async fn purge_vacuum_switches_an_older_sqlite_file_to_incremental_vacuum() {
    if std::env::var("CARTEIRO_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    // A file made before this version: a table exists, no auto-vacuum.
    let plain = connect(&url).await;
    plain
        .execute_unprepared("CREATE TABLE older (x INTEGER)")
        .await
        .unwrap();
    plain.close().await.unwrap();
    let db = open(&url).await;
    assert_eq!(retention::pragma(&db, "auto_vacuum").await.unwrap(), 0);
    db.close().await.unwrap();

    let out = purge_command(&url, &["--vacuum"]);
    assert!(out.contains("vacuum done"), "{out}");
    let db = connect(&url).await;
    assert_eq!(retention::pragma(&db, "auto_vacuum").await.unwrap(), 2);
    assert_eq!(db.get_database_backend(), DbBackend::Sqlite);
}
