//! Message trace by recipient, through the recipient index
//! (`mail_recipient`): it finds what a scan of the window's messages finds
//! (on a generated log, with the window cut and the outcome filters), a
//! hash shared by two addresses finds only the address asked for, a
//! message seen again in later batches keeps one index row per recipient,
//! the migration fills the index of messages stored before it, and
//! addresses with `_` and `%` are found (the `LIKE` that narrows a search
//! escapes them, and says with what: SQLite has no default escape
//! character).

use crate::common::fresh_database;
use crate::helpers::{START, connect, generate, recipient_index};
use crate::import::{import_lines, import_with};
use app::model::{TraceQuery, TraceResult, TraceStatus};
use app::server::ingest_status::key_hash;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::{BTreeMap, BTreeSet};

/// One message to two recipients, one with `_`, one with `%`.
const TWO_RECIPIENTS: &str = "\
Nov  2 10:00:00 mx1 postfix/smtpd[10]: 4F1A2B3C4D: client=mail.example.org[198.51.100.7]\n\
Nov  2 10:00:01 mx1 postfix/qmgr[12]: 4F1A2B3C4D: from=<news@example.org>, size=2048, nrcpt=2 (queue active)\n\
Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<joao_silva@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
Nov  2 10:00:02 mx1 postfix/lmtp[13]: 4F1A2B3C4D: to=<desconto%50@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
Nov  2 10:00:02 mx1 postfix/qmgr[12]: 4F1A2B3C4D: removed\n";

#[tokio::test]
async fn recipients_with_underscore_and_percent_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_lines(&dir, TWO_RECIPIENTS).await;
    let first_at = only_message(&db).await.1;

    for address in ["joao_silva@cliente.com.br", "desconto%50@cliente.com.br"] {
        let found = trace(&db, address, first_at + 60).await;
        assert_eq!(found.messages.len(), 1, "{address}: {found:?}");
        assert_eq!(found.messages[0].queue_id, "4F1A2B3C4D");
    }
    // The wildcards stay literal: `_` is not any character.
    let none = trace(&db, "joaoxsilva@cliente.com.br", first_at + 60).await;
    assert!(none.messages.is_empty(), "{none:?}");
}

#[tokio::test]
async fn a_hash_shared_by_two_addresses_finds_only_the_address_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = import_lines(&dir, TWO_RECIPIENTS).await;
    let (id, first_at) = only_message(&db).await;
    // A collision, forged: the index says that the message went to an
    // address whose hash it does not hold.
    let other = "outra.pessoa@cliente.com.br";
    exec(
        &db,
        &format!(
            "INSERT INTO mail_recipient (first_hour, hash, first_at, message_id) \
             VALUES ({}, {}, {first_at}, {id})",
            first_at.div_euclid(3600),
            key_hash(other)
        ),
    )
    .await;

    // As the query (the index alone narrows it) and as the recipient field.
    let asked = trace(&db, other, first_at + 60).await;
    assert!(asked.messages.is_empty(), "{asked:?}");
    let field = search(
        &db,
        TraceQuery {
            recipient: other.into(),
            hours: 2,
            ..Default::default()
        },
        first_at + 60,
    )
    .await;
    assert!(field.messages.is_empty(), "{field:?}");
    let real = trace(&db, "JOAO_SILVA@cliente.com.br", first_at + 60).await;
    assert_eq!(real.messages.len(), 1, "{real:?}");
}

#[tokio::test]
async fn a_message_seen_again_in_later_batches_keeps_one_index_row_per_recipient() {
    // One message whose recipients come in over several batches (one line
    // each): deferred, then delivered, and the same address in another case.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(
        &log,
        "Nov  2 10:00:00 mx1 postfix/smtpd[10]: 5A1B2C3D4E: client=mail.example.org[198.51.100.7]\n\
         Nov  2 10:00:01 mx1 postfix/qmgr[12]: 5A1B2C3D4E: from=<news@example.org>, size=2048, nrcpt=2 (queue active)\n\
         Nov  2 10:00:02 mx1 postfix/smtp[13]: 5A1B2C3D4E: to=<ana@remoto.com.br>, relay=mx.remoto.com.br[203.0.113.5]:25, delay=1, delays=0/0/0/1, dsn=4.2.2, status=deferred (452 4.2.2 Mailbox full)\n\
         Nov  2 10:00:03 mx1 postfix/lmtp[14]: 5A1B2C3D4E: to=<bia@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n\
         Nov  2 10:05:02 mx1 postfix/smtp[13]: 5A1B2C3D4E: to=<ANA@remoto.com.br>, relay=mx.remoto.com.br[203.0.113.5]:25, delay=301, delays=0/300/0/1, dsn=2.0.0, status=sent (250 ok)\n\
         Nov  2 10:05:02 mx1 postfix/qmgr[12]: 5A1B2C3D4E: removed\n",
    )
    .unwrap();
    let url = fresh_database(&dir).await;
    import_with(
        &url,
        &[&log],
        &["--year", "2026"],
        &[("CARTEIRO_MAILFLOW__BATCH_LINES", "1")],
    );
    let db = connect(&url).await;

    let rows = recipient_index(&db).await;
    assert_eq!(rows.len(), 2, "one row per address: {rows:?}");
    let hashes: BTreeSet<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    let want: Vec<String> = ["ana@remoto.com.br", "bia@cliente.com.br"]
        .iter()
        .map(|a| format!("Some({})", key_hash(a)))
        .collect();
    assert_eq!(hashes, want.iter().map(String::as_str).collect());
    let first_at = only_message(&db).await.1;
    let found = trace(&db, "ana@remoto.com.br", first_at + 600).await;
    assert_eq!(found.messages.len(), 1, "{found:?}");
}

/// Log lines of `n` messages to one busy address, one every 10 s from
/// half an hour after [`START`] (after the generated lines), from a few
/// senders, sent, deferred or bounced in turn.
fn to_a_list(n: i64) -> String {
    let mut text = String::new();
    for i in 0..n {
        let at = |s: i64| {
            chrono::DateTime::from_timestamp(START + 1800 + 10 * i + s, 0)
                .unwrap()
                .format("%b %e %H:%M:%S")
                .to_string()
        };
        let id = format!("{:010X}", 0xB0_0000_0000_i64 + i);
        let (dsn, status) = [
            ("2.0.0", "sent"),
            ("4.2.2", "deferred"),
            ("5.1.1", "bounced"),
        ][(i % 3) as usize];
        text.push_str(&format!(
            "{} mx2 postfix/smtpd[20]: {id}: client=mail.example.org[198.51.100.7]\n\
             {} mx2 postfix/qmgr[22]: {id}: from=<envio{}@example.org>, size=1000, nrcpt=1 (queue active)\n\
             {} mx2 postfix/lmtp[23]: {id}: to=<Lista@cliente.com.br>, relay=mbox1[10.0.0.11]:24, delay=1, delays=0/0/0/1, dsn={dsn}, status={status} (250 ok)\n\
             {} mx2 postfix/qmgr[22]: {id}: removed\n",
            at(0),
            at(1),
            i % 7,
            at(2),
            at(2),
        ));
    }
    text
}

/// The messages a scan of every stored message finds for `recipient` in
/// the `hours` before `until` with `status`, newest first: what the trace
/// read before it had an index (and what `TraceStatus` documents).
fn scan(
    all: &[Stored],
    recipient: &str,
    sender: Option<&str>,
    status: TraceStatus,
    until: i64,
    hours: i64,
) -> (Vec<String>, bool) {
    let mut found: Vec<&Stored> = all
        .iter()
        .filter(|m| (until - hours * 3600..=until).contains(&m.first_at))
        .filter(|m| sender.is_none_or(|s| m.sender.eq_ignore_ascii_case(s)))
        .filter(|m| {
            let outcomes: Vec<&str> = m
                .recipients
                .iter()
                .filter(|(to, _)| to.eq_ignore_ascii_case(recipient))
                .map(|(_, status)| status.as_str())
                .collect();
            !outcomes.is_empty()
                && match status {
                    TraceStatus::All => true,
                    TraceStatus::Sent => outcomes.contains(&"sent"),
                    TraceStatus::Deferred => outcomes.contains(&"deferred"),
                    TraceStatus::Bounced => {
                        outcomes.contains(&"bounced") || outcomes.contains(&"expired")
                    }
                    TraceStatus::Rejected => m.rejected,
                }
        })
        .collect();
    found.sort_by(|a, b| {
        (b.first_at, &b.host, &b.queue_id).cmp(&(a.first_at, &a.host, &a.queue_id))
    });
    let truncated = found.len() > 100;
    (
        found.iter().take(100).map(|m| m.queue_id.clone()).collect(),
        truncated,
    )
}

/// A stored message, as the scan reads it.
struct Stored {
    first_at: i64,
    host: String,
    queue_id: String,
    sender: String,
    rejected: bool,
    /// (address, status) of each recipient.
    recipients: Vec<(String, String)>,
}

async fn stored(db: &DatabaseConnection) -> Vec<Stored> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT first_at, host, queue_id, sender, reject, recipients FROM mail_message",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let json: String = r.try_get("", "recipients").unwrap();
            let recipients: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
            Stored {
                first_at: r.try_get("", "first_at").unwrap(),
                host: r.try_get("", "host").unwrap(),
                queue_id: r.try_get("", "queue_id").unwrap(),
                sender: r
                    .try_get::<Option<String>>("", "sender")
                    .unwrap()
                    .unwrap_or_default(),
                rejected: r.try_get::<Option<String>>("", "reject").unwrap().is_some(),
                recipients: recipients
                    .iter()
                    .map(|x| {
                        let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
                        (s("to"), s("status"))
                    })
                    .collect(),
            }
        })
        .collect()
}

#[tokio::test]
async fn the_index_finds_what_a_scan_of_the_window_finds() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let mut text = generate(&log, 40_000, 3);
    text.push_str(&to_a_list(700));
    std::fs::write(&log, text).unwrap();
    let url = fresh_database(&dir).await;
    // Small batches: messages are stored, then updated by later batches.
    import_with(
        &url,
        &[&log],
        &["--year", "2026"],
        &[("CARTEIRO_MAILFLOW__BATCH_LINES", "2000")],
    );
    let db = connect(&url).await;
    recipient_index(&db).await;
    let all = stored(&db).await;

    // Addresses by how many messages they received: the busiest, some in
    // between and some with one message.
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for m in &all {
        let mut to: Vec<String> = m
            .recipients
            .iter()
            .map(|r| r.0.to_ascii_lowercase())
            .collect();
        to.sort();
        to.dedup();
        for a in to {
            *received.entry(a).or_default() += 1;
        }
    }
    let mut by_count: Vec<(usize, String)> = received.into_iter().map(|(a, n)| (n, a)).collect();
    by_count.sort();
    assert!(
        by_count.len() > 200,
        "too few addresses: {}",
        by_count.len()
    );
    assert!(
        by_count.last().unwrap().0 > 100,
        "no busy address: {by_count:?}"
    );
    let picks: Vec<&(usize, String)> = (0..by_count.len())
        .step_by(by_count.len() / 40)
        .chain([by_count.len() - 2, by_count.len() - 1])
        .map(|i| &by_count[i])
        .collect();

    let last = all.iter().map(|m| m.first_at).max().unwrap();
    let windows = [(last + 1, 168), (START + 600, 1), (last - 3000, 1)];
    let mut compared = 0;
    for (_, address) in picks {
        for (until, hours) in windows {
            for status in [
                TraceStatus::All,
                TraceStatus::Sent,
                TraceStatus::Deferred,
                TraceStatus::Bounced,
                TraceStatus::Rejected,
            ] {
                let query = TraceQuery {
                    recipient: address.to_ascii_uppercase(),
                    status,
                    hours,
                    ..Default::default()
                };
                let got = search(&db, query, until).await;
                let ids: Vec<String> = got.messages.iter().map(|m| m.queue_id.clone()).collect();
                let want = scan(&all, address, None, status, until, hours);
                assert_eq!(
                    (ids, got.truncated),
                    want,
                    "{address} {status:?} until {until} ({hours} h)"
                );
                compared += 1;
            }
        }
        // The pair search: this address and the sender of its latest message.
        let Some(sender) = all
            .iter()
            .filter(|m| {
                m.recipients
                    .iter()
                    .any(|r| r.0.eq_ignore_ascii_case(address))
            })
            .max_by_key(|m| m.first_at)
            .map(|m| m.sender.clone())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let got = search(
            &db,
            TraceQuery {
                q: format!("{sender} {address}"),
                hours: 168,
                ..Default::default()
            },
            last + 1,
        )
        .await;
        let ids: Vec<String> = got.messages.iter().map(|m| m.queue_id.clone()).collect();
        let want = scan(
            &all,
            address,
            Some(&sender),
            TraceStatus::All,
            last + 1,
            168,
        );
        assert!(!want.0.is_empty());
        assert_eq!((ids, got.truncated), want, "{sender} → {address}");
    }
    assert!(compared > 100);
}

#[tokio::test]
async fn the_migration_fills_the_index_of_messages_stored_before_it() {
    use migrations::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    generate(&log, 10_000, 5);
    let url = fresh_database(&dir).await;
    crate::import::import(&url, &[&log], &[]);
    let db = connect(&url).await;
    let written = recipient_index(&db).await;
    assert!(written.len() > 500, "{}", written.len());

    // Back to the schema before the index (whatever came after it too),
    // then forward again: the migration fills it from the messages.
    let names: Vec<String> = migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let mine = names
        .iter()
        .position(|n| n == "m20261202_090000_recipient_index")
        .expect("the recipient index migration");
    let steps = (names.len() - mine) as u32;
    migrations::Migrator::down(&db, Some(steps)).await.unwrap();
    migrations::Migrator::up(&db, None).await.unwrap();
    assert_eq!(recipient_index(&db).await, written);
}

/// The id and first second of the only stored message.
async fn only_message(db: &DatabaseConnection) -> (i64, i64) {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, first_at FROM mail_message",
        ))
        .await
        .unwrap()
        .expect("one message");
    (
        row.try_get("", "id").unwrap(),
        row.try_get("", "first_at").unwrap(),
    )
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

/// The two hours before `until` traced for `q`.
async fn trace(db: &DatabaseConnection, q: &str, until: i64) -> TraceResult {
    let query = TraceQuery {
        q: q.into(),
        hours: 2,
        ..Default::default()
    };
    search(db, query, until).await
}

async fn search(db: &DatabaseConnection, query: TraceQuery, until: i64) -> TraceResult {
    app::server::trace::trace(db, &query, until, app::i18n::Lang::En)
        .await
        .unwrap()
}
