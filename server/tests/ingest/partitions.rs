//! PostgreSQL's day partitions (`app::server::partitions`, migration
//! m20261202_120000): the migration moves every existing row into its
//! day's partition and the ingest's upsert still finds them; an import
//! creates the partitions of the days it writes, however old; a purge
//! drops the days past the horizon whole (and only those), counting in a
//! dry run exactly what it then drops; two processes creating the same
//! days at once both succeed. On SQLite there are no partitions.

use crate::common::{carteiro, fresh_database, stdout_of};
use crate::helpers::{connect, generate_dated, import_no_detect};
use app::server::partitions::{self, Partitioned};
use app::server::retention::{self, Options, Settings};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::collections::BTreeMap;
use std::time::Duration;

const DAY: i64 = 86_400;

fn postgres() -> bool {
    std::env::var("CARTEIRO_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    crate::helpers::scalar(db, sql).await
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    number(db, &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}")).await
}

/// The day partitions of `table`, by name.
async fn day_partitions(db: &DatabaseConnection, table: &str) -> Vec<String> {
    partitions::partitions(db, table)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.bounds.is_some())
        .map(|p| p.name)
        .collect()
}

/// The rows of each table's default partition: none when every writer
/// ensured its days.
async fn default_rows(db: &DatabaseConnection) -> BTreeMap<&'static str, i64> {
    let mut m = BTreeMap::new();
    for p in partitions::TABLES {
        m.insert(p.table, count(db, &format!("{}_pdefault", p.table)).await);
    }
    m
}

/// The database at `url`, migrated, opened as the server opens it.
async fn open(url: &str) -> DatabaseConnection {
    let cfg = server::config::DatabaseConfig {
        url: url.into(),
        ..Default::default()
    };
    server::db::open(&cfg).await.unwrap()
}

/// Today's midnight (UTC), for times of known days.
fn today() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now.rem_euclid(DAY)
}

#[tokio::test]
async fn the_migration_moves_every_row_into_its_day_partition_and_the_upsert_still_finds_it() {
    if !postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let db = connect(&url).await;
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261202_120000_day_partitions")
        .expect("the partition migration");
    Migrator::up(&db, Some(at as u32)).await.unwrap();
    // Three days of rows, as the previous schema held them.
    let d0 = today() - 5 * DAY;
    for (i, t) in [d0 + 100, d0 + DAY + 200, d0 + 2 * DAY + 300]
        .into_iter()
        .enumerate()
    {
        let hour = t / 3600;
        exec(
            &db,
            &format!(
                "INSERT INTO mail_message (host, queue_id, first_at, first_hour, last_at, origin, \
                 recipients, rcpt_addrs, removed) VALUES ('mx1', 'Q{i}', {t}, {hour}, {t}, 'smtpd', \
                 '[]', 'a@x', false)"
            ),
        )
        .await;
        exec(
            &db,
            &format!(
                "INSERT INTO mail_recipient VALUES ({hour}, 7, {t}, {});
                 INSERT INTO mail_minute (host, minute, series, n) VALUES ('mx1', {}, 'received', 2);
                 INSERT INTO mail_domain_minute (minute, domain, series, n) VALUES ({}, 'x.com', 'received', 3);
                 INSERT INTO mail_subject_hour (kind, subject, hour, series, n) VALUES ('ip', '192.0.2.1', {}, 'received', 4)",
                i + 1,
                t - t % 60,
                t - t % 60,
                hour * 3600
            ),
        )
        .await;
    }
    let ids = number(&db, "SELECT MAX(id) FROM mail_message").await;

    Migrator::up(&db, None).await.unwrap();

    let dates: Vec<String> = (0..3)
        .map(|i| {
            chrono::DateTime::from_timestamp(d0 + i * DAY, 0)
                .unwrap()
                .format("%Y%m%d")
                .to_string()
        })
        .collect();
    for p in partitions::TABLES {
        assert_eq!(count(&db, p.table).await, 3, "{} keeps every row", p.table);
        let names: Vec<String> = dates.iter().map(|d| format!("{}_p{d}", p.table)).collect();
        assert_eq!(day_partitions(&db, p.table).await, names);
        for name in &names {
            assert_eq!(count(&db, name).await, 1, "{name} holds its day's row");
        }
    }
    assert!(default_rows(&db).await.values().all(|n| *n == 0));
    assert_eq!(
        text(
            &db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'mail_message_pkey'"
        )
        .await,
        "PRIMARY KEY (id, first_at)"
    );
    // The ingest's upsert: a message seen again keeps its row and id; a
    // new one is numbered after the old ones.
    let upsert = |queue_id: &str, t: i64| {
        format!(
            "INSERT INTO mail_message (host, queue_id, first_at, first_hour, last_at, origin, \
             recipients, rcpt_addrs, removed) VALUES ('mx1', '{queue_id}', {t}, {}, {}, 'smtpd', \
             '[]', '', false) ON CONFLICT (first_at, host, queue_id) DO UPDATE \
             SET last_at = excluded.last_at RETURNING id",
            t / 3600,
            t + 60
        )
    };
    let again = number(&db, &upsert("Q1", d0 + DAY + 200)).await;
    let first = number(&db, "SELECT id FROM mail_message WHERE queue_id = 'Q1'").await;
    assert_eq!(again, first);
    assert_eq!(count(&db, "mail_message").await, 3);
    let new = number(&db, &upsert("Q9", d0 + DAY + 900)).await;
    assert!(new > ids, "the sequence goes on: {new} after {ids}");

    // Down and up again: the same rows each way.
    let after = all.len() - at;
    Migrator::down(&db, Some(after as u32)).await.unwrap();
    assert_eq!(
        number(
            &db,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_partitioned_table"
        )
        .await,
        0
    );
    assert_eq!(count(&db, "mail_message").await, 4);
    assert_eq!(
        text(
            &db,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'mail_message_pkey'"
        )
        .await,
        "PRIMARY KEY (id)"
    );
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(count(&db, "mail_message").await, 4);
    assert_eq!(day_partitions(&db, "mail_message").await.len(), 3);
}

#[tokio::test]
async fn an_import_creates_the_partitions_of_its_days_however_old() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let start = today() - 4 * DAY;
    // Three days at 4,000 lines a day, then 40 days ago.
    let log = dir.path().join("three.log");
    generate_dated(&log, 11_000, 11, start + 600, 4_000);
    import_no_detect(&url, &log);
    let old = dir.path().join("old.log");
    generate_dated(&old, 2_000, 12, today() - 40 * DAY + 3600, 100_000);
    import_no_detect(&url, &old);
    let db = connect(&url).await;
    assert!(count(&db, "mail_message").await > 500);
    if !postgres() {
        assert!(day_partitions(&db, "mail_message").await.is_empty());
        return;
    }
    let date = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y%m%d")
            .to_string()
    };
    for p in partitions::TABLES {
        if p.table == "mail_domain_minute" {
            continue; // no hosted domain: no rows, no days written
        }
        let names = day_partitions(&db, p.table).await;
        let want: Vec<String> = [today() - 40 * DAY, start, start + DAY, start + 2 * DAY]
            .iter()
            .map(|t| format!("{}_p{}", p.table, date(*t)))
            .collect();
        assert_eq!(names, want, "{}", p.table);
        for name in &names {
            assert!(count(&db, name).await > 0, "{name} holds rows");
        }
    }
    assert!(
        default_rows(&db).await.values().all(|n| *n == 0),
        "{:?}",
        default_rows(&db).await
    );
    // A row written before its day's partition exists lands in the
    // default partition, and moves into the partition when it is created.
    let later = today() + 20 * DAY + 60;
    exec(
        &db,
        &format!(
            "INSERT INTO mail_minute (host, minute, series, n) VALUES ('mx9', {later}, 'received', 5)"
        ),
    )
    .await;
    assert_eq!(count(&db, "mail_minute_pdefault").await, 1);
    assert_eq!(partitions::ensure_days(&db, later, later).await.unwrap(), 5);
    assert_eq!(count(&db, "mail_minute_pdefault").await, 0);
    let spec = partitions::table("mail_minute").unwrap();
    assert_eq!(count(&db, &spec.name(later / DAY)).await, 1);
}

#[tokio::test]
async fn a_purge_drops_the_days_past_the_horizon_whole_and_only_those() {
    if !postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let db = open(&url).await;
    // Noon: the trace horizon (30 days) falls in the middle of a day.
    let now = today() + DAY / 2;
    let before = now - 30 * DAY;
    let old = dir.path().join("old.log");
    generate_dated(&old, 8_000, 21, now - 45 * DAY, 4_000);
    import_no_detect(&url, &old);
    let recent = dir.path().join("recent.log");
    generate_dated(&recent, 4_000, 22, now - 2 * DAY, 4_000);
    import_no_detect(&url, &recent);
    // Two messages of the horizon's own day, one each side of it, and one
    // old message written without its day's partition (to the default).
    partitions::ensure_days(&db, before, before).await.unwrap();
    let stray = now - 60 * DAY;
    for (queue_id, t) in [
        ("EDGEOLD", before - 60),
        ("EDGENEW", before + 60),
        ("STRAY", stray),
    ] {
        exec(
            &db,
            &format!(
                "INSERT INTO mail_message (host, queue_id, first_at, first_hour, last_at, origin, \
                 recipients, rcpt_addrs, removed) VALUES ('mx9', '{queue_id}', {t}, {}, {t}, \
                 'smtpd', '[]', '', false)",
                t / 3600
            ),
        )
        .await;
    }
    assert_eq!(count(&db, "mail_message_pdefault").await, 1);
    let old_days = day_partitions(&db, "mail_message").await;
    let gone: Vec<String> = partitions::older_than(&db, "mail_message", before)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(gone.len(), 3, "the old log's two days, from noon: {gone:?}");
    let mut want = 0;
    for name in &gone {
        want += count(&db, name).await;
    }
    let messages = count(&db, "mail_message").await;
    let trace = |t: &retention::Table| t.name == "mail_message" || t.name == "mail_recipient";
    let opts = Options {
        dry_run: true,
        chunk_rows: 100,
        pause: Duration::ZERO,
    };

    let dry = retention::purge(&db, &Settings::default(), now, opts, trace).await;
    let dry_messages = &dry[0];
    assert_eq!(dry_messages.table.name, "mail_message");
    let listed: Vec<&str> = dry_messages
        .partitions
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(listed, gone, "a dry run lists the days it would drop");
    assert_eq!(
        *dry_messages.rows.as_ref().unwrap(),
        Some(want as u64 + 1),
        "their rows, and the default partition's old one"
    );
    assert_eq!(
        count(&db, "mail_message").await,
        messages,
        "and drops nothing"
    );
    assert_eq!(day_partitions(&db, "mail_message").await, old_days);

    let done = retention::purge(
        &db,
        &Settings::default(),
        now,
        Options {
            dry_run: false,
            ..opts
        },
        trace,
    )
    .await;
    for (d, r) in dry.iter().zip(&done) {
        assert_eq!(
            d.rows.as_ref().unwrap(),
            r.rows.as_ref().unwrap(),
            "{}",
            d.table.name
        );
        assert_eq!(d.partitions, r.partitions, "{}", d.table.name);
    }
    let left = day_partitions(&db, "mail_message").await;
    assert!(left.iter().all(|p| !gone.contains(p)), "{left:?}");
    assert_eq!(left.len(), old_days.len() - gone.len(), "only those went");
    assert_eq!(count(&db, "mail_message").await, messages - want - 1);
    // The horizon's own day stays whole until it is all past.
    assert_eq!(
        count(&db, "mail_message WHERE queue_id LIKE 'EDGE%'").await,
        2
    );
    assert_eq!(count(&db, "mail_message_pdefault").await, 0);
    assert!(
        partitions::older_than(&db, "mail_recipient", before / 3600)
            .await
            .unwrap()
            .is_empty(),
        "the recipient index's days went with their messages"
    );
    // A day later the horizon's day is past: it goes too.
    let later = retention::purge(
        &db,
        &Settings::default(),
        now + DAY,
        Options {
            dry_run: false,
            ..opts
        },
        trace,
    )
    .await;
    assert_eq!(later[0].partitions.len(), 1, "{:?}", later[0].partitions);
    assert_eq!(
        count(&db, "mail_message WHERE queue_id LIKE 'EDGE%'").await,
        0
    );
}

#[tokio::test]
async fn processes_creating_the_same_days_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let db = open(&url).await;
    // Four purges at once, each creating today and the next two days.
    let purges: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || stdout_of(carteiro().args(["--db", &url, "purge"])))
        })
        .collect();
    let created: u32 = purges
        .into_iter()
        .map(|p| {
            let out = String::from_utf8(p.join().unwrap()).unwrap();
            out.lines()
                .find_map(|l| l.strip_prefix("created "))
                .and_then(|l| l.split(' ').next())
                .map_or(0, |n| n.parse().unwrap())
        })
        .sum();
    if !postgres() {
        assert_eq!(created, 0);
        return;
    }
    assert_eq!(created, 15, "each of 3 days × 5 tables once");
    for p in partitions::TABLES {
        let names = day_partitions(&db, p.table).await;
        let want: Vec<String> = (0..3).map(|i| p.name(today() / DAY + i)).collect();
        assert_eq!(names, want);
    }
    // And in one process, tasks on their own connections.
    let day = today() / DAY + 10;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let db = connect(&url).await;
                partitions::ensure_days(&db, day * DAY, day * DAY).await
            })
        })
        .collect();
    let mut made = 0;
    for t in tasks {
        made += t.await.unwrap().expect("no error");
    }
    assert_eq!(made, 5);
    let spec: Partitioned = partitions::table("mail_recipient").unwrap();
    assert!(
        day_partitions(&db, "mail_recipient")
            .await
            .contains(&spec.name(day))
    );
}
