//! Hostile sign-ins: parallel guessing, one client locking out others,
//! spoofed `X-Forwarded-For`, guessing the current password, oversized
//! fields, the redirect after sign-in, housekeeping of the throttle, and
//! API tokens of disabled staff.

use crate::helpers::{PASSWORD, TestApp, error_kind, spawn_app, spawn_app_with};
use crate::support::{get_with_token, issue_token};
use app::model::Role;
use app::server::entities::{audit_log, login_throttle, web_session};
use app::server::throttle;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use std::time::Instant;

/// The throttle row of `key`, if any.
async fn row(app: &TestApp, key: &str) -> Option<login_throttle::Model> {
    login_throttle::Entity::find_by_id(key.to_string())
        .one(&app.state.db)
        .await
        .unwrap()
}

/// The audit entries of `action`, oldest first.
async fn audited(app: &TestApp, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

/// A sign-in attempt that says it came through a proxy from `forwarded`.
async fn login_via(
    app: &TestApp,
    forwarded: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client()
        .post(app.url("/api/session/login"))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", forwarded)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn parallel_wrong_passwords_are_checked_at_most_lock_after_times() {
    const LOCK_AFTER: u32 = 5;
    const ATTEMPTS: usize = 60;
    let app = spawn_app_with(|c| {
        c.auth.throttle.lock_after = LOCK_AFTER;
        // No waiting: the lock alone must stop the burst.
        c.auth.throttle.slow_after = 1000;
        c.auth.throttle.address_slow_after = 1000;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;

    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|_| {
            let (client, url) = (app.client(), app.url("/api/session/login"));
            tokio::spawn(async move {
                client
                    .post(url)
                    .header("Accept", "application/json")
                    .form(&[("username", "ana"), ("password", "wrong-password")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }

    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (checked, refused),
        (LOCK_AFTER as usize, ATTEMPTS - LOCK_AFTER as usize),
        "{statuses:?}"
    );
    // Every attempt was counted, none lost to a race.
    let counted = row(&app, &throttle::pair_key("ana", Some("127.0.0.1")))
        .await
        .expect("a throttle row");
    assert_eq!(counted.failures, ATTEMPTS as i32);
    assert!(counted.locked_until.unwrap() > Utc::now());
    // Only the checked ones are failed sign-ins in the audit log.
    assert_eq!(
        audited(&app, "auth.login_failed").await.len(),
        LOCK_AFTER as usize
    );
    assert_eq!(
        app.login_status("ana", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn one_client_guessing_does_not_lock_others_out_of_its_address() {
    let app = spawn_app_with(|c| c.auth.throttle.lock_after = 3).await;
    app.add_staff("ana", &[Role::Support]).await;
    app.add_staff("bia", &[Role::Support]).await;
    for name in ["ghost", "ghost", "ghost", "ghost", "x1", "x2", "x3", "bia"] {
        app.login(&app.client(), name, "guess-guess").await;
    }

    // The guessed name is locked from this address...
    let res = app.login(&app.client(), "ghost", "guess-guess").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Tentativas de login malsucedidas demais"),
        "{body}"
    );
    // ...but not the others behind the same address (a NAT, a proxy).
    assert_eq!(app.login_status("ana", PASSWORD).await, StatusCode::OK);
    assert_eq!(app.login_status("bia", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn many_failures_from_one_address_only_slow_it_down() {
    let app = spawn_app_with(|c| {
        c.auth.throttle.lock_after = 3;
        c.auth.throttle.address_slow_after = 4;
        c.auth.throttle.delay_ms = 400;
        c.auth.throttle.max_delay_ms = 400;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    for name in ["x1", "x2", "x3", "x4", "x5", "x6"] {
        assert_eq!(
            app.login_status(name, "guess-guess").await,
            StatusCode::UNAUTHORIZED
        );
    }

    // Past address_slow_after, attempts from the address wait, but are
    // still checked: the address is never locked.
    let started = Instant::now();
    assert_eq!(app.login_status("ana", PASSWORD).await, StatusCode::OK);
    assert!(
        started.elapsed().as_millis() >= 400,
        "an attempt from the busy address waits: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_username_guessed_from_many_addresses_locks_except_where_it_signed_in() {
    let app = spawn_app_with(|c| {
        c.auth.trust_proxy_headers = true;
        c.auth.throttle.lock_after = 3;
        c.auth.throttle.username_lock_after = 4;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    let res = login_via(&app, "192.0.2.50", "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);

    for n in 1..=4 {
        let res = login_via(&app, &format!("198.51.100.{n}"), "ana", "guess-guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }

    // A fifth address is refused, even with the right password...
    let res = login_via(&app, "198.51.100.5", "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but ana still signs in from where she did before.
    let res = login_via(&app, "192.0.2.50", "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_successful_login_clears_the_username_count() {
    let app = spawn_app_with(|c| {
        c.auth.trust_proxy_headers = true;
        c.auth.throttle.username_lock_after = 3;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    let mut n = 0;
    let mut attempt = |password: &'static str| {
        n += 1;
        let forwarded = format!("198.51.100.{n}");
        let app = &app;
        async move { login_via(app, &forwarded, "ana", password).await.status() }
    };
    for _ in 0..2 {
        assert_eq!(attempt("wrong-password").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(PASSWORD).await, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(attempt("wrong-password").await, StatusCode::UNAUTHORIZED);
    }
    // Four failures in all, but only two since the success: not locked.
    assert_eq!(attempt(PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn admins_see_and_lift_sign_in_locks_and_lifting_is_audited() {
    let app = spawn_app_with(|c| c.auth.throttle.lock_after = 2).await;
    app.add_staff("boss", &[Role::Admin]).await;
    let boss = app.signed_in("boss").await;
    app.add_staff("ana", &[Role::Support]).await;
    for _ in 0..3 {
        app.login(&app.client(), "ana", "guess-guess").await;
    }
    assert_eq!(
        app.login_status("ana", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    let res = app.call(&boss, "/api/staff/locks", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let locks: Vec<serde_json::Value> = res.json().await.unwrap();
    let lock = locks
        .iter()
        .find(|l| l["username"] == "ana" && l["address"] == "127.0.0.1")
        .unwrap_or_else(|| panic!("ana's lock is listed: {locks:?}"));
    assert_eq!(lock["kind"], "username and address");
    // The username and address counts neither lock nor slow down yet.
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert!(lock["locked_until"].is_string(), "{lock}");
    let key = lock["key"].as_str().unwrap().to_string();
    // The page lists it too.
    let page = app.page(&boss, "/admin/staff").await;
    assert!(
        page.contains("Bloqueios de entrada"),
        "the section is on the page"
    );
    assert!(page.contains("Bloqueado até"), "the lock is on the page");

    let res = app
        .call(&boss, "/api/staff/clear_lock", &[("key", &key)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.login_status("ana", PASSWORD).await, StatusCode::OK);
    let entries = audited(&app, "auth.unlock").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "boss");
    assert_eq!(entries[0].target, "ana from 127.0.0.1");
    assert!(
        entries[0]
            .before
            .as_deref()
            .unwrap()
            .contains("locked_until")
    );

    // Gone already: a clear answer, nothing audited.
    let res = app
        .call(&boss, "/api/staff/clear_lock", &[("key", &key)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(audited(&app, "auth.unlock").await.len(), 1);
}

#[tokio::test]
async fn only_the_address_the_trusted_proxy_appended_counts() {
    let app = spawn_app_with(|c| {
        c.auth.trust_proxy_headers = true;
        c.auth.throttle.lock_after = 2;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;

    // The client wrote a different first entry each time; the proxy (this
    // test, on loopback, a trusted proxy by default) appended the real one.
    for n in 1..=3 {
        let forwarded = format!("203.0.113.{n}, 198.51.100.7");
        login_via(&app, &forwarded, "ana", "guess-guess").await;
    }
    let failed = audited(&app, "auth.login_failed").await;
    assert_eq!(failed.len(), 2, "the third attempt was refused unchecked");
    assert!(
        failed
            .iter()
            .all(|e| e.client_addr.as_deref() == Some("198.51.100.7")),
        "{failed:?}"
    );
    let res = login_via(&app, "203.0.113.99, 198.51.100.7", "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address() {
    let app = spawn_app_with(|c| {
        c.auth.trust_proxy_headers = true;
        c.server.trusted_proxies = vec!["10.0.0.0/8".into()];
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    login_via(&app, "198.51.100.7", "ana", "guess-guess").await;
    let failed = audited(&app, "auth.login_failed").await;
    assert_eq!(failed[0].client_addr.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_and_audited() {
    let app = spawn_app_with(|c| c.auth.throttle.lock_after = 3).await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;
    let change = |current: &'static str| {
        let (app, ana) = (&app, &ana);
        async move {
            app.call(
                ana,
                "/api/session/change_password",
                &[
                    ("current", current),
                    ("new", "brand-new-pass-1"),
                    ("confirm", "brand-new-pass-1"),
                ],
            )
            .await
        }
    };

    for _ in 0..3 {
        let res = change("a-guess-at-it").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("não está certa"));
    }
    for current in ["another-guess", PASSWORD] {
        let res = change(current).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Senhas atuais erradas demais")
        );
    }

    let failed = audited(&app, "auth.change_password_failed").await;
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|e| e.actor == "ana" && e.target == "ana"));
    assert_eq!(app.login_status("ana", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn oversized_credentials_are_refused_before_they_are_counted() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let huge_name = "a".repeat(100_000);
    let long_password = "p".repeat(2048);

    for (username, password, field) in [
        (huge_name.as_str(), "whatever-it-is", "username"),
        (&"b".repeat(65), "whatever-it-is", "username"),
        ("ana", long_password.as_str(), "password"),
    ] {
        let res = app.login(&app.client(), username, password).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = res.text().await.unwrap();
        assert!(body.contains("demais (no máximo"), "{body}");
        assert!(body.contains(field), "{body}");
    }
    assert_eq!(
        login_throttle::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0,
        "nothing was counted"
    );
    // The longest real username still works.
    let longest = "n".repeat(64);
    app.add_staff(&longest, &[Role::Support]).await;
    assert_eq!(app.login_status(&longest, PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn purge_removes_stale_throttle_rows_sessions_and_old_failed_sign_ins() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let now = Utc::now();
    let settings = app.state.auth.as_ref().clone();
    let window = Duration::seconds(settings.throttle.window_secs as i64);
    for (key, window_start, locked_until) in [
        ("user:stale", now - window * 2, None),
        (
            "user:lock-ended",
            now - window * 2,
            Some(now - Duration::seconds(5)),
        ),
        ("user:in-window", now - Duration::seconds(5), None),
        ("user:still-locked", now - window * 2, Some(now + window)),
    ] {
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(key.into()),
            failures: Set(3),
            window_start: Set(window_start),
            locked_until: Set(locked_until),
        })
        .exec(db)
        .await
        .unwrap();
    }
    for (id, expires_at) in [
        ("expired", now - Duration::minutes(1)),
        ("live", now + window),
    ] {
        web_session::Entity::insert(web_session::ActiveModel {
            id: Set(id.into()),
            data: Set("{}".into()),
            expires_at: Set(expires_at),
        })
        .exec(db)
        .await
        .unwrap();
    }
    for (action, days_ago) in [
        ("auth.login_failed", 91),
        ("auth.login_failed", 89),
        ("auth.login", 400),
    ] {
        audit_log::Entity::insert(audit_log::ActiveModel {
            at: Set(now - Duration::days(days_ago)),
            actor: Set("anonymous".into()),
            action: Set(action.into()),
            target: Set(format!("{action}-{days_ago}")),
            ..Default::default()
        })
        .exec(db)
        .await
        .unwrap();
    }

    let purged = app::server::auth::purge(db, &settings, now).await.unwrap();

    assert_eq!(
        purged,
        app::server::auth::Purged {
            throttle_rows: 2,
            sessions: 1,
            failed_logins: 1,
        }
    );
    let keys: Vec<String> = login_throttle::Entity::find()
        .order_by_asc(login_throttle::Column::Key)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys, vec!["user:in-window", "user:still-locked"]);
    let targets: Vec<String> = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert_eq!(targets, vec!["auth.login_failed-89", "auth.login-400"]);
    // Retention 0 keeps failed sign-ins forever.
    let keep = app::state::AuthSettings {
        failed_login_retention_days: 0,
        ..settings
    };
    let purged = app::server::auth::purge(db, &keep, now + Duration::days(3650))
        .await
        .unwrap();
    assert_eq!(purged.failed_logins, 0);
}

#[tokio::test]
async fn after_sign_in_a_crafted_next_goes_home_and_never_breaks_the_answer() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;

    for (next, expected) in [
        ("/mailboxes", "/mailboxes"),
        ("/\t/evil.example/phish", "/"),
        ("/\n/evil.example", "/"),
        ("/\r\n/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("/\u{7f}", "/"),
        ("/\u{7f}/evil.example", "/"),
        ("/\u{0}", "/"),
        ("/caf\u{e9} au lait", "/caf%C3%A9%20au%20lait"),
    ] {
        // A plain HTML form post (no JavaScript) gets a real redirect.
        let res = app
            .client()
            .post(app.url("/api/session/login"))
            .header("Accept", "text/html")
            .form(&[("username", "ana"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{next:?}: {e}"));
        assert_eq!(res.status(), StatusCode::FOUND, "{next:?}");
        assert_eq!(res.headers()["location"], expected, "{next:?}");
    }
}

#[tokio::test]
async fn disabling_an_admin_revokes_the_api_tokens_they_issued() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Admin]).await;
    let rita_id = app.add_staff("rita", &[Role::Admin]).await;
    let (boss, rita) = (app.signed_in("boss").await, app.signed_in("rita").await);
    let mut tokens = Vec::new();
    for name in ["crm", "prometheus"] {
        let fields = [("name", name), ("role", "admin"), ("days", "30")];
        tokens.push(issue_token(&app, &rita, &fields).await);
    }
    let http = reqwest::Client::new();
    let works = |token: String, path: &'static str| {
        let (http, app) = (&http, &app);
        async move { get_with_token(http, app, &token, path).await.status() }
    };
    assert_eq!(
        works(tokens[0].clone(), "/api/v1/domains").await,
        StatusCode::OK
    );
    assert_eq!(works(tokens[1].clone(), "/metrics").await, StatusCode::OK);

    // Before confirming, the admin is told what disabling revokes.
    let listed: Vec<serde_json::Value> = app
        .call(&boss, "/api/staff/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let row = listed.iter().find(|m| m["username"] == "rita").unwrap();
    assert_eq!(row["api_tokens"], 2);
    let page = app.page(&boss, "/admin/staff").await;
    assert!(page.contains("Emitiu 2 tokens de API, revogados se a conta for desativada."));

    let res = app
        .call(
            &boss,
            "/api/staff/set_active",
            &[("id", &rita_id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(
        works(tokens[0].clone(), "/api/v1/domains").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        works(tokens[1].clone(), "/metrics").await,
        StatusCode::UNAUTHORIZED
    );
    let disabled = audited(&app, "staff.disable").await;
    let after = disabled[0].after.as_deref().unwrap();
    assert!(
        after.contains("\"revoked_api_tokens\":[\"crm\",\"prometheus\"]"),
        "{after}"
    );
    let revokes = audited(&app, "api_token.revoke").await;
    assert_eq!(revokes.len(), 2);
    assert!(revokes.iter().all(|e| e.actor == "boss"));
    // Enabling the account again does not bring them back.
    app.call(
        &boss,
        "/api/staff/set_active",
        &[("id", &rita_id.to_string()), ("active", "true")],
    )
    .await;
    assert_eq!(
        works(tokens[0].clone(), "/api/v1/domains").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_token_whose_issuer_is_disabled_does_not_authenticate() {
    let app = spawn_app().await;
    let rita_id = app.add_staff("rita", &[Role::Admin]).await;
    let rita = app.signed_in("rita").await;
    let token = issue_token(&app, &rita, &[("name", "legacy"), ("role", "admin")]).await;
    // Disabled without going through the admin page (as before tokens
    // were revoked with their issuer).
    app::server::entities::staff_user::Entity::update(
        app::server::entities::staff_user::ActiveModel {
            id: Set(rita_id),
            active: Set(false),
            ..Default::default()
        },
    )
    .exec(&app.state.db)
    .await
    .unwrap();

    let http = reqwest::Client::new();
    for path in ["/api/v1/domains", "/metrics"] {
        let res = get_with_token(&http, &app, &token, path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(
        error_kind(app.login(&app.client(), "rita", PASSWORD).await).await,
        "InvalidCredentials"
    );
}
