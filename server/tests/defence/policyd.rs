use crate::helpers::{PolicyClient, add_block, database, lift_block, start_daemon};
use app::server::entities::defence_block;
use sea_orm::{ConnectionTrait, EntityTrait};
use server::defence::blocks::{ActiveBlock, Shared, Snapshot};
use server::defence::policyd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BLOCKED: &str = "192.0.2.7";

/// Asks about `client` on one connection until the answer starts with
/// `want`, for at most `within`.
async fn answer_becomes(c: &mut PolicyClient, client: &str, want: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        if c.ask(&[("client_address", client)]).await.starts_with(want) {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn blocks_from_the_database_are_enforced_counted_and_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let ip = add_block(&db, "ip", BLOCKED).await;
    let account = add_block(&db, "account", "joao@example.com.br").await;
    let daemon = start_daemon(&db).await;

    // One connection, reused for every request, as Postfix does.
    let mut c = PolicyClient::connect(daemon.addr).await;
    assert_eq!(
        c.ask(&[("client_address", BLOCKED)]).await,
        format!("action=REJECT Blocked by the abuse team (block {ip})")
    );
    assert_eq!(
        c.ask(&[("client_address", "192.0.2.8")]).await,
        "action=DUNNO"
    );
    assert_eq!(
        c.ask(&[
            ("client_address", "203.0.113.5"),
            ("sasl_username", "Joao@Example.com.br"),
            ("some_future_attribute", "ignored"),
        ])
        .await,
        format!("action=REJECT Blocked by the abuse team (block {account})")
    );

    // A new block takes effect within the refresh interval.
    let late = add_block(&db, "ip", "198.51.100.0/24").await;
    assert!(
        answer_becomes(
            &mut c,
            "198.51.100.77",
            "action=REJECT",
            Duration::from_secs(5)
        )
        .await,
        "block {late} was not enforced within 5 s"
    );
    // A lifted block stops at once (within the refresh interval) too.
    lift_block(&db, ip).await;
    assert!(
        answer_becomes(&mut c, BLOCKED, "action=DUNNO", Duration::from_secs(5)).await,
        "the lifted block still refuses"
    );
    // The refusals were written back to the block.
    let mut hits = 0;
    for _ in 0..30 {
        hits = defence_block::Entity::find_by_id(ip)
            .one(&*db)
            .await
            .unwrap()
            .unwrap()
            .hits;
        if hits > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(hits >= 1, "hits of block {ip}: {hits}");
}

#[tokio::test]
async fn a_database_outage_keeps_the_last_blocks_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let id = add_block(&db, "ip", BLOCKED).await;
    let daemon = start_daemon(&db).await;
    // The refresher's query now fails, as it would with the database down.
    db.execute_unprepared("ALTER TABLE defence_block RENAME TO defence_block_gone")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut c = PolicyClient::connect(daemon.addr).await;
    assert_eq!(
        c.ask(&[("client_address", BLOCKED)]).await,
        format!("action=REJECT Blocked by the abuse team (block {id})")
    );
}

/// A daemon on a free port with one block on 192.0.2.7, no database.
async fn bare_daemon(opts: policyd::Options) -> std::net::SocketAddr {
    let shared = Arc::new(Shared::new(Snapshot::new(vec![ActiveBlock {
        id: 1,
        subject: mailflow::SubjectKind::Ip,
        target: BLOCKED.into(),
    }])));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(policyd::serve(listener, shared, opts));
    addr
}

/// Options with the given idle time and connection limit (per client too).
fn options(idle: Duration, max_connections: usize) -> policyd::Options {
    policyd::Options {
        reject_text: "No".into(),
        max_connections,
        max_per_client: max_connections,
        idle,
        request: Duration::from_secs(60),
    }
}

/// Reads until the peer closes; true if it closed within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let until = Instant::now() + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn hostile_and_broken_clients_do_not_stop_it() {
    let addr = bare_daemon(options(Duration::from_secs(1), 200)).await;

    // Binary garbage and lines without `=` are ignored: still an answer.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"\xff\xfe\x00garbage\nno equals\n=\nclient_address=\n\n")
        .await
        .unwrap();
    let mut answer = [0u8; 14];
    s.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"action=DUNNO\n\n");

    // An endless line is cut off.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(&vec![b'a'; 64 * 1024]).await;
    assert!(
        closed_within(&mut s, Duration::from_secs(3)).await,
        "long line"
    );

    // A client that says nothing is closed after the idle time.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(4)).await,
        "idle"
    );

    // Over the connection limit, the connection idle the longest makes
    // room for the new one.
    let addr = bare_daemon(options(Duration::from_secs(60), 50)).await;
    let mut crowd = Vec::new();
    for _ in 0..50 {
        let mut c = PolicyClient::connect(addr).await;
        assert_eq!(
            c.ask(&[("client_address", "203.0.113.1")]).await,
            "action=DUNNO"
        );
        crowd.push(c);
    }
    let mut newcomer = PolicyClient::connect(addr).await;
    assert_eq!(
        newcomer.ask(&[("client_address", BLOCKED)]).await,
        "action=REJECT No (block 1)"
    );
    let mut oldest = crowd.remove(0);
    assert!(
        oldest.closed_within(Duration::from_secs(3)).await,
        "the longest-idle connection was not closed"
    );
    // When every connection is in the middle of a request, a new one is
    // refused; the daemon serves again when they go.
    let mut busy = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"request=smtpd_access_policy\n").await.unwrap();
        busy.push(s);
    }
    drop(crowd);
    drop(newcomer);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_secs(3)).await,
        "over the limit with every connection busy"
    );
    drop(busy);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut c = PolicyClient::connect(addr).await;
    assert_eq!(
        c.ask(&[("client_address", BLOCKED)]).await,
        "action=REJECT No (block 1)"
    );
}

/// Issue 15: 1,005 idle connections from one address took every place and
/// Postfix's own request was reset. With the default settings, the
/// longest-idle connections make room, so Postfix still gets its answer.
#[tokio::test]
async fn idle_connections_from_one_client_do_not_keep_postfix_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let id = add_block(&db, "ip", BLOCKED).await;
    let daemon = start_daemon(&db).await;

    let mut idle = Vec::new();
    for i in 0..1005 {
        let mut s = TcpStream::connect(daemon.addr).await.unwrap();
        // Some say nothing, some send empty requests, some half a line.
        match i % 3 {
            0 => {}
            1 => s.write_all(b"\n").await.unwrap(),
            _ => s.write_all(b"client_addr").await.unwrap(),
        }
        idle.push(s);
    }
    let mut postfix = PolicyClient::connect(daemon.addr).await;
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        postfix.ask(&[("client_address", BLOCKED)]),
    )
    .await
    .expect("no answer within 10 s");
    assert_eq!(
        answer,
        format!("action=REJECT Blocked by the abuse team (block {id})")
    );
    // The same connection keeps working.
    assert_eq!(
        postfix.ask(&[("client_address", "198.51.100.1")]).await,
        "action=DUNNO"
    );
}

/// Empty requests and requests sent one line at a time do not keep a
/// connection open past its limits.
#[tokio::test]
async fn empty_requests_and_slow_requests_do_not_keep_a_connection() {
    let addr = bare_daemon(policyd::Options {
        request: Duration::from_secs(1),
        ..options(Duration::from_secs(1), 100)
    })
    .await;

    // An empty line every 200 ms: answered, but the idle time runs on.
    let mut blank = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let closed = loop {
        if blank.write_all(b"\n").await.is_err() {
            break true;
        }
        let mut answer = [0u8; 14];
        match tokio::time::timeout(Duration::from_secs(1), blank.read(&mut answer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            _ => {}
        }
        if started.elapsed() > Duration::from_secs(5) {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(closed, "empty requests kept the connection open for 5 s");

    // A request dripped one attribute every 200 ms never completes in time.
    let mut drip = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(5) {
        if drip.write_all(b"protocol_state=RCPT\n").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), drip.read(&mut buf)).await
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "a dripped request kept the connection open for 5 s");

    // A real request renews the idle time.
    let mut c = PolicyClient::connect(addr).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            c.ask(&[("client_address", "203.0.113.9")]).await,
            "action=DUNNO"
        );
    }
}
