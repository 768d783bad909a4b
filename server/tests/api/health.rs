//! `/healthz` and `/readyz`: 200 normally, 503 with the reason while a
//! live source is stalled and while the database is unreachable, back to
//! 200 when that ends; outside the session layer; no secrets in the body.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;
use server::config::SourceConfig;
use std::time::{Duration, Instant};

async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let res = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert!(
        !res.headers().contains_key("set-cookie"),
        "a probe gets no session"
    );
    (res.status(), res.json().await.unwrap())
}

/// Asks `/readyz` until `want` (at most `within`); returns its last body.
async fn readyz_until(app: &TestApp, want: StatusCode, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let (status, body) = readyz(app).await;
        if status == want {
            return body;
        }
        assert!(
            start.elapsed() < within,
            "/readyz is still {status} after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn healthz_is_ok_and_readyz_reports_each_part() {
    let app = spawn_app().await;
    let res = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("set-cookie"));
    assert_eq!(res.text().await.unwrap(), "ok");

    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["database"], "ok");
    assert_eq!(body["migrations"], "current");
    assert_eq!(body["sources"], serde_json::json!([]));
    assert_eq!(body["policyd"]["ok"], true, "{body}");
    assert!(body["policyd"]["blocks_age_secs"].as_i64().unwrap() < 10);
    assert_eq!(body["purge"], "held", "one process: it runs the purge");
}

#[tokio::test]
async fn readyz_is_503_while_a_source_is_stalled_and_200_once_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let app = spawn_app_with(|cfg| {
        cfg.mailflow.alert_lag_secs = 1;
        cfg.mailflow.poll_millis = 50;
        cfg.mailflow.sources = vec![SourceConfig {
            name: "mx1".into(),
            path: log.clone(),
        }];
    })
    .await;
    // Its file does not exist: the worker waits, and says nothing.
    let body = readyz_until(
        &app,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "ok");
    let source = &body["sources"][0];
    assert_eq!(source["name"], "mx1");
    assert_eq!(source["state"], "starting");
    assert_eq!(source["ok"], false);
    assert_eq!(source["problem"], "stalled");
    assert!(
        !body.to_string().contains(&*dir.path().to_string_lossy()),
        "no paths in the body: {body}"
    );

    // The file appears: the worker reads it and reports again.
    std::fs::write(
        &log,
        "Nov  1 00:00:01 mx1 postfix/smtpd[1]: connect from unknown[192.0.2.1]\n",
    )
    .unwrap();
    let body = readyz_until(&app, StatusCode::OK, Duration::from_secs(20)).await;
    assert_eq!(body["sources"][0]["state"], "following", "{body}");
    assert_eq!(body["sources"][0]["ok"], true);
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable() {
    let app = spawn_app().await;
    readyz_until(&app, StatusCode::OK, Duration::from_secs(5)).await;
    let postgres = std::env::var("CARTEIRO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let Some(admin_url) = postgres else {
        // SQLite: the database goes away with its connections.
        app.state.db.clone().close().await.unwrap();
        let body = readyz_until(
            &app,
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(body["database"], "unreachable");
        assert_eq!(body["migrations"], "unknown");
        return;
    };
    // PostgreSQL: the server refuses the portal's database and ends its
    // sessions, as when it is restarted or the network is cut.
    let name: String = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT current_database() AS name",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "name")
        .unwrap();
    let admin = Database::connect(admin_url.as_str()).await.unwrap();
    let allow = |yes: bool| format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {yes}");
    admin.execute_unprepared(&allow(false)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let body = readyz_until(
        &app,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an unreachable database is told within the probe's timeout"
    );
    assert_eq!(body["database"], "unreachable");
    assert_eq!(body["migrations"], "unknown");
    assert!(
        !body.to_string().contains(&name),
        "no database names: {body}"
    );

    admin.execute_unprepared(&allow(true)).await.unwrap();
    let body = readyz_until(&app, StatusCode::OK, Duration::from_secs(20)).await;
    assert_eq!(body["database"], "ok");
    admin.close().await.ok();
}
