//! `carteiro import` into a database: what is stored is what is reported,
//! and importing a file again (renamed or gzipped) adds nothing.

use crate::common::{carteiro, fresh_database, host_domains, stdout_of};
use crate::helpers::{
    assert_tiers_agree, connect, count_in_one_pass, domain_sums, generate, series_sums, snapshot,
};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// `carteiro --db URL import --report json --year 2026 FILE...` → the report.
pub fn import(db: &str, files: &[&Path], extra: &[&str]) -> Value {
    let args: Vec<&str> = ["--year", "2026"].iter().chain(extra).copied().collect();
    import_with(db, files, &args, &[])
}

/// `carteiro import --report json` of `files` with `args` and environment
/// `env`; panics if it fails, else its report.
pub fn import_with(db: &str, files: &[&Path], args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = stdout_of(
        carteiro()
            .envs(env.iter().copied())
            .args(["--db", db, "import", "--report", "json"])
            .args(args)
            .args(files),
    );
    serde_json::from_slice(&out).expect("one JSON object")
}

/// `lines` written as `mail.log` in `dir` and imported into a fresh
/// database: the connection to it.
pub async fn import_lines(dir: &tempfile::TempDir, lines: &str) -> DatabaseConnection {
    let log = dir.path().join("mail.log");
    std::fs::write(&log, lines).unwrap();
    let url = fresh_database(dir).await;
    import(&url, &[&log], &[]);
    connect(&url).await
}

/// The report's counts under the names the database stores them by.
pub fn reported(r: &Value) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for (k, v) in r["totals"].as_object().unwrap() {
        m.insert(k.clone(), v.as_i64().unwrap());
    }
    for (k, v) in r["reject_classes"].as_object().unwrap() {
        m.insert(format!("reject.{k}"), v.as_i64().unwrap());
    }
    m.insert(
        "sasl_failures".into(),
        r["sasl_auth_failures"].as_i64().unwrap(),
    );
    m.retain(|_, n| *n > 0);
    m
}

#[tokio::test]
async fn stored_counters_equal_the_report_and_a_second_import_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let text = generate(&log, 30_000, 7);
    let url = fresh_database(&dir).await;

    let first = import(&url, &[&log], &[]);
    assert_eq!(first["lines"], 30_000);
    let want = count_in_one_pass(&text);
    assert!(
        want["received"] > 1000 && want["reject.unknown_user"] > 100,
        "{want:?}"
    );
    assert_eq!(reported(&first), want);
    let db = connect(&url).await;
    assert_eq!(series_sums(&db).await, want);
    let stored = snapshot(&db).await;

    // The same file renamed and gzipped by logrotate, and again as it was.
    let gz = dir.path().join("mail.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let again = import(&url, &[&gz, &log], &[]);
    assert_eq!(again["lines"], 0, "{again}");
    assert_eq!(snapshot(&db).await, stored);

    // The file grew: only the new lines count.
    let more = generate(&dir.path().join("more.log"), 500, 8);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(more.as_bytes())
        .unwrap();
    let grown = import(&url, &[&log], &[]);
    assert_eq!(grown["lines"], 500);
    assert_eq!(grown["files"][0]["resumed_from"], text.len());
}

#[tokio::test]
async fn message_traces_keep_each_recipient_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_lines(
        &dir,
        "Nov  2 10:00:00 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=mail.example.org[198.51.100.7]\n\
         Nov  2 10:00:00 mx1 postfix/cleanup[11]: 4F1A2B3C4D: message-id=<abc@example.org>\n\
         Nov  2 10:00:01 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<news@example.org>, size=2048, nrcpt=2 (queue active)\n\
         Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<ana@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
         Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<Bia@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=5.2.2, status=bounced (552 5.2.2 Mailbox full)\n\
         Nov  2 10:00:02 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed\n",
    )
    .await;
    let rows = snapshot(&db).await;
    let message = rows
        .iter()
        .find(|r| r.len() == 18)
        .expect("one message row");
    let text = message.join(" | ");
    for want in [
        "\"mx1\"",
        "\"4F1A2B3C4D\"",
        "\"198.51.100.7\"",
        "\"abc@example.org\"",
        "\"news@example.org\"",
        "Some(2048)",
        "Mailbox full",
        "\"ana@cliente.com.br bia@cliente.com.br\"",
    ] {
        assert!(text.contains(want), "{want} missing from {text}");
    }
    assert_eq!(message[17], "Some(1)", "removed");
}

#[tokio::test]
async fn a_dry_run_leaves_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 2_000, 3);
    let file = dir.path().join("untouched.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let report = import(&url, &[&log], &["--dry-run"]);
    assert_eq!(report["lines"], 2_000);
    assert!(!file.exists(), "--dry-run created {}", file.display());
    // And a second dry run counts everything again.
    assert_eq!(import(&url, &[&log], &["--dry-run"])["lines"], 2_000);
}

#[tokio::test]
async fn a_new_database_gets_the_demo_log_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let mut cfg = server::config::Config::default();
    cfg.database.url = url.clone();
    let db = connect(&url).await;
    server::db::migrate(&db).await.unwrap();

    // Three days of 100,000 usual lines, and the attacks on top.
    let lines = server::tools::demo::seed(&db, &cfg).await.unwrap();
    assert!((300_000..310_000).contains(&lines), "{lines}");
    let sums = series_sums(&db).await;
    for series in [
        "received",
        "sent",
        "rejected",
        "spam",
        "reject.unknown_user",
    ] {
        assert!(
            sums.get(series).copied().unwrap_or(0) > 0,
            "{series}: {sums:?}"
        );
    }
    // It ends about now, never in the future.
    let latest = crate::helpers::latest_minute(&db).await;
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 3600..=now).contains(&latest),
        "latest minute {latest}, now {now}"
    );

    assert_eq!(
        server::tools::demo::seed(&db, &cfg).await.unwrap(),
        0,
        "only on a new database"
    );
    assert_eq!(series_sums(&db).await, sums);
}

#[tokio::test]
async fn hour_and_day_tiers_and_hosted_domains_hold_the_exact_counts() {
    use mailflow::count::{Counter, HostedDomains, RejectRules, Settings};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let text = generate(&log, 30_000, 5);
    let url = fresh_database(&dir).await;
    let db = connect(&url).await;
    host_domains(&db, &["cliente.com.br", "Provedor.NET.br"]).await;

    import(&url, &[&log], &[]);
    assert_tiers_agree(&db).await;

    // The same lines in one pass, with the same domains hosted.
    let settings = Settings {
        domains: std::sync::Arc::new(HostedDomains::new(["cliente.com.br", "provedor.net.br"])),
        ..Settings::default()
    };
    let mut c = Counter::new(settings, RejectRules::defaults(), 2026);
    for line in text.lines() {
        c.feed(line);
    }
    let batch = c.take_batch();
    let mut want: BTreeMap<(String, String), i64> = BTreeMap::new();
    for ((domain, _, s), n) in &batch.domain_minutes {
        let series = batch.series[usize::from(*s)].clone();
        *want.entry((domain.to_string(), series)).or_default() += *n as i64;
    }
    let got = domain_sums(&db).await;
    assert_eq!(got, want);
    for domain in ["cliente.com.br", "provedor.net.br"] {
        for series in ["received", "sent", "rejected"] {
            let n = got.get(&(domain.to_string(), series.to_string()));
            assert!(n.is_some_and(|n| *n > 10), "{domain} {series}: {n:?}");
        }
    }
    assert!(
        got.keys()
            .all(|(d, _)| d == "cliente.com.br" || d == "provedor.net.br"),
        "only hosted domains have series: {:?}",
        got.keys()
            .map(|k| &k.0)
            .collect::<std::collections::BTreeSet<_>>()
    );
}

#[tokio::test]
async fn the_text_report_shows_the_periods_tables() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let text = generate(&log, 20_000, 9);
    let url = fresh_database(&dir).await;
    let db = connect(&url).await;
    server::db::migrate(&db).await.unwrap();
    let out = carteiro()
        .args(["--db", &url, "import", "--dry-run", "--year", "2026"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    let want = count_in_one_pass(&text);
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with("received "))
        .expect("a received line");
    assert_eq!(
        line.split_whitespace().last().unwrap(),
        want["received"].to_string(),
        "{line}"
    );
    for section in [
        "Mail report 2026-10-31 21:00",
        "Grand totals",
        "Per day",
        "Per hour of day",
        "Rejects by class",
        "Senders by count",
        "Recipients by size",
        "Sending domains by count",
        "Receiving domains by size",
        "Bounces by remote server",
        "Deferrals by reason",
        "Rejects by client",
        "20000 lines (0 unparsed)",
    ] {
        assert!(report.contains(section), "{section} missing:\n{report}");
    }
    // A dry run: the database was not touched.
    assert_eq!(series_sums(&db).await, BTreeMap::new());
}
