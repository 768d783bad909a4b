//! The portal's edge under hostile clients (issue 15): ranges that would
//! overflow, requests that take too long, slow or half-sent requests,
//! oversized and malformed server function bodies, security headers, the
//! Origin's scheme, the allowlist's guardrails and bulk list sizes.

use crate::helpers::{PASSWORD, TestApp, error_kind, spawn_app, spawn_app_with};
use app::model::Role;
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client that gives up after `secs` (a wrapped or runaway request
/// shows as a timeout, not a hung test).
fn impatient(secs: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(secs))
        .build()
        .unwrap()
}

async fn signed_in_impatient(app: &TestApp, username: &str) -> reqwest::Client {
    let client = impatient(10);
    let res = app.login(&client, username, PASSWORD).await;
    assert!(res.status().is_success(), "login: {}", res.status());
    client
}

/// The host and port of the test portal, for raw connections.
fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads what the server sends until it closes the connection or `within`
/// passes: (the bytes, whether it closed).
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into(), false),
        }
    }
}

#[tokio::test]
async fn ranges_that_would_overflow_are_refused_at_once() {
    let app = spawn_app().await;
    app.add_staff("boss", &[Role::Manager]).await;
    let boss = signed_in_impatient(&app, "boss").await;
    let (low, high) = ("-5000000000000000000", "5000000000000000000");
    let started = Instant::now();

    // The report: `to - from` used to wrap and pass the 92-day check.
    let res = app
        .call(
            &boss,
            "/api/mailgraph/report",
            &[("from", low), ("to", high)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.unwrap();
    assert!(body.contains("1970") && body.contains("2099"), "{body}");

    // Charts and CSV downloads, with every extreme pair.
    let max = i64::MAX.to_string();
    let min = i64::MIN.to_string();
    for (from, to) in [
        (low, high),
        (min.as_str(), max.as_str()),
        ("0", max.as_str()),
        (min.as_str(), "0"),
        ("1700000000", "99999999999"),
    ] {
        let res = app
            .call(
                &boss,
                "/api/mailgraph/chart",
                &[("query[from]", from), ("query[to]", to)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "chart {from}..{to}"
        );
        let res = boss
            .get(app.url(&format!("/charts/report/totals.csv?from={from}&to={to}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "csv {from}..{to}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusing took {:?}",
        started.elapsed()
    );

    // The message trace's end, too.
    app.add_staff("help", &[Role::Support]).await;
    let help = signed_in_impatient(&app, "help").await;
    for until in [min.as_str(), max.as_str()] {
        let res = app
            .call(
                &help,
                "/api/trace/search",
                &[("q", "a@b.com"), ("hours", "24"), ("until", until)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "trace until {until}"
        );
    }

    // A sane range still works.
    let res = app
        .call(
            &boss,
            "/api/mailgraph/chart",
            &[("query[from]", "1700000000"), ("query[to]", "1700086400")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_still_running_at_the_time_limit_is_answered_503() {
    let app = spawn_app_with(|cfg| {
        cfg.server.request_timeout_secs = 1;
        cfg.server.body_read_timeout_secs = 10;
    })
    .await;
    // A body that keeps coming, a byte at a time, for longer than the limit.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /api/session/login HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    while started.elapsed() < Duration::from_secs(6) {
        let _ = s.write_all(b"a").await;
        let mut buf = [0u8; 2048];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await
            && n > 0
        {
            answer = String::from_utf8_lossy(&buf[..n]).into();
            break;
        }
    }
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "after {:?}: {answer:?}",
        started.elapsed()
    );
    assert!(
        answer.contains("interrompeu esta requisição após 1 segundos"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408() {
    let app = spawn_app_with(|cfg| cfg.server.body_read_timeout_secs = 1).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(
        b"POST /api/session/login HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a",
    )
    .await
    .unwrap();
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(answer.contains("parou de chegar"), "{answer}");
}

#[tokio::test]
async fn a_half_sent_request_is_disconnected_after_the_header_timeout() {
    let app = spawn_app_with(|cfg| cfg.server.header_read_timeout_secs = 1).await;
    let mut half = TcpStream::connect(addr(&app)).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(addr(&app)).await.unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut half, Duration::from_secs(5)).await;
    assert!(closed, "a half-sent request was held 5 s");
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(closed, "a silent connection was held 5 s");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn many_half_open_connections_do_not_stop_a_normal_request() {
    let app = spawn_app_with(|cfg| {
        cfg.server.header_read_timeout_secs = 1;
        cfg.server.max_connections = 20;
    })
    .await;
    let mut crowd = Vec::new();
    for _ in 0..100 {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        crowd.push(s);
    }
    let started = Instant::now();
    let res = impatient(20).get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "served after {:?}",
        started.elapsed()
    );
    // Every half-open connection was closed in the meantime or soon after.
    for s in &mut crowd {
        let (_, closed) = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(closed, "a half-open connection is still held");
    }
}

#[tokio::test]
async fn oversized_and_malformed_server_function_bodies_are_client_errors() {
    let app = spawn_app().await;
    let client = impatient(20);
    // Over the limit: 413, declared or not.
    let big = "a".repeat(3 * 1024 * 1024);
    let res = client
        .post(app.url("/api/session/login"))
        .form(&[("username", big.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("passa de 2 MB"));
    // The same without a length (chunked).
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let head = "POST /api/session/login HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-www-form-urlencoded\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let _ = s.write_all(head.as_bytes()).await;
    let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
    for _ in 0..48 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");

    // Not UTF-8: 400 with a message.
    let res = client
        .post(app.url("/api/session/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"username=\xff\xfe&password=x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("não é um texto UTF-8 válido")
    );
    // The refusal speaks the caller's language, though no page or server
    // function ran.
    let res = client
        .post(app.url("/api/session/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept-Language", "en")
        .body(b"username=\xff\xfe&password=x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not valid UTF-8"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    app.add_staff("ana", &[Role::Support]).await;
    let client = app.client();
    for path in [
        "/login",
        "/healthz",
        "/no-such-page",
        "/charts/report/x.csv",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-inline' 'wasm"), "{path}: {csp}");
    }
    let res = app.login(&client, "ana", PASSWORD).await;
    assert!(res.headers().contains_key("content-security-policy"));

    // A page's inline scripts (hydration) carry the nonce its CSP names,
    // and no other inline script is allowed.
    let res = client.get(app.url("/login")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {csp}"))
        .to_string();
    let html = res.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page has no scripts");
    for s in scripts {
        let tag = s.split('>').next().unwrap();
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains(" src="),
            "an inline script without the nonce: <script{tag}>"
        );
    }
    // Each page gets its own nonce.
    let again = client.get(app.url("/login")).send().await.unwrap();
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&nonce)
    );
}

/// Ana's sign-in, sent from the portal's host but over `https://`.
async fn sign_in_from_https(app: &TestApp) -> reqwest::Response {
    app.add_staff("ana", &[Role::Support]).await;
    let https_origin = app.base.replacen("http://", "https://", 1);
    app.client()
        .post(app.url("/api/session/login"))
        .header("Origin", https_origin)
        .form(&[("username", "ana"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_origin_of_another_scheme_is_another_site() {
    let app = spawn_app().await;
    let res = sign_in_from_https(&app).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("is https"));

    // Behind a TLS proxy (secure cookies), the https origin is the portal's.
    let app = spawn_app_with(|cfg| cfg.auth.secure_cookies = true).await;
    let res = sign_in_from_https(&app).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn allowing_a_wide_network_needs_an_admins_override() {
    let app = spawn_app_with(|cfg| {
        cfg.defence.max_prefix_v4 = 24;
        cfg.defence.max_prefix_v6 = 48;
        cfg.defence.customer_pools = vec!["100.64.0.0/10".into()];
    })
    .await;
    app.add_staff("sec", &[Role::Security]).await;
    app.add_staff("boss", &[Role::Admin]).await;
    let sec = app.signed_in("sec").await;
    let boss = app.signed_in("boss").await;
    let allow = |client: &reqwest::Client, target: &str, override_guard: bool| {
        let form = vec![
            ("subject", "ip".to_string()),
            ("target", target.to_string()),
            ("note", "test".to_string()),
            ("override_guard", override_guard.to_string()),
        ];
        let req = client
            .post(app.url("/api/defence/allow_add"))
            .header("Accept", "application/json")
            .form(&form);
        async move { req.send().await.unwrap() }
    };

    for target in ["0.0.0.0/0", "::/0", "198.51.0.0/16", "100.64.1.2"] {
        let res = allow(&sec, target, false).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{target}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("um administrador precisa autorizar"),
            "{target}: {body}"
        );
        let res = allow(&sec, target, true).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{target}");
        assert_eq!(error_kind(res).await, "Forbidden");
        let res = allow(&boss, target, false).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{target}");
    }
    // Within the limits, security may; beyond them, an admin's override.
    assert_eq!(
        allow(&sec, "198.51.100.0/24", false).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        allow(&sec, "2001:db8:1::/48", false).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        allow(&boss, "0.0.0.0/0", true).await.status(),
        StatusCode::OK
    );
    let allowed = app::server::detection::settings(&app.state.db)
        .await
        .unwrap()
        .allow;
    let targets: Vec<&str> = allowed.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(targets.len(), 3, "{targets:?}");
    assert!(!targets.contains(&"::/0"), "{targets:?}");
}

#[tokio::test]
async fn bulk_decisions_name_at_most_a_thousand_proposals() {
    let app = spawn_app().await;
    app.add_staff("sec", &[Role::Security]).await;
    let sec = signed_in_impatient(&app, "sec").await;
    let many = ids(100_000);
    let started = Instant::now();
    let res = app
        .call(
            &sec,
            "/api/defence/approve",
            &[("ids", many.as_str()), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("no máximo 1000 propostas")
    );
    let reject = |ids: String| {
        let (app, sec) = (&app, &sec);
        async move {
            let form = [
                ("ids", ids.as_str()),
                ("reason", "x"),
                ("suppress_hours", "24"),
            ];
            app.call(sec, "/api/defence/reject", &form).await.status()
        }
    };
    assert_eq!(reject(ids(1001)).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A thousand (here: none of them pending) is fine.
    assert_eq!(reject(ids(1000)).await, StatusCode::OK);
}

#[tokio::test]
async fn shutting_down_closes_idle_connections_and_returns() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::common::test_config(&dir).await;
    let running = server::start::start(&cfg, server::start::Options::default())
        .await
        .unwrap();
    let addr = running.http_addr.expect("the portal runs");
    // A kept-alive connection, idle after its first answer.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    let result = tokio::time::timeout(Duration::from_secs(5), running.shutdown())
        .await
        .expect("serve did not return within 5 s of the shutdown");
    result.unwrap();
    let (_, closed) = read_until_closed(&mut kept, Duration::from_secs(2)).await;
    assert!(closed, "the idle connection was left open");
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

/// `1,2,…,n`: a list of proposal ids for a bulk decision.
fn ids(n: u32) -> String {
    (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}
