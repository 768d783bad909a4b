//! Detection through `carteiro import`: a hand-written day with attackers,
//! a compromised account, and the honest traffic that must not be flagged,
//! checked in the report (a dry run: simulation) and in the database.

use crate::common::{carteiro, stdout_of};
use crate::helpers::database_at;
use app::server::entities::defence_proposal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use std::path::Path;

/// Seconds into 2026-11-29 (UTC) → the classic syslog timestamp.
fn stamp(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("Nov 29 {h:02}:{m:02}:{s:02}")
}

/// A log line list being written, kept in time order at the end.
#[derive(Default)]
struct Log {
    lines: Vec<(i64, String)>,
    qid: u32,
}

impl Log {
    fn add(&mut self, at: i64, text: String) {
        self.lines.push((at, format!("{} {text}", stamp(at))));
    }

    fn next_qid(&mut self) -> String {
        self.qid += 1;
        format!("{:X}", 0xA0000 + self.qid)
    }

    fn unknown_user(&mut self, at: i64, ip: &str, i: u32) {
        self.add(at, format!(
            "mx1 postfix/smtpd[100]: NOQUEUE: reject: RCPT from unknown[{ip}]: 550 5.1.1 <u{i}@example.com.br>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@spam.example> to=<u{i}@example.com.br> proto=ESMTP helo=<x>"
        ));
    }

    fn sasl_failure(&mut self, at: i64, ip: &str) {
        self.add(at, format!(
            "smtp1 postfix/submission/smtpd[200]: warning: unknown[{ip}]: SASL LOGIN authentication failed: authentication failure"
        ));
    }

    /// A message accepted from `ip` (sent by `account`) for `nrcpt` recipients.
    fn message(&mut self, at: i64, ip: &str, account: Option<&str>, nrcpt: u32) {
        let q = self.next_qid();
        let sasl = account
            .map(|a| format!(", sasl_method=LOGIN, sasl_username={a}"))
            .unwrap_or_default();
        self.add(
            at,
            format!("smtp1 postfix/smtpd[300]: {q}: client=host[{ip}]{sasl}"),
        );
        let from = account.unwrap_or("someone@partner.example");
        self.add(at, format!(
            "smtp1 postfix/qmgr[400]: {q}: from=<{from}>, size=1000, nrcpt={nrcpt} (queue active)"
        ));
        self.add(at + 1, format!("smtp1 postfix/qmgr[400]: {q}: removed"));
    }

    fn write(mut self, path: &Path) {
        self.lines.sort_by_key(|(at, _)| *at);
        let text: String = self.lines.into_iter().map(|(_, l)| l + "\n").collect();
        std::fs::write(path, text).unwrap();
    }
}

const DICTIONARY: &str = "203.0.113.66";
const BRUTE_FORCE: &str = "203.0.113.77";
const PARTNER: &str = "198.51.100.25";
const COMPROMISED: &str = "maria@example.com.br";
const NEWSLETTER: &str = "news@example.com.br";

/// 08:00 to 11:00 of one day.
fn day(path: &Path) {
    let mut log = Log::default();
    let h = |hours: f64| (hours * 3600.0) as i64;
    // Honest: a partner MX with 100 messages and 6 unknown users an hour.
    for i in 0..300 {
        log.message(h(8.0) + i * 36, PARTNER, None, 1);
    }
    for i in 0..18 {
        log.unknown_user(h(8.0) + i * 600, PARTNER, i as u32);
    }
    // Honest: a newsletter account, 600 recipients every ten minutes from
    // one IP: over the recipients threshold, but its usual rate.
    for w in 0..18 {
        for m in 0..6 {
            log.message(
                h(8.0) + w * 600 + m * 60,
                "192.0.2.10",
                Some(NEWSLETTER),
                100,
            );
        }
    }
    // Honest until 10:00, a message now and then; then 2,000 recipients
    // in ten minutes from ten IPs.
    for w in 0..12 {
        log.message(h(8.0) + w * 600, "192.0.2.20", Some(COMPROMISED), 1);
    }
    for m in 0..20 {
        let ip = format!("198.18.0.{}", m % 10 + 1);
        log.message(h(10.0) + m * 25, &ip, Some(COMPROMISED), 100);
    }
    // A dictionary attack: 40 unknown users in four minutes.
    for i in 0..40 {
        log.unknown_user(h(9.5) + i * 6, DICTIONARY, 1000 + i as u32);
    }
    // SASL brute force: 30 failures in five minutes.
    for i in 0..30 {
        log.sasl_failure(h(9.0) + i * 10, BRUTE_FORCE);
    }
    log.write(path);
}

fn import(args: &[&str], file: &Path) -> Value {
    import_files(args, &[], &[file])
}

/// The JSON report of `carteiro ARGS import IMPORT_ARGS --report json --year 2026 FILES`.
pub(crate) fn import_files(args: &[&str], import_args: &[&str], files: &[&Path]) -> Value {
    let out = stdout_of(
        carteiro()
            .args(args)
            .arg("import")
            .args(import_args)
            .args(["--report", "json", "--year", "2026"])
            .args(files),
    );
    serde_json::from_slice(&out).unwrap()
}

/// (subject, target, policy) of each reported proposal, sorted.
pub(crate) fn proposed(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = report["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subject"].as_str().unwrap().to_string(),
                p["target"].as_str().unwrap().to_string(),
                p["policy"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Archives named newest first (as `mail.log.1 mail.log.2.gz` are) give
/// the same proposals, first and last seen included, as the one log they
/// were split from: files are read in log time, not argument order.
#[test]
fn the_order_of_the_files_does_not_change_the_proposals() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("mail.log");
    day(&whole);
    // Split in the middle of the dictionary attack (09:30 to 09:34).
    let text = std::fs::read_to_string(&whole).unwrap();
    let (early, late): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| &l[7..15] < "09:32:00");
    assert!(!early.is_empty() && !late.is_empty());
    let (older, newer) = (dir.path().join("mail.log.2"), dir.path().join("mail.log.1"));
    std::fs::write(&older, early.join("\n") + "\n").unwrap();
    std::fs::write(&newer, late.join("\n") + "\n").unwrap();
    let run = |files: &[&Path]| import_files(&["--db", "sqlite::memory:"], &["--dry-run"], files);
    let one = run(&[&whole]);
    let reversed = run(&[&newer, &older]);
    assert!(!proposed(&one).is_empty());
    assert_eq!(reversed["proposals"], one["proposals"]);
    assert_eq!(reversed["totals"], one["totals"]);
    assert_eq!(
        reversed["files"][0]["path"],
        older.display().to_string(),
        "read oldest first"
    );
}

#[test]
fn a_dry_run_reports_the_attackers_and_not_the_honest_senders() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mail.log");
    day(&file);
    let report = import(&["--db", "sqlite::memory:"], &file);
    let report_dry = {
        let out = carteiro()
            .args(["import", "--dry-run", "--report", "json", "--year", "2026"])
            .arg(&file)
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let want = vec![
        (
            "account".into(),
            COMPROMISED.into(),
            "compromised-recipients".into(),
        ),
        ("ip".into(), DICTIONARY.into(), "dictionary-attack".into()),
        ("ip".into(), BRUTE_FORCE.into(), "sasl-brute-force".into()),
    ];
    assert_eq!(proposed(&report_dry), want);
    assert_eq!(proposed(&report), want);
    let dictionary = report_dry["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["target"] == DICTIONARY)
        .unwrap();
    assert_eq!(dictionary["reasons"]["unknown_user"], 40);
    assert_eq!(dictionary["first_seen"], "2026-11-29T09:32:54Z");
    assert_eq!(dictionary["last_seen"], "2026-11-29T09:33:54Z");

    // --no-detect proposes nothing.
    let out = carteiro()
        .args([
            "import",
            "--dry-run",
            "--no-detect",
            "--report",
            "json",
            "--year",
            "2026",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let quiet: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(quiet["proposals"], serde_json::json!([]));
}

#[tokio::test]
async fn stored_proposals_carry_evidence_and_respect_blocks_and_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = database_at(&dir).await;
    let file = dir.path().join("mail.log");
    day(&file);
    import(&["--db", &url], &file);

    let rows = defence_proposal::Entity::find().all(&db).await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for p in &rows {
        assert_eq!(p.status.as_str(), "pending");
        let samples: Vec<String> = serde_json::from_str(&p.samples).unwrap();
        assert!(!samples.is_empty() && samples.len() <= 20, "{samples:?}");
        assert!(p.score > 0 && p.last_seen >= p.first_seen);
    }
    let maria = rows.iter().find(|p| p.target == COMPROMISED).unwrap();
    // The ten of the burst and the one she used before, within the hour.
    assert_eq!(maria.distinct_ips, 11);
    assert!(
        maria.samples.contains("sasl_username=maria@example.com.br"),
        "{}",
        maria.samples
    );

    // Importing the same file again adds nothing (its checkpoint says so).
    import(&["--db", &url], &file);
    assert_eq!(
        defence_proposal::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .len(),
        3
    );

    // The team rejected maria's proposal (suppressed for a day) and
    // approved the dictionary attacker's: a new day of the same is not
    // proposed again; the brute forcer's pending proposal is refreshed.
    let mut rejected: defence_proposal::ActiveModel = maria.clone().into();
    rejected.status = Set(defence_proposal::ProposalStatus::Rejected);
    rejected.suppress_until = Set(Some(chrono::Utc::now().timestamp() + 86_400));
    rejected.update(&db).await.unwrap();
    let attacker = rows
        .iter()
        .find(|p| p.target == DICTIONARY)
        .unwrap()
        .clone();
    let team = app::server::audit::Actor {
        id: None,
        name: "sec".into(),
        client_addr: None,
    };
    let now = chrono::Utc::now().timestamp();
    app::server::defence::approve(&db, attacker, &team, 60, "dictionary attack", now)
        .await
        .unwrap();
    let again = dir.path().join("mail.log.next");
    day(&again);
    // (Another file: a different first line makes a different fingerprint.)
    let text = std::fs::read_to_string(&again).unwrap();
    std::fs::write(
        &again,
        format!("Nov 29 07:59:59 mx1 postfix/anvil[1]: statistics\n{text}"),
    )
    .unwrap();
    import(&["--db", &url], &again);
    let rows = defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Status.eq("pending"))
        .all(&db)
        .await
        .unwrap();
    let pending: Vec<&str> = rows.iter().map(|p| p.target.as_str()).collect();
    assert_eq!(pending, [BRUTE_FORCE]);
}
