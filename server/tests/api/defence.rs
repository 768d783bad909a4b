//! The security team's decisions through the server functions: approving
//! (default length escalated for repeat offenders, guardrails that only an
//! admin may override), rejecting, lifting and extending, each audited.

use crate::helpers::{TestApp, spawn_app_with};
use app::model::{BulkOutcome, Role};
use app::server::defence::{Evidence, Recorded, record};
use app::server::entities::{audit_log, defence_block, defence_proposal};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn app() -> TestApp {
    let app = spawn_app_with(|cfg| {
        cfg.defence.customer_pools = vec!["100.64.0.0/10".into()];
    })
    .await;
    app.add_staff("sec", &[Role::Security]).await;
    app.add_staff("boss", &[Role::Admin]).await;
    app
}

/// A pending proposal for `target`, as detection would store it.
pub async fn propose(app: &TestApp, target: &str) -> i64 {
    let evidence = Evidence {
        subject: mailflow::SubjectKind::Ip,
        target: target.into(),
        policy: "dictionary-attack".into(),
        reasons: [("unknown_user".to_string(), 40)].into(),
        first_seen: 1_000,
        last_seen: 2_000,
        distinct_ips: 0,
        distinct_recipients: 0,
        samples: vec!["a log line".into()],
        block_minutes: 1440,
        auto_approve: false,
        ..Default::default()
    };
    match record(&app.state.db, &evidence, now()).await.unwrap() {
        Recorded::Proposed(id) => id,
        other => panic!("not proposed: {other:?}"),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn blocks_of(app: &TestApp, target: &str) -> Vec<defence_block::Model> {
    defence_block::Entity::find()
        .filter(defence_block::Column::Target.eq(target))
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn approving_blocks_for_the_default_length_and_longer_for_repeat_offenders() {
    let app = app().await;
    let sec = app.signed_in("sec").await;
    for round in 0..2 {
        let id = propose(&app, "203.0.113.66").await;
        let res = app
            .call(
                &sec,
                "/api/defence/approve",
                &[("ids", &id.to_string()), ("reason", "dictionary attack")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let outcome: BulkOutcome = res.json().await.unwrap();
        assert_eq!((outcome.done, outcome.skipped.len()), (1, 0));
        let blocks = blocks_of(&app, "203.0.113.66").await;
        let b = blocks.last().unwrap();
        // A day, then two days for the second block of the same subject.
        let want = 1440 * 60 * (1 << round);
        assert!((b.expires_at - b.approved_at - want).abs() <= 1, "{b:?}");
        assert_eq!(b.approved_by, "sec");
        // Lift it, so that it can be proposed again.
        let lifted = app
            .call(
                &sec,
                "/api/defence/lift",
                &[("id", &b.id.to_string()), ("reason", "test")],
            )
            .await;
        assert_eq!(lifted.status(), StatusCode::OK);
    }
    assert_eq!(audited(&app, "block.approve").await.len(), 2);
    assert_eq!(audited(&app, "block.lift").await.len(), 2);
    let approved = defence_proposal::Entity::find()
        .filter(defence_proposal::Column::Status.eq("approved"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(approved.len(), 2);
}

#[tokio::test]
async fn a_customer_pool_needs_an_admin_override() {
    let app = app().await;
    let id = propose(&app, "100.64.1.2").await.to_string();
    let sec = app.signed_in("sec").await;
    let res = app
        .call(
            &sec,
            "/api/defence/approve",
            &[("ids", &id), ("reason", "spam")],
        )
        .await;
    let outcome: BulkOutcome = res.json().await.unwrap();
    assert_eq!(outcome.done, 0);
    assert_eq!(
        outcome.skipped[0].1,
        "100.64.1.2/32 está no pool de clientes 100.64.0.0/10: \
         um administrador precisa autorizar a exceção",
        "{outcome:?}"
    );
    // The same refusal, to an analyst whose browser asks for English.
    let res = sec
        .post(app.url("/api/defence/approve"))
        .header("Accept", "application/json")
        .header("Accept-Language", "en-US,en;q=0.9")
        .form(&[("ids", id.as_str()), ("reason", "spam")])
        .send()
        .await
        .unwrap();
    let outcome: BulkOutcome = res.json().await.unwrap();
    assert_eq!(
        outcome.skipped[0].1,
        "100.64.1.2/32 is in the customer pool 100.64.0.0/10: an admin must override",
        "{outcome:?}"
    );
    let res = app
        .call(
            &sec,
            "/api/defence/approve",
            &[("ids", &id), ("reason", "spam"), ("override_guard", "true")],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "security may not override"
    );
    assert!(blocks_of(&app, "100.64.1.2").await.is_empty());

    let boss = app.signed_in("boss").await;
    let res = app
        .call(
            &boss,
            "/api/defence/approve",
            &[("ids", &id), ("reason", "spam"), ("override_guard", "true")],
        )
        .await;
    let outcome: BulkOutcome = res.json().await.unwrap();
    assert_eq!(outcome.done, 1);
    assert_eq!(blocks_of(&app, "100.64.1.2").await.len(), 1);
}

#[tokio::test]
async fn rejecting_suppresses_and_bad_input_changes_nothing() {
    let app = app().await;
    let sec = app.signed_in("sec").await;
    let a = propose(&app, "192.0.2.1").await;
    let b = propose(&app, "192.0.2.2").await;
    let ids = format!("{a},{b}");

    // No reason, a bad id list, a bad duration: clear errors, nothing written.
    for form in [
        vec![("ids", ids.as_str()), ("suppress_hours", "24")],
        vec![("ids", "1,x"), ("reason", "r"), ("suppress_hours", "24")],
        vec![
            ("ids", ids.as_str()),
            ("reason", "r"),
            ("suppress_hours", "-5"),
        ],
    ] {
        let res = app.call(&sec, "/api/defence/reject", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
    }
    let res = app
        .call(
            &sec,
            "/api/defence/approve",
            &[("ids", ids.as_str()), ("reason", "r"), ("minutes", "0")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(audited(&app, "proposal.reject").await.is_empty());

    let res = app
        .call(
            &sec,
            "/api/defence/reject",
            &[
                ("ids", ids.as_str()),
                ("reason", "a partner"),
                ("suppress_hours", "24"),
            ],
        )
        .await;
    let outcome: BulkOutcome = res.json().await.unwrap();
    assert_eq!(outcome.done, 2);
    let p = defence_proposal::Entity::find_by_id(a)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status.as_str(), "rejected");
    assert!((p.suppress_until.unwrap() - now() - 86_400).abs() < 60);
    // Detection finds it again tomorrow's-worth sooner: not proposed.
    let again = Evidence {
        subject: mailflow::SubjectKind::Ip,
        target: "192.0.2.1".into(),
        policy: "dictionary-attack".into(),
        reasons: Default::default(),
        first_seen: 3_000,
        last_seen: 3_000,
        distinct_ips: 0,
        distinct_recipients: 0,
        samples: vec![],
        block_minutes: 60,
        auto_approve: false,
        ..Default::default()
    };
    assert_eq!(
        record(&app.state.db, &again, now()).await.unwrap(),
        Recorded::Skipped
    );
    assert_eq!(audited(&app, "proposal.reject").await.len(), 2);

    // A second decision on the same proposals is refused item by item.
    let res = app
        .call(
            &sec,
            "/api/defence/approve",
            &[("ids", ids.as_str()), ("reason", "r")],
        )
        .await;
    let outcome: BulkOutcome = res.json().await.unwrap();
    assert_eq!(outcome.done, 0);
    assert!(outcome.skipped.iter().all(|(_, why)| why == "já rejeitada"));
}

#[tokio::test]
async fn blocks_are_extended_and_lifted_once() {
    let app = app().await;
    let sec = app.signed_in("sec").await;
    let id = propose(&app, "198.51.100.7").await;
    app.call(
        &sec,
        "/api/defence/approve",
        &[("ids", &id.to_string()), ("reason", "r"), ("minutes", "60")],
    )
    .await;
    let b = blocks_of(&app, "198.51.100.7").await.remove(0);
    let res = app
        .call(
            &sec,
            "/api/defence/extend",
            &[("id", &b.id.to_string()), ("minutes", "1440")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let extended = blocks_of(&app, "198.51.100.7").await.remove(0);
    assert_eq!(extended.expires_at, b.expires_at + 1440 * 60);
    let lift = [("id", b.id.to_string()), ("reason", "done".to_string())];
    let lift: Vec<(&str, &str)> = lift.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        app.call(&sec, "/api/defence/lift", &lift).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.call(&sec, "/api/defence/lift", &lift).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(audited(&app, "block.extend").await.len(), 1);
    // Both sides of each entry are the block, so the audit page compares
    // like with like: the change is in the block's own fields.
    for (action, field) in [("block.extend", "expires_at"), ("block.lift", "lifted_by")] {
        let entry = audited(&app, action).await.remove(0);
        let side = |json: Option<String>| -> serde_json::Map<String, serde_json::Value> {
            serde_json::from_str(&json.expect("a side")).expect("an object")
        };
        let (before, after) = (side(entry.before), side(entry.after));
        assert!(
            before.keys().all(|k| after.contains_key(k)),
            "{action}: {before:?} vs {after:?}"
        );
        assert_ne!(
            before.get(field),
            after.get(field),
            "{action} changes {field}"
        );
    }
    let lifted = audited(&app, "block.lift").await.remove(0);
    assert!(lifted.after.unwrap().contains(r#""reason":"done""#));
}

#[tokio::test]
async fn policies_and_the_allowlist_are_edited_with_checks_and_audited() {
    use app::model::{AllowRow, DetectionSettings, PolicyRow};
    let app = app().await;
    // The defaults are seeded the first time detection reads them.
    server::defence::detection::load(&app.state.db)
        .await
        .unwrap();
    let sec = app.signed_in("sec").await;
    let settings: DetectionSettings = app
        .call(&sec, "/api/defence/settings", &[])
        .await
        .json()
        .await
        .unwrap();
    let dict = settings
        .policies
        .iter()
        .find(|p| p.name == "dictionary-attack")
        .unwrap();
    let id = dict.id.to_string();
    let save = |threshold: &'static str, extra: &'static [(&'static str, &'static str)]| {
        let mut form = vec![
            ("id", id.clone()),
            ("window_minutes", "15".to_string()),
            ("threshold", threshold.to_string()),
            ("block_minutes", "120".to_string()),
            ("enabled", "true".to_string()),
        ];
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };
    let call = |form: Vec<(&'static str, String)>| {
        let sec = sec.clone();
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(&sec, "/api/defence/save_policy", &form).await
        }
    };
    assert_eq!(
        call(save("0", &[])).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(save("50", &[("burst_factor", "0.5")])).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(save("50", &[("auto_approve", "true")])).await.status(),
        StatusCode::FORBIDDEN,
        "auto-approval is for admins"
    );
    let saved: PolicyRow = call(save("50", &[])).await.json().await.unwrap();
    assert_eq!(
        (saved.window_minutes, saved.threshold, saved.block_minutes),
        (15, 50, 120)
    );
    assert_eq!(audited(&app, "policy.update").await.len(), 1);
    // Detection now runs with the new numbers.
    let policies = server::defence::detection::load(&app.state.db)
        .await
        .unwrap();
    let p = policies
        .iter()
        .find(|p| p.name == "dictionary-attack")
        .unwrap();
    assert_eq!(
        (p.window_secs, p.threshold, p.block_minutes),
        (900, 50, 120)
    );

    // The allowlist: addresses, networks, accounts; nonsense is refused.
    let bad = app
        .call(
            &sec,
            "/api/defence/allow_add",
            &[("subject", "ip"), ("target", "300.1.2.3")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A network wider than one address is under the blocking guardrails
    // (max_prefix_v4 = 32 here): an admin overrides them.
    let boss = app.signed_in("boss").await;
    let net: AllowRow = app
        .call(
            &boss,
            "/api/defence/allow_add",
            &[
                ("subject", "ip"),
                ("target", "198.51.100.9/24"),
                ("note", "partner MX"),
                ("override_guard", "true"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(net.target, "198.51.100.0/24");
    app.call(
        &sec,
        "/api/defence/allow_add",
        &[("subject", "account"), ("target", "Monitor@Example.com")],
    )
    .await;
    let rules = server::defence::detection::allowlist(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rules.networks.len(), 1);
    assert!(rules.accounts.contains("monitor@example.com"));
    let removed = app
        .call(
            &sec,
            "/api/defence/allow_remove",
            &[("id", &net.id.to_string())],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(audited(&app, "allow.add").await.len(), 2);
    assert_eq!(audited(&app, "allow.remove").await.len(), 1);
}
