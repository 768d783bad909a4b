//! Issue 17 items 8 and 9 through the server functions: a proposal's
//! evidence (when the attack started, every distinct value beyond the first
//! few, capped, paged; the subject's history), blocks made by hand (input
//! checked, guardrails, roles, one active block however many people click
//! at once), the block search, and a blocked account on its mailbox page.

use crate::decision_races::at_once;
use crate::defence::propose;
use crate::helpers::{TestApp, spawn_app_with};
use crate::provision::accepted;
use app::model::{BlockPage, BlockRow, DefenceState, DetailPage, Role, SubjectHistory};
use app::server::defence::{Evidence, Recorded, record};
use app::server::entities::{audit_log, defence_block};
use mailflow::detect::proposals::MAX_LISTED;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

/// Security (`sec`), an admin (`boss`), support (`ana`) and a manager
/// (`mgr`); 100.64.0.0/10 is a customer pool.
async fn app() -> TestApp {
    let app = spawn_app_with(|cfg| {
        cfg.defence.customer_pools = vec!["100.64.0.0/10".into()];
    })
    .await;
    app.add_staff("sec", &[Role::Security]).await;
    app.add_staff("boss", &[Role::Admin]).await;
    app.add_staff("ana", &[Role::Support]).await;
    app.add_staff("mgr", &[Role::Manager]).await;
    app
}

/// What a server function answered `client` (it must succeed).
async fn answer<T: serde::de::DeserializeOwned>(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> T {
    let res = app.call(client, path, form).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn active_blocks(app: &TestApp, target: &str) -> u64 {
    defence_block::Entity::find()
        .filter(defence_block::Column::Target.eq(target))
        .filter(defence_block::Column::LiftedAt.is_null())
        .filter(defence_block::Column::ExpiresAt.gt(now()))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// The form of a manual block of `target` for 1 hour with a reason.
fn block_form<'a>(subject: &'a str, target: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("subject", subject),
        ("target", target),
        ("minutes", "60"),
        ("reason", "seen in our honeypot"),
    ]
}

fn with<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    key: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    form.retain(|(k, _)| *k != key);
    form.push((key, value));
    form
}

#[tokio::test]
async fn a_block_by_hand_is_checked_guarded_and_audited() {
    let app = app().await;
    let sec = app.signed_in("sec").await;
    let res = app
        .call(
            &sec,
            "/api/defence/block",
            &block_form("ip", " 192.0.2.50 "),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let b: BlockRow = res.json().await.unwrap();
    assert_eq!(
        (b.target.as_str(), b.approved_by.as_str()),
        ("192.0.2.50", "sec")
    );
    assert!((b.expires_at - now() - 3600).abs() <= 5, "{b:?}");
    assert_eq!(b.proposal_id, None);

    // Custom durations: a week of minutes is fine, nonsense is refused.
    let custom = with(
        block_form("account", "Ana17@Cliente.com.br"),
        "minutes",
        "custom",
    );
    let res = app
        .call(
            &sec,
            "/api/defence/block",
            &with(custom.clone(), "custom_minutes", "10080"),
        )
        .await;
    let b: BlockRow = res.json().await.unwrap();
    assert_eq!(b.target, "ana17@cliente.com.br");
    assert!((b.expires_at - now() - 10080 * 60).abs() <= 5);

    let huge_reason = "x".repeat(2 * 1024 * 1024);
    let bad: Vec<Vec<(&str, &str)>> = vec![
        with(block_form("ip", "192.0.2.51"), "minutes", "-60"),
        with(block_form("ip", "192.0.2.51"), "minutes", "0"),
        with(
            block_form("ip", "192.0.2.51"),
            "minutes",
            "99999999999999999999999",
        ),
        with(
            with(block_form("ip", "192.0.2.51"), "minutes", "custom"),
            "custom_minutes",
            "9223372036854775807",
        ),
        with(
            with(block_form("ip", "192.0.2.51"), "minutes", "custom"),
            "custom_minutes",
            "",
        ),
        block_form("ip", "192.0.2.0/33"),
        block_form("ip", "300.1.2.3"),
        block_form("ip", ""),
        block_form("host", "192.0.2.51"),
        block_form("account", "two words"),
        with(block_form("ip", "192.0.2.51"), "reason", "   "),
        with(block_form("ip", "192.0.2.51"), "reason", &huge_reason),
    ];
    for form in &bad {
        let res = app.call(&sec, "/api/defence/block", form).await;
        let status = res.status();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{status} for {:?}",
            form.iter()
                .map(|(k, v)| (k, v.chars().take(40).collect::<String>()))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(active_blocks(&app, "192.0.2.51").await, 0);

    // The same guardrails as an approval: a customer pool or a network
    // wider than /32 (this test's maximum) needs an admin's override.
    for target in ["100.64.1.2", "198.51.100.0/24"] {
        let res = app
            .call(&sec, "/api/defence/block", &block_form("ip", target))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{target}");
        let form = with(block_form("ip", target), "override_guard", "true");
        let res = app.call(&sec, "/api/defence/block", &form).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "security may not override"
        );
        assert_eq!(active_blocks(&app, target).await, 0);
    }
    let boss = app.signed_in("boss").await;
    let form = with(block_form("ip", "100.64.1.2"), "override_guard", "true");
    assert_eq!(
        app.call(&boss, "/api/defence/block", &form).await.status(),
        StatusCode::OK
    );

    // Support and managers may not block.
    for who in ["ana", "mgr"] {
        let c = app.signed_in(who).await;
        let res = app
            .call(&c, "/api/defence/block", &block_form("ip", "192.0.2.52"))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let added = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("block.add"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(added, 3);
}

#[tokio::test]
async fn blocking_one_target_at_once_makes_one_active_block() {
    let app = app().await;
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(app.signed_in("sec").await);
    }
    let form = block_form("ip", "203.0.113.9");
    let statuses: Vec<StatusCode> = at_once(&app, &clients, "/api/defence/block", &form)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 7), "{statuses:?}");
    let sec = &clients[0];
    assert_eq!(active_blocks(&app, "203.0.113.9").await, 1);
    // Blocking it again names the block in force.
    let res = app
        .call(sec, "/api/defence/block", &block_form("ip", "203.0.113.9"))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("203.0.113.9 já está bloqueado (bloqueio nº ")
    );
}

/// Stores a block made `days_ago` by `by`, `lifted` or not.
async fn stored_block(app: &TestApp, target: &str, by: &str, days_ago: i64, lifted: bool) {
    let at = now() - days_ago * 86_400;
    defence_block::ActiveModel {
        subject: Set("ip".into()),
        target: Set(target.into()),
        proposal_id: Set(None),
        reason: Set("r".into()),
        approved_by: Set(by.into()),
        approved_at: Set(at),
        expires_at: Set(at + 30 * 86_400),
        lifted_by: Set(lifted.then(|| by.to_string())),
        lifted_at: Set(lifted.then_some(at + 60)),
        hits: Set(0),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn blocks_are_searched_and_paged_on_the_server() {
    let app = app().await;
    for i in 0..55 {
        stored_block(&app, &format!("192.0.2.{i}"), "sec", 1, false).await;
    }
    stored_block(&app, "198.51.100.7", "boss", 10, true).await;
    stored_block(&app, "198.51.100.8", "boss", 40, false).await; // expired
    stored_block(&app, "10_0%", "boss", 2, false).await;
    let sec = app.signed_in("sec").await;
    let search = |form: Vec<(&'static str, String)>| {
        let (app, sec) = (&app, sec.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.call(&sec, "/api/defence/blocks", &form).await;
            assert_eq!(res.status(), StatusCode::OK, "{form:?}");
            res.json::<BlockPage>().await.unwrap()
        }
    };
    let all = search(vec![]).await;
    assert_eq!((all.total, all.pages, all.rows.len()), (58, 2, 50));
    let second = search(vec![("page", "1".into())]).await;
    assert_eq!(second.rows.len(), 8);
    // Newest first: the oldest (40 days) is last of the last page.
    assert_eq!(second.rows.last().unwrap().target, "198.51.100.8");

    let t = |p: &BlockPage| p.rows.iter().map(|b| b.target.clone()).collect::<Vec<_>>();
    let by_text = search(vec![("text", "198.51.100".into())]).await;
    assert_eq!(t(&by_text), ["198.51.100.7", "198.51.100.8"]);
    // LIKE's wildcards are taken literally.
    assert_eq!(t(&search(vec![("text", "_0%".into())]).await), ["10_0%"]);
    assert_eq!(search(vec![("by", "BOSS".into())]).await.total, 3);
    let ended = search(vec![("state", "ended".into())]).await;
    assert_eq!(t(&ended), ["198.51.100.7", "198.51.100.8"]);
    let active = search(vec![("state", "active".into()), ("by", "boss".into())]).await;
    assert_eq!(t(&active), ["10_0%"]);
    let day = |days_ago: i64| {
        chrono::DateTime::from_timestamp(now() - days_ago * 86_400, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    let range = search(vec![("from", day(11)), ("to", day(9))]).await;
    assert_eq!(t(&range), ["198.51.100.7"]);

    for form in [
        vec![("state", "maybe")],
        vec![("from", "2026-13-01")],
        vec![("page", "-1")],
    ] {
        let res = app.call(&sec, "/api/defence/blocks", &form).await;
        assert!(res.status().is_client_error(), "{form:?}: {}", res.status());
    }
    let ana = app.signed_in("ana").await;
    assert_eq!(
        app.call(&ana, "/api/defence/blocks", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
}

/// Detection's evidence of a dictionary attack on `recipients` addresses,
/// started at `started`, fired at 5,000.
fn attack(target: &str, recipients: usize, started: i64) -> Evidence {
    let mut e = Evidence {
        subject: mailflow::SubjectKind::Ip,
        target: target.into(),
        policy: "dictionary-attack".into(),
        reasons: [("unknown_user".to_string(), recipients as u64)].into(),
        first_seen: 5_000,
        last_seen: 6_000,
        samples: vec!["a log line".into()],
        block_minutes: 60,
        started,
        ..Default::default()
    };
    for i in 0..recipients {
        e.details
            .recipients
            .add(&format!("user{i:05}@cliente.com.br"));
    }
    e.details.helos.add("spam-host");
    e.details.client_names.add("bad.example.net");
    e
}

#[tokio::test]
async fn evidence_says_when_it_started_and_lists_every_value_paged_and_capped() {
    let app = app().await;
    let db = &app.state.db;
    let Recorded::Proposed(id) = record(db, &attack("203.0.113.66", 12, 1_000), now())
        .await
        .unwrap()
    else {
        panic!("not proposed");
    };
    // A refresh adds values and keeps the earliest start.
    let mut later = attack("203.0.113.66", 14, 2_000);
    later.details.ips.add("203.0.113.66");
    assert_eq!(
        record(db, &later, now()).await.unwrap(),
        Recorded::Refreshed(id)
    );

    let sec = app.signed_in("sec").await;
    let state: DefenceState = answer(&app, &sec, "/api/defence/overview", &[]).await;
    let p = state.proposals.iter().find(|p| p.id == id).unwrap();
    assert_eq!((p.started, p.first_seen), (1_000, 5_000));
    let counts: std::collections::BTreeMap<_, _> = p.details.iter().cloned().collect();
    assert_eq!(counts.get("recipients"), Some(&14));
    assert_eq!(counts.get("helos"), Some(&1));
    assert!(!state.can_override, "security does not override");

    let page: DetailPage = answer(
        &app,
        &sec,
        "/api/defence/details",
        &[("id", &id.to_string()), ("list", "recipients")],
    )
    .await;
    assert_eq!((page.stored, page.more, page.pages), (14, 0, 1));
    assert_eq!(page.values[0], "user00000@cliente.com.br");
    assert_eq!(page.values[13], "user00013@cliente.com.br");
    let bad = app
        .call(
            &sec,
            "/api/defence/details",
            &[("id", &id.to_string()), ("list", "passwords")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A hostile subject: past the cap, the rest is counted, not stored.
    let big = attack("203.0.113.67", MAX_LISTED + 5, 1_000);
    let Recorded::Proposed(big_id) = record(db, &big, now()).await.unwrap() else {
        panic!("not proposed");
    };
    let last: DetailPage = answer(
        &app,
        &sec,
        "/api/defence/details",
        &[
            ("id", &big_id.to_string()),
            ("list", "recipients"),
            ("page", "1000"),
        ],
    )
    .await;
    assert_eq!((last.stored, last.more), (MAX_LISTED as u64, 5));
    assert_eq!((last.page, last.pages), (99, 100));
    assert_eq!(last.values.len(), 100);

    let boss = app.signed_in("boss").await;
    let state: DefenceState = answer(&app, &boss, "/api/defence/overview", &[]).await;
    assert!(state.can_override);
}

#[tokio::test]
async fn history_shows_earlier_proposals_and_blocks_with_who_decided() {
    let app = app().await;
    let sec = app.signed_in("sec").await;
    let first = propose(&app, "203.0.113.70").await;
    app.call(
        &sec,
        "/api/defence/reject",
        &[
            ("ids", &first.to_string()),
            ("reason", "a partner"),
            ("suppress_hours", "0"),
        ],
    )
    .await;
    let second = propose(&app, "203.0.113.70").await;
    app.call(
        &sec,
        "/api/defence/approve",
        &[
            ("ids", &second.to_string()),
            ("reason", "dictionary attack"),
        ],
    )
    .await;
    let h: SubjectHistory = answer(
        &app,
        &sec,
        "/api/defence/history",
        &[("subject", "ip"), ("target", "203.0.113.70")],
    )
    .await;
    let decided: Vec<_> = h
        .proposals
        .iter()
        .map(|p| {
            (
                p.id,
                p.status.as_str(),
                p.decided_by.as_deref(),
                p.decision_reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [
            (second, "approved", Some("sec"), Some("dictionary attack")),
            (first, "rejected", Some("sec"), Some("a partner")),
        ]
    );
    assert_eq!(h.blocks.len(), 1);
    assert_eq!(h.blocks[0].proposal_id, Some(second));
    assert!(h.account.is_none());
    let res = app
        .call(
            &sec,
            "/api/defence/history",
            &[("subject", "ip"), ("target", "not an ip")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn support_sees_a_blocked_account_on_its_mailbox() {
    let (app, boss, ana) = crate::provision::app().await;
    app.add_staff("sec", &[Role::Security]).await;
    app.add_staff("mgr", &[Role::Manager]).await;
    accepted(
        &app,
        &ana,
        "mailbox_create",
        &[("address", "ana17@exemplo.com.br"), ("name", "Ana")],
    )
    .await;
    let ask = |c: &reqwest::Client, address: &'static str| {
        let (app, c) = (&app, c.clone());
        async move {
            app.call(&c, "/api/defence/mailbox_block", &[("address", address)])
                .await
        }
    };
    let none: Option<BlockRow> = ask(&ana, "ana17@exemplo.com.br")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, None);

    let sec = app.signed_in("sec").await;
    let made: BlockRow = app
        .call(
            &sec,
            "/api/defence/block",
            &block_form("account", "ana17@exemplo.com.br"),
        )
        .await
        .json()
        .await
        .unwrap();
    let seen: Option<BlockRow> = ask(&ana, "Ana17@Exemplo.com.br")
        .await
        .json()
        .await
        .unwrap();
    let seen = seen.expect("the block");
    assert_eq!(
        (seen.id, seen.reason.as_str()),
        (made.id, "seen in our honeypot")
    );
    assert_eq!(seen.expires_at, made.expires_at);
    // Not a mailbox of ours: not found; a manager may not ask.
    assert_eq!(
        ask(&ana, "nobody@exemplo.com.br").await.status(),
        StatusCode::NOT_FOUND
    );
    let mgr = app.signed_in("mgr").await;
    assert_eq!(
        ask(&mgr, "ana17@exemplo.com.br").await.status(),
        StatusCode::FORBIDDEN
    );
    // Once lifted, the mailbox shows no block.
    app.call(
        &boss,
        "/api/defence/lift",
        &[("id", &made.id.to_string()), ("reason", "cleaned")],
    )
    .await;
    let none: Option<BlockRow> = ask(&ana, "ana17@exemplo.com.br")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, None);
}
