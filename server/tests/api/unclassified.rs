//! The "Unclassified rejects" page's server functions (issue 17 item 7):
//! an import stores the rejects no rule classified by normalised text; a
//! rule made from one is previewed over them, checked, saved (audited, one
//! per class, even when saved twice at once), and the next import counts
//! those rejects in its class.

use crate::helpers::{TestApp, error_kind};
use crate::mailgraph::app_importing;
use app::model::Role;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use server::config::Config;

/// A reject of `reply` from `ip` at `time` on the test day.
fn reject(time: &str, ip: &str, reply: &str) -> String {
    format!(
        "Nov  2 {time} mx1 postfix/smtpd[10]: NOQUEUE: reject: RCPT from x[{ip}]: {reply}; from=<s@e.example> to=<u@cliente.com.br> proto=ESMTP helo=<x>\n"
    )
}

/// Three rejects of one odd kind, one of another, one classified (relay).
fn first_log() -> String {
    [
        reject("10:00:00", "192.0.2.1", "550 5.7.1 <a@cliente.com.br>: Recipient address rejected: Mailbox disabled for 30 days"),
        reject("10:00:05", "192.0.2.2", "550 5.7.1 <b@cliente.com.br>: Recipient address rejected: Mailbox disabled for 2 days"),
        reject("10:01:00", "192.0.2.3", "550 5.7.1 <c@cliente.com.br>: Recipient address rejected: Mailbox disabled for 400 days"),
        reject("10:02:00", "192.0.2.4", "450 4.2.0 <d@cliente.com.br>: Recipient address rejected: Greylisted for 300 seconds"),
        reject("10:03:00", "192.0.2.5", "554 5.7.1 <v@other.org>: Relay access denied"),
    ]
    .concat()
}

async fn import(app: &TestApp, log: &str) {
    crate::mailgraph::import_text(&app.state.db, &Config::default(), log).await;
}

async fn json(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let db = &app.state.db;
    db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<Option<i64>>(0)
    .unwrap()
    .unwrap_or(0)
}

#[tokio::test]
async fn a_rule_made_from_an_unclassified_reject_classifies_the_next_import() {
    let app = app_importing(&first_log(), |_| {}).await;
    app.add_staff("sec", &[Role::Security]).await;
    let sec = app.signed_in("sec").await;

    // Listed most frequent first, normalised, with their samples.
    let list = json(
        app.call(&sec, "/api/unclassified/list", &[("page", "0")])
            .await,
    )
    .await;
    assert_eq!(list["total"], 2);
    let top = &list["rows"][0];
    assert_eq!(
        top["text"],
        "550 5.7.1 <addr>: Recipient address rejected: Mailbox disabled for <n> days"
    );
    assert_eq!(top["n"], 3);
    assert_eq!(
        top["last_at"].as_i64().unwrap() - top["first_at"].as_i64().unwrap(),
        60
    );
    assert_eq!(top["samples"].as_array().unwrap().len(), 3);
    assert_eq!(list["rows"][1]["n"], 1);
    let class = top["suggested_class"].as_str().unwrap().to_string();
    let pattern = top["suggested_pattern"].as_str().unwrap().to_string();
    assert_eq!(class, "mailbox_disabled_for_days");

    // The preview counts the stored rejects it matches.
    let form = [("class", class.as_str()), ("pattern", pattern.as_str())];
    let preview = json(app.call(&sec, "/api/unclassified/preview", &form).await).await;
    assert_eq!(
        (preview["rejects"].as_u64(), preview["texts"].as_u64()),
        (Some(3), Some(1))
    );
    let broad = [
        ("class", "broad"),
        ("pattern", "(?i)recipient address rejected"),
    ];
    let preview = json(app.call(&sec, "/api/unclassified/preview", &broad).await).await;
    assert_eq!(preview["rejects"], 4);

    // Saved: audited, and the text leaves the list.
    let saved = json(app.call(&sec, "/api/unclassified/save", &form).await).await;
    assert_eq!(saved["preview"]["rejects"], 3);
    let list = json(
        app.call(&sec, "/api/unclassified/list", &[("page", "0")])
            .await,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["rows"][0]["n"], 1);
    let audited = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE action = 'reject_rule.create' AND target = 'mailbox_disabled_for_days'",
    )
    .await;
    assert_eq!(audited, 1);

    // The next import counts those rejects in the new class.
    import(
        &app,
        &[
            reject("12:00:00", "192.0.2.9", "550 5.7.1 <e@cliente.com.br>: Recipient address rejected: Mailbox disabled for 7 days"),
            reject("12:00:01", "192.0.2.9", "550 5.7.1 <f@cliente.com.br>: Recipient address rejected: Mailbox disabled for 8 days"),
        ]
        .concat(),
    )
    .await;
    let counted = scalar(
        &app,
        "SELECT CAST(SUM(n) AS BIGINT) FROM mail_minute WHERE series = 'reject.mailbox_disabled_for_days'",
    )
    .await;
    assert_eq!(counted, 2);
    let list = json(
        app.call(&sec, "/api/unclassified/list", &[("page", "0")])
            .await,
    )
    .await;
    assert_eq!(list["total"], 1, "{list}");
}

#[tokio::test]
async fn bad_rules_are_refused_with_a_reason() {
    let app = app_importing(&first_log(), |_| {}).await;
    app.add_staff("sec", &[Role::Admin]).await;
    let sec = app.signed_in("sec").await;
    let long = "a".repeat(100_000);
    for (class, pattern, says) in [
        ("ok_name", "(unclosed", "não é uma expressão regular válida"),
        ("ok_name", long.as_str(), "longo demais (100000 caracteres"),
        ("ok_name", r"\w{1000}{1000}", "complexo demais"),
        ("Bad-Name", "x", "nome da classe"),
        ("other", "x", "\\\"other\\\" é a classe"),
    ] {
        for path in ["/api/unclassified/preview", "/api/unclassified/save"] {
            let res = app
                .call(&sec, path, &[("class", class), ("pattern", pattern)])
                .await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {class}"
            );
            let body = res.text().await.unwrap();
            assert!(body.contains(says), "{path} {class}: {body}");
        }
    }
    // A 2 MB pattern never reaches the database nor breaks the server.
    let huge = "a".repeat(2 * 1024 * 1024);
    let res = app
        .call(
            &sec,
            "/api/unclassified/save",
            &[("class", "huge"), ("pattern", &huge)],
        )
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    // A class that has a rule already (a default one) is refused.
    let res = app
        .call(
            &sec,
            "/api/unclassified/save",
            &[("class", "helo"), ("pattern", "x")],
        )
        .await;
    assert_eq!(error_kind(res).await, "Conflict");
    let rules = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_reject_rule",
    )
    .await;
    assert_eq!(rules as usize, mailflow::count::DEFAULT_RULES.len());
}

/// Eight analysts save the same class at once: one rule, seven refusals.
#[tokio::test]
async fn parallel_saves_of_one_class_make_one_rule() {
    let app = app_importing(&first_log(), |_| {}).await;
    app.add_staff("sec", &[Role::Security]).await;
    let sec = app.signed_in("sec").await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (url, sec) = (app.url("/api/unclassified/save"), sec.clone());
        calls.spawn(async move {
            let pattern = format!("(?i)mailbox disabled {i}");
            sec.post(url)
                .header("Accept", "application/json")
                .form(&[("class", "same"), ("pattern", pattern.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = calls.join_all().await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 7), "{statuses:?}");
    let rules = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM mail_reject_rule WHERE class = 'same'",
    )
    .await;
    assert_eq!(rules, 1);
}

/// The default rules before issue 17, as databases seeded then hold them.
const OLD_DEFAULTS: [(&str, &str); 10] = [
    ("unknown_user", r"(?i)User unknown in [a-z ]*table"),
    ("relay", r"(?i)Relay access denied"),
    ("domain", r"(?i)Sender address rejected: Domain not found"),
    ("not_logged", r"(?i)not logged in"),
    ("not_owned", r"(?i)not owned by user"),
    ("spf", r"(?i)\bspf\b|openspf"),
    (
        "sender_denied",
        r"(?i)Sender address rejected: Access denied",
    ),
    ("sender_other", r"(?i)Sender address rejected"),
    ("rate", r"(?i)rate limit|message rate"),
    ("rbl", r"(?i)blocked using "),
];

/// A database migrated up to before the new classes, with `rules` stored,
/// then migrated to the end: its rules.
async fn migrated_from(rules: &[(&str, &str)]) -> Vec<(String, String)> {
    use migrations::{Migrator, MigratorTrait};
    let dir = tempfile::tempdir().unwrap();
    let db = sea_orm::Database::connect(crate::common::fresh_database(&dir).await)
        .await
        .unwrap();
    // Up to (not including) the migration that brings the new classes.
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261202_030000_rules_unclassified")
        .expect("the reject-classes migration") as u32;
    Migrator::up(&db, Some(before)).await.unwrap();
    let rows: Vec<(String, String)> = rules
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    server::ingest::store::save_rules(&db, &rows).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let out = server::ingest::store::rule_rows(&db).await.unwrap();
    db.close().await.ok();
    out
}

/// Issue 17: a database seeded with the old defaults gets the new classes
/// where the defaults have them; rules an admin changed or added stay.
#[tokio::test]
async fn the_new_default_classes_reach_existing_databases() {
    let defaults: Vec<(String, String)> = mailflow::count::DEFAULT_RULES
        .iter()
        .map(|r| (r.class.to_string(), r.pattern.to_string()))
        .collect();
    assert_eq!(migrated_from(&OLD_DEFAULTS).await, defaults);

    let mut edited = OLD_DEFAULTS.to_vec();
    edited[1].1 = "(?i)relay access denied|relaying denied";
    edited.remove(6); // sender_denied deleted: `server` goes before sender_other
    edited.push(("helo", "(?i)my own helo rule"));
    let classes: Vec<(String, String)> = migrated_from(&edited).await;
    let names: Vec<&str> = classes.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        names.join(" "),
        "sender_unknown unknown_user relay domain not_logged not_owned spf server \
         sender_other recipient_denied rate rbl reverse_dns helo"
    );
    assert_eq!(classes[2].1, "(?i)relay access denied|relaying denied");
    assert_eq!(classes[13].1, "(?i)my own helo rule");
}
