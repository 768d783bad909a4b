//! Every change lands in the audit log with who, what, before/after and address.

use crate::helpers::spawn_app;
use app::model::{AuditQuery, Role};
use app::server::audit;
use reqwest::StatusCode;

#[tokio::test]
async fn staff_changes_are_audited_with_before_after_and_client_address() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let ana_id = app.add_staff("ana", &[Role::Support]).await;
    let boss = app.signed_in("boss").await;

    let res = app
        .call(
            &boss,
            "/api/staff/set_roles",
            &[
                ("id", &ana_id.to_string()),
                ("support", "true"),
                ("security", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let page = audit::search(
        &app.state.db,
        &AuditQuery {
            action: "staff.roles".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.entries.len(), 1);
    let e = &page.entries[0];
    assert_eq!((e.actor.as_str(), e.target.as_str()), ("boss", "ana"));
    assert_eq!(e.client_addr.as_deref(), Some("127.0.0.1"));
    assert!(
        e.before
            .as_deref()
            .unwrap()
            .contains(r#""roles":"support""#),
        "{:?}",
        e.before
    );
    assert!(
        e.after
            .as_deref()
            .unwrap()
            .contains(r#""roles":"support,security""#),
        "{:?}",
        e.after
    );
}

#[tokio::test]
async fn no_password_or_hash_ever_reaches_the_audit_log() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    app.call(
        &boss,
        "/api/staff/create",
        &[
            ("username", "dora"),
            ("support", "true"),
            ("password", "dora-secret-pass"),
        ],
    )
    .await;
    let page = audit::search(&app.state.db, &AuditQuery::default())
        .await
        .unwrap();
    assert!(
        page.entries
            .iter()
            .any(|e| e.action == "staff.create" && e.target == "dora")
    );
    for e in &page.entries {
        let all = format!("{:?}{:?}", e.before, e.after);
        assert!(
            !all.contains("dora-secret-pass") && !all.contains("argon2"),
            "{all}"
        );
    }
}

#[tokio::test]
async fn admins_filter_the_log_and_page_through_it() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    for i in 0..(audit::PAGE_SIZE + 5) {
        let name = format!("user{i:03}");
        app.call(
            &boss,
            "/api/staff/create",
            &[("username", name.as_str()), ("support", "true")],
        )
        .await;
    }

    let first = app
        .call(
            &boss,
            "/api/audit/list",
            &[("query[action]", "staff.create"), ("query[actor]", "boss")],
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: app::model::AuditPage = first.json().await.unwrap();
    assert_eq!(first.entries.len() as u64, audit::PAGE_SIZE);
    assert_eq!(
        first.entries[0].target,
        format!("user{:03}", audit::PAGE_SIZE + 4),
        "newest first"
    );
    let before = first.next_before_id.expect("a second page").to_string();

    let second = app
        .call(
            &boss,
            "/api/audit/list",
            &[
                ("query[action]", "staff.create"),
                ("query[actor]", "boss"),
                ("query[before_id]", before.as_str()),
            ],
        )
        .await;
    let second: app::model::AuditPage = second.json().await.unwrap();
    assert_eq!(second.entries.len(), 5);
    assert_eq!(second.next_before_id, None);

    let by_text = audit::search(
        &app.state.db,
        &AuditQuery {
            text: "user007".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_text.entries.len(), 1);
    let bad_date = app
        .call(&boss, "/api/audit/list", &[("query[from]", "2026-13-45")])
        .await;
    assert_eq!(bad_date.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sign_ins_and_failed_sign_ins_are_recorded() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    app.signed_in("ana").await;
    app.login(&app.client(), "ana", "wrong-password").await;
    let page = audit::search(
        &app.state.db,
        &AuditQuery {
            action: "auth.".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["auth.login_failed", "auth.login"]);
}
