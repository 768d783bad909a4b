//! Never-block networks and alerts through the server functions (issue 17
//! items 4 and 6): analysts see the list, only admins change it (audited,
//! hostile input refused clearly); no proposal inside a listed network is
//! approved or blocked by hand, by an analyst or by an admin overriding the
//! guardrails; alerts are listed and acknowledged once.

use crate::defence::propose;
use crate::helpers::{TestApp, spawn_app_with};
use app::api::detect::{AlertRow, NeverBlockRow};
use app::model::{BulkOutcome, Role};
use app::server::entities::{audit_log, defence_block};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn app() -> TestApp {
    let app = spawn_app_with(|cfg| {
        cfg.defence.customer_pools = vec!["100.64.0.0/10".into()];
        cfg.defence.max_prefix_v4 = 16;
    })
    .await;
    app.add_staff("sec", &[Role::Security]).await;
    app.add_staff("boss", &[Role::Admin]).await;
    app.add_staff("help", &[Role::Support]).await;
    app
}

async fn blocks(app: &TestApp) -> usize {
    defence_block::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .len()
}

/// What approving proposal `id` as `who` did (`force`: override the guardrails).
async fn approve(app: &TestApp, who: &reqwest::Client, id: i64, force: bool) -> BulkOutcome {
    let (id, force) = (id.to_string(), force.to_string());
    let form = [
        ("ids", id.as_str()),
        ("reason", "spam"),
        ("override_guard", &force),
    ];
    let res = app.call(who, "/api/defence/approve", &form).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn audited(app: &TestApp, action: &str) -> usize {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn no_block_is_approved_inside_a_never_block_network_by_any_role() {
    let app = app().await;
    let (sec, boss) = (app.signed_in("sec").await, app.signed_in("boss").await);
    let add = |net: &'static str| [("network", net), ("note", "partner relays")];

    // Analysts may not change the list.
    let res = app
        .call(
            &sec,
            "/api/defence/never_block_add",
            &add("198.51.100.0/24"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // An admin lists a network (an address in it is made its network).
    let res = app
        .call(
            &boss,
            "/api/defence/never_block_add",
            &add("198.51.100.77/24"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let row: NeverBlockRow = res.json().await.unwrap();
    assert_eq!(row.network, "198.51.100.0/24");
    assert_eq!(audited(&app, "never_block.add").await, 1);

    // Analysts see it.
    let res = app.call(&sec, "/api/defence/never_block", &[]).await;
    let list: Vec<NeverBlockRow> = res.json().await.unwrap();
    assert_eq!(list, std::slice::from_ref(&row));

    // Proposals inside it, or around it, are never approved: not by an
    // analyst, not by an admin overriding the guardrails.
    for target in ["198.51.100.7", "198.51.100.0/25", "198.51.0.0/16"] {
        let id = propose(&app, target).await;
        for (who, force) in [(&sec, false), (&boss, true)] {
            let outcome = approve(&app, who, id, force).await;
            assert_eq!(outcome.done, 0, "{target}: {outcome:?}");
            let why = &outcome.skipped[0].1;
            assert!(
                why.contains("se sobrepõe à rede 198.51.100.0/24 da lista nunca bloquear"),
                "{why}"
            );
        }
    }
    // Nor blocked by hand, whoever asks and whatever the override.
    for (who, force) in [(&sec, "false"), (&boss, "true")] {
        let form = [
            ("subject", "ip"),
            ("target", "198.51.100.9"),
            ("minutes", "60"),
            ("reason", "by hand"),
            ("override_guard", force),
        ];
        let res = app.call(who, "/api/defence/block", &form).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let why = res.text().await.unwrap();
        assert!(
            why.contains("se sobrepõe à rede 198.51.100.0/24 da lista nunca bloquear"),
            "{why}"
        );
    }
    assert_eq!(blocks(&app).await, 0);

    // Beside it, blocks go on as before.
    let id = propose(&app, "198.51.101.7").await;
    assert_eq!(approve(&app, &sec, id, false).await.done, 1);

    // Off the list (admins only), the proposal can be approved.
    let id_param = row.id.to_string();
    let remove = [("id", id_param.as_str())];
    let res = app
        .call(&sec, "/api/defence/never_block_remove", &remove)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .call(&boss, "/api/defence/never_block_remove", &remove)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(audited(&app, "never_block.remove").await, 1);
    let id = propose(&app, "198.51.100.8").await;
    assert_eq!(approve(&app, &sec, id, false).await.done, 1);
}

#[tokio::test]
async fn hostile_never_block_input_is_refused_clearly() {
    let app = app().await;
    let boss = app.signed_in("boss").await;
    let huge = "1".repeat(2 * 1024 * 1024);
    let long_note = "x".repeat(501);
    for (network, note, says) in [
        (
            "not a network",
            "",
            "Informe um endereço IP ou uma rede CIDR",
        ),
        ("10.0.0.0/33", "", "Informe um endereço IP ou uma rede CIDR"),
        ("", "", "Informe um endereço IP ou uma rede CIDR"),
        (huge.as_str(), "", "Informe um endereço IP ou uma rede CIDR"),
        ("0.0.0.0/0", "", "ampla demais"),
        ("::/0", "", "ampla demais"),
        (
            "192.0.2.0/24",
            long_note.as_str(),
            "no máximo 500 caracteres",
        ),
    ] {
        let res = app
            .call(
                &boss,
                "/api/defence/never_block_add",
                &[("network", network), ("note", note)],
            )
            .await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{status} {}",
            &body[..body.len().min(200)]
        );
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(body.contains(says), "{network:.40}: {body}");
        }
    }
    let ok = [("network", "2001:db8::/48"), ("note", "")];
    let res = app.call(&boss, "/api/defence/never_block_add", &ok).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.call(&boss, "/api/defence/never_block_add", &ok).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("2001:db8::/48 já está na lista.")
    );
    assert_eq!(audited(&app, "never_block.add").await, 1);
}

#[tokio::test]
async fn alerts_are_listed_and_acknowledged_once_by_analysts() {
    let app = app().await;
    let alert = mailflow::detect::Alert {
        kind: "sasl_failures".into(),
        since: 1_000_000,
        last_seen: 1_000_600,
        count: 1500,
        usual: 60.0,
        window_secs: 3600,
    };
    app::server::alerts::record(&app.state.db, std::slice::from_ref(&alert), 1)
        .await
        .unwrap();
    // The same burst, later: the same alert, updated.
    let later = mailflow::detect::Alert {
        last_seen: 1_001_200,
        count: 2000,
        ..alert.clone()
    };
    app::server::alerts::record(&app.state.db, &[later], 2)
        .await
        .unwrap();

    let help = app.signed_in("help").await;
    let res = app.call(&help, "/api/defence/alerts", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let sec = app.signed_in("sec").await;
    let res = app.call(&sec, "/api/defence/alerts", &[]).await;
    let list: Vec<AlertRow> = res.json().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let a = &list[0];
    assert!(a.open);
    assert_eq!(
        (a.count, a.since, a.last_seen),
        (2000, 1_000_000, 1_001_200)
    );
    assert_eq!(a.label, "SASL failures");
    assert!((a.ratio - 2000.0 / 60.0).abs() < 0.01);

    let id = a.id.to_string();
    let res = app
        .call(&sec, "/api/defence/alert_ack", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: AlertRow = res.json().await.unwrap();
    assert!(!done.open);
    assert_eq!(done.acknowledged_by.as_deref(), Some("sec"));
    let res = app
        .call(&sec, "/api/defence/alert_ack", &[("id", &id)])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(audited(&app, "alert.acknowledge").await, 1);

    // A new burst after the acknowledgement opens a new alert.
    let next = mailflow::detect::Alert {
        since: 2_000_000,
        last_seen: 2_000_100,
        ..alert
    };
    app::server::alerts::record(&app.state.db, &[next], 3)
        .await
        .unwrap();
    let res = app.call(&sec, "/api/defence/alerts", &[]).await;
    let list: Vec<AlertRow> = res.json().await.unwrap();
    let open: Vec<i64> = list.iter().filter(|a| a.open).map(|a| a.since).collect();
    assert_eq!(open, [2_000_000]);
}
