//! The concurrency suite: the whole portal, started as `carteiro serve`
//! starts it (ephemeral loopback ports, a fresh database: SQLite, or
//! PostgreSQL when `CARTEIRO_TEST_DATABASE_URL` names a server), under
//! everything a busy team and its mail relays do at once: 8 staff
//! clients creating, editing and suspending mailboxes and aliases and
//! racing for the same addresses and a domain's last free slots, 2
//! security clients approving and lifting blocks, a 5,000-row CSV import,
//! sign-ins with wrong passwords, the ingest worker tailing a growing log
//! and Postfix policy requests (the mix is `server::tools::soak`, shared with
//! `carteiro soak`).
//!
//! It asserts: no 5xx and no request left unanswered; every refusal an
//! expected 4xx with a message a person can read; no domain over its
//! limits; no address both a mailbox and an alias; one audit entry per
//! change the server reported done; and the worker's counters equal to a
//! quiet import of the same log into a fresh database.

#[path = "../common/mod.rs"]
mod common;

use server::config::SourceConfig;
use server::tools::soak::{self, Mix, Target};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_holds_up_under_the_whole_mix_at_once() {
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let mut cfg = common::test_config(&dir).await;
    cfg.mailflow.sources = vec![SourceConfig {
        name: "mx".into(),
        path: log.clone(),
    }];
    cfg.mailflow.poll_millis = 100;
    // The run's accounts and domains exist before the portal starts.
    let mix = Mix::test();
    let plan = {
        let db = server::db::connect(&cfg.database).await.unwrap();
        server::db::migrate(&db).await.unwrap();
        let plan = soak::seed(&db, &mix).await.expect("seeding the run");
        db.close().await.unwrap();
        plan
    };
    let running = server::start::start(&cfg, server::start::Options::default())
        .await
        .expect("the portal starts");
    assert!(
        running
            .http_addr
            .expect("the portal runs")
            .ip()
            .is_loopback()
    );
    let target = Target {
        base: format!("http://{}", running.http_addr.expect("the portal runs")),
        policyd: Some(running.policyd_addr().expect("the policy daemon runs")),
        db: running.state.db.clone(),
        log: Some(log.clone()),
        board: Some(running.state.ingest.clone()),
    };
    let outcome = soak::run(&target, &plan, &mix).await.unwrap();
    let report = &outcome.report;
    eprintln!("{report}");

    // The same log, imported with nothing else going on.
    let quiet_dir = tempfile::tempdir().unwrap();
    let quiet = server::db::connect(&server::config::DatabaseConfig {
        url: common::fresh_database(&quiet_dir).await,
        ..Default::default()
    })
    .await
    .unwrap();
    let quiet_lines = soak::checks::quiet_import(&cfg, &quiet, &log)
        .await
        .unwrap();
    let ingest =
        soak::checks::ingest(&target.db, &quiet, &plan.hosts, Duration::from_secs(30)).await;
    let problems = soak::checks::database(&target.db, &plan, report)
        .await
        .unwrap();
    let race_domain = domain_counts(&target.db, &plan.race_domain).await;
    let imported = domain_counts(&target.db, &plan.import_domain).await;
    running.shutdown().await.unwrap();

    // Everything that does not hold, at once, with the figures.
    let mut broken = Vec::new();
    if !outcome.finished {
        broken.push(format!("the mix did not finish within {:?}", mix.duration));
    }
    if report.failure_count > 0 {
        broken.push(format!(
            "{} answers were 5xx, missing or not the expected refusal (FAILURES below)",
            report.failure_count
        ));
    }
    broken.extend(problems);
    if quiet_lines != outcome.ingest_lines {
        broken.push(format!(
            "the quiet import read {quiet_lines} lines, {} were written",
            outcome.ingest_lines
        ));
    }
    if let Err(e) = ingest {
        broken.push(format!("ingest: {e}"));
    }
    // The mix did what it is meant to: the races were run and lost, the
    // small domain filled up, the import went through, blocks were
    // approved and lifted, the policy daemon and the wrong passwords were
    // answered.
    let slots = i64::from(mix.race_slots);
    let budget = mix.budget.unwrap();
    let wrong = report.count("sign_in_wrong", 401..=429);
    let raced = report.count("race_mailbox", 400..=499) + report.count("race_alias", 400..=499);
    for (ok, what) in [
        (
            race_domain == (slots, slots),
            format!(
                "the race domain holds {race_domain:?} mailboxes and aliases, not its {slots} each"
            ),
        ),
        (
            report.count("slot_mailbox", 400..=499) > 0
                && report.count("slot_alias", 400..=499) > 0,
            "no one was refused a slot of the full domain".to_string(),
        ),
        (raced > 0, "no contested address was refused".to_string()),
        (
            imported.0 == mix.import_rows as i64,
            format!("{} of {} imported mailboxes", imported.0, mix.import_rows),
        ),
        (
            report.count("defence_approve", 200..=299) > 0
                && report.count("defence_lift", 200..=299) > 0,
            "no block was both approved and lifted".to_string(),
        ),
        (
            report.count("policy", 200..=200) > 100,
            "the policy daemon answered 100 requests or fewer".to_string(),
        ),
        (
            wrong == budget.intruder * mix.intruders as u64,
            format!("{wrong} wrong passwords refused with 401 or 429"),
        ),
        (
            began.elapsed() < Duration::from_secs(120),
            format!("the suite took {:?}", began.elapsed()),
        ),
    ] {
        if !ok {
            broken.push(what);
        }
    }
    assert!(broken.is_empty(), "{}\n\n{report}", broken.join("\n"));
}

/// The mailboxes and aliases of `domain`.
async fn domain_counts(db: &sea_orm::DatabaseConnection, domain: &str) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let mut counts = [0i64; 2];
    for (i, table) in ["mailbox", "mail_alias"].into_iter().enumerate() {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} x JOIN mail_domain d ON d.id = x.domain_id WHERE d.name = '{domain}'"
        );
        let stmt = Statement::from_string(db.get_database_backend(), sql);
        let row = db.query_one_raw(stmt).await.unwrap().unwrap();
        counts[i] = row.try_get_by_index::<i64>(0).unwrap();
    }
    (counts[0], counts[1])
}
