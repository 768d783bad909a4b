//! Distributed attacks and what is never proposed, through `carteiro
//! import` with the default policies (issue 17 items 4 and 6): a SASL brute
//! force spread over 163 addresses is proposed per account and per /24, an
//! IPv6 one per /48; the relays' addresses, the customer pools and the
//! never-block networks are not; a burst of failures far above the usual
//! rate is an alert in the report and in the database.

use crate::common::carteiro;
use crate::detect::{import_files, proposed};
use crate::helpers::database_at;
use app::server::entities::{defence_alert, defence_never_block};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::Value;
use std::path::Path;

/// A failed login as Postfix 3.x logs it, naming the account tried,
/// `secs` seconds into 2026-11-30 (UTC).
fn failed_login(secs: i64, ip: &str, account: &str) -> String {
    // 2026-11-30T00:00:00Z
    let start = chrono::DateTime::from_timestamp(1_795_996_800, 0).unwrap();
    let stamp = (start + chrono::Duration::seconds(secs)).format("%b %e %H:%M:%S");
    format!(
        "{stamp} smtp1 postfix/submission/smtpd[200]: warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={account}\n"
    )
}

/// The JSON report of `carteiro [--config CONFIG] --db DB import [--dry-run] FILE`.
fn import(config: Option<&Path>, db: &str, dry_run: bool, file: &Path) -> Value {
    let config = config.map(|c| c.to_str().unwrap());
    let args: Vec<&str> = config
        .map_or(vec![], |c| vec!["--config", c])
        .into_iter()
        .chain(["--db", db])
        .collect();
    let import_args: &[&str] = if dry_run { &["--dry-run"] } else { &[] };
    import_files(&args, import_args, &[file])
}

#[test]
fn a_distributed_brute_force_is_proposed_per_account_per_24_and_per_48() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mail.log");
    let mut log = String::new();
    // 1,063 failures from 163 addresses of one /24 (16 from the first, at
    // most 7 from the others) against one account, within an hour.
    for i in 0..1063 {
        let host = if i < 16 { 1 } else { 2 + (i - 16) % 162 };
        log += &failed_login(i * 3, &format!("198.51.100.{host}"), "joao@cliente.com.br");
    }
    // 150 from addresses of one IPv6 /48, each against another account.
    for i in 0..150 {
        let ip = format!("2001:db8:42:{:x}::{:x}", i % 9, 1 + i % 5);
        log += &failed_login(4000 + i * 10, &ip, &format!("u{i}@cliente.com.br"));
    }
    std::fs::write(&file, log).unwrap();

    let report = import(None, "sqlite::memory:", true, &file);
    assert_eq!(report["sasl_auth_failures"], 1213);
    assert_eq!(
        proposed(&report),
        [
            (
                "account".into(),
                "joao@cliente.com.br".into(),
                "sasl-brute-force-account".into()
            ),
            (
                "ip".into(),
                "198.51.100.0/24".into(),
                "sasl-brute-force-network".into()
            ),
            (
                "ip".into(),
                "2001:db8:42::/48".into(),
                "sasl-brute-force-network".into()
            ),
        ]
    );
    // No history to judge a rate by: no alert, but the key is there.
    assert_eq!(report["alerts"], serde_json::json!([]));
}

#[tokio::test]
async fn relays_customer_pools_and_never_block_networks_are_never_proposed() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_at(&dir).await;
    defence_never_block::ActiveModel {
        network: Set("203.0.113.0/24".into()),
        note: Set("partner".into()),
        created_by: Set("boss".into()),
        created_at: Set(0),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let config = dir.path().join("carteiro.toml");
    std::fs::write(
        &config,
        "[mailflow]\nrelay_addresses = [\"198.51.100.10\"]\n[defence]\ncustomer_pools = [\"177.16.0.0/12\"]\n",
    )
    .unwrap();
    let file = dir.path().join("mail.log");
    let mut log = String::new();
    // Each source hammers alone and with its neighbours, against its own
    // account: by address and by network it would be proposed.
    let sources = [
        ("198.51.100.10", "198.51.100", "relay@cliente.com.br"),
        ("177.20.1.1", "177.20.1", "pool@cliente.com.br"),
        ("203.0.113.5", "203.0.113", "never@cliente.com.br"),
    ];
    for (n, (single, net, account)) in sources.into_iter().enumerate() {
        for i in 0..75 {
            let t = n as i64 * 150 + i * 2;
            log += &failed_login(t, single, account);
            log += &failed_login(t + 1, &format!("{net}.{}", 100 + i % 40), account);
        }
    }
    std::fs::write(&file, log).unwrap();

    let report = import(Some(&config), &url, false, &file);
    // The accounts are still proposed: a compromised customer is caught
    // by account.
    let got = proposed(&report);
    assert_eq!(
        got,
        [
            (
                "account".into(),
                "never@cliente.com.br".into(),
                "sasl-brute-force-account".into()
            ),
            (
                "account".into(),
                "pool@cliente.com.br".into(),
                "sasl-brute-force-account".into()
            ),
            (
                "account".into(),
                "relay@cliente.com.br".into(),
                "sasl-brute-force-account".into()
            ),
        ]
    );
}

#[tokio::test]
async fn a_burst_far_above_the_usual_rate_is_an_alert_a_steady_rate_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_at(&dir).await;
    let hour = 3600;
    let mut log = String::new();
    // Two days at 60 failures an hour from all over, one account each.
    for i in 0..48 * 60 {
        let at = i * 60;
        log += &failed_login(
            at,
            &format!("192.0.2.{}", i % 200),
            &format!("u{}@x.br", i % 500),
        );
    }
    let steady = dir.path().join("steady.log");
    std::fs::write(&steady, &log).unwrap();
    let report = import(None, "sqlite::memory:", true, &steady);
    assert_eq!(report["alerts"], serde_json::json!([]));

    // Then an hour at 1,500 (from 1,500 addresses: no policy sees it).
    for i in 0..1500 {
        let at = 48 * hour + i * 2;
        let ip = format!("10.{}.{}.{}", i / 250 % 250, i % 250, 1 + i % 7);
        log += &failed_login(at, &ip, &format!("v{i}@x.br"));
    }
    let burst = dir.path().join("burst.log");
    std::fs::write(&burst, &log).unwrap();
    let report = import(None, &url, false, &burst);
    let alerts = report["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "sasl_failures");
    assert_eq!(alerts[0]["usual"], 60.0);
    assert!(alerts[0]["count"].as_u64().unwrap() >= 1400, "{alerts:?}");
    assert_eq!(alerts[0]["since"].as_str().unwrap()[..13], *"2026-12-02T00");
    // Stored once, open.
    let rows = defence_alert::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].status.as_str()),
        ("sasl_failures", "open")
    );
    assert!(rows[0].count >= 1400);
    // The text report lists it.
    let out = carteiro()
        .args([
            "--db",
            "sqlite::memory:",
            "import",
            "--dry-run",
            "--year",
            "2026",
        ])
        .arg(&burst)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Alerts (1)") && text.contains("sasl_failures"),
        "{text}"
    );
}
