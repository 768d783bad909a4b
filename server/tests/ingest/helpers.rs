use app::state::IngestBoard;
use mailflow::count::{Counter, RejectRules, Settings};
use mailflow::generate::{Generator, Shape};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use server::config::SourceConfig;
use std::collections::BTreeMap;
use std::path::Path;

/// The first log second of every generated file: 2026-11-01 00:00 UTC.
pub const START: i64 = 1_793_491_200;

/// Writes `lines` generated lines (seeded) to `path`, starting at [`START`].
pub fn generate(path: &Path, lines: usize, seed: u64) -> String {
    let mut g = Generator::new(Shape {
        seed,
        start: START,
        lines_per_day: 2_000_000,
        hosts: vec!["mx1".into(), "mx2".into(), "smtp1".into()],
        rfc3339: false,
    });
    let mut text = String::new();
    for _ in 0..lines {
        g.next_line(&mut text);
    }
    std::fs::write(path, &text).unwrap();
    text
}

/// Writes `lines` generated lines (seeded, RFC 3339 times, relays mx1 and
/// mx2) to `path`, from `start`, `per_day` lines a day.
pub fn generate_dated(path: &Path, lines: usize, seed: u64, start: i64, per_day: u64) {
    let mut g = Generator::new(Shape {
        seed,
        start,
        lines_per_day: per_day,
        hosts: vec!["mx1".into(), "mx2".into()],
        rfc3339: true,
    });
    let mut text = String::new();
    for _ in 0..lines {
        g.next_line(&mut text);
    }
    std::fs::write(path, text).unwrap();
}

/// The one integer `sql` selects (e.g. a `CAST(COUNT(*) AS BIGINT)`).
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"))
        .try_get_by_index(0)
        .unwrap()
}

/// Imports `log` into `url` without abuse detection.
pub fn import_no_detect(url: &str, log: &Path) {
    crate::import::import_with(url, &[log], &["--no-detect"], &[]);
}

/// What the engine counts in `log` read in one pass, line by line on one
/// thread, by stored series name.
pub fn count_in_one_pass(log: impl AsRef<[u8]>) -> BTreeMap<String, i64> {
    let mut c = Counter::new(Settings::default(), RejectRules::defaults(), 2026);
    for line in log.as_ref().split_inclusive(|b| *b == b'\n') {
        c.feed_bytes(line);
    }
    let t = c.totals;
    let mut want: BTreeMap<String, i64> = [
        ("received", t.received),
        ("sent", t.sent),
        ("bounced", t.bounced),
        ("deferred", t.deferred),
        ("rejected", t.rejected),
        ("spam", t.spam),
        ("virus", t.virus),
        ("sasl_failures", c.sasl_failures),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n as i64))
    .collect();
    for (class, n) in c.reject_classes() {
        want.insert(format!("reject.{class}"), n as i64);
    }
    want.retain(|_, n| *n > 0);
    want
}

/// A portal started as `carteiro serve` starts it, with live ingest workers.
pub struct Worker {
    pub db: DatabaseConnection,
    pub board: IngestBoard,
    portal: server::start::Running,
}

impl Worker {
    /// Stops the portal and its workers (a batch being written is
    /// committed with its checkpoint first, as on SIGTERM).
    pub async fn stop(self) {
        self.portal.shutdown().await.unwrap();
    }
}

/// Starts the worker on `path`, polling often.
pub async fn worker_on(url: &str, path: &Path) -> Worker {
    workers_on(url, &[path]).await
}

/// Starts the portal on the database at `url` with one worker per path
/// (sources `mx0`, `mx1`…), polling often.
pub async fn workers_on(url: &str, paths: &[&Path]) -> Worker {
    let mut cfg = crate::common::test_config_on(url.into());
    cfg.mailflow.poll_millis = 40;
    cfg.mailflow.batch_lines = 1000;
    // The generated logs are from November 2026: keep their minutes, which
    // the purge would delete on a restart once they are two weeks old.
    cfg.mailgraph.retention.minute_days = 0;
    cfg.mailgraph.domain_retention.minute_days = 0;
    cfg.retention = app::state::RetentionSettings::KEEP_ALL;
    cfg.mailflow.sources = paths
        .iter()
        .enumerate()
        .map(|(i, path)| SourceConfig {
            name: format!("mx{i}"),
            path: path.to_path_buf(),
        })
        .collect();
    let portal = server::start::start(&cfg, server::start::Options::default())
        .await
        .expect("the portal starts");
    Worker {
        db: portal.state.db.clone(),
        board: portal.state.ingest.clone(),
        portal,
    }
}

pub async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .expect("connect to the test database")
}

/// Every row of `sql`, each value as `Some(…)`/`None` text.
pub async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    let stmt = Statement::from_string(db.get_database_backend(), sql.to_string());
    db.query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.column_names().len())
                .map(|i| {
                    // An integer or a text column's value, as text.
                    let int = r
                        .try_get_by_index::<Option<i64>>(i)
                        .map(|v| format!("{v:?}"));
                    let text = || {
                        r.try_get_by_index::<Option<String>>(i)
                            .map(|v| format!("{v:?}"))
                    };
                    int.or_else(|_| text()).expect("an integer or text column")
                })
                .collect()
        })
        .collect()
}

/// The sum of each series over all hosts and minutes.
pub async fn series_sums(db: &DatabaseConnection) -> BTreeMap<String, i64> {
    let sql = "SELECT series, CAST(SUM(n) AS BIGINT) AS n FROM mail_minute GROUP BY series";
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    db.query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get("", "series").unwrap(),
                r.try_get("", "n").unwrap(),
            )
        })
        .collect()
}

/// Every stored counter and message trace, in a stable order: two databases
/// with equal snapshots hold the same data.
pub async fn snapshot(db: &DatabaseConnection) -> Vec<Vec<String>> {
    let mut all = rows(
        db,
        "SELECT host, minute, series, n FROM mail_minute ORDER BY minute, host, series",
    )
    .await;
    all.extend(
        rows(db, "SELECT kind, subject, hour, series, n FROM mail_subject_hour ORDER BY kind, subject, hour, series").await,
    );
    for (table, time, key) in [
        ("mail_hour", "hour", "host"),
        ("mail_day", "day", "host"),
        ("mail_domain_minute", "minute", "domain"),
        ("mail_domain_hour", "hour", "domain"),
        ("mail_domain_day", "day", "domain"),
    ] {
        let sql =
            format!("SELECT '{table}', {time}, {key}, series, n FROM {table} ORDER BY 2, 3, 4");
        all.extend(rows(db, &sql).await);
    }
    all.extend(
        rows(
            db,
            "SELECT host, queue_id, first_at, last_at, origin, client_name, client_ip, \
             sasl_method, sasl_username, message_id, sender, size, CAST(nrcpt AS BIGINT), verdict, reject, \
             recipients, rcpt_addrs, CAST(CASE WHEN removed THEN 1 ELSE 0 END AS BIGINT) FROM mail_message ORDER BY host, queue_id, first_at",
        )
        .await,
    );
    all.extend(recipient_index(db).await);
    all
}

/// The recipient index (`mail_recipient`), each row with its message's
/// key instead of its id (ids differ between two runs), after checking
/// that it holds exactly one row per (stored message, recipient address):
/// none missing, none twice, none of a message not stored.
pub async fn recipient_index(db: &DatabaseConnection) -> Vec<Vec<String>> {
    use app::server::ingest_status::key_hash;
    use std::collections::BTreeSet;
    let messages = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, first_at, recipients FROM mail_message",
        ))
        .await
        .unwrap();
    let mut want = BTreeSet::new();
    for m in &messages {
        let (id, first_at): (i64, i64) = (
            m.try_get("", "id").unwrap(),
            m.try_get("", "first_at").unwrap(),
        );
        let json: String = m.try_get("", "recipients").unwrap();
        let recipients: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        for r in recipients {
            let to = r["to"].as_str().unwrap();
            if to.is_empty() {
                continue;
            }
            want.insert((first_at.div_euclid(3600), key_hash(to), first_at, id));
        }
    }
    let stored = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT first_hour, hash, first_at, message_id FROM mail_recipient",
        ))
        .await
        .unwrap();
    let got: Vec<(i64, i64, i64, i64)> = stored
        .iter()
        .map(|r| {
            let get = |c: &str| r.try_get::<i64>("", c).unwrap();
            (
                get("first_hour"),
                get("hash"),
                get("first_at"),
                get("message_id"),
            )
        })
        .collect();
    assert_eq!(
        got.len(),
        want.len(),
        "index rows: one per message and recipient"
    );
    assert!(
        got.into_iter().collect::<BTreeSet<_>>() == want,
        "the recipient index is not its messages' recipients"
    );
    rows(
        db,
        "SELECT m.host, m.queue_id, r.first_at, r.first_hour, r.hash FROM mail_recipient r \
         JOIN mail_message m ON m.id = r.message_id ORDER BY 1, 2, 3, 5",
    )
    .await
}

/// Per-domain sums `(domain, series) → n` of the minute tier.
pub async fn domain_sums(db: &DatabaseConnection) -> BTreeMap<(String, String), i64> {
    rows(
        db,
        "SELECT domain, series, CAST(SUM(n) AS BIGINT) FROM mail_domain_minute GROUP BY domain, series",
    )
    .await
    .into_iter()
    .map(|r| {
        let text = |v: &str| v.trim_start_matches("Some(\"").trim_end_matches("\")").to_string();
        let n = r[2].trim_start_matches("Some(").trim_end_matches(')').parse().unwrap();
        ((text(&r[0]), text(&r[1])), n)
    })
    .collect()
}

/// Asserts that every hour and day row is the exact sum of its minutes
/// (days are São Paulo's, the default zone: -03:00 all of 2026).
pub async fn assert_tiers_agree(db: &DatabaseConnection) {
    for (key, tables) in [
        ("host", ["mail_minute", "mail_hour", "mail_day"]),
        (
            "domain",
            ["mail_domain_minute", "mail_domain_hour", "mail_domain_day"],
        ),
    ] {
        for (table, time, seconds, offset) in [
            (tables[1], "hour", 3600, 0),
            (tables[2], "day", 86_400, -3 * 3600),
        ] {
            let start = format!("minute - (minute + {offset}) % {seconds}");
            let rolled = rows(
                db,
                &format!(
                    "SELECT CAST({start} AS BIGINT) AS t, {key}, series, CAST(SUM(n) AS BIGINT) \
                     FROM {} GROUP BY {start}, {key}, series ORDER BY 1, 2, 3",
                    tables[0]
                ),
            )
            .await;
            let stored = rows(
                db,
                &format!("SELECT {time}, {key}, series, n FROM {table} ORDER BY 1, 2, 3"),
            )
            .await;
            assert_eq!(rolled, stored, "{table} is not the sum of {}", tables[0]);
        }
    }
}

/// The latest minute with a stored counter.
pub async fn latest_minute(db: &DatabaseConnection) -> i64 {
    let sql = "SELECT CAST(MAX(minute) AS BIGINT) AS m FROM mail_minute";
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(stmt).await.unwrap().unwrap();
    row.try_get("", "m").unwrap()
}
