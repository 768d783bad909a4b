//! Signing in and out: cookies, session rotation, throttling, ending sessions.

use crate::helpers::{PASSWORD, error_kind, spawn_app, spawn_app_with};
use app::model::Role;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_ends_the_session() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let client = app.client();

    let res = app.login(&client, "ana", PASSWORD).await;

    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("carteiro_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "not Secure unless configured: {cookie}"
    );
    assert!(
        cookie.contains("Max-Age=3600"),
        "60-minute idle expiry: {cookie}"
    );
    assert_eq!(app.whoami(&client).await.as_deref(), Some("ana"));

    app.call(&client, "/api/session/logout", &[]).await;
    assert_eq!(app.whoami(&client).await, None);
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let app = spawn_app_with(|c| c.auth.secure_cookies = true).await;
    app.add_staff("ana", &[Role::Support]).await;
    let res = app.login(&app.client(), "ana", PASSWORD).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_session_id_changes_at_login() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    app.add_staff("bia", &[Role::Manager]).await;
    let client = app.client();
    let first = app.login(&client, "ana", PASSWORD).await;
    let first_cookie = first
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    let second = app.login(&client, "bia", PASSWORD).await;
    let second_cookie = second
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&first_cookie), id(&second_cookie));
    // The old id no longer opens a session.
    let stale = reqwest::Client::new()
        .post(app.url("/api/session/whoami"))
        .header("Cookie", id(&first_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.text().await.unwrap(), "null");
    assert_eq!(app.whoami(&client).await.as_deref(), Some("bia"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;

    let wrong = app.login(&app.client(), "ana", "not-her-password").await;
    let unknown = app
        .login(&app.client(), "nobody-here", "not-her-password")
        .await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn repeated_failures_slow_down_then_lock_the_username() {
    let app = spawn_app_with(|c| {
        c.auth.throttle.slow_after = 2;
        c.auth.throttle.delay_ms = 300;
        c.auth.throttle.max_delay_ms = 300;
        c.auth.throttle.lock_after = 4;
    })
    .await;
    app.add_staff("ana", &[Role::Support]).await;
    for _ in 0..2 {
        let res = app.login(&app.client(), "ana", "wrong-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    // Past slow_after, each attempt waits before it is even checked.
    let started = Instant::now();
    let res = app.login(&app.client(), "ana", "wrong-password").await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.login(&app.client(), "ana", "wrong-password").await;

    // Locked: even the right password is refused, with a clear message.
    let res = app.login(&app.client(), "ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Tentativas de login malsucedidas demais"),
        "{body}"
    );
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions() {
    let app = spawn_app().await;
    let (boss, ana, ana_id) = app.boss_and_ana().await;

    let res = app
        .call(
            &boss,
            "/api/staff/set_active",
            &[("id", &ana_id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(app.whoami(&ana).await, None);
    let res = app.login(&app.client(), "ana", PASSWORD).await;
    assert_eq!(error_kind(res).await, "InvalidCredentials");
}

#[tokio::test]
async fn a_password_reset_ends_sessions_and_the_new_password_works() {
    let app = spawn_app().await;
    let (boss, ana, ana_id) = app.boss_and_ana().await;

    let res = app
        .call(
            &boss,
            "/api/staff/reset_password",
            &[("id", &ana_id.to_string())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let issued: serde_json::Value = res.json().await.unwrap();
    let new_password = issued["password"].as_str().unwrap().to_string();

    assert_eq!(app.whoami(&ana).await, None);
    assert_eq!(
        app.login_status("ana", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.login_status("ana", &new_password).await, StatusCode::OK);
}

#[tokio::test]
async fn changing_your_own_password_keeps_you_signed_in() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let ana = app.signed_in("ana").await;

    let (app_ref, ana_ref) = (&app, &ana);
    let change = move |confirm: &'static str| async move {
        let form = [
            ("current", PASSWORD),
            ("new", "brand-new-pass-1"),
            ("confirm", confirm),
        ];
        app_ref
            .call(ana_ref, "/api/session/change_password", &form)
            .await
    };

    let mismatch = change("brand-new-pass-2").await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = change("brand-new-pass-1").await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(app.whoami(&ana).await.as_deref(), Some("ana"));
    assert_eq!(
        app.login_status("ana", "brand-new-pass-1").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_javascript_a_failed_sign_in_returns_to_the_form_with_the_error() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let client = app.client();

    let res = client
        .post(app.url("/api/session/login"))
        .header("Accept", "text/html")
        .header("Referer", app.url("/login"))
        .form(&[("username", "ana"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::FOUND);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&app.url("/login?")), "{back}");
    let page = client
        .get(back)
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Usuário ou senha incorretos."),
        "the form page shows the error"
    );
}

#[tokio::test]
async fn after_login_the_browser_goes_to_next_only_when_it_is_local() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let form = |next: &'static str| [("username", "ana"), ("password", PASSWORD), ("next", next)];

    for (next, expected) in [("/mailboxes", "/mailboxes"), ("https://evil.example/", "/")] {
        // A plain HTML form post (no JavaScript) gets a real redirect.
        let res = app
            .client()
            .post(app.url("/api/session/login"))
            .header("Accept", "text/html")
            .form(&form(next))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()["location"], expected);
    }
}
