//! Roles per process (`server.roles`, `serve --roles`), the singleton lock
//! that lets one process purge, and the graceful stop: SIGTERM to the real
//! `carteiro serve` mid-import ends it within `server.shutdown_secs` at a
//! checkpoint that a restart finishes from, storing exactly what a one-shot
//! import stores; SIGHUP is logged and ends nothing.

use crate::common::{carteiro, fresh_database, host_domains, stdout_of, test_config_on};
use crate::helpers::{connect, count_in_one_pass, generate, series_sums, snapshot};
use server::config::SourceConfig;
use server::start::{Options, Running, start};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Customer domains of the generated log: their series are stored too.
const HOSTED: [&str; 2] = ["cliente.com.br", "provedor.net.br"];

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|r| r.to_string()).collect()
}

async fn start_with(url: &str, names: &[&str], log: Option<&Path>, opts: Options) -> Running {
    let mut cfg = test_config_on(url.into());
    cfg.server.roles = roles(names);
    cfg.mailflow.poll_millis = 40;
    cfg.retention = app::state::RetentionSettings::KEEP_ALL;
    cfg.mailflow.sources = log
        .map(|path| SourceConfig {
            name: "mx0".into(),
            path: path.to_path_buf(),
        })
        .into_iter()
        .collect();
    start(&cfg, opts).await.expect("it starts")
}

#[tokio::test]
async fn a_relay_runs_ingest_and_policyd_with_no_web_port_and_a_replica_no_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let text = generate(&log, 2_000, 5);
    let url = fresh_database(&dir).await;

    let relay = start_with(&url, &["ingest", "policyd"], Some(&log), Options::default()).await;
    assert_eq!(relay.http_addr, None, "no web port");
    assert!(relay.policyd_addr().is_some());
    assert!(
        !relay.singleton.held() && relay.singleton.rounds() == 0,
        "no purge"
    );
    let want = count_in_one_pass(&text);
    let deadline = Instant::now() + Duration::from_secs(60);
    while series_sums(&relay.state.db).await != want {
        assert!(Instant::now() < deadline, "the relay did not store the log");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A portal replica with the same sources configured tails none of them.
    let replica = start_with(&url, &["portal"], Some(&log), Options::default()).await;
    let base = format!("http://{}", replica.http_addr.expect("a web port"));
    assert!(replica.policyd.is_none());
    assert!(
        replica.state.ingest.read().unwrap().is_empty(),
        "no workers"
    );
    let ready: serde_json::Value = reqwest::get(format!("{base}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["sources"], serde_json::json!([]));
    assert!(ready.get("policyd").is_none() && ready.get("purge").is_none());
    replica.shutdown().await.unwrap();
    relay.shutdown().await.unwrap();
}

#[test]
fn serve_refuses_unknown_or_no_roles_by_name() {
    for (flag, want) in [
        (
            "portal,web",
            "--roles: \"web\" is not a role; the roles are portal, ingest, policyd, purge",
        ),
        ("", "--roles"),
    ] {
        let out = carteiro()
            .args(["--db", "sqlite::memory:", "serve", "--roles", flag])
            .output()
            .unwrap();
        assert!(!out.status.success(), "--roles {flag:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "--roles {flag:?}: {err}");
    }
}

/// Whether the test database is PostgreSQL.
fn postgres() -> bool {
    std::env::var("CARTEIRO_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// Waits until `cond` (at most `within`); returns how long it took.
async fn until(within: Duration, what: &str, cond: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < within, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_one_process_purges_and_another_takes_over_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let retry = Duration::from_millis(400);
    let opts = Options {
        purge_every: Duration::from_millis(100),
        lock_retry: retry,
        ..Options::default()
    };
    let a = start_with(&url, &["purge"], None, opts).await;
    assert!(a.singleton.held(), "the first process holds the lock");
    assert_eq!(a.singleton.rounds(), 1, "a first round at start");
    if !postgres() {
        // SQLite: one process, always the holder.
        until(Duration::from_secs(5), "rounds every 100 ms", || {
            a.singleton.rounds() >= 3
        })
        .await;
        return;
    }
    let b = start_with(&url, &["purge"], None, opts).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!b.singleton.held(), "the second waits");
    assert_eq!(b.singleton.rounds(), 0, "the second never purged");
    assert!(a.singleton.rounds() >= 4, "{} rounds", a.singleton.rounds());

    // The holder stops: its lock connection closes, the other takes over
    // at its next try.
    let b_status = b.singleton.clone();
    a.shutdown().await.unwrap();
    let took = until(retry * 3, "the second takes over", || b_status.held()).await;
    until(Duration::from_secs(2), "it purges at once", || {
        b_status.rounds() >= 1
    })
    .await;
    assert!(
        took <= retry + Duration::from_millis(500),
        "took over after {took:?}"
    );

    // The holder's lock connection drops (the server ended the session):
    // within a retry either it takes the lock again or a third process
    // does, never both; PostgreSQL and the processes agree on one holder.
    let c = start_with(&url, &["purge"], None, opts).await;
    assert!(!c.singleton.held());
    let admin = connect(&url).await;
    let holders = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM ({holders}) AS h"
        ))
        .await
        .unwrap();
    tokio::time::sleep(retry * 3).await;
    let count = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            holders,
        ))
        .await
        .unwrap()
        .len();
    assert_eq!(count, 1, "one holder after the drop");
    assert!(
        b.singleton.held() != c.singleton.held(),
        "exactly one process says it holds the lock"
    );
    b.shutdown().await.unwrap();
    c.shutdown().await.unwrap();
}

/// `carteiro serve` with only the ingest role on `log`, small batches.
fn serve_ingest(config: &Path, stderr: &Path) -> Child {
    carteiro()
        .args(["--config"])
        .arg(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn sigterm(child: &Child) {
    signal(child, "TERM");
}

/// Waits for `child` to end (at most `within`): its exit status and how
/// long it took.
fn wait_exit(child: &mut Child, within: Duration) -> (std::process::ExitStatus, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, start.elapsed());
        }
        if start.elapsed() > within {
            child.kill().unwrap();
            panic!("still running {within:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn checkpoint(db: &sea_orm::DatabaseConnection) -> Option<server::ingest::store::Checkpoint> {
    server::ingest::store::checkpoint(db, "mx0").await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_import_stops_in_time_at_a_checkpoint_a_restart_finishes_from() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.log");
    let text = generate(&all, 150_000, 17);
    let log = dir.path().join("mail.log");
    std::fs::write(&log, "").unwrap();
    let url = fresh_database(&dir).await;
    let db = connect(&url).await;
    host_domains(&db, &HOSTED).await;
    // Well above the ~0.1 s a stop takes, well below the time the rest of
    // the log takes to read: a worker that read on to the end of what is
    // there before stopping would miss the bound.
    let shutdown_secs = 3;
    let config = dir.path().join("carteiro.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = {url:?}\n[server]\nroles = [\"ingest\"]\nshutdown_secs = {shutdown_secs}\n\
             [mailflow]\nbatch_lines = 2000\npoll_millis = 50\n\
             [[mailflow.sources]]\nname = \"mx0\"\npath = {:?}\n",
            log.display().to_string()
        ),
    )
    .unwrap();
    let stderr = dir.path().join("serve.err");

    // A busy relay: the log grows by 10,000 lines every 20 ms.
    let writer = {
        let (log, text) = (log.clone(), text.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            for chunk in lines.chunks(10_000) {
                f.write_all(chunk.concat().as_bytes()).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut serve = serve_ingest(&config, &stderr);
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint(&db).await.is_none_or(|cp| cp.lines < 20_000) {
        assert!(
            Instant::now() < deadline,
            "nothing stored: {}",
            read(&stderr)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigterm(&serve);
    let (status, took) = wait_exit(&mut serve, Duration::from_secs(shutdown_secs + 5));
    eprintln!("SIGTERM to exit: {took:?}");
    assert!(status.success(), "{status}: {}", read(&stderr));
    assert!(
        took < Duration::from_secs(shutdown_secs),
        "stopped after {took:?}: {}",
        read(&stderr)
    );
    assert!(read(&stderr).contains("stopped: every worker at its checkpoint"));

    // The checkpoint stands at a line's end, past exactly the lines it counts,
    // before the end of the log: the stop came mid-import.
    let cp = checkpoint(&db).await.unwrap();
    let offset = cp.offset as usize;
    assert!(offset < text.len(), "the import had finished");
    assert_eq!(&text[offset - 1..offset], "\n");
    assert_eq!(cp.lines, text[..offset].matches('\n').count() as u64);

    // Restarted on the whole log, it finishes from there.
    writer.join().unwrap();
    let mut serve = serve_ingest(&config, &stderr);
    // SIGHUP (systemd's reload) is logged, and ends nothing (once the
    // handlers are there: `start` logs the roles after installing them).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !read(&stderr).contains("roles: ingest") {
        assert!(Instant::now() < deadline, "not started: {}", read(&stderr));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&serve, "HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(serve.try_wait().unwrap().is_none(), "SIGHUP ended serve");
    assert!(read(&stderr).contains("SIGHUP: nothing is re-read"));
    let deadline = Instant::now() + Duration::from_secs(300);
    while checkpoint(&db)
        .await
        .is_none_or(|cp| cp.offset < text.len() as u64)
    {
        assert!(Instant::now() < deadline, "not finished: {}", read(&stderr));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sigterm(&serve);
    let (status, _) = wait_exit(&mut serve, Duration::from_secs(shutdown_secs + 5));
    assert!(status.success(), "{status}: {}", read(&stderr));

    // Exactly what one import of the whole log stores.
    let once = tempfile::tempdir().unwrap();
    let once_url = fresh_database(&once).await;
    host_domains(&connect(&once_url).await, &HOSTED).await;
    stdout_of(
        carteiro()
            .args([
                "--db", &once_url, "import", "--report", "json", "--year", "2026",
            ])
            .arg(&all),
    );
    assert_eq!(series_sums(&db).await, count_in_one_pass(&text));
    let want = snapshot(&connect(&once_url).await).await;
    let got = snapshot(&db).await;
    assert_eq!(got.len(), want.len());
    assert!(
        got == want,
        "the stopped and restarted worker stored other data"
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_never_ends_does_not_hold_the_stop_past_the_bound() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config_on(fresh_database(&dir).await);
    cfg.server.roles = roles(&["portal"]);
    cfg.server.shutdown_secs = 1;
    let running = start(&cfg, Options::default()).await.unwrap();
    // A sign-in whose body stops after its first bytes: the server waits
    // for the rest up to server.body_read_timeout_secs (10 s).
    let mut stalled = tokio::net::TcpStream::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    stalled
        .write_all(
            b"POST /api/session/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    running.shutdown().await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "the stop waited for the request up to the 1 s bound, not {took:?}"
    );
}

/// Without the migration lock, 3 runs out of 3 failed ("database migration
/// failed": two processes creating the same table).
#[tokio::test(flavor = "multi_thread")]
async fn processes_started_together_on_a_new_database_migrate_one_at_a_time() {
    if !postgres() {
        return; // SQLite has one process (a second one starts after it)
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let opts = Options::default();
    let (a, b, c, d) = tokio::join!(
        start_with(&url, &["ingest"], None, opts),
        start_with(&url, &["ingest", "policyd"], None, opts),
        start_with(&url, &["portal"], None, opts),
        start_with(&url, &["portal", "purge"], None, opts),
    );
    for running in [a, b, c, d] {
        running.shutdown().await.unwrap();
    }
}
